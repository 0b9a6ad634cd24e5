//! Files mapped with `mmap(MAP_SHARED)`: the data persists in the file
//! across runs; [`Shared::flush`](crate::Shared::flush) writes it back.

use super::object::{fstat, set_mode, Identity, Stat};
use crate::error::{Error, ErrorKind, Result};
use std::ffi::CString;
use std::os::fd::{FromRawFd, OwnedFd};

// Shared with the System V backend (a key is made from a path): it lives in
// `object`, below both; this name stays for its other callers.
pub(crate) use super::object::path_c;

pub(crate) fn open_flags(
    path: &CString,
    flags: libc::c_int,
    mode: u32,
    doing: &(impl std::fmt::Display + ?Sized),
) -> Result<OwnedFd> {
    // O_NOFOLLOW: a symbolic link planted at the path is refused rather than
    // followed; O_NONBLOCK: a FIFO planted there does not block the open (the
    // flag means nothing for regular files).
    let flags = flags | libc::O_CLOEXEC | libc::O_NOFOLLOW | libc::O_NONBLOCK;
    // SAFETY: `path` is a valid NUL-terminated string; `open` returns a new
    // descriptor that we then own.
    let fd = unsafe { libc::open(path.as_ptr(), flags, mode as libc::c_uint) };
    if fd < 0 {
        let err = std::io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::ELOOP) {
            return Err(Error::os_with_kind(
                ErrorKind::PermissionDenied,
                format!("{doing}: it is a symbolic link, which is not followed (open its target)"),
                err,
            )
            .explained());
        }
        return Err(Error::os(doing.to_string(), err));
    }
    // SAFETY: `fd` is a fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Creates the file exclusively (`O_EXCL`) with exactly `mode`.
pub(crate) fn create(
    path: &CString,
    mode: u32,
    what: &(impl std::fmt::Display + ?Sized),
) -> Result<(OwnedFd, Stat)> {
    let fd = open_flags(
        path,
        libc::O_RDWR | libc::O_CREAT | libc::O_EXCL,
        mode,
        &format_args!("creating {what}"),
    )?;
    match set_mode(&fd, mode, what) {
        Ok(stat) => Ok((fd, stat)),
        Err(e) => {
            // SAFETY: a valid C string; we created this object.
            unsafe { libc::unlink(path.as_ptr()) };
            Err(e)
        }
    }
}

/// Opens an existing regular file, for reading and writing or reading only.
pub(crate) fn open(
    path: &CString,
    writable: bool,
    what: &(impl std::fmt::Display + ?Sized),
) -> Result<OwnedFd> {
    let flags = if writable {
        libc::O_RDWR
    } else {
        libc::O_RDONLY
    };
    let fd = open_flags(path, flags, 0, &format_args!("opening {what}"))?;
    if !fstat(&fd, what)?.regular {
        return Err(Error::new(
            ErrorKind::NotASegment,
            format!("opening {what}: it is not a regular file"),
        ));
    }
    Ok(fd)
}

/// Removes the file.
pub(crate) fn unlink_c(path: &CString, what: &(impl std::fmt::Display + ?Sized)) -> Result<()> {
    // SAFETY: `path` is a valid NUL-terminated string.
    if unsafe { libc::unlink(path.as_ptr()) } != 0 {
        return Err(Error::last_os(format!("removing {what}")));
    }
    Ok(())
}

/// Removes the file only while the path still refers to `identity`.
pub(crate) fn unlink_if(
    path: &CString,
    identity: Identity,
    what: &(impl std::fmt::Display + ?Sized),
) -> Result<()> {
    match open_flags(path, libc::O_RDONLY, 0, &format_args!("opening {what}")) {
        Ok(fd) => {
            if fstat(&fd, what)?.identity != identity {
                return Ok(());
            }
            unlink_c(path, what)
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}
