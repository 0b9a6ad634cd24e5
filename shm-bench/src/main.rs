//! `shm-bench`: measures shm-runtime against raw system calls and its peer
//! crates (`shared_memory`, `raw_sync`) in one run.
//!
//! ```text
//! cargo run --release -p shm-bench -- --json bench.json   # full run, ~2-3 minutes
//! cargo run --release -p shm-bench -- --quick             # tiny sizes, seconds
//! # the queue sections with iceoryx2's publish-subscribe side by side:
//! cargo run --release -p shm-bench --features iceoryx2 -- --only queue_round_trip,queue_throughput
//! ```
//!
//! The `iceoryx2` feature (off by default) builds the iceoryx2 rows of the
//! queue sections; without it they read `n/a (not built: ...)`.
//!
//! It prints one table per section and writes the same figures as JSON to
//! the file given with `--json`. Every figure is the median over the
//! repetitions (after one warm-up run), with its ratio to the section's
//! baseline. `--only ID[,ID...]` runs some sections only.
//!
//! The benchmark process is single-threaded, so it forks its peers with the
//! safe [`shm_runtime::process::fork`]. Linux only (futex, eventfd, prctl).

#[cfg(target_os = "linux")]
mod access;
#[cfg(target_os = "linux")]
mod bulk;
#[cfg(all(target_os = "linux", feature = "iceoryx2"))]
mod iceoryx;
#[cfg(target_os = "linux")]
mod latency;
#[cfg(target_os = "linux")]
mod locks;
#[cfg(target_os = "linux")]
mod queue;
mod report;
#[cfg(target_os = "linux")]
mod segments;
#[cfg(target_os = "linux")]
mod sys;
#[cfg(target_os = "linux")]
mod touch;

/// Sizes and counts of one run.
#[derive(Clone, Debug)]
pub struct Config {
    /// "full" or "quick".
    pub name: &'static str,
    /// Repetitions per figure (after one warm-up).
    pub reps: usize,
    /// Elements summed by the field-access loops.
    pub access_len: usize,
    /// Round trips per repetition, spinning.
    pub spin_round_trips: usize,
    /// Round trips per repetition, blocking.
    pub block_round_trips: usize,
    /// Lock+unlock pairs per repetition, uncontended.
    pub lock_ops: usize,
    /// Length of one contended-lock window, in milliseconds.
    pub contended_ms: u64,
    /// Segment create (or open) cycles per repetition.
    pub segment_ops: usize,
    /// Bytes of one segment.
    pub segment_len: usize,
    /// Segment sizes of the create-cost-against-size section.
    pub create_sizes: &'static [usize],
    /// Bytes moved per bulk-transfer repetition.
    pub bulk_bytes: usize,
    /// Bytes of one ring slot (and of each pipe write).
    pub chunk: usize,
    /// Slots in the ring.
    pub slots: usize,
    /// Bytes of the first-touch mapping.
    pub touch_bytes: usize,
}

impl Config {
    /// The documented full run: bounded to a few minutes on two cores.
    pub fn full() -> Config {
        Config {
            name: "full",
            reps: 9,
            access_len: 16 << 20,
            spin_round_trips: 50_000,
            block_round_trips: 10_000,
            lock_ops: 1_000_000,
            contended_ms: 200,
            segment_ops: 500,
            segment_len: 64 << 10,
            create_sizes: &[64 << 10, 1 << 20, 16 << 20, 256 << 20, 1 << 30],
            bulk_bytes: 1 << 30,
            chunk: 1 << 20,
            slots: 8,
            touch_bytes: 256 << 20,
        }
    }

    /// A tiny run that only shows that everything works (seconds, even in
    /// a debug build).
    pub fn quick() -> Config {
        Config {
            name: "quick",
            reps: 3,
            access_len: 64 << 10,
            spin_round_trips: 200,
            block_round_trips: 100,
            lock_ops: 10_000,
            contended_ms: 10,
            segment_ops: 10,
            segment_len: 64 << 10,
            create_sizes: &[64 << 10, 1 << 20],
            bulk_bytes: 16 << 20,
            chunk: 256 << 10,
            slots: 4,
            touch_bytes: 16 << 20,
        }
    }
}

#[cfg(not(target_os = "linux"))]
fn main() {
    eprintln!("shm-bench runs on Linux only (futex, eventfd, prctl)");
    std::process::exit(2);
}

#[cfg(target_os = "linux")]
fn main() {
    // Output piped into `head` ends the program quietly, as other Unix
    // tools do, instead of panicking on a broken pipe.
    // SAFETY: restores the default disposition of one signal, before any
    // other thread exists.
    unsafe { libc::signal(libc::SIGPIPE, libc::SIG_DFL) };
    if let Err(message) = run() {
        eprintln!("shm-bench: {message}");
        std::process::exit(2);
    }
}

/// The sections, in order: (id, runner).
#[cfg(target_os = "linux")]
type Runner = fn(&Config) -> report::Section;

#[cfg(target_os = "linux")]
const SECTIONS: &[(&str, Runner)] = &[
    ("field_access", access::run),
    ("spin_latency", latency::spin),
    ("blocking_latency", latency::blocking),
    ("lock_uncontended", locks::uncontended),
    ("lock_contended", locks::contended),
    ("lock_wait", locks::wait),
    ("segment_lifecycle", segments::run),
    ("segment_create_sizes", segments::create_sizes),
    ("bulk_transfer", bulk::run),
    ("first_touch", touch::run),
    ("queue_round_trip", queue::round_trip),
    ("queue_throughput", queue::throughput),
];

#[cfg(target_os = "linux")]
fn run() -> Result<(), String> {
    let mut config = Config::full();
    let mut json_path = None;
    let mut only: Option<Vec<String>> = None;
    let mut args = std::env::args().skip(1);
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--quick" => config = Config::quick(),
            "--json" => json_path = Some(args.next().ok_or("--json needs a file name")?),
            "--only" => {
                let list = args.next().ok_or("--only needs section ids")?;
                only = Some(list.split(',').map(str::to_string).collect());
            }
            "-h" | "--help" => {
                println!(
                    "usage: shm-bench [--quick] [--json FILE] [--only ID,...]\nsections: {}",
                    SECTIONS.iter().map(|s| s.0).collect::<Vec<_>>().join(", ")
                );
                return Ok(());
            }
            other => return Err(format!("unknown argument `{other}` (try --help)")),
        }
    }
    if let Some(only) = &only {
        for id in only {
            if !SECTIONS.iter().any(|s| s.0 == id) {
                return Err(format!("unknown section `{id}`"));
            }
        }
    }
    let machine = machine();
    println!(
        "shm-bench ({} run: median of {} repetitions after one warm-up; {machine})\n",
        config.name, config.reps
    );
    let mut sections = Vec::new();
    let mut panicked = Vec::new();
    for (id, runner) in SECTIONS {
        if only.as_ref().is_some_and(|o| !o.iter().any(|x| x == id)) {
            continue;
        }
        // A watchdog: a section that hangs (a peer died mid-handshake) ends
        // the run with SIGALRM instead of spinning forever.
        // SAFETY: alarm only arms a timer for this process.
        unsafe { libc::alarm(300) };
        let section = std::panic::catch_unwind(|| runner(&config));
        // SAFETY: as above; 0 disarms it.
        unsafe { libc::alarm(0) };
        match section {
            Ok(section) => {
                print!("{}", section.table());
                println!();
                sections.push(section);
            }
            Err(_) => panicked.push(*id),
        }
    }
    // Whatever happened above, leave no named segment of ours behind.
    segments::remove_leftovers();
    if let Some(path) = json_path {
        let json = report::json(config.name, config.reps, &machine, &sections);
        std::fs::write(&path, json).map_err(|e| format!("writing {path}: {e}"))?;
        println!("figures written to {path}");
    }
    let failed: usize = sections
        .iter()
        .flat_map(|s| &s.rows)
        .filter(|r| r.median().is_none())
        .count();
    if failed > 0 {
        eprintln!("shm-bench: {failed} row(s) could not be measured (see n/a above)");
    }
    if !panicked.is_empty() {
        return Err(format!("sections panicked: {}", panicked.join(", ")));
    }
    Ok(())
}

/// The CPU count and kernel, for the record.
#[cfg(target_os = "linux")]
fn machine() -> String {
    let cpus = std::thread::available_parallelism().map_or(0, |n| n.get());
    let kernel = std::fs::read_to_string("/proc/sys/kernel/osrelease").unwrap_or_default();
    format!("{cpus} CPUs, Linux {}", kernel.trim())
}

/// Turns a measurement into a row outcome: an error becomes an unavailable
/// row that says what failed, never a number.
#[cfg(target_os = "linux")]
pub fn outcome(result: sys::Res<Vec<f64>>) -> report::Outcome {
    match result {
        Ok(samples) => report::Outcome::Measured(samples),
        Err(e) => report::Outcome::Unavailable(format!("failed: {e}")),
    }
}
