//! Several sessions over the same synthetic days (the variants of a comparison): each
//! day generated once for all of them ([`DayEvents`]), the work spread over cores.
//!
//! The work comes in two kinds: *generate* day `d`, and *trade* day `d` for run `r`,
//! which needs day `d` generated and run `r`'s day `d − 1` traded (the equity carries
//! over). Up to `jobs` threads take work from a shared board, in this order of
//! preference:
//!
//! 1. generate the next day, while fewer than [`WINDOW`] generated days are still
//!    needed (so memory holds a few days whatever the length of the session);
//! 2. trade for the run furthest behind whose next day is ready;
//! 3. otherwise wait for a piece of work to finish.
//!
//! Generating first keeps the next day ready before the runs need it, so no core waits
//! for the generator once the first day is out. Each run trades its days in order on
//! one account, one day at a time, with the events its own session would have
//! generated, so its outcome is the one [`run_days`](super::run_days) gives, whatever
//! the number of threads and the order the work finishes in: the files written from
//! the outcomes are byte-identical to a serial run's.
//!
//! One session alone ([`run_session_on`]) is the case of a single run: a second thread
//! generates day `d + 1` while day `d` is traded, which is where a session's other half
//! of the time goes.

use std::{
    collections::VecDeque,
    sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError},
    time::Instant,
};

use crate::{
    engine::EngineConfig,
    model::{MarketEvent, Money},
};

use super::{
    day_events::DayEvents,
    session::{day_config, plan, DayCollector, DayOutcome, SessionDay, SessionMarket},
    SessionOutcome,
};

/// Most generated days held at once (generated or being generated, and not yet traded
/// by every run): about 130 MB each for a whole default day.
pub const WINDOW: usize = 2;

/// Runs each of `runs` (labelled configs that differ in anything but `[feed]`) over
/// `days` synthetic days, as [`run_session`](super::run_session) runs one, on up to
/// `jobs` threads, each day's market generated once for all of them. `progress` is
/// called after each traded day with the run's index, the day's index, the number of
/// days and the day's outcome, from whichever thread traded it.
///
/// # Errors
/// When the runs' `[feed]` sections differ, a bad plan ([`plan`]), a day that cannot be
/// generated, or a run's day that fails as in [`run_session`](super::run_session); the
/// error of the first run (in the given order) that failed, prefixed with its label
/// (unless empty).
pub fn run_shared_days<P>(
    runs: &[(String, EngineConfig)],
    days: u32,
    jobs: usize,
    progress: P,
) -> Result<Vec<SessionOutcome>, String>
where
    P: Fn(usize, usize, usize, &DayOutcome) + Sync,
{
    let Some((_, first)) = runs.first() else {
        return Ok(Vec::new());
    };
    if let Some((label, _)) = runs.iter().find(|(_, c)| c.feed != first.feed) {
        return Err(format!(
            "{label}: its [feed] section differs from the first run's, so the runs cannot share their days"
        ));
    }
    let plan = plan(first, days)?;
    let shared = Shared {
        runs,
        plan: &plan,
        progress: &progress,
        board: Mutex::new(Board::new(runs, plan.len())),
        changed: Condvar::new(),
    };
    let threads = jobs.clamp(1, runs.len() + 1);
    if threads == 1 {
        shared.work();
    } else {
        std::thread::scope(|scope| {
            for _ in 1..threads {
                scope.spawn(|| shared.work());
            }
            shared.work();
        });
    }
    let board = shared
        .board
        .into_inner()
        .unwrap_or_else(PoisonError::into_inner);
    let mut out = Vec::with_capacity(runs.len());
    for ((label, _), run) in runs.iter().zip(board.runs) {
        let outcome = match (run.failed, &board.failed_day) {
            (Some(e), _) => Err(e),
            (None, Some((_, e))) => Err(e.clone()),
            (None, None) => match run.collector {
                Some(collector) => (*collector).finish(),
                None => Err("the run was left unfinished".to_owned()),
            },
        };
        out.push(outcome.map_err(|e| {
            if label.is_empty() {
                e
            } else {
                format!("{label}: {e}")
            }
        })?);
    }
    Ok(out)
}

/// Runs `days` synthetic days of `config` as [`run_session`](super::run_session) does,
/// with the same outcome, on up to `jobs` threads: with two or more, each next day is
/// generated on a second thread while the day before it is traded (the generator is
/// about half the cost of a day), as [`run_shared_days`] does for one run. `progress`
/// is called after each day, in order, with its index, the number of days and its
/// outcome.
///
/// Cost: with `jobs` above 1, up to [`WINDOW`] days of market events are held (about
/// 130 MB each for a whole default day), where one thread generates as it trades and
/// holds none.
///
/// # Errors
/// As [`run_session`](super::run_session).
pub fn run_session_on<P>(
    config: &EngineConfig,
    days: u32,
    jobs: usize,
    progress: P,
) -> Result<SessionOutcome, String>
where
    P: Fn(usize, usize, &DayOutcome) + Sync,
{
    if jobs <= 1 {
        return super::run_session(config, days, progress);
    }
    let runs = [(String::new(), config.clone())];
    run_shared_days(&runs, days, jobs, |_, d, n, day| progress(d, n, day))?
        .pop()
        .ok_or_else(|| "the session was left unfinished".to_owned())
}

/// What the threads share: the inputs, and the board under its lock.
struct Shared<'a, P> {
    runs: &'a [(String, EngineConfig)],
    plan: &'a [SessionDay],
    progress: &'a P,
    board: Mutex<Board>,
    /// Signalled whenever a piece of work finishes (or a thread panicked).
    changed: Condvar,
}

/// Who does what: the days generated, and where each run is.
struct Board {
    days: usize,
    /// The next day to start generating.
    next_day: usize,
    /// Generated days some run has still to trade, with their index.
    ready: VecDeque<(usize, Arc<DayEvents>)>,
    /// Event vectors of days every run has traded, for the next days to fill.
    spare: Vec<Vec<MarketEvent>>,
    runs: Vec<Run>,
    /// The first day that could not be generated, and why.
    failed_day: Option<(usize, String)>,
    /// A thread panicked: the others stop taking work.
    aborted: bool,
}

/// One run's place in the session.
struct Run {
    /// Its days so far; `None` while a thread trades its next day.
    collector: Option<Box<DayCollector>>,
    /// The next day to trade.
    next: usize,
    /// Why a day failed; the run trades no more days.
    failed: Option<String>,
}

/// A piece of work, taken from the board.
enum Task {
    Generate(usize, Vec<MarketEvent>),
    /// Run, day, its events, the run's account (boxed: it is large, and moves twice).
    Trade(usize, usize, Arc<DayEvents>, Box<DayCollector>),
}

impl Board {
    fn new(runs: &[(String, EngineConfig)], days: usize) -> Board {
        Board {
            days,
            next_day: 0,
            ready: VecDeque::with_capacity(WINDOW),
            spare: Vec::with_capacity(WINDOW),
            runs: runs
                .iter()
                .map(|(_, c)| Run {
                    collector: Some(Box::new(DayCollector::new(
                        c.risk.capital,
                        SessionMarket::Synthetic,
                    ))),
                    next: 0,
                    failed: None,
                })
                .collect(),
            failed_day: None,
            aborted: false,
        }
    }

    /// True while `run` has days left to trade.
    fn wants_more(&self, run: &Run) -> bool {
        run.failed.is_none()
            && run.next < self.days
            && self
                .failed_day
                .as_ref()
                .map_or(true, |(d, _)| run.next < *d)
    }

    /// The earliest day some run still needs; `None` when no run needs any.
    fn oldest_needed(&self) -> Option<usize> {
        self.runs
            .iter()
            .filter(|r| self.wants_more(r))
            .map(|r| r.next)
            .min()
    }

    /// The next piece of work, as the module doc orders them; `None` when there is
    /// none now.
    fn take(&mut self) -> Option<Task> {
        let oldest = self.oldest_needed()?;
        if self.next_day < self.days && self.failed_day.is_none() && self.next_day < oldest + WINDOW
        {
            let d = self.next_day;
            self.next_day += 1;
            return Some(Task::Generate(d, self.spare.pop().unwrap_or_default()));
        }
        let (r, day) = self
            .runs
            .iter()
            .enumerate()
            .filter(|(_, run)| run.collector.is_some() && self.wants_more(run))
            .filter_map(|(r, run)| {
                let (_, day) = self.ready.iter().find(|(d, _)| *d == run.next)?;
                Some((r, run.next, day))
            })
            .min_by_key(|&(r, next, _)| (next, r))
            .map(|(r, _, day)| (r, Arc::clone(day)))?;
        let run = &mut self.runs[r];
        let collector = run.collector.take()?;
        Some(Task::Trade(r, run.next, day, collector))
    }

    /// True when no run will trade another day and no thread is at work.
    fn is_done(&self) -> bool {
        self.aborted
            || self
                .runs
                .iter()
                .all(|r| r.collector.is_some() && !self.wants_more(r))
    }

    /// Drops the days no run needs any more, keeping their vectors.
    fn retire(&mut self) {
        let oldest = self.oldest_needed().unwrap_or(usize::MAX);
        while self.ready.front().is_some_and(|(d, _)| *d < oldest) {
            let Some((_, day)) = self.ready.pop_front() else {
                break;
            };
            // The last holder (threads drop theirs before reporting back).
            if let Ok(day) = Arc::try_unwrap(day) {
                self.spare.push(day.into_buffer());
            }
        }
    }
}

/// Marks the board aborted if its thread unwinds, so the others stop waiting.
struct AbortOnPanic<'a, 'b, P>(&'a Shared<'b, P>);

impl<P> Drop for AbortOnPanic<'_, '_, P> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            self.0.lock().aborted = true;
            self.0.changed.notify_all();
        }
    }
}

impl<P> Shared<'_, P> {
    fn lock(&self) -> MutexGuard<'_, Board> {
        // A thread that panics does so while it works, outside the lock, so the board
        // is consistent even when the lock is poisoned.
        self.board.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

impl<P> Shared<'_, P>
where
    P: Fn(usize, usize, usize, &DayOutcome) + Sync,
{
    /// Takes work from the board until there is none left.
    fn work(&self) {
        let _guard = AbortOnPanic(self);
        loop {
            let task = {
                let mut board = self.lock();
                loop {
                    if board.is_done() {
                        return;
                    }
                    if let Some(task) = board.take() {
                        break task;
                    }
                    board = self
                        .changed
                        .wait(board)
                        .unwrap_or_else(PoisonError::into_inner);
                }
            };
            match task {
                Task::Generate(d, buffer) => {
                    let day = self.plan[d];
                    let config = day_config(&self.runs[0].1, day, Money::ZERO);
                    let generated = DayEvents::generate(&config, day, buffer);
                    let mut board = self.lock();
                    match generated {
                        Ok(events) => board.ready.push_back((d, Arc::new(events))),
                        Err(e) => {
                            if board.failed_day.as_ref().map_or(true, |(f, _)| d < *f) {
                                board.failed_day = Some((d, e));
                            }
                        }
                    }
                    board.ready.make_contiguous().sort_by_key(|(d, _)| *d);
                    board.retire();
                }
                Task::Trade(r, d, events, mut collector) => {
                    let failed = self.trade(r, d, &events, &mut collector).err();
                    drop(events);
                    let mut board = self.lock();
                    let run = &mut board.runs[r];
                    run.collector = Some(collector);
                    run.next += 1;
                    run.failed = failed;
                    board.retire();
                }
            }
            self.changed.notify_all();
        }
    }

    /// Run `r` trades day `d` (`events`) on `collector`'s account.
    fn trade(
        &self,
        r: usize,
        d: usize,
        events: &Arc<DayEvents>,
        collector: &mut DayCollector,
    ) -> Result<(), String> {
        let started = Instant::now();
        let day = events.day;
        let config = day_config(&self.runs[r].1, day, collector.capital());
        let outcome = collector.trade(&config, day, DayEvents::feed(events), started)?;
        (self.progress)(r, d, self.plan.len(), outcome);
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::backtest::{run_session, variants};

    fn short_config() -> EngineConfig {
        let mut config = EngineConfig::embedded_default();
        config.feed.duration = "30m".to_owned();
        config
    }

    /// Each run's session is the one it trades alone, on any number of threads.
    #[test]
    fn every_run_trades_exactly_its_own_session() {
        let config = short_config();
        let runs = variants(&config).unwrap();
        let alone: Vec<SessionOutcome> = runs
            .iter()
            .map(|(_, c)| run_session(c, 3, |_, _, _| {}).unwrap())
            .collect();
        assert!(
            alone.iter().any(|s| !s.book.trades.is_empty()),
            "some run must trade for the comparison to mean anything"
        );
        for jobs in [1, 2, 3, 7] {
            let calls = std::sync::atomic::AtomicUsize::new(0);
            let shared = run_shared_days(&runs, 3, jobs, |_, _, n, _| {
                assert_eq!(n, 3);
                calls.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
            })
            .unwrap();
            assert_eq!(calls.into_inner(), 3 * runs.len());
            assert_eq!(shared.len(), runs.len());
            for (i, (s, a)) in shared.iter().zip(&alone).enumerate() {
                let what = format!("run {i} on {jobs} thread(s)");
                assert_eq!(s.days.len(), a.days.len(), "{what}");
                for (sd, ad) in s.days.iter().zip(&a.days) {
                    assert_eq!(sd.day, ad.day, "{what}");
                    assert_eq!(sd.fills, ad.fills, "{what}");
                    assert_eq!(sd.start_equity, ad.start_equity, "{what}");
                    assert_eq!(sd.end_equity, ad.end_equity, "{what}");
                }
                assert_eq!(s.book, a.book, "{what}");
                assert_eq!(s.slippage, a.slippage, "{what}");
                assert_eq!(s.strategy_names, a.strategy_names, "{what}");
            }
        }
    }

    /// One session with the next day generated while a day is traded: the session
    /// of one thread, its days reported in order, and its errors unprefixed.
    #[test]
    fn overlapping_generation_with_trading_gives_the_serial_session() {
        let config = short_config();
        let serial = run_session(&config, 3, |_, _, _| {}).unwrap();
        assert!(!serial.book.trades.is_empty(), "the session must trade");
        for jobs in [1, 2, 4] {
            let seen = Mutex::new(Vec::new());
            let overlapped = run_session_on(&config, 3, jobs, |i, n, day| {
                seen.lock().unwrap().push((i, n, day.day));
            })
            .unwrap();
            let expected: Vec<_> = serial
                .days
                .iter()
                .enumerate()
                .map(|(i, d)| (i, 3, d.day))
                .collect();
            assert_eq!(seen.into_inner().unwrap(), expected, "{jobs} thread(s)");
            assert_eq!(overlapped.days.len(), serial.days.len());
            for (o, s) in overlapped.days.iter().zip(&serial.days) {
                assert_eq!(o.fills, s.fills, "{jobs} thread(s)");
                assert_eq!(o.start_equity, s.start_equity, "{jobs} thread(s)");
                assert_eq!(o.end_equity, s.end_equity, "{jobs} thread(s)");
            }
            assert_eq!(overlapped.book, serial.book, "{jobs} thread(s)");
            assert_eq!(overlapped.slippage, serial.slippage, "{jobs} thread(s)");
            assert_eq!(overlapped.strategy_names, serial.strategy_names);
            assert_eq!(overlapped.capital, serial.capital);
        }
        let mut bad = config.clone();
        bad.feed.synthetic.universe = Some("no-such-universe.csv".into());
        let direct = run_session(&bad, 2, |_, _, _| {}).unwrap_err();
        assert_eq!(
            run_session_on(&bad, 2, 2, |_, _, _| {}).unwrap_err(),
            direct
        );
    }

    #[test]
    fn runs_on_different_markets_are_refused() {
        let config = short_config();
        let mut other = config.clone();
        other.feed.synthetic.seed += 1;
        let runs = vec![("a".to_owned(), config), ("b".to_owned(), other)];
        let err = run_shared_days(&runs, 1, 2, |_, _, _, _| {}).unwrap_err();
        assert!(err.starts_with("b: ") && err.contains("[feed]"), "{err}");
        assert!(run_shared_days(&[], 1, 2, |_, _, _, _| {})
            .unwrap()
            .is_empty());
    }

    #[test]
    fn a_day_that_cannot_be_generated_fails_every_run_by_name() {
        let mut config = short_config();
        // The plan does not read the universe; the day's generator does.
        config.feed.synthetic.universe = Some("no-such-universe.csv".into());
        let runs = vec![("a".to_owned(), config.clone()), ("b".to_owned(), config)];
        let direct = run_session(&runs[0].1, 2, |_, _, _| {}).unwrap_err();
        for jobs in [1, 2] {
            let err = run_shared_days(&runs, 2, jobs, |_, _, _, _| {}).unwrap_err();
            assert_eq!(err, format!("a: {direct}"));
        }
    }
}
