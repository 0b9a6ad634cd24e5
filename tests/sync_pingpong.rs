//! Two processes hand a turn back and forth 10,000 times through each
//! primitive: a lost wake-up would hang, which the timeouts turn into a
//! failure instead.
//!
//! Children are forked with `fork_unchecked` (the harness is multi-threaded)
//! and touch only shared memory and shm_runtime's primitives.

use shm_runtime::{init, process::Child};
use shm_runtime::{Shared, SharedSafe, ShmCondvar, ShmEvent, ShmMutex, ShmSemaphore};
use std::time::{Duration, Instant};

const ROUNDS: u32 = 10_000;
const STEP: Duration = Duration::from_secs(30);
const JOIN: Duration = Duration::from_secs(120);

fn exit_child(code: i32) -> ! {
    // SAFETY: `_exit` ends this (child) process immediately.
    unsafe { libc::_exit(code) }
}

fn fork(child: impl FnOnce()) -> Child {
    // SAFETY: the children below touch only shared memory and shm_runtime's
    // process-shared primitives, then return or _exit.
    unsafe { shm_workspace::fork_retrying(child) }.expect("fork")
}

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Table {
    /// Odd: the child's turn; even: the parent's.
    turn: ShmMutex<u32>,
    changed: ShmCondvar,
}

#[test]
#[cfg_attr(miri, ignore = "forks")]
fn sync_condvar_ping_pong_10_000_round_trips() {
    let table = Shared::<Table>::anonymous(init::zeroed()).unwrap();
    drop(table.turn.lock().unwrap()); // initialise before forking
    let start = Instant::now();
    let child = fork(|| {
        for i in 0..ROUNDS {
            let guard = table.turn.lock().unwrap_or_else(|_| exit_child(2));
            let waited = table
                .changed
                .wait_timeout_while(guard, STEP, |turn| *turn != 2 * i + 1);
            let (mut turn, result) = waited.unwrap_or_else(|_| exit_child(3));
            if result.timed_out() {
                exit_child(4);
            }
            *turn += 1;
            drop(turn);
            table.changed.notify_one();
        }
    });
    for i in 0..ROUNDS {
        *table.turn.lock().unwrap() += 1;
        table.changed.notify_one();
        let guard = table.turn.lock().unwrap();
        let (turn, result) = table
            .changed
            .wait_timeout_while(guard, STEP, |turn| *turn != 2 * i + 2)
            .unwrap();
        assert!(!result.timed_out(), "round {i}: lost wake-up");
        assert_eq!(*turn, 2 * i + 2);
    }
    child.join(JOIN).unwrap();
    eprintln!("condvar: {ROUNDS} round trips in {:?}", start.elapsed());
}

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Events {
    ping: ShmEvent,
    pong: ShmEvent,
    count: std::sync::atomic::AtomicU32,
}

#[test]
#[cfg_attr(miri, ignore = "forks")]
fn sync_event_ping_pong_10_000_round_trips() {
    use std::sync::atomic::Ordering;
    let ev = Shared::<Events>::anonymous(init::zeroed()).unwrap();
    let start = Instant::now();
    let child = fork(|| {
        for i in 0..ROUNDS {
            if ev.ping.wait_timeout(STEP).is_err() {
                exit_child(2);
            }
            ev.ping.reset();
            if ev.count.load(Ordering::Relaxed) != 2 * i + 1 {
                exit_child(3);
            }
            ev.count.store(2 * i + 2, Ordering::Relaxed);
            ev.pong.set();
        }
    });
    for i in 0..ROUNDS {
        ev.count.store(2 * i + 1, Ordering::Relaxed);
        ev.ping.set();
        ev.pong
            .wait_timeout(STEP)
            .unwrap_or_else(|e| panic!("round {i}: {e}"));
        ev.pong.reset();
        assert_eq!(ev.count.load(Ordering::Relaxed), 2 * i + 2);
    }
    child.join(JOIN).unwrap();
    eprintln!("event: {ROUNDS} round trips in {:?}", start.elapsed());
}

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Semaphores {
    to_child: ShmSemaphore,
    to_parent: ShmSemaphore,
}

#[test]
#[cfg_attr(miri, ignore = "forks")]
fn sync_semaphore_ping_pong_10_000_round_trips() {
    let sem = Shared::<Semaphores>::anonymous(init::zeroed()).unwrap();
    let start = Instant::now();
    let child = fork(|| {
        for _ in 0..ROUNDS {
            if sem.to_child.acquire_timeout(STEP).is_err() {
                exit_child(2);
            }
            sem.to_parent.release();
        }
    });
    for i in 0..ROUNDS {
        sem.to_child.release();
        sem.to_parent
            .acquire_timeout(STEP)
            .unwrap_or_else(|e| panic!("round {i}: {e}"));
    }
    child.join(JOIN).unwrap();
    assert_eq!(sem.to_child.available_permits(), 0);
    assert_eq!(sem.to_parent.available_permits(), 0);
    eprintln!("semaphore: {ROUNDS} round trips in {:?}", start.elapsed());
}
