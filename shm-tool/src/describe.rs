//! What the tool says of an object: its name, state and type, for the
//! table and for JSON.

use crate::text::escape;
use shm_runtime::segment::inspect::{
    Contents, CreatorStatus, Foreign, Location, SegmentInfo, State,
};
use std::os::unix::ffi::OsStrExt;

/// The object's name as bytes: the POSIX name or path as the system has it
/// (any bytes), `sysv:0xKEY` or `sysv-id:N`.
pub fn name_bytes(location: &Location) -> Vec<u8> {
    match location {
        Location::Posix(name) => name.as_bytes().to_vec(),
        Location::File(path) => path.as_os_str().as_bytes().to_vec(),
        other => other.to_string().into_bytes(),
    }
}

/// The name for a terminal (see [`escape`]).
pub fn display_name(location: &Location) -> String {
    escape(&name_bytes(location))
}

/// `posix`, `sysv` or `file`.
pub fn kind(location: &Location) -> &'static str {
    match location {
        Location::Posix(_) => "posix",
        Location::File(_) => "file",
        Location::SysV { .. } => "sysv",
        _ => "unknown",
    }
}

/// The state as a stable machine value: `ready`, `initializing`,
/// `creator_dead`, `abandoned`, `uninitialized`, `foreign`, `unreadable`,
/// `creation_lock`, `stale_creation_lock`.
pub fn state_id(info: &SegmentInfo) -> &'static str {
    match &info.contents {
        Contents::Segment(h) => match (h.state, h.creator) {
            (State::Initializing, CreatorStatus::Dead) => "creator_dead",
            (State::Initializing, _) => "initializing",
            (State::Ready, _) => "ready",
            (State::Abandoned, _) => "abandoned",
            (State::Uninitialized, _) => "uninitialized",
            _ => "unknown",
        },
        Contents::Foreign(_) => "foreign",
        Contents::Unreadable(_) => "unreadable",
        Contents::CreationLock { held: true } => "creation_lock",
        Contents::CreationLock { held: false } => "stale_creation_lock",
        _ => "unknown",
    }
}

/// The state in words, as the table shows it: `ready`, `creator dead`,
/// `foreign (empty)`, `ready (damaged)`...
pub fn state_text(info: &SegmentInfo) -> String {
    match &info.contents {
        Contents::Segment(h) => {
            let base = match (h.state, h.creator) {
                (State::Initializing, CreatorStatus::Dead) => "creator dead".to_owned(),
                (state, _) => state.to_string(),
            };
            match info.problem() {
                Some(_) => format!("{base} (damaged)"),
                None => base,
            }
        }
        Contents::Foreign(why) => format!("foreign ({why})"),
        Contents::Unreadable(_) => "unreadable".to_owned(),
        Contents::CreationLock { held: true } => "creation lock (held)".to_owned(),
        Contents::CreationLock { held: false } => "creation lock (creator dead)".to_owned(),
        _ => "unknown".to_owned(),
    }
}

/// Why an object is foreign, as a stable machine value.
pub fn foreign_reason(why: &Foreign) -> &'static str {
    match why {
        Foreign::Empty => "empty",
        Foreign::TooShort => "too_short",
        Foreign::NotRegularFile => "not_regular_file",
        Foreign::Zeroed => "zeroed",
        Foreign::NoHeader => "no_header",
        Foreign::OtherEndian => "other_endian",
        Foreign::NewerFormat(_) => "newer_format",
        _ => "other",
    }
}

/// `T` or `[T]`, escaped (a header's type name is bytes another process
/// wrote), or `-`.
pub fn type_text(info: &SegmentInfo) -> String {
    info.header()
        .and_then(|h| h.payload.as_ref())
        .map_or("-".into(), |p| escape(p.type_description().as_bytes()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn names_keep_their_bytes_and_print_escaped() {
        let loc = Location::Posix(OsStr::from_bytes(b"/a\nb\xff").into());
        assert_eq!(name_bytes(&loc), b"/a\nb\xff");
        assert_eq!(display_name(&loc), "/a\\nb\\xff");
        assert_eq!(kind(&loc), "posix");
    }
}
