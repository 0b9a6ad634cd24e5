//! Waiting on a 32-bit word shared between processes, and waking waiters.
//!
//! On Linux this is the `futex` system call **without** `FUTEX_PRIVATE_FLAG`:
//! the kernel keys a shared futex by the page and offset of the word, so a
//! process that maps the same memory at another address still meets the
//! same waiters. Elsewhere it falls back to sleeping in short, growing
//! steps and re-reading the word (correct, slower to react).

use std::sync::atomic::{AtomicU32, AtomicU64};
use std::time::Duration;

/// An absolute point on `CLOCK_MONOTONIC`, the clock of every timeout here:
/// it never jumps when the wall clock is set.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Deadline(libc::timespec);

impl Deadline {
    /// Now plus `timeout` (saturating far in the future).
    pub(crate) fn after(timeout: Duration) -> Deadline {
        Deadline(add(now(libc::CLOCK_MONOTONIC), timeout))
    }

    /// Whether the deadline has passed.
    pub(crate) fn passed(&self) -> bool {
        let now = now(libc::CLOCK_MONOTONIC);
        (now.tv_sec, now.tv_nsec) >= (self.0.tv_sec, self.0.tv_nsec)
    }

    /// Time left until the deadline, zero once it has passed.
    pub(crate) fn remaining(&self) -> Duration {
        let now = now(libc::CLOCK_MONOTONIC);
        let end = Duration::new(self.0.tv_sec as u64, self.0.tv_nsec as u32);
        let now = Duration::new(now.tv_sec as u64, now.tv_nsec as u32);
        end.saturating_sub(now)
    }

    /// The deadline as an absolute `timespec` on `CLOCK_MONOTONIC`.
    pub(crate) fn monotonic(&self) -> libc::timespec {
        self.0
    }
}

pub(crate) fn now(clock: libc::clockid_t) -> libc::timespec {
    let mut ts = libc::timespec {
        tv_sec: 0,
        tv_nsec: 0,
    };
    // SAFETY: `ts` is a valid out-pointer; both clocks exist on every
    // supported system, so the call cannot fail.
    unsafe { libc::clock_gettime(clock, &mut ts) };
    ts
}

// `time_t` and `c_long` are 32 bits wide on some targets.
#[allow(clippy::useless_conversion)]
fn add(ts: libc::timespec, d: Duration) -> libc::timespec {
    // Longer timeouts mean "forever" (34 years) and cannot overflow.
    const FOREVER: u64 = 1 << 30;
    let mut sec = i64::from(ts.tv_sec) + d.as_secs().min(FOREVER) as i64;
    let mut nsec = i64::from(ts.tv_nsec) + i64::from(d.subsec_nanos());
    if nsec >= 1_000_000_000 {
        nsec -= 1_000_000_000;
        sec += 1;
    }
    libc::timespec {
        tv_sec: libc::time_t::try_from(sec).unwrap_or(libc::time_t::MAX),
        tv_nsec: nsec as _,
    }
}

/// Why [`wait`] returned.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Wake {
    /// Woken, interrupted, spuriously, or the word was not `expected`:
    /// re-check the condition.
    Retry,
    /// The deadline passed.
    TimedOut,
}

/// Blocks while `word` holds `expected`, until woken by [`wake`] or
/// `deadline`. May return early (spuriously): callers loop.
#[cfg(target_os = "linux")]
pub(crate) fn wait(word: &AtomicU32, expected: u32, deadline: Option<&Deadline>) -> Wake {
    wait_at(word.as_ptr(), expected, deadline)
}

/// The address of the low half (as a number) of a 64-bit word: the futex
/// word of a 64-bit lock word. All Rust code accesses the word as one
/// `AtomicU64`; only the kernel reads this half, atomically, as another
/// process's 32-bit view would.
fn low_half(word: &AtomicU64) -> *mut u32 {
    let at = word.as_ptr().cast::<u32>();
    if cfg!(target_endian = "big") {
        at.wrapping_add(1)
    } else {
        at
    }
}

/// Blocks while the low half of `word` holds `expected`, until woken by
/// [`wake_low`] or `deadline`. May return early (spuriously): callers loop.
///
/// Not under Miri, which emulates the kernel's read of the futex word as a
/// 4-byte atomic access of the program's own, mixed with the 8-byte ones,
/// and reports that as a data race. (The real kernel is no part of the
/// program: its read is another process's, as for any shared futex.) Miri
/// runs the polling fallback below instead.
#[cfg(all(target_os = "linux", not(miri)))]
pub(crate) fn wait_low(word: &AtomicU64, expected: u32, deadline: Option<&Deadline>) -> Wake {
    wait_at(low_half(word), expected, deadline)
}

/// Wakes up to `count` processes or threads blocked in [`wait_low`] on `word`.
#[cfg(all(target_os = "linux", not(miri)))]
pub(crate) fn wake_low(word: &AtomicU64, count: i32) {
    wake_at(low_half(word), count);
}

/// [`wait`] on the aligned 32-bit word at `at`, inside a live atomic.
#[cfg(target_os = "linux")]
fn wait_at(at: *mut u32, expected: u32, deadline: Option<&Deadline>) -> Wake {
    let ts = deadline.map(Deadline::monotonic);
    let ts_ptr = ts
        .as_ref()
        .map_or(std::ptr::null(), |ts| ts as *const libc::timespec);
    // SAFETY: `at` is an aligned 32-bit word inside a live atomic (callers
    // derive it from a reference); the kernel only reads it (comparing with
    // `expected`) and `ts_ptr` is null or a valid timespec.
    // FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC time. No
    // FUTEX_PRIVATE_FLAG: waiters and wakers live in different processes.
    let rc = unsafe {
        libc::syscall(
            libc::SYS_futex,
            at,
            libc::FUTEX_WAIT_BITSET,
            expected,
            ts_ptr,
            std::ptr::null::<u32>(),
            libc::FUTEX_BITSET_MATCH_ANY,
        )
    };
    if rc == -1 && std::io::Error::last_os_error().raw_os_error() == Some(libc::ETIMEDOUT) {
        Wake::TimedOut
    } else {
        // 0 (woken or spurious), EAGAIN (word changed) or EINTR (signal).
        Wake::Retry
    }
}

/// Wakes up to `count` processes or threads blocked in [`wait`] on `word`.
#[cfg(target_os = "linux")]
pub(crate) fn wake(word: &AtomicU32, count: i32) {
    wake_at(word.as_ptr(), count);
}

/// [`wake`] on the 32-bit word at `at`.
#[cfg(target_os = "linux")]
fn wake_at(at: *mut u32, count: i32) {
    // SAFETY: FUTEX_WAKE only uses the address as a key.
    unsafe {
        libc::syscall(libc::SYS_futex, at, libc::FUTEX_WAKE, count);
    }
}

/// Portable fallback: sleep briefly and let the caller re-check.
#[cfg(not(target_os = "linux"))]
pub(crate) fn wait(word: &AtomicU32, expected: u32, deadline: Option<&Deadline>) -> Wake {
    poll_while(
        || word.load(std::sync::atomic::Ordering::Acquire) == expected,
        deadline,
    )
}

/// Sleeps in growing steps (50 µs to 1 ms) while `unchanged()`, at most
/// until `deadline`: the wait of the platforms (and of Miri) without a
/// futex that this module can use.
#[cfg(any(not(target_os = "linux"), miri))]
fn poll_while(mut unchanged: impl FnMut() -> bool, deadline: Option<&Deadline>) -> Wake {
    let mut pause = Duration::from_micros(50);
    loop {
        if !unchanged() {
            return Wake::Retry;
        }
        if let Some(deadline) = deadline {
            if deadline.passed() {
                return Wake::TimedOut;
            }
            pause = pause.min(deadline.remaining());
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(1));
    }
}

/// Portable fallback: waiters poll, so there is nobody to wake.
#[cfg(not(target_os = "linux"))]
pub(crate) fn wake(_word: &AtomicU32, _count: i32) {}

/// Portable fallback of [`wait_low`] (and Miri's): polls the low half.
#[cfg(any(not(target_os = "linux"), miri))]
#[allow(dead_code)]
pub(crate) fn wait_low(word: &AtomicU64, expected: u32, deadline: Option<&Deadline>) -> Wake {
    let _ = low_half;
    poll_while(
        || word.load(std::sync::atomic::Ordering::Acquire) as u32 == expected,
        deadline,
    )
}

/// Portable fallback (and Miri's): waiters poll, so there is nobody to wake.
#[cfg(any(not(target_os = "linux"), miri))]
#[allow(dead_code)]
pub(crate) fn wake_low(_word: &AtomicU64, _count: i32) {}

/// Spins a little while `done` is false, for waits that are usually short:
/// `true` as soon as `done()` holds, `false` if the caller should block.
pub(crate) fn spin_until(mut done: impl FnMut() -> bool) -> bool {
    for i in 0..SPINS {
        if done() {
            return true;
        }
        if i < SPINS / 2 {
            std::hint::spin_loop();
        } else {
            std::thread::yield_now();
        }
    }
    done()
}

const SPINS: u32 = 64;
