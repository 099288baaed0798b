//! The engine's own strategy code, driven bar by bar.
//!
//! A backtest does not re-implement a strategy: it builds the same [`Strategy`] the
//! signal stage runs (through the same constructor and config validation) for a
//! one-instrument table, hands it each data row as a closed [`Bar`], and reads back the
//! signals it emits through the same [`SignalBatch`] the stage drains. What stays out is
//! the stage's bar building from ticks and its shared indicator bank (the rows already
//! are bars, and `sma_cross` keeps its own averages).

use crate::{
    model::{Direction, Instrument, InstrumentId, InstrumentTable, Stamp, StrategyId},
    signal::{Bar, SignalBatch, SmaCross, SmaCrossConfig, Strategy},
};

use super::OhlcvBar;

/// One strategy over one instrument, fed one bar at a time.
pub struct StrategyDriver {
    strategy: Box<dyn Strategy>,
    instrument: InstrumentId,
    /// The bar length the strategy reads; every data row is presented as one such bar,
    /// whatever its length in the file (daily rows included), since a strategy only uses
    /// the length to pick among the lengths the live stage builds.
    bar_secs: u32,
    batch: SignalBatch,
    bars_seen: u64,
}

impl std::fmt::Debug for StrategyDriver {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("StrategyDriver")
            .field("strategy", &self.strategy.name())
            .field("instrument", &self.instrument)
            .field("bar_secs", &self.bar_secs)
            .finish_non_exhaustive()
    }
}

/// The strategies a backtest can drive, with their names on the command line.
pub const STRATEGIES: [&str; 1] = [SmaCross::NAME];

impl StrategyDriver {
    /// `sma_cross` with `config` for one instrument named `symbol`.
    ///
    /// # Errors
    /// The config's problems, one line each, keyed `strategy.sma_cross.*`.
    pub fn sma_cross(config: &SmaCrossConfig, symbol: &str) -> Result<StrategyDriver, String> {
        let mut table = InstrumentTable::new();
        let sector = table.sector("BACKTEST");
        let instrument = table.push(Instrument::nse_equity(symbol, sector))?;
        let strategy = SmaCross::new(config, &table, "strategy.sma_cross")
            .map_err(|issues| crate::config::ConfigIssue::joined(&issues))?;
        if !strategy.subscribes(table.get(instrument)) {
            return Err(format!("sma_cross does not trade {symbol}"));
        }
        Ok(StrategyDriver {
            bar_secs: strategy.bar_secs(),
            strategy: Box::new(strategy),
            instrument,
            batch: SignalBatch::new(),
            bars_seen: 0,
        })
    }

    /// The strategy's name.
    pub fn name(&self) -> &'static str {
        self.strategy.name()
    }

    /// Hands the strategy `row` as a closed bar; the direction it asked for on that bar
    /// (the last, if it emitted more than one), if any.
    pub fn on_bar(&mut self, row: &OhlcvBar) -> Option<Direction> {
        let bar = Bar {
            instrument: self.instrument,
            start: row.at,
            secs: self.bar_secs,
            open: row.open,
            high: row.high,
            low: row.low,
            close: row.close,
            volume: row.volume,
            trades: 1,
            turnover: 0.0,
        };
        self.bars_seen += 1;
        // The ingress stamp only measures latency; the bar count keeps it deterministic.
        let mut ctx = self
            .batch
            .context(StrategyId(0), bar.end(), Stamp(self.bars_seen));
        self.strategy.on_bar(&bar, &mut ctx);
        let direction = self
            .batch
            .signals()
            .iter()
            .rev()
            .find(|s| s.instrument == self.instrument)
            .map(|s| s.direction);
        self.batch.clear();
        direction
    }
}
