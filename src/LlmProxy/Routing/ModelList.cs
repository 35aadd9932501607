namespace LlmProxy.Routing;

/// <summary>OpenAI's model list.</summary>
internal sealed record ModelList(string Object, List<ModelObject> Data);
