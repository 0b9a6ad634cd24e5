//! Atomic publication of POSIX objects and files (Linux).
//!
//! A segment is created without a name (`open(dir, O_TMPFILE)` in
//! `/dev/shm` or in the file's directory), sized, reserved, initialized and
//! marked ready, and only then linked under its name with
//! `linkat(fd, "", name, AT_EMPTY_PATH)` (or, where the kernel refuses that,
//! `linkat("/proc/self/fd/N", name)`), which fails if the name exists. So no
//! opener ever sees a half-made segment under its name, and a creator that
//! dies at any instant leaves nothing behind: the unnamed inode is freed
//! with its last descriptor and mapping.
//!
//! This bypasses `shm_open`: it relies on glibc keeping POSIX shared memory
//! objects as files of the tmpfs mounted at `/dev/shm`, which every glibc
//! and musl on Linux does. Where that cannot be checked (`/dev/shm` is not a
//! tmpfs), or where `O_TMPFILE` is refused (a file system without it) or
//! `/proc/self/fd` is missing, and on other platforms and for System V,
//! creation takes the name first and relies on the header's init states
//! (see the [segment documentation](super#creation)).

#[cfg(target_os = "linux")]
use super::object::set_mode;
use super::object::{c_string, Stat};
use crate::error::{Error, ErrorKind, Result};
use std::ffi::CString;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

/// Where an unnamed object is to be linked once ready.
#[derive(Debug)]
pub(crate) struct Link {
    /// The name's full path.
    path: CString,
    /// The directory to `fsync` after linking, for files that must survive
    /// a crash of the machine; `None` for `/dev/shm`.
    durable_dir: Option<CString>,
}

/// Creates an unnamed object in `dir` with exactly `mode`, to be linked at
/// `path`; `None` when this platform or file system cannot (the caller then
/// creates the name first).
#[cfg(target_os = "linux")]
pub(crate) fn create_unnamed(
    dir: &[u8],
    path: std::borrow::Cow<'_, [u8]>,
    mode: u32,
    durable: bool,
    what: &(impl std::fmt::Display + ?Sized),
) -> Result<Option<(OwnedFd, Stat, Link)>> {
    if !proc_fd_available() {
        return Ok(None);
    }
    let dir_c = c_string(dir, what)?;
    // SAFETY: `dir_c` is a valid NUL-terminated string; the call returns a
    // new descriptor that we then own.
    let fd = unsafe {
        libc::open(
            dir_c.as_ptr(),
            libc::O_TMPFILE | libc::O_RDWR | libc::O_CLOEXEC,
            mode as libc::c_uint,
        )
    };
    if fd < 0 {
        let err = std::io::Error::last_os_error();
        return match err.raw_os_error() {
            // No O_TMPFILE on this file system (or kernel).
            Some(libc::EOPNOTSUPP | libc::EISDIR | libc::EINVAL) => Ok(None),
            Some(libc::ENOENT) => Err(Error::os(
                format!("creating {what}: its directory does not exist"),
                err,
            )
            .explained()),
            _ => Err(Error::os(format!("creating {what}"), err)),
        };
    }
    // SAFETY: `fd` is a fresh descriptor owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    let stat = set_mode(&fd, mode, what)?;
    let link = Link {
        // Owned already for a POSIX name (with room for the NUL).
        path: c_string(path.into_owned(), what)?,
        durable_dir: durable.then_some(dir_c),
    };
    Ok(Some((fd, stat, link)))
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn create_unnamed(
    _dir: &[u8],
    _path: std::borrow::Cow<'_, [u8]>,
    _mode: u32,
    _durable: bool,
    _what: &(impl std::fmt::Display + ?Sized),
) -> Result<Option<(OwnedFd, Stat, Link)>> {
    Ok(None)
}

/// Whether `/dev/shm` is the tmpfs where the C library keeps POSIX shared
/// memory objects (checked once).
#[cfg(target_os = "linux")]
pub(crate) fn dev_shm_is_tmpfs() -> bool {
    use std::sync::atomic::{AtomicU8, Ordering};
    static KNOWN: AtomicU8 = AtomicU8::new(0); // 0 unknown, 1 no, 2 yes
    match KNOWN.load(Ordering::Relaxed) {
        1 => false,
        2 => true,
        _ => {
            const TMPFS_MAGIC: i64 = 0x0102_1994;
            let mut st = std::mem::MaybeUninit::<libc::statfs>::uninit();
            // SAFETY: a valid NUL-terminated path and out-pointer.
            let ok = unsafe { libc::statfs(c"/dev/shm".as_ptr(), st.as_mut_ptr()) } == 0;
            #[allow(clippy::unnecessary_cast)] // f_type's width varies by target
            let tmpfs = ok && {
                // SAFETY: `statfs` succeeded, so it filled `st`.
                let st = unsafe { st.assume_init() };
                st.f_type as i64 == TMPFS_MAGIC
            };
            KNOWN.store(if tmpfs { 2 } else { 1 }, Ordering::Relaxed);
            tmpfs
        }
    }
}

#[cfg(not(target_os = "linux"))]
pub(crate) fn dev_shm_is_tmpfs() -> bool {
    false
}

/// Whether `/proc/self/fd` can name a descriptor for `linkat` (checked once).
#[cfg(target_os = "linux")]
fn proc_fd_available() -> bool {
    use std::sync::atomic::{AtomicU8, Ordering};
    static KNOWN: AtomicU8 = AtomicU8::new(0);
    match KNOWN.load(Ordering::Relaxed) {
        1 => false,
        2 => true,
        _ => {
            let available = std::path::Path::new("/proc/self/fd").is_dir();
            KNOWN.store(if available { 2 } else { 1 }, Ordering::Relaxed);
            available
        }
    }
}

/// The name prefix of creation locks (see [`CreationLock`]).
pub(crate) const LOCK_PREFIX: &str = ".shmrt-create-";

/// Serializes the processes that `open_or_create` the same segment, so that
/// exactly one of them runs `init` while nobody sees a half-made segment:
/// an exclusive `flock` on a lock file next to the name
/// (`.shmrt-create-<hash of the name>`), which the kernel releases when its
/// holder dies at any instant. The holder removes the file before it
/// unlocks; a waiter that then takes the lock on the removed file notices
/// (its descriptor's inode is no longer the path's) and tries again. A
/// holder that dies leaves the empty file behind, which the next creator of
/// the same name reuses and removes, and `shm-tool clean` removes.
#[derive(Debug)]
pub(crate) struct CreationLock {
    /// Holds the lock until dropped (after `drop` removed the file).
    _locked: OwnedFd,
    path: CString,
}

impl CreationLock {
    /// The lock for the name at `path` in `dir`, waiting until `deadline`.
    pub(crate) fn acquire(
        dir: &[u8],
        path: &[u8],
        deadline: std::time::Instant,
        what: &(impl std::fmt::Display + ?Sized),
    ) -> Result<CreationLock> {
        let lock_path = lock_path(dir, path);
        let lock_c = c_string(lock_path, what)?;
        let mut pause = std::time::Duration::from_micros(50);
        loop {
            // SAFETY: a valid path; the call returns a descriptor we own.
            let fd = unsafe {
                libc::open(
                    lock_c.as_ptr(),
                    libc::O_RDWR | libc::O_CREAT | libc::O_CLOEXEC | libc::O_NOFOLLOW,
                    0o600 as libc::c_uint,
                )
            };
            if fd < 0 {
                return Err(Error::last_os(format!(
                    "creating the creation lock of {what}"
                )));
            }
            // SAFETY: a fresh descriptor owned by nobody else.
            let fd = unsafe { OwnedFd::from_raw_fd(fd) };
            // SAFETY: `fd` is open.
            if unsafe { libc::flock(fd.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
                if same_file(&fd, &lock_c) {
                    return Ok(CreationLock {
                        _locked: fd,
                        path: lock_c,
                    });
                }
                // Removed by the previous holder after we opened it: again.
                continue;
            }
            let err = std::io::Error::last_os_error();
            if err.raw_os_error() != Some(libc::EWOULDBLOCK) {
                return Err(Error::os(format!("locking the creation of {what}"), err));
            }
            if std::time::Instant::now() >= deadline {
                return Err(Error::new(
                    ErrorKind::TimedOut,
                    format!(
                        "opening or creating {what}: another process was creating it for the \
                         whole wait (wait longer with `Segment::open_timeout`)"
                    ),
                ));
            }
            std::thread::sleep(pause);
            pause = (pause * 2).min(std::time::Duration::from_millis(10));
        }
    }
}

impl Drop for CreationLock {
    fn drop(&mut self) {
        // Removed while still locked, so that no waiter locks a file that
        // nobody will ever unlock again; closing the descriptor unlocks.
        // SAFETY: a valid path; this process holds the lock on that file.
        unsafe { libc::unlink(self.path.as_ptr()) };
    }
}

/// `dir/.shmrt-create-<hash of path>`.
fn lock_path(dir: &[u8], path: &[u8]) -> Vec<u8> {
    // FNV-1a: stable and short; a collision only serializes two names.
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for byte in path {
        hash = (hash ^ u64::from(*byte)).wrapping_mul(0x0000_0100_0000_01b3);
    }
    let mut lock = dir.to_vec();
    if !lock.ends_with(b"/") {
        lock.push(b'/');
    }
    lock.extend_from_slice(format!("{LOCK_PREFIX}{hash:016x}").as_bytes());
    lock
}

/// Whether the open `fd` is the file now at `path`.
fn same_file(fd: &OwnedFd, path: &CString) -> bool {
    let mut a = std::mem::MaybeUninit::<libc::stat>::uninit();
    let mut b = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `fd` is open and `path` valid; valid out-pointers.
    let ok = unsafe {
        libc::fstat(fd.as_raw_fd(), a.as_mut_ptr()) == 0
            && libc::lstat(path.as_ptr(), b.as_mut_ptr()) == 0
    };
    if !ok {
        return false;
    }
    // SAFETY: both calls succeeded, so both are filled.
    let (a, b) = unsafe { (a.assume_init(), b.assume_init()) };
    a.st_dev == b.st_dev && a.st_ino == b.st_ino
}

impl Link {
    /// Gives the ready object `fd` its name: exclusively (an existing name
    /// is [`AlreadyExists`](ErrorKind::AlreadyExists), and the object stays
    /// unnamed, so the caller may try again), and durably for files (the
    /// data before, the directory entry after).
    pub(crate) fn publish(
        &self,
        fd: &OwnedFd,
        what: &(impl std::fmt::Display + ?Sized),
    ) -> Result<()> {
        if self.durable_dir.is_some() {
            // SAFETY: `fd` is open.
            if unsafe { libc::fsync(fd.as_raw_fd()) } != 0 {
                return Err(Error::last_os(format!("writing {what} to disk")));
            }
        }
        let rc = link_fd(fd, &self.path);
        if let Err(err) = rc {
            return Err(match err.raw_os_error() {
                Some(libc::EEXIST) => Error::os_with_kind(
                    ErrorKind::AlreadyExists,
                    format!("creating {what}: it exists already (open it, or remove it first)"),
                    err,
                )
                .explained(),
                _ => Error::os(format!("publishing {what} under its name"), err),
            });
        }
        if let Some(dir) = &self.durable_dir {
            sync_dir(dir, what)?;
        }
        Ok(())
    }

    /// Whether the name exists now: a cheap early refusal, before the
    /// object is sized and initialized, and what decides whether a stale
    /// segment is to be replaced; `publish` is what decides in a race.
    pub(crate) fn name_exists(&self) -> bool {
        let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
        // SAFETY: a valid path and out-pointer; `lstat` follows no link.
        unsafe { libc::lstat(self.path.as_ptr(), st.as_mut_ptr()) == 0 }
    }
}

/// Links the unnamed object `fd` at `path`, exclusively (an existing name
/// is `EEXIST`). First by the descriptor itself, `linkat(fd, "", ..,
/// AT_EMPTY_PATH)`: one path walk fewer than naming it by `/proc/self/fd`,
/// allowed since Linux 6.10 for a file the caller opened (and before for a
/// caller with `CAP_DAC_READ_SEARCH`). Where the kernel refuses it
/// (`ENOENT` without that right, `EINVAL` on a kernel without the flag for
/// `linkat`, `EPERM` or `ENOSYS` from a security policy), by the
/// `/proc/self/fd` path, which reports whatever fails for both (a missing
/// directory, a full directory, `EEXIST`) as before; once that path worked
/// where the first did not, later links go straight to it.
fn link_fd(fd: &OwnedFd, path: &CString) -> std::io::Result<()> {
    #[cfg(target_os = "linux")]
    if !BY_PROC_FD.load(std::sync::atomic::Ordering::Relaxed)
        && !EMPTY_PATH_REFUSED.load(std::sync::atomic::Ordering::Relaxed)
    {
        // SAFETY: `fd` is open; both paths are valid NUL-terminated
        // strings; `linkat` creates a directory entry for the open file, and
        // never follows a symbolic link at the new name (an existing one is
        // `EEXIST`).
        let rc = unsafe {
            libc::linkat(
                fd.as_raw_fd(),
                c"".as_ptr(),
                libc::AT_FDCWD,
                path.as_ptr(),
                libc::AT_EMPTY_PATH,
            )
        };
        if rc == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if !matches!(
            err.raw_os_error(),
            Some(libc::ENOENT | libc::EINVAL | libc::EPERM | libc::ENOSYS)
        ) {
            return Err(err);
        }
        link_by_proc_path(fd, path)?;
        EMPTY_PATH_REFUSED.store(true, std::sync::atomic::Ordering::Relaxed);
        return Ok(());
    }
    link_by_proc_path(fd, path)
}

/// `linkat("/proc/self/fd/N", path, AT_SYMLINK_FOLLOW)`.
fn link_by_proc_path(fd: &OwnedFd, path: &CString) -> std::io::Result<()> {
    // "/proc/self/fd/" and at most 10 digits of a non-negative `c_int`,
    // then a NUL: no allocation.
    let mut source = *b"/proc/self/fd/\0\0\0\0\0\0\0\0\0\0\0";
    let prefix = b"/proc/self/fd/".len();
    let mut digits = [0u8; 10];
    let mut n = fd.as_raw_fd().unsigned_abs();
    let mut count = 0;
    loop {
        digits[count] = b'0' + (n % 10) as u8;
        count += 1;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for (i, digit) in digits[..count].iter().rev().enumerate() {
        source[prefix + i] = *digit;
    }
    // SAFETY: `source` is NUL-terminated (its last byte, and every byte
    // after the digits, is 0) and `path` is a valid C string; `linkat`
    // creates a directory entry, and never follows a symbolic link at the
    // new name (an existing one is `EEXIST`).
    let rc = unsafe {
        libc::linkat(
            libc::AT_FDCWD,
            source.as_ptr().cast(),
            libc::AT_FDCWD,
            path.as_ptr(),
            libc::AT_SYMLINK_FOLLOW,
        )
    };
    if rc != 0 {
        return Err(std::io::Error::last_os_error());
    }
    Ok(())
}

/// Set once a link by `AT_EMPTY_PATH` was refused and the `/proc/self/fd`
/// path then worked: this kernel (or policy) refuses the first, so later
/// links skip it.
#[cfg(target_os = "linux")]
static EMPTY_PATH_REFUSED: std::sync::atomic::AtomicBool =
    std::sync::atomic::AtomicBool::new(false);

/// See [`crate::__private::link_by_proc_fd`].
static BY_PROC_FD: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// See [`crate::__private::link_by_proc_fd`].
#[doc(hidden)]
pub fn link_by_proc_fd(on: bool) {
    BY_PROC_FD.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// `fsync` of a directory, so that a new entry in it survives a crash.
fn sync_dir(dir: &CString, what: &(impl std::fmt::Display + ?Sized)) -> Result<()> {
    // SAFETY: a valid path; the descriptor is closed below.
    let fd = unsafe {
        libc::open(
            dir.as_ptr(),
            libc::O_RDONLY | libc::O_DIRECTORY | libc::O_CLOEXEC,
        )
    };
    if fd < 0 {
        return Err(Error::last_os(format!("opening the directory of {what}")));
    }
    // SAFETY: a fresh descriptor owned by nobody else.
    let fd = unsafe { OwnedFd::from_raw_fd(fd) };
    // SAFETY: `fd` is open.
    if unsafe { libc::fsync(fd.as_raw_fd()) } != 0 {
        return Err(Error::last_os(format!(
            "writing the directory entry of {what} to disk"
        )));
    }
    Ok(())
}
