//! A monitor that prints the counters another program keeps in the POSIX
//! segment named on its command line (a `[AtomicU64; 4]`). It opens the
//! segment with `read_only().monitor()`: mapped read-only (read permission on the
//! segment is enough), the counters loaded through a `Monitor` without
//! `unsafe` and without a reference into the mapping:
//!
//! ```text
//! cargo run --example stats_monitor -- /my-stats
//! ```
//!
//! Its `main` returns `shm_runtime::Error`, so a failure is what a user sees
//! without any reporting code: for a segment nobody created,
//!
//! ```text
//! Error: Error { kind: NotFound, context: "opening segment `/my-stats`: no such segment (create it first, or check the name)", os: ENOENT (2) }
//! ```
//!
//! and exit status 1. A segment of another type is an error of kind
//! `WrongType`; on a 32-bit target, where std allows no 8-byte atomic load
//! from read-only memory, the counters are refused with `Unsupported`.
use shm_runtime::{volatile::Field, Segment};
use std::sync::atomic::AtomicU64;

fn main() -> Result<(), shm_runtime::Error> {
    let name = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/shm-runtime-stats".to_owned());
    let stats = Segment::posix(&name)
        .read_only()
        .monitor::<[AtomicU64; 4]>()?;
    let all = Field::<[AtomicU64; 4], [AtomicU64; 4]>::whole();
    let mut counters = [0u64; 4];
    for (i, counter) in counters.iter_mut().enumerate() {
        *counter = stats.atomic(all.index(i)?)?.load();
    }
    println!("{name}: {counters:?}");
    Ok(())
}
