//! The seam every stage implements: a non-blocking `poll()` step.

use std::{any::Any, borrow::Cow, fmt};

use crate::metrics::LatencyHistogram;

/// What one [`Stage::poll`] call achieved.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Poll {
    /// Handled this many messages (or made other progress).
    Work(usize),
    /// Nothing to do now; the group may wait.
    Idle,
    /// The stage's upstream has finished, its inputs are drained and its outputs flushed:
    /// it will never have work again. The group calls [`Stage::finish`] and drops it, which
    /// drops its ring producers, which tells the next stage its upstream is gone.
    Done,
}

/// A pipeline stage: owns its state and its ring ends, and does a bounded amount of work
/// per `poll()` without blocking, allocating or taking locks.
///
/// A thread group runs one or more stages round-robin; because `poll()` never blocks,
/// any mapping of stages to threads is correct, and the one-thread layout cannot deadlock
/// on its own rings.
pub trait Stage: Send {
    /// Short name for reports (`feed`, `signal`, `risk`, `order`).
    fn name(&self) -> &'static str;

    /// Does at most one batch of work.
    fn poll(&mut self) -> Poll;

    /// Consumes the stage after it reported [`Poll::Done`] (or at forced shutdown) and
    /// returns what it measured.
    fn finish(self: Box<Self>) -> StageReport;
}

/// What a stage hands back when it finishes.
#[derive(Debug, Default)]
pub struct StageReport {
    /// The stage's name.
    pub name: &'static str,
    /// Time to handle one input message, in nanoseconds.
    pub service: LatencyHistogram,
    /// Other latencies the stage owns (the order stage's `tick_to_intent`).
    pub latencies: Vec<(&'static str, LatencyHistogram)>,
    /// Counters: messages in and out, full-ring stalls, drops.
    pub counters: Vec<(&'static str, u64)>,
    /// What only this kind of stage has to say (the risk stage's book and fills), read
    /// back with [`StageReport::detail`] by whoever knows the type. The runtime carries it
    /// without knowing what it is.
    pub detail: Option<Box<dyn Any + Send>>,
    /// The first error the stage met, when it met one (a corrupt replay file, a broken
    /// gateway, arithmetic that overflowed).
    pub error: Option<StageError>,
}

/// Whether trading can go on after a stage error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Severity {
    /// The stage refused or dropped one message, counted it and goes on trading.
    Recoverable,
    /// The stage can no longer trust its own state: new entries halt, the flatten policy
    /// applies, and the run stops.
    Fatal,
}

/// A stage's error as a value: which stage, how bad, and why.
///
/// `what` is a static sentence chosen on the stage thread (so raising an error never
/// formats or allocates there); `detail` is filled off the hot path, at
/// [`Stage::finish`], where there is more to say (a byte offset in a file).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StageError {
    /// The stage that met it.
    pub stage: &'static str,
    /// Whether trading can go on.
    pub severity: Severity,
    /// What happened, as one lowercase sentence.
    pub what: &'static str,
    /// More, when the stage has it.
    pub detail: Option<Cow<'static, str>>,
}

impl StageError {
    /// A fatal error of `stage`.
    pub const fn fatal(stage: &'static str, what: &'static str) -> StageError {
        StageError {
            stage,
            severity: Severity::Fatal,
            what,
            detail: None,
        }
    }

    /// A recoverable error of `stage`.
    pub const fn recoverable(stage: &'static str, what: &'static str) -> StageError {
        StageError {
            stage,
            severity: Severity::Recoverable,
            what,
            detail: None,
        }
    }

    /// The same error with more said about it.
    pub fn with_detail(mut self, detail: impl Into<Cow<'static, str>>) -> StageError {
        self.detail = Some(detail.into());
        self
    }

    /// True when trading cannot go on.
    pub fn is_fatal(&self) -> bool {
        self.severity == Severity::Fatal
    }
}

impl fmt::Display for StageError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.detail {
            Some(detail) => write!(f, "{}: {detail}", self.what),
            None => f.write_str(self.what),
        }
    }
}

impl std::error::Error for StageError {}

impl StageReport {
    /// An empty report for `name`.
    pub fn new(name: &'static str) -> StageReport {
        StageReport {
            name,
            ..StageReport::default()
        }
    }

    /// The value of a counter, zero when absent.
    pub fn counter(&self, key: &str) -> u64 {
        self.counters
            .iter()
            .find(|(k, _)| *k == key)
            .map_or(0, |(_, v)| *v)
    }

    /// The stage's own detail, when it is a `T`.
    pub fn detail<T: Any>(&self) -> Option<&T> {
        self.detail.as_ref()?.downcast_ref()
    }

    /// A latency histogram by name.
    pub fn latency(&self, key: &str) -> Option<&LatencyHistogram> {
        self.latencies
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, h)| h)
    }
}
