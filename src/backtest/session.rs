//! Backtests over synthetic trading days through the real pipeline: the feed, signal,
//! risk and order stages, the paper exchange and the Indian cost model, exactly as
//! `tickpipe run` builds them, run on the calling thread
//! ([`Pipeline::run_inline`]) one day after the other.
//!
//! Why the real pipeline and not a bar loop: a trade here is the trade the engine would
//! have made live (the threaded layouts fill identically, which a test pins), so the
//! risk stage's sizing and limits, the order stage's retries and the paper exchange's
//! depth model all shape the result, and so do the charges a contract note would show.
//!
//! Days are consecutive weekdays from `[feed.synthetic] date` (exchange holidays are
//! not modelled, as in the synthetic feed itself). The first day plays the configured
//! seed, so a one-day backtest is the day `tickpipe run` trades; each later day plays a
//! seed mixed from the configured one and its index ([`day_seed`]). The account carries
//! over: each day starts from the equity the day before ended with, so the risk stage
//! sizes and limits on the equity a trader would have by then.

use std::{
    sync::{atomic::AtomicBool, Arc},
    time::{Duration, Instant},
};

use crate::{
    charges::{ChargeModel, Charger},
    engine::{EngineConfig, Pipeline},
    feed::{MarketSource, SourceKind},
    model::{Date, FillRecord, InstrumentTable, Money, UnixNanos},
    report::{rupees, Trade, TradeBook},
};

/// One trading day of a session: which date and which seed the synthetic market plays.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionDay {
    /// The date traded.
    pub date: Date,
    /// The synthetic market's seed that day.
    pub seed: u64,
}

/// The seed of day `index` (from 0) of a session whose configured seed is `seed`: the
/// seed itself on the first day, then SplitMix64's output for `seed + index·γ`, a
/// bijective mix so neighbouring indices give unrelated days.
///
/// # Examples
/// ```
/// use tickpipe::backtest::day_seed;
/// assert_eq!(day_seed(42, 0), 42);
/// assert_ne!(day_seed(42, 1), day_seed(42, 2));
/// assert_eq!(day_seed(42, 3), day_seed(42, 3));
/// ```
pub fn day_seed(seed: u64, index: u32) -> u64 {
    if index == 0 {
        return seed;
    }
    // SplitMix64 (Steele, Lea, Flood 2014), the constants of its reference code.
    let mut z = seed.wrapping_add(u64::from(index).wrapping_mul(0x9E37_79B9_7F4A_7C15));
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

/// The `days` trading days from `first`: weekdays only, `first` itself when it is one.
pub fn trading_days(first: Date, days: u32) -> Vec<Date> {
    let mut out = Vec::with_capacity(days as usize);
    let mut date = first;
    while out.len() < days as usize {
        if date.weekday() < 5 {
            out.push(date);
        }
        date = date.add_days(1);
    }
    out
}

/// The days a session of `days` days trades under `config`.
///
/// # Errors
/// When `days` is zero, the feed is not the synthetic one, or its date does not parse.
pub fn plan(config: &EngineConfig, days: u32) -> Result<Vec<SessionDay>, String> {
    if days == 0 {
        return Err("--days 0: a session trades at least one day".to_owned());
    }
    if config.feed.source != SourceKind::Synthetic {
        return Err(format!(
            "a synthetic backtest needs feed.source = \"synthetic\", not \"{}\"",
            config.feed.source.name()
        ));
    }
    let first = Date::parse(&config.feed.synthetic.date).ok_or_else(|| {
        format!(
            "feed.synthetic.date = \"{}\": not a YYYY-MM-DD date",
            config.feed.synthetic.date
        )
    })?;
    let seed = config.feed.synthetic.seed;
    Ok(trading_days(first, days)
        .into_iter()
        .zip(0..)
        .map(|(date, i)| SessionDay {
            date,
            seed: day_seed(seed, i),
        })
        .collect())
}

/// The config of one day: the date, the seed and the capital set; no journal, no
/// control socket, no status line, no history file written or read (a backtest leaves
/// no trace outside its output folder, and its days do not depend on earlier runs).
pub fn day_config(config: &EngineConfig, day: SessionDay, capital: Money) -> EngineConfig {
    let mut c = config.clone();
    c.feed.synthetic.date = day.date.to_string();
    c.feed.synthetic.seed = day.seed;
    c.risk.capital = capital;
    c.journal.enabled = false;
    c.control.enabled = false;
    c.runtime.status_interval_ms = 0;
    c.filters.history_file = None;
    c
}

/// Slippage against the decision price, summed over a session, per strategy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SlippageTotal {
    /// Fills measured.
    pub fills: u64,
    /// Rupees, positive when worse than the reference.
    pub money: Money,
    /// Sum over the days of each day's mean (hundredths of a basis point) times its
    /// fills: the mean over the session is this over `fills`.
    pub centi_bps_weighted: i128,
}

impl SlippageTotal {
    /// Mean slippage per fill in basis points (NaN without fills).
    pub fn mean_bps(&self) -> f64 {
        self.centi_bps_weighted as f64 / 100.0 / self.fills as f64
    }
}

/// What one day of a session did.
#[derive(Debug, Clone)]
pub struct DayOutcome {
    /// Which day.
    pub day: SessionDay,
    /// The fills the risk stage booked, in booking order.
    pub fills: Vec<FillRecord>,
    /// Its round trips (numbered within the day).
    pub book: TradeBook,
    /// Equity the day started with.
    pub start_equity: Money,
    /// Equity at the end, as the risk stage marks it.
    pub end_equity: Money,
    /// Fills that did not fit the fill log, so are missing from the round trips.
    pub fills_not_logged: u64,
    /// Wall time the day took.
    pub wall: Duration,
}

/// What a whole session did.
#[derive(Debug, Clone)]
pub struct SessionOutcome {
    /// Strategy names by id.
    pub strategy_names: Vec<&'static str>,
    /// The instruments (the same table every day: the universe does not change).
    pub instruments: InstrumentTable,
    /// The configured capital, the first day's starting equity.
    pub capital: Money,
    /// Each day, in order.
    pub days: Vec<DayOutcome>,
    /// Every day's round trips, numbered across the session, in closing order.
    pub book: TradeBook,
    /// Slippage per strategy, by id.
    pub slippage: Vec<SlippageTotal>,
    /// What the days traded on.
    pub market: SessionMarket,
}

impl SessionOutcome {
    /// All round trips, in closing order.
    pub fn trades(&self) -> &[Trade] {
        &self.book.trades
    }

    /// `(date, equity)`: the capital on the weekday before the first day, then each
    /// day's closing equity; the curve `equity.csv` holds.
    pub fn equity_curve(&self) -> Vec<(Date, f64)> {
        let mut rows = Vec::with_capacity(self.days.len() + 1);
        if let Some(first) = self.days.first() {
            let mut before = first.day.date.add_days(-1);
            while before.weekday() >= 5 {
                before = before.add_days(-1);
            }
            rows.push((before, rupees(self.capital)));
        }
        // To the paisa, as `equity.csv` writes it, so the statistics of the file and of
        // the session are the same numbers.
        rows.extend(self.days.iter().map(|d| (d.day.date, rupees(d.end_equity))));
        rows
    }
}

/// Runs `days` synthetic days of `config` through the pipeline, one after the other on
/// the calling thread, calling `progress` after each day with its index and outcome.
///
/// # Errors
/// A bad plan ([`plan`]), a day whose source or pipeline cannot be built, a stage that
/// stopped with an error (named with the day), or round trips that cannot be rebuilt.
pub fn run_session(
    config: &EngineConfig,
    days: u32,
    progress: impl FnMut(usize, usize, &DayOutcome),
) -> Result<SessionOutcome, String> {
    let plan = plan(config, days)?;
    run_days(config, &plan, config.risk.capital, progress)
}

/// Trades `plan`'s days in order under `config`, the first from `capital` (a
/// walk-forward's test windows chain their equity this way).
///
/// # Errors
/// As [`run_session`]; also when `plan` is empty.
pub fn run_days(
    config: &EngineConfig,
    plan: &[SessionDay],
    start_capital: Money,
    mut progress: impl FnMut(usize, usize, &DayOutcome),
) -> Result<SessionOutcome, String> {
    let mut days = DayCollector::new(start_capital, SessionMarket::Synthetic);
    for (i, &day) in plan.iter().enumerate() {
        let started = Instant::now();
        let c = day_config(config, day, days.capital());
        let opened = c.feed.open()?;
        let until = c.feed.until(opened.start)?;
        let feed = DayFeed {
            instruments: &opened.instruments,
            source: opened.source,
            start: opened.start,
            until,
        };
        let outcome = days.trade(&c, day, feed, started)?;
        progress(i, plan.len(), outcome);
    }
    days.finish()
}

/// What a session traded on, for its report's title and notes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SessionMarket {
    /// Synthetic days ([`run_session`]).
    Synthetic,
    /// One instrument's bars from a file ([`run_bar_days`](super::run_bar_days)).
    Bars {
        /// The data file's name.
        file: String,
        /// The instrument traded.
        symbol: String,
        /// The bar length in seconds.
        bar_secs: u32,
        /// Bars read.
        bars: u64,
    },
}

/// What one day's pipeline reads: the market and the instruments its events name.
pub(super) struct DayFeed<'a> {
    /// The instrument table the events' ids index.
    pub(super) instruments: &'a InstrumentTable,
    /// The day's market events.
    pub(super) source: Box<dyn MarketSource>,
    /// Market time the day starts.
    pub(super) start: UnixNanos,
    /// Market time to stop at; `None`: when the source ends.
    pub(super) until: Option<UnixNanos>,
}

/// Trades day after day through the pipeline on the calling thread, carrying the equity
/// over, and gathers the days into a [`SessionOutcome`].
pub(super) struct DayCollector {
    market: SessionMarket,
    start_capital: Money,
    capital: Money,
    outcomes: Vec<DayOutcome>,
    all: TradeBook,
    names: Vec<&'static str>,
    slippage: Vec<SlippageTotal>,
    table: Option<InstrumentTable>,
}

impl DayCollector {
    /// A session on `market` starting from `start_capital`.
    pub(super) fn new(start_capital: Money, market: SessionMarket) -> DayCollector {
        DayCollector {
            market,
            start_capital,
            capital: start_capital,
            outcomes: Vec::new(),
            all: TradeBook::default(),
            names: Vec::new(),
            slippage: Vec::new(),
            table: None,
        }
    }

    /// The equity the next day starts from.
    pub(super) fn capital(&self) -> Money {
        self.capital
    }

    /// Runs one day of `feed` through the pipeline `c` builds (its capital already
    /// [`capital`](DayCollector::capital)) and books it; the day's outcome. `started`
    /// is when the day's work began, for its wall time.
    ///
    /// # Errors
    /// A pipeline that cannot be built, a stage that stopped with an error (named with
    /// the day), or round trips that cannot be rebuilt.
    pub(super) fn trade(
        &mut self,
        c: &EngineConfig,
        day: SessionDay,
        feed: DayFeed<'_>,
        started: Instant,
    ) -> Result<&DayOutcome, String> {
        let instruments = feed.instruments;
        // Unmeasured: a backtest reports no latency, so its stages stamp nothing.
        let pipeline = Pipeline::build_unmeasured(
            c,
            instruments,
            feed.source,
            feed.start,
            feed.until,
            Arc::new(AtomicBool::new(false)),
        )
        .map_err(|e| format!("{}: {e}", day.date))?;
        let report = pipeline.run_inline();
        if let Some((stage, error)) = report.error() {
            let day = match self.market {
                SessionMarket::Synthetic => format!("{} (seed {})", day.date, day.seed),
                SessionMarket::Bars { .. } => day.date.to_string(),
            };
            return Err(format!("{day}: the {stage} stage stopped early: {error}"));
        }
        let trading = report
            .trading()
            .ok_or_else(|| format!("{}: the run ended without the risk stage's book", day.date))?;
        let charger = Charger::new(ChargeModel::new(&c.charges), instruments);
        let book = TradeBook::of(&trading.fills, &charger)
            .map_err(|e| format!("{}: round trips: {e}", day.date))?;
        if let Some(execution) = report.execution() {
            for row in &execution.strategies {
                let i = row.strategy.index();
                if self.slippage.len() <= i {
                    self.slippage.resize(i + 1, SlippageTotal::default());
                }
                let total = &mut self.slippage[i];
                total.fills += row.fills;
                total.money = total.money.saturating_add(row.slippage);
                total.centi_bps_weighted += i128::from(row.avg_centi_bps) * i128::from(row.fills);
            }
        }
        for t in &book.trades {
            let mut t = t.clone();
            t.number = self.all.trades.len() + 1;
            self.all.trades.push(t);
        }
        self.all
            .open_at_end
            .extend(book.open_at_end.iter().copied());
        let outcome = DayOutcome {
            day,
            fills: trading.fills.clone(),
            book,
            start_equity: self.capital,
            end_equity: trading.equity,
            fills_not_logged: trading.fills_not_logged,
            wall: started.elapsed(),
        };
        self.capital = trading.equity;
        self.names.clone_from(&report.strategy_names);
        if self.table.is_none() {
            self.table = Some(instruments.clone());
        }
        self.outcomes.push(outcome);
        Ok(self.outcomes.last().expect("just pushed"))
    }

    /// The session of the days traded.
    ///
    /// # Errors
    /// When no day was traded.
    pub(super) fn finish(mut self) -> Result<SessionOutcome, String> {
        self.slippage.resize(
            self.names.len().max(self.slippage.len()),
            SlippageTotal::default(),
        );
        Ok(SessionOutcome {
            strategy_names: self.names,
            instruments: self.table.ok_or("no day was traded")?,
            capital: self.start_capital,
            days: self.outcomes,
            book: self.all,
            slippage: self.slippage,
            market: self.market,
        })
    }
}

impl SessionOutcome {
    /// Appends a later session of the same strategies and instruments (the next test
    /// window of a walk-forward): its days and round trips follow, renumbered, and the
    /// slippage adds up. The starting capital stays this session's.
    pub fn append(&mut self, later: SessionOutcome) {
        for mut t in later.book.trades {
            t.number = self.book.trades.len() + 1;
            self.book.trades.push(t);
        }
        self.book.open_at_end.extend(later.book.open_at_end);
        self.days.extend(later.days);
        if self.slippage.len() < later.slippage.len() {
            self.slippage
                .resize(later.slippage.len(), SlippageTotal::default());
        }
        for (total, more) in self.slippage.iter_mut().zip(later.slippage) {
            total.fills += more.fills;
            total.money = total.money.saturating_add(more.money);
            total.centi_bps_weighted += more.centi_bps_weighted;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn days_skip_weekends_and_seeds_differ() {
        // 2026-11-27 is a Friday.
        let days = trading_days(Date::new(2026, 11, 27), 3);
        assert_eq!(
            days,
            [
                Date::new(2026, 11, 27),
                Date::new(2026, 11, 30),
                Date::new(2026, 12, 1)
            ]
        );
        // A Saturday start begins on the Monday.
        assert_eq!(
            trading_days(Date::new(2026, 11, 28), 1),
            [Date::new(2026, 11, 30)]
        );
        let seeds: Vec<u64> = (0..20).map(|i| day_seed(7, i)).collect();
        assert_eq!(seeds[0], 7);
        let mut unique = seeds.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), seeds.len());
    }

    #[test]
    fn plan_refuses_zero_days_and_other_sources() {
        let config = EngineConfig::embedded_default();
        assert!(plan(&config, 0).unwrap_err().contains("--days 0"));
        let planned = plan(&config, 2).unwrap();
        assert_eq!(planned[0].seed, config.feed.synthetic.seed);
        assert_eq!(planned[0].date.to_string(), config.feed.synthetic.date);
        let mut replay = config.clone();
        replay.feed.source = SourceKind::Replay;
        assert!(plan(&replay, 1).unwrap_err().contains("synthetic"));
    }
}
