//! [`Poll`]: the state of a segment as its magic and state word tell it,
//! and what an older format lacks.

use super::format::{
    FORMAT_VERSION, HEADER_SIZE, MAGIC, STATE_ABANDONED, STATE_CLAIMED, STATE_INITIALIZING,
    STATE_READY, STATE_RETIRED, STATE_UNINIT,
};

/// The state of a segment as one load of its header sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Poll {
    /// All zero: the creator has not claimed it yet.
    Uninit,
    /// The creator `pid` is writing it; `word` is the state word seen.
    /// `recorded`: the creator's record (start time, namespaces) is its own
    /// (state "initializing"); `false` while it has only claimed the header
    /// (state "claimed"), when the record may still be a previous
    /// creator's.
    Initializing { pid: u32, word: u64, recorded: bool },
    /// Published: every field and the payload may be read.
    Ready,
    /// The creator `pid` gave up (its initializer panicked or failed).
    Abandoned { pid: u32, word: u64 },
    /// A ready segment whose creator died, being replaced by `pid`, which
    /// is about to remove its name: never initialized again in place
    /// (processes that mapped it may still hold references to it).
    Retired { pid: u32, word: u64 },
    /// Not a header of this library.
    Garbage,
    /// A header of a newer format version.
    Newer(u32),
    /// A ready header of an older format version, which this version no
    /// longer reads (its fingerprints were computed another way).
    Older(u32),
    /// A header written with the other byte order.
    OtherEndian,
}

/// What an older header format lacks, for the message that refuses it.
pub(crate) fn older_format_differs(version: u32) -> &'static str {
    match version {
        1 => "its type fingerprints are computed differently",
        2 => "it records no creator start time, and it stores no layout description",
        _ => "it stores no layout description of its type",
    }
}

/// The state of a header from its magic and state word; `version` and
/// `header_size` are read only when the magic says the creator wrote them.
pub(super) fn classify(
    magic: u64,
    word: u64,
    version: impl Fn() -> u32,
    header_size: impl Fn() -> u32,
) -> Poll {
    let (state, pid) = (word >> 32, word as u32);
    if magic == MAGIC.swap_bytes() {
        return Poll::OtherEndian;
    }
    if magic != 0 && magic != MAGIC {
        return Poll::Garbage;
    }
    if magic == MAGIC {
        let version = version();
        if version > FORMAT_VERSION {
            return Poll::Newer(version);
        }
    }
    match state {
        STATE_UNINIT if word == 0 => Poll::Uninit,
        STATE_INITIALIZING if pid != 0 => Poll::Initializing {
            pid,
            word,
            recorded: true,
        },
        STATE_CLAIMED if pid != 0 => Poll::Initializing {
            pid,
            word,
            recorded: false,
        },
        STATE_READY if magic == MAGIC => {
            let version = version();
            if (1..FORMAT_VERSION).contains(&version) {
                Poll::Older(version)
            } else if version != FORMAT_VERSION || (header_size() as usize) < HEADER_SIZE {
                Poll::Garbage
            } else {
                Poll::Ready
            }
        }
        STATE_ABANDONED if pid != 0 => Poll::Abandoned { pid, word },
        STATE_RETIRED if pid != 0 && magic == MAGIC => Poll::Retired { pid, word },
        _ => Poll::Garbage,
    }
}
