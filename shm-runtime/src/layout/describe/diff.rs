//! Comparing two descriptions: [`Description::first_difference`].

use super::difference::Step;
use super::{Description, Difference, DifferenceKind, FieldDesc, KindDesc, TypeId, VariantDesc};
use crate::layout::Scalar;
use std::collections::{HashMap, HashSet};

impl Description {
    /// The first difference between this (stored) description and `ours`
    /// (this program's type), in the order of the types' bytes: `None` when
    /// they describe the same layout, which is when their
    /// [fingerprints](Self::fingerprint) are equal. Names of structs,
    /// enums and library types are not compared (they are informational);
    /// names of fields, variants and parameters are.
    ///
    /// Fields are matched by name: a field of the same name is compared
    /// (offset, type, then inside it); a stored field missing from this
    /// program's type, a field only this program's type has, or one that
    /// has the same type and offset under another name is named as such.
    ///
    /// ```
    /// use shm_runtime::layout::describe::Description;
    /// use shm_runtime::SharedSafe;
    ///
    /// mod v1 {
    ///     #[derive(shm_runtime::SharedSafe)]
    ///     #[repr(C)]
    ///     pub struct Job { pub id: u64, pub state: u32 }
    /// }
    /// #[derive(SharedSafe)]
    /// #[repr(C)]
    /// struct Job { id: u64, state: u32, retries: u32 }
    ///
    /// let stored = Description::of(v1::Job::LAYOUT)?;
    /// let ours = Description::of(Job::LAYOUT)?;
    /// assert_eq!(
    ///     stored.first_difference(&ours).unwrap().to_string(),
    ///     "this program's `Job` has a field `retries` (`u32` at offset 12) that the stored \
    ///      type does not have"
    /// );
    /// assert_eq!(stored.first_difference(&stored), None);
    /// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
    /// ```
    pub fn first_difference(&self, ours: &Description) -> Option<Difference> {
        let mut diff = Diff {
            stored: self,
            ours,
            equal: HashSet::new(),
            path: Vec::new(),
        };
        diff.types(self.root(), ours.root())
    }
}

/// A comparison in progress. Recursion is bounded by the depth of the
/// descriptions (`MAX_DEPTH`); pairs of types found equal are remembered,
/// so that shared types are compared once.
struct Diff<'a> {
    stored: &'a Description,
    ours: &'a Description,
    equal: HashSet<(TypeId, TypeId)>,
    path: Vec<Step>,
}

impl Diff<'_> {
    fn found(&self, kind: DifferenceKind) -> Option<Difference> {
        Some(Difference {
            path: self.path.clone(),
            kind,
        })
    }

    /// Whether the two types differ as wholes, before their parts are
    /// compared: another kind, another scalar, another array length.
    fn wholly_differ(&self, s: TypeId, o: TypeId) -> bool {
        let (st, ot) = (self.stored.get(s), self.ours.get(o));
        match (&st.kind, &ot.kind) {
            (KindDesc::Scalar(a), KindDesc::Scalar(b)) => {
                a != b || st.size != ot.size || st.align != ot.align || st.name != ot.name
            }
            (
                KindDesc::Array {
                    element: se,
                    len: sl,
                },
                KindDesc::Array {
                    element: oe,
                    len: ol,
                },
            ) => sl != ol || self.wholly_differ(*se, *oe),
            (KindDesc::Struct { .. }, KindDesc::Struct { .. })
            | (KindDesc::Enum { .. }, KindDesc::Enum { .. })
            | (KindDesc::Library { .. }, KindDesc::Library { .. }) => false,
            _ => true,
        }
    }

    fn types(&mut self, s: TypeId, o: TypeId) -> Option<Difference> {
        if self.equal.contains(&(s, o)) {
            return None;
        }
        if self.wholly_differ(s, o) {
            return self.found(DifferenceKind::Type {
                stored: self.stored.type_name(s),
                ours: self.ours.type_name(o),
            });
        }
        let (stored, ours) = (self.stored, self.ours);
        let (st, ot) = (stored.get(s), ours.get(o));
        let name = ot.name.clone();
        let found = match (&st.kind, &ot.kind) {
            (KindDesc::Array { element: se, .. }, KindDesc::Array { element: oe, .. }) => {
                self.path.push(Step::Index(0));
                let found = self.types(*se, *oe);
                self.path.pop();
                found
            }
            (
                KindDesc::Struct {
                    repr: sr,
                    fields: sf,
                },
                KindDesc::Struct {
                    repr: or,
                    fields: of,
                },
            ) => {
                if sr != or {
                    self.found(DifferenceKind::StructRepr {
                        name: name.clone(),
                        stored: sr.clone(),
                        ours: or.clone(),
                    })
                } else {
                    self.fields(sf, of, &name)
                }
            }
            (
                KindDesc::Enum {
                    repr: sr,
                    variants: sv,
                },
                KindDesc::Enum {
                    repr: or,
                    variants: ov,
                },
            ) => {
                if sr != or || st.size != ot.size {
                    self.found(DifferenceKind::EnumRepr {
                        name: name.clone(),
                        stored: int_name(*sr, st.size),
                        ours: int_name(*or, ot.size),
                    })
                } else {
                    self.variants(sv, ov, &name, *sr == Scalar::Signed)
                }
            }
            (
                KindDesc::Library {
                    protocol: sp,
                    params: spar,
                    fields: sf,
                    validity: sval,
                },
                KindDesc::Library {
                    protocol: op,
                    params: opar,
                    fields: of,
                    validity: oval,
                },
            ) => {
                if sp != op {
                    self.found(DifferenceKind::Protocol {
                        name: name.clone(),
                        stored: sp.clone(),
                        ours: op.clone(),
                    })
                } else if let Some(found) = self.params(spar, opar, &name) {
                    Some(found)
                } else if sval != oval {
                    self.found(DifferenceKind::Validity {
                        name: name.clone(),
                        stored: *sval,
                        ours: *oval,
                    })
                } else {
                    self.fields(sf, of, &name)
                }
            }
            // Scalars that do not wholly differ are the same.
            _ => None,
        };
        if found.is_some() {
            return found;
        }
        if st.size != ot.size || st.align != ot.align {
            return self.found(DifferenceKind::Size {
                name,
                stored_size: st.size,
                stored_align: st.align,
                ours_size: ot.size,
                ours_align: ot.align,
            });
        }
        self.equal.insert((s, o));
        None
    }

    fn fields(
        &mut self,
        stored: &[FieldDesc],
        ours: &[FieldDesc],
        container: &str,
    ) -> Option<Difference> {
        for pairing in by_name(stored, ours) {
            let (a, b) = match pairing {
                Pairing::Both(a, b) => (a, b),
                Pairing::OnlyOurs(b) => return self.extra_field(b, container),
                Pairing::OnlyStored(a, b) => {
                    // Renamed: ours at its place has its offset, access and
                    // type (the type is compared last: it recurses).
                    let renamed = b.filter(|b| {
                        a.offset == b.offset
                            && a.access == b.access
                            && self.types(a.ty, b.ty).is_none()
                    });
                    let (ty, offset) = (self.stored.type_name(a.ty), a.offset);
                    let kind = match renamed {
                        Some(b) => DifferenceKind::RenamedField {
                            container: container.into(),
                            ours_name: b.name.clone(),
                            ty,
                            offset,
                        },
                        None => DifferenceKind::MissingField {
                            container: container.into(),
                            ty,
                            offset,
                        },
                    };
                    self.path.push(Step::Field(a.name.clone()));
                    let found = self.found(kind);
                    self.path.pop();
                    return found;
                }
            };
            self.path.push(Step::Field(a.name.clone()));
            let found = if a.offset != b.offset || self.wholly_differ(a.ty, b.ty) {
                self.found(DifferenceKind::Field {
                    container: container.into(),
                    stored_type: self.stored.type_name(a.ty),
                    stored_offset: a.offset,
                    ours_type: self.ours.type_name(b.ty),
                    ours_offset: b.offset,
                })
            } else if a.access != b.access {
                self.found(DifferenceKind::Access {
                    container: container.into(),
                    stored: a.access,
                    ours: b.access,
                })
            } else {
                self.types(a.ty, b.ty)
            };
            self.path.pop();
            if found.is_some() {
                return found;
            }
        }
        // The same fields in another order (zero-sized ones can be).
        self.order(stored, ours, container, "field")
    }

    /// The first item of `stored` that has another place in `ours`.
    fn order<T: Named>(
        &self,
        stored: &[T],
        ours: &[T],
        name: &str,
        what: &'static str,
    ) -> Option<Difference> {
        for (place, (a, b)) in stored.iter().zip(ours).enumerate() {
            if a.name() != b.name() {
                return self.found(DifferenceKind::Order {
                    name: name.into(),
                    item: format!("{what} `{}`", a.name()),
                    stored_place: place,
                    ours_place: ours
                        .iter()
                        .position(|x| x.name() == a.name())
                        .unwrap_or(place),
                });
            }
        }
        None
    }

    fn extra_field(&mut self, b: &FieldDesc, container: &str) -> Option<Difference> {
        self.path.push(Step::Field(b.name.clone()));
        let found = self.found(DifferenceKind::ExtraField {
            container: container.into(),
            ty: self.ours.type_name(b.ty),
            offset: b.offset,
        });
        self.path.pop();
        found
    }

    fn variants(
        &self,
        stored: &[VariantDesc],
        ours: &[VariantDesc],
        name: &str,
        signed: bool,
    ) -> Option<Difference> {
        let show = |value: u128| {
            if signed {
                (value as i128).to_string()
            } else {
                value.to_string()
            }
        };
        for pairing in by_name(stored, ours) {
            let (a, b) = match pairing {
                Pairing::Both(a, b) => (a, b),
                Pairing::OnlyOurs(b) => {
                    return self.found(DifferenceKind::ExtraVariant {
                        name: name.into(),
                        variant: b.name.clone(),
                        value: show(b.value),
                    })
                }
                // Renamed: ours at its place has its value.
                Pairing::OnlyStored(a, b) => {
                    return self.found(match b.filter(|b| a.value == b.value) {
                        Some(b) => DifferenceKind::RenamedVariant {
                            name: name.into(),
                            variant: a.name.clone(),
                            ours_variant: b.name.clone(),
                            value: show(a.value),
                        },
                        None => DifferenceKind::MissingVariant {
                            name: name.into(),
                            variant: a.name.clone(),
                            value: show(a.value),
                        },
                    })
                }
            };
            if a.value != b.value {
                return self.found(DifferenceKind::Discriminant {
                    name: name.into(),
                    variant: a.name.clone(),
                    stored: show(a.value),
                    ours: show(b.value),
                });
            }
        }
        // The same variants in another order.
        self.order(stored, ours, name, "variant")
    }

    fn params(
        &self,
        stored: &[(String, u64)],
        ours: &[(String, u64)],
        name: &str,
    ) -> Option<Difference> {
        for i in 0..stored.len().max(ours.len()) {
            let (param, s, o) = match (stored.get(i), ours.get(i)) {
                (Some((sn, sv)), Some((on, ov))) if sn == on => (sn, Some(*sv), Some(*ov)),
                (Some((sn, sv)), _) => (sn, Some(*sv), None),
                (None, Some((on, ov))) => (on, None, Some(*ov)),
                (None, None) => unreachable!("i < the longer length"),
            };
            if s != o {
                return self.found(DifferenceKind::Param {
                    name: name.into(),
                    param: param.clone(),
                    stored: s,
                    ours: o,
                });
            }
        }
        None
    }
}

/// `u8`, `i32`: an enum's repr from its kind and size.
fn int_name(repr: Scalar, size: u64) -> String {
    let sign = if repr == Scalar::Signed { 'i' } else { 'u' };
    format!("{sign}{}", size.saturating_mul(8))
}

/// An entry that [`by_name`] pairs: a field or an enum's variant.
trait Named {
    fn name(&self) -> &str;
}

impl Named for FieldDesc {
    fn name(&self) -> &str {
        &self.name
    }
}

impl Named for VariantDesc {
    fn name(&self) -> &str {
        &self.name
    }
}

/// How the entries at one place of the stored list and of ours pair up.
enum Pairing<'e, T> {
    /// The stored entry and ours of one name; one of them stands at this
    /// place, the other at any place.
    Both(&'e T, &'e T),
    /// A stored entry whose name ours lacks, with ours at the same place
    /// when the stored list lacks its name (then it may be the same entry
    /// renamed).
    OnlyStored(&'e T, Option<&'e T>),
    /// An entry of ours whose name the stored list lacks.
    OnlyOurs(&'e T),
}

/// The entries of `stored` and `ours` paired by name, place by place up to
/// the longer length. At a place where both lists have an entry of one
/// name, those two; else, taking the stored entry there: when ours there
/// is new (the stored list lacks its name) and ours has the stored one's
/// name elsewhere, ours is the first difference ([`Pairing::OnlyOurs`]);
/// with its namesake in ours, the stored entry is paired with it; without
/// one it is [`Pairing::OnlyStored`]. Past the end of the stored list,
/// ours there is paired with its namesake or is new. The comparisons stop
/// at the first pairing that is not [`Pairing::Both`].
fn by_name<'e, T: Named>(stored: &'e [T], ours: &'e [T]) -> impl Iterator<Item = Pairing<'e, T>> {
    let stored_names: HashMap<&str, &T> = stored.iter().map(|e| (e.name(), e)).collect();
    let ours_names: HashMap<&str, &T> = ours.iter().map(|e| (e.name(), e)).collect();
    (0..stored.len().max(ours.len())).map(move |i| {
        let new_in_ours = ours.get(i).filter(|b| !stored_names.contains_key(b.name()));
        match (stored.get(i), ours.get(i)) {
            (Some(a), Some(b)) if a.name() == b.name() => Pairing::Both(a, b),
            (Some(a), _) => match (ours_names.get(a.name()).copied(), new_in_ours) {
                (Some(_), Some(b)) => Pairing::OnlyOurs(b),
                (Some(same), None) => Pairing::Both(a, same),
                (None, b) => Pairing::OnlyStored(a, b),
            },
            (None, Some(b)) => match stored_names.get(b.name()).copied() {
                Some(same) => Pairing::Both(same, b),
                None => Pairing::OnlyOurs(b),
            },
            (None, None) => unreachable!("i < the longer length"),
        }
    })
}
