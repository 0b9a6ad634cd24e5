//! In-process tests of [`SpscQueue`]: the handles' exclusivity, panics in
//! the closures, invalid items and forged bytes. (Across processes:
//! the workspace's `tests/spsc.rs` and `tests/spsc_kill.rs`.)

use super::SpscQueue;
use crate::ErrorKind;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// One handle per side at a time, in this process too; dropping a handle
/// gives its side back, and the queue goes on where it was.
#[test]
fn each_side_is_held_by_one_handle_until_dropped() {
    let q = SpscQueue::<u32, 4>::new();
    let mut tx = q.producer().unwrap();
    assert_eq!(q.producer().unwrap_err().kind(), ErrorKind::Busy);
    let rx = q.consumer().unwrap();
    let err = q.consumer().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Busy);
    assert!(err.to_string().contains("consumer side"), "{err}");
    tx.push(1);
    tx.push(2);
    drop(tx);
    drop(rx);
    let mut rx = q.consumer().unwrap();
    assert_eq!(rx.try_pop().unwrap(), Some(1));
    let mut tx = q.producer().unwrap();
    tx.push(3);
    assert_eq!(rx.try_pop().unwrap(), Some(2));
    assert_eq!(rx.try_pop().unwrap(), Some(3));
    assert_eq!(rx.try_pop().unwrap(), None);
    assert!(q.is_empty());
}

/// A full queue refuses a push (and gives the value back) until a pop
/// makes room, over several laps of the ring.
#[test]
fn a_full_queue_gives_the_value_back_and_laps_keep_order() {
    let q = SpscQueue::<u64, 3>::new();
    let (mut tx, mut rx) = (q.producer().unwrap(), q.consumer().unwrap());
    let mut next = 0;
    for lap in 0..10u64 {
        while tx.try_push(next).is_ok() {
            next += 1;
        }
        assert_eq!(q.len(), 3);
        assert_eq!(tx.try_push(99), Err(99));
        assert_eq!(tx.push_timeout(98, Duration::from_millis(1)), Err(98));
        for i in 0..3 {
            assert_eq!(rx.try_pop().unwrap(), Some(lap * 3 + i));
        }
    }
    assert_eq!(
        rx.pop_timeout(Duration::from_millis(1)).unwrap_err().kind(),
        ErrorKind::TimedOut
    );
}

/// A panic in `push_with` publishes nothing (the next push writes that
/// slot); one in `pop_with` consumes the item.
#[test]
fn panics_in_the_closures_publish_nothing_and_consume_the_item() {
    let q = SpscQueue::<u64, 2>::new();
    let (mut tx, mut rx) = (q.producer().unwrap(), q.consumer().unwrap());
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        tx.push_with(|item| {
            *item = 7;
            panic!("writer fails");
        })
    }));
    assert!(panicked.is_err());
    assert_eq!(rx.try_pop().unwrap(), None, "nothing was published");
    tx.push(1);
    tx.push(2);
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        rx.pop_with(|_| panic!("reader fails"))
    }));
    assert!(panicked.is_err());
    assert_eq!(
        rx.try_pop().unwrap(),
        Some(2),
        "the item read in the panic was consumed"
    );
}

/// An item with bytes no value has (written outside the protocol) is
/// consumed and reported; the next one comes.
#[test]
fn an_invalid_item_is_an_error_then_the_next_item_comes() {
    let q = SpscQueue::<bool, 4>::new();
    let (mut tx, mut rx) = (q.producer().unwrap(), q.consumer().unwrap());
    tx.push(true);
    tx.push(false);
    q.slots[0].value.with_mut(|slot| {
        // SAFETY: nobody else uses this queue; the slot holds a published
        // item, whose byte is overwritten with one no `bool` has.
        unsafe { slot.cast::<u8>().write(2) }
    });
    let err = rx.try_pop().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidValue);
    assert!(err.to_string().contains("SpscQueue<bool, 4>"), "{err}");
    assert_eq!(rx.try_pop().unwrap(), Some(false));
}

/// Forged words (positions, stamps, items at random) make no undefined behaviour (Miri
/// checks the accesses) and no hang: the calls return, with items checked
/// or nothing.
#[test]
fn forged_words_make_a_queue_that_returns_and_checks() {
    let mut seed = 0x9E37_79B9_7F4A_7C15u64;
    let (mut popped, mut invalid) = (0, 0);
    let rounds = if cfg!(miri) { 4 } else { 200 };
    for _ in 0..rounds {
        let q = SpscQueue::<bool, 4>::new();
        let mut next = |below: u64| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            seed % below
        };
        // Small words, so that the forged positions and stamps meet each
        // other's ranges (huge ones only leave the queue full or empty).
        q.head.0.pos.store(next(12), Ordering::Relaxed);
        q.tail.0.pos.store(next(24), Ordering::Relaxed);
        for slot in &q.slots {
            slot.stamp.store(next(5), Ordering::Relaxed);
            let byte = next(3) as u8;
            // SAFETY: nobody else uses the queue; any byte is a valid
            // `MaybeUninit<bool>`.
            slot.value
                .with_mut(|v| unsafe { v.cast::<u8>().write(byte) });
        }
        // Forged holder words name some pid, judged only within one
        // namespace record (forged too): free them, to use the rest.
        q.head.0.owner.store(0, Ordering::Relaxed);
        q.tail.0.owner.store(0, Ordering::Relaxed);
        let (mut tx, mut rx) = (q.producer().unwrap(), q.consumer().unwrap());
        for i in 0..6 {
            let _ = tx.try_push(i % 2 == 0);
            match rx.try_pop() {
                Ok(Some(_)) => popped += 1,
                Ok(None) => {}
                Err(e) => {
                    assert_eq!(e.kind(), ErrorKind::InvalidValue);
                    invalid += 1;
                }
            }
        }
        assert!(q.len() <= 4);
    }
    // The forged rounds did reach items, valid and invalid ones (else this
    // test would check nothing).
    if !cfg!(miri) {
        assert!(
            popped > 0 && invalid > 0,
            "popped {popped}, invalid {invalid}"
        );
    }
}
