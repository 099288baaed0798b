//! TrueData's JSON messages: control objects and positional data arrays (PROTOCOLS.md
//! §4.3–4.5), parsed with `simd-json` into owned, checked values.

use std::borrow::Cow;

use simd_json::{prelude::*, BorrowedValue, StaticNode};

use super::number;
use crate::model::{Date, Price, TimeOfDay, UnixNanos, ValueError};

/// Best bid and ask with their quantities.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct BestBidAsk {
    /// Best bid (zero when there is none).
    pub bid: Price,
    /// Quantity at the best bid.
    pub bid_qty: u64,
    /// Best ask (zero when there is none).
    pub ask: Price,
    /// Quantity at the best ask.
    pub ask_qty: u64,
}

/// The day's range and the previous close, as a trade or touchline row carries them.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct DayRange {
    /// Day open.
    pub open: Price,
    /// Day high.
    pub high: Price,
    /// Day low.
    pub low: Price,
    /// Previous day's close.
    pub prev_close: Price,
}

/// One `trade` message: the tick (PROTOCOLS.md §4.4).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Trade {
    /// TrueData's symbol id, bound to a symbol by "symbols added".
    pub symbol_id: u32,
    /// Exchange time (IST on the wire).
    pub ts: UnixNanos,
    /// Last traded price.
    pub ltp: Price,
    /// Last traded quantity.
    pub ltq: u64,
    /// Total traded quantity of the day.
    pub ttq: u64,
    /// Day open/high/low and previous close, when the message carries them.
    pub day: Option<DayRange>,
    /// The tick sequence number (element 14), when present.
    pub seq: Option<u64>,
    /// Best bid/ask (elements 15–18, only on accounts with bid/ask enabled).
    pub best: Option<BestBidAsk>,
}

/// One `bidask` message (level 1).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct BidAsk {
    /// TrueData's symbol id.
    pub symbol_id: u32,
    /// Exchange time.
    pub ts: UnixNanos,
    /// The new best bid and ask.
    pub best: BestBidAsk,
}

/// One `bar1min` / `bar5min` message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Bar {
    /// TrueData's symbol id.
    pub symbol_id: u32,
    /// Bar time.
    pub ts: UnixNanos,
    /// Bar length in minutes (1 or 5).
    pub minutes: u8,
    /// Open.
    pub open: Price,
    /// High.
    pub high: Price,
    /// Low.
    pub low: Price,
    /// Close.
    pub close: Price,
    /// Volume in the bar.
    pub volume: u64,
}

/// One touchline row: a symbol's snapshot, and the binding of its name to its id.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TouchlineRow {
    /// TrueData's symbol name.
    pub symbol: String,
    /// TrueData's symbol id.
    pub symbol_id: u32,
    /// Last update time, when present and readable.
    pub ts: Option<UnixNanos>,
    /// Last traded price (elements 3–6 present).
    pub ltp: Option<Price>,
    /// Last traded quantity.
    pub ltq: u64,
    /// Total traded quantity of the day.
    pub ttq: u64,
    /// Day range and previous close (elements 7–10 present).
    pub day: Option<DayRange>,
    /// Best bid and ask (18-element rows only: older 17-element rows leave it unclear
    /// which column is missing, so their bid/ask is not guessed).
    pub best: Option<BestBidAsk>,
}

/// One message from the server.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Message {
    /// The login answer (`"TrueData Real Time Data Service"`, success).
    Connected {
        /// Symbols the account may subscribe to.
        max_symbols: Option<u64>,
        /// What the account receives, e.g. `tick` or `tick+1min`.
        subscription: String,
        /// The subscription's end date as sent.
        validity: String,
    },
    /// `success: false`: the login was refused (before [`Message::Connected`]) or a
    /// request failed; the server's text.
    Refused(String),
    /// A heartbeat.
    Heartbeat,
    /// The answer to `addsymbol`: one row per symbol added.
    SymbolsAdded(Vec<TouchlineRow>),
    /// A touchline refresh.
    Touchline(Vec<TouchlineRow>),
    /// The answer to `removesymbol`.
    SymbolsRemoved,
    /// A market open/close notice.
    MarketStatus(String),
    /// Any other control message, by its text.
    Notice(String),
    /// A trade tick.
    Trade(Trade),
    /// A level-1 bid/ask update.
    BidAsk(BidAsk),
    /// A bar.
    Bar(Bar),
    /// A well-formed message of a kind the engine does not use (greeks, level-2
    /// bid/ask, call-auction data, full-feed bars), by its key.
    Unused(&'static str),
}

/// The kinds of message, for counting what was decoded and what was skipped.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageKind {
    /// Objects with a `message` key (login, heartbeat, symbols added, …).
    Control,
    /// `trade`.
    Trade,
    /// `bidask`.
    BidAsk,
    /// `bar1min`, `bar5min`.
    Bar,
    /// A data key the engine does not use.
    Unused,
    /// Not JSON, not an object, or an unknown key.
    Unreadable,
}

impl MessageKind {
    /// Every kind, in counter order.
    pub const ALL: [MessageKind; 6] = [
        MessageKind::Control,
        MessageKind::Trade,
        MessageKind::BidAsk,
        MessageKind::Bar,
        MessageKind::Unused,
        MessageKind::Unreadable,
    ];

    /// The kind's position in [`MessageKind::ALL`].
    pub const fn index(self) -> usize {
        self as usize
    }

    /// A short name for messages and counters.
    pub const fn name(self) -> &'static str {
        match self {
            MessageKind::Control => "control",
            MessageKind::Trade => "trade",
            MessageKind::BidAsk => "bidask",
            MessageKind::Bar => "bar",
            MessageKind::Unused => "unused",
            MessageKind::Unreadable => "unreadable",
        }
    }
}

/// Why a message was skipped, and its kind.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{} message: {reason}", .kind.name())]
pub struct DecodeError {
    /// What the message looked like.
    pub kind: MessageKind,
    /// What was wrong, naming the element.
    pub reason: String,
}

impl Message {
    /// The kind this message counts as.
    pub fn kind(&self) -> MessageKind {
        match self {
            Message::Trade(_) => MessageKind::Trade,
            Message::BidAsk(_) => MessageKind::BidAsk,
            Message::Bar(_) => MessageKind::Bar,
            Message::Unused(_) => MessageKind::Unused,
            _ => MessageKind::Control,
        }
    }

    /// Parses one text message. `bytes` is the message's JSON, which `simd-json` parses
    /// in place (it is left scrambled).
    ///
    /// # Errors
    /// A [`DecodeError`] naming the kind and the element at fault; nothing panics,
    /// whatever the bytes.
    pub fn parse(bytes: &mut [u8]) -> Result<Message, DecodeError> {
        let unreadable = |reason: String| DecodeError {
            kind: MessageKind::Unreadable,
            reason,
        };
        let value = simd_json::to_borrowed_value(bytes)
            .map_err(|e| unreadable(format!("not JSON: {e}")))?;
        let object = value
            .as_object()
            .ok_or_else(|| unreadable("not a JSON object".to_owned()))?;
        if let Some(text) = object.get("message") {
            return control(&value, text);
        }
        if object.contains_key("interval") && object.contains_key("data") {
            return Ok(Message::Unused("interval"));
        }
        let mut entries = object.iter();
        let (key, data) = match (entries.next(), entries.next()) {
            (Some(entry), None) => entry,
            _ => {
                return Err(unreadable(format!(
                    "an object of {} keys, neither a control message nor one data key",
                    object.len()
                )))
            }
        };
        let (kind, minutes) = match key.as_ref() {
            "trade" => (MessageKind::Trade, 0),
            "bidask" => (MessageKind::BidAsk, 0),
            "bar1min" => (MessageKind::Bar, 1),
            "bar5min" => (MessageKind::Bar, 5),
            "greeks" => return Ok(Message::Unused("greeks")),
            "bidaskL2" => return Ok(Message::Unused("bidaskL2")),
            "casrefprice" => return Ok(Message::Unused("casrefprice")),
            "casiclose" => return Ok(Message::Unused("casiclose")),
            other => {
                return Err(unreadable(format!(
                    "unknown data key `{}`",
                    other.chars().take(40).collect::<String>()
                )))
            }
        };
        let row = Row::new(kind, data)?;
        match kind {
            MessageKind::Trade => trade(&row).map(Message::Trade),
            MessageKind::BidAsk => Ok(Message::BidAsk(BidAsk {
                symbol_id: row.need(6)?.id(0)?,
                ts: row.timestamp(1)?,
                best: row.best(2)?,
            })),
            _ => {
                row.need(7)?;
                Ok(Message::Bar(Bar {
                    symbol_id: row.id(0)?,
                    ts: row.timestamp(1)?,
                    minutes,
                    open: row.price(2)?,
                    high: row.price(3)?,
                    low: row.price(4)?,
                    close: row.price(5)?,
                    volume: row.quantity(6)?,
                }))
            }
        }
    }
}

/// A control message: dispatched on its `message` text.
fn control(value: &BorrowedValue<'_>, text: &BorrowedValue<'_>) -> Result<Message, DecodeError> {
    let bad = |reason: String| DecodeError {
        kind: MessageKind::Control,
        reason,
    };
    let text = text
        .as_str()
        .ok_or_else(|| bad("`message` is not a string".to_owned()))?;
    if value.get("success").and_then(|s| s.as_bool()) == Some(false) {
        return Ok(Message::Refused(clip(text)));
    }
    let rows = || -> Result<Vec<TouchlineRow>, DecodeError> {
        let list = match value.get("symbollist") {
            None => return Ok(Vec::new()),
            Some(list) => list
                .as_array()
                .ok_or_else(|| bad("`symbollist` is not an array".to_owned()))?,
        };
        list.iter()
            .enumerate()
            .map(|(i, row)| {
                touchline(row).map_err(|e| bad(format!("symbollist row {i}: {}", e.reason)))
            })
            .collect()
    };
    Ok(match text {
        "TrueData Real Time Data Service" => Message::Connected {
            max_symbols: value.get("maxsymbols").and_then(|m| m.as_u64()),
            subscription: value
                .get("subscription")
                .and_then(|s| s.as_str())
                .map(clip)
                .unwrap_or_default(),
            validity: value
                .get("validity")
                .and_then(|s| s.as_str())
                .map(clip)
                .unwrap_or_default(),
        },
        "HeartBeat" => Message::Heartbeat,
        "symbols added" => Message::SymbolsAdded(rows()?),
        "touchline" => Message::Touchline(rows()?),
        "symbols removed" => Message::SymbolsRemoved,
        "marketstatus" => Message::MarketStatus(
            value
                .get("data")
                .and_then(|s| s.as_str())
                .map(clip)
                .unwrap_or_default(),
        ),
        other => Message::Notice(clip(other)),
    })
}

/// At most 200 characters of server text, so a log line stays a line.
fn clip(text: &str) -> String {
    text.chars()
        .take(200)
        .map(|c| if c.is_control() { ' ' } else { c })
        .collect()
}

/// A trade array: elements 0–5 required, the rest used when present.
fn trade(row: &Row<'_, '_>) -> Result<Trade, DecodeError> {
    row.need(6)?;
    Ok(Trade {
        symbol_id: row.id(0)?,
        ts: row.timestamp(1)?,
        ltp: row.price(2)?,
        ltq: row.quantity(3)?,
        ttq: row.quantity(5)?,
        day: if row.len() >= 10 {
            Some(row.day(6)?)
        } else {
            None
        },
        seq: if row.len() >= 15 {
            Some(row.quantity(14)?)
        } else {
            None
        },
        best: if row.len() >= 19 {
            Some(row.best(15)?)
        } else {
            None
        },
    })
}

/// A touchline row: the symbol and its id required, the snapshot used when present.
fn touchline(value: &BorrowedValue<'_>) -> Result<TouchlineRow, DecodeError> {
    let row = Row::new(MessageKind::Control, value)?;
    row.need(2)?;
    let symbol = row
        .items
        .first()
        .and_then(|s| s.as_str())
        .ok_or_else(|| row.error(0, "the symbol is not a string"))?;
    if symbol.trim().is_empty() || symbol.len() > 64 {
        return Err(row.error(0, "the symbol is empty or too long"));
    }
    let full = row.len() >= 7;
    Ok(TouchlineRow {
        symbol: symbol.trim().to_owned(),
        symbol_id: row.id(1)?,
        ts: if row.len() >= 3 {
            row.timestamp(2).ok()
        } else {
            None
        },
        ltp: if full { Some(row.price(3)?) } else { None },
        ltq: if full { row.quantity(4)? } else { 0 },
        ttq: if full { row.quantity(6)? } else { 0 },
        day: if row.len() >= 11 {
            Some(row.day(7)?)
        } else {
            None
        },
        best: if row.len() >= 18 {
            Some(row.best(14)?)
        } else {
            None
        },
    })
}

/// A positional array and its kind, with typed element readers whose errors name the
/// element.
struct Row<'v, 'a> {
    kind: MessageKind,
    items: &'v [BorrowedValue<'a>],
}

impl<'v, 'a> Row<'v, 'a> {
    fn new(kind: MessageKind, value: &'v BorrowedValue<'a>) -> Result<Row<'v, 'a>, DecodeError> {
        let items = value.as_array().ok_or_else(|| DecodeError {
            kind,
            reason: "the data is not an array".to_owned(),
        })?;
        Ok(Row { kind, items })
    }

    fn len(&self) -> usize {
        self.items.len()
    }

    fn error(&self, index: usize, why: impl std::fmt::Display) -> DecodeError {
        DecodeError {
            kind: self.kind,
            reason: format!("element {index}: {why}"),
        }
    }

    fn need(&self, n: usize) -> Result<&Self, DecodeError> {
        if self.items.len() < n {
            return Err(DecodeError {
                kind: self.kind,
                reason: format!("{} elements, at least {n} expected", self.items.len()),
            });
        }
        Ok(self)
    }

    /// The element as text: a string as is, a number as it was written (integers) or
    /// as the shortest decimal that reads back to the same double (floats, which is
    /// what the sender wrote whenever it wrote at most 15 significant digits).
    fn text(&self, index: usize) -> Result<Cow<'v, str>, DecodeError> {
        match self.items.get(index) {
            None => Err(self.error(index, "missing")),
            Some(BorrowedValue::String(s)) => Ok(Cow::Borrowed(s.as_ref())),
            Some(BorrowedValue::Static(StaticNode::I64(n))) => Ok(Cow::Owned(n.to_string())),
            Some(BorrowedValue::Static(StaticNode::U64(n))) => Ok(Cow::Owned(n.to_string())),
            Some(BorrowedValue::Static(StaticNode::F64(n))) => Ok(Cow::Owned(format!("{n}"))),
            Some(_) => Err(self.error(index, "neither a string nor a number")),
        }
    }

    fn value<T>(
        &self,
        index: usize,
        read: fn(&str) -> Result<T, ValueError>,
    ) -> Result<T, DecodeError> {
        let text = self.text(index)?;
        read(&text).map_err(|e| {
            let shown: String = text.chars().take(40).collect();
            self.error(index, format!("`{shown}`: {e}"))
        })
    }

    fn price(&self, index: usize) -> Result<Price, DecodeError> {
        self.value(index, number::price)
    }

    fn quantity(&self, index: usize) -> Result<u64, DecodeError> {
        self.value(index, number::quantity)
    }

    fn id(&self, index: usize) -> Result<u32, DecodeError> {
        let n = self.quantity(index)?;
        u32::try_from(n).map_err(|_| self.error(index, format!("symbol id {n} out of range")))
    }

    fn timestamp(&self, index: usize) -> Result<UnixNanos, DecodeError> {
        let text = self.text(index)?;
        parse_timestamp(&text).ok_or_else(|| {
            let shown: String = text.chars().take(40).collect();
            self.error(
                index,
                format!("`{shown}` is not a YYYY-MM-DDTHH:MM:SS time"),
            )
        })
    }

    fn best(&self, at: usize) -> Result<BestBidAsk, DecodeError> {
        Ok(BestBidAsk {
            bid: self.price(at)?,
            bid_qty: self.quantity(at + 1)?,
            ask: self.price(at + 2)?,
            ask_qty: self.quantity(at + 3)?,
        })
    }

    fn day(&self, at: usize) -> Result<DayRange, DecodeError> {
        Ok(DayRange {
            open: self.price(at)?,
            high: self.price(at + 1)?,
            low: self.price(at + 2)?,
            prev_close: self.price(at + 3)?,
        })
    }
}

/// `YYYY-MM-DDTHH:MM:SS` with an optional fraction of up to nine digits, read as IST
/// (PROTOCOLS.md §4.4: the feed's times carry no zone and are the exchange's).
///
/// # Examples
/// ```
/// use tickpipe::feed::truedata::parse_timestamp;
/// let t = parse_timestamp("2025-09-22T10:46:33").unwrap();
/// assert_eq!(t.to_string(), "2025-09-22 10:46:33.000 IST");
/// let t = parse_timestamp("2025-09-22T10:46:33.25").unwrap();
/// assert_eq!(t.to_string(), "2025-09-22 10:46:33.250 IST");
/// assert!(parse_timestamp("2025-09-22 10:46").is_none());
/// ```
pub fn parse_timestamp(text: &str) -> Option<UnixNanos> {
    let (date, time) = text.trim().split_once('T')?;
    let date = Date::parse(date)?;
    // Market time is nanoseconds since 1970 in a u64, which ends in 2554: a year outside
    // the feed's plausible range is a bad field, not an instant.
    if !(1970..=2200).contains(&date.year) {
        return None;
    }
    let (clock, fraction) = match time.split_once('.') {
        Some((clock, fraction)) => (clock, Some(fraction)),
        None => (time, None),
    };
    if clock.len() != 8 {
        return None;
    }
    let time = TimeOfDay::parse(clock)?;
    let nanos = match fraction {
        None => 0,
        Some(f) if f.is_empty() || f.len() > 9 || !f.bytes().all(|b| b.is_ascii_digit()) => {
            return None
        }
        Some(f) => f.parse::<u64>().ok()? * 10u64.pow(9 - f.len() as u32),
    };
    Some(UnixNanos::from_ist(date, time).add_nanos(nanos))
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    const LOGIN: &str = include_str!("../../../tests/fixtures/truedata/login.json");
    const ADDED: &str = include_str!("../../../tests/fixtures/truedata/symbols-added.json");

    fn parse(text: &str) -> Result<Message, DecodeError> {
        Message::parse(&mut text.as_bytes().to_vec())
    }

    fn px(text: &str) -> Price {
        text.parse().unwrap()
    }

    fn ist(text: &str) -> UnixNanos {
        parse_timestamp(text).unwrap()
    }

    #[test]
    fn the_login_answer_and_a_refusal() {
        assert_eq!(
            parse(LOGIN),
            Ok(Message::Connected {
                max_symbols: Some(50),
                subscription: "tick".into(),
                validity: "2025-10-01T00:00:00".into(),
            })
        );
        assert_eq!(
            parse(r#"{"success":false,"message":"User Already Connected"}"#),
            Ok(Message::Refused("User Already Connected".into()))
        );
    }

    #[test]
    fn control_messages() {
        assert_eq!(
            parse(
                r#"{"success":true,"message":"HeartBeat","timestamp":"2025-09-22T10:46:34.125000"}"#
            ),
            Ok(Message::Heartbeat)
        );
        assert_eq!(
            parse(r#"{"success":true,"message":"marketstatus","data":"NSE: market open"}"#),
            Ok(Message::MarketStatus("NSE: market open".into()))
        );
        assert_eq!(
            parse(
                r#"{"success":true,"message":"symbols removed","symbolsremoved":1,"totalsymbolsubscribed":1,"symbollist":["SBIN:100003045"]}"#
            ),
            Ok(Message::SymbolsRemoved)
        );
        assert_eq!(
            parse(r#"{"success":true,"message":"something new"}"#),
            Ok(Message::Notice("something new".into()))
        );
        assert_eq!(
            parse(r#"{"message":7}"#).unwrap_err().kind,
            MessageKind::Control
        );
    }

    #[test]
    fn symbols_added_binds_names_to_ids_with_the_snapshot() {
        let Ok(Message::SymbolsAdded(rows)) = parse(ADDED) else {
            panic!("{:?}", parse(ADDED));
        };
        assert_eq!(rows.len(), 2);
        assert_eq!(rows[0].symbol, "NIFTY 50");
        assert_eq!(rows[0].symbol_id, 200_000_001);
        assert_eq!(rows[0].ltp, Some(px("25311")));
        assert_eq!(rows[0].day.unwrap().prev_close, px("25327.05"));
        let option = &rows[1];
        assert_eq!(option.symbol, "NIFTY25093025200CE");
        assert_eq!(option.symbol_id, 302_418_028);
        assert_eq!(option.ts, Some(ist("2025-09-22T10:46:32")));
        assert_eq!(
            (option.ltp, option.ltq, option.ttq),
            (Some(px("249")), 75, 2_506_800)
        );
        assert_eq!(
            option.best,
            Some(BestBidAsk {
                bid: px("247.1"),
                bid_qty: 225,
                ask: px("247.65"),
                ask_qty: 300
            })
        );
        // A 2020-style 17-element row: the snapshot without a guessed bid/ask.
        let old = r#"{"success":true,"message":"touchline","symbollist":[["SBIN","100003045","2020-06-01T15:29:59","190.5","10","189.9","1000","188","191","187","188.2","0","0","0","190.45","100","190.5"]]}"#;
        let Ok(Message::Touchline(rows)) = parse(old) else {
            panic!("{:?}", parse(old));
        };
        assert_eq!((rows[0].ltp, rows[0].best), (Some(px("190.5")), None));
        // A row too short for a binding is an error naming the row.
        let short = r#"{"success":true,"message":"symbols added","symbollist":[["SBIN"]]}"#;
        let err = parse(short).unwrap_err();
        assert!(err.reason.contains("symbollist row 0"), "{err}");
    }

    #[test]
    fn trades_with_and_without_bid_ask() {
        let full = r#"{"trade":["302418028","2025-09-22T10:46:34","249.5","150","229.47","2506950","236","257.1","192.2","276.9","2420850","2367300","0","","1001","249.2","300","249.55","225"]}"#;
        assert_eq!(
            parse(full),
            Ok(Message::Trade(Trade {
                symbol_id: 302_418_028,
                ts: ist("2025-09-22T10:46:34"),
                ltp: px("249.5"),
                ltq: 150,
                ttq: 2_506_950,
                day: Some(DayRange {
                    open: px("236"),
                    high: px("257.1"),
                    low: px("192.2"),
                    prev_close: px("276.9")
                }),
                seq: Some(1001),
                best: Some(BestBidAsk {
                    bid: px("249.2"),
                    bid_qty: 300,
                    ask: px("249.55"),
                    ask_qty: 225
                }),
            }))
        );
        // Scientific notation, and numbers instead of strings.
        let sci =
            r#"{"trade":[302418028,"2025-09-22T10:46:36","2.4975e2","1.5e2",229.48,"2.5071E6"]}"#;
        let Ok(Message::Trade(t)) = parse(sci) else {
            panic!("{:?}", parse(sci));
        };
        assert_eq!((t.ltp, t.ltq, t.ttq), (px("249.75"), 150, 2_507_100));
        assert_eq!((t.day, t.seq, t.best), (None, None, None));
    }

    #[test]
    fn bid_ask_and_bars() {
        assert_eq!(
            parse(r#"{"bidask":["302418028","2025-09-22T10:46:35","249.3","75","249.6","150"]}"#),
            Ok(Message::BidAsk(BidAsk {
                symbol_id: 302_418_028,
                ts: ist("2025-09-22T10:46:35"),
                best: BestBidAsk {
                    bid: px("249.3"),
                    bid_qty: 75,
                    ask: px("249.6"),
                    ask_qty: 150
                },
            }))
        );
        let Ok(Message::Bar(bar)) = parse(
            r#"{"bar5min":["302418028","2025-09-22T10:45:00","249","250","248.5","249.75","1650","2420850"]}"#,
        ) else {
            panic!()
        };
        assert_eq!(
            (bar.minutes, bar.close, bar.volume),
            (5, px("249.75"), 1650)
        );
        for (text, key) in [
            (r#"{"greeks":["1","2025-09-22T10:46:36","0.14"]}"#, "greeks"),
            (r#"{"bidaskL2":[]}"#, "bidaskL2"),
            (r#"{"interval":"1min","data":[]}"#, "interval"),
        ] {
            assert_eq!(parse(text), Ok(Message::Unused(key)));
        }
    }

    #[test]
    fn bad_messages_are_errors_of_their_kind() {
        let cases = [
            ("", MessageKind::Unreadable),
            ("not json", MessageKind::Unreadable),
            ("[1,2]", MessageKind::Unreadable),
            (r#"{"tick":[]}"#, MessageKind::Unreadable),
            (r#"{"trade":[],"bidask":[]}"#, MessageKind::Unreadable),
            (r#"{"trade":"x"}"#, MessageKind::Trade),
            (
                r#"{"trade":["1","2025-09-22T10:46:34","249.5","150","229.47"]}"#,
                MessageKind::Trade,
            ),
            (
                r#"{"trade":["1","2025-09-22T10:46:34","-249.5","150","229.47","1"]}"#,
                MessageKind::Trade,
            ),
            (
                r#"{"trade":["1","2025-09-22T10:46:34","249.5","1.5","229.47","1"]}"#,
                MessageKind::Trade,
            ),
            (
                r#"{"trade":["1","2025-09-22 10:46:34","249.5","1","229.47","1"]}"#,
                MessageKind::Trade,
            ),
            (
                r#"{"trade":["99999999999","2025-09-22T10:46:34","249.5","1","229.47","1"]}"#,
                MessageKind::Trade,
            ),
            (
                r#"{"trade":["1","2025-09-22T10:46:34",null,"1","229.47","1"]}"#,
                MessageKind::Trade,
            ),
            (
                r#"{"bidask":["1","2025-09-22T10:46:35","249.3","75","249.6"]}"#,
                MessageKind::BidAsk,
            ),
            (
                r#"{"bar1min":["1","2025-09-22T10:46:00","a","250","248.5","249.75","1650"]}"#,
                MessageKind::Bar,
            ),
        ];
        for (text, kind) in cases {
            let err = parse(text).expect_err(text);
            assert_eq!(err.kind, kind, "{text}: {err}");
        }
        let err = parse(r#"{"trade":["1","2025-09-22T10:46:34","-249.5","150","229.47","1"]}"#)
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "trade message: element 2: `-249.5`: negative value"
        );
    }

    #[test]
    fn timestamps_are_ist_and_strict() {
        let t = ist("2025-09-22T10:46:33");
        assert_eq!(t.ist_time_of_day().secs(), 10 * 3600 + 46 * 60 + 33);
        for bad in [
            "2025-09-22T10:46",
            "2025-13-22T10:46:33",
            "2025-09-22T24:00:00",
            "2025-09-22T10:46:33.",
            "2025-09-22T10:46:33.1234567890",
            "1969-12-31T23:59:59",
        ] {
            assert!(parse_timestamp(bad).is_none(), "{bad}");
        }
    }

    proptest! {
        /// Random bytes never panic the decoder.
        #[test]
        fn random_bytes_never_panic(mut bytes in proptest::collection::vec(any::<u8>(), 0..256)) {
            let _ = Message::parse(&mut bytes);
        }

        /// Random arrays under every data key never panic it either.
        #[test]
        fn random_arrays_never_panic(
            key in prop::sample::select(vec!["trade", "bidask", "bar1min", "bar5min"]),
            items in proptest::collection::vec("[-+0-9.eE:T ]{0,24}", 0..22),
        ) {
            let mut object = serde_json::Map::new();
            object.insert(key.to_owned(), serde_json::json!(items));
            let json = serde_json::Value::Object(object).to_string();
            let _ = Message::parse(&mut json.into_bytes());
        }
    }
}
