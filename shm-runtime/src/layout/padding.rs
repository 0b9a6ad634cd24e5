//! Where a layout has padding, and its runs of data bytes: what a copy into
//! shared memory must zero, and what it may copy ([`Padding`],
//! [`for_each_data_run`], [`DataRuns`]).

use super::{path_string, LayoutKind, PathPart, TypeLayout};
use core::fmt;

impl TypeLayout {
    /// Where the type's padding bytes are: each maximal range of bytes that
    /// belongs to no field, with the field (path) it follows. Empty when
    /// [`has_padding`](TypeLayout::has_padding) is false. For messages that
    /// refuse a padded type: [`Padding`]'s `Display` says where.
    ///
    /// ```
    /// use shm_runtime::{FixedString, SharedSafe};
    ///
    /// #[derive(SharedSafe)]
    /// #[repr(C)]
    /// struct Entry { tag: u8, value: u32, name: FixedString<5> }
    ///
    /// let padding = Entry::LAYOUT.padding();
    /// let shown: Vec<String> = padding.iter().map(|p| p.to_string()).collect();
    /// assert_eq!(
    ///     shown,
    ///     [
    ///         "bytes 1..4 (3 bytes after `tag`)",
    ///         "bytes 17..20 (3 bytes after `name.bytes`)",
    ///     ]
    /// );
    /// assert!(u64::LAYOUT.padding().is_empty());
    /// ```
    pub fn padding(&self) -> Vec<Padding> {
        let mut found = Vec::new();
        let mut path = Vec::new();
        self.collect_padding(0, &mut path, &mut found);
        found
    }

    fn collect_padding(&self, at: usize, path: &mut Vec<PathPart>, found: &mut Vec<Padding>) {
        if !self.has_padding() {
            return;
        }
        match &self.kind {
            LayoutKind::Array { element, len } => {
                for i in 0..*len {
                    path.push(PathPart::Index(i));
                    element.collect_padding(at + i * element.size, path, found);
                    path.pop();
                }
            }
            LayoutKind::Struct { fields, .. } | LayoutKind::Library { fields, .. } => {
                let mut covered = 0;
                let mut last: Option<&'static str> = None;
                for field in *fields {
                    if field.layout.size == 0 {
                        continue;
                    }
                    if field.offset > covered {
                        found.push(Padding::new(
                            at + covered,
                            field.offset - covered,
                            path,
                            last,
                        ));
                    }
                    path.push(PathPart::Field(field.name));
                    field.layout.collect_padding(at + field.offset, path, found);
                    path.pop();
                    covered = covered.max(field.offset + field.layout.size);
                    last = Some(field.name);
                }
                if self.size > covered {
                    found.push(Padding::new(at + covered, self.size - covered, path, last));
                }
            }
            LayoutKind::Scalar(_) | LayoutKind::Enum { .. } => {}
        }
    }
}

/// A range of padding bytes of a type (see [`TypeLayout::padding`]): bytes
/// that belong to no field, which a copy of a value leaves uninitialized.
///
/// ```
/// use shm_runtime::{FixedString, SharedSafe};
/// let padding = FixedString::<5>::LAYOUT.padding();
/// assert_eq!((padding[0].offset, padding[0].len), (9, 3));
/// assert_eq!(padding[0].after, "bytes");
/// assert_eq!(padding[0].to_string(), "bytes 9..12 (3 bytes after `bytes`)");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct Padding {
    /// Its first byte, from the start of the value.
    pub offset: usize,
    /// How many bytes.
    pub len: usize,
    /// The path of the field or element it follows (`"name.bytes"`,
    /// `"[2].tag"`); when it comes before the first field of a value, the
    /// path of that value (empty: the outermost one).
    pub after: String,
    /// Before the first field of the value `after` names.
    at_start: bool,
}

impl Padding {
    pub(super) fn new(
        offset: usize,
        len: usize,
        path: &[PathPart],
        last: Option<&'static str>,
    ) -> Padding {
        let mut parts = path.to_vec();
        if let Some(name) = last {
            parts.push(PathPart::Field(name));
        }
        Padding {
            offset,
            len,
            after: path_string(&parts),
            at_start: last.is_none(),
        }
    }
}

impl fmt::Display for Padding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let end = self.offset + self.len;
        let bytes = if self.len == 1 { "byte" } else { "bytes" };
        if self.len == 1 {
            write!(f, "byte {}", self.offset)?;
        } else {
            write!(f, "bytes {}..{end}", self.offset)?;
        }
        match (self.at_start, self.after.is_empty()) {
            (true, true) => write!(f, " ({} {bytes} at the start)", self.len),
            (true, false) => write!(
                f,
                " ({} {bytes} at the start of `{}`)",
                self.len, self.after
            ),
            (false, _) => write!(f, " ({} {bytes} after `{}`)", self.len, self.after),
        }
    }
}

/// Calls `run(start, end)` for every maximal range of a value's bytes that
/// are not padding, in increasing order (ranges that touch are merged): the
/// bytes a copy of a valid value may read. One range `(0, size)` for a type
/// without padding.
pub(crate) fn for_each_data_run(layout: &TypeLayout, mut run: impl FnMut(usize, usize)) {
    let mut pending: Option<(usize, usize)> = None;
    visit_data(layout, 0, &mut |start, end| match &mut pending {
        Some((_, pending_end)) if *pending_end == start => *pending_end = end,
        _ => {
            if let Some((s, e)) = pending.replace((start, end)) {
                run(s, e);
            }
        }
    });
    if let Some((s, e)) = pending {
        run(s, e);
    }
}

/// How many ranges of data bytes [`DataRuns`] holds.
pub(crate) const MAX_DATA_RUNS: usize = 16;

/// The ranges of a type's data bytes (the bytes that are not padding), as
/// [`for_each_data_run`] gives them, computed at compile time: up to
/// [`MAX_DATA_RUNS`]; `complete` is false when the type has more.
pub(crate) struct DataRuns {
    /// `(start, end)` of each range, in increasing order; the first `len`.
    pub(crate) runs: [(usize, usize); MAX_DATA_RUNS],
    pub(crate) len: usize,
    pub(crate) complete: bool,
}

impl DataRuns {
    pub(crate) const fn of(layout: &TypeLayout) -> DataRuns {
        let mut runs = DataRuns {
            runs: [(0, 0); MAX_DATA_RUNS],
            len: 0,
            complete: true,
        };
        runs.push_data(layout, 0);
        runs
    }

    const fn push_data(&mut self, layout: &TypeLayout, at: usize) {
        if !self.complete || layout.size == 0 {
            return;
        }
        if !layout.has_padding() {
            self.push(at, at + layout.size);
            return;
        }
        match &layout.kind {
            LayoutKind::Array { element, len } => {
                let mut i = 0;
                while i < *len && self.complete {
                    self.push_data(element, at + i * element.size);
                    i += 1;
                }
            }
            LayoutKind::Struct { fields, .. } | LayoutKind::Library { fields, .. } => {
                let mut i = 0;
                while i < fields.len() && self.complete {
                    self.push_data(fields[i].layout, at + fields[i].offset);
                    i += 1;
                }
            }
            // No padding (handled above).
            LayoutKind::Scalar(_) | LayoutKind::Enum { .. } => {}
        }
    }

    const fn push(&mut self, start: usize, end: usize) {
        if self.len > 0 && self.runs[self.len - 1].1 == start {
            self.runs[self.len - 1].1 = end;
        } else if self.len == MAX_DATA_RUNS {
            self.complete = false;
        } else {
            self.runs[self.len] = (start, end);
            self.len += 1;
        }
    }
}

fn visit_data(layout: &TypeLayout, at: usize, visit: &mut impl FnMut(usize, usize)) {
    if layout.size == 0 {
        return;
    }
    if !layout.has_padding() {
        visit(at, at + layout.size);
        return;
    }
    match &layout.kind {
        LayoutKind::Array { element, len } => {
            for i in 0..*len {
                visit_data(element, at + i * element.size, visit);
            }
        }
        LayoutKind::Struct { fields, .. } | LayoutKind::Library { fields, .. } => {
            for field in *fields {
                visit_data(field.layout, at + field.offset, visit);
            }
        }
        // No padding (handled above).
        LayoutKind::Scalar(_) | LayoutKind::Enum { .. } => {}
    }
}
