//! The `metrics` reply: counters, gauges and latency percentiles in the Prometheus text
//! exposition format (version 0.0.4), so any scraper or `promtool` can read them.

use std::fmt::Write;

use crate::{
    control::{answer::Rows, catalog::Catalog, link::StageId},
    model::{ControlReply, TradingState, UnixNanos},
};

/// Counters that are levels, not totals: exposed as gauges.
const GAUGES: [&str; 2] = ["open_positions", "live_orders"];

/// Renders the rows of `Counters`, `Latency` and `Status` of every stage.
pub fn render(rows: &Rows, catalog: &Catalog, last_feed: (UnixNanos, u64, bool)) -> String {
    let mut out = String::new();
    for stage in StageId::ALL {
        for r in rows.of(stage) {
            if let ControlReply::Counter { name, value } = *r {
                let metric = format!("tickpipe_{}_{}", stage.name(), name);
                if GAUGES.contains(&name) {
                    family(
                        &mut out,
                        &metric,
                        "gauge",
                        &format!("{} of the {} stage", name.replace('_', " "), stage.name()),
                    );
                    let _ = writeln!(out, "{metric} {value}");
                } else {
                    let total = format!("{metric}_total");
                    family(
                        &mut out,
                        &total,
                        "counter",
                        &format!(
                            "{} counted by the {} stage",
                            name.replace('_', " "),
                            stage.name()
                        ),
                    );
                    let _ = writeln!(out, "{total} {value}");
                }
            }
        }
    }
    let risk = rows.of(StageId::Risk).iter().find_map(|r| match *r {
        ControlReply::Risk {
            state,
            realized,
            unrealized,
            ..
        } => Some((state, realized, unrealized)),
        _ => None,
    });
    if let Some((state, realized, unrealized)) = risk {
        family(
            &mut out,
            "tickpipe_pnl_rupees",
            "gauge",
            "profit and loss in rupees, before charges",
        );
        for (kind, m) in [
            ("realized", realized),
            ("unrealized", unrealized),
            ("total", realized.saturating_add(unrealized)),
        ] {
            let _ = writeln!(out, "tickpipe_pnl_rupees{{kind=\"{kind}\"}} {m}");
        }
        family(
            &mut out,
            "tickpipe_trading_state",
            "gauge",
            "1 for the trading state in force",
        );
        for s in [
            TradingState::Active,
            TradingState::Reducing,
            TradingState::Halted,
        ] {
            let _ = writeln!(
                out,
                "tickpipe_trading_state{{state=\"{}\"}} {}",
                s.as_str(),
                u8::from(s == state)
            );
        }
    }
    let (market, _, finished) = super::answer::feed_row(rows).unwrap_or(last_feed);
    family(
        &mut out,
        "tickpipe_market_time_seconds",
        "gauge",
        "market time of the last event, seconds since the Unix epoch",
    );
    let _ = writeln!(out, "tickpipe_market_time_seconds {}", market.secs());
    family(
        &mut out,
        "tickpipe_session_ended",
        "gauge",
        "1 once the market data source has ended",
    );
    let _ = writeln!(out, "tickpipe_session_ended {}", u8::from(finished));
    family(
        &mut out,
        "tickpipe_strategies",
        "gauge",
        "strategies configured",
    );
    let _ = writeln!(out, "tickpipe_strategies {}", catalog.strategies().len());
    family(
        &mut out,
        "tickpipe_latency_nanoseconds",
        "gauge",
        "latency percentiles per stage, nanoseconds",
    );
    for stage in StageId::ALL {
        for r in rows.of(stage) {
            if let ControlReply::Latency {
                name,
                p50,
                p99,
                p999,
                max,
                ..
            } = *r
            {
                for (q, v) in [("0.5", p50), ("0.99", p99), ("0.999", p999), ("1", max)] {
                    let _ = writeln!(
                        out,
                        "tickpipe_latency_nanoseconds{{stage=\"{}\",name=\"{name}\",quantile=\"{q}\"}} {v}",
                        stage.name()
                    );
                }
            }
        }
    }
    family(
        &mut out,
        "tickpipe_latency_samples",
        "gauge",
        "samples behind each latency histogram",
    );
    for stage in StageId::ALL {
        for r in rows.of(stage) {
            if let ControlReply::Latency { name, count, .. } = *r {
                let _ = writeln!(
                    out,
                    "tickpipe_latency_samples{{stage=\"{}\",name=\"{name}\"}} {count}",
                    stage.name()
                );
            }
        }
    }
    out
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}
