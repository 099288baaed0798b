//! The `control-report` subcommand: what the control plane costs the pipeline, from the
//! `summary.md` files of `pipeline` runs that `scripts/bench-control-plane.sh` collected.
//!
//! Two questions, two tables. Before vs after: the build before the control plane
//! against the current one, both without a socket, in alternating repetitions (stage
//! poll cost with an idle control ring). Control modes: the current build with no
//! socket, an idle socket, and a client streaming P&L at 10 Hz. Every cell is the median
//! over the repetitions with their range, so a reader can tell a shift from the noise
//! of the runs themselves.

use std::{collections::BTreeSet, fmt::Write as _, fs, path::PathBuf};

use clap::Args;
use tickpipe::metrics::format_nanos;

use crate::{
    pipeline::figures::{self, Row, Summary},
    report::{Align, Provenance, Table},
    stats::median,
};

/// The paced rate the script runs; its latency figures are read at this rate.
const PACED_RATE: &str = "100k/s";

/// Options of the `control-report` subcommand.
#[derive(Debug, Args)]
pub struct ControlReportArgs {
    /// A `pipeline --out` directory (or its summary.md) of the build before the control
    /// plane; once per repetition.
    #[arg(long, required = true)]
    before: Vec<PathBuf>,
    /// The same for the current build, control off; once per repetition, in the same
    /// order.
    #[arg(long, required = true)]
    after: Vec<PathBuf>,
    /// The same for the current build with `--control off,idle,pnl10hz`; once per
    /// repetition.
    #[arg(long)]
    modes: Vec<PathBuf>,
    /// The command that collected the runs, quoted as the report's command.
    #[arg(long)]
    command: String,
    /// A sentence set in bold at the top (a sanity run says so here).
    #[arg(long)]
    note: Option<String>,
    /// The host's load average when the runs started (`/proc/loadavg`).
    #[arg(long)]
    load_start: Option<String>,
    /// Write the report here instead of printing it.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// Writes the report.
pub fn run(args: &ControlReportArgs) -> Result<(), Box<dyn std::error::Error>> {
    let input = Input {
        before: load(&args.before)?,
        after: load(&args.after)?,
        modes: load(&args.modes)?,
    };
    let provenance = Provenance::collect();
    let load_end = fs::read_to_string("/proc/loadavg").ok();
    let mut out = String::from("# Control plane: what it costs the pipeline\n\n");
    if let Some(note) = &args.note {
        let _ = writeln!(out, "**{note}**\n");
    }
    out.push_str(&provenance.to_markdown_as(&args.command));
    let _ = writeln!(
        out,
        "- Host load average (1, 5, 15 min) at the start: {}; at the end: {}",
        args.load_start
            .as_deref()
            .map_or("–".to_owned(), load_average),
        load_end.as_deref().map_or("–".to_owned(), load_average)
    );
    out.push_str(&sources(&input));
    out.push_str(HOW_TO_READ);
    out.push_str(&before_after(&input));
    out.push_str(&modes(&input));
    print!("{out}");
    if let Some(path) = &args.out {
        fs::write(path, &out)?;
        eprintln!("control-report: wrote {}", path.display());
    }
    Ok(())
}

const HOW_TO_READ: &str = "
## How to read

- **Before vs after** compares the commit before the control plane with this one, both
  without a control socket (`--control off`, the default), run alternately (before,
  after, before, after, ...) with the same arguments. The current build's stages poll
  their control ring between market events even when no socket is served, so this is
  the stage poll cost with an idle control ring.
- **Control modes** runs the current build three ways back to back for each setting:
  `off` (no socket), `idle` (the control thread serves the socket, nobody connects) and
  `pnl10hz` (a client sends `subscribe pnl 100`: ten times a second the control thread
  asks the risk and feed stages for a snapshot, which they answer between events).
- Each cell is the **median over the repetitions**, with the lowest and highest in
  brackets; ratios are of medians. A ratio whose medians sit inside each other's ranges
  is within the noise of these runs. Saturation is events/s (higher is better); the
  latencies are corrected for coordinated omission at 100k/s (lower is better).
- On a shared 2-vCPU VM tails (p99 and beyond) are mostly host stalls: read p99 moves
  against the spread of the repetitions, and the host stall baselines in each run's
  `summary.md`. tick→intent has samples only with the `active` strategies (about 13 k in
  1 M events); with fewer events its p99 rests on fewer samples.
- A figure that no run produced shows `–`.
";

/// The summaries of each phase, one per repetition.
#[derive(Debug)]
struct Input {
    before: Vec<Summary>,
    after: Vec<Summary>,
    modes: Vec<Summary>,
}

fn load(paths: &[PathBuf]) -> Result<Vec<Summary>, String> {
    paths
        .iter()
        .map(|p| {
            let file = if p.is_dir() {
                p.join("summary.md")
            } else {
                p.clone()
            };
            let text = fs::read_to_string(&file)
                .map_err(|e| format!("cannot read {}: {e}", file.display()))?;
            figures::parse(&text).map_err(|e| format!("{}: {e}", file.display()))
        })
        .collect()
}

/// One figure read from a run's row.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Figure {
    Saturation,
    RiskP50,
    RiskP99,
    IntentP99,
}

impl Figure {
    const ALL: [Figure; 4] = [
        Figure::Saturation,
        Figure::RiskP50,
        Figure::RiskP99,
        Figure::IntentP99,
    ];

    fn label(self) -> &'static str {
        match self {
            Figure::Saturation => "saturation events/s",
            Figure::RiskP50 => "tick→risk p50 at 100k/s",
            Figure::RiskP99 => "tick→risk p99 at 100k/s",
            Figure::IntentP99 => "tick→intent p99 at 100k/s",
        }
    }

    /// The rate of the row the figure is read from.
    fn rate(self) -> &'static str {
        match self {
            Figure::Saturation => "max",
            _ => PACED_RATE,
        }
    }

    /// Whether the figure means anything with these strategies: the shipped ones send
    /// about a hundred orders a day, too few for a tick→intent p99.
    fn applies_to(self, strategies: &str) -> bool {
        self != Figure::IntentP99 || strategies == "active"
    }

    fn read(self, row: &Row) -> Option<f64> {
        match self {
            Figure::Saturation => row.events_per_sec(),
            Figure::RiskP50 => row.nanos("tick→risk p50"),
            Figure::RiskP99 => row.nanos("tick→risk p99"),
            Figure::IntentP99 => row.nanos("tick→intent p99"),
        }
    }

    fn format(self, value: f64) -> String {
        match self {
            Figure::Saturation => format!("{:.2} M", value / 1e6),
            _ => format_nanos(value.round() as u64),
        }
    }
}

/// The settings one value is read at.
#[derive(Debug, Clone, Copy)]
struct Setting<'a> {
    layout: &'a str,
    strategies: &'a str,
    control: &'a str,
}

/// The figure in each summary that has it, in summary order.
fn values(summaries: &[Summary], figure: Figure, at: Setting<'_>) -> Vec<f64> {
    summaries
        .iter()
        .filter_map(|s| {
            s.rows
                .iter()
                .find(|r| r.is(at.strategies, at.control, at.layout, figure.rate()))
                .and_then(|r| figure.read(r))
        })
        .collect()
}

/// P&L events per summary for the `pnl10hz` run at `rate`.
fn pnl_events(summaries: &[Summary], layout: &str, strategies: &str, rate: &str) -> Vec<f64> {
    summaries
        .iter()
        .filter_map(|s| {
            s.rows
                .iter()
                .find(|r| r.is(strategies, "pnl10hz", layout, rate))
                .and_then(|r| r.number("pnl events"))
        })
        .collect()
}

/// `median (low–high)`, just the value for one repetition, `–` for none.
fn spread(values: &[f64], format: impl Fn(f64) -> String) -> String {
    let low = values.iter().copied().fold(f64::INFINITY, f64::min);
    let high = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    match values.len() {
        0 => "–".to_owned(),
        1 => format(values[0]),
        _ => format!(
            "{} ({}–{})",
            format(median(values)),
            format(low),
            format(high)
        ),
    }
}

/// The ratio of two medians as `1.013×`, `–` when either side has no value.
fn ratio(numerator: &[f64], denominator: &[f64]) -> String {
    let (n, d) = (median(numerator), median(denominator));
    if numerator.is_empty() || denominator.is_empty() || d == 0.0 {
        "–".to_owned()
    } else {
        format!("{:.3}×", n / d)
    }
}

/// Whether the two sets of repetitions overlap: each median inside the other's range.
/// With one repetition a side there is no range, and nothing to say.
fn within_noise(a: &[f64], b: &[f64]) -> &'static str {
    if a.len() < 2 || b.len() < 2 {
        return "–";
    }
    let inside = |v: f64, set: &[f64]| {
        let low = set.iter().copied().fold(f64::INFINITY, f64::min);
        let high = set.iter().copied().fold(f64::NEG_INFINITY, f64::max);
        (low..=high).contains(&v)
    };
    if inside(median(a), b) && inside(median(b), a) {
        "yes"
    } else {
        "**no**"
    }
}

/// Values of a column over every summary, in first-seen order.
fn distinct(summaries: &[&Summary], pick: impl Fn(&Row) -> Option<&str>) -> Vec<String> {
    let mut seen = Vec::new();
    for row in summaries.iter().flat_map(|s| &s.rows) {
        if let Some(v) = pick(row) {
            if !seen.iter().any(|s: &String| s == v) {
                seen.push(v.to_owned());
            }
        }
    }
    seen
}

/// The layouts and strategy settings the engine ran in any of `summaries`.
fn engine_rows(summaries: &[&Summary]) -> (Vec<String>, Vec<String>) {
    let layouts = distinct(summaries, |r| {
        (r.engine == "engine").then_some(r.layout.as_str())
    });
    let strategies = distinct(summaries, |r| {
        (r.engine == "engine").then_some(r.strategies.as_str())
    });
    (layouts, strategies)
}

fn before_after(input: &Input) -> String {
    let mut out = format!(
        "\n## Before vs after, control off (repetitions: {} before, {} after)\n\n",
        input.before.len(),
        input.after.len()
    );
    let all: Vec<&Summary> = input.before.iter().chain(&input.after).collect();
    let (layouts, strategy_sets) = engine_rows(&all);
    let mut table = Table::new(&[
        "figure",
        "layout",
        "strategies",
        "before",
        "after",
        "after/before",
        "within noise",
    ])
    .align(1, Align::Left)
    .align(2, Align::Left);
    for figure in Figure::ALL {
        for layout in &layouts {
            for strategies in strategy_sets.iter().filter(|s| figure.applies_to(s)) {
                let at = Setting {
                    layout,
                    strategies,
                    control: "off",
                };
                let before = values(&input.before, figure, at);
                let after = values(&input.after, figure, at);
                table.row(vec![
                    figure.label().to_owned(),
                    layout.clone(),
                    strategies.clone(),
                    spread(&before, |v| figure.format(v)),
                    spread(&after, |v| figure.format(v)),
                    ratio(&after, &before),
                    within_noise(&before, &after).to_owned(),
                ]);
            }
        }
    }
    out.push_str(&table.render());
    out
}

fn modes(input: &Input) -> String {
    let mut out = format!(
        "\n## Control modes, current build (repetitions: {})\n\n",
        input.modes.len()
    );
    if input.modes.is_empty() {
        out.push_str("Not run.\n");
        return out;
    }
    let all: Vec<&Summary> = input.modes.iter().collect();
    let (layouts, strategy_sets) = engine_rows(&all);
    let mut table = Table::new(&[
        "figure",
        "layout",
        "strategies",
        "off",
        "idle",
        "pnl10hz",
        "idle/off",
        "pnl10hz/off",
    ])
    .align(1, Align::Left)
    .align(2, Align::Left);
    for figure in Figure::ALL {
        for layout in &layouts {
            for strategies in strategy_sets.iter().filter(|s| figure.applies_to(s)) {
                let at = |control| Setting {
                    layout,
                    strategies,
                    control,
                };
                let off = values(&input.modes, figure, at("off"));
                let idle = values(&input.modes, figure, at("idle"));
                let pnl = values(&input.modes, figure, at("pnl10hz"));
                table.row(vec![
                    figure.label().to_owned(),
                    layout.clone(),
                    strategies.clone(),
                    spread(&off, |v| figure.format(v)),
                    spread(&idle, |v| figure.format(v)),
                    spread(&pnl, |v| figure.format(v)),
                    ratio(&idle, &off),
                    ratio(&pnl, &off),
                ]);
            }
        }
    }
    out.push_str(&table.render());

    let _ = writeln!(
        out,
        "\nP&L snapshots the `pnl10hz` client received per run (a run fails if it got \
         none in more than 0.2 s; at 100k/s a run of N events lasts N / 100 000 s, so \
         about one snapshot per 10 000 events):\n"
    );
    let rates = distinct(&all, |r| Some(r.rate.as_str()));
    let mut pnl = Table::new(&["layout", "strategies", "rate", "pnl events"])
        .align(1, Align::Left)
        .align(2, Align::Left);
    for layout in &layouts {
        for strategies in &strategy_sets {
            for rate in &rates {
                let events = pnl_events(&input.modes, layout, strategies, rate);
                if !events.is_empty() {
                    pnl.row(vec![
                        layout.clone(),
                        strategies.clone(),
                        rate.clone(),
                        spread(&events, |v| format!("{v:.0}")),
                    ]);
                }
            }
        }
    }
    out.push_str(&pnl.render());
    out
}

/// The three load averages of a `/proc/loadavg` line (the rest is process counts).
fn load_average(line: &str) -> String {
    line.split_whitespace()
        .take(3)
        .collect::<Vec<_>>()
        .join(" ")
}

/// `command` with the value of its `--out` (a directory under the temporary directory,
/// different in every invocation) replaced by a placeholder.
fn without_out_dir(command: &str) -> String {
    let mut words = Vec::new();
    let mut replace_next = false;
    for word in command.split(' ') {
        if replace_next {
            words.push("<run dir>");
            replace_next = false;
        } else {
            replace_next = word == "--out";
            words.push(word);
        }
    }
    words.join(" ")
}

/// Which commit and command each phase ran, from the summaries themselves.
fn sources(input: &Input) -> String {
    let mut out = String::new();
    for (phase, summaries) in [
        ("before", &input.before),
        ("after", &input.after),
        ("control modes", &input.modes),
    ] {
        if summaries.is_empty() {
            continue;
        }
        let commits: BTreeSet<&str> = summaries
            .iter()
            .map(|s| s.commit.as_deref().unwrap_or("unknown"))
            .collect();
        let commands: BTreeSet<String> = summaries
            .iter()
            .map(|s| without_out_dir(s.command.as_deref().unwrap_or("unknown")))
            .collect();
        let dates: Vec<&str> = summaries
            .iter()
            .map(|s| s.date.as_deref().unwrap_or("unknown"))
            .collect();
        let _ = writeln!(
            out,
            "- Runs `{phase}`, repetitions: {} ({}); commit {}; each ran `{}`",
            summaries.len(),
            dates.join(", "),
            commits
                .iter()
                .map(|c| format!("`{c}`"))
                .collect::<Vec<_>>()
                .join(", "),
            commands.into_iter().collect::<Vec<_>>().join("`, `")
        );
    }
    if !out.is_empty() {
        out.push_str(
            "- Each run wrote its summary.md, `.hgrm` and `.svg` files into `<run dir>`, a \
             directory under `$TMPDIR` that the script names when it ends; they are not \
             committed.\n",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn summary(rows: &[(&str, &str, &str, &str, &str, &str)]) -> Summary {
        // (label, layout, rate, events/s, tick→risk p50, tick→intent p99)
        let mut text = String::from(
            "- Commit: `abc`\n\n## Side by side\n\n\
             | run | layout | rate | stamp | events/s | tick→risk p50 | p99 | tick→intent p50 | p99 | n | pnl events |\n\
             | :-- | :-- | :-- | :-- | --: | --: | --: | --: | --: | --: | --: |\n",
        );
        for (label, layout, rate, eps, p50, intent) in rows {
            let stamp = if *rate == "max" {
                "actual (saturation)"
            } else {
                "intended (corrected)"
            };
            text.push_str(&format!(
                "| {label} | {layout} | {rate} | {stamp} | {eps} | {p50} | 1.0 µs | – | {intent} | 1 | 7 |\n"
            ));
        }
        figures::parse(&text).unwrap()
    }

    #[test]
    fn run_dirs_and_process_counts_are_left_out() {
        assert_eq!(
            without_out_dir("pipeline --events 5 --out /tmp/x/runs/before-1 --no-empty"),
            "pipeline --events 5 --out <run dir> --no-empty"
        );
        assert_eq!(without_out_dir("pipeline --out"), "pipeline --out");
        assert_eq!(
            load_average("1.56 2.46 2.27 3/100 25148\n"),
            "1.56 2.46 2.27"
        );
    }

    #[test]
    fn spreads_ratios_and_noise() {
        assert_eq!(spread(&[], |v| v.to_string()), "–");
        assert_eq!(spread(&[3.0], |v| v.to_string()), "3");
        assert_eq!(spread(&[3.0, 1.0, 2.0], |v| v.to_string()), "2 (1–3)");
        assert_eq!(ratio(&[110.0], &[100.0]), "1.100×");
        assert_eq!(ratio(&[], &[100.0]), "–");
        assert_eq!(ratio(&[1.0], &[0.0]), "–");
        assert_eq!(within_noise(&[1.0, 2.0, 3.0], &[2.5, 1.5, 2.2]), "yes");
        assert_eq!(within_noise(&[1.0, 2.0, 3.0], &[4.0, 5.0, 6.0]), "**no**");
        assert_eq!(within_noise(&[1.0], &[1.0, 2.0]), "–");
    }

    #[test]
    fn figures_are_read_per_setting_and_control_mode() {
        let s = summary(&[
            ("engine", "one_group", "max", "6.40 M", "1.0 ms", "–"),
            (
                "engine, control idle",
                "one_group",
                "max",
                "6.00 M",
                "1.0 ms",
                "–",
            ),
            (
                "engine, active",
                "one_group",
                "100k/s",
                "0.10 M",
                "190 ns",
                "3.1 µs",
            ),
            ("empty stages", "one_group", "max", "9.00 M", "1.0 ms", "–"),
        ]);
        let at = |strategies, control| Setting {
            layout: "one_group",
            strategies,
            control,
        };
        let sat = values(
            std::slice::from_ref(&s),
            Figure::Saturation,
            at("default", "off"),
        );
        assert_eq!(sat, [6.4e6]);
        let idle = values(
            std::slice::from_ref(&s),
            Figure::Saturation,
            at("default", "idle"),
        );
        assert_eq!(idle, [6.0e6]);
        let p50 = values(
            std::slice::from_ref(&s),
            Figure::RiskP50,
            at("active", "off"),
        );
        assert_eq!(p50, [190.0]);
        let intent = values(
            std::slice::from_ref(&s),
            Figure::IntentP99,
            at("active", "off"),
        );
        assert_eq!(intent, [3_100.0]);
        assert!(!Figure::IntentP99.applies_to("default"));
        let (layouts, strategies) = engine_rows(&[&s]);
        assert_eq!(layouts, ["one_group"]);
        assert_eq!(strategies, ["default", "active"]);
    }

    #[test]
    fn the_report_tables_name_every_setting() {
        let before = summary(&[
            ("engine", "one_group", "max", "6.40 M", "1.0 ms", "–"),
            ("engine", "one_group", "100k/s", "0.10 M", "180 ns", "–"),
        ]);
        let after = summary(&[
            ("engine", "one_group", "max", "6.20 M", "1.0 ms", "–"),
            ("engine", "one_group", "100k/s", "0.10 M", "185 ns", "–"),
        ]);
        let modes_run = summary(&[
            ("engine", "one_group", "100k/s", "0.10 M", "185 ns", "–"),
            (
                "engine, control pnl10hz",
                "one_group",
                "100k/s",
                "0.10 M",
                "190 ns",
                "–",
            ),
        ]);
        let input = Input {
            before: vec![before],
            after: vec![after],
            modes: vec![modes_run],
        };
        let table = before_after(&input);
        assert!(table.contains("| saturation events/s"), "{table}");
        assert!(table.contains("6.40 M"), "{table}");
        assert!(table.contains("0.969×"), "{table}");
        assert!(table.contains("1.028×"), "{table}");
        let modes_table = modes(&input);
        assert!(modes_table.contains("1.027×"), "{modes_table}");
        assert!(modes_table.contains("| one_group | default    | 100k/s |          7 |"));
        assert!(sources(&input).contains("commit `abc`"));
    }
}
