//! Value types and the messages that cross the rings.
//!
//! Everything here is plain data: prices, quantities and money as decimal fixed-point
//! integers, dense identifiers, the instrument table, and the `Copy` messages the stages
//! exchange. Nothing here depends on another tickpipe module.
//!
//! | type | what |
//! | --- | --- |
//! | [`Price`] | a price, decimal fixed-point with [`Price::SCALE`] = 10^8 |
//! | [`Qty`] | an order or fill quantity in units (shares, or lots × lot size) |
//! | [`Money`] | an amount of rupees, wide (`i128`) so that sums never wrap |
//! | [`InstrumentId`] | dense index into the [`InstrumentTable`] |
//! | [`UnixNanos`] | market (exchange) time; [`Stamp`] monotonic latency stamps |
//! | [`MarketEvent`], [`RiskInput`], [`OrderInput`], [`ExecReport`], [`ReviewAnswer`] | the ring messages |

mod error;
mod fixed;
mod ids;
mod instrument;
mod message;
mod money;
mod price;
mod qty;
mod side;
mod time;

pub use error::ValueError;
pub use ids::{ClientOrderId, IntentId, StrategyId, TradeId};
pub use instrument::{
    Exchange, Instrument, InstrumentId, InstrumentKind, InstrumentTable, OptionType, SectorId,
    Segment,
};
pub use message::{
    Alert, AlertLevel, BrokerNotice, BrokerPosition, ControlCommand, ControlRefusal, ControlReply,
    Direction, ExecKind, ExecReport, FillRecord, IntentReason, LimitKey, LimitValue, MarketEvent,
    News, OrderInput, OrderIntent, OrderOutput, OrderState, ProtectStop, RejectReason,
    ReviewAnswer, ReviewRequest, RiskInput, RoundTrips, ScheduledCommand, Signal, StateReason,
    Tick, TickKind, TradingState,
};
pub use money::Money;
pub use price::Price;
pub use qty::Qty;
pub use side::Side;
pub use time::{Date, Stamp, TimeOfDay, UnixNanos, IST_OFFSET_SECS};
