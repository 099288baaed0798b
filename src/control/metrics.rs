//! The `metrics` reply: counters, gauges and latency percentiles in the Prometheus text
//! exposition format (version 0.0.4), so any scraper or `promtool` can read them.

use std::fmt::Write;

use crate::{
    control::{answer::Rows, catalog::Catalog, link::StageId},
    model::{ControlReply, Money, TradingState, UnixNanos},
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
    let equity = rows.of(StageId::Risk).iter().find_map(|r| match *r {
        ControlReply::Equity { charges, equity } => Some((charges, equity)),
        _ => None,
    });
    if let Some((state, realized, unrealized)) = risk {
        let (charges, equity) = equity.unzip();
        family(
            &mut out,
            "tickpipe_pnl_rupees",
            "gauge",
            "profit and loss in rupees: realized, unrealized and total before charges; \
             the charges paid; net_realized and net after them",
        );
        for (kind, m) in pnl_kinds(realized, unrealized, charges.unwrap_or(Money::ZERO)) {
            let _ = writeln!(out, "tickpipe_pnl_rupees{{kind=\"{kind}\"}} {m}");
        }
        if let Some(equity) = equity {
            family(
                &mut out,
                "tickpipe_equity_rupees",
                "gauge",
                "capital + realized P&L net of charges + unrealized P&L",
            );
            let _ = writeln!(out, "tickpipe_equity_rupees {equity}");
        }
        strategy_pnl(&mut out, rows, catalog);
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

/// The P&L kinds exported for the book and for each strategy.
fn pnl_kinds(realized: Money, unrealized: Money, charges: Money) -> [(&'static str, Money); 6] {
    let net_realized = realized.saturating_add(charges.neg());
    [
        ("realized", realized),
        ("unrealized", unrealized),
        ("total", realized.saturating_add(unrealized)),
        ("charges", charges),
        ("net_realized", net_realized),
        ("net", net_realized.saturating_add(unrealized)),
    ]
}

/// `tickpipe_strategy_pnl_rupees{strategy, kind}` from the `Pnl` rows.
fn strategy_pnl(out: &mut String, rows: &Rows, catalog: &Catalog) {
    let risk = rows.of(StageId::Risk);
    let mut wrote_family = false;
    for r in risk {
        let ControlReply::StrategyPnl {
            strategy,
            realized,
            unrealized,
            ..
        } = *r
        else {
            continue;
        };
        if !wrote_family {
            family(
                out,
                "tickpipe_strategy_pnl_rupees",
                "gauge",
                "profit and loss per strategy in rupees, kinds as tickpipe_pnl_rupees",
            );
            wrote_family = true;
        }
        let charges = risk
            .iter()
            .find_map(|c| match *c {
                ControlReply::StrategyCharges {
                    strategy: s,
                    charges,
                } if s == strategy => Some(charges),
                _ => None,
            })
            .unwrap_or(Money::ZERO);
        let name = catalog.strategy_name(strategy);
        for (kind, m) in pnl_kinds(realized, unrealized, charges) {
            let _ = writeln!(
                out,
                "tickpipe_strategy_pnl_rupees{{strategy=\"{name}\",kind=\"{kind}\"}} {m}"
            );
        }
    }
}

fn family(out: &mut String, name: &str, kind: &str, help: &str) {
    let _ = writeln!(out, "# HELP {name} {help}");
    let _ = writeln!(out, "# TYPE {name} {kind}");
}
