//! [`SeqLock<T>`]: many wait-free readers and one writer at a time of a
//! `Copy` value, without a data race.

use crate::error::{Error, ErrorKind, Result};
use crate::layout::{Field, TypeLayout, Validity};
use crate::liveness::{pid_alive, pid_namespace};
use crate::SharedSafe;
use std::cell::UnsafeCell;
use std::fmt;
use std::mem::{offset_of, size_of, MaybeUninit};
use std::sync::atomic::{fence, AtomicU64, AtomicU8, Ordering};
use std::time::{Duration, Instant};

mod untyped;

/// A sequence lock: readers copy a `Copy` value out without ever blocking
/// the writer, and retry when a write overlapped their copy; writers
/// exclude each other through the sequence number itself.
///
/// Good for a small value written now and then and read often and from many
/// processes: a configuration, a snapshot of statistics, a position.
///
/// ```
/// use shm_runtime::{process, SeqLock, Shared};
/// use std::time::Duration;
///
/// #[derive(Clone, Copy, bytemuck::NoUninit, shm_runtime::SharedSafe)]
/// #[repr(C)]
/// struct Position { x: f64, y: f64 }
///
/// let pos = Shared::anonymous(SeqLock::new(Position { x: 0.0, y: 0.0 }))?;
/// let child = process::fork(|| pos.write(Position { x: 1.0, y: 2.0 }))?;
/// child.join(Duration::from_secs(10))?;
/// assert_eq!(pos.read().y, 2.0);
/// # Ok::<(), shm_runtime::Error>(())
/// ```
///
/// # Why this is sound
///
/// A classic seqlock reads the value with plain loads while a writer may be
/// storing to it: a data race, undefined behaviour in Rust's memory model
/// even if the torn copy is thrown away. Here every access to the value's
/// bytes while it is shared is an atomic one (`Relaxed` `AtomicU64` words,
/// then `AtomicU8`s for the tail; the same split in every process, so
/// accesses never mix sizes), ordered by fences as in Boehm's "Can seqlocks
/// get along with programming language memory models?":
///
/// * the writer makes the sequence odd with an `Acquire` compare-and-swap
///   (only from even, which excludes other writers), issues a `Release`
///   fence, stores the words, and makes the sequence even with a `Release`
///   store;
/// * a reader loads the sequence (`Relaxed`, then an `Acquire` fence: an
///   acquire load in effect), loads the words, issues an `Acquire` fence and
///   loads the sequence again: if both are the same even number, no write
///   overlapped the copy. Readers only load (no `Acquire` load, no
///   compare-exchange), so the same code reads a `SeqLock` mapped
///   read-only, through a [`Monitor`](crate::Monitor).
///
/// Only the bytes of `T` that are not padding are copied, in and out:
/// padding bytes are uninitialised in a `T` (reading them would be undefined
/// behaviour, and writing them would carry the writer's stack into shared
/// memory), so `T`'s [layout](crate::layout::TypeLayout) tells which bytes
/// are data, and the split into words and bytes follows from it (the same in
/// every process). A `T` without padding is copied as `size_of::<T>() / 8`
/// words and a tail of bytes; one with padding (a
/// [`FixedString<N>`](crate::FixedString) whose `N` is not a multiple of
/// four, a struct of a `u8` and a `u64`) range by range of its data bytes:
/// bytes up to an 8-aligned offset, words, then bytes. The ranges are
/// computed at compile time for up to 16 of them (a type with more, such
/// as a long array of padded structs, walks its layout on every copy). The
/// padding in shared memory keeps what creation left there (zeroes: see
/// [`Shared`](crate::Shared)).
///
/// The copy lives in a `MaybeUninit<T>` (zeroed first when `T` has padding)
/// and becomes a `T` only once validated, when its bytes are exactly those
/// of a `T` that a writer stored: a torn copy is never a `T`, so `T` need not
/// accept every bit pattern.
///
/// ```
/// use shm_runtime::{FixedString, SeqLock, Shared};
///
/// // `{ len: u32, bytes: [u8; 5] }`: three bytes of padding.
/// let status = Shared::anonymous(SeqLock::new(FixedString::<5>::new()))?;
/// status.write("ready".try_into().unwrap());
/// assert_eq!(status.read(), "ready");
/// # Ok::<(), shm_runtime::Error>(())
/// ```
///
/// # A writer that dies
///
/// The sequence word also holds the pid of the process writing (the top
/// 22 bits; the sequence counter is the low 42). A writer killed in the
/// middle of a write (a window of a few stores, with no system call) leaves
/// the sequence odd, and readers never see its half-written value:
///
/// * the next [`write`](SeqLock::write) notices that the writing process is
///   gone (`kill(pid, 0)` fails with `ESRCH`), takes the write over with a
///   compare-and-swap (exactly one process wins), stores a whole new value
///   and publishes it: the lock is repaired;
/// * [`read_timeout`](SeqLock::read_timeout) reports
///   [`ErrorKind::OwnerDied`] until then, [`try_read`](SeqLock::try_read)
///   returns `None`, and [`read`](SeqLock::read) and
///   [`update`](SeqLock::update) (which needs the old value) wait for it.
///
/// A pid is only judged when every writer so far ran in this process's PID
/// namespace (the lock records it): across namespaces a pid means nothing,
/// and a live writer in another container must never be taken over, so
/// there a dead writer's lock is not repaired and `read_timeout` times out.
///
/// # Bytes written outside the protocol
///
/// Opening a segment never reads a `SeqLock`'s value (a writer may be
/// storing it at that moment); every consistent copy is checked instead
/// ([`TypeLayout::check`](crate::layout::TypeLayout::check), compiled out
/// for a `T` whose every bit pattern is valid). A copy that is no valid `T`
/// (a file corrupted on disk, a program writing the bytes without the
/// protocol) is never handed out: `read_timeout` reports
/// [`ErrorKind::InvalidValue`] at once, `try_read` returns `None`, and
/// `read` and `update` wait for a [`write`](SeqLock::write) to replace it,
/// as after a writer's death.
#[repr(C, align(8))]
pub struct SeqLock<T> {
    /// `(writer pid << PID_SHIFT) | counter`; the counter is odd while a
    /// write is in progress.
    seq: AtomicU64,
    /// The PID namespace of every writer so far (0: none yet; `MIXED`: more
    /// than one), which decides whether a writer's pid can be judged.
    writers_ns: AtomicU64,
    value: UnsafeCell<T>,
}

/// The counter is the low 42 bits of the sequence word, the writer's pid the
/// top 22 (Linux pids are below `PID_MAX_LIMIT`, 2^22; FreeBSD's below
/// 100000, `kern.pid_max`; macOS's below `PID_MAX`, 99999: all fit).
const PID_SHIFT: u32 = 42;
const COUNTER: u64 = (1 << PID_SHIFT) - 1;
/// `writers_ns` when writers from several PID namespaces used the lock.
const MIXED: u64 = u64::MAX;
/// Spins and yields a writer waits before it checks whether the process
/// writing is still alive.
const CHECK_AFTER: u32 = 256;

/// What one attempt at copying a `SeqLock`'s value out found.
enum Copied<T> {
    /// A write was in progress, or overlapped the copy.
    Busy,
    /// A consistent copy whose bytes are no valid `T`.
    Invalid(crate::layout::InvalidValue),
    /// The value.
    Value(T),
}

/// This process's pid as stored in the sequence word; 0 (never judged,
/// never taken over) if it does not fit in 22 bits.
fn own_pid() -> u64 {
    let pid = u64::from(std::process::id());
    if pid >> (64 - PID_SHIFT) == 0 {
        pid
    } else {
        0
    }
}

fn counter(word: u64) -> u64 {
    word & COUNTER
}

fn writer_pid(word: u64) -> u32 {
    (word >> PID_SHIFT) as u32
}

// SAFETY: (1) an `AtomicU64` and a `T: SharedSafe`: no address. (2)
// `repr(C)`. (3) no drop glue (`T` has none). (4) the value is only mutated
// through `&Self` by atomic stores (of its data bytes, never its padding)
// under the writer bit of the sequence; `T: Copy` has no interior
// mutability of its own. (5) the fingerprint includes `T`'s and the layout.
unsafe impl<T: SharedSafe + Copy> SharedSafe for SeqLock<T> {
    const LAYOUT: &'static TypeLayout = &TypeLayout::library::<Self>(
        "SeqLock",
        "SeqLock atomic-words v2",
        &[],
        &[
            Field::plain("seq", 0, AtomicU64::LAYOUT),
            Field::plain("writers_ns", 8, AtomicU64::LAYOUT),
            // Written by the writer while readers copy it: checked on read.
            Field::protected("value", offset_of!(Self, value), T::LAYOUT),
        ],
        Validity::Fields,
    );
}

// SAFETY: all-zero bytes are sequence 0 (no write in progress), no writer
// namespace yet, and an all-zero `T`, valid since `T: Zeroable`.
unsafe impl<T: bytemuck::Zeroable> bytemuck::Zeroable for SeqLock<T> {}

// SAFETY: readers and writers on several threads copy `T`s in and out: that
// moves `T` values between threads, sound when `T: Send`. There are no
// references into the value, and every shared access is atomic.
unsafe impl<T: Send> Sync for SeqLock<T> {}

// A panic in `update` leaves the old value and ends the write.
impl<T> std::panic::RefUnwindSafe for SeqLock<T> {}
impl<T> std::panic::UnwindSafe for SeqLock<T> {}

impl<T: SharedSafe + Copy> SeqLock<T> {
    /// A new sequence lock holding `value`.
    ///
    /// ```
    /// let lock = shm_runtime::SeqLock::new([1u32, 2, 3]);
    /// assert_eq!(lock.read(), [1, 2, 3]);
    /// ```
    pub const fn new(value: T) -> SeqLock<T> {
        SeqLock {
            seq: AtomicU64::new(0),
            writers_ns: AtomicU64::new(0),
            value: UnsafeCell::new(value),
        }
    }

    /// Copies the value out, retrying while writes overlap the copy. Never
    /// blocks a writer; waits (spinning, yielding, then sleeping) only while
    /// a write is in progress, or, if that writer died mid-write, until the
    /// next [`write`](SeqLock::write) repairs the lock: use
    /// [`read_timeout`](SeqLock::read_timeout) to bound the wait.
    ///
    /// ```
    /// let lock = shm_runtime::SeqLock::new(5u64);
    /// assert_eq!(lock.read(), 5);
    /// ```
    pub fn read(&self) -> T {
        let mut spins = 0u32;
        loop {
            if let Copied::Value(value) = self.copy_out() {
                return value;
            }
            backoff(&mut spins);
        }
    }

    /// Like [`read`](SeqLock::read), waiting at most `timeout` for a write in
    /// progress to end. A writer that died in the middle of its write is
    /// [`ErrorKind::OwnerDied`] (the value is lost until the next
    /// [`write`](SeqLock::write)); a write still in progress after `timeout`
    /// is [`ErrorKind::TimedOut`].
    ///
    /// ```
    /// use std::time::Duration;
    /// let lock = shm_runtime::SeqLock::new(5u64);
    /// assert_eq!(lock.read_timeout(Duration::from_millis(10))?, 5);
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    pub fn read_timeout(&self, timeout: Duration) -> Result<T> {
        self.load_timeout(timeout)
    }

    /// [`read_timeout`](SeqLock::read_timeout)'s body, which only loads
    /// (`Relaxed` loads and fences, and a check of the private copy): the
    /// read path of a [`Monitor`](crate::Monitor) too, over memory mapped
    /// read-only, where std allows no other atomic operation.
    pub(crate) fn load_timeout(&self, timeout: Duration) -> Result<T> {
        crate::sigbus::check_at(self, "reading a SeqLock")?;
        let deadline = Instant::now() + timeout;
        let mut spins = 0u32;
        loop {
            match self.copy_out() {
                Copied::Value(value) => return Ok(value),
                Copied::Invalid(invalid) => {
                    return Err(Error::new(
                        ErrorKind::InvalidValue,
                        format!(
                            "reading a SeqLock: its value is not a valid `{}` ({invalid}): it \
                             was written outside this library's protocol; the next write() \
                             replaces it",
                            std::any::type_name::<T>()
                        ),
                    ))
                }
                Copied::Busy => {}
            }
            let word = self.seq.load(Ordering::Relaxed);
            // Orders `writer_died`'s load of the writers' namespace after
            // this load of the word whose writer published it (a relaxed
            // load and an acquire fence: an acquire load in effect).
            fence(Ordering::Acquire);
            if spins >= CHECK_AFTER && self.writer_died(word) {
                return Err(Error::new(
                    ErrorKind::OwnerDied,
                    format!(
                        "reading a SeqLock: process {} died in the middle of a write; the \
                         value is lost until the next write()",
                        writer_pid(word)
                    ),
                ));
            }
            if Instant::now() >= deadline {
                return Err(Error::new(
                    ErrorKind::TimedOut,
                    format!(
                        "reading a SeqLock: process {} was still writing after {timeout:?}",
                        writer_pid(word)
                    ),
                ));
            }
            backoff(&mut spins);
        }
    }

    /// Copies the value out if no write overlapped the copy, else `None`.
    ///
    /// ```
    /// let lock = shm_runtime::SeqLock::new(5u64);
    /// assert_eq!(lock.try_read(), Some(5));
    /// ```
    pub fn try_read(&self) -> Option<T> {
        self.try_load()
    }

    /// [`try_read`](SeqLock::try_read)'s body, which only loads: see
    /// [`load_timeout`](SeqLock::load_timeout).
    pub(crate) fn try_load(&self) -> Option<T> {
        match self.copy_out() {
            Copied::Value(value) => Some(value),
            Copied::Busy | Copied::Invalid(_) => None,
        }
    }

    /// One attempt at copying the value out: `Relaxed` loads and acquire
    /// fences only, so that it also runs over read-only memory.
    fn copy_out(&self) -> Copied<T> {
        let before = self.seq.load(Ordering::Relaxed);
        if before & 1 != 0 {
            return Copied::Busy;
        }
        // With the relaxed load above, an acquire load of the sequence in
        // effect: pairs with the `Release` store that made it even, and
        // keeps the copy's loads after it.
        fence(Ordering::Acquire);
        let mut copy = blank::<T>();
        // SAFETY: `copy` has room for a `T`.
        unsafe { self.load_into(copy.as_mut_ptr().cast()) };
        fence(Ordering::Acquire);
        if self.seq.load(Ordering::Relaxed) != before {
            return Copied::Busy;
        }
        // No write overlapped the copy (the sequence was even and unchanged,
        // and the fences order the copy between the two loads), so `copy`
        // holds exactly the bytes last published: a `T` when a writer of
        // this library stored them, but not necessarily when the segment was
        // corrupted or written outside the protocol. Checked, then.
        // SAFETY: `copy` is initialized (every data byte loaded, the padding
        // zeroed by `blank`) and private to this thread.
        match unsafe { crate::layout::check_value(copy.as_ptr()) } {
            // SAFETY: checked to be a valid `T`.
            Ok(()) => Copied::Value(unsafe { copy.assume_init() }),
            Err(invalid) => Copied::Invalid(invalid),
        }
    }

    /// Replaces the value. Concurrent writers take turns. Takes over (and so
    /// repairs) a write that a dead process left unfinished: see
    /// [A writer that dies](SeqLock#a-writer-that-dies).
    ///
    /// ```
    /// let lock = shm_runtime::SeqLock::new(1u16);
    /// lock.write(2);
    /// assert_eq!(lock.read(), 2);
    /// ```
    pub fn write(&self, value: T) {
        let _writing = self.begin_write(true);
        // SAFETY: we hold the writer bit: no other writer stores.
        unsafe { self.store_from(&value) };
    }

    /// Changes the value in place with `f` and returns what `f` returns.
    /// Readers see the value before or after, never in between. Should `f`
    /// panic, the value is left as it was. After a writer died mid-write
    /// there is no old value to give `f`: `update` waits for a
    /// [`write`](SeqLock::write) to repair the lock.
    ///
    /// ```
    /// let lock = shm_runtime::SeqLock::new([0u32; 2]);
    /// lock.update(|v| { v[0] += 1; v[1] += 1 });
    /// assert_eq!(lock.read(), [1, 1]);
    /// ```
    pub fn update<R>(&self, f: impl FnOnce(&mut T) -> R) -> R {
        let mut spins = 0u32;
        let (_writing, mut value) = loop {
            let writing = self.begin_write(false);
            let mut copy = blank::<T>();
            // SAFETY: we hold the writer bit, and the `Acquire` that took it
            // saw the previous writer's `Release`: the data bytes are those
            // last published (the padding is zeroed by `blank`).
            unsafe { self.load_into(copy.as_mut_ptr().cast()) };
            // SAFETY: `copy` is initialized and private to this thread.
            if unsafe { crate::layout::check_value(copy.as_ptr()) }.is_ok() {
                // SAFETY: checked to be a valid `T`.
                break (writing, unsafe { copy.assume_init() });
            }
            // Bytes written outside the protocol: no old value to give `f`.
            // Release the writer bit unchanged and wait for a `write`.
            drop(writing);
            backoff(&mut spins);
        };
        let result = f(&mut value);
        // SAFETY: we hold the writer bit.
        unsafe { self.store_from(&value) };
        result
    }

    /// The value, through exclusive access.
    ///
    /// ```
    /// let mut lock = shm_runtime::SeqLock::new(1u8);
    /// *lock.get_mut() = 3;
    /// assert_eq!(lock.into_inner(), 3);
    /// ```
    pub fn get_mut(&mut self) -> &mut T {
        self.value.get_mut()
    }

    /// The value, taken out.
    ///
    /// ```
    /// assert_eq!(shm_runtime::SeqLock::new(9i32).into_inner(), 9);
    /// ```
    pub fn into_inner(self) -> T {
        self.value.into_inner()
    }

    /// Takes the writer bit: from an even sequence, or (with `take_over`)
    /// from the odd sequence of a writer that died mid-write, whose torn
    /// value the caller then overwrites whole.
    fn begin_write(&self, take_over: bool) -> WriteGuard<'_> {
        self.record_namespace();
        let me = own_pid() << PID_SHIFT;
        let mut spins = 0u32;
        loop {
            let word = self.seq.load(Ordering::Acquire);
            let next = if counter(word) & 1 == 0 {
                Some(counter(word) + 1)
            } else if take_over && spins >= CHECK_AFTER && self.writer_died(word) {
                // Still odd: readers keep ignoring the value until we publish.
                Some((counter(word) + 2) & COUNTER)
            } else {
                None
            };
            if let Some(next) = next {
                let mine = me | next;
                // `AcqRel`: acquire the previous writer's stores; release our
                // namespace record to whoever judges our pid.
                if self
                    .seq
                    .compare_exchange(word, mine, Ordering::AcqRel, Ordering::Relaxed)
                    .is_ok()
                {
                    // Orders the odd sequence before the data stores that follow.
                    fence(Ordering::Release);
                    return WriteGuard {
                        seq: &self.seq,
                        word: mine,
                    };
                }
            }
            backoff(&mut spins);
        }
    }

    /// Whether `word` (odd) was left by a process that no longer exists and
    /// whose pid this process can judge.
    fn writer_died(&self, word: u64) -> bool {
        let pid = writer_pid(word);
        // Relaxed: every caller loaded `word` with acquire effect, which
        // orders this load after the namespace record its writer published.
        counter(word) & 1 == 1
            && pid != 0
            && self.writers_ns.load(Ordering::Relaxed) == pid_namespace()
            && !pid_alive(pid)
    }

    /// Records this writer's PID namespace (before it takes the writer bit).
    fn record_namespace(&self) {
        let mine = pid_namespace();
        match self
            .writers_ns
            .compare_exchange(0, mine, Ordering::AcqRel, Ordering::Acquire)
        {
            Ok(_) => {}
            Err(seen) if seen == mine || seen == MIXED => {}
            Err(_) => self.writers_ns.store(MIXED, Ordering::Release),
        }
    }

    /// The value's bytes: `size_of::<T>() / 8` aligned words, then the tail.
    fn base(&self) -> *mut u8 {
        let base = self.value.get().cast::<u8>();
        // `repr(C, align(8))` after an 8-byte field: the value is 8-aligned.
        debug_assert_eq!(base as usize % 8, 0);
        base
    }

    /// Copies the value's data bytes (not its padding) into `out` with
    /// relaxed atomic loads (only: see `copy_out`); `out`'s padding bytes
    /// are left as they are.
    ///
    /// # Safety
    /// `out` is valid for `size_of::<T>()` bytes of writes.
    unsafe fn load_into(&self, out: *mut u8) {
        let base = self.base();
        data_runs::<T>(|start, end| {
            split(start, end, |at, wide| {
                if wide {
                    // SAFETY: bytes `at..at + 8` are data bytes of the value,
                    // 8-aligned (`base` is), inside the `UnsafeCell` (shared
                    // mutation allowed), and only ever accessed as this word
                    // while shared (the split is the same everywhere). Made
                    // by a cast rather than `AtomicU64::from_ptr`, which
                    // asks for writable memory: only loaded here, the word
                    // may be mapped read-only (a `Monitor`).
                    let word = unsafe { &*base.add(at).cast::<AtomicU64>() };
                    // SAFETY: `out` has room for `size_of::<T>()` bytes.
                    unsafe {
                        out.add(at)
                            .cast::<u64>()
                            .write_unaligned(word.load(Ordering::Relaxed))
                    };
                } else {
                    // SAFETY: byte `at` is a data byte of the value, inside
                    // the `UnsafeCell`, only ever accessed as this byte
                    // while shared; a cast, as above.
                    let byte = unsafe { &*base.add(at).cast::<AtomicU8>() };
                    // SAFETY: as above.
                    unsafe { out.add(at).write(byte.load(Ordering::Relaxed)) };
                }
            })
        });
    }

    /// Stores `value`'s data bytes (not its padding, which is uninitialised
    /// in `value`) into the value with relaxed atomic stores.
    ///
    /// # Safety
    /// The caller holds the writer bit.
    unsafe fn store_from(&self, value: &T) {
        let src = (value as *const T).cast::<u8>();
        let base = self.base();
        data_runs::<T>(|start, end| {
            split(start, end, |at, wide| {
                if wide {
                    // SAFETY: bytes `at..at + 8` of `value` are data bytes of
                    // a valid `T`, so initialized, and readable through its
                    // reference.
                    let word = unsafe { src.add(at).cast::<u64>().read_unaligned() };
                    // SAFETY: as in `load_into`.
                    unsafe { AtomicU64::from_ptr(base.add(at).cast()) }
                        .store(word, Ordering::Relaxed);
                } else {
                    // SAFETY: byte `at` of `value` is a data byte: initialized.
                    let byte = unsafe { src.add(at).read() };
                    // SAFETY: as in `load_into`.
                    unsafe { AtomicU8::from_ptr(base.add(at)) }.store(byte, Ordering::Relaxed);
                }
            })
        });
    }
}

/// Where a copy of a `T` goes before it is checked: uninitialised when
/// every byte of it is loaded, zeroed when `T` has padding (which is not
/// loaded), so that a check that reads any byte reads initialized memory.
#[inline(always)]
fn blank<T: SharedSafe>() -> MaybeUninit<T> {
    if const { T::LAYOUT.has_padding() } {
        MaybeUninit::zeroed()
    } else {
        MaybeUninit::uninit()
    }
}

/// Calls `run(start, end)` for every range of `T`'s data bytes (the bytes
/// that are not padding): one range for a `T` without padding. The ranges
/// are computed at compile time (up to [`MAX_DATA_RUNS`] of them; a type
/// with more walks its layout on each copy).
///
/// [`MAX_DATA_RUNS`]: crate::layout::MAX_DATA_RUNS
#[inline(always)]
fn data_runs<T: SharedSafe>(mut run: impl FnMut(usize, usize)) {
    if const { !T::LAYOUT.has_padding() } {
        if size_of::<T>() != 0 {
            run(0, size_of::<T>());
        }
        return;
    }
    let runs: &crate::layout::DataRuns = const { &crate::layout::DataRuns::of(T::LAYOUT) };
    if runs.complete {
        for &(start, end) in &runs.runs[..runs.len] {
            run(start, end);
        }
    } else {
        crate::layout::for_each_data_run(T::LAYOUT, run);
    }
}

/// Splits the bytes `start..end` of a value at an 8-aligned address into the
/// accesses that copy them: `access(at, true)` for an aligned word
/// `at..at + 8` inside the range, `access(at, false)` for a single byte.
/// Readers and writers split alike, so accesses to the same bytes never mix
/// sizes.
#[inline(always)]
fn split(start: usize, end: usize, mut access: impl FnMut(usize, bool)) {
    let mut at = start;
    // Bytes up to the first 8-aligned offset, words, then the tail's bytes
    // (for a value without padding: `size / 8` words from 0, then bytes).
    while at < end && at & 7 != 0 {
        access(at, false);
        at += 1;
    }
    while end - at >= 8 {
        access(at, true);
        at += 8;
    }
    while at < end {
        access(at, false);
        at += 1;
    }
}

/// Ends a write (also when `update`'s closure panics): the sequence becomes
/// even again, publishing the stores.
struct WriteGuard<'a> {
    seq: &'a AtomicU64,
    /// The odd word this writer stored.
    word: u64,
}

impl Drop for WriteGuard<'_> {
    fn drop(&mut self) {
        let done = (self.word & !COUNTER) | ((counter(self.word) + 1) & COUNTER);
        // Only a writer that died is ever taken over, so this cannot fail;
        // were it to, publishing over the new writer would be wrong, and
        // leaving the word to it is right.
        let _ = self
            .seq
            .compare_exchange(self.word, done, Ordering::Release, Ordering::Relaxed);
    }
}

fn backoff(spins: &mut u32) {
    if *spins < 64 {
        std::hint::spin_loop();
    } else if *spins < 1024 {
        std::thread::yield_now();
    } else {
        // A long wait (a descheduled or dead writer): stop burning a core.
        std::thread::sleep(Duration::from_micros(100));
    }
    *spins = spins.saturating_add(1);
}

impl<T: SharedSafe + Copy + fmt::Debug> fmt::Debug for SeqLock<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("SeqLock")
            .field("value", &self.try_read())
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[derive(Clone, Copy, Debug, PartialEq, bytemuck::NoUninit, bytemuck::Zeroable)]
    #[repr(C)]
    struct Odd {
        a: [u8; 13],
    }

    // SAFETY: a byte array: see the array impl.
    unsafe impl SharedSafe for Odd {
        const LAYOUT: &'static crate::layout::TypeLayout = <[u8; 13]>::LAYOUT;
    }

    #[test]
    fn sizes_not_a_multiple_of_eight_round_trip() {
        let lock = SeqLock::new(Odd { a: [7; 13] });
        assert_eq!(lock.read(), Odd { a: [7; 13] });
        lock.write(Odd { a: [9; 13] });
        assert_eq!(lock.try_read().unwrap().a[12], 9);
        assert_eq!(size_of::<SeqLock<Odd>>(), 32);
    }

    /// A struct with padding after `tag` (7 bytes), inside `name` (3) and
    /// at the end (3), and a field that needs a check.
    #[derive(Clone, Copy, Debug, PartialEq, crate::SharedSafe)]
    #[repr(C)]
    struct Padded {
        tag: u8,
        count: u64,
        name: crate::FixedString<5>,
        on: bool,
    }

    impl Padded {
        fn new(i: u64) -> Padded {
            let mut name = crate::FixedString::new();
            name.push_str(&format!("n{}", i % 1000));
            Padded {
                tag: i as u8,
                count: i,
                name,
                on: i % 2 == 1,
            }
        }
    }

    /// The offsets of `Padded`'s padding bytes.
    fn padding_bytes() -> Vec<usize> {
        Padded::LAYOUT
            .padding()
            .iter()
            .flat_map(|p| p.offset..p.offset + p.len)
            .collect()
    }

    /// A padded type is accepted, and reads, writes and updates copy its
    /// data bytes exactly. Made by `new` in ordinary memory, its padding is
    /// uninitialised: Miri reports any read of it.
    #[test]
    fn padded_values_round_trip_without_touching_the_padding() {
        assert!(Padded::LAYOUT.has_padding());
        // Every byte but tag (1), count (8), name (4 + 5) and on (1):
        // 7 + 3 + 3 where a u64 is 8-aligned, fewer on 32-bit x86.
        assert_eq!(padding_bytes().len(), size_of::<Padded>() - 19);
        let lock = SeqLock::new(Padded::new(1));
        assert_eq!(lock.read(), Padded::new(1));
        lock.write(Padded::new(2));
        assert_eq!(lock.try_read(), Some(Padded::new(2)));
        let old = lock.update(|v| {
            let old = *v;
            *v = Padded::new(3);
            old
        });
        assert_eq!(old, Padded::new(2));
        assert_eq!(
            lock.read_timeout(Duration::from_secs(1)).unwrap(),
            Padded::new(3)
        );
        let strings = SeqLock::new(crate::FixedString::<5>::try_from("abc").unwrap());
        strings.write("hello".try_into().unwrap());
        assert_eq!(strings.read(), "hello");
    }

    /// Writes store data bytes only: what the padding held before (here a
    /// marker) is left alone, so no byte of the writer's stack can land in
    /// shared memory.
    #[test]
    fn writes_leave_the_padding_alone() {
        let lock = SeqLock::new(Padded::new(1));
        let base = lock.value.get().cast::<u8>();
        for at in padding_bytes() {
            // SAFETY: a padding byte of the value, written by this thread
            // only; padding holds any byte.
            unsafe { base.add(at).write(0xA5) };
        }
        for i in 0..10 {
            lock.write(Padded::new(i));
            lock.update(|v| v.count += 1);
        }
        for at in padding_bytes() {
            // SAFETY: as above; the byte was written (initialized) above and
            // only by this thread.
            assert_eq!(unsafe { base.add(at).read() }, 0xA5, "byte {at}");
        }
        let mut last = Padded::new(9);
        last.count += 1;
        assert_eq!(lock.read(), last);
    }

    /// A copy of a padded type is still checked: an invalid `bool` written
    /// outside the protocol is never handed out.
    #[test]
    fn an_invalid_padded_copy_is_refused() {
        let lock = SeqLock::new(Padded::new(1));
        let on = offset_of!(Padded, on);
        // SAFETY: the `bool`'s byte, written by this thread only, while no
        // one reads the lock.
        unsafe { lock.value.get().cast::<u8>().add(on).write(2) };
        assert_eq!(lock.try_read(), None);
        let err = lock.read_timeout(Duration::from_millis(10)).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidValue);
        assert!(err.to_string().contains("`on` holds 0x02"), "{err}");
        lock.write(Padded::new(4));
        assert_eq!(lock.read(), Padded::new(4));
    }

    /// A type with more ranges of data bytes than are computed at compile
    /// time is copied by walking its layout, as exactly.
    #[test]
    fn many_padded_elements_round_trip() {
        let many: [Padded; 20] = std::array::from_fn(|i| Padded::new(i as u64));
        let mut runs = 0;
        data_runs::<[Padded; 20]>(|_, _| runs += 1);
        assert!(runs > crate::layout::MAX_DATA_RUNS, "{runs} ranges");
        let lock = SeqLock::new(many);
        assert_eq!(lock.read(), many);
        let more: [Padded; 20] = std::array::from_fn(|i| Padded::new(100 + i as u64));
        lock.write(more);
        assert_eq!(lock.read(), more);
    }

    /// Readers and writers split a padded value into the same accesses:
    /// words where 8 aligned data bytes allow, bytes elsewhere.
    #[test]
    fn a_padded_value_is_split_by_its_data_runs() {
        let mut runs = Vec::new();
        data_runs::<Padded>(|start, end| runs.push((start, end)));
        // tag; count and name's len and bytes; on (at 8, 16 and 28 where a
        // u64 is 8-aligned).
        let (count, name, on) = (
            offset_of!(Padded, count),
            offset_of!(Padded, name),
            offset_of!(Padded, on),
        );
        assert_eq!(runs, [(0, 1), (count, name + 9), (on, on + 1)]);
        let mut accesses = Vec::new();
        split(8, 25, |at, wide| accesses.push((at, wide)));
        assert_eq!(accesses, [(8, true), (16, true), (24, false)]);
        let mut runs = Vec::new();
        data_runs::<[u64; 3]>(|start, end| runs.push((start, end)));
        assert_eq!(runs, [(0, 24)]);
    }

    /// The untyped read copies exactly what a typed read returns, for a
    /// padded type split by its data runs (those of the layout, as a reader
    /// of the description computes them), while a writer thread writes:
    /// never a torn copy, never a padding byte (Miri reports any).
    #[test]
    fn untyped_reads_match_typed_reads_while_a_writer_writes() {
        const WRITES: u64 = if cfg!(miri) { 200 } else { 20_000 };
        let lock = SeqLock::new(Padded::new(0));
        if size_of::<AtomicU64>() > crate::volatile::READ_ONLY_ATOMIC_LIMIT {
            let mut out = [0u8; size_of::<Padded>()];
            // SAFETY: refused before any load.
            let err = unsafe {
                SeqLock::read_untyped(
                    (&lock as *const SeqLock<Padded>).cast(),
                    16,
                    &[],
                    &mut out,
                    Duration::ZERO,
                )
            }
            .unwrap_err();
            assert_eq!(err.kind(), ErrorKind::Unsupported);
            return;
        }
        let mut runs = Vec::new();
        crate::layout::for_each_data_run(Padded::LAYOUT, |s, e| runs.push((s, e)));
        let value_offset = offset_of!(SeqLock<Padded>, value);
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 1..=WRITES {
                    lock.write(Padded::new(i));
                }
                done.store(true, Ordering::Release);
            });
            let mut reads = 0;
            while !done.load(Ordering::Acquire) || reads == 0 {
                let mut out = [0u8; size_of::<Padded>()];
                // SAFETY: a live `SeqLock<Padded>`, its value at
                // `value_offset`, the runs of `Padded`'s data bytes.
                unsafe {
                    SeqLock::read_untyped(
                        (&lock as *const SeqLock<Padded>).cast(),
                        value_offset,
                        &runs,
                        &mut out,
                        Duration::from_secs(10),
                    )
                }
                .unwrap();
                // SAFETY: `out` holds a consistent copy of a `Padded`'s data
                // bytes, its padding zero.
                let value: Padded = unsafe { std::ptr::read_unaligned(out.as_ptr().cast()) };
                assert_eq!(value, Padded::new(value.count), "torn copy");
                reads += 1;
            }
        });
        let mut out = [0u8; 8];
        // SAFETY: as above; a run outside the value is refused before any load.
        let err = unsafe {
            SeqLock::read_untyped(
                (&lock as *const SeqLock<Padded>).cast(),
                value_offset,
                &[(0, 9)],
                &mut out,
                Duration::ZERO,
            )
        }
        .unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidSize);
    }

    #[test]
    fn a_panicking_update_leaves_the_value() {
        let lock = SeqLock::new(1u32);
        let _ = std::panic::catch_unwind(|| {
            lock.update(|v| {
                *v = 2;
                panic!("in update")
            })
        });
        assert_eq!(lock.read(), 1);
        assert_eq!(counter(lock.seq.load(Ordering::Relaxed)) % 2, 0);
    }

    #[test]
    fn threads_never_see_a_torn_value() {
        // Fewer writes under Miri, which interprets every one (its scheduler
        // and weak-memory emulation still interleave readers and writers).
        const WRITES: u64 = if cfg!(miri) { 400 } else { 20_000 };
        let lock = SeqLock::new([0u64; 4]);
        let done = std::sync::atomic::AtomicBool::new(false);
        std::thread::scope(|s| {
            s.spawn(|| {
                for i in 1..=WRITES {
                    lock.write([i; 4]);
                }
                done.store(true, Ordering::Release);
            });
            s.spawn(|| {
                // A second writer takes its turns.
                for _ in 0..WRITES / 20 {
                    lock.update(|v| *v = [v[0]; 4]);
                }
            });
            while !done.load(Ordering::Acquire) {
                let v = lock.read();
                assert!(v.iter().all(|x| *x == v[0]), "torn read: {v:?}");
            }
        });
    }
}
