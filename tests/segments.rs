//! Named, file and System V segments across separate processes: the tests
//! run `shm-test-peer` (a separate program) and check what it reports.
//!
//! Every test names its segments uniquely (test pid + counter), removes them
//! through a guard even when it panics, and checks that nothing is left in
//! `/dev/shm`, the temporary directory or the System V table.

use shm_runtime::segment::{Segment, SysvKey};
use shm_runtime::{init, ErrorKind};
use shm_workspace::{Pattern, People, PATTERN_WORD};
use std::io::{BufRead, BufReader, Write};
use std::os::unix::fs::FileExt;
use std::path::PathBuf;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicU32, AtomicU64, Ordering};
use std::time::{Duration, Instant};

const PEER: &str = env!("CARGO_BIN_EXE_shm-test-peer");
const PEER_TIMEOUT: Duration = Duration::from_secs(30);

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn next() -> u32 {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// One test's segments: removed on drop (even on panic), then checked gone.
struct Scratch {
    segments: Vec<(Segment, Leftover)>,
}

#[derive(Clone)]
enum Leftover {
    Path(PathBuf),
    SysV(i32),
}

fn sysv_key_exists(key: i32) -> bool {
    let table = std::fs::read_to_string("/proc/sysvipc/shm").expect("reading /proc/sysvipc/shm");
    table
        .lines()
        .skip(1)
        .any(|line| line.split_whitespace().next() == Some(&key.to_string()))
}

impl Leftover {
    fn exists(&self) -> bool {
        match self {
            Leftover::Path(path) => std::fs::symlink_metadata(path).is_ok(),
            Leftover::SysV(key) => sysv_key_exists(*key),
        }
    }
}

impl Scratch {
    fn new() -> Scratch {
        Scratch {
            segments: Vec::new(),
        }
    }

    fn posix(&mut self, tag: &str) -> (Segment, String) {
        let name = format!("/shmrt-test-{}-{}-{tag}", std::process::id(), next());
        let path = PathBuf::from(format!("/dev/shm{name}"));
        self.segments
            .push((Segment::posix(&name), Leftover::Path(path)));
        (Segment::posix(&name), format!("posix:{name}"))
    }

    fn file(&mut self, tag: &str) -> (Segment, String, PathBuf) {
        let path = std::env::temp_dir().join(format!(
            "shmrt-test-{}-{}-{tag}",
            std::process::id(),
            next()
        ));
        self.segments
            .push((Segment::file(&path), Leftover::Path(path.clone())));
        (
            Segment::file(&path),
            format!("file:{}", path.display()),
            path,
        )
    }

    fn sysv(&mut self) -> (Segment, String, i32) {
        let key = 0x5e00_0000 | ((std::process::id() as i32 & 0xfff) << 12) | next() as i32;
        let segment = Segment::sysv(SysvKey::new(key));
        self.segments.push((segment.clone(), Leftover::SysV(key)));
        (segment, format!("sysv:{key}"), key)
    }

    /// Asserts that the test itself removed everything it made.
    fn assert_clean(&self) {
        for (segment, leftover) in &self.segments {
            assert!(!leftover.exists(), "{segment} was left behind");
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        for (segment, leftover) in &self.segments {
            let _ = segment.remove();
            if !std::thread::panicking() {
                assert!(!leftover.exists(), "{segment} could not be removed");
            }
        }
    }
}

/// Runs the peer with `args`, killing it after `PEER_TIMEOUT`; returns its
/// one line of output.
fn peer(args: &[&str]) -> String {
    let mut child = Command::new(PEER)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawning shm-test-peer");
    let deadline = Instant::now() + PEER_TIMEOUT;
    loop {
        if child.try_wait().expect("waiting for the peer").is_some() {
            break;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("shm-test-peer {args:?} ran for more than {PEER_TIMEOUT:?}");
        }
        std::thread::sleep(Duration::from_millis(5));
    }
    let mut out = String::new();
    std::io::Read::read_to_string(child.stdout.as_mut().unwrap(), &mut out).unwrap();
    out.trim().to_owned()
}

/// A peer still running: killed and reaped on drop.
struct Running(std::process::Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

#[test]
#[cfg_attr(miri, ignore = "uses named segments")]
fn each_backend_round_trips_a_typed_value_between_processes() {
    let mut scratch = Scratch::new();
    let (posix, posix_spec) = scratch.posix("rt");
    let (file, file_spec, _) = scratch.file("rt");
    let (sysv, sysv_spec, _) = scratch.sysv();
    for (segment, spec) in [(posix, posix_spec), (file, file_spec), (sysv, sysv_spec)] {
        // This process creates, the peer opens.
        let value = segment.clone().remove_on_drop(true).create(42u64).unwrap();
        assert_eq!(peer(&["open", &spec, "u64"]), "ok 42");
        assert_eq!(peer(&["open", &spec, "u64", "1000", "ro"]), "ok 42");
        drop(value);
        // The peer creates, this process opens.
        assert_eq!(peer(&["create", &spec, "u64", "7"]), "ok created");
        assert_eq!(*segment.open::<u64>().unwrap(), 7);
        assert_eq!(*segment.read_only().open::<u64>().unwrap(), 7);
        segment.remove().unwrap();
    }
    scratch.assert_clean();
}

#[test]
#[cfg_attr(miri, ignore = "uses named segments")]
fn wrong_type_names_both_types() {
    let mut scratch = Scratch::new();
    let (segment, spec) = scratch.posix("wrong");
    let _value = segment.clone().remove_on_drop(true).create(1u64).unwrap();
    let out = peer(&["open", &spec, "pattern"]);
    assert!(out.starts_with("err WrongType"), "{out}");
    assert!(
        out.contains("holds `u64`") && out.contains("Pattern"),
        "{out}"
    );
    // The same type as a slice: the message says which open to use.
    let err = segment.open::<[u64]>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WrongType);
    assert!(
        err.to_string()
            .contains("holds one `u64`, not a slice: open it with `open::<T>()`"),
        "{err}"
    );
    drop(_value);
    let (slices, _) = scratch.posix("wrong-slice");
    let _slice = slices
        .clone()
        .remove_on_drop(true)
        .create(init::zeroed_slice::<u64>(3))
        .unwrap();
    let err = slices.open::<u64>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::WrongType);
    assert!(
        err.to_string().contains("holds a slice") && err.to_string().contains("open::<[T]>()"),
        "{err}"
    );
    drop(_slice);
    scratch.assert_clean();
}

#[test]
#[cfg_attr(miri, ignore = "uses named segments")]
fn truncated_segments_are_refused_before_any_access() {
    let mut scratch = Scratch::new();
    let (segment, spec) = scratch.posix("trunc");
    let _owner = segment.owner();
    segment.create(init::zeroed::<Pattern>()).unwrap();
    let path = format!("/dev/shm{}", spec.strip_prefix("posix:").unwrap());
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    // Header intact, payload cut: the header describes more than exists.
    file.set_len(1000).unwrap();
    let out = peer(&["open", &spec, "pattern"]);
    assert!(out.starts_with("err TooShort"), "{out}");
    // Shorter than the header itself.
    file.set_len(100).unwrap();
    let out = peer(&["open", &spec, "pattern"]);
    assert!(out.starts_with("err TooShort"), "{out}");
    drop(_owner);
    scratch.assert_clean();
}

#[test]
#[cfg_attr(miri, ignore = "uses named segments")]
fn garbage_is_not_a_segment() {
    let mut scratch = Scratch::new();
    let (posix, posix_spec) = scratch.posix("garbage");
    let (file, file_spec, file_path) = scratch.file("garbage");
    let garbage: Vec<u8> = (0..8192u32).map(|i| (i * 7 + 13) as u8).collect();
    std::fs::write(
        format!("/dev/shm{}", posix_spec.strip_prefix("posix:").unwrap()),
        &garbage,
    )
    .unwrap();
    std::fs::write(&file_path, &garbage).unwrap();
    for spec in [&posix_spec, &file_spec] {
        let out = peer(&["open", spec, "u64"]);
        assert!(out.starts_with("err NotASegment"), "{out}");
    }
    // Raw mode maps it all the same.
    assert_eq!(
        file.raw().len(8192).open::<[u8]>().unwrap().to_vec(),
        garbage
    );
    posix.remove().unwrap();
    file.remove().unwrap();
    scratch.assert_clean();
}

#[test]
#[cfg_attr(miri, ignore = "uses named segments")]
fn newer_format_and_other_byte_order_are_refused() {
    let mut scratch = Scratch::new();
    let (segment, _, path) = scratch.file("version");
    let _owner = segment.owner();
    segment.create(5u64).unwrap();
    let file = std::fs::OpenOptions::new().write(true).open(&path).unwrap();
    file.write_at(&99u32.to_ne_bytes(), 8).unwrap();
    assert_eq!(
        segment.open::<u64>().unwrap_err().kind(),
        ErrorKind::UnsupportedVersion
    );
    file.write_at(b"GESTRMHS", 0).unwrap();
    assert_eq!(
        segment.open::<u64>().unwrap_err().kind(),
        ErrorKind::Incompatible
    );
    drop(_owner);
    scratch.assert_clean();
}

#[test]
#[cfg_attr(miri, ignore = "uses named segments")]
fn bad_names_are_invalid() {
    let long = format!("/{}", "x".repeat(300));
    for name in ["", "/", "no-slash", "/a/b", "/a\0b", "/..", long.as_str()] {
        let err = Segment::posix(name).open::<u64>().unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidName, "{name:?}: {err}");
        let err = Segment::posix(name).create(1u8).unwrap_err();
        assert_eq!(err.kind(), ErrorKind::InvalidName, "{name:?}: {err}");
    }
    let err = Segment::sysv(SysvKey::new(0)).open::<u8>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::InvalidName);
}

#[test]
#[cfg_attr(miri, ignore = "uses named segments")]
fn missing_segments_are_not_found() {
    let mut scratch = Scratch::new();
    let (_, posix) = scratch.posix("missing");
    let (_, file, _) = scratch.file("missing");
    let (_, sysv, _) = scratch.sysv();
    for spec in [posix, file, sysv] {
        let out = peer(&["open", &spec, "u64"]);
        assert!(out.starts_with("err NotFound"), "{out}");
    }
    scratch.assert_clean();
}

#[test]
#[cfg_attr(miri, ignore = "uses named segments")]
fn creating_an_existing_segment_fails() {
    let mut scratch = Scratch::new();
    let (posix, posix_spec) = scratch.posix("exists");
    let (file, file_spec, _) = scratch.file("exists");
    let (sysv, sysv_spec, _) = scratch.sysv();
    for (segment, spec) in [(posix, posix_spec), (file, file_spec), (sysv, sysv_spec)] {
        let first = segment.clone().remove_on_drop(true).create(1u64).unwrap();
        let out = peer(&["create", &spec, "u64", "2"]);
        assert!(out.starts_with("err AlreadyExists"), "{out}");
        assert_eq!(*first, 1);
    }
    scratch.assert_clean();
}

#[test]
#[cfg_attr(miri, ignore = "uses named segments")]
fn segments_of_another_user_are_refused_unless_allowed() {
    let mut scratch = Scratch::new();
    let (segment, spec) = scratch.posix("foreign");
    let _owner = segment.owner();
    segment.create(9u64).unwrap();
    let path = format!("/dev/shm{}", spec.strip_prefix("posix:").unwrap());
    // SAFETY: geteuid has no preconditions.
    if unsafe { libc::geteuid() } != 0 {
        eprintln!("not root: cannot give a segment to another user; skipped");
        return;
    }
    std::os::unix::fs::chown(&path, Some(65534), Some(65534)).unwrap();
    let err = segment.open::<u64>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::ForeignOwner);
    assert!(err.to_string().contains("uid 65534"), "{err}");
    assert_eq!(
        *segment
            .clone()
            .allow_foreign_owner(true)
            .open::<u64>()
            .unwrap(),
        9
    );
    drop(_owner);
    scratch.assert_clean();
}

#[test]
#[cfg_attr(miri, ignore = "uses named segments")]
fn permission_denied_for_a_user_the_mode_excludes() {
    // Root bypasses permission checks, so the peer drops to uid 65534 first
    // (when this runs as root); otherwise a mode-000 segment excludes us.
    let mut scratch = Scratch::new();
    // SAFETY: geteuid has no preconditions.
    let root = unsafe { libc::geteuid() } == 0;
    let (segment, spec) = scratch.posix("perm");
    let _owner = segment.owner();
    if root {
        segment.clone().mode(0o600).create(3u64).unwrap();
        let out = peer(&["as-uid", "65534", "open", &spec]);
        assert!(out.starts_with("err PermissionDenied"), "{out}");
        let out = peer(&["as-uid", "65534", "open", &spec, "ro"]);
        assert!(out.starts_with("err PermissionDenied"), "{out}");
        // Readable by others: a read-only open works, a writable one not.
        std::fs::set_permissions(
            format!("/dev/shm{}", spec.strip_prefix("posix:").unwrap()),
            std::os::unix::fs::PermissionsExt::from_mode(0o644),
        )
        .unwrap();
        assert_eq!(peer(&["as-uid", "65534", "open", &spec, "ro"]), "ok 3");
        let out = peer(&["as-uid", "65534", "open", &spec]);
        assert!(out.starts_with("err PermissionDenied"), "{out}");
    } else {
        segment.clone().mode(0o000).create(3u64).unwrap();
        let out = peer(&["open", &spec, "u64"]);
        assert!(out.starts_with("err PermissionDenied"), "{out}");
    }
    drop(_owner);
    scratch.assert_clean();
}

#[test]
#[cfg_attr(miri, ignore = "uses named segments")]
fn creator_killed_mid_initialization_is_reported_and_reclaimed() {
    let mut scratch = Scratch::new();
    let (posix, posix_spec) = scratch.posix("killed");
    let (sysv, sysv_spec, _) = scratch.sysv();
    for (segment, spec) in [(posix, posix_spec), (sysv, sysv_spec)] {
        let _owner = segment.owner();
        let mut holder = Running(
            Command::new(PEER)
                .args(["hold-initializing", &spec])
                .stdout(Stdio::piped())
                .spawn()
                .unwrap(),
        );
        let mut line = String::new();
        BufReader::new(holder.0.stdout.as_mut().unwrap())
            .read_line(&mut line)
            .unwrap();
        assert_eq!(line.trim(), "initializing");
        // Alive and initializing: openers wait, then time out.
        let out = peer(&["open", &spec, "pattern", "200"]);
        assert!(out.starts_with("err TimedOut"), "{out}");
        assert!(out.contains("still initializing"), "{out}");
        // Killed mid-initialization (and reaped, so not a zombie).
        drop(holder);
        let out = peer(&["open", &spec, "pattern"]);
        assert!(out.starts_with("err CreatorDied"), "{out}");
        // open_or_create reclaims it and initializes it fully.
        assert_eq!(peer(&["race", &spec]), "ok created");
        assert_eq!(peer(&["open", &spec, "pattern"]), "ok complete");
        assert!(segment.open::<Pattern>().unwrap().is_complete());
    }
    scratch.assert_clean();
}

#[test]
#[cfg_attr(miri, ignore = "uses named segments")]
fn concurrent_open_or_create_has_exactly_one_creator() {
    let mut scratch = Scratch::new();
    let (posix, posix_spec) = scratch.posix("race");
    let (sysv, sysv_spec, _) = scratch.sysv();
    for (segment, spec) in [(posix, posix_spec), (sysv, sysv_spec)] {
        let _owner = segment.owner();
        let children: Vec<_> = (0..8)
            .map(|_| {
                Running(
                    Command::new(PEER)
                        .args(["race", &spec])
                        .stdout(Stdio::piped())
                        .spawn()
                        .unwrap(),
                )
            })
            .collect();
        let deadline = Instant::now() + PEER_TIMEOUT;
        let mut outputs = Vec::new();
        for mut child in children {
            while child.0.try_wait().unwrap().is_none() {
                assert!(Instant::now() < deadline, "a racing peer hung");
                std::thread::sleep(Duration::from_millis(5));
            }
            let mut out = String::new();
            std::io::Read::read_to_string(child.0.stdout.as_mut().unwrap(), &mut out).unwrap();
            outputs.push(out.trim().to_owned());
        }
        let created = outputs.iter().filter(|o| *o == "ok created").count();
        let opened = outputs.iter().filter(|o| *o == "ok opened").count();
        assert_eq!((created, opened), (1, 7), "{outputs:?}");
        let pattern = segment.open::<Pattern>().unwrap();
        assert!(pattern.is_complete());
        assert_eq!(pattern.opened.load(Ordering::SeqCst), 8);
    }
    scratch.assert_clean();
}

#[test]
#[cfg_attr(miri, ignore = "uses named segments")]
fn file_data_persists_across_program_runs() {
    let mut scratch = Scratch::new();
    let (segment, spec, path) = scratch.file("persist");
    let _owner = segment.owner();
    assert_eq!(peer(&["increment", &spec]), "ok 1");
    assert_eq!(peer(&["increment", &spec]), "ok 2");
    assert_eq!(peer(&["increment", &spec]), "ok 3");
    let counter = segment.open::<AtomicU64>().unwrap();
    assert_eq!(counter.load(Ordering::SeqCst), 3);
    // The value is in the file's bytes, after the 256-byte header.
    let bytes = std::fs::read(&path).unwrap();
    assert_eq!(bytes[256..264], 3u64.to_ne_bytes());
    assert_eq!(&bytes[..8], b"SHMRTSEG");
    drop(counter);
    drop(_owner);
    scratch.assert_clean();
}

#[test]
#[cfg_attr(miri, ignore = "uses named segments")]
fn files_are_created_with_an_exact_mode_and_links_are_not_followed() {
    use std::os::unix::fs::PermissionsExt;
    let mut scratch = Scratch::new();
    let (segment, _, path) = scratch.file("mode");
    let _owner = segment.owner();
    segment.clone().mode(0o640).create(1u8).unwrap();
    let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode, 0o640);
    let (link, _, link_path) = scratch.file("link");
    std::os::unix::fs::symlink(&path, &link_path).unwrap();
    let err = link.open::<u8>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::PermissionDenied, "{err}");
    std::fs::remove_file(&link_path).unwrap();
    drop(_owner);
    scratch.assert_clean();
}

#[test]
#[cfg_attr(miri, ignore = "uses named segments")]
fn raw_mode_reads_what_a_c_program_wrote() {
    let mut scratch = Scratch::new();
    let (segment, spec, path) = scratch.file("raw");
    // The bytes `map_normalfile1.c` leaves: 10 `struct { char name[4]; int age; }`.
    let mut bytes = Vec::new();
    for i in 0..10u8 {
        bytes.extend_from_slice(&[b'a' + i, 0, 0, 0]);
        bytes.extend_from_slice(&(20 + i32::from(i)).to_ne_bytes());
    }
    std::fs::File::create(&path)
        .unwrap()
        .write_all(&bytes)
        .unwrap();
    let people = segment
        .raw()
        .read_only()
        .len(10)
        .open::<[People]>()
        .unwrap();
    let ninth = people.get(9).unwrap();
    assert_eq!(ninth.name(), "j");
    assert_eq!(ninth.age, 29);
    // A file of 5 records is too short for 10.
    std::fs::write(&path, &bytes[..40]).unwrap();
    let err = segment.raw().len(10).open::<[People]>().unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TooShort);
    // A headered people file, read by another process.
    segment.remove().unwrap();
    let created = segment
        .clone()
        .remove_on_drop(true)
        .create(init::from_fn(3, |i| People {
            name: [b'x' + i as u8, 0, 0, 0],
            age: i as i32,
        }))
        .unwrap();
    assert_eq!(peer(&["open", &spec, "people"]), "ok x:0,y:1,z:2");
    drop(created);
    scratch.assert_clean();
}

#[test]
#[cfg_attr(miri, ignore = "uses named segments")]
fn owners_remove_segments_even_on_panic() {
    let mut scratch = Scratch::new();
    let (segment, _) = scratch.posix("panic");
    let (sysv, _, key) = scratch.sysv();
    let result = std::panic::catch_unwind(|| {
        let _a = segment.owner();
        let _b = sysv.clone().remove_on_drop(true).create(1u32).unwrap();
        segment.create(1u32).unwrap();
        panic!("test panic");
    });
    assert!(result.is_err());
    assert!(!sysv_key_exists(key));
    scratch.assert_clean();
    // A panicking initializer removes the segment it was creating.
    let (segment, _) = scratch.posix("init-panic");
    let result = std::panic::catch_unwind(|| {
        segment.create(init::in_place(|_: &mut [u64; 8]| {
            panic!("initializer panics")
        }))
    });
    assert!(result.is_err());
    assert_eq!(
        segment.open::<[u64; 8]>().unwrap_err().kind(),
        ErrorKind::NotFound
    );
    scratch.assert_clean();
}

#[test]
#[cfg_attr(miri, ignore = "uses named segments")]
fn an_empty_segment_times_out_with_advice() {
    let mut scratch = Scratch::new();
    let (segment, spec) = scratch.posix("empty");
    std::fs::File::create(format!("/dev/shm{}", spec.strip_prefix("posix:").unwrap())).unwrap();
    let err = segment
        .clone()
        .open_timeout(Duration::from_millis(100))
        .open::<u64>()
        .unwrap_err();
    assert_eq!(err.kind(), ErrorKind::TimedOut);
    assert!(err.to_string().contains("stayed empty"), "{err}");
    segment.remove().unwrap();
    scratch.assert_clean();
    let _ = PATTERN_WORD;
}

/// Runs `python3 -c script args...`; `None` when Python is not installed.
fn python(script: &str, args: &[&str]) -> Option<String> {
    let out = Command::new("python3")
        .arg("-c")
        .arg(script)
        .args(args)
        .stderr(Stdio::inherit())
        .output()
        .ok()?;
    assert!(out.status.success(), "python3 failed: {out:?}");
    Some(String::from_utf8(out.stdout).unwrap().trim().to_owned())
}

// Python's resource tracker would unlink the segment when the script exits;
// `unregister` leaves it to this test.
const PY_PRELUDE: &str = "import sys\n\
from multiprocessing import shared_memory, resource_tracker\n\
def untrack(shm):\n    resource_tracker.unregister(shm._name, 'shared_memory')\n";

#[test]
#[cfg_attr(miri, ignore = "uses named segments")]
fn raw_mode_shares_segments_with_python() {
    let mut scratch = Scratch::new();
    // Python creates, Rust maps it raw.
    let (segment, spec) = scratch.posix("py-made");
    let _owner = segment.owner();
    let name = spec.strip_prefix("posix:/").unwrap();
    let script = format!(
        "{PY_PRELUDE}shm = shared_memory.SharedMemory(name=sys.argv[1], create=True, size=64)\n\
         untrack(shm)\nshm.buf[:64] = bytes(range(64))\nshm.close()\nprint('made')"
    );
    let Some(out) = python(&script, &[name]) else {
        eprintln!("python3 not found: skipped");
        return;
    };
    assert_eq!(out, "made");
    let bytes = segment.raw().read_only().len(64).open::<[u8]>().unwrap();
    assert!(bytes.iter().enumerate().all(|(i, b)| b as usize == i));
    assert_eq!(
        segment.raw().len(65).open::<[u8]>().unwrap_err().kind(),
        ErrorKind::TooShort
    );
    assert_eq!(
        segment.open::<u8>().unwrap_err().kind(),
        ErrorKind::TooShort
    );
    drop(bytes);
    drop(_owner);
    // Rust creates raw, Python reads it.
    let (segment, spec) = scratch.posix("rust-made");
    let name = spec.strip_prefix("posix:/").unwrap();
    let made = segment
        .clone()
        .remove_on_drop(true)
        .raw()
        .create(init::from_fn(16, |i| i as u32 * 3))
        .unwrap();
    let script = format!(
        "{PY_PRELUDE}shm = shared_memory.SharedMemory(name=sys.argv[1])\nuntrack(shm)\n\
         import struct\nprint(sum(struct.unpack('16I', bytes(shm.buf[:64]))))\nshm.close()"
    );
    assert_eq!(
        python(&script, &[name]).unwrap(),
        (0..16).map(|i| i * 3).sum::<u32>().to_string()
    );
    drop(made);
    scratch.assert_clean();
}

#[test]
#[cfg_attr(miri, ignore = "uses named segments")]
fn openers_stop_waiting_when_the_creator_fails() {
    let mut scratch = Scratch::new();
    let (segment, _) = scratch.posix("fails");
    let creator = {
        let segment = segment.clone();
        std::thread::spawn(move || {
            segment.create(init::in_place(|_: &mut [u64; 8]| {
                std::thread::sleep(Duration::from_millis(300));
                panic!("the creator fails (expected by the test)");
            }))
        })
    };
    std::thread::sleep(Duration::from_millis(100));
    let start = Instant::now();
    let err = segment.open::<[u64; 8]>().unwrap_err();
    assert!(
        matches!(err.kind(), ErrorKind::CreatorDied | ErrorKind::NotFound),
        "{err}"
    );
    assert!(start.elapsed() < Duration::from_secs(3), "{err}");
    assert!(creator.join().is_err());
    scratch.assert_clean();
}
