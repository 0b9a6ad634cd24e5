//! What a [`Volatile`](super::Volatile) view may do, and why an access was
//! refused: the access modes [`ReadWrite`] and [`ReadOnly`] (sealed behind
//! [`Access`]), and [`AccessError`].

use crate::error::{Error, ErrorKind};
use core::fmt;

/// The seal of [`Access`] and of [`ReadOnlyLoad`](super::ReadOnlyLoad):
/// implemented for the access modes here and for the atomics in `atomic`.
pub(super) mod sealed {
    pub trait Sealed {}
}

/// Whether a [`Volatile`](super::Volatile) view may write: [`ReadWrite`]
/// or [`ReadOnly`]. Implemented by those two types only.
///
/// ```
/// use shm_runtime::volatile::{Access, ReadOnly, ReadWrite};
/// fn writable<A: Access>() -> bool {
///     A::WRITABLE
/// }
/// assert!(writable::<ReadWrite>() && !writable::<ReadOnly>());
/// ```
pub trait Access: sealed::Sealed {
    /// Whether views of this access may write.
    const WRITABLE: bool;
}

/// The access of a writable view (mapped `PROT_READ | PROT_WRITE`), from
/// the `open` and `create` of a [`Segment::raw`](crate::Segment::raw)
/// segment.
///
/// ```
/// use shm_runtime::{segment::Segment, volatile::ReadWrite, Volatile};
/// let path = std::env::temp_dir().join(format!("shm-runtime-doc-rw-{}", std::process::id()));
/// std::fs::write(&path, [0u8; 4])?;
/// let value: Volatile<u32, ReadWrite> = Segment::file(&path).raw().open()?;
/// value.write(7);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub enum ReadWrite {}

/// The access of a read-only view (mapped `PROT_READ`), from the
/// `open` of a `Segment::raw().read_only()` segment: no method writes.
///
/// ```
/// use shm_runtime::{segment::Segment, volatile::ReadOnly, Volatile};
/// let path = std::env::temp_dir().join(format!("shm-runtime-doc-ro-{}", std::process::id()));
/// std::fs::write(&path, 7u32.to_ne_bytes())?;
/// let value: Volatile<u32, ReadOnly> = Segment::file(&path).raw().read_only().open()?;
/// assert_eq!(value.read(), 7);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub enum ReadOnly {}

impl sealed::Sealed for ReadWrite {}
impl sealed::Sealed for ReadOnly {}
impl Access for ReadWrite {
    const WRITABLE: bool = true;
}
impl Access for ReadOnly {
    const WRITABLE: bool = false;
}

/// Why an access through a [`Volatile`](super::Volatile) view was refused.
/// Cheap to make and `Copy`; converts into [`Error`] (kind
/// [`InvalidSize`](ErrorKind::InvalidSize), or
/// [`Unsupported`](ErrorKind::Unsupported) for a
/// [`ReadOnlyAtomicTooWide`](AccessError::ReadOnlyAtomicTooWide)).
///
/// ```
/// use shm_runtime::{segment::Segment, volatile::AccessError};
/// let path = std::env::temp_dir().join(format!("shm-runtime-doc-accerr-{}", std::process::id()));
/// std::fs::write(&path, [0u8; 16])?;
/// let bytes = Segment::file(&path).raw().len(16).open::<[u8]>()?;
/// assert_eq!(
///     bytes.read_at::<u64>(12),
///     Err(AccessError::OutOfBounds { offset: 12, size: 8, len: 16 })
/// );
/// assert_eq!(bytes.read_at::<u32>(2), Err(AccessError::Misaligned { offset: 2, align: 4 }));
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AccessError {
    /// The `size` bytes at byte `offset` do not lie within the `len` bytes of
    /// the view (or of the type, for a [`Field`](super::Field)).
    OutOfBounds {
        /// The byte offset asked for.
        offset: usize,
        /// The size of the value at that offset.
        size: usize,
        /// The size of the view or type in bytes.
        len: usize,
    },
    /// Element `index` (or the `count` elements from it) is past the `len`
    /// elements of a slice view.
    IndexOutOfBounds {
        /// The first element asked for.
        index: usize,
        /// How many elements were asked for.
        count: usize,
        /// The slice's length.
        len: usize,
    },
    /// The value at byte `offset` would not be aligned to `align`.
    Misaligned {
        /// The byte offset asked for.
        offset: usize,
        /// The alignment the value needs.
        align: usize,
    },
    /// An atomic of `atomic` bytes was asked for an element of `element`
    /// bytes: [`Volatile::atomic`](super::Volatile::atomic) needs elements
    /// of exactly its size.
    SizeMismatch {
        /// The element size.
        element: usize,
        /// The atomic's size.
        atomic: usize,
    },
    /// An atomic of `size` bytes cannot be loaded from read-only memory on
    /// this target: only relaxed loads of at most `limit` bytes are known not
    /// to write (wider ones may be a compare-exchange, which faults).
    ReadOnlyAtomicTooWide {
        /// The atomic's size.
        size: usize,
        /// The widest read-only load of this target, in bytes.
        limit: usize,
    },
    /// A [`Monitor`](crate::Monitor) was given a [`Field`](super::Field)
    /// made by [`Field::new`](super::Field::new) from an offset: it takes
    /// only fields whose type the compiler proved ([`field!`](crate::field!),
    /// [`Field::whole`](super::Field::whole),
    /// [`Field::index`](super::Field::index),
    /// [`Field::then`](super::Field::then)), since an offset taken on trust
    /// could name the middle of an atomic that a writer stores.
    UnprovenField {
        /// The field's offset.
        offset: usize,
    },
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            AccessError::OutOfBounds { offset, size, len } => write!(
                f,
                "{size} bytes at offset {offset} do not fit in the {len} bytes of the view"
            ),
            AccessError::IndexOutOfBounds { index, count, len } => write!(
                f,
                "{count} element(s) from index {index} do not fit in a slice of {len}"
            ),
            AccessError::Misaligned { offset, align } => write!(
                f,
                "offset {offset} is not aligned to the {align} bytes its type needs"
            ),
            AccessError::SizeMismatch { element, atomic } => write!(
                f,
                "a {atomic}-byte atomic cannot cover a {element}-byte element"
            ),
            AccessError::ReadOnlyAtomicTooWide { size, limit } => write!(
                f,
                "a {size}-byte atomic cannot be loaded from read-only memory on this target \
                 (at most {limit} bytes); open the object writable"
            ),
            AccessError::UnprovenField { offset } => write!(
                f,
                "a monitor reads fields named with `field!` (or `Field::whole`, `index`, \
                 `then`), not a field made by `Field::new` (offset {offset})"
            ),
        }
    }
}

impl std::error::Error for AccessError {}

impl From<AccessError> for Error {
    fn from(error: AccessError) -> Error {
        let kind = match error {
            AccessError::ReadOnlyAtomicTooWide { .. } | AccessError::UnprovenField { .. } => {
                ErrorKind::Unsupported
            }
            _ => ErrorKind::InvalidSize,
        };
        Error::new(kind, format!("accessing a raw view: {error}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn access_errors_convert_to_error_kinds() {
        let e: Error = AccessError::Misaligned {
            offset: 1,
            align: 8,
        }
        .into();
        assert_eq!(e.kind(), ErrorKind::InvalidSize);
        assert!(e.to_string().contains("offset 1"), "{e}");
        let e: Error = AccessError::ReadOnlyAtomicTooWide { size: 8, limit: 4 }.into();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
    }
}
