//! `process::Child` belongs to the process that forked it: only that
//! process kills, waits for or reaps it. A copy of the handle in another
//! process (captured by a second forked child) does nothing when dropped.
//!
//! The harness runs tests on threads, so children are started with
//! `fork_retrying` (`process::fork_unchecked`): each child touches only
//! atomics in shared memory and `Child` handles (whose methods make plain
//! system calls), and returns. Every wait is bounded, and every child is
//! joined or reaped before its test ends.

use shm_runtime::{init, process, ErrorKind, Shared, SharedSafe};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(30);

/// Forks a child that runs `f`; see the module comment for why this is sound.
fn spawn(f: impl FnOnce()) -> process::Child {
    // SAFETY: every closure passed here touches only shared atomics and
    // `Child` handles, and returns (or panics into the harness's per-thread
    // capture buffer, a lock no other thread of the child can hold).
    unsafe { shm_workspace::fork_retrying(f) }.expect("fork")
}

/// Spins until `cond` holds, `false` after `LIMIT` instead of hanging.
fn wait_until(cond: impl Fn() -> bool) -> bool {
    let start = Instant::now();
    while !cond() {
        if start.elapsed() >= LIMIT {
            return false;
        }
        std::thread::sleep(Duration::from_millis(1));
    }
    true
}

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Flags {
    /// Set by the parent once the first child may exit.
    release: AtomicU32,
    /// What the second child saw: 1 once it dropped (or tried) the handle.
    dropped: AtomicU32,
    /// The error kind code the second child got from `kill`, `wait_timeout`
    /// and `join` on the handle (1: `Os`, 2: anything else, 3: `Ok`).
    kill: AtomicU32,
    wait: AtomicU32,
    join: AtomicU32,
}

/// A first child that waits for the parent's release, then exits with 0
/// (with 1 if no release came within the limit).
fn first_child(flags: &Flags) -> process::Child {
    spawn(|| {
        if !wait_until(|| flags.release.load(Ordering::Acquire) == 1) {
            std::process::exit(1);
        }
    })
}

#[test]
#[cfg_attr(miri, ignore = "forks")]
fn a_child_handle_dropped_in_another_process_does_not_kill_the_child() {
    let flags = Shared::<Flags>::anonymous(init::zeroed()).unwrap();
    let mut first = Some(first_child(&flags));
    // The second child gets a copy of the handle (the parent keeps its own:
    // `take` empties the child's copy of `first`, not the parent's) and
    // drops it there.
    spawn(|| {
        drop(first.take());
        flags.dropped.store(1, Ordering::Release);
    })
    .join(LIMIT)
    .unwrap();
    assert_eq!(flags.dropped.load(Ordering::Acquire), 1);
    let mut first = first.expect("the parent's handle");
    assert!(
        first.wait_timeout(Duration::ZERO).unwrap().is_none(),
        "the first child must still run after its handle was dropped elsewhere"
    );
    flags.release.store(1, Ordering::Release);
    // Its normal exit, not SIGKILL.
    let status = first.wait().unwrap();
    assert_eq!(status.code(), Some(0), "{status}");
}

#[test]
#[cfg_attr(miri, ignore = "forks")]
fn a_child_handle_in_another_process_neither_kills_nor_waits() {
    let flags = Shared::<Flags>::anonymous(init::zeroed()).unwrap();
    let mut first = Some(first_child(&flags));
    let code = |result: shm_runtime::Result<()>| match result {
        Ok(()) => 3,
        Err(e) if e.kind() == ErrorKind::Os => 1,
        Err(_) => 2,
    };
    spawn(|| {
        let mut copy = first.take().expect("the copy of the handle");
        flags.kill.store(code(copy.kill()), Ordering::Release);
        let waited = copy.wait_timeout(Duration::from_millis(10)).map(|_| ());
        flags.wait.store(code(waited), Ordering::Release);
        flags.join.store(code(copy.join(LIMIT)), Ordering::Release);
    })
    .join(LIMIT)
    .unwrap();
    // Each was refused with the kernel's answer (ECHILD, kind `Os`),
    // without touching the first child.
    assert_eq!(flags.kill.load(Ordering::Acquire), 1);
    assert_eq!(flags.wait.load(Ordering::Acquire), 1);
    assert_eq!(flags.join.load(Ordering::Acquire), 1);
    let mut first = first.expect("the parent's handle");
    assert!(first.wait_timeout(Duration::ZERO).unwrap().is_none());
    flags.release.store(1, Ordering::Release);
    first.join(LIMIT).unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "forks")]
fn the_parent_still_kills_a_child_whose_handle_it_drops() {
    let flags = Shared::<Flags>::anonymous(init::zeroed()).unwrap();
    let first = first_child(&flags);
    let pid = first.id() as libc::pid_t;
    drop(first); // killed and reaped: the pid is no child of ours any more
    let mut status = 0;
    // SAFETY: a non-blocking wait with a valid out-pointer.
    let rc = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    assert_eq!(rc, -1);
    assert_eq!(
        std::io::Error::last_os_error().raw_os_error(),
        Some(libc::ECHILD)
    );
}

#[test]
#[cfg_attr(miri, ignore = "forks")]
fn a_detached_child_runs_on() {
    let flags = Shared::<Flags>::anonymous(init::zeroed()).unwrap();
    let first = first_child(&flags);
    let pid = first.id() as libc::pid_t;
    first.detach();
    // SAFETY: signal 0 only checks that the process exists.
    assert_eq!(unsafe { libc::kill(pid, 0) }, 0);
    let mut status = 0;
    // SAFETY: as above.
    let rc = unsafe { libc::waitpid(pid, &mut status, libc::WNOHANG) };
    assert_eq!(rc, 0, "the detached child still runs");
    flags.release.store(1, Ordering::Release);
    // Reap it ourselves, so that the test leaves no zombie (bounded: it
    // exits within `LIMIT` whatever happens).
    // SAFETY: waits for our own child; `status` is a valid out-pointer.
    let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
    assert_eq!(rc, pid);
    assert!(libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0);
}
