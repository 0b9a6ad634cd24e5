//! [`Field`]: a field of a type by byte offset, always in bounds and
//! aligned; the [`field!`](crate::field!) macro that names one, and the
//! address of a field in a mapped value.

use super::access::AccessError;
use core::fmt;
use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::ptr::NonNull;

/// A field of type `F` inside a `T`, by byte offset: made by
/// [`field!`](crate::field!) from a field name, or by [`Field::new`] from an
/// offset (taken from a C header, say). It is always in bounds of `T` and
/// aligned, so the accesses that take one need no check.
///
/// ```
/// use shm_runtime::volatile::Field;
/// #[repr(C)]
/// struct Rec { id: u32, score: f32 }
/// let score: Field<Rec, f32> = shm_runtime::field!(Rec, score);
/// assert_eq!(score.offset(), 4);
/// assert_eq!(score, Field::<Rec, f32>::new(4)?);
/// # Ok::<(), shm_runtime::volatile::AccessError>(())
/// ```
pub struct Field<T, F> {
    pub(super) offset: usize,
    /// Whether the compiler proved that an `F` lies at `offset` in every
    /// `T` ([`field!`](crate::field!), [`Field::whole`], [`Field::index`],
    /// [`Field::then`] of such fields), rather than the caller claiming it
    /// ([`Field::new`]). A [`Monitor`](crate::Monitor) takes proven fields
    /// only: it reads a typed segment that other processes write with
    /// atomics, and a claimed offset could name the middle of one.
    proven: bool,
    _types: PhantomData<fn(&T) -> &F>,
}

impl<T, F> Field<T, F> {
    /// The field of type `F` at byte `offset` in `T`: refused unless its
    /// bytes lie within `T`, `offset` is a multiple of `F`'s alignment, and
    /// `F` needs no more alignment than `T` (so that it is aligned in every
    /// `T`, each element of a slice included).
    ///
    /// ```
    /// use shm_runtime::volatile::{AccessError, Field};
    /// assert!(Field::<[u32; 4], u32>::new(12).is_ok());
    /// assert_eq!(
    ///     Field::<[u32; 4], u32>::new(6).unwrap_err(),
    ///     AccessError::Misaligned { offset: 6, align: 4 }
    /// );
    /// assert_eq!(
    ///     Field::<[u32; 4], u32>::new(16).unwrap_err(),
    ///     AccessError::OutOfBounds { offset: 16, size: 4, len: 16 }
    /// );
    /// // A `u32` is not aligned at offset 8 of every `[u16; 8]`.
    /// assert!(Field::<[u16; 8], u32>::new(8).is_err());
    /// ```
    pub const fn new(offset: usize) -> core::result::Result<Field<T, F>, AccessError> {
        let fits = match offset.checked_add(size_of::<F>()) {
            Some(end) => end <= size_of::<T>(),
            None => false,
        };
        if !fits {
            return Err(AccessError::OutOfBounds {
                offset,
                size: size_of::<F>(),
                len: size_of::<T>(),
            });
        }
        // Alignments are powers of two.
        if offset & (align_of::<F>() - 1) != 0 || align_of::<F>() > align_of::<T>() {
            return Err(AccessError::Misaligned {
                offset,
                align: align_of::<F>(),
            });
        }
        Ok(Field {
            offset,
            proven: false,
            _types: PhantomData,
        })
    }

    /// What `field!` expands to: `offset` is `offset_of!` of the field that
    /// `_field` projects to, which fits and is aligned in `T` by
    /// construction.
    ///
    /// # Safety
    /// `offset` is the offset in `T` of a field of type exactly `F` (not of
    /// another type that `F` coerces from): the field is then "proven", and
    /// views such as [`Monitor`](crate::Monitor) access it as an `F`
    /// without further checks.
    #[doc(hidden)]
    pub const unsafe fn __named(offset: usize, _field: fn(&T) -> &F) -> Field<T, F> {
        match Field::new(offset) {
            Ok(field) => Field {
                proven: true,
                ..field
            },
            Err(_) => panic!("a field of a type always lies within it"),
        }
    }

    /// The field `inner` of this field: `F`'s field at `inner`'s offset, as
    /// a field of `T`. Proven when both are.
    ///
    /// ```
    /// use shm_runtime::{field, volatile::Field};
    /// #[repr(C)]
    /// struct Worker { pid: u32, jobs: u32 }
    /// #[repr(C)]
    /// struct Pool { version: u32, workers: [Worker; 4] }
    /// let third: Field<Pool, Worker> = field!(Pool, workers).index(2)?;
    /// let jobs: Field<Pool, u32> = third.then(field!(Worker, jobs));
    /// assert_eq!(jobs.offset(), 4 + 2 * 8 + 4);
    /// # Ok::<(), shm_runtime::volatile::AccessError>(())
    /// ```
    pub const fn then<G>(self, inner: Field<F, G>) -> Field<T, G> {
        // `inner` lies within `F` and `self` within `T`, so their sum within
        // `T`; it is a multiple of `G`'s alignment, which divides `F`'s
        // (`inner`'s invariant), which divides `self.offset`; and `G` needs
        // no more alignment than `F`, nor `F` than `T`.
        Field {
            offset: self.offset + inner.offset,
            proven: self.proven && inner.proven,
            _types: PhantomData,
        }
    }

    /// Whether the compiler proved that an `F` lies at this offset (a field
    /// made by [`field!`](crate::field!), [`whole`](Field::whole),
    /// [`index`](Field::index) or [`then`](Field::then)), rather than
    /// [`Field::new`] taking the offset on trust.
    ///
    /// ```
    /// use shm_runtime::{field, volatile::Field};
    /// #[repr(C)]
    /// struct Rec { id: u32, score: f32 }
    /// assert!(field!(Rec, score).is_proven());
    /// assert!(!Field::<Rec, f32>::new(4)?.is_proven());
    /// # Ok::<(), shm_runtime::volatile::AccessError>(())
    /// ```
    pub const fn is_proven(self) -> bool {
        self.proven
    }

    /// The field's byte offset in `T`.
    ///
    /// ```
    /// #[repr(C)]
    /// struct Pair { a: u8, b: u16 }
    /// assert_eq!(shm_runtime::field!(Pair, b).offset(), 2);
    /// ```
    pub const fn offset(self) -> usize {
        self.offset
    }
}

impl<T> Field<T, T> {
    /// The whole `T` as a field of itself (offset 0): for a view whose
    /// entire value is an atomic or a [`SeqLock`](crate::SeqLock).
    ///
    /// ```
    /// use shm_runtime::volatile::Field;
    /// use std::sync::atomic::AtomicU64;
    /// let all = Field::<AtomicU64, AtomicU64>::whole();
    /// assert_eq!(all.offset(), 0);
    /// assert!(all.is_proven());
    /// ```
    pub const fn whole() -> Field<T, T> {
        Field {
            offset: 0,
            proven: true,
            _types: PhantomData,
        }
    }
}

impl<T, E, const N: usize> Field<T, [E; N]> {
    /// Element `index` of this array field, or
    /// [`AccessError::IndexOutOfBounds`] when `index >= N`. Proven when the
    /// array field is.
    ///
    /// ```
    /// use shm_runtime::{field, volatile::AccessError};
    /// #[repr(C)]
    /// struct Slots { count: u64, hits: [u64; 8] }
    /// let hits = field!(Slots, hits);
    /// assert_eq!(hits.index(7)?.offset(), 8 + 7 * 8);
    /// assert_eq!(
    ///     hits.index(8).unwrap_err(),
    ///     AccessError::IndexOutOfBounds { index: 8, count: 1, len: 8 }
    /// );
    /// # Ok::<(), AccessError>(())
    /// ```
    pub const fn index(self, index: usize) -> core::result::Result<Field<T, E>, AccessError> {
        if index >= N {
            return Err(AccessError::IndexOutOfBounds {
                index,
                count: 1,
                len: N,
            });
        }
        // Element `index < N` lies within the array, so within `T`; its
        // offset is a multiple of `E`'s alignment (the array's offset is one
        // of the array's, which is `E`'s, and so is `size_of::<E>()`).
        Ok(Field {
            offset: self.offset + index * size_of::<E>(),
            proven: self.proven,
            _types: PhantomData,
        })
    }

    /// The number of elements, `N`.
    ///
    /// ```
    /// #[repr(C)]
    /// struct Slots { hits: [u64; 8] }
    /// assert_eq!(shm_runtime::field!(Slots, hits).len(), 8);
    /// ```
    #[allow(clippy::len_without_is_empty)]
    pub const fn len(self) -> usize {
        N
    }
}

impl<T, F> Clone for Field<T, F> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T, F> Copy for Field<T, F> {}
impl<T, F> PartialEq for Field<T, F> {
    fn eq(&self, other: &Self) -> bool {
        self.offset == other.offset
    }
}
impl<T, F> Eq for Field<T, F> {}
impl<T, F> fmt::Debug for Field<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Field<{}, {}>({})",
            std::any::type_name::<T>(),
            std::any::type_name::<F>(),
            self.offset
        )
    }
}

/// The [`Field`] of a named field of a struct, for the field accessors of a
/// [`Volatile`](super::Volatile) view: `field!(Type, name)` or, for a
/// field of a nested struct, `field!(Type, outer.inner)`. The offset comes
/// from [`core::mem::offset_of!`], the field's type is inferred.
///
/// ```
/// use shm_runtime::{field, volatile::Field};
/// #[repr(C)]
/// struct Pos { x: i32, y: i32 }
/// #[repr(C)]
/// struct Ship { id: u64, pos: Pos }
/// let y: Field<Ship, i32> = field!(Ship, pos.y);
/// assert_eq!(y.offset(), 12);
/// ```
#[macro_export]
macro_rules! field {
    ($T:ty, $($field:tt).+ $(,)?) => {{
        // The projection's type is inferred from the field itself before
        // anything fixes `F`, so no deref coercion can turn a field into
        // another type at the same offset.
        let project = $crate::volatile::__project::<$T, _>(|value: &$T| &value.$($field).+);
        // SAFETY: the offset is `offset_of!` of exactly the field that
        // `project` returns, whose type is the field's own.
        unsafe {
            $crate::volatile::Field::<$T, _>::__named(::core::mem::offset_of!($T, $($field).+), project)
        }
    }};
}

/// What [`field!`] passes its projection through: a function of `&T` whose
/// result type is inferred from the closure's body alone (no coercion).
#[doc(hidden)]
pub const fn __project<T, F>(project: fn(&T) -> &F) -> fn(&T) -> &F {
    project
}

/// The address of `field` in the `T` at `base`.
///
/// # Safety
/// `base` points to a whole `T` inside one mapping.
pub(crate) unsafe fn field_ptr<T, F>(base: NonNull<T>, field: Field<T, F>) -> NonNull<F> {
    // SAFETY: `field` lies within `T` (its invariant), so within the `T`
    // at `base` (the caller's contract).
    unsafe { base.cast::<u8>().add(field.offset) }.cast::<F>()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[repr(C)]
    struct Rec {
        a: u8,
        b: u32,
        inner: Inner,
    }
    #[repr(C)]
    struct Inner {
        x: u16,
        y: u64,
    }

    #[test]
    fn named_fields_have_their_offsets_and_types() {
        let b: Field<Rec, u32> = crate::field!(Rec, b);
        assert_eq!(b.offset(), 4);
        let y: Field<Rec, u64> = crate::field!(Rec, inner.y);
        assert_eq!(y.offset(), core::mem::offset_of!(Rec, inner.y));
        const A: Field<Rec, u8> = crate::field!(Rec, a);
        assert_eq!(A.offset(), 0);
    }

    #[test]
    fn fields_by_offset_are_checked() {
        assert_eq!(
            Field::<u32, u8>::new(usize::MAX).unwrap_err(),
            AccessError::OutOfBounds {
                offset: usize::MAX,
                size: 1,
                len: 4
            }
        );
        assert!(Field::<u32, u8>::new(3).is_ok());
        assert!(Field::<u32, ()>::new(4).is_ok());
        assert_eq!(
            Field::<[u8; 8], u16>::new(2).unwrap_err(),
            AccessError::Misaligned {
                offset: 2,
                align: 2
            }
        );
    }
}
