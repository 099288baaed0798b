//! The seam between the order stage and a venue.
//!
//! | gateway | file | what |
//! | --- | --- | --- |
//! | [`PaperGateway`] | `gateway/paper.rs` | fills marketable orders at the touch of the latest quote, at once |
//! | [`KiteGateway`] | `gateway/kite/` | real orders at Zerodha (Kite Connect REST) from a cold I/O thread |

pub mod kite;
mod paper;

pub use kite::{KiteGateway, KiteGatewayConfig, RetryPolicy};
pub use paper::{FaultConfig, LatencyConfig, LatencyModel, PaperConfig, PaperGateway, RulesConfig};

use crate::{
    model::{Alert, BrokerNotice, ClientOrderId, Tick, UnixNanos},
    order::venue::{Amend, TakeOver, VenueEvent, VenueOrder, VenueReport},
};

/// Where a gateway's answers go: the order stage checks each against its order.
pub type Reports<'a> = &'a mut dyn FnMut(VenueReport);

/// A venue the order stage sends orders to: the paper exchange, or a broker.
///
/// Every method runs on the order stage's thread inside `poll()`, so implementations
/// must not block; a real broker does its I/O elsewhere and hands answers over in
/// [`Gateway::poll`]. The order stage checks every answer against the order state
/// machine ([`OrderState`](crate::order::OrderState)) and counts what does not fit, so a
/// gateway reports what its venue said, duplicates and all.
///
/// Market time reaches a gateway through [`Gateway::on_quote`] and [`Gateway::advance`]
/// only: the paper exchange answers when *market* time passes an answer's due time, so
/// the same input gives the same fills on every thread layout and in backtests.
pub trait Gateway: Send {
    /// Short name for reports (`paper`, `kite`).
    fn name(&self) -> &'static str;

    /// The latest quote of an instrument (every tick, before any order it causes).
    /// Market time moves to the quote's exchange time: a paper exchange fills what the
    /// quote trades through and releases answers due by then.
    fn on_quote(&mut self, quote: &Tick, reports: Reports<'_>);

    /// Market time has reached `now` with no new quote: release answers due by then.
    fn advance(&mut self, now: UnixNanos, reports: Reports<'_>);

    /// Hands an order to the venue.
    fn submit(&mut self, order: &VenueOrder, reports: Reports<'_>);

    /// Asks the venue to change a working order's quantity or prices.
    fn modify(&mut self, order: ClientOrderId, amend: &Amend, reports: Reports<'_>);

    /// Asks the venue to cancel a working order.
    fn cancel(&mut self, order: ClientOrderId, reports: Reports<'_>);

    /// Delivers answers that arrive on their own (a real broker's I/O thread). Returns
    /// how many it delivered.
    fn poll(&mut self, reports: Reports<'_>) -> usize;

    /// Hands over what the venue's own side raised for the operator (a broker's
    /// reconciliation differences); the order stage sends each to the control plane's
    /// alert stream. Called once per order-stage poll, so it must be a cheap check when
    /// nothing waits. The paper exchange raises none.
    fn alerts(&mut self, _alerts: &mut dyn FnMut(Alert)) {}

    /// Hands over what the venue's own reconciliation confirmed for the risk stage (a
    /// broker's position that differs from the fills reported, or a halt its policy
    /// asks for); the order stage passes each on with its reports, and the risk stage
    /// acts on it ([`BrokerNotice`]). Called once per order-stage poll, so it must be a
    /// cheap check when nothing waits. The paper exchange has none.
    fn broker_notices(&mut self, _notices: &mut dyn FnMut(BrokerNotice)) {}

    /// True when the venue makes an order sent again while a resumed day catches up as
    /// it made it before (the paper exchange rebuilds its book so, in market time);
    /// false for a live broker, which holds the orders of the earlier run already: the
    /// order stage then sends it none of the intents made before the restart and
    /// answers them from the journal.
    fn rebuilds_from_replay(&self) -> bool {
        true
    }

    /// True when the venue answers in market time (a simulated exchange releases each
    /// answer once market time passes its due time), so intent-to-ack and
    /// intent-to-fill are measured between market-time stamps, the same on every
    /// layout. False for a broker: it answers in wall time and stamps its reports with
    /// its own clock (whole seconds, apart from the feed's), so the order stage times
    /// them by its latency clock, from taking the intent to reading the answer.
    fn answers_in_market_time(&self) -> bool {
        true
    }

    /// The venue's own id of child order `order` (a broker's order id), to name an
    /// order the run leaves working there. Off the hot path: the end of a run. `None`
    /// when the venue has none or it is not known (yet).
    fn venue_order_id(&self, _order: ClientOrderId) -> Option<String> {
        None
    }

    /// Follows an order the venue works already, placed by the run before a restart,
    /// without placing it (a resumed day at a broker, see `order::takeover`): from now
    /// on its answers are those of any order under `order.order.id`, the fills beyond
    /// `order.filled` included. The default, for a venue that holds nothing across a
    /// restart, ends it as cancelled at once (a paper exchange rebuilds its book from
    /// the replay and is never asked).
    fn take_over(&mut self, order: &TakeOver, reports: Reports<'_>) {
        reports(VenueReport::new(
            order.order.id,
            order.order.sent_ts,
            VenueEvent::Cancelled,
        ));
    }

    /// No more input will come (the feed ended or the engine stops): a paper exchange
    /// ends the session, expiring what still works; a broker does nothing (its orders
    /// live on at the venue: the order stage then cancels the entries it works and works
    /// the exits until done, and risk's shutdown policy decides about positions).
    fn end_session(&mut self, now: UnixNanos, reports: Reports<'_>);
}
