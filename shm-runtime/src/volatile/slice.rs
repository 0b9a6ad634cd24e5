//! The accesses of a slice view, `Volatile<[T], A>`: elements by index
//! (`get`, `set`, ranges, their fields and atomics), and [`Iter`], its
//! iterator of volatile copies.

use super::access::{Access, AccessError, ReadOnly, ReadWrite};
use super::atomic::{AtomicInteger, ReadOnlyAtomic};
use super::field::{field_ptr, Field};
use super::view::Volatile;
use bytemuck::{AnyBitPattern, NoUninit};
use core::fmt;
use core::marker::PhantomData;
use core::mem::size_of;
use core::ptr::NonNull;

impl<T, A: Access> Volatile<[T], A> {
    fn first(&self) -> NonNull<T> {
        self.ptr.cast::<T>()
    }

    /// The address of element `index`, checked to exist.
    fn element(&self, index: usize) -> Option<NonNull<T>> {
        // SAFETY: `index < len`: inside the slice.
        (index < self.len()).then(|| unsafe { self.first().add(index) })
    }

    fn check_range(&self, index: usize, count: usize) -> core::result::Result<(), AccessError> {
        if index
            .checked_add(count)
            .is_some_and(|end| end <= self.len())
        {
            Ok(())
        } else {
            Err(AccessError::IndexOutOfBounds {
                index,
                count,
                len: self.len(),
            })
        }
    }

    /// The number of elements.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vlen-{}", std::process::id()));
    /// std::fs::write(&path, [0u8; 12])?;
    /// assert_eq!(Segment::file(&path).raw().open::<[u32]>()?.len(), 3);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn len(&self) -> usize {
        self.ptr.len()
    }

    /// Whether the slice has no elements.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vempty-{}", std::process::id()));
    /// std::fs::write(&path, [])?;
    /// assert!(Segment::file(&path).raw().open::<[u32]>()?.is_empty());
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

impl<T: AnyBitPattern, A: Access> Volatile<[T], A> {
    /// A volatile copy of element `index`, or `None` past the end.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vget-{}", std::process::id()));
    /// std::fs::write(&path, [5u8, 6])?;
    /// let bytes = Segment::file(&path).raw().read_only().len(2).open::<[u8]>()?;
    /// assert_eq!((bytes.get(1), bytes.get(2)), (Some(6), None));
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn get(&self, index: usize) -> Option<T> {
        let element = self.element(index)?;
        // SAFETY: an element of the mapped slice (checked), aligned; any
        // bytes are a valid `T`; a volatile copy creates no reference.
        Some(unsafe { element.as_ptr().read_volatile() })
    }

    /// Volatile copies of the `dst.len()` elements from `index` into `dst`.
    /// Refused ([`AccessError::IndexOutOfBounds`]), copying nothing, when
    /// they are not all in the slice.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vrslice-{}", std::process::id()));
    /// std::fs::write(&path, [1u8, 2, 3, 4])?;
    /// let bytes = Segment::file(&path).raw().read_only().len(4).open::<[u8]>()?;
    /// let mut two = [0u8; 2];
    /// bytes.read_slice(2, &mut two)?;
    /// assert_eq!(two, [3, 4]);
    /// assert!(bytes.read_slice(3, &mut two).is_err());
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_slice(&self, index: usize, dst: &mut [T]) -> core::result::Result<(), AccessError> {
        self.check_range(index, dst.len())?;
        for (i, slot) in dst.iter_mut().enumerate() {
            // SAFETY: `index + i < len` (checked above): an element of the
            // mapped slice, aligned; any bytes are a valid `T`.
            *slot = unsafe { self.first().add(index + i).as_ptr().read_volatile() };
        }
        Ok(())
    }

    /// Volatile copies of every element, in a new `Vec`.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vtovec-{}", std::process::id()));
    /// std::fs::write(&path, [1u16, 2, 3].map(u16::to_ne_bytes).concat())?;
    /// assert_eq!(Segment::file(&path).raw().open::<[u16]>()?.to_vec(), [1, 2, 3]);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn to_vec(&self) -> Vec<T> {
        self.iter().collect()
    }

    /// An iterator of volatile copies of the elements, each read when the
    /// iterator reaches it.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-viter-{}", std::process::id()));
    /// std::fs::write(&path, [1u8, 2, 3])?;
    /// let bytes = Segment::file(&path).raw().read_only().len(3).open::<[u8]>()?;
    /// assert_eq!(bytes.iter().map(u32::from).sum::<u32>(), 6);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn iter(&self) -> Iter<'_, T> {
        Iter {
            first: self.first(),
            front: 0,
            back: self.len(),
            _view: PhantomData,
        }
    }

    /// A volatile copy of one field of element `index`, or `None` past the
    /// end.
    ///
    /// ```
    /// use shm_runtime::{field, segment::Segment};
    /// #[derive(shm_runtime::SharedSafe, Clone, Copy, bytemuck::AnyBitPattern)]
    /// #[repr(C)]
    /// struct People { name: [u8; 4], age: i32 }
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vfieldi-{}", std::process::id()));
    /// std::fs::write(&path, [*b"ann\0", 31i32.to_ne_bytes()].concat())?;
    /// let people = Segment::file(&path).raw().read_only().len(1).open::<[People]>()?;
    /// assert_eq!(people.read_field(0, field!(People, age)), Some(31));
    /// assert_eq!(people.read_field(1, field!(People, age)), None);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn read_field<F: AnyBitPattern>(&self, index: usize, field: Field<T, F>) -> Option<F> {
        let element = self.element(index)?;
        // SAFETY: an aligned element of the mapped slice (checked), and
        // `field` lies within it, aligned (its invariant); any bytes are a
        // valid `F`; a volatile copy creates no reference.
        Some(unsafe { field_ptr(element, field).as_ptr().read_volatile() })
    }
}

impl<T: AnyBitPattern> Volatile<[T], ReadWrite> {
    /// A volatile copy of `value` into element `index`. Refused
    /// ([`AccessError::IndexOutOfBounds`]) past the end.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vset-{}", std::process::id()));
    /// std::fs::write(&path, [0u8; 2])?;
    /// let bytes = Segment::file(&path).raw().len(2).open::<[u8]>()?;
    /// bytes.set(1, 9)?;
    /// assert_eq!(bytes.to_vec(), [0, 9]);
    /// assert!(bytes.set(2, 9).is_err());
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn set(&self, index: usize, value: T) -> core::result::Result<(), AccessError>
    where
        T: NoUninit,
    {
        let element = self.element(index).ok_or(AccessError::IndexOutOfBounds {
            index,
            count: 1,
            len: self.len(),
        })?;
        // SAFETY: an element of the writable mapped slice (checked),
        // aligned; a volatile store creates no reference, and every byte
        // stored is a byte of `value`.
        unsafe { element.as_ptr().write_volatile(value) };
        Ok(())
    }

    /// Volatile copies of `src` into the `src.len()` elements from `index`.
    /// Refused ([`AccessError::IndexOutOfBounds`]), writing nothing, when
    /// they are not all in the slice.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vwslice-{}", std::process::id()));
    /// std::fs::write(&path, [0u8; 4])?;
    /// let bytes = Segment::file(&path).raw().len(4).open::<[u8]>()?;
    /// bytes.write_slice(1, &[7, 8])?;
    /// assert_eq!(bytes.to_vec(), [0, 7, 8, 0]);
    /// assert!(bytes.write_slice(3, &[1, 2]).is_err());
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_slice(&self, index: usize, src: &[T]) -> core::result::Result<(), AccessError>
    where
        T: NoUninit,
    {
        self.check_range(index, src.len())?;
        for (i, value) in src.iter().enumerate() {
            // SAFETY: `index + i < len` (checked above): an element of the
            // writable mapped slice, aligned; every byte stored is a byte of
            // the value.
            unsafe { self.first().add(index + i).as_ptr().write_volatile(*value) };
        }
        Ok(())
    }

    /// A volatile copy of `value` into one field of element `index`.
    /// Refused ([`AccessError::IndexOutOfBounds`]) past the end.
    ///
    /// ```
    /// use shm_runtime::{field, segment::Segment};
    /// #[derive(shm_runtime::SharedSafe, Clone, Copy, bytemuck::AnyBitPattern)]
    /// #[repr(C)]
    /// struct People { name: [u8; 4], age: i32 }
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vwfieldi-{}", std::process::id()));
    /// std::fs::write(&path, [0u8; 16])?;
    /// let people = Segment::file(&path).raw().len(2).open::<[People]>()?;
    /// people.write_field(1, field!(People, age), 100)?;
    /// assert_eq!(people.read_field(1, field!(People, age)), Some(100));
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn write_field<F: NoUninit>(
        &self,
        index: usize,
        field: Field<T, F>,
        value: F,
    ) -> core::result::Result<(), AccessError> {
        let element = self.element(index).ok_or(AccessError::IndexOutOfBounds {
            index,
            count: 1,
            len: self.len(),
        })?;
        // SAFETY: as in `read_field`, in a writable mapping; every byte
        // stored is a byte of `value`.
        unsafe { field_ptr(element, field).as_ptr().write_volatile(value) };
        Ok(())
    }

    /// Element `index` as an integer atomic of the same size: one slot of a
    /// C `_Atomic uint32_t slots[N]`. Refused ([`AccessError`]) past the end,
    /// for an element of another size, or where the atomic needs more
    /// alignment than the element.
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vatomic-{}", std::process::id()));
    /// std::fs::write(&path, [0u8; 16])?;
    /// let slots = Segment::file(&path).raw().len(4).open::<[u32]>()?;
    /// slots.atomic::<AtomicU32>(3)?.store(8, Ordering::Release);
    /// assert_eq!(slots.get(3), Some(8));
    /// assert!(slots.atomic::<AtomicU32>(4).is_err());
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn atomic<At: AtomicInteger>(
        &self,
        index: usize,
    ) -> core::result::Result<&At, AccessError> {
        self.check_atomic(self.atomic_offset::<At>(index)?)
    }

    /// The integer atomic that one field of element `index` holds; see
    /// [`Volatile::atomic_field`] for one value.
    ///
    /// ```
    /// use shm_runtime::{field, segment::Segment};
    /// use std::sync::atomic::{AtomicU32, Ordering};
    /// #[derive(shm_runtime::SharedSafe, Clone, Copy, bytemuck::AnyBitPattern)]
    /// #[repr(C)]
    /// struct Slot { owner: u32, hits: u32 }
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-vafieldi-{}", std::process::id()));
    /// std::fs::write(&path, [0u8; 16])?;
    /// let slots = Segment::file(&path).raw().len(2).open::<[Slot]>()?;
    /// slots.atomic_field::<AtomicU32>(1, field!(Slot, hits))?.fetch_add(2, Ordering::Relaxed);
    /// assert_eq!(slots.get(1).map(|s| s.hits), Some(2));
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn atomic_field<At: AtomicInteger>(
        &self,
        index: usize,
        field: Field<T, At::Value>,
    ) -> core::result::Result<&At, AccessError> {
        self.check_atomic(self.field_offset(index, field)?)
    }
}

impl<T: AnyBitPattern> Volatile<[T], ReadOnly> {
    /// Element `index` as an integer atomic of the same size, which can only
    /// be loaded; see the writable view's [`atomic`](Volatile::atomic).
    ///
    /// ```
    /// use shm_runtime::segment::Segment;
    /// use std::sync::atomic::AtomicU16;
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-roatomici-{}", std::process::id()));
    /// std::fs::write(&path, [3u16, 4].map(u16::to_ne_bytes).concat())?;
    /// let slots = Segment::file(&path).raw().read_only().len(2).open::<[u16]>()?;
    /// assert_eq!(slots.atomic::<AtomicU16>(1)?.load(), 4);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn atomic<At: AtomicInteger>(
        &self,
        index: usize,
    ) -> core::result::Result<ReadOnlyAtomic<'_, At>, AccessError> {
        ReadOnlyAtomic::new(self.check_atomic(self.atomic_offset::<At>(index)?)?)
    }

    /// The integer atomic that one field of element `index` holds, which
    /// can only be loaded.
    ///
    /// ```
    /// use shm_runtime::{field, segment::Segment};
    /// use std::sync::atomic::AtomicU32;
    /// #[derive(shm_runtime::SharedSafe, Clone, Copy, bytemuck::AnyBitPattern)]
    /// #[repr(C)]
    /// struct Slot { owner: u32, hits: u32 }
    /// let path = std::env::temp_dir().join(format!("shm-runtime-doc-roafieldi-{}", std::process::id()));
    /// std::fs::write(&path, [1u32, 5].map(u32::to_ne_bytes).concat())?;
    /// let slots = Segment::file(&path).raw().read_only().len(1).open::<[Slot]>()?;
    /// assert_eq!(slots.atomic_field::<AtomicU32>(0, field!(Slot, hits))?.load(), 5);
    /// # std::fs::remove_file(&path)?;
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn atomic_field<At: AtomicInteger>(
        &self,
        index: usize,
        field: Field<T, At::Value>,
    ) -> core::result::Result<ReadOnlyAtomic<'_, At>, AccessError> {
        ReadOnlyAtomic::new(self.check_atomic(self.field_offset(index, field)?)?)
    }
}

impl<T, A: Access> Volatile<[T], A> {
    /// The byte offset of element `index`, for an atomic of its size.
    fn atomic_offset<At: AtomicInteger>(
        &self,
        index: usize,
    ) -> core::result::Result<usize, AccessError> {
        if size_of::<At>() != size_of::<T>() {
            return Err(AccessError::SizeMismatch {
                element: size_of::<T>(),
                atomic: size_of::<At>(),
            });
        }
        self.check_range(index, 1)?;
        Ok(index * size_of::<T>())
    }

    /// The byte offset of `field` in element `index`.
    fn field_offset<F>(
        &self,
        index: usize,
        field: Field<T, F>,
    ) -> core::result::Result<usize, AccessError> {
        self.check_range(index, 1)?;
        Ok(index * size_of::<T>() + field.offset)
    }
}

impl<'a, T: AnyBitPattern, A: Access> IntoIterator for &'a Volatile<[T], A> {
    type Item = T;
    type IntoIter = Iter<'a, T>;

    fn into_iter(self) -> Iter<'a, T> {
        self.iter()
    }
}

/// The iterator of [`Volatile::iter`]: volatile copies of a slice view's
/// elements, each read when reached.
///
/// ```
/// use shm_runtime::segment::Segment;
/// let path = std::env::temp_dir().join(format!("shm-runtime-doc-viterty-{}", std::process::id()));
/// std::fs::write(&path, [1u8, 2, 3])?;
/// let bytes = Segment::file(&path).raw().read_only().len(3).open::<[u8]>()?;
/// let mut iter: shm_runtime::volatile::Iter<'_, u8> = bytes.iter();
/// assert_eq!((iter.len(), iter.next_back(), iter.next()), (3, Some(3), Some(1)));
/// # std::fs::remove_file(&path)?;
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub struct Iter<'a, T> {
    first: NonNull<T>,
    front: usize,
    back: usize,
    _view: PhantomData<&'a [T]>,
}

impl<T: AnyBitPattern> Iter<'_, T> {
    fn read(&self, index: usize) -> T {
        // SAFETY: `front <= index < back <= len`: an aligned element of the
        // slice view this iterator borrows, mapped while it lives; any bytes
        // are a valid `T`; a volatile copy creates no reference.
        unsafe { self.first.add(index).as_ptr().read_volatile() }
    }
}

impl<T: AnyBitPattern> Iterator for Iter<'_, T> {
    type Item = T;

    fn next(&mut self) -> Option<T> {
        if self.front == self.back {
            return None;
        }
        self.front += 1;
        Some(self.read(self.front - 1))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let left = self.back - self.front;
        (left, Some(left))
    }
}

impl<T: AnyBitPattern> DoubleEndedIterator for Iter<'_, T> {
    fn next_back(&mut self) -> Option<T> {
        if self.front == self.back {
            return None;
        }
        self.back -= 1;
        Some(self.read(self.back))
    }
}

impl<T: AnyBitPattern> ExactSizeIterator for Iter<'_, T> {}
impl<T: AnyBitPattern> core::iter::FusedIterator for Iter<'_, T> {}

impl<T> fmt::Debug for Iter<'_, T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Iter")
            .field("left", &(self.back - self.front))
            .finish()
    }
}
