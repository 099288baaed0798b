//! The `Copy` messages that cross the rings, one file per message.
//!
//! Every message is `#[repr(C)]` plain data with a compile-time size assertion: one
//! 64-byte cache line at most, so a ring slot is one line and a hop moves one line.
//! Stage inputs that merge two kinds of message ([`MarketEvent`], [`RiskInput`],
//! [`OrderInput`], [`OrderOutput`]) are enums whose tag hides in the niche of [`TickKind`], so they stay
//! at 64 bytes too.

mod broker;
mod control;
mod exec;
mod fill;
mod intent;
mod order_state;
mod protect;
mod review;
mod signal;
mod tick;

use crate::model::UnixNanos;

pub use broker::{BrokerNotice, BrokerPosition};
pub use control::{
    Alert, AlertLevel, ControlCommand, ControlRefusal, ControlReply, LimitKey, LimitValue,
    ScheduledCommand, StateReason, TradingState,
};
pub use exec::{ExecKind, ExecReport, RejectReason};
pub use fill::FillRecord;
pub use intent::{IntentReason, OrderIntent};
pub use order_state::OrderState;
pub use protect::ProtectStop;
pub use review::{ReviewAnswer, ReviewRequest, RoundTrips};
pub use signal::{Direction, Signal};
pub use tick::{MarketEvent, News, Tick, TickKind};

/// What the risk stage reads from the signal stage, in market order: every tick (as a
/// mark for positions and stops) and every signal, so risk decides on exactly the prices
/// the strategies saw, whatever the thread layout.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum RiskInput {
    /// A market tick, forwarded as a mark.
    Tick(Tick),
    /// A strategy's wish.
    Signal(Signal),
    /// An operator's command scheduled at a market time, in stream order.
    Control(ScheduledCommand),
    /// The signal stage's allocation review: answer with the round trips each strategy
    /// closed since the last one, once every earlier order is booked.
    Review(ReviewRequest),
}

/// What the order stage reads from the risk stage, in market order: quotes for the
/// paper exchange and approved intents.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OrderInput {
    /// The latest quote of an instrument.
    Quote(Tick),
    /// An order the risk stage approved and sized; only the risk stage can make a
    /// [`RiskApproved`](crate::risk::RiskApproved).
    Intent(crate::risk::RiskApproved),
    /// Market time has reached this instant: the paper exchange releases every answer due
    /// by then, and the order stage answers [`OrderOutput::Synced`] after them. The risk
    /// stage sends it in paper and backtest runs while orders are out, so it books every
    /// answer due before it reads on, and a run's fills do not depend on thread timing.
    Sync(UnixNanos),
    /// The risk stage's input has ended with orders still out: the venue ends the
    /// session at this market time (a paper exchange answers what is due and expires what
    /// still works), so every order gets its final answer.
    EndSession(UnixNanos),
    /// The protective stop of a position changed (`[order] protective_stop`): the order
    /// stage places, modifies or cancels its stop-market order to match.
    Protect(ProtectStop),
}

/// What the order stage writes to the risk stage.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum OrderOutput {
    /// An answer about an intent.
    Report(ExecReport),
    /// Every answer due by this market time has been sent (the reply to
    /// [`OrderInput::Sync`]).
    Synced(UnixNanos),
    /// A broker gateway's reconciliation confirmed a difference (see [`BrokerNotice`]).
    Broker(BrokerNotice),
}

const _: () = assert!(std::mem::size_of::<RiskInput>() <= 64);
const _: () = assert!(std::mem::size_of::<OrderInput>() <= 64);
const _: () = assert!(std::mem::size_of::<OrderOutput>() <= 64);
