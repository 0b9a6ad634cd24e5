//! [`FixedString<N>`]: UTF-8 text of at most `N` bytes, stored inline.

use super::{CapacityError, CheckCapacity};
use crate::layout::{Field, TypeLayout, Validity};
use crate::SharedSafe;
use core::borrow::Borrow;
use core::cmp::Ordering;
use core::fmt;
use core::hash::{Hash, Hasher};
use core::mem::offset_of;
use core::ops::Deref;
use core::str::{self, FromStr};

/// UTF-8 text of at most `N` bytes stored inline: the shared-memory
/// replacement for `String`.
///
/// It compares, orders and hashes exactly like the `str` it holds (so a
/// `HashMap<FixedString<N>, _>` can be searched with a `&str`), dereferences
/// to `str`, and is `Copy`.
///
/// ```
/// use shm_runtime::{FixedString, SharedSafe};
/// use std::sync::atomic::AtomicU64;
///
/// #[derive(SharedSafe)]
/// #[repr(C)]
/// struct Worker {
///     name: FixedString<32>,
///     jobs_done: AtomicU64,
/// }
///
/// let mut name = FixedString::<32>::new();
/// name.push_str("worker-");
/// name.push('7');
/// assert_eq!(name, "worker-7");
/// assert!(name.starts_with("worker")); // any `str` method, through `Deref`
/// assert!(name.try_push_str(&"x".repeat(30)).is_err()); // 8 + 30 > 32: unchanged
/// assert_eq!(name.len(), 8);
/// ```
///
/// # Layout and bytes from other processes
///
/// `#[repr(C)] { len: u32, bytes: [u8; N] }`, the layout of the C struct
/// `struct { uint32_t len; char bytes[N]; }`. The length field is not
/// trusted: every read clamps it to `N` and shows the longest valid UTF-8
/// prefix of the bytes, so a value written by a buggy or foreign process
/// reads as (possibly shorter) text, never as undefined behaviour, and every
/// bit pattern is a valid `FixedString` (see the [module docs](crate::fixed)).
/// Reading therefore costs a UTF-8 check of at most `len` bytes.
#[derive(Clone, Copy)]
#[repr(C)]
pub struct FixedString<const N: usize> {
    len: u32,
    bytes: [u8; N],
}

impl<const N: usize> FixedString<N> {
    /// An empty string.
    ///
    /// ```
    /// use shm_runtime::FixedString;
    /// const EMPTY: FixedString<16> = FixedString::new();
    /// assert!(EMPTY.is_empty());
    /// ```
    pub const fn new() -> Self {
        #[allow(clippy::let_unit_value)]
        let () = CheckCapacity::<N>::OK;
        FixedString {
            len: 0,
            bytes: [0; N],
        }
    }

    /// The text, as a `str`.
    ///
    /// ```
    /// use shm_runtime::FixedString;
    /// let s = FixedString::<8>::try_from("héllo").unwrap();
    /// assert_eq!(s.as_str(), "héllo");
    /// ```
    pub fn as_str(&self) -> &str {
        let len = (self.len as usize).min(N);
        let bytes = &self.bytes[..len];
        match str::from_utf8(bytes) {
            Ok(text) => text,
            // Written by another process that broke the invariant: show the
            // valid prefix (checked again; this path is never hot).
            Err(error) => str::from_utf8(&bytes[..error.valid_up_to()]).unwrap_or_default(),
        }
    }

    /// The text's UTF-8 bytes.
    ///
    /// ```
    /// use shm_runtime::FixedString;
    /// let s = FixedString::<8>::try_from("ok").unwrap();
    /// assert_eq!(s.as_bytes(), b"ok");
    /// ```
    pub fn as_bytes(&self) -> &[u8] {
        self.as_str().as_bytes()
    }

    /// The length of the text in bytes (not chars).
    ///
    /// ```
    /// use shm_runtime::FixedString;
    /// let s = FixedString::<8>::try_from("né").unwrap();
    /// assert_eq!(s.len(), 3);
    /// ```
    pub fn len(&self) -> usize {
        self.as_str().len()
    }

    /// Whether the text is empty.
    ///
    /// ```
    /// use shm_runtime::FixedString;
    /// assert!(FixedString::<8>::new().is_empty());
    /// ```
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// The capacity in bytes: `N`.
    ///
    /// ```
    /// use shm_runtime::FixedString;
    /// assert_eq!(FixedString::<24>::new().capacity(), 24);
    /// ```
    pub const fn capacity(&self) -> usize {
        N
    }

    /// Removes all the text.
    ///
    /// ```
    /// use shm_runtime::FixedString;
    /// let mut s = FixedString::<8>::try_from("abc").unwrap();
    /// s.clear();
    /// assert_eq!(s, "");
    /// ```
    pub fn clear(&mut self) {
        self.len = 0;
    }

    /// Appends `text` if all of it fits; otherwise leaves the string
    /// unchanged and returns a [`CapacityError`].
    ///
    /// ```
    /// use shm_runtime::FixedString;
    /// let mut s = FixedString::<4>::new();
    /// s.try_push_str("ab").unwrap();
    /// let err = s.try_push_str("cde").unwrap_err();
    /// assert_eq!((err.required(), err.capacity()), (5, 4));
    /// assert_eq!(s, "ab");
    /// ```
    pub fn try_push_str(&mut self, text: &str) -> Result<(), CapacityError> {
        let len = self.len();
        let required = len.saturating_add(text.len());
        if required > N {
            return Err(CapacityError::new((), required, N, "bytes"));
        }
        self.bytes[len..required].copy_from_slice(text.as_bytes());
        self.len = required as u32; // required <= N <= u32::MAX
        Ok(())
    }

    /// Appends `text`.
    ///
    /// # Panics
    ///
    /// If `text` does not fit; [`try_push_str`](Self::try_push_str) returns
    /// an error instead.
    ///
    /// ```
    /// use shm_runtime::FixedString;
    /// let mut s = FixedString::<8>::new();
    /// s.push_str("abc");
    /// assert_eq!(s, "abc");
    /// ```
    #[track_caller]
    pub fn push_str(&mut self, text: &str) {
        if let Err(error) = self.try_push_str(text) {
            panic!("FixedString<{N}>::push_str: {error}");
        }
    }

    /// Appends `ch` if its UTF-8 encoding fits; otherwise leaves the string
    /// unchanged and returns a [`CapacityError`] holding `ch`.
    ///
    /// ```
    /// use shm_runtime::FixedString;
    /// let mut s = FixedString::<2>::try_from("a").unwrap();
    /// assert_eq!(s.try_push('é').unwrap_err().into_inner(), 'é'); // 2 bytes
    /// s.try_push('b').unwrap();
    /// assert_eq!(s, "ab");
    /// ```
    pub fn try_push(&mut self, ch: char) -> Result<(), CapacityError<char>> {
        let mut buffer = [0; 4];
        self.try_push_str(ch.encode_utf8(&mut buffer))
            .map_err(|error| CapacityError::new(ch, error.required(), N, "bytes"))
    }

    /// Appends `ch`.
    ///
    /// # Panics
    ///
    /// If `ch` does not fit; [`try_push`](Self::try_push) returns an error
    /// instead.
    ///
    /// ```
    /// use shm_runtime::FixedString;
    /// let mut s = FixedString::<4>::new();
    /// s.push('€'); // 3 bytes
    /// assert_eq!(s.len(), 3);
    /// ```
    #[track_caller]
    pub fn push(&mut self, ch: char) {
        if let Err(error) = self.try_push(ch) {
            panic!("FixedString<{N}>::push: {error}");
        }
    }

    /// Removes the last char and returns it, or `None` if the string is empty.
    ///
    /// ```
    /// use shm_runtime::FixedString;
    /// let mut s = FixedString::<8>::try_from("hé").unwrap();
    /// assert_eq!(s.pop(), Some('é'));
    /// assert_eq!(s.pop(), Some('h'));
    /// assert_eq!(s.pop(), None);
    /// ```
    pub fn pop(&mut self) -> Option<char> {
        let text = self.as_str();
        let ch = text.chars().next_back()?;
        self.len = (text.len() - ch.len_utf8()) as u32;
        Some(ch)
    }

    /// Shortens the text to `new_len` bytes; does nothing if it is not longer.
    ///
    /// # Panics
    ///
    /// If `new_len` is not on a char boundary, like [`String::truncate`].
    ///
    /// ```
    /// use shm_runtime::FixedString;
    /// let mut s = FixedString::<8>::try_from("héllo").unwrap();
    /// s.truncate(3);
    /// assert_eq!(s, "hé");
    /// ```
    #[track_caller]
    pub fn truncate(&mut self, new_len: usize) {
        let text = self.as_str();
        if new_len < text.len() {
            assert!(
                text.is_char_boundary(new_len),
                "FixedString::truncate: {new_len} is not a char boundary"
            );
            self.len = new_len as u32;
        }
    }
}

impl<const N: usize> Default for FixedString<N> {
    fn default() -> Self {
        Self::new()
    }
}

impl<const N: usize> Deref for FixedString<N> {
    type Target = str;

    fn deref(&self) -> &str {
        self.as_str()
    }
}

impl<const N: usize> AsRef<str> for FixedString<N> {
    fn as_ref(&self) -> &str {
        self.as_str()
    }
}

impl<const N: usize> AsRef<[u8]> for FixedString<N> {
    fn as_ref(&self) -> &[u8] {
        self.as_bytes()
    }
}

/// Sound because `Eq`, `Ord` and `Hash` are those of the `str`.
impl<const N: usize> Borrow<str> for FixedString<N> {
    fn borrow(&self) -> &str {
        self.as_str()
    }
}

impl<'a, const N: usize> TryFrom<&'a str> for FixedString<N> {
    type Error = CapacityError;

    fn try_from(text: &'a str) -> Result<Self, CapacityError> {
        let mut fixed = Self::new();
        fixed.try_push_str(text)?;
        Ok(fixed)
    }
}

impl<const N: usize> FromStr for FixedString<N> {
    type Err = CapacityError;

    fn from_str(text: &str) -> Result<Self, CapacityError> {
        Self::try_from(text)
    }
}

/// Writing fails with [`fmt::Error`] when the text does not fit; what fitted
/// of the pieces written before stays.
impl<const N: usize> fmt::Write for FixedString<N> {
    fn write_str(&mut self, text: &str) -> fmt::Result {
        self.try_push_str(text).map_err(|_| fmt::Error)
    }
}

impl<const N: usize> fmt::Display for FixedString<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self.as_str(), f)
    }
}

impl<const N: usize> fmt::Debug for FixedString<N> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(self.as_str(), f)
    }
}

impl<const N: usize, const M: usize> PartialEq<FixedString<M>> for FixedString<N> {
    fn eq(&self, other: &FixedString<M>) -> bool {
        self.as_str() == other.as_str()
    }
}

impl<const N: usize> Eq for FixedString<N> {}

impl<const N: usize> PartialEq<str> for FixedString<N> {
    fn eq(&self, other: &str) -> bool {
        self.as_str() == other
    }
}

impl<const N: usize> PartialEq<&str> for FixedString<N> {
    fn eq(&self, other: &&str) -> bool {
        self.as_str() == *other
    }
}

impl<const N: usize> PartialEq<FixedString<N>> for str {
    fn eq(&self, other: &FixedString<N>) -> bool {
        self == other.as_str()
    }
}

impl<const N: usize> PartialEq<FixedString<N>> for &str {
    fn eq(&self, other: &FixedString<N>) -> bool {
        *self == other.as_str()
    }
}

impl<const N: usize, const M: usize> PartialOrd<FixedString<M>> for FixedString<N> {
    fn partial_cmp(&self, other: &FixedString<M>) -> Option<Ordering> {
        Some(self.as_str().cmp(other.as_str()))
    }
}

impl<const N: usize> Ord for FixedString<N> {
    fn cmp(&self, other: &Self) -> Ordering {
        self.as_str().cmp(other.as_str())
    }
}

impl<const N: usize> Hash for FixedString<N> {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.as_str().hash(state);
    }
}

// SAFETY: a `u32` and a byte array: no address, a `repr(C)` layout, no drop
// glue, no interior mutability. The fingerprint records both fields with their
// offsets, so it depends on `N`.
unsafe impl<const N: usize> SharedSafe for FixedString<N> {
    const LAYOUT: &'static TypeLayout = &{
        #[allow(clippy::let_unit_value)]
        let () = CheckCapacity::<N>::OK;
        // Any bytes: reads clamp the length and take the valid UTF-8 prefix.
        TypeLayout::library::<Self>(
            "FixedString",
            "FixedString utf8-prefix v1",
            &[("capacity", N as u64)],
            &[
                Field::plain("len", offset_of!(Self, len), u32::LAYOUT),
                Field::plain("bytes", offset_of!(Self, bytes), <[u8; N]>::LAYOUT),
            ],
            Validity::AnyBits,
        )
    };
}

// SAFETY: all zeroes is `len == 0`, the empty string.
unsafe impl<const N: usize> bytemuck::Zeroable for FixedString<N> {}

// SAFETY: every bit pattern is a valid `FixedString`: reads clamp the length
// and take the valid UTF-8 prefix (see `as_str`), so no method relies on the
// bytes. It is `Copy + 'static` and has no interior mutability. (Its padding
// makes it not `Pod`, which `AnyBitPattern` allows.)
unsafe impl<const N: usize> bytemuck::AnyBitPattern for FixedString<N> {}

#[cfg(test)]
mod tests {
    use super::*;

    /// Builds a value as another process might have written it.
    fn raw<const N: usize>(len: u32, bytes: [u8; N]) -> FixedString<N> {
        FixedString { len, bytes }
    }

    #[test]
    fn length_beyond_capacity_is_clamped() {
        let s = raw(u32::MAX, *b"abcd");
        assert_eq!(s.as_str(), "abcd");
        assert_eq!(s.len(), 4);
    }

    #[test]
    fn invalid_utf8_reads_as_its_valid_prefix() {
        let s = raw(4, [b'a', 0xC3, b'b', b'c']); // 0xC3 starts a 2-byte char
        assert_eq!(s.as_str(), "a");
        let s = raw(3, [b'a', 0xE2, 0x82, 0xAC]); // "a€" cut inside the €
        assert_eq!(s.as_str(), "a");
        let s = raw(2, [0xFF, 0xFF]);
        assert_eq!(s.as_str(), "");
    }

    #[test]
    fn writing_after_a_foreign_value_starts_from_what_is_shown() {
        let mut s = raw(9, [b'a', 0xFF, 0, 0]);
        s.push_str("bc");
        assert_eq!(s.as_str(), "abc");
        assert_eq!(s.len, 3);
        let mut s = raw(100, *b"xyzw");
        assert_eq!(s.pop(), Some('w'));
        assert_eq!(s.len, 3);
    }

    #[test]
    fn any_bit_pattern_is_readable() {
        let s: FixedString<8> = bytemuck::cast([u32::MAX; 3]);
        assert_eq!(s.as_str(), "");
        let s: FixedString<4> = bytemuck::cast([2u32, u32::from_le_bytes(*b"hi!!")]);
        assert_eq!(s.as_str(), "hi");
        let s: FixedString<4> = bytemuck::Zeroable::zeroed();
        assert!(s.is_empty());
    }
}
