//! The `ring` scenario: tickpipe's SPSC ring against `rtrb`, crossbeam's `ArrayQueue` and a
//! raw atomic ping-pong, for throughput (8- and 64-byte messages, one at a time and in
//! batches) and round-trip latency.
//!
//! Every measurement is repeated `--reps` times, interleaved across queues so slow drifts
//! of the machine hit all of them alike, and the report gives the median of the reps.

mod files;
mod latency;
mod message;
mod queues;
mod throughput;

use std::{
    error::Error,
    fmt::Write as _,
    fs,
    path::{Path, PathBuf},
};

use clap::Args;
use hdrhistogram::Histogram;
use quanta::Clock;

use self::{
    message::{Message, Msg64, Msg8},
    queues::{CrossbeamArrayQueue, Ours, Queue, Rtrb},
    throughput::{Band, Mode},
};
use crate::{
    pin::CorePair,
    report::{Align, Provenance, Table},
    stats::{median, median_interval},
};

/// Options of the `ring` scenario.
#[derive(Debug, Args)]
pub struct RingArgs {
    /// Repetitions of every measurement; the report gives the median.
    #[arg(long, default_value_t = 7, value_parser = clap::value_parser!(u32).range(1..))]
    reps: u32,
    /// Messages per throughput run.
    #[arg(long, default_value_t = 20_000_000)]
    messages: u64,
    /// Measured round trips per latency run (after a fixed warm-up).
    #[arg(long, default_value_t = 500_000)]
    round_trips: u64,
    /// Slots per queue (a power of two).
    #[arg(long, default_value_t = 4096)]
    capacity: usize,
    /// Messages per chunk in the batched rows.
    #[arg(long, default_value_t = 64)]
    batch: usize,
    /// Dummy work steps (dependent multiply-adds) the throughput consumer does per message;
    /// 0 measures the bare queue. A diagnostic: it shows how throughput depends on which
    /// side of the queue is faster.
    #[arg(long, default_value_t = 0)]
    consumer_work: u32,
    /// Do not pin the two threads to cores 0 and 1.
    #[arg(long)]
    no_pin: bool,
    /// Also write the Markdown report to this file.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The queues compared, in table order.
const QUEUES: [&str; 3] = ["tickpipe-ringbuf", "rtrb", "crossbeam ArrayQueue"];

/// One throughput run: mode, messages, capacity, cores → outcome.
type ThroughputFn = fn(&throughput::Setup) -> throughput::Outcome;

/// One latency run: round trips, capacity, cores, clock → histogram.
type LatencyFn = fn(u64, usize, Option<CorePair>, &Clock) -> Histogram<u64>;

/// A throughput row: one message size and mode, one cell per queue.
struct ThroughputRow {
    size: &'static str,
    mode: Mode,
    /// Per queue (in [`QUEUES`] order): the runner, or `None` if it has no batch API.
    runs: [Option<ThroughputFn>; 3],
    /// Million messages per second, one per rep, per queue.
    results: [Vec<f64>; 3],
    /// Producer full polls and consumer empty polls per 1000 messages, one per rep, per
    /// queue.
    polls: [Vec<(f64, f64)>; 3],
    /// Messages and time per fill band, summed over reps, per queue.
    bands: [[throughput::BandTally; Band::ALL.len()]; 3],
}

fn row_for<M: Message>(mode: Mode) -> ThroughputRow {
    let batch_only = |has_batch: bool, f: ThroughputFn| match mode {
        Mode::Batch(_) if !has_batch => None,
        _ => Some(f),
    };
    ThroughputRow {
        size: M::LABEL,
        mode,
        runs: [
            batch_only(<Ours as Queue<M>>::HAS_BATCH, throughput::run::<Ours, M>),
            batch_only(<Rtrb as Queue<M>>::HAS_BATCH, throughput::run::<Rtrb, M>),
            batch_only(
                <CrossbeamArrayQueue as Queue<M>>::HAS_BATCH,
                throughput::run::<CrossbeamArrayQueue, M>,
            ),
        ],
        results: Default::default(),
        polls: Default::default(),
        bands: Default::default(),
    }
}

/// A latency row: one queue (or the floor).
struct LatencyRow {
    name: &'static str,
    run: LatencyFn,
    /// Per rep: p50, p99, p99.9, max in nanoseconds.
    results: Vec<[f64; 4]>,
    /// Per rep: every measured round trip, for the `.hgrm` and plot files.
    histograms: Vec<Histogram<u64>>,
}

fn floor_run(
    round_trips: u64,
    _capacity: usize,
    cores: Option<CorePair>,
    clock: &Clock,
) -> Histogram<u64> {
    latency::floor(round_trips, cores, clock)
}

/// Runs the scenario and prints (and with `--out`, writes) the report.
///
/// # Errors
/// Invalid options, or the report file cannot be written.
pub fn run(args: &RingArgs) -> Result<(), Box<dyn Error>> {
    if !args.capacity.is_power_of_two() {
        return Err(format!("--capacity must be a power of two, got {}", args.capacity).into());
    }
    if args.batch == 0 || args.batch > args.capacity {
        return Err(format!(
            "--batch must be between 1 and --capacity ({}), got {}",
            args.capacity, args.batch
        )
        .into());
    }
    if args.messages == 0 || args.round_trips == 0 {
        return Err("--messages and --round-trips must be at least 1".into());
    }
    let provenance = Provenance::collect();
    let cores = if args.no_pin {
        None
    } else {
        CorePair::first_two()
    };
    let clock = Clock::new();

    let mut rows = vec![
        row_for::<Msg8>(Mode::Single),
        row_for::<Msg8>(Mode::Batch(args.batch)),
        row_for::<Msg64>(Mode::Single),
        row_for::<Msg64>(Mode::Batch(args.batch)),
    ];
    let mut latencies = vec![
        LatencyRow {
            name: "raw atomic floor",
            run: floor_run,
            results: Vec::new(),
            histograms: Vec::new(),
        },
        LatencyRow {
            name: QUEUES[0],
            run: latency::queue::<Ours>,
            results: Vec::new(),
            histograms: Vec::new(),
        },
        LatencyRow {
            name: QUEUES[1],
            run: latency::queue::<Rtrb>,
            results: Vec::new(),
            histograms: Vec::new(),
        },
        LatencyRow {
            name: QUEUES[2],
            run: latency::queue::<CrossbeamArrayQueue>,
            results: Vec::new(),
            histograms: Vec::new(),
        },
    ];

    let setup = |mode| throughput::Setup {
        mode,
        messages: args.messages,
        capacity: args.capacity,
        cores,
        consumer_work: args.consumer_work,
    };
    eprintln!("ring: warming up");
    for row in &rows {
        for f in row.runs.iter().flatten() {
            f(&throughput::Setup {
                messages: (args.messages / 10).max(1),
                ..setup(row.mode)
            });
        }
    }
    for rep in 1..=args.reps {
        eprintln!("ring: repetition {rep} of {}", args.reps);
        for row in &mut rows {
            for (q, f) in row.runs.iter().enumerate() {
                if let Some(f) = f {
                    let spacer = spacer(rep);
                    let outcome = f(&setup(row.mode));
                    drop(spacer);
                    let per_k = |polls: u64| polls as f64 * 1000.0 / args.messages as f64;
                    row.results[q].push(args.messages as f64 / outcome.elapsed.as_secs_f64() / 1e6);
                    row.polls[q].push((per_k(outcome.full_polls), per_k(outcome.empty_polls)));
                    for (sum, tally) in row.bands[q].iter_mut().zip(outcome.bands) {
                        sum.add(tally);
                    }
                }
            }
        }
        for row in &mut latencies {
            let spacer = spacer(rep);
            let h = (row.run)(args.round_trips, args.capacity, cores, &clock);
            drop(spacer);
            row.results.push([
                h.value_at_quantile(0.50) as f64,
                h.value_at_quantile(0.99) as f64,
                h.value_at_quantile(0.999) as f64,
                h.max() as f64,
            ]);
            row.histograms.push(h);
        }
    }

    let files_dir = args.out.as_deref().map(files_dir);
    let files_link = files_dir
        .as_deref()
        .and_then(Path::file_name)
        .map(|d| d.to_string_lossy().into_owned());
    let report = render(
        args,
        &provenance,
        cores,
        &rows,
        &latencies,
        files_link.as_deref(),
    );
    print!("{report}");
    if let (Some(path), Some(dir)) = (&args.out, &files_dir) {
        fs::write(path, &report).map_err(|e| format!("cannot write {}: {e}", path.display()))?;
        eprintln!("ring: report written to {}", path.display());
        let queues: Vec<(&str, &[Histogram<u64>])> = latencies
            .iter()
            .map(|row| (row.name, row.histograms.as_slice()))
            .collect();
        fs::create_dir_all(dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
        for (name, contents) in files::latency_files(&queues, &provenance) {
            let file = dir.join(name);
            fs::write(&file, contents)
                .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
        }
        eprintln!("ring: latency files written to {}", dir.display());
    }
    Ok(())
}

/// The folder for the `.hgrm` and `.svg` files beside the report `out`: its path without
/// the extension (`latency-reports/ring.md` → `latency-reports/ring/`).
fn files_dir(out: &Path) -> PathBuf {
    out.with_extension("")
}

/// An allocation, of a different size for each rep, to hold while the rep's queues are
/// made: it moves them to other addresses, and so (on a mesh CPU) to other cache-line home
/// slices. Otherwise the allocator hands every rep the same lines and a whole run measures
/// one placement.
fn spacer(rep: u32) -> Vec<u8> {
    std::hint::black_box(vec![0u8; 64 + 4352 * rep as usize])
}

fn mode_label(mode: Mode) -> String {
    match mode {
        Mode::Single => "one at a time".to_owned(),
        Mode::Batch(n) => format!("batch {n}"),
    }
}

/// "median (min–max)" of a rep series.
fn spread(values: &[f64], decimals: usize) -> String {
    let min = values.iter().copied().fold(f64::INFINITY, f64::min);
    let max = values.iter().copied().fold(f64::NEG_INFINITY, f64::max);
    format!(
        "{:.decimals$} ({min:.decimals$}–{max:.decimals$})",
        median(values)
    )
}

/// Coverage of the interval given for each row's ours / rtrb ratio.
const RATIO_COVERAGE: f64 = 0.95;

/// How our ring compared with rtrb on one throughput row, rep by rep.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Versus {
    /// Median of the per-rep ratios ours / rtrb.
    ratio: f64,
    /// Its confidence interval, when there are reps enough for one.
    interval: Option<(f64, f64)>,
}

/// Where a row stands against the target "at least rtrb's throughput".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Verdict {
    /// The median ratio is 1 or more.
    AtLeast,
    /// Under 1, but the interval reaches 1: the run cannot tell the two apart.
    Level,
    /// The interval lies wholly under 1 (or, without an interval, the median ratio is
    /// under 1): measurably slower.
    Behind,
}

impl Versus {
    /// Pairs rep `i` of `ours` with rep `i` of `theirs` (the reps are interleaved).
    fn of(ours: &[f64], theirs: &[f64]) -> Versus {
        let ratios: Vec<f64> = ours.iter().zip(theirs).map(|(a, b)| a / b).collect();
        Versus {
            ratio: median(&ratios),
            interval: median_interval(&ratios, RATIO_COVERAGE).map(|(lo, hi, _)| (lo, hi)),
        }
    }

    fn verdict(&self) -> Verdict {
        if self.ratio >= 1.0 {
            Verdict::AtLeast
        } else if self.interval.is_some_and(|(_, hi)| hi >= 1.0) {
            Verdict::Level
        } else {
            Verdict::Behind
        }
    }

    /// The table cell: `1.73× (1.21–2.40)`.
    fn cell(&self) -> String {
        match self.interval {
            Some((lo, hi)) => format!("{:.2}× ({lo:.2}–{hi:.2})", self.ratio),
            None => format!("{:.2}×", self.ratio),
        }
    }

    /// For the targets line: `0.998×, interval 0.97–1.02`.
    fn describe(&self) -> String {
        match self.interval {
            Some((lo, hi)) => format!("{:.3}×, interval {lo:.2}–{hi:.2}", self.ratio),
            None => format!("{:.3}×", self.ratio),
        }
    }
}

fn render(
    args: &RingArgs,
    provenance: &Provenance,
    cores: Option<CorePair>,
    rows: &[ThroughputRow],
    latencies: &[LatencyRow],
    files_link: Option<&str>,
) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "# Ring: tickpipe-ringbuf vs rtrb vs crossbeam ArrayQueue\n"
    );
    out.push_str(&provenance.to_markdown());
    let _ = writeln!(
        out,
        "- Settings: {} slots per queue; {} messages per throughput run{}; {} measured round \
         trips per latency run; {} repetitions, interleaved across queues, median reported; \
         threads {}; release profile (fat LTO, one codegen unit).\n",
        args.capacity,
        args.messages,
        match args.consumer_work {
            0 => String::new(),
            n => format!(" with {n} dummy work steps per message in the consumer"),
        },
        args.round_trips,
        args.reps,
        CorePair::describe(cores),
    );

    let _ = writeln!(
        out,
        "## Throughput\n\nMillion messages per second, producer and consumer on two threads; \
         median of {} reps with (min–max). The consumer checks every message's sequence \
         number and content. `ours / rtrb` is the median of the {} per-rep ratios (each rep \
         runs the queues back to back, so a ratio compares them under the same host \
         conditions) with its {:.0}% confidence interval (sign test; shown from 6 reps).\n",
        args.reps,
        args.reps,
        RATIO_COVERAGE * 100.0,
    );
    let mut table = Table::new(&[
        "message",
        "mode",
        QUEUES[0],
        QUEUES[1],
        QUEUES[2],
        "ours / rtrb",
    ])
    .align(1, Align::Left);
    let mut slower_rows = Vec::new();
    let mut level_rows = Vec::new();
    for row in rows {
        let cells: Vec<String> = row
            .results
            .iter()
            .zip(&row.runs)
            .map(|(r, f)| match f {
                Some(_) => spread(r, 1),
                None => "no batch API".to_owned(),
            })
            .collect();
        let versus = Versus::of(&row.results[0], &row.results[1]);
        let label = format!("{} {}", row.size, mode_label(row.mode));
        match versus.verdict() {
            Verdict::AtLeast => {}
            Verdict::Level => level_rows.push(format!("{label} ({})", versus.describe())),
            Verdict::Behind => slower_rows.push(format!("{label} ({})", versus.describe())),
        }
        table.row(vec![
            row.size.to_owned(),
            mode_label(row.mode),
            cells[0].clone(),
            cells[1].clone(),
            cells[2].clone(),
            versus.cell(),
        ]);
    }
    out.push_str(&table.render());

    let _ = writeln!(
        out,
        "\nWhere each run spent its waiting: polls that found the queue full (producer) / \
         empty (consumer) per 1000 messages, median of reps. Many empty polls mean the \
         consumer ran right behind the producer, sharing the cache lines it was writing; \
         many full polls mean the queue stayed full and the consumer set the pace.\n"
    );
    let mut table =
        Table::new(&["message", "mode", QUEUES[0], QUEUES[1], QUEUES[2]]).align(1, Align::Left);
    for row in rows {
        let mut cells = vec![row.size.to_owned(), mode_label(row.mode)];
        for (polls, run) in row.polls.iter().zip(&row.runs) {
            cells.push(match run {
                Some(_) => {
                    let full = median(&polls.iter().map(|p| p.0).collect::<Vec<_>>());
                    let empty = median(&polls.iter().map(|p| p.1).collect::<Vec<_>>());
                    format!("{full:.0} / {empty:.0}")
                }
                None => "—".to_owned(),
            });
        }
        table.row(cells);
    }
    out.push_str(&table.render());

    render_bands(&mut out, rows, args.reps);

    let _ = writeln!(
        out,
        "\n## Round-trip latency\n\nNanoseconds for a two-thread ping-pong of an 8-byte \
         message (one queue each way; both sides spin), timed with the TSC around each round \
         trip; median over {} reps of each rep's percentile.\n",
        args.reps
    );
    let floor_p50 = median(
        &latencies[0]
            .results
            .iter()
            .map(|r| r[0])
            .collect::<Vec<_>>(),
    );
    let mut table = Table::new(&[
        "queue",
        "p50",
        "p99",
        "p99.9",
        "max",
        "p50 / floor",
        "p50 of each rep",
    ]);
    let mut ours_vs_floor = f64::NAN;
    for row in latencies {
        let col = |i: usize| median(&row.results.iter().map(|r| r[i]).collect::<Vec<_>>());
        let ratio = col(0) / floor_p50;
        if row.name == QUEUES[0] {
            ours_vs_floor = ratio;
        }
        table.row(vec![
            row.name.to_owned(),
            format!("{:.0}", col(0)),
            format!("{:.0}", col(1)),
            format!("{:.0}", col(2)),
            format!("{:.0}", col(3)),
            format!("{ratio:.2}×"),
            row.results
                .iter()
                .map(|r| format!("{:.0}", r[0]))
                .collect::<Vec<_>>()
                .join(" "),
        ]);
    }
    out.push_str(&table.render());
    if let Some(dir) = files_link {
        let _ = writeln!(
            out,
            "\nPercentile files in [`{dir}/`]({dir}/): [`{svg}`]({dir}/{svg}) plots the four \
             round-trip distributions together; `{hgrm}` holds each (HdrHistogram format, \
             µs). Each merges all {} reps' histograms, so its percentiles are over every \
             round trip of the run, not the median of per-rep percentiles given above.",
            args.reps,
            svg = files::SVG_NAME,
            hgrm = files::hgrm_name("<queue>"),
        );
    }

    let _ = writeln!(out, "\n## Targets\n");
    let level = if level_rows.is_empty() {
        String::new()
    } else {
        format!(
            "; level with rtrb within this run's noise (median ratio under 1, interval \
             reaching 1): {}",
            level_rows.join(", ")
        )
    };
    if slower_rows.is_empty() {
        let _ = writeln!(
            out,
            "- Throughput at least rtrb's on every row: **met**, no row measurably slower{level}."
        );
    } else {
        let _ = writeln!(
            out,
            "- Throughput at least rtrb's on every row: **missed** on {} (interval wholly \
             under 1){level}.",
            slower_rows.join(", ")
        );
    }
    let verdict = if ours_vs_floor <= 1.10 {
        "met"
    } else {
        "missed"
    };
    let _ = writeln!(
        out,
        "- Ping-pong p50 within 10% of the raw atomic floor: **{verdict}** ({:+.1}%).",
        (ours_vs_floor - 1.0) * 100.0
    );
    let _ = writeln!(
        out,
        "\n## Reading these numbers\n\n\
         - Tail percentiles (p99.9, max) on a virtual machine mostly measure the host: vCPU \
         preemption, interrupts and other tenants stall a spinning thread for microseconds \
         to milliseconds, whatever the queue. Compare queues by p50 and p99.\n\
         - Each round trip includes two TSC reads, the same for every row.\n\
         - `ArrayQueue` is a multi-producer multi-consumer queue used here single-producer \
         single-consumer; it has no batch API, so its batched cells are empty."
    );
    out
}

/// The table of how full each queue was while it moved its messages, and how fast it moved
/// them in each state.
fn render_bands(out: &mut String, rows: &[ThroughputRow], reps: u32) {
    let _ = writeln!(
        out,
        "\nWhere the messages went: the share of each row's messages the consumer received \
         while the queue was under 1/16 full, in between, or over 15/16 full, and the rate \
         in that state (million messages per second), over all {reps} reps. The harness \
         measures the fill itself (the producer publishes its count every capacity/64 \
         messages; the consumer reads it and the clock every 4096), the same way for every \
         queue. Which state a run settles in moves its rate as much as the queue's code \
         does (a small change in the harness loop can tip a row from one to another), so \
         the lines under the table also compare ours and rtrb within the same state.\n"
    );
    let mut headings = vec!["message", "mode", "queue"];
    headings.extend(Band::ALL.iter().map(|b| b.label()));
    let mut table = Table::new(&headings)
        .align(1, Align::Left)
        .align(2, Align::Left);
    for row in rows {
        for ((name, tallies), run) in QUEUES.iter().zip(&row.bands).zip(&row.runs) {
            if run.is_none() {
                continue;
            }
            let shares = throughput::BandTally::shares(tallies);
            let mut cells = vec![
                row.size.to_owned(),
                mode_label(row.mode),
                (*name).to_owned(),
            ];
            cells.extend(
                tallies
                    .iter()
                    .enumerate()
                    .map(|(i, t)| match (shares, t.rate()) {
                        (Some(shares), Some(rate)) => format!("{:.0}% at {rate:.0}", shares[i]),
                        _ => "—".to_owned(),
                    }),
            );
            table.row(cells);
        }
    }
    out.push_str(&table.render());
    out.push('\n');
    for row in rows {
        if let Some(line) = same_state_comparison(row) {
            let _ = writeln!(out, "- {} {}: {line}", row.size, mode_label(row.mode));
        }
    }
}

/// Ours against rtrb in the band where both spent most of a row's messages, or `None`
/// when their main bands differ (or a queue did not run).
fn same_state_comparison(row: &ThroughputRow) -> Option<String> {
    let main_band = |tallies: &[throughput::BandTally; Band::ALL.len()]| {
        let shares = throughput::BandTally::shares(tallies)?;
        let (i, t) = tallies.iter().enumerate().max_by_key(|(_, t)| t.messages)?;
        Some((i, shares[i], t.rate()))
    };
    let (ours_band, ours_share, ours_rate) = main_band(&row.bands[0])?;
    let (rtrb_band, rtrb_share, rtrb_rate) = main_band(&row.bands[1])?;
    if ours_band != rtrb_band {
        return Some(format!(
            "the two settled in different states (ours mostly {}, rtrb mostly {}).",
            Band::ALL[ours_band].label(),
            Band::ALL[rtrb_band].label()
        ));
    }
    let (ours_rate, rtrb_rate) = (ours_rate?, rtrb_rate?);
    Some(format!(
        "both mostly {} ({ours_share:.0}% and {rtrb_share:.0}% of messages); there ours \
         moved {ours_rate:.0} and rtrb {rtrb_rate:.0} M msg/s ({:.2}×).",
        Band::ALL[ours_band].label(),
        ours_rate / rtrb_rate
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rows_are_judged_on_paired_ratios_and_their_interval() {
        let theirs = [100.0; 7];
        // Ahead on the median rep.
        let ahead = Versus::of(&[90.0, 101.0, 102.0, 103.0, 104.0, 105.0, 80.0], &theirs);
        assert_eq!(ahead.ratio, 1.02);
        assert_eq!(ahead.verdict(), Verdict::AtLeast);
        // Just under on the median, but some reps ahead: level within the noise.
        let level = Versus::of(&[97.0, 98.0, 99.0, 99.5, 100.5, 101.0, 96.0], &theirs);
        assert_eq!(level.verdict(), Verdict::Level);
        assert_eq!(level.interval, Some((0.96, 1.01)));
        // Every rep behind: measurably slower.
        let behind = Versus::of(&[50.0, 60.0, 70.0, 80.0, 90.0, 95.0, 99.0], &theirs);
        assert_eq!(behind.verdict(), Verdict::Behind);
        assert_eq!(behind.cell(), "0.80× (0.50–0.99)");
        // Too few reps for an interval: the median alone decides.
        let few = Versus::of(&[99.0, 101.0, 98.0], &[100.0; 3]);
        assert_eq!(few.interval, None);
        assert_eq!(few.verdict(), Verdict::Behind);
        assert_eq!(few.cell(), "0.99×");
    }

    #[test]
    fn reps_are_paired_in_order() {
        // Ours doubles rtrb in every rep, even though the reps themselves vary widely.
        let v = Versus::of(&[20.0, 200.0, 60.0], &[10.0, 100.0, 30.0]);
        assert_eq!(v.ratio, 2.0);
    }
}
