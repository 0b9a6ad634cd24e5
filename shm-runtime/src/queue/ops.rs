//! The operations of a [`ShmQueue`]: its public pushes and pops, and the
//! two loops under them that claim a slot, wait, and hand the slot on.

use super::fence::light;
use super::item::{read_in_place, read_value, write_in_place, write_value};
use super::memory::{CheckItem, CheckN, ShmQueue};
use super::recovery::{Claimed, Stalls};
use super::ring::Claim;
use super::wait::{Sleep, Wait};
use crate::error::{Error, ErrorKind, Result};
use crate::layout::InvalidValue;
use crate::sync::futex::Deadline;
use crate::sync::owner;
use crate::SharedSafe;
use core::mem::MaybeUninit;
use std::time::Duration;

/// The outcome of [`ShmQueue::push_inner`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Pushed {
    /// Published.
    Yes,
    /// No room in time.
    Full,
    /// No room, and the queue's segment was truncated by another process:
    /// none will come.
    Truncated,
}

impl Pushed {
    /// For the calls that wait forever: only a truncation ends them without
    /// an item pushed (to `queue`, the queue type's name).
    #[track_caller]
    pub(super) fn or_panic<T, const N: usize>(self, queue: &str) {
        if self == Pushed::Truncated {
            panic!(
                "pushing to a {queue}<{}, {N}>: the queue is full and its segment was \
                 truncated by another process, so no room can come (use `push_timeout` or \
                 `push_with_timeout` to get the item back)",
                std::any::type_name::<T>()
            );
        }
        debug_assert_eq!(self, Pushed::Yes);
    }
}

impl<T: SharedSafe, const N: usize> ShmQueue<T, N> {
    /// An empty queue, by value: for a small one, or a `static`. A large
    /// queue is better created zeroed in place (see [`ShmQueue`]).
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// use shm_runtime::Shared;
    /// let q = Shared::anonymous(ShmQueue::<u32, 4>::new())?;
    /// assert!(q.is_empty());
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub const fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = CheckN::<N>::OK;
        #[allow(clippy::let_unit_value)]
        let () = CheckItem::<T>::OK;
        // SAFETY: all-zero bytes are an empty queue: zero counters and
        // words, and `MaybeUninit` items, valid with any bytes.
        unsafe { MaybeUninit::<Self>::zeroed().assume_init() }
    }

    /// The capacity: `N`.
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// assert_eq!(ShmQueue::<u8, 16>::new().capacity(), 16);
    /// ```
    pub const fn capacity(&self) -> usize {
        N
    }

    /// The number of items: exact when no thread is inside a push or a pop;
    /// otherwise approximate (items being written or read may or may not
    /// count). At most `N`. It reads the slots from each counter on to the
    /// first one not taken (the counters may lag): one, at most `N + 1`.
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// let q = ShmQueue::<u8, 4>::new();
    /// q.push(1);
    /// assert_eq!(q.len(), 1);
    /// ```
    pub fn len(&self) -> usize {
        self.approx_len()
    }

    /// Whether [`len`](Self::len) is 0.
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// assert!(ShmQueue::<u8, 4>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Pushes `value` if there is room, or gives it back: never blocks.
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// let q = ShmQueue::<u8, 1>::new();
    /// assert_eq!(q.try_push(1), Ok(()));
    /// assert_eq!(q.try_push(2), Err(2));
    /// ```
    pub fn try_push(&self, value: T) -> std::result::Result<(), T> {
        let mut value = Some(value);
        match self.push_inner(Wait::No, |slot| write_value(slot, &mut value)) {
            Pushed::Yes => Ok(()),
            Pushed::Full | Pushed::Truncated => Err(value.take().expect("not pushed")),
        }
    }

    /// Pushes `value`, waiting while the queue is full.
    ///
    /// # Panics
    ///
    /// If another process truncated the segment holding the queue while
    /// it was full (see the [module docs](crate::queue)): the queue then shares
    /// nothing any more, and waiting for room would wait forever. (Use
    /// [`push_timeout`](Self::push_timeout) to get the value back instead.)
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// let q = ShmQueue::<u8, 2>::new();
    /// q.push(1);
    /// assert_eq!(q.try_pop().unwrap(), Some(1));
    /// ```
    pub fn push(&self, value: T) {
        let mut value = Some(value);
        let pushed = self.push_inner(Wait::Forever, |slot| write_value(slot, &mut value));
        pushed.or_panic::<T, N>("ShmQueue");
    }

    /// Pushes `value`, waiting up to `timeout` (on `CLOCK_MONOTONIC`) while
    /// the queue is full; gives it back if there was no room in time, or at
    /// once if the queue is full and its segment was truncated by another
    /// process (nobody can make room any more).
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// use std::time::Duration;
    /// let q = ShmQueue::<u8, 1>::new();
    /// q.push(1);
    /// assert_eq!(q.push_timeout(2, Duration::from_millis(5)), Err(2));
    /// ```
    pub fn push_timeout(&self, value: T, timeout: Duration) -> std::result::Result<(), T> {
        let mut value = Some(value);
        let deadline = Deadline::after(timeout);
        match self.push_inner(Wait::Until(&deadline), |slot| write_value(slot, &mut value)) {
            Pushed::Yes => Ok(()),
            Pushed::Full | Pushed::Truncated => Err(value.take().expect("not pushed")),
        }
    }

    /// Writes an item in place in its slot, if there is room: `write` gets
    /// the slot, holding an earlier item's bytes (or zeros), and changes
    /// what it needs. No `T` passes through the stack, so a 1 MiB item
    /// costs one write of its bytes. `false` if the queue is full (`write`
    /// is not called).
    ///
    /// For types whose every bit pattern is valid (`bytemuck::AnyBitPattern`),
    /// since the slot's old bytes are a value of it. If `write` panics, the
    /// slot is skipped: consumers never see it. After `write` returns, the
    /// item's padding bytes are zeroed (an assignment in `write` may have
    /// copied them from this process's stack). While `write` runs, forks are
    /// refused ([`ErrorKind::ForkWhileLocked`]), and consumers that reach
    /// this slot wait for it (see the [module docs](crate::queue#the-guarantees)).
    ///
    /// ```
    /// use shm_runtime::{init, queue::ShmQueue};
    /// use shm_runtime::Shared;
    ///
    /// let q = Shared::<ShmQueue<[u8; 1 << 20], 2>>::anonymous(init::zeroed())?;
    /// assert!(q.try_push_with(|frame| frame.fill(7)));
    /// assert_eq!(q.pop_with(|frame| frame.iter().map(|&b| b as u64).sum::<u64>())?, 7 << 20);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn try_push_with(&self, write: impl FnOnce(&mut T)) -> bool
    where
        T: bytemuck::AnyBitPattern,
    {
        self.push_inner(Wait::No, |slot| write_in_place(slot, write)) == Pushed::Yes
    }

    /// [`try_push_with`](Self::try_push_with), waiting while the queue is
    /// full.
    ///
    /// # Panics
    ///
    /// As [`push`](Self::push), if the queue is full and its segment was
    /// truncated by another process (`write` is not called).
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// let q = ShmQueue::<[u64; 8], 2>::new();
    /// q.push_with(|item| item[0] = 42);
    /// assert_eq!(q.pop()?[0], 42);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn push_with(&self, write: impl FnOnce(&mut T))
    where
        T: bytemuck::AnyBitPattern,
    {
        let pushed = self.push_inner(Wait::Forever, |slot| write_in_place(slot, write));
        pushed.or_panic::<T, N>("ShmQueue");
    }

    /// [`try_push_with`](Self::try_push_with), waiting up to `timeout`
    /// while the queue is full: `false` if there was no room in time (or the
    /// queue is full and its segment was truncated: see
    /// [`push_timeout`](Self::push_timeout)).
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// use std::time::Duration;
    /// let q = ShmQueue::<[u64; 8], 1>::new();
    /// assert!(q.push_with_timeout(|item| item[0] = 1, Duration::from_millis(5)));
    /// assert!(!q.push_with_timeout(|item| item[0] = 2, Duration::from_millis(5)));
    /// ```
    pub fn push_with_timeout(&self, write: impl FnOnce(&mut T), timeout: Duration) -> bool
    where
        T: bytemuck::AnyBitPattern,
    {
        let deadline = Deadline::after(timeout);
        self.push_inner(Wait::Until(&deadline), |slot| write_in_place(slot, write)) == Pushed::Yes
    }

    /// Pops the oldest item, if any: never blocks. An error only for an
    /// invalid item (see the [module docs](crate::queue#the-guarantees)).
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// let q = ShmQueue::<u8, 4>::new();
    /// assert_eq!(q.try_pop()?, None);
    /// q.push(3);
    /// assert_eq!(q.try_pop()?, Some(3));
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn try_pop(&self) -> Result<Option<T>> {
        self.pop_inner(Wait::No, read_value)
    }

    /// Pops the oldest item, waiting while the queue is empty. An error
    /// only for an invalid item.
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// let q = ShmQueue::<u8, 4>::new();
    /// q.push(3);
    /// assert_eq!(q.pop()?, 3);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn pop(&self) -> Result<T> {
        self.pop_inner(Wait::Forever, read_value)
            .map(|item| item.expect("a blocking pop waits for an item"))
    }

    /// Pops the oldest item, waiting up to `timeout` (on `CLOCK_MONOTONIC`)
    /// while the queue is empty: [`ErrorKind::TimedOut`] if none came.
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// use shm_runtime::ErrorKind;
    /// use std::time::Duration;
    /// let q = ShmQueue::<u8, 4>::new();
    /// let err = q.pop_timeout(Duration::from_millis(5)).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::TimedOut);
    /// ```
    pub fn pop_timeout(&self, timeout: Duration) -> Result<T> {
        let deadline = Deadline::after(timeout);
        self.pop_inner(Wait::Until(&deadline), read_value)?
            .ok_or_else(|| timed_out::<T, N>("ShmQueue", timeout))
    }

    /// Reads the oldest item in place, if any, and removes it: `read` gets
    /// it by reference in its slot (no copy, however large `T` is), checked,
    /// and its result is returned. If `read` panics, the item is consumed.
    /// While `read` runs, forks are refused ([`ErrorKind::ForkWhileLocked`]),
    /// and producers that lap the ring to this slot wait for it.
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// let q = ShmQueue::<[u64; 4], 4>::new();
    /// q.push([1, 2, 3, 4]);
    /// assert_eq!(q.try_pop_with(|item| item.iter().sum::<u64>())?, Some(10));
    /// assert_eq!(q.try_pop_with(|item| item[0])?, None);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn try_pop_with<R>(&self, read: impl FnOnce(&T) -> R) -> Result<Option<R>> {
        self.pop_inner(Wait::No, read_in_place(read))
    }

    /// [`try_pop_with`](Self::try_pop_with), waiting while the queue is
    /// empty.
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// let q = ShmQueue::<[u64; 4], 4>::new();
    /// q.push([1, 2, 3, 4]);
    /// assert_eq!(q.pop_with(|item| item[3])?, 4);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn pop_with<R>(&self, read: impl FnOnce(&T) -> R) -> Result<R> {
        self.pop_inner(Wait::Forever, read_in_place(read))
            .map(|item| item.expect("a blocking pop waits for an item"))
    }

    /// [`try_pop_with`](Self::try_pop_with), waiting up to `timeout` while
    /// the queue is empty: [`ErrorKind::TimedOut`] if no item came.
    ///
    /// ```
    /// use shm_runtime::queue::ShmQueue;
    /// use std::time::Duration;
    /// let q = ShmQueue::<[u64; 4], 4>::new();
    /// assert!(q.pop_with_timeout(|item| item[0], Duration::from_millis(5)).is_err());
    /// ```
    pub fn pop_with_timeout<R>(&self, read: impl FnOnce(&T) -> R, timeout: Duration) -> Result<R> {
        let deadline = Deadline::after(timeout);
        self.pop_inner(Wait::Until(&deadline), read_in_place(read))?
            .ok_or_else(|| timed_out::<T, N>("ShmQueue", timeout))
    }

    /// Claims a slot, lets `write` fill it, publishes it; waits as `wait`
    /// says while the queue is full. Unless [`Pushed::Yes`], `write` was not
    /// called.
    #[inline]
    fn push_inner(&self, wait: Wait<'_>, write: impl FnOnce(*mut MaybeUninit<T>)) -> Pushed {
        #[allow(clippy::let_unit_value)]
        let () = CheckItem::<T>::OK;
        let me = owner::me();
        self.record_namespace(me.ns);
        let mut stall = Stalls::new(wait);
        let mut sleep = Sleep::new();
        let mut again = false;
        let (index, stamp) = loop {
            let claim = if again {
                self.claim_push_again(me.pid)
            } else {
                self.claim_push(me.pid)
            };
            again = true;
            match claim {
                Claim::Got { index, stamp } => break (index, stamp),
                Claim::Blocked => {}
                Claim::Stalled { index, word } => {
                    if self.stalled(index, word, &me, &mut stall) {
                        continue;
                    }
                }
            }
            if !matches!(wait, Wait::No)
                && crate::sigbus::is_truncated_at(self as *const Self as usize)
            {
                // Truncated by another process: nobody can pop any more, so
                // no room will come.
                return Pushed::Truncated;
            }
            let go_on = sleep.wait(wait, &self.waits.0.push, || self.push_ready());
            if !go_on {
                return Pushed::Full;
            }
        };
        self.record_claim(index, stamp, &me);
        let barrier = light(me.generation);
        // Skips the slot if `write` panics: its bytes are never read.
        let claimed = Claimed {
            queue: self,
            index,
            stamp,
            barrier,
        };
        self.slots[index].value.with_mut(write);
        core::mem::forget(claimed);
        self.publish(index, stamp, barrier);
        self.waits.0.notify_consumers(barrier);
        Pushed::Yes
    }

    /// Claims an item, lets `read` check and take it, releases its slot;
    /// waits as `wait` says while the queue is empty. `Ok(None)`: no item in
    /// time.
    #[inline]
    fn pop_inner<R>(
        &self,
        wait: Wait<'_>,
        read: impl FnOnce(*const T) -> core::result::Result<R, InvalidValue>,
    ) -> Result<Option<R>> {
        #[allow(clippy::let_unit_value)]
        let () = CheckItem::<T>::OK;
        let me = owner::me();
        self.record_namespace(me.ns);
        let mut stall = Stalls::new(wait);
        let mut sleep = Sleep::new();
        let (index, stamp) = loop {
            match self.claim_pop(me.pid) {
                Claim::Got { index, stamp } => break (index, stamp),
                Claim::Blocked => {}
                Claim::Stalled { index, word } => {
                    if self.stalled(index, word, &me, &mut stall) {
                        continue;
                    }
                }
            }
            if !matches!(wait, Wait::No) {
                // Truncated by another process: nobody can push any more.
                crate::sigbus::check_at(self, "popping from a ShmQueue")?;
            }
            let go_on = sleep.wait(wait, &self.waits.0.pop, || self.pop_ready());
            if !go_on {
                return Ok(None);
            }
        };
        self.record_claim(index, stamp, &me);
        // Releases the slot when done, also if `read` panics: the item is
        // consumed either way.
        let claimed = Claimed {
            queue: self,
            index,
            stamp,
            barrier: light(me.generation),
        };
        // `read` gets a claimed slot holding a published item: its bytes
        // were written whole by its producer before its publishing store,
        // which our claim acquired, and nobody else accesses them until we
        // release the slot (below, after `read` returned).
        let item = claimed.queue.slots[index]
            .value
            .with(|slot| read(slot.cast::<T>()));
        drop(claimed);
        item.map(Some)
            .map_err(|invalid| invalid_item::<T, N>("a ShmQueue", invalid))
    }
}

/// The error of a pop from `queue` (the type's name with its article) that
/// met an invalid item: consumed, the next pop takes the next one.
pub(super) fn invalid_item<T, const N: usize>(queue: &str, invalid: InvalidValue) -> Error {
    Error::new(
        ErrorKind::InvalidValue,
        format!(
            "popping from {queue}<{}, {N}>: the item is not a valid value ({invalid}): it was \
             written outside this library's protocol; it was removed, and the next pop takes \
             the next item",
            std::any::type_name::<T>()
        ),
    )
}

/// The error of a pop from a `queue` (the type's name) that timed out.
pub(super) fn timed_out<T, const N: usize>(queue: &str, timeout: Duration) -> Error {
    Error::new(
        ErrorKind::TimedOut,
        format!(
            "popping from a {queue}<{}, {N}>: no item came within {timeout:?}",
            std::any::type_name::<T>()
        ),
    )
}

impl<T: SharedSafe, const N: usize> Default for ShmQueue<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: SharedSafe, const N: usize> core::fmt::Debug for ShmQueue<T, N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("ShmQueue")
            .field("len", &self.len())
            .field("capacity", &N)
            .finish_non_exhaustive()
    }
}
