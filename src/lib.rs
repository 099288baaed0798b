//! tickpipe: an automated trading engine for Indian markets, built as a lock-free
//! pipeline of pinned stages.
//!
//! ```text
//! feed ──MarketEvent──▶ signal ──RiskInput──▶ risk ──OrderInput──▶ order ──▶ gateway
//!                                              ▲ ◀────ExecReport─────┘
//! ```
//!
//! Each folder is one concept and depends only downward: [`model`] holds the value types
//! and ring messages; [`feed`], [`signal`], [`risk`] and [`order`] are the four stages;
//! [`runtime`] wires them into pinned thread groups; [`metrics`] holds the latency
//! histograms; [`config`] reads and validates the TOML; [`cli`] is the command line.
#![deny(unsafe_code)]
#![deny(rustdoc::broken_intra_doc_links)]

pub mod cli;
pub mod config;
pub mod feed;
pub mod metrics;
pub mod model;
pub mod order;
pub mod risk;
pub mod runtime;
pub mod signal;
