// A generic struct is checked where it is used: `Pair<u32>` is `SharedSafe`,
// `Pair<String>` is refused at the use site.
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
#[repr(C)]
struct Pair<T> {
    a: T,
    b: T,
}

fn require<T: SharedSafe>() {}

fn main() {
    require::<Pair<u32>>();
    require::<Pair<String>>();
}
