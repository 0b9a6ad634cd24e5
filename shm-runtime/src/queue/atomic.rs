//! The atomics and the cell of the queue's algorithm: std's, or loom's when
//! the crate is built with `--cfg loom` (the model check of
//! [`super::ShmQueue`]'s algorithm runs the same source).

#[cfg(all(test, loom))]
pub(super) use loom::sync::atomic::{AtomicU32, AtomicU64};
#[cfg(not(all(test, loom)))]
pub(super) use std::sync::atomic::{AtomicU32, AtomicU64};

/// A slot's value: `UnsafeCell` with loom's closure interface, so that the
/// model checker sees every access to it.
#[cfg(all(test, loom))]
pub(super) use loom::cell::UnsafeCell;

/// A slot's value: `UnsafeCell` with loom's closure interface, so that the
/// model checker sees every access to it.
#[cfg(not(all(test, loom)))]
#[repr(transparent)]
pub(super) struct UnsafeCell<T>(core::cell::UnsafeCell<T>);

#[cfg(not(all(test, loom)))]
impl<T> UnsafeCell<T> {
    /// Runs `f` with a pointer for reading the value.
    #[inline(always)]
    pub(super) fn with<R>(&self, f: impl FnOnce(*const T) -> R) -> R {
        f(self.0.get())
    }

    /// Runs `f` with a pointer for writing the value.
    #[inline(always)]
    pub(super) fn with_mut<R>(&self, f: impl FnOnce(*mut T) -> R) -> R {
        f(self.0.get())
    }
}
