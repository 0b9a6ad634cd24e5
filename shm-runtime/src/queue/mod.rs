//! [`ShmQueue<T, N>`]: a bounded FIFO of plain `SharedSafe` values between
//! any number of producers and consumers in any processes, without a lock
//! on its fast path, that a process killed at any instant cannot block for
//! long.
//!
//! ```
//! use shm_runtime::{init, queue::ShmQueue};
//! use shm_runtime::Shared;
//!
//! // Zeroed memory is an empty queue: nothing is built on the stack.
//! let jobs = Shared::<ShmQueue<u64, 1024>>::anonymous(init::zeroed())?;
//! jobs.push(7);
//! assert_eq!(jobs.try_push(8), Ok(()));
//! assert_eq!(jobs.len(), 2);
//! assert_eq!(jobs.pop()?, 7);
//! assert_eq!(jobs.try_pop()?, Some(8));
//! assert_eq!(jobs.try_pop()?, None);
//! # Ok::<(), shm_runtime::Error>(())
//! ```
//!
//! Between exactly one producer and one consumer at a time, an
//! [`SpscQueue`] (module [`spsc`]) does without the claims: each side is a
//! handle taken once, and a push or a pop makes no locked instruction.
//!
//! # The guarantees
//!
//! * **Exactly once, FIFO per producer.** Every item pushed is popped at
//!   most once; items are claimed by consumers in the order their producers
//!   claimed their slots, so the items of one producer reach any one
//!   consumer in the order they were pushed. (Between consumers, "first" is
//!   the order of claims: two consumers may finish in either order.)
//! * **No lock on the fast path.** A push is a compare-and-swap on its
//!   slot, a plain store moving the producers' counter, one store of the
//!   slot's owner record, the item's bytes, and one store publishing it; a
//!   pop likewise. Neither side makes a
//!   system call while nobody sleeps: sleepers register in a count that the
//!   other side reads after each operation, and only then wakes them
//!   (`futex` on Linux). On Linux 4.16 and later the publishing store and
//!   that read need no fence between them (a locked instruction per
//!   operation fewer): a sleeper, after registering, makes every running
//!   thread of every process registered for such barriers execute one
//!   (`membarrier(MEMBARRIER_CMD_GLOBAL_EXPEDITED)`, about 12 µs, paid
//!   only by a call that is about to sleep; the registered processes are
//!   those that used a queue, and any other program that registered, such
//!   as liburcu's users, whose barriers interrupt ours too). A process
//!   registers at its first push or pop, a new system call for a seccomp
//!   allow-list to permit; one that the system refuses (an old kernel, a
//!   sandbox) fences on every operation instead, and a sleeper whose
//!   barrier is refused while other processes may have registered sleeps
//!   in slices of 1 ms, so that a wake-up it may miss costs at most that.
//! * **Not lock-free in the strict sense.** Like every queue of Vyukov's
//!   design, a claimed slot is a small lock on its position: consumers
//!   reach the items in order, so a producer that claimed a slot and is
//!   *alive but slow* (descheduled, stopped with `SIGSTOP` or a debugger,
//!   or running a long [`push_with`](ShmQueue::push_with) closure) makes
//!   every consumer that reaches its position wait until it publishes,
//!   even while later items are ready. Likewise a consumer alive inside a
//!   long [`pop_with`](ShmQueue::pop_with) closure holds its slot, and
//!   producers that lap the ring to it wait. Only a *dead* claimer is
//!   detected and skipped (below); keep the closures short.
//! * **Crash robustness.** Each claim names the claiming process in the
//!   slot's word, in the same compare-and-swap (there is no instant at which
//!   a slot is claimed by nobody known), and the claimer's start time right
//!   after. A producer or consumer that meets a slot claimed by another
//!   process for longer than [`STALL_CHECK`] judges that process as
//!   [`ShmMutex`](crate::ShmMutex) judges a lock holder (gone, a zombie, or
//!   its pid reused by a process with another start time) and, if it is
//!   dead, releases the slot. A sleeping waiter rechecks at least every
//!   [`MAX_SLICE`]. So a process SIGKILLed at any instruction blocks the
//!   others for a bounded time (about [`MAX_SLICE`] plus [`STALL_CHECK`]).
//!   A process killed *asleep* in a blocked push or pop leaves its
//!   registration in the sleepers' count: the other side then makes a
//!   wake-up system call per operation, until no live sleeper has
//!   registered for 200 ms (each renews its registration every slice): the
//!   next wake-up then forgets the registrations. A process stopped
//!   (`SIGSTOP`) for longer than that in a blocked call is forgotten too,
//!   and once it runs again may sleep up to one slice past an item meant
//!   for it. Not judged while processes of several time namespaces use the
//!   queue (their clocks differ): there a dead sleeper costs the others
//!   that system call for good.
//! * **The item in flight.** A killed producer's item is *lost* unless its
//!   publishing store ran: a half-written item is never visible (its slot
//!   is skipped). A killed consumer's item is *lost* too once the consumer
//!   claimed it (it may have acted on it, so it is never given out again).
//!   So every process killed inside a push or a pop loses at most one item
//!   per thread that was inside one, and no item is seen twice or torn.
//!   A panic inside [`push_with`](ShmQueue::push_with) skips the slot the
//!   same way; a panic inside [`pop_with`](ShmQueue::pop_with) consumes the
//!   item.
//! * **Validity.** All-zero bytes are an empty queue, and opening a segment
//!   never reads the slots (they are written under this protocol, like a
//!   lock's value). A popped item of a type with invalid bit patterns
//!   (`bool`, enums, `NonZero*`) is checked whole before it is handed out
//!   ([`pop`](ShmQueue::pop) checks the copy it returns); an invalid one
//!   (only bytes written outside this protocol make one) is consumed and
//!   reported as [`ErrorKind::InvalidValue`]; the queue goes on with the
//!   next item. For every other type the check compiles to nothing and the
//!   pops never fail.
//! * **Plain data only.** The item type may not hold a field written under
//!   a protocol of its own ([`ShmMutex`](crate::ShmMutex),
//!   [`SeqLock`](crate::SeqLock), another `ShmQueue`): the check of a popped
//!   item could not look into it, so the build stops (a compile-time
//!   assertion). Integers, floats, `bool`, `char`, enums, atomics, arrays,
//!   derived structs of them, [`FixedString`](crate::FixedString) and
//!   [`FixedVec`](crate::FixedVec) of plain data are all fine.
//! * **No fork inside the closures.** While a
//!   [`push_with`](ShmQueue::push_with) or [`pop_with`](ShmQueue::pop_with)
//!   closure holds its reference into the slot, [`process::fork`](crate::process::fork)
//!   refuses with [`ErrorKind::ForkWhileLocked`] (as inside an
//!   `ShmMutexGuard`): a child would keep the reference after this process
//!   published the item or gave the slot back.
//!
//! What it cannot judge: a claimer in another PID or time namespace than the
//! judge (the queue records the namespaces of its users, as `ShmMutex`
//! does: then nobody's slot is released), and a claimer whose pid was
//! reused before it recorded its start time (the few instructions after
//! its claim): such a slot stays claimed until that process ends. A queue
//! whose bytes were forged cannot cause undefined behaviour (indices are
//! taken modulo `N`, items are checked), but may return valid items nobody
//! pushed, or make a call skip a long run of positions. A segment truncated
//! by another process reads as private zeros (see [`sigbus`](crate::sigbus)):
//! an empty queue that shares nothing any more. A blocked pop then returns
//! [`ErrorKind::Truncated`] instead of waiting for nobody; pushes land in
//! this process only, and once it is full a blocked push gives its value
//! back at once ([`push_timeout`](ShmQueue::push_timeout)) or panics
//! ([`push`](ShmQueue::push), which has no way to return it). Where zeros
//! are no valid value of some part of the item type (a `NonZero*` leaf, an
//! enum without a variant 0), a truncation under a live process aborts it
//! instead (zeros would appear under a reference [`pop_with`](ShmQueue::pop_with)
//! lends).
//!
//! [`ErrorKind::InvalidValue`]: crate::ErrorKind::InvalidValue
//! [`ErrorKind::ForkWhileLocked`]: crate::ErrorKind::ForkWhileLocked
//! [`ErrorKind::Truncated`]: crate::ErrorKind::Truncated
//!
//! A queue of items holding a lock does not build:
//!
//! ```compile_fail
//! use shm_runtime::queue::ShmQueue;
//! use shm_runtime::ShmMutex;
//! // A forged slot could hold a `bool` of value 2 inside the mutex, which
//! // the check of a popped item would not see: refused at compile time.
//! let q = ShmQueue::<ShmMutex<bool>, 4>::new();
//! q.push(ShmMutex::new(true));
//! ```
//!
//! (The same with plain items builds:)
//!
//! ```
//! use shm_runtime::queue::ShmQueue;
//! use shm_runtime::{FixedString, FixedVec, SharedSafe};
//!
//! #[derive(SharedSafe, Clone, Copy)]
//! #[repr(C)]
//! struct Job {
//!     name: FixedString<8>,
//!     flags: FixedVec<bool, 4>,
//! }
//!
//! let q = ShmQueue::<Job, 4>::new();
//! let name = FixedString::try_from("resize").unwrap();
//! q.push(Job { name, flags: FixedVec::new() });
//! assert_eq!(q.pop()?.name.as_str(), "resize");
//! # Ok::<(), shm_runtime::Error>(())
//! ```

mod atomic;
mod fence;
#[cfg(not(all(test, loom)))]
mod item;
mod memory;
#[cfg(not(all(test, loom)))]
mod ops;
#[cfg(not(all(test, loom)))]
mod recovery;
mod ring;
pub mod spsc;
#[cfg(not(all(test, loom)))]
mod wait;

#[cfg(all(test, loom))]
mod loom_tests;

pub use memory::ShmQueue;
#[cfg(not(all(test, loom)))]
pub use recovery::STALL_CHECK;
pub use spsc::SpscQueue;
#[cfg(not(all(test, loom)))]
pub use spsc::{Consumer, Producer};
#[cfg(not(all(test, loom)))]
pub use wait::MAX_SLICE;
#[cfg(not(all(test, loom)))]
pub(crate) use wait::STALE;

#[cfg(all(test, not(loom)))]
mod tests;
