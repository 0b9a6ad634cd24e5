//! [`Volatile<T>`]: views of memory that a foreign program writes, accessed
//! only by volatile copies and atomics, never through a Rust reference.
//!
//! Raw mode ([`Segment::raw`](crate::Segment::raw) and its `open`)
//! maps segments and files made by C, C++ or Python programs. Those programs
//! write whenever they like, outside any protocol of this library. A `&T`
//! to such bytes would be a promise to the compiler that they do not change
//! while it lives, and the compiler acts on it: a release build hoists the
//! load out of a spin loop and never sees the peer's store, or reads a
//! `&str` whose bytes the peer then turns into invalid UTF-8. So, the way
//! rust-vmm's `vm-memory` and crosvm access guest memory, a [`Volatile`]
//! view hands out no `&T` or `&mut T` from safe code; instead it offers
//!
//! * volatile copies out and in of the whole value ([`read`](Volatile::read),
//!   [`write`](Volatile::write)), of one element of a slice
//!   ([`get`](Volatile::get), [`set`](Volatile::set)), of many elements
//!   ([`read_slice`](Volatile::read_slice),
//!   [`write_slice`](Volatile::write_slice), [`iter`](Volatile::iter),
//!   [`to_vec`](Volatile::to_vec)), of a field named with [`field!`]
//!   ([`read_field`](Volatile::read_field)) or of any value at a byte
//!   offset ([`read_at`](Volatile::read_at)), every one bounds- and
//!   alignment-checked;
//! * atomics where both sides use atomics: a C `_Atomic uint64_t` counter is
//!   an `&AtomicU64` ([`atomic_at`](Volatile::atomic_at),
//!   [`atomic_field`](Volatile::atomic_field),
//!   [`atomic`](Volatile::atomic)), without `unsafe`;
//! * [`as_ptr`](Volatile::as_ptr) for foreign functions, and an `unsafe`
//!   [`as_ref`](Volatile::as_ref) for callers who guarantee that nobody
//!   writes the bytes while the reference lives (an immutable data file).
//!
//! [`field!`]: crate::field!
//!
//! ```
//! use shm_runtime::segment::Segment;
//! use std::sync::atomic::{AtomicU64, Ordering};
//!
//! // What a C program shares: `struct { _Atomic uint64_t hits; double load; }`.
//! #[derive(shm_runtime::SharedSafe, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
//! #[repr(C)]
//! struct Stats {
//!     hits: u64,
//!     load: f64,
//! }
//!
//! let path = std::env::temp_dir().join(format!("shm-runtime-doc-volatile-{}", std::process::id()));
//! std::fs::write(&path, [0u8; 16])?; // as the C program would
//! let stats = Segment::file(&path).raw().open::<Stats>()?;
//! stats.atomic_field::<AtomicU64>(shm_runtime::field!(Stats, hits))?
//!     .fetch_add(1, Ordering::Relaxed);
//! stats.write_field(shm_runtime::field!(Stats, load), 0.5);
//! let copy = stats.read(); // a copy: the peer may change the bytes next
//! assert_eq!((copy.hits, copy.load), (1, 0.5));
//! std::fs::remove_file(&path)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Torn values
//!
//! A volatile read of a `T` larger than a machine word (or of a slice, or of
//! a word the peer writes with several stores) is not atomic: it may copy
//! half of an old value and half of a new one. That is why every type read
//! from a raw view must accept any bit pattern (`T: bytemuck::AnyBitPattern`):
//! whatever bytes the copy ends up with are a valid `T`, never undefined
//! behaviour. Agreeing on *when* a value is complete (a sequence counter, a
//! flag written last with release order, a semaphore) is the protocol
//! between the programs, which this view does not know. Writes require
//! `T: bytemuck::NoUninit` as well: every byte copied into the shared memory
//! is a byte of the value, and no padding carries this process's stack to
//! the other program.
//!
//! A [`FixedString`](crate::FixedString) in raw memory is read by copying
//! it out, then calling `as_str` on the copy: the text then cannot change
//! under the `&str`.
//!
//! # Read-only views
//!
//! The `*_read_only` opens return a `Volatile<T, ReadOnly>`, mapped
//! `PROT_READ`. Its type has no method that writes (no `write`, `set`,
//! `as_mut_ptr`, and atomics only as a [`ReadOnlyAtomic`] that can `load`),
//! so a write is a compile error, never a `SIGSEGV`:
//!
//! ```compile_fail
//! use shm_runtime::segment::Segment;
//! let path = std::env::temp_dir().join("shm-runtime-doc-volatile-ro");
//! let value = Segment::file(&path).raw().read_only().open::<u32>().unwrap();
//! value.write(1); // error: no method `write` on `Volatile<u32, ReadOnly>`
//! ```
//!
//! # Memory outside the program
//!
//! The view treats the mapped bytes as memory that the Rust program does not
//! own, like device memory: the compiler emits every volatile access as
//! written and assumes nothing about the bytes between two of them. Two
//! accesses of this process that overlap in time (threads sharing a view)
//! may tear each other's values exactly as the peer's writes do, which
//! `AnyBitPattern` makes harmless. Atomics are coherent with the peer's
//! atomics only: a C program that writes the counter with a plain store
//! instead of an atomic one races with them.
//!
//! The object may still be truncated by another process after it was
//! mapped; touching the lost pages raises `SIGBUS`, as for typed segments
//! (see the [segment hazards](crate::segment#hazards-that-remain)).

use crate::error::{Error, ErrorKind, Result};
use crate::map::Mapping;
use bytemuck::{AnyBitPattern, NoUninit};
use core::fmt;
use core::marker::PhantomData;
use core::mem::{align_of, size_of};
use core::ptr::NonNull;
use core::sync::atomic::{self, Ordering};

mod sealed {
    pub trait Sealed {}
}

/// Whether a [`Volatile`] view may write: [`ReadWrite`] or [`ReadOnly`].
/// Implemented by those two types only.
///
/// ```
/// use shm_runtime::volatile::{Access, ReadOnly, ReadWrite};
/// fn writable<A: Access>() -> bool {
///     A::WRITABLE
/// }
/// assert!(writable::<ReadWrite>() && !writable::<ReadOnly>());
/// ```
pub trait Access: sealed::Sealed {
    /// Whether views of this access may write.
    const WRITABLE: bool;
}

/// The access of a writable view (mapped `PROT_READ | PROT_WRITE`), from
/// the `open` and `create` of a [`Segment::raw`](crate::Segment::raw)
/// segment.
///
/// ```
/// use shm_runtime::{segment::Segment, volatile::ReadWrite, Volatile};
/// let path = std::env::temp_dir().join(format!("shm-runtime-doc-rw-{}", std::process::id()));
/// std::fs::write(&path, [0u8; 4])?;
/// let value: Volatile<u32, ReadWrite> = Segment::file(&path).raw().open()?;
/// value.write(7);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub enum ReadWrite {}

/// The access of a read-only view (mapped `PROT_READ`), from the
/// `open` of a `Segment::raw().read_only()` segment: no method writes.
///
/// ```
/// use shm_runtime::{segment::Segment, volatile::ReadOnly, Volatile};
/// let path = std::env::temp_dir().join(format!("shm-runtime-doc-ro-{}", std::process::id()));
/// std::fs::write(&path, 7u32.to_ne_bytes())?;
/// let value: Volatile<u32, ReadOnly> = Segment::file(&path).raw().read_only().open()?;
/// assert_eq!(value.read(), 7);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug)]
pub enum ReadOnly {}

impl sealed::Sealed for ReadWrite {}
impl sealed::Sealed for ReadOnly {}
impl Access for ReadWrite {
    const WRITABLE: bool = true;
}
impl Access for ReadOnly {
    const WRITABLE: bool = false;
}

/// Why an access through a [`Volatile`] view was refused. Cheap to make and
/// `Copy`; converts into [`Error`] (kind
/// [`InvalidSize`](ErrorKind::InvalidSize), or
/// [`Unsupported`](ErrorKind::Unsupported) for a
/// [`ReadOnlyAtomicTooWide`](AccessError::ReadOnlyAtomicTooWide)).
///
/// ```
/// use shm_runtime::{segment::Segment, volatile::AccessError};
/// let path = std::env::temp_dir().join(format!("shm-runtime-doc-accerr-{}", std::process::id()));
/// std::fs::write(&path, [0u8; 16])?;
/// let bytes = Segment::file(&path).raw().len(16).open::<[u8]>()?;
/// assert_eq!(
///     bytes.read_at::<u64>(12),
///     Err(AccessError::OutOfBounds { offset: 12, size: 8, len: 16 })
/// );
/// assert_eq!(bytes.read_at::<u32>(2), Err(AccessError::Misaligned { offset: 2, align: 4 }));
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum AccessError {
    /// The `size` bytes at byte `offset` do not lie within the `len` bytes of
    /// the view (or of the type, for a [`Field`]).
    OutOfBounds {
        /// The byte offset asked for.
        offset: usize,
        /// The size of the value at that offset.
        size: usize,
        /// The size of the view or type in bytes.
        len: usize,
    },
    /// Element `index` (or the `count` elements from it) is past the `len`
    /// elements of a slice view.
    IndexOutOfBounds {
        /// The first element asked for.
        index: usize,
        /// How many elements were asked for.
        count: usize,
        /// The slice's length.
        len: usize,
    },
    /// The value at byte `offset` would not be aligned to `align`.
    Misaligned {
        /// The byte offset asked for.
        offset: usize,
        /// The alignment the value needs.
        align: usize,
    },
    /// An atomic of `atomic` bytes was asked for an element of `element`
    /// bytes: [`Volatile::atomic`] needs elements of exactly its size.
    SizeMismatch {
        /// The element size.
        element: usize,
        /// The atomic's size.
        atomic: usize,
    },
    /// An atomic of `size` bytes cannot be loaded from read-only memory on
    /// this target: only relaxed loads of at most `limit` bytes are known not
    /// to write (wider ones may be a compare-exchange, which faults).
    ReadOnlyAtomicTooWide {
        /// The atomic's size.
        size: usize,
        /// The widest read-only load of this target, in bytes.
        limit: usize,
    },
    /// A [`Monitor`](crate::Monitor) was given a [`Field`] made by
    /// [`Field::new`] from an offset: it takes only fields whose type the
    /// compiler proved ([`field!`](crate::field!), [`Field::whole`],
    /// [`Field::index`], [`Field::then`]), since an offset taken on trust
    /// could name the middle of an atomic that a writer stores.
    UnprovenField {
        /// The field's offset.
        offset: usize,
    },
}

impl fmt::Display for AccessError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match *self {
            AccessError::OutOfBounds { offset, size, len } => write!(
                f,
                "{size} bytes at offset {offset} do not fit in the {len} bytes of the view"
            ),
            AccessError::IndexOutOfBounds { index, count, len } => write!(
                f,
                "{count} element(s) from index {index} do not fit in a slice of {len}"
            ),
            AccessError::Misaligned { offset, align } => write!(
                f,
                "offset {offset} is not aligned to the {align} bytes its type needs"
            ),
            AccessError::SizeMismatch { element, atomic } => write!(
                f,
                "a {atomic}-byte atomic cannot cover a {element}-byte element"
            ),
            AccessError::ReadOnlyAtomicTooWide { size, limit } => write!(
                f,
                "a {size}-byte atomic cannot be loaded from read-only memory on this target \
                 (at most {limit} bytes); open the object writable"
            ),
            AccessError::UnprovenField { offset } => write!(
                f,
                "a monitor reads fields named with `field!` (or `Field::whole`, `index`, \
                 `then`), not a field made by `Field::new` (offset {offset})"
            ),
        }
    }
}

impl std::error::Error for AccessError {}

impl From<AccessError> for Error {
    fn from(error: AccessError) -> Error {
        let kind = match error {
            AccessError::ReadOnlyAtomicTooWide { .. } | AccessError::UnprovenField { .. } => {
                ErrorKind::Unsupported
            }
            _ => ErrorKind::InvalidSize,
        };
        Error::new(kind, format!("accessing a raw view: {error}"))
    }
}

/// The widest atomic load, in bytes, that std guarantees not to write (so
/// not to fault on a `PROT_READ` mapping), relaxed; see "Atomic accesses to
/// read-only memory" in `core::sync::atomic`: 8 on x86-64, AArch64,
/// LoongArch 64, MIPS 64, PowerPC 64, RISC-V 64, SPARC 64 and s390x; 4 on
/// x86, ARM, MIPS, PowerPC, RISC-V 32, SPARC and Hexagon; 0 (no atomic may
/// be loaded from read-only memory) on every other target.
///
/// ```
/// use shm_runtime::volatile::READ_ONLY_ATOMIC_LIMIT;
/// #[cfg(target_arch = "x86_64")]
/// assert_eq!(READ_ONLY_ATOMIC_LIMIT, 8);
/// #[cfg(target_arch = "x86")]
/// assert_eq!(READ_ONLY_ATOMIC_LIMIT, 4);
/// # let _ = READ_ONLY_ATOMIC_LIMIT;
/// ```
#[cfg(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "loongarch64",
    target_arch = "mips64",
    target_arch = "powerpc64",
    target_arch = "riscv64",
    target_arch = "sparc64",
    target_arch = "s390x"
))]
pub const READ_ONLY_ATOMIC_LIMIT: usize = 8;
#[cfg(any(
    target_arch = "x86",
    target_arch = "arm",
    target_arch = "mips",
    target_arch = "powerpc",
    target_arch = "riscv32",
    target_arch = "sparc",
    target_arch = "hexagon"
))]
/// The widest atomic load std allows on read-only memory: 4 bytes here.
pub const READ_ONLY_ATOMIC_LIMIT: usize = 4;
#[cfg(not(any(
    target_arch = "x86_64",
    target_arch = "aarch64",
    target_arch = "loongarch64",
    target_arch = "mips64",
    target_arch = "powerpc64",
    target_arch = "riscv64",
    target_arch = "sparc64",
    target_arch = "s390x",
    target_arch = "x86",
    target_arch = "arm",
    target_arch = "mips",
    target_arch = "powerpc",
    target_arch = "riscv32",
    target_arch = "sparc",
    target_arch = "hexagon"
)))]
/// The widest atomic load std allows on read-only memory: none here.
pub const READ_ONLY_ATOMIC_LIMIT: usize = 0;

/// An integer atomic that a raw view can hand out: `AtomicU8` to `AtomicU64`,
/// `AtomicI8` to `AtomicI64`, `AtomicUsize`, `AtomicIsize` (those the target
/// has). Not `AtomicBool`, for which a peer's byte `2` would be undefined
/// behaviour, nor `AtomicPtr`. Implemented by this crate only.
///
/// ```
/// use shm_runtime::volatile::AtomicInteger;
/// use std::sync::atomic::AtomicU32;
/// fn holds<A: AtomicInteger<Value = u32>>() {}
/// holds::<AtomicU32>();
/// ```
pub trait AtomicInteger: ReadOnlyLoad + Send + Sync + 'static {
    /// The integer the atomic holds (`u64` for `AtomicU64`), of the same
    /// size.
    type Value: Copy + AnyBitPattern + NoUninit + fmt::Debug + PartialEq;
}

macro_rules! atomic_integers {
    ($($width:literal: $($atomic:ident($value:ty)),+;)+) => {$($(
        #[cfg(target_has_atomic = $width)]
        impl sealed::Sealed for atomic::$atomic {}
        #[cfg(target_has_atomic = $width)]
        impl AtomicInteger for atomic::$atomic {
            type Value = $value;
        }
        #[cfg(target_has_atomic = $width)]
        impl ReadOnlyLoad for atomic::$atomic {
            type Loaded = $value;
            fn __load_relaxed(&self) -> $value {
                self.load(Ordering::Relaxed)
            }
        }
        #[cfg(target_has_atomic = $width)]
        const _: () = assert!(
            size_of::<atomic::$atomic>() == size_of::<$value>()
        );
    )+)+};
}

atomic_integers! {
    "8": AtomicU8(u8), AtomicI8(i8);
    "16": AtomicU16(u16), AtomicI16(i16);
    "32": AtomicU32(u32), AtomicI32(i32);
    "64": AtomicU64(u64), AtomicI64(i64);
    "ptr": AtomicUsize(usize), AtomicIsize(isize);
}

/// An atomic that a read-only view can load: every [`AtomicInteger`], and
/// `AtomicBool`. Implemented by this crate only.
///
/// An `AtomicBool` is loaded as the `AtomicU8` of its byte (the same size
/// and address, so the same atomic object for the memory model) and read as
/// `byte != 0`: a peer that stored a byte other than 0 or 1 (a C program's
/// `_Atomic _Bool` written through a `char *`, a corrupted file) is read as
/// `true`, never as an invalid `bool`.
///
/// ```
/// use shm_runtime::volatile::ReadOnlyLoad;
/// use std::sync::atomic::{AtomicBool, AtomicU16};
/// fn loads<A: ReadOnlyLoad>() {}
/// loads::<AtomicU16>();
/// loads::<AtomicBool>();
/// ```
#[diagnostic::on_unimplemented(
    message = "`{Self}` cannot be loaded from read-only memory",
    label = "not an integer atomic or `AtomicBool`",
    note = "a monitor loads integer atomics and `AtomicBool`s, and reads `SeqLock`s with \
            `seqlock`; locks such as `ShmMutex` write even to read: open the segment with `open`"
)]
pub trait ReadOnlyLoad: sealed::Sealed + Send + Sync + 'static {
    /// What a load returns: the integer (`u64` for `AtomicU64`), or `bool`.
    type Loaded: Copy + fmt::Debug + PartialEq;

    /// A relaxed load, the only atomic operation std allows on read-only
    /// memory (of at most [`READ_ONLY_ATOMIC_LIMIT`] bytes).
    #[doc(hidden)]
    fn __load_relaxed(&self) -> Self::Loaded;
}

#[cfg(target_has_atomic = "8")]
impl sealed::Sealed for atomic::AtomicBool {}
#[cfg(target_has_atomic = "8")]
impl ReadOnlyLoad for atomic::AtomicBool {
    type Loaded = bool;
    fn __load_relaxed(&self) -> bool {
        // SAFETY: `AtomicBool` has the size, alignment and bit validity of
        // `u8` (documented), so its byte is an `AtomicU8` in the same
        // `UnsafeCell`; writers store it as an `AtomicBool` of the same
        // size, which is no mixed-size access. The reference lives as long
        // as `self`.
        let byte = unsafe { &*(self as *const atomic::AtomicBool).cast::<atomic::AtomicU8>() };
        byte.load(Ordering::Relaxed) != 0
    }
}

/// An integer atomic in a read-only view: it can only be loaded, with
/// relaxed order (the only atomic load that std guarantees not to write, so
/// not to fault on a `PROT_READ` mapping), optionally followed by an acquire
/// fence.
///
/// ```
/// use shm_runtime::segment::Segment;
/// use std::sync::atomic::AtomicU32;
/// let path = std::env::temp_dir().join(format!("shm-runtime-doc-roatomic-{}", std::process::id()));
/// std::fs::write(&path, 5u32.to_ne_bytes())?;
/// let counter = Segment::file(&path).raw().read_only().open::<u32>()?;
/// assert_eq!(counter.atomic_at::<AtomicU32>(0)?.load(), 5);
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
///
/// It has no `store`, `fetch_add` or compare-exchange:
///
/// ```compile_fail
/// use shm_runtime::segment::Segment;
/// use std::sync::atomic::{AtomicU64, Ordering};
/// let counter = Segment::file("/tmp/counter").raw().read_only().open::<u64>().unwrap();
/// counter.atomic_at::<AtomicU64>(0).unwrap().store(1, Ordering::Relaxed); // no `store`
/// ```
pub struct ReadOnlyAtomic<'a, At> {
    // Never handed out: `&At` could store.
    atomic: &'a At,
}

impl<At: ReadOnlyLoad> ReadOnlyAtomic<'_, At> {
    /// Wraps `atomic`, in read-only memory, if std allows loading it there.
    pub(crate) fn new(atomic: &At) -> core::result::Result<ReadOnlyAtomic<'_, At>, AccessError> {
        if size_of::<At>() > READ_ONLY_ATOMIC_LIMIT {
            return Err(AccessError::ReadOnlyAtomicTooWide {
                size: size_of::<At>(),
                limit: READ_ONLY_ATOMIC_LIMIT,
            });
        }
        Ok(ReadOnlyAtomic { atomic })
    }

    /// Loads the value with [`Ordering::Relaxed`].
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// use std::sync::atomic::AtomicU32;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-roload-{}", std::process::id()));
    /// std::fs::write(&path, [1u32, 2].map(u32::to_ne_bytes).concat())?;
    /// let words = Segment::file(&path).raw().read_only().len(2).open::<[u32]>()?;
    /// assert_eq!(words.atomic::<AtomicU32>(1)?.load(), 2);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load(&self) -> At::Loaded {
        self.atomic.__load_relaxed()
    }

    /// Loads the value with relaxed order, then issues an acquire fence: the
    /// writes the peer made before its release store of this value are
    /// visible after it returns.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// use std::sync::atomic::AtomicU32;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-roacq-{}", std::process::id()));
    /// std::fs::write(&path, 1u32.to_ne_bytes())?;
    /// let ready = Segment::file(&path).raw().read_only().open::<u32>()?;
    /// assert_eq!(ready.atomic_at::<AtomicU32>(0)?.load_acquire(), 1);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn load_acquire(&self) -> At::Loaded {
        let value = self.atomic.__load_relaxed();
        // Pairs with the peer's release store of the value just loaded: a
        // relaxed load followed by an acquire fence synchronizes with it.
        atomic::fence(Ordering::Acquire);
        value
    }
}

impl<At: ReadOnlyLoad> fmt::Debug for ReadOnlyAtomic<'_, At> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("ReadOnlyAtomic").field(&self.load()).finish()
    }
}

/// A field of type `F` inside a `T`, by byte offset: made by
/// [`field!`](crate::field!) from a field name, or by [`Field::new`] from an
/// offset (taken from a C header, say). It is always in bounds of `T` and
/// aligned, so the accesses that take one need no check.
///
/// ```
/// use shm_runtime::volatile::Field;
/// #[repr(C)]
/// struct Rec { id: u32, score: f32 }
/// let score: Field<Rec, f32> = shm_runtime::field!(Rec, score);
/// assert_eq!(score.offset(), 4);
/// assert_eq!(score, Field::<Rec, f32>::new(4)?);
/// # Ok::<(), shm_runtime::volatile::AccessError>(())
/// ```
pub struct Field<T, F> {
    offset: usize,
    /// Whether the compiler proved that an `F` lies at `offset` in every
    /// `T` ([`field!`](crate::field!), [`Field::whole`], [`Field::index`],
    /// [`Field::then`] of such fields), rather than the caller claiming it
    /// ([`Field::new`]). A [`Monitor`](crate::Monitor) takes proven fields
    /// only: it reads a typed segment that other processes write with
    /// atomics, and a claimed offset could name the middle of one.
    proven: bool,
    _types: PhantomData<fn(&T) -> &F>,
}

impl<T, F> Field<T, F> {
    /// The field of type `F` at byte `offset` in `T`: refused unless its
    /// bytes lie within `T`, `offset` is a multiple of `F`'s alignment, and
    /// `F` needs no more alignment than `T` (so that it is aligned in every
    /// `T`, each element of a slice included).
    ///
    /// ```
    /// use shm_runtime::volatile::{AccessError, Field};
    /// assert!(Field::<[u32; 4], u32>::new(12).is_ok());
    /// assert_eq!(
    ///     Field::<[u32; 4], u32>::new(6).unwrap_err(),
    ///     AccessError::Misaligned { offset: 6, align: 4 }
    /// );
    /// assert_eq!(
    ///     Field::<[u32; 4], u32>::new(16).unwrap_err(),
    ///     AccessError::OutOfBounds { offset: 16, size: 4, len: 16 }
    /// );
    /// // A `u32` is not aligned at offset 8 of every `[u16; 8]`.
    /// assert!(Field::<[u16; 8], u32>::new(8).is_err());
    /// ```
    pub const fn new(offset: usize) -> core::result::Result<Field<T, F>, AccessError> {
        let fits = match offset.checked_add(size_of::<F>()) {
            Some(end) => end <= size_of::<T>(),
            None => false,
        };
        if !fits {
            return Err(AccessError::OutOfBounds {
                offset,
                size: size_of::<F>(),
                len: size_of::<T>(),
            });
        }
        // Alignments are powers of two.
        if offset & (align_of::<F>() - 1) != 0 || align_of::<F>() > align_of::<T>() {
            return Err(AccessError::Misaligned {
                offset,
                align: align_of::<F>(),
            });
        }
        Ok(Field {
            offset,
            proven: false,
            _types: PhantomData,
        })
    }

    /// What `field!` expands to: `offset` is `offset_of!` of the field that
    /// `_field` projects to, which fits and is aligned in `T` by
    /// construction.
    ///
    /// # Safety
    /// `offset` is the offset in `T` of a field of type exactly `F` (not of
    /// another type that `F` coerces from): the field is then "proven", and
    /// views such as [`Monitor`](crate::Monitor) access it as an `F`
    /// without further checks.
    #[doc(hidden)]
    pub const unsafe fn __named(offset: usize, _field: fn(&T) -> &F) -> Field<T, F> {
        match Field::new(offset) {
            Ok(field) => Field {
                proven: true,
                ..field
            },
            Err(_) => panic!("a field of a type always lies within it"),
        }
    }

    /// The field `inner` of this field: `F`'s field at `inner`'s offset, as
    /// a field of `T`. Proven when both are.
    ///
    /// ```
    /// use shm_runtime::{field, volatile::Field};
    /// #[repr(C)]
    /// struct Worker { pid: u32, jobs: u32 }
    /// #[repr(C)]
    /// struct Pool { version: u32, workers: [Worker; 4] }
    /// let third: Field<Pool, Worker> = field!(Pool, workers).index(2)?;
    /// let jobs: Field<Pool, u32> = third.then(field!(Worker, jobs));
    /// assert_eq!(jobs.offset(), 4 + 2 * 8 + 4);
    /// # Ok::<(), shm_runtime::volatile::AccessError>(())
    /// ```
    pub const fn then<G>(self, inner: Field<F, G>) -> Field<T, G> {
        // `inner` lies within `F` and `self` within `T`, so their sum within
        // `T`; it is a multiple of `G`'s alignment, which divides `F`'s
        // (`inner`'s invariant), which divides `self.offset`; and `G` needs
        // no more alignment than `F`, nor `F` than `T`.
        Field {
            offset: self.offset + inner.offset,
            proven: self.proven && inner.proven,
            _types: PhantomData,
        }
    }

    /// Whether the compiler proved that an `F` lies at this offset (a field
    /// made by [`field!`](crate::field!), [`whole`](Field::whole),
    /// [`index`](Field::index) or [`then`](Field::then)), rather than
    /// [`Field::new`] taking the offset on trust.
    ///
    /// ```
    /// use shm_runtime::{field, volatile::Field};
    /// #[repr(C)]
    /// struct Rec { id: u32, score: f32 }
    /// assert!(field!(Rec, score).is_proven());
    /// assert!(!Field::<Rec, f32>::new(4)?.is_proven());
    /// # Ok::<(), shm_runtime::volatile::AccessError>(())
    /// ```
    pub const fn is_proven(self) -> bool {
        self.proven
    }

    /// The field's byte offset in `T`.
    ///
    /// ```
    /// #[repr(C)]
    /// struct Pair { a: u8, b: u16 }
    /// assert_eq!(shm_runtime::field!(Pair, b).offset(), 2);
    /// ```
    pub const fn offset(self) -> usize {
        self.offset
    }
}

impl<T> Field<T, T> {
    /// The whole `T` as a field of itself (offset 0): for a view whose
    /// entire value is an atomic or a [`SeqLock`](crate::SeqLock).
    ///
    /// ```
    /// use shm_runtime::volatile::Field;
    /// use std::sync::atomic::AtomicU64;
    /// let all = Field::<AtomicU64, AtomicU64>::whole();
    /// assert_eq!(all.offset(), 0);
    /// assert!(all.is_proven());
    /// ```
    pub const fn whole() -> Field<T, T> {
        Field {
            offset: 0,
            proven: true,
            _types: PhantomData,
        }
    }
}

impl<T, E, const N: usize> Field<T, [E; N]> {
    /// Element `index` of this array field, or
    /// [`AccessError::IndexOutOfBounds`] when `index >= N`. Proven when the
    /// array field is.
    ///
    /// ```
    /// use shm_runtime::{field, volatile::AccessError};
    /// #[repr(C)]
    /// struct Slots { count: u64, hits: [u64; 8] }
    /// let hits = field!(Slots, hits);
    /// assert_eq!(hits.index(7)?.offset(), 8 + 7 * 8);
    /// assert_eq!(
    ///     hits.index(8).unwrap_err(),
    ///     AccessError::IndexOutOfBounds { index: 8, count: 1, len: 8 }
    /// );
    /// # Ok::<(), AccessError>(())
    /// ```
    pub const fn index(self, index: usize) -> core::result::Result<Field<T, E>, AccessError> {
        if index >= N {
            return Err(AccessError::IndexOutOfBounds {
                index,
                count: 1,
                len: N,
            });
        }
        // Element `index < N` lies within the array, so within `T`; its
        // offset is a multiple of `E`'s alignment (the array's offset is one
        // of the array's, which is `E`'s, and so is `size_of::<E>()`).
        Ok(Field {
            offset: self.offset + index * size_of::<E>(),
            proven: self.proven,
            _types: PhantomData,
        })
    }

    /// The number of elements, `N`.
    ///
    /// ```
    /// #[repr(C)]
    /// struct Slots { hits: [u64; 8] }
    /// assert_eq!(shm_runtime::field!(Slots, hits).len(), 8);
    /// ```
    #[allow(clippy::len_without_is_empty)]
    pub const fn len(self) -> usize {
        N
    }
}

impl<T, F> Clone for Field<T, F> {
    fn clone(&self) -> Self {
        *self
    }
}
impl<T, F> Copy for Field<T, F> {}
impl<T, F> PartialEq for Field<T, F> {
    fn eq(&self, other: &Self) -> bool {
        self.offset == other.offset
    }
}
impl<T, F> Eq for Field<T, F> {}
impl<T, F> fmt::Debug for Field<T, F> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "Field<{}, {}>({})",
            std::any::type_name::<T>(),
            std::any::type_name::<F>(),
            self.offset
        )
    }
}

/// The [`Field`] of a named field of a struct, for the field accessors of a
/// [`Volatile`] view: `field!(Type, name)` or, for a field of a nested
/// struct, `field!(Type, outer.inner)`. The offset comes from
/// [`core::mem::offset_of!`], the field's type is inferred.
///
/// ```
/// use shm_runtime::{field, volatile::Field};
/// #[repr(C)]
/// struct Pos { x: i32, y: i32 }
/// #[repr(C)]
/// struct Ship { id: u64, pos: Pos }
/// let y: Field<Ship, i32> = field!(Ship, pos.y);
/// assert_eq!(y.offset(), 12);
/// ```
#[macro_export]
macro_rules! field {
    ($T:ty, $($field:tt).+ $(,)?) => {{
        // The projection's type is inferred from the field itself before
        // anything fixes `F`, so no deref coercion can turn a field into
        // another type at the same offset.
        let project = $crate::volatile::__project::<$T, _>(|value: &$T| &value.$($field).+);
        // SAFETY: the offset is `offset_of!` of exactly the field that
        // `project` returns, whose type is the field's own.
        unsafe {
            $crate::volatile::Field::<$T, _>::__named(::core::mem::offset_of!($T, $($field).+), project)
        }
    }};
}

/// What [`field!`] passes its projection through: a function of `&T` whose
/// result type is inferred from the closure's body alone (no coercion).
#[doc(hidden)]
pub const fn __project<T, F>(project: fn(&T) -> &F) -> fn(&T) -> &F {
    project
}

/// A view of a `T`, or of a slice `[T]`, in memory that a foreign program
/// may write at any time: the raw-mode counterpart of
/// [`Shared<T>`](crate::Shared). See the [module documentation](self) for
/// why it hands out no references and what its accesses guarantee.
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
    ptr: NonNull<T>,
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

    fn check_atomic<At: AtomicInteger>(
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
    /// than a machine word: see [torn values](self#torn-values).
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

/// The address of `field` in the `T` at `base`.
///
/// # Safety
/// `base` points to a whole `T` inside one mapping.
pub(crate) unsafe fn field_ptr<T, F>(base: NonNull<T>, field: Field<T, F>) -> NonNull<F> {
    // SAFETY: `field` lies within `T` (its invariant), so within the `T`
    // at `base` (the caller's contract).
    unsafe { base.cast::<u8>().add(field.offset) }.cast::<F>()
}

impl<T, A: Access> Volatile<[T], A> {
    fn first(&self) -> NonNull<T> {
        self.ptr.cast::<T>()
    }

    /// The address of element `index`, checked to exist.
    fn element(&self, index: usize) -> Option<NonNull<T>> {
        // SAFETY: `index < len`: inside the slice.
        (index < self.len()).then(|| unsafe { self.first().add(index) })
    }

    fn check_range(&self, index: usize, count: usize) -> core::result::Result<(), AccessError> {
        if index
            .checked_add(count)
            .is_some_and(|end| end <= self.len())
        {
            Ok(())
        } else {
            Err(AccessError::IndexOutOfBounds {
                index,
                count,
                len: self.len(),
            })
        }
    }

    /// The number of elements.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vlen-{}", std::process::id()));
    /// std::fs::write(&path, [0u8; 12])?;
    /// assert_eq!(Segment::file(&path).raw().open::<[u32]>()?.len(), 3);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn len(&self) -> usize {
        self.ptr.len()
    }

    /// Whether the slice has no elements.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vempty-{}", std::process::id()));
    /// std::fs::write(&path, [])?;
    /// assert!(Segment::file(&path).raw().open::<[u32]>()?.is_empty());
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T: AnyBitPattern, A: Access> Volatile<[T], A> {
    /// A volatile copy of element `index`, or `None` past the end.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vget-{}", std::process::id()));
    /// std::fs::write(&path, [5u8, 6])?;
    /// let bytes = Segment::file(&path).raw().read_only().len(2).open::<[u8]>()?;
    /// assert_eq!((bytes.get(1), bytes.get(2)), (Some(6), None));
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self, index: usize) -> Option<T> {
        let element = self.element(index)?;
        // SAFETY: an element of the mapped slice (checked), aligned; any
        // bytes are a valid `T`; a volatile copy creates no reference.
        Some(unsafe { element.as_ptr().read_volatile() })
    }

    /// Volatile copies of the `dst.len()` elements from `index` into `dst`.
    /// Refused ([`AccessError::IndexOutOfBounds`]), copying nothing, when
    /// they are not all in the slice.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vrslice-{}", std::process::id()));
    /// std::fs::write(&path, [1u8, 2, 3, 4])?;
    /// let bytes = Segment::file(&path).raw().read_only().len(4).open::<[u8]>()?;
    /// let mut two = [0u8; 2];
    /// bytes.read_slice(2, &mut two)?;
    /// assert_eq!(two, [3, 4]);
    /// assert!(bytes.read_slice(3, &mut two).is_err());
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_slice(&self, index: usize, dst: &mut [T]) -> core::result::Result<(), AccessError> {
        self.check_range(index, dst.len())?;
        for (i, slot) in dst.iter_mut().enumerate() {
            // SAFETY: `index + i < len` (checked above): an element of the
            // mapped slice, aligned; any bytes are a valid `T`.
            *slot = unsafe { self.first().add(index + i).as_ptr().read_volatile() };
        }
        Ok(())
    }

    /// Volatile copies of every element, in a new `Vec`.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vtovec-{}", std::process::id()));
    /// std::fs::write(&path, [1u16, 2, 3].map(u16::to_ne_bytes).concat())?;
    /// assert_eq!(Segment::file(&path).raw().open::<[u16]>()?.to_vec(), [1, 2, 3]);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_vec(&self) -> Vec<T> {
        self.iter().collect()
    }

    /// An iterator of volatile copies of the elements, each read when the
    /// iterator reaches it.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-viter-{}", std::process::id()));
    /// std::fs::write(&path, [1u8, 2, 3])?;
    /// let bytes = Segment::file(&path).raw().read_only().len(3).open::<[u8]>()?;
    /// assert_eq!(bytes.iter().map(u32::from).sum::<u32>(), 6);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter {
            first: self.first(),
            front: 0,
            back: self.len(),
            _view: PhantomData,
        }
    }

    /// A volatile copy of one field of element `index`, or `None` past the
    /// end.
    ///
    /// ```
    /// use shm_runtime::{field, segment::Segment};
    /// #[derive(shm_runtime::SharedSafe, Clone, Copy, bytemuck::AnyBitPattern)]
    /// #[repr(C)]
    /// struct People { name: [u8; 4], age: i32 }
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vfieldi-{}", std::process::id()));
    /// std::fs::write(&path, [*b"ann\0", 31i32.to_ne_bytes()].concat())?;
    /// let people = Segment::file(&path).raw().read_only().len(1).open::<[People]>()?;
    /// assert_eq!(people.read_field(0, field!(People, age)), Some(31));
    /// assert_eq!(people.read_field(1, field!(People, age)), None);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_field<F: AnyBitPattern>(&self, index: usize, field: Field<T, F>) -> Option<F> {
        let element = self.element(index)?;
        // SAFETY: an aligned element of the mapped slice (checked), and
        // `field` lies within it, aligned (its invariant); any bytes are a
        // valid `F`; a volatile copy creates no reference.
        Some(unsafe { field_ptr(element, field).as_ptr().read_volatile() })
    }
}

impl<T: AnyBitPattern> Volatile<[T], ReadWrite> {
    /// A volatile copy of `value` into element `index`. Refused
    /// ([`AccessError::IndexOutOfBounds`]) past the end.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vset-{}", std::process::id()));
    /// std::fs::write(&path, [0u8; 2])?;
    /// let bytes = Segment::file(&path).raw().len(2).open::<[u8]>()?;
    /// bytes.set(1, 9)?;
    /// assert_eq!(bytes.to_vec(), [0, 9]);
    /// assert!(bytes.set(2, 9).is_err());
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set(&self, index: usize, value: T) -> core::result::Result<(), AccessError>
    where
        T: NoUninit,
    {
        let element = self.element(index).ok_or(AccessError::IndexOutOfBounds {
            index,
            count: 1,
            len: self.len(),
        })?;
        // SAFETY: an element of the writable mapped slice (checked),
        // aligned; a volatile store creates no reference, and every byte
        // stored is a byte of `value`.
        unsafe { element.as_ptr().write_volatile(value) };
        Ok(())
    }

    /// Volatile copies of `src` into the `src.len()` elements from `index`.
    /// Refused ([`AccessError::IndexOutOfBounds`]), writing nothing, when
    /// they are not all in the slice.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vwslice-{}", std::process::id()));
    /// std::fs::write(&path, [0u8; 4])?;
    /// let bytes = Segment::file(&path).raw().len(4).open::<[u8]>()?;
    /// bytes.write_slice(1, &[7, 8])?;
    /// assert_eq!(bytes.to_vec(), [0, 7, 8, 0]);
    /// assert!(bytes.write_slice(3, &[1, 2]).is_err());
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_slice(&self, index: usize, src: &[T]) -> core::result::Result<(), AccessError>
    where
        T: NoUninit,
    {
        self.check_range(index, src.len())?;
        for (i, value) in src.iter().enumerate() {
            // SAFETY: `index + i < len` (checked above): an element of the
            // writable mapped slice, aligned; every byte stored is a byte of
            // the value.
            unsafe { self.first().add(index + i).as_ptr().write_volatile(*value) };
        }
        Ok(())
    }

    /// A volatile copy of `value` into one field of element `index`.
    /// Refused ([`AccessError::IndexOutOfBounds`]) past the end.
    ///
    /// ```
    /// use shm_runtime::{field, segment::Segment};
    /// #[derive(shm_runtime::SharedSafe, Clone, Copy, bytemuck::AnyBitPattern)]
    /// #[repr(C)]
    /// struct People { name: [u8; 4], age: i32 }
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vwfieldi-{}", std::process::id()));
    /// std::fs::write(&path, [0u8; 16])?;
    /// let people = Segment::file(&path).raw().len(2).open::<[People]>()?;
    /// people.write_field(1, field!(People, age), 100)?;
    /// assert_eq!(people.read_field(1, field!(People, age)), Some(100));
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_field<F: NoUninit>(
        &self,
        index: usize,
        field: Field<T, F>,
        value: F,
    ) -> core::result::Result<(), AccessError> {
        let element = self.element(index).ok_or(AccessError::IndexOutOfBounds {
            index,
            count: 1,
            len: self.len(),
        })?;
        // SAFETY: as in `read_field`, in a writable mapping; every byte
        // stored is a byte of `value`.
        unsafe { field_ptr(element, field).as_ptr().write_volatile(value) };
        Ok(())
    }

    /// Element `index` as an integer atomic of the same size: one slot of a
    /// C `_Atomic uint32_t slots[N]`. Refused ([`AccessError`]) past the end,
    /// for an element of another size, or where the atomic needs more
    /// alignment than the element.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vatomic-{}", std::process::id()));
    /// std::fs::write(&path, [0u8; 16])?;
    /// let slots = Segment::file(&path).raw().len(4).open::<[u32]>()?;
    /// slots.atomic::<AtomicU32>(3)?.store(8, Ordering::Release);
    /// assert_eq!(slots.get(3), Some(8));
    /// assert!(slots.atomic::<AtomicU32>(4).is_err());
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn atomic<At: AtomicInteger>(
        &self,
        index: usize,
    ) -> core::result::Result<&At, AccessError> {
        self.check_atomic(self.atomic_offset::<At>(index)?)
    }

    /// The integer atomic that one field of element `index` holds; see
    /// [`Volatile::atomic_field`] for one value.
    ///
    /// ```
    /// use shm_runtime::{field, segment::Segment};
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// #[derive(shm_runtime::SharedSafe, Clone, Copy, bytemuck::AnyBitPattern)]
    /// #[repr(C)]
    /// struct Slot { owner: u32, hits: u32 }
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vafieldi-{}", std::process::id()));
    /// std::fs::write(&path, [0u8; 16])?;
    /// let slots = Segment::file(&path).raw().len(2).open::<[Slot]>()?;
    /// slots.atomic_field::<AtomicU32>(1, field!(Slot, hits))?.fetch_add(2, Ordering::Relaxed);
    /// assert_eq!(slots.get(1).map(|s| s.hits), Some(2));
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn atomic_field<At: AtomicInteger>(
        &self,
        index: usize,
        field: Field<T, At::Value>,
    ) -> core::result::Result<&At, AccessError> {
        self.check_atomic(self.field_offset(index, field)?)
    }
}

impl<T: AnyBitPattern> Volatile<[T], ReadOnly> {
    /// Element `index` as an integer atomic of the same size, which can only
    /// be loaded; see the writable view's [`atomic`](Volatile::atomic).
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// use std::sync::atomic::AtomicU16;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-roatomici-{}", std::process::id()));
    /// std::fs::write(&path, [3u16, 4].map(u16::to_ne_bytes).concat())?;
    /// let slots = Segment::file(&path).raw().read_only().len(2).open::<[u16]>()?;
    /// assert_eq!(slots.atomic::<AtomicU16>(1)?.load(), 4);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn atomic<At: AtomicInteger>(
        &self,
        index: usize,
    ) -> core::result::Result<ReadOnlyAtomic<'_, At>, AccessError> {
        ReadOnlyAtomic::new(self.check_atomic(self.atomic_offset::<At>(index)?)?)
    }

    /// The integer atomic that one field of element `index` holds, which
    /// can only be loaded.
    ///
    /// ```
    /// use shm_runtime::{field, segment::Segment};
    /// use std::sync::atomic::AtomicU32;
    /// #[derive(shm_runtime::SharedSafe, Clone, Copy, bytemuck::AnyBitPattern)]
    /// #[repr(C)]
    /// struct Slot { owner: u32, hits: u32 }
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-roafieldi-{}", std::process::id()));
    /// std::fs::write(&path, [1u32, 5].map(u32::to_ne_bytes).concat())?;
    /// let slots = Segment::file(&path).raw().read_only().len(1).open::<[Slot]>()?;
    /// assert_eq!(slots.atomic_field::<AtomicU32>(0, field!(Slot, hits))?.load(), 5);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn atomic_field<At: AtomicInteger>(
        &self,
        index: usize,
        field: Field<T, At::Value>,
    ) -> core::result::Result<ReadOnlyAtomic<'_, At>, AccessError> {
        ReadOnlyAtomic::new(self.check_atomic(self.field_offset(index, field)?)?)
    }
}

impl<T, A: Access> Volatile<[T], A> {
    /// The byte offset of element `index`, for an atomic of its size.
    fn atomic_offset<At: AtomicInteger>(
        &self,
        index: usize,
    ) -> core::result::Result<usize, AccessError> {
        if size_of::<At>() != size_of::<T>() {
            return Err(AccessError::SizeMismatch {
                element: size_of::<T>(),
                atomic: size_of::<At>(),
            });
        }
        self.check_range(index, 1)?;
        Ok(index * size_of::<T>())
    }

    /// The byte offset of `field` in element `index`.
    fn field_offset<F>(
        &self,
        index: usize,
        field: Field<T, F>,
    ) -> core::result::Result<usize, AccessError> {
        self.check_range(index, 1)?;
        Ok(index * size_of::<T>() + field.offset)
    }
}

impl<'a, T: AnyBitPattern, A: Access> IntoIterator for &'a Volatile<[T], A> {
    type Item = T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
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

/// The iterator of [`Volatile::iter`]: volatile copies of a slice view's
/// elements, each read when reached.
///
/// ```
/// use shm_runtime::segment::Segment;
/// let path = std::env::temp_dir().join(format!("shm-runtime-doc-viterty-{}", std::process::id()));
/// std::fs::write(&path, [1u8, 2, 3])?;
/// let bytes = Segment::file(&path).raw().read_only().len(3).open::<[u8]>()?;
/// let mut iter: shm_runtime::volatile::Iter<'_, u8> = bytes.iter();
/// assert_eq!((iter.len(), iter.next_back(), iter.next()), (3, Some(3), Some(1)));
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Iter<'a, T> {
    first: NonNull<T>,
    front: usize,
    back: usize,
    _view: PhantomData<&'a [T]>,
}

impl<T: AnyBitPattern> Iter<'_, T> {
    fn read(&self, index: usize) -> T {
        // SAFETY: `front <= index < back <= len`: an aligned element of the
        // slice view this iterator borrows, mapped while it lives; any bytes
        // are a valid `T`; a volatile copy creates no reference.
        unsafe { self.first.add(index).as_ptr().read_volatile() }
    }
}

impl<T: AnyBitPattern> Iterator for Iter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.front == self.back {
            return None;
        }
        self.front += 1;
        Some(self.read(self.front - 1))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.back - self.front;
        (left, Some(left))
    }
}

impl<T: AnyBitPattern> DoubleEndedIterator for Iter<'_, T> {
    fn next_back(&mut self) -> Option<T> {
        if self.front == self.back {
            return None;
        }
        self.back -= 1;
        Some(self.read(self.back))
    }
}

impl<T: AnyBitPattern> ExactSizeIterator for Iter<'_, T> {}
impl<T: AnyBitPattern> core::iter::FusedIterator for Iter<'_, T> {}

impl<T> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("left", &(self.back - self.front))
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[repr(C)]
    struct Rec {
        a: u8,
        b: u32,
        inner: Inner,
    }
    #[repr(C)]
    struct Inner {
        x: u16,
        y: u64,
    }

    #[test]
    fn named_fields_have_their_offsets_and_types() {
        let b: Field<Rec, u32> = crate::field!(Rec, b);
        assert_eq!(b.offset(), 4);
        let y: Field<Rec, u64> = crate::field!(Rec, inner.y);
        assert_eq!(y.offset(), core::mem::offset_of!(Rec, inner.y));
        const A: Field<Rec, u8> = crate::field!(Rec, a);
        assert_eq!(A.offset(), 0);
    }

    #[test]
    fn fields_by_offset_are_checked() {
        assert_eq!(
            Field::<u32, u8>::new(usize::MAX).unwrap_err(),
            AccessError::OutOfBounds {
                offset: usize::MAX,
                size: 1,
                len: 4
            }
        );
        assert!(Field::<u32, u8>::new(3).is_ok());
        assert!(Field::<u32, ()>::new(4).is_ok());
        assert_eq!(
            Field::<[u8; 8], u16>::new(2).unwrap_err(),
            AccessError::Misaligned {
                offset: 2,
                align: 2
            }
        );
    }

    #[test]
    fn access_errors_convert_to_error_kinds() {
        let e: Error = AccessError::Misaligned {
            offset: 1,
            align: 8,
        }
        .into();
        assert_eq!(e.kind(), ErrorKind::InvalidSize);
        assert!(e.to_string().contains("offset 1"), "{e}");
        let e: Error = AccessError::ReadOnlyAtomicTooWide { size: 8, limit: 4 }.into();
        assert_eq!(e.kind(), ErrorKind::Unsupported);
    }
}
