// A monitor has no projection for a lock: an `ShmMutex`'s readers write
// (its lock word), so it cannot be read from read-only memory at all.
use shm_runtime::{field, Segment, SharedSafe, ShmMutex};

#[derive(SharedSafe)]
#[repr(C)]
struct Jobs {
    queue: ShmMutex<[u32; 8]>,
}

fn main() {
    let jobs = Segment::posix("/jobs").read_only().monitor::<Jobs>().unwrap();
    let _ = jobs.atomic(field!(Jobs, queue));
    let _ = jobs.read(field!(Jobs, queue));
    let _ = jobs.seqlock(field!(Jobs, queue));
    let _ = jobs.read_checked(field!(Jobs, queue));
}
