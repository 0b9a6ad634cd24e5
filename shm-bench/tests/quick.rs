//! Runs `shm-bench --quick --json FILE` and checks the JSON: every section
//! is there, and every row has a positive median and its ratio to its baseline.
#![cfg(target_os = "linux")]

use std::collections::BTreeMap;
use std::process::Command;

const SECTIONS: &[&str] = &[
    "field_access",
    "spin_latency",
    "blocking_latency",
    "lock_uncontended",
    "lock_contended",
    "lock_wait",
    "segment_lifecycle",
    "segment_create_sizes",
    "bulk_transfer",
    "first_touch",
    "queue_round_trip",
    "queue_throughput",
];

#[test]
#[cfg_attr(miri, ignore = "spawns the benchmark")]
fn quick_run_writes_every_section_with_positive_medians() {
    let path = std::env::temp_dir().join(format!("shm-bench-quick-{}.json", std::process::id()));
    let output = Command::new(env!("CARGO_BIN_EXE_shm-bench"))
        .args(["--quick", "--json"])
        .arg(&path)
        .output()
        .expect("run shm-bench");
    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        output.status.success(),
        "shm-bench failed: {}\n{stdout}\n{}",
        output.status,
        String::from_utf8_lossy(&output.stderr)
    );
    let text = std::fs::read_to_string(&path).expect("read the JSON file");
    let _ = std::fs::remove_file(&path);
    let json = Parser::new(&text).document();

    assert_eq!(json.get("config").and_then(Json::as_str), Some("quick"));
    let sections = json
        .get("sections")
        .and_then(Json::as_array)
        .expect("sections");
    let ids: Vec<&str> = sections
        .iter()
        .map(|s| s.get("id").and_then(Json::as_str).expect("section id"))
        .collect();
    assert_eq!(ids, SECTIONS);

    for section in sections {
        let id = section.get("id").and_then(Json::as_str).unwrap();
        assert!(stdout.contains(section.get("title").and_then(Json::as_str).unwrap()));
        let rows = section.get("rows").and_then(Json::as_array).expect("rows");
        assert!(rows.len() >= 2, "{id}: a baseline and a peer at least");
        let mut measured = 0;
        for row in rows {
            let name = row.get("name").and_then(Json::as_str).expect("row name");
            let baseline = row
                .get("baseline")
                .and_then(Json::as_str)
                .expect("baseline");
            let baseline_row = rows
                .iter()
                .find(|r| r.get("name").and_then(Json::as_str) == Some(baseline))
                .unwrap_or_else(|| panic!("{id}/{name}: no baseline row `{baseline}`"));
            match row.get("median") {
                Some(Json::Number(median)) => {
                    measured += 1;
                    assert!(*median > 0.0, "{id}/{name}: median {median}");
                    let samples = row.get("samples").and_then(Json::as_array).unwrap();
                    assert_eq!(samples.len(), 3, "{id}/{name}: one sample per repetition");
                    if let Some(Json::Number(base)) = baseline_row.get("median") {
                        let Some(Json::Number(ratio)) = row.get("ratio") else {
                            panic!("{id}/{name}: no ratio");
                        };
                        assert!((ratio - median / base).abs() <= 1e-6 * ratio.abs().max(1.0));
                    }
                    assert!(stdout.contains(name), "{id}/{name} is not in the table");
                }
                _ => panic!(
                    "{id}/{name}: no median: {:?}",
                    row.get("unavailable").and_then(Json::as_str)
                ),
            }
        }
        assert_eq!(measured, rows.len(), "{id}: every row is measured");
    }
}

/// Just enough JSON to read the report back.
#[derive(Debug)]
enum Json {
    Null,
    Bool(#[allow(dead_code)] bool),
    Number(f64),
    String(String),
    Array(Vec<Json>),
    Object(BTreeMap<String, Json>),
}

impl Json {
    fn get(&self, key: &str) -> Option<&Json> {
        match self {
            Json::Object(map) => map.get(key),
            _ => None,
        }
    }
    fn as_str(&self) -> Option<&str> {
        match self {
            Json::String(s) => Some(s),
            _ => None,
        }
    }
    fn as_array(&self) -> Option<&[Json]> {
        match self {
            Json::Array(a) => Some(a),
            _ => None,
        }
    }
}

struct Parser<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl<'a> Parser<'a> {
    fn new(text: &'a str) -> Parser<'a> {
        Parser {
            bytes: text.as_bytes(),
            at: 0,
        }
    }

    fn document(&mut self) -> Json {
        let value = self.value();
        self.space();
        assert_eq!(self.at, self.bytes.len(), "trailing bytes after the JSON");
        value
    }

    fn space(&mut self) {
        while self.bytes.get(self.at).is_some_and(u8::is_ascii_whitespace) {
            self.at += 1;
        }
    }

    fn eat(&mut self, byte: u8) -> bool {
        self.space();
        if self.bytes.get(self.at) == Some(&byte) {
            self.at += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, byte: u8) {
        assert!(
            self.eat(byte),
            "expected `{}` at byte {}",
            byte as char,
            self.at
        );
    }

    fn value(&mut self) -> Json {
        self.space();
        let rest = &self.bytes[self.at..];
        for (word, value) in [
            ("null", Json::Null),
            ("true", Json::Bool(true)),
            ("false", Json::Bool(false)),
        ] {
            if rest.starts_with(word.as_bytes()) {
                self.at += word.len();
                return value;
            }
        }
        match rest.first() {
            Some(b'"') => Json::String(self.string()),
            Some(b'[') => {
                self.at += 1;
                let mut items = Vec::new();
                if !self.eat(b']') {
                    loop {
                        items.push(self.value());
                        if self.eat(b']') {
                            break;
                        }
                        self.expect(b',');
                    }
                }
                Json::Array(items)
            }
            Some(b'{') => {
                self.at += 1;
                let mut map = BTreeMap::new();
                if !self.eat(b'}') {
                    loop {
                        self.space();
                        let key = self.string();
                        self.expect(b':');
                        let value = self.value();
                        assert!(map.insert(key, value).is_none(), "duplicate key");
                        if self.eat(b'}') {
                            break;
                        }
                        self.expect(b',');
                    }
                }
                Json::Object(map)
            }
            _ => {
                let len = rest
                    .iter()
                    .take_while(|b| b.is_ascii_digit() || b"+-.eE".contains(b))
                    .count();
                let text = std::str::from_utf8(&rest[..len]).unwrap();
                self.at += len;
                Json::Number(
                    text.parse()
                        .unwrap_or_else(|_| panic!("bad number `{text}`")),
                )
            }
        }
    }

    fn string(&mut self) -> String {
        assert_eq!(self.bytes[self.at], b'"', "expected a string");
        self.at += 1;
        let mut out = Vec::new();
        loop {
            let byte = self.bytes[self.at];
            self.at += 1;
            match byte {
                b'"' => break,
                b'\\' => {
                    let escaped = self.bytes[self.at];
                    self.at += 1;
                    match escaped {
                        b'n' => out.push(b'\n'),
                        b'u' => {
                            let hex = std::str::from_utf8(&self.bytes[self.at..self.at + 4]);
                            let code = u32::from_str_radix(hex.unwrap(), 16).unwrap();
                            self.at += 4;
                            let c = char::from_u32(code).unwrap();
                            out.extend_from_slice(c.to_string().as_bytes());
                        }
                        other => out.push(other),
                    }
                }
                other => out.push(other),
            }
        }
        String::from_utf8(out).unwrap()
    }
}
