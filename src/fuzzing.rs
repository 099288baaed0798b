//! Fuzz bodies: one function per parser that reads input the engine does not control.
//!
//! | body | input | parsers |
//! | --- | --- | --- |
//! | [`kite_ticker`] | a Kite Ticker WebSocket message | [`KiteDecoder`](crate::feed::kite::KiteDecoder), [`official::write_ticks`](crate::feed::kite::official::write_ticks), [`TextMessage::parse`](crate::feed::kite::TextMessage::parse) |
//! | [`truedata()`] | TrueData WebSocket text messages, one per line | [`Message::parse`](crate::feed::truedata::Message::parse), [`TrueDataMarket`](crate::feed::truedata::TrueDataMarket), [`decimal_units`](crate::feed::truedata::decimal_units) |
//! | [`control_command`] | bytes read from a control connection | [`control::parse`](crate::control::parse), [`Catalog::resolve`](crate::control::Catalog::resolve) |
//! | [`config()`] | a configuration file | [`EngineConfig::parse_toml`](crate::engine::EngineConfig::parse_toml), [`validate`](crate::engine::EngineConfig::validate) and `config check`'s rules across sections |
//! | [`journal_reader`] | a journal segment file | the header and frame checks, [`Record::decode`](crate::journal::Record::decode), [`JournalReader`](crate::journal::JournalReader), [`verify`](crate::journal::verify), [`truncate_torn_tail`](crate::journal::truncate_torn_tail) |
//!
//! Why they live in the library: the `cargo fuzz` targets in `fuzz/` need a nightly
//! toolchain, which not every machine has, so the same bodies also run on stable in the
//! test suite (`tests/fuzz_bounded.rs`, seeds plus deterministic mutations). Keeping one
//! copy here means the two can never drift apart, and lets a body reach crate-private
//! pieces (the journal's frame format, `config check`'s rules) without widening the
//! public API.
//!
//! Every body accepts any bytes. It panics only when the code under test breaks a
//! promise: a parser panics, reads past its input, or returns something that
//! contradicts its own contract (each body's doc lists what it checks). A panic is what
//! the fuzzer reports as a crash.

mod config;
mod control;
mod journal;
mod kite;
mod truedata;

pub use config::config;
pub use control::control_command;
pub use journal::journal_reader;
pub use kite::kite_ticker;
pub use truedata::truedata;

/// A fuzz body: takes any bytes, panics only when the code under test breaks a promise.
pub type Body = fn(&[u8]);

/// Every target: its name (the `cargo fuzz` target and the seed folder
/// `fuzz/corpus/<name>/`) and its body.
pub const TARGETS: [(&str, Body); 5] = [
    ("kite_ticker", kite_ticker),
    ("truedata", truedata),
    ("control_command", control_command),
    ("config", config),
    ("journal_reader", journal_reader),
];
