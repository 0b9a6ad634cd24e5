//! The error type of every fallible operation in this crate.

use std::fmt;
use std::io;

/// The result type of this crate.
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, for programs that react to errors; [`Error`]'s
/// `Display` adds the operation, the segment and the cause.
///
/// ```
/// use shm_runtime::{ErrorKind, Shared};
///
/// // A slice so large that no address space can hold it.
/// let err = Shared::<[u64]>::slice_zeroed(usize::MAX / 4).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::InvalidSize);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum ErrorKind {
    /// A system call failed for a reason not listed below; see the source.
    Os,
    /// The size or alignment asked for cannot be mapped, or an access
    /// through a raw [`Volatile`](crate::Volatile) view falls outside it or
    /// is misaligned (see [`AccessError`](crate::volatile::AccessError)).
    InvalidSize,
    /// The system refused the memory: out of memory, no huge pages reserved,
    /// `RLIMIT_MEMLOCK` reached, or a full `/dev/shm` or disk.
    OutOfMemory,
    /// The operation was refused by permissions.
    PermissionDenied,
    /// The segment or file does not exist.
    NotFound,
    /// The segment or file exists already.
    AlreadyExists,
    /// The name of a segment is not valid.
    InvalidName,
    /// A bounded wait ran out of time.
    TimedOut,
    /// The operation is not supported here (platform, kernel or option).
    Unsupported,
    /// A safe `fork` was refused because the process runs several threads.
    MultiThreaded,
    /// A forked child did not exit successfully.
    ChildFailed,
    // segments
    /// The segment holds a value of another type (another layout
    /// fingerprint, size or alignment), or a slice where a single value was
    /// asked for, or the other way round.
    WrongType,
    /// The segment or file is shorter than its header and payload (or, in
    /// raw mode, than the type or slice asked for): touching the missing
    /// bytes would raise `SIGBUS`, so it is refused before any access.
    TooShort,
    /// The segment or file does not start with the header of this library:
    /// it was made by another program, or is corrupt.
    NotASegment,
    /// A raw open (`open_raw*`) found the header of this library at the start
    /// of the object: it is a typed segment, which raw views would bypass
    /// (its type check, its init protocol, the `&T` its users hold). Open it
    /// with the typed `open`, `open_slice` or `open_read_only`.
    TypedSegment,
    /// The segment was made by a newer version of this library, whose header
    /// format this version cannot read.
    UnsupportedVersion,
    /// The segment was made on a platform with another pointer width or
    /// byte order.
    Incompatible,
    /// The segment's creator died (or gave up) while initializing it; it
    /// holds no valid value. `open_or_create` reclaims such a segment.
    CreatorDied,
    /// The segment or file belongs to another user, and opening segments of
    /// other users was not allowed.
    ForeignOwner,
    /// The bytes of a value are not a valid value of its type (a `bool`
    /// that is not 0 or 1, an enum discriminant no variant has, a zero
    /// `NonZero*`): a segment corrupted on disk or written outside this
    /// library's protocol, or a value torn by a process killed while writing
    /// it. Nothing was handed out.
    InvalidValue,
    /// Another process truncated the segment's object under this mapping:
    /// the lost pages were replaced by private zero pages (see
    /// [`crate::sigbus`]), so the mapping no longer shares anything with
    /// other processes. Open the segment again once it is whole.
    Truncated,
    // sync
    /// A process died while writing a value that others wait for (a
    /// [`SeqLock`](crate::SeqLock) write cut short): the value is lost until
    /// the next complete write.
    OwnerDied,
    /// A fork was refused because the calling thread holds an `ShmMutex`
    /// guard or is building a shared value in place.
    ForkWhileLocked,
    /// [`ShmMutex::lock_timeout`](crate::ShmMutex::lock_timeout) was called
    /// by the thread that holds the mutex: waiting could only time out.
    WouldDeadlock,
}

impl ErrorKind {
    fn from_errno(error: &io::Error) -> ErrorKind {
        match error.raw_os_error() {
            Some(libc::EEXIST) => ErrorKind::AlreadyExists,
            Some(libc::ENOENT) => ErrorKind::NotFound,
            Some(libc::EACCES | libc::EPERM) => ErrorKind::PermissionDenied,
            Some(libc::ENOMEM | libc::ENOSPC | libc::EAGAIN) => ErrorKind::OutOfMemory,
            Some(libc::ENAMETOOLONG) => ErrorKind::InvalidName,
            Some(libc::ETIMEDOUT) => ErrorKind::TimedOut,
            Some(libc::ENOSYS | libc::EOPNOTSUPP) => ErrorKind::Unsupported,
            _ => ErrorKind::Os,
        }
    }
}

/// An error of this crate: its [`kind`](Error::kind), what was being done to
/// what, and the operating system's cause when there is one.
///
/// ```
/// use shm_runtime::{Error, ErrorKind};
///
/// let err = Error::new(ErrorKind::TimedOut, "waiting for segment `/jobs` to be ready");
/// assert_eq!(err.kind(), ErrorKind::TimedOut);
/// assert_eq!(err.to_string(), "waiting for segment `/jobs` to be ready");
/// ```
pub struct Error {
    kind: ErrorKind,
    context: String,
    source: Option<io::Error>,
}

impl Error {
    /// An error of `kind`, with a message that says what happened to what.
    pub fn new(kind: ErrorKind, context: impl Into<String>) -> Error {
        Error {
            kind,
            context: context.into(),
            source: None,
        }
    }

    /// An error from a failed system call: the kind follows from the errno.
    ///
    /// ```
    /// use shm_runtime::{Error, ErrorKind};
    /// use std::io;
    ///
    /// let err = Error::os("opening `/jobs`", io::Error::from_raw_os_error(libc::ENOENT));
    /// assert_eq!(err.kind(), ErrorKind::NotFound);
    /// assert!(err.to_string().starts_with("opening `/jobs`: "));
    /// ```
    pub fn os(context: impl Into<String>, source: io::Error) -> Error {
        Error {
            kind: ErrorKind::from_errno(&source),
            context: context.into(),
            source: Some(source),
        }
    }

    /// The last OS error (`errno`) after a failed system call.
    pub(crate) fn last_os(context: impl Into<String>) -> Error {
        Error::os(context, io::Error::last_os_error())
    }

    /// An OS error with the kind chosen by the caller (for errno values whose
    /// meaning depends on the call).
    pub(crate) fn os_with_kind(
        kind: ErrorKind,
        context: impl Into<String>,
        source: io::Error,
    ) -> Error {
        Error {
            kind,
            context: context.into(),
            source: Some(source),
        }
    }

    /// What went wrong.
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The operating system's error, if a system call failed.
    pub fn os_error(&self) -> Option<&io::Error> {
        self.source.as_ref()
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.context)?;
        if let Some(source) = &self.source {
            write!(f, ": {source}")?;
        }
        Ok(())
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("context", &self.context);
        if let Some(source) = &self.source {
            d.field("source", source);
        }
        d.finish()
    }
}

impl std::error::Error for Error {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        self.source
            .as_ref()
            .map(|e| e as &(dyn std::error::Error + 'static))
    }
}

impl From<Error> for io::Error {
    fn from(error: Error) -> io::Error {
        let kind = match error.kind {
            ErrorKind::NotFound => io::ErrorKind::NotFound,
            ErrorKind::AlreadyExists => io::ErrorKind::AlreadyExists,
            ErrorKind::PermissionDenied => io::ErrorKind::PermissionDenied,
            ErrorKind::TimedOut => io::ErrorKind::TimedOut,
            ErrorKind::InvalidName | ErrorKind::InvalidSize => io::ErrorKind::InvalidInput,
            ErrorKind::OutOfMemory => io::ErrorKind::OutOfMemory,
            ErrorKind::Unsupported => io::ErrorKind::Unsupported,
            ErrorKind::WrongType
            | ErrorKind::NotASegment
            | ErrorKind::TypedSegment
            | ErrorKind::Incompatible
            | ErrorKind::InvalidValue => io::ErrorKind::InvalidData,
            ErrorKind::TooShort => io::ErrorKind::UnexpectedEof,
            ErrorKind::ForeignOwner => io::ErrorKind::PermissionDenied,
            _ => io::ErrorKind::Other,
        };
        io::Error::new(kind, error)
    }
}
