//! Model check of [`SpscQueue`]'s algorithm ([`super::ring`]) with loom:
//! every interleaving (up to a preemption bound) of a producer and a
//! consumer, and of a consumer's successor after the consumer "died"
//! holding an item (loom cannot kill a thread: the dead consumer is a
//! thread that takes an item and stops). Loom's cell reports any access to
//! a slot by both sides at once.

use super::ring::Room;
use super::SpscQueue;
use crate::queue::fence::Barrier;
use core::mem::MaybeUninit;
use loom::sync::Arc;
use loom::thread;
use std::sync::atomic::Ordering;

type Q<const N: usize> = SpscQueue<u64, N>;

fn model(f: impl Fn() + Sync + Send + 'static) {
    let mut builder = loom::model::Builder::new();
    builder.preemption_bound = Some(3);
    builder.max_branches = 100_000;
    builder.check(f);
}

/// Pushes `value` at `*pos`, spinning while full, for a producer that
/// knows the stamps from `known` on (see `SpscQueue::room`).
fn push<const N: usize>(q: &Q<N>, pos: &mut u64, limit: &mut u64, known: u64, value: u64) {
    loop {
        match q.room(*pos, limit, known) {
            Room::Free => break,
            Room::Published => *pos += 1,
            Room::Full => thread::yield_now(),
        }
    }
    q.slots[Q::<N>::index(*pos)]
        .value
        .with_mut(|slot| unsafe_write(slot, value));
    q.publish(*pos, Barrier::Full);
    *pos += 1;
}

fn unsafe_write(slot: *mut MaybeUninit<u64>, value: u64) {
    // SAFETY: the producer writes only a slot with room (the property
    // under check: loom's cell fails the model otherwise).
    unsafe { (*slot).write(value) };
}

/// Takes the item at `pos`, spinning while there is none; `release`: give
/// the slot back (a consumer that dies does not).
fn pop<const N: usize>(q: &Q<N>, pos: &mut u64, release: bool) -> u64 {
    while !q.ready_with(*pos, Ordering::Acquire) {
        thread::yield_now();
    }
    q.take(*pos);
    // SAFETY: a published item, which the producer does not write until
    // the slot is given back.
    let value = q.slots[Q::<N>::index(*pos)]
        .value
        .with(|slot| unsafe { (*slot).assume_init() });
    if release {
        q.release(*pos, Barrier::Full);
    }
    *pos += 1;
    value
}

/// One producer, one consumer, three items through two slots (a lap and a
/// half): all delivered once, in order, and no slot accessed by both.
#[test]
fn spsc_items_arrive_once_in_order_across_laps() {
    model(|| {
        let q = Arc::new(Q::<2>::new());
        let producer = {
            let q = q.clone();
            thread::spawn(move || {
                let (mut pos, mut limit) = (q.producer_start(), 0);
                let known = pos + 2;
                for v in 1..=3 {
                    push(&q, &mut pos, &mut limit, known, v);
                }
            })
        };
        let mut pos = q.consumer_start().0;
        let got: Vec<u64> = (0..3).map(|_| pop(&q, &mut pos, true)).collect();
        producer.join().unwrap();
        assert_eq!(got, [1, 2, 3]);
        assert_eq!(q.approx_len(), 0);
    });
}

/// A consumer that took item 2 and died: its successor starts after it,
/// gives its slot back (so that the producer, pushing meanwhile, goes on),
/// and gets item 3; item 2 is never delivered again.
#[test]
fn spsc_a_dead_consumers_item_is_lost_never_repeated() {
    model(|| {
        let q = Arc::new(Q::<2>::new());
        let producer = {
            let q = q.clone();
            thread::spawn(move || {
                let (mut pos, mut limit) = (q.producer_start(), 0);
                let known = pos + 2;
                for v in 1..=3 {
                    push(&q, &mut pos, &mut limit, known, v);
                }
            })
        };
        let dying = {
            let q = q.clone();
            thread::spawn(move || {
                let mut pos = q.consumer_start().0;
                let first = pop(&q, &mut pos, true);
                let second = pop(&q, &mut pos, false);
                (first, second)
            })
        };
        // The judge learns of the death after the dead thread's last access.
        assert_eq!(dying.join().unwrap(), (1, 2));
        let (mut pos, lost) = q.consumer_start();
        assert!(lost, "the dead consumer's taken item is seen as taken");
        q.release(pos - 1, Barrier::Full);
        assert_eq!(pop(&q, &mut pos, true), 3);
        producer.join().unwrap();
    });
}

/// A producer that published an item and died before moving `head`: its
/// successor walks over the published position and never overwrites it.
#[test]
fn spsc_a_dead_producers_published_item_is_kept() {
    model(|| {
        let q = Arc::new(Q::<2>::new());
        // The predecessor published position 0 and left `head` at 0.
        q.slots[0].value.with_mut(|slot| unsafe_write(slot, 1));
        q.publish(0, Barrier::Full);
        q.head.0.pos.store(0, Ordering::Relaxed);
        let successor = {
            let q = q.clone();
            thread::spawn(move || {
                let (mut pos, mut limit) = (q.producer_start(), 0);
                let known = pos + 2;
                push(&q, &mut pos, &mut limit, known, 2);
            })
        };
        let mut pos = q.consumer_start().0;
        assert_eq!(pop(&q, &mut pos, true), 1);
        assert_eq!(pop(&q, &mut pos, true), 2);
        successor.join().unwrap();
    });
}
