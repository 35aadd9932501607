using System.Text;
using LlmProxy.Routing;

namespace LlmProxy.Providers;

/// <summary>
/// Finds a provider's credential in what the provider sends back and overwrites it, in place and at the same length
/// (so a body keeps its Content-Length): the credential itself, and a masked echo of it (its first 8 characters
/// followed by <c>*</c>, as OpenAI's 401 message writes it). JSON text is matched as decoded JSON: a character may be
/// written as itself or as an escape (<c>\u0073</c>, <c>\/</c>), so an escaped key is found too.
/// </summary>
internal sealed class CredentialRedactor
{
    /// <summary>Shorter credentials are placeholders (a local server's <c>unused</c>): they are not redacted.</summary>
    public const int MinimumLength = 16;

    private const int MaskedPrefixLength = 8;
    private static readonly byte[] Marker = "[redacted]"u8.ToArray();

    private readonly byte[] _credential;
    private readonly byte[]? _maskedEcho;
    private readonly byte _first;
    private readonly string _prefix;
    private readonly bool _escapableOther;

    /// <summary>Creates the redactor of one credential (escaped forms are matched for its ASCII characters).</summary>
    public CredentialRedactor(string credential)
    {
        _credential = Encoding.UTF8.GetBytes(credential);
        _first = _credential[0];
        _prefix = credential[..Math.Min(MaskedPrefixLength, credential.Length)];
        if (credential.Length >= 12)
        {
            _maskedEcho = [.. _credential.AsSpan(0, MaskedPrefixLength), (byte)'*'];
        }

        // The longest form a match can take: every character written as a six-byte \u escape.
        MaxEncodedLength = 6 * _credential.Length;
        _escapableOther = _credential.AsSpan().IndexOfAny("/\\\""u8) >= 0;
    }

    /// <summary>The most bytes one match can span.</summary>
    public int MaxEncodedLength { get; }

    /// <summary>
    /// Redacts every whole match in <paramref name="bytes"/> and returns how many leading bytes are final: all of them,
    /// unless the bytes end with what may be the start of a match (then the caller holds that tail until more arrive).
    /// With <paramref name="atEnd"/> nothing more comes, and every byte is final.
    /// </summary>
    public int Redact(Span<byte> bytes, bool atEnd)
    {
        // Fast path (vectorized searches): no literal match, and no escape that could spell one.
        if (bytes.IndexOf(_credential) < 0 && (_maskedEcho is null || bytes.IndexOf(_maskedEcho) < 0) && !MayHideEscapedMatch(bytes))
        {
            return atEnd ? bytes.Length : bytes.Length - PendingTail(bytes);
        }

        var at = 0;
        while (at < bytes.Length)
        {
            var next = bytes[at..].IndexOfAny(_first, (byte)'\\');
            if (next < 0)
            {
                break;
            }

            var start = at + next;
            var full = Match(bytes, start, _credential, out var end);
            if (full == Outcome.Match)
            {
                Overwrite(bytes[start..end], Marker);
                at = end;
                continue;
            }

            var masked = _maskedEcho is null ? Outcome.None : Match(bytes, start, _maskedEcho, out end);
            if (masked == Outcome.Match)
            {
                Overwrite(bytes[start..end], []);
                at = end;
                continue;
            }

            if (!atEnd && (full == Outcome.Partial || masked == Outcome.Partial))
            {
                // A match may continue in the next bytes: everything from here waits for them.
                return start;
            }

            at = start + 1;
        }

        return bytes.Length;
    }

    /// <summary>The text with every match overwritten (the same instance when there is none).</summary>
    public string Redact(string text)
    {
        // Every form of a match holds the first 8 characters, written plainly or with an escape.
        if (!text.Contains('\\') && !text.Contains(_prefix, StringComparison.Ordinal))
        {
            return text;
        }

        var bytes = Encoding.UTF8.GetBytes(text);
        var before = (byte[])bytes.Clone();
        Redact(bytes, atEnd: true);
        return bytes.AsSpan().SequenceEqual(before) ? text : Encoding.UTF8.GetString(bytes);
    }

    // Only a \u escape can spell any character; \/, \\ and \" only the one they stand for.
    private bool MayHideEscapedMatch(ReadOnlySpan<byte> bytes)
        => bytes.IndexOf("\\u"u8) >= 0 || (_escapableOther && (bytes.IndexOf("\\/"u8) >= 0 || bytes.IndexOf("\\\\"u8) >= 0 || bytes.IndexOf("\\\""u8) >= 0));

    // How many bytes at the end may begin a match that continues in the next read (0 almost always: an SSE event ends
    // with a newline, which no credential and no escape contains).
    private int PendingTail(ReadOnlySpan<byte> bytes)
    {
        if (bytes.IsEmpty || !CanContinue(bytes[^1]))
        {
            return 0;
        }

        var window = Math.Min(bytes.Length, MaxEncodedLength - 1);
        var from = bytes.Length - window;
        for (var i = from; i < bytes.Length; i++)
        {
            var b = bytes[i];
            if ((b == _first || b == '\\')
                && (Match(bytes, i, _credential, out _) == Outcome.Partial
                    || (_maskedEcho is not null && Match(bytes, i, _maskedEcho, out _) == Outcome.Partial)))
            {
                return bytes.Length - i;
            }
        }

        return 0;
    }

    // Whether a byte can sit inside an unfinished match: a character of the credential or of an escape.
    private bool CanContinue(byte b) => _credential.AsSpan().Contains(b) || b == '\\' || b == 'u' || JsonEscapes.HexValue(b) >= 0;

    private static void Overwrite(Span<byte> match, ReadOnlySpan<byte> marker)
    {
        if (marker.Length <= match.Length)
        {
            marker.CopyTo(match);
            match[marker.Length..].Fill((byte)'*');
        }
        else
        {
            match.Fill((byte)'*');
        }
    }

    private enum Outcome
    {
        None,
        Match,
        Partial,
    }

    // Matches the pattern at 'start', each character as itself or as a JSON escape of it.
    private static Outcome Match(ReadOnlySpan<byte> bytes, int start, ReadOnlySpan<byte> pattern, out int end)
    {
        var p = start;
        end = start;
        foreach (var expected in pattern)
        {
            if (p == bytes.Length)
            {
                return Outcome.Partial;
            }

            var b = bytes[p];
            if (b == expected)
            {
                p++;
                continue;
            }

            if (b != '\\')
            {
                return Outcome.None;
            }

            if (p + 1 == bytes.Length)
            {
                return Outcome.Partial;
            }

            var kind = bytes[p + 1];
            if (kind == 'u')
            {
                var unit = 0;
                for (var k = p + 2; k < p + 6; k++)
                {
                    if (k == bytes.Length)
                    {
                        return Outcome.Partial;
                    }

                    var digit = JsonEscapes.HexValue(bytes[k]);
                    if (digit < 0)
                    {
                        return Outcome.None;
                    }

                    unit = (unit << 4) | digit;
                }

                if (unit != expected)
                {
                    return Outcome.None;
                }

                p += 6;
            }
            else if (kind == expected && kind is (byte)'/' or (byte)'\\' or (byte)'"')
            {
                p += 2;
            }
            else
            {
                return Outcome.None;
            }
        }

        end = p;
        return Outcome.Match;
    }
}
