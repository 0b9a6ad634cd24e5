//! What inspection reports: where an object lives ([`Location`]), what its
//! first bytes say ([`Contents`], [`State`], [`HeaderInfo`],
//! [`PayloadInfo`]), the whole report ([`SegmentInfo`]), and the mutexes a
//! scan finds ([`MutexInfo`]).

use crate::segment::object::Identity;
use crate::segment::sysv::SysvKey;
use crate::Fingerprint;
use std::ffi::OsString;
use std::fmt;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::SystemTime;

/// Where an inspected object lives.
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Location {
    /// A POSIX shared memory object, by name (`/name`): any bytes but `/`
    /// and NUL after the first `/`, not necessarily UTF-8.
    Posix(OsString),
    /// A file, by path.
    File(PathBuf),
    /// A System V segment: its key (0 once it is marked for removal, or for
    /// an `IPC_PRIVATE` segment) and its id.
    SysV {
        /// The key (`ipcs -m` column `key`).
        key: SysvKey,
        /// The segment id (`ipcs -m` column `shmid`).
        shmid: i32,
    },
}

impl fmt::Display for Location {
    /// `/name`, the path, or `sysv:0x0000002a` (`sysv-id:N` without key).
    /// Bytes of a POSIX name that are not UTF-8 are written `\xNN`; other
    /// characters as they are (a tool printing names for a terminal escapes
    /// control characters itself).
    ///
    /// ```
    /// use shm_runtime::segment::{inspect::Location, SysvKey};
    /// use std::os::unix::ffi::OsStrExt;
    /// let loc = Location::SysV { key: SysvKey::new(42), shmid: 7 };
    /// assert_eq!(loc.to_string(), "sysv:0x0000002a");
    /// let name = std::ffi::OsStr::from_bytes(b"/caf\xe9");
    /// assert_eq!(Location::Posix(name.into()).to_string(), "/caf\\xe9");
    /// ```
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Location::Posix(name) => {
                for chunk in name.as_bytes().utf8_chunks() {
                    f.write_str(chunk.valid())?;
                    for byte in chunk.invalid() {
                        write!(f, "\\x{byte:02x}")?;
                    }
                }
                Ok(())
            }
            Location::File(path) => write!(f, "{}", path.display()),
            Location::SysV { key, shmid } if key.get() == 0 => write!(f, "sysv-id:{shmid}"),
            Location::SysV { key, .. } => write!(f, "sysv:{key}"),
        }
    }
}

/// The initialization state recorded in a header of this library.
///
/// ```
/// use shm_runtime::segment::inspect::State;
/// assert_eq!(State::Ready.to_string(), "ready");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum State {
    /// All zero: no creator has claimed it yet (or it died before it did).
    Uninitialized,
    /// Its creator is writing it (or died while doing so).
    Initializing,
    /// Published: every field is final.
    Ready,
    /// Its creator gave up (its initializer panicked or failed).
    Abandoned,
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            State::Uninitialized => "uninitialized",
            State::Initializing => "initializing",
            State::Ready => "ready",
            State::Abandoned => "abandoned",
        })
    }
}

/// Whether the process that created (or last reclaimed) a segment exists.
///
/// ```
/// use shm_runtime::segment::inspect::CreatorStatus;
/// assert_eq!(CreatorStatus::Dead.to_string(), "dead");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum CreatorStatus {
    /// It runs (a zombie, dead but not yet reaped by its parent, does not).
    Alive,
    /// It was recorded in this process's PID namespace and is gone.
    Dead,
    /// It was recorded in another PID namespace (a container sharing
    /// `/dev/shm`), or none was recorded: its pid means nothing here.
    Unknown,
}

impl fmt::Display for CreatorStatus {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            CreatorStatus::Alive => "alive",
            CreatorStatus::Dead => "dead",
            CreatorStatus::Unknown => "unknown",
        })
    }
}

/// Why an object is not (recognizably) a segment of this library.
///
/// ```
/// use shm_runtime::segment::inspect::Foreign;
/// assert_eq!(Foreign::Empty.to_string(), "empty");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum Foreign {
    /// Zero bytes long: another program's, or a creator of this library
    /// that died between creating and sizing it (nothing tells them apart).
    Empty,
    /// Shorter than this library's header.
    TooShort,
    /// A directory, symbolic link, FIFO or other non-regular file.
    NotRegularFile,
    /// A header that is all zero: a creator of this library that has not
    /// claimed it yet (or died before it did), or another program's
    /// zero-filled object.
    Zeroed,
    /// Its first bytes are not a header of this library.
    NoHeader,
    /// A header of this library written with the other byte order.
    OtherEndian,
    /// A header of a newer format version than this library reads.
    NewerFormat(u32),
}

impl fmt::Display for Foreign {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Foreign::Empty => f.write_str("empty"),
            Foreign::TooShort => f.write_str("shorter than a header"),
            Foreign::NotRegularFile => f.write_str("not a regular file"),
            Foreign::Zeroed => f.write_str("all-zero header"),
            Foreign::NoHeader => f.write_str("no header of this library"),
            Foreign::OtherEndian => f.write_str("header of the other byte order"),
            Foreign::NewerFormat(v) => write!(f, "header format {v} (newer)"),
        }
    }
}

/// What an object's first bytes say.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Contents {
    /// A header of this library.
    Segment(HeaderInfo),
    /// Not a segment of this library: never interpreted further.
    Foreign(Foreign),
    /// The object exists but this process may not read it (its mode, or a
    /// symbolic link): the message says why.
    Unreadable(String),
    /// The lock file (`.shmrt-create-…`, empty) with which `open_or_create`
    /// lets one process at a time create a segment; `held: false` when no
    /// process holds it (its holder died while creating): stale, and
    /// `shm-tool clean` removes it.
    CreationLock {
        /// Whether a process holds the lock now.
        held: bool,
    },
}

/// The fields of a header of this library.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct HeaderInfo {
    /// The initialization state.
    pub state: State,
    /// The header format version (0 while the creator has not written it).
    pub format_version: u32,
    /// The pid of the process that created (or last reclaimed) it.
    pub creator_pid: u32,
    /// Whether that process exists, as far as this process can know.
    pub creator: CreatorStatus,
    /// The type and size of the payload, once the creator wrote them.
    pub payload: Option<PayloadInfo>,
}

/// The payload a header describes.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct PayloadInfo {
    /// The type's layout fingerprint.
    pub fingerprint: Fingerprint,
    /// `std::any::type_name` of the type (at most 112 bytes), informational.
    pub type_name: String,
    /// `size_of` the type.
    pub type_size: u64,
    /// `align_of` the type.
    pub type_align: u64,
    /// A slice `[T]` (else a single value).
    pub slice: bool,
    /// The element count (1 for a single value).
    pub len: u64,
    /// Where the payload starts, in bytes from the start of the object.
    pub payload_offset: u64,
    /// The payload's size in bytes.
    pub payload_bytes: u64,
    /// `size_of::<usize>()` of the creator's machine.
    pub pointer_width: u8,
    /// The creator's byte order: `Some(true)` little endian, `None` unknown.
    pub little_endian: Option<bool>,
    /// Where the stored [layout description](SegmentInfo::description)
    /// starts, in bytes from the start of the object (0: none stored, or a
    /// header format before 4); the block's format is documented in the
    /// `header` module source.
    pub description_offset: u64,
    /// Its length in bytes (0: none).
    pub description_len: u64,
}

impl PayloadInfo {
    /// The type as a `Shared` view names it: `T` or `[T]`.
    ///
    /// ```
    /// use shm_runtime::{init, segment::{inspect, Segment}};
    /// let name = format!("/shm-runtime-doc-pdesc-{}", std::process::id());
    /// let _v = Segment::posix(&name).remove_on_drop(true).create(init::zeroed_slice::<u16>(3))?;
    /// let info = inspect::inspect_posix(&name)?;
    /// let header = info.header().unwrap();
    /// assert_eq!(header.payload.as_ref().unwrap().type_description(), "[u16]");
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn type_description(&self) -> String {
        if self.slice {
            format!("[{}]", self.type_name)
        } else {
            self.type_name.clone()
        }
    }

    /// The bytes the header says the object needs: payload offset plus
    /// payload bytes (saturating).
    ///
    /// ```
    /// use shm_runtime::segment::{inspect, Segment};
    /// let name = format!("/shm-runtime-doc-pend-{}", std::process::id());
    /// let _v = Segment::posix(&name).remove_on_drop(true).create(0u64)?;
    /// let info = inspect::inspect_posix(&name)?;
    /// let payload = info.header().unwrap().payload.as_ref().unwrap();
    /// assert_eq!(payload.end(), payload.payload_offset + 8);
    /// assert!(payload.end() <= info.object_size);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn end(&self) -> u64 {
        self.payload_offset.saturating_add(self.payload_bytes)
    }
}

/// What [`inspect_posix`](super::inspect_posix) and its siblings found.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct SegmentInfo {
    /// Where it lives.
    pub location: Location,
    /// Its size in bytes.
    pub object_size: u64,
    /// Its permission bits (`0o600`).
    pub mode: u32,
    /// The owner's user id.
    pub owner_uid: u32,
    /// Last modification (`st_mtime`; System V: last attach or detach).
    pub modified: Option<SystemTime>,
    /// Last status change (`st_ctime`; System V: `shm_ctime`). For segments
    /// of this library, normally their creation.
    pub changed: Option<SystemTime>,
    /// System V only: how many processes have it attached.
    pub attached: Option<u64>,
    /// System V only: marked for removal (`SHM_DEST`), freed at the last
    /// detach.
    pub removed: bool,
    /// What its first bytes say.
    pub contents: Contents,
    pub(super) identity: Option<Identity>,
}

/// An [`ShmMutex`](crate::ShmMutex) found by [`SegmentInfo::scan_mutexes`].
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct MutexInfo {
    /// Its offset in the payload, in bytes.
    pub offset: u64,
    /// The OS thread id holding the lock, from the holder's owner record: 0
    /// if the lock is free, or while its holder has not recorded itself yet
    /// (the instant after it took the lock).
    pub holder_tid: u32,
    /// Whether that thread is alive: `None` when the lock is free, or when
    /// thread ids cannot be judged from this process (a process of another
    /// PID namespace locked the mutex at some time). `Some(false)`: the
    /// thread no longer exists, is a zombie, or its id now belongs to a
    /// thread with another start time.
    pub holder_alive: Option<bool>,
    /// The holder died holding the lock (`holder_alive == Some(false)`): the
    /// next `lock` takes it over and gets `OwnerDied`.
    pub owner_died: bool,
    /// A previous holder died or panicked and nobody has called
    /// `mark_consistent` since: every `lock` gets `OwnerDied`.
    pub inconsistent: bool,
}
