//! The classic fork example, in safe Rust: a parent maps a `Foo` holding 30
//! `Bar`s, forks, and the child changes `bar[1]` under a process-shared
//! mutex; the parent waits for the child and sees the change.
//!
//! In C this is `mmap(MAP_SHARED | MAP_ANONYMOUS)` plus a
//! `pthread_mutex_t` with `PTHREAD_PROCESS_SHARED` that the programmer must
//! remember to set up; here the types carry it.
use bytemuck::Zeroable;
use shm_runtime::{init, process, Shared, SharedSafe, ShmMutex};
use std::time::Duration;

#[derive(Clone, Copy, Debug, SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Bar {
    a: i32,
    b: i32,
}

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Foo {
    bar: ShmMutex<[Bar; 30]>,
}

fn print(who: &str, shared: &Foo) {
    let bar = shared
        .bar
        .lock()
        .unwrap_or_else(|died| died.into_repaired(|_| {}, Zeroable::zeroed));
    println!("{who}: bar[0..3] = {:?}", &bar[0..3]);
}

fn main() -> Result<(), shm_runtime::Error> {
    // Built in place in a zero-filled shared mapping; before the fork, the
    // parent is its only user and may fill it through `&mut`.
    let shared = Shared::anonymous(init::in_place(|init: &mut Foo| {
        for (i, bar) in init.bar.get_mut().iter_mut().enumerate() {
            *bar = Bar { a: i as i32, b: 0 };
        }
    }))?;
    print("parent before", &shared);

    // The process runs one thread, so the safe `fork` is allowed.
    let child = process::fork(|| {
        let mut bar = match shared.bar.lock() {
            Ok(guard) => guard,
            Err(died) => {
                // Only if an earlier owner died holding the lock: keep what
                // it left (or, were the bytes no valid value, start afresh).
                died.into_repaired(|_| {}, Zeroable::zeroed)
            }
        };
        bar[1] = Bar { a: 2, b: 3 };
    })?;
    child.join(Duration::from_secs(10))?;

    print("parent after child", &shared);
    let bar = shared
        .bar
        .lock()
        .unwrap_or_else(|died| died.into_repaired(|_| {}, Zeroable::zeroed));
    assert_eq!((bar[1].a, bar[1].b), (2, 3));
    Ok(())
}
