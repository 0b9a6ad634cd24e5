//! The header at offset 0 of every named, file and System V segment.
//!
//! ```text
//! offset size field
//!      0    8 magic            b"SHMRTSEG" read as a native u64 (atomic)
//!      8    4 format version   FORMAT_VERSION (atomic); see the table below
//!     12    4 header size      256 (atomic)
//!     16    8 state word       (state << 32) | creator pid (atomic)
//!                              state: 0 uninitialized, 1 initializing,
//!                                     2 ready, 3 abandoned, 4 retired
//!                                     (being replaced, since format 3),
//!                                     5 claimed (its claimer not yet
//!                                     recorded at 192..220, since
//!                                     format 3)
//!     24    8 fingerprint      the payload type's layout fingerprint
//!     32    8 type size        size_of::<T>()
//!     40    8 type align       align_of::<T>()
//!     48    8 payload offset   max(256, align_of::<T>())
//!     56    8 payload length   element count (1 for a single value)
//!     64    8 payload bytes    type size * payload length
//!     72    4 payload kind     1 single value, 2 slice
//!     76    1 pointer width    size_of::<usize>()
//!     77    1 byte order       1 little endian, 2 big endian
//!     78    2 type name length bytes used in the next field
//!     80  112 type name        std::any::type_name::<T>(), truncated
//!    192    8 creator pid ns   inode of the creator's PID namespace, 0 while
//!                              unknown (atomic)
//!    200    8 creator start    the creator's process start time, in clock
//!                              ticks since boot folded into 32 bits, 0 when
//!                              unknown (atomic; since format 3)
//!    208    8 creator ns key   the creator's PID and time namespaces, to
//!                              which that start time is relative, 0 when
//!                              unknown (atomic; since format 3)
//!    216    4 flags            bit 0: the segment's lifetime is tied to its
//!                              creator (made with `remove_on_drop`), so it is
//!                              stale once the creator is dead (atomic; since
//!                              format 3); bit 1: published by link (the
//!                              header was complete and "ready" before the
//!                              segment had its name, so one read of the
//!                              whole header is consistent; since format 4)
//!    220    4 description len  bytes of the layout description block, 0 when
//!                              the segment stores none (since format 4)
//!    224    8 description off  where the block starts, in bytes from the
//!                              start of the object: 0 when there is none,
//!                              else round_up(payload offset + payload bytes,
//!                              8) (since format 4)
//!    232    8 description sum  FNV-1a 64 of the block's bytes (since
//!                              format 4)
//!    240   16 reserved         zero
//! ```
//!
//! All fields are in the creator's byte order (field 77; readers refuse the
//! other one) and at their natural alignment.
//!
//! # The layout description block (format 4)
//!
//! A segment stores the [layout description](crate::layout::describe) of
//! its payload type (the element type of a slice) after the payload:
//!
//! ```text
//! 0                256 (or align)          payload end  desc off        desc off + desc len
//! | header          | payload              | 0..7 zero  | description   |
//! ```
//!
//! - The payload offset is header field 48, as in every format:
//!   `max(256, type align)`. The payload is `payload bytes` (field 64) long.
//! - The description starts at `round_up(payload offset + payload bytes, 8)`
//!   (field 224) and is `description len` (field 220) bytes long, at most
//!   [`MAX_LEN`](crate::layout::describe::MAX_LEN) (1 MiB). The object is at
//!   least `description off + description len` bytes long; the bytes between
//!   the payload's end and the description are zero.
//! - Its checksum (field 232) is FNV-1a 64 over exactly its bytes:
//!   start from `0xcbf29ce484222325`; for each byte, `h ^= byte; h =
//!   h * 0x100000001b3 (mod 2^64)`.
//! - Its bytes follow the description format of
//!   [`describe`](crate::layout::describe#the-format-version-1) (little-endian
//!   whatever the header's byte order), and are untrusted: a reader checks
//!   `description off == round_up(payload offset + payload bytes, 8)`,
//!   `description len <= 1 MiB`, that the object holds the block, and the
//!   checksum, before decoding it with every bound checked.
//! - `description len == 0` (and `description off == 0`): no description
//!   is stored (its creator's type was beyond the format's
//!   [limits](crate::layout::describe#limits)).
//!
//! The description is written with the other fields, before "ready"; like
//! them it is final once the state word says "ready". Opening a segment
//! reads it only when the fingerprint differs (to say what differs): the
//! common open never reads or decodes it.
//!
//! The magic, version, header size and state word are atomics: openers read
//! them while the creator may still be writing.
//!
//! The creator's record (PID namespace, start time, namespace key, flags at
//! 192..220) belongs to the pid of the state word only in the states
//! "initializing" and "ready": a claimer (of a fresh header, or reclaiming
//! one whose creator died or gave up) compare-exchanges the state word to
//! "claimed" with its pid, writes its record, and only then moves "claimed"
//! to "initializing" (a release compare-exchange), so that a reader never
//! judges a pid by the start time of another process (the previous,
//! possibly dead, creator whose record is still there). In "claimed",
//! "abandoned" and "retired" the state word's pid is judged by its existence
//! alone (a retired segment's record is still its dead creator's, not its
//! replacer's). Every other field is written
//! by the creator between claiming the state word (uninitialized ->
//! initializing, a compare-exchange) and publishing "ready" (a release
//! store), and read by openers only after an acquire load saw "ready". The
//! header is therefore only ever accessed through raw pointers, never through
//! a `&Header` that would claim the non-atomic fields are not being written.
//!
//! # Format versions
//!
//! A segment of another version is refused with
//! [`UnsupportedVersion`](crate::ErrorKind::UnsupportedVersion) (never
//! `WrongType` or `NotASegment`): older ones ask to be recreated, newer ones
//! for an upgrade.
//!
//! | version | changes | written by |
//! |---|---|---|
//! | 1 | the first format | shm-runtime 0.1 until the soundness rework |
//! | 2 | same header fields; the fingerprint is computed from the type's layout description ([`crate::layout`]): 128-bit enum discriminants are hashed whole, library types by their protocol; payloads are checked for valid values at open | shm-runtime 0.1 since the soundness rework |
//! | 3 | the creator's process start time and namespace key (offsets 200, 208) and the flags word (216, bit 0: tied to its creator) in what were reserved bytes, so that a segment left behind by a dead creator is told from one whose creator's pid was reused ([`Segment::replace_stale`](super::Segment::replace_stale)); the states 4 retired and 5 claimed | shm-runtime 0.1 since stale segments are replaced |
//! | 4 | the layout description block after the payload, located by the fields at 220 (length), 224 (offset) and 232 (checksum) in what were reserved bytes ([above](#the-layout-description-block-format-4)); a wrong-type open names the first difference; bit 1 of the flags (published by link), which lets an opener read the header in one `pread` | shm-runtime 0.1 since segments describe their type |

mod creator;
mod format;
mod layout;
mod ptr;
mod snapshot;
mod state;

#[cfg(doc)]
pub(crate) use creator::creator_liveness;
pub(crate) use creator::{creator_status, Creator};
#[cfg(test)]
pub(crate) use format::checksum;
pub(crate) use format::{FORMAT_VERSION, HEADER_SIZE, MAGIC, STATE_PREFIX};
pub(crate) use layout::Layout;
pub(crate) use ptr::HeaderPtr;
pub(crate) use snapshot::{ReadAt, Snapshot};
pub(crate) use state::{older_format_differs, Poll};
