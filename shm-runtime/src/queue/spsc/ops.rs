//! The pushes of a [`Producer`] and the pops of a [`Consumer`], and the two
//! loops under them that wait for room or for an item.

use super::handle::{Consumer, Producer};
use super::ring::Room;
use super::SpscQueue;
use crate::error::Result;
use crate::layout::InvalidValue;
use crate::queue::fence::Barrier;
use crate::queue::item::{read_in_place, read_value, write_in_place, write_value};
use crate::queue::memory::CheckItem;
use crate::queue::ops::{invalid_item, timed_out, Pushed};
use crate::queue::wait::{Sleep, Wait};
use crate::sync::futex::Deadline;
use crate::SharedSafe;
use core::mem::MaybeUninit;
use std::sync::atomic::Ordering;
use std::time::Duration;

/// The queue type's name in messages.
const NAME: &str = "SpscQueue";

impl<T: SharedSafe, const N: usize> Producer<'_, T, N> {
    /// Pushes `value` if there is room, or gives it back: never blocks.
    ///
    /// # Panics
    ///
    /// In a process forked after this handle was taken (the side belongs
    /// to the parent): as for every method of the handle.
    ///
    /// ```
    /// use shm_runtime::queue::SpscQueue;
    /// let q = SpscQueue::<u8, 1>::new();
    /// let mut tx = q.producer()?;
    /// assert_eq!(tx.try_push(1), Ok(()));
    /// assert_eq!(tx.try_push(2), Err(2));
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn try_push(&mut self, value: T) -> std::result::Result<(), T> {
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
    /// If another process truncated the segment holding the queue while it
    /// was full (nobody can make room any more: use
    /// [`push_timeout`](Self::push_timeout) to get the value back), and as
    /// [`try_push`](Self::try_push).
    ///
    /// ```
    /// use shm_runtime::queue::SpscQueue;
    /// let q = SpscQueue::<u8, 2>::new();
    /// q.producer()?.push(1);
    /// assert_eq!(q.consumer()?.pop()?, 1);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn push(&mut self, value: T) {
        let mut value = Some(value);
        let pushed = self.push_inner(Wait::Forever, |slot| write_value(slot, &mut value));
        pushed.or_panic::<T, N>(NAME);
    }

    /// Pushes `value`, waiting up to `timeout` (on `CLOCK_MONOTONIC`) while
    /// the queue is full; gives it back if there was no room in time, or at
    /// once if the queue is full and its segment was truncated by another
    /// process.
    ///
    /// ```
    /// use shm_runtime::queue::SpscQueue;
    /// use std::time::Duration;
    /// let q = SpscQueue::<u8, 1>::new();
    /// let mut tx = q.producer()?;
    /// tx.push(1);
    /// assert_eq!(tx.push_timeout(2, Duration::from_millis(5)), Err(2));
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn push_timeout(&mut self, value: T, timeout: Duration) -> std::result::Result<(), T> {
        let mut value = Some(value);
        let deadline = Deadline::after(timeout);
        match self.push_inner(Wait::Until(&deadline), |slot| write_value(slot, &mut value)) {
            Pushed::Yes => Ok(()),
            Pushed::Full | Pushed::Truncated => Err(value.take().expect("not pushed")),
        }
    }

    /// Writes an item in place in its slot, if there is room: `write` gets
    /// the slot, holding an earlier item's bytes (or zeros), and changes
    /// what it needs; no `T` passes through the stack. `false` if the queue
    /// is full (`write` is not called). If `write` panics, nothing is
    /// published (the next push writes the same slot). The item's padding
    /// is zeroed after `write` returns; forks are refused while it runs.
    ///
    /// ```
    /// use shm_runtime::{init, queue::SpscQueue, Shared};
    /// let q = Shared::<SpscQueue<[u8; 1 << 20], 2>>::anonymous(init::zeroed())?;
    /// assert!(q.producer()?.try_push_with(|frame| frame.fill(7)));
    /// let sum = q.consumer()?.pop_with(|frame| frame.iter().map(|&b| b as u64).sum::<u64>())?;
    /// assert_eq!(sum, 7 << 20);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn try_push_with(&mut self, write: impl FnOnce(&mut T)) -> bool
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
    /// As [`push`](Self::push).
    ///
    /// ```
    /// use shm_runtime::queue::SpscQueue;
    /// let q = SpscQueue::<[u64; 8], 2>::new();
    /// q.producer()?.push_with(|item| item[0] = 42);
    /// assert_eq!(q.consumer()?.pop()?[0], 42);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn push_with(&mut self, write: impl FnOnce(&mut T))
    where
        T: bytemuck::AnyBitPattern,
    {
        let pushed = self.push_inner(Wait::Forever, |slot| write_in_place(slot, write));
        pushed.or_panic::<T, N>(NAME);
    }

    /// [`try_push_with`](Self::try_push_with), waiting up to `timeout`
    /// while the queue is full: `false` if there was no room in time.
    ///
    /// ```
    /// use shm_runtime::queue::SpscQueue;
    /// use std::time::Duration;
    /// let q = SpscQueue::<[u64; 8], 1>::new();
    /// let mut tx = q.producer()?;
    /// assert!(tx.push_with_timeout(|item| item[0] = 1, Duration::from_millis(5)));
    /// assert!(!tx.push_with_timeout(|item| item[0] = 2, Duration::from_millis(5)));
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn push_with_timeout(&mut self, write: impl FnOnce(&mut T), timeout: Duration) -> bool
    where
        T: bytemuck::AnyBitPattern,
    {
        let deadline = Deadline::after(timeout);
        self.push_inner(Wait::Until(&deadline), |slot| write_in_place(slot, write)) == Pushed::Yes
    }

    /// Waits as `wait` says for room, lets `write` fill the slot, publishes
    /// it. Unless [`Pushed::Yes`], `write` was not called.
    #[inline]
    fn push_inner(&mut self, wait: Wait<'_>, write: impl FnOnce(*mut MaybeUninit<T>)) -> Pushed {
        #[allow(clippy::let_unit_value)]
        let () = CheckItem::<T>::OK;
        self.held.check("producer");
        let queue = self.queue;
        let mut sleep = Sleep::new();
        loop {
            match queue.room(self.pos, &mut self.limit, self.known) {
                Room::Free => break,
                Room::Published => {
                    // Published by a predecessor that died before moving
                    // `head` (`room` found `pos` below the limit, so `+ 1`
                    // does not overflow).
                    self.pos += 1;
                    continue;
                }
                Room::Full => {}
            }
            if !matches!(wait, Wait::No)
                && crate::sigbus::is_truncated_at(queue as *const SpscQueue<T, N> as usize)
            {
                return Pushed::Truncated;
            }
            let pos = self.pos;
            let go_on = sleep.wait(wait, &queue.waits.0.push, || queue.room_look(pos));
            if !go_on {
                return Pushed::Full;
            }
        }
        let pos = self.pos;
        // The slot is ours until we publish it: the consumer reads it only
        // once published, and a panic in `write` publishes nothing (see
        // `ring`).
        queue.slots[SpscQueue::<T, N>::index(pos)]
            .value
            .with_mut(write);
        let barrier = self.held.barrier;
        queue.publish(pos, barrier);
        self.pos = pos + 1;
        queue.waits.0.notify_consumers(barrier);
        Pushed::Yes
    }
}

impl<T: SharedSafe, const N: usize> Consumer<'_, T, N> {
    /// Pops the oldest item, if any: never blocks. An error only for an
    /// invalid item (bytes written outside this library's protocol: it is
    /// consumed, and the next pop takes the next item).
    ///
    /// # Panics
    ///
    /// In a process forked after this handle was taken (the side belongs
    /// to the parent): as for every method of the handle.
    ///
    /// ```
    /// use shm_runtime::queue::SpscQueue;
    /// let q = SpscQueue::<u8, 4>::new();
    /// let mut rx = q.consumer()?;
    /// assert_eq!(rx.try_pop()?, None);
    /// q.producer()?.push(3);
    /// assert_eq!(rx.try_pop()?, Some(3));
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn try_pop(&mut self) -> Result<Option<T>> {
        self.pop_inner(Wait::No, read_value)
    }

    /// Pops the oldest item, waiting while the queue is empty; an error for
    /// an invalid item, or ([`ErrorKind::Truncated`](crate::ErrorKind::Truncated)) if another process
    /// truncated the queue's segment (nobody can push any more).
    ///
    /// ```
    /// use shm_runtime::queue::SpscQueue;
    /// let q = SpscQueue::<u8, 4>::new();
    /// q.producer()?.push(3);
    /// assert_eq!(q.consumer()?.pop()?, 3);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn pop(&mut self) -> Result<T> {
        self.pop_inner(Wait::Forever, read_value)
            .map(|item| item.expect("a blocking pop waits for an item"))
    }

    /// Pops the oldest item, waiting up to `timeout` (on `CLOCK_MONOTONIC`)
    /// while the queue is empty: [`ErrorKind::TimedOut`](crate::ErrorKind::TimedOut) if none came.
    ///
    /// ```
    /// use shm_runtime::{queue::SpscQueue, ErrorKind};
    /// use std::time::Duration;
    /// let q = SpscQueue::<u8, 4>::new();
    /// let err = q.consumer()?.pop_timeout(Duration::from_millis(5)).unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::TimedOut);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn pop_timeout(&mut self, timeout: Duration) -> Result<T> {
        let deadline = Deadline::after(timeout);
        self.pop_inner(Wait::Until(&deadline), read_value)?
            .ok_or_else(|| timed_out::<T, N>(NAME, timeout))
    }

    /// Reads the oldest item in place, if any, and removes it: `read` gets
    /// it by reference in its slot (no copy), checked, and its result is
    /// returned. If `read` panics, the item is consumed. While `read` runs,
    /// forks are refused, and a producer that laps the ring to this slot
    /// waits for it.
    ///
    /// ```
    /// use shm_runtime::queue::SpscQueue;
    /// let q = SpscQueue::<[u64; 4], 4>::new();
    /// q.producer()?.push([1, 2, 3, 4]);
    /// let mut rx = q.consumer()?;
    /// assert_eq!(rx.try_pop_with(|item| item.iter().sum::<u64>())?, Some(10));
    /// assert_eq!(rx.try_pop_with(|item| item[0])?, None);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn try_pop_with<R>(&mut self, read: impl FnOnce(&T) -> R) -> Result<Option<R>> {
        self.pop_inner(Wait::No, read_in_place(read))
    }

    /// [`try_pop_with`](Self::try_pop_with), waiting while the queue is
    /// empty.
    ///
    /// ```
    /// use shm_runtime::queue::SpscQueue;
    /// let q = SpscQueue::<[u64; 4], 4>::new();
    /// q.producer()?.push([1, 2, 3, 4]);
    /// assert_eq!(q.consumer()?.pop_with(|item| item[3])?, 4);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn pop_with<R>(&mut self, read: impl FnOnce(&T) -> R) -> Result<R> {
        self.pop_inner(Wait::Forever, read_in_place(read))
            .map(|item| item.expect("a blocking pop waits for an item"))
    }

    /// [`try_pop_with`](Self::try_pop_with), waiting up to `timeout` while
    /// the queue is empty: [`ErrorKind::TimedOut`](crate::ErrorKind::TimedOut) if no item came.
    ///
    /// ```
    /// use shm_runtime::queue::SpscQueue;
    /// use std::time::Duration;
    /// let q = SpscQueue::<[u64; 4], 4>::new();
    /// let mut rx = q.consumer()?;
    /// assert!(rx.pop_with_timeout(|item| item[0], Duration::from_millis(5)).is_err());
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn pop_with_timeout<R>(
        &mut self,
        read: impl FnOnce(&T) -> R,
        timeout: Duration,
    ) -> Result<R> {
        let deadline = Deadline::after(timeout);
        self.pop_inner(Wait::Until(&deadline), read_in_place(read))?
            .ok_or_else(|| timed_out::<T, N>(NAME, timeout))
    }

    /// Waits as `wait` says for an item, lets `read` check and take it,
    /// gives its slot back. `Ok(None)`: no item in time.
    #[inline]
    fn pop_inner<R>(
        &mut self,
        wait: Wait<'_>,
        read: impl FnOnce(*const T) -> core::result::Result<R, InvalidValue>,
    ) -> Result<Option<R>> {
        #[allow(clippy::let_unit_value)]
        let () = CheckItem::<T>::OK;
        self.held.check("consumer");
        let queue = self.queue;
        let pos = self.pos;
        let mut sleep = Sleep::new();
        while !queue.ready_with(pos, Ordering::Acquire) {
            if !matches!(wait, Wait::No) {
                crate::sigbus::check_at(queue, "popping from an SpscQueue")?;
            }
            let go_on = sleep.wait(wait, &queue.waits.0.pop, || {
                queue.ready_with(pos, Ordering::SeqCst)
            });
            if !go_on {
                return Ok(None);
            }
        }
        queue.take(pos);
        // Consumed from here on, whatever `read` does (`ready_with` is
        // false beyond `LAST_POSITION`, so `+ 1` does not overflow).
        self.pos = pos + 1;
        let given = GiveBack {
            queue,
            pos,
            barrier: self.held.barrier,
        };
        // `read` gets the slot of a published item: its bytes were written
        // whole before the stamp we acquired, and the producer writes the
        // slot again only after we give it back (below, after `read`).
        let item = queue.slots[SpscQueue::<T, N>::index(pos)]
            .value
            .with(|slot| read(slot.cast::<T>()));
        drop(given);
        item.map(Some)
            .map_err(|invalid| invalid_item::<T, N>("an SpscQueue", invalid))
    }
}

/// A taken item's slot, given back to the producer when dropped: after the
/// consumer read it, or if its `read` panicked.
struct GiveBack<'a, T, const N: usize> {
    queue: &'a SpscQueue<T, N>,
    pos: u64,
    barrier: Barrier,
}

impl<T, const N: usize> Drop for GiveBack<'_, T, N> {
    fn drop(&mut self) {
        self.queue.release(self.pos, self.barrier);
        let waits = &self.queue.waits.0;
        waits.notify_producers(self.barrier);
    }
}
