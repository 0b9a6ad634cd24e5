//! What a user sees of an `shm_runtime::Error` returned from `main`: the
//! `stats_monitor` example is run on a segment that does not exist.

use std::time::Duration;

/// `fn main() -> Result<(), shm_runtime::Error>` prints one readable line:
/// the kind, what was being done to which segment, and the errno by name;
/// and the process exits with status 1.
#[test]
#[cfg_attr(miri, ignore = "spawns an example program")]
fn an_error_returned_from_main_reads_well() {
    let name = format!("/shm-runtime-test-missing-{}", std::process::id());
    let output = shm_workspace::run_example("stats_monitor", &[&name], Duration::from_secs(60));
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
