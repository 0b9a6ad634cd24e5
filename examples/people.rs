//! The anonymous-mapping program of the classic `mmap` tutorial: the parent
//! maps 10 records `{ name: [u8; 4], age }`, writes five of them, forks; the
//! child prints them and sets the first age to 100; the parent reads 100.
use shm_runtime::{init, process, Shared, SharedSafe};
use std::sync::atomic::{AtomicI32, Ordering};
use std::time::Duration;

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct People {
    name: [u8; 4],
    age: AtomicI32,
}

fn name(person: &People) -> &str {
    let end = person.name.iter().position(|&b| b == 0).unwrap_or(4);
    std::str::from_utf8(&person.name[..end]).unwrap_or("?")
}

fn main() -> Result<(), shm_runtime::Error> {
    // Built in place before any other process can see it, so plain writes.
    let people = Shared::anonymous(init::in_place(|people: &mut [People; 10]| {
        for (i, person) in people.iter_mut().take(5).enumerate() {
            person.name = [b'b', b'a' + i as u8, 0, 0];
            *person.age.get_mut() = 20 + i as i32;
        }
    }))?;

    let child = process::fork(|| {
        for person in people.iter().take(5) {
            println!(
                "child read: name: {} age {}",
                name(person),
                person.age.load(Ordering::Acquire)
            );
        }
        people[0].age.store(100, Ordering::Release);
    })?;
    child.join(Duration::from_secs(10))?;

    let first = people[0].age.load(Ordering::Acquire);
    println!("parent read: name: {} age {first}", name(&people[0]));
    assert_eq!(first, 100);
    Ok(())
}
