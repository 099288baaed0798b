//! The end-of-run summary a trader reads.

use std::fmt::Write;

use super::format::{count, pnl, rate, rupees};
use crate::{
    engine::RunReport,
    metrics::{format_nanos, LatencyHistogram},
    model::InstrumentTable,
    order::StrategyExecution,
    risk::PositionSnapshot,
};

/// How the summary names a charge component.
fn component_label(name: &str) -> &str {
    match name {
        "stt" => "STT",
        "sebi" => "SEBI",
        "gst" => "GST",
        other => other,
    }
}

/// One strategy's execution quality: how many intents filled, slippage against the
/// decision price (positive: worse for us), latencies (market time at a simulated
/// exchange, wall time at a broker), refusals.
fn execution_line(e: &StrategyExecution, wall_clock: bool) -> String {
    let rejects = if e.rejects.is_empty() {
        "none".to_owned()
    } else {
        let parts: Vec<String> = e
            .rejects
            .iter()
            .map(|(why, n)| format!("{why} {n}"))
            .collect();
        parts.join(", ")
    };
    let nanos = |n: Option<u64>| n.map_or("-".to_owned(), format_nanos);
    format!(
        "execution: fill rate {:.1}% ({}/{} intents, {} partly), slippage avg {:+.2} bps p95 {:+} bps ({} to P&L over {} fills), ack {} fill {} ({} time, p50), rejects {}",
        e.fill_rate_pct(),
        e.filled,
        e.intents,
        e.partial,
        e.avg_centi_bps as f64 / 100.0,
        e.p95_bps,
        pnl(e.slippage.neg()),
        e.fills,
        nanos(e.ack_p50_nanos),
        nanos(e.fill_p50_nanos),
        if wall_clock { "wall" } else { "market" },
        rejects
    )
}

/// A side as the broker spells it.
fn side_name(side: crate::model::Side) -> &'static str {
    match side {
        crate::model::Side::Buy => "BUY",
        crate::model::Side::Sell => "SELL",
    }
}

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
    let placed = counter("order", "protect_placed");
    if placed > 0 {
        let _ = writeln!(
            out,
            "protect   {} broker stops placed, {} modified, {} replaced, {} cancelled, {} triggered, {} expired, {} left resting",
            count(placed),
            count(counter("order", "protect_modified")),
            count(counter("order", "protect_replaced")),
            count(counter("order", "protect_cancelled")),
            count(counter("order", "protect_triggered")),
            count(counter("order", "protect_expired")),
            count(counter("order", "protect_left")),
        );
    }
    for stop in report
        .execution()
        .map_or(&[][..], |e| e.protective_left.as_slice())
    {
        let _ = writeln!(
            out,
            "          left at the broker: {} {} {} units, trigger {}, order {}",
            stop.symbol,
            side_name(stop.side),
            stop.qty.get(),
            stop.trigger,
            stop.venue_order_id.as_deref().unwrap_or("unknown"),
        );
    }
    if let Some(regime) = report.signals().and_then(|s| s.regime.as_ref()) {
        let _ = writeln!(out, "regime    {}", regime_line(regime));
    }

    if let Some(trading) = report.trading() {
        let open = trading.positions.iter().filter(|p| p.net != 0).count();
        let gross = trading.realized.saturating_add(trading.unrealized);
        let charges = trading.charges.total();
        let _ = writeln!(
            out,
            "P&L       gross {} = {} realised + {} unrealised; charges {}; net {} ({} open positions)",
            pnl(gross),
            pnl(trading.realized),
            pnl(trading.unrealized),
            rupees(charges),
            pnl(gross.saturating_add(charges.neg())),
            open
        );
        let parts: Vec<String> = trading
            .charges
            .components()
            .iter()
            .map(|(name, m)| format!("{} {}", component_label(name), rupees(*m)))
            .collect();
        let _ = writeln!(
            out,
            "charges   {} = {}; equity {}",
            rupees(charges),
            parts.join(", "),
            rupees(trading.equity)
        );
        for s in &trading.strategies {
            let i = s.strategy.index();
            let name = report.strategy_names.get(i).copied().unwrap_or("?");
            let _ = writeln!(
                out,
                "  {name:<16} gross {:>13}  charges {:>11}  net {:>13}  unrealised {:>10}  fills {:>5}  round trips {:>4}",
                pnl(s.realized),
                rupees(s.charges),
                pnl(s.realized.saturating_add(s.charges.neg())),
                pnl(s.unrealized),
                s.fills,
                s.round_trips
            );
            let sent = report
                .signals()
                .and_then(|sig| sig.strategies.get(i))
                .map_or(String::new(), |sig| {
                    let filtered: Vec<String> = sig
                        .filtered
                        .iter()
                        .map(|(why, n)| format!(", {} {why}", count(*n)))
                        .collect();
                    format!(
                        "signals {} ({} entries, {} suppressed while paused{})",
                        count(sig.signals),
                        count(sig.entries),
                        count(sig.suppressed),
                        filtered.concat()
                    )
                });
            let refused = trading
                .refusals_by_strategy
                .get(i)
                .filter(|r| !r.is_empty())
                .map_or("none refused".to_owned(), |r| {
                    let reasons: Vec<String> =
                        r.iter().map(|(why, n)| format!("{why} {n}")).collect();
                    format!("refused {}", reasons.join(", "))
                });
            let _ = writeln!(out, "  {:<16} {sent}; {refused}", "");
            if let Some(line) = report
                .signals()
                .and_then(|sig| sig.allocation.as_ref())
                .and_then(|a| allocation_line(a, i))
            {
                let _ = writeln!(out, "  {:<16} {line}", "");
            }
            if let Some(line) = report
                .execution()
                .and_then(|e| Some(execution_line(e.strategies.get(i)?, e.wall_clock)))
            {
                let _ = writeln!(out, "  {:<16} {line}", "");
            }
        }
        if !trading.refusals.is_empty() {
            let reasons: Vec<String> = trading
                .refusals
                .iter()
                .map(|(why, n)| format!("{why} {n}"))
                .collect();
            let _ = writeln!(out, "refused   {}", reasons.join(", "));
        }
        let _ = writeln!(out, "risk      {}", risk_events_line(&trading.risk_events));
        for change in &trading.risk_events.state_changes {
            let (_, time) = crate::risk::ist_day_and_time(change.at);
            let _ = writeln!(
                out,
                "          {time} {} → {} ({})",
                change.from, change.to, change.reason
            );
        }
        let _ = writeln!(out, "exits     {}", forced_exits_line(trading));
        let net = |p: &PositionSnapshot| {
            p.realized
                .saturating_add(p.unrealized)
                .saturating_add(p.charges.neg())
        };
        let mut best: Vec<_> = trading.positions.iter().collect();
        best.sort_by_key(|p| std::cmp::Reverse(net(p)));
        let shown: Vec<String> = best
            .iter()
            .take(3)
            .chain(best.iter().rev().take(3))
            .map(|p| format!("{} {}", instruments.get(p.instrument).symbol, pnl(net(p))))
            .collect();
        if !shown.is_empty() && best.len() > 1 {
            let _ = writeln!(out, "best/worst {} (net of charges)", shown.join(", "));
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
    // tick→intent, then the hops it is made of (each from the same ingress stamp).
    for (stage_name, name, label) in INTENT_HOPS {
        if let Some(h) = stage(stage_name)
            .and_then(|s| s.latency(name))
            .filter(|h| name == "tick_to_intent" || !h.is_empty())
        {
            let _ = writeln!(out, "  {label:<16} {}", percentiles(h));
        }
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
    let _ = writeln!(out, "alerts    {}", control_drops_line(report));
    if let Some(j) = &report.journal {
        let _ = writeln!(out, "journal   {}", journal_line(report, j));
    }
    if let Some((stage, error)) = report.error() {
        let _ = writeln!(out, "ERROR     {stage} stopped early: {error}");
    }
    out
}

/// The stages that journal, with the writer each one appends to.
/// `tick_to_intent` and the hops it is made of, by stage: (stage, latency, label). Each is
/// measured from the causing event's ingress stamp: `tick_to_signal` over every signal
/// sent to risk (refused ones included), the others over the intents, so the differences
/// between the last three rows are what risk, the ring and the order stage added.
const INTENT_HOPS: [(&str, &str, &str); 4] = [
    ("order", "tick_to_intent", "tick→intent"),
    ("signal", "tick_to_signal", "tick→signal"),
    ("risk", "tick_to_approval", "tick→approval"),
    ("order", "tick_to_order_stage", "tick→order stage"),
];

const JOURNALING: [&str; 4] = ["feed", "signal", "risk", "order"];

/// Where the run was journaled and what each stage wrote there.
/// What the stages could not tell the control thread: alerts given up (their ring and
/// backlog were full) and rows of the fills stream dropped, per stage when any.
fn control_drops_line(report: &RunReport) -> String {
    let per_stage = |key: &str| -> (u64, String) {
        let parts: Vec<(&str, u64)> = report
            .stages()
            .iter()
            .map(|s| (s.name, s.counter(key)))
            .filter(|&(_, n)| n > 0)
            .collect();
        let total = parts.iter().map(|&(_, n)| n).sum();
        let detail = parts
            .iter()
            .map(|&(name, n)| format!("{name} {}", count(n)))
            .collect::<Vec<_>>()
            .join(", ");
        (total, detail)
    };
    let (alerts, alert_detail) = per_stage("alerts_dropped");
    let (rows, row_detail) = per_stage("control_rows_dropped");
    let with = |n: u64, detail: String| {
        if detail.is_empty() {
            count(n)
        } else {
            format!("{} ({detail})", count(n))
        }
    };
    format!(
        "dropped {}; fills-stream rows dropped {}",
        with(alerts, alert_detail),
        with(rows, row_detail)
    )
}

fn journal_line(report: &RunReport, j: &crate::engine::JournalOutcome) -> String {
    let mut total = 0;
    let mut failed = 0;
    let mut per = Vec::new();
    for name in JOURNALING {
        let Some(stage) = report.stage(name) else {
            continue;
        };
        let n = stage.counter("journal_records");
        failed += stage.counter("journal_failures");
        if n > 0 {
            total += n;
            per.push(format!("{name} {}", count(n)));
        }
    }
    let mut line = format!(
        "{}: {} records ({}), flush {}",
        j.dir.display(),
        count(total),
        per.join(", "),
        j.flush
    );
    if failed > 0 {
        line.push_str(&format!("; {} appends FAILED", count(failed)));
    }
    if let Some(e) = &j.error {
        line.push_str(&format!("; flusher error: {e}"));
    }
    if let Some(r) = &j.resumed {
        line.push_str(&format!(
            "\n          resumed the day: {} journaled records made again and checked, {} \
             operator command{} replayed, caught up to {}{}",
            count(r.records as u64),
            r.replayed,
            if r.replayed == 1 { "" } else { "s" },
            r.caught_up_to,
            if r.torn.is_empty() {
                String::new()
            } else {
                format!("; torn tail cut: {}", r.torn.join("; "))
            }
        ));
    }
    if !j.ended {
        line.push_str(
            "\n          the day did not end cleanly: the next start of this day resumes it",
        );
    }
    line
}

/// One strategy's allocation at the end: weight, state, reviews, what shadow held back
/// and what the shadow book made.
fn allocation_line(a: &crate::signal::allocation::AllocationReport, i: usize) -> Option<String> {
    let s = a.strategies.get(i)?;
    Some(format!(
        "allocation {} at weight {}% after {} reviews (state switches: {}); rolling {} round trips {} ({} won); {} entries shadowed, shadow P&L {} over {} paper round trips",
        if s.shadow { "shadow" } else { "active" },
        s.weight_pct,
        a.reviews,
        s.switches,
        s.live.trips,
        pnl(s.live.net),
        s.live.wins,
        count(u64::from(s.shadowed)),
        pnl(s.shadow_trips.net),
        s.shadow_trips.trips,
    ))
}

/// Where the regime ended, and how the index bars were read.
fn regime_line(regime: &crate::signal::RegimeSummary) -> String {
    let last = regime
        .last
        .as_ref()
        .map_or("not known".to_owned(), |(label, permille)| {
            format!("{label} (p {:.3})", f64::from(*permille) / 1000.0)
        });
    let by: Vec<String> = regime
        .bars_by_regime
        .iter()
        .map(|(label, n)| format!("{label} {}", count(*n)))
        .collect();
    format!(
        "{last} at the end; {} index bars read as {}; {} switches",
        count(regime.bars),
        by.join(", "),
        count(regime.switches)
    )
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

/// Everything the printed summary shows, as one JSON object (`tickpipe run
/// --summary-json FILE`), so scripts and nightly paper runs read results without parsing
/// text. Money is an exact decimal string; latencies are nanoseconds.
pub fn to_json(
    report: &RunReport,
    instruments: &InstrumentTable,
    title: &str,
) -> serde_json::Value {
    use serde_json::{json, Map, Value};
    let counter = |name: &str, key: &str| report.stage(name).map_or(0, |s| s.counter(key));
    let money = |m: crate::model::Money| Value::String(m.to_string());
    let latency = |h: &LatencyHistogram| {
        if h.is_empty() {
            return json!({"n": 0});
        }
        json!({
            "n": h.len(),
            "p50_ns": h.value_at_quantile(0.5),
            "p99_ns": h.value_at_quantile(0.99),
            "p999_ns": h.value_at_quantile(0.999),
            "max_ns": h.histogram().max(),
        })
    };
    let reasons = |list: &[(&'static str, u64)]| {
        Value::Object(
            list.iter()
                .map(|(why, n)| ((*why).to_owned(), json!(n)))
                .collect::<Map<String, Value>>(),
        )
    };
    let mut v = json!({
        "title": title,
        "layout": report.layout,
        "wall_secs": report.wall.as_secs_f64(),
        "market": {
            "ticks": counter("feed", "ticks"),
            "news": counter("feed", "news"),
            "scheduled_commands": counter("feed", "scheduled"),
        },
        "flow": {
            "bars": counter("signal", "bars"),
            "signals": counter("signal", "signals"),
            "filtered": counter("signal", "filtered"),
            "intents": counter("risk", "intents"),
            "orders": counter("order", "orders"),
            "fills": counter("order", "fills"),
            "rejects": counter("order", "rejects"),
            "refused": counter("risk", "refused"),
        },
        "protective_stops": {
            "placed": counter("order", "protect_placed"),
            "modified": counter("order", "protect_modified"),
            "replaced": counter("order", "protect_replaced"),
            "cancelled": counter("order", "protect_cancelled"),
            "triggered": counter("order", "protect_triggered"),
            "expired": counter("order", "protect_expired"),
            "left": counter("order", "protect_left"),
            "left_resting": report
                .execution()
                .map_or(&[][..], |e| e.protective_left.as_slice())
                .iter()
                .map(|stop| json!({
                    "instrument": stop.symbol,
                    "side": side_name(stop.side),
                    "qty": stop.qty.get(),
                    "trigger": stop.trigger.to_string(),
                    "order_id": stop.venue_order_id,
                }))
                .collect::<Vec<_>>(),
        },
    });
    if let Some(regime) = report.signals().and_then(|s| s.regime.as_ref()) {
        v["regime"] = json!({
            "last": regime.last.as_ref().map(|(label, _)| label),
            "last_probability": regime.last.as_ref().map(|(_, p)| f64::from(*p) / 1000.0),
            "bars": regime.bars,
            "switches": regime.switches,
            "bars_by_regime": Value::Object(
                regime
                    .bars_by_regime
                    .iter()
                    .map(|(label, n)| (label.clone(), json!(n)))
                    .collect::<Map<String, Value>>(),
            ),
        });
    }
    if let Some(trading) = report.trading() {
        let signals = report.signals();
        let strategies: Vec<Value> = trading
            .strategies
            .iter()
            .map(|s| {
                let i = s.strategy.index();
                let sig = signals.and_then(|x| x.strategies.get(i));
                let execution = report.execution().and_then(|e| {
                    let x = e.strategies.get(i)?;
                    Some(json!({
                        "intents": x.intents,
                        "filled": x.filled,
                        "partial": x.partial,
                        "fill_rate_pct": x.fill_rate_pct(),
                        "fills": x.fills,
                        "slippage": money(x.slippage),
                        "slippage_avg_bps": x.avg_centi_bps as f64 / 100.0,
                        "slippage_p95_bps": x.p95_bps,
                        "ack_p50_ns": x.ack_p50_nanos,
                        "fill_p50_ns": x.fill_p50_nanos,
                        "timed_in": if e.wall_clock { "wall_time" } else { "market_time" },
                        "rejects": reasons(&x.rejects),
                    }))
                });
                json!({
                    "name": report.strategy_names.get(i).copied().unwrap_or("?"),
                    "signals": sig.map_or(0, |x| x.signals),
                    "entries": sig.map_or(0, |x| x.entries),
                    "suppressed": sig.map_or(0, |x| x.suppressed),
                    "filtered": reasons(sig.map_or(&[][..], |x| &x.filtered[..])),
                    "refusals": reasons(trading.refusals_by_strategy.get(i).map_or(&[][..], |r| &r[..])),
                    "fills": s.fills,
                    "round_trips": s.round_trips,
                    "realized": money(s.realized),
                    "unrealized": money(s.unrealized),
                    "total": money(s.realized.saturating_add(s.unrealized)),
                    "charges": money(s.charges),
                    "net_realized": money(s.realized.saturating_add(s.charges.neg())),
                    "net": money(s.realized.saturating_add(s.unrealized).saturating_add(s.charges.neg())),
                    "execution": execution,
                    "allocation": signals
                        .and_then(|x| x.allocation.as_ref())
                        .and_then(|a| a.strategies.get(i).map(|s| (a.reviews, s)))
                        .map_or(Value::Null, |(reviews, s)| json!({
                            "state": if s.shadow { "shadow" } else { "active" },
                            "weight_pct": s.weight_pct,
                            "reviews": reviews,
                            "switches": s.switches,
                            "shadowed_signals": s.shadowed,
                            "shadow_pnl": money(s.shadow_trips.net),
                            "shadow_round_trips": s.shadow_trips.trips,
                            "rolling": {
                                "round_trips": s.live.trips,
                                "wins": s.live.wins,
                                "net": money(s.live.net),
                                "losses": money(s.live.losses),
                            },
                        })),
                })
            })
            .collect();
        let positions: Vec<Value> = trading
            .positions
            .iter()
            .map(|p| {
                json!({
                    "symbol": instruments.get(p.instrument).symbol,
                    // Units under their own key: `net` here is money, as it is under
                    // `pnl` and per strategy (`ctl positions`, which has no net money,
                    // calls the units `net`).
                    "net_qty": p.net,
                    "realized": money(p.realized),
                    "unrealized": money(p.unrealized),
                    "charges": money(p.charges),
                    "net": money(p.realized.saturating_add(p.unrealized).saturating_add(p.charges.neg())),
                })
            })
            .collect();
        let charges = trading.charges.total();
        let gross = trading.realized.saturating_add(trading.unrealized);
        v["pnl"] = json!({
            "realized": money(trading.realized),
            "unrealized": money(trading.unrealized),
            "total": money(gross),
            "open_positions": trading.positions.iter().filter(|p| p.net != 0).count(),
            "charges": money(charges),
            "charges_breakdown": trading
                .charges
                .components()
                .iter()
                .map(|(name, m)| ((*name).to_owned(), money(*m)))
                .collect::<Map<String, Value>>(),
            "net_realized": money(trading.realized.saturating_add(charges.neg())),
            "net": money(gross.saturating_add(charges.neg())),
            "equity": money(trading.equity),
        });
        v["strategies"] = Value::Array(strategies);
        v["refusals"] = reasons(&trading.refusals);
        let events = &trading.risk_events;
        v["risk_events"] = json!({
            "trading_state": events.final_state.as_str(),
            "trading_state_reason": events.final_reason.as_str(),
            "state_changes": events
                .state_changes
                .iter()
                .map(|c| json!({
                    "time": crate::risk::ist_day_and_time(c.at).1.to_string(),
                    "from": c.from.as_str(),
                    "to": c.to.as_str(),
                    "reason": c.reason.as_str(),
                }))
                .collect::<Vec<_>>(),
            "state_change_count": events.state_change_count,
            "daily_loss_hits": events.daily_loss_hits,
            "drawdown_warnings": events.drawdown_warnings,
            "drawdown_halts": events.drawdown_halts,
            "forced_exits": reasons(&events.forced_exits),
        });
        v["forced_exits"] = json!({
            "by_kind": reasons(&trading.forced_exits),
            "total": trading.forced_exits.iter().map(|(_, n)| n).sum::<u64>(),
            "retries": trading.exit_retries,
            "failed": trading.exits_failed,
            "held_by_halt": trading.exits_held_by_halt,
        });
        v["scaling"] = json!({
            "adds": trading.scale_ins,
            "adds_refused": trading.scale_ins_refused,
        });
        v["instruments"] = Value::Array(positions);
        v["fills_not_logged"] = json!(trading.fills_not_logged);
    }
    let mut lat = Map::new();
    for (stage_name, name, _) in INTENT_HOPS {
        if let Some(h) = report.stage(stage_name).and_then(|s| s.latency(name)) {
            lat.insert(name.into(), latency(h));
        }
    }
    if let Some(h) = report.stage("risk").and_then(|s| s.latency("tick_to_risk")) {
        lat.insert("tick_to_risk".into(), latency(h));
    }
    for s in report.stages() {
        lat.insert(format!("{}_service", s.name), latency(&s.service));
    }
    v["latency"] = Value::Object(lat);
    v["ring_full"] = Value::Object(
        report
            .stages()
            .iter()
            .map(|s| (s.name.to_owned(), json!(s.counter("ring_full"))))
            .collect(),
    );
    let stage_sum = |key: &str| -> u64 { report.stages().iter().map(|s| s.counter(key)).sum() };
    v["alerts_dropped"] = json!(stage_sum("alerts_dropped"));
    v["control_rows_dropped"] = json!(stage_sum("control_rows_dropped"));
    if let Some(c) = report.control {
        v["control"] = json!({
            "connections": c.connections, "refused": c.refused, "commands": c.commands,
            "errors": c.errors, "cut_off": c.cut_off,
        });
    }
    if let Some(j) = &report.journal {
        let stage = |name: &str, key: &str| report.stage(name).map_or(0, |s| s.counter(key));
        v["journal"] = json!({
            "dir": j.dir.display().to_string(),
            "flush": j.flush,
            "records": JOURNALING
                .iter()
                .map(|n| ((*n).to_owned(), json!(stage(n, "journal_records"))))
                .collect::<serde_json::Map<_, _>>(),
            "failures": JOURNALING.iter().map(|n| stage(n, "journal_failures")).sum::<u64>(),
            "error": j.error,
            "ended": j.ended,
            "resumed": j.resumed.as_ref().map(|r| json!({
                "records": r.records,
                "replayed_commands": r.replayed,
                "caught_up_to": r.caught_up_to.to_string(),
                "torn_tails": r.torn,
                "earlier_runs": r.earlier_runs,
            })),
        });
    }
    v["error"] = match report.error() {
        Some((stage, e)) => {
            json!({"stage": stage, "fatal": e.is_fatal(), "message": e.to_string()})
        }
        None => Value::Null,
    };
    v
}

/// The risk events in one line: the final state and why, the changes, limit hits and
/// forced exits.
fn risk_events_line(events: &crate::risk::RiskEventSummary) -> String {
    let forced: Vec<String> = events
        .forced_exits
        .iter()
        .map(|(why, n)| format!("{why} {n}"))
        .collect();
    format!(
        "state {} ({}) at the end, {} state changes; daily loss limit hits {}, drawdown warnings {}, drawdown halts {}; forced exits {}",
        events.final_state,
        events.final_reason,
        events.state_change_count,
        events.daily_loss_hits,
        events.drawdown_warnings,
        events.drawdown_halts,
        if forced.is_empty() { "none".to_owned() } else { forced.join(", ") }
    )
}

/// The risk stage's own exits by kind, then the retries of refused exits, the exits
/// that failed `risk.exit_max_attempts` times, and (when any) those a halt held back and
/// the adds to winners (`risk.scale_in`).
fn forced_exits_line(trading: &crate::risk::TradingSummary) -> String {
    let total: u64 = trading.forced_exits.iter().map(|(_, n)| n).sum();
    let kinds: Vec<String> = trading
        .forced_exits
        .iter()
        .map(|(kind, n)| format!("{kind} {}", count(*n)))
        .collect();
    let mut line = format!(
        "{} forced ({}); {} retried, {} failed",
        count(total),
        kinds.join(", "),
        count(trading.exit_retries),
        count(trading.exits_failed)
    );
    if trading.exits_held_by_halt > 0 {
        line += &format!("; held while halted {}", count(trading.exits_held_by_halt));
    }
    if trading.scale_ins + trading.scale_ins_refused > 0 {
        line += &format!(
            "; adds to winners {} ({} refused)",
            count(trading.scale_ins),
            count(trading.scale_ins_refused)
        );
    }
    line
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use tickpipe_ringbuf::wait::WaitStats;

    use super::to_json;
    use crate::{
        engine::RunReport,
        model::{Instrument, InstrumentTable, Money, Price, StrategyId},
        risk::{PositionSnapshot, TradingSummary},
        runtime::{GroupReport, StageReport},
    };

    /// A run whose risk stage ends holding `positions`, with nothing else in it.
    fn report_with(positions: Vec<PositionSnapshot>) -> RunReport {
        let mut risk = StageReport::new("risk");
        risk.detail = Some(Box::new(TradingSummary {
            positions,
            ..TradingSummary::default()
        }));
        RunReport {
            groups: vec![GroupReport {
                name: "risk".into(),
                core: None,
                stages: vec![risk],
                wait: WaitStats::default(),
                busy_rounds: 0,
                wall: Duration::ZERO,
                cpu: None,
            }],
            wall: Duration::ZERO,
            strategy_names: vec!["sma_cross"],
            layout: String::new(),
            control: None,
            alert_command: None,
            journal: None,
        }
    }

    #[test]
    fn each_instrument_keeps_its_units_and_its_net_money() {
        let mut table = InstrumentTable::new();
        let sector = table.sector("BANKS");
        let sbin = table.push(Instrument::nse_equity("SBIN", sector)).unwrap();
        let short = PositionSnapshot {
            instrument: sbin,
            strategy: StrategyId(0),
            net: -150,
            avg_price: Price::from_paise(81_235),
            mark: Price::from_paise(81_500),
            realized: Money::from_rupees(1_200),
            charges: Money::from_rupees(20),
            unrealized: Money::from_rupees(-397),
        };
        let v = to_json(&report_with(vec![short]), &table, "test");
        let row = &v["instruments"][0];
        assert_eq!(row["symbol"], "SBIN", "{v}");
        assert_eq!(
            row["net_qty"].as_i64(),
            Some(-150),
            "the units survive: {row}"
        );
        let net: Money = row["net"].as_str().unwrap().parse().unwrap();
        assert_eq!(
            net,
            Money::from_rupees(1_200 - 397 - 20),
            "net money is realised + unrealised - charges: {row}"
        );
        assert_eq!(v["pnl"]["open_positions"].as_u64(), Some(1));
    }
}
