//! Text renderers: pure functions from models to strings.

pub mod bench;
pub mod binary;
pub mod doctor;
pub mod fit;
pub mod image;
pub mod inspect;
pub mod lint;
pub mod profile;
pub mod ps;
pub mod run;
pub mod sweep;
pub mod syscalls;
pub mod top;
pub mod trace;

/// A titled block of `label  value  source` rows, aligned within the block.
pub struct Section {
    title: String,
    rows: Vec<[String; 3]>,
}

impl Section {
    pub fn new(title: impl Into<String>) -> Section {
        Section {
            title: title.into(),
            rows: Vec::new(),
        }
    }

    pub fn row(&mut self, label: &str, value: impl Into<String>, source: impl Into<String>) {
        self.rows
            .push([label.to_string(), value.into(), source.into()]);
    }

    pub fn render(&self, out: &mut String) {
        out.push_str(&self.title);
        out.push('\n');
        let width = |i: usize| {
            self.rows
                .iter()
                .map(|r| r[i].chars().count())
                .max()
                .unwrap_or(0)
        };
        let (w0, w1) = (width(0), width(1));
        for [label, value, source] in &self.rows {
            let mut line = if source.is_empty() {
                format!("  {label:<w0$}  {value}")
            } else {
                format!("  {label:<w0$}  {value:<w1$}  {source}")
            };
            // Too wide for the terminal: the source goes on its own line, under the value.
            if fit::width().is_some_and(|w| line.trim_end().chars().count() > w)
                && !source.is_empty()
            {
                line = format!("  {label:<w0$}  {value}\n  {:w0$}    {source}", "");
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
    }
}

/// Rows of cells as left-aligned columns two spaces apart, the first row a header.
pub fn grid(rows: &[Vec<String>]) -> String {
    let columns = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..columns)
        .map(|i| {
            rows.iter()
                .filter_map(|r| r.get(i))
                .map(|c| c.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for row in rows {
        let line: Vec<String> = row
            .iter()
            .zip(&widths)
            .map(|(c, w)| format!("{c:<w$}"))
            .collect();
        out.push_str(line.join("  ").trim_end());
        out.push('\n');
    }
    out
}
