//! Stage 3: the book (positions, P&L), limits and exits.
//!
//! The risk stage is the single owner of positions, P&L and limits. Strategies only say
//! which direction they want; this stage decides whether and how much, sends the order
//! intents, books the fills, and closes positions at their stops and at the daily
//! square-off.
//!
//! | file | what |
//! | --- | --- |
//! | `approved.rs` | [`RiskApproved`]: an order only the risk stage can make, the order stage's only input order |
//! | `config.rs` | [`RiskConfig`], the `[risk]` section |
//! | `position.rs` | [`Position`]: one instrument's units, cost basis, P&L, mark, owner, stop |
//! | `book.rs` | [`Book`]: every position and the totals the limits read |
//! | `check.rs`, `check/` | [`RiskCheck`] and one file per check, run as a [`CheckChain`] |
//! | `limits/` | [`LimitState`]: exposure buckets, return correlations, the day's loss and drawdown, risk events |
//! | `exit.rs`, `exit/` | the protective stop ([`stop_hit`]), the daily [`SquareOff`], targets and trailing ([`ExitRules`]), time stops, exit retry ([`ExitRetry`]), the emergency flatten ([`IndexFallWatch`]), [`reconcile`] |
//! | `protect.rs` | the broker-side protective stop of each position (`[order] protective_stop`): what it should be, and its exit slot |
//! | `in_flight.rs` | [`InFlightTable`]: intents awaiting their final exec report |
//! | `refusals.rs` | [`Refusal`], the typed reason, and [`RefusalCounts`] |
//! | `stage.rs` | [`RiskStage`] |
//! | `summary.rs` | [`TradingSummary`]: the end-of-run book and fills |

mod approved;
mod book;
mod check;
mod config;
mod exit;
mod in_flight;
mod limits;
mod position;
mod protect;
mod refusals;
mod review;
mod stage;
mod summary;

pub use approved::RiskApproved;
pub use book::Book;
pub use check::{
    CheckChain, CheckContext, Cooldown, CorrelationCap, DailyLossGate, EntryWindow, ExposureCap,
    FeedFresh, Halted, MaxOrderValue, OneOrderAtATime, OptionExposureCap, Ownership, PriceBand,
    Proposal, QuoteAge, RiskCheck, RiskSizing, SectorCap, SignalAge,
};
pub use config::{FatalPolicy, RiskConfig, SizingBasis};
pub use exit::{
    ist_day_and_time, mismatch, reconcile, stop_hit, validate_time_stop_names, BrokerPosition,
    EmergencyConfig, ExitDesk, ExitOrder, ExitPlan, ExitRetry, ExitRules, ForcedExits, HaltExits,
    IndexFallWatch, Mismatch, PartialState, ReconcilePolicy, RetryDue, ScalingRules,
    ShutdownPolicy, SquareOff, SquareOffDue, TimeStops, FORCED_KINDS,
};
pub use in_flight::{InFlight, InFlightFull, InFlightTable};
pub use limits::{
    round_limit, round_stop, DayEvent, DayGuard, ExposureBuckets, InstrumentSpec, LimitState,
    Quote, ReturnCorrelation, RiskEvents, StateChange, MAX_CORRELATION_WINDOW,
    MIN_CORRELATION_SAMPLES,
};
pub use position::{FillEffect, Position};
pub use refusals::{Refusal, RefusalCounts};
pub use review::ReviewDesk;
pub use stage::{RiskStage, ORDER_STAGE_GONE};
pub use summary::{FillRecord, PositionSnapshot, RiskEventSummary, StrategyPnl, TradingSummary};
