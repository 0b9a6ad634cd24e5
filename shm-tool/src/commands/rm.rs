//! `shm-tool rm`: removes the segments named; objects of other programs
//! only with `--force`.

use crate::describe::{display_name, state_text, type_text};
use crate::{chain, parse_key, posix_name, Fail, Target};
use clap::builder::{OsStringValueParser, TypedValueParser};
use shm_runtime::segment::inspect::{Contents, Foreign};
use shm_runtime::SysvKey;
use std::ffi::OsString;
use std::path::PathBuf;

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("targets").required(true).multiple(true).args(["names", "sysv", "shmid", "file"])))]
pub struct RmArgs {
    /// POSIX segments /NAME
    #[arg(value_name = "NAME", value_parser = OsStringValueParser::new().try_map(posix_name))]
    names: Vec<OsString>,
    /// System V segments by KEY (repeatable)
    #[arg(long, value_name = "KEY", value_parser = parse_key)]
    sysv: Vec<SysvKey>,
    /// System V segments by id (repeatable)
    #[arg(long, value_name = "ID")]
    shmid: Vec<i32>,
    /// File segments at PATH (repeatable)
    #[arg(long, value_name = "PATH")]
    file: Vec<PathBuf>,
    /// Also remove objects that are not segments of this library
    #[arg(long, short)]
    force: bool,
}

pub fn rm(args: RmArgs) -> Result<(), Fail> {
    let targets = (args.names.into_iter().map(Target::Posix))
        .chain(args.sysv.into_iter().map(Target::SysvKey))
        .chain(args.shmid.into_iter().map(Target::ShmId))
        .chain(args.file.into_iter().map(Target::File));
    let mut failed = 0;
    for target in targets {
        match remove_one(&target, args.force) {
            Ok(done) => println!("removed {done}"),
            Err(msg) => {
                eprintln!("shm-tool: error: {msg}");
                failed += 1;
            }
        }
    }
    if failed > 0 {
        return Err(Fail(None, 1));
    }
    Ok(())
}

/// Removes one named object; says what it removed, or why not.
fn remove_one(target: &Target, force: bool) -> Result<String, String> {
    let info = target.inspect().map_err(|e| chain(&e))?;
    let name = display_name(&info.location);
    let state = state_text(&info);
    if !info.is_foreign() {
        info.remove().map_err(|e| chain(&e))?;
        return Ok(format!("{name} ({}, {state})", type_text(&info)));
    }
    if !force {
        return Err(format!(
            "not removing {name}: it is not a segment of this library ({state}); \
             `shm-tool rm --force` removes it anyway"
        ));
    }
    // An object that could not be opened has no identity to check: its
    // name is removed, as `rm -f` would.
    let result = match info.contents {
        Contents::Unreadable(_) | Contents::Foreign(Foreign::NotRegularFile) => {
            target.remove_by_name()
        }
        _ => info.remove(),
    };
    result.map_err(|e| chain(&e))?;
    Ok(format!("{name} ({state}, forced)"))
}
