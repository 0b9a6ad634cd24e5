//! The untyped read path of [`SeqLock`]: a copy of a `SeqLock<T>` whose
//! `T` the reader knows only from a segment's stored layout description
//! (`shm-tool dump`), with the same loads-only protocol as the typed
//! read-only path.

use super::*;

/// The untyped read path: for a reader that knows a `SeqLock`'s layout from
/// a segment's stored [description](crate::layout::describe) only (this
/// library's `shm-tool dump`).
impl SeqLock<()> {
    /// Copies the value of a `SeqLock<T>` whose `T` this program does not
    /// have, with the same protocol as [`read_timeout`](SeqLock::read_timeout):
    /// the sequence word loaded `Relaxed` then an acquire fence, the value's
    /// data bytes loaded as `Relaxed` words and bytes split as writers split
    /// them, an acquire fence, the sequence loaded again; retried while a
    /// write is in progress or overlapped the copy, until `timeout`. Only
    /// loads, so the lock may be mapped read-only.
    ///
    /// `data_runs` are the ranges `(start, end)` of `T`'s data bytes (its
    /// bytes that are not padding), increasing, touching ranges merged: the
    /// ranges the writers' split follows, computed from the description
    /// exactly as the layout's are. `out` receives the copy (`out.len()` is
    /// `size_of::<T>()`); its padding bytes are left as they are. The copy
    /// is not checked: it is bytes, for the caller to decode.
    ///
    /// # Errors
    /// [`Unsupported`](ErrorKind::Unsupported) where 8-byte atomic loads
    /// are not allowed on read-only memory
    /// ([`READ_ONLY_ATOMIC_LIMIT`](crate::volatile::READ_ONLY_ATOMIC_LIMIT)),
    /// [`InvalidSize`](ErrorKind::InvalidSize) for a run outside `out` or
    /// out of order, [`TimedOut`](ErrorKind::TimedOut) (naming the writer's
    /// pid) when no copy was consistent within `timeout`.
    ///
    /// # Safety
    /// `lock` is 8-aligned and points to a `SeqLock<T>` (its sequence word
    /// at `lock`, its value at `lock + value_offset`, a multiple of 8) that
    /// stays mapped and readable, for `value_offset + out.len()` bytes,
    /// during the call, and whose writers follow this library's protocol
    /// for a `T` with exactly these data runs.
    ///
    /// ```
    /// use shm_runtime::{SeqLock, Shared};
    /// use std::time::Duration;
    /// let lock = Shared::anonymous(SeqLock::new(0x0102_0304_0506_0708u64))?;
    /// let mut out = [0u8; 8];
    /// // SAFETY: a live `SeqLock<u64>`: its value at 16, 8 data bytes.
    /// let read = unsafe {
    ///     SeqLock::read_untyped(
    ///         (&*lock as *const SeqLock<u64>).cast(),
    ///         16,
    ///         &[(0, 8)],
    ///         &mut out,
    ///         Duration::from_secs(1),
    ///     )
    /// };
    /// match read {
    ///     Ok(()) => assert_eq!(u64::from_ne_bytes(out), 0x0102_0304_0506_0708),
    ///     // 32-bit targets: 8-byte words cannot be loaded read-only.
    ///     Err(e) => assert_eq!(e.kind(), shm_runtime::ErrorKind::Unsupported),
    /// }
    /// # Ok::<(), shm_runtime::Error>(())
    /// ```
    #[doc(hidden)]
    pub unsafe fn read_untyped(
        lock: *const u8,
        value_offset: usize,
        data_runs: &[(usize, usize)],
        out: &mut [u8],
        timeout: Duration,
    ) -> Result<()> {
        if size_of::<AtomicU64>() > crate::volatile::READ_ONLY_ATOMIC_LIMIT {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "reading a SeqLock read-only: its 8-byte words cannot be loaded from \
                     read-only memory on this target (at most {} bytes)",
                    crate::volatile::READ_ONLY_ATOMIC_LIMIT
                ),
            ));
        }
        let mut prev_end = 0;
        for &(start, end) in data_runs {
            if start < prev_end || end < start || end > out.len() {
                return Err(Error::new(
                    ErrorKind::InvalidSize,
                    format!(
                        "reading a SeqLock: the data range {start}..{end} is out of order or \
                         outside its {}-byte value",
                        out.len()
                    ),
                ));
            }
            prev_end = end;
        }
        if value_offset % 8 != 0 || lock as usize % 8 != 0 {
            return Err(Error::new(
                ErrorKind::InvalidSize,
                "reading a SeqLock: its sequence word or value is not 8-aligned",
            ));
        }
        // SAFETY: the caller's contract: the sequence word is an aligned
        // `AtomicU64` of the mapping, only loaded here (a cast, not
        // `from_ptr`, which asks for writable memory).
        let seq = unsafe { &*lock.cast::<AtomicU64>() };
        // SAFETY: the value lies `value_offset` bytes in (the contract).
        let base = unsafe { lock.add(value_offset) };
        let deadline = Instant::now() + timeout;
        let mut spins = 0u32;
        loop {
            let before = seq.load(Ordering::Relaxed);
            if before & 1 == 0 {
                // As in `copy_out`: with the relaxed load, an acquire load
                // of the sequence, pairing with the writer's `Release` store
                // that made it even.
                fence(Ordering::Acquire);
                for &(start, end) in data_runs {
                    split(start, end, |at, wide| {
                        if wide {
                            // SAFETY: bytes `at..at + 8` are data bytes of
                            // the value (the runs are `T`'s), 8-aligned
                            // (`base` is, and `split` aligns `at`), only
                            // ever accessed as this word by writers (the
                            // same split); only loaded, by a cast.
                            let word = unsafe { &*base.add(at).cast::<AtomicU64>() };
                            out[at..at + 8]
                                .copy_from_slice(&word.load(Ordering::Relaxed).to_ne_bytes());
                        } else {
                            // SAFETY: byte `at` is a data byte of the value,
                            // only ever accessed as this byte; a cast.
                            let byte = unsafe { &*base.add(at).cast::<AtomicU8>() };
                            out[at] = byte.load(Ordering::Relaxed);
                        }
                    })
                }
                fence(Ordering::Acquire);
                if seq.load(Ordering::Relaxed) == before {
                    return Ok(());
                }
            }
            if Instant::now() >= deadline {
                let word = seq.load(Ordering::Relaxed);
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
}
