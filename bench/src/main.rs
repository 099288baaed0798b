//! tickpipe's latency and throughput harness.
//!
//! One subcommand per scenario; each prints (or writes with `--out`) a Markdown report
//! that names the machine, the commit, the date and the command, so a number in
//! `latency-reports/` can always be traced back and reproduced. Build with `--release`:
//! the numbers mean nothing in a debug build.
#![deny(unsafe_code)]

mod backtest;
mod control_report;
mod decode;
mod hgrm;
mod journal;
mod pin;
mod pipeline;
mod plot;
mod report;
mod ring;
mod stamp;
mod stats;

use std::process::ExitCode;

use clap::{Parser, Subcommand};

/// tickpipe's latency and throughput harness.
#[derive(Debug, Parser)]
#[command(name = "tickpipe-bench", version, about)]
struct Cli {
    #[command(subcommand)]
    scenario: Scenario,
}

/// The scenarios.
#[derive(Debug, Subcommand)]
enum Scenario {
    /// The SPSC ring: throughput and ping-pong latency, compared with rtrb,
    /// crossbeam's ArrayQueue and a raw atomic ping-pong.
    Ring(ring::RingArgs),
    /// The whole engine fed by an open-loop generator at a fixed rate or at saturation:
    /// tick-to-intent and per-stage latencies, corrected for coordinated omission.
    Pipeline(pipeline::PipelineArgs),
    /// What the control plane costs the pipeline, from the `pipeline` summaries that
    /// `scripts/bench-control-plane.sh` collects (before vs after, and per control mode).
    ControlReport(control_report::ControlReportArgs),
    /// The journal's append latency and throughput for 64-byte records, against a plain
    /// `BufWriter<File>` writing the same frames in the same run.
    Journal(journal::JournalArgs),
    /// The Kite Ticker decoder's cost per packet kind, against a plain copy of the
    /// same bytes in the same run.
    Decode(decode::DecodeArgs),
    /// Backtests: bars/s of `sma_cross` on a large synthetic bar data set, by stage;
    /// peak RSS at 1× and 10× the data; synthetic days/s through the whole pipeline.
    Backtest(backtest::BacktestArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.scenario {
        Scenario::Ring(args) => ring::run(&args),
        Scenario::Pipeline(args) => pipeline::run(&args),
        Scenario::ControlReport(args) => control_report::run(&args),
        Scenario::Journal(args) => journal::run(&args),
        Scenario::Decode(args) => decode::run(&args),
        Scenario::Backtest(args) => backtest::run(&args),
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("tickpipe-bench: {e}");
            ExitCode::FAILURE
        }
    }
}
