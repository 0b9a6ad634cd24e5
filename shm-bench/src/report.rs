//! Sections and rows of the report: medians, ratios, the printed table and
//! the JSON file (written by hand: no JSON crate is needed for this shape).

use std::fmt::Write as _;

/// The result of one measured variant.
pub enum Outcome {
    /// One figure per repetition.
    Measured(Vec<f64>),
    /// The variant could not run here, and why (e.g. "not built yet", or the
    /// kernel refused an option). Never a number.
    Unavailable(String),
}

/// One line of a section: a variant and its figures.
pub struct Row {
    /// What was measured, e.g. "Shared<[u64]>".
    pub name: String,
    /// The row this one is compared with (its own name when it is a baseline).
    pub baseline: String,
    /// The figures, or why there are none.
    pub outcome: Outcome,
    /// A remark printed under the table (e.g. how many huge pages were seen).
    pub note: Option<String>,
}

impl Row {
    /// The median of the repetitions, if measured.
    pub fn median(&self) -> Option<f64> {
        match &self.outcome {
            Outcome::Measured(samples) => median(samples),
            Outcome::Unavailable(_) => None,
        }
    }
}

/// The median of `samples` (the mean of the two middle ones for an even
/// count), `None` when empty.
pub fn median(samples: &[f64]) -> Option<f64> {
    if samples.is_empty() {
        return None;
    }
    let mut sorted = samples.to_vec();
    sorted.sort_by(f64::total_cmp);
    let mid = sorted.len() / 2;
    Some(if sorted.len() % 2 == 1 {
        sorted[mid]
    } else {
        (sorted[mid - 1] + sorted[mid]) / 2.0
    })
}

/// A group of rows with one unit, such as "round-trip latency".
pub struct Section {
    /// Stable identifier, the key in the JSON file.
    pub id: &'static str,
    /// Human title.
    pub title: String,
    /// What the rows compare (same work, same process count), printed
    /// under the title.
    pub about: Option<String>,
    /// Unit of every figure, e.g. "ns/round-trip".
    pub unit: &'static str,
    /// Whether a larger figure is better (throughput) or worse (time).
    pub higher_is_better: bool,
    /// The rows, baselines first within each group.
    pub rows: Vec<Row>,
}

impl Section {
    /// An empty section.
    pub fn new(
        id: &'static str,
        title: impl Into<String>,
        unit: &'static str,
        higher_is_better: bool,
    ) -> Section {
        Section {
            id,
            title: title.into(),
            about: None,
            unit,
            higher_is_better,
            rows: Vec::new(),
        }
    }

    /// Says what the rows compare, printed under the title.
    pub fn about(&mut self, text: impl Into<String>) -> &mut Section {
        self.about = Some(text.into());
        self
    }

    /// The median of the row named `name`, if it was measured.
    pub fn median_of(&self, name: &str) -> Option<f64> {
        self.rows.iter().find(|r| r.name == name)?.median()
    }

    /// Adds a baseline row: later rows compare with it through [`Section::vs`].
    pub fn baseline(&mut self, name: impl Into<String>, outcome: Outcome) -> &mut Row {
        let name = name.into();
        self.push(name.clone(), name, outcome)
    }

    /// Adds a row compared with the row named `baseline`.
    pub fn vs(&mut self, baseline: &str, name: impl Into<String>, outcome: Outcome) -> &mut Row {
        self.push(name.into(), baseline.to_string(), outcome)
    }

    fn push(&mut self, name: String, baseline: String, outcome: Outcome) -> &mut Row {
        self.rows.push(Row {
            name,
            baseline,
            outcome,
            note: None,
        });
        self.rows.last_mut().expect("just pushed")
    }

    /// The ratio of `row`'s median to its baseline's median.
    pub fn ratio(&self, row: &Row) -> Option<f64> {
        let base = self
            .rows
            .iter()
            .find(|r| r.name == row.baseline)?
            .median()?;
        let value = row.median()?;
        (base > 0.0).then(|| value / base)
    }

    /// The section as printed lines.
    pub fn table(&self) -> String {
        let name_width = self
            .rows
            .iter()
            .map(|r| r.name.chars().count())
            .max()
            .unwrap_or(0);
        let better = if self.higher_is_better {
            "higher is better"
        } else {
            "lower is better"
        };
        let mut out = String::new();
        let _ = writeln!(out, "{} [{}; {better}]", self.title, self.unit);
        if let Some(about) = &self.about {
            for line in wrap(about, 96) {
                let _ = writeln!(out, "  {line}");
            }
        }
        let _ = writeln!(
            out,
            "  {:<name_width$}  {:>12}  {:>10}  {:>23}",
            "variant", "median", "vs base", "min .. max"
        );
        for row in &self.rows {
            match &row.outcome {
                Outcome::Measured(samples) => {
                    let med = row.median().unwrap_or(f64::NAN);
                    let ratio = if row.baseline == row.name {
                        "baseline".to_string()
                    } else {
                        self.ratio(row)
                            .map_or_else(|| "-".to_string(), |r| format!("{r:.2}x"))
                    };
                    let min = samples.iter().copied().fold(f64::INFINITY, f64::min);
                    let max = samples.iter().copied().fold(f64::NEG_INFINITY, f64::max);
                    let _ = writeln!(
                        out,
                        "  {:<name_width$}  {:>12}  {:>10}  {:>23}",
                        row.name,
                        figure(med),
                        ratio,
                        format!("{} .. {}", figure(min), figure(max)),
                    );
                }
                Outcome::Unavailable(why) => {
                    let _ = writeln!(out, "  {:<name_width$}  n/a ({why})", row.name);
                }
            }
        }
        for row in &self.rows {
            if let Some(note) = &row.note {
                let _ = writeln!(out, "  note: {}: {note}", row.name);
            }
        }
        out
    }

    fn json(&self, out: &mut String) {
        let _ = writeln!(out, "    {{");
        let _ = writeln!(out, "      \"id\": {},", string(self.id));
        let _ = writeln!(out, "      \"title\": {},", string(&self.title));
        let _ = writeln!(out, "      \"unit\": {},", string(self.unit));
        if let Some(about) = &self.about {
            let _ = writeln!(out, "      \"about\": {},", string(about));
        }
        let _ = writeln!(
            out,
            "      \"higher_is_better\": {},",
            self.higher_is_better
        );
        let _ = writeln!(out, "      \"rows\": [");
        for (i, row) in self.rows.iter().enumerate() {
            let mut fields = vec![
                format!("\"name\": {}", string(&row.name)),
                format!("\"baseline\": {}", string(&row.baseline)),
            ];
            match &row.outcome {
                Outcome::Measured(samples) => {
                    fields.push(format!("\"median\": {}", number(row.median())));
                    fields.push(format!("\"ratio\": {}", number(self.ratio(row))));
                    let list: Vec<String> = samples.iter().map(|s| number(Some(*s))).collect();
                    fields.push(format!("\"samples\": [{}]", list.join(", ")));
                }
                Outcome::Unavailable(why) => {
                    fields.push("\"median\": null".to_string());
                    fields.push("\"ratio\": null".to_string());
                    fields.push(format!("\"unavailable\": {}", string(why)));
                }
            }
            if let Some(note) = &row.note {
                fields.push(format!("\"note\": {}", string(note)));
            }
            let comma = if i + 1 < self.rows.len() { "," } else { "" };
            let _ = writeln!(out, "        {{{}}}{comma}", fields.join(", "));
        }
        let _ = writeln!(out, "      ]");
        let _ = write!(out, "    }}");
    }
}

/// The whole report as JSON.
pub fn json(config: &str, repetitions: usize, machine: &str, sections: &[Section]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "{{");
    let _ = writeln!(out, "  \"benchmark\": \"shm-bench\",");
    let _ = writeln!(out, "  \"config\": {},", string(config));
    let _ = writeln!(out, "  \"machine\": {},", string(machine));
    let _ = writeln!(out, "  \"repetitions\": {repetitions},");
    let _ = writeln!(out, "  \"statistic\": \"median over repetitions\",");
    let _ = writeln!(out, "  \"sections\": [");
    for (i, section) in sections.iter().enumerate() {
        section.json(&mut out);
        let _ = writeln!(out, "{}", if i + 1 < sections.len() { "," } else { "" });
    }
    let _ = writeln!(out, "  ]");
    let _ = writeln!(out, "}}");
    out
}

/// `text` in lines of at most `width` characters (longer words alone).
fn wrap(text: &str, width: usize) -> Vec<String> {
    let mut lines = Vec::new();
    let mut line = String::new();
    for word in text.split_whitespace() {
        if !line.is_empty() && line.chars().count() + 1 + word.chars().count() > width {
            lines.push(std::mem::take(&mut line));
        }
        if !line.is_empty() {
            line.push(' ');
        }
        line.push_str(word);
    }
    if !line.is_empty() {
        lines.push(line);
    }
    lines
}

/// A figure with four significant digits, whatever its magnitude.
fn figure(x: f64) -> String {
    if !x.is_finite() {
        return "-".to_string();
    }
    let magnitude = if x == 0.0 {
        0
    } else {
        x.abs().log10().floor() as i32
    };
    let decimals = (3 - magnitude).clamp(0, 6) as usize;
    format!("{x:.decimals$}")
}

fn number(x: Option<f64>) -> String {
    match x {
        Some(x) if x.is_finite() => format!("{x:e}"),
        _ => "null".to_string(),
    }
}

fn string(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn median_of_odd_and_even_counts() {
        assert_eq!(median(&[3.0, 1.0, 2.0]), Some(2.0));
        assert_eq!(median(&[4.0, 1.0, 3.0, 2.0]), Some(2.5));
        assert_eq!(median(&[]), None);
    }

    #[test]
    fn ratio_against_named_baseline() {
        let mut s = Section::new("x", "X", "ns", false);
        s.baseline("a", Outcome::Measured(vec![2.0]));
        s.vs("a", "b", Outcome::Measured(vec![3.0]));
        s.vs("a", "c", Outcome::Unavailable("not built yet".into()));
        assert_eq!(s.ratio(&s.rows[1]), Some(1.5));
        assert_eq!(s.ratio(&s.rows[2]), None);
        let mut out = String::new();
        s.json(&mut out);
        assert!(out.contains("\"unavailable\": \"not built yet\""));
    }

    #[test]
    fn figures_keep_four_digits() {
        assert_eq!(figure(0.061234), "0.06123");
        assert_eq!(figure(123.456), "123.5");
        assert_eq!(figure(98765.4), "98765");
        assert_eq!(string("a\"b"), "\"a\\\"b\"");
    }

    #[test]
    fn about_text_wraps() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert!(wrap("", 5).is_empty());
    }
}
