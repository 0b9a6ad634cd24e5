//! [`Shared<T>`]: a typed view of memory shared between processes.

use crate::error::{Error, ErrorKind, Result};
use crate::init::{sealed, Elem, Init, Payload};
use crate::map::{page_size, too_large, MapOptions, Mapping};
use crate::SharedSafe;
use std::fmt;
use std::mem::align_of;
use std::ops::Deref;
use std::ptr::NonNull;

/// A value of type `T` (or a slice `[T]`) in memory shared between processes.
///
/// An anonymous `Shared` is inherited by the children a process forks after
/// creating it: parent and children then see the same memory.
///
/// ```
/// use shm_runtime::{process, Shared};
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// let hits = Shared::anonymous(AtomicU64::new(0))?;
/// let child = process::fork(|| {
///     hits.fetch_add(1, Ordering::SeqCst);
/// })?;
/// assert!(child.wait()?.success());
/// assert_eq!(hits.load(Ordering::SeqCst), 1);
/// # Ok::<(), shm_runtime::Error>(())
/// ```
///
/// # Access and mutation
///
/// `Shared<T>` dereferences to `&T` only. Another process may read or write
/// the same memory at any moment, so a safe `&mut T` would be undefined
/// behaviour; mutation goes through atomics and this crate's process-shared
/// locks, whose methods take `&self`. [`as_mut_ptr`](Shared::as_mut_ptr) and
/// [`get_mut_unchecked`](Shared::get_mut_unchecked) are the escape hatches,
/// with their contract spelled out.
///
/// # Lifetime of the memory
///
/// Dropping a `Shared` unmaps the memory in this process; other processes
/// keep their own mappings. `T` is never dropped: no process owns a shared
/// value, which is why [`SharedSafe`] types have no drop glue.
///
/// # Named segments and options
///
/// The constructors here make anonymous memory, shared with the children
/// forked afterwards. Named POSIX segments, files and System V segments,
/// which unrelated programs open by name, are made and opened by a
/// [`Segment`](crate::segment::Segment) builder, which returns a `Shared`
/// too; [`MapOptions`] sets prefaulting, huge pages and locking for either.
/// [`origin`](Shared::origin) tells whether this process made the value.
pub struct Shared<T: ?Sized> {
    ptr: NonNull<T>,
    origin: Origin,
    // Declared after `ptr` and never borrowed out: the memory stays mapped
    // for as long as `self` and every reference borrowed from it live.
    mapping: Mapping,
}

// SAFETY: a `Shared<T>` behaves like an owned `&'static T` to memory that
// lives as long as it: sending it or sharing it between threads hands out
// `&T` on other threads, which is sound exactly when `T: Sync`.
unsafe impl<T: ?Sized + Sync> Send for Shared<T> {}
// SAFETY: as above; `&Shared<T>` gives only `&T`.
unsafe impl<T: ?Sized + Sync> Sync for Shared<T> {}

fn check_align<T>(what: &str) -> Result<()> {
    if align_of::<T>() > page_size() {
        return Err(Error::new(
            ErrorKind::InvalidSize,
            format!(
                "mapping {what}: alignment {} exceeds the page size {}",
                align_of::<T>(),
                page_size()
            ),
        ));
    }
    Ok(())
}

impl<T: ?Sized + Payload> Shared<T> {
    /// A new anonymous shared mapping holding a `T` (or a slice) made by
    /// `init`: a value moved in, or one of the [`init`](crate::init)
    /// initializers, which build in place (see the table there).
    ///
    /// A value passes through the stack; for large types use
    /// [`init::zeroed`](crate::init::zeroed) or
    /// [`init::in_place`](crate::init::in_place).
    ///
    /// ```
    /// use shm_runtime::{init, Shared, SharedSafe};
    /// use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
    ///
    /// let flag = Shared::anonymous(AtomicU32::new(7))?;
    /// assert_eq!(flag.load(Ordering::Relaxed), 7);
    ///
    /// // 128 MiB of counters, never on the stack.
    /// let big = Shared::anonymous(init::zeroed::<[AtomicU64; 16 << 20]>())?;
    /// assert_eq!(big[(16 << 20) - 1].load(Ordering::Relaxed), 0);
    ///
    /// #[derive(SharedSafe, bytemuck::Zeroable)]
    /// #[repr(C)]
    /// struct Table { rows: [[u32; 1024]; 1024] }
    /// let table = Shared::anonymous(init::in_place(|t: &mut Table| {
    ///     for (i, row) in t.rows.iter_mut().enumerate() {
    ///         row.fill(i as u32);
    ///     }
    /// }))?;
    /// assert_eq!(table.rows[1023][5], 1023);
    ///
    /// let squares = Shared::anonymous(init::from_fn(10, |i| (i * i) as u64))?;
    /// assert_eq!(squares[9], 81);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn anonymous(init: impl Init<T>) -> Result<Shared<T>> {
        MapOptions::new().anonymous(init)
    }
}

impl<T: SharedSafe + bytemuck::NoUninit> Shared<T> {
    /// The value's bytes, e.g. to write it to a file or a socket.
    /// `NoUninit` guarantees there is no padding (uninitialized bytes) and no
    /// interior mutability.
    ///
    /// ```
    /// use shm_runtime::Shared;
    /// let x = Shared::anonymous(0x0102_0304u32)?;
    /// assert_eq!(x.as_bytes(), &0x0102_0304u32.to_ne_bytes());
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        bytemuck::bytes_of(&**self)
    }
}

impl<T: SharedSafe + bytemuck::NoUninit> Shared<[T]> {
    /// The slice's bytes; see [`Shared::as_bytes`].
    ///
    /// ```
    /// use shm_runtime::{init, Shared};
    /// let s = Shared::<[u16]>::anonymous(init::from_fn(3, |i| i as u16))?;
    /// assert_eq!(s.as_bytes().len(), 6);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        bytemuck::cast_slice(self)
    }
}

/// Evaluates `T`'s layout, and with it the assertions the derive put there
/// (fields at their `repr(C)` offsets): for a generic type they are checked
/// for each instantiation that reaches shared memory, here.
#[inline(always)]
pub(crate) fn force_layout_checks<T: SharedSafe>() {
    let _ = const { T::FINGERPRINT };
}

impl MapOptions {
    /// Like [`Shared::anonymous`], with these options.
    ///
    /// ```
    /// use shm_runtime::{init, MapOptions};
    /// let x = MapOptions::new().prefault(true).anonymous(5u32)?;
    /// assert_eq!(*x, 5);
    /// let s = MapOptions::new().anonymous(init::zeroed_slice::<u32>(3))?;
    /// assert_eq!(&*s, &[0, 0, 0]);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn anonymous<T: ?Sized + Payload>(&self, init: impl Init<T>) -> Result<Shared<T>> {
        let len = sealed::InitSealed::len(&init);
        let name = std::any::type_name::<Elem<T>>();
        let what = if <T as sealed::PayloadSealed>::SLICE {
            format!("[{name}; {len}]")
        } else {
            name.to_owned()
        };
        force_layout_checks::<Elem<T>>();
        check_align::<Elem<T>>(&what)?;
        let bytes =
            crate::init::payload_bytes::<T>(len).ok_or_else(|| too_large(usize::MAX, &what))?;
        let mapping = Mapping::anonymous(bytes, self, &what)?;
        let first = mapping.ptr().cast::<Elem<T>>();
        // SAFETY: the mapping is fresh, zero-filled, writable and at least
        // `len` elements long, page-aligned (and the alignment is at most a
        // page, checked); no other process or reference can reach it before
        // this returns (`in_place` refuses forks while it runs). Should
        // `init` panic, `mapping` is unmapped and no element needs drop.
        unsafe { sealed::InitSealed::write(init, first) };
        let ptr = <T as sealed::PayloadSealed>::from_parts(first, len);
        // SAFETY: `ptr` covers the `len` valid elements `init` wrote (or
        // the zero bytes it left, valid for its `ZeroInit` types), inside
        // `mapping`.
        Ok(unsafe { Shared::from_mapping(mapping, ptr) })
    }
}

impl<T: ?Sized> Shared<T> {
    /// Wraps a mapping holding a valid `T` at `ptr`.
    ///
    /// # Safety
    /// `ptr` points inside `mapping`, is aligned, and the memory it covers
    /// holds a valid `T` (`T: SharedSafe`, or `[U]` with `U: SharedSafe`)
    /// that is only ever mutated through `&T`-safe means.
    pub(crate) unsafe fn from_mapping(mapping: Mapping, ptr: NonNull<T>) -> Shared<T> {
        Shared {
            ptr,
            origin: Origin::Created,
            mapping,
        }
    }

    /// Records how this process came by the view.
    pub(crate) fn with_origin(mut self, origin: Origin) -> Shared<T> {
        self.origin = origin;
        self
    }

    /// How this process came by this view: it created the value
    /// ([`Created`](crate::segment::Origin::Created): anonymous memory, or a
    /// segment's `create`, and `open_or_create` in the process that made
    /// it), took a dead creator's segment over
    /// ([`Reclaimed`](crate::segment::Origin::Reclaimed)), or opened what
    /// another made ([`Opened`](crate::segment::Origin::Opened)).
    ///
    /// ```
    /// use shm_runtime::segment::{Origin, Segment};
    /// let segment = Segment::posix(format!("/shm-runtime-doc-sorigin-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let table = segment.open_or_create([0u32; 8])?;
    /// if table.origin().is_new() {
    ///     // seed it: only the process that made it gets here
    /// }
    /// assert_eq!(segment.open::<[u32; 8]>()?.origin(), Origin::Opened);
    /// # drop(table);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn origin(&self) -> Origin {
        self.origin
    }

    /// A raw pointer to the shared value, for interop with foreign code.
    ///
    /// Writing through it is sound only where no `&T` of this or any other
    /// process covers the bytes written, or through an `UnsafeCell` inside
    /// `T` (atomics, this crate's locks).
    /// A view opened read-only is mapped `PROT_READ`: a write through it
    /// raises `SIGSEGV`.
    ///
    /// ```
    /// use shm_runtime::Shared;
    /// let x = Shared::anonymous(3u64)?;
    /// assert_eq!(unsafe { *x.as_mut_ptr() }, 3);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn as_mut_ptr(&self) -> *mut T {
        self.ptr.as_ptr()
    }

    /// A mutable reference to the shared value, with no check.
    ///
    /// # Safety
    /// For as long as the returned reference lives, no other process (nor any
    /// other `Shared` or pointer in this one) may read or write the value.
    /// That holds, for example, before the first `fork` that shares it, or
    /// while a process-shared lock that all users take is held. The view must
    /// be writable: writing through a view opened read-only (`open_*_read_only`)
    /// raises `SIGSEGV`.
    ///
    /// ```
    /// use shm_runtime::Shared;
    /// let mut x = Shared::anonymous([0u8; 4])?;
    /// // SAFETY: no other process has this mapping yet.
    /// unsafe { x.get_mut_unchecked()[2] = 1 };
    /// assert_eq!(*x, [0, 0, 1, 0]);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub unsafe fn get_mut_unchecked(&mut self) -> &mut T {
        // SAFETY: valid and aligned (constructor); exclusivity is the
        // caller's promise, and `&mut self` excludes this handle's `&T`s.
        unsafe { self.ptr.as_mut() }
    }

    /// Writes the modified pages of a file-backed view back to its file and
    /// waits until they are written (`msync(MS_SYNC)`): after it returns,
    /// the data survives a crash of the machine. For memory not backed by a
    /// file (anonymous, POSIX shared memory on tmpfs is, System V) it does
    /// what `msync` does there, which is little or nothing.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-flush-{}", std::process::id()));
    /// let log = Segment::file(&path).remove_on_drop(true).create([0u8; 64])?;
    /// log.flush()?;
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn flush(&self) -> Result<()> {
        self.mapping.flush(true, std::any::type_name::<T>())
    }

    /// Whether another process truncated the segment's object under this
    /// view. Its lost pages were then replaced by private zero pages (see
    /// [`crate::sigbus`]): plain reads of them return zeros, writes stay in
    /// this process, and [`flush`](Self::flush) fails with
    /// [`Truncated`](crate::ErrorKind::Truncated). Always false for
    /// anonymous mappings and System V segments, which cannot shrink.
    ///
    /// ```
    /// let x = shm_runtime::Shared::anonymous(1u8)?;
    /// assert!(!x.is_truncated());
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn is_truncated(&self) -> bool {
        self.mapping.truncated()
    }

    /// Schedules the write-back of modified pages to the file
    /// (`msync(MS_ASYNC)`) without waiting for it.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-flusha-{}", std::process::id()));
    /// let log = Segment::file(&path).remove_on_drop(true).create([0u8; 64])?;
    /// log.flush_async()?;
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn flush_async(&self) -> Result<()> {
        self.mapping.flush(false, std::any::type_name::<T>())
    }

    /// The number of bytes mapped for this value (whole pages).
    ///
    /// ```
    /// use shm_runtime::{page_size, Shared};
    /// let x = Shared::anonymous(1u8)?;
    /// assert_eq!(x.mapped_len(), page_size());
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn mapped_len(&self) -> usize {
        self.mapping.len()
    }
}

impl<T: ?Sized> Deref for Shared<T> {
    type Target = T;

    fn deref(&self) -> &T {
        // SAFETY: the constructors guarantee a valid, aligned value that
        // lives as long as `self` (the mapping is unmapped only on drop), and
        // it is mutated only through `&T`-safe means (the `SharedSafe` rules).
        unsafe { self.ptr.as_ref() }
    }
}

impl<T: ?Sized + fmt::Debug> fmt::Debug for Shared<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("Shared").field(&&**self).finish()
    }
}

/// How this process came by a segment's view: which of
/// [`open_or_create`](crate::segment::Segment::open_or_create)'s paths it took, as
/// [`Shared::origin`] tells it (so that a program seeds data only in the
/// process that made the segment).
///
/// ```
/// use shm_runtime::segment::{Origin, Segment};
/// let segment = Segment::posix(format!("/shm-runtime-doc-origin-{}", std::process::id()))
///     .remove_on_drop(true);
/// let first = segment.open_or_create(0u64)?;
/// let second = segment.open_or_create(0u64)?;
/// assert_eq!((first.origin(), second.origin()), (Origin::Created, Origin::Opened));
/// assert!(first.origin().is_new() && !second.origin().is_new());
/// # Ok::<(), shm_runtime::Error>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Origin {
    /// This process created the segment (or the anonymous mapping): the
    /// value is the one it gave.
    Created,
    /// This process took the segment over and initialized it anew: from a
    /// creator that died while initializing it, or, with
    /// [`replace_stale`](crate::segment::Segment::replace_stale), by replacing a stale
    /// segment whose creator died (see
    /// [restarts](crate::segment#restarting-after-a-crash)). The value is the one it
    /// gave, as for `Created`.
    Reclaimed,
    /// This process opened a segment that another process (or an earlier
    /// call) made: the value is whatever that one wrote.
    Opened,
}

impl Origin {
    /// Whether this process initialized the value (`Created` or
    /// `Reclaimed`): the time to seed it.
    ///
    /// ```
    /// use shm_runtime::segment::Origin;
    /// assert!(Origin::Reclaimed.is_new());
    /// assert!(!Origin::Opened.is_new());
    /// ```
    pub fn is_new(self) -> bool {
        self != Origin::Opened
    }
}
