import Foundation
import Synchronization

extension Collection where Self: Sendable, Index: Sendable, Element: Sendable {
  /// `transform` of every element, run side by side on every core, in the collection's order.
  public func concurrentMap<T: Sendable>(_ transform: @Sendable (Element) -> T) -> [T] {
    let indices = Array(self.indices)
    let results = Mutex([T?](repeating: nil, count: indices.count))
    DispatchQueue.concurrentPerform(iterations: indices.count) { i in
      let value = transform(self[indices[i]])
      results.withLock { $0[i] = value }
    }
    // Every slot was filled above: nothing is dropped.
    return results.withLock { $0 }.compactMap { $0 }
  }
}
