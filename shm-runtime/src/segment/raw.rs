//! Raw mode: segments and files without a header, made by (or for) C, C++
//! or Python programs.
//!
//! See the [`segment`](crate::segment#raw-mode) documentation.

use super::object::Object;
use super::{Segment, View};
use crate::error::{Error, ErrorKind, Result};
use crate::map::page_size;
use crate::{Shared, SharedSafe};
use std::mem::{align_of, size_of};

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

    /// Opens the object and maps its first `bytes` bytes, refusing a shorter one.
    fn open_raw_view(
        &self,
        bytes: usize,
        len: usize,
        writable: bool,
        shape: String,
    ) -> Result<View> {
        let what = self.what();
        let (object, stat) = self.open_object(writable)?;
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
        let mapping = object.map(bytes, writable, &self.map_options, &what)?;
        Ok(View {
            mapping,
            offset: 0,
            len,
            identity: stat.identity,
            created: false,
        })
    }

    /// Maps a segment or file without header as a `T` at offset 0 (see the
    /// [raw mode hazards](crate::segment#raw-mode)). Refuses one shorter than `T`.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-raw-{}", std::process::id()));
    /// std::fs::write(&path, 258u16.to_ne_bytes())?; // as a C program would
    /// let value = Segment::file(&path).open_raw::<u16>()?;
    /// assert_eq!(*value, 258);
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_raw<T: SharedSafe + bytemuck::AnyBitPattern>(&self) -> Result<Shared<T>> {
        let bytes = self.raw_bytes::<T>(1)?;
        let shape = format!("`{}`", std::any::type_name::<T>());
        let view = self.open_raw_view(bytes, 1, true, shape)?;
        // SAFETY: the object holds at least `size_of::<T>()` bytes at the
        // page-aligned offset 0, any bytes are a valid `T`
        // (`AnyBitPattern`), and `&T` cannot write (no interior mutability).
        Ok(unsafe { self.value_view(view) })
    }

    /// Maps a segment or file without header as `len` elements of `T` from
    /// offset 0. Refuses one shorter than `len` elements.
    ///
    /// ```
    /// use shm_runtime::{segment::Segment, ErrorKind};
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-raws-{}", std::process::id()));
    /// std::fs::write(&path, [1u8, 2, 3, 4])?;
    /// assert_eq!(&*Segment::file(&path).open_raw_slice::<u8>(4)?, &[1, 2, 3, 4]);
    /// let err = Segment::file(&path).open_raw_slice::<u8>(5).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::TooShort);
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_raw_slice<T: SharedSafe + bytemuck::AnyBitPattern>(
        &self,
        len: usize,
    ) -> Result<Shared<[T]>> {
        let bytes = self.raw_bytes::<T>(len)?;
        let shape = format!("`[{}; {len}]`", std::any::type_name::<T>());
        let view = self.open_raw_view(bytes, len, true, shape)?;
        // SAFETY: as in `open_raw`, for `len` elements.
        Ok(unsafe { self.slice_view(view) })
    }

    /// Maps a whole segment or file without header as a slice of `T`, its
    /// length taken from the object's size: for C or Python peers that do
    /// not say how many elements they wrote. A size that is not a whole
    /// number of elements is refused ([`InvalidSize`](ErrorKind::InvalidSize)):
    /// the type is probably not the one the peer wrote.
    ///
    /// ```
    /// use shm_runtime::{segment::Segment, ErrorKind};
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-rawall-{}", std::process::id()));
    /// std::fs::write(&path, [1u16, 2, 3].map(u16::to_ne_bytes).concat())?;
    /// assert_eq!(&*Segment::file(&path).open_raw_slice_all::<u16>()?, &[1, 2, 3]);
    /// let err = Segment::file(&path).open_raw_slice_all::<u32>().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidSize);
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_raw_slice_all<T: SharedSafe + bytemuck::AnyBitPattern>(
        &self,
    ) -> Result<Shared<[T]>> {
        let what = self.what();
        let name = std::any::type_name::<T>();
        let (object, stat) = self.open_object(true)?;
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
        let mapping = object.map(bytes, true, &self.map_options, &what)?;
        let view = View {
            mapping,
            offset: 0,
            len,
            identity: stat.identity,
            created: false,
        };
        // SAFETY: as in `open_raw`, for the `len` elements the object holds
        // (its size, checked by `fstat` just before mapping).
        Ok(unsafe { self.slice_view(view) })
    }

    /// Like [`open_raw`](Self::open_raw), mapped read-only: needs read
    /// permission only.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-rawro-{}", std::process::id()));
    /// std::fs::write(&path, 7u32.to_ne_bytes())?;
    /// assert_eq!(*Segment::file(&path).open_raw_read_only::<u32>()?, 7);
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_raw_read_only<T: SharedSafe + bytemuck::AnyBitPattern>(&self) -> Result<Shared<T>> {
        let bytes = self.raw_bytes::<T>(1)?;
        let shape = format!("`{}`", std::any::type_name::<T>());
        let view = self.open_raw_view(bytes, 1, false, shape)?;
        // SAFETY: as in `open_raw`; `&T` never writes, so the read-only
        // mapping is never written to.
        Ok(unsafe { self.value_view(view) })
    }

    /// Like [`open_raw_slice`](Self::open_raw_slice), mapped read-only.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-rawsro-{}", std::process::id()));
    /// std::fs::write(&path, [9u8; 3])?;
    /// assert_eq!(&*Segment::file(&path).open_raw_slice_read_only::<u8>(3)?, &[9, 9, 9]);
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open_raw_slice_read_only<T: SharedSafe + bytemuck::AnyBitPattern>(
        &self,
        len: usize,
    ) -> Result<Shared<[T]>> {
        let bytes = self.raw_bytes::<T>(len)?;
        let shape = format!("`[{}; {len}]`", std::any::type_name::<T>());
        let view = self.open_raw_view(bytes, len, false, shape)?;
        // SAFETY: as in `open_raw_read_only`, for `len` elements.
        Ok(unsafe { self.slice_view(view) })
    }

    /// Creates a segment or file without header, exclusively, holding
    /// exactly `len` elements, element `i` being `element(i)`: the layout a
    /// C, C++ or Python program expects. Those programs cannot tell whether
    /// it is fully written yet: start them after this returns.
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
    ) -> Result<Shared<[T]>> {
        let what = self.what();
        let bytes = self.raw_bytes::<T>(len)?;
        let (object, stat) = self.create_object(bytes)?;
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
        drop::<Object>(object);
        let first = mapping.ptr().cast::<T>();
        // Removes the name should `element` panic.
        let owner = self.owner_of(stat.identity);
        for i in 0..len {
            // SAFETY: `i < len` elements fit in the mapping, aligned (page
            // base, offset 0); no reference to them exists yet.
            unsafe { first.as_ptr().add(i).write(element(i)) };
        }
        owner.keep();
        let view = View {
            mapping,
            offset: 0,
            len,
            identity: stat.identity,
            created: true,
        };
        // SAFETY: all `len` elements were written; `&T` cannot write.
        Ok(unsafe { self.slice_view::<T>(view) })
    }

    fn owner_of(&self, identity: super::Identity) -> super::SegmentOwner {
        super::SegmentOwner {
            target: self.target.clone(),
            identity: Some(identity),
            armed: true,
        }
    }
}
