//! [`Snapshot`]: every field of a header decoded from a copy of its bytes,
//! the description block read and checked, and the checks of an open
//! against the requested type.

use super::creator::{creator_liveness, creator_status, Creator};
use super::format::{
    checksum, desc_offset_after, Header, BIG_ENDIAN, FLAG_LINKED, FLAG_TIED, HEADER_SIZE,
    KIND_SLICE, KIND_VALUE, LITTLE_ENDIAN, MAGIC, NATIVE_ENDIAN, TYPE_NAME_BYTES,
};
use super::layout::Layout;
use super::state::{classify, Poll};
use crate::error::{Error, ErrorKind, Result};
use crate::layout::describe::{self, Description};
use crate::Fingerprint;
use std::mem::{offset_of, size_of};

/// Where the header's bytes come from, for the reads made after the state
/// prefix (the description block): `pread` of a descriptor or loads from a
/// System V attachment, never a mapping that a truncation turns into
/// `SIGBUS`. Implemented by the segment reader, which sits above this file.
pub(crate) trait ReadAt {
    /// Reads up to `buf.len()` bytes at `offset`; fewer at the end of the
    /// object.
    fn read_at(&self, offset: u64, buf: &mut [u8]) -> Result<usize>;
}

/// Every field of a header, decoded from a copy of its bytes (for
/// inspection tools: nothing here is checked against a type).
#[derive(Clone, Debug)]
pub(crate) struct Snapshot {
    pub(crate) poll: Poll,
    pub(crate) magic_written: bool,
    pub(crate) version: u32,
    pub(crate) state_word: u64,
    pub(crate) fingerprint: u64,
    pub(crate) type_size: u64,
    pub(crate) type_align: u64,
    pub(crate) payload_offset: u64,
    pub(crate) payload_len: u64,
    pub(crate) payload_bytes: u64,
    pub(crate) slice: bool,
    pub(crate) pointer_width: u8,
    /// `Some(true)` little endian, `Some(false)` big endian, `None` unknown.
    pub(crate) little_endian: Option<bool>,
    /// The type name's bytes as stored (see [`type_name`](Self::type_name)).
    type_name_bytes: [u8; TYPE_NAME_BYTES],
    type_name_len: usize,
    pub(crate) creator_pid_ns: u64,
    /// The creator's process start time (0: unknown; format 3).
    pub(crate) creator_start: u64,
    /// The namespaces that start time is relative to (0: unknown).
    pub(crate) creator_ns_key: u64,
    /// The flags word ([`FLAG_TIED`]).
    pub(crate) flags: u32,
    /// The description block's length (0: none; format 4).
    pub(crate) desc_len: u32,
    /// Where it starts (0: none).
    pub(crate) desc_offset: u64,
    /// Its FNV-1a 64 checksum.
    pub(crate) desc_checksum: u64,
}

impl Snapshot {
    /// The creator's name of the payload type, as stored (any invalid
    /// UTF-8 replaced): decoded only when a message or a listing needs it.
    pub(crate) fn type_name(&self) -> std::borrow::Cow<'_, str> {
        String::from_utf8_lossy(&self.type_name_bytes[..self.type_name_len])
    }

    /// Decodes a copy of the first [`HEADER_SIZE`] bytes of an object, in
    /// this machine's byte order.
    pub(crate) fn decode(bytes: &[u8; HEADER_SIZE]) -> Snapshot {
        fn at<const N: usize>(bytes: &[u8; HEADER_SIZE], offset: usize) -> [u8; N] {
            bytes[offset..offset + N].try_into().expect("N bytes")
        }
        let u64_at = |o| u64::from_ne_bytes(at(bytes, o));
        let u32_at = |o| u32::from_ne_bytes(at(bytes, o));
        let magic = u64_at(offset_of!(Header, magic));
        let word = u64_at(offset_of!(Header, state));
        let version = u32_at(offset_of!(Header, version));
        let header_size = u32_at(offset_of!(Header, header_size));
        let name_len = (u16::from_ne_bytes(at(bytes, offset_of!(Header, type_name_len))) as usize)
            .min(TYPE_NAME_BYTES);
        let name_at = offset_of!(Header, type_name);
        Snapshot {
            poll: classify(magic, word, || version, || header_size),
            magic_written: magic == MAGIC,
            version,
            state_word: word,
            fingerprint: u64_at(offset_of!(Header, fingerprint)),
            type_size: u64_at(offset_of!(Header, type_size)),
            type_align: u64_at(offset_of!(Header, type_align)),
            payload_offset: u64_at(offset_of!(Header, payload_offset)),
            payload_len: u64_at(offset_of!(Header, payload_len)),
            payload_bytes: u64_at(offset_of!(Header, payload_bytes)),
            slice: u32_at(offset_of!(Header, payload_kind)) == KIND_SLICE,
            pointer_width: bytes[offset_of!(Header, pointer_width)],
            little_endian: match bytes[offset_of!(Header, endian)] {
                LITTLE_ENDIAN => Some(true),
                BIG_ENDIAN => Some(false),
                _ => None,
            },
            type_name_bytes: at(bytes, name_at),
            type_name_len: name_len,
            creator_pid_ns: u64_at(offset_of!(Header, creator_pid_ns)),
            creator_start: u64_at(offset_of!(Header, creator_start)),
            creator_ns_key: u64_at(offset_of!(Header, creator_ns_key)),
            flags: u32_at(offset_of!(Header, flags)),
            desc_len: u32_at(offset_of!(Header, desc_len)),
            desc_offset: u64_at(offset_of!(Header, desc_offset)),
            desc_checksum: u64_at(offset_of!(Header, desc_checksum)),
        }
    }

    /// Where the description block lies, checked against the header's
    /// payload fields and the object's size: `Ok(None)` when the segment
    /// stores none; [`NotASegment`](ErrorKind::NotASegment) for fields that
    /// contradict each other, [`TooShort`](ErrorKind::TooShort) when the
    /// object ends before the block does.
    pub(crate) fn desc_block(
        &self,
        object_size: u64,
        what: &(impl std::fmt::Display + ?Sized),
    ) -> Result<Option<(u64, usize)>> {
        let corrupt = |why: &str| {
            Error::new(
                ErrorKind::NotASegment,
                format!("{what} has a corrupt header ({why})"),
            )
        };
        if self.desc_len == 0 {
            if self.desc_offset != 0 {
                return Err(corrupt(
                    "a layout description of 0 bytes at a nonzero offset",
                ));
            }
            return Ok(None);
        }
        let len = self.desc_len as usize;
        if len > describe::MAX_LEN {
            return Err(corrupt(&format!(
                "a layout description of {len} bytes, more than the {} a description may have",
                describe::MAX_LEN
            )));
        }
        let expected = self
            .payload_offset
            .checked_add(self.payload_bytes)
            .filter(|end| *end >= HEADER_SIZE as u64)
            .and_then(desc_offset_after);
        if expected != Some(self.desc_offset) {
            return Err(corrupt(&format!(
                "its layout description is at offset {}, not right after its payload",
                self.desc_offset
            )));
        }
        let Some(end) = self.desc_offset.checked_add(len as u64) else {
            return Err(corrupt(
                "its layout description ends past any object's size",
            ));
        };
        if end > object_size {
            return Err(Error::new(
                ErrorKind::TooShort,
                format!(
                    "{what} is {object_size} bytes long but its layout description ends at byte \
                     {end}: it was truncated"
                ),
            ));
        }
        Ok(Some((self.desc_offset, len)))
    }

    /// The stored description block's bytes, read with `reader` (never
    /// through a mapping a truncation could turn into `SIGBUS`) after
    /// [`desc_block`](Self::desc_block)'s checks, and checked against the
    /// header's checksum; `Ok(None)` when the segment stores none. The bytes
    /// are not decoded.
    pub(crate) fn read_description(
        &self,
        reader: &impl ReadAt,
        object_size: u64,
        what: &(impl std::fmt::Display + ?Sized),
    ) -> Result<Option<Vec<u8>>> {
        let Some((at, len)) = self.desc_block(object_size, what)? else {
            return Ok(None);
        };
        let mut bytes = vec![0u8; len];
        if reader.read_at(at, &mut bytes)? < len {
            return Err(Error::new(
                ErrorKind::TooShort,
                format!("{what} was truncated while its layout description was read"),
            ));
        }
        if checksum(&bytes) != self.desc_checksum {
            return Err(Error::new(
                ErrorKind::NotASegment,
                format!(
                    "{what} has a corrupt layout description (its checksum does not match the \
                     header's)"
                ),
            ));
        }
        Ok(Some(bytes))
    }

    /// The stored description, read and decoded (see
    /// [`read_description`](Self::read_description)), or why it cannot be.
    pub(crate) fn description(
        &self,
        reader: &impl ReadAt,
        object_size: u64,
        what: &(impl std::fmt::Display + ?Sized),
    ) -> Result<Description> {
        let Some(bytes) = self.read_description(reader, object_size, what)? else {
            return Err(Error::new(
                ErrorKind::Unsupported,
                format!(
                    "{what} stores no layout description (its type was beyond the format's limits)"
                ),
            ));
        };
        decode(&bytes, what)
    }

    /// The message of a wrong-type open: the first difference between the
    /// stored description and `layout`'s, or (when the stored description
    /// cannot be read, decoded or compared) the fingerprints, sizes and the
    /// reason.
    fn wrong_type_message(
        &self,
        layout: &Layout,
        reader: &impl ReadAt,
        object_size: u64,
        what: &(impl std::fmt::Display + ?Sized),
        held: &(impl std::fmt::Display + ?Sized),
    ) -> String {
        let hint = "open it with the type it was created with, or remove it and create it anew";
        let compared = self
            .read_description(reader, object_size, what)
            .and_then(|bytes| bytes.map(|b| decode(&b, what)).transpose())
            .map_err(|e| format!("its layout description cannot be read: {e}"))
            .and_then(|stored| {
                let stored = stored.ok_or("it stores no layout description")?;
                if stored.fingerprint() != Some(Fingerprint::from_u64(self.fingerprint)) {
                    return Err("its layout description does not match its fingerprint".to_owned());
                }
                let ours = Description::of(layout.type_layout)
                    .map_err(|e| format!("this program's type cannot be described: {e}"))?;
                match stored.first_difference(&ours) {
                    Some(diff) => Ok((stored.type_name(stored.root()), diff.to_string())),
                    None => Err("its layout description is this program's type's".to_owned()),
                }
            });
        match compared {
            Ok((name, diff)) => {
                let held = if self.slice {
                    format!("`[{name}]` ({} elements)", self.payload_len)
                } else {
                    format!("`{name}`")
                };
                let joined = if diff.starts_with("field ") || diff.starts_with("variant ") {
                    format!("whose {diff}")
                } else {
                    format!("but {diff}")
                };
                format!("{what} holds {held} {joined} ({hint})")
            }
            Err(why) => format!(
                "{what} holds {held} (fingerprint {}, {} bytes, align {}) but {} (fingerprint {}, \
                 {} bytes, align {}) was requested ({why}): {hint}",
                Fingerprint::from_u64(self.fingerprint),
                self.type_size,
                self.type_align,
                layout.requested(),
                layout.fingerprint,
                layout.size,
                layout.align,
            ),
        }
    }

    /// Whether the process of the state word's pid (the creator, the last
    /// reclaimer, or the replacer of a retired segment) is alive: judged by
    /// pid, PID namespace and start time where the record is that pid's own
    /// (states "initializing" and "ready"), by the pid's existence alone
    /// otherwise (a record left by another process is never compared with
    /// this pid).
    pub(crate) fn creator(&self) -> Creator {
        match self.poll {
            Poll::Ready | Poll::Initializing { recorded: true, .. } => creator_liveness(
                self.creator_pid(),
                self.creator_pid_ns,
                self.creator_start,
                self.creator_ns_key,
            ),
            _ => creator_status(self.creator_pid(), self.creator_pid_ns),
        }
    }

    /// Whether the segment was made with `remove_on_drop`: its lifetime is
    /// its creator's.
    pub(crate) fn tied_to_creator(&self) -> bool {
        self.flags & FLAG_TIED != 0
    }

    /// Whether the segment was published by link ([`FLAG_LINKED`]) and is
    /// ready: then a single read of the whole header is consistent.
    pub(crate) fn ready_by_link(&self) -> bool {
        matches!(self.poll, Poll::Ready) && self.flags & FLAG_LINKED != 0
    }

    /// The creator pid of the state word (0 when none was recorded).
    pub(crate) fn creator_pid(&self) -> u32 {
        self.state_word as u32
    }

    /// Checks a ready header against the requested `layout` and the object's
    /// size in bytes; returns the payload's offset and element count. A
    /// byte-order or pointer-width byte that describes no platform is a
    /// corrupt header ([`NotASegment`](ErrorKind::NotASegment)); only valid
    /// values describe another platform
    /// ([`Incompatible`](ErrorKind::Incompatible)).
    ///
    /// A wrong type's error names the first difference, read from the
    /// stored description with `reader` (only then is the description
    /// read).
    pub(crate) fn validate(
        &self,
        layout: &Layout,
        object_size: usize,
        what: &(impl std::fmt::Display + ?Sized),
        reader: &impl ReadAt,
    ) -> Result<(usize, usize)> {
        let (fingerprint, size, align, offset, len, bytes, width) = (
            self.fingerprint,
            self.type_size,
            self.type_align,
            self.payload_offset,
            self.payload_len,
            self.payload_bytes,
            self.pointer_width,
        );
        let kind = if self.slice { KIND_SLICE } else { KIND_VALUE };
        let name = self.type_name();
        let Some(little) = self.little_endian else {
            return Err(Error::new(
                ErrorKind::NotASegment,
                format!("{what} has a corrupt header (its byte-order field is no byte order)"),
            ));
        };
        if !matches!(width, 2 | 4 | 8 | 16) {
            return Err(Error::new(
                ErrorKind::NotASegment,
                format!("{what} has a corrupt header (a pointer width of {width} bytes)"),
            ));
        }
        let endian = if little { LITTLE_ENDIAN } else { BIG_ENDIAN };
        if endian != NATIVE_ENDIAN || width as usize != size_of::<usize>() {
            return Err(Error::new(
                ErrorKind::Incompatible,
                format!(
                    "{what} was made on a {}-bit {} machine, this is a {}-bit {} one: \
                     share it only between programs built for the same platform",
                    u32::from(width) * 8,
                    if endian == LITTLE_ENDIAN {
                        "little-endian"
                    } else {
                        "big-endian"
                    },
                    usize::BITS,
                    if NATIVE_ENDIAN == LITTLE_ENDIAN {
                        "little-endian"
                    } else {
                        "big-endian"
                    },
                ),
            ));
        }
        // How messages name what it holds: written only into a message.
        let held = Held {
            slice: kind == KIND_SLICE,
            name: &name,
            len,
        };
        let same_type = fingerprint == layout.fingerprint.as_u64()
            && size == layout.size as u64
            && align == layout.align as u64;
        if same_type && kind != layout.kind {
            let (holds, open_with) = if kind == KIND_SLICE {
                (format!("a slice {held}"), "`open::<[T]>()`")
            } else {
                (format!("one {held}, not a slice"), "`open::<T>()`")
            };
            return Err(Error::new(
                ErrorKind::WrongType,
                format!("{what} holds {holds}: open it with {open_with}"),
            ));
        }
        if !same_type || kind != layout.kind {
            return Err(Error::new(
                ErrorKind::WrongType,
                self.wrong_type_message(layout, reader, object_size as u64, what, &held),
            ));
        }
        let end = size
            .checked_mul(len)
            .filter(|b| *b == bytes)
            .and_then(|b| b.checked_add(offset));
        let Some(end) = end.filter(|_| offset as usize == layout.payload_offset()) else {
            return Err(Error::new(
                ErrorKind::NotASegment,
                format!("{what} has an inconsistent header (payload of {held}): it is corrupt"),
            ));
        };
        // The description block, checked by its fields alone (never read
        // here): the object must hold it.
        // (The object's size is compared below, with the payload's.)
        let end = match self.desc_block(u64::MAX, what)? {
            Some((at, desc_len)) => at + desc_len as u64,
            None => end,
        };
        if kind == KIND_VALUE && len != 1 {
            return Err(Error::new(
                ErrorKind::NotASegment,
                format!(
                    "{what} has an inconsistent header ({len} values of {held}): it is corrupt"
                ),
            ));
        }
        if end > object_size as u64 {
            return Err(Error::new(
                ErrorKind::TooShort,
                format!(
                    "{what} is {object_size} bytes long but its header describes {end} bytes \
                     ({held}): it was truncated; remove it and create it anew"
                ),
            ));
        }
        Ok((offset as usize, len as usize))
    }
}

/// Decodes a stored description's bytes: its errors name the segment.
fn decode(bytes: &[u8], what: &(impl std::fmt::Display + ?Sized)) -> Result<Description> {
    Description::decode(bytes).map_err(|e| {
        let kind = Error::from(e.clone()).kind();
        Error::new(
            kind,
            format!("{what} has an unreadable layout description: {e}"),
        )
    })
}

/// How messages name what a segment holds (`` `[u64]` (8 elements) ``,
/// `` `Stats` ``): written only when a message is made.
struct Held<'a> {
    slice: bool,
    name: &'a str,
    len: u64,
}

impl std::fmt::Display for Held<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let Held { slice, name, len } = self;
        if *slice {
            write!(f, "`[{name}]` ({len} elements)")
        } else {
            write!(f, "`{name}`")
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::mem::offset_of;

    /// A snapshot of a header whose payload ends at `payload_end` and whose
    /// description block fields say `(desc_offset, desc_len)`.
    fn with_block(payload_end: u64, desc_offset: u64, desc_len: u32) -> Snapshot {
        let mut bytes = [0u8; HEADER_SIZE];
        let mut put = |at: usize, field: &[u8]| bytes[at..at + field.len()].copy_from_slice(field);
        put(offset_of!(Header, payload_offset), &256u64.to_ne_bytes());
        put(
            offset_of!(Header, payload_bytes),
            &(payload_end - 256).to_ne_bytes(),
        );
        put(offset_of!(Header, desc_offset), &desc_offset.to_ne_bytes());
        put(offset_of!(Header, desc_len), &desc_len.to_ne_bytes());
        Snapshot::decode(&bytes)
    }

    /// The behaviour: the description block's fields are checked against
    /// the payload's and the object's size, with no overflow for hostile
    /// values: right after the payload (8-aligned), at most `MAX_LEN`
    /// bytes, inside the object; none stored is `(0, 0)` only.
    #[test]
    fn description_blocks_are_bounded() {
        let kind =
            |s: Snapshot, size: u64| s.desc_block(size, "segment `/t`").map_err(|e| e.kind());
        assert_eq!(kind(with_block(300, 304, 40), 344), Ok(Some((304, 40))));
        assert_eq!(kind(with_block(300, 0, 0), 300), Ok(None));
        assert_eq!(
            kind(with_block(300, 304, 40), 343),
            Err(ErrorKind::TooShort)
        );
        for (end, at, len) in [
            (300, 300, 40),                     // not 8-aligned
            (300, 312, 40),                     // not right after the payload
            (300, 8, 40),                       // inside the header
            (300, 304, 0),                      // no block at an offset
            (300, 304, u32::MAX),               // beyond MAX_LEN
            (u64::MAX - 10, u64::MAX - 7, 100), // ends past u64::MAX
            (u64::MAX - 3, 0, 1),               // the payload end does not round up
        ] {
            assert_eq!(
                kind(with_block(end, at, len), u64::MAX),
                Err(ErrorKind::NotASegment),
                "{end} {at} {len}"
            );
        }
    }
}
