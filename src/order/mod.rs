//! Stage 4: live orders, the order state machine, and the gateways to a venue.
//!
//! The order stage owns the live orders. It receives only intents the risk stage
//! approved and sized, hands them to a [`Gateway`], checks every answer against the
//! [`OrderState`] machine, and sends the reports back to the risk stage.
//!
//! | file | what |
//! | --- | --- |
//! | `state.rs` | [`OrderState`], [`OrderEvent`]: the state machine, transitions checked |
//! | `book.rs` | [`OrderBook`]: live orders in a preallocated slab keyed by intent id |
//! | `gateway.rs`, `gateway/` | the [`Gateway`] trait and its venues ([`PaperGateway`]) |
//! | `stage.rs` | [`OrderStage`] |

mod book;
mod gateway;
mod stage;
mod state;

pub use book::{Order, OrderBook};
pub use gateway::{Gateway, PaperGateway};
pub use stage::{OrderStage, MAX_WORKING_ROWS, ORDER_BOOK_CAPACITY, RECENT_ORDERS};
pub use state::{InvalidTransition, OrderEvent, OrderState};
