//! A [`TypeLayout`] as bytes, and back: the layout description that a
//! segment can carry, so that a program (this library's tool, a Python or C
//! reader) that does not have the type can still read it, and a wrong-type
//! open can say what differs.
//!
//! [`encode`] writes a layout; [`Description::decode`] reads one from bytes
//! that nobody vouches for (every length, count, index and offset is
//! checked, and the whole is bounded by the [limits](#limits)); a
//! [`Description`] is the owned result, and
//! [`first_difference`](Description::first_difference) names the first
//! thing in which two of them differ.
//!
//! ```
//! use shm_runtime::layout::describe::{self, Description};
//! use shm_runtime::SharedSafe;
//!
//! mod old {
//!     #[derive(shm_runtime::SharedSafe)]
//!     #[repr(C)]
//!     pub struct Stats { pub hits: u64, pub errors: u32 }
//! }
//! #[derive(SharedSafe)]
//! #[repr(C)]
//! struct Stats { hits: u64, errors: u64 }
//!
//! let bytes = describe::encode(old::Stats::LAYOUT)?;
//! let stored = Description::decode(&bytes)?;
//! let ours = Description::of(Stats::LAYOUT)?;
//! assert_eq!(stored.fingerprint(), Some(old::Stats::FINGERPRINT));
//! assert_eq!(
//!     stored.first_difference(&ours).unwrap().to_string(),
//!     "field `errors` is `u32` at offset 8; this program's `Stats` has `u64` at offset 8"
//! );
//! # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
//! ```
//!
//! # The format, version 1
//!
//! All integers are little-endian and unaligned. A *str* is a `u16` byte
//! length followed by that many bytes of UTF-8 (at most [`MAX_STR`]).
//!
//! The description starts with a header of 16 bytes:
//!
//! | offset | size | field |
//! |-------:|-----:|-------|
//! | 0 | 4 | magic: the bytes `SHMT` ([`MAGIC`]) |
//! | 4 | 2 | format version: 1 ([`VERSION`]) |
//! | 6 | 2 | flags: 0 (a reader refuses any other value) |
//! | 8 | 4 | total length in bytes, this header included (at most [`MAX_LEN`]) |
//! | 12 | 4 | number of type records that follow, 1 to [`MAX_TYPES`] |
//!
//! Then the type records, back to back, numbered from 0. A record refers to
//! other types by number, and only to records before it: the table has no
//! cycle, and the **last record is the described type**. Each distinct type
//! is stored once (the encoder merges records with equal bytes), so an
//! array of any length is one record, and a type used in many places costs
//! one record plus a 4-byte reference per use.
//!
//! Every record starts the same way:
//!
//! | size | field |
//! |-----:|-------|
//! | 1 | kind: 0 scalar, 1 array, 2 struct, 3 enum, 4 library type |
//! | str | the type's name (informational, not compared) |
//! | 8 | size in bytes (`size_of`) |
//! | 8 | alignment in bytes (`align_of`), a power of two |
//!
//! followed by the part of its kind:
//!
//! | kind | fields |
//! |------|--------|
//! | 0 scalar | `u8` scalar code (below) |
//! | 1 array | `u32` element type, `u64` length |
//! | 2 struct | str repr (`repr(C)`), `u32` field count, the *fields* |
//! | 3 enum | `u8` scalar code of its repr (1 unsigned, 2 signed), `u32` variant count, per variant: str name, `u128` discriminant (sign-extended for a signed repr) |
//! | 4 library | str protocol, `u8` validity (below), `u32` parameter count, per parameter: str name, `u64` value; `u32` field count, the *fields* |
//!
//! A *field* is: str name, `u64` offset, `u32` type, `u8` access (0: plain,
//! checked when a segment is opened; 1: written under the type's protocol,
//! checked by it). Fields come in offset order, do not overlap and lie
//! inside their type, each at an offset aligned for its type. A library
//! type with no fields is opaque: its parameters (a size, an alignment) are
//! all that is known of its bytes.
//!
//! Scalar codes: 0 `()` and zero-sized markers, 1 unsigned integer, 2 signed
//! integer, 3 float, 4 `bool`, 5 `char`, 6 `NonZeroU*`, 7 `NonZeroI*`, 8
//! `AtomicU*`, 9 `AtomicI*`, 10 `AtomicBool`; the width is the record's
//! size, and the scalar's name (`u64`, `usize`) is part of what is compared.
//!
//! Validity codes: 0 its plain fields are checked, 1 any bytes are valid,
//! 2 nothing is known (typed opens refuse it), 3 a check of its own (code
//! that a description cannot carry).
//!
//! # Size
//!
//! A record takes 19 bytes plus its name, plus: 1 (scalar); 12 (array);
//! 6 + repr + 15 + name per field (struct); 5 + 18 + name per variant (enum);
//! 11 + protocol + 10 + name per parameter + 15 + name per field (library).
//! The description is 16 bytes plus its distinct records: its size depends
//! on the number of distinct types and fields, never on array lengths or on
//! how often a type is used. `[Record; 100000]` is `Record`'s records plus
//! 36 bytes; a type whose every level holds its previous level twice is one
//! record per level.
//!
//! # Limits
//!
//! A description is at most [`MAX_LEN`] bytes, [`MAX_TYPES`] records,
//! [`MAX_ITEMS`] fields, variants or parameters per record, [`MAX_STR`] bytes
//! per name, and [`MAX_DEPTH`] levels of nesting (a scalar is one level, an
//! array of it two). [`encode`] refuses a layout beyond them, and
//! [`Description::decode`] refuses such bytes, as it refuses any byte that
//! does not follow this format, with a [`DescriptionError`] that says what
//! is wrong and at which byte. A decoded description is consistent: sizes
//! agree with array lengths and field offsets, alignments are powers of two,
//! names of fields, variants and parameters are unique in their type.

use super::{Access, LayoutKind, Scalar, TypeLayout, Validity};
use crate::fingerprint::{mix_str, mix_u128, mix_u64};
use crate::{Error, ErrorKind, Fingerprint};
use std::collections::{HashMap, HashSet};
use std::fmt;

/// The first four bytes of a description.
///
/// ```
/// assert_eq!(&shm_runtime::layout::describe::MAGIC, b"SHMT");
/// ```
pub const MAGIC: [u8; 4] = *b"SHMT";

/// The format version that [`encode`] writes and
/// [`Description::decode`] reads.
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
const MAX_ALIGN: u64 = 1 << 29;
/// The largest size of a type (`isize::MAX` on 64-bit targets).
const MAX_SIZE: u64 = i64::MAX as u64;
const HEADER_LEN: usize = 16;
/// The smallest record: kind, empty name, size, align, scalar code.
const MIN_RECORD: usize = 1 + 2 + 8 + 8 + 1;
/// The smallest field: empty name, offset, type, access.
const MIN_FIELD: usize = 2 + 8 + 4 + 1;
/// The smallest variant: empty name, discriminant.
const MIN_VARIANT: usize = 2 + 16;
/// The smallest parameter: empty name, value.
const MIN_PARAM: usize = 2 + 8;
/// How many type visits [`Description::fingerprint`] may make.
const FINGERPRINT_BUDGET: usize = 1 << 20;

const KIND_SCALAR: u8 = 0;
const KIND_ARRAY: u8 = 1;
const KIND_STRUCT: u8 = 2;
const KIND_ENUM: u8 = 3;
const KIND_LIBRARY: u8 = 4;

/// The scalar code of the format (see the [module documentation](self)).
fn scalar_code(scalar: Scalar) -> u8 {
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

fn scalar_of_code(code: u8) -> Option<Scalar> {
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

/// How a [library type](KindDesc::Library)'s bytes are checked: a
/// [`Validity`] without the code of a custom check.
///
/// ```
/// use shm_runtime::layout::describe::{Description, KindDesc, ValidityDesc};
/// use shm_runtime::{FixedString, SharedSafe};
/// let d = Description::of(FixedString::<8>::LAYOUT)?;
/// let KindDesc::Library { validity, .. } = &d.get(d.root()).kind else { unreachable!() };
/// assert_eq!(*validity, ValidityDesc::AnyBits);
/// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ValidityDesc {
    /// Its [`Plain`](Access::Plain) fields are checked.
    Fields,
    /// Any bytes are valid.
    AnyBits,
    /// Nothing is known: typed opens refuse it.
    Unknown,
    /// A check of its own, which the description does not carry.
    Custom,
}

impl ValidityDesc {
    fn of(validity: &Validity) -> ValidityDesc {
        match validity {
            Validity::Fields => ValidityDesc::Fields,
            Validity::AnyBits => ValidityDesc::AnyBits,
            Validity::Unknown => ValidityDesc::Unknown,
            Validity::Custom(_) => ValidityDesc::Custom,
        }
    }

    /// The format's code, which is also the fingerprint's.
    fn code(self) -> u8 {
        match self {
            ValidityDesc::Fields => 0,
            ValidityDesc::AnyBits => 1,
            ValidityDesc::Unknown => 2,
            ValidityDesc::Custom => 3,
        }
    }

    fn of_code(code: u8) -> Option<ValidityDesc> {
        Some(match code {
            0 => ValidityDesc::Fields,
            1 => ValidityDesc::AnyBits,
            2 => ValidityDesc::Unknown,
            3 => ValidityDesc::Custom,
            _ => return None,
        })
    }

    fn says(self) -> &'static str {
        match self {
            ValidityDesc::Fields => "is checked by its fields",
            ValidityDesc::AnyBits => "accepts any bytes",
            ValidityDesc::Unknown => "cannot be checked",
            ValidityDesc::Custom => "has a check of its own",
        }
    }
}

/// The number of a type in a [`Description`]'s table.
///
/// ```
/// use shm_runtime::layout::describe::Description;
/// use shm_runtime::SharedSafe;
/// let d = Description::of(<[u8; 4]>::LAYOUT)?;
/// assert_eq!(d.root().index(), 1); // `u8` is type 0
/// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct TypeId(u32);

impl TypeId {
    /// Its place in [`Description::types`].
    ///
    /// ```
    /// use shm_runtime::layout::describe::Description;
    /// use shm_runtime::SharedSafe;
    /// let d = Description::of(u32::LAYOUT)?;
    /// assert_eq!(d.root().index(), 0);
    /// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
    /// ```
    pub fn index(self) -> usize {
        self.0 as usize
    }
}

/// One type of a [`Description`]: what a [`TypeLayout`] says, owned.
///
/// ```
/// use shm_runtime::layout::describe::Description;
/// use shm_runtime::SharedSafe;
/// let d = Description::of(u16::LAYOUT)?;
/// let t = d.get(d.root());
/// assert_eq!((t.name.as_str(), t.size, t.align), ("u16", 2, 2));
/// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct TypeDesc {
    /// Its name (`"u32"`, `"Stats"`, `"array"`); informational.
    pub name: String,
    /// Its size in bytes.
    pub size: u64,
    /// Its alignment in bytes.
    pub align: u64,
    /// What it is made of.
    pub kind: KindDesc,
}

/// What a [`TypeDesc`] is made of: a [`LayoutKind`], owned, with types
/// referenced by [`TypeId`].
///
/// ```
/// use shm_runtime::layout::describe::{Description, KindDesc};
/// use shm_runtime::SharedSafe;
/// let d = Description::of(<[u8; 4]>::LAYOUT)?;
/// let KindDesc::Array { element, len } = d.get(d.root()).kind else { unreachable!() };
/// assert_eq!((d.get(element).name.as_str(), len), ("u8", 4));
/// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum KindDesc {
    /// An integer, float, `bool`, `char`, `NonZero*`, atomic or `()`.
    Scalar(Scalar),
    /// `[element; len]`.
    Array {
        /// The element type.
        element: TypeId,
        /// The number of elements.
        len: u64,
    },
    /// A `repr(C)` or `repr(transparent)` struct.
    Struct {
        /// Its repr as written (`"repr(C)"`).
        repr: String,
        /// Its fields, in offset order.
        fields: Vec<FieldDesc>,
    },
    /// A fieldless enum.
    Enum {
        /// [`Scalar::Unsigned`] or [`Scalar::Signed`]: the discriminant's
        /// kind; its width is the type's size.
        repr: Scalar,
        /// Its variants in declaration order.
        variants: Vec<VariantDesc>,
    },
    /// A type of this crate or a hand-written impl; opaque when it has no
    /// fields.
    Library {
        /// The protocol's name and version (`"ShmMutex futex v5"`).
        protocol: String,
        /// Numbers that parametrize it (`("capacity", 8)`).
        params: Vec<(String, u64)>,
        /// Its parts, in offset order.
        fields: Vec<FieldDesc>,
        /// How its bytes are checked.
        validity: ValidityDesc,
    },
}

/// A field of a struct or library type in a [`Description`].
///
/// ```
/// use shm_runtime::layout::describe::{Description, KindDesc};
/// use shm_runtime::{FixedString, SharedSafe};
/// let d = Description::of(FixedString::<8>::LAYOUT)?;
/// let KindDesc::Library { fields, .. } = &d.get(d.root()).kind else { unreachable!() };
/// assert_eq!((fields[1].name.as_str(), fields[1].offset), ("bytes", 4));
/// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct FieldDesc {
    /// Its name.
    pub name: String,
    /// Its offset in the containing type.
    pub offset: u64,
    /// Its type.
    pub ty: TypeId,
    /// Whether opening a segment checks it.
    pub access: Access,
}

/// A variant of an enum in a [`Description`].
///
/// ```
/// use shm_runtime::layout::describe::{Description, KindDesc};
/// use shm_runtime::SharedSafe;
/// #[derive(SharedSafe)]
/// #[repr(i8)]
/// enum Level { Low = -1, High = 1 }
/// let d = Description::of(Level::LAYOUT)?;
/// let KindDesc::Enum { variants, .. } = &d.get(d.root()).kind else { unreachable!() };
/// assert_eq!((variants[0].name.as_str(), variants[0].value), ("Low", u128::MAX));
/// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct VariantDesc {
    /// Its name.
    pub name: String,
    /// Its discriminant, sign-extended for a signed repr.
    pub value: u128,
}

/// The description of a type, read from bytes or made from a
/// [`TypeLayout`]: a table of types in which each refers only to types
/// before it, the last being the described type. See the
/// [module documentation](self).
///
/// ```
/// use shm_runtime::layout::describe::Description;
/// use shm_runtime::SharedSafe;
/// let d = Description::of(<[[u16; 2]; 3]>::LAYOUT)?;
/// assert_eq!(d.types().len(), 3);
/// assert_eq!(d.type_name(d.root()), "[[u16; 2]; 3]");
/// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Description {
    /// Not empty; each refers to earlier ones only.
    types: Vec<TypeDesc>,
}

/// What is wrong with a description's bytes (or with a layout that
/// [`encode`] cannot write): see [`DescriptionError`].
///
/// ```
/// use shm_runtime::layout::describe::{Description, Problem};
/// let err = Description::decode(b"SH").unwrap_err();
/// assert!(matches!(err.problem(), Problem::Truncated { .. }));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The bytes do not start with [`MAGIC`].
    BadMagic,
    /// Another format version than [`VERSION`].
    UnsupportedVersion(u16),
    /// Flags that this version does not know.
    UnknownFlags(u16),
    /// The header's length is not the length of the bytes.
    LengthMismatch {
        /// What the header says.
        claimed: u64,
        /// How many bytes there are.
        actual: u64,
    },
    /// Longer than [`MAX_LEN`].
    TooLong {
        /// The length.
        len: u64,
    },
    /// The bytes end inside something.
    Truncated {
        /// What was being read.
        what: &'static str,
        /// How many bytes it needs.
        needed: u64,
        /// How many were left.
        left: u64,
    },
    /// More of something than the limits allow, or than the bytes left can
    /// hold.
    TooMany {
        /// Of what.
        what: &'static str,
        /// How many are claimed.
        count: u64,
        /// How many can be.
        limit: u64,
    },
    /// A string longer than [`MAX_STR`].
    StringTooLong {
        /// Its length.
        len: u64,
    },
    /// A string that is not UTF-8.
    InvalidUtf8,
    /// A code (kind, scalar, validity, access) that the format does not
    /// have.
    UnknownCode {
        /// Which code.
        what: &'static str,
        /// Its value.
        code: u8,
    },
    /// A reference to a type that is not before the referring one (out of
    /// range, itself, or later: a cycle).
    BadReference {
        /// The type referred to.
        index: u32,
        /// The referring record.
        record: u32,
    },
    /// Nested deeper than [`MAX_DEPTH`].
    TooDeep {
        /// The limit.
        limit: usize,
    },
    /// Sizes, offsets or alignments that do not agree.
    Inconsistent(String),
    /// Two fields, variants or parameters of a type with the same name.
    DuplicateName {
        /// Of what.
        what: &'static str,
        /// The name.
        name: String,
    },
    /// Bytes after the last record.
    TrailingBytes {
        /// How many.
        left: u64,
    },
}

impl fmt::Display for Problem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Problem::BadMagic => write!(f, "it does not start with `SHMT`"),
            Problem::UnsupportedVersion(v) => write!(
                f,
                "format version {v}, but this library reads version {VERSION}"
            ),
            Problem::UnknownFlags(flags) => write!(f, "unknown flags {flags:#06x}"),
            Problem::LengthMismatch { claimed, actual } => write!(
                f,
                "the header claims {claimed} bytes but there are {actual}"
            ),
            Problem::TooLong { len } => {
                write!(f, "{len} bytes is more than the limit of {MAX_LEN}")
            }
            Problem::Truncated { what, needed, left } => {
                write!(f, "{what} needs {needed} bytes but only {left} are left")
            }
            Problem::TooMany { what, count, limit } => {
                write!(f, "{count} {what}, more than {limit}")
            }
            Problem::StringTooLong { len } => write!(
                f,
                "a string of {len} bytes, more than the limit of {MAX_STR}"
            ),
            Problem::InvalidUtf8 => write!(f, "a string that is not UTF-8"),
            Problem::UnknownCode { what, code } => write!(f, "unknown {what} code {code}"),
            Problem::BadReference { index, record } => write!(
                f,
                "type {record} refers to type {index}, which is not before it"
            ),
            Problem::TooDeep { limit } => {
                write!(f, "types nested more than {limit} levels deep")
            }
            Problem::Inconsistent(what) => f.write_str(what),
            Problem::DuplicateName { what, name } => write!(f, "two {what}s named `{name}`"),
            Problem::TrailingBytes { left } => {
                write!(f, "{left} bytes after the last type record")
            }
        }
    }
}

/// A description that cannot be read (at which byte, and what is wrong),
/// or a layout that cannot be written (beyond the [limits](self#limits)).
///
/// Converts to an [`Error`] of kind
/// [`UnsupportedVersion`](ErrorKind::UnsupportedVersion) for another format
/// version, [`NotASegment`](ErrorKind::NotASegment) for other bad bytes
/// (corrupt) and [`Unsupported`](ErrorKind::Unsupported) for a layout beyond
/// the limits.
///
/// ```
/// use shm_runtime::layout::describe::{Description, Problem};
/// use shm_runtime::ErrorKind;
///
/// let mut bytes = shm_runtime::layout::describe::encode(<u8 as shm_runtime::SharedSafe>::LAYOUT)?;
/// bytes[4] = 9; // the version
/// let err = Description::decode(&bytes).unwrap_err();
/// assert_eq!((err.offset(), err.problem()), (Some(4), &Problem::UnsupportedVersion(9)));
/// assert_eq!(
///     err.to_string(),
///     "invalid layout description at byte 4: format version 9, but this library reads version 1"
/// );
/// assert_eq!(shm_runtime::Error::from(err).kind(), ErrorKind::UnsupportedVersion);
/// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct DescriptionError {
    offset: Option<usize>,
    problem: Problem,
}

impl DescriptionError {
    fn at(offset: usize, problem: Problem) -> DescriptionError {
        DescriptionError {
            offset: Some(offset),
            problem,
        }
    }

    fn encoding(problem: Problem) -> DescriptionError {
        DescriptionError {
            offset: None,
            problem,
        }
    }

    /// The byte of the description at which the problem is; `None` for a
    /// layout that [`encode`] refused.
    ///
    /// ```
    /// use shm_runtime::layout::describe::Description;
    /// assert_eq!(Description::decode(b"SHMX............").unwrap_err().offset(), Some(0));
    /// ```
    pub fn offset(&self) -> Option<usize> {
        self.offset
    }

    /// What is wrong.
    ///
    /// ```
    /// use shm_runtime::layout::describe::{Description, Problem};
    /// let err = Description::decode(b"SHMX............").unwrap_err();
    /// assert_eq!(err.problem(), &Problem::BadMagic);
    /// ```
    pub fn problem(&self) -> &Problem {
        &self.problem
    }
}

impl fmt::Display for DescriptionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(at) => write!(
                f,
                "invalid layout description at byte {at}: {}",
                self.problem
            ),
            None => write!(f, "the layout cannot be described: {}", self.problem),
        }
    }
}

impl std::error::Error for DescriptionError {}

impl From<DescriptionError> for Error {
    fn from(err: DescriptionError) -> Error {
        let kind = match (&err.offset, &err.problem) {
            (None, _) => ErrorKind::Unsupported,
            (Some(_), Problem::UnsupportedVersion(_)) => ErrorKind::UnsupportedVersion,
            (Some(_), _) => ErrorKind::NotASegment,
        };
        Error::new(kind, err.to_string())
    }
}

// ---------------------------------------------------------------------------
// Encoding

/// Writes the description of `layout` in the [format](self#the-format-version-1).
///
/// # Errors
/// A layout beyond the [limits](self#limits) (a name longer than
/// [`MAX_STR`], nesting deeper than [`MAX_DEPTH`], ...): [`DescriptionError`]
/// without an offset.
///
/// ```
/// use shm_runtime::layout::describe;
/// use shm_runtime::SharedSafe;
///
/// #[derive(SharedSafe)]
/// #[repr(C)]
/// struct Record { id: u64, flags: [u8; 8] }
///
/// let bytes = describe::encode(<[Record; 100_000]>::LAYOUT)?;
/// assert_eq!(&bytes[..4], b"SHMT");
/// assert!(bytes.len() < 256, "{} bytes", bytes.len());
/// # Ok::<(), describe::DescriptionError>(())
/// ```
pub fn encode(layout: &TypeLayout) -> Result<Vec<u8>, DescriptionError> {
    let mut encoder = Encoder {
        records: Vec::new(),
        count: 0,
        by_content: HashMap::new(),
        by_address: HashMap::new(),
    };
    let (_, height) = encoder.add(layout, 1)?;
    if height > MAX_DEPTH {
        return Err(DescriptionError::encoding(Problem::TooDeep {
            limit: MAX_DEPTH,
        }));
    }
    let len = HEADER_LEN + encoder.records.len();
    if len > MAX_LEN {
        return Err(DescriptionError::encoding(Problem::TooLong {
            len: len as u64,
        }));
    }
    let mut out = Vec::with_capacity(len);
    out.extend_from_slice(&MAGIC);
    out.extend_from_slice(&VERSION.to_le_bytes());
    out.extend_from_slice(&0u16.to_le_bytes());
    out.extend_from_slice(&(len as u32).to_le_bytes());
    out.extend_from_slice(&encoder.count.to_le_bytes());
    out.extend_from_slice(&encoder.records);
    Ok(out)
}

struct Encoder {
    records: Vec<u8>,
    count: u32,
    /// Records already written, by their bytes: equal types are stored once.
    by_content: HashMap<Vec<u8>, u32>,
    /// Layouts already visited (index, height), so that a layout reached
    /// along many paths is walked once.
    by_address: HashMap<usize, (u32, usize)>,
}

impl Encoder {
    /// Adds `layout` (at nesting `depth`) and what it is made of; returns
    /// its index and its height.
    fn add(&mut self, layout: &TypeLayout, depth: usize) -> Result<(u32, usize), DescriptionError> {
        if depth > MAX_DEPTH {
            return Err(DescriptionError::encoding(Problem::TooDeep {
                limit: MAX_DEPTH,
            }));
        }
        let address = layout as *const TypeLayout as usize;
        if let Some(&known) = self.by_address.get(&address) {
            return Ok(known);
        }
        let mut record = Vec::new();
        let mut height = 1;
        record.push(match layout.kind {
            LayoutKind::Scalar(_) => KIND_SCALAR,
            LayoutKind::Array { .. } => KIND_ARRAY,
            LayoutKind::Struct { .. } => KIND_STRUCT,
            LayoutKind::Enum { .. } => KIND_ENUM,
            LayoutKind::Library { .. } => KIND_LIBRARY,
        });
        put_str(&mut record, layout.name)?;
        record.extend_from_slice(&(layout.size as u64).to_le_bytes());
        record.extend_from_slice(&(layout.align as u64).to_le_bytes());
        match &layout.kind {
            LayoutKind::Scalar(scalar) => record.push(scalar_code(*scalar)),
            LayoutKind::Array { element, len } => {
                let (index, h) = self.add(element, depth + 1)?;
                height = height.max(h + 1);
                record.extend_from_slice(&index.to_le_bytes());
                record.extend_from_slice(&(*len as u64).to_le_bytes());
            }
            LayoutKind::Struct { repr, fields } => {
                put_str(&mut record, repr)?;
                height = height.max(self.put_fields(&mut record, fields, depth)? + 1);
            }
            LayoutKind::Enum { repr, variants } => {
                record.push(scalar_code(*repr));
                put_count(&mut record, variants.len(), "variants")?;
                for variant in *variants {
                    put_str(&mut record, variant.name)?;
                    record.extend_from_slice(&variant.value.to_le_bytes());
                }
            }
            LayoutKind::Library {
                protocol,
                params,
                fields,
                validity,
            } => {
                put_str(&mut record, protocol)?;
                record.push(ValidityDesc::of(validity).code());
                put_count(&mut record, params.len(), "parameters")?;
                for (name, value) in *params {
                    put_str(&mut record, name)?;
                    record.extend_from_slice(&value.to_le_bytes());
                }
                height = height.max(self.put_fields(&mut record, fields, depth)? + 1);
            }
        }
        let index = match self.by_content.get(&record) {
            Some(&index) => index,
            None => {
                if self.count as usize >= MAX_TYPES {
                    return Err(DescriptionError::encoding(Problem::TooMany {
                        what: "types",
                        count: self.count as u64 + 1,
                        limit: MAX_TYPES as u64,
                    }));
                }
                if self.records.len() + record.len() > MAX_LEN {
                    return Err(DescriptionError::encoding(Problem::TooLong {
                        len: (HEADER_LEN + self.records.len() + record.len()) as u64,
                    }));
                }
                let index = self.count;
                self.count += 1;
                self.records.extend_from_slice(&record);
                self.by_content.insert(record, index);
                index
            }
        };
        self.by_address.insert(address, (index, height));
        Ok((index, height))
    }

    /// Writes `fields` (their types first); returns their greatest height.
    fn put_fields(
        &mut self,
        record: &mut Vec<u8>,
        fields: &[super::Field],
        depth: usize,
    ) -> Result<usize, DescriptionError> {
        put_count(record, fields.len(), "fields")?;
        let mut height = 0;
        for field in fields {
            let (index, h) = self.add(field.layout, depth + 1)?;
            height = height.max(h);
            put_str(record, field.name)?;
            record.extend_from_slice(&(field.offset as u64).to_le_bytes());
            record.extend_from_slice(&index.to_le_bytes());
            record.push(match field.access {
                Access::Plain => 0,
                Access::Protocol => 1,
            });
        }
        Ok(height)
    }
}

fn put_str(out: &mut Vec<u8>, s: &str) -> Result<(), DescriptionError> {
    if s.len() > MAX_STR {
        return Err(DescriptionError::encoding(Problem::StringTooLong {
            len: s.len() as u64,
        }));
    }
    out.extend_from_slice(&(s.len() as u16).to_le_bytes());
    out.extend_from_slice(s.as_bytes());
    Ok(())
}

fn put_count(out: &mut Vec<u8>, count: usize, what: &'static str) -> Result<(), DescriptionError> {
    if count > MAX_ITEMS {
        return Err(DescriptionError::encoding(Problem::TooMany {
            what,
            count: count as u64,
            limit: MAX_ITEMS as u64,
        }));
    }
    out.extend_from_slice(&(count as u32).to_le_bytes());
    Ok(())
}

// ---------------------------------------------------------------------------
// Decoding

/// Reads untrusted bytes, never past their end.
struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Reader<'a> {
    fn left(&self) -> usize {
        self.bytes.len() - self.at
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], DescriptionError> {
        if n > self.left() {
            return Err(DescriptionError::at(
                self.at,
                Problem::Truncated {
                    what,
                    needed: n as u64,
                    left: self.left() as u64,
                },
            ));
        }
        let taken = &self.bytes[self.at..self.at + n];
        self.at += n;
        Ok(taken)
    }

    fn array<const N: usize>(&mut self, what: &'static str) -> Result<[u8; N], DescriptionError> {
        let mut out = [0; N];
        out.copy_from_slice(self.take(N, what)?);
        Ok(out)
    }

    fn u8(&mut self, what: &'static str) -> Result<u8, DescriptionError> {
        Ok(self.array::<1>(what)?[0])
    }

    fn u16(&mut self, what: &'static str) -> Result<u16, DescriptionError> {
        self.array(what).map(u16::from_le_bytes)
    }

    fn u32(&mut self, what: &'static str) -> Result<u32, DescriptionError> {
        self.array(what).map(u32::from_le_bytes)
    }

    fn u64(&mut self, what: &'static str) -> Result<u64, DescriptionError> {
        self.array(what).map(u64::from_le_bytes)
    }

    fn u128(&mut self, what: &'static str) -> Result<u128, DescriptionError> {
        self.array(what).map(u128::from_le_bytes)
    }

    fn str(&mut self, what: &'static str) -> Result<String, DescriptionError> {
        let start = self.at;
        let len = self.u16(what)? as usize;
        if len > MAX_STR {
            return Err(DescriptionError::at(
                start,
                Problem::StringTooLong { len: len as u64 },
            ));
        }
        let bytes = self.take(len, what)?;
        match std::str::from_utf8(bytes) {
            Ok(s) => Ok(s.to_owned()),
            Err(_) => Err(DescriptionError::at(start + 2, Problem::InvalidUtf8)),
        }
    }

    /// A count of items of at least `min_size` bytes each: refused before
    /// anything is allocated for them when it exceeds the limit or what
    /// the bytes left can hold.
    fn count(
        &mut self,
        what: &'static str,
        min_size: usize,
        limit: usize,
    ) -> Result<usize, DescriptionError> {
        let start = self.at;
        let count = self.u32(what)? as usize;
        if count > limit {
            return Err(DescriptionError::at(
                start,
                Problem::TooMany {
                    what,
                    count: count as u64,
                    limit: limit as u64,
                },
            ));
        }
        let room = self.left() / min_size;
        if count > room {
            return Err(DescriptionError::at(
                start,
                Problem::TooMany {
                    what,
                    count: count as u64,
                    limit: room as u64,
                },
            ));
        }
        Ok(count)
    }

    /// A reference from record `record` to an earlier one.
    fn reference(&mut self, record: usize) -> Result<TypeId, DescriptionError> {
        let start = self.at;
        let index = self.u32("a type reference")?;
        if index as usize >= record {
            return Err(DescriptionError::at(
                start,
                Problem::BadReference {
                    index,
                    record: record as u32,
                },
            ));
        }
        Ok(TypeId(index))
    }

    fn fields(&mut self, record: usize) -> Result<Vec<FieldDesc>, DescriptionError> {
        let count = self.count("fields", MIN_FIELD, MAX_ITEMS)?;
        let mut fields = Vec::new();
        for _ in 0..count {
            let name = self.str("a field name")?;
            let offset = self.u64("a field offset")?;
            let ty = self.reference(record)?;
            let at = self.at;
            let access = match self.u8("a field access")? {
                0 => Access::Plain,
                1 => Access::Protocol,
                code => {
                    return Err(DescriptionError::at(
                        at,
                        Problem::UnknownCode {
                            what: "access",
                            code,
                        },
                    ))
                }
            };
            fields.push(FieldDesc {
                name,
                offset,
                ty,
                access,
            });
        }
        Ok(fields)
    }
}

impl Description {
    /// The description of `layout`: what [`decode`](Self::decode) reads
    /// from [`encode`]'s bytes.
    ///
    /// # Errors
    /// As [`encode`]: a layout beyond the [limits](self#limits).
    ///
    /// ```
    /// use shm_runtime::layout::describe::Description;
    /// use shm_runtime::SharedSafe;
    /// let d = Description::of(<[u32; 8]>::LAYOUT)?;
    /// assert_eq!(d.get(d.root()).size, 32);
    /// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
    /// ```
    pub fn of(layout: &TypeLayout) -> Result<Description, DescriptionError> {
        Description::decode(&encode(layout)?)
    }

    /// Reads a description from bytes that nobody vouches for: exactly one
    /// description, as [`encode`] writes it (the header's length is the
    /// length of `bytes`).
    ///
    /// Reading is bounded: no recursion, every index refers to an earlier
    /// record, every count is checked against the [limits](self#limits)
    /// and the bytes left before anything is allocated for it, and memory
    /// use is proportional to `bytes.len()` (at most [`MAX_LEN`]).
    ///
    /// # Errors
    /// Bytes that do not follow the format or are not consistent: a
    /// [`DescriptionError`] with the offset of the first wrong byte.
    ///
    /// ```
    /// use shm_runtime::layout::describe::{self, Description, Problem};
    /// use shm_runtime::SharedSafe;
    ///
    /// let bytes = describe::encode(<[u8; 4]>::LAYOUT)?;
    /// assert_eq!(Description::decode(&bytes)?, Description::of(<[u8; 4]>::LAYOUT)?);
    ///
    /// let err = Description::decode(&bytes[..bytes.len() - 1]).unwrap_err();
    /// assert!(matches!(err.problem(), Problem::LengthMismatch { .. }));
    /// # Ok::<(), describe::DescriptionError>(())
    /// ```
    pub fn decode(bytes: &[u8]) -> Result<Description, DescriptionError> {
        let mut r = Reader { bytes, at: 0 };
        if r.array::<4>("the magic")? != MAGIC {
            return Err(DescriptionError::at(0, Problem::BadMagic));
        }
        let version = r.u16("the version")?;
        if version != VERSION {
            return Err(DescriptionError::at(
                4,
                Problem::UnsupportedVersion(version),
            ));
        }
        let flags = r.u16("the flags")?;
        if flags != 0 {
            return Err(DescriptionError::at(6, Problem::UnknownFlags(flags)));
        }
        let claimed = r.u32("the length")? as u64;
        if claimed > MAX_LEN as u64 {
            return Err(DescriptionError::at(8, Problem::TooLong { len: claimed }));
        }
        if claimed != bytes.len() as u64 {
            return Err(DescriptionError::at(
                8,
                Problem::LengthMismatch {
                    claimed,
                    actual: bytes.len() as u64,
                },
            ));
        }
        let count = r.count("types", MIN_RECORD, MAX_TYPES)?;
        if count == 0 {
            return Err(DescriptionError::at(
                12,
                Problem::Inconsistent("no type records".into()),
            ));
        }
        let mut types: Vec<TypeDesc> = Vec::new();
        let mut heights: Vec<usize> = Vec::new();
        for record in 0..count {
            let start = r.at;
            let kind = r.u8("a record kind")?;
            let name = r.str("a type name")?;
            let size = r.u64("a type size")?;
            let align = r.u64("a type alignment")?;
            let kind = match kind {
                KIND_SCALAR => {
                    let at = r.at;
                    let code = r.u8("a scalar code")?;
                    KindDesc::Scalar(scalar_of_code(code).ok_or_else(|| {
                        DescriptionError::at(
                            at,
                            Problem::UnknownCode {
                                what: "scalar",
                                code,
                            },
                        )
                    })?)
                }
                KIND_ARRAY => KindDesc::Array {
                    element: r.reference(record)?,
                    len: r.u64("an array length")?,
                },
                KIND_STRUCT => KindDesc::Struct {
                    repr: r.str("a repr")?,
                    fields: r.fields(record)?,
                },
                KIND_ENUM => {
                    let at = r.at;
                    let code = r.u8("an enum repr")?;
                    let repr = match scalar_of_code(code) {
                        Some(repr @ (Scalar::Unsigned | Scalar::Signed)) => repr,
                        _ => {
                            return Err(DescriptionError::at(
                                at,
                                Problem::UnknownCode {
                                    what: "enum repr",
                                    code,
                                },
                            ))
                        }
                    };
                    let count = r.count("variants", MIN_VARIANT, MAX_ITEMS)?;
                    let mut variants = Vec::new();
                    for _ in 0..count {
                        variants.push(VariantDesc {
                            name: r.str("a variant name")?,
                            value: r.u128("a discriminant")?,
                        });
                    }
                    KindDesc::Enum { repr, variants }
                }
                KIND_LIBRARY => {
                    let protocol = r.str("a protocol")?;
                    let at = r.at;
                    let code = r.u8("a validity")?;
                    let validity = ValidityDesc::of_code(code).ok_or_else(|| {
                        DescriptionError::at(
                            at,
                            Problem::UnknownCode {
                                what: "validity",
                                code,
                            },
                        )
                    })?;
                    let count = r.count("parameters", MIN_PARAM, MAX_ITEMS)?;
                    let mut params = Vec::new();
                    for _ in 0..count {
                        params.push((r.str("a parameter name")?, r.u64("a parameter")?));
                    }
                    KindDesc::Library {
                        protocol,
                        params,
                        fields: r.fields(record)?,
                        validity,
                    }
                }
                code => {
                    return Err(DescriptionError::at(
                        start,
                        Problem::UnknownCode { what: "kind", code },
                    ))
                }
            };
            let ty = TypeDesc {
                name,
                size,
                align,
                kind,
            };
            check_record(&types, &ty).map_err(|problem| DescriptionError::at(start, problem))?;
            let height = 1 + children(&ty.kind)
                .map(|child| heights[child.index()])
                .max()
                .unwrap_or(0);
            if height > MAX_DEPTH {
                return Err(DescriptionError::at(
                    start,
                    Problem::TooDeep { limit: MAX_DEPTH },
                ));
            }
            heights.push(height);
            types.push(ty);
        }
        if r.left() > 0 {
            return Err(DescriptionError::at(
                r.at,
                Problem::TrailingBytes {
                    left: r.left() as u64,
                },
            ));
        }
        Ok(Description { types })
    }
}

/// The types a kind refers to.
fn children(kind: &KindDesc) -> impl Iterator<Item = TypeId> + '_ {
    let (element, fields): (Option<TypeId>, &[FieldDesc]) = match kind {
        KindDesc::Array { element, .. } => (Some(*element), &[]),
        KindDesc::Struct { fields, .. } | KindDesc::Library { fields, .. } => (None, fields),
        KindDesc::Scalar(_) | KindDesc::Enum { .. } => (None, &[]),
    };
    element.into_iter().chain(fields.iter().map(|f| f.ty))
}

/// Checks that a record agrees with itself and the records before it
/// (which it refers to, already checked).
fn check_record(types: &[TypeDesc], ty: &TypeDesc) -> Result<(), Problem> {
    let bad = |what: String| Err(Problem::Inconsistent(what));
    if !ty.align.is_power_of_two() || ty.align > MAX_ALIGN {
        return bad(format!(
            "`{}` has alignment {}, not a power of two up to 2^29",
            ty.name, ty.align
        ));
    }
    if ty.size > MAX_SIZE || ty.size % ty.align != 0 {
        return bad(format!(
            "`{}` has size {}, not a multiple of its alignment {} below 2^63",
            ty.name, ty.size, ty.align
        ));
    }
    match &ty.kind {
        KindDesc::Scalar(scalar) => {
            let sizes: &[u64] = match scalar {
                Scalar::Unit => &[0],
                Scalar::Bool | Scalar::AtomicBool => &[1],
                Scalar::Char => &[4],
                Scalar::Float => &[2, 4, 8, 16],
                Scalar::AtomicUnsigned | Scalar::AtomicSigned => &[1, 2, 4, 8, 16],
                Scalar::Unsigned
                | Scalar::Signed
                | Scalar::NonZeroUnsigned
                | Scalar::NonZeroSigned => &[1, 2, 4, 8, 16],
            };
            if !sizes.contains(&ty.size) || ty.align > ty.size.max(1) {
                return bad(format!(
                    "the scalar `{}` has size {} and alignment {}",
                    ty.name, ty.size, ty.align
                ));
            }
        }
        KindDesc::Array { element, len } => {
            let element = &types[element.index()];
            if element.size.checked_mul(*len) != Some(ty.size) || element.align != ty.align {
                return bad(format!(
                    "an array of {len} `{}` ({} bytes, aligned to {}) claims size {} and alignment {}",
                    element.name, element.size, element.align, ty.size, ty.align
                ));
            }
        }
        KindDesc::Struct { fields, .. } => check_fields(types, ty, fields)?,
        KindDesc::Enum { variants, .. } => {
            if ty.size == 0 {
                return bad(format!("the enum `{}` has size 0", ty.name));
            }
            let mut names = HashSet::new();
            let mut values = HashSet::new();
            for variant in variants {
                if !names.insert(variant.name.as_str()) {
                    return Err(Problem::DuplicateName {
                        what: "variant",
                        name: variant.name.clone(),
                    });
                }
                if !values.insert(variant.value) {
                    return bad(format!(
                        "two variants of `{}` have discriminant {}",
                        ty.name, variant.value
                    ));
                }
            }
        }
        KindDesc::Library { params, fields, .. } => {
            let mut names = HashSet::new();
            for (name, _) in params {
                if !names.insert(name.as_str()) {
                    return Err(Problem::DuplicateName {
                        what: "parameter",
                        name: name.clone(),
                    });
                }
            }
            check_fields(types, ty, fields)?;
        }
    }
    Ok(())
}

fn check_fields(types: &[TypeDesc], ty: &TypeDesc, fields: &[FieldDesc]) -> Result<(), Problem> {
    let mut names = HashSet::new();
    let mut end = 0;
    for field in fields {
        if !names.insert(field.name.as_str()) {
            return Err(Problem::DuplicateName {
                what: "field",
                name: field.name.clone(),
            });
        }
        let field_ty = &types[field.ty.index()];
        let field_end = field.offset.checked_add(field_ty.size);
        let problem = if field.offset < end {
            "overlaps the field before it"
        } else if field_end.is_none_or(|e| e > ty.size) {
            "ends beyond its type"
        } else if field.offset % field_ty.align != 0 || field_ty.align > ty.align {
            "is not aligned for its type"
        } else {
            end = field_end.unwrap_or(0);
            continue;
        };
        return Err(Problem::Inconsistent(format!(
            "field `{}` of `{}` (`{}` at offset {}) {problem}",
            field.name, ty.name, field_ty.name, field.offset
        )));
    }
    Ok(())
}

// ---------------------------------------------------------------------------
// Reading a description

impl Description {
    /// The described type: the last of the table.
    ///
    /// ```
    /// use shm_runtime::layout::describe::Description;
    /// use shm_runtime::SharedSafe;
    /// let d = Description::of(u8::LAYOUT)?;
    /// assert_eq!(d.get(d.root()).name, "u8");
    /// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
    /// ```
    pub fn root(&self) -> TypeId {
        TypeId(self.types.len() as u32 - 1)
    }

    /// The type `id`.
    ///
    /// # Panics
    /// If `id` is not of this description's table (an id of a larger
    /// description).
    ///
    /// ```
    /// use shm_runtime::layout::describe::Description;
    /// use shm_runtime::SharedSafe;
    /// let d = Description::of(i64::LAYOUT)?;
    /// assert_eq!(d.get(d.root()).size, 8);
    /// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
    /// ```
    pub fn get(&self, id: TypeId) -> &TypeDesc {
        &self.types[id.index()]
    }

    /// Every type of the table, each referring only to earlier ones.
    ///
    /// ```
    /// use shm_runtime::layout::describe::Description;
    /// use shm_runtime::SharedSafe;
    /// let d = Description::of(<[bool; 2]>::LAYOUT)?;
    /// let names: Vec<&str> = d.types().iter().map(|t| t.name.as_str()).collect();
    /// assert_eq!(names, ["bool", "array"]);
    /// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
    /// ```
    pub fn types(&self) -> &[TypeDesc] {
        &self.types
    }

    /// How type `id` is written in messages: its name, or `[element; len]`
    /// for an array.
    ///
    /// ```
    /// use shm_runtime::layout::describe::Description;
    /// use shm_runtime::SharedSafe;
    /// let d = Description::of(<[u64; 3]>::LAYOUT)?;
    /// assert_eq!(d.type_name(d.root()), "[u64; 3]");
    /// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
    /// ```
    pub fn type_name(&self, id: TypeId) -> String {
        let ty = self.get(id);
        match &ty.kind {
            // Bounded: arrays nest at most `MAX_DEPTH` deep.
            KindDesc::Array { element, len } => format!("[{}; {len}]", self.type_name(*element)),
            _ => ty.name.clone(),
        }
    }

    /// The [`Fingerprint`] of the described type: equal to
    /// [`Fingerprint::of_layout`] of the layout it was made from, so that a
    /// stored description can be checked against a stored fingerprint.
    /// `None` when computing it would take more than a million steps (a
    /// hostile table whose every level refers twice to the one below: the
    /// fingerprint walks the tree, not the table).
    ///
    /// ```
    /// use shm_runtime::layout::describe::Description;
    /// use shm_runtime::{SharedSafe, ShmMutex};
    /// let d = Description::of(<ShmMutex<[u32; 4]>>::LAYOUT)?;
    /// assert_eq!(d.fingerprint(), Some(<ShmMutex<[u32; 4]>>::FINGERPRINT));
    /// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
    /// ```
    pub fn fingerprint(&self) -> Option<Fingerprint> {
        let mut budget = FINGERPRINT_BUDGET;
        self.hash(crate::fingerprint::START, self.root(), &mut budget)
            .map(Fingerprint::from_state)
    }

    /// The layout module's `hash_layout`, over the table. Bounded in depth by
    /// `MAX_DEPTH` and in steps by `budget`.
    fn hash(&self, state: u64, id: TypeId, budget: &mut usize) -> Option<u64> {
        *budget = budget.checked_sub(1)?;
        let ty = self.get(id);
        let s = mix_u64(mix_u64(state, ty.size), ty.align);
        Some(match &ty.kind {
            KindDesc::Scalar(scalar) => {
                mix_str(mix_u64(mix_str(s, "scalar"), scalar.code()), &ty.name)
            }
            KindDesc::Array { element, len } => {
                mix_u64(self.hash(mix_str(s, "array"), *element, budget)?, *len)
            }
            KindDesc::Struct { repr, fields } => {
                self.hash_fields(mix_str(mix_str(s, "struct"), repr), fields, budget)?
            }
            KindDesc::Enum { repr, variants } => {
                let mut s = mix_u64(mix_str(s, "enum"), repr.code());
                s = mix_u64(s, variants.len() as u64);
                for variant in variants {
                    s = mix_u128(mix_str(s, &variant.name), variant.value);
                }
                s
            }
            KindDesc::Library {
                protocol,
                params,
                fields,
                validity,
            } => {
                let mut s = mix_str(mix_str(s, "library"), protocol);
                s = mix_u64(s, params.len() as u64);
                for (name, value) in params {
                    s = mix_u64(mix_str(s, name), *value);
                }
                self.hash_fields(mix_u64(s, validity.code() as u64), fields, budget)?
            }
        })
    }

    fn hash_fields(&self, state: u64, fields: &[FieldDesc], budget: &mut usize) -> Option<u64> {
        let mut s = mix_u64(state, fields.len() as u64);
        for field in fields {
            s = mix_u64(mix_str(s, &field.name), field.offset);
            s = mix_u64(s, matches!(field.access, Access::Protocol) as u64);
            s = self.hash(s, field.ty, budget)?;
        }
        Some(s)
    }
}

// ---------------------------------------------------------------------------
// Differences

/// The first difference between two descriptions: where (a path of fields
/// and elements, `inner.flags[0]`) and what; see
/// [`Description::first_difference`]. `Display` says it in a sentence.
///
/// ```
/// use shm_runtime::layout::describe::{Description, DifferenceKind};
/// use shm_runtime::SharedSafe;
/// let stored = Description::of(<[u8; 4]>::LAYOUT)?;
/// let ours = Description::of(<[u8; 3]>::LAYOUT)?;
/// let diff = stored.first_difference(&ours).unwrap();
/// assert_eq!(diff.path(), "");
/// assert!(matches!(diff.kind(), DifferenceKind::Type { .. }));
/// assert_eq!(diff.to_string(), "the stored type is `[u8; 4]`; this program's is `[u8; 3]`");
/// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Difference {
    path: Vec<Step>,
    kind: DifferenceKind,
}

#[derive(Clone, Debug, PartialEq, Eq)]
enum Step {
    Field(String),
    Index(u64),
}

/// What differs: see [`Difference`]. "Stored" is the description that
/// [`first_difference`](Description::first_difference) is called on (a
/// segment's), "ours" its argument (this program's type). Names of structs
/// and enums (`container`, `name`) are this program's.
///
/// ```
/// use shm_runtime::layout::describe::{Description, DifferenceKind};
/// use shm_runtime::SharedSafe;
/// let d = Description::of(u32::LAYOUT)?.first_difference(&Description::of(i32::LAYOUT)?);
/// assert!(matches!(d.unwrap().kind(), DifferenceKind::Type { stored, ours } if stored == "u32" && ours == "i32"));
/// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum DifferenceKind {
    /// The types differ as wholes (another kind of type, scalar, size or
    /// array length), at the root or in an array's elements.
    Type {
        /// The stored type.
        stored: String,
        /// This program's.
        ours: String,
    },
    /// A field of the same name has another type or offset.
    Field {
        /// This program's struct or library type holding it.
        container: String,
        /// Its stored type.
        stored_type: String,
        /// Its stored offset.
        stored_offset: u64,
        /// Its type in this program.
        ours_type: String,
        /// Its offset in this program.
        ours_offset: u64,
    },
    /// A stored field that this program's type does not have.
    MissingField {
        /// This program's type.
        container: String,
        /// The field's type.
        ty: String,
        /// Its offset.
        offset: u64,
    },
    /// A field of this program's type that the stored one does not have.
    ExtraField {
        /// This program's type.
        container: String,
        /// The field's type.
        ty: String,
        /// Its offset.
        offset: u64,
    },
    /// A stored field that has another name in this program (the same type
    /// at the same offset).
    RenamedField {
        /// This program's type.
        container: String,
        /// Its name in this program.
        ours_name: String,
        /// Its type.
        ty: String,
        /// Its offset.
        offset: u64,
    },
    /// A field checked at open in one and by its protocol in the other.
    Access {
        /// This program's type.
        container: String,
        /// In the stored type.
        stored: Access,
        /// In this program's.
        ours: Access,
    },
    /// Another struct repr.
    StructRepr {
        /// This program's struct.
        name: String,
        /// The stored repr.
        stored: String,
        /// This program's.
        ours: String,
    },
    /// Another size or alignment, with the same parts.
    Size {
        /// This program's type.
        name: String,
        /// The stored size.
        stored_size: u64,
        /// The stored alignment.
        stored_align: u64,
        /// This program's size.
        ours_size: u64,
        /// This program's alignment.
        ours_align: u64,
    },
    /// Another integer repr of an enum (`u8`, `i32`).
    EnumRepr {
        /// This program's enum.
        name: String,
        /// The stored repr.
        stored: String,
        /// This program's.
        ours: String,
    },
    /// A variant of the same name with another discriminant.
    Discriminant {
        /// This program's enum.
        name: String,
        /// The variant.
        variant: String,
        /// Its stored discriminant.
        stored: String,
        /// Its discriminant in this program.
        ours: String,
    },
    /// A stored variant that this program's enum does not have.
    MissingVariant {
        /// This program's enum.
        name: String,
        /// The variant.
        variant: String,
        /// Its discriminant.
        value: String,
    },
    /// A variant of this program's enum that the stored one does not have.
    ExtraVariant {
        /// This program's enum.
        name: String,
        /// The variant.
        variant: String,
        /// Its discriminant.
        value: String,
    },
    /// A stored variant with another name in this program (the same
    /// discriminant at the same place).
    RenamedVariant {
        /// This program's enum.
        name: String,
        /// The stored name.
        variant: String,
        /// This program's name.
        ours_variant: String,
        /// The discriminant.
        value: String,
    },
    /// A library type of another protocol (or another version of it).
    Protocol {
        /// This program's type.
        name: String,
        /// The stored protocol.
        stored: String,
        /// This program's.
        ours: String,
    },
    /// A parameter (a capacity) with another value, or only on one side.
    Param {
        /// This program's type.
        name: String,
        /// The parameter.
        param: String,
        /// Its stored value, if the stored type has it.
        stored: Option<u64>,
        /// Its value in this program, if this program's type has it.
        ours: Option<u64>,
    },
    /// The same fields or variants in another order.
    Order {
        /// This program's type.
        name: String,
        /// The first item out of place (`"variant `Busy`"`).
        item: String,
        /// Its index in the stored type.
        stored_place: usize,
        /// Its index in this program's.
        ours_place: usize,
    },
    /// A library type whose bytes are checked another way.
    Validity {
        /// This program's type.
        name: String,
        /// The stored way.
        stored: ValidityDesc,
        /// This program's.
        ours: ValidityDesc,
    },
}

impl Difference {
    /// Where: the fields and elements leading to the difference
    /// (`inner.flags[0]`; elements of an array differ alike, named by the
    /// first); empty for the described type itself.
    ///
    /// ```
    /// use shm_runtime::layout::describe::Description;
    /// use shm_runtime::SharedSafe;
    /// #[derive(SharedSafe)]
    /// #[repr(C)]
    /// struct A { x: u32 }
    /// #[derive(SharedSafe)]
    /// #[repr(C)]
    /// struct B { y: u32 }
    /// let d = Description::of(A::LAYOUT)?.first_difference(&Description::of(B::LAYOUT)?);
    /// assert_eq!(d.unwrap().path(), "x");
    /// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
    /// ```
    pub fn path(&self) -> String {
        let mut path = String::new();
        for step in &self.path {
            match step {
                Step::Field(name) => {
                    if !path.is_empty() {
                        path.push('.');
                    }
                    path.push_str(name);
                }
                Step::Index(i) => path.push_str(&format!("[{i}]")),
            }
        }
        path
    }

    /// What differs.
    ///
    /// ```
    /// use shm_runtime::layout::describe::{Description, DifferenceKind};
    /// use shm_runtime::{FixedString, SharedSafe};
    /// let stored = Description::of(FixedString::<8>::LAYOUT)?;
    /// let ours = Description::of(FixedString::<16>::LAYOUT)?;
    /// let d = stored.first_difference(&ours).unwrap();
    /// assert!(matches!(d.kind(), DifferenceKind::Param { stored: Some(8), ours: Some(16), .. }));
    /// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
    /// ```
    pub fn kind(&self) -> &DifferenceKind {
        &self.kind
    }
}

fn says(access: Access) -> &'static str {
    match access {
        Access::Plain => "checked when a segment is opened",
        Access::Protocol => "checked by its protocol",
    }
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let path = self.path();
        if !matches!(
            self.kind,
            DifferenceKind::Type { .. }
                | DifferenceKind::Field { .. }
                | DifferenceKind::MissingField { .. }
                | DifferenceKind::ExtraField { .. }
                | DifferenceKind::RenamedField { .. }
                | DifferenceKind::Access { .. }
        ) && !path.is_empty()
        {
            write!(f, "in `{path}`, ")?;
        }
        match &self.kind {
            DifferenceKind::Type { stored, ours } if path.is_empty() => write!(
                f,
                "the stored type is `{stored}`; this program's is `{ours}`"
            ),
            DifferenceKind::Type { stored, ours } => {
                write!(f, "`{path}` is `{stored}`; this program's is `{ours}`")
            }
            DifferenceKind::Field {
                container,
                stored_type,
                stored_offset,
                ours_type,
                ours_offset,
            } => write!(
                f,
                "field `{path}` is `{stored_type}` at offset {stored_offset}; this program's \
                 `{container}` has `{ours_type}` at offset {ours_offset}"
            ),
            DifferenceKind::MissingField {
                container,
                ty,
                offset,
            } => write!(
                f,
                "field `{path}` (`{ty}` at offset {offset}) is not in this program's `{container}`"
            ),
            DifferenceKind::ExtraField {
                container,
                ty,
                offset,
            } => write!(
                f,
                "this program's `{container}` has a field `{path}` (`{ty}` at offset {offset}) \
                 that the stored type does not have"
            ),
            DifferenceKind::RenamedField {
                container,
                ours_name,
                ty,
                offset,
            } => write!(
                f,
                "field `{path}` (`{ty}` at offset {offset}) is named `{ours_name}` in this \
                 program's `{container}`"
            ),
            DifferenceKind::Access {
                container,
                stored,
                ours,
            } => write!(
                f,
                "field `{path}` is {}; in this program's `{container}` it is {}",
                says(*stored),
                says(*ours)
            ),
            DifferenceKind::StructRepr { name, stored, ours } => write!(
                f,
                "the stored struct is `{stored}`; this program's `{name}` is `{ours}`"
            ),
            DifferenceKind::Size {
                name,
                stored_size,
                stored_align,
                ours_size,
                ours_align,
            } => write!(
                f,
                "the stored type is {stored_size} bytes aligned to {stored_align}; this \
                 program's `{name}` is {ours_size} bytes aligned to {ours_align}"
            ),
            DifferenceKind::EnumRepr { name, stored, ours } => write!(
                f,
                "the stored enum has `repr({stored})`; this program's `{name}` has `repr({ours})`"
            ),
            DifferenceKind::Discriminant {
                name,
                variant,
                stored,
                ours,
            } => write!(
                f,
                "variant `{variant}` is {stored}; this program's `{name}` has `{variant} = {ours}`"
            ),
            DifferenceKind::MissingVariant {
                name,
                variant,
                value,
            } => write!(
                f,
                "variant `{variant}` (= {value}) is not in this program's `{name}`"
            ),
            DifferenceKind::ExtraVariant {
                name,
                variant,
                value,
            } => write!(
                f,
                "this program's `{name}` has a variant `{variant}` (= {value}) that the stored \
                 enum does not have"
            ),
            DifferenceKind::RenamedVariant {
                name,
                variant,
                ours_variant,
                value,
            } => write!(
                f,
                "variant `{variant}` (= {value}) is named `{ours_variant}` in this program's \
                 `{name}`"
            ),
            DifferenceKind::Protocol { name, stored, ours } => write!(
                f,
                "the stored type follows protocol `{stored}`; this program's `{name}` follows \
                 `{ours}`"
            ),
            DifferenceKind::Param {
                name,
                param,
                stored,
                ours,
            } => match (stored, ours) {
                (Some(s), Some(o)) => write!(
                    f,
                    "the stored `{name}` has {param} {s}; this program's has {param} {o}"
                ),
                (Some(s), None) => write!(
                    f,
                    "the stored `{name}` has {param} {s}, which this program's does not have"
                ),
                (None, Some(o)) => write!(
                    f,
                    "this program's `{name}` has {param} {o}, which the stored one does not have"
                ),
                (None, None) => write!(f, "`{name}` differs in {param}"),
            },
            DifferenceKind::Order {
                name,
                item,
                stored_place,
                ours_place,
            } => write!(
                f,
                "{item} is at index {stored_place} in the stored type and at index \
                 {ours_place} in this program's `{name}`"
            ),
            DifferenceKind::Validity { name, stored, ours } => write!(
                f,
                "the stored `{name}` {}; this program's {}",
                stored.says(),
                ours.says()
            ),
        }
    }
}

impl Description {
    /// The first difference between this (stored) description and `ours`
    /// (this program's type), in the order of the types' bytes: `None` when
    /// they describe the same layout, which is when their
    /// [fingerprints](Self::fingerprint) are equal. Names of structs,
    /// enums and library types are not compared (they are informational);
    /// names of fields, variants and parameters are.
    ///
    /// Fields are matched by name: a field of the same name is compared
    /// (offset, type, then inside it); a stored field missing from this
    /// program's type, a field only this program's type has, or one that
    /// has the same type and offset under another name is named as such.
    ///
    /// ```
    /// use shm_runtime::layout::describe::Description;
    /// use shm_runtime::SharedSafe;
    ///
    /// mod v1 {
    ///     #[derive(shm_runtime::SharedSafe)]
    ///     #[repr(C)]
    ///     pub struct Job { pub id: u64, pub state: u32 }
    /// }
    /// #[derive(SharedSafe)]
    /// #[repr(C)]
    /// struct Job { id: u64, state: u32, retries: u32 }
    ///
    /// let stored = Description::of(v1::Job::LAYOUT)?;
    /// let ours = Description::of(Job::LAYOUT)?;
    /// assert_eq!(
    ///     stored.first_difference(&ours).unwrap().to_string(),
    ///     "this program's `Job` has a field `retries` (`u32` at offset 12) that the stored \
    ///      type does not have"
    /// );
    /// assert_eq!(stored.first_difference(&stored), None);
    /// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
    /// ```
    pub fn first_difference(&self, ours: &Description) -> Option<Difference> {
        let mut diff = Diff {
            stored: self,
            ours,
            equal: HashSet::new(),
            path: Vec::new(),
        };
        diff.types(self.root(), ours.root())
    }
}

/// A comparison in progress. Recursion is bounded by the depth of the
/// descriptions (`MAX_DEPTH`); pairs of types found equal are remembered,
/// so that shared types are compared once.
struct Diff<'a> {
    stored: &'a Description,
    ours: &'a Description,
    equal: HashSet<(TypeId, TypeId)>,
    path: Vec<Step>,
}

impl Diff<'_> {
    fn found(&self, kind: DifferenceKind) -> Option<Difference> {
        Some(Difference {
            path: self.path.clone(),
            kind,
        })
    }

    /// Whether the two types differ as wholes, before their parts are
    /// compared: another kind, another scalar, another array length.
    fn wholly_differ(&self, s: TypeId, o: TypeId) -> bool {
        let (st, ot) = (self.stored.get(s), self.ours.get(o));
        match (&st.kind, &ot.kind) {
            (KindDesc::Scalar(a), KindDesc::Scalar(b)) => {
                a != b || st.size != ot.size || st.align != ot.align || st.name != ot.name
            }
            (
                KindDesc::Array {
                    element: se,
                    len: sl,
                },
                KindDesc::Array {
                    element: oe,
                    len: ol,
                },
            ) => sl != ol || self.wholly_differ(*se, *oe),
            (KindDesc::Struct { .. }, KindDesc::Struct { .. })
            | (KindDesc::Enum { .. }, KindDesc::Enum { .. })
            | (KindDesc::Library { .. }, KindDesc::Library { .. }) => false,
            _ => true,
        }
    }

    fn types(&mut self, s: TypeId, o: TypeId) -> Option<Difference> {
        if self.equal.contains(&(s, o)) {
            return None;
        }
        if self.wholly_differ(s, o) {
            return self.found(DifferenceKind::Type {
                stored: self.stored.type_name(s),
                ours: self.ours.type_name(o),
            });
        }
        let (stored, ours) = (self.stored, self.ours);
        let (st, ot) = (stored.get(s), ours.get(o));
        let name = ot.name.clone();
        let found = match (&st.kind, &ot.kind) {
            (KindDesc::Array { element: se, .. }, KindDesc::Array { element: oe, .. }) => {
                self.path.push(Step::Index(0));
                let found = self.types(*se, *oe);
                self.path.pop();
                found
            }
            (
                KindDesc::Struct {
                    repr: sr,
                    fields: sf,
                },
                KindDesc::Struct {
                    repr: or,
                    fields: of,
                },
            ) => {
                if sr != or {
                    self.found(DifferenceKind::StructRepr {
                        name: name.clone(),
                        stored: sr.clone(),
                        ours: or.clone(),
                    })
                } else {
                    self.fields(sf, of, &name)
                }
            }
            (
                KindDesc::Enum {
                    repr: sr,
                    variants: sv,
                },
                KindDesc::Enum {
                    repr: or,
                    variants: ov,
                },
            ) => {
                if sr != or || st.size != ot.size {
                    self.found(DifferenceKind::EnumRepr {
                        name: name.clone(),
                        stored: int_name(*sr, st.size),
                        ours: int_name(*or, ot.size),
                    })
                } else {
                    self.variants(sv, ov, &name, *sr == Scalar::Signed)
                }
            }
            (
                KindDesc::Library {
                    protocol: sp,
                    params: spar,
                    fields: sf,
                    validity: sval,
                },
                KindDesc::Library {
                    protocol: op,
                    params: opar,
                    fields: of,
                    validity: oval,
                },
            ) => {
                if sp != op {
                    self.found(DifferenceKind::Protocol {
                        name: name.clone(),
                        stored: sp.clone(),
                        ours: op.clone(),
                    })
                } else if let Some(found) = self.params(spar, opar, &name) {
                    Some(found)
                } else if sval != oval {
                    self.found(DifferenceKind::Validity {
                        name: name.clone(),
                        stored: *sval,
                        ours: *oval,
                    })
                } else {
                    self.fields(sf, of, &name)
                }
            }
            // Scalars that do not wholly differ are the same.
            _ => None,
        };
        if found.is_some() {
            return found;
        }
        if st.size != ot.size || st.align != ot.align {
            return self.found(DifferenceKind::Size {
                name,
                stored_size: st.size,
                stored_align: st.align,
                ours_size: ot.size,
                ours_align: ot.align,
            });
        }
        self.equal.insert((s, o));
        None
    }

    fn fields(
        &mut self,
        stored: &[FieldDesc],
        ours: &[FieldDesc],
        container: &str,
    ) -> Option<Difference> {
        let stored_names: HashMap<&str, &FieldDesc> =
            stored.iter().map(|f| (f.name.as_str(), f)).collect();
        let ours_names: HashMap<&str, &FieldDesc> =
            ours.iter().map(|f| (f.name.as_str(), f)).collect();
        for i in 0..stored.len().max(ours.len()) {
            let (a, b) = match (stored.get(i), ours.get(i)) {
                (Some(a), Some(b)) if a.name == b.name => (a, b),
                (Some(a), b) => match (ours_names.get(a.name.as_str()), b) {
                    (Some(same), _) => match b {
                        Some(b) if !stored_names.contains_key(b.name.as_str()) => {
                            return self.extra_field(b, container)
                        }
                        _ => (a, *same),
                    },
                    (None, Some(b))
                        if !stored_names.contains_key(b.name.as_str())
                            && a.offset == b.offset
                            && a.access == b.access
                            && self.types(a.ty, b.ty).is_none() =>
                    {
                        self.path.push(Step::Field(a.name.clone()));
                        let found = self.found(DifferenceKind::RenamedField {
                            container: container.into(),
                            ours_name: b.name.clone(),
                            ty: self.stored.type_name(a.ty),
                            offset: a.offset,
                        });
                        self.path.pop();
                        return found;
                    }
                    (None, _) => {
                        self.path.push(Step::Field(a.name.clone()));
                        let found = self.found(DifferenceKind::MissingField {
                            container: container.into(),
                            ty: self.stored.type_name(a.ty),
                            offset: a.offset,
                        });
                        self.path.pop();
                        return found;
                    }
                },
                (None, Some(b)) => match stored_names.get(b.name.as_str()) {
                    Some(same) => (*same, b),
                    None => return self.extra_field(b, container),
                },
                (None, None) => unreachable!("i < the longer length"),
            };
            self.path.push(Step::Field(a.name.clone()));
            let found = if a.offset != b.offset || self.wholly_differ(a.ty, b.ty) {
                self.found(DifferenceKind::Field {
                    container: container.into(),
                    stored_type: self.stored.type_name(a.ty),
                    stored_offset: a.offset,
                    ours_type: self.ours.type_name(b.ty),
                    ours_offset: b.offset,
                })
            } else if a.access != b.access {
                self.found(DifferenceKind::Access {
                    container: container.into(),
                    stored: a.access,
                    ours: b.access,
                })
            } else {
                self.types(a.ty, b.ty)
            };
            self.path.pop();
            if found.is_some() {
                return found;
            }
        }
        // The same fields in another order (zero-sized ones can be).
        self.order(stored, ours, container, "field", |f| &f.name)
    }

    /// The first item of `stored` that has another place in `ours`.
    fn order<T>(
        &self,
        stored: &[T],
        ours: &[T],
        name: &str,
        what: &'static str,
        name_of: impl Fn(&T) -> &String,
    ) -> Option<Difference> {
        for (place, (a, b)) in stored.iter().zip(ours).enumerate() {
            if name_of(a) != name_of(b) {
                return self.found(DifferenceKind::Order {
                    name: name.into(),
                    item: format!("{what} `{}`", name_of(a)),
                    stored_place: place,
                    ours_place: ours
                        .iter()
                        .position(|x| name_of(x) == name_of(a))
                        .unwrap_or(place),
                });
            }
        }
        None
    }

    fn extra_field(&mut self, b: &FieldDesc, container: &str) -> Option<Difference> {
        self.path.push(Step::Field(b.name.clone()));
        let found = self.found(DifferenceKind::ExtraField {
            container: container.into(),
            ty: self.ours.type_name(b.ty),
            offset: b.offset,
        });
        self.path.pop();
        found
    }

    fn variants(
        &self,
        stored: &[VariantDesc],
        ours: &[VariantDesc],
        name: &str,
        signed: bool,
    ) -> Option<Difference> {
        let show = |value: u128| {
            if signed {
                (value as i128).to_string()
            } else {
                value.to_string()
            }
        };
        let stored_names: HashMap<&str, &VariantDesc> =
            stored.iter().map(|v| (v.name.as_str(), v)).collect();
        let ours_names: HashMap<&str, &VariantDesc> =
            ours.iter().map(|v| (v.name.as_str(), v)).collect();
        for i in 0..stored.len().max(ours.len()) {
            let (a, b) = match (stored.get(i), ours.get(i)) {
                (Some(a), Some(b)) if a.name == b.name => (a, b),
                (Some(a), b) => match (ours_names.get(a.name.as_str()), b) {
                    (Some(same), _) => match b {
                        Some(b) if !stored_names.contains_key(b.name.as_str()) => {
                            return self.found(DifferenceKind::ExtraVariant {
                                name: name.into(),
                                variant: b.name.clone(),
                                value: show(b.value),
                            })
                        }
                        _ => (a, *same),
                    },
                    (None, Some(b))
                        if !stored_names.contains_key(b.name.as_str()) && a.value == b.value =>
                    {
                        return self.found(DifferenceKind::RenamedVariant {
                            name: name.into(),
                            variant: a.name.clone(),
                            ours_variant: b.name.clone(),
                            value: show(a.value),
                        })
                    }
                    (None, _) => {
                        return self.found(DifferenceKind::MissingVariant {
                            name: name.into(),
                            variant: a.name.clone(),
                            value: show(a.value),
                        })
                    }
                },
                (None, Some(b)) => match stored_names.get(b.name.as_str()) {
                    Some(same) => (*same, b),
                    None => {
                        return self.found(DifferenceKind::ExtraVariant {
                            name: name.into(),
                            variant: b.name.clone(),
                            value: show(b.value),
                        })
                    }
                },
                (None, None) => unreachable!("i < the longer length"),
            };
            if a.value != b.value {
                return self.found(DifferenceKind::Discriminant {
                    name: name.into(),
                    variant: a.name.clone(),
                    stored: show(a.value),
                    ours: show(b.value),
                });
            }
        }
        // The same variants in another order.
        self.order(stored, ours, name, "variant", |v| &v.name)
    }

    fn params(
        &self,
        stored: &[(String, u64)],
        ours: &[(String, u64)],
        name: &str,
    ) -> Option<Difference> {
        for i in 0..stored.len().max(ours.len()) {
            let (param, s, o) = match (stored.get(i), ours.get(i)) {
                (Some((sn, sv)), Some((on, ov))) if sn == on => (sn, Some(*sv), Some(*ov)),
                (Some((sn, sv)), _) => (sn, Some(*sv), None),
                (None, Some((on, ov))) => (on, None, Some(*ov)),
                (None, None) => unreachable!("i < the longer length"),
            };
            if s != o {
                return self.found(DifferenceKind::Param {
                    name: name.into(),
                    param: param.clone(),
                    stored: s,
                    ours: o,
                });
            }
        }
        None
    }
}

/// `u8`, `i32`: an enum's repr from its kind and size.
fn int_name(repr: Scalar, size: u64) -> String {
    let sign = if repr == Scalar::Signed { 'i' } else { 'u' };
    format!("{sign}{}", size.saturating_mul(8))
}

// Not in the loom build, whose queue is a model without a `SharedSafe` impl.
#[cfg(all(test, not(loom)))]
mod tests;
