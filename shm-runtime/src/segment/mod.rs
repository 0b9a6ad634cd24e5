//! Named and file-backed segments: POSIX shared memory, files and System V
//! segments, each starting with a checked header.
//!
//! A [`Segment`] names a segment and holds the options to create or open it;
//! its methods return a [`Shared<T>`] or [`Shared<[T]>`](Shared) view.
//!
//! ```
//! use shm_runtime::segment::Segment;
//! use shm_runtime::SharedSafe;
//! use std::sync::atomic::{AtomicU64, Ordering};
//!
//! #[derive(SharedSafe)]
//! #[repr(C)]
//! struct Stats {
//!     requests: AtomicU64,
//! }
//!
//! let name = format!("/shm-runtime-doc-module-{}", std::process::id());
//! // The creator: exclusive, mode 0600, removes the name when dropped.
//! let stats = Segment::posix(&name)
//!     .remove_on_drop(true)
//!     .create(Stats { requests: AtomicU64::new(0) })?;
//! // Any other process (here the same one) opens it by name and type.
//! let other = Segment::posix(&name).open::<Stats>()?;
//! other.requests.fetch_add(1, Ordering::Relaxed);
//! assert_eq!(stats.requests.load(Ordering::Relaxed), 1);
//! # Ok::<(), shm_runtime::Error>(())
//! ```
//!
//! # What opening checks
//!
//! Every segment starts with a header (layout in the `header` module
//! source): magic, format version, an atomic init state, the type's layout
//! [`Fingerprint`](crate::Fingerprint), its name, size and alignment, the
//! pointer width and byte order, the payload length and the creator's pid.
//! Opening validates all of it before it hands out `&T`:
//!
//! * the object is `fstat`ed first: one shorter than its header and payload
//!   is refused ([`TooShort`](ErrorKind::TooShort)) before any byte is
//!   touched, so a truncated segment never raises `SIGBUS` at open;
//! * a header that is not this library's is
//!   [`NotASegment`](ErrorKind::NotASegment), a newer format
//!   [`UnsupportedVersion`](ErrorKind::UnsupportedVersion), another platform
//!   [`Incompatible`](ErrorKind::Incompatible), another type
//!   [`WrongType`](ErrorKind::WrongType) (the message names both types);
//! * a segment still being initialized is waited for, with back-off, up to
//!   [`open_timeout`](Segment::open_timeout) (5 s by default), then
//!   [`TimedOut`](ErrorKind::TimedOut); one whose creator died or gave up
//!   while initializing it is [`CreatorDied`](ErrorKind::CreatorDied), and
//!   [`open_or_create`](Segment::open_or_create) reclaims it.
//!
//! The type name is informational: two programs that define the same
//! `#[repr(C)]` struct in different crates share a segment, because the
//! fingerprint (field names, types, offsets, size, alignment) matches.
//!
//! # Creation
//!
//! Creation is exclusive (`O_EXCL` / `IPC_EXCL`), sets the mode exactly
//! (`fchmod`, 0600 by default, whatever the umask), reserves the memory or
//! disk blocks (`posix_fallocate`, so a full `/dev/shm` or disk is an
//! [`OutOfMemory`](ErrorKind::OutOfMemory) error now, not a `SIGBUS` later),
//! initializes the value in place, and only then publishes "ready" with a
//! release store. If initialization fails or panics, the name is removed.
//!
//! # Reclaiming a segment whose creator died
//!
//! The header's state word packs the state and the creator's pid in one
//! atomic `u64`. A creator claims a fresh header with a compare-exchange
//! (uninitialized → initializing by pid P). An opener that finds
//! "initializing by P" while P no longer exists (`kill(P, 0)` fails with
//! `ESRCH`), or "abandoned", reports [`CreatorDied`](ErrorKind::CreatorDied);
//! `open_or_create` instead compare-exchanges the exact word it saw into
//! "initializing by me": of several reclaimers exactly one wins, zeroes and
//! initializes the payload, and publishes it; the others wait for it.
//! A pid is only trusted when the creator recorded the same PID namespace as
//! the opener's: across namespaces (containers sharing `/dev/shm`) a creator
//! is never declared dead, and openers time out instead. A zombie creator
//! (dead but not yet reaped by its parent) counts as dead: it never writes
//! again. A process whose main thread ended while others run counts as alive.
//!
//! # Security
//!
//! By default, opening a segment or file owned by another user is refused
//! with [`ForeignOwner`](ErrorKind::ForeignOwner): another user could have
//! created it in advance (names in `/dev/shm` are first come, first served)
//! to read or feed your data. Allow it with
//! [`allow_foreign_owner`](Segment::allow_foreign_owner) when sharing between
//! users is intended, and pick a [`mode`](Segment::mode) that lets them in.
//! Files are opened with `O_NOFOLLOW` (a planted symbolic link is refused)
//! and must be regular files; every descriptor is `O_CLOEXEC`.
//!
//! # Read-only views
//!
//! [`open_read_only`](Segment::open_read_only) maps the segment with
//! `PROT_READ`. Writing to it raises `SIGSEGV`, and `&T` allows writes
//! through interior mutability (an atomic's `fetch_add`, a lock), so the
//! safe read-only methods require `T: bytemuck::AnyBitPattern`, which
//! excludes interior mutability: through `&T` such a type can only be read.
//! To monitor atomics read-only, use
//! [`open_read_only_unchecked`](Segment::open_read_only_unchecked) and only
//! `load` them, and only atomics whose loads are plain load instructions:
//! std's atomics of 8 to 64 bits on the targets this crate builds for. A
//! load implemented as a compare-exchange (128-bit atomics on x86-64, 64-bit
//! ones on a 32-bit target without a 64-bit load, lock-based fallbacks)
//! writes, and faults on a read-only mapping; see that method's safety
//! section.
//!
//! # Hazards that remain
//!
//! A process with write access may still truncate the object after it was
//! opened; touching the lost pages then raises `SIGBUS`. Mode 0600 and the
//! foreign-owner check keep other users from doing so.
//!
//! Opening checks the *layout* (the fingerprint), not that every payload
//! byte is a valid value: for types with invalid bit patterns (`bool`,
//! `char`, `NonZero*`, enums) the bytes are trusted to have been written by
//! this library. A file segment edited by hand, or torn on disk by a crash
//! in the middle of a write-back, breaks that trust; for data that must
//! survive such damage, use types that accept any bit pattern (integers,
//! arrays of bytes, [`FixedString`](crate::FixedString), which validates
//! itself) and validate on read.
//!
//! A creator that dies after creating the name but before it claims the
//! header (a window of a few system calls) leaves an empty or all-zero
//! object that nothing distinguishes from another program's: openers time
//! out, with advice to remove it (`segment::unlink`, or `shm-tool rm`).
//!
//! # Raw mode
//!
//! [`open_raw`](Segment::open_raw) and friends map segments and files made
//! by (or for) C, C++ or Python programs, which have no header. Their bytes
//! come from a foreign program, so the type must accept any bit pattern
//! (`T: bytemuck::AnyBitPattern`), which also rules out atomics and every
//! other interior mutability: through `&T` the value can only be read.
//!
//! There is no header, so no type check, no init protocol and no waiting:
//! the only check is that the object is at least as long as the type or
//! slice asked for (a shorter one is refused with
//! [`TooShort`](ErrorKind::TooShort) before any access). If the foreign
//! program writes while this one reads, the reads race with its writes:
//! values may be torn or half-updated. Synchronizing them (a semaphore, a
//! pipe, a lock file, or simply running one after the other) is the user's
//! concern.
//!
//! A Python `multiprocessing.shared_memory.SharedMemory(name="jobs", ...)`
//! is the POSIX segment `/jobs`; the `people_reader` example maps the file
//! of the classic `map_normalfile1.c` writer.

mod file;
mod header;
pub mod inspect;
mod object;
mod posix;
mod raw;
mod sysv;

pub use sysv::SysvKey;

use crate::error::{Error, ErrorKind, Result};
use crate::map::{page_size, Mapping};
use crate::{MapOptions, Shared, SharedSafe};
use header::{HeaderPtr, Layout, Poll, HEADER_SIZE};
use object::{Identity, Object, Stat};
use std::ffi::CString;
use std::fmt;
use std::path::{Path, PathBuf};
use std::ptr::NonNull;
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

#[derive(Clone, Debug, PartialEq, Eq)]
enum Target {
    Posix(String),
    File(PathBuf),
    SysV(SysvKey),
}

/// A target whose name was checked and converted for the system calls.
enum Resolved {
    Posix(CString),
    File(CString),
    SysV(SysvKey),
}

impl Target {
    fn what(&self) -> String {
        match self {
            Target::Posix(name) => format!("segment `{}`", name.escape_debug()),
            Target::File(path) => format!("file `{}`", path.display()),
            Target::SysV(key) => format!("System V segment {key}"),
        }
    }

    fn resolve(&self) -> Result<Resolved> {
        Ok(match self {
            Target::Posix(name) => Resolved::Posix(posix::validate_name(name)?),
            Target::File(path) => Resolved::File(file::path_c(path, &self.what())?),
            Target::SysV(key) => Resolved::SysV(*key),
        })
    }

    /// Removes the name; with `identity`, only while the name still refers
    /// to that object, and a missing name is then not an error.
    fn remove(&self, identity: Option<Identity>) -> Result<()> {
        let what = self.what();
        match (self.resolve()?, identity) {
            (Resolved::Posix(name), None) => posix::unlink_c(&name, &what),
            (Resolved::Posix(name), Some(id)) => posix::unlink_if(&name, id, &what),
            (Resolved::File(path), None) => file::unlink_c(&path, &what),
            (Resolved::File(path), Some(id)) => file::unlink_if(&path, id, &what),
            (Resolved::SysV(_), Some(Identity::ShmId(id))) => sysv::remove_id(id, &what),
            (Resolved::SysV(key), _) => sysv::remove_id(sysv::open(key, &what)?, &what),
        }
    }
}

/// A named segment (POSIX shared memory), a file, or a System V segment,
/// with the options to create or open it.
///
/// `Segment` is a builder: the constructors name the segment, the options
/// return the changed builder, and `create*`/`open*` do the work. It can be
/// kept and reused. See the [module documentation](self) for what opening
/// checks and for the creation protocol.
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
pub struct Segment {
    target: Target,
    mode: u32,
    open_timeout: Duration,
    allow_foreign_owner: bool,
    map_options: MapOptions,
    remove_on_drop: bool,
}

impl fmt::Display for Segment {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.target.what())
    }
}

/// What a successful create or open maps: the mapping and where in it the
/// payload lies.
struct View {
    mapping: Mapping,
    offset: usize,
    len: usize,
    identity: Identity,
    /// Made (or reclaimed) by this process: removes the name on drop with
    /// `remove_on_drop`.
    created: bool,
}

/// What [`Segment::find`] found.
enum Found {
    /// A valid, ready segment of the requested type.
    Ready(View),
    /// A segment whose creator died or gave up, seen with state word `seen`.
    Abandoned {
        object: Object,
        stat: Stat,
        mapping: Mapping,
        seen: u64,
        pid: u32,
    },
}

/// Bounded exponential back-off until a deadline.
struct Backoff {
    deadline: Instant,
    pause: Duration,
}

impl Backoff {
    fn new(deadline: Instant) -> Backoff {
        Backoff {
            deadline,
            pause: Duration::from_micros(20),
        }
    }

    /// Sleeps a little; `false` once the deadline has passed.
    fn wait(&mut self) -> bool {
        let now = Instant::now();
        if now >= self.deadline {
            return false;
        }
        std::thread::sleep(self.pause.min(self.deadline - now));
        self.pause = (self.pause * 2).min(Duration::from_millis(10));
        true
    }
}

/// During initialization: on failure or panic, marks the header abandoned
/// (openers stop waiting) and removes the name of a segment this process
/// created.
struct InitGuard<'a> {
    target: &'a Target,
    remove: Option<Identity>,
    header: Option<HeaderPtr>,
    pid: u32,
}

impl InitGuard<'_> {
    fn disarm(mut self) {
        self.remove = None;
        self.header = None;
    }
}

impl Drop for InitGuard<'_> {
    fn drop(&mut self) {
        if let Some(header) = self.header {
            header.abandon(self.pid);
        }
        if let Some(identity) = self.remove {
            let _ = self.target.remove(Some(identity));
        }
    }
}

fn check_align(layout: &Layout, what: &str) -> Result<()> {
    if layout.align > page_size() {
        return Err(Error::new(
            ErrorKind::InvalidSize,
            format!(
                "{what}: the alignment {} of `{}` exceeds the page size {}",
                layout.align,
                layout.type_name,
                page_size()
            ),
        ));
    }
    Ok(())
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
        }
    }

    /// A POSIX shared memory segment (`shm_open`), named like `/my-app.jobs`:
    /// a leading `/`, no other `/`, at most 255 bytes. A bad name is an
    /// [`InvalidName`](ErrorKind::InvalidName) error at create or open.
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

    /// The permission bits of a segment this builder creates (default
    /// 0600, owner only), set exactly whatever the umask.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let segment = Segment::posix("/shared-with-my-group").mode(0o660);
    /// # let _ = segment;
    /// ```
    pub fn mode(mut self, mode: u32) -> Segment {
        self.mode = mode & 0o7777;
        self
    }

    /// How long opening waits for a segment that another process is still
    /// initializing (default 5 s) before failing with
    /// [`TimedOut`](ErrorKind::TimedOut).
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// use std::time::Duration;
    /// let segment = Segment::posix("/jobs").open_timeout(Duration::from_millis(200));
    /// # let _ = segment;
    /// ```
    pub fn open_timeout(mut self, timeout: Duration) -> Segment {
        self.open_timeout = timeout;
        self
    }

    /// Allows opening a segment that another user owns (refused by default
    /// with [`ForeignOwner`](ErrorKind::ForeignOwner); see the
    /// [module documentation](self#security)).
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let segment = Segment::posix("/team-board").allow_foreign_owner(true);
    /// # let _ = segment;
    /// ```
    pub fn allow_foreign_owner(mut self, allow: bool) -> Segment {
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
    pub fn map_options(mut self, options: MapOptions) -> Segment {
        self.map_options = options;
        self
    }

    /// Whether the view that creates the segment (returned by a `create*`
    /// method, or by `open_or_create` in the process that created or
    /// reclaimed it) removes the segment's name when dropped. Default: no, a
    /// named segment outlives its processes. Views returned by `open*` never
    /// remove it. Only the object the view maps is removed: if the name was
    /// removed and reused in between, the new segment is left alone.
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
    pub fn remove_on_drop(mut self, remove: bool) -> Segment {
        self.remove_on_drop = remove;
        self
    }

    /// Removes the segment's name (`shm_unlink`, `unlink`, or
    /// `shmctl(IPC_RMID)`). Processes that mapped it keep their mappings;
    /// the memory is freed when the last one unmaps it.
    ///
    /// ```
    /// use shm_runtime::{segment::Segment, ErrorKind};
    /// let segment = Segment::posix(format!("/shm-runtime-doc-rm-{}", std::process::id()));
    /// let value = segment.create(3u32)?;
    /// segment.remove()?;
    /// assert_eq!(*value, 3); // still mapped here
    /// assert_eq!(segment.remove().unwrap_err().kind(), ErrorKind::NotFound);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn remove(&self) -> Result<()> {
        self.target.remove(None)
    }

    /// A guard that removes the segment's name when dropped (an RAII
    /// remover), whether or not this process created it.
    ///
    /// ```
    /// use shm_runtime::{segment::Segment, ErrorKind};
    /// let segment = Segment::posix(format!("/shm-runtime-doc-owner-{}", std::process::id()));
    /// {
    ///     let _owner = segment.owner();
    ///     segment.create(1u8)?;
    ///     // ... even a panic here removes the name
    /// }
    /// assert_eq!(segment.open::<u8>().unwrap_err().kind(), ErrorKind::NotFound);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn owner(&self) -> SegmentOwner {
        SegmentOwner {
            target: self.target.clone(),
            identity: None,
            armed: true,
        }
    }

    fn what(&self) -> String {
        self.target.what()
    }

    fn deadline(&self) -> Instant {
        Instant::now()
            .checked_add(self.open_timeout)
            .unwrap_or_else(|| Instant::now() + Duration::from_secs(86400 * 365))
    }

    fn check_owner(&self, stat: &Stat) -> Result<()> {
        // SAFETY: `geteuid` has no preconditions.
        let me = unsafe { libc::geteuid() };
        if self.allow_foreign_owner || stat.uid == me {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::ForeignOwner,
            format!(
                "{} belongs to uid {}, not to this process's uid {me}: another user may have \
                 created it to read or feed your data; remove it, or call \
                 `.allow_foreign_owner(true)` if sharing between users is intended",
                self.what(),
                stat.uid
            ),
        ))
    }

    /// Creates the object exclusively, sized `len` bytes and reserved.
    fn create_object(&self, len: usize) -> Result<(Object, Stat)> {
        let what = self.what();
        let sized = |fd: std::os::fd::OwnedFd| -> Result<(Object, Stat)> {
            object::size_and_reserve(&fd, len, &what)?;
            let stat = object::fstat(&fd, &what)?;
            Ok((Object::Fd(fd), stat))
        };
        match self.target.resolve()? {
            Resolved::Posix(name) => {
                let fd = posix::create(&name, self.mode, &what)?;
                sized(fd).inspect_err(|_| {
                    let _ = posix::unlink_c(&name, &what);
                })
            }
            Resolved::File(path) => {
                let fd = file::create(&path, self.mode, &what)?;
                sized(fd).inspect_err(|_| {
                    let _ = file::unlink_c(&path, &what);
                })
            }
            Resolved::SysV(key) => {
                let id = sysv::create(key, len, self.mode, &what)?;
                sysv::stat(id, &what)
                    .map(|stat| (Object::SysV(id), stat))
                    .inspect_err(|_| {
                        let _ = sysv::remove_id(id, &what);
                    })
            }
        }
    }

    /// Opens the existing object and checks its owner.
    fn open_object(&self, writable: bool) -> Result<(Object, Stat)> {
        let what = self.what();
        let (object, stat) = match self.target.resolve()? {
            Resolved::Posix(name) => {
                let fd = posix::open(&name, writable, &what)?;
                let stat = object::fstat(&fd, &what)?;
                (Object::Fd(fd), stat)
            }
            Resolved::File(path) => {
                let fd = file::open(&path, writable, &what)?;
                let stat = object::fstat(&fd, &what)?;
                (Object::Fd(fd), stat)
            }
            Resolved::SysV(key) => {
                let id = sysv::open(key, &what)?;
                (Object::SysV(id), sysv::stat(id, &what)?)
            }
        };
        self.check_owner(&stat)?;
        Ok((object, stat))
    }

    fn removed_while_waiting(&self) -> Error {
        Error::new(
            ErrorKind::NotFound,
            format!(
                "opening {}: it was removed while this process waited for it to be ready \
                 (its creator failed, or another process removed it)",
                self.what()
            ),
        )
    }

    fn creator_died(&self, pid: u32) -> Error {
        Error::new(
            ErrorKind::CreatorDied,
            format!(
                "{}: its creator (pid {pid}) died or gave up while initializing it, so it holds \
                 no valid value; `open_or_create` reclaims it, or remove it and create it anew",
                self.what()
            ),
        )
    }

    /// Creates the segment exclusively for `len` elements of `layout` and
    /// initializes it: `init` gets the (zero-filled, aligned, private)
    /// payload.
    fn create_layout(
        &self,
        layout: &Layout,
        len: usize,
        init: impl FnOnce(NonNull<u8>),
    ) -> Result<View> {
        let what = self.what();
        check_align(layout, &what)?;
        let total = self.total_len(layout, len)?;
        let (object, stat) = self.create_object(total)?;
        self.init_created(object, stat, layout, len, init)
    }

    fn total_len(&self, layout: &Layout, len: usize) -> Result<usize> {
        layout.total_len(len).ok_or_else(|| {
            Error::new(
                ErrorKind::InvalidSize,
                format!(
                    "{}: {len} elements of `{}` do not fit in the address space",
                    self.what(),
                    layout.type_name
                ),
            )
        })
    }

    /// Maps, claims, initializes and publishes an object this process just
    /// created (zero-filled by the system).
    fn init_created(
        &self,
        object: Object,
        stat: Stat,
        layout: &Layout,
        len: usize,
        init: impl FnOnce(NonNull<u8>),
    ) -> Result<View> {
        let what = self.what();
        let total = self.total_len(layout, len)?;
        let mapping = match object.map(total, true, &self.map_options, &what) {
            Ok(mapping) => mapping,
            Err(e) => {
                let _ = self.target.remove(Some(stat.identity));
                return Err(e);
            }
        };
        drop(object);
        let pid = std::process::id();
        // SAFETY: the mapping is page-aligned and `total >= HEADER_SIZE`
        // bytes long; it lives until the end of this function at least.
        let header = unsafe { HeaderPtr::new(mapping.ptr()) };
        // Declared after `mapping`, so dropped before it.
        let mut guard = InitGuard {
            target: &self.target,
            remove: Some(stat.identity),
            header: None,
            pid,
        };
        if !header.claim_fresh(pid) {
            return Err(Error::new(
                ErrorKind::NotASegment,
                format!("creating {what}: another process wrote into it before it was claimed"),
            ));
        }
        header.set_creator_pid_ns();
        guard.header = Some(header);
        // SAFETY: this process claimed the header; the payload is fresh.
        unsafe { initialize(header, &mapping, layout, len, pid, true, init) };
        guard.disarm();
        Ok(View {
            mapping,
            offset: layout.payload_offset(),
            len,
            identity: stat.identity,
            created: true,
        })
    }

    /// Opens the segment and waits until it is ready (or abandoned), then
    /// validates the header against `layout`.
    fn find(&self, layout: &Layout, writable: bool, deadline: Instant) -> Result<Found> {
        let what = self.what();
        check_align(layout, &what)?;
        let (object, mut stat) = self.open_object(writable)?;
        let mut backoff = Backoff::new(deadline);
        while stat.size < HEADER_SIZE {
            if stat.size > 0 {
                return Err(Error::new(
                    ErrorKind::TooShort,
                    format!(
                        "{what} is {} bytes long, shorter than the {HEADER_SIZE}-byte header of \
                         this library: it was truncated, or a program without this library made \
                         it (map those with `open_raw`)",
                        stat.size
                    ),
                ));
            }
            if !backoff.wait() {
                return Err(Error::new(
                    ErrorKind::TimedOut,
                    format!(
                        "{what} stayed empty for {:?}: its creator may have died before sizing \
                         it, or a program without this library made it; remove it",
                        self.open_timeout
                    ),
                ));
            }
            stat = object.stat(&what)?;
            if !stat.linked {
                return Err(self.removed_while_waiting());
            }
        }
        let mapping = object.map(stat.size, writable, &self.map_options, &what)?;
        // SAFETY: the mapping is page-aligned, `stat.size >= HEADER_SIZE`
        // bytes are mapped and exist, and it lives as long as `header` is used.
        let header = unsafe { HeaderPtr::new(mapping.ptr()) };
        loop {
            let waiting_for = match header.poll() {
                Poll::Ready => break,
                Poll::Uninit => "it is still uninitialized (all zero): if no process is \
                     creating it, its creator died before claiming it or it is not a segment \
                     of this library; remove it"
                    .to_owned(),
                Poll::Initializing { pid, word } => {
                    if header.creator_dead(pid) {
                        return Ok(Found::Abandoned {
                            object,
                            stat,
                            mapping,
                            seen: word,
                            pid,
                        });
                    }
                    format!("its creator (pid {pid}) is still initializing it")
                }
                Poll::Abandoned { pid, word } => {
                    return Ok(Found::Abandoned {
                        object,
                        stat,
                        mapping,
                        seen: word,
                        pid,
                    })
                }
                Poll::Garbage => {
                    return Err(Error::new(
                        ErrorKind::NotASegment,
                        format!(
                            "{what} is not a segment of this library (no valid header): another \
                             program made it (map it with `open_raw`), or it is corrupt"
                        ),
                    ))
                }
                Poll::Newer(version) => {
                    return Err(Error::new(
                        ErrorKind::UnsupportedVersion,
                        format!(
                            "{what} has header format {version}, newer than the format {} this \
                             version of shm-runtime reads: upgrade this program",
                            header::FORMAT_VERSION
                        ),
                    ))
                }
                Poll::OtherEndian => {
                    return Err(Error::new(
                        ErrorKind::Incompatible,
                        format!("{what} was made on a machine of the other byte order"),
                    ))
                }
            };
            if !backoff.wait() {
                return Err(Error::new(
                    ErrorKind::TimedOut,
                    format!(
                        "waited {:?} for {what} to be ready, but {waiting_for} (wait longer \
                         with `Segment::open_timeout`)",
                        self.open_timeout
                    ),
                ));
            }
            // A creator that fails removes the name: stop waiting for it.
            if !object.stat(&what)?.linked {
                return Err(self.removed_while_waiting());
            }
        }
        // SAFETY: `poll` saw "ready" with acquire order.
        let (offset, len) = unsafe { header.validate(layout, stat.size, &what)? };
        Ok(Found::Ready(View {
            mapping,
            offset,
            len,
            identity: stat.identity,
            created: false,
        }))
    }

    fn open_layout(&self, layout: &Layout, writable: bool) -> Result<View> {
        match self.find(layout, writable, self.deadline())? {
            Found::Ready(view) => Ok(view),
            Found::Abandoned { pid, .. } => Err(self.creator_died(pid)),
        }
    }

    fn open_or_create_layout(
        &self,
        layout: &Layout,
        len: usize,
        init: impl FnOnce(NonNull<u8>),
    ) -> Result<View> {
        let what = self.what();
        check_align(layout, &what)?;
        let total = self.total_len(layout, len)?;
        let deadline = self.deadline();
        let mut backoff = Backoff::new(deadline);
        loop {
            match self.create_object(total) {
                Ok((object, stat)) => return self.init_created(object, stat, layout, len, init),
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            match self.find(layout, true, deadline) {
                Ok(Found::Ready(view)) => return Ok(view),
                Ok(Found::Abandoned {
                    object,
                    stat,
                    mapping,
                    seen,
                    ..
                }) => {
                    // SAFETY: `find` mapped at least the header, page-aligned.
                    let header = unsafe { HeaderPtr::new(mapping.ptr()) };
                    if header.reclaim(seen, std::process::id()) {
                        header.set_creator_pid_ns();
                        return self.init_reclaimed(object, stat, mapping, layout, len, init);
                    }
                    // Another process reclaimed it first: wait for it.
                }
                // Removed since we saw it: create it again.
                Err(e) if e.kind() == ErrorKind::NotFound => {}
                Err(e) => return Err(e),
            }
            if !backoff.wait() {
                return Err(Error::new(
                    ErrorKind::TimedOut,
                    format!(
                        "opening or creating {what}: gave up after {:?} of races with other \
                         processes creating and removing it",
                        self.open_timeout
                    ),
                ));
            }
        }
    }

    /// Re-initializes a segment this process reclaimed from a dead creator.
    fn init_reclaimed(
        &self,
        object: Object,
        stat: Stat,
        mapping: Mapping,
        layout: &Layout,
        len: usize,
        init: impl FnOnce(NonNull<u8>),
    ) -> Result<View> {
        let what = self.what();
        let pid = std::process::id();
        let total = self.total_len(layout, len)?;
        let mapping = if stat.size < total {
            // SAFETY: `mapping` covers the header, page-aligned.
            let old = unsafe { HeaderPtr::new(mapping.ptr()) };
            let grown = object
                .grow(total, &what)
                .and_then(|()| object.map(total, true, &self.map_options, &what));
            match grown {
                Ok(new) => new,
                Err(e) => {
                    old.abandon(pid);
                    return Err(e);
                }
            }
        } else {
            mapping
        };
        // SAFETY: page-aligned, at least `total >= HEADER_SIZE` bytes.
        let header = unsafe { HeaderPtr::new(mapping.ptr()) };
        let guard = InitGuard {
            target: &self.target,
            remove: None,
            header: Some(header),
            pid,
        };
        // SAFETY: this process reclaimed the header with a compare-exchange;
        // `initialize` zeroes the payload the dead creator left.
        unsafe { initialize(header, &mapping, layout, len, pid, false, init) };
        guard.disarm();
        Ok(View {
            mapping,
            offset: layout.payload_offset(),
            len,
            identity: stat.identity,
            created: true,
        })
    }

    fn attach_owner(&self, view: &mut View) {
        if self.remove_on_drop && view.created {
            view.mapping.set_owner(SegmentOwner {
                target: self.target.clone(),
                identity: Some(view.identity),
                armed: true,
            });
        }
    }

    /// # Safety
    /// The view's payload holds a valid `T`, mutated only in `&T`-safe ways
    /// (or, for a read-only mapping, never through this view).
    unsafe fn value_view<T: SharedSafe>(&self, mut view: View) -> Shared<T> {
        self.attach_owner(&mut view);
        // SAFETY: the payload lies inside the mapping at `offset`.
        let ptr = unsafe { view.mapping.ptr().add(view.offset) }.cast::<T>();
        // SAFETY: the caller's contract; `ptr` is aligned (page-aligned base,
        // offset a multiple of the alignment) and inside the mapping.
        unsafe { Shared::from_mapping(view.mapping, ptr) }
    }

    /// # Safety
    /// As for `value_view`, for `view.len` elements.
    unsafe fn slice_view<T: SharedSafe>(&self, mut view: View) -> Shared<[T]> {
        self.attach_owner(&mut view);
        // SAFETY: the payload lies inside the mapping at `offset`.
        let first = unsafe { view.mapping.ptr().add(view.offset) }.cast::<T>();
        let ptr = NonNull::slice_from_raw_parts(first, view.len);
        // SAFETY: the caller's contract; aligned as in `value_view`.
        unsafe { Shared::from_mapping(view.mapping, ptr) }
    }

    /// Creates the segment exclusively and moves `value` into it.
    /// [`AlreadyExists`](ErrorKind::AlreadyExists) if the name is taken.
    ///
    /// `value` passes through the stack; for large types use
    /// [`create_zeroed`](Self::create_zeroed) or
    /// [`create_with`](Self::create_with).
    ///
    /// ```
    /// use shm_runtime::{segment::Segment, ErrorKind};
    /// use std::sync::atomic::AtomicU32;
    ///
    /// let segment = Segment::posix(format!("/shm-runtime-doc-create-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let flag = segment.create(AtomicU32::new(1))?;
    /// let again = segment.create(AtomicU32::new(2)).unwrap_err();
    /// assert_eq!(again.kind(), ErrorKind::AlreadyExists);
    /// # drop(flag);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn create<T: SharedSafe>(&self, value: T) -> Result<Shared<T>> {
        let view = self.create_layout(&Layout::value::<T>(), 1, |payload| {
            // SAFETY: the payload is aligned for `T`, inside the writable
            // mapping, and private to this process until it is published.
            unsafe { payload.cast::<T>().as_ptr().write(value) }
        })?;
        // SAFETY: the payload holds the `T` written above.
        Ok(unsafe { self.value_view(view) })
    }

    /// Creates the segment exclusively holding an all-zero `T`, zero-filled
    /// by the system: no `T` is built on the stack.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let big = Segment::posix(format!("/shm-runtime-doc-zeroed-{}", std::process::id()))
    ///     .remove_on_drop(true)
    ///     .create_zeroed::<[u64; 1 << 20]>()?;
    /// assert_eq!(big[12345], 0);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn create_zeroed<T: SharedSafe + bytemuck::Zeroable>(&self) -> Result<Shared<T>> {
        let view = self.create_layout(&Layout::value::<T>(), 1, |_| {})?;
        // SAFETY: the payload is zero-filled, a valid `T` (`T: Zeroable`).
        Ok(unsafe { self.value_view(view) })
    }

    /// Creates the segment exclusively holding a `T` that starts all-zero
    /// and is finished in place by `init` before any other process can see
    /// it (openers wait until `init` returns). If `init` panics, the name is
    /// removed and waiting openers get [`CreatorDied`](ErrorKind::CreatorDied).
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let table = Segment::posix(format!("/shm-runtime-doc-with-{}", std::process::id()))
    ///     .remove_on_drop(true)
    ///     .create_with(|t: &mut [u32; 1024]| {
    ///         for (i, x) in t.iter_mut().enumerate() {
    ///             *x = i as u32 * 2;
    ///         }
    ///     })?;
    /// assert_eq!(table[1000], 2000);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn create_with<T: SharedSafe + bytemuck::Zeroable>(
        &self,
        init: impl FnOnce(&mut T),
    ) -> Result<Shared<T>> {
        let view = self.create_layout(&Layout::value::<T>(), 1, init_in_place(init))?;
        // SAFETY: the payload holds a valid `T` (zeroed, then `init`ed).
        Ok(unsafe { self.value_view(view) })
    }

    /// Creates the segment exclusively holding `len` all-zero elements.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let segment = Segment::posix(format!("/shm-runtime-doc-slice-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let samples = segment.create_slice_zeroed::<f64>(1000)?;
    /// assert_eq!(segment.open_slice::<f64>()?.len(), 1000);
    /// # drop(samples);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn create_slice_zeroed<T: SharedSafe + bytemuck::Zeroable>(
        &self,
        len: usize,
    ) -> Result<Shared<[T]>> {
        let view = self.create_layout(&Layout::slice::<T>(), len, |_| {})?;
        // SAFETY: `len` zero-filled elements, valid since `T: Zeroable`.
        Ok(unsafe { self.slice_view(view) })
    }

    /// Creates the segment exclusively holding `len` elements, element `i`
    /// being `element(i)`, written in place before the segment is published.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let squares = Segment::posix(format!("/shm-runtime-doc-fromfn-{}", std::process::id()))
    ///     .remove_on_drop(true)
    ///     .create_slice_from_fn(10, |i| (i * i) as u64)?;
    /// assert_eq!(squares[9], 81);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn create_slice_from_fn<T: SharedSafe>(
        &self,
        len: usize,
        element: impl FnMut(usize) -> T,
    ) -> Result<Shared<[T]>> {
        let view = self.create_layout(&Layout::slice::<T>(), len, write_elements(len, element))?;
        // SAFETY: all `len` elements were written.
        Ok(unsafe { self.slice_view(view) })
    }

    /// Opens the existing segment as a `T`, after checking its header (see
    /// the [module documentation](self#what-opening-checks)); waits up to
    /// [`open_timeout`](Self::open_timeout) for a segment still being
    /// initialized.
    ///
    /// ```
    /// use shm_runtime::{segment::Segment, ErrorKind};
    /// let segment = Segment::posix(format!("/shm-runtime-doc-open-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let value = segment.create(7i64)?;
    /// assert_eq!(*segment.open::<i64>()?, 7);
    /// let wrong = segment.open::<u64>().unwrap_err();
    /// assert_eq!(wrong.kind(), ErrorKind::WrongType);
    /// assert!(wrong.to_string().contains("holds `i64`"));
    /// # drop(value);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn open<T: SharedSafe>(&self) -> Result<Shared<T>> {
        let view = self.open_layout(&Layout::value::<T>(), true)?;
        // SAFETY: the header proves a published `T` of this layout.
        Ok(unsafe { self.value_view(view) })
    }

    /// Opens the existing segment as a slice of `T`, of the length it was
    /// created with.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let segment = Segment::posix(format!("/shm-runtime-doc-oslice-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let created = segment.create_slice_from_fn(3, |i| i as u8)?;
    /// assert_eq!(&*segment.open_slice::<u8>()?, &[0, 1, 2]);
    /// # drop(created);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn open_slice<T: SharedSafe>(&self) -> Result<Shared<[T]>> {
        let view = self.open_layout(&Layout::slice::<T>(), true)?;
        // SAFETY: the header proves `len` published elements of `T`.
        Ok(unsafe { self.slice_view(view) })
    }

    /// Opens the existing segment read-only (`O_RDONLY`, `PROT_READ`,
    /// `SHM_RDONLY`): enough with read permission only. `T` must have no
    /// interior mutability (`AnyBitPattern`), so that nothing can write
    /// through the `&T` (see the [module documentation](self#read-only-views)).
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let segment = Segment::posix(format!("/shm-runtime-doc-ro-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let writer = segment.create([1.5f32; 4])?;
    /// let reader = segment.open_read_only::<[f32; 4]>()?;
    /// assert_eq!(reader[3], 1.5);
    /// # drop(writer);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn open_read_only<T: SharedSafe + bytemuck::AnyBitPattern>(&self) -> Result<Shared<T>> {
        let view = self.open_layout(&Layout::value::<T>(), false)?;
        // SAFETY: a published `T`; `T: AnyBitPattern` has no interior
        // mutability, so `&T` never writes to the read-only mapping.
        Ok(unsafe { self.value_view(view) })
    }

    /// Like [`open_read_only`](Self::open_read_only), for a slice.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let segment = Segment::posix(format!("/shm-runtime-doc-ros-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let writer = segment.create_slice_from_fn(4, |i| i as u16)?;
    /// assert_eq!(segment.open_slice_read_only::<u16>()?[3], 3);
    /// # drop(writer);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn open_slice_read_only<T: SharedSafe + bytemuck::AnyBitPattern>(
        &self,
    ) -> Result<Shared<[T]>> {
        let view = self.open_layout(&Layout::slice::<T>(), false)?;
        // SAFETY: as in `open_read_only`, for `len` elements.
        Ok(unsafe { self.slice_view(view) })
    }

    /// Opens the existing segment read-only, for any `SharedSafe` type: a
    /// monitor reading another process's atomic counters, for instance.
    ///
    /// # Safety
    /// Nothing may write through the returned view: no atomic store,
    /// `fetch_*`, `swap` or compare-exchange, no lock taken. The memory is
    /// mapped `PROT_READ` (`SHM_RDONLY`), so such a write raises `SIGSEGV`.
    ///
    /// An atomic `load` is allowed only where it compiles to a plain load
    /// instruction. That holds for std's atomics of 8, 16 and 32 bits on
    /// every target, and of 64 bits on 64-bit targets (x86-64, AArch64,
    /// RISC-V 64, PowerPC 64, s390x) and on the 32-bit targets this crate
    /// builds for: x86 (an SSE2 or x87 load) and 32-bit ARM (`ldrexd`, a
    /// load). A load that is implemented as a read-modify-write writes to
    /// the memory even though it stores back the value it read, and so
    /// faults here:
    ///
    /// * 128-bit atomics (std has none stable; a crate's `AtomicU128` or a
    ///   C peer's `_Atomic __int128`): on x86-64 a load is a `lock
    ///   cmpxchg16b` unless the code was built for AVX, on AArch64 without
    ///   FEAT_LSE2 an `ldxp`/`stxp` loop;
    /// * 64-bit atomics on a 32-bit target with no 64-bit atomic load
    ///   instruction, whose loads compilers emulate with a compare-exchange
    ///   (LLVM turns such a load into a compare-exchange of 0 with 0);
    /// * any lock-based fallback (libatomic, or `portable-atomic` for widths
    ///   without lock-free support), which writes its lock.
    ///
    /// For such types, open the segment writable
    /// ([`open`](Self::open)) even to read it.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// let segment = Segment::posix(format!("/shm-runtime-doc-rou-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let counter = segment.create(AtomicU64::new(0))?;
    /// counter.fetch_add(5, Ordering::Relaxed);
    /// // SAFETY: the monitor only loads.
    /// let monitor = unsafe { segment.open_read_only_unchecked::<AtomicU64>()? };
    /// assert_eq!(monitor.load(Ordering::Relaxed), 5);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub unsafe fn open_read_only_unchecked<T: SharedSafe>(&self) -> Result<Shared<T>> {
        let view = self.open_layout(&Layout::value::<T>(), false)?;
        // SAFETY: a published `T`; the caller promises not to write.
        Ok(unsafe { self.value_view(view) })
    }

    /// Like [`open_read_only_unchecked`](Self::open_read_only_unchecked),
    /// for a slice segment: a monitor reading every worker's atomic slot.
    ///
    /// # Safety
    /// As for [`open_read_only_unchecked`](Self::open_read_only_unchecked):
    /// nothing may write through the view, and atomics may only be loaded
    /// where a load is a plain load instruction (not a 128-bit atomic on
    /// x86-64, nor a 64-bit one emulated with a compare-exchange on a 32-bit
    /// target, nor a lock-based fallback).
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    /// let segment = Segment::posix(format!("/shm-runtime-doc-rosu-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let slots = segment.create_slice_zeroed::<AtomicU64>(4)?;
    /// slots[3].store(7, Ordering::Relaxed);
    /// // SAFETY: the monitor only loads.
    /// let monitor = unsafe { segment.open_slice_read_only_unchecked::<AtomicU64>()? };
    /// assert_eq!(monitor[3].load(Ordering::Relaxed), 7);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub unsafe fn open_slice_read_only_unchecked<T: SharedSafe>(&self) -> Result<Shared<[T]>> {
        let view = self.open_layout(&Layout::slice::<T>(), false)?;
        // SAFETY: `len` published elements; the caller promises not to write.
        Ok(unsafe { self.slice_view(view) })
    }

    /// Opens the segment, or creates it with `init()` if it does not exist:
    /// of any number of processes racing, exactly one creates it and the
    /// others wait until it is ready. A segment whose creator died while
    /// initializing it is reclaimed (see the
    /// [module documentation](self#reclaiming-a-segment-whose-creator-died)).
    /// `init` runs only in the process that creates or reclaims it.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// use std::sync::atomic::{AtomicU64, Ordering};
    ///
    /// let segment = Segment::posix(format!("/shm-runtime-doc-ooc-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let a = segment.open_or_create(|| AtomicU64::new(10))?; // creates
    /// let b = segment.open_or_create(|| AtomicU64::new(99))?; // opens
    /// b.fetch_add(1, Ordering::Relaxed);
    /// assert_eq!(a.load(Ordering::Relaxed), 11);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn open_or_create<T: SharedSafe>(&self, init: impl FnOnce() -> T) -> Result<Shared<T>> {
        let view = self.open_or_create_layout(&Layout::value::<T>(), 1, |payload| {
            // SAFETY: aligned, writable, private until published.
            unsafe { payload.cast::<T>().as_ptr().write(init()) }
        })?;
        // SAFETY: a published `T`: written by `init` here, or validated.
        Ok(unsafe { self.value_view(view) })
    }

    /// Like [`open_or_create`](Self::open_or_create), building the value in
    /// place: `init` gets an all-zero `T` to finish.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let segment = Segment::posix(format!("/shm-runtime-doc-oocw-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let table = segment.open_or_create_with(|t: &mut [u8; 4096]| t.fill(1))?;
    /// assert!(table.iter().all(|b| *b == 1));
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn open_or_create_with<T: SharedSafe + bytemuck::Zeroable>(
        &self,
        init: impl FnOnce(&mut T),
    ) -> Result<Shared<T>> {
        let view = self.open_or_create_layout(&Layout::value::<T>(), 1, init_in_place(init))?;
        // SAFETY: a published `T`.
        Ok(unsafe { self.value_view(view) })
    }

    /// Opens the slice segment, or creates it holding `len` all-zero
    /// elements if it does not exist (or reclaims it from a dead creator):
    /// exactly one process creates, the others wait for it to be ready. An
    /// existing segment keeps its own length, which may differ from `len`.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// use std::sync::atomic::{AtomicU32, Ordering};
    ///
    /// let segment = Segment::posix(format!("/shm-runtime-doc-oocs-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let a = segment.open_or_create_slice_zeroed::<AtomicU32>(64)?; // creates
    /// let b = segment.open_or_create_slice_zeroed::<AtomicU32>(8)?; // opens: 64 long
    /// b[63].store(5, Ordering::Relaxed);
    /// assert_eq!((b.len(), a[63].load(Ordering::Relaxed)), (64, 5));
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn open_or_create_slice_zeroed<T: SharedSafe + bytemuck::Zeroable>(
        &self,
        len: usize,
    ) -> Result<Shared<[T]>> {
        let view = self.open_or_create_layout(&Layout::slice::<T>(), len, |_| {})?;
        // SAFETY: `view.len` elements: zero-filled here (valid since
        // `T: Zeroable`), or published by their creator and validated.
        Ok(unsafe { self.slice_view(view) })
    }

    /// Like [`open_or_create_slice_zeroed`](Self::open_or_create_slice_zeroed),
    /// element `i` of a segment this process creates being `element(i)`.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let segment = Segment::posix(format!("/shm-runtime-doc-oocf-{}", std::process::id()))
    ///     .remove_on_drop(true);
    /// let table = segment.open_or_create_slice_from_fn(4, |i| i as u16 * 10)?;
    /// assert_eq!(&*segment.open_or_create_slice_from_fn(4, |_| 0u16)?, &*table);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn open_or_create_slice_from_fn<T: SharedSafe>(
        &self,
        len: usize,
        element: impl FnMut(usize) -> T,
    ) -> Result<Shared<[T]>> {
        let view =
            self.open_or_create_layout(&Layout::slice::<T>(), len, write_elements(len, element))?;
        // SAFETY: `view.len` valid elements: written here, or published by
        // their creator and validated.
        Ok(unsafe { self.slice_view(view) })
    }
}

/// The payload initializer of `create_with` and `open_or_create_with`: `init`
/// finishes the zero-filled `T` in place.
fn init_in_place<T: SharedSafe + bytemuck::Zeroable>(
    init: impl FnOnce(&mut T),
) -> impl FnOnce(NonNull<u8>) {
    move |payload| {
        let _no_fork = crate::process::ForkBarrier::new();
        // SAFETY: the payload is zero-filled (fresh, or zeroed on reclaim), a
        // valid, aligned `T` (`T: Zeroable`), and nobody reads or writes it
        // before it is published: this is the only reference (and `init`
        // cannot fork a child that would keep it: see `ForkBarrier`).
        init(unsafe { payload.cast::<T>().as_mut() })
    }
}

/// The payload initializer of the `*_slice_from_fn` methods: element `i` is
/// `element(i)`, written in place.
fn write_elements<T: SharedSafe>(
    len: usize,
    mut element: impl FnMut(usize) -> T,
) -> impl FnOnce(NonNull<u8>) {
    move |payload| {
        let first = payload.cast::<T>();
        for i in 0..len {
            // SAFETY: the payload holds `len` aligned elements, private until
            // published. Should `element` panic, the segment is abandoned and
            // removed; `T` needs no drop.
            unsafe { first.as_ptr().add(i).write(element(i)) };
        }
    }
}

/// Writes the header fields and the payload of a claimed segment, then
/// publishes it.
///
/// # Safety
/// This process claimed the header (state "initializing" with `pid`); the
/// mapping is writable and holds the header and `len` elements of `layout`;
/// the payload is zero-filled when `fresh`.
unsafe fn initialize(
    header: HeaderPtr,
    mapping: &Mapping,
    layout: &Layout,
    len: usize,
    pid: u32,
    fresh: bool,
    init: impl FnOnce(NonNull<u8>),
) {
    // SAFETY: claimed by this process (caller's contract).
    unsafe { header.write_fields(layout, len) };
    // SAFETY: the payload offset lies inside the mapping.
    let payload = unsafe { mapping.ptr().add(layout.payload_offset()) };
    if !fresh {
        // SAFETY: `len` elements of the payload lie inside the writable
        // mapping, and no other process reads them before publication.
        unsafe { payload.as_ptr().write_bytes(0, layout.size * len) };
    }
    init(payload);
    header.publish(pid);
}

/// Removes a segment's name when dropped: an RAII remover. Made by
/// [`Segment::owner`]; views opened with
/// [`remove_on_drop`](Segment::remove_on_drop) hold one.
///
/// ```
/// use shm_runtime::segment::Segment;
/// let segment = Segment::posix(format!("/shm-runtime-doc-so-{}", std::process::id()));
/// let owner = segment.owner();
/// segment.create(0u8)?;
/// owner.remove()?; // or just drop it
/// # Ok::<(), shm_runtime::Error>(())
/// ```
#[derive(Debug)]
pub struct SegmentOwner {
    target: Target,
    identity: Option<Identity>,
    armed: bool,
}

impl SegmentOwner {
    /// Removes the name now, reporting errors that drop would ignore.
    ///
    /// ```
    /// use shm_runtime::{segment::Segment, ErrorKind};
    /// let segment = Segment::posix(format!("/shm-runtime-doc-sor-{}", std::process::id()));
    /// let err = segment.owner().remove().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::NotFound); // nothing was created
    /// ```
    pub fn remove(mut self) -> Result<()> {
        self.armed = false;
        self.target.remove(self.identity)
    }

    /// Disarms the guard: the segment stays.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let segment = Segment::posix(format!("/shm-runtime-doc-sok-{}", std::process::id()));
    /// let owner = segment.owner();
    /// segment.create(0u8)?;
    /// owner.keep();
    /// assert_eq!(*segment.open::<u8>()?, 0);
    /// segment.remove()?;
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn keep(mut self) {
        self.armed = false;
    }
}

impl Drop for SegmentOwner {
    fn drop(&mut self) {
        if self.armed {
            let _ = self.target.remove(self.identity);
        }
    }
}

/// Removes the POSIX shared memory name `name` (`shm_unlink`); processes
/// that mapped it keep their mappings.
///
/// ```
/// use shm_runtime::segment::{self, Segment};
/// let name = format!("/shm-runtime-doc-unlink-{}", std::process::id());
/// Segment::posix(&name).create(1u32)?;
/// segment::unlink(&name)?;
/// # Ok::<(), shm_runtime::Error>(())
/// ```
pub fn unlink(name: &str) -> Result<()> {
    Target::Posix(name.to_owned()).remove(None)
}
