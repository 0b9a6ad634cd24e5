//! A monitor that prints the counters another program keeps in the POSIX
//! segment named on its command line (an `ShmMutex<[u64; 4]>`):
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
//! and exit status 1. A counter whose last writer died mid-update is an
//! error of kind `OwnerDied` (through `lock_consistent`), not a guess.
use shm_runtime::{Segment, ShmMutex};

fn main() -> Result<(), shm_runtime::Error> {
    let name = std::env::args()
        .nth(1)
        .unwrap_or_else(|| "/shm-runtime-stats".to_owned());
    let stats = Segment::posix(&name).open::<ShmMutex<[u64; 4]>>()?;
    let counters = *stats.lock_consistent()?;
    println!("{name}: {counters:?}");
    Ok(())
}
