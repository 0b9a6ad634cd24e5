//! The raw system pieces the baselines are made of, and the harness helpers
//! every section shares: children, spinning, repetitions.

use shm_runtime::process::{self, Child};
use std::fs::File;
use std::io;
use std::os::fd::{FromRawFd, OwnedFd};
use std::ptr::NonNull;
use std::sync::atomic::AtomicU32;
use std::time::Instant;

/// The error type of a measurement: anything that can be displayed.
pub type Res<T> = Result<T, Box<dyn std::error::Error>>;

/// The last OS error, with what was being done.
pub fn os_error(what: &str) -> Box<dyn std::error::Error> {
    format!("{what}: {}", io::Error::last_os_error()).into()
}

/// Runs `f` once to warm up, then `reps` times, collecting its figures.
pub fn repeat(reps: usize, mut f: impl FnMut() -> Res<f64>) -> Res<Vec<f64>> {
    f()?;
    (0..reps).map(|_| f()).collect()
}

/// Nanoseconds since `start`, as a float.
pub fn ns_since(start: Instant) -> f64 {
    start.elapsed().as_nanos() as f64
}

/// Forks a child that runs `f`. The child dies with its parent
/// (`PR_SET_PDEATHSIG`) and after ten minutes at the latest (`alarm`), so a
/// benchmark that goes wrong never leaves spinning processes behind.
pub fn spawn(f: impl FnOnce()) -> Res<Child> {
    Ok(process::fork(move || {
        // SAFETY: prctl(PR_SET_PDEATHSIG) and alarm only set this process's
        // signal dispositions; no memory is involved.
        unsafe {
            libc::prctl(libc::PR_SET_PDEATHSIG, libc::SIGKILL);
            libc::alarm(600);
        }
        f()
    })?)
}

/// Waits for `child` and fails unless it exited successfully.
pub fn join(child: Child) -> Res<()> {
    child.join(std::time::Duration::from_secs(120))?;
    Ok(())
}

/// Spins until `ready` holds. Every 1024 checks it yields the CPU, so that
/// two spinning processes on a busy machine still make progress.
#[inline]
pub fn spin_until(mut ready: impl FnMut() -> bool) {
    let mut spins = 0u32;
    while !ready() {
        spins = spins.wrapping_add(1);
        if spins % 1024 == 0 {
            std::thread::yield_now();
        } else {
            std::hint::spin_loop();
        }
    }
}

/// A raw `mmap(MAP_SHARED | MAP_ANONYMOUS)`, the baseline mapping; unmapped
/// on drop. Like any shared anonymous mapping it is inherited by children.
pub struct RawMap {
    ptr: NonNull<u8>,
    len: usize,
}

impl RawMap {
    /// A zero-filled shared mapping of `len` bytes (`flags` are added, e.g.
    /// `MAP_POPULATE`).
    pub fn new(len: usize, flags: libc::c_int) -> Res<RawMap> {
        // SAFETY: a new anonymous mapping at an address the kernel picks
        // touches no existing memory.
        let ptr = unsafe {
            libc::mmap(
                std::ptr::null_mut(),
                len,
                libc::PROT_READ | libc::PROT_WRITE,
                libc::MAP_SHARED | libc::MAP_ANONYMOUS | flags,
                -1,
                0,
            )
        };
        if ptr == libc::MAP_FAILED {
            return Err(os_error("mmap"));
        }
        let ptr = NonNull::new(ptr.cast()).ok_or("mmap returned null")?;
        Ok(RawMap { ptr, len })
    }

    /// The first byte (page-aligned).
    pub fn ptr(&self) -> *mut u8 {
        self.ptr.as_ptr()
    }
}

impl Drop for RawMap {
    fn drop(&mut self) {
        // SAFETY: the mapping is owned by `self`; the users of `ptr()` are
        // done with it by the time it drops (they borrow `self`).
        unsafe { libc::munmap(self.ptr.as_ptr().cast(), self.len) };
    }
}

/// A pipe: (read end, write end), close-on-exec.
pub fn pipe() -> Res<(File, File)> {
    let mut fds = [0; 2];
    // SAFETY: `fds` has room for the two descriptors pipe2 writes.
    if unsafe { libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) } != 0 {
        return Err(os_error("pipe2"));
    }
    // SAFETY: both descriptors were just created and are owned by nobody else.
    Ok(unsafe { (File::from_raw_fd(fds[0]), File::from_raw_fd(fds[1])) })
}

/// A blocking eventfd counter starting at 0.
pub fn eventfd() -> Res<OwnedFd> {
    // SAFETY: creates a descriptor; no memory is involved.
    let fd = unsafe { libc::eventfd(0, libc::EFD_CLOEXEC) };
    if fd < 0 {
        return Err(os_error("eventfd"));
    }
    // SAFETY: `fd` was just created and is owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Blocks while `*word == expected` (a shared futex: no PRIVATE flag, so it
/// works across processes). Returns at once on a mismatch or a spurious wake.
pub fn futex_wait(word: &AtomicU32, expected: u32) {
    // SAFETY: FUTEX_WAIT reads the aligned u32 behind a live reference and
    // sleeps; a null timeout waits without limit.
    unsafe {
        libc::syscall(
            libc::SYS_futex,
            word.as_ptr(),
            libc::FUTEX_WAIT,
            expected,
            std::ptr::null::<libc::timespec>(),
        )
    };
}

/// Wakes up to `n` waiters blocked on `word` in any process.
pub fn futex_wake(word: &AtomicU32, n: i32) {
    // SAFETY: FUTEX_WAKE only uses the address as a key.
    unsafe { libc::syscall(libc::SYS_futex, word.as_ptr(), libc::FUTEX_WAKE, n) };
}

/// Reads the 8-byte eventfd counter (blocking until it is non-zero).
pub fn eventfd_read(fd: &OwnedFd) -> Res<u64> {
    use std::os::fd::AsRawFd;
    let mut value = 0u64;
    // SAFETY: reads 8 bytes into a live u64.
    let n = unsafe { libc::read(fd.as_raw_fd(), (&raw mut value).cast(), 8) };
    if n != 8 {
        return Err(os_error("eventfd read"));
    }
    Ok(value)
}

/// Adds `value` to the eventfd counter, waking a reader.
pub fn eventfd_write(fd: &OwnedFd, value: u64) -> Res<()> {
    use std::os::fd::AsRawFd;
    // SAFETY: writes 8 bytes from a live u64.
    let n = unsafe { libc::write(fd.as_raw_fd(), (&raw const value).cast(), 8) };
    if n != 8 {
        return Err(os_error("eventfd write"));
    }
    Ok(())
}
