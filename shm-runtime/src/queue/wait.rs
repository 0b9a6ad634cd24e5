//! How a blocked push or pop waits: the sleepers' registration, the
//! futex sleep in growing slices, and the wake-up after an item was
//! published or a slot freed.

use super::atomic::AtomicU64;
use super::fence::Barrier;
use super::memory::{ShmQueue, Sleepers, Waits};
use super::ring;
use crate::platform::barrier;
use crate::sync::futex::{self, Deadline, Wake};
use crate::SharedSafe;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The longest a blocked push or pop sleeps before it looks again (for a
/// claimer that died, or a wake-up that a killed process swallowed).
///
/// ```
/// use shm_runtime::queue::MAX_SLICE;
/// assert_eq!(MAX_SLICE, std::time::Duration::from_millis(20));
/// ```
pub const MAX_SLICE: Duration = Duration::from_millis(20);

/// The first sleep of a blocked push or pop.
const FIRST_SLICE: Duration = Duration::from_millis(1);

impl<T: SharedSafe, const N: usize> ShmQueue<T, N> {
    /// How many consumers and producers are registered as (about to be)
    /// asleep.
    pub(crate) fn sleepers(&self) -> (u32, u32) {
        self.waits.0.counts()
    }

    /// Whether the slot at the producers' counter is free (a hint, for the
    /// last look before sleeping; a lagging counter reads "ready").
    pub(super) fn push_ready(&self) -> bool {
        let pos = self.head.0.load(Ordering::Relaxed);
        // `SeqCst`: the sleeper's last look (see `notify`).
        let seen = self.slots[(pos % N as u64) as usize]
            .word
            .load(Ordering::SeqCst);
        ring::stamp(seen).wrapping_sub(((pos / N as u64) as u32).wrapping_mul(2)) as i32 >= 0
    }

    /// Whether the slot at the consumers' counter is not behind (a hint).
    pub(super) fn pop_ready(&self) -> bool {
        let pos = self.tail.0.load(Ordering::Relaxed);
        // `SeqCst`: the sleeper's last look (see `notify`).
        let seen = self.slots[(pos % N as u64) as usize]
            .word
            .load(Ordering::SeqCst);
        ring::stamp(seen).wrapping_sub(((pos / N as u64) as u32).wrapping_mul(2) | 1) as i32 >= 0
    }
}

impl Waits {
    /// How many consumers and producers are registered as (about to be)
    /// asleep.
    pub(super) fn counts(&self) -> (u32, u32) {
        (
            self.pop.count.load(Ordering::SeqCst),
            self.push.count.load(Ordering::SeqCst),
        )
    }

    /// After an item was published with `barrier`: wakes a consumer if one
    /// may sleep (see [`notify`]).
    #[inline(always)]
    pub(super) fn notify_consumers(&self, barrier: Barrier) {
        notify(barrier, &self.pop, &self.users_ns);
    }

    /// After a slot was freed with `barrier`: wakes a producer if one may
    /// sleep (see [`notify`]).
    #[inline(always)]
    pub(super) fn notify_producers(&self, barrier: Barrier) {
        notify(barrier, &self.push, &self.users_ns);
    }
}

/// After an item was published (or a slot freed) with `barrier`: wakes one
/// of `sleepers` if their count says one may sleep. No system call
/// otherwise.
#[inline(always)]
fn notify(barrier: Barrier, sleepers: &Sleepers, users_ns: &AtomicU64) {
    // After the store that published the item or freed the slot: with a
    // sleeper's registration and last look (`Sleep::wait`), either it sees
    // our store or we see its registration (see `Barrier`).
    if sleepers.count.load(barrier.load_after_store()) != 0 {
        wake(sleepers, users_ns);
    }
}

#[cold]
#[inline(never)]
fn wake(sleepers: &Sleepers, users_ns: &AtomicU64) {
    sleepers.word.fetch_add(1, Ordering::Release);
    futex::wake(&sleepers.word, 1);
    forget_the_dead(sleepers, users_ns);
}

/// A registration that no live sleeper renews within this (each renews
/// its own at least every [`MAX_SLICE`], when it looks again) is taken for
/// a sleeper that died asleep, or is stopped.
pub(crate) const STALE: Duration = Duration::from_millis(200);

/// Forgets the registrations of `sleepers` when the latest of them is
/// older than [`STALE`]: a process killed while asleep never unregisters,
/// and its registration would otherwise cost every later push or pop a
/// wake-up system call, for good. Live sleepers are never forgotten (the
/// latest registration is theirs, and renewed), except one stopped for
/// longer than `STALE` (a `SIGSTOP`): once it runs again it sleeps
/// unregistered until its slice ends, at most [`MAX_SLICE`]. Only judged
/// when every user of the queue shares this process's time namespace
/// (the clock is theirs too).
fn forget_the_dead(sleepers: &Sleepers, users_ns: &AtomicU64) {
    // `Acquire`: if the count includes a registration, the `latest` that
    // came with it (stored before it, `Release`) is seen below.
    let count = sleepers.count.load(Ordering::Acquire);
    if count == 0 {
        return;
    }
    let latest = sleepers.latest.load(Ordering::Relaxed);
    if now_ms().saturating_sub(latest) < STALE.as_millis() as u64
        || users_ns.load(Ordering::Relaxed) != crate::liveness::me().ns
    {
        return;
    }
    // Fails if anyone registered (or left) since the count was read.
    let _ = sleepers
        .count
        .compare_exchange(count, 0, Ordering::Relaxed, Ordering::Relaxed);
}

/// `CLOCK_MONOTONIC` in milliseconds, as sleepers record it.
pub(super) fn now_ms() -> u64 {
    let now = futex::now(libc::CLOCK_MONOTONIC);
    (now.tv_sec as u64) * 1000 + (now.tv_nsec as u64) / 1_000_000
}

/// How long a push or pop may wait.
#[derive(Clone, Copy)]
pub(super) enum Wait<'a> {
    No,
    Until(&'a Deadline),
    Forever,
}

/// The sleeping side of a blocked push or pop.
pub(super) struct Sleep {
    slice: Duration,
    spun: bool,
}

#[cfg(test)]
thread_local! {
    /// For the tests of the wake-up protocol: this thread's blocked pushes
    /// and pops never spin and sleep in slices of [`TEST_SLICE`], so that a
    /// missed wake-up shows as a call that lasted a whole slice.
    pub(super) static SLEEP_AT_ONCE: std::cell::Cell<bool> = const { std::cell::Cell::new(false) };
}

/// The slice of a thread with [`SLEEP_AT_ONCE`].
#[cfg(test)]
pub(super) const TEST_SLICE: Duration = Duration::from_secs(10);

impl Sleep {
    pub(super) fn new() -> Sleep {
        #[cfg(test)]
        if SLEEP_AT_ONCE.with(std::cell::Cell::get) {
            return Sleep {
                slice: TEST_SLICE,
                spun: true,
            };
        }
        Sleep {
            slice: FIRST_SLICE,
            spun: false,
        }
    }

    /// Waits (as `wait` allows) until the word of `sleepers` changes or a
    /// slice passes, registered among them, unless `ready()` says to look
    /// again at once. `false` when the time is up.
    pub(super) fn wait(
        &mut self,
        wait: Wait<'_>,
        sleepers: &Sleepers,
        ready: impl Fn() -> bool,
    ) -> bool {
        let deadline = match wait {
            Wait::No => return false,
            Wait::Until(deadline) if deadline.passed() => return false,
            Wait::Until(deadline) => Some(deadline),
            Wait::Forever => None,
        };
        if !self.spun {
            // A short spin first: the other side is often about to act.
            self.spun = true;
            if futex::spin_until(&ready) {
                return true;
            }
        }
        // Before the registration, which publishes it (see
        // `forget_the_dead`).
        sleepers.latest.store(now_ms(), Ordering::Release);
        // `SeqCst`: with the `SeqCst` look in `ready`, for full publishers
        // (see `Barrier`).
        sleepers.count.fetch_add(1, Ordering::SeqCst);
        let word = &sleepers.word;
        // For light publishers: a fence in each of their threads, after our
        // registration. If the system refuses it, a light publisher may
        // miss us: we then sleep for the first slice only (a missed wake-up
        // costs at most that).
        let covered = barrier::heavy();
        // `Acquire`: pairs with the `Release` bump in `wake`: if we read a
        // bump, the item (or free slot) it announces is visible to `ready`.
        let seen = word.load(Ordering::Acquire);
        if !ready() {
            let longest = if covered { self.slice } else { FIRST_SLICE };
            let slice = match deadline {
                Some(deadline) => longest.min(deadline.remaining()),
                None => longest,
            };
            if futex::wait(word, seen, Some(&Deadline::after(slice))) == Wake::TimedOut {
                self.slice = (self.slice * 2).min(MAX_SLICE);
            }
        }
        // Never below zero: a registration forgotten as stale (ours, if we
        // were stopped that long) is not taken twice.
        let _ = sleepers
            .count
            .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |n| n.checked_sub(1));
        true
    }
}
