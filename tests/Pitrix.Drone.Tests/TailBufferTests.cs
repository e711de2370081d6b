using System.Text;

namespace Pitrix.Drone.Tests;

public class TailBufferTests
{
    [Theory]
    [InlineData(new[] { 3, 4, 5 })]
    [InlineData(new[] { 10, 1 })]
    [InlineData(new[] { 7, 25, 2 })]
    [InlineData(new[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 })]
    public void Write_AnyChunking_KeepsExactlyTheLastBytes(int[] chunks)
    {
        var all = string.Concat(Enumerable.Range(0, chunks.Sum()).Select(i => (char)('a' + (i % 26))));
        var tail = new TailBuffer(8);
        var offset = 0;
        foreach (var size in chunks)
        {
            tail.Write(Encoding.ASCII.GetBytes(all.Substring(offset, size)));
            offset += size;
        }

        Assert.Equal(all.Length > 8 ? all[^8..] : all, tail.ToText());
        Assert.Equal(all.Length > 8, tail.Truncated);
        Assert.Equal(all.Length, tail.TotalBytes);
    }

    [Fact]
    public void ToText_CutThroughAMultiByteCharacter_DropsTheBrokenHalf()
    {
        var tail = new TailBuffer(4);
        tail.Write(Encoding.UTF8.GetBytes("xé€")); // x(1) é(2) €(3): the tail starts inside é.

        Assert.Equal("€", tail.ToText());
    }
}
