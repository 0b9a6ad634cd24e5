//! The format's constants: its magic, version and limits, the sizes of its
//! header and records, and the codes of kinds and scalars.

use crate::layout::Scalar;

/// The first four bytes of a description.
///
/// ```
/// assert_eq!(&shm_runtime::layout::describe::MAGIC, b"SHMT");
/// ```
pub const MAGIC: [u8; 4] = *b"SHMT";

/// The format version that [`encode`](super::encode()) writes and
/// [`Description::decode`](super::Description::decode) reads.
///
/// ```
/// assert_eq!(shm_runtime::layout::describe::VERSION, 1);
/// ```
pub const VERSION: u16 = 1;

/// The largest description, in bytes, header included.
///
/// ```
/// assert_eq!(shm_runtime::layout::describe::MAX_LEN, 1 << 20);
/// ```
pub const MAX_LEN: usize = 1 << 20;

/// The most type records in a description.
///
/// ```
/// assert_eq!(shm_runtime::layout::describe::MAX_TYPES, 1 << 16);
/// ```
pub const MAX_TYPES: usize = 1 << 16;

/// The most fields, variants or parameters of one type.
///
/// ```
/// assert_eq!(shm_runtime::layout::describe::MAX_ITEMS, 1 << 16);
/// ```
pub const MAX_ITEMS: usize = 1 << 16;

/// The longest name, repr or protocol, in bytes of UTF-8.
///
/// ```
/// assert_eq!(shm_runtime::layout::describe::MAX_STR, 1024);
/// ```
pub const MAX_STR: usize = 1024;

/// The deepest nesting: a scalar is one level, a struct holding it two.
///
/// ```
/// assert_eq!(shm_runtime::layout::describe::MAX_DEPTH, 64);
/// ```
pub const MAX_DEPTH: usize = 64;

/// The largest alignment (Rust's own limit, 2^29).
pub(super) const MAX_ALIGN: u64 = 1 << 29;
/// The largest size of a type (`isize::MAX` on 64-bit targets).
pub(super) const MAX_SIZE: u64 = i64::MAX as u64;
pub(super) const HEADER_LEN: usize = 16;
/// The smallest record: kind, empty name, size, align, scalar code.
pub(super) const MIN_RECORD: usize = 1 + 2 + 8 + 8 + 1;
/// The smallest field: empty name, offset, type, access.
pub(super) const MIN_FIELD: usize = 2 + 8 + 4 + 1;
/// The smallest variant: empty name, discriminant.
pub(super) const MIN_VARIANT: usize = 2 + 16;
/// The smallest parameter: empty name, value.
pub(super) const MIN_PARAM: usize = 2 + 8;
/// How many type visits [`Description::fingerprint`] may make.
pub(super) const FINGERPRINT_BUDGET: usize = 1 << 20;

pub(super) const KIND_SCALAR: u8 = 0;
pub(super) const KIND_ARRAY: u8 = 1;
pub(super) const KIND_STRUCT: u8 = 2;
pub(super) const KIND_ENUM: u8 = 3;
pub(super) const KIND_LIBRARY: u8 = 4;

/// The scalar code of the format (see the [module documentation](super)).
pub(super) fn scalar_code(scalar: Scalar) -> u8 {
    match scalar {
        Scalar::Unit => 0,
        Scalar::Unsigned => 1,
        Scalar::Signed => 2,
        Scalar::Float => 3,
        Scalar::Bool => 4,
        Scalar::Char => 5,
        Scalar::NonZeroUnsigned => 6,
        Scalar::NonZeroSigned => 7,
        Scalar::AtomicUnsigned => 8,
        Scalar::AtomicSigned => 9,
        Scalar::AtomicBool => 10,
    }
}

pub(super) fn scalar_of_code(code: u8) -> Option<Scalar> {
    Some(match code {
        0 => Scalar::Unit,
        1 => Scalar::Unsigned,
        2 => Scalar::Signed,
        3 => Scalar::Float,
        4 => Scalar::Bool,
        5 => Scalar::Char,
        6 => Scalar::NonZeroUnsigned,
        7 => Scalar::NonZeroSigned,
        8 => Scalar::AtomicUnsigned,
        9 => Scalar::AtomicSigned,
        10 => Scalar::AtomicBool,
        _ => return None,
    })
}
