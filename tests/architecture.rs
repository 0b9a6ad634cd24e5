//! The architecture of `shm-runtime/src`, checked from its source: no import
//! circle between files, no import from a lower floor back up, no import
//! sideways between wings of one floor (unless listed with its reason), and
//! no file over [`MAX_LINES`] lines of non-test code (unless listed, with its
//! size, as still to be split).
//!
//! The check reads the source tree with a small lexer (comments, doc
//! comments, strings and character literals are dropped, so doc links and
//! messages are not imports) and resolves, file by file, every path that
//! names something of the crate: `use` trees (`crate::`, `super::`,
//! `self::`, `shm_runtime::`, grouped, `self` in groups, `as` renames, globs,
//! `pub use` re-exports, names a module has in scope), and paths inline in
//! code, types and attributes (`crate::a::b::f()`, `super::x::Y`). `mod x;`
//! is found as `x.rs` or `x/mod.rs` (or its `#[path]`), inline `mod x { .. }`
//! blocks are modules of their file. An edge runs from the file holding the
//! path to the file defining the module the path ends in (for an item, the
//! module that defines it; through re-exports, to where the item is
//! defined). A `mod x;` declaration itself is not an edge: a parent holds its
//! children, it does not depend on them.
//!
//! Test code is excluded: every item under a `#[cfg(..)]` that requires
//! `test` (`#[cfg(test)]`, `#[cfg(all(test, loom))]`, not `cfg(not(test))`),
//! from its attribute to the end of the item (the matching `}` of its
//! block, or its `;`), so an inline `#[cfg(test)] mod tests { .. }` and a
//! `#[cfg(test)] mod tests;` file alike.
//!
//! `cargo test --test architecture -- --nocapture` prints the whole graph as
//! a sorted edge list and the non-test line count of every file.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

/// Files larger than this (non-test lines) are to be split.
const MAX_LINES: usize = 700;

/// The floors, lowest first: a file may import from its own floor (within
/// its wing) and from the floors below, never from above. Each entry is a
/// file, or a directory (ending in `/`), of `shm-runtime/src`; the longest
/// entry that matches a file decides. (floor, wing, path, reason)
const FLOORS: &[(u8, &str, &str, &str)] = &[
    // 0: the ground, what everything uses.
    (
        0,
        "ground",
        "error.rs",
        "the error type every fallible function returns",
    ),
    (
        0,
        "ground",
        "fingerprint.rs",
        "the type fingerprint hash, built by layout",
    ),
    (
        0,
        "ground",
        "layout.rs",
        "the structural layout and validity check of every type",
    ),
    (
        0,
        "ground",
        "layout/",
        "layout's parts: the description a tool reads",
    ),
    (
        0,
        "ground",
        "shared_safe.rs",
        "the trait every shared type implements",
    ),
    (
        0,
        "ground",
        "platform/",
        "the OS: wait/wake, thread ids, start times, namespaces",
    ),
    (
        0,
        "ground",
        "liveness.rs",
        "who am I, and is that process alive (locks, queue, header)",
    ),
    (
        0,
        "ground",
        "init.rs",
        "what a view is made from: the Init values and Payload shapes",
    ),
    (
        0,
        "ground",
        "process.rs",
        "fork and the fork barrier, which the typed view holds too",
    ),
    // 1: mappings of memory, which know nothing of names or types.
    (
        1,
        "map",
        "map.rs",
        "a mapping: mmap, its options and its unmap",
    ),
    (
        1,
        "map",
        "sigbus.rs",
        "the SIGBUS handler that guards a mapping's accesses",
    ),
    // 2: the typed view over a mapping.
    (
        2,
        "view",
        "shared.rs",
        "Shared<T>: the typed view of a mapping",
    ),
    (
        2,
        "view",
        "volatile/",
        "Volatile<T>: the view of memory that others write",
    ),
    // 3, 4: what the segment backends share, then the backends, one wing
    // each (nothing runs between them).
    (
        3,
        "segment",
        "segment/object.rs",
        "what every backend opens: an OS object, its identity",
    ),
    (
        4,
        "segment-posix",
        "segment/posix.rs",
        "the POSIX shm backend",
    ),
    (4, "segment-file", "segment/file.rs", "the file backend"),
    (4, "segment-sysv", "segment/sysv.rs", "the System V backend"),
    // 5: the shared-memory types and the locks, side by side.
    (5, "fixed", "fixed/", "fixed-capacity containers"),
    (
        5,
        "fixed",
        "rel_ptr.rs",
        "RelPtr: an offset, a fixed-layout type like FixedVec",
    ),
    (
        5,
        "fixed",
        "pod_field.rs",
        "PodField: a foreign Pod type as a field",
    ),
    (5, "sync", "sync/", "process-shared locks and waits"),
    // 6: what is built on the locks' wait/wake and read paths.
    (
        6,
        "queue",
        "queue/",
        "the process-shared queue, on sync's waits",
    ),
    (
        6,
        "monitor",
        "monitor/",
        "the read-only view, which reads SeqLocks by their protocol",
    ),
    // 7: named segments, which open every view and inspect every type.
    (
        7,
        "segment",
        "segment/",
        "named segments: header, open/create, inspection",
    ),
    // 8: the crate root on top.
    (
        8,
        "root",
        "lib.rs",
        "the crate root: declarations and re-exports",
    ),
    (
        8,
        "root",
        "private.rs",
        "support of derive-generated code, and segment's test hooks",
    ),
];

/// Imports between different wings of one floor that are allowed, each
/// with its reason: (from wing, to wing, reason).
const SIDEWAYS: &[(&str, &str, &str)] = &[];

/// Edges that break the rules but sit in files that another change owns,
/// each with its reason; the check fails when one has gone, so that the
/// list only shrinks: (from, to, reason).
const EXCEPTIONS: &[(&str, &str, &str)] = &[];

/// Files over [`MAX_LINES`] non-test lines that are still to be split, with
/// their current size: the check fails when one grows, or has become small
/// enough to leave the list.
const TO_SPLIT: &[(&str, usize)] = &[];

// ---------------------------------------------------------------------------
// Lexer

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    Ident(String),
    /// `::`
    Path,
    Punct(char),
    /// A string literal's contents (for `#[path = ".."]`).
    Str(String),
    /// A number, character literal or lifetime.
    Lit,
}

#[derive(Clone, Debug)]
struct Token {
    tok: Tok,
    line: usize,
}

/// The tokens of `src`, without comments; strings keep their raw contents.
fn lex(src: &str) -> Vec<Token> {
    let c: Vec<char> = src.chars().collect();
    let mut out = Vec::new();
    let mut i = 0;
    let mut line = 1;
    let at = |i: usize| c.get(i).copied().unwrap_or('\0');
    while i < c.len() {
        let ch = c[i];
        if ch == '\n' {
            line += 1;
            i += 1;
        } else if ch.is_whitespace() {
            i += 1;
        } else if ch == '/' && at(i + 1) == '/' {
            while i < c.len() && c[i] != '\n' {
                i += 1;
            }
        } else if ch == '/' && at(i + 1) == '*' {
            let mut depth = 0;
            while i < c.len() {
                if c[i] == '/' && at(i + 1) == '*' {
                    depth += 1;
                    i += 2;
                } else if c[i] == '*' && at(i + 1) == '/' {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    if c[i] == '\n' {
                        line += 1;
                    }
                    i += 1;
                }
            }
        } else if ch == '"' {
            let start = line;
            let mut s = String::new();
            i += 1;
            while i < c.len() && c[i] != '"' {
                if c[i] == '\\' {
                    s.push(c[i]);
                    i += 1;
                }
                if c[i] == '\n' {
                    line += 1;
                }
                s.push(c[i]);
                i += 1;
            }
            i += 1;
            out.push(Token {
                tok: Tok::Str(s),
                line: start,
            });
        } else if ch == '\'' {
            if at(i + 1) == '\\' {
                // An escaped character literal ('\'', '\n', '\u{..}'): past
                // the escaped character, up to the closing quote.
                i += 3;
                while i < c.len() && c[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if at(i + 2) == '\'' {
                i += 3;
            } else {
                // A lifetime or label.
                i += 1;
                while at(i).is_alphanumeric() || at(i) == '_' {
                    i += 1;
                }
            }
            out.push(Token {
                tok: Tok::Lit,
                line,
            });
        } else if ch.is_ascii_digit() {
            while at(i).is_alphanumeric() || at(i) == '_' {
                i += 1;
            }
            out.push(Token {
                tok: Tok::Lit,
                line,
            });
        } else if ch.is_alphabetic() || ch == '_' {
            let start = i;
            while at(i).is_alphanumeric() || at(i) == '_' {
                i += 1;
            }
            let word: String = c[start..i].iter().collect();
            let raw_prefix = matches!(word.as_str(), "r" | "br" | "cr");
            if raw_prefix && (at(i) == '"' || (at(i) == '#' && matches!(at(i + 1), '"' | '#'))) {
                // A raw string: r"..", r#".."#, ...
                let mut hashes = 0;
                while at(i) == '#' {
                    hashes += 1;
                    i += 1;
                }
                i += 1;
                let start_line = line;
                let mut s = String::new();
                loop {
                    if i >= c.len() {
                        break;
                    }
                    if c[i] == '"' && (1..=hashes).all(|k| at(i + k) == '#') {
                        i += 1 + hashes;
                        break;
                    }
                    if c[i] == '\n' {
                        line += 1;
                    }
                    s.push(c[i]);
                    i += 1;
                }
                out.push(Token {
                    tok: Tok::Str(s),
                    line: start_line,
                });
            } else if matches!(word.as_str(), "b" | "c") && at(i) == '"' {
                // b".." or c"..": the string itself comes next round.
            } else if matches!(word.as_str(), "b") && at(i) == '\'' {
                // b'x': the character literal comes next round.
            } else if word == "r" && at(i) == '#' {
                // A raw identifier, r#type.
                i += 1;
                let start = i;
                while at(i).is_alphanumeric() || at(i) == '_' {
                    i += 1;
                }
                let word: String = c[start..i].iter().collect();
                out.push(Token {
                    tok: Tok::Ident(word),
                    line,
                });
            } else {
                out.push(Token {
                    tok: Tok::Ident(word),
                    line,
                });
            }
        } else if ch == ':' && at(i + 1) == ':' {
            out.push(Token {
                tok: Tok::Path,
                line,
            });
            i += 2;
        } else {
            out.push(Token {
                tok: Tok::Punct(ch),
                line,
            });
            i += 1;
        }
    }
    out
}

fn is_ident(t: Option<&Token>, word: &str) -> bool {
    matches!(t, Some(Token { tok: Tok::Ident(w), .. }) if w == word)
}

fn is_punct(t: Option<&Token>, p: char) -> bool {
    matches!(t, Some(Token { tok: Tok::Punct(q), .. }) if *q == p)
}

fn ident(t: Option<&Token>) -> Option<&str> {
    match t {
        Some(Token {
            tok: Tok::Ident(w), ..
        }) => Some(w),
        _ => None,
    }
}

/// The index just past the group that opens at `i` (`(`, `[` or `{`).
fn skip_group(toks: &[Token], i: usize) -> usize {
    let mut depth = 0i32;
    let mut j = i;
    while j < toks.len() {
        match toks[j].tok {
            Tok::Punct('(' | '[' | '{') => depth += 1,
            Tok::Punct(')' | ']' | '}') => {
                depth -= 1;
                if depth == 0 {
                    return j + 1;
                }
            }
            _ => {}
        }
        j += 1;
    }
    j
}

/// The index just past the item that starts at `i`: its `;` at depth 0, or
/// the end of its first `{..}` block at depth 0.
fn skip_item(toks: &[Token], i: usize) -> usize {
    let mut j = i;
    while j < toks.len() {
        match toks[j].tok {
            Tok::Punct(';') => return j + 1,
            Tok::Punct('{') => return skip_group(toks, j),
            Tok::Punct('(' | '[') => j = skip_group(toks, j),
            Tok::Punct('}') => return j,
            _ => j += 1,
        }
    }
    j
}

/// Whether the attribute tokens (inside `#[..]`) are a `cfg` that requires
/// `test`: `test` appears, and not inside a `not(..)`.
fn cfg_requires_test(attr: &[Token]) -> bool {
    if !is_ident(attr.first(), "cfg") {
        return false;
    }
    let mut not_depth: Vec<i32> = Vec::new();
    let mut depth = 0;
    let mut k = 1;
    while k < attr.len() {
        match &attr[k].tok {
            Tok::Ident(w) if w == "not" && is_punct(attr.get(k + 1), '(') => {
                not_depth.push(depth + 1);
            }
            Tok::Ident(w) if w == "test" && not_depth.is_empty() => return true,
            Tok::Punct('(') => depth += 1,
            Tok::Punct(')') => {
                if not_depth.last() == Some(&depth) {
                    not_depth.pop();
                }
                depth -= 1;
            }
            _ => {}
        }
        k += 1;
    }
    false
}

// ---------------------------------------------------------------------------
// Model

/// A path as written: its segments (`crate`, `super`, `self`, names), and
/// whether it started with `::`.
type Segs = Vec<String>;
/// A module's path from the crate root (`["sync", "mutex"]`).
type ModPath = Vec<String>;

#[derive(Default, Debug)]
struct Module {
    file: String,
    children: BTreeSet<String>,
    /// Names brought in by `use` (and re-exported by `pub use`): the paths
    /// they stand for, as written in this module. One name may have several
    /// (a trait and its derive macro: `SharedSafe`), in different namespaces.
    bindings: BTreeMap<String, Vec<Segs>>,
    /// Sources of glob imports.
    globs: Vec<Segs>,
    /// Names of items defined here (functions, types, constants, macros).
    items: BTreeSet<String>,
}

/// A path of the crate named in a file: where it is, and what it says.
#[derive(Debug, Clone)]
struct Ref {
    file: String,
    line: usize,
    module: ModPath,
    path: Segs,
}

#[derive(Default, Debug)]
struct Crate {
    modules: BTreeMap<ModPath, Module>,
    refs: Vec<Ref>,
    /// Non-test lines per file.
    lines: BTreeMap<String, usize>,
    /// Files declared under a test cfg (not read).
    test_files: BTreeSet<String>,
}

/// A file to read: its path relative to the source root, the module it
/// is, and the directory its `mod x;` children live in.
struct Pending {
    file: String,
    module: ModPath,
    child_dir: String,
}

impl Crate {
    /// Reads the crate whose root file is `root/lib.rs`.
    fn read(root: &Path) -> Crate {
        Crate::from_files(&mut |file: &str| std::fs::read_to_string(root.join(file)).ok())
    }

    /// Builds the model from the files `source` gives (by path relative to
    /// the source root), starting at `lib.rs`.
    fn from_files(source: &mut dyn FnMut(&str) -> Option<String>) -> Crate {
        let mut krate = Crate::default();
        let mut queue = vec![Pending {
            file: "lib.rs".to_string(),
            module: Vec::new(),
            child_dir: String::new(),
        }];
        while let Some(p) = queue.pop() {
            let text = source(&p.file).unwrap_or_else(|| panic!("cannot read {}", p.file));
            krate.parse_file(&p, &text, source, &mut queue);
        }
        krate
    }

    fn parse_file(
        &mut self,
        p: &Pending,
        text: &str,
        source: &mut dyn FnMut(&str) -> Option<String>,
        queue: &mut Vec<Pending>,
    ) {
        let toks = lex(text);
        let total = text.lines().count();
        let mut test_lines: BTreeSet<usize> = BTreeSet::new();
        self.modules.entry(p.module.clone()).or_default().file = p.file.clone();
        // Scopes: (module path, child dir, brace depth inside it).
        let mut scopes: Vec<(ModPath, String, i32)> =
            vec![(p.module.clone(), p.child_dir.clone(), 0)];
        let mut depth = 0i32;
        let mut i = 0;
        let mut test_attr: Option<usize> = None; // line of a pending test cfg
        let mut path_attr: Option<String> = None;
        let mut item_start = true;
        while i < toks.len() {
            let (module, child_dir, scope_depth) = scopes.last().cloned().expect("a scope");
            let t = &toks[i];
            // Attributes.
            if is_punct(Some(t), '#') {
                let inner = is_punct(toks.get(i + 1), '!');
                let open = if inner { i + 2 } else { i + 1 };
                if is_punct(toks.get(open), '[') {
                    let end = skip_group(&toks, open);
                    let attr = &toks[open + 1..end.saturating_sub(1)];
                    if !inner {
                        if cfg_requires_test(attr) {
                            test_attr.get_or_insert(t.line);
                        }
                        if is_ident(attr.first(), "path") {
                            if let Some(Token {
                                tok: Tok::Str(s), ..
                            }) = attr.get(2)
                            {
                                path_attr = Some(s.clone());
                            }
                        }
                    }
                    // Paths inside attributes (`#[derive(crate::X)]`).
                    self.collect_inline(&p.file, &module, attr);
                    i = end;
                    continue;
                }
            }
            if let Some(first) = test_attr.take() {
                let end = skip_item(&toks, i);
                let last = toks[end.saturating_sub(1).max(i)].line;
                test_lines.extend(first..=last);
                if is_ident(Some(t), "mod") || is_ident(toks.get(i + 1), "mod") {
                    // A test module file is not read; note it.
                    let at = if is_ident(Some(t), "mod") { i } else { i + 1 };
                    if let (Some(name), true) =
                        (ident(toks.get(at + 1)), is_punct(toks.get(at + 2), ';'))
                    {
                        let file = path_attr
                            .take()
                            .map(|f| format!("{child_dir}{f}"))
                            .unwrap_or_else(|| {
                                module_file(&child_dir, name, source).unwrap_or_default()
                            });
                        self.test_files.insert(file);
                    }
                }
                path_attr = None;
                i = end;
                item_start = true;
                continue;
            }
            match &t.tok {
                Tok::Punct('{') => {
                    depth += 1;
                    item_start = true;
                    i += 1;
                }
                Tok::Punct('}') => {
                    depth -= 1;
                    if depth < scope_depth && scopes.len() > 1 {
                        scopes.pop();
                    }
                    item_start = true;
                    i += 1;
                }
                Tok::Punct(';') => {
                    item_start = true;
                    i += 1;
                }
                Tok::Ident(w) if w == "pub" => {
                    i += 1;
                    if is_punct(toks.get(i), '(') {
                        i = skip_group(&toks, i);
                    }
                }
                Tok::Ident(w) if w == "use" && item_start => {
                    let end = skip_item(&toks, i);
                    let mut leaves = Vec::new();
                    parse_use_tree(&toks[i + 1..end], &mut Vec::new(), &mut leaves);
                    let m = self.modules.entry(module.clone()).or_default();
                    for (path, bind, line) in leaves {
                        match bind {
                            Bind::Name(name) => {
                                m.bindings.entry(name).or_default().push(path.clone());
                            }
                            Bind::Glob => m.globs.push(path.clone()),
                            Bind::None => {}
                        }
                        self.refs.push(Ref {
                            file: p.file.clone(),
                            line,
                            module: module.clone(),
                            path,
                        });
                    }
                    path_attr = None;
                    item_start = true;
                    i = end;
                }
                Tok::Ident(w) if w == "mod" && item_start => {
                    let Some(name) = ident(toks.get(i + 1)).map(str::to_string) else {
                        i += 1;
                        continue;
                    };
                    let mut sub = module.clone();
                    sub.push(name.clone());
                    self.modules
                        .entry(module.clone())
                        .or_default()
                        .children
                        .insert(name.clone());
                    if is_punct(toks.get(i + 2), ';') {
                        let file = match path_attr.take() {
                            Some(f) => format!("{child_dir}{f}"),
                            None => module_file(&child_dir, &name, source).unwrap_or_else(|| {
                                panic!("no file for `mod {name};` in {}", p.file)
                            }),
                        };
                        let child_dir = match file.strip_suffix("mod.rs") {
                            Some(dir) => dir.to_string(),
                            None => format!("{}/", file.trim_end_matches(".rs")),
                        };
                        queue.push(Pending {
                            file,
                            module: sub,
                            child_dir,
                        });
                        i += 3;
                    } else {
                        // An inline module: a scope of this file.
                        let dir = format!("{child_dir}{name}/");
                        self.modules.entry(sub.clone()).or_default().file = p.file.clone();
                        depth += 1;
                        scopes.push((sub, dir, depth));
                        i += 3;
                    }
                    item_start = true;
                }
                Tok::Ident(w)
                    if matches!(
                        w.as_str(),
                        "fn" | "struct" | "enum" | "trait" | "type" | "const" | "static" | "union"
                    ) =>
                {
                    if depth == scope_depth {
                        if let Some(name) = ident(toks.get(i + 1)) {
                            let m = self.modules.entry(module.clone()).or_default();
                            m.items.insert(name.to_string());
                        }
                    }
                    path_attr = None;
                    item_start = false;
                    i += 1;
                }
                Tok::Ident(w) if w == "macro_rules" => {
                    if let Some(name) = ident(toks.get(i + 2)) {
                        self.modules
                            .entry(Vec::new())
                            .or_default()
                            .items
                            .insert(name.to_string());
                    }
                    i += 1;
                }
                _ => {
                    // A path inline in code: collect it from its start.
                    let end = inline_path_end(&toks, i);
                    if end > i {
                        self.collect_inline(&p.file, &module, &toks[i..end]);
                        i = end;
                    } else {
                        i += 1;
                    }
                    item_start = false;
                }
            }
        }
        self.lines.insert(p.file.clone(), total - test_lines.len());
    }

    /// Records the paths of the crate in `toks` (an attribute, or one path).
    fn collect_inline(&mut self, file: &str, module: &ModPath, toks: &[Token]) {
        let mut i = 0;
        while i < toks.len() {
            let end = inline_path_end(toks, i);
            if end > i {
                let mut path: Segs = Vec::new();
                let mut k = i;
                if matches!(toks[k].tok, Tok::Path) {
                    path.push("::".to_string());
                    k += 1;
                }
                while k < end {
                    if let Tok::Ident(w) = &toks[k].tok {
                        path.push(w.clone());
                    }
                    k += 1;
                }
                self.refs.push(Ref {
                    file: file.to_string(),
                    line: toks[i].line,
                    module: module.clone(),
                    path,
                });
                i = end;
            } else {
                i += 1;
            }
        }
    }
}

/// The end of the path `a::b::c` (or `::a::b`) that starts at `i`, or `i`
/// when none starts there: a path needs at least one `::` after a name, and
/// must not continue one (`x.a::b` is fine, `a::b` inside `x::a::b` is not).
fn inline_path_end(toks: &[Token], i: usize) -> usize {
    let prev_path = i > 0 && matches!(toks[i - 1].tok, Tok::Path);
    let lead = matches!(toks[i].tok, Tok::Path);
    if prev_path && !lead {
        return i;
    }
    if i > 0 && is_punct(toks.get(i - 1), '$') && !is_ident(toks.get(i), "crate") {
        return i;
    }
    let mut k = if lead { i + 1 } else { i };
    let mut segments = 0;
    while let Some(Tok::Ident(_)) = toks.get(k).map(|t| &t.tok) {
        segments += 1;
        k += 1;
        if matches!(toks.get(k).map(|t| &t.tok), Some(Tok::Path))
            && matches!(toks.get(k + 1).map(|t| &t.tok), Some(Tok::Ident(_)))
        {
            k += 1;
        } else {
            break;
        }
    }
    if segments >= 2 || (lead && segments >= 1) {
        k
    } else {
        i
    }
}

/// The file of `mod name;` whose children live in `dir`.
fn module_file(
    dir: &str,
    name: &str,
    source: &mut dyn FnMut(&str) -> Option<String>,
) -> Option<String> {
    [format!("{dir}{name}.rs"), format!("{dir}{name}/mod.rs")]
        .into_iter()
        .find(|f| source(f).is_some())
}

enum Bind {
    Name(String),
    Glob,
    None,
}

/// Expands a use tree (the tokens after `use`, up to its `;`) into its
/// leaves: (full path, the name it binds, line).
fn parse_use_tree(toks: &[Token], prefix: &mut Segs, out: &mut Vec<(Segs, Bind, usize)>) {
    let mut i = 0;
    let mut path = prefix.clone();
    let line = toks.first().map_or(0, |t| t.line);
    while i < toks.len() {
        match &toks[i].tok {
            Tok::Path if path.is_empty() && i == 0 => {
                path.push("::".to_string());
                i += 1;
            }
            Tok::Path => i += 1,
            Tok::Ident(w) if w == "as" => {
                let name = ident(toks.get(i + 1)).unwrap_or("_").to_string();
                let bind = if name == "_" {
                    Bind::None
                } else {
                    Bind::Name(name)
                };
                out.push((path.clone(), bind, toks[i].line));
                return;
            }
            Tok::Ident(w) if w == "self" && !path.is_empty() && i == 0 => {
                // `{self, ..}`: the prefix itself.
                let name = path.last().cloned().unwrap_or_default();
                if let Some(Tok::Ident(a)) = toks.get(i + 1).map(|t| &t.tok) {
                    if a == "as" {
                        i += 1;
                        continue;
                    }
                }
                out.push((path.clone(), Bind::Name(name), toks[i].line));
                return;
            }
            Tok::Ident(w) => {
                path.push(w.clone());
                i += 1;
            }
            Tok::Punct('*') => {
                out.push((path.clone(), Bind::Glob, toks[i].line));
                return;
            }
            Tok::Punct('{') => {
                let end = skip_group(toks, i);
                let inner = &toks[i + 1..end - 1];
                // Split at top-level commas.
                let mut start = 0;
                let mut d = 0;
                for (k, t) in inner.iter().enumerate() {
                    match t.tok {
                        Tok::Punct('{') => d += 1,
                        Tok::Punct('}') => d -= 1,
                        Tok::Punct(',') if d == 0 => {
                            if k > start {
                                parse_use_tree(&inner[start..k], &mut path.clone(), out);
                            }
                            start = k + 1;
                        }
                        _ => {}
                    }
                }
                if inner.len() > start {
                    parse_use_tree(&inner[start..], &mut path.clone(), out);
                }
                return;
            }
            Tok::Punct(';') => break,
            _ => i += 1,
        }
    }
    if path.len() > prefix.len() || !path.is_empty() {
        let name = path.last().cloned().unwrap_or_default();
        out.push((path, Bind::Name(name), line));
    }
}

// ---------------------------------------------------------------------------
// Resolution

/// What a path resolves to: the module it ends in (for an item, the module
/// defining it), and whether the path names that module itself.
#[derive(Debug, Clone, PartialEq)]
struct Target {
    module: ModPath,
    is_module: bool,
}

impl Crate {
    /// Resolves `path`, written in module `from`, to the module that defines
    /// what it names; `None` when it is not of this crate.
    fn resolve(&self, from: &ModPath, path: &[String], depth: usize) -> Option<Target> {
        if depth > 16 || path.is_empty() {
            return None;
        }
        let (start, rest): (ModPath, &[String]) = match path[0].as_str() {
            "crate" | "shm_runtime" => (Vec::new(), &path[1..]),
            "::" if path.get(1).map(String::as_str) == Some("shm_runtime") => {
                (Vec::new(), &path[2..])
            }
            "::" => return None,
            "self" => (from.clone(), &path[1..]),
            "super" => {
                let mut m = from.clone();
                let mut k = 0;
                while path.get(k).map(String::as_str) == Some("super") {
                    m.pop()?;
                    k += 1;
                }
                (m, &path[k..])
            }
            name => {
                // A name in scope in `from`: a child module, a binding or an
                // item of its own; anything else is another crate's.
                let m = self.modules.get(from)?;
                if !(m.children.contains(name)
                    || m.bindings.contains_key(name)
                    || m.items.contains(name))
                {
                    return None;
                }
                (from.clone(), path)
            }
        };
        self.walk(start, rest, depth)
    }

    fn walk(&self, mut cur: ModPath, rest: &[String], depth: usize) -> Option<Target> {
        for (k, seg) in rest.iter().enumerate() {
            let m = self.modules.get(&cur)?;
            if m.children.contains(seg) {
                cur.push(seg.clone());
                continue;
            }
            // The first of a name's bindings that is of this crate (the
            // others name another crate's macro or module).
            let bound = m.bindings.get(seg).into_iter().flatten();
            if let Some(target) = bound
                .filter_map(|b| self.resolve(&cur, b, depth + 1))
                .next()
            {
                if target.is_module {
                    cur = target.module;
                    continue;
                }
                return Some(target);
            }
            if m.items.contains(seg) {
                return Some(Target {
                    module: cur,
                    is_module: false,
                });
            }
            for glob in &m.globs {
                if let Some(source) = self.resolve(&cur, glob, depth + 1) {
                    if source.is_module {
                        if let Some(t) = self.walk(source.module, &rest[k..], depth + 1) {
                            if t.module != cur {
                                return Some(t);
                            }
                        }
                    }
                }
            }
            // Something this reader does not model (an enum variant, a
            // macro-made item): it belongs to this module.
            return Some(Target {
                module: cur,
                is_module: false,
            });
        }
        Some(Target {
            module: cur,
            is_module: true,
        })
    }

    /// The file → file edges, each with the lines it comes from.
    fn edges(&self) -> BTreeMap<(String, String), Vec<usize>> {
        let mut edges: BTreeMap<(String, String), Vec<usize>> = BTreeMap::new();
        for r in &self.refs {
            let Some(target) = self.resolve(&r.module, &r.path, 0) else {
                continue;
            };
            let Some(to) = self.modules.get(&target.module).map(|m| m.file.clone()) else {
                continue;
            };
            if to != r.file {
                let lines = edges.entry((r.file.clone(), to)).or_default();
                if !lines.contains(&r.line) {
                    lines.push(r.line);
                }
            }
        }
        edges
    }
}

// ---------------------------------------------------------------------------
// Rules

/// The floor and wing of `file`: the longest matching entry of `floors`.
fn floor_of<'a>(floors: &[(u8, &'a str, &str, &str)], file: &str) -> Option<(u8, &'a str)> {
    floors
        .iter()
        .filter(|(_, _, p, _)| *p == file || (p.ends_with('/') && file.starts_with(p)))
        .max_by_key(|(_, _, p, _)| p.len())
        .map(|(f, w, _, _)| (*f, *w))
}

/// The circles among `edges`, each as `a → b → .. → a` starting at its
/// smallest file: for every edge inside a group of files that reach each
/// other, the shortest circle through that edge (without repeats).
fn circles(edges: &BTreeSet<(String, String)>) -> Vec<Vec<String>> {
    let mut next: BTreeMap<&str, Vec<&str>> = BTreeMap::new();
    for (a, b) in edges {
        next.entry(a).or_default().push(b);
    }
    // The shortest path from `from` to `to`, breadth-first.
    let path = |from: &str, to: &str| -> Option<Vec<String>> {
        let mut back: BTreeMap<&str, &str> = BTreeMap::new();
        let mut todo = std::collections::VecDeque::from([from]);
        while let Some(n) = todo.pop_front() {
            if n == to {
                let mut out = vec![to.to_string()];
                let mut at = to;
                while at != from {
                    at = back[at];
                    out.push(at.to_string());
                }
                out.reverse();
                return Some(out);
            }
            for m in next.get(n).into_iter().flatten() {
                if *m != from && !back.contains_key(m) {
                    back.insert(m, n);
                    todo.push_back(m);
                }
            }
        }
        None
    };
    let mut out: BTreeSet<Vec<String>> = BTreeSet::new();
    for (a, b) in edges {
        let Some(mut circle) = path(b, a) else {
            continue;
        };
        // a → b → .. → a, rotated to start at its smallest file.
        circle.insert(0, a.clone());
        let smallest = (0..circle.len() - 1)
            .min_by_key(|&k| &circle[k])
            .unwrap_or(0);
        let mut rotated: Vec<String> = circle[smallest..circle.len() - 1].to_vec();
        rotated.extend_from_slice(&circle[..smallest]);
        rotated.push(rotated[0].clone());
        out.insert(rotated);
    }
    out.into_iter().collect()
}

/// What breaks the floors: one message per offending edge or circle.
fn violations(
    edges: &BTreeMap<(String, String), Vec<usize>>,
    floors: &[(u8, &str, &str, &str)],
    sideways: &[(&str, &str, &str)],
    exceptions: &[(&str, &str, &str)],
) -> Vec<String> {
    let mut out = Vec::new();
    let excepted = |a: &str, b: &str| exceptions.iter().any(|(x, y, _)| *x == a && *y == b);
    for ((a, b), lines) in edges {
        if excepted(a, b) {
            continue;
        }
        let (Some((fa, wa)), Some((fb, wb))) = (floor_of(floors, a), floor_of(floors, b)) else {
            out.push(format!(
                "{a} → {b}: a file without a floor (add it to FLOORS)"
            ));
            continue;
        };
        let at = lines
            .iter()
            .map(|l| format!("{a}:{l}"))
            .collect::<Vec<_>>()
            .join(", ");
        if fb > fa {
            out.push(format!(
                "upward import {a} (floor {fa}) → {b} (floor {fb}) at {at}"
            ));
        } else if fb == fa && wa != wb && !sideways.iter().any(|(x, y, _)| *x == wa && *y == wb) {
            out.push(format!(
                "sideways import {a} ({wa}, floor {fa}) → {b} ({wb}, floor {fb}) at {at}"
            ));
        }
    }
    let kept: BTreeSet<(String, String)> = edges
        .keys()
        .filter(|(a, b)| !excepted(a, b))
        .cloned()
        .collect();
    for circle in circles(&kept) {
        let mut msg = format!("import circle {}:", circle.join(" → "));
        for pair in circle.windows(2) {
            let lines = &edges[&(pair[0].clone(), pair[1].clone())];
            let _ = write!(msg, " {}:{}", pair[0], lines[0]);
        }
        out.push(msg);
    }
    for (a, b, _) in exceptions {
        if !edges.contains_key(&(a.to_string(), b.to_string())) {
            out.push(format!(
                "the exception {a} → {b} is gone: remove it from EXCEPTIONS"
            ));
        }
    }
    out
}

/// Files over the limit that are not listed, listed files that grew or
/// that are small enough now.
fn size_violations(lines: &BTreeMap<String, usize>, to_split: &[(&str, usize)]) -> Vec<String> {
    let mut out = Vec::new();
    for (file, &n) in lines {
        match to_split.iter().find(|(f, _)| f == file) {
            None if n > MAX_LINES => out.push(format!(
                "{file} has {n} non-test lines (more than {MAX_LINES}): split it"
            )),
            Some(_) if n <= MAX_LINES => out.push(format!(
                "{file} has {n} non-test lines now: remove it from TO_SPLIT"
            )),
            Some(&(_, listed)) if n > listed => out.push(format!(
                "{file} grew to {n} non-test lines (listed with {listed}): split it"
            )),
            _ => {}
        }
    }
    for (file, _) in to_split {
        if !lines.contains_key(*file) {
            out.push(format!("{file} is listed in TO_SPLIT but no longer exists"));
        }
    }
    out
}

fn source_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("shm-runtime/src")
}

/// Every `.rs` file under `dir`, relative to `root`.
fn rust_files(root: &Path, dir: &Path, out: &mut BTreeSet<String>) {
    for entry in std::fs::read_dir(dir).expect("source directory") {
        let path = entry.expect("directory entry").path();
        if path.is_dir() {
            rust_files(root, &path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            let rel = path.strip_prefix(root).expect("under root");
            out.insert(rel.to_string_lossy().replace('\\', "/"));
        }
    }
}

/// The crate's modules reach every source file (a file this check does not
/// read would escape it), test files being the ones declared under a test
/// cfg; and the graph, printed with `--nocapture`.
#[test]
#[cfg_attr(
    miri,
    ignore = "parses the whole source tree: slow under Miri, safe code"
)]
fn import_graph_has_no_circle_and_no_upward_edge() {
    let root = source_root();
    let krate = Crate::read(&root);
    let mut all = BTreeSet::new();
    rust_files(&root, &root, &mut all);
    let read: BTreeSet<String> = krate.lines.keys().cloned().collect();
    // Files of test modules, and the modules they declare.
    let unread: Vec<&String> =
        all.iter()
            .filter(|f| {
                !read.contains(*f)
                    && !krate.test_files.iter().any(|t| {
                        *f == t || f.starts_with(&format!("{}/", t.trim_end_matches(".rs")))
                    })
            })
            .collect();
    assert!(unread.is_empty(), "files no module declares: {unread:?}");

    let edges = krate.edges();
    let mut report = String::from("import graph of shm-runtime/src (file → file):\n");
    for ((a, b), lines) in &edges {
        let fa = floor_of(FLOORS, a).map_or("?".into(), |f| f.0.to_string());
        let fb = floor_of(FLOORS, b).map_or("?".into(), |f| f.0.to_string());
        let _ = writeln!(report, "  {a} [{fa}] → {b} [{fb}]  (line {})", lines[0]);
    }
    report.push_str("non-test lines per file:\n");
    for (file, n) in &krate.lines {
        let _ = writeln!(report, "  {n:5}  {file}");
    }
    println!("{report}");

    let bad = violations(&edges, FLOORS, SIDEWAYS, EXCEPTIONS);
    assert!(
        bad.is_empty(),
        "the architecture is broken:\n  {}",
        bad.join("\n  ")
    );
}

/// No source file over `MAX_LINES` non-test lines, except the listed ones.
#[test]
#[cfg_attr(
    miri,
    ignore = "parses the whole source tree: slow under Miri, safe code"
)]
fn files_stay_small() {
    let krate = Crate::read(&source_root());
    let bad = size_violations(&krate.lines, TO_SPLIT);
    assert!(bad.is_empty(), "{}", bad.join("\n"));
}

// ---------------------------------------------------------------------------
// Self-tests of the reader, on small crates held in strings.

fn crate_of(files: &[(&str, &str)]) -> Crate {
    let files: BTreeMap<String, String> = files
        .iter()
        .map(|(p, s)| (p.to_string(), s.to_string()))
        .collect();
    Crate::from_files(&mut |f: &str| files.get(f).cloned())
}

fn edge_set(krate: &Crate) -> BTreeSet<(String, String)> {
    krate.edges().into_keys().collect()
}

fn pair(a: &str, b: &str) -> (String, String) {
    (a.to_string(), b.to_string())
}

#[test]
fn use_crate_super_self_and_groups_resolve_to_files() {
    let krate = crate_of(&[
        ("lib.rs", "mod a;\nmod b;\nmod c;\npub use a::Thing;\n"),
        ("a.rs", "pub struct Thing;\n"),
        ("b/mod.rs", "mod x;\nmod y;\nuse self::x::X;\n"),
        (
            "b/x.rs",
            "pub struct X;\nuse super::super::c::{d::{D, E}, C};\n",
        ),
        ("b/y.rs", "use super::x;\nuse crate::Thing as T;\n"),
        ("c/mod.rs", "pub mod d;\npub struct C;\n"),
        ("c/d.rs", "pub struct D; pub struct E;\n"),
    ]);
    let edges = edge_set(&krate);
    let want: BTreeSet<_> = [
        pair("lib.rs", "a.rs"),
        pair("b/mod.rs", "b/x.rs"),
        pair("b/x.rs", "c/d.rs"),
        pair("b/x.rs", "c/mod.rs"),
        pair("b/y.rs", "b/x.rs"),
        // Through lib.rs's re-export to where `Thing` is defined.
        pair("b/y.rs", "a.rs"),
    ]
    .into_iter()
    .collect();
    assert_eq!(edges, want);
}

#[test]
fn inline_paths_count_and_comments_strings_do_not() {
    let krate = crate_of(&[
        ("lib.rs", "mod a;\nmod b;\nmod c;\nmod d;\n"),
        ("a.rs", "pub fn f() {}\n"),
        (
            "b.rs",
            "// crate::c::g()\n/// [`crate::c::g`]\n/* crate::c::g /* nested */ crate::d::h */\n\
             fn run() { let s = \"crate::d::h\"; let r = r#\"crate::d::h\"#; \
             let c = '\\''; let d = b'\\''; crate::a::f(); }\n",
        ),
        (
            "c.rs",
            "pub fn g() {}\nfn t(x: super::a::T) -> Option<crate::d::H> { None }\n",
        ),
        ("d.rs", "#[derive(crate::a::Derive)]\npub struct H;\n"),
    ]);
    let edges = edge_set(&krate);
    let want: BTreeSet<_> = [
        pair("b.rs", "a.rs"),
        pair("c.rs", "a.rs"),
        pair("c.rs", "d.rs"),
        pair("d.rs", "a.rs"),
    ]
    .into_iter()
    .collect();
    assert_eq!(edges, want);
}

#[test]
fn bindings_reexports_and_shm_runtime_paths_are_followed() {
    let krate = crate_of(&[
        (
            "lib.rs",
            "extern crate self as shm_runtime;\nmod p;\nmod s;\nmod q;\n",
        ),
        ("p/mod.rs", "pub(crate) mod wait;\n"),
        ("p/wait.rs", "pub fn wake() {}\n"),
        (
            "s/mod.rs",
            "pub(crate) use crate::p::wait as futex;\nmod m;\n",
        ),
        // Through `sync::futex` (a re-export) to the platform's file.
        (
            "s/m.rs",
            "use super::futex::{self, wake};\nfn f() { futex::wake(); }\n",
        ),
        (
            "q.rs",
            "fn g() { ::shm_runtime::p::wait::wake(); shm_runtime::s::m::f(); }\n",
        ),
    ]);
    let edges = edge_set(&krate);
    let want: BTreeSet<_> = [
        pair("s/mod.rs", "p/wait.rs"),
        pair("s/m.rs", "p/wait.rs"),
        pair("q.rs", "p/wait.rs"),
        pair("q.rs", "s/m.rs"),
    ]
    .into_iter()
    .collect();
    assert_eq!(edges, want);
}

#[test]
fn test_code_is_excluded() {
    let krate = crate_of(&[
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "pub fn f() {}\n"),
        (
            "b.rs",
            "pub fn g() {}\n\n#[cfg(test)]\nmod tests {\n    use crate::a::f;\n}\n\
             #[cfg(all(test, loom))]\nmod loom_tests;\n#[cfg(not(test))]\nfn h() { crate::a::f() }\n",
        ),
    ]);
    // `b/loom_tests.rs` is never read (it does not exist here).
    let edges = edge_set(&krate);
    assert_eq!(edges, [pair("b.rs", "a.rs")].into_iter().collect());
    assert_eq!(edges_line(&krate, "b.rs", "a.rs"), vec![10]);
    // 10 lines, of which the 4 of `mod tests` and the 2 of `loom_tests`.
    assert_eq!(krate.lines["b.rs"], 4);
}

fn edges_line(krate: &Crate, a: &str, b: &str) -> Vec<usize> {
    krate.edges()[&pair(a, b)].clone()
}

#[test]
fn inline_modules_shift_super() {
    let krate = crate_of(&[
        ("lib.rs", "mod a;\nmod b;\n"),
        ("a.rs", "pub fn f() {}\n"),
        (
            "b.rs",
            "fn g() {}\nmod sys {\n    use super::g;\n    use super::super::a::f;\n}\n",
        ),
    ]);
    assert_eq!(
        edge_set(&krate),
        [pair("b.rs", "a.rs")].into_iter().collect()
    );
}

#[test]
fn a_circle_is_named() {
    let krate = crate_of(&[
        ("lib.rs", "mod a;\nmod b;\nmod c;\n"),
        ("a.rs", "use crate::b::B;\npub struct A;\n"),
        ("b.rs", "pub struct B;\nfn f() -> crate::c::C { todo!() }\n"),
        ("c.rs", "pub struct C;\nuse crate::a::A;\n"),
    ]);
    let floors = [
        (0, "w", "a.rs", "."),
        (0, "w", "b.rs", "."),
        (0, "w", "c.rs", "."),
    ];
    let bad = violations(&krate.edges(), &floors, &[], &[]);
    assert_eq!(
        bad,
        vec!["import circle a.rs → b.rs → c.rs → a.rs: a.rs:1 b.rs:2 c.rs:2"]
    );
}

#[test]
fn upward_and_sideways_edges_are_refused() {
    let krate = crate_of(&[
        ("lib.rs", "mod low;\nmod high;\nmod left;\nmod right;\n"),
        ("low.rs", "pub struct L;\n\nuse crate::high::H;\n"),
        ("high.rs", "pub struct H;\n"),
        ("left.rs", "pub fn l() { crate::right::r() }\n"),
        ("right.rs", "pub fn r() { crate::low::L; }\n"),
    ]);
    let floors = [
        (0, "g", "low.rs", "."),
        (1, "g", "high.rs", "."),
        (1, "left", "left.rs", "."),
        (1, "right", "right.rs", "."),
        (2, "root", "lib.rs", "."),
    ];
    let edges = krate.edges();
    let bad = violations(&edges, &floors, &[], &[]);
    assert_eq!(
        bad,
        vec![
            "sideways import left.rs (left, floor 1) → right.rs (right, floor 1) at left.rs:1",
            "upward import low.rs (floor 0) → high.rs (floor 1) at low.rs:3",
        ]
    );
    // Listed, the sideways edge passes; an exception that is gone fails.
    let bad = violations(
        &edges,
        &floors,
        &[("left", "right", ".")],
        &[("low.rs", "high.rs", ".")],
    );
    assert!(bad.is_empty(), "{bad:?}");
    let bad = violations(
        &edges,
        &floors,
        &[("left", "right", ".")],
        &[("high.rs", "low.rs", ".")],
    );
    assert_eq!(bad.len(), 2, "{bad:?}");
}

#[test]
fn the_split_list_only_shrinks() {
    let lines: BTreeMap<String, usize> = [
        ("big.rs".to_string(), 900),
        ("done.rs".to_string(), 300),
        ("new.rs".to_string(), 701),
    ]
    .into_iter()
    .collect();
    let bad = size_violations(
        &lines,
        &[("big.rs", 800), ("done.rs", 750), ("gone.rs", 999)],
    );
    assert_eq!(
        bad,
        vec![
            "big.rs grew to 900 non-test lines (listed with 800): split it",
            "done.rs has 300 non-test lines now: remove it from TO_SPLIT",
            "new.rs has 701 non-test lines (more than 700): split it",
            "gone.rs is listed in TO_SPLIT but no longer exists",
        ]
    );
}
