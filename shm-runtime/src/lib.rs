//! Typed shared memory between processes, without the classic crashes.
//!
//! * [`SharedSafe`] (trait and derive) proves at compile time that a type may
//!   live in shared memory: no pointers, references, heap handles, trait
//!   objects, process-local locks or drop glue, and a fixed `repr(C)` layout.
//! * Every `SharedSafe` type carries a layout [`Fingerprint`], which segment
//!   headers store so that opening a segment with the wrong type is an error.
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
mod map;
pub mod process;
mod shared;
mod shared_safe;
pub mod sync;

pub use error::{Error, ErrorKind, Result};
pub use fingerprint::{Fingerprint, FingerprintBuilder};
pub use map::{page_size, HugePages, MapOptions};
pub use shared::Shared;
pub use shared_safe::SharedSafe;
pub use sync::{SeqLock, ShmEvent, ShmSemaphore};
#[cfg(target_os = "linux")]
pub use sync::{ShmCondvar, ShmMutex, ShmMutexGuard};

/// Derives [`SharedSafe`](trait@SharedSafe), refusing at compile time every
/// type that cannot live in shared memory. See the trait for the rules.
pub use shm_derive::SharedSafe;

#[doc(hidden)]
#[path = "private.rs"]
pub mod __private;
