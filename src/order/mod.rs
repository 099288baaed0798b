//! Stage 4: live orders, the order state machine, and the gateways to a venue.
//!
//! The order stage owns the live orders. It receives only intents the risk stage
//! approved and sized, cuts each at the instrument's freeze quantity into child
//! [`VenueOrder`]s, sends them through a rate limit that puts exits first, hands them to
//! a [`Gateway`], checks every answer against the [`OrderState`] machine, retries what
//! the venue refused for a passing reason, works the unfilled rest of partly filled
//! orders, and sends one stream of reports per intent back to the risk stage.
//!
//! | file | what |
//! | --- | --- |
//! | `config.rs` | [`OrderConfig`]: the `[order]` section |
//! | `state.rs` | [`OrderState`], [`OrderEvent`]: the state machine, transitions checked |
//! | `book.rs` | [`OrderBook`], [`Order`]: live intents and their slices, under risk's intent ids |
//! | `action.rs` | a request to the venue waiting for the rate limit |
//! | `rate.rs` | [`RateLimiter`]: per-second, per-minute and per-day windows in market time |
//! | `queue.rs` | [`SendQueue`]: waiting requests, exits before entries, exits never dropped |
//! | `desk.rs` | the stage's working state: routing answers, timers, retries, remainders |
//! | `desk/protect.rs` | broker-side protective stops (`protective_stop`): place, follow in steps, replace, cancel ahead of the engine's exits |
//! | `desk/takeover.rs` | a resumed day at a broker: the orders it still works, held as working again |
//! | `takeover.rs` | which orders the journal shows working at a broker when the engine stopped |
//! | `execution.rs` | [`ExecutionMetrics`]: fill rate, slippage and latency per strategy |
//! | `venue.rs` | [`VenueOrder`], [`VenueReport`]: what the stage and a venue say to each other |
//! | `gateway.rs`, `gateway/` | the [`Gateway`] trait and its venues ([`PaperGateway`], [`KiteGateway`]) |
//! | `stage.rs` | [`OrderStage`] |

mod action;
mod book;
mod config;
mod desk;
mod execution;
mod gateway;
mod queue;
mod rate;
mod reject_storm;
mod stage;
mod state;
pub mod takeover;
mod venue;

pub use book::{BookFull, Order, OrderBook, Slice, MAX_SLICES, TRADE_MEMORY};
pub use config::{GatewayKind, OrderConfig, RemainderPolicy};
pub use execution::{
    ExecutionMetrics, ExecutionSummary, LeftStop, Slippage, StrategyExecution, SLIPPAGE_RANGE_BPS,
};
/// The Kite Connect gateway's parts: REST client, errors, health (see [`KiteGateway`]).
pub use gateway::kite;
pub use gateway::{
    kite::{session as kite_session, wire as kite_wire},
    FaultConfig, Gateway, KiteGateway, KiteGatewayConfig, LatencyConfig, LatencyModel, PaperConfig,
    PaperGateway, Reports, RetryPolicy, RulesConfig,
};
pub use queue::SendQueue;
pub use rate::RateLimiter;
pub use reject_storm::RejectStorm;
pub use stage::{OrderSetup, OrderStage, MAX_WORKING_ROWS, ORDER_BOOK_CAPACITY, RECENT_ORDERS};
pub use state::{InvalidTransition, OrderEvent, OrderState};
pub use venue::{Amend, OrderType, Product, TakeOver, VenueEvent, VenueOrder, VenueReport};
