//! The writer of the classic two-program file example (`map_normalfile1.c`),
//! ported: it creates a file of 10 `People` records that `people_reader`
//! (another program) maps and prints.
//!
//! ```text
//! cargo run --example people_writer -- /tmp/people
//! cargo run --example people_reader -- /tmp/people
//! ```
//!
//! With `--raw`, the file has no header: exactly the 80 bytes the C reader
//! `map_normalfile2.c` expects (and `people_reader --raw` maps).
//!
//! Unlike the C original, the file is created exclusively with mode 0600,
//! its blocks are reserved before it is mapped (no SIGBUS on a full disk),
//! and it is sized for the 10 records it holds (the C writer sized it for 5
//! and wrote 10, past the end of the file).
use shm_runtime::{init, segment::Segment};
use shm_workspace::People;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let raw = args.iter().any(|a| a == "--raw");
    let path = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .ok_or("usage: people_writer [--raw] PATH")?;
    // Like O_TRUNC in the C original: start from a fresh file.
    match std::fs::remove_file(path) {
        Err(e) if e.kind() != std::io::ErrorKind::NotFound => return Err(e.into()),
        _ => {}
    }
    let person = |i: usize| People {
        name: [b'a' + i as u8, 0, 0, 0],
        age: 20 + i as i32,
    };
    let segment = Segment::file(path);
    let records = if raw {
        let people = segment.raw().create(init::from_fn(10, person))?;
        people.flush()?;
        people.len()
    } else {
        let people = segment.create(init::from_fn(10, person))?;
        people.flush()?;
        people.len()
    };
    println!("initialize over: {records} records in {path}");
    Ok(())
}
