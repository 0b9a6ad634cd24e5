//! What a [`ShmQueue`] is in memory: its struct, its cache lines and slots,
//! the build-time checks of its parameters, and the layout it declares as
//! a [`SharedSafe`] type.

use super::atomic::{AtomicU32, AtomicU64, UnsafeCell};
use core::mem::MaybeUninit;

#[cfg(not(all(test, loom)))]
use crate::layout::{Field, TypeLayout, Validity};
#[cfg(not(all(test, loom)))]
use crate::SharedSafe;
#[cfg(not(all(test, loom)))]
use core::mem::offset_of;

/// A bounded FIFO queue of up to `N` items of type `T`, shared between
/// processes: see the [module documentation](crate::queue) for its guarantees.
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
    /// Positions claimed by producers (a hint: see [`ring`](super::ring)).
    pub(super) head: Line<AtomicU64>,
    /// Positions claimed by consumers (a hint).
    pub(super) tail: Line<AtomicU64>,
    /// Sleepers and their futex words.
    pub(super) waits: Line<Waits>,
    pub(super) slots: [Slot<T>; N],
}

/// A value on a cache line of its own.
#[repr(C, align(64))]
pub(super) struct Line<X>(pub(super) X);

/// Who sleeps, and the words they sleep on.
#[repr(C)]
pub(super) struct Waits {
    /// Consumers waiting for an item; producers wake them.
    pub(super) pop: Sleepers,
    /// Producers waiting for a free slot; consumers wake them.
    pub(super) push: Sleepers,
    /// The PID and time namespaces of every process that used the queue
    /// (0: none yet, [`MIXED_NS`](super::recovery::MIXED_NS): several): claimers are judged only by
    /// processes of the same ones.
    pub(super) users_ns: AtomicU64,
}

/// The sleepers of one side (see [`wait`](super::wait)).
#[repr(C)]
pub(super) struct Sleepers {
    /// Bumped by the other side when it made progress while one of these
    /// may have slept; they sleep on it.
    pub(super) word: AtomicU32,
    /// How many may be asleep (or about to be).
    pub(super) count: AtomicU32,
    /// When the latest of them registered (`CLOCK_MONOTONIC`, in
    /// milliseconds): a count that outlives every live registration is a
    /// sleeper that died asleep.
    pub(super) latest: AtomicU64,
}

#[cfg(all(test, loom))]
impl Waits {
    /// Nobody sleeps (loom's atomics cannot be zeroed).
    pub(super) fn new() -> Waits {
        let sleepers = || Sleepers {
            word: AtomicU32::new(0),
            count: AtomicU32::new(0),
            latest: AtomicU64::new(0),
        };
        Waits {
            pop: sleepers(),
            push: sleepers(),
            users_ns: AtomicU64::new(0),
        }
    }
}

// SAFETY: three atomics in a `repr(C)` struct: no address, a fixed layout,
// no drop glue, mutation only through atomics; any bytes are sleepers (a
// wrong count costs a wake-up system call, or a sleeper its slice).
#[cfg(not(all(test, loom)))]
unsafe impl SharedSafe for Sleepers {
    const LAYOUT: &'static TypeLayout = &TypeLayout::library::<Self>(
        "queue sleepers",
        "queue sleepers v1",
        &[],
        &[
            Field::plain("word", offset_of!(Self, word), AtomicU32::LAYOUT),
            Field::plain("count", offset_of!(Self, count), AtomicU32::LAYOUT),
            Field::plain("latest", offset_of!(Self, latest), AtomicU64::LAYOUT),
        ],
        Validity::Fields,
    );
}

// SAFETY: sleepers (above) and an atomic, in a `repr(C)` struct: no
// address, a fixed layout, no drop glue, mutation only through atomics.
#[cfg(not(all(test, loom)))]
unsafe impl SharedSafe for Waits {
    const LAYOUT: &'static TypeLayout = &TypeLayout::library::<Self>(
        "queue waits",
        "queue waits v1",
        &[],
        &[
            Field::plain("pop", offset_of!(Self, pop), Sleepers::LAYOUT),
            Field::plain("push", offset_of!(Self, push), Sleepers::LAYOUT),
            Field::plain("users_ns", offset_of!(Self, users_ns), AtomicU64::LAYOUT),
        ],
        Validity::Fields,
    );
}

/// One position of the ring. Aligned to 16 bytes: its word and its record
/// always share a cache line, and a slot of an item of up to 16 bytes lies
/// in one line (a `u64` slot is 32 bytes, not 24, so that no slot straddles
/// two lines and costs two transfers between cores).
#[repr(C, align(16))]
pub(super) struct Slot<T> {
    /// `stamp << 32 | pid` (see [`ring`](super::ring)).
    pub(super) word: AtomicU64,
    /// `stamp << 32 | start time` of the last claimer that recorded
    /// itself: it describes the current claimer only when its stamp is the
    /// word's.
    pub(super) record: AtomicU64,
    /// The item; initialized (and valid) only while the word says so.
    pub(super) value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the slots' values are only accessed by the thread (of whichever
// process) that claimed the slot, with the orderings argued in `ring`; items
// move between threads, hence `T: Send`.
unsafe impl<T: Send, const N: usize> Sync for ShmQueue<T, N> {}
// SAFETY: as above; the queue owns no thread-bound resource.
unsafe impl<T: Send, const N: usize> Send for ShmQueue<T, N> {}

/// Stops the build for a capacity the stamps cannot count: at least 1, and
/// laps of `N` positions must number 2^31 before a stamp repeats.
pub(super) struct CheckN<const N: usize>;

impl<const N: usize> CheckN<N> {
    pub(super) const OK: () = assert!(
        N >= 1 && N <= (1 << 31),
        "the capacity of a ShmQueue must be between 1 and 2^31"
    );
}

/// Stops the build for an item type that holds a lock, a `SeqLock` or a
/// queue (a field written under a protocol): see [`ShmQueue`].
#[cfg(not(all(test, loom)))]
pub(super) struct CheckItem<T>(core::marker::PhantomData<T>);

#[cfg(not(all(test, loom)))]
impl<T: SharedSafe> CheckItem<T> {
    pub(super) const OK: () = assert!(
        !crate::layout::has_protocol_parts(T::LAYOUT),
        "a ShmQueue carries plain data: its item type must not hold an ShmMutex, a SeqLock, \
         a ShmQueue or another field written under a protocol (a popped item could not be \
         checked whole)"
    );
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
            waits: Line(Waits::new()),
            slots: core::array::from_fn(|_| Slot {
                word: AtomicU64::new(0),
                record: AtomicU64::new(0),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            }),
        }
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
            "ShmQueue pid-claimed vyukov v4",
            &[("capacity", N as u64)],
            &[
                Field::plain("head", offset_of!(Self, head), AtomicU64::LAYOUT),
                Field::plain("tail", offset_of!(Self, tail), AtomicU64::LAYOUT),
                Field::plain("waits", offset_of!(Self, waits), Waits::LAYOUT),
                Field::plain("slots", offset_of!(Self, slots), <[Slot<T>; N]>::LAYOUT),
            ],
            Validity::Fields,
        )
    };
}

// SAFETY: all-zero bytes are an empty queue (see `ring`).
#[cfg(not(all(test, loom)))]
unsafe impl<T: SharedSafe, const N: usize> bytemuck::Zeroable for ShmQueue<T, N> {}
