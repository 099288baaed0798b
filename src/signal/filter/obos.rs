//! Multi-day overbought / oversold.

use super::{history::DayStats, FilterRefusal, SignalFilter};
use crate::{
    model::{Direction, Signal},
    signal::Bar,
};

/// Refuses longs in an instrument that closed up `max_days` days in a row or moved up
/// more than `max_move_pct` percent over the last three days (it is extended; chasing it
/// buys the top), and shorts in the mirror case. The day-level statistics come from
/// [`DayHistory`](super::DayHistory) at the start of the session.
#[derive(Debug, Clone)]
pub struct OverboughtOversold {
    stats: Vec<DayStats>,
    max_days: u32,
    max_move_pct: f64,
}

impl OverboughtOversold {
    /// A filter over `stats` (one per instrument).
    pub fn new(stats: Vec<DayStats>, max_days: u32, max_move_pct: f64) -> Self {
        OverboughtOversold {
            stats,
            max_days,
            max_move_pct,
        }
    }
}

impl SignalFilter for OverboughtOversold {
    fn on_bar(&mut self, _bar: &Bar) {}

    fn check(&self, signal: &Signal) -> Result<(), FilterRefusal> {
        let Some(s) = self.stats.get(signal.instrument.index()) else {
            return Ok(());
        };
        let moved = s.move_3d_pct.unwrap_or(0.0);
        let refused = match signal.direction {
            Direction::Long => s.up_days >= self.max_days || moved > self.max_move_pct,
            Direction::Short => s.down_days >= self.max_days || moved < -self.max_move_pct,
            Direction::Flat => false,
        };
        if refused {
            Err(FilterRefusal::OVERBOUGHT_OVERSOLD)
        } else {
            Ok(())
        }
    }
}
