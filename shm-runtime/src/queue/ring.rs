//! The algorithm of [`ShmQueue`]: a bounded multi-producer multi-consumer
//! ring of sequence-numbered slots (Dmitry Vyukov's), in which every claim
//! of a slot names the claiming process in the slot's own word, so that a
//! process killed between its claim and its release can be recognised and
//! its slot given back (see the [module docs](super)).
//!
//! This file is the model-checked code: with `--cfg loom` its atomics and
//! its cell are loom's ([`super::atomic`]).
//!
//! # Slot words
//!
//! Position `p` of the ring lives in slot `p % N`, in *lap* `L = p / N`.
//! A slot's word is `stamp << 32 | pid`:
//!
//! | stamp | pid | the slot |
//! |---|---|---|
//! | `2L` | 0 | empty, waits for the producer of lap `L` |
//! | `2L` | a process | that producer writes the item |
//! | `2L + 1` | 0 | holds the item of lap `L`, waits for a consumer |
//! | `2L + 1` | a process | that consumer reads the item |
//! | `2L + 2` | 0 | empty, waits for the producer of lap `L + 1` |
//!
//! All zero is lap 0 of every slot, empty: an empty queue. The stamps are
//! relative to the slot (a lap, not a position), so zeroed memory needs no
//! initialization. A claim is one compare-and-swap of the word from "free"
//! (pid 0) to "claimed by me"; the release is one store of the next free
//! state. A claimed slot whose claimer died is released by whoever judges
//! the death: its stamp goes to the next even value ([`next_free`]), which
//! drops the item in flight (a producer's half-written one is never
//! visible; a consumer's was already taken).
//!
//! `head` and `tail` count the positions claimed by producers and by
//! consumers. They are hints (a claimer moves them right after its claim,
//! and anyone who meets a claimed or finished slot at the counter moves it
//! for them): the slot words decide. Every position below any value a
//! counter holds is claimed (or done): a counter moves to `p + 1` only
//! after position `p` was claimed, from a value with the same property.
//! The claimer's own move is a plain store, which may move the counter
//! back behind the moves of claimers that overtook it, *and stay there
//! after they all finished* (A claims `p` and loads `p`; B counts A's
//! claim, claims `p + 1` and stores `p + 2`; A stores `p + 1`): so a
//! counter lags the true count by any number of finished claims, until the
//! next claimer walks it forward. That is harmless to the claims: a
//! claimer that reads a lagging value only walks forward over claimed
//! slots: it never claims a position twice or out of order, and never
//! finds "full" or "empty" there (a claimed position's stamp is never
//! behind the one wanted), so "blocked" is only ever decided at the first
//! position not passed, as with an exact counter. The hint for sleepers
//! (`push_ready`, `pop_ready`) only errs towards "ready" on a lagging
//! counter: a spurious retry, never a missed wake-up.
//!
//! The length therefore never trusts the counters: [`approx_len`]
//! (`ShmQueue::len`) walks from each counter over the positions its side
//! passed, as the slot words tell ([`passed`]), so it is exact when no
//! claim is in progress. That walk costs one slot load per lagging
//! position or lap (at most `N + 1`, usually one), only in `len`, never in
//! a push or a pop.
//!
//! [`approx_len`]: ShmQueue::approx_len
//! [`passed`]: ShmQueue::passed

use super::atomic::AtomicU64;
use super::fence::Barrier;
use super::memory::ShmQueue;
use core::sync::atomic::Ordering;

/// The stamp of a slot word.
#[inline(always)]
pub(super) fn stamp(word: u64) -> u32 {
    (word >> 32) as u32
}

/// The process that claimed a slot word (0: none).
#[inline(always)]
pub(super) fn claimer(word: u64) -> u32 {
    word as u32
}

/// A slot word.
#[inline(always)]
pub(super) fn word(stamp: u32, pid: u32) -> u64 {
    (u64::from(stamp) << 32) | u64::from(pid)
}

/// The free word that follows a claimed `stamp`: the next lap's empty slot
/// (`2L + 2`), both after a consumer's claim (`2L + 1`: the item was taken)
/// and after a producer's (`2L`: its item is dropped unseen).
#[inline(always)]
pub(super) fn next_free(stamp: u32) -> u64 {
    word((stamp | 1).wrapping_add(1), 0)
}

/// The outcome of an attempt to claim a slot.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Claim {
    /// Claimed: slot `index`, whose word now carries `stamp` and our pid.
    Got {
        /// The slot.
        index: usize,
        /// Its stamp while we hold it.
        stamp: u32,
    },
    /// Nothing to claim: the queue is full (for a producer) or empty (for
    /// a consumer).
    Blocked,
    /// The slot at the counter is claimed by another process, which must
    /// release it first: its word was `word`. If that process is dead,
    /// [`ShmQueue::recover`] releases it.
    Stalled {
        /// The slot.
        index: usize,
        /// Its word as seen.
        word: u64,
    },
}

/// Which side claims.
#[derive(Clone, Copy)]
enum Side {
    Producer,
    Consumer,
}

impl<T, const N: usize> ShmQueue<T, N> {
    /// The stamp a slot carries, free, when position `pos` is next for
    /// `side`: `2L` for the producer of lap `L`, `2L + 1` for its consumer.
    #[inline(always)]
    fn wanted(pos: u64, side: Side) -> u32 {
        let lap = ((pos / N as u64) as u32).wrapping_mul(2);
        match side {
            Side::Producer => lap,
            Side::Consumer => lap | 1,
        }
    }

    /// Claims the next position for `side` on behalf of process `pid`.
    #[inline(always)]
    fn claim(&self, counter: &AtomicU64, side: Side, pid: u32, swap_first: bool) -> Claim {
        let mut pos = counter.load(Ordering::Relaxed);
        if swap_first {
            // A producer's first attempt tries the swap alone, expecting
            // the slot at the counter free for this lap: when it is (the
            // common case), that is one transfer of the slot's cache line,
            // where a load first takes it shared and the swap then takes it
            // again to write. Its later attempts (after "full") load first,
            // as a consumer always does: one polling an empty (or full)
            // queue must not take the line from the process that works on
            // that slot. Orderings as below.
            let index = (pos % N as u64) as usize;
            let want = Self::wanted(pos, side);
            if self.slots[index]
                .word
                .compare_exchange(
                    word(want, 0),
                    word(want, pid),
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                )
                .is_ok()
            {
                Self::count(counter, pos);
                return Claim::Got { index, stamp: want };
            }
        }
        loop {
            let index = (pos % N as u64) as usize;
            let slot = &self.slots[index];
            let want = Self::wanted(pos, side);
            // `Acquire`: pairs with the `Release` store that freed (or
            // filled) the slot, so that the previous holder's accesses to
            // the value happen before ours.
            let seen = slot.word.load(Ordering::Acquire);
            let ahead = stamp(seen).wrapping_sub(want) as i32;
            if ahead == 0 && claimer(seen) == 0 {
                // `Acquire` on success: as for the load above, for the word
                // the swap read. `Release`: a judge that finds our pid here
                // (loading the word with `Acquire`) also sees the namespace
                // record we wrote before (`users_ns`), so it never judges a
                // pid of another namespace by its own.
                match slot.word.compare_exchange_weak(
                    seen,
                    word(want, pid),
                    Ordering::AcqRel,
                    Ordering::Relaxed,
                ) {
                    Ok(_) => {
                        Self::count(counter, pos);
                        return Claim::Got { index, stamp: want };
                    }
                    Err(_) => continue,
                }
            }
            if ahead < 0 {
                // The slot still holds the previous lap's business (an item
                // not yet consumed; an empty slot whose producer has not
                // finished): the counter is current and nothing is free.
                return if claimer(seen) == 0 {
                    Claim::Blocked
                } else {
                    Claim::Stalled { index, word: seen }
                };
            }
            // Position `pos` was claimed by someone else (or is done, and
            // `pos` was stale): count it for them and try the next one.
            pos = match counter.compare_exchange(
                pos,
                pos.wrapping_add(1),
                Ordering::Relaxed,
                Ordering::Relaxed,
            ) {
                Ok(_) => pos.wrapping_add(1),
                Err(now) => now,
            };
        }
    }

    /// Counts the claim of position `pos` in `counter`, unless someone
    /// counted it already. A plain store, not a compare-and-swap (one locked
    /// instruction fewer per operation): another claimer may count further
    /// between our load and our store, which then moves the counter back to
    /// `pos + 1`, and leave it there behind finished claims. That is
    /// harmless: every position below any value the counter holds is
    /// claimed (see the module docs), so a claimer that reads a counter
    /// moved back walks forward over claimed slots, and `len` walks too
    /// (`passed`). `Relaxed`: the counter is a hint, the slot word carries
    /// every ordering.
    #[inline(always)]
    fn count(counter: &AtomicU64, pos: u64) {
        if counter.load(Ordering::Relaxed) == pos {
            counter.store(pos.wrapping_add(1), Ordering::Relaxed);
        }
    }

    /// Claims the next free slot for writing an item, for process `pid`.
    #[inline(always)]
    pub(super) fn claim_push(&self, pid: u32) -> Claim {
        self.claim(&self.head.0, Side::Producer, pid, true)
    }

    /// [`claim_push`](Self::claim_push) after it found the queue full: the
    /// slot is read before it is swapped (see [`claim`](Self::claim)).
    #[inline(always)]
    #[cfg_attr(all(test, loom), allow(dead_code))] // the models claim with `claim`
    pub(super) fn claim_push_again(&self, pid: u32) -> Claim {
        self.claim(&self.head.0, Side::Producer, pid, false)
    }

    /// Claims the next item for reading, for process `pid`.
    #[inline(always)]
    pub(super) fn claim_pop(&self, pid: u32) -> Claim {
        self.claim(&self.tail.0, Side::Consumer, pid, false)
    }

    /// Makes the item written into slot `index` (claimed with `stamp`)
    /// visible to consumers.
    #[inline(always)]
    pub(super) fn publish(&self, index: usize, stamp: u32, barrier: Barrier) {
        // `Release`: pairs with a consumer's `Acquire` load and swap in
        // `claim`: the item's bytes happen before its read. With the
        // sleepers' count read after it (`notify`) against a sleeper's
        // registration and last look (`Sleep::wait`), either the sleeper
        // sees this store or we see its registration: `SeqCst` both, or
        // (`Barrier::Light`) a compiler fence here and a process-wide
        // barrier on the sleeper's side (see `Barrier`).
        self.slots[index]
            .word
            .store(word(stamp.wrapping_add(1), 0), barrier.store());
    }

    /// Releases slot `index` (claimed with `stamp`) without an item: after
    /// a consumer read it, or after a producer gave up writing it (its
    /// bytes are never read).
    #[inline(always)]
    pub(super) fn release(&self, index: usize, stamp: u32, barrier: Barrier) {
        // `Release`: pairs with the next producer's `Acquire` in `claim`:
        // our accesses to the value happen before its writes. For sleeping
        // producers, as in `publish`.
        self.slots[index]
            .word
            .store(next_free(stamp), barrier.store());
    }

    /// Releases slot `index`, seen claimed as `seen` by a process that was
    /// judged dead: `true` if this call released it (`false`: it changed
    /// meanwhile, someone else did).
    pub(super) fn recover(&self, index: usize, seen: u64) -> bool {
        // `AcqRel`: acquire what the dead claimer wrote (nothing reads it
        // again, but the next holder's writes then follow it); release to
        // the next claimer as `release` does; `SeqCst` for sleepers, as in
        // `publish`.
        self.slots[index]
            .word
            .compare_exchange(
                seen,
                next_free(stamp(seen)),
                Ordering::SeqCst,
                Ordering::Relaxed,
            )
            .is_ok()
    }

    /// The positions `side` has passed (claimed, finished, or skipped as a
    /// dead producer's), as the slot words tell, from `counter` on: exact
    /// when no claim is in progress, whatever the counter's lag.
    ///
    /// A counter may lag behind finished claims (a claimer's plain store
    /// can move it back, see [`claim`](Self::claim)), so it is only where
    /// the walk starts. The passed positions are a prefix of all positions
    /// (a claimer takes `p` only after walking over every position from
    /// some counter value to `p`, each seen passed), so position `p` is
    /// passed iff its slot's word is not behind `p`'s lap for `side`, and
    /// the word tells the latest lap of that slot that `side` passed: the
    /// walk jumps there. The first jump lands within `N` positions of the
    /// true count (the slot's latest passed position is at most `N` below
    /// it), each later step moves one position at least: at most
    /// `min(lag, N) + 1` slot loads (one for a counter that does not lag).
    /// With forged words the walk stops after `N + 1` loads anyway.
    fn passed(&self, counter: &AtomicU64, side: Side) -> u64 {
        let mut pos = counter.load(Ordering::Relaxed);
        for _ in 0..=N {
            let seen = self.slots[(pos % N as u64) as usize]
                .word
                .load(Ordering::Relaxed);
            // The word's stamp ahead of the one `side` wants at `pos`, with
            // its claimer: 0 and none, or behind: `pos` not passed (free for
            // `side`, or the slot still holds the lap before); 0 and a pid:
            // `side` claimed `pos`; 1: `side` finished it (a pid: the other
            // side's claim); 2 and none: still only `pos` passed (the other
            // side finished too); 2 and a pid: `side` claimed `pos + N`; and
            // so on. So `(ahead + claimed - 1) / 2` is how many laps beyond
            // `pos`'s this slot was passed, if that is not negative.
            let ahead = i64::from(stamp(seen).wrapping_sub(Self::wanted(pos, side)) as i32);
            let half_laps = ahead + i64::from(claimer(seen) != 0) - 1;
            if half_laps < 0 {
                break;
            }
            // Position `pos + laps * N` was passed, so every one below it
            // was too: go on after it. (At most 2^30 laps of at most 2^31
            // positions: no overflow of 64 bits; wrapping for forged words.)
            let laps = half_laps as u64 / 2;
            pos = pos
                .wrapping_add(laps.wrapping_mul(N as u64))
                .wrapping_add(1);
        }
        pos
    }

    /// The number of items: exact when no claim is in progress (the counters
    /// are walked forward over the positions passed, see [`passed`](Self::passed));
    /// otherwise approximate (the two sides are read one after the other,
    /// and the items being written or read may or may not count). At most
    /// `N`. Not used by pushes and pops: its cost is never on the fast path.
    pub(super) fn approx_len(&self) -> usize {
        let tail = self.passed(&self.tail.0, Side::Consumer);
        let head = self.passed(&self.head.0, Side::Producer);
        (head.saturating_sub(tail)).min(N as u64) as usize
    }
}
