//! A separate program that the integration tests run to create and open
//! segments from another process.
//!
//! Usage: `shm-test-peer COMMAND SPEC [ARGS]`, where SPEC is
//! `posix:/name`, `file:/path` or `sysv:KEY` (decimal). It prints one line,
//! `ok ...` or `err KIND: message`, and exits 0 or 2.
//!
//! Commands:
//! * `open SPEC TYPE [TIMEOUT_MS] [ro]`: open as TYPE (`u64`, `pattern`,
//!   `people`), print the value (`pattern`: `complete` or `incomplete`).
//! * `create SPEC u64 VALUE [MODE]`: create a `u64` (with permission bits
//!   MODE, octal) and leave the segment behind.
//! * `hold-initializing SPEC`: create a `Pattern` in place (as without atomic
//!   publication), print `initializing`,
//!   and sleep inside the initializer until killed.
//! * `race SPEC`: `open_or_create` a `Pattern` (slowly), print `created` or
//!   `opened`, then check it is complete.
//! * `increment SPEC`: `open_or_create` an `AtomicU64`, add one, flush,
//!   print the new value.
//! * `as-uid UID open SPEC ...`: drop privileges to UID, then run `open`.

use shm_runtime::init;
use shm_runtime::segment::{Segment, SysvKey};
use shm_workspace::{Pattern, People, PATTERN_WORD};
use std::io::Write;
use std::process::ExitCode;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

fn segment(spec: &str) -> Segment {
    if let Some(name) = spec.strip_prefix("posix:") {
        Segment::posix(name)
    } else if let Some(path) = spec.strip_prefix("file:") {
        Segment::file(path)
    } else if let Some(key) = spec.strip_prefix("sysv:") {
        Segment::sysv(SysvKey::new(key.parse().expect("a decimal System V key")))
    } else {
        panic!("bad segment spec {spec:?}")
    }
}

fn report(result: Result<String, shm_runtime::Error>) -> ExitCode {
    match result {
        Ok(line) => {
            println!("ok {line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            println!("err {:?}: {e}", e.kind());
            ExitCode::from(2)
        }
    }
}

fn open(args: &[String]) -> Result<String, shm_runtime::Error> {
    let mut seg = segment(&args[0]);
    if let Some(ms) = args.get(2) {
        seg = seg.open_timeout(Duration::from_millis(ms.parse().expect("milliseconds")));
    }
    let read_only = args.get(3).map(String::as_str) == Some("ro");
    match args[1].as_str() {
        "u64" if read_only => Ok(seg.read_only().open::<u64>()?.to_string()),
        "u64" => Ok(seg.open::<u64>()?.to_string()),
        "pattern" => {
            let p = seg.open::<Pattern>()?;
            Ok(if p.is_complete() {
                "complete"
            } else {
                "incomplete"
            }
            .into())
        }
        "people" => {
            let people = seg.read_only().open::<[People]>()?;
            Ok(people
                .iter()
                .map(|p| format!("{}:{}", p.name(), p.age))
                .collect::<Vec<_>>()
                .join(","))
        }
        other => panic!("unknown type {other}"),
    }
}

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (command, rest) = args.split_first().expect("a command");
    match command.as_str() {
        "open" => report(open(rest)),
        "create" => {
            let value: u64 = rest[2].parse().expect("a u64 value");
            let mut seg = segment(&rest[0]);
            if let Some(mode) = rest.get(3) {
                seg = seg.mode(u32::from_str_radix(mode, 8).expect("an octal mode"));
            }
            report(seg.create(value).map(|_| "created".into()))
        }
        "hold-initializing" => report({
            // In place (the header's init states), as on platforms without
            // atomic publication; on Linux a POSIX object or file being made
            // is otherwise invisible under its name.
            shm_runtime::__private::publish_in_place(true);
            segment(&rest[0])
                .create(init::in_place(|_: &mut Pattern| {
                    println!("initializing");
                    let _ = std::io::stdout().flush();
                    std::thread::sleep(Duration::from_secs(600));
                }))
                .map(|_| "finished".into())
        }),
        "race" => {
            let mut created = false;
            let result = segment(&rest[0])
                .open_timeout(Duration::from_secs(20))
                .open_or_create(init::in_place(|p: &mut Pattern| {
                    created = true;
                    let (first, second) = p.words.split_at_mut(512);
                    first.fill(PATTERN_WORD);
                    std::thread::sleep(Duration::from_millis(30));
                    second.fill(PATTERN_WORD);
                }));
            report(result.and_then(|p| {
                p.opened.fetch_add(1, Ordering::SeqCst);
                if !p.is_complete() {
                    return Err(shm_runtime::Error::new(
                        shm_runtime::ErrorKind::Os,
                        "saw an incomplete pattern",
                    ));
                }
                Ok(if created { "created" } else { "opened" }.into())
            }))
        }
        "increment" => report((|| {
            let counter = segment(&rest[0]).open_or_create(AtomicU64::new(0))?;
            let value = counter.fetch_add(1, Ordering::SeqCst) + 1;
            counter.flush()?;
            Ok(value.to_string())
        })()),
        "as-uid" => {
            let uid: u32 = rest[0].parse().expect("a uid");
            // SAFETY: plain system calls; this single-threaded program drops
            // its privileges before touching any segment.
            let dropped = unsafe { libc::setgid(uid) == 0 && libc::setuid(uid) == 0 };
            assert!(dropped, "setuid({uid}) failed: run as root");
            assert_eq!(rest[1], "open");
            let seg_args = &rest[2..];
            report(open_foreign(seg_args))
        }
        other => panic!("unknown command {other}"),
    }
}

/// `open`, allowing a foreign owner (the caller changed its uid).
fn open_foreign(args: &[String]) -> Result<String, shm_runtime::Error> {
    let seg = segment(&args[0]).allow_foreign_owner(true);
    let read_only = args.get(1).map(String::as_str) == Some("ro");
    if read_only {
        Ok(seg.read_only().open::<u64>()?.to_string())
    } else {
        Ok(seg.open::<u64>()?.to_string())
    }
}
