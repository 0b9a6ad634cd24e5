//! Synchronization between processes that survives a crashed process.
//!
//! Every type here may live in shared memory (it is [`SharedSafe`]) and be a
//! field of a `#[derive(SharedSafe)]` struct, and all-zero bytes are a valid
//! initial value of each (they are `bytemuck::Zeroable`), so they work in
//! memory from [`Shared::anonymous(init::zeroed())`] as well as from their `new`.
//!
//! | type | for | when a process dies |
//! |---|---|---|
//! | [`ShmMutex<T>`] | exclusive access to a `T` | the next locker is told ([`OwnerDied`]) and repairs |
//! | [`ShmCondvar`] | waiting for a condition under an `ShmMutex` | dead waiters cost nothing |
//! | [`ShmEvent`] | "it happened": a flag to wait for | dead waiters cost nothing |
//! | [`ShmSemaphore`] | counting permits | a dead holder's permit is lost |
//! | [`SeqLock<T>`] | one writer at a time, many wait-free readers of a `Copy` value | see its documentation |
//!
//! Every `*_timeout` method of the locks and the event returns an error of
//! kind [`TimedOut`](crate::ErrorKind::TimedOut) when the time runs out:
//! none of them hangs. The condition variable's timed waits are std's: the
//! timeout bounds the wait for a notification (then `timed_out()` is true),
//! but the mutex must be held again before they return, and re-taking it
//! waits like [`ShmMutex::lock`] for as long as its holder's process lives
//! (a holder whose process died is detected, and reported as [`OwnerDied`]).
//!
//! Every type here exists on Linux, FreeBSD and macOS, waits on the
//! system's process-shared address wait (Linux `futex`, FreeBSD `_umtx_op`,
//! macOS `os_sync_wait_on_address` or `__ulock_wait`) and holds no address.
//! A mutex judges its holders by process id and process start time (Linux
//! `/proc`, FreeBSD `sysctl`, macOS `proc_pidinfo`). Only Linux is tested:
//! FreeBSD and macOS are compiled for, not run (see the README's platform
//! table). On other Unixes the waits fall back to sleeping in short steps.
//!
//! ```
//! use shm_runtime::{init, process, Shared, SharedSafe, ShmCondvar, ShmMutex};
//! use std::time::Duration;
//!
//! #[derive(SharedSafe, bytemuck::Zeroable)]
//! #[repr(C)]
//! struct Queue {
//!     jobs: ShmMutex<[u32; 8]>,
//!     changed: ShmCondvar,
//! }
//!
//! let queue = Shared::<Queue>::anonymous(init::zeroed())?;
//! let child = process::fork(|| {
//!     queue.jobs.lock().unwrap()[0] = 42;
//!     queue.changed.notify_all();
//! })?;
//! let jobs = queue.jobs.lock().unwrap();
//! let (jobs, timeout) = queue
//!     .changed
//!     .wait_timeout_while(jobs, Duration::from_secs(10), |jobs| jobs[0] == 0)
//!     .unwrap();
//! assert!(!timeout.timed_out());
//! assert_eq!(jobs[0], 42);
//! # drop(jobs);
//! child.join(Duration::from_secs(10))?;
//! # Ok::<(), shm_runtime::Error>(())
//! ```
//!
//! [`SharedSafe`]: crate::SharedSafe
//! [`Shared::anonymous(init::zeroed())`]: crate::Shared::anonymous

mod condvar;
mod event;
mod poison;
pub(crate) use crate::platform::wait as futex;
// Process identity lives on the ground floor (`crate::liveness`); this
// name stays for the callers outside `sync` that still say `sync::owner`.
pub(crate) use crate::liveness as owner;
pub(crate) mod mutex;
mod repair;
mod robust;
mod semaphore;
mod seqlock;

pub use condvar::{ShmCondvar, WaitTimeoutResult};
pub use event::ShmEvent;
pub use mutex::{ShmMutex, ShmMutexGuard};
pub use poison::{LockResult, LockedValue, OwnerDied, TornValue, TryLockError, TryLockResult};
pub use semaphore::ShmSemaphore;
pub use seqlock::SeqLock;
