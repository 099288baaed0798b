//! Stage 3: the book (positions, P&L), limits and exits.
//!
//! The risk stage is the single owner of positions, P&L and limits. Strategies only say
//! which direction they want; this stage decides whether and how much, sends the order
//! intents, books the fills, and closes positions at their stops and at the daily
//! square-off.
//!
//! | file | what |
//! | --- | --- |
//! | `config.rs` | [`RiskConfig`], the `[risk]` section |
//! | `position.rs` | [`Position`]: one instrument's units, cost basis, P&L, mark, owner, stop |
//! | `book.rs` | [`Book`]: every position and the totals the limits read |
//! | `check.rs`, `check/` | [`RiskCheck`] and one file per check, run as a [`CheckChain`] |
//! | `exit.rs`, `exit/` | the protective stop ([`stop_hit`]), the daily [`SquareOff`], targets and trailing ([`ExitRules`]), time stops, exit retry ([`ExitRetry`]), the emergency flatten ([`IndexFallWatch`]), [`reconcile`] |
//! | `in_flight.rs` | [`InFlightTable`]: intents awaiting their final exec report |
//! | `refusals.rs` | [`RefusalCounts`]: refused signals by reason |
//! | `stage.rs` | [`RiskStage`] |
//! | `summary.rs` | [`TradingSummary`]: the end-of-run book and fills |

mod book;
mod check;
mod config;
mod exit;
mod in_flight;
mod position;
mod refusals;
mod review;
mod stage;
mod summary;

pub use book::Book;
pub use check::{
    CheckChain, CheckContext, Cooldown, EntryWindow, ExposureCap, Halted, OneOrderAtATime,
    Ownership, Proposal, Refusal, RiskCheck, RiskSizing,
};
pub use config::{FatalPolicy, RiskConfig, SizingBasis};
pub use exit::{
    ist_day_and_time, reconcile, stop_hit, validate_time_stop_names, BrokerPosition,
    EmergencyConfig, ExitDesk, ExitOrder, ExitPlan, ExitRetry, ExitRules, ForcedExits,
    IndexFallWatch, Mismatch, PartialState, ReconcilePolicy, RetryDue, ShutdownPolicy, SquareOff,
    SquareOffDue, TimeStops, FORCED_KINDS,
};
pub use in_flight::{InFlight, InFlightTable};
pub use position::{FillEffect, Position};
pub use refusals::RefusalCounts;
pub use review::ReviewDesk;
pub use stage::RiskStage;
pub use summary::{FillRecord, PositionSnapshot, StrategyPnl, TradingSummary};
