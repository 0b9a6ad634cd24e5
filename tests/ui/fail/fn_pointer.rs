// Rule 1: a function's address differs between processes and programs.
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
#[repr(C)]
struct Callback {
    on_event: fn(u32),
}

fn main() {}
