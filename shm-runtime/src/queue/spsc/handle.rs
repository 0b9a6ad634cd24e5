//! The two sides of an [`SpscQueue`] as handles: taken with one
//! compare-and-swap of the side's holder word, given back when dropped, and
//! taken over when their process died (judged as `ShmMutex` judges a
//! holder).

use super::memory::End;
use super::SpscQueue;
use crate::error::{Error, ErrorKind, Result};
use crate::queue::fence::{light, Barrier};
use crate::queue::recovery::{process_dead, record_namespace};
use crate::sync::owner::{self, Me};
use crate::SharedSafe;
use std::sync::atomic::Ordering;

/// The producer side of an [`SpscQueue`]: the only handle that pushes,
/// until it is dropped or its process ends. See
/// [`SpscQueue::producer`].
///
/// ```
/// use shm_runtime::{queue::SpscQueue, ErrorKind};
/// let q = SpscQueue::<u32, 8>::new();
/// let mut tx = q.producer()?;
/// assert_eq!(q.producer().unwrap_err().kind(), ErrorKind::Busy);
/// tx.push(5);
/// drop(tx);
/// let _again = q.producer()?;
/// # Ok::<(), shm_runtime::Error>(())
/// ```
pub struct Producer<'q, T: SharedSafe, const N: usize> {
    pub(super) queue: &'q SpscQueue<T, N>,
    /// The next position to write.
    pub(super) pos: u64,
    /// The first position without room, as the consumer's word last said.
    pub(super) limit: u64,
    /// From this position on (the first one plus `N`), the stamps are
    /// known without loading them (see `SpscQueue::room`).
    pub(super) known: u64,
    pub(super) held: Held,
}

/// The consumer side of an [`SpscQueue`]: the only handle that pops, until
/// it is dropped or its process ends. See [`SpscQueue::consumer`].
///
/// ```
/// use shm_runtime::queue::SpscQueue;
/// let q = SpscQueue::<u32, 8>::new();
/// q.producer()?.push(9);
/// let mut rx = q.consumer()?;
/// assert_eq!(rx.try_pop()?, Some(9));
/// assert_eq!(rx.try_pop()?, None);
/// # Ok::<(), shm_runtime::Error>(())
/// ```
pub struct Consumer<'q, T: SharedSafe, const N: usize> {
    pub(super) queue: &'q SpscQueue<T, N>,
    /// The next position to read.
    pub(super) pos: u64,
    pub(super) held: Held,
}

/// What a handle knows of its holding.
#[derive(Clone, Copy)]
pub(super) struct Held {
    /// The holder word it wrote.
    word: u64,
    /// The fork generation that took it: a forked child holds a copy of
    /// the handle but not the side.
    generation: u64,
    /// How this process orders its publishing stores (see [`Barrier`]).
    pub(super) barrier: Barrier,
}

impl Held {
    /// Panics in a forked child that uses a handle its parent took.
    #[inline(always)]
    #[track_caller]
    pub(super) fn check(&self, side: &str) {
        if owner::registered_fork_generation() != self.generation {
            inherited(side);
        }
    }

    /// Whether this process (this fork of it) took the side.
    fn mine(&self) -> bool {
        owner::registered_fork_generation() == self.generation
    }
}

#[cold]
#[inline(never)]
#[track_caller]
fn inherited(side: &str) -> ! {
    panic!(
        "an SpscQueue {side} handle used in a process forked after it was taken: the side \
         belongs to the parent (a forked child takes its own handle, once the parent gave \
         the side back)"
    )
}

/// How many times a take looks again at a holder word that changed under
/// it (another process took or gave back the side meanwhile).
const TAKE_ATTEMPTS: u32 = 64;

impl<T: SharedSafe, const N: usize> SpscQueue<T, N> {
    /// Takes the producer side: the returned handle is the only one that
    /// pushes until it is dropped or this process ends. If the side is
    /// held by a process that died (killed, or ended without dropping its
    /// handle), it is taken over: an item that process was writing was
    /// never published and is not seen; one it published is kept.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Busy`] if a live process holds it (this one included:
    /// one producer handle at a time), or one of another PID or time
    /// namespace than every user so far (its death could not be judged).
    ///
    /// ```
    /// use shm_runtime::{queue::SpscQueue, ErrorKind};
    /// let q = SpscQueue::<u64, 4>::new();
    /// let tx = q.producer()?;
    /// let err = q.producer().unwrap_err();
    /// assert_eq!(err.kind(), ErrorKind::Busy);
    /// drop(tx);
    /// assert!(q.producer().is_ok());
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn producer(&self) -> Result<Producer<'_, T, N>> {
        let held = self.take_side(&self.head.0, "producer")?;
        let start = self.producer_start();
        Ok(Producer {
            queue: self,
            pos: start,
            limit: 0,
            known: start.saturating_add(N as u64),
            held,
        })
    }

    /// Takes the consumer side: the returned handle is the only one that
    /// pops until it is dropped or this process ends. If the side is held
    /// by a process that died, it is taken over: an item that process had
    /// taken (it may have acted on it) is lost, never delivered again; the
    /// others are delivered, in order.
    ///
    /// # Errors
    ///
    /// [`ErrorKind::Busy`], as for [`producer`](Self::producer).
    ///
    /// ```
    /// use shm_runtime::queue::SpscQueue;
    /// let q = SpscQueue::<u64, 4>::new();
    /// let mut rx = q.consumer()?;
    /// assert_eq!(rx.try_pop()?, None);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn consumer(&self) -> Result<Consumer<'_, T, N>> {
        let held = self.take_side(&self.tail.0, "consumer")?;
        let (pos, lost) = self.consumer_start();
        if lost {
            // The item before `pos` was taken by a consumer that died: give
            // its slot back, and wake a producer waiting for it.
            self.release(pos - 1, held.barrier);
            self.waits.0.notify_producers(held.barrier);
        }
        Ok(Consumer {
            queue: self,
            pos,
            held,
        })
    }

    /// The number of items: exact when neither side is inside a push or a
    /// pop, otherwise approximate. At most `N`.
    ///
    /// ```
    /// use shm_runtime::queue::SpscQueue;
    /// let q = SpscQueue::<u8, 4>::new();
    /// q.producer()?.push(1);
    /// assert_eq!(q.len(), 1);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn len(&self) -> usize {
        self.approx_len()
    }

    /// Whether [`len`](Self::len) is 0.
    ///
    /// ```
    /// use shm_runtime::queue::SpscQueue;
    /// assert!(SpscQueue::<u8, 4>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The capacity: `N`.
    ///
    /// ```
    /// use shm_runtime::queue::SpscQueue;
    /// assert_eq!(SpscQueue::<u8, 16>::new().capacity(), 16);
    /// ```
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Takes the side `end` for this process, or takes it over from a dead
    /// holder.
    fn take_side(&self, end: &End, side: &str) -> Result<Held> {
        let me = owner::me();
        let users = &self.waits.0.users_ns;
        record_namespace(users, me.ns);
        let word = (u64::from(me.pid) << 32) | u64::from(me.process_start);
        let mut expected = 0;
        for _ in 0..TAKE_ATTEMPTS {
            // `Acquire`: pairs with the `Release` that gave the side back
            // (the previous holder's stores to its position word and slots
            // happen before ours; a dead holder's are all visible once the
            // system says it ended). `Release`: a judge that reads our word
            // also sees our namespace record.
            match end
                .owner
                .compare_exchange(expected, word, Ordering::AcqRel, Ordering::Acquire)
            {
                Ok(_) => {
                    return Ok(Held {
                        word,
                        generation: me.generation,
                        barrier: light(me.generation),
                    })
                }
                Err(0) => expected = 0,
                Err(holder) if self.holder_dead(holder, &me) => expected = holder,
                Err(holder) => return Err(self.busy(side, holder)),
            }
        }
        let holder = end.owner.load(Ordering::Relaxed);
        Err(self.busy(side, holder))
    }

    /// Whether the process of holder word `holder` is dead.
    fn holder_dead(&self, holder: u64, me: &Me) -> bool {
        process_dead(
            (holder >> 32) as u32,
            holder as u32,
            &self.waits.0.users_ns,
            me,
        )
    }

    #[cold]
    fn busy(&self, side: &str, holder: u64) -> Error {
        Error::new(
            ErrorKind::Busy,
            format!(
                "taking the {side} side of an SpscQueue<{}, {N}>: it is held by process {}, \
                 which is alive or of another PID namespace (a side is given back when its \
                 handle is dropped or its process ends)",
                std::any::type_name::<T>(),
                holder >> 32
            ),
        )
    }

    /// Gives side `end` back, unless this is a forked copy of the handle.
    fn give_back(end: &End, held: &Held) {
        if held.mine() {
            // `Release`: our stores to the side's words happen before the
            // next holder's take. A compare-and-swap: only our own word is
            // cleared.
            let _ = end
                .owner
                .compare_exchange(held.word, 0, Ordering::Release, Ordering::Relaxed);
        }
    }
}

impl<T: SharedSafe, const N: usize> Drop for Producer<'_, T, N> {
    fn drop(&mut self) {
        SpscQueue::<T, N>::give_back(&self.queue.head.0, &self.held);
    }
}

impl<T: SharedSafe, const N: usize> Drop for Consumer<'_, T, N> {
    fn drop(&mut self) {
        SpscQueue::<T, N>::give_back(&self.queue.tail.0, &self.held);
    }
}

impl<T: SharedSafe, const N: usize> core::fmt::Debug for Producer<'_, T, N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Producer")
            .field("position", &self.pos)
            .field("capacity", &N)
            .finish_non_exhaustive()
    }
}

impl<T: SharedSafe, const N: usize> core::fmt::Debug for Consumer<'_, T, N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Consumer")
            .field("position", &self.pos)
            .field("capacity", &N)
            .finish_non_exhaustive()
    }
}

impl<T: SharedSafe, const N: usize> core::fmt::Debug for SpscQueue<T, N> {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SpscQueue")
            .field("len", &self.len())
            .field("capacity", &N)
            .finish_non_exhaustive()
    }
}
