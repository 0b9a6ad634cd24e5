//! Named and file-backed segments: POSIX shared memory, files and System V
//! segments, each starting with a checked header.
//!
//! A [`Segment`] names a segment and holds the options to create or open it;
//! its methods return a [`Shared<T>`](crate::Shared) or [`Shared<[T]>`](crate::Shared) view.
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
//! `.offset(8)` on a typed segment) does not compile. A read-only `open`
//! hands out `&T`, so it takes only types without interior mutability;
//! atomics and `SeqLock`s are read without `unsafe` through the read-only
//! access's `monitor`, a view that gives no `&T` and only loads.
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
//! | monitor (atomics, `SeqLock`s) | — (`open` gives `&T`)                           | `monitor::<T>()`, `monitor::<[T]>()` → [`Monitor<T>`](crate::Monitor), `Monitor<[T]>` | — (`Volatile` has atomics)                                 | —                                       |
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
//!   and description block is refused ([`TooShort`](crate::ErrorKind::TooShort)) before any byte is
//!   touched, so a truncated segment never raises `SIGBUS` at open;
//! * a header that is not this library's is
//!   [`NotASegment`](crate::ErrorKind::NotASegment), a newer format
//!   [`UnsupportedVersion`](crate::ErrorKind::UnsupportedVersion), another platform
//!   [`Incompatible`](crate::ErrorKind::Incompatible), another type
//!   [`WrongType`](crate::ErrorKind::WrongType) (the message names the first
//!   difference between the two types, from the layout description the
//!   segment stores after its payload: "field `errors` is `u32` at offset 8;
//!   this program's `Stats` has `u64` at offset 8");
//! * a segment still being initialized is waited for, with back-off, up to
//!   [`open_timeout`](Segment::open_timeout) (5 s by default), then
//!   [`TimedOut`](crate::ErrorKind::TimedOut); one whose creator died or gave up
//!   while initializing it is [`CreatorDied`](crate::ErrorKind::CreatorDied), and
//!   [`open_or_create`](Segment::open_or_create) reclaims it;
//! * a segment of an older header format is
//!   [`UnsupportedVersion`](crate::ErrorKind::UnsupportedVersion) too (the table of
//!   formats is in the `header` module source);
//! * last, before any `&T` exists, the payload's plain data is checked for
//!   valid values ([`TypeLayout::check`](crate::layout::TypeLayout::check)):
//!   a `bool` that is not 0 or 1, a `char` that is no scalar value, a zero
//!   `NonZero*`, an enum discriminant no variant has, in any field, element
//!   or `FixedVec` slot, is [`InvalidValue`](crate::ErrorKind::InvalidValue), and
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
//! [`OutOfMemory`](crate::ErrorKind::OutOfMemory) error now, not a `SIGBUS` later;
//! [`reserve(false)`](Segment::reserve) skips it, with its trade-off),
//! initializes the value, and only then publishes it.
//!
//! **Atomic publication** (POSIX objects and files, on Linux): the segment
//! is made without a name (`O_TMPFILE` in `/dev/shm`, or in the file's
//! directory), initialized and marked "ready" there, and only then linked
//! under its name (`linkat`, which fails if the name exists: that is what
//! makes creation exclusive; by the descriptor itself, `AT_EMPTY_PATH`,
//! where the kernel allows it, Linux 6.10+ or `CAP_DAC_READ_SEARCH`, else by
//! its `/proc/self/fd` path). No opener ever sees a half-made segment under
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
//! `ESRCH`), or "abandoned", reports [`CreatorDied`](crate::ErrorKind::CreatorDied);
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
//! [`AlreadyExists`](crate::ErrorKind::AlreadyExists), whose message says whether
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
//! [`origin`](crate::Shared::origin) is [`Reclaimed`](Origin::Reclaimed).
//!
//! Processes that still map the old object keep it: it is unlinked, not
//! destroyed, and their views read and write it as before, out of reach of
//! new openers, until the last of them unmaps it. It is never initialized
//! again in place under their references.
//!
//! # Security
//!
//! By default, opening a segment or file owned by another user is refused
//! with [`ForeignOwner`](crate::ErrorKind::ForeignOwner): another user could have
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
//! [`Volatile`](crate::Volatile) view, not a `Shared`: it hands out no `&T`
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
//! shorter one is refused with [`TooShort`](crate::ErrorKind::TooShort) before any
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
//! [`TypedSegment`](crate::ErrorKind::TypedSegment).
//!
//! Where creation publishes atomically (POSIX objects and files on Linux,
//! see [Creation](self#creation)), that check is all there is to it: a
//! typed segment has no name until it is ready, with its magic, so a raw
//! open of the name finds nothing while it is being made
//! ([`NotFound`](crate::ErrorKind::NotFound)) and refuses it afterwards; no raw
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
//!   elements is [`TooShort`](crate::ErrorKind::TooShort), and
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
mod create;
mod file;
mod header;
pub mod inspect;
mod list;
mod object;
mod open;
mod options;
mod owner;
mod posix;
mod publish;
mod raw;
mod reader;
mod reclaim;
mod sysv;
mod target;
mod view;

pub use crate::shared::Origin;
pub use crate::volatile::{ReadOnly, ReadWrite};
#[doc(hidden)]
pub use create::{
    die_during_creation_at, fail_description_write, publish_in_place, stop_during_creation_at,
};
pub use list::{list, Listing};
pub use options::{Creates, Raw, Segment, DEFAULT_MODE, DEFAULT_OPEN_TIMEOUT};
pub use owner::{unlink, SegmentOwner};
#[doc(hidden)]
pub use publish::link_by_proc_fd;
pub use sysv::SysvKey;
