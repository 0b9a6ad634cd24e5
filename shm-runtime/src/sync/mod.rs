//! Synchronization between processes that survives a crashed process.
//!
//! Every type here may live in shared memory (it is [`SharedSafe`]) and be a
//! field of a `#[derive(SharedSafe)]` struct, and all-zero bytes are a valid
//! initial value of each (they are `bytemuck::Zeroable`), so they work in
//! memory from [`Shared::anonymous_zeroed`] as well as from their `new`.
//!
//! | type | for | when a process dies |
//! |---|---|---|
//! | [`ShmMutex<T>`] | exclusive access to a `T` | the next locker is told ([`OwnerDied`]) and repairs |
//! | [`ShmCondvar`] | waiting for a condition under an `ShmMutex` | dead waiters cost nothing |
//! | [`ShmEvent`] | "it happened": a flag to wait for | dead waiters cost nothing |
//! | [`ShmSemaphore`] | counting permits | a dead holder's permit is lost |
//! | [`SeqLock<T>`] | one writer at a time, many wait-free readers of a `Copy` value | see its documentation |
//!
//! Every `*_timeout` method of the locks and the event returns an error of
//! kind [`TimedOut`](crate::ErrorKind::TimedOut) when the time runs out:
//! none of them hangs. The condition variable's timed waits are std's: the
//! timeout bounds the wait for a notification (then `timed_out()` is true),
//! but the mutex must be held again before they return, and re-taking it
//! waits like [`ShmMutex::lock`] for as long as its holder's process lives
//! (a holder whose process died is detected, and reported as [`OwnerDied`]).
//!
//! Linux is the first-class target: every type here waits on shared futexes
//! and holds no address. `ShmMutex` and `ShmCondvar` are Linux-only (a
//! mutex judges its holders by Linux thread ids and `/proc`); on other
//! Unixes `ShmEvent`, `ShmSemaphore` and `SeqLock` remain, their futex
//! waits falling back to sleeping in short steps.
//!
//! ```
//! use shm_runtime::{process, Shared, SharedSafe, ShmCondvar, ShmMutex};
//! use std::time::Duration;
//!
//! #[derive(SharedSafe, bytemuck::Zeroable)]
//! #[repr(C)]
//! struct Queue {
//!     jobs: ShmMutex<[u32; 8]>,
//!     changed: ShmCondvar,
//! }
//!
//! let queue = Shared::<Queue>::anonymous_zeroed()?;
//! let child = process::fork(|| {
//!     queue.jobs.lock().unwrap()[0] = 42;
//!     queue.changed.notify_all();
//! })?;
//! let jobs = queue.jobs.lock().unwrap();
//! let (jobs, timeout) = queue
//!     .changed
//!     .wait_timeout_while(jobs, Duration::from_secs(10), |jobs| jobs[0] == 0)
//!     .unwrap();
//! assert!(!timeout.timed_out());
//! assert_eq!(jobs[0], 42);
//! # drop(jobs);
//! child.join(Duration::from_secs(10))?;
//! # Ok::<(), shm_runtime::Error>(())
//! ```
//!
//! [`SharedSafe`]: crate::SharedSafe
//! [`Shared::anonymous_zeroed`]: crate::Shared::anonymous_zeroed

// The mutex judges its holders by Linux thread ids and `/proc`; the
// condition variable that uses its guards follows it.
#[cfg(target_os = "linux")]
mod condvar;
mod event;
mod futex;
#[cfg(target_os = "linux")]
pub(crate) mod mutex;
#[cfg(target_os = "linux")]
pub(crate) mod owner;
mod semaphore;
mod seqlock;

#[cfg(target_os = "linux")]
pub use condvar::{ShmCondvar, WaitTimeoutResult};
pub use event::ShmEvent;
#[cfg(target_os = "linux")]
pub use mutex::{LockResult, ShmMutex, ShmMutexGuard, TryLockError, TryLockResult};
pub use semaphore::ShmSemaphore;
pub use seqlock::SeqLock;

#[cfg(target_os = "linux")]
use std::fmt;
#[cfg(target_os = "linux")]
use std::sync::atomic::{AtomicU64, Ordering};

/// A lock was taken, but its previous owner died (or panicked) while holding
/// it, and nobody has declared the data consistent since: the data may be
/// half-updated. The lock is held: [`into_inner`](OwnerDied::into_inner)
/// gives the guard, to inspect and repair the data, then call
/// [`ShmMutexGuard::mark_consistent`]. Like std's `PoisonError`.
///
/// ```
/// use shm_runtime::{ShmMutex, ShmMutexGuard};
///
/// let m = ShmMutex::new(0u32);
/// std::thread::scope(|s| {
///     // A thread that panics while holding the lock leaves it inconsistent
///     // (as would a process that dies holding it).
///     let _ = s
///         .spawn(|| {
///             let _guard = m.lock().unwrap();
///             panic!("in the middle of an update");
///         })
///         .join();
/// });
/// let died = m.lock().unwrap_err();
/// let mut guard = died.into_inner();
/// *guard = 0; // repair
/// ShmMutexGuard::mark_consistent(&mut guard);
/// drop(guard);
/// assert!(m.lock().is_ok());
/// ```
#[cfg(target_os = "linux")]
pub struct OwnerDied<G> {
    guard: G,
}

#[cfg(target_os = "linux")]
impl<G> OwnerDied<G> {
    pub(crate) fn new(guard: G) -> OwnerDied<G> {
        OwnerDied { guard }
    }

    pub(crate) fn map<U>(self, f: impl FnOnce(G) -> U) -> OwnerDied<U> {
        OwnerDied::new(f(self.guard))
    }

    /// The guard (the lock is held).
    ///
    /// ```
    /// let m = shm_runtime::ShmMutex::new(1u8);
    /// let guard = m.lock().unwrap_or_else(|died| died.into_inner());
    /// assert_eq!(*guard, 1);
    /// ```
    pub fn into_inner(self) -> G {
        self.guard
    }

    /// A reference to the guard.
    ///
    /// ```
    /// let m = shm_runtime::ShmMutex::new(1u8);
    /// std::thread::scope(|s| {
    ///     // Panics holding it.
    ///     let _ = s
    ///         .spawn(|| {
    ///             let _guard = m.lock();
    ///             panic!("oops");
    ///         })
    ///         .join();
    /// });
    /// let died = m.lock().unwrap_err();
    /// assert_eq!(**died.get_ref(), 1);
    /// ```
    pub fn get_ref(&self) -> &G {
        &self.guard
    }

    /// A mutable reference to the guard.
    ///
    /// ```
    /// let m = shm_runtime::ShmMutex::new(1u8);
    /// std::thread::scope(|s| {
    ///     // Panics holding it.
    ///     let _ = s
    ///         .spawn(|| {
    ///             let _guard = m.lock();
    ///             panic!("oops");
    ///         })
    ///         .join();
    /// });
    /// let mut died = m.lock().unwrap_err();
    /// **died.get_mut() = 0;
    /// ```
    pub fn get_mut(&mut self) -> &mut G {
        &mut self.guard
    }
}

#[cfg(target_os = "linux")]
impl<G> fmt::Debug for OwnerDied<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnerDied").finish_non_exhaustive()
    }
}

#[cfg(target_os = "linux")]
impl<G> fmt::Display for OwnerDied<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a previous owner of the ShmMutex died or panicked while holding it: \
             the data may be inconsistent",
        )
    }
}

#[cfg(target_os = "linux")]
impl<G> std::error::Error for OwnerDied<G> {}

/// How many times this process's ancestors forked to make it: a guard
/// remembers the generation of the process that locked, so a copy of it in
/// a forked child knows it owns nothing.
#[cfg(target_os = "linux")]
static FORK_GENERATION: AtomicU64 = AtomicU64::new(0);

#[cfg(target_os = "linux")]
extern "C" fn after_fork_in_child() {
    FORK_GENERATION.fetch_add(1, Ordering::Relaxed);
}

/// The fork generation of this process (see [`FORK_GENERATION`]). The fork
/// handler is registered before the first guard exists, so every `fork`
/// that could copy a guard (`fork(2)` through the C library) bumps it.
#[cfg(target_os = "linux")]
#[inline]
pub(crate) fn fork_generation() -> u64 {
    if FORK_HANDLER.load(Ordering::Acquire) != REGISTERED {
        register_fork_handler();
    }
    FORK_GENERATION.load(Ordering::Relaxed)
}

/// 0: no fork handler yet; [`REGISTERED`]; else `pid << 1` of the process
/// registering it. Not a `std::sync::Once`: a child forked (by another
/// thread) while its parent was registering would wait forever for a thread
/// it does not have; here it sees a foreign pid and registers for itself.
#[cfg(target_os = "linux")]
static FORK_HANDLER: AtomicU64 = AtomicU64::new(0);
#[cfg(target_os = "linux")]
const REGISTERED: u64 = 1;

#[cfg(target_os = "linux")]
#[cold]
fn register_fork_handler() {
    // SAFETY: getpid has no preconditions.
    let me = (unsafe { libc::getpid() } as u64) << 1;
    let mut seen = FORK_HANDLER.load(Ordering::Acquire);
    while seen != REGISTERED {
        if seen == me {
            // Another thread of this process is registering it.
            std::thread::yield_now();
            seen = FORK_HANDLER.load(Ordering::Acquire);
            continue;
        }
        match FORK_HANDLER.compare_exchange(seen, me, Ordering::Acquire, Ordering::Acquire) {
            Ok(_) => {
                // SAFETY: registers a handler that only increments an atomic,
                // which is valid in the child of a multi-threaded fork. (A
                // child that takes over from its parent may register it
                // twice: generations then step by two, which is as good.)
                let rc = unsafe { libc::pthread_atfork(None, None, Some(after_fork_in_child)) };
                assert_eq!(rc, 0, "pthread_atfork failed: out of memory");
                FORK_HANDLER.store(REGISTERED, Ordering::Release);
                return;
            }
            Err(now) => seen = now,
        }
    }
}
