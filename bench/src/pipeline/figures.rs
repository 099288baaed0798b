//! Figures read back out of a `summary.md` the `pipeline` scenario wrote, so runs of two
//! builds (one of them older than this file) can be compared: the summary's text is the
//! one format every build of the harness writes.
//!
//! Only the provenance bullets and the "Side by side" table are read. Columns are found
//! by their headers, so a summary with extra columns (`pnl events`) reads like one
//! without.

use std::collections::BTreeMap;

/// What one summary says.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Summary {
    /// The `- Commit:` bullet, without backticks.
    pub commit: Option<String>,
    /// The `- Date:` bullet.
    pub date: Option<String>,
    /// The `- Command:` bullet, without backticks.
    pub command: Option<String>,
    /// The side-by-side table's rows.
    pub rows: Vec<Row>,
}

/// One row of the side-by-side table: one run.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Row {
    /// `engine` or `empty stages`.
    pub engine: String,
    /// `default` or `active`.
    pub strategies: String,
    /// `off`, `idle` or `pnl10hz` (`off` for summaries older than `--control`).
    pub control: String,
    /// `one_group`, `two_groups`, `per_stage`.
    pub layout: String,
    /// `100k/s`, `max`, ...
    pub rate: String,
    /// `intended (corrected)`, `actual (uncorrected)`, `actual (saturation)`.
    pub stamp: String,
    /// Every cell by its column's full name (`tick→risk p99`, `tick→intent p99`).
    cells: BTreeMap<String, String>,
}

impl Row {
    /// A cell by its column's full name.
    pub fn cell(&self, column: &str) -> Option<&str> {
        self.cells.get(column).map(String::as_str)
    }

    /// A latency cell in nanoseconds, `None` when absent or `–`.
    pub fn nanos(&self, column: &str) -> Option<f64> {
        self.cell(column).and_then(parse_nanos)
    }

    /// The `events/s` cell in events per second.
    pub fn events_per_sec(&self) -> Option<f64> {
        self.cell("events/s").and_then(parse_mega)
    }

    /// A plain number cell (`n`, `pnl events`).
    pub fn number(&self, column: &str) -> Option<f64> {
        self.cell(column)?.trim().parse().ok()
    }

    /// Whether this is the real engine's run of these settings at `rate`, stamped at the
    /// intended send time when paced (the corrected figure).
    pub fn is(&self, strategies: &str, control: &str, layout: &str, rate: &str) -> bool {
        self.engine == "engine"
            && self.strategies == strategies
            && self.control == control
            && self.layout == layout
            && self.rate == rate
            && (rate == "max" || self.stamp.starts_with("intended"))
    }
}

/// Reads a summary.
///
/// # Errors
/// When the text has no side-by-side table, or a row's width differs from its header's.
pub fn parse(text: &str) -> Result<Summary, String> {
    let mut summary = Summary::default();
    let bullet = |line: &str, key: &str| {
        line.strip_prefix(key)
            .map(|v| v.trim().trim_matches('`').to_owned())
    };
    for line in text.lines() {
        if summary.commit.is_none() {
            summary.commit = bullet(line, "- Commit:");
        }
        if summary.date.is_none() {
            summary.date = bullet(line, "- Date:");
        }
        if summary.command.is_none() {
            summary.command = bullet(line, "- Command:");
        }
    }
    let mut lines = text
        .lines()
        .skip_while(|l| l.trim() != "## Side by side")
        .skip(1)
        .skip_while(|l| l.trim().is_empty());
    let header = lines
        .next()
        .filter(|l| l.starts_with('|'))
        .ok_or("no `## Side by side` table")?;
    let columns = column_names(&cells(header));
    for line in lines.skip(1).take_while(|l| l.starts_with('|')) {
        let values = cells(line);
        if values.len() != columns.len() {
            return Err(format!(
                "a side-by-side row has {} cells for {} columns: {line}",
                values.len(),
                columns.len()
            ));
        }
        let cells: BTreeMap<String, String> = columns.iter().cloned().zip(values).collect();
        let get = |k: &str| cells.get(k).cloned().unwrap_or_default();
        let (engine, strategies, control) = run_label(&get("run"));
        summary.rows.push(Row {
            engine,
            strategies,
            control,
            layout: get("layout"),
            rate: get("rate"),
            stamp: get("stamp"),
            cells,
        });
    }
    Ok(summary)
}

/// The trimmed cells of a `| a | b |` line.
fn cells(line: &str) -> Vec<String> {
    let inner = line.trim().trim_start_matches('|').trim_end_matches('|');
    inner.split('|').map(|c| c.trim().to_owned()).collect()
}

/// Full names for the headers: the table writes `tick→risk p50 | p99 | p99.9 | ... | n`,
/// so a bare percentile, `max` or `n` belongs to the latency named last.
fn column_names(headers: &[String]) -> Vec<String> {
    let mut latency: Option<String> = None;
    headers
        .iter()
        .map(|h| {
            if let Some(name) = h.strip_suffix(" p50") {
                latency = Some(name.to_owned());
                return h.clone();
            }
            let bare = h == "max" || h == "n" || h.strip_prefix('p').is_some_and(is_number);
            match &latency {
                Some(name) if bare => format!("{name} {h}"),
                _ => {
                    latency = None;
                    h.clone()
                }
            }
        })
        .collect()
}

fn is_number(text: &str) -> bool {
    !text.is_empty() && text.parse::<f64>().is_ok()
}

/// `engine, active, control idle` → (`engine`, `active`, `idle`); what a label leaves out
/// is `default` strategies and control `off`.
fn run_label(label: &str) -> (String, String, String) {
    let mut parts = label.split(", ");
    let engine = parts.next().unwrap_or_default().to_owned();
    let mut strategies = "default".to_owned();
    let mut control = "off".to_owned();
    for part in parts {
        match part.strip_prefix("control ") {
            Some(mode) => control = mode.to_owned(),
            None => strategies = part.to_owned(),
        }
    }
    (engine, strategies, control)
}

/// Reads `format_nanos` text back: `175 ns`, `2.8 µs`, `1.1 ms`, `1.25 s`.
pub fn parse_nanos(cell: &str) -> Option<f64> {
    let (number, unit) = cell.trim().split_once(' ')?;
    let scale = match unit {
        "ns" => 1.0,
        "µs" | "us" => 1e3,
        "ms" => 1e6,
        "s" => 1e9,
        _ => return None,
    };
    number.parse::<f64>().ok().map(|v| v * scale)
}

/// Reads `6.41 M` (events per second) back.
pub fn parse_mega(cell: &str) -> Option<f64> {
    let number = cell.trim().strip_suffix(" M")?;
    number.parse::<f64>().ok().map(|v| v * 1e6)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The head of a real summary (trimmed), with the control column and labels.
    const SUMMARY: &str = "# Pipeline latency and throughput

- Date: 2026-11-26 09:00:00 UTC
- Commit: `b527e0e1a2b3`
- Machine: some CPU, 2 logical cores (virtual machine), Linux 6.1
- Command: `cargo run --release -p tickpipe-bench -- pipeline --rate 100k,max`

How to read: ...

## Side by side

| run                             | layout    | rate   | stamp                | events/s | tick→risk p50 |    p99 | p99.9 | p99.99 |    max | tick→intent p50 |    p99 |     n | ring full | pnl events |
| :------------------------------ | :-------- | :----- | :------------------- | -------: | ------------: | -----: | ----: | -----: | -----: | --------------: | -----: | ----: | --------: | ---------: |
| engine, active                  | one_group | 100k/s | intended (corrected) |   0.10 M |        188 ns | 2.8 µs | 27 µs | 1.0 ms | 2.1 ms |          409 ns | 3.0 µs | 13155 |         0 |          – |
| engine, active, control pnl10hz | one_group | 100k/s | intended (corrected) |   0.10 M |        190 ns | 2.9 µs | 27 µs | 1.0 ms | 2.1 ms |          411 ns |    – |     0 |         0 |         98 |
| engine, control idle            | two_groups | max   | actual (saturation)  |   8.10 M |        1.1 ms | 2.0 ms | 2 ms  | 2 ms   | 3 ms   |               – |      – |     0 |        12 |          – |

## Targets (one-group layout, 2-core VM)
";

    #[test]
    fn a_summary_reads_back() {
        let s = parse(SUMMARY).unwrap();
        assert_eq!(s.commit.as_deref(), Some("b527e0e1a2b3"));
        assert_eq!(s.date.as_deref(), Some("2026-11-26 09:00:00 UTC"));
        assert!(s.command.unwrap().ends_with("--rate 100k,max"));
        assert_eq!(s.rows.len(), 3);
        let first = &s.rows[0];
        assert!(first.is("active", "off", "one_group", "100k/s"));
        assert_eq!(first.nanos("tick→risk p50"), Some(188.0));
        assert_eq!(first.nanos("tick→risk p99"), Some(2_800.0));
        assert_eq!(first.nanos("tick→intent p99"), Some(3_000.0));
        assert_eq!(first.number("tick→intent n"), Some(13_155.0));
        assert_eq!(first.number("pnl events"), None);
        let pnl = &s.rows[1];
        assert!(pnl.is("active", "pnl10hz", "one_group", "100k/s"));
        assert_eq!(pnl.number("pnl events"), Some(98.0));
        assert_eq!(pnl.nanos("tick→intent p99"), None);
        let sat = &s.rows[2];
        assert!(sat.is("default", "idle", "two_groups", "max"));
        assert!((sat.events_per_sec().unwrap() - 8.1e6).abs() < 1.0);
        assert_eq!(sat.number("ring full"), Some(12.0));
    }

    #[test]
    fn paced_rows_match_only_when_corrected() {
        let row = Row {
            engine: "engine".into(),
            strategies: "default".into(),
            control: "off".into(),
            layout: "one_group".into(),
            rate: "100k/s".into(),
            stamp: "actual (uncorrected)".into(),
            cells: BTreeMap::new(),
        };
        assert!(!row.is("default", "off", "one_group", "100k/s"));
        let empty = Row {
            engine: "empty stages".into(),
            stamp: "intended (corrected)".into(),
            ..row
        };
        assert!(!empty.is("default", "off", "one_group", "100k/s"));
    }

    #[test]
    fn headers_get_their_latency_name() {
        let headers: Vec<String> = [
            "run",
            "events/s",
            "tick→risk p50",
            "p99",
            "p99.9",
            "max",
            "tick→intent p50",
            "p99",
            "n",
            "ring full",
            "max",
        ]
        .map(String::from)
        .to_vec();
        assert_eq!(
            column_names(&headers),
            [
                "run",
                "events/s",
                "tick→risk p50",
                "tick→risk p99",
                "tick→risk p99.9",
                "tick→risk max",
                "tick→intent p50",
                "tick→intent p99",
                "tick→intent n",
                "ring full",
                "max",
            ]
        );
    }

    #[test]
    fn labels_and_units_read_back() {
        assert_eq!(
            run_label("engine"),
            ("engine".into(), "default".into(), "off".into())
        );
        assert_eq!(
            run_label("engine, active, control idle"),
            ("engine".into(), "active".into(), "idle".into())
        );
        assert_eq!(run_label("empty stages").0, "empty stages");
        assert_eq!(parse_nanos("175 ns"), Some(175.0));
        assert_eq!(parse_nanos("2.5 µs"), Some(2_500.0));
        assert_eq!(parse_nanos("1.5 ms"), Some(1_500_000.0));
        assert_eq!(parse_nanos("1.25 s"), Some(1.25e9));
        assert_eq!(parse_nanos("–"), None);
        assert_eq!(parse_nanos("3 h"), None);
        assert_eq!(parse_mega("6.41 M"), Some(6.41e6));
        assert_eq!(parse_mega("6.41"), None);
    }

    #[test]
    fn a_text_without_the_table_is_an_error() {
        assert!(parse("# nothing here\n").is_err());
        let ragged = "## Side by side\n\n| run | rate |\n| :-- | --: |\n| engine |\n";
        assert!(parse(ragged).unwrap_err().contains("1 cells for 2 columns"));
    }
}
