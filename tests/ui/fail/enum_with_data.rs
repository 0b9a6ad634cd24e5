// Only fieldless enums are accepted: another process could observe a
// half-written variant, and the payload layout is not fixed.
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
#[repr(u8)]
enum Message {
    Ping,
    Data(u32),
    Resize { width: u16, height: u16 },
}

fn main() {}
