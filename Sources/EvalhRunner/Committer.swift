import EvalhCore
import EvalhStore

/// Commits graded trials as soon as the writer is free, every trial waiting at that moment in the
/// same transaction (a group commit). A trial is still committed with its grades, atomically, before
/// `commit` returns; under load, one transaction carries several trials instead of one each.
actor Committer {
  let store: ResultStore
  private var pending: [(record: TrialRecord, done: CheckedContinuation<Void, any Error>)] = []
  private var writing = false

  init(store: ResultStore) { self.store = store }

  /// Returns once `record` is committed.
  func commit(_ record: TrialRecord) async throws {
    try await withCheckedThrowingContinuation { (done: CheckedContinuation<Void, any Error>) in
      pending.append((record, done))
      if !writing {
        writing = true
        Task { await drain() }
      }
    }
  }

  private func drain() async {
    while !pending.isEmpty {
      let batch = pending
      pending = []
      do {
        try await store.insert(batch.map(\.record))
        for entry in batch { entry.done.resume() }
      } catch {
        for entry in batch { entry.done.resume(throwing: error) }
      }
    }
    writing = false
  }
}
