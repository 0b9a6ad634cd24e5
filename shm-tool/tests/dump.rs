//! `shm-tool dump` against segments these tests make: every type of the
//! crate, in text and JSON, compared with exact snapshots (pids masked);
//! `--lock`, `--watch`, slices, files, and damaged segments.

use serde_json::Value;
use shm_runtime::init;
use shm_runtime::segment::Segment;
use shm_runtime::{
    FixedString, FixedVec, PodField, RelPtr, SeqLock, SharedSafe, ShmCondvar, ShmEvent, ShmMutex,
    ShmQueue, ShmSemaphore,
};
use std::num::NonZeroU32;
use std::os::unix::fs::FileExt;
use std::process::{Command, Output};
use std::sync::atomic::{AtomicBool, AtomicI32, AtomicU32, AtomicU64, Ordering};

const TOOL: &str = env!("CARGO_BIN_EXE_shm-tool");

fn name(what: &str) -> String {
    format!("/shm-tool-dump-test-{}-{what}", std::process::id())
}

/// A file path removed on drop, even when the test fails.
struct TempFile(std::path::PathBuf);

impl TempFile {
    fn new(what: &str) -> TempFile {
        TempFile(
            std::env::temp_dir().join(format!("shm-tool-dump-test-{}-{what}", std::process::id())),
        )
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

fn tool(args: &[&str]) -> Output {
    Command::new(TOOL)
        .args(args)
        .output()
        .expect("run shm-tool")
}

/// Runs the tool, asserts success, returns stdout with this process's pid
/// masked as `PID`.
fn ok(args: &[&str]) -> String {
    let out = tool(args);
    assert!(
        out.status.success(),
        "shm-tool {args:?} failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let me = std::process::id().to_string();
    String::from_utf8(out.stdout)
        .unwrap()
        .replace(&format!("pid {me} "), "pid PID ")
        .replace(&format!("\"holder_pid\":{me},"), "\"holder_pid\":\"PID\",")
}

/// Runs the tool, asserts a failure with exit status 1 (not a signal, not
/// a panic), returns stderr.
fn fails(args: &[&str]) -> String {
    let out = tool(args);
    let stderr = String::from_utf8(out.stderr).unwrap();
    assert_eq!(out.status.code(), Some(1), "shm-tool {args:?}: {stderr}");
    assert!(!stderr.contains("panicked"), "{stderr}");
    stderr
}

#[derive(SharedSafe, Clone, Copy)]
#[repr(u8)]
enum Level {
    Low = 1,
    High = 2,
}

#[derive(SharedSafe, Clone, Copy, PartialEq, Debug)]
#[repr(C)]
struct Limits {
    max_jobs: u32,
    max_bytes: u64,
}

#[derive(SharedSafe)]
#[repr(C)]
struct Inner {
    flags: [u8; 4],
    level: Level,
    low: Level,
    on: bool,
    letter: char,
}

/// A field of every kind the description has.
#[derive(SharedSafe)]
#[repr(C)]
struct Everything {
    small: u8,
    signed: i16,
    big: u64,
    wide: u128,
    neg: i64,
    ratio: f64,
    half: f32,
    size: usize,
    nonzero: NonZeroU32,
    inner: Inner,
    table: [u32; 1024],
    hits: AtomicU64,
    count: AtomicU32,
    healthy: AtomicBool,
    delta: AtomicI32,
    free: ShmMutex<u64>,
    held: ShmMutex<[u16; 3]>,
    limits: SeqLock<Limits>,
    title: FixedString<16>,
    items: FixedVec<u16, 8>,
    next: RelPtr<u64>,
    none: RelPtr<u64>,
    cv: ShmCondvar,
    event: ShmEvent,
    sem: ShmSemaphore,
    queue: ShmQueue<u32, 2>,
    pod: PodField<[u8; 4]>,
}

fn everything() -> Everything {
    let mut table = [0u32; 1024];
    table[3] = 1;
    let mut items = FixedVec::new();
    for i in [10u16, 20, 30] {
        items.push(i);
    }
    Everything {
        small: 200,
        signed: -300,
        big: 1 << 40,
        wide: u128::MAX,
        neg: -5,
        ratio: 0.25,
        half: -1.5,
        size: 7,
        nonzero: NonZeroU32::new(9).unwrap(),
        inner: Inner {
            flags: [1, 2, 3, 4],
            level: Level::High,
            low: Level::Low,
            on: true,
            letter: 'é',
        },
        table,
        hits: AtomicU64::new(0),
        count: AtomicU32::new(0),
        healthy: AtomicBool::new(false),
        delta: AtomicI32::new(0),
        free: ShmMutex::new(42),
        held: ShmMutex::new([1, 2, 3]),
        limits: SeqLock::new(Limits {
            max_jobs: 0,
            max_bytes: 0,
        }),
        title: "dump me".try_into().unwrap(),
        items,
        next: RelPtr::null(),
        none: RelPtr::null(),
        cv: ShmCondvar::new(),
        event: ShmEvent::new(),
        sem: ShmSemaphore::new(3),
        queue: ShmQueue::new(),
        pod: PodField::new([0xde, 0xad, 0xbe, 0xef]),
    }
}

/// Whether this target may load 8-byte atomics from read-only memory (not
/// 32-bit x86 or ARM): the snapshots say which fields it cannot read.
fn wide_atomics() -> bool {
    shm_runtime::volatile::READ_ONLY_ATOMIC_LIMIT >= 8
}

const TEXT_64: &str = r#"NAME: dump::Everything = Everything {
  small: 200
  signed: -300
  big: 1099511627776
  wide: 340282366920938463463374607431768211455
  neg: -5
  ratio: 0.25
  half: -1.5
  size: 7
  nonzero: 9
  inner: Inner { flags: [1, 2, 3, 4], level: High, low: Low, on: true, letter: 'é' }
  table: [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, … 1,008 more]
  hits: 12
  count: 5
  healthy: true
  delta: -2
  free: ShmMutex {
    holder: none (unlocked)
    value (unlocked read, may be torn): 42
  }
  held: ShmMutex {
    holder: pid PID (alive)
    value (unlocked read, may be torn): [1, 2, 3]
  }
  limits: SeqLock { value (consistent read): Limits { max_jobs: 8, max_bytes: 4096 } }
  title: "dump me"
  items: [10, 20, 30]
  next: RelPtr(OFFSET bytes from itself)
  none: RelPtr(null)
  cv: ShmCondvar { seq: 0, waiters: 0 }
  event: ShmEvent { state: 1 }
  sem: ShmSemaphore { permits: 3, waiters: 0 }
  queue: ShmQueue {
    head: 0
    tail: 0
    waits: queue waits {
      pop: queue sleepers { word: 0, count: 0, latest: 0 }
      push: queue sleepers { word: 0, count: 0, latest: 0 }
      users_ns: USERS_NS
    }
    slots: [
      ShmQueue slot { word: 0, record: 0, value: <written under the `ShmQueue slot v2` protocol> },
      ShmQueue slot { word: 0, record: 0, value: <written under the `ShmQueue slot v2` protocol> },
    ]
  }
  pod: <opaque `PodField`, 4 bytes: deadbeef>
}
"#;

/// [`TEXT_64`] on 32-bit x86 and ARM: the 8-byte atomics (the mutex words,
/// the SeqLock's, the queue's indices, `RelPtr`) cannot be loaded from
/// read-only memory there; everything else reads the same.
const TEXT_32: &str = r#"NAME: dump::Everything = Everything {
  small: 200
  signed: -300
  big: 1099511627776
  wide: 340282366920938463463374607431768211455
  neg: -5
  ratio: 0.25
  half: -1.5
  size: 7
  nonzero: 9
  inner: Inner { flags: [1, 2, 3, 4], level: High, low: Low, on: true, letter: 'é' }
  table: [0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, … 1,008 more]
  hits: <not readable read-only on this target>
  count: 5
  healthy: true
  delta: -2
  free: ShmMutex {
    holder: <not readable read-only on this target>
    value (unlocked read, may be torn): 42
  }
  held: ShmMutex {
    holder: <not readable read-only on this target>
    value (unlocked read, may be torn): [1, 2, 3]
  }
  limits: SeqLock { value: <not readable read-only on this target> }
  title: "dump me"
  items: [10, 20, 30]
  next: <not readable read-only on this target>
  none: <not readable read-only on this target>
  cv: ShmCondvar { seq: 0, waiters: 0 }
  event: ShmEvent { state: 1 }
  sem: ShmSemaphore { permits: 3, waiters: 0 }
  queue: ShmQueue {
    head: <not readable read-only on this target>
    tail: <not readable read-only on this target>
    waits: queue waits {
      pop: queue sleepers { word: 0, count: 0, latest: <not readable read-only on this target> }
      push: queue sleepers { word: 0, count: 0, latest: <not readable read-only on this target> }
      users_ns: <not readable read-only on this target>
    }
    slots: [
      ShmQueue slot {
        word: <not readable read-only on this target>
        record: <not readable read-only on this target>
        value: <written under the `ShmQueue slot v2` protocol>
      },
      ShmQueue slot {
        word: <not readable read-only on this target>
        record: <not readable read-only on this target>
        value: <written under the `ShmQueue slot v2` protocol>
      },
    ]
  }
  pod: <opaque `PodField`, 4 bytes: deadbeef>
}
"#;

/// The live segment of [`everything`], with values set after creation by
/// the atomics, locks and protocols, and `held` locked by this thread (the
/// queue is empty: its words are shown, its slots' items not read).
#[test]
#[cfg_attr(miri, ignore = "maps a named segment and runs the tool")]
fn every_crate_type_is_dumped_in_text_and_json() {
    let name = name("everything");
    let seg = Segment::posix(&name)
        .remove_on_drop(true)
        .create(everything())
        .unwrap();
    seg.hits.store(12, Ordering::Relaxed);
    seg.count.fetch_add(5, Ordering::Relaxed);
    seg.healthy.store(true, Ordering::Relaxed);
    seg.delta.store(-2, Ordering::Relaxed);
    seg.limits.write(Limits {
        max_jobs: 8,
        max_bytes: 4096,
    });
    seg.next.set(&seg.big);
    seg.event.set();
    let guard = seg.held.lock().unwrap();

    let offset = std::mem::offset_of!(Everything, big) as i64
        - std::mem::offset_of!(Everything, next) as i64;
    let users_ns = {
        let out = ok(&["dump", &name, "--json"]);
        let v: Value = serde_json::from_str(&out).unwrap();
        v["value"]["queue"]["waits"]["users_ns"].clone()
    };
    let text = ok(&["dump", &name]).replace(&name, "NAME");
    if wide_atomics() {
        let expected = TEXT_64
            .replace("OFFSET", &format!("{offset:+}"))
            .replace("USERS_NS", &users_ns.to_string());
        assert_eq!(text, expected);
    } else {
        assert_eq!(text, TEXT_32);
    }

    let json: Value = serde_json::from_str(&ok(&["dump", &name, "--json"])).unwrap();
    assert_eq!(json["name"], name.as_str());
    assert_eq!(json["type"], "dump::Everything");
    assert_eq!(json["snapshot"], 0);
    let v = &json["value"];
    let fields: Vec<&str> = v.as_object().unwrap().keys().map(|k| k.as_str()).collect();
    assert_eq!(fields.len(), 27, "{fields:?}");
    let expected_plain = serde_json::json!({
        "small": 200, "signed": -300, "big": 1u64 << 40,
        "wide": "340282366920938463463374607431768211455", "neg": -5, "ratio": 0.25,
        "half": -1.5, "size": 7, "nonzero": 9,
        "inner": {"flags": [1, 2, 3, 4], "level": "High", "low": "Low", "on": true, "letter": "é"},
        "count": 5, "healthy": true, "delta": -2,
        "title": "dump me", "items": [10, 20, 30],
        "cv": {"seq": 0, "waiters": 0}, "event": {"state": 1},
        "sem": {"permits": 3, "waiters": 0},
        "pod": {"opaque": "PodField", "len": 4, "hex": "deadbeef"},
    });
    for (k, want) in expected_plain.as_object().unwrap() {
        assert_eq!(&v[k], want, "field {k}");
    }
    assert_eq!(v["table"]["len"], 1024);
    assert_eq!(v["table"]["first"].as_array().unwrap().len(), 16);
    assert_eq!(v["table"]["first"][3], 1);
    if wide_atomics() {
        assert_eq!(v["hits"], 12);
        assert_eq!(v["none"], serde_json::json!({ "rel_ptr": null }));
        assert_eq!(v["next"], serde_json::json!({ "rel_ptr": offset }));
        assert_eq!(
            v["free"],
            serde_json::json!({"locked": false, "holder_pid": null, "holder_alive": null,
                "inconsistent": false, "read": "unlocked_may_be_torn", "value": 42})
        );
        assert_eq!(
            v["held"],
            serde_json::json!({"locked": true, "holder_pid": "PID",
                "holder_alive": true, "inconsistent": false,
                "read": "unlocked_may_be_torn", "value": [1, 2, 3]})
        );
        assert_eq!(
            v["limits"],
            serde_json::json!({"value": {"max_jobs": 8, "max_bytes": 4096}})
        );
        assert_eq!(v["queue"]["tail"], 0);
        assert_eq!(
            v["queue"]["slots"][0]["value"],
            serde_json::json!({"not_read": "written under the `ShmQueue slot v2` protocol"})
        );
    } else {
        let not = serde_json::json!({"not_read": "not readable read-only on this target"});
        assert_eq!(v["hits"], not);
        assert_eq!(v["limits"]["value"], not);
    }
    drop(guard);
}

/// `--lock` reads a free mutex's value under its lock; a mutex held by
/// another thread is waited for at most `--timeout`, then reported, and the
/// tool still exits (bounded).
#[test]
#[cfg_attr(miri, ignore = "maps a named segment and runs the tool")]
fn lock_reads_under_the_lock_and_gives_up_after_the_timeout() {
    #[derive(SharedSafe)]
    #[repr(C)]
    struct Two {
        free: ShmMutex<u32>,
        held: ShmMutex<u32>,
    }
    let name = name("lock");
    let seg = Segment::posix(&name)
        .remove_on_drop(true)
        .create(Two {
            free: ShmMutex::new(5),
            held: ShmMutex::new(6),
        })
        .unwrap();
    *seg.free.lock().unwrap() = 7;
    let guard = seg.held.lock().unwrap();
    let started = std::time::Instant::now();
    let text = ok(&["dump", &name, "--lock", "--timeout", "200ms"]).replace(&name, "NAME");
    let elapsed = started.elapsed();
    if !wide_atomics() {
        assert!(text.contains("holder: <not readable"), "{text}");
        return;
    }
    let expected =
        "NAME: dump::lock_reads_under_the_lock_and_gives_up_after_the_timeout::Two = Two {
  free: ShmMutex {
    holder: none (unlocked)
    value (read under the lock): 7
  }
  held: ShmMutex {
    holder: pid PID (alive)
    value (read under the lock): <error: not read: still held by another thread or process \
     when the timeout (200ms) ran out>
  }
}
";
    assert_eq!(text, expected);
    assert!(elapsed < std::time::Duration::from_secs(10), "{elapsed:?}");
    drop(guard);
    // The tool released the free mutex: this process takes it at once.
    assert_eq!(*seg.free.try_lock().unwrap(), 7);
}

/// `--watch` with `--count` prints that many snapshots, each showing the
/// value at that time; JSON numbers them.
#[test]
#[cfg_attr(miri, ignore = "maps a named segment and runs the tool")]
fn watch_prints_count_snapshots() {
    let name = name("watch");
    let seg = Segment::posix(&name)
        .remove_on_drop(true)
        .create(AtomicU32::new(3))
        .unwrap();
    let out = ok(&["dump", &name, "--watch", "10ms", "--count", "3", "--json"]);
    let snaps: Vec<Value> = out
        .lines()
        .map(|l| serde_json::from_str(l).unwrap())
        .collect();
    assert_eq!(snaps.len(), 3);
    for (i, s) in snaps.iter().enumerate() {
        assert_eq!(s["snapshot"], i);
        assert_eq!(s["value"], 3);
    }
    seg.store(4, Ordering::Relaxed);
    let text = ok(&["dump", &name, "--watch", "0.01", "--count", "2"]).replace(&name, "NAME");
    assert_eq!(
        text,
        "NAME: core::sync::atomic::AtomicU32 = 4\n\nNAME: core::sync::atomic::AtomicU32 = 4\n"
    );
}

/// A slice segment is its elements, summarized beyond `--limit`; a file
/// segment and a System V one dump like a POSIX one.
#[test]
#[cfg_attr(miri, ignore = "maps segments and runs the tool")]
fn slices_files_and_system_v_segments_are_dumped() {
    let file = TempFile::new("slice");
    let _slice = Segment::file(&file.0)
        .remove_on_drop(true)
        .create(init::from_fn(5, |i| i as u16 * 3))
        .unwrap();
    let path = file.0.to_str().unwrap();
    assert_eq!(
        ok(&["dump", "--file", path, "--limit", "2"]).replace(path, "PATH"),
        "PATH: [u16] = [0, 3, … 3 more]\n"
    );
    let json: Value = serde_json::from_str(&ok(&["dump", "--file", path, "--json"])).unwrap();
    assert_eq!(json["value"], serde_json::json!([0, 3, 6, 9, 12]));

    let key = shm_runtime::SysvKey::new(0x7d00_0000 | (std::process::id() as i32 & 0xf_ffff));
    let _sysv = Segment::sysv(key)
        .remove_on_drop(true)
        .create(FixedString::<8>::try_from("sysv").unwrap())
        .unwrap();
    let out = ok(&["dump", "--sysv", &format!("{}", key.get())]);
    assert!(
        out.ends_with(": shm_runtime::fixed::string::FixedString<8> = \"sysv\"\n"),
        "{out}"
    );
}

/// A damaged description block is a clear error (exit status 1), never a
/// panic or a crash: bytes changed (the checksum no longer matches), bytes
/// that are not a description under a matching checksum, and a file cut
/// inside the block or inside the payload.
#[test]
#[cfg_attr(miri, ignore = "maps files and runs the tool")]
fn damaged_descriptions_and_truncated_segments_are_errors() {
    let make = |what: &str| {
        let file = TempFile::new(what);
        Segment::file(&file.0)
            .create(Limits {
                max_jobs: 1,
                max_bytes: 2,
            })
            .unwrap();
        let info = shm_runtime::segment::inspect::inspect_file(&file.0).unwrap();
        let p = info.header().unwrap().payload.clone().unwrap();
        (file, p.description_offset, p.description_len)
    };
    let fnv = |bytes: &[u8]| {
        bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |h, b| {
            (h ^ u64::from(*b)).wrapping_mul(0x100_0000_01b3)
        })
    };

    let (file, off, _) = make("flipped");
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&file.0)
        .unwrap();
    f.write_all_at(b"XXXX", off).unwrap();
    let err = fails(&["dump", "--file", file.0.to_str().unwrap()]);
    assert!(err.contains("checksum"), "{err}");

    let (file, off, len) = make("garbage");
    let f = std::fs::OpenOptions::new()
        .write(true)
        .open(&file.0)
        .unwrap();
    let garbage: Vec<u8> = (0..len).map(|i| (i * 7 + 1) as u8).collect();
    f.write_all_at(&garbage, off).unwrap();
    f.write_all_at(&fnv(&garbage).to_ne_bytes(), 232).unwrap();
    let err = fails(&["dump", "--file", file.0.to_str().unwrap()]);
    assert!(err.contains("layout description"), "{err}");

    let (file, off, _) = make("cut");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file.0)
        .unwrap()
        .set_len(off + 4)
        .unwrap();
    let err = fails(&["dump", "--file", file.0.to_str().unwrap()]);
    assert!(err.contains("shm-tool: error:"), "{err}");

    let (file, _, _) = make("short");
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file.0)
        .unwrap()
        .set_len(260)
        .unwrap();
    let err = fails(&["dump", "--file", file.0.to_str().unwrap()]);
    assert!(err.contains("shm-tool: error:"), "{err}");

    let err = fails(&["dump", &name("missing")]);
    assert!(err.contains("shm-tool: error:"), "{err}");
}

/// A file segment truncated while `--watch` reads it again and again: the
/// tool stops with an error that says so (its size checks, or its SIGBUS
/// handler when the truncation lands inside a snapshot), never a crash.
#[test]
#[cfg_attr(miri, ignore = "maps files and runs the tool")]
fn a_segment_truncated_while_it_is_watched_is_an_error() {
    let file = TempFile::new("shrinking");
    let out = TempFile::new("shrinking-out");
    let _seg = Segment::file(&file.0)
        .create(init::from_fn(50_000, |i| i as u32))
        .unwrap();
    let mut child = Command::new(TOOL)
        .args(["dump", "--file", file.0.to_str().unwrap()])
        .args(["--watch", "1ms", "--count", "100000", "--limit", "50000"])
        .stdout(std::fs::File::create(&out.0).unwrap())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    std::thread::sleep(std::time::Duration::from_millis(100));
    std::fs::OpenOptions::new()
        .write(true)
        .open(&file.0)
        .unwrap()
        .set_len(4096)
        .unwrap();
    // Bounded: the tool is killed after a minute (then the test fails).
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(60);
    while child.try_wait().unwrap().is_none() && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    let _ = child.kill();
    let result = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&result.stderr);
    assert_eq!(
        result.status.code(),
        Some(1),
        "{:?}: {stderr}",
        result.status
    );
    assert!(stderr.contains("truncated"), "{stderr}");
}
