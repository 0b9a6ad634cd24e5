//! `shm-tool clean`: removes the stale segments of this library (by
//! default those whose creator died initializing them, and the abandoned
//! ones), each inspected again just before; never foreign objects.

use crate::describe::{self, display_name, state_text, type_text};
use crate::text;
use crate::users::Users;
use crate::{collect, json, Fail};
use clap::ValueEnum;
use shm_runtime::segment::inspect::{self, Contents, CreatorStatus, Location, SegmentInfo, State};
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Args)]
pub struct CleanArgs {
    /// Print what would be removed, remove nothing
    #[arg(long)]
    dry_run: bool,
    /// Print JSON (fields in the README)
    #[arg(long)]
    json: bool,
    /// Which stale segments (repeatable; default: dead and abandoned)
    #[arg(long, value_name = "STATE", value_enum)]
    state: Vec<StaleState>,
    /// Only those at least this old: seconds, or 90s, 15m, 1h, 2d, 1h30m
    #[arg(long, value_name = "AGE", value_parser = text::parse_age)]
    older_than: Option<Duration>,
    /// Only names starting with P (/name with or without its /, sysv:0x...,
    /// paths)
    #[arg(long, value_name = "P")]
    name_prefix: Option<OsString>,
    /// Files to consider too (file segments)
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
}

/// The states `clean --state` chooses.
#[derive(Clone, Copy, PartialEq, Eq, ValueEnum)]
enum StaleState {
    /// Still initializing, and its creator is dead
    #[value(alias = "creator_dead")]
    Dead,
    /// Its creator's initializer failed or panicked
    Abandoned,
    /// Any initializing segment, even with a live creator (combine with
    /// --older-than)
    Initializing,
}

/// Which stale states `clean` removes.
#[derive(Default)]
struct Select {
    dead: bool,
    abandoned: bool,
    initializing: bool,
}

impl Select {
    fn matches(&self, info: &SegmentInfo) -> bool {
        if let Contents::CreationLock { held } = info.contents {
            // Left by a creator that died inside `open_or_create`.
            return self.dead && !held;
        }
        let Some(h) = info.header() else {
            return false; // never a foreign object
        };
        match h.state {
            State::Abandoned => self.abandoned,
            State::Initializing => {
                self.initializing || (self.dead && h.creator == CreatorStatus::Dead)
            }
            _ => false,
        }
    }
}

/// Whether the name starts with `prefix`; a POSIX name also matches a
/// prefix written without its leading `/`.
fn has_prefix(location: &Location, prefix: &OsStr) -> bool {
    let name = describe::name_bytes(location);
    let prefix = prefix.as_bytes();
    name.starts_with(prefix)
        || (matches!(location, Location::Posix(_))
            && !prefix.starts_with(b"/")
            && name[1..].starts_with(prefix))
}

pub fn clean(args: CleanArgs) -> Result<(), Fail> {
    let mut select = Select::default();
    for state in &args.state {
        match state {
            StaleState::Dead => select.dead = true,
            StaleState::Abandoned => select.abandoned = true,
            StaleState::Initializing => select.initializing = true,
        }
    }
    if args.state.is_empty() {
        select.dead = true;
        select.abandoned = true;
    }
    let prefix = args.name_prefix.as_deref();
    let wanted = |info: &SegmentInfo| {
        select.matches(info)
            && args
                .older_than
                .is_none_or(|min| info.age().is_some_and(|age| age >= min))
            && prefix.is_none_or(|p| has_prefix(&info.location, p))
    };
    let mut users = Users::default();
    let (all, mut failed) = collect(&args.files)?;
    let mut removed = Vec::new();
    for info in all {
        if !wanted(&info) {
            continue;
        }
        if !args.dry_run {
            // Look again just before: a reclaimer may have revived it.
            let again = match &info.location {
                Location::Posix(name) => inspect::inspect_posix(name),
                Location::File(path) => inspect::inspect_file(path),
                Location::SysV { shmid, .. } => inspect::inspect_sysv_id(*shmid),
                _ => continue,
            };
            let Ok(again) = again else { continue };
            if !wanted(&again) {
                continue;
            }
            if let Err(e) = again.remove() {
                eprintln!("shm-tool: error: {e}");
                failed += 1;
                continue;
            }
        }
        removed.push(info);
    }
    if args.json {
        json::print(&json::Clean {
            dry_run: args.dry_run,
            removed: removed
                .iter()
                .map(|i| json::Info::new(i, &mut users))
                .collect(),
            failed,
        });
    } else {
        let verb = if args.dry_run {
            "would remove"
        } else {
            "removed"
        };
        for info in &removed {
            println!(
                "{verb} {} ({}, {})",
                display_name(&info.location),
                type_text(info),
                state_text(info)
            );
        }
        if removed.is_empty() {
            println!("nothing to clean");
        }
    }
    if failed > 0 {
        return Err(Fail(
            Some(format!(
                "{failed} object(s) could not be inspected or removed"
            )),
            1,
        ));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use shm_runtime::SysvKey;

    #[test]
    fn name_prefixes_match_with_or_without_the_slash() {
        let posix = Location::Posix("/newbie.jobs".into());
        for p in ["/newbie", "newbie", "/", ""] {
            assert!(has_prefix(&posix, OsStr::new(p)), "{p}");
        }
        assert!(!has_prefix(&posix, OsStr::new("jobs")));
        let file = Location::File("/tmp/newbie".into());
        assert!(has_prefix(&file, OsStr::new("/tmp/new")));
        assert!(!has_prefix(&file, OsStr::new("tmp/new")));
        let sysv = Location::SysV {
            key: SysvKey::new(42),
            shmid: 1,
        };
        assert!(has_prefix(&sysv, OsStr::new("sysv:0x0000002a")));
    }
}
