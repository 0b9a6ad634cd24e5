//! `shm-tool`: list, inspect and remove the shared memory segments made by
//! `shm-runtime`, like `ipcs` and `ipcrm`. See `shm-tool --help` and the
//! crate's README.

use shm_runtime::segment::inspect::{self, Contents, CreatorStatus, Location, SegmentInfo, State};
use shm_runtime::segment::{Segment, SysvKey};
use std::collections::HashMap;
use std::fmt::Write as _;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, SystemTime};

const USAGE: &str = "\
shm-tool: list, inspect and remove the shared memory segments of shm-runtime

Usage:
  shm-tool list [--json] [--all] [FILE...]
      Segments of this library in /dev/shm (POSIX) and System V, and the
      FILEs given. Objects of other programs are counted, and listed with
      --all (state `foreign`).
  shm-tool inspect (NAME | --sysv KEY | --shmid ID | --file PATH) [--json] [--scan-mutexes]
      Every header field. --scan-mutexes searches the payload for ShmMutexes
      in use and reports their holders (a heuristic, glibc only).
  shm-tool rm (NAME | --sysv KEY | --shmid ID | --file PATH)
      Removes one segment (shm_unlink, IPC_RMID, unlink), even a foreign one.
  shm-tool clean [--dry-run] [--json] [--state STATE]... [--older-than SECS]
                 [--name-prefix P] [FILE...]
      Removes the stale segments of this library (POSIX, System V, FILEs):
      by default those whose creator died while initializing them, and the
      abandoned ones. STATE: `dead` (creator dead, not ready), `abandoned`,
      `initializing` (any creator, even alive: combine with --older-than).
      --name-prefix P keeps only names (/name, sysv:0x..., paths) starting
      with P. Never touches foreign objects.
  shm-tool help | --help

NAME is a POSIX name like /my-app.jobs (the leading / may be omitted); KEY is
decimal or 0x-hex. Exit status: 0 on success, 1 on error, 2 on bad usage.
";

/// A failure: the message, and the exit status.
struct Fail(String, u8);

fn usage(msg: impl Into<String>) -> Fail {
    Fail(format!("{}\n(see `shm-tool --help`)", msg.into()), 2)
}

fn err(e: shm_runtime::Error) -> Fail {
    Fail(e.to_string(), 1)
}

fn main() -> ExitCode {
    // Output piped into `head` ends the program quietly, as other Unix
    // tools do, instead of panicking on a broken pipe.
    // SAFETY: restores the default disposition of one signal, before any
    // other thread exists.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    let args: Vec<String> = std::env::args().skip(1).collect();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Fail(msg, code)) => {
            eprintln!("shm-tool: error: {msg}");
            ExitCode::from(code)
        }
    }
}

fn run(args: &[String]) -> Result<(), Fail> {
    let Some((command, rest)) = args.split_first() else {
        print!("{USAGE}");
        return Err(usage("no command given"));
    };
    match command.as_str() {
        "help" | "--help" | "-h" => {
            print!("{USAGE}");
            Ok(())
        }
        "list" | "ls" => list(&Args::parse(rest, &["--json", "--all"], &[])?),
        "inspect" => inspect_cmd(&Args::parse(
            rest,
            &["--json", "--scan-mutexes"],
            &["--sysv", "--shmid", "--file"],
        )?),
        "rm" => rm(&Args::parse(rest, &[], &["--sysv", "--shmid", "--file"])?),
        "clean" => clean(&Args::parse(
            rest,
            &["--dry-run", "--json"],
            &["--state", "--older-than", "--name-prefix"],
        )?),
        other => Err(usage(format!("unknown command `{other}`"))),
    }
}

/// Parsed options: flags, options with values (repeatable), positionals.
struct Args {
    flags: Vec<String>,
    values: Vec<(String, String)>,
    positional: Vec<String>,
}

impl Args {
    fn parse(args: &[String], flags: &[&str], with_value: &[&str]) -> Result<Args, Fail> {
        let mut parsed = Args {
            flags: Vec::new(),
            values: Vec::new(),
            positional: Vec::new(),
        };
        let mut it = args.iter();
        while let Some(arg) = it.next() {
            if arg == "--help" || arg == "-h" {
                print!("{USAGE}");
                std::process::exit(0);
            }
            if arg == "--" {
                parsed.positional.extend(it.by_ref().cloned());
                break;
            }
            let (name, inline) = match arg.split_once('=') {
                Some((n, v)) if n.starts_with("--") => (n, Some(v.to_owned())),
                _ => (arg.as_str(), None),
            };
            if flags.contains(&name) && inline.is_none() {
                parsed.flags.push(name.to_owned());
            } else if with_value.contains(&name) {
                let value = match inline {
                    Some(v) => v,
                    None => it
                        .next()
                        .cloned()
                        .ok_or_else(|| usage(format!("`{name}` needs a value")))?,
                };
                parsed.values.push((name.to_owned(), value));
            } else if arg.starts_with('-') && arg.len() > 1 {
                return Err(usage(format!("unknown option `{arg}`")));
            } else {
                parsed.positional.push(arg.clone());
            }
        }
        Ok(parsed)
    }

    fn flag(&self, name: &str) -> bool {
        self.flags.iter().any(|f| f == name)
    }

    fn value(&self, name: &str) -> Option<&str> {
        self.values
            .iter()
            .rev()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    fn all<'a>(&'a self, name: &'a str) -> impl Iterator<Item = &'a str> + 'a {
        self.values
            .iter()
            .filter(move |(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The one segment named by NAME, --sysv, --shmid or --file.
    fn target(&self) -> Result<Target, Fail> {
        let mut targets = Vec::new();
        for name in &self.positional {
            targets.push(Target::Posix(posix_name(name)?));
        }
        for key in self.all("--sysv") {
            targets.push(Target::SysvKey(parse_key(key)?));
        }
        for id in self.all("--shmid") {
            let id = id
                .parse::<i32>()
                .map_err(|_| usage(format!("bad shmid `{id}`: a decimal number")))?;
            targets.push(Target::ShmId(id));
        }
        for path in self.all("--file") {
            targets.push(Target::File(PathBuf::from(path)));
        }
        match targets.len() {
            1 => Ok(targets.pop().expect("one")),
            0 => Err(usage(
                "name a segment: NAME, --sysv KEY, --shmid ID or --file PATH",
            )),
            _ => Err(usage("name exactly one segment")),
        }
    }
}

enum Target {
    Posix(String),
    SysvKey(SysvKey),
    ShmId(i32),
    File(PathBuf),
}

impl Target {
    fn inspect(&self) -> Result<SegmentInfo, Fail> {
        match self {
            Target::Posix(name) => inspect::inspect_posix(name),
            Target::SysvKey(key) => inspect::inspect_sysv(*key),
            Target::ShmId(id) => inspect::inspect_sysv_id(*id),
            Target::File(path) => inspect::inspect_file(path),
        }
        .map_err(err)
    }
}

fn posix_name(name: &str) -> Result<String, Fail> {
    if name.starts_with('/') {
        Ok(name.to_owned())
    } else if name.contains('/') {
        Err(usage(format!(
            "`{name}` is not a POSIX segment name (/name): for a file, use --file PATH"
        )))
    } else {
        Ok(format!("/{name}"))
    }
}

fn parse_key(key: &str) -> Result<SysvKey, Fail> {
    let parsed = if let Some(hex) = key.strip_prefix("0x").or_else(|| key.strip_prefix("0X")) {
        u32::from_str_radix(hex, 16).ok().map(|k| k as i32)
    } else {
        key.parse::<i32>().ok()
    };
    match parsed {
        Some(0) => Err(usage(
            "key 0 is IPC_PRIVATE, which names no segment: use --shmid",
        )),
        Some(k) => Ok(SysvKey::new(k)),
        None => Err(usage(format!(
            "bad System V key `{key}`: decimal or 0x-hex"
        ))),
    }
}

/// Every object to consider: /dev/shm, System V, and the files given.
/// Objects that vanish while being read are skipped; other errors are
/// reported on stderr and skipped.
fn collect(files: &[String]) -> Vec<SegmentInfo> {
    let mut found = Vec::new();
    let mut keep = |result: shm_runtime::Result<SegmentInfo>, what: &str| match result {
        Ok(info) => found.push(info),
        Err(e) if e.kind() == shm_runtime::ErrorKind::NotFound => {}
        Err(e) => eprintln!("shm-tool: warning: {what}: {e}"),
    };
    // Only Linux lists its POSIX objects (files of `/dev/shm`) and System V
    // segments (`/proc/sysvipc/shm`): macOS offers no way at all to list
    // POSIX objects (`shm_open` by name only), and FreeBSD none that this
    // tool reads yet. There only the FILEs given are listed.
    #[cfg(not(target_os = "linux"))]
    eprintln!(
        "shm-tool: note: this system cannot list its POSIX shared memory objects or System V \
         segments: only the FILEs given are listed; inspect a segment by its name \
         (`shm-tool inspect /NAME`)"
    );
    if let Ok(dir) = std::fs::read_dir("/dev/shm") {
        let mut names: Vec<String> = dir
            .filter_map(|e| e.ok())
            .filter_map(|e| e.file_name().into_string().ok())
            .collect();
        names.sort();
        for name in names {
            let name = format!("/{name}");
            keep(inspect::inspect_posix(&name), &name);
        }
    }
    let mut ids: Vec<i32> = std::fs::read_to_string("/proc/sysvipc/shm")
        .unwrap_or_default()
        .lines()
        .skip(1)
        .filter_map(|l| l.split_whitespace().nth(1)?.parse().ok())
        .collect();
    ids.sort();
    for id in ids {
        keep(
            inspect::inspect_sysv_id(id),
            &format!("System V shmid {id}"),
        );
    }
    for file in files {
        keep(inspect::inspect_file(file), file);
    }
    found
}

fn list(args: &Args) -> Result<(), Fail> {
    let all = collect(&args.positional);
    let hidden = if args.flag("--all") {
        0
    } else {
        all.iter().filter(|i| i.is_foreign()).count()
    };
    let shown: Vec<&SegmentInfo> = all
        .iter()
        .filter(|i| args.flag("--all") || !i.is_foreign())
        .collect();
    let users = Users::load();
    if args.flag("--json") {
        let entries: Vec<String> = shown.iter().map(|i| json_info(i, &users)).collect();
        println!(
            "{{\"segments\":[{}],\"hidden_foreign\":{hidden}}}",
            entries.join(",")
        );
        return Ok(());
    }
    let mut rows = vec![[
        "NAME", "TYPE", "PAYLOAD", "STATE", "CREATOR", "MODE", "OWNER", "AGE",
    ]
    .map(String::from)];
    for info in &shown {
        let payload = info.header().and_then(|h| h.payload.as_ref());
        rows.push([
            info.location.to_string(),
            payload.map_or("-".into(), |p| p.type_description()),
            payload.map_or("-".into(), |p| p.payload_bytes.to_string()),
            state_text(info),
            info.header()
                .map_or("-".into(), |h| format!("{} {}", h.creator_pid, h.creator)),
            format!("{:04o}", info.mode),
            users.name(info.owner_uid),
            info.age().map_or("-".into(), human_age),
        ]);
    }
    print!("{}", table(&rows));
    if hidden > 0 {
        println!(
            "({hidden} object{} not made by this library hidden: `shm-tool list --all` shows them)",
            if hidden == 1 { "" } else { "s" }
        );
    }
    Ok(())
}

/// The STATE column: ready, initializing, creator dead, abandoned, or
/// `foreign (why)`.
fn state_text(info: &SegmentInfo) -> String {
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

fn table(rows: &[[String; 8]]) -> String {
    let mut widths = [0usize; 8];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            if i + 1 == row.len() {
                line.push_str(cell);
            } else {
                let _ = write!(line, "{cell:<w$}  ");
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

fn human_age(age: Duration) -> String {
    let s = age.as_secs();
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

fn unix(t: Option<SystemTime>) -> String {
    t.and_then(|t| t.duration_since(SystemTime::UNIX_EPOCH).ok())
        .map_or("null".into(), |d| d.as_secs().to_string())
}

/// `s` as a JSON string literal.
fn js(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// One object as a JSON object (fields documented in the README).
fn json_info(info: &SegmentInfo, users: &Users) -> String {
    let mut f: Vec<(String, String)> = Vec::new();
    let mut put = |k: &str, v: String| f.push((k.to_owned(), v));
    let (kind, key, shmid) = match &info.location {
        Location::Posix(_) => ("posix", None, None),
        Location::File(_) => ("file", None, None),
        Location::SysV { key, shmid } => ("sysv", Some(*key), Some(*shmid)),
        _ => ("unknown", None, None),
    };
    put("name", js(&info.location.to_string()));
    put("kind", js(kind));
    if let (Some(key), Some(shmid)) = (key, shmid) {
        put("key", js(&key.to_string()));
        put("shmid", shmid.to_string());
    }
    put("foreign", info.is_foreign().to_string());
    put("state", js(&state_text(info)));
    put("stale", info.is_stale().to_string());
    match &info.contents {
        Contents::Segment(h) => {
            put("header_state", js(&h.state.to_string()));
            put("format_version", h.format_version.to_string());
            put("creator_pid", h.creator_pid.to_string());
            put("creator", js(&h.creator.to_string()));
            if let Some(p) = &h.payload {
                put("type_name", js(&p.type_name));
                put("type", js(&p.type_description()));
                put("fingerprint", js(&p.fingerprint.to_string()));
                put("type_size", p.type_size.to_string());
                put("type_align", p.type_align.to_string());
                put("slice", p.slice.to_string());
                put("len", p.len.to_string());
                put("payload_offset", p.payload_offset.to_string());
                put("payload_bytes", p.payload_bytes.to_string());
                put("pointer_width", p.pointer_width.to_string());
                put(
                    "endian",
                    js(match p.little_endian {
                        Some(true) => "little",
                        Some(false) => "big",
                        None => "unknown",
                    }),
                );
            }
        }
        Contents::Foreign(why) => put("foreign_reason", js(&why.to_string())),
        Contents::Unreadable(why) => put("unreadable", js(why)),
        _ => {}
    }
    if let Some(problem) = info.problem() {
        put("problem", js(&problem));
    }
    put("object_size", info.object_size.to_string());
    put("mode", js(&format!("{:04o}", info.mode)));
    put("owner_uid", info.owner_uid.to_string());
    put("owner", js(&users.name(info.owner_uid)));
    put("modified", unix(info.modified));
    put("changed", unix(info.changed));
    put(
        "age_secs",
        info.age()
            .map_or("null".into(), |a| a.as_secs().to_string()),
    );
    if let Some(n) = info.attached {
        put("attached", n.to_string());
        put("removed", info.removed.to_string());
    }
    let body: Vec<String> = f.iter().map(|(k, v)| format!("{}:{v}", js(k))).collect();
    format!("{{{}}}", body.join(","))
}

fn inspect_cmd(args: &Args) -> Result<(), Fail> {
    let info = args.target()?.inspect()?;
    let users = Users::load();
    let mutexes = if args.flag("--scan-mutexes") {
        Some(info.scan_mutexes().map_err(err)?)
    } else {
        None
    };
    if args.flag("--json") {
        let mut out = json_info(&info, &users);
        if let Some(mutexes) = &mutexes {
            let list: Vec<String> = mutexes
                .iter()
                .map(|m| {
                    format!(
                        "{{\"offset\":{},\"holder_tid\":{},\"holder_alive\":{},\"owner_died\":{},\"inconsistent\":{}}}",
                        m.offset,
                        m.holder_tid,
                        m.holder_alive.map_or("null".into(), |a| a.to_string()),
                        m.owner_died,
                        m.inconsistent
                    )
                })
                .collect();
            out.pop();
            let _ = write!(out, ",\"mutexes\":[{}]}}", list.join(","));
        }
        println!("{out}");
        return Ok(());
    }
    let mut lines: Vec<(&str, String)> = vec![("name", info.location.to_string())];
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
                    lines.push(("type", p.type_description()));
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
        Contents::Unreadable(why) => lines.push(("unreadable", why.clone())),
        _ => {}
    }
    if let Some(problem) = info.problem() {
        lines.push(("problem", problem));
    }
    lines.push(("object size", format!("{} bytes", info.object_size)));
    lines.push(("mode", format!("{:04o}", info.mode)));
    lines.push((
        "owner",
        format!("{} (uid {})", users.name(info.owner_uid), info.owner_uid),
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

fn rm(args: &Args) -> Result<(), Fail> {
    let target = args.target()?;
    let result = match &target {
        Target::Posix(name) => Segment::posix(name).remove(),
        Target::SysvKey(key) => Segment::sysv(*key).remove(),
        Target::File(path) => Segment::file(path).remove(),
        Target::ShmId(_) => target.inspect()?.remove(),
    };
    result.map_err(err)
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

fn clean(args: &Args) -> Result<(), Fail> {
    let mut select = Select::default();
    for state in args.all("--state") {
        match state {
            "dead" => select.dead = true,
            "abandoned" => select.abandoned = true,
            "initializing" => select.initializing = true,
            other => {
                return Err(usage(format!(
                    "unknown state `{other}`: dead, abandoned or initializing"
                )))
            }
        }
    }
    if !(select.dead || select.abandoned || select.initializing) {
        select.dead = true;
        select.abandoned = true;
    }
    let older_than = match args.value("--older-than") {
        Some(s) => Some(Duration::from_secs(s.parse().map_err(|_| {
            usage(format!("bad --older-than `{s}`: a number of seconds"))
        })?)),
        None => None,
    };
    let prefix = args.value("--name-prefix");
    let dry_run = args.flag("--dry-run");
    let wanted = |info: &SegmentInfo| {
        select.matches(info)
            && older_than.is_none_or(|min| info.age().is_some_and(|age| age >= min))
            && prefix.is_none_or(|p| info.location.to_string().starts_with(p))
    };
    let users = Users::load();
    let mut removed = Vec::new();
    let mut failed = 0;
    for info in collect(&args.positional) {
        if !wanted(&info) {
            continue;
        }
        if !dry_run {
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
    if args.flag("--json") {
        let entries: Vec<String> = removed.iter().map(|i| json_info(i, &users)).collect();
        println!(
            "{{\"dry_run\":{dry_run},\"removed\":[{}],\"failed\":{failed}}}",
            entries.join(",")
        );
    } else {
        let verb = if dry_run { "would remove" } else { "removed" };
        for info in &removed {
            let ty = info
                .header()
                .and_then(|h| h.payload.as_ref())
                .map_or("-".into(), |p| p.type_description());
            println!("{verb} {} ({ty}, {})", info.location, state_text(info));
        }
        if removed.is_empty() {
            println!("nothing to clean");
        }
    }
    if failed > 0 {
        return Err(Fail(format!("{failed} segment(s) could not be removed"), 1));
    }
    Ok(())
}

/// User names from /etc/passwd, by uid.
struct Users(HashMap<u32, String>);

impl Users {
    fn load() -> Users {
        let text = std::fs::read_to_string("/etc/passwd").unwrap_or_default();
        Users(
            text.lines()
                .filter_map(|l| {
                    let mut cols = l.split(':');
                    let name = cols.next()?;
                    let uid = cols.nth(1)?.parse().ok()?;
                    Some((uid, name.to_owned()))
                })
                .collect(),
        )
    }

    fn name(&self, uid: u32) -> String {
        self.0.get(&uid).cloned().unwrap_or_else(|| uid.to_string())
    }
}
