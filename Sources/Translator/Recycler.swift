#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A few things that are costly to make and cheap to make clean (the zeroed
/// tables of a translation cache, the mappings of code memory), kept when
/// their owner goes for the next owner that wants one like them: a fresh
/// machine then does not pay for them again. Shared by every thread, under a
/// mutex.
final class Recycler<Thing>: @unchecked Sendable { // `kept` only under `mutex`
    /// The most things kept at once.
    let most: Int
    /// The largest thing kept, in bytes: bigger ones go with their owner.
    let largest = 64 << 20
    /// What becomes of a thing that is not kept (the oldest, when a newer one comes).
    private let discard: (Thing) -> Void
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private var kept: [Thing] = []
    private var takenCount = 0

    /// How many things have been taken (for tests).
    var taken: Int {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        return takenCount
    }

    /// Keeps at most `most` things; `discard` frees one no longer kept (nothing
    /// to do for a class whose deinit frees it).
    init(keepingAtMost most: Int, discard: @escaping (Thing) -> Void = { _ in }) {
        self.most = most
        self.discard = discard
        // SAFETY: allocated here, destroyed in deinit.
        mutex = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
    }

    deinit {
        pthread_mutex_destroy(mutex)
        mutex.deallocate()
    }

    /// The most recently kept thing that `fits`, if any, no longer kept.
    func take(where fits: (Thing) -> Bool) -> Thing? {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        guard let i = kept.lastIndex(where: fits) else { return nil }
        takenCount += 1
        return kept.remove(at: i)
    }

    /// True if a thing of `bytes` bytes would be kept: its owner makes it clean for `keep`, or frees it.
    func wants(_ bytes: Int) -> Bool { bytes <= largest }

    /// Keeps `thing` (clean, ready for a new owner, one `wants`), discarding the oldest
    /// kept thing if `most` are kept already: the newest are likeliest to fit
    /// the next owner (a run's machines are alike), and a full recycler of
    /// things that fit nobody would keep nothing that does.
    func keep(_ thing: Thing) {
        pthread_mutex_lock(mutex)
        let oldest = kept.count == most ? kept.removeFirst() : nil
        kept.append(thing)
        pthread_mutex_unlock(mutex)
        if let oldest { discard(oldest) }
    }
}
