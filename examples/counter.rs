//! N child processes each increment one shared atomic counter M times; the
//! parent waits for them all and prints the total, which is exactly N * M.
//!
//! ```sh
//! cargo run --example counter            # 4 children x 100000
//! cargo run --example counter -- 8 50000
//! ```
use shm_runtime::{process, Shared};
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let mut args = std::env::args().skip(1).map(|a| a.parse::<u64>());
    let children = args.next().transpose()?.unwrap_or(4);
    let increments = args.next().transpose()?.unwrap_or(100_000);

    let counter = Shared::anonymous(AtomicU64::new(0))?;
    let workers = (0..children)
        .map(|_| {
            process::fork(|| {
                for _ in 0..increments {
                    counter.fetch_add(1, Ordering::Relaxed);
                }
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    for worker in workers {
        worker.join(Duration::from_secs(60))?;
    }

    let total = counter.load(Ordering::Relaxed);
    println!("{children} processes x {increments} increments = {total}");
    assert_eq!(total, children * increments);
    Ok(())
}
