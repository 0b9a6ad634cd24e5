//! From a created or opened object to a typed view: [`View`] (the mapping
//! and where its payload lies), the payload's header layout, the check of
//! the values a view did not write, and the `Shared` made of it (with the
//! owner that removes the name on drop).

use super::header::Layout;
use super::object::Identity;
use super::options::Segment;
use super::owner::SegmentOwner;
use crate::error::{Error, ErrorKind, Result};
use crate::init::{sealed, Elem, Payload};
use crate::map::{page_size, Mapping};
use crate::shared::Origin;
use crate::{Shared, SharedSafe};

/// What a successful create or open maps: the mapping and where in it the
/// payload lies.
pub(super) struct View {
    pub(super) mapping: Mapping,
    pub(super) offset: usize,
    pub(super) len: usize,
    pub(super) identity: Identity,
    /// Made, reclaimed or replaced by this process (which removes the name
    /// on drop with `remove_on_drop`), or opened.
    pub(super) origin: Origin,
}

impl View {
    /// Whether this process wrote the payload (so it needs no check).
    pub(super) fn created(&self) -> bool {
        self.origin != Origin::Opened
    }
}

/// The header's layout of a payload: one value, or a slice.
pub(super) fn layout_of<P: ?Sized + Payload>() -> Layout {
    if <P as sealed::PayloadSealed>::SLICE {
        Layout::slice::<Elem<P>>()
    } else {
        Layout::value::<Elem<P>>()
    }
}

pub(super) fn check_align(layout: &Layout, what: &(impl std::fmt::Display + ?Sized)) -> Result<()> {
    if layout.align > page_size() {
        return Err(Error::new(
            ErrorKind::InvalidSize,
            format!(
                "{what}: the alignment {} of `{}` exceeds the page size {}",
                layout.align,
                layout.type_name,
                page_size()
            ),
        ));
    }
    Ok(())
}

/// The typed view of a found or created payload.
impl<A> Segment<A> {
    pub(super) fn attach_owner(&self, view: &mut View) {
        if self.remove_on_drop && view.created() {
            view.mapping.set_owner(SegmentOwner {
                target: self.target.clone(),
                identity: Some(view.identity),
                armed: true,
            });
        }
    }

    /// Checks that the payload of a view this process did not write holds
    /// valid values (see the [module documentation](super#what-opening-checks)),
    /// before any reference to it exists; nothing to do, at compile time,
    /// for a type whose every bit pattern is valid.
    pub(super) fn validate<T: SharedSafe>(&self, view: &View, slice: bool) -> Result<()> {
        if view.created() || !T::LAYOUT.needs_check() {
            return Ok(());
        }
        // SAFETY: the payload lies inside the mapping at `offset`, aligned.
        let first = unsafe { view.mapping.ptr().add(view.offset) }.cast::<T>();
        // SAFETY: `view.len` values of `T` are mapped there (the header was
        // validated against the object's size); plain data in them is only
        // written at creation, which was published before this open, and the
        // parts others may be writing now (atomics, a lock's value) are read
        // atomically or not at all.
        let checked = unsafe {
            if slice {
                crate::layout::check_values(first.as_ptr(), view.len)
            } else {
                crate::layout::check_value(first.as_ptr())
            }
        };
        checked.map_err(|invalid| {
            Error::new(
                ErrorKind::InvalidValue,
                format!(
                    "{} holds a `{}` whose bytes are not a valid value: {invalid}; it was \
                     corrupted, or written by a program outside this library's protocol",
                    self.what(),
                    std::any::type_name::<T>()
                ),
            )
        })
    }

    /// A view of a published, validated payload.
    pub(super) fn checked_view<P: ?Sized + Payload>(&self, view: View) -> Result<Shared<P>> {
        self.validate::<Elem<P>>(&view, <P as sealed::PayloadSealed>::SLICE)?;
        // SAFETY: the header proves a published payload of this layout, and
        // its bytes are valid (checked just above, or written here).
        unsafe { self.view_of(view) }
    }

    /// # Safety
    /// The view's payload holds valid elements (one for a value), mutated
    /// only in `&T`-safe ways (or, for a read-only mapping, never through
    /// this view).
    pub(super) unsafe fn view_of<P: ?Sized + Payload>(&self, mut view: View) -> Result<Shared<P>> {
        self.forbid_zeros::<Elem<P>>(&view)?;
        self.attach_owner(&mut view);
        // SAFETY: the payload lies inside the mapping at `offset`.
        let first = unsafe { view.mapping.ptr().add(view.offset) }.cast::<Elem<P>>();
        let ptr = <P as sealed::PayloadSealed>::from_parts(first, view.len);
        // SAFETY: the caller's contract; `ptr` is aligned (page-aligned base,
        // offset a multiple of the alignment) and inside the mapping.
        Ok(unsafe { Shared::from_mapping(view.mapping, ptr) }.with_origin(view.origin))
    }

    /// Where zero bytes are no valid `T`, tells the `SIGBUS` handler so (a
    /// truncation under the view then aborts: nothing sound is possible);
    /// a mapping truncated already is [`Truncated`](crate::ErrorKind::Truncated).
    fn forbid_zeros<T: SharedSafe>(&self, view: &View) -> Result<()> {
        if crate::layout::zeros_are_valid::<T>() || view.mapping.forbid_zeros() {
            Ok(())
        } else {
            Err(crate::map::truncated_error(&self.what().to_string()))
        }
    }
}
