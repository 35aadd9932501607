using LlmProxy.Auth;

namespace LlmProxy.Hosting;

/// <summary><c>LlmProxy hash-key &lt;key&gt;</c>: prints the <c>sha256:…</c> value to put in the config's <c>keys[].hash</c>.</summary>
public static class HashKeyCommand
{
    /// <summary>Runs the command when the arguments ask for it; returns false otherwise.</summary>
    public static bool TryRun(string[] args)
    {
        if (args.Length != 2 || args[0] != "hash-key")
        {
            return false;
        }

        Console.WriteLine(KeyTable.HashForConfig(args[1]));
        return true;
    }
}
