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
    /// Bumped by a producer that published an item while consumers slept;
    /// consumers sleep on it.
    pub(super) pushed: AtomicU32,
    /// Consumers that may be asleep (or about to be).
    pub(super) pop_sleepers: AtomicU32,
    /// Bumped by a consumer that freed a slot while producers slept.
    pub(super) popped: AtomicU32,
    /// Producers that may be asleep (or about to be).
    pub(super) push_sleepers: AtomicU32,
    /// The PID and time namespaces of every process that used the queue
    /// (0: none yet, [`MIXED_NS`](super::recovery::MIXED_NS): several): claimers are judged only by
    /// processes of the same ones.
    pub(super) users_ns: AtomicU64,
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
            "ShmQueue pid-claimed vyukov v3",
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
