using Microsoft.Extensions.Primitives;

namespace LlmProxy.Providers;

/// <summary>Headers a <c>Connection</c> header names are hop-by-hop: for the next hop only, never passed on.</summary>
internal static class HopByHop
{
    /// <summary>True when one of the <c>Connection</c> values names the header.</summary>
    public static bool IsNamed(StringValues connection, string name)
    {
        foreach (var value in connection)
        {
            foreach (var range in value.AsSpan().Split(','))
            {
                if (value.AsSpan()[range].Trim().Equals(name, StringComparison.OrdinalIgnoreCase))
                {
                    return true;
                }
            }
        }

        return false;
    }
}
