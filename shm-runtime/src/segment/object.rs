//! What every backend opens: a file descriptor (POSIX shared memory, files)
//! or a System V segment id, with its size and owner.

use crate::error::{Error, ErrorKind, Result};
use crate::map::Mapping;
use crate::MapOptions;
use std::os::fd::{AsFd, AsRawFd, OwnedFd};
use std::sync::Arc;

/// An opened segment object, not yet mapped.
#[derive(Debug)]
pub(crate) enum Object {
    /// A POSIX shared memory object or a file. Shared with the mappings
    /// made of it, whose SIGBUS registration keeps it open.
    Fd(Arc<OwnedFd>),
    /// A System V segment id.
    SysV(libc::c_int),
}

/// Which object a name referred to, to remove a name only while it still
/// refers to the object this process made or opened.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Identity {
    /// Device and inode of a POSIX object or file.
    Inode(u64, u64),
    /// A System V segment id.
    ShmId(libc::c_int),
}

/// Size and owner of an object.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Stat {
    pub(crate) size: usize,
    pub(crate) uid: u32,
    pub(crate) identity: Identity,
    pub(crate) regular: bool,
    /// Still has a name (not unlinked or marked for removal).
    pub(crate) linked: bool,
}

/// `fstat(fd)`.
pub(crate) fn fstat(fd: &OwnedFd, what: &(impl std::fmt::Display + ?Sized)) -> Result<Stat> {
    fstat_mode(fd, what).map(|(stat, _)| stat)
}

/// `fstat(fd)`, and the object's permission bits.
fn fstat_mode(fd: &OwnedFd, what: &(impl std::fmt::Display + ?Sized)) -> Result<(Stat, u32)> {
    let mut st = std::mem::MaybeUninit::<libc::stat>::uninit();
    // SAFETY: `fd` is open; `st` is a valid out-pointer for one `stat`.
    if unsafe { libc::fstat(fd.as_raw_fd(), st.as_mut_ptr()) } != 0 {
        return Err(Error::last_os(format!(
            "reading the size and owner of {what}"
        )));
    }
    // SAFETY: `fstat` succeeded, so it filled `st`.
    let st = unsafe { st.assume_init() };
    let stat = Stat {
        size: usize::try_from(st.st_size).unwrap_or(usize::MAX),
        uid: st.st_uid,
        #[allow(clippy::unnecessary_cast)] // dev_t/ino_t widths vary by target
        identity: Identity::Inode(st.st_dev as u64, st.st_ino as u64),
        regular: (st.st_mode & libc::S_IFMT) == libc::S_IFREG,
        linked: st.st_nlink > 0,
    };
    #[allow(clippy::unnecessary_cast)] // mode_t is 16 bits on some targets
    Ok((stat, st.st_mode as u32 & 0o7777))
}

/// Sets the permission bits of a new object exactly, whatever the umask,
/// and returns its `fstat`: the `fchmod` is only made when the umask took
/// bits away (with the default mode 0600 and a usual umask, it did not).
pub(crate) fn set_mode(
    fd: &OwnedFd,
    mode: u32,
    what: &(impl std::fmt::Display + ?Sized),
) -> Result<Stat> {
    let (stat, bits) = fstat_mode(fd, what)?;
    if bits != mode & 0o7777 {
        // SAFETY: `fd` is open; `fchmod` changes only its permission bits.
        if unsafe { libc::fchmod(fd.as_raw_fd(), mode as libc::mode_t) } != 0 {
            return Err(Error::last_os(format!("setting mode {mode:o} on {what}")));
        }
    }
    Ok(stat)
}

/// Sizes `fd` to `len` bytes and, with `reserve`, reserves the memory or
/// disk blocks, so that a full `/dev/shm` or disk is an error now rather
/// than a `SIGBUS` later. Called once per object, at its creation: macOS
/// sizes a POSIX shared memory object only once (a second `ftruncate` fails
/// with `EINVAL`), so nothing here resizes an object afterwards.
pub(crate) fn size_and_reserve(
    fd: &OwnedFd,
    len: usize,
    reserve: bool,
    what: &(impl std::fmt::Display + ?Sized),
) -> Result<()> {
    let len_off = libc::off_t::try_from(len).map_err(|_| {
        Error::new(
            ErrorKind::InvalidSize,
            format!("sizing {what}: {len} bytes is too large"),
        )
    })?;
    // Linux: one `fallocate` both reserves and sizes a new object (it
    // extends the size to the end of the range); the `ftruncate` below is
    // for file systems without it.
    #[cfg(target_os = "linux")]
    if reserve {
        // SAFETY: `fd` is open for writing; mode 0 allocates blocks for the
        // range and grows the size to its end, nothing else.
        if unsafe { libc::fallocate(fd.as_raw_fd(), 0, 0, len_off) } == 0 {
            return Ok(());
        }
        let err = std::io::Error::last_os_error();
        if !matches!(
            err.raw_os_error(),
            Some(libc::EOPNOTSUPP | libc::ENOSYS | libc::EINVAL)
        ) {
            return Err(reserve_failed(len, what, err));
        }
    }
    // SAFETY: `fd` is open for writing; `ftruncate` changes only its size.
    if unsafe { libc::ftruncate(fd.as_raw_fd(), len_off) } != 0 {
        return Err(Error::last_os(format!("sizing {what} to {len} bytes")));
    }
    if !reserve {
        return Ok(());
    }
    // `posix_fallocate`, or what the platform has instead (it returns the
    // error number instead of setting errno).
    let rc = crate::platform::reserve(fd.as_fd(), len_off);
    match rc {
        0 => Ok(()),
        // The file system cannot reserve space: nothing more we can do.
        libc::EOPNOTSUPP | libc::EINVAL => Ok(()),
        errno => Err(reserve_failed(
            len,
            what,
            std::io::Error::from_raw_os_error(errno),
        )),
    }
}

fn reserve_failed(
    len: usize,
    what: &(impl std::fmt::Display + ?Sized),
    err: std::io::Error,
) -> Error {
    Error::os(
        format!(
            "reserving {len} bytes for {what} (is /dev/shm or the disk full, or a size limit \
             reached?)"
        ),
        err,
    )
}

/// Everything the kernel says about segment `id` (`IPC_STAT`; needs read
/// permission).
pub(crate) fn sysv_stat_ds(
    id: libc::c_int,
    what: &(impl std::fmt::Display + ?Sized),
) -> Result<libc::shmid_ds> {
    let mut ds = std::mem::MaybeUninit::<libc::shmid_ds>::uninit();
    // SAFETY: `ds` is a valid out-pointer for one `shmid_ds`.
    if unsafe { libc::shmctl(id, libc::IPC_STAT, ds.as_mut_ptr()) } != 0 {
        return Err(Error::last_os(format!(
            "reading the size and owner of {what}"
        )));
    }
    // SAFETY: `IPC_STAT` succeeded, so it filled `ds`.
    Ok(unsafe { ds.assume_init() })
}

/// Size and owner of segment `id` (`IPC_STAT`).
pub(crate) fn sysv_stat(id: libc::c_int, what: &(impl std::fmt::Display + ?Sized)) -> Result<Stat> {
    let ds = sysv_stat_ds(id, what)?;
    Ok(Stat {
        #[allow(clippy::unnecessary_cast)] // size_t width varies by target
        size: ds.shm_segsz as usize,
        uid: ds.shm_perm.uid,
        identity: Identity::ShmId(id),
        regular: true,
        // SHM_DEST: marked for removal, freed at the last detach.
        linked: ds.shm_perm.mode & 0o1000 == 0,
    })
}

impl Object {
    /// The object's size and owner.
    pub(crate) fn stat(&self, what: &(impl std::fmt::Display + ?Sized)) -> Result<Stat> {
        match self {
            Object::Fd(fd) => fstat(fd, what),
            Object::SysV(id) => sysv_stat(*id, what),
        }
    }

    /// Maps the first `len` bytes (the caller checked the object is at least
    /// that long).
    pub(crate) fn map(
        &self,
        len: usize,
        writable: bool,
        options: &MapOptions,
        what: &(impl std::fmt::Display + ?Sized),
    ) -> Result<Mapping> {
        self.map_at(0, len, writable, options, what)
    }

    /// Maps `len` bytes from `offset`, a multiple of the page size (the
    /// caller checked the object is at least `offset + len` bytes long). A
    /// System V segment is always attached whole: its mapping starts at
    /// offset 0 whatever `offset` says.
    pub(crate) fn map_at(
        &self,
        offset: usize,
        len: usize,
        writable: bool,
        options: &MapOptions,
        what: &(impl std::fmt::Display + ?Sized),
    ) -> Result<Mapping> {
        match self {
            Object::Fd(fd) => Mapping::from_fd(fd, offset, len, writable, options, what),
            Object::SysV(id) => Mapping::attach_sysv(*id, len, writable, options, what),
        }
    }

    /// Grows the object to `len` bytes (reclaiming a segment sized for a
    /// smaller type). System V segments cannot grow.
    pub(crate) fn grow(
        &self,
        len: usize,
        reserve: bool,
        what: &(impl std::fmt::Display + ?Sized),
    ) -> Result<()> {
        match self {
            Object::Fd(fd) => size_and_reserve(fd, len, reserve, what),
            Object::SysV(_) => Err(Error::new(
                ErrorKind::TooShort,
                format!(
                    "{what} is too small for the value to reclaim it with, and System V \
                     segments cannot grow: remove it and create it anew"
                ),
            )),
        }
    }
}

/// A `CString` of `s` (reusing its buffer when it is a `Vec` with room for
/// the NUL), or an [`ErrorKind::InvalidName`] error when it holds a NUL
/// byte.
pub(crate) fn c_string(
    s: impl Into<Vec<u8>>,
    what: &(impl std::fmt::Display + ?Sized),
) -> Result<std::ffi::CString> {
    std::ffi::CString::new(s).map_err(|_| {
        Error::new(
            ErrorKind::InvalidName,
            format!("{what}: the name contains a NUL byte"),
        )
    })
}

/// A path as the C string the system calls take.
pub(crate) fn path_c(
    path: &std::path::Path,
    what: &(impl std::fmt::Display + ?Sized),
) -> Result<std::ffi::CString> {
    use std::os::unix::ffi::OsStrExt;
    c_string(path.as_os_str().as_bytes(), what)
}
