//! `ShmQueue`: round trips (ping-pong over two queues) and throughput
//! between processes, against the spin round trip on a `Shared<T>` (the
//! floor), a pipe, and a queue made of a `ShmMutex` and a `ShmCondvar`; and
//! the in-process cost of a push and a pop (what the claim attribution
//! adds to the fast path: one store of the owner record per operation, and
//! the pid in the claiming compare-and-swap).

use crate::latency::{round_trips, spin_rounds, PingPong};
use crate::report::{Outcome, Section};
use crate::sys::{join, ns_since, pipe, repeat, spawn, spin_until, Res};
use crate::{outcome, Config};
use shm_runtime::init;
use shm_runtime::queue::{Consumer, Producer, ShmQueue, SpscQueue};
use shm_runtime::{FixedVec, Shared, SharedSafe, ShmCondvar, ShmMutex};
use std::io::{Read, Write};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Instant;

/// The outcome of an iceoryx2 measurement: measured when shm-bench is built
/// with `--features iceoryx2`, else a row that says how to get it.
macro_rules! ice {
    ($measure:expr) => {{
        let outcome: Outcome;
        #[cfg(feature = "iceoryx2")]
        {
            outcome = crate::outcome($measure);
        }
        #[cfg(not(feature = "iceoryx2"))]
        {
            outcome = Outcome::Unavailable(
                "not built: run shm-bench with --features iceoryx2".to_string(),
            );
        }
        outcome
    }};
}

/// A ratio with three significant digits at least (0.002, not 0.00).
fn three_digits(r: f64) -> String {
    if r < 0.1 {
        format!("{r:.3}")
    } else {
        format!("{r:.2}")
    }
}

/// The ratio of the medians of rows `a` and `b`, when both were measured.
fn ratio_of(s: &Section, a: &str, b: &str) -> Option<f64> {
    let (a, b) = (s.median_of(a)?, s.median_of(b)?);
    (b > 0.0).then(|| a / b)
}

/// A 4 KiB message.
type Page = [u8; 4096];

/// Two queues, one each way.
#[derive(SharedSafe)]
#[repr(C)]
struct Duplex<T: SharedSafe, const N: usize> {
    down: ShmQueue<T, N>,
    up: ShmQueue<T, N>,
}

impl<T: SharedSafe, const N: usize> Duplex<T, N> {
    fn new() -> Self {
        Duplex {
            down: ShmQueue::new(),
            up: ShmQueue::new(),
        }
    }
}

const FLOOR: &str = "spin: Shared<PingPong> (floor)";
const MPMC_SPIN: &str = "ShmQueue<u64>: spin (try_pop)";
const SPSC_SPIN: &str = "SpscQueue<u64>: spin (try_pop)";
const SPSC_THROUGHPUT: &str = "SpscQueue<u64, 1024>: 1 -> 1";

/// Round trips, spinning and blocking, u64 and 4 KiB.
pub fn round_trip(c: &Config) -> Section {
    let mut s = Section::new(
        "queue_round_trip",
        format!(
            "Q1. Queue round trip between two processes ({} round trips per repetition)",
            c.spin_round_trips
        ),
        "ns/round-trip",
        false,
    );
    s.about(
        "ping-pong over two queues of capacity 8; 'spin' polls try_pop, 'block' calls pop \
         (a short spin, then futex). iceoryx2 (--features iceoryx2): publish-subscribe over \
         ipc::Service with its own benchmark's settings (history 0, subscriber buffer 1, safe \
         overflow, next sample loaned while the peer answers); 'spin' polls receive with the \
         same spin loop, 'block' waits on an event listener between receives (a notify after \
         each send); the 4 KiB rows do the same writes and reads as the queue's",
    );
    let n = c.spin_round_trips;
    let b = c.block_round_trips;
    s.baseline(FLOOR, outcome(floor_rounds(n, c.reps)));
    // Each kind: ShmQueue's row, SpscQueue's, iceoryx2's.
    let rows: [[(&str, Outcome); 3]; 4] = [
        [
            (
                MPMC_SPIN,
                outcome(queue_rounds::<u64>(n, c.reps, false, |i| i)),
            ),
            (
                SPSC_SPIN,
                outcome(spsc_rounds::<u64>(n, c.reps, false, |i| i)),
            ),
            (
                "iceoryx2 u64: spin (receive)",
                ice!(crate::iceoryx::word_rounds(n, c.reps, false)),
            ),
        ],
        [
            (
                "ShmQueue<u64>: block (pop)",
                outcome(queue_rounds::<u64>(b, c.reps, true, |i| i)),
            ),
            (
                "SpscQueue<u64>: block (pop)",
                outcome(spsc_rounds::<u64>(b, c.reps, true, |i| i)),
            ),
            (
                "iceoryx2 u64: block (listener)",
                ice!(crate::iceoryx::word_rounds(b, c.reps, true)),
            ),
        ],
        [
            (
                "ShmQueue<[u8; 4096]>: spin, in place",
                outcome(page_rounds(n, c.reps, false)),
            ),
            (
                "SpscQueue<[u8; 4096]>: spin, in place",
                outcome(spsc_page_rounds(n, c.reps, false)),
            ),
            (
                "iceoryx2 [u8; 4096]: spin, loaned",
                ice!(crate::iceoryx::page_rounds(n, c.reps, false)),
            ),
        ],
        [
            (
                "ShmQueue<[u8; 4096]>: block, in place",
                outcome(page_rounds(b, c.reps, true)),
            ),
            (
                "SpscQueue<[u8; 4096]>: block, in place",
                outcome(spsc_page_rounds(b, c.reps, true)),
            ),
            (
                "iceoryx2 [u8; 4096]: block, loaned",
                ice!(crate::iceoryx::page_rounds(b, c.reps, true)),
            ),
        ],
    ];
    for [(mpmc, mpmc_outcome), (spsc, spsc_outcome), (theirs, their_outcome)] in rows {
        s.vs(FLOOR, mpmc, mpmc_outcome);
        s.vs(FLOOR, spsc, spsc_outcome);
        s.vs(FLOOR, theirs, their_outcome);
        let vs_theirs = |ours: &str| {
            ratio_of(&s, ours, theirs)
                .map(|r| format!("{ours} / iceoryx2's = {}x", three_digits(r)))
        };
        let notes: Vec<String> = [vs_theirs(mpmc), vs_theirs(spsc)]
            .into_iter()
            .flatten()
            .collect();
        if !notes.is_empty() {
            s.rows.last_mut().expect("just pushed").note = Some(format!(
                "round trip: {} (goal: at most 1)",
                notes.join("; ")
            ));
        }
    }
    for (row, name, paired) in [
        (
            1,
            MPMC_SPIN,
            queue_paired as fn(usize, usize) -> Res<Vec<f64>>,
        ),
        (2, SPSC_SPIN, spsc_paired),
    ] {
        if let Some(r) = ratio_of(&s, name, FLOOR) {
            let paired = match paired(n, c.reps) {
                Ok(mut ratios) => {
                    ratios.sort_by(f64::total_cmp);
                    format!(
                        "{:.2}x (range {:.2} .. {:.2})",
                        ratios[ratios.len() / 2],
                        ratios[0],
                        ratios[ratios.len() - 1]
                    )
                }
                Err(e) => format!("not measured ({e})"),
            };
            s.rows[row].note = Some(format!(
                "round trip / the spin floor's = {r:.2}x from the two rows' medians; paired \
                 (the floor and the queue alternating in one pair of processes, the median of \
                 each repetition's ratio) = {paired} (goal: at most 1.5)"
            ));
        }
    }
    s.vs(
        FLOOR,
        "pipe pair (8 bytes)",
        outcome(pipe_rounds(c.block_round_trips, c.reps, 8)),
    );
    s.vs(
        FLOOR,
        "pipe pair (4096 bytes)",
        outcome(pipe_rounds(c.block_round_trips, c.reps, 4096)),
    );
    s.vs(
        FLOOR,
        "ShmMutex + ShmCondvar queue (u64)",
        outcome(locked_rounds(c.block_round_trips, c.reps)),
    );
    s
}

/// Throughput 1 -> 1 and 2 -> 2 processes, and the in-process pair cost.
pub fn throughput(c: &Config) -> Section {
    let mut s = Section::new(
        "queue_throughput",
        format!(
            "Q2. Queue throughput between processes ({} u64 items per repetition)",
            c.lock_ops
        ),
        "ns/item",
        false,
    );
    s.about(
        "producers push with push (blocking), consumers pop with pop; capacity 1024; time from \
         the first push to the last pop. iceoryx2 (--features iceoryx2): publishers loan, write \
         and send (retrying until delivered), subscribers spin on receive, buffer 1024; timed \
         from the instant all are set up to the last item received. Publish-subscribe has no \
         work sharing: with 2 -> 2 every subscriber receives every item (ns per item published)",
    );
    let items = c.lock_ops as u64;
    let base = "ShmQueue<u64, 1024>: 1 -> 1";
    s.baseline(base, outcome(queue_throughput(items, c.reps, 1)));
    s.vs(
        base,
        SPSC_THROUGHPUT,
        outcome(spsc_throughput(items, c.reps)),
    );
    s.vs(
        base,
        "ShmQueue<u64, 1024>: 2 -> 2",
        outcome(queue_throughput(items, c.reps, 2)),
    );
    #[cfg_attr(not(feature = "iceoryx2"), allow(unused_variables))]
    for (ours, theirs, producers) in [
        (base, "iceoryx2 u64, buffer 1024: 1 -> 1", 1),
        (
            "ShmQueue<u64, 1024>: 2 -> 2",
            "iceoryx2 u64, buffer 1024: 2 -> 2 (broadcast)",
            2,
        ),
    ] {
        s.vs(
            base,
            theirs,
            ice!(crate::iceoryx::throughput(items, c.reps, producers)),
        );
        // Items per second: the inverse of ns per item.
        let mut notes = Vec::new();
        if let Some(r) = ratio_of(&s, theirs, ours) {
            notes.push(format!("ShmQueue's throughput / iceoryx2's = {r:.2}x"));
        }
        if producers == 1 {
            if let Some(r) = ratio_of(&s, theirs, SPSC_THROUGHPUT) {
                notes.push(format!("SpscQueue's = {r:.2}x"));
            }
        }
        if !notes.is_empty() {
            s.rows.last_mut().expect("just pushed").note =
                Some(format!("{} (goal: at least 1)", notes.join("; ")));
        }
    }
    s.vs(
        base,
        "ShmMutex<FixedVec> + ShmCondvar: 1 -> 1",
        outcome(locked_throughput(items / 4, c.reps, 1)),
    );
    s.vs(
        base,
        "ShmMutex<FixedVec> + ShmCondvar: 2 -> 2",
        outcome(locked_throughput(items / 4, c.reps, 2)),
    );
    s.vs(
        base,
        "pipe (8-byte writes): 1 -> 1",
        outcome(pipe_throughput(items / 4, c.reps)),
    );
    s.vs(
        base,
        "one thread: try_push + try_pop pair",
        outcome(pair_cost(items, c.reps)),
    );
    s.vs(
        base,
        "one thread: pair on a plain Vyukov ring (no claimer, no waking)",
        outcome(plain_pair_cost(items, c.reps)),
    );
    s
}

/// The reference for the fast path's cost: Vyukov's bounded MPMC ring as
/// published (a sequence per slot, a compare-and-swap on the position
/// counter, a store publishing the item), with no claimer in the slot, no
/// owner record, no namespace record and no sleeper check. Items are
/// `AtomicU64`s so that it needs no `unsafe`.
struct PlainRing<const N: usize> {
    head: AtomicU64,
    tail: AtomicU64,
    seq: [AtomicU64; N],
    items: [AtomicU64; N],
}

impl<const N: usize> PlainRing<N> {
    fn new() -> Self {
        PlainRing {
            head: AtomicU64::new(0),
            tail: AtomicU64::new(0),
            seq: std::array::from_fn(|i| AtomicU64::new(i as u64)),
            items: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    fn try_push(&self, v: u64) -> bool {
        let mut pos = self.head.load(Ordering::Relaxed);
        loop {
            let i = (pos % N as u64) as usize;
            let seq = self.seq[i].load(Ordering::Acquire);
            match (seq as i64).wrapping_sub(pos as i64) {
                0 => match self.head.compare_exchange_weak(
                    pos,
                    pos + 1,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        self.items[i].store(v, Ordering::Relaxed);
                        self.seq[i].store(pos + 1, Ordering::Release);
                        return true;
                    }
                    Err(now) => pos = now,
                },
                d if d < 0 => return false,
                _ => pos = self.head.load(Ordering::Relaxed),
            }
        }
    }

    fn try_pop(&self) -> Option<u64> {
        let mut pos = self.tail.load(Ordering::Relaxed);
        loop {
            let i = (pos % N as u64) as usize;
            let seq = self.seq[i].load(Ordering::Acquire);
            match (seq as i64).wrapping_sub(pos as i64 + 1) {
                0 => match self.tail.compare_exchange_weak(
                    pos,
                    pos + 1,
                    Ordering::Relaxed,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        let v = self.items[i].load(Ordering::Relaxed);
                        self.seq[i].store(pos + N as u64, Ordering::Release);
                        return Some(v);
                    }
                    Err(now) => pos = now,
                },
                d if d < 0 => return None,
                _ => pos = self.tail.load(Ordering::Relaxed),
            }
        }
    }
}

fn plain_pair_cost(items: u64, reps: usize) -> Res<Vec<f64>> {
    let ring = Box::new(PlainRing::<1024>::new());
    repeat(reps, || {
        let start = Instant::now();
        for i in 0..items {
            if !ring.try_push(i) {
                return Err("full".into());
            }
            std::hint::black_box(ring.try_pop());
        }
        Ok(ns_since(start) / items as f64)
    })
}

/// The floor: the parent stores a round number, the child copies it back,
/// both spinning on plain atomics in a `Shared<PingPong>` (the latency
/// section's spin round trip).
fn floor_rounds(n: usize, reps: usize) -> Res<Vec<f64>> {
    let pp = Shared::anonymous(PingPong::new())?;
    spin_rounds(&pp, n, reps)
}

/// A u64 spin round trip divided by the floor's, per repetition: one child
/// answers both, each repetition times the floor's rounds and then the
/// queue's (`child_round` answers one round in the child, `parent_round`
/// makes one in the parent), so that both ratios' terms see the same state
/// of the machine (on a virtual machine the floor alone moves by 1.5x
/// between runs, as the host places the two CPUs).
fn paired_ratios(
    n: usize,
    reps: usize,
    mut child_round: impl FnMut(),
    mut parent_round: impl FnMut(u64) -> Res<()>,
) -> Res<Vec<f64>> {
    let pp = Shared::anonymous(PingPong::new())?;
    let n = n as u64;
    let child = spawn(|| {
        for rep in 0..=reps as u64 {
            for i in rep * n + 1..=(rep + 1) * n {
                spin_until(|| pp.ping.load(Ordering::Acquire) == i);
                pp.pong.store(i, Ordering::Release);
            }
            for _ in 0..n {
                child_round();
            }
        }
    })?;
    let mut ratios = Vec::with_capacity(reps);
    for rep in 0..=reps as u64 {
        let start = Instant::now();
        for i in rep * n + 1..=(rep + 1) * n {
            pp.ping.store(i, Ordering::Release);
            spin_until(|| pp.pong.load(Ordering::Acquire) == i);
        }
        let floor = ns_since(start);
        let start = Instant::now();
        for i in 0..n {
            parent_round(i)?;
        }
        let queue = ns_since(start);
        // The first repetition warms up.
        if rep > 0 {
            ratios.push(queue / floor);
        }
    }
    join(child)?;
    Ok(ratios)
}

/// [`paired_ratios`] of the `ShmQueue<u64>` spin round trip.
fn queue_paired(n: usize, reps: usize) -> Res<Vec<f64>> {
    let d = Shared::anonymous(Duplex::<u64, 8>::new())?;
    paired_ratios(
        n,
        reps,
        || {
            let v = take(&d.down, false);
            d.up.push(v);
        },
        |i| {
            d.down.push(i);
            if take(&d.up, false) != i {
                return Err("the queue returned another item".into());
            }
            Ok(())
        },
    )
}

/// [`paired_ratios`] of the `SpscQueue<u64>` spin round trip.
fn spsc_paired(n: usize, reps: usize) -> Res<Vec<f64>> {
    let d = Shared::anonymous(SpscDuplex::<u64, 8>::new())?;
    let (mut tx, mut rx) = (d.down.producer()?, d.up.consumer()?);
    let mut ends = None;
    paired_ratios(
        n,
        reps,
        || {
            let (rx, tx) = ends.get_or_insert_with(|| d.child_ends());
            let v = spsc_take(rx, false);
            tx.push(v);
        },
        |i| {
            tx.push(i);
            if spsc_take(&mut rx, false) != i {
                return Err("the queue returned another item".into());
            }
            Ok(())
        },
    )
}

/// Two single-producer queues, one each way: the parent pushes down and
/// pops up, the child the other way round.
#[derive(SharedSafe)]
#[repr(C)]
struct SpscDuplex<T: SharedSafe, const N: usize> {
    down: SpscQueue<T, N>,
    up: SpscQueue<T, N>,
}

impl<T: SharedSafe, const N: usize> SpscDuplex<T, N> {
    fn new() -> Self {
        SpscDuplex {
            down: SpscQueue::new(),
            up: SpscQueue::new(),
        }
    }

    /// The child's handles: the consumer of `down`, the producer of `up`
    /// (taken in the child, at its first round).
    fn child_ends(&self) -> (Consumer<'_, T, N>, Producer<'_, T, N>) {
        let rx = self
            .down
            .consumer()
            .expect("the child's consumer side is free");
        let tx = self
            .up
            .producer()
            .expect("the child's producer side is free");
        (rx, tx)
    }
}

/// Pops from `rx`: spinning on `try_pop`, or blocking.
fn spsc_take<T: SharedSafe, const N: usize>(rx: &mut Consumer<'_, T, N>, block: bool) -> T {
    if block {
        return rx.pop().expect("valid items");
    }
    let mut item = None;
    spin_until(|| {
        item = rx.try_pop().expect("valid items");
        item.is_some()
    });
    item.expect("popped")
}

fn spsc_rounds<T: SharedSafe + Copy + PartialEq + std::fmt::Debug>(
    n: usize,
    reps: usize,
    block: bool,
    make: fn(u64) -> T,
) -> Res<Vec<f64>> {
    let d = Shared::anonymous(SpscDuplex::<T, 8>::new())?;
    let (mut tx, mut rx) = (d.down.producer()?, d.up.consumer()?);
    let mut ends = None;
    round_trips(
        n,
        reps,
        |_| {
            let (rx, tx) = ends.get_or_insert_with(|| d.child_ends());
            let v = spsc_take(rx, block);
            tx.push(v);
        },
        |i| {
            tx.push(make(i));
            let back = spsc_take(&mut rx, block);
            if back != make(i) {
                return Err("the queue returned another item".into());
            }
            Ok(())
        },
    )
}

/// 4 KiB messages through `SpscQueue`s, written and read in place, as
/// [`page_rounds`] does.
fn spsc_page_rounds(n: usize, reps: usize, block: bool) -> Res<Vec<f64>> {
    let d = Shared::anonymous(SpscDuplex::<Page, 8>::new())?;
    let (mut tx, mut rx) = (d.down.producer()?, d.up.consumer()?);
    let read = |rx: &mut Consumer<'_, Page, 8>| -> u64 {
        let sum = |p: &Page| p.iter().map(|&b| u64::from(b)).sum::<u64>();
        if block {
            return rx.pop_with(sum).expect("valid items");
        }
        let mut item = None;
        spin_until(|| {
            item = rx.try_pop_with(sum).expect("valid items");
            item.is_some()
        });
        item.expect("popped")
    };
    let mut ends = None;
    round_trips(
        n,
        reps,
        |_| {
            let (rx, tx) = ends.get_or_insert_with(|| d.child_ends());
            let sum = read(rx);
            tx.push_with(|p| {
                p.fill(0);
                p[..8].copy_from_slice(&sum.to_le_bytes());
            });
        },
        |i| {
            let b = (i % 251) as u8;
            tx.push_with(|p| p.fill(b));
            let sum = read(&mut rx);
            let expected = u64::from(b) * 4096;
            let low: u64 = expected.to_le_bytes().iter().map(|&x| u64::from(x)).sum();
            if sum != low {
                return Err("the 4 KiB message came back changed".into());
            }
            Ok(())
        },
    )
}

/// `SpscQueue` throughput, one producer process and one consumer process.
fn spsc_throughput(items: u64, reps: usize) -> Res<Vec<f64>> {
    let q = Shared::<SpscQueue<u64, 1024>>::anonymous(init::zeroed())?;
    let q = &*q;
    repeat(reps, || {
        let start = Instant::now();
        let consumer = spawn(move || {
            let mut rx = q.consumer().expect("the consumer side is free");
            for _ in 0..items {
                std::hint::black_box(rx.pop().expect("valid items"));
            }
        })?;
        let producer = spawn(move || {
            let mut tx = q.producer().expect("the producer side is free");
            for i in 0..items {
                tx.push(i);
            }
        })?;
        join(producer)?;
        join(consumer)?;
        Ok(ns_since(start) / items as f64)
    })
}

/// Pops from `q`: spinning on `try_pop`, or blocking.
fn take<T: SharedSafe, const N: usize>(q: &ShmQueue<T, N>, block: bool) -> T {
    if block {
        return q.pop().expect("valid items");
    }
    // Spins as the floor does (yielding every 1024 checks).
    let mut item = None;
    spin_until(|| {
        item = q.try_pop().expect("valid items");
        item.is_some()
    });
    item.expect("popped")
}

fn queue_rounds<T: SharedSafe + Copy + PartialEq + std::fmt::Debug>(
    n: usize,
    reps: usize,
    block: bool,
    make: fn(u64) -> T,
) -> Res<Vec<f64>> {
    let d = Shared::anonymous(Duplex::<T, 8>::new())?;
    round_trips(
        n,
        reps,
        |_| {
            let v = take(&d.down, block);
            d.up.push(v);
        },
        |i| {
            d.down.push(make(i));
            let back = take(&d.up, block);
            if back != make(i) {
                return Err("the queue returned another item".into());
            }
            Ok(())
        },
    )
}

/// 4 KiB messages, written and read in place (the first byte carries the
/// round, the rest is written and read whole).
fn page_rounds(n: usize, reps: usize, block: bool) -> Res<Vec<f64>> {
    let d = Shared::anonymous(Duplex::<Page, 8>::new())?;
    let read = |q: &ShmQueue<Page, 8>| -> u64 {
        let sum = |p: &Page| p.iter().map(|&b| u64::from(b)).sum::<u64>();
        if block {
            return q.pop_with(sum).expect("valid items");
        }
        let mut item = None;
        spin_until(|| {
            item = q.try_pop_with(sum).expect("valid items");
            item.is_some()
        });
        item.expect("popped")
    };
    round_trips(
        n,
        reps,
        |_| {
            let sum = read(&d.down);
            d.up.push_with(|p| {
                p.fill(0);
                p[..8].copy_from_slice(&sum.to_le_bytes());
            });
        },
        |i| {
            let b = (i % 251) as u8;
            d.down.push_with(|p| p.fill(b));
            let sum = read(&d.up);
            // The child answers with the sum of what it read.
            let expected = u64::from(b) * 4096;
            let low: u64 = expected.to_le_bytes().iter().map(|&x| u64::from(x)).sum();
            if sum != low {
                return Err("the 4 KiB message came back changed".into());
            }
            Ok(())
        },
    )
}

fn pipe_rounds(n: usize, reps: usize, len: usize) -> Res<Vec<f64>> {
    let (mut down_r, mut down_w) = pipe()?;
    let (mut up_r, mut up_w) = pipe()?;
    let mut child_buf = vec![0u8; len];
    let mut parent_buf = vec![0u8; len];
    round_trips(
        n,
        reps,
        move |_| {
            down_r.read_exact(&mut child_buf).expect("child read");
            up_w.write_all(&child_buf).expect("child write");
        },
        move |i| {
            parent_buf[0] = i as u8;
            down_w.write_all(&parent_buf)?;
            up_r.read_exact(&mut parent_buf)?;
            Ok(())
        },
    )
}

/// A queue as one would build it from a lock and a condvar.
#[derive(SharedSafe)]
#[repr(C)]
struct Locked {
    items: ShmMutex<FixedVec<u64, 1024>>,
    changed: ShmCondvar,
}

impl Locked {
    fn new() -> Locked {
        Locked {
            items: ShmMutex::new(FixedVec::new()),
            changed: ShmCondvar::new(),
        }
    }

    fn push(&self, v: u64) {
        let guard = self.items.lock().expect("lock");
        let mut guard = self
            .changed
            .wait_while(guard, |items| items.is_full())
            .expect("wait");
        guard.push(v);
        drop(guard);
        self.changed.notify_all();
    }

    fn pop(&self) -> u64 {
        let guard = self.items.lock().expect("lock");
        let mut guard = self
            .changed
            .wait_while(guard, |items| items.is_empty())
            .expect("wait");
        // FIFO: the oldest is at the front (O(n), as a FixedVec has it).
        let v = guard.remove(0);
        drop(guard);
        self.changed.notify_all();
        v
    }
}

fn locked_rounds(n: usize, reps: usize) -> Res<Vec<f64>> {
    let down = Shared::anonymous(Locked::new())?;
    let up = Shared::anonymous(Locked::new())?;
    round_trips(
        n,
        reps,
        |_| up.push(down.pop()),
        |i| {
            down.push(i);
            if up.pop() != i {
                return Err("the locked queue returned another item".into());
            }
            Ok(())
        },
    )
}

/// Runs `producers` producer and as many consumer processes over `items`
/// items in all, per repetition: ns per item.
fn run_throughput(
    items: u64,
    reps: usize,
    producers: u64,
    push: impl Fn(u64) + Copy,
    pop: impl Fn() -> u64 + Copy,
) -> Res<Vec<f64>> {
    let per = items / producers;
    repeat(reps, || {
        let start = Instant::now();
        let mut children = Vec::new();
        for p in 0..producers {
            children.push(spawn(move || {
                for i in 0..per {
                    push(p * per + i + 1);
                }
            })?);
        }
        for _ in 0..producers {
            children.push(spawn(move || {
                for _ in 0..per {
                    std::hint::black_box(pop());
                }
            })?);
        }
        for child in children {
            join(child)?;
        }
        Ok(ns_since(start) / (per * producers) as f64)
    })
}

fn queue_throughput(items: u64, reps: usize, producers: u64) -> Res<Vec<f64>> {
    let q = Shared::<ShmQueue<u64, 1024>>::anonymous(init::zeroed())?;
    let q = &*q;
    run_throughput(
        items,
        reps,
        producers,
        |v| q.push(v),
        || q.pop().expect("valid items"),
    )
}

fn locked_throughput(items: u64, reps: usize, producers: u64) -> Res<Vec<f64>> {
    let q = Shared::anonymous(Locked::new())?;
    let q = &*q;
    run_throughput(items, reps, producers, |v| q.push(v), || q.pop())
}

fn pipe_throughput(items: u64, reps: usize) -> Res<Vec<f64>> {
    repeat(reps, || {
        let (mut r, mut w) = pipe()?;
        let start = Instant::now();
        let child = spawn(move || {
            let mut buf = [0u8; 8];
            for _ in 0..items {
                r.read_exact(&mut buf).expect("read");
            }
        })?;
        for i in 0..items {
            w.write_all(&i.to_le_bytes())?;
        }
        join(child)?;
        Ok(ns_since(start) / items as f64)
    })
}

/// One thread pushing and popping: the fast path's own cost, with no
/// contention and no cache line moving between cores.
fn pair_cost(items: u64, reps: usize) -> Res<Vec<f64>> {
    let q = Shared::<ShmQueue<u64, 1024>>::anonymous(init::zeroed())?;
    repeat(reps, || {
        let start = Instant::now();
        for i in 0..items {
            if q.try_push(i).is_err() {
                return Err("full".into());
            }
            std::hint::black_box(q.try_pop()?);
        }
        Ok(ns_since(start) / items as f64)
    })
}
