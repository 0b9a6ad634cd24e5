//! Typed shared memory between processes, without the classic crashes.
//!
//! Shared memory is the fastest way for processes on one machine to see the
//! same data. This crate makes it sound and hard to misuse: what may live in
//! shared memory is proven at compile time, segments carry a checked header,
//! bytes that come from outside are validated before a `&T` exists, locks
//! survive a crashed owner, and a truncated segment is an error, not a
//! `SIGBUS`.
//!
//! The guide below starts where a program starts; each step links to the
//! reference.
//!
//! # 1. A type that may live in shared memory
//!
//! [`#[derive(SharedSafe)]`](SharedSafe) accepts `#[repr(C)]` structs of
//! plain data, atomics and this crate's shared types, and refuses, at the
//! offending field, whatever means nothing in another process: references,
//! pointers, `String`, `Vec`, `Box`, `Cell`, `std::sync::Mutex`, trait
//! objects, `Drop` types. Add `bytemuck::Zeroable` where all-zero bytes are
//! a valid value, to create it zero-filled ([`ZeroInit`]).
//!
//! ```
//! use shm_runtime::{FixedString, SharedSafe};
//! use std::sync::atomic::AtomicU64;
//!
//! #[derive(SharedSafe, bytemuck::Zeroable)]
//! #[repr(C)]
//! struct Stats {
//!     requests: AtomicU64,
//!     errors: AtomicU64,
//!     last_client: FixedString<32>, // not String
//! }
//! ```
//!
//! # 2. Share it with forked children
//!
//! An anonymous [`Shared<T>`] is inherited by the children that
//! [`process::fork`] starts (a pre-fork server, a worker pool):
//!
//! ```
//! use shm_runtime::{init, process, Shared, SharedSafe};
//! use std::sync::atomic::{AtomicU64, Ordering};
//! use std::time::Duration;
//!
//! #[derive(SharedSafe, bytemuck::Zeroable)]
//! #[repr(C)]
//! struct Stats {
//!     requests: AtomicU64,
//! }
//!
//! let stats = Shared::<Stats>::anonymous(init::zeroed())?;
//! let worker = process::fork(|| {
//!     stats.requests.fetch_add(1, Ordering::Relaxed);
//! })?;
//! worker.join(Duration::from_secs(10))?;
//! assert_eq!(stats.requests.load(Ordering::Relaxed), 1);
//! # Ok::<(), shm_runtime::Error>(())
//! ```
//!
//! # 3. Share it between unrelated programs
//!
//! A [`Segment`] names shared memory: a POSIX object ([`Segment::posix`]),
//! a file ([`Segment::file`]) or a System V segment ([`Segment::sysv`]).
//! Its header records the type, so opening it as another type is
//! [`WrongType`](ErrorKind::WrongType), and a half-made one is never seen.
//!
//! ```
//! use shm_runtime::segment::{Origin, Segment};
//! use std::sync::atomic::{AtomicU64, Ordering};
//!
//! # let name = format!("/shm-runtime-doc-guide-{}", std::process::id());
//! // In the publisher:
//! let segment = Segment::posix(&name).remove_on_drop(true);
//! let counter = segment.open_or_create(AtomicU64::new(0))?;
//! assert_eq!(counter.origin(), Origin::Created);
//! counter.fetch_add(1, Ordering::Relaxed);
//!
//! // In any other program (here: the same one):
//! let seen = Segment::posix(&name).open::<AtomicU64>()?;
//! assert_eq!(seen.load(Ordering::Relaxed), 1);
//! # Ok::<(), shm_runtime::Error>(())
//! ```
//!
//! Options of the same builder cover what comes next: wait for a segment
//! that another program has yet to create
//! ([`wait_for_creation`](Segment::wait_for_creation)), take over the
//! segment of a crashed predecessor on restart
//! ([`replace_stale`](Segment::replace_stale)), monitor without write
//! access ([`read_only`](Segment::read_only)`.open()` for plain data,
//! `read_only().monitor()` for atomics and `SeqLock`s), mapping options
//! ([`MapOptions`]: huge pages, prefaulting).
//!
//! # 4. Guard what changes together
//!
//! * [`ShmMutex<T>`] — a process-shared mutex: a holder that dies is
//!   detected, and the next locker is told and checks the value it takes
//!   over ([`sync`] explains owner death and repair).
//! * [`SeqLock<T>`] — one writer, many readers that never block it
//!   (telemetry a monitor reads).
//! * [`ShmEvent`], [`ShmSemaphore`], [`ShmCondvar`] — waiting across
//!   processes, with timeouts.
//! * [`FixedVec`], [`FixedString`], [`RelPtr`] — fixed-capacity containers
//!   and offsets that mean the same in every process.
//!
//! ```
//! use shm_runtime::{init, FixedVec, Shared, ShmMutex};
//!
//! let jobs = Shared::<ShmMutex<FixedVec<u32, 64>>>::anonymous(init::zeroed())?;
//! let mut queue = jobs.lock_or_repair(|_| {}, FixedVec::new);
//! queue.try_push(7).expect("room for one job");
//! assert_eq!(queue.len(), 1);
//! # Ok::<(), shm_runtime::Error>(())
//! ```
//!
//! # 5. Talk to C and Python peers
//!
//! A segment made by a program without this library has no header: map it
//! raw ([`Segment::raw`] and its options) and reach its bytes through
//! [`Volatile`] copies and atomics, which stay sound whatever the other
//! side writes. The [`segment`] module documents the header's format for
//! peers that want to read typed segments.
//!
//! # 6. Administer segments
//!
//! [`segment::list`] enumerates the segments of this library (and others)
//! on the machine, and [`segment::inspect::SegmentInfo`] says what each holds, who
//! made it and whether its creator is alive. The `shm-tool` program
//! (`ipcs`/`ipcrm` for these segments) is built on them: `shm-tool list`,
//! `inspect NAME`, `rm NAME...`, `clean --older-than 1h`.
//!
//! # Whom the guarantee covers
//!
//! Safe code of every process that uses this library, or follows its
//! protocol (atomics and this crate's locks for whatever is written after
//! creation), cannot cause undefined behaviour through shared memory. Bytes
//! that come from outside are checked where they enter: typed opens check
//! the header and the payload's plain data
//! ([`TypeLayout::check`](layout::TypeLayout::check)); a lock taken over
//! from a dead owner checks its value ([`sync::TornValue`]); a `SeqLock`
//! checks each copy; memory that a foreign program writes at any time is
//! only reached through [`Volatile`] copies and atomics.
//!
//! Outside the guarantee, as std says of `/proc/self/mem`: a process that
//! writes a typed segment's bytes without the protocol after it was opened
//! (`write(2)` on its file; a C program writing plain fields; a raw
//! [`Volatile`] view made of an object before it got its header), and bytes
//! forged into the value of a lock whose holder is alive. The README's
//! soundness section lists each case.
#![deny(
    unsafe_op_in_unsafe_fn,
    missing_docs,
    clippy::undocumented_unsafe_blocks
)]

extern crate self as shm_runtime;

mod error;
mod fingerprint;
pub mod fixed;
pub mod init;
pub mod layout;
mod liveness;
mod map;
pub mod monitor;
mod platform;
mod pod_field;
pub mod process;
pub mod queue;
mod rel_ptr;
pub mod segment;
mod shared;
mod shared_safe;
pub mod sigbus;
pub mod sync;
pub mod volatile;

pub use error::{Error, ErrorKind, Result};
pub use fingerprint::Fingerprint;
pub use fixed::{CapacityError, FixedString, FixedVec};
pub use map::{page_size, HugePages, MapOptions};
pub use monitor::Monitor;
pub use pod_field::PodField;
pub use queue::ShmQueue;
pub use rel_ptr::RelPtr;
pub use segment::{Segment, SegmentOwner, SysvKey};
pub use shared::Shared;
pub use shared_safe::{SharedSafe, ZeroInit};
pub use sync::{SeqLock, ShmEvent, ShmSemaphore};
pub use sync::{ShmCondvar, ShmMutex, ShmMutexGuard};
pub use volatile::Volatile;

/// Derives [`SharedSafe`](trait@SharedSafe), refusing at compile time every
/// type that cannot live in shared memory. See the trait for the rules.
pub use shm_derive::SharedSafe;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;

#[doc = include_str!("../../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
