using System.Text;

namespace TeamsMediaBridge.BotService;

/// <summary>
/// Appends lines to a file that never grows past MaxBytes: when a line would pass it, the file
/// becomes name.1.ext (name.1 becomes name.2, ...) and the oldest beyond MaxFiles is deleted.
/// Thread-safe: the child's stdout and stderr arrive on two threads.
/// </summary>
public sealed class RotatingLogFile : IDisposable
{
    readonly string _path;
    readonly long _maxBytes;
    readonly int _maxFiles;
    readonly object _gate = new();
    FileStream? _stream;

    public RotatingLogFile(string path, long maxBytes, int maxFiles)
    {
        _path = Path.GetFullPath(path);
        _maxBytes = maxBytes;
        _maxFiles = maxFiles;
        Directory.CreateDirectory(Path.GetDirectoryName(_path)!);
        _stream = Open();
    }

    public string FilePath => _path;

    /// <summary>name.N.ext: the N-th older file.</summary>
    public string RotatedPath(int n) =>
        Path.Combine(Path.GetDirectoryName(_path)!, $"{Path.GetFileNameWithoutExtension(_path)}.{n}{Path.GetExtension(_path)}");

    public void WriteLine(string line)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(line + "\r\n");
        lock (_gate)
        {
            if (_stream is null) return;
            if (_stream.Length > 0 && _stream.Length + bytes.Length > _maxBytes) Rotate();
            // A single line longer than the limit is cut: the file stays within MaxBytes.
            _stream.Write(bytes, 0, (int)Math.Min(bytes.Length, _maxBytes));
            _stream.Flush();
        }
    }

    void Rotate()
    {
        _stream!.Dispose();
        File.Delete(RotatedPath(_maxFiles - 1 < 1 ? 1 : _maxFiles - 1));
        for (int n = _maxFiles - 2; n >= 1; n--)
            if (File.Exists(RotatedPath(n))) File.Move(RotatedPath(n), RotatedPath(n + 1), overwrite: true);
        if (_maxFiles > 1) File.Move(_path, RotatedPath(1), overwrite: true);
        else File.Delete(_path);
        _stream = Open();
    }

    // FileShare.Read|Delete: an operator can read (tail) the file while the service writes it.
    FileStream Open() => new(_path, FileMode.Append, FileAccess.Write, FileShare.Read | FileShare.Delete);

    public void Dispose()
    {
        lock (_gate)
        {
            _stream?.Dispose();
            _stream = null;
        }
    }
}
