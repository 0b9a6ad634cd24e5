//! Runs `shm-bench --quick --json FILE` and checks the JSON: every section
//! is there, and every row has a positive median and its ratio to its baseline
//! (the iceoryx2 rows only when built with `--features iceoryx2`; without it,
//! they say how to get them).
#![cfg(target_os = "linux")]

use serde_json::Value as Json;
use std::process::Command;

const SECTIONS: &[&str] = &[
    "field_access",
    "spin_latency",
    "blocking_latency",
    "lock_uncontended",
    "lock_contended",
    "lock_wait",
    "segment_lifecycle",
    "segment_create_sizes",
    "bulk_transfer",
    "first_touch",
    "queue_round_trip",
    "queue_throughput",
];

/// Why an iceoryx2 row has no figure in a build without `--features iceoryx2`.
const NOT_BUILT: &str = "not built: run shm-bench with --features iceoryx2";

#[test]
#[cfg_attr(miri, ignore = "spawns the benchmark")]
fn quick_run_writes_every_section_with_positive_medians() {
    let path = std::env::temp_dir().join(format!("shm-bench-quick-{}.json", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_shm-bench"))
        .args(["--quick", "--json"])
        .arg(&path)
        .output()
        .expect("run shm-bench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "shm-bench failed: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&path).expect("read the JSON file");
    let _ = std::fs::remove_file(&path);
    let json: Json = serde_json::from_str(&text).expect("the report is JSON");

    assert_eq!(json.get("config").and_then(Json::as_str), Some("quick"));
    let sections = json
        .get("sections")
        .and_then(Json::as_array)
        .expect("sections");
    let ids: Vec<&str> = sections
        .iter()
        .map(|s| s.get("id").and_then(Json::as_str).expect("section id"))
        .collect();
    assert_eq!(ids, SECTIONS);

    for section in sections {
        let id = section.get("id").and_then(Json::as_str).unwrap();
        assert!(stdout.contains(section.get("title").and_then(Json::as_str).unwrap()));
        let rows = section.get("rows").and_then(Json::as_array).expect("rows");
        assert!(rows.len() >= 2, "{id}: a baseline and a peer at least");
        let mut measured = 0;
        let mut unbuilt = 0;
        for row in rows {
            let name = row.get("name").and_then(Json::as_str).expect("row name");
            let baseline = row
                .get("baseline")
                .and_then(Json::as_str)
                .expect("baseline");
            let baseline_row = rows
                .iter()
                .find(|r| r.get("name").and_then(Json::as_str) == Some(baseline))
                .unwrap_or_else(|| panic!("{id}/{name}: no baseline row `{baseline}`"));
            match row.get("median").and_then(Json::as_f64) {
                Some(median) => {
                    measured += 1;
                    assert!(median > 0.0, "{id}/{name}: median {median}");
                    let samples = row.get("samples").and_then(Json::as_array).unwrap();
                    assert_eq!(samples.len(), 3, "{id}/{name}: one sample per repetition");
                    if let Some(base) = baseline_row.get("median").and_then(Json::as_f64) {
                        let Some(ratio) = row.get("ratio").and_then(Json::as_f64) else {
                            panic!("{id}/{name}: no ratio");
                        };
                        assert!((ratio - median / base).abs() <= 1e-6 * ratio.abs().max(1.0));
                    }
                    assert!(stdout.contains(name), "{id}/{name} is not in the table");
                }
                _ => {
                    let why = row.get("unavailable").and_then(Json::as_str);
                    // The iceoryx2 rows, in a build without the feature
                    // that compiles them, say so; nothing else may fail.
                    let not_built = why == Some(NOT_BUILT) && name.starts_with("iceoryx2 ");
                    assert!(
                        not_built && !cfg!(feature = "iceoryx2"),
                        "{id}/{name}: no median: {why:?}"
                    );
                    unbuilt += 1;
                }
            }
        }
        assert_eq!(
            measured + unbuilt,
            rows.len(),
            "{id}: every row is measured"
        );
    }
}
