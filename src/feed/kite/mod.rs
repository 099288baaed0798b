//! Kite Ticker (Zerodha's market data WebSocket): the wire formats.
//!
//! Binary messages carry ticks, text messages carry order updates and errors. This
//! module decodes both, and [`KiteTicker`] is the live source built on them: a
//! WebSocket client on its own thread (TLS, subscriptions, heartbeats, reconnects) that
//! hands decoded ticks to the feed stage through a ring (`ticker.rs` explains the
//! threads, the reconnect policy and what happens when the ring is full).
//!
//! | item | what |
//! | --- | --- |
//! | [`Message`], [`Packets`], [`PacketSlice`] | splitting a binary message into packets (`frame.rs`) |
//! | [`Packet`], [`Layout`], [`Mode`], [`Ohlc`] | one packet's fields, by layout (`packet.rs`) |
//! | [`Depth`], [`DepthLevel`] | five levels per side of a full-mode packet (`depth.rs`) |
//! | [`SegmentCode`] | the token's segment and its price divisor (`segment.rs`) |
//! | [`KiteDecoder`], [`Decoded`] | the engine's strict decoder, counting what it skips |
//! | [`DecodeError`] | why a message or packet was skipped |
//! | [`official`] | the official Python client's reading, as JSON (`tickpipe feed decode`) |
//! | [`TextMessage`], [`OrderUpdate`] | text messages (`text.rs`) |
//! | [`KiteConfig`], [`read_access_token`] | the `[feed.kite]` table and the token file (`config.rs`) |
//! | [`KiteTicker`], [`TickerSettings`] | the live source and what it needs (`ticker.rs`) |
//! | [`Postbacks`] | the order postbacks it passes on to the Kite Connect gateway |
//! | [`TickerHealth`], [`TickerCounters`] | its stale flag, counters and last errors |
//! | [`MarketMapper`] | packets to events: token to id, market time (`ticker/market.rs`) |
//! | [`Backoff`] | the wait between reconnection attempts (`ticker/backoff.rs`) |
//!
//! Sources and byte layouts: PROTOCOLS.md §1, and the fixture README in
//! `tests/fixtures/kite-ticker/`.

mod config;
mod decoder;
mod depth;
mod error;
mod frame;
pub mod official;
mod packet;
mod segment;
mod text;
mod ticker;

pub use config::{
    read_access_token, AttemptSetting, KiteConfig, LinkTiming, MAX_INSTRUMENTS, PRODUCTION_URL,
};
pub use decoder::{Decoded, KiteDecoder};
pub use depth::{Depth, DepthLevel, DEPTH_LEVELS};
pub use error::DecodeError;
pub use frame::{Message, PacketSlice, Packets};
pub use packet::{Layout, Mode, Ohlc, Packet};
pub use segment::SegmentCode;
pub use text::{OrderUpdate, TextMessage};
pub(crate) use ticker::{open_tcp, ReadSlices, Socket, READ_SLICE};
pub use ticker::{
    system_clock, tls_config, tls_config_for, Backoff, KiteTicker, MarketMapper, Postbacks,
    TickerCounters, TickerHealth, TickerSettings, WallClock, POSTBACK_RING,
};
