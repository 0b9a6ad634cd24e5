//! Raw mode: segments and files without a header, made by (or for) C, C++
//! or Python programs, mapped as [`Volatile`] views.
//!
//! See the [`segment`](crate::segment#raw-mode) documentation.

use super::header::MAGIC;
use super::object::{Object, Stat};
use super::{Origin, Segment, View};
use crate::error::{Error, ErrorKind, Result};
use crate::init::{sealed, Elem, Payload};
use crate::map::{page_size, Mapping};
use crate::volatile::{Access, Volatile};
use std::mem::{align_of, size_of};
use std::os::fd::AsRawFd;

/// Reads up to `buf.len()` bytes at offset 0 of `fd` with `pread`: a copy
/// by the kernel, which returns a short count past the end of a truncated
/// object instead of raising `SIGBUS`, and is no access to a mapping.
fn pread_start(fd: &std::os::fd::OwnedFd, buf: &mut [u8], what: &str) -> Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        let rest = &mut buf[done..];
        // SAFETY: `rest` is valid for writes of `rest.len()` bytes; `fd` is
        // open.
        let n = unsafe {
            libc::pread(
                fd.as_raw_fd(),
                rest.as_mut_ptr().cast(),
                rest.len(),
                done as libc::off_t,
            )
        };
        match n {
            0 => break,
            n if n > 0 => done += n as usize,
            _ => {
                let err = std::io::Error::last_os_error();
                if err.kind() != std::io::ErrorKind::Interrupted {
                    return Err(Error::os(format!("reading the first bytes of {what}"), err));
                }
            }
        }
    }
    Ok(done)
}

impl<M> Segment<M> {
    pub(super) fn raw_bytes<T>(&self, len: usize) -> Result<usize> {
        let what = self.what();
        if align_of::<T>() > page_size() {
            return Err(Error::new(
                ErrorKind::InvalidSize,
                format!(
                    "{what}: the alignment {} of `{}` exceeds the page size",
                    align_of::<T>(),
                    std::any::type_name::<T>()
                ),
            ));
        }
        size_of::<T>()
            .checked_mul(len)
            .filter(|b| *b <= isize::MAX as usize)
            .ok_or_else(|| {
                Error::new(
                    ErrorKind::InvalidSize,
                    format!("{what}: {len} elements do not fit in the address space"),
                )
            })
    }

    /// Refuses an object that starts with the magic of this library's
    /// header (in either byte order): a typed segment, which raw views
    /// would bypass. POSIX objects and files are read with `pread`, never
    /// through the mapping; a System V segment has no descriptor, and is
    /// read with a volatile copy of its first word from the attachment
    /// (System V segments cannot shrink, so that cannot fault). Called
    /// after mapping, so that the check is as late as it can be (see the
    /// [creation window](crate::segment#raw-mode)).
    pub(super) fn refuse_header(
        &self,
        object: &Object,
        stat: &Stat,
        mapping: &Mapping,
    ) -> Result<()> {
        let what = self.what();
        let mut first = [0u8; size_of::<u64>()];
        let read = match object {
            Object::Fd(fd) => pread_start(fd, &mut first, &what)?,
            Object::SysV(_) if stat.size >= first.len() => {
                // SAFETY: the attachment covers the whole segment from its
                // start (`shmat` maps all of it, whatever the view's
                // offset), which is at least 8 bytes long (checked) and
                // page-aligned; a volatile copy creates no reference.
                first = unsafe { mapping.ptr().cast::<[u8; 8]>().as_ptr().read_volatile() };
                first.len()
            }
            Object::SysV(_) => 0,
        };
        if read < first.len() {
            return Ok(());
        }
        let magic = u64::from_ne_bytes(first);
        if magic != MAGIC && magic != MAGIC.swap_bytes() {
            return Ok(());
        }
        let other_order = if magic == MAGIC {
            ""
        } else {
            " (written on a machine of the other byte order)"
        };
        Err(Error::new(
            ErrorKind::TypedSegment,
            format!(
                "{what} starts with the header of this library{other_order}: it is a typed \
                 segment, and a raw view would bypass its type check and init protocol; open \
                 it with the typed `open` (or `.read_only().open()`), which checks its type and \
                 waits until it is ready"
            ),
        ))
    }

    /// The [`offset`](Segment::offset) of a raw view of a type aligned to
    /// `align`, checked: a multiple of `align`, and within the address
    /// space with the view's `bytes`. Returns the offset and the end.
    pub(super) fn raw_range(&self, align: usize, bytes: usize) -> Result<(usize, usize)> {
        let what = self.what();
        let offset = self.offset;
        let range = usize::try_from(offset)
            .ok()
            .and_then(|start| Some((start, start.checked_add(bytes)?)))
            .filter(|(_, end)| *end <= isize::MAX as usize);
        let Some((start, end)) = range else {
            return Err(Error::new(
                ErrorKind::InvalidSize,
                format!(
                    "{what}: a view of {bytes} bytes at offset {offset} exceeds the address space"
                ),
            ));
        };
        if start % align != 0 {
            return Err(Error::new(
                ErrorKind::InvalidSize,
                format!(
                    "{what}: offset {offset} is not a multiple of the alignment {align} of the \
                     type to view there"
                ),
            ));
        }
        Ok((start, end))
    }

    /// Opens the object (or, with [`create_new`](Segment::create_new) or
    /// [`create_missing`](Segment::create_missing), creates it zero-filled,
    /// `end` bytes long), refuses one shorter than `end` or carrying this
    /// library's header, and maps the `bytes` bytes (`len` elements) that
    /// end there.
    pub(super) fn open_raw_view(
        &self,
        bytes: usize,
        align: usize,
        len: usize,
        writable: bool,
        shape: String,
    ) -> Result<View> {
        let what = self.what();
        let (offset, end) = self.raw_range(align, bytes)?;
        let (object, stat, origin) = self.open_or_create_raw(writable, end)?;
        if stat.size < end {
            let at = if offset == 0 {
                String::new()
            } else {
                format!(" at offset {offset}")
            };
            return Err(Error::new(
                ErrorKind::TooShort,
                format!(
                    "{what} is {} bytes long, shorter than the {bytes} bytes of {shape}{at}: \
                     refusing to map it (touching the missing bytes would raise SIGBUS)",
                    stat.size
                ),
            ));
        }
        self.map_raw(object, stat, offset, bytes, len, writable, origin)
    }

    /// Opens the object, or creates it zero-filled and `end` bytes long as
    /// the creation options say; with whether this process created it.
    pub(super) fn open_or_create_raw(
        &self,
        writable: bool,
        end: usize,
    ) -> Result<(Object, Stat, Origin)> {
        if self.create_new {
            let (object, stat) = self.create_raw_zeroed(end)?;
            return Ok((object, stat, Origin::Created));
        }
        if !self.create_missing {
            let (object, stat) = self.open_object_until(writable, Some(self.deadline()))?;
            return Ok((object, stat, Origin::Opened));
        }
        let mut backoff = super::Backoff::new(self.deadline());
        loop {
            match self.open_object(writable) {
                // Empty: where creation takes the name first, another
                // process may be between creating and sizing it.
                Ok((object, stat)) if stat.size == 0 && end > 0 => {
                    if !backoff.wait() {
                        return Ok((object, stat, Origin::Opened));
                    }
                    continue;
                }
                Ok((object, stat)) => return Ok((object, stat, Origin::Opened)),
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            match self.create_raw_zeroed(end) {
                Ok((object, stat)) => return Ok((object, stat, Origin::Created)),
                // Another process created it meanwhile: open that one.
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            if !backoff.wait() {
                return Err(Error::new(
                    ErrorKind::TimedOut,
                    format!(
                        "opening or creating {}: gave up after {:?} of races with other \
                         processes creating and removing it",
                        self.what(),
                        self.open_timeout
                    ),
                ));
            }
        }
    }

    /// Creates the object exclusively, zero-filled and `len` bytes long, and
    /// gives it its name (at once: zeroes are complete).
    pub(super) fn create_raw_zeroed(&self, len: usize) -> Result<(Object, Stat)> {
        let super::Created { object, stat, link } = self.create_object(len)?;
        if let (Some(link), Object::Fd(fd)) = (&link, &object) {
            link.publish(fd, &self.what())?;
        }
        Ok((object, stat))
    }

    /// Maps `bytes` bytes of the object from byte `offset` (from the page
    /// that holds it, for `mmap`; a System V segment whole), after
    /// checking it holds no header of this library.
    #[allow(clippy::too_many_arguments)]
    pub(super) fn map_raw(
        &self,
        object: Object,
        stat: Stat,
        offset: usize,
        bytes: usize,
        len: usize,
        writable: bool,
        origin: Origin,
    ) -> Result<View> {
        let (from, inner) = match object {
            Object::SysV(_) => (0, offset),
            Object::Fd(_) => (offset - offset % page_size(), offset % page_size()),
        };
        let mapping = object.map_at(
            from,
            inner + bytes,
            writable,
            &self.map_options,
            &self.what(),
        )?;
        self.refuse_header(&object, &stat, &mapping)?;
        Ok(View {
            mapping,
            offset: inner,
            len,
            identity: stat.identity,
            origin,
        })
    }

    /// The view of `view.len` elements (one for a value) at `view.offset`
    /// in `view`'s mapping.
    ///
    /// # Safety
    /// The mapping holds at least `view.len` elements of the object at
    /// `view.offset`, a multiple of their alignment, writable when `A` is
    /// `ReadWrite`; the elements are `AnyBitPattern`.
    pub(super) unsafe fn raw_view<P: ?Sized + Payload, A: Access>(
        &self,
        mut view: View,
    ) -> Volatile<P, A> {
        self.attach_owner(&mut view);
        // SAFETY: the offset lies inside the mapping (caller's contract).
        let first = unsafe { view.mapping.ptr().add(view.offset) }.cast::<Elem<P>>();
        let ptr = <P as sealed::PayloadSealed>::from_parts(first, view.len);
        // SAFETY: the caller's contract; `first` is the page-aligned base of
        // the mapping (the alignment is at most a page, checked by
        // `raw_bytes`) plus a multiple of the alignment.
        unsafe { Volatile::from_mapping(view.mapping, ptr, size_of::<Elem<P>>() * view.len) }
    }

    pub(super) fn owner_of(&self, identity: super::Identity) -> super::SegmentOwner {
        super::SegmentOwner {
            target: self.target.clone(),
            identity: Some(identity),
            armed: true,
        }
    }
}
