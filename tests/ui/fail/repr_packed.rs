// Rule 2: `repr(packed)` may misalign fields, and a misaligned atomic is
// undefined behaviour.
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
#[repr(packed)]
struct Header {
    kind: u8,
    len: u32,
}

fn main() {}
