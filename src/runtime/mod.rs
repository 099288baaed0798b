//! Stages, thread groups, wiring and the clock.
//!
//! A [`Stage`] is a non-blocking `poll()` step. A group is one thread, optionally pinned
//! to a core, running one or more stages round-robin with a wait strategy for idle
//! rounds. The pipeline builder wires the rings between stages and maps stages to groups
//! as the configuration says.

mod clock;
mod outbox;
mod stage;
mod telemetry;

pub use clock::LatencyClock;
pub use outbox::{Outbox, STASH_CAPACITY};
pub use stage::{Poll, Stage, StageReport};
pub use telemetry::{money_to_paise, Gauge, SignedGauge, Telemetry};
