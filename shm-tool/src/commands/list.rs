//! `shm-tool list` (alias `ls`): the segments of this library, and with
//! `--all` the objects of other programs, as a table or JSON.

use crate::describe::{display_name, state_text, type_text};
use crate::text::{self, escape, human_age};
use crate::users::Users;
use crate::{collect, json, Fail};
use shm_runtime::segment::inspect::SegmentInfo;
use std::path::PathBuf;

#[derive(clap::Args)]
pub struct ListArgs {
    /// Print JSON (fields in the README)
    #[arg(long)]
    json: bool,
    /// Also list the objects of other programs
    #[arg(long)]
    all: bool,
    /// Files to inspect too (file segments)
    #[arg(value_name = "FILE")]
    files: Vec<PathBuf>,
}

pub fn list(args: ListArgs) -> Result<(), Fail> {
    let (all, failed) = collect(&args.files)?;
    let hidden = if args.all {
        0
    } else {
        all.iter().filter(|i| i.is_foreign()).count()
    };
    let shown: Vec<&SegmentInfo> = all.iter().filter(|i| args.all || !i.is_foreign()).collect();
    let mut users = Users::default();
    if args.json {
        json::print(&json::List {
            segments: shown
                .iter()
                .map(|i| json::Info::new(i, &mut users))
                .collect(),
            hidden_foreign: hidden,
        });
    } else {
        let mut rows = vec![[
            "NAME", "TYPE", "PAYLOAD", "STATE", "CREATOR", "MODE", "OWNER", "AGE",
        ]
        .map(String::from)];
        for info in &shown {
            let payload = info.header().and_then(|h| h.payload.as_ref());
            rows.push([
                display_name(&info.location),
                type_text(info),
                payload.map_or("-".into(), |p| p.payload_bytes.to_string()),
                state_text(info),
                info.header()
                    .map_or("-".into(), |h| format!("{} {}", h.creator_pid, h.creator)),
                format!("{:04o}", info.mode),
                escape(users.label(info.owner_uid).as_bytes()),
                info.age().map_or("-".into(), human_age),
            ]);
        }
        // Only errors, for FILEs named: no empty table.
        if rows.len() > 1 || failed == 0 {
            print!("{}", text::table(&rows));
        }
        if hidden > 0 {
            println!(
                "({hidden} object{} not made by this library hidden: `shm-tool list --all` shows them)",
                if hidden == 1 { "" } else { "s" }
            );
        }
    }
    if failed > 0 {
        return Err(Fail(None, 1));
    }
    Ok(())
}
