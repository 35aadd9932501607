using System.Text;
using LlmProxy.Streaming;

namespace LlmProxy.Tests.Streaming;

public sealed class SseOutboxTests
{
    private static string Drain(SseOutbox outbox, int chunk = 3)
    {
        var text = new StringBuilder();
        var buffer = new byte[chunk];
        int taken;
        while ((taken = outbox.Take(buffer)) > 0)
        {
            text.Append(Encoding.UTF8.GetString(buffer, 0, taken));
        }

        return text.ToString();
    }

    [Fact]
    public void Take_WrittenFrames_ComeOutInOrderAcrossSmallReads()
    {
        var outbox = new SseOutbox();
        outbox.Write("first "u8);
        outbox.Write("second"u8);

        Assert.True(outbox.HasPending);
        Assert.Equal("first second", Drain(outbox));
        Assert.False(outbox.HasPending);
    }

    [Fact]
    public void ReleaseHeld_HeldEvents_QueuedAfterWhatWasWrittenBefore()
    {
        var outbox = new SseOutbox();
        outbox.Hold("a\n\n"u8);
        outbox.Write("w\n\n"u8);
        outbox.Hold("b\n\n"u8);

        Assert.Equal(6, outbox.HeldBytes);
        outbox.ReleaseHeld();
        outbox.Write("v\n\n"u8);

        Assert.Equal(0, outbox.HeldBytes);
        Assert.Equal("w\n\na\n\nb\n\nv\n\n", Drain(outbox));
    }

    [Fact]
    public void DiscardHeld_HeldEvents_NeverSent()
    {
        var outbox = new SseOutbox();
        outbox.Hold("a\n\n"u8);

        outbox.DiscardHeld();
        outbox.ReleaseHeld();

        Assert.False(outbox.HasPending);
    }

    [Fact]
    public void Write_AfterPartialTake_KeepsTheRestAhead()
    {
        var outbox = new SseOutbox();
        outbox.Write(new byte[1000]);
        outbox.Take(new byte[990]);

        outbox.Write(Encoding.UTF8.GetBytes(new string('x', 2000)));

        Assert.Equal(new string('\0', 10) + new string('x', 2000), Drain(outbox, 512));
    }
}
