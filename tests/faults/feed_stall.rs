//! The feed-stall scenario: the synthetic day through a live-like source that stalls.
//!
//! - **Quotes that stop.** From 10:00 to 11:30 the index options stop ticking while
//!   everything else flows (a dropped subscription): the news scalper, which picks an
//!   option from the index's news, is refused (`stale_quote`) instead of entering on a
//!   premium that stopped; nothing enters a silenced option after its quote is older than
//!   `risk.stale_quote_secs`.
//! - **The whole feed stalls.** From 12:00, at the first event when the news scalper is
//!   free to enter (no strong news about an index for its hold time plus its cooldown:
//!   its position record ends only on a tick, so a stall that began while it held one
//!   would leave it busy, and silent, for the whole hour), market data stops and the
//!   source says it is stale. The source holds everything back until the engine's stale
//!   flag is up (the `stale_feed` alert, after `feed.stale_alert_secs` of wall time),
//!   then lets the news of the next hour through while market data stays silent (the
//!   sentiment service is another service), as a real stall would: the flag stays up
//!   through the news, the scalper's entries on it are refused (`stale_feed`, at least
//!   one) and none fills, and the trading state stays as it was. An hour after the
//!   stall began the data flows again: the flag drops (`feed_recovered`) and entries
//!   resume. Risk learns both changes in the stream, after the news before them, so the
//!   stall's last news meets the flag on any thread layout without the source waiting
//!   for risk to read it.
//!
//! Waits are conditions with a generous limit, never timing assertions.

use std::{
    sync::{Arc, Mutex, OnceLock},
    time::{Duration, Instant},
};

use tickpipe::{
    engine::{EngineConfig, Pipeline},
    feed::{FeedError, MarketSource, SourcePoll, StaleFeedFlag},
    model::{
        Date, InstrumentKind, InstrumentTable, IntentReason, MarketEvent, Money, TimeOfDay,
        UnixNanos,
    },
    risk::Refusal,
};

use super::{account, Row};

/// How long the stale flag may take to go up before the scenario gives up.
const PATIENCE: Duration = Duration::from_secs(60);

/// What the source saw, for the scenario's checks.
#[derive(Debug, Default)]
struct Seen {
    /// The engine's stale flag was up while the source stalled.
    flag_up: bool,
    /// It was still up when the source let the stall's news through, and dropped only
    /// after the data flowed again.
    flag_up_through_news: bool,
    /// News items let through during the stall.
    news_in_stall: u64,
    /// Ticks the stall and the silenced options never delivered (the market moved on).
    ticks_withheld: u64,
    /// The source gave up waiting for the flag.
    gave_up: bool,
    /// Market time the stall began (the first event it held back).
    stalled_at: Option<UnixNanos>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Phase {
    Before,
    /// Holding everything until the flag is up.
    Stalled,
    /// The flag is up: news goes through, ticks are withheld, until `resume`.
    Silent,
    After,
}

/// The synthetic day as a live source with the two faults of the module doc.
struct Stalling {
    inner: Box<dyn MarketSource>,
    held: Option<MarketEvent>,
    phase: Phase,
    /// Per instrument: ticks withheld in `[silence_from, silence_to)`.
    silenced: Vec<bool>,
    silence_from: UnixNanos,
    silence_to: UnixNanos,
    /// The stall begins at the first event from here on that finds the scalper free.
    stall_from: UnixNanos,
    /// How long it lasts in market time.
    stall_for: u64,
    /// Set when it begins.
    resume_at: UnixNanos,
    /// By instrument index: an index (news about it is what the scalper trades on).
    index: Vec<bool>,
    /// Strong news moves the scalper (`min_sentiment`, per mille).
    strong: u16,
    /// Market time the last strong index news went out.
    last_strong: Option<UnixNanos>,
    /// Market time since strong news after which the scalper is free again: its hold,
    /// its cooldown, and a minute for the tick that ends the hold.
    busy_for: u64,
    flag: Arc<OnceLock<Arc<StaleFeedFlag>>>,
    seen: Arc<Mutex<Seen>>,
    deadline: Option<Instant>,
}

impl Stalling {
    /// True when no strong index news went out for the scalper's hold and cooldown.
    fn scalper_free(&self, now: UnixNanos) -> bool {
        match self.last_strong {
            None => true,
            Some(at) => now.0.saturating_sub(at.0) >= self.busy_for,
        }
    }

    fn flag_up(&self) -> bool {
        self.flag.get().is_some_and(|f| f.is_stale())
    }

    fn next(&mut self) -> Result<Option<MarketEvent>, FeedError> {
        if let Some(event) = self.held.take() {
            return Ok(Some(event));
        }
        match self.inner.poll_event()? {
            SourcePoll::Event(event) => Ok(Some(event)),
            SourcePoll::Pending | SourcePoll::End => Ok(None),
        }
    }
}

impl MarketSource for Stalling {
    fn poll_event(&mut self) -> Result<SourcePoll, FeedError> {
        loop {
            if self.phase == Phase::Stalled {
                if self.flag_up() {
                    self.seen.lock().unwrap().flag_up = true;
                    self.phase = Phase::Silent;
                } else if Instant::now()
                    >= *self
                        .deadline
                        .get_or_insert_with(|| Instant::now() + PATIENCE)
                {
                    self.seen.lock().unwrap().gave_up = true;
                    self.phase = Phase::After;
                } else {
                    return Ok(SourcePoll::Pending);
                }
            }
            let Some(event) = self.next()? else {
                return Ok(SourcePoll::End);
            };
            let ts = event.exchange_ts();
            match self.phase {
                Phase::Before if ts >= self.stall_from && self.scalper_free(ts) => {
                    self.held = Some(event);
                    self.phase = Phase::Stalled;
                    self.resume_at = ts.add_nanos(self.stall_for);
                    self.seen.lock().unwrap().stalled_at = Some(ts);
                    continue;
                }
                Phase::Silent if ts >= self.resume_at => {
                    let up = self.flag_up();
                    self.seen.lock().unwrap().flag_up_through_news = up;
                    self.phase = Phase::After;
                }
                Phase::Silent => {
                    if let MarketEvent::News(_) = event {
                        self.seen.lock().unwrap().news_in_stall += 1;
                        return Ok(SourcePoll::Event(event));
                    }
                    self.seen.lock().unwrap().ticks_withheld += 1;
                    continue;
                }
                _ => {}
            }
            if let MarketEvent::News(n) = event {
                if self.index[n.instrument.0 as usize]
                    && n.sentiment_milli.unsigned_abs() >= self.strong
                {
                    self.last_strong = Some(ts);
                }
            }
            if let MarketEvent::Tick(t) = event {
                if ts >= self.silence_from
                    && ts < self.silence_to
                    && self.silenced[t.instrument.0 as usize]
                {
                    self.seen.lock().unwrap().ticks_withheld += 1;
                    continue;
                }
            }
            return Ok(SourcePoll::Event(event));
        }
    }

    fn is_stale(&self) -> bool {
        matches!(self.phase, Phase::Stalled | Phase::Silent)
    }
}

fn at(date: Date, h: u32, m: u32) -> UnixNanos {
    UnixNanos::from_ist(date, TimeOfDay::hm(h, m))
}

/// Runs the scenario on the day `config` describes.
pub fn scenario(mut config: EngineConfig) -> Row {
    let mut row = Row::new("feed stalls", String::new());
    config.feed.stale_alert_secs = 1;
    // A newsy day, most of it about the index: the news scalper tries often, so the
    // stalls meet entries to refuse.
    config.feed.synthetic.news_per_hour = 20.0;
    config.feed.synthetic.index_news_share = 0.6;
    // So much index news moves the market hard; the emergency halt, the drawdown halt
    // and the daily loss limit it may trip are other scenarios' business.
    config.risk.emergency.drop_pct = Money::ZERO;
    config.risk.drawdown_warn_pct = Money::from_rupees(100);
    config.risk.drawdown_halt_pct = Money::from_rupees(100);
    config.risk.daily_loss_pct = Money::from_rupees(100);
    // Every news entry reaches risk: the market-bias filter would hold back half, and
    // the allocator may send the scalper to shadow, where its entries are traded on
    // paper and never reach risk.
    config.filters.market_bias = false;
    config.signal.allocation.enabled = false;
    let opened = config.feed.open().expect("source opens");
    let date = opened.start.ist_date();
    let instruments: &InstrumentTable = &opened.instruments;
    let silenced: Vec<bool> = instruments
        .iter()
        .map(|i| i.kind == InstrumentKind::Option)
        .collect();
    let index: Vec<bool> = instruments
        .iter()
        .map(|i| i.kind == InstrumentKind::Index)
        .collect();
    let scalper = &config.strategy.news_impact_scalper;
    let busy_for =
        (u64::from(scalper.hold_secs) + u64::from(scalper.cooldown_secs) + 60) * 1_000_000_000;
    let flag = Arc::new(OnceLock::new());
    let seen = Arc::new(Mutex::new(Seen::default()));
    let (silence_from, silence_to) = (at(date, 10, 0), at(date, 11, 30));
    let stall_from = at(date, 12, 0);
    let stall_for = 3_600 * 1_000_000_000;
    let source = Stalling {
        inner: opened.source,
        held: None,
        phase: Phase::Before,
        silenced: silenced.clone(),
        silence_from,
        silence_to,
        stall_from,
        stall_for,
        resume_at: UnixNanos(u64::MAX),
        index,
        strong: scalper.min_sentiment,
        last_strong: None,
        busy_for,
        flag: flag.clone(),
        seen: seen.clone(),
        deadline: None,
    };
    let until = config.feed.until(opened.start).unwrap();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let pipeline = Pipeline::build(
        &config,
        &opened.instruments,
        Box::new(source),
        opened.start,
        until,
        stop,
    )
    .expect("pipeline builds");
    let _ = flag.set(pipeline.feed_stale());
    let layout = config.layout().expect("layout");
    let report = pipeline
        .run(&layout, Duration::ZERO, |_| {})
        .expect("run completes");
    account(&mut row, &report);
    if let Some((stage, error)) = report.error() {
        row.problem(format!("the {stage} stage stopped: {error:?}"));
    }
    let seen = seen.lock().unwrap();
    let Some(trading) = report.trading() else {
        row.book_wrong("the risk stage did not report");
        return row;
    };
    let refused = |r: Refusal| {
        trading
            .refusals
            .iter()
            .find(|(name, _)| *name == r.as_str())
            .map_or(0, |(_, n)| *n)
    };
    let (stale_quote, stale_feed) = (refused(Refusal::StaleQuote), refused(Refusal::FeedStale));
    let Some(stall_at) = seen.stalled_at else {
        row.problem("the feed never stalled: the scalper was never free after 12:00");
        return row;
    };
    let resume_at = stall_at.add_nanos(stall_for);
    row.faults = format!(
        "index options silent 10:00-11:30; all market data silent {}-{} while news flows \
         (live-like source, 20 news/h, feed.stale_alert_secs = 1); entries refused: \
         {stale_quote} stale_quote, {stale_feed} stale_feed",
        hm(stall_at),
        hm(resume_at)
    );
    println!(
        "feed stalls: {} ticks withheld, {} news items during the stall, refused {stale_quote} \
         stale_quote and {stale_feed} stale_feed; flag up {}, still up through the news {}",
        seen.ticks_withheld, seen.news_in_stall, seen.flag_up, seen.flag_up_through_news
    );
    if seen.gave_up || !seen.flag_up {
        row.problem("the stale flag never went up while the feed stalled");
    }
    if !seen.flag_up_through_news {
        row.problem("news during the stall lowered the stale flag");
    }
    if pipeline_flag_up(&flag) {
        row.problem("the stale flag stayed up after the data flowed again");
    }
    if seen.news_in_stall == 0 {
        row.problem("no news came during the stall: nothing tried to enter");
    }
    // The stall's news reached the scalper while it was free: its entry met the flag.
    if stale_feed == 0 {
        row.problem("no entry was refused as stale_feed during the stall");
    }
    if stale_quote == 0 {
        row.problem("no entry was refused on a silenced option");
    }
    // An entry sent just before a window may fill just inside it: a minute's margin.
    let quote_limit = u64::from(config.risk.stale_quote_secs) * 1_000_000_000;
    for f in &trading.fills {
        let t = f.exchange_ts;
        let entry = f.reason == IntentReason::Entry;
        if entry && t.0 >= stall_at.0 + 60_000_000_000 && t < resume_at {
            row.book_wrong(format!("an entry filled during the stall: {f:?}"));
        }
        if entry
            && silenced[f.instrument.0 as usize]
            && t.0 >= silence_from.0 + quote_limit
            && t < silence_to
        {
            row.book_wrong(format!("an entry on a silenced option: {f:?}"));
        }
    }
    if !trading
        .fills
        .iter()
        .any(|f| f.reason == IntentReason::Entry && f.exchange_ts >= resume_at)
    {
        row.problem("no entry after the feed recovered");
    }
    // A stale feed is not a halt: no change of trading state during the stall.
    let changes: Vec<_> = trading
        .risk_events
        .state_changes
        .iter()
        .filter(|c| c.at >= stall_at && c.at <= resume_at)
        .collect();
    if !changes.is_empty() {
        row.problem(format!(
            "the trading state changed in the stall: {changes:?}"
        ));
    }
    row
}

/// `hh:mm` IST.
fn hm(t: UnixNanos) -> String {
    let s = t.ist_time_of_day().to_string();
    s.get(..5).unwrap_or(&s).to_owned()
}

fn pipeline_flag_up(flag: &OnceLock<Arc<StaleFeedFlag>>) -> bool {
    flag.get().is_some_and(|f| f.is_stale())
}
