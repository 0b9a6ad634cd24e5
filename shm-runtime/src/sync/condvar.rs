//! [`ShmCondvar`]: a process-shared condition variable on a shared futex.

use super::futex::{self, Deadline, Wake};
use super::{LockResult, ShmMutexGuard};
use crate::layout::{Field, TypeLayout, Validity};
use crate::SharedSafe;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Whether a timed wait on an [`ShmCondvar`] ran out of time (std's type of
/// the same name, which cannot be built outside std).
///
/// ```
/// use shm_runtime::{ShmCondvar, ShmMutex};
/// use std::time::Duration;
///
/// let (m, cv) = (ShmMutex::new(()), ShmCondvar::new());
/// let (_guard, result) = cv.wait_timeout(m.lock().unwrap(), Duration::from_millis(1)).unwrap();
/// assert!(result.timed_out());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct WaitTimeoutResult(bool);

impl WaitTimeoutResult {
    /// Whether the wait ended because its time ran out.
    pub fn timed_out(&self) -> bool {
        self.0
    }
}

/// A condition variable shared between processes, used with the guards of
/// [`ShmMutex`](crate::ShmMutex). Method names and behaviour are std's
/// `Condvar`'s: waits may wake spuriously (the `*_while` forms loop for you),
/// and re-taking the mutex reports a dead owner as
/// [`OwnerDied`](crate::sync::OwnerDied), with the guard inside.
///
/// # Why not `pthread_cond_t`
///
/// It is a sequence number and a waiter count on a shared futex, not a
/// process-shared `pthread_cond_t`. Since glibc 2.25 a `pthread_cond_t` keeps
/// waiter groups and reference counts in shared memory that a waiter killed
/// in `pthread_cond_wait` never gives back: later signals can be spent on the
/// dead waiter (lost wake-ups) and `pthread_cond_destroy` can hang. Here a
/// dead waiter leaves only its count, which costs later notifications a
/// useless wake call: the kernel drops a dead process's futex waits, so
/// [`notify_one`](ShmCondvar::notify_one) always wakes a live waiter. A
/// notification with nobody waiting makes no system call.
///
/// Waits are measured on `CLOCK_MONOTONIC`. As with std's `Condvar`, the
/// timeout of [`wait_timeout`](ShmCondvar::wait_timeout) and
/// [`wait_timeout_while`](ShmCondvar::wait_timeout_while) bounds the wait for
/// a notification, not the re-taking of the mutex that follows: a waiter
/// returns with the guard, so it waits for a live thread (or process) that
/// holds the mutex as long as that holds it. A holder that died is detected
/// as by [`ShmMutex::lock`](crate::ShmMutex::lock) and reported as
/// [`OwnerDied`](crate::sync::OwnerDied). One condition variable may be used
/// with several mutexes. Should exactly 2^32 notifications happen
/// between a waiter's last look at the sequence number and its sleep, the
/// waiter cannot tell and sleeps until the next notification (std's futex
/// condvar shares this theoretical limit).
///
/// All-zero bytes are a condition variable without waiters.
///
/// ```
/// use shm_runtime::{init, process, Shared, SharedSafe, ShmCondvar, ShmMutex};
/// use std::time::Duration;
///
/// #[derive(SharedSafe, bytemuck::Zeroable)]
/// #[repr(C)]
/// struct Flag {
///     done: ShmMutex<bool>,
///     cv: ShmCondvar,
/// }
///
/// let flag = Shared::<Flag>::anonymous(init::zeroed())?;
/// let child = process::fork(|| {
///     *flag.done.lock().unwrap() = true;
///     flag.cv.notify_one();
/// })?;
/// let done = flag.cv.wait_while(flag.done.lock().unwrap(), |done| !*done).unwrap();
/// assert!(*done);
/// # drop(done);
/// child.join(Duration::from_secs(10))?;
/// # Ok::<(), shm_runtime::Error>(())
/// ```
#[repr(C)]
pub struct ShmCondvar {
    seq: AtomicU32,
    waiters: AtomicU32,
}

// SAFETY: two `AtomicU32`s (no address, fixed layout, no drop glue),
// mutated only atomically and by shared (not private) futex calls.
unsafe impl SharedSafe for ShmCondvar {
    const LAYOUT: &'static TypeLayout = &TypeLayout::library::<Self>(
        "ShmCondvar",
        "ShmCondvar futex v1",
        &[],
        &[
            Field::plain("seq", 0, AtomicU32::LAYOUT),
            Field::plain("waiters", 4, AtomicU32::LAYOUT),
        ],
        Validity::Fields,
    );
}

// SAFETY: all-zero bytes are a condition variable without waiters.
unsafe impl bytemuck::Zeroable for ShmCondvar {}

impl ShmCondvar {
    /// A new condition variable.
    ///
    /// ```
    /// let cv = shm_runtime::ShmCondvar::new();
    /// cv.notify_all(); // nobody waits: no system call
    /// ```
    pub const fn new() -> ShmCondvar {
        ShmCondvar {
            seq: AtomicU32::new(0),
            waiters: AtomicU32::new(0),
        }
    }

    /// Unlocks the guard's mutex, waits for a notification (or a spurious
    /// wake-up), and locks it again.
    ///
    /// # Panics
    /// As [`ShmMutex::lock`](crate::ShmMutex::lock) when re-locking.
    ///
    /// ```
    /// use shm_runtime::{ShmCondvar, ShmMutex};
    ///
    /// let (m, cv) = (ShmMutex::new(false), ShmCondvar::new());
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         *m.lock().unwrap() = true;
    ///         cv.notify_one();
    ///     });
    ///     let mut ready = m.lock().unwrap();
    ///     while !*ready {
    ///         ready = cv.wait(ready).unwrap();
    ///     }
    /// });
    /// ```
    pub fn wait<'a, T: SharedSafe>(
        &self,
        guard: ShmMutexGuard<'a, T>,
    ) -> LockResult<ShmMutexGuard<'a, T>> {
        match self.wait_until(guard, None) {
            Ok((guard, _)) => Ok(guard),
            Err(died) => Err(died.map(|(guard, _)| guard)),
        }
    }

    /// Like [`wait`](ShmCondvar::wait), for at most `timeout` without a
    /// notification. Then the mutex is taken again, which waits (like
    /// [`ShmMutex::lock`](crate::ShmMutex::lock), and like std's
    /// `Condvar::wait_timeout`) as long as another live thread or process
    /// holds it: the call can last longer than `timeout`.
    ///
    /// ```
    /// use shm_runtime::{ShmCondvar, ShmMutex};
    /// use std::time::Duration;
    ///
    /// let (m, cv) = (ShmMutex::new(0u8), ShmCondvar::new());
    /// let (guard, result) = cv.wait_timeout(m.lock().unwrap(), Duration::from_millis(5)).unwrap();
    /// assert!(result.timed_out());
    /// assert_eq!(*guard, 0);
    /// ```
    pub fn wait_timeout<'a, T: SharedSafe>(
        &self,
        guard: ShmMutexGuard<'a, T>,
        timeout: Duration,
    ) -> LockResult<(ShmMutexGuard<'a, T>, WaitTimeoutResult)> {
        self.wait_until(guard, Some(&Deadline::after(timeout)))
    }

    /// Waits while `condition` holds for the guarded value.
    ///
    /// If a previous owner of the mutex died, this returns
    /// `Err(OwnerDied)` at once, holding the lock, *without* checking
    /// `condition` again: the condition may still hold. Repair the value,
    /// mark it consistent, and wait again if needed.
    ///
    /// ```
    /// use shm_runtime::{ShmCondvar, ShmMutex};
    ///
    /// let (m, cv) = (ShmMutex::new(0u32), ShmCondvar::new());
    /// std::thread::scope(|s| {
    ///     s.spawn(|| {
    ///         *m.lock().unwrap() = 3;
    ///         cv.notify_all();
    ///     });
    ///     let n = cv.wait_while(m.lock().unwrap(), |n| *n < 3).unwrap();
    ///     assert_eq!(*n, 3);
    /// });
    /// ```
    pub fn wait_while<'a, T: SharedSafe>(
        &self,
        mut guard: ShmMutexGuard<'a, T>,
        mut condition: impl FnMut(&mut T) -> bool,
    ) -> LockResult<ShmMutexGuard<'a, T>> {
        while condition(&mut *guard) {
            guard = self.wait(guard)?;
        }
        Ok(guard)
    }

    /// Waits while `condition` holds for the guarded value, for at most
    /// `timeout` in all (waiting for notifications; re-taking the mutex after
    /// the last one may take longer, as in [`wait_timeout`](ShmCondvar::wait_timeout));
    /// `timed_out()` tells whether the condition still held.
    /// On `Err(OwnerDied)` the condition is not checked again, as in
    /// [`wait_while`](ShmCondvar::wait_while).
    ///
    /// ```
    /// use shm_runtime::{ShmCondvar, ShmMutex};
    /// use std::time::Duration;
    ///
    /// let (m, cv) = (ShmMutex::new(0u32), ShmCondvar::new());
    /// let (n, result) = cv
    ///     .wait_timeout_while(m.lock().unwrap(), Duration::from_millis(5), |n| *n == 0)
    ///     .unwrap();
    /// assert!(result.timed_out() && *n == 0);
    /// ```
    pub fn wait_timeout_while<'a, T: SharedSafe>(
        &self,
        mut guard: ShmMutexGuard<'a, T>,
        timeout: Duration,
        mut condition: impl FnMut(&mut T) -> bool,
    ) -> LockResult<(ShmMutexGuard<'a, T>, WaitTimeoutResult)> {
        let deadline = Deadline::after(timeout);
        loop {
            if !condition(&mut *guard) {
                return Ok((guard, WaitTimeoutResult(false)));
            }
            if deadline.passed() {
                return Ok((guard, WaitTimeoutResult(true)));
            }
            guard = self.wait_until(guard, Some(&deadline))?.0;
        }
    }

    /// Wakes one waiter, if any (in any process).
    ///
    /// ```
    /// shm_runtime::ShmCondvar::new().notify_one();
    /// ```
    pub fn notify_one(&self) {
        self.notify(1);
    }

    /// Wakes every waiter (in every process).
    ///
    /// ```
    /// shm_runtime::ShmCondvar::new().notify_all();
    /// ```
    pub fn notify_all(&self) {
        self.notify(i32::MAX);
    }

    fn notify(&self, count: i32) {
        // Dekker with `wait_until`: we bump the sequence, then read the
        // waiter count; a waiter counts itself, then reads the sequence.
        self.seq.fetch_add(1, Ordering::SeqCst);
        if self.waiters.load(Ordering::SeqCst) != 0 {
            futex::wake(&self.seq, count);
        }
    }

    fn wait_until<'a, T: SharedSafe>(
        &self,
        guard: ShmMutexGuard<'a, T>,
        deadline: Option<&Deadline>,
    ) -> LockResult<(ShmMutexGuard<'a, T>, WaitTimeoutResult)> {
        // Both happen while the mutex is held: a notifier that changed the
        // condition after our caller checked it did so after this point, so
        // it bumps the sequence after we read it and sees our count.
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let seq = self.seq.load(Ordering::SeqCst);
        let mutex = guard.unlock();
        let woke = futex::wait(&self.seq, seq, deadline);
        self.waiters.fetch_sub(1, Ordering::Relaxed);
        let timed_out = WaitTimeoutResult(woke == Wake::TimedOut);
        // Unbounded, as std's: the caller gets the guard back. We released
        // the lock above, so this thread does not hold it: `relock` never
        // takes it for this thread's (it never panics), and a dead holder
        // is taken over with `OwnerDied`.
        match mutex.relock() {
            Ok(guard) => Ok((guard, timed_out)),
            Err(died) => Err(died.map(|guard| (guard, timed_out))),
        }
    }
}

impl Default for ShmCondvar {
    fn default() -> ShmCondvar {
        ShmCondvar::new()
    }
}

impl fmt::Debug for ShmCondvar {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShmCondvar").finish_non_exhaustive()
    }
}

impl<T: SharedSafe> super::poison::sealed::Sealed for (ShmMutexGuard<'_, T>, WaitTimeoutResult) {}

impl<T: SharedSafe> super::LockedValue for (ShmMutexGuard<'_, T>, WaitTimeoutResult) {
    type Value = T;

    fn value_ptr(&self) -> *mut T {
        self.0.value_ptr()
    }

    fn mark_consistent(&mut self) {
        ShmMutexGuard::mark_consistent(&mut self.0);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::ShmMutex;
    use std::sync::Arc;

    #[test]
    fn timeout_reports_timed_out_and_relocks() {
        let (m, cv) = (ShmMutex::new(1u8), ShmCondvar::new());
        let (guard, result) = cv
            .wait_timeout(m.lock().unwrap(), Duration::from_millis(10))
            .unwrap();
        assert!(result.timed_out());
        assert_eq!(*guard, 1);
        drop(guard);
        assert_eq!(cv.waiters.load(Ordering::Relaxed), 0);
    }

    #[test]
    fn threads_ping_pong_without_lost_wakeups() {
        let shared = Arc::new((ShmMutex::new(0u32), ShmCondvar::new()));
        let other = Arc::clone(&shared);
        let t = std::thread::spawn(move || {
            let (m, cv) = &*other;
            for i in 0..1000 {
                let turn = cv.wait_timeout_while(m.lock().unwrap(), Duration::from_secs(10), |t| {
                    *t != 2 * i + 1
                });
                let (mut turn, result) = turn.unwrap();
                assert!(!result.timed_out());
                *turn += 1;
                cv.notify_one();
            }
        });
        let (m, cv) = &*shared;
        for i in 0..1000 {
            *m.lock().unwrap() += 1;
            cv.notify_one();
            let (_turn, result) = cv
                .wait_timeout_while(m.lock().unwrap(), Duration::from_secs(10), |t| {
                    *t != 2 * i + 2
                })
                .unwrap();
            assert!(!result.timed_out());
        }
        t.join().unwrap();
    }
}
