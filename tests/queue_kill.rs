//! ShmQueue with producers and consumers SIGKILLed at random instants: no
//! hang, no item delivered twice, no torn item, and every item whose push
//! returned is delivered, except at most one per consumer killed (the one
//! it may have held). `QUEUE_KILLS` (default 30) sets the number of kills;
//! `scripts/queue-stress.sh` runs it with 150.
//!
//! Children are forked with `fork_unchecked` (the harness runs tests on
//! several threads); each touches only shared memory and the queue.

use shm_runtime::queue::ShmQueue;
use shm_runtime::{init, process::Child};
use shm_runtime::{ErrorKind, Shared, SharedSafe};
use shm_workspace::QueueItem as Item;
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::time::{Duration, Instant};

const JOIN: Duration = Duration::from_secs(60);
/// Producers and consumers running at any time.
const PRODUCERS: usize = 3;
const CONSUMERS: usize = 3;
/// Items one producer (incarnation) pushes at most.
const PER: u32 = 1 << 14;

fn fork(child: impl FnOnce()) -> Child {
    // SAFETY: every child in this file touches only shared memory, atomics
    // and shm_runtime's queue, then returns or _exits.
    unsafe { shm_workspace::fork_retrying(child) }.expect("fork")
}

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Run {
    queue: ShmQueue<Item, 32>,
    /// Set by the parent: consumers stop.
    stop_consuming: AtomicU32,
    /// A consumer saw a torn item, an unknown one, or one out of its
    /// producer's order.
    violations: AtomicU64,
    /// Items popped and recorded.
    popped: AtomicU64,
}

/// Per producer incarnation: how many of its pushes returned.
struct Books {
    pushed: Shared<[AtomicU32]>,
    /// How often each (producer, seq) was popped.
    seen: Shared<[AtomicU8]>,
}

fn producer(run: &Run, books: &Books, id: u32) {
    for seq in 0..PER {
        let item = Item::new(id, seq);
        if seq % 2 == 0 {
            run.queue.push(item);
        } else {
            run.queue.push_with(|slot| *slot = item);
        }
        books.pushed[id as usize].store(seq + 1, Ordering::Release);
    }
}

fn consumer(run: &Run, books: &Books, incarnations: usize) {
    let mut last = vec![None::<u32>; incarnations];
    while run.stop_consuming.load(Ordering::Relaxed) == 0 {
        let item = match run.queue.pop_timeout(Duration::from_millis(20)) {
            Ok(item) => item,
            Err(e) if e.kind() == ErrorKind::TimedOut => continue,
            Err(_) => shm_workspace::exit_child(2),
        };
        let p = item.producer as usize;
        if p >= incarnations || item.seq >= PER || !item.is_whole() {
            run.violations.fetch_add(1, Ordering::Relaxed);
            continue;
        }
        if last[p].is_some_and(|l| l >= item.seq) {
            run.violations.fetch_add(1, Ordering::Relaxed);
        }
        last[p] = Some(item.seq);
        books.seen[p * PER as usize + item.seq as usize].fetch_add(1, Ordering::Relaxed);
        run.popped.fetch_add(1, Ordering::Relaxed);
    }
}

#[test]
#[cfg_attr(miri, ignore = "forks and kills")]
fn queue_random_sigkills_of_producers_and_consumers_never_hang_duplicate_or_tear() {
    let kills: usize = std::env::var("QUEUE_KILLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(30);
    let incarnations = PRODUCERS + kills;
    let run = Shared::<Run>::anonymous(init::zeroed()).unwrap();
    let books = Books {
        pushed: Shared::<[AtomicU32]>::anonymous(init::zeroed_slice(incarnations)).unwrap(),
        seen: Shared::<[AtomicU8]>::anonymous(init::zeroed_slice(incarnations * PER as usize))
            .unwrap(),
    };
    let mut rng = shm_workspace::Rng::seeded();
    let mut next_producer = 0u32;
    let spawn_producer = |next: &mut u32| {
        let id = *next;
        *next += 1;
        let (run, books) = (&run, &books);
        fork(move || producer(run, books, id))
    };
    let spawn_consumer = || fork(|| consumer(&run, &books, incarnations));
    let mut producers: Vec<Child> = (0..PRODUCERS)
        .map(|_| spawn_producer(&mut next_producer))
        .collect();
    let mut consumers: Vec<Child> = (0..CONSUMERS).map(|_| spawn_consumer()).collect();
    let mut consumer_kills = 0u64;
    let start = Instant::now();
    for _ in 0..kills {
        std::thread::sleep(Duration::from_micros(500 + rng.next() % 4000));
        let victim = (rng.next() % (PRODUCERS + CONSUMERS) as u64) as usize;
        if victim < PRODUCERS {
            producers[victim].kill().unwrap();
            producers[victim] = spawn_producer(&mut next_producer);
        } else {
            consumers[victim - PRODUCERS].kill().unwrap();
            consumer_kills += 1;
            consumers[victim - PRODUCERS] = spawn_consumer();
        }
    }
    // The queue still moves after all the kills: the producers alive now
    // push all their items (32 slots: the consumers must take them).
    for p in producers {
        p.join(JOIN).unwrap();
    }
    // Drain: every pushed item is popped within a bounded time.
    let drain = Instant::now();
    while !run.queue.is_empty() {
        assert!(
            drain.elapsed() < Duration::from_secs(20),
            "the queue never drained"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    std::thread::sleep(Duration::from_millis(100));
    run.stop_consuming.store(1, Ordering::Relaxed);
    for c in consumers {
        c.join(JOIN).unwrap();
    }
    assert_eq!(
        run.violations.load(Ordering::Relaxed),
        0,
        "torn or out-of-order items"
    );
    let mut twice = 0;
    let mut lost = 0u64;
    let mut delivered = 0u64;
    for id in 0..next_producer as usize {
        let pushed = books.pushed[id].load(Ordering::Relaxed) as usize;
        for seq in 0..PER as usize {
            let n = books.seen[id * PER as usize + seq].load(Ordering::Relaxed);
            if n > 1 {
                twice += 1;
            }
            if seq < pushed && n == 0 {
                lost += 1;
            }
            delivered += u64::from(n.min(1));
        }
    }
    eprintln!(
        "{kills} kills ({consumer_kills} of consumers) in {:?}: {delivered} items delivered, \
         {lost} pushed items lost",
        start.elapsed()
    );
    assert_eq!(twice, 0, "items delivered twice");
    assert!(
        lost <= consumer_kills,
        "{lost} pushed items lost, more than the {consumer_kills} consumers killed"
    );
    assert!(delivered > 0);
}
