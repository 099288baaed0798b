//! A bound on repeated log lines: at most N lines of one kind per minute of wall time.
//!
//! A feed that flaps, a news file full of bad lines or a storm of rejects would
//! otherwise write a line per occurrence, fast enough to fill a disk or drown the line
//! that matters. So each thread that logs something repeatable keeps a [`LogLimiter`]
//! (no lock: it is the thread's own) and asks it before each such line. The first
//! `per_minute` lines of a kind in a minute go out; the rest are counted, and the count
//! goes out as one `suppressed` line (kind, source and number) with the first line of
//! the kind's next minute, by [`LogLimiter::flush_expired`], or when the limiter is
//! dropped at the thread's end: a suppressed line is never lost without a trace.
//!
//! Wall time, not market time: the bound is on what the log's reader and disk take in,
//! and a replay at full speed plays a day of market time in seconds. Stage threads
//! never log, so never hold one.

use std::{
    sync::atomic::{AtomicU32, Ordering},
    time::{Duration, Instant},
};

/// The window lines are counted in.
const WINDOW: Duration = Duration::from_secs(60);

/// `log.per_kind_per_minute` of the running engine, set once by
/// [`install`](super::install) before any thread that logs starts.
static PER_MINUTE: AtomicU32 = AtomicU32::new(20);

/// Sets the lines per kind per minute of every limiter made from now on.
pub(super) fn set_per_minute(n: u32) {
    // Relaxed: a plain setting, read by threads spawned after it was stored (the spawn
    // orders it before their reads).
    PER_MINUTE.store(n.max(1), Ordering::Relaxed);
}

/// One kind's minute.
#[derive(Debug, Clone, Copy)]
struct Window {
    kind: &'static str,
    start: Instant,
    passed: u32,
    suppressed: u64,
}

/// What [`LogLimiter::admit_at`] decided about one line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Admit {
    /// Write the line; `suppressed` lines of its kind were held back in the minute
    /// before (report them first).
    Log {
        /// Lines of this kind suppressed in its previous window.
        suppressed: u64,
    },
    /// Do not write it; it is counted.
    Suppress,
}

/// Per-kind counts of one thread's repeatable lines. See the module documentation.
#[derive(Debug)]
pub struct LogLimiter {
    /// Named in the `suppressed` lines: which part of the engine held lines back.
    source: &'static str,
    per_minute: u32,
    /// A handful of kinds per thread: a vector searched in order beats a map.
    windows: Vec<Window>,
}

impl LogLimiter {
    /// A limiter for `source` (`kite ticker`, `news file`, ...) at the configured
    /// `log.per_kind_per_minute`.
    pub fn new(source: &'static str) -> LogLimiter {
        // Relaxed: see `set_per_minute`.
        LogLimiter::with_per_minute(source, PER_MINUTE.load(Ordering::Relaxed))
    }

    /// A limiter letting `per_minute` lines of each kind through per minute.
    pub fn with_per_minute(source: &'static str, per_minute: u32) -> LogLimiter {
        LogLimiter {
            source,
            per_minute: per_minute.max(1),
            windows: Vec::new(),
        }
    }

    /// Whether a line of `kind` may be written now. When it may and lines of its kind
    /// were suppressed in the minute before, their `suppressed` line is written first.
    pub fn admit(&mut self, kind: &'static str) -> bool {
        match self.admit_at(kind, Instant::now()) {
            Admit::Log { suppressed } => {
                if suppressed > 0 {
                    report(self.source, kind, suppressed);
                }
                true
            }
            Admit::Suppress => false,
        }
    }

    /// The decision for a line of `kind` at `now`, without writing anything.
    pub fn admit_at(&mut self, kind: &'static str, now: Instant) -> Admit {
        let per_minute = self.per_minute;
        let window = match self.windows.iter_mut().find(|w| w.kind == kind) {
            Some(w) => w,
            None => {
                self.windows.push(Window {
                    kind,
                    start: now,
                    passed: 0,
                    suppressed: 0,
                });
                self.windows.last_mut().expect("just pushed")
            }
        };
        let mut carried = 0;
        if now.saturating_duration_since(window.start) >= WINDOW {
            carried = std::mem::take(&mut window.suppressed);
            window.start = now;
            window.passed = 0;
        }
        if window.passed < per_minute {
            window.passed += 1;
            Admit::Log {
                suppressed: carried,
            }
        } else {
            window.suppressed += 1;
            Admit::Suppress
        }
    }

    /// The kinds whose minute is over at `now` with lines suppressed in it, and how
    /// many; their counts start again from zero.
    pub fn take_expired(&mut self, now: Instant) -> Vec<(&'static str, u64)> {
        self.windows
            .iter_mut()
            .filter(|w| w.suppressed > 0 && now.saturating_duration_since(w.start) >= WINDOW)
            .map(|w| (w.kind, std::mem::take(&mut w.suppressed)))
            .collect()
    }

    /// Writes the `suppressed` line of every kind whose minute is over: for a thread
    /// that may go quiet after a burst, so the count does not wait for the next line.
    pub fn flush_expired(&mut self) {
        for (kind, n) in self.take_expired(Instant::now()) {
            report(self.source, kind, n);
        }
    }

    /// Every count not yet reported, minute over or not; all start again from zero.
    pub fn take_all(&mut self) -> Vec<(&'static str, u64)> {
        self.windows
            .iter_mut()
            .filter(|w| w.suppressed > 0)
            .map(|w| (w.kind, std::mem::take(&mut w.suppressed)))
            .collect()
    }
}

impl Drop for LogLimiter {
    /// The thread is done: what it held back is reported now.
    fn drop(&mut self) {
        for (kind, n) in self.take_all() {
            report(self.source, kind, n);
        }
    }
}

/// The one line that stands for `n` suppressed lines of `kind`.
fn report(source: &'static str, kind: &'static str, n: u64) {
    tracing::warn!(
        source,
        kind,
        suppressed = n,
        "{source}: {n} more `{kind}` lines suppressed (log.per_kind_per_minute)"
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn at(t0: Instant, secs: u64) -> Instant {
        t0 + Duration::from_secs(secs)
    }

    #[test]
    fn n_per_minute_pass_then_the_rest_are_counted_and_carried_to_the_next_minute() {
        let mut limit = LogLimiter::with_per_minute("test", 3);
        let t0 = Instant::now();
        for s in 0..3 {
            assert_eq!(
                limit.admit_at("reconnect", at(t0, s)),
                Admit::Log { suppressed: 0 }
            );
        }
        for s in 3..50 {
            assert_eq!(limit.admit_at("reconnect", at(t0, s)), Admit::Suppress);
        }
        // The minute is over: the next line goes, carrying the 47 held back.
        assert_eq!(
            limit.admit_at("reconnect", at(t0, 60)),
            Admit::Log { suppressed: 47 }
        );
        assert_eq!(
            limit.admit_at("reconnect", at(t0, 61)),
            Admit::Log { suppressed: 0 }
        );
        assert!(limit.take_all().is_empty());
    }

    #[test]
    fn kinds_are_counted_apart() {
        let mut limit = LogLimiter::with_per_minute("test", 1);
        let t0 = Instant::now();
        assert_eq!(limit.admit_at("a", t0), Admit::Log { suppressed: 0 });
        assert_eq!(limit.admit_at("a", t0), Admit::Suppress);
        assert_eq!(limit.admit_at("b", t0), Admit::Log { suppressed: 0 });
        assert_eq!(limit.admit_at("a", t0), Admit::Suppress);
        assert_eq!(limit.take_all(), [("a", 2)]);
    }

    #[test]
    fn a_quiet_kind_reports_its_count_once_its_minute_is_over() {
        let mut limit = LogLimiter::with_per_minute("test", 1);
        let t0 = Instant::now();
        limit.admit_at("bad_line", t0);
        limit.admit_at("bad_line", at(t0, 1));
        limit.admit_at("bad_line", at(t0, 2));
        assert!(limit.take_expired(at(t0, 59)).is_empty());
        assert_eq!(limit.take_expired(at(t0, 60)), [("bad_line", 2)]);
        // Reported once: neither again nor carried by the next line.
        assert!(limit.take_expired(at(t0, 120)).is_empty());
        assert_eq!(
            limit.admit_at("bad_line", at(t0, 121)),
            Admit::Log { suppressed: 0 }
        );
    }

    #[test]
    fn a_zero_setting_still_lets_one_line_through() {
        let mut limit = LogLimiter::with_per_minute("test", 0);
        assert_eq!(
            limit.admit_at("k", Instant::now()),
            Admit::Log { suppressed: 0 }
        );
    }
}
