// A fieldless enum with an explicit integer repr has the same size in every
// program; its variants and discriminants are part of the fingerprint.
use shm_runtime::SharedSafe;

#[derive(SharedSafe, Clone, Copy, PartialEq, Debug)]
#[repr(u8)]
enum State {
    Idle,
    Busy = 7,
    Done,
}

#[derive(SharedSafe)]
#[repr(i32)]
enum Signed {
    Minus = -1,
    Plus = 1,
}

#[derive(SharedSafe)]
#[repr(C)]
struct Job {
    id: u64,
    state: State,
    sign: Signed,
}

fn main() {
    assert_eq!(core::mem::size_of::<State>(), 1);
    assert_eq!(State::Done as u8, 8);
    let _ = (State::Idle, Signed::Minus, Signed::Plus, Job::FINGERPRINT);
}
