//! A worker pool after `fork`: the parent maps two queues (jobs and
//! results) in anonymous shared memory, forks 4 workers, hands out 100
//! jobs and collects their results. A worker that crashed would cost at
//! most the job it held (see `shm_runtime::queue`), never a hang.
//!
//! ```text
//! cargo run --example queue_pool
//! ```
use shm_runtime::{init, queue::ShmQueue};
use shm_runtime::{process, Shared, SharedSafe};
use std::time::Duration;

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Pool {
    /// Ranges of numbers to search for primes; `[0, 0]` stops a worker.
    jobs: ShmQueue<[u64; 2], 16>,
    /// (start of the range, primes found in it).
    results: ShmQueue<[u64; 2], 16>,
}

fn primes_in(start: u64, end: u64) -> u64 {
    (start..end)
        .filter(|&n| n >= 2 && (2..).take_while(|d| d * d <= n).all(|d| n % d != 0))
        .count() as u64
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    const WORKERS: usize = 4;
    const JOBS: u64 = 100;
    const SPAN: u64 = 1000;
    // Zeroed memory is two empty queues.
    let pool = Shared::<Pool>::anonymous(init::zeroed())?;
    let workers = (0..WORKERS)
        .map(|_| {
            process::fork(|| loop {
                let [start, end] = match pool.jobs.pop() {
                    Ok(job) => job,
                    Err(_) => std::process::exit(2),
                };
                if start == end {
                    break;
                }
                pool.results.push([start, primes_in(start, end)]);
            })
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut total = 0;
    let mut received = 0;
    let mut sent = 0;
    // Hand out jobs while collecting results, so neither queue stays full.
    while received < JOBS {
        while sent < JOBS && pool.jobs.try_push([sent * SPAN, (sent + 1) * SPAN]).is_ok() {
            sent += 1;
        }
        if let Ok([_, primes]) = pool.results.pop_timeout(Duration::from_millis(10)) {
            total += primes;
            received += 1;
        }
    }
    for _ in 0..WORKERS {
        pool.jobs.push([0, 0]);
    }
    for worker in workers {
        worker.join(Duration::from_secs(30))?;
    }
    println!(
        "{WORKERS} workers, {JOBS} jobs: {total} primes below {}",
        JOBS * SPAN
    );
    Ok(())
}
