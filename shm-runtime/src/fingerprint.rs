//! Structural layout fingerprints.
//!
//! Every [`SharedSafe`](crate::SharedSafe) type carries a 64-bit
//! [`Fingerprint`] computed at compile time from its layout: for primitives a
//! fixed value per type, for arrays the element's fingerprint and the length,
//! for derived structs the repr, every field's name, fingerprint and offset,
//! and the struct's size and alignment. Segment headers store it, so a process
//! that opens a segment with another layout gets an error instead of garbage.
//!
//! The hash is FNV-1a over length-prefixed items, finished with a 64-bit
//! avalanche mix. It is stable across compilations and machines of the same
//! pointer width and endianness (which the header records separately).

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
/// println!("{}", Fingerprint::of_primitive("u32", 4, 4)); // 16 hex digits
/// ```
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(transparent)]
pub struct Fingerprint(u64);

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

const fn fnv_u64(state: u64, value: u64) -> u64 {
    fnv_bytes(state, &value.to_le_bytes())
}

/// A length-prefixed string, so that ("ab", "c") and ("a", "bc") differ.
const fn fnv_str(state: u64, s: &str) -> u64 {
    fnv_bytes(fnv_u64(state, s.len() as u64), s.as_bytes())
}

/// The finalizer of SplitMix64: spreads every input bit over the output.
const fn avalanche(mut z: u64) -> u64 {
    z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
    z ^ (z >> 31)
}

impl Fingerprint {
    /// The fingerprint of a primitive type, from its name, size and alignment.
    ///
    /// ```
    /// use shm_runtime::{Fingerprint, SharedSafe};
    /// assert_eq!(u64::FINGERPRINT, Fingerprint::of_primitive("u64", 8, 8));
    /// ```
    pub const fn of_primitive(name: &str, size: usize, align: usize) -> Self {
        let s = fnv_str(FNV_OFFSET, "primitive");
        let s = fnv_str(s, name);
        let s = fnv_u64(s, size as u64);
        Fingerprint(avalanche(fnv_u64(s, align as u64)))
    }

    /// The fingerprint of an array `[T; len]` whose element has fingerprint `element`.
    ///
    /// ```
    /// use shm_runtime::{Fingerprint, SharedSafe};
    /// assert_eq!(<[u8; 3]>::FINGERPRINT, Fingerprint::of_array(u8::FINGERPRINT, 3));
    /// ```
    pub const fn of_array(element: Fingerprint, len: usize) -> Self {
        let s = fnv_str(FNV_OFFSET, "array");
        let s = fnv_u64(s, element.0);
        Fingerprint(avalanche(fnv_u64(s, len as u64)))
    }

    /// Starts the fingerprint of a composite type (a struct, an enum, or a
    /// type of this crate); `kind` names its kind and repr, e.g. `"struct repr(C)"`.
    ///
    /// ```
    /// use shm_runtime::{Fingerprint, SharedSafe};
    /// let fp = Fingerprint::composite("struct repr(C)")
    ///     .field("x", 0, u32::FINGERPRINT)
    ///     .field("y", 4, u32::FINGERPRINT)
    ///     .finish(8, 4);
    /// assert_ne!(fp, u64::FINGERPRINT);
    /// ```
    pub const fn composite(kind: &str) -> FingerprintBuilder {
        FingerprintBuilder(fnv_str(fnv_str(FNV_OFFSET, "composite"), kind))
    }

    /// The raw 64-bit value, as stored in segment headers.
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

/// Accumulates the parts of a composite type's fingerprint; made by
/// [`Fingerprint::composite`], usable in `const` context.
///
/// ```
/// use shm_runtime::{Fingerprint, SharedSafe};
/// let a = Fingerprint::composite("struct repr(C)").field("a", 0, u8::FINGERPRINT).finish(1, 1);
/// let b = Fingerprint::composite("struct repr(C)").field("b", 0, u8::FINGERPRINT).finish(1, 1);
/// assert_ne!(a, b); // field names count
/// ```
#[derive(Clone, Copy, Debug)]
#[must_use = "call finish() to obtain the fingerprint"]
pub struct FingerprintBuilder(u64);

impl FingerprintBuilder {
    /// Adds a named field at `offset` bytes whose type has fingerprint `fp`.
    pub const fn field(self, name: &str, offset: usize, fp: Fingerprint) -> Self {
        let s = fnv_str(self.0, name);
        let s = fnv_u64(s, offset as u64);
        FingerprintBuilder(fnv_u64(s, fp.0))
    }

    /// Adds a free-form tag (a variant name, a capacity, a discriminant).
    pub const fn tag(self, tag: &str, value: u64) -> Self {
        FingerprintBuilder(fnv_u64(fnv_str(self.0, tag), value))
    }

    /// Ends the fingerprint with the type's total size and alignment.
    pub const fn finish(self, size: usize, align: usize) -> Fingerprint {
        let s = fnv_u64(fnv_str(self.0, "end"), size as u64);
        Fingerprint(avalanche(fnv_u64(s, align as u64)))
    }
}
