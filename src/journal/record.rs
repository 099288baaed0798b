//! The typed records and their fixed little-endian payloads.
//!
//! Each field is written explicitly at a fixed offset, never by copying a Rust struct
//! (whose layout is not a file format). The frame's timestamp is the record's market
//! time: a message's own `exchange_ts` is not stored twice, and decoding sets it from the
//! frame. The ingress [`Stamp`] is not journaled (it belongs to the run that took it)
//! and decodes as zero. Prices are raw [`Price`] units (10^-8), never floats.
//!
//! | type | payload bytes | frame bytes |
//! | --- | --- | --- |
//! | intent | 36 | 64 |
//! | exec | 45 | 80 |
//! | fill | 28 | 56 |
//! | control | 16 | 48 |
//! | risk_state | 3 | 32 |
//! | limit | 17 | 48 |
//! | signal | 32 | 64 |
//! | daily_mark | 12 | 40 |
//! | tick | 45 | 80 |
//! | session | 17 | 48 |
//! | adopt | 36 | 64 |
//! | placed | 46 | 80 |
//!
//! Payload layouts, offsets in bytes (`u`/`i` = unsigned/signed little-endian):
//!
//! ```text
//! intent      0 id u64 · 8 limit i64 · 16 qty u32 · 20 instrument u32 · 24 strategy u16
//!             · 26 side u8 · 27 reason u8 · 28 reference i64
//! exec        0 intent u64 · 8 last_price i64 · 16 trade u64 · 24 instrument u32
//!             · 28 last_qty u32 · 32 cum_qty u32 · 36 leaves_qty u32 · 40 strategy u16
//!             · 42 side u8 · 43 kind u8 · 44 reject u8
//! fill        0 intent u64 · 8 price i64 · 16 qty u32 · 20 instrument u32
//!             · 24 strategy u16 · 26 side u8 · 27 reason u8
//! control     0 command u8 · 1 state/limit key/stale flag u8 · 2 strategy u16
//!             · 4 instrument u32 · 8 qty, limit value or sentiment i64
//! risk_state  0 state u8 · 1 previous u8 · 2 reason u8
//! limit       0 key u8 · 1 value i64 · 9 previous i64
//! signal      0 price i64 · 8 stop i64 · 16 target i64 · 24 instrument u32
//!             · 28 strategy u16 · 30 direction u8 · 31 weight_pct u8
//! daily_mark  0 instrument u32 · 4 mark i64
//! tick        0 last i64 · 8 bid i64 · 16 ask i64 · 24 instrument u32 · 28 volume u32
//!             · 32 last_qty u32 · 36 bid_qty u32 · 40 ask_qty u32 · 44 kind u8
//! session     0 kind u8 · 1 config u64 · 9 strategies u32 · 13 instruments u32
//! adopt       0 instrument u32 · 4 broker_net i64 · 12 broker_avg i64 · 20 book_net i64
//!             · 28 book_avg i64
//! placed      0 order u64 · 8 venue_id u64 · 16 limit i64 · 24 trigger i64 · 32 qty u32
//!             · 36 prior u32 · 40 instrument u32 · 44 slice u8 · 45 side u8
//! ```
//!
//! Enums are stored as their `repr(u8)` codes; the control command codes are
//! [`ControlCommand`]'s variants in declaration order from 1.

use std::fmt;

use super::format::{
    seal_frame, u32_at, u64_at, RecordType, Seq, FRAME_HEADER, MAX_FRAME, MAX_PAYLOAD,
};
use crate::model::{
    ClientOrderId, ControlCommand, Direction, ExecKind, ExecReport, FillRecord, InstrumentId,
    IntentId, IntentReason, LimitKey, LimitValue, OrderIntent, Price, Qty, RejectReason, Side,
    Signal, Stamp, StateReason, StrategyId, Tick, TickKind, TradeId, TradingState, UnixNanos,
};

/// The trading state changed (or was set at start), and why.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RiskStateChange {
    /// The new state.
    pub state: TradingState,
    /// The state before.
    pub previous: TradingState,
    /// Why.
    pub reason: StateReason,
}

/// A risk limit changed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LimitChange {
    /// Which limit.
    pub key: LimitKey,
    /// The new value.
    pub value: LimitValue,
    /// The value before.
    pub previous: LimitValue,
}

/// An instrument's mark for the day (the price its positions were valued at).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DailyMark {
    /// Which instrument.
    pub instrument: InstrumentId,
    /// The mark.
    pub mark: Price,
}

/// What a [`SessionMark`] marks.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[repr(u8)]
pub enum SessionKind {
    /// The engine started the day with an empty journal.
    Start = 1,
    /// The engine restarted and rebuilt the day from this journal.
    Resume = 2,
    /// The run ended cleanly: every stage finished and the day's records are complete.
    /// A journal whose last session mark is not `End` belongs to a run that stopped
    /// (a crash, a kill) and is resumed by the next start of the same day.
    End = 3,
}

impl SessionKind {
    /// The lowercase name `journal inspect` prints.
    pub const fn as_str(self) -> &'static str {
        match self {
            SessionKind::Start => "start",
            SessionKind::Resume => "resume",
            SessionKind::End => "end",
        }
    }
}

/// The engine's own record of a run: when it started, resumed or ended the day, with
/// what configuration. Written by the `engine` writer from the main thread, never a
/// stage.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionMark {
    /// Start, resume or end.
    pub kind: SessionKind,
    /// A hash of everything that decides the day's trading (configuration and data
    /// source): a day is resumed only with the configuration that began it.
    pub config: u64,
    /// Strategies the engine ran.
    pub strategies: u32,
    /// Instruments it traded.
    pub instruments: u32,
}

/// The risk stage took a broker's account of one instrument's open units into its book
/// (`risk.reconcile` = `adopt` or `flatten`, on a difference the reconciliation found),
/// and what the book held before.
///
/// Journaled by the risk stage where it applied it, at the market time it had then; a
/// resumed day applies it again at the same point of the replay (see
/// [`RiskStage`](crate::risk::RiskStage)), and the book's side checks that the rebuilt
/// book held what the journaled one did. Units are signed (long positive), averages raw
/// [`Price`] units; a flat side has zero units and a zero average.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Adoption {
    /// Which instrument.
    pub instrument: InstrumentId,
    /// The broker's signed units, which the book took.
    pub broker_net: i64,
    /// The broker's average price of those units.
    pub broker_avg: Price,
    /// The book's signed units before.
    pub book_net: i64,
    /// The book's average price before.
    pub book_avg: Price,
}

/// A broker acknowledged one child order of the order stage, under the broker's own
/// order id: what a resumed day needs to take the order over instead of placing it
/// again (see `order::takeover`).
///
/// Journaled by the order stage when the venue's acceptance names its order id (a
/// broker's; a paper exchange has none and journals no placement), at the market time
/// the stage had then. The order type is not stored apart: it follows from the prices,
/// as the stage sends them (a limit for limit kinds only, a trigger for stop kinds
/// only), see [`Placement::is_stop`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Placement {
    /// The child order (intent and child number).
    pub order: ClientOrderId,
    /// The broker's order id (Kite's are numeric).
    pub venue_id: u64,
    /// The limit price; zero for market and stop-market orders.
    pub limit: Price,
    /// The trigger price; zero for orders that are no stops.
    pub trigger: Price,
    /// Units the child was placed for.
    pub qty: Qty,
    /// Units earlier children of the same slice filled (before a retry or a
    /// cancel-and-replace placed this one).
    pub prior: Qty,
    /// Which instrument.
    pub instrument: InstrumentId,
    /// Which slice of the intent (freeze-quantity split) the child works.
    pub slice: u8,
    /// Buy or sell.
    pub side: Side,
}

impl Placement {
    /// True for a stop order (SL-M or SL): it has a trigger.
    pub fn is_stop(&self) -> bool {
        self.trigger.is_positive()
    }

    /// True for a limit order (or a stop-limit): it has a limit price.
    pub fn is_limit(&self) -> bool {
        self.limit.is_positive()
    }
}

/// One journaled record. `Copy` and small, so a stage journals from its own state
/// without allocating.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Record {
    /// An order the risk stage approved and sized.
    Intent(OrderIntent),
    /// The order stage's answer to an intent: ack, fill, reject, cancel, expiry.
    Exec(ExecReport),
    /// A fill the risk stage booked.
    Fill(FillRecord),
    /// A control command a stage applied.
    Control(ControlCommand),
    /// The trading state changed.
    RiskState(RiskStateChange),
    /// A risk limit changed.
    Limit(LimitChange),
    /// A strategy's signal.
    Signal(Signal),
    /// An instrument's mark for the day.
    DailyMark(DailyMark),
    /// A market tick.
    Tick(Tick),
    /// The engine started, resumed or ended the day.
    Session(SessionMark),
    /// The risk stage took a broker's position into its book.
    Adopt(Adoption),
    /// A broker acknowledged a child order under its own id.
    Placed(Placement),
}

/// Why a payload with a good CRC could not be decoded; the reader adds file and offset.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DecodeError {
    /// The type byte names no record type this build knows.
    UnknownType(u8),
    /// The type's payload layout version is not the one this build reads.
    TypeVersion {
        /// The record type.
        ty: RecordType,
        /// The version found.
        found: u8,
    },
    /// The payload length is not the type's.
    PayloadLength {
        /// The record type.
        ty: RecordType,
        /// The length found.
        found: usize,
    },
    /// A field holds a code that means nothing.
    Field(&'static str),
}

impl fmt::Display for DecodeError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            DecodeError::UnknownType(t) => {
                write!(f, "unknown record type {t} (written by a newer tickpipe?)")
            }
            DecodeError::TypeVersion { ty, found } => write!(
                f,
                "{ty} record layout version {found}, this build reads version {}",
                ty.layout_version()
            ),
            DecodeError::PayloadLength { ty, found } => write!(
                f,
                "{ty} record with a {found}-byte payload, the layout has {}",
                payload_len(*ty)
            ),
            DecodeError::Field(what) => write!(f, "bad field: {what}"),
        }
    }
}

/// The payload length of each type.
pub const fn payload_len(ty: RecordType) -> usize {
    match ty {
        RecordType::Intent => 36,
        RecordType::Fill => 28,
        RecordType::Exec | RecordType::Tick => 45,
        RecordType::Control => 16,
        RecordType::RiskState => 3,
        RecordType::Limit => 17,
        RecordType::Signal => 32,
        RecordType::DailyMark => 12,
        RecordType::Session => 17,
        RecordType::Adopt => 36,
        RecordType::Placed => 46,
    }
}

const _: () = {
    let mut i = 0;
    while i < RecordType::ALL.len() {
        assert!(payload_len(RecordType::ALL[i]) <= MAX_PAYLOAD);
        i += 1;
    }
};

impl Record {
    /// The record's type.
    pub const fn record_type(&self) -> RecordType {
        match self {
            Record::Intent(_) => RecordType::Intent,
            Record::Exec(_) => RecordType::Exec,
            Record::Fill(_) => RecordType::Fill,
            Record::Control(_) => RecordType::Control,
            Record::RiskState(_) => RecordType::RiskState,
            Record::Limit(_) => RecordType::Limit,
            Record::Signal(_) => RecordType::Signal,
            Record::DailyMark(_) => RecordType::DailyMark,
            Record::Tick(_) => RecordType::Tick,
            Record::Session(_) => RecordType::Session,
            Record::Adopt(_) => RecordType::Adopt,
            Record::Placed(_) => RecordType::Placed,
        }
    }

    /// The instrument the record is about, if any.
    pub fn instrument(&self) -> Option<InstrumentId> {
        match self {
            Record::Intent(m) => Some(m.instrument),
            Record::Exec(m) => Some(m.instrument),
            Record::Fill(m) => Some(m.instrument),
            Record::Control(ControlCommand::Close { instrument, .. })
            | Record::Control(ControlCommand::News { instrument, .. }) => Some(*instrument),
            Record::Control(_) | Record::RiskState(_) | Record::Limit(_) | Record::Session(_) => {
                None
            }
            Record::Signal(m) => Some(m.instrument),
            Record::DailyMark(m) => Some(m.instrument),
            Record::Tick(m) => Some(m.instrument),
            Record::Adopt(m) => Some(m.instrument),
            Record::Placed(m) => Some(m.instrument),
        }
    }

    /// The market time the message itself carries, for the types that carry one.
    pub fn exchange_ts(&self) -> Option<UnixNanos> {
        match self {
            Record::Intent(m) => Some(m.exchange_ts),
            Record::Exec(m) => Some(m.exchange_ts),
            Record::Fill(m) => Some(m.exchange_ts),
            Record::Signal(m) => Some(m.exchange_ts),
            Record::Tick(m) => Some(m.exchange_ts),
            _ => None,
        }
    }

    /// Encodes the record as a whole frame into `out`; returns the frame length. No
    /// allocation, no formatting: this is the writer's hot path.
    #[inline]
    pub fn encode_frame(&self, seq: Seq, ts: UnixNanos, out: &mut [u8; MAX_FRAME]) -> usize {
        let ty = self.record_type();
        let mut p = Put {
            buf: out,
            at: FRAME_HEADER,
        };
        match self {
            Record::Intent(m) => {
                p.u64(m.id.0);
                p.i64(m.limit.raw());
                p.u32(m.qty.get());
                p.u32(m.instrument.0);
                p.u16(m.strategy.0);
                p.u8(m.side as u8);
                p.u8(m.reason as u8);
                p.i64(m.reference.raw());
            }
            Record::Exec(m) => {
                p.u64(m.intent.0);
                p.i64(m.last_price.raw());
                p.u64(m.trade.0);
                p.u32(m.instrument.0);
                p.u32(m.last_qty.get());
                p.u32(m.cum_qty.get());
                p.u32(m.leaves_qty.get());
                p.u16(m.strategy.0);
                p.u8(m.side as u8);
                p.u8(m.kind as u8);
                p.u8(m.reject as u8);
            }
            Record::Fill(m) => {
                p.u64(m.intent.0);
                p.i64(m.price.raw());
                p.u32(m.qty.get());
                p.u32(m.instrument.0);
                p.u16(m.strategy.0);
                p.u8(m.side as u8);
                p.u8(m.reason as u8);
            }
            Record::Control(c) => encode_control(c, &mut p),
            Record::RiskState(m) => {
                p.u8(m.state as u8);
                p.u8(m.previous as u8);
                p.u8(m.reason as u8);
            }
            Record::Limit(m) => {
                p.u8(m.key as u8);
                p.i64(m.value.0);
                p.i64(m.previous.0);
            }
            Record::Signal(m) => {
                p.i64(m.price.raw());
                p.i64(m.stop.raw());
                p.i64(m.target.raw());
                p.u32(m.instrument.0);
                p.u16(m.strategy.0);
                p.u8(m.direction as u8);
                p.u8(m.weight_pct);
            }
            Record::DailyMark(m) => {
                p.u32(m.instrument.0);
                p.i64(m.mark.raw());
            }
            Record::Session(m) => {
                p.u8(m.kind as u8);
                p.u64(m.config);
                p.u32(m.strategies);
                p.u32(m.instruments);
            }
            Record::Tick(m) => {
                p.i64(m.last.raw());
                p.i64(m.bid.raw());
                p.i64(m.ask.raw());
                p.u32(m.instrument.0);
                p.u32(m.volume);
                p.u32(m.last_qty);
                p.u32(m.bid_qty);
                p.u32(m.ask_qty);
                p.u8(m.kind as u8);
            }
            Record::Adopt(m) => {
                p.u32(m.instrument.0);
                p.i64(m.broker_net);
                p.i64(m.broker_avg.raw());
                p.i64(m.book_net);
                p.i64(m.book_avg.raw());
            }
            Record::Placed(m) => {
                p.u64(m.order.0);
                p.u64(m.venue_id);
                p.i64(m.limit.raw());
                p.i64(m.trigger.raw());
                p.u32(m.qty.get());
                p.u32(m.prior.get());
                p.u32(m.instrument.0);
                p.u8(m.slice);
                p.u8(m.side as u8);
            }
        }
        let len = p.at - FRAME_HEADER;
        debug_assert_eq!(len, payload_len(ty));
        seal_frame(out, ty, len, seq, ts.0)
    }

    /// Decodes a payload whose frame passed its CRC.
    ///
    /// # Errors
    /// [`DecodeError`]: an unknown type, another layout version, a wrong payload length,
    /// or an enum code that means nothing.
    pub fn decode(
        ty: u8,
        version: u8,
        ts: UnixNanos,
        payload: &[u8],
    ) -> Result<Record, DecodeError> {
        let ty = RecordType::from_code(ty).ok_or(DecodeError::UnknownType(ty))?;
        if version != ty.layout_version() {
            return Err(DecodeError::TypeVersion { ty, found: version });
        }
        if payload.len() != payload_len(ty) {
            return Err(DecodeError::PayloadLength {
                ty,
                found: payload.len(),
            });
        }
        let mut g = Get {
            buf: payload,
            at: 0,
        };
        Ok(match ty {
            RecordType::Intent => Record::Intent(OrderIntent {
                id: IntentId(g.u64()),
                exchange_ts: ts,
                ingress: Stamp(0),
                limit: Price::from_raw(g.i64()),
                qty: Qty::new(g.u32()),
                instrument: InstrumentId(g.u32()),
                strategy: StrategyId(g.u16()),
                side: side(g.u8())?,
                reason: intent_reason(g.u8())?,
                reference: Price::from_raw(g.i64()),
            }),
            RecordType::Exec => {
                let intent = IntentId(g.u64());
                let last_price = Price::from_raw(g.i64());
                let trade = TradeId(g.u64());
                Record::Exec(ExecReport {
                    intent,
                    exchange_ts: ts,
                    ingress: Stamp(0),
                    last_price,
                    instrument: InstrumentId(g.u32()),
                    last_qty: Qty::new(g.u32()),
                    cum_qty: Qty::new(g.u32()),
                    leaves_qty: Qty::new(g.u32()),
                    strategy: StrategyId(g.u16()),
                    side: side(g.u8())?,
                    kind: exec_kind(g.u8())?,
                    reject: reject_reason(g.u8())?,
                    trade,
                })
            }
            RecordType::Fill => {
                let intent = IntentId(g.u64());
                let price = Price::from_raw(g.i64());
                let qty = Qty::new(g.u32());
                Record::Fill(FillRecord {
                    intent,
                    exchange_ts: ts,
                    instrument: InstrumentId(g.u32()),
                    strategy: StrategyId(g.u16()),
                    side: side(g.u8())?,
                    qty,
                    price,
                    reason: intent_reason(g.u8())?,
                })
            }
            RecordType::Control => Record::Control(decode_control(&mut g)?),
            RecordType::RiskState => Record::RiskState(RiskStateChange {
                state: trading_state(g.u8())?,
                previous: trading_state(g.u8())?,
                reason: state_reason(g.u8())?,
            }),
            RecordType::Limit => Record::Limit(LimitChange {
                key: limit_key(g.u8())?,
                value: LimitValue(g.i64()),
                previous: LimitValue(g.i64()),
            }),
            RecordType::Signal => Record::Signal(Signal {
                exchange_ts: ts,
                ingress: Stamp(0),
                price: Price::from_raw(g.i64()),
                stop: Price::from_raw(g.i64()),
                target: Price::from_raw(g.i64()),
                instrument: InstrumentId(g.u32()),
                strategy: StrategyId(g.u16()),
                direction: direction(g.u8())?,
                weight_pct: g.u8(),
            }),
            RecordType::DailyMark => Record::DailyMark(DailyMark {
                instrument: InstrumentId(g.u32()),
                mark: Price::from_raw(g.i64()),
            }),
            RecordType::Tick => Record::Tick(Tick {
                exchange_ts: ts,
                ingress: Stamp(0),
                last: Price::from_raw(g.i64()),
                bid: Price::from_raw(g.i64()),
                ask: Price::from_raw(g.i64()),
                instrument: InstrumentId(g.u32()),
                volume: g.u32(),
                last_qty: g.u32(),
                bid_qty: g.u32(),
                ask_qty: g.u32(),
                kind: tick_kind(g.u8())?,
            }),
            RecordType::Session => Record::Session(SessionMark {
                kind: session_kind(g.u8())?,
                config: g.u64(),
                strategies: g.u32(),
                instruments: g.u32(),
            }),
            RecordType::Adopt => Record::Adopt(Adoption {
                instrument: InstrumentId(g.u32()),
                broker_net: g.i64(),
                broker_avg: Price::from_raw(g.i64()),
                book_net: g.i64(),
                book_avg: Price::from_raw(g.i64()),
            }),
            RecordType::Placed => Record::Placed(Placement {
                order: ClientOrderId(g.u64()),
                venue_id: g.u64(),
                limit: Price::from_raw(g.i64()),
                trigger: Price::from_raw(g.i64()),
                qty: Qty::new(g.u32()),
                prior: Qty::new(g.u32()),
                instrument: InstrumentId(g.u32()),
                slice: g.u8(),
                side: side(g.u8())?,
            }),
        })
    }
}

fn encode_control(c: &ControlCommand, p: &mut Put<'_>) {
    use ControlCommand as C;
    // code, small (state or limit key), strategy, instrument, wide value
    let (code, small, strategy, instrument, wide): (u8, u8, u16, u32, i64) = match *c {
        C::Status => (1, 0, 0, 0, 0),
        C::Positions => (2, 0, 0, 0, 0),
        C::Orders => (3, 0, 0, 0, 0),
        C::Pnl => (4, 0, 0, 0, 0),
        C::Limits => (5, 0, 0, 0, 0),
        C::Latency => (6, 0, 0, 0, 0),
        C::Counters => (7, 0, 0, 0, 0),
        C::Pause(s) => (8, 0, s.0, 0, 0),
        C::Resume(s) => (9, 0, s.0, 0, 0),
        C::Close { instrument, qty } => (10, 0, 0, instrument.0, i64::from(qty.get())),
        C::Flatten => (11, 0, 0, 0, 0),
        C::SetState(s) => (12, s as u8, 0, 0, 0),
        C::SetLimit { key, value } => (13, key as u8, 0, 0, value.0),
        C::News {
            instrument,
            sentiment_milli,
        } => (14, 0, 0, instrument.0, i64::from(sentiment_milli)),
        C::FeedStale(stale) => (15, u8::from(stale), 0, 0, 0),
    };
    p.u8(code);
    p.u8(small);
    p.u16(strategy);
    p.u32(instrument);
    p.i64(wide);
}

fn decode_control(g: &mut Get<'_>) -> Result<ControlCommand, DecodeError> {
    use ControlCommand as C;
    let code = g.u8();
    let small = g.u8();
    let strategy = StrategyId(g.u16());
    let instrument = InstrumentId(g.u32());
    let wide = g.i64();
    Ok(match code {
        1 => C::Status,
        2 => C::Positions,
        3 => C::Orders,
        4 => C::Pnl,
        5 => C::Limits,
        6 => C::Latency,
        7 => C::Counters,
        8 => C::Pause(strategy),
        9 => C::Resume(strategy),
        10 => C::Close {
            instrument,
            qty: Qty::new(u32::try_from(wide).map_err(|_| DecodeError::Field("close quantity"))?),
        },
        11 => C::Flatten,
        12 => C::SetState(trading_state(small)?),
        13 => C::SetLimit {
            key: limit_key(small)?,
            value: LimitValue(wide),
        },
        14 => C::News {
            instrument,
            sentiment_milli: i16::try_from(wide)
                .map_err(|_| DecodeError::Field("news sentiment"))?,
        },
        15 => C::FeedStale(match small {
            0 => false,
            1 => true,
            _ => return Err(DecodeError::Field("feed stale flag")),
        }),
        _ => return Err(DecodeError::Field("control command code")),
    })
}

fn session_kind(code: u8) -> Result<SessionKind, DecodeError> {
    [SessionKind::Start, SessionKind::Resume, SessionKind::End]
        .into_iter()
        .find(|k| *k as u8 == code)
        .ok_or(DecodeError::Field("session kind"))
}

fn side(code: u8) -> Result<Side, DecodeError> {
    match code {
        1 => Ok(Side::Buy),
        2 => Ok(Side::Sell),
        _ => Err(DecodeError::Field("side")),
    }
}

fn intent_reason(code: u8) -> Result<IntentReason, DecodeError> {
    use IntentReason as R;
    [
        R::Entry,
        R::Exit,
        R::StopLoss,
        R::SquareOff,
        R::Manual,
        R::TrailingStop,
        R::Target,
        R::TimeStop,
        R::Emergency,
        R::Reduce,
    ]
    .into_iter()
    .find(|r| *r as u8 == code)
    .ok_or(DecodeError::Field("intent reason"))
}

fn exec_kind(code: u8) -> Result<ExecKind, DecodeError> {
    use ExecKind as K;
    [
        K::Accepted,
        K::PartialFill,
        K::Filled,
        K::Rejected,
        K::Cancelled,
        K::Expired,
    ]
    .into_iter()
    .find(|k| *k as u8 == code)
    .ok_or(DecodeError::Field("exec kind"))
}

fn reject_reason(code: u8) -> Result<RejectReason, DecodeError> {
    RejectReason::ALL
        .into_iter()
        .find(|r| *r as u8 == code)
        .ok_or(DecodeError::Field("reject reason"))
}

fn trading_state(code: u8) -> Result<TradingState, DecodeError> {
    use TradingState as T;
    [T::Active, T::Reducing, T::Halted]
        .into_iter()
        .find(|s| *s as u8 == code)
        .ok_or(DecodeError::Field("trading state"))
}

fn state_reason(code: u8) -> Result<StateReason, DecodeError> {
    use StateReason as R;
    [
        R::Start,
        R::Operator,
        R::DailyLossLimit,
        R::DrawdownHalt,
        R::FatalError,
        R::NewDay,
        R::Emergency,
    ]
    .into_iter()
    .find(|r| *r as u8 == code)
    .ok_or(DecodeError::Field("state reason"))
}

fn limit_key(code: u8) -> Result<LimitKey, DecodeError> {
    LimitKey::ALL
        .into_iter()
        .find(|k| *k as u8 == code)
        .ok_or(DecodeError::Field("limit key"))
}

fn direction(code: u8) -> Result<Direction, DecodeError> {
    use Direction as D;
    [D::Long, D::Short, D::Flat]
        .into_iter()
        .find(|d| *d as u8 == code)
        .ok_or(DecodeError::Field("direction"))
}

fn tick_kind(code: u8) -> Result<TickKind, DecodeError> {
    match code {
        1 => Ok(TickKind::Trade),
        2 => Ok(TickKind::Quote),
        _ => Err(DecodeError::Field("tick kind")),
    }
}

/// Little-endian writes at a moving offset into a frame buffer. The offsets never pass
/// [`MAX_FRAME`]: every payload is at most [`MAX_PAYLOAD`] bytes (checked at compile
/// time above), so the index checks fold away.
struct Put<'a> {
    buf: &'a mut [u8; MAX_FRAME],
    at: usize,
}

impl Put<'_> {
    #[inline]
    fn bytes<const N: usize>(&mut self, b: [u8; N]) {
        self.buf[self.at..self.at + N].copy_from_slice(&b);
        self.at += N;
    }
    #[inline]
    fn u8(&mut self, v: u8) {
        self.bytes([v]);
    }
    #[inline]
    fn u16(&mut self, v: u16) {
        self.bytes(v.to_le_bytes());
    }
    #[inline]
    fn u32(&mut self, v: u32) {
        self.bytes(v.to_le_bytes());
    }
    #[inline]
    fn u64(&mut self, v: u64) {
        self.bytes(v.to_le_bytes());
    }
    #[inline]
    fn i64(&mut self, v: i64) {
        self.bytes(v.to_le_bytes());
    }
}

/// Little-endian reads at a moving offset; the caller checked the payload length.
struct Get<'a> {
    buf: &'a [u8],
    at: usize,
}

impl Get<'_> {
    fn u8(&mut self) -> u8 {
        self.at += 1;
        self.buf[self.at - 1]
    }
    fn u16(&mut self) -> u16 {
        self.at += 2;
        u16::from_le_bytes([self.buf[self.at - 2], self.buf[self.at - 1]])
    }
    fn u32(&mut self) -> u32 {
        self.at += 4;
        u32_at(self.buf, self.at - 4)
    }
    fn u64(&mut self) -> u64 {
        self.at += 8;
        u64_at(self.buf, self.at - 8)
    }
    fn i64(&mut self) -> i64 {
        self.u64() as i64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The payload of `record` as the writer frames it.
    fn payload(record: &Record) -> Vec<u8> {
        let mut frame = [0u8; MAX_FRAME];
        record.encode_frame(Seq(1), UnixNanos(7), &mut frame);
        frame[FRAME_HEADER..FRAME_HEADER + payload_len(record.record_type())].to_vec()
    }

    #[test]
    fn the_feed_stale_flag_is_command_15_with_its_flag_in_the_small_field() {
        for (stale, small) in [(true, 1), (false, 0)] {
            let record = Record::Control(ControlCommand::FeedStale(stale));
            let bytes = payload(&record);
            assert_eq!(bytes[..2], [15, small]);
            assert!(bytes[2..].iter().all(|&b| b == 0), "{bytes:?}");
            let back = Record::decode(RecordType::Control as u8, 1, UnixNanos(7), &bytes);
            assert_eq!(back, Ok(record));
        }
        // A flag that is neither 0 nor 1 means nothing: named, never read as stale.
        let mut bytes = payload(&Record::Control(ControlCommand::FeedStale(true)));
        bytes[1] = 2;
        assert_eq!(
            Record::decode(RecordType::Control as u8, 1, UnixNanos(7), &bytes),
            Err(DecodeError::Field("feed stale flag"))
        );
    }

    #[test]
    fn an_adoption_is_type_11_with_both_sides_at_their_offsets() {
        let record = Record::Adopt(Adoption {
            instrument: InstrumentId(7),
            broker_net: -40,
            broker_avg: Price::from_paise(5_010),
            book_net: i64::MAX,
            book_avg: Price::MAX,
        });
        assert_eq!(record.record_type() as u8, 11);
        assert_eq!(record.instrument(), Some(InstrumentId(7)));
        let bytes = payload(&record);
        assert_eq!(bytes.len(), 36);
        assert_eq!(bytes[..4], 7u32.to_le_bytes());
        assert_eq!(bytes[4..12], (-40i64).to_le_bytes());
        assert_eq!(bytes[12..20], Price::from_paise(5_010).raw().to_le_bytes());
        assert_eq!(bytes[20..28], i64::MAX.to_le_bytes());
        assert_eq!(bytes[28..36], Price::MAX.raw().to_le_bytes());
        let back = Record::decode(11, 1, UnixNanos(7), &bytes);
        assert_eq!(back, Ok(record));
        // A build that does not know a type refuses it by its code, never misreads it.
        assert_eq!(
            Record::decode(13, 1, UnixNanos(7), &bytes),
            Err(DecodeError::UnknownType(13))
        );
    }

    #[test]
    fn a_placement_is_type_12_with_every_field_at_its_offset() {
        let record = Record::Placed(Placement {
            order: ClientOrderId::new(IntentId(0x0102_0304), 3),
            venue_id: 251_125_000_123_456,
            limit: Price::ZERO,
            trigger: Price::from_paise(9_805),
            qty: Qty::new(75),
            prior: Qty::new(25),
            instrument: InstrumentId(7),
            slice: 2,
            side: Side::Sell,
        });
        assert_eq!(record.record_type() as u8, 12);
        assert_eq!(record.instrument(), Some(InstrumentId(7)));
        let bytes = payload(&record);
        assert_eq!(bytes.len(), 46);
        assert_eq!(bytes[..8], ((0x0102_0304_u64 << 8) | 3).to_le_bytes());
        assert_eq!(bytes[8..16], 251_125_000_123_456_u64.to_le_bytes());
        assert_eq!(bytes[16..24], 0_i64.to_le_bytes());
        assert_eq!(bytes[24..32], Price::from_paise(9_805).raw().to_le_bytes());
        assert_eq!(bytes[32..36], 75_u32.to_le_bytes());
        assert_eq!(bytes[36..40], 25_u32.to_le_bytes());
        assert_eq!(bytes[40..44], 7_u32.to_le_bytes());
        assert_eq!(bytes[44..], [2, Side::Sell as u8]);
        assert_eq!(Record::decode(12, 1, UnixNanos(7), &bytes), Ok(record));
        let Record::Placed(m) = record else {
            unreachable!()
        };
        assert!(m.is_stop() && !m.is_limit());
        // A side code that means nothing is named, never read as a side.
        let mut bad = bytes.clone();
        bad[45] = 9;
        assert_eq!(
            Record::decode(12, 1, UnixNanos(7), &bad),
            Err(DecodeError::Field("side"))
        );
    }
}
