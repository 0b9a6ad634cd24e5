//! Compile-time tests of `#[derive(SharedSafe)]`: every rule has a case in
//! `tests/ui/fail/` whose expected compiler output is checked in next to it
//! (`.stderr`), and the accepted shapes have a case in `tests/ui/pass/`.
//! `tests/ui/after_derive/` holds types that an attribute macro of
//! `tests/attr-macros` rewrites after the derive has seen them.
//!
//! After an intended change to a message, regenerate the expected output with
//! `TRYBUILD=overwrite cargo test --test derive_ui` and read the diff.

#[test]
#[cfg_attr(miri, ignore = "runs trybuild (the compiler)")]
fn derive_ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("tests/ui/fail/*.rs");
    // An attribute macro written after the derive rewrites the type it saw:
    // the checks bind to the type the compiler finally builds.
    t.compile_fail("tests/ui/after_derive/*.rs");
    t.pass("tests/ui/pass/*.rs");
}
