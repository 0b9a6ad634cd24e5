//! Runs the examples as a user would and checks what they print.
//!
//! `cargo test` builds every example next to the test binaries
//! (`target/<profile>/examples/`), so they are run from there; each run is
//! bounded by a timeout and killed if it overruns.

use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const LIMIT: Duration = Duration::from_secs(60);

fn example(name: &str) -> PathBuf {
    let exe = std::env::current_exe().unwrap();
    let profile_dir = exe.parent().unwrap().parent().unwrap();
    let path = profile_dir.join("examples").join(name);
    assert!(path.exists(), "{} not built", path.display());
    path
}

/// Runs an example to completion within `LIMIT`; returns its stdout.
fn run(name: &str, args: &[&str]) -> String {
    let mut child = Command::new(example(name))
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let start = Instant::now();
    while child.try_wait().unwrap().is_none() {
        if start.elapsed() > LIMIT {
            child.kill().unwrap();
            child.wait().unwrap();
            panic!("example {name} ran longer than {LIMIT:?}");
        }
        std::thread::sleep(Duration::from_millis(10));
    }
    let output = child.wait_with_output().unwrap();
    let stdout = String::from_utf8_lossy(&output.stdout).into_owned();
    assert!(
        output.status.success(),
        "example {name} failed: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    stdout
}

#[test]
#[cfg_attr(miri, ignore = "spawns the example programs")]
fn counter_prints_n_times_m() {
    let out = run("counter", &["3", "1000"]);
    assert_eq!(out.trim(), "3 processes x 1000 increments = 3000");
}

#[test]
#[cfg_attr(miri, ignore = "spawns the example programs")]
fn fork_bars_parent_sees_the_childs_change() {
    let out = run("fork_bars", &[]);
    let parent = out.split("Parent read:").nth(1).expect("parent section");
    assert!(parent.contains("1: 2, 3"), "{out}");
}

#[test]
#[cfg_attr(miri, ignore = "spawns the example programs")]
fn fork_mutex_parent_sees_the_childs_change() {
    let out = run("fork_mutex", &[]);
    let after = out
        .split("parent after child:")
        .nth(1)
        .expect("after section");
    assert!(after.contains("Bar { a: 2, b: 3 }"), "{out}");
}

#[test]
#[cfg_attr(miri, ignore = "spawns the example programs")]
fn people_child_sets_the_first_age_to_100() {
    let out = run("people", &[]);
    assert_eq!(out.matches("child read: name:").count(), 5, "{out}");
    assert!(out.contains("parent read: name: ba age 100"), "{out}");
}

#[test]
#[cfg_attr(miri, ignore = "spawns the example programs")]
fn people_live_reader_waits_for_all_ten() {
    let out = run("people_live", &[]);
    let read: Vec<_> = out.lines().filter(|l| l.starts_with("reader:")).collect();
    assert_eq!(read.len(), 10, "{out}");
    assert_eq!(read[9], "reader: name: eve9 age 29");
}

#[test]
#[cfg_attr(miri, ignore = "spawns the example programs")]
fn people_writer_then_reader_round_trip_through_a_file() {
    let dir = std::env::temp_dir().join(format!("shm-examples-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("people");
    let path = path.to_str().unwrap();
    run("people_writer", &[path]);
    let out = run("people_reader", &[path]);
    std::fs::remove_dir_all(&dir).unwrap();
    assert_eq!(out.lines().count(), 10, "{out}");
    assert_eq!(out.lines().next(), Some("name: a age 20;"));
}

#[test]
#[cfg_attr(miri, ignore = "spawns the example programs")]
fn shared_memory_server_client_checks_every_byte() {
    run("shared_memory_server_client", &[]);
}
