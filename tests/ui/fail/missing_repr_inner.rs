// A missing `#[repr(C)]` on an inner struct is reported there, once: the
// outer struct that holds it is not blamed as well.
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
struct WorkerStats {
    jobs: u64,
    errors: u64,
}

#[derive(SharedSafe)]
#[repr(C)]
struct Pool {
    workers: [WorkerStats; 4],
    generation: u64,
}

fn main() {}
