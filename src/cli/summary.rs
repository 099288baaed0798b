//! The end-of-run summary a trader reads.

use std::fmt::Write;

use super::format::{count, pnl, rate};
use crate::{
    engine::RunReport,
    metrics::{format_nanos, LatencyHistogram},
    model::InstrumentTable,
};

/// Renders the summary of a finished run.
pub fn render(report: &RunReport, instruments: &InstrumentTable, title: &str) -> String {
    let mut out = String::new();
    let stage = |name: &str| report.stage(name);
    let counter = |name: &str, key: &str| stage(name).map_or(0, |s| s.counter(key));
    let wall = report.wall.as_secs_f64().max(1e-9);

    let _ = writeln!(out, "\n══ tickpipe run summary ══ {title}");
    let _ = writeln!(out, "layout    {}", report.layout);
    let ticks = counter("feed", "ticks");
    let _ = writeln!(
        out,
        "market    {} ticks, {} news in {:.2} s wall ({})",
        count(ticks),
        count(counter("feed", "news")),
        wall,
        rate(ticks as f64 / wall)
    );
    let _ = writeln!(
        out,
        "flow      {} bars → {} signals → {} intents → {} orders → {} fills ({} rejected, {} signals refused)",
        count(counter("signal", "bars")),
        count(counter("signal", "signals")),
        count(counter("risk", "intents")),
        count(counter("order", "orders")),
        count(counter("order", "fills")),
        count(counter("order", "rejects")),
        count(counter("risk", "refused")),
    );

    if let Some(trading) = report.trading() {
        let open = trading.positions.iter().filter(|p| p.net != 0).count();
        let total = trading.realized.saturating_add(trading.unrealized);
        let _ = writeln!(
            out,
            "P&L       {} total = {} realised + {} unrealised ({} open positions)",
            pnl(total),
            pnl(trading.realized),
            pnl(trading.unrealized),
            open
        );
        for s in &trading.strategies {
            let name = report
                .strategy_names
                .get(s.strategy.index())
                .copied()
                .unwrap_or("?");
            let _ = writeln!(
                out,
                "  {name:<16} realised {:>14}  unrealised {:>12}  fills {:>5}  round trips {:>4}",
                pnl(s.realized),
                pnl(s.unrealized),
                s.fills,
                s.round_trips
            );
        }
        if !trading.refusals.is_empty() {
            let reasons: Vec<String> = trading
                .refusals
                .iter()
                .map(|(why, n)| format!("{why} {n}"))
                .collect();
            let _ = writeln!(out, "refused   {}", reasons.join(", "));
        }
        let mut best: Vec<_> = trading.positions.iter().collect();
        best.sort_by_key(|p| std::cmp::Reverse(p.realized.saturating_add(p.unrealized)));
        let shown: Vec<String> = best
            .iter()
            .take(3)
            .chain(best.iter().rev().take(3))
            .map(|p| {
                format!(
                    "{} {}",
                    instruments.get(p.instrument).symbol,
                    pnl(p.realized.saturating_add(p.unrealized))
                )
            })
            .collect();
        if !shown.is_empty() && best.len() > 1 {
            let _ = writeln!(out, "best/worst {}", shown.join(", "));
        }
        if trading.fills_not_logged > 0 {
            let _ = writeln!(
                out,
                "note      {} fills were not kept in the fill log (raise risk.fill_log_capacity)",
                trading.fills_not_logged
            );
        }
    }

    let _ = writeln!(out, "latency   (p50 / p99 / p99.9 / max, n)");
    if let Some(h) = stage("order").and_then(|s| s.latency("tick_to_intent")) {
        let _ = writeln!(out, "  {:<16} {}", "tick→intent", percentiles(h));
    }
    for s in report.stages() {
        let _ = writeln!(
            out,
            "  {:<16} {}",
            format!("{} service", s.name),
            percentiles(&s.service)
        );
    }
    let stalls: Vec<String> = report
        .stages()
        .iter()
        .map(|s| format!("{}→ {}", s.name, s.counter("ring_full")))
        .collect();
    let _ = writeln!(
        out,
        "rings     full-ring stalls {}; dropped {}",
        stalls.join(", "),
        count(counter("feed", "dropped"))
    );
    for g in &report.groups {
        let cpu = g
            .cpu
            .map_or("n/a".to_owned(), |c| format!("{:.2} s", c.as_secs_f64()));
        let _ = writeln!(
            out,
            "thread    {:<9} core {:<8} cpu {cpu:<8} busy rounds {:>10}  idle rounds {:>10}  parks {}",
            g.name,
            g.core.map_or("-".to_owned(), |c| c.to_string()),
            count(g.busy_rounds),
            count(g.wait.idle_rounds),
            count(g.wait.parks),
        );
    }
    if let Some(c) = report.control {
        let _ = writeln!(
            out,
            "control   {} connections ({} refused), {} commands, {} error replies, {} cut off",
            count(c.connections),
            count(c.refused),
            count(c.commands),
            count(c.errors),
            count(c.cut_off),
        );
    }
    if let Some((stage, error)) = report.error() {
        let _ = writeln!(out, "ERROR     {stage} stopped early: {error}");
    }
    out
}

/// `p50 / p99 / p99.9 / max (n)` of a histogram.
pub fn percentiles(h: &LatencyHistogram) -> String {
    if h.is_empty() {
        return "no samples".to_owned();
    }
    let s = h.summary();
    format!(
        "{} / {} / {} / {} (n={})",
        format_nanos(s.p50),
        format_nanos(s.p99),
        format_nanos(s.p999),
        format_nanos(s.max),
        count(s.count)
    )
}
