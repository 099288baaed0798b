//! The host's own stall baseline: a thread that only reads the clock and records every
//! gap over 1 µs, so a reader can tell the engine's tail from the machine's.

use std::{
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use tickpipe::{metrics::LatencyHistogram, runtime::LatencyClock};

/// Gaps shorter than this are the loop itself, not a stall.
pub const STALL_THRESHOLD_NANOS: u64 = 1_000;

/// What a stall monitor saw.
#[derive(Debug, Clone)]
pub struct StallReport {
    /// Where it ran: `core 1 during the run`, `cores 0+1 before the runs`.
    pub label: String,
    /// Every gap between consecutive clock reads over [`STALL_THRESHOLD_NANOS`].
    pub gaps: LatencyHistogram,
    /// Sum of those gaps.
    pub stalled: Duration,
    /// How long it watched.
    pub watched: Duration,
}

/// Spins reading `clock` until `stop`, pinned to `core` when given.
pub fn spawn(
    label: String,
    core: Option<usize>,
    clock: LatencyClock,
    stop: Arc<AtomicBool>,
) -> std::io::Result<JoinHandle<StallReport>> {
    std::thread::Builder::new()
        .name("stall-monitor".to_owned())
        .spawn(move || {
            if let Some(id) = core {
                core_affinity::set_for_current(core_affinity::CoreId { id });
            }
            let started = Instant::now();
            let mut gaps = LatencyHistogram::new();
            let mut stalled = 0u64;
            let mut prev = clock.stamp();
            let mut reads = 0u32;
            loop {
                let now = clock.stamp();
                let gap = clock.nanos_between(prev, now);
                if gap > STALL_THRESHOLD_NANOS {
                    gaps.record(gap);
                    stalled += gap;
                }
                prev = now;
                reads = reads.wrapping_add(1);
                if reads % 1024 == 0 && stop.load(Ordering::Relaxed) {
                    break;
                }
            }
            StallReport {
                label,
                gaps,
                stalled: Duration::from_nanos(stalled),
                watched: started.elapsed(),
            }
        })
}

/// Watches every core in `cores` at once for `period` (nothing else of the harness runs
/// meanwhile) and returns one report per core.
pub fn baseline(
    when: &str,
    cores: &[Option<usize>],
    period: Duration,
    clock: &LatencyClock,
) -> std::io::Result<Vec<StallReport>> {
    let stop = Arc::new(AtomicBool::new(false));
    let handles = cores
        .iter()
        .map(|core| {
            let label = match core {
                Some(c) => format!("core {c}, {when}"),
                None => format!("unpinned, {when}"),
            };
            spawn(label, *core, clock.clone(), stop.clone())
        })
        .collect::<std::io::Result<Vec<_>>>()?;
    std::thread::sleep(period);
    stop.store(true, Ordering::Relaxed);
    Ok(handles.into_iter().filter_map(|h| h.join().ok()).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_monitor_records_only_gaps_over_the_threshold() {
        let clock = LatencyClock::new();
        let stop = Arc::new(AtomicBool::new(false));
        let began = Instant::now();
        let handle = spawn("test".into(), None, clock, stop.clone()).unwrap();
        std::thread::sleep(Duration::from_millis(30));
        stop.store(true, Ordering::Relaxed);
        let report = handle.join().unwrap();
        assert!(report.watched > Duration::ZERO && report.watched <= began.elapsed());
        assert!(report.stalled <= report.watched);
        assert!(report
            .gaps
            .histogram()
            .iter_recorded()
            .all(|v| v.value_iterated_to() > STALL_THRESHOLD_NANOS));
    }
}
