//! The segment a builder names: a POSIX name, a file path or a System V
//! key, checked and converted for the system calls, and removed by name.

use super::object::Identity;
use super::sysv::SysvKey;
use super::{file, posix, sysv};
use crate::error::Result;
use std::ffi::CString;
use std::fmt;
use std::path::PathBuf;

#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Target {
    Posix(String),
    File(PathBuf),
    SysV(SysvKey),
}

/// A target whose name was checked and converted for the system calls.
pub(super) enum Resolved {
    Posix(CString),
    File(CString),
    SysV(SysvKey),
}

/// How messages name a target (`` segment `/jobs` ``, `` file `/var/x` ``,
/// `System V segment 0x1234`): written only when a message is made, so that
/// opening and creating build no string on success.
#[derive(Clone, Copy)]
pub(super) struct What<'a>(&'a Target);

impl fmt::Display for What<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.0 {
            Target::Posix(name) => write!(f, "segment `{}`", posix::shown(name)),
            Target::File(path) => write!(f, "file `{}`", path.display()),
            Target::SysV(key) => write!(f, "System V segment {key}"),
        }
    }
}

impl Target {
    pub(super) fn what(&self) -> What<'_> {
        What(self)
    }

    pub(super) fn resolve(&self) -> Result<Resolved> {
        Ok(match self {
            Target::Posix(name) => Resolved::Posix(posix::validate_name(name)?),
            Target::File(path) => Resolved::File(file::path_c(path, &self.what())?),
            Target::SysV(key) => Resolved::SysV(*key),
        })
    }

    /// Removes the name; with `identity`, only while the name still refers
    /// to that object, and a missing name is then not an error.
    pub(super) fn remove(&self, identity: Option<Identity>) -> Result<()> {
        let what = self.what();
        match (self.resolve()?, identity) {
            (Resolved::Posix(name), None) => posix::unlink_c(&name, &what),
            (Resolved::Posix(name), Some(id)) => posix::unlink_if(&name, id, &what),
            (Resolved::File(path), None) => file::unlink_c(&path, &what),
            (Resolved::File(path), Some(id)) => file::unlink_if(&path, id, &what),
            (Resolved::SysV(_), Some(Identity::ShmId(id))) => sysv::remove_id(id, &what),
            (Resolved::SysV(key), _) => sysv::remove_id(sysv::open(key, &what)?, &what),
        }
    }
}
