// The generated code names everything by absolute path: it compiles without
// the prelude and without the trait in scope.
#![no_implicit_prelude]

#[derive(::shm_runtime::SharedSafe)]
#[repr(C)]
struct Point {
    x: f64,
    y: f64,
    tags: [u8; 4],
}

#[derive(::shm_runtime::SharedSafe)]
#[repr(C)]
struct Pair<T> {
    a: T,
    b: T,
}

#[derive(::shm_runtime::SharedSafe)]
#[repr(u16)]
enum Kind {
    A,
    B = 5,
}

fn main() {
    let _ = <Point as ::shm_runtime::SharedSafe>::FINGERPRINT;
    let _ = <Pair<u8> as ::shm_runtime::SharedSafe>::FINGERPRINT;
    let _ = <Kind as ::shm_runtime::SharedSafe>::FINGERPRINT;
    let _ = (Kind::A, Kind::B);
}
