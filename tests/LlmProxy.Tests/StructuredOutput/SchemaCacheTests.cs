using System.Text;
using System.Text.Json;
using Json.Schema;
using LlmProxy.StructuredOutput;

namespace LlmProxy.Tests.StructuredOutput;

public sealed class SchemaCacheTests
{
    private readonly SchemaCache _cache = new();

    [Fact]
    public void Get_SameSchemaText_CompiledOnceAndReused()
    {
        var text = Schema("same");

        var first = _cache.Get(text, out var error);
        var second = _cache.Get(text.ToArray(), out _);

        Assert.Null(error);
        Assert.NotNull(first);
        Assert.Same(first, second);
        Assert.Equal(1, _cache.Count);
    }

    [Fact]
    public void Get_DifferentSchemaText_DifferentSchemas()
    {
        var first = _cache.Get(Schema("a"), out _);
        var second = _cache.Get(Schema("b"), out _);

        Assert.NotSame(first, second);
        Assert.Equal(2, _cache.Count);
    }

    [Fact]
    public void Get_TwoInstances_ShareNoEntries()
    {
        var other = new SchemaCache();
        var text = Schema("shared");

        var mine = _cache.Get(text, out _);

        Assert.Equal(1, _cache.Count);
        Assert.Equal(0, other.Count);
        var theirs = other.Get(text, out _);
        Assert.NotNull(theirs);
        Assert.NotSame(mine, theirs);
        Assert.Equal(1, other.Count);
    }

    [Fact]
    public void Get_MoreSchemasThanTheLimit_CacheStaysBoundedAndCorrect()
    {
        for (var i = 0; i < SchemaCache.MaxEntries + 500; i++)
        {
            var schema = _cache.Get(Schema($"s{i}", maxLength: i), out var error);

            Assert.Null(error);
            Assert.NotNull(schema);
            Assert.InRange(_cache.Count, 1, SchemaCache.MaxEntries);
            if (i % 97 == 0)
            {
                // Whatever was evicted, each text still gets its own schema: a string of i characters passes, one more fails.
                Assert.True(Valid(schema, new string('x', i)));
                Assert.False(Valid(schema, new string('x', i + 1)));
            }
        }

        var last = SchemaCache.MaxEntries + 499;
        Assert.Same(_cache.Get(Schema($"s{last}", maxLength: last), out _), _cache.Get(Schema($"s{last}", maxLength: last), out _));
    }

    [Fact]
    public void Get_SchemaLargerThanTheCachedLimit_CompiledButNotKept()
    {
        var large = Schema(new string('t', SchemaCache.MaxCachedBytes), maxLength: 3);

        var schema = _cache.Get(large, out var error);

        Assert.Null(error);
        Assert.NotNull(schema);
        Assert.True(Valid(schema, "abc"));
        Assert.False(Valid(schema, "abcd"));
        Assert.Equal(0, _cache.Count);
    }

    private static bool Valid(JsonSchema schema, string value)
        => schema.Evaluate(JsonDocument.Parse(JsonSerializer.Serialize(new { a = value })).RootElement).IsValid;

    private static byte[] Schema(string title, int maxLength = 10)
        => Encoding.UTF8.GetBytes("{\"title\":\"" + title + "\",\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\",\"maxLength\":" + maxLength + "}}}");
}
