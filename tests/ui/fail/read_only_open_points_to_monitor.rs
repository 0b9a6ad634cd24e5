// A read-only `open` hands out `&T`, so it refuses, at compile time, types
// whose `&T` can store. For atomics and `SeqLock`s the message points to the
// monitor (`read_only().monitor()`), which reads them without `unsafe`; for
// a lock, whose readers write too, it does not.
use shm_runtime::{Segment, SeqLock, SharedSafe, ShmMutex};
use std::sync::atomic::AtomicU64;

#[derive(SharedSafe)]
#[repr(C)]
struct Telemetry {
    version: u32,
    samples: AtomicU64,
}

fn main() {
    let reader = Segment::posix("/telemetry").read_only();
    let _ = reader.open::<Telemetry>();
    let _ = reader.open::<SeqLock<u64>>();
    let _ = reader.open::<ShmMutex<u64>>();
    // The monitor of the same types compiles.
    let _ = reader.monitor::<Telemetry>();
    let _ = reader.monitor::<[SeqLock<u64>]>();
}
