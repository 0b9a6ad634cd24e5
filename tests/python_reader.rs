//! The pure-Python reader (`python/shm_runtime_reader.py`) against segments
//! made here: `python/test_reader.py` (a unittest script) reads a segment
//! of every kind of field by name and path, a file segment of a slice, and
//! a `SeqLock` that a thread of this process rewrites meanwhile; it also
//! checks that damaged copies are refused. The test passes when the script
//! does. Skipped, with a message, only when `python3` is not installed (CI
//! installs it).

use shm_runtime::init;
use shm_runtime::{
    FixedString, FixedVec, PodField, RelPtr, Segment, SeqLock, SharedSafe, ShmMutex,
};
use shm_workspace::TempPath;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

#[derive(SharedSafe)]
#[repr(C)]
struct Stats {
    hits: u64,
    errors: u32,
}

#[derive(SharedSafe)]
#[repr(u16)]
enum Mode {
    Idle = 0,
    Busy = 7,
}

#[derive(SharedSafe, Clone, Copy)]
#[repr(C)]
struct Limits {
    max_jobs: u32,
    max_bytes: u64,
}

#[derive(SharedSafe)]
#[repr(C)]
struct Inner {
    flags: [u8; 4],
    mode: Mode,
    on: bool,
    letter: char,
}

#[derive(SharedSafe)]
#[repr(C)]
struct Telemetry {
    version: u32,
    ratio: f64,
    neg: i16,
    stats: Stats,
    inner: Inner,
    requests: [AtomicU32; 4],
    total: AtomicU64,
    healthy: AtomicBool,
    limits: SeqLock<Limits>,
    title: FixedString<12>,
    items: FixedVec<u16, 4>,
    guarded: ShmMutex<u32>,
    pod: PodField<[u8; 3]>,
    next: RelPtr<u32>,
}

fn python3() -> bool {
    Command::new("python3")
        .arg("--version")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

#[test]
#[cfg_attr(miri, ignore = "maps named segments and runs python3")]
fn the_python_reader_reads_live_segments() {
    if !python3() {
        eprintln!("SKIPPED: python3 is not installed; the Python reader is not tested");
        return;
    }
    let pid = std::process::id();
    let telemetry_name = format!("/shmrt-python-telemetry-{pid}");
    let mut items = FixedVec::new();
    for i in [7u16, 8, 9] {
        items.push(i);
    }
    let telemetry = Segment::posix(&telemetry_name)
        .remove_on_drop(true)
        .create(Telemetry {
            version: 3,
            ratio: 0.25,
            neg: -300,
            stats: Stats {
                hits: 1 << 40,
                errors: 2,
            },
            inner: Inner {
                flags: [10, 20, 30, 40],
                mode: Mode::Busy,
                on: true,
                letter: 'é',
            },
            requests: Default::default(),
            total: AtomicU64::new(0),
            healthy: AtomicBool::new(false),
            limits: SeqLock::new(Limits {
                max_jobs: 0,
                max_bytes: 0,
            }),
            title: "hello, py".try_into().unwrap(),
            items,
            guarded: ShmMutex::new(0),
            pod: PodField::new([1, 2, 3]),
            next: RelPtr::null(),
        })
        .unwrap();
    // Values set after creation, through the atomics and the protocols.
    telemetry.requests[2].fetch_add(5, Ordering::Relaxed);
    telemetry.total.store(123_456_789_012, Ordering::Relaxed);
    telemetry.healthy.store(true, Ordering::Release);
    telemetry.limits.write(Limits {
        max_jobs: 8,
        max_bytes: 4096,
    });
    *telemetry.guarded.lock().unwrap() = 11;
    let _ = (Mode::Idle, Mode::Busy); // both variants are described

    let slice_path = TempPath::new("python-slice");
    let _slice = Segment::file(&slice_path.0)
        .remove_on_drop(true)
        .create(init::from_fn(5, |i| i as u16 * 3))
        .unwrap();

    let busy_name = format!("/shmrt-python-busy-{pid}");
    let busy = Segment::posix(&busy_name)
        .remove_on_drop(true)
        .create(SeqLock::new(Limits {
            max_jobs: 0,
            max_bytes: 0,
        }))
        .unwrap();

    let script = concat!(env!("CARGO_MANIFEST_DIR"), "/python/test_reader.py");
    let stop = AtomicBool::new(false);
    let output = std::thread::scope(|s| {
        s.spawn(|| {
            let mut i = 1u32;
            while !stop.load(Ordering::Relaxed) {
                busy.write(Limits {
                    max_jobs: i,
                    max_bytes: 2 * u64::from(i),
                });
                i = i.wrapping_add(1);
                std::thread::sleep(Duration::from_micros(50));
            }
        });
        let mut child = Command::new("python3")
            .arg(script)
            .args(["--telemetry", &telemetry_name, "--busy", &busy_name])
            .arg("--slice")
            .arg(&slice_path.0)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("start python3");
        // Bounded: killed (and reaped) after two minutes.
        let deadline = Instant::now() + Duration::from_secs(120);
        while child.try_wait().unwrap().is_none() && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if child.try_wait().unwrap().is_none() {
            let _ = child.kill();
        }
        let output = child.wait_with_output().unwrap();
        stop.store(true, Ordering::Relaxed);
        output
    });
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success(),
        "test_reader.py failed ({:?}):\n{stderr}",
        output.status
    );
    assert!(stderr.contains("\nOK"), "{stderr}");
    // Every test of the script ran (none skipped).
    assert!(stderr.contains("Ran 14 tests"), "{stderr}");
    assert!(!stderr.contains("skipped"), "{stderr}");
}
