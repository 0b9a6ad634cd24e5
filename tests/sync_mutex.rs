//! ShmMutex across processes: exact counting, owners killed while holding
//! the lock, lazy initialisation in zero-filled memory, guards and fork.
//!
//! The test harness runs tests on several threads, so children are forked
//! with `fork_unchecked`; each child touches only shared memory and this
//! crate's process-shared primitives, and reports failure by exit code.

use shm_runtime::process::{self, Child};
use shm_runtime::{ErrorKind, FixedString, Shared, SharedSafe, ShmEvent, ShmMutex, ShmMutexGuard};
use std::time::{Duration, Instant};

const JOIN: Duration = Duration::from_secs(120);

/// Leaves a child process at once with `code` (no unwinding, no output).
fn exit_child(code: i32) -> ! {
    // SAFETY: `_exit` ends this (child) process immediately.
    unsafe { libc::_exit(code) }
}

fn fork(child: impl FnOnce()) -> Child {
    // SAFETY: every child in this file touches only shared memory, atomics
    // and shm_runtime's process-shared primitives, then returns or _exits.
    unsafe { process::fork_unchecked(child) }.expect("fork")
}

#[test]
fn sync_mutex_eight_processes_count_to_800_000() {
    const PROCESSES: usize = 8;
    const INCREMENTS: u64 = 100_000;
    let counter = Shared::anonymous(ShmMutex::new(0u64)).unwrap();
    let start = Instant::now();
    let children: Vec<Child> = (0..PROCESSES)
        .map(|_| {
            fork(|| {
                for _ in 0..INCREMENTS {
                    match counter.lock() {
                        Ok(mut guard) => *guard += 1,
                        Err(_) => exit_child(2),
                    }
                }
            })
        })
        .collect();
    for child in children {
        child.join(JOIN).unwrap();
    }
    assert_eq!(*counter.lock().unwrap(), PROCESSES as u64 * INCREMENTS);
    eprintln!("8 x 100,000 locked increments: {:?}", start.elapsed());
}

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Pair {
    a: u64,
    b: u64,
}

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Crash {
    pair: ShmMutex<Pair>,
    holding: ShmEvent,
}

#[test]
fn sync_mutex_owner_killed_while_holding_is_recovered_100_times() {
    // Zero-filled: the mutex is initialised lazily, by the first child.
    let state = Shared::<Crash>::anonymous_zeroed().unwrap();
    for round in 1..=100u64 {
        state.holding.reset();
        let mut child = fork(|| {
            let mut pair = match state.pair.lock() {
                Ok(guard) => guard,
                Err(_) => exit_child(2), // the parent repaired the last round
            };
            pair.a += 1; // half an update: `b` should follow
            state.holding.set();
            loop {
                std::thread::sleep(Duration::from_secs(1));
            }
        });
        state
            .holding
            .wait_timeout(Duration::from_secs(30))
            .expect("the child took the lock");
        child.kill().unwrap();

        let died = match state.pair.lock_timeout(Duration::from_secs(30)).unwrap() {
            Ok(_) => panic!("round {round}: the owner's death went unnoticed"),
            Err(died) => died,
        };
        let mut pair = died.into_inner();
        assert_eq!((pair.a, pair.b), (round, round - 1));
        pair.b = pair.a; // repair
        ShmMutexGuard::mark_consistent(&mut pair);
        drop(pair);
        let pair = state.pair.try_lock().expect("consistent and free again");
        assert_eq!((pair.a, pair.b), (round, round));
    }
}

#[test]
fn sync_mutex_a_forgetful_repairer_leaves_the_warning() {
    let m = Shared::anonymous(ShmMutex::new(0u32)).unwrap();
    drop(m.lock().unwrap());
    // A child that exits (normally) while holding the lock.
    fork(|| std::mem::forget(m.lock().unwrap()))
        .join(JOIN)
        .unwrap();
    // A child that sees the death but does not mark the data consistent.
    fork(|| match m.lock() {
        Err(died) => *died.into_inner() = 1,
        Ok(_) => exit_child(2),
    })
    .join(JOIN)
    .unwrap();
    let mut guard = m.lock().unwrap_err().into_inner();
    assert_eq!(*guard, 1);
    ShmMutexGuard::mark_consistent(&mut guard);
    drop(guard);
    assert!(m.lock().is_ok());
}

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Lazy {
    counter: ShmMutex<u64>,
}

#[test]
fn sync_mutex_zero_filled_is_initialised_once_by_racing_processes() {
    for _ in 0..20 {
        let lazy = Shared::<Lazy>::anonymous_zeroed().unwrap();
        let children: Vec<Child> = (0..4)
            .map(|_| {
                fork(|| {
                    for _ in 0..100 {
                        *lazy.counter.lock().unwrap_or_else(|_| exit_child(2)) += 1;
                    }
                })
            })
            .collect();
        for child in children {
            child.join(JOIN).unwrap();
        }
        assert_eq!(*lazy.counter.lock().unwrap(), 400);
    }
}

#[test]
fn sync_mutex_no_fork_while_a_guard_is_held() {
    let m = Shared::anonymous(ShmMutex::new(FixedString::<8>::try_from("abc").unwrap())).unwrap();
    let mut guard = m.lock().unwrap();
    // A child would keep `view` while this process changes the string under
    // it: the fork is refused, with a typed error.
    let view: &str = guard.as_str();
    // SAFETY: the closure only reads; the fork is refused anyway.
    let err = unsafe { process::fork_unchecked(|| assert_eq!(view, "abc")) }.unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForkWhileLocked, "{err}");
    guard.clear();
    guard.push_str("é");
    drop(guard);
    // Without a guard, forking works again, and the child sees the change.
    fork(|| assert_eq!(m.lock().unwrap().as_str(), "é"))
        .join(JOIN)
        .unwrap();
}

#[test]
fn sync_mutex_no_fork_while_building_in_place() {
    let result = Shared::<[u64; 4]>::anonymous_init(|value| {
        // SAFETY: refused before any child exists.
        let err = unsafe { process::fork_unchecked(|| {}) }.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ForkWhileLocked);
        value[0] = 1;
    })
    .unwrap();
    assert_eq!(result[0], 1);
}
