// Every bad field is reported in one compile, each at its own span with its
// own message, and the good fields are not.
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
#[repr(C)]
struct Everything {
    ok: u64,
    name: String,
    items: Vec<u32>,
    parent: &'static Everything,
    also_ok: [u8; 4],
    callback: fn(),
}

fn main() {}
