//! [`ShmMutex<T>`]: a process-shared mutex guarding a `T`, that detects an
//! owner's death.

use super::futex::Deadline;
use super::robust::{Busy, Lock, Wait, WAITERS};
use super::{LockResult, OwnerDied, TryLockError, TryLockResult};
// `inspect` reads a segment's mutexes through these names.
pub(crate) use super::robust::{probe, PROBE_ALIGN, PROBE_LEN};
use crate::error::{Error, ErrorKind, Result};
use crate::layout::{Field, TypeLayout, Validity};
use crate::liveness::{registered_fork_generation, Me};
use crate::process::ForkBarrier;
use crate::SharedSafe;
use std::cell::UnsafeCell;
use std::fmt;
use std::marker::PhantomData;
use std::mem::{align_of, offset_of};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

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
/// a struct created by [`Shared::anonymous(init::zeroed())`](crate::Shared::anonymous)
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
    /// The lock word and the owner records (see [`robust`](super::robust)).
    lock: Lock,
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
            Field::plain("lock", offset_of!(Self, lock.word), AtomicU64::LAYOUT),
            Field::plain(
                "inconsistent",
                offset_of!(Self, lock.inconsistent),
                AtomicU32::LAYOUT,
            ),
            Field::plain(
                "reserved",
                offset_of!(Self, lock.reserved),
                AtomicU32::LAYOUT,
            ),
            Field::plain("owner", offset_of!(Self, lock.owner), AtomicU64::LAYOUT),
            Field::plain(
                "owner_thread",
                offset_of!(Self, lock.owner_thread),
                AtomicU64::LAYOUT,
            ),
            Field::plain(
                "owner_ns",
                offset_of!(Self, lock.owner_ns),
                AtomicU64::LAYOUT,
            ),
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
            lock: Lock::new(),
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
        match self.lock.acquire(Wait::Forever) {
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
        match self.lock.acquire(Wait::No) {
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
        match self.lock.acquire(Wait::Until(&deadline)) {
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
        match self.lock.acquire(Wait::Forever) {
            Ok(taken) => Ok(self.guard(taken)?),
            Err(Busy::ByMe) => Err(Error::new(
                ErrorKind::WouldDeadlock,
                "locking an ShmMutex: this thread holds it already",
            )),
            Err(Busy::Held) => unreachable!("a lock without a deadline waits until it is taken"),
        }
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
        self.lock.inconsistent.load(Ordering::Relaxed) != 0
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
        if self.lock.inconsistent.load(Ordering::Relaxed) == 0 {
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

    /// Locks again a mutex this thread just released (the condition
    /// variable): waits as long as it takes, never panics.
    pub(super) fn relock(&self) -> LockResult<ShmMutexGuard<'_, T>> {
        match self.lock.acquire(Wait::Relock) {
            Ok(taken) => self.guard(taken),
            Err(_) => unreachable!("a relock waits until the lock is taken"),
        }
    }
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
                &(self.lock.inconsistent.load(Ordering::Relaxed) != 0),
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
        this.mutex.lock.inconsistent.store(0, Ordering::Relaxed);
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
        mutex.lock.release(word);
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
            self.mutex.lock.inconsistent.store(1, Ordering::Relaxed);
        }
        self.mutex.lock.release(self.word);
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

// A mutex's bytes before its value are its `Lock`, which `probe` reads.
const _: () = assert!(offset_of!(ShmMutex<()>, value) == PROBE_LEN);
const _: () = assert!(align_of::<ShmMutex<()>>() == PROBE_ALIGN);

#[cfg(test)]
mod tests;
