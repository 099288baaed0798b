//! TrueData's real-time WebSocket feed: the JSON decoder and the live source.
//!
//! ```text
//!  TrueData ──wss──▶ connection thread (cold, unpinned)            feed stage (hot)
//!                    tungstenite + rustls, simd-json,      ──ring──▶ TrueDataFeed::poll_event
//!                    TrueDataMarket, Conflator, reconnects           (a pop, never blocks)
//!                           │
//!                           └──▶ TickerHealth (stale flag, counters, last errors)
//! ```
//!
//! **Login.** TrueData has no login message: the user and password travel in the URL's
//! query (`wss://host:port/?user=…&password=…`), and the server answers with a
//! `"TrueData Real Time Data Service"` object (or `success: false`). Only then does the
//! thread send `addsymbol` (in requests of at most 1500 symbols), whose answer binds each
//! symbol name to the numeric id that data messages use. The login comes from a 0600 file
//! or two environment variables, is read at every connection and never logged.
//!
//! **Messages** (PROTOCOLS.md §4.3–4.5): control objects with a `message` key
//! (login answer, heartbeats every 5 s, symbols added, touchline, market status) and
//! one-key data objects whose value is a positional array of strings: `trade`,
//! `bidask`, `bar1min`/`bar5min`, and kinds the engine does not use (greeks, level-2
//! bid/ask, call-auction prices). Values are read exactly, scientific notation included
//! ([`decimal_units`]); a bad message is counted by kind, logged once per kind and
//! skipped.
//!
//! **Disconnects** are handled as for the Kite Ticker: silence past `stale_after`, a
//! close or an error drops the connection; it is reopened after a capped, jittered
//! backoff and every symbol is subscribed again (TrueData does not restore them).
//!
//! **Backpressure.** When the ring to the feed stage is full, ticks are conflated per
//! instrument ([`Conflator`](crate::feed::Conflator)): every tick carries its
//! instrument's last trade, day volume and best bid/ask, so nothing cumulative is lost.
//!
//! | item | what |
//! | --- | --- |
//! | [`Message`], [`MessageKind`], [`DecodeError`] | one message, parsed and checked (`message.rs`) |
//! | [`decimal_units`], [`parse_timestamp`] | exact numbers and IST times (`number.rs`) |
//! | [`TrueDataMarket`] | messages to ticks: ids, quotes, sequence checks (`market.rs`) |
//! | [`TrueDataConfig`], [`CredentialSource`] | the `[feed.truedata]` table and the login (`config.rs`) |
//! | [`TrueDataFeed`], [`TrueDataSettings`] | the live source (`source.rs`; the thread is `link.rs`) |

mod config;
mod link;
mod market;
mod message;
mod number;
mod source;

pub use config::{
    CredentialSource, Credentials, TrueDataConfig, TrueDataTiming, PRODUCTION_URL,
    SYMBOLS_PER_REQUEST,
};
pub use market::{MarketCounts, TrueDataMarket};
pub use message::{
    parse_timestamp, Bar, BestBidAsk, BidAsk, DayRange, DecodeError, Message, MessageKind,
    TouchlineRow, Trade,
};
pub use number::{decimal_units, price, quantity};
pub use source::{TrueDataFeed, TrueDataSettings};
