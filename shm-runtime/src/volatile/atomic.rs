//! The atomics a raw view hands out: [`AtomicInteger`] (a writable view's
//! `&At`), [`ReadOnlyLoad`] and [`ReadOnlyAtomic`] (a read-only view's
//! loads), and [`READ_ONLY_ATOMIC_LIMIT`], the widest load std allows on
//! read-only memory.

use super::access::{sealed, AccessError};
use bytemuck::{AnyBitPattern, NoUninit};
use core::fmt;
use core::mem::size_of;
use core::sync::atomic::{self, Ordering};

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
    target_arch = "mips64r6",
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
    target_arch = "mips32r6",
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
    target_arch = "mips64r6",
    target_arch = "powerpc64",
    target_arch = "riscv64",
    target_arch = "sparc64",
    target_arch = "s390x",
    target_arch = "x86",
    target_arch = "arm",
    target_arch = "mips",
    target_arch = "mips32r6",
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
