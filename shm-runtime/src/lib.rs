//! Typed shared memory between processes, without the classic crashes.
//!
//! * [`SharedSafe`] (trait and derive) proves at compile time that a type may
//!   live in shared memory: no pointers, references, heap handles, trait
//!   objects, process-local locks or drop glue, and a fixed `repr(C)` layout.
//! * Every `SharedSafe` type carries a layout [`Fingerprint`], which segment
//!   headers store so that opening a segment with the wrong type is an error.
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
#![deny(
    unsafe_op_in_unsafe_fn,
    missing_docs,
    clippy::undocumented_unsafe_blocks
)]

extern crate self as shm_runtime;

mod error;
mod fingerprint;
pub mod fixed;
mod liveness;
mod map;
mod pod_field;
pub mod process;
mod rel_ptr;
pub mod segment;
mod shared;
mod shared_safe;
pub mod sync;
pub mod volatile;

pub use error::{Error, ErrorKind, Result};
pub use fingerprint::{Fingerprint, FingerprintBuilder};
pub use fixed::{CapacityError, FixedString, FixedVec};
pub use map::{page_size, HugePages, MapOptions};
pub use pod_field::PodField;
pub use rel_ptr::RelPtr;
pub use segment::{Segment, SegmentOwner, SysvKey};
pub use shared::Shared;
pub use shared_safe::SharedSafe;
pub use sync::{SeqLock, ShmEvent, ShmSemaphore};
#[cfg(target_os = "linux")]
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
