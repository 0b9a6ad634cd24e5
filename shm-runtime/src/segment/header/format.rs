//! The header's bytes: its fields and their offsets, the constants of the
//! format (magic, version, states, kinds, flags), and the description
//! block's checksum and placement.

use std::mem::{align_of, offset_of, size_of};
use std::sync::atomic::{AtomicU32, AtomicU64};

/// `b"SHMRTSEG"` as a native-endian word: a segment made on a machine of the
/// other byte order reads as its byte swap.
pub(crate) const MAGIC: u64 = u64::from_le_bytes(*b"SHMRTSEG");
/// The header format this version writes and reads.
pub(crate) const FORMAT_VERSION: u32 = 4;
/// The size of the header in bytes; payloads start at or after it.
pub(crate) const HEADER_SIZE: usize = 256;
pub(super) const TYPE_NAME_BYTES: usize = 112;

pub(super) const STATE_UNINIT: u64 = 0;
pub(super) const STATE_INITIALIZING: u64 = 1;
pub(super) const STATE_READY: u64 = 2;
pub(super) const STATE_ABANDONED: u64 = 3;
pub(super) const STATE_RETIRED: u64 = 4;
pub(super) const STATE_CLAIMED: u64 = 5;

pub(crate) const KIND_VALUE: u32 = 1;
pub(crate) const KIND_SLICE: u32 = 2;

pub(super) const LITTLE_ENDIAN: u8 = 1;
pub(super) const BIG_ENDIAN: u8 = 2;
pub(super) const NATIVE_ENDIAN: u8 = if cfg!(target_endian = "little") {
    LITTLE_ENDIAN
} else {
    BIG_ENDIAN
};

#[repr(C)]
pub(super) struct Header {
    pub(super) magic: AtomicU64,
    pub(super) version: AtomicU32,
    pub(super) header_size: AtomicU32,
    pub(super) state: AtomicU64,
    pub(super) fingerprint: u64,
    pub(super) type_size: u64,
    pub(super) type_align: u64,
    pub(super) payload_offset: u64,
    pub(super) payload_len: u64,
    pub(super) payload_bytes: u64,
    pub(super) payload_kind: u32,
    pub(super) pointer_width: u8,
    pub(super) endian: u8,
    pub(super) type_name_len: u16,
    pub(super) type_name: [u8; TYPE_NAME_BYTES],
    pub(super) creator_pid_ns: AtomicU64,
    pub(super) creator_start: AtomicU64,
    pub(super) creator_ns_key: AtomicU64,
    pub(super) flags: AtomicU32,
    pub(super) desc_len: u32,
    pub(super) desc_offset: u64,
    pub(super) desc_checksum: u64,
    pub(super) reserved: [u8; 16],
}

const _: () = {
    assert!(size_of::<Header>() == HEADER_SIZE);
    assert!(align_of::<Header>() <= 8);
    assert!(offset_of!(Header, state) == 16);
    assert!(offset_of!(Header, payload_kind) == 72);
    assert!(offset_of!(Header, type_name) == 80);
    assert!(offset_of!(Header, creator_pid_ns) == 192);
    assert!(offset_of!(Header, creator_start) == 200);
    assert!(offset_of!(Header, creator_ns_key) == 208);
    assert!(offset_of!(Header, flags) == 216);
    assert!(offset_of!(Header, desc_len) == 220);
    assert!(offset_of!(Header, desc_offset) == 224);
    assert!(offset_of!(Header, desc_checksum) == 232);
    assert!(offset_of!(Header, reserved) == 240);
};

/// The checksum of a description block: FNV-1a 64.
pub(crate) fn checksum(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ u64::from(*b)).wrapping_mul(0x0000_0100_0000_01b3)
    })
}

/// Where a description block of `desc_len` bytes starts after a payload
/// ending at `payload_end`; `None` on overflow.
pub(super) fn desc_offset_after(payload_end: u64) -> Option<u64> {
    payload_end.checked_add(7).map(|e| e & !7)
}

/// Flag bit: the segment's lifetime is tied to its creator's (it was made
/// with `remove_on_drop`).
pub(crate) const FLAG_TIED: u32 = 1;
/// Flag bit: the segment was published by link (made without a name,
/// marked "ready", then linked under its name), so every header field was
/// written before any opener could find it: an opener may read the whole
/// header in one `pread` instead of the state word, a fence, then the rest.
pub(crate) const FLAG_LINKED: u32 = 2;

/// The bytes of the header up to and including the state word: a reader
/// copies these first, then (after an acquire fence) the rest, so that a
/// state word that says "ready" guarantees the fields read after it.
pub(crate) const STATE_PREFIX: usize = offset_of!(Header, state) + size_of::<u64>();

/// The largest index `<= max` that is a char boundary of `s` (so a truncated
/// type name stays valid UTF-8).
pub(super) fn floor_char_boundary(s: &str, max: usize) -> usize {
    if s.len() <= max {
        return s.len();
    }
    (0..=max)
        .rev()
        .find(|i| s.is_char_boundary(*i))
        .unwrap_or(0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn magic_spells_the_library() {
        assert_eq!(&MAGIC.to_le_bytes(), b"SHMRTSEG");
    }

    /// The behaviour: the checksum is FNV-1a 64 (as the module documents
    /// for readers in other languages).
    #[test]
    fn the_checksum_is_fnv1a_64() {
        assert_eq!(checksum(b""), 0xcbf2_9ce4_8422_2325);
        assert_eq!(checksum(b"a"), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(checksum(b"foobar"), 0x8594_4171_f739_67e8);
    }

    #[test]
    fn truncated_names_stay_utf8() {
        let s = "ab\u{e9}";
        assert_eq!(floor_char_boundary(s, 3), 2);
        assert_eq!(floor_char_boundary(s, 10), 4);
    }
}
