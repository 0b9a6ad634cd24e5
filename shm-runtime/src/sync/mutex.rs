//! [`ShmMutex<T>`]: a process-shared, robust mutex guarding a `T`.

use super::futex::{self, Deadline};
use super::{fork_generation, OwnerDied};
use crate::error::{Error, ErrorKind, Result};
use crate::liveness::{pid_alive, pid_namespace};
use crate::process::ForkBarrier;
use crate::{Fingerprint, SharedSafe};
use std::cell::UnsafeCell;
use std::ffi::c_int;
use std::fmt;
use std::io;
use std::marker::PhantomData;
use std::mem::{align_of, offset_of, size_of, MaybeUninit};
use std::ops::{Deref, DerefMut};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicUsize, Ordering};
use std::time::Duration;

/// `state`: nobody has initialised the pthread mutex yet.
const UNINIT: u32 = 0;
/// `state`: the pthread mutex is initialised and in use.
const READY: u32 = 1;
/// `state`: the process whose pid is in the low bits is initialising it.
const INITIALIZING: u32 = 1 << 31;

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
/// of the process (or thread) holding it.
///
/// It is a glibc `pthread_mutex_t` made `PTHREAD_PROCESS_SHARED`,
/// `PTHREAD_MUTEX_ROBUST` and `PTHREAD_MUTEX_ERRORCHECK`: uncontended lock
/// and unlock are one atomic instruction each, waiters block in the kernel,
/// and the kernel's robust-futex list marks the lock when its owner dies.
///
/// # When the owner dies
///
/// If a process is killed (even by `SIGKILL`, at any instruction) while it
/// holds the lock, the next [`lock`](ShmMutex::lock) takes the lock and
/// returns `Err(`[`OwnerDied`]`)` holding the guard, like std's
/// `PoisonError`: the data may be half-updated. Inspect and repair it through
/// the guard, then call [`ShmMutexGuard::mark_consistent`]. A thread that
/// panics while it holds the guard has the same effect.
///
/// The mutex itself never becomes unusable: the pthread mutex is made
/// consistent again (`pthread_mutex_consistent`) as soon as the death is
/// seen, and this crate keeps its own *inconsistent* flag, which
/// `mark_consistent` clears. Should the repairer forget (or die, or panic),
/// the flag stays set and the next locker is told again: the warning is
/// never lost, and `ENOTRECOVERABLE` never happens through this API.
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
///     Err(died) => {
///         // A previous owner died while holding the lock: repair, then say so.
///         let mut guard = died.into_inner();
///         ShmMutexGuard::mark_consistent(&mut guard);
///         guard
///     }
/// };
/// *guard += 1;
/// assert_eq!(*guard, 2);
/// # Ok::<(), shm_runtime::Error>(())
/// ```
///
/// # Initialisation, moves and zeroed memory
///
/// The pthread mutex is initialised lazily, on first use, in the place where
/// it is used: a `state` word goes from 0 (not initialised) to
/// "initialising, by process *pid*" (one compare-and-swap decides who) to
/// "ready". So [`new`](ShmMutex::new) is a `const fn` that only writes
/// zeros, and **all-zero bytes are a valid unlocked mutex**: an `ShmMutex`
/// may be a field of a struct created by
/// [`Shared::anonymous_zeroed`](crate::Shared::anonymous_zeroed) or in a
/// zero-filled file. Should a process die in the few instructions that
/// initialise the mutex, the others notice (its pid no longer exists) and
/// initialise it themselves. A pid is only judged when every process that
/// tried to initialise the mutex ran in this process's PID namespace (the
/// mutex records it): across containers a pid means nothing, and taking over
/// a live initialiser would break the lock, so there the others wait.
///
/// A mutex that was used and is now unlocked may be moved (Rust moves
/// values by copying bytes): an unlocked glibc robust mutex holds no address
/// (the robust-list links are cleared on unlock), its futex word is 0, and
/// owning the value by move proves that nobody waits on it. A locked mutex
/// cannot be moved, since its guard borrows it.
///
/// # Threads, `fork` and the guard
///
/// Only the thread that locked may unlock (the robust list is per thread),
/// so [`ShmMutexGuard`] is not `Send`. Locking twice from one thread panics
/// (`EDEADLK`) instead of deadlocking. A process that forks while holding
/// the lock leaves it held by the parent's thread; the child's copy of the
/// guard is dead: using it panics, and dropping it does nothing.
///
/// # Platform
///
/// Linux with glibc or musl (the kernel's robust futexes); the layout is
/// that of the C library's `pthread_mutex_t`, so every process sharing the
/// mutex must use the same C library (the [fingerprint](SharedSafe) records which).
#[repr(C)]
pub struct ShmMutex<T> {
    state: AtomicU32,
    /// 1 when a previous owner died (or panicked) and nobody has called
    /// `mark_consistent` since. Read and written with the lock held.
    inconsistent: AtomicU32,
    /// The PID namespace of every process that tried to initialise the
    /// mutex (0: none yet; `MIXED_NS`: more than one), which decides whether
    /// an initialiser's pid can be judged.
    init_ns: AtomicU64,
    raw: UnsafeCell<libc::pthread_mutex_t>,
    value: UnsafeCell<T>,
}

/// `init_ns` when initialisers from several PID namespaces met.
const MIXED_NS: u64 = u64::MAX;

// SAFETY: (1) no process-local address: a `pthread_mutex_t` is a futex word,
// an owner thread id, counters and, *while locked*, the links of the owner
// thread's robust list, which only that thread (and the kernel, on its behalf
// when it dies) follows, in its own address space; the next owner overwrites
// them without reading them. `T: SharedSafe` holds none either. (2) `repr(C)`
// over atomics, the C library's fixed `pthread_mutex_t` and `T`. (3) no drop
// glue (`pthread_mutex_t` is plain data, `T` has none). (4) every mutation
// through `&Self` is atomic, a process-shared pthread call, or an access to
// `value` while the robust process-shared lock is held. (5) the fingerprint
// names the C library and the sizes of its mutex, and includes `T`'s.
unsafe impl<T: SharedSafe> SharedSafe for ShmMutex<T> {
    const FINGERPRINT: Fingerprint =
        Fingerprint::composite("ShmMutex pthread robust pshared errorcheck v2")
            .tag(LIBC, size_of::<libc::pthread_mutex_t>() as u64)
            .field("value", offset_of!(Self, value), T::FINGERPRINT)
            .finish(size_of::<Self>(), align_of::<Self>());
}

/// The C library, part of the mutex fingerprint: glibc and musl disagree on
/// the layout of `pthread_mutex_t`.
const LIBC: &str = if cfg!(target_env = "gnu") {
    "glibc"
} else if cfg!(target_env = "musl") {
    "musl"
} else {
    "libc"
};

// SAFETY: all-zero bytes are a mutex that was never initialised (state 0,
// consistent) around an all-zero `T`, valid since `T: Zeroable`.
unsafe impl<T: SharedSafe + bytemuck::Zeroable> bytemuck::Zeroable for ShmMutex<T> {}

// SAFETY: like `std::sync::Mutex`: the lock hands `&mut T` to one thread at
// a time, so sharing the mutex moves `T` between threads (`T: Send`).
unsafe impl<T: Send> Sync for ShmMutex<T> {}
// SAFETY: moving the mutex moves the `T`; an unlocked pthread mutex may
// move (see the type's documentation), and a locked one is borrowed.
unsafe impl<T: Send> Send for ShmMutex<T> {}

// A panic while holding the guard marks the mutex inconsistent (like std's
// poisoning), so observing the value after a panic is always flagged.
impl<T> std::panic::RefUnwindSafe for ShmMutex<T> {}
impl<T> std::panic::UnwindSafe for ShmMutex<T> {}

/// Which call produced a pthread return code.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Op {
    Lock,
    TryLock,
    Timed,
}

impl<T: SharedSafe> ShmMutex<T> {
    /// A new unlocked mutex around `value`. Nothing is initialised until the
    /// first lock, so this is a `const fn` and the mutex may be moved into
    /// shared memory afterwards (see [Initialisation](ShmMutex#initialisation-moves-and-zeroed-memory)).
    ///
    /// ```
    /// use shm_runtime::{Shared, ShmMutex};
    /// let m = Shared::anonymous(ShmMutex::new([0u8; 16]))?;
    /// m.lock().unwrap()[3] = 1;
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub const fn new(value: T) -> ShmMutex<T> {
        ShmMutex {
            state: AtomicU32::new(UNINIT),
            inconsistent: AtomicU32::new(0),
            init_ns: AtomicU64::new(0),
            raw: UnsafeCell::new(libc::PTHREAD_MUTEX_INITIALIZER),
            value: UnsafeCell::new(value),
        }
    }

    /// Locks the mutex, waiting as long as it takes. `Err(OwnerDied)` still
    /// holds the lock: see [When the owner dies](ShmMutex#when-the-owner-dies).
    ///
    /// # Panics
    /// If this thread holds the lock already, or if the pthread mutex was
    /// made unrecoverable or corrupted by foreign code.
    ///
    /// ```
    /// let m = shm_runtime::ShmMutex::new(1i32);
    /// *m.lock().unwrap() += 1;
    /// assert_eq!(*m.lock().unwrap(), 2);
    /// ```
    pub fn lock(&self) -> LockResult<ShmMutexGuard<'_, T>> {
        let raw = self
            .raw(None)
            .expect("initialisation without a deadline always ends");
        // SAFETY: `raw` is an initialised process-shared mutex that lives as
        // long as `self`.
        let rc = unsafe { libc::pthread_mutex_lock(raw) };
        self.locked(rc, Op::Lock)
            .expect("a blocking lock returns only once locked")
    }

    /// Locks the mutex if nobody holds it, without waiting.
    ///
    /// ```
    /// let m = shm_runtime::ShmMutex::new(());
    /// let guard = m.try_lock().unwrap();
    /// assert!(m.try_lock().is_err()); // held by this thread
    /// drop(guard);
    /// assert!(m.try_lock().is_ok());
    /// ```
    pub fn try_lock(&self) -> TryLockResult<ShmMutexGuard<'_, T>> {
        // Another process still initialising the mutex holds it, in effect.
        let Some(raw) = self.raw(Some(&Deadline::after(Duration::ZERO))) else {
            return Err(TryLockError::WouldBlock);
        };
        // SAFETY: as in `lock`.
        let rc = unsafe { libc::pthread_mutex_trylock(raw) };
        match self.locked(rc, Op::TryLock) {
            Some(Ok(guard)) => Ok(guard),
            Some(Err(died)) => Err(TryLockError::OwnerDied(died)),
            None => Err(TryLockError::WouldBlock),
        }
    }

    /// Locks the mutex, waiting at most `timeout` (measured on
    /// `CLOCK_MONOTONIC` where the C library offers
    /// `pthread_mutex_clocklock`, glibc 2.30 and later; else on the wall
    /// clock). Still held after `timeout`: an error of kind
    /// [`TimedOut`](ErrorKind::TimedOut).
    ///
    /// # Panics
    /// As [`lock`](ShmMutex::lock).
    ///
    /// ```
    /// use shm_runtime::{ErrorKind, ShmMutex};
    /// use std::time::Duration;
    ///
    /// let m = ShmMutex::new(0u8);
    /// let _held = m.lock().unwrap();
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         let err = m.lock_timeout(Duration::from_millis(10)).unwrap_err();
    ///         assert_eq!(err.kind(), ErrorKind::TimedOut);
    ///     });
    /// });
    /// ```
    pub fn lock_timeout(&self, timeout: Duration) -> Result<LockResult<ShmMutexGuard<'_, T>>> {
        let deadline = Deadline::after(timeout);
        let Some(raw) = self.raw(Some(&deadline)) else {
            return Err(Error::new(
                ErrorKind::TimedOut,
                format!(
                    "locking an ShmMutex: another process was still initialising it after \
                     {timeout:?} (or died doing so in another PID namespace)"
                ),
            ));
        };
        let rc = match clocklock() {
            // SAFETY: as in `lock`; the timespec is valid for the call.
            Some(clocklock) => unsafe {
                clocklock(raw, libc::CLOCK_MONOTONIC, &deadline.monotonic())
            },
            // SAFETY: as above.
            None => unsafe { libc::pthread_mutex_timedlock(raw, &deadline.realtime()) },
        };
        self.locked(rc, Op::Timed).ok_or_else(|| {
            Error::new(
                ErrorKind::TimedOut,
                format!("locking an ShmMutex: still held by another thread or process after {timeout:?}"),
            )
        })
    }

    /// Locks the mutex; if a previous owner died (or panicked) holding it,
    /// first runs `repair` on the value and marks it consistent. The common
    /// recovery in one call.
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
    /// let l = ledger.lock_or_repair(|l| l.debits = l.credits);
    /// assert_eq!((l.debits, l.credits), (0, 0));
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn lock_or_repair(&self, repair: impl FnOnce(&mut T)) -> ShmMutexGuard<'_, T> {
        match self.lock() {
            Ok(guard) => guard,
            Err(died) => {
                let mut guard = died.into_inner();
                repair(&mut guard);
                ShmMutexGuard::mark_consistent(&mut guard);
                guard
            }
        }
    }

    /// Whether a previous owner died or panicked and nobody has called
    /// [`ShmMutexGuard::mark_consistent`] since. Another process may change
    /// it at any moment; `lock` gives the reliable answer.
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

    /// Turns a pthread return code into a guard (`None`: not acquired).
    fn locked(&self, rc: c_int, op: Op) -> Option<LockResult<ShmMutexGuard<'_, T>>> {
        match rc {
            0 => {}
            libc::EOWNERDEAD => {
                // We hold the lock. Record the death in our own flag, then
                // make the pthread mutex consistent at once, so that it can
                // never become ENOTRECOVERABLE. Dying in between is fine: we
                // hold the lock, so the kernel marks the owner dead again.
                self.inconsistent.store(1, Ordering::Relaxed);
                // SAFETY: this thread holds the initialised mutex, in the
                // owner-died state that `pthread_mutex_consistent` expects.
                let rc = unsafe { libc::pthread_mutex_consistent(self.raw.get()) };
                assert_eq!(rc, 0, "pthread_mutex_consistent failed");
            }
            libc::EBUSY | libc::ETIMEDOUT if op != Op::Lock => return None,
            libc::EDEADLK if op == Op::TryLock => return None,
            libc::EDEADLK => panic!(
                "ShmMutex: this thread holds the lock already (locking again would deadlock)"
            ),
            libc::ENOTRECOVERABLE => panic!(
                "ShmMutex: the pthread mutex was made unrecoverable by code outside this \
                 crate (unlocked after EOWNERDEAD without pthread_mutex_consistent)"
            ),
            rc => panic!(
                "ShmMutex: pthread_mutex_lock failed: {}",
                io::Error::from_raw_os_error(rc)
            ),
        }
        let guard = ShmMutexGuard {
            mutex: self,
            generation: fork_generation(),
            not_send: PhantomData,
            _no_fork: Some(ForkBarrier::new()),
        };
        Some(if self.inconsistent.load(Ordering::Relaxed) != 0 {
            Err(OwnerDied::new(guard))
        } else {
            Ok(guard)
        })
    }

    /// The initialised pthread mutex; `None` if another process still
    /// initialises it when `deadline` passes.
    fn raw(&self, deadline: Option<&Deadline>) -> Option<*mut libc::pthread_mutex_t> {
        if self.state.load(Ordering::Acquire) != READY && !self.initialize(deadline) {
            return None;
        }
        Some(self.raw.get())
    }

    /// Makes the mutex ready (initialising it, or waiting for the process
    /// that does); false if it is not ready when `deadline` passes.
    #[cold]
    fn initialize(&self, deadline: Option<&Deadline>) -> bool {
        // SAFETY: getpid has no preconditions.
        let pid = unsafe { libc::getpid() } as u32;
        let me = INITIALIZING | pid;
        let mut state = self.state.load(Ordering::Acquire);
        loop {
            if state == READY {
                return true;
            }
            let ours = state == UNINIT || (state != me && self.initialiser_died(state));
            if ours {
                // Unset, or its initialiser died: take it over. Record our
                // namespace first: whoever judges our pid must see it.
                self.record_namespace();
                match self
                    .state
                    .compare_exchange(state, me, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => {
                        clocklock(); // resolve it before any fork
                        self.init_pthread_mutex();
                        self.state.store(READY, Ordering::Release);
                        futex::wake(&self.state, i32::MAX);
                        return true;
                    }
                    Err(now) => state = now,
                }
                continue;
            }
            // Another process initialises it: that takes a microsecond.
            if !futex::spin_until(|| self.state.load(Ordering::Acquire) == READY) {
                if deadline.is_some_and(Deadline::passed) {
                    return false;
                }
                let pause = deadline.map_or(Duration::from_millis(10), |d| {
                    d.remaining().min(Duration::from_millis(10))
                });
                futex::wait(&self.state, state, Some(&Deadline::after(pause)));
            }
            state = self.state.load(Ordering::Acquire);
        }
    }

    /// Whether the process initialising (`state` is `INITIALIZING | pid`)
    /// no longer exists, judged only when its pid means something here.
    fn initialiser_died(&self, state: u32) -> bool {
        self.init_ns.load(Ordering::Acquire) == pid_namespace() && !pid_alive(state & !INITIALIZING)
    }

    /// Records this process's PID namespace before it claims the state.
    fn record_namespace(&self) {
        let mine = pid_namespace();
        match self
            .init_ns
            .compare_exchange(0, mine, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {}
            Err(seen) if seen == mine || seen == MIXED_NS => {}
            Err(_) => self.init_ns.store(MIXED_NS, Ordering::Release),
        }
    }

    /// Initialises the pthread mutex; the caller owns the `INITIALIZING` state.
    fn init_pthread_mutex(&self) {
        // SAFETY: the mutex bytes belong to us alone: every other user waits
        // for READY before touching them.
        let rc = unsafe { init_robust(self.raw.get()) };
        if rc != 0 {
            self.state.store(UNINIT, Ordering::Release);
            futex::wake(&self.state, i32::MAX);
            panic!(
                "ShmMutex: cannot initialise a robust process-shared pthread mutex: {}",
                io::Error::from_raw_os_error(rc)
            );
        }
    }
}

/// Initialises `raw` as a robust, process-shared, error-checking pthread
/// mutex; returns the error number of the failed call, or 0.
///
/// # Safety
/// `raw` is valid for writes and nobody else uses it.
unsafe fn init_robust(raw: *mut libc::pthread_mutex_t) -> c_int {
    let mut attr = MaybeUninit::<libc::pthread_mutexattr_t>::uninit();
    // SAFETY: `attr` is initialised by `pthread_mutexattr_init` before the
    // setters read it and destroyed after use; `raw` is ours (contract).
    unsafe {
        let attr = attr.as_mut_ptr();
        let mut rc = libc::pthread_mutexattr_init(attr);
        if rc == 0 {
            rc = libc::pthread_mutexattr_setpshared(attr, libc::PTHREAD_PROCESS_SHARED);
            rc = rc.max(libc::pthread_mutexattr_setrobust(
                attr,
                libc::PTHREAD_MUTEX_ROBUST,
            ));
            rc = rc.max(libc::pthread_mutexattr_settype(
                attr,
                libc::PTHREAD_MUTEX_ERRORCHECK,
            ));
            if rc == 0 {
                rc = libc::pthread_mutex_init(raw, attr);
            }
            libc::pthread_mutexattr_destroy(attr);
        }
        rc
    }
}

/// How many bytes of an [`ShmMutex`] [`probe`] reads: its state words and
/// its pthread mutex.
pub(crate) const PROBE_LEN: usize =
    offset_of!(ShmMutex<()>, raw) + size_of::<libc::pthread_mutex_t>();

/// Every `ShmMutex<T>` lies at a multiple of this alignment.
pub(crate) const PROBE_ALIGN: usize = align_of::<ShmMutex<()>>();

/// What [`probe`] read from bytes that look like an initialised `ShmMutex`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Probed {
    /// The thread id in the futex word: the thread holding the lock, 0 when
    /// it is free.
    pub(crate) holder_tid: u32,
    /// The kernel marked the lock "owner died" (`FUTEX_OWNER_DIED`): its
    /// holder died and nobody has taken it since.
    pub(crate) owner_died: bool,
    /// The pthread mutex's `__owner` field: the last thread that held it.
    pub(crate) last_owner_tid: u32,
    /// This crate's flag: a previous owner died or panicked and nobody has
    /// called `mark_consistent` since.
    pub(crate) inconsistent: bool,
}

/// The glibc `pthread_mutex_t` fields the probe reads (`__data.__lock`,
/// `__owner` and `__kind`): their offsets are glibc's ABI.
#[cfg(target_env = "gnu")]
mod glibc {
    pub(super) const LOCK: usize = 0;
    /// The robust futex word: the holder's thread id in these bits...
    pub(super) const FUTEX_TID_MASK: u32 = 0x3fff_ffff;
    /// ... and this bit once the kernel saw the holder die (linux/futex.h).
    pub(super) const FUTEX_OWNER_DIED: u32 = 0x4000_0000;
    pub(super) const OWNER: usize = 8;
    pub(super) const KIND: usize = if cfg!(target_pointer_width = "64") {
        16
    } else {
        12
    };
}

/// The `__kind` word of a mutex initialised like every `ShmMutex`'s.
#[cfg(target_env = "gnu")]
fn template_kind() -> Option<[u8; 4]> {
    static KIND: std::sync::OnceLock<Option<[u8; 4]>> = std::sync::OnceLock::new();
    *KIND.get_or_init(|| {
        let mut raw = MaybeUninit::<libc::pthread_mutex_t>::zeroed();
        // SAFETY: a local mutex nobody else sees.
        if unsafe { init_robust(raw.as_mut_ptr()) } != 0 {
            return None;
        }
        // SAFETY: `pthread_mutex_init` succeeded; the bytes are plain data.
        let bytes = unsafe {
            std::slice::from_raw_parts(
                raw.as_ptr().cast::<u8>(),
                size_of::<libc::pthread_mutex_t>(),
            )
        };
        let kind = bytes[glibc::KIND..glibc::KIND + 4].try_into().ok();
        // SAFETY: initialised, unlocked, and used no more.
        unsafe { libc::pthread_mutex_destroy(raw.as_mut_ptr()) };
        kind
    })
}

/// Reads `bytes` (at least [`PROBE_LEN`], copied from where an `ShmMutex`
/// may lie) and, if they look like an initialised `ShmMutex` (state word
/// "ready", flag 0 or 1, and the pthread mutex kind of a robust
/// process-shared error-checking mutex), returns what they say. A
/// heuristic: other data could match by chance. Always `None` where the
/// layout of `pthread_mutex_t` is not known (C libraries other than glibc).
pub(crate) fn probe(bytes: &[u8]) -> Option<Probed> {
    #[cfg(target_env = "gnu")]
    {
        let bytes = bytes.get(..PROBE_LEN)?;
        let u32_at = |o: usize| u32::from_ne_bytes(bytes[o..o + 4].try_into().expect("4 bytes"));
        let raw = offset_of!(ShmMutex<()>, raw);
        let kind: [u8; 4] = bytes[raw + glibc::KIND..raw + glibc::KIND + 4]
            .try_into()
            .ok()?;
        if u32_at(offset_of!(ShmMutex<()>, state)) != READY
            || u32_at(offset_of!(ShmMutex<()>, inconsistent)) > 1
            || Some(kind) != template_kind()
        {
            return None;
        }
        let lock = u32_at(raw + glibc::LOCK);
        Some(Probed {
            holder_tid: lock & glibc::FUTEX_TID_MASK,
            owner_died: lock & glibc::FUTEX_OWNER_DIED != 0,
            last_owner_tid: u32_at(raw + glibc::OWNER),
            inconsistent: u32_at(offset_of!(ShmMutex<()>, inconsistent)) == 1,
        })
    }
    #[cfg(not(target_env = "gnu"))]
    {
        let _ = bytes;
        None
    }
}

/// Whether [`probe`] can recognise mutexes with this C library.
pub(crate) const PROBE_SUPPORTED: bool = cfg!(target_env = "gnu");

type ClockLock = unsafe extern "C" fn(
    *mut libc::pthread_mutex_t,
    libc::clockid_t,
    *const libc::timespec,
) -> c_int;

/// `pthread_mutex_clocklock` (glibc 2.30+), looked up at run time so that
/// programs still run on older C libraries. Cached in an atomic rather than
/// a `OnceLock`, which a child forked while another thread filled it would
/// wait for forever; the lookup is done when a mutex is initialised, so it
/// is normally inherited by children.
fn clocklock() -> Option<ClockLock> {
    static CLOCKLOCK: AtomicUsize = AtomicUsize::new(UNKNOWN);
    const UNKNOWN: usize = 0;
    const ABSENT: usize = 1;
    let mut addr = CLOCKLOCK.load(Ordering::Acquire);
    if addr == UNKNOWN {
        // SAFETY: looks a symbol up by a NUL-terminated name.
        let sym = unsafe { libc::dlsym(libc::RTLD_DEFAULT, c"pthread_mutex_clocklock".as_ptr()) };
        addr = if sym.is_null() { ABSENT } else { sym as usize };
        CLOCKLOCK.store(addr, Ordering::Release);
    }
    // SAFETY: a non-null address found under this name is the C library's
    // function of exactly this signature (POSIX.1-2024, glibc 2.30).
    (addr != ABSENT).then(|| unsafe { std::mem::transmute::<usize, ClockLock>(addr) })
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
    /// The fork generation of the process that locked: a copy of the guard
    /// in a forked child does not own the lock.
    generation: u64,
    not_send: PhantomData<*const ()>,
    /// No fork while the lock is held: see [`crate::process`].
    _no_fork: Option<ForkBarrier>,
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
    /// let mut guard = m.lock().unwrap_or_else(|died| died.into_inner());
    /// ShmMutexGuard::mark_consistent(&mut guard); // harmless when consistent
    /// ```
    pub fn mark_consistent(this: &mut Self) {
        this.check_process();
        this.mutex.inconsistent.store(0, Ordering::Relaxed);
    }

    /// Panics if this guard was copied into a forked child.
    pub(super) fn check_process(&self) {
        if self.generation != fork_generation() {
            panic!(
                "an ShmMutexGuard was used in a child process forked while it was held: \
                 the lock belongs to the parent"
            );
        }
    }

    /// Unlocks without dropping through `Drop` (for the condition variable),
    /// returning the mutex to lock again.
    pub(super) fn unlock(mut self) -> &'a ShmMutex<T> {
        self.check_process();
        let mutex = self.mutex;
        // The lock is released: forks are fine again (the barrier is not
        // the lock, and must not leak with the guard).
        drop(self._no_fork.take());
        std::mem::forget(self);
        // SAFETY: this thread holds the initialised mutex (the guard proves
        // it, and it was not copied across a fork: checked).
        let rc = unsafe { libc::pthread_mutex_unlock(mutex.raw.get()) };
        debug_assert_eq!(rc, 0, "pthread_mutex_unlock failed");
        mutex
    }
}

impl<T: SharedSafe> Deref for ShmMutexGuard<'_, T> {
    type Target = T;

    fn deref(&self) -> &T {
        self.check_process();
        // SAFETY: this thread holds the lock, so nobody else accesses the
        // value until the guard is dropped; `&self` borrows the guard.
        unsafe { &*self.mutex.value.get() }
    }
}

impl<T: SharedSafe> DerefMut for ShmMutexGuard<'_, T> {
    fn deref_mut(&mut self) -> &mut T {
        self.check_process();
        // SAFETY: as in `deref`, and `&mut self` makes this the only reference.
        unsafe { &mut *self.mutex.value.get() }
    }
}

impl<T: SharedSafe> Drop for ShmMutexGuard<'_, T> {
    fn drop(&mut self) {
        if self.generation != fork_generation() {
            // A copy in a forked child: the parent's thread holds the lock.
            return;
        }
        if std::thread::panicking() {
            self.mutex.inconsistent.store(1, Ordering::Relaxed);
        }
        // SAFETY: this thread holds the initialised mutex (the guard proves it).
        let rc = unsafe { libc::pthread_mutex_unlock(self.mutex.raw.get()) };
        debug_assert_eq!(rc, 0, "pthread_mutex_unlock failed");
    }
}

impl<T: SharedSafe + fmt::Debug> fmt::Debug for ShmMutexGuard<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&**self, f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn zeroed_memory_is_an_unlocked_mutex() {
        let m: ShmMutex<u64> = bytemuck::Zeroable::zeroed();
        *m.lock().unwrap() += 5;
        assert_eq!(*m.try_lock().unwrap(), 5);
        assert_eq!(m.state.load(Ordering::Relaxed), READY);
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
    #[should_panic(expected = "holds the lock already")]
    fn relocking_panics_instead_of_deadlocking() {
        let m = ShmMutex::new(0u8);
        let _a = m.lock().unwrap();
        let _b = m.lock();
    }

    #[test]
    fn threads_count_exactly() {
        let m = ShmMutex::new(0u64);
        std::thread::scope(|s| {
            for _ in 0..4 {
                s.spawn(|| {
                    for _ in 0..10_000 {
                        *m.lock().unwrap() += 1;
                    }
                });
            }
        });
        assert_eq!(m.into_inner(), 40_000);
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
        drop(m.lock().unwrap_err().into_inner());
        let mut guard = m.lock().unwrap_err().into_inner();
        ShmMutexGuard::mark_consistent(&mut guard);
        drop(guard);
        assert!(m.lock().is_ok());
    }

    #[test]
    fn a_dead_thread_is_a_dead_owner() {
        let m = ShmMutex::new(AtomicU64::new(0));
        std::thread::scope(|s| {
            s.spawn(|| std::mem::forget(m.lock().unwrap()));
        });
        // The thread exited holding the lock: the kernel marked it.
        let guard = m.lock().unwrap_err().into_inner();
        drop(guard);
        assert!(m.is_inconsistent());
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
    fn an_initialiser_that_died_is_replaced() {
        let m = ShmMutex::new(0u8);
        // pid_max is below 2^22: this pid does not exist.
        m.init_ns.store(pid_namespace(), Ordering::Relaxed);
        m.state
            .store(INITIALIZING | ((1 << 30) - 1), Ordering::Relaxed);
        *m.lock().unwrap() = 1;
        assert_eq!(m.state.load(Ordering::Relaxed), READY);
    }

    #[test]
    fn an_initialiser_in_another_pid_namespace_is_never_taken_over() {
        let m = ShmMutex::new(0u8);
        // Its pid means nothing here, so it cannot be judged dead: waiting
        // for it is bounded by the caller's timeout, never a takeover.
        m.init_ns.store(pid_namespace() + 1, Ordering::Relaxed);
        m.state
            .store(INITIALIZING | ((1 << 30) - 1), Ordering::Relaxed);
        let err = m.lock_timeout(Duration::from_millis(30)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        assert!(matches!(m.try_lock(), Err(TryLockError::WouldBlock)));
        assert_eq!(
            m.state.load(Ordering::Relaxed),
            INITIALIZING | ((1 << 30) - 1)
        );
    }
}
