// A field type produced by a macro is checked like any other: the macro
// cannot hide the pointer.
use shm_runtime::SharedSafe;

macro_rules! pointer_to {
    ($t:ty) => { *const $t };
}

#[derive(SharedSafe)]
#[repr(C)]
struct Link {
    target: pointer_to!(u64),
}

fn main() {}
