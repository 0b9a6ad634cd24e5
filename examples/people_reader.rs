//! The reader of the classic two-program file example (`map_normalfile2.c`),
//! ported: it maps the file `people_writer` made and prints its records.
//!
//! ```text
//! cargo run --example people_writer -- /tmp/people
//! cargo run --example people_reader -- /tmp/people
//! ```
//!
//! The file's header is checked first: a file of another type, a truncated
//! file or a file of another program is an error with an explanation, never
//! garbage or a SIGBUS. With `--raw` it maps a headerless file of 10 records
//! (as the C writer makes, or `people_writer --raw`), refusing a shorter one
//! or one with this library's header, and reads it by volatile copies.
use shm_runtime::segment::Segment;
use shm_workspace::People;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let raw = args.iter().any(|a| a == "--raw");
    let path = args
        .iter()
        .find(|a| !a.starts_with("--"))
        .ok_or("usage: people_reader [--raw] PATH")?;
    let segment = Segment::file(path);
    // Both views are copied out: a raw file may be written by a C program at
    // any time, so its view hands out copies, never references.
    let people = if raw {
        segment
            .raw()
            .read_only()
            .len(10)
            .open::<[People]>()
            .map(|people| people.to_vec())
    } else {
        segment
            .read_only()
            .open::<[People]>()
            .map(|people| people.to_vec())
    };
    let people = match people {
        Ok(people) => people,
        Err(e) => {
            eprintln!("people_reader: {e}");
            std::process::exit(1);
        }
    };
    for p in people.iter() {
        println!("name: {} age {};", p.name(), p.age);
    }
    Ok(())
}
