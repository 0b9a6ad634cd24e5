//! Runs `shm-tool` as a user would, against segments these tests make.
//!
//! Other test binaries create segments at the same time: every assertion is
//! about names of this process (`/shm-tool-test-PID-N`), and `clean` always
//! runs with `--name-prefix` of this process.

use shm_runtime::segment::{inspect, Segment, SysvKey};
use shm_runtime::{SharedSafe, ShmMutex};
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

fn tool(args: &[&str]) -> Run {
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

fn ok(args: &[&str]) -> String {
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
    let _ = Segment::posix(&name).create_with(|_: &mut [u64; 4]| {
        println!("HOLDING-INITIALIZING");
        std::io::stdout().flush().unwrap();
        std::thread::sleep(Duration::from_secs(120));
    });
}

/// A tiny JSON parser: enough to check the output's structure.
mod json {
    #[derive(Debug, PartialEq)]
    pub enum Value {
        Null,
        Bool(bool),
        Num(f64),
        Str(String),
        Arr(Vec<Value>),
        Obj(Vec<(String, Value)>),
    }

    impl Value {
        pub fn get(&self, key: &str) -> Option<&Value> {
            match self {
                Value::Obj(fields) => fields.iter().find(|(k, _)| k == key).map(|(_, v)| v),
                _ => None,
            }
        }
        pub fn str(&self, key: &str) -> Option<&str> {
            match self.get(key)? {
                Value::Str(s) => Some(s),
                _ => None,
            }
        }
        pub fn num(&self, key: &str) -> Option<f64> {
            match self.get(key)? {
                Value::Num(n) => Some(*n),
                _ => None,
            }
        }
        pub fn arr(&self, key: &str) -> &[Value] {
            match self.get(key) {
                Some(Value::Arr(a)) => a,
                _ => panic!("no array {key}"),
            }
        }
    }

    pub fn parse(s: &str) -> Value {
        let mut p = Parser(s.trim().as_bytes(), 0);
        let v = p.value();
        assert_eq!(p.1, p.0.len(), "trailing bytes in {s}");
        v
    }

    struct Parser<'a>(&'a [u8], usize);

    impl Parser<'_> {
        fn peek(&self) -> u8 {
            self.0[self.1]
        }
        fn eat(&mut self, c: u8) {
            assert_eq!(self.peek() as char, c as char, "at {}", self.1);
            self.1 += 1;
        }
        fn lit(&mut self, word: &str, v: Value) -> Value {
            assert!(self.0[self.1..].starts_with(word.as_bytes()));
            self.1 += word.len();
            v
        }
        fn value(&mut self) -> Value {
            match self.peek() {
                b'{' => {
                    self.eat(b'{');
                    let mut fields = Vec::new();
                    while self.peek() != b'}' {
                        if !fields.is_empty() {
                            self.eat(b',');
                        }
                        let Value::Str(k) = self.value() else {
                            panic!("key")
                        };
                        self.eat(b':');
                        fields.push((k, self.value()));
                    }
                    self.eat(b'}');
                    Value::Obj(fields)
                }
                b'[' => {
                    self.eat(b'[');
                    let mut items = Vec::new();
                    while self.peek() != b']' {
                        if !items.is_empty() {
                            self.eat(b',');
                        }
                        items.push(self.value());
                    }
                    self.eat(b']');
                    Value::Arr(items)
                }
                b'"' => {
                    self.eat(b'"');
                    let mut s = String::new();
                    loop {
                        let c = self.peek();
                        self.1 += 1;
                        match c {
                            b'"' => break,
                            b'\\' => {
                                let e = self.peek();
                                self.1 += 1;
                                match e {
                                    b'u' => {
                                        let hex = std::str::from_utf8(&self.0[self.1..self.1 + 4])
                                            .unwrap();
                                        self.1 += 4;
                                        s.push(
                                            char::from_u32(u32::from_str_radix(hex, 16).unwrap())
                                                .unwrap(),
                                        );
                                    }
                                    b'n' => s.push('\n'),
                                    b't' => s.push('\t'),
                                    b'r' => s.push('\r'),
                                    other => s.push(other as char),
                                }
                            }
                            _ => {
                                // Re-decode multi-byte UTF-8 sequences whole.
                                let start = self.1 - 1;
                                let len = match c {
                                    0..=0x7f => 1,
                                    0xc0..=0xdf => 2,
                                    0xe0..=0xef => 3,
                                    _ => 4,
                                };
                                s.push_str(
                                    std::str::from_utf8(&self.0[start..start + len]).unwrap(),
                                );
                                self.1 = start + len;
                            }
                        }
                    }
                    Value::Str(s)
                }
                b't' => self.lit("true", Value::Bool(true)),
                b'f' => self.lit("false", Value::Bool(false)),
                b'n' => self.lit("null", Value::Null),
                _ => {
                    let start = self.1;
                    while self.1 < self.0.len() && b"-+.eE0123456789".contains(&self.peek()) {
                        self.1 += 1;
                    }
                    let text = std::str::from_utf8(&self.0[start..self.1]).unwrap();
                    Value::Num(text.parse().unwrap_or_else(|_| panic!("number {text}")))
                }
            }
        }
    }
}

fn find<'a>(list: &'a json::Value, name: &str) -> Option<&'a json::Value> {
    list.arr("segments")
        .iter()
        .find(|s| s.str("name") == Some(name))
}

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

    let list = json::parse(&ok(&["list", "--json"]));
    let entry = find(&list, &name).expect("listed in JSON");
    assert_eq!(entry.str("kind"), Some("posix"));
    assert_eq!(entry.str("type"), Some("[u64; 4]"));
    assert_eq!(entry.str("state"), Some("ready"));
    assert_eq!(entry.str("creator"), Some("alive"));
    assert_eq!(entry.num("payload_bytes"), Some(32.0));
    assert_eq!(
        entry.num("creator_pid"),
        Some(f64::from(std::process::id()))
    );
    assert_eq!(entry.get("foreign"), Some(&json::Value::Bool(false)));
    assert_eq!(
        entry.str("fingerprint").map(str::to_owned),
        Some(<[u64; 4]>::FINGERPRINT.to_string())
    );
    scratch.finish();
}

#[test]
fn foreign_objects_are_listed_apart_and_never_cleaned() {
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
    let list = json::parse(&ok(&["list", "--all", "--json"]));
    let entry = find(&list, &long).unwrap();
    assert_eq!(entry.get("foreign"), Some(&json::Value::Bool(true)));

    for states in [
        &[][..],
        &["--state", "initializing"],
        &["--state", "abandoned"],
    ] {
        let prefix = scratch.prefix();
        let mut args = vec!["clean", "--name-prefix", &prefix[..]];
        args.extend_from_slice(states);
        let owned: Vec<String> = args.iter().map(|s| s.to_string()).collect();
        let refs: Vec<&str> = owned.iter().map(String::as_str).collect();
        let out = ok(&refs);
        assert!(!out.contains(&short) && !out.contains(&long), "{out}");
    }
    assert!(inspect::inspect_posix(&short).is_ok());
    assert!(inspect::inspect_posix(&long).is_ok());
    // Named explicitly, `rm` removes a foreign object.
    ok(&["rm", &long]);
    assert!(inspect::inspect_posix(&long).is_err());
    scratch.finish();
}

#[test]
fn stale_segments_are_shown_and_removed_by_clean_but_not_by_dry_run() {
    let mut scratch = Scratch::new("stale");
    let dead = scratch.posix("dead");
    let abandoned = scratch.posix("abandoned");
    let prefix = scratch.prefix();

    let holder = hold_initializing(&dead);
    let out = ok(&["list"]);
    let line = line_of(&out, &dead).unwrap_or_else(|| panic!("{dead} not in\n{out}"));
    assert!(
        line.contains(" initializing ") && line.contains(" alive "),
        "{line}"
    );
    assert!(line.contains("[u64; 4]"), "{line}");
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
        let _ = Segment::posix(&abandoned).open_or_create_with(|_: &mut [u64; 4]| panic!("no"));
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
    let list = json::parse(&ok(&["list", "--json"]));
    assert_eq!(find(&list, &dead).unwrap().str("creator"), Some("dead"));
    assert_eq!(
        find(&list, &dead).unwrap().get("stale"),
        Some(&json::Value::Bool(true))
    );

    let out = ok(&["clean", "--dry-run", "--name-prefix", &prefix]);
    assert!(out.contains(&format!("would remove {dead} ")), "{out}");
    assert!(out.contains(&format!("would remove {abandoned} ")), "{out}");
    assert!(inspect::inspect_posix(&dead).is_ok());
    assert!(inspect::inspect_posix(&abandoned).is_ok());

    // --state narrows, --older-than filters by age.
    let out = ok(&["clean", "--older-than", "100000", "--name-prefix", &prefix]);
    assert!(out.contains("nothing to clean"), "{out}");
    let out = ok(&["clean", "--state", "dead", "--name-prefix", &prefix]);
    assert!(out.contains(&format!("removed {dead} ")), "{out}");
    assert!(!out.contains(&abandoned), "{out}");
    assert!(inspect::inspect_posix(&dead).is_err());
    let json = json::parse(&ok(&["clean", "--json", "--name-prefix", &prefix]));
    let removed = json.arr("removed");
    assert_eq!(removed.len(), 1, "{removed:?}");
    assert_eq!(removed[0].str("name"), Some(&abandoned[..]));
    assert!(inspect::inspect_posix(&abandoned).is_err());
    scratch.finish();
}

#[test]
fn rm_removes_and_reports_missing_names() {
    let mut scratch = Scratch::new("rm");
    let name = scratch.posix("rm");
    Segment::posix(&name).create(1u32).unwrap();
    ok(&["rm", &name]);
    assert!(inspect::inspect_posix(&name).is_err());
    let run = tool(&["rm", &name]);
    assert_eq!(run.code, Some(1), "{}", run.stdout);
    assert!(
        run.stderr.starts_with("shm-tool: error: "),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains(&name) && run.stderr.contains("No such"),
        "{}",
        run.stderr
    );
    let run = tool(&["inspect", &name]);
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
    let shmid = json::parse(&ok(&[
        "inspect",
        "--json",
        "--sysv",
        &key.get().to_string(),
    ]))
    .num("shmid")
    .unwrap();
    let out = ok(&["inspect", "--shmid", &shmid.to_string()]);
    assert!(out.contains(&label), "{out}");
    ok(&["rm", "--sysv", &key.to_string()]);
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
        .create_slice_from_fn(5, |i| i as u16)
        .unwrap();
    let p = path.to_str().unwrap();
    let out = ok(&["inspect", "--file", p]);
    assert_eq!(field(&out, "state"), "ready");
    assert_eq!(field(&out, "type"), "[u16]");
    assert_eq!(field(&out, "fingerprint"), u16::FINGERPRINT.to_string());
    assert_eq!(field(&out, "elements"), "5");
    assert_eq!(field(&out, "payload"), "10 bytes at offset 256");
    assert_eq!(field(&out, "type size/align"), "2 / 2");
    assert_eq!(field(&out, "object size"), "266 bytes");
    assert_eq!(field(&out, "mode"), "0600");
    assert_eq!(
        field(&out, "creator"),
        format!("pid {} (alive)", std::process::id())
    );
    let info = json::parse(&ok(&["inspect", "--json", "--file", p]));
    assert_eq!(info.str("kind"), Some("file"));
    assert_eq!(info.num("len"), Some(5.0));
    assert_eq!(info.num("object_size"), Some(266.0));
    // Listed when named on the command line.
    let out = ok(&["list", p]);
    assert!(
        line_of(&out, p).is_some_and(|l| l.contains("[u16]")),
        "{out}"
    );
    scratch.finish();
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
    let info = json::parse(&ok(&["inspect", &name, "--scan-mutexes", "--json"]));
    let mutexes = info.arr("mutexes");
    assert_eq!(mutexes.len(), 1);
    assert_eq!(mutexes[0].get("owner_died"), Some(&json::Value::Bool(true)));
    assert!(m.lock().is_err()); // and the library agrees
    scratch.finish();
}

#[test]
fn usage_errors_exit_2_with_a_message() {
    let help = tool(&["--help"]);
    assert_eq!(help.code, Some(0));
    assert!(help.stdout.contains("Usage:") && help.stdout.contains("shm-tool clean"));
    for args in [
        &[][..],
        &["frobnicate"],
        &["list", "--bogus"],
        &["inspect"],
        &["rm", "--sysv", "zz"],
        &["rm", "--sysv", "0"],
        &["clean", "--state", "sleepy"],
        &["clean", "--older-than", "soon"],
        &["inspect", "/a", "--file", "/b"],
    ] {
        let run = tool(args);
        assert_eq!(run.code, Some(2), "{args:?}: {}", run.stderr);
        assert!(
            run.stderr.starts_with("shm-tool: error: "),
            "{}",
            run.stderr
        );
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
    let _ = Segment::posix(&name).open_or_create(|| 0u64);
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
    // (Limited to creation locks: other tests' segments are left alone.)
    let locks_only = ["--name-prefix", "/.shmrt-create-"];
    let out = ok(&["clean", "--dry-run", locks_only[0], locks_only[1]]);
    assert!(stale.iter().all(|l| out.contains(l)), "{out}");
    ok(&["clean", locks_only[0], locks_only[1]]);
    let out = ok(&["list"]);
    assert!(locks(&out).is_empty(), "{out}");
    scratch.finish();
}
