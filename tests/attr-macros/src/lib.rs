//! Attribute macros that rewrite a type *after* `#[derive(SharedSafe)]` has
//! seen it (rustc expands a derive before an attribute macro written below
//! it). The derive's compile-fail tests use them to prove that its checks
//! bind to the type the compiler finally builds, not to the tokens it saw.
#![deny(
    unsafe_op_in_unsafe_fn,
    missing_docs,
    clippy::undocumented_unsafe_blocks
)]

use proc_macro::TokenStream;
use quote::quote;
use syn::{parse_macro_input, Data, DeriveInput, Fields};

fn named_fields(input: &mut DeriveInput) -> &mut syn::FieldsNamed {
    match &mut input.data {
        Data::Struct(data) => match &mut data.fields {
            Fields::Named(fields) => fields,
            _ => panic!("a struct with named fields expected"),
        },
        _ => panic!("a struct expected"),
    }
}

/// Changes the type of the first field to `&'static str`.
#[proc_macro_attribute]
pub fn retype_first_field(_: TokenStream, item: TokenStream) -> TokenStream {
    let mut input = parse_macro_input!(item as DeriveInput);
    let first = named_fields(&mut input).named.first_mut().expect("a field");
    first.ty = syn::parse_quote!(&'static str);
    quote!(#input).into()
}

/// Changes the type of the first field to a `Box` of what it was (which
/// dereferences to the old type).
#[proc_macro_attribute]
pub fn box_first_field(_: TokenStream, item: TokenStream) -> TokenStream {
    let mut input = parse_macro_input!(item as DeriveInput);
    let first = named_fields(&mut input).named.first_mut().expect("a field");
    let old = first.ty.clone();
    first.ty = syn::parse_quote!(::std::boxed::Box<#old>);
    quote!(#input).into()
}

/// Appends a field `extra: &'static u64`.
#[proc_macro_attribute]
pub fn add_field(_: TokenStream, item: TokenStream) -> TokenStream {
    let mut input = parse_macro_input!(item as DeriveInput);
    named_fields(&mut input)
        .named
        .push(syn::parse_quote!(extra: &'static u64));
    quote!(#input).into()
}

/// Reverses the order of the fields.
#[proc_macro_attribute]
pub fn reverse_fields(_: TokenStream, item: TokenStream) -> TokenStream {
    let mut input = parse_macro_input!(item as DeriveInput);
    let fields = named_fields(&mut input);
    let reversed: Vec<_> = fields.named.iter().cloned().rev().collect();
    fields.named = reversed.into_iter().collect();
    quote!(#input).into()
}

/// Adds `#[repr(packed)]`.
#[proc_macro_attribute]
pub fn add_packed(_: TokenStream, item: TokenStream) -> TokenStream {
    let mut input = parse_macro_input!(item as DeriveInput);
    input.attrs.push(syn::parse_quote!(#[repr(packed)]));
    quote!(#input).into()
}

/// Adds `#[repr(align(64))]`.
#[proc_macro_attribute]
pub fn add_align(_: TokenStream, item: TokenStream) -> TokenStream {
    let mut input = parse_macro_input!(item as DeriveInput);
    input.attrs.push(syn::parse_quote!(#[repr(align(64))]));
    quote!(#input).into()
}

/// Appends a variant `Extra` to a fieldless enum.
#[proc_macro_attribute]
pub fn add_variant(_: TokenStream, item: TokenStream) -> TokenStream {
    let mut input = parse_macro_input!(item as DeriveInput);
    match &mut input.data {
        Data::Enum(data) => data.variants.push(syn::parse_quote!(Extra)),
        _ => panic!("an enum expected"),
    }
    quote!(#input).into()
}

/// Replaces `#[repr(u8)]` by `#[repr(u32)]`.
#[proc_macro_attribute]
pub fn widen_repr(_: TokenStream, item: TokenStream) -> TokenStream {
    let mut input = parse_macro_input!(item as DeriveInput);
    input.attrs.retain(|a| !a.path().is_ident("repr"));
    input.attrs.push(syn::parse_quote!(#[repr(u32)]));
    quote!(#input).into()
}
