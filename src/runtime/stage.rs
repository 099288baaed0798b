//! The seam every stage implements: a non-blocking `poll()` step.

use crate::{metrics::LatencyHistogram, risk::TradingSummary};

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
    /// The risk stage's book at the end: positions, P&L and the fills of the day.
    pub trading: Option<TradingSummary>,
    /// Why the stage stopped early, when it did (a corrupt replay file, a broken gateway).
    pub error: Option<String>,
}

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

    /// A latency histogram by name.
    pub fn latency(&self, key: &str) -> Option<&LatencyHistogram> {
        self.latencies
            .iter()
            .find(|(k, _)| *k == key)
            .map(|(_, h)| h)
    }
}
