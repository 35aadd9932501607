using LlmProxy.Hosting;

if (HashKeyCommand.TryRun(args))
{
    return;
}

// Clients send the regexes of their schemas (pattern, patternProperties): none may run for long on the gateway's threads.
AppContext.SetData("REGEX_DEFAULT_MATCH_TIMEOUT", TimeSpan.FromMilliseconds(250));

var builder = WebApplication.CreateBuilder(args);
builder.AddLlmProxy();

var app = builder.Build();
app.MapLlmProxy();
app.Run();

/// <summary>The gateway's entry point (public so tests can host it).</summary>
public partial class Program;
