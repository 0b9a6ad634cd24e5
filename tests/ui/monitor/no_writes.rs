// A monitor and what it hands out have no method that writes.
use shm_runtime::{field, Segment, SeqLock, SharedSafe};
use std::sync::atomic::{AtomicU32, Ordering};

#[derive(SharedSafe)]
#[repr(C)]
struct Stats {
    hits: AtomicU32,
    limits: SeqLock<u64>,
}

fn main() {
    let stats = Segment::posix("/stats").read_only().monitor::<Stats>().unwrap();
    stats.atomic(field!(Stats, hits)).unwrap().store(1, Ordering::Relaxed);
    stats.atomic(field!(Stats, hits)).unwrap().fetch_add(1, Ordering::Relaxed);
    stats.seqlock(field!(Stats, limits)).unwrap().write(2);
    stats.write(field!(Stats, hits), 3);
}
