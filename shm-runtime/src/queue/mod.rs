//! [`ShmQueue<T, N>`]: a bounded FIFO of plain `SharedSafe` values between
//! any number of producers and consumers in any processes, without a lock
//! on its fast path, that a process killed at any instant cannot block for
//! long.
//!
//! ```
//! use shm_runtime::{init, queue::ShmQueue};
//! use shm_runtime::Shared;
//!
//! // Zeroed memory is an empty queue: nothing is built on the stack.
//! let jobs = Shared::<ShmQueue<u64, 1024>>::anonymous(init::zeroed())?;
//! jobs.push(7);
//! assert_eq!(jobs.try_push(8), Ok(()));
//! assert_eq!(jobs.len(), 2);
//! assert_eq!(jobs.pop()?, 7);
//! assert_eq!(jobs.try_pop()?, Some(8));
//! assert_eq!(jobs.try_pop()?, None);
//! # Ok::<(), shm_runtime::Error>(())
//! ```
//!
//! # The guarantees
//!
//! * **Exactly once, FIFO per producer.** Every item pushed is popped at
//!   most once; items are claimed by consumers in the order their producers
//!   claimed their slots, so the items of one producer reach any one
//!   consumer in the order they were pushed. (Between consumers, "first" is
//!   the order of claims: two consumers may finish in either order.)
//! * **No lock on the fast path.** A push is a compare-and-swap on its
//!   slot, a plain store moving the producers' counter, one store of the
//!   slot's owner record, the item's bytes, and one store publishing it; a
//!   pop likewise. Neither side makes a
//!   system call while nobody sleeps: sleepers register in a count that the
//!   other side reads after each operation, and only then wakes them
//!   (`futex` on Linux).
//! * **Not lock-free in the strict sense.** Like every queue of Vyukov's
//!   design, a claimed slot is a small lock on its position: consumers
//!   reach the items in order, so a producer that claimed a slot and is
//!   *alive but slow* (descheduled, stopped with `SIGSTOP` or a debugger,
//!   or running a long [`push_with`](ShmQueue::push_with) closure) makes
//!   every consumer that reaches its position wait until it publishes,
//!   even while later items are ready. Likewise a consumer alive inside a
//!   long [`pop_with`](ShmQueue::pop_with) closure holds its slot, and
//!   producers that lap the ring to it wait. Only a *dead* claimer is
//!   detected and skipped (below); keep the closures short.
//! * **Crash robustness.** Each claim names the claiming process in the
//!   slot's word, in the same compare-and-swap (there is no instant at which
//!   a slot is claimed by nobody known), and the claimer's start time right
//!   after. A producer or consumer that meets a slot claimed by another
//!   process for longer than [`STALL_CHECK`] judges that process as
//!   [`ShmMutex`](crate::ShmMutex) judges a lock holder (gone, a zombie, or
//!   its pid reused by a process with another start time) and, if it is
//!   dead, releases the slot. A sleeping waiter rechecks at least every
//!   [`MAX_SLICE`]. So a process SIGKILLed at any instruction blocks the
//!   others for a bounded time (about [`MAX_SLICE`] plus [`STALL_CHECK`]).
//! * **The item in flight.** A killed producer's item is *lost* unless its
//!   publishing store ran: a half-written item is never visible (its slot
//!   is skipped). A killed consumer's item is *lost* too once the consumer
//!   claimed it (it may have acted on it, so it is never given out again).
//!   So every process killed inside a push or a pop loses at most one item
//!   per thread that was inside one, and no item is seen twice or torn.
//!   A panic inside [`push_with`](ShmQueue::push_with) skips the slot the
//!   same way; a panic inside [`pop_with`](ShmQueue::pop_with) consumes the
//!   item.
//! * **Validity.** All-zero bytes are an empty queue, and opening a segment
//!   never reads the slots (they are written under this protocol, like a
//!   lock's value). A popped item of a type with invalid bit patterns
//!   (`bool`, enums, `NonZero*`) is checked whole before it is handed out
//!   ([`pop`](ShmQueue::pop) checks the copy it returns); an invalid one
//!   (only bytes written outside this protocol make one) is consumed and
//!   reported as [`ErrorKind::InvalidValue`]; the queue goes on with the
//!   next item. For every other type the check compiles to nothing and the
//!   pops never fail.
//! * **Plain data only.** The item type may not hold a field written under
//!   a protocol of its own ([`ShmMutex`](crate::ShmMutex),
//!   [`SeqLock`](crate::SeqLock), another `ShmQueue`): the check of a popped
//!   item could not look into it, so the build stops (a compile-time
//!   assertion). Integers, floats, `bool`, `char`, enums, atomics, arrays,
//!   derived structs of them, [`FixedString`](crate::FixedString) and
//!   [`FixedVec`](crate::FixedVec) of plain data are all fine.
//! * **No fork inside the closures.** While a
//!   [`push_with`](ShmQueue::push_with) or [`pop_with`](ShmQueue::pop_with)
//!   closure holds its reference into the slot, [`process::fork`](crate::process::fork)
//!   refuses with [`ErrorKind::ForkWhileLocked`] (as inside an
//!   `ShmMutexGuard`): a child would keep the reference after this process
//!   published the item or gave the slot back.
//!
//! What it cannot judge: a claimer in another PID or time namespace than the
//! judge (the queue records the namespaces of its users, as `ShmMutex`
//! does: then nobody's slot is released), and a claimer whose pid was
//! reused before it recorded its start time (the few instructions after
//! its claim): such a slot stays claimed until that process ends. A queue
//! whose bytes were forged cannot cause undefined behaviour (indices are
//! taken modulo `N`, items are checked), but may return valid items nobody
//! pushed, or make a call skip a long run of positions. A segment truncated
//! by another process reads as private zeros (see [`sigbus`](crate::sigbus)):
//! an empty queue that shares nothing any more. A blocked pop then returns
//! [`ErrorKind::Truncated`] instead of waiting for nobody; pushes land in
//! this process only, and once it is full a blocked push gives its value
//! back at once ([`push_timeout`](ShmQueue::push_timeout)) or panics
//! ([`push`](ShmQueue::push), which has no way to return it). Where zeros
//! are no valid value of some part of the item type (a `NonZero*` leaf, an
//! enum without a variant 0), a truncation under a live process aborts it
//! instead (zeros would appear under a reference [`pop_with`](ShmQueue::pop_with)
//! lends).
//!
//! A queue of items holding a lock does not build:
//!
//! ```compile_fail
//! use shm_runtime::queue::ShmQueue;
//! use shm_runtime::ShmMutex;
//! // A forged slot could hold a `bool` of value 2 inside the mutex, which
//! // the check of a popped item would not see: refused at compile time.
//! let q = ShmQueue::<ShmMutex<bool>, 4>::new();
//! q.push(ShmMutex::new(true));
//! ```
//!
//! (The same with plain items builds:)
//!
//! ```
//! use shm_runtime::queue::ShmQueue;
//! use shm_runtime::{FixedString, FixedVec, SharedSafe};
//!
//! #[derive(SharedSafe, Clone, Copy)]
//! #[repr(C)]
//! struct Job {
//!     name: FixedString<8>,
//!     flags: FixedVec<bool, 4>,
//! }
//!
//! let q = ShmQueue::<Job, 4>::new();
//! let name = FixedString::try_from("resize").unwrap();
//! q.push(Job { name, flags: FixedVec::new() });
//! assert_eq!(q.pop()?.name.as_str(), "resize");
//! # Ok::<(), shm_runtime::Error>(())
//! ```

mod atomic;
mod ring;

#[cfg(all(test, loom))]
mod loom_tests;

use atomic::{AtomicU32, AtomicU64, UnsafeCell};
use core::mem::MaybeUninit;

#[cfg(not(all(test, loom)))]
use crate::error::{Error, ErrorKind, Result};
#[cfg(not(all(test, loom)))]
use crate::layout::{Field, InvalidValue, TypeLayout, Validity};
#[cfg(not(all(test, loom)))]
use crate::sync::futex::{self, Deadline, Wake};
#[cfg(not(all(test, loom)))]
use crate::sync::owner::{self, Me, Status};
#[cfg(not(all(test, loom)))]
use crate::SharedSafe;
#[cfg(not(all(test, loom)))]
use core::mem::offset_of;
#[cfg(not(all(test, loom)))]
use ring::Claim;
#[cfg(not(all(test, loom)))]
use std::cell::Cell;
#[cfg(not(all(test, loom)))]
use std::sync::atomic::Ordering;
#[cfg(not(all(test, loom)))]
use std::time::{Duration, Instant};

/// How long a slot must stay claimed by another process, unchanged, before
/// a producer or consumer waiting on it asks whether that process is alive
/// (and again after each further such interval, while it lives).
///
/// ```
/// use shm_runtime::queue::{MAX_SLICE, STALL_CHECK};
/// // A dead claimer is found within about this long by a blocked waiter.
/// let detection = MAX_SLICE + STALL_CHECK;
/// assert!(detection < std::time::Duration::from_millis(100));
/// ```
#[cfg(not(all(test, loom)))]
pub const STALL_CHECK: Duration = Duration::from_millis(1);

/// The longest a blocked push or pop sleeps before it looks again (for a
/// claimer that died, or a wake-up that a killed process swallowed).
///
/// ```
/// use shm_runtime::queue::MAX_SLICE;
/// assert_eq!(MAX_SLICE, std::time::Duration::from_millis(20));
/// ```
#[cfg(not(all(test, loom)))]
pub const MAX_SLICE: Duration = Duration::from_millis(20);

/// The first sleep of a blocked push or pop.
#[cfg(not(all(test, loom)))]
const FIRST_SLICE: Duration = Duration::from_millis(1);

/// `users_ns` once users from several PID or time namespaces met.
#[cfg(not(all(test, loom)))]
const MIXED_NS: u64 = u64::MAX;

/// A bounded FIFO queue of up to `N` items of type `T`, shared between
/// processes: see the [module documentation](self) for its guarantees.
///
/// It is [`SharedSafe`] itself: a whole segment, or a field of a derived
/// struct. Create it zeroed ([`init::zeroed`](crate::init::zeroed), for
/// [`Shared::anonymous`](crate::Shared::anonymous) or `Segment::create`) so
/// that a large one never passes through the stack; [`ShmQueue::new`] is for small
/// ones.
///
/// ```
/// use shm_runtime::{init, queue::ShmQueue};
/// use shm_runtime::{Shared, SharedSafe};
/// use std::sync::atomic::AtomicU64;
///
/// #[derive(SharedSafe, bytemuck::Zeroable)]
/// #[repr(C)]
/// struct Pool {
///     done: AtomicU64,
///     jobs: ShmQueue<[u32; 4], 64>,
/// }
///
/// let pool = Shared::<Pool>::anonymous(init::zeroed())?;
/// pool.jobs.push([1, 2, 3, 4]);
/// assert_eq!(pool.jobs.pop()?, [1, 2, 3, 4]);
/// # Ok::<(), shm_runtime::Error>(())
/// ```
///
/// # Layout
///
/// `#[repr(C)]`: the producers' counter, the consumers' counter and the
/// sleepers' words on cache lines of their own, then `N` slots, each a
/// 64-bit word (stamp and claimer's pid), a 64-bit owner record (stamp and
/// claimer's start time) and the item, aligned to 16 bytes (the word and
/// the record share a cache line; a slot of an item of up to 16 bytes lies
/// in one).
#[repr(C)]
pub struct ShmQueue<T, const N: usize> {
    /// Positions claimed by producers (a hint: see [`ring`]).
    head: Line<AtomicU64>,
    /// Positions claimed by consumers (a hint).
    tail: Line<AtomicU64>,
    /// Sleepers and their futex words.
    waits: Line<Waits>,
    slots: [Slot<T>; N],
}

/// A value on a cache line of its own.
#[repr(C, align(64))]
struct Line<X>(X);

/// Who sleeps, and the words they sleep on.
#[repr(C)]
struct Waits {
    /// Bumped by a producer that published an item while consumers slept;
    /// consumers sleep on it.
    pushed: AtomicU32,
    /// Consumers that may be asleep (or about to be).
    pop_sleepers: AtomicU32,
    /// Bumped by a consumer that freed a slot while producers slept.
    popped: AtomicU32,
    /// Producers that may be asleep (or about to be).
    push_sleepers: AtomicU32,
    /// The PID and time namespaces of every process that used the queue
    /// (0: none yet, [`MIXED_NS`]: several): claimers are judged only by
    /// processes of the same ones.
    users_ns: AtomicU64,
}

/// One position of the ring. Aligned to 16 bytes: its word and its record
/// always share a cache line, and a slot of an item of up to 16 bytes lies
/// in one line (a `u64` slot is 32 bytes, not 24, so that no slot straddles
/// two lines and costs two transfers between cores).
#[repr(C, align(16))]
struct Slot<T> {
    /// `stamp << 32 | pid` (see [`ring`]).
    word: AtomicU64,
    /// `stamp << 32 | start time` of the last claimer that recorded
    /// itself: it describes the current claimer only when its stamp is the
    /// word's.
    record: AtomicU64,
    /// The item; initialized (and valid) only while the word says so.
    value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the slots' values are only accessed by the thread (of whichever
// process) that claimed the slot, with the orderings argued in `ring`; items
// move between threads, hence `T: Send`.
unsafe impl<T: Send, const N: usize> Sync for ShmQueue<T, N> {}
// SAFETY: as above; the queue owns no thread-bound resource.
unsafe impl<T: Send, const N: usize> Send for ShmQueue<T, N> {}

/// Stops the build for a capacity the stamps cannot count: at least 1, and
/// laps of `N` positions must number 2^31 before a stamp repeats.
struct CheckN<const N: usize>;

impl<const N: usize> CheckN<N> {
    const OK: () = assert!(
        N >= 1 && N <= (1 << 31),
        "the capacity of a ShmQueue must be between 1 and 2^31"
    );
}

/// Stops the build for an item type that holds a lock, a `SeqLock` or a
/// queue (a field written under a protocol): see [`ShmQueue`].
#[cfg(not(all(test, loom)))]
struct CheckItem<T>(core::marker::PhantomData<T>);

#[cfg(not(all(test, loom)))]
impl<T: SharedSafe> CheckItem<T> {
    const OK: () = assert!(
        !crate::layout::has_protocol_parts(T::LAYOUT),
        "a ShmQueue carries plain data: its item type must not hold an ShmMutex, a SeqLock, \
         a ShmQueue or another field written under a protocol (a popped item could not be \
         checked whole)"
    );
}

/// The outcome of [`ShmQueue::push_inner`].
#[cfg(not(all(test, loom)))]
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Pushed {
    /// Published.
    Yes,
    /// No room in time.
    Full,
    /// No room, and the queue's segment was truncated by another process:
    /// none will come.
    Truncated,
}

#[cfg(not(all(test, loom)))]
impl Pushed {
    /// For the calls that wait forever: only a truncation ends them without
    /// an item pushed.
    #[track_caller]
    fn or_panic<T, const N: usize>(self) {
        if self == Pushed::Truncated {
            panic!(
                "pushing to a ShmQueue<{}, {N}>: the queue is full and its segment was \
                 truncated by another process, so no room can come (use `push_timeout` or \
                 `push_with_timeout` to get the item back)",
                std::any::type_name::<T>()
            );
        }
        debug_assert_eq!(self, Pushed::Yes);
    }
}

#[cfg(all(test, loom))]
impl<T, const N: usize> ShmQueue<T, N> {
    /// An empty queue (loom's atomics cannot be zeroed).
    pub(crate) fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = CheckN::<N>::OK;
        ShmQueue {
            head: Line(AtomicU64::new(0)),
            tail: Line(AtomicU64::new(0)),
            waits: Line(Waits {
                pushed: AtomicU32::new(0),
                pop_sleepers: AtomicU32::new(0),
                popped: AtomicU32::new(0),
                push_sleepers: AtomicU32::new(0),
                users_ns: AtomicU64::new(0),
            }),
            slots: core::array::from_fn(|_| Slot {
                word: AtomicU64::new(0),
                record: AtomicU64::new(0),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            }),
        }
    }
}

#[cfg(not(all(test, loom)))]
impl<T: SharedSafe, const N: usize> ShmQueue<T, N> {
    /// An empty queue, by value: for a small one, or a `static`. A large
    /// queue is better created zeroed in place (see [`ShmQueue`]).
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// use shm_runtime::Shared;
    /// let q = Shared::anonymous(ShmQueue::<u32, 4>::new())?;
    /// assert!(q.is_empty());
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub const fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = CheckN::<N>::OK;
        #[allow(clippy::let_unit_value)]
        let () = CheckItem::<T>::OK;
        // SAFETY: all-zero bytes are an empty queue: zero counters and
        // words, and `MaybeUninit` items, valid with any bytes.
        unsafe { MaybeUninit::<Self>::zeroed().assume_init() }
    }

    /// The capacity: `N`.
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// assert_eq!(ShmQueue::<u8, 16>::new().capacity(), 16);
    /// ```
    pub const fn capacity(&self) -> usize {
        N
    }

    /// The number of items: exact when no thread is inside a push or a pop;
    /// otherwise approximate (items being written or read may or may not
    /// count). At most `N`. It reads the slots from each counter on to the
    /// first one not taken (the counters may lag): one, at most `N + 1`.
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// let q = ShmQueue::<u8, 4>::new();
    /// q.push(1);
    /// assert_eq!(q.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.approx_len()
    }

    /// Whether [`len`](Self::len) is 0.
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// assert!(ShmQueue::<u8, 4>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pushes `value` if there is room, or gives it back: never blocks.
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// let q = ShmQueue::<u8, 1>::new();
    /// assert_eq!(q.try_push(1), Ok(()));
    /// assert_eq!(q.try_push(2), Err(2));
    /// ```
    pub fn try_push(&self, value: T) -> std::result::Result<(), T> {
        let mut value = Some(value);
        match self.push_inner(Wait::No, |slot| write_value(slot, &mut value)) {
            Pushed::Yes => Ok(()),
            Pushed::Full | Pushed::Truncated => Err(value.take().expect("not pushed")),
        }
    }

    /// Pushes `value`, waiting while the queue is full.
    ///
    /// # Panics
    ///
    /// If another process truncated the segment holding the queue while
    /// it was full (see the [module docs](self)): the queue then shares
    /// nothing any more, and waiting for room would wait forever. (Use
    /// [`push_timeout`](Self::push_timeout) to get the value back instead.)
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// let q = ShmQueue::<u8, 2>::new();
    /// q.push(1);
    /// assert_eq!(q.try_pop().unwrap(), Some(1));
    /// ```
    pub fn push(&self, value: T) {
        let mut value = Some(value);
        let pushed = self.push_inner(Wait::Forever, |slot| write_value(slot, &mut value));
        pushed.or_panic::<T, N>();
    }

    /// Pushes `value`, waiting up to `timeout` (on `CLOCK_MONOTONIC`) while
    /// the queue is full; gives it back if there was no room in time, or at
    /// once if the queue is full and its segment was truncated by another
    /// process (nobody can make room any more).
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// use std::time::Duration;
    /// let q = ShmQueue::<u8, 1>::new();
    /// q.push(1);
    /// assert_eq!(q.push_timeout(2, Duration::from_millis(5)), Err(2));
    /// ```
    pub fn push_timeout(&self, value: T, timeout: Duration) -> std::result::Result<(), T> {
        let mut value = Some(value);
        let deadline = Deadline::after(timeout);
        match self.push_inner(Wait::Until(&deadline), |slot| write_value(slot, &mut value)) {
            Pushed::Yes => Ok(()),
            Pushed::Full | Pushed::Truncated => Err(value.take().expect("not pushed")),
        }
    }

    /// Writes an item in place in its slot, if there is room: `write` gets
    /// the slot, holding an earlier item's bytes (or zeros), and changes
    /// what it needs. No `T` passes through the stack, so a 1 MiB item
    /// costs one write of its bytes. `false` if the queue is full (`write`
    /// is not called).
    ///
    /// For types whose every bit pattern is valid (`bytemuck::AnyBitPattern`),
    /// since the slot's old bytes are a value of it. If `write` panics, the
    /// slot is skipped: consumers never see it. After `write` returns, the
    /// item's padding bytes are zeroed (an assignment in `write` may have
    /// copied them from this process's stack). While `write` runs, forks are
    /// refused ([`ErrorKind::ForkWhileLocked`]), and consumers that reach
    /// this slot wait for it (see the [module docs](self#the-guarantees)).
    ///
    /// ```
    /// use shm_runtime::{init, queue::ShmQueue};
    /// use shm_runtime::Shared;
    ///
    /// let q = Shared::<ShmQueue<[u8; 1 << 20], 2>>::anonymous(init::zeroed())?;
    /// assert!(q.try_push_with(|frame| frame.fill(7)));
    /// assert_eq!(q.pop_with(|frame| frame.iter().map(|&b| b as u64).sum::<u64>())?, 7 << 20);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn try_push_with(&self, write: impl FnOnce(&mut T)) -> bool
    where
        T: bytemuck::AnyBitPattern,
    {
        self.push_inner(Wait::No, |slot| write_in_place(slot, write)) == Pushed::Yes
    }

    /// [`try_push_with`](Self::try_push_with), waiting while the queue is
    /// full.
    ///
    /// # Panics
    ///
    /// As [`push`](Self::push), if the queue is full and its segment was
    /// truncated by another process (`write` is not called).
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// let q = ShmQueue::<[u64; 8], 2>::new();
    /// q.push_with(|item| item[0] = 42);
    /// assert_eq!(q.pop()?[0], 42);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn push_with(&self, write: impl FnOnce(&mut T))
    where
        T: bytemuck::AnyBitPattern,
    {
        let pushed = self.push_inner(Wait::Forever, |slot| write_in_place(slot, write));
        pushed.or_panic::<T, N>();
    }

    /// [`try_push_with`](Self::try_push_with), waiting up to `timeout`
    /// while the queue is full: `false` if there was no room in time (or the
    /// queue is full and its segment was truncated: see
    /// [`push_timeout`](Self::push_timeout)).
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// use std::time::Duration;
    /// let q = ShmQueue::<[u64; 8], 1>::new();
    /// assert!(q.push_with_timeout(|item| item[0] = 1, Duration::from_millis(5)));
    /// assert!(!q.push_with_timeout(|item| item[0] = 2, Duration::from_millis(5)));
    /// ```
    pub fn push_with_timeout(&self, write: impl FnOnce(&mut T), timeout: Duration) -> bool
    where
        T: bytemuck::AnyBitPattern,
    {
        let deadline = Deadline::after(timeout);
        self.push_inner(Wait::Until(&deadline), |slot| write_in_place(slot, write)) == Pushed::Yes
    }

    /// Pops the oldest item, if any: never blocks. An error only for an
    /// invalid item (see the [module docs](self#the-guarantees)).
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// let q = ShmQueue::<u8, 4>::new();
    /// assert_eq!(q.try_pop()?, None);
    /// q.push(3);
    /// assert_eq!(q.try_pop()?, Some(3));
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn try_pop(&self) -> Result<Option<T>> {
        self.pop_inner(Wait::No, read_value)
    }

    /// Pops the oldest item, waiting while the queue is empty. An error
    /// only for an invalid item.
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// let q = ShmQueue::<u8, 4>::new();
    /// q.push(3);
    /// assert_eq!(q.pop()?, 3);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn pop(&self) -> Result<T> {
        self.pop_inner(Wait::Forever, read_value)
            .map(|item| item.expect("a blocking pop waits for an item"))
    }

    /// Pops the oldest item, waiting up to `timeout` (on `CLOCK_MONOTONIC`)
    /// while the queue is empty: [`ErrorKind::TimedOut`] if none came.
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// use shm_runtime::ErrorKind;
    /// use std::time::Duration;
    /// let q = ShmQueue::<u8, 4>::new();
    /// let err = q.pop_timeout(Duration::from_millis(5)).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::TimedOut);
    /// ```
    pub fn pop_timeout(&self, timeout: Duration) -> Result<T> {
        let deadline = Deadline::after(timeout);
        self.pop_inner(Wait::Until(&deadline), read_value)?
            .ok_or_else(|| timed_out::<T, N>(timeout))
    }

    /// Reads the oldest item in place, if any, and removes it: `read` gets
    /// it by reference in its slot (no copy, however large `T` is), checked,
    /// and its result is returned. If `read` panics, the item is consumed.
    /// While `read` runs, forks are refused ([`ErrorKind::ForkWhileLocked`]),
    /// and producers that lap the ring to this slot wait for it.
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// let q = ShmQueue::<[u64; 4], 4>::new();
    /// q.push([1, 2, 3, 4]);
    /// assert_eq!(q.try_pop_with(|item| item.iter().sum::<u64>())?, Some(10));
    /// assert_eq!(q.try_pop_with(|item| item[0])?, None);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn try_pop_with<R>(&self, read: impl FnOnce(&T) -> R) -> Result<Option<R>> {
        self.pop_inner(Wait::No, read_in_place(read))
    }

    /// [`try_pop_with`](Self::try_pop_with), waiting while the queue is
    /// empty.
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// let q = ShmQueue::<[u64; 4], 4>::new();
    /// q.push([1, 2, 3, 4]);
    /// assert_eq!(q.pop_with(|item| item[3])?, 4);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn pop_with<R>(&self, read: impl FnOnce(&T) -> R) -> Result<R> {
        self.pop_inner(Wait::Forever, read_in_place(read))
            .map(|item| item.expect("a blocking pop waits for an item"))
    }

    /// [`try_pop_with`](Self::try_pop_with), waiting up to `timeout` while
    /// the queue is empty: [`ErrorKind::TimedOut`] if no item came.
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// use std::time::Duration;
    /// let q = ShmQueue::<[u64; 4], 4>::new();
    /// assert!(q.pop_with_timeout(|item| item[0], Duration::from_millis(5)).is_err());
    /// ```
    pub fn pop_with_timeout<R>(&self, read: impl FnOnce(&T) -> R, timeout: Duration) -> Result<R> {
        let deadline = Deadline::after(timeout);
        self.pop_inner(Wait::Until(&deadline), read_in_place(read))?
            .ok_or_else(|| timed_out::<T, N>(timeout))
    }

    /// Claims a slot, lets `write` fill it, publishes it; waits as `wait`
    /// says while the queue is full. Unless [`Pushed::Yes`], `write` was not
    /// called.
    #[inline]
    fn push_inner(&self, wait: Wait<'_>, write: impl FnOnce(*mut MaybeUninit<T>)) -> Pushed {
        #[allow(clippy::let_unit_value)]
        let () = CheckItem::<T>::OK;
        let me = owner::me();
        self.record_namespace(me.ns);
        let mut stall = Stalls::new(wait);
        let mut sleep = Sleep::new();
        let (index, stamp) = loop {
            match self.claim_push(me.pid) {
                Claim::Got { index, stamp } => break (index, stamp),
                Claim::Blocked => {}
                Claim::Stalled { index, word } => {
                    if self.stalled(index, word, &me, &mut stall) {
                        continue;
                    }
                }
            }
            if !matches!(wait, Wait::No)
                && crate::sigbus::is_truncated_at(self as *const Self as usize)
            {
                // Truncated by another process: nobody can pop any more, so
                // no room will come.
                return Pushed::Truncated;
            }
            let go_on = sleep.wait(
                wait,
                &self.waits.0.popped,
                &self.waits.0.push_sleepers,
                || self.push_ready(),
            );
            if !go_on {
                return Pushed::Full;
            }
        };
        self.record_claim(index, stamp, &me);
        // Skips the slot if `write` panics: its bytes are never read.
        let claimed = Claimed {
            queue: self,
            index,
            stamp,
        };
        self.slots[index].value.with_mut(write);
        core::mem::forget(claimed);
        self.publish(index, stamp);
        self.notify(&self.waits.0.pushed, &self.waits.0.pop_sleepers);
        Pushed::Yes
    }

    /// Claims an item, lets `read` check and take it, releases its slot;
    /// waits as `wait` says while the queue is empty. `Ok(None)`: no item in
    /// time.
    #[inline]
    fn pop_inner<R>(
        &self,
        wait: Wait<'_>,
        read: impl FnOnce(*const T) -> core::result::Result<R, InvalidValue>,
    ) -> Result<Option<R>> {
        #[allow(clippy::let_unit_value)]
        let () = CheckItem::<T>::OK;
        let me = owner::me();
        self.record_namespace(me.ns);
        let mut stall = Stalls::new(wait);
        let mut sleep = Sleep::new();
        let (index, stamp) = loop {
            match self.claim_pop(me.pid) {
                Claim::Got { index, stamp } => break (index, stamp),
                Claim::Blocked => {}
                Claim::Stalled { index, word } => {
                    if self.stalled(index, word, &me, &mut stall) {
                        continue;
                    }
                }
            }
            if !matches!(wait, Wait::No) {
                // Truncated by another process: nobody can push any more.
                crate::sigbus::check_at(self, "popping from a ShmQueue")?;
            }
            let go_on = sleep.wait(
                wait,
                &self.waits.0.pushed,
                &self.waits.0.pop_sleepers,
                || self.pop_ready(),
            );
            if !go_on {
                return Ok(None);
            }
        };
        self.record_claim(index, stamp, &me);
        // Releases the slot when done, also if `read` panics: the item is
        // consumed either way.
        let claimed = Claimed {
            queue: self,
            index,
            stamp,
        };
        // `read` gets a claimed slot holding a published item: its bytes
        // were written whole by its producer before its publishing store,
        // which our claim acquired, and nobody else accesses them until we
        // release the slot (below, after `read` returned).
        let item = claimed.queue.slots[index]
            .value
            .with(|slot| read(slot.cast::<T>()));
        drop(claimed);
        match item {
            Ok(item) => Ok(Some(item)),
            Err(invalid) => Err(Error::new(
                ErrorKind::InvalidValue,
                format!(
                    "popping from a ShmQueue<{}, {N}>: the item is not a valid value \
                     ({invalid}): it was written outside this library's protocol; it was \
                     removed, and the next pop takes the next item",
                    std::any::type_name::<T>()
                ),
            )),
        }
    }

    /// Whether the slot at the producers' counter is free (a hint, for the
    /// last look before sleeping; a lagging counter reads "ready").
    fn push_ready(&self) -> bool {
        let pos = self.head.0.load(Ordering::Relaxed);
        // `SeqCst`: the sleeper's last look (see `notify`).
        let seen = self.slots[(pos % N as u64) as usize]
            .word
            .load(Ordering::SeqCst);
        ring::stamp(seen).wrapping_sub(((pos / N as u64) as u32).wrapping_mul(2)) as i32 >= 0
    }

    /// Whether the slot at the consumers' counter is not behind (a hint).
    fn pop_ready(&self) -> bool {
        let pos = self.tail.0.load(Ordering::Relaxed);
        // `SeqCst`: the sleeper's last look (see `notify`).
        let seen = self.slots[(pos % N as u64) as usize]
            .word
            .load(Ordering::SeqCst);
        ring::stamp(seen).wrapping_sub(((pos / N as u64) as u32).wrapping_mul(2) | 1) as i32 >= 0
    }

    /// Records this process's start time as the claimer of `index`.
    #[inline(always)]
    fn record_claim(&self, index: usize, stamp: u32, me: &Me) {
        // `Release`: a judge that reads the record (`Acquire`) and finds our
        // stamp in it also sees our claim.
        self.slots[index].record.store(
            (u64::from(stamp) << 32) | u64::from(me.process_start),
            Ordering::Release,
        );
    }

    /// After an item was published (or a slot freed): wakes one sleeper of
    /// `word` if `sleepers` says one may sleep. No system call otherwise.
    #[inline(always)]
    fn notify(&self, word: &AtomicU32, sleepers: &AtomicU32) {
        // `SeqCst`, after the `SeqCst` store that published the item or
        // freed the slot: with a sleeper's `SeqCst` registration and last
        // look (`Sleep::wait`), either it sees our store or we see its
        // registration (one total order of the four).
        if sleepers.load(Ordering::SeqCst) != 0 {
            self.wake(word);
        }
    }

    #[cold]
    #[inline(never)]
    fn wake(&self, word: &AtomicU32) {
        word.fetch_add(1, Ordering::Release);
        futex::wake(word, 1);
    }

    /// Slot `index` is claimed by another process (its word `word`): judges
    /// it once it stayed so for [`STALL_CHECK`], and releases it if its
    /// claimer is dead. `true` if this call released it.
    fn stalled(&self, index: usize, word: u64, me: &Me, stalls: &mut Stalls) -> bool {
        let key = Stall {
            queue: self as *const Self as usize,
            index,
            word,
            since: Instant::now(),
        };
        if !stalls.due(key) {
            return false;
        }
        if !(self.claimer_dead(index, word, me) && self.recover(index, word)) {
            return false;
        }
        let waits = &self.waits.0;
        // The slot is free for the next lap's producer ...
        self.notify(&waits.popped, &waits.push_sleepers);
        if ring::stamp(word) & 1 == 0 {
            // ... and, a dead producer's slot being skipped, consumers
            // waiting on it move on to the next position.
            self.notify(&waits.pushed, &waits.pop_sleepers);
        }
        true
    }

    /// Whether the claimer of slot `index`, whose word is `word`, is dead:
    /// judged as `ShmMutex` judges a holder, and only when every user of the
    /// queue ran in this process's namespaces.
    fn claimer_dead(&self, index: usize, word: u64, me: &Me) -> bool {
        if self.waits.0.users_ns.load(Ordering::Acquire) != me.ns {
            return false;
        }
        let record = self.slots[index].record.load(Ordering::Acquire);
        // The record describes this claim only if it carries its stamp;
        // otherwise the claimer died before recording itself: judged by
        // its pid alone.
        let start = if (record >> 32) as u32 == ring::stamp(word) {
            record as u32
        } else {
            0
        };
        match owner::status(ring::claimer(word), me.proc_ok) {
            Status::Gone | Status::Zombie => true,
            Status::Alive(Some(now)) => me.starts_comparable && start != 0 && now != start,
            Status::Alive(None) => false,
        }
    }

    /// Records this process's namespaces among the queue's users.
    #[inline(always)]
    fn record_namespace(&self, mine: u64) {
        let seen = self.waits.0.users_ns.load(Ordering::Relaxed);
        if seen == mine || seen == MIXED_NS {
            return;
        }
        self.record_new_namespace(mine);
    }

    #[cold]
    fn record_new_namespace(&self, mine: u64) {
        let users = &self.waits.0.users_ns;
        match users.compare_exchange(0, mine, Ordering::AcqRel, Ordering::Acquire) {
            Ok(_) => {}
            Err(seen) if seen == mine || seen == MIXED_NS => {}
            Err(_) => users.store(MIXED_NS, Ordering::Release),
        }
    }
}

/// A slot this thread claimed: dropped without being forgotten (a panic
/// in the caller's closure, or a consumer done with its item), it is
/// released without an item.
#[cfg(not(all(test, loom)))]
struct Claimed<'a, T: SharedSafe, const N: usize> {
    queue: &'a ShmQueue<T, N>,
    index: usize,
    stamp: u32,
}

#[cfg(not(all(test, loom)))]
impl<T: SharedSafe, const N: usize> Drop for Claimed<'_, T, N> {
    fn drop(&mut self) {
        self.queue.release(self.index, self.stamp);
        let waits = &self.queue.waits.0;
        self.queue.notify(&waits.popped, &waits.push_sleepers);
        if self.stamp & 1 == 0 {
            // A producer's skipped slot: consumers waiting on it move on.
            self.queue.notify(&waits.pushed, &waits.pop_sleepers);
        }
    }
}

/// How long a push or pop may wait.
#[cfg(not(all(test, loom)))]
#[derive(Clone, Copy)]
enum Wait<'a> {
    No,
    Until(&'a Deadline),
    Forever,
}

/// A slot seen claimed, unchanged, since `since`.
#[cfg(not(all(test, loom)))]
#[derive(Clone, Copy)]
struct Stall {
    queue: usize,
    index: usize,
    word: u64,
    since: Instant,
}

#[cfg(not(all(test, loom)))]
thread_local! {
    /// The stall this thread's non-blocking calls last met: a consumer that
    /// spins on `try_pop` judges a stalled slot once per [`STALL_CHECK`].
    static LAST_STALL: Cell<Option<Stall>> = const { Cell::new(None) };
}

/// The stall a call tracks: its own for a blocking call, the thread's for
/// a non-blocking one.
#[cfg(not(all(test, loom)))]
enum Stalls {
    Local(Option<Stall>),
    Thread,
}

#[cfg(not(all(test, loom)))]
impl Stalls {
    fn new(wait: Wait<'_>) -> Stalls {
        match wait {
            Wait::No => Stalls::Thread,
            _ => Stalls::Local(None),
        }
    }

    /// Whether the stall `now` (its `since` is now) has lasted
    /// [`STALL_CHECK`]: then its clock restarts.
    fn due(&mut self, now: Stall) -> bool {
        let mut seen = match self {
            Stalls::Local(seen) => *seen,
            Stalls::Thread => LAST_STALL.with(Cell::get),
        };
        let due = match &mut seen {
            Some(s) if (s.queue, s.index, s.word) == (now.queue, now.index, now.word) => {
                if now.since.duration_since(s.since) < STALL_CHECK {
                    false
                } else {
                    s.since = now.since;
                    true
                }
            }
            _ => {
                seen = Some(now);
                false
            }
        };
        match self {
            Stalls::Local(local) => *local = seen,
            Stalls::Thread => LAST_STALL.with(|cell| cell.set(seen)),
        }
        due
    }
}

/// The sleeping side of a blocked push or pop.
#[cfg(not(all(test, loom)))]
struct Sleep {
    slice: Duration,
    spun: bool,
}

#[cfg(not(all(test, loom)))]
impl Sleep {
    fn new() -> Sleep {
        Sleep {
            slice: FIRST_SLICE,
            spun: false,
        }
    }

    /// Waits (as `wait` allows) until `word` changes or a slice passes,
    /// registered in `sleepers`, unless `ready()` says to look again at
    /// once. `false` when the time is up.
    fn wait(
        &mut self,
        wait: Wait<'_>,
        word: &AtomicU32,
        sleepers: &AtomicU32,
        ready: impl Fn() -> bool,
    ) -> bool {
        let deadline = match wait {
            Wait::No => return false,
            Wait::Until(deadline) if deadline.passed() => return false,
            Wait::Until(deadline) => Some(deadline),
            Wait::Forever => None,
        };
        if !self.spun {
            // A short spin first: the other side is often about to act.
            self.spun = true;
            if futex::spin_until(&ready) {
                return true;
            }
        }
        // `SeqCst`: see `notify`.
        sleepers.fetch_add(1, Ordering::SeqCst);
        // `Acquire`: pairs with the `Release` bump in `wake`: if we read a
        // bump, the item (or free slot) it announces is visible to `ready`.
        let seen = word.load(Ordering::Acquire);
        if !ready() {
            let slice = match deadline {
                Some(deadline) => self.slice.min(deadline.remaining()),
                None => self.slice,
            };
            if futex::wait(word, seen, Some(&Deadline::after(slice))) == Wake::TimedOut {
                self.slice = (self.slice * 2).min(MAX_SLICE);
            }
        }
        sleepers.fetch_sub(1, Ordering::Relaxed);
        true
    }
}

/// Moves the value in `value` into `slot`, with zeroed padding.
#[cfg(not(all(test, loom)))]
#[inline(always)]
fn write_value<T: SharedSafe>(slot: *mut MaybeUninit<T>, value: &mut Option<T>) {
    let value = value.take().expect("written once");
    // SAFETY: the slot is claimed by this thread: a valid, aligned place
    // for a `T` that nobody else accesses; what it held needs no drop.
    unsafe { crate::layout::write_zero_padded(slot.cast::<T>(), value) }
}

/// Lets `write` change the item in `slot` in place, then zeroes the
/// item's padding (which `write` may have filled from its stack).
#[cfg(not(all(test, loom)))]
#[inline(always)]
fn write_in_place<T: SharedSafe + bytemuck::AnyBitPattern>(
    slot: *mut MaybeUninit<T>,
    write: impl FnOnce(&mut T),
) {
    {
        // No fork while `write` holds the `&mut T`: a child forked inside
        // `write` could go on writing the slot after we published it.
        let _no_fork = crate::process::ForkBarrier::new();
        // SAFETY: the slot is claimed by this thread, so the `&mut` is
        // exclusive for the call. Its bytes are initialized: the queue
        // started zeroed (every constructor zeroes it) and every later
        // write stored a whole `T` with zeroed padding (`write_value`, and
        // below), and any initialized bytes are a valid `T`
        // (`AnyBitPattern`).
        write(unsafe { &mut *slot.cast::<T>() });
    }
    if const { T::LAYOUT.has_padding() } {
        let bytes = slot.cast::<u8>();
        let mut covered = 0;
        let zero = |start: usize, end: usize| {
            // SAFETY: `start..end` lies inside the claimed slot's `T`,
            // which nobody else accesses; no reference to it is alive.
            unsafe { bytes.add(start).write_bytes(0, end - start) }
        };
        crate::layout::for_each_data_run(T::LAYOUT, |start, end| {
            zero(covered, start);
            covered = end;
        });
        zero(covered, core::mem::size_of::<T>());
    }
}

/// Copies the item out of its slot, checks the copy, and hands it out:
/// the check and the value are the same bytes, whatever happens to the slot
/// meanwhile (a truncation maps zeros under it).
#[cfg(not(all(test, loom)))]
#[inline(always)]
fn read_value<T: SharedSafe>(slot: *const T) -> core::result::Result<T, InvalidValue> {
    let mut copy = MaybeUninit::<T>::uninit();
    // SAFETY: called on a claimed slot holding a published item, which
    // nobody writes while we hold it; the copy is a distinct local. A
    // `MaybeUninit` takes any bytes (padding uninitialized included).
    unsafe {
        copy.as_mut_ptr()
            .cast::<MaybeUninit<T>>()
            .copy_from_nonoverlapping(slot.cast::<MaybeUninit<T>>(), 1)
    };
    // SAFETY: the copy is aligned, readable, and nobody writes it.
    unsafe { crate::layout::check_value(copy.as_ptr()) }?;
    // SAFETY: checked just above: a valid `T`. The slot is released
    // without being read again (a bitwise move of a type without drop
    // glue).
    Ok(unsafe { copy.assume_init() })
}

/// Checks the item in its slot and lends it to `read`.
#[cfg(not(all(test, loom)))]
#[inline(always)]
fn read_in_place<T: SharedSafe, R>(
    read: impl FnOnce(&T) -> R,
) -> impl FnOnce(*const T) -> core::result::Result<R, InvalidValue> {
    move |slot| {
        // SAFETY: called on a claimed slot holding a published item, which
        // nobody writes while we hold it.
        unsafe { crate::layout::check_value(slot) }?;
        // No fork while `read` holds the `&T`: a child forked inside `read`
        // could go on reading the slot after we released it to producers.
        let _no_fork = crate::process::ForkBarrier::new();
        // SAFETY: checked above, and nobody writes the slot until this
        // thread releases it, after `read` returned. A truncation of the
        // segment meanwhile maps zeros under the reference: the `SIGBUS`
        // handler does so only where zeros are valid for every part of `T`
        // (`layout::zeros_are_valid`, deep), and aborts otherwise.
        Ok(read(unsafe { &*slot }))
    }
}

#[cfg(not(all(test, loom)))]
fn timed_out<T, const N: usize>(timeout: Duration) -> Error {
    Error::new(
        ErrorKind::TimedOut,
        format!(
            "popping from a ShmQueue<{}, {N}>: no item came within {timeout:?}",
            std::any::type_name::<T>()
        ),
    )
}

#[cfg(not(all(test, loom)))]
impl<T: SharedSafe, const N: usize> Default for ShmQueue<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

#[cfg(not(all(test, loom)))]
impl<T: SharedSafe, const N: usize> core::fmt::Debug for ShmQueue<T, N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ShmQueue")
            .field("len", &self.len())
            .field("capacity", &N)
            .finish_non_exhaustive()
    }
}

// SAFETY: a slot is two 64-bit atomics and a `MaybeUninit<T>` in an
// `UnsafeCell` (same layout as `T`): no address, a `repr(C)` layout (its
// tail padding, up to the 16-byte alignment, is listed by no field), no drop
// glue; its value is only written by the thread that claimed the slot
// through its atomic word (the queue's protocol), which is process-safe.
// The value is a protected field: never read at open.
#[cfg(not(all(test, loom)))]
unsafe impl<T: SharedSafe> SharedSafe for Slot<T> {
    const LAYOUT: &'static TypeLayout = &TypeLayout::library::<Self>(
        "ShmQueue slot",
        "ShmQueue slot v2",
        &[],
        &[
            Field::plain("word", offset_of!(Self, word), AtomicU64::LAYOUT),
            Field::plain("record", offset_of!(Self, record), AtomicU64::LAYOUT),
            Field::protected("value", offset_of!(Self, value), T::LAYOUT),
        ],
        Validity::Fields,
    );
}

// SAFETY: atomics and slots (above), in `repr(C)` lines: no address, a
// fixed layout, no drop glue, mutation only through atomics and the slot
// protocol. Any bytes are a queue that safe code can use without undefined
// behaviour (indices are taken modulo `N`, popped items are checked), so
// the fields' own checks (none for atomics; none at open for the items)
// are honest. The fingerprint records the capacity and the item's layout.
#[cfg(not(all(test, loom)))]
unsafe impl<T: SharedSafe, const N: usize> SharedSafe for ShmQueue<T, N> {
    const LAYOUT: &'static TypeLayout = &{
        #[allow(clippy::let_unit_value)]
        let () = CheckN::<N>::OK;
        #[allow(clippy::let_unit_value)]
        let () = CheckItem::<T>::OK;
        TypeLayout::library::<Self>(
            "ShmQueue",
            "ShmQueue pid-claimed vyukov v2",
            &[("capacity", N as u64)],
            &[
                Field::plain("head", offset_of!(Self, head), AtomicU64::LAYOUT),
                Field::plain("tail", offset_of!(Self, tail), AtomicU64::LAYOUT),
                Field::plain(
                    "pushed",
                    offset_of!(Self, waits) + offset_of!(Waits, pushed),
                    AtomicU32::LAYOUT,
                ),
                Field::plain(
                    "pop_sleepers",
                    offset_of!(Self, waits) + offset_of!(Waits, pop_sleepers),
                    AtomicU32::LAYOUT,
                ),
                Field::plain(
                    "popped",
                    offset_of!(Self, waits) + offset_of!(Waits, popped),
                    AtomicU32::LAYOUT,
                ),
                Field::plain(
                    "push_sleepers",
                    offset_of!(Self, waits) + offset_of!(Waits, push_sleepers),
                    AtomicU32::LAYOUT,
                ),
                Field::plain(
                    "users_ns",
                    offset_of!(Self, waits) + offset_of!(Waits, users_ns),
                    AtomicU64::LAYOUT,
                ),
                Field::plain("slots", offset_of!(Self, slots), <[Slot<T>; N]>::LAYOUT),
            ],
            Validity::Fields,
        )
    };
}

// SAFETY: all-zero bytes are an empty queue (see `ring`).
#[cfg(not(all(test, loom)))]
unsafe impl<T: SharedSafe, const N: usize> bytemuck::Zeroable for ShmQueue<T, N> {}

#[cfg(all(test, not(loom)))]
mod tests;
