//! [`Layout`]: what a segment's payload is (its type, one value or a
//! slice), and the sizes and offsets that follow from it.

use super::format::{desc_offset_after, HEADER_SIZE, KIND_SLICE, KIND_VALUE};
use crate::layout::describe;
use crate::layout::TypeLayout;
use crate::Fingerprint;
use std::cell::OnceCell;
use std::mem::{align_of, size_of};

/// What a segment's payload is: the type and whether it is one value or a
/// slice.
#[derive(Clone, Debug)]
pub(crate) struct Layout {
    pub(crate) fingerprint: Fingerprint,
    pub(crate) type_name: &'static str,
    pub(crate) size: usize,
    pub(crate) align: usize,
    pub(crate) kind: u32,
    /// The type's layout, described into the segment when it is created.
    pub(crate) type_layout: &'static TypeLayout,
    /// Its encoded description, made on the first creation that needs it
    /// (never by an open); `None` when the type is beyond the format's
    /// limits (the segment then stores no description).
    description: OnceCell<Option<std::borrow::Cow<'static, [u8]>>>,
}

impl Layout {
    pub(crate) fn value<T: crate::SharedSafe>() -> Layout {
        Layout {
            fingerprint: T::FINGERPRINT,
            type_name: std::any::type_name::<T>(),
            size: size_of::<T>(),
            align: align_of::<T>(),
            kind: KIND_VALUE,
            type_layout: T::LAYOUT,
            description: OnceCell::new(),
        }
    }

    pub(crate) fn slice<T: crate::SharedSafe>() -> Layout {
        Layout {
            kind: KIND_SLICE,
            ..Layout::value::<T>()
        }
    }

    /// Where the payload starts: after the header, aligned for the type.
    pub(crate) fn payload_offset(&self) -> usize {
        HEADER_SIZE.max(self.align)
    }

    /// The encoded description of the type, stored after the payload:
    /// encoded once per type and process (see [`encoded`]), on first use.
    pub(crate) fn description(&self) -> Option<&[u8]> {
        self.description
            .get_or_init(|| encoded(self.type_layout))
            .as_deref()
    }

    /// Where the description block of a payload of `len` elements starts,
    /// and how long it is: `(0, 0)` when none is stored; `None` on
    /// overflow.
    pub(crate) fn desc_block(&self, len: usize) -> Option<(usize, usize)> {
        let Some(bytes) = self.description() else {
            return Some((0, 0));
        };
        let end = self
            .size
            .checked_mul(len)?
            .checked_add(self.payload_offset())?;
        let at = desc_offset_after(end as u64)?;
        Some((usize::try_from(at).ok()?, bytes.len()))
    }

    /// Header, `len` elements and the description block, or `None` on
    /// overflow.
    pub(crate) fn total_len(&self, len: usize) -> Option<usize> {
        let payload_end = self
            .size
            .checked_mul(len)?
            .checked_add(self.payload_offset())?;
        let end = match self.desc_block(len)? {
            (0, 0) => payload_end,
            (at, desc_len) => at.checked_add(desc_len)?,
        };
        Some(end).filter(|total| *total <= isize::MAX as usize)
    }

    /// How the requested view reads in messages: `Shared<T>` or `Shared<[T]>`.
    pub(crate) fn requested(&self) -> String {
        if self.kind == KIND_SLICE {
            format!("`Shared<[{}]>`", self.type_name)
        } else {
            format!("`Shared<{}>`", self.type_name)
        }
    }
}

/// The encoded description of `layout` (`None` beyond the format's
/// limits), kept for the life of the process: every creation of a segment
/// of the same type stores the same bytes, so each type is encoded once
/// (one entry per `TypeLayout` address a program creates segments of, a
/// bounded set). The cache is skipped, not waited for, when another thread
/// holds it (or held it across a `fork`): that creation then encodes a
/// copy of its own, freed with its `Layout`.
fn encoded(layout: &'static TypeLayout) -> Option<std::borrow::Cow<'static, [u8]>> {
    use std::borrow::Cow;
    type Cache = Vec<(usize, Option<&'static [u8]>)>;
    static CACHE: std::sync::Mutex<Cache> = std::sync::Mutex::new(Vec::new());
    let key = std::ptr::from_ref(layout) as usize;
    let encode = || {
        describe::encode(layout)
            .ok()
            .filter(|bytes| bytes.len() <= describe::MAX_LEN)
    };
    let Ok(mut cache) = CACHE.try_lock() else {
        return encode().map(Cow::Owned);
    };
    if let Some((_, bytes)) = cache.iter().find(|(k, _)| *k == key) {
        return bytes.map(Cow::Borrowed);
    }
    let bytes: Option<&'static [u8]> = encode().map(|bytes| &*Box::leak(bytes.into_boxed_slice()));
    cache.push((key, bytes));
    bytes.map(Cow::Borrowed)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The behaviour: a type's layout description is encoded once per
    /// process: every `Layout` of it (one value or a slice, made anew for
    /// each creation) stores the same cached bytes, which are exactly what
    /// `describe::encode` makes of the type.
    #[test]
    fn descriptions_are_encoded_once_per_type() {
        let (one, many) = (Layout::value::<u64>(), Layout::slice::<u64>());
        let (a, b) = (one.description().unwrap(), many.description().unwrap());
        let encoded = describe::encode(<u64 as crate::SharedSafe>::LAYOUT).unwrap();
        assert_eq!((a, b), (&encoded[..], &encoded[..]));
        // A creation that finds the cache held by another thread (another
        // test's) encodes a copy of its own: look again then.
        let cached = (0..100).any(|_| {
            let (x, y) = (Layout::value::<u64>(), Layout::slice::<u64>());
            x.description().unwrap().as_ptr() == y.description().unwrap().as_ptr()
        });
        assert!(cached, "one cached copy");
        let other = Layout::value::<u32>();
        assert_ne!(other.description().unwrap(), a, "another type's own");
    }
}
