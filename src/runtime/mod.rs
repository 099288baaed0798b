//! Stages, thread groups, outboxes, control ports and the clock; nothing about what any
//! stage does.
//!
//! A [`Stage`] is a non-blocking `poll()` step. A [`Group`] is one thread, optionally
//! pinned to a core, running one or more stages round-robin with a wait strategy for idle
//! rounds. [`Running`] starts the groups a [`Layout`] names and collects their reports.
//! An [`Outbox`] is a ring producer that never loses a message; a [`ControlPort`] is a
//! stage's end of the control plane. A [`Slab`] is the fixed-capacity table with
//! generation-checked [`Key`]s that stages keep their live orders in. The composition root,
//! [`engine`](crate::engine), builds the stages and their rings from the configuration.

mod clock;
mod control_port;
mod group;
mod layout;
mod outbox;
mod rehearsal;
mod runner;
mod service;
mod slab;
mod stage;

pub use clock::LatencyClock;
pub use control_port::{ControlPort, COMMANDS_PER_POLL};
pub use group::{Group, GroupReport};
pub use layout::{available_cores, check_core, GroupSpec, Layout, Preset, StageKind};
pub use outbox::{Outbox, STASH_CAPACITY};
pub use rehearsal::Rehearsal;
pub use runner::{stop_on_signals, Groups, RunError, Running};
pub use service::{ServiceTimer, SERVICE_SAMPLE_EVERY};
pub use slab::{Key, Slab, MAX_SLOTS, SLOT_BITS};
pub use stage::{Poll, Severity, Stage, StageError, StageReport};
