//! What travels on the control rings: an operator's command to the stage that owns the
//! state it reads or changes, and the stage's typed answers.
//!
//! Each stage has a command ring in (its single producer is the control thread) and an
//! answer ring back. A command is one [`ControlCommand`]; the answer is zero or more rows
//! ([`ControlReply`]) closed by [`ControlReply::Done`] or replaced by one
//! [`ControlReply::Refused`]. The control thread has at most one command outstanding per
//! stage, so answers need no request id. The same answer ring carries what a stage says
//! unasked: [`ControlReply::Fill`] and [`ControlReply::Alert`].
//!
//! Everything is `Copy` and at most one cache line: a stage answers from its own state
//! without allocating or formatting; the control thread turns rows into JSON.

use std::fmt;

use crate::model::{
    FillRecord, InstrumentId, IntentId, IntentReason, Money, OrderState, Price, Qty, Side, Stamp,
    StrategyId, UnixNanos,
};

/// Whether the risk stage lets strategies open positions.
///
/// Exits the risk stage decides itself (protective stops, the square-off) and manual
/// closes flow in every state: no state traps a position.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum TradingState {
    /// Entries and exits flow.
    #[default]
    Active = 1,
    /// Reduce-only: strategies' exits flow, their entries are refused.
    Reducing = 2,
    /// Kill switch: every strategy signal is refused, entries and exits alike; only the
    /// risk stage's own exits and the operator's `close`/`flatten` trade.
    Halted = 3,
}

impl TradingState {
    /// The lowercase name the control socket uses.
    pub const fn as_str(self) -> &'static str {
        match self {
            TradingState::Active => "active",
            TradingState::Reducing => "reducing",
            TradingState::Halted => "halted",
        }
    }

    /// True when strategies may open positions.
    pub const fn allows_entries(self) -> bool {
        matches!(self, TradingState::Active)
    }

    /// True when strategies' own exit signals are acted on.
    pub const fn allows_strategy_exits(self) -> bool {
        !matches!(self, TradingState::Halted)
    }
}

impl fmt::Display for TradingState {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Why the trading state is what it is: carried by every state change (its alert, the
/// run summary) and by `status`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
#[repr(u8)]
pub enum StateReason {
    /// The state the run started in.
    #[default]
    Start = 0,
    /// An operator's `halt`, `reduce` or `activate` (typed or scheduled).
    Operator = 1,
    /// The day's net loss reached `risk.daily_loss_pct` of start-of-day equity.
    DailyLossLimit = 2,
    /// Equity fell `risk.drawdown_halt_pct` below the day's peak.
    DrawdownHalt = 3,
    /// The risk stage met a fatal error.
    FatalError = 4,
    /// A new trading day began and lifted the previous day's loss or drawdown state.
    NewDay = 5,
    /// The index fell more than `risk.emergency.drop_pct` within its window.
    Emergency = 6,
}

impl StateReason {
    /// The lowercase name the control socket and the summary use.
    pub const fn as_str(self) -> &'static str {
        match self {
            StateReason::Start => "start",
            StateReason::Operator => "operator",
            StateReason::DailyLossLimit => "daily_loss_limit",
            StateReason::DrawdownHalt => "drawdown_halt",
            StateReason::FatalError => "fatal_error",
            StateReason::NewDay => "new_day",
            StateReason::Emergency => "emergency",
        }
    }
}

impl fmt::Display for StateReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A risk limit an operator may change while trading (`set <limit> <value>`), named as
/// its key in the `[risk]` section of the configuration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum LimitKey {
    /// `capital`, rupees.
    Capital = 1,
    /// `risk_per_trade_pct`, percent of equity (equity instruments).
    RiskPerTradePct = 2,
    /// `default_stop_pct`, percent of the entry price.
    DefaultStopPct = 3,
    /// `max_position_pct`, percent of equity.
    MaxPositionPct = 4,
    /// `max_exposure_pct`, percent of equity.
    MaxExposurePct = 5,
    /// `last_entry`, IST time of day.
    LastEntry = 6,
    /// `square_off`, IST time of day.
    SquareOff = 7,
    /// `signal_expiry_secs`, seconds.
    SignalExpirySecs = 8,
    /// `cooldown_secs`, seconds.
    CooldownSecs = 9,
    /// `option_risk_pct`, percent of equity (premium at risk).
    OptionRiskPct = 10,
    /// `max_option_exposure_pct`, percent of equity.
    MaxOptionExposurePct = 11,
    /// `max_sector_pct`, percent of equity.
    MaxSectorPct = 12,
    /// `correlation_window`, one-minute returns.
    CorrelationWindow = 13,
    /// `correlation_threshold`, a correlation coefficient.
    CorrelationThreshold = 14,
    /// `max_cluster_positions`, positions.
    MaxClusterPositions = 15,
    /// `max_cluster_pct`, percent of equity.
    MaxClusterPct = 16,
    /// `daily_loss_pct`, percent of start-of-day equity.
    DailyLossPct = 17,
    /// `daily_loss_flatten`, true or false.
    DailyLossFlatten = 18,
    /// `drawdown_warn_pct`, percent of the day's peak equity.
    DrawdownWarnPct = 19,
    /// `drawdown_halt_pct`, percent of the day's peak equity.
    DrawdownHaltPct = 20,
    /// `price_band_pct`, percent of the last trade.
    PriceBandPct = 21,
    /// `max_order_value`, rupees.
    MaxOrderValue = 22,
    /// `stale_quote_secs`, seconds of market time.
    StaleQuoteSecs = 23,
}

impl LimitKey {
    /// Every key, in the order `limits` lists them.
    pub const ALL: [LimitKey; 23] = [
        LimitKey::Capital,
        LimitKey::RiskPerTradePct,
        LimitKey::OptionRiskPct,
        LimitKey::DefaultStopPct,
        LimitKey::MaxPositionPct,
        LimitKey::MaxExposurePct,
        LimitKey::MaxOptionExposurePct,
        LimitKey::MaxSectorPct,
        LimitKey::CorrelationWindow,
        LimitKey::CorrelationThreshold,
        LimitKey::MaxClusterPositions,
        LimitKey::MaxClusterPct,
        LimitKey::DailyLossPct,
        LimitKey::DailyLossFlatten,
        LimitKey::DrawdownWarnPct,
        LimitKey::DrawdownHaltPct,
        LimitKey::PriceBandPct,
        LimitKey::MaxOrderValue,
        LimitKey::SignalExpirySecs,
        LimitKey::CooldownSecs,
        LimitKey::StaleQuoteSecs,
        LimitKey::LastEntry,
        LimitKey::SquareOff,
    ];

    /// The configuration key.
    pub const fn as_str(self) -> &'static str {
        match self {
            LimitKey::Capital => "capital",
            LimitKey::RiskPerTradePct => "risk_per_trade_pct",
            LimitKey::DefaultStopPct => "default_stop_pct",
            LimitKey::MaxPositionPct => "max_position_pct",
            LimitKey::MaxExposurePct => "max_exposure_pct",
            LimitKey::LastEntry => "last_entry",
            LimitKey::SquareOff => "square_off",
            LimitKey::SignalExpirySecs => "signal_expiry_secs",
            LimitKey::CooldownSecs => "cooldown_secs",
            LimitKey::OptionRiskPct => "option_risk_pct",
            LimitKey::MaxOptionExposurePct => "max_option_exposure_pct",
            LimitKey::MaxSectorPct => "max_sector_pct",
            LimitKey::CorrelationWindow => "correlation_window",
            LimitKey::CorrelationThreshold => "correlation_threshold",
            LimitKey::MaxClusterPositions => "max_cluster_positions",
            LimitKey::MaxClusterPct => "max_cluster_pct",
            LimitKey::DailyLossPct => "daily_loss_pct",
            LimitKey::DailyLossFlatten => "daily_loss_flatten",
            LimitKey::DrawdownWarnPct => "drawdown_warn_pct",
            LimitKey::DrawdownHaltPct => "drawdown_halt_pct",
            LimitKey::PriceBandPct => "price_band_pct",
            LimitKey::MaxOrderValue => "max_order_value",
            LimitKey::StaleQuoteSecs => "stale_quote_secs",
        }
    }

    /// The unit of the value: `rupees`, `percent`, `IST`, `seconds`, `returns`,
    /// `positions`, `correlation` or `flag`.
    pub const fn unit(self) -> &'static str {
        match self {
            LimitKey::Capital | LimitKey::MaxOrderValue => "rupees",
            LimitKey::LastEntry | LimitKey::SquareOff => "IST",
            LimitKey::SignalExpirySecs | LimitKey::CooldownSecs | LimitKey::StaleQuoteSecs => {
                "seconds"
            }
            LimitKey::CorrelationWindow => "returns",
            LimitKey::MaxClusterPositions => "positions",
            LimitKey::CorrelationThreshold => "correlation",
            LimitKey::DailyLossFlatten => "flag",
            _ => "percent",
        }
    }

    /// True for the two times of day (the value is seconds after midnight IST).
    pub const fn is_time(self) -> bool {
        matches!(self, LimitKey::LastEntry | LimitKey::SquareOff)
    }

    /// True for whole numbers (seconds, counts): the value is the number itself.
    pub const fn is_whole(self) -> bool {
        matches!(
            self,
            LimitKey::SignalExpirySecs
                | LimitKey::CooldownSecs
                | LimitKey::StaleQuoteSecs
                | LimitKey::CorrelationWindow
                | LimitKey::MaxClusterPositions
        )
    }

    /// True for a yes/no setting (the value is 0 or 1).
    pub const fn is_flag(self) -> bool {
        matches!(self, LimitKey::DailyLossFlatten)
    }

    /// The key named `name`, if any.
    pub fn from_name(name: &str) -> Option<LimitKey> {
        LimitKey::ALL.into_iter().find(|k| k.as_str() == name)
    }
}

/// A limit's value in one word: for the decimal keys the raw units of [`Money`]
/// (10^-8, so exact for every value the configuration accepts up to ₹92 billion), for
/// the times of day seconds after midnight IST, for whole numbers the number, for
/// flags 0 or 1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub struct LimitValue(pub i64);

impl LimitValue {
    /// A decimal value; `None` when it does not fit one word.
    pub fn from_money(m: Money) -> Option<LimitValue> {
        i64::try_from(m.raw()).ok().map(LimitValue)
    }

    /// The decimal value.
    pub fn to_money(self) -> Money {
        Money::from_raw(i128::from(self.0))
    }
}

/// What an operator asks of a stage. Queries read; the rest change state and are
/// sequenced with market events (see [`ScheduledCommand`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ControlCommand {
    /// The stage's headline row (feed: market time; signal: every strategy; risk:
    /// trading state and P&L; order: order counts).
    Status,
    /// Risk: every open position.
    Positions,
    /// Order: working orders and the most recent finished ones.
    Orders,
    /// Risk: P&L per strategy.
    Pnl,
    /// Risk: every limit.
    Limits,
    /// Any stage: its latency histograms' percentiles.
    Latency,
    /// Any stage: its counters.
    Counters,
    /// Signal: stop a strategy's entries (its exits still flow).
    Pause(StrategyId),
    /// Signal: let a paused strategy open positions again.
    Resume(StrategyId),
    /// Risk: close `qty` units of the position in `instrument` at market (zero: all of
    /// it). Bypasses entry limits, never exit safety.
    Close {
        /// Which instrument.
        instrument: InstrumentId,
        /// Units to close; zero closes the whole position.
        qty: Qty,
    },
    /// Risk: close every open position at market.
    Flatten,
    /// Risk: change the trading state (`halt`, `reduce`, `activate`).
    SetState(TradingState),
    /// Risk: change one limit. The control thread validates the value as the
    /// configuration would before it sends it.
    SetLimit {
        /// Which limit.
        key: LimitKey,
        /// The new value.
        value: LimitValue,
    },
    /// Signal: a news item typed by an operator, handled as if the feed had brought it
    /// at the stage's current market time.
    News {
        /// The instrument it is about.
        instrument: InstrumentId,
        /// Sentiment in per-mille, −1000 to 1000.
        sentiment_milli: i16,
    },
    /// Risk: the whole feed went stale (`true`: the `stale_feed` alert) or recovered
    /// (`false`: `feed_recovered`); entries are refused while it is stale.
    ///
    /// No operator sends it: the feed stage puts it into the stream when its stale watch
    /// changes, so it falls between the same two market events for every stage and
    /// every thread layout, and risk journals it so a resumed day replays it there.
    FeedStale(bool),
}

impl ControlCommand {
    /// True for commands that change state, and so travel with the market data
    /// ([`ScheduledCommand`]): the operator's (which may be scheduled) and the feed
    /// stage's [`ControlCommand::FeedStale`].
    pub const fn changes_state(&self) -> bool {
        matches!(
            self,
            ControlCommand::Pause(_)
                | ControlCommand::Resume(_)
                | ControlCommand::Close { .. }
                | ControlCommand::Flatten
                | ControlCommand::SetState(_)
                | ControlCommand::SetLimit { .. }
                | ControlCommand::News { .. }
                | ControlCommand::FeedStale(_)
        )
    }

    /// True for the commands the signal stage owns.
    pub const fn is_for_signal(&self) -> bool {
        matches!(
            self,
            ControlCommand::Pause(_) | ControlCommand::Resume(_) | ControlCommand::News { .. }
        )
    }
}

/// A state-changing command that travels with the market data, so that it takes effect
/// between the same two market events on every thread layout and in every replay.
///
/// The feed stage releases it just before the first event later than its time (and
/// puts its own [`ControlCommand::FeedStale`] in where its stale watch changed); the
/// signal stage applies pause/resume and news and forwards the rest to risk in stream
/// order.
// `repr(C)` puts `exchange_ts` and `ingress` at the offsets `Tick` and `News` use, so
// reading either from a `MarketEvent` is one load whatever the variant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(C)]
pub struct ScheduledCommand {
    /// Market time it was scheduled for.
    pub exchange_ts: UnixNanos,
    /// Ingress stamp (set by the feed stage like any event's).
    pub ingress: Stamp,
    /// What to do.
    pub command: ControlCommand,
}

/// Why a stage refused a command.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum ControlRefusal {
    /// The command is not one this stage answers.
    NotHere = 1,
    /// No strategy with that id.
    UnknownStrategy = 2,
    /// No instrument with that id, or one that cannot be traded.
    UnknownInstrument = 3,
    /// `close` on a flat position.
    NoPosition = 4,
    /// An order on the instrument awaits its answer; try again when it is answered.
    OrderInFlight = 5,
    /// Too many orders await answers.
    InFlightFull = 6,
    /// `close` asked for more units than are open, or for a part that is not whole lots.
    BadQty = 7,
    /// A limit value the stage cannot take (the control thread validates first).
    BadValue = 8,
}

impl ControlRefusal {
    /// The error code the control socket uses.
    pub const fn code(self) -> &'static str {
        match self {
            ControlRefusal::NotHere => "unknown_command",
            ControlRefusal::UnknownStrategy => "unknown_strategy",
            ControlRefusal::UnknownInstrument => "unknown_symbol",
            ControlRefusal::NoPosition => "no_position",
            ControlRefusal::OrderInFlight => "order_in_flight",
            ControlRefusal::InFlightFull => "in_flight_full",
            ControlRefusal::BadQty => "bad_qty",
            ControlRefusal::BadValue => "bad_value",
        }
    }
}

/// How loud an alert is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
#[repr(u8)]
pub enum AlertLevel {
    /// Worth knowing.
    Info = 1,
    /// Needs a look.
    Warning = 2,
    /// Trading is affected.
    Critical = 3,
}

impl AlertLevel {
    /// The lowercase name.
    pub const fn as_str(self) -> &'static str {
        match self {
            AlertLevel::Info => "info",
            AlertLevel::Warning => "warning",
            AlertLevel::Critical => "critical",
        }
    }
}

/// Something a stage says unasked, for `subscribe alerts`. Which stage said it is known
/// from the ring it came on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Alert {
    /// Market time it happened at.
    pub exchange_ts: UnixNanos,
    /// A short machine name (`trading_state`, `order_rejected`, `stop_loss`, ...).
    pub kind: &'static str,
    /// The instrument it is about, if any.
    pub instrument: Option<InstrumentId>,
    /// How loud.
    pub level: AlertLevel,
    /// For `trading_state`: the new state.
    pub state: TradingState,
    /// For `order_rejected`: why, as the reject reason's name.
    pub detail: &'static str,
}

/// One row of a stage's answer, or something it says unasked.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ControlReply {
    /// The answer is complete.
    Done,
    /// The command was refused; nothing changed.
    Refused(ControlRefusal),
    /// Feed: where the market is.
    Feed {
        /// Market time of the last event released.
        market_time: UnixNanos,
        /// Ticks released.
        ticks: u64,
        /// True once the source has ended (the session is over).
        finished: bool,
    },
    /// Signal: one strategy.
    Strategy {
        /// Which.
        strategy: StrategyId,
        /// True while its entries are suppressed.
        paused: bool,
        /// For pause/resume: true when the command changed the flag.
        changed: bool,
        /// Signals sent to risk.
        signals: u64,
        /// Of those, entries (`Long`/`Short`).
        entries: u64,
        /// Entries dropped while paused.
        suppressed: u64,
    },
    /// Signal: one strategy's allocation (with allocation reviews on), after its
    /// [`ControlReply::Strategy`] row.
    Allocation {
        /// Which.
        strategy: StrategyId,
        /// True while it trades on paper only (shadow).
        shadow: bool,
        /// Percent of its risk budget its entries are sized with.
        weight_pct: u8,
        /// Reviews held.
        reviews: u32,
        /// Entries held back from risk while in shadow.
        shadowed: u32,
        /// Round trips in its rolling record of real trades.
        live_trips: u32,
        /// Of those, winners.
        live_wins: u32,
        /// Their profit factor in hundredths (`u32::MAX`: profits and no loss).
        live_profit_factor_centi: u32,
        /// Their net P&L.
        live_net: Money,
        /// Round trips in its shadow record (the paper trades since it went to shadow).
        shadow_trips: u32,
        /// Their net P&L.
        shadow_net: Money,
    },
    /// Risk: the headline.
    Risk {
        /// Market time of the last event risk handled.
        market_time: UnixNanos,
        /// Trading state.
        state: TradingState,
        /// Why the trading state is what it is.
        reason: StateReason,
        /// Positions holding units.
        open_positions: u32,
        /// Realised P&L.
        realized: Money,
        /// Unrealised P&L at the marks.
        unrealized: Money,
    },
    /// Risk: the headline's second row, money the first leaves out.
    Equity {
        /// Charges paid on every fill so far.
        charges: Money,
        /// Capital + realised P&L net of charges + unrealised P&L at the marks.
        equity: Money,
    },
    /// Risk: one open position.
    Position {
        /// Which instrument.
        instrument: InstrumentId,
        /// Owning strategy.
        owner: Option<StrategyId>,
        /// Signed units.
        net: i64,
        /// Average entry price of the open units.
        avg_price: Price,
        /// Last mark.
        mark: Price,
        /// Protective stop (zero: none).
        stop: Price,
        /// Realised P&L of the instrument today.
        realized: Money,
    },
    /// Risk: the exits of the open position in the `Position` row before it.
    PositionExits {
        /// Which instrument.
        instrument: InstrumentId,
        /// Profit target from the entry signal (zero: none).
        target: Price,
        /// Failed attempts in a row at its exit.
        exit_attempts: u32,
        /// The target's booking: 0 open, 1 order working, 2 booked.
        partial: u8,
        /// True once the trailing stop is active.
        trailing: bool,
        /// True once its exit failed `risk.exit_max_attempts` times.
        exit_failed: bool,
    },
    /// Risk: charges paid on one instrument's fills, after its `Position` row.
    PositionCharges {
        /// Which instrument.
        instrument: InstrumentId,
        /// Charges paid on its fills today.
        charges: Money,
    },
    /// Risk: one strategy's P&L.
    StrategyPnl {
        /// Which.
        strategy: StrategyId,
        /// Realised.
        realized: Money,
        /// Unrealised at the marks.
        unrealized: Money,
        /// Fills booked.
        fills: u32,
        /// Positions opened and closed again.
        round_trips: u32,
    },
    /// Risk: charges paid on one strategy's fills, after its `StrategyPnl` row.
    StrategyCharges {
        /// Which.
        strategy: StrategyId,
        /// Charges paid on its fills.
        charges: Money,
    },
    /// Risk: a limit, and what it was before a `set` (equal to `value` when listed).
    Limit {
        /// Which.
        key: LimitKey,
        /// Now.
        value: LimitValue,
        /// Before.
        previous: LimitValue,
    },
    /// Risk: the trading state changed (or was already so).
    State {
        /// Now.
        state: TradingState,
        /// Before.
        previous: TradingState,
    },
    /// Risk: a closing order was sent for `close` or `flatten`.
    ExitSent {
        /// Which instrument.
        instrument: InstrumentId,
        /// Buy or sell.
        side: Side,
        /// Units.
        qty: Qty,
        /// The order's id.
        intent: IntentId,
    },
    /// Risk: `flatten` found an order in flight on this instrument; it is closed once
    /// that order is answered.
    Deferred {
        /// Which instrument.
        instrument: InstrumentId,
    },
    /// Order: counts.
    Orders {
        /// Orders sent.
        sent: u64,
        /// Fills.
        fills: u64,
        /// Rejects.
        rejects: u64,
        /// Orders working now.
        working: u32,
    },
    /// Order: one order, working or recently finished.
    Order {
        /// Its id.
        intent: IntentId,
        /// Market time it was sent at.
        exchange_ts: UnixNanos,
        /// Average fill price (zero: nothing filled).
        avg_price: Price,
        /// Which instrument.
        instrument: InstrumentId,
        /// Units ordered.
        qty: Qty,
        /// Units filled.
        filled: Qty,
        /// The strategy it trades for.
        strategy: StrategyId,
        /// Buy or sell.
        side: Side,
        /// Why it was sent.
        reason: IntentReason,
        /// Where it is.
        state: OrderState,
        /// False while working, true once finished.
        finished: bool,
    },
    /// Any stage: one latency histogram.
    Latency {
        /// `service`, `tick_to_risk`, `tick_to_intent`.
        name: &'static str,
        /// Samples.
        count: u64,
        /// Median, ns.
        p50: u64,
        /// 99th percentile, ns.
        p99: u64,
        /// 99.9th percentile, ns.
        p999: u64,
        /// Largest, ns.
        max: u64,
    },
    /// Any stage: one counter.
    Counter {
        /// Its name, as in the end-of-run report.
        name: &'static str,
        /// Its value.
        value: u64,
    },
    /// Risk, unasked: a fill was booked.
    Fill(FillRecord),
    /// Any stage, unasked: an alert.
    Alert(Alert),
}

const _: () = assert!(std::mem::size_of::<ControlCommand>() <= 24);
const _: () = assert!(std::mem::size_of::<ScheduledCommand>() <= 48);
const _: () = assert!(std::mem::size_of::<ControlReply>() <= 64);
