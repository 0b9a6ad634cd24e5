//! Text for a terminal: escaped names, display widths, the table, and the
//! durations of `--older-than`.

use std::fmt::Write as _;
use std::time::Duration;
use unicode_width::UnicodeWidthStr;

/// `bytes` safe to print on a terminal, one line, unambiguous: UTF-8 text
/// as it is except `\` (written `\\`), control characters (`\n`, `\r`,
/// `\t`, `\e`, others `\u{..}`) and the characters that reorder or break
/// lines (bidirectional overrides, line and paragraph separators, written
/// `\u{..}`); bytes that are not UTF-8 as `\xNN`.
pub fn escape(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len());
    for chunk in bytes.utf8_chunks() {
        for c in chunk.valid().chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                '\x1b' => out.push_str("\\e"),
                c if needs_escape(c) => {
                    let _ = write!(out, "\\u{{{:x}}}", c as u32);
                }
                c => out.push(c),
            }
        }
        for byte in chunk.invalid() {
            let _ = write!(out, "\\x{byte:02x}");
        }
    }
    out
}

/// Control characters (C0, DEL, C1), and the format characters that change
/// how a terminal lays out what follows.
fn needs_escape(c: char) -> bool {
    c.is_control()
        || matches!(c,
            '\u{2028}' | '\u{2029}'          // line, paragraph separator
            | '\u{200e}' | '\u{200f}'        // left-to-right, right-to-left marks
            | '\u{202a}'..='\u{202e}'        // embeddings and overrides
            | '\u{2066}'..='\u{2069}'        // isolates
            | '\u{feff}'                     // zero-width no-break space (BOM)
        )
}

/// The columns `s` takes on a terminal: 2 for East Asian wide and fullwidth
/// characters, 0 for combining marks.
pub fn width(s: &str) -> usize {
    s.width()
}

/// `rows` as aligned columns, the first row the header. Cells are padded
/// by display width; the last column is not padded.
pub fn table<const N: usize>(rows: &[[String; N]]) -> String {
    let mut widths = [0usize; N];
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(width(cell));
        }
    }
    let mut out = String::new();
    for row in rows {
        let mut line = String::new();
        for (i, (cell, w)) in row.iter().zip(widths).enumerate() {
            line.push_str(cell);
            if i + 1 < N {
                line.extend(std::iter::repeat_n(' ', w - width(cell) + 2));
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// An age as `list` prints it: `42s`, `15m`, `3h`, `2d`.
pub fn human_age(age: Duration) -> String {
    let s = age.as_secs();
    match s {
        0..=119 => format!("{s}s"),
        120..=7199 => format!("{}m", s / 60),
        7200..=172_799 => format!("{}h", s / 3600),
        _ => format!("{}d", s / 86400),
    }
}

/// Parses an age: plain seconds (`90`), or numbers with a unit, `s`, `m`,
/// `h` or `d`, one or several (`90s`, `15m`, `1h`, `2d`, `1h30m`).
pub fn parse_age(text: &str) -> Result<Duration, String> {
    let bad = |why: &str| {
        format!("`{text}` {why}: seconds (90), or a number with a unit s, m, h or d (90s, 15m, 1h, 2d, 1h30m)")
    };
    if text.is_empty() {
        return Err(bad("is empty"));
    }
    if text.bytes().all(|b| b.is_ascii_digit()) {
        return text
            .parse()
            .map(Duration::from_secs)
            .map_err(|_| bad("is too large"));
    }
    let mut total: u64 = 0;
    let mut rest = text;
    while !rest.is_empty() {
        let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
        if digits == 0 {
            return Err(bad("is not a duration"));
        }
        let number: u64 = rest[..digits].parse().map_err(|_| bad("is too large"))?;
        let unit = match rest[digits..].chars().next() {
            Some('s') => 1,
            Some('m') => 60,
            Some('h') => 3600,
            Some('d') => 86400,
            Some(_) => return Err(bad("has an unknown unit")),
            None => return Err(bad("lacks a unit after its last number")),
        };
        total = number
            .checked_mul(unit)
            .and_then(|n| total.checked_add(n))
            .ok_or_else(|| bad("is too large"))?;
        rest = &rest[digits + 1..];
    }
    Ok(Duration::from_secs(total))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Names reach the terminal on one line, every byte recoverable.
    #[test]
    fn escape_writes_controls_backslashes_and_other_bytes_visibly() {
        assert_eq!(escape(b"/plain.name"), "/plain.name");
        assert_eq!(escape(b"/a\nb\tc\rd"), "/a\\nb\\tc\\rd");
        assert_eq!(escape(b"/x\x1b[31m"), "/x\\e[31m");
        assert_eq!(escape(b"/back\\slash"), "/back\\\\slash");
        assert_eq!(escape(b"/raw\xff\xfe"), "/raw\\xff\\xfe");
        assert_eq!(escape("/\u{7f}\u{85}".as_bytes()), "/\\u{7f}\\u{85}");
        assert_eq!(escape("/rtl\u{202e}x".as_bytes()), "/rtl\\u{202e}x");
        assert_eq!(escape("/café-名前".as_bytes()), "/café-名前");
    }

    /// Wide characters take two columns, combining marks none.
    #[test]
    fn width_counts_terminal_columns() {
        assert_eq!(width("abc"), 3);
        assert_eq!(width("名前"), 4);
        assert_eq!(width("ｈｉ"), 4); // fullwidth
        assert_eq!(width("e\u{301}"), 1); // e + combining acute
        assert_eq!(width("é"), 1);
    }

    /// Columns line up when a cell holds wide characters.
    #[test]
    fn table_pads_by_display_width() {
        let rows = [
            ["NAME".to_owned(), "X".to_owned()],
            ["/名前".to_owned(), "1".to_owned()],
            ["/abcde".to_owned(), "2".to_owned()],
        ];
        let out = table(&rows);
        let lines: Vec<&str> = out.lines().collect();
        assert_eq!(lines[0], "NAME    X");
        assert_eq!(lines[1], "/名前   1");
        assert_eq!(lines[2], "/abcde  2");
        // The second column starts at the same terminal column.
        let col = |l: &str| width(l) - 1;
        assert!(lines.iter().all(|l| col(l) == 8));
    }

    #[test]
    fn ages_accept_units_and_plain_seconds() {
        let secs = |s| parse_age(s).map(|d| d.as_secs());
        assert_eq!(secs("90"), Ok(90));
        assert_eq!(secs("90s"), Ok(90));
        assert_eq!(secs("15m"), Ok(900));
        assert_eq!(secs("1h"), Ok(3600));
        assert_eq!(secs("2d"), Ok(172_800));
        assert_eq!(secs("1h30m"), Ok(5400));
        for bad in ["", "soon", "1x", "1h30", "h", "-5", "99999999999999999999d"] {
            assert!(parse_age(bad).is_err(), "{bad:?} accepted");
        }
    }

    #[test]
    fn human_ages_round_down_to_one_unit() {
        assert_eq!(human_age(Duration::from_secs(59)), "59s");
        assert_eq!(human_age(Duration::from_secs(900)), "15m");
        assert_eq!(human_age(Duration::from_secs(3 * 3600)), "3h");
        assert_eq!(human_age(Duration::from_secs(3 * 86400)), "3d");
    }
}
