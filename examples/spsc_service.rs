//! A request/reply service between two unrelated programs, over a named
//! POSIX segment holding two `SpscQueue`s: the client pushes requests and
//! pops replies, the server the other way round. Each side is a handle
//! that one process holds at a time; a client that dies holding its
//! handles (killed, or exiting without dropping them) is replaced by the
//! next client, which takes them over.
//!
//! ```text
//! cargo run --example spsc_service -- server /svc &
//! cargo run --example spsc_service -- client /svc 1000 1 1  # 1000 requests from id 1, then stop the server
//! cargo run --example spsc_service -- remove /svc
//! cargo run --example spsc_service -- demo   # a server, a client that dies mid-way, its successor
//! ```
//!
//! A client keeps up to `WINDOW` requests in flight (fewer than the
//! queues' capacity, so that neither side ever waits for the other while
//! both queues are full). Replies carry their request's id: a successor
//! discards the replies to requests its dead predecessor sent.
use shm_runtime::queue::SpscQueue;
use shm_runtime::{init, ErrorKind, Segment, Shared, SharedSafe};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

/// A request: square `input`. Id 0 stops the server.
#[derive(SharedSafe, Clone, Copy, Debug, bytemuck::Zeroable, bytemuck::Pod)]
#[repr(C)]
struct Request {
    id: u64,
    input: u64,
}

/// The answer to request `id`.
#[derive(SharedSafe, Clone, Copy, Debug, bytemuck::Zeroable, bytemuck::Pod)]
#[repr(C)]
struct Reply {
    id: u64,
    square: u64,
}

/// The segment: both directions.
#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Service {
    requests: SpscQueue<Request, 64>,
    replies: SpscQueue<Reply, 64>,
}

/// Requests a client keeps in flight at most.
const WINDOW: u64 = 32;

fn open(name: &str) -> shm_runtime::Result<Shared<Service>> {
    // Whoever comes first creates it, zeroed (two empty queues).
    Segment::posix(name).open_or_create(init::zeroed::<Service>())
}

/// Takes a side with `take`, waiting (bounded) while a live process holds
/// it: the previous client may still be on its way out.
fn take<H>(mut take: impl FnMut() -> shm_runtime::Result<H>) -> shm_runtime::Result<H> {
    let start = Instant::now();
    loop {
        match take() {
            Err(e) if e.kind() == ErrorKind::Busy && start.elapsed() < Duration::from_secs(10) => {
                std::thread::sleep(Duration::from_millis(10))
            }
            taken => return taken,
        }
    }
}

fn server(name: &str) -> shm_runtime::Result<()> {
    let service = open(name)?;
    let mut requests = take(|| service.requests.consumer())?;
    let mut replies = take(|| service.replies.producer())?;
    let mut answered = 0u64;
    loop {
        let request = requests.pop()?;
        if request.id == 0 {
            break;
        }
        replies.push(Reply {
            id: request.id,
            square: request.input * request.input,
        });
        answered += 1;
    }
    println!("server: answered {answered} requests");
    Ok(())
}

/// What a client saw.
struct Seen {
    right: u64,
    stale: u64,
}

/// Sends `count` requests with ids from `first`, checks every reply; with
/// `die_after`, exits without dropping its handles once it got that many
/// replies (as a crash would leave them, to the queue's eyes).
fn client(
    name: &str,
    count: u64,
    first: u64,
    stop: bool,
    die_after: Option<u64>,
) -> Result<Seen, Box<dyn std::error::Error>> {
    let service = open(name)?;
    let mut requests = take(|| service.requests.producer())?;
    let mut replies = take(|| service.replies.consumer())?;
    let (mut sent, mut seen) = (0u64, Seen { right: 0, stale: 0 });
    while seen.right < count {
        while sent < count && sent - seen.right < WINDOW {
            let id = first + sent;
            requests.push(Request { id, input: id });
            sent += 1;
        }
        let reply = replies.pop()?;
        if reply.id < first || reply.id >= first + sent {
            // To a request of a client before us.
            seen.stale += 1;
            continue;
        }
        if reply.id != first + seen.right || reply.square != reply.id * reply.id {
            return Err(format!("wrong reply {reply:?}").into());
        }
        seen.right += 1;
        if die_after == Some(seen.right) {
            println!(
                "client: dies after {} replies, {} in flight",
                seen.right,
                sent - seen.right
            );
            std::process::exit(0);
        }
    }
    if stop {
        requests.push(Request { id: 0, input: 0 });
    }
    println!(
        "client: {} replies right, {} stale ones discarded",
        seen.right, seen.stale
    );
    Ok(seen)
}

/// A server, a first client that dies after 250 of its 500 replies, and a
/// second client that takes its handles over: all separate programs.
fn demo() -> Result<(), Box<dyn std::error::Error>> {
    let name = format!("/shm-runtime-spsc-service-demo-{}", std::process::id());
    let exe = std::env::current_exe()?;
    let run = |args: &[&str]| Command::new(&exe).args(args).stdout(Stdio::piped()).spawn();
    let result = (|| -> Result<Vec<String>, Box<dyn std::error::Error>> {
        let server = run(&["server", &name])?;
        let mut outputs = Vec::new();
        let mut failed = None;
        let first = run(&["client", &name, "500", "1", "0", "250"])?.wait_with_output()?;
        let second = run(&["client", &name, "500", "1001", "1"])?.wait_with_output()?;
        for out in [first, second, server.wait_with_output()?] {
            if !out.status.success() {
                failed = Some(out.status);
            }
            outputs.push(String::from_utf8_lossy(&out.stdout).into_owned());
        }
        match failed {
            Some(status) => Err(format!("a program of the demo failed: {status}").into()),
            None => Ok(outputs),
        }
    })();
    // Removed also when a program failed: nothing stays in /dev/shm.
    Segment::posix(&name).remove()?;
    let outputs = result?;
    print!("{}", outputs.concat());
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let number = |s: &str| -> Result<u64, Box<dyn std::error::Error>> { Ok(s.parse()?) };
    match args.as_slice() {
        ["server", name] => server(name)?,
        ["client", name, count, first, stop, rest @ ..] => {
            let die_after = rest.first().map(|s| number(s)).transpose()?;
            client(
                name,
                number(count)?,
                number(first)?,
                *stop == "1",
                die_after,
            )?;
        }
        ["remove", name] => Segment::posix(*name).remove()?,
        ["demo"] => demo()?,
        _ => {
            return Err("usage: spsc_service server NAME | \
                        client NAME COUNT FIRST STOP(0|1) [DIE_AFTER] | remove NAME | demo"
                .into())
        }
    }
    Ok(())
}
