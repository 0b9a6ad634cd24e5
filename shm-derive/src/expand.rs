//! Generates the `SharedSafe` impl, the field assertions, the drop check and
//! the fingerprint from a checked [`Model`].

use crate::category::assertion_for;
use crate::model::{Field, Model, Shape};
use proc_macro2::{TokenStream, TokenTree};
use quote::{format_ident, quote, quote_spanned, ToTokens};
use std::collections::HashSet;
use syn::spanned::Spanned;
use syn::{GenericParam, Type};

/// Whether `ty` names one of the type's generic parameters anywhere inside it.
fn mentions_generic(ty: &Type, generics: &HashSet<String>) -> bool {
    fn walk(tokens: TokenStream, generics: &HashSet<String>) -> bool {
        tokens.into_iter().any(|tree| match tree {
            TokenTree::Ident(ident) => generics.contains(&ident.to_string()),
            TokenTree::Group(group) => walk(group.stream(), generics),
            _ => false,
        })
    }
    walk(ty.to_token_stream(), generics)
}

fn generic_names(model: &Model) -> HashSet<String> {
    let mut names: HashSet<String> = model
        .input
        .generics
        .params
        .iter()
        .filter_map(|param| match param {
            GenericParam::Type(t) => Some(t.ident.to_string()),
            GenericParam::Const(c) => Some(c.ident.to_string()),
            GenericParam::Lifetime(_) => None,
        })
        .collect();
    names.insert("Self".to_string());
    names
}

/// How the derive refers to a field type's layout: through the trait for a
/// type that mentions a generic parameter (bounded on the impl), else
/// through a wrapper that does not itself fail to compile, so that a bad
/// field yields exactly one error (its assertion's).
fn field_layout(ty: &Type, generic: bool) -> TokenStream {
    if generic {
        quote!(<#ty as ::shm_runtime::SharedSafe>::LAYOUT)
    } else {
        quote!(<::shm_runtime::__private::LayoutOf<#ty>>::LAYOUT)
    }
}

/// The layout of a struct, with the const assertions that bind it to the
/// type the compiler finally built: every field at the offset that
/// `repr(C)` gives it, and the struct's size and alignment. An attribute
/// macro written after the derive that reorders, packs or realigns the
/// struct makes these fail.
fn struct_layout(model: &Model, fields: &[Field], generics: &HashSet<String>) -> TokenStream {
    let name = model.input.ident.to_string();
    let repr = model.repr.canonical();
    let min_align = model.repr.align.unwrap_or(1) as usize;
    let mut steps = Vec::new();
    let mut parts = Vec::new();
    for field in fields {
        let Field {
            name: field_name,
            member,
            ty,
        } = field;
        let layout = field_layout(ty, mentions_generic(ty, generics));
        let message = format!(
            "field `{field_name}` is not where `#[repr(C)]` puts it: an attribute macro after \
             `#[derive(SharedSafe)]` changed the struct's layout (packed, reordered or realigned it)"
        );
        steps.push(quote! {
            let __shm_field = #layout;
            // The fallback of a field that is not `SharedSafe` (already an
            // error of its own): nothing more to check.
            __shm_unknown |= ::shm_runtime::__private::is_fallback(__shm_field);
            let __shm_align = __shm_field.align;
            __shm_end = ::shm_runtime::__private::align_up(__shm_end, __shm_align);
            if !__shm_unknown && ::core::mem::offset_of!(Self, #member) != __shm_end {
                ::core::panic!(#message);
            }
            __shm_end += __shm_field.size;
            if __shm_align > __shm_max_align {
                __shm_max_align = __shm_align;
            }
        });
        parts.push(quote! {
            ::shm_runtime::layout::Field::plain(
                #field_name,
                ::core::mem::offset_of!(Self, #member),
                #layout,
            )
        });
    }
    let message = format!(
        "`{name}` does not have the size and alignment that its `repr` gives it: an attribute \
         macro after `#[derive(SharedSafe)]` changed its layout"
    );
    quote! {
        &{
            let mut __shm_end: usize = 0;
            let mut __shm_max_align: usize = #min_align;
            let mut __shm_unknown = false;
            #(#steps)*
            if !__shm_unknown
                && (::core::mem::size_of::<Self>()
                    != ::shm_runtime::__private::align_up(__shm_end, __shm_max_align)
                    || ::core::mem::align_of::<Self>() != __shm_max_align)
            {
                ::core::panic!(#message);
            }
            ::shm_runtime::layout::TypeLayout {
                name: #name,
                size: ::core::mem::size_of::<Self>(),
                align: ::core::mem::align_of::<Self>(),
                kind: ::shm_runtime::layout::LayoutKind::Struct {
                    repr: #repr,
                    fields: &[#(#parts),*],
                },
            }
        }
    }
}

/// The layout of a fieldless enum, asserting that its size is its repr's.
fn enum_layout(model: &Model, variants: &[&syn::Ident]) -> TokenStream {
    let name = model.input.ident.to_string();
    let int = model
        .repr
        .int
        .as_ref()
        .expect("checked: an enum has an integer repr");
    let scalar = if int.to_string().starts_with('i') {
        quote!(Signed)
    } else {
        quote!(Unsigned)
    };
    let names = variants.iter().map(|v| v.to_string());
    let message = format!(
        "`{name}` is not the size of its `repr({int})`: an attribute macro after \
         `#[derive(SharedSafe)]` changed its repr"
    );
    let min_align = model.repr.align.unwrap_or(1) as usize;
    quote! {
        &{
            let mut __shm_align = ::core::mem::align_of::<#int>();
            if __shm_align < #min_align {
                __shm_align = #min_align;
            }
            let __shm_size =
                ::shm_runtime::__private::align_up(::core::mem::size_of::<#int>(), __shm_align);
            if ::core::mem::size_of::<Self>() != __shm_size
                || ::core::mem::align_of::<Self>() != __shm_align
            {
                ::core::panic!(#message);
            }
            ::shm_runtime::layout::TypeLayout {
                name: #name,
                size: ::core::mem::size_of::<Self>(),
                align: ::core::mem::align_of::<Self>(),
                kind: ::shm_runtime::layout::LayoutKind::Enum {
                    repr: ::shm_runtime::layout::Scalar::#scalar,
                    variants: &[#(::shm_runtime::layout::Variant {
                        name: #names,
                        // Every bit of the discriminant, sign-extended for a
                        // signed repr.
                        value: (Self::#variants as #int) as u128,
                    }),*],
                },
            }
        }
    }
}

/// A function that compiles only if the type the compiler finally built
/// has exactly the fields (or variants) the derive saw, with exactly their
/// types: an attribute macro written after the derive cannot add, remove,
/// rename or retype one behind the checks' back.
fn final_shape_check(model: &Model) -> TokenStream {
    let input = model.input;
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let body = match &model.shape {
        Shape::Struct(fields) => {
            let bindings: Vec<_> = (0..fields.len())
                .map(|i| format_ident!("__shm_field_{}", i))
                .collect();
            let members = fields.iter().map(|f| &f.member);
            let types = fields.iter().map(|f| {
                let ty = f.ty;
                quote_spanned!(ty.span()=> #ty)
            });
            let seen = bindings.iter().map(|b| format_ident!("{}_type", b));
            let seen2 = seen.clone();
            quote! {
                // No `..`: a field added after the derive fails here.
                let #name { #(#members: #bindings),* } = value;
                // Inferred from the field alone (no coercion), then compared:
                // a field whose type changed after the derive fails here.
                #(let #seen = ::shm_runtime::__private::phantom_of(#bindings);)*
                #(let _: ::core::marker::PhantomData<#types> = #seen2;)*
            }
        }
        Shape::Enum(variants) => quote! {
            // Exhaustive: a variant added after the derive fails here.
            match *value {
                #(#name::#variants => {})*
            }
        },
    };
    quote! {
        #[allow(dead_code, unused_variables, non_snake_case)]
        fn __shm_final_shape #impl_generics (value: &#name #ty_generics) #where_clause {
            #body
        }
    }
}

/// Expands the derive for a checked model.
pub fn expand(model: &Model) -> TokenStream {
    let input = model.input;
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let generics = generic_names(model);

    let mut assertions = Vec::new();
    let mut bounds = Vec::new();
    let layout = match &model.shape {
        Shape::Struct(fields) => {
            for Field { ty, .. } in fields {
                if mentions_generic(ty, &generics) {
                    // Checked where the type is used: `Pair<String>` is refused
                    // at the use site, `Pair<u32>` is accepted.
                    bounds.push(quote_spanned!(ty.span()=> #ty: ::shm_runtime::SharedSafe));
                } else {
                    // Checked here, at the field's span, with the message that
                    // fits the mistake.
                    let assertion = format_ident!("{}", assertion_for(ty), span = ty.span());
                    assertions.push(quote_spanned! {ty.span()=>
                        ::shm_runtime::__private::#assertion::<#ty>();
                    });
                }
            }
            struct_layout(model, fields, &generics)
        }
        Shape::Enum(variants) => enum_layout(model, variants),
    };
    let final_shape = final_shape_check(model);
    // A type without generic parameters has its layout assertions evaluated
    // here, at its definition; a generic one wherever it is used, since every
    // use in shared memory goes through its fingerprint (see `Shared`).
    let eager = input.generics.params.is_empty().then(|| {
        quote! {
            const _: ::shm_runtime::Fingerprint =
                <#name as ::shm_runtime::SharedSafe>::FINGERPRINT;
        }
    });

    // One by one: the user's where clause may end with a comma already.
    let predicates = where_clause.into_iter().flat_map(|w| w.predicates.iter());
    // Refuses a `Drop` impl on the type itself (its fields are `SharedSafe`,
    // hence without drop glue): see `__private::DropProbe`. Spanned on the
    // type's name, so the error points there.
    let no_drop = quote_spanned! {name.span()=>
        #[allow(dead_code)]
        fn __shm_assert_no_drop_impl #impl_generics () #where_clause {
            ::shm_runtime::__private::assert_no_drop_impl::<#name #ty_generics, _>(
                (&::shm_runtime::__private::DropProbe::<#name #ty_generics>::NEW)
                    .shm_probe_drop(),
            );
        }
    };

    quote! {
        const _: () = {
            #[allow(unused_imports)]
            use ::shm_runtime::__private::{
                LayoutFallback as _, ProbeFindsDropImpl as _, ProbeFindsNoDropImpl as _,
            };

            // Shared values are never dropped, so a `Drop` impl would never run.
            #no_drop

            #final_shape

            #(#assertions)*

            // SAFETY: the derive checked the repr (C or transparent, not
            // packed; or an integer repr for a fieldless enum), every field
            // is `SharedSafe` (asserted above or bounded below), and the type
            // has no `Drop` impl (the probe above), so no drop glue. The
            // layout is bound to the final type: the shape check above fixes
            // its fields and their types, the assertions in `LAYOUT` their
            // offsets, size and alignment.
            unsafe impl #impl_generics ::shm_runtime::SharedSafe for #name #ty_generics
            where
                #(#predicates,)*
                #(#bounds,)*
            {
                const LAYOUT: &'static ::shm_runtime::layout::TypeLayout = #layout;
            }

            #eager
        };
    }
}

/// For a type the derive refused: an impl that never reaches a program (the
/// refusal is a compile error), so that the types holding this one are not
/// reported as well, which would send the reader to the wrong struct. None
/// for a type with lifetime parameters, which could not implement the
/// trait (it is `'static`) and is refused for that.
pub fn placeholder(input: &syn::DeriveInput) -> TokenStream {
    if input.generics.lifetimes().next().is_some() {
        return TokenStream::new();
    }
    let ident = &input.ident;
    let name = ident.to_string();
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let own = where_clause.map(|w| &w.predicates);
    let statics = input.generics.type_params().map(|t| &t.ident);
    quote! {
        // SAFETY: never compiled into a program: the derive reported an
        // error for this type.
        unsafe impl #impl_generics ::shm_runtime::SharedSafe for #ident #ty_generics
        where #(#statics: 'static,)* #own
        {
            const LAYOUT: &'static ::shm_runtime::layout::TypeLayout =
                &::shm_runtime::layout::TypeLayout::opaque::<Self>(
                    #name,
                    "refused by derive(SharedSafe)",
                    ::shm_runtime::layout::Validity::Unknown,
                );
        }
    }
}
