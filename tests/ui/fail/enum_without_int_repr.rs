// Rule 2: a fieldless enum needs an explicit integer repr, so that its size
// is the same in every program (`repr(C)` alone is the C compiler's choice).
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
enum State {
    Idle,
    Busy,
}

#[derive(SharedSafe)]
#[repr(C)]
enum Phase {
    Start,
    Stop,
}

fn main() {}
