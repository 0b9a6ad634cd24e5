//! Raw mode: segments and files without a header, made by (or for) C, C++
//! or Python programs, mapped as [`Volatile`] views.
//!
//! See the [`segment`](crate::segment#raw-mode) documentation.

use super::header::MAGIC;
use super::object::{Object, Stat};
use super::{Segment, View};
use crate::error::{Error, ErrorKind, Result};
use crate::map::{page_size, Mapping};
use crate::volatile::{Access, ReadOnly, ReadWrite, Volatile};
use crate::SharedSafe;
use std::mem::{align_of, size_of};
use std::os::fd::AsRawFd;
use std::ptr::NonNull;

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

impl Segment {
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
                // SAFETY: the attachment covers the whole segment (`shmat`
                // maps all of it), which is at least 8 bytes long (checked)
                // and page-aligned; a volatile copy creates no reference.
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
                 it with the typed `open` (or `open_slice`, `open_read_only`), which checks its \
                 type and waits until it is ready"
            ),
        ))
    }

    /// Opens the object, refuses one shorter than `bytes` or carrying this
    /// library's header, and maps its first `bytes` bytes (`len` elements).
    fn open_raw_view(
        &self,
        bytes: usize,
        len: usize,
        writable: bool,
        shape: String,
    ) -> Result<View> {
        let what = self.what();
        let (object, stat) = self.open_object_until(writable, Some(self.deadline()))?;
        if stat.size < bytes {
            return Err(Error::new(
                ErrorKind::TooShort,
                format!(
                    "{what} is {} bytes long, shorter than the {bytes} bytes of {shape}: \
                     refusing to map it (touching the missing bytes would raise SIGBUS)",
                    stat.size
                ),
            ));
        }
        self.map_raw(object, stat, bytes, len, writable)
    }

    fn map_raw(
        &self,
        object: Object,
        stat: Stat,
        bytes: usize,
        len: usize,
        writable: bool,
    ) -> Result<View> {
        let mapping = object.map(bytes, writable, &self.map_options, &self.what())?;
        self.refuse_header(&object, &stat, &mapping)?;
        Ok(View {
            mapping,
            offset: 0,
            len,
            identity: stat.identity,
            origin: super::Origin::Opened,
        })
    }

    /// The view of one `T` at the start of `view`'s mapping.
    ///
    /// # Safety
    /// The mapping holds at least `size_of::<T>()` bytes of the object at
    /// offset 0, writable when `A` is `ReadWrite`; `T: AnyBitPattern`.
    unsafe fn raw_value<T, A: Access>(&self, mut view: View) -> Volatile<T, A> {
        self.attach_owner(&mut view);
        let ptr = view.mapping.ptr().cast::<T>();
        // SAFETY: the caller's contract; `ptr` is the page-aligned base of
        // the mapping (`align_of::<T>() <= page_size`, checked by
        // `raw_bytes`).
        unsafe { Volatile::from_mapping(view.mapping, ptr, size_of::<T>()) }
    }

    /// The view of `view.len` elements at the start of `view`'s mapping.
    ///
    /// # Safety
    /// As for `raw_value`, for `view.len` elements.
    unsafe fn raw_slice<T, A: Access>(&self, mut view: View) -> Volatile<[T], A> {
        self.attach_owner(&mut view);
        let ptr = NonNull::slice_from_raw_parts(view.mapping.ptr().cast::<T>(), view.len);
        // SAFETY: the caller's contract; aligned as in `raw_value`.
        unsafe { Volatile::from_mapping(view.mapping, ptr, size_of::<T>() * view.len) }
    }

    /// Maps a segment or file without header as a `T` at offset 0, for
    /// volatile access (see [raw mode](crate::segment#raw-mode)). Refuses
    /// one shorter than `T` ([`TooShort`](ErrorKind::TooShort)), and one that
    /// starts with this library's header
    /// ([`TypedSegment`](ErrorKind::TypedSegment)): open those with
    /// [`open`](Self::open).
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-raw-{}", std::process::id()));
    /// std::fs::write(&path, 258u16.to_ne_bytes())?; // as a C program would
    /// let value = Segment::file(&path).open_raw::<u16>()?;
    /// assert_eq!(value.read(), 258);
    /// value.write(259);
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_raw<T: SharedSafe + bytemuck::AnyBitPattern>(&self) -> Result<Volatile<T>> {
        let bytes = self.raw_bytes::<T>(1)?;
        let shape = format!("`{}`", std::any::type_name::<T>());
        let view = self.open_raw_view(bytes, 1, true, shape)?;
        // SAFETY: `size_of::<T>()` bytes of the object are mapped writable
        // at offset 0; `T: AnyBitPattern`.
        Ok(unsafe { self.raw_value::<T, ReadWrite>(view) })
    }

    /// Maps a segment or file without header as `len` elements of `T` from
    /// offset 0, for volatile access. Refuses one shorter than `len`
    /// elements, or one with this library's header.
    ///
    /// ```
    /// use shm_runtime::{segment::Segment, ErrorKind};
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-raws-{}", std::process::id()));
    /// std::fs::write(&path, [1u8, 2, 3, 4])?;
    /// assert_eq!(Segment::file(&path).open_raw_slice::<u8>(4)?.to_vec(), [1, 2, 3, 4]);
    /// let err = Segment::file(&path).open_raw_slice::<u8>(5).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::TooShort);
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_raw_slice<T: SharedSafe + bytemuck::AnyBitPattern>(
        &self,
        len: usize,
    ) -> Result<Volatile<[T]>> {
        let bytes = self.raw_bytes::<T>(len)?;
        let shape = format!("`[{}; {len}]`", std::any::type_name::<T>());
        let view = self.open_raw_view(bytes, len, true, shape)?;
        // SAFETY: as in `open_raw`, for `len` elements.
        Ok(unsafe { self.raw_slice::<T, ReadWrite>(view) })
    }

    /// Maps a whole segment or file without header as a slice of `T`, its
    /// length taken from the object's size: for C or Python peers that do
    /// not say how many elements they wrote. A size that is not a whole
    /// number of elements is refused ([`InvalidSize`](ErrorKind::InvalidSize)):
    /// the type is probably not the one the peer wrote. So is an object with
    /// this library's header.
    ///
    /// ```
    /// use shm_runtime::{segment::Segment, ErrorKind};
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-rawall-{}", std::process::id()));
    /// std::fs::write(&path, [1u16, 2, 3].map(u16::to_ne_bytes).concat())?;
    /// assert_eq!(Segment::file(&path).open_raw_slice_all::<u16>()?.to_vec(), [1, 2, 3]);
    /// let err = Segment::file(&path).open_raw_slice_all::<u32>().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidSize);
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_raw_slice_all<T: SharedSafe + bytemuck::AnyBitPattern>(
        &self,
    ) -> Result<Volatile<[T]>> {
        let what = self.what();
        let name = std::any::type_name::<T>();
        let (object, stat) = self.open_object_until(true, Some(self.deadline()))?;
        if size_of::<T>() == 0 || stat.size % size_of::<T>() != 0 {
            return Err(Error::new(
                ErrorKind::InvalidSize,
                format!(
                    "{what} is {} bytes long, not a whole number of {}-byte `{name}`s",
                    stat.size,
                    size_of::<T>()
                ),
            ));
        }
        let len = stat.size / size_of::<T>();
        let bytes = self.raw_bytes::<T>(len)?;
        let view = self.map_raw(object, stat, bytes, len, true)?;
        // SAFETY: as in `open_raw`, for the `len` elements the object holds
        // (its size, checked by `fstat` just before mapping).
        Ok(unsafe { self.raw_slice::<T, ReadWrite>(view) })
    }

    /// Like [`open_raw`](Self::open_raw), mapped read-only: needs read
    /// permission only, and the view has no method that writes.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-rawro-{}", std::process::id()));
    /// std::fs::write(&path, 7u32.to_ne_bytes())?;
    /// assert_eq!(Segment::file(&path).open_raw_read_only::<u32>()?.read(), 7);
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_raw_read_only<T: SharedSafe + bytemuck::AnyBitPattern>(
        &self,
    ) -> Result<Volatile<T, ReadOnly>> {
        let bytes = self.raw_bytes::<T>(1)?;
        let shape = format!("`{}`", std::any::type_name::<T>());
        let view = self.open_raw_view(bytes, 1, false, shape)?;
        // SAFETY: as in `open_raw`; a `ReadOnly` view never writes to the
        // read-only mapping.
        Ok(unsafe { self.raw_value::<T, ReadOnly>(view) })
    }

    /// Like [`open_raw_slice`](Self::open_raw_slice), mapped read-only.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-rawsro-{}", std::process::id()));
    /// std::fs::write(&path, [9u8; 3])?;
    /// assert_eq!(Segment::file(&path).open_raw_slice_read_only::<u8>(3)?.to_vec(), [9, 9, 9]);
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_raw_slice_read_only<T: SharedSafe + bytemuck::AnyBitPattern>(
        &self,
        len: usize,
    ) -> Result<Volatile<[T], ReadOnly>> {
        let bytes = self.raw_bytes::<T>(len)?;
        let shape = format!("`[{}; {len}]`", std::any::type_name::<T>());
        let view = self.open_raw_view(bytes, len, false, shape)?;
        // SAFETY: as in `open_raw_read_only`, for `len` elements.
        Ok(unsafe { self.raw_slice::<T, ReadOnly>(view) })
    }

    /// Creates a segment or file without header, exclusively, holding
    /// exactly `len` elements, element `i` being `element(i)`: the layout a
    /// C, C++ or Python program expects. Where the object can be published
    /// atomically (POSIX objects and files on Linux), it gets its name only
    /// once every element is written, so those programs never see it
    /// half-written; elsewhere (System V, other platforms) they cannot tell
    /// whether it is: start them after this returns. Padding
    /// bytes are written as zeros: nothing of this process's stack lands
    /// in the object.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-rawc-{}", std::process::id()));
    /// let data = Segment::file(&path).remove_on_drop(true).create_raw_slice_from_fn(3, |i| i as u16)?;
    /// data.flush()?;
    /// assert_eq!(std::fs::read(&path)?.len(), 6);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create_raw_slice_from_fn<T: SharedSafe + bytemuck::AnyBitPattern>(
        &self,
        len: usize,
        mut element: impl FnMut(usize) -> T,
    ) -> Result<Volatile<[T]>> {
        let what = self.what();
        let bytes = self.raw_bytes::<T>(len)?;
        let super::Created { object, stat, link } = self.create_object(bytes)?;
        let remove = |e: Error| {
            let _ = self.target.remove(Some(stat.identity));
            e
        };
        let mapping = if bytes == 0 {
            // Nothing to map from an empty object: an anonymous page stands in.
            crate::map::Mapping::anonymous(1, &crate::MapOptions::new(), &what).map_err(remove)?
        } else {
            object
                .map(bytes, true, &self.map_options, &what)
                .map_err(remove)?
        };
        let first = mapping.ptr().cast::<T>();
        // Removes the name should `element` panic (a no-op while the object
        // has none yet).
        let owner = self.owner_of(stat.identity);
        for i in 0..len {
            // SAFETY: `i < len` elements fit in the writable mapping, aligned
            // (page base, offset 0). Should the object have its name already,
            // another process may have mapped it and read it at any time,
            // which is no race of this program's (it never reads the bytes
            // here). The padding is zeroed, so no byte of this process's
            // stack is copied.
            unsafe { crate::layout::write_zero_padded(first.as_ptr().add(i), element(i)) };
        }
        let view = View {
            mapping,
            offset: 0,
            len,
            identity: stat.identity,
            origin: super::Origin::Created,
        };
        let view = match link {
            // Written whole before a C or Python peer can open it by name.
            Some(link) => {
                let pending = super::Pending { view, object, link };
                self.publish(&pending)?;
                pending.view
            }
            None => view,
        };
        owner.keep();
        // SAFETY: `len` elements are mapped writable at offset 0;
        // `T: AnyBitPattern`.
        Ok(unsafe { self.raw_slice::<T, ReadWrite>(view) })
    }

    fn owner_of(&self, identity: super::Identity) -> super::SegmentOwner {
        super::SegmentOwner {
            target: self.target.clone(),
            identity: Some(identity),
            armed: true,
        }
    }
}
