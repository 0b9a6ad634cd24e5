//! SpscQueue across processes: exactly once and in order between a
//! producer process and a consumer process (every push and pop flavour,
//! several capacities), 64 KiB items written and read in place, `Busy`
//! while a live process holds a side and the take-over once it died
//! (exited without dropping its handle, or SIGKILLed), consumers killed
//! while blocked and while spinning, handles inherited by forked children
//! (they panic, and their drop frees nothing), blocked pushes and pops
//! woken by the other process, timeouts, a named segment, panics inside the
//! in-place closures, no fork inside them, truncation, invalid items, and
//! forged queue bytes.
//!
//! The test harness runs tests on several threads, so children are forked
//! with `fork_unchecked`; each child touches only shared memory, atomics
//! and shm_runtime, and reports failure by exit code. `SPSC_ITEMS`
//! (default 65 536) scales the exactly-once test; `scripts/queue-stress.sh`
//! runs it with 1 000 000.

use shm_runtime::process::{Child, PANIC_EXIT_CODE};
use shm_runtime::queue::{Consumer, Producer, SpscQueue};
use shm_runtime::{init, ErrorKind, Segment, Shared, SharedSafe};
use shm_workspace::{exit_child, QueueItem as Item, TempPath};
use std::sync::atomic::{AtomicU32, AtomicU8, Ordering};
use std::time::{Duration, Instant};

const JOIN: Duration = Duration::from_secs(120);
/// A timeout that only a hang reaches.
const LONG: Duration = Duration::from_secs(30);

fn fork(child: impl FnOnce()) -> Child {
    // SAFETY: every child in this file touches only shared memory, atomics
    // and shm_runtime, then returns or _exits.
    unsafe { shm_workspace::fork_retrying(child) }.expect("fork")
}

fn total_items() -> u32 {
    std::env::var("SPSC_ITEMS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(1 << 16)
}

/// Waits (bounded) until `done()`, polling; panics naming `what` otherwise.
fn wait_until(what: &str, done: impl Fn() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < LONG, "timed out: {what}");
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// The state letter of process `pid` in `/proc` (`None`: gone).
fn proc_state(pid: u32) -> Option<char> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    stat.rsplit_once(')')
        .and_then(|(_, rest)| rest.trim().chars().next())
}

/// Waits (bounded) until child `pid` sleeps in the kernel (state `S`: in a
/// blocked call that waits on a futex or a timer); panics if it ended.
fn wait_sleeping(pid: u32, what: &str) {
    let start = Instant::now();
    loop {
        match proc_state(pid) {
            Some('S') => return,
            Some('Z') | None => panic!("{what}: the child ended instead of blocking"),
            _ => {}
        }
        assert!(start.elapsed() < LONG, "timed out: {what}");
        std::thread::sleep(Duration::from_micros(200));
    }
}

/// Waits (bounded) until child `pid` has exited and is a zombie (not yet
/// reaped).
fn wait_zombie(pid: u32, what: &str) {
    wait_until(what, || proc_state(pid) == Some('Z'));
}

/// In a child: a panic whose message contains `expected` is silent (the
/// child must not write to stderr, whose lock another thread of the parent
/// may have held at the fork) and unwinds on; any other panic ends the
/// child with exit code 90 at once.
fn expect_panic(expected: &'static str) {
    std::panic::set_hook(Box::new(move |info| {
        let payload = info.payload();
        let message = payload
            .downcast_ref::<String>()
            .map(String::as_str)
            .or_else(|| payload.downcast_ref::<&str>().copied())
            .unwrap_or("");
        if !message.contains(expected) {
            exit_child(90);
        }
    }));
}

/// Spins (does not sleep) for `micros` µs.
fn spin_for(micros: u64) {
    let start = Instant::now();
    while start.elapsed() < Duration::from_micros(micros) {
        std::hint::spin_loop();
    }
}

/// One push of `item` in one of six ways, chosen by `mode`: `push`,
/// `push_with`, spinning on `try_push`, spinning on `try_push_with`,
/// `push_timeout`, `push_with_timeout` (the last two with a timeout only a
/// hang reaches: they end the child with exit code `10` if it does).
fn push_by<const N: usize>(tx: &mut Producer<'_, Item, N>, item: Item, mode: u32) {
    match mode % 6 {
        0 => tx.push(item),
        1 => tx.push_with(|slot| *slot = item),
        2 => {
            let mut item = item;
            while let Err(back) = tx.try_push(item) {
                item = back;
                std::hint::spin_loop();
            }
        }
        3 => {
            while !tx.try_push_with(|slot| *slot = item) {
                std::hint::spin_loop();
            }
        }
        4 => {
            if tx.push_timeout(item, LONG).is_err() {
                exit_child(10);
            }
        }
        _ => {
            if !tx.push_with_timeout(|slot| *slot = item, LONG) {
                exit_child(10);
            }
        }
    }
}

/// One pop in one of six ways, chosen by `mode`, as [`push_by`]: `pop`,
/// `pop_with`, spinning on `try_pop`, spinning on `try_pop_with`,
/// `pop_timeout`, `pop_with_timeout`. Any error ends the child (exit code
/// 11).
fn pop_by<const N: usize>(rx: &mut Consumer<'_, Item, N>, mode: u32) -> Item {
    let popped = match mode % 6 {
        0 => rx.pop(),
        1 => rx.pop_with(|item| *item),
        2 => loop {
            match rx.try_pop() {
                Ok(Some(item)) => break Ok(item),
                Ok(None) => std::hint::spin_loop(),
                Err(e) => break Err(e),
            }
        },
        3 => loop {
            match rx.try_pop_with(|item| *item) {
                Ok(Some(item)) => break Ok(item),
                Ok(None) => std::hint::spin_loop(),
                Err(e) => break Err(e),
            }
        },
        4 => rx.pop_timeout(LONG),
        _ => rx.pop_with_timeout(|item| *item, LONG),
    };
    popped.unwrap_or_else(|_| exit_child(11))
}

/// A producer child and a consumer child pass `total` items through a
/// queue of capacity `N`, each side changing its way of pushing or popping
/// every few items; the consumer checks each item whole and its number in
/// order.
fn exactly_once_in_order<const N: usize>(total: u32) {
    let q = Shared::<SpscQueue<Item, N>>::anonymous(init::zeroed()).unwrap();
    let start = Instant::now();
    let consumer = fork(|| {
        let Ok(mut rx) = q.consumer() else {
            exit_child(2)
        };
        for expected in 0..total {
            let item = pop_by(&mut rx, expected / 5);
            if !item.is_whole() || item.producer != 1 {
                exit_child(3); // torn, or not pushed by the producer
            }
            if item.seq != expected {
                exit_child(4); // lost, repeated or out of order
            }
        }
        if !matches!(rx.try_pop(), Ok(None)) {
            exit_child(5); // an item nobody pushed
        }
    });
    let producer = fork(|| {
        let Ok(mut tx) = q.producer() else {
            exit_child(2)
        };
        for seq in 0..total {
            push_by(&mut tx, Item::new(1, seq), seq / 7);
        }
    });
    producer.join(JOIN).unwrap();
    consumer.join(JOIN).unwrap();
    assert!(q.is_empty());
    // Both children dropped their handles: the sides are free.
    assert!(q.producer().is_ok() && q.consumer().is_ok());
    eprintln!(
        "{total} items through SpscQueue<_, {N}>, 1 -> 1 process, in {:?}",
        start.elapsed()
    );
}

/// Every item crosses from the producer process to the consumer process
/// exactly once and in order, whichever push and pop flavours meet, with
/// 64 slots, and with 1 and 3 slots (where nearly every push waits for
/// room and every pop for an item); `SPSC_ITEMS` items each.
#[test]
#[cfg_attr(miri, ignore = "forks")]
fn spsc_delivers_every_item_exactly_once_in_order_across_processes() {
    let total = total_items();
    exactly_once_in_order::<64>(total);
    exactly_once_in_order::<1>(total);
    exactly_once_in_order::<3>(total);
}

/// 64 KiB of item.
const BIG_WORDS: usize = 8191;

/// A 64 KiB item: its number and words derived from it.
#[derive(SharedSafe, Clone, Copy, bytemuck::AnyBitPattern)]
#[repr(C)]
struct Big {
    number: u64,
    words: [u64; BIG_WORDS],
}

fn big_word(number: u64, i: usize) -> u64 {
    (number << 32 | i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// 64 KiB items written in place by a producer process (`push_with`, into
/// a queue created zeroed in the mapping) arrive whole and in order at the
/// consumer process, read in place (`pop_with`) and checked word by word.
#[test]
#[cfg_attr(miri, ignore = "forks")]
fn spsc_64_kib_items_cross_processes_in_place_whole() {
    const ITEMS: u64 = 256;
    let q = Shared::<SpscQueue<Big, 4>>::anonymous(init::zeroed()).unwrap();
    let producer = fork(|| {
        let Ok(mut tx) = q.producer() else {
            exit_child(2)
        };
        for number in 0..ITEMS {
            tx.push_with(|big| {
                big.number = number;
                for (i, word) in big.words.iter_mut().enumerate() {
                    *word = big_word(number, i);
                }
            });
        }
    });
    let mut rx = q.consumer().unwrap();
    for number in 0..ITEMS {
        let whole = rx
            .pop_with(|big| {
                big.number == number
                    && big
                        .words
                        .iter()
                        .enumerate()
                        .all(|(i, &word)| word == big_word(number, i))
            })
            .unwrap();
        assert!(whole, "item {number} arrived whole and in order");
    }
    producer.join(JOIN).unwrap();
    assert_eq!(rx.try_pop_with(|big| big.number).unwrap(), None);
}

/// How a child that holds a side ends.
#[derive(Clone, Copy, Debug)]
enum Ending {
    /// `_exit` without dropping its handle; the side is taken over while
    /// the child is still an unreaped zombie.
    ExitWithoutDrop,
    /// SIGKILLed (and reaped).
    Killed,
}

/// Reaps `child`, which exited (with code 0).
fn reap(mut child: Child) {
    let status = child.wait_timeout(JOIN).unwrap().expect("exited");
    assert_eq!(status.code(), Some(0), "{status}");
}

/// Ends the holder `child` as `ending` says (`go`: its signal to `_exit`)
/// and takes the side over with `take`, which must succeed at once.
fn take_over<H>(
    mut child: Child,
    go: &AtomicU32,
    ending: Ending,
    take: impl FnOnce() -> shm_runtime::Result<H>,
) -> H {
    match ending {
        Ending::ExitWithoutDrop => {
            go.store(1, Ordering::Release);
            wait_zombie(child.id(), "the holder's exit");
            // Taken over from the unreaped zombie.
            let handle = take().unwrap();
            reap(child);
            handle
        }
        Ending::Killed => {
            // Killed and reaped.
            child.kill().unwrap();
            take().unwrap()
        }
    }
}

/// While a live child holds the producer side, the parent's `producer()`
/// fails with `Busy` (naming the child), and the consumer side is free;
/// once the child ended without dropping its handle (`ending`), the
/// parent's `producer()` takes the side over, and every item is delivered
/// in order: the child's, then the parent's.
fn producer_taken_over(ending: Ending) {
    const K: u32 = 32;
    let q = Shared::<SpscQueue<Item, 128>>::anonymous(init::zeroed()).unwrap();
    let holding = Shared::anonymous(AtomicU32::new(0)).unwrap();
    let go = Shared::anonymous(AtomicU32::new(0)).unwrap();
    let child = fork(|| {
        let Ok(mut tx) = q.producer() else {
            exit_child(2)
        };
        for seq in 0..2 * K {
            push_by(&mut tx, Item::new(1, seq), seq);
        }
        holding.store(1, Ordering::Release);
        // Held until killed, or until told to exit without dropping it.
        let start = Instant::now();
        while go.load(Ordering::Acquire) == 0 {
            if start.elapsed() > LONG {
                exit_child(3);
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        exit_child(0);
    });
    wait_until("the child holds the producer", || {
        holding.load(Ordering::Acquire) == 1
    });
    let err = q.producer().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
    assert!(
        err.to_string()
            .contains(&format!("held by process {}", child.id())),
        "{err}"
    );
    // The other side is independent of it.
    let mut rx = q.consumer().unwrap();
    for seq in 0..K {
        assert_eq!(rx.pop_timeout(LONG).unwrap().seq, seq);
    }
    // Still held while the child lives.
    assert_eq!(q.producer().unwrap_err().kind(), ErrorKind::Busy);
    let mut tx = take_over(child, &go, ending, || q.producer());
    for seq in 2 * K..3 * K {
        tx.push(Item::new(1, seq));
    }
    for seq in K..3 * K {
        let item = rx.try_pop().unwrap().expect("every item is there");
        assert!(item.is_whole() && item.producer == 1, "{item:?}");
        assert_eq!(item.seq, seq, "in order");
    }
    assert_eq!(rx.try_pop().unwrap().map(|i| i.seq), None);
}

/// As [`producer_taken_over`], for the consumer side: the child pops the
/// first half of the items and holds the side (not inside a pop); the
/// parent's `consumer()` is `Busy` until the child ended, then takes over
/// and gets exactly the other half, in order (nothing lost: the child had
/// taken no item when it ended).
fn consumer_taken_over(ending: Ending) {
    const K: u32 = 32;
    let q = Shared::<SpscQueue<Item, 128>>::anonymous(init::zeroed()).unwrap();
    let holding = Shared::anonymous(AtomicU32::new(0)).unwrap();
    let go = Shared::anonymous(AtomicU32::new(0)).unwrap();
    let mut tx = q.producer().unwrap();
    for seq in 0..2 * K {
        tx.push(Item::new(1, seq));
    }
    let child = fork(|| {
        let Ok(mut rx) = q.consumer() else {
            exit_child(2)
        };
        for seq in 0..K {
            if pop_by(&mut rx, seq).seq != seq {
                exit_child(4);
            }
        }
        holding.store(1, Ordering::Release);
        let start = Instant::now();
        while go.load(Ordering::Acquire) == 0 {
            if start.elapsed() > LONG {
                exit_child(3);
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        exit_child(0);
    });
    wait_until("the child holds the consumer", || {
        holding.load(Ordering::Acquire) == 1
    });
    let err = q.consumer().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy, "{err}");
    assert!(
        err.to_string()
            .contains(&format!("held by process {}", child.id())),
        "{err}"
    );
    // The producer side is the parent's own, and works on.
    for seq in 2 * K..3 * K {
        tx.push(Item::new(1, seq));
    }
    let mut rx = take_over(child, &go, ending, || q.consumer());
    for seq in K..3 * K {
        let item = rx.try_pop().unwrap().expect("every item is there");
        assert!(item.is_whole(), "{item:?}");
        assert_eq!(item.seq, seq, "in order, none lost or repeated");
    }
    assert_eq!(rx.try_pop().unwrap().map(|i| i.seq), None);
}

/// A live holder of the producer side makes `producer()` fail with `Busy`;
/// a holder that `_exit`ed without dropping its handle (still a zombie) is
/// taken over, its items kept in order.
#[test]
#[cfg_attr(miri, ignore = "forks")]
fn spsc_producer_side_is_busy_while_held_and_taken_over_after_an_exit_without_drop() {
    producer_taken_over(Ending::ExitWithoutDrop);
}

/// As above, for a holder of the producer side that was SIGKILLed.
#[test]
#[cfg_attr(miri, ignore = "forks and kills")]
fn spsc_producer_side_is_busy_while_held_and_taken_over_after_a_sigkill() {
    producer_taken_over(Ending::Killed);
}

/// A live holder of the consumer side makes `consumer()` fail with `Busy`;
/// a holder that `_exit`ed without dropping its handle is taken over, and
/// the successor gets every item it had not popped, in order.
#[test]
#[cfg_attr(miri, ignore = "forks")]
fn spsc_consumer_side_is_busy_while_held_and_taken_over_after_an_exit_without_drop() {
    consumer_taken_over(Ending::ExitWithoutDrop);
}

/// As above, for a holder of the consumer side that was SIGKILLed.
#[test]
#[cfg_attr(miri, ignore = "forks and kills")]
fn spsc_consumer_side_is_busy_while_held_and_taken_over_after_a_sigkill() {
    consumer_taken_over(Ending::Killed);
}

/// A consumer SIGKILLed while blocked in `pop`, `pop_with` or
/// `pop_timeout` on an empty queue had taken no item: its successor (in
/// another process) takes the side at once and gets every later item, in
/// order; no item is delivered twice or lost.
#[test]
#[cfg_attr(miri, ignore = "forks and kills")]
fn spsc_consumer_killed_while_blocked_in_pop_loses_nothing() {
    const K: u32 = 8;
    for mode in [0u32, 1, 4] {
        let q = Shared::<SpscQueue<Item, 16>>::anonymous(init::zeroed()).unwrap();
        // How often each item was popped, and how many the first consumer
        // recorded.
        let seen = Shared::<[AtomicU8]>::anonymous(init::zeroed_slice(2 * K as usize)).unwrap();
        let recorded = Shared::anonymous(AtomicU32::new(0)).unwrap();
        let mut tx = q.producer().unwrap();
        for seq in 0..K {
            tx.push(Item::new(1, seq));
        }
        let mut first = fork(|| {
            let Ok(mut rx) = q.consumer() else {
                exit_child(2)
            };
            loop {
                // After K items, blocks here until killed.
                let item = pop_by(&mut rx, mode);
                seen[item.seq as usize].fetch_add(1, Ordering::Relaxed);
                recorded.store(item.seq + 1, Ordering::Release);
            }
        });
        wait_until("the first consumer popped every item", || {
            recorded.load(Ordering::Acquire) == K
        });
        wait_sleeping(first.id(), "the first consumer blocks in its pop");
        first.kill().unwrap();
        for seq in K..2 * K {
            tx.push(Item::new(1, seq));
        }
        let second = fork(|| {
            // Taken over at once: the first consumer is dead and reaped.
            let Ok(mut rx) = q.consumer() else {
                exit_child(2)
            };
            for expected in K..2 * K {
                let item = pop_by(&mut rx, expected);
                if !item.is_whole() || item.seq != expected {
                    exit_child(4);
                }
                seen[item.seq as usize].fetch_add(1, Ordering::Relaxed);
            }
            if !matches!(rx.try_pop(), Ok(None)) {
                exit_child(5);
            }
        });
        second.join(JOIN).unwrap();
        let counts: Vec<u8> = seen.iter().map(|s| s.load(Ordering::Relaxed)).collect();
        assert!(
            counts.iter().all(|&n| n == 1),
            "mode {mode}: every item exactly once: {counts:?}"
        );
    }
}

/// A consumer SIGKILLed at a random instant while it spins on `try_pop`
/// (or `try_pop_with`) with items flowing from a producer process: its successor takes the side
/// at once, and gets the rest in order; no item is delivered twice, and at
/// most one is lost: the one right after the last item the killed consumer
/// recorded (it had taken it, or had popped it without recording it).
#[test]
#[cfg_attr(miri, ignore = "forks and kills")]
fn spsc_consumer_killed_while_spinning_loses_at_most_the_item_it_held() {
    const ITEMS: u32 = 1 << 15;
    const ROUNDS: u32 = 8;
    let mut rng = shm_workspace::Rng::seeded();
    let mut lost_total = 0;
    let mut mid_stream = 0;
    for round in 0..ROUNDS {
        let q = Shared::<SpscQueue<Item, 16>>::anonymous(init::zeroed()).unwrap();
        let seen = Shared::<[AtomicU8]>::anonymous(init::zeroed_slice(ITEMS as usize)).unwrap();
        let recorded = Shared::anonymous(AtomicU32::new(0)).unwrap();
        // Set once the producer ended: every item is published.
        let produced = Shared::anonymous(AtomicU32::new(0)).unwrap();
        let producer = fork(|| {
            let Ok(mut tx) = q.producer() else {
                exit_child(2)
            };
            for seq in 0..ITEMS {
                tx.push(Item::new(1, seq));
            }
        });
        let mut first = fork(|| {
            let Ok(mut rx) = q.consumer() else {
                exit_child(2)
            };
            let record = |item: &Item| {
                if !item.is_whole() || item.seq >= ITEMS {
                    exit_child(4);
                }
                seen[item.seq as usize].fetch_add(1, Ordering::Relaxed);
                recorded.store(item.seq + 1, Ordering::Release);
            };
            loop {
                // Odd rounds act on the item in its slot (`try_pop_with`):
                // one recorded there before the kill was consumed, and the
                // successor must not deliver it again.
                let popped = if round % 2 == 0 {
                    rx.try_pop().map(|item| item.map(|item| record(&item)))
                } else {
                    rx.try_pop_with(record)
                };
                match popped {
                    Ok(Some(())) => {}
                    Ok(None) => std::hint::spin_loop(),
                    Err(_) => exit_child(3),
                }
            }
        });
        // A random instant: after a random number of items (watched by
        // spinning), and a random few µs more.
        let after = 1 + (rng.next() % u64::from(ITEMS / 2)) as u32;
        let start = Instant::now();
        while recorded.load(Ordering::Acquire) < after {
            assert!(
                start.elapsed() < LONG,
                "the first consumer makes no progress"
            );
            std::hint::spin_loop();
        }
        spin_for(rng.next() % 20);
        first.kill().unwrap();
        let last_recorded = recorded.load(Ordering::Acquire);
        if last_recorded < ITEMS - 1 {
            mid_stream += 1;
        }
        let second = fork(|| {
            let Ok(mut rx) = q.consumer() else {
                exit_child(2)
            };
            let mut previous = None::<u32>;
            loop {
                let item = match rx.pop_timeout(Duration::from_millis(20)) {
                    Ok(item) => item,
                    // No item at its position although all were published:
                    // none is left.
                    Err(e) if e.kind() == ErrorKind::TimedOut => {
                        if produced.load(Ordering::Acquire) == 1 {
                            break;
                        }
                        continue;
                    }
                    Err(_) => exit_child(3),
                };
                if !item.is_whole() || item.seq >= ITEMS {
                    exit_child(4);
                }
                // Contiguous after its first item.
                if previous.is_some_and(|p| p + 1 != item.seq) {
                    exit_child(5);
                }
                previous = Some(item.seq);
                seen[item.seq as usize].fetch_add(1, Ordering::Relaxed);
            }
        });
        producer.join(JOIN).unwrap();
        produced.store(1, Ordering::Release);
        second.join(JOIN).unwrap();
        let counts: Vec<u8> = seen.iter().map(|s| s.load(Ordering::Relaxed)).collect();
        assert!(
            counts.iter().all(|&n| n <= 1),
            "round {round}: an item delivered twice"
        );
        let lost: Vec<usize> = (0..ITEMS as usize).filter(|&i| counts[i] == 0).collect();
        assert!(
            lost.is_empty() || lost == [last_recorded as usize],
            "round {round}: lost {lost:?}; the killed consumer had recorded {last_recorded} items"
        );
        lost_total += lost.len();
    }
    eprintln!(
        "{ROUNDS} consumers killed while spinning ({mid_stream} before the last item): \
         {lost_total} items lost"
    );
}

/// A forked child that uses a handle its parent took panics (exit code
/// 101, with the message that says why) before touching the queue, for
/// every push and pop method; dropping its copy gives nothing back: the
/// side stays the parent's (`Busy` for the child itself and for another
/// process) until the parent drops its handle, and then a child takes it.
#[test]
#[cfg_attr(miri, ignore = "forks")]
fn spsc_a_forked_child_cannot_use_or_give_back_its_parents_handle() {
    type Q = SpscQueue<u64, 8>;
    let q = Shared::<Q>::anonymous(init::zeroed()).unwrap();
    let mut tx = q.producer().unwrap();
    let mut rx = q.consumer().unwrap();
    tx.push(1);
    let pushes: [fn(&mut Producer<'_, u64, 8>); 6] = [
        |tx| {
            let _ = tx.try_push(2);
        },
        |tx| tx.push(2),
        |tx| {
            let _ = tx.push_timeout(2, LONG);
        },
        |tx| {
            let _ = tx.try_push_with(|v| *v = 2);
        },
        |tx| tx.push_with(|v| *v = 2),
        |tx| {
            let _ = tx.push_with_timeout(|v| *v = 2, LONG);
        },
    ];
    for (i, push) in pushes.iter().enumerate() {
        let child = fork(|| {
            expect_panic(
                "an SpscQueue producer handle used in a process forked after it was taken",
            );
            push(&mut tx);
            exit_child(0)
        });
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(PANIC_EXIT_CODE), "push {i}: {status}");
        assert_eq!(q.len(), 1, "push {i}: nothing pushed");
    }
    let pops: [fn(&mut Consumer<'_, u64, 8>); 6] = [
        |rx| {
            let _ = rx.try_pop();
        },
        |rx| {
            let _ = rx.pop();
        },
        |rx| {
            let _ = rx.pop_timeout(LONG);
        },
        |rx| {
            let _ = rx.try_pop_with(|v| *v);
        },
        |rx| {
            let _ = rx.pop_with(|v| *v);
        },
        |rx| {
            let _ = rx.pop_with_timeout(|v| *v, LONG);
        },
    ];
    for (i, pop) in pops.iter().enumerate() {
        let child = fork(|| {
            expect_panic(
                "an SpscQueue consumer handle used in a process forked after it was taken",
            );
            pop(&mut rx);
            exit_child(0)
        });
        let status = child.wait().unwrap();
        assert_eq!(status.code(), Some(PANIC_EXIT_CODE), "pop {i}: {status}");
        assert_eq!(q.len(), 1, "pop {i}: nothing popped");
    }
    // The parent's handles work on.
    tx.push(2);
    assert_eq!(rx.pop().unwrap(), 1);
    // A child drops its copies: that frees nothing.
    let mut tx = Some(tx);
    let mut rx = Some(rx);
    let child = fork(|| {
        drop(tx.take());
        drop(rx.take());
        if !matches!(q.producer(), Err(e) if e.kind() == ErrorKind::Busy) {
            exit_child(2);
        }
        if !matches!(q.consumer(), Err(e) if e.kind() == ErrorKind::Busy) {
            exit_child(3);
        }
    });
    child.join(JOIN).unwrap();
    assert_eq!(q.producer().unwrap_err().kind(), ErrorKind::Busy);
    assert_eq!(q.consumer().unwrap_err().kind(), ErrorKind::Busy);
    // Nor for another process.
    let other = fork(|| {
        if !matches!(q.producer(), Err(e) if e.kind() == ErrorKind::Busy)
            || !matches!(q.consumer(), Err(e) if e.kind() == ErrorKind::Busy)
        {
            exit_child(2);
        }
    });
    other.join(JOIN).unwrap();
    // The parent's handles still work after the child's drops.
    tx.as_mut().unwrap().push(3);
    assert_eq!(rx.as_mut().unwrap().pop().unwrap(), 2);
    // Once the parent gives the sides back, a child takes them.
    drop(tx.take());
    drop(rx.take());
    let child = fork(|| {
        let (Ok(mut tx), Ok(mut rx)) = (q.producer(), q.consumer()) else {
            exit_child(2)
        };
        if rx.try_pop().ok() != Some(Some(3)) {
            exit_child(3);
        }
        tx.push(4);
    });
    child.join(JOIN).unwrap();
    assert_eq!(q.consumer().unwrap().try_pop().unwrap(), Some(4));
}

/// A consumer child blocked in `pop` (asleep in the kernel) is woken by
/// the parent's push, and again in `pop_with`: it gets both items.
#[test]
#[cfg_attr(miri, ignore = "forks")]
fn spsc_a_pop_blocked_in_one_process_is_woken_by_a_push_from_another() {
    let q = Shared::<SpscQueue<u64, 4>>::anonymous(init::zeroed()).unwrap();
    let stage = Shared::anonymous(AtomicU32::new(0)).unwrap();
    let mut tx = q.producer().unwrap();
    let mut child = fork(|| {
        let Ok(mut rx) = q.consumer() else {
            exit_child(2)
        };
        stage.store(1, Ordering::Release);
        if rx.pop().ok() != Some(7) {
            exit_child(3);
        }
        stage.store(2, Ordering::Release);
        if rx.pop_with(|v| *v).ok() != Some(8) {
            exit_child(4);
        }
    });
    wait_until("the consumer started", || {
        stage.load(Ordering::Acquire) == 1
    });
    wait_sleeping(child.id(), "the consumer blocks in pop");
    tx.push(7);
    wait_until("the first pop returned", || {
        stage.load(Ordering::Acquire) == 2
    });
    wait_sleeping(child.id(), "the consumer blocks in pop_with");
    tx.push_with(|v| *v = 8);
    let status = child.wait_timeout(JOIN).unwrap().expect("the pops return");
    assert_eq!(status.code(), Some(0), "{status}");
    assert!(q.is_empty());
}

/// A producer child blocked on a full queue (in `push`, then in
/// `push_with`) is woken by the parent's pop; every item arrives in order.
#[test]
#[cfg_attr(miri, ignore = "forks")]
fn spsc_a_push_blocked_on_a_full_queue_is_woken_by_a_pop_from_another_process() {
    let q = Shared::<SpscQueue<u64, 2>>::anonymous(init::zeroed()).unwrap();
    let stage = Shared::anonymous(AtomicU32::new(0)).unwrap();
    let mut rx = q.consumer().unwrap();
    let mut child = fork(|| {
        let Ok(mut tx) = q.producer() else {
            exit_child(2)
        };
        tx.push(0);
        tx.push(1);
        stage.store(1, Ordering::Release);
        tx.push(2); // full: blocks
        stage.store(2, Ordering::Release);
        tx.push_with(|v| *v = 3); // full again: blocks
        stage.store(3, Ordering::Release);
    });
    wait_until("the queue is full", || stage.load(Ordering::Acquire) == 1);
    wait_sleeping(child.id(), "the producer blocks in push");
    assert_eq!(q.len(), 2);
    assert_eq!(stage.load(Ordering::Acquire), 1, "the push waits for room");
    assert_eq!(rx.pop().unwrap(), 0);
    wait_until("the first push returned", || {
        stage.load(Ordering::Acquire) == 2
    });
    wait_sleeping(child.id(), "the producer blocks in push_with");
    assert_eq!(stage.load(Ordering::Acquire), 2, "the push waits for room");
    assert_eq!(rx.pop().unwrap(), 1);
    let status = child
        .wait_timeout(JOIN)
        .unwrap()
        .expect("the pushes return");
    assert_eq!(status.code(), Some(0), "{status}");
    assert_eq!(rx.try_pop().unwrap(), Some(2));
    assert_eq!(rx.try_pop().unwrap(), Some(3));
    assert_eq!(rx.try_pop().unwrap(), None);
}

/// While a live child holds the producer side and pushes nothing,
/// `pop_timeout` and `pop_with_timeout` end with `TimedOut` (not before
/// their timeout); the child's later push is then delivered. While a live
/// child holds the consumer side and pops nothing, `push_timeout` on the
/// full queue gives its value back and `push_with_timeout` returns false
/// without calling its closure; after the child's pop, a push with a
/// timeout goes in; the child gets every accepted item in order.
#[test]
#[cfg_attr(miri, ignore = "forks")]
fn spsc_timeouts_hold_against_another_process_then_deliver() {
    let short = Duration::from_millis(30);
    // Empty queue, the producer in a child.
    let q = Shared::<SpscQueue<u64, 2>>::anonymous(init::zeroed()).unwrap();
    let go = Shared::anonymous(AtomicU32::new(0)).unwrap();
    let holding = Shared::anonymous(AtomicU32::new(0)).unwrap();
    let producer = fork(|| {
        let Ok(mut tx) = q.producer() else {
            exit_child(2)
        };
        holding.store(1, Ordering::Release);
        let start = Instant::now();
        while go.load(Ordering::Acquire) == 0 {
            if start.elapsed() > LONG {
                exit_child(3);
            }
            std::thread::sleep(Duration::from_micros(200));
        }
        tx.push(20);
    });
    wait_until("the child holds the producer", || {
        holding.load(Ordering::Acquire) == 1
    });
    let mut rx = q.consumer().unwrap();
    let start = Instant::now();
    let err = rx.pop_timeout(short).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert!(start.elapsed() >= short, "{:?}", start.elapsed());
    let start = Instant::now();
    let err = rx.pop_with_timeout(|v| *v, short).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
    assert!(start.elapsed() >= short, "{:?}", start.elapsed());
    assert_eq!(rx.try_pop().unwrap(), None);
    go.store(1, Ordering::Release);
    assert_eq!(rx.pop_timeout(LONG).unwrap(), 20);
    producer.join(JOIN).unwrap();
    drop(rx);

    // Full queue, the consumer in a child.
    let q = Shared::<SpscQueue<u64, 2>>::anonymous(init::zeroed()).unwrap();
    let go = Shared::anonymous(AtomicU32::new(0)).unwrap();
    let holding = Shared::anonymous(AtomicU32::new(0)).unwrap();
    let consumer = fork(|| {
        let Ok(mut rx) = q.consumer() else {
            exit_child(2)
        };
        holding.store(1, Ordering::Release);
        for (stage, expected) in [(1, &[10][..]), (2, &[11, 13][..])] {
            let start = Instant::now();
            while go.load(Ordering::Acquire) < stage {
                if start.elapsed() > LONG {
                    exit_child(3);
                }
                std::thread::sleep(Duration::from_micros(200));
            }
            for &value in expected {
                if rx.pop_timeout(LONG).ok() != Some(value) {
                    exit_child(4);
                }
            }
        }
        if rx.try_pop().ok() != Some(None) {
            exit_child(5);
        }
    });
    wait_until("the child holds the consumer", || {
        holding.load(Ordering::Acquire) == 1
    });
    let mut tx = q.producer().unwrap();
    tx.push(10);
    tx.push(11);
    let start = Instant::now();
    assert_eq!(tx.push_timeout(12, short), Err(12));
    assert!(start.elapsed() >= short, "{:?}", start.elapsed());
    let mut called = false;
    let start = Instant::now();
    assert!(!tx.push_with_timeout(|_| called = true, short));
    assert!(start.elapsed() >= short, "{:?}", start.elapsed());
    assert!(!called, "no room: the closure is not called");
    go.store(1, Ordering::Release);
    assert_eq!(tx.push_timeout(13, LONG), Ok(()));
    go.store(2, Ordering::Release);
    consumer.join(JOIN).unwrap();
    assert!(q.is_empty());
}

/// A queue in a named POSIX segment: two child processes open it by name,
/// one after the other take the producer side (the first gives it back by
/// dropping its handle) and push; the parent's consumer gets every item in
/// order; the name is gone once the creator's view is dropped.
#[test]
#[cfg_attr(miri, ignore = "maps a named segment and forks")]
fn spsc_in_a_named_segment_between_processes() {
    type Q = SpscQueue<Item, 16>;
    const PER: u32 = 1000;
    let name = format!("/shmrt-spsc-named-{}", std::process::id());
    let segment = Segment::posix(&name).remove_on_drop(true);
    let q = segment.create(init::zeroed::<Q>()).unwrap();
    let mut rx = q.consumer().unwrap();
    for producer in 1..=2u32 {
        let child = fork(|| {
            let Ok(q) = Segment::posix(&name).open::<Q>() else {
                exit_child(2)
            };
            let Ok(mut tx) = q.producer() else {
                exit_child(3)
            };
            for seq in 0..PER {
                push_by(&mut tx, Item::new(producer, seq), seq);
            }
            // Dropped here: the side is given back.
        });
        for seq in 0..PER {
            let item = rx.pop_timeout(LONG).unwrap();
            assert!(item.is_whole(), "{item:?}");
            assert_eq!((item.producer, item.seq), (producer, seq));
        }
        child.join(JOIN).unwrap();
    }
    assert_eq!(rx.try_pop().unwrap().map(|i| i.seq), None);
    drop(rx);
    drop(q);
    let err = Segment::posix(&name).open::<Q>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::NotFound, "{err}");
}

/// A panic inside `push_with` (or `try_push_with`) in the producer process
/// publishes nothing: the next push writes the same slot and the consumer
/// process never sees the half-written item. A panic inside `pop_with` (or
/// `try_pop_with`) in the consumer process consumes the item: the next pop
/// there, and the next consumer, get the following ones.
#[test]
#[cfg_attr(miri, ignore = "forks")]
fn spsc_panics_inside_the_in_place_closures_across_processes() {
    let q = Shared::<SpscQueue<Item, 4>>::anonymous(init::zeroed()).unwrap();
    let producer = fork(|| {
        expect_panic("half-written");
        let Ok(mut tx) = q.producer() else {
            exit_child(2)
        };
        for seq in 0..2 {
            let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
                let write = |slot: &mut Item| {
                    *slot = Item::new(9, 9);
                    slot.seq = 1000; // torn: its check no longer matches
                    panic!("half-written")
                };
                if seq == 0 {
                    tx.push_with(write)
                } else {
                    let _ = tx.try_push_with(write);
                }
            }));
            if panicked.is_ok() {
                exit_child(3);
            }
            tx.push(Item::new(1, seq));
        }
    });
    producer.join(JOIN).unwrap();
    let mut rx = q.consumer().unwrap();
    for seq in 0..2 {
        let item = rx.try_pop().unwrap().expect("the pushes after the panics");
        assert!(item.is_whole() && item.producer == 1, "{item:?}");
        assert_eq!(item.seq, seq);
    }
    assert_eq!(rx.try_pop().unwrap().map(|i| i.seq), None);
    drop(rx);

    let mut tx = q.producer().unwrap();
    for seq in 0..4 {
        tx.push(Item::new(2, seq));
    }
    let consumer = fork(|| {
        expect_panic("reader gave up");
        let Ok(mut rx) = q.consumer() else {
            exit_child(2)
        };
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rx.pop_with(|_| -> u32 { panic!("reader gave up") })
        }));
        if panicked.is_ok() || rx.pop().ok().map(|i| i.seq) != Some(1) {
            exit_child(3);
        }
        let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            rx.try_pop_with(|_| -> u32 { panic!("reader gave up") })
        }));
        if panicked.is_ok() {
            exit_child(4);
        }
    });
    consumer.join(JOIN).unwrap();
    // Items 0 and 2 were consumed by the panicking reads, 1 popped.
    let mut rx = q.consumer().unwrap();
    assert_eq!(rx.try_pop().unwrap().map(|i| i.seq), Some(3));
    assert_eq!(rx.try_pop().unwrap().map(|i| i.seq), None);
}

/// No process can be forked while an item is written or read in place (a
/// child would keep the `&mut` or `&` into the slot past its publication or
/// release); outside the closures a child can be forked, and pops there.
#[test]
#[cfg_attr(miri, ignore = "forks")]
fn spsc_no_fork_while_an_item_is_written_or_read_in_place() {
    let q = Shared::<SpscQueue<[u64; 4], 2>>::anonymous(init::zeroed()).unwrap();
    let mut tx = q.producer().unwrap();
    let mut refused = false;
    tx.push_with(|item| {
        refused = shm_workspace::fork_is_refused();
        *item = [1, 2, 3, 4];
    });
    assert!(refused, "a fork inside push_with is refused");
    assert!(tx.try_push_with(|item| {
        refused = shm_workspace::fork_is_refused();
        *item = [5; 4];
    }));
    assert!(refused, "a fork inside try_push_with is refused");
    let mut rx = q.consumer().unwrap();
    let (sum, refused) = rx
        .pop_with(|item| (item.iter().sum::<u64>(), shm_workspace::fork_is_refused()))
        .unwrap();
    assert_eq!(sum, 10);
    assert!(refused, "a fork inside pop_with is refused");
    let refused = rx
        .try_pop_with(|_| shm_workspace::fork_is_refused())
        .unwrap();
    assert_eq!(refused, Some(true), "a fork inside try_pop_with is refused");
    drop(rx);
    tx.push([7; 4]);
    let child = fork(|| {
        let Ok(mut rx) = q.consumer() else {
            exit_child(2)
        };
        if rx.pop().ok() != Some([7; 4]) {
            exit_child(3)
        }
    });
    child.join(JOIN).unwrap();
    assert!(q.is_empty());
}

/// On a queue whose file another process truncated: a blocked pop ends at
/// once with `Truncated`; pushes land until it is full, then a push with a
/// timeout gives its value back at once, and one without panics instead of
/// waiting forever.
#[test]
#[cfg_attr(miri, ignore = "maps a file and forks")]
fn spsc_a_truncation_ends_blocked_pushes_and_pops() {
    type Q = SpscQueue<u64, 2>;
    let temp = TempPath::new("spsc-truncated");
    drop(Segment::file(&temp.0).create(init::zeroed::<Q>()).unwrap());
    let path = temp.0.clone();
    // In a child: a signal that should not be survived kills it, not the
    // test harness.
    let mut child = fork(|| {
        let Ok(q) = Segment::file(&path).open::<Q>() else {
            exit_child(2)
        };
        let (Ok(mut tx), Ok(mut rx)) = (q.producer(), q.consumer()) else {
            exit_child(3)
        };
        // Another process (here: this one, through the file) truncates it.
        std::fs::OpenOptions::new()
            .write(true)
            .open(&path)
            .and_then(|file| file.set_len(0))
            .unwrap_or_else(|_| exit_child(4));
        if !q.is_empty() || !q.is_truncated() {
            exit_child(5);
        }
        let start = Instant::now();
        match rx.pop_timeout(LONG) {
            Err(e) if e.kind() == ErrorKind::Truncated => {}
            _ => exit_child(6),
        }
        match rx.pop_with_timeout(|v| *v, LONG) {
            Err(e) if e.kind() == ErrorKind::Truncated => {}
            _ => exit_child(7),
        }
        if tx.try_push(1).is_err() || tx.push_timeout(2, LONG).is_err() {
            exit_child(8);
        }
        if tx.push_timeout(3, LONG) != Err(3) || tx.push_with_timeout(|_| exit_child(9), LONG) {
            exit_child(10);
        }
        if start.elapsed() > Duration::from_secs(10) {
            exit_child(11);
        }
        expect_panic("truncated");
        let push = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| tx.push(4)));
        let push_with = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
            tx.push_with(|_| exit_child(12))
        }));
        if push.is_ok() || push_with.is_ok() {
            exit_child(13);
        }
        if start.elapsed() > Duration::from_secs(10) {
            exit_child(14);
        }
        exit_child(0)
    });
    let status = child
        .wait_timeout(JOIN)
        .unwrap()
        .expect("the child ends in time");
    assert_eq!(status.code(), Some(0), "{status}");
}

/// An item with invalid bit patterns: 7 bytes and a `bool`.
#[derive(SharedSafe, Clone, Copy, Debug, PartialEq)]
#[repr(C)]
struct Flagged {
    marker: [u8; 7],
    flag: bool,
}

/// A marker that appears nowhere else in the file.
const MARKER: [u8; 7] = [0xC3, 0x5A, 0x91, 0x7E, 0x22, 0xD4, 0x68];

/// An item whose bytes another process made invalid in the file (a `bool`
/// holding 2) is refused by the consumer process with `InvalidValue`, for
/// `pop` and for `pop_with` (whose closure is not called); it is consumed,
/// and the next pop gets the next item.
#[test]
#[cfg_attr(miri, ignore = "maps a file and forks")]
fn spsc_an_invalid_item_is_refused_and_consumed_by_the_consumer_process() {
    use std::os::unix::fs::FileExt;
    type Q = SpscQueue<Flagged, 4>;
    let temp = TempPath::new("spsc-invalid");
    let q = Segment::file(&temp.0).create(init::zeroed::<Q>()).unwrap();
    let mut tx = q.producer().unwrap();
    let plain = Flagged {
        marker: [1; 7],
        flag: true,
    };
    for _ in 0..2 {
        tx.push(Flagged {
            marker: MARKER,
            flag: true,
        });
        tx.push(plain);
    }
    // Forge each marked item's flag through the file, as any process of
    // the same user could.
    let bytes = std::fs::read(&temp.0).unwrap();
    let marks: Vec<usize> = bytes
        .windows(MARKER.len())
        .enumerate()
        .filter(|(_, w)| *w == MARKER)
        .map(|(i, _)| i)
        .collect();
    assert_eq!(marks.len(), 2, "both marked items found in the file");
    let file = std::fs::OpenOptions::new()
        .write(true)
        .open(&temp.0)
        .unwrap();
    for mark in &marks {
        file.write_all_at(&[2], (mark + MARKER.len()) as u64)
            .unwrap();
    }
    let path = temp.0.clone();
    let child = fork(|| {
        let Ok(q) = Segment::file(&path).open::<Q>() else {
            exit_child(2)
        };
        let Ok(mut rx) = q.consumer() else {
            exit_child(3)
        };
        match rx.pop() {
            Err(e) if e.kind() == ErrorKind::InvalidValue => {}
            _ => exit_child(4),
        }
        if rx.pop().ok() != Some(plain) {
            exit_child(5);
        }
        match rx.pop_with(|_| exit_child(6)) {
            Err(e) if e.kind() == ErrorKind::InvalidValue => {}
            _ => exit_child(7),
        }
        if rx.pop_with(|item| *item).ok() != Some(plain) {
            exit_child(8);
        }
        if rx.try_pop().ok() != Some(None) {
            exit_child(9);
        }
    });
    child.join(JOIN).unwrap();
    assert!(q.is_empty());
}

/// A queue whose every byte was forged (random words, zeros, small numbers,
/// numbers near the top of the range) cannot crash, panic or hang its
/// users: `producer()` and `consumer()` take the side or say `Busy`, and
/// pushes and pops (bounded ones) return; `len` stays at most the capacity.
/// Run in a child, over many forgeries.
#[test]
#[cfg_attr(miri, ignore = "forks")]
fn spsc_forged_queue_bytes_neither_crash_panic_nor_hang() {
    type Q = SpscQueue<Item, 8>;
    const ROUNDS: u32 = 300;
    let seed = shm_workspace::Rng::seeded().next();
    let mut child = fork(move || {
        let mut rng = shm_workspace::Rng(seed | 1);
        let Ok(mut q) = Shared::<Q>::anonymous(init::zeroed()) else {
            exit_child(2)
        };
        for _ in 0..ROUNDS {
            {
                // SAFETY: this mapping exists in this (child) process only,
                // and no reference into it lives now; every byte pattern is
                // a valid queue (atomics and `MaybeUninit` items).
                let queue = unsafe { q.get_mut_unchecked() };
                // SAFETY: the queue's bytes, written whole through the
                // exclusive reference above.
                let bytes = unsafe {
                    std::slice::from_raw_parts_mut(
                        (queue as *mut Q).cast::<u8>(),
                        std::mem::size_of::<Q>(),
                    )
                };
                for word in bytes.chunks_mut(8) {
                    let value = match rng.next() % 4 {
                        0 => 0,
                        1 => rng.next() % 40,
                        2 => u64::MAX - rng.next() % 40,
                        _ => rng.next(),
                    };
                    word.copy_from_slice(&value.to_ne_bytes()[..word.len()]);
                }
            }
            if q.len() > q.capacity() {
                exit_child(3);
            }
            let mut tx = match q.producer() {
                Ok(tx) => Some(tx),
                Err(e) if e.kind() == ErrorKind::Busy => None,
                Err(_) => exit_child(4),
            };
            let mut rx = match q.consumer() {
                Ok(rx) => Some(rx),
                Err(e) if e.kind() == ErrorKind::Busy => None,
                Err(_) => exit_child(5),
            };
            for n in 0..20 {
                if let Some(tx) = tx.as_mut() {
                    let _ = tx.try_push(Item::new(1, n));
                    let _ = tx.try_push_with(|slot| *slot = Item::new(2, n));
                }
                if let Some(rx) = rx.as_mut() {
                    let _ = rx.try_pop();
                    let _ = rx.try_pop_with(|item| item.seq);
                }
            }
            if let Some(tx) = tx.as_mut() {
                let _ = tx.push_timeout(Item::new(3, 0), Duration::from_millis(1));
            }
            if let Some(rx) = rx.as_mut() {
                let _ = rx.pop_timeout(Duration::from_millis(1));
            }
            if q.len() > q.capacity() {
                exit_child(6);
            }
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
#[cfg_attr(miri, ignore = "forks and kills")]
fn spsc_a_side_killed_asleep_costs_the_other_no_wake_ups_once_stale() {
    let q = Shared::<SpscQueue<u64, 2>>::anonymous(init::zeroed()).unwrap();
    let sleepers = || shm_runtime::__private::spsc_sleepers(&q);
    let stale = shm_runtime::__private::QUEUE_SLEEPER_STALE + Duration::from_millis(50);
    let mut tx = q.producer().unwrap();
    // A consumer killed asleep in `pop` (each child takes the side over
    // from the one killed before it)...
    let pop = || {
        let Ok(mut rx) = q.consumer() else {
            exit_child(2)
        };
        let _ = rx.pop();
    };
    // SAFETY: the children only use the queue.
    assert_eq!(
        unsafe { shm_workspace::kill_asleep(pop, || sleepers().0) },
        1
    );
    // ...costs the producer one more wake-up once stale, then none.
    std::thread::sleep(stale);
    tx.push(1);
    assert_eq!(sleepers(), (0, 0), "forgotten");
    // A producer killed asleep in `push` on the full queue.
    tx.push(2);
    drop(tx);
    let push = || {
        let Ok(mut tx) = q.producer() else {
            exit_child(2)
        };
        tx.push(3);
    };
    // SAFETY: as above.
    assert_eq!(
        unsafe { shm_workspace::kill_asleep(push, || sleepers().1) },
        1
    );
    std::thread::sleep(stale);
    let mut rx = q.consumer().unwrap();
    assert_eq!(rx.try_pop().unwrap(), Some(1));
    assert_eq!(sleepers(), (0, 0), "forgotten");
    assert_eq!(rx.try_pop().unwrap(), Some(2));
    assert_eq!(rx.try_pop().unwrap(), None);
}
