//! How a blocked push or pop waits: the sleepers' registration, the
//! futex sleep in growing slices, and the wake-up after an item was
//! published or a slot freed.

use super::atomic::AtomicU32;
use super::fence::Barrier;
use super::memory::ShmQueue;
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

    /// After an item was published (or a slot freed) with `barrier`: wakes
    /// one sleeper of `word` if `sleepers` says one may sleep (see
    /// [`notify`]).
    #[inline(always)]
    pub(super) fn notify(&self, barrier: Barrier, word: &AtomicU32, sleepers: &AtomicU32) {
        notify(barrier, word, sleepers);
    }
}

/// After an item was published (or a slot freed) with `barrier`: wakes one
/// sleeper of `word` if `sleepers` says one may sleep. No system call
/// otherwise.
#[inline(always)]
pub(super) fn notify(barrier: Barrier, word: &AtomicU32, sleepers: &AtomicU32) {
    // After the store that published the item or freed the slot: with a
    // sleeper's registration and last look (`Sleep::wait`), either it sees
    // our store or we see its registration (see `Barrier`).
    if sleepers.load(barrier.load_after_store()) != 0 {
        wake(word);
    }
}

#[cold]
#[inline(never)]
fn wake(word: &AtomicU32) {
    word.fetch_add(1, Ordering::Release);
    futex::wake(word, 1);
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

    /// Waits (as `wait` allows) until `word` changes or a slice passes,
    /// registered in `sleepers`, unless `ready()` says to look again at
    /// once. `false` when the time is up.
    pub(super) fn wait(
        &mut self,
        wait: Wait<'_>,
        word: &AtomicU32,
        sleepers: &AtomicU32,
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
        // `SeqCst`: with the `SeqCst` look in `ready`, for full publishers
        // (see `Barrier`).
        sleepers.fetch_add(1, Ordering::SeqCst);
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
        sleepers.fetch_sub(1, Ordering::Relaxed);
        true
    }
}
