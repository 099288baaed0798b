//! tickpipe: an automated trading engine for Indian markets, built as a lock-free
//! pipeline of pinned stages.
//!
//! ```text
//! feed ──MarketEvent──▶ signal ──RiskInput──▶ risk ──OrderInput──▶ order ──▶ gateway
//!                                              ▲ ◀────ExecReport─────┘
//! ```
//!
//! Each folder is one concept and depends only downward: [`model`] holds the value types
//! and ring messages; [`metrics`] the latency histograms and gauges; [`runtime`] the
//! stage trait, thread groups, outboxes and control ports; [`feed`], [`signal`],
//! [`risk`] and [`order`] are the four stages; [`control`] is the control socket;
//! [`charges`] is the cost model (brokerage, taxes and fees of every fill);
//! [`report`] computes the performance statistics traders judge a run by;
//! [`backtest`] runs the strategies over historical bars and reports them;
//! [`journal`] is the memory-mapped, append-only record of the day;
//! [`engine`] composes them all from the configuration; [`config`] is the shape of a
//! configuration error; [`logging`] is the structured log of the cold threads; [`cli`]
//! is the command line.
#![deny(unsafe_code)]
#![deny(rustdoc::broken_intra_doc_links)]

pub mod backtest;
pub mod charges;
pub mod cli;
pub mod config;
pub mod control;
pub mod engine;
pub mod feed;
// Fuzz bodies shared by `fuzz/` and `tests/fuzz_bounded.rs`; not an API.
#[doc(hidden)]
pub mod fuzzing;
pub mod journal;
pub mod logging;
pub mod metrics;
pub mod model;
pub mod order;
pub mod report;
pub mod risk;
pub mod runtime;
pub mod signal;
