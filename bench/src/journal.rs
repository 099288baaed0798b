//! The `journal` scenario: the journal's append against a plain `BufWriter<File>`
//! writing the same frames, in the same run, for 64-byte records (a `Signal`: 32-byte
//! payload, 64-byte frame).
//!
//! Latency is timed per append with the TSC clock (`quanta`, two reads around each
//! call): per-call timing shows the tail (a `BufWriter`'s `write` system call every
//! 8 KiB, a page fault after an `msync`), which a batch average would hide. The two
//! clock reads cost something themselves; the `clock only` row times an empty region
//! the same way, so it is the floor under every row. Throughput is a separate, untimed
//! run of the same appends: records / wall time, file creation excluded.
//!
//! Each rep runs every writer once, interleaved, so slow drifts of the host hit all of
//! them alike; the report gives the median over reps.

use std::{
    error::Error,
    fmt::Write as _,
    fs::{self, File},
    hint::black_box,
    io::{BufWriter, Write as _},
    path::{Path, PathBuf},
    time::Instant,
};

use clap::Args;
use hdrhistogram::Histogram;
use quanta::Clock;
use tickpipe::{
    journal::{FlushPolicy, Journal, JournalConfig, Record, Seq, MAX_FRAME},
    metrics::format_nanos,
    model::{Direction, InstrumentId, Price, Signal, Stamp, StrategyId, UnixNanos},
};

use crate::{
    report::{Provenance, Table},
    stats::median,
};

/// Options of the `journal` scenario.
#[derive(Debug, Args)]
pub struct JournalArgs {
    /// Repetitions of every measurement; the report gives the median.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    reps: u32,
    /// Records per run (each run writes records × 64 bytes).
    #[arg(long, default_value_t = 1_000_000)]
    records: u64,
    /// Journal segment size in MiB.
    #[arg(long, default_value_t = 64)]
    segment_mib: usize,
    /// Segments the journal keeps prepared ahead of the writer.
    #[arg(long, default_value_t = JournalConfig::DEFAULT.segments_ahead)]
    segments_ahead: usize,
    /// Where the files go (removed after each run); the system's temporary directory
    /// by default.
    #[arg(long)]
    dir: Option<PathBuf>,
    /// Also write the Markdown report to this file.
    #[arg(long)]
    out: Option<PathBuf>,
}

/// The writers compared, in table order.
#[derive(Debug, Clone, Copy)]
enum Contender {
    JournalNever,
    JournalEveryMs,
    BufWriter,
    ClockOnly,
}

impl Contender {
    const ALL: [Contender; 4] = [
        Contender::JournalNever,
        Contender::JournalEveryMs,
        Contender::BufWriter,
        Contender::ClockOnly,
    ];

    fn label(self) -> &'static str {
        match self {
            Contender::JournalNever => "journal, flush never",
            Contender::JournalEveryMs => "journal, flush every_ms=10",
            Contender::BufWriter => "BufWriter<File> (8 KiB), same frames",
            Contender::ClockOnly => "clock only (timing floor)",
        }
    }
}

/// One run's results.
struct Run {
    histogram: Histogram<u64>,
    records_per_sec: f64,
    roll_waits: u64,
}

fn record(k: u64) -> Record {
    Record::Signal(Signal {
        exchange_ts: UnixNanos(k),
        ingress: Stamp(0),
        price: Price::from_paise(245_005 + (k % 100) as i64),
        stop: Price::from_paise(240_000),
        target: Price::ZERO,
        instrument: InstrumentId((k % 50) as u32),
        strategy: StrategyId(1),
        direction: Direction::Long,
        weight_pct: 100,
    })
}

/// Appends `records` records with `append`, timing each call when `clock` is given.
fn drive(
    records: u64,
    clock: Option<&Clock>,
    mut append: impl FnMut(u64),
) -> (Histogram<u64>, f64) {
    let mut h = Histogram::<u64>::new_with_bounds(1, 60_000_000_000, 3).expect("valid bounds");
    let start = Instant::now();
    for k in 1..=records {
        match clock {
            Some(c) => {
                let t0 = c.raw();
                append(k);
                let t1 = c.raw();
                h.saturating_record(c.delta_as_nanos(t0, t1).max(1));
            }
            None => append(k),
        }
    }
    let secs = start.elapsed().as_secs_f64();
    (h, records as f64 / secs)
}

fn run_journal(
    dir: &Path,
    args: &JournalArgs,
    flush: FlushPolicy,
    clock: Option<&Clock>,
) -> Result<Run, Box<dyn Error>> {
    let _ = fs::remove_dir_all(dir);
    let journal = Journal::open(
        dir,
        JournalConfig {
            segment_bytes: args.segment_mib << 20,
            flush,
            segments_ahead: args.segments_ahead,
        },
    )?;
    let mut w = journal.writer("bench")?;
    let (histogram, records_per_sec) = drive(args.records, clock, |k| {
        let r = record(k);
        black_box(w.append(UnixNanos(k), &r).expect("append"));
    });
    let roll_waits = w.stats().roll_waits;
    drop(w);
    journal.shutdown()?;
    fs::remove_dir_all(dir)?;
    Ok(Run {
        histogram,
        records_per_sec,
        roll_waits,
    })
}

fn run_bufwriter(
    dir: &Path,
    args: &JournalArgs,
    clock: Option<&Clock>,
) -> Result<Run, Box<dyn Error>> {
    let _ = fs::remove_dir_all(dir);
    fs::create_dir_all(dir)?;
    let path = dir.join("bench.bin");
    let mut out = BufWriter::new(File::create(&path)?);
    let (histogram, records_per_sec) = drive(args.records, clock, |k| {
        let mut frame = [0u8; MAX_FRAME];
        let len = record(k).encode_frame(Seq(k), UnixNanos(k), &mut frame);
        out.write_all(&frame[..len]).expect("write");
    });
    out.flush()?;
    drop(out);
    fs::remove_dir_all(dir)?;
    Ok(Run {
        histogram,
        records_per_sec,
        roll_waits: 0,
    })
}

fn run_clock_only(args: &JournalArgs, clock: Option<&Clock>) -> Run {
    let (histogram, records_per_sec) = drive(args.records, clock, |k| {
        black_box(k);
    });
    Run {
        histogram,
        records_per_sec,
        roll_waits: 0,
    }
}

/// Runs the scenario and prints (and with `--out`, writes) the report.
///
/// # Errors
/// A journal or file that cannot be written, or the report file.
pub fn run(args: &JournalArgs) -> Result<(), Box<dyn Error>> {
    let provenance = Provenance::collect();
    let clock = Clock::new();
    let base = args
        .dir
        .clone()
        .unwrap_or_else(std::env::temp_dir)
        .join(format!("tickpipe-bench-journal-{}", std::process::id()));
    // Per writer: per rep [p50, p99, p99.9, max] and records/s, and roll waits.
    let mut lat: Vec<Vec<[f64; 4]>> = vec![Vec::new(); Contender::ALL.len()];
    let mut thr: Vec<Vec<f64>> = vec![Vec::new(); Contender::ALL.len()];
    let mut waits = vec![0u64; Contender::ALL.len()];
    for rep in 0..args.reps {
        for (i, w) in Contender::ALL.into_iter().enumerate() {
            for timed in [true, false] {
                let c = timed.then_some(&clock);
                let run = match w {
                    Contender::JournalNever => run_journal(&base, args, FlushPolicy::Never, c)?,
                    Contender::JournalEveryMs => {
                        run_journal(&base, args, FlushPolicy::EveryMs(10), c)?
                    }
                    Contender::BufWriter => run_bufwriter(&base, args, c)?,
                    Contender::ClockOnly => run_clock_only(args, c),
                };
                waits[i] += run.roll_waits;
                if timed {
                    let h = &run.histogram;
                    lat[i].push([
                        h.value_at_quantile(0.50) as f64,
                        h.value_at_quantile(0.99) as f64,
                        h.value_at_quantile(0.999) as f64,
                        h.max() as f64,
                    ]);
                } else {
                    thr[i].push(run.records_per_sec);
                }
            }
        }
        eprintln!(
            "tickpipe-bench: journal rep {} of {} done",
            rep + 1,
            args.reps
        );
    }
    let med = |i: usize, q: usize| median(&lat[i].iter().map(|r| r[q]).collect::<Vec<_>>());
    let mut table = Table::new(&[
        "writer",
        "p50",
        "p99",
        "p99.9",
        "max",
        "M records/s",
        "roll waits",
    ]);
    for (i, w) in Contender::ALL.into_iter().enumerate() {
        let ns = |q| format_nanos(med(i, q) as u64);
        table.row(vec![
            w.label().to_owned(),
            ns(0),
            ns(1),
            ns(2),
            ns(3),
            match w {
                Contender::ClockOnly => "–".to_owned(),
                _ => format!("{:.1}", median(&thr[i]) / 1e6),
            },
            match w {
                Contender::JournalNever | Contender::JournalEveryMs => waits[i].to_string(),
                _ => "–".to_owned(),
            },
        ]);
    }
    let (j, b) = (0, 2);
    let mut md = String::new();
    let _ = writeln!(
        md,
        "# Journal append: tickpipe journal vs BufWriter<File>\n"
    );
    md.push_str(&provenance.to_markdown());
    let _ = writeln!(
        md,
        "- Records: {} per run, 64-byte frames (a Signal), {} reps (medians shown), \
         {} MiB segments, {} prepared ahead, writer thread not pinned\n",
        args.records, args.reps, args.segment_mib, args.segments_ahead
    );
    md.push_str(&table.render());
    let _ = writeln!(
        md,
        "\nRatios, BufWriter / journal (flush never), medians: p50 {:.2}×, p99 {:.2}×, \
         throughput journal / BufWriter {:.2}×.",
        med(b, 0) / med(j, 0),
        med(b, 1) / med(j, 1),
        median(&thr[j]) / median(&thr[b]),
    );
    let _ = writeln!(
        md,
        "\nLatency is per append, two TSC reads around the call; the clock-only row is \
         what the reads themselves cost. Throughput is an untimed run: records / wall \
         time. Roll waits: segment rolls that found no prepared segment, summed over all \
         runs. On a shared 2-vCPU VM, p99.9 and max are mostly host stalls: judge by p50 \
         and p99."
    );
    print!("{md}");
    if let Some(out) = &args.out {
        fs::write(out, &md)?;
    }
    Ok(())
}
