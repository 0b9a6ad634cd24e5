//! Typed shared memory between processes, without the classic crashes.
//!
//! * [`SharedSafe`] (trait and derive) proves at compile time that a type may
//!   live in shared memory: no pointers, references, heap handles, trait
//!   objects, process-local locks or drop glue, and a fixed `repr(C)` layout.
//! * Every `SharedSafe` type carries a [layout description](layout) and the
//!   [`Fingerprint`] derived from it, which segment headers store so that
//!   opening a segment with the wrong type is an error; typed opens check
//!   that the bytes are valid values before any `&T` exists.
//! * [`Shared<T>`] is a typed view of shared memory: anonymous (shared with
//!   forked children), or a named [`Segment`] (POSIX shared memory, a file,
//!   or System V) with a checked header.
//!
//! ```
//! use shm_runtime::SharedSafe;
//! use std::sync::atomic::AtomicU64;
//!
//! #[derive(SharedSafe)]
//! #[repr(C)]
//! struct Counters {
//!     hits: AtomicU64,
//!     misses: AtomicU64,
//! }
//! ```
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
pub mod layout;
mod liveness;
mod map;
mod platform;
mod pod_field;
pub mod process;
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
pub use pod_field::PodField;
pub use rel_ptr::RelPtr;
pub use segment::{Segment, SegmentOwner, SysvKey};
pub use shared::Shared;
pub use shared_safe::SharedSafe;
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
