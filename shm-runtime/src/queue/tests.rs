//! In-process tests of [`ShmQueue`]; the cross-process ones (forks,
//! SIGKILLs) are in the workspace's `tests/queue*.rs`.

use super::fence::Barrier;
use super::recovery::MIXED_NS;
use super::ring::{self, Claim};
use super::wait::now_ms;
use super::*;
use crate::error::ErrorKind;
use crate::sync::owner;
use crate::SharedSafe;
use std::collections::HashSet;
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The pid of a process that has ended and was reaped: a forked child,
/// killed with SIGKILL at once and reaped here. It needs no exec (so no
/// `posix_spawn`), nor even that the child runs: under qemu-user a forked
/// child of this multi-threaded test process now and then stalls in the
/// emulator before it reaches `_exit` (qemu 7.2), and SIGKILL ends it all
/// the same. The pid is free again once reaped; another process gets it
/// only when the kernel's pid counter wraps round `pid_max` during the
/// test, as unlikely as with the spawned `true` this replaces.
fn dead_pid() -> u32 {
    // SAFETY: `fork` has no memory-safety preconditions of its own. The
    // test process has other threads (the harness's), so the child, a copy
    // of this thread alone, may find any lock held for good: it runs only
    // `_exit`, which is async-signal-safe, below.
    let pid = unsafe { libc::fork() };
    if pid == 0 {
        // SAFETY: `_exit` ends the child at once: no destructor, `atexit`
        // handler, allocation, lock or test harness code of the parent's
        // runs in it.
        unsafe { libc::_exit(0) }
    }
    assert!(pid > 0, "fork: {}", std::io::Error::last_os_error());
    // SAFETY: `pid` is our own child, not yet reaped (a zombie at worst),
    // so the signal reaches no other process.
    let killed = unsafe { libc::kill(pid, libc::SIGKILL) };
    assert_eq!(
        killed,
        0,
        "kill({pid}): {}",
        std::io::Error::last_os_error()
    );
    let mut status = 0;
    // SIGKILL cannot be caught or blocked, so this blocking wait returns as
    // soon as the kernel has ended the child, whatever state it was in.
    loop {
        // SAFETY: waits for our own child; `status` is a valid out-pointer.
        let rc = unsafe { libc::waitpid(pid, &mut status, 0) };
        if rc == pid {
            break;
        }
        let err = std::io::Error::last_os_error();
        assert_eq!(
            err.kind(),
            std::io::ErrorKind::Interrupted,
            "waitpid({pid}): {err}"
        );
    }
    assert!(
        (libc::WIFEXITED(status) && libc::WEXITSTATUS(status) == 0)
            || (libc::WIFSIGNALED(status) && libc::WTERMSIG(status) == libc::SIGKILL),
        "forked child {pid} ended with status {status:#x}"
    );
    u32::try_from(pid).expect("a child's pid is positive")
}

#[test]
fn zeroed_memory_is_an_empty_queue_and_items_come_out_in_order() {
    let q: ShmQueue<u64, 4> = bytemuck::Zeroable::zeroed();
    assert!(q.is_empty());
    assert_eq!(q.try_pop().unwrap(), None);
    for i in 0..4 {
        assert_eq!(q.try_push(i), Ok(()));
    }
    assert_eq!(q.len(), 4);
    assert_eq!(q.try_push(99), Err(99), "full at capacity");
    for i in 0..4 {
        assert_eq!(q.try_pop().unwrap(), Some(i));
    }
    assert_eq!(q.try_pop().unwrap(), None);
}

#[test]
fn len_is_exact_at_rest_whatever_the_counters_lag() {
    // A claimer counts its claim with a plain store that can move a counter
    // back behind finished claims, by any number of positions: `len` walks
    // the slots forward from the counters, so with nothing in progress it
    // is exact, and the next push and pop take the right positions.
    let q = ShmQueue::<u64, 4>::new();
    // Nine laps of the ring, then three items in it.
    for i in 0..36 {
        q.push(i);
        assert_eq!(q.try_pop().unwrap(), Some(i));
    }
    for i in 0..3 {
        q.push(100 + i);
    }
    assert_eq!(
        (
            q.head.0.load(Ordering::Relaxed),
            q.tail.0.load(Ordering::Relaxed)
        ),
        (39, 36)
    );
    // Every lag a moved-back counter can show: by part of a lap, by laps.
    for (head, tail) in [(38, 36), (37, 35), (36, 33), (0, 0), (1, 30), (20, 9)] {
        q.head.0.store(head, Ordering::Relaxed);
        q.tail.0.store(tail, Ordering::Relaxed);
        assert_eq!(q.len(), 3, "head {head}, tail {tail}");
    }
    assert_eq!(q.try_push(103), Ok(()));
    assert_eq!(q.len(), 4);
    assert_eq!(q.try_push(104), Err(104), "full at capacity");
    for i in 0..4 {
        assert_eq!(q.try_pop().unwrap(), Some(100 + i));
    }
    q.head.0.store(3, Ordering::Relaxed);
    q.tail.0.store(1, Ordering::Relaxed);
    assert!(q.is_empty());
    assert_eq!(q.try_pop().unwrap(), None);
}

#[test]
#[cfg_attr(miri, ignore = "spawns a process")]
fn len_counts_no_dead_producers_slot_and_a_dead_consumers_item_as_gone() {
    // A slot skipped for a dead producer (stamp 2L to 2L + 2) holds no item,
    // and an item claimed by a dead consumer is gone: `len` counts neither,
    // also from lagging counters.
    let q = ShmQueue::<u64, 2>::new();
    let pid = dead_pid();
    let Claim::Got { index, stamp } = q.claim_push(pid) else {
        panic!("an empty queue has room")
    };
    assert_eq!(
        q.len(),
        1,
        "claimed, not yet known dead: counts as in progress"
    );
    assert!(q.recover(index, ring::word(stamp, pid)));
    q.push(7);
    q.tail.0.store(0, Ordering::Relaxed);
    q.head.0.store(0, Ordering::Relaxed);
    // Position 0 skipped (nobody popped it yet), position 1 holds 7.
    assert_eq!(q.len(), 1);
    assert_eq!(q.try_pop().unwrap(), Some(7));
    assert!(q.is_empty());
    q.push(8);
    let Claim::Got { index, stamp } = q.claim_pop(pid) else {
        panic!("an item is there")
    };
    assert!(q.recover(index, ring::word(stamp, pid)));
    q.tail.0.store(1, Ordering::Relaxed);
    assert!(q.is_empty(), "the dead consumer's item is gone");
    assert_eq!(q.try_pop().unwrap(), None);
}

#[test]
fn many_laps_keep_fifo_order_for_every_capacity() {
    fn laps<const N: usize>() {
        let q = ShmQueue::<u32, N>::new();
        let mut next_in = 0u32;
        let mut next_out = 0u32;
        // Uneven batches, so that the counters cross slot boundaries in
        // every phase.
        for round in 0..200u32 {
            let batch = (round % N as u32) + 1;
            for _ in 0..batch {
                if q.try_push(next_in).is_ok() {
                    next_in += 1;
                }
            }
            for _ in 0..(batch + round % 2) {
                if let Some(v) = q.try_pop().unwrap() {
                    assert_eq!(v, next_out);
                    next_out += 1;
                }
            }
        }
        while let Some(v) = q.try_pop().unwrap() {
            assert_eq!(v, next_out);
            next_out += 1;
        }
        assert_eq!(next_in, next_out);
        assert!(next_in >= 200);
    }
    laps::<1>();
    laps::<2>();
    laps::<3>();
    laps::<8>();
}

#[test]
fn timeouts_expire_on_a_full_or_empty_queue() {
    let q = ShmQueue::<u8, 1>::new();
    let start = Instant::now();
    let err = q.pop_timeout(Duration::from_millis(20)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert!(start.elapsed() >= Duration::from_millis(20));
    q.push(1);
    let start = Instant::now();
    assert_eq!(q.push_timeout(2, Duration::from_millis(20)), Err(2));
    assert!(start.elapsed() >= Duration::from_millis(20));
    assert_eq!(q.pop_timeout(Duration::from_millis(20)).unwrap(), 1);
}

#[test]
fn threads_get_every_item_exactly_once_in_producer_order() {
    const PRODUCERS: u64 = 3;
    const CONSUMERS: usize = 3;
    let per = if cfg!(miri) { 50 } else { 20_000 };
    let q = ShmQueue::<u64, 8>::new();
    let seen: Vec<Vec<u64>> = std::thread::scope(|s| {
        for p in 0..PRODUCERS {
            let q = &q;
            s.spawn(move || {
                for i in 0..per {
                    q.push(p << 32 | i);
                }
            });
        }
        let consumers: Vec<_> = (0..CONSUMERS)
            .map(|c| {
                let q = &q;
                s.spawn(move || {
                    let mut got = Vec::new();
                    let mut last = [None::<u64>; PRODUCERS as usize];
                    // Consumer 0 blocks, the others spin: both paths.
                    loop {
                        let item = if c == 0 {
                            q.pop_timeout(Duration::from_millis(200)).ok()
                        } else {
                            let deadline = Instant::now() + Duration::from_millis(200);
                            loop {
                                if let Some(v) = q.try_pop().unwrap() {
                                    break Some(v);
                                }
                                if Instant::now() > deadline {
                                    break None;
                                }
                                std::thread::yield_now();
                            }
                        };
                        let Some(item) = item else { break got };
                        let (p, i) = ((item >> 32) as usize, item & 0xffff_ffff);
                        assert!(
                            last[p].is_none_or(|l| l < i),
                            "producer {p}: {i} after {last:?}"
                        );
                        last[p] = Some(i);
                        got.push(item);
                    }
                })
            })
            .collect();
        consumers.into_iter().map(|c| c.join().unwrap()).collect()
    });
    let all: Vec<u64> = seen.into_iter().flatten().collect();
    let unique: HashSet<u64> = all.iter().copied().collect();
    assert_eq!(unique.len(), all.len(), "an item was delivered twice");
    assert_eq!(all.len() as u64, PRODUCERS * per, "an item was lost");
}

#[test]
fn blocked_consumers_wake_for_each_push() {
    let q = Arc::new(ShmQueue::<u32, 4>::new());
    let waiters: Vec<_> = (0..2)
        .map(|_| {
            let q = Arc::clone(&q);
            std::thread::spawn(move || q.pop_timeout(Duration::from_secs(30)).unwrap())
        })
        .collect();
    std::thread::sleep(Duration::from_millis(20));
    q.push(1);
    q.push(2);
    let mut got: Vec<u32> = waiters.into_iter().map(|w| w.join().unwrap()).collect();
    got.sort();
    assert_eq!(got, [1, 2]);
}

#[test]
fn a_blocked_producer_wakes_when_a_slot_frees() {
    let q = Arc::new(ShmQueue::<u32, 1>::new());
    q.push(1);
    let producer = {
        let q = Arc::clone(&q);
        std::thread::spawn(move || q.push_timeout(2, Duration::from_secs(30)))
    };
    std::thread::sleep(Duration::from_millis(20));
    assert_eq!(q.pop().unwrap(), 1);
    assert_eq!(producer.join().unwrap(), Ok(()));
    assert_eq!(q.pop().unwrap(), 2);
}

#[test]
fn a_panic_while_writing_in_place_skips_the_slot() {
    let q = ShmQueue::<[u32; 4], 4>::new();
    q.push([1; 4]);
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        q.push_with(|item| {
            item[0] = 7;
            panic!("half-written");
        })
    }));
    assert!(panicked.is_err());
    q.push_with(|item| *item = [3; 4]);
    assert_eq!(q.pop().unwrap(), [1; 4]);
    assert_eq!(
        q.pop().unwrap(),
        [3; 4],
        "the half-written item is never seen"
    );
    assert_eq!(q.try_pop().unwrap(), None);
}

#[test]
fn a_panic_while_reading_in_place_consumes_the_item() {
    let q = ShmQueue::<u64, 2>::new();
    q.push(1);
    q.push(2);
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        q.pop_with(|_| panic!("reader failed"))
    }));
    assert!(panicked.is_err());
    assert_eq!(q.try_pop().unwrap(), Some(2));
    assert_eq!(q.try_pop().unwrap(), None);
}

#[test]
fn an_invalid_item_is_an_error_then_the_next_item_comes() {
    let q = ShmQueue::<bool, 4>::new();
    q.push(true);
    q.push(false);
    // Forge the first item's byte, as a process outside the protocol could.
    q.slots[0].value.with_mut(|slot| {
        // SAFETY: nobody else uses this queue; the slot holds a published
        // item, whose byte is overwritten with one no `bool` has.
        unsafe { slot.cast::<u8>().write(2) }
    });
    let err = q.try_pop().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidValue);
    assert!(err.to_string().contains("bool"), "{err}");
    assert_eq!(q.try_pop().unwrap(), Some(false));
}

#[test]
#[cfg_attr(miri, ignore = "spawns a process")]
fn a_producer_dead_after_its_claim_is_skipped_by_a_blocked_consumer() {
    let q = ShmQueue::<u32, 4>::new();
    q.record_namespace(owner::me().ns);
    // A producer that died between its claim and its publishing store.
    let Claim::Got { index, stamp } = q.claim_push(dead_pid()) else {
        panic!("an empty queue has room")
    };
    q.push(2);
    let start = Instant::now();
    assert_eq!(q.pop_timeout(Duration::from_secs(10)).unwrap(), 2);
    assert!(
        start.elapsed() < Duration::from_secs(1),
        "{:?}",
        start.elapsed()
    );
    let word = q.slots[index].word.load(Ordering::Relaxed);
    assert_eq!(word, ring::next_free(stamp), "the dead claim was released");
    assert_eq!(
        q.try_pop().unwrap(),
        None,
        "the half-written item never shows"
    );
}

#[test]
#[cfg_attr(miri, ignore = "spawns a process")]
fn a_spinning_try_pop_also_skips_a_dead_producer() {
    let q = ShmQueue::<u32, 4>::new();
    q.record_namespace(owner::me().ns);
    let Claim::Got { .. } = q.claim_push(dead_pid()) else {
        panic!("an empty queue has room")
    };
    q.push(5);
    let start = Instant::now();
    let got = loop {
        if let Some(v) = q.try_pop().unwrap() {
            break v;
        }
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "stuck behind a dead producer"
        );
    };
    assert_eq!(got, 5);
}

#[test]
#[cfg_attr(miri, ignore = "spawns a process")]
fn a_consumer_dead_after_its_claim_frees_its_slot_for_producers() {
    let q = ShmQueue::<u32, 1>::new();
    q.record_namespace(owner::me().ns);
    q.push(1);
    let Claim::Got { .. } = q.claim_pop(dead_pid()) else {
        panic!("an item was pushed")
    };
    // Full until the dead consumer's slot is released.
    assert_eq!(q.push_timeout(2, Duration::from_secs(10)), Ok(()));
    assert_eq!(
        q.try_pop().unwrap(),
        Some(2),
        "item 1 is lost, never seen twice"
    );
    assert_eq!(q.try_pop().unwrap(), None);
}

#[test]
fn a_live_claimer_is_never_skipped() {
    let q = ShmQueue::<u32, 2>::new();
    q.record_namespace(owner::me().ns);
    // Claimed by this very process, which is alive: waiting times out.
    let Claim::Got { index, stamp } = q.claim_push(owner::me().pid) else {
        panic!("an empty queue has room")
    };
    q.push(9);
    let err = q.pop_timeout(Duration::from_millis(30)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    q.slots[index].value.with_mut(|slot| {
        // SAFETY: this test claimed the slot: nobody else accesses it.
        unsafe { slot.cast::<u32>().write(8) }
    });
    q.publish(index, stamp, Barrier::Full);
    assert_eq!(q.pop().unwrap(), 8);
    assert_eq!(q.pop().unwrap(), 9);
}

#[test]
fn users_of_another_namespace_make_nobody_judge() {
    let q = ShmQueue::<u32, 2>::new();
    q.record_namespace(owner::me().ns ^ 1);
    q.record_namespace(owner::me().ns);
    assert_eq!(q.waits.0.users_ns.load(Ordering::Relaxed), MIXED_NS);
    let Claim::Got { index, .. } = q.claim_push(u32::MAX - 1) else {
        panic!("an empty queue has room")
    };
    let word = q.slots[index].word.load(Ordering::Relaxed);
    assert!(!q.claimer_dead(index, word, &owner::me()));
}

#[test]
fn the_fingerprint_depends_on_capacity_and_item_and_opens_read_no_slot() {
    assert_ne!(
        ShmQueue::<u64, 4>::FINGERPRINT,
        ShmQueue::<u64, 8>::FINGERPRINT
    );
    assert_ne!(
        ShmQueue::<u64, 4>::FINGERPRINT,
        ShmQueue::<i64, 4>::FINGERPRINT
    );
    // Items are protocol data: a typed open never checks them, even for a
    // type with invalid bit patterns.
    assert!(!ShmQueue::<bool, 4>::LAYOUT.needs_check());
    // No drop glue (a `SharedSafe` promise).
    assert!(!core::mem::needs_drop::<ShmQueue<u64, 4>>());
}

#[test]
fn zeros_are_valid_looks_into_items_for_the_sigbus_handler() {
    use crate::layout::zeros_are_valid;
    use core::num::NonZeroU64;
    // An item lent by `pop_with` is a live `&T` into the slot: after a
    // truncation the handler must not map zeros under a `&NonZeroU64`,
    // although a typed open checks no item (protocol fields).
    assert!(!zeros_are_valid::<ShmQueue<NonZeroU64, 4>>());
    assert!(zeros_are_valid::<ShmQueue<u64, 4>>());
    assert!(zeros_are_valid::<ShmQueue<bool, 4>>());
    // The same for the other protocol fields: a guard's `&mut T` ...
    assert!(!zeros_are_valid::<crate::ShmMutex<NonZeroU64>>());
    assert!(zeros_are_valid::<crate::ShmMutex<u64>>());
    assert!(!zeros_are_valid::<crate::SeqLock<NonZeroU64>>());
    // ... and an element of a vector, whose zeroed whole (length 0) is
    // valid but whose items are not.
    assert!(!zeros_are_valid::<crate::FixedVec<NonZeroU64, 4>>());
    assert!(zeros_are_valid::<crate::FixedVec<u32, 4>>());
    assert!(zeros_are_valid::<crate::FixedString<16>>());
}

/// An item with padding: three bytes after `tag`.
#[derive(crate::SharedSafe, Clone, Copy, bytemuck::AnyBitPattern)]
#[repr(C)]
struct Padded {
    tag: u8,
    value: u32,
}

#[test]
fn push_with_zeroes_the_padding_its_closure_filled() {
    let q = ShmQueue::<Padded, 2>::new();
    q.push_with(|item| {
        // Every byte, padding included, as a copy from the stack may do.
        // SAFETY: `item` is a valid, exclusive `Padded`; any bytes are one.
        unsafe { (item as *mut Padded).cast::<u8>().write_bytes(0xAA, 8) };
        item.value = 7;
    });
    let bytes = q.slots[0].value.with(|slot| {
        // SAFETY: nobody else uses this queue; the published slot's bytes
        // are all initialized (the padding zeroed by the push).
        unsafe { *slot.cast::<[u8; 8]>() }
    });
    assert_eq!(&bytes[1..4], &[0, 0, 0], "padding zeroed: {bytes:?}");
    assert_eq!(bytes[0], 0xAA, "data bytes kept");
    let item = q.pop().unwrap();
    assert_eq!((item.tag, item.value), (0xAA, 7));
}

#[test]
fn an_invalid_item_is_refused_by_pop_with_without_calling_the_reader() {
    let q = ShmQueue::<bool, 2>::new();
    q.push(true);
    q.slots[0].value.with_mut(|slot| {
        // SAFETY: nobody else uses this queue; the published item's byte
        // is overwritten with one no `bool` has.
        unsafe { slot.cast::<u8>().write(3) }
    });
    let err = q
        .try_pop_with(|_| panic!("the reader never sees an invalid item"))
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidValue);
    assert_eq!(q.try_pop().unwrap(), None, "the item was consumed");
}

#[test]
#[cfg_attr(miri, ignore = "spawns a process")]
fn recovering_a_dead_producers_slot_wakes_sleeping_consumers_too() {
    let q = ShmQueue::<u32, 4>::new();
    q.record_namespace(owner::me().ns);
    let Claim::Got { index, .. } = q.claim_push(dead_pid()) else {
        panic!("an empty queue has room")
    };
    q.push(5);
    // A consumer registered as (about to be) asleep on the dead slot: the
    // consumer that skips the slot must wake it, not only producers.
    q.waits.0.pop.count.store(1, Ordering::SeqCst);
    let pushed = q.waits.0.pop.word.load(Ordering::SeqCst);
    let start = Instant::now();
    // A spinning consumer skips the dead slot, then takes the item.
    while q.try_pop().unwrap().is_none() {
        assert!(
            start.elapsed() < Duration::from_secs(5),
            "stuck behind a dead producer"
        );
    }
    assert_eq!(ring::claimer(q.slots[index].word.load(Ordering::SeqCst)), 0);
    assert_ne!(
        q.waits.0.pop.word.load(Ordering::SeqCst),
        pushed,
        "the sleeping consumer was woken"
    );
    q.waits.0.pop.count.store(0, Ordering::SeqCst);
}

#[test]
#[cfg_attr(miri, ignore)]
fn no_wake_up_is_missed_when_every_pop_and_push_sleeps() {
    // Two threads ping-pong through two queues of capacity 1, and every
    // blocked call sleeps at once (no spin) in slices of 10 s: a wake-up
    // that the protocol missed (a publisher that did not see a sleeper
    // that did not see its item) would leave a call asleep for the whole
    // slice. Every call must return long before that. This process takes
    // the light side if the system allows it (then the sleepers' barrier
    // is what keeps the wake-ups), else the full one.
    use super::fence::light;
    use super::wait::{SLEEP_AT_ONCE, TEST_SLICE};
    let barrier = light(owner::me().generation);
    assert_eq!(
        barrier == Barrier::Light,
        crate::platform::barrier::register(),
        "light exactly where this process can register"
    );
    const ROUNDS: u64 = 20_000;
    let down = Arc::new(ShmQueue::<u64, 1>::new());
    let up = Arc::new(ShmQueue::<u64, 1>::new());
    let (d, u) = (down.clone(), up.clone());
    let echo = std::thread::spawn(move || {
        SLEEP_AT_ONCE.with(|s| s.set(true));
        let mut longest = Duration::ZERO;
        for i in 0..ROUNDS {
            let start = Instant::now();
            let v = d.pop().unwrap();
            longest = longest.max(start.elapsed());
            assert_eq!(v, i);
            u.push(v);
        }
        longest
    });
    SLEEP_AT_ONCE.with(|s| s.set(true));
    let mut longest = Duration::ZERO;
    for i in 0..ROUNDS {
        down.push(i);
        let start = Instant::now();
        assert_eq!(up.pop().unwrap(), i);
        longest = longest.max(start.elapsed());
    }
    SLEEP_AT_ONCE.with(|s| s.set(false));
    let theirs = echo.join().unwrap();
    let half = TEST_SLICE / 2;
    assert!(
        longest < half && theirs < half,
        "a pop slept {:?} (of a {TEST_SLICE:?} slice): a wake-up was missed",
        longest.max(theirs)
    );
}

#[test]
#[cfg_attr(miri, ignore = "reads /proc")]
fn a_consumer_that_died_asleep_costs_producers_one_wake_up_at_most() {
    let q = ShmQueue::<u32, 4>::new();
    q.record_namespace(owner::me().ns);
    // A consumer registered as asleep and was killed: nobody renews its
    // registration, which is older than `STALE` by now.
    let stale = 2 * super::wait::STALE.as_millis() as u64;
    q.waits.0.pop.count.store(1, Ordering::SeqCst);
    q.waits
        .0
        .pop
        .latest
        .store(now_ms() - stale, Ordering::SeqCst);
    let word = q.waits.0.pop.word.load(Ordering::SeqCst);
    q.push(1);
    assert_eq!(
        q.waits.0.pop.word.load(Ordering::SeqCst),
        word + 1,
        "woken once"
    );
    assert_eq!(q.waits.0.pop.count.load(Ordering::SeqCst), 0, "forgotten");
    q.push(2);
    assert_eq!(
        q.waits.0.pop.word.load(Ordering::SeqCst),
        word + 1,
        "no wake-up (no system call) for nobody"
    );
    // The same for a producer that died asleep on a full queue.
    q.waits.0.push.count.store(1, Ordering::SeqCst);
    q.waits
        .0
        .push
        .latest
        .store(now_ms() - stale, Ordering::SeqCst);
    assert_eq!(q.try_pop().unwrap(), Some(1));
    assert_eq!(q.waits.0.push.count.load(Ordering::SeqCst), 0);
}

#[test]
#[cfg_attr(miri, ignore = "reads /proc")]
fn a_live_sleepers_registration_is_not_forgotten() {
    let q = ShmQueue::<u32, 4>::new();
    q.record_namespace(owner::me().ns);
    // Registered just now: live (it renews it at least every slice).
    q.waits.0.pop.count.store(1, Ordering::SeqCst);
    q.waits.0.pop.latest.store(now_ms(), Ordering::SeqCst);
    let word = q.waits.0.pop.word.load(Ordering::SeqCst);
    q.push(1);
    q.push(2);
    assert_eq!(
        q.waits.0.pop.word.load(Ordering::SeqCst),
        word + 2,
        "woken each time"
    );
    assert_eq!(
        q.waits.0.pop.count.load(Ordering::SeqCst),
        1,
        "still registered"
    );
    // A stale one, but users of another time namespace met here: their
    // clock is not ours, so nothing is judged.
    q.waits.0.pop.latest.store(0, Ordering::SeqCst);
    q.record_namespace(owner::me().ns ^ 1);
    q.push(3);
    assert_eq!(q.waits.0.pop.count.load(Ordering::SeqCst), 1);
}
