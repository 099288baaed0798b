//! Stage 4: live orders, the order state machine, and the gateways to a venue.
//!
//! The order stage owns the live orders. It receives only intents the risk stage
//! approved and sized, turns each into [`VenueOrder`]s, hands them to a [`Gateway`],
//! checks every answer against the [`OrderState`] machine, and sends the reports back to
//! the risk stage.
//!
//! | file | what |
//! | --- | --- |
//! | `state.rs` | [`OrderState`], [`OrderEvent`]: the state machine, transitions checked |
//! | `book.rs` | [`OrderBook`]: live orders in a preallocated slab keyed by intent id |
//! | `venue.rs` | [`VenueOrder`], [`VenueReport`]: what the stage and a venue say to each other |
//! | `gateway.rs`, `gateway/` | the [`Gateway`] trait and its venues ([`PaperGateway`]) |
//! | `stage.rs` | [`OrderStage`] |

mod book;
mod gateway;
mod stage;
mod state;
mod venue;

pub use book::{Order, OrderBook};
pub use gateway::{
    FaultConfig, Gateway, LatencyConfig, LatencyModel, PaperConfig, PaperGateway, Reports,
    RulesConfig,
};
pub use stage::{OrderStage, MAX_WORKING_ROWS, ORDER_BOOK_CAPACITY, RECENT_ORDERS};
pub use state::{InvalidTransition, OrderEvent, OrderState};
pub use venue::{Amend, OrderType, Product, VenueEvent, VenueOrder, VenueReport};
