//! What a new shared value is made from: the [`Init`] argument of
//! [`Segment::create`](crate::Segment::create),
//! [`Segment::open_or_create`](crate::Segment::open_or_create) and
//! [`Shared::anonymous`](crate::Shared::anonymous).
//!
//! | To make                                   | Pass                          | Bound on `T`        | View            |
//! |-------------------------------------------|-------------------------------|---------------------|-----------------|
//! | a value, moved in                         | `value`                       | `SharedSafe`        | `Shared<T>`     |
//! | an all-zero value, never on the stack     | [`zeroed()`]                  | `+ ZeroInit`        | `Shared<T>`     |
//! | a value zeroed, then finished in place    | [`in_place(\|v: &mut T\| ..)`](in_place) | `+ ZeroInit` | `Shared<T>` |
//! | `len` all-zero elements                   | [`zeroed_slice(len)`](zeroed_slice) | `+ ZeroInit`        | `Shared<[T]>`   |
//! | `len` elements, element `i` being `f(i)`  | [`from_fn(len, f)`](from_fn)  | `SharedSafe`        | `Shared<[T]>`   |
//!
//! Any [`SharedSafe`] value is itself an `Init` of its type, so
//! `create(value)` reads as before; the functions here return the other
//! initializers, and name the type by a turbofish where nothing else does
//! (`init::zeroed::<Stats>()`). Every initializer writes into zero-filled
//! memory that no other process can see yet, and never reads it.
//!
//! ```
//! use shm_runtime::{init, Shared};
//!
//! let value = Shared::anonymous(7u32)?;
//! let zeroed = Shared::anonymous(init::zeroed::<[u64; 1024]>())?;
//! let built = Shared::anonymous(init::in_place(|t: &mut [u32; 4]| t[3] = 9))?;
//! let zeros = Shared::anonymous(init::zeroed_slice::<f64>(100))?;
//! let squares = Shared::anonymous(init::from_fn(10, |i| (i * i) as u64))?;
//! assert_eq!((*value, zeroed[1023], built[3]), (7, 0, 9));
//! assert_eq!((zeros.len(), squares[9]), (100, 81));
//! # Ok::<(), shm_runtime::Error>(())
//! ```
//!
//! A value passed to `open_or_create` is built before the call, whether it
//! is then written or the existing segment is opened instead: `SharedSafe`
//! types have no `Drop`, so the one discarded costs only its construction.
//! For a value expensive to build, or too large for the stack, pass
//! [`in_place`], which runs only in the process that creates the segment.

use crate::{SharedSafe, ZeroInit};
use std::fmt;
use std::marker::PhantomData;
use std::ptr::NonNull;

/// The traits' items, which only this crate implements and calls.
pub(crate) mod sealed {
    use crate::SharedSafe;
    use std::ptr::NonNull;

    pub trait PayloadSealed {
        /// The type of the one value, or of the slice's elements.
        type Elem: SharedSafe;
        /// Whether this is a slice.
        const SLICE: bool;
        /// The pointer to `len` elements from `first` (`len` is 1 for a
        /// value).
        fn from_parts(first: NonNull<Self::Elem>, len: usize) -> NonNull<Self>;
    }

    pub trait InitSealed<T: ?Sized + super::Payload> {
        /// How many elements of `T::Elem` this initializer makes (1 for a
        /// value).
        fn len(&self) -> usize;

        /// Writes the value or the elements to `first`.
        ///
        /// # Safety
        /// `first` is aligned and valid for writes of `self.len()` elements,
        /// which hold zero bytes, and nothing else reads or writes them, nor
        /// can another process see them, until this returns.
        unsafe fn write(self, first: NonNull<T::Elem>);
    }
}

/// The element type of a [`Payload`]: `T` for `T` and for `[T]`, as the
/// bounds of raw views name it (`Elem<T>: bytemuck::AnyBitPattern`).
///
/// ```
/// use shm_runtime::init::Elem;
/// let both: [Elem<[u16]>; 2] = [1u16, Elem::<u16>::MAX];
/// assert_eq!(both, [1, 65535]);
/// ```
pub type Elem<P> = <P as sealed::PayloadSealed>::Elem;

/// What shared memory may hold: a [`SharedSafe`] type `T`, or a slice `[T]`
/// of one. Implemented for those only; `Segment::open::<[u32]>()` opens a
/// slice as `Segment::open::<u32>()` opens a value.
///
/// ```
/// use shm_runtime::init::Payload;
/// fn shows<P: Payload + ?Sized>() {}
/// shows::<u64>();
/// shows::<[u64]>();
/// ```
pub trait Payload: sealed::PayloadSealed {}

impl<T: SharedSafe> sealed::PayloadSealed for T {
    type Elem = T;
    const SLICE: bool = false;
    fn from_parts(first: NonNull<T>, _len: usize) -> NonNull<T> {
        first
    }
}

impl<T: SharedSafe> sealed::PayloadSealed for [T] {
    type Elem = T;
    const SLICE: bool = true;
    fn from_parts(first: NonNull<T>, len: usize) -> NonNull<[T]> {
        NonNull::slice_from_raw_parts(first, len)
    }
}

impl<T: SharedSafe> Payload for T {}
impl<T: SharedSafe> Payload for [T] {}

/// What a new `T` (or `[T]`) is made from: a value of `T`, or one of this
/// module's initializers (see the [module documentation](self) for the
/// table). Implemented by those only.
///
/// ```
/// use shm_runtime::{init::{self, Init}, Shared, SharedSafe};
///
/// // A function that makes anonymous memory from whatever initializer.
/// fn make<T: SharedSafe>(what: impl Init<T>) -> shm_runtime::Result<Shared<T>> {
///     Shared::anonymous(what)
/// }
/// assert_eq!(*make(3u8)?, 3);
/// assert_eq!(*make(init::zeroed::<u8>())?, 0);
/// # Ok::<(), shm_runtime::Error>(())
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` does not make a `{T}` in shared memory",
    label = "not a value of `{T}`, nor an initializer of one",
    note = "pass a value of the type, or `init::zeroed()`, `init::in_place(|v| ..)`, \
            `init::zeroed_slice(len)` or `init::from_fn(len, |i| ..)`"
)]
pub trait Init<T: ?Sized + Payload>: sealed::InitSealed<T> {}

impl<T: SharedSafe> sealed::InitSealed<T> for T {
    fn len(&self) -> usize {
        1
    }

    unsafe fn write(self, first: NonNull<T>) {
        // SAFETY: the caller's contract: aligned, valid for one `T`, and
        // private; the zero bytes there need no drop.
        unsafe { crate::layout::write_zero_padded(first.as_ptr(), self) }
    }
}

impl<T: SharedSafe> Init<T> for T {}

/// An all-zero `T`, zero-filled by the system: no `T` is built on the
/// stack. Made by [`zeroed`].
pub struct Zeroed<T>(PhantomData<fn() -> T>);

/// An all-zero `T`: the initializer of a large value, which never passes
/// through the stack (the system zero-fills new memory).
///
/// ```
/// use shm_runtime::{init, Shared};
/// let big = Shared::anonymous(init::zeroed::<[u64; 1 << 20]>())?;
/// assert_eq!(big[12345], 0);
/// # Ok::<(), shm_runtime::Error>(())
/// ```
pub fn zeroed<T: SharedSafe + ZeroInit>() -> Zeroed<T> {
    Zeroed(PhantomData)
}

// Without `T: ZeroInit` here: a `Zeroed<T>` is only made by `zeroed`,
// which requires it, so that a type without it gets one error, there.
impl<T: SharedSafe> sealed::InitSealed<T> for Zeroed<T> {
    fn len(&self) -> usize {
        1
    }

    unsafe fn write(self, _first: NonNull<T>) {
        // Zero bytes are a valid `T` (`T: Zeroable`, required by `zeroed`,
        // the only maker of a `Zeroed<T>`): nothing to write.
    }
}

impl<T: SharedSafe> Init<T> for Zeroed<T> {}

/// A `T` that starts all-zero and is finished in place by a closure. Made
/// by [`in_place`].
pub struct InPlace<T, F>(F, PhantomData<fn() -> T>);

/// A `T` that starts all-zero and is finished in place by `init`, which
/// gets a plain `&mut T` before any other process can see the value
/// (openers wait until it returns). If `init` panics, nothing is published
/// (a named segment's name is removed, and waiting openers get
/// [`CreatorDied`](crate::ErrorKind::CreatorDied)). `init` may not fork.
///
/// ```
/// use shm_runtime::{init, segment::Segment};
/// let table = Segment::posix(format!("/shm-runtime-doc-inplace-{}", std::process::id()))
///     .remove_on_drop(true)
///     .create(init::in_place(|t: &mut [u32; 1024]| {
///         for (i, x) in t.iter_mut().enumerate() {
///             *x = i as u32 * 2;
///         }
///     }))?;
/// assert_eq!(table[1000], 2000);
/// # Ok::<(), shm_runtime::Error>(())
/// ```
pub fn in_place<T: SharedSafe + ZeroInit, F: FnOnce(&mut T)>(init: F) -> InPlace<T, F> {
    InPlace(init, PhantomData)
}

// `T: ZeroInit` is required by `in_place`, the only maker of an `InPlace`.
impl<T: SharedSafe, F: FnOnce(&mut T)> sealed::InitSealed<T> for InPlace<T, F> {
    fn len(&self) -> usize {
        1
    }

    unsafe fn write(self, first: NonNull<T>) {
        // `init` may not fork: a child would keep the `&mut T` while the
        // value is published and shared.
        let _no_fork = crate::process::ForkBarrier::new();
        // SAFETY: zero bytes, a valid and aligned `T` (`T: Zeroable`, as
        // `in_place` requires), which
        // nothing else reads or writes until this returns (the caller's
        // contract): this is the only reference.
        (self.0)(unsafe { &mut *first.as_ptr() })
    }
}

impl<T: SharedSafe, F: FnOnce(&mut T)> Init<T> for InPlace<T, F> {}

/// `len` all-zero elements of `T`. Made by [`zeroed_slice`].
pub struct ZeroedSlice<T>(usize, PhantomData<fn() -> T>);

/// A slice of `len` all-zero elements, zero-filled by the system.
///
/// ```
/// use shm_runtime::{init, Shared};
/// let samples = Shared::anonymous(init::zeroed_slice::<f64>(1000))?;
/// assert_eq!(samples.len(), 1000);
/// assert!(samples.iter().all(|s| *s == 0.0));
/// # Ok::<(), shm_runtime::Error>(())
/// ```
pub fn zeroed_slice<T: SharedSafe + ZeroInit>(len: usize) -> ZeroedSlice<T> {
    ZeroedSlice(len, PhantomData)
}

// `T: ZeroInit` is required by `zeroed_slice`, the only maker of a
// `ZeroedSlice`.
impl<T: SharedSafe> sealed::InitSealed<[T]> for ZeroedSlice<T> {
    fn len(&self) -> usize {
        self.0
    }

    unsafe fn write(self, _first: NonNull<T>) {
        // Zero bytes are valid elements (`T: Zeroable`, required by
        // `zeroed_slice`): nothing to write.
    }
}

impl<T: SharedSafe> Init<[T]> for ZeroedSlice<T> {}

/// `len` elements, element `i` being `element(i)`. Made by [`from_fn`].
pub struct FromFn<T, F>(usize, F, PhantomData<fn() -> T>);

/// A slice of `len` elements, element `i` being `element(i)`, written in
/// place one at a time, padding zeroed (nothing of the stack lands in
/// shared memory). If `element` panics, nothing is published.
///
/// ```
/// use shm_runtime::{init, Shared};
/// let squares = Shared::anonymous(init::from_fn(10, |i| (i * i) as u64))?;
/// assert_eq!(squares[9], 81);
/// # Ok::<(), shm_runtime::Error>(())
/// ```
pub fn from_fn<T: SharedSafe, F: FnMut(usize) -> T>(len: usize, element: F) -> FromFn<T, F> {
    FromFn(len, element, PhantomData)
}

impl<T: SharedSafe, F: FnMut(usize) -> T> FromFn<T, F> {
    /// Writes the elements.
    ///
    /// # Safety
    /// `first` is aligned and valid for writes of `len` elements; what they
    /// held is overwritten without being read or dropped.
    pub(crate) unsafe fn write_to(mut self, first: NonNull<T>) {
        for i in 0..self.0 {
            // SAFETY: `i < len` (caller's contract). Should `element`
            // panic, the elements written need no drop.
            unsafe { crate::layout::write_zero_padded(first.as_ptr().add(i), (self.1)(i)) };
        }
    }

    /// How many elements this makes.
    pub(crate) fn count(&self) -> usize {
        self.0
    }
}

impl<T: SharedSafe, F: FnMut(usize) -> T> sealed::InitSealed<[T]> for FromFn<T, F> {
    fn len(&self) -> usize {
        self.0
    }

    unsafe fn write(self, first: NonNull<T>) {
        // SAFETY: the caller's contract covers `len` elements.
        unsafe { self.write_to(first) }
    }
}

impl<T: SharedSafe, F: FnMut(usize) -> T> Init<[T]> for FromFn<T, F> {}

impl<T> fmt::Debug for Zeroed<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "init::zeroed::<{}>()", std::any::type_name::<T>())
    }
}

impl<T, F> fmt::Debug for InPlace<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "init::in_place::<{}>(..)", std::any::type_name::<T>())
    }
}

impl<T> fmt::Debug for ZeroedSlice<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "init::zeroed_slice::<{}>({})",
            std::any::type_name::<T>(),
            self.0
        )
    }
}

impl<T, F> fmt::Debug for FromFn<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "init::from_fn::<{}>({}, ..)",
            std::any::type_name::<T>(),
            self.0
        )
    }
}

/// The layout of a payload, checked: `len` elements fit in the address space
/// (`None` otherwise).
pub(crate) fn payload_bytes<P: ?Sized + Payload>(len: usize) -> Option<usize> {
    size_of::<Elem<P>>()
        .checked_mul(len)
        .filter(|b| *b <= isize::MAX as usize)
}
