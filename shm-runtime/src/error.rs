//! The error type of every fallible operation in this crate.

use std::fmt;
use std::io;

/// The result type of this crate.
///
/// ```
/// fn answer() -> shm_runtime::Result<u32> {
///     Ok(*shm_runtime::Shared::anonymous(42u32)?)
/// }
/// assert_eq!(answer()?, 42);
/// # Ok::<(), shm_runtime::Error>(())
/// ```
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// What went wrong, for programs that react to errors; [`Error`]'s
/// `Display` adds the operation, the segment and the cause.
///
/// ```
/// use shm_runtime::{init, ErrorKind, Shared};
///
/// // A slice so large that no address space can hold it.
/// let err = Shared::<[u64]>::anonymous(init::zeroed_slice(usize::MAX / 4)).unwrap_err();
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
    /// A raw open (`Segment::raw`) found the header of this library at the start
    /// of the object: it is a typed segment, which raw views would bypass
    /// (its type check, its init protocol, the `&T` its users hold). Open it
    /// with the typed `open` (or `read_only().open()`).
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
    /// [`SeqLock`](crate::SeqLock) write cut short: the value is lost until
    /// the next complete write), or a previous owner of an
    /// [`ShmMutex`](crate::ShmMutex) died or panicked holding it and the
    /// caller asked for an error rather than the lock
    /// ([`ShmMutex::lock_consistent`](crate::ShmMutex::lock_consistent), or
    /// an [`OwnerDied`](crate::sync::OwnerDied) converted with `?` or
    /// `Error::from`): the mutex was unlocked again and stays marked
    /// inconsistent, for a later `lock` or `lock_or_repair` to repair.
    OwnerDied,
    /// A fork was refused because the calling thread holds an `ShmMutex`
    /// guard or is building a shared value in place.
    ForkWhileLocked,
    /// [`ShmMutex::lock_timeout`](crate::ShmMutex::lock_timeout) was called
    /// by the thread that holds the mutex: waiting could only time out.
    WouldDeadlock,
    /// The side of an [`SpscQueue`](crate::queue::SpscQueue) asked for
    /// ([`producer`](crate::queue::SpscQueue::producer) or
    /// [`consumer`](crate::queue::SpscQueue::consumer)) is held by a handle
    /// of a live process (this one included): it is given back when that
    /// handle is dropped or its process ends.
    Busy,
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
/// # How it prints
///
/// * `Display` (`{err}`) says what happened, in one line: the context, and
///   for a failed system call what the call's error means (its
///   [`ErrorKind`]): `opening segment `/stats`: not found`. It does not
///   repeat the OS error's own text: that is the [`source`](std::error::Error::source),
///   which error reporters (`anyhow`'s `{:#}`, `eyre`, a loop over
///   `source()`) print after it, as the Rust API guidelines ask.
/// * `Debug` (`{err:?}`, and what `fn main() -> Result<(), Error>` prints
///   when it fails) shows every part on one line, the errno by name:
///   `Error { kind: NotFound, context: "opening segment `/stats`", os: ENOENT (2) }`.
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
    /// The context already says what the OS error means (`"opening `/x`:
    /// no such segment"`): `Display` shows it alone.
    explained: bool,
}

impl Error {
    /// An error of `kind`, with a message that says what happened to what
    /// (`Display` shows the message as it is).
    ///
    /// ```
    /// use shm_runtime::{Error, ErrorKind};
    ///
    /// let err = Error::new(ErrorKind::WrongType, "segment `/jobs` holds another type");
    /// assert_eq!(err.to_string(), "segment `/jobs` holds another type");
    /// ```
    pub fn new(kind: ErrorKind, context: impl Into<String>) -> Error {
        Error {
            kind,
            context: context.into(),
            source: None,
            explained: false,
        }
    }

    /// An error from a failed system call: the kind follows from the errno,
    /// `context` says what was being done, and `Display` adds what the
    /// kind means.
    ///
    /// ```
    /// use shm_runtime::{Error, ErrorKind};
    /// use std::error::Error as _;
    /// use std::io;
    ///
    /// let err = Error::os("opening `/jobs`", io::Error::from_raw_os_error(libc::ENOENT));
    /// assert_eq!(err.kind(), ErrorKind::NotFound);
    /// assert_eq!(err.to_string(), "opening `/jobs`: not found");
    /// // The OS error is the source, and is not repeated by `Display`.
    /// assert_eq!(err.source().unwrap().to_string(), io::Error::from_raw_os_error(libc::ENOENT).to_string());
    /// ```
    pub fn os(context: impl Into<String>, source: io::Error) -> Error {
        Error {
            kind: ErrorKind::from_errno(&source),
            context: context.into(),
            source: Some(source),
            explained: false,
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
            explained: false,
        }
    }

    /// This error's context says what the OS error means already
    /// (`"creating `/x`: it exists already (open it, or remove it first)"`):
    /// `Display` shows it without the kind's words.
    pub(crate) fn explained(mut self) -> Error {
        self.explained = true;
        self
    }

    /// What went wrong, for a program that reacts to it: match on it rather
    /// than on the message.
    ///
    /// ```
    /// use shm_runtime::{ErrorKind, Segment};
    ///
    /// match Segment::posix("/shm-runtime-doc-no-such-segment").open::<u64>() {
    ///     Err(err) if err.kind() == ErrorKind::NotFound => { /* create it instead */ }
    ///     Err(err) => panic!("unexpected: {err}"),
    ///     Ok(_) => panic!("the segment should not exist"),
    /// }
    /// ```
    pub fn kind(&self) -> ErrorKind {
        self.kind
    }

    /// The operating system's error, if a system call failed (also the
    /// error's [`source`](std::error::Error::source)).
    ///
    /// ```
    /// use shm_runtime::Error;
    /// use std::io;
    ///
    /// let err = Error::os("removing `/jobs`", io::Error::from_raw_os_error(libc::EACCES));
    /// assert_eq!(err.os_error().unwrap().raw_os_error(), Some(libc::EACCES));
    /// ```
    pub fn os_error(&self) -> Option<&io::Error> {
        self.source.as_ref()
    }
}

impl fmt::Display for ErrorKind {
    /// What the kind means, in a few words (`"not found"`, `"timed out"`),
    /// as [`Error`]'s `Display` adds it after a failed system call's
    /// context.
    ///
    /// ```
    /// use shm_runtime::ErrorKind;
    /// assert_eq!(ErrorKind::PermissionDenied.to_string(), "permission denied");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            ErrorKind::Os => "operating system error",
            ErrorKind::InvalidSize => "invalid size or alignment",
            ErrorKind::OutOfMemory => "out of memory or space, or a limit reached",
            ErrorKind::PermissionDenied => "permission denied",
            ErrorKind::NotFound => "not found",
            ErrorKind::AlreadyExists => "already exists",
            ErrorKind::InvalidName => "invalid name",
            ErrorKind::TimedOut => "timed out",
            ErrorKind::Unsupported => "not supported here",
            ErrorKind::MultiThreaded => "the process runs several threads",
            ErrorKind::ChildFailed => "the child process failed",
            ErrorKind::WrongType => "holds another type",
            ErrorKind::TooShort => "too short",
            ErrorKind::NotASegment => "not a segment of this library",
            ErrorKind::TypedSegment => "a typed segment",
            ErrorKind::UnsupportedVersion => "made by a newer version of this library",
            ErrorKind::Incompatible => "made on an incompatible platform",
            ErrorKind::CreatorDied => "its creator died while initializing it",
            ErrorKind::ForeignOwner => "owned by another user",
            ErrorKind::InvalidValue => "not a valid value of its type",
            ErrorKind::Truncated => "truncated by another process",
            ErrorKind::OwnerDied => "a previous owner died",
            ErrorKind::ForkWhileLocked => "a lock is held",
            ErrorKind::WouldDeadlock => "would deadlock",
            ErrorKind::Busy => "held by a live process",
        })
    }
}

/// The symbolic names of the errno values this crate's calls can meet.
const ERRNO_NAMES: &[(i32, &str)] = &[
    (libc::EPERM, "EPERM"),
    (libc::ENOENT, "ENOENT"),
    (libc::ESRCH, "ESRCH"),
    (libc::EINTR, "EINTR"),
    (libc::EIO, "EIO"),
    (libc::ENXIO, "ENXIO"),
    (libc::E2BIG, "E2BIG"),
    (libc::EBADF, "EBADF"),
    (libc::ECHILD, "ECHILD"),
    (libc::EAGAIN, "EAGAIN"),
    (libc::ENOMEM, "ENOMEM"),
    (libc::EACCES, "EACCES"),
    (libc::EFAULT, "EFAULT"),
    (libc::EBUSY, "EBUSY"),
    (libc::EEXIST, "EEXIST"),
    (libc::ENODEV, "ENODEV"),
    (libc::ENOTDIR, "ENOTDIR"),
    (libc::EISDIR, "EISDIR"),
    (libc::EINVAL, "EINVAL"),
    (libc::ENFILE, "ENFILE"),
    (libc::EMFILE, "EMFILE"),
    (libc::ETXTBSY, "ETXTBSY"),
    (libc::EFBIG, "EFBIG"),
    (libc::ENOSPC, "ENOSPC"),
    (libc::EROFS, "EROFS"),
    (libc::ENAMETOOLONG, "ENAMETOOLONG"),
    (libc::ENOSYS, "ENOSYS"),
    (libc::ELOOP, "ELOOP"),
    (libc::EOVERFLOW, "EOVERFLOW"),
    (libc::EOPNOTSUPP, "EOPNOTSUPP"),
    (libc::ETIMEDOUT, "ETIMEDOUT"),
    (libc::EIDRM, "EIDRM"),
    (libc::EDQUOT, "EDQUOT"),
];

fn errno_name(code: i32) -> Option<&'static str> {
    ERRNO_NAMES
        .iter()
        .find(|(value, _)| *value == code)
        .map(|(_, name)| *name)
}

/// An OS error as `Debug` shows it: `ENOENT (2)`, or `errno 200` for a
/// value without a name here, or the error's own `Debug` when it carries
/// no errno.
struct OsCause<'a>(&'a io::Error);

impl fmt::Debug for OsCause<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0.raw_os_error() {
            Some(code) => match errno_name(code) {
                Some(name) => write!(f, "{name} ({code})"),
                None => write!(f, "errno {code}"),
            },
            None => fmt::Debug::fmt(self.0, f),
        }
    }
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.context)?;
        match &self.source {
            Some(_) if self.explained => Ok(()),
            // An errno this crate does not classify: its name says which.
            Some(source) if self.kind == ErrorKind::Os => match source.raw_os_error() {
                Some(code) => match errno_name(code) {
                    Some(name) => write!(f, ": failed with {name}"),
                    None => write!(f, ": failed with errno {code}"),
                },
                None => write!(f, ": failed ({})", source.kind()),
            },
            Some(_) => write!(f, ": {}", self.kind),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut d = f.debug_struct("Error");
        d.field("kind", &self.kind).field("context", &self.context);
        if let Some(source) = &self.source {
            d.field("os", &OsCause(source));
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::error::Error as _;

    fn enoent() -> io::Error {
        io::Error::from_raw_os_error(libc::ENOENT)
    }

    /// `Display` says what happened (context and kind), without the source's
    /// text, which `source()` returns: a chain printer shows it once.
    #[test]
    fn display_says_what_happened_without_the_source() {
        let err = Error::os("opening segment `/stats`", enoent());
        assert_eq!(err.to_string(), "opening segment `/stats`: not found");
        let source = err.source().expect("the OS error is the source");
        assert!(!err.to_string().contains(&source.to_string()));
        assert_eq!(source.to_string(), enoent().to_string());
    }

    /// An errno without a kind of its own is named, so the message still
    /// says what happened.
    #[test]
    fn an_unclassified_errno_is_named() {
        let err = Error::os("flushing `/x`", io::Error::from_raw_os_error(libc::EIO));
        assert_eq!(err.kind(), ErrorKind::Os);
        assert_eq!(err.to_string(), "flushing `/x`: failed with EIO");
        let err = Error::os("flushing `/x`", io::Error::from_raw_os_error(4000));
        assert_eq!(err.to_string(), "flushing `/x`: failed with errno 4000");
    }

    /// A context that explains the errno itself is shown alone.
    #[test]
    fn an_explained_context_is_not_repeated() {
        let err = Error::os("opening `/x`: no such segment", enoent()).explained();
        assert_eq!(err.to_string(), "opening `/x`: no such segment");
        assert_eq!(err.kind(), ErrorKind::NotFound);
    }

    /// Errors without an OS cause print their message as it is.
    #[test]
    fn a_message_is_shown_as_it_is() {
        let err = Error::new(ErrorKind::WrongType, "segment `/a` holds `u32`");
        assert_eq!(err.to_string(), "segment `/a` holds `u32`");
        assert!(err.source().is_none());
    }

    /// `Debug` shows the kind, the context and the errno by name and number.
    #[test]
    fn debug_is_one_readable_line() {
        let err = Error::os("opening segment `/stats`", enoent());
        assert_eq!(
            format!("{err:?}"),
            "Error { kind: NotFound, context: \"opening segment `/stats`\", os: ENOENT (2) }"
        );
        let err = Error::new(ErrorKind::TimedOut, "waiting");
        assert_eq!(
            format!("{err:?}"),
            "Error { kind: TimedOut, context: \"waiting\" }"
        );
    }

    /// Every errno in the table has one name (no value listed twice).
    #[test]
    fn errno_names_are_unique() {
        for (i, (code, name)) in ERRNO_NAMES.iter().enumerate() {
            assert_eq!(errno_name(*code), Some(*name));
            assert!(ERRNO_NAMES[..i].iter().all(|(c, _)| c != code), "{name}");
        }
    }
}
