import EvalhCore

/// One attempt's request, as the adapter made it for the trial.
struct OutgoingRequest: Sendable {
  var method: String
  var headers: [(name: String, value: String)]
  var body: [UInt8]?
}

/// What one attempt got back: the status, `Retry-After`, and the body up to its limit.
struct IncomingResponse: Sendable {
  var status: Int
  var retryAfter: String?
  /// A redirect's target (the plain transport follows it; AsyncHTTPClient has already).
  var location: String? = nil
  var body: [UInt8]
  /// Whether the body was longer than kept (the rest was not read).
  var truncated: Bool
}

/// How one attempt ended.
enum AttemptResult: Sendable {
  case response(IncomingResponse)
  /// Refused, reset, closed early, unreadable: worth another attempt.
  case connectionFailed(String)
  /// Something another attempt cannot mend (a redirect to a scheme the transport does not speak).
  case unusable(String)
  case timedOut
  case interrupted
}

/// Sends one attempt of a trial's request to the agent's URL and reads the answer, within the
/// trial's deadline: the HTTP adapter's retries, backoff and parsing sit above it.
protocol HTTPTransport: Sendable {
  /// `bodyLimit` bytes of a 2xx body are kept, `errorLimit` of any other.
  func send(
    _ request: OutgoingRequest, bodyLimit: Int, errorLimit: Int, deadline: ContinuousClock.Instant,
    interruption: Interruption?
  ) async -> AttemptResult
  func shutdown() async
}
