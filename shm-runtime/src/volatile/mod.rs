//! [`Volatile<T>`]: views of memory that a foreign program writes, accessed
//! only by volatile copies and atomics, never through a Rust reference.
//!
//! Raw mode ([`Segment::raw`](crate::Segment::raw) and its `open`)
//! maps segments and files made by C, C++ or Python programs. Those programs
//! write whenever they like, outside any protocol of this library. A `&T`
//! to such bytes would be a promise to the compiler that they do not change
//! while it lives, and the compiler acts on it: a release build hoists the
//! load out of a spin loop and never sees the peer's store, or reads a
//! `&str` whose bytes the peer then turns into invalid UTF-8. So, the way
//! rust-vmm's `vm-memory` and crosvm access guest memory, a [`Volatile`]
//! view hands out no `&T` or `&mut T` from safe code; instead it offers
//!
//! * volatile copies out and in of the whole value ([`read`](Volatile::read),
//!   [`write`](Volatile::write)), of one element of a slice
//!   ([`get`](Volatile::get), [`set`](Volatile::set)), of many elements
//!   ([`read_slice`](Volatile::read_slice),
//!   [`write_slice`](Volatile::write_slice), [`iter`](Volatile::iter),
//!   [`to_vec`](Volatile::to_vec)), of a field named with [`field!`]
//!   ([`read_field`](Volatile::read_field)) or of any value at a byte
//!   offset ([`read_at`](Volatile::read_at)), every one bounds- and
//!   alignment-checked;
//! * atomics where both sides use atomics: a C `_Atomic uint64_t` counter is
//!   an `&AtomicU64` ([`atomic_at`](Volatile::atomic_at),
//!   [`atomic_field`](Volatile::atomic_field),
//!   [`atomic`](Volatile::atomic)), without `unsafe`;
//! * [`as_ptr`](Volatile::as_ptr) for foreign functions, and an `unsafe`
//!   [`as_ref`](Volatile::as_ref) for callers who guarantee that nobody
//!   writes the bytes while the reference lives (an immutable data file).
//!
//! [`field!`]: crate::field!
//!
//! ```
//! use shm_runtime::segment::Segment;
//! use std::sync::atomic::{AtomicU64, Ordering};
//!
//! // What a C program shares: `struct { _Atomic uint64_t hits; double load; }`.
//! #[derive(shm_runtime::SharedSafe, Clone, Copy, bytemuck::Pod, bytemuck::Zeroable)]
//! #[repr(C)]
//! struct Stats {
//!     hits: u64,
//!     load: f64,
//! }
//!
//! let path = std::env::temp_dir().join(format!("shm-runtime-doc-volatile-{}", std::process::id()));
//! std::fs::write(&path, [0u8; 16])?; // as the C program would
//! let stats = Segment::file(&path).raw().open::<Stats>()?;
//! stats.atomic_field::<AtomicU64>(shm_runtime::field!(Stats, hits))?
//!     .fetch_add(1, Ordering::Relaxed);
//! stats.write_field(shm_runtime::field!(Stats, load), 0.5);
//! let copy = stats.read(); // a copy: the peer may change the bytes next
//! assert_eq!((copy.hits, copy.load), (1, 0.5));
//! std::fs::remove_file(&path)?;
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! # Torn values
//!
//! A volatile read of a `T` larger than a machine word (or of a slice, or of
//! a word the peer writes with several stores) is not atomic: it may copy
//! half of an old value and half of a new one. That is why every type read
//! from a raw view must accept any bit pattern (`T: bytemuck::AnyBitPattern`):
//! whatever bytes the copy ends up with are a valid `T`, never undefined
//! behaviour. Agreeing on *when* a value is complete (a sequence counter, a
//! flag written last with release order, a semaphore) is the protocol
//! between the programs, which this view does not know. Writes require
//! `T: bytemuck::NoUninit` as well: every byte copied into the shared memory
//! is a byte of the value, and no padding carries this process's stack to
//! the other program.
//!
//! A [`FixedString`](crate::FixedString) in raw memory is read by copying
//! it out, then calling `as_str` on the copy: the text then cannot change
//! under the `&str`.
//!
//! # Read-only views
//!
//! The `*_read_only` opens return a `Volatile<T, ReadOnly>`, mapped
//! `PROT_READ`. Its type has no method that writes (no `write`, `set`,
//! `as_mut_ptr`, and atomics only as a [`ReadOnlyAtomic`] that can `load`),
//! so a write is a compile error, never a `SIGSEGV`:
//!
//! ```compile_fail
//! use shm_runtime::segment::Segment;
//! let path = std::env::temp_dir().join("shm-runtime-doc-volatile-ro");
//! let value = Segment::file(&path).raw().read_only().open::<u32>().unwrap();
//! value.write(1); // error: no method `write` on `Volatile<u32, ReadOnly>`
//! ```
//!
//! # Memory outside the program
//!
//! The view treats the mapped bytes as memory that the Rust program does not
//! own, like device memory: the compiler emits every volatile access as
//! written and assumes nothing about the bytes between two of them. Two
//! accesses of this process that overlap in time (threads sharing a view)
//! may tear each other's values exactly as the peer's writes do, which
//! `AnyBitPattern` makes harmless. Atomics are coherent with the peer's
//! atomics only: a C program that writes the counter with a plain store
//! instead of an atomic one races with them.
//!
//! The object may still be truncated by another process after it was
//! mapped; touching the lost pages raises `SIGBUS`, as for typed segments
//! (see the [segment hazards](crate::segment#hazards-that-remain)).

mod access;
mod atomic;
mod field;
mod slice;
mod view;

pub use access::{Access, AccessError, ReadOnly, ReadWrite};
pub use atomic::{AtomicInteger, ReadOnlyAtomic, ReadOnlyLoad, READ_ONLY_ATOMIC_LIMIT};
#[doc(hidden)]
pub use field::__project;
pub(crate) use field::field_ptr;
pub use field::Field;
pub use slice::Iter;
pub use view::Volatile;
