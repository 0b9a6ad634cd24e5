//! The builder: [`Segment`] with its constructors and options, the
//! accesses ([`Raw`], the [`Creates`] marker) and the conversions between
//! them. Options exist only on the accesses where they mean something.

use super::sysv::SysvKey;
use super::target::Target;
use crate::volatile::{Access, ReadOnly, ReadWrite};
use crate::MapOptions;
use std::fmt;
use std::marker::PhantomData;
use std::path::Path;
use std::time::{Duration, Instant};

/// The default of [`Segment::open_timeout`].
///
/// ```
/// assert_eq!(shm_runtime::segment::DEFAULT_OPEN_TIMEOUT.as_secs(), 5);
/// ```
pub const DEFAULT_OPEN_TIMEOUT: Duration = Duration::from_secs(5);

/// The default of [`Segment::mode`]: read and write for the owner only.
///
/// ```
/// assert_eq!(shm_runtime::segment::DEFAULT_MODE, 0o600);
/// ```
pub const DEFAULT_MODE: u32 = 0o600;

/// A named segment (POSIX shared memory), a file, or a System V segment,
/// with the options to create or open it.
///
/// `Segment` is a builder: the constructors name the segment, the options
/// return the changed builder, and `create`, `open` and `open_or_create` do
/// the work. It can be kept and reused. The access `A` is typed read-write
/// by default; [`read_only`](Segment::read_only) and [`raw`](Segment::raw)
/// give the others (see [the surface](super#the-surface) for the table).
/// See the [module documentation](super) for what opening checks and for
/// the creation protocol.
///
/// ```
/// use shm_runtime::segment::Segment;
/// use std::time::Duration;
///
/// let name = format!("/shm-runtime-doc-segment-{}", std::process::id());
/// let segment = Segment::posix(&name)
///     .mode(0o640)
///     .open_timeout(Duration::from_secs(1))
///     .remove_on_drop(true);
/// let table = segment.create([7u32; 16])?;
/// assert_eq!(segment.open::<[u32; 16]>()?[15], 7);
/// # drop(table);
/// # Ok::<(), shm_runtime::Error>(())
/// ```
#[derive(Clone, Debug)]
pub struct Segment<A = ReadWrite> {
    pub(super) target: Target,
    pub(super) mode: u32,
    pub(super) open_timeout: Duration,
    pub(super) allow_foreign_owner: bool,
    pub(super) map_options: MapOptions,
    pub(super) remove_on_drop: bool,
    pub(super) reserve: bool,
    pub(super) replace_stale: bool,
    pub(super) wait_for_creation: bool,
    pub(super) offset: u64,
    pub(super) create_new: bool,
    pub(super) create_missing: bool,
    /// Raw mode: the element count of a slice view (`None`: the whole
    /// object).
    pub(super) raw_len: Option<usize>,
    pub(super) access: PhantomData<A>,
}

impl<A> fmt::Display for Segment<A> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.target.what())
    }
}

impl Segment {
    fn new(target: Target) -> Segment {
        Segment {
            target,
            mode: DEFAULT_MODE,
            open_timeout: DEFAULT_OPEN_TIMEOUT,
            allow_foreign_owner: false,
            map_options: MapOptions::new(),
            remove_on_drop: false,
            reserve: true,
            replace_stale: false,
            wait_for_creation: false,
            offset: 0,
            create_new: false,
            create_missing: false,
            raw_len: None,
            access: PhantomData,
        }
    }

    /// A POSIX shared memory segment (`shm_open`), named like `/my-app.jobs`:
    /// a leading `/`, no other `/`, at most 255 bytes. A bad name is an
    /// [`InvalidName`](crate::ErrorKind::InvalidName) error at create or open.
    ///
    /// ```
    /// use shm_runtime::{segment::Segment, ErrorKind};
    /// let err = Segment::posix("no-slash").open::<u32>().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::InvalidName);
    /// ```
    pub fn posix(name: impl Into<String>) -> Segment {
        Segment::new(Target::Posix(name.into()))
    }

    /// A file mapped with `MAP_SHARED`: its contents persist across runs.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-file-{}", std::process::id()));
    /// let counter = Segment::file(&path).remove_on_drop(true).create(41u64)?;
    /// counter.flush()?; // msync: the value is in the file now
    /// assert_eq!(*Segment::file(&path).open::<u64>()?, 41);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn file(path: impl AsRef<Path>) -> Segment {
        Segment::new(Target::File(path.as_ref().to_owned()))
    }

    /// A System V segment (`shmget`/`shmat`) of `key`.
    ///
    /// ```
    /// use shm_runtime::segment::{Segment, SysvKey};
    /// let key = SysvKey::new(0x5e00_0000 | (std::process::id() as i32 & 0xffff) << 4 | 1);
    /// let value = Segment::sysv(key).remove_on_drop(true).create(5u8)?;
    /// assert_eq!(*Segment::sysv(key).open::<u8>()?, 5);
    /// # drop(value);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn sysv(key: SysvKey) -> Segment {
        Segment::new(Target::SysV(key))
    }
}

/// The builder's internals.
impl<A> Segment<A> {
    /// The same segment and options, with another access.
    fn with_access<B>(self) -> Segment<B> {
        Segment {
            target: self.target,
            mode: self.mode,
            open_timeout: self.open_timeout,
            allow_foreign_owner: self.allow_foreign_owner,
            map_options: self.map_options,
            remove_on_drop: self.remove_on_drop,
            reserve: self.reserve,
            replace_stale: self.replace_stale,
            wait_for_creation: self.wait_for_creation,
            offset: self.offset,
            create_new: self.create_new,
            create_missing: self.create_missing,
            raw_len: self.raw_len,
            access: PhantomData,
        }
    }

    pub(super) fn what(&self) -> super::target::What<'_> {
        self.target.what()
    }

    pub(super) fn deadline(&self) -> Instant {
        Instant::now()
            .checked_add(self.open_timeout)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(86400 * 365))
    }
}

/// The access of a [`Segment`] whose objects have no header: those made by
/// (or for) C, C++ or Python programs, viewed through [`Volatile`](crate::Volatile) copies
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

/// The options of typed read-write segments, and the other accesses.
impl Segment<ReadWrite> {
    /// Whether creating replaces a *stale* segment of the same name instead
    /// of failing with [`AlreadyExists`](crate::ErrorKind::AlreadyExists): for a
    /// program that restarts after `SIGKILL` or `SIGTERM` and finds the
    /// segment it made with [`remove_on_drop`](Self::remove_on_drop) left
    /// behind. Default: no. Applies to [`create`](Self::create) and
    /// [`open_or_create`](Self::open_or_create) (which then replaces a stale
    /// segment rather than open it; the view's [`origin`](crate::Shared::origin)
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
    /// [`Volatile`](crate::Volatile), and it has the options of raw views
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
}

/// Typed read-only: the conversion to raw mode.
impl Segment<ReadOnly> {
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

/// The options of raw read-write segments: what `open` creates.
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
}

/// The options of raw views, either access: where the view lies and how
/// long it is.
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
}
