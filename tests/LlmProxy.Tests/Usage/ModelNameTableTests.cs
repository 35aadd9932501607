using System.Text;
using LlmProxy.Hosting;
using LlmProxy.Tests.Fakes;
using LlmProxy.Usage;

namespace LlmProxy.Tests.Usage;

public sealed class ModelNameTableTests
{
    [Fact]
    public void Name_SameBytesAgain_SameString()
    {
        var table = new ModelNameTable();

        var first = table.Name("gpt-4o-2024-08-06"u8);
        var second = table.Name(Encoding.UTF8.GetBytes("gpt-4o-2024-08-06"));

        Assert.Equal("gpt-4o-2024-08-06", first);
        Assert.Same(first, second);
        Assert.Equal(1, table.Count);
    }

    [Fact]
    public void Name_MoreNamesThanTheLimit_TableStaysBoundedAndNamesCorrect()
    {
        var table = new ModelNameTable();
        for (var i = 0; i < ModelNameTable.MaxEntries * 4 + 3; i++)
        {
            var name = "model-" + i.ToString(System.Globalization.CultureInfo.InvariantCulture);

            Assert.Equal(name, table.Name(Encoding.UTF8.GetBytes(name)));
            Assert.InRange(table.Count, 1, ModelNameTable.MaxEntries);
        }

        // Old names were replaced, yet still read right.
        Assert.Equal("model-0", table.Name("model-0"u8));
        Assert.Equal(ModelNameTable.MaxEntries, table.Count);
    }

    [Fact]
    public void Name_TwoInstances_ShareNoEntries()
    {
        var first = new ModelNameTable();
        var second = new ModelNameTable();

        var name = first.Name("gpt-4o"u8);

        Assert.Equal(0, second.Count);
        Assert.NotSame(name, second.Name("gpt-4o"u8));
    }

    [Fact]
    public void ReadBodyFast_MetersOfOneTable_ShareTheModelString()
    {
        var table = new ModelNameTable();
        var body = """{"id":"c","object":"chat.completion","model":"gpt-4o-mini","choices":[],"usage":{"prompt_tokens":1,"completion_tokens":1,"total_tokens":2}}"""u8.ToArray();
        var first = new LlmRequestFeature(TestRequests.EmptySnapshot, "r1", 1) { Metered = true, ModelNames = table };
        var second = new LlmRequestFeature(TestRequests.EmptySnapshot, "r2", 1) { Metered = true, ModelNames = table };
        var alone = TestRequests.Metered("r3");

        UsageReader.ReadBodyFast(body, first);
        UsageReader.ReadBodyFast(body, second);
        UsageReader.ReadBodyFast(body, alone);

        Assert.Equal("gpt-4o-mini", first.ResponseModel);
        Assert.Same(first.ResponseModel, second.ResponseModel);
        Assert.Equal("gpt-4o-mini", alone.ResponseModel);
        Assert.NotSame(first.ResponseModel, alone.ResponseModel);
    }
}
