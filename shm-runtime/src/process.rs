//! Running a closure in a forked child process.
//!
//! ```
//! use shm_runtime::{init, process, Shared};
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use std::time::Duration;
//!
//! let done = Shared::<AtomicU64>::anonymous(init::zeroed())?;
//! let children = (0..3)
//!     .map(|_| process::fork(|| { done.fetch_add(1, Ordering::Relaxed); }))
//!     .collect::<Result<Vec<_>, _>>()?;
//! for child in children {
//!     child.join(Duration::from_secs(10))?; // exit status 0, or an error
//! }
//! assert_eq!(done.load(Ordering::Relaxed), 3);
//! # Ok::<(), shm_runtime::Error>(())
//! ```
//!
//! # What `fork` means
//!
//! `fork` copies the calling process: its memory (private mappings copied
//! on write, *shared* mappings shared, which is the point), its open files,
//! and **only the calling thread**. In a multi-threaded process every lock
//! another thread held at that instant (the stdout lock, a `Mutex`, an
//! allocator without fork handlers) stays locked forever in the child, which
//! deadlocks if it takes one. Hence two functions:
//!
//! * [`fork`] is safe and refuses (with [`ErrorKind::MultiThreaded`]) unless
//!   the process runs a single thread, where the child may do anything.
//! * [`fork_unchecked`] forks regardless; the caller promises that the child
//!   takes no lock another thread may hold: in practice it touches shared
//!   memory, atomics and this crate's process-shared locks, and returns.
//!
//! Both refuse ([`ErrorKind::ForkWhileLocked`]) while any thread of this
//! process holds an `ShmMutexGuard` or builds a shared value in place
//! (`init::in_place`, ...): a reference derived from the
//! guard, captured by the child, would alias data the parent then changes.
//! Any thread: a guard leaked on a thread that then ended (`Box::leak`)
//! leaves its `&mut T` to the threads that remain, so the count is the
//! process's, and a leaked guard refuses forks for good (its lock is held
//! for good too).
//!
//! In both, the child runs the closure and then leaves with `_exit`: it never
//! returns into the caller's code, never runs the parent's destructors,
//! `atexit` handlers or test harness. Its exit status is 0 when the closure
//! returns and 101 when it panics (as a Rust program's would).
//!
//! Both return a [`Child`], which belongs to the process that forked it:
//! dropping it there kills the child unless it was waited for
//! ([`join`](Child::join), [`wait`](Child::wait)) or
//! [`detach`](Child::detach)ed. A copy of the handle in any other process
//! (captured by the closure of another forked child) kills, waits for and
//! reaps nothing.

use crate::error::{Error, ErrorKind, Result};
use std::cell::Cell;
use std::io::{self, Write};
use std::marker::PhantomData;
use std::os::unix::process::ExitStatusExt;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::process::ExitStatus;
use std::sync::atomic::{AtomicBool, AtomicPtr, AtomicU32, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

/// The exit status of a child whose closure panicked.
pub const PANIC_EXIT_CODE: i32 = 101;

/// Runs `child` in a forked child process and returns a handle to it.
/// Refuses when this process runs more than one thread (see the
/// [module documentation](self)) — which is always the case inside a
/// `#[test]`: the test harness runs each test on a thread of its own, so
/// tests that fork use [`fork_unchecked`] with its contract.
///
/// ```
/// use shm_runtime::{process, Shared};
/// use std::sync::atomic::{AtomicU32, Ordering};
///
/// let cell = Shared::anonymous(AtomicU32::new(0))?;
/// let child = process::fork(|| cell.store(42, Ordering::Release))?;
/// assert!(child.wait()?.success());
/// assert_eq!(cell.load(Ordering::Acquire), 42);
/// # Ok::<(), shm_runtime::Error>(())
/// ```
pub fn fork<F: FnOnce()>(child: F) -> Result<Child> {
    let threads = thread_count()?;
    if threads != 1 {
        return Err(Error::new(
            ErrorKind::MultiThreaded,
            format!(
                "refusing to fork a process that runs {threads} threads: the child could \
                 deadlock on a lock held by a thread it does not have (see \
                 `process::fork_unchecked` for the contract that makes it safe; under \
                 `cargo test` every test runs on a thread of its own, so tests that fork use \
                 `fork_unchecked`, or a test target with `harness = false`)"
            ),
        ));
    }
    // SAFETY: this process runs one thread, so no other thread holds a lock.
    unsafe { fork_unchecked(child) }
}

/// Runs `child` in a forked child process, whatever threads this process runs.
///
/// # Safety
/// If this process runs other threads, `child` must not take any lock that
/// one of them may hold at the moment of the fork (the child would wait for
/// it forever): stdout/stderr (`println!`), `std::sync` locks, or any
/// library's internal locks. Touching shared memory, atomics, this crate's
/// process-shared locks, and allocating with glibc's allocator (which resets
/// its locks in the child) is fine. And `child` must not capture a
/// reference into shared memory that another thread of this process derived
/// from an `ShmMutexGuard` (or an `unsafe` `&mut`) taken while the fork is
/// under way: guards that exist when the fork is checked (on any thread,
/// leaked ones included) are refused by the fork barrier, but a guard that
/// another thread takes between that check and the fork itself is not.
///
/// ```
/// use shm_runtime::{process, Shared};
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::time::Duration;
///
/// let cell = Shared::anonymous(AtomicU32::new(0))?;
/// // SAFETY: the child only stores to an atomic.
/// let child = unsafe { process::fork_unchecked(|| cell.store(1, Ordering::Release))? };
/// child.join(Duration::from_secs(10))?;
/// assert_eq!(cell.load(Ordering::Acquire), 1);
/// # Ok::<(), shm_runtime::Error>(())
/// ```
pub unsafe fn fork_unchecked<F: FnOnce()>(child: F) -> Result<Child> {
    let barriers = barrier_count();
    if barriers != 0 {
        return Err(Error::new(
            ErrorKind::ForkWhileLocked,
            format!(
                "refusing to fork while a thread of this process holds an ShmMutex guard or \
                 is building a shared value in place ({barriers} such guards, counting any \
                 leaked on threads that ended): the child could keep a reference into data \
                 that this process then changes under it; fork before locking, or after the \
                 guards are dropped"
            ),
        ));
    }
    // Output buffered in this process would otherwise be written twice.
    let _ = io::stdout().flush();
    // SAFETY: getpid has no preconditions.
    let parent = unsafe { libc::getpid() };
    // SAFETY: `fork` has no memory-safety preconditions of its own; what the
    // child may do is the caller's contract, and the child never returns.
    let pid = unsafe { libc::fork() };
    match pid {
        -1 => Err(Error::last_os("forking a child process")),
        0 => {
            forget_other_threads();
            // Whatever happens below, the child ends here: even a panic
            // escaping `catch_unwind` (a panic payload whose `Drop` panics)
            // never unwinds into the caller's code.
            let _exit_anyway = ExitOnDrop(PANIC_EXIT_CODE);
            let code = match catch_unwind(AssertUnwindSafe(child)) {
                Ok(()) => 0,
                Err(payload) => {
                    // Its `Drop` could panic again: never run it.
                    std::mem::forget(payload);
                    PANIC_EXIT_CODE
                }
            };
            let _ = io::stdout().flush();
            let _ = io::stderr().flush();
            // SAFETY: `_exit` ends the child at once, without running the
            // parent's destructors, `atexit` handlers or the test harness.
            unsafe { libc::_exit(code) }
        }
        pid => Ok(Child {
            pid,
            parent,
            reaped: false,
        }),
    }
}

/// Ends the (child) process with `_exit` when dropped, also during unwinding.
struct ExitOnDrop(i32);

impl Drop for ExitOnDrop {
    fn drop(&mut self) {
        // SAFETY: `_exit` ends this child process at once; nothing of the
        // caller's runs after it.
        unsafe { libc::_exit(self.0) }
    }
}

/// One thread's record of its fork barriers: how many it holds, and a small
/// number that names the thread among the live threads of this process (the
/// holder token of `ShmMutex`). Slots live in a list that only grows
/// ([`SLOTS`]); they are never freed, so the forking thread can always read
/// every one, and a thread that ends hands its slot on to a later thread
/// only when it holds no barrier (a guard leaked by a thread that ended
/// keeps its slot, and its token, for good).
///
/// # Why a per-thread count is as good as a process-wide one
///
/// Only the slot's own thread changes `barriers` (barriers are not `Send`,
/// so each is dropped by the thread that made it), so a plain load and
/// store count exactly, without a locked instruction. [`fork_unchecked`]
/// adds up every slot's count. What the barrier must catch is a guard
/// whose derived references the forking thread can reach: to reach one,
/// the forking thread must have been handed it by the guard's thread after
/// the guard was made (a channel, a scoped spawn: some happens-before
/// edge), and so after that thread's count went up. By coherence the
/// forking thread's load then reads that increment or a later store of the
/// same count; the decrement of that guard cannot be among them, since the
/// guard is dropped only once its borrow ends, after the fork (the closure
/// passed to `fork_unchecked` holds it). The same holds for a barrier of
/// the forking thread itself (program order) and for a thread that ended
/// (its stores precede its end). A guard that another thread takes while
/// the fork is under way is not caught, as documented at
/// [`fork_unchecked`], exactly as with one process-wide counter.
#[derive(Debug)]
pub(crate) struct ThreadSlot {
    /// Fork barriers alive on the thread that owns this slot (leaked ones
    /// included). Written by that thread only.
    barriers: AtomicUsize,
    /// Whether a thread owns this slot.
    claimed: AtomicBool,
    /// From 1 up: unique among the slots of this process.
    token: u32,
    /// The next slot of [`SLOTS`]; never changes once published.
    next: *const ThreadSlot,
}

// SAFETY: `next` points to another leaked, never-freed slot and is never
// written after the slot is published; the rest is atomics.
unsafe impl Sync for ThreadSlot {}

impl ThreadSlot {
    /// This slot's token: from 1 up, unique among the slots of this
    /// process, and kept by its thread for as long as that thread lives.
    #[inline]
    pub(crate) fn token(&self) -> u32 {
        self.token
    }

    /// One barrier more, on this slot's own thread.
    #[inline]
    fn raise(&self) {
        let n = self.barriers.load(Ordering::Relaxed);
        self.barriers.store(n + 1, Ordering::Relaxed);
    }

    /// One barrier fewer, on this slot's own thread.
    #[inline]
    fn lower(&self) {
        let n = self.barriers.load(Ordering::Relaxed);
        self.barriers.store(n.saturating_sub(1), Ordering::Relaxed);
    }
}

/// The first slot of this process's list (each slot names the next).
static SLOTS: AtomicPtr<ThreadSlot> = AtomicPtr::new(std::ptr::null_mut());
/// How many slots were made.
static TOKENS: AtomicU32 = AtomicU32::new(0);

thread_local! {
    /// This thread's slot, null until it needs one. A `Cell` of a pointer:
    /// no destructor, no lazy initialisation on the hot path.
    static SLOT: Cell<*const ThreadSlot> = const { Cell::new(std::ptr::null()) };
    /// Hands the slot on when the thread ends (registered when the slot is
    /// claimed, so the hot path never touches it).
    static RELEASE: ReleaseSlot = const { ReleaseSlot };
}

/// Releases this thread's slot as the thread ends, if no barrier of it is
/// alive (else it keeps it for good).
struct ReleaseSlot;

impl Drop for ReleaseSlot {
    fn drop(&mut self) {
        let slot = SLOT.with(Cell::get);
        // SAFETY: slots are leaked: a non-null pointer is valid forever.
        if let Some(slot) = unsafe { slot.as_ref() } {
            // A barrier still alive keeps the slot this thread's (its drop,
            // should it come in a later destructor, lowers this slot), and
            // the slot is never handed on.
            if slot.barriers.load(Ordering::Relaxed) == 0 {
                SLOT.with(|s| s.set(std::ptr::null()));
                slot.claimed.store(false, Ordering::Release);
            }
        }
    }
}

/// This thread's slot, claimed (or made) on first use.
#[inline]
pub(crate) fn thread_slot() -> &'static ThreadSlot {
    let slot = SLOT.with(Cell::get);
    // SAFETY: slots are leaked: a non-null pointer is valid forever.
    match unsafe { slot.as_ref() } {
        Some(slot) => slot,
        None => claim_slot(),
    }
}

#[cold]
fn claim_slot() -> &'static ThreadSlot {
    let mut at = SLOTS.load(Ordering::Acquire).cast_const();
    let slot = loop {
        // SAFETY: slots are leaked: a non-null pointer is valid forever.
        let Some(slot) = (unsafe { at.as_ref() }) else {
            break make_slot();
        };
        if !slot.claimed.load(Ordering::Relaxed)
            && slot
                .claimed
                .compare_exchange(false, true, Ordering::Acquire, Ordering::Relaxed)
                .is_ok()
        {
            break slot;
        }
        at = slot.next;
    };
    SLOT.with(|s| s.set(slot));
    // During the thread's own teardown this fails: the slot is then kept
    // for good (harmless: one slot more).
    let _ = RELEASE.try_with(|_| ());
    slot
}

/// A new slot, claimed, at the head of [`SLOTS`].
fn make_slot() -> &'static ThreadSlot {
    let token = TOKENS.fetch_add(1, Ordering::Relaxed) + 1;
    let slot: &'static mut ThreadSlot = Box::leak(Box::new(ThreadSlot {
        barriers: AtomicUsize::new(0),
        claimed: AtomicBool::new(true),
        token,
        next: std::ptr::null(),
    }));
    let mut head = SLOTS.load(Ordering::Relaxed);
    loop {
        slot.next = head;
        match SLOTS.compare_exchange_weak(head, slot, Ordering::Release, Ordering::Relaxed) {
            Ok(_) => return slot,
            Err(now) => head = now,
        }
    }
}

/// Every slot of this process, in the list's order.
fn slots() -> impl Iterator<Item = &'static ThreadSlot> {
    let mut at = SLOTS.load(Ordering::Acquire).cast_const();
    std::iter::from_fn(move || {
        // SAFETY: slots are leaked: a non-null pointer is valid forever.
        let slot = unsafe { at.as_ref() }?;
        at = slot.next;
        Some(slot)
    })
}

/// How many fork barriers exist in this process, on any thread (leaked
/// ones included, on threads that ended too). A child forked by
/// [`fork_unchecked`] starts at 0 (see [`forget_other_threads`]); a child
/// forked otherwise (`libc::fork`) inherits the counts with the copies of
/// the forking thread's barriers, whose drops bring its count down, and of
/// other threads', which keep it from forking in turn: conservative.
fn barrier_count() -> usize {
    slots().map(|s| s.barriers.load(Ordering::Acquire)).sum()
}

/// In a child forked by [`fork_unchecked`]: the barriers counted were other
/// threads' (the forking thread held none), and those threads do not exist
/// here, so none of their barriers is ever dropped in this child, which
/// may fork in turn. Their slots are free for the child's threads.
fn forget_other_threads() {
    let mine = SLOT.with(Cell::get);
    for slot in slots() {
        slot.barriers.store(0, Ordering::Relaxed);
        if !std::ptr::eq(slot, mine) {
            slot.claimed.store(false, Ordering::Release);
        }
    }
}

/// While alive, [`fork`] and [`fork_unchecked`] refuse to fork, on any
/// thread of this process. Held by every `ShmMutexGuard` and by the in-place
/// initializers that hand out `&mut T` to shared memory: a reference derived
/// from them, captured by a forked child, would alias data that the parent
/// then changes. A forgotten (or leaked) barrier keeps the process from
/// forking for good: conservative, and right, since a reference derived from
/// a leaked guard may live on in any thread. Counted per thread (see
/// [`ThreadSlot`]): making and dropping one is a plain load and store. It
/// holds nothing: the thread that made it drops it (it is not `Send`), and
/// that thread's slot stays the same while any of its barriers is alive.
pub(crate) struct ForkBarrier {
    not_send: PhantomData<*const ()>,
}

impl ForkBarrier {
    /// Raises this thread's barrier count until the value is dropped.
    #[inline]
    pub(crate) fn new() -> ForkBarrier {
        ForkBarrier::on(thread_slot())
    }

    /// Raises the count of `slot`, which must be this thread's.
    #[inline]
    pub(crate) fn on(slot: &'static ThreadSlot) -> ForkBarrier {
        debug_assert!(std::ptr::eq(slot, SLOT.with(Cell::get)));
        slot.raise();
        ForkBarrier {
            not_send: PhantomData,
        }
    }
}

impl Drop for ForkBarrier {
    #[inline]
    fn drop(&mut self) {
        thread_slot().lower();
    }
}

/// The number of threads of this process (`Threads:` in `/proc/self/status`).
fn thread_count() -> Result<usize> {
    #[cfg(target_os = "linux")]
    {
        let status = std::fs::read_to_string("/proc/self/status")
            .map_err(|e| Error::os("reading /proc/self/status to count threads", e))?;
        status
            .lines()
            .find_map(|line| line.strip_prefix("Threads:"))
            .and_then(|n| n.trim().parse().ok())
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::Unsupported,
                    "no thread count in /proc/self/status",
                )
            })
    }
    #[cfg(not(target_os = "linux"))]
    {
        // FreeBSD: `sysctl(KERN_PROC_PID)`; macOS: `proc_pidinfo`.
        crate::platform::thread_count().ok_or_else(|| {
            Error::new(
                ErrorKind::Unsupported,
                "counting threads is supported on Linux, FreeBSD and macOS only: use \
                 `process::fork_unchecked`",
            )
        })
    }
}

/// A forked child process, owned by the process that forked it.
///
/// In that process, dropping a child that was not waited for kills it
/// (`SIGKILL`) and reaps it, so no test or program leaves a zombie behind:
/// wait for it with [`join`](Child::join) (bounded) or [`wait`](Child::wait),
/// or let it run on with [`detach`](Child::detach). Hence `#[must_use]`:
/// `process::fork(..)?;` would kill the child at once.
///
/// Only the process that forked the child kills, waits for or reaps it. A
/// copy of the handle in another process (moved into the closure of a second
/// forked child, or inherited through a plain `fork`) is inert there:
/// dropping it does nothing, and [`kill`](Child::kill),
/// [`wait`](Child::wait), [`wait_timeout`](Child::wait_timeout) and
/// [`join`](Child::join) fail with the kernel's answer to a process that is
/// not the parent (`ECHILD`, [`ErrorKind::Os`]) without signalling anyone.
///
/// ```
/// use shm_runtime::{process, Shared};
/// use std::sync::atomic::{AtomicU32, Ordering};
/// use std::time::Duration;
///
/// let go = Shared::anonymous(AtomicU32::new(0))?;
/// let worker = process::fork(|| {
///     while go.load(Ordering::Acquire) == 0 {
///         std::thread::sleep(Duration::from_millis(1));
///     }
/// })?;
/// let mut handle = Some(worker);
/// // A second child gets a copy of the handle and drops it: the worker
/// // runs on, since only this process may kill it.
/// process::fork(|| drop(handle.take()))?.join(Duration::from_secs(10))?;
/// go.store(1, Ordering::Release);
/// handle.unwrap().join(Duration::from_secs(10))?;
/// # Ok::<(), shm_runtime::Error>(())
/// ```
#[derive(Debug)]
#[must_use = "dropping a `Child` kills it: `join` or `wait` for it, or `detach` it"]
pub struct Child {
    pid: libc::pid_t,
    /// The process that forked it, the only one that may signal or reap it.
    parent: libc::pid_t,
    reaped: bool,
}

impl Child {
    /// The child's process id.
    ///
    /// ```
    /// let child = shm_runtime::process::fork(|| {})?;
    /// assert!(child.id() > 0);
    /// # child.wait()?;
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn id(&self) -> u32 {
        self.pid as u32
    }

    /// Lets the child run on: the handle is given up without killing the
    /// child, which nobody then waits for (when it exits it stays a zombie
    /// until this process reaps it by its [`id`](Child::id) or exits). For
    /// workers that outlive the code that started them.
    ///
    /// ```
    /// use shm_runtime::{process, Shared};
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// use std::time::{Duration, Instant};
    ///
    /// let done = Shared::anonymous(AtomicU32::new(0))?;
    /// let worker = process::fork(|| done.store(1, Ordering::Release))?;
    /// let pid = worker.id();
    /// worker.detach(); // not killed
    /// let start = Instant::now();
    /// while done.load(Ordering::Acquire) == 0 {
    ///     assert!(start.elapsed() < Duration::from_secs(10));
    ///     std::thread::sleep(Duration::from_millis(1));
    /// }
    /// # let mut status = 0;
    /// # // SAFETY: reaps our own child.
    /// # unsafe { libc::waitpid(pid as libc::pid_t, &mut status, 0) };
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn detach(self) {
        // Nothing to release: the handle is two pids and a flag.
        std::mem::forget(self);
    }

    /// Whether this process is the one that forked the child: only it may
    /// signal or reap it.
    fn in_parent(&self) -> bool {
        // SAFETY: getpid has no preconditions.
        let me = unsafe { libc::getpid() };
        me == self.parent
    }

    /// The error of a wait or a kill attempted by another process than the
    /// child's parent: what `waitpid` there would say.
    fn not_the_parent(&self, what: &str) -> Error {
        Error::os(
            format!(
                "{what} child {}: only the process that forked it ({}) may, not this one",
                self.pid, self.parent
            ),
            io::Error::from_raw_os_error(libc::ECHILD),
        )
        .explained()
    }

    fn waitpid(&mut self, flags: libc::c_int) -> Result<Option<ExitStatus>> {
        if !self.in_parent() {
            return Err(self.not_the_parent("waiting for"));
        }
        loop {
            let mut status = 0;
            // SAFETY: waits for our own child; `status` is a valid out-pointer.
            let rc = unsafe { libc::waitpid(self.pid, &mut status, flags) };
            if rc == self.pid {
                self.reaped = true;
                return Ok(Some(ExitStatus::from_raw(status)));
            }
            if rc == 0 {
                return Ok(None);
            }
            let err = io::Error::last_os_error();
            if err.kind() != io::ErrorKind::Interrupted {
                return Err(Error::os(format!("waiting for child {}", self.pid), err));
            }
        }
    }

    /// Waits for the child to exit, without a time limit.
    ///
    /// ```
    /// let child = shm_runtime::process::fork(|| panic!("in the child"))?;
    /// assert_eq!(child.wait()?.code(), Some(101));
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn wait(mut self) -> Result<ExitStatus> {
        Ok(self
            .waitpid(0)?
            .expect("a blocking waitpid returns a status"))
    }

    /// Waits up to `timeout` for the child to exit: `Ok(None)` if it still runs.
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut child = shm_runtime::process::fork(|| std::thread::sleep(Duration::from_secs(5)))?;
    /// assert!(child.wait_timeout(Duration::from_millis(10))?.is_none());
    /// child.kill()?; // also done by drop
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn wait_timeout(&mut self, timeout: Duration) -> Result<Option<ExitStatus>> {
        let deadline = Instant::now() + timeout;
        let mut pause = Duration::from_micros(50);
        loop {
            if let Some(status) = self.waitpid(libc::WNOHANG)? {
                return Ok(Some(status));
            }
            let now = Instant::now();
            if now >= deadline {
                return Ok(None);
            }
            std::thread::sleep(pause.min(deadline - now));
            pause = (pause * 2).min(Duration::from_millis(5));
        }
    }

    /// Waits up to `timeout` for the child to exit successfully. A child still
    /// running is killed and reaped ([`ErrorKind::TimedOut`]); a non-zero exit
    /// or a signal is [`ErrorKind::ChildFailed`].
    ///
    /// ```
    /// use shm_runtime::{process, ErrorKind};
    /// use std::time::Duration;
    ///
    /// let failed = process::fork(|| std::process::exit(3))?.join(Duration::from_secs(10));
    /// assert_eq!(failed.unwrap_err().kind(), ErrorKind::ChildFailed);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn join(mut self, timeout: Duration) -> Result<()> {
        match self.wait_timeout(timeout)? {
            Some(status) if status.success() => Ok(()),
            Some(status) => Err(Error::new(
                ErrorKind::ChildFailed,
                format!("child {} failed: {status}", self.pid),
            )),
            None => {
                self.kill()?;
                Err(Error::new(
                    ErrorKind::TimedOut,
                    format!("child {} still ran after {timeout:?}; killed it", self.pid),
                ))
            }
        }
    }

    /// Kills the child with `SIGKILL` and reaps it. In another process than
    /// the one that forked it, an error (`ECHILD`) and nothing is signalled.
    ///
    /// ```
    /// use std::time::Duration;
    /// let mut child = shm_runtime::process::fork(|| loop { std::thread::sleep(Duration::from_secs(1)) })?;
    /// child.kill()?;
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn kill(&mut self) -> Result<()> {
        if self.reaped {
            return Ok(());
        }
        if !self.in_parent() {
            return Err(self.not_the_parent("killing"));
        }
        // Reaps it if it has exited already; and asks the kernel whether it
        // is our child at all (`ECHILD` if not), which the pid comparison
        // above cannot prove in every case (a descendant whose pid, in
        // another PID namespace or after reuse, equals the parent's).
        if self.waitpid(libc::WNOHANG)?.is_some() {
            return Ok(());
        }
        // SAFETY: signals our own, not yet reaped, child (its pid cannot have
        // been reused while it is unreaped).
        if unsafe { libc::kill(self.pid, libc::SIGKILL) } != 0 {
            return Err(Error::last_os(format!("killing child {}", self.pid)));
        }
        self.waitpid(0)?;
        Ok(())
    }
}

impl Drop for Child {
    /// Kills and reaps the child if this process forked it and has not
    /// reaped it yet; in any other process, does nothing.
    fn drop(&mut self) {
        if self.in_parent() {
            let _ = self.kill();
        }
    }
}
