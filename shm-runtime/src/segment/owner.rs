//! Removing a segment's name: [`SegmentOwner`], the RAII remover that
//! views made with `remove_on_drop` hold, [`Segment::remove`] and
//! [`Segment::owner`], and [`unlink`] of a POSIX name.

use super::object::Identity;
use super::options::Segment;
use super::posix;
use super::target::Target;
use crate::error::Result;

/// Removes a segment's name when dropped: an RAII remover. Made by
/// [`Segment::owner`]; views opened with
/// [`remove_on_drop`](Segment::remove_on_drop) hold one.
///
/// ```
/// use shm_runtime::segment::Segment;
/// let segment = Segment::posix(format!("/shm-runtime-doc-so-{}", std::process::id()));
/// let owner = segment.owner();
/// segment.create(0u8)?;
/// owner.remove()?; // or just drop it
/// # Ok::<(), shm_runtime::Error>(())
/// ```
#[derive(Debug)]
pub struct SegmentOwner {
    pub(super) target: Target,
    pub(super) identity: Option<Identity>,
    pub(super) armed: bool,
}

impl SegmentOwner {
    /// Removes the name now, reporting errors that drop would ignore.
    ///
    /// ```
    /// use shm_runtime::{segment::Segment, ErrorKind};
    /// let segment = Segment::posix(format!("/shm-runtime-doc-sor-{}", std::process::id()));
    /// let err = segment.owner().remove().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::NotFound); // nothing was created
    /// ```
    pub fn remove(mut self) -> Result<()> {
        self.armed = false;
        self.target.remove(self.identity)
    }

    /// Disarms the guard: the segment stays.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let segment = Segment::posix(format!("/shm-runtime-doc-sok-{}", std::process::id()));
    /// let owner = segment.owner();
    /// segment.create(0u8)?;
    /// owner.keep();
    /// assert_eq!(*segment.open::<u8>()?, 0);
    /// segment.remove()?;
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn keep(mut self) {
        self.armed = false;
    }
}

impl Drop for SegmentOwner {
    fn drop(&mut self) {
        if self.armed {
            let _ = self.target.remove(self.identity);
        }
    }
}

/// Removing the name.
impl<A> Segment<A> {
    /// Removes the segment's name (`shm_unlink`, `unlink`, or
    /// `shmctl(IPC_RMID)`). Processes that mapped it keep their mappings;
    /// the memory is freed when the last one unmaps it.
    ///
    /// ```
    /// use shm_runtime::{segment::Segment, ErrorKind};
    /// let segment = Segment::posix(format!("/shm-runtime-doc-rm-{}", std::process::id()));
    /// let value = segment.create(3u32)?;
    /// segment.remove()?;
    /// assert_eq!(*value, 3); // still mapped here
    /// assert_eq!(segment.remove().unwrap_err().kind(), ErrorKind::NotFound);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn remove(&self) -> Result<()> {
        self.target.remove(None)
    }

    /// A guard that removes the segment's name when dropped (an RAII
    /// remover), whether or not this process created it.
    ///
    /// ```
    /// use shm_runtime::{segment::Segment, ErrorKind};
    /// let segment = Segment::posix(format!("/shm-runtime-doc-owner-{}", std::process::id()));
    /// {
    ///     let _owner = segment.owner();
    ///     segment.create(1u8)?;
    ///     // ... even a panic here removes the name
    /// }
    /// assert_eq!(segment.open::<u8>().unwrap_err().kind(), ErrorKind::NotFound);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn owner(&self) -> SegmentOwner {
        SegmentOwner {
            target: self.target.clone(),
            identity: None,
            armed: true,
        }
    }
}

/// Removes the POSIX shared memory name `name` (`shm_unlink`); processes
/// that mapped it keep their mappings.
///
/// `name` is a `&str`, or an [`OsStr`](std::ffi::OsStr) for a name that is
/// not UTF-8 (as [`list`](super::list) may find, made by another program).
///
/// Errors: [`InvalidName`](crate::ErrorKind::InvalidName) for a name that is no
/// POSIX name (`/name`), [`NotFound`](crate::ErrorKind::NotFound) when there is no
/// such name.
///
/// ```
/// use shm_runtime::segment::{self, Segment};
/// use std::os::unix::ffi::OsStrExt;
/// let name = format!("/shm-runtime-doc-unlink-{}", std::process::id());
/// Segment::posix(&name).create(1u32)?;
/// segment::unlink(&name)?;
/// // Names are bytes: this one is not UTF-8.
/// let raw = std::ffi::OsStr::from_bytes(b"/shm-runtime-doc-unlink-\xff");
/// assert_eq!(segment::unlink(raw).unwrap_err().kind(), shm_runtime::ErrorKind::NotFound);
/// # Ok::<(), shm_runtime::Error>(())
/// ```
pub fn unlink(name: impl AsRef<std::ffi::OsStr>) -> Result<()> {
    let name = name.as_ref();
    let c_name = posix::validate_os_name(name)?;
    posix::unlink_c(&c_name, &format!("segment `{}`", posix::escape_name(name)))
}
