//! The `decode` scenario: what the Kite Ticker decoder costs per packet, by packet
//! kind, against a plain copy of the same bytes in the same run.
//!
//! One packet takes a few nanoseconds, less than two TSC reads, so each sample times a
//! batch of one-packet messages (two reads around the batch) and records the batch
//! time divided by its size; p50 and p99 are over those per-packet samples. The
//! messages of a kind are 256 different ones, cycled, so the branch predictor cannot
//! learn a single message. `decode` is [`KiteDecoder::decode`] with the packet (and, in
//! full mode, depth) handed to `black_box`; `decode + tick` also builds the engine's
//! `Tick`; `memcpy` copies the message into a stack buffer, the floor of touching the
//! bytes at all. Each rep runs every row of every kind once, interleaved.

use std::{error::Error, fmt::Write as _, fs, hint::black_box, path::PathBuf};

use clap::Args;
use hdrhistogram::Histogram;
use quanta::Clock;
use tickpipe::{
    feed::kite::{Decoded, KiteDecoder, Layout},
    model::InstrumentId,
};

use crate::{
    report::{Provenance, Table},
    stats::median,
};

/// Options of the `decode` scenario.
#[derive(Debug, Args)]
pub struct DecodeArgs {
    /// Repetitions of every measurement; the report gives the median.
    #[arg(long, default_value_t = 5, value_parser = clap::value_parser!(u32).range(1..))]
    reps: u32,
    /// Timed batches per row and rep.
    #[arg(long, default_value_t = 20_000)]
    batches: u32,
    /// Messages per timed batch.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u32).range(1..))]
    batch: u32,
    /// Also write the Markdown report to this file.
    #[arg(long)]
    out: Option<PathBuf>,
}

const KINDS: [(Layout, &str); 5] = [
    (Layout::Ltp, "ltp (8 B)"),
    (Layout::IndexQuote, "index quote (28 B)"),
    (Layout::IndexFull, "index full (32 B)"),
    (Layout::Quote, "quote (44 B)"),
    (Layout::Full, "full (184 B)"),
];

#[derive(Debug, Clone, Copy)]
enum Row {
    Decode,
    DecodeTick,
    Memcpy,
}

const ROWS: [Row; 3] = [Row::Decode, Row::DecodeTick, Row::Memcpy];

/// 256 one-packet messages of `layout`, with varied tokens and values.
fn messages(layout: Layout) -> Vec<Vec<u8>> {
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = move || {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        state as u32
    };
    (0..256)
        .map(|_| {
            let len = layout.packet_len();
            let mut msg = vec![0, 1];
            msg.extend_from_slice(&(len as u16).to_be_bytes());
            let token = (next() % 5_000_000) << 8 | [1, 2, 3, 9][next() as usize % 4];
            msg.extend_from_slice(&token.to_be_bytes());
            while msg.len() < 4 + len {
                msg.extend_from_slice(&(next() % 10_000_000).to_be_bytes());
            }
            msg.truncate(4 + len);
            msg
        })
        .collect()
}

/// Per-packet samples (in hundredths of a nanosecond) of `row` over `msgs`.
fn measure(args: &DecodeArgs, clock: &Clock, row: Row, msgs: &[Vec<u8>]) -> Histogram<u64> {
    let mut h = Histogram::<u64>::new_with_bounds(1, 10_000_000_000, 3).expect("valid bounds");
    let mut decoder = KiteDecoder::default();
    let mut buf = [0u8; 256];
    let mut k = 0usize;
    for _ in 0..args.batches {
        let t0 = clock.raw();
        for _ in 0..args.batch {
            let msg = &msgs[k & 255];
            k += 1;
            match row {
                Row::Decode => decoder.decode(msg, |d| {
                    if let Decoded::Packet { packet, depth } = d {
                        black_box((packet, depth));
                    }
                }),
                Row::DecodeTick => decoder.decode(msg, |d| {
                    if let Decoded::Packet { packet, depth } = d {
                        black_box(packet.to_tick(InstrumentId(1), depth, Some(0)));
                    }
                }),
                Row::Memcpy => {
                    buf[..msg.len()].copy_from_slice(black_box(msg));
                    black_box(&buf);
                }
            }
        }
        let t1 = clock.raw();
        let centi_ns = clock.delta_as_nanos(t0, t1) * 100 / u64::from(args.batch);
        h.saturating_record(centi_ns.max(1));
    }
    black_box(decoder.packets());
    h
}

/// Runs the scenario and prints (and with `--out`, writes) the report.
///
/// # Errors
/// The report file cannot be written.
pub fn run(args: &DecodeArgs) -> Result<(), Box<dyn Error>> {
    let provenance = Provenance::collect();
    let clock = Clock::new();
    let msgs: Vec<Vec<Vec<u8>>> = KINDS.iter().map(|(l, _)| messages(*l)).collect();
    // [kind][row] -> per rep [p50, p99] in ns.
    let mut results = vec![vec![Vec::<[f64; 2]>::new(); ROWS.len()]; KINDS.len()];
    for rep in 0..args.reps {
        for (k, msgs) in msgs.iter().enumerate() {
            for (r, row) in ROWS.into_iter().enumerate() {
                let h = measure(args, &clock, row, msgs);
                results[k][r].push([
                    h.value_at_quantile(0.50) as f64 / 100.0,
                    h.value_at_quantile(0.99) as f64 / 100.0,
                ]);
            }
        }
        eprintln!(
            "tickpipe-bench: decode rep {} of {} done",
            rep + 1,
            args.reps
        );
    }
    let med = |k: usize, r: usize, q: usize| {
        median(&results[k][r].iter().map(|x| x[q]).collect::<Vec<_>>())
    };
    let mut table = Table::new(&[
        "packet",
        "decode p50",
        "decode p99",
        "decode + tick p50",
        "decode + tick p99",
        "memcpy p50",
        "memcpy p99",
        "decode / memcpy (p50)",
    ]);
    for (k, (_, name)) in KINDS.iter().enumerate() {
        let ns = |r, q| format!("{:.1} ns", med(k, r, q));
        table.row(vec![
            (*name).to_owned(),
            ns(0, 0),
            ns(0, 1),
            ns(1, 0),
            ns(1, 1),
            ns(2, 0),
            ns(2, 1),
            format!("{:.1}×", med(k, 0, 0) / med(k, 2, 0)),
        ]);
    }
    let mut md = String::new();
    let _ = writeln!(md, "# Kite Ticker decode cost per packet\n");
    md.push_str(&provenance.to_markdown());
    let _ = writeln!(
        md,
        "- {} reps (medians shown), {} timed batches of {} one-packet messages per row and \
         rep, 256 distinct messages per kind, thread not pinned\n",
        args.reps, args.batches, args.batch
    );
    md.push_str(&table.render());
    let _ = writeln!(
        md,
        "\nPer-packet figures are batch times divided by the batch size, so the two TSC \
         reads (about 10 ns) add about 0.1 ns. `decode` includes splitting the message, \
         validating lengths and (full mode) the ten depth levels; `decode + tick` adds \
         the engine's `Tick`; `memcpy` copies the whole message once."
    );
    print!("{md}");
    if let Some(out) = &args.out {
        fs::write(out, &md)?;
    }
    Ok(())
}
