//! Reading a segment's header without knowing its type: for monitors and
//! cleanup tools such as `shm-tool`.
//!
//! [`inspect_posix`], [`inspect_file`], [`inspect_sysv`] and
//! [`inspect_sysv_id`] return a [`SegmentInfo`] (and
//! [`segment::list`](super::list) one for every object there is): the object's size, mode,
//! owner and times, and what its first bytes say ([`Contents`]): a header of
//! this library (its [`State`], creator, type name, fingerprint, sizes), or
//! an object of another program ([`Foreign`]).
//!
//! ```
//! use shm_runtime::segment::{inspect, Segment};
//! use shm_runtime::segment::inspect::{Contents, State};
//!
//! let name = format!("/shm-runtime-doc-inspect-{}", std::process::id());
//! let _table = Segment::posix(&name).remove_on_drop(true).create([0u32; 8])?;
//! let info = inspect::inspect_posix(&name)?;
//! let Contents::Segment(header) = &info.contents else { panic!("not ours") };
//! assert_eq!(header.state, State::Ready);
//! assert_eq!(header.creator_pid, std::process::id());
//! let payload = header.payload.as_ref().unwrap();
//! assert_eq!(payload.type_name, "[u32; 8]");
//! assert_eq!(payload.payload_bytes, 32);
//! # Ok::<(), shm_runtime::Error>(())
//! ```
//!
//! # Never harmful
//!
//! Inspection only reads. It never opens for writing, never maps an object
//! with `mmap` (POSIX objects and files are read with `pread`, which returns
//! short reads past the end of a truncated file instead of raising
//! `SIGBUS`), and reads System V segments (which cannot shrink) through a
//! read-only attachment of exactly the size the kernel reports. It never
//! waits for a segment being initialized: it reports what it sees now.
//! Reading updates access times (and, for System V, the attach counters)
//! only. Objects of other programs are read, never interpreted further.
//!
//! The one method that changes anything is [`SegmentInfo::remove`], which
//! removes the name only while it still refers to the object inspected.
//!
//! # What can be known of a segment being written
//!
//! Fields other than the state word are final only once the segment is
//! [`Ready`](State::Ready). For a segment still initializing (or abandoned,
//! or being reclaimed) the type fields are those the creator wrote before it
//! died or gave up; they are reported when its magic is written, and may be
//! torn if a process is rewriting them at that instant.

use super::file;
use super::header::{self, Creator, Poll, HEADER_SIZE};
use super::object::Identity;
use super::reader::Reader;
use super::sysv::{self, SysvKey};
use super::target::Target;
use crate::error::{Error, ErrorKind, Result};
use crate::layout::describe::Description;
use crate::map::Mapping;
use crate::{Fingerprint, MapOptions};
use std::ffi::{OsStr, OsString};
use std::fmt;
use std::fs::Metadata;
use std::os::fd::AsFd;
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

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

/// What [`inspect_posix`] and its siblings found.
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
    identity: Option<Identity>,
}

impl SegmentInfo {
    /// The header, if this is a segment of this library.
    ///
    /// ```
    /// use shm_runtime::segment::inspect;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-hdr-{}", std::process::id()));
    /// std::fs::write(&path, b"not a segment")?;
    /// let info = inspect::inspect_file(&path)?;
    /// assert!(info.header().is_none() && info.is_foreign());
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn header(&self) -> Option<&HeaderInfo> {
        match &self.contents {
            Contents::Segment(header) => Some(header),
            _ => None,
        }
    }

    /// Whether it is not a segment of this library (or cannot be read to
    /// tell).
    ///
    /// ```
    /// use shm_runtime::segment::{inspect, Segment};
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-fgn-{}", std::process::id()));
    /// std::fs::write(&path, [0xabu8; 300])?;
    /// assert!(inspect::inspect_file(&path)?.is_foreign());
    /// std::fs::remove_file(&path)?;
    /// let _v = Segment::file(&path).remove_on_drop(true).create(1u8)?;
    /// assert!(!inspect::inspect_file(&path)?.is_foreign());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_foreign(&self) -> bool {
        self.header().is_none() && !matches!(self.contents, Contents::CreationLock { .. })
    }

    /// Whether it is a segment of this library that no process will ever
    /// finish: abandoned by its creator, or still initializing while its
    /// creator is dead. (`open_or_create` would reclaim it; `open` fails with
    /// [`CreatorDied`](ErrorKind::CreatorDied).)
    ///
    /// ```
    /// use shm_runtime::segment::{inspect, Segment};
    /// let name = format!("/shm-runtime-doc-stale-{}", std::process::id());
    /// let _v = Segment::posix(&name).remove_on_drop(true).create(0u32)?;
    /// // Ready, and its creator (this process) alive:
    /// assert!(!inspect::inspect_posix(&name)?.is_stale());
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn is_stale(&self) -> bool {
        if let Contents::CreationLock { held } = self.contents {
            return !held;
        }
        self.header().is_some_and(|h| {
            h.state == State::Abandoned
                || (h.state == State::Initializing && h.creator == CreatorStatus::Dead)
        })
    }

    /// How long ago its status last changed (see [`changed`](Self::changed)).
    ///
    /// ```
    /// use shm_runtime::segment::{inspect, Segment};
    /// use std::time::Duration;
    /// let name = format!("/shm-runtime-doc-age-{}", std::process::id());
    /// let _v = Segment::posix(&name).remove_on_drop(true).create(0u32)?;
    /// let age = inspect::inspect_posix(&name)?.age().unwrap();
    /// assert!(age < Duration::from_secs(3600)); // made just now
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn age(&self) -> Option<Duration> {
        self.changed
            .map(|t| SystemTime::now().duration_since(t).unwrap_or_default())
    }

    /// What is wrong with a header of this library that says "ready": the
    /// object is shorter than the payload it describes (truncated), its
    /// sizes disagree, or it was made on another platform. `None` if
    /// nothing is (or it is not ready, or not of this library).
    ///
    /// ```
    /// use shm_runtime::segment::{inspect, Segment};
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-prob-{}", std::process::id()));
    /// let _v = Segment::file(&path).remove_on_drop(true).create([0u64; 512])?;
    /// assert_eq!(inspect::inspect_file(&path)?.problem(), None);
    /// // Cut short behind the library's back:
    /// std::fs::OpenOptions::new().write(true).open(&path)?.set_len(1024)?;
    /// let problem = inspect::inspect_file(&path)?.problem().unwrap();
    /// assert!(problem.starts_with("truncated"), "{problem}");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn problem(&self) -> Option<String> {
        self.problem_kind().map(|(_, why)| why)
    }

    /// [`problem`](Self::problem), with the kind of error it amounts to.
    fn problem_kind(&self) -> Option<(ErrorKind, String)> {
        let header = self.header().filter(|h| h.state == State::Ready)?;
        let payload = header.payload.as_ref()?;
        let width = size_of::<usize>() as u8;
        let little = cfg!(target_endian = "little");
        if payload.pointer_width != width || payload.little_endian != Some(little) {
            let why = format!(
                "made on a {}-bit {} machine, this is a {}-bit one",
                u32::from(payload.pointer_width) * 8,
                match payload.little_endian {
                    Some(true) => "little-endian",
                    Some(false) => "big-endian",
                    None => "unknown-endian",
                },
                usize::BITS
            );
            return Some((ErrorKind::Incompatible, why));
        }
        if payload.type_size.checked_mul(payload.len) != Some(payload.payload_bytes)
            || (!payload.slice && payload.len != 1)
            || payload
                .payload_offset
                .checked_add(payload.payload_bytes)
                .is_none()
        {
            let why = "inconsistent sizes in the header: corrupt".to_owned();
            return Some((ErrorKind::NotASegment, why));
        }
        // The description block lies right after the payload (format 4).
        let (at, len) = (payload.description_offset, payload.description_len);
        let after = payload.end().checked_add(7).map(|e| e & !7);
        if (len == 0 && at != 0)
            || (len != 0 && (Some(at) != after || len > crate::layout::describe::MAX_LEN as u64))
        {
            let why = "inconsistent description block in the header: corrupt".to_owned();
            return Some((ErrorKind::NotASegment, why));
        }
        // The description block follows the payload (format 4).
        let end = payload.end().max(
            payload
                .description_offset
                .saturating_add(payload.description_len),
        );
        if end > self.object_size {
            let why = format!(
                "truncated: {} bytes long, the header describes {end}",
                self.object_size,
            );
            return Some((ErrorKind::TooShort, why));
        }
        None
    }

    /// The [layout description](crate::layout::describe) the segment stores
    /// of its payload type (the element type of a slice), read without the
    /// type: with it and the payload's place
    /// ([`PayloadInfo::payload_offset`], [`payload_bytes`](PayloadInfo::payload_bytes),
    /// [`len`](PayloadInfo::len)), a reader can map the payload and decode
    /// its values.
    ///
    /// The segment is reopened and its header read again (an error if the
    /// name now refers to another object, or holds another type); the
    /// block is read with `pread` (System V: from a read-only attachment),
    /// never through a mapping that a truncation could turn into `SIGBUS`,
    /// after its offset and length are checked against the header's
    /// payload fields and the object's size, and its checksum against the
    /// header's; its bytes are then decoded as the untrusted input they
    /// are ([`Description::decode`]).
    ///
    /// Errors: [`NotASegment`](ErrorKind::NotASegment) (not a segment of
    /// this library, or a corrupt header or block),
    /// [`TooShort`](ErrorKind::TooShort) (truncated),
    /// [`UnsupportedVersion`](ErrorKind::UnsupportedVersion) (a header
    /// format before 4, which stores no description, or a description
    /// format this version does not read), [`Unsupported`](ErrorKind::Unsupported)
    /// (its creator stored none: its type was beyond the format's
    /// [limits](crate::layout::describe#limits)),
    /// [`NotFound`](ErrorKind::NotFound) (removed or replaced since it was
    /// inspected), [`TimedOut`](ErrorKind::TimedOut) (not ready: its
    /// creator is still writing it, or died doing so; this never waits), and
    /// those of [`problem`](Self::problem).
    ///
    /// ```
    /// use shm_runtime::layout::describe::KindDesc;
    /// use shm_runtime::segment::{inspect, Segment};
    /// use shm_runtime::SharedSafe;
    ///
    /// #[derive(SharedSafe)]
    /// #[repr(C)]
    /// struct Stats { hits: u64, errors: u32 }
    ///
    /// let name = format!("/shm-runtime-doc-idesc-{}", std::process::id());
    /// let _stats = Segment::posix(&name).remove_on_drop(true).create(Stats { hits: 1, errors: 0 })?;
    /// let info = inspect::inspect_posix(&name)?;
    /// let description = info.description()?;
    /// let root = description.get(description.root());
    /// assert_eq!(root.name, "Stats");
    /// let KindDesc::Struct { fields, .. } = &root.kind else { panic!("a struct") };
    /// let names: Vec<_> = fields.iter().map(|f| (f.name.as_str(), f.offset)).collect();
    /// assert_eq!(names, [("hits", 0), ("errors", 8)]);
    /// assert_eq!(description.fingerprint(), Some(Stats::FINGERPRINT));
    /// // The payload, to read the values from:
    /// let payload = info.header().unwrap().payload.as_ref().unwrap();
    /// let size = std::mem::size_of::<Stats>() as u64;
    /// assert_eq!((payload.payload_offset, payload.payload_bytes), (256, size));
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn description(&self) -> Result<Description> {
        let what = self.what();
        let Some(header) = self.header() else {
            return Err(Error::new(
                ErrorKind::NotASegment,
                format!(
                    "reading the layout description of {what}: it is not a segment of this library"
                ),
            ));
        };
        if let Some((kind, why)) = self.problem_kind() {
            return Err(Error::new(
                kind,
                format!("reading the layout description of {what}: {why}"),
            ));
        }
        if header.format_version != header::FORMAT_VERSION {
            return Err(Error::new(
                ErrorKind::UnsupportedVersion,
                format!(
                    "{what} has header format {}, which stores no layout description (format {} \
                     does): recreate it with this version",
                    header.format_version,
                    header::FORMAT_VERSION
                ),
            ));
        }
        let (source, again) = open(&self.location)?;
        if again.identity != self.identity {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("reading the layout description of {what}: it was replaced since it was inspected"),
            ));
        }
        let Some(source) = source else {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                format!("reading the layout description of {what}: it cannot be read"),
            ));
        };
        let reader = source.reader();
        let snap = reader.header()?.ok_or_else(|| {
            Error::new(
                ErrorKind::TooShort,
                format!("reading the layout description of {what}: it was truncated"),
            )
        })?;
        let inspected = header.payload.as_ref().map(|p| p.fingerprint.as_u64());
        if !snap.magic_written || inspected != Some(snap.fingerprint) {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "reading the layout description of {what}: it was initialized anew since it \
                     was inspected"
                ),
            ));
        }
        if !matches!(snap.poll, header::Poll::Ready) {
            // Until "ready", the creator may still be writing the block.
            return Err(Error::new(
                ErrorKind::TimedOut,
                format!(
                    "reading the layout description of {what}: it is not ready (its creator is                      still initializing it, or died doing so)"
                ),
            ));
        }
        let description = snap.description(&reader, again.object_size, &what)?;
        let after = reader.header()?;
        if after.as_ref().map(|a| a.state_word) != Some(snap.state_word) {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!(
                    "reading the layout description of {what}: it was retired or initialized                      anew while it was read"
                ),
            ));
        }
        if description.fingerprint() != Some(Fingerprint::from_u64(snap.fingerprint)) {
            return Err(Error::new(
                ErrorKind::NotASegment,
                format!(
                    "{what} has a corrupt layout description (it does not describe the type of \
                     the header's fingerprint)"
                ),
            ));
        }
        Ok(description)
    }

    /// Removes the name (`shm_unlink`, `unlink`, `IPC_RMID`), only while it
    /// still refers to the object inspected: if it was removed and the name
    /// reused since, the new object is left alone and this returns `Ok`.
    /// Processes that mapped it keep their mappings.
    ///
    /// It cannot know whether the object changed state since it was
    /// inspected (a stale segment reclaimed by `open_or_create` meanwhile):
    /// callers that remove by state should inspect again just before.
    ///
    /// ```
    /// use shm_runtime::segment::{inspect, Segment};
    /// let name = format!("/shm-runtime-doc-irm-{}", std::process::id());
    /// Segment::posix(&name).create(1u8)?;
    /// inspect::inspect_posix(&name)?.remove()?;
    /// assert!(inspect::inspect_posix(&name).is_err());
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn remove(&self) -> Result<()> {
        let target = match &self.location {
            Location::Posix(name) => {
                let c_name = super::posix::validate_os_name(name)?;
                return match self.identity {
                    Some(identity) => super::posix::unlink_if(&c_name, identity, &self.what()),
                    None => Err(self.unknown_identity()),
                };
            }
            Location::File(path) => Target::File(path.clone()),
            Location::SysV { shmid, .. } => {
                return sysv::remove_id(*shmid, &self.what());
            }
        };
        match self.identity {
            Some(identity) => target.remove(Some(identity)),
            None => Err(self.unknown_identity()),
        }
    }

    fn unknown_identity(&self) -> Error {
        Error::new(
            ErrorKind::PermissionDenied,
            format!(
                "removing {}: it could not be opened, so which object the name refers \
                 to is unknown; remove it by name",
                self.what()
            ),
        )
    }

    /// Scans the payload of a segment of this library for
    /// [`ShmMutex`](crate::ShmMutex)es and reports each one found with its
    /// holder.
    ///
    /// This is a heuristic: the segment records its type's name, not where
    /// mutexes lie in it, so every 8-byte-aligned offset is tested for the
    /// signature of an `ShmMutex` that was used: a PID-namespace record
    /// (this process's namespace, "several", or a value in the range the
    /// kernel gives namespace inodes), an inconsistency flag of 0 or 1, and
    /// a holder record that is empty or names the lock word. Other data
    /// could match by chance, and a mutex never locked (all zero) is not
    /// found. The segment is reopened: an error if the name now refers to
    /// another object, and an error (of the kind the problem amounts to)
    /// if the header has a [`problem`](Self::problem).
    ///
    /// A holder is judged as the mutex itself judges it (see
    /// [`MutexInfo::holder_alive`]): only when every process that locked
    /// the mutex ran in this process's PID namespace.
    ///
    /// ```
    /// use shm_runtime::segment::{inspect, Segment};
    /// use shm_runtime::ShmMutex;
    /// let name = format!("/shm-runtime-doc-scan-{}", std::process::id());
    /// let m = Segment::posix(&name).remove_on_drop(true).create(ShmMutex::new(0u64))?;
    /// let guard = m.lock().unwrap();
    /// let found = inspect::inspect_posix(&name)?.scan_mutexes()?;
    /// assert_eq!(found.len(), 1);
    /// assert_eq!(found[0].offset, 0);
    /// assert_eq!(found[0].holder_alive, Some(true)); // this thread
    /// # drop(guard);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn scan_mutexes(&self) -> Result<Vec<MutexInfo>> {
        use crate::sync::mutex::{probe, PROBE_ALIGN, PROBE_LEN};
        let what = self.what();
        let Some(header) = self.header() else {
            return Err(Error::new(
                ErrorKind::NotASegment,
                format!("scanning {what} for mutexes: it is not a segment of this library"),
            ));
        };
        if let Some((kind, why)) = self.problem_kind() {
            return Err(Error::new(
                kind,
                format!("scanning {what} for mutexes: {why}"),
            ));
        }
        let Some(payload) = &header.payload else {
            return Ok(Vec::new());
        };
        let (reader, again) = open(&self.location)?;
        if again.identity != self.identity {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("scanning {what}: it was replaced since it was inspected"),
            ));
        }
        let Some(reader) = reader else {
            return Err(Error::new(
                ErrorKind::PermissionDenied,
                format!("scanning {what}: it cannot be read"),
            ));
        };
        // A header that is not "ready" has no `problem`: every bound is
        // checked here (`end` saturates).
        let start = payload.payload_offset;
        let end = payload.end().min(again.object_size);
        let probe_len = PROBE_LEN as u64;
        let mut found = Vec::new();
        const CHUNK: u64 = 1 << 20;
        let mut buf = vec![0u8; CHUNK as usize + PROBE_LEN];
        let mut at = start;
        while at.checked_add(probe_len).is_some_and(|e| e <= end) {
            let want = (end - at).min(buf.len() as u64) as usize;
            let got = reader.reader().read_at(at, &mut buf[..want])?;
            let mut i = 0;
            while i + PROBE_LEN <= got && i < CHUNK as usize {
                if let Some(p) = probe(&buf[i..]) {
                    found.push(MutexInfo {
                        offset: at - start + i as u64,
                        holder_tid: p.holder_tid,
                        holder_alive: p.holder_alive,
                        owner_died: p.holder_alive == Some(false),
                        inconsistent: p.inconsistent,
                    });
                }
                i += PROBE_ALIGN;
            }
            if got < want {
                break; // truncated under us
            }
            let Some(next) = at.checked_add(CHUNK) else {
                break;
            };
            at = next;
        }
        Ok(found)
    }

    fn what(&self) -> String {
        match &self.location {
            Location::Posix(name) => format!("segment `{}`", super::posix::escape_name(name)),
            Location::File(path) => format!("file `{}`", path.display()),
            Location::SysV { key, shmid } => format!("System V segment {key} (shmid {shmid})"),
        }
    }
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

/// What [`open`] found besides contents.
struct Found {
    object_size: u64,
    mode: u32,
    owner_uid: u32,
    modified: Option<SystemTime>,
    changed: Option<SystemTime>,
    attached: Option<u64>,
    removed: bool,
    identity: Option<Identity>,
    /// Why there is no reader, when there is none.
    unreadable: Option<Contents>,
    /// Named as a creation lock.
    creation_lock: bool,
}

/// Reads an object without ever raising `SIGBUS`: owns what
/// [`super::reader::Reader`] borrows.
enum Source {
    /// A POSIX object or file: `pread`.
    File(std::fs::File),
    /// A System V segment attached read-only, of its full size.
    SysV(Mapping),
}

impl Source {
    fn reader(&self) -> Reader<'_> {
        match self {
            Source::File(file) => Reader::Fd(file.as_fd()),
            Source::SysV(mapping) => Reader::SysV(mapping),
        }
    }
}

fn time(secs: i64) -> Option<SystemTime> {
    if secs <= 0 {
        return None;
    }
    SystemTime::UNIX_EPOCH.checked_add(Duration::from_secs(secs as u64))
}

fn from_metadata(meta: &Metadata, opened: bool) -> Found {
    Found {
        object_size: meta.size(),
        mode: meta.mode() & 0o7777,
        owner_uid: meta.uid(),
        modified: time(meta.mtime()),
        changed: time(meta.ctime()),
        attached: None,
        removed: false,
        identity: opened.then(|| Identity::Inode(meta.dev(), meta.ino())),
        unreadable: None,
        creation_lock: false,
    }
}

/// Opens the object read-only and reads its metadata; `None` as reader
/// when it exists but cannot be read (the reason is in `unreadable`).
fn open(location: &Location) -> Result<(Option<Source>, Found)> {
    match location {
        Location::Posix(name) => {
            let c_name = super::posix::validate_os_name(name)?;
            let what = format!("segment `{}`", super::posix::escape_name(name));
            #[cfg(target_os = "linux")]
            {
                let _ = c_name;
                let file_name = OsStr::from_bytes(&name.as_bytes()[1..]);
                open_path(&Path::new("/dev/shm").join(file_name), &what)
            }
            #[cfg(not(target_os = "linux"))]
            {
                let fd = super::posix::open(&c_name, false, &what)?;
                let file = std::fs::File::from(fd);
                let meta = file
                    .metadata()
                    .map_err(|e| Error::os(format!("reading the metadata of {what}"), e))?;
                Ok((Some(Source::File(file)), from_metadata(&meta, true)))
            }
        }
        Location::File(path) => open_path(path, &format!("file `{}`", path.display())),
        Location::SysV { shmid, .. } => open_sysv(*shmid),
    }
}

fn open_path(path: &Path, what: &str) -> Result<(Option<Source>, Found)> {
    let (source, mut found) = open_path_plain(path, what)?;
    found.creation_lock = path
        .file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with(super::publish::LOCK_PREFIX));
    Ok((source, found))
}

fn open_path_plain(path: &Path, what: &str) -> Result<(Option<Source>, Found)> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| {
        if e.kind() == std::io::ErrorKind::NotFound {
            Error::os(format!("inspecting {what}: no such segment or file"), e).explained()
        } else {
            Error::os(format!("inspecting {what}"), e)
        }
    })?;
    if !meta.file_type().is_file() {
        let mut found = from_metadata(&meta, false);
        found.unreadable = Some(Contents::Foreign(Foreign::NotRegularFile));
        return Ok((None, found));
    }
    let c_path = file::path_c(path, what)?;
    let fd = match file::open_flags(&c_path, libc::O_RDONLY, 0, &format!("opening {what}")) {
        Ok(fd) => fd,
        Err(e) if e.kind() == ErrorKind::NotFound => return Err(e),
        Err(e) => {
            let mut found = from_metadata(&meta, false);
            found.unreadable = Some(Contents::Unreadable(e.to_string()));
            return Ok((None, found));
        }
    };
    let file = std::fs::File::from(fd);
    let meta = file
        .metadata()
        .map_err(|e| Error::os(format!("reading the metadata of {what}"), e))?;
    let mut found = from_metadata(&meta, true);
    if !meta.file_type().is_file() {
        found.unreadable = Some(Contents::Foreign(Foreign::NotRegularFile));
        return Ok((None, found));
    }
    Ok((Some(Source::File(file)), found))
}

fn open_sysv(shmid: i32) -> Result<(Option<Source>, Found)> {
    let what = format!("System V segment id {shmid}");
    let mut found = match sysv::stat_ds(shmid, &what) {
        Ok(ds) => Found {
            #[allow(clippy::unnecessary_cast)] // size_t width varies by target
            object_size: ds.shm_segsz as u64,
            #[allow(clippy::useless_conversion)] // mode's width varies by target
            mode: u32::from(ds.shm_perm.mode) & 0o777,
            owner_uid: ds.shm_perm.uid,
            #[allow(clippy::unnecessary_cast)] // time_t width varies by target
            modified: time(ds.shm_atime.max(ds.shm_dtime) as i64),
            #[allow(clippy::unnecessary_cast)]
            changed: time(ds.shm_ctime as i64),
            #[allow(clippy::unnecessary_cast)] // shmatt_t width varies by target
            attached: Some(ds.shm_nattch as u64),
            #[allow(clippy::useless_conversion)] // mode's width varies by target
            removed: u32::from(ds.shm_perm.mode) & 0o1000 != 0,
            identity: Some(Identity::ShmId(shmid)),
            unreadable: None,
            creation_lock: false,
        },
        Err(e) if e.kind() == ErrorKind::PermissionDenied => {
            let Some(found) = proc_sysvipc(shmid) else {
                return Err(e);
            };
            return Ok((None, found));
        }
        Err(e)
            if matches!(
                e.os_error().and_then(|e| e.raw_os_error()),
                Some(libc::EINVAL | libc::EIDRM)
            ) =>
        {
            return Err(Error::new(
                ErrorKind::NotFound,
                format!("inspecting {what}: no such System V segment"),
            ))
        }
        Err(e) => return Err(e),
    };
    let size = usize::try_from(found.object_size).unwrap_or(usize::MAX);
    if size < HEADER_SIZE {
        return Ok((None, found));
    }
    match Mapping::attach_sysv(shmid, size, false, &MapOptions::new(), &what) {
        Ok(mapping) => Ok((Some(Source::SysV(mapping)), found)),
        Err(e) => {
            found.unreadable = Some(Contents::Unreadable(e.to_string()));
            Ok((None, found))
        }
    }
}

/// The row of segment `shmid` in `/proc/sysvipc/shm`, readable without
/// permission on the segment.
fn proc_sysvipc(shmid: i32) -> Option<Found> {
    let table = std::fs::read_to_string("/proc/sysvipc/shm").ok()?;
    // key shmid perms size cpid lpid nattch uid gid cuid cgid atime dtime ctime ...
    table.lines().skip(1).find_map(|line| {
        let cols: Vec<&str> = line.split_whitespace().collect();
        if cols.get(1)?.parse::<i32>().ok()? != shmid {
            return None;
        }
        let num = |i: usize| cols.get(i)?.parse::<i64>().ok();
        let perms = u32::from_str_radix(cols.get(2)?, 8).ok()?;
        Some(Found {
            object_size: num(3)? as u64,
            mode: perms & 0o777,
            owner_uid: num(7)? as u32,
            modified: time(num(11)?.max(num(12)?)),
            changed: time(num(13)?),
            attached: Some(num(6)? as u64),
            removed: perms & 0o1000 != 0,
            identity: Some(Identity::ShmId(shmid)),
            unreadable: Some(Contents::Unreadable(format!(
                "System V segment id {shmid}: its mode does not let this user read it"
            ))),
            creation_lock: false,
        })
    })
}

fn contents(reader: Option<&Source>, found: &Found) -> Result<Contents> {
    if let Some(contents) = &found.unreadable {
        return Ok(contents.clone());
    }
    if found.object_size == 0 {
        if let (true, Some(Source::File(file))) = (found.creation_lock, reader) {
            use std::os::fd::AsRawFd;
            // SAFETY: `file` is open; a shared lock that does not wait tells
            // whether a creator holds the exclusive one, and is released at
            // once.
            let free = unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_SH | libc::LOCK_NB) } == 0;
            if free {
                // SAFETY: as above.
                unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_UN) };
            }
            return Ok(Contents::CreationLock { held: !free });
        }
        return Ok(Contents::Foreign(Foreign::Empty));
    }
    if found.object_size < HEADER_SIZE as u64 {
        return Ok(Contents::Foreign(Foreign::TooShort));
    }
    let Some(reader) = reader else {
        return Ok(Contents::Foreign(Foreign::TooShort));
    };
    let Some(snap) = reader.reader().header()? else {
        return Ok(Contents::Foreign(Foreign::TooShort)); // truncated under us
    };
    let state = match snap.poll {
        Poll::Uninit => return Ok(Contents::Foreign(Foreign::Zeroed)),
        Poll::Garbage => return Ok(Contents::Foreign(Foreign::NoHeader)),
        Poll::OtherEndian => return Ok(Contents::Foreign(Foreign::OtherEndian)),
        Poll::Newer(v) => return Ok(Contents::Foreign(Foreign::NewerFormat(v))),
        Poll::Initializing { .. } => State::Initializing,
        // The fields are those of the current format; its fingerprint is not.
        Poll::Ready | Poll::Older(_) => State::Ready,
        Poll::Abandoned { .. } | Poll::Retired { .. } => State::Abandoned,
    };
    let creator = match header::creator_status(snap.creator_pid(), snap.creator_pid_ns) {
        Creator::Alive => CreatorStatus::Alive,
        Creator::Dead => CreatorStatus::Dead,
        Creator::Unknown => CreatorStatus::Unknown,
    };
    Ok(Contents::Segment(HeaderInfo {
        state,
        format_version: if snap.magic_written { snap.version } else { 0 },
        creator_pid: snap.creator_pid(),
        creator,
        payload: snap.magic_written.then(|| PayloadInfo {
            fingerprint: Fingerprint::from_u64(snap.fingerprint),
            type_name: snap.type_name.clone(),
            type_size: snap.type_size,
            type_align: snap.type_align,
            slice: snap.slice,
            len: snap.payload_len,
            payload_offset: snap.payload_offset,
            payload_bytes: snap.payload_bytes,
            pointer_width: snap.pointer_width,
            little_endian: snap.little_endian,
            description_offset: snap.desc_offset,
            description_len: u64::from(snap.desc_len),
        }),
    }))
}

fn inspect(location: Location) -> Result<SegmentInfo> {
    let (reader, found) = open(&location)?;
    let contents = contents(reader.as_ref(), &found)?;
    Ok(SegmentInfo {
        location,
        object_size: found.object_size,
        mode: found.mode,
        owner_uid: found.owner_uid,
        modified: found.modified,
        changed: found.changed,
        attached: found.attached,
        removed: found.removed,
        contents,
        identity: found.identity,
    })
}

/// Inspects the POSIX shared memory object `name` (`/name`: a `&str`, or an
/// `OsStr` for a name that is not UTF-8). On Linux it is read as
/// `/dev/shm/name`, without following a symbolic link and without blocking
/// on a FIFO planted there.
///
/// Errors: [`InvalidName`](ErrorKind::InvalidName), [`NotFound`](ErrorKind::NotFound).
/// An object this process may not read is not an error: its
/// [`contents`](SegmentInfo::contents) are [`Contents::Unreadable`].
///
/// ```
/// use shm_runtime::{segment::inspect, ErrorKind};
/// let err = inspect::inspect_posix("/shm-runtime-doc-no-such-segment").unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::NotFound);
/// ```
pub fn inspect_posix(name: impl AsRef<OsStr>) -> Result<SegmentInfo> {
    inspect(Location::Posix(name.as_ref().to_owned()))
}

/// Inspects the file at `path` (a symbolic link is reported, not followed).
///
/// ```
/// use shm_runtime::segment::{inspect, Segment};
/// let path = std::env::temp_dir().join(format!("shm-runtime-doc-ifile-{}", std::process::id()));
/// let _v = Segment::file(&path).remove_on_drop(true).create(7u64)?;
/// let info = inspect::inspect_file(&path)?;
/// assert_eq!(info.header().unwrap().payload.as_ref().unwrap().type_name, "u64");
/// # Ok::<(), shm_runtime::Error>(())
/// ```
pub fn inspect_file(path: impl AsRef<Path>) -> Result<SegmentInfo> {
    inspect(Location::File(path.as_ref().to_owned()))
}

/// Inspects the System V segment of `key`.
///
/// ```
/// use shm_runtime::segment::{inspect, Segment, SysvKey};
/// let key = SysvKey::new(0x5e10_0000 | (std::process::id() as i32 & 0xffff) << 4 | 3);
/// let _v = Segment::sysv(key).remove_on_drop(true).create(1u32)?;
/// let info = inspect::inspect_sysv(key)?;
/// assert_eq!(info.location.to_string(), format!("sysv:{key}"));
/// assert!(info.header().is_some());
/// # Ok::<(), shm_runtime::Error>(())
/// ```
pub fn inspect_sysv(key: SysvKey) -> Result<SegmentInfo> {
    let what = format!("System V segment {key}");
    let shmid = sysv::open(key, &what)?;
    inspect(Location::SysV { key, shmid })
}

/// Inspects the System V segment of id `shmid` (as `ipcs -m` lists them,
/// including `IPC_PRIVATE` segments, which have no key).
///
/// ```
/// use shm_runtime::{segment::inspect, ErrorKind};
/// let err = inspect::inspect_sysv_id(i32::MAX).unwrap_err();
/// assert_eq!(err.kind(), ErrorKind::NotFound);
/// ```
pub fn inspect_sysv_id(shmid: i32) -> Result<SegmentInfo> {
    let key = sysv_key_of(shmid);
    inspect(Location::SysV { key, shmid })
}

/// The key of segment `shmid`, 0 when unknown.
fn sysv_key_of(shmid: i32) -> SysvKey {
    #[cfg(target_os = "linux")]
    if let Ok(ds) = sysv::stat_ds(shmid, "") {
        #[allow(clippy::unnecessary_cast)] // key_t is i32 on Linux
        return SysvKey::new(ds.shm_perm.__key as i32);
    }
    std::fs::read_to_string("/proc/sysvipc/shm")
        .ok()
        .and_then(|table| {
            table.lines().skip(1).find_map(|line| {
                let mut cols = line.split_whitespace();
                let key = cols.next()?.parse::<i32>().ok()?;
                (cols.next()?.parse::<i32>().ok()? == shmid).then_some(key)
            })
        })
        .map(SysvKey::new)
        .unwrap_or(SysvKey::new(0))
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use crate::init;
    use crate::segment::Segment;
    use std::os::unix::fs::FileExt;

    /// A file segment of an `ShmMutex<u64>` whose header then says its
    /// payload lies at `payload_offset`.
    fn corrupt(tag: &str, payload_offset: u64) -> std::path::PathBuf {
        let path = std::env::temp_dir().join(format!(
            "shm-runtime-test-scan-{tag}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        drop(
            Segment::file(&path)
                .create(crate::ShmMutex::new(0u64))
                .unwrap(),
        );
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        // `Header::payload_offset`: after magic, version, header size,
        // state, fingerprint, type size and align.
        file.write_all_at(&payload_offset.to_ne_bytes(), 48)
            .unwrap();
        path
    }

    #[test]
    #[cfg_attr(miri, ignore = "maps a file segment")]
    fn scanning_a_header_with_an_absurd_payload_offset_fails_cleanly() {
        for (tag, offset) in [("max", u64::MAX), ("near", u64::MAX - 20), ("far", 1 << 40)] {
            let path = corrupt(tag, offset);
            let info = inspect_file(&path).unwrap();
            let header = info.header().expect("still a header of this library");
            assert_eq!(header.payload.as_ref().unwrap().payload_offset, offset);
            assert!(info.problem().is_some());
            let err = info.scan_mutexes().unwrap_err();
            assert!(
                matches!(err.kind(), ErrorKind::NotASegment | ErrorKind::TooShort),
                "{err}"
            );
            std::fs::remove_file(&path).unwrap();
        }
    }

    /// A file segment of `[u64; 4]`, and its description block's offset
    /// and length (header fields 224 and 220).
    fn described(tag: &str) -> (std::path::PathBuf, u64, u64) {
        let path = std::env::temp_dir().join(format!(
            "shm-runtime-test-desc-{tag}-{}",
            std::process::id()
        ));
        let _ = std::fs::remove_file(&path);
        drop(Segment::file(&path).create([7u64; 4]).unwrap());
        let info = inspect_file(&path).unwrap();
        let payload = info.header().unwrap().payload.clone().unwrap();
        (path, payload.description_offset, payload.description_len)
    }

    /// The behaviour: the stored description reads back as the type's own,
    /// right after the payload, for files and System V segments alike.
    #[test]
    #[cfg_attr(miri, ignore = "maps segments")]
    fn the_stored_description_is_the_types() {
        use crate::layout::describe::Description;
        use crate::SharedSafe;
        let (path, at, len) = described("ok");
        let info = inspect_file(&path).unwrap();
        let payload = info.header().unwrap().payload.clone().unwrap();
        assert_eq!(at, (payload.end() + 7) & !7);
        assert_eq!(info.object_size, at + len);
        let ours = Description::of(<[u64; 4]>::LAYOUT).unwrap();
        assert_eq!(info.description().unwrap(), ours);
        std::fs::remove_file(&path).unwrap();

        let key = SysvKey::new(0x5b00_0000 | ((std::process::id() as i32 & 0xfff) << 12) | 1);
        let _ = Segment::sysv(key).remove();
        let _v = Segment::sysv(key)
            .remove_on_drop(true)
            .create(init::zeroed_slice::<u16>(5))
            .unwrap();
        let info = inspect_sysv(key).unwrap();
        let description = info.description().unwrap();
        assert_eq!(description, Description::of(u16::LAYOUT).unwrap());
    }

    /// The behaviour: a garbage block (with or without a matching checksum)
    /// and a block whose header fields point elsewhere are typed errors.
    #[test]
    #[cfg_attr(miri, ignore = "maps a file segment")]
    fn a_garbage_description_is_a_typed_error() {
        let (path, at, len) = described("garbage");
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let garbage = vec![0xa5u8; len as usize];
        file.write_all_at(&garbage, at).unwrap();
        let err = inspect_file(&path).unwrap().description().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotASegment, "{err}");
        assert!(err.to_string().contains("checksum"), "{err}");
        file.write_all_at(&header::checksum(&garbage).to_ne_bytes(), 232)
            .unwrap();
        let err = inspect_file(&path).unwrap().description().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotASegment, "{err}");
        assert!(
            err.to_string()
                .contains("unreadable layout description: invalid layout description at byte 0"),
            "{err}"
        );
        // An offset that is not right after the payload, and one far away.
        for offset in [at + 8, 1 << 40, u64::MAX - 3] {
            file.write_all_at(&offset.to_ne_bytes(), 224).unwrap();
            let err = inspect_file(&path).unwrap().description().unwrap_err();
            assert_eq!(err.kind(), ErrorKind::NotASegment, "{offset}: {err}");
        }
        // A length beyond the format's limit.
        file.write_all_at(&at.to_ne_bytes(), 224).unwrap();
        file.write_all_at(&u32::MAX.to_ne_bytes(), 220).unwrap();
        let err = inspect_file(&path).unwrap().description().unwrap_err();
        assert!(
            matches!(err.kind(), ErrorKind::NotASegment | ErrorKind::TooShort),
            "{err}"
        );
        std::fs::remove_file(&path).unwrap();
    }

    /// The behaviour: a file truncated inside (or before) its description
    /// block is `TooShort`, read with `pread` (no `SIGBUS`), and so is one
    /// truncated between inspecting and reading the block.
    #[test]
    #[cfg_attr(miri, ignore = "maps a file segment")]
    fn a_truncated_description_is_a_typed_error() {
        let (path, at, len) = described("truncated");
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let inspected = inspect_file(&path).unwrap();
        file.set_len(at + len / 2).unwrap();
        // Inspected whole, truncated before the block is read.
        let err = inspected.description().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooShort, "{err}");
        // Inspected truncated.
        let info = inspect_file(&path).unwrap();
        assert!(info.problem().unwrap().starts_with("truncated"));
        let err = info.description().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooShort, "{err}");
        file.set_len(HEADER_SIZE as u64 + 1).unwrap();
        let err = inspect_file(&path).unwrap().description().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TooShort, "{err}");
        std::fs::remove_file(&path).unwrap();
    }

    /// The behaviour: a segment that is not ready (its creator may still be
    /// writing the block) has no description to read yet; once ready again,
    /// it does.
    #[test]
    #[cfg_attr(miri, ignore = "maps a file segment")]
    fn a_segment_not_ready_has_no_description_yet() {
        use std::os::unix::fs::FileExt;
        let (path, _, _) = described("not-ready");
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        let ready = std::fs::read(&path).unwrap()[16..24].to_vec();
        let initializing = (1u64 << 32) | u64::from(std::process::id());
        file.write_all_at(&initializing.to_ne_bytes(), 16).unwrap();
        let err = inspect_file(&path).unwrap().description().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::TimedOut, "{err}");
        assert!(err.to_string().contains("not ready"), "{err}");
        file.write_all_at(&ready, 16).unwrap();
        assert!(inspect_file(&path).unwrap().description().is_ok());
        std::fs::remove_file(&path).unwrap();
    }

    /// The behaviour: a header of format 3 stores no description:
    /// `UnsupportedVersion`.
    #[test]
    #[cfg_attr(miri, ignore = "maps a file segment")]
    fn format_3_has_no_description() {
        let (path, _, _) = described("v3");
        let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
        file.write_all_at(&3u32.to_ne_bytes(), 8).unwrap();
        file.write_all_at(&[0u8; 36], 220).unwrap();
        let err = inspect_file(&path).unwrap().description().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::UnsupportedVersion, "{err}");
        std::fs::remove_file(&path).unwrap();
    }
}
