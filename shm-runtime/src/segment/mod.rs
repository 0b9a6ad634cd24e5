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
//! # The surface
//!
//! What to make × how to get it × access, without one method name per cell.
//! *What* is an [`Init`](crate::init::Init) value (a value of `T`, or an
//! initializer of [`init`](crate::init)) or, for `open`, the type `T` or
//! slice `[T]`; *how* is one of three verbs; the *access* is the type
//! parameter of `Segment<A>`, chosen by [`read_only`](Segment::read_only)
//! and [`raw`](Segment::raw). Each access has only the options and verbs
//! that mean something there: a misuse (`.read_only().create(v)`,
//! `.offset(8)` on a typed segment) does not compile.
//!
//! | What × how               | `Segment` (typed, read-write)                        | `.read_only()`                                          | `.raw()` (no header)                                       | `.raw().read_only()`                    |
//! |--------------------------|------------------------------------------------------|---------------------------------------------------------|------------------------------------------------------------|-----------------------------------------|
//! | create a value           | `create(value)` → `Shared<T>`                        | —                                                       | `.create_new(true)`, `open::<T>()`, zeroed → `Volatile<T>` | —                                       |
//! | create it zeroed         | `create(init::zeroed())` → `Shared<T>`               | —                                                       | as above                                                   | —                                       |
//! | create it in place       | `create(init::in_place(\|v\| ..))` → `Shared<T>`     | —                                                       | —                                                          | —                                       |
//! | create a zeroed slice    | `create(init::zeroed_slice(n))` → `Shared<[T]>`      | —                                                       | `.create_new(true).len(n)`, `open::<[T]>()` → `Volatile<[T]>` | —                                    |
//! | create a slice from `f`  | `create(init::from_fn(n, f))` → `Shared<[T]>`        | —                                                       | `create(init::from_fn(n, f))` → `Volatile<[T]>`            | —                                       |
//! | open a value             | `open::<T>()` → `Shared<T>`                          | `open::<T>()` (no interior mutability), `unsafe open_unchecked::<T>()` → `Shared<T>` | `open::<T>()` → `Volatile<T>` | `open::<T>()` → `Volatile<T, ReadOnly>` |
//! | open a slice             | `open::<[T]>()` → `Shared<[T]>`                      | `open::<[T]>()`, `unsafe open_unchecked::<[T]>()` → `Shared<[T]>` | `open::<[T]>()`, `.len(n)` or the whole object → `Volatile<[T]>` | `open::<[T]>()` → `Volatile<[T], ReadOnly>` |
//! | open or create           | `open_or_create(init)` → `Shared<T>` / `Shared<[T]>` | —                                                       | `.create_missing(true)`, `open::<T>()` → `Volatile<T>`     | —                                       |
//!
//! Options: every access has [`open_timeout`](Segment::open_timeout),
//! [`wait_for_creation`](Segment::wait_for_creation),
//! [`allow_foreign_owner`](Segment::allow_foreign_owner) and
//! [`map_options`](Segment::map_options); those that create
//! ([`Creates`]) have [`mode`](Segment::mode),
//! [`reserve`](Segment::reserve) and
//! [`remove_on_drop`](Segment::remove_on_drop); typed read-write adds
//! [`replace_stale`](Segment::replace_stale); raw adds
//! [`offset`](Segment::offset) and [`len`](Segment::len), and raw
//! read-write [`create_new`](Segment::create_new) and
//! [`create_missing`](Segment::create_missing). Anonymous memory, shared
//! with forked children, takes the same initializers:
//! [`Shared::anonymous(init)`](crate::Shared::anonymous).
//!
//! ```
//! use shm_runtime::{init, segment::Segment};
//! # let name = format!("/shm-runtime-doc-table-{}", std::process::id());
//! let segment = Segment::posix(&name).remove_on_drop(true);
//! let table = segment.create(init::from_fn(4, |i| i as u32))?; // Shared<[u32]>
//! let seen = segment.read_only().open::<[u32]>()?; // Shared<[u32]>, PROT_READ
//! assert_eq!((table[3], seen[3]), (3, 3));
//! // A raw view skips the header check, so it refuses a typed segment.
//! assert!(Segment::posix(&name).raw().open::<[u8]>().is_err());
//! # Ok::<(), shm_runtime::Error>(())
//! ```
//!
//! ```compile_fail
//! use shm_runtime::segment::Segment;
//! // Read-only segments are never created.
//! let _ = Segment::posix("/jobs").read_only().create(0u64);
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
//! * the object is `fstat`ed first: one shorter than its header, payload
//!   and description block is refused ([`TooShort`](ErrorKind::TooShort)) before any byte is
//!   touched, so a truncated segment never raises `SIGBUS` at open;
//! * a header that is not this library's is
//!   [`NotASegment`](ErrorKind::NotASegment), a newer format
//!   [`UnsupportedVersion`](ErrorKind::UnsupportedVersion), another platform
//!   [`Incompatible`](ErrorKind::Incompatible), another type
//!   [`WrongType`](ErrorKind::WrongType) (the message names the first
//!   difference between the two types, from the layout description the
//!   segment stores after its payload: "field `errors` is `u32` at offset 8;
//!   this program's `Stats` has `u64` at offset 8");
//! * a segment still being initialized is waited for, with back-off, up to
//!   [`open_timeout`](Segment::open_timeout) (5 s by default), then
//!   [`TimedOut`](ErrorKind::TimedOut); one whose creator died or gave up
//!   while initializing it is [`CreatorDied`](ErrorKind::CreatorDied), and
//!   [`open_or_create`](Segment::open_or_create) reclaims it;
//! * a segment of an older header format is
//!   [`UnsupportedVersion`](ErrorKind::UnsupportedVersion) too (the table of
//!   formats is in the `header` module source);
//! * last, before any `&T` exists, the payload's plain data is checked for
//!   valid values ([`TypeLayout::check`](crate::layout::TypeLayout::check)):
//!   a `bool` that is not 0 or 1, a `char` that is no scalar value, a zero
//!   `NonZero*`, an enum discriminant no variant has, in any field, element
//!   or `FixedVec` slot, is [`InvalidValue`](ErrorKind::InvalidValue), and
//!   the message names where (`inner.flags[2] holds 0x02`). Values that
//!   others may be writing at that moment (inside an `ShmMutex` or a
//!   `SeqLock`) are checked by their protocol instead. A type whose every bit
//!   pattern is valid skips this at compile time.
//!
//! The type name is informational: two programs that define the same
//! `#[repr(C)]` struct in different crates share a segment, because the
//! fingerprint (field names, types, offsets, size, alignment) matches.
//!
//! # Creation
//!
//! Creation is exclusive, sets the mode exactly (0600 by default, whatever
//! the umask: `fchmod` when the umask took bits away), reserves the memory or disk blocks
//! (`posix_fallocate`, so a full `/dev/shm` or disk is an
//! [`OutOfMemory`](ErrorKind::OutOfMemory) error now, not a `SIGBUS` later;
//! [`reserve(false)`](Segment::reserve) skips it, with its trade-off),
//! initializes the value, and only then publishes it.
//!
//! **Atomic publication** (POSIX objects and files, on Linux): the segment
//! is made without a name (`O_TMPFILE` in `/dev/shm`, or in the file's
//! directory), initialized and marked "ready" there, and only then linked
//! under its name (`linkat`, which fails if the name exists: that is what
//! makes creation exclusive). No opener ever sees a half-made segment under
//! its name, and a creator killed at any instant leaves nothing behind. Files
//! are `fsync`ed before the link and their directory after it, so a
//! published file survives a crash of the machine. This relies on the C
//! library keeping POSIX objects as files of the tmpfs at `/dev/shm` (glibc
//! and musl do; it is checked with `statfs`), on `O_TMPFILE` (tmpfs, ext4,
//! xfs, btrfs) and on `/proc/self/fd`. Where one of them is missing, and on
//! other platforms and for System V, creation takes the name first
//! (`O_EXCL` / `IPC_EXCL`) and the header's init states below apply.
//!
//! **`open_or_create`** opens the segment if it exists; else one process at
//! a time creates it, serialized by an `flock` on a lock file next to the
//! name (`.shmrt-create-<hash>`), which the kernel releases when its holder
//! dies: so `init` runs in exactly one process, and a dead creator blocks
//! nobody. The holder removes the file when done; one whose holder died is
//! reused by the next creator, and listed and removed by `shm-tool clean`.
//! (A plain [`create`](Segment::create) takes no lock: racing a
//! `create`, an `open_or_create` may build a value that it then drops, to
//! open the one published first.)
//!
//! If initialization fails or panics, nothing is published (or, created in
//! place, the name is removed).
//!
//! # Reclaiming a segment whose creator died
//!
//! Where creation cannot publish atomically (see above):
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
//! # Restarting after a crash
//!
//! What a process leaves behind depends on how it ends:
//!
//! * **normal exit, or a panic that unwinds** out of `main` (or a thread
//!   whose views are dropped): destructors run, so a view made with
//!   [`remove_on_drop`](Segment::remove_on_drop) removes the name;
//! * **`SIGKILL`, `SIGTERM` or `SIGINT` without a handler, `abort`, a panic
//!   with `panic = "abort"`, `std::process::exit`** (and a crash of the
//!   machine, for files): no destructor runs, so the name stays, with the
//!   last values written. (A program that wants `SIGTERM` to clean up
//!   catches it and returns from `main`.) A process killed *while
//!   creating* leaves nothing behind where creation publishes atomically,
//!   see [Creation](self#creation).
//!
//! A restarted program that creates the name again then gets
//! [`AlreadyExists`](ErrorKind::AlreadyExists), whose message says whether
//! the segment is stale. With [`replace_stale(true)`](Segment::replace_stale)
//! it replaces a stale one instead: one made with `remove_on_drop` whose
//! creator is dead. Dead is judged by the creator's pid, PID namespace and
//! process start time, all recorded in the header (format 3), so a new
//! process that reused the pid does not pass for the creator; a creator in
//! another PID namespace is never judged dead. Segments made without
//! `remove_on_drop` are meant to outlive their creator and are never
//! replaced. Replacing retires the old header (a compare-exchange of the
//! state word the segment was judged by: of several restarting processes
//! exactly one wins, the others see the new segment, whose creator lives),
//! removes the name, and creates the segment anew, under the creation lock
//! where there is one (see `open_or_create` below). The new view's
//! [`origin`](Shared::origin) is [`Reclaimed`](Origin::Reclaimed).
//!
//! Processes that still map the old object keep it: it is unlinked, not
//! destroyed, and their views read and write it as before, out of reach of
//! new openers, until the last of them unmaps it. It is never initialized
//! again in place under their references.
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
//! [`read_only().open()`](Segment::read_only) maps the segment with
//! `PROT_READ`: a monitor that may only read (read permission is enough)
//! and cannot corrupt what it watches. The hardware refuses every store to
//! such a mapping: the storing instruction faults, and the process is
//! killed by `SIGSEGV` before anything is written.
//!
//! What the API allows follows from that, and from std's rule that every
//! atomic operation on read-only memory is undefined behaviour, but for
//! `Relaxed` loads of at most 4 or 8 bytes (by target): a safe read-only
//! view must give no way to store, nor to load an atomic otherwise. So the
//! safe read-only opens take the types without interior mutability
//! ([`TypeLayout::has_interior_mutability`](crate::layout::TypeLayout::has_interior_mutability),
//! computed from the type's layout description), whose `&T` cannot write:
//! plain data, including `bool`, enums and the fixed-capacity types
//! ([`FixedString`](crate::FixedString), [`FixedVec`](crate::FixedVec)),
//! and structs and arrays of them. They refuse, at compile time (an inline
//! `const` assertion, raised when the call is compiled to code), every type
//! that holds an atomic, an [`ShmMutex`](crate::ShmMutex), a
//! [`SeqLock`](crate::SeqLock), a condition variable, event, semaphore or
//! `RelPtr`: their `&T` has methods that store. A monitor of atomics and
//! `SeqLock`s uses [`monitor`](Segment::monitor) on the read-only access,
//! whose [`Monitor`](crate::Monitor) gives no `&T` and only loads (see [`crate::monitor`]);
//! the locks, whose readers write, need the segment opened writable (or,
//! for `Relaxed` loads only, [`open_unchecked`](Segment::open_unchecked),
//! whose contract says so).
//!
//! A program that installs its own `SIGSEGV` handler sees that handler run
//! for such a store; returning from it retries the store, which faults
//! again.
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
//! [`Segment::raw`] and its `open` map segments and files made
//! by (or for) C, C++ or Python programs, which have no header. Those
//! programs write whenever they like, so raw opens return a
//! [`Volatile`] view, not a `Shared`: it hands out no `&T`
//! to the bytes, only volatile copies in and out (of the value, an element,
//! a field), integer atomics where both programs use atomics, and an
//! `unsafe` escape to `&T` for bytes that nobody writes (see the
//! [`volatile`](crate::volatile) module). The type must accept any bit
//! pattern (`T: bytemuck::AnyBitPattern`): a copy of bytes that a foreign
//! program is writing may be torn. Read-only raw opens return a
//! `Volatile<_, ReadOnly>`, which has no method that writes.
//!
//! There is no header, so no type check, no init protocol and no waiting:
//! the object must be at least as long as the type or slice asked for (a
//! shorter one is refused with [`TooShort`](ErrorKind::TooShort) before any
//! access), and agreeing on when a value is complete (a semaphore, a pipe,
//! a flag stored last, or running one program after the other) is the
//! programs' concern.
//!
//! A Python `multiprocessing.shared_memory.SharedMemory(name="jobs", ...)`
//! is the POSIX segment `/jobs`; the `people_reader` example maps the file
//! of the classic `map_normalfile1.c` writer.
//!
//! ## Raw opens of typed segments
//!
//! A raw view of a segment of this library would bypass its type check and
//! its init protocol, and its writes would land under the `&T` that typed
//! views hold. So every raw open reads the first 8 bytes of the object
//! (with `pread` for POSIX objects and files, never through a mapping; from
//! the attachment for System V segments, which have no descriptor and
//! cannot shrink), after mapping it, and refuses one that holds the header
//! magic, in either byte order, with
//! [`TypedSegment`](ErrorKind::TypedSegment).
//!
//! Where creation publishes atomically (POSIX objects and files on Linux,
//! see [Creation](self#creation)), that check is all there is to it: a
//! typed segment has no name until it is ready, with its magic, so a raw
//! open of the name finds nothing while it is being made
//! ([`NotFound`](ErrorKind::NotFound)) and refuses it afterwards; no raw
//! view of a segment being initialized can exist.
//!
//! Where creation takes the name first (System V, other platforms, file
//! systems without `O_TMPFILE`), the check closes the window only once the
//! magic is there. The creator makes the name (`O_CREAT | O_EXCL` or
//! `IPC_EXCL`, then `fchmod` if the umask took bits away), sizes and reserves the object, maps it,
//! claims the state word, records its PID namespace, writes the header
//! fields, and stores the magic (a release store) as the last header field,
//! *before* the payload is initialized: before `init::in_place`'s closure gets
//! its `&mut T`, and before "ready" is published. The window left is from
//! the name's creation to that store: a few system calls, no user code. A
//! raw open that reads the first bytes within it is not refused:
//!
//! * while the object is still empty, a raw open of a `T` or of `len > 0`
//!   elements is [`TooShort`](ErrorKind::TooShort), and
//!   a slice view without [`len`](Segment::len) gives an empty
//!   view, which can read and write nothing;
//! * once it is sized, the view maps it. Its reads are volatile copies of a
//!   type that accepts any bytes, so they are never undefined behaviour in
//!   the reading process. But a `ReadWrite` view can also write, and the
//!   check is made once, at open: the view outlives the window, and its
//!   writes may land in the header, in the payload while the creator's
//!   closure holds its `&mut T`, or under the `&T` of every typed view
//!   opened afterwards. Such writes are outside this library's protocol,
//!   like those of a C program that writes a typed segment's plain fields,
//!   and outside its guarantee. Read-only raw views cannot write, and are
//!   harmless there.
//!
//! The same holds for an object whose creator died inside the window: it
//! stays all zero, or holds a claimed, partly written header without its
//! magic, and raw opens accept it; `open_or_create` reclaims the second
//! kind while a raw view opened before may still be mapped.

mod access;
mod file;
mod header;
pub mod inspect;
mod list;
mod object;
mod posix;
mod publish;
mod raw;
mod reader;
mod sysv;

pub use crate::volatile::{ReadOnly, ReadWrite};
pub use access::{Creates, Raw};
pub use list::{list, Listing};
pub use sysv::SysvKey;

use crate::error::{Error, ErrorKind, Result};
use crate::init::{sealed, Elem, FromFn, Payload};
use crate::map::{page_size, Mapping};
pub use crate::shared::Origin;
use crate::volatile::{Access, Volatile};
use crate::{MapOptions, Shared, SharedSafe};
use header::{HeaderPtr, Layout, Poll, HEADER_SIZE};
use object::{Identity, Object, Stat};
use publish::Link;
use reader::Reader;
use std::ffi::CString;
use std::fmt;
use std::marker::PhantomData;
use std::os::fd::AsFd;
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
            Target::Posix(name) => format!("segment `{}`", posix::shown(name)),
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
/// return the changed builder, and `create`, `open` and `open_or_create` do
/// the work. It can be kept and reused. The access `A` is typed read-write
/// by default; [`read_only`](Segment::read_only) and [`raw`](Segment::raw)
/// give the others (see [the surface](self#the-surface) for the table).
/// See the [module documentation](self) for what opening checks and for
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
    target: Target,
    mode: u32,
    open_timeout: Duration,
    allow_foreign_owner: bool,
    map_options: MapOptions,
    remove_on_drop: bool,
    reserve: bool,
    replace_stale: bool,
    wait_for_creation: bool,
    offset: u64,
    create_new: bool,
    create_missing: bool,
    /// Raw mode: the element count of a slice view (`None`: the whole
    /// object).
    raw_len: Option<usize>,
    access: PhantomData<A>,
}

impl<A> fmt::Display for Segment<A> {
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
    /// Made, reclaimed or replaced by this process (which removes the name
    /// on drop with `remove_on_drop`), or opened.
    origin: Origin,
}

impl View {
    /// Whether this process wrote the payload (so it needs no check).
    fn created(&self) -> bool {
        self.origin != Origin::Opened
    }
}

/// An object [`Segment::create_object`] made, sized and reserved.
struct Created {
    object: Object,
    stat: Stat,
    /// Where to link it once ready; `None` when it has its name already.
    link: Option<Link>,
}

/// What [`Segment::init_created`] made of a [`Created`] object.
enum Initialized {
    /// Ready under its name.
    Named(View),
    /// Ready, to be given its name by [`Segment::publish`].
    Pending(Pending),
}

/// A ready segment without its name yet.
struct Pending {
    view: View,
    /// Kept open: the link names the object by its descriptor.
    object: Object,
    link: Link,
}

/// What [`Segment::find`] found.
enum Found {
    /// A valid, ready segment of the requested type.
    Ready(View),
    /// With [`Segment::replace_stale`], when asked: a stale segment (see
    /// [`staleness`]), of any type, to replace.
    Stale,
    /// A segment whose creator died or gave up, seen with state word `seen`.
    Abandoned {
        object: Object,
        stat: Stat,
        mapping: Mapping,
        seen: u64,
        pid: u32,
    },
}

/// What [`Segment::find`] is for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Find {
    /// A plain open: waits for a missing name with `wait_for_creation`.
    Open,
    /// `open_or_create`: a missing name is `NotFound` at once.
    OrCreate,
    /// `open_or_create` with `replace_stale`: also reports stale segments.
    OrReplace,
}

/// Whether a segment whose header reads `snapshot` is stale: `Ok` with the
/// state word it was judged by, or why not. Stale are a ready segment made
/// with `remove_on_drop` whose creator is dead (pid, PID namespace and start
/// time, see [`header::creator_liveness`]), and one whose creator (or
/// replacer) died before it was ready or while replacing it, or gave up. A
/// pid is compared only with its own start time (see
/// [`header::Snapshot::creator`]): a retired segment's replacer, and a
/// claimer that has not yet recorded itself, by their pid's existence.
fn staleness(snapshot: &header::Snapshot) -> std::result::Result<u64, String> {
    let pid = snapshot.creator_pid();
    let judged = |word: u64| match snapshot.creator() {
        header::Creator::Dead => Ok(word),
        header::Creator::Alive => Err(format!("its creator (pid {pid}) is alive")),
        header::Creator::Unknown => Err(format!(
            "its creator (pid {pid}) ran in another PID namespace, or did not record its \
             own, so whether it lives cannot be known here"
        )),
    };
    match snapshot.poll {
        Poll::Ready if !snapshot.tied_to_creator() => Err(
            "it was made without `remove_on_drop`, so it is meant to outlive its creator"
                .to_owned(),
        ),
        Poll::Ready => judged(snapshot.state_word),
        Poll::Initializing { word, .. } | Poll::Retired { word, .. } => judged(word),
        Poll::Abandoned { word, .. } => Ok(word),
        Poll::Older(version) | Poll::Newer(version) => Err(format!(
            "it has header format {version}, not {}: remove it",
            header::FORMAT_VERSION
        )),
        Poll::Uninit | Poll::Garbage | Poll::OtherEndian => {
            Err("it is not a segment of this library that can be judged: remove it".to_owned())
        }
    }
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

/// The header's layout of a payload: one value, or a slice.
fn layout_of<P: ?Sized + Payload>() -> Layout {
    if <P as sealed::PayloadSealed>::SLICE {
        Layout::slice::<Elem<P>>()
    } else {
        Layout::value::<Elem<P>>()
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
}

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

    /// Refuses the raw-mode options for a typed segment.
    fn check_typed(&self) -> Result<()> {
        let set: Vec<&str> = [
            (self.offset != 0, "`offset`"),
            (self.create_new, "`create_new`"),
            (self.create_missing, "`create_missing`"),
        ]
        .into_iter()
        .filter_map(|(on, name)| on.then_some(name))
        .collect();
        if set.is_empty() {
            return Ok(());
        }
        Err(Error::new(
            ErrorKind::Unsupported,
            format!(
                "{}: {} apply to raw views only (`.raw()`); a typed segment starts with its \
                 header at offset 0, and is made by `create` or `open_or_create`",
                self.what(),
                set.join(", ")
            ),
        ))
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

    /// Creates the object exclusively, sized `len` bytes and reserved:
    /// without a name, to be published once ready, where the platform
    /// allows (see `publish`), else under its name.
    fn create_object(&self, len: usize) -> Result<Created> {
        let what = self.what();
        let sized =
            |fd: std::os::fd::OwnedFd, mut stat: Stat, link: Option<Link>| -> Result<Created> {
                creation_step(1);
                object::size_and_reserve(&fd, len, self.reserve, &what)?;
                creation_step(2);
                // The `fstat` of the new, empty object, sized since.
                stat.size = len;
                Ok(Created {
                    object: Object::Fd(fd.into()),
                    stat,
                    link,
                })
            };
        let unnamed = |dir: &[u8], path: &[u8], durable: bool| -> Result<Option<Created>> {
            let Some((fd, stat, link)) =
                publish::create_unnamed(dir, path, self.mode, durable, &what)?
            else {
                return Ok(None);
            };
            if link.name_exists() {
                return Err(Error::new(
                    ErrorKind::AlreadyExists,
                    format!("creating {what}: it exists already (open it, or remove it first)"),
                ));
            }
            sized(fd, stat, Some(link)).map(Some)
        };
        let resolved = self.target.resolve()?;
        if let Some((dir, path, durable)) = self.publish_paths() {
            if let Some(created) = unnamed(&dir, &path, durable)? {
                return Ok(created);
            }
        }
        match resolved {
            Resolved::Posix(name) => {
                let (fd, stat) = posix::create(&name, self.mode, &what)?;
                sized(fd, stat, None).inspect_err(|_| {
                    let _ = posix::unlink_c(&name, &what);
                })
            }
            Resolved::File(path) => {
                let (fd, stat) = file::create(&path, self.mode, &what)?;
                sized(fd, stat, None).inspect_err(|_| {
                    let _ = file::unlink_c(&path, &what);
                })
            }
            Resolved::SysV(key) => {
                let id = sysv::create(key, len, self.mode, &what)?;
                sysv::stat(id, &what)
                    .map(|stat| Created {
                        object: Object::SysV(id),
                        stat,
                        link: None,
                    })
                    .inspect_err(|_| {
                        let _ = sysv::remove_id(id, &what);
                    })
            }
        }
    }

    /// Gives a pending segment its name; on failure it stays pending (an
    /// existing name: [`AlreadyExists`](ErrorKind::AlreadyExists)).
    fn publish(&self, pending: &Pending) -> Result<()> {
        creation_step(6);
        let Object::Fd(fd) = &pending.object else {
            unreachable!("only descriptors are published by a link")
        };
        pending.link.publish(fd, &self.what())?;
        creation_step(7);
        Ok(())
    }

    /// Opens the existing object and checks its owner; with
    /// [`wait_for_creation`](Self::wait_for_creation) and a `deadline`,
    /// waits for a missing name to appear until then.
    fn open_object_until(
        &self,
        writable: bool,
        deadline: Option<Instant>,
    ) -> Result<(Object, Stat)> {
        let Some(deadline) = deadline.filter(|_| self.wait_for_creation) else {
            return self.open_object(writable);
        };
        let mut backoff = Backoff::new(deadline);
        loop {
            match self.open_object(writable) {
                Err(e) if e.kind() == ErrorKind::NotFound => {
                    if !backoff.wait() {
                        return Err(Error::new(
                            ErrorKind::TimedOut,
                            format!(
                                "waited {:?} for {} to be created, but no process created it \
                                 (wait longer with `Segment::open_timeout`)",
                                self.open_timeout,
                                self.what()
                            ),
                        ));
                    }
                }
                other => return other,
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
                (Object::Fd(fd.into()), stat)
            }
            Resolved::File(path) => {
                let fd = file::open(&path, writable, &what)?;
                let stat = object::fstat(&fd, &what)?;
                (Object::Fd(fd.into()), stat)
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
        self.check_typed()?;
        let total = self.total_len(layout, len)?;
        let mut origin = Origin::Created;
        let mut _lock = None;
        let created = match self.create_object(total) {
            Ok(created) => created,
            Err(e) if e.kind() == ErrorKind::AlreadyExists && !self.replace_stale => {
                return Err(self.exists_without_replace(e))
            }
            Err(e) if e.kind() == ErrorKind::AlreadyExists => {
                // Serialized with other replacers and `open_or_create`
                // where a lock exists; the retiring compare-exchange decides
                // everywhere.
                _lock = self.creation_lock(self.deadline())?;
                self.take_over()?;
                origin = Origin::Reclaimed;
                self.create_object(total)?
            }
            Err(e) => return Err(e),
        };
        let mut view = match self.init_created(created, layout, len, init)? {
            Initialized::Named(view) => view,
            Initialized::Pending(pending) => {
                self.publish(&pending)?;
                pending.view
            }
        };
        view.origin = origin;
        Ok(view)
    }

    /// The end of a payload of `len` elements: an error if it does not fit
    /// in the address space (checked before an open, without describing the
    /// type).
    fn payload_end(&self, layout: &Layout, len: usize) -> Result<usize> {
        layout
            .size
            .checked_mul(len)
            .and_then(|b| b.checked_add(layout.payload_offset()))
            .filter(|end| *end <= isize::MAX as usize)
            .ok_or_else(|| self.too_large(layout, len))
    }

    fn too_large(&self, layout: &Layout, len: usize) -> Error {
        Error::new(
            ErrorKind::InvalidSize,
            format!(
                "{}: {len} elements of `{}` do not fit in the address space",
                self.what(),
                layout.type_name
            ),
        )
    }

    /// The object's length for `len` elements of `layout`: header, payload
    /// and description block.
    fn total_len(&self, layout: &Layout, len: usize) -> Result<usize> {
        layout
            .total_len(len)
            .ok_or_else(|| self.too_large(layout, len))
    }

    /// Maps, claims, initializes and marks ready an object this process
    /// just created (zero-filled by the system): published already when it
    /// was created under its name, else pending its link.
    fn init_created(
        &self,
        created: Created,
        layout: &Layout,
        len: usize,
        init: impl FnOnce(NonNull<u8>),
    ) -> Result<Initialized> {
        let Created { object, stat, link } = created;
        let named = link.is_none();
        let what = self.what();
        let total = self.total_len(layout, len)?;
        let mapping = match object.map(total, true, &self.map_options, &what) {
            Ok(mapping) => mapping,
            Err(e) => {
                if named {
                    let _ = self.target.remove(Some(stat.identity));
                }
                return Err(e);
            }
        };
        let pid = std::process::id();
        // SAFETY: the mapping is page-aligned and `total >= HEADER_SIZE`
        // bytes long; it lives until the end of this function at least.
        let header = unsafe { HeaderPtr::new(mapping.ptr()) };
        // Declared after `mapping`, so dropped before it.
        let mut guard = InitGuard {
            target: &self.target,
            remove: named.then_some(stat.identity),
            header: None,
            pid,
        };
        if !header.claim_fresh(pid) {
            return Err(Error::new(
                ErrorKind::NotASegment,
                format!("creating {what}: another process wrote into it before it was claimed"),
            ));
        }
        claim_step();
        if !header.set_creator(pid, self.remove_on_drop, !named) {
            // Judged dead by another process, which took the header over.
            guard.disarm();
            return Err(taken_over(&what));
        }
        creation_step(3);
        guard.header = Some(header);
        // SAFETY: this process claimed the header; the payload is fresh.
        let published = unsafe { initialize(header, &mapping, layout, len, pid, true, init) };
        guard.disarm();
        if !published {
            return Err(taken_over(&what));
        }
        let view = View {
            mapping,
            offset: layout.payload_offset(),
            len,
            identity: stat.identity,
            origin: Origin::Created,
        };
        Ok(match link {
            None => Initialized::Named(view),
            Some(link) => Initialized::Pending(Pending { view, object, link }),
        })
    }

    /// Opens the segment and waits until it is ready (or abandoned), then
    /// validates the header against `layout`.
    ///
    /// The header of a POSIX object or file is read with `pread`, never
    /// through a mapping: another process may truncate it at any moment, and
    /// a read merely comes back short. System V segments cannot shrink:
    /// read from their attachment.
    ///
    /// `how` says whether a missing name is waited for (plain opens with
    /// [`wait_for_creation`](Self::wait_for_creation)) and whether a stale
    /// segment is reported as [`Found::Stale`] (`open_or_create` with
    /// [`replace_stale`](Self::replace_stale)).
    fn find(&self, layout: &Layout, writable: bool, deadline: Instant, how: Find) -> Result<Found> {
        let what = self.what();
        check_align(layout, &what)?;
        let wait_name = (how == Find::Open).then_some(deadline);
        let (object, mut stat) = self.open_object_until(writable, wait_name)?;
        // A System V segment cannot shrink: its header is read from an
        // attachment of its full size. A POSIX object or file is read with
        // `pread` and mapped only after the checks: reading its header
        // through a mapping would make every open rely on the SIGBUS
        // handler's repair of a truncation (measured: 10% of an open), which
        // emulators such as qemu-user do not reproduce.
        let attached = match &object {
            Object::SysV(_) if stat.size >= HEADER_SIZE => {
                match object.map(stat.size, writable, &self.map_options, &what) {
                    Ok(mapping) => Some(mapping),
                    // Removed since it was opened: as if never found.
                    Err(_) if object.stat(&what).is_err() => {
                        return Err(self.removed_while_waiting())
                    }
                    Err(e) => return Err(e),
                }
            }
            _ => None,
        };
        let reader = match (&object, &attached) {
            (Object::Fd(fd), _) => Reader::Fd(fd.as_fd()),
            (Object::SysV(_), Some(mapping)) => Reader::SysV(mapping),
            (Object::SysV(_), None) => {
                return Err(Error::new(
                    ErrorKind::TooShort,
                    format!(
                        "{what} is {} bytes long, shorter than the {HEADER_SIZE}-byte header of \
                         this library: a program without this library made it (map those with \
                         `.raw().open()`)",
                        stat.size
                    ),
                ))
            }
        };
        let mut backoff = Backoff::new(deadline);
        let snapshot = loop {
            let snapshot = if stat.size < HEADER_SIZE {
                None
            } else {
                reader.header()?
            };
            let waiting_for = match snapshot.as_ref().map(|s| s.poll) {
                // Empty (a creator between creating and sizing it), or
                // truncated since the `fstat`: look again.
                None if stat.size == 0 || stat.size >= HEADER_SIZE => {
                    if !backoff.wait() {
                        return Err(Error::new(
                            ErrorKind::TimedOut,
                            format!(
                                "{what} stayed empty for {:?}: its creator may have died before \
                                 sizing it, or a program without this library made it; remove it",
                                self.open_timeout
                            ),
                        ));
                    }
                    stat = object.stat(&what)?;
                    if !stat.linked {
                        return Err(self.removed_while_waiting());
                    }
                    continue;
                }
                None => {
                    return Err(Error::new(
                        ErrorKind::TooShort,
                        format!(
                            "{what} is {} bytes long, shorter than the {HEADER_SIZE}-byte header \
                             of this library: it was truncated, or a program without this \
                             library made it (map those with `.raw().open()`)",
                            stat.size
                        ),
                    ));
                }
                Some(Poll::Ready) => {
                    let snapshot = snapshot.expect("read");
                    if how == Find::OrReplace && staleness(&snapshot).is_ok() {
                        return Ok(Found::Stale);
                    }
                    break snapshot;
                }
                Some(Poll::Retired { pid, .. }) => {
                    let snapshot = snapshot.as_ref().expect("read");
                    if staleness(snapshot).is_ok() {
                        if how == Find::OrReplace {
                            return Ok(Found::Stale);
                        }
                        return Err(Error::new(
                            ErrorKind::CreatorDied,
                            format!(
                                "{what}: its creator died, and process {pid} died while \
                                 replacing it; create it with `.replace_stale(true)`, or remove \
                                 it"
                            ),
                        ));
                    }
                    format!("process {pid} is replacing it (its creator died)")
                }
                Some(Poll::Uninit) => "it is still uninitialized (all zero): if no process is \
                     creating it, its creator died before claiming it or it is not a segment \
                     of this library; remove it"
                    .to_owned(),
                Some(Poll::Initializing { pid, word, .. }) => {
                    let dead = snapshot
                        .as_ref()
                        .is_some_and(|s| s.creator() == header::Creator::Dead);
                    if dead {
                        return self.abandoned(object, stat, writable, word, pid);
                    }
                    format!("its creator (pid {pid}) is still initializing it")
                }
                Some(Poll::Abandoned { pid, word }) => {
                    return self.abandoned(object, stat, writable, word, pid)
                }
                Some(Poll::Garbage) => {
                    return Err(Error::new(
                        ErrorKind::NotASegment,
                        format!(
                            "{what} is not a segment of this library (no valid header): another \
                             program made it (map it with `.raw().open()`), or it is corrupt"
                        ),
                    ))
                }
                Some(Poll::Newer(version)) => {
                    return Err(Error::new(
                        ErrorKind::UnsupportedVersion,
                        format!(
                            "{what} has header format {version}, newer than the format {} this \
                             version of shm-runtime reads: upgrade this program",
                            header::FORMAT_VERSION
                        ),
                    ))
                }
                Some(Poll::Older(version)) => {
                    return Err(Error::new(
                        ErrorKind::UnsupportedVersion,
                        format!(
                            "{what} has header format {version}, made by an older version of \
                             shm-runtime; this version reads format {} only ({}): remove it and \
                             recreate it with this version",
                            header::FORMAT_VERSION,
                            header::older_format_differs(version)
                        ),
                    ))
                }
                Some(Poll::OtherEndian) => {
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
            stat = object.stat(&what)?;
            if !stat.linked {
                return Err(self.removed_while_waiting());
            }
        };
        let (offset, len) = snapshot.validate(layout, stat.size, &what, &reader)?;
        // Mapped only now, after every check; `validate` proved the object
        // holds the header and the whole payload.
        let mapping = match attached {
            Some(mapping) => mapping,
            None => object.map(stat.size, writable, &self.map_options, &what)?,
        };
        Ok(Found::Ready(View {
            mapping,
            offset,
            len,
            identity: stat.identity,
            origin: Origin::Opened,
        }))
    }

    /// A segment whose creator died or gave up: mapped, so that
    /// `open_or_create` can reclaim its header with a compare-exchange.
    fn abandoned(
        &self,
        object: Object,
        stat: Stat,
        writable: bool,
        seen: u64,
        pid: u32,
    ) -> Result<Found> {
        let mapping = object.map(stat.size, writable, &self.map_options, &self.what())?;
        Ok(Found::Abandoned {
            object,
            stat,
            mapping,
            seen,
            pid,
        })
    }

    fn open_layout(&self, layout: &Layout, writable: bool) -> Result<View> {
        self.check_typed()?;
        let deadline = self.deadline();
        let mut backoff = Backoff::new(deadline);
        loop {
            match self.find(layout, writable, deadline, Find::Open) {
                Ok(Found::Ready(view)) => return Ok(view),
                Ok(Found::Abandoned { pid, .. }) => return Err(self.creator_died(pid)),
                Ok(Found::Stale) => unreachable!("only `Find::OrReplace` reports stale segments"),
                // Removed while this process waited for it to be ready (its
                // creator failed, or it was being replaced): with
                // `wait_for_creation`, wait for the name again.
                Err(e)
                    if e.kind() == ErrorKind::NotFound
                        && self.wait_for_creation
                        && backoff.wait() => {}
                Err(e) => return Err(e),
            }
        }
    }

    /// The creation lock of this segment's name, where creation publishes
    /// by a link (see `publish`); `None` elsewhere, where the header's
    /// compare-exchanges alone decide.
    fn creation_lock(&self, deadline: Instant) -> Result<Option<publish::CreationLock>> {
        match self.publish_paths() {
            Some((dir, path, _)) => {
                publish::CreationLock::acquire(&dir, &path, deadline, &self.what()).map(Some)
            }
            None => Ok(None),
        }
    }

    /// Takes a stale segment's name over, to create it anew: retires it
    /// (a compare-exchange of the state word it was judged by, so that of
    /// several replacers exactly one wins) and removes its name. `Ok` also
    /// when the name vanished meanwhile; an
    /// [`AlreadyExists`](ErrorKind::AlreadyExists) error saying why when
    /// it is not stale, or another process is replacing it.
    fn take_over(&self) -> Result<()> {
        let what = self.what();
        let (object, stat) = match self.open_object(true) {
            Ok(opened) => opened,
            Err(e) if e.kind() == ErrorKind::NotFound => return Ok(()),
            Err(e) => return Err(e),
        };
        // Another replacer may remove the object at any step (a System V
        // segment then cannot be attached): its name is free, create it.
        let gone = |e: Error| match object.stat(&what) {
            Ok(now) if now.linked => Err(e),
            _ => Ok(()),
        };
        let snapshot = match self.read_header(&object, &stat) {
            Ok(snapshot) => snapshot,
            Err(e) => return gone(e),
        };
        let seen = snapshot
            .as_ref()
            .ok_or_else(|| "it is shorter than a header of this library".to_owned())
            .and_then(staleness)
            .map_err(|why| self.exists_error(&why))?;
        // The header's page, writable (System V: the whole segment).
        let mapping = match object.map(HEADER_SIZE, true, &self.map_options, &what) {
            Ok(mapping) => mapping,
            Err(e) => return gone(e),
        };
        // SAFETY: page-aligned, at least `HEADER_SIZE` bytes, mapped while
        // `mapping` lives.
        let header = unsafe { HeaderPtr::new(mapping.ptr()) };
        if !header.retire(seen, std::process::id()) {
            return Err(self.exists_error(
                "another process is replacing it or took it over since it was judged stale",
            ));
        }
        stop_step(STOP_RETIRED);
        match self.target.remove(Some(stat.identity)) {
            Err(e) if e.kind() != ErrorKind::NotFound => Err(e),
            _ => Ok(()),
        }
    }

    /// The header of an open object (`None` when it is shorter than one),
    /// read without a mapping that a truncation could turn into `SIGBUS`.
    fn read_header(&self, object: &Object, stat: &Stat) -> Result<Option<header::Snapshot>> {
        if stat.size < HEADER_SIZE {
            return Ok(None);
        }
        match object {
            Object::Fd(fd) => Reader::Fd(fd.as_fd()).header(),
            Object::SysV(_) => {
                let mapping = object.map(stat.size, false, &self.map_options, &self.what())?;
                Reader::SysV(&mapping).header()
            }
        }
    }

    /// The [`AlreadyExists`](ErrorKind::AlreadyExists) error of a create
    /// that found the name taken, saying why it was not replaced.
    fn exists_error(&self, why: &str) -> Error {
        Error::new(
            ErrorKind::AlreadyExists,
            format!("creating {}: it exists already, and {why}", self.what()),
        )
    }

    /// The error of a create without [`replace_stale`](Self::replace_stale)
    /// that found the name taken: it says whether the segment is stale, and
    /// names the option that would replace it.
    fn exists_without_replace(&self, error: Error) -> Error {
        let judged = self.open_object(false).and_then(|(object, stat)| {
            Ok(self
                .read_header(&object, &stat)?
                .map(|snapshot| (staleness(&snapshot), snapshot.creator_pid())))
        });
        let what = self.what();
        let message = match judged {
            Ok(Some((Ok(_), pid))) => format!(
                "creating {what}: it exists already, left behind by its creator (pid {pid}), \
                 which is dead: create with `Segment::replace_stale(true)` to replace it, or \
                 remove it"
            ),
            Ok(Some((Err(why), _))) => format!(
                "creating {what}: it exists already (open it, or remove it first; \
                 `Segment::replace_stale(true)` would not replace it: {why})"
            ),
            _ => return error,
        };
        Error::new(ErrorKind::AlreadyExists, message)
    }

    fn open_or_create_layout(
        &self,
        layout: &Layout,
        len: usize,
        init: impl FnOnce(NonNull<u8>),
    ) -> Result<View> {
        let what = self.what();
        check_align(layout, &what)?;
        self.check_typed()?;
        // Only sized here (not described: an open never encodes the
        // description); `create_object` below gets the full length.
        let _ = self.payload_end(layout, len)?;
        let deadline = self.deadline();
        let mut backoff = Backoff::new(deadline);
        let gave_up = || {
            Error::new(
                ErrorKind::TimedOut,
                format!(
                    "opening or creating {what}: gave up after {:?} of races with other \
                     processes creating and removing it",
                    self.open_timeout
                ),
            )
        };
        // `init` runs at most once: every path that calls it returns.
        let mut init = Some(init);
        // Whether this process retired a stale segment of the name.
        let mut replaced = false;
        let locks = self.publish_paths().is_some();
        loop {
            // The name usually exists: open it without any lock (a stale
            // one is replaced under the lock, where there is one).
            if let Some(view) =
                self.open_existing(layout, len, deadline, &mut init, !locks, &mut replaced)?
            {
                return Ok(view);
            }
            // Only one process at a time creates (where creation publishes
            // by a link; elsewhere the header's claim decides). Under the
            // lock, the previous holder may have just created it.
            let _lock = match self.creation_lock(deadline)? {
                Some(lock) => {
                    if let Some(view) =
                        self.open_existing(layout, len, deadline, &mut init, true, &mut replaced)?
                    {
                        return Ok(view);
                    }
                    Some(lock)
                }
                None => None,
            };
            let origin = if replaced {
                Origin::Reclaimed
            } else {
                Origin::Created
            };
            match self.create_object(self.total_len(layout, len)?) {
                Ok(created) => {
                    let init = init.take().expect("init runs once");
                    let mut pending = match self.init_created(created, layout, len, init)? {
                        Initialized::Named(mut view) => {
                            view.origin = origin;
                            return Ok(view);
                        }
                        Initialized::Pending(pending) => pending,
                    };
                    pending.view.origin = origin;
                    // Ready, not yet under its name. Only a plain `create`
                    // (which takes no lock) can have taken the name since:
                    // then open that one; should it vanish again, link ours.
                    loop {
                        match self.publish(&pending) {
                            Ok(()) => return Ok(pending.view),
                            Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                            Err(e) => return Err(e),
                        }
                        match self.find(layout, true, deadline, Find::OrCreate) {
                            Ok(Found::Ready(view)) => return Ok(view),
                            Ok(Found::Abandoned { pid, .. }) => return Err(self.creator_died(pid)),
                            Ok(Found::Stale) => unreachable!("not asked for"),
                            Err(e) if e.kind() == ErrorKind::NotFound => {}
                            Err(e) => return Err(e),
                        }
                        if !backoff.wait() {
                            return Err(gave_up());
                        }
                    }
                }
                // Created under its name by another process meanwhile.
                Err(e) if e.kind() == ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e),
            }
            if !backoff.wait() {
                return Err(gave_up());
            }
        }
    }

    /// Opens the segment if it exists (`None` if it does not), reclaiming
    /// it with `init` from a creator that died initializing it in place.
    /// With [`replace_stale`](Self::replace_stale), a stale segment is
    /// retired and its name removed when `may_replace` (under the creation
    /// lock, or where there is none; else it is left for the call under the
    /// lock): then `*replaced` and `None`, so that the caller creates anew.
    fn open_existing(
        &self,
        layout: &Layout,
        len: usize,
        deadline: Instant,
        init: &mut Option<impl FnOnce(NonNull<u8>)>,
        may_replace: bool,
        replaced: &mut bool,
    ) -> Result<Option<View>> {
        let how = if self.replace_stale {
            Find::OrReplace
        } else {
            Find::OrCreate
        };
        match self.find(layout, true, deadline, how) {
            Ok(Found::Ready(view)) => Ok(Some(view)),
            Ok(Found::Stale) if !may_replace => Ok(None),
            Ok(Found::Stale) => match self.take_over() {
                Ok(()) => {
                    *replaced = true;
                    Ok(None)
                }
                // Another process replaced it first: open or create again.
                Err(e) if e.kind() == ErrorKind::AlreadyExists => Ok(None),
                Err(e) => Err(e),
            },
            Ok(Found::Abandoned {
                object,
                stat,
                mapping,
                seen,
                ..
            }) => {
                // SAFETY: `find` mapped at least the header, page-aligned.
                let header = unsafe { HeaderPtr::new(mapping.ptr()) };
                let pid = std::process::id();
                if header.reclaim(seen, pid) {
                    claim_step();
                    if header.set_creator(pid, self.remove_on_drop, false) {
                        let init = init.take().expect("init runs once");
                        return self
                            .init_reclaimed(object, stat, mapping, layout, len, init)
                            .map(Some);
                    }
                }
                // Another process reclaimed it first (or took it over from
                // this one, judging it dead): wait for it.
                match self.find(layout, true, deadline, Find::OrCreate) {
                    Ok(Found::Ready(view)) => Ok(Some(view)),
                    Ok(Found::Abandoned { pid, .. }) => Err(self.creator_died(pid)),
                    Ok(Found::Stale) => unreachable!("not asked for"),
                    Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
                    Err(e) => Err(e),
                }
            }
            // Not there (or removed since we saw it): create it.
            Err(e) if e.kind() == ErrorKind::NotFound => Ok(None),
            Err(e) => Err(e),
        }
    }

    /// Where creation can publish by a link: the directory for the unnamed
    /// object, the name's full path, and whether it must be made durable.
    fn publish_paths(&self) -> Option<(Vec<u8>, Vec<u8>, bool)> {
        use std::os::unix::ffi::OsStrExt;
        if IN_PLACE.load(std::sync::atomic::Ordering::Relaxed) {
            return None;
        }
        match &self.target {
            Target::Posix(name) if publish::dev_shm_is_tmpfs() && name.len() > 1 => Some((
                b"/dev/shm".to_vec(),
                format!("/dev/shm/{}", &name[1..]).into_bytes(),
                false,
            )),
            Target::File(path) => {
                let dir = match path.parent() {
                    Some(dir) if !dir.as_os_str().is_empty() => dir,
                    _ => Path::new("."),
                };
                Some((
                    dir.as_os_str().as_bytes().to_vec(),
                    path.as_os_str().as_bytes().to_vec(),
                    true,
                ))
            }
            _ => None,
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
                .grow(total, self.reserve, &what)
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
        let published = unsafe { initialize(header, &mapping, layout, len, pid, false, init) };
        guard.disarm();
        if !published {
            return Err(taken_over(&what));
        }
        Ok(View {
            mapping,
            offset: layout.payload_offset(),
            len,
            identity: stat.identity,
            origin: Origin::Reclaimed,
        })
    }

    fn attach_owner(&self, view: &mut View) {
        if self.remove_on_drop && view.created() {
            view.mapping.set_owner(SegmentOwner {
                target: self.target.clone(),
                identity: Some(view.identity),
                armed: true,
            });
        }
    }

    /// Checks that the payload of a view this process did not write holds
    /// valid values (see the [module documentation](self#what-opening-checks)),
    /// before any reference to it exists; nothing to do, at compile time,
    /// for a type whose every bit pattern is valid.
    fn validate<T: SharedSafe>(&self, view: &View, slice: bool) -> Result<()> {
        if view.created() || !T::LAYOUT.needs_check() {
            return Ok(());
        }
        // SAFETY: the payload lies inside the mapping at `offset`, aligned.
        let first = unsafe { view.mapping.ptr().add(view.offset) }.cast::<T>();
        // SAFETY: `view.len` values of `T` are mapped there (the header was
        // validated against the object's size); plain data in them is only
        // written at creation, which was published before this open, and the
        // parts others may be writing now (atomics, a lock's value) are read
        // atomically or not at all.
        let checked = unsafe {
            if slice {
                crate::layout::check_values(first.as_ptr(), view.len)
            } else {
                crate::layout::check_value(first.as_ptr())
            }
        };
        checked.map_err(|invalid| {
            Error::new(
                ErrorKind::InvalidValue,
                format!(
                    "{} holds a `{}` whose bytes are not a valid value: {invalid}; it was \
                     corrupted, or written by a program outside this library's protocol",
                    self.what(),
                    std::any::type_name::<T>()
                ),
            )
        })
    }

    /// A view of a published, validated payload.
    fn checked_view<P: ?Sized + Payload>(&self, view: View) -> Result<Shared<P>> {
        self.validate::<Elem<P>>(&view, <P as sealed::PayloadSealed>::SLICE)?;
        // SAFETY: the header proves a published payload of this layout, and
        // its bytes are valid (checked just above, or written here).
        unsafe { self.view_of(view) }
    }

    /// # Safety
    /// The view's payload holds valid elements (one for a value), mutated
    /// only in `&T`-safe ways (or, for a read-only mapping, never through
    /// this view).
    unsafe fn view_of<P: ?Sized + Payload>(&self, mut view: View) -> Result<Shared<P>> {
        self.forbid_zeros::<Elem<P>>(&view)?;
        self.attach_owner(&mut view);
        // SAFETY: the payload lies inside the mapping at `offset`.
        let first = unsafe { view.mapping.ptr().add(view.offset) }.cast::<Elem<P>>();
        let ptr = <P as sealed::PayloadSealed>::from_parts(first, view.len);
        // SAFETY: the caller's contract; `ptr` is aligned (page-aligned base,
        // offset a multiple of the alignment) and inside the mapping.
        Ok(unsafe { Shared::from_mapping(view.mapping, ptr) }.with_origin(view.origin))
    }

    /// Where zero bytes are no valid `T`, tells the `SIGBUS` handler so (a
    /// truncation under the view then aborts: nothing sound is possible);
    /// a mapping truncated already is [`Truncated`](ErrorKind::Truncated).
    fn forbid_zeros<T: SharedSafe>(&self, view: &View) -> Result<()> {
        if crate::layout::zeros_are_valid::<T>() || view.mapping.forbid_zeros() {
            Ok(())
        } else {
            Err(crate::map::truncated_error(&self.what()))
        }
    }
}

/// Writes the header fields and the payload of a claimed segment, then
/// publishes it: `false` when another process took the header over
/// meanwhile (judging this one dead), so that nothing was published and
/// the payload must not be handed out.
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
) -> bool {
    // SAFETY: claimed by this process (caller's contract).
    unsafe { header.write_fields(layout, len) };
    creation_step(4);
    // SAFETY: the payload offset lies inside the mapping.
    let payload = unsafe { mapping.ptr().add(layout.payload_offset()) };
    if !fresh {
        // SAFETY: `len` elements of the payload lie inside the writable
        // mapping, and no other process reads them before publication.
        unsafe { payload.as_ptr().write_bytes(0, layout.size * len) };
    }
    init(payload);
    creation_step(5);
    header.publish(pid)
}

/// The error of a creator whose header another process took over (retired
/// or reclaimed, having judged this process dead) before it was published.
fn taken_over(what: &str) -> Error {
    Error::new(
        ErrorKind::AlreadyExists,
        format!(
            "creating {what}: another process took it over before it was ready, judging this \
             one dead (were its pid or PID namespace misjudged?); open it again"
        ),
    )
}

/// The test hook of [`crate::__private::stop_during_creation_at`]: 0, or
/// the point at which this process stops itself.
static STOP_AT: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// [`crate::__private::stop_during_creation_at`]: a header claimed or
/// reclaimed, its claimer not yet recorded.
const STOP_CLAIMED: u32 = 1;
/// [`crate::__private::stop_during_creation_at`]: a stale segment retired,
/// its name not yet removed.
const STOP_RETIRED: u32 = 2;

/// Stops this process with `SIGSTOP` (until a `SIGCONT`) if a test asked
/// for it at `point`.
fn stop_step(point: u32) {
    if STOP_AT.load(std::sync::atomic::Ordering::Relaxed) == point {
        // SAFETY: raising a signal has no memory-safety preconditions.
        unsafe { libc::raise(libc::SIGSTOP) };
    }
}

/// The point between claiming a header and recording the claimer.
fn claim_step() {
    stop_step(STOP_CLAIMED);
}

/// See [`crate::__private::stop_during_creation_at`].
#[doc(hidden)]
pub fn stop_during_creation_at(point: u32) {
    STOP_AT.store(point, std::sync::atomic::Ordering::Relaxed);
}

/// The test hook of [`crate::__private::die_during_creation_at`]: 0, or the
/// step of creation at which this process ends itself.
static DIE_AT_STEP: std::sync::atomic::AtomicU32 = std::sync::atomic::AtomicU32::new(0);

/// Ends this process at once (as a `SIGKILL` would: no unwinding, no
/// destructor) if a test asked for it at `step`. Steps: 1 object made, 2
/// sized and reserved, 3 header claimed, 4 header written, 5 payload
/// initialized, 6 marked ready (not yet linked), 7 linked.
fn creation_step(step: u32) {
    if DIE_AT_STEP.load(std::sync::atomic::Ordering::Relaxed) == step {
        // SAFETY: `_exit` ends the process without running any Rust code.
        unsafe { libc::_exit(0) }
    }
}

/// See [`crate::__private::publish_in_place`].
static IN_PLACE: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);

/// See [`crate::__private::publish_in_place`].
#[doc(hidden)]
pub fn publish_in_place(on: bool) {
    IN_PLACE.store(on, std::sync::atomic::Ordering::Relaxed);
}

/// See [`crate::__private::die_during_creation_at`].
#[doc(hidden)]
pub fn die_during_creation_at(step: u32) {
    DIE_AT_STEP.store(step, std::sync::atomic::Ordering::Relaxed);
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
/// `name` is a `&str`, or an [`OsStr`](std::ffi::OsStr) for a name that is
/// not UTF-8 (as [`list`] may find, made by another program).
///
/// Errors: [`InvalidName`](ErrorKind::InvalidName) for a name that is no
/// POSIX name (`/name`), [`NotFound`](ErrorKind::NotFound) when there is no
/// such name.
///
/// ```
/// use shm_runtime::segment::{self, Segment};
/// use std::os::unix::ffi::OsStrExt;
/// let name = format!("/shm-runtime-doc-unlink-{}", std::process::id());
/// Segment::posix(&name).create(1u32)?;
/// segment::unlink(&name)?;
/// // Names are bytes: this one is not UTF-8.
/// let raw = std::ffi::OsStr::from_bytes(b"/shm-runtime-doc-unlink-\xff");
/// assert_eq!(segment::unlink(raw).unwrap_err().kind(), shm_runtime::ErrorKind::NotFound);
/// # Ok::<(), shm_runtime::Error>(())
/// ```
pub fn unlink(name: impl AsRef<std::ffi::OsStr>) -> Result<()> {
    let name = name.as_ref();
    let c_name = posix::validate_os_name(name)?;
    posix::unlink_c(&c_name, &format!("segment `{}`", posix::escape_name(name)))
}

/// Raw mode: segments and files without header, made by (or for) C, C++ or
/// Python programs (see [raw mode](self#raw-mode)), behind
/// [`Segment::raw`] (the helpers are in the `raw` module).
impl<A> Segment<A> {
    /// The raw open of `.raw().open::<P>()`, with `V`'s access.
    fn open_raw_payload<P, V>(&self) -> Result<Volatile<P, V>>
    where
        P: ?Sized + Payload,
        Elem<P>: bytemuck::AnyBitPattern,
        V: Access,
    {
        let name = std::any::type_name::<Elem<P>>();
        let len = match (<P as sealed::PayloadSealed>::SLICE, self.raw_len) {
            (false, None) => 1,
            (false, Some(len)) => {
                return Err(Error::new(
                    ErrorKind::Unsupported,
                    format!(
                        "{}: `.len({len})` sets the element count of a raw slice view, and \
                         `{name}` is no slice: open a `[{name}]`, or leave `len` unset",
                        self.what()
                    ),
                ))
            }
            (true, Some(len)) => len,
            (true, None) => return self.open_raw_all::<P, V>(),
        };
        let bytes = self.raw_bytes::<Elem<P>>(len)?;
        let shape = if <P as sealed::PayloadSealed>::SLICE {
            format!("`[{name}; {len}]`")
        } else {
            format!("`{name}`")
        };
        let view = self.open_raw_view(bytes, align_of::<Elem<P>>(), len, V::WRITABLE, shape)?;
        // SAFETY: `bytes` bytes of the object (`len` elements) are mapped at
        // the offset, writable when `V` is `ReadWrite`; the elements are
        // `AnyBitPattern`.
        Ok(unsafe { self.raw_view::<P, V>(view) })
    }

    /// A raw slice view of the whole object from the offset, its length
    /// taken from the object's size: for C or Python peers that do not say
    /// how many elements they wrote. A size that is not a whole number of
    /// elements is refused ([`InvalidSize`](ErrorKind::InvalidSize)): the
    /// type is probably not the one the peer wrote.
    fn open_raw_all<P, V>(&self) -> Result<Volatile<P, V>>
    where
        P: ?Sized + Payload,
        Elem<P>: bytemuck::AnyBitPattern,
        V: Access,
    {
        let what = self.what();
        let name = std::any::type_name::<Elem<P>>();
        if self.create_new || self.create_missing {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "{what}: a raw slice view without `.len(n)` takes its length from \
                     the object, so it cannot create one: set `.len(n)` with `create_new` or \
                     `create_missing`"
                ),
            ));
        }
        let (offset, _) = self.raw_range(align_of::<Elem<P>>(), 0)?;
        let (object, stat) = self.open_object_until(V::WRITABLE, Some(self.deadline()))?;
        let Some(rest) = stat.size.checked_sub(offset) else {
            return Err(Error::new(
                ErrorKind::TooShort,
                format!(
                    "{what} is {} bytes long, shorter than the offset {offset}",
                    stat.size
                ),
            ));
        };
        if size_of::<Elem<P>>() == 0 || rest % size_of::<Elem<P>>() != 0 {
            return Err(Error::new(
                ErrorKind::InvalidSize,
                format!(
                    "{what} holds {rest} bytes from offset {offset}, not a whole number of \
                     {}-byte `{name}`s",
                    size_of::<Elem<P>>()
                ),
            ));
        }
        let len = rest / size_of::<Elem<P>>();
        let bytes = self.raw_bytes::<Elem<P>>(len)?;
        let view = self.map_raw(
            object,
            stat,
            offset,
            bytes,
            len,
            V::WRITABLE,
            Origin::Opened,
        )?;
        // SAFETY: the `len` elements the object holds (its size, checked by
        // `fstat` just before mapping) are mapped at the offset, writable
        // when `V` is `ReadWrite`; the elements are `AnyBitPattern`.
        Ok(unsafe { self.raw_view::<P, V>(view) })
    }

    /// The raw create of `.raw().create(init::from_fn(len, element))`.
    fn create_raw<T, F>(&self, init: FromFn<T, F>) -> Result<Volatile<[T]>>
    where
        T: SharedSafe + bytemuck::AnyBitPattern,
        F: FnMut(usize) -> T,
    {
        let what = self.what();
        let len = init.count();
        let bytes = self.raw_bytes::<T>(len)?;
        let (offset, end) = self.raw_range(align_of::<T>(), bytes)?;
        let Created { object, stat, link } = self.create_object(end)?;
        let remove = |e: Error| {
            let _ = self.target.remove(Some(stat.identity));
            e
        };
        let (from, inner) = match object {
            Object::SysV(_) => (0, offset),
            Object::Fd(_) => (offset - offset % page_size(), offset % page_size()),
        };
        let mapping = if end == 0 {
            // Nothing to map from an empty object: an anonymous page stands in.
            crate::map::Mapping::anonymous(1, &crate::MapOptions::new(), &what).map_err(remove)?
        } else {
            object
                .map_at(from, inner + bytes, true, &self.map_options, &what)
                .map_err(remove)?
        };
        // SAFETY: `inner` lies inside the mapping (it maps `inner + bytes`).
        let first = unsafe { mapping.ptr().add(inner) }.cast::<T>();
        // Removes the name should `element` panic (a no-op while the object
        // has none yet).
        let owner = self.owner_of(stat.identity);
        // SAFETY: the `len` elements fit in the writable mapping, aligned
        // (page base plus a multiple of the alignment). Should the object
        // have its name already, another process may have mapped it and read
        // it at any time, which is no race of this program's (it never reads
        // the bytes here). The padding is zeroed, so no byte of this
        // process's stack is copied.
        unsafe { init.write_to(first) };
        let view = View {
            mapping,
            offset: inner,
            len,
            identity: stat.identity,
            origin: Origin::Created,
        };
        let view = match link {
            // Written whole before a C or Python peer can open it by name.
            Some(link) => {
                let pending = Pending { view, object, link };
                self.publish(&pending)?;
                pending.view
            }
            None => view,
        };
        owner.keep();
        // SAFETY: `len` elements are mapped writable at offset 0;
        // `T: AnyBitPattern`.
        Ok(unsafe { self.raw_view::<[T], ReadWrite>(view) })
    }
}
