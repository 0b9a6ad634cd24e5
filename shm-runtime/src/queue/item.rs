//! The item in its slot: moved or written in place with its padding
//! zeroed, checked whole, and copied out or lent.

use crate::layout::InvalidValue;
use crate::SharedSafe;
use core::mem::MaybeUninit;

/// Moves the value in `value` into `slot`, with zeroed padding.
#[inline(always)]
pub(super) fn write_value<T: SharedSafe>(slot: *mut MaybeUninit<T>, value: &mut Option<T>) {
    let value = value.take().expect("written once");
    // SAFETY: the slot is claimed by this thread: a valid, aligned place
    // for a `T` that nobody else accesses; what it held needs no drop.
    unsafe { crate::layout::write_zero_padded(slot.cast::<T>(), value) }
}

/// Lets `write` change the item in `slot` in place, then zeroes the
/// item's padding (which `write` may have filled from its stack).
#[inline(always)]
pub(super) fn write_in_place<T: SharedSafe + bytemuck::AnyBitPattern>(
    slot: *mut MaybeUninit<T>,
    write: impl FnOnce(&mut T),
) {
    {
        // No fork while `write` holds the `&mut T`: a child forked inside
        // `write` could go on writing the slot after we published it.
        let _no_fork = crate::process::ForkBarrier::new();
        // SAFETY: the slot is claimed by this thread, so the `&mut` is
        // exclusive for the call. Its bytes are initialized: the queue
        // started zeroed (every constructor zeroes it) and every later
        // write stored a whole `T` with zeroed padding (`write_value`, and
        // below), and any initialized bytes are a valid `T`
        // (`AnyBitPattern`).
        write(unsafe { &mut *slot.cast::<T>() });
    }
    if const { T::LAYOUT.has_padding() } {
        let bytes = slot.cast::<u8>();
        let mut covered = 0;
        let zero = |start: usize, end: usize| {
            // SAFETY: `start..end` lies inside the claimed slot's `T`,
            // which nobody else accesses; no reference to it is alive.
            unsafe { bytes.add(start).write_bytes(0, end - start) }
        };
        crate::layout::for_each_data_run(T::LAYOUT, |start, end| {
            zero(covered, start);
            covered = end;
        });
        zero(covered, core::mem::size_of::<T>());
    }
}

/// Copies the item out of its slot, checks the copy, and hands it out:
/// the check and the value are the same bytes, whatever happens to the slot
/// meanwhile (a truncation maps zeros under it).
#[inline(always)]
pub(super) fn read_value<T: SharedSafe>(slot: *const T) -> core::result::Result<T, InvalidValue> {
    let mut copy = MaybeUninit::<T>::uninit();
    // SAFETY: called on a claimed slot holding a published item, which
    // nobody writes while we hold it; the copy is a distinct local. A
    // `MaybeUninit` takes any bytes (padding uninitialized included).
    unsafe {
        copy.as_mut_ptr()
            .cast::<MaybeUninit<T>>()
            .copy_from_nonoverlapping(slot.cast::<MaybeUninit<T>>(), 1)
    };
    // SAFETY: the copy is aligned, readable, and nobody writes it.
    unsafe { crate::layout::check_value(copy.as_ptr()) }?;
    // SAFETY: checked just above: a valid `T`. The slot is released
    // without being read again (a bitwise move of a type without drop
    // glue).
    Ok(unsafe { copy.assume_init() })
}

/// Checks the item in its slot and lends it to `read`.
#[inline(always)]
pub(super) fn read_in_place<T: SharedSafe, R>(
    read: impl FnOnce(&T) -> R,
) -> impl FnOnce(*const T) -> core::result::Result<R, InvalidValue> {
    move |slot| {
        // SAFETY: called on a claimed slot holding a published item, which
        // nobody writes while we hold it.
        unsafe { crate::layout::check_value(slot) }?;
        // No fork while `read` holds the `&T`: a child forked inside `read`
        // could go on reading the slot after we released it to producers.
        let _no_fork = crate::process::ForkBarrier::new();
        // SAFETY: checked above, and nobody writes the slot until this
        // thread releases it, after `read` returned. A truncation of the
        // segment meanwhile maps zeros under the reference: the `SIGBUS`
        // handler does so only where zeros are valid for every part of `T`
        // (`layout::zeros_are_valid`, deep), and aborts otherwise.
        Ok(read(unsafe { &*slot }))
    }
}
