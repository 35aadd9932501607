using System.Text;
using LlmProxy.StructuredOutput;

namespace LlmProxy.Tests.StructuredOutput;

// The cache is static: alone in its collection, so no other test's schemas are added or the cache cleared meanwhile.
[Collection(nameof(SchemaCacheCollection))]
public sealed class SchemaCacheTests
{
    [Fact]
    public void Get_SameSchemaText_CompiledOnceAndReused()
    {
        var text = Schema(Guid.NewGuid().ToString("N"));

        var first = SchemaCache.Get(text, out var error);
        var second = SchemaCache.Get(text.ToArray(), out _);

        Assert.Null(error);
        Assert.NotNull(first);
        Assert.Same(first, second);
    }

    [Fact]
    public void Get_DifferentSchemaText_DifferentSchemas()
    {
        var first = SchemaCache.Get(Schema("a-" + Guid.NewGuid().ToString("N")), out _);
        var second = SchemaCache.Get(Schema("b-" + Guid.NewGuid().ToString("N")), out _);

        Assert.NotSame(first, second);
    }

    [Fact]
    public void Get_MoreSchemasThanTheLimit_CacheStaysBounded()
    {
        var run = Guid.NewGuid().ToString("N");
        for (var i = 0; i < SchemaCache.MaxEntries + 500; i++)
        {
            Assert.NotNull(SchemaCache.Get(Schema($"{run}-{i}"), out _));
            Assert.InRange(SchemaCache.Count, 1, SchemaCache.MaxEntries);
        }
    }

    private static byte[] Schema(string title) => Encoding.UTF8.GetBytes("{\"title\":\"" + title + "\",\"type\":\"object\",\"properties\":{\"a\":{\"type\":\"string\"}}}");
}

[CollectionDefinition(nameof(SchemaCacheCollection), DisableParallelization = true)]
public sealed class SchemaCacheCollection;
