using System.Collections.Frozen;

namespace LlmProxy.Providers;

/// <summary>The provider adapters by type name.</summary>
internal sealed class ProviderAdapters
{
    private readonly FrozenDictionary<string, IProviderAdapter> _byType;

    /// <summary>Indexes the registered adapters.</summary>
    public ProviderAdapters(IEnumerable<IProviderAdapter> adapters)
        => _byType = adapters.ToFrozenDictionary(static a => a.Type, StringComparer.Ordinal);

    /// <summary>The adapter for a validated type.</summary>
    public IProviderAdapter Get(string type) => _byType[type];
}
