//! Tests of [`ShmMutex`](super::ShmMutex) and its robust lock.

use super::*;
use crate::liveness as owner;
use crate::sync::futex;
use crate::sync::robust::*;
use std::sync::atomic::AtomicU64;
use std::sync::mpsc;

/// Runs `f` with the identity of another live thread, which ends after.
fn with_live_thread(f: impl FnOnce(Me)) {
    let (tx, rx) = mpsc::channel();
    let (done_tx, done_rx) = mpsc::channel::<()>();
    let t = std::thread::spawn(move || {
        tx.send(owner::me()).unwrap();
        let _ = done_rx.recv_timeout(Duration::from_secs(60));
    });
    f(rx.recv().unwrap());
    drop(done_tx);
    t.join().unwrap();
}

/// The identity of a process (and its only thread) that has ended and
/// was reaped. Spawned, not forked: these tests leak guards, which
/// refuse forks for the whole test process.
fn dead_process() -> Me {
    let mut child = std::process::Command::new("true").spawn().unwrap();
    let pid = child.id();
    assert!(child.wait().unwrap().success());
    Me {
        tid: u64::from(pid),
        pid,
        process_start: 0,
        ..owner::me()
    }
}

/// Makes `m` look taken (the next epoch) by a process that died
/// holding it.
fn die_holding<T>(m: &ShmMutex<T>) {
    let dead = dead_process();
    let word = next(m.lock.word.load(Ordering::Relaxed), dead, 0);
    m.lock.word.store(word, Ordering::Relaxed);
    m.lock.owner_thread.store(dead.tid, Ordering::Relaxed);
    m.lock.owner.store(record(word, 0), Ordering::Relaxed);
}

/// A thread locks `m` and ends holding it (with `OwnerDied` or not);
/// returns once the kernel has removed the thread (`join` and scoped
/// threads return slightly before).
fn thread_dies_holding<T: SharedSafe + Send>(m: &ShmMutex<T>) {
    let tid = std::thread::scope(|s| {
        s.spawn(|| {
            std::mem::forget(m.lock());
            owner::me().tid as u32
        })
        .join()
        .unwrap()
    });
    let deadline = Deadline::after(Duration::from_secs(10));
    while owner::thread_exists(tid) {
        assert!(!deadline.passed(), "thread {tid} still exists");
        std::thread::sleep(Duration::from_millis(1));
    }
}

/// Makes `m` look held by `who`, of namespaces `ns`.
fn forge<T>(m: &ShmMutex<T>, who: Me, ns: u64) {
    let word = (EPOCH_ONE * 7) | who.ids();
    m.lock.word.store(word, Ordering::Relaxed);
    m.lock.owner_thread.store(who.tid, Ordering::Relaxed);
    m.lock
        .owner
        .store(record(word, who.process_start), Ordering::Relaxed);
    m.lock.owner_ns.store(ns, Ordering::Relaxed);
}

#[test]
fn zeroed_memory_is_an_unlocked_mutex() {
    let m: ShmMutex<u64> = bytemuck::Zeroable::zeroed();
    *m.lock().unwrap() += 5;
    assert_eq!(*m.try_lock().unwrap(), 5);
    // Unlocked: no holder; two acquisitions counted. The last holder's
    // record stays, naming an acquisition the free word does not.
    let me = owner::me();
    let word = m.lock.word.load(Ordering::Relaxed);
    assert_eq!(word, 2 * EPOCH_ONE);
    let owner = m.lock.owner.load(Ordering::Relaxed);
    assert_eq!(owner, record(word | me.ids(), me.process_start));
    assert_eq!(recorded_start(word, owner), None);
    assert_eq!(m.lock.owner_thread.load(Ordering::Relaxed), me.tid);
    assert_eq!(m.lock.owner_ns.load(Ordering::Relaxed), me.ns);
}

#[test]
fn a_used_unlocked_mutex_may_move() {
    let m = ShmMutex::new(1u32);
    *m.lock().unwrap() += 1;
    let moved = Box::new(m);
    *moved.lock().unwrap() += 1;
    assert_eq!(moved.into_inner(), 3);
}

#[test]
fn the_epoch_wraps_without_touching_the_other_bits() {
    let m = ShmMutex::new(0u8);
    m.lock.word.store(EPOCH, Ordering::Relaxed); // the last epoch, free
    let guard = m.lock().unwrap();
    assert_eq!(m.lock.word.load(Ordering::Relaxed), owner::me().ids());
    drop(guard);
    assert_eq!(m.lock.word.load(Ordering::Relaxed), 0);
}

#[test]
#[cfg_attr(miri, ignore = "reads /proc, which does not know Miri's threads")]
#[should_panic(expected = "holds the lock already")]
fn relocking_panics_instead_of_deadlocking() {
    let m = ShmMutex::new(0u8);
    let _a = m.lock().unwrap();
    let _b = m.lock();
}

#[test]
#[cfg_attr(miri, ignore = "reads /proc, which does not know Miri's threads")]
fn lock_timeout_never_panics() {
    let m = ShmMutex::new(0u8);
    let held = m.lock().unwrap();
    let err = m.lock_timeout(Duration::from_secs(60)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WouldDeadlock);
    assert!(matches!(m.try_lock(), Err(TryLockError::WouldBlock)));
    // A forgotten guard: this thread still holds it.
    std::mem::forget(held);
    let err = m.lock_timeout(Duration::ZERO).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WouldDeadlock);
}

#[test]
fn threads_count_exactly() {
    // Fewer rounds under Miri, which interprets every one.
    const ROUNDS: u64 = if cfg!(miri) { 300 } else { 10_000 };
    let m = ShmMutex::new(0u64);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..ROUNDS {
                    *m.lock().unwrap() += 1;
                }
            });
        }
    });
    assert_eq!(m.into_inner(), 4 * ROUNDS);
}

#[test]
fn timed_and_try_locks_count_exactly() {
    // Fewer rounds under Miri, which interprets every one.
    const ROUNDS: u64 = if cfg!(miri) { 200 } else { 5_000 };
    let m = ShmMutex::new(0u64);
    std::thread::scope(|s| {
        for i in 0..4 {
            let m = &m;
            s.spawn(move || {
                let mut done = 0;
                while done < ROUNDS {
                    let guard = if i % 2 == 0 {
                        m.lock_timeout(Duration::from_secs(60)).unwrap().ok()
                    } else {
                        m.try_lock().ok()
                    };
                    if let Some(mut guard) = guard {
                        *guard += 1;
                        done += 1;
                    }
                }
            });
        }
    });
    assert_eq!(m.into_inner(), 4 * ROUNDS);
}

#[test]
fn a_panicking_owner_leaves_it_inconsistent_until_marked() {
    let m = ShmMutex::new(0u32);
    std::thread::scope(|s| {
        let _ = s
            .spawn(|| {
                let _g = m.lock().unwrap();
                panic!("while holding the lock");
            })
            .join();
    });
    assert!(m.is_inconsistent());
    // Forgetting to mark consistent: the next locker is told again.
    drop(m.lock().unwrap_err().into_inner().unwrap());
    let mut guard = m.lock().unwrap_err().into_inner().unwrap();
    ShmMutexGuard::mark_consistent(&mut guard);
    drop(guard);
    assert!(m.lock().is_ok());
}

#[test]
#[cfg_attr(miri, ignore = "spawns a process")]
fn a_dead_process_is_a_dead_owner() {
    let m = ShmMutex::new(AtomicU64::new(0));
    die_holding(&m);
    // The process died holding the lock: every kind of lock sees it.
    let guard = m.lock().unwrap_err().into_inner().unwrap();
    drop(guard);
    assert!(m.is_inconsistent());
    die_holding(&m);
    assert!(matches!(m.try_lock(), Err(TryLockError::OwnerDied(_))));
    die_holding(&m);
    let died = m.lock_timeout(Duration::ZERO).unwrap().unwrap_err();
    drop(died);
}

#[test]
fn a_dead_thread_of_a_live_process_keeps_the_lock() {
    // Like std's `Mutex` after a leaked guard: a reference derived from
    // it may live on in another thread, so the lock is never taken over.
    let m = ShmMutex::new(AtomicU64::new(0));
    thread_dies_holding(&m);
    let err = m.lock_timeout(Duration::from_millis(30)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert!(matches!(m.try_lock(), Err(TryLockError::WouldBlock)));
    assert!(!m.is_inconsistent());
}

#[test]
#[cfg_attr(miri, ignore = "leaks a guard on purpose: a leak to Miri")]
fn a_guard_leaked_by_an_ended_thread_stays_exclusive() {
    static M: ShmMutex<u64> = ShmMutex::new(0);
    let leaked: &'static mut u64 = std::thread::spawn(|| {
        let guard = Box::leak(Box::new(M.lock().unwrap()));
        &mut **guard
    })
    .join()
    .unwrap();
    std::thread::sleep(Duration::from_millis(50)); // the thread is gone
                                                   // Before: taken over with `OwnerDied`, a second `&mut u64`.
    let err = M.lock_timeout(Duration::from_millis(100)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert!(matches!(M.try_lock(), Err(TryLockError::WouldBlock)));
    *leaked = 2;
    assert_eq!(*leaked, 2);
}

#[test]
#[cfg_attr(miri, ignore = "spawns a process")]
fn a_dead_owner_with_sleeping_waiters_is_taken_over_once() {
    let m = ShmMutex::new(0u64);
    die_holding(&m);
    let died = std::sync::atomic::AtomicU32::new(0);
    std::thread::scope(|s| {
        for _ in 0..4 {
            s.spawn(|| {
                for _ in 0..100 {
                    let mut guard = match m.lock_timeout(Duration::from_secs(60)).unwrap() {
                        Ok(guard) => guard,
                        Err(d) => {
                            died.fetch_add(1, Ordering::Relaxed);
                            let mut guard = d.into_inner().unwrap();
                            ShmMutexGuard::mark_consistent(&mut guard);
                            guard
                        }
                    };
                    *guard += 1;
                }
            });
        }
    });
    assert_eq!(died.load(Ordering::Relaxed), 1);
    assert_eq!(m.into_inner(), 400);
}

#[test]
fn lock_timeout_times_out_then_succeeds() {
    let m = ShmMutex::new(0u8);
    let held = m.lock().unwrap();
    std::thread::scope(|s| {
        s.spawn(|| {
            let err = m.lock_timeout(Duration::from_millis(20)).unwrap_err();
            assert_eq!(err.kind(), ErrorKind::TimedOut);
        });
    });
    drop(held);
    assert!(m.lock_timeout(Duration::from_millis(20)).unwrap().is_ok());
}

#[test]
fn a_live_holder_is_never_taken_over() {
    with_live_thread(|them| {
        let m = ShmMutex::new(0u8);
        forge(&m, them, owner::me().ns);
        let err = m.lock_timeout(Duration::from_millis(30)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        assert!(matches!(m.try_lock(), Err(TryLockError::WouldBlock)));
        // Without a record, its process's existence is enough.
        m.lock.owner.store(0, Ordering::Relaxed);
        assert!(matches!(m.try_lock(), Err(TryLockError::WouldBlock)));
    });
}

#[test]
#[cfg_attr(miri, ignore = "spawns a process")]
fn a_reused_process_id_is_a_dead_owner() {
    // This very process has the pid, but not the recorded start time.
    let me = owner::me();
    let m = ShmMutex::new(0u8);
    let before = Me {
        token: me.token + 1,
        process_start: me.process_start.wrapping_add(1).max(1),
        ..me
    };
    forge(&m, before, me.ns);
    let guard = m
        .lock_timeout(Duration::from_secs(10))
        .unwrap()
        .unwrap_err();
    drop(guard);
    assert!(m.is_inconsistent());
    // An unrecorded holder whose process is gone: the word names it.
    let dead = dead_process();
    forge(&m, dead, me.ns);
    m.lock.owner.store(0, Ordering::Relaxed);
    assert!(matches!(m.try_lock(), Err(TryLockError::OwnerDied(_))));
}

#[test]
#[cfg_attr(miri, ignore = "reads /proc, which does not know Miri's threads")]
fn a_dead_process_with_this_pid_and_token_is_not_this_thread() {
    // A process that had our pid (and a thread with our token) died
    // holding the lock: its record has another start time, so it is
    // neither us (no panic, no `WouldDeadlock`) nor alive.
    let me = owner::me();
    let m = ShmMutex::new(0u8);
    let before = Me {
        process_start: me.process_start.wrapping_add(1).max(1),
        ..me
    };
    forge(&m, before, me.ns);
    let died = m.lock_timeout(Duration::from_secs(10)).unwrap();
    drop(died.unwrap_err());
    // Unrecorded with our pid and token: not certainly us, and our
    // process is alive: only a timeout.
    forge(&m, before, me.ns);
    m.lock.owner.store(0, Ordering::Relaxed);
    let err = m.lock_timeout(Duration::from_millis(10)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    // A process without a start time of its own is never sure it holds
    // a lock: it cannot tell itself from a dead process with its pid.
    let word = (EPOCH_ONE * 3) | me.ids();
    let unsure = Me {
        process_start: 0,
        ..me
    };
    assert!(!held_by(word, record(word, 0), me.ns, unsure));
    // With its start time, pid and token, it is.
    let owner = record(word, me.process_start);
    assert!(held_by(word, owner, me.ns, me));
    assert!(held_by(word | WAITERS, owner, me.ns, me));
    for other in [
        Me {
            pid: me.pid + 1,
            ..me
        },
        Me {
            token: me.token + 1,
            ..me
        },
    ] {
        assert!(!held_by(word, owner, me.ns, other));
    }
    assert!(!held_by(word, owner, me.ns + 1, me));
    // A record of another acquisition (epoch) says nothing.
    let older = record(word - EPOCH_ONE, me.process_start);
    assert!(!held_by(word, older, me.ns, me));
}

#[test]
fn tokens_of_ended_threads_are_reused_unless_they_leaked_a_guard() {
    static M: ShmMutex<u64> = ShmMutex::new(0);
    let token_of_thread = |leak: bool| {
        std::thread::spawn(move || {
            let guard = M.try_lock();
            let token = owner::me().token;
            if leak {
                std::mem::forget(guard);
            }
            token
        })
        .join()
        .unwrap()
    };
    let leaked = token_of_thread(true);
    // Threads that end cleanly hand their tokens on: a hundred of them
    // one after the other need few tokens, and never the leaked one.
    let mut seen = std::collections::BTreeSet::new();
    for _ in 0..100 {
        let token = token_of_thread(false);
        assert_ne!(token, leaked);
        seen.insert(token);
    }
    assert!(seen.len() < 50, "tokens are not reused: {seen:?}");
    // The leaked guard's lock is held by a thread that ended.
    assert!(matches!(M.try_lock(), Err(TryLockError::WouldBlock)));
}

#[test]
#[cfg_attr(miri, ignore = "reads /proc, which does not know Miri's threads")]
fn relocking_for_the_condvar_never_panics() {
    // Even when the lock looks held by this very thread (only a forged
    // or a dead thread's record could say so after the condvar released
    // it), the relock waits instead of panicking like `lock`.
    let m = ShmMutex::new(0u8);
    std::thread::scope(|s| {
        let t = s.spawn(|| {
            let me = owner::me();
            forge(&m, me, me.ns);
            assert!(m.lock.held_by(m.lock.word.load(Ordering::Relaxed), me));
            m.relock().is_ok()
        });
        let deadline = Deadline::after(Duration::from_secs(10));
        while m.lock.word.load(Ordering::Relaxed) & WAITERS == 0 {
            assert!(!deadline.passed(), "the relock does not wait");
            std::thread::sleep(Duration::from_millis(1));
        }
        // Released: the relock takes it.
        m.lock.word.store(EPOCH_ONE * 7, Ordering::Release);
        futex::wake_low(&m.lock.word, 1);
        assert!(t.join().unwrap());
    });
}

#[test]
#[cfg_attr(miri, ignore = "spawns a process")]
fn a_takeover_needs_the_records_it_judged() {
    let m = ShmMutex::new(0u8);
    die_holding(&m);
    let word = m.lock.word.load(Ordering::Relaxed);
    let seen = m.lock.owner.load(Ordering::Relaxed);
    // Another holder's record appeared since the judgement (the word
    // alone could have come round again): no takeover.
    m.lock.owner.store(seen ^ 1, Ordering::Relaxed);
    assert_eq!(m.lock.take_over(word, seen, owner::me()), None);
    assert_eq!(m.lock.word.load(Ordering::Relaxed), word);
    m.lock.owner.store(seen, Ordering::Relaxed);
    assert!(m.lock.take_over(word, seen, owner::me()).is_some());
}

#[test]
fn a_timed_waiter_that_gives_up_passes_the_wake_on() {
    // A waiter slept (so others may sleep too), then gives up while the
    // lock is held without `WAITERS` (another thread took it after the
    // wake-up meant for it): the next unlock must still wake someone.
    with_live_thread(|them| {
        let m = ShmMutex::new(0u8);
        forge(&m, them, owner::me().ns);
        let word = m.lock.word.load(Ordering::Relaxed);
        m.lock.pass_on_wake();
        assert_eq!(m.lock.word.load(Ordering::Relaxed), word | WAITERS);
        // Free: wake a sleeper at once (none here: harmless).
        m.lock.word.store(word & EPOCH, Ordering::Relaxed);
        m.lock.pass_on_wake();
        assert_eq!(m.lock.word.load(Ordering::Relaxed), word & EPOCH);
    });
}

#[test]
#[cfg_attr(miri, ignore = "spawns a process")]
fn a_holder_of_another_namespace_is_never_taken_over() {
    let dead = dead_process();
    let me = owner::me();
    for ns in [MIXED_NS, me.ns + 1] {
        // Its ids mean nothing here, so it cannot be judged dead:
        // waiting is bounded by the caller's timeout, never a takeover.
        let m = ShmMutex::new(0u8);
        forge(&m, dead, ns);
        let word = m.lock.word.load(Ordering::Relaxed);
        let err = m.lock_timeout(Duration::from_millis(30)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut);
        assert!(matches!(m.try_lock(), Err(TryLockError::WouldBlock)));
        assert_eq!(m.lock.word.load(Ordering::Relaxed) & !WAITERS, word);
        assert!(!m.is_inconsistent());
        // Nor is it "this thread" when the ids are ours.
        forge(&m, me, ns);
        let err = m.lock_timeout(Duration::from_millis(10)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut);
    }
}

#[test]
fn another_time_namespace_is_another_namespace() {
    // Start times are read relative to the reader's time namespace: a
    // holder in another one is never judged by them.
    let pid_ns = 0xF000_0001;
    let here = owner::namespace_key(pid_ns, Some(0xF000_0002));
    let there = owner::namespace_key(pid_ns, Some(0xF000_0003));
    let unknown = owner::namespace_key(pid_ns, None);
    assert_ne!(here, there);
    assert_ne!(here, unknown);
    for key in [here, there, unknown] {
        assert_ne!(key, 0);
        assert_ne!(key, MIXED_NS);
    }
    let odd = owner::namespace_key(1 << 63 | 7, Some(0xF000_0002));
    assert_ne!(odd, owner::namespace_key(1 << 63 | 7, Some(0xF000_0003)));
}

#[test]
fn a_lock_from_another_namespace_makes_the_record_mixed() {
    let m = ShmMutex::new(0u8);
    m.lock.owner_ns.store(owner::me().ns + 1, Ordering::Relaxed);
    drop(m.lock().unwrap());
    assert_eq!(m.lock.owner_ns.load(Ordering::Relaxed), MIXED_NS);
}

#[test]
fn forgetting_a_guard_then_freeing_the_mutex_is_harmless() {
    for _ in 0..100 {
        let m = Box::new(ShmMutex::new([0u64; 8]));
        std::mem::forget(m.lock().unwrap());
        drop(m);
        let other = Box::new(ShmMutex::new(0u64));
        for _ in 0..10 {
            *other.lock().unwrap() += 1;
        }
        assert_eq!(other.into_inner(), 10);
    }
}

#[test]
#[cfg_attr(miri, ignore = "spawns a process")]
fn probe_recognises_a_mutex_in_use() {
    let bytes = |m: &ShmMutex<u64>| {
        let mut out = [0u8; PROBE_LEN];
        let mut put = |at: usize, b: &[u8]| out[at..at + b.len()].copy_from_slice(b);
        put(0, &m.lock.word.load(Ordering::Relaxed).to_ne_bytes());
        put(
            8,
            &m.lock.inconsistent.load(Ordering::Relaxed).to_ne_bytes(),
        );
        put(12, &m.lock.reserved.load(Ordering::Relaxed).to_ne_bytes());
        put(16, &m.lock.owner.load(Ordering::Relaxed).to_ne_bytes());
        put(
            24,
            &m.lock.owner_thread.load(Ordering::Relaxed).to_ne_bytes(),
        );
        put(32, &m.lock.owner_ns.load(Ordering::Relaxed).to_ne_bytes());
        out
    };
    assert_eq!(
        [
            offset_of!(ShmMutex<u64>, lock.inconsistent),
            offset_of!(ShmMutex<u64>, lock.reserved),
            offset_of!(ShmMutex<u64>, lock.owner),
            offset_of!(ShmMutex<u64>, lock.owner_thread),
            offset_of!(ShmMutex<u64>, lock.owner_ns),
            PROBE_LEN
        ],
        [8, 12, 16, 24, 32, 40]
    );
    let m = ShmMutex::new(0u64);
    assert_eq!(probe(&bytes(&m)), None, "never used: all zero");
    let guard = m.lock().unwrap();
    let held = probe(&bytes(&m)).unwrap();
    assert_eq!(u64::from(held.holder_tid), owner::me().tid);
    assert_eq!(held.holder_alive, Some(true));
    drop(guard);
    let free = probe(&bytes(&m)).unwrap();
    assert_eq!((free.holder_tid, free.holder_alive), (0, None));
    die_holding(&m);
    let dead = probe(&bytes(&m)).unwrap();
    assert_eq!(dead.holder_alive, Some(false));
    // Ordinary data does not look like a mutex.
    assert_eq!(
        probe(&[
            0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0,
            0, 0, 0, 9, 0, 0, 0, 0, 0, 0, 0
        ]),
        None
    );
    assert_eq!(probe(&[7; PROBE_LEN]), None);
    assert_eq!(probe(&[0; 4]), None);
}
