//! The pure-Python reader (`python/shm_runtime_reader.py`) against segments
//! made here: `python/test_reader.py` (a unittest script) reads a segment
//! of every kind of field by name and path, a file segment of a slice, and
//! a `SeqLock` that a thread of this process rewrites meanwhile; it also
//! checks that damaged copies are refused. The test passes when the script
//! does. Skipped, with a message, only when `python3` is not installed (CI
//! installs it).

#[path = "fixtures/telemetry.rs"]
mod telemetry;

use shm_runtime::init;
use shm_runtime::{Segment, SeqLock};
use shm_workspace::TempPath;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use telemetry::Limits;

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
    // Values set at creation and after it (fixtures/telemetry.rs), which
    // the script checks.
    let _telemetry = telemetry::create(&telemetry_name);

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
