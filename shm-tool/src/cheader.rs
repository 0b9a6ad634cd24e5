//! `shm-tool header`: C definitions of a segment's payload type, from the
//! layout description stored in the segment.
//!
//! Every struct (and library type with typed parts) becomes a `struct`
//! whose members sit at exactly the description's offsets: gaps are
//! explicit `unsigned char` padding members, and a member whose type is
//! aligned to 8 bytes or more gets `alignas` (on i686, gcc aligns a
//! `uint64_t` member to 4 only; Rust's `AtomicU64` is 8-aligned there).
//! `_Static_assert`s check every offset, size and alignment, so a header
//! that does not match the compiler's layout does not compile. Atomics are
//! `_Atomic`; opaque parts (`PodField`, 16-byte scalars, 2-byte floats) are
//! byte arrays of the right size and alignment; zero-sized fields are left
//! out (C has no zero-sized members).

use crate::dump::{prepare, TargetArgs};
use crate::text::escape;
use crate::Fail;
use shm_runtime::layout::describe::{Description, KindDesc, TypeId};
use shm_runtime::layout::Scalar;
use std::collections::{HashMap, HashSet};
use std::fmt::Write as _;

#[derive(clap::Args)]
pub struct HeaderArgs {
    #[command(flatten)]
    target: TargetArgs,
}

const C_KEYWORDS: &[&str] = &[
    "auto",
    "break",
    "case",
    "char",
    "const",
    "continue",
    "default",
    "do",
    "double",
    "else",
    "enum",
    "extern",
    "float",
    "for",
    "goto",
    "if",
    "inline",
    "int",
    "long",
    "register",
    "restrict",
    "return",
    "short",
    "signed",
    "sizeof",
    "static",
    "struct",
    "switch",
    "typedef",
    "union",
    "unsigned",
    "void",
    "volatile",
    "while",
    "bool",
    "true",
    "false",
    "alignas",
    "alignof",
    "offsetof",
    "atomic_bool",
];

/// `name` as a C identifier: other characters as `_`, a leading digit or a
/// keyword prefixed or suffixed.
fn ident(name: &str) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    if C_KEYWORDS.contains(&out.as_str()) || out.starts_with("_shm_") {
        out.push('_');
    }
    out
}

/// Text from the description for a `//` comment: escaped (no line break),
/// and never ending in a backslash, in backticks.
fn quoted(text: &str) -> String {
    format!("`{}`", escape(text.as_bytes()))
}

struct Gen<'a> {
    d: &'a Description,
    /// The C name of each struct type emitted.
    names: HashMap<TypeId, String>,
    used: HashSet<String>,
    out: String,
}

/// How a field of type `ty` is declared: the type before the name, and
/// the array dimensions after it.
struct Decl {
    base: String,
    dims: String,
}

impl Gen<'_> {
    /// The C scalar type of `ty`, or `None` for one C has no such type of.
    fn scalar(&self, ty: TypeId) -> Option<String> {
        let t = self.d.get(ty);
        let KindDesc::Scalar(s) = t.kind else {
            return None;
        };
        let int = |signed: bool| match (t.size, signed) {
            (1, false) => Some("uint8_t"),
            (2, false) => Some("uint16_t"),
            (4, false) => Some("uint32_t"),
            (8, false) => Some("uint64_t"),
            (1, true) => Some("int8_t"),
            (2, true) => Some("int16_t"),
            (4, true) => Some("int32_t"),
            (8, true) => Some("int64_t"),
            _ => None,
        };
        let c = match s {
            Scalar::Unsigned | Scalar::NonZeroUnsigned => int(false)?.to_owned(),
            Scalar::Signed | Scalar::NonZeroSigned => int(true)?.to_owned(),
            Scalar::Char => "uint32_t".to_owned(),
            Scalar::Bool => "bool".to_owned(),
            Scalar::Float if t.size == 4 => "float".to_owned(),
            Scalar::Float if t.size == 8 => "double".to_owned(),
            Scalar::AtomicUnsigned => format!("_Atomic {}", int(false)?),
            Scalar::AtomicSigned => format!("_Atomic {}", int(true)?),
            Scalar::AtomicBool => "_Atomic bool".to_owned(),
            _ => return None,
        };
        Some(c)
    }

    fn decl(&mut self, ty: TypeId) -> Decl {
        let t = self.d.get(ty);
        match &t.kind {
            KindDesc::Array { element, len } => {
                let inner = self.decl(*element);
                Decl {
                    base: inner.base,
                    dims: format!("[{len}]{}", inner.dims),
                }
            }
            KindDesc::Scalar(_) => match self.scalar(ty) {
                Some(base) => Decl {
                    base,
                    dims: String::new(),
                },
                None => Decl {
                    base: "unsigned char".into(),
                    dims: format!("[{}]", t.size),
                },
            },
            KindDesc::Enum { repr, .. } => {
                let signed = *repr == Scalar::Signed;
                let base = match (t.size, signed) {
                    (1, false) => "uint8_t",
                    (2, false) => "uint16_t",
                    (4, false) => "uint32_t",
                    (8, false) => "uint64_t",
                    (1, true) => "int8_t",
                    (2, true) => "int16_t",
                    (4, true) => "int32_t",
                    (8, true) => "int64_t",
                    _ => {
                        return Decl {
                            base: "unsigned char".into(),
                            dims: format!("[{}]", t.size),
                        }
                    }
                };
                Decl {
                    base: base.into(),
                    dims: String::new(),
                }
            }
            _ => Decl {
                base: format!("struct {}", self.names[&ty]),
                dims: String::new(),
            },
        }
    }

    /// Emits the definitions `ty` needs, then its own (structs and library
    /// types; enums as constants), once each, in dependency order.
    fn emit(&mut self, ty: TypeId, seen: &mut HashSet<TypeId>) {
        if !seen.insert(ty) {
            return;
        }
        let t = self.d.get(ty).clone();
        match &t.kind {
            KindDesc::Array { element, .. } => self.emit(*element, seen),
            KindDesc::Enum { repr, variants } => {
                let name = self.unique(&t.name);
                let _ = writeln!(self.out, "// enum {}: its discriminants", quoted(&t.name));
                for v in variants {
                    let value = if *repr == Scalar::Signed {
                        format!("{}", v.value as i128)
                    } else {
                        format!("{}u", v.value)
                    };
                    let _ = writeln!(self.out, "#define {name}_{} ({value})", ident(&v.name));
                }
                self.out.push('\n');
            }
            // Zero-sized: no C definition, and never a member.
            KindDesc::Struct { .. } | KindDesc::Library { .. } if t.size == 0 => {}
            KindDesc::Struct { fields, .. } | KindDesc::Library { fields, .. } => {
                for f in fields {
                    self.emit(f.ty, seen);
                }
                let name = self.unique(&t.name);
                self.names.insert(ty, name.clone());
                let what = match &t.kind {
                    KindDesc::Library { protocol, .. } => {
                        format!("library type {} ({})", quoted(&t.name), quoted(protocol))
                    }
                    _ => format!("struct {}", quoted(&t.name)),
                };
                let _ = writeln!(
                    self.out,
                    "// {what}: {} bytes, aligned to {}",
                    t.size, t.align
                );
                let _ = writeln!(self.out, "struct {name} {{");
                let mut at = 0u64;
                let mut pads = 0;
                let mut members = Vec::new();
                let mut first = true;
                let mut names = HashSet::new();
                let typed: Vec<_> = fields
                    .iter()
                    .filter(|f| self.d.get(f.ty).size > 0)
                    .cloned()
                    .collect();
                if typed.is_empty() {
                    // Opaque: its bytes, aligned as the type is.
                    let _ = writeln!(
                        self.out,
                        "    alignas({}) unsigned char _shm_bytes[{}];",
                        t.align,
                        t.size.max(1)
                    );
                }
                for f in &typed {
                    let ft = self.d.get(f.ty);
                    if f.offset > at {
                        let _ = writeln!(
                            self.out,
                            "    unsigned char _shm_pad{pads}[{}];",
                            f.offset - at
                        );
                        pads += 1;
                    }
                    let decl = self.decl(f.ty);
                    let mut member = ident(&f.name);
                    while !names.insert(member.clone()) {
                        member.push('_');
                    }
                    // The first member carries the struct's alignment when
                    // the members' own would be less.
                    let align = if first {
                        t.align.max(ft.align)
                    } else {
                        ft.align
                    };
                    let alignas = if align >= 8 {
                        format!("alignas({align}) ")
                    } else {
                        String::new()
                    };
                    let note = if f.access == shm_runtime::layout::Access::Protocol {
                        " // written under the type's protocol"
                    } else {
                        ""
                    };
                    let _ = writeln!(
                        self.out,
                        "    {alignas}{} {member}{};{note}",
                        decl.base, decl.dims
                    );
                    members.push((member, f.offset));
                    at = f.offset + ft.size;
                    first = false;
                }
                if !typed.is_empty() && at < t.size {
                    let _ = writeln!(
                        self.out,
                        "    unsigned char _shm_pad{pads}[{}];",
                        t.size - at
                    );
                }
                let _ = writeln!(self.out, "}};");
                let _ = writeln!(
                    self.out,
                    "_Static_assert(sizeof(struct {name}) == {}, \"size of {name}\");",
                    t.size
                );
                let _ = writeln!(
                    self.out,
                    "_Static_assert(alignof(struct {name}) == {}, \"alignment of {name}\");",
                    t.align
                );
                for (member, offset) in members {
                    let _ = writeln!(
                        self.out,
                        "_Static_assert(offsetof(struct {name}, {member}) == {offset}, \"offset of {name}.{member}\");"
                    );
                }
                self.out.push('\n');
            }
            _ => {}
        }
    }

    /// A C name for a type named `name`, unique in the header.
    fn unique(&mut self, name: &str) -> String {
        let base = ident(name);
        let mut candidate = base.clone();
        let mut n = 2;
        while !self.used.insert(candidate.clone()) {
            candidate = format!("{base}_{n}");
            n += 1;
        }
        candidate
    }
}

/// The C header for a description (`payload` the segment's payload facts).
pub fn generate(
    d: &Description,
    payload: &shm_runtime::segment::inspect::PayloadInfo,
    what: &str,
) -> Result<String, String> {
    let root = d.root();
    if d.get(root).size == 0 {
        return Err(format!(
            "{what} holds a zero-sized type, which has no C definition"
        ));
    }
    let mut g = Gen {
        d,
        names: HashMap::new(),
        used: HashSet::new(),
        out: String::new(),
    };
    let mut seen = HashSet::new();
    g.emit(root, &mut seen);
    let decl = g.decl(root);
    let body = std::mem::take(&mut g.out);
    let guard = "SHM_SEGMENT_LAYOUT_H";
    let mut out = String::new();
    let _ = writeln!(
        out,
        "// Generated by shm-tool header from {}.",
        quoted(what)
    );
    let _ = writeln!(
        out,
        "// Payload type {} ({}), fingerprint {}.",
        quoted(&payload.type_name),
        if payload.slice {
            "a slice"
        } else {
            "one value"
        },
        payload.fingerprint
    );
    let _ = writeln!(
        out,
        "// Map the object, check the header's state word (offset 16: ready is 2 in its high\n\
         // 32 bits) and fingerprint (offset 24), then read the payload at SHM_PAYLOAD_OFFSET.\n\
         // Plain fields are written at creation only; atomics are written concurrently\n\
         // (load them with atomic_load_explicit); locks and SeqLocks follow shm-runtime's\n\
         // protocols, which this header does not implement."
    );
    let _ = writeln!(out, "#ifndef {guard}\n#define {guard}\n");
    out.push_str(
        "#include <stdalign.h>\n#include <stdatomic.h>\n#include <stdbool.h>\n\
         #include <stddef.h>\n#include <stdint.h>\n\n",
    );
    let _ = writeln!(
        out,
        "#define SHM_PAYLOAD_OFFSET {}u",
        payload.payload_offset
    );
    let _ = writeln!(out, "#define SHM_PAYLOAD_ELEMENTS {}u", payload.len);
    let _ = writeln!(out, "#define SHM_PAYLOAD_BYTES {}u", payload.payload_bytes);
    let _ = writeln!(
        out,
        "#define SHM_FINGERPRINT UINT64_C({:#018x})\n",
        payload.fingerprint.as_u64()
    );
    out.push_str(&body);
    if decl.dims.is_empty() {
        let _ = writeln!(
            out,
            "// The payload{}.\ntypedef {} shm_payload_t;",
            if payload.slice {
                ": SHM_PAYLOAD_ELEMENTS of them"
            } else {
                ""
            },
            decl.base
        );
    } else {
        let _ = writeln!(
            out,
            "// The payload{}.\ntypedef {} shm_payload_t{};",
            if payload.slice {
                ": SHM_PAYLOAD_ELEMENTS of them"
            } else {
                ""
            },
            decl.base,
            decl.dims
        );
    }
    let root_t = d.get(root);
    let _ = writeln!(
        out,
        "_Static_assert(sizeof(shm_payload_t) == {}, \"size of the payload type\");",
        root_t.size
    );
    let _ = writeln!(
        out,
        "_Static_assert(alignof(shm_payload_t) == {}, \"alignment of the payload type\");",
        root_t.align
    );
    let _ = writeln!(out, "\n#endif // {guard}");
    Ok(out)
}

pub fn run(args: HeaderArgs) -> Result<(), Fail> {
    let target = args.target.target();
    let p = prepare(&target)?;
    let text = generate(&p.description, &p.payload, &p.what).map_err(|e| Fail(Some(e), 1))?;
    print!("{text}");
    Ok(())
}
