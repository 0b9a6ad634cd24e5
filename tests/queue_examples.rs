//! Runs the queue's examples as a user would and checks what they print.

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
fn job_queue_demo_delivers_every_job_once_between_five_programs() {
    let out = run("job_queue", &["demo"]);
    let expected: u64 = (1..=2000u64).map(|i| i * i).sum();
    assert!(
        out.contains(&format!(
            "2000 jobs, sum of squares {expected} (expected {expected})"
        )),
        "{out}"
    );
}

#[test]
#[cfg_attr(miri, ignore = "spawns the example programs")]
fn queue_pool_counts_the_primes_below_100_000() {
    let out = run("queue_pool", &[]);
    assert_eq!(out.trim(), "4 workers, 100 jobs: 9592 primes below 100000");
}
