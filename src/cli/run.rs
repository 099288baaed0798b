//! `tickpipe run`.

use std::{
    sync::{atomic::AtomicBool, Arc},
    time::Duration,
};

use super::{load_config, status::StatusLine, summary, RunArgs};
use crate::{engine::Pipeline, runtime::stop_on_signals};

/// Runs a session as configured and prints the summary.
pub(super) fn run(args: &RunArgs) -> Result<(), String> {
    let (config, origin) = load_config(args)?;
    let layout = config.layout().map_err(|e| e.to_string())?;
    let stop = Arc::new(AtomicBool::new(false));
    stop_on_signals(&stop).map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))?;

    let opened = config.feed.open()?;
    let until = config.feed.until(opened.start)?;
    let title = format!("{} · config {origin}", opened.description);
    eprintln!("tickpipe: {title}");
    eprintln!("tickpipe: layout {}", layout.describe());
    let pipeline = Pipeline::build(&config, &opened.instruments, opened.source, until, stop)
        .map_err(|e| e.to_string())?;
    let interval = if args.quiet {
        Duration::ZERO
    } else {
        Duration::from_millis(config.runtime.status_interval_ms)
    };
    let mut status = StatusLine::new();
    let report = pipeline
        .run(&layout, interval, |t| status.update(t))
        .map_err(|e| e.to_string())?;
    status.finish();
    print!("{}", summary::render(&report, &opened.instruments, &title));
    if let Some(path) = &config.filters.history_file {
        record_closes(path, &report, &opened.instruments, opened.start)?;
    }
    if let Some(path) = &args.summary_json {
        let json = summary::to_json(&report, &opened.instruments, &title);
        let text = serde_json::to_string_pretty(&json)
            .map_err(|e| format!("cannot write the summary as JSON: {e}"))?;
        std::fs::write(path, text + "\n")
            .map_err(|e| format!("cannot write the JSON summary to {}: {e}", path.display()))?;
    }
    if config.feed.pacing() == Ok(crate::feed::Pacing::Max) {
        println!(
            "note      at speed max the feed runs ahead of the strategies, so tick→intent includes \
             time queued in the rings; --speed N measures it at a live-like rate"
        );
    }
    if let Some((stage, error)) = report.error() {
        let file = match (&config.feed.source, &config.feed.replay_file) {
            (crate::feed::SourceKind::Replay, Some(path)) if stage == "feed" => {
                format!(" reading {}", path.display())
            }
            _ => String::new(),
        };
        return Err(format!("the {stage} stage stopped early{file}: {error}"));
    }
    Ok(())
}

/// Appends the day's closes to the history file, so the next session's day-level filters
/// see this day.
fn record_closes(
    path: &std::path::Path,
    report: &crate::engine::RunReport,
    instruments: &crate::model::InstrumentTable,
    start: crate::model::UnixNanos,
) -> Result<(), String> {
    use std::io::Write;
    let Some(signals) = report.signals() else {
        return Ok(());
    };
    let header = !path.exists();
    let rows = crate::signal::filter::DayHistory::rows(
        instruments,
        start.ist_date(),
        &signals.closes,
        header,
    );
    let mut file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(|e| format!("cannot open the history file {}: {e}", path.display()))?;
    file.write_all(rows.as_bytes())
        .map_err(|e| format!("cannot write the history file {}: {e}", path.display()))
}
