//! `#[derive(SharedSafe)]`: proves at compile time that a type may live in
//! memory shared between processes. Use it through `shm_runtime`, which
//! re-exports it next to the trait of the same name:
//!
//! ```ignore
//! use shm_runtime::SharedSafe;
//!
//! #[derive(SharedSafe)]
//! #[repr(C)]
//! struct Point { x: f64, y: f64 }
//! ```
//!
//! The derive is a small pipeline: `model::parse` reads the input into a
//! model and collects every error (bad repr, lifetimes, unions, enums with
//! data), then `expand::expand` generates the impl, the per-field checks,
//! the drop check and the layout fingerprint.
#![deny(
    unsafe_op_in_unsafe_fn,
    missing_docs,
    clippy::undocumented_unsafe_blocks
)]

use proc_macro::TokenStream;

mod category;
mod expand;
mod model;

/// Derives `shm_runtime::SharedSafe` for a `#[repr(C)]` or
/// `#[repr(transparent)]` struct whose fields are all `SharedSafe`, or for a
/// fieldless enum with an explicit integer repr. Every field that cannot live
/// in shared memory is reported at its own span, with what to use instead.
#[proc_macro_derive(SharedSafe)]
pub fn derive_shared_safe(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    match model::parse(&input) {
        Ok(model) => expand::expand(&model).into(),
        Err(errors) => {
            let mut out = errors.to_compile_error();
            out.extend(expand::placeholder(&input));
            out.into()
        }
    }
}
