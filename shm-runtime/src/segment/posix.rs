//! POSIX shared memory objects: `shm_open`, `shm_unlink`.
//!
//! On Linux they are files of the `tmpfs` mounted at `/dev/shm`: they live
//! in memory (and swap), survive their processes until unlinked or reboot,
//! and `ls -l /dev/shm` lists them.

use super::object::{c_string, fstat, set_mode, Identity, Stat};
use crate::error::{Error, ErrorKind, Result};
use std::ffi::CString;
use std::os::fd::{FromRawFd, OwnedFd};

/// The longest name (with its leading `/`): 255 bytes, what `/dev/shm`
/// accepts; 31 on macOS (`PSHMNAMLEN`).
const NAME_MAX: usize = crate::platform::SHM_NAME_MAX;

/// Checks a POSIX shared memory name: a leading `/`, then 1 to 254 bytes
/// with no other `/` and no NUL, and not `.` or `..`.
pub(crate) fn validate_name(name: &str) -> Result<CString> {
    validate_os_name(std::ffi::OsStr::new(name))
}

/// [`validate_name`] for a name of any bytes (the kernel does not require
/// UTF-8).
pub(crate) fn validate_os_name(name: &std::ffi::OsStr) -> Result<CString> {
    use std::os::unix::ffi::OsStrExt;
    let bytes = name.as_bytes();
    let problem = if !bytes.starts_with(b"/") {
        Some("must start with `/`")
    } else if bytes.len() == 1 {
        Some("is empty after its `/`")
    } else if bytes[1..].contains(&b'/') {
        Some("may hold no `/` after the first")
    } else if bytes.len() > NAME_MAX {
        Some(if NAME_MAX == 255 {
            "is longer than 255 bytes"
        } else {
            "is longer than 31 bytes (macOS's limit)"
        })
    } else if bytes == b"/." || bytes == b"/.." {
        Some("may not be `.` or `..`")
    } else if bytes.contains(&0) {
        Some("may not hold a NUL byte")
    } else {
        None
    };
    match problem {
        Some(problem) => Err(Error::new(
            ErrorKind::InvalidName,
            format!(
                "segment name `{}` {problem}: POSIX shared memory names look like \
                 `/my-app.jobs` (at most {NAME_MAX} bytes here)",
                escape_name(name)
            ),
        )),
        // No NUL (checked above): cannot fail.
        None => c_string(bytes, "a segment name"),
    }
}

/// `name` as error messages show it: escaped only when it holds a character
/// that needs it, so that the common case, formatted on every open for the
/// messages it might need, copies the name as it is.
pub(crate) fn shown(name: &str) -> std::borrow::Cow<'_, str> {
    if name
        .bytes()
        .all(|b| b.is_ascii_graphic() && !matches!(b, b'\\' | b'\'' | b'"') || b == b' ')
    {
        std::borrow::Cow::Borrowed(name)
    } else {
        std::borrow::Cow::Owned(escape_name(std::ffi::OsStr::new(name)))
    }
}

/// `name` for messages: its UTF-8 parts as `str::escape_debug` writes them,
/// other bytes as `\xNN`.
pub(crate) fn escape_name(name: &std::ffi::OsStr) -> String {
    use std::os::unix::ffi::OsStrExt;
    let mut out = String::new();
    for chunk in name.as_bytes().utf8_chunks() {
        out.extend(chunk.valid().escape_debug());
        for byte in chunk.invalid() {
            out.push_str(&format!("\\x{byte:02x}"));
        }
    }
    out
}

fn shm_open(name: &CString, flags: libc::c_int, mode: u32) -> std::io::Result<OwnedFd> {
    // SAFETY: `name` is a valid NUL-terminated string; `shm_open` returns a
    // new descriptor that we then own.
    let fd = unsafe { crate::platform::shm_open(name.as_ptr(), flags | libc::O_CLOEXEC, mode) };
    if fd < 0 {
        return Err(std::io::Error::last_os_error());
    }
    // SAFETY: `fd` is a fresh descriptor owned by nobody else.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// Creates the object exclusively (`O_EXCL`) with exactly `mode`.
pub(crate) fn create(
    name: &CString,
    mode: u32,
    what: &(impl std::fmt::Display + ?Sized),
) -> Result<(OwnedFd, Stat)> {
    let fd =
        shm_open(name, libc::O_RDWR | libc::O_CREAT | libc::O_EXCL, mode).map_err(|e| {
            match e.raw_os_error() {
                Some(libc::EEXIST) => Error::os(
                    format!("creating {what}: it exists already (open it, or remove it first)"),
                    e,
                )
                .explained(),
                _ => Error::os(format!("creating {what}"), e),
            }
        })?;
    match set_mode(&fd, mode, what) {
        Ok(stat) => Ok((fd, stat)),
        Err(e) => {
            // SAFETY: a valid C string; we created this object.
            unsafe { libc::shm_unlink(name.as_ptr()) };
            Err(e)
        }
    }
}

/// Opens an existing object, for reading and writing or for reading only.
pub(crate) fn open(
    name: &CString,
    writable: bool,
    what: &(impl std::fmt::Display + ?Sized),
) -> Result<OwnedFd> {
    let flags = if writable {
        libc::O_RDWR
    } else {
        libc::O_RDONLY
    };
    shm_open(name, flags, 0).map_err(|e| match e.raw_os_error() {
        Some(libc::ENOENT) => Error::os(
            format!("opening {what}: no such segment (create it first, or check the name)"),
            e,
        )
        .explained(),
        Some(libc::EACCES) => Error::os(
            format!(
                "opening {what} {}: its mode does not allow this user (see `ls -l /dev/shm`)",
                if writable {
                    "for writing"
                } else {
                    "for reading"
                }
            ),
            e,
        )
        .explained(),
        _ => Error::os(format!("opening {what}"), e),
    })
}

/// Removes the name; processes that have it open or mapped keep it.
pub(crate) fn unlink_c(name: &CString, what: &(impl std::fmt::Display + ?Sized)) -> Result<()> {
    // SAFETY: `name` is a valid NUL-terminated string.
    if unsafe { libc::shm_unlink(name.as_ptr()) } != 0 {
        return Err(Error::last_os(format!("removing {what}")));
    }
    Ok(())
}

/// Removes the name only while it still refers to `identity`.
pub(crate) fn unlink_if(
    name: &CString,
    identity: Identity,
    what: &(impl std::fmt::Display + ?Sized),
) -> Result<()> {
    match open(name, false, what) {
        Ok(fd) => {
            if fstat(&fd, what)?.identity != identity {
                return Ok(()); // Another segment took the name since.
            }
            unlink_c(name, what)
        }
        Err(e) if e.kind() == ErrorKind::NotFound => Ok(()),
        Err(e) => Err(e),
    }
}
