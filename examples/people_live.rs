//! The two-program example of the classic `mmap` tutorial, with the reader
//! *waiting on a condition* instead of sleeping and hoping.
//!
//! The writer creates a named POSIX segment holding a board of people under
//! a process-shared mutex, starts the reader as a separate program, then adds
//! one person every few milliseconds and notifies a process-shared condition
//! variable. The reader opens the segment by name (its header is checked:
//! wrong type, half-initialized or truncated segments are errors) and waits
//! on the condition until all ten people are there.
//!
//! ```text
//! cargo run --example people_live                  # writer; starts the reader itself
//! cargo run --example people_live -- reader /NAME  # a reader alone, for an existing board
//! ```
use shm_runtime::{init, FixedString, FixedVec, Segment, SharedSafe, ShmCondvar, ShmMutex};
use std::time::Duration;

const PEOPLE: usize = 10;
const LIMIT: Duration = Duration::from_secs(10);

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Person {
    name: FixedString<16>,
    age: i32,
}

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Board {
    people: ShmMutex<FixedVec<Person, PEOPLE>>,
    changed: ShmCondvar,
}

fn writer() -> Result<(), Box<dyn std::error::Error>> {
    let name = format!("/people-live-{}", std::process::id());
    let segment = Segment::posix(&name);
    // Zero bytes are an empty board and unlocked primitives.
    let board = segment.create(init::zeroed::<Board>())?;
    // Removes the name when the writer ends, however it ends.
    let _owner = segment.owner();

    let mut reader = std::process::Command::new(std::env::current_exe()?)
        .args(["reader", &name])
        .spawn()?;
    for i in 0..PEOPLE {
        std::thread::sleep(Duration::from_millis(20));
        let mut people = board
            .people
            .lock()
            .map_err(|_| "a process died holding the lock")?;
        let mut person_name = FixedString::new();
        person_name.try_push_str(["ann", "bob", "cy", "dee", "eve"][i % 5])?;
        person_name.try_push((b'0' + i as u8) as char)?;
        people
            .try_push(Person {
                name: person_name,
                age: 20 + i as i32,
            })
            .map_err(|e| e.without_value())?;
        println!("writer: added {person_name}");
        board.changed.notify_all();
    }
    let status = reader.wait()?;
    if !status.success() {
        return Err(format!("reader failed: {status}").into());
    }
    Ok(())
}

fn reader(name: &str) -> Result<(), Box<dyn std::error::Error>> {
    let board = Segment::posix(name).open::<Board>()?;
    let people = board
        .people
        .lock()
        .map_err(|_| "a process died holding the lock")?;
    let (people, timeout) = board
        .changed
        .wait_timeout_while(people, LIMIT, |people| people.len() < PEOPLE)
        .map_err(|_| "a process died holding the lock")?;
    if timeout.timed_out() {
        return Err(format!("only {} of {PEOPLE} people after {LIMIT:?}", people.len()).into());
    }
    for person in people.iter() {
        println!("reader: name: {} age {}", person.name, person.age);
    }
    Ok(())
}

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => writer(),
        [role, name] if role == "reader" => reader(name),
        _ => Err("usage: people_live [reader /NAME]".into()),
    }
}
