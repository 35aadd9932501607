using LlmProxy.Telemetry;

namespace LlmProxy.Tests.Telemetry;

public sealed class IdSequenceTests
{
    [Fact]
    public void Next_OneSequence_UniqueOrderedIdsOfItsKind()
    {
        var sequence = new IdSequence("req_");

        var ids = Enumerable.Range(0, 100).Select(_ => sequence.Next()).ToList();

        Assert.All(ids, static id => Assert.Matches("^req_[0-9a-f]{12}[0-9a-f]{16}$", id));
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(ids.Order(StringComparer.Ordinal), ids);
    }

    [Fact]
    public void Next_TwoSequencesOfOneKind_NeverTheSameId()
    {
        // Two hosts in one process each own a sequence: the random part drawn per sequence keeps their ids apart.
        var first = new IdSequence("req_");
        var second = new IdSequence("req_");

        var ids = Enumerable.Range(0, 50).SelectMany(_ => new[] { first.Next(), second.Next() }).ToList();

        Assert.Equal(ids.Count, ids.Distinct().Count());
    }
}
