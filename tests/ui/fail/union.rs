// Unions are refused: no other process knows which field is live.
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
#[repr(C)]
union Word {
    int: u32,
    float: f32,
}

fn main() {}
