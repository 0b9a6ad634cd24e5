//! `shm-tool`: list, inspect and remove the shared memory segments made by
//! `shm-runtime`, like `ipcs` and `ipcrm`. See `shm-tool --help` and the
//! crate's README.

mod cheader;
mod commands;
mod describe;
mod dump;
mod json;
mod text;
mod users;
mod view;

use clap::{CommandFactory, Parser, Subcommand};
use shm_runtime::segment::inspect::{self, SegmentInfo};
use shm_runtime::segment::{self, Segment, SysvKey};
use shm_runtime::ErrorKind;
use std::ffi::OsString;
use std::os::unix::ffi::OsStrExt;
use std::path::PathBuf;
use std::process::ExitCode;
use text::escape;

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
    List(commands::list::ListArgs),
    /// Print every header field of one segment
    Inspect(commands::inspect::InspectArgs),
    /// Remove segments (shm_unlink, IPC_RMID, unlink); objects of other
    /// programs only with --force
    Rm(commands::rm::RmArgs),
    /// Remove the stale segments of this library (never foreign objects)
    #[command(
        long_about = "Remove the stale segments of this library (POSIX, System V, FILEs): \
                            by default those whose creator died while initializing them, and the \
                            abandoned ones. Each is inspected again just before, and removed \
                            only while its name still refers to the object inspected. Never \
                            touches objects of other programs."
    )]
    Clean(commands::clean::CleanArgs),
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
        Command::List(args) => commands::list::list(args),
        Command::Inspect(args) => commands::inspect::inspect_cmd(args),
        Command::Rm(args) => commands::rm::rm(args),
        Command::Clean(args) => commands::clean::clean(args),
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
    fn keys_are_decimal_or_hex_and_never_ipc_private() {
        assert_eq!(parse_key("42").unwrap(), SysvKey::new(42));
        assert_eq!(parse_key("0x2a").unwrap(), SysvKey::new(42));
        assert_eq!(parse_key("0xffffffff").unwrap(), SysvKey::new(-1));
        assert!(parse_key("0").unwrap_err().contains("IPC_PRIVATE"));
        assert!(parse_key("zz").is_err());
    }
}
