//! ShmMutex across processes: exact counting, owners killed while holding
//! the lock (or exited, or zombies), zero-filled memory, guards and fork,
//! forgotten guards of unmapped mutexes, and re-locking by the holder.
//!
//! The test harness runs tests on several threads, so children are forked
//! with `fork_unchecked`; each child touches only shared memory and this
//! crate's process-shared primitives, and reports failure by exit code.

use shm_runtime::process::{self, Child};
use shm_runtime::{
    init, ErrorKind, FixedString, Shared, SharedSafe, ShmEvent, ShmMutex, ShmMutexGuard,
};
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
    unsafe { shm_workspace::fork_retrying(child) }.expect("fork")
}

#[test]
#[cfg_attr(miri, ignore = "forks")]
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
#[cfg_attr(miri, ignore = "forks")]
fn sync_mutex_owner_killed_while_holding_is_recovered_100_times() {
    // Zero-filled: the mutex is initialised lazily, by the first child.
    let state = Shared::<Crash>::anonymous(init::zeroed()).unwrap();
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
        let mut pair = died.into_inner().unwrap();
        assert_eq!((pair.a, pair.b), (round, round - 1));
        pair.b = pair.a; // repair
        ShmMutexGuard::mark_consistent(&mut pair);
        drop(pair);
        let pair = state.pair.try_lock().expect("consistent and free again");
        assert_eq!((pair.a, pair.b), (round, round));
    }
}

#[test]
#[cfg_attr(miri, ignore = "forks")]
fn sync_mutex_a_forgetful_repairer_leaves_the_warning() {
    let m = Shared::anonymous(ShmMutex::new(0u32)).unwrap();
    drop(m.lock().unwrap());
    // A child that exits (normally) while holding the lock.
    fork(|| std::mem::forget(m.lock().unwrap()))
        .join(JOIN)
        .unwrap();
    // A child that sees the death but does not mark the data consistent.
    fork(|| match m.lock() {
        Err(died) => *died.into_inner().unwrap() = 1,
        Ok(_) => exit_child(2),
    })
    .join(JOIN)
    .unwrap();
    let mut guard = m.lock().unwrap_err().into_inner().unwrap();
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
#[cfg_attr(miri, ignore = "forks")]
fn sync_mutex_zero_filled_is_initialised_once_by_racing_processes() {
    for _ in 0..20 {
        let lazy = Shared::<Lazy>::anonymous(init::zeroed()).unwrap();
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
#[cfg_attr(miri, ignore = "forks")]
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
#[cfg_attr(miri, ignore = "forks")]
fn sync_mutex_no_fork_while_building_in_place() {
    let result = Shared::anonymous(init::in_place(|value: &mut [u64; 4]| {
        // SAFETY: refused before any child exists.
        let err = unsafe { process::fork_unchecked(|| {}) }.unwrap_err();
        assert_eq!(err.kind(), ErrorKind::ForkWhileLocked);
        value[0] = 1;
    }))
    .unwrap();
    assert_eq!(result[0], 1);
}

#[test]
#[cfg_attr(miri, ignore = "forks")]
fn sync_mutex_a_forgotten_guard_then_unmapped_mutex_is_harmless() {
    // The lock keeps no address anywhere: forgetting a guard and then
    // unmapping (or freeing) the mutex leaves nothing that points into it.
    // In a child: a forgotten guard refuses forks for good, in the whole
    // process (it could have been leaked, its `&mut T` alive in any thread).
    fork(|| {
        for _ in 0..10 {
            let m = Shared::anonymous(ShmMutex::new([1u64; 64])).unwrap();
            std::mem::forget(m.lock().unwrap());
            drop(m); // unmapped
            let boxed = Box::new(ShmMutex::new(0u32));
            std::mem::forget(boxed.lock().unwrap());
            drop(boxed); // freed, the heap reuses it
        }
        let other = Shared::anonymous(ShmMutex::new(0u64)).unwrap();
        let boxed = Box::new(ShmMutex::new(0u64));
        for _ in 0..1000 {
            *other.lock().unwrap() += 1;
            *boxed.lock().unwrap() += 1;
        }
        if *other.lock().unwrap() != 1000 || *boxed.lock().unwrap() != 1000 {
            exit_child(2);
        }
    })
    .join(JOIN)
    .unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "forks")]
fn sync_mutex_a_thread_that_exits_holding_keeps_it_until_its_process_ends() {
    let m = Shared::anonymous(ShmMutex::new(5u32)).unwrap();
    let child = fork(|| {
        // A thread of this (live) process ends holding the lock, leaking
        // its guard and the `&mut u32` derived from it to this thread.
        let leaked: &mut u32 = std::thread::scope(|s| {
            s.spawn(|| &mut **Box::leak(Box::new(m.lock().unwrap())))
                .join()
                .unwrap()
        });
        std::thread::sleep(Duration::from_millis(50)); // the thread is gone
                                                       // Never taken over while the process lives (before: `OwnerDied`
                                                       // here, and a second `&mut u32`).
        match m.lock_timeout(Duration::from_millis(200)) {
            Err(e) if e.kind() == ErrorKind::TimedOut => {}
            _ => exit_child(2),
        }
        if m.try_lock().is_ok() {
            exit_child(3);
        }
        *leaked = 6;
        // Any thread's leaked guard refuses forks (the count is the
        // process's, not the ended thread's).
        // SAFETY: refused; the closure does nothing anyway.
        match unsafe { process::fork_unchecked(|| {}) } {
            Err(e) if e.kind() == ErrorKind::ForkWhileLocked => {}
            _ => exit_child(4),
        }
    });
    child.join(JOIN).unwrap();
    // The process ended: now its lock is taken over.
    let mut guard = m
        .lock_timeout(JOIN)
        .unwrap()
        .unwrap_err()
        .into_inner()
        .unwrap();
    assert_eq!(*guard, 6);
    ShmMutexGuard::mark_consistent(&mut guard);
}

#[test]
#[cfg(target_os = "linux")] // a zombie leader with live threads is a Linux state
#[cfg_attr(miri, ignore = "forks")]
fn sync_mutex_a_holder_whose_main_thread_ended_is_alive() {
    // Its main thread ends while another thread holds the lock: the leader
    // is a zombie in `/proc`, but the process lives on.
    // 'static: the child's second thread outlives its (main) thread.
    let state: &'static Shared<Crash> = Box::leak(Box::new(
        Shared::<Crash>::anonymous(init::zeroed()).unwrap(),
    ));
    let child = fork(|| {
        std::thread::spawn(|| {
            let guard = state.pair.lock().unwrap();
            state.holding.set();
            std::thread::sleep(Duration::from_millis(1500));
            drop(guard);
            exit_child(0);
        });
        // SAFETY: ends this (main) thread only, as `pthread_exit` would; the
        // other thread ends the process.
        unsafe { libc::syscall(libc::SYS_exit, 0) };
    });
    state
        .holding
        .wait_timeout(Duration::from_secs(30))
        .expect("the child took the lock");
    std::thread::sleep(Duration::from_millis(200));
    let Err(err) = state.pair.lock_timeout(Duration::from_millis(300)) else {
        panic!("a live holder's lock was taken");
    };
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    // Released by its live holder: no `OwnerDied`.
    assert!(state.pair.lock_timeout(JOIN).unwrap().is_ok());
    child.join(JOIN).unwrap();
}

#[test]
#[cfg(target_os = "linux")] // Linux time namespaces
#[cfg_attr(miri, ignore = "forks")]
fn sync_mutex_a_holder_in_another_time_namespace_is_never_taken_over() {
    // Start times read through `/proc` are relative to the reader's time
    // namespace: a live holder whose boot time is offset must not look like
    // a process that reused the holder's pid.
    const NO_NAMESPACES: i32 = 77;
    let state = Shared::<Crash>::anonymous(init::zeroed()).unwrap();
    let mut child = fork(|| {
        // SAFETY: plain system calls. Unprivileged user namespaces may be
        // disabled: then the test has nothing to check.
        if unsafe { libc::unshare(libc::CLONE_NEWUSER | libc::CLONE_NEWTIME) } != 0
            || std::fs::write("/proc/self/timens_offsets", "boottime 100000 0").is_err()
        {
            exit_child(NO_NAMESPACES);
        }
        // Only its children enter the new time namespace.
        let grandchild = fork(|| {
            let guard = state.pair.lock().unwrap();
            state.holding.set();
            std::thread::sleep(Duration::from_millis(1500));
            drop(guard);
        });
        if grandchild.join(JOIN).is_err() {
            exit_child(2);
        }
    });
    while state
        .holding
        .wait_timeout(Duration::from_millis(10))
        .is_err()
    {
        if let Some(status) = child.wait_timeout(Duration::ZERO).unwrap() {
            assert_eq!(status.code(), Some(NO_NAMESPACES), "{status:?}");
            eprintln!("no time namespaces here: nothing to check");
            return;
        }
    }
    // Before: `OwnerDied`, the live holder taken over.
    assert!(matches!(
        state.pair.try_lock(),
        Err(shm_runtime::sync::TryLockError::WouldBlock)
    ));
    assert!(state.pair.lock_timeout(JOIN).unwrap().is_ok());
    child.join(JOIN).unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "forks")]
fn sync_mutex_a_zombie_holder_is_dead_before_it_is_reaped() {
    let state = Shared::<Crash>::anonymous(init::zeroed()).unwrap();
    let child = fork(|| {
        std::mem::forget(state.pair.lock().unwrap());
        state.holding.set();
        exit_child(0); // a zombie until joined below
    });
    state
        .holding
        .wait_timeout(Duration::from_secs(30))
        .expect("the child took the lock");
    let start = Instant::now();
    let died = state.pair.lock_timeout(Duration::from_secs(30)).unwrap();
    assert!(died.is_err(), "the zombie's lock was not taken over");
    assert!(start.elapsed() < Duration::from_secs(10));
    drop(died);
    child.join(JOIN).unwrap();
}

#[test]
#[cfg_attr(miri, ignore = "forks")]
fn sync_mutex_lock_timeout_by_the_holder_through_another_mapping_never_panics() {
    let name = format!("/shm-runtime-test-relock-{}", std::process::id());
    let a = shm_runtime::Segment::posix(&name)
        .remove_on_drop(true)
        .create(ShmMutex::new(0u64))
        .unwrap();
    let b = shm_runtime::Segment::posix(&name)
        .open::<ShmMutex<u64>>()
        .unwrap();
    assert_ne!(
        &*a as *const ShmMutex<u64>, &*b as *const ShmMutex<u64>,
        "two mappings"
    );
    let held = a.lock().unwrap();
    // Same mutex, another address: still recognised as this thread's.
    let err = b.lock_timeout(Duration::from_secs(30)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WouldDeadlock, "{err}");
    assert!(b.try_lock().is_err());
    drop(held);
    assert!(b.lock_timeout(Duration::from_secs(30)).unwrap().is_ok());
}

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Waiting {
    value: ShmMutex<u32>,
    changed: shm_runtime::ShmCondvar,
    go: ShmEvent,
    holding: ShmEvent,
}

#[test]
#[cfg_attr(miri, ignore = "forks")]
fn sync_mutex_condvar_wait_timeout_relocks_after_the_holder_dies() {
    let w = Shared::<Waiting>::anonymous(init::zeroed()).unwrap();
    let mut child = fork(|| {
        if w.go.wait_timeout(Duration::from_secs(30)).is_err() {
            exit_child(2);
        }
        // Takes the mutex while the parent waits on the condvar, and never
        // gives it back.
        std::mem::forget(w.value.lock());
        w.holding.set();
        loop {
            std::thread::sleep(Duration::from_secs(1));
        }
    });
    let guard = w.value.lock().unwrap();
    w.go.set();
    let start = Instant::now();
    std::thread::scope(|s| {
        s.spawn(|| {
            w.holding
                .wait_timeout(Duration::from_secs(30))
                .expect("the child took the mutex");
            std::thread::sleep(Duration::from_millis(200));
            child.kill().unwrap();
        });
        // The timeout bounds the wait for a notification; re-taking the
        // mutex waits for its holder, here until it is killed.
        let died = w
            .changed
            .wait_timeout(guard, Duration::from_millis(20))
            .unwrap_err();
        let (_guard, result) = died.into_inner().unwrap();
        assert!(result.timed_out());
    });
    let elapsed = start.elapsed();
    assert!(elapsed >= Duration::from_millis(200), "{elapsed:?}");
    assert!(elapsed < Duration::from_secs(20), "{elapsed:?}");
}

/// A child that takes the lock, half-updates the pair, says so, and dies
/// holding it (as a crash would).
fn die_mid_update(state: &Crash) {
    let mut child = fork(|| {
        let mut pair = match state.pair.lock() {
            Ok(guard) => guard,
            Err(_) => exit_child(2),
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
}

/// Adds one to both halves of the pair with `?` in a function returning
/// `Box<dyn Error>` (what `lock()?` cannot do: its error borrows the mutex).
fn add_one(state: &Crash) -> Result<u64, Box<dyn std::error::Error>> {
    let mut pair = state.pair.lock_consistent()?;
    pair.a += 1;
    pair.b += 1;
    Ok(pair.a)
}

/// `lock_consistent` composes with `?`; after an owner's death it is an
/// error of kind `OwnerDied` that leaves the mutex unlocked and still marked
/// inconsistent, so that `lock` and `lock_or_repair` still see the death.
#[test]
#[cfg_attr(miri, ignore = "forks")]
fn sync_mutex_lock_consistent_reports_an_owners_death_and_keeps_the_mark() {
    let state = Shared::<Crash>::anonymous(init::zeroed()).unwrap();
    assert_eq!(add_one(&state).unwrap(), 1);
    die_mid_update(&state);

    let err = add_one(&state).unwrap_err();
    let err = err
        .downcast::<shm_runtime::Error>()
        .expect("an shm_runtime::Error");
    assert_eq!(err.kind(), ErrorKind::OwnerDied, "{err}");
    assert!(err.to_string().contains("died"), "{err}");
    assert!(state.pair.is_inconsistent());
    // Unlocked again (a try_lock gets it at once) and still marked: every
    // later locker is told, until one repairs.
    for _ in 0..2 {
        match state.pair.try_lock() {
            Err(shm_runtime::sync::TryLockError::OwnerDied(died)) => drop(died),
            Err(other) => panic!("expected OwnerDied, got {other:?}"),
            Ok(_) => panic!("expected OwnerDied, got the lock"),
        }
    }
    assert_eq!(
        state.pair.lock_consistent().err().expect("an error").kind(),
        ErrorKind::OwnerDied
    );
    let pair = state
        .pair
        .lock_or_repair(|p| p.b = p.a, || Pair { a: 0, b: 0 });
    assert_eq!((pair.a, pair.b), (2, 2));
    drop(pair);
    assert_eq!(add_one(&state).unwrap(), 3);
}

/// `?` on `lock()` in a function returning `shm_runtime::Result` converts an
/// `OwnerDied` into an error, keeping the mark.
#[test]
#[cfg_attr(miri, ignore = "forks")]
fn sync_mutex_owner_died_converts_into_an_error_with_question_mark() {
    fn read_a(state: &Crash) -> shm_runtime::Result<u64> {
        Ok(state.pair.lock()?.a)
    }
    let state = Shared::<Crash>::anonymous(init::zeroed()).unwrap();
    die_mid_update(&state);
    let err = read_a(&state).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::OwnerDied, "{err}");
    assert!(state.pair.is_inconsistent());
    assert!(state.pair.lock().is_err(), "the death is reported again");
}

/// `lock_or_repair_timeout` takes over a dead owner's lock within its
/// timeout, runs the repair on the half-updated value, and marks it
/// consistent; the reset closure is not used for a valid value.
#[test]
#[cfg_attr(miri, ignore = "forks")]
fn sync_mutex_lock_or_repair_timeout_repairs_after_an_owner_died() {
    let state = Shared::<Crash>::anonymous(init::zeroed()).unwrap();
    die_mid_update(&state);
    let start = Instant::now();
    let mut repaired = false;
    let pair = state
        .pair
        .lock_or_repair_timeout(
            Duration::from_secs(30),
            |p| {
                assert_eq!((p.a, p.b), (1, 0), "the half-updated value");
                p.b = p.a;
                repaired = true;
            },
            || panic!("a valid value is repaired, not reset"),
        )
        .unwrap();
    assert!(start.elapsed() < Duration::from_secs(10));
    assert_eq!((pair.a, pair.b), (1, 1));
    drop(pair);
    assert!(repaired);
    assert!(!state.pair.is_inconsistent());
    assert!(state.pair.try_lock().is_ok(), "consistent and free again");
}

/// Locking twice from one thread is `WouldDeadlock` for `lock_consistent`
/// and `lock_or_repair_timeout`, never a panic or a hang.
#[test]
#[cfg_attr(miri, ignore = "reads /proc for this process's start time")]
fn sync_mutex_lock_consistent_by_the_holder_is_would_deadlock() {
    let m = Shared::anonymous(ShmMutex::new(0u32)).unwrap();
    let held = m.lock().unwrap();
    assert_eq!(
        m.lock_consistent().unwrap_err().kind(),
        ErrorKind::WouldDeadlock
    );
    let err = m
        .lock_or_repair_timeout(Duration::from_secs(30), |_| {}, || 0)
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WouldDeadlock);
    drop(held);
    assert!(m.lock_consistent().is_ok());
}
