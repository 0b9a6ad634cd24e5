//! [`RelPtr<T>`]: a pointer that means the same thing in every process that
//! maps the memory it lives in.

use crate::layout::{Field, TypeLayout, Validity};
use crate::SharedSafe;
use core::fmt;
use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::sync::atomic::{AtomicI64, Ordering};

/// A relative pointer: the signed distance from its own address to its
/// target, so it stays valid wherever each process maps the memory holding
/// both — the shared-memory replacement for `&T`, `*const T` and `Box<T>`.
///
/// A `RelPtr` is set and cleared through `&self` (it is an atomic), and read
/// through a *pool*, the slice of `T` that its target must belong to:
/// [`get_in`](Self::get_in) checks that the target is one of the pool's
/// elements, so a corrupt or stale offset yields `None`, never a bad
/// reference.
///
/// ```
/// use shm_runtime::{RelPtr, SharedSafe};
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// #[derive(SharedSafe)]
/// #[repr(C)]
/// struct Node {
///     value: AtomicU64,
///     next: RelPtr<Node>, // a type may point at itself
/// }
///
/// #[derive(SharedSafe)]
/// #[repr(C)]
/// struct List {
///     head: RelPtr<Node>,
///     nodes: [Node; 3],
/// }
///
/// let list = List {
///     head: RelPtr::null(),
///     nodes: std::array::from_fn(|i| Node { value: AtomicU64::new(i as u64), next: RelPtr::null() }),
/// };
/// // head -> nodes[2] -> nodes[0], all through `&List`.
/// list.head.set(&list.nodes[2]);
/// list.nodes[2].next.set(&list.nodes[0]);
///
/// let mut seen = vec![];
/// let mut link = &list.head;
/// while let Some(node) = link.get_in(&list.nodes) {
///     seen.push(node.value.load(Ordering::Relaxed));
///     link = &node.next;
/// }
/// assert_eq!(seen, [2, 0]);
/// ```
///
/// # Encoding
///
/// `#[repr(transparent)]` over an `AtomicI64` holding `target - self - 1`, in
/// bytes; **0 is null**. The bias of one byte makes all-zero memory (a fresh
/// mapping, [`Shared::anonymous(init::zeroed())`](crate::Shared::anonymous)) read
/// as null while keeping a pointer to itself representable (a one-node
/// circular list, a list head that points at its own node). The one address it gives up, one byte past the `RelPtr`'s start,
/// is inside the `RelPtr` itself, where no other `T` can be. A C program reads
/// it as `stored == 0 ? NULL : (char *)&field + stored + 1`.
///
/// A `RelPtr` means something only where it is: moving it changes its target,
/// which is why it is neither `Clone` nor `Copy`. Stores are `Release` and
/// loads `Acquire`, so a process that initializes a target and then sets a
/// `RelPtr` to it publishes the target with it.
#[repr(transparent)]
pub struct RelPtr<T> {
    offset: AtomicI64,
    target: PhantomData<T>,
}

impl<T: SharedSafe> RelPtr<T> {
    /// A null pointer.
    ///
    /// ```
    /// use shm_runtime::RelPtr;
    /// let p = RelPtr::<u32>::null();
    /// assert!(p.is_null());
    /// ```
    pub const fn null() -> Self {
        RelPtr {
            offset: AtomicI64::new(0),
            target: PhantomData,
        }
    }

    fn address(&self) -> usize {
        self as *const Self as usize
    }

    /// Points at `target`. Both must live in the memory that every process
    /// maps as one block (the same segment), or the pointer means nothing
    /// elsewhere.
    ///
    /// # Panics
    ///
    /// If the distance does not fit an `i64`, or `target` is one byte past
    /// the `RelPtr`'s start (only a zero-sized `T` can be there).
    ///
    /// ```
    /// use shm_runtime::RelPtr;
    /// let values = [10u32, 20, 30];
    /// let p = RelPtr::null();
    /// p.set(&values[1]);
    /// assert_eq!(p.get_in(&values), Some(&20));
    /// ```
    #[track_caller]
    pub fn set(&self, target: &T) {
        let distance = (target as *const T as usize).wrapping_sub(self.address()) as isize;
        let stored = i64::try_from(distance)
            .ok()
            .and_then(|distance| distance.checked_sub(1))
            .expect("RelPtr::set: the target is too far away");
        assert!(
            stored != 0,
            "RelPtr::set: the target is inside the RelPtr itself"
        );
        self.offset.store(stored, Ordering::Release);
    }

    /// Makes the pointer null.
    ///
    /// ```
    /// use shm_runtime::RelPtr;
    /// let value = 1u8;
    /// let p = RelPtr::null();
    /// p.set(&value);
    /// p.set_null();
    /// assert!(p.is_null());
    /// ```
    pub fn set_null(&self) {
        self.offset.store(0, Ordering::Release);
    }

    /// Whether the pointer is null.
    ///
    /// ```
    /// use shm_runtime::RelPtr;
    /// assert!(RelPtr::<u64>::default().is_null());
    /// ```
    pub fn is_null(&self) -> bool {
        self.offset.load(Ordering::Acquire) == 0
    }

    /// The distance in bytes from this `RelPtr` to its target, or `None` if
    /// it is null.
    ///
    /// ```
    /// use shm_runtime::{RelPtr, SharedSafe};
    ///
    /// #[derive(SharedSafe)]
    /// #[repr(C)]
    /// struct Pair { p: RelPtr<u64>, value: u64 }
    ///
    /// let pair = Pair { p: RelPtr::null(), value: 7 };
    /// pair.p.set(&pair.value);
    /// assert_eq!(pair.p.offset(), Some(8));
    /// ```
    pub fn offset(&self) -> Option<i64> {
        match self.offset.load(Ordering::Acquire) {
            0 => None,
            stored => Some(stored.wrapping_add(1)),
        }
    }

    /// The target's address in this process, or `None` if null or not an
    /// address on this platform.
    fn target_address(&self) -> Option<usize> {
        let distance = isize::try_from(self.offset()?).ok()?;
        Some(self.address().wrapping_add_signed(distance))
    }

    /// The index of the target in `pool`, or `None` if the pointer is null or
    /// its target is not exactly one of `pool`'s elements.
    ///
    /// ```
    /// use shm_runtime::RelPtr;
    /// let pool = [0u16; 4];
    /// let p = RelPtr::null();
    /// p.set(&pool[3]);
    /// assert_eq!(p.index_in(&pool), Some(3));
    /// assert_eq!(p.index_in(&pool[..3]), None);
    /// ```
    pub fn index_in(&self, pool: &[T]) -> Option<usize> {
        let from_start = self.target_address()?.checked_sub(pool.as_ptr() as usize)?;
        let index = match size_of::<T>() {
            0 => 0,
            size if from_start % size == 0 => from_start / size,
            _ => return None,
        };
        (index < pool.len() && (size_of::<T>() != 0 || from_start == 0)).then_some(index)
    }

    /// The target, if it is one of `pool`'s elements; `None` if the pointer
    /// is null or points anywhere else (outside `pool`, or between two
    /// elements).
    ///
    /// This is the safe way to follow a `RelPtr`: the result is an element of
    /// `pool`, whatever another process wrote in the offset. Give the slice of
    /// the segment that the target belongs to (an array of nodes, or
    /// `std::slice::from_ref(&root.field)` for a single value).
    ///
    /// ```
    /// use shm_runtime::RelPtr;
    /// let pool = [1u32, 2, 3];
    /// let other = 4u32;
    /// let p = RelPtr::null();
    /// assert_eq!(p.get_in(&pool), None); // null
    /// p.set(&pool[0]);
    /// assert_eq!(p.get_in(&pool), Some(&1));
    /// p.set(&other);
    /// assert_eq!(p.get_in(&pool), None); // not in the pool
    /// ```
    pub fn get_in<'a>(&self, pool: &'a [T]) -> Option<&'a T> {
        pool.get(self.index_in(pool)?)
    }

    /// The target, if it lies entirely inside `region` and is aligned for
    /// `T`; `None` otherwise.
    ///
    /// For a segment read as plain bytes (a lookup table written once and
    /// mapped read-only by many). `T: AnyBitPattern` makes any bytes there a
    /// valid `T`, which a bounds check alone could not promise for other
    /// types. `region` must contain this `RelPtr`'s view of the memory, not a
    /// copy of it.
    ///
    /// ```
    /// use shm_runtime::{RelPtr, SharedSafe};
    ///
    /// #[derive(SharedSafe)]
    /// #[repr(C)]
    /// struct Table { link: RelPtr<u32>, values: [u32; 4] }
    ///
    /// let table = Table { link: RelPtr::null(), values: [10, 20, 30, 40] };
    /// table.link.set(&table.values[2]);
    /// // SAFETY: `Table` has no padding (8 + 16 bytes), and nothing writes
    /// // to it while `bytes` is alive.
    /// let bytes = unsafe {
    ///     std::slice::from_raw_parts(&table as *const Table as *const u8, 24)
    /// };
    /// assert_eq!(table.link.get_in_bytes(bytes), Some(&30));
    /// assert_eq!(table.link.get_in_bytes(&bytes[..16]), None); // beyond the region
    /// ```
    pub fn get_in_bytes<'a>(&self, region: &'a [u8]) -> Option<&'a T>
    where
        T: bytemuck::AnyBitPattern,
    {
        let start = self
            .target_address()?
            .checked_sub(region.as_ptr() as usize)?;
        let bytes = region.get(start..start.checked_add(size_of::<T>())?)?;
        bytemuck::try_from_bytes(bytes).ok()
    }

    /// The target, without any check.
    ///
    /// # Safety
    ///
    /// If the pointer is not null, its target must be a valid, aligned `T`
    /// that stays alive for the returned lifetime and is not mutated during
    /// it except through `T`'s own process-safe interior mutability (its
    /// atomics and locks). This holds when the pointer was [`set`](Self::set)
    /// to a `T` of the same segment, with the same type, by a process that
    /// maps the whole segment, and the segment outlives the borrow.
    ///
    /// ```
    /// use shm_runtime::{RelPtr, SharedSafe};
    ///
    /// #[derive(SharedSafe)]
    /// #[repr(C)]
    /// struct Root { config: RelPtr<u32>, value: u32 }
    ///
    /// let root = Root { config: RelPtr::null(), value: 5 };
    /// root.config.set(&root.value);
    /// // SAFETY: `config` points at `root.value`, a valid `u32` that lives
    /// // and stays unchanged as long as `root` is borrowed.
    /// assert_eq!(unsafe { root.config.get() }, Some(&5));
    /// ```
    pub unsafe fn get(&self) -> Option<&T> {
        let address = self.target_address()?;
        // SAFETY: the caller promises that a non-null target is a valid,
        // aligned `T` that lives and stays unchanged for the borrow of `self`.
        // The address comes from an integer cast (exposed provenance), as for
        // any address shared between processes.
        Some(unsafe { &*(address as *const T) })
    }
}

impl<T: SharedSafe> Default for RelPtr<T> {
    fn default() -> Self {
        Self::null()
    }
}

impl<T> fmt::Debug for RelPtr<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset.load(Ordering::Acquire) {
            0 => f.write_str("RelPtr(null)"),
            stored => write!(f, "RelPtr({:+})", stored.wrapping_add(1)),
        }
    }
}

// SAFETY: an `AtomicI64` holding an offset, not an address: it means the same
// thing in every process that maps the segment, and following it is checked
// (`get_in`) or `unsafe` with a contract (`get`). `repr(transparent)`, no drop
// glue, mutation through `&Self` only by atomic stores. The fingerprint
// records the encoding and the target's size and alignment, not its
// fingerprint, so that a type can point at itself (`Node { next:
// RelPtr<Node> }`) without a cycle in constant evaluation.
unsafe impl<T: SharedSafe> SharedSafe for RelPtr<T> {
    const LAYOUT: &'static TypeLayout = &TypeLayout::library::<Self>(
        "RelPtr",
        "RelPtr repr(transparent) target-self-1 0=null",
        &[
            ("target size", size_of::<T>() as u64),
            ("target align", align_of::<T>() as u64),
        ],
        &[Field::plain("offset", 0, AtomicI64::LAYOUT)],
        Validity::Fields,
    );
}

// SAFETY: all zeroes is the null pointer, a valid `AtomicI64` of 0.
unsafe impl<T: SharedSafe> bytemuck::Zeroable for RelPtr<T> {}
