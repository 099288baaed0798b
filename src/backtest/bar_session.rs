//! Bar backtests through the whole pipeline (`--risk configured`): one instrument's
//! intraday bars, played as market events ([`BarEvents`]) into the feed, signal, risk
//! and order stages and the paper exchange, day after day, exactly as a synthetic
//! session ([`run_days`](super::run_days)) plays its days.
//!
//! Why days: the risk stage's limits are daily (the loss limit of the day's starting
//! equity, the drawdown from the day's peak, the square-off), and the live engine is
//! started each morning. So each date of the file is one run of the pipeline, starting
//! from the equity the day before ended with, and what the strategy remembers (its
//! averages) starts afresh each day, as it does live. Positions do not carry over: the
//! configured square-off closes them.
//!
//! The bars must be intraday, of one length that tiles the hour (the lengths the signal
//! stage builds): the length is the shortest gap between two bars of a day, and every
//! bar must start on the engine's grid of that length, so the signal stage rebuilds
//! exactly the file's bars. Daily bars have no intraday path to trade and run with
//! `--risk none`; [`holds_intraday_bars`] tells the two apart without reading a long
//! intraday file whole, which is how a backtest picks its default profile.

use std::{ops::Range, path::Path, time::Instant};

use crate::{
    engine::EngineConfig,
    model::{Date, InstrumentId, InstrumentTable, UnixNanos},
    report::Trade,
    signal::{enable_only, SmaCross, SmaCrossConfig},
};

use super::{
    bar_events::BarEvents,
    bar_run::BarRows,
    session::{day_config, DayCollector, DayFeed, SessionMarket},
    BarSource, DataError, DayOutcome, OhlcvBar, SessionDay, SessionOutcome,
};

const NANOS_PER_SEC: u64 = 1_000_000_000;

/// A bar file read whole and cut into trading days.
#[derive(Debug, Clone)]
pub struct BarDays {
    /// The file as given (for errors).
    file: String,
    bars: Vec<OhlcvBar>,
    bar_secs: u32,
    days: Vec<Range<usize>>,
}

impl BarDays {
    /// Reads `path` (CSV or Kite candles JSON, as [`BarSource::open`]) and works out the
    /// bar length and the days.
    ///
    /// # Errors
    /// The file's first bad row (file, line, column); no two bars on one date (daily
    /// bars); a bar length that does not divide an hour; a bar off the length's grid
    /// (named by file, line and time).
    pub fn read(path: &Path) -> Result<BarDays, String> {
        let file = path.display().to_string();
        let mut bars = Vec::new();
        // Where each bar was read: its line in a CSV, its index among JSON candles.
        let mut lines = Vec::new();
        let mut source = BarSource::open(path).map_err(|e| e.to_string())?;
        match &mut source {
            BarSource::Csv(reader) => {
                while reader.read_next().map_err(|e| e.to_string())? {
                    bars.push(reader.current().clone());
                    lines.push(reader.line());
                }
            }
            BarSource::KiteJson { bars: candles, .. } => {
                bars = std::mem::take(candles);
            }
        }
        let place = |i: usize, why: String| {
            let (line, column) = match lines.get(i) {
                Some(&line) => (line, None),
                None => (0, Some(format!("data.candles[{i}] date"))),
            };
            DataError {
                file: file.clone(),
                line,
                column,
                why,
            }
            .to_string()
        };
        let gap = bars
            .windows(2)
            .filter(|w| w[0].date == w[1].date)
            .map(|w| w[1].at.0 - w[0].at.0)
            .min()
            .ok_or_else(|| {
                format!(
                    "{file}: no two bars fall on one date: --risk configured trades intraday bars (a length that divides an hour) through the pipeline; daily bars run with --risk none"
                )
            })?;
        let bar_secs = u32::try_from(gap / NANOS_PER_SEC)
            .ok()
            .filter(|&s| gap % NANOS_PER_SEC == 0 && (1..=3600).contains(&s) && 3600 % s == 0)
            .ok_or_else(|| {
                format!(
                    "{file}: bars {} s apart (the shortest gap between two bars of a day): the pipeline builds bars that tile the hour, so the length must divide 3600 s (e.g. 60, 300, 900); --risk none takes bars of any length",
                    gap as f64 / NANOS_PER_SEC as f64
                )
            })?;
        let grid = u64::from(bar_secs) * NANOS_PER_SEC;
        if let Some(i) = bars.iter().position(|b| b.at.0 % grid != 0) {
            return Err(place(
                i,
                format!(
                    "`{}` does not start a {bar_secs}-second bar: bars start on multiples of their length since the Unix epoch (minutes on the minute; hour bars at half past the IST hour)",
                    bars[i].time
                ),
            ));
        }
        let mut days: Vec<Range<usize>> = Vec::new();
        for (i, bar) in bars.iter().enumerate() {
            match days.last_mut() {
                Some(day) if bars[day.start].date == bar.date => day.end = i + 1,
                _ => days.push(i..i + 1),
            }
        }
        Ok(BarDays {
            file,
            bars,
            bar_secs,
            days,
        })
    }

    /// The bar length in seconds.
    pub fn bar_secs(&self) -> u32 {
        self.bar_secs
    }

    /// How many bars.
    pub fn bars(&self) -> usize {
        self.bars.len()
    }

    /// The dates traded, in order.
    pub fn dates(&self) -> impl Iterator<Item = Date> + '_ {
        self.days.iter().map(|d| self.bars[d.start].date)
    }

    /// The file as given.
    pub fn file(&self) -> &str {
        &self.file
    }

    /// The share of the bars inside a round trip, from the bar its entry filled in to the
    /// bar its exit filled in, both counted and each bar once (backtesting.py's
    /// `Exposure Time`, which `--risk none` reports too); NaN without bars.
    pub fn exposure(&self, trades: &[Trade]) -> f64 {
        // The bar a fill at `ts` fell in: the last one starting at or before it.
        let bar_of = |ts: UnixNanos| self.bars.partition_point(|b| b.at <= ts).saturating_sub(1);
        let mut spans: Vec<(usize, usize)> = trades
            .iter()
            .map(|t| (bar_of(t.entry_ts), bar_of(t.exit_ts)))
            .collect();
        spans.sort_unstable();
        let mut covered = 0usize;
        let mut covered_to: Option<usize> = None;
        for (entry, exit) in spans {
            let from = covered_to.map_or(entry, |c| entry.max(c + 1));
            if exit >= from {
                covered += exit - from + 1;
                covered_to = Some(exit);
            }
        }
        covered as f64 / self.bars.len() as f64
    }
}

/// Whether `path` holds intraday bars, that is two bars on one date (what
/// [`BarDays::read`] needs). It reads only up to the first such pair, so a long intraday
/// file costs two rows; a daily file (a few thousand rows for decades) is read through.
///
/// # Errors
/// The file's first bad row before the answer is known, named as [`BarSource::open`]
/// names it.
pub fn holds_intraday_bars(path: &Path) -> Result<bool, DataError> {
    let mut source = BarSource::open(path)?;
    let mut last: Option<Date> = None;
    while let Some(bar) = source.next_row()? {
        if last == Some(bar.date) {
            return Ok(true);
        }
        last = Some(bar.date);
    }
    Ok(false)
}

/// The config a bar backtest runs: `config`'s risk, charges, order and paper-exchange
/// sections as they are; `sma_cross` (as `strategy` gives it) alone, on `symbol`, on the
/// file's bar length; and the signal stage's filters, allocation reviews and regime model
/// off, since they read the index and other instruments a one-instrument file does not
/// hold (the market-bias filter would wait for an index that never ticks).
///
/// # Errors
/// The strategy's settings that the config validation refuses, keyed as in a file.
pub fn bar_config(
    config: &EngineConfig,
    strategy: &SmaCrossConfig,
    symbol: &str,
    bar_secs: u32,
) -> Result<EngineConfig, String> {
    let mut c = config.clone();
    enable_only(&mut c.strategy, SmaCross::NAME);
    c.strategy.sma_cross = SmaCrossConfig {
        enabled: true,
        bar_secs,
        symbols: vec![symbol.to_owned()],
        ..strategy.clone()
    };
    c.filters.market_bias = false;
    c.filters.relative_strength = false;
    c.filters.overbought_oversold = false;
    c.signal.allocation.enabled = false;
    // As fast as the pipeline goes: a backtest is never paced to the clock.
    "max".clone_into(&mut c.feed.speed);
    c.validate("the bar backtest's settings")
        .map_err(|e| e.to_string())?;
    Ok(c)
}

/// Trades `data`'s days of `instrument` (of `instruments`) through the pipeline `config`
/// builds ([`bar_config`]), from `config`'s capital, calling `progress` after each day.
///
/// # Errors
/// A day whose pipeline cannot be built or stopped with an error (named with its date),
/// or round trips that cannot be rebuilt.
pub fn run_bar_days(
    config: &EngineConfig,
    instruments: &InstrumentTable,
    instrument: InstrumentId,
    data: &BarDays,
    file_name: &str,
    mut progress: impl FnMut(usize, usize, &DayOutcome),
) -> Result<SessionOutcome, String> {
    let tick = instruments.get(instrument).tick_size;
    let market = SessionMarket::Bars {
        file: file_name.to_owned(),
        symbol: instruments.get(instrument).symbol.clone(),
        bar_secs: data.bar_secs,
        bars: data.bars.len() as u64,
    };
    let mut days = DayCollector::new(config.risk.capital, market);
    for (i, range) in data.days.iter().enumerate() {
        let started = Instant::now();
        let bars = &data.bars[range.clone()];
        let day = SessionDay {
            date: bars[0].date,
            seed: 0,
        };
        let c = day_config(config, day, days.capital());
        let source = BarEvents::new(bars, data.bar_secs, instrument, tick);
        let start = source.start().unwrap_or_default();
        let feed = DayFeed {
            instruments,
            source: Box::new(source),
            start,
            until: None,
        };
        let outcome = days.trade(&c, day, feed, started)?;
        progress(i, data.days.len(), outcome);
    }
    days.finish()
}

#[cfg(test)]
mod tests {
    use std::io::Write as _;

    use super::*;

    fn file(name: &str, text: &str) -> std::path::PathBuf {
        let dir = std::env::temp_dir().join(format!("tickpipe-bar-days-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join(name);
        std::fs::File::create(&path)
            .unwrap()
            .write_all(text.as_bytes())
            .unwrap();
        path
    }

    #[test]
    fn minute_bars_split_into_days() {
        let path = file(
            "days.csv",
            "date,open,high,low,close,volume\n\
             2026-11-25 09:15,100,101,99,100.5,10\n\
             2026-11-25 09:16,100.5,101,100,100,10\n\
             2026-11-25 09:18,100,101,99,100.5,10\n\
             2026-11-26 09:15,100,101,99,100.5,10\n",
        );
        let days = BarDays::read(&path).unwrap();
        assert_eq!(days.bar_secs(), 60);
        assert_eq!(days.bars(), 4);
        assert_eq!(
            days.dates().collect::<Vec<_>>(),
            [Date::new(2026, 11, 25), Date::new(2026, 11, 26)]
        );
    }

    #[test]
    fn intraday_bars_are_told_from_daily_ones() {
        let minutes = file(
            "minutes.csv",
            "date,open,high,low,close,volume\n2026-11-25 09:15,1,2,1,2,5\n2026-11-25 09:16,1,2,1,2,5\n",
        );
        assert!(holds_intraday_bars(&minutes).unwrap());
        let daily = file(
            "daily-only.csv",
            "Date,Open,High,Low,Close,Volume\n2024-01-01,1,2,1,2,5\n2024-01-02,1,2,1,2,5\n",
        );
        assert!(!holds_intraday_bars(&daily).unwrap());
        // One bar a day, at a time of day, is no intraday path either.
        let once = file(
            "once-a-day.csv",
            "date,open,high,low,close,volume\n2026-11-25 09:15,1,2,1,2,5\n2026-11-26 09:15,1,2,1,2,5\n",
        );
        assert!(!holds_intraday_bars(&once).unwrap());
        // A bad row before the answer is known is named.
        let bad = file(
            "bad-daily.csv",
            "Date,Open,High,Low,Close,Volume\n2024-01-01,1,2,1,2,5\n2024-01-02,1,x,1,2,5\n",
        );
        let e = holds_intraday_bars(&bad).unwrap_err().to_string();
        assert!(e.contains("bad-daily.csv: line 3"), "{e}");
    }

    #[test]
    fn exposure_counts_each_bar_inside_a_round_trip_once() {
        use crate::model::{IntentReason, Money, Price, Qty, Side, StrategyId, TimeOfDay};
        let mut text = String::from("date,open,high,low,close,volume\n");
        for m in 0..10 {
            text.push_str(&format!("2026-11-25 09:{:02},1,2,1,2,5\n", 15 + m));
        }
        let days = BarDays::read(&file("ten.csv", &text)).unwrap();
        let at = |minute: u32, secs: u32| {
            UnixNanos::from_ist(Date::new(2026, 11, 25), TimeOfDay::hm(9, minute))
                .add_nanos(u64::from(secs) * NANOS_PER_SEC)
        };
        let trade = |entry: UnixNanos, exit: UnixNanos| Trade {
            number: 1,
            strategy: StrategyId(0),
            instrument: InstrumentId(0),
            direction: Side::Buy,
            qty: Qty::new(1),
            entry_ts: entry,
            entry_price: Price::from_paise(100),
            exit_ts: exit,
            exit_price: Price::from_paise(100),
            gross: Money::ZERO,
            charges: Money::ZERO,
            exit_reason: IntentReason::Exit,
            entry_value: Money::ZERO,
            slippage: None,
            adopted: Default::default(),
        };
        assert_eq!(days.exposure(&[]), 0.0);
        // Bars 1..=3 (a fill 15 s into bar 3 is in bar 3), then a reversal on bar 3
        // that holds to bar 5: bars 1 to 5, five of ten.
        let trades = [trade(at(16, 0), at(18, 15)), trade(at(18, 15), at(20, 45))];
        assert_eq!(days.exposure(&trades), 0.5);
        // A trade inside one already counted adds nothing; one apart adds its own bar.
        let more = [
            trades[0].clone(),
            trades[1].clone(),
            trade(at(17, 0), at(17, 30)),
            trade(at(23, 0), at(23, 0)),
        ];
        assert_eq!(days.exposure(&more), 0.6);
    }

    #[test]
    fn daily_bars_and_odd_lengths_are_refused() {
        let daily = file(
            "daily.csv",
            "Date,Open,High,Low,Close,Volume\n2024-01-01,1,2,1,2,5\n2024-01-02,1,2,1,2,5\n",
        );
        let e = BarDays::read(&daily).unwrap_err();
        assert!(e.contains("daily.csv") && e.contains("--risk none"), "{e}");
        let odd = file(
            "odd.csv",
            "date,open,high,low,close,volume\n2026-11-25 09:15,1,2,1,2,5\n2026-11-25 09:22,1,2,1,2,5\n",
        );
        let e = BarDays::read(&odd).unwrap_err();
        assert!(e.contains("odd.csv") && e.contains("420 s"), "{e}");
        let off = file(
            "off.csv",
            "date,open,high,low,close,volume\n2026-11-25 09:15:00,1,2,1,2,5\n2026-11-25 09:16:00,1,2,1,2,5\n2026-11-25 09:17:30,1,2,1,2,5\n",
        );
        let e = BarDays::read(&off).unwrap_err();
        assert!(
            e.contains("off.csv: line 4") && e.contains("2026-11-25 09:17:30"),
            "{e}"
        );
    }
}
