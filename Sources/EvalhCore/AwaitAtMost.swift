import Synchronization

/// Waits for `work` at most `limit`; if it is still running then, it goes on unwatched.
///
/// For clean-ups at the end of a command that must not hold the process past its work:
/// AsyncHTTPClient's shutdown waits for every connection attempt in flight, so a trial that
/// timed out against a server that never finishes its TLS handshake would keep evalh for the
/// whole connect timeout.
public func awaitAtMost(_ limit: Duration, _ work: @escaping @Sendable () async -> Void) async {
  let waiter = Waiter()
  await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
    waiter.hold(continuation)
    let timer = Task {
      try? await Task.sleep(for: limit)
      waiter.resume()
    }
    Task {
      await work()
      timer.cancel()
      waiter.resume()
    }
  }
}

/// A continuation resumed by whichever comes first.
private final class Waiter: Sendable {
  let continuation = Mutex<CheckedContinuation<Void, Never>?>(nil)

  func hold(_ continuation: CheckedContinuation<Void, Never>) { self.continuation.withLock { $0 = continuation } }

  func resume() { continuation.withLock { $0.take() }?.resume() }
}
