//! Runs `shm-tool` as a user would, against segments these tests make.
//!
//! Other test binaries create segments at the same time: every assertion is
//! about names of this process (`/shm-tool-test-PID-N`), and `clean` always
//! runs with `--name-prefix` of this process.

use serde_json::Value;
use shm_runtime::segment::{inspect, Segment, SysvKey};
use shm_runtime::{init, SharedSafe, ShmMutex};
use std::ffi::OsStr;
use std::io::{BufRead, BufReader, Write};
use std::path::PathBuf;
use std::process::{Child, Command, Output, Stdio};
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::Duration;

const TOOL: &str = env!("CARGO_BIN_EXE_shm-tool");
const HOLD_ENV: &str = "SHM_TOOL_TEST_HOLD";

static COUNTER: AtomicU32 = AtomicU32::new(0);

fn next() -> u32 {
    COUNTER.fetch_add(1, Ordering::Relaxed)
}

/// The segments and files a test made: removed on drop, even on panic.
struct Scratch {
    tag: &'static str,
    posix: Vec<String>,
    sysv: Vec<SysvKey>,
    files: Vec<PathBuf>,
}

impl Scratch {
    /// `tag` is unique per test, so that one test's `clean` never removes
    /// another's segments (the tests of this binary run in parallel).
    fn new(tag: &'static str) -> Scratch {
        Scratch {
            tag,
            posix: Vec::new(),
            sysv: Vec::new(),
            files: Vec::new(),
        }
    }

    /// The prefix of this test's POSIX names: `/shm-tool-test-PID-TAG-`.
    fn prefix(&self) -> String {
        format!("/shm-tool-test-{}-{}-", std::process::id(), self.tag)
    }

    fn posix(&mut self, what: &str) -> String {
        let name = format!("{}{}-{what}", self.prefix(), next());
        self.posix.push(name.clone());
        name
    }

    fn sysv(&mut self) -> SysvKey {
        let key = SysvKey::new(
            0x7c00_0000 | ((std::process::id() as i32 & 0xf_ffff) << 4) | (next() as i32 & 0xf),
        );
        self.sysv.push(key);
        key
    }

    fn file(&mut self, what: &str) -> PathBuf {
        let path = std::env::temp_dir().join(format!(
            "shm-tool-test-{}-{}-{what}",
            std::process::id(),
            next()
        ));
        self.files.push(path.clone());
        path
    }

    fn remove_all(&self) {
        for name in &self.posix {
            let _ = shm_runtime::segment::unlink(name);
        }
        for key in &self.sysv {
            let _ = Segment::sysv(*key).remove();
        }
        for path in &self.files {
            let _ = std::fs::remove_file(path);
        }
    }

    /// Removes everything and checks that nothing is left.
    fn finish(self) {
        self.remove_all();
        for name in &self.posix {
            assert!(inspect::inspect_posix(name).is_err(), "{name} left behind");
        }
        for key in &self.sysv {
            assert!(inspect::inspect_sysv(*key).is_err(), "{key} left behind");
        }
        for path in &self.files {
            assert!(!path.exists(), "{} left behind", path.display());
        }
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        self.remove_all();
    }
}

struct Run {
    code: Option<i32>,
    stdout: String,
    stderr: String,
}

fn tool<S: AsRef<OsStr>>(args: &[S]) -> Run {
    let Output {
        status,
        stdout,
        stderr,
    } = Command::new(TOOL)
        .args(args)
        .output()
        .expect("run shm-tool");
    Run {
        code: status.code(),
        stdout: String::from_utf8(stdout).expect("UTF-8 stdout"),
        stderr: String::from_utf8(stderr).expect("UTF-8 stderr"),
    }
}

fn ok<S: AsRef<OsStr> + std::fmt::Debug>(args: &[S]) -> String {
    let run = tool(args);
    assert_eq!(run.code, Some(0), "{args:?}: {}{}", run.stdout, run.stderr);
    run.stdout
}

/// The line of `out` whose first column is `name`.
fn line_of<'a>(out: &'a str, name: &str) -> Option<&'a str> {
    out.lines()
        .find(|l| l.split_whitespace().next() == Some(name))
}

/// The value of `key:` in `inspect`'s output.
fn field(out: &str, key: &str) -> String {
    out.lines()
        .find_map(|l| l.strip_prefix(&format!("{key}:")))
        .unwrap_or_else(|| panic!("no {key} in\n{out}"))
        .trim()
        .to_owned()
}

/// A process killed and reaped on drop.
struct Running(Child);

impl Drop for Running {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// Runs this test binary's `helper_hold_initializing` in a new process:
/// it creates `name` and sleeps inside the initializer. Returns once the
/// segment is claimed.
fn hold_initializing(name: &str) -> Running {
    let mut child = Running(
        Command::new(std::env::current_exe().unwrap())
            .args(["--exact", "helper_hold_initializing", "--nocapture"])
            .args(["--test-threads", "1"])
            .env(HOLD_ENV, name)
            .stdout(Stdio::piped())
            .spawn()
            .unwrap(),
    );
    let mut out = BufReader::new(child.0.stdout.take().unwrap());
    let mut line = String::new();
    // libtest may print `test NAME ... ` before the helper's line.
    while !line.trim_end().ends_with("HOLDING-INITIALIZING") {
        line.clear();
        assert!(out.read_line(&mut line).unwrap() > 0, "the helper ended");
    }
    child
}

/// Not a test: the process `hold_initializing` runs.
#[test]
fn helper_hold_initializing() {
    let Ok(name) = std::env::var(HOLD_ENV) else {
        return;
    };
    // In place (the header's init states), as on platforms without atomic
    // publication: on Linux a segment being made is invisible under its name.
    shm_runtime::__private::publish_in_place(true);
    let _ = Segment::posix(&name).create(init::in_place(|_: &mut [u64; 4]| {
        println!("HOLDING-INITIALIZING");
        std::io::stdout().flush().unwrap();
        std::thread::sleep(Duration::from_secs(120));
    }));
}

/// Parses `text` as JSON.
fn parse(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// The entry named `name` in `list --json`'s output.
fn find<'a>(list: &'a Value, name: &str) -> Option<&'a Value> {
    list["segments"]
        .as_array()
        .expect("segments")
        .iter()
        .find(|s| s["name"] == name)
}

/// A POSIX object made with `shm_open` directly, under a name of any
/// bytes (not necessarily UTF-8): unlinked on drop, even on panic.
struct RawObject(std::ffi::CString);

impl RawObject {
    fn create(name: &[u8]) -> RawObject {
        let c_name = std::ffi::CString::new(name).unwrap();
        // SAFETY: `c_name` is a valid C string; the descriptor is closed
        // at once.
        let fd = unsafe {
            libc::shm_open(
                c_name.as_ptr(),
                libc::O_RDWR | libc::O_CREAT | libc::O_EXCL,
                0o600,
            )
        };
        assert!(fd >= 0, "{}", std::io::Error::last_os_error());
        // SAFETY: `fd` was just opened and is closed once.
        unsafe { libc::close(fd) };
        RawObject(c_name)
    }

    fn name(&self) -> &OsStr {
        use std::os::unix::ffi::OsStrExt;
        OsStr::from_bytes(self.0.as_bytes())
    }
}

impl Drop for RawObject {
    fn drop(&mut self) {
        // SAFETY: a valid C string; the name may be gone already.
        unsafe { libc::shm_unlink(self.0.as_ptr()) };
    }
}

/// `list` shows a ready segment's type, size, state and creator, in the
/// table and in JSON.
#[test]
fn list_shows_a_ready_segment_with_its_type_and_size() {
    let mut scratch = Scratch::new("list");
    let name = scratch.posix("ready");
    let _table = Segment::posix(&name).create([7u64; 4]).unwrap();
    let out = ok(&["list"]);
    let line = line_of(&out, &name).unwrap_or_else(|| panic!("{name} not in\n{out}"));
    assert!(out.starts_with("NAME "), "{out}");
    let pid = std::process::id().to_string();
    for want in [
        "[u64; 4]",
        " 32 ",
        " ready ",
        &format!(" {pid} alive "),
        " 0600 ",
    ] {
        assert!(line.contains(want), "{want:?} not in {line:?}");
    }

    let list = parse(&ok(&["list", "--json"]));
    let entry = find(&list, &name).expect("listed in JSON");
    assert_eq!(entry["kind"], "posix");
    assert_eq!(entry["type"], "[u64; 4]");
    assert_eq!(entry["state"], "ready");
    assert_eq!(entry["state_text"], "ready");
    assert_eq!(entry["damaged"], false);
    assert_eq!(entry["creator"], "alive");
    assert_eq!(entry["payload_bytes"], 32);
    assert_eq!(entry["creator_pid"], std::process::id());
    assert_eq!(entry["foreign"], false);
    assert_eq!(entry["fingerprint"], <[u64; 4]>::FINGERPRINT.to_string());
    assert!(entry.get("name_bytes").is_none(), "{entry}");
    scratch.finish();
}

/// The owner column is the user database's name for the uid (here the
/// user running the tests, as `id -un` says).
#[test]
fn owners_are_named_from_the_user_database() {
    let mut scratch = Scratch::new("owner");
    let name = scratch.posix("owned");
    let _v = Segment::posix(&name).create(1u8).unwrap();
    let id = Command::new("id").arg("-un").output().expect("run id -un");
    let me = String::from_utf8(id.stdout).unwrap().trim().to_owned();
    let entry = parse(&ok(&["inspect", "--json", &name]));
    assert_eq!(entry["owner"], me.as_str(), "{entry}");
    // SAFETY: `getuid` cannot fail.
    assert_eq!(entry["owner_uid"], unsafe { libc::getuid() });
    let out = ok(&["inspect", &name]);
    assert!(
        field(&out, "owner").starts_with(&format!("{me} (uid ")),
        "{out}"
    );
    scratch.finish();
}

/// Objects of other programs are hidden but counted, shown with `--all`
/// (with a machine state in JSON), never cleaned, and removed by `rm`
/// only with `--force`.
#[test]
fn foreign_objects_are_listed_apart_and_removed_only_when_forced() {
    let mut scratch = Scratch::new("foreign");
    let short = scratch.posix("foreign-short");
    let long = scratch.posix("foreign-long");
    std::fs::write(format!("/dev/shm{short}"), b"hello").unwrap();
    std::fs::write(format!("/dev/shm{long}"), vec![0xa5u8; 4096]).unwrap();
    let out = ok(&["list"]);
    assert!(
        line_of(&out, &short).is_none() && line_of(&out, &long).is_none(),
        "{out}"
    );
    assert!(out.contains("not made by this library hidden"), "{out}");

    let out = ok(&["list", "--all"]);
    let line = line_of(&out, &short).unwrap_or_else(|| panic!("{short} not in\n{out}"));
    assert!(line.contains("foreign (shorter than a header)"), "{line}");
    let line = line_of(&out, &long).unwrap();
    assert!(
        line.contains("foreign (no header of this library)"),
        "{line}"
    );
    let list = parse(&ok(&["list", "--all", "--json"]));
    let entry = find(&list, &long).unwrap();
    assert_eq!(entry["foreign"], true);
    assert_eq!(entry["state"], "foreign");
    assert_eq!(entry["foreign_reason"], "no_header");
    assert_eq!(entry["state_text"], "foreign (no header of this library)");
    assert_eq!(find(&list, &short).unwrap()["foreign_reason"], "too_short");

    for states in [
        &[][..],
        &["--state", "initializing"],
        &["--state", "abandoned"],
    ] {
        let prefix = scratch.prefix();
        let mut args = vec!["clean", "--name-prefix", &prefix[..]];
        args.extend_from_slice(states);
        let out = ok(&args);
        assert!(!out.contains(&short) && !out.contains(&long), "{out}");
    }
    assert!(inspect::inspect_posix(&short).is_ok());
    assert!(inspect::inspect_posix(&long).is_ok());
    // Named without --force, `rm` refuses and says why.
    let run = tool(&["rm", &long]);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.stderr.contains("not a segment of this library") && run.stderr.contains("--force"),
        "{}",
        run.stderr
    );
    assert!(inspect::inspect_posix(&long).is_ok());
    // With --force it removes them, and says it forced.
    let out = ok(&["rm", "--force", &long, &short]);
    assert!(
        out.contains(&format!(
            "removed {long} (foreign (no header of this library), forced)"
        )),
        "{out}"
    );
    assert!(out.contains(&format!("removed {short} (")), "{out}");
    assert!(inspect::inspect_posix(&long).is_err());
    assert!(inspect::inspect_posix(&short).is_err());
    scratch.finish();
}

/// A creator that died while initializing, and a segment abandoned by a
/// panicking initializer, are stale: listed as such, kept by `--dry-run`,
/// chosen by `--state`, `--older-than` (with units) and `--name-prefix`
/// (with or without its slash), and removed by `clean`.
#[test]
fn stale_segments_are_shown_and_removed_by_clean_but_not_by_dry_run() {
    let mut scratch = Scratch::new("stale");
    let dead = scratch.posix("dead");
    let abandoned = scratch.posix("abandoned");
    let prefix = scratch.prefix();
    let bare_prefix = prefix.strip_prefix('/').unwrap().to_owned();

    let holder = hold_initializing(&dead);
    let out = ok(&["list"]);
    let line = line_of(&out, &dead).unwrap_or_else(|| panic!("{dead} not in\n{out}"));
    assert!(
        line.contains(" initializing ") && line.contains(" alive "),
        "{line}"
    );
    assert!(line.contains("[u64; 4]"), "{line}");
    let entry = parse(&ok(&["inspect", "--json", &dead]));
    assert_eq!(entry["state"], "initializing", "{entry}");
    let out = ok(&["clean", "--name-prefix", &prefix]);
    assert!(
        !out.contains(&dead),
        "a live initializer is not stale: {out}"
    );
    drop(holder); // SIGKILL, reaped

    // The abandoned one: reclaimed from a dead creator by a process whose
    // initializer then panics.
    drop(hold_initializing(&abandoned));
    let panicked = std::panic::catch_unwind(|| {
        let _ = Segment::posix(&abandoned)
            .open_or_create(init::in_place(|_: &mut [u64; 4]| panic!("no")));
    });
    assert!(panicked.is_err());

    let out = ok(&["list"]);
    let line = line_of(&out, &dead).unwrap();
    assert!(
        line.contains(" creator dead ") && line.contains(" dead "),
        "{line}"
    );
    let line = line_of(&out, &abandoned).unwrap();
    assert!(line.contains(" abandoned "), "{line}");
    let list = parse(&ok(&["list", "--json"]));
    let entry = find(&list, &dead).unwrap();
    assert_eq!(entry["creator"], "dead");
    assert_eq!(entry["stale"], true);
    assert_eq!(entry["state"], "creator_dead");
    assert_eq!(entry["state_text"], "creator dead");
    assert_eq!(find(&list, &abandoned).unwrap()["state"], "abandoned");

    // The prefix without its slash matches too.
    let out = ok(&["clean", "--dry-run", "--name-prefix", &bare_prefix]);
    assert!(out.contains(&format!("would remove {dead} ")), "{out}");
    assert!(out.contains(&format!("would remove {abandoned} ")), "{out}");
    assert!(inspect::inspect_posix(&dead).is_ok());
    assert!(inspect::inspect_posix(&abandoned).is_ok());

    // --older-than with a unit: both are younger than a day, older than 0s.
    for age in ["1d", "2h", "86400", "1h30m"] {
        let out = ok(&["clean", "--older-than", age, "--name-prefix", &prefix]);
        assert!(out.contains("nothing to clean"), "{age}: {out}");
    }
    let out = ok(&[
        "clean",
        "--dry-run",
        "--older-than",
        "0s",
        "--name-prefix",
        &prefix,
    ]);
    assert!(out.contains(&format!("would remove {dead} ")), "{out}");
    // --state narrows.
    let out = ok(&["clean", "--state", "dead", "--name-prefix", &prefix]);
    assert!(out.contains(&format!("removed {dead} ")), "{out}");
    assert!(!out.contains(&abandoned), "{out}");
    assert!(inspect::inspect_posix(&dead).is_err());
    let json = parse(&ok(&["clean", "--json", "--name-prefix", &bare_prefix]));
    let removed = json["removed"].as_array().unwrap();
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert_eq!(removed[0]["name"], abandoned.as_str());
    assert_eq!(json["dry_run"], false);
    assert_eq!(json["failed"], 0);
    assert!(inspect::inspect_posix(&abandoned).is_err());
    scratch.finish();
}

/// `rm` takes several names (the leading slash optional), says what it
/// removed, reports each missing one, and exits 1 if any failed.
#[test]
fn rm_removes_several_names_and_reports_missing_ones() {
    let mut scratch = Scratch::new("rm");
    let a = scratch.posix("a");
    let b = scratch.posix("b");
    let missing = scratch.posix("missing");
    Segment::posix(&a).create(1u32).unwrap();
    Segment::posix(&b).create([0u8; 3]).unwrap();
    let run = tool(&["rm", &a, &missing, b.strip_prefix('/').unwrap()]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stdout.contains(&format!("removed {a} (u32, ready)")),
        "{}",
        run.stdout
    );
    assert!(
        run.stdout
            .contains(&format!("removed {b} ([u8; 3], ready)")),
        "{}",
        run.stdout
    );
    assert!(
        run.stderr.starts_with("shm-tool: error: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&missing) && run.stderr.contains("No such"),
        "{}",
        run.stderr
    );
    assert_eq!(run.stderr.lines().count(), 1, "{}", run.stderr);
    assert!(inspect::inspect_posix(&a).is_err());
    assert!(inspect::inspect_posix(&b).is_err());
    let run = tool(&["inspect", &a]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("no such segment"), "{}", run.stderr);
    scratch.finish();
}

#[test]
fn system_v_segments_are_listed_inspected_and_removed() {
    let mut scratch = Scratch::new("sysv");
    let key = scratch.sysv();
    let _value = Segment::sysv(key).create(0x1234_5678u32).unwrap();
    let label = format!("sysv:{key}");
    let out = ok(&["list"]);
    let line = line_of(&out, &label).unwrap_or_else(|| panic!("{label} not in\n{out}"));
    assert!(line.contains(" u32 ") && line.contains(" ready "), "{line}");
    let out = ok(&["inspect", "--sysv", &key.to_string()]);
    assert!(out.contains("u32") && out.contains("attached:"), "{out}");
    let entry = parse(&ok(&[
        "inspect",
        "--json",
        "--sysv",
        &key.get().to_string(),
    ]));
    assert_eq!(entry["kind"], "sysv");
    let shmid = entry["shmid"].as_i64().unwrap();
    let out = ok(&["inspect", "--shmid", &shmid.to_string()]);
    assert!(out.contains(&label), "{out}");
    let out = ok(&["rm", "--sysv", &key.to_string()]);
    assert!(
        out.contains(&format!("removed {label} (u32, ready)")),
        "{out}"
    );
    assert!(inspect::inspect_sysv(key).is_err());
    let run = tool(&["rm", "--sysv", &key.to_string()]);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    scratch.finish();
}

#[test]
fn inspect_of_a_file_shows_every_header_field() {
    let mut scratch = Scratch::new("file");
    let path = scratch.file("inspect");
    let _v = Segment::file(&path)
        .create(init::from_fn(5, |i| i as u16))
        .unwrap();
    let p = path.to_str().unwrap();
    let out = ok(&["inspect", "--file", p]);
    assert_eq!(field(&out, "state"), "ready");
    assert_eq!(field(&out, "type"), "[u16]");
    assert_eq!(field(&out, "fingerprint"), u16::FINGERPRINT.to_string());
    assert_eq!(field(&out, "elements"), "5");
    assert_eq!(field(&out, "payload"), "10 bytes at offset 256");
    assert_eq!(field(&out, "type size/align"), "2 / 2");
    // Header, payload, then (8-aligned) the layout description block.
    let payload = inspect::inspect_file(&path)
        .unwrap()
        .header()
        .unwrap()
        .payload
        .clone()
        .unwrap();
    assert_eq!(payload.description_offset, 272);
    assert_eq!(
        field(&out, "object size"),
        format!("{} bytes", 272 + payload.description_len)
    );
    assert_eq!(field(&out, "mode"), "0600");
    assert_eq!(
        field(&out, "creator"),
        format!("pid {} (alive)", std::process::id())
    );
    let info = parse(&ok(&["inspect", "--json", "--file", p]));
    assert_eq!(info["kind"], "file");
    assert_eq!(info["len"], 5);
    assert_eq!(info["object_size"], 272 + payload.description_len);
    // Listed when named on the command line.
    let out = ok(&["list", p]);
    assert!(
        line_of(&out, p).is_some_and(|l| l.contains("[u16]")),
        "{out}"
    );
    scratch.finish();
}

/// A FILE given to `list` that does not exist is an error: a clear message
/// and exit status 1 (not an empty listing and 0).
#[test]
fn list_of_a_missing_file_fails_clearly() {
    let mut scratch = Scratch::new("nofile");
    let missing = scratch.file("missing");
    let p = missing.to_str().unwrap();
    let run = tool(&["list", p]);
    assert_eq!(run.code, Some(1), "{}{}", run.stdout, run.stderr);
    assert!(
        run.stderr
            .starts_with(&format!("shm-tool: error: inspecting file `{p}`: no such")),
        "{}",
        run.stderr
    );
    assert!(line_of(&run.stdout, p).is_none(), "{}", run.stdout);
    // Next to a file that exists: that one is listed, the status is still 1.
    let real = scratch.file("real");
    let _v = Segment::file(&real).create(3u16).unwrap();
    let run = tool(&["list", p, real.to_str().unwrap()]);
    assert_eq!(run.code, Some(1));
    assert!(
        line_of(&run.stdout, real.to_str().unwrap()).is_some(),
        "{}",
        run.stdout
    );
    scratch.finish();
}

/// A newline, a tab and an escape character in a name are written as
/// `\n`, `\t` and `\e` in the table, keeping one line per segment, and
/// exactly in JSON.
#[test]
fn control_characters_in_names_are_escaped_in_the_table() {
    let mut scratch = Scratch::new("ctl");
    let name = scratch.posix("new\nline\tand\x1b[31mred");
    let _v = Segment::posix(&name).create(5u32).unwrap();
    let out = ok(&["list"]);
    let shown = name
        .replace('\n', "\\n")
        .replace('\t', "\\t")
        .replace('\x1b', "\\e");
    let line = line_of(&out, &shown).unwrap_or_else(|| panic!("{shown} not in\n{out}"));
    assert!(line.contains(" u32 ") && line.contains(" ready "), "{line}");
    assert!(!out.contains('\x1b') && !out.contains('\t'), "{out:?}");
    let list = parse(&ok(&["list", "--json"]));
    assert!(find(&list, &name).is_some(), "exact name in JSON");
    let out = ok(&["inspect", &name]);
    assert_eq!(field(&out, "name"), shown);
    scratch.finish();
}

/// Columns are aligned by display width: a name of wide (CJK) characters
/// and one with a combining mark do not shift the columns after them.
#[test]
fn columns_align_by_display_width() {
    let mut scratch = Scratch::new("wide");
    let wide = scratch.posix("名前");
    let combining = scratch.posix("e\u{301}");
    let _a = Segment::posix(&wide).create(1u8).unwrap();
    let _b = Segment::posix(&combining).create(1u8).unwrap();
    let out = ok(&["list"]);
    // The display column where TYPE starts, in the header and in each row.
    let type_col = |line: &str, at: &str| {
        let byte = line.find(at).unwrap_or_else(|| panic!("{at} in {line}"));
        unicode_width(&line[..byte])
    };
    let header = out.lines().next().unwrap();
    let want = type_col(header, "TYPE");
    for name in [&wide, &combining] {
        let line = line_of(&out, name).unwrap_or_else(|| panic!("{name} not in\n{out}"));
        assert_eq!(type_col(line, " u8 ") + 1, want, "{out}");
    }
    scratch.finish();
}

/// Display width as a terminal counts it, for the few characters these
/// tests use: CJK ideographs 2, combining marks 0, ASCII 1.
fn unicode_width(s: &str) -> usize {
    s.chars()
        .map(|c| match c {
            '\u{300}'..='\u{36f}' => 0,
            '\u{4e00}'..='\u{9fff}' => 2,
            _ => 1,
        })
        .sum()
}

/// A name that is not UTF-8 (made with `shm_open` by another program) is
/// counted as hidden by `list`, shown escaped by `list --all` (and exactly
/// in JSON's `name_bytes`), inspected and removed by name: no panic.
#[test]
fn a_name_that_is_not_utf8_is_listed_inspected_and_removed() {
    let mut bytes = format!("/shm-tool-test-{}-raw-", std::process::id()).into_bytes();
    bytes.extend_from_slice(b"\xff\xfe\n");
    let object = RawObject::create(&bytes);
    let shown = format!("/shm-tool-test-{}-raw-\\xff\\xfe\\n", std::process::id());

    let list = parse(&ok(&["list", "--json"]));
    assert!(find(&list, &shown).is_none(), "foreign: hidden by default");
    assert!(list["hidden_foreign"].as_u64().unwrap() >= 1, "{list}");
    let out = ok(&["list"]);
    assert!(out.contains("not made by this library hidden"), "{out}");

    let out = ok(&["list", "--all"]);
    let line = line_of(&out, &shown).unwrap_or_else(|| panic!("{shown} not in\n{out}"));
    assert!(line.contains("foreign (empty)"), "{line}");
    let list = parse(&ok(&["list", "--all", "--json"]));
    let entry = find(&list, &shown).expect("in JSON, escaped");
    let exact: Vec<u8> = serde_json::from_value(entry["name_bytes"].clone()).unwrap();
    assert_eq!(exact, bytes);
    assert_eq!(entry["state"], "foreign");
    assert_eq!(entry["foreign_reason"], "empty");

    // As an unknown command: bad usage, not a panic.
    assert_eq!(tool(&[object.name()]).code, Some(2));
    let out = ok(&[OsStr::new("inspect"), object.name()]);
    assert_eq!(field(&out, "name"), shown);
    assert_eq!(field(&out, "state"), "foreign (empty)");
    let run = tool(&[OsStr::new("rm"), object.name()]);
    assert_eq!(run.code, Some(1), "foreign: refused without --force");
    let out = ok(&[OsStr::new("rm"), OsStr::new("--force"), object.name()]);
    assert!(
        out.contains(&format!("removed {shown} (foreign (empty), forced)")),
        "{out}"
    );
    let err = inspect::inspect_posix(object.name()).unwrap_err();
    assert_eq!(err.kind(), shm_runtime::ErrorKind::NotFound);
    let run = tool(&[OsStr::new("inspect"), object.name()]);
    assert_eq!(run.code, Some(1));
    assert!(run.stderr.contains("\\xff\\xfe"), "{}", run.stderr);
}

#[test]
fn scan_mutexes_reports_an_owner_that_died_holding_the_lock() {
    let mut scratch = Scratch::new("mutex");
    let name = scratch.posix("mutex");
    let m = Segment::posix(&name).create(ShmMutex::new(0u64)).unwrap();
    *m.lock().unwrap() = 1; // initialised and free
    let out = ok(&["inspect", &name, "--scan-mutexes"]);
    assert_eq!(field(&out, "mutexes found"), "1");
    assert_eq!(field(&out, "mutex"), "payload offset 0: free");
    // A process ends holding it: the scan (like the next lock) finds it
    // gone. (A thread that ends holding it in a live process keeps it.)
    let start = std::time::Instant::now();
    let child = loop {
        // SAFETY: the child only locks a process-shared mutex and returns
        // (then `_exit`s).
        match unsafe { shm_runtime::process::fork_unchecked(|| std::mem::forget(m.lock())) } {
            // Another test's guard, for a moment: guards refuse forks
            // process-wide.
            Err(e)
                if e.kind() == shm_runtime::ErrorKind::ForkWhileLocked
                    && start.elapsed() < Duration::from_secs(60) =>
            {
                std::thread::sleep(Duration::from_millis(1));
            }
            child => break child.unwrap(),
        }
    };
    child.join(Duration::from_secs(60)).unwrap();
    let out = ok(&["inspect", &name, "--scan-mutexes"]);
    assert!(out.contains("died holding it"), "{out}");
    let info = parse(&ok(&["inspect", &name, "--scan-mutexes", "--json"]));
    let mutexes = info["mutexes"].as_array().unwrap();
    assert_eq!(mutexes.len(), 1);
    assert_eq!(mutexes[0]["owner_died"], true);
    assert!(m.lock().is_err()); // and the library agrees
    scratch.finish();
}

/// Bad usage exits 2 with a one-line `shm-tool: error: ...` first.
#[test]
fn usage_errors_exit_2_with_a_message() {
    for args in [
        &[][..],
        &["frobnicate"],
        &["list", "--bogus"],
        &["inspect"],
        &["inspect", "a/b"],
        &["rm"],
        &["rm", "--sysv", "zz"],
        &["rm", "--sysv", "0"],
        &["clean", "--state", "sleepy"],
        &["clean", "--older-than", "soon"],
        &["clean", "--older-than", "5x"],
        &["inspect", "/a", "--file", "/b"],
        &["completions", "tcsh-of-the-future"],
    ] {
        let run = tool(args);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("shm-tool: error: "),
            "{args:?}: {}",
            run.stderr
        );
    }
}

/// `--version`, and `--help` per command (not the global help).
#[test]
fn version_and_help_of_each_command() {
    let run = tool(&["--version"]);
    assert_eq!(run.code, Some(0));
    assert_eq!(
        run.stdout.trim(),
        format!("shm-tool {}", env!("CARGO_PKG_VERSION"))
    );
    let help = tool(&["--help"]);
    assert_eq!(help.code, Some(0));
    for command in ["list", "inspect", "rm", "clean", "completions"] {
        assert!(help.stdout.contains(command), "{}", help.stdout);
    }
    for (command, own) in [
        ("list", "--all"),
        ("inspect", "--scan-mutexes"),
        ("rm", "--force"),
        ("clean", "--older-than"),
    ] {
        let run = tool(&[command, "--help"]);
        assert_eq!(run.code, Some(0), "{command}: {}", run.stderr);
        assert!(
            run.stdout.contains(&format!("Usage: shm-tool {command}")),
            "{}",
            run.stdout
        );
        assert!(run.stdout.contains(own), "{command}: {}", run.stdout);
        // Another command's option is not in this command's help.
        assert!(
            command == "clean" || !run.stdout.contains("--older-than"),
            "{}",
            run.stdout
        );
    }
}

/// Completion scripts for bash, zsh and fish name the commands and their
/// options; bash accepts the script.
#[test]
fn completions_for_bash_zsh_and_fish() {
    for shell in ["bash", "zsh", "fish"] {
        let out = ok(&["completions", shell]);
        for word in ["inspect", "clean", "older-than", "scan-mutexes"] {
            assert!(out.contains(word), "{shell}: no {word}");
        }
    }
    let script = ok(&["completions", "bash"]);
    assert!(script.contains("complete -F"), "{script}");
    if let Ok(status) = Command::new("bash").args(["-n", "-c", &script]).status() {
        assert!(status.success(), "bash rejects the script");
    }
}

const DIE_CREATING_ENV: &str = "SHM_TOOL_TEST_DIE_CREATING";

/// Not a test: the process `a_stale_creation_lock_is_listed_and_cleaned`
/// runs, which dies (as abruptly as a `SIGKILL`) inside `open_or_create`
/// while it holds the creation lock.
#[test]
fn helper_die_creating() {
    let Ok(name) = std::env::var(DIE_CREATING_ENV) else {
        return;
    };
    shm_runtime::__private::die_during_creation_at(3);
    let _ = Segment::posix(&name).open_or_create(0u64);
}

#[test]
fn a_stale_creation_lock_is_listed_and_cleaned() {
    let mut scratch = Scratch::new("lock");
    let name = scratch.posix("dead-creator");
    let status = Command::new(std::env::current_exe().unwrap())
        .args(["--exact", "helper_die_creating", "--test-threads", "1"])
        .env(DIE_CREATING_ENV, &name)
        .stdout(Stdio::null())
        .status()
        .unwrap();
    assert!(status.success(), "{status}");
    // The creator died between taking the lock and publishing: the segment
    // does not exist, its lock file does, and nobody holds it.
    assert!(inspect::inspect_posix(&name).is_err());
    let locks = |out: &str| -> Vec<String> {
        out.lines()
            .filter(|l| l.starts_with("/.shmrt-create-") && l.contains("creator dead"))
            .map(|l| l.split_whitespace().next().unwrap().to_owned())
            .collect()
    };
    let out = ok(&["list"]);
    let stale = locks(&out);
    assert!(!stale.is_empty(), "no stale creation lock in\n{out}");
    // In JSON, with a machine state of their own.
    let list = parse(&ok(&["list", "--json"]));
    let stale_json: Vec<&Value> = list["segments"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|s| s["state"] == "stale_creation_lock")
        .collect();
    assert!(!stale_json.is_empty(), "{list}");
    assert!(stale_json
        .iter()
        .all(|s| s["name"].as_str().unwrap().starts_with("/.shmrt-create-") && s["stale"] == true));
    // (Limited to creation locks: other tests' segments are left alone.)
    let locks_only = ["--name-prefix", "/.shmrt-create-"];
    let out = ok(&["clean", "--dry-run", locks_only[0], locks_only[1]]);
    assert!(stale.iter().all(|l| out.contains(l)), "{out}");
    ok(&["clean", locks_only[0], locks_only[1]]);
    let out = ok(&["list"]);
    assert!(locks(&out).is_empty(), "{out}");
    scratch.finish();
}
