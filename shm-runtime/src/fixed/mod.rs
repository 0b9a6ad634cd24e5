//! Fixed-capacity replacements for `String` and `Vec`: the text or the
//! elements are stored inline, so the value means the same thing in every
//! process that maps it.
//!
//! * [`FixedString<N>`](FixedString): UTF-8 text of at most `N` bytes.
//! * [`FixedVec<T, N>`](FixedVec): up to `N` elements of a
//!   [`SharedSafe`](crate::SharedSafe) type, atomics included.
//!
//! ```
//! use shm_runtime::{FixedString, FixedVec, SharedSafe};
//!
//! #[derive(SharedSafe, Clone, Copy)]
//! #[repr(C)]
//! struct Team {
//!     name: FixedString<16>,
//!     scores: FixedVec<u32, 8>,
//! }
//!
//! let mut team = Team { name: "owls".parse()?, scores: FixedVec::new() };
//! team.scores.push(3);
//! assert!(team.name.try_push_str(" and larks, the whole lot").is_err()); // 16 bytes at most
//! assert_eq!((team.name.as_str(), team.scores.as_slice()), ("owls", &[3][..]));
//! # Ok::<(), shm_runtime::CapacityError>(())
//! ```
//!
//! Both follow the naming of `arrayvec`: `push`, `push_str` and `insert`
//! panic when the value is full (like `Vec` when the allocator fails), and
//! `try_push`, `try_push_str` and `try_insert` return a [`CapacityError`]
//! instead, which gives the rejected value back.
//!
//! # Bytes written by another process
//!
//! A shared value may have been written by a buggy program, a program built
//! from another version of its type, or a C program in raw mode. Reading it
//! must still never be undefined behaviour, so both types treat their length
//! field as untrusted:
//!
//! * the length is clamped to `N` on every read, so no access ever leaves the
//!   value's own storage;
//! * a [`FixedString`] also validates its bytes on every read and shows the
//!   longest valid UTF-8 prefix. Every bit pattern is therefore a valid
//!   `FixedString` (it implements [`bytemuck::AnyBitPattern`]), at the cost of
//!   a UTF-8 check of at most `N` bytes per access;
//! * a [`FixedVec`]'s elements below its (clamped) length are checked like
//!   any other field of type `T` when a segment is opened, or when a lock
//!   holding the vector is taken over from a dead owner (its
//!   [layout](crate::layout) checks exactly those slots): a `2` in a `bool`
//!   element is refused there, before any reference exists. For a `T` that
//!   accepts every bit pattern, every bit pattern is a valid `FixedVec`.
//!
//! All-zero bytes are the empty value, so both implement
//! [`bytemuck::Zeroable`] and work with
//! [`Shared::anonymous(init::zeroed())`](crate::Shared::anonymous).
//!
//! Mutation takes `&mut self`: in shared memory it happens under a lock or
//! through an `unsafe` escape hatch whose contract excludes other writers.

mod capacity;
mod string;
mod vec;

pub use capacity::CapacityError;
pub(crate) use capacity::CheckCapacity;
pub use string::FixedString;
pub use vec::{FixedVec, IntoIter};
