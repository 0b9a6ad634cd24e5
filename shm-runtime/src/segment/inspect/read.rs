//! Reading an object without ever mapping it: its metadata and first bytes
//! through `pread` or a read-only System V attachment, decoded into a
//! [`SegmentInfo`]; the `inspect_*` entry points.

use super::info::{
    Contents, CreatorStatus, Foreign, HeaderInfo, Location, PayloadInfo, SegmentInfo, State,
};
use crate::error::{Error, ErrorKind, Result};
use crate::map::Mapping;
use crate::segment::file;
use crate::segment::header::{self, Creator, Poll, HEADER_SIZE};
use crate::segment::object::Identity;
use crate::segment::reader::Reader;
use crate::segment::sysv::{self, SysvKey};
use crate::{Fingerprint, MapOptions};
use std::ffi::OsStr;
use std::fs::Metadata;
use std::os::fd::AsFd;
#[cfg(target_os = "linux")]
use std::os::unix::ffi::OsStrExt;
use std::os::unix::fs::MetadataExt;
use std::path::Path;
use std::time::{Duration, SystemTime};

/// What [`open`] found besides contents.
pub(super) struct Found {
    pub(super) object_size: u64,
    pub(super) mode: u32,
    pub(super) owner_uid: u32,
    pub(super) modified: Option<SystemTime>,
    pub(super) changed: Option<SystemTime>,
    pub(super) attached: Option<u64>,
    pub(super) removed: bool,
    pub(super) identity: Option<Identity>,
    /// Why there is no reader, when there is none.
    pub(super) unreadable: Option<Contents>,
    /// Named as a creation lock.
    pub(super) creation_lock: bool,
}

/// Reads an object without ever raising `SIGBUS`: owns what
/// [`crate::segment::reader::Reader`] borrows.
pub(super) enum Source {
    /// A POSIX object or file: `pread`.
    File(std::fs::File),
    /// A System V segment attached read-only, of its full size.
    SysV(Mapping),
}

impl Source {
    pub(super) fn reader(&self) -> Reader<'_> {
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
pub(super) fn open(location: &Location) -> Result<(Option<Source>, Found)> {
    match location {
        Location::Posix(name) => {
            let c_name = crate::segment::posix::validate_os_name(name)?;
            let what = format!("segment `{}`", crate::segment::posix::escape_name(name));
            #[cfg(target_os = "linux")]
            {
                let _ = c_name;
                let file_name = OsStr::from_bytes(&name.as_bytes()[1..]);
                open_path(&Path::new("/dev/shm").join(file_name), &what)
            }
            #[cfg(not(target_os = "linux"))]
            {
                let fd = crate::segment::posix::open(&c_name, false, &what)?;
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
        .is_some_and(|n| n.starts_with(crate::segment::publish::LOCK_PREFIX));
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
            type_name: snap.type_name().into_owned(),
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
