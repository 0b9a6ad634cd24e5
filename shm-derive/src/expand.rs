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

/// Expands the derive for a checked model.
pub fn expand(model: &Model) -> TokenStream {
    let input = model.input;
    let name = &input.ident;
    let (impl_generics, ty_generics, where_clause) = input.generics.split_for_impl();
    let generics = generic_names(model);

    let mut assertions = Vec::new();
    let mut bounds = Vec::new();
    let fingerprint = match &model.shape {
        Shape::Struct(fields) => {
            let kind = format!("struct {}", model.repr.canonical());
            let parts = fields.iter().map(|field| {
                let Field { name, member, ty } = field;
                let fp = if mentions_generic(ty, &generics) {
                    // Checked where the type is used: `Pair<String>` is refused
                    // at the use site, `Pair<u32>` is accepted.
                    bounds.push(quote_spanned!(ty.span()=> #ty: ::shm_runtime::SharedSafe));
                    quote!(<#ty as ::shm_runtime::SharedSafe>::FINGERPRINT)
                } else {
                    // Checked here, at the field's span, with the message that
                    // fits the mistake. The fingerprint goes through a wrapper
                    // that does not itself fail to compile, so a bad field
                    // yields exactly one error.
                    let assertion = format_ident!("{}", assertion_for(ty), span = ty.span());
                    assertions.push(quote_spanned! {ty.span()=>
                        ::shm_runtime::__private::#assertion::<#ty>();
                    });
                    quote!(<::shm_runtime::__private::FingerprintOf<#ty>>::FINGERPRINT)
                };
                quote!(.field(#name, ::core::mem::offset_of!(Self, #member), #fp))
            });
            let parts: Vec<_> = parts.collect();
            quote! {
                ::shm_runtime::Fingerprint::composite(#kind)
                    #(#parts)*
                    .finish(::core::mem::size_of::<Self>(), ::core::mem::align_of::<Self>())
            }
        }
        Shape::Enum(variants) => {
            let kind = format!("enum {}", model.repr.canonical());
            let names = variants.iter().map(|v| v.to_string());
            quote! {
                ::shm_runtime::Fingerprint::composite(#kind)
                    #(.tag(#names, (Self::#variants as i128) as u64))*
                    .finish(::core::mem::size_of::<Self>(), ::core::mem::align_of::<Self>())
            }
        }
    };

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
                FingerprintFallback as _, ProbeFindsDropImpl as _, ProbeFindsNoDropImpl as _,
            };

            // Shared values are never dropped, so a `Drop` impl would never run.
            #no_drop

            #(#assertions)*

            // SAFETY: the derive checked the repr (C or transparent, not
            // packed; or an integer repr for a fieldless enum), every field
            // is `SharedSafe` (asserted above or bounded below), and the type
            // has no `Drop` impl (the probe above), so no drop glue.
            unsafe impl #impl_generics ::shm_runtime::SharedSafe for #name #ty_generics
            where
                #(#predicates,)*
                #(#bounds,)*
            {
                const FINGERPRINT: ::shm_runtime::Fingerprint = #fingerprint;
            }
        };
    }
}
