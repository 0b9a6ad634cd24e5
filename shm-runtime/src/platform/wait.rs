//! Waiting on a 32-bit word shared between processes, and waking waiters:
//! one interface ([`wait`], [`wake`], and [`wait_low`], [`wake_low`] on the
//! low half of a 64-bit word), one backend per platform. None passes a
//! "private" flag: waiters and wakers live in different processes, and each
//! kernel keys a shared wait by the memory object and offset of the word,
//! so a process that maps the same memory at another address still meets
//! the same waiters.
//!
//! | platform | wait | wake | timeout |
//! |---|---|---|---|
//! | Linux | `futex(FUTEX_WAIT_BITSET)` | `futex(FUTEX_WAKE)` | absolute, `CLOCK_MONOTONIC` |
//! | FreeBSD | `_umtx_op(UMTX_OP_WAIT_UINT)` | `_umtx_op(UMTX_OP_WAKE)` | absolute, `CLOCK_MONOTONIC` (`_umtx_time`) |
//! | macOS 14.4 and later | `os_sync_wait_on_address_with_timeout` (`OS_SYNC_WAIT_ON_ADDRESS_SHARED`) | `os_sync_wake_by_address_any` / `_all` (shared) | relative, nanoseconds |
//! | older macOS | `__ulock_wait(UL_COMPARE_AND_WAIT_SHARED)` | `__ulock_wake` | relative, microseconds |
//! | Miri (64-bit words), other Unixes | sleeping in short, growing steps and re-reading the word | nothing to do | the deadline |
//!
//! macOS's `os_sync_*` calls are looked up at run time (`dlsym`), so that a
//! binary built on a new SDK still runs on an older macOS; where they are
//! missing, the `__ulock_*` calls (in the system library since macOS 10.12,
//! not in any public header: declared here) do the same work. Every wait may
//! return early (spuriously, or when a wake meant for fewer waiters woke
//! more): callers re-check their condition and loop.
//!
//! The macOS and FreeBSD backends are written against those systems'
//! documentation and headers, and checked by the compiler here; they have
//! not been run (see the README's platform table).

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

    /// The deadline as an absolute `timespec` on `CLOCK_MONOTONIC` (for the
    /// waits that take one: Linux, FreeBSD).
    #[cfg_attr(not(any(target_os = "linux", target_os = "freebsd")), allow(dead_code))]
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

/// Whether this target has a native shared wait for a 32-bit atomic. (Miri
/// emulates Linux's futex on a lone `AtomicU32`.)
macro_rules! native {
    ($($item:item)*) => {$(
        #[cfg(any(
            target_os = "linux",
            all(not(miri), any(target_os = "freebsd", target_os = "macos"))
        ))]
        $item
    )*};
}

/// Whether this target has a native shared wait for the low half of an
/// `AtomicU64`. Not under Miri, which emulates the kernel's read of the
/// futex word as a 4-byte atomic access of the program's own, mixed with
/// the 8-byte ones, and reports that as a data race. (The real kernel is no
/// part of the program: its read is another process's, as for any shared
/// futex.) Miri runs the polling fallback instead.
macro_rules! native_low {
    ($($item:item)*) => {$(
        #[cfg(all(
            not(miri),
            any(target_os = "linux", target_os = "freebsd", target_os = "macos")
        ))]
        $item
    )*};
}

/// The opposite of [`native`].
macro_rules! polled {
    ($($item:item)*) => {$(
        #[cfg(not(any(
            target_os = "linux",
            all(not(miri), any(target_os = "freebsd", target_os = "macos"))
        )))]
        $item
    )*};
}

/// The opposite of [`native_low`].
macro_rules! polled_low {
    ($($item:item)*) => {$(
        #[cfg(not(all(
            not(miri),
            any(target_os = "linux", target_os = "freebsd", target_os = "macos")
        )))]
        $item
    )*};
}

native! {
    /// Blocks while `word` holds `expected`, until woken by [`wake`] or
    /// `deadline`. May return early (spuriously): callers loop.
    pub(crate) fn wait(word: &AtomicU32, expected: u32, deadline: Option<&Deadline>) -> Wake {
        sys::wait_at(word.as_ptr(), expected, deadline)
    }

    /// Wakes up to `count` processes or threads blocked in [`wait`] on
    /// `word` (more on older macOS: see `sys::wake_at`).
    pub(crate) fn wake(word: &AtomicU32, count: i32) {
        sys::wake_at(word.as_ptr(), count);
    }
}

polled! {
    /// Portable fallback: sleeps briefly and lets the caller re-check.
    pub(crate) fn wait(word: &AtomicU32, expected: u32, deadline: Option<&Deadline>) -> Wake {
        poll_while(|| word.load(std::sync::atomic::Ordering::Acquire) == expected, deadline)
    }

    /// Portable fallback: waiters poll, so there is nobody to wake.
    pub(crate) fn wake(_word: &AtomicU32, _count: i32) {}
}

/// The address of the low half (as a number) of a 64-bit word: the futex
/// word of a 64-bit lock word. All Rust code accesses the word as one
/// `AtomicU64`; only the kernel reads this half, atomically, as another
/// process's 32-bit view would. On a little-endian target (x86, ARM as
/// configured by every OS here) the low half is the first 4 bytes; on a
/// big-endian one the last 4.
#[cfg_attr(
    any(
        miri,
        not(any(target_os = "linux", target_os = "freebsd", target_os = "macos"))
    ),
    allow(dead_code)
)]
fn low_half(word: &AtomicU64) -> *mut u32 {
    let at = word.as_ptr().cast::<u32>();
    if cfg!(target_endian = "big") {
        at.wrapping_add(1)
    } else {
        at
    }
}

native_low! {
    /// Blocks while the low half of `word` holds `expected`, until woken by
    /// [`wake_low`] or `deadline`. May return early (spuriously): callers
    /// loop.
    pub(crate) fn wait_low(word: &AtomicU64, expected: u32, deadline: Option<&Deadline>) -> Wake {
        sys::wait_at(low_half(word), expected, deadline)
    }

    /// Wakes up to `count` processes or threads blocked in [`wait_low`] on
    /// `word`.
    pub(crate) fn wake_low(word: &AtomicU64, count: i32) {
        sys::wake_at(low_half(word), count);
    }
}

polled_low! {
    /// Portable fallback of [`wait_low`] (and Miri's): polls the low half.
    pub(crate) fn wait_low(word: &AtomicU64, expected: u32, deadline: Option<&Deadline>) -> Wake {
        poll_while(|| word.load(std::sync::atomic::Ordering::Acquire) as u32 == expected, deadline)
    }

    /// Portable fallback (and Miri's): waiters poll, so there is nobody to
    /// wake.
    pub(crate) fn wake_low(_word: &AtomicU64, _count: i32) {}
}

/// Sleeps in growing steps (50 µs to 1 ms) while `unchanged()`, at most
/// until `deadline`: the wait of the platforms (and of Miri) without a
/// shared address wait that this module can use.
#[cfg_attr(
    all(
        not(miri),
        any(target_os = "linux", target_os = "freebsd", target_os = "macos")
    ),
    allow(dead_code)
)]
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

/// Whether the last call failed with `ETIMEDOUT`.
#[cfg(any(target_os = "linux", target_os = "freebsd", target_os = "macos"))]
fn timed_out() -> bool {
    std::io::Error::last_os_error().raw_os_error() == Some(libc::ETIMEDOUT)
}

#[cfg(target_os = "linux")]
mod sys {
    use super::{timed_out, Deadline, Wake};

    /// Waits on the aligned 32-bit word at `at`, inside a live atomic.
    pub(super) fn wait_at(at: *mut u32, expected: u32, deadline: Option<&Deadline>) -> Wake {
        let ts = deadline.map(Deadline::monotonic);
        let ts_ptr = ts
            .as_ref()
            .map_or(std::ptr::null(), |ts| ts as *const libc::timespec);
        // SAFETY: `at` is an aligned 32-bit word inside a live atomic
        // (callers derive it from a reference); the kernel only reads it
        // (comparing with `expected`) and `ts_ptr` is null or a valid
        // timespec. FUTEX_WAIT_BITSET takes an absolute CLOCK_MONOTONIC
        // time. No FUTEX_PRIVATE_FLAG: waiters and wakers live in different
        // processes.
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
        if rc == -1 && timed_out() {
            Wake::TimedOut
        } else {
            // 0 (woken or spurious), EAGAIN (word changed) or EINTR (signal).
            Wake::Retry
        }
    }

    /// Wakes up to `count` waiters on the 32-bit word at `at`.
    pub(super) fn wake_at(at: *mut u32, count: i32) {
        // SAFETY: FUTEX_WAKE only uses the address as a key.
        unsafe {
            libc::syscall(libc::SYS_futex, at, libc::FUTEX_WAKE, count);
        }
    }
}

#[cfg(target_os = "freebsd")]
mod sys {
    use super::{timed_out, Deadline, Wake};

    /// Waits on the aligned 32-bit word at `at`, inside a live atomic.
    pub(super) fn wait_at(at: *mut u32, expected: u32, deadline: Option<&Deadline>) -> Wake {
        let mut time = deadline.map(|deadline| libc::_umtx_time {
            _timeout: deadline.monotonic(),
            _flags: libc::UMTX_ABSTIME,
            _clockid: libc::CLOCK_MONOTONIC as u32,
        });
        // With a timeout, `uaddr` carries the size of the `_umtx_time` that
        // `uaddr2` points to (umtx(2)).
        let (size, time_ptr) = match time.as_mut() {
            Some(time) => (
                std::mem::size_of::<libc::_umtx_time>() as *mut libc::c_void,
                (time as *mut libc::_umtx_time).cast::<libc::c_void>(),
            ),
            None => (std::ptr::null_mut(), std::ptr::null_mut()),
        };
        // SAFETY: `at` is an aligned 32-bit word inside a live atomic; the
        // kernel only reads it (comparing it, as an unsigned int, with
        // `expected`), and `time_ptr` is null or a valid `_umtx_time` of the
        // size passed. UMTX_OP_WAIT_UINT, not UMTX_OP_WAIT_UINT_PRIVATE:
        // the kernel keys the wait by the word's memory object and offset,
        // which other processes share.
        let rc = unsafe {
            libc::_umtx_op(
                at.cast(),
                libc::UMTX_OP_WAIT_UINT,
                libc::c_ulong::from(expected),
                size,
                time_ptr,
            )
        };
        if rc == -1 && timed_out() {
            Wake::TimedOut
        } else {
            // 0 (woken, spurious, or the word was not `expected`) or EINTR.
            Wake::Retry
        }
    }

    /// Wakes up to `count` waiters on the 32-bit word at `at`.
    pub(super) fn wake_at(at: *mut u32, count: i32) {
        let count = libc::c_ulong::try_from(count.max(0)).unwrap_or(0);
        // SAFETY: UMTX_OP_WAKE only uses the address as a key (UMTX_OP_WAKE,
        // not UMTX_OP_WAKE_PRIVATE: the waiters are in other processes).
        unsafe {
            libc::_umtx_op(
                at.cast(),
                libc::UMTX_OP_WAKE,
                count,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            );
        }
    }
}

#[cfg(target_os = "macos")]
mod sys {
    use super::{timed_out, Deadline, Wake};
    use std::ffi::c_void;
    use std::sync::atomic::{AtomicPtr, AtomicU8, Ordering};

    // <os/os_sync_wait_on_address.h> (macOS 14.4).
    const OS_SYNC_WAIT_ON_ADDRESS_SHARED: u32 = 1;
    const OS_SYNC_WAKE_BY_ADDRESS_SHARED: u32 = 1;
    /// `os_clockid_t`: the only clock the timed waits accept.
    const OS_CLOCK_MACH_ABSOLUTE_TIME: u32 = 32;
    // <sys/ulock.h> of xnu (not installed with the SDK).
    const UL_COMPARE_AND_WAIT_SHARED: u32 = 3;
    const ULF_WAKE_ALL: u32 = 0x100;
    /// `RTLD_DEFAULT` of <dlfcn.h>: search every loaded image.
    const RTLD_DEFAULT: *mut c_void = -2isize as *mut c_void;

    extern "C" {
        /// Waits while the 32-bit word at `addr` equals `value` (compare
        /// and wait: `UL_COMPARE_AND_WAIT_SHARED` keys by the memory object,
        /// across processes); `timeout_us` 0 means forever.
        fn __ulock_wait(operation: u32, addr: *mut c_void, value: u64, timeout_us: u32) -> i32;
        /// Wakes one waiter on `addr` (all with `ULF_WAKE_ALL`).
        fn __ulock_wake(operation: u32, addr: *mut c_void, wake_value: u64) -> i32;
    }

    /// `os_sync_wait_on_address_with_timeout(addr, value, size, flags,
    /// clockid, timeout_ns)`.
    type WaitFn = unsafe extern "C" fn(*mut c_void, u64, usize, u32, u32, u64) -> i32;
    /// `os_sync_wait_on_address(addr, value, size, flags)`.
    type WaitForeverFn = unsafe extern "C" fn(*mut c_void, u64, usize, u32) -> i32;
    /// `os_sync_wake_by_address_any` / `_all(addr, size, flags)`.
    type WakeFn = unsafe extern "C" fn(*mut c_void, usize, u32) -> i32;

    /// 0: not looked up yet; 1: missing (older macOS); 2: found.
    static STATE: AtomicU8 = AtomicU8::new(0);
    static WAIT: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
    static WAIT_FOREVER: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
    static WAKE_ANY: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());
    static WAKE_ALL: AtomicPtr<c_void> = AtomicPtr::new(std::ptr::null_mut());

    /// The `os_sync_*` functions, when this macOS has them. Looked up once
    /// per process (threads that race look them up alike), with atomics
    /// rather than a `OnceLock` that a forked child could inherit locked.
    fn os_sync() -> Option<(WaitFn, WaitForeverFn, WakeFn, WakeFn)> {
        if STATE.load(Ordering::Acquire) == 0 {
            let find = |name: &std::ffi::CStr| {
                // SAFETY: `dlsym` with RTLD_DEFAULT and a NUL-terminated
                // name only searches the loaded images.
                unsafe { libc::dlsym(RTLD_DEFAULT, name.as_ptr()) }
            };
            let found = [
                (&WAIT, find(c"os_sync_wait_on_address_with_timeout")),
                (&WAIT_FOREVER, find(c"os_sync_wait_on_address")),
                (&WAKE_ANY, find(c"os_sync_wake_by_address_any")),
                (&WAKE_ALL, find(c"os_sync_wake_by_address_all")),
            ];
            let all = found.iter().all(|(_, f)| !f.is_null());
            for (slot, f) in found {
                slot.store(f, Ordering::Relaxed);
            }
            STATE.store(if all { 2 } else { 1 }, Ordering::Release);
        }
        if STATE.load(Ordering::Acquire) != 2 {
            return None;
        }
        // SAFETY: each pointer is the address of the function of that name,
        // whose C signature (from <os/os_sync_wait_on_address.h>) the type
        // spells; function pointers and data pointers have one size here.
        unsafe {
            Some((
                std::mem::transmute::<*mut c_void, WaitFn>(WAIT.load(Ordering::Relaxed)),
                std::mem::transmute::<*mut c_void, WaitForeverFn>(
                    WAIT_FOREVER.load(Ordering::Relaxed),
                ),
                std::mem::transmute::<*mut c_void, WakeFn>(WAKE_ANY.load(Ordering::Relaxed)),
                std::mem::transmute::<*mut c_void, WakeFn>(WAKE_ALL.load(Ordering::Relaxed)),
            ))
        }
    }

    /// Waits on the aligned 32-bit word at `at`, inside a live atomic.
    pub(super) fn wait_at(at: *mut u32, expected: u32, deadline: Option<&Deadline>) -> Wake {
        let remaining = match deadline {
            Some(deadline) if deadline.passed() => return Wake::TimedOut,
            Some(deadline) => Some(deadline.remaining()),
            None => None,
        };
        let rc = match (os_sync(), remaining) {
            // SAFETY: `at` is an aligned 4-byte word inside a live atomic;
            // the kernel only reads it, comparing with `expected`. The
            // shared flag keys the wait by the memory object, across
            // processes.
            (Some((wait, _, _, _)), Some(left)) => unsafe {
                wait(
                    at.cast(),
                    u64::from(expected),
                    4,
                    OS_SYNC_WAIT_ON_ADDRESS_SHARED,
                    OS_CLOCK_MACH_ABSOLUTE_TIME,
                    u64::try_from(left.as_nanos()).unwrap_or(u64::MAX).max(1),
                )
            },
            // SAFETY: as above.
            (Some((_, wait_forever, _, _)), None) => unsafe {
                wait_forever(
                    at.cast(),
                    u64::from(expected),
                    4,
                    OS_SYNC_WAIT_ON_ADDRESS_SHARED,
                )
            },
            (None, left) => {
                // Whole microseconds, at least 1 (0 would mean forever), at
                // most u32::MAX (71 minutes: the caller waits again).
                let us = left.map_or(0, |left| {
                    u32::try_from(left.as_micros().max(1)).unwrap_or(u32::MAX)
                });
                // SAFETY: as above; UL_COMPARE_AND_WAIT_SHARED compares the
                // 32-bit word at `at` with the low 32 bits of the value.
                unsafe {
                    __ulock_wait(
                        UL_COMPARE_AND_WAIT_SHARED,
                        at.cast(),
                        u64::from(expected),
                        us,
                    )
                }
            }
        };
        // A wait cut short at its clamped length is no timeout yet.
        if rc < 0 && timed_out() && deadline.is_some_and(Deadline::passed) {
            Wake::TimedOut
        } else {
            // Woken, spurious, EINTR, or the word was not `expected`.
            Wake::Retry
        }
    }

    /// Wakes up to `count` waiters on the 32-bit word at `at`: one, or all
    /// (with `os_sync`: any count above 1 wakes all, which callers, who
    /// re-check their condition, take as spurious wake-ups).
    pub(super) fn wake_at(at: *mut u32, count: i32) {
        if count <= 0 {
            return;
        }
        match os_sync() {
            Some((_, _, wake_any, wake_all)) => {
                let wake = if count == 1 { wake_any } else { wake_all };
                // SAFETY: waking only uses the address as a key; ENOENT (no
                // waiter) is not an error here.
                unsafe { wake(at.cast(), 4, OS_SYNC_WAKE_BY_ADDRESS_SHARED) };
            }
            None => {
                let all = if count == 1 { 0 } else { ULF_WAKE_ALL };
                // SAFETY: as above.
                unsafe { __ulock_wake(UL_COMPARE_AND_WAIT_SHARED | all, at.cast(), 0) };
            }
        }
    }
}

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

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::Ordering;
    use std::sync::Arc;

    /// A wait on a word that holds another value returns at once; one on
    /// an unchanged word returns at its deadline, not before.
    #[test]
    fn a_changed_word_returns_at_once_an_unchanged_one_at_the_deadline() {
        let word = AtomicU32::new(7);
        let far = Deadline::after(Duration::from_secs(60));
        assert_eq!(wait(&word, 8, Some(&far)), Wake::Retry);
        let start = std::time::Instant::now();
        let soon = Deadline::after(Duration::from_millis(30));
        loop {
            match wait(&word, 7, Some(&soon)) {
                Wake::TimedOut => break,
                Wake::Retry => assert!(
                    start.elapsed() < Duration::from_secs(10),
                    "spurious wake-ups without end"
                ),
            }
        }
        assert!(start.elapsed() >= Duration::from_millis(30));
    }

    /// `wake` ends the wait of a thread blocked on the word (bounded: the
    /// waiter gives up after 10 s, and the test fails then).
    #[test]
    fn wake_ends_a_wait() {
        let word = Arc::new(AtomicU32::new(0));
        let waiter = {
            let word = Arc::clone(&word);
            std::thread::spawn(move || {
                let deadline = Deadline::after(Duration::from_secs(10));
                while word.load(Ordering::Acquire) == 0 {
                    if wait(&word, 0, Some(&deadline)) == Wake::TimedOut {
                        return false;
                    }
                }
                true
            })
        };
        std::thread::sleep(Duration::from_millis(20));
        word.store(1, Ordering::Release);
        wake(&word, 1);
        assert!(waiter.join().unwrap(), "the waiter was not woken");
    }

    /// The 64-bit word's waits compare its low half as a number, on either
    /// byte order: a word whose high half holds `expected` is "changed".
    #[test]
    fn wait_low_compares_the_low_half() {
        let word = AtomicU64::new((5 << 32) | 9);
        let far = Deadline::after(Duration::from_secs(60));
        // The high half is 5, the low half 9: expecting 5 is a changed word.
        assert_eq!(wait_low(&word, 5, Some(&far)), Wake::Retry);
        let soon = Deadline::after(Duration::from_millis(20));
        let start = std::time::Instant::now();
        while wait_low(&word, 9, Some(&soon)) != Wake::TimedOut {
            assert!(start.elapsed() < Duration::from_secs(10));
        }
        assert!(soon.passed());
        // SAFETY: reads 4 bytes of the live atomic, which nobody writes.
        let low = unsafe { *low_half(&word) };
        assert_eq!(low, 9);
        wake_low(&word, 1);
    }
}
