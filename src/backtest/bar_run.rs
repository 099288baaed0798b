//! The bar backtest's event loop, fed one row at a time so that nothing grows with the
//! data: per bar it keeps only the bar before (for close fills) and the equity row not
//! yet written (the finalize step may re-mark the last one); trades, one row per date
//! and the running equity figures are all that accumulate.

use std::io::{self, Write};

use crate::model::{Date, Direction, UnixNanos};

use super::{
    Account, ClosedTrade, DataError, FillAt, OhlcvBar, OhlcvReader, OpenTrade, Settings,
    StrategyDriver,
};

/// Where a bar's equity row goes: `equity.csv`, or nowhere (sweeps, the harness).
pub trait EquitySink {
    /// One row: bar index, the bar's time text, its close, the equity marked there and
    /// the fall below the running peak (`1 − equity/peak`).
    ///
    /// # Errors
    /// The writer's.
    fn row(
        &mut self,
        bar: u64,
        time: &str,
        close: f64,
        equity: f64,
        drawdown: f64,
    ) -> io::Result<()>;
}

/// Discards the rows.
#[derive(Debug, Clone, Copy, Default)]
pub struct NoEquityRows;

impl EquitySink for NoEquityRows {
    fn row(&mut self, _: u64, _: &str, _: f64, _: f64, _: f64) -> io::Result<()> {
        Ok(())
    }
}

/// `equity.csv` rows to a writer: `bar,time,close,equity,drawdown_pct`, floats in the
/// shortest round-trip form.
#[derive(Debug)]
pub struct EquityCsv<W: Write> {
    out: W,
}

/// The `equity.csv` header.
pub const EQUITY_HEADER: &str = "bar,time,close,equity,drawdown_pct";

impl<W: Write> EquityCsv<W> {
    /// Writes the header to `out`.
    ///
    /// # Errors
    /// The writer's.
    pub fn new(mut out: W) -> io::Result<EquityCsv<W>> {
        writeln!(out, "{EQUITY_HEADER}")?;
        Ok(EquityCsv { out })
    }

    /// The writer back, flushed.
    ///
    /// # Errors
    /// The writer's.
    pub fn finish(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}

impl<W: Write> EquitySink for EquityCsv<W> {
    fn row(
        &mut self,
        bar: u64,
        time: &str,
        close: f64,
        equity: f64,
        drawdown: f64,
    ) -> io::Result<()> {
        writeln!(self.out, "{bar},{time},{close},{equity},{drawdown}")
    }
}

/// A bar's place: its index, time text and market time.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct BarStamp {
    /// 0-based index in the data.
    pub index: usize,
    /// The time cell as written in the file.
    pub time: String,
    /// Market time.
    pub at: UnixNanos,
}

/// The times of a closed trade's entry and exit bars.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TradeTimes {
    /// The entry bar's time text and market time.
    pub entry: (String, UnixNanos),
    /// The exit bar's.
    pub exit: (String, UnixNanos),
}

/// The equity curve, measured as it goes by rather than kept.
#[derive(Debug, Clone, PartialEq)]
pub struct CurveSummary {
    /// The first bar's equity.
    pub first: f64,
    /// The last bar's (after the finalize step, if any).
    pub last: f64,
    /// The highest.
    pub peak: f64,
    /// The deepest fall below the running peak, a negative fraction (or zero).
    pub max_drawdown: f64,
    /// The last equity of each date, in order.
    pub daily: Vec<(Date, f64)>,
}

impl CurveSummary {
    fn new() -> CurveSummary {
        CurveSummary {
            first: f64::NAN,
            last: f64::NAN,
            peak: f64::MIN,
            max_drawdown: 0.0,
            daily: Vec::new(),
        }
    }

    /// Takes in one bar's equity; the drawdown there (`1 − equity/peak`).
    fn push(&mut self, date: Date, equity: f64) -> f64 {
        if self.first.is_nan() {
            self.first = equity;
        }
        self.last = equity;
        self.peak = self.peak.max(equity);
        self.max_drawdown = self.max_drawdown.min(equity / self.peak - 1.0);
        match self.daily.last_mut() {
            Some(last) if last.0 == date => last.1 = equity,
            _ => self.daily.push((date, equity)),
        }
        1.0 - equity / self.peak
    }
}

/// What a bar backtest produced.
#[derive(Debug, Clone)]
pub struct Outcome {
    /// Closed trades, in closing order.
    pub trades: Vec<ClosedTrade>,
    /// Each closed trade's entry and exit times, in the same order.
    pub trade_times: Vec<TradeTimes>,
    /// The trade still open at the end, if any, and its entry bar's time text.
    pub open_at_end: Option<(OpenTrade, String)>,
    /// Bars read.
    pub bars: usize,
    /// The first bar.
    pub first: BarStamp,
    /// The last bar.
    pub last: BarStamp,
    /// The last bar's close.
    pub last_close: f64,
    /// The equity curve's figures.
    pub curve: CurveSummary,
    /// The first bar on which the strategy asked for a position, if any.
    pub first_signal_bar: Option<usize>,
    /// A decision on the last bar that the data ended before filling (next-open fills).
    pub unfilled_at_end: Option<Direction>,
    /// Entries cancelled for want of a whole unit.
    pub skipped_entries: u64,
}

/// What the loop keeps of a bar once the next has been read.
#[derive(Debug, Clone, Default)]
struct Kept {
    stamp: BarStamp,
    date: Option<Date>,
    open: f64,
    close: f64,
    equity: f64,
}

impl Kept {
    fn take(&mut self, index: usize, bar: &OhlcvBar) {
        self.stamp.index = index;
        self.stamp.time.clear();
        self.stamp.time.push_str(&bar.time);
        self.stamp.at = bar.at;
        self.date = Some(bar.date);
        self.open = bar.open_f64();
        self.close = bar.close_f64();
    }

    fn times(&self) -> (String, UnixNanos) {
        (self.stamp.time.clone(), self.stamp.at)
    }
}

/// The account with the times of its trades beside it.
#[derive(Debug)]
struct Book {
    account: Account,
    trade_times: Vec<TradeTimes>,
    open_time: Option<(String, UnixNanos)>,
}

impl Book {
    /// Runs `op` on the account at `bar`, noting the times of what it closed and opened.
    fn at(&mut self, bar: &Kept, op: impl FnOnce(&mut Account, usize)) {
        let closed = self.account.closed().len();
        let opened = self.account.open_trade().map(|t| t.entry_bar);
        op(&mut self.account, bar.stamp.index);
        if self.account.closed().len() > closed {
            let entry = self.open_time.take().unwrap_or_else(|| bar.times());
            self.trade_times.push(TradeTimes {
                entry,
                exit: bar.times(),
            });
        }
        let now = self.account.open_trade().map(|t| t.entry_bar);
        if now.is_some() && (self.account.closed().len() > closed || opened.is_none()) {
            self.open_time = Some(bar.times());
        }
    }
}

/// A source of rows, each lent until the next is asked for.
pub trait BarRows {
    /// The next row, `None` at the end.
    ///
    /// # Errors
    /// The data's problem, named.
    fn next_row(&mut self) -> Result<Option<&OhlcvBar>, DataError>;
}

impl BarRows for OhlcvReader {
    fn next_row(&mut self) -> Result<Option<&OhlcvBar>, DataError> {
        Ok(self.read_next()?.then_some(self.current()))
    }
}

/// Rows already in memory.
#[derive(Debug)]
struct InMemory<'a>(std::slice::Iter<'a, OhlcvBar>);

impl BarRows for InMemory<'_> {
    fn next_row(&mut self) -> Result<Option<&OhlcvBar>, DataError> {
        Ok(self.0.next())
    }
}

/// [`run_stream`] over bars already in memory, without equity rows.
pub fn run(bars: &[OhlcvBar], strategy: &mut StrategyDriver, settings: &Settings) -> Outcome {
    match run_stream(
        &mut InMemory(bars.iter()),
        strategy,
        settings,
        &mut NoEquityRows,
    ) {
        Ok(outcome) => outcome,
        // Neither rows in memory nor the sink that discards can fail.
        Err(e) => unreachable!("{e}"),
    }
}

/// Runs `strategy` over every row `rows` yields, as backtesting.py's event loop does,
/// writing each bar's equity row to `sink`.
///
/// On each bar, in order: the decision of the bar before fills by the [`FillAt`] rule
/// (at this open, or booked on the bar before at its close); the strategy sees the
/// closed bar and its decision waits for the next bar; the equity is marked at the
/// close. With `settings.finalize`, the last bar is processed again with a close of the
/// open trade queued in front of any waiting decision, so the trade closes by the same
/// rule (at the last open, with next-open fills) and a waiting decision fills after it
/// and stays open; the last equity is marked again.
///
/// # Errors
/// The data's first problem, or a failure to write a row (as a [`DataError`] on
/// `equity.csv`, line 0).
pub fn run_stream(
    rows: &mut dyn BarRows,
    strategy: &mut StrategyDriver,
    settings: &Settings,
    sink: &mut dyn EquitySink,
) -> Result<Outcome, DataError> {
    let sink_error = |e: io::Error| DataError {
        file: "equity.csv".to_owned(),
        line: 0,
        column: None,
        why: e.to_string(),
    };
    let mut book = Book {
        account: Account::new(settings.cash, settings.commission, settings.sizing),
        trade_times: Vec::new(),
        open_time: None,
    };
    let mut curve = CurveSummary::new();
    let mut pending: Option<Direction> = None;
    let mut first_signal_bar = None;
    let mut first = BarStamp::default();
    // The bar before and this bar; `before.date` is `None` until there is one.
    let mut before = Kept::default();
    let mut this = Kept::default();
    let mut bars = 0usize;
    while let Some(bar) = rows.next_row()? {
        let i = bars;
        bars += 1;
        if i > 0 {
            // The row of the bar before is final now: write it.
            let drawdown = curve.push(this.date.unwrap_or(bar.date), this.equity);
            sink.row(
                this.stamp.index as u64,
                &this.stamp.time,
                this.close,
                this.equity,
                drawdown,
            )
            .map_err(sink_error)?;
            std::mem::swap(&mut before, &mut this);
        } else {
            first.time.push_str(&bar.time);
            first.at = bar.at;
        }
        this.take(i, bar);
        if let Some(target) = pending.take() {
            fill(&mut book, settings.fill, &before, &this, target);
        }
        if let Some(target) = strategy.on_bar(bar) {
            first_signal_bar.get_or_insert(i);
            pending = Some(target);
        }
        this.equity = book.account.equity(this.close);
    }
    if bars > 0 {
        if settings.finalize {
            let at = match settings.fill {
                FillAt::NextOpen => Some((&this, this.open)),
                FillAt::Close => (bars > 1).then_some((&before, before.close)),
            };
            if let Some((kept, price)) = at {
                book.at(kept, |account, bar| account.close(bar, price));
                if let Some(target) = pending.take() {
                    book.at(kept, |account, bar| account.target(target, bar, price));
                }
            }
            this.equity = book.account.equity(this.close);
        }
        let drawdown = curve.push(this.date.unwrap_or(Date::new(1970, 1, 1)), this.equity);
        sink.row(
            this.stamp.index as u64,
            &this.stamp.time,
            this.close,
            this.equity,
            drawdown,
        )
        .map_err(sink_error)?;
    }
    let open_at_end = book.account.open_trade().copied().map(|t| {
        (
            t,
            book.open_time
                .take()
                .map(|(time, _)| time)
                .unwrap_or_default(),
        )
    });
    Ok(Outcome {
        skipped_entries: book.account.skipped_entries(),
        trades: book.account.into_closed(),
        trade_times: book.trade_times,
        open_at_end,
        bars,
        first,
        last: this.stamp,
        last_close: this.close,
        curve,
        first_signal_bar,
        unfilled_at_end: pending,
    })
}

/// Fills a decision waiting when `this` arrives, by the rule: at this bar's open, or
/// booked on the bar before at its close.
fn fill(book: &mut Book, rule: FillAt, before: &Kept, this: &Kept, target: Direction) {
    let (kept, price) = match rule {
        FillAt::NextOpen => (this, this.open),
        FillAt::Close => {
            if before.date.is_none() {
                return;
            }
            (before, before.close)
        }
    };
    book.at(kept, |account, bar| account.target(target, bar, price));
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{backtest::Sizing, signal::SmaCrossConfig};

    fn goog() -> std::path::PathBuf {
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/ohlc/GOOG.csv")
    }

    fn driver() -> StrategyDriver {
        let config = SmaCrossConfig {
            fast: 10,
            slow: 20,
            allow_short: true,
            ..SmaCrossConfig::default()
        };
        StrategyDriver::sma_cross(&config, "GOOG").unwrap()
    }

    /// Collects the rows it is given.
    #[derive(Default)]
    struct Rows(Vec<(u64, String, f64, f64, f64)>);

    impl EquitySink for Rows {
        fn row(
            &mut self,
            bar: u64,
            time: &str,
            close: f64,
            equity: f64,
            dd: f64,
        ) -> io::Result<()> {
            self.0.push((bar, time.to_owned(), close, equity, dd));
            Ok(())
        }
    }

    /// Streamed from the file or run over the bars in memory, the same trades and the
    /// same curve, finalized or not, with either fill rule; one equity row per bar.
    #[test]
    fn streaming_and_in_memory_runs_agree() {
        let bars = crate::backtest::read_ohlcv(&goog()).unwrap();
        for fill in [FillAt::NextOpen, FillAt::Close] {
            for finalize in [false, true] {
                let settings = Settings {
                    cash: 10_000.0,
                    commission: 0.002,
                    sizing: Sizing::Equity,
                    fill,
                    finalize,
                };
                let memory = run(&bars, &mut driver(), &settings);
                let mut rows = Rows::default();
                let mut reader = OhlcvReader::open(&goog()).unwrap();
                let streamed =
                    run_stream(&mut reader, &mut driver(), &settings, &mut rows).unwrap();
                assert_eq!(streamed.trades, memory.trades);
                assert_eq!(streamed.trade_times, memory.trade_times);
                assert_eq!(streamed.curve, memory.curve);
                assert_eq!(streamed.bars, bars.len());
                assert_eq!(rows.0.len(), bars.len());
                assert_eq!(rows.0.last().unwrap().3, streamed.curve.last);
                assert!(rows
                    .0
                    .iter()
                    .enumerate()
                    .all(|(i, r)| r.0 == i as u64 && r.1 == bars[i].time));
                // Trade times are those of their bars.
                for (t, times) in streamed.trades.iter().zip(&streamed.trade_times) {
                    assert_eq!(times.entry.0, bars[t.entry_bar].time);
                    assert_eq!(times.exit.0, bars[t.exit_bar].time);
                }
                if let Some((open, time)) = &streamed.open_at_end {
                    assert_eq!(*time, bars[open.entry_bar].time);
                }
            }
        }
    }
}
