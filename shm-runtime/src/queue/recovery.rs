//! Crash recovery: who claimed a slot, and the judging of a claimer that
//! held its slot too long, whose slot is released if it is dead.

use super::fence::Barrier;
use super::memory::ShmQueue;
use super::ring;
use super::wait::Wait;
use crate::sync::owner::{self, Me, Status};
use crate::SharedSafe;
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

/// How long a slot must stay claimed by another process, unchanged, before
/// a producer or consumer waiting on it asks whether that process is alive
/// (and again after each further such interval, while it lives).
///
/// ```
/// use shm_runtime::queue::{MAX_SLICE, STALL_CHECK};
/// // A dead claimer is found within about this long by a blocked waiter.
/// let detection = MAX_SLICE + STALL_CHECK;
/// assert!(detection < std::time::Duration::from_millis(100));
/// ```
pub const STALL_CHECK: Duration = Duration::from_millis(1);

/// `users_ns` once users from several PID or time namespaces met.
pub(super) const MIXED_NS: u64 = u64::MAX;

impl<T: SharedSafe, const N: usize> ShmQueue<T, N> {
    /// Records this process's start time as the claimer of `index`.
    #[inline(always)]
    pub(super) fn record_claim(&self, index: usize, stamp: u32, me: &Me) {
        // `Release`: a judge that reads the record (`Acquire`) and finds our
        // stamp in it also sees our claim.
        self.slots[index].record.store(
            (u64::from(stamp) << 32) | u64::from(me.process_start),
            Ordering::Release,
        );
    }

    /// Slot `index` is claimed by another process (its word `word`): judges
    /// it once it stayed so for [`STALL_CHECK`], and releases it if its
    /// claimer is dead. `true` if this call released it.
    pub(super) fn stalled(&self, index: usize, word: u64, me: &Me, stalls: &mut Stalls) -> bool {
        let key = Stall {
            queue: self as *const Self as usize,
            index,
            word,
            since: Instant::now(),
        };
        if !stalls.due(key) {
            return false;
        }
        if !(self.claimer_dead(index, word, me) && self.recover(index, word)) {
            return false;
        }
        let waits = &self.waits.0;
        // The slot is free for the next lap's producer (the release was a
        // `SeqCst` swap: a full barrier) ...
        waits.notify_producers(Barrier::Full);
        if ring::stamp(word) & 1 == 0 {
            // ... and, a dead producer's slot being skipped, consumers
            // waiting on it move on to the next position.
            waits.notify_consumers(Barrier::Full);
        }
        true
    }

    /// Whether the claimer of slot `index`, whose word is `word`, is dead
    /// (see [`process_dead`]).
    pub(super) fn claimer_dead(&self, index: usize, word: u64, me: &Me) -> bool {
        let record = self.slots[index].record.load(Ordering::Acquire);
        // The record describes this claim only if it carries its stamp;
        // otherwise the claimer died before recording itself: judged by
        // its pid alone.
        let start = if (record >> 32) as u32 == ring::stamp(word) {
            record as u32
        } else {
            0
        };
        process_dead(ring::claimer(word), start, &self.waits.0.users_ns, me)
    }

    /// Records this process's namespaces among the queue's users.
    #[inline(always)]
    pub(super) fn record_namespace(&self, mine: u64) {
        record_namespace(&self.waits.0.users_ns, mine);
    }
}

/// Whether process `pid`, which recorded start time `start` (0: unknown,
/// then judged by its pid alone), is dead: judged as `ShmMutex` judges a
/// holder, and only when every user recorded in `users` (see
/// [`record_namespace`]) ran in this process's namespaces.
pub(super) fn process_dead(pid: u32, start: u32, users: &AtomicU64, me: &Me) -> bool {
    if users.load(Ordering::Acquire) != me.ns {
        return false;
    }
    match owner::status(pid, me.proc_ok) {
        Status::Gone | Status::Zombie => true,
        Status::Alive(Some(now)) => me.starts_comparable && start != 0 && now != start,
        Status::Alive(None) => false,
    }
}

/// Records namespaces `mine` among the users of a queue, in `users`: the
/// first user's, or [`MIXED_NS`] once users of several met.
#[inline(always)]
pub(super) fn record_namespace(users: &AtomicU64, mine: u64) {
    let seen = users.load(Ordering::Relaxed);
    if seen == mine || seen == MIXED_NS {
        return;
    }
    record_new_namespace(users, mine);
}

#[cold]
fn record_new_namespace(users: &AtomicU64, mine: u64) {
    match users.compare_exchange(0, mine, Ordering::AcqRel, Ordering::Acquire) {
        Ok(_) => {}
        Err(seen) if seen == mine || seen == MIXED_NS => {}
        Err(_) => users.store(MIXED_NS, Ordering::Release),
    }
}

/// A slot this thread claimed: dropped without being forgotten (a panic
/// in the caller's closure, or a consumer done with its item), it is
/// released without an item.
pub(super) struct Claimed<'a, T: SharedSafe, const N: usize> {
    pub(super) queue: &'a ShmQueue<T, N>,
    pub(super) index: usize,
    pub(super) stamp: u32,
    /// How this process orders its release with its look for sleepers.
    pub(super) barrier: Barrier,
}

impl<T: SharedSafe, const N: usize> Drop for Claimed<'_, T, N> {
    fn drop(&mut self) {
        self.queue.release(self.index, self.stamp, self.barrier);
        let waits = &self.queue.waits.0;
        waits.notify_producers(self.barrier);
        if self.stamp & 1 == 0 {
            // A producer's skipped slot: consumers waiting on it move on.
            waits.notify_consumers(self.barrier);
        }
    }
}

/// A slot seen claimed, unchanged, since `since`.
#[derive(Clone, Copy)]
pub(super) struct Stall {
    queue: usize,
    index: usize,
    word: u64,
    since: Instant,
}

thread_local! {
    /// The stall this thread's non-blocking calls last met: a consumer that
    /// spins on `try_pop` judges a stalled slot once per [`STALL_CHECK`].
    static LAST_STALL: Cell<Option<Stall>> = const { Cell::new(None) };
}

/// The stall a call tracks: its own for a blocking call, the thread's for
/// a non-blocking one.
pub(super) enum Stalls {
    Local(Option<Stall>),
    Thread,
}

impl Stalls {
    pub(super) fn new(wait: Wait<'_>) -> Stalls {
        match wait {
            Wait::No => Stalls::Thread,
            _ => Stalls::Local(None),
        }
    }

    /// Whether the stall `now` (its `since` is now) has lasted
    /// [`STALL_CHECK`]: then its clock restarts.
    fn due(&mut self, now: Stall) -> bool {
        let mut seen = match self {
            Stalls::Local(seen) => *seen,
            Stalls::Thread => LAST_STALL.with(Cell::get),
        };
        let due = match &mut seen {
            Some(s) if (s.queue, s.index, s.word) == (now.queue, now.index, now.word) => {
                if now.since.duration_since(s.since) < STALL_CHECK {
                    false
                } else {
                    s.since = now.since;
                    true
                }
            }
            _ => {
                seen = Some(now);
                false
            }
        };
        match self {
            Stalls::Local(local) => *local = seen,
            Stalls::Thread => LAST_STALL.with(|cell| cell.set(seen)),
        }
        due
    }
}
