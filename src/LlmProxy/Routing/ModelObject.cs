namespace LlmProxy.Routing;

/// <summary>OpenAI's model object.</summary>
internal sealed record ModelObject(string Id, string Object, long Created, string OwnedBy);
