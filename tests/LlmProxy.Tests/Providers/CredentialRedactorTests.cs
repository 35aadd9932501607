using System.Text;
using LlmProxy.Providers;

namespace LlmProxy.Tests.Providers;

public sealed class CredentialRedactorTests
{
    private const string Key = "sk-proj-abcdefghijklmnop";

    [Theory]
    [InlineData("key sk-proj-abcdefghijklmnop here", "key [redacted]************** here")]
    [InlineData("masked sk-proj-****mnop", "masked ************mnop")]
    [InlineData("""{"m":"\u0073k-proj-abcdefghijklmnop"}""", """{"m":"[redacted]*******************"}""")]
    [InlineData("""{"m":"sk-proj-\u0061\u0062cdefghijklmnop"}""", """{"m":"[redacted]************************"}""")]
    [InlineData("nothing to see", "nothing to see")]
    [InlineData("sk-proj-abc but not the key", "sk-proj-abc but not the key")]
    public void Redact_WholeText_OverwritesEveryFormAtTheSameLength(string text, string expected)
    {
        var bytes = Encoding.UTF8.GetBytes(text);

        var final = new CredentialRedactor(Key).Redact(bytes, atEnd: true);

        Assert.Equal(bytes.Length, final);
        Assert.Equal(expected, Encoding.UTF8.GetString(bytes));
        Assert.DoesNotContain(Key, Encoding.UTF8.GetString(bytes), StringComparison.Ordinal);
    }

    [Fact]
    public void Redact_CredentialWithSlash_EscapedSlashFound()
    {
        var bytes = Encoding.UTF8.GetBytes("""{"m":"ab\/cd\/efgh12345"}""");

        new CredentialRedactor("ab/cd/efgh12345").Redact(bytes, atEnd: true);

        Assert.Equal("""{"m":"[redacted]*******"}""", Encoding.UTF8.GetString(bytes));
    }

    [Fact]
    public void Redact_TextEndsWithTheStartOfTheKey_HoldsOnlyThatTail()
    {
        var bytes = Encoding.UTF8.GetBytes("data: {\"x\":\"sk-pro");

        var final = new CredentialRedactor(Key).Redact(bytes, atEnd: false);

        Assert.Equal(bytes.Length - "sk-pro".Length, final);
    }

    [Theory]
    [InlineData("data: {\"x\":\"hello\"}\n\n")]
    [InlineData("{\"choices\":[]}")]
    public void Redact_EventOrBodyEnd_HoldsNothing(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text);

        Assert.Equal(bytes.Length, new CredentialRedactor(Key).Redact(bytes, atEnd: false));
    }

    [Fact]
    public void Redact_HeaderValue_ReplacedOrSameInstance()
    {
        var redactor = new CredentialRedactor(Key);
        const string clean = "req_123";

        Assert.Equal("[redacted]**************", redactor.Redact(Key));
        Assert.Same(clean, redactor.Redact(clean));
    }

    [Fact]
    public async Task ProviderContent_KeySplitAtEveryPositionAcrossReads_NeverReachesTheReader()
    {
        var escaped = """data: {"error":{"message":"bad key \u0073k-proj-abcdefghijklmnop"}}""" + "\n\n" + $"data: {Key}\n\n";
        var bytes = Encoding.UTF8.GetBytes(escaped);
        for (var split = 1; split < bytes.Length; split++)
        {
            using var inner = new StreamContent(new ChunkedStream(bytes[..split], bytes[split..]));
            using var content = new ProviderContent(inner, new CredentialRedactor(Key), []);

            var text = await content.ReadAsStringAsync();

            Assert.Equal(bytes.Length, Encoding.UTF8.GetByteCount(text));
            Assert.DoesNotContain(Key, text, StringComparison.Ordinal);
            Assert.DoesNotContain("proj-abcdefghijklmnop", text, StringComparison.Ordinal);
            Assert.EndsWith("\n\n", text, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task ProviderContent_ReaderBufferFullOfAnEscapedKeyStart_ReadsOnWithoutEndingOrLeaking()
    {
        // 360 bytes escaped: a 300-byte read buffer is all the start of the key and cannot hold the rest.
        var key = "sk-proj-" + new string('x', 52);
        var escaped = string.Concat(key.Select(c => $"\\u{(int)c:x4}"));
        var body = Encoding.UTF8.GetBytes("{\"m\":\"" + escaped + "\",\"after\":\"tail\"}");
        using var inner = new StreamContent(new ChunkedStream(body[..6], body[6..]));
        using var content = new ProviderContent(inner, new CredentialRedactor(key), []);
        await using var stream = await content.ReadAsStreamAsync();
        var output = new MemoryStream();
        var buffer = new byte[300];
        int read;

        while ((read = await stream.ReadAsync(buffer)) > 0)
        {
            output.Write(buffer, 0, read);
        }

        var text = Encoding.UTF8.GetString(output.ToArray());
        Assert.Equal(body.Length, output.Length);
        Assert.DoesNotContain(escaped[..60], text, StringComparison.Ordinal);
        Assert.EndsWith("\"after\":\"tail\"}", text, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("gzip, identity", new[] { "gzip" })]
    [InlineData("identity", new string[0])]
    [InlineData("deflate,br", new[] { "deflate", "br" })]
    public void Codings_ContentEncodingValues_SplitAndIdentityLeftOut(string header, string[] expected)
    {
        Assert.Equal(expected, ProviderContent.Codings([header]));
    }

    [Theory]
    [InlineData("zstd")]
    [InlineData("gzip, compress")]
    public void Codings_UnknownCoding_Null(string header)
    {
        Assert.Null(ProviderContent.Codings([header]));
    }

    [Fact]
    public async Task ProviderContent_GzipBody_DecodedThenRedacted()
    {
        using var compressed = new MemoryStream();
        using (var gzip = new System.IO.Compression.GZipStream(compressed, System.IO.Compression.CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(Encoding.UTF8.GetBytes($"{{\"error\":{{\"message\":\"{Key}\"}}}}"));
        }

        using var inner = new ByteArrayContent(compressed.ToArray());
        using var content = new ProviderContent(inner, new CredentialRedactor(Key), ["gzip"]);

        Assert.Equal("""{"error":{"message":"[redacted]**************"}}""", await content.ReadAsStringAsync());
    }

    // Hands out its parts one read at a time, each read at most the caller's buffer.
    private sealed class ChunkedStream(params byte[][] parts) : Stream
    {
        private int _part;
        private int _offset;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override int Read(byte[] buffer, int offset, int count)
        {
            while (_part < parts.Length && _offset == parts[_part].Length)
            {
                _part++;
                _offset = 0;
            }

            if (_part == parts.Length)
            {
                return 0;
            }

            var n = Math.Min(count, parts[_part].Length - _offset);
            Array.Copy(parts[_part], _offset, buffer, offset, n);
            _offset += n;
            return n;
        }

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
