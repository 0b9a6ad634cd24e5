//! System V shared memory: `shmget`, `shmat`, `shmdt`, `shmctl(IPC_RMID)`.
//!
//! A System V segment is named by a numeric [`SysvKey`], lives until it is
//! removed (`ipcrm`, [`Segment::remove`](super::Segment::remove)) or the
//! machine reboots, and `ipcs -m` lists it. It cannot grow, and its
//! permission bits are exactly the mode given at creation (no umask).

use super::object::path_c;
use crate::error::{Error, ErrorKind, Result};
use std::fmt;
use std::path::Path;

/// The key that names a System V segment: explicit, or made from a path and
/// a project id by `ftok`.
///
/// ```
/// use shm_runtime::segment::SysvKey;
///
/// let explicit = SysvKey::new(0x5e11_0001);
/// assert_eq!(explicit.get(), 0x5e11_0001);
/// let derived = SysvKey::from_path("/tmp", b'A')?;
/// assert_eq!(derived, SysvKey::from_path("/tmp", b'A')?);
/// # Ok::<(), shm_runtime::Error>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct SysvKey(libc::key_t);

impl SysvKey {
    /// A key given explicitly. Key 0 is `IPC_PRIVATE`, which names no
    /// segment: operations on it fail with
    /// [`InvalidName`](ErrorKind::InvalidName).
    ///
    /// ```
    /// use shm_runtime::segment::SysvKey;
    /// assert_eq!(SysvKey::new(1234).to_string(), "0x000004d2");
    /// ```
    pub const fn new(key: i32) -> SysvKey {
        SysvKey(key as libc::key_t)
    }

    /// The key `ftok(path, id)`: the same for every program that passes the
    /// same existing path and id (from the path's inode number and device).
    /// `id` must not be 0.
    ///
    /// ```
    /// use shm_runtime::{segment::SysvKey, ErrorKind};
    /// let key = SysvKey::from_path("/", b'x')?;
    /// assert_ne!(key.get(), 0);
    /// let missing = SysvKey::from_path("/no/such/path", b'x').unwrap_err();
    /// assert_eq!(missing.kind(), ErrorKind::NotFound);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn from_path(path: impl AsRef<Path>, id: u8) -> Result<SysvKey> {
        let path = path.as_ref();
        let what = format!("System V key for `{}`", path.display());
        if id == 0 {
            return Err(Error::new(
                ErrorKind::InvalidName,
                format!("{what}: the project id must not be 0"),
            ));
        }
        let c_path = path_c(path, &what)?;
        // SAFETY: `c_path` is a valid NUL-terminated string.
        let key = unsafe { libc::ftok(c_path.as_ptr(), libc::c_int::from(id)) };
        if key == -1 {
            return Err(Error::last_os(format!("making the {what} (ftok)")));
        }
        Ok(SysvKey(key))
    }

    /// The numeric key.
    ///
    /// ```
    /// assert_eq!(shm_runtime::segment::SysvKey::new(-5).get(), -5);
    /// ```
    pub const fn get(self) -> i32 {
        #[allow(clippy::unnecessary_cast)] // key_t is i32 on Linux
        let key = self.0 as i32;
        key
    }
}

impl fmt::Debug for SysvKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SysvKey({:#010x})", self.0)
    }
}

impl fmt::Display for SysvKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:#010x}", self.0)
    }
}

fn check_key(key: SysvKey, what: &(impl std::fmt::Display + ?Sized)) -> Result<()> {
    if key.0 == libc::IPC_PRIVATE {
        return Err(Error::new(
            ErrorKind::InvalidName,
            format!("{what}: key 0 is IPC_PRIVATE, which names no segment; use another key"),
        ));
    }
    Ok(())
}

/// Creates a segment of `size` bytes exclusively (`IPC_EXCL`) with `mode`.
/// The kernel zero-fills it and accounts its memory now.
pub(crate) fn create(
    key: SysvKey,
    size: usize,
    mode: u32,
    what: &(impl std::fmt::Display + ?Sized),
) -> Result<libc::c_int> {
    check_key(key, what)?;
    let flags = libc::IPC_CREAT | libc::IPC_EXCL | (mode & 0o777) as libc::c_int;
    // SAFETY: `shmget` takes plain integers.
    let id = unsafe { libc::shmget(key.0, size.max(1), flags) };
    if id < 0 {
        let err = std::io::Error::last_os_error();
        let doing = match err.raw_os_error() {
            Some(libc::EEXIST) => {
                format!("creating {what}: it exists already (open it, or remove it first)")
            }
            Some(libc::EINVAL) => format!(
                "creating {what} of {size} bytes: larger than SHMMAX \
                 (/proc/sys/kernel/shmmax), or a segment of this key exists with another size"
            ),
            Some(libc::ENOSPC) => format!(
                "creating {what} of {size} bytes: the system's segment limits are reached \
                 (/proc/sys/kernel/shmall, shmmni)"
            ),
            _ => format!("creating {what}"),
        };
        return Err(Error::os(doing, err));
    }
    Ok(id)
}

/// The id of the existing segment of `key`.
pub(crate) fn open(key: SysvKey, what: &(impl std::fmt::Display + ?Sized)) -> Result<libc::c_int> {
    check_key(key, what)?;
    // SAFETY: `shmget` takes plain integers.
    let id = unsafe { libc::shmget(key.0, 0, 0) };
    if id < 0 {
        let err = std::io::Error::last_os_error();
        let doing = match err.raw_os_error() {
            Some(libc::ENOENT) => {
                format!("opening {what}: no such segment (create it first, or check the key)")
            }
            _ => format!("opening {what}"),
        };
        return Err(Error::os(doing, err));
    }
    Ok(id)
}

// `IPC_STAT`, which the generic object needs too, lives in `object`, below
// the backends; these names stay for the callers here.
pub(crate) use super::object::{sysv_stat as stat, sysv_stat_ds as stat_ds};

/// Marks segment `id` for removal (`IPC_RMID`): its key is free at once, and
/// its memory is freed when the last process detaches.
pub(crate) fn remove_id(id: libc::c_int, what: &(impl std::fmt::Display + ?Sized)) -> Result<()> {
    // SAFETY: `IPC_RMID` takes no buffer.
    if unsafe { libc::shmctl(id, libc::IPC_RMID, std::ptr::null_mut()) } != 0 {
        let err = std::io::Error::last_os_error();
        if matches!(err.raw_os_error(), Some(libc::EINVAL | libc::EIDRM)) {
            return Ok(()); // Removed already.
        }
        return Err(Error::os(format!("removing {what}"), err));
    }
    Ok(())
}
