//! Empty stages for the harness-overhead run: the same rings and thread groups as the
//! engine, with stages that only move messages on.

use tickpipe::{
    metrics::LatencyHistogram,
    model::{MarketEvent, Stamp},
    runtime::{LatencyClock, Outbox, Poll, Stage, StageReport},
};
use tickpipe_ringbuf::{Consumer, PopError};

/// Most messages one poll moves, as the engine's stages.
const BATCH: usize = 64;

/// Moves events from one ring to the next, unchanged.
#[derive(Debug)]
pub struct PassThrough {
    name: &'static str,
    input: Consumer<MarketEvent>,
    out: Outbox<MarketEvent>,
    moved: u64,
}

impl PassThrough {
    /// A stage named `name` (the engine stage it stands in for).
    pub fn new(
        name: &'static str,
        input: Consumer<MarketEvent>,
        out: Outbox<MarketEvent>,
    ) -> PassThrough {
        PassThrough {
            name,
            input,
            out,
            moved: 0,
        }
    }
}

impl Stage for PassThrough {
    fn name(&self) -> &'static str {
        self.name
    }

    fn poll(&mut self) -> Poll {
        if !self.out.flush() {
            return Poll::Idle;
        }
        let mut n = 0;
        while n < BATCH {
            match self.input.try_pop() {
                Ok(event) => {
                    self.out.push(event);
                    n += 1;
                    if !self.out.is_clear() {
                        break;
                    }
                }
                Err(PopError::Empty) => break,
            }
        }
        self.moved += n as u64;
        if n > 0 {
            Poll::Work(n)
        } else if self.input.is_finished() {
            Poll::Done
        } else {
            Poll::Idle
        }
    }

    fn finish(self: Box<Self>) -> StageReport {
        let mut report = StageReport::new(self.name);
        report.counters = vec![("moved", self.moved), ("ring_full", self.out.stalls())];
        report
    }
}

/// The last stage: takes events off the ring and records ingress-to-here latency
/// (`tick_to_sink`), as the order stage records `tick_to_intent`.
#[derive(Debug)]
pub struct Sink {
    name: &'static str,
    input: Consumer<MarketEvent>,
    clock: LatencyClock,
    latency: LatencyHistogram,
}

impl Sink {
    /// A sink named `name`.
    pub fn new(name: &'static str, input: Consumer<MarketEvent>, clock: LatencyClock) -> Sink {
        Sink {
            name,
            input,
            clock,
            latency: LatencyHistogram::new(),
        }
    }
}

impl Stage for Sink {
    fn name(&self) -> &'static str {
        self.name
    }

    fn poll(&mut self) -> Poll {
        let mut n = 0;
        while n < BATCH {
            let Ok(event) = self.input.try_pop() else {
                break;
            };
            let ingress = event.ingress();
            if ingress != Stamp(0) {
                self.latency.record(self.clock.nanos_since(ingress));
            }
            n += 1;
        }
        if n > 0 {
            Poll::Work(n)
        } else if self.input.is_finished() {
            Poll::Done
        } else {
            Poll::Idle
        }
    }

    fn finish(self: Box<Self>) -> StageReport {
        let mut report = StageReport::new(self.name);
        report.counters = vec![("received", self.latency.len())];
        report.latencies = vec![("tick_to_sink", self.latency)];
        report
    }
}

#[cfg(test)]
mod tests {
    use tickpipe::model::{InstrumentId, News, UnixNanos};
    use tickpipe_ringbuf::channel;

    use super::*;

    #[test]
    fn events_pass_through_to_the_sink_then_all_stages_finish() {
        let clock = LatencyClock::new();
        let (mut tx, rx) = channel(8);
        let (mid_tx, mid_rx) = channel(4);
        let mut pass = PassThrough::new("signal", rx, Outbox::new(mid_tx));
        let mut sink = Sink::new("order", mid_rx, clock.clone());
        for i in 0..20u64 {
            let _ = tx.try_push(MarketEvent::News(News {
                exchange_ts: UnixNanos(i),
                ingress: if i % 2 == 0 { clock.stamp() } else { Stamp(0) },
                instrument: InstrumentId(0),
                sentiment_milli: 0,
            }));
        }
        drop(tx);
        let mut rounds = 0;
        loop {
            let a = pass.poll();
            let b = sink.poll();
            if a == Poll::Done && b == Poll::Done {
                break;
            }
            if a == Poll::Done {
                // The pass-through stage is dropped once done, hanging up its output.
                break;
            }
            rounds += 1;
            assert!(rounds < 100);
        }
        let report = Box::new(pass).finish();
        assert_eq!(report.counter("moved"), 8);
        while sink.poll() != Poll::Done {}
        let report = Box::new(sink).finish();
        assert_eq!(report.counter("received"), 4);
    }
}
