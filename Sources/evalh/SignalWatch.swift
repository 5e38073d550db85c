import EvalhCore
import Foundation

/// Turns SIGINT, SIGTERM and SIGHUP into an interruption: stop launching, end what is in flight.
final class SignalWatch: @unchecked Sendable {
  // @unchecked: `sources` is set once in init; dispatch sources may be cancelled from any thread.
  private let sources: [any DispatchSourceSignal]

  init(interruption: Interruption) {
    var sources: [any DispatchSourceSignal] = []
    // SIGHUP (the terminal closed) too: a run left `running` with agents alive helps nobody.
    for s in [SIGINT, SIGTERM, SIGHUP] {
      signal(s, SIG_IGN)
      let source = DispatchSource.makeSignalSource(signal: s, queue: .global())
      source.setEventHandler {
        interruption.trigger()
        StandardStream.error.write("\nevalh: \(signalName(s)) received: stopping, ending the trials in flight…\n")
      }
      source.resume()
      sources.append(source)
    }
    self.sources = sources
  }

  func cancel() {
    for source in sources { source.cancel() }
  }
}
