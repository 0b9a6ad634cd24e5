//! [`ShmEvent`]: a flag that processes wait for, on a shared futex.

use super::futex::{self, Deadline, Wake};
use crate::error::{Error, ErrorKind, Result};
use crate::layout::{Field, TypeLayout, Validity};
use crate::SharedSafe;
use std::fmt;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

/// Bit 0 of the state word: the event is set.
const SET: u32 = 1;
/// The rest counts the waiters blocked (or about to block) in the kernel.
const WAITER: u32 = 2;

/// A process-shared event: a flag that is set or not, and that processes
/// and threads wait for. It stays set (waking every waiter, present and
/// future) until [`reset`](ShmEvent::reset).
///
/// One 32-bit word holds the flag and the number of blocked waiters, so
/// [`set`](ShmEvent::set) makes no system call when nobody waits, and a
/// waiter spins briefly before it blocks in the kernel. On Linux waiters
/// block on a shared futex; on other systems they sleep in short steps and
/// re-check (correct, with a reaction time of up to a millisecond).
///
/// A waiter that dies while blocked leaves its count behind: later `set`s
/// then make one useless `futex` wake call each, and nothing else changes.
///
/// All-zero bytes are an unset event, so it may live in memory from
/// [`Shared::anonymous(init::zeroed())`](crate::Shared::anonymous).
///
/// ```
/// use shm_runtime::{process, Shared, ShmEvent};
/// use std::time::Duration;
///
/// let ready = Shared::anonymous(ShmEvent::new())?;
/// let child = process::fork(|| ready.set())?;
/// ready.wait();
/// assert!(ready.is_set());
/// child.join(Duration::from_secs(10))?;
/// # Ok::<(), shm_runtime::Error>(())
/// ```
#[repr(C)]
pub struct ShmEvent {
    state: AtomicU32,
}

// SAFETY: one `AtomicU32` (no address, fixed layout, no drop glue), mutated
// only by atomic operations and the kernel's futex calls, which key a shared
// futex by the physical page, not by this process's address.
unsafe impl SharedSafe for ShmEvent {
    const LAYOUT: &'static TypeLayout = &TypeLayout::library::<Self>(
        "ShmEvent",
        "ShmEvent futex v1",
        &[],
        &[Field::plain("state", 0, AtomicU32::LAYOUT)],
        Validity::Fields,
    );
}

// SAFETY: all-zero bytes are an unset event with no waiters.
unsafe impl bytemuck::Zeroable for ShmEvent {}

impl ShmEvent {
    /// A new event, not set.
    ///
    /// ```
    /// let event = shm_runtime::ShmEvent::new();
    /// assert!(!event.is_set());
    /// ```
    pub const fn new() -> ShmEvent {
        ShmEvent {
            state: AtomicU32::new(0),
        }
    }

    /// Sets the event and wakes every waiter. What this thread wrote before
    /// `set` is visible to a waiter once its wait returns.
    ///
    /// ```
    /// let event = shm_runtime::ShmEvent::new();
    /// event.set();
    /// event.wait(); // returns at once
    /// ```
    pub fn set(&self) {
        let old = self.state.fetch_or(SET, Ordering::Release);
        // Both this and a waiter's registration are read-modify-writes of the
        // same word: either we see its count here, or it sees `SET`.
        if old >= WAITER {
            futex::wake(&self.state, i32::MAX);
        }
    }

    /// Clears the event; later waits block until the next [`set`](ShmEvent::set).
    ///
    /// ```
    /// let event = shm_runtime::ShmEvent::new();
    /// event.set();
    /// event.reset();
    /// assert!(!event.is_set());
    /// ```
    pub fn reset(&self) {
        self.state.fetch_and(!SET, Ordering::Relaxed);
    }

    /// Whether the event is set.
    ///
    /// ```
    /// let event = shm_runtime::ShmEvent::new();
    /// assert!(!event.is_set());
    /// ```
    pub fn is_set(&self) -> bool {
        self.state.load(Ordering::Acquire) & SET != 0
    }

    /// Blocks until the event is set.
    ///
    /// ```
    /// use shm_runtime::{Shared, ShmEvent};
    /// use std::thread;
    ///
    /// let event = Shared::anonymous(ShmEvent::new())?;
    /// thread::scope(|s| {
    ///     s.spawn(|| event.set());
    ///     event.wait();
    /// });
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn wait(&self) {
        if !self.spin() {
            let _ = self.block(None);
        }
    }

    /// Blocks until the event is set or `timeout` has passed; a timeout is
    /// an error of kind [`TimedOut`](ErrorKind::TimedOut).
    ///
    /// ```
    /// use shm_runtime::{ErrorKind, ShmEvent};
    /// use std::time::Duration;
    ///
    /// let event = ShmEvent::new();
    /// let err = event.wait_timeout(Duration::from_millis(10)).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::TimedOut);
    /// ```
    pub fn wait_timeout(&self, timeout: Duration) -> Result<()> {
        crate::sigbus::check_at(self, "waiting for an ShmEvent")?;
        if self.spin() {
            return Ok(());
        }
        let deadline = Deadline::after(timeout);
        self.block(Some(&deadline)).map_err(|()| {
            Error::new(
                ErrorKind::TimedOut,
                format!("waiting for an ShmEvent: not set within {timeout:?}"),
            )
        })
    }

    fn spin(&self) -> bool {
        futex::spin_until(|| self.is_set())
    }

    #[cold]
    fn block(&self, deadline: Option<&Deadline>) -> Result<(), ()> {
        let mut state = self.state.fetch_add(WAITER, Ordering::Acquire) + WAITER;
        let result = loop {
            if state & SET != 0 {
                break Ok(());
            }
            if futex::wait(&self.state, state, deadline) == Wake::TimedOut {
                // Set at the last moment? Then it did not time out.
                break if self.is_set() { Ok(()) } else { Err(()) };
            }
            state = self.state.load(Ordering::Acquire);
        };
        self.state.fetch_sub(WAITER, Ordering::Relaxed);
        result
    }
}

impl Default for ShmEvent {
    fn default() -> ShmEvent {
        ShmEvent::new()
    }
}

impl fmt::Debug for ShmEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ShmEvent")
            .field("set", &self.is_set())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Arc;
    use std::time::Instant;

    #[test]
    fn set_before_wait_returns_at_once() {
        let event = ShmEvent::new();
        event.set();
        event.wait();
        event.wait_timeout(Duration::ZERO).unwrap();
    }

    #[test]
    fn wait_timeout_times_out_and_unregisters() {
        let event = ShmEvent::new();
        let start = Instant::now();
        let err = event.wait_timeout(Duration::from_millis(20)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        assert!(start.elapsed() >= Duration::from_millis(20));
        assert_eq!(
            event.state.load(Ordering::Relaxed),
            0,
            "waiter count left behind"
        );
    }

    #[test]
    fn threads_ping_pong() {
        let events = Arc::new([ShmEvent::new(), ShmEvent::new()]);
        let other = Arc::clone(&events);
        let t = std::thread::spawn(move || {
            for _ in 0..1000 {
                other[0].wait_timeout(Duration::from_secs(10)).unwrap();
                other[0].reset();
                other[1].set();
            }
        });
        for _ in 0..1000 {
            events[0].set();
            events[1].wait_timeout(Duration::from_secs(10)).unwrap();
            events[1].reset();
        }
        t.join().unwrap();
    }
}
