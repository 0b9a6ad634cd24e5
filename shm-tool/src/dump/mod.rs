//! `shm-tool dump`: the live values of a segment, decoded from the layout
//! description stored in it, without the program that made it.
//!
//! The segment is inspected (header checks, the description's bounds and
//! checksum, a bounded decode: [`SegmentInfo::description`]), then mapped
//! whole, read-only ([`View`]). The description is untrusted: every read
//! checks its offset and length against the payload, and the payload
//! against the mapping. The files: `read.rs` decodes each kind of value
//! along the description (and says how each is read), `mem.rs` holds the
//! bounded raw reads from the mapping, `render.rs` prints a snapshot as
//! text or JSON; this file holds the command, its checks and its loop.

mod mem;
mod read;
mod render;

use crate::view::View;
use crate::{Fail, Target};
use read::snapshot;
use render::{text, to_json};
use serde_json::json;
use shm_runtime::layout::describe::Description;
use shm_runtime::segment::inspect::{PayloadInfo, SegmentInfo, State};
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::Duration;

/// The segment a command reads.
#[derive(clap::Args)]
#[group(required = true, multiple = false)]
pub struct TargetArgs {
    /// The POSIX segment /NAME
    #[arg(value_name = "NAME", value_parser = clap::builder::TypedValueParser::try_map(clap::builder::OsStringValueParser::new(), crate::posix_name))]
    name: Option<OsString>,
    /// The System V segment of KEY
    #[arg(long, value_name = "KEY", value_parser = crate::parse_key)]
    sysv: Option<shm_runtime::SysvKey>,
    /// The System V segment of id ID (as `ipcs -m` shows it)
    #[arg(long, value_name = "ID")]
    shmid: Option<i32>,
    /// The file segment at PATH
    #[arg(long, value_name = "PATH")]
    file: Option<PathBuf>,
}

impl TargetArgs {
    /// The one target given (clap requires exactly one).
    pub fn target(&self) -> Target {
        if let Some(name) = &self.name {
            Target::Posix(name.clone())
        } else if let Some(key) = self.sysv {
            Target::SysvKey(key)
        } else if let Some(id) = self.shmid {
            Target::ShmId(id)
        } else if let Some(path) = &self.file {
            Target::File(path.clone())
        } else {
            unreachable!("clap requires one target")
        }
    }
}

#[derive(clap::Args)]
pub struct DumpArgs {
    #[command(flatten)]
    target: TargetArgs,
    /// Print one JSON object per snapshot (fields in the README)
    #[arg(long)]
    json: bool,
    /// Print a snapshot every INTERVAL (500ms, 2s, 1.5) until interrupted
    #[arg(long, value_name = "INTERVAL", value_parser = parse_interval)]
    watch: Option<Duration>,
    /// With --watch: stop after N snapshots
    #[arg(long, value_name = "N", requires = "watch")]
    count: Option<u64>,
    /// Read ShmMutex values under their lock: opens the segment read-write
    /// and holds each lock for the copy (see --help)
    #[arg(long)]
    lock: bool,
    /// The longest a snapshot waits, in all, for SeqLocks' consistent copies
    /// and (with --lock) locks
    #[arg(long, value_name = "D", default_value = "1s", value_parser = parse_interval)]
    timeout: Duration,
    /// Array elements shown before the rest is summarized
    #[arg(long, value_name = "N", default_value_t = 16)]
    limit: u64,
}

/// A duration: seconds (`2`, `1.5`), or with a unit `ms` or `s`.
pub fn parse_interval(text: &str) -> Result<Duration, String> {
    let (number, scale) = if let Some(ms) = text.strip_suffix("ms") {
        (ms, 1e-3)
    } else if let Some(s) = text.strip_suffix('s') {
        (s, 1.0)
    } else {
        (text, 1.0)
    };
    let value: f64 = number
        .parse()
        .map_err(|_| format!("`{text}` is not a duration: 2, 1.5, 500ms or 2s"))?;
    let secs = value * scale;
    if !secs.is_finite() || !(0.0..=86_400.0 * 365.0).contains(&secs) {
        return Err(format!("`{text}` is not a duration of at most a year"));
    }
    Ok(Duration::from_secs_f64(secs))
}

/// A ready segment of this library with its stored description, checked
/// for the consistency of header and description.
pub struct Prepared {
    pub info: SegmentInfo,
    pub description: Description,
    pub payload: PayloadInfo,
    /// `segment `/name`` and the like, for messages.
    pub what: String,
}

/// Inspects `target` and reads its description.
pub fn prepare(target: &Target) -> Result<Prepared, Fail> {
    let info = target.inspect()?;
    let shown = crate::describe::display_name(&info.location);
    let what = match &info.location {
        shm_runtime::segment::inspect::Location::File(_) => format!("file `{shown}`"),
        shm_runtime::segment::inspect::Location::SysV { .. } => format!("System V segment {shown}"),
        _ => format!("segment `{shown}`"),
    };
    let Some(header) = info.header() else {
        return Err(Fail(
            Some(format!("{what} is not a segment of this library")),
            1,
        ));
    };
    if header.state != State::Ready {
        return Err(Fail(
            Some(format!(
                "{what} is not ready ({}): its values are not published yet",
                crate::describe::state_text(&info)
            )),
            1,
        ));
    }
    let Some(payload) = header.payload.clone() else {
        return Err(Fail(Some(format!("{what} has no payload yet")), 1));
    };
    let description = info.description()?;
    let root = description.get(description.root());
    if root.size != payload.type_size || root.align != payload.type_align {
        return Err(Fail(
            Some(format!(
                "{what}: its description says {} bytes aligned to {}, its header {} aligned to {}",
                root.size, root.align, payload.type_size, payload.type_align
            )),
            1,
        ));
    }
    if payload.type_size.checked_mul(payload.len) != Some(payload.payload_bytes) {
        return Err(Fail(
            Some(format!(
                "{what}: {} elements of {} bytes are not its {} payload bytes",
                payload.len, payload.type_size, payload.payload_bytes
            )),
            1,
        ));
    }
    Ok(Prepared {
        info,
        description,
        payload,
        what,
    })
}

/// A value as read, for the text and JSON output.
#[derive(Debug)]
pub enum Value {
    Unit,
    Unsigned(u128),
    Signed(i128),
    Float(f64),
    Bool(bool),
    /// A `bool` byte that is neither 0 nor 1.
    BadBool(u8),
    Char(char),
    BadChar(u32),
    Variant(String),
    BadVariant(u128),
    Struct(String, Vec<(String, Value)>),
    /// The elements shown, and how many there are.
    Array(Vec<Value>, u64),
    Text(String),
    Mutex {
        holder: Holder,
        inconsistent: bool,
        locked_read: bool,
        value: Box<Value>,
    },
    SeqLock(Box<Value>),
    /// The offset of its target from itself; `None`: null.
    RelPtr(Option<i64>),
    Opaque {
        name: String,
        bytes: Vec<u8>,
        len: u64,
    },
    /// Not read, and why.
    NotRead(String),
    /// What stopped the read.
    Error(String),
}

/// An `ShmMutex`'s holder, from its lock word.
#[derive(Debug)]
pub enum Holder {
    Free,
    Pid(u32, bool),
    Unknown(String),
}

pub fn run(args: DumpArgs) -> Result<(), Fail> {
    let target = args.target.target();
    let p = prepare(&target)?;
    let need = p
        .payload
        .end()
        .max(p.payload.description_offset + p.payload.description_len);
    let view = View::open(&target, args.lock, need, &p.what).map_err(|e| Fail(Some(e), 1))?;
    if (view.len() as u64) < p.payload.end() {
        return Err(Fail(
            Some(format!("{} is shorter than its payload", p.what)),
            1,
        ));
    }
    let name = crate::describe::display_name(&p.info.location);
    let ty = crate::describe::type_text(&p.info);
    let terminal = std::io::stdout().is_terminal();
    let mut taken = 0u64;
    loop {
        view.check(need, &p.what).map_err(|e| Fail(Some(e), 1))?;
        let value = snapshot(&p, &view, &args);
        // A truncation during the snapshot read zeros: not shown as values.
        view.check(need, &p.what).map_err(|e| Fail(Some(e), 1))?;
        let mut out = String::new();
        if args.json {
            let obj = json!({
                "name": name,
                "type": ty,
                "snapshot": taken,
                "value": to_json(&value),
            });
            out = obj.to_string();
            out.push('\n');
        } else {
            if args.watch.is_some() {
                if terminal {
                    out.push_str("\x1b[H\x1b[2J");
                } else if taken > 0 {
                    out.push('\n');
                }
            }
            out.push_str(&format!("{name}: {ty} = "));
            text(&mut out, &value, 0);
            out.push('\n');
        }
        let mut stdout = std::io::stdout().lock();
        if stdout
            .write_all(out.as_bytes())
            .and_then(|()| stdout.flush())
            .is_err()
        {
            return Ok(()); // the reader went away
        }
        drop(stdout);
        taken += 1;
        let Some(interval) = args.watch else { break };
        if args.count.is_some_and(|n| taken >= n) {
            break;
        }
        std::thread::sleep(interval);
    }
    Ok(())
}
