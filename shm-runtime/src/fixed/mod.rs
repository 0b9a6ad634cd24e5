//! Fixed-capacity replacements for `String` and `Vec`: the text or the
//! elements are stored inline, so the value means the same thing in every
//! process that maps it.
//!
//! * [`FixedString<N>`](FixedString): UTF-8 text of at most `N` bytes.
//! * [`FixedVec<T, N>`](FixedVec): up to `N` elements of a
//!   [`SharedSafe`](crate::SharedSafe) type, atomics included.
//!
//! ```
//! use shm_runtime::{FixedString, FixedVec, SharedSafe};
//!
//! #[derive(SharedSafe, Clone, Copy)]
//! #[repr(C)]
//! struct Team {
//!     name: FixedString<16>,
//!     scores: FixedVec<u32, 8>,
//! }
//!
//! let mut team = Team { name: "owls".parse()?, scores: FixedVec::new() };
//! team.scores.push(3);
//! assert!(team.name.try_push_str(" and larks, the whole lot").is_err()); // 16 bytes at most
//! assert_eq!((team.name.as_str(), team.scores.as_slice()), ("owls", &[3][..]));
//! # Ok::<(), shm_runtime::CapacityError>(())
//! ```
//!
//! Both follow the naming of `arrayvec`: `push`, `push_str` and `insert`
//! panic when the value is full (like `Vec` when the allocator fails), and
//! `try_push`, `try_push_str` and `try_insert` return a [`CapacityError`]
//! instead, which gives the rejected value back.
//!
//! # Bytes written by another process
//!
//! A shared value may have been written by a buggy program, a program built
//! from another version of its type, or a C program in raw mode. Reading it
//! must still never be undefined behaviour, so both types treat their length
//! field as untrusted:
//!
//! * the length is clamped to `N` on every read, so no access ever leaves the
//!   value's own storage;
//! * a [`FixedString`] also validates its bytes on every read and shows the
//!   longest valid UTF-8 prefix. Every bit pattern is therefore a valid
//!   `FixedString` (it implements [`bytemuck::AnyBitPattern`]), at the cost of
//!   a UTF-8 check of at most `N` bytes per access;
//! * a [`FixedVec`]'s elements below its (clamped) length are checked like
//!   any other field of type `T` when a segment is opened, or when a lock
//!   holding the vector is taken over from a dead owner (its
//!   [layout](crate::layout) checks exactly those slots): a `2` in a `bool`
//!   element is refused there, before any reference exists. For a `T` that
//!   accepts every bit pattern, every bit pattern is a valid `FixedVec`.
//!
//! All-zero bytes are the empty value, so both implement
//! [`bytemuck::Zeroable`] and work with
//! [`Shared::anonymous(init::zeroed())`](crate::Shared::anonymous).
//!
//! Mutation takes `&mut self`: in shared memory it happens under a lock or
//! through an `unsafe` escape hatch whose contract excludes other writers.

use core::fmt;

mod string;
mod vec;

pub use string::FixedString;
pub use vec::{FixedVec, IntoIter};

/// The error of an operation that would exceed a fixed capacity; it gives
/// back the value that did not fit (`()` when there is none to give back).
///
/// ```
/// use shm_runtime::{CapacityError, FixedVec};
///
/// let mut v = FixedVec::<u32, 1>::new();
/// v.try_push(1).unwrap();
/// let err: CapacityError<u32> = v.try_push(2).unwrap_err();
/// assert_eq!(err.capacity(), 1);
/// assert_eq!(err.required(), 2);
/// assert_eq!(err.to_string(), "capacity exceeded: 2 elements needed, capacity is 1");
/// assert_eq!(err.into_inner(), 2); // the value that did not fit
/// ```
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct CapacityError<T = ()> {
    value: T,
    required: usize,
    capacity: usize,
    unit: &'static str,
}

impl<T> CapacityError<T> {
    pub(crate) const fn new(
        value: T,
        required: usize,
        capacity: usize,
        unit: &'static str,
    ) -> Self {
        CapacityError {
            value,
            required,
            capacity,
            unit,
        }
    }

    /// The capacity that would have been exceeded (bytes for a
    /// [`FixedString`], elements for a [`FixedVec`]).
    ///
    /// ```
    /// use shm_runtime::FixedString;
    /// let err = FixedString::<4>::try_from("hello").unwrap_err();
    /// assert_eq!(err.capacity(), 4);
    /// ```
    pub const fn capacity(&self) -> usize {
        self.capacity
    }

    /// The length the operation needed (bytes or elements).
    ///
    /// ```
    /// use shm_runtime::FixedString;
    /// let err = FixedString::<4>::try_from("hello").unwrap_err();
    /// assert_eq!(err.required(), 5);
    /// ```
    pub const fn required(&self) -> usize {
        self.required
    }

    /// A reference to the value that did not fit.
    ///
    /// ```
    /// use shm_runtime::FixedVec;
    /// let mut v = FixedVec::<char, 0>::new();
    /// assert_eq!(*v.try_push('x').unwrap_err().value(), 'x');
    /// ```
    pub const fn value(&self) -> &T {
        &self.value
    }

    /// The value that did not fit.
    ///
    /// ```
    /// use shm_runtime::FixedString;
    /// let mut s = FixedString::<1>::new();
    /// assert_eq!(s.try_push('é').unwrap_err().into_inner(), 'é');
    /// ```
    pub fn into_inner(self) -> T {
        self.value
    }

    /// The same error without the value, e.g. to return it as a
    /// `Box<dyn Error + Send + Sync>` when the value is not `Send`.
    ///
    /// ```
    /// use shm_runtime::{CapacityError, FixedVec};
    /// let mut v = FixedVec::<u8, 0>::new();
    /// let err: CapacityError = v.try_push(7).unwrap_err().without_value();
    /// assert_eq!(err.required(), 1);
    /// ```
    pub fn without_value(self) -> CapacityError {
        CapacityError::new((), self.required, self.capacity, self.unit)
    }
}

/// Does not show the value, so that every `CapacityError<T>` is `Debug`
/// (and an [`Error`](std::error::Error)) whatever `T`.
impl<T> fmt::Debug for CapacityError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("CapacityError")
            .field("required", &self.required)
            .field("capacity", &self.capacity)
            .field("unit", &self.unit)
            .finish_non_exhaustive()
    }
}

impl<T> fmt::Display for CapacityError<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "capacity exceeded: {} {} needed, capacity is {}",
            self.required, self.unit, self.capacity
        )
    }
}

impl<T> std::error::Error for CapacityError<T> {}

/// Stops the build (at monomorphization) when a capacity does not fit the
/// `u32` length field that `FixedString` and `FixedVec` share with C layouts.
pub(crate) struct CheckCapacity<const N: usize>;

impl<const N: usize> CheckCapacity<N> {
    pub(crate) const OK: () = assert!(
        N <= u32::MAX as usize,
        "the capacity of a FixedString or FixedVec must fit in a u32"
    );
}
