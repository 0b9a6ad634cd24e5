//! What a locker is told when a lock's previous holder died: [`OwnerDied`]
//! (the lock is held, the value to be checked and repaired), [`TornValue`]
//! (the value is no valid value any more), and [`LockedValue`], what either
//! wraps.

use crate::layout::InvalidValue;
use crate::SharedSafe;
use std::fmt;
use std::mem::MaybeUninit;

/// The result of locking an [`ShmMutex`](super::ShmMutex): the guard, or the guard wrapped in
/// [`OwnerDied`] when the data may be inconsistent.
pub type LockResult<G> = std::result::Result<G, OwnerDied<G>>;

/// The result of [`ShmMutex::try_lock`](super::ShmMutex::try_lock).
pub type TryLockResult<G> = std::result::Result<G, TryLockError<G>>;

/// Why [`ShmMutex::try_lock`](super::ShmMutex::try_lock) did not simply return a guard.
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

/// A lock was taken, but its previous owner died (or panicked) while holding
/// it, and nobody has declared the data consistent since: the data may be
/// half-updated. The lock is held. Like std's `PoisonError`, with one more
/// case: a process killed between two stores of a wide value (a `u128`, or a
/// `u64` on a 32-bit target) can leave bytes that are no valid value at all
/// (a `NonZeroU128` equal to 0, an enum of no variant). The value is checked
/// ([`TypeLayout::check`](crate::layout::TypeLayout::check)) before any
/// reference to it exists:
///
/// * valid: [`into_inner`](OwnerDied::into_inner) gives the guard, to
///   inspect and repair the data, then call
///   [`ShmMutexGuard::mark_consistent`](super::ShmMutexGuard::mark_consistent);
/// * not valid: `into_inner` gives a [`TornValue`] instead, which offers only
///   what is safe: a new value, or the raw bytes.
///
/// For a type whose every bit pattern is valid (integers, floats, integer
/// atomics and structs of them) the check is compiled out and the value is
/// always valid.
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
/// let mut guard = died.into_inner().expect("a u32 is always valid");
/// *guard = 0; // repair
/// ShmMutexGuard::mark_consistent(&mut guard);
/// drop(guard);
/// assert!(m.lock().is_ok());
/// ```
pub struct OwnerDied<G> {
    guard: G,
    /// Why the value is not a valid one, if it is not.
    invalid: Option<InvalidValue>,
}

impl<G> OwnerDied<G> {
    /// A lock whose value passed its validity check.
    pub(crate) fn new(guard: G) -> OwnerDied<G> {
        OwnerDied {
            guard,
            invalid: None,
        }
    }

    /// A lock whose value failed its validity check.
    pub(crate) fn torn(guard: G, invalid: InvalidValue) -> OwnerDied<G> {
        OwnerDied {
            guard,
            invalid: Some(invalid),
        }
    }

    pub(crate) fn map<U>(self, f: impl FnOnce(G) -> U) -> OwnerDied<U> {
        OwnerDied {
            guard: f(self.guard),
            invalid: self.invalid,
        }
    }

    /// The guard (the lock is held), or, when the value is not a valid one,
    /// a [`TornValue`] to replace it.
    ///
    /// ```
    /// let m = shm_runtime::ShmMutex::new(1u8);
    /// let guard = m.lock().unwrap_or_else(|died| died.into_inner().unwrap());
    /// assert_eq!(*guard, 1);
    /// ```
    pub fn into_inner(self) -> Result<G, TornValue<G>> {
        match self.invalid {
            None => Ok(self.guard),
            Some(invalid) => Err(TornValue {
                guard: self.guard,
                invalid,
            }),
        }
    }

    /// Why the value is not a valid one; `None` when it is.
    ///
    /// ```
    /// let m = shm_runtime::ShmMutex::new(true);
    /// std::thread::scope(|s| {
    ///     let _ = s.spawn(|| { let _g = m.lock(); panic!("oops") }).join();
    /// });
    /// assert!(m.lock().unwrap_err().invalid().is_none()); // a panic cannot tear it
    /// ```
    pub fn invalid(&self) -> Option<&InvalidValue> {
        self.invalid.as_ref()
    }

    /// A reference to the guard, when the value is valid.
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
    /// assert_eq!(**died.get_ref().unwrap(), 1);
    /// ```
    pub fn get_ref(&self) -> Option<&G> {
        self.invalid.is_none().then_some(&self.guard)
    }

    /// A mutable reference to the guard, when the value is valid.
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
    /// **died.get_mut().unwrap() = 0;
    /// ```
    pub fn get_mut(&mut self) -> Option<&mut G> {
        match self.invalid {
            None => Some(&mut self.guard),
            Some(_) => None,
        }
    }
}

impl<G: LockedValue> OwnerDied<G> {
    /// The guard after recovery: `repair` runs on a valid value, a torn one
    /// is replaced by `reset()`; either way the data is marked consistent.
    ///
    /// ```
    /// let m = shm_runtime::ShmMutex::new(5u8);
    /// let guard = match m.lock() {
    ///     Ok(guard) => guard,
    ///     Err(died) => died.into_repaired(|v| *v = 0, || 0),
    /// };
    /// assert_eq!(*guard, 5);
    /// ```
    pub fn into_repaired(
        self,
        repair: impl FnOnce(&mut G::Value),
        reset: impl FnOnce() -> G::Value,
    ) -> G {
        match self.into_inner() {
            Ok(mut guard) => {
                // SAFETY: the value passed its check, and the lock is held.
                repair(unsafe { &mut *guard.value_ptr() });
                guard.mark_consistent();
                guard
            }
            Err(torn) => torn.reset(reset()),
        }
    }
}

impl<G> fmt::Debug for OwnerDied<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OwnerDied")
            .field("invalid", &self.invalid)
            .finish_non_exhaustive()
    }
}

impl<G> fmt::Display for OwnerDied<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(
            "a previous owner of the ShmMutex died or panicked while holding it: \
             the data may be inconsistent",
        )?;
        if let Some(invalid) = &self.invalid {
            write!(f, ", and is not even a valid value ({invalid})")?;
        }
        Ok(())
    }
}

impl<G> std::error::Error for OwnerDied<G> {}

/// An owner's death as an [`Error`](crate::Error) of kind
/// [`OwnerDied`](crate::ErrorKind::OwnerDied), for `?`: the guard is
/// dropped, which unlocks the mutex and leaves it marked inconsistent (a
/// later `lock` reports the death again, `lock_or_repair` repairs it). The
/// message says whether the value is even a valid one.
///
/// ```
/// use shm_runtime::{ErrorKind, ShmMutex};
///
/// fn read(m: &ShmMutex<u32>) -> shm_runtime::Result<u32> {
///     Ok(*m.lock()?) // `?` converts an `OwnerDied`
/// }
///
/// let m = ShmMutex::new(5u32);
/// assert_eq!(read(&m)?, 5);
/// std::thread::scope(|s| {
///     let _ = s.spawn(|| { let _g = m.lock(); panic!("mid-update") }).join();
/// });
/// assert_eq!(read(&m).unwrap_err().kind(), ErrorKind::OwnerDied);
/// assert!(m.is_inconsistent()); // still marked
/// # Ok::<(), shm_runtime::Error>(())
/// ```
impl<G> From<OwnerDied<G>> for crate::Error {
    fn from(died: OwnerDied<G>) -> crate::Error {
        let message = format!(
            "locking an ShmMutex: {died}; the lock was released and the mutex stays marked \
             inconsistent (`lock()` then `mark_consistent`, or `lock_or_repair`, repairs it)"
        );
        // Unlocks without marking the data consistent.
        drop(died);
        crate::Error::new(crate::ErrorKind::OwnerDied, message)
    }
}

/// The value of a lock whose owner died, found not to be a valid value of
/// its type: no reference to it is ever handed out. The lock is held;
/// [`reset`](TornValue::reset) replaces the value (and marks the lock
/// consistent), [`bytes`](TornValue::bytes) shows what is there.
///
/// ```
/// use shm_runtime::ShmMutex;
///
/// let m = ShmMutex::new(3u8);
/// let guard = match m.lock() {
///     Ok(guard) => guard,
///     Err(died) => match died.into_inner() {
///         Ok(guard) => guard,
///         Err(torn) => torn.reset(0),
///     },
/// };
/// assert_eq!(*guard, 3);
/// ```
pub struct TornValue<G> {
    guard: G,
    invalid: InvalidValue,
}

impl<G> TornValue<G> {
    /// What is not valid, and where.
    ///
    /// ```
    /// # fn f(torn: shm_runtime::sync::TornValue<shm_runtime::ShmMutexGuard<'_, bool>>) {
    /// eprintln!("torn: {}", torn.invalid());
    /// # }
    /// ```
    pub fn invalid(&self) -> &InvalidValue {
        &self.invalid
    }
}

impl<G: LockedValue> TornValue<G> {
    /// Replaces the value by `value` (with zeroed padding), marks the lock
    /// consistent, and gives the guard.
    ///
    /// ```
    /// # fn f(torn: shm_runtime::sync::TornValue<shm_runtime::ShmMutexGuard<'_, bool>>) {
    /// let guard = torn.reset(false);
    /// assert!(!*guard);
    /// # }
    /// ```
    pub fn reset(mut self, value: G::Value) -> G {
        // SAFETY: the lock is held, so nobody else reads or writes the value;
        // the old bytes are overwritten without being read or dropped
        // (`SharedSafe` types have no drop glue).
        unsafe { crate::layout::write_zero_padded(self.guard.value_ptr(), value) };
        self.guard.mark_consistent();
        self.guard
    }

    /// The value's bytes as they are. `MaybeUninit`: some of them may be
    /// padding.
    ///
    /// ```
    /// # fn f(torn: shm_runtime::sync::TornValue<shm_runtime::ShmMutexGuard<'_, bool>>) {
    /// let first = torn.bytes()[0];
    /// # }
    /// ```
    pub fn bytes(&self) -> &[MaybeUninit<u8>] {
        // SAFETY: the value's `size_of` bytes lie inside the mutex, and the
        // lock is held for as long as `self` lives, so nobody writes them;
        // `MaybeUninit<u8>` accepts any byte, and padding.
        unsafe {
            std::slice::from_raw_parts(
                self.guard.value_ptr().cast::<MaybeUninit<u8>>(),
                std::mem::size_of::<G::Value>(),
            )
        }
    }
}

impl<G> fmt::Debug for TornValue<G> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TornValue")
            .field("invalid", &self.invalid)
            .finish_non_exhaustive()
    }
}

/// Only the guards of this module implement [`LockedValue`].
pub(super) mod sealed {
    pub trait Sealed {}
}

/// What holds a locked [`ShmMutex`](super::ShmMutex)'s value: its guard, or the guard and a
/// [`WaitTimeoutResult`](super::WaitTimeoutResult) from a condition variable. Lets [`OwnerDied`] and
/// [`TornValue`] replace or repair the value whatever they wrap. Sealed.
///
/// ```
/// use shm_runtime::sync::LockedValue;
/// fn takes<G: LockedValue<Value = u32>>(_: G) {}
/// takes(shm_runtime::ShmMutex::new(1u32).lock().unwrap());
/// ```
pub trait LockedValue: sealed::Sealed {
    /// The type of the value the lock guards.
    type Value: SharedSafe;

    /// The value, which the lock's holder may read and write.
    #[doc(hidden)]
    fn value_ptr(&self) -> *mut Self::Value;

    /// Declares the value consistent.
    #[doc(hidden)]
    fn mark_consistent(&mut self);
}
