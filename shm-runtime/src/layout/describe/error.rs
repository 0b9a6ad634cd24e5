//! Why a description cannot be read or written: [`Problem`] and
//! [`DescriptionError`].

use super::format::{MAX_LEN, MAX_STR, VERSION};
use crate::{Error, ErrorKind};
use std::fmt;

/// What is wrong with a description's bytes (or with a layout that
/// [`encode`](super::encode()) cannot write): see [`DescriptionError`].
///
/// ```
/// use shm_runtime::layout::describe::{Description, Problem};
/// let err = Description::decode(b"SH").unwrap_err();
/// assert!(matches!(err.problem(), Problem::Truncated { .. }));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Problem {
    /// The bytes do not start with [`MAGIC`](super::MAGIC).
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
    /// Nested deeper than [`MAX_DEPTH`](super::MAX_DEPTH).
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
/// or a layout that cannot be written (beyond the [limits](super#limits)).
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
    pub(super) fn at(offset: usize, problem: Problem) -> DescriptionError {
        DescriptionError {
            offset: Some(offset),
            problem,
        }
    }

    pub(super) fn encoding(problem: Problem) -> DescriptionError {
        DescriptionError {
            offset: None,
            problem,
        }
    }

    /// The byte of the description at which the problem is; `None` for a
    /// layout that [`encode`](super::encode()) refused.
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
