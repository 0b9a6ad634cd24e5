//! Reads an object's bytes without a mapping that another process could
//! shrink under us: `pread` for POSIX objects and files, atomic loads from an
//! attachment for System V segments (which cannot shrink). Opening checks a
//! header this way, and so do the inspection tools, so that a truncation
//! while a segment is being opened or listed is an error, never a `SIGBUS`.

use super::header::{ReadAt, Snapshot, HEADER_SIZE, STATE_PREFIX};
use crate::error::{Error, Result};
use crate::map::Mapping;
use std::os::fd::{AsRawFd, BorrowedFd};
use std::sync::atomic::{fence, AtomicU32, AtomicU64, AtomicU8, Ordering};

/// Where the bytes come from.
pub(crate) enum Reader<'a> {
    /// A POSIX object or file.
    Fd(BorrowedFd<'a>),
    /// A System V attachment of the segment's full size.
    SysV(&'a Mapping),
}

impl ReadAt for Reader<'_> {
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        Reader::read_at(self, offset, buf)
    }
}

impl Reader<'_> {
    /// Reads up to `buf.len()` bytes at `offset`; fewer at the end of the
    /// object (a truncated one reads short).
    pub(crate) fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize> {
        match self {
            Reader::Fd(fd) => pread_all(*fd, offset, buf),
            Reader::SysV(mapping) => Ok(read_attached(mapping, offset, buf)),
        }
    }

    /// Reads the header: the state word first, then (after an acquire
    /// fence) the rest, so that "ready" guarantees the fields; in one read
    /// for a POSIX object or file that was published by link and is ready
    /// (`FLAG_LINKED`). `None` when
    /// the object is shorter than a header (it was truncated).
    ///
    /// From a System V attachment, the state prefix is loaded at the widths
    /// its writers store it (the magic and state words as `u64`, the version
    /// and header size as `u32`), the state word last, then an acquire
    /// fence.
    pub(crate) fn header(&self) -> Result<Option<Snapshot>> {
        let mut bytes = [0u8; HEADER_SIZE];
        match self {
            Reader::Fd(_) => {
                // One read of the whole header first: for a segment that was
                // published by link (the common case on Linux) it is
                // consistent as it is, since every field was written before
                // the name existed, and this open found the name. Any other
                // header is read again from the state prefix on, below.
                let n = self.read_at(0, &mut bytes)?;
                if n < STATE_PREFIX {
                    return Ok(None);
                }
                if n == HEADER_SIZE {
                    let snapshot = Snapshot::decode(&bytes);
                    if snapshot.ready_by_link() {
                        return Ok(Some(snapshot));
                    }
                }
            }
            Reader::SysV(mapping) => {
                if !read_prefix_attached(mapping, &mut bytes) {
                    return Ok(None);
                }
            }
        }
        // The creator publishes "ready" with a release store after writing
        // the fields. For System V the load above is atomic and this fence
        // makes it an acquire; for `pread` (a kernel copy, not an atomic in
        // Rust's model) it orders the hardware loads the same way. A header
        // being written at this instant may read torn: it is then not
        // "ready", and reported so.
        fence(Ordering::Acquire);
        if self.read_at(STATE_PREFIX as u64, &mut bytes[STATE_PREFIX..])?
            < HEADER_SIZE - STATE_PREFIX
        {
            return Ok(None);
        }
        Ok(Some(Snapshot::decode(&bytes)))
    }
}

fn pread_all(fd: BorrowedFd<'_>, offset: u64, buf: &mut [u8]) -> Result<usize> {
    let mut done = 0;
    while done < buf.len() {
        let at = libc::off_t::try_from(offset + done as u64).unwrap_or(libc::off_t::MAX);
        // SAFETY: `fd` is open; the buffer range is writable for its length.
        let n = unsafe {
            libc::pread(
                fd.as_raw_fd(),
                buf[done..].as_mut_ptr().cast(),
                buf.len() - done,
                at,
            )
        };
        match n {
            0 => break,
            n if n > 0 => done += n as usize,
            _ => {
                let e = std::io::Error::last_os_error();
                if e.kind() != std::io::ErrorKind::Interrupted {
                    return Err(Error::os("reading a segment", e));
                }
            }
        }
    }
    Ok(done)
}

/// Loads the header's state prefix from `mapping` into `bytes` at the
/// widths its writers use, the state word last (`Relaxed`: the caller's
/// acquire fence follows); false if the mapping is shorter than the prefix.
fn read_prefix_attached(mapping: &Mapping, bytes: &mut [u8; HEADER_SIZE]) -> bool {
    if mapping.len() < STATE_PREFIX {
        return false;
    }
    let base = mapping.ptr().as_ptr();
    // SAFETY: the mapping holds at least `STATE_PREFIX` (24) bytes from its
    // page-aligned start: the magic (u64 at 0), version and header size
    // (u32 at 8 and 12) and the state word (u64 at 16), all aligned; other
    // processes store them with atomics of these widths.
    let (magic, version, header_size, state) = unsafe {
        (
            (*base.cast::<AtomicU64>()).load(Ordering::Relaxed),
            (*base.add(8).cast::<AtomicU32>()).load(Ordering::Relaxed),
            (*base.add(12).cast::<AtomicU32>()).load(Ordering::Relaxed),
            (*base.add(16).cast::<AtomicU64>()).load(Ordering::Relaxed),
        )
    };
    bytes[0..8].copy_from_slice(&magic.to_ne_bytes());
    bytes[8..12].copy_from_slice(&version.to_ne_bytes());
    bytes[12..16].copy_from_slice(&header_size.to_ne_bytes());
    bytes[16..24].copy_from_slice(&state.to_ne_bytes());
    true
}

fn read_attached(mapping: &Mapping, offset: u64, buf: &mut [u8]) -> usize {
    let len = mapping.len() as u64;
    let n = len.saturating_sub(offset).min(buf.len() as u64) as usize;
    let base = mapping.ptr().as_ptr();
    let mut i = 0;
    while i < n {
        let at = offset as usize + i;
        if at & 7 == 0 && n - i >= 8 {
            // SAFETY: `at..at + 8` lies inside the attached segment
            // (`at + 8 <= offset + n <= len`), aligned; other processes may
            // write it concurrently, so it is read with an atomic load.
            let word = unsafe { (*base.add(at).cast::<AtomicU64>()).load(Ordering::Relaxed) };
            buf[i..i + 8].copy_from_slice(&word.to_ne_bytes());
            i += 8;
        } else {
            // SAFETY: as above, for one byte.
            buf[i] = unsafe { (*base.add(at).cast::<AtomicU8>()).load(Ordering::Relaxed) };
            i += 1;
        }
    }
    n
}
