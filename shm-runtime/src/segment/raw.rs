//! Raw mode: segments and files without a header, made by (or for) C, C++
//! or Python programs, mapped as [`Volatile`](crate::Volatile) views.
//!
//! See the [`segment`](crate::segment#raw-mode) documentation.

use super::create::{Created, Pending};
use super::header::MAGIC;
use super::object::Identity;
use super::object::{Object, Stat};
use super::open::Backoff;
use super::options::Segment;
use super::owner::SegmentOwner;
use super::view::View;
use crate::error::{Error, ErrorKind, Result};
use crate::init::{sealed, Elem, FromFn, Payload};
use crate::map::{page_size, Mapping};
use crate::shared::Origin;
use crate::volatile::{Access, ReadWrite, Volatile};
use crate::SharedSafe;
use std::mem::{align_of, size_of};
use std::os::fd::AsRawFd;

/// Reads up to `buf.len()` bytes at offset 0 of `fd` with `pread`: a copy
/// by the kernel, which returns a short count past the end of a truncated
/// object instead of raising `SIGBUS`, and is no access to a mapping.
fn pread_start(
    fd: &std::os::fd::OwnedFd,
    buf: &mut [u8],
    what: &(impl std::fmt::Display + ?Sized),
) -> Result<usize> {
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
    fn raw_bytes<T>(&self, len: usize) -> Result<usize> {
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
    fn refuse_header(&self, object: &Object, stat: &Stat, mapping: &Mapping) -> Result<()> {
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
    fn raw_range(&self, align: usize, bytes: usize) -> Result<(usize, usize)> {
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
    fn open_raw_view(
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
    fn open_or_create_raw(&self, writable: bool, end: usize) -> Result<(Object, Stat, Origin)> {
        if self.create_new {
            let (object, stat) = self.create_raw_zeroed(end)?;
            return Ok((object, stat, Origin::Created));
        }
        if !self.create_missing {
            let (object, stat) = self.open_object_until(writable, Some(self.deadline()))?;
            return Ok((object, stat, Origin::Opened));
        }
        let mut backoff = Backoff::new(self.deadline());
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
    fn create_raw_zeroed(&self, len: usize) -> Result<(Object, Stat)> {
        let Created { object, stat, link } = self.create_object(len)?;
        if let (Some(link), Object::Fd(fd)) = (&link, &object) {
            link.publish(fd, &self.what())?;
        }
        Ok((object, stat))
    }

    /// Maps `bytes` bytes of the object from byte `offset` (from the page
    /// that holds it, for `mmap`; a System V segment whole), after
    /// checking it holds no header of this library.
    #[allow(clippy::too_many_arguments)]
    fn map_raw(
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
    unsafe fn raw_view<P: ?Sized + Payload, A: Access>(&self, mut view: View) -> Volatile<P, A> {
        self.attach_owner(&mut view);
        // SAFETY: the offset lies inside the mapping (caller's contract).
        let first = unsafe { view.mapping.ptr().add(view.offset) }.cast::<Elem<P>>();
        let ptr = <P as sealed::PayloadSealed>::from_parts(first, view.len);
        // SAFETY: the caller's contract; `first` is the page-aligned base of
        // the mapping (the alignment is at most a page, checked by
        // `raw_bytes`) plus a multiple of the alignment.
        unsafe { Volatile::from_mapping(view.mapping, ptr, size_of::<Elem<P>>() * view.len) }
    }

    fn owner_of(&self, identity: Identity) -> SegmentOwner {
        SegmentOwner {
            target: self.target.clone(),
            identity: Some(identity),
            armed: true,
        }
    }
}

/// Raw mode: segments and files without header, made by (or for) C, C++ or
/// Python programs (see [raw mode](super#raw-mode)), behind
/// [`Segment::raw`] (the helpers are in the `raw` module).
impl<A> Segment<A> {
    /// The raw open of `.raw().open::<P>()`, with `V`'s access.
    pub(super) fn open_raw_payload<P, V>(&self) -> Result<Volatile<P, V>>
    where
        P: ?Sized + Payload,
        Elem<P>: bytemuck::AnyBitPattern,
        V: Access,
    {
        let name = std::any::type_name::<Elem<P>>();
        let len = match (<P as sealed::PayloadSealed>::SLICE, self.raw_len) {
            (false, None) => 1,
            (false, Some(len)) => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "{}: `.len({len})` sets the element count of a raw slice view, and \
                         `{name}` is no slice: open a `[{name}]`, or leave `len` unset",
                        self.what()
                    ),
                ))
            }
            (true, Some(len)) => len,
            (true, None) => return self.open_raw_all::<P, V>(),
        };
        let bytes = self.raw_bytes::<Elem<P>>(len)?;
        let shape = if <P as sealed::PayloadSealed>::SLICE {
            format!("`[{name}; {len}]`")
        } else {
            format!("`{name}`")
        };
        let view = self.open_raw_view(bytes, align_of::<Elem<P>>(), len, V::WRITABLE, shape)?;
        // SAFETY: `bytes` bytes of the object (`len` elements) are mapped at
        // the offset, writable when `V` is `ReadWrite`; the elements are
        // `AnyBitPattern`.
        Ok(unsafe { self.raw_view::<P, V>(view) })
    }

    /// A raw slice view of the whole object from the offset, its length
    /// taken from the object's size: for C or Python peers that do not say
    /// how many elements they wrote. A size that is not a whole number of
    /// elements is refused ([`InvalidSize`](crate::ErrorKind::InvalidSize)): the
    /// type is probably not the one the peer wrote.
    fn open_raw_all<P, V>(&self) -> Result<Volatile<P, V>>
    where
        P: ?Sized + Payload,
        Elem<P>: bytemuck::AnyBitPattern,
        V: Access,
    {
        let what = self.what();
        let name = std::any::type_name::<Elem<P>>();
        if self.create_new || self.create_missing {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "{what}: a raw slice view without `.len(n)` takes its length from \
                     the object, so it cannot create one: set `.len(n)` with `create_new` or \
                     `create_missing`"
                ),
            ));
        }
        let (offset, _) = self.raw_range(align_of::<Elem<P>>(), 0)?;
        let (object, stat) = self.open_object_until(V::WRITABLE, Some(self.deadline()))?;
        let Some(rest) = stat.size.checked_sub(offset) else {
            return Err(Error::new(
                ErrorKind::TooShort,
                format!(
                    "{what} is {} bytes long, shorter than the offset {offset}",
                    stat.size
                ),
            ));
        };
        if size_of::<Elem<P>>() == 0 || rest % size_of::<Elem<P>>() != 0 {
            return Err(Error::new(
                ErrorKind::InvalidSize,
                format!(
                    "{what} holds {rest} bytes from offset {offset}, not a whole number of \
                     {}-byte `{name}`s",
                    size_of::<Elem<P>>()
                ),
            ));
        }
        let len = rest / size_of::<Elem<P>>();
        let bytes = self.raw_bytes::<Elem<P>>(len)?;
        let view = self.map_raw(
            object,
            stat,
            offset,
            bytes,
            len,
            V::WRITABLE,
            Origin::Opened,
        )?;
        // SAFETY: the `len` elements the object holds (its size, checked by
        // `fstat` just before mapping) are mapped at the offset, writable
        // when `V` is `ReadWrite`; the elements are `AnyBitPattern`.
        Ok(unsafe { self.raw_view::<P, V>(view) })
    }

    /// The raw create of `.raw().create(init::from_fn(len, element))`.
    pub(super) fn create_raw<T, F>(&self, init: FromFn<T, F>) -> Result<Volatile<[T]>>
    where
        T: SharedSafe + bytemuck::AnyBitPattern,
        F: FnMut(usize) -> T,
    {
        let what = self.what();
        let len = init.count();
        let bytes = self.raw_bytes::<T>(len)?;
        let (offset, end) = self.raw_range(align_of::<T>(), bytes)?;
        let Created { object, stat, link } = self.create_object(end)?;
        let remove = |e: Error| {
            let _ = self.target.remove(Some(stat.identity));
            e
        };
        let (from, inner) = match object {
            Object::SysV(_) => (0, offset),
            Object::Fd(_) => (offset - offset % page_size(), offset % page_size()),
        };
        let mapping = if end == 0 {
            // Nothing to map from an empty object: an anonymous page stands in.
            crate::map::Mapping::anonymous(1, &crate::MapOptions::new(), &what.to_string())
                .map_err(remove)?
        } else {
            object
                .map_at(from, inner + bytes, true, &self.map_options, &what)
                .map_err(remove)?
        };
        // SAFETY: `inner` lies inside the mapping (it maps `inner + bytes`).
        let first = unsafe { mapping.ptr().add(inner) }.cast::<T>();
        // Removes the name should `element` panic (a no-op while the object
        // has none yet).
        let owner = self.owner_of(stat.identity);
        // SAFETY: the `len` elements fit in the writable mapping, aligned
        // (page base plus a multiple of the alignment). Should the object
        // have its name already, another process may have mapped it and read
        // it at any time, which is no race of this program's (it never reads
        // the bytes here). The padding is zeroed, so no byte of this
        // process's stack is copied.
        unsafe { init.write_to(first) };
        let view = View {
            mapping,
            offset: inner,
            len,
            identity: stat.identity,
            origin: Origin::Created,
        };
        let view = match link {
            // Written whole before a C or Python peer can open it by name.
            Some(link) => {
                let pending = Pending { view, object, link };
                self.publish(&pending)?;
                pending.view
            }
            None => view,
        };
        owner.keep();
        // SAFETY: `len` elements are mapped writable at offset 0;
        // `T: AnyBitPattern`.
        Ok(unsafe { self.raw_view::<[T], ReadWrite>(view) })
    }
}
