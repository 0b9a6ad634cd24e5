//! What an [`SpscQueue`] is in memory: its struct, its lines and slots,
//! and the layout it declares as a [`SharedSafe`] type.

use crate::queue::atomic::{AtomicU64, UnsafeCell};
use crate::queue::memory::{CheckN, Line, Waits};
use core::mem::MaybeUninit;

#[cfg(not(all(test, loom)))]
use crate::layout::{Field, TypeLayout, Validity};
#[cfg(not(all(test, loom)))]
use crate::queue::memory::CheckItem;
#[cfg(not(all(test, loom)))]
use crate::SharedSafe;
#[cfg(not(all(test, loom)))]
use core::mem::offset_of;

/// A bounded FIFO of plain [`SharedSafe`] values between one producer and
/// one consumer at a time, in any processes, each side taken as a handle
/// ([`producer`](Self::producer), [`consumer`](Self::consumer)) that is
/// given back when dropped or when its process dies. See the
/// [module docs](crate::queue::spsc).
///
/// Itself `SharedSafe`, and all-zero bytes are an empty queue: create it
/// zeroed in place (no stack copy however large `N` is), as a whole segment
/// or as a field of a derived struct.
///
/// ```
/// use shm_runtime::{init, queue::SpscQueue, Shared};
///
/// let q = Shared::<SpscQueue<u64, 256>>::anonymous(init::zeroed())?;
/// let mut tx = q.producer()?;
/// let mut rx = q.consumer()?;
/// tx.push(1);
/// assert_eq!(rx.pop()?, 1);
/// # Ok::<(), shm_runtime::Error>(())
/// ```
#[repr(C)]
pub struct SpscQueue<T, const N: usize> {
    /// The producer's side: its holder and next position.
    pub(super) head: Line<End>,
    /// The consumer's side: its holder and `c << 1 | taken`.
    pub(super) tail: Line<End>,
    /// The sleepers' words, and the namespaces of the users.
    pub(super) waits: Line<Waits>,
    pub(super) slots: [Slot<T>; N],
}

/// One side of the queue, on its own cache line: written by its holder
/// only (its position on every operation, its holder word when taken).
#[repr(C)]
pub(super) struct End {
    /// `pid << 32 | start time` of the holder's process; 0: nobody.
    pub(super) owner: AtomicU64,
    /// The side's position word (see [`ring`](super::ring)).
    pub(super) pos: AtomicU64,
}

/// A slot: its stamp and the item.
#[repr(C)]
pub(super) struct Slot<T> {
    pub(super) stamp: AtomicU64,
    pub(super) value: UnsafeCell<MaybeUninit<T>>,
}

// SAFETY: the slots' values are accessed only by the holder of the producer
// handle (writing a slot the consumer does not read) and of the consumer
// handle (reading a published item), as argued in `ring`; items move
// between threads and processes, hence `T: Send`.
unsafe impl<T: Send, const N: usize> Sync for SpscQueue<T, N> {}
// SAFETY: as above; the queue owns no thread-bound resource.
unsafe impl<T: Send, const N: usize> Send for SpscQueue<T, N> {}

#[cfg(all(test, loom))]
impl<T, const N: usize> SpscQueue<T, N> {
    pub(crate) fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = CheckN::<N>::OK;
        let end = || {
            Line(End {
                owner: AtomicU64::new(0),
                pos: AtomicU64::new(0),
            })
        };
        SpscQueue {
            head: end(),
            tail: end(),
            waits: Line(Waits::new()),
            slots: core::array::from_fn(|_| Slot {
                stamp: AtomicU64::new(0),
                value: UnsafeCell::new(MaybeUninit::uninit()),
            }),
        }
    }
}

#[cfg(not(all(test, loom)))]
impl<T: SharedSafe, const N: usize> SpscQueue<T, N> {
    /// An empty queue, by value: for a small one, or a `static`. A large
    /// queue is better created zeroed in place (see [`SpscQueue`]).
    ///
    /// ```
    /// use shm_runtime::{queue::SpscQueue, Shared};
    /// let q = Shared::anonymous(SpscQueue::<u32, 4>::new())?;
    /// assert!(q.is_empty());
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub const fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = CheckN::<N>::OK;
        #[allow(clippy::let_unit_value)]
        let () = CheckItem::<T>::OK;
        // SAFETY: all-zero bytes are an empty queue: zero words, and
        // `MaybeUninit` items, valid with any bytes.
        unsafe { MaybeUninit::<Self>::zeroed().assume_init() }
    }
}

#[cfg(not(all(test, loom)))]
impl<T: SharedSafe, const N: usize> Default for SpscQueue<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

// SAFETY: a slot is a 64-bit atomic and a `MaybeUninit<T>` in an
// `UnsafeCell` (same layout as `T`): no address, a `repr(C)` layout, no drop
// glue; its value is written only by the producer handle's holder, on a
// slot the consumer does not read (the queue's protocol, process-safe). The
// value is a protected field: never read at open.
#[cfg(not(all(test, loom)))]
unsafe impl<T: SharedSafe> SharedSafe for Slot<T> {
    const LAYOUT: &'static TypeLayout = &TypeLayout::library::<Self>(
        "SpscQueue slot",
        "SpscQueue slot v1",
        &[],
        &[
            Field::plain("stamp", offset_of!(Self, stamp), AtomicU64::LAYOUT),
            Field::protected("value", offset_of!(Self, value), T::LAYOUT),
        ],
        Validity::Fields,
    );
}

// SAFETY: atomics and slots (above), in `repr(C)` lines: no address, a
// fixed layout, no drop glue, mutation only through atomics and the slot
// protocol. Any bytes are a queue that safe code can use without undefined
// behaviour (`ring` argues it for forged words; indices are taken modulo
// `N`; popped items are checked), so the fields' own checks (none for
// atomics; none at open for the items) are honest. The fingerprint
// records the capacity and the item's layout.
#[cfg(not(all(test, loom)))]
unsafe impl<T: SharedSafe, const N: usize> SharedSafe for SpscQueue<T, N> {
    const LAYOUT: &'static TypeLayout = &{
        #[allow(clippy::let_unit_value)]
        let () = CheckN::<N>::OK;
        #[allow(clippy::let_unit_value)]
        let () = CheckItem::<T>::OK;
        TypeLayout::library::<Self>(
            "SpscQueue",
            "SpscQueue stamped handles v2",
            &[("capacity", N as u64)],
            &[
                Field::plain(
                    "producer",
                    offset_of!(Self, head) + offset_of!(End, owner),
                    AtomicU64::LAYOUT,
                ),
                Field::plain(
                    "head",
                    offset_of!(Self, head) + offset_of!(End, pos),
                    AtomicU64::LAYOUT,
                ),
                Field::plain(
                    "consumer",
                    offset_of!(Self, tail) + offset_of!(End, owner),
                    AtomicU64::LAYOUT,
                ),
                Field::plain(
                    "tail",
                    offset_of!(Self, tail) + offset_of!(End, pos),
                    AtomicU64::LAYOUT,
                ),
                Field::plain("waits", offset_of!(Self, waits), Waits::LAYOUT),
                Field::plain("slots", offset_of!(Self, slots), <[Slot<T>; N]>::LAYOUT),
            ],
            Validity::Fields,
        )
    };
}

// SAFETY: all-zero bytes are an empty queue held by nobody (see `ring`).
#[cfg(not(all(test, loom)))]
unsafe impl<T: SharedSafe, const N: usize> bytemuck::Zeroable for SpscQueue<T, N> {}

#[cfg(not(all(test, loom)))]
impl<T, const N: usize> SpscQueue<T, N> {
    /// How many consumers and producers are registered as (about to be)
    /// asleep.
    pub(crate) fn sleepers(&self) -> (u32, u32) {
        self.waits.0.counts()
    }
}
