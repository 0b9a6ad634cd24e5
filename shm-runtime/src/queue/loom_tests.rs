//! Model check of the queue's algorithm ([`super::ring`]) with loom: every
//! interleaving (up to a preemption bound) of a few producers and
//! consumers, on the code that ships, with loom's atomics and cell.
//!
//! ```text
//! RUSTFLAGS="--cfg loom" cargo test -p shm-runtime --lib queue --release
//! ```
//!
//! Loom cannot kill a thread; a "dead" claimer is modelled as a thread that
//! claims a slot and stops, then raises a flag (its death, as the judge of
//! the real queue finds it: after its last access). Crash behaviour of
//! real processes is what the workspace's `tests/queue_kill.rs` shows.

use super::fence::Barrier;
use super::ring::Claim;
use super::ShmQueue;
use core::mem::MaybeUninit;
use loom::sync::atomic::AtomicBool;
use loom::sync::Arc;
use loom::thread;
use std::sync::atomic::Ordering;

type Q<const N: usize> = ShmQueue<u64, N>;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    // The spinning waiters (a loop of a few loads and a yield) make long
    // executions.
    builder.max_branches = 100_000;
    builder.check(f);
}

/// The pid of the claimer that dies in these models.
const DYING: u32 = 7;

/// The judge: the claimer of `word` is dead if it is [`DYING`] and `dead`
/// says it ended.
fn judged_dead(word: u64, dead: Option<&AtomicBool>) -> bool {
    super::ring::claimer(word) == DYING && dead.is_some_and(|d| d.load(Ordering::Acquire))
}

/// One attempt to push `value` as process `pid`: `false` if blocked or
/// stalled (then `dead` says whether the staller may be recovered).
fn try_push<const N: usize>(q: &Q<N>, pid: u32, value: u64, dead: Option<&AtomicBool>) -> bool {
    match q.claim_push(pid) {
        Claim::Got { index, stamp } => {
            q.slots[index].value.with_mut(|slot| {
                // SAFETY: claimed by this thread: nobody else accesses it.
                unsafe { slot.write(MaybeUninit::new(value)) }
            });
            q.publish(index, stamp, Barrier::Full);
            true
        }
        Claim::Blocked => false,
        Claim::Stalled { index, word } => {
            if judged_dead(word, dead) {
                q.recover(index, word);
            }
            false
        }
    }
}

fn push<const N: usize>(q: &Q<N>, pid: u32, value: u64, dead: Option<&AtomicBool>) {
    while !try_push(q, pid, value, dead) {
        thread::yield_now();
    }
}

/// One attempt to pop as process `pid`.
fn try_pop<const N: usize>(q: &Q<N>, pid: u32, dead: Option<&AtomicBool>) -> Option<u64> {
    match q.claim_pop(pid) {
        Claim::Got { index, stamp } => {
            let value = q.slots[index].value.with(|slot| {
                // SAFETY: claimed by this thread, holding a published item.
                unsafe { (*slot).assume_init() }
            });
            q.release(index, stamp, Barrier::Full);
            Some(value)
        }
        Claim::Blocked => None,
        Claim::Stalled { index, word } => {
            if judged_dead(word, dead) {
                q.recover(index, word);
            }
            None
        }
    }
}

fn pop<const N: usize>(q: &Q<N>, pid: u32, dead: Option<&AtomicBool>) -> u64 {
    loop {
        if let Some(v) = try_pop(q, pid, dead) {
            return v;
        }
        thread::yield_now();
    }
}

#[test]
fn queue_two_producers_one_consumer_exactly_once() {
    model(|| {
        let q = Arc::new(Q::<2>::new());
        let producers: Vec<_> = [1u64, 2]
            .into_iter()
            .map(|v| {
                let q = Arc::clone(&q);
                thread::spawn(move || push(&q, v as u32, v, None))
            })
            .collect();
        let mut got = [pop(&q, 9, None), pop(&q, 9, None)];
        for p in producers {
            p.join().unwrap();
        }
        got.sort();
        assert_eq!(got, [1, 2]);
        assert_eq!(try_pop(&q, 9, None), None);
    });
}

#[test]
fn queue_a_counter_moved_back_is_walked_forward() {
    // A claimer counts its claim with a plain store, which can move the
    // producers' counter back behind another producer's claim: the push
    // after both must still take a new position (no slot claimed twice,
    // nothing overwritten), and come out last.
    model(|| {
        let q = Arc::new(Q::<4>::new());
        let producers: Vec<_> = [1u64, 2]
            .into_iter()
            .map(|v| {
                let q = Arc::clone(&q);
                thread::spawn(move || push(&q, v as u32, v, None))
            })
            .collect();
        for p in producers {
            p.join().unwrap();
        }
        assert!(try_push(&q, 3, 3, None));
        let mut got = [try_pop(&q, 9, None), try_pop(&q, 9, None)];
        got.sort();
        assert_eq!(got, [Some(1), Some(2)]);
        assert_eq!(try_pop(&q, 9, None), Some(3));
        assert_eq!(try_pop(&q, 9, None), None);
    });
}

#[test]
fn queue_one_producer_two_consumers_in_order_across_laps() {
    model(|| {
        // Capacity 1: every item is a new lap of the one slot.
        let q = Arc::new(Q::<1>::new());
        let producer = {
            let q = Arc::clone(&q);
            thread::spawn(move || {
                for v in 1..=3 {
                    push(&q, 1, v, None);
                }
            })
        };
        let other = {
            let q = Arc::clone(&q);
            thread::spawn(move || try_pop(&q, 2, None))
        };
        let mut mine = Vec::new();
        let theirs = other.join().unwrap();
        let want = 3 - usize::from(theirs.is_some());
        while mine.len() < want {
            mine.push(pop(&q, 3, None));
        }
        producer.join().unwrap();
        assert!(mine.windows(2).all(|w| w[0] < w[1]), "{mine:?}");
        let mut all: Vec<u64> = mine.into_iter().chain(theirs).collect();
        all.sort();
        assert_eq!(all, [1, 2, 3]);
    });
}

#[test]
fn queue_a_dead_producer_is_skipped_and_nothing_is_seen_twice() {
    model(|| {
        let q = Arc::new(Q::<2>::new());
        let dead = Arc::new(AtomicBool::new(false));
        let dying = {
            let (q, dead) = (Arc::clone(&q), Arc::clone(&dead));
            thread::spawn(move || {
                // Claims a slot, then dies before writing it.
                let claimed = matches!(q.claim_push(DYING), Claim::Got { .. });
                dead.store(true, Ordering::Release);
                claimed
            })
        };
        // A live producer pushes while the other one claims and dies.
        let live = {
            let q = Arc::clone(&q);
            thread::spawn(move || push(&q, 8, 5, None))
        };
        // Its death is known once it ended (the real judge asks the kernel).
        assert!(dying.join().unwrap());
        assert_eq!(pop(&q, 9, Some(&dead)), 5);
        live.join().unwrap();
        // The dead claim gave nothing, and its slot is usable again.
        assert_eq!(try_pop(&q, 9, Some(&dead)), None);
        push(&q, 8, 6, None);
        assert_eq!(pop(&q, 9, Some(&dead)), 6);
        assert_eq!(try_pop(&q, 9, Some(&dead)), None);
    });
}

#[test]
fn queue_a_dead_consumer_frees_its_slot_once() {
    model(|| {
        let q = Arc::new(Q::<1>::new());
        push(&q, 1, 1, None);
        let dead = Arc::new(AtomicBool::new(false));
        let dying = {
            let (q, dead) = (Arc::clone(&q), Arc::clone(&dead));
            thread::spawn(move || {
                // Claims the item, then dies before releasing the slot.
                let claimed = matches!(q.claim_pop(DYING), Claim::Got { .. });
                dead.store(true, Ordering::Release);
                claimed
            })
        };
        assert!(dying.join().unwrap());
        // A producer waits for the slot, a consumer for an item: both may
        // try to recover the slot at once; one does.
        let producer = {
            let (q, dead) = (Arc::clone(&q), Arc::clone(&dead));
            thread::spawn(move || push(&q, 2, 2, Some(&dead)))
        };
        assert_eq!(
            pop(&q, 9, Some(&dead)),
            2,
            "item 1 went to the dead consumer only"
        );
        producer.join().unwrap();
        assert_eq!(try_pop(&q, 9, Some(&dead)), None);
    });
}

#[test]
fn queue_len_is_exact_at_rest() {
    // Each producer counts its claim with a plain store, which can leave
    // the producers' counter behind a finished claim (A loads 0, B counts
    // A's claim, claims 1 and stores 2, A stores 1): with nothing in
    // progress the length must still be the items there are.
    model(|| {
        let q = Arc::new(Q::<4>::new());
        let producers: Vec<_> = [1u64, 2]
            .into_iter()
            .map(|v| {
                let q = Arc::clone(&q);
                thread::spawn(move || push(&q, v as u32, v, None))
            })
            .collect();
        for p in producers {
            p.join().unwrap();
        }
        assert_eq!(q.approx_len(), 2);
        assert!(try_pop(&q, 9, None).is_some());
        assert_eq!(q.approx_len(), 1);
    });
}

#[test]
fn queue_len_is_exact_at_rest_after_consumers_race() {
    // The same for the consumers' counter: two consumers race for two
    // items; once both are done the queue is empty, whatever the counter.
    model(|| {
        let q = Arc::new(Q::<2>::new());
        push(&q, 1, 1, None);
        push(&q, 1, 2, None);
        let consumers: Vec<_> = [8u32, 9]
            .into_iter()
            .map(|pid| {
                let q = Arc::clone(&q);
                thread::spawn(move || pop(&q, pid, None))
            })
            .collect();
        let mut got: Vec<u64> = consumers.into_iter().map(|c| c.join().unwrap()).collect();
        got.sort();
        assert_eq!(got, [1, 2]);
        assert_eq!(q.approx_len(), 0);
        push(&q, 1, 3, None);
        assert_eq!(q.approx_len(), 1);
    });
}
