//! The `--json` output (fields documented in the README).

use crate::describe::{foreign_reason, kind, name_bytes, state_id, state_text};
use crate::text::escape;
use crate::users::Users;
use serde::Serialize;
use shm_runtime::segment::inspect::{Contents, HeaderInfo, Location, PayloadInfo, SegmentInfo};
use std::time::SystemTime;

/// One object.
#[derive(Serialize)]
pub struct Info {
    /// The name: as it is when UTF-8, else escaped (`\xNN`) and then
    /// `name_bytes` holds it exactly.
    name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    name_bytes: Option<Vec<u8>>,
    kind: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    key: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    shmid: Option<i32>,
    foreign: bool,
    state: &'static str,
    state_text: String,
    stale: bool,
    damaged: bool,
    #[serde(flatten)]
    header: Option<Header>,
    #[serde(skip_serializing_if = "Option::is_none")]
    foreign_reason: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unreadable: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    problem: Option<String>,
    object_size: u64,
    mode: String,
    owner_uid: u32,
    owner: Option<String>,
    modified: Option<u64>,
    changed: Option<u64>,
    age_secs: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    attached: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    removed: Option<bool>,
}

#[derive(Serialize)]
struct Header {
    header_state: String,
    format_version: u32,
    creator_pid: u32,
    creator: String,
    #[serde(flatten)]
    payload: Option<Payload>,
}

#[derive(Serialize)]
struct Payload {
    type_name: String,
    #[serde(rename = "type")]
    ty: String,
    fingerprint: String,
    type_size: u64,
    type_align: u64,
    slice: bool,
    len: u64,
    payload_offset: u64,
    payload_bytes: u64,
    pointer_width: u8,
    endian: &'static str,
}

fn unix(t: Option<SystemTime>) -> Option<u64> {
    t?.duration_since(SystemTime::UNIX_EPOCH)
        .ok()
        .map(|d| d.as_secs())
}

impl Header {
    fn new(h: &HeaderInfo) -> Header {
        Header {
            header_state: h.state.to_string(),
            format_version: h.format_version,
            creator_pid: h.creator_pid,
            creator: h.creator.to_string(),
            payload: h.payload.as_ref().map(Payload::new),
        }
    }
}

impl Payload {
    fn new(p: &PayloadInfo) -> Payload {
        Payload {
            type_name: p.type_name.clone(),
            ty: p.type_description(),
            fingerprint: p.fingerprint.to_string(),
            type_size: p.type_size,
            type_align: p.type_align,
            slice: p.slice,
            len: p.len,
            payload_offset: p.payload_offset,
            payload_bytes: p.payload_bytes,
            pointer_width: p.pointer_width,
            endian: match p.little_endian {
                Some(true) => "little",
                Some(false) => "big",
                None => "unknown",
            },
        }
    }
}

impl Info {
    /// `info` as JSON.
    pub fn new(info: &SegmentInfo, users: &mut Users) -> Info {
        let bytes = name_bytes(&info.location);
        let (name, name_bytes) = match String::from_utf8(bytes) {
            Ok(name) => (name, None),
            Err(e) => (escape(e.as_bytes()), Some(e.into_bytes())),
        };
        let (key, shmid) = match &info.location {
            Location::SysV { key, shmid } => (Some(key.to_string()), Some(*shmid)),
            _ => (None, None),
        };
        let problem = info.problem();
        Info {
            name,
            name_bytes,
            kind: kind(&info.location),
            key,
            shmid,
            foreign: info.is_foreign(),
            state: state_id(info),
            state_text: state_text(info),
            stale: info.is_stale(),
            damaged: problem.is_some(),
            header: info.header().map(Header::new),
            foreign_reason: match &info.contents {
                Contents::Foreign(why) => Some(foreign_reason(why)),
                _ => None,
            },
            unreadable: match &info.contents {
                Contents::Unreadable(why) => Some(why.clone()),
                _ => None,
            },
            problem,
            object_size: info.object_size,
            mode: format!("{:04o}", info.mode),
            owner_uid: info.owner_uid,
            owner: users.name(info.owner_uid).map(str::to_owned),
            modified: unix(info.modified),
            changed: unix(info.changed),
            age_secs: info.age().map(|a| a.as_secs()),
            attached: info.attached,
            removed: info.attached.map(|_| info.removed),
        }
    }
}

/// `list --json`.
#[derive(Serialize)]
pub struct List {
    pub segments: Vec<Info>,
    pub hidden_foreign: usize,
}

/// `clean --json`.
#[derive(Serialize)]
pub struct Clean {
    pub dry_run: bool,
    pub removed: Vec<Info>,
    pub failed: usize,
}

/// `inspect --json`: the object, and the mutexes found with
/// `--scan-mutexes`.
#[derive(Serialize)]
pub struct Inspect {
    #[serde(flatten)]
    pub info: Info,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub mutexes: Option<Vec<Mutex>>,
}

/// A mutex found by `--scan-mutexes`.
#[derive(Serialize)]
pub struct Mutex {
    pub offset: u64,
    pub holder_tid: u32,
    pub holder_alive: Option<bool>,
    pub owner_died: bool,
    pub inconsistent: bool,
}

/// Prints `value` on one line.
pub fn print(value: &impl Serialize) {
    // Serializing these types cannot fail: no maps with non-string keys.
    match serde_json::to_string(value) {
        Ok(text) => println!("{text}"),
        Err(e) => eprintln!("shm-tool: error: writing JSON: {e}"),
    }
}
