//! Listing the segments of the machine: every POSIX shared memory object
//! and every System V segment, inspected (see [`inspect`](super::inspect)).

use super::inspect::{self, SegmentInfo};
use crate::error::{Error, ErrorKind, Result};
use std::ffi::OsString;

/// Every POSIX shared memory object and System V segment of the machine,
/// each inspected as [`inspect::inspect_posix`] and
/// [`inspect::inspect_sysv_id`] do: segments of this library, and the
/// objects of other programs ([`SegmentInfo::is_foreign`]), POSIX objects
/// first (sorted by name), then System V segments (sorted by id).
///
/// The names are read when `list` is called; each object is inspected when
/// the iterator reaches it, and one that was removed in between is skipped.
/// An object that cannot be inspected yields its error and the iteration
/// goes on; so does a source that cannot be read (`/dev/shm` or
/// `/proc/sysvipc/shm`). A machine without System V IPC has no System V
/// segments. Names that are not UTF-8 are listed like the others
/// ([`Location::Posix`](inspect::Location::Posix) holds an `OsString`).
///
/// Inspection only reads: see [Never harmful](super::inspect#never-harmful).
///
/// # Platform
///
/// Linux: POSIX objects are the files of `/dev/shm`, System V segments the
/// rows of `/proc/sysvipc/shm`. Other systems offer no portable way to
/// enumerate POSIX objects (macOS none at all): `list` fails there with
/// [`Unsupported`](ErrorKind::Unsupported), and segments are inspected by
/// name, key or path.
///
/// ```
/// use shm_runtime::segment::{self, Segment};
///
/// let name = format!("/shm-runtime-doc-list-{}", std::process::id());
/// let _jobs = Segment::posix(&name).remove_on_drop(true).create([0u64; 4])?;
/// let mut mine = Vec::new();
/// for info in segment::list()? {
///     // An object that could not be read is reported, not fatal.
///     let Ok(info) = info else { continue };
///     if !info.is_foreign() && info.location.to_string() == name {
///         mine.push(info);
///     }
/// }
/// assert_eq!(mine.len(), 1);
/// let payload = mine[0].header().unwrap().payload.as_ref().unwrap();
/// assert_eq!(payload.type_name, "[u64; 4]");
/// # Ok::<(), shm_runtime::Error>(())
/// ```
pub fn list() -> Result<Listing> {
    #[cfg(target_os = "linux")]
    {
        let mut errors = Vec::new();
        let posix = match posix_names() {
            Ok(names) => names,
            Err(e) => {
                errors.push(e);
                Vec::new()
            }
        };
        let sysv = match sysv_ids() {
            Ok(ids) => ids,
            Err(e) => {
                errors.push(e);
                Vec::new()
            }
        };
        Ok(Listing {
            errors: errors.into_iter(),
            posix: posix.into_iter(),
            sysv: sysv.into_iter(),
        })
    }
    #[cfg(not(target_os = "linux"))]
    {
        Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "listing shared memory segments: {} offers no way to enumerate POSIX shared \
                 memory objects; inspect them by name instead",
                std::env::consts::OS
            ),
        ))
    }
}

/// The iterator [`list`] returns: one [`SegmentInfo`] per object, or the
/// error that prevented reading one (or a whole source).
///
/// ```
/// # fn main() -> shm_runtime::Result<()> {
/// let listing: shm_runtime::segment::Listing = shm_runtime::segment::list()?;
/// let readable = listing.filter_map(Result::ok).count();
/// # let _ = readable;
/// # Ok(())
/// # }
/// ```
#[derive(Debug)]
pub struct Listing {
    /// Sources that could not be read, reported first.
    errors: std::vec::IntoIter<Error>,
    /// POSIX names (`/name`) still to inspect.
    posix: std::vec::IntoIter<OsString>,
    /// System V ids still to inspect.
    sysv: std::vec::IntoIter<i32>,
}

impl Iterator for Listing {
    type Item = Result<SegmentInfo>;

    fn next(&mut self) -> Option<Result<SegmentInfo>> {
        if let Some(e) = self.errors.next() {
            return Some(Err(e));
        }
        loop {
            let found = if let Some(name) = self.posix.next() {
                inspect::inspect_posix(&name)
            } else {
                inspect::inspect_sysv_id(self.sysv.next()?)
            };
            match found {
                // Removed since its name was read.
                Err(e) if e.kind() == ErrorKind::NotFound => continue,
                other => return Some(other),
            }
        }
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let most = self.errors.len() + self.posix.len() + self.sysv.len();
        (self.errors.len(), Some(most))
    }
}

/// The names (`/name`) of the files in `/dev/shm`, sorted.
#[cfg(target_os = "linux")]
fn posix_names() -> Result<Vec<OsString>> {
    let what = "listing POSIX shared memory objects (reading /dev/shm)";
    let dir = std::fs::read_dir("/dev/shm").map_err(|e| Error::os(what, e))?;
    let mut names = Vec::new();
    for entry in dir {
        let entry = entry.map_err(|e| Error::os(what, e))?;
        let mut name = OsString::from("/");
        name.push(entry.file_name());
        names.push(name);
    }
    names.sort();
    Ok(names)
}

/// The ids of every System V segment (`/proc/sysvipc/shm` lists them all,
/// including those this user may not read), sorted.
#[cfg(target_os = "linux")]
fn sysv_ids() -> Result<Vec<i32>> {
    let table = match std::fs::read_to_string("/proc/sysvipc/shm") {
        Ok(table) => table,
        // A kernel built without System V IPC.
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(Error::os(
                "listing System V segments (reading /proc/sysvipc/shm)",
                e,
            ))
        }
    };
    // The header line, then: key shmid perms size ...
    let mut ids: Vec<i32> = table
        .lines()
        .skip(1)
        .filter_map(|line| line.split_whitespace().nth(1)?.parse().ok())
        .collect();
    ids.sort_unstable();
    Ok(ids)
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;
    use crate::segment::inspect::{Contents, Foreign, Location};
    use crate::segment::{Segment, SysvKey};
    use std::ffi::OsStr;
    use std::os::unix::ffi::OsStrExt;

    fn find<'a>(all: &'a [SegmentInfo], location: &Location) -> Option<&'a SegmentInfo> {
        all.iter().find(|i| &i.location == location)
    }

    /// A POSIX segment and a System V segment of this library are both
    /// listed with their headers, and a removed one is no longer listed.
    #[test]
    #[cfg_attr(miri, ignore = "creates POSIX and System V segments")]
    fn lists_posix_and_sysv_segments_of_this_library() {
        let pid = std::process::id();
        let name = format!("/shm-runtime-test-list-{pid}");
        let key = SysvKey::new(0x5e20_0000 | ((pid as i32 & 0xfff) << 4) | 1);
        let posix = Segment::posix(&name)
            .remove_on_drop(true)
            .create(7u32)
            .unwrap();
        let sysv = Segment::sysv(key)
            .remove_on_drop(true)
            .create([1u16; 3])
            .unwrap();
        let all: Vec<SegmentInfo> = list().unwrap().filter_map(Result::ok).collect();
        let p = find(&all, &Location::Posix(name.clone().into())).expect("POSIX listed");
        assert_eq!(
            p.header().unwrap().payload.as_ref().unwrap().type_name,
            "u32"
        );
        let s = all
            .iter()
            .find(|i| matches!(i.location, Location::SysV { key: k, .. } if k == key))
            .expect("System V listed");
        assert_eq!(
            s.header().unwrap().payload.as_ref().unwrap().type_name,
            "[u16; 3]"
        );
        drop((posix, sysv));
        let all: Vec<SegmentInfo> = list().unwrap().filter_map(Result::ok).collect();
        assert!(find(&all, &Location::Posix(name.into())).is_none());
    }

    /// An object whose name is not UTF-8 is listed, under its exact bytes,
    /// and `unlink` removes it.
    #[test]
    #[cfg_attr(miri, ignore = "creates a POSIX object")]
    fn lists_and_unlinks_a_name_that_is_not_utf8() {
        let mut bytes = format!("/shm-runtime-test-list-raw-{}-", std::process::id()).into_bytes();
        bytes.extend_from_slice(b"\xff\xfe");
        let name = OsStr::from_bytes(&bytes);
        let c_name = std::ffi::CString::new(bytes.clone()).unwrap();
        // SAFETY: `c_name` is a valid C string; the descriptor is closed at
        // once.
        let fd = unsafe {
            libc::shm_open(
                c_name.as_ptr(),
                libc::O_RDWR | libc::O_CREAT | libc::O_EXCL,
                0o600,
            )
        };
        assert!(fd >= 0, "{}", std::io::Error::last_os_error());
        // SAFETY: `fd` is the descriptor just opened, closed once.
        unsafe { libc::close(fd) };
        struct Unlink(std::ffi::CString);
        impl Drop for Unlink {
            fn drop(&mut self) {
                // SAFETY: a valid C string; the name may be gone already.
                unsafe { libc::shm_unlink(self.0.as_ptr()) };
            }
        }
        let _guard = Unlink(c_name);

        let all: Vec<SegmentInfo> = list().unwrap().filter_map(Result::ok).collect();
        let info = find(&all, &Location::Posix(name.into())).expect("listed");
        assert!(matches!(info.contents, Contents::Foreign(Foreign::Empty)));
        assert!(info.location.to_string().ends_with("-\\xff\\xfe"));
        crate::segment::unlink(name).unwrap();
        let err = inspect::inspect_posix(name).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::NotFound);
    }
}
