// A read-only segment hands out `&T`, and the `&T` of a type with interior
// mutability has methods that store (an atomic or lock operation on
// read-only memory is undefined behaviour): such opens do not compile, and
// the error names the part, alone or inside a struct, an array, a slice or a
// `FixedVec`.
use shm_runtime::segment::Segment;
use shm_runtime::{FixedVec, RelPtr, SeqLock, SharedSafe, ShmMutex, ShmQueue};
use std::sync::atomic::{AtomicU32, AtomicU64};

#[derive(SharedSafe)]
#[repr(C)]
struct Telemetry {
    samples: AtomicU64,
    position: SeqLock<[u64; 3]>,
}

#[derive(SharedSafe)]
#[repr(C)]
struct Jobs {
    count: u64,
    queue: ShmMutex<[u32; 8]>,
}

fn main() {
    let reader = Segment::posix("/monitored").read_only();
    let _ = reader.open::<AtomicU64>();
    let _ = reader.open::<[AtomicU64]>();
    let _ = reader.open::<[AtomicU32; 4]>();
    let _ = reader.open::<SeqLock<[u64; 3]>>();
    let _ = reader.open::<Telemetry>();
    let _ = reader.open::<Jobs>();
    let _ = reader.open::<[ShmMutex<u8>; 2]>();
    let _ = reader.open::<FixedVec<AtomicU64, 4>>();
    let _ = reader.open::<RelPtr<u64>>();
    let _ = reader.open::<ShmQueue<u64, 4>>();
}
