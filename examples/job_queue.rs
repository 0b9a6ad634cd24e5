//! A job queue between unrelated programs, over a named POSIX segment: any
//! number of producers and consumers, started in any order, each a separate
//! program that opens (or creates) the segment `/NAME` holding a
//! `ShmQueue`.
//!
//! ```text
//! cargo run --example job_queue -- consumer /jobs &      # one or more
//! cargo run --example job_queue -- producer /jobs 1000 1 # 1000 jobs, 1 stop
//! cargo run --example job_queue -- remove /jobs
//! cargo run --example job_queue -- demo                  # all of it: 2 producers, 3 consumers
//! ```
//!
//! A consumer stops at a "stop" job; a producer pushes its jobs, then as
//! many stop jobs as it is told. A consumer or producer killed at any
//! instant never blocks the others (see `shm_runtime::queue`): at most the
//! one job it was pushing or popping is lost.
use shm_runtime::{init, queue::ShmQueue};
use shm_runtime::{Segment, SharedSafe};
use std::process::{Command, Stdio};

/// One job: a number to work on, or the end of the work.
#[derive(SharedSafe, Clone, Copy, Debug, bytemuck::Zeroable, bytemuck::Pod)]
#[repr(C)]
struct Job {
    /// 0: stop; otherwise the job's number.
    id: u64,
    /// What the producer asks for: here, the job's number squared.
    input: u64,
}

/// The segment: a queue of 256 jobs.
type Jobs = ShmQueue<Job, 256>;

fn open(name: &str) -> shm_runtime::Result<shm_runtime::Shared<Jobs>> {
    // Whoever comes first creates it, zeroed (an empty queue); the others
    // wait until it is ready and open it.
    Segment::posix(name).open_or_create(init::zeroed::<Jobs>())
}

fn producer(name: &str, jobs: u64, stops: u64, first: u64) -> shm_runtime::Result<()> {
    let queue = open(name)?;
    for id in first..first + jobs {
        queue.push(Job { id, input: id });
    }
    for _ in 0..stops {
        queue.push(Job { id: 0, input: 0 });
    }
    println!("producer: pushed {jobs} jobs and {stops} stops");
    Ok(())
}

fn consumer(name: &str) -> shm_runtime::Result<(u64, u64)> {
    let queue = open(name)?;
    let (mut done, mut sum) = (0u64, 0u64);
    loop {
        let job = queue.pop()?;
        if job.id == 0 {
            break;
        }
        done += 1;
        sum += job.input * job.input;
    }
    println!("consumer: {done} jobs, sum of squares {sum}");
    Ok((done, sum))
}

/// Runs 3 consumers and 2 producers as separate programs (this one, with
/// other arguments) and adds up what the consumers report.
fn demo() -> Result<(), Box<dyn std::error::Error>> {
    let name = format!("/shm-runtime-job-queue-demo-{}", std::process::id());
    let exe = std::env::current_exe()?;
    let run = |args: &[&str]| Command::new(&exe).args(args).stdout(Stdio::piped()).spawn();
    let consumers = (0..3)
        .map(|_| run(&["consumer", &name]))
        .collect::<Result<Vec<_>, _>>()?;
    let producers = [("1", "1"), ("1001", "2")]
        .iter()
        .map(|(first, stops)| run(&["producer", &name, "1000", stops, first]))
        .collect::<Result<Vec<_>, _>>()?;
    let mut outputs = Vec::new();
    let mut failed = None;
    for child in producers.into_iter().chain(consumers) {
        let out = child.wait_with_output()?;
        if !out.status.success() {
            failed = Some(out.status);
        }
        outputs.push(String::from_utf8_lossy(&out.stdout).into_owned());
    }
    // Removed also when a program failed: nothing stays in /dev/shm.
    Segment::posix(&name).remove()?;
    if let Some(status) = failed {
        return Err(format!("a program of the demo failed: {status}").into());
    }
    let (mut done, mut sum) = (0u64, 0u64);
    for line in outputs.iter().flat_map(|o| o.lines()) {
        if let Some(rest) = line.strip_prefix("consumer: ") {
            let mut words = rest.split_whitespace();
            done += words.next().ok_or("bad line")?.parse::<u64>()?;
            sum += words.last().ok_or("bad line")?.parse::<u64>()?;
        }
    }
    let expected: u64 = (1..=2000u64).map(|i| i * i).sum();
    println!(
        "demo: 2 producers, 3 consumers: {done} jobs, sum of squares {sum} (expected {expected})"
    );
    if done != 2000 || sum != expected {
        return Err("jobs were lost or repeated".into());
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let number = |s: Option<&&str>, default: u64| -> Result<u64, Box<dyn std::error::Error>> {
        s.map_or(Ok(default), |s| s.parse().map_err(Into::into))
    };
    match args.as_slice() {
        ["producer", name, rest @ ..] => producer(
            name,
            number(rest.first(), 100)?,
            number(rest.get(1), 1)?,
            number(rest.get(2), 1)?,
        )?,
        ["consumer", name] => {
            consumer(name)?;
        }
        ["remove", name] => Segment::posix(*name).remove()?,
        ["demo"] => demo()?,
        _ => {
            return Err(
                "usage: job_queue producer NAME [JOBS [STOPS [FIRST]]] | consumer NAME | \
                        remove NAME | demo"
                    .into(),
            )
        }
    }
    Ok(())
}
