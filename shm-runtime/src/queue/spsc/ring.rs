//! The algorithm of [`SpscQueue`]: a ring of stamped slots between one
//! producer and one consumer at a time, in which neither side ever
//! writes a word the other writes (see the [module docs](super)).
//!
//! This file is the model-checked code: with `--cfg loom` its atomics and
//! its cell are loom's ([`crate::queue::atomic`]).
//!
//! # Words
//!
//! Position `p` lives in slot `p % N`, in lap `L = p / N`.
//!
//! * A slot's `stamp` is `L + 1` once the item of position `p` is
//!   published, and `L` (the previous lap's item, or zero) before: only
//!   the producer writes it.
//! * The consumer's word `tail` is `c << 1 | taken`: every position below
//!   `c` was consumed and its slot given back; `taken` says position `c`
//!   itself was taken (being read, or its reader died). Only the consumer
//!   writes it, never backwards.
//! * The producer's word `head` is its next position, stored after each
//!   publication (a hint for `len` and for the next producer, which walks
//!   over a position published without it).
//!
//! All zero is an empty queue: no item published, nothing consumed.
//!
//! # Why the two sides never touch one slot at once
//!
//! The consumer reads the slot of its position `c` only after it loaded
//! the stamp `lap(c) + 1`. The producer writes the slot of its position
//! `p` only if (room) `p < r + N`, where `r` is the consumer's `c` as it
//! last read it (`tail >> 1`, which never exceeds the consumer's current
//! `c`: its writes only grow, and each consumer starts from its
//! predecessor's), and (free) the slot's stamp is at most `lap(p)`, as
//! loaded, or as known from its own stores (see `room`); it stores
//! `lap(p) + 1` only after writing. Suppose both used slot
//! `p % N = c % N` at once. Room gives `p < c + N`, so `p = c - kN` for
//! some `k >= 0`. During the producer's write the stamp stays at most
//! `lap(p) <= lap(c)`, never the `lap(c) + 1` the consumer needs: so the
//! consumer loaded it before, and then it is `lap(c) + 1 > lap(p)` from
//! that load until the producer's own store, and the producer's free check
//! fails. This holds for any bytes the queue started with (a forged
//! segment): the worst a forged queue does is stay full or empty, or hand
//! out items nobody pushed (checked as every item is).

use crate::queue::fence::Barrier;
use core::sync::atomic::{compiler_fence, Ordering};

use super::SpscQueue;

/// The largest position a consumer reaches: `tail` holds `c << 1 | 1`.
/// (A consumer there finds the queue empty forever; only a forged queue
/// starts near it.)
pub(super) const LAST_POSITION: u64 = (u64::MAX >> 1) - 1;

/// What the producer finds at its position.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Room {
    /// The slot is free: write it, then [`SpscQueue::publish`].
    Free,
    /// The position was published already, by a producer that died before
    /// it moved `head` on: go on at the next one.
    Published,
    /// No room: the queue is full (or its bytes were forged).
    Full,
}

impl<T, const N: usize> SpscQueue<T, N> {
    /// The slot of position `pos`.
    #[inline(always)]
    pub(super) fn index(pos: u64) -> usize {
        (pos % N as u64) as usize
    }

    /// The lap of position `pos`.
    #[inline(always)]
    fn lap(pos: u64) -> u64 {
        pos / N as u64
    }

    /// Whether the producer may write position `pos`. `limit` caches the
    /// first position without room as the consumer's word last told (it
    /// is read again only when `pos` reaches it). From position `known`
    /// on (its first position plus `N`) a producer knows the stamp it
    /// would load: the one stored at `pos - N`, by itself or by the
    /// predecessor whose publication it walked over (only the producer
    /// side stores stamps), which is `lap(pos)`: free. It then never loads
    /// the slot's line before writing it, which would fetch it shared
    /// from the consumer that read it last, only to fetch it again,
    /// exclusive, for the write (two transfers between cores instead of
    /// one, in a ping-pong).
    #[inline(always)]
    pub(super) fn room(&self, pos: u64, limit: &mut u64, known: u64) -> Room {
        if pos >= *limit {
            // `Acquire`: pairs with the consumer's `Release` in `release`:
            // its reads of the slots it gave back happen before our writes.
            let released = self.tail.0.pos.load(Ordering::Acquire) >> 1;
            *limit = released.saturating_add(N as u64);
            if pos >= *limit {
                return Room::Full;
            }
        }
        if pos >= known {
            return Room::Free;
        }
        // `Relaxed`: only producers store stamps, one at a time (a new
        // producer's handle acquired its predecessor's stores).
        let stamp = self.slots[Self::index(pos)].stamp.load(Ordering::Relaxed);
        let lap = Self::lap(pos);
        if stamp <= lap {
            Room::Free
        } else if stamp == lap + 1 {
            Room::Published
        } else {
            Room::Full
        }
    }

    /// Whether the consumer's word gives room for position `pos`: a
    /// sleeping producer's last look (`SeqCst`, see `Barrier`).
    #[cfg_attr(all(test, loom), allow(dead_code))] // sleeping is not modelled
    pub(super) fn room_look(&self, pos: u64) -> bool {
        let released = self.tail.0.pos.load(Ordering::SeqCst) >> 1;
        pos < released.saturating_add(N as u64)
    }

    /// Publishes the item written at position `pos`, and moves `head` on.
    #[inline(always)]
    pub(super) fn publish(&self, pos: u64, barrier: Barrier) {
        // `Release`: pairs with the consumer's `Acquire` in `ready`: the
        // item's bytes happen before its read. For sleeping consumers, see
        // `Barrier` (the look for sleepers follows this store).
        self.slots[Self::index(pos)]
            .stamp
            .store(Self::lap(pos) + 1, barrier.store());
        self.head.0.pos.store(pos + 1, Ordering::Relaxed);
    }

    /// Whether the item of position `pos` is published (the consumer's
    /// look, with `order`: `Acquire`, or `SeqCst` for a sleeper's last look).
    #[inline(always)]
    pub(super) fn ready_with(&self, pos: u64, order: Ordering) -> bool {
        pos <= LAST_POSITION && self.slots[Self::index(pos)].stamp.load(order) == Self::lap(pos) + 1
    }

    /// Marks the item of position `pos` taken, before the consumer reads it:
    /// a consumer that dies after this point lost it (it may have acted on
    /// it), and the next consumer starts after it. No fence for that: the
    /// mark only matters to whoever judges this process dead, and a
    /// process's death, as another process learns it from the system,
    /// follows all of its stores; the compiler fence keeps the store before
    /// the reading.
    #[inline(always)]
    pub(super) fn take(&self, pos: u64) {
        // `Release`, not `Relaxed`: the producer may load this value rather
        // than the `release` store of `pos - 1` before it (both say
        // "released up to `pos`"), and must still find our reads of the
        // slot of `pos - 1` done before its write there. A relaxed store
        // would not carry that (it does not continue a release sequence,
        // and on Arm it may become visible before the earlier loads): the
        // model check found the race.
        self.tail.0.pos.store((pos << 1) | 1, Ordering::Release);
        compiler_fence(Ordering::SeqCst);
    }

    /// Gives the slot of position `pos` back to the producer, after the
    /// consumer read the item.
    #[inline(always)]
    pub(super) fn release(&self, pos: u64, barrier: Barrier) {
        // `Release`: pairs with the producer's `Acquire` in `room`. For
        // sleeping producers, see `Barrier`.
        self.tail.0.pos.store((pos + 1) << 1, barrier.store());
    }

    /// Where a new consumer starts, from the consumer's word: after the
    /// taken item of a consumer that died reading it (that item is lost:
    /// [`release`](Self::release) it, `true`), else at the next position.
    pub(super) fn consumer_start(&self) -> (u64, bool) {
        let tail = self.tail.0.pos.load(Ordering::Acquire);
        let pos = tail >> 1;
        if tail & 1 == 1 {
            (pos + 1, true)
        } else {
            (pos, false)
        }
    }

    /// The producer's position as `head` tells: a producer that died after
    /// publishing and before moving `head` left it one behind, which its
    /// successor's first push walks over ([`Room::Published`]).
    pub(super) fn producer_start(&self) -> u64 {
        self.head.0.pos.load(Ordering::Acquire)
    }

    /// The number of items, from the two words: exact at rest, otherwise
    /// approximate; at most `N`.
    pub(super) fn approx_len(&self) -> usize {
        let consumed = {
            let tail = self.tail.0.pos.load(Ordering::Relaxed);
            (tail >> 1) + (tail & 1)
        };
        let published = self.head.0.pos.load(Ordering::Relaxed);
        published.saturating_sub(consumed).min(N as u64) as usize
    }
}
