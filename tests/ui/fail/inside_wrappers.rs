// A mistake inside a wrapper of this crate is explained as that mistake (a
// heap `Vec`, a `String`), not as a wrong wrapper.
use shm_runtime::{FixedVec, SharedSafe, ShmMutex};

#[derive(SharedSafe)]
#[repr(C)]
struct Queue {
    jobs: ShmMutex<Vec<u8>>,
    names: FixedVec<String, 4>,
}

fn main() {}
