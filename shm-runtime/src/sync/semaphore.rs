//! [`ShmSemaphore`]: a counting semaphore on a shared futex.

use super::futex::{self, Deadline, Wake};
use crate::error::{Error, ErrorKind, Result};
use crate::layout::{Field, TypeLayout, Validity};
use crate::SharedSafe;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// A process-shared counting semaphore: a number of permits that
/// [`acquire`](ShmSemaphore::acquire) takes one by one (waiting while there
/// are none) and [`release`](ShmSemaphore::release) gives back.
///
/// `release` makes no system call when nobody waits. Waiters spin briefly,
/// then block on a shared futex (Linux) or sleep in short steps (elsewhere).
///
/// # A dead holder's permit is lost
///
/// A permit is a number, not an owner: when a process dies between
/// `acquire` and `release`, nothing records that it held a permit, and the
/// count stays one lower for good. Where that matters, hold an
/// [`ShmMutex`](crate::ShmMutex) instead (its owner's death is detected), or
/// have a supervisor that knows its workers [`release`](ShmSemaphore::release)
/// on their behalf. A waiter that dies only leaves a waiter count behind,
/// which costs later releases a useless wake call.
///
/// All-zero bytes are a semaphore with no permits.
///
/// ```
/// use shm_runtime::{process, Shared, ShmSemaphore};
/// use std::time::Duration;
///
/// let jobs = Shared::anonymous(ShmSemaphore::new(0))?;
/// let child = process::fork(|| {
///     jobs.acquire(); // waits for the parent
/// })?;
/// jobs.release();
/// child.join(Duration::from_secs(10))?;
/// assert_eq!(jobs.available_permits(), 0);
/// # Ok::<(), shm_runtime::Error>(())
/// ```
#[repr(C)]
pub struct ShmSemaphore {
    permits: AtomicU32,
    waiters: AtomicU32,
}

// SAFETY: two `AtomicU32`s (no address, fixed layout, no drop glue),
// mutated only atomically and by shared (not private) futex calls.
unsafe impl SharedSafe for ShmSemaphore {
    const LAYOUT: &'static TypeLayout = &TypeLayout::library::<Self>(
        "ShmSemaphore",
        "ShmSemaphore futex v1",
        &[],
        &[
            Field::plain("permits", 0, AtomicU32::LAYOUT),
            Field::plain("waiters", 4, AtomicU32::LAYOUT),
        ],
        Validity::Fields,
    );
}

// SAFETY: all-zero bytes are a semaphore with no permits and no waiters.
unsafe impl bytemuck::Zeroable for ShmSemaphore {}

impl ShmSemaphore {
    /// A semaphore holding `permits` permits.
    ///
    /// ```
    /// let sem = shm_runtime::ShmSemaphore::new(3);
    /// assert_eq!(sem.available_permits(), 3);
    /// ```
    pub const fn new(permits: u32) -> ShmSemaphore {
        ShmSemaphore {
            permits: AtomicU32::new(permits),
            waiters: AtomicU32::new(0),
        }
    }

    /// Takes a permit if one is available, without waiting.
    ///
    /// ```
    /// let sem = shm_runtime::ShmSemaphore::new(1);
    /// assert!(sem.try_acquire());
    /// assert!(!sem.try_acquire());
    /// ```
    pub fn try_acquire(&self) -> bool {
        let mut permits = self.permits.load(Ordering::Relaxed);
        while permits > 0 {
            match self.permits.compare_exchange_weak(
                permits,
                permits - 1,
                Ordering::Acquire,
                Ordering::Relaxed,
            ) {
                Ok(_) => return true,
                Err(now) => permits = now,
            }
        }
        false
    }

    /// Takes a permit, waiting as long as it takes for one.
    ///
    /// ```
    /// let sem = shm_runtime::ShmSemaphore::new(1);
    /// sem.acquire();
    /// assert_eq!(sem.available_permits(), 0);
    /// ```
    pub fn acquire(&self) {
        if !futex::spin_until(|| self.try_acquire()) {
            let _ = self.block(None);
        }
    }

    /// Takes a permit, waiting at most `timeout`; a timeout is an error of
    /// kind [`TimedOut`](ErrorKind::TimedOut).
    ///
    /// ```
    /// use shm_runtime::{ErrorKind, ShmSemaphore};
    /// use std::time::Duration;
    ///
    /// let sem = ShmSemaphore::new(0);
    /// let err = sem.acquire_timeout(Duration::from_millis(10)).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::TimedOut);
    /// ```
    pub fn acquire_timeout(&self, timeout: Duration) -> Result<()> {
        crate::sigbus::check_at(self, "acquiring an ShmSemaphore")?;
        if futex::spin_until(|| self.try_acquire()) {
            return Ok(());
        }
        let deadline = Deadline::after(timeout);
        self.block(Some(&deadline)).map_err(|()| {
            Error::new(
                ErrorKind::TimedOut,
                format!("acquiring an ShmSemaphore: no permit within {timeout:?}"),
            )
        })
    }

    #[cold]
    fn block(&self, deadline: Option<&Deadline>) -> Result<(), ()> {
        // Dekker with `release`: we count ourselves, then read the permits;
        // it adds a permit, then reads the count (all SeqCst). One of us
        // sees the other, and the kernel re-checks the word before sleeping.
        self.waiters.fetch_add(1, Ordering::SeqCst);
        let result = loop {
            let permits = self.permits.load(Ordering::SeqCst);
            if permits > 0 {
                if self
                    .permits
                    .compare_exchange(permits, permits - 1, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
                {
                    break Ok(());
                }
                continue;
            }
            // Sleep in slices: `release` wakes one waiter, and should that
            // waiter be killed before it takes the permit, the others would
            // sleep on while a permit is free. Each slice re-checks.
            let slice = Deadline::after(match deadline {
                Some(d) => d.remaining().min(RECHECK),
                None => RECHECK,
            });
            if futex::wait(&self.permits, 0, Some(&slice)) == Wake::TimedOut
                && deadline.is_some_and(Deadline::passed)
            {
                // Take a permit released at the last moment rather than fail.
                break if self.try_acquire() { Ok(()) } else { Err(()) };
            }
        };
        self.waiters.fetch_sub(1, Ordering::Relaxed);
        result
    }

    /// Gives a permit back (or adds one), waking one waiter if any.
    ///
    /// # Panics
    /// If the count would exceed `u32::MAX`.
    ///
    /// ```
    /// let sem = shm_runtime::ShmSemaphore::new(0);
    /// sem.release();
    /// assert!(sem.try_acquire());
    /// ```
    pub fn release(&self) {
        if self
            .permits
            .fetch_update(Ordering::SeqCst, Ordering::Relaxed, |p| p.checked_add(1))
            .is_err()
        {
            panic!("ShmSemaphore::release: more than u32::MAX permits");
        }
        if self.waiters.load(Ordering::SeqCst) != 0 {
            futex::wake(&self.permits, 1);
        }
    }

    /// The number of permits available now (another process may change it
    /// at any moment).
    ///
    /// ```
    /// let sem = shm_runtime::ShmSemaphore::new(2);
    /// sem.acquire();
    /// assert_eq!(sem.available_permits(), 1);
    /// ```
    pub fn available_permits(&self) -> u32 {
        self.permits.load(Ordering::Relaxed)
    }
}

/// How long a blocked `acquire` sleeps before it looks at the permits again
/// (see `block`).
const RECHECK: Duration = Duration::from_millis(100);

impl fmt::Debug for ShmSemaphore {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShmSemaphore")
            .field("permits", &self.available_permits())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;

    /// The wake-up for a released permit went to a waiter that was killed
    /// before it took the permit (simulated: the permit appears without a
    /// wake). The other sleeper still finds it, on its next re-check.
    #[test]
    fn a_permit_whose_wake_up_was_lost_is_still_found() {
        let sem = Arc::new(ShmSemaphore::new(0));
        let sleeper = {
            let sem = Arc::clone(&sem);
            std::thread::spawn(move || sem.acquire_timeout(Duration::from_secs(10)))
        };
        let start = std::time::Instant::now();
        while sem.waiters.load(Ordering::SeqCst) == 0 {
            assert!(start.elapsed() < Duration::from_secs(10));
            std::thread::yield_now();
        }
        std::thread::sleep(Duration::from_millis(20)); // asleep in the kernel
        sem.permits.store(1, Ordering::SeqCst); // no wake: it went to the dead
        let woke = std::time::Instant::now();
        sleeper.join().unwrap().unwrap();
        assert!(
            woke.elapsed() < Duration::from_secs(2),
            "{:?}",
            woke.elapsed()
        );
        assert_eq!(sem.available_permits(), 0);
    }

    #[test]
    fn permits_are_counted() {
        let sem = ShmSemaphore::new(2);
        assert!(sem.try_acquire());
        assert!(sem.try_acquire());
        assert!(!sem.try_acquire());
        sem.release();
        sem.acquire_timeout(Duration::from_secs(1)).unwrap();
        let err = sem.acquire_timeout(Duration::from_millis(5)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        assert_eq!(sem.waiters.load(Ordering::Relaxed), 0);
    }

    #[test]
    #[should_panic(expected = "more than u32::MAX permits")]
    fn overflow_panics() {
        ShmSemaphore::new(u32::MAX).release();
    }

    #[test]
    fn threads_hand_over_permits() {
        let sems = Arc::new([ShmSemaphore::new(0), ShmSemaphore::new(0)]);
        let other = Arc::clone(&sems);
        let t = std::thread::spawn(move || {
            for _ in 0..1000 {
                other[0].acquire_timeout(Duration::from_secs(10)).unwrap();
                other[1].release();
            }
        });
        for _ in 0..1000 {
            sems[0].release();
            sems[1].acquire_timeout(Duration::from_secs(10)).unwrap();
        }
        t.join().unwrap();
    }
}
