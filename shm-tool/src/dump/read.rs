//! Decoding a dump's values along the segment's layout description, one
//! snapshot at a time, within a budget of values and one timeout for all
//! waits. How each kind of value is read:
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

use super::mem::{signed, unsigned, Mem, NOT_READ_ONLY};
use super::{DumpArgs, Holder, Prepared, Value};
use crate::view::View;
use shm_runtime::layout::describe::{Description, FieldDesc, KindDesc, TypeId};
use shm_runtime::layout::{Access, Scalar};
use shm_runtime::{SeqLock, SharedSafe, ShmMutex};
use std::cell::Cell;
use std::time::{Duration, Instant};

/// The most values one snapshot builds (a bound on any description).
const BUDGET: u64 = 200_000;

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
pub(super) fn snapshot(p: &Prepared, view: &View, args: &DumpArgs) -> Value {
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
