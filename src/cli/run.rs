//! `tickpipe run`.

use std::{
    sync::{atomic::AtomicBool, Arc},
    time::Duration,
};

use super::{load_config, status::StatusLine, summary, RunArgs};
use crate::{engine::Pipeline, feed::DurationStop, runtime::stop_on_signals};

/// Runs a session as configured and prints the summary. From the moment the
/// configuration is read, messages go to the log (`[log]`); a failure after that is
/// logged too, and when that line reaches standard error the message is left empty so
/// `main` does not say it twice.
pub(super) fn run(args: &RunArgs) -> Result<(), String> {
    let (config, origin) = load_config(args)?;
    let mut logs = crate::logging::install(&config.log)?;
    let result = session(args, &config, &origin, &mut logs);
    match result {
        Ok(()) => Ok(()),
        Err(message) => {
            tracing::error!("{message}");
            let said = logs.errors_reach_stderr();
            drop(logs);
            Err(if said { String::new() } else { message })
        }
    }
}

/// The run itself, with the log installed.
fn session(
    args: &RunArgs,
    config: &crate::engine::EngineConfig,
    origin: &str,
    logs: &mut crate::logging::Logs,
) -> Result<(), String> {
    let layout = config.layout().map_err(|e| e.to_string())?;
    let stop = Arc::new(AtomicBool::new(false));
    stop_on_signals(&stop).map_err(|e| format!("cannot install the Ctrl-C handler: {e}"))?;

    let opened = config.feed.open()?;
    let until = config.feed.until(opened.start)?;
    let title = format!("{} · config {origin}", opened.description);
    tracing::info!(
        feed = opened.description.as_str(),
        config = origin,
        layout = layout.describe().as_str(),
        "session starts"
    );
    let tail_stop = Arc::new(AtomicBool::new(false));
    let (source, news) = match &config.feed.news_file {
        Some(path) => {
            let (source, tail) = follow_news(path, opened.source, &opened.instruments, &tail_stop)?;
            (source, Some(tail))
        }
        None => (opened.source, None),
    };
    // A run whose duration is up stops as on Ctrl-C, so `risk.on_shutdown` applies; the
    // feed stage's own `until` would end the day as if the data ran out (a backtest's
    // window), leaving positions open.
    let source: Box<dyn crate::feed::MarketSource> = match until {
        Some(until) => {
            let stop = DurationStop::new(source, until, stop.clone());
            if opened.live.is_some() {
                Box::new(stop.live())
            } else {
                Box::new(stop)
            }
        }
        None => source,
    };
    let mut pipeline = Pipeline::build_with_postbacks(
        config,
        &opened.instruments,
        source,
        opened.start,
        None,
        stop.clone(),
        opened.postbacks,
    )
    .map_err(|e| e.to_string())?;
    if let Some(live) = &opened.live {
        pipeline.set_feed_link(live.clone());
    }
    match pipeline.journal_status() {
        Some((dir, None)) => tracing::info!(dir = %dir.display(), "journal opened: the day begins"),
        Some((dir, Some(r))) => tracing::info!(
            dir = %dir.display(),
            records = r.records,
            caught_up_to = %r.caught_up_to,
            "journal opened: resuming the day (its records are made again, then trading goes on)"
        ),
        None => {}
    }
    let interval = if args.quiet {
        Duration::ZERO
    } else {
        Duration::from_millis(config.runtime.status_interval_ms)
    };
    // JSON on standard error is for a machine: the gauges go as log events there, so
    // every line stays one JSON object.
    let status_as_log = logs.to_stderr() && logs.format() == crate::logging::LogFormat::Json;
    let mut status = StatusLine::new();
    status.set_feed_link(opened.live.clone());
    let report = pipeline
        .run(&layout, interval, |t| {
            if status_as_log {
                log_status(t);
            } else {
                status.update(t);
            }
            logs.note_dropped();
        })
        .map_err(|e| e.to_string())?;
    if !status_as_log {
        status.finish();
    }
    if let Some(live) = &opened.live {
        let source = config.feed.source.name();
        tracing::info!(
            source,
            counters = %live.counters(),
            skipped_by_kind = live.skipped_kinds().unwrap_or_default().as_str(),
            "live feed: the session's counts"
        );
    }
    tail_stop.store(true, std::sync::atomic::Ordering::Release);
    let news = news
        .map(|tail| {
            tail.join()
                .map_err(|_| "the news file thread panicked".to_owned())
        })
        .transpose()?;
    print!("{}", summary::render(&report, &opened.instruments, &title));
    // Relaxed: the flag carries no data, and every stage thread has been joined.
    if stop.load(std::sync::atomic::Ordering::Relaxed) {
        warn_open_positions(&report, &opened.instruments, config.risk.on_shutdown);
    }
    if let Some(news) = &news {
        println!(
            "news file {}: {} items at the start, {} appended, {} bad line{} skipped{}",
            news.path.display(),
            news.preloaded,
            news.appended,
            news.rejected,
            if news.rejected == 1 { "" } else { "s" },
            if news.restarts > 0 {
                format!(", re-read {} times after it shrank", news.restarts)
            } else {
                String::new()
            }
        );
    }
    if let Some(dir) = &args.report {
        write_report(dir, &report, config, &opened.instruments, &title)?;
    }
    if let Some(path) = &config.filters.history_file {
        record_closes(path, &report, &opened.instruments, opened.start)?;
    }
    if let Some(path) = &args.summary_json {
        let mut json = summary::to_json(&report, &opened.instruments, &title);
        if let Some(news) = &news {
            json["news_file"] = serde_json::json!({
                "path": news.path.display().to_string(),
                "preloaded": news.preloaded,
                "appended": news.appended,
                "rejected": news.rejected,
                "restarts": news.restarts,
            });
        }
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

/// Reads the news file's items and starts following it: the source with the items let
/// in by market time, and the thread that reads appended lines until `stop`.
fn follow_news(
    path: &std::path::Path,
    source: Box<dyn crate::feed::MarketSource>,
    instruments: &crate::model::InstrumentTable,
    stop: &Arc<AtomicBool>,
) -> Result<
    (
        Box<dyn crate::feed::MarketSource>,
        std::thread::JoinHandle<crate::feed::news::NewsFileReport>,
    ),
    String,
> {
    use crate::feed::news::{NewsFile, WithNews};
    /// Appended items waiting for the feed; the tail thread holds more when it is full.
    const RING: usize = 1024;
    let mut file = NewsFile::open(path, instruments)?;
    let preloaded = std::mem::take(&mut file.preloaded);
    let (tx, rx) = tickpipe_ringbuf::channel(RING);
    let tail = file
        .spawn_tail(tx, stop.clone())
        .map_err(|e| format!("cannot start the news file thread: {e}"))?;
    Ok((Box::new(WithNews::new(source, preloaded, Some(rx))), tail))
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

/// After a stop (Ctrl-C, `SIGTERM`, `--duration` up, a fatal error), names every position still open on
/// standard error, so leaving them is never silent: all of them under
/// `risk.on_shutdown = "leave"`, and under `"flatten"` those whose exits did not fill.
fn warn_open_positions(
    report: &crate::engine::RunReport,
    instruments: &crate::model::InstrumentTable,
    policy: crate::risk::ShutdownPolicy,
) {
    let Some(trading) = report.trading() else {
        return;
    };
    let open: Vec<_> = trading.positions.iter().filter(|p| p.net != 0).collect();
    if open.is_empty() {
        return;
    }
    let why = match policy {
        crate::risk::ShutdownPolicy::Leave => "risk.on_shutdown = \"leave\"",
        crate::risk::ShutdownPolicy::Flatten => "their exits did not fill before the stop",
    };
    let why = why.to_owned();
    tracing::warn!(
        open = open.len(),
        why = why.as_str(),
        "the run stopped with positions OPEN at the broker"
    );
    for p in open {
        tracing::warn!(
            instrument = instruments.get(p.instrument).symbol.as_str(),
            net = p.net,
            avg_price = %p.avg_price,
            mark = %p.mark,
            unrealized = %p.unrealized,
            "position left open"
        );
    }
}

/// The status line's gauges as one log event (for JSON on standard error).
fn log_status(t: &crate::metrics::Telemetry) {
    use crate::model::{Money, Price};
    let market = t.market_time();
    let pnl = Money::from_raw(i128::from(t.risk.pnl_paise.get()) * i128::from(Price::SCALE / 100));
    tracing::info!(
        target: "tickpipe::status",
        market_time = %market,
        ticks = t.feed.ticks.get(),
        signals = t.signal.signals.get(),
        orders = t.order.orders.get(),
        fills = t.order.fills.get(),
        open_positions = t.risk.open_positions.get(),
        pnl = %pnl,
        "status"
    );
}

/// `--report DIR`: the run's round trips, priced with the run's cost model.
fn write_report(
    dir: &std::path::Path,
    report: &crate::engine::RunReport,
    config: &crate::engine::EngineConfig,
    instruments: &crate::model::InstrumentTable,
    title: &str,
) -> Result<(), String> {
    use crate::{
        charges::{ChargeModel, Charger},
        report::{write_trade_report, ReportContext, TradeBook},
    };
    let Some(trading) = report.trading() else {
        return Err("--report: the run ended without the risk stage's book".to_owned());
    };
    if trading.fills_not_logged > 0 {
        tracing::warn!(
            not_logged = trading.fills_not_logged,
            "--report: fills were not kept in the fill log (raise risk.fill_log_capacity); \
             the report leaves them out"
        );
    }
    let charger = Charger::new(ChargeModel::new(&config.charges), instruments);
    let book = TradeBook::of(&trading.fills, &charger).map_err(|e| format!("--report: {e}"))?;
    let context = ReportContext {
        strategy_names: &report.strategy_names,
        instruments,
        capital: config.risk.capital,
        title,
    };
    let written = write_trade_report(dir, &book, &context)?;
    println!(
        "report    {} round trips in {}",
        book.trades.len(),
        written
            .iter()
            .map(|p| p.display().to_string())
            .collect::<Vec<_>>()
            .join(", ")
    );
    Ok(())
}
