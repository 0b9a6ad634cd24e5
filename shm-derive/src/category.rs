//! Recognizes the common mistakes by the syntax of a field's type, to pick
//! the assertion whose compile error explains that mistake.
//!
//! The choice only changes the *message*: every assertion requires exactly
//! `SharedSafe`, so a user type that happens to be named `Cell` or `Box` and
//! is `SharedSafe` passes, and an alias that hides a pointer still fails
//! (with the general message).

use syn::{GenericArgument, PathArguments, Type};

/// The name of the assertion function in `shm_runtime::__private` to call for `ty`.
pub fn assertion_for(ty: &Type) -> &'static str {
    match ty {
        Type::Reference(_) => "assert_no_reference",
        Type::Ptr(_) => "assert_no_raw_pointer",
        Type::TraitObject(_) | Type::ImplTrait(_) => "assert_no_trait_object",
        Type::FnPtr(_) => "assert_no_fn_pointer",
        Type::Tuple(tuple) if !tuple.elems.is_empty() => "assert_no_tuple",
        Type::Slice(_) => "assert_no_vec",
        Type::Paren(inner) => assertion_for(&inner.elem),
        Type::Group(inner) => assertion_for(&inner.elem),
        Type::Array(array) => assertion_for(&array.elem),
        Type::Path(path) => match path.path.segments.last() {
            Some(last) => match by_name(&last.ident.to_string(), &last.arguments) {
                // A wrapper such as `ShmMutex<Vec<u8>>` or `FixedVec<String, 4>`:
                // explain the mistake inside it rather than suggest the wrapper.
                "assert_shared_safe" => inner_mistake(&last.arguments),
                specific => specific,
            },
            None => "assert_shared_safe",
        },
        _ => "assert_shared_safe",
    }
}

fn by_name(name: &str, arguments: &PathArguments) -> &'static str {
    match name {
        "String" | "str" | "OsString" | "CString" | "PathBuf" | "Cow" => "assert_no_string",
        "Vec" | "VecDeque" | "LinkedList" | "BinaryHeap" => "assert_no_vec",
        "Box" if boxes_trait_object(arguments) => "assert_no_trait_object",
        "Box" | "Rc" | "Arc" | "Weak" => "assert_no_box",
        "HashMap" | "BTreeMap" | "HashSet" | "BTreeSet" | "IndexMap" => "assert_no_collection",
        "Cell" | "RefCell" | "UnsafeCell" | "OnceCell" | "LazyCell" | "SyncUnsafeCell" => {
            "assert_no_cell"
        }
        "Mutex" | "RwLock" | "Condvar" | "Barrier" | "Once" | "OnceLock" | "LazyLock" => {
            "assert_no_std_lock"
        }
        "NonNull" | "AtomicPtr" => "assert_no_raw_pointer",
        "Option" | "Result" => "assert_no_option",
        "File" | "OwnedFd" | "TcpStream" | "UnixStream" | "Child" | "JoinHandle" => {
            "assert_no_handle"
        }
        _ => "assert_shared_safe",
    }
}

/// The assertion for the first type argument that is a recognizable
/// mistake, or the general one.
fn inner_mistake(arguments: &PathArguments) -> &'static str {
    let PathArguments::AngleBracketed(arguments) = arguments else {
        return "assert_shared_safe";
    };
    arguments
        .args
        .iter()
        .filter_map(|arg| match arg {
            GenericArgument::Type(ty) => Some(assertion_for(ty)),
            _ => None,
        })
        .find(|assertion| *assertion != "assert_shared_safe")
        .unwrap_or("assert_shared_safe")
}

fn boxes_trait_object(arguments: &PathArguments) -> bool {
    let PathArguments::AngleBracketed(arguments) = arguments else {
        return false;
    };
    arguments.args.iter().any(|arg| {
        matches!(
            arg,
            GenericArgument::Type(Type::TraitObject(_) | Type::ImplTrait(_))
        )
    })
}
