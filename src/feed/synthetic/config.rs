//! `[feed.synthetic]`: the knobs of the synthetic NSE session.

use std::path::PathBuf;

use crate::{
    config::ConfigIssue,
    model::{Date, TimeOfDay},
};

/// Configuration of the synthetic session (TOML section `[feed.synthetic]`).
///
/// Every field has a shipped default, so an empty section gives a full NIFTY 50 day of
/// about two million events. Dates and times are strings (`"2026-11-25"`, `"09:15"`),
/// rates and volatilities plain numbers; no field is money.
///
/// ```toml
/// [feed.synthetic]
/// seed = 7
/// date = "2026-11-25"
/// tick_rate_scale = 0.5
/// ```
#[derive(Debug, Clone, PartialEq, serde::Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct SyntheticConfig {
    /// Seed of the random generator: the same seed (and config) gives the same day,
    /// byte for byte.
    pub seed: u64,
    /// Trading date, `YYYY-MM-DD`; must be a weekday. Exchange holidays are not modelled.
    pub date: String,
    /// Session start in IST, `HH:MM` or `HH:MM:SS` (NSE's normal market opens at 09:15).
    pub session_start: String,
    /// Session end in IST (NSE's normal market closes at 15:30).
    pub session_end: String,
    /// Universe CSV; absent means the embedded NIFTY 50 file (`config/nifty50.csv`).
    pub universe: Option<PathBuf>,
    /// A saved Kite instrument master (`tickpipe run --instruments FILE`): every universe
    /// instrument whose symbol is an NSE cash row (or, for the index, an NSE `INDICES`
    /// row) of the master takes that row's tick size and instrument token; the others
    /// keep the universe CSV's tick size. Absent: the universe CSV alone.
    pub instruments: Option<PathBuf>,
    /// Multiplies every tick arrival rate (1.0 gives about 2 million events a day).
    pub tick_rate_scale: f64,
    /// Option strikes on each side of the at-the-money strike (CE and PE for each).
    pub strikes: u32,
    /// Distance between strikes, in index points (NIFTY: 50).
    pub strike_step: u32,
    /// Implied volatility the at-the-money options revert to in calm markets (0.12 = 12%).
    pub base_iv: f64,
    /// Continuously compounded risk-free rate for option prices (0.055 = 5.5%).
    pub risk_free_rate: f64,
    /// Mean number of news items per hour of session.
    pub news_per_hour: f64,
    /// Share of news items about the index rather than one company, in [0, 1]: they
    /// move the whole market (every constituent by its beta, so the index and its
    /// options follow). 0 gives exactly the stream of a day with company news only.
    pub index_news_share: f64,
    /// Seconds between a news item moving the market and its publication as a
    /// [`News`](crate::model::News) event. Sentiment services read wires and score text,
    /// so their items reach a trader after the first repriced trades, never before; with
    /// no lag a strategy would buy at prices from before the news.
    pub news_lag_secs: f64,
    /// Mean number of volume spikes (bursts of activity in one instrument) per hour.
    pub spikes_per_hour: f64,
    /// Mean time a market regime lasts before it switches, in minutes.
    pub regime_minutes: f64,
}

impl Default for SyntheticConfig {
    fn default() -> Self {
        SyntheticConfig {
            // The default date, read as a number.
            seed: 20_261_125,
            date: "2026-11-25".to_owned(),
            session_start: "09:15".to_owned(),
            session_end: "15:30".to_owned(),
            universe: None,
            instruments: None,
            tick_rate_scale: 1.0,
            strikes: 10,
            strike_step: 50,
            base_iv: 0.12,
            risk_free_rate: 0.055,
            news_per_hour: 4.0,
            index_news_share: 0.35,
            news_lag_secs: 2.0,
            spikes_per_hour: 2.0,
            regime_minutes: 45.0,
        }
    }
}

/// The session's date and hours, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SessionHours {
    /// The trading date.
    pub date: Date,
    /// Open, IST.
    pub start: TimeOfDay,
    /// Close, IST.
    pub end: TimeOfDay,
}

impl SyntheticConfig {
    /// Pushes one issue per invalid field, keys prefixed with `prefix` (e.g. `feed.synthetic`).
    pub fn validate(&self, prefix: &str, issues: &mut Vec<ConfigIssue>) {
        let mut issue = |key: &str, reason: String| {
            issues.push(ConfigIssue::new(format!("{prefix}.{key}"), reason));
        };
        match Date::parse(&self.date) {
            None => issue(
                "date",
                format!("`{}` is not a date; expected YYYY-MM-DD", self.date),
            ),
            Some(d) if d.weekday() >= 5 => issue(
                "date",
                format!("{d} is a weekend day; NSE trades Monday to Friday"),
            ),
            Some(_) => {}
        }
        let start = TimeOfDay::parse(&self.session_start);
        let end = TimeOfDay::parse(&self.session_end);
        if start.is_none() {
            issue(
                "session_start",
                format!(
                    "`{}` is not a time; expected HH:MM or HH:MM:SS",
                    self.session_start
                ),
            );
        }
        if end.is_none() {
            issue(
                "session_end",
                format!(
                    "`{}` is not a time; expected HH:MM or HH:MM:SS",
                    self.session_end
                ),
            );
        }
        if let (Some(s), Some(e)) = (start, end) {
            if e.secs() < s.secs() + 60 {
                issue(
                    "session_end",
                    format!("must be at least one minute after session_start ({s})"),
                );
            }
        }
        let mut range = |key: &str, value: f64, lo: f64, hi: f64, open_lo: bool| {
            let ok =
                value.is_finite() && value <= hi && if open_lo { value > lo } else { value >= lo };
            if !ok {
                let lo_bracket = if open_lo { "(" } else { "[" };
                issue(
                    key,
                    format!("{value} is out of range; accepted {lo_bracket}{lo}, {hi}]"),
                );
            }
        };
        range("tick_rate_scale", self.tick_rate_scale, 0.0, 50.0, true);
        range("base_iv", self.base_iv, 0.01, 2.0, false);
        range("risk_free_rate", self.risk_free_rate, 0.0, 0.25, false);
        range("news_per_hour", self.news_per_hour, 0.0, 600.0, false);
        range("index_news_share", self.index_news_share, 0.0, 1.0, false);
        range("news_lag_secs", self.news_lag_secs, 0.0, 600.0, false);
        range("spikes_per_hour", self.spikes_per_hour, 0.0, 600.0, false);
        range("regime_minutes", self.regime_minutes, 1.0, 1440.0, false);
        if self.strikes > 50 {
            issue(
                "strikes",
                format!("{} is out of range; accepted 0 to 50", self.strikes),
            );
        }
        if !(1..=1000).contains(&self.strike_step) {
            issue(
                "strike_step",
                format!(
                    "{} is out of range; accepted 1 to 1000 points",
                    self.strike_step
                ),
            );
        }
        if let Some(path) = &self.universe {
            if path.as_os_str().is_empty() {
                issue(
                    "universe",
                    "empty path; leave the key out for the embedded NIFTY 50".to_owned(),
                );
            }
        }
        if self
            .instruments
            .as_ref()
            .is_some_and(|p| p.as_os_str().is_empty())
        {
            issue(
                "instruments",
                "empty path; leave the key out to use the universe CSV alone".to_owned(),
            );
        }
    }

    /// The date and hours, or the validation issues as one message.
    ///
    /// # Errors
    /// The text of every issue [`SyntheticConfig::validate`] finds.
    pub fn checked(&self) -> Result<SessionHours, String> {
        let mut issues = Vec::new();
        self.validate("feed.synthetic", &mut issues);
        if !issues.is_empty() {
            let text: Vec<String> = issues.iter().map(ToString::to_string).collect();
            return Err(text.join("; "));
        }
        // Validation guarantees these parse.
        match (
            Date::parse(&self.date),
            TimeOfDay::parse(&self.session_start),
            TimeOfDay::parse(&self.session_end),
        ) {
            (Some(date), Some(start), Some(end)) => Ok(SessionHours { date, start, end }),
            _ => Err("date or session times do not parse".to_owned()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_valid_and_a_weekday() {
        let hours = SyntheticConfig::default().checked().unwrap();
        assert_eq!(hours.date, Date::new(2026, 11, 25));
        assert_eq!(hours.date.weekday(), 2); // a Wednesday
        assert_eq!(hours.start, TimeOfDay::hm(9, 15));
        assert_eq!(hours.end, TimeOfDay::hm(15, 30));
    }

    #[test]
    fn every_bad_field_is_reported() {
        let cfg = SyntheticConfig {
            date: "2026-11-28".into(), // a Saturday
            session_start: "15:00".into(),
            session_end: "14:00".into(),
            tick_rate_scale: 0.0,
            strikes: 51,
            strike_step: 0,
            base_iv: f64::NAN,
            risk_free_rate: -0.1,
            news_per_hour: -1.0,
            index_news_share: 1.5,
            spikes_per_hour: 1e9,
            regime_minutes: 0.5,
            universe: Some(PathBuf::new()),
            ..SyntheticConfig::default()
        };
        let mut issues = Vec::new();
        cfg.validate("feed.synthetic", &mut issues);
        let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "feed.synthetic.date",
                "feed.synthetic.session_end",
                "feed.synthetic.tick_rate_scale",
                "feed.synthetic.base_iv",
                "feed.synthetic.risk_free_rate",
                "feed.synthetic.news_per_hour",
                "feed.synthetic.index_news_share",
                "feed.synthetic.spikes_per_hour",
                "feed.synthetic.regime_minutes",
                "feed.synthetic.strikes",
                "feed.synthetic.strike_step",
                "feed.synthetic.universe",
            ]
        );
        assert!(issues[0].reason.contains("weekend"), "{}", issues[0]);
        assert!(cfg.checked().is_err());
    }

    #[test]
    fn toml_section_rejects_unknown_keys() {
        let cfg: SyntheticConfig = toml::from_str("seed = 9\nstrikes = 4\n").unwrap();
        assert_eq!((cfg.seed, cfg.strikes, cfg.strike_step), (9, 4, 50));
        assert!(toml::from_str::<SyntheticConfig>("sed = 9\n").is_err());
    }
}
