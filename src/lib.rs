//! Helpers shared by the workspace's examples and integration tests.

use shm_runtime::SharedSafe;
use std::sync::atomic::AtomicU64;

/// A record of the classic `map_normalfile1.c` / `map_normalfile2.c`
/// example: `struct { char name[4]; int age; }`, the same layout in C and
/// Rust thanks to `repr(C)`.
#[derive(SharedSafe, Clone, Copy, Debug, PartialEq, Eq, bytemuck::Pod, bytemuck::Zeroable)]
#[repr(C)]
pub struct People {
    /// A NUL-terminated name of at most 3 bytes.
    pub name: [u8; 4],
    /// The age.
    pub age: i32,
}

impl People {
    /// The name up to its first NUL byte.
    pub fn name(&self) -> String {
        let end = self.name.iter().position(|b| *b == 0).unwrap_or(4);
        String::from_utf8_lossy(&self.name[..end]).into_owned()
    }
}

/// The value every word of a [`Pattern`] holds once initialized.
pub const PATTERN_WORD: u64 = 0x5EED_F00D_CAFE_D00D;

/// A block large enough (8 KiB) that initializing it is observable: tests
/// check that no opener ever sees it half-written.
#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
pub struct Pattern {
    /// Every word is [`PATTERN_WORD`] once initialized.
    pub words: [u64; 1024],
    /// How many processes opened it.
    pub opened: AtomicU64,
}

impl Pattern {
    /// Whether every word holds [`PATTERN_WORD`].
    pub fn is_complete(&self) -> bool {
        self.words.iter().all(|w| *w == PATTERN_WORD)
    }
}

/// `process::fork_unchecked`, retried for a while when refused because a
/// guard exists: the fork barrier counts every thread's guards, so another
/// test holding a lock for a moment refuses this test's fork.
///
/// # Safety
/// As `process::fork_unchecked`.
pub unsafe fn fork_retrying(
    child: impl FnOnce(),
) -> shm_runtime::Result<shm_runtime::process::Child> {
    let mut child = Some(child);
    let start = std::time::Instant::now();
    loop {
        // SAFETY: the caller's promise, for the same closure.
        let forked =
            unsafe { shm_runtime::process::fork_unchecked(|| child.take().expect("run once")()) };
        match forked {
            Err(e)
                if e.kind() == shm_runtime::ErrorKind::ForkWhileLocked
                    && start.elapsed() < std::time::Duration::from_secs(60) =>
            {
                std::thread::sleep(std::time::Duration::from_millis(1));
            }
            forked => return forked,
        }
    }
}

/// Forks a child that blocks in `block` until killed (a blocked push or
/// pop), and SIGKILLs it while `registered()` counts it asleep: tried again
/// with a new child if it was killed between two sleeps, unregistered.
/// Returns the count the dead child left behind.
///
/// # Safety
/// As `process::fork_unchecked`, for `block`.
pub unsafe fn kill_asleep(block: impl Fn(), registered: impl Fn() -> u32) -> u32 {
    for _ in 0..20 {
        let before = registered();
        // SAFETY: the caller's promise.
        let mut child = unsafe { fork_retrying(&block) }.expect("fork");
        let start = std::time::Instant::now();
        while registered() == before {
            assert!(
                start.elapsed() < std::time::Duration::from_secs(30),
                "the child never slept"
            );
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        child.kill().expect("kill");
        let left = registered();
        if left > before {
            return left;
        }
    }
    panic!("the child was never killed asleep")
}

/// A xorshift generator for the tests that kill or corrupt at random:
/// [`seeded`](Rng::seeded) prints its seed, so that a failure can be
/// replayed with `Rng(seed)`.
pub struct Rng(pub u64);

impl Rng {
    /// Seeded from the clock (never 0); prints the seed on stderr.
    pub fn seeded() -> Rng {
        let seed = std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .expect("the clock is past 1970")
            .as_nanos() as u64
            | 1;
        eprintln!("seed {seed}");
        Rng(seed)
    }

    /// The next number.
    #[allow(clippy::should_implement_trait)] // not an iterator: never ends
    pub fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }
}

/// Whether a fork from this thread, now, is refused with `ForkWhileLocked`
/// (a child forked anyway does nothing and is reaped).
pub fn fork_is_refused() -> bool {
    // SAFETY: the child does nothing and returns.
    match unsafe { shm_runtime::process::fork_unchecked(|| {}) } {
        Err(e) => e.kind() == shm_runtime::ErrorKind::ForkWhileLocked,
        Ok(child) => {
            let _ = child.join(std::time::Duration::from_secs(60));
            false
        }
    }
}

/// A queue test's item: who pushed it, its number, and a check word that a
/// torn item (halves of two items) would not match.
#[derive(SharedSafe, Clone, Copy, Debug, bytemuck::Zeroable, bytemuck::Pod)]
#[repr(C)]
pub struct QueueItem {
    /// The producer that pushed it.
    pub producer: u32,
    /// Its number among that producer's items.
    pub seq: u32,
    /// A hash of both, for [`is_whole`](QueueItem::is_whole).
    pub check: u64,
}

impl QueueItem {
    /// Item `seq` of `producer`.
    pub fn new(producer: u32, seq: u32) -> QueueItem {
        QueueItem {
            producer,
            seq,
            check: Self::check_of(producer, seq),
        }
    }

    fn check_of(producer: u32, seq: u32) -> u64 {
        (u64::from(producer) << 32 | u64::from(seq)).wrapping_mul(0x9E37_79B9_7F4A_7C15) ^ 0xA5A5
    }

    /// Whether its check word matches its producer and number.
    pub fn is_whole(&self) -> bool {
        self.check == Self::check_of(self.producer, self.seq)
    }
}

/// Ends a forked child at once with `code`, as a crash would: no unwinding,
/// no destructors, no output flushed.
pub fn exit_child(code: i32) -> ! {
    // SAFETY: `_exit` ends this (child) process immediately.
    unsafe { libc::_exit(code) }
}

/// A path in the temporary directory, unique to this process and `tag`,
/// whose file is removed when this value is dropped (also when a test
/// fails).
#[derive(Debug)]
pub struct TempPath(pub std::path::PathBuf);

impl TempPath {
    /// `$TMPDIR/shmrt-<tag>-<pid>-<n>`.
    pub fn new(tag: &str) -> TempPath {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        TempPath(std::env::temp_dir().join(format!("shmrt-{tag}-{}-{n}", std::process::id())))
    }
}

impl Drop for TempPath {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

/// The body of a child process that, for `run`, truncates the file at
/// `path` to nothing and writes `contents` back, again and again, as a
/// careless (or hostile) process of the same user could; then `_exit`s (0,
/// or 2/3 when the file cannot be opened or written).
pub fn truncate_and_restore(
    path: &std::path::Path,
    contents: &[u8],
    run: std::time::Duration,
) -> ! {
    use std::os::unix::fs::FileExt;
    let Ok(file) = std::fs::OpenOptions::new().write(true).open(path) else {
        exit_child(2)
    };
    let start = std::time::Instant::now();
    while start.elapsed() < run {
        if file.set_len(0).is_err() || file.write_all_at(contents, 0).is_err() {
            exit_child(3);
        }
    }
    exit_child(0)
}

/// Runs the example program `name` with `args`, as a user would, and
/// returns its output; kills it (and fails the test) when it runs longer
/// than `limit`. `cargo test` builds every example next to the test
/// binaries (`target/<profile>/examples/`), which is where it is found.
pub fn run_example(name: &str, args: &[&str], limit: std::time::Duration) -> std::process::Output {
    use std::process::{Command, Stdio};
    let exe = std::env::current_exe().expect("the test binary's path");
    let profile_dir = exe
        .parent()
        .and_then(std::path::Path::parent)
        .expect("target/<profile>/deps/<test>");
    let path = profile_dir.join("examples").join(name);
    assert!(path.exists(), "{} not built", path.display());
    let mut child = Command::new(&path)
        .args(args)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawning the example");
    let start = std::time::Instant::now();
    while child.try_wait().expect("waiting for the example").is_none() {
        if start.elapsed() > limit {
            let _ = child.kill();
            let _ = child.wait();
            panic!("example {name} ran longer than {limit:?}");
        }
        std::thread::sleep(std::time::Duration::from_millis(10));
    }
    child.wait_with_output().expect("the example's output")
}

/// Waits (bounded: 20 s) until the child `pid` has stopped itself
/// (`SIGSTOP`), reading its state from `/proc`; panics, naming `what`, if it
/// ended instead or did not stop in time.
pub fn wait_stopped(pid: u32, what: &str) {
    use std::time::{Duration, Instant};
    let start = Instant::now();
    loop {
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let state = stat
            .rsplit_once(')')
            .and_then(|(_, rest)| rest.trim().chars().next());
        match state {
            Some('T' | 't') => return,
            Some('Z') | None => panic!("{what}: the child ended instead of stopping"),
            _ => {}
        }
        assert!(
            start.elapsed() < Duration::from_secs(20),
            "timed out: {what}"
        );
        std::thread::sleep(Duration::from_millis(1));
    }
}
