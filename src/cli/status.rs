//! The live status line.

use std::{
    io::{IsTerminal, Write},
    time::Instant,
};

use super::format::{count, pnl, rate};
use crate::{
    metrics::Telemetry,
    model::{Money, Price},
};

/// Prints one status line per call: on a terminal it overwrites itself, elsewhere (a log)
/// it prints a new line.
#[derive(Debug)]
pub struct StatusLine {
    terminal: bool,
    last: Instant,
    last_ticks: u64,
    printed: bool,
    /// A live feed's link state, shown at the end of the line.
    feed_link: Option<std::sync::Arc<crate::feed::kite::TickerHealth>>,
}

impl StatusLine {
    /// A status line on standard error.
    pub fn new() -> StatusLine {
        StatusLine {
            terminal: std::io::stderr().is_terminal(),
            last: Instant::now(),
            last_ticks: 0,
            printed: false,
            feed_link: None,
        }
    }

    /// Shows a live feed's link state (stale, reconnections, conflated ticks) too.
    pub fn set_feed_link(
        &mut self,
        health: Option<std::sync::Arc<crate::feed::kite::TickerHealth>>,
    ) {
        self.feed_link = health;
    }

    /// Prints the gauges.
    pub fn update(&mut self, t: &Telemetry) {
        let now = Instant::now();
        let ticks = t.feed.ticks.get();
        let secs = now.duration_since(self.last).as_secs_f64().max(1e-9);
        let per_sec = (ticks - self.last_ticks.min(ticks)) as f64 / secs;
        self.last = now;
        self.last_ticks = ticks;
        let market = t.market_time();
        let clock = if market.0 == 0 {
            "--:--:--".to_owned()
        } else {
            market.ist_time_of_day().to_string()
        };
        let money =
            Money::from_raw(i128::from(t.risk.pnl_paise.get()) * i128::from(Price::SCALE / 100));
        let line = format!(
            "{clock} IST │ ticks {} ({}) │ signals {} │ orders {} │ fills {} │ open {} │ P&L {}",
            count(ticks),
            rate(per_sec),
            count(t.signal.signals.get()),
            count(t.order.orders.get()),
            count(t.order.fills.get()),
            t.risk.open_positions.get(),
            pnl(money),
        );
        let mut line = line;
        if let Some(h) = &self.feed_link {
            let c = h.counters();
            line.push_str(&format!(
                " │ feed {} (reconnects {}, conflated {}, skipped {})",
                if h.is_stale() { "STALE" } else { "live" },
                c.reconnects,
                count(c.conflated),
                c.skipped,
            ));
            if c.order_updates > 0 {
                // Order postbacks passed to the gateway, and those a full ring dropped.
                line.push_str(&format!(
                    " │ postbacks {} (dropped {})",
                    count(c.postbacks_forwarded),
                    c.postbacks_dropped,
                ));
            }
        }
        let mut err = std::io::stderr().lock();
        if self.terminal {
            let _ = write!(err, "\r\x1b[2K{line}");
        } else {
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
        self.printed = true;
    }

    /// Ends the line so later output starts on a fresh one.
    pub fn finish(&mut self) {
        if self.terminal && self.printed {
            eprintln!();
        }
    }
}

impl Default for StatusLine {
    fn default() -> Self {
        StatusLine::new()
    }
}
