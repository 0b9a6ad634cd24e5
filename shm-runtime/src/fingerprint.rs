//! Structural layout fingerprints.
//!
//! Every [`SharedSafe`](crate::SharedSafe) type carries a 64-bit
//! [`Fingerprint`] computed at compile time from its
//! [layout description](crate::layout) by [`Fingerprint::of_layout`]: every
//! size, alignment, scalar kind, array length, repr, field name and offset,
//! enum discriminant (all 128 bits of it) and library protocol, in order.
//! Segment headers store it, so a process that opens a segment with another
//! layout gets an error instead of garbage.
//!
//! The hash is FNV-1a over length-prefixed items, finished with a 64-bit
//! avalanche mix; no input is truncated on the way in (sizes and offsets are
//! `usize`, at most 64 bits on every supported target; discriminants are
//! hashed as `u128`). It is stable across compilations and machines of the
//! same pointer width and endianness (which the header records separately).

use core::fmt;

/// A 64-bit structural fingerprint of a type's layout.
///
/// Equal fingerprints mean "same field names, field types, offsets, size and
/// alignment" with overwhelming probability; a different fingerprint means the
/// layouts differ.
///
/// ```
/// use shm_runtime::{Fingerprint, SharedSafe};
///
/// assert_eq!(u32::FINGERPRINT, u32::FINGERPRINT);
/// assert_ne!(u32::FINGERPRINT, i32::FINGERPRINT);
/// assert_ne!(<[u32; 4]>::FINGERPRINT, <[u32; 5]>::FINGERPRINT);
/// println!("{}", u32::FINGERPRINT); // 16 hex digits
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct Fingerprint(u64);

/// The hash state before anything is mixed in.
pub(crate) const START: u64 = FNV_OFFSET;
const FNV_OFFSET: u64 = 0xcbf2_9ce4_8422_2325;
const FNV_PRIME: u64 = 0x0000_0100_0000_01b3;

const fn fnv_bytes(mut state: u64, bytes: &[u8]) -> u64 {
    let mut i = 0;
    while i < bytes.len() {
        state ^= bytes[i] as u64;
        state = state.wrapping_mul(FNV_PRIME);
        i += 1;
    }
    state
}

pub(crate) const fn mix_u64(state: u64, value: u64) -> u64 {
    fnv_bytes(state, &value.to_le_bytes())
}

/// A 128-bit value, every bit of it (enum discriminants of `repr(u128)`).
pub(crate) const fn mix_u128(state: u64, value: u128) -> u64 {
    fnv_bytes(state, &value.to_le_bytes())
}

/// A length-prefixed string, so that ("ab", "c") and ("a", "bc") differ.
pub(crate) const fn mix_str(state: u64, s: &str) -> u64 {
    fnv_bytes(mix_u64(state, s.len() as u64), s.as_bytes())
}

/// The finalizer of SplitMix64: spreads every input bit over the output.
const fn avalanche(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Fingerprint {
    /// The raw 64-bit value, as stored in segment headers.
    ///
    /// ```
    /// use shm_runtime::SharedSafe;
    /// assert_ne!(u32::FINGERPRINT.as_u64(), 0);
    /// ```
    pub const fn as_u64(self) -> u64 {
        self.0
    }

    /// A fingerprint from its raw value, as read from a segment header.
    ///
    /// ```
    /// use shm_runtime::{Fingerprint, SharedSafe};
    /// let fp = u16::FINGERPRINT;
    /// assert_eq!(Fingerprint::from_u64(fp.as_u64()), fp);
    /// ```
    pub const fn from_u64(raw: u64) -> Self {
        Fingerprint(raw)
    }

    /// Finishes a hash state into a fingerprint.
    pub(crate) const fn from_state(state: u64) -> Self {
        Fingerprint(avalanche(state))
    }
}

impl fmt::Display for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:016x}", self.0)
    }
}

impl fmt::Debug for Fingerprint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Fingerprint({:016x})", self.0)
    }
}
