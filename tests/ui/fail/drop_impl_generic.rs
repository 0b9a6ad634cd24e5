// Rule 3 for a generic type: the `Drop` impl is refused at the definition,
// whatever the type parameters and their bounds.
use shm_runtime::SharedSafe;

#[derive(SharedSafe)]
#[repr(C)]
struct Lease<T> {
    holder: T,
}

impl<T> Drop for Lease<T> {
    fn drop(&mut self) {}
}

#[derive(SharedSafe)]
#[repr(C)]
struct Bounded<T: Copy, const N: usize>
where
    T: Default,
{
    items: [T; N],
}

impl<T: Copy, const N: usize> Drop for Bounded<T, N>
where
    T: Default,
{
    fn drop(&mut self) {}
}

fn main() {}
