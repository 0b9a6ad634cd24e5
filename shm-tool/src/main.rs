//! `shm-tool`: list, inspect and remove the shared memory segments made by
//! `shm-runtime`, like `ipcs` and `ipcrm`. See `shm-tool --help` and the
//! crate's README.

mod cheader;
mod describe;
mod dump;
mod json;
mod text;
mod users;
mod view;

use clap::builder::{OsStringValueParser, TypedValueParser};
use clap::{CommandFactory, Parser, Subcommand, ValueEnum};
use describe::{display_name, state_text, type_text};
use shm_runtime::segment::inspect::{
    self, Contents, CreatorStatus, Foreign, Location, SegmentInfo, State,
};
use shm_runtime::segment::{self, Segment, SysvKey};
use shm_runtime::ErrorKind;
use std::ffi::{OsStr, OsString};
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;
use text::{escape, human_age};
use users::Users;

/// List, inspect and remove the shared memory segments of shm-runtime,
/// like ipcs and ipcrm.
#[derive(Parser)]
#[command(
    name = "shm-tool",
    version,
    after_help = "NAME is a POSIX name like /my-app.jobs (the leading / may be omitted); KEY is \
                  decimal or 0x-hex.\nExit status: 0 on success, 1 on an error, 2 on bad usage.\n\
                  `shm-tool COMMAND --help` tells more of each command."
)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// List the segments of this library: POSIX (/dev/shm), System V, and
    /// the FILEs given
    #[command(
        visible_alias = "ls",
        long_about = "List the segments of this library: POSIX objects (/dev/shm), System V \
                      segments, and the FILEs given. Objects of other programs are counted, and \
                      listed with --all (state `foreign`). Names are escaped for the terminal: \
                      control characters as \\n, \\t, \\e or \\u{..}, a backslash as \\\\, bytes \
                      that are not UTF-8 as \\xNN."
    )]
    List(ListArgs),
    /// Print every header field of one segment
    Inspect(InspectArgs),
    /// Remove segments (shm_unlink, IPC_RMID, unlink); objects of other
    /// programs only with --force
    Rm(RmArgs),
    /// Remove the stale segments of this library (never foreign objects)
    #[command(
        long_about = "Remove the stale segments of this library (POSIX, System V, FILEs): \
                            by default those whose creator died while initializing them, and the \
                            abandoned ones. Each is inspected again just before, and removed \
                            only while its name still refers to the object inspected. Never \
                            touches objects of other programs."
    )]
    Clean(CleanArgs),
    /// Print the live values of a segment, decoded from the layout
    /// description stored in it
    #[command(long_about = DUMP_ABOUT)]
    Dump(dump::DumpArgs),
    /// Print C definitions of a segment's payload type, with static
    /// assertions on every offset, size and alignment
    #[command(long_about = HEADER_ABOUT)]
    Header(cheader::HeaderArgs),
    /// Print a completion script for a shell
    #[command(long_about = "Print a completion script for SHELL, e.g.\n  \
                            shm-tool completions bash > ~/.local/share/bash-completion/completions/shm-tool\n  \
                            shm-tool completions zsh > ~/.zfunc/_shm-tool\n  \
                            shm-tool completions fish > ~/.config/fish/completions/shm-tool.fish")]
    Completions {
        /// The shell
        shell: clap_complete::Shell,
    },
}

#[derive(clap::Args)]
struct ListArgs {
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

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("target").required(true).args(["name", "sysv", "shmid", "file"])))]
struct InspectArgs {
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

#[derive(clap::Args)]
#[command(group(clap::ArgGroup::new("targets").required(true).multiple(true).args(["names", "sysv", "shmid", "file"])))]
struct RmArgs {
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

#[derive(clap::Args)]
struct CleanArgs {
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

const DUMP_ABOUT: &str = "Print the live values of a segment of this library, decoded from the \
    layout description stored in it, without the program that made it. Read-only: the segment \
    is mapped PROT_READ; atomics are loaded relaxed (those wider than the target allows on \
    read-only memory are shown as not readable), a SeqLock is read with its sequence protocol, \
    an ShmMutex is shown with its holder and its value as an unlocked read that may be torn. \
    With --lock, the segment is opened read-write and each ShmMutex is locked (waiting at most \
    --timeout) for the copy of its value: the application waits for the tool meanwhile, and a \
    mutex whose holder died is taken over (the application's next lock then reports OwnerDied). \
    Arrays beyond --limit elements are summarized. --watch INTERVAL prints a snapshot every \
    INTERVAL (--count N stops after N). JSON: one object per snapshot (see the README).";

const HEADER_ABOUT: &str = "Print C (C11) definitions of a segment's payload type, from the \
    layout description stored in it: a struct per struct and library type with its members at \
    the description's offsets (explicit padding, alignas where a member is aligned to 8 bytes \
    or more, as on i686 where gcc aligns a uint64_t member to 4), _Atomic for atomics, opaque \
    parts as aligned byte arrays, enums as #define constants, and _Static_asserts on every \
    offset, size and alignment. SHM_PAYLOAD_OFFSET says where the payload starts.";

/// A POSIX name from the command line: `/name`, or `name` (the `/` added).
fn posix_name(name: OsString) -> Result<OsString, String> {
    let bytes = name.as_bytes();
    if bytes.starts_with(b"/") {
        Ok(name)
    } else if bytes.contains(&b'/') {
        Err(format!(
            "`{}` is not a POSIX segment name (/name): for a file, use --file PATH",
            escape(bytes)
        ))
    } else {
        let mut full = OsString::from("/");
        full.push(&name);
        Ok(full)
    }
}

fn parse_key(key: &str) -> Result<SysvKey, String> {
    let parsed = if let Some(hex) = key.strip_prefix("0x").or_else(|| key.strip_prefix("0X")) {
        u32::from_str_radix(hex, 16).ok().map(|k| k as i32)
    } else {
        key.parse::<i32>().ok()
    };
    match parsed {
        Some(0) => Err("key 0 is IPC_PRIVATE, which names no segment: use --shmid".into()),
        Some(k) => Ok(SysvKey::new(k)),
        None => Err(format!("bad System V key `{key}`: decimal or 0x-hex")),
    }
}

/// A failure: the message (`None`: already reported), and the exit status.
struct Fail(Option<String>, u8);

impl From<shm_runtime::Error> for Fail {
    fn from(e: shm_runtime::Error) -> Fail {
        Fail(Some(chain(&e)), 1)
    }
}

/// The error, then its causes (the OS error), as error reporters show a
/// chain: an error's `Display` does not repeat its source.
fn chain(e: &shm_runtime::Error) -> String {
    let mut msg = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(cause) = source {
        msg.push_str(&format!(": {cause}"));
        source = cause.source();
    }
    msg
}

fn main() -> ExitCode {
    // Output piped into `head` ends the program quietly, as other Unix
    // tools do, instead of panicking on a broken pipe.
    // SAFETY: restores the default disposition of one signal, before any
    // other thread exists.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let cli = match Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            // Help and version on stdout, exit 0; usage errors on stderr,
            // `shm-tool: error: ...`, exit 2.
            if e.kind() == clap::error::ErrorKind::DisplayHelpOnMissingArgumentOrSubcommand {
                eprint!("shm-tool: error: no command given\n\n{}", e.render());
            } else if e.use_stderr() {
                eprint!("shm-tool: {}", e.render());
            } else {
                print!("{}", e.render());
            }
            return ExitCode::from(e.exit_code().clamp(0, 255) as u8);
        }
    };
    let result = match cli.command {
        Command::List(args) => list(args),
        Command::Inspect(args) => inspect_cmd(args),
        Command::Rm(args) => rm(args),
        Command::Clean(args) => clean(args),
        Command::Dump(args) => dump::run(args),
        Command::Header(args) => cheader::run(args),
        Command::Completions { shell } => {
            clap_complete::generate(
                shell,
                &mut Cli::command(),
                "shm-tool",
                &mut std::io::stdout(),
            );
            Ok(())
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail(msg, code)) => {
            if let Some(msg) = msg {
                eprintln!("shm-tool: error: {msg}");
            }
            ExitCode::from(code)
        }
    }
}

/// One segment named on the command line.
enum Target {
    Posix(OsString),
    SysvKey(SysvKey),
    ShmId(i32),
    File(PathBuf),
}

impl Target {
    fn inspect(&self) -> shm_runtime::Result<SegmentInfo> {
        match self {
            Target::Posix(name) => inspect::inspect_posix(name),
            Target::SysvKey(key) => inspect::inspect_sysv(*key),
            Target::ShmId(id) => inspect::inspect_sysv_id(*id),
            Target::File(path) => inspect::inspect_file(path),
        }
    }

    /// Removes the name, whatever it now refers to.
    fn remove_by_name(&self) -> shm_runtime::Result<()> {
        match self {
            Target::Posix(name) => segment::unlink(name),
            Target::SysvKey(key) => Segment::sysv(*key).remove(),
            Target::ShmId(id) => inspect::inspect_sysv_id(*id)?.remove(),
            Target::File(path) => Segment::file(path).remove(),
        }
    }
}

/// Every object to consider: those [`segment::list`] finds, then the files
/// given. Objects it cannot read are warnings; a FILE that cannot be
/// inspected is an error, reported here and counted.
fn collect(files: &[PathBuf]) -> Result<(Vec<SegmentInfo>, usize), Fail> {
    let mut found = Vec::new();
    match segment::list() {
        Ok(listing) => {
            for info in listing {
                match info {
                    Ok(info) => found.push(info),
                    Err(e) => eprintln!("shm-tool: warning: {e}"),
                }
            }
        }
        // Off Linux, the FILEs named can still be listed.
        Err(e) if e.kind() == ErrorKind::Unsupported && !files.is_empty() => {
            eprintln!("shm-tool: warning: {e}");
        }
        Err(e) => return Err(e.into()),
    }
    let mut failed = 0;
    for file in files {
        match inspect::inspect_file(file) {
            Ok(info) => found.push(info),
            Err(e) => {
                eprintln!("shm-tool: error: {e}");
                failed += 1;
            }
        }
    }
    Ok((found, failed))
}

fn list(args: ListArgs) -> Result<(), Fail> {
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

fn inspect_cmd(args: InspectArgs) -> Result<(), Fail> {
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

fn rm(args: RmArgs) -> Result<(), Fail> {
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

fn clean(args: CleanArgs) -> Result<(), Fail> {
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

    /// The clap definition is consistent (debug assertions of clap).
    #[test]
    fn command_line_definition_is_valid() {
        Cli::command().debug_assert();
    }

    #[test]
    fn posix_names_get_their_slash_and_paths_are_refused() {
        assert_eq!(posix_name("jobs".into()).unwrap(), "/jobs");
        assert_eq!(posix_name("/jobs".into()).unwrap(), "/jobs");
        assert!(posix_name("a/b".into()).unwrap_err().contains("--file"));
    }

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

    #[test]
    fn keys_are_decimal_or_hex_and_never_ipc_private() {
        assert_eq!(parse_key("42").unwrap(), SysvKey::new(42));
        assert_eq!(parse_key("0x2a").unwrap(), SysvKey::new(42));
        assert_eq!(parse_key("0xffffffff").unwrap(), SysvKey::new(-1));
        assert!(parse_key("0").unwrap_err().contains("IPC_PRIVATE"));
        assert!(parse_key("zz").is_err());
    }
}
