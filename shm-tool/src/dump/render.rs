//! Printing a dump's snapshot: the value as indented text (short values on
//! one line), or as JSON (documented in the README).

use super::{Holder, Value};
use serde_json::{json, Map, Value as Json};

fn group(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn holder_text(h: &Holder) -> String {
    match h {
        Holder::Free => "none (unlocked)".into(),
        Holder::Pid(pid, true) => format!("pid {pid} (alive)"),
        Holder::Pid(pid, false) => format!("pid {pid} (dead)"),
        Holder::Unknown(why) => format!("<{why}>"),
    }
}

/// The value on one line, if it fits in `width` columns.
fn inline(v: &Value) -> Option<String> {
    Some(match v {
        Value::Unit => "()".into(),
        Value::Unsigned(n) => n.to_string(),
        Value::Signed(n) => n.to_string(),
        Value::Float(f) => format!("{f:?}"),
        Value::Bool(b) => b.to_string(),
        Value::BadBool(b) => format!("<invalid bool {b:#04x}>"),
        Value::Char(c) => format!("{c:?}"),
        Value::BadChar(c) => format!("<invalid char {c:#x}>"),
        Value::Variant(name) => name.clone(),
        Value::BadVariant(n) => format!("<invalid discriminant {n}>"),
        Value::Text(s) => format!("{s:?}"),
        Value::RelPtr(None) => "RelPtr(null)".into(),
        Value::RelPtr(Some(n)) => format!("RelPtr({n:+} bytes from itself)"),
        Value::Opaque { name, bytes, len } => {
            let hex: String = bytes.iter().map(|b| format!("{b:02x}")).collect();
            let more = if (bytes.len() as u64) < *len {
                "…"
            } else {
                ""
            };
            format!("<opaque `{name}`, {len} bytes: {hex}{more}>")
        }
        Value::NotRead(why) => format!("<{why}>"),
        Value::Error(why) => format!("<error: {why}>"),
        Value::Array(items, total) => {
            let parts: Option<Vec<String>> = items.iter().map(inline).collect();
            let mut s = parts?.join(", ");
            let more = total - items.len() as u64;
            if more > 0 {
                s.push_str(&format!(", … {} more", group(more)));
            }
            let s = format!("[{s}]");
            if s.len() > 100 {
                return None;
            }
            s
        }
        Value::Struct(name, fields) => {
            let parts: Option<Vec<String>> = fields
                .iter()
                .map(|(k, v)| inline(v).map(|v| format!("{k}: {v}")))
                .collect();
            let s = format!("{name} {{ {} }}", parts?.join(", "));
            if s.len() > 100 {
                return None;
            }
            s
        }
        Value::Mutex { .. } | Value::SeqLock(_) => return None,
    })
}

/// Writes `v` at `indent` (the first line already started).
pub(super) fn text(out: &mut String, v: &Value, indent: usize) {
    let pad = "  ".repeat(indent + 1);
    let close = "  ".repeat(indent);
    if let Some(s) = inline(v) {
        out.push_str(&s);
        return;
    }
    match v {
        Value::Struct(name, fields) => {
            out.push_str(&format!("{name} {{\n"));
            for (k, f) in fields {
                out.push_str(&format!("{pad}{k}: "));
                text(out, f, indent + 1);
                out.push('\n');
            }
            out.push_str(&format!("{close}}}"));
        }
        Value::Array(items, total) => {
            out.push_str("[\n");
            for item in items {
                out.push_str(&pad);
                text(out, item, indent + 1);
                out.push_str(",\n");
            }
            let more = total - items.len() as u64;
            if more > 0 {
                out.push_str(&format!("{pad}… {} more\n", group(more)));
            }
            out.push_str(&format!("{close}]"));
        }
        Value::Mutex {
            holder,
            inconsistent,
            locked_read,
            value,
        } => {
            out.push_str("ShmMutex {\n");
            out.push_str(&format!("{pad}holder: {}\n", holder_text(holder)));
            if *inconsistent {
                out.push_str(&format!(
                    "{pad}inconsistent: true (a holder died; mark_consistent not called)\n"
                ));
            }
            let label = if *locked_read {
                "value (read under the lock)"
            } else {
                "value (unlocked read, may be torn)"
            };
            out.push_str(&format!("{pad}{label}: "));
            text(out, value, indent + 1);
            out.push_str(&format!("\n{close}}}"));
        }
        Value::SeqLock(value) => {
            out.push_str(match **value {
                Value::NotRead(_) | Value::Error(_) => "SeqLock { value: ",
                _ => "SeqLock { value (consistent read): ",
            });
            text(out, value, indent);
            out.push_str(" }");
        }
        _ => unreachable!("every other value is inline"),
    }
}

fn number_u(n: u128) -> Json {
    u64::try_from(n).map_or_else(|_| Json::String(n.to_string()), Json::from)
}

/// The JSON of a value (documented in the README).
pub(super) fn to_json(v: &Value) -> Json {
    match v {
        Value::Unit => Json::Null,
        Value::Unsigned(n) => number_u(*n),
        Value::Signed(n) => {
            i64::try_from(*n).map_or_else(|_| Json::String(n.to_string()), Json::from)
        }
        Value::Float(f) => serde_json::Number::from_f64(*f)
            .map_or_else(|| Json::String(format!("{f:?}")), Json::Number),
        Value::Bool(b) => Json::Bool(*b),
        Value::BadBool(b) => json!({ "invalid_bool": b }),
        Value::Char(c) => Json::String(c.to_string()),
        Value::BadChar(c) => json!({ "invalid_char": c }),
        Value::Variant(name) => Json::String(name.clone()),
        Value::BadVariant(n) => json!({ "invalid_discriminant": number_u(*n) }),
        Value::Text(s) => Json::String(s.clone()),
        Value::RelPtr(n) => json!({ "rel_ptr": n }),
        Value::Opaque { name, bytes, len } => json!({
            "opaque": name,
            "len": len,
            "hex": bytes.iter().map(|b| format!("{b:02x}")).collect::<String>(),
        }),
        Value::NotRead(why) => json!({ "not_read": why }),
        Value::Error(why) => json!({ "error": why }),
        Value::Array(items, total) => {
            let items: Vec<Json> = items.iter().map(to_json).collect();
            if *total == items.len() as u64 {
                Json::Array(items)
            } else {
                json!({ "len": total, "first": items })
            }
        }
        Value::Struct(_, fields) => {
            let mut map = Map::new();
            for (k, f) in fields {
                map.insert(k.clone(), to_json(f));
            }
            Json::Object(map)
        }
        Value::Mutex {
            holder,
            inconsistent,
            locked_read,
            value,
        } => {
            let mut map = Map::new();
            let (pid, alive) = match holder {
                Holder::Free => (Json::Null, Json::Null),
                Holder::Pid(pid, alive) => (Json::from(*pid), Json::Bool(*alive)),
                Holder::Unknown(why) => (json!({ "not_read": why }), Json::Null),
            };
            map.insert("locked".into(), Json::Bool(!matches!(holder, Holder::Free)));
            map.insert("holder_pid".into(), pid);
            map.insert("holder_alive".into(), alive);
            map.insert("inconsistent".into(), Json::Bool(*inconsistent));
            map.insert(
                "read".into(),
                Json::String(
                    if *locked_read {
                        "under_lock"
                    } else {
                        "unlocked_may_be_torn"
                    }
                    .into(),
                ),
            );
            map.insert("value".into(), to_json(value));
            Json::Object(map)
        }
        Value::SeqLock(value) => json!({ "value": to_json(value) }),
    }
}
