//! What every scenario's report shares: the run's provenance (machine, commit, date,
//! command) and a Markdown table writer.

use std::{
    fmt::Write as _,
    fs,
    process::Command,
    time::{SystemTime, UNIX_EPOCH},
};

/// Where and how a benchmark ran.
#[derive(Debug, Clone)]
pub struct Provenance {
    /// UTC date and time, `YYYY-MM-DD HH:MM:SS UTC`.
    pub date: String,
    /// `git describe --always --dirty` of the working tree, or why it is unknown.
    pub commit: String,
    /// The arguments after the binary name, shell-quoted.
    pub args: String,
    /// The machine.
    pub machine: Machine,
}

/// The hardware and OS a benchmark ran on.
#[derive(Debug, Clone)]
pub struct Machine {
    /// CPU model name from `/proc/cpuinfo`, with its family/model/stepping numbers (which
    /// still identify the part when a hypervisor reports a generic name).
    pub cpu_model: String,
    /// Logical cores available to this process.
    pub logical_cores: usize,
    /// Kernel release.
    pub kernel: String,
    /// Hypervisor, when `/proc/cpuinfo` says the machine is virtual.
    pub virtualised: bool,
}

impl Provenance {
    /// Collects the provenance of the current run.
    pub fn collect() -> Provenance {
        Provenance {
            date: utc_now(),
            commit: git_commit(),
            args: std::env::args()
                .skip(1)
                .map(|a| shell_quote(&a))
                .collect::<Vec<_>>()
                .join(" "),
            machine: Machine::collect(),
        }
    }

    /// A Markdown bullet list, the command being this invocation of the harness.
    pub fn to_markdown(&self) -> String {
        self.to_markdown_as(&format!(
            "cargo run --release -p tickpipe-bench -- {}",
            self.args
        ))
    }

    /// The same list with `command` as the command, for a report written on behalf of
    /// a script that ran the harness several times.
    pub fn to_markdown_as(&self, command: &str) -> String {
        let m = &self.machine;
        let mut out = String::new();
        let _ = writeln!(out, "- Date: {}", self.date);
        let _ = writeln!(out, "- Commit: `{}`", self.commit);
        let _ = writeln!(
            out,
            "- Machine: {}, {} logical cores{}, Linux {}",
            m.cpu_model,
            m.logical_cores,
            if m.virtualised {
                " (virtual machine)"
            } else {
                ""
            },
            m.kernel
        );
        let _ = writeln!(out, "- Command: `{command}`");
        out
    }
}

impl Machine {
    /// Reads the machine's description from `/proc`.
    pub fn collect() -> Machine {
        let cpuinfo = fs::read_to_string("/proc/cpuinfo").unwrap_or_default();
        let field = |name: &str| {
            cpuinfo.lines().find_map(|line| {
                let (key, value) = line.split_once(':')?;
                (key.trim() == name).then(|| value.trim().to_owned())
            })
        };
        let name = field("model name").unwrap_or_else(|| "unknown CPU".to_owned());
        let cpu_model = match (field("cpu family"), field("model"), field("stepping")) {
            (Some(f), Some(m), Some(s)) => format!("{name} (family {f}, model {m}, stepping {s})"),
            _ => name,
        };
        let virtualised = field("flags").is_some_and(|f| f.split(' ').any(|x| x == "hypervisor"));
        Machine {
            cpu_model,
            logical_cores: std::thread::available_parallelism().map_or(1, usize::from),
            kernel: fs::read_to_string("/proc/sys/kernel/osrelease")
                .map(|s| s.trim().to_owned())
                .unwrap_or_else(|_| "unknown".to_owned()),
            virtualised,
        }
    }
}

fn git_commit() -> String {
    let out = Command::new("git")
        .args(["describe", "--always", "--dirty", "--abbrev=12"])
        .output();
    match out {
        Ok(o) if o.status.success() => String::from_utf8_lossy(&o.stdout).trim().to_owned(),
        Ok(o) => format!(
            "unknown (git: {})",
            String::from_utf8_lossy(&o.stderr).trim()
        ),
        Err(e) => format!("unknown (git: {e})"),
    }
}

fn shell_quote(arg: &str) -> String {
    let plain = arg
        .chars()
        .all(|c| c.is_ascii_alphanumeric() || "-_./=:,".contains(c));
    if plain && !arg.is_empty() {
        arg.to_owned()
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

fn utc_now() -> String {
    let secs = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.as_secs());
    format_utc(secs)
}

/// Formats Unix seconds as `YYYY-MM-DD HH:MM:SS UTC` (proleptic Gregorian calendar).
fn format_utc(unix_secs: u64) -> String {
    let days = (unix_secs / 86_400) as i64;
    let rem = unix_secs % 86_400;
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Year, month, day of the day `days` after 1970-01-01: H. Hinnant's `civil_from_days`
/// (<https://howardhinnant.github.io/date_algorithms.html#civil_from_days>).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

/// How a column's cells are aligned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers.
    Right,
}

/// A Markdown table whose columns are padded to line up in plain text too.
#[derive(Debug, Clone)]
pub struct Table {
    headers: Vec<String>,
    align: Vec<Align>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// A table with these column headers; the first column is left-aligned, the rest
    /// right-aligned (labels, then numbers), until [`Table::align`] says otherwise.
    pub fn new(headers: &[&str]) -> Table {
        let align = (0..headers.len())
            .map(|i| if i == 0 { Align::Left } else { Align::Right })
            .collect();
        Table {
            headers: headers.iter().map(|h| (*h).to_owned()).collect(),
            align,
            rows: Vec::new(),
        }
    }

    /// Sets the alignment of column `column`.
    pub fn align(mut self, column: usize, align: Align) -> Table {
        self.align[column] = align;
        self
    }

    /// Appends a row.
    ///
    /// # Panics
    /// If the row has a different number of cells than the table has columns.
    pub fn row(&mut self, cells: Vec<String>) {
        assert_eq!(
            cells.len(),
            self.headers.len(),
            "row width differs from the header"
        );
        self.rows.push(cells);
    }

    /// The table as Markdown, ending with a newline.
    pub fn render(&self) -> String {
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|c| {
                self.rows
                    .iter()
                    .map(|r| r[c].chars().count())
                    .chain([self.headers[c].chars().count(), 3])
                    .max()
                    .unwrap_or(3)
            })
            .collect();
        let line = |cells: &[String]| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .zip(&self.align)
                .map(|((cell, &w), align)| match align {
                    Align::Left => format!("{cell:<w$}"),
                    Align::Right => format!("{cell:>w$}"),
                })
                .collect();
            format!("| {} |\n", padded.join(" | "))
        };
        let rule: Vec<String> = widths
            .iter()
            .zip(&self.align)
            .map(|(&w, align)| match align {
                Align::Left => format!(":{}", "-".repeat(w - 1)),
                Align::Right => format!("{}:", "-".repeat(w - 1)),
            })
            .collect();
        let mut out = line(&self.headers);
        out.push_str(&format!("| {} |\n", rule.join(" | ")));
        for row in &self.rows {
            out.push_str(&line(row));
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_follow_the_gregorian_calendar() {
        assert_eq!(format_utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(format_utc(951_782_400), "2000-02-29 00:00:00 UTC");
        assert_eq!(format_utc(1_767_225_599), "2025-12-31 23:59:59 UTC");
    }

    #[test]
    fn tables_pad_and_align_columns() {
        let mut t = Table::new(&["ring", "Mmsg/s"]);
        t.row(vec!["tickpipe".into(), "12.5".into()]);
        t.row(vec!["rtrb".into(), "9.0".into()]);
        assert_eq!(
            t.render(),
            "| ring     | Mmsg/s |\n\
             | :------- | -----: |\n\
             | tickpipe |   12.5 |\n\
             | rtrb     |    9.0 |\n"
        );
    }

    #[test]
    fn arguments_are_quoted_only_when_needed() {
        assert_eq!(shell_quote("--reps=5"), "--reps=5");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
    }
}
