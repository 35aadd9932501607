using System.Buffers.Binary;
using System.Collections.Frozen;
using System.Security.Cryptography;
using System.Text;

namespace LlmProxy.Auth;

/// <summary>
/// Looks up virtual keys by the SHA-256 of the presented key. The table is indexed by the first 8 bytes
/// of the hash; the whole hash is then compared in constant time. Only hashes are held in memory.
/// </summary>
public sealed class KeyTable
{
    /// <summary>Longest key accepted, in UTF-8 bytes; longer input is rejected without hashing.</summary>
    public const int MaxKeyBytes = 512;

    private readonly FrozenDictionary<ulong, VirtualKey> _byPrefix;

    /// <summary>Builds the table; the keys' hashes must be distinct.</summary>
    public KeyTable(IEnumerable<VirtualKey> keys)
    {
        var map = new Dictionary<ulong, VirtualKey>();
        foreach (var key in keys)
        {
            map[BinaryPrimitives.ReadUInt64LittleEndian(key.Hash)] = key;
        }

        _byPrefix = map.ToFrozenDictionary();
    }

    /// <summary>Number of keys.</summary>
    public int Count => _byPrefix.Count;

    /// <summary>Finds the key whose hash matches <paramref name="presented"/>.</summary>
    public VirtualKey? Find(ReadOnlySpan<char> presented)
    {
        if (presented.IsEmpty || Encoding.UTF8.GetMaxByteCount(presented.Length) > MaxKeyBytes * 3)
        {
            return null;
        }

        Span<byte> utf8 = stackalloc byte[Encoding.UTF8.GetMaxByteCount(presented.Length)];
        var length = Encoding.UTF8.GetBytes(presented, utf8);
        if (length > MaxKeyBytes)
        {
            return null;
        }

        Span<byte> hash = stackalloc byte[SHA256.HashSizeInBytes];
        SHA256.HashData(utf8[..length], hash);
        if (!_byPrefix.TryGetValue(BinaryPrimitives.ReadUInt64LittleEndian(hash), out var key))
        {
            return null;
        }

        return CryptographicOperations.FixedTimeEquals(hash, key.Hash) ? key : null;
    }

    /// <summary>Returns <c>sha256:&lt;hex&gt;</c> for a key, the form the config stores.</summary>
    public static string HashForConfig(string key)
        => "sha256:" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)));
}
