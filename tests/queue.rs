//! ShmQueue across processes: exactly-once delivery with per-producer order
//! (4 producers x 4 consumers), timeouts against another process, zero-copy
//! 1 MiB items in a zeroed named segment, no fork while an item is lent in
//! place, and blocked pushes and pops ended by a truncation.
//!
//! The test harness runs tests on several threads, so children are forked
//! with `fork_unchecked`; each child touches only shared memory and this
//! crate's queue, and reports failure by exit code. Sizes: `QUEUE_ITEMS`
//! (default 100 000 items in all) scales the exactly-once test; the script
//! `scripts/queue-stress.sh` runs it with 1 000 000.

use shm_runtime::process::Child;
use shm_runtime::{init, queue::ShmQueue};
use shm_runtime::{ErrorKind, Segment, Shared, SharedSafe};
use shm_workspace::{exit_child, kill_asleep, QueueItem as Item, TempPath};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::time::{Duration, Instant};

const JOIN: Duration = Duration::from_secs(120);

fn fork(child: impl FnOnce()) -> Child {
    // SAFETY: every child in this file touches only shared memory, atomics
    // and shm_runtime's queue, then returns or _exits.
    unsafe { shm_workspace::fork_retrying(child) }.expect("fork")
}

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Run {
    queue: ShmQueue<Item, 64>,
    /// Items popped, by all consumers.
    popped: AtomicU64,
}

fn total_items() -> u64 {
    std::env::var("QUEUE_ITEMS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(100_000)
}

#[test]
#[cfg_attr(miri, ignore = "forks")]
fn queue_4_producers_4_consumers_deliver_every_item_once_in_producer_order() {
    const PRODUCERS: u32 = 4;
    const CONSUMERS: usize = 4;
    let per = (total_items() / u64::from(PRODUCERS)) as u32;
    let total = u64::from(per) * u64::from(PRODUCERS);
    let run = Shared::<Run>::anonymous(init::zeroed()).unwrap();
    // How often each item was popped: must end at exactly 1 each.
    let seen = Shared::<[AtomicU8]>::anonymous(init::zeroed_slice(total as usize)).unwrap();
    let start = Instant::now();
    let consumers: Vec<Child> = (0..CONSUMERS)
        .map(|c| {
            fork(|| {
                let mut last = [None::<u32>; PRODUCERS as usize];
                while run.popped.load(Ordering::Relaxed) < total {
                    // Half the consumers block, half spin on `try_pop`.
                    let item = if c % 2 == 0 {
                        match run.queue.pop_timeout(Duration::from_millis(50)) {
                            Ok(item) => item,
                            Err(e) if e.kind() == ErrorKind::TimedOut => continue,
                            Err(_) => shm_workspace::exit_child(2),
                        }
                    } else {
                        match run.queue.try_pop() {
                            Ok(Some(item)) => item,
                            Ok(None) => {
                                std::hint::spin_loop();
                                continue;
                            }
                            Err(_) => shm_workspace::exit_child(2),
                        }
                    };
                    if !item.is_whole() || item.producer >= PRODUCERS || item.seq >= per {
                        shm_workspace::exit_child(3);
                    }
                    let p = item.producer as usize;
                    if last[p].is_some_and(|l| l >= item.seq) {
                        shm_workspace::exit_child(4); // out of producer order
                    }
                    last[p] = Some(item.seq);
                    let index = p * per as usize + item.seq as usize;
                    if seen[index].fetch_add(1, Ordering::Relaxed) != 0 {
                        shm_workspace::exit_child(5); // delivered twice
                    }
                    run.popped.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect();
    let queue = &run.queue;
    let producers: Vec<Child> = (0..PRODUCERS)
        .map(|p| {
            fork(move || {
                for seq in 0..per {
                    // Half blocking pushes, half in-place writes.
                    if seq % 2 == 0 {
                        queue.push(Item::new(p, seq));
                    } else {
                        queue.push_with(|slot| *slot = Item::new(p, seq));
                    }
                }
            })
        })
        .collect();
    for child in producers.into_iter().chain(consumers) {
        child.join(JOIN).unwrap();
    }
    assert_eq!(run.popped.load(Ordering::Relaxed), total);
    let missing = seen
        .iter()
        .filter(|s| s.load(Ordering::Relaxed) != 1)
        .count();
    assert_eq!(missing, 0, "items not delivered exactly once");
    assert!(run.queue.is_empty());
    eprintln!("{total} items, 4 -> 4 processes, in {:?}", start.elapsed());
}

#[test]
#[cfg_attr(miri, ignore = "forks")]
fn queue_timeouts_hold_against_another_process_then_deliver() {
    let q = Shared::<ShmQueue<u64, 2>>::anonymous(init::zeroed()).unwrap();
    // Empty: a pop times out after its timeout, not much later.
    let start = Instant::now();
    let err = q.pop_timeout(Duration::from_millis(30)).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    let waited = start.elapsed();
    assert!(waited >= Duration::from_millis(30), "{waited:?}");
    // Set by the child once its short push_timeout has returned.
    let expired = Shared::anonymous(AtomicU32::new(0)).unwrap();
    // A child pushes after 50 ms: a pop with a long timeout gets it.
    let child = fork(|| {
        std::thread::sleep(Duration::from_millis(50));
        q.push(7);
        // Then fills the queue and waits for room with a timeout that the
        // parent lets expire once, then frees.
        q.push(8);
        q.push(9);
        if q.push_timeout(10, Duration::from_millis(30)) != Err(10) {
            shm_workspace::exit_child(3);
        }
        expired.store(1, Ordering::Release);
        if q.push_timeout(11, Duration::from_secs(30)).is_err() {
            shm_workspace::exit_child(4);
        }
    });
    assert_eq!(q.pop_timeout(Duration::from_secs(30)).unwrap(), 7);
    // Free a slot only once the child's short push_timeout has expired on
    // the full queue (waited for, not assumed from a sleep: a loaded
    // machine may stall the child for longer than any fixed sleep).
    let deadline = Instant::now() + Duration::from_secs(30);
    while expired.load(Ordering::Acquire) == 0 {
        assert!(
            Instant::now() < deadline,
            "the child's push_timeout never returned"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
    assert_eq!(q.pop_timeout(Duration::from_secs(30)).unwrap(), 8);
    child.join(JOIN).unwrap();
    assert_eq!(q.try_pop().unwrap(), Some(9));
    assert_eq!(q.try_pop().unwrap(), Some(11));
    assert_eq!(q.try_pop().unwrap(), None);
}

/// A 1 MiB frame: its bytes and a sum over them.
#[derive(SharedSafe, Clone, Copy, bytemuck::AnyBitPattern)]
#[repr(C)]
struct Frame {
    number: u64,
    bytes: [u8; 1 << 20],
}

#[test]
#[cfg_attr(miri, ignore = "maps a named segment and forks")]
fn queue_1_mib_items_go_zero_copy_through_a_zeroed_named_segment() {
    let name = format!("/shmrt-queue-frames-{}", std::process::id());
    let segment = Segment::posix(&name).remove_on_drop(true);
    // 4 MiB of slots: created zeroed in the segment, never on the stack.
    let frames = segment
        .create(init::zeroed::<ShmQueue<Frame, 4>>())
        .unwrap();
    const FRAMES: u64 = 16;
    let child = fork(|| {
        let segment = Segment::posix(&name);
        let Ok(frames) = segment.open::<ShmQueue<Frame, 4>>() else {
            shm_workspace::exit_child(2)
        };
        for number in 0..FRAMES {
            frames.push_with(|frame| {
                frame.number = number;
                frame.bytes.fill(number as u8);
            });
        }
    });
    for number in 0..FRAMES {
        let ok = frames
            .pop_with(|frame| {
                frame.number == number && frame.bytes.iter().all(|&b| b == number as u8)
            })
            .unwrap();
        assert!(ok, "frame {number} arrived whole and in order");
    }
    child.join(JOIN).unwrap();
    assert!(frames.is_empty());
}

#[test]
#[cfg_attr(miri, ignore = "forks")]
fn queue_no_fork_while_an_item_is_written_or_read_in_place() {
    let q = Shared::<ShmQueue<[u64; 4], 2>>::anonymous(init::zeroed()).unwrap();
    // A child forked inside the closure would keep the `&mut` into the
    // slot and could write it after this process published the item (a
    // torn item for its consumer): refused.
    let mut refused = false;
    q.push_with(|item| {
        refused = shm_workspace::fork_is_refused();
        *item = [1, 2, 3, 4];
    });
    assert!(refused, "a fork inside push_with is refused");
    assert!(q.try_push_with(|item| {
        refused = shm_workspace::fork_is_refused();
        *item = [5; 4];
    }));
    assert!(refused, "a fork inside try_push_with is refused");
    // Likewise a child keeping the `&T` of `pop_with` could read the slot
    // after this process released it to producers.
    let (sum, refused) = q
        .pop_with(|item| (item.iter().sum::<u64>(), shm_workspace::fork_is_refused()))
        .unwrap();
    assert_eq!(sum, 10);
    assert!(refused, "a fork inside pop_with is refused");
    let refused = q
        .try_pop_with(|_| shm_workspace::fork_is_refused())
        .unwrap();
    assert_eq!(refused, Some(true), "a fork inside try_pop_with is refused");
    // Outside the closures, forking works.
    q.push([7; 4]);
    let child = fork(|| {
        if q.pop().ok() != Some([7; 4]) {
            exit_child(2)
        }
    });
    child.join(JOIN).unwrap();
    assert!(q.is_empty());
}

#[test]
#[cfg_attr(miri, ignore = "maps a file and forks")]
fn queue_a_truncation_ends_blocked_pushes_and_pops() {
    let temp = TempPath::new("queue-truncated");
    drop(
        Segment::file(&temp.0)
            .create(init::zeroed::<ShmQueue<u64, 2>>())
            .unwrap(),
    );
    let path = temp.0.clone();
    // In a child: a signal that should not be survived kills it, not the
    // test harness.
    let mut child = fork(|| {
        let Ok(q) = Segment::file(&path).open::<ShmQueue<u64, 2>>() else {
            exit_child(2)
        };
        // Another process (here: this one, through the file) truncates it.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|file| file.set_len(0))
            .unwrap_or_else(|_| exit_child(3));
        // The lost page reads as zeros: an empty queue of this process only.
        if !q.is_empty() || !q.is_truncated() {
            exit_child(4);
        }
        let long = Duration::from_secs(30);
        let start = Instant::now();
        // Nobody can push any more: a blocked pop says so at once.
        match q.pop_timeout(long) {
            Err(e) if e.kind() == ErrorKind::Truncated => {}
            _ => exit_child(5),
        }
        // Pushes land in this process until it is full ...
        if q.try_push(1).is_err() || q.push_timeout(2, long).is_err() {
            exit_child(6);
        }
        // ... then nobody can pop: a blocked push gives its value back at
        // once instead of after its timeout ...
        if q.push_timeout(3, long) != Err(3) || q.push_with_timeout(|_| exit_child(7), long) {
            exit_child(8);
        }
        if start.elapsed() > Duration::from_secs(10) {
            exit_child(9);
        }
        // ... and one without a timeout panics instead of waiting forever.
        // (A silent hook: the child must not write to stderr, whose lock
        // another thread of the parent may have held at the fork.)
        std::panic::set_hook(Box::new(|_| {}));
        let push = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| q.push(4)));
        let push_with = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            q.push_with(|_| exit_child(10))
        }));
        if push.is_ok() || push_with.is_ok() {
            exit_child(11);
        }
        if start.elapsed() > Duration::from_secs(10) {
            exit_child(12);
        }
        exit_child(0)
    });
    let status = child
        .wait_timeout(JOIN)
        .unwrap()
        .expect("the child ends in time");
    assert_eq!(status.code(), Some(0), "{status}");
}

#[test]
#[cfg_attr(miri, ignore = "maps a file and forks")]
fn queue_of_nonzero_items_truncated_under_a_live_view_aborts_rather_than_read_zeros() {
    type Q = ShmQueue<std::num::NonZeroU64, 2>;
    let temp = TempPath::new("queue-truncated-nonzero");
    drop(Segment::file(&temp.0).create(init::zeroed::<Q>()).unwrap());
    let path = temp.0.clone();
    let mut child = fork(|| {
        let Ok(q) = Segment::file(&path).open::<Q>() else {
            exit_child(2)
        };
        // The view could lend a `&NonZeroU64` into a slot (`pop_with`):
        // zero pages under it would be no valid value. Although a typed
        // open never checks the items, the handler must know.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|file| file.set_len(0))
            .unwrap_or_else(|_| exit_child(3));
        // No core file for the abort below.
        let no_core = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: sets a limit of this (child) process from a valid struct.
        unsafe { libc::setrlimit(libc::RLIMIT_CORE, &no_core) };
        // The next access faults: the handler aborts the process (and says
        // so on stderr).
        let _ = q.len();
        exit_child(0)
    });
    let status = child
        .wait_timeout(JOIN)
        .unwrap()
        .expect("the child ends in time");
    assert_eq!(
        std::os::unix::process::ExitStatusExt::signal(&status),
        Some(libc::SIGABRT),
        "{status}"
    );
}

#[test]
#[cfg_attr(miri, ignore = "forks and kills")]
fn queue_a_process_killed_asleep_costs_the_others_no_wake_ups_once_stale() {
    let q = Shared::<ShmQueue<u64, 2>>::anonymous(init::zeroed()).unwrap();
    let sleepers = || shm_runtime::__private::queue_sleepers(&q);
    // A consumer killed asleep in `pop`: its registration outlives it...
    let pop = || {
        let _ = q.pop();
    };
    // SAFETY: the children only use the queue.
    assert_eq!(unsafe { kill_asleep(pop, || sleepers().0) }, 1);
    // ...until no one has renewed it for a while: the next push wakes
    // nobody for the last time, and forgets it.
    std::thread::sleep(shm_runtime::__private::QUEUE_SLEEPER_STALE + Duration::from_millis(50));
    q.push(1);
    assert_eq!(sleepers(), (0, 0), "forgotten");
    // The same for a producer killed asleep in `push` on a full queue.
    q.push(2);
    // SAFETY: as above.
    assert_eq!(unsafe { kill_asleep(|| q.push(3), || sleepers().1) }, 1);
    std::thread::sleep(shm_runtime::__private::QUEUE_SLEEPER_STALE + Duration::from_millis(50));
    assert_eq!(q.try_pop().unwrap(), Some(1));
    assert_eq!(sleepers(), (0, 0), "forgotten");
    assert_eq!(q.try_pop().unwrap(), Some(2));
    assert_eq!(q.try_pop().unwrap(), None);
}
