import EvalhCore
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// A non-blocking TCP socket; every wait is a poll(2) bounded by the deadline and the interruption pipe.
struct Connection {
  let fd: Int32

  enum Failure: Error {
    case failed(String)
    case timedOut
    case interrupted

    var result: AttemptResult {
      switch self {
      case .failed(let why): .connectionFailed(why)
      case .timedOut: .timedOut
      case .interrupted: .interrupted
      }
    }
  }

  static func open(_ endpoint: Endpoint, deadline: Double, interruptFD: Int32) -> Result<Connection, Failure> {
    var hints = addrinfo()
    hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
    hints.ai_flags = AI_NUMERICSERV
    var found: UnsafeMutablePointer<addrinfo>?
    let status = getaddrinfo(endpoint.host, String(endpoint.port), &hints, &found)
    guard status == 0, let first = found else {
      return .failure(.failed("cannot resolve \(endpoint.host): \(String(cString: gai_strerror(status)))"))
    }
    defer { freeaddrinfo(first) }
    var why = "no address for \(endpoint.host)"
    var next: UnsafeMutablePointer<addrinfo>? = first
    while let address = next {
      next = address.pointee.ai_next
      let fd = socket(
        address.pointee.ai_family,
        Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue)
          | Int32(SOCK_CLOEXEC.rawValue), 0)
      guard fd >= 0 else {
        why = "socket: \(String(cString: strerror(errno)))"
        continue
      }
      let connection = Connection(fd: fd)
      if connect(fd, address.pointee.ai_addr, address.pointee.ai_addrlen) != 0 && errno != EINPROGRESS {
        why = "connect to \(endpoint.host):\(endpoint.port): \(String(cString: strerror(errno)))"
        connection.close()
        continue
      }
      switch connection.wait(for: Int16(POLLOUT), deadline: deadline, interruptFD: interruptFD) {
      case .failure(let failure):
        connection.close()
        return .failure(failure)
      case .success:
        var error: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        getsockopt(fd, SOL_SOCKET, SO_ERROR, &error, &length)
        guard error == 0 else {
          why = "connect to \(endpoint.host):\(endpoint.port): \(String(cString: strerror(error)))"
          connection.close()
          continue
        }
      }
      var one: Int32 = 1
      setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
      return .success(connection)
    }
    return .failure(.failed(why))
  }

  func close() { _ = Glibc.close(fd) }

  /// Whether an idle connection has something to read: the server closed it or wrote unasked.
  func isReadable() -> Bool {
    var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
    return poll(&p, 1, 0) > 0
  }

  /// Waits until the socket is ready for `events`, the deadline passes or evalh is interrupted.
  func wait(for events: Int16, deadline: Double, interruptFD: Int32) -> Result<Void, Failure> {
    while true {
      let left = deadline - Monotonic.seconds()
      guard left > 0 else { return .failure(.timedOut) }
      var fds = [
        pollfd(fd: fd, events: events, revents: 0), pollfd(fd: interruptFD, events: Int16(POLLIN), revents: 0),
      ]
      let ready = poll(&fds, 2, Int32(min(left, 3600) * 1000) + 1)
      if ready < 0 {
        if errno == EINTR { continue }
        return .failure(.failed("poll: \(String(cString: strerror(errno)))"))
      }
      if fds[1].revents != 0 { return .failure(.interrupted) }
      if fds[0].revents != 0 { return .success(()) }
    }
  }
}
