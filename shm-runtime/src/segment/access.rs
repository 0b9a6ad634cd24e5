//! The public surface of [`Segment`]: its options and its three verbs
//! (`create`, `open`, `open_or_create`), one impl block per access
//! (read-write, [`read_only`](Segment::read_only), [`raw`](Segment::raw)),
//! over the internal create and open functions of the parent module.
//!
//! The table of what each access offers is in the
//! [module documentation](super#the-surface).

use super::{layout_of, Segment};
use crate::error::Result;
use crate::init::{sealed, Elem, FromFn, Init, Payload};
use crate::volatile::{Access, ReadOnly, ReadWrite, Volatile};
use crate::{MapOptions, Monitor, Shared, SharedSafe};
use std::fmt;
use std::marker::PhantomData;
use std::time::Duration;

/// The access of a [`Segment`] whose objects have no header: those made by
/// (or for) C, C++ or Python programs, viewed through [`Volatile`] copies
/// (see [raw mode](super#raw-mode)). `Raw` (`Raw<ReadWrite>`) from
/// [`Segment::raw`]; `Raw<ReadOnly>` from that one's
/// [`read_only`](Segment::<Raw>::read_only).
///
/// ```
/// use shm_runtime::segment::{Raw, Segment};
/// use shm_runtime::volatile::ReadOnly;
/// let writer: Segment<Raw> = Segment::posix("/peer").raw();
/// let reader: Segment<Raw<ReadOnly>> = writer.read_only();
/// # let _ = reader;
/// ```
pub struct Raw<A = ReadWrite>(PhantomData<A>);

impl<A> Clone for Raw<A> {
    fn clone(&self) -> Self {
        Raw(PhantomData)
    }
}

impl<A> fmt::Debug for Raw<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Raw<{}>", std::any::type_name::<A>())
    }
}

mod creates {
    pub trait Sealed {}
}

/// The accesses whose segments can be created, and so have the options of
/// creation ([`mode`](Segment::mode), [`reserve`](Segment::reserve),
/// [`remove_on_drop`](Segment::remove_on_drop)): [`ReadWrite`] (typed) and
/// [`Raw`]`<ReadWrite>`. Implemented by those two only.
///
/// ```compile_fail
/// use shm_runtime::segment::Segment;
/// // A read-only segment is never created: it has no mode.
/// let segment = Segment::posix("/board").read_only().mode(0o640);
/// ```
pub trait Creates: creates::Sealed {}

impl creates::Sealed for ReadWrite {}
impl creates::Sealed for Raw<ReadWrite> {}
impl Creates for ReadWrite {}
impl Creates for Raw<ReadWrite> {}

/// The options of every access: how opening waits, whom it trusts, how it
/// maps.
impl<A> Segment<A> {
    /// How long opening waits for a segment that another process is still
    /// initializing (default 5 s) before failing with
    /// [`TimedOut`](crate::ErrorKind::TimedOut).
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// use std::time::Duration;
    /// let segment = Segment::posix("/jobs").open_timeout(Duration::from_millis(200));
    /// # let _ = segment;
    /// ```
    pub fn open_timeout(mut self, timeout: Duration) -> Self {
        self.open_timeout = timeout;
        self
    }

    /// Allows opening a segment that another user owns (refused by default
    /// with [`ForeignOwner`](crate::ErrorKind::ForeignOwner); see the
    /// [module documentation](super#security)).
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let segment = Segment::posix("/team-board").allow_foreign_owner(true);
    /// # let _ = segment;
    /// ```
    pub fn allow_foreign_owner(mut self, allow: bool) -> Self {
        self.allow_foreign_owner = allow;
        self
    }

    /// Prefaulting, huge pages and locking for the mapping (see
    /// [`MapOptions`]). Explicit huge pages are refused for named and file
    /// segments, whose pages belong to their file system.
    ///
    /// ```
    /// use shm_runtime::{segment::Segment, MapOptions};
    /// let segment = Segment::posix("/hot").map_options(MapOptions::new().prefault(true));
    /// # let _ = segment;
    /// ```
    pub fn map_options(mut self, options: MapOptions) -> Self {
        self.map_options = options;
        self
    }

    /// Whether opening waits for the segment's name to appear, up to
    /// [`open_timeout`](Self::open_timeout), when it does not exist yet
    /// (default: no, a missing name is [`NotFound`](crate::ErrorKind::NotFound) at
    /// once). For a program started before the one that creates the
    /// segment: it polls for the name with a back-off (sleeps growing to 10
    /// ms, never a busy loop), then waits for the segment to be ready as
    /// always; nothing after the timeout is
    /// [`TimedOut`](crate::ErrorKind::TimedOut), naming the segment. Applies to
    /// `open` in every access; `open_or_create` creates a missing segment
    /// instead.
    ///
    /// ```
    /// use shm_runtime::{segment::Segment, ErrorKind};
    /// use std::time::Duration;
    /// let err = Segment::posix(format!("/shm-runtime-doc-wait-{}", std::process::id()))
    ///     .wait_for_creation(true)
    ///     .open_timeout(Duration::from_millis(30))
    ///     .open::<u64>()
    ///     .unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::TimedOut);
    /// ```
    pub fn wait_for_creation(mut self, wait: bool) -> Self {
        self.wait_for_creation = wait;
        self
    }
}

/// The options of creation, for the accesses that create
/// ([`Creates`]: typed read-write and raw read-write).
impl<A: Creates> Segment<A> {
    /// The permission bits of a segment this builder creates (default
    /// 0600, owner only), set exactly whatever the umask.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let segment = Segment::posix("/shared-with-my-group").mode(0o660);
    /// # let _ = segment;
    /// ```
    pub fn mode(mut self, mode: u32) -> Self {
        self.mode = mode & 0o7777;
        self
    }

    /// Whether creation reserves the whole object's memory or disk blocks
    /// (`posix_fallocate`; the default, `true`).
    ///
    /// Reserving costs time and space in proportion to the size (every page
    /// is allocated and zeroed up front: a sparse 16 GiB table takes 16 GiB
    /// of `/dev/shm` at once), and makes a full `/dev/shm` or disk an
    /// [`OutOfMemory`](crate::ErrorKind::OutOfMemory) error at creation. Without
    /// it, creation is as cheap as `ftruncate` whatever the size, and pages
    /// are allocated when first written: a process that touches a new page
    /// when the file system is full is then killed by `SIGBUS` — which no
    /// handler can repair, since there is no page to share (this crate's
    /// handler lets that `SIGBUS` through, see [`crate::sigbus`]). Choose
    /// `false` for large, sparsely used segments on a file system known to
    /// have room.
    ///
    /// ```
    /// use shm_runtime::{init, segment::Segment};
    /// let sparse = Segment::posix(format!("/shm-runtime-doc-sparse-{}", std::process::id()))
    ///     .reserve(false)
    ///     .remove_on_drop(true)
    ///     .create(init::zeroed_slice::<u64>(1 << 24))?; // 128 MiB, allocated as written
    /// assert_eq!(sparse[12345], 0);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn reserve(mut self, reserve: bool) -> Self {
        self.reserve = reserve;
        self
    }

    /// Whether the view that creates the segment (returned by `create`, or
    /// by `open_or_create` in the process that created or reclaimed it, or
    /// a raw `open` that created the object) removes the segment's name
    /// when dropped. Default: no, a named segment outlives its processes.
    /// Views that opened an existing segment never remove it. Only the
    /// object the view maps is removed: if the name was removed and reused
    /// in between, the new segment is left alone.
    ///
    /// ```
    /// use shm_runtime::{segment::Segment, ErrorKind};
    /// let name = format!("/shm-runtime-doc-rod-{}", std::process::id());
    /// let value = Segment::posix(&name).remove_on_drop(true).create(1u16)?;
    /// drop(value);
    /// let err = Segment::posix(&name).open::<u16>().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::NotFound);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn remove_on_drop(mut self, remove: bool) -> Self {
        self.remove_on_drop = remove;
        self
    }
}

/// Typed, read-write: the segments of this library, with a checked header.
impl Segment<ReadWrite> {
    /// Whether creating replaces a *stale* segment of the same name instead
    /// of failing with [`AlreadyExists`](crate::ErrorKind::AlreadyExists): for a
    /// program that restarts after `SIGKILL` or `SIGTERM` and finds the
    /// segment it made with [`remove_on_drop`](Self::remove_on_drop) left
    /// behind. Default: no. Applies to [`create`](Self::create) and
    /// [`open_or_create`](Self::open_or_create) (which then replaces a stale
    /// segment rather than open it; the view's [`origin`](Shared::origin)
    /// is then [`Reclaimed`](super::Origin::Reclaimed)).
    ///
    /// A segment is stale when it was made with `remove_on_drop` (its
    /// lifetime was tied to its creator's) and its creator is dead: judged
    /// by the pid, PID namespace and process start time its header records,
    /// so a new process that reused the pid does not keep it alive. A
    /// segment made without `remove_on_drop` is meant to outlive its
    /// creator and is never replaced; nor is one whose creator lives or
    /// cannot be judged from here (another PID namespace). One whose creator
    /// died while initializing it is replaced too. See
    /// [restarting after a crash](super#restarting-after-a-crash) for what
    /// happens to the processes that still map the old one (they keep it).
    ///
    /// ```
    /// use shm_runtime::segment::{Origin, Segment};
    /// let segment = Segment::posix(format!("/shm-runtime-doc-stale-{}", std::process::id()))
    ///     .remove_on_drop(true)
    ///     .replace_stale(true);
    /// let stats = segment.create(0u64)?; // nothing left behind: created
    /// assert_eq!(stats.origin(), Origin::Created);
    /// // This process lives, so its segment is not stale: never replaced.
    /// assert!(segment.create(1u64).is_err());
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn replace_stale(mut self, replace: bool) -> Self {
        self.replace_stale = replace;
        self
    }

    /// The same segment and options, to open read-only: `O_RDONLY`,
    /// `PROT_READ`, `SHM_RDONLY`, enough with read permission only. A new
    /// builder: `self` stays as it was, for the writers. It can only
    /// [`open`](Segment::<ReadOnly>::open); see
    /// [read-only views](super#read-only-views).
    ///
    /// ```compile_fail
    /// use shm_runtime::segment::Segment;
    /// // A read-only segment cannot be created: no `create` there.
    /// let value = Segment::posix("/board").read_only().create(1u32);
    /// ```
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let name = format!("/shm-runtime-doc-toro-{}", std::process::id());
    /// let _made = Segment::posix(&name).remove_on_drop(true).create([3u8; 4])?;
    /// assert_eq!(*Segment::posix(&name).read_only().open::<[u8; 4]>()?, [3; 4]);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn read_only(&self) -> Segment<ReadOnly> {
        self.clone().with_access()
    }

    /// The same name and options, as an object without header: raw mode,
    /// for C, C++ and Python peers (see [raw mode](super#raw-mode)). A new
    /// builder: `self` stays as it was. Its views are
    /// [`Volatile`], and it has the options of raw views
    /// ([`offset`](Segment::<Raw>::offset), [`len`](Segment::<Raw>::len),
    /// [`create_new`](Segment::<Raw>::create_new),
    /// [`create_missing`](Segment::<Raw>::create_missing)), which typed
    /// segments, whose header is at offset 0, do not have.
    ///
    /// ```compile_fail
    /// use shm_runtime::segment::Segment;
    /// // A typed segment starts with its header: it has no offset.
    /// let value = Segment::posix("/jobs").offset(8).open::<u64>();
    /// ```
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-raw-{}", std::process::id()));
    /// std::fs::write(&path, 258u16.to_ne_bytes())?; // as a C program would
    /// let value = Segment::file(&path).raw().open::<u16>()?;
    /// assert_eq!(value.read(), 258);
    /// value.write(259);
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn raw(&self) -> Segment<Raw> {
        self.clone().with_access()
    }

    /// Creates the segment exclusively holding what `init` makes: a value
    /// moved in, or one of the [`init`](crate::init) initializers (zeroed,
    /// built in place, a slice). [`AlreadyExists`](crate::ErrorKind::AlreadyExists)
    /// if the name is taken (see [`replace_stale`](Self::replace_stale)).
    /// Nothing is published before `init` has run: openers wait; if it
    /// panics, the name is removed and waiting openers get
    /// [`CreatorDied`](crate::ErrorKind::CreatorDied).
    ///
    /// A value passes through the stack; for large types use
    /// [`init::zeroed`](crate::init::zeroed) or
    /// [`init::in_place`](crate::init::in_place).
    ///
    /// ```
    /// use shm_runtime::{init, segment::Segment, ErrorKind};
    /// use std::sync::atomic::AtomicU32;
    ///
    /// let segment = Segment::posix(format!("/shm-runtime-doc-create-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let flag = segment.create(AtomicU32::new(1))?;
    /// let again = segment.create(AtomicU32::new(2)).unwrap_err();
    /// assert_eq!(again.kind(), ErrorKind::AlreadyExists);
    /// # drop(flag);
    ///
    /// let slices = Segment::posix(format!("/shm-runtime-doc-cslice-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let squares = slices.create(init::from_fn(10, |i| (i * i) as u64))?;
    /// assert_eq!(squares[9], 81);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn create<T: ?Sized + Payload>(&self, init: impl Init<T>) -> Result<Shared<T>> {
        let len = sealed::InitSealed::len(&init);
        let view = self.create_layout(&layout_of::<T>(), len, |payload| {
            // SAFETY: `create_layout` hands over the payload zero-filled,
            // aligned for the elements, `len` of them long, and private to
            // this process until it is published after this returns.
            unsafe { sealed::InitSealed::write(init, payload.cast()) }
        })?;
        // SAFETY: the payload holds what `init` made (written, or zero bytes
        // valid for its `ZeroInit` types).
        unsafe { self.view_of(view) }
    }

    /// Opens the existing segment as a `T`, or as a slice with `T = [U]`
    /// (of the length it was created with), after checking its header (see
    /// [what opening checks](super#what-opening-checks)); waits up to
    /// [`open_timeout`](Self::open_timeout) for a segment still being
    /// initialized.
    ///
    /// ```
    /// use shm_runtime::{init, segment::Segment, ErrorKind};
    /// let segment = Segment::posix(format!("/shm-runtime-doc-open-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let value = segment.create(7i64)?;
    /// assert_eq!(*segment.open::<i64>()?, 7);
    /// let wrong = segment.open::<u64>().unwrap_err();
    /// assert_eq!(wrong.kind(), ErrorKind::WrongType);
    /// assert!(wrong.to_string().contains("holds `i64`"));
    /// # drop(value);
    ///
    /// let bytes = Segment::posix(format!("/shm-runtime-doc-oslice-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let created = bytes.create(init::from_fn(3, |i| i as u8))?;
    /// assert_eq!(&*bytes.open::<[u8]>()?, &[0, 1, 2]);
    /// # drop(created);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn open<T: ?Sized + Payload>(&self) -> Result<Shared<T>> {
        let view = self.open_layout(&layout_of::<T>(), true)?;
        self.checked_view(view)
    }

    /// Opens the segment, or creates it with `init` if it does not exist:
    /// of any number of processes racing, exactly one creates it and the
    /// others wait until it is ready. A segment whose creator died while
    /// initializing it is reclaimed (see the
    /// [module documentation](super#reclaiming-a-segment-whose-creator-died)),
    /// and so is a stale one with [`replace_stale`](Self::replace_stale).
    /// `init` writes only in the process that creates or reclaims it (an
    /// existing slice keeps its own length, which may differ from
    /// `init`'s); the view's [`origin`](Shared::origin) tells which path was
    /// taken.
    ///
    /// A value passed as `init` is built before the call, whichever path is
    /// taken: `SharedSafe` types have no `Drop`, so one that is not written
    /// costs only its construction. Pass
    /// [`init::in_place`](crate::init::in_place) for a value expensive to
    /// build: its closure runs only in the process that creates the
    /// segment.
    ///
    /// ```
    /// use shm_runtime::segment::{Origin, Segment};
    /// use shm_runtime::init;
    /// use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
    ///
    /// let segment = Segment::posix(format!("/shm-runtime-doc-ooc-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let a = segment.open_or_create(AtomicU64::new(10))?; // creates
    /// let b = segment.open_or_create(AtomicU64::new(99))?; // opens
    /// assert_eq!((a.origin(), b.origin()), (Origin::Created, Origin::Opened));
    /// b.fetch_add(1, Ordering::Relaxed);
    /// assert_eq!(a.load(Ordering::Relaxed), 11);
    ///
    /// let slots = Segment::posix(format!("/shm-runtime-doc-oocs-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let c = slots.open_or_create(init::zeroed_slice::<AtomicU32>(64))?; // creates
    /// let d = slots.open_or_create(init::zeroed_slice::<AtomicU32>(8))?; // opens: 64 long
    /// assert_eq!((c.len(), d.len()), (64, 64));
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn open_or_create<T: ?Sized + Payload>(&self, init: impl Init<T>) -> Result<Shared<T>> {
        let len = sealed::InitSealed::len(&init);
        let view = self.open_or_create_layout(&layout_of::<T>(), len, |payload| {
            // SAFETY: as in `create`: zero-filled (fresh, or zeroed on
            // reclaim), aligned, `len` elements, private until published.
            unsafe { sealed::InitSealed::write(init, payload.cast()) }
        })?;
        self.checked_view(view)
    }
}

/// Typed, read-only: a monitor that may only read, and cannot corrupt what
/// it watches (see [read-only views](super#read-only-views)).
impl Segment<ReadOnly> {
    /// Opens the existing segment read-only as a `T` (or a slice, `T =
    /// [U]`), for types without interior mutability
    /// ([`TypeLayout::has_interior_mutability`](crate::layout::TypeLayout::has_interior_mutability)):
    /// plain data, the fixed-capacity types, and structs and arrays of them.
    ///
    /// A type with an atomic, a lock or a [`SeqLock`](crate::SeqLock) is a
    /// compile error (its `&T` has methods that store, and an atomic or lock
    /// operation on read-only memory is undefined behaviour): read its
    /// atomics and `SeqLock`s through [`monitor`](Self::monitor), open it
    /// writable, or see [`open_unchecked`](Self::open_unchecked). The error
    /// is raised when the call is compiled to code (`cargo build`, `cargo
    /// test`), not by `cargo check`.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// use shm_runtime::{init, FixedString, SharedSafe};
    ///
    /// #[derive(SharedSafe, Clone, Copy)]
    /// #[repr(C)]
    /// struct Config {
    ///     workers: u32,
    ///     verbose: bool,
    ///     name: FixedString<16>,
    /// }
    ///
    /// let segment = Segment::posix(format!("/shm-runtime-doc-ro-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let _made = segment.create(Config { workers: 4, verbose: false, name: "api".parse()? })?;
    /// // A reader with read permission only: no `unsafe`.
    /// let config = segment.read_only().open::<Config>()?;
    /// assert_eq!((config.workers, config.name.as_str()), (4, "api"));
    ///
    /// let table = Segment::posix(format!("/shm-runtime-doc-ros-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let _made = table.create(init::from_fn(4, |i| i as u32 * 10))?;
    /// assert_eq!(table.read_only().open::<[u32]>()?[3], 30);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    ///
    /// Atomics could be stored to through `&T`: refused when compiled.
    ///
    /// ```compile_fail
    /// use shm_runtime::segment::Segment;
    /// use std::sync::atomic::AtomicU64;
    /// let counters = Segment::posix("/counters").read_only().open::<[AtomicU64; 4]>();
    /// ```
    pub fn open<T: ?Sized + Payload>(&self) -> Result<Shared<T>> {
        const {
            if let Some(part) = <Elem<T> as SharedSafe>::LAYOUT.interior_mutable_part() {
                refuse_read_only(part)
            }
        };
        let view = self.open_layout(&layout_of::<T>(), false)?;
        self.checked_view(view)
    }

    /// Opens the existing segment read-only, for any `SharedSafe` type (or
    /// slice of one): a monitor reading another process's atomic counters,
    /// for instance.
    ///
    /// # Safety
    /// Nothing may write through the returned view: no atomic store,
    /// `fetch_*`, `swap` or compare-exchange, no lock taken. The memory is
    /// mapped `PROT_READ` (`SHM_RDONLY`), so such a write raises `SIGSEGV`.
    ///
    /// The only atomic operations allowed are those std allows on
    /// read-only memory ("Atomic accesses to read-only memory" in
    /// `std::sync::atomic`): `Relaxed` loads of at most 8 bytes on 64-bit
    /// targets (x86-64, AArch64, RISC-V 64, PowerPC 64, s390x, LoongArch 64)
    /// and of at most 4 bytes on 32-bit ones (x86, ARM). Any other ordering,
    /// a wider load, a compare-exchange that would fail, and every
    /// operation of a type this crate builds on atomics (a
    /// [`SeqLock`](crate::SeqLock) read loads with an acquire ordering) is
    /// undefined behaviour on such a mapping, whatever the hardware does
    /// with it: 128-bit loads and lock-based fallbacks do write.
    ///
    /// For such types, read through [`monitor`](Self::monitor), which needs
    /// no `unsafe`, or open the segment writable ([`Segment::open`]) even to
    /// read it.
    ///
    /// ```
    /// use shm_runtime::{init, segment::Segment};
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// let segment = Segment::posix(format!("/shm-runtime-doc-rou-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let slots = segment.create(init::zeroed_slice::<AtomicU64>(4))?;
    /// slots[3].store(7, Ordering::Relaxed);
    /// let reader = segment.read_only();
    /// // SAFETY: the monitor only makes `Relaxed` loads of 8 bytes.
    /// let monitor = unsafe { reader.open_unchecked::<[AtomicU64]>()? };
    /// assert_eq!(monitor[3].load(Ordering::Relaxed), 7);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub unsafe fn open_unchecked<T: ?Sized + Payload>(&self) -> Result<Shared<T>> {
        let view = self.open_layout(&layout_of::<T>(), false)?;
        self.checked_view(view)
    }

    /// Opens the existing segment read-only as a [`Monitor`], for any
    /// `SharedSafe` type or slice (`T = [U]`): atomics,
    /// [`SeqLock`](crate::SeqLock)s, plain fields, and structs and arrays of
    /// them. The same header checks, waits and errors as
    /// [`open`](Self::open). The monitor hands out no reference into the
    /// mapping: it loads atomics (relaxed, as std allows on read-only
    /// memory), reads `SeqLock`s and copies plain fields, each named with
    /// [`field!`](crate::field!). Locks (`ShmMutex` and the others, whose
    /// readers write) cannot be read through it. The payload is not checked
    /// on open: every read checks what it returns. See the
    /// [`monitor`](crate::monitor) module.
    ///
    /// ```
    /// use shm_runtime::{field, init, volatile::Field, Segment, SharedSafe};
    /// use std::sync::atomic::{AtomicU32, Ordering};
    ///
    /// #[derive(SharedSafe, bytemuck::Zeroable)]
    /// #[repr(C)]
    /// struct Stats { started: u32, requests: AtomicU32 }
    ///
    /// let name = format!("/shm-runtime-doc-om-{}", std::process::id());
    /// let segment = Segment::posix(&name).remove_on_drop(true);
    /// let stats = segment.create(init::in_place(|s: &mut Stats| s.started = 1))?;
    /// stats.requests.fetch_add(3, Ordering::Relaxed);
    /// // A process with read permission only: no `unsafe`.
    /// let monitor = Segment::posix(&name).read_only().monitor::<Stats>()?;
    /// assert_eq!(monitor.atomic(field!(Stats, requests))?.load(), 3);
    /// assert_eq!(monitor.read(field!(Stats, started))?, 1);
    ///
    /// // A slice: a monitor of every worker's slot.
    /// let slots_name = format!("/shm-runtime-doc-oms-{}", std::process::id());
    /// let slots = Segment::posix(&slots_name)
    ///     .remove_on_drop(true)
    ///     .create(init::zeroed_slice::<AtomicU32>(4))?;
    /// slots[2].store(7, Ordering::Relaxed);
    /// let monitor = Segment::posix(&slots_name).read_only().monitor::<[AtomicU32]>()?;
    /// let loads = (0..monitor.len())
    ///     .map(|i| Ok(monitor.get(i).unwrap().atomic(Field::whole())?.load()))
    ///     .collect::<Result<Vec<u32>, shm_runtime::volatile::AccessError>>()?;
    /// assert_eq!(loads, [0, 0, 7, 0]);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn monitor<T: ?Sized + Payload>(&self) -> Result<Monitor<T>> {
        let view = self.open_layout(&layout_of::<T>(), false)?;
        // SAFETY: the payload lies inside the mapping at `offset`, aligned
        // for the elements (page-aligned base, offset a multiple of the
        // alignment).
        let first = unsafe { view.mapping.ptr().add(view.offset) }.cast::<Elem<T>>();
        let ptr = <T as sealed::PayloadSealed>::from_parts(first, view.len);
        // SAFETY: the header proved a published payload of this layout
        // there (`view.len` elements for a slice), mapped read-only and
        // within the object.
        Ok(unsafe { Monitor::from_mapping(view.mapping, ptr) })
    }

    /// The same name, read-only and without header: raw mode, read-only
    /// (as [`Segment::raw`] then [`read_only`](Segment::<Raw>::read_only)).
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-rorw-{}", std::process::id()));
    /// std::fs::write(&path, 7u32.to_ne_bytes())?;
    /// assert_eq!(Segment::file(&path).read_only().raw().open::<u32>()?.read(), 7);
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn raw(&self) -> Segment<Raw<ReadOnly>> {
        self.clone().with_access()
    }
}

/// The compile-time refusal of a read-only open of a type that holds
/// `part` (an atomic, a lock...), naming it and the way to read it: the
/// message is assembled in a buffer, as a `const` panic takes one `&str`.
const fn refuse_read_only(part: &crate::layout::TypeLayout) -> ! {
    let monitored =
        matches!(part.kind, crate::layout::LayoutKind::Scalar(_)) || const_eq(part.name, "SeqLock");
    let hint = if monitored {
        "read it without `unsafe` through `read_only().monitor()`"
    } else {
        "its readers write too"
    };
    let pieces = [
        "a read-only segment cannot be opened as a type that holds `",
        part.name,
        "`: its `&T` has methods that store (an atomic or lock operation on read-only memory \
         is undefined behaviour); ",
        hint,
        "; or open the segment writable (or, for `Relaxed` loads only, read-only with \
         `unsafe` `open_unchecked`)",
    ];
    let mut buf = [0u8; 1024];
    let mut len = 0;
    let mut i = 0;
    while i < pieces.len() {
        let bytes = pieces[i].as_bytes();
        let mut j = 0;
        while j < bytes.len() && len < buf.len() {
            buf[len] = bytes[j];
            len += 1;
            j += 1;
        }
        i += 1;
    }
    match std::str::from_utf8(buf.split_at(len).0) {
        Ok(message) => panic!("{}", message),
        Err(_) => panic!("a read-only segment cannot be opened as a type with interior mutability"),
    }
}

/// `a == b`, in a `const` context.
const fn const_eq(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Raw, read-write: objects without header, which this process may write
/// and create.
impl Segment<Raw> {
    /// Whether `open` creates the object exclusively instead of opening it
    /// (default: no): zero-filled, as long as the [`offset`](Self::offset)
    /// plus the view, with [`mode`](Self::mode), [`reserve`](Self::reserve)
    /// and [`remove_on_drop`](Self::remove_on_drop) applied. An existing
    /// name is [`AlreadyExists`](crate::ErrorKind::AlreadyExists). Like `O_CREAT |
    /// O_EXCL` (std's `OpenOptions::create_new`); a C peer never sees the
    /// object shorter than that where creation publishes atomically (see
    /// [Creation](super#creation)). A slice view needs its
    /// [`len`](Self::len) then.
    ///
    /// ```
    /// use shm_runtime::{segment::Segment, ErrorKind};
    /// let name = format!("/shm-runtime-doc-rawnew-{}", std::process::id());
    /// let make = Segment::posix(&name).raw().create_new(true).remove_on_drop(true);
    /// // One zeroed `u32` for a C peer, which opens `/dev/shm/...` itself.
    /// let flag = make.open::<u32>()?;
    /// assert_eq!(flag.read(), 0);
    /// flag.write(1);
    /// assert_eq!(Segment::posix(&name).raw().open::<u32>()?.read(), 1);
    /// assert_eq!(make.open::<u32>().unwrap_err().kind(), ErrorKind::AlreadyExists);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn create_new(mut self, create: bool) -> Self {
        self.create_new = create;
        self
    }

    /// Whether `open` creates the object, zero-filled, when it does not
    /// exist (default: no): open-or-create for segments without header,
    /// like `O_CREAT` (std's `OpenOptions::create`). Of processes racing,
    /// one creates and the others open what it made; an existing object
    /// keeps its contents and size (a shorter one is
    /// [`TooShort`](crate::ErrorKind::TooShort)).
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let segment = Segment::posix(format!("/shm-runtime-doc-rawooc-{}", std::process::id()))
    ///     .raw()
    ///     .create_missing(true)
    ///     .remove_on_drop(true)
    ///     .len(64);
    /// let table = segment.open::<[u16]>()?; // creates it
    /// table.set(3, 7)?;
    /// assert_eq!(segment.open::<[u16]>()?.get(3), Some(7)); // opens it
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create_missing(mut self, create: bool) -> Self {
        self.create_missing = create;
        self
    }

    /// The same object, mapped read-only: needs read permission only, and
    /// the views have no method that writes (`Volatile<_, ReadOnly>`).
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-rawro-{}", std::process::id()));
    /// std::fs::write(&path, [9u8; 3])?;
    /// let reader = Segment::file(&path).raw().read_only();
    /// assert_eq!(reader.open::<[u8]>()?.to_vec(), [9, 9, 9]);
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_only(&self) -> Segment<Raw<ReadOnly>> {
        self.clone().with_access()
    }

    /// Creates an object without header, exclusively, holding exactly
    /// `len` elements, element `i` being `element(i)`
    /// ([`init::from_fn(len, element)`](crate::init::from_fn)): the layout a
    /// C, C++ or Python program expects. Where the object can be published
    /// atomically (POSIX objects and files on Linux), it gets its name only
    /// once every element is written, so those programs never see it
    /// half-written; elsewhere (System V, other platforms) they cannot tell
    /// whether it is: start them after this returns. Padding bytes are
    /// written as zeros: nothing of this process's stack lands in the
    /// object. (A zero-filled object is made by `open` with
    /// [`create_new`](Self::create_new).)
    ///
    /// ```
    /// use shm_runtime::{init, segment::Segment};
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-rawc-{}", std::process::id()));
    /// let data = Segment::file(&path)
    ///     .raw()
    ///     .remove_on_drop(true)
    ///     .create(init::from_fn(3, |i| i as u16))?;
    /// data.flush()?;
    /// assert_eq!(std::fs::read(&path)?.len(), 6);
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn create<T, F>(&self, init: FromFn<T, F>) -> Result<Volatile<[T]>>
    where
        T: SharedSafe + bytemuck::AnyBitPattern,
        F: FnMut(usize) -> T,
    {
        self.create_raw(init)
    }
}

/// Raw, either access: where the view lies, how long it is, and `open`.
impl<A: Access> Segment<Raw<A>> {
    /// Where in the object the view lies, in bytes from its start (default
    /// 0): a view of one record of a large file maps only the pages that
    /// hold it, as Boost's `mapped_region(shm, mode, offset, size)` or
    /// memmap2's `offset` do. Any offset that is a multiple of the viewed
    /// type's alignment: the mapping starts at the page that holds it, which
    /// this library handles. The object must reach `offset` plus the view's
    /// size ([`TooShort`](crate::ErrorKind::TooShort) otherwise); a slice view
    /// without [`len`](Self::len) views the whole elements from `offset` to
    /// the end.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-off-{}", std::process::id()));
    /// // A C program's file of 100 000 records of 8 bytes.
    /// std::fs::write(&path, (0..100_000u64).flat_map(u64::to_ne_bytes).collect::<Vec<_>>())?;
    /// let record = Segment::file(&path).raw().read_only().offset(8 * 76_543).open::<u64>()?;
    /// assert_eq!(record.read(), 76_543);
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn offset(mut self, bytes: u64) -> Self {
        self.offset = bytes;
        self
    }

    /// The element count of a slice view (`open::<[T]>()`): the object must
    /// hold that many from the [`offset`](Self::offset)
    /// ([`TooShort`](crate::ErrorKind::TooShort) otherwise), and one created by
    /// [`create_new`](Segment::<Raw>::create_new) or
    /// [`create_missing`](Segment::<Raw>::create_missing) is made that long.
    /// Unset (the default), a slice view maps every whole element of the
    /// object from the offset, for peers that do not say how many they
    /// wrote: a size that is no whole number of elements is then
    /// [`InvalidSize`](crate::ErrorKind::InvalidSize), the type being probably not
    /// the one the peer wrote. A value (`open::<T>()`) refuses a length with
    /// [`Unsupported`](crate::ErrorKind::Unsupported).
    ///
    /// ```
    /// use shm_runtime::{segment::Segment, ErrorKind};
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-rawlen-{}", std::process::id()));
    /// std::fs::write(&path, [1u16, 2, 3].map(u16::to_ne_bytes).concat())?;
    /// let raw = Segment::file(&path).raw();
    /// assert_eq!(raw.clone().len(2).open::<[u16]>()?.to_vec(), [1, 2]);
    /// assert_eq!(raw.open::<[u16]>()?.to_vec(), [1, 2, 3]); // the whole object
    /// let err = raw.clone().len(4).open::<[u16]>().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::TooShort);
    /// let err = raw.open::<[u32]>().unwrap_err(); // 6 bytes
    /// assert_eq!(err.kind(), ErrorKind::InvalidSize);
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    #[allow(clippy::len_without_is_empty)]
    pub fn len(mut self, len: usize) -> Self {
        self.raw_len = Some(len);
        self
    }

    /// Maps the object as a `T`, or a slice with `T = [U]` (see
    /// [`len`](Self::len)), from the [`offset`](Self::offset), for volatile
    /// access (see [raw mode](super#raw-mode)); with
    /// [`create_new`](Segment::<Raw>::create_new) or
    /// [`create_missing`](Segment::<Raw>::create_missing), creates it
    /// zero-filled. Refuses an object shorter than the view
    /// ([`TooShort`](crate::ErrorKind::TooShort)), and one that starts with this
    /// library's header ([`TypedSegment`](crate::ErrorKind::TypedSegment)): open
    /// those typed. The view is a `Volatile<T>`, or a `Volatile<T,
    /// ReadOnly>` from a read-only segment, which has no method that writes.
    ///
    /// ```
    /// use shm_runtime::{segment::Segment, ErrorKind};
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-raws-{}", std::process::id()));
    /// std::fs::write(&path, [1u8, 2, 3, 4])?;
    /// assert_eq!(Segment::file(&path).raw().len(4).open::<[u8]>()?.to_vec(), [1, 2, 3, 4]);
    /// let err = Segment::file(&path).raw().len(5).open::<[u8]>().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::TooShort);
    /// let first = Segment::file(&path).raw().read_only().open::<u8>()?;
    /// assert_eq!(first.read(), 1);
    /// std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn open<T>(&self) -> Result<Volatile<T, A>>
    where
        T: ?Sized + Payload,
        Elem<T>: bytemuck::AnyBitPattern,
    {
        self.open_raw_payload::<T, A>()
    }
}
