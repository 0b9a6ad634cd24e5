//! A created segment has exactly the permission bits asked for, whatever the
//! creating process's umask: creation only calls `fchmod` when the umask took
//! bits away, and these tests prove both branches. The umask is per process,
//! so each creation runs in `shm-test-peer` with the umask set before it
//! starts.

use shm_runtime::segment::Segment;
use std::os::unix::fs::PermissionsExt;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

const PEER: &str = env!("CARGO_BIN_EXE_shm-test-peer");
const PEER_TIMEOUT: Duration = Duration::from_secs(30);

/// Removes the segment when dropped, also when an assertion fails.
struct Removed(Segment);

impl Drop for Removed {
    fn drop(&mut self) {
        let _ = self.0.remove();
    }
}

/// Runs `shm-test-peer create SPEC u64 1 MODE` under `umask`; returns its
/// line of output.
fn create_under_umask(spec: &str, mode: u32, umask: libc::mode_t) -> String {
    let mut command = Command::new(PEER);
    command
        .args(["create", spec, "u64", "1", &format!("{mode:o}")])
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    // SAFETY: `umask` is async-signal-safe and touches only the child's
    // file mode creation mask.
    unsafe {
        command.pre_exec(move || {
            libc::umask(umask);
            Ok(())
        });
    }
    let mut child = command.spawn().expect("spawning shm-test-peer");
    let deadline = Instant::now() + PEER_TIMEOUT;
    while child.try_wait().expect("waiting for the peer").is_none() {
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("shm-test-peer ran for more than {PEER_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().expect("piped"), &mut out).unwrap();
    out.trim().to_owned()
}

fn mode_of(path: &Path) -> u32 {
    std::fs::metadata(path)
        .expect("the segment's file")
        .permissions()
        .mode()
        & 0o7777
}

fn check(spec: &str, segment: Segment, file: &Path) {
    let _removed = Removed(segment);
    // (mode, umask): a umask that takes bits of the mode away (fchmod
    // restores them), one that takes nothing (no fchmod needed), and a mode
    // with every bit that a umask usually clears.
    for (mode, umask) in [(0o640, 0o077), (0o600, 0o022), (0o666, 0o022)] {
        assert_eq!(create_under_umask(spec, mode, umask), "ok created");
        assert_eq!(
            mode_of(file),
            mode,
            "{spec} created with mode {mode:o} under umask {umask:o}"
        );
        std::fs::remove_file(file).expect("removing the segment");
    }
}

#[test]
#[cfg_attr(miri, ignore = "runs another program")]
fn posix_segments_get_their_exact_mode_whatever_the_umask() {
    let name = format!("/shm-test-mode-{}", std::process::id());
    let file = PathBuf::from(format!("/dev/shm{name}"));
    check(&format!("posix:{name}"), Segment::posix(&name), &file);
}

#[test]
#[cfg_attr(miri, ignore = "runs another program")]
fn file_segments_get_their_exact_mode_whatever_the_umask() {
    let path = std::env::temp_dir().join(format!("shm-test-mode-{}", std::process::id()));
    let spec = format!("file:{}", path.display());
    check(&spec, Segment::file(&path), &path);
}
