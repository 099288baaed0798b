//! The feed stage: moves events from a [`MarketSource`] into the signal stage's ring.

use std::sync::{
    atomic::{AtomicBool, Ordering},
    Arc,
};

use super::{
    staleness::{StaleChange, StaleFeedFlag, StaleWatch},
    FeedError, MarketSource, SourcePoll,
};
use crate::{
    journal::{JournalTap, Record},
    metrics::Telemetry,
    model::{
        Alert, AlertLevel, ControlCommand, ControlReply, MarketEvent, ScheduledCommand, Stamp,
        TradingState, UnixNanos,
    },
    runtime::{
        ControlPort, LatencyClock, Outbox, Poll, ServiceTimer, Stage, StageError, StageReport,
        COMMANDS_PER_POLL,
    },
};

/// Most events one [`FeedStage::poll`] moves.
const BATCH: usize = 64;

/// Where a command released into the stream comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Origin {
    /// `[[control.schedule]]`.
    Schedule,
    /// A resumed day's journal.
    Replayed,
    /// The stale-feed watch ([`ControlCommand::FeedStale`]).
    Watch,
}

/// How fast the feed releases events.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pacing {
    /// As fast as the ring takes them (backtests, benchmarks).
    Max,
    /// `n` times real time: an event is released once the wall time since the first
    /// event reaches its market time since the first event, divided by `n`.
    Speed(f64),
}

/// Stage 1: reads a [`MarketSource`], stamps each event's ingress time and pushes it to
/// the signal stage through an [`Outbox`].
///
/// **Ingress.** An event the source left unstamped is stamped with
/// [`LatencyClock::stamp`] as it is pushed. A source may stamp events itself and the stage
/// keeps that stamp: a live socket source should stamp at read time (so time spent in the
/// source's buffers counts), and the latency harness's open-loop generator stamps each
/// event with its *intended* send time, so a stall anywhere shows in the latency instead
/// of delaying the measurement's start (coordinated omission).
///
/// Each [`poll`](Stage::poll) first flushes the outbox; while it is not clear the stage
/// reads nothing, so a full ring holds the source back instead of losing market data
/// (every source here is replayable, so nothing is ever dropped). Otherwise it moves up
/// to `BATCH` (64) events and stops early when the ring fills. With [`Pacing::Speed`] it
/// reads the clock once per poll and holds the first event that is not yet due.
///
/// The stage ends at the source's end, when the stop flag is set, when market time passes
/// `until`, or at a source error (which [`finish`](Stage::finish) reports with its byte
/// offset), and reports [`Poll::Done`] once everything taken from the source is in the
/// ring.
///
/// **Schedule.** Operator commands scheduled at market times (`[[control.schedule]]`)
/// are released into the stream as [`MarketEvent::Control`] just before the first event
/// at or after their time, so they fall between the same two events on every layout and
/// in every replay. Commands later than the last event are never released (counted as
/// `schedule_unreached`).
///
/// **Stale feed.** With a threshold ([`FeedStage::with_stale_alert`]), a source stale
/// that long gets a `stale_feed` alert and, in the stream before the next event of a
/// later market time, [`ControlCommand::FeedStale`]`(true)`; data flowing again gets
/// `feed_recovered` and `FeedStale(false)` the same way. The risk stage refuses entries
/// in between, at the same place in the stream on every layout, and journals both, so a
/// resumed day releases them again where they were (as replayed commands) instead of
/// asking the wall clock.
///
/// **Control.** Every poll first answers waiting commands: `Status` (market time, ticks,
/// whether the source has ended), `Latency`, `Counters`.
///
/// Report counters: `events`, `ticks`, `news`, `ring_full` (pushes that found the ring
/// full), `scheduled`, `schedule_unreached`; `service` holds the time of each
/// `poll_event` call that produced an event.
pub struct FeedStage {
    source: Box<dyn MarketSource>,
    out: Outbox<MarketEvent>,
    clock: LatencyClock,
    telemetry: Arc<Telemetry>,
    pacing: Pacing,
    stop: Arc<AtomicBool>,
    until: Option<UnixNanos>,
    /// An event read but not yet due (pacing).
    held: Option<MarketEvent>,
    /// Market time and wall stamp of the first event, for pacing.
    origin: Option<(u64, Stamp)>,
    finished: bool,
    error: Option<FeedError>,
    service: ServiceTimer,
    events: u64,
    ticks: u64,
    news: u64,
    market_time: u64,
    schedule: Vec<ScheduledCommand>,
    next_scheduled: usize,
    /// True once the schedule's times of day are dated by the first event.
    schedule_dated: bool,
    /// Operator commands a resumed day re-applies, dated, in time order: each goes out
    /// after the events at its market time, where the stage that applied it was.
    replayed: Vec<ScheduledCommand>,
    next_replayed: usize,
    /// While resuming a day, events up to this market time are released unpaced: the
    /// engine catches up with what it did before the restart as fast as it can.
    catch_up_until: u64,
    control: ControlPort,
    /// Every tick passed on goes to the journal too (`journal.ticks`; off by default).
    journal: JournalTap,
    /// The stale-feed watch (`feed.stale_alert_secs`).
    stale: StaleWatch,
    /// Raised with `stale_feed`, lowered with `feed_recovered`, for `status`.
    stale_flag: Option<Arc<StaleFeedFlag>>,
    /// What the watch says now: stale from `stale_feed` to `feed_recovered`.
    stale_now: bool,
    /// What the last [`ControlCommand::FeedStale`] put into the stream said (a replayed
    /// one included).
    stale_in_stream: bool,
    /// `stale_now` may differ from `stale_in_stream`: checked before each event until
    /// the stream says what the watch says.
    stale_unsynced: bool,
}

impl FeedStage {
    /// A stage reading `source` into `out`.
    ///
    /// `stop` ends the stage at the next poll; `until` ends it before the first event
    /// whose market time is later.
    ///
    /// # Panics
    /// If `pacing` is [`Pacing::Speed`] with a speed that is not finite and positive.
    pub fn new(
        source: Box<dyn MarketSource>,
        out: Outbox<MarketEvent>,
        clock: LatencyClock,
        telemetry: Arc<Telemetry>,
        pacing: Pacing,
        stop: Arc<AtomicBool>,
        until: Option<UnixNanos>,
    ) -> FeedStage {
        if let Pacing::Speed(speed) = pacing {
            assert!(
                speed.is_finite() && speed > 0.0,
                "pacing speed must be finite and positive, got {speed}"
            );
        }
        let service = ServiceTimer::for_clock(&clock);
        FeedStage {
            source,
            out,
            clock,
            telemetry,
            pacing,
            stop,
            until,
            held: None,
            origin: None,
            finished: false,
            error: None,
            service,
            events: 0,
            ticks: 0,
            news: 0,
            market_time: 0,
            schedule: Vec::new(),
            next_scheduled: 0,
            schedule_dated: false,
            replayed: Vec::new(),
            next_replayed: 0,
            catch_up_until: 0,
            control: ControlPort::detached(),
            journal: JournalTap::off(),
            stale: StaleWatch::default(),
            stale_flag: None,
            stale_now: false,
            stale_in_stream: false,
            stale_unsynced: false,
        }
    }

    /// The same stage alerting (`stale_feed`, critical) when the source stays stale
    /// for `after`, and again (`feed_recovered`, info) when data flows after that;
    /// `None` watches nothing.
    pub fn with_stale_alert(mut self, after: Option<std::time::Duration>) -> FeedStage {
        self.stale = StaleWatch::new(after);
        self
    }

    /// The same stage raising `flag` while the source is stale past the threshold of
    /// [`FeedStage::with_stale_alert`] (from the `stale_feed` alert to
    /// `feed_recovered`), for the control plane's `status`. Without a threshold the
    /// flag never moves. The risk stage does not read it: it learns the same change from
    /// the stream, as [`ControlCommand::FeedStale`].
    pub fn with_stale_flag(mut self, flag: Arc<StaleFeedFlag>) -> FeedStage {
        self.stale_flag = Some(flag);
        self
    }

    /// Says a change of the stale-feed watch as an alert and moves the stale flag; the
    /// change goes into the stream before the next event of a later market time (see
    /// [`FeedStage::stale_command`]). Cold: twice per stale spell.
    #[cold]
    fn on_stale_change(&mut self, change: StaleChange) {
        self.stale_now = change == StaleChange::Stale;
        self.stale_unsynced = true;
        if let Some(flag) = &self.stale_flag {
            flag.set(self.stale_now);
        }
        let (kind, level, detail) = match change {
            StaleChange::Stale => (
                "stale_feed",
                AlertLevel::Critical,
                "the source has been stale for feed.stale_alert_secs; strategies see no \
                 new prices and new entries are refused until it recovers",
            ),
            StaleChange::Recovered => ("feed_recovered", AlertLevel::Info, "the source is fresh"),
        };
        self.control.alert(Alert {
            exchange_ts: UnixNanos(self.market_time),
            kind,
            instrument: None,
            level,
            state: TradingState::Active,
            detail,
        });
    }

    /// The [`ControlCommand::FeedStale`] to release before an event at `ts`, when the
    /// watch says otherwise than the stream. Cold: only while they may differ.
    ///
    /// It goes out stamped with the market time of the events before it, and only
    /// before an event of a later time: after every event at its time, where a resumed
    /// day's replay puts it back (see [`FeedStage::resuming`]), so the journaled day
    /// and the resumed one refuse the same entries. Risk decides nothing between
    /// events, so learning of the change at the next one costs nothing. Nothing goes
    /// out before the first event (no market time to stamp it with) or while a resumed
    /// day catches up: the stream then says what the journal said (the replayed
    /// `FeedStale`s), and the watch has its say once the stream is past the catch-up.
    #[cold]
    fn stale_command(&mut self, ts: UnixNanos) -> Option<ScheduledCommand> {
        if ts.0 <= self.market_time || self.market_time <= self.catch_up_until {
            return None;
        }
        self.stale_unsynced = false;
        if self.stale_now == self.stale_in_stream {
            return None;
        }
        self.stale_in_stream = self.stale_now;
        Some(ScheduledCommand {
            exchange_ts: UnixNanos(self.market_time),
            ingress: Stamp::default(),
            command: ControlCommand::FeedStale(self.stale_now),
        })
    }

    /// The same stage releasing `schedule` into the stream (sorted here by market time;
    /// commands at the same time keep their order).
    ///
    /// Each command's `exchange_ts` holds only its IST time of day (nanoseconds after
    /// midnight): the session's date comes from its first event, so a schedule serves a
    /// synthetic day and a replayed one alike.
    pub fn with_schedule(mut self, mut schedule: Vec<ScheduledCommand>) -> FeedStage {
        schedule.sort_by_key(|s| s.exchange_ts);
        self.schedule = schedule;
        self
    }

    /// The same stage resuming a day: events up to `catch_up_until` go out unpaced, and
    /// `replayed` (the operator commands the journal recorded, dated, sorted here) go
    /// out each right after the events at its market time, as a schedule's do, so
    /// every stage applies them where it applied them before.
    pub fn resuming(
        mut self,
        catch_up_until: UnixNanos,
        mut replayed: Vec<ScheduledCommand>,
    ) -> FeedStage {
        replayed.sort_by_key(|s| s.exchange_ts);
        // Once the replay is out, the stream says what the journal last said about the
        // feed; from there the watch takes over (see `stale_command`).
        if let Some(stale) = replayed.iter().rev().find_map(|s| match s.command {
            ControlCommand::FeedStale(stale) => Some(stale),
            _ => None,
        }) {
            self.stale_in_stream = stale;
            self.stale_unsynced = true;
        }
        self.replayed = replayed;
        self.catch_up_until = catch_up_until.0;
        self
    }

    /// True while the source cannot vouch that its data is current (a live feed
    /// reconnecting or silent; see [`MarketSource::is_stale`]).
    pub fn source_is_stale(&self) -> bool {
        self.source.is_stale()
    }

    /// The same stage answering the control plane through `port`.
    pub fn with_control(mut self, port: ControlPort) -> FeedStage {
        self.control = port;
        self
    }

    /// The same stage journaling every tick it passes on through `journal`.
    pub fn with_journal(mut self, journal: JournalTap) -> FeedStage {
        self.journal = journal;
        self
    }

    fn on_command(&mut self, command: ControlCommand) {
        match command {
            ControlCommand::Status => {
                self.control.reply(ControlReply::Feed {
                    market_time: UnixNanos(self.market_time),
                    ticks: self.ticks,
                    finished: self.finished,
                });
                self.control.reply(ControlReply::Done);
            }
            other => {
                let counters = self.counters();
                let service = self.service.histogram();
                self.control
                    .reply_common(other, &[("service", service)], &counters);
            }
        }
    }

    fn counters(&self) -> [(&'static str, u64); 9] {
        let [journaled, journal_failures] = self.journal.counters();
        [
            ("events", self.events),
            ("ticks", self.ticks),
            ("news", self.news),
            ("ring_full", self.out.stalls()),
            ("scheduled", self.next_scheduled as u64),
            (
                "schedule_unreached",
                (self.schedule.len() - self.next_scheduled) as u64,
            ),
            ("replayed", self.next_replayed as u64),
            journaled,
            journal_failures,
        ]
    }

    /// Dates the schedule by the IST day of the first event (once; no allocation).
    fn date_schedule(&mut self, first: UnixNanos) {
        self.schedule_dated = true;
        let day = first.ist_date();
        let midnight = UnixNanos::from_ist(day, crate::model::TimeOfDay::hm(0, 0));
        for s in &mut self.schedule {
            s.exchange_ts = midnight.add_nanos(s.exchange_ts.0);
        }
    }

    /// The next command due before an event at `ts`, and where it comes from.
    #[inline]
    fn scheduled_before(&mut self, ts: UnixNanos) -> Option<(ScheduledCommand, Origin)> {
        if !self.schedule_dated {
            self.date_schedule(ts);
        }
        if self.stale_unsynced {
            if let Some(command) = self.stale_command(ts) {
                return Some((command, Origin::Watch));
            }
        }
        let scheduled = self
            .schedule
            .get(self.next_scheduled)
            .filter(|s| s.exchange_ts <= ts);
        // A replayed command follows the events at its own time (the stage applied it
        // after them), so it waits for a later one.
        let replayed = self
            .replayed
            .get(self.next_replayed)
            .filter(|s| s.exchange_ts < ts);
        match (scheduled, replayed) {
            (Some(s), Some(r)) if r.exchange_ts < s.exchange_ts => Some((*r, Origin::Replayed)),
            (Some(s), _) => Some((*s, Origin::Schedule)),
            (None, r) => r.map(|r| (*r, Origin::Replayed)),
        }
    }

    /// Reads the next event from the source, timing the call; `None` when there is none
    /// now (and marks the stage finished at the end or on an error).
    #[inline]
    fn pull(&mut self) -> Option<MarketEvent> {
        let before = self.service.start(&self.clock);
        match self.source.poll_event() {
            Ok(SourcePoll::Event(event)) => {
                self.service.stop(&self.clock, before);
                Some(event)
            }
            Ok(SourcePoll::Pending) => None,
            Ok(SourcePoll::End) => {
                self.finished = true;
                None
            }
            Err(e) => {
                self.error = Some(e);
                self.finished = true;
                None
            }
        }
    }

    /// True when `event` may be released at wall stamp `now` under `speed`.
    #[inline]
    fn is_due(&mut self, event: &MarketEvent, speed: f64, now: Stamp) -> bool {
        let ts = event.exchange_ts().0;
        if ts <= self.catch_up_until {
            return true;
        }
        let (first_ts, first_wall) = *self.origin.get_or_insert((ts, now));
        let due_after = (ts.saturating_sub(first_ts) as f64 / speed) as u64;
        self.clock.nanos_between(first_wall, now) >= due_after
    }

    fn publish(&self) {
        self.telemetry.feed.ticks.set(self.ticks);
        self.telemetry.feed.market_time.set(self.market_time);
    }
}

impl std::fmt::Debug for FeedStage {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("FeedStage")
            .field("pacing", &self.pacing)
            .field("until", &self.until)
            .field("finished", &self.finished)
            .field("events", &self.events)
            .field("error", &self.error)
            .finish_non_exhaustive()
    }
}

impl Stage for FeedStage {
    fn name(&self) -> &'static str {
        "feed"
    }

    fn poll(&mut self) -> Poll {
        for _ in 0..COMMANDS_PER_POLL {
            let Some(command) = self.control.take_command() else {
                break;
            };
            self.on_command(command);
        }
        if !self.out.flush() {
            if self.out.is_abandoned() {
                // The signal stage is gone: nothing pushed can be read.
                self.finished = true;
                return Poll::Done;
            }
            return Poll::Idle;
        }
        if self.finished {
            return Poll::Done;
        }
        // Relaxed: the flag carries no data; seeing it one poll late is harmless.
        if self.stop.load(Ordering::Relaxed) {
            self.finished = true;
            return Poll::Done;
        }
        let now = match self.pacing {
            Pacing::Speed(_) => self.clock.stamp(),
            Pacing::Max => Stamp::default(),
        };
        let mut moved = 0;
        while moved < BATCH {
            let event = match self.held.take() {
                Some(e) => e,
                None => match self.pull() {
                    Some(e) => e,
                    None => break,
                },
            };
            let ts = event.exchange_ts();
            if self.until.is_some_and(|until| ts > until) {
                self.finished = true;
                break;
            }
            if let Some((scheduled, origin)) = self.scheduled_before(ts) {
                // The command goes first; the event waits for the next turn.
                self.held = Some(event);
                let mut command = MarketEvent::Control(scheduled);
                if let Pacing::Speed(speed) = self.pacing {
                    // The watch's command is stamped with a market time already
                    // released: due, and taken from the watch already.
                    if origin != Origin::Watch && !self.is_due(&command, speed, now) {
                        break;
                    }
                }
                match origin {
                    Origin::Schedule => self.next_scheduled += 1,
                    Origin::Replayed => self.next_replayed += 1,
                    Origin::Watch => {}
                }
                command.set_ingress(self.clock.stamp());
                self.out.push(command);
                moved += 1;
                self.events += 1;
                if !self.out.is_clear() {
                    break;
                }
                continue;
            }
            if let Pacing::Speed(speed) = self.pacing {
                if !self.is_due(&event, speed, now) {
                    self.held = Some(event);
                    break;
                }
            }
            let mut event = event;
            if event.ingress() == Stamp::default() {
                event.set_ingress(self.clock.stamp());
            }
            self.out.push(event);
            moved += 1;
            self.events += 1;
            match event {
                MarketEvent::Tick(t) => {
                    self.ticks += 1;
                    self.journal.record(t.exchange_ts, &Record::Tick(t));
                }
                MarketEvent::News(_) => self.news += 1,
                MarketEvent::Control(_) => {}
            }
            self.market_time = ts.0;
            if !self.out.is_clear() {
                break;
            }
        }
        if self.finished && self.out.is_clear() {
            // Commands replayed after the last event were applied after it: send them
            // now, before the stage ends.
            while let Some(&replayed) = self.replayed.get(self.next_replayed) {
                self.next_replayed += 1;
                let mut command = MarketEvent::Control(replayed);
                command.set_ingress(self.clock.stamp());
                // A handful at most: the outbox's stash holds them if the ring is full.
                self.out.push(command);
                moved += 1;
            }
        }
        if moved > 0 {
            self.publish();
            let source = &self.source;
            if let Some(change) = self
                .stale
                .moved(|| source.is_stale(), std::time::Instant::now)
            {
                self.on_stale_change(change);
            }
        } else if let Some(change) = self
            .stale
            .idle(self.source.is_stale(), std::time::Instant::now)
        {
            self.on_stale_change(change);
        }
        if self.finished && self.out.is_clear() {
            Poll::Done
        } else if moved > 0 {
            Poll::Work(moved)
        } else {
            Poll::Idle
        }
    }

    fn finish(self: Box<Self>) -> StageReport {
        self.publish();
        let mut report = StageReport::new("feed");
        report.counters = self.counters().to_vec();
        report.error = self.error.map(|e| {
            StageError::fatal("feed", "the market data source failed").with_detail(e.to_string())
        });
        report.service = self.service.into_histogram();
        report
    }
}

#[cfg(test)]
mod tests {
    use std::collections::VecDeque;

    use tickpipe_ringbuf::{channel, Consumer};

    use super::*;
    use crate::model::{InstrumentId, News, Price, Tick, TickKind};

    /// A scripted source: events, `Pending`s and a final error or end.
    struct Script {
        items: VecDeque<Result<SourcePoll, FeedError>>,
        reads: Arc<std::sync::atomic::AtomicUsize>,
    }

    impl MarketSource for Script {
        fn poll_event(&mut self) -> Result<SourcePoll, FeedError> {
            self.reads.fetch_add(1, Ordering::Relaxed);
            self.items.pop_front().unwrap_or(Ok(SourcePoll::End))
        }
    }

    fn tick(secs: u64, id: u32) -> MarketEvent {
        MarketEvent::Tick(Tick {
            exchange_ts: UnixNanos(1_700_000_000_000_000_000 + secs * 1_000_000_000),
            ingress: Stamp::default(),
            last: Price::from_paise(10_000 + secs as i64),
            bid: Price::from_paise(9_995),
            ask: Price::from_paise(10_005),
            instrument: InstrumentId(id),
            volume: secs as u32,
            last_qty: 1,
            bid_qty: 1,
            ask_qty: 1,
            kind: TickKind::Trade,
        })
    }

    fn news(secs: u64) -> MarketEvent {
        MarketEvent::News(News {
            exchange_ts: UnixNanos(1_700_000_000_000_000_000 + secs * 1_000_000_000),
            ingress: Stamp::default(),
            instrument: InstrumentId(0),
            sentiment_milli: 500,
        })
    }

    struct Rig {
        stage: Box<FeedStage>,
        rx: Consumer<MarketEvent>,
        reads: Arc<std::sync::atomic::AtomicUsize>,
        stop: Arc<AtomicBool>,
        telemetry: Arc<Telemetry>,
    }

    fn rig(
        items: Vec<Result<SourcePoll, FeedError>>,
        ring: usize,
        pacing: Pacing,
        until: Option<UnixNanos>,
    ) -> Rig {
        let reads = Arc::new(std::sync::atomic::AtomicUsize::new(0));
        let source = Script {
            items: items.into(),
            reads: reads.clone(),
        };
        let (tx, rx) = channel(ring);
        let stop = Arc::new(AtomicBool::new(false));
        let telemetry = Arc::new(Telemetry::default());
        let stage = Box::new(FeedStage::new(
            Box::new(source),
            Outbox::new(tx),
            LatencyClock::new(),
            telemetry.clone(),
            pacing,
            stop.clone(),
            until,
        ));
        Rig {
            stage,
            rx,
            reads,
            stop,
            telemetry,
        }
    }

    fn drain(rx: &mut Consumer<MarketEvent>, into: &mut Vec<MarketEvent>) {
        while let Ok(e) = rx.try_pop() {
            into.push(e);
        }
    }

    fn without_ingress(mut e: MarketEvent) -> MarketEvent {
        e.set_ingress(Stamp::default());
        e
    }

    #[test]
    fn moves_every_event_in_order_then_finishes() {
        let script: Vec<MarketEvent> = (0..100)
            .map(|i| {
                if i % 10 == 3 {
                    news(i)
                } else {
                    tick(i, i as u32)
                }
            })
            .collect();
        let mut r = rig(
            script.iter().map(|e| Ok(SourcePoll::Event(*e))).collect(),
            256,
            Pacing::Max,
            None,
        );
        assert_eq!(r.stage.name(), "feed");
        assert_eq!(r.stage.poll(), Poll::Work(BATCH));
        assert_eq!(r.telemetry.feed.ticks.get(), 57);
        assert_eq!(r.stage.poll(), Poll::Done);
        let mut got = Vec::new();
        drain(&mut r.rx, &mut got);
        assert_eq!(got.len(), 100);
        for (g, s) in got.iter().zip(&script) {
            let stamped = g.ingress();
            assert_ne!(stamped, Stamp::default());
            assert_eq!(without_ingress(*g), *s);
        }
        assert_eq!(r.telemetry.market_time(), script[99].exchange_ts());
        let report = r.stage.finish();
        assert_eq!(report.counter("events"), 100);
        assert_eq!(report.counter("news"), 10);
        assert_eq!(report.counter("ticks"), 90);
        assert_eq!(report.counter("ring_full"), 0);
        // The first event of every 16 is timed.
        assert_eq!(report.service.len(), 100_u64.div_ceil(16));
        assert!(report.error.is_none());
    }

    #[test]
    fn a_stamp_the_source_set_is_kept() {
        let mut stamped = tick(0, 0);
        stamped.set_ingress(Stamp(12_345));
        let mut r = rig(
            vec![
                Ok(SourcePoll::Event(stamped)),
                Ok(SourcePoll::Event(tick(1, 0))),
            ],
            16,
            Pacing::Max,
            None,
        );
        assert_eq!(r.stage.poll(), Poll::Done);
        let mut got = Vec::new();
        drain(&mut r.rx, &mut got);
        assert_eq!(got[0], stamped);
        assert_ne!(got[1].ingress(), Stamp::default());
    }

    #[test]
    fn a_full_ring_holds_the_source_back_without_losing_events() {
        let script: Vec<MarketEvent> = (0..40).map(|i| tick(i, 1)).collect();
        let mut r = rig(
            script.iter().map(|e| Ok(SourcePoll::Event(*e))).collect(),
            4,
            Pacing::Max,
            None,
        );
        // 4 fit, the 5th is stashed and ends the batch.
        assert_eq!(r.stage.poll(), Poll::Work(5));
        let reads = r.reads.load(Ordering::Relaxed);
        // Outbox not clear: the source is not read.
        assert_eq!(r.stage.poll(), Poll::Idle);
        assert_eq!(r.reads.load(Ordering::Relaxed), reads);
        let mut got = Vec::new();
        let mut rounds = 0;
        loop {
            drain(&mut r.rx, &mut got);
            match r.stage.poll() {
                Poll::Done => break,
                _ => rounds += 1,
            }
            assert!(rounds < 1000);
        }
        drain(&mut r.rx, &mut got);
        let got: Vec<MarketEvent> = got.into_iter().map(without_ingress).collect();
        assert_eq!(got, script);
        let report = r.stage.finish();
        assert!(report.counter("ring_full") >= 9, "{report:?}");
        assert_eq!(report.counter("events"), 40);
    }

    #[test]
    fn done_waits_for_the_outbox_to_clear() {
        let mut r = rig(
            (0..6).map(|i| Ok(SourcePoll::Event(tick(i, 0)))).collect(),
            4,
            Pacing::Max,
            None,
        );
        assert_eq!(r.stage.poll(), Poll::Work(5));
        assert_eq!(r.stage.poll(), Poll::Idle);
        let mut got = Vec::new();
        drain(&mut r.rx, &mut got);
        // The stashed 5th goes out, the 6th follows, then the end is seen.
        assert_eq!(r.stage.poll(), Poll::Done);
        drain(&mut r.rx, &mut got);
        assert_eq!(got.len(), 6);
    }

    #[test]
    fn pending_is_idle_and_not_the_end() {
        let mut r = rig(
            vec![
                Ok(SourcePoll::Pending),
                Ok(SourcePoll::Event(tick(0, 0))),
                Ok(SourcePoll::Pending),
                Ok(SourcePoll::Event(tick(1, 0))),
            ],
            16,
            Pacing::Max,
            None,
        );
        assert_eq!(r.stage.poll(), Poll::Idle);
        assert_eq!(r.stage.poll(), Poll::Work(1));
        // The second event, then the end: finished in the same poll, output in the ring.
        assert_eq!(r.stage.poll(), Poll::Done);
        let mut got = Vec::new();
        drain(&mut r.rx, &mut got);
        assert_eq!(got.len(), 2);
    }

    #[test]
    fn until_stops_before_later_events() {
        let until = tick(5, 0).exchange_ts();
        let mut r = rig(
            (0..20).map(|i| Ok(SourcePoll::Event(tick(i, 0)))).collect(),
            64,
            Pacing::Max,
            Some(until),
        );
        assert_eq!(r.stage.poll(), Poll::Done);
        let mut got = Vec::new();
        drain(&mut r.rx, &mut got);
        assert_eq!(got.len(), 6);
        assert!(got.iter().all(|e| e.exchange_ts() <= until));
    }

    #[test]
    fn stop_flag_ends_the_stage() {
        let mut r = rig(
            (0..200)
                .map(|i| Ok(SourcePoll::Event(tick(i, 0))))
                .collect(),
            256,
            Pacing::Max,
            None,
        );
        assert_eq!(r.stage.poll(), Poll::Work(BATCH));
        r.stop.store(true, Ordering::Relaxed);
        let reads = r.reads.load(Ordering::Relaxed);
        assert_eq!(r.stage.poll(), Poll::Done);
        assert_eq!(r.reads.load(Ordering::Relaxed), reads);
        assert_eq!(r.stage.finish().counter("events"), BATCH as u64);
    }

    #[test]
    fn a_source_error_stops_the_stage_and_is_reported() {
        let mut r = rig(
            vec![
                Ok(SourcePoll::Event(tick(0, 0))),
                Err(FeedError::CrcMismatch {
                    offset: 4_160,
                    stored: 1,
                    computed: 2,
                }),
                Ok(SourcePoll::Event(tick(1, 0))),
            ],
            16,
            Pacing::Max,
            None,
        );
        assert_eq!(r.stage.poll(), Poll::Done);
        let report = r.stage.finish();
        assert_eq!(report.counter("events"), 1);
        let error = report.error.unwrap().to_string();
        assert!(error.contains("byte offset 4160"), "{error}");
    }

    #[test]
    fn speed_pacing_releases_events_by_market_time() {
        // Events 1 s apart at 1000× are due 1 ms apart; within the first poll the clock
        // is read once, so only the events at the first market time go out.
        let script = [tick(0, 0), tick(0, 1), tick(1, 0), tick(2, 0)];
        let mut r = rig(
            script.iter().map(|e| Ok(SourcePoll::Event(*e))).collect(),
            16,
            Pacing::Speed(1000.0),
            None,
        );
        assert_eq!(r.stage.poll(), Poll::Work(2));
        let mut got = Vec::new();
        drain(&mut r.rx, &mut got);
        assert_eq!(got.len(), 2);
        let mut polls = 0;
        while r.stage.poll() != Poll::Done {
            polls += 1;
            assert!(polls < 10_000_000, "pacing never released the events");
            std::thread::yield_now();
        }
        drain(&mut r.rx, &mut got);
        assert_eq!(got.len(), 4);
        // The last event is due 2 ms of wall time after the first poll read the clock,
        // which was just before the first event's ingress stamp.
        let ingress = |e: &MarketEvent| e.ingress();
        let waited = LatencyClock::new().nanos_between(ingress(&got[0]), ingress(&got[3]));
        assert!(waited >= 1_900_000, "released after {waited} ns");
    }

    /// A source that holds its events back while its shared flag says stale.
    struct Flaky {
        stale: Arc<AtomicBool>,
        items: VecDeque<MarketEvent>,
    }

    impl MarketSource for Flaky {
        fn poll_event(&mut self) -> Result<SourcePoll, FeedError> {
            if self.stale.load(Ordering::Relaxed) {
                return Ok(SourcePoll::Pending);
            }
            Ok(self
                .items
                .pop_front()
                .map_or(SourcePoll::Pending, SourcePoll::Event))
        }

        fn is_stale(&self) -> bool {
            self.stale.load(Ordering::Relaxed)
        }
    }

    #[test]
    fn a_feed_stale_past_the_threshold_alerts_once_and_again_when_it_flows() {
        use crate::control::{Incoming, StageId, StageLink};
        let stale = Arc::new(AtomicBool::new(true));
        let source = Flaky {
            stale: stale.clone(),
            items: [tick(1, 0), tick(2, 0)].into(),
        };
        let (tx, _rx) = channel(64);
        let (port, mut link) = StageLink::pair(StageId::Feed, 16);
        let stage = FeedStage::new(
            Box::new(source),
            Outbox::new(tx),
            LatencyClock::new(),
            Arc::new(Telemetry::default()),
            Pacing::Max,
            Arc::new(AtomicBool::new(false)),
            None,
        )
        .with_control(port)
        .with_stale_alert(Some(std::time::Duration::ZERO));
        let flag = Arc::new(StaleFeedFlag::default());
        let mut stage = stage.with_stale_flag(flag.clone());
        let mut alerts = |stage: &mut FeedStage| {
            for _ in 0..3 {
                stage.poll();
            }
            std::iter::from_fn(|| link.poll())
                .map(|i| match i {
                    Incoming::Unasked(ControlReply::Alert(a)) => (a.kind, a.level),
                    other => panic!("unexpected {other:?}"),
                })
                .collect::<Vec<_>>()
        };
        assert_eq!(
            alerts(&mut stage),
            [("stale_feed", AlertLevel::Critical)],
            "one alert for the spell, however many idle polls"
        );
        assert!(flag.is_stale(), "the flag goes up with the alert");
        stale.store(false, Ordering::Relaxed);
        assert_eq!(alerts(&mut stage), [("feed_recovered", AlertLevel::Info)]);
        assert!(!flag.is_stale(), "and down with the recovery");

        // Off: a stale source says nothing.
        let quiet = Flaky {
            stale: Arc::new(AtomicBool::new(true)),
            items: VecDeque::new(),
        };
        let (tx, _rx) = channel(64);
        let (port, mut link) = StageLink::pair(StageId::Feed, 16);
        let mut stage = FeedStage::new(
            Box::new(quiet),
            Outbox::new(tx),
            LatencyClock::new(),
            Arc::new(Telemetry::default()),
            Pacing::Max,
            Arc::new(AtomicBool::new(false)),
            None,
        )
        .with_control(port);
        stage.poll();
        assert!(link.poll().is_none());
    }

    /// One step of a [`Steps`] source.
    enum Step {
        Event(MarketEvent),
        /// Says `Pending` once, stale (`true`) or fresh from here on.
        Stale(bool),
    }

    /// A scripted live-like source whose staleness changes at given points; `Pending`
    /// once the script is done.
    struct Steps {
        items: VecDeque<Step>,
        stale: bool,
    }

    impl MarketSource for Steps {
        fn poll_event(&mut self) -> Result<SourcePoll, FeedError> {
            match self.items.pop_front() {
                Some(Step::Event(e)) => Ok(SourcePoll::Event(e)),
                Some(Step::Stale(stale)) => {
                    self.stale = stale;
                    Ok(SourcePoll::Pending)
                }
                None => Ok(SourcePoll::Pending),
            }
        }

        fn is_stale(&self) -> bool {
            self.stale
        }
    }

    /// A stage on `steps` alerting at once when stale, and its ring.
    fn watching(steps: Vec<Step>) -> (FeedStage, Consumer<MarketEvent>) {
        let (tx, rx) = channel(64);
        let stage = FeedStage::new(
            Box::new(Steps {
                items: steps.into(),
                stale: false,
            }),
            Outbox::new(tx),
            LatencyClock::new(),
            Arc::new(Telemetry::default()),
            Pacing::Max,
            Arc::new(AtomicBool::new(false)),
            None,
        )
        .with_stale_alert(Some(std::time::Duration::ZERO));
        (stage, rx)
    }

    fn feed_stale(secs: u64, stale: bool) -> MarketEvent {
        MarketEvent::Control(ScheduledCommand {
            exchange_ts: tick(secs, 0).exchange_ts(),
            ingress: Stamp::default(),
            command: ControlCommand::FeedStale(stale),
        })
    }

    /// Polls `stage` `n` times and returns what it released, unstamped.
    fn released(
        stage: &mut FeedStage,
        rx: &mut Consumer<MarketEvent>,
        n: usize,
    ) -> Vec<MarketEvent> {
        let mut got = Vec::new();
        for _ in 0..n {
            stage.poll();
            drain(rx, &mut got);
        }
        got.into_iter().map(without_ingress).collect()
    }

    #[test]
    fn a_stale_spell_goes_into_the_stream_after_the_events_of_its_market_time() {
        let (mut stage, mut rx) = watching(vec![
            Step::Event(tick(0, 0)),
            Step::Event(tick(0, 1)),
            Step::Stale(true),
            // An idle poll: stale for the (zero) threshold.
            Step::Stale(true),
            // Late news of the same second, then a backlog while still stale.
            Step::Event(news(0)),
            Step::Event(tick(1, 0)),
            Step::Stale(false),
            Step::Event(tick(1, 1)),
            Step::Event(tick(2, 0)),
        ]);
        let flag = Arc::new(StaleFeedFlag::default());
        stage = stage.with_stale_flag(flag.clone());
        let got = released(&mut stage, &mut rx, 2);
        assert_eq!(got, [tick(0, 0), tick(0, 1)]);
        assert!(flag.is_stale(), "status sees the spell at once");
        let got = released(&mut stage, &mut rx, 3);
        assert_eq!(
            got,
            [
                news(0),
                // After every event of its second, before the first of a later one.
                feed_stale(0, true),
                tick(1, 0),
                tick(1, 1),
                feed_stale(1, false),
                tick(2, 0),
            ]
        );
        assert!(!flag.is_stale());
        assert_eq!(Box::new(stage).finish().counter("events"), 8);
    }

    #[test]
    fn a_resumed_day_replays_the_journaled_spell_and_the_watch_has_its_say_after_it() {
        let (stage, mut rx) = watching(vec![
            // Stale, then fresh again, while catching up: the stream follows the
            // journal, not the watch.
            Step::Stale(true),
            Step::Event(tick(0, 0)),
            Step::Event(tick(0, 1)),
            Step::Stale(false),
            Step::Event(tick(1, 0)),
            Step::Event(tick(2, 0)),
            Step::Event(tick(3, 0)),
        ]);
        // The journal ended inside a spell that began after the events at second 0.
        let mut stage = stage.resuming(
            tick(1, 0).exchange_ts(),
            vec![match feed_stale(0, true) {
                MarketEvent::Control(c) => c,
                _ => unreachable!(),
            }],
        );
        let got = released(&mut stage, &mut rx, 8);
        assert_eq!(
            got,
            [
                tick(0, 0),
                tick(0, 1),
                feed_stale(0, true),
                tick(1, 0),
                // Past the catch-up the watch says fresh: the spell ends before the
                // next later event.
                tick(2, 0),
                feed_stale(2, false),
                tick(3, 0),
            ]
        );
    }
}
