//! Stages, thread groups, wiring and the clock.
//!
//! A [`Stage`] is a non-blocking `poll()` step. A [`Group`] is one thread, optionally
//! pinned to a core, running one or more stages round-robin with a wait strategy for idle
//! rounds. [`Pipeline`] wires the rings between the four stages and maps them to groups
//! as the [`Layout`] says.

mod clock;
mod group;
mod layout;
mod outbox;
mod pipeline;
mod service;
mod stage;
mod telemetry;

pub use clock::LatencyClock;
pub use group::{Group, GroupReport};
pub use layout::{available_cores, GroupSpec, Layout, Preset, StageKind};
pub use outbox::{Outbox, STASH_CAPACITY};
pub use pipeline::{stop_on_signals, Pipeline, RunError, RunReport};
pub use service::{ServiceTimer, SERVICE_SAMPLE_EVERY};
pub use stage::{Poll, Stage, StageReport};
pub use telemetry::{money_to_paise, Gauge, SignedGauge, Telemetry};
