//! [`Monitor<T>`]: a typed view of a segment mapped read-only, for a
//! process that watches atomics and [`SeqLock`]s it may not write, without
//! `unsafe` and without a reference into the mapping.
//!
//! A monitor (a dashboard, an exporter, `top` for a worker pool) often has
//! read permission only, or should not be able to write even by mistake.
//! [`Segment::read_only`](crate::Segment::read_only)`.open()` gives it
//! `&T`, which is sound for plain data only: through an `&AtomicU64` safe
//! code may `store`, or `load(Acquire)`, and std ("Atomic accesses to
//! read-only memory" in [`core::sync::atomic`]) says:
//!
//! > In general, *all* atomic accesses on read-only memory are undefined
//! > behavior. [...] As an exception from the general rule stated above,
//! > "sufficiently small" atomic loads with `Ordering::Relaxed` are
//! > implemented in a way that works on read-only memory, and are hence not
//! > undefined behavior. [...] If you need to do an acquire load on
//! > read-only memory, you can do a relaxed load followed by an acquire
//! > fence instead.
//!
//! "Sufficiently small" is at most 8 bytes on x86-64, AArch64,
//! LoongArch 64, MIPS 64, PowerPC 64, RISC-V 64, SPARC 64 and s390x, 4
//! bytes on x86, ARM, MIPS, PowerPC, RISC-V 32, SPARC and Hexagon, and
//! nothing on every other target: the allow-list by `cfg(target_arch)` in
//! [`READ_ONLY_ATOMIC_LIMIT`].
//!
//! So [`read_only().monitor()`](crate::Segment::<crate::segment::ReadOnly>::monitor)
//! maps the segment `PROT_READ` (after the same header checks, waits and
//! errors as `read_only().open()`) and returns a `Monitor<T>` that hands out no `&T` and
//! no `&F`. It is read by projections along a [`Field`] named with
//! [`field!`](crate::field!):
//!
//! * [`atomic`](Monitor::atomic): an integer atomic or an `AtomicBool` as a
//!   [`ReadOnlyAtomic`], which can only `load` (relaxed) and `load_acquire`
//!   (relaxed, then an acquire fence). Wider than the target's limit (an
//!   `AtomicU64` on 32-bit x86 or ARM) is
//!   [`AccessError::ReadOnlyAtomicTooWide`], at run time so that one
//!   program builds for every target; an `AtomicBool`'s byte is loaded as
//!   an `AtomicU8` and read as `!= 0`, so a peer's byte 2 is `true`;
//! * [`seqlock`](Monitor::seqlock): a [`SeqLock`] as a [`ReadOnlySeqLock`],
//!   whose reads make the same copy as [`SeqLock::read_timeout`] with only
//!   relaxed loads and fences (refused with
//!   [`Unsupported`](ErrorKind::Unsupported) where its 8-byte words exceed
//!   the limit);
//! * [`read`](Monitor::read): a volatile copy of a plain field whose every
//!   bit pattern is valid (`F: bytemuck::AnyBitPattern`), like
//!   [`Volatile::read_field`](crate::Volatile::read_field);
//! * [`read_checked`](Monitor::read_checked): the same copy of any plain
//!   field (`bool`, enums, `FixedString`, structs of them), checked whole:
//!   bytes written outside the protocol are
//!   [`InvalidValue`](ErrorKind::InvalidValue), never a value;
//! * [`Field::whole`] for a segment that is one atomic or one `SeqLock`,
//!   [`Field::index`] for an element of an array field (a
//!   `[AtomicU64; 8]` is walked element by element) and [`Field::then`] for
//!   a field of that element.
//!
//! There is no projection for [`ShmMutex`](crate::ShmMutex),
//! [`ShmCondvar`](crate::ShmCondvar), [`ShmEvent`](crate::ShmEvent),
//! [`ShmSemaphore`](crate::ShmSemaphore) or [`ShmQueue`](crate::ShmQueue):
//! their readers write (a lock word, a waiter count), so they cannot be used
//! from read-only memory at all; open such segments with
//! [`open`](crate::Segment::open). Nor does a monitor have a method that
//! writes. Both are compile errors:
//!
//! ```compile_fail
//! use shm_runtime::{field, Segment, SharedSafe, ShmMutex};
//! #[derive(SharedSafe)]
//! #[repr(C)]
//! struct Jobs { queue: ShmMutex<[u32; 8]> }
//! let jobs = Segment::posix("/jobs").read_only().monitor::<Jobs>().unwrap();
//! jobs.atomic(field!(Jobs, queue)); // error: `ShmMutex` is no `ReadOnlyLoad`
//! ```
//!
//! Fields made by [`Field::new`] from an offset are refused
//! ([`AccessError::UnprovenField`]): the monitor reads memory that other
//! processes write with atomics, and an offset taken on trust could name
//! half of an atomic, which a volatile copy would race with.
//!
//! Opening does not check the payload's values (a writer may be storing the
//! atomics and `SeqLock`s at that moment); nothing needs it: every integer
//! is valid, a `bool` is read as a byte, a `SeqLock` copy is checked when it
//! is read, and plain fields are read only as `AnyBitPattern` types.
//!
//! ```
//! use shm_runtime::{field, init, Segment, SeqLock, SharedSafe};
//! use std::sync::atomic::{AtomicBool, AtomicU32, Ordering};
//! use std::time::Duration;
//!
//! #[derive(SharedSafe, Clone, Copy, bytemuck::NoUninit, bytemuck::Zeroable)]
//! #[repr(C)]
//! struct Limits { max_jobs: u32, max_bytes: u32 }
//!
//! #[derive(SharedSafe, bytemuck::Zeroable)]
//! #[repr(C)]
//! struct Telemetry {
//!     version: u32,
//!     requests: [AtomicU32; 4],
//!     healthy: AtomicBool,
//!     limits: SeqLock<Limits>,
//! }
//!
//! let name = format!("/shm-runtime-doc-monitor-{}", std::process::id());
//! let service = Segment::posix(&name).remove_on_drop(true);
//! let telemetry = service.create(init::in_place(|t: &mut Telemetry| t.version = 3))?;
//! telemetry.requests[2].fetch_add(5, Ordering::Relaxed);
//! telemetry.healthy.store(true, Ordering::Release);
//! telemetry.limits.write(Limits { max_jobs: 8, max_bytes: 4096 });
//!
//! // The monitor: mapped read-only, no `unsafe`.
//! let monitor = Segment::posix(&name).read_only().monitor::<Telemetry>()?;
//! assert_eq!(monitor.read(field!(Telemetry, version))?, 3);
//! let requests = field!(Telemetry, requests);
//! let total: u32 = (0..requests.len())
//!     .map(|i| Ok(monitor.atomic(requests.index(i)?)?.load()))
//!     .sum::<Result<u32, shm_runtime::volatile::AccessError>>()?;
//! assert_eq!(total, 5);
//! assert!(monitor.atomic(field!(Telemetry, healthy))?.load_acquire());
//! match monitor.seqlock(field!(Telemetry, limits)) {
//!     Ok(limits) => assert_eq!(limits.read_timeout(Duration::from_secs(1))?.max_jobs, 8),
//!     // 32-bit targets: its 8-byte words cannot be loaded read-only.
//!     Err(e) => assert_eq!(e.kind(), shm_runtime::ErrorKind::Unsupported),
//! }
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Truncation
//!
//! Another process may shrink the object under the mapping. As for every
//! view (see [`crate::sigbus`]), the lost pages become private zero pages:
//! atomic loads and plain reads then return zeros,
//! [`is_truncated`](Monitor::is_truncated) turns true, and a `SeqLock`'s
//! [`read_timeout`](ReadOnlySeqLock::read_timeout) reports
//! [`Truncated`](ErrorKind::Truncated), as [`SeqLock::read_timeout`] does.

mod seqlock;

pub use seqlock::ReadOnlySeqLock;

use crate::error::{Error, ErrorKind, Result};
use crate::layout::check_value;
use crate::map::Mapping;
use crate::volatile::READ_ONLY_ATOMIC_LIMIT;
use crate::volatile::{field_ptr, AccessError, Field, ReadOnlyAtomic, ReadOnlyLoad};
use crate::{SeqLock, SharedSafe};
use bytemuck::AnyBitPattern;
use core::fmt;
use core::marker::PhantomData;
use core::mem::{size_of, MaybeUninit};
use core::ptr::NonNull;
use core::sync::atomic::AtomicU64;

/// A typed, read-only view of a segment's `T` (or of a slice `[T]`): loads
/// of its atomics, reads of its `SeqLock`s and copies of its plain fields,
/// never a reference into the mapping. Made by
/// [`Segment::read_only`](crate::Segment::read_only)`.monitor::<T>()` (or
/// `monitor::<[T]>()` for a slice segment,
/// [`monitor`](crate::Segment::<crate::segment::ReadOnly>::monitor)); see the
/// [module documentation](self) for what it can read and why.
///
/// Dropping it unmaps the memory in this process.
///
/// ```
/// use shm_runtime::{volatile::Field, Segment};
/// use std::sync::atomic::{AtomicU64, Ordering};
///
/// let name = format!("/shm-runtime-doc-mon-{}", std::process::id());
/// let counter = Segment::posix(&name).remove_on_drop(true).create(AtomicU64::new(0))?;
/// counter.fetch_add(7, Ordering::Relaxed);
/// let monitor = Segment::posix(&name).read_only().monitor::<AtomicU64>()?;
/// # #[cfg(target_pointer_width = "64")]
/// assert_eq!(monitor.atomic(Field::whole())?.load(), 7);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Monitor<T: ?Sized> {
    /// The payload, inside `mapping`, mapped read-only.
    ptr: NonNull<T>,
    // Never borrowed out: the memory stays mapped for as long as `self` and
    // every projection borrowed from it live.
    mapping: Mapping,
}

// SAFETY: the view hands out copies of parts of `T` (so `T: Send` to move
// them between threads) and loads of its atomics (`Sync`); its mapping may
// be used and unmapped from any thread.
unsafe impl<T: ?Sized + Send + Sync> Send for Monitor<T> {}
// SAFETY: as above; every access through `&Monitor` is a volatile copy of
// plain data (not written after creation) or an atomic load, which several
// threads may perform at once.
unsafe impl<T: ?Sized + Send + Sync> Sync for Monitor<T> {}

impl<T: ?Sized> Monitor<T> {
    /// Wraps the payload at `ptr` of a mapping made by a typed open.
    ///
    /// # Safety
    /// `ptr` points into `mapping`, aligned, and the bytes of
    /// `size_of_val(ptr)` from it are mapped readable and exist in the
    /// object; the segment's header proved that they hold a `T` (a `[U]` of
    /// that length) published by its creator, which only atomics and this
    /// crate's protocols change since.
    pub(crate) unsafe fn from_mapping(mapping: Mapping, ptr: NonNull<T>) -> Monitor<T> {
        Monitor { ptr, mapping }
    }

    /// Whether another process truncated the segment's object under this
    /// view: its lost pages then read as zeros (see the
    /// [module documentation](self#truncation)). Always false for System V
    /// segments, which cannot shrink.
    ///
    /// ```
    /// use shm_runtime::Segment;
    /// let name = format!("/shm-runtime-doc-montr-{}", std::process::id());
    /// let _made = Segment::posix(&name).remove_on_drop(true).create(1u64)?;
    /// assert!(!Segment::posix(&name).read_only().monitor::<u64>()?.is_truncated());
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn is_truncated(&self) -> bool {
        self.mapping.truncated()
    }

    /// The address of the mapped value (of the first element, for a slice),
    /// for foreign functions. The memory is mapped read-only: a write
    /// through the pointer raises `SIGSEGV`; and only what the module
    /// documentation lists may be loaded through it.
    ///
    /// ```
    /// use shm_runtime::Segment;
    /// let name = format!("/shm-runtime-doc-monptr-{}", std::process::id());
    /// let _made = Segment::posix(&name).remove_on_drop(true).create(3u64)?;
    /// let monitor = Segment::posix(&name).read_only().monitor::<u64>()?;
    /// // SAFETY: valid and aligned while `monitor` lives; plain data.
    /// assert_eq!(unsafe { monitor.as_ptr().read_volatile() }, 3);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn as_ptr(&self) -> *const T {
        self.ptr.as_ptr()
    }
}

impl<T: SharedSafe> Monitor<T> {
    fn place(&self) -> Place<'_, T> {
        Place {
            ptr: self.ptr,
            mapping: &self.mapping,
            _view: PhantomData,
        }
    }

    /// The atomic at `field`, which can only be loaded: an integer atomic,
    /// or an `AtomicBool` (its byte loaded as an `AtomicU8`, `!= 0`).
    /// Refused with [`AccessError::ReadOnlyAtomicTooWide`] where std allows
    /// no load of its size from read-only memory (an `AtomicU64` on a 32-bit
    /// target: see [`READ_ONLY_ATOMIC_LIMIT`]), and with
    /// [`AccessError::UnprovenField`] for a field made by [`Field::new`].
    ///
    /// ```
    /// use shm_runtime::{field, init, Segment, SharedSafe};
    /// use std::sync::atomic::{AtomicU32, Ordering};
    ///
    /// #[derive(SharedSafe, bytemuck::Zeroable)]
    /// #[repr(C)]
    /// struct Stats { hits: [AtomicU32; 2] }
    ///
    /// let name = format!("/shm-runtime-doc-monat-{}", std::process::id());
    /// let stats = Segment::posix(&name).remove_on_drop(true).create(init::zeroed::<Stats>())?;
    /// stats.hits[1].store(9, Ordering::Release);
    /// let monitor = Segment::posix(&name).read_only().monitor::<Stats>()?;
    /// assert_eq!(monitor.atomic(field!(Stats, hits).index(1)?)?.load_acquire(), 9);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn atomic<At: ReadOnlyLoad>(
        &self,
        field: Field<T, At>,
    ) -> core::result::Result<ReadOnlyAtomic<'_, At>, AccessError> {
        self.place().atomic(field)
    }

    /// The [`SeqLock`] at `field`, for consistent copies of its value.
    /// [`Unsupported`](ErrorKind::Unsupported) where its 8-byte words exceed
    /// [`READ_ONLY_ATOMIC_LIMIT`] (32-bit targets), or for a field made by
    /// [`Field::new`].
    ///
    /// ```
    /// use shm_runtime::{volatile::Field, Segment, SeqLock};
    /// use std::time::Duration;
    ///
    /// let name = format!("/shm-runtime-doc-monsl-{}", std::process::id());
    /// let config = Segment::posix(&name).remove_on_drop(true).create(SeqLock::new([1u32, 2]))?;
    /// config.write([3, 4]);
    /// let monitor = Segment::posix(&name).read_only().monitor::<SeqLock<[u32; 2]>>()?;
    /// # #[cfg(target_pointer_width = "64")]
    /// assert_eq!(monitor.seqlock(Field::whole())?.read_timeout(Duration::from_secs(1))?, [3, 4]);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn seqlock<U: SharedSafe + Copy>(
        &self,
        field: Field<T, SeqLock<U>>,
    ) -> Result<ReadOnlySeqLock<'_, U>> {
        self.place().seqlock(field)
    }

    /// A volatile copy of the plain field at `field`, of a type whose every
    /// bit pattern is valid. Plain data is written only when the segment is
    /// created (later writes go through atomics and locks), so the copy is
    /// whole; a program that writes it outside the protocol (a C peer's
    /// plain store) may leave it torn, which `AnyBitPattern` makes harmless.
    /// [`AccessError::UnprovenField`] for a field made by [`Field::new`].
    ///
    /// ```
    /// use shm_runtime::{field, init, Segment, SharedSafe};
    /// use std::sync::atomic::AtomicU64;
    ///
    /// #[derive(SharedSafe, bytemuck::Zeroable)]
    /// #[repr(C)]
    /// struct Board { version: u64, id: [u8; 8], ticks: AtomicU64 }
    ///
    /// let name = format!("/shm-runtime-doc-monrd-{}", std::process::id());
    /// let board = Segment::posix(&name)
    ///     .remove_on_drop(true)
    ///     .create(init::in_place(|b: &mut Board| { b.version = 2; b.id = *b"board-01" }))?;
    /// let monitor = Segment::posix(&name).read_only().monitor::<Board>()?;
    /// assert_eq!(monitor.read(field!(Board, version))?, 2);
    /// assert_eq!(&monitor.read(field!(Board, id))?, b"board-01");
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read<F: AnyBitPattern>(
        &self,
        field: Field<T, F>,
    ) -> core::result::Result<F, AccessError> {
        self.place().read(field)
    }

    /// A volatile copy of the plain field at `field`, of a type with
    /// invalid bit patterns (`bool`, an enum, `NonZero*`, `FixedString`, a
    /// struct holding one), checked whole before it is returned:
    /// [`InvalidValue`](ErrorKind::InvalidValue) if the bytes are no valid
    /// `F` (a C peer's plain store, or one torn by such a store, made them),
    /// never an invalid value; [`Truncated`](ErrorKind::Truncated) when
    /// they are the zeros that replace a truncated segment's lost pages. Of any plain `F` (`Copy`: no atomic, no lock
    /// inside). [`Unsupported`](ErrorKind::Unsupported) for a field made by
    /// [`Field::new`].
    ///
    /// ```
    /// use shm_runtime::{field, init, FixedString, Segment, SharedSafe};
    ///
    /// #[derive(SharedSafe, Clone, Copy, PartialEq, Debug)]
    /// #[repr(u8)]
    /// enum Mode { Idle, Busy }
    ///
    /// #[derive(SharedSafe)]
    /// #[repr(C)]
    /// struct Board { mode: Mode, armed: bool, name: FixedString<15> }
    ///
    /// let name = format!("/shm-runtime-doc-monrc-{}", std::process::id());
    /// let _board = Segment::posix(&name).remove_on_drop(true).create(Board {
    ///     mode: Mode::Busy,
    ///     armed: true,
    ///     name: FixedString::try_from("pump-2").unwrap(),
    /// })?;
    /// let monitor = Segment::posix(&name).read_only().monitor::<Board>()?;
    /// assert_eq!(monitor.read_checked(field!(Board, mode))?, Mode::Busy);
    /// assert!(monitor.read_checked(field!(Board, armed))?);
    /// assert_eq!(monitor.read_checked(field!(Board, name))?.as_str(), "pump-2");
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn read_checked<F: SharedSafe + Copy>(&self, field: Field<T, F>) -> Result<F> {
        self.place().read_checked(field)
    }
}

impl<T: SharedSafe> Monitor<[T]> {
    /// The number of elements.
    ///
    /// ```
    /// use shm_runtime::{init, Segment};
    /// use std::sync::atomic::AtomicU32;
    /// let name = format!("/shm-runtime-doc-monlen-{}", std::process::id());
    /// let _slots = Segment::posix(&name).remove_on_drop(true).create(init::zeroed_slice::<AtomicU32>(3))?;
    /// assert_eq!(Segment::posix(&name).read_only().monitor::<[AtomicU32]>()?.len(), 3);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.ptr.len()
    }

    /// Whether the slice has no elements.
    ///
    /// ```
    /// use shm_runtime::{init, Segment};
    /// let name = format!("/shm-runtime-doc-monemp-{}", std::process::id());
    /// let _slots = Segment::posix(&name).remove_on_drop(true).create(init::zeroed_slice::<u64>(1))?;
    /// assert!(!Segment::posix(&name).read_only().monitor::<[u64]>()?.is_empty());
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Element `index`, read by the same projections as a `Monitor<T>`, or
    /// `None` past the end.
    ///
    /// ```
    /// use shm_runtime::{init, volatile::Field, Segment};
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// let name = format!("/shm-runtime-doc-monget-{}", std::process::id());
    /// let slots = Segment::posix(&name).remove_on_drop(true).create(init::zeroed_slice::<AtomicU32>(4))?;
    /// slots[3].store(8, Ordering::Relaxed);
    /// let monitor = Segment::posix(&name).read_only().monitor::<[AtomicU32]>()?;
    /// let last = monitor.get(3).expect("4 slots");
    /// assert_eq!(last.atomic(Field::whole())?.load(), 8);
    /// assert!(monitor.get(4).is_none());
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self, index: usize) -> Option<Element<'_, T>> {
        if index >= self.len() {
            return None;
        }
        // SAFETY: `index < len`: an element of the mapped slice, aligned.
        let ptr = unsafe { self.ptr.cast::<T>().add(index) };
        Some(Element {
            place: Place {
                ptr,
                mapping: &self.mapping,
                _view: PhantomData,
            },
        })
    }
}

impl<T: ?Sized> fmt::Debug for Monitor<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Monitor")
            .field("type", &std::any::type_name::<T>())
            .field("mapped", &self.mapping.len())
            .field("truncated", &self.is_truncated())
            .finish_non_exhaustive()
    }
}

/// One element of a [`Monitor<[T]>`](Monitor), from
/// [`Monitor::get`]: the same projections as a `Monitor<T>`.
///
/// ```
/// use shm_runtime::{field, init, Segment, SharedSafe};
/// use std::sync::atomic::AtomicU64;
///
/// #[derive(SharedSafe, bytemuck::Zeroable)]
/// #[repr(C)]
/// struct Worker { pid: u32, jobs: AtomicU64 }
///
/// let name = format!("/shm-runtime-doc-monel-{}", std::process::id());
/// let _pool = Segment::posix(&name)
///     .remove_on_drop(true)
///     .create(init::from_fn(2, |i| Worker { pid: 100 + i as u32, jobs: AtomicU64::new(0) }))?;
/// let monitor = Segment::posix(&name).read_only().monitor::<[Worker]>()?;
/// let second = monitor.get(1).expect("2 workers");
/// assert_eq!(second.read(field!(Worker, pid))?, 101);
/// # #[cfg(target_pointer_width = "64")]
/// assert_eq!(second.atomic(field!(Worker, jobs))?.load(), 0);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Element<'a, T> {
    place: Place<'a, T>,
}

impl<T: SharedSafe> Element<'_, T> {
    /// As [`Monitor::atomic`], in this element.
    ///
    /// ```
    /// use shm_runtime::{init, volatile::Field, Segment};
    /// use std::sync::atomic::AtomicU16;
    /// let name = format!("/shm-runtime-doc-monela-{}", std::process::id());
    /// let _s = Segment::posix(&name).remove_on_drop(true).create(init::from_fn(2, |i| AtomicU16::new(i as u16)))?;
    /// let monitor = Segment::posix(&name).read_only().monitor::<[AtomicU16]>()?;
    /// assert_eq!(monitor.get(1).unwrap().atomic(Field::whole())?.load(), 1);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn atomic<At: ReadOnlyLoad>(
        &self,
        field: Field<T, At>,
    ) -> core::result::Result<ReadOnlyAtomic<'_, At>, AccessError> {
        self.place.atomic(field)
    }

    /// As [`Monitor::seqlock`], in this element.
    ///
    /// ```
    /// use shm_runtime::{init, volatile::Field, Segment, SeqLock};
    /// use std::time::Duration;
    /// let name = format!("/shm-runtime-doc-monels-{}", std::process::id());
    /// let _s = Segment::posix(&name).remove_on_drop(true).create(init::from_fn(2, |i| SeqLock::new(i as u8)))?;
    /// let monitor = Segment::posix(&name).read_only().monitor::<[SeqLock<u8>]>()?;
    /// # #[cfg(target_pointer_width = "64")]
    /// assert_eq!(monitor.get(1).unwrap().seqlock(Field::whole())?.try_read(), Some(1));
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn seqlock<U: SharedSafe + Copy>(
        &self,
        field: Field<T, SeqLock<U>>,
    ) -> Result<ReadOnlySeqLock<'_, U>> {
        self.place.seqlock(field)
    }

    /// As [`Monitor::read`], in this element.
    ///
    /// ```
    /// use shm_runtime::{init, volatile::Field, Segment};
    /// let name = format!("/shm-runtime-doc-monelr-{}", std::process::id());
    /// let _s = Segment::posix(&name).remove_on_drop(true).create(init::from_fn(3, |i| i as u32 * 10))?;
    /// let monitor = Segment::posix(&name).read_only().monitor::<[u32]>()?;
    /// assert_eq!(monitor.get(2).unwrap().read(Field::whole())?, 20);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read<F: AnyBitPattern>(
        &self,
        field: Field<T, F>,
    ) -> core::result::Result<F, AccessError> {
        self.place.read(field)
    }

    /// As [`Monitor::read_checked`], in this element.
    ///
    /// ```
    /// use shm_runtime::{init, volatile::Field, Segment};
    /// let name = format!("/shm-runtime-doc-monelc-{}", std::process::id());
    /// let _s = Segment::posix(&name).remove_on_drop(true).create(init::from_fn(3, |i| i == 1))?;
    /// let monitor = Segment::posix(&name).read_only().monitor::<[bool]>()?;
    /// assert!(monitor.get(1).unwrap().read_checked(Field::whole())?);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn read_checked<F: SharedSafe + Copy>(&self, field: Field<T, F>) -> Result<F> {
        self.place.read_checked(field)
    }
}

impl<T> fmt::Debug for Element<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Element")
            .field("type", &std::any::type_name::<T>())
            .finish_non_exhaustive()
    }
}

/// A `T` in read-only memory that a monitor borrows for `'a`: the one
/// implementation of the projections.
struct Place<'a, T> {
    /// Aligned, inside a read-only mapping that stays mapped for `'a`, and
    /// proven by the segment's header to hold a published `T`.
    ptr: NonNull<T>,
    /// The mapping, to tell a truncation.
    mapping: &'a Mapping,
    _view: PhantomData<&'a T>,
}

impl<'a, T: SharedSafe> Place<'a, T> {
    /// The address of `field`, proven to hold an `F`.
    fn project<F>(&self, field: Field<T, F>) -> core::result::Result<NonNull<F>, AccessError> {
        if !field.is_proven() {
            return Err(AccessError::UnprovenField {
                offset: field.offset(),
            });
        }
        // SAFETY: `self.ptr` points to a `T` (the place's invariant).
        Ok(unsafe { field_ptr(self.ptr, field) })
    }

    fn atomic<At: ReadOnlyLoad>(
        &self,
        field: Field<T, At>,
    ) -> core::result::Result<ReadOnlyAtomic<'a, At>, AccessError> {
        let ptr = self.project(field)?;
        // SAFETY: a proven field: an `At` of the published `T`, aligned,
        // mapped for `'a`. The reference is never handed out:
        // `ReadOnlyAtomic` only loads through it, relaxed, and refuses an
        // atomic wider than std allows on read-only memory.
        let atomic: &'a At = unsafe { ptr.as_ref() };
        ReadOnlyAtomic::new(atomic)
    }

    fn seqlock<U: SharedSafe + Copy>(
        &self,
        field: Field<T, SeqLock<U>>,
    ) -> Result<ReadOnlySeqLock<'a, U>> {
        let ptr = self.project(field).map_err(|e| {
            Error::new(
                ErrorKind::Unsupported,
                format!("reading a `SeqLock` through a monitor: {e}"),
            )
        })?;
        if size_of::<AtomicU64>() > READ_ONLY_ATOMIC_LIMIT {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "reading a `SeqLock` through a monitor: its 8-byte atomic words cannot be \
                     loaded from read-only memory on this target (at most \
                     {READ_ONLY_ATOMIC_LIMIT} bytes); open the segment with `open`"
                ),
            ));
        }
        // SAFETY: a proven field: a `SeqLock<U>` of the published `T`,
        // aligned, mapped for `'a`. The reference is never handed out;
        // `ReadOnlySeqLock` only calls the lock's read path that does
        // relaxed loads (of 8 bytes, allowed here: checked above) and fences.
        let lock: &'a SeqLock<U> = unsafe { ptr.as_ref() };
        Ok(ReadOnlySeqLock { lock })
    }

    fn read<F: AnyBitPattern>(&self, field: Field<T, F>) -> core::result::Result<F, AccessError> {
        let ptr = self.project(field)?;
        // SAFETY: a proven field: an `F` of the published `T`, aligned and
        // mapped for `'a`; `F: AnyBitPattern` is `Copy`, so it holds no
        // `UnsafeCell` and is plain data, written only at creation (before
        // the header published it); any bytes are a valid `F`; a volatile
        // copy creates no reference.
        Ok(unsafe { ptr.as_ptr().read_volatile() })
    }

    fn read_checked<F: SharedSafe + Copy>(&self, field: Field<T, F>) -> Result<F> {
        let ptr = self.project(field).map_err(|e| {
            Error::new(
                ErrorKind::Unsupported,
                format!("reading a field through a monitor: {e}"),
            )
        })?;
        // SAFETY: a proven field: an `F` of the published `T`, aligned and
        // mapped for `'a`. `F: Copy` holds no `UnsafeCell` (no atomic, no
        // lock), so it is plain data, written only at creation or outside
        // the protocol. The copy is made as a `MaybeUninit<F>`, valid with
        // any bytes, by a volatile read that creates no reference.
        let copy = unsafe { ptr.as_ptr().cast::<MaybeUninit<F>>().read_volatile() };
        // SAFETY: `copy` is a local, aligned `F`-sized value nobody else
        // writes.
        unsafe { check_value::<F>(copy.as_ptr()) }.map_err(|invalid| {
            if self.mapping.truncated() {
                // The zero page that replaced a lost one, not a peer's bytes.
                return Error::new(
                    ErrorKind::Truncated,
                    format!(
                        "reading a `{}` through a monitor: the segment was truncated by \
                         another process (the field reads zeros)",
                        std::any::type_name::<F>()
                    ),
                );
            }
            Error::new(
                ErrorKind::InvalidValue,
                format!(
                    "reading a `{}` through a monitor: {invalid} (written outside this \
                     library's protocol)",
                    std::any::type_name::<F>()
                ),
            )
        })?;
        // SAFETY: checked just above: the bytes are a valid `F`.
        Ok(unsafe { copy.assume_init() })
    }
}

#[cfg(test)]
mod tests {
    //! In-process tests of the projections over an anonymous (writable)
    //! mapping, written through a raw pointer: they run under Miri. The
    //! read-only mappings of named segments are in `tests/monitor.rs`.
    use super::*;
    use crate::field;
    use core::sync::atomic::{AtomicBool, AtomicU32, AtomicU8, Ordering};
    use std::time::Duration;

    #[derive(
        Clone, Copy, Debug, PartialEq, crate::SharedSafe, bytemuck::NoUninit, bytemuck::Zeroable,
    )]
    #[repr(C)]
    struct Pair {
        a: u32,
        b: u32,
    }

    #[derive(crate::SharedSafe, bytemuck::Zeroable)]
    #[repr(C)]
    struct Board {
        version: u32,
        hits: [AtomicU32; 4],
        on: AtomicBool,
        wide: AtomicU64,
        pair: SeqLock<Pair>,
        rows: [Row; 2],
    }

    #[derive(crate::SharedSafe, bytemuck::Zeroable)]
    #[repr(C)]
    struct Row {
        id: u16,
        count: AtomicU32,
    }

    /// A monitor of a zeroed `Board` in an anonymous mapping, and a pointer
    /// through which the test writes it (as another process would).
    fn board() -> (Monitor<Board>, *mut Board) {
        let mapping = Mapping::anonymous(size_of::<Board>(), &crate::MapOptions::new(), "test")
            .expect("anonymous mapping");
        let ptr = mapping.ptr().cast::<Board>();
        // SAFETY: a fresh page-aligned zeroed mapping of at least
        // `size_of::<Board>()` bytes: zero bytes are a `Board` (Zeroable).
        let monitor = unsafe { Monitor::from_mapping(mapping, ptr) };
        (monitor, ptr.as_ptr())
    }

    /// Each projection reads what was stored: plain fields, integer atomics
    /// by array index, a flag, a nested field of an array element, and a
    /// SeqLock's value.
    #[test]
    fn projections_read_what_writers_stored() {
        let (monitor, ptr) = board();
        // SAFETY: the mapping lives as long as `monitor`; only this thread
        // uses it; shared references to the atomics and the SeqLock, a raw
        // write of the plain fields before any read.
        let board = unsafe {
            (*ptr).version = 7;
            (*ptr).rows[1].id = 42;
            &*ptr
        };
        board.hits[3].store(11, Ordering::Release);
        board.rows[1].count.store(5, Ordering::Relaxed);
        board.on.store(true, Ordering::Release);
        board.pair.write(Pair { a: 1, b: 2 });

        assert_eq!(monitor.read(field!(Board, version)), Ok(7));
        let hits = field!(Board, hits);
        let all: Vec<u32> = (0..hits.len())
            .map(|i| monitor.atomic(hits.index(i).unwrap()).unwrap().load())
            .collect();
        assert_eq!(all, [0, 0, 0, 11]);
        assert!(monitor.atomic(field!(Board, on)).unwrap().load_acquire());
        let row = field!(Board, rows).index(1).unwrap();
        assert_eq!(monitor.read(row.then(field!(Row, id))), Ok(42));
        assert_eq!(
            monitor.atomic(row.then(field!(Row, count))).unwrap().load(),
            5
        );
        if size_of::<AtomicU64>() <= READ_ONLY_ATOMIC_LIMIT {
            let pair = monitor.seqlock(field!(Board, pair)).unwrap();
            assert_eq!(pair.try_read(), Some(Pair { a: 1, b: 2 }));
            board.pair.write(Pair { a: 3, b: 4 });
            assert_eq!(
                pair.read_timeout(Duration::from_secs(1)).unwrap(),
                Pair { a: 3, b: 4 }
            );
        }
    }

    /// An `AtomicBool` is loaded as its byte: a byte other than 0 or 1
    /// (stored outside the protocol) is `true`, never an invalid `bool`.
    #[test]
    fn a_flag_byte_other_than_one_reads_as_true() {
        let (monitor, ptr) = board();
        // SAFETY: the flag's byte, as an `AtomicU8` (same size and address);
        // the mapping lives as long as `monitor`.
        let byte = unsafe { &*core::ptr::addr_of!((*ptr).on).cast::<AtomicU8>() };
        let on = monitor.atomic(field!(Board, on)).unwrap();
        assert!(!on.load());
        byte.store(2, Ordering::Relaxed);
        assert!(on.load());
    }

    /// An 8-byte atomic and a `SeqLock` (made of 8-byte words) are read
    /// where the target's read-only limit allows 8 bytes, and refused with
    /// typed errors where it does not (32-bit targets).
    #[test]
    fn atomics_wider_than_the_read_only_limit_are_refused() {
        let (monitor, ptr) = board();
        // SAFETY: as above.
        unsafe { &*ptr }.wide.store(u64::MAX, Ordering::Relaxed);
        let wide = monitor.atomic(field!(Board, wide));
        let seqlock = monitor.seqlock(field!(Board, pair));
        if size_of::<AtomicU64>() <= READ_ONLY_ATOMIC_LIMIT {
            assert_eq!(wide.unwrap().load(), u64::MAX);
            assert_eq!(seqlock.unwrap().try_read(), Some(Pair { a: 0, b: 0 }));
        } else {
            assert_eq!(
                wide.unwrap_err(),
                AccessError::ReadOnlyAtomicTooWide {
                    size: 8,
                    limit: READ_ONLY_ATOMIC_LIMIT
                }
            );
            let err = seqlock.unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Unsupported);
            assert!(err.to_string().contains("8-byte"), "{err}");
        }
        // 4 bytes fit every listed target.
        assert!(monitor
            .atomic(field!(Board, hits).index(0).unwrap())
            .is_ok());
    }

    /// Fields made from an offset are refused (they could name half of an
    /// atomic); an array index past the end is a typed error.
    #[test]
    fn unproven_fields_and_bad_indexes_are_refused() {
        let (monitor, _) = board();
        let offset = core::mem::offset_of!(Board, version);
        let unproven = Field::<Board, u32>::new(offset).unwrap();
        assert_eq!(
            monitor.read(unproven),
            Err(AccessError::UnprovenField { offset })
        );
        let inside = Field::<Board, AtomicU32>::new(core::mem::offset_of!(Board, hits)).unwrap();
        assert!(matches!(
            monitor.atomic(inside),
            Err(AccessError::UnprovenField { .. })
        ));
        let err = monitor
            .seqlock(
                Field::<Board, SeqLock<Pair>>::new(core::mem::offset_of!(Board, pair)).unwrap(),
            )
            .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::Unsupported);
        assert_eq!(
            field!(Board, hits).index(4).unwrap_err(),
            AccessError::IndexOutOfBounds {
                index: 4,
                count: 1,
                len: 4
            }
        );
        // A proven field stays proven through `then`, not with an unproven part.
        let row = field!(Board, rows).index(0).unwrap();
        assert!(row.then(field!(Row, id)).is_proven());
        assert!(!row.then(Field::<Row, u16>::new(0).unwrap()).is_proven());
    }

    /// A writer thread updates a `SeqLock` and an atomic while the monitor
    /// reads them: copies are never torn and loads never go back (under
    /// Miri, its data-race detector and weak-memory emulation check the
    /// read path's relaxed loads and fences too).
    #[test]
    fn concurrent_reads_are_never_torn() {
        if size_of::<AtomicU64>() > READ_ONLY_ATOMIC_LIMIT {
            return; // 32-bit: the SeqLock is refused (tested above).
        }
        const WRITES: u32 = if cfg!(miri) { 200 } else { 20_000 };
        let (monitor, ptr) = board();
        // SAFETY: the mapping lives as long as `monitor`, which outlives the
        // scope; only shared references, to atomics and the SeqLock.
        let board = unsafe { &*ptr };
        let pair = monitor.seqlock(field!(Board, pair)).unwrap();
        let ticks = monitor
            .atomic(field!(Board, hits).index(0).unwrap())
            .unwrap();
        let done = monitor.atomic(field!(Board, on)).unwrap();
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 1..=WRITES {
                    board.hits[0].store(i, Ordering::Release);
                    board.pair.write(Pair { a: i, b: !i });
                }
                board.on.store(true, Ordering::Release);
            });
            let mut last = 0;
            while !done.load_acquire() {
                let copy = pair.read_timeout(Duration::from_secs(10)).unwrap();
                assert!(copy.a == 0 && copy.b == 0 || copy.b == !copy.a, "{copy:?}");
                let now = ticks.load_acquire();
                // Write `copy.a` came after tick `copy.a`: seen through the
                // copy's synchronization.
                assert!(now >= copy.a && now >= last, "{now} {copy:?} {last}");
                last = now;
            }
        });
        assert_eq!(
            pair.try_read(),
            Some(Pair {
                a: WRITES,
                b: !WRITES
            })
        );
    }

    /// A slice monitor's elements: each read by the same projections, and
    /// none past the end.
    #[test]
    fn slice_elements_are_projected_by_index() {
        let mapping = Mapping::anonymous(4 * 4, &crate::MapOptions::new(), "test").unwrap();
        let first = mapping.ptr().cast::<AtomicU32>();
        // SAFETY: 4 zeroed, aligned `AtomicU32`s in the mapping.
        let slots = unsafe { core::slice::from_raw_parts(first.as_ptr(), 4) };
        let ptr = NonNull::slice_from_raw_parts(first, 4);
        // SAFETY: as in `board`, for 4 elements.
        let monitor: Monitor<[AtomicU32]> = unsafe { Monitor::from_mapping(mapping, ptr) };
        slots[2].store(9, Ordering::Relaxed);
        assert_eq!((monitor.len(), monitor.is_empty()), (4, false));
        let loads: Vec<u32> = (0..4)
            .map(|i| {
                monitor
                    .get(i)
                    .unwrap()
                    .atomic(Field::whole())
                    .unwrap()
                    .load()
            })
            .collect();
        assert_eq!(loads, [0, 0, 9, 0]);
        assert!(monitor.get(4).is_none());
        assert!(!monitor.is_truncated());
    }
}
