//! SpscQueue with its producer and its consumer SIGKILLed at random
//! instants, each replaced by a successor process that takes the side over
//! with `producer()` / `consumer()` (at once: the victim is dead and
//! reaped): no hang, no item delivered twice, no torn item, no item that
//! was never pushed, items in order, and every item whose push returned is
//! delivered, except at most one per consumer killed (the one it had
//! taken). `SPSC_KILLS` (default 30) sets the number of kills;
//! `scripts/queue-stress.sh` runs it with 150.
//!
//! Children are forked with `fork_unchecked` (the harness runs tests on
//! several threads); each touches only shared memory, atomics and the
//! queue, and reports failure by exit code.

use shm_runtime::queue::{Producer, SpscQueue};
use shm_runtime::{init, process::Child};
use shm_runtime::{ErrorKind, Shared, SharedSafe};
use shm_workspace::{exit_child, QueueItem as Item};
use std::sync::atomic::{AtomicU32, AtomicU64, AtomicU8, Ordering};
use std::time::{Duration, Instant};

const JOIN: Duration = Duration::from_secs(60);
/// Items one producer (incarnation) pushes at most.
const PER: u32 = 1 << 16;
/// Capacity of the queue.
const N: usize = 32;
/// The exit code of a successor that found its side `Busy`.
const BUSY: i32 = 20;

fn fork(child: impl FnOnce()) -> Child {
    // SAFETY: every child in this file touches only shared memory, atomics
    // and shm_runtime's queue, then returns or _exits.
    unsafe { shm_workspace::fork_retrying(child) }.expect("fork")
}

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Run {
    queue: SpscQueue<Item, N>,
    /// Set by the parent: the consumer stops.
    stop_consuming: AtomicU32,
    /// A consumer saw a torn item or one nobody pushed.
    torn: AtomicU64,
    /// A consumer saw an item not after the last one recorded.
    out_of_order: AtomicU64,
    /// The last item recorded by any consumer, as `producer << 32 | seq`,
    /// plus one (0: none yet). Items of later producer incarnations come
    /// after those of earlier ones, so the keys only grow.
    last: AtomicU64,
}

/// What the children record.
struct Books {
    /// Per producer incarnation: how many of its pushes returned.
    pushed: Shared<[AtomicU32]>,
    /// How often each (producer, seq) was popped.
    seen: Shared<[AtomicU8]>,
}

/// A short pause inside an in-place write, so that kills land there too.
fn pause() {
    for _ in 0..16 {
        std::hint::spin_loop();
    }
}

/// Writes `item` into `slot` field by field, with a pause in the middle: a
/// producer killed there leaves a half-written slot (over an older item),
/// which must never be seen.
fn write_slowly(slot: &mut Item, item: Item) {
    slot.producer = item.producer;
    slot.seq = item.seq;
    pause();
    slot.check = item.check;
}

fn push(tx: &mut Producer<'_, Item, N>, item: Item) {
    match item.seq % 4 {
        0 => tx.push(item),
        1 => tx.push_with(|slot| write_slowly(slot, item)),
        2 => {
            let mut item = item;
            while let Err(back) = tx.try_push(item) {
                item = back;
                std::hint::spin_loop();
            }
        }
        _ => {
            while !tx.try_push_with(|slot| write_slowly(slot, item)) {
                std::hint::spin_loop();
            }
        }
    }
}

fn producer(run: &Run, books: &Books, id: u32) {
    let mut tx = match run.queue.producer() {
        Ok(tx) => tx,
        Err(e) if e.kind() == ErrorKind::Busy => exit_child(BUSY),
        Err(_) => exit_child(2),
    };
    for seq in 0..PER {
        push(&mut tx, Item::new(id, seq));
        books.pushed[id as usize].store(seq + 1, Ordering::Release);
    }
}

/// Checks and records an item a consumer popped.
fn record(run: &Run, books: &Books, incarnations: usize, item: &Item) {
    let p = item.producer as usize;
    if p >= incarnations || item.seq >= PER || !item.is_whole() {
        run.torn.fetch_add(1, Ordering::Relaxed);
        return;
    }
    let key = ((p as u64) << 32 | u64::from(item.seq)) + 1;
    if key <= run.last.load(Ordering::Relaxed) {
        run.out_of_order.fetch_add(1, Ordering::Relaxed);
    }
    books.seen[p * PER as usize + item.seq as usize].fetch_add(1, Ordering::Relaxed);
    run.last.store(key, Ordering::Relaxed);
}

fn consumer(run: &Run, books: &Books, incarnations: usize) {
    let mut rx = match run.queue.consumer() {
        Ok(rx) => rx,
        Err(e) if e.kind() == ErrorKind::Busy => exit_child(BUSY),
        Err(_) => exit_child(2),
    };
    let wait = Duration::from_millis(20);
    // Acts on an item in place (records it, then a pause), as a consumer
    // that reads in its slot does: a kill after the record and before the
    // slot is given back must not deliver the item again.
    let in_place = |item: &Item| {
        record(run, books, incarnations, item);
        pause();
    };
    let mut mode = 0u32;
    while run.stop_consuming.load(Ordering::Relaxed) == 0 {
        mode = mode.wrapping_add(1);
        let popped = match (mode / 16) % 4 {
            0 => rx.pop_timeout(wait).map(Some),
            1 => rx.pop_with_timeout(in_place, wait).map(|()| None),
            2 => rx.try_pop(),
            _ => rx.try_pop_with(in_place).map(|_| None),
        };
        match popped {
            Ok(Some(item)) => record(run, books, incarnations, &item),
            Ok(None) => std::hint::spin_loop(),
            Err(e) if e.kind() == ErrorKind::TimedOut => {}
            Err(_) => exit_child(3),
        }
    }
}

/// Whether `child` still runs; if it ended by itself, that it succeeded
/// (`what` names it in the failure).
fn still_runs(child: &mut Child, what: &str) -> bool {
    match child.wait_timeout(Duration::ZERO).unwrap() {
        None => true,
        Some(status) => {
            assert!(status.success(), "{what} ended by itself: {status}");
            false
        }
    }
}

/// The producer and the consumer are SIGKILLed at random instants (a random
/// sleep, then a random spin of a few µs), each replaced by a successor
/// that must take the side at once. Afterwards the last producer pushes all
/// its items and the queue drains; then: no violation (torn, unknown, out
/// of order), no item delivered twice, none delivered that was never
/// pushed, and at most one lost per consumer killed.
#[test]
#[cfg_attr(miri, ignore = "forks and kills")]
fn spsc_random_sigkills_of_producer_and_consumer_never_hang_duplicate_or_tear() {
    let kills: usize = std::env::var("SPSC_KILLS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(30);
    let incarnations = 1 + kills;
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
    let mut producer = spawn_producer(&mut next_producer);
    let mut consumer = spawn_consumer();
    let (mut producer_kills, mut consumer_kills, mut finished) = (0u64, 0u64, 0u64);
    let start = Instant::now();
    for _ in 0..kills {
        std::thread::sleep(Duration::from_micros(rng.next() % 3000));
        let spin = Instant::now();
        let micros = rng.next() % 20;
        while spin.elapsed() < Duration::from_micros(micros) {
            std::hint::spin_loop();
        }
        if rng.next() & 1 == 0 {
            if still_runs(&mut producer, "a producer") {
                producer.kill().unwrap();
                producer_kills += 1;
            } else {
                finished += 1; // it had pushed all its items
            }
            producer = spawn_producer(&mut next_producer);
        } else {
            assert!(
                still_runs(&mut consumer, "a consumer"),
                "a consumer ended by itself"
            );
            consumer.kill().unwrap();
            consumer_kills += 1;
            consumer = spawn_consumer();
        }
    }
    // The queue still moves after all the kills: the last producer pushes
    // all its items (32 slots: the consumer must take them).
    producer.join(JOIN).unwrap();
    // Drain: every pushed item is popped within a bounded time.
    let drain = Instant::now();
    while !run.queue.is_empty() {
        assert!(
            drain.elapsed() < Duration::from_secs(20),
            "the queue never drained"
        );
        std::thread::sleep(Duration::from_millis(5));
    }
    run.stop_consuming.store(1, Ordering::Relaxed);
    consumer.join(JOIN).unwrap();
    // Both sides were given back (the last holders dropped their handles).
    assert!(run.queue.producer().is_ok() && run.queue.consumer().is_ok());
    let (mut twice, mut lost, mut phantom, mut delivered) = (0u64, 0u64, 0u64, 0u64);
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
            // Item `pushed` may have been published by a producer killed
            // before it recorded the push; none after it was pushed.
            if seq > pushed && n > 0 {
                phantom += 1;
            }
            delivered += u64::from(n.min(1));
        }
    }
    eprintln!(
        "{kills} kills ({producer_kills} of producers, {consumer_kills} of consumers, \
         {finished} producers had finished) in {:?}: {delivered} items delivered, \
         {lost} pushed items lost",
        start.elapsed()
    );
    assert_eq!(run.torn.load(Ordering::Relaxed), 0, "torn or unknown items");
    assert_eq!(
        run.out_of_order.load(Ordering::Relaxed),
        0,
        "items out of order"
    );
    assert_eq!(twice, 0, "items delivered twice");
    assert_eq!(phantom, 0, "items delivered that were never pushed");
    assert!(
        lost <= consumer_kills,
        "{lost} pushed items lost, more than the {consumer_kills} consumers killed"
    );
    // The last producer pushed all its items (and, `lost` says, they were
    // delivered).
    assert_eq!(
        books.pushed[next_producer as usize - 1].load(Ordering::Relaxed),
        PER
    );
    assert!(delivered >= u64::from(PER));
}
