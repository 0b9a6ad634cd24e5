//! The classic C example made safe: a `Foo` holding 30 `Bar { a, b }` is
//! placed in an anonymous shared mapping; after `fork` the child changes
//! `bar[1]` and the parent, having waited for it, reads the change.
//!
//! In C the struct is written with plain stores from two processes; here the
//! fields are atomics, so the compiler knows another process may change them.
//! (`examples/fork_mutex.rs` does the same under a process-shared mutex.)
use shm_runtime::{init, process, Shared, SharedSafe};
use std::sync::atomic::{AtomicI32, Ordering::Relaxed};
use std::time::Duration;

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Bar {
    a: AtomicI32,
    b: AtomicI32,
}

#[derive(SharedSafe, bytemuck::Zeroable)]
#[repr(C)]
struct Foo {
    bar: [Bar; 30],
}

fn print(who: &str, shared: &Foo) {
    println!("{who}:");
    for (i, bar) in shared.bar.iter().take(3).enumerate() {
        println!("{i}: {}, {}", bar.a.load(Relaxed), bar.b.load(Relaxed));
    }
    println!("Foo: {:p}\nFoo.bar: {:p}\n---", shared, &shared.bar);
}

fn main() -> Result<(), shm_runtime::Error> {
    // All-zero, as the C example initializes bar[0..3] to (0, 0).
    let shared = Shared::<Foo>::anonymous(init::zeroed())?;
    print("data before fork", &shared);

    let child = process::fork(|| {
        print("Child read", &shared);
        shared.bar[1].a.store(2, Relaxed);
        shared.bar[1].b.store(3, Relaxed);
        print("Child wrote", &shared);
    })?;
    // Where the C example sleeps one second and hopes, we wait for the child.
    child.join(Duration::from_secs(10))?;

    print("Parent read", &shared);
    assert_eq!(
        (shared.bar[1].a.load(Relaxed), shared.bar[1].b.load(Relaxed)),
        (2, 3)
    );
    Ok(())
}
