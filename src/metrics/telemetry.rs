//! Counters the stages publish for the live status line.

use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

use crossbeam_utils::CachePadded;

use crate::model::UnixNanos;

/// A counter with one writer (the owning stage) and any number of readers.
///
/// Relaxed ordering throughout: a reader wants a recent value for display and never
/// synchronises other memory through it. On x86 a relaxed store is a plain `mov`.
#[derive(Debug, Default)]
pub struct Gauge(AtomicU64);

impl Gauge {
    /// Publishes a value.
    #[inline]
    pub fn set(&self, v: u64) {
        self.0.store(v, Ordering::Relaxed);
    }

    /// Reads the last published value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A signed gauge (money in paise).
#[derive(Debug, Default)]
pub struct SignedGauge(AtomicI64);

impl SignedGauge {
    /// Publishes a value.
    #[inline]
    pub fn set(&self, v: i64) {
        self.0.store(v, Ordering::Relaxed);
    }

    /// Reads the last published value.
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// The feed stage's gauges.
#[derive(Debug, Default)]
pub struct FeedGauges {
    /// Ticks handed to the signal stage.
    pub ticks: Gauge,
    /// Market time of the last event, nanoseconds since the epoch.
    pub market_time: Gauge,
}

/// The signal stage's gauges.
#[derive(Debug, Default)]
pub struct SignalGauges {
    /// Signals emitted.
    pub signals: Gauge,
}

/// The risk stage's gauges.
#[derive(Debug, Default)]
pub struct RiskGauges {
    /// Intents approved.
    pub intents: Gauge,
    /// Open positions.
    pub open_positions: Gauge,
    /// Realised plus unrealised P&L in paise.
    pub pnl_paise: SignedGauge,
}

/// The order stage's gauges.
#[derive(Debug, Default)]
pub struct OrderGauges {
    /// Orders sent to the gateway.
    pub orders: Gauge,
    /// Fills received.
    pub fills: Gauge,
}

/// All gauges, each stage's on its own cache lines so publishing never contends.
#[derive(Debug, Default)]
pub struct Telemetry {
    /// Feed.
    pub feed: CachePadded<FeedGauges>,
    /// Signal.
    pub signal: CachePadded<SignalGauges>,
    /// Risk.
    pub risk: CachePadded<RiskGauges>,
    /// Order.
    pub order: CachePadded<OrderGauges>,
}

impl Telemetry {
    /// Market time as last published by the feed.
    pub fn market_time(&self) -> UnixNanos {
        UnixNanos(self.feed.market_time.get())
    }
}
