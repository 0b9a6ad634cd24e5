//! The robust lock under every [`ShmMutex`](super::ShmMutex): its lock word
//! and owner records ([`Lock`], the mutex's first 40 bytes), taking and
//! releasing it, judging a holder dead and taking the lock over, and
//! reading a foreign mutex's records ([`probe`]).
//!
//! The lock word is 64 bits. Its low half (as a number) is the futex word:
//!
//! | bits | |
//! |---|---|
//! | 0..20 | the holder's *token* (0: unlocked) |
//! | 20..31 | the epoch: how many times the lock was taken, modulo 2^11 |
//! | 31 | `WAITERS`: a thread may sleep in the kernel; unlocking wakes one |
//!
//! and its high half is the holder's process id (0 when unlocked). One
//! compare-and-swap takes the lock and names the holder's process at once,
//! so a holder killed at any instruction after it took the lock is found by
//! its pid; one compare-and-swap (expecting the word it wrote) releases it,
//! keeping the epoch. Every Rust access is to the whole `AtomicU64`; the
//! kernel's futex calls read the low half.
//!
//! The token is not an OS thread id: it is a small number unique among the
//! live threads of the holder's process ([`ThreadSlot::token`](crate::process::ThreadSlot::token)), handed on
//! to a later thread only once a thread ends holding no guard (a thread
//! that ends with a leaked guard keeps its token for good). So the word does
//! not depend on how wide the OS's thread ids are (64-bit and system-wide
//! on macOS, from 100000 up on FreeBSD), and (pid, token) names one thread
//! for as long as a lock it took may be held. The OS ids and times live in
//! the records, which only the holder writes, right after it took the lock:
//!
//! * `owner`: the low half of the word it wrote (without `WAITERS`) in the
//!   high 32 bits, its process's start time (0: unknown) in the low ones.
//!   It describes the current holder only when its high half equals the
//!   word's low half (with the epoch, an older record matches only after
//!   2^11 acquisitions none of which recorded itself). It is not cleared on
//!   unlock: a free word (token 0) matches no record.
//! * `owner_thread`: the holder's OS thread id, for diagnostics
//!   ([`probe`]); nothing is judged by it.
//! * `owner_ns`: the PID and time namespaces of every process that locked
//!   the mutex (written *before* taking the lock), which decides whether a
//!   pid and a start time can be judged here.
//!
//! A waiter judges a holder by its process: dead when the pid names no
//! process, a zombie, or a process with another start time than the record
//! says (a recorded holder), all only when every locker ran in the judge's
//! namespaces. A thread is "certainly this thread" when the word carries its
//! token and pid, the namespaces are its own, and the record carries its
//! process's start time (a process with a reused pid has another one).
//!
//! Nothing here needs Linux thread ids: a port supplies a pid, a process
//! start time (or none: then a reused pid is not recognised) and a
//! namespace key.

use super::futex::{self, Deadline, Wake};
use crate::liveness::{self as owner, Me, Status};
use std::mem::{align_of, offset_of, size_of};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::Duration;

/// Lock word bits 0..20: the holder's token (0: unlocked).
pub(crate) const TOKEN: u32 = crate::liveness::MAX_TOKEN;
/// Lock word bits 20..31: how many times the lock was taken, modulo 2^11.
/// A compare-and-swap on the whole word therefore fails if the lock was
/// released and taken again meanwhile, even by the same thread.
pub(super) const EPOCH: u64 = 0x7ff << 20;
pub(super) const EPOCH_ONE: u64 = 1 << 20;
/// Lock word bit 31: a thread may sleep in the kernel waiting for the lock,
/// and unlocking must wake one.
pub(super) const WAITERS: u64 = 1 << 31;
/// Lock word bits 32..64: the holder's process id (0: unlocked).
pub(super) const PID_SHIFT: u32 = 32;
/// `owner_ns` once lockers from several PID namespaces met.
pub(super) const MIXED_NS: u64 = u64::MAX;
/// The longest a waiter sleeps before it checks whether the holder died.
pub(super) const MAX_SLICE: Duration = Duration::from_millis(50);
/// The first such sleep.
pub(super) const FIRST_SLICE: Duration = Duration::from_millis(1);

/// The token of a lock word: 0 when it is free.
#[inline]
pub(super) fn token_of(word: u64) -> u32 {
    word as u32 & TOKEN
}

/// The process id of a locked word.
#[inline]
pub(super) fn pid_of(word: u64) -> u32 {
    (word >> PID_SHIFT) as u32
}

/// The futex half of a lock word: what the kernel compares.
#[inline]
pub(super) fn futex_half(word: u64) -> u32 {
    word as u32
}

/// The lock word and the owner records: the first fields of an
/// [`ShmMutex`](super::ShmMutex), with the same names in its layout.
#[repr(C)]
pub(crate) struct Lock {
    /// 0: unlocked, never used. Else the holder's process id (high half)
    /// and `WAITERS | epoch | token` (low half, the futex word); unlocking
    /// keeps only the epoch. See the [module documentation](self).
    pub(super) word: AtomicU64,
    /// 1 when a previous owner died (or panicked) and nobody has called
    /// `mark_consistent` since. Read and written with the lock held.
    pub(super) inconsistent: AtomicU32,
    /// Always 0 (room for a later protocol's flags).
    pub(super) reserved: AtomicU32,
    /// The holder's record, written by the holder right after it takes the
    /// lock: the low half of the lock word it wrote (without `WAITERS`) in
    /// the high half, its process's start time (0: unknown) in the low
    /// half. Only a record whose high half equals the current word's low
    /// half describes the current holder; it is not cleared on unlock.
    pub(super) owner: AtomicU64,
    /// The holder's OS thread id, written just before `owner`: diagnostics
    /// only (it may lag behind a lock that just changed hands).
    pub(super) owner_thread: AtomicU64,
    /// The PID and time namespaces ([`owner::namespace_key`]) of every
    /// thread that locked the mutex (0: none yet; `MIXED_NS`: more than
    /// one), which decides whether a holder's pid and start time can be
    /// judged.
    pub(super) owner_ns: AtomicU64,
}

/// How long [`Lock::acquire`] may wait.
#[derive(Clone, Copy)]
pub(super) enum Wait<'d> {
    /// Not at all (`try_lock`).
    No,
    /// Until the deadline (`lock_timeout`).
    Until(&'d Deadline),
    /// As long as it takes (`lock`).
    Forever,
    /// As long as it takes, and never [`Busy::ByMe`]: the condition
    /// variable re-locking a mutex this thread just released.
    Relock,
}

/// Why [`Lock::acquire`] did not take the lock.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Busy {
    /// Held by a live (or unjudgeable) thread until the deadline.
    Held,
    /// Held by this very thread.
    ByMe,
}

impl Lock {
    /// A lock nobody used yet (all zero).
    pub(super) const fn new() -> Lock {
        Lock {
            word: AtomicU64::new(0),
            inconsistent: AtomicU32::new(0),
            reserved: AtomicU32::new(0),
            owner: AtomicU64::new(0),
            owner_thread: AtomicU64::new(0),
            owner_ns: AtomicU64::new(0),
        }
    }

    /// Takes the lock; returns the word written, and who wrote it.
    #[inline(always)]
    pub(super) fn acquire(&self, wait: Wait<'_>) -> std::result::Result<(u64, Me), Busy> {
        let me = owner::me();
        self.record_namespace(me.ns);
        let word = self.word.load(Ordering::Relaxed);
        if token_of(word) == 0 {
            let mine = next(word, me, 0);
            // `AcqRel`: acquire the last holder's writes; release our
            // namespace record to whoever judges our pid.
            if self
                .word
                .compare_exchange(word, mine, Ordering::AcqRel, Ordering::Relaxed)
                .is_ok()
            {
                self.record_owner(mine, me);
                return Ok((mine, me));
            }
        }
        self.acquire_slow(me, wait).map(|word| (word, me))
    }

    #[cold]
    #[inline(never)]
    pub(super) fn acquire_slow(&self, me: Me, wait: Wait<'_>) -> std::result::Result<u64, Busy> {
        // Once this thread has slept, other waiters may sleep too: whoever
        // takes the lock after a sleep keeps `WAITERS`, so that its unlock
        // wakes the next one (a spurious wake-up at worst).
        let mut waiters = 0;
        let mut slice = FIRST_SLICE;
        let mut check = false;
        // The word as last seen (every failed compare-and-swap tells it),
        // or a guess: `None` means "load it".
        let mut seen = None;
        loop {
            let word = match seen.take() {
                Some(word) => word,
                None => self.word.load(Ordering::Acquire),
            };
            if token_of(word) == 0 {
                let mine = next(word, me, waiters);
                match self
                    .word
                    .compare_exchange(word, mine, Ordering::AcqRel, Ordering::Acquire)
                {
                    Ok(_) => {
                        self.record_owner(mine, me);
                        return Ok(mine);
                    }
                    Err(now) => {
                        seen = Some(now);
                        continue;
                    }
                }
            }
            // The records are read only when the word names this thread:
            // waiters leave the line to the holder.
            if !matches!(wait, Wait::Relock) && names(word, me) && self.held_by(word, me) {
                return Err(Busy::ByMe);
            }
            let expired = match wait {
                Wait::No => true,
                Wait::Until(deadline) => deadline.passed(),
                Wait::Forever | Wait::Relock => false,
            };
            if check || expired {
                let seen = self.owner.load(Ordering::Acquire);
                if holder_alive(word, seen, self.owner_ns.load(Ordering::Acquire), me)
                    == Some(false)
                {
                    if let Some(mine) = self.take_over(word, seen, me) {
                        return Ok(mine);
                    }
                    continue;
                }
            }
            if expired {
                if waiters != 0 {
                    self.pass_on_wake();
                }
                return Err(Busy::Held);
            }
            check = false;
            // No spinning: a waiter that keeps reading the word pulls its
            // cache line away from the holder in the middle of its critical
            // section (glibc's waiters also go straight to sleep).
            if word & WAITERS == 0
                && self
                    .word
                    .compare_exchange(word, word | WAITERS, Ordering::Relaxed, Ordering::Relaxed)
                    .is_err()
            {
                continue;
            }
            waiters = WAITERS;
            let sleep = match wait {
                Wait::Until(deadline) => slice.min(deadline.remaining()),
                _ => slice,
            };
            let expected = futex_half(word | WAITERS);
            if futex::wait_low(&self.word, expected, Some(&Deadline::after(sleep)))
                == Wake::TimedOut
            {
                // Held all along: is the holder still alive?
                check = true;
                slice = (slice * 2).min(MAX_SLICE);
            } else {
                // Most likely woken by the unlock, which left the epoch
                // alone: try the free word at once (a wrong guess only
                // fails, and tells the word), instead of loading the line
                // and then taking it for writing.
                seen = Some(word & EPOCH);
            }
        }
    }

    /// This thread slept on the lock and gives up (its time ran out): it
    /// may have been woken by an unlock whose lock another thread took
    /// first, without `WAITERS`. Other sleepers must not depend on the wake
    /// it swallowed: make sure the next unlock wakes one, or wake one now.
    #[cold]
    pub(super) fn pass_on_wake(&self) {
        let now = self.word.load(Ordering::Relaxed);
        if now & WAITERS != 0 {
            return;
        }
        if token_of(now) == 0
            || self
                .word
                .compare_exchange(now, now | WAITERS, Ordering::Relaxed, Ordering::Relaxed)
                .is_err()
        {
            futex::wake_low(&self.word, 1);
        }
    }

    /// Takes the lock from a holder judged dead, whose word was `word` and
    /// record `seen`: `None` if the lock changed hands meanwhile.
    pub(super) fn take_over(&self, mut word: u64, seen: u64, me: Me) -> Option<u64> {
        loop {
            // The judgement holds only for the holder it judged: the record
            // must be the one it read, right before the swap (with the
            // epoch in the word, a new holder with the same word would also
            // have to write the same record).
            if self.owner.load(Ordering::Acquire) != seen {
                return None;
            }
            // Keep `WAITERS`: others may sleep on the dead holder's lock.
            let mine = next(word, me, WAITERS);
            match self
                .word
                .compare_exchange(word, mine, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    // Dying right here is fine: we hold the lock, and the
                    // next locker judges us dead in turn.
                    self.inconsistent.store(1, Ordering::Relaxed);
                    self.record_owner(mine, me);
                    return Some(mine);
                }
                // Only `WAITERS` changed: the same dead holder.
                Err(now) if now & !WAITERS == word & !WAITERS => word = now,
                Err(_) => return None,
            }
        }
    }

    /// Records this thread as the holder of `word`, which it just wrote.
    #[inline]
    pub(super) fn record_owner(&self, word: u64, me: Me) {
        self.owner_thread.store(me.tid, Ordering::Relaxed);
        self.owner
            .store(record(word, me.process_start), Ordering::Release);
    }

    /// Whether `word` (locked) certainly names this very thread.
    pub(super) fn held_by(&self, word: u64, me: Me) -> bool {
        held_by(
            word,
            self.owner.load(Ordering::Acquire),
            self.owner_ns.load(Ordering::Acquire),
            me,
        )
    }

    /// Records this thread's namespaces `mine` before it takes the lock:
    /// whoever judges its pid must see them.
    #[inline]
    pub(super) fn record_namespace(&self, mine: u64) {
        let seen = self.owner_ns.load(Ordering::Relaxed);
        if seen == mine || seen == MIXED_NS {
            return;
        }
        self.record_new_namespace(mine);
    }

    #[cold]
    pub(super) fn record_new_namespace(&self, mine: u64) {
        match self
            .owner_ns
            .compare_exchange(0, mine, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {}
            Err(seen) if seen == mine || seen == MIXED_NS => {}
            Err(_) => self.owner_ns.store(MIXED_NS, Ordering::Release),
        }
    }

    /// Releases the lock that this thread took by writing `word`.
    #[inline]
    pub(super) fn release(&self, word: u64) {
        // Keep the epoch; `Release` publishes the value. The record stays: it
        // names this acquisition only, which the free word does not.
        let mut current = word;
        loop {
            match self.word.compare_exchange(
                current,
                word & EPOCH,
                Ordering::Release,
                Ordering::Relaxed,
            ) {
                Ok(old) => {
                    if old & WAITERS != 0 {
                        self.wake_one();
                    }
                    return;
                }
                // A waiter set `WAITERS`.
                Err(now) if now & !WAITERS == word => current = now,
                // Not ours any more: the bytes were overwritten (through a guard
                // of an enclosing value, say). Leave the lock alone.
                Err(_) => return,
            }
        }
    }

    #[cold]
    #[inline(never)]
    fn wake_one(&self) {
        futex::wake_low(&self.word, 1);
    }
}

/// The word thread `me` writes to take the lock that held `word`: the next
/// epoch, its pid and token, and `waiters`.
#[inline]
pub(super) fn next(word: u64, me: Me, waiters: u64) -> u64 {
    (word.wrapping_add(EPOCH_ONE) & EPOCH) | me.ids() | waiters
}

/// Whether a locked `word` carries this thread's pid and token (which is
/// not yet certain to be this thread: see [`held_by`]).
#[inline]
pub(super) fn names(word: u64, me: Me) -> bool {
    word & !(WAITERS | EPOCH) == me.ids()
}

/// A holder's record (see `ShmMutex::owner`).
pub(super) fn record(word: u64, start: u32) -> u64 {
    (u64::from(futex_half(word & !WAITERS)) << 32) | u64::from(start)
}

/// The start time in the record `owner` if it describes the holder that
/// wrote the locked `word` (0: unknown); `None` if it describes another.
pub(super) fn recorded_start(word: u64, owner: u64) -> Option<u32> {
    (owner >> 32 == u64::from(futex_half(word & !WAITERS))).then_some(owner as u32)
}

/// Whether the lock word `word`, with the holder record `owner` and the
/// namespace record `owner_ns`, certainly names this very thread: same
/// namespaces, same pid and token, and the record carries this process's
/// start time (a process that had this pid before has another one; without
/// a start time of its own, a process cannot tell itself from it: then it
/// is not sure, and says no). Tokens tell the threads of one process apart
/// and are never reused while a guard of their thread may live.
pub(super) fn held_by(word: u64, owner: u64, owner_ns: u64, me: Me) -> bool {
    names(word, me)
        && owner_ns == me.ns
        && me.process_start != 0
        && recorded_start(word, owner) == Some(me.process_start)
}

/// Whether the holder named by a locked `word` (with the record `owner`
/// and `owner_ns`) is alive: `None` when it cannot be judged from here
/// (free, or another PID or time namespace used the lock). Makes a system
/// call or a few: `kill(pid, 0)`, and reads of `/proc/<pid>`.
///
/// A holder is judged by its *process*: it is dead only once its process is
/// gone, a zombie as a whole, or its pid names another process (another
/// start time). A thread that ended holding the lock in a process that
/// lives on holds it forever, like a leaked guard of std's `Mutex`: a
/// reference derived from its guard may still be in use by another thread.
pub(super) fn holder_alive(word: u64, owner: u64, owner_ns: u64, me: Me) -> Option<bool> {
    if token_of(word) == 0 || owner_ns != me.ns {
        return None;
    }
    let pid = pid_of(word);
    // No record of this acquisition yet: the holder took the lock with its
    // compare-and-swap and has not written its record (the next few
    // instructions, with no way out in between: no call that could unwind
    // or end the thread). The word names its process: judged by its pid
    // alone.
    let start = recorded_start(word, owner).unwrap_or(0);
    // `/proc` is only consulted when it names this process's threads as
    // `gettid` does; start times are only compared when both were read in
    // one time namespace (equal `owner_ns`, known).
    Some(match owner::status(pid, me.proc_ok) {
        Status::Gone | Status::Zombie => false,
        Status::Alive(Some(now)) => !me.starts_comparable || start == 0 || now == start,
        Status::Alive(None) => true,
    })
}

/// How many bytes of an [`ShmMutex`](super::ShmMutex) [`probe`] reads: everything but
/// the value (its [`Lock`]).
pub(crate) const PROBE_LEN: usize = size_of::<Lock>();

/// Every `ShmMutex<T>` lies at a multiple of this alignment.
pub(crate) const PROBE_ALIGN: usize = align_of::<Lock>();

/// What [`probe`] read from bytes that look like an `ShmMutex` in use.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Probed {
    /// The OS thread id the holder recorded (low 32 bits), 0 when the lock
    /// is free or its holder has not recorded itself.
    pub(crate) holder_tid: u32,
    /// Whether the holder is alive, judged from this thread: `None` when the
    /// lock is free or cannot be judged (another PID namespace used it).
    pub(crate) holder_alive: Option<bool>,
    /// A previous owner died or panicked and nobody has called
    /// `mark_consistent` since.
    pub(crate) inconsistent: bool,
}

/// Reads `bytes` (at least [`PROBE_LEN`], copied from where an `ShmMutex`
/// may lie) and, if they look like an `ShmMutex` that was used, returns
/// what they say. The signature: the namespace record is this process's
/// namespaces, "several", or 32-bit values in the range the kernel gives
/// namespace inodes (from `0xEFFFFFF0`); the flag is 0 or 1 and the
/// reserved word 0; a free lock word has no waiter bit and no pid, a locked
/// one a pid; the holder record is empty, or names the locked word, or (a
/// free word keeps it) the last holder's acquisition of this epoch. A
/// heuristic: other data could match by chance, and a mutex never locked
/// (all zero) is not found.
pub(crate) fn probe(bytes: &[u8]) -> Option<Probed> {
    let bytes = bytes.get(..PROBE_LEN)?;
    let u32_at = |o: usize| u32::from_ne_bytes(bytes[o..o + 4].try_into().expect("4 bytes"));
    let u64_at = |o: usize| u64::from_ne_bytes(bytes[o..o + 8].try_into().expect("8 bytes"));
    let word = u64_at(offset_of!(Lock, word));
    let inconsistent = u32_at(offset_of!(Lock, inconsistent));
    let reserved = u32_at(offset_of!(Lock, reserved));
    let owner = u64_at(offset_of!(Lock, owner));
    let thread = u64_at(offset_of!(Lock, owner_thread));
    let owner_ns = u64_at(offset_of!(Lock, owner_ns));
    let me = owner::me();
    // Namespace inodes are 32-bit numbers from `0xEFFFFFF0` up; the time
    // namespace's (high half) is 0 when unknown.
    let inode_like = |n: u64| (0xEFFF_FFF0..=0xFFFF_FFFF).contains(&n);
    let ns_like = owner_ns == me.ns
        || owner_ns == MIXED_NS
        || (inode_like(owner_ns & 0xFFFF_FFFF)
            && (owner_ns >> 32 == 0 || inode_like(owner_ns >> 32)));
    let free = token_of(word) == 0;
    let word_like = if free {
        word & !EPOCH == 0
    } else {
        pid_of(word) != 0
    };
    let recorded = !free && recorded_start(word, owner).is_some();
    let owner_tie = (owner >> 32) as u32;
    let owner_like = owner == 0
        || recorded
        || (!free && thread == 0)
        || (free && owner_tie & TOKEN != 0 && u64::from(owner_tie) & EPOCH == word & EPOCH);
    if !ns_like || inconsistent > 1 || reserved != 0 || !word_like || !owner_like {
        return None;
    }
    Some(Probed {
        holder_tid: if recorded { thread as u32 } else { 0 },
        holder_alive: holder_alive(word, owner, owner_ns, me),
        inconsistent: inconsistent == 1,
    })
}
