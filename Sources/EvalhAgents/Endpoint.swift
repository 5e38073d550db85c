import Foundation

/// Where an `http://` URL points, and how a request to it starts.
struct Endpoint: Sendable {
  var host: String
  var port: Int
  /// Path and query, "/" when empty.
  var target: String
  /// Basic credentials from the URL's user info, if any.
  var authorization: String?

  /// nil when the URL is not a plain `http://` URL with a host.
  static func parse(_ url: String) -> Endpoint? {
    guard let parts = URLComponents(string: url), parts.scheme?.lowercased() == "http", var host = parts.host,
      !host.isEmpty
    else { return nil }
    // An IPv6 address comes with its URL brackets on some platforms; getaddrinfo wants it bare.
    if host.hasPrefix("["), host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    var target = parts.percentEncodedPath.isEmpty ? "/" : parts.percentEncodedPath
    if let query = parts.percentEncodedQuery { target += "?" + query }
    var authorization: String?
    if let user = parts.user {
      authorization = "Basic " + Data("\(user):\(parts.password ?? "")".utf8).base64EncodedString()
    }
    return Endpoint(host: host, port: parts.port ?? 80, target: target, authorization: authorization)
  }

  /// The host as a URL and a Host header write it: an IPv6 address in brackets.
  var bracketedHost: String { host.contains(":") ? "[\(host)]" : host }

  func sameServer(as other: Endpoint) -> Bool { host == other.host && port == other.port }

  /// A redirect's `Location`, relative to this endpoint; nil when it leaves plain HTTP.
  func resolve(_ location: String) -> Endpoint? {
    guard let base = URL(string: "http://\(bracketedHost):\(port)\(target)"),
      let next = URL(string: location, relativeTo: base)?.absoluteString
    else { return nil }
    return Endpoint.parse(next)
  }

  /// The request line, headers and body, as written on the wire.
  func requestBytes(_ request: OutgoingRequest) -> [UInt8] {
    var head = "\(request.method) \(target) HTTP/1.1\r\nHost: \(bracketedHost)\(port == 80 ? "" : ":\(port)")\r\n"
    var hasAuthorization = false
    for (name, value) in request.headers {
      head += "\(name): \(value)\r\n"
      if name.lowercased() == "authorization" { hasAuthorization = true }
    }
    if let authorization, !hasAuthorization { head += "Authorization: \(authorization)\r\n" }
    if let body = request.body { head += "Content-Length: \(body.count)\r\n" }
    head += "\r\n"
    var bytes = Array(head.utf8)
    if let body = request.body { bytes += body }
    return bytes
  }
}
