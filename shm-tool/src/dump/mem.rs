//! The raw reads of a dump from the mapping (or a private copy): bounds
//! checks, volatile byte copies, `Relaxed` atomic loads of their width, and
//! the bytes of a scalar as an integer.

use shm_runtime::volatile::READ_ONLY_ATOMIC_LIMIT;

pub(super) const NOT_READ_ONLY: &str = "not readable read-only on this target";

/// Where a value's bytes are: the live mapping, or a private copy (a
/// `SeqLock`'s consistent copy).
#[derive(Clone, Copy)]
pub(super) enum Mem<'a> {
    /// The payload, `len` bytes at `base` inside the view.
    Live {
        base: *const u8,
        len: u64,
    },
    Copy(&'a [u8]),
}

impl Mem<'_> {
    pub(super) fn len(&self) -> u64 {
        match self {
            Mem::Live { len, .. } => *len,
            Mem::Copy(bytes) => bytes.len() as u64,
        }
    }

    /// Whether `at..at + n` lies inside.
    pub(super) fn holds(&self, at: u64, n: u64) -> bool {
        at.checked_add(n).is_some_and(|end| end <= self.len())
    }

    /// A volatile copy of `n` bytes at `at` (checked by the caller with
    /// `holds`).
    pub(super) fn plain(&self, at: u64, out: &mut [u8]) {
        match self {
            Mem::Live { base, .. } => {
                // SAFETY: `at + out.len()` is inside the payload (checked by
                // the caller), which is inside the mapping (checked when it
                // was prepared). Volatile byte copies create no reference;
                // the fields read this way are plain data, written at
                // creation or (an `ShmMutex`'s value) by a holder: a torn
                // copy is said to be possible.
                for (i, b) in out.iter_mut().enumerate() {
                    // SAFETY: as above: a byte of the payload.
                    *b = unsafe { base.add(at as usize + i).read_volatile() };
                }
            }
            Mem::Copy(bytes) => {
                out.copy_from_slice(&bytes[at as usize..at as usize + out.len()]);
            }
        }
    }

    /// An aligned scalar of `n` (1, 2, 4, 8, 16) bytes, as bytes in
    /// memory order; atomics with a `Relaxed` load of their width.
    pub(super) fn scalar(&self, at: u64, n: u64, atomic: bool) -> Result<Vec<u8>, String> {
        if !self.holds(at, n) {
            return Err(format!(
                "{n} bytes at {at} lie outside the {}-byte value",
                self.len()
            ));
        }
        let mut out = vec![0u8; n as usize];
        match self {
            Mem::Live { base, .. } if atomic => {
                if n as usize > READ_ONLY_ATOMIC_LIMIT {
                    return Err(NOT_READ_ONLY.into());
                }
                // SAFETY: inside the mapping (checked above).
                let ptr = unsafe { base.add(at as usize) };
                if !(ptr as usize).is_multiple_of(n as usize) {
                    return Err(format!("a misaligned {n}-byte atomic at {at}"));
                }
                // SAFETY: an aligned atomic of width `n` inside the mapping,
                // which writers access as this atomic; only loaded with
                // `Relaxed` (what std allows on read-only memory, up to
                // `READ_ONLY_ATOMIC_LIMIT`, checked), through a cast.
                unsafe {
                    use std::sync::atomic::*;
                    match n {
                        1 => out.copy_from_slice(
                            &(*ptr.cast::<AtomicU8>())
                                .load(Ordering::Relaxed)
                                .to_ne_bytes(),
                        ),
                        2 => out.copy_from_slice(
                            &(*ptr.cast::<AtomicU16>())
                                .load(Ordering::Relaxed)
                                .to_ne_bytes(),
                        ),
                        4 => out.copy_from_slice(
                            &(*ptr.cast::<AtomicU32>())
                                .load(Ordering::Relaxed)
                                .to_ne_bytes(),
                        ),
                        #[cfg(target_has_atomic = "64")]
                        8 => out.copy_from_slice(
                            &(*ptr.cast::<AtomicU64>())
                                .load(Ordering::Relaxed)
                                .to_ne_bytes(),
                        ),
                        _ => return Err(NOT_READ_ONLY.into()),
                    }
                }
            }
            _ => self.plain(at, &mut out),
        }
        Ok(out)
    }
}

pub(super) fn unsigned(bytes: &[u8]) -> u128 {
    let mut wide = [0u8; 16];
    if cfg!(target_endian = "little") {
        wide[..bytes.len()].copy_from_slice(bytes);
        u128::from_le_bytes(wide)
    } else {
        wide[16 - bytes.len()..].copy_from_slice(bytes);
        u128::from_be_bytes(wide)
    }
}

pub(super) fn signed(bytes: &[u8]) -> i128 {
    let bits = bytes.len() * 8;
    let raw = unsigned(bytes);
    if bits == 0 || bits >= 128 {
        return raw as i128;
    }
    let shift = 128 - bits;
    ((raw << shift) as i128) >> shift
}
