//! `shm-tool inspect`: every header field of one segment, as lines or
//! JSON, and with `--scan-mutexes` the holders of its mutexes in use.

use crate::describe::{display_name, state_text, type_text};
use crate::text::{escape, human_age};
use crate::users::Users;
use crate::{json, parse_key, posix_name, Fail, Target};
use clap::builder::{OsStringValueParser, TypedValueParser};
use shm_runtime::segment::inspect::{Contents, Location};
use shm_runtime::SysvKey;
use std::ffi::OsString;
use std::path::PathBuf;

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["name", "sysv", "shmid", "file"])))]
pub struct InspectArgs {
    /// The POSIX segment /NAME
    #[arg(value_name = "NAME", value_parser = OsStringValueParser::new().try_map(posix_name))]
    name: Option<OsString>,
    /// The System V segment of KEY
    #[arg(long, value_name = "KEY", value_parser = parse_key)]
    sysv: Option<SysvKey>,
    /// The System V segment of id ID (as `ipcs -m` shows it)
    #[arg(long, value_name = "ID")]
    shmid: Option<i32>,
    /// The file segment at PATH
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,
    /// Print JSON (fields in the README)
    #[arg(long)]
    json: bool,
    /// Search the payload for ShmMutexes in use and report their holders (a
    /// heuristic; Linux only)
    #[arg(long)]
    scan_mutexes: bool,
}

pub fn inspect_cmd(args: InspectArgs) -> Result<(), Fail> {
    let target = if let Some(name) = args.name {
        Target::Posix(name)
    } else if let Some(key) = args.sysv {
        Target::SysvKey(key)
    } else if let Some(id) = args.shmid {
        Target::ShmId(id)
    } else if let Some(path) = args.file {
        Target::File(path)
    } else {
        unreachable!("clap requires one target")
    };
    let info = target.inspect()?;
    let mut users = Users::default();
    let mutexes = if args.scan_mutexes {
        Some(info.scan_mutexes()?)
    } else {
        None
    };
    if args.json {
        let mutexes = mutexes.as_ref().map(|found| {
            found
                .iter()
                .map(|m| json::Mutex {
                    offset: m.offset,
                    holder_tid: m.holder_tid,
                    holder_alive: m.holder_alive,
                    owner_died: m.owner_died,
                    inconsistent: m.inconsistent,
                })
                .collect()
        });
        json::print(&json::Inspect {
            info: json::Info::new(&info, &mut users),
            mutexes,
        });
        return Ok(());
    }
    let mut lines: Vec<(&str, String)> = vec![("name", display_name(&info.location))];
    if let Location::SysV { key, shmid } = &info.location {
        lines.push(("key", key.to_string()));
        lines.push(("shmid", shmid.to_string()));
    }
    lines.push(("state", state_text(&info)));
    match &info.contents {
        Contents::Segment(h) => {
            lines.push(("header state", h.state.to_string()));
            lines.push(("format version", h.format_version.to_string()));
            lines.push(("creator", format!("pid {} ({})", h.creator_pid, h.creator)));
            match &h.payload {
                Some(p) => {
                    lines.push(("type", type_text(&info)));
                    lines.push(("fingerprint", p.fingerprint.to_string()));
                    lines.push((
                        "type size/align",
                        format!("{} / {}", p.type_size, p.type_align),
                    ));
                    lines.push(("elements", p.len.to_string()));
                    lines.push((
                        "payload",
                        format!("{} bytes at offset {}", p.payload_bytes, p.payload_offset),
                    ));
                    lines.push((
                        "platform",
                        format!(
                            "{}-bit {}",
                            u32::from(p.pointer_width) * 8,
                            match p.little_endian {
                                Some(true) => "little-endian",
                                Some(false) => "big-endian",
                                None => "unknown-endian",
                            }
                        ),
                    ));
                }
                None => lines.push(("type", "(not written yet)".into())),
            }
        }
        Contents::Foreign(why) => lines.push(("foreign", why.to_string())),
        Contents::Unreadable(why) => lines.push(("unreadable", escape(why.as_bytes()))),
        _ => {}
    }
    if let Some(problem) = info.problem() {
        lines.push(("problem", problem));
    }
    lines.push(("object size", format!("{} bytes", info.object_size)));
    lines.push(("mode", format!("{:04o}", info.mode)));
    lines.push((
        "owner",
        format!(
            "{} (uid {})",
            escape(users.label(info.owner_uid).as_bytes()),
            info.owner_uid
        ),
    ));
    lines.push(("age", info.age().map_or("-".into(), human_age)));
    if let Some(n) = info.attached {
        lines.push(("attached", n.to_string()));
        if info.removed {
            lines.push(("marked removed", "yes (freed at the last detach)".into()));
        }
    }
    if let Some(mutexes) = &mutexes {
        lines.push(("mutexes found", mutexes.len().to_string()));
        for m in mutexes {
            let holder = match (m.holder_tid, m.holder_alive) {
                (0, _) => "free".to_owned(),
                (tid, Some(true)) => format!("held by tid {tid} (alive)"),
                (tid, Some(false)) => format!("held by tid {tid} (DEAD)"),
                (tid, None) => format!("held by tid {tid} (alive? unknown here)"),
            };
            let mut notes = String::new();
            if m.owner_died {
                notes.push_str(", its holder died holding it: the next lock gets OwnerDied");
            }
            if m.inconsistent {
                notes.push_str(", marked inconsistent (mark_consistent not called)");
            }
            lines.push((
                "mutex",
                format!("payload offset {}: {holder}{notes}", m.offset),
            ));
        }
    }
    let width = lines.iter().map(|(k, _)| k.len()).max().unwrap_or(0);
    for (k, v) in lines {
        println!("{:<width$}  {v}", format!("{k}:"), width = width + 1);
    }
    Ok(())
}
