//! [`ShmMutex<T>`]: a process-shared mutex guarding a `T`, that detects an
//! owner's death.
//!
//! # The lock word and the owner records
//!
//! The lock word is 64 bits. Its low half (as a number) is the futex word:
//!
//! | bits | |
//! |---|---|
//! | 0..20 | the holder's *token* (0: unlocked) |
//! | 20..31 | the epoch: how many times the lock was taken, modulo 2^11 |
//! | 31 | `WAITERS`: a thread may sleep in the kernel; unlocking wakes one |
//!
//! and its high half is the holder's process id (0 when unlocked). One
//! compare-and-swap takes the lock and names the holder's process at once,
//! so a holder killed at any instruction after it took the lock is found by
//! its pid; one compare-and-swap (expecting the word it wrote) releases it,
//! keeping the epoch. Every Rust access is to the whole `AtomicU64`; the
//! kernel's futex calls read the low half.
//!
//! The token is not an OS thread id: it is a small number unique among the
//! live threads of the holder's process ([`ThreadSlot::token`](crate::process::ThreadSlot::token)), handed on
//! to a later thread only once a thread ends holding no guard (a thread
//! that ends with a leaked guard keeps its token for good). So the word does
//! not depend on how wide the OS's thread ids are (64-bit and system-wide
//! on macOS, from 100000 up on FreeBSD), and (pid, token) names one thread
//! for as long as a lock it took may be held. The OS ids and times live in
//! the records, which only the holder writes, right after it took the lock:
//!
//! * `owner`: the low half of the word it wrote (without `WAITERS`) in the
//!   high 32 bits, its process's start time (0: unknown) in the low ones.
//!   It describes the current holder only when its high half equals the
//!   word's low half (with the epoch, an older record matches only after
//!   2^11 acquisitions none of which recorded itself). It is not cleared on
//!   unlock: a free word (token 0) matches no record.
//! * `owner_thread`: the holder's OS thread id, for diagnostics
//!   ([`probe`]); nothing is judged by it.
//! * `owner_ns`: the PID and time namespaces of every process that locked
//!   the mutex (written *before* taking the lock), which decides whether a
//!   pid and a start time can be judged here.
//!
//! A waiter judges a holder by its process: dead when the pid names no
//! process, a zombie, or a process with another start time than the record
//! says (a recorded holder), all only when every locker ran in the judge's
//! namespaces. A thread is "certainly this thread" when the word carries its
//! token and pid, the namespaces are its own, and the record carries its
//! process's start time (a process with a reused pid has another one).
//!
//! Nothing here needs Linux thread ids: a port supplies a pid, a process
//! start time (or none: then a reused pid is not recognised) and a
//! namespace key.

use super::futex::{self, Deadline, Wake};
use super::OwnerDied;
use crate::error::{Error, ErrorKind, Result};
use crate::layout::{Field, TypeLayout, Validity};
use crate::liveness::{self as owner, registered_fork_generation, Me, Status};
use crate::process::ForkBarrier;
use crate::SharedSafe;
use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::mem::{align_of, offset_of};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// Lock word bits 0..20: the holder's token (0: unlocked).
pub(crate) const TOKEN: u32 = crate::liveness::MAX_TOKEN;
/// Lock word bits 20..31: how many times the lock was taken, modulo 2^11.
/// A compare-and-swap on the whole word therefore fails if the lock was
/// released and taken again meanwhile, even by the same thread.
const EPOCH: u64 = 0x7ff << 20;
const EPOCH_ONE: u64 = 1 << 20;
/// Lock word bit 31: a thread may sleep in the kernel waiting for the lock,
/// and unlocking must wake one.
const WAITERS: u64 = 1 << 31;
/// Lock word bits 32..64: the holder's process id (0: unlocked).
const PID_SHIFT: u32 = 32;
/// `owner_ns` once lockers from several PID namespaces met.
const MIXED_NS: u64 = u64::MAX;
/// The longest a waiter sleeps before it checks whether the holder died.
const MAX_SLICE: Duration = Duration::from_millis(50);
/// The first such sleep.
const FIRST_SLICE: Duration = Duration::from_millis(1);

/// The token of a lock word: 0 when it is free.
#[inline]
fn token_of(word: u64) -> u32 {
    word as u32 & TOKEN
}

/// The process id of a locked word.
#[inline]
fn pid_of(word: u64) -> u32 {
    (word >> PID_SHIFT) as u32
}

/// The futex half of a lock word: what the kernel compares.
#[inline]
fn futex_half(word: u64) -> u32 {
    word as u32
}

/// The result of locking an [`ShmMutex`]: the guard, or the guard wrapped in
/// [`OwnerDied`] when the data may be inconsistent.
pub type LockResult<G> = std::result::Result<G, OwnerDied<G>>;

/// The result of [`ShmMutex::try_lock`].
pub type TryLockResult<G> = std::result::Result<G, TryLockError<G>>;

/// Why [`ShmMutex::try_lock`] did not simply return a guard.
///
/// ```
/// use shm_runtime::ShmMutex;
/// use shm_runtime::sync::TryLockError;
///
/// let m = ShmMutex::new(0u32);
/// let _held = m.lock().unwrap();
/// std::thread::scope(|s| {
///     s.spawn(|| assert!(matches!(m.try_lock(), Err(TryLockError::WouldBlock))));
/// });
/// ```
pub enum TryLockError<G> {
    /// The lock was taken, but its data may be inconsistent; see [`OwnerDied`].
    OwnerDied(OwnerDied<G>),
    /// Another thread or process holds the lock (or this thread does).
    WouldBlock,
}

impl<G> fmt::Debug for TryLockError<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryLockError::OwnerDied(..) => f.write_str("OwnerDied(..)"),
            TryLockError::WouldBlock => f.write_str("WouldBlock"),
        }
    }
}

impl<G> fmt::Display for TryLockError<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            TryLockError::OwnerDied(died) => fmt::Display::fmt(died, f),
            TryLockError::WouldBlock => f.write_str("the ShmMutex is held by someone else"),
        }
    }
}

impl<G> std::error::Error for TryLockError<G> {}

impl<G> From<OwnerDied<G>> for TryLockError<G> {
    fn from(died: OwnerDied<G>) -> TryLockError<G> {
        TryLockError::OwnerDied(died)
    }
}

/// A mutex shared between processes, guarding a `T`, that survives the death
/// of the process holding it.
///
/// It is a futex lock of this crate: one 64-bit word that names its holder
/// (its process id and a per-process thread token), taken and released with
/// one atomic instruction each when uncontended; waiters sleep in the kernel
/// on a shared futex (its low half). Nothing
/// in it is an address: it may be moved, unmapped, overwritten or mapped at
/// different addresses at any time without any code (this crate's, the C
/// library's or the kernel's) ever writing through a stale pointer.
///
/// # When the owner dies
///
/// If a process is killed (even by `SIGKILL`, at any instruction) while it
/// holds the lock, the next [`lock`](ShmMutex::lock) takes the lock and
/// returns `Err(`[`OwnerDied`]`)` holding the guard, like std's
/// `PoisonError`: the data may be half-updated. Inspect and repair it through
/// the guard, then call [`ShmMutexGuard::mark_consistent`]. A thread that
/// panics while it holds the guard has the same effect. Should the repairer
/// forget (or die, or panic), the flag stays set and the next locker is told
/// again: the warning is never lost.
///
/// `lock()?` does not compile in a function that returns
/// `Box<dyn Error>`: the [`OwnerDied`] holds the guard, which borrows the
/// mutex. Three calls compose with `?` instead:
/// [`lock_consistent`](ShmMutex::lock_consistent) (an owner's death is an
/// error of kind [`OwnerDied`](ErrorKind::OwnerDied); the mutex is unlocked
/// and stays marked for whoever repairs it),
/// [`lock_or_repair`](ShmMutex::lock_or_repair) (repairs in the same call)
/// and [`lock_or_repair_timeout`](ShmMutex::lock_or_repair_timeout) (the
/// same, bounded). An `OwnerDied` also converts into an [`Error`] with
/// `Error::from` or `?`.
///
/// A *thread* that ends holding the lock (after `mem::forget(guard)`, or
/// `Box::leak`) while its process lives on keeps it held for good, like a
/// leaked guard of std's `Mutex`: a `&mut T` derived from a leaked guard
/// may still be in use by another thread of that process, and taking the
/// lock over would hand out a second one. [`lock`](ShmMutex::lock) then
/// waits forever and [`lock_timeout`](ShmMutex::lock_timeout) times out;
/// the lock is recovered once that process ends. Likewise a holder that
/// `exec`s another program (its guard is never dropped): the lock is held
/// until the new program ends, as the process lives on.
///
/// ```
/// use shm_runtime::{process, Shared, ShmMutex, ShmMutexGuard};
/// use std::time::Duration;
///
/// let counter = Shared::anonymous(ShmMutex::new(0u64))?;
/// let child = process::fork(|| *counter.lock().unwrap() += 1)?;
/// child.join(Duration::from_secs(10))?;
///
/// let mut guard = match counter.lock() {
///     Ok(guard) => guard,
///     Err(died) => match died.into_inner() {
///         // A previous owner died while holding the lock: repair, then say so.
///         Ok(mut guard) => {
///             ShmMutexGuard::mark_consistent(&mut guard);
///             guard
///         }
///         // Its bytes are not even a `u64` (never, for a type whose every
///         // bit pattern is valid): start again from a new value.
///         Err(torn) => torn.reset(0),
///     },
/// };
/// *guard += 1;
/// assert_eq!(*guard, 2);
/// # Ok::<(), shm_runtime::Error>(())
/// ```
///
/// ## How a death is seen
///
/// Nobody tells the waiters that a holder died (the kernel's robust futex
/// list would, but it keeps process-local pointers in the lock). Instead a
/// waiter that has slept a while (1 ms at first, then up to 50 ms between
/// checks, and once more when its timeout runs out; [`try_lock`](ShmMutex::try_lock)
/// checks at once) asks whether the holder still exists:
///
/// * the holder's process no longer exists (`kill(pid, 0)` fails with
///   `ESRCH`), or it is a zombie as a whole (state `Z` in
///   `/proc/<pid>/stat` and no other thread in `/proc/<pid>/task`: a killed
///   process its parent has not reaped yet; a main thread that ended while
///   others run does not count), or
/// * the pid exists but the process has another start time than the one
///   the holder recorded (field 22 of `/proc/<pid>/stat`): the kernel
///   reused the pid for a new process.
///
/// Then the waiter takes the lock over with one compare-and-swap on the whole
/// lock word (exactly one waiter wins; the word also counts acquisitions, so
/// the swap fails if the lock changed hands meanwhile).
///
/// Process ids mean something in one PID namespace only (two containers
/// have processes with the same ids), and start times are counted from the
/// boot time of a *time* namespace. So the mutex records the PID and time
/// namespaces of every process that locks it, and a holder is judged only
/// when all of them ran in the judge's namespaces (start times are compared
/// only when the time namespace is known: before Linux 5.6, a reused pid
/// is not recognised). **Once processes of two PID (or time) namespaces
/// have used a mutex, a dead holder is never detected**: its lock stays
/// held, [`lock`](ShmMutex::lock) waits forever and
/// [`lock_timeout`](ShmMutex::lock_timeout) times out. Taking over a live
/// holder in another container would be far worse.
///
/// A holder that recorded no start time (its process has no usable
/// `/proc`), or has not recorded itself yet (it was killed within the few
/// instructions between taking the lock and recording itself), is judged
/// by its pid alone (the lock word names it): if the pid is reused before
/// anyone notices the death, the lock stays held until that new process
/// ends.
///
/// # Zeroed memory and moves
///
/// All-zero bytes are an unlocked, consistent mutex (around an all-zero
/// `T`), and nothing is initialised lazily: an `ShmMutex` may be a field of
/// a struct created by [`Shared::anonymous_zeroed`](crate::Shared::anonymous_zeroed)
/// or in a zero-filled file, and [`new`](ShmMutex::new) is a `const fn`. It
/// holds no address, so it may be moved like any value (a locked one cannot
/// be: its guard borrows it).
///
/// # Threads, `fork` and the guard
///
/// Only the thread that locked may unlock, so [`ShmMutexGuard`] is not
/// `Send`. Locking twice from one thread panics in [`lock`](ShmMutex::lock)
/// (instead of deadlocking), is [`WouldBlock`](TryLockError::WouldBlock) for
/// [`try_lock`](ShmMutex::try_lock) and an error of kind
/// [`WouldDeadlock`](ErrorKind::WouldDeadlock) for
/// [`lock_timeout`](ShmMutex::lock_timeout); this is detected only when it
/// is certain: every user of the mutex ran in one PID namespace, and this
/// process knows its start time from `/proc` (else it cannot tell itself
/// from a dead process that had its pid: `lock` deadlocks and
/// `lock_timeout` times out). A process cannot fork while any of its threads
/// holds a guard ([`ForkWhileLocked`](ErrorKind::ForkWhileLocked)); should a guard
/// be copied into a child anyway, that copy is dead: using it panics, and
/// dropping it does nothing.
///
/// # Platform
///
/// Linux: process ids, shared futexes and `/proc` (without `/proc`, only
/// processes that no longer exist are recognised as dead holders). The lock
/// word holds no OS thread id, so it does not depend on their width.
#[repr(C)]
pub struct ShmMutex<T> {
    /// 0: unlocked, never used. Else the holder's process id (high half)
    /// and `WAITERS | epoch | token` (low half, the futex word); unlocking
    /// keeps only the epoch. See the [module documentation](self).
    lock: AtomicU64,
    /// 1 when a previous owner died (or panicked) and nobody has called
    /// `mark_consistent` since. Read and written with the lock held.
    inconsistent: AtomicU32,
    /// Always 0 (room for a later protocol's flags).
    reserved: AtomicU32,
    /// The holder's record, written by the holder right after it takes the
    /// lock: the low half of the lock word it wrote (without `WAITERS`) in
    /// the high half, its process's start time (0: unknown) in the low
    /// half. Only a record whose high half equals the current word's low
    /// half describes the current holder; it is not cleared on unlock.
    owner: AtomicU64,
    /// The holder's OS thread id, written just before `owner`: diagnostics
    /// only (it may lag behind a lock that just changed hands).
    owner_thread: AtomicU64,
    /// The PID and time namespaces ([`owner::namespace_key`]) of every
    /// thread that locked the mutex (0: none yet; `MIXED_NS`: more than
    /// one), which decides whether a holder's pid and start time can be
    /// judged.
    owner_ns: AtomicU64,
    value: UnsafeCell<T>,
}

// SAFETY: (1) no process-local address: a lock word (a process id, a thread
// token, an acquisition count and flags), process ids, thread ids, start
// times and namespace inodes, which are the same numbers in every process,
// and `T: SharedSafe`. (2) `repr(C)` over atomics and `T`, no padding
// before `value`. (3) no drop glue (`T` has none). (4) every mutation
// through `&Self` is atomic (the futex calls are shared, not private), or an
// access to `value` while the lock is held. (5) the fingerprint names this
// lock's protocol and includes `T`'s.
unsafe impl<T: SharedSafe> SharedSafe for ShmMutex<T> {
    const LAYOUT: &'static TypeLayout = &TypeLayout::library::<Self>(
        "ShmMutex",
        "ShmMutex futex v5",
        &[],
        &[
            Field::plain("lock", offset_of!(Self, lock), AtomicU64::LAYOUT),
            Field::plain(
                "inconsistent",
                offset_of!(Self, inconsistent),
                AtomicU32::LAYOUT,
            ),
            Field::plain("reserved", offset_of!(Self, reserved), AtomicU32::LAYOUT),
            Field::plain("owner", offset_of!(Self, owner), AtomicU64::LAYOUT),
            Field::plain(
                "owner_thread",
                offset_of!(Self, owner_thread),
                AtomicU64::LAYOUT,
            ),
            Field::plain("owner_ns", offset_of!(Self, owner_ns), AtomicU64::LAYOUT),
            // Written by the holder while others open the segment: checked
            // when the lock is taken after an owner's death.
            Field::protected("value", offset_of!(Self, value), T::LAYOUT),
        ],
        Validity::Fields,
    );
}

// SAFETY: all-zero bytes are an unlocked mutex nobody used yet (no holder,
// no record, consistent) around an all-zero `T`, valid since `T: Zeroable`.
unsafe impl<T: SharedSafe + bytemuck::Zeroable> bytemuck::Zeroable for ShmMutex<T> {}

// SAFETY: like `std::sync::Mutex`: the lock hands `&mut T` to one thread at
// a time, so sharing the mutex moves `T` between threads (`T: Send`).
unsafe impl<T: Send> Sync for ShmMutex<T> {}
// SAFETY: moving the mutex moves the `T`; the lock holds no address.
unsafe impl<T: Send> Send for ShmMutex<T> {}

// A panic while holding the guard marks the mutex inconsistent (like std's
// poisoning), so observing the value after a panic is always flagged.
impl<T> std::panic::RefUnwindSafe for ShmMutex<T> {}
impl<T> std::panic::UnwindSafe for ShmMutex<T> {}

/// How long [`ShmMutex::acquire`] may wait.
#[derive(Clone, Copy)]
enum Wait<'d> {
    /// Not at all (`try_lock`).
    No,
    /// Until the deadline (`lock_timeout`).
    Until(&'d Deadline),
    /// As long as it takes (`lock`).
    Forever,
    /// As long as it takes, and never [`Busy::ByMe`]: the condition
    /// variable re-locking a mutex this thread just released.
    Relock,
}

/// Why [`ShmMutex::acquire`] did not take the lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Busy {
    /// Held by a live (or unjudgeable) thread until the deadline.
    Held,
    /// Held by this very thread.
    ByMe,
}

impl<T: SharedSafe> ShmMutex<T> {
    /// A new unlocked mutex around `value`. It holds no address, so it may
    /// be moved into shared memory afterwards.
    ///
    /// ```
    /// use shm_runtime::{Shared, ShmMutex};
    /// let m = Shared::anonymous(ShmMutex::new([0u8; 16]))?;
    /// m.lock().unwrap()[3] = 1;
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub const fn new(value: T) -> ShmMutex<T> {
        ShmMutex {
            lock: AtomicU64::new(0),
            inconsistent: AtomicU32::new(0),
            reserved: AtomicU32::new(0),
            owner: AtomicU64::new(0),
            owner_thread: AtomicU64::new(0),
            owner_ns: AtomicU64::new(0),
            value: UnsafeCell::new(value),
        }
    }

    /// Locks the mutex, waiting as long as it takes. `Err(OwnerDied)` still
    /// holds the lock: see [When the owner dies](ShmMutex#when-the-owner-dies).
    ///
    /// # Panics
    /// If this thread certainly holds the lock already (a deadlock
    /// otherwise). Where that cannot be told for certain (processes of
    /// several PID or time namespaces used the mutex, or this process has no
    /// start time from `/proc`), it deadlocks instead;
    /// [`lock_timeout`](ShmMutex::lock_timeout) never panics.
    ///
    /// ```
    /// let m = shm_runtime::ShmMutex::new(1i32);
    /// *m.lock().unwrap() += 1;
    /// assert_eq!(*m.lock().unwrap(), 2);
    /// ```
    #[inline(always)]
    pub fn lock(&self) -> LockResult<ShmMutexGuard<'_, T>> {
        match self.acquire(Wait::Forever) {
            Ok(taken) => self.guard(taken),
            Err(Busy::ByMe) => panic!(
                "ShmMutex: this thread holds the lock already (locking again would deadlock)"
            ),
            Err(Busy::Held) => unreachable!("a lock without a deadline waits until it is taken"),
        }
    }

    /// Locks the mutex if nobody holds it, without waiting. A holder is
    /// checked for death at once (a system call or two when the lock is
    /// held): a dead holder's lock is taken over, with `OwnerDied`.
    ///
    /// ```
    /// let m = shm_runtime::ShmMutex::new(());
    /// let guard = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_err()); // held by this thread
    /// drop(guard);
    /// assert!(m.try_lock().is_ok());
    /// ```
    #[inline(always)]
    pub fn try_lock(&self) -> TryLockResult<ShmMutexGuard<'_, T>> {
        match self.acquire(Wait::No) {
            Ok(taken) => self.guard(taken).map_err(TryLockError::OwnerDied),
            Err(_) => Err(TryLockError::WouldBlock),
        }
    }

    /// Locks the mutex, waiting at most `timeout` (measured on
    /// `CLOCK_MONOTONIC`). Still held after `timeout`: an error of kind
    /// [`TimedOut`](ErrorKind::TimedOut). Held by this very thread: an error
    /// of kind [`WouldDeadlock`](ErrorKind::WouldDeadlock) at once (where
    /// that can be told: see [Threads](ShmMutex#threads-fork-and-the-guard);
    /// else `TimedOut`). In a mapping that another process truncated (see
    /// [`crate::sigbus`]): [`Truncated`](ErrorKind::Truncated), since the
    /// mutex no longer excludes anyone but this process's threads (`lock`
    /// and `try_lock` cannot say so: they lock that private memory). Never
    /// panics.
    ///
    /// ```
    /// use shm_runtime::{ErrorKind, ShmMutex};
    /// use std::time::Duration;
    ///
    /// let m = ShmMutex::new(0u8);
    /// let held = m.lock().unwrap();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         let err = m.lock_timeout(Duration::from_millis(10)).unwrap_err();
    ///         assert_eq!(err.kind(), ErrorKind::TimedOut);
    ///     });
    /// });
    /// let err = m.lock_timeout(Duration::from_secs(60)).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::WouldDeadlock);
    /// # drop(held);
    /// ```
    pub fn lock_timeout(&self, timeout: Duration) -> Result<LockResult<ShmMutexGuard<'_, T>>> {
        crate::sigbus::check_at(self, "locking an ShmMutex")?;
        let deadline = Deadline::after(timeout);
        match self.acquire(Wait::Until(&deadline)) {
            Ok(word) => Ok(self.guard(word)),
            Err(Busy::Held) => Err(Error::new(
                ErrorKind::TimedOut,
                format!(
                    "locking an ShmMutex: still held by another thread or process after \
                     {timeout:?}"
                ),
            )),
            Err(Busy::ByMe) => Err(Error::new(
                ErrorKind::WouldDeadlock,
                "locking an ShmMutex: this thread holds it already",
            )),
        }
    }

    /// Locks the mutex; if a previous owner died (or panicked) holding it,
    /// first runs `repair` on the value and marks it consistent. The common
    /// recovery in one call. Should the value not even be a valid `T` (a
    /// process killed between the stores of a wide value), it is replaced by
    /// `reset()` instead: see [`TornValue`](crate::sync::TornValue).
    ///
    /// # Panics
    /// As [`lock`](ShmMutex::lock).
    ///
    /// ```
    /// use shm_runtime::{process, Shared, ShmMutex};
    /// use std::time::Duration;
    ///
    /// #[derive(shm_runtime::SharedSafe, Default)]
    /// #[repr(C)]
    /// struct Ledger { debits: u64, credits: u64 }
    ///
    /// let ledger = Shared::anonymous(ShmMutex::new(Ledger::default()))?;
    /// // A child dies in the middle of an update, holding the lock.
    /// let child = process::fork(|| {
    ///     let mut l = ledger.lock().unwrap();
    ///     l.debits += 10;
    ///     // SAFETY: ends the child at once, as a crash would: no credit.
    ///     unsafe { libc::_exit(9) }
    /// })?;
    /// let _ = child.join(Duration::from_secs(10));
    ///
    /// let l = ledger.lock_or_repair(|l| l.debits = l.credits, Ledger::default);
    /// assert_eq!((l.debits, l.credits), (0, 0));
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn lock_or_repair(
        &self,
        repair: impl FnOnce(&mut T),
        reset: impl FnOnce() -> T,
    ) -> ShmMutexGuard<'_, T> {
        match self.lock() {
            Ok(guard) => guard,
            Err(died) => died.into_repaired(repair, reset),
        }
    }

    /// Locks the mutex like [`lock`](ShmMutex::lock), as a plain
    /// [`Result`](crate::Result) that composes with `?` in any function
    /// (also one returning `Box<dyn Error>`, which `lock()?` cannot: its
    /// [`OwnerDied`] holds the guard, which borrows the mutex).
    ///
    /// * The data is consistent: the guard.
    /// * A previous owner died or panicked holding the lock: an error of
    ///   kind [`OwnerDied`](ErrorKind::OwnerDied). The lock is released
    ///   again and the mutex **stays marked inconsistent**, so nothing is
    ///   lost: the next [`lock`](ShmMutex::lock) (in this process or
    ///   another) still gets `Err(OwnerDied)`, and
    ///   [`lock_or_repair`](ShmMutex::lock_or_repair) still repairs.
    ///   To repair in the same call instead, use `lock_or_repair` or
    ///   [`lock_or_repair_timeout`](ShmMutex::lock_or_repair_timeout).
    /// * This thread holds the lock already: an error of kind
    ///   [`WouldDeadlock`](ErrorKind::WouldDeadlock) instead of `lock`'s
    ///   panic (where that can be told: see
    ///   [Threads](ShmMutex#threads-fork-and-the-guard); else it deadlocks,
    ///   as `lock` does).
    ///
    /// Otherwise it waits as `lock` does, as long as it takes. The other
    /// lock calls convert too: an [`OwnerDied`] becomes this error with
    /// `Error::from` (or `?` in a function returning
    /// [`shm_runtime::Result`](crate::Result)), e.g.
    /// `m.lock_timeout(t)?.map_err(shm_runtime::Error::from)?`.
    ///
    /// ```
    /// use shm_runtime::{ErrorKind, Shared, ShmMutex};
    ///
    /// fn add(total: &ShmMutex<u64>, n: u64) -> Result<u64, Box<dyn std::error::Error>> {
    ///     let mut guard = total.lock_consistent()?;
    ///     *guard += n;
    ///     Ok(*guard)
    /// }
    ///
    /// let total = Shared::anonymous(ShmMutex::new(1u64))?;
    /// assert_eq!(add(&total, 2)?, 3);
    ///
    /// // A holder that panics leaves the data inconsistent: an error, and
    /// // the mark stays for whoever repairs it.
    /// std::thread::scope(|s| {
    ///     let _ = s.spawn(|| { let _g = total.lock(); panic!("mid-update") }).join();
    /// });
    /// let err = total.lock_consistent().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::OwnerDied);
    /// assert!(total.lock().is_err());
    /// let repaired = total.lock_or_repair(|v| *v = 0, || 0);
    /// assert_eq!(*repaired, 0);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn lock_consistent(&self) -> Result<ShmMutexGuard<'_, T>> {
        match self.acquire(Wait::Forever) {
            Ok(taken) => Ok(self.guard(taken)?),
            Err(Busy::ByMe) => Err(Error::new(
                ErrorKind::WouldDeadlock,
                "locking an ShmMutex: this thread holds it already",
            )),
            Err(Busy::Held) => unreachable!("a lock without a deadline waits until it is taken"),
        }
    }

    /// [`lock_or_repair`](ShmMutex::lock_or_repair), waiting at most
    /// `timeout`: the guard, with the value repaired (or reset, when it is
    /// torn) if a previous owner died or panicked. Fails as
    /// [`lock_timeout`](ShmMutex::lock_timeout) does, and runs neither
    /// closure then: [`TimedOut`](ErrorKind::TimedOut) when the lock is
    /// still held after `timeout`, [`WouldDeadlock`](ErrorKind::WouldDeadlock)
    /// when this thread holds it, [`Truncated`](ErrorKind::Truncated) in a
    /// mapping another process truncated. Never panics (unless a closure
    /// does).
    ///
    /// ```
    /// use shm_runtime::{ErrorKind, ShmMutex};
    /// use std::time::Duration;
    ///
    /// let m = ShmMutex::new(7u32);
    /// let guard = m.lock_or_repair_timeout(Duration::from_secs(1), |v| *v = 0, || 0)?;
    /// assert_eq!(*guard, 7);
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         let err = m
    ///             .lock_or_repair_timeout(Duration::from_millis(10), |v| *v = 0, || 0)
    ///             .unwrap_err();
    ///         assert_eq!(err.kind(), ErrorKind::TimedOut);
    ///     });
    /// });
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn lock_or_repair_timeout(
        &self,
        timeout: Duration,
        repair: impl FnOnce(&mut T),
        reset: impl FnOnce() -> T,
    ) -> Result<ShmMutexGuard<'_, T>> {
        Ok(match self.lock_timeout(timeout)? {
            Ok(guard) => guard,
            Err(died) => died.into_repaired(repair, reset),
        })
    }

    /// Whether a previous owner died or panicked and nobody has called
    /// [`ShmMutexGuard::mark_consistent`] since. Another process may change
    /// it at any moment, and a holder that died is only noticed by the next
    /// locker; `lock` gives the reliable answer.
    ///
    /// ```
    /// let m = shm_runtime::ShmMutex::new(0u8);
    /// assert!(!m.is_inconsistent());
    /// ```
    pub fn is_inconsistent(&self) -> bool {
        self.inconsistent.load(Ordering::Relaxed) != 0
    }

    /// The value, through exclusive access (no locking needed).
    ///
    /// ```
    /// let mut m = shm_runtime::ShmMutex::new(1u8);
    /// *m.get_mut() = 2;
    /// assert_eq!(m.into_inner(), 2);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// The value, taken out of the mutex.
    ///
    /// ```
    /// let m = shm_runtime::ShmMutex::new([1u8, 2]);
    /// assert_eq!(m.into_inner(), [1, 2]);
    /// ```
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }

    /// The guard for the lock thread `me` just took, writing `word`.
    #[inline(always)]
    fn guard(&self, (word, me): (u64, Me)) -> LockResult<ShmMutexGuard<'_, T>> {
        let guard = ShmMutexGuard {
            mutex: self,
            word: word & !WAITERS,
            generation: me.generation,
            _no_fork: ForkBarrier::on(me.slot),
            not_send: PhantomData,
        };
        if self.inconsistent.load(Ordering::Relaxed) == 0 {
            return Ok(guard);
        }
        Self::died(guard)
    }

    /// A previous owner died or panicked. A panic leaves a valid value
    /// (safe code cannot break validity); a process killed between two
    /// stores of a wide value can leave bytes that are no `T` at all: check
    /// them before any reference to them exists.
    #[cold]
    fn died(guard: ShmMutexGuard<'_, T>) -> LockResult<ShmMutexGuard<'_, T>> {
        // SAFETY: the value is inside the mutex, aligned; this thread holds
        // the lock, so nobody writes it during the check.
        match unsafe { crate::layout::check_value(guard.mutex.value.get()) } {
            Ok(()) => Err(OwnerDied::new(guard)),
            Err(invalid) => Err(OwnerDied::torn(guard, invalid)),
        }
    }

    /// Takes the lock; returns the word written, and who wrote it.
    #[inline(always)]
    fn acquire(&self, wait: Wait<'_>) -> std::result::Result<(u64, Me), Busy> {
        let me = owner::me();
        self.record_namespace(me.ns);
        let word = self.lock.load(Ordering::Relaxed);
        if token_of(word) == 0 {
            let mine = next(word, me, 0);
            // `AcqRel`: acquire the last holder's writes; release our
            // namespace record to whoever judges our pid.
            if self
                .lock
                .compare_exchange(word, mine, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                self.record_owner(mine, me);
                return Ok((mine, me));
            }
        }
        self.acquire_slow(me, wait).map(|word| (word, me))
    }

    #[cold]
    #[inline(never)]
    fn acquire_slow(&self, me: Me, wait: Wait<'_>) -> std::result::Result<u64, Busy> {
        // Once this thread has slept, other waiters may sleep too: whoever
        // takes the lock after a sleep keeps `WAITERS`, so that its unlock
        // wakes the next one (a spurious wake-up at worst).
        let mut waiters = 0;
        let mut slice = FIRST_SLICE;
        let mut check = false;
        // The word as last seen (every failed compare-and-swap tells it),
        // or a guess: `None` means "load it".
        let mut seen = None;
        loop {
            let word = match seen.take() {
                Some(word) => word,
                None => self.lock.load(Ordering::Acquire),
            };
            if token_of(word) == 0 {
                let mine = next(word, me, waiters);
                match self
                    .lock
                    .compare_exchange(word, mine, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => {
                        self.record_owner(mine, me);
                        return Ok(mine);
                    }
                    Err(now) => {
                        seen = Some(now);
                        continue;
                    }
                }
            }
            // The records are read only when the word names this thread:
            // waiters leave the line to the holder.
            if !matches!(wait, Wait::Relock) && names(word, me) && self.held_by(word, me) {
                return Err(Busy::ByMe);
            }
            let expired = match wait {
                Wait::No => true,
                Wait::Until(deadline) => deadline.passed(),
                Wait::Forever | Wait::Relock => false,
            };
            if check || expired {
                let seen = self.owner.load(Ordering::Acquire);
                if holder_alive(word, seen, self.owner_ns.load(Ordering::Acquire), me)
                    == Some(false)
                {
                    if let Some(mine) = self.take_over(word, seen, me) {
                        return Ok(mine);
                    }
                    continue;
                }
            }
            if expired {
                if waiters != 0 {
                    self.pass_on_wake();
                }
                return Err(Busy::Held);
            }
            check = false;
            // No spinning: a waiter that keeps reading the word pulls its
            // cache line away from the holder in the middle of its critical
            // section (glibc's waiters also go straight to sleep).
            if word & WAITERS == 0
                && self
                    .lock
                    .compare_exchange(word, word | WAITERS, Ordering::Relaxed, Ordering::Relaxed)
                    .is_err()
            {
                continue;
            }
            waiters = WAITERS;
            let sleep = match wait {
                Wait::Until(deadline) => slice.min(deadline.remaining()),
                _ => slice,
            };
            let expected = futex_half(word | WAITERS);
            if futex::wait_low(&self.lock, expected, Some(&Deadline::after(sleep)))
                == Wake::TimedOut
            {
                // Held all along: is the holder still alive?
                check = true;
                slice = (slice * 2).min(MAX_SLICE);
            } else {
                // Most likely woken by the unlock, which left the epoch
                // alone: try the free word at once (a wrong guess only
                // fails, and tells the word), instead of loading the line
                // and then taking it for writing.
                seen = Some(word & EPOCH);
            }
        }
    }

    /// This thread slept on the lock and gives up (its time ran out): it
    /// may have been woken by an unlock whose lock another thread took
    /// first, without `WAITERS`. Other sleepers must not depend on the wake
    /// it swallowed: make sure the next unlock wakes one, or wake one now.
    #[cold]
    fn pass_on_wake(&self) {
        let now = self.lock.load(Ordering::Relaxed);
        if now & WAITERS != 0 {
            return;
        }
        if token_of(now) == 0
            || self
                .lock
                .compare_exchange(now, now | WAITERS, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            futex::wake_low(&self.lock, 1);
        }
    }

    /// Takes the lock from a holder judged dead, whose word was `word` and
    /// record `seen`: `None` if the lock changed hands meanwhile.
    fn take_over(&self, mut word: u64, seen: u64, me: Me) -> Option<u64> {
        loop {
            // The judgement holds only for the holder it judged: the record
            // must be the one it read, right before the swap (with the
            // epoch in the word, a new holder with the same word would also
            // have to write the same record).
            if self.owner.load(Ordering::Acquire) != seen {
                return None;
            }
            // Keep `WAITERS`: others may sleep on the dead holder's lock.
            let mine = next(word, me, WAITERS);
            match self
                .lock
                .compare_exchange(word, mine, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    // Dying right here is fine: we hold the lock, and the
                    // next locker judges us dead in turn.
                    self.inconsistent.store(1, Ordering::Relaxed);
                    self.record_owner(mine, me);
                    return Some(mine);
                }
                // Only `WAITERS` changed: the same dead holder.
                Err(now) if now & !WAITERS == word & !WAITERS => word = now,
                Err(_) => return None,
            }
        }
    }

    /// Records this thread as the holder of `word`, which it just wrote.
    #[inline]
    fn record_owner(&self, word: u64, me: Me) {
        self.owner_thread.store(me.tid, Ordering::Relaxed);
        self.owner
            .store(record(word, me.process_start), Ordering::Release);
    }

    /// Whether `word` (locked) certainly names this very thread.
    fn held_by(&self, word: u64, me: Me) -> bool {
        held_by(
            word,
            self.owner.load(Ordering::Acquire),
            self.owner_ns.load(Ordering::Acquire),
            me,
        )
    }

    /// Locks again a mutex this thread just released (the condition
    /// variable): waits as long as it takes, never panics.
    pub(super) fn relock(&self) -> LockResult<ShmMutexGuard<'_, T>> {
        match self.acquire(Wait::Relock) {
            Ok(taken) => self.guard(taken),
            Err(_) => unreachable!("a relock waits until the lock is taken"),
        }
    }

    /// Records this thread's namespaces `mine` before it takes the lock:
    /// whoever judges its pid must see them.
    #[inline]
    fn record_namespace(&self, mine: u64) {
        let seen = self.owner_ns.load(Ordering::Relaxed);
        if seen == mine || seen == MIXED_NS {
            return;
        }
        self.record_new_namespace(mine);
    }

    #[cold]
    fn record_new_namespace(&self, mine: u64) {
        match self
            .owner_ns
            .compare_exchange(0, mine, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {}
            Err(seen) if seen == mine || seen == MIXED_NS => {}
            Err(_) => self.owner_ns.store(MIXED_NS, Ordering::Release),
        }
    }
}

/// The word thread `me` writes to take the lock that held `word`: the next
/// epoch, its pid and token, and `waiters`.
#[inline]
fn next(word: u64, me: Me, waiters: u64) -> u64 {
    (word.wrapping_add(EPOCH_ONE) & EPOCH) | me.ids() | waiters
}

/// Whether a locked `word` carries this thread's pid and token (which is
/// not yet certain to be this thread: see [`held_by`]).
#[inline]
fn names(word: u64, me: Me) -> bool {
    word & !(WAITERS | EPOCH) == me.ids()
}

/// A holder's record (see `ShmMutex::owner`).
fn record(word: u64, start: u32) -> u64 {
    (u64::from(futex_half(word & !WAITERS)) << 32) | u64::from(start)
}

/// The start time in the record `owner` if it describes the holder that
/// wrote the locked `word` (0: unknown); `None` if it describes another.
fn recorded_start(word: u64, owner: u64) -> Option<u32> {
    (owner >> 32 == u64::from(futex_half(word & !WAITERS))).then_some(owner as u32)
}

/// Whether the lock word `word`, with the holder record `owner` and the
/// namespace record `owner_ns`, certainly names this very thread: same
/// namespaces, same pid and token, and the record carries this process's
/// start time (a process that had this pid before has another one; without
/// a start time of its own, a process cannot tell itself from it: then it
/// is not sure, and says no). Tokens tell the threads of one process apart
/// and are never reused while a guard of their thread may live.
fn held_by(word: u64, owner: u64, owner_ns: u64, me: Me) -> bool {
    names(word, me)
        && owner_ns == me.ns
        && me.process_start != 0
        && recorded_start(word, owner) == Some(me.process_start)
}

/// Whether the holder named by a locked `word` (with the record `owner`
/// and `owner_ns`) is alive: `None` when it cannot be judged from here
/// (free, or another PID or time namespace used the lock). Makes a system
/// call or a few: `kill(pid, 0)`, and reads of `/proc/<pid>`.
///
/// A holder is judged by its *process*: it is dead only once its process is
/// gone, a zombie as a whole, or its pid names another process (another
/// start time). A thread that ended holding the lock in a process that
/// lives on holds it forever, like a leaked guard of std's `Mutex`: a
/// reference derived from its guard may still be in use by another thread.
fn holder_alive(word: u64, owner: u64, owner_ns: u64, me: Me) -> Option<bool> {
    if token_of(word) == 0 || owner_ns != me.ns {
        return None;
    }
    let pid = pid_of(word);
    // No record of this acquisition yet: the holder took the lock with its
    // compare-and-swap and has not written its record (the next few
    // instructions, with no way out in between: no call that could unwind
    // or end the thread). The word names its process: judged by its pid
    // alone.
    let start = recorded_start(word, owner).unwrap_or(0);
    // `/proc` is only consulted when it names this process's threads as
    // `gettid` does; start times are only compared when both were read in
    // one time namespace (equal `owner_ns`, known).
    Some(match owner::status(pid, me.proc_ok) {
        Status::Gone | Status::Zombie => false,
        Status::Alive(Some(now)) => !me.starts_comparable || start == 0 || now == start,
        Status::Alive(None) => true,
    })
}

/// How many bytes of an [`ShmMutex`] [`probe`] reads: everything but the value.
pub(crate) const PROBE_LEN: usize = offset_of!(ShmMutex<()>, value);

/// Every `ShmMutex<T>` lies at a multiple of this alignment.
pub(crate) const PROBE_ALIGN: usize = align_of::<ShmMutex<()>>();

/// What [`probe`] read from bytes that look like an `ShmMutex` in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Probed {
    /// The OS thread id the holder recorded (low 32 bits), 0 when the lock
    /// is free or its holder has not recorded itself.
    pub(crate) holder_tid: u32,
    /// Whether the holder is alive, judged from this thread: `None` when the
    /// lock is free or cannot be judged (another PID namespace used it).
    pub(crate) holder_alive: Option<bool>,
    /// A previous owner died or panicked and nobody has called
    /// `mark_consistent` since.
    pub(crate) inconsistent: bool,
}

/// Reads `bytes` (at least [`PROBE_LEN`], copied from where an `ShmMutex`
/// may lie) and, if they look like an `ShmMutex` that was used, returns
/// what they say. The signature: the namespace record is this process's
/// namespaces, "several", or 32-bit values in the range the kernel gives
/// namespace inodes (from `0xEFFFFFF0`); the flag is 0 or 1 and the
/// reserved word 0; a free lock word has no waiter bit and no pid, a locked
/// one a pid; the holder record is empty, or names the locked word, or (a
/// free word keeps it) the last holder's acquisition of this epoch. A
/// heuristic: other data could match by chance, and a mutex never locked
/// (all zero) is not found.
pub(crate) fn probe(bytes: &[u8]) -> Option<Probed> {
    let bytes = bytes.get(..PROBE_LEN)?;
    let u32_at = |o: usize| u32::from_ne_bytes(bytes[o..o + 4].try_into().expect("4 bytes"));
    let u64_at = |o: usize| u64::from_ne_bytes(bytes[o..o + 8].try_into().expect("8 bytes"));
    let word = u64_at(offset_of!(ShmMutex<()>, lock));
    let inconsistent = u32_at(offset_of!(ShmMutex<()>, inconsistent));
    let reserved = u32_at(offset_of!(ShmMutex<()>, reserved));
    let owner = u64_at(offset_of!(ShmMutex<()>, owner));
    let thread = u64_at(offset_of!(ShmMutex<()>, owner_thread));
    let owner_ns = u64_at(offset_of!(ShmMutex<()>, owner_ns));
    let me = owner::me();
    // Namespace inodes are 32-bit numbers from `0xEFFFFFF0` up; the time
    // namespace's (high half) is 0 when unknown.
    let inode_like = |n: u64| (0xEFFF_FFF0..=0xFFFF_FFFF).contains(&n);
    let ns_like = owner_ns == me.ns
        || owner_ns == MIXED_NS
        || (inode_like(owner_ns & 0xFFFF_FFFF)
            && (owner_ns >> 32 == 0 || inode_like(owner_ns >> 32)));
    let free = token_of(word) == 0;
    let word_like = if free {
        word & !EPOCH == 0
    } else {
        pid_of(word) != 0
    };
    let recorded = !free && recorded_start(word, owner).is_some();
    let owner_tie = (owner >> 32) as u32;
    let owner_like = owner == 0
        || recorded
        || (!free && thread == 0)
        || (free && owner_tie & TOKEN != 0 && u64::from(owner_tie) & EPOCH == word & EPOCH);
    if !ns_like || inconsistent > 1 || reserved != 0 || !word_like || !owner_like {
        return None;
    }
    Some(Probed {
        holder_tid: if recorded { thread as u32 } else { 0 },
        holder_alive: holder_alive(word, owner, owner_ns, me),
        inconsistent: inconsistent == 1,
    })
}

impl<T: SharedSafe + Default> Default for ShmMutex<T> {
    fn default() -> ShmMutex<T> {
        ShmMutex::new(T::default())
    }
}

impl<T> fmt::Debug for ShmMutex<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShmMutex")
            .field(
                "inconsistent",
                &(self.inconsistent.load(Ordering::Relaxed) != 0),
            )
            .finish_non_exhaustive()
    }
}

/// Proof that this thread holds an [`ShmMutex`]: dereferences to the value
/// and unlocks when dropped. Not `Send`: only the locking thread may unlock.
///
/// ```
/// let m = shm_runtime::ShmMutex::new([0u32; 4]);
/// let mut guard = m.lock().unwrap();
/// guard[0] = 7;
/// drop(guard); // unlocks
/// ```
#[must_use = "the lock is released as soon as the guard is dropped"]
pub struct ShmMutexGuard<'a, T: SharedSafe> {
    pub(super) mutex: &'a ShmMutex<T>,
    /// The lock word this thread wrote, without `WAITERS`.
    word: u64,
    /// The fork generation of the process that locked: a copy of the guard
    /// in a forked child does not own the lock.
    generation: u64,
    /// No fork while the lock is held: see [`crate::process`]. Counted on
    /// this thread's slot, whose token the lock word carries.
    _no_fork: ForkBarrier,
    not_send: PhantomData<*const ()>,
}

// SAFETY: `&ShmMutexGuard` gives only `&T`, so sharing it is sharing `&T`.
unsafe impl<T: SharedSafe + Sync> Sync for ShmMutexGuard<'_, T> {}

impl<'a, T: SharedSafe> ShmMutexGuard<'a, T> {
    /// Declares the data consistent again after an [`OwnerDied`]: later
    /// lockers get a plain guard. An associated function (not a method), so
    /// that it never shadows a method of `T`.
    ///
    /// ```
    /// use shm_runtime::{ShmMutex, ShmMutexGuard};
    /// let m = ShmMutex::new(0u32);
    /// let mut guard = m.lock().unwrap_or_else(|died| died.into_inner().unwrap());
    /// ShmMutexGuard::mark_consistent(&mut guard); // harmless when consistent
    /// ```
    pub fn mark_consistent(this: &mut Self) {
        this.check_process();
        this.mutex.inconsistent.store(0, Ordering::Relaxed);
    }

    /// The value, for this guard's holder (no reference is made).
    pub(super) fn value_ptr(&self) -> *mut T {
        self.check_process();
        self.mutex.value.get()
    }

    /// Whether this guard was made in this process (not copied into a
    /// forked child). The fork handler that counts generations was
    /// registered before the guard was made (by `owner::me`).
    #[inline]
    fn in_its_process(&self) -> bool {
        self.generation == registered_fork_generation()
    }

    /// Panics if this guard was copied into a forked child.
    #[inline]
    pub(super) fn check_process(&self) {
        if !self.in_its_process() {
            copied_guard();
        }
    }

    /// Unlocks without dropping through `Drop` (for the condition variable),
    /// returning the mutex to lock again.
    pub(super) fn unlock(self) -> &'a ShmMutex<T> {
        self.check_process();
        let this = std::mem::ManuallyDrop::new(self);
        let (mutex, word) = (this.mutex, this.word);
        // SAFETY: `this` is never used nor dropped again: its barrier is
        // moved out once, and dropped below.
        let barrier = unsafe { std::ptr::read(&this._no_fork) };
        release(mutex, word);
        // The lock is released: forks are fine again (the barrier is not
        // the lock, and must not leak with the guard).
        drop(barrier);
        mutex
    }
}

#[cold]
#[inline(never)]
fn copied_guard() -> ! {
    panic!(
        "an ShmMutexGuard was used in a child process forked while it was held: \
         the lock belongs to the parent"
    );
}

/// Releases the lock that this thread took by writing `word`.
#[inline]
fn release<T>(mutex: &ShmMutex<T>, word: u64) {
    // Keep the epoch; `Release` publishes the value. The record stays: it
    // names this acquisition only, which the free word does not.
    let mut current = word;
    loop {
        match mutex.lock.compare_exchange(
            current,
            word & EPOCH,
            Ordering::Release,
            Ordering::Relaxed,
        ) {
            Ok(old) => {
                if old & WAITERS != 0 {
                    wake_one(mutex);
                }
                return;
            }
            // A waiter set `WAITERS`.
            Err(now) if now & !WAITERS == word => current = now,
            // Not ours any more: the bytes were overwritten (through a guard
            // of an enclosing value, say). Leave the lock alone.
            Err(_) => return,
        }
    }
}

#[cold]
#[inline(never)]
fn wake_one<T>(mutex: &ShmMutex<T>) {
    futex::wake_low(&mutex.lock, 1);
}

impl<T: SharedSafe> Deref for ShmMutexGuard<'_, T> {
    type Target = T;

    #[inline]
    fn deref(&self) -> &T {
        self.check_process();
        // SAFETY: this thread holds the lock, so nobody else accesses the
        // value until the guard is dropped; `&self` borrows the guard.
        unsafe { &*self.mutex.value.get() }
    }
}

impl<T: SharedSafe> DerefMut for ShmMutexGuard<'_, T> {
    #[inline]
    fn deref_mut(&mut self) -> &mut T {
        self.check_process();
        // SAFETY: as in `deref`, and `&mut self` makes this the only reference.
        unsafe { &mut *self.mutex.value.get() }
    }
}

impl<T: SharedSafe> Drop for ShmMutexGuard<'_, T> {
    #[inline]
    fn drop(&mut self) {
        // A copy in a forked child: the parent's thread holds the lock
        // (the barrier's copy is still lowered, by its own drop).
        if !self.in_its_process() {
            return;
        }
        if std::thread::panicking() {
            self.mutex.inconsistent.store(1, Ordering::Relaxed);
        }
        release(self.mutex, self.word);
    }
}

impl<T: SharedSafe + fmt::Debug> fmt::Debug for ShmMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

impl<T: SharedSafe> super::poison::sealed::Sealed for ShmMutexGuard<'_, T> {}

impl<T: SharedSafe> super::LockedValue for ShmMutexGuard<'_, T> {
    type Value = T;

    fn value_ptr(&self) -> *mut T {
        self.value_ptr()
    }

    fn mark_consistent(&mut self) {
        ShmMutexGuard::mark_consistent(self);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;
    use std::sync::mpsc;

    /// Runs `f` with the identity of another live thread, which ends after.
    fn with_live_thread(f: impl FnOnce(Me)) {
        let (tx, rx) = mpsc::channel();
        let (done_tx, done_rx) = mpsc::channel::<()>();
        let t = std::thread::spawn(move || {
            tx.send(owner::me()).unwrap();
            let _ = done_rx.recv_timeout(Duration::from_secs(60));
        });
        f(rx.recv().unwrap());
        drop(done_tx);
        t.join().unwrap();
    }

    /// The identity of a process (and its only thread) that has ended and
    /// was reaped. Spawned, not forked: these tests leak guards, which
    /// refuse forks for the whole test process.
    fn dead_process() -> Me {
        let mut child = std::process::Command::new("true").spawn().unwrap();
        let pid = child.id();
        assert!(child.wait().unwrap().success());
        Me {
            tid: u64::from(pid),
            pid,
            process_start: 0,
            ..owner::me()
        }
    }

    /// Makes `m` look taken (the next epoch) by a process that died
    /// holding it.
    fn die_holding<T>(m: &ShmMutex<T>) {
        let dead = dead_process();
        let word = next(m.lock.load(Ordering::Relaxed), dead, 0);
        m.lock.store(word, Ordering::Relaxed);
        m.owner_thread.store(dead.tid, Ordering::Relaxed);
        m.owner.store(record(word, 0), Ordering::Relaxed);
    }

    /// A thread locks `m` and ends holding it (with `OwnerDied` or not);
    /// returns once the kernel has removed the thread (`join` and scoped
    /// threads return slightly before).
    fn thread_dies_holding<T: SharedSafe + Send>(m: &ShmMutex<T>) {
        let tid = std::thread::scope(|s| {
            s.spawn(|| {
                std::mem::forget(m.lock());
                owner::me().tid as u32
            })
            .join()
            .unwrap()
        });
        let deadline = Deadline::after(Duration::from_secs(10));
        while owner::thread_exists(tid) {
            assert!(!deadline.passed(), "thread {tid} still exists");
            std::thread::sleep(Duration::from_millis(1));
        }
    }

    /// Makes `m` look held by `who`, of namespaces `ns`.
    fn forge<T>(m: &ShmMutex<T>, who: Me, ns: u64) {
        let word = (EPOCH_ONE * 7) | who.ids();
        m.lock.store(word, Ordering::Relaxed);
        m.owner_thread.store(who.tid, Ordering::Relaxed);
        m.owner
            .store(record(word, who.process_start), Ordering::Relaxed);
        m.owner_ns.store(ns, Ordering::Relaxed);
    }

    #[test]
    fn zeroed_memory_is_an_unlocked_mutex() {
        let m: ShmMutex<u64> = bytemuck::Zeroable::zeroed();
        *m.lock().unwrap() += 5;
        assert_eq!(*m.try_lock().unwrap(), 5);
        // Unlocked: no holder; two acquisitions counted. The last holder's
        // record stays, naming an acquisition the free word does not.
        let me = owner::me();
        let word = m.lock.load(Ordering::Relaxed);
        assert_eq!(word, 2 * EPOCH_ONE);
        let owner = m.owner.load(Ordering::Relaxed);
        assert_eq!(owner, record(word | me.ids(), me.process_start));
        assert_eq!(recorded_start(word, owner), None);
        assert_eq!(m.owner_thread.load(Ordering::Relaxed), me.tid);
        assert_eq!(m.owner_ns.load(Ordering::Relaxed), me.ns);
    }

    #[test]
    fn a_used_unlocked_mutex_may_move() {
        let m = ShmMutex::new(1u32);
        *m.lock().unwrap() += 1;
        let moved = Box::new(m);
        *moved.lock().unwrap() += 1;
        assert_eq!(moved.into_inner(), 3);
    }

    #[test]
    fn the_epoch_wraps_without_touching_the_other_bits() {
        let m = ShmMutex::new(0u8);
        m.lock.store(EPOCH, Ordering::Relaxed); // the last epoch, free
        let guard = m.lock().unwrap();
        assert_eq!(m.lock.load(Ordering::Relaxed), owner::me().ids());
        drop(guard);
        assert_eq!(m.lock.load(Ordering::Relaxed), 0);
    }

    #[test]
    #[cfg_attr(miri, ignore = "reads /proc, which does not know Miri's threads")]
    #[should_panic(expected = "holds the lock already")]
    fn relocking_panics_instead_of_deadlocking() {
        let m = ShmMutex::new(0u8);
        let _a = m.lock().unwrap();
        let _b = m.lock();
    }

    #[test]
    #[cfg_attr(miri, ignore = "reads /proc, which does not know Miri's threads")]
    fn lock_timeout_never_panics() {
        let m = ShmMutex::new(0u8);
        let held = m.lock().unwrap();
        let err = m.lock_timeout(Duration::from_secs(60)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WouldDeadlock);
        assert!(matches!(m.try_lock(), Err(TryLockError::WouldBlock)));
        // A forgotten guard: this thread still holds it.
        std::mem::forget(held);
        let err = m.lock_timeout(Duration::ZERO).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::WouldDeadlock);
    }

    #[test]
    fn threads_count_exactly() {
        // Fewer rounds under Miri, which interprets every one.
        const ROUNDS: u64 = if cfg!(miri) { 300 } else { 10_000 };
        let m = ShmMutex::new(0u64);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..ROUNDS {
                        *m.lock().unwrap() += 1;
                    }
                });
            }
        });
        assert_eq!(m.into_inner(), 4 * ROUNDS);
    }

    #[test]
    fn timed_and_try_locks_count_exactly() {
        // Fewer rounds under Miri, which interprets every one.
        const ROUNDS: u64 = if cfg!(miri) { 200 } else { 5_000 };
        let m = ShmMutex::new(0u64);
        std::thread::scope(|s| {
            for i in 0..4 {
                let m = &m;
                s.spawn(move || {
                    let mut done = 0;
                    while done < ROUNDS {
                        let guard = if i % 2 == 0 {
                            m.lock_timeout(Duration::from_secs(60)).unwrap().ok()
                        } else {
                            m.try_lock().ok()
                        };
                        if let Some(mut guard) = guard {
                            *guard += 1;
                            done += 1;
                        }
                    }
                });
            }
        });
        assert_eq!(m.into_inner(), 4 * ROUNDS);
    }

    #[test]
    fn a_panicking_owner_leaves_it_inconsistent_until_marked() {
        let m = ShmMutex::new(0u32);
        std::thread::scope(|s| {
            let _ = s
                .spawn(|| {
                    let _g = m.lock().unwrap();
                    panic!("while holding the lock");
                })
                .join();
        });
        assert!(m.is_inconsistent());
        // Forgetting to mark consistent: the next locker is told again.
        drop(m.lock().unwrap_err().into_inner().unwrap());
        let mut guard = m.lock().unwrap_err().into_inner().unwrap();
        ShmMutexGuard::mark_consistent(&mut guard);
        drop(guard);
        assert!(m.lock().is_ok());
    }

    #[test]
    #[cfg_attr(miri, ignore = "spawns a process")]
    fn a_dead_process_is_a_dead_owner() {
        let m = ShmMutex::new(AtomicU64::new(0));
        die_holding(&m);
        // The process died holding the lock: every kind of lock sees it.
        let guard = m.lock().unwrap_err().into_inner().unwrap();
        drop(guard);
        assert!(m.is_inconsistent());
        die_holding(&m);
        assert!(matches!(m.try_lock(), Err(TryLockError::OwnerDied(_))));
        die_holding(&m);
        let died = m.lock_timeout(Duration::ZERO).unwrap().unwrap_err();
        drop(died);
    }

    #[test]
    fn a_dead_thread_of_a_live_process_keeps_the_lock() {
        // Like std's `Mutex` after a leaked guard: a reference derived from
        // it may live on in another thread, so the lock is never taken over.
        let m = ShmMutex::new(AtomicU64::new(0));
        thread_dies_holding(&m);
        let err = m.lock_timeout(Duration::from_millis(30)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        assert!(matches!(m.try_lock(), Err(TryLockError::WouldBlock)));
        assert!(!m.is_inconsistent());
    }

    #[test]
    #[cfg_attr(miri, ignore = "leaks a guard on purpose: a leak to Miri")]
    fn a_guard_leaked_by_an_ended_thread_stays_exclusive() {
        static M: ShmMutex<u64> = ShmMutex::new(0);
        let leaked: &'static mut u64 = std::thread::spawn(|| {
            let guard = Box::leak(Box::new(M.lock().unwrap()));
            &mut **guard
        })
        .join()
        .unwrap();
        std::thread::sleep(Duration::from_millis(50)); // the thread is gone
                                                       // Before: taken over with `OwnerDied`, a second `&mut u64`.
        let err = M.lock_timeout(Duration::from_millis(100)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        assert!(matches!(M.try_lock(), Err(TryLockError::WouldBlock)));
        *leaked = 2;
        assert_eq!(*leaked, 2);
    }

    #[test]
    #[cfg_attr(miri, ignore = "spawns a process")]
    fn a_dead_owner_with_sleeping_waiters_is_taken_over_once() {
        let m = ShmMutex::new(0u64);
        die_holding(&m);
        let died = std::sync::atomic::AtomicU32::new(0);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..100 {
                        let mut guard = match m.lock_timeout(Duration::from_secs(60)).unwrap() {
                            Ok(guard) => guard,
                            Err(d) => {
                                died.fetch_add(1, Ordering::Relaxed);
                                let mut guard = d.into_inner().unwrap();
                                ShmMutexGuard::mark_consistent(&mut guard);
                                guard
                            }
                        };
                        *guard += 1;
                    }
                });
            }
        });
        assert_eq!(died.load(Ordering::Relaxed), 1);
        assert_eq!(m.into_inner(), 400);
    }

    #[test]
    fn lock_timeout_times_out_then_succeeds() {
        let m = ShmMutex::new(0u8);
        let held = m.lock().unwrap();
        std::thread::scope(|s| {
            s.spawn(|| {
                let err = m.lock_timeout(Duration::from_millis(20)).unwrap_err();
                assert_eq!(err.kind(), ErrorKind::TimedOut);
            });
        });
        drop(held);
        assert!(m.lock_timeout(Duration::from_millis(20)).unwrap().is_ok());
    }

    #[test]
    fn a_live_holder_is_never_taken_over() {
        with_live_thread(|them| {
            let m = ShmMutex::new(0u8);
            forge(&m, them, owner::me().ns);
            let err = m.lock_timeout(Duration::from_millis(30)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::TimedOut);
            assert!(matches!(m.try_lock(), Err(TryLockError::WouldBlock)));
            // Without a record, its process's existence is enough.
            m.owner.store(0, Ordering::Relaxed);
            assert!(matches!(m.try_lock(), Err(TryLockError::WouldBlock)));
        });
    }

    #[test]
    #[cfg_attr(miri, ignore = "spawns a process")]
    fn a_reused_process_id_is_a_dead_owner() {
        // This very process has the pid, but not the recorded start time.
        let me = owner::me();
        let m = ShmMutex::new(0u8);
        let before = Me {
            token: me.token + 1,
            process_start: me.process_start.wrapping_add(1).max(1),
            ..me
        };
        forge(&m, before, me.ns);
        let guard = m
            .lock_timeout(Duration::from_secs(10))
            .unwrap()
            .unwrap_err();
        drop(guard);
        assert!(m.is_inconsistent());
        // An unrecorded holder whose process is gone: the word names it.
        let dead = dead_process();
        forge(&m, dead, me.ns);
        m.owner.store(0, Ordering::Relaxed);
        assert!(matches!(m.try_lock(), Err(TryLockError::OwnerDied(_))));
    }

    #[test]
    #[cfg_attr(miri, ignore = "reads /proc, which does not know Miri's threads")]
    fn a_dead_process_with_this_pid_and_token_is_not_this_thread() {
        // A process that had our pid (and a thread with our token) died
        // holding the lock: its record has another start time, so it is
        // neither us (no panic, no `WouldDeadlock`) nor alive.
        let me = owner::me();
        let m = ShmMutex::new(0u8);
        let before = Me {
            process_start: me.process_start.wrapping_add(1).max(1),
            ..me
        };
        forge(&m, before, me.ns);
        let died = m.lock_timeout(Duration::from_secs(10)).unwrap();
        drop(died.unwrap_err());
        // Unrecorded with our pid and token: not certainly us, and our
        // process is alive: only a timeout.
        forge(&m, before, me.ns);
        m.owner.store(0, Ordering::Relaxed);
        let err = m.lock_timeout(Duration::from_millis(10)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        // A process without a start time of its own is never sure it holds
        // a lock: it cannot tell itself from a dead process with its pid.
        let word = (EPOCH_ONE * 3) | me.ids();
        let unsure = Me {
            process_start: 0,
            ..me
        };
        assert!(!held_by(word, record(word, 0), me.ns, unsure));
        // With its start time, pid and token, it is.
        let owner = record(word, me.process_start);
        assert!(held_by(word, owner, me.ns, me));
        assert!(held_by(word | WAITERS, owner, me.ns, me));
        for other in [
            Me {
                pid: me.pid + 1,
                ..me
            },
            Me {
                token: me.token + 1,
                ..me
            },
        ] {
            assert!(!held_by(word, owner, me.ns, other));
        }
        assert!(!held_by(word, owner, me.ns + 1, me));
        // A record of another acquisition (epoch) says nothing.
        let older = record(word - EPOCH_ONE, me.process_start);
        assert!(!held_by(word, older, me.ns, me));
    }

    #[test]
    fn tokens_of_ended_threads_are_reused_unless_they_leaked_a_guard() {
        static M: ShmMutex<u64> = ShmMutex::new(0);
        let token_of_thread = |leak: bool| {
            std::thread::spawn(move || {
                let guard = M.try_lock();
                let token = owner::me().token;
                if leak {
                    std::mem::forget(guard);
                }
                token
            })
            .join()
            .unwrap()
        };
        let leaked = token_of_thread(true);
        // Threads that end cleanly hand their tokens on: a hundred of them
        // one after the other need few tokens, and never the leaked one.
        let mut seen = std::collections::BTreeSet::new();
        for _ in 0..100 {
            let token = token_of_thread(false);
            assert_ne!(token, leaked);
            seen.insert(token);
        }
        assert!(seen.len() < 50, "tokens are not reused: {seen:?}");
        // The leaked guard's lock is held by a thread that ended.
        assert!(matches!(M.try_lock(), Err(TryLockError::WouldBlock)));
    }

    #[test]
    #[cfg_attr(miri, ignore = "reads /proc, which does not know Miri's threads")]
    fn relocking_for_the_condvar_never_panics() {
        // Even when the lock looks held by this very thread (only a forged
        // or a dead thread's record could say so after the condvar released
        // it), the relock waits instead of panicking like `lock`.
        let m = ShmMutex::new(0u8);
        std::thread::scope(|s| {
            let t = s.spawn(|| {
                let me = owner::me();
                forge(&m, me, me.ns);
                assert!(m.held_by(m.lock.load(Ordering::Relaxed), me));
                m.relock().is_ok()
            });
            let deadline = Deadline::after(Duration::from_secs(10));
            while m.lock.load(Ordering::Relaxed) & WAITERS == 0 {
                assert!(!deadline.passed(), "the relock does not wait");
                std::thread::sleep(Duration::from_millis(1));
            }
            // Released: the relock takes it.
            m.lock.store(EPOCH_ONE * 7, Ordering::Release);
            futex::wake_low(&m.lock, 1);
            assert!(t.join().unwrap());
        });
    }

    #[test]
    #[cfg_attr(miri, ignore = "spawns a process")]
    fn a_takeover_needs_the_records_it_judged() {
        let m = ShmMutex::new(0u8);
        die_holding(&m);
        let word = m.lock.load(Ordering::Relaxed);
        let seen = m.owner.load(Ordering::Relaxed);
        // Another holder's record appeared since the judgement (the word
        // alone could have come round again): no takeover.
        m.owner.store(seen ^ 1, Ordering::Relaxed);
        assert_eq!(m.take_over(word, seen, owner::me()), None);
        assert_eq!(m.lock.load(Ordering::Relaxed), word);
        m.owner.store(seen, Ordering::Relaxed);
        assert!(m.take_over(word, seen, owner::me()).is_some());
    }

    #[test]
    fn a_timed_waiter_that_gives_up_passes_the_wake_on() {
        // A waiter slept (so others may sleep too), then gives up while the
        // lock is held without `WAITERS` (another thread took it after the
        // wake-up meant for it): the next unlock must still wake someone.
        with_live_thread(|them| {
            let m = ShmMutex::new(0u8);
            forge(&m, them, owner::me().ns);
            let word = m.lock.load(Ordering::Relaxed);
            m.pass_on_wake();
            assert_eq!(m.lock.load(Ordering::Relaxed), word | WAITERS);
            // Free: wake a sleeper at once (none here: harmless).
            m.lock.store(word & EPOCH, Ordering::Relaxed);
            m.pass_on_wake();
            assert_eq!(m.lock.load(Ordering::Relaxed), word & EPOCH);
        });
    }

    #[test]
    #[cfg_attr(miri, ignore = "spawns a process")]
    fn a_holder_of_another_namespace_is_never_taken_over() {
        let dead = dead_process();
        let me = owner::me();
        for ns in [MIXED_NS, me.ns + 1] {
            // Its ids mean nothing here, so it cannot be judged dead:
            // waiting is bounded by the caller's timeout, never a takeover.
            let m = ShmMutex::new(0u8);
            forge(&m, dead, ns);
            let word = m.lock.load(Ordering::Relaxed);
            let err = m.lock_timeout(Duration::from_millis(30)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::TimedOut);
            assert!(matches!(m.try_lock(), Err(TryLockError::WouldBlock)));
            assert_eq!(m.lock.load(Ordering::Relaxed) & !WAITERS, word);
            assert!(!m.is_inconsistent());
            // Nor is it "this thread" when the ids are ours.
            forge(&m, me, ns);
            let err = m.lock_timeout(Duration::from_millis(10)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::TimedOut);
        }
    }

    #[test]
    fn another_time_namespace_is_another_namespace() {
        // Start times are read relative to the reader's time namespace: a
        // holder in another one is never judged by them.
        let pid_ns = 0xF000_0001;
        let here = owner::namespace_key(pid_ns, Some(0xF000_0002));
        let there = owner::namespace_key(pid_ns, Some(0xF000_0003));
        let unknown = owner::namespace_key(pid_ns, None);
        assert_ne!(here, there);
        assert_ne!(here, unknown);
        for key in [here, there, unknown] {
            assert_ne!(key, 0);
            assert_ne!(key, MIXED_NS);
        }
        let odd = owner::namespace_key(1 << 63 | 7, Some(0xF000_0002));
        assert_ne!(odd, owner::namespace_key(1 << 63 | 7, Some(0xF000_0003)));
    }

    #[test]
    fn a_lock_from_another_namespace_makes_the_record_mixed() {
        let m = ShmMutex::new(0u8);
        m.owner_ns.store(owner::me().ns + 1, Ordering::Relaxed);
        drop(m.lock().unwrap());
        assert_eq!(m.owner_ns.load(Ordering::Relaxed), MIXED_NS);
    }

    #[test]
    fn forgetting_a_guard_then_freeing_the_mutex_is_harmless() {
        for _ in 0..100 {
            let m = Box::new(ShmMutex::new([0u64; 8]));
            std::mem::forget(m.lock().unwrap());
            drop(m);
            let other = Box::new(ShmMutex::new(0u64));
            for _ in 0..10 {
                *other.lock().unwrap() += 1;
            }
            assert_eq!(other.into_inner(), 10);
        }
    }

    #[test]
    #[cfg_attr(miri, ignore = "spawns a process")]
    fn probe_recognises_a_mutex_in_use() {
        let bytes = |m: &ShmMutex<u64>| {
            let mut out = [0u8; PROBE_LEN];
            let mut put = |at: usize, b: &[u8]| out[at..at + b.len()].copy_from_slice(b);
            put(0, &m.lock.load(Ordering::Relaxed).to_ne_bytes());
            put(8, &m.inconsistent.load(Ordering::Relaxed).to_ne_bytes());
            put(12, &m.reserved.load(Ordering::Relaxed).to_ne_bytes());
            put(16, &m.owner.load(Ordering::Relaxed).to_ne_bytes());
            put(24, &m.owner_thread.load(Ordering::Relaxed).to_ne_bytes());
            put(32, &m.owner_ns.load(Ordering::Relaxed).to_ne_bytes());
            out
        };
        assert_eq!(
            [
                offset_of!(ShmMutex<u64>, inconsistent),
                offset_of!(ShmMutex<u64>, reserved),
                offset_of!(ShmMutex<u64>, owner),
                offset_of!(ShmMutex<u64>, owner_thread),
                offset_of!(ShmMutex<u64>, owner_ns),
                PROBE_LEN
            ],
            [8, 12, 16, 24, 32, 40]
        );
        let m = ShmMutex::new(0u64);
        assert_eq!(probe(&bytes(&m)), None, "never used: all zero");
        let guard = m.lock().unwrap();
        let held = probe(&bytes(&m)).unwrap();
        assert_eq!(u64::from(held.holder_tid), owner::me().tid);
        assert_eq!(held.holder_alive, Some(true));
        drop(guard);
        let free = probe(&bytes(&m)).unwrap();
        assert_eq!((free.holder_tid, free.holder_alive), (0, None));
        die_holding(&m);
        let dead = probe(&bytes(&m)).unwrap();
        assert_eq!(dead.holder_alive, Some(false));
        // Ordinary data does not look like a mutex.
        assert_eq!(
            probe(&[
                0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0,
                0, 0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0
            ]),
            None
        );
        assert_eq!(probe(&[7; PROBE_LEN]), None);
        assert_eq!(probe(&[0; 4]), None);
    }
}
