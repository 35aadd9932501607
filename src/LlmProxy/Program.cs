using LlmProxy.Hosting;

if (HashKeyCommand.TryRun(args))
{
    return;
}

var builder = WebApplication.CreateBuilder(args);
builder.AddLlmProxy();

var app = builder.Build();
app.MapLlmProxy();
app.Run();

/// <summary>The gateway's entry point (public so tests can host it).</summary>
public partial class Program;
