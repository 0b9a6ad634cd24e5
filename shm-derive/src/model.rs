//! Reads a `DeriveInput` into a checked model of the type, collecting every error.

use proc_macro2::Span;
use syn::ext::IdentExt;
use syn::spanned::Spanned;
use syn::{Data, DeriveInput, Error, Fields, GenericParam, Ident, Type};

/// The layout the user asked for with `#[repr(...)]`.
#[derive(Default)]
pub struct Repr {
    pub c: bool,
    pub transparent: bool,
    /// `repr(u8)`, `repr(i32)`, ...: the integer type of an enum's discriminant.
    pub int: Option<Ident>,
    pub align: Option<u64>,
    pub packed: Option<Span>,
    pub rust: Option<Span>,
}

impl Repr {
    /// A canonical text of the repr, part of the fingerprint.
    pub fn canonical(&self) -> String {
        let mut parts = Vec::new();
        if self.c {
            parts.push("C".to_string());
        }
        if self.transparent {
            parts.push("transparent".to_string());
        }
        if let Some(int) = &self.int {
            parts.push(int.to_string());
        }
        if let Some(n) = self.align {
            parts.push(format!("align({n})"));
        }
        format!("repr({})", parts.join(", "))
    }
}

/// One field of a struct.
pub struct Field<'a> {
    /// `"x"` for a named field, `"0"` for a tuple field.
    pub name: String,
    /// The tokens that name the field in `offset_of!` (`x` or `0`).
    pub member: syn::Member,
    pub ty: &'a Type,
}

/// What the derive accepts.
pub enum Shape<'a> {
    Struct(Vec<Field<'a>>),
    /// A fieldless enum: its variant names.
    Enum(Vec<&'a Ident>),
}

/// The checked model of the input type.
pub struct Model<'a> {
    pub input: &'a DeriveInput,
    pub repr: Repr,
    pub shape: Shape<'a>,
}

/// Accumulates errors so that every problem is reported in one compile.
#[derive(Default)]
struct Errors(Option<Error>);

impl Errors {
    fn push(&mut self, span: Span, message: impl std::fmt::Display) {
        let error = Error::new(span, message);
        match &mut self.0 {
            Some(all) => all.combine(error),
            None => self.0 = Some(error),
        }
    }
}

const INT_REPRS: &[&str] = &[
    "u8", "u16", "u32", "u64", "u128", "usize", "i8", "i16", "i32", "i64", "i128", "isize",
];

fn parse_repr(input: &DeriveInput, errors: &mut Errors) -> Repr {
    let mut repr = Repr::default();
    for attr in &input.attrs {
        let is_repr = attr
            .path()
            .get_ident()
            .is_some_and(|ident| ident.unraw() == "repr");
        if !is_repr {
            continue;
        }
        let result = attr.parse_nested_meta(|meta| {
            let Some(ident) = meta.path.get_ident().map(IdentExt::unraw) else {
                return Err(meta.error("unrecognized repr"));
            };
            let name = ident.to_string();
            match name.as_str() {
                "C" => repr.c = true,
                "transparent" => repr.transparent = true,
                "Rust" => repr.rust = Some(ident.span()),
                "packed" => {
                    if meta.input.peek(syn::token::Paren) {
                        let content;
                        syn::parenthesized!(content in meta.input);
                        content.parse::<syn::LitInt>()?;
                    }
                    repr.packed = Some(ident.span());
                }
                "align" => {
                    let content;
                    syn::parenthesized!(content in meta.input);
                    let lit: syn::LitInt = content.parse()?;
                    repr.align = Some(lit.base10_parse()?);
                }
                int if INT_REPRS.contains(&int) => repr.int = Some(ident),
                _ => return Err(meta.error(format!("unrecognized repr `{name}`"))),
            }
            Ok(())
        });
        if let Err(error) = result {
            errors.push(error.span(), error);
        }
    }
    repr
}

fn check_generics(input: &DeriveInput, errors: &mut Errors) {
    for param in &input.generics.params {
        if let GenericParam::Lifetime(lifetime) = param {
            errors.push(
                lifetime.span(),
                format!(
                    "`SharedSafe` types cannot have lifetime parameters (`{}`): a lifetime means \
                     the type borrows memory of one process; store the data itself, an index, or \
                     a `RelPtr<T>`",
                    lifetime.lifetime
                ),
            );
        }
    }
}

fn check_struct_repr(input: &DeriveInput, repr: &Repr, errors: &mut Errors) {
    let name = &input.ident;
    if let Some(span) = repr.packed {
        errors.push(
            span,
            format!(
                "`{name}` is `repr(packed)`, which `SharedSafe` refuses: packed fields may be \
                 misaligned, and a misaligned atomic or lock is undefined behaviour; use \
                 `#[repr(C)]` and order fields from largest to smallest to avoid padding"
            ),
        );
    }
    if let Some(span) = repr.rust {
        errors.push(
            span,
            format!(
                "`{name}` is `repr(Rust)`, whose layout may differ between compilations; use \
                 `#[repr(C)]` so every program that maps the memory agrees on it"
            ),
        );
    } else if !repr.c && !repr.transparent && repr.packed.is_none() {
        errors.push(
            input.ident.span(),
            format!(
                "`{name}` needs `#[repr(C)]` (or `#[repr(transparent)]`) to derive `SharedSafe`: \
                 without it the compiler may reorder fields differently in each program that \
                 maps the memory"
            ),
        );
    }
}

fn check_enum(input: &DeriveInput, data: &syn::DataEnum, repr: &Repr, errors: &mut Errors) {
    let name = &input.ident;
    if repr.int.is_none() {
        errors.push(
            input.ident.span(),
            format!(
                "enum `{name}` needs an explicit integer repr such as `#[repr(u8)]` or \
                 `#[repr(u32)]` to derive `SharedSafe`, so its size is the same in every program"
            ),
        );
    }
    if data.variants.is_empty() {
        errors.push(
            input.ident.span(),
            format!("enum `{name}` has no variants: no value of it can exist in shared memory"),
        );
    }
    for variant in &data.variants {
        if !matches!(variant.fields, Fields::Unit) {
            errors.push(
                variant.span(),
                format!(
                    "variant `{name}::{}` carries data; `SharedSafe` accepts only fieldless \
                     enums, because another process could observe a half-written variant; use a \
                     `#[repr(C)]` struct with a `#[repr(u8)]` kind field and one field per \
                     payload, guarded by an `ShmMutex` if it changes",
                    variant.ident
                ),
            );
        }
    }
}

/// Parses and checks the input; `Err` holds every error found.
pub fn parse(input: &DeriveInput) -> Result<Model<'_>, Error> {
    let mut errors = Errors::default();
    let repr = parse_repr(input, &mut errors);
    check_generics(input, &mut errors);
    let shape = match &input.data {
        Data::Struct(data) => {
            check_struct_repr(input, &repr, &mut errors);
            let fields = data
                .fields
                .iter()
                .enumerate()
                .map(|(index, field)| match &field.ident {
                    Some(ident) => Field {
                        name: ident.unraw().to_string(),
                        member: syn::Member::Named(ident.clone()),
                        ty: &field.ty,
                    },
                    None => Field {
                        name: index.to_string(),
                        member: syn::Member::Unnamed(syn::Index {
                            index: index as u32,
                            span: field.ty.span(),
                        }),
                        ty: &field.ty,
                    },
                })
                .collect();
            Shape::Struct(fields)
        }
        Data::Enum(data) => {
            check_enum(input, data, &repr, &mut errors);
            Shape::Enum(data.variants.iter().map(|v| &v.ident).collect())
        }
        Data::Union(data) => {
            errors.push(
                data.union_token.span,
                format!(
                    "union `{}` cannot derive `SharedSafe`: which field is live is known to no \
                     other process; use a `#[repr(C)]` struct with a kind field, or a byte array \
                     read through `bytemuck`",
                    input.ident
                ),
            );
            Shape::Struct(Vec::new())
        }
    };
    match errors.0 {
        Some(error) => Err(error),
        None => Ok(Model { input, repr, shape }),
    }
}
