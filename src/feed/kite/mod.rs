//! Kite Ticker (Zerodha's market data WebSocket): the wire formats.
//!
//! Binary messages carry ticks, text messages carry order updates and errors. This
//! module decodes both; the connection itself (TLS, subscriptions, reconnects) is built
//! on top of it.
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
//!
//! Sources and byte layouts: PROTOCOLS.md §1, and the fixture README in
//! `tests/fixtures/kite-ticker/`.

mod decoder;
mod depth;
mod error;
mod frame;
pub mod official;
mod packet;
mod segment;
mod text;

pub use decoder::{Decoded, KiteDecoder};
pub use depth::{Depth, DepthLevel, DEPTH_LEVELS};
pub use error::DecodeError;
pub use frame::{Message, PacketSlice, Packets};
pub use packet::{Layout, Mode, Ohlc, Packet};
pub use segment::SegmentCode;
pub use text::{OrderUpdate, TextMessage};
