//! Sections and rows of the report: medians, ratios, the printed table and
//! the JSON file.

use serde::Serialize;
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

    /// The section as JSON.
    fn json(&self) -> JsonSection<'_> {
        JsonSection {
            id: self.id,
            title: &self.title,
            unit: self.unit,
            about: self.about.as_deref(),
            higher_is_better: self.higher_is_better,
            rows: self
                .rows
                .iter()
                .map(|row| {
                    let (samples, unavailable) = match &row.outcome {
                        Outcome::Measured(samples) => (Some(&samples[..]), None),
                        Outcome::Unavailable(why) => (None, Some(why.as_str())),
                    };
                    JsonRow {
                        name: &row.name,
                        baseline: &row.baseline,
                        median: finite(row.median()),
                        ratio: finite(self.ratio(row)),
                        samples,
                        unavailable,
                        note: row.note.as_deref(),
                    }
                })
                .collect(),
        }
    }
}

/// The JSON file.
#[derive(Serialize)]
struct JsonReport<'a> {
    benchmark: &'static str,
    config: &'a str,
    machine: &'a str,
    repetitions: usize,
    statistic: &'static str,
    sections: Vec<JsonSection<'a>>,
}

/// One section in the JSON file.
#[derive(Serialize)]
struct JsonSection<'a> {
    id: &'a str,
    title: &'a str,
    unit: &'a str,
    #[serde(skip_serializing_if = "Option::is_none")]
    about: Option<&'a str>,
    higher_is_better: bool,
    rows: Vec<JsonRow<'a>>,
}

/// One row in the JSON file: `median` and `ratio` are `null` when not
/// measured (then `unavailable` says why).
#[derive(Serialize)]
struct JsonRow<'a> {
    name: &'a str,
    baseline: &'a str,
    median: Option<f64>,
    ratio: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    samples: Option<&'a [f64]>,
    #[serde(skip_serializing_if = "Option::is_none")]
    unavailable: Option<&'a str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    note: Option<&'a str>,
}

/// `x` if it is a finite number (JSON has no NaN or infinity).
fn finite(x: Option<f64>) -> Option<f64> {
    x.filter(|x| x.is_finite())
}

/// The whole report as JSON.
pub fn json(config: &str, repetitions: usize, machine: &str, sections: &[Section]) -> String {
    let report = JsonReport {
        benchmark: "shm-bench",
        config,
        machine,
        repetitions,
        statistic: "median over repetitions",
        sections: sections.iter().map(Section::json).collect(),
    };
    // Serializing strings, numbers and lists cannot fail; non-finite
    // samples are written as `null` by serde_json.
    let mut out = serde_json::to_string_pretty(&report).expect("a report serializes");
    out.push('\n');
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
        let out = json("quick", 1, "test machine", &[s]);
        let parsed: serde_json::Value = serde_json::from_str(&out).unwrap();
        let rows = &parsed["sections"][0]["rows"];
        assert_eq!(rows[1]["ratio"], 1.5);
        assert_eq!(rows[2]["unavailable"], "not built yet");
        assert!(rows[2]["median"].is_null() && rows[2]["ratio"].is_null());
    }

    #[test]
    fn figures_keep_four_digits() {
        assert_eq!(figure(0.061234), "0.06123");
        assert_eq!(figure(123.456), "123.5");
        assert_eq!(figure(98765.4), "98765");
    }

    /// Text with quotes, backslashes and control characters survives the
    /// JSON file, and every field of the report is there.
    #[test]
    fn json_keeps_every_field_and_escapes_text() {
        let mut s = Section::new("id", "Title \"quoted\"", "ns", true);
        s.about("a\\b\nc\u{1}");
        s.baseline("base", Outcome::Measured(vec![1.0, 2.0, f64::NAN]))
            .note = Some("tab\there".into());
        let out = json("full", 3, "cpu \"x\"", &[s]);
        let v: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(v["benchmark"], "shm-bench");
        assert_eq!(v["config"], "full");
        assert_eq!(v["machine"], "cpu \"x\"");
        assert_eq!(v["repetitions"], 3);
        assert_eq!(v["statistic"], "median over repetitions");
        let section = &v["sections"][0];
        assert_eq!(section["id"], "id");
        assert_eq!(section["title"], "Title \"quoted\"");
        assert_eq!(section["unit"], "ns");
        assert_eq!(section["about"], "a\\b\nc\u{1}");
        assert_eq!(section["higher_is_better"], true);
        let row = &section["rows"][0];
        assert_eq!(row["name"], "base");
        assert_eq!(row["baseline"], "base");
        assert_eq!(row["note"], "tab\there");
        assert_eq!(row["median"], 2.0);
        assert_eq!(row["ratio"], 1.0);
        let samples = row["samples"].as_array().unwrap();
        assert_eq!(samples.len(), 3);
        assert!(samples[2].is_null(), "NaN is written as null");
    }

    #[test]
    fn about_text_wraps() {
        assert_eq!(wrap("aa bb cc", 5), ["aa bb", "cc"]);
        assert!(wrap("", 5).is_empty());
    }
}
