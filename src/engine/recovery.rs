//! Resuming a trading day after the engine stopped mid-day.
//!
//! **How the day is rebuilt.** Every stage is deterministic in market time, so the
//! engine rebuilds the day the way an event-sourced system does: it replays the day's
//! input from the session's start through the same stages, and the journal tells it what
//! it already did.
//!
//! - The market data comes again from the source (the synthetic day, or the replay
//!   file; a live feed resumes from a tick journal, see `[journal] ticks`). Up to the
//!   journal's last market time it is released unpaced, so catching up takes as long as
//!   the engine needs to compute it, not the market time it covers.
//! - Commands are inputs too: every pause, resume, news item, close, flatten, state and
//!   limit change the journal recorded (less those the configured schedule gives
//!   again), and every change of the stale-feed flag the feed stage put into the stream,
//!   goes back into the stream right after the events at its market time, where the
//!   stage applied it before.
//! - Each stage's journal tap holds the records the stage journaled before. As the stage
//!   makes them again they are checked field by field and not written twice
//!   ([`JournalTap::resume`]); the first record that differs stops the day with the
//!   record named. Positions, open orders, realised P&L, cooldowns, pauses, the trading
//!   state and the limits are then what they were, because they are rebuilt by the same
//!   code from the same inputs, and the journal proves it record by record.
//! - The broker positions the risk stage adopted (`risk.reconcile` = `adopt` or
//!   `flatten`) came from outside the stream; each is journaled where it was applied,
//!   and the risk stage applies it again at the same point of the replay (see
//!   `RiskStage::with_journal`), checked like every other record.
//! - The paper exchange is rebuilt the same way: its book is the orders sent and
//!   answered again, each answer checked against the journaled one (the reconciliation
//!   with the paper broker). Client order ids are the intents' sequence numbers,
//!   deterministic and checked, so an order already journaled is never a new order.
//! - A live broker is not: it holds the orders of the earlier run already, and an
//!   intent sent again would be a second real order. The order stage's tap knows the
//!   intents the risk stage journaled before the restart
//!   ([`JournalTap::with_earlier_intents`]); the order stage sends none of them to a
//!   broker again and answers risk with their journaled reports instead (see
//!   `OrderStage`). The broker's fills after the last journaled report are what the
//!   gateway's reconciliation at start reports: it counts from the journal's fills and
//!   adoptions ([`Resuming::booked_net`]), so a position adopted before the restart is
//!   no difference again. The orders the broker still works from before the restart
//!   (the order stage journaled each acknowledged child with the broker's order id) are
//!   taken over, not closed: the gateway follows them from its start
//!   ([`Resuming::working_orders`]) and the order stage holds them as working once the
//!   day has caught up with them (see `OrderStage`), protective stops included.
//!
//! A day is resumed only with the configuration and data source that began it (a hash
//! of both is in the day's start mark); anything else is refused with the reason.

use std::path::{Path, PathBuf};

use crate::{
    config::ConfigIssue,
    engine::EngineConfig,
    journal::{
        day_dir, DayJournal, Journal, JournalConfig, JournalSettings, JournalTap, Record, Seq,
        ENGINE_WRITER,
    },
    model::{ControlCommand, Date, IntentId, ScheduledCommand, Stamp, TimeOfDay, UnixNanos},
};

/// What resuming found and did, for the run's summary.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResumeSummary {
    /// Records the journal held (every writer).
    pub records: usize,
    /// Torn tails cut, described (file, offset, sequence).
    pub torn: Vec<String>,
    /// Operator commands put back into the stream.
    pub replayed: usize,
    /// The market time the engine caught up to before trading on.
    pub caught_up_to: UnixNanos,
    /// Runs of the day before this one (the start and earlier resumptions).
    pub earlier_runs: usize,
}

/// The day's journal, opened for writing: fresh, or resumed with what it held.
pub(super) struct OpenedDay {
    pub journal: Journal,
    pub resume: Option<Resuming>,
}

/// A day being resumed: the records still to be checked, writer by writer.
pub(super) struct Resuming {
    pub day: DayJournal,
    pub summary: ResumeSummary,
    /// False when the directory holds no record yet (the engine stopped before its
    /// start mark): the day begins rather than resumes.
    pub begun: bool,
    /// The intents the risk stage journaled before the restart: each reached the order
    /// stage, and maybe the broker.
    pub intents: Vec<IntentId>,
}

impl Resuming {
    /// The tap for stage writer `name`: it checks the writer's journaled records as the
    /// stage makes them again, then appends after them. The order stage's tap knows the
    /// intents made before the restart too ([`JournalTap::with_earlier_intents`]).
    pub fn tap(&mut self, journal: &Journal, name: &str) -> Result<JournalTap, ConfigIssue> {
        let expected = self.day.take_records(name);
        let writer = journal
            .resume_writer(name, Seq(expected.len() as u64 + 1))
            .map_err(|e| ConfigIssue::new("journal.dir", e.to_string()))?;
        let tap = JournalTap::resume(writer, expected);
        Ok(match name {
            "order" => tap.with_earlier_intents(self.intents.clone()),
            _ => tap,
        })
    }

    /// Net units by instrument index that the risk stage's book held before the restart
    /// (its journaled fills, and the broker positions it adopted, each of which set the
    /// instrument's units to the broker's), for `instruments` instruments: what a broker
    /// holds from earlier in the day on the engine's account. Read before the risk
    /// stage's tap takes its records.
    ///
    /// The gateway counts on from here, so its reconciliation at the restart finds no
    /// difference in a position the book adopted before (the resumed book holds it
    /// again, rebuilt from the journal): it is not reported, adopted or halted on twice.
    pub fn booked_net(&self, instruments: usize) -> Vec<i64> {
        let mut net = vec![0_i64; instruments];
        for (_, record) in self.day.records_of("risk") {
            match record {
                Record::Fill(fill) => {
                    if let Some(n) = net.get_mut(fill.instrument.index()) {
                        *n += fill.side.sign() * i64::from(fill.qty.get());
                    }
                }
                Record::Adopt(a) => {
                    if let Some(n) = net.get_mut(a.instrument.index()) {
                        *n = a.broker_net;
                    }
                }
                _ => {}
            }
        }
        net
    }

    /// The orders the order stage's journal shows working at the broker when the
    /// engine stopped ([`crate::order::takeover`]), for the gateway to follow from its
    /// start, so its reconciliation counts them as the engine's; the order stage takes
    /// them over as the day catches up. Read before the order stage's tap takes its
    /// records.
    pub fn working_orders(&self) -> Vec<crate::order::TakeOver> {
        crate::order::takeover::working_at_restart(self.day.records_of("order"))
            .iter()
            .flat_map(|w| {
                let avg_price = w.avg_price();
                w.children
                    .iter()
                    .map(move |(p, filled)| crate::order::TakeOver {
                        order: crate::order::takeover::venue_order(p),
                        venue_id: p.venue_id,
                        filled: *filled,
                        avg_price,
                    })
            })
            .collect()
    }

    /// The commands the journal recorded (the operator's, and the feed's stale-feed
    /// flag), dated, less those `schedule` (the configured `[[control.schedule]]`, times
    /// of day) gives again on `day`.
    pub fn replayed_commands(
        &self,
        schedule: &[ScheduledCommand],
        day: Date,
    ) -> Vec<ScheduledCommand> {
        let midnight = UnixNanos::from_ist(day, TimeOfDay::hm(0, 0));
        let mut from_schedule: Vec<(UnixNanos, ControlCommand)> = schedule
            .iter()
            .map(|s| (midnight.add_nanos(s.exchange_ts.0), s.command))
            .collect();
        let mut out = Vec::new();
        for writer in ["signal", "risk"] {
            for &(ts, record) in self.day.records_of(writer) {
                let Record::Control(command) = record else {
                    continue;
                };
                if let Some(i) = from_schedule.iter().position(|&s| s == (ts, command)) {
                    from_schedule.swap_remove(i);
                    continue;
                }
                out.push(ScheduledCommand {
                    exchange_ts: ts,
                    ingress: Stamp(0),
                    command,
                });
            }
        }
        out.sort_by_key(|s| s.exchange_ts);
        out
    }
}

/// A hash of what decides the day's trading: the data source and every section the
/// stages read. Pacing, the run's length, the layout, the control socket's setup and
/// the journal's own settings are left out: they change how a day is run, not what is
/// traded in it.
pub fn config_hash(config: &EngineConfig) -> u64 {
    let mut feed = config.feed.clone();
    feed.speed = String::new();
    feed.duration = String::new();
    let text = format!(
        "{feed:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}|{:?}",
        config.strategy,
        config.signal,
        config.filters,
        config.risk,
        config.charges,
        config.order,
        config.paper,
        config.control.schedule,
    );
    // FNV-1a: stable across builds and platforms, unlike the standard library's hasher.
    text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |h, b| {
        (h ^ u64::from(b)).wrapping_mul(0x0100_0000_01b3)
    })
}

/// Opens the journal of trading day `day`: resumes the day's latest run directory when
/// that run stopped mid-day (and `settings.resume` is on), else claims a new one.
pub(super) fn open_day(
    settings: &JournalSettings,
    journal_config: JournalConfig,
    day: Date,
    hash: u64,
) -> Result<OpenedDay, ConfigIssue> {
    let issue = |reason: String| ConfigIssue::new("journal.dir", reason);
    let latest = latest_run_dir(&settings.dir, day);
    let resume = match latest {
        Some(dir) if settings.resume => resumable(&dir, hash).map_err(issue)?,
        _ => None,
    };
    let dir = match &resume {
        Some(r) => r.day.dir().to_owned(),
        None => settings
            .claim_run_dir(day)
            .map_err(|e| issue(format!("{}: {e}", settings.dir.display())))?,
    };
    let journal = Journal::open_pinned(&dir, journal_config, settings.core)
        .map_err(|e| issue(e.to_string()))?;
    Ok(OpenedDay { journal, resume })
}

/// The last of `DIR/YYYY-MM-DD`, `DIR/YYYY-MM-DD.run2`, … that exists.
fn latest_run_dir(root: &Path, day: Date) -> Option<PathBuf> {
    let first = day_dir(root, day);
    if !first.is_dir() {
        return None;
    }
    let mut latest = first;
    for n in 2u32.. {
        let next = root.join(format!("{day}.run{n}"));
        if !next.is_dir() {
            break;
        }
        latest = next;
    }
    Some(latest)
}

/// The day in `dir` to resume, or `None` when its last run ended cleanly.
fn resumable(dir: &Path, hash: u64) -> Result<Option<Resuming>, String> {
    let fresh_hint = "run with --no-resume to start a fresh journal for the day (this one is \
                      kept as it is)";
    let day = DayJournal::read(dir).map_err(|e| {
        format!(
            "the day's journal {} stopped mid-day and cannot be resumed: {e}; {fresh_hint}",
            dir.display()
        )
    })?;
    if day.record_count() == 0 {
        // Killed after claiming the directory and before its first record: nothing
        // happened that day, so it begins here, in the same directory.
        day.cut_torn_tails().map_err(|e| e.to_string())?;
        let summary = ResumeSummary {
            records: 0,
            torn: day.torn_tails().iter().map(|t| t.to_string()).collect(),
            replayed: 0,
            caught_up_to: UnixNanos::default(),
            earlier_runs: 0,
        };
        return Ok(Some(Resuming {
            day,
            summary,
            begun: false,
            intents: Vec::new(),
        }));
    }
    if day.ended() {
        return Ok(None);
    }
    let Some(start) = day.start() else {
        return Err(format!(
            "the day's journal {} has no start mark, so it was not begun by this engine; \
             {fresh_hint}",
            dir.display()
        ));
    };
    if start.config != hash {
        return Err(format!(
            "the day's journal {} stopped mid-day, and it was begun with another \
             configuration or data source (hash {:016x}, this one {hash:016x}): resuming \
             it would not rebuild the same day. Restart with the configuration it began \
             with, or {fresh_hint}",
            dir.display(),
            start.config
        ));
    }
    day.cut_torn_tails().map_err(|e| {
        format!(
            "cannot cut the torn tail of the day's journal {}: {e}",
            dir.display()
        )
    })?;
    let summary = ResumeSummary {
        records: day.record_count() - day.records_of(ENGINE_WRITER).len(),
        torn: day.torn_tails().iter().map(|t| t.to_string()).collect(),
        replayed: 0,
        caught_up_to: day.last_market_time().unwrap_or_default(),
        earlier_runs: day.sessions().count(),
    };
    let intents = day
        .records_of("risk")
        .iter()
        .filter_map(|(_, record)| match record {
            Record::Intent(intent) => Some(intent.id),
            _ => None,
        })
        .collect();
    Ok(Some(Resuming {
        day,
        summary,
        begun: true,
        intents,
    }))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        journal::{Journal, JournalConfig, JournalWriter, SessionKind, SessionMark},
        model::InstrumentId,
    };

    fn mark(kind: SessionKind, config: u64) -> Record {
        Record::Session(SessionMark {
            kind,
            config,
            strategies: 1,
            instruments: 1,
        })
    }

    /// A journal of 2026-11-25 under a fresh temporary root, begun by the engine with
    /// configuration hash 42: the engine writer's start mark is written.
    struct BegunDay {
        root: PathBuf,
        day: Date,
        dir: PathBuf,
        journal: Journal,
        engine: JournalWriter,
    }

    fn begun_day(name: &str) -> BegunDay {
        let root = std::env::temp_dir().join(format!("tickpipe-{name}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&root);
        let day = Date::new(2026, 11, 25);
        let dir = day_dir(&root, day);
        let journal = Journal::open(&dir, JournalConfig::DEFAULT).unwrap();
        let mut engine = journal.writer(ENGINE_WRITER).unwrap();
        engine
            .append(UnixNanos(1), &mark(SessionKind::Start, 42))
            .unwrap();
        BegunDay {
            root,
            day,
            dir,
            journal,
            engine,
        }
    }

    #[test]
    fn the_hash_ignores_pacing_and_layout_and_sees_the_trading_sections() {
        let base = EngineConfig::default();
        let mut paced = base.clone();
        paced.feed.speed = "10".to_owned();
        paced.runtime.layout = "per_stage".to_owned();
        assert_eq!(config_hash(&base), config_hash(&paced));
        let mut other = base.clone();
        other.risk.capital = crate::model::Money::from_rupees(1);
        assert_ne!(config_hash(&base), config_hash(&other));
    }

    #[test]
    fn only_an_unfinished_day_begun_with_this_configuration_is_resumed() {
        let BegunDay {
            root,
            day,
            dir,
            journal,
            engine,
        } = begun_day("resumable");
        let mut risk = journal.writer("risk").unwrap();
        let close = ControlCommand::Close {
            instrument: InstrumentId(3),
            qty: crate::model::Qty::new(0),
        };
        let at = |h, m| UnixNanos::from_ist(day, TimeOfDay::hm(h, m));
        risk.append(at(9, 30), &Record::Control(close)).unwrap();
        risk.append(at(9, 31), &Record::Control(ControlCommand::Flatten))
            .unwrap();
        drop((engine, risk));
        journal.shutdown().unwrap();

        assert_eq!(latest_run_dir(&root, day), Some(dir.clone()));
        let err = resumable(&dir, 43).err().unwrap();
        assert!(err.contains("another configuration"), "{err}");
        assert!(err.contains("--no-resume"), "{err}");
        let resuming = resumable(&dir, 42).unwrap().unwrap();
        assert_eq!(resuming.summary.records, 2);
        assert_eq!(resuming.summary.caught_up_to, at(9, 31));
        // The flatten came from the schedule (09:31, a time of day): only the close is
        // the operator's, and only it is put back into the stream.
        let schedule = [ScheduledCommand {
            exchange_ts: UnixNanos(u64::from(TimeOfDay::hm(9, 31).secs()) * 1_000_000_000),
            ingress: Stamp(0),
            command: ControlCommand::Flatten,
        }];
        let replayed = resuming.replayed_commands(&schedule, day);
        assert_eq!(
            replayed,
            [ScheduledCommand {
                exchange_ts: at(9, 30),
                ingress: Stamp(0),
                command: close,
            }]
        );
        // A day whose last run ended is not resumed.
        let journal = Journal::open(&dir, JournalConfig::DEFAULT).unwrap();
        let mut engine = journal.resume_writer(ENGINE_WRITER, Seq(2)).unwrap();
        engine
            .append(at(15, 30), &mark(SessionKind::End, 42))
            .unwrap();
        drop(engine);
        journal.shutdown().unwrap();
        assert!(resumable(&dir, 42).unwrap().is_none());
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn the_net_booked_before_a_restart_is_the_risk_writers_fills_and_adoptions() {
        use crate::{
            journal::Adoption,
            model::{FillRecord, IntentId, IntentReason, Price, Qty, Side, StrategyId},
        };
        let BegunDay {
            root,
            dir,
            journal,
            engine,
            ..
        } = begun_day("booked");
        let fill = |seq, instrument, side, qty| {
            Record::Fill(FillRecord {
                intent: IntentId::new(seq, 0),
                exchange_ts: UnixNanos(seq + 10),
                instrument: InstrumentId(instrument),
                strategy: StrategyId(0),
                side,
                qty: Qty::new(qty),
                price: Price::from_paise(10_000),
                reason: IntentReason::Entry,
            })
        };
        let mut risk = journal.writer("risk").unwrap();
        for (seq, instrument, side, qty) in [
            (1, 0, Side::Buy, 25),
            (2, 2, Side::Sell, 10),
            (3, 0, Side::Sell, 5),
            // Outside the table the run has now: not counted.
            (4, 7, Side::Buy, 1),
        ] {
            risk.append(UnixNanos(seq + 10), &fill(seq, instrument, side, qty))
                .unwrap();
        }
        // The book took the broker's -40 on instrument 1 and its 12 on instrument 2 (an
        // adoption sets the units, whatever the book held), then traded on.
        let adopt = |instrument, broker_net, book_net| {
            Record::Adopt(Adoption {
                instrument: InstrumentId(instrument),
                broker_net,
                broker_avg: Price::from_paise(5_010),
                book_net,
                book_avg: Price::ZERO,
            })
        };
        risk.append(UnixNanos(20), &adopt(1, -40, 0)).unwrap();
        risk.append(UnixNanos(21), &adopt(2, 12, -10)).unwrap();
        risk.append(UnixNanos(22), &fill(12, 2, Side::Sell, 2))
            .unwrap();
        // Outside the table: not counted.
        risk.append(UnixNanos(23), &adopt(9, 5, 0)).unwrap();
        // Another writer's records are not the book's.
        let mut order = journal.writer("order").unwrap();
        order
            .append(UnixNanos(19), &fill(9, 1, Side::Buy, 100))
            .unwrap();
        drop((engine, risk, order));
        journal.shutdown().unwrap();
        let resuming = resumable(&dir, 42).unwrap().unwrap();
        assert_eq!(resuming.booked_net(3), [20, -40, 10]);
        std::fs::remove_dir_all(&root).unwrap();
    }

    #[test]
    fn the_order_stages_tap_knows_the_intents_made_before_a_restart() {
        use crate::model::{IntentReason, OrderIntent, Price, Qty, Side, StrategyId};
        let BegunDay {
            root,
            dir,
            journal,
            engine,
            ..
        } = begun_day("intents");
        let intent = |seq| {
            Record::Intent(OrderIntent {
                id: IntentId::new(seq, seq as u32),
                exchange_ts: UnixNanos(seq + 10),
                ingress: Stamp(0),
                limit: Price::ZERO,
                qty: Qty::new(5),
                instrument: InstrumentId(0),
                strategy: StrategyId(0),
                side: Side::Buy,
                reason: IntentReason::Entry,
                reference: Price::ZERO,
            })
        };
        let mut risk = journal.writer("risk").unwrap();
        for seq in [1, 2] {
            risk.append(UnixNanos(seq + 10), &intent(seq)).unwrap();
        }
        drop((engine, risk));
        journal.shutdown().unwrap();

        let mut resuming = resumable(&dir, 42).unwrap().unwrap();
        let made = [IntentId::new(1, 1), IntentId::new(2, 2)];
        assert_eq!(resuming.intents, made);
        let journal = Journal::open(&dir, JournalConfig::DEFAULT).unwrap();
        let order = resuming.tap(&journal, "order").unwrap();
        assert!(made.iter().all(|&id| order.made_before(id)));
        assert!(!order.made_before(IntentId::new(3, 3)), "made after");
        // Only the order stage's tap: the risk stage makes its intents again as ever.
        let risk = resuming.tap(&journal, "risk").unwrap();
        assert!(!risk.made_before(made[0]));
        assert_eq!(risk.replay_pending(), 2);
        drop((order, risk));
        journal.shutdown().unwrap();
        std::fs::remove_dir_all(&root).unwrap();
    }
}
