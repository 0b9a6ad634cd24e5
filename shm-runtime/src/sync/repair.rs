//! Locking an [`ShmMutex`] and repairing, in the same call, what a holder
//! that died left: [`lock_or_repair`](ShmMutex::lock_or_repair) and its
//! timed form, built on [`ShmMutex::lock`] and [`OwnerDied::into_repaired`].

use super::{ShmMutex, ShmMutexGuard};
use crate::error::Result;
use crate::SharedSafe;
use std::time::Duration;

impl<T: SharedSafe> ShmMutex<T> {
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

    /// [`lock_or_repair`](ShmMutex::lock_or_repair), waiting at most
    /// `timeout`: the guard, with the value repaired (or reset, when it is
    /// torn) if a previous owner died or panicked. Fails as
    /// [`lock_timeout`](ShmMutex::lock_timeout) does, and runs neither
    /// closure then: [`TimedOut`](crate::ErrorKind::TimedOut) when the lock is
    /// still held after `timeout`, [`WouldDeadlock`](crate::ErrorKind::WouldDeadlock)
    /// when this thread holds it, [`Truncated`](crate::ErrorKind::Truncated) in a
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
}
