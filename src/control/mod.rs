//! The control plane: the socket traders steer a running engine through.
//!
//! One thread ([`ControlServer`]) serves a Unix socket (mode 0600 in the run directory)
//! and, with TLS material and a token, a TCP listener. It reads one command per line
//! ([`parse`] into a [`Request`]), sends the owning stage a [`ControlCommand`] through
//! that stage's control ring, and writes the stage's typed answer back as one JSON line.
//! Stages never see text, and no state is read across threads except through the rings.
//! The wire format is in `PROTOCOL.md` beside this file and in the README.
//!
//! The same thread is where the stages' alerts go: it logs each one and hands the
//! serious ones to the alert command. So it runs whenever the engine runs: with
//! `control.enabled = false` it serves no socket, but still empties the stages' answer
//! rings, so their alerts reach the log and the command and none is dropped for want of
//! a reader.
//!
//! | file | what |
//! | --- | --- |
//! | `command.rs` | the command language: [`parse`], [`Request`], [`HELP`] |
//! | `catalog.rs` | [`Catalog`]: symbols and strategy names; requests resolved to commands |
//! | `config.rs` | [`ControlConfig`], the `[control]` section, its schedule and [`AlertsConfig`] |
//! | `link.rs` | [`StageLink`]: the control thread's end of a stage's rings |
//! | `connection.rs` | one client: buffers, subscriptions, rate limit |
//! | `server.rs` | [`ControlServer`]: the `mio` loop |
//! | `answer.rs` | answer rows to JSON reply lines and stream events |
//! | `alert_command.rs` | `AlertCommand`: the program run for serious alerts, off the stages' threads |
//! | `alert_limit.rs` | its per-kind rate limit, which counts what it holds back |
//! | `alert_output.rs` | what its runs print, captured for the log |
//! | `alert_log.rs` | every alert in the log, at its level |
//! | `metrics.rs` | the Prometheus text of `metrics` |
//! | `tls.rs` | TLS for the TCP listener, and the token check |
//!
//! [`ControlCommand`]: crate::model::ControlCommand

mod alert_command;
mod alert_limit;
mod alert_log;
mod alert_output;
mod answer;
mod catalog;
mod command;
mod config;
mod connection;
mod link;
mod metrics;
mod server;
pub mod tls;

pub use alert_command::AlertCommandReport;
pub use answer::EngineInfo;
pub use catalog::{Catalog, Unresolved};
pub use command::{
    parse, ParseError, Request, Stream, DEFAULT_PNL_INTERVAL_MS, HELP, MAX_LINE,
    MAX_PNL_INTERVAL_MS, MIN_PNL_INTERVAL_MS,
};
pub use config::{AlertsConfig, ControlConfig, ScheduleEntry};
pub use link::{Incoming, StageId, StageLink};
pub use server::{ControlPlane, ControlServer, ServerReport, StartError};
