//! The seam between the order stage and a venue.
//!
//! | gateway | file | what |
//! | --- | --- | --- |
//! | [`PaperGateway`] | `gateway/paper.rs` | fills marketable orders at the touch of the latest quote, at once |

mod paper;

pub use paper::PaperGateway;

use crate::model::{ExecReport, OrderIntent, Tick};

/// A venue the order stage sends orders to: the paper exchange, or a broker.
///
/// Every method runs on the order stage's thread inside `poll()`, so implementations
/// must not block; a real broker does its I/O elsewhere and hands answers over in
/// [`Gateway::poll`]. Reports must follow the order state machine
/// ([`OrderState`](crate::order::OrderState)): one final report per order, fills never
/// beyond the order quantity.
pub trait Gateway: Send {
    /// Short name for reports (`paper`, `kite`).
    fn name(&self) -> &'static str;

    /// The latest quote of an instrument (every tick, before any order it causes).
    fn on_quote(&mut self, quote: &Tick);

    /// Hands an order to the venue; immediate answers go to `reports`.
    fn submit(&mut self, order: &OrderIntent, reports: &mut dyn FnMut(ExecReport));

    /// Delivers answers that arrive later (a real broker); the paper gateway has none.
    /// Returns how many it delivered.
    fn poll(&mut self, reports: &mut dyn FnMut(ExecReport)) -> usize;
}
