//! [`Volatile<T, A>`]: the view itself, what every view offers (its
//! address, length, flush and accesses by byte offset), and the accesses of
//! a view of one value (`read`, `write` and its fields).

use super::access::{Access, AccessError, ReadOnly, ReadWrite};
use super::atomic::{AtomicInteger, ReadOnlyAtomic};
use super::field::{field_ptr, Field};
use crate::error::Result;
use crate::map::Mapping;
use bytemuck::{AnyBitPattern, NoUninit};
use core::fmt;
use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::ptr::NonNull;

/// A view of a `T`, or of a slice `[T]`, in memory that a foreign program
/// may write at any time: the raw-mode counterpart of
/// [`Shared<T>`](crate::Shared). See the
/// [module documentation](crate::volatile) for why it hands out no
/// references and what its accesses guarantee.
///
/// `A` is [`ReadWrite`] or [`ReadOnly`]; a read-only view has no method that
/// writes. The view owns its mapping, exactly as a `Shared` does: dropping
/// it unmaps the memory in this process (and, for a view that created its
/// segment with [`remove_on_drop`](crate::Segment::remove_on_drop), removes
/// the name).
///
/// ```
/// use shm_runtime::{init, segment::Segment};
/// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vol-{}", std::process::id()));
/// let ages = Segment::file(&path)
///     .remove_on_drop(true)
///     .raw().create(init::from_fn(3, |i| 20 + i as i32))?;
/// ages.set(0, 41)?;
/// assert_eq!(ages.get(0), Some(41));
/// assert_eq!(ages.get(3), None);
/// assert_eq!(ages.to_vec(), [41, 21, 22]);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Volatile<T: ?Sized, A: Access = ReadWrite> {
    pub(super) ptr: NonNull<T>,
    /// `size_of_val(*ptr)`.
    bytes: usize,
    // Never borrowed out: the memory stays mapped for as long as `self` and
    // every `&At` borrowed from it live.
    mapping: Mapping,
    _access: PhantomData<A>,
}

// SAFETY: the view hands out copies of `T` (so `T: Send` to move them
// between threads) and `&At` of integer atomics (`Sync`); its mapping may be
// used and unmapped from any thread. `T: Sync` covers the `unsafe` `as_ref`.
unsafe impl<T: ?Sized + Send + Sync, A: Access> Send for Volatile<T, A> {}
// SAFETY: as above; every access through `&Volatile` is a volatile copy or
// an atomic operation, which several threads may perform at once (a
// concurrent copy may tear, which `T: AnyBitPattern` makes harmless).
unsafe impl<T: ?Sized + Send + Sync, A: Access> Sync for Volatile<T, A> {}

impl<T: ?Sized, A: Access> Volatile<T, A> {
    /// Wraps `bytes` mapped bytes at `ptr`.
    ///
    /// # Safety
    /// `ptr` points into `mapping`, aligned for `T`, and the `bytes ==
    /// size_of_val(ptr)` bytes from it are mapped (readable, and writable
    /// when `A` is [`ReadWrite`]) and exist in the object (it was `fstat`ed
    /// at least that long). `T` is `AnyBitPattern`, or `[U]` with `U:
    /// AnyBitPattern`.
    pub(crate) unsafe fn from_mapping(mapping: Mapping, ptr: NonNull<T>, bytes: usize) -> Self {
        Volatile {
            ptr,
            bytes,
            mapping,
            _access: PhantomData,
        }
    }

    /// The address of the mapped value (of the first element, for a slice),
    /// for foreign functions. Reading or writing through it is the caller's
    /// business: volatile accesses, or atomics where the peer uses atomics.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-asptr-{}", std::process::id()));
    /// std::fs::write(&path, 3u64.to_ne_bytes())?;
    /// let value = Segment::file(&path).raw().read_only().open::<u64>()?;
    /// // SAFETY: the pointer is valid and aligned while `value` lives.
    /// assert_eq!(unsafe { value.as_ptr().read_volatile() }, 3);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_ptr(&self) -> *const T {
        self.ptr.as_ptr()
    }

    /// A shared reference to the mapped bytes, for code that needs `&T` or
    /// `&[T]` (a parser, a hash) over data that does not change.
    ///
    /// # Safety
    /// For as long as the returned reference lives, nobody writes the bytes
    /// it covers: no other process (the foreign program included), no other
    /// view or pointer of this process, and no write or atomic operation
    /// through this view. That holds for an immutable data file that every
    /// program maps read-only, or while a protocol the programs share (a
    /// lock, a "frozen" flag) excludes writers.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-asref-{}", std::process::id()));
    /// std::fs::write(&path, [1u8, 2, 3])?; // a data file nobody changes
    /// let table = Segment::file(&path).raw().read_only().len(3).open::<[u8]>()?;
    /// // SAFETY: the file is written once, before this program starts.
    /// let bytes: &[u8] = unsafe { table.as_ref() };
    /// assert_eq!(bytes.iter().sum::<u8>(), 6);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub unsafe fn as_ref(&self) -> &T {
        // SAFETY: valid, aligned and mapped for as long as `self` (the
        // constructor's contract); any bytes are a valid `T` (it accepts
        // every bit pattern); nobody writes them while the reference lives
        // (the caller's promise).
        unsafe { self.ptr.as_ref() }
    }

    /// The number of bytes the view covers: `size_of::<T>()`, or the
    /// slice's length times the element size.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-bytelen-{}", std::process::id()));
    /// std::fs::write(&path, [0u8; 12])?;
    /// assert_eq!(Segment::file(&path).raw().len(3).open::<[u32]>()?.byte_len(), 12);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn byte_len(&self) -> usize {
        self.bytes
    }

    /// The number of bytes mapped for this view: at least
    /// [`byte_len`](Self::byte_len) (the system maps whole pages).
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vmapped-{}", std::process::id()));
    /// std::fs::write(&path, [0u8; 12])?;
    /// let view = Segment::file(&path).raw().open::<[u8; 12]>()?;
    /// assert!(view.mapped_len() >= view.byte_len());
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn mapped_len(&self) -> usize {
        self.mapping.len()
    }

    /// Writes the modified pages of a file-backed view back to its file and
    /// waits for the write (`msync(MS_SYNC)`), as
    /// [`Shared::flush`](crate::Shared::flush) does.
    ///
    /// ```
    /// use shm_runtime::{init, segment::Segment};
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vflush-{}", std::process::id()));
    /// let data = Segment::file(&path)
    ///     .remove_on_drop(true)
    ///     .raw().create(init::from_fn(4, |i| i as u8))?;
    /// data.flush()?;
    /// assert_eq!(std::fs::read(&path)?, [0, 1, 2, 3]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush(&self) -> Result<()> {
        self.mapping.flush(true, std::any::type_name::<T>())
    }

    /// Schedules the write-back of modified pages to the file
    /// (`msync(MS_ASYNC)`) without waiting for it.
    ///
    /// ```
    /// use shm_runtime::{init, segment::Segment};
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vflusha-{}", std::process::id()));
    /// let data = Segment::file(&path)
    ///     .remove_on_drop(true)
    ///     .raw().create(init::from_fn(4, |i| i as u8))?;
    /// data.flush_async()?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn flush_async(&self) -> Result<()> {
        self.mapping.flush(false, std::any::type_name::<T>())
    }

    /// The address of `size_of::<F>()` bytes at byte `offset`, checked to lie
    /// within the view and to be aligned for `F`.
    fn at<F>(&self, offset: usize) -> core::result::Result<NonNull<F>, AccessError> {
        let size = size_of::<F>();
        if offset.checked_add(size).is_none_or(|end| end > self.bytes) {
            return Err(AccessError::OutOfBounds {
                offset,
                size,
                len: self.bytes,
            });
        }
        // SAFETY: `offset <= bytes`: inside the view, or one past its end.
        let at = unsafe { self.ptr.cast::<u8>().add(offset) }.cast::<F>();
        if !at.as_ptr().is_aligned() {
            return Err(AccessError::Misaligned {
                offset,
                align: align_of::<F>(),
            });
        }
        Ok(at)
    }

    /// A volatile copy of the `F` at byte `offset`: for fields known by
    /// offset only, or for reading a slice view's bytes as another type.
    /// Refused ([`AccessError`]) when out of bounds or misaligned.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-readat-{}", std::process::id()));
    /// std::fs::write(&path, [1u32, 2, 3, 4].map(u32::to_ne_bytes).concat())?;
    /// let words = Segment::file(&path).raw().read_only().len(4).open::<[u32]>()?;
    /// assert_eq!(words.read_at::<u32>(8)?, 3);
    /// assert!(words.read_at::<u32>(14).is_err());
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_at<F: AnyBitPattern>(&self, offset: usize) -> core::result::Result<F, AccessError> {
        let at = self.at::<F>(offset)?;
        // SAFETY: in bounds and aligned (checked), mapped while `self`
        // lives; any bytes are a valid `F`; a volatile copy creates no
        // reference to bytes the peer may write.
        Ok(unsafe { at.as_ptr().read_volatile() })
    }

    pub(super) fn check_atomic<At: AtomicInteger>(
        &self,
        offset: usize,
    ) -> core::result::Result<&At, AccessError> {
        let at = self.at::<At>(offset)?;
        // SAFETY: in bounds and aligned for `At` (checked), mapped while
        // `self` (which the reference borrows) lives; any bytes are a valid
        // integer; an atomic lives in an `UnsafeCell`, so other processes
        // and views may change it while the reference lives.
        Ok(unsafe { at.as_ref() })
    }
}

impl<T: ?Sized> Volatile<T, ReadWrite> {
    /// The address of the mapped value (of the first element, for a
    /// slice), writable, for foreign functions. See
    /// [`as_ptr`](Self::as_ptr).
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-asmut-{}", std::process::id()));
    /// std::fs::write(&path, [0u8; 4])?;
    /// let value = Segment::file(&path).raw().open::<u32>()?;
    /// // SAFETY: valid and aligned while `value` lives, mapped writable.
    /// unsafe { value.as_mut_ptr().write_volatile(9) };
    /// assert_eq!(value.read(), 9);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn as_mut_ptr(&self) -> *mut T {
        self.ptr.as_ptr()
    }

    /// A volatile copy of `value` into the `F` at byte `offset`. Refused
    /// ([`AccessError`]) when out of bounds or misaligned.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-writeat-{}", std::process::id()));
    /// std::fs::write(&path, [0u8; 8])?;
    /// let bytes = Segment::file(&path).raw().len(8).open::<[u8]>()?;
    /// bytes.write_at(4, 0x0101_0101u32)?;
    /// assert_eq!(bytes.to_vec(), [0, 0, 0, 0, 1, 1, 1, 1]);
    /// assert!(bytes.write_at(6, 0u32).is_err());
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_at<F: NoUninit>(
        &self,
        offset: usize,
        value: F,
    ) -> core::result::Result<(), AccessError> {
        let at = self.at::<F>(offset)?;
        // SAFETY: in bounds and aligned (checked), mapped writable while
        // `self` lives; a volatile store creates no reference, and every
        // byte it stores is a byte of `value` (`NoUninit`).
        unsafe { at.as_ptr().write_volatile(value) };
        Ok(())
    }

    /// The integer atomic at byte `offset`: for a C `_Atomic` field known by
    /// offset. Refused ([`AccessError`]) when out of bounds or misaligned.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-atomicat-{}", std::process::id()));
    /// std::fs::write(&path, [0u8; 16])?;
    /// let block = Segment::file(&path).raw().open::<[u64; 2]>()?;
    /// block.atomic_at::<AtomicU64>(8)?.fetch_add(3, Ordering::Relaxed);
    /// assert_eq!(block.read(), [0, 3]);
    /// assert!(block.atomic_at::<AtomicU64>(4).is_err()); // misaligned
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn atomic_at<At: AtomicInteger>(
        &self,
        offset: usize,
    ) -> core::result::Result<&At, AccessError> {
        self.check_atomic(offset)
    }
}

impl<T: ?Sized> Volatile<T, ReadOnly> {
    /// The integer atomic at byte `offset`, which can only be loaded.
    /// Refused ([`AccessError`]) when out of bounds, misaligned, or wider
    /// than this target can load from read-only memory.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// use std::sync::atomic::AtomicU32;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-roat-{}", std::process::id()));
    /// std::fs::write(&path, [0u32, 6].map(u32::to_ne_bytes).concat())?;
    /// let pair = Segment::file(&path).raw().read_only().open::<[u32; 2]>()?;
    /// assert_eq!(pair.atomic_at::<AtomicU32>(4)?.load(), 6);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn atomic_at<At: AtomicInteger>(
        &self,
        offset: usize,
    ) -> core::result::Result<ReadOnlyAtomic<'_, At>, AccessError> {
        ReadOnlyAtomic::new(self.check_atomic(offset)?)
    }
}

impl<T: AnyBitPattern, A: Access> Volatile<T, A> {
    /// A volatile copy of the whole value. Not atomic when `T` is larger
    /// than a machine word: see [torn values](crate::volatile#torn-values).
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-read-{}", std::process::id()));
    /// std::fs::write(&path, 258u16.to_ne_bytes())?; // as a C program would
    /// let value = Segment::file(&path).raw().open::<u16>()?;
    /// assert_eq!(value.read(), 258);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read(&self) -> T {
        // SAFETY: valid for reads, aligned, mapped while `self` lives (the
        // constructor's contract); any bytes are a valid `T`; a volatile copy
        // creates no reference to bytes the peer may write.
        unsafe { self.ptr.as_ptr().read_volatile() }
    }

    /// A volatile copy of one field, named with [`field!`](crate::field!).
    ///
    /// ```
    /// use shm_runtime::{field, segment::Segment};
    /// #[derive(shm_runtime::SharedSafe, Clone, Copy, bytemuck::AnyBitPattern)]
    /// #[repr(C)]
    /// struct Header { magic: u32, count: u32 }
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-rfield-{}", std::process::id()));
    /// std::fs::write(&path, [0xfeedu32, 12].map(u32::to_ne_bytes).concat())?;
    /// let header = Segment::file(&path).raw().read_only().open::<Header>()?;
    /// assert_eq!(header.read_field(field!(Header, count)), 12);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_field<F: AnyBitPattern>(&self, field: Field<T, F>) -> F {
        // SAFETY: `field` lies within `T` and is aligned in every aligned
        // `T` (its invariant), so within the mapped, aligned value; any
        // bytes are a valid `F`; a volatile copy creates no reference.
        unsafe { field_ptr(self.ptr, field).as_ptr().read_volatile() }
    }
}

impl<T: AnyBitPattern> Volatile<T, ReadWrite> {
    /// A volatile copy of `value` over the whole value. Not atomic when `T`
    /// is larger than a machine word: a peer may see it half written.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-write-{}", std::process::id()));
    /// std::fs::write(&path, [0u8; 8])?;
    /// let value = Segment::file(&path).raw().open::<[u16; 4]>()?;
    /// value.write([1, 2, 3, 4]);
    /// assert_eq!(value.read(), [1, 2, 3, 4]);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write(&self, value: T)
    where
        T: NoUninit,
    {
        // SAFETY: valid for writes (a `ReadWrite` view is mapped writable),
        // aligned, mapped while `self` lives; a volatile store creates no
        // reference, and every byte stored is a byte of `value`.
        unsafe { self.ptr.as_ptr().write_volatile(value) }
    }

    /// A volatile copy of `value` into one field, named with
    /// [`field!`](crate::field!).
    ///
    /// ```
    /// use shm_runtime::{field, segment::Segment};
    /// #[derive(shm_runtime::SharedSafe, Clone, Copy, bytemuck::AnyBitPattern)]
    /// #[repr(C)]
    /// struct Header { magic: u32, count: u32 }
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-wfield-{}", std::process::id()));
    /// std::fs::write(&path, [0u8; 8])?;
    /// let header = Segment::file(&path).raw().open::<Header>()?;
    /// header.write_field(field!(Header, count), 3);
    /// assert_eq!(header.read().count, 3);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_field<F: NoUninit>(&self, field: Field<T, F>, value: F) {
        // SAFETY: as in `read_field`, in a writable mapping; every byte
        // stored is a byte of `value`.
        unsafe { field_ptr(self.ptr, field).as_ptr().write_volatile(value) }
    }

    /// The integer atomic that a field (an integer of the atomic's size,
    /// named with [`field!`](crate::field!)) holds: a C `_Atomic uint64_t`
    /// member. Refused ([`AccessError::Misaligned`]) only where the atomic
    /// needs more alignment than the integer (`u64` on 32-bit x86).
    ///
    /// ```
    /// use shm_runtime::{field, segment::Segment};
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// #[derive(shm_runtime::SharedSafe, Clone, Copy, bytemuck::AnyBitPattern)]
    /// #[repr(C)]
    /// struct Board { jobs: u32, done: u32 }
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-afield-{}", std::process::id()));
    /// std::fs::write(&path, [0u8; 8])?;
    /// let board = Segment::file(&path).raw().open::<Board>()?;
    /// let done = board.atomic_field::<AtomicU32>(field!(Board, done))?;
    /// done.fetch_add(1, Ordering::AcqRel);
    /// assert_eq!(board.read().done, 1);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn atomic_field<At: AtomicInteger>(
        &self,
        field: Field<T, At::Value>,
    ) -> core::result::Result<&At, AccessError> {
        self.check_atomic(field.offset)
    }
}

impl<T: AnyBitPattern> Volatile<T, ReadOnly> {
    /// The integer atomic that a field holds, which can only be loaded; see
    /// the writable view's [`atomic_field`](Volatile::atomic_field).
    ///
    /// ```
    /// use shm_runtime::{field, segment::Segment};
    /// use std::sync::atomic::AtomicU32;
    /// #[derive(shm_runtime::SharedSafe, Clone, Copy, bytemuck::AnyBitPattern)]
    /// #[repr(C)]
    /// struct Board { jobs: u32, done: u32 }
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-roafield-{}", std::process::id()));
    /// std::fs::write(&path, [4u32, 2].map(u32::to_ne_bytes).concat())?;
    /// let board = Segment::file(&path).raw().read_only().open::<Board>()?;
    /// assert_eq!(board.atomic_field::<AtomicU32>(field!(Board, done))?.load(), 2);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn atomic_field<At: AtomicInteger>(
        &self,
        field: Field<T, At::Value>,
    ) -> core::result::Result<ReadOnlyAtomic<'_, At>, AccessError> {
        ReadOnlyAtomic::new(self.check_atomic(field.offset)?)
    }
}

impl<T: ?Sized, A: Access> fmt::Debug for Volatile<T, A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Volatile")
            .field("type", &std::any::type_name::<T>())
            .field("bytes", &self.bytes)
            .field("writable", &A::WRITABLE)
            .finish_non_exhaustive()
    }
}
