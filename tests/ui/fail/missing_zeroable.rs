// Creating a zeroed segment needs `bytemuck::Zeroable`: the error says so,
// and how to get it.
use shm_runtime::{init, segment::Segment};
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
#[repr(C)]
struct Table {
    rows: [u64; 1024],
}

fn main() {
    let _ = Segment::posix("/table").create(init::zeroed::<Table>());
}
