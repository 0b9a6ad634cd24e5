//! [`FixedVec<T, N>`]: up to `N` elements stored inline.

use super::{CapacityError, CheckCapacity};
use crate::layout::{Field, TypeLayout, Validity};
use crate::SharedSafe;
use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::iter::FusedIterator;
use core::mem::{needs_drop, offset_of, MaybeUninit};
use core::ops::{Deref, DerefMut};
use core::slice;

/// Up to `N` elements of a [`SharedSafe`] type stored inline: the
/// shared-memory replacement for `Vec<T>`.
///
/// Elements need not be `Copy`: a `FixedVec` of atomics is updated in place
/// through `&self` (it dereferences to `[T]`), while adding or removing
/// elements takes `&mut self`.
///
/// ```
/// use shm_runtime::{FixedString, FixedVec, SharedSafe};
/// use std::sync::atomic::{AtomicU32, Ordering};
///
/// #[derive(SharedSafe)]
/// #[repr(C)]
/// struct Pool {
///     names: FixedVec<FixedString<16>, 8>,
///     load: FixedVec<AtomicU32, 8>,
/// }
///
/// let mut load = FixedVec::<AtomicU32, 8>::new();
/// load.push(AtomicU32::new(0));
/// load.push(AtomicU32::new(5));
/// load[1].fetch_add(1, Ordering::Relaxed); // through `&self`
/// let total: u32 = load.iter().map(|l| l.load(Ordering::Relaxed)).sum();
/// assert_eq!(total, 6);
/// ```
///
/// # Layout and bytes from other processes
///
/// `#[repr(C)] { len: u32, items: [MaybeUninit<T>; N] }`. The length field is
/// not trusted: every read clamps it to `N`, so no access leaves the value's
/// storage whatever another process wrote there. The elements below it are
/// checked where bytes from outside enter, like any field of type `T` (see
/// the [module docs](crate::fixed)). `T` has no drop glue (a `SharedSafe`
/// promise), so removing or overwriting elements never needs to drop them.
#[repr(C)]
pub struct FixedVec<T, const N: usize> {
    len: u32,
    items: [MaybeUninit<T>; N],
}

/// Stops the build if an element type has drop glue, which `SharedSafe`
/// excludes; `FixedVec` relies on it to forget elements freely.
struct CheckElement<T>(core::marker::PhantomData<T>);

impl<T> CheckElement<T> {
    const OK: () = assert!(
        !needs_drop::<T>(),
        "FixedVec elements must not need dropping"
    );
}

impl<T: SharedSafe, const N: usize> FixedVec<T, N> {
    /// An empty vector.
    ///
    /// ```
    /// use shm_runtime::FixedVec;
    /// const EMPTY: FixedVec<u64, 4> = FixedVec::new();
    /// assert!(EMPTY.is_empty());
    /// ```
    pub const fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = CheckCapacity::<N>::OK;
        #[allow(clippy::let_unit_value)]
        let () = CheckElement::<T>::OK;
        FixedVec {
            len: 0,
            // SAFETY: an array of `MaybeUninit` needs no initialization. Its
            // bytes are zeroed all the same, so that a vector moved into
            // shared memory carries no byte of this process's stack.
            items: unsafe { MaybeUninit::<[MaybeUninit<T>; N]>::zeroed().assume_init() },
        }
    }

    /// The validity check of its layout: the length field is any `u32`
    /// (reads clamp it), and the slots below the clamped length hold valid
    /// `T`s.
    ///
    /// # Safety
    /// As for [`TypeLayout::check`].
    unsafe fn check_raw(value: *const u8) -> Result<(), crate::layout::InvalidValue> {
        // SAFETY: the caller's contract: the `len` field is readable, and
        // not being written.
        let len = unsafe { value.add(offset_of!(Self, len)).cast::<u32>().read() };
        let len = (len as usize).min(N);
        // SAFETY: the first `len <= N` slots lie inside the value.
        let first = unsafe { value.add(offset_of!(Self, items)) }.cast::<T>();
        // SAFETY: the caller's contract, for each slot.
        unsafe { crate::layout::check_values(first, len) }.map_err(|e| e.in_field("items"))
    }

    /// A vector holding clones of `items`, or a [`CapacityError`] if there
    /// are more than `N`.
    ///
    /// ```
    /// use shm_runtime::FixedVec;
    /// let v = FixedVec::<u8, 4>::try_from_slice(&[1, 2, 3]).unwrap();
    /// assert_eq!(v, [1, 2, 3]);
    /// assert!(FixedVec::<u8, 2>::try_from_slice(&[1, 2, 3]).is_err());
    /// ```
    pub fn try_from_slice(items: &[T]) -> Result<Self, CapacityError>
    where
        T: Clone,
    {
        let mut vec = Self::new();
        vec.try_extend_from_slice(items)?;
        Ok(vec)
    }

    /// The number of elements.
    ///
    /// ```
    /// use shm_runtime::FixedVec;
    /// let v = FixedVec::<u8, 4>::try_from_slice(&[1, 2]).unwrap();
    /// assert_eq!(v.len(), 2);
    /// ```
    pub fn len(&self) -> usize {
        (self.len as usize).min(N)
    }

    /// Whether there are no elements.
    ///
    /// ```
    /// use shm_runtime::FixedVec;
    /// assert!(FixedVec::<u8, 4>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Whether there are `N` elements: a push would fail.
    ///
    /// ```
    /// use shm_runtime::FixedVec;
    /// let v = FixedVec::<u8, 2>::try_from_slice(&[1, 2]).unwrap();
    /// assert!(v.is_full());
    /// ```
    pub fn is_full(&self) -> bool {
        self.len() == N
    }

    /// The capacity: `N`.
    ///
    /// ```
    /// use shm_runtime::FixedVec;
    /// assert_eq!(FixedVec::<u8, 4>::new().capacity(), 4);
    /// ```
    pub const fn capacity(&self) -> usize {
        N
    }

    /// The elements, as a slice.
    ///
    /// ```
    /// use shm_runtime::FixedVec;
    /// let v = FixedVec::<u8, 4>::try_from_slice(&[1, 2]).unwrap();
    /// assert_eq!(v.as_slice(), &[1, 2]);
    /// ```
    pub fn as_slice(&self) -> &[T] {
        // SAFETY: the first `len()` slots are initialized: `len()` is at most
        // `N`, and every method that raises the length field initializes the
        // slots first (bytes that came from another process were checked
        // slot by slot where they entered: at open, or on taking a lock over
        // from a dead owner; see `check_raw`).
        // `MaybeUninit<T>` has the layout of `T`.
        unsafe { slice::from_raw_parts(self.items.as_ptr().cast::<T>(), self.len()) }
    }

    /// The elements, as a mutable slice.
    ///
    /// ```
    /// use shm_runtime::FixedVec;
    /// let mut v = FixedVec::<u8, 4>::try_from_slice(&[1, 2]).unwrap();
    /// v.as_mut_slice()[0] = 9;
    /// assert_eq!(v, [9, 2]);
    /// ```
    pub fn as_mut_slice(&mut self) -> &mut [T] {
        let len = self.len();
        // SAFETY: as in `as_slice`; `&mut self` makes the access exclusive.
        unsafe { slice::from_raw_parts_mut(self.items.as_mut_ptr().cast::<T>(), len) }
    }

    /// Appends `value`, or returns a [`CapacityError`] holding it if the
    /// vector is full.
    ///
    /// ```
    /// use shm_runtime::FixedVec;
    /// let mut v = FixedVec::<u8, 1>::new();
    /// assert!(v.try_push(1).is_ok());
    /// assert_eq!(v.try_push(2).unwrap_err().into_inner(), 2);
    /// assert_eq!(v, [1]);
    /// ```
    pub fn try_push(&mut self, value: T) -> Result<(), CapacityError<T>> {
        let len = self.len();
        if len == N {
            return Err(CapacityError::new(value, N + 1, N, "elements"));
        }
        // SAFETY: the slot is a valid, aligned place for a `T`; what it held
        // (nothing, or a forgotten element) needs no drop.
        unsafe { crate::layout::write_zero_padded(self.items[len].as_mut_ptr(), value) };
        self.len = (len + 1) as u32; // len < N <= u32::MAX
        Ok(())
    }

    /// Appends `value`.
    ///
    /// # Panics
    ///
    /// If the vector is full; [`try_push`](Self::try_push) returns an error
    /// instead.
    ///
    /// ```
    /// use shm_runtime::FixedVec;
    /// let mut v = FixedVec::<u8, 4>::new();
    /// v.push(1);
    /// assert_eq!(v, [1]);
    /// ```
    #[track_caller]
    pub fn push(&mut self, value: T) {
        if let Err(error) = self.try_push(value) {
            panic!("FixedVec<_, {N}>::push: {error}");
        }
    }

    /// Removes the last element and returns it, or `None` if empty.
    ///
    /// ```
    /// use shm_runtime::FixedVec;
    /// let mut v = FixedVec::<u8, 4>::try_from_slice(&[1, 2]).unwrap();
    /// assert_eq!(v.pop(), Some(2));
    /// assert_eq!(v.pop(), Some(1));
    /// assert_eq!(v.pop(), None);
    /// ```
    pub fn pop(&mut self) -> Option<T> {
        let len = self.len().checked_sub(1)?;
        self.len = len as u32;
        // SAFETY: slot `len` was initialized (it was below the length), and
        // it is now past the length, so it will not be read again before a
        // write: the value is moved out exactly once.
        Some(unsafe { self.items[len].assume_init_read() })
    }

    /// Inserts `value` at `index`, shifting the following elements right, or
    /// returns a [`CapacityError`] holding it if the vector is full.
    ///
    /// # Panics
    ///
    /// If `index > len()`, like [`Vec::insert`].
    ///
    /// ```
    /// use shm_runtime::FixedVec;
    /// let mut v = FixedVec::<u8, 3>::try_from_slice(&[1, 3]).unwrap();
    /// v.try_insert(1, 2).unwrap();
    /// assert_eq!(v, [1, 2, 3]);
    /// assert_eq!(v.try_insert(0, 0).unwrap_err().into_inner(), 0);
    /// ```
    #[track_caller]
    pub fn try_insert(&mut self, index: usize, value: T) -> Result<(), CapacityError<T>> {
        let len = self.len();
        assert!(
            index <= len,
            "FixedVec::insert: index {index} is out of bounds (len {len})"
        );
        self.try_push(value)?;
        self.items[index..=len].rotate_right(1);
        Ok(())
    }

    /// Inserts `value` at `index`, shifting the following elements right.
    ///
    /// # Panics
    ///
    /// If `index > len()` or the vector is full;
    /// [`try_insert`](Self::try_insert) returns an error for the latter.
    ///
    /// ```
    /// use shm_runtime::FixedVec;
    /// let mut v = FixedVec::<u8, 3>::try_from_slice(&[2]).unwrap();
    /// v.insert(0, 1);
    /// assert_eq!(v, [1, 2]);
    /// ```
    #[track_caller]
    pub fn insert(&mut self, index: usize, value: T) {
        if let Err(error) = self.try_insert(index, value) {
            panic!("FixedVec<_, {N}>::insert: {error}");
        }
    }

    /// Removes and returns the element at `index`, shifting the following
    /// elements left.
    ///
    /// # Panics
    ///
    /// If `index >= len()`.
    ///
    /// ```
    /// use shm_runtime::FixedVec;
    /// let mut v = FixedVec::<u8, 3>::try_from_slice(&[1, 2, 3]).unwrap();
    /// assert_eq!(v.remove(0), 1);
    /// assert_eq!(v, [2, 3]);
    /// ```
    #[track_caller]
    pub fn remove(&mut self, index: usize) -> T {
        let len = self.len();
        assert!(
            index < len,
            "FixedVec::remove: index {index} is out of bounds (len {len})"
        );
        self.items[index..len].rotate_left(1);
        self.pop().expect("not empty")
    }

    /// Removes and returns the element at `index`, replacing it with the last
    /// element: O(1), but does not keep the order.
    ///
    /// # Panics
    ///
    /// If `index >= len()`.
    ///
    /// ```
    /// use shm_runtime::FixedVec;
    /// let mut v = FixedVec::<u8, 3>::try_from_slice(&[1, 2, 3]).unwrap();
    /// assert_eq!(v.swap_remove(0), 1);
    /// assert_eq!(v, [3, 2]);
    /// ```
    #[track_caller]
    pub fn swap_remove(&mut self, index: usize) -> T {
        let len = self.len();
        assert!(
            index < len,
            "FixedVec::swap_remove: index {index} is out of bounds (len {len})"
        );
        self.items.swap(index, len - 1);
        self.pop().expect("not empty")
    }

    /// Keeps only the elements for which `keep` returns true, in order.
    ///
    /// ```
    /// use shm_runtime::FixedVec;
    /// let mut v = FixedVec::<u8, 5>::try_from_slice(&[1, 2, 3, 4, 5]).unwrap();
    /// v.retain(|x| x % 2 == 1);
    /// assert_eq!(v, [1, 3, 5]);
    /// ```
    pub fn retain(&mut self, mut keep: impl FnMut(&T) -> bool) {
        let mut kept = 0;
        for i in 0..self.len() {
            if keep(&self[i]) {
                self.as_mut_slice().swap(kept, i);
                kept += 1;
            }
        }
        // The elements past `kept` have no drop glue (`T: SharedSafe`).
        self.truncate(kept);
    }

    /// Shortens the vector to `len` elements; does nothing if it is not longer.
    ///
    /// ```
    /// use shm_runtime::FixedVec;
    /// let mut v = FixedVec::<u8, 3>::try_from_slice(&[1, 2, 3]).unwrap();
    /// v.truncate(1);
    /// assert_eq!(v, [1]);
    /// ```
    pub fn truncate(&mut self, len: usize) {
        if len < self.len() {
            self.len = len as u32; // len < N <= u32::MAX
        }
    }

    /// Removes all elements.
    ///
    /// ```
    /// use shm_runtime::FixedVec;
    /// let mut v = FixedVec::<u8, 3>::try_from_slice(&[1, 2, 3]).unwrap();
    /// v.clear();
    /// assert!(v.is_empty());
    /// ```
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Appends clones of `items` if all of them fit; otherwise leaves the
    /// vector unchanged and returns a [`CapacityError`].
    ///
    /// ```
    /// use shm_runtime::FixedVec;
    /// let mut v = FixedVec::<u8, 3>::try_from_slice(&[1]).unwrap();
    /// v.try_extend_from_slice(&[2, 3]).unwrap();
    /// assert!(v.try_extend_from_slice(&[4]).is_err());
    /// assert_eq!(v, [1, 2, 3]);
    /// ```
    pub fn try_extend_from_slice(&mut self, items: &[T]) -> Result<(), CapacityError>
    where
        T: Clone,
    {
        let len = self.len();
        let required = len.saturating_add(items.len());
        if required > N {
            return Err(CapacityError::new((), required, N, "elements"));
        }
        for (slot, item) in self.items[len..required].iter_mut().zip(items) {
            // SAFETY: a valid, aligned place for a `T`, holding nothing to drop.
            unsafe { crate::layout::write_zero_padded(slot.as_mut_ptr(), item.clone()) };
        }
        self.len = required as u32; // required <= N <= u32::MAX
        Ok(())
    }
}

impl<T: SharedSafe, const N: usize> Default for FixedVec<T, N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<T: SharedSafe, const N: usize> Deref for FixedVec<T, N> {
    type Target = [T];

    fn deref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T: SharedSafe, const N: usize> DerefMut for FixedVec<T, N> {
    fn deref_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
}

impl<T: SharedSafe, const N: usize> AsRef<[T]> for FixedVec<T, N> {
    fn as_ref(&self) -> &[T] {
        self.as_slice()
    }
}

impl<T: SharedSafe, const N: usize> AsMut<[T]> for FixedVec<T, N> {
    fn as_mut(&mut self) -> &mut [T] {
        self.as_mut_slice()
    }
}

impl<T: SharedSafe + Clone, const N: usize> Clone for FixedVec<T, N> {
    fn clone(&self) -> Self {
        let mut clone = Self::new();
        for (slot, item) in clone.items.iter_mut().zip(self.as_slice()) {
            slot.write(item.clone());
        }
        clone.len = self.len() as u32;
        clone
    }
}

impl<T: SharedSafe + Copy, const N: usize> Copy for FixedVec<T, N> {}

impl<'a, T: SharedSafe + Clone, const N: usize> TryFrom<&'a [T]> for FixedVec<T, N> {
    type Error = CapacityError;

    fn try_from(items: &'a [T]) -> Result<Self, CapacityError> {
        Self::try_from_slice(items)
    }
}

impl<T: SharedSafe + fmt::Debug, const N: usize> fmt::Debug for FixedVec<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_slice(), f)
    }
}

impl<T, U, const N: usize, const M: usize> PartialEq<FixedVec<U, M>> for FixedVec<T, N>
where
    T: SharedSafe + PartialEq<U>,
    U: SharedSafe,
{
    fn eq(&self, other: &FixedVec<U, M>) -> bool {
        self.as_slice() == other.as_slice()
    }
}

impl<T: SharedSafe + Eq, const N: usize> Eq for FixedVec<T, N> {}

impl<T: SharedSafe + PartialEq<U>, U, const N: usize> PartialEq<[U]> for FixedVec<T, N> {
    fn eq(&self, other: &[U]) -> bool {
        self.as_slice() == other
    }
}

impl<T: SharedSafe + PartialEq<U>, U, const N: usize> PartialEq<&[U]> for FixedVec<T, N> {
    fn eq(&self, other: &&[U]) -> bool {
        self.as_slice() == *other
    }
}

impl<T: SharedSafe + PartialEq<U>, U, const N: usize, const M: usize> PartialEq<[U; M]>
    for FixedVec<T, N>
{
    fn eq(&self, other: &[U; M]) -> bool {
        self.as_slice() == other
    }
}

impl<T: SharedSafe + PartialOrd, const N: usize> PartialOrd for FixedVec<T, N> {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        self.as_slice().partial_cmp(other.as_slice())
    }
}

impl<T: SharedSafe + Ord, const N: usize> Ord for FixedVec<T, N> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_slice().cmp(other.as_slice())
    }
}

impl<T: SharedSafe + Hash, const N: usize> Hash for FixedVec<T, N> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_slice().hash(state);
    }
}

impl<'a, T: SharedSafe, const N: usize> IntoIterator for &'a FixedVec<T, N> {
    type Item = &'a T;
    type IntoIter = slice::Iter<'a, T>;

    fn into_iter(self) -> slice::Iter<'a, T> {
        self.as_slice().iter()
    }
}

impl<'a, T: SharedSafe, const N: usize> IntoIterator for &'a mut FixedVec<T, N> {
    type Item = &'a mut T;
    type IntoIter = slice::IterMut<'a, T>;

    fn into_iter(self) -> slice::IterMut<'a, T> {
        self.as_mut_slice().iter_mut()
    }
}

impl<T: SharedSafe, const N: usize> IntoIterator for FixedVec<T, N> {
    type Item = T;
    type IntoIter = IntoIter<T, N>;

    fn into_iter(self) -> IntoIter<T, N> {
        let end = self.len();
        IntoIter {
            vec: self,
            start: 0,
            end,
        }
    }
}

/// The elements of a [`FixedVec`], by value; made by its `into_iter`.
///
/// ```
/// use shm_runtime::FixedVec;
/// use std::sync::atomic::AtomicU32;
///
/// let mut v = FixedVec::<AtomicU32, 2>::new();
/// v.push(AtomicU32::new(1));
/// v.push(AtomicU32::new(2));
/// let values: Vec<u32> = v.into_iter().map(AtomicU32::into_inner).collect();
/// assert_eq!(values, [1, 2]);
/// ```
pub struct IntoIter<T, const N: usize> {
    vec: FixedVec<T, N>,
    start: usize,
    end: usize,
}

impl<T: SharedSafe, const N: usize> IntoIter<T, N> {
    /// The elements not yet yielded.
    ///
    /// ```
    /// use shm_runtime::FixedVec;
    /// let mut it = FixedVec::<u8, 3>::try_from_slice(&[1, 2, 3]).unwrap().into_iter();
    /// it.next();
    /// assert_eq!(it.as_slice(), &[2, 3]);
    /// ```
    pub fn as_slice(&self) -> &[T] {
        &self.vec.as_slice()[self.start..self.end]
    }
}

impl<T: SharedSafe, const N: usize> Iterator for IntoIter<T, N> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.start == self.end {
            return None;
        }
        let index = self.start;
        self.start += 1;
        // SAFETY: `start..end` stays within the initialized slots, and each
        // index leaves that range once it is read: moved out exactly once.
        Some(unsafe { self.vec.items[index].assume_init_read() })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (self.end - self.start, Some(self.end - self.start))
    }
}

impl<T: SharedSafe, const N: usize> DoubleEndedIterator for IntoIter<T, N> {
    fn next_back(&mut self) -> Option<T> {
        if self.start == self.end {
            return None;
        }
        self.end -= 1;
        // SAFETY: as in `next`, for the slot that just left the range.
        Some(unsafe { self.vec.items[self.end].assume_init_read() })
    }
}

impl<T: SharedSafe, const N: usize> ExactSizeIterator for IntoIter<T, N> {}

impl<T: SharedSafe, const N: usize> FusedIterator for IntoIter<T, N> {}

impl<T: SharedSafe + fmt::Debug, const N: usize> fmt::Debug for IntoIter<T, N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_tuple("IntoIter").field(&self.as_slice()).finish()
    }
}

// SAFETY: a `u32` and an array of `SharedSafe` elements (in `MaybeUninit`,
// which has the layout of `T`): no address, a `repr(C)` layout, no drop glue
// (`MaybeUninit` never drops, and `T` has none), and mutation through `&Self`
// only through the elements' own process-safe interior mutability. The
// fingerprint records both fields with their offsets and the element's
// fingerprint, so it depends on `T` and `N`.
unsafe impl<T: SharedSafe, const N: usize> SharedSafe for FixedVec<T, N> {
    const LAYOUT: &'static TypeLayout = &{
        #[allow(clippy::let_unit_value)]
        let () = CheckCapacity::<N>::OK;
        TypeLayout::library::<Self>(
            "FixedVec",
            "FixedVec clamped-len v1",
            &[("capacity", N as u64)],
            &[
                Field::plain("len", offset_of!(Self, len), u32::LAYOUT),
                Field::plain("items", offset_of!(Self, items), <[T; N]>::LAYOUT),
            ],
            // Only the slots below the (clamped) length hold values.
            Validity::Custom(Self::check_raw),
        )
    };
}

// SAFETY: all zeroes is `len == 0`, the empty vector; the slots are
// `MaybeUninit`, valid with any bytes.
unsafe impl<T: SharedSafe, const N: usize> bytemuck::Zeroable for FixedVec<T, N> {}

// SAFETY: every bit pattern is a valid `FixedVec` when it is one for `T`: the
// length is clamped to `N` on every read, and the slots below it hold valid
// `T`s. `T: AnyBitPattern` also gives `Copy + 'static` and no interior
// mutability. (Padding is allowed by `AnyBitPattern`.)
unsafe impl<T: SharedSafe + bytemuck::AnyBitPattern, const N: usize> bytemuck::AnyBitPattern
    for FixedVec<T, N>
{
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn length_beyond_capacity_is_clamped() {
        let v: FixedVec<u32, 3> = bytemuck::cast([u32::MAX, 7, 8, 9]);
        assert_eq!(v.len(), 3);
        assert_eq!(v, [7, 8, 9]);
        assert!(v.is_full());
        let mut v = v;
        assert_eq!(v.pop(), Some(9));
        assert_eq!(v.len, 2);
        assert!(v.try_push(1).is_ok());
        assert!(v.try_push(2).is_err());
    }

    #[test]
    fn zeroed_is_empty() {
        let v: FixedVec<core::num::NonZeroU32, 4> = bytemuck::Zeroable::zeroed();
        assert!(v.is_empty());
    }
}
