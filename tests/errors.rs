//! What a user sees of an `shm_runtime::Error` returned from `main`: the
//! `stats_monitor` example is run on a segment that does not exist.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let path = profile_dir.join("examples").join(name);
    assert!(path.exists(), "{} not built", path.display());
    path
}

/// `fn main() -> Result<(), shm_runtime::Error>` prints one readable line:
/// the kind, what was being done to which segment, and the errno by name;
/// and the process exits with status 1.
#[test]
#[cfg_attr(miri, ignore = "spawns an example program")]
fn an_error_returned_from_main_reads_well() {
    let name = format!("/shm-runtime-test-missing-{}", std::process::id());
    let mut child = Command::new(example("stats_monitor"))
        .arg(&name)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > Duration::from_secs(60) {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("stats_monitor ran longer than 60 s");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(1), "{stderr}");
    assert!(output.stdout.is_empty());
    assert_eq!(
        stderr.trim_end(),
        format!(
            "Error: Error {{ kind: NotFound, context: \"opening segment `{name}`: no such \
             segment (create it first, or check the name)\", os: ENOENT (2) }}"
        )
    );
}
