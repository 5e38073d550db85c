import Foundation
import Synchronization

/// stdout or stderr, written with write(2). Once a write fails with EPIPE (`evalh run | head -1`)
/// nobody is reading: the stream is dropped and the command goes on (trials recorded, exit code as
/// usual). Foundation's FileHandle would trap there instead.
public final class StandardStream: Sendable {
  /// Standard output.
  public static let output = StandardStream(fd: 1)
  /// Standard error.
  public static let error = StandardStream(fd: 2)

  private let fd: Int32
  private let closed = Atomic<Bool>(false)

  init(fd: Int32) {
    // A write to a closed pipe must fail with EPIPE, not end evalh with SIGPIPE.
    signal(SIGPIPE, SIG_IGN)
    self.fd = fd
  }

  /// Whether a reader went away.
  public var isClosed: Bool { closed.load(ordering: .relaxed) }

  /// Writes `text` whole, or drops it (and everything after) once nobody reads.
  public func write(_ text: String) {
    guard !isClosed else { return }
    var bytes = Array(text.utf8)
    var offset = 0
    while offset < bytes.count {
      let n = bytes.withUnsafeMutableBytes { buf in
        let rest = UnsafeRawBufferPointer(rebasing: buf[offset...])
        return Foundation.write(fd, rest.baseAddress, rest.count)
      }
      if n > 0 {
        offset += n
      } else if n < 0, errno == EINTR || errno == EAGAIN {
        continue
      } else {
        // EPIPE, a closed descriptor, a full disk behind a redirect: stop writing to this stream.
        closed.store(true, ordering: .relaxed)
        return
      }
    }
  }
}
