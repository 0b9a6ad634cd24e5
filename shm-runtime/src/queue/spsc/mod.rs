//! [`SpscQueue<T, N>`]: a bounded FIFO between one producer and one
//! consumer at a time, in any processes, for the lowest latency between
//! two processes: each side is a handle, taken with one compare-and-swap
//! and given back when dropped or when its process dies, and neither side
//! makes a locked instruction on its fast path.
//!
//! ```
//! use shm_runtime::{init, queue::SpscQueue, Shared};
//!
//! let q = Shared::<SpscQueue<u64, 1024>>::anonymous(init::zeroed())?;
//! let mut tx = q.producer()?;
//! let mut rx = q.consumer()?;
//! tx.push(7);
//! assert_eq!(tx.try_push(8), Ok(()));
//! assert_eq!(q.len(), 2);
//! assert_eq!(rx.pop()?, 7);
//! assert_eq!(rx.try_pop()?, Some(8));
//! assert_eq!(rx.try_pop()?, None);
//! # Ok::<(), shm_runtime::Error>(())
//! ```
//!
//! # When to use it instead of [`ShmQueue`](crate::queue::ShmQueue)
//!
//! [`ShmQueue`](crate::queue::ShmQueue) lets any number of producers and
//! consumers meet, each claiming a slot with a compare-and-swap that names
//! it. Between two processes that talk to each other (a request pipe, a
//! ping-pong, a telemetry feed) the claims are pure cost: an `SpscQueue`
//! decides who may push and who may pop once, when a handle is taken, and
//! then the producer writes an item and one stamp, and the consumer reads
//! them and writes its own position word, on a cache line nobody else
//! writes. A round trip between two processes costs about what one
//! cache-line exchange each way does (see shm-bench's Q1 rows).
//!
//! # The guarantees
//!
//! * **One producer, one consumer.** [`producer`](SpscQueue::producer) and
//!   [`consumer`](SpscQueue::consumer) each hand out one handle at a time
//!   (to any process); another call gets [`ErrorKind::Busy`] while a live
//!   process holds it. The handles take `&mut self`: one thread at a time.
//!   A handle is given back when dropped; one a process still held when it
//!   died (a SIGKILL, an abort, an `exit` without dropping it) is taken
//!   over by the next call, judged as [`ShmMutex`](crate::ShmMutex) judges
//!   a dead holder (gone, a zombie, or its pid reused by a process with
//!   another start time; a holder of another PID or time namespace than
//!   the queue's users is never judged, as for `ShmMutex`).
//! * **Exactly once, in order.** Every item pushed is popped at most once,
//!   in the order pushed, across any number of successive producers and
//!   consumers.
//! * **No locked instruction on the fast path.** A push writes its item
//!   and one stamp (and its own position word), without reading the slot
//!   first once it has pushed `N` items (it knows the stamp there: so the
//!   slot's cache line moves to it once, not twice); a pop reads them and stores
//!   its position word twice (taken, then given back). Blocking and
//!   wake-ups are [`ShmQueue`](crate::queue::ShmQueue)'s: sleepers
//!   register in a count the other side reads after each operation (no
//!   system call while nobody sleeps), with the same barriers (see its
//!   [guarantees](crate::queue#the-guarantees)).
//! * **The item in flight.** A producer killed before its publishing store
//!   published nothing: its half-written item is never visible, and its
//!   successor writes the same slot. A consumer killed after it took an
//!   item (it may have acted on it) lost that item: its successor starts
//!   after it and never delivers it again. So a process killed inside a
//!   push or a pop loses at most one item, and no item is seen twice or
//!   torn. A panic inside [`push_with`](Producer::push_with) publishes
//!   nothing; one inside [`pop_with`](Consumer::pop_with) consumes the item.
//! * **Nobody waits on a dead process's slot.** Unlike a claimed slot of a
//!   `ShmQueue`, no slot is ever held by a side beyond its own operation:
//!   a dead producer only leaves the queue without new items, a dead
//!   consumer only leaves it filling up, until a successor takes the side.
//! * **Validity, forks, truncation, plain data** as for
//!   [`ShmQueue`](crate::queue::ShmQueue): all-zero bytes are an empty
//!   queue held by nobody, a popped item of a type with invalid bit
//!   patterns is checked whole, forks are refused inside the closures, a
//!   blocked call ends on a truncated segment, and item types holding a
//!   lock or another queue do not build. A queue whose bytes were forged
//!   cannot cause undefined behaviour (the argument is in the source, in
//!   `ring.rs`): it may stay full or empty, or hand out valid items nobody
//!   pushed.
//! * **A handle belongs to the process that took it.** A child forked
//!   while its parent held a handle has a copy of it that is not a handle:
//!   using it panics, and dropping it gives nothing back (the parent still
//!   holds the side). The child takes its own handle once the parent gave
//!   the side back (or, typically, the parent takes one side and the child
//!   the other).
//!
//! What it cannot judge: as `ShmMutex`, a holder that `exec`'d keeps its
//! pid and start time, so its side stays held until that program ends.
//!
//! [`ErrorKind::Busy`]: crate::ErrorKind::Busy
//!
//! Two processes, one each side:
//!
//! ```
//! use shm_runtime::{init, process, queue::SpscQueue, Shared};
//!
//! let q = Shared::<SpscQueue<u64, 64>>::anonymous(init::zeroed())?;
//! let child = process::fork(|| {
//!     let mut rx = q.consumer().expect("the consumer side is free");
//!     let sum: u64 = (0..100).map(|_| rx.pop().expect("an item")).sum();
//!     assert_eq!(sum, 4950);
//! })?;
//! let mut tx = q.producer()?;
//! for i in 0..100 {
//!     tx.push(i);
//! }
//! assert!(child.wait()?.success());
//! # Ok::<(), shm_runtime::Error>(())
//! ```

#[cfg(not(all(test, loom)))]
mod handle;
mod memory;
#[cfg(not(all(test, loom)))]
mod ops;
mod ring;

#[cfg(all(test, loom))]
mod loom_tests;
#[cfg(all(test, not(loom)))]
mod tests;

#[cfg(not(all(test, loom)))]
pub use handle::{Consumer, Producer};
pub use memory::SpscQueue;
