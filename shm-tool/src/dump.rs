//! `shm-tool dump`: the live values of a segment, decoded from the layout
//! description stored in it, without the program that made it.
//!
//! The segment is inspected (header checks, the description's bounds and
//! checksum, a bounded decode: [`SegmentInfo::description`]), then mapped
//! whole, read-only ([`View`]). The description is untrusted: every read
//! checks its offset and length against the payload, and the payload
//! against the mapping. How each kind of value is read:
//!
//! - plain fields: volatile copies (written at creation only);
//! - atomics: `Relaxed` loads of their width, where the target allows such
//!   a load on read-only memory (`READ_ONLY_ATOMIC_LIMIT`), else shown as
//!   not readable;
//! - a `SeqLock`: [`SeqLock::read_untyped`], the same protocol and
//!   word/byte split as its writers, its data runs computed from the
//!   description;
//! - an `ShmMutex`: its holder from the lock word, its value by volatile
//!   copies labelled "unlocked read, may be torn"; with `--lock`, the
//!   segment is mapped read-write and the value read while this process
//!   holds the lock (taken with a bounded wait);
//! - a queue slot's item and other values written under a protocol the
//!   tool does not know: not read.

use crate::view::View;
use crate::{Fail, Target};
use serde_json::{json, Map, Value as Json};
use shm_runtime::layout::describe::{Description, FieldDesc, KindDesc, TypeId};
use shm_runtime::layout::{Access, Scalar};
use shm_runtime::segment::inspect::{PayloadInfo, SegmentInfo, State};
use shm_runtime::volatile::READ_ONLY_ATOMIC_LIMIT;
use shm_runtime::{SeqLock, SharedSafe, ShmMutex};
use std::cell::Cell;
use std::ffi::OsString;
use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::time::{Duration, Instant};

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

/// The most values one snapshot builds (a bound on any description).
const BUDGET: u64 = 200_000;
const NOT_READ_ONLY: &str = "not readable read-only on this target";

/// Where a value's bytes are: the live mapping, or a private copy (a
/// `SeqLock`'s consistent copy).
#[derive(Clone, Copy)]
enum Mem<'a> {
    /// The payload, `len` bytes at `base` inside the view.
    Live {
        base: *const u8,
        len: u64,
    },
    Copy(&'a [u8]),
}

impl Mem<'_> {
    fn len(&self) -> u64 {
        match self {
            Mem::Live { len, .. } => *len,
            Mem::Copy(bytes) => bytes.len() as u64,
        }
    }

    /// Whether `at..at + n` lies inside.
    fn holds(&self, at: u64, n: u64) -> bool {
        at.checked_add(n).is_some_and(|end| end <= self.len())
    }

    /// A volatile copy of `n` bytes at `at` (checked by the caller with
    /// `holds`).
    fn plain(&self, at: u64, out: &mut [u8]) {
        match self {
            Mem::Live { base, .. } => {
                // SAFETY: `at + out.len()` is inside the payload (checked by
                // the caller), which is inside the mapping (checked when it
                // was prepared). Volatile byte copies create no reference;
                // the fields read this way are plain data, written at
                // creation or (an `ShmMutex`'s value) by a holder: a torn
                // copy is said to be possible.
                for (i, b) in out.iter_mut().enumerate() {
                    // SAFETY: as above: a byte of the payload.
                    *b = unsafe { base.add(at as usize + i).read_volatile() };
                }
            }
            Mem::Copy(bytes) => {
                out.copy_from_slice(&bytes[at as usize..at as usize + out.len()]);
            }
        }
    }

    /// An aligned scalar of `n` (1, 2, 4, 8, 16) bytes, as bytes in
    /// memory order; atomics with a `Relaxed` load of their width.
    fn scalar(&self, at: u64, n: u64, atomic: bool) -> Result<Vec<u8>, String> {
        if !self.holds(at, n) {
            return Err(format!(
                "{n} bytes at {at} lie outside the {}-byte value",
                self.len()
            ));
        }
        let mut out = vec![0u8; n as usize];
        match self {
            Mem::Live { base, .. } if atomic => {
                if n as usize > READ_ONLY_ATOMIC_LIMIT {
                    return Err(NOT_READ_ONLY.into());
                }
                // SAFETY: inside the mapping (checked above).
                let ptr = unsafe { base.add(at as usize) };
                if !(ptr as usize).is_multiple_of(n as usize) {
                    return Err(format!("a misaligned {n}-byte atomic at {at}"));
                }
                // SAFETY: an aligned atomic of width `n` inside the mapping,
                // which writers access as this atomic; only loaded with
                // `Relaxed` (what std allows on read-only memory, up to
                // `READ_ONLY_ATOMIC_LIMIT`, checked), through a cast.
                unsafe {
                    use std::sync::atomic::*;
                    match n {
                        1 => out.copy_from_slice(
                            &(*ptr.cast::<AtomicU8>())
                                .load(Ordering::Relaxed)
                                .to_ne_bytes(),
                        ),
                        2 => out.copy_from_slice(
                            &(*ptr.cast::<AtomicU16>())
                                .load(Ordering::Relaxed)
                                .to_ne_bytes(),
                        ),
                        4 => out.copy_from_slice(
                            &(*ptr.cast::<AtomicU32>())
                                .load(Ordering::Relaxed)
                                .to_ne_bytes(),
                        ),
                        #[cfg(target_has_atomic = "64")]
                        8 => out.copy_from_slice(
                            &(*ptr.cast::<AtomicU64>())
                                .load(Ordering::Relaxed)
                                .to_ne_bytes(),
                        ),
                        _ => return Err(NOT_READ_ONLY.into()),
                    }
                }
            }
            _ => self.plain(at, &mut out),
        }
        Ok(out)
    }
}

fn unsigned(bytes: &[u8]) -> u128 {
    let mut wide = [0u8; 16];
    if cfg!(target_endian = "little") {
        wide[..bytes.len()].copy_from_slice(bytes);
        u128::from_le_bytes(wide)
    } else {
        wide[16 - bytes.len()..].copy_from_slice(bytes);
        u128::from_be_bytes(wide)
    }
}

fn signed(bytes: &[u8]) -> i128 {
    let bits = bytes.len() * 8;
    let raw = unsigned(bytes);
    if bits == 0 || bits >= 128 {
        return raw as i128;
    }
    let shift = 128 - bits;
    ((raw << shift) as i128) >> shift
}

/// The ranges of data bytes (not padding) of `ty`, as the layout computes
/// them (`for_each_data_run`): what a `SeqLock`'s writers split by.
fn data_runs(
    d: &Description,
    ty: TypeId,
    at: u64,
    runs: &mut Vec<(usize, usize)>,
    budget: &mut u64,
) -> bool {
    let t = d.get(ty);
    if t.size == 0 {
        return true;
    }
    if *budget == 0 {
        return false;
    }
    *budget -= 1;
    if !has_padding(d, ty) {
        let (s, e) = (at as usize, (at + t.size) as usize);
        match runs.last_mut() {
            Some(last) if last.1 == s => last.1 = e,
            _ => runs.push((s, e)),
        }
        return true;
    }
    match &t.kind {
        KindDesc::Array { element, len } => {
            let size = d.get(*element).size;
            (0..*len).all(|i| data_runs(d, *element, at + i * size, runs, budget))
        }
        KindDesc::Struct { fields, .. } | KindDesc::Library { fields, .. } => fields
            .iter()
            .all(|f| data_runs(d, f.ty, at + f.offset, runs, budget)),
        _ => true,
    }
}

/// As `TypeLayout::has_padding`, from the description.
fn has_padding(d: &Description, ty: TypeId) -> bool {
    let t = d.get(ty);
    let gaps = |fields: &[FieldDesc]| {
        let mut covered = 0;
        for f in fields {
            let size = d.get(f.ty).size;
            if size == 0 {
                continue;
            }
            if f.offset != covered || has_padding(d, f.ty) {
                return true;
            }
            covered = f.offset + size;
        }
        covered != t.size
    };
    match &t.kind {
        KindDesc::Array { element, .. } => has_padding(d, *element),
        KindDesc::Struct { fields, .. } => gaps(fields),
        KindDesc::Library { fields, .. } => !fields.is_empty() && gaps(fields),
        _ => false,
    }
}

fn field<'f>(fields: &'f [FieldDesc], name: &str) -> Option<&'f FieldDesc> {
    fields.iter().find(|f| f.name == name)
}

/// Whether a process exists (a zombie does not count).
fn pid_alive(pid: u32) -> bool {
    // SAFETY: signal 0 only checks existence and permission.
    let r = unsafe { libc::kill(pid as libc::pid_t, 0) };
    let exists = r == 0 || std::io::Error::last_os_error().raw_os_error() == Some(libc::EPERM);
    if !exists {
        return false;
    }
    #[cfg(target_os = "linux")]
    if let Ok(stat) = std::fs::read_to_string(format!("/proc/{pid}/stat")) {
        if let Some(state) = stat
            .rsplit(')')
            .next()
            .and_then(|r| r.split_whitespace().next())
        {
            return state != "Z" && state != "X";
        }
    }
    true
}

/// Reads values along a description.
struct Reader<'a> {
    d: &'a Description,
    limit: u64,
    /// When the snapshot's waits (SeqLock retries, locks) must end: one
    /// `--timeout` for the whole snapshot, however many locks it holds.
    deadline: Instant,
    /// `--timeout`, for messages.
    timeout: Duration,
    /// `dump --lock`: the view is writable.
    lock: bool,
    budget: Cell<u64>,
}

impl Reader<'_> {
    /// What is left of the snapshot's timeout.
    fn left(&self) -> Duration {
        self.deadline.saturating_duration_since(Instant::now())
    }

    fn value(&self, mem: Mem<'_>, at: u64, ty: TypeId) -> Value {
        let t = self.d.get(ty);
        if !mem.holds(at, t.size) {
            return Value::Error(format!(
                "`{}` ({} bytes at {at}) lies outside the {}-byte value",
                t.name,
                t.size,
                mem.len()
            ));
        }
        let left = self.budget.get();
        if left == 0 {
            return Value::NotRead("beyond the output's limit".into());
        }
        self.budget.set(left - 1);
        match &t.kind {
            KindDesc::Scalar(s) => self.scalar(mem, at, t.size, *s),
            KindDesc::Enum { repr, variants } => match mem.scalar(at, t.size, false) {
                Ok(bytes) => {
                    let raw = if *repr == Scalar::Signed {
                        signed(&bytes) as u128
                    } else {
                        unsigned(&bytes)
                    };
                    match variants.iter().find(|v| v.value == raw) {
                        Some(v) => Value::Variant(v.name.clone()),
                        None => Value::BadVariant(raw),
                    }
                }
                Err(e) => Value::Error(e),
            },
            KindDesc::Array { element, len } => self.array(mem, at, *element, *len, *len),
            KindDesc::Struct { fields, .. } => self.fields(mem, at, &t.name, fields, None),
            KindDesc::Library {
                protocol,
                fields,
                params,
                ..
            } => self.library(mem, at, ty, protocol, params, fields),
            _ => Value::NotRead(format!(
                "`{}`: a kind of type this tool does not know",
                t.name
            )),
        }
    }

    fn scalar(&self, mem: Mem<'_>, at: u64, size: u64, s: Scalar) -> Value {
        let atomic = matches!(
            s,
            Scalar::AtomicUnsigned | Scalar::AtomicSigned | Scalar::AtomicBool
        );
        if size == 0 {
            return Value::Unit;
        }
        let bytes = match mem.scalar(at, size, atomic) {
            Ok(bytes) => bytes,
            Err(e) if e == NOT_READ_ONLY => return Value::NotRead(e),
            Err(e) => return Value::Error(e),
        };
        match s {
            Scalar::Unsigned | Scalar::NonZeroUnsigned | Scalar::AtomicUnsigned => {
                Value::Unsigned(unsigned(&bytes))
            }
            Scalar::Signed | Scalar::NonZeroSigned | Scalar::AtomicSigned => {
                Value::Signed(signed(&bytes))
            }
            Scalar::Float if size == 4 => {
                Value::Float(f32::from_bits(unsigned(&bytes) as u32) as f64)
            }
            Scalar::Float if size == 8 => Value::Float(f64::from_bits(unsigned(&bytes) as u64)),
            Scalar::Bool => match bytes[0] {
                0 => Value::Bool(false),
                1 => Value::Bool(true),
                b => Value::BadBool(b),
            },
            // As a monitor reads it: any byte but 0 is true.
            Scalar::AtomicBool => Value::Bool(bytes[0] != 0),
            Scalar::Char if size == 4 => {
                let raw = unsigned(&bytes) as u32;
                char::from_u32(raw).map_or(Value::BadChar(raw), Value::Char)
            }
            Scalar::Unit => Value::Unit,
            _ => Value::Opaque {
                name: format!("{s:?}"),
                len: size,
                bytes,
            },
        }
    }

    /// `shown` of an array's `len` elements (the rest summarized beyond the
    /// limit).
    fn array(&self, mem: Mem<'_>, at: u64, element: TypeId, len: u64, total: u64) -> Value {
        let size = self.d.get(element).size;
        let shown = len.min(self.limit);
        let items = (0..shown)
            .map(|i| self.value(mem, at + i * size, element))
            .collect();
        Value::Array(items, total)
    }

    /// A struct's or library type's fields; `protected` says why the
    /// protocol fields are not read (`None`: read them).
    fn fields(
        &self,
        mem: Mem<'_>,
        at: u64,
        name: &str,
        fields: &[FieldDesc],
        protected: Option<&str>,
    ) -> Value {
        let values = fields
            .iter()
            .map(|f| {
                let v = match (f.access, protected) {
                    (Access::Protocol, Some(why)) => Value::NotRead(why.to_owned()),
                    _ => self.value(mem, at + f.offset, f.ty),
                };
                (f.name.clone(), v)
            })
            .collect();
        Value::Struct(name.to_owned(), values)
    }

    fn library(
        &self,
        mem: Mem<'_>,
        at: u64,
        ty: TypeId,
        protocol: &str,
        params: &[(String, u64)],
        fields: &[FieldDesc],
    ) -> Value {
        let t = self.d.get(ty);
        let capacity = params.iter().find(|(n, _)| n == "capacity").map(|p| p.1);
        match protocol {
            "FixedString utf8-prefix v1" => {
                if let (Some(len), Some(bytes), Some(cap)) =
                    (field(fields, "len"), field(fields, "bytes"), capacity)
                {
                    if let Value::Unsigned(n) = self.value(mem, at + len.offset, len.ty) {
                        let n = (n as u64).min(cap);
                        if mem.holds(at + bytes.offset, n) {
                            let mut raw = vec![0u8; n as usize];
                            mem.plain(at + bytes.offset, &mut raw);
                            // As `as_str`: the valid UTF-8 prefix.
                            let text = match std::str::from_utf8(&raw) {
                                Ok(s) => s.to_owned(),
                                Err(e) => {
                                    String::from_utf8_lossy(&raw[..e.valid_up_to()]).into_owned()
                                }
                            };
                            return Value::Text(text);
                        }
                    }
                }
            }
            "FixedVec clamped-len v1" => {
                if let (Some(len), Some(items), Some(cap)) =
                    (field(fields, "len"), field(fields, "items"), capacity)
                {
                    if let (Value::Unsigned(n), KindDesc::Array { element, .. }) = (
                        self.value(mem, at + len.offset, len.ty),
                        &self.d.get(items.ty).kind,
                    ) {
                        let n = (n as u64).min(cap);
                        return self.array(mem, at + items.offset, *element, n, n);
                    }
                }
            }
            "ShmMutex futex v5" => {
                if let Some(v) = self.mutex(mem, at, fields) {
                    return v;
                }
            }
            "SeqLock atomic-words v2" => {
                if let Some(v) = self.seqlock(mem, at, fields) {
                    return v;
                }
            }
            // Stored: the target's offset from the pointer, minus 1; 0 is
            // null.
            "RelPtr repr(transparent) target-self-1 0=null" => {
                if let Some(off) = field(fields, "offset") {
                    return match self.value(mem, at + off.offset, off.ty) {
                        Value::Signed(0) => Value::RelPtr(None),
                        Value::Signed(n) => Value::RelPtr(i64::try_from(n + 1).ok()),
                        other => other,
                    };
                }
            }
            _ => {}
        }
        if fields.is_empty() {
            let shown = t.size.min(64);
            let mut bytes = vec![0u8; shown as usize];
            mem.plain(at, &mut bytes);
            return Value::Opaque {
                name: t.name.clone(),
                bytes,
                len: t.size,
            };
        }
        let why = format!("written under the `{protocol}` protocol");
        self.fields(mem, at, &t.name, fields, Some(&why))
    }

    fn mutex(&self, mem: Mem<'_>, at: u64, fields: &[FieldDesc]) -> Option<Value> {
        let lock = field(fields, "lock")?;
        let value = field(fields, "value")?;
        let inconsistent = field(fields, "inconsistent")?;
        let holder = match mem.scalar(at + lock.offset, 8, true) {
            Ok(bytes) => {
                let word = unsigned(&bytes) as u64;
                if word & 0xf_ffff == 0 {
                    Holder::Free
                } else {
                    let pid = (word >> 32) as u32;
                    Holder::Pid(pid, pid_alive(pid))
                }
            }
            Err(e) => Holder::Unknown(e),
        };
        let inconsistent = matches!(
            self.value(mem, at + inconsistent.offset, inconsistent.ty),
            Value::Unsigned(n) if n != 0
        );
        let locked = match (self.lock, mem) {
            (true, Mem::Live { base, .. }) => Some(self.under_lock(base, at, fields)),
            _ => None,
        };
        let read = || Box::new(self.value(mem, at + value.offset, value.ty));
        Some(match locked {
            Some(Ok(guard)) => {
                let v = read();
                drop(guard);
                Value::Mutex {
                    holder,
                    inconsistent,
                    locked_read: true,
                    value: v,
                }
            }
            Some(Err(e)) => Value::Mutex {
                holder,
                inconsistent,
                locked_read: true,
                value: Box::new(Value::Error(e)),
            },
            None => Value::Mutex {
                holder,
                inconsistent,
                locked_read: false,
                value: read(),
            },
        })
    }

    /// Takes the lock of the `ShmMutex` at `at` (its header, as an
    /// `ShmMutex<()>`: the same words at the same offsets, checked against
    /// the description), waiting up to the timeout.
    fn under_lock<'v>(
        &self,
        base: *const u8,
        at: u64,
        fields: &[FieldDesc],
    ) -> Result<shm_runtime::ShmMutexGuard<'v, ()>, String> {
        let ours = Description::of(<ShmMutex<()>>::LAYOUT).map_err(|e| e.to_string())?;
        let KindDesc::Library {
            fields: our_fields, ..
        } = &ours.get(ours.root()).kind
        else {
            return Err("ShmMutex<()> is not a library type".into());
        };
        for f in our_fields.iter().filter(|f| f.access == Access::Plain) {
            let same = field(fields, &f.name).is_some_and(|g| {
                g.offset == f.offset
                    && self.d.get(g.ty).name == ours.get(f.ty).name
                    && self.d.get(g.ty).size == ours.get(f.ty).size
            });
            if !same {
                return Err(format!(
                    "not locked: its `{}` word is not where this tool's ShmMutex has it",
                    f.name
                ));
            }
        }
        // SAFETY: inside the payload: the whole `ShmMutex<T>` (at least its
        // header long, since its words are where ours are) was checked to be.
        let ptr = unsafe { base.add(at as usize) };
        if !(ptr as usize).is_multiple_of(std::mem::align_of::<ShmMutex<()>>()) {
            return Err("not locked: a misaligned ShmMutex".into());
        }
        // SAFETY: `ptr` is an aligned `ShmMutex<T>` in a read-write shared
        // mapping that outlives the guard (the view lives for the whole
        // snapshot); its lock words are those of an `ShmMutex<()>` at the
        // same offsets (checked above against this library's own
        // description), and `()` occupies none of the value's bytes. The
        // lock only touches those words, atomically, as every process does.
        let mutex = unsafe { &*ptr.cast::<ShmMutex<()>>() };
        match mutex.lock_timeout(self.left()) {
            Ok(Ok(guard)) => Ok(guard),
            Ok(Err(died)) => match died.into_inner() {
                Ok(guard) => Ok(guard),
                Err(_) => Err("not read: its holder died and the value is torn".into()),
            },
            Err(e) if e.kind() == shm_runtime::ErrorKind::TimedOut => Err(format!(
                "not read: still held by another thread or process when the timeout ({:?}) ran out",
                self.timeout
            )),
            Err(e) => Err(format!("not read: {}", crate::chain(&e))),
        }
    }

    fn seqlock(&self, mem: Mem<'_>, at: u64, fields: &[FieldDesc]) -> Option<Value> {
        let value = field(fields, "value")?;
        let size = self.d.get(value.ty).size;
        let mut copy = vec![0u8; size as usize];
        match mem {
            Mem::Live { base, .. } => {
                let mut runs = Vec::new();
                let mut budget = 1 << 20;
                if !data_runs(self.d, value.ty, 0, &mut runs, &mut budget) {
                    return Some(Value::Error(
                        "a SeqLock value with too many data ranges".into(),
                    ));
                }
                if !mem.holds(at, value.offset + size) {
                    return Some(Value::Error("a SeqLock outside the value".into()));
                }
                // SAFETY: the lock and its value lie inside the payload
                // (checked), mapped for the whole snapshot; the runs are
                // its value type's, from the description the writers'
                // type was described by (the segment's fingerprint is that
                // description's).
                let read = unsafe {
                    SeqLock::read_untyped(
                        base.add(at as usize),
                        value.offset as usize,
                        &runs,
                        &mut copy,
                        self.left(),
                    )
                };
                if let Err(e) = read {
                    return Some(Value::SeqLock(Box::new(
                        if e.kind() == shm_runtime::ErrorKind::Unsupported {
                            Value::NotRead(NOT_READ_ONLY.into())
                        } else {
                            Value::Error(crate::chain(&e))
                        },
                    )));
                }
            }
            // Already a consistent copy (inside a value copied whole).
            Mem::Copy(_) => mem.plain(at + value.offset, &mut copy),
        }
        Some(Value::SeqLock(Box::new(self.value(
            Mem::Copy(&copy),
            0,
            value.ty,
        ))))
    }
}

/// One snapshot of the payload.
fn snapshot(p: &Prepared, view: &View, args: &DumpArgs) -> Value {
    let reader = Reader {
        d: &p.description,
        limit: args.limit,
        deadline: Instant::now() + args.timeout,
        timeout: args.timeout,
        lock: args.lock,
        budget: Cell::new(BUDGET),
    };
    // SAFETY: `payload_offset + payload_bytes <= view.len()` (checked
    // before the first snapshot).
    let base = unsafe { view.ptr().add(p.payload.payload_offset as usize) };
    let mem = Mem::Live {
        base,
        len: p.payload.payload_bytes,
    };
    let root = p.description.root();
    if p.payload.slice {
        reader.array(mem, 0, root, p.payload.len, p.payload.len)
    } else {
        reader.value(mem, 0, root)
    }
}

// ---------------------------------------------------------------------------
// Output

fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn holder_text(h: &Holder) -> String {
    match h {
        Holder::Free => "none (unlocked)".into(),
        Holder::Pid(pid, true) => format!("pid {pid} (alive)"),
        Holder::Pid(pid, false) => format!("pid {pid} (dead)"),
        Holder::Unknown(why) => format!("<{why}>"),
    }
}

/// The value on one line, if it fits in `width` columns.
fn inline(v: &Value) -> Option<String> {
    Some(match v {
        Value::Unit => "()".into(),
        Value::Unsigned(n) => n.to_string(),
        Value::Signed(n) => n.to_string(),
        Value::Float(f) => format!("{f:?}"),
        Value::Bool(b) => b.to_string(),
        Value::BadBool(b) => format!("<invalid bool {b:#04x}>"),
        Value::Char(c) => format!("{c:?}"),
        Value::BadChar(c) => format!("<invalid char {c:#x}>"),
        Value::Variant(name) => name.clone(),
        Value::BadVariant(n) => format!("<invalid discriminant {n}>"),
        Value::Text(s) => format!("{s:?}"),
        Value::RelPtr(None) => "RelPtr(null)".into(),
        Value::RelPtr(Some(n)) => format!("RelPtr({n:+} bytes from itself)"),
        Value::Opaque { name, bytes, len } => {
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let more = if (bytes.len() as u64) < *len {
                "…"
            } else {
                ""
            };
            format!("<opaque `{name}`, {len} bytes: {hex}{more}>")
        }
        Value::NotRead(why) => format!("<{why}>"),
        Value::Error(why) => format!("<error: {why}>"),
        Value::Array(items, total) => {
            let parts: Option<Vec<String>> = items.iter().map(inline).collect();
            let mut s = parts?.join(", ");
            let more = total - items.len() as u64;
            if more > 0 {
                s.push_str(&format!(", … {} more", group(more)));
            }
            let s = format!("[{s}]");
            if s.len() > 100 {
                return None;
            }
            s
        }
        Value::Struct(name, fields) => {
            let parts: Option<Vec<String>> = fields
                .iter()
                .map(|(k, v)| inline(v).map(|v| format!("{k}: {v}")))
                .collect();
            let s = format!("{name} {{ {} }}", parts?.join(", "));
            if s.len() > 100 {
                return None;
            }
            s
        }
        Value::Mutex { .. } | Value::SeqLock(_) => return None,
    })
}

/// Writes `v` at `indent` (the first line already started).
fn text(out: &mut String, v: &Value, indent: usize) {
    let pad = "  ".repeat(indent + 1);
    let close = "  ".repeat(indent);
    if let Some(s) = inline(v) {
        out.push_str(&s);
        return;
    }
    match v {
        Value::Struct(name, fields) => {
            out.push_str(&format!("{name} {{\n"));
            for (k, f) in fields {
                out.push_str(&format!("{pad}{k}: "));
                text(out, f, indent + 1);
                out.push('\n');
            }
            out.push_str(&format!("{close}}}"));
        }
        Value::Array(items, total) => {
            out.push_str("[\n");
            for item in items {
                out.push_str(&pad);
                text(out, item, indent + 1);
                out.push_str(",\n");
            }
            let more = total - items.len() as u64;
            if more > 0 {
                out.push_str(&format!("{pad}… {} more\n", group(more)));
            }
            out.push_str(&format!("{close}]"));
        }
        Value::Mutex {
            holder,
            inconsistent,
            locked_read,
            value,
        } => {
            out.push_str("ShmMutex {\n");
            out.push_str(&format!("{pad}holder: {}\n", holder_text(holder)));
            if *inconsistent {
                out.push_str(&format!(
                    "{pad}inconsistent: true (a holder died; mark_consistent not called)\n"
                ));
            }
            let label = if *locked_read {
                "value (read under the lock)"
            } else {
                "value (unlocked read, may be torn)"
            };
            out.push_str(&format!("{pad}{label}: "));
            text(out, value, indent + 1);
            out.push_str(&format!("\n{close}}}"));
        }
        Value::SeqLock(value) => {
            out.push_str(match **value {
                Value::NotRead(_) | Value::Error(_) => "SeqLock { value: ",
                _ => "SeqLock { value (consistent read): ",
            });
            text(out, value, indent);
            out.push_str(" }");
        }
        _ => unreachable!("every other value is inline"),
    }
}

fn number_u(n: u128) -> Json {
    u64::try_from(n).map_or_else(|_| Json::String(n.to_string()), Json::from)
}

/// The JSON of a value (documented in the README).
fn to_json(v: &Value) -> Json {
    match v {
        Value::Unit => Json::Null,
        Value::Unsigned(n) => number_u(*n),
        Value::Signed(n) => {
            i64::try_from(*n).map_or_else(|_| Json::String(n.to_string()), Json::from)
        }
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map_or_else(|| Json::String(format!("{f:?}")), Json::Number),
        Value::Bool(b) => Json::Bool(*b),
        Value::BadBool(b) => json!({ "invalid_bool": b }),
        Value::Char(c) => Json::String(c.to_string()),
        Value::BadChar(c) => json!({ "invalid_char": c }),
        Value::Variant(name) => Json::String(name.clone()),
        Value::BadVariant(n) => json!({ "invalid_discriminant": number_u(*n) }),
        Value::Text(s) => Json::String(s.clone()),
        Value::RelPtr(n) => json!({ "rel_ptr": n }),
        Value::Opaque { name, bytes, len } => json!({
            "opaque": name,
            "len": len,
            "hex": bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        }),
        Value::NotRead(why) => json!({ "not_read": why }),
        Value::Error(why) => json!({ "error": why }),
        Value::Array(items, total) => {
            let items: Vec<Json> = items.iter().map(to_json).collect();
            if *total == items.len() as u64 {
                Json::Array(items)
            } else {
                json!({ "len": total, "first": items })
            }
        }
        Value::Struct(_, fields) => {
            let mut map = Map::new();
            for (k, f) in fields {
                map.insert(k.clone(), to_json(f));
            }
            Json::Object(map)
        }
        Value::Mutex {
            holder,
            inconsistent,
            locked_read,
            value,
        } => {
            let mut map = Map::new();
            let (pid, alive) = match holder {
                Holder::Free => (Json::Null, Json::Null),
                Holder::Pid(pid, alive) => (Json::from(*pid), Json::Bool(*alive)),
                Holder::Unknown(why) => (json!({ "not_read": why }), Json::Null),
            };
            map.insert("locked".into(), Json::Bool(!matches!(holder, Holder::Free)));
            map.insert("holder_pid".into(), pid);
            map.insert("holder_alive".into(), alive);
            map.insert("inconsistent".into(), Json::Bool(*inconsistent));
            map.insert(
                "read".into(),
                Json::String(
                    if *locked_read {
                        "under_lock"
                    } else {
                        "unlocked_may_be_torn"
                    }
                    .into(),
                ),
            );
            map.insert("value".into(), to_json(value));
            Json::Object(map)
        }
        Value::SeqLock(value) => json!({ "value": to_json(value) }),
    }
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
