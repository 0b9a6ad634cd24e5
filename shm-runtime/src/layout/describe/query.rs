//! Reading a decoded description: its root, its types, a type's name,
//! and its fingerprint.

use super::format::FINGERPRINT_BUDGET;
use super::{Description, FieldDesc, KindDesc, TypeDesc, TypeId};
use crate::fingerprint::{mix_str, mix_u128, mix_u64};
use crate::layout::Access;
use crate::Fingerprint;

impl Description {
    /// The described type: the last of the table.
    ///
    /// ```
    /// use shm_runtime::layout::describe::Description;
    /// use shm_runtime::SharedSafe;
    /// let d = Description::of(u8::LAYOUT)?;
    /// assert_eq!(d.get(d.root()).name, "u8");
    /// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
    /// ```
    pub fn root(&self) -> TypeId {
        TypeId(self.types.len() as u32 - 1)
    }

    /// The type `id`.
    ///
    /// # Panics
    /// If `id` is not of this description's table (an id of a larger
    /// description).
    ///
    /// ```
    /// use shm_runtime::layout::describe::Description;
    /// use shm_runtime::SharedSafe;
    /// let d = Description::of(i64::LAYOUT)?;
    /// assert_eq!(d.get(d.root()).size, 8);
    /// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
    /// ```
    pub fn get(&self, id: TypeId) -> &TypeDesc {
        &self.types[id.index()]
    }

    /// Every type of the table, each referring only to earlier ones.
    ///
    /// ```
    /// use shm_runtime::layout::describe::Description;
    /// use shm_runtime::SharedSafe;
    /// let d = Description::of(<[bool; 2]>::LAYOUT)?;
    /// let names: Vec<&str> = d.types().iter().map(|t| t.name.as_str()).collect();
    /// assert_eq!(names, ["bool", "array"]);
    /// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
    /// ```
    pub fn types(&self) -> &[TypeDesc] {
        &self.types
    }

    /// How type `id` is written in messages: its name, or `[element; len]`
    /// for an array.
    ///
    /// ```
    /// use shm_runtime::layout::describe::Description;
    /// use shm_runtime::SharedSafe;
    /// let d = Description::of(<[u64; 3]>::LAYOUT)?;
    /// assert_eq!(d.type_name(d.root()), "[u64; 3]");
    /// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
    /// ```
    pub fn type_name(&self, id: TypeId) -> String {
        let ty = self.get(id);
        match &ty.kind {
            // Bounded: arrays nest at most `MAX_DEPTH` deep.
            KindDesc::Array { element, len } => format!("[{}; {len}]", self.type_name(*element)),
            _ => ty.name.clone(),
        }
    }

    /// The [`Fingerprint`] of the described type: equal to
    /// [`Fingerprint::of_layout`] of the layout it was made from, so that a
    /// stored description can be checked against a stored fingerprint.
    /// `None` when computing it would take more than a million steps (a
    /// hostile table whose every level refers twice to the one below: the
    /// fingerprint walks the tree, not the table).
    ///
    /// ```
    /// use shm_runtime::layout::describe::Description;
    /// use shm_runtime::{SharedSafe, ShmMutex};
    /// let d = Description::of(<ShmMutex<[u32; 4]>>::LAYOUT)?;
    /// assert_eq!(d.fingerprint(), Some(<ShmMutex<[u32; 4]>>::FINGERPRINT));
    /// # Ok::<(), shm_runtime::layout::describe::DescriptionError>(())
    /// ```
    pub fn fingerprint(&self) -> Option<Fingerprint> {
        let mut budget = FINGERPRINT_BUDGET;
        self.hash(crate::fingerprint::START, self.root(), &mut budget)
            .map(Fingerprint::from_state)
    }

    /// The layout module's `hash_layout`, over the table. Bounded in depth by
    /// `MAX_DEPTH` and in steps by `budget`.
    fn hash(&self, state: u64, id: TypeId, budget: &mut usize) -> Option<u64> {
        *budget = budget.checked_sub(1)?;
        let ty = self.get(id);
        let s = mix_u64(mix_u64(state, ty.size), ty.align);
        Some(match &ty.kind {
            KindDesc::Scalar(scalar) => {
                mix_str(mix_u64(mix_str(s, "scalar"), scalar.code()), &ty.name)
            }
            KindDesc::Array { element, len } => {
                mix_u64(self.hash(mix_str(s, "array"), *element, budget)?, *len)
            }
            KindDesc::Struct { repr, fields } => {
                self.hash_fields(mix_str(mix_str(s, "struct"), repr), fields, budget)?
            }
            KindDesc::Enum { repr, variants } => {
                let mut s = mix_u64(mix_str(s, "enum"), repr.code());
                s = mix_u64(s, variants.len() as u64);
                for variant in variants {
                    s = mix_u128(mix_str(s, &variant.name), variant.value);
                }
                s
            }
            KindDesc::Library {
                protocol,
                params,
                fields,
                validity,
            } => {
                let mut s = mix_str(mix_str(s, "library"), protocol);
                s = mix_u64(s, params.len() as u64);
                for (name, value) in params {
                    s = mix_u64(mix_str(s, name), *value);
                }
                self.hash_fields(mix_u64(s, validity.code() as u64), fields, budget)?
            }
        })
    }

    fn hash_fields(&self, state: u64, fields: &[FieldDesc], budget: &mut usize) -> Option<u64> {
        let mut s = mix_u64(state, fields.len() as u64);
        for field in fields {
            s = mix_u64(mix_str(s, &field.name), field.offset);
            s = mix_u64(s, matches!(field.access, Access::Protocol) as u64);
            s = self.hash(s, field.ty, budget)?;
        }
        Some(s)
    }
}
