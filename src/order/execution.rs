//! Execution quality per strategy: fill rate, slippage against the decision price,
//! intent-to-ack and intent-to-fill latency (in market time at a simulated exchange, by
//! the wall clock at a broker), refusals by reason.

use crate::{
    metrics::LatencyHistogram,
    model::{InstrumentId, Money, Price, Qty, RejectReason, Side, Stamp, StrategyId, UnixNanos},
    runtime::LatencyClock,
};

/// Slippage the histogram resolves, in basis points either side of zero; beyond it
/// fills land in the end buckets.
pub const SLIPPAGE_RANGE_BPS: i64 = 1_000;

const BUCKETS: usize = 2 * SLIPPAGE_RANGE_BPS as usize + 1;

/// Slippage of one fill against the reference price, positive when the fill is worse for
/// us (a buy above the reference, a sell below it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Slippage {
    /// Rupees over the fill's quantity.
    pub money: Money,
    /// Hundredths of a basis point of the reference price (exact integer arithmetic,
    /// truncated toward zero).
    pub centi_bps: i64,
}

impl Slippage {
    /// The slippage of `qty` filled at `fill` on `side` against `reference`; none when
    /// there is no reference price.
    ///
    /// # Examples
    /// ```
    /// use tickpipe::{model::{Money, Price, Qty, Side}, order::Slippage};
    /// let s = Slippage::of(Side::Buy, Price::from_paise(10_000), Price::from_paise(10_005), Qty::new(200)).unwrap();
    /// assert_eq!(s.money, Money::from_rupees(10));
    /// assert_eq!(s.centi_bps, 500); // 5 bps worse
    /// ```
    pub fn of(side: Side, reference: Price, fill: Price, qty: Qty) -> Option<Slippage> {
        if !reference.is_positive() {
            return None;
        }
        let diff = i128::from(fill.raw()) - i128::from(reference.raw());
        let worse = match side {
            Side::Buy => diff,
            Side::Sell => -diff,
        };
        let centi_bps = worse * 1_000_000 / i128::from(reference.raw());
        Some(Slippage {
            money: Money::from_raw(worse * i128::from(qty.get())),
            centi_bps: centi_bps.clamp(i128::from(i64::MIN), i128::from(i64::MAX)) as i64,
        })
    }
}

/// One strategy's execution figures, as the report shows them.
#[derive(Debug, Clone, Default)]
pub struct StrategyExecution {
    /// The strategy.
    pub strategy: StrategyId,
    /// Intents that ended.
    pub intents: u64,
    /// Of them, intents filled completely.
    pub filled: u64,
    /// Of them, intents that ended partly filled.
    pub partial: u64,
    /// Fills measured for slippage.
    pub fills: u64,
    /// Total slippage in rupees (positive: worse than the reference).
    pub slippage: Money,
    /// Mean slippage per fill, hundredths of a basis point.
    pub avg_centi_bps: i64,
    /// 95th percentile of slippage per fill, whole basis points.
    pub p95_bps: i64,
    /// Median intent-to-ack time, nanoseconds (`None`: no ack seen), in market time or
    /// by the wall clock ([`ExecutionSummary::wall_clock`]).
    pub ack_p50_nanos: Option<u64>,
    /// Median intent-to-first-fill time, nanoseconds, timed as the acks.
    pub fill_p50_nanos: Option<u64>,
    /// Refusals by reason, non-zero ones only.
    pub rejects: Vec<(&'static str, u64)>,
}

impl StrategyExecution {
    /// Completely filled intents as a share of ended ones, in percent (100 when none ended).
    pub fn fill_rate_pct(&self) -> f64 {
        if self.intents == 0 {
            100.0
        } else {
            self.filled as f64 * 100.0 / self.intents as f64
        }
    }
}

/// The execution figures of a run, carried in the order stage's report.
#[derive(Debug, Clone, Default)]
pub struct ExecutionSummary {
    /// One row per strategy, by id.
    pub strategies: Vec<StrategyExecution>,
    /// The latencies were timed by the wall clock (a broker's answers), not in market
    /// time (a simulated exchange's).
    pub wall_clock: bool,
    /// The broker-side protective stops the run ended with still resting at the
    /// broker, guarding positions left open (`risk.on_shutdown = "leave"`).
    pub protective_left: Vec<LeftStop>,
}

/// A protective stop-market (SL-M) order left resting at the broker when the run ended:
/// the position it protects stays protected after the engine is gone, and the operator
/// cancels it there once the position is closed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeftStop {
    /// The instrument whose position it guards.
    pub instrument: InstrumentId,
    /// The instrument's symbol.
    pub symbol: String,
    /// The closing side: sell for a long, buy for a short.
    pub side: Side,
    /// Units it still protects.
    pub qty: Qty,
    /// Its trigger at the broker.
    pub trigger: Price,
    /// The broker's order id (`None` when the venue gave none, or it was not known yet).
    pub venue_order_id: Option<String>,
}

/// One strategy's running figures (preallocated).
struct Row {
    intents: u64,
    filled: u64,
    partial: u64,
    fills: u64,
    slippage: Money,
    centi_bps_sum: i128,
    bps: Box<[u32; BUCKETS]>,
    to_ack: LatencyHistogram,
    to_fill: LatencyHistogram,
    rejects: [u64; RejectReason::ALL.len()],
}

impl Row {
    fn new() -> Row {
        Row {
            intents: 0,
            filled: 0,
            partial: 0,
            fills: 0,
            slippage: Money::ZERO,
            centi_bps_sum: 0,
            bps: Box::new([0; BUCKETS]),
            to_ack: LatencyHistogram::new(),
            to_fill: LatencyHistogram::new(),
            rejects: [0; RejectReason::ALL.len()],
        }
    }

    fn p95_bps(&self) -> i64 {
        if self.fills == 0 {
            return 0;
        }
        let rank = (self.fills * 95).div_ceil(100);
        let mut seen = 0;
        for (i, &n) in self.bps.iter().enumerate() {
            seen += u64::from(n);
            if seen >= rank {
                return i as i64 - SLIPPAGE_RANGE_BPS;
            }
        }
        SLIPPAGE_RANGE_BPS
    }
}

/// Per-strategy execution metrics of the order stage.
///
/// Everything is allocated in [`ExecutionMetrics::new`] (a fixed slippage histogram of
/// one bucket per basis point and two latency histograms per strategy); recording on the
/// hot path only adds to counters. Strategies beyond the count given are not measured
/// (they are counted in `unmeasured`).
pub struct ExecutionMetrics {
    rows: Vec<Row>,
    unmeasured: u64,
    /// The clock latencies are timed by; `None`: market time.
    wall: Option<LatencyClock>,
}

impl std::fmt::Debug for ExecutionMetrics {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ExecutionMetrics")
            .field("strategies", &self.rows.len())
            .finish_non_exhaustive()
    }
}

impl ExecutionMetrics {
    /// Metrics for strategies `0..strategies`.
    pub fn new(strategies: usize) -> ExecutionMetrics {
        ExecutionMetrics {
            rows: (0..strategies).map(|_| Row::new()).collect(),
            unmeasured: 0,
            wall: None,
        }
    }

    fn row(&mut self, strategy: StrategyId) -> Option<&mut Row> {
        let row = self.rows.get_mut(strategy.index());
        if row.is_none() {
            self.unmeasured += 1;
        }
        row
    }

    /// A fill of `qty` at `price` on `side` for an intent decided at `reference`.
    pub fn fill(
        &mut self,
        strategy: StrategyId,
        side: Side,
        reference: Price,
        price: Price,
        qty: Qty,
    ) {
        let Some(s) = Slippage::of(side, reference, price, qty) else {
            return;
        };
        let Some(row) = self.row(strategy) else {
            return;
        };
        row.fills += 1;
        row.slippage = row.slippage.saturating_add(s.money);
        row.centi_bps_sum += i128::from(s.centi_bps);
        let bps = (s.centi_bps / 100).clamp(-SLIPPAGE_RANGE_BPS, SLIPPAGE_RANGE_BPS);
        row.bps[(bps + SLIPPAGE_RANGE_BPS) as usize] += 1;
    }

    /// Times the latencies by `clock` from now on: a broker answers in wall time and
    /// stamps its reports with its own clock, so market time says nothing there.
    pub fn time_by(&mut self, clock: LatencyClock) {
        self.wall = Some(clock);
    }

    /// The stamp an intent's latencies start from when the order stage takes it: a
    /// reading of the wall clock, or zero in market time (no clock read).
    #[inline]
    pub fn arrival(&self) -> Stamp {
        self.wall.as_ref().map_or(Stamp(0), LatencyClock::stamp)
    }

    /// From the intent (decided at `intent` market time, taken at `arrived`) to an
    /// answer stamped `answered` by the venue, read now.
    fn elapsed(&self, intent: UnixNanos, arrived: Stamp, answered: UnixNanos) -> u64 {
        match &self.wall {
            Some(clock) => clock.nanos_since(arrived),
            None => answered.0.saturating_sub(intent.0),
        }
    }

    /// From the intent to the venue's first acceptance.
    pub fn ack(&mut self, strategy: StrategyId, intent: UnixNanos, arrived: Stamp, at: UnixNanos) {
        let nanos = self.elapsed(intent, arrived, at);
        if let Some(row) = self.row(strategy) {
            row.to_ack.record(nanos);
        }
    }

    /// From the intent to its first fill.
    pub fn first_fill(
        &mut self,
        strategy: StrategyId,
        intent: UnixNanos,
        arrived: Stamp,
        at: UnixNanos,
    ) {
        let nanos = self.elapsed(intent, arrived, at);
        if let Some(row) = self.row(strategy) {
            row.to_fill.record(nanos);
        }
    }

    /// A refusal of a strategy's order (by the venue or by the order stage).
    pub fn reject(&mut self, strategy: StrategyId, reason: RejectReason) {
        if let Some(row) = self.row(strategy) {
            row.rejects[reason as usize] += 1;
        }
    }

    /// An intent ended with `filled` of `qty` units filled.
    pub fn ended(&mut self, strategy: StrategyId, qty: Qty, filled: Qty) {
        if let Some(row) = self.row(strategy) {
            row.intents += 1;
            if !qty.is_zero() && filled == qty {
                row.filled += 1;
            } else if !filled.is_zero() {
                row.partial += 1;
            }
        }
    }

    /// Fills and ends of strategies beyond the count given.
    pub fn unmeasured(&self) -> u64 {
        self.unmeasured
    }

    /// The figures so far (allocates: for reports and the control plane).
    pub fn summary(&self) -> ExecutionSummary {
        let strategies = self
            .rows
            .iter()
            .enumerate()
            .map(|(i, row)| StrategyExecution {
                strategy: StrategyId(i as u16),
                intents: row.intents,
                filled: row.filled,
                partial: row.partial,
                fills: row.fills,
                slippage: row.slippage,
                avg_centi_bps: if row.fills == 0 {
                    0
                } else {
                    (row.centi_bps_sum / i128::from(row.fills)) as i64
                },
                p95_bps: row.p95_bps(),
                ack_p50_nanos: (!row.to_ack.is_empty()).then(|| row.to_ack.value_at_quantile(0.5)),
                fill_p50_nanos: (!row.to_fill.is_empty())
                    .then(|| row.to_fill.value_at_quantile(0.5)),
                rejects: RejectReason::ALL
                    .iter()
                    .zip(row.rejects)
                    .filter(|(_, n)| *n > 0)
                    .map(|(r, n)| (r.as_str(), n))
                    .collect(),
            })
            .collect();
        ExecutionSummary {
            strategies,
            wall_clock: self.wall.is_some(),
            protective_left: Vec::new(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn p(s: &str) -> Price {
        s.parse().unwrap()
    }

    #[test]
    fn slippage_is_signed_by_side() {
        let buy = Slippage::of(Side::Buy, p("100"), p("100.05"), Qty::new(10)).unwrap();
        assert_eq!(buy.money, Money::from_raw(i128::from(p("0.5").raw())));
        assert_eq!(buy.centi_bps, 500);
        let sell = Slippage::of(Side::Sell, p("100"), p("100.05"), Qty::new(10)).unwrap();
        assert_eq!(
            sell.centi_bps, -500,
            "selling above the reference is better"
        );
        assert!(Slippage::of(Side::Buy, Price::ZERO, p("1"), Qty::new(1)).is_none());
    }

    #[test]
    fn averages_and_percentiles() {
        let mut m = ExecutionMetrics::new(1);
        let s = StrategyId(0);
        for i in 0..20 {
            // 0, 1, …, 19 bps worse.
            let fill = Price::from_raw(p("100").raw() + i * p("0.01").raw());
            m.fill(s, Side::Buy, p("100"), fill, Qty::new(1));
        }
        m.ended(s, Qty::new(20), Qty::new(20));
        m.ended(s, Qty::new(20), Qty::new(5));
        m.reject(s, RejectReason::Margin);
        m.fill(StrategyId(3), Side::Buy, p("100"), p("100"), Qty::new(1));
        let row = &m.summary().strategies[0];
        assert_eq!(row.fills, 20);
        assert_eq!(row.avg_centi_bps, 950);
        assert_eq!(row.p95_bps, 18);
        assert_eq!((row.intents, row.filled, row.partial), (2, 1, 1));
        assert_eq!(row.fill_rate_pct(), 50.0);
        assert_eq!(row.rejects, [("margin", 1)]);
        assert_eq!(m.unmeasured(), 1);
    }
}
