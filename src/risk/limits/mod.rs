//! Limit state that is not a per-order check: the exposure buckets, the return
//! correlations, the day's loss and drawdown, and the risk events. Equity itself is the
//! book's ([`Book::equity`](crate::risk::Book::equity)).
//!
//! | file | what |
//! | --- | --- |
//! | `instrument.rs` | [`InstrumentSpec`], [`Quote`]: what a limit reads about an instrument |
//! | `tick.rs` | [`round_stop`], [`round_limit`]: prices on the tick grid, on the safe side |
//! | `exposure.rs` | [`ExposureBuckets`]: committed exposure per instrument, sector and in options |
//! | `correlation.rs` | [`ReturnCorrelation`]: rolling correlation of one-minute returns |
//! | `day.rs` | [`DayGuard`]: daily loss limit and drawdown monitor |
//! | `events.rs` | [`RiskEvents`]: state changes with reasons, limit hits, forced exits |
//!
//! The risk stage owns one [`LimitState`], updates it from marks, fills and
//! reservations, and lends it to the checks through
//! [`CheckContext::limits`](crate::risk::CheckContext::limits).

mod correlation;
mod day;
mod events;
mod exposure;
mod instrument;
mod tick;

pub use correlation::{ReturnCorrelation, MAX_CORRELATION_WINDOW, MIN_CORRELATION_SAMPLES};
pub use day::{DayEvent, DayGuard};
pub use events::{RiskEvents, StateChange};
pub use exposure::ExposureBuckets;
pub use instrument::{InstrumentSpec, Quote};
pub use tick::{round_limit, round_stop};

use crate::{
    model::{InstrumentKind, InstrumentTable},
    risk::config::RiskConfig,
};

/// The limit state the risk stage keeps beside the book.
#[derive(Debug, Clone)]
pub struct LimitState {
    /// What each instrument is, by id.
    pub specs: Vec<InstrumentSpec>,
    /// The latest quote of each instrument, by id.
    pub quotes: Vec<Quote>,
    /// Committed exposure per instrument, sector and in options.
    pub exposure: ExposureBuckets,
    /// Rolling correlation of returns.
    pub correlation: ReturnCorrelation,
    /// Daily loss and drawdown.
    pub day: DayGuard,
}

impl LimitState {
    /// State for every instrument of `table`, with `config`'s windows and thresholds.
    pub fn new(table: &InstrumentTable, config: &RiskConfig) -> LimitState {
        let index_sectors: Vec<_> = table
            .iter()
            .filter(|i| i.kind == InstrumentKind::Index)
            .map(|i| i.sector)
            .collect();
        let specs: Vec<InstrumentSpec> = table
            .iter()
            .map(|i| InstrumentSpec::of(i, index_sectors.contains(&i.sector)))
            .collect();
        LimitState::with_specs(specs, table.sectors().len(), config)
    }

    /// State for instruments described by `specs` (tests, tools).
    pub fn with_specs(
        specs: Vec<InstrumentSpec>,
        sectors: usize,
        config: &RiskConfig,
    ) -> LimitState {
        let n = specs.len();
        LimitState {
            exposure: ExposureBuckets::new(&specs, sectors),
            quotes: vec![Quote::default(); n],
            correlation: ReturnCorrelation::new(n, config.correlation_window as usize),
            day: DayGuard::new(config),
            specs,
        }
    }

    /// Takes the windows and thresholds of `config` (a `set`), without allocating.
    pub fn configure(&mut self, config: &RiskConfig) {
        self.correlation
            .set_window(config.correlation_window as usize);
        self.day.configure(config);
    }

    /// An empty state: no instruments (tests and examples of single checks).
    pub fn empty() -> LimitState {
        LimitState::with_specs(Vec::new(), 0, &RiskConfig::default())
    }
}
