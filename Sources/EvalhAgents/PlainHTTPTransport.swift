import EvalhCore
import Foundation

#if canImport(Glibc)
  import Glibc
#endif

/// HTTP/1.1 over plain TCP for `http://` agents: up to `max_connections` worker threads, each
/// keeping one keep-alive connection and taking the attempts queued for the agent.
///
/// Why not AsyncHTTPClient here: against a local agent its channel pipeline, codecs and
/// per-request state machines were half of evalh's CPU per trial (docs/performance.md). A worker
/// blocks in poll(2) on its socket and the interruption pipe with the trial's deadline as the
/// timeout, so silence, a trickled body and Ctrl-C all end an attempt on time, and a body over its
/// limit is cut without being read. `https://` agents keep AsyncHTTPClient (TLS, HTTP/2).
final class PlainHTTPTransport: HTTPTransport, @unchecked Sendable {
  // @unchecked: every mutable field below is read and written only while `lock` is held.
  let endpoint: Endpoint
  let maxConnections: Int

  // The queue of attempts and the workers. A condition variable, not a Mutex: idle worker threads
  // block until an attempt is queued, and shutdown blocks until the workers are gone.
  private let lock = NSCondition()
  private var queue: [Job] = []
  private var queueHead = 0
  private var workers = 0
  private var idle = 0
  private var closing = false

  /// `url` must be an `http://` URL (`Endpoint.parse`).
  init(endpoint: Endpoint, maxConnections: Int) {
    self.endpoint = endpoint
    self.maxConnections = max(1, maxConnections)
  }

  func send(
    _ request: OutgoingRequest, bodyLimit: Int, errorLimit: Int, deadline: ContinuousClock.Instant,
    interruption: Interruption?
  ) async -> AttemptResult {
    let left = ContinuousClock.now.duration(to: deadline)
    let seconds = Double(left.components.seconds) + Double(left.components.attoseconds) / 1e18
    return await withUnsafeContinuation { continuation in
      enqueue(
        Job(
          request: request, bodyLimit: bodyLimit, errorLimit: errorLimit,
          deadline: Monotonic.seconds() + seconds, interruptFD: interruption?.fd ?? -1,
          continuation: continuation))
    }
  }

  func shutdown() async {
    stopWorkers()
  }

  /// Ends the workers once the attempts queued are done, closing their connections.
  private func stopWorkers() {
    lock.lock()
    closing = true
    lock.broadcast()
    while workers > 0 { lock.wait() }
    lock.unlock()
  }

  private func enqueue(_ job: Job) {
    lock.lock()
    defer { lock.unlock() }
    guard !closing else {
      job.continuation.resume(returning: .connectionFailed("the agent's connections were shut down"))
      return
    }
    queue.append(job)
    // A worker more when more attempts wait than idle workers can take.
    if queue.count - queueHead > idle, workers < maxConnections {
      workers += 1
      let thread = Thread { [self] in work() }
      thread.stackSize = 256 << 10
      thread.start()
    }
    lock.signal()
  }

  /// The next attempt, or nil once the transport shuts down.
  private func next() -> Job? {
    lock.lock()
    defer { lock.unlock() }
    idle += 1
    while queueHead == queue.count && !closing { lock.wait() }
    idle -= 1
    guard queueHead < queue.count else { return nil }
    let job = queue[queueHead]
    queueHead += 1
    if queueHead > 64 && queueHead * 2 > queue.count {
      queue.removeFirst(queueHead)
      queueHead = 0
    }
    return job
  }

  private func work() {
    var connection: Connection?
    var buffer = [UInt8](repeating: 0, count: 16 << 10)
    while let job = next() {
      let result = perform(job, connection: &connection, buffer: &buffer)
      job.continuation.resume(returning: result)
    }
    connection?.close()
    lock.lock()
    workers -= 1
    lock.broadcast()
    lock.unlock()
  }

  /// One attempt, following up to five redirects (a redirect elsewhere gets a connection of its own).
  private func perform(_ job: Job, connection pooled: inout Connection?, buffer: inout [UInt8]) -> AttemptResult {
    // Queued behind slower attempts until past its deadline: do not send it at all.
    guard Monotonic.seconds() < job.deadline else { return .timedOut }
    var target = endpoint
    var request = job.request
    var redirects = 0
    while true {
      var other: Connection?
      defer { other?.close() }
      let result: AttemptResult
      if target.sameServer(as: endpoint) {
        result = exchange(request, to: target, job: job, connection: &pooled, buffer: &buffer)
      } else {
        result = exchange(request, to: target, job: job, connection: &other, buffer: &buffer)
      }
      guard case .response(let response) = result, let location = response.location,
        [301, 302, 303, 307, 308].contains(response.status)
      else { return result }
      // Another attempt would only go round again: a loop is not retried.
      guard redirects < 5 else { return .unusable("more than 5 redirects, the last to \(location)") }
      guard let next = target.resolve(location) else {
        return .unusable("redirected to \(location), which evalh's plain HTTP transport cannot follow (use that URL)")
      }
      redirects += 1
      target = next
      // As browsers and AsyncHTTPClient do: 303, and 301/302 after a POST, become a GET without a body.
      if response.status == 303 || ([301, 302].contains(response.status) && request.method == "POST") {
        request.method = "GET"
        request.body = nil
      }
    }
  }

  /// Sends `request` to `target` on `connection` (made when nil or stale) and reads the response.
  private func exchange(
    _ request: OutgoingRequest, to target: Endpoint, job: Job, connection: inout Connection?, buffer: inout [UInt8]
  ) -> AttemptResult {
    // A kept connection the server has closed (or written to unasked) is readable while idle: drop it.
    if let kept = connection, kept.isReadable() {
      kept.close()
      connection = nil
    }
    let live: Connection
    if let kept = connection {
      live = kept
    } else {
      switch Connection.open(target, deadline: job.deadline, interruptFD: job.interruptFD) {
      case .success(let opened): live = opened
      case .failure(let failure): return failure.result
      }
      connection = live
    }
    var reader = ResponseReader(connection: live, deadline: job.deadline, interruptFD: job.interruptFD)
    let outcome = reader.exchange(
      target.requestBytes(request), method: request.method, bodyLimit: job.bodyLimit, errorLimit: job.errorLimit,
      buffer: &buffer)
    if case .response(_, let reusable) = outcome, reusable { return outcome.result }
    connection?.close()
    connection = nil
    return outcome.result
  }

  struct Job {
    var request: OutgoingRequest
    var bodyLimit: Int
    var errorLimit: Int
    /// CLOCK_MONOTONIC seconds.
    var deadline: Double
    var interruptFD: Int32
    var continuation: UnsafeContinuation<AttemptResult, Never>
  }
}
