//! Runs the examples as a user would and checks what they print.
//!
//! `cargo test` builds every example next to the test binaries
//! (`target/<profile>/examples/`), so they are run from there; each run is
//! bounded by a timeout and killed if it overruns.

use std::time::Duration;

const LIMIT: Duration = Duration::from_secs(60);

/// Runs an example to completion within `LIMIT`, checks that it succeeded,
/// and returns its stdout.
fn run(name: &str, args: &[&str]) -> String {
    let output = shm_workspace::run_example(name, args, LIMIT);
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
fn spsc_service_survives_a_client_that_dies_holding_its_handles() {
    // The first client dies after 250 replies with 31 requests in flight;
    // the second takes both handles over, discards the 31 replies meant for
    // its predecessor, and gets all of its own, right.
    let out = run("spsc_service", &["demo"]);
    assert_eq!(
        out,
        "client: dies after 250 replies, 31 in flight\n\
         client: 500 replies right, 31 stale ones discarded\n\
         server: answered 781 requests\n"
    );
}

#[test]
#[cfg_attr(miri, ignore = "spawns the example programs")]
fn queue_pool_counts_the_primes_below_100_000() {
    let out = run("queue_pool", &[]);
    assert_eq!(out.trim(), "4 workers, 100 jobs: 9592 primes below 100000");
}
