// Rule 2: `repr(C, packed)` and `repr(C, packed(N))` are refused too, even
// when combined with an accepted repr.
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
#[repr(C, packed)]
struct Header {
    kind: u8,
    len: u32,
}

#[derive(SharedSafe)]
#[repr(C, packed(2))]
struct Header2 {
    kind: u8,
    len: u32,
}

fn main() {}
