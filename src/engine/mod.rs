//! The composition root: builds the stages, their rings and the side threads (the
//! control server) from the configuration, and runs them.
//!
//! Only this module knows every stage; [`runtime`](crate::runtime) knows the `Stage`
//! trait, groups, outboxes and the clock, and nothing about risk or orders. Adding a ring
//! or a side thread (a journal flusher, broker I/O) is a change here.

mod config;
mod pipeline;
mod recovery;

pub use config::{EngineConfig, GatewayKind, OrderConfig, RuntimeConfig, DEFAULT_TOML};
pub use pipeline::{JournalOutcome, Pipeline, RunReport};
pub use recovery::{config_hash, ResumeSummary};
