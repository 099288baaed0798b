//! `[feed]`: which market source to run, how fast and for how long.

use std::{path::PathBuf, sync::Arc, time::Duration};

use serde::Deserialize;

use super::{
    instruments,
    kite::{system_clock, KiteConfig, KiteTicker, Postbacks, TickerHealth, TickerSettings},
    truedata::{TrueDataConfig, TrueDataFeed, TrueDataSettings},
    universe, MarketSource, Pacing, ReplaySource, SourcePoll, SyntheticConfig, SyntheticSession,
};
use crate::{
    config::ConfigIssue,
    model::{InstrumentTable, UnixNanos},
};

/// Where market data comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SourceKind {
    /// The deterministic synthetic NSE session (`[feed.synthetic]`).
    #[default]
    Synthetic,
    /// A recorded tick file (`feed.replay_file`).
    Replay,
    /// The live Kite Ticker WebSocket (`[feed.kite]`).
    Kite,
    /// The live TrueData WebSocket (`[feed.truedata]`).
    Truedata,
}

impl SourceKind {
    /// The configuration's name for it.
    pub const fn name(self) -> &'static str {
        match self {
            SourceKind::Synthetic => "synthetic",
            SourceKind::Replay => "replay",
            SourceKind::Kite => "kite",
            SourceKind::Truedata => "truedata",
        }
    }
}

/// Configuration of the feed (TOML section `[feed]`).
///
/// ```toml
/// [feed]
/// source = "replay"
/// replay_file = "var/2026-11-25.ticks"
/// speed = "10"        # ten times real time; "max" = as fast as the pipeline goes
/// duration = "90m"    # market time from the first event
/// ```
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct FeedConfig {
    /// `synthetic`, `replay`, `kite` or `truedata`.
    pub source: SourceKind,
    /// The recorded tick file when `source = "replay"` (relative to the working directory).
    pub replay_file: Option<PathBuf>,
    /// `"max"` (as fast as the pipeline goes) or a number N for N× real time.
    pub speed: String,
    /// Market time to play from the first event, e.g. `"90m"`; empty plays everything.
    pub duration: String,
    /// A JSON-lines news file a sentiment service appends to ([`news`](super::news)):
    /// read at the start, then followed while the engine runs. Unset: no news file.
    pub news_file: Option<PathBuf>,
    /// The synthetic session.
    pub synthetic: SyntheticConfig,
    /// The live Kite Ticker, when `source = "kite"`.
    pub kite: KiteConfig,
    /// A critical `stale_feed` alert when the source stays stale (a live feed
    /// reconnecting or silent) this many seconds of wall time; 0 = no alert. Files and
    /// the synthetic day are never stale.
    pub stale_alert_secs: u32,
    /// The live TrueData feed, when `source = "truedata"`.
    pub truedata: TrueDataConfig,
}

impl Default for FeedConfig {
    fn default() -> Self {
        FeedConfig {
            source: SourceKind::Synthetic,
            replay_file: None,
            speed: "max".to_owned(),
            duration: String::new(),
            news_file: None,
            synthetic: SyntheticConfig::default(),
            kite: KiteConfig::default(),
            stale_alert_secs: 30,
            truedata: TrueDataConfig::default(),
        }
    }
}

/// A source ready to feed the pipeline, with the instruments it speaks of.
pub struct OpenedSource {
    /// The instrument table the events' ids index.
    pub instruments: InstrumentTable,
    /// The source itself.
    pub source: Box<dyn MarketSource>,
    /// Market time the session starts (what `duration` counts from).
    pub start: UnixNanos,
    /// One line for people: what is being played.
    pub description: String,
    /// A live source's link state (staleness, reconnections, drops); `None` for files
    /// and the synthetic day.
    pub live: Option<Arc<TickerHealth>>,
    /// The Kite Ticker's order postbacks, for a Kite Connect gateway to act on
    /// ([`Pipeline::build_with_postbacks`](crate::engine::Pipeline::build_with_postbacks));
    /// `None` for every other source.
    pub postbacks: Option<Postbacks>,
}

impl std::fmt::Debug for OpenedSource {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OpenedSource")
            .field("description", &self.description)
            .field("instruments", &self.instruments.len())
            .finish()
    }
}

impl FeedConfig {
    /// Pushes one issue per invalid field, keys prefixed with `prefix` (e.g. `feed`).
    pub fn validate(&self, prefix: &str, issues: &mut Vec<ConfigIssue>) {
        if self.stale_alert_secs > 86_400 {
            issues.push(ConfigIssue::new(
                format!("{prefix}.stale_alert_secs"),
                format!(
                    "is {}, must be at most 86400 (a day); 0 = no alert",
                    self.stale_alert_secs
                ),
            ));
        }
        if let Err(e) = self.pacing() {
            issues.push(ConfigIssue::new(format!("{prefix}.speed"), e));
        }
        if let Err(e) = self.duration() {
            issues.push(ConfigIssue::new(format!("{prefix}.duration"), e));
        }
        match (&self.source, &self.replay_file) {
            (SourceKind::Replay, None) => issues.push(ConfigIssue::new(
                format!("{prefix}.replay_file"),
                "source = \"replay\" needs the path of a tick file (see `tickpipe record`)",
            )),
            (_, Some(path)) if path.as_os_str().is_empty() => issues.push(ConfigIssue::new(
                format!("{prefix}.replay_file"),
                "empty path",
            )),
            _ => {}
        }
        match self.source {
            SourceKind::Synthetic => self
                .synthetic
                .validate(&format!("{prefix}.synthetic"), issues),
            SourceKind::Kite | SourceKind::Truedata => {
                if matches!(self.pacing(), Ok(Pacing::Speed(_))) {
                    issues.push(ConfigIssue::new(
                        format!("{prefix}.speed"),
                        "a live feed arrives at the market's own pace; pacing it again only \
                         delays it: use \"max\"",
                    ));
                }
                if self.source == SourceKind::Kite {
                    self.kite.validate(&format!("{prefix}.kite"), issues);
                } else {
                    self.truedata
                        .validate(&format!("{prefix}.truedata"), issues);
                }
            }
            SourceKind::Replay => {}
        }
    }

    /// The pacing from `speed`.
    ///
    /// # Errors
    /// A reason when the text is neither `max` nor a positive number.
    pub fn pacing(&self) -> Result<Pacing, String> {
        parse_speed(&self.speed)
    }

    /// `duration` as market time; `None` when empty.
    ///
    /// # Errors
    /// A reason when the text is not a duration such as `90m` or `1h 30m`.
    pub fn duration(&self) -> Result<Option<Duration>, String> {
        parse_duration(&self.duration)
    }

    /// The market time at which the feed stops, from `duration` and the session start.
    ///
    /// # Errors
    /// As [`FeedConfig::duration`].
    pub fn until(&self, start: UnixNanos) -> Result<Option<UnixNanos>, String> {
        Ok(self
            .duration()?
            .map(|d| start.add_nanos(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))))
    }

    /// Opens the synthetic session or the replay file.
    ///
    /// # Errors
    /// A message naming the file and the problem when the universe CSV or the tick file
    /// cannot be read, or the synthetic configuration is invalid.
    pub fn open(&self) -> Result<OpenedSource, String> {
        match self.source {
            SourceKind::Synthetic => {
                let synthetic = &self.synthetic;
                let session = SyntheticSession::new(synthetic).map_err(|e| e.to_string())?;
                let instruments = session.instruments().clone();
                let (start, _) = session.session_bounds();
                let mut description = format!(
                    "synthetic NSE day {} (seed {}; NIFTY 50, the index, {} weekly options expiring {} and the index ETF {})",
                    synthetic.date,
                    synthetic.seed,
                    session.options().len(),
                    session.expiry(),
                    instruments.get(session.etf_id()).symbol,
                );
                if let Some(master) = &synthetic.instruments {
                    // Which of the universe the master could vouch for: a master of the
                    // wrong day or exchange silently matching nothing would be a trap.
                    let missing = session.master_missing();
                    let universe = session.universe().constituents().len() + 1;
                    description.push_str(&format!(
                        " · instrument master {}: {} of {} universe symbols found",
                        master.display(),
                        universe.saturating_sub(missing.len()),
                        universe
                    ));
                    if !missing.is_empty() {
                        let shown: Vec<&str> = missing.iter().take(5).map(String::as_str).collect();
                        description.push_str(&format!(
                            ", the others keep the universe file's tick size ({}{})",
                            shown.join(", "),
                            if missing.len() > shown.len() {
                                ", …"
                            } else {
                                ""
                            }
                        ));
                    }
                }
                Ok(OpenedSource {
                    instruments,
                    source: Box::new(session),
                    start,
                    description,
                    live: None,
                    postbacks: None,
                })
            }
            SourceKind::Replay => {
                let path = self
                    .replay_file
                    .as_ref()
                    .ok_or("feed.replay_file is required when feed.source = \"replay\"")?;
                let (instruments, source) = ReplaySource::open(path).map_err(|e| e.to_string())?;
                // `duration` counts from the first event: read it through a second handle
                // so the real source starts at the top.
                let (_, mut probe) = ReplaySource::open(path).map_err(|e| e.to_string())?;
                let start = match probe.poll_event().map_err(|e| e.to_string())? {
                    SourcePoll::Event(event) => event.exchange_ts(),
                    SourcePoll::Pending | SourcePoll::End => UnixNanos::default(),
                };
                let description = format!(
                    "replay of {} ({} instruments, from {start})",
                    path.display(),
                    instruments.len(),
                );
                Ok(OpenedSource {
                    instruments,
                    source: Box::new(source),
                    start,
                    description,
                    live: None,
                    postbacks: None,
                })
            }
            SourceKind::Kite => open_kite(&self.kite),
            SourceKind::Truedata => open_truedata(&self.truedata),
        }
    }
}

/// Subscribes the universe's symbols (TrueData names NSE shares and indices as NSE does:
/// `SBIN`, `NIFTY 50`) and starts the TrueData connection thread.
fn open_truedata(config: &TrueDataConfig) -> Result<OpenedSource, String> {
    let universe = match &config.universe {
        Some(path) => universe::load(path),
        None => universe::load_default(),
    }
    .map_err(|e| e.to_string())?;
    let table = universe.table().clone();
    let symbols: Vec<(String, crate::model::InstrumentId)> = table
        .iter()
        .map(|i| (i.symbol.to_uppercase(), i.id))
        .collect();
    let settings = TrueDataSettings::from_config(config, symbols, table.len())?;
    let description = format!(
        "live TrueData {} ({} symbols of {})",
        config.url,
        settings.symbols.len(),
        config.universe.as_ref().map_or_else(
            || "the NIFTY 50 universe".to_owned(),
            |p| p.display().to_string()
        )
    );
    let feed = TrueDataFeed::start(settings).map_err(|e| e.to_string())?;
    Ok(OpenedSource {
        instruments: table,
        live: Some(feed.health()),
        postbacks: None,
        source: Box::new(feed),
        start: system_clock(),
        description,
    })
}

/// Resolves the universe's symbols through the instrument master and starts the Ticker.
///
/// Every universe instrument stays in the table (so strategies find the symbols they
/// name); those the master does not know get no token and no data, and are named in the
/// description. None resolving at all is an error listing them.
fn open_kite(kite: &KiteConfig) -> Result<OpenedSource, String> {
    let mut universe = match &kite.universe {
        Some(path) => universe::load(path),
        None => universe::load_default(),
    }
    .map_err(|e| e.to_string())?;
    let master_path = kite.instruments.as_ref().ok_or(
        "feed.source = \"kite\" needs Kite's instrument master to find the universe's \
         instrument tokens: pass --instruments FILE or set feed.kite.instruments",
    )?;
    let rows = instruments::load(master_path).map_err(|e| e.to_string())?;
    let freeze = instruments::FreezeLimits::load_default().map_err(|e| e.to_string())?;
    let master = instruments::build_table(&rows, &freeze, &master_path.display().to_string())
        .map_err(|e| e.to_string())?;
    let missing = universe.apply_master(&master.table);
    let table = universe.table().clone();
    let tokens: Vec<(u32, crate::model::InstrumentId)> = table
        .iter()
        .filter_map(|i| table.token_of(i.id).map(|token| (token, i.id)))
        .collect();
    if tokens.is_empty() {
        return Err(format!(
            "none of the universe's {} symbols is in the instrument master {} as an NSE share \
             or index, so there is nothing to subscribe to; not found: {}",
            table.len(),
            master_path.display(),
            missing.join(", ")
        ));
    }
    let settings = TickerSettings::from_config(kite, tokens, table.len())?;
    let mut description = format!(
        "live Kite Ticker {} ({} instruments in {} mode; tokens from {})",
        kite.url,
        settings.tokens.len(),
        kite.mode.name(),
        master_path.display()
    );
    if !missing.is_empty() {
        description.push_str(&format!(
            " · warning: not in the master, so not subscribed: {}",
            missing.join(", ")
        ));
    }
    let mut ticker = KiteTicker::start(settings).map_err(|e| e.to_string())?;
    Ok(OpenedSource {
        instruments: table,
        live: Some(ticker.health()),
        postbacks: ticker.take_postbacks(),
        source: Box::new(ticker),
        // `duration` counts from now: the market time of a live run is the clock's.
        start: system_clock(),
        description,
    })
}

/// `max` or a positive real-time multiple.
///
/// # Errors
/// A reason naming what is accepted.
pub fn parse_speed(text: &str) -> Result<Pacing, String> {
    let text = text.trim();
    if text.eq_ignore_ascii_case("max") {
        return Ok(Pacing::Max);
    }
    let n: f64 = text
        .trim_end_matches(['x', 'X'])
        .parse()
        .map_err(|_| format!("`{text}` is neither `max` nor a number such as 1 or 50"))?;
    if n.is_finite() && n > 0.0 {
        Ok(Pacing::Speed(n))
    } else {
        Err(format!("speed must be above zero, got {text}"))
    }
}

/// A duration such as `90m`, `1h 30m` or `45s`; empty means none.
///
/// # Errors
/// A reason naming what is accepted.
pub fn parse_duration(text: &str) -> Result<Option<Duration>, String> {
    let text = text.trim();
    if text.is_empty() {
        return Ok(None);
    }
    let d = humantime::parse_duration(text)
        .map_err(|e| format!("`{text}` is not a duration such as 90m or 1h 30m ({e})"))?;
    if d.is_zero() {
        return Err("duration must be above zero".to_owned());
    }
    Ok(Some(d))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_runs_the_synthetic_day_at_full_speed() {
        let cfg = FeedConfig::default();
        let mut issues = Vec::new();
        cfg.validate("feed", &mut issues);
        assert!(issues.is_empty(), "{issues:?}");
        assert_eq!(cfg.pacing(), Ok(Pacing::Max));
        let opened = cfg.open().unwrap();
        // The index and its 50 stocks, 42 options and the index ETF.
        assert_eq!(opened.instruments.len(), 51 + 42 + 1);
    }

    #[test]
    fn the_opening_line_says_how_much_of_the_universe_the_master_found() {
        let mut cfg = FeedConfig::default();
        cfg.synthetic.instruments = Some(
            std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
                .join("tests/fixtures/kite/instruments_nse.csv"),
        );
        let opened = cfg.open().unwrap();
        // The fixture is an old mock dump: of the NIFTY 50 only a few share its symbols.
        let found = opened
            .description
            .split(" · instrument master ")
            .nth(1)
            .expect("the master is named");
        assert!(found.contains(" of 51 universe symbols found"), "{found}");
        assert!(
            found.contains("the others keep the universe file's tick size"),
            "{found}"
        );
    }

    #[test]
    fn toml_section_and_its_issues() {
        let cfg: FeedConfig = toml::from_str(
            "source = \"replay\"\nspeed = \"-1\"\nduration = \"soon\"\n[synthetic]\nstrikes = 99\n",
        )
        .unwrap();
        let mut issues = Vec::new();
        cfg.validate("feed", &mut issues);
        let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
        // The synthetic section is not checked when it is not the source.
        assert_eq!(keys, ["feed.speed", "feed.duration", "feed.replay_file"]);
        assert!(cfg.open().is_err());
        assert!(toml::from_str::<FeedConfig>("sorce = \"replay\"\n").is_err());
        assert!(toml::from_str::<FeedConfig>("source = \"kyte\"\n").is_err());
    }

    #[test]
    fn speeds_and_durations() {
        assert_eq!(parse_speed("max"), Ok(Pacing::Max));
        assert_eq!(parse_speed("50"), Ok(Pacing::Speed(50.0)));
        assert_eq!(parse_speed("10x"), Ok(Pacing::Speed(10.0)));
        assert!(parse_speed("0").is_err());
        assert!(parse_speed("fast").is_err());
        assert_eq!(parse_duration("90m"), Ok(Some(Duration::from_secs(5400))));
        assert_eq!(parse_duration(""), Ok(None));
        assert!(parse_duration("soon").is_err());
    }
}
