//! [`CapacityError`]: a fixed-capacity container was asked to hold more
//! than it can; and the compile-time bound on a capacity.

use core::fmt;

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
    /// [`FixedString`](super::FixedString), elements for a [`FixedVec`](super::FixedVec)).
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
