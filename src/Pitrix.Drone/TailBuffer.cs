using System.Text;

namespace Pitrix.Drone;

/// <summary>Keeps the last <c>capacity</c> bytes written to it, and how many were written in all.</summary>
internal sealed class TailBuffer
{
    private readonly byte[] _ring;
    private long _total;

    public TailBuffer(int capacity) => _ring = new byte[capacity];

    public long TotalBytes => _total;

    public bool Truncated => _total > _ring.Length;

    public void Write(ReadOnlySpan<byte> data)
    {
        if (_ring.Length == 0)
        {
            _total += data.Length;
            return;
        }

        if (data.Length >= _ring.Length)
        {
            // Only the last capacity bytes survive; lay them out so that the oldest sits where the next write goes.
            _total += data.Length;
            var tail = data[^_ring.Length..];
            var oldest = (int)(_total % _ring.Length);
            tail[..(_ring.Length - oldest)].CopyTo(_ring.AsSpan(oldest));
            tail[(_ring.Length - oldest)..].CopyTo(_ring);
            return;
        }

        var start = (int)(_total % _ring.Length);
        var first = Math.Min(data.Length, _ring.Length - start);
        data[..first].CopyTo(_ring.AsSpan(start));
        data[first..].CopyTo(_ring);
        _total += data.Length;
    }

    /// <summary>The kept bytes as UTF-8 text; a character cut in half at the start of the tail is dropped.</summary>
    public string ToText()
    {
        var length = (int)Math.Min(_total, _ring.Length);
        var bytes = new byte[length];
        if (_total <= _ring.Length)
        {
            Array.Copy(_ring, bytes, length);
        }
        else
        {
            var start = (int)(_total % _ring.Length);
            var first = _ring.Length - start;
            Array.Copy(_ring, start, bytes, 0, first);
            Array.Copy(_ring, 0, bytes, first, start);
        }

        var skip = 0;
        if (Truncated)
        {
            while (skip < bytes.Length && skip < 3 && (bytes[skip] & 0xC0) == 0x80)
            {
                skip++;
            }
        }

        return Encoding.UTF8.GetString(bytes, skip, bytes.Length - skip);
    }
}
