//! The `[risk]` section: capital, position sizing, the exposure cap and session times.

use std::fmt;

use serde::{de, Deserialize, Deserializer};

use crate::{
    config::ConfigIssue,
    model::{LimitKey, LimitValue, Money, TimeOfDay},
    risk::exit::{EmergencyConfig, ReconcilePolicy, ShutdownPolicy, TimeStops},
};

/// Limits and session times of the risk stage, section `[risk]`.
///
/// Money and percentages are decimals, written either as TOML strings (`"2.5"`, parsed
/// exactly) or as plain TOML numbers (`2.5` or `1000000`, read as the shortest decimal
/// that prints as the same number). Times are `"HH:MM"` or `"HH:MM:SS"` India Standard
/// Time and are compared with market time from the events, never the wall clock.
///
/// # Examples
/// ```
/// use tickpipe::{model::{Money, TimeOfDay}, risk::RiskConfig};
/// let cfg: RiskConfig = toml::from_str(r#"
///     capital = "500000"
///     max_exposure_pct = 60
///     last_entry = "14:45"
/// "#).unwrap();
/// assert_eq!(cfg.capital, Money::from_rupees(500_000));
/// assert_eq!(cfg.last_entry, TimeOfDay::hm(14, 45));
/// assert_eq!(cfg.square_off, TimeOfDay::hm(15, 15));
/// let mut issues = Vec::new();
/// cfg.validate("risk", &mut issues);
/// assert!(issues.is_empty());
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct RiskConfig {
    /// Trading capital in rupees, the start of equity.
    #[serde(deserialize_with = "decimal")]
    pub capital: Money,
    /// What the per-position risk, position cap and exposure cap are percentages of:
    /// `equity` (capital + realised P&L net of charges + unrealised P&L at the marks, so
    /// they shrink after losses) or the fixed `capital`.
    pub sizing_basis: SizingBasis,
    /// Largest loss one position may cost if its stop is hit, in percent of capital.
    #[serde(deserialize_with = "decimal")]
    pub risk_per_trade_pct: Money,
    /// Distance of the protective stop from the entry price, in percent, when the
    /// signal brings no stop of its own.
    #[serde(deserialize_with = "decimal")]
    pub default_stop_pct: Money,
    /// Largest value of one position at entry (quantity × reference price), in percent
    /// of capital. Risk-based sizing alone gives a large position when the stop is
    /// close; this keeps the book from resting on a single name.
    #[serde(deserialize_with = "decimal")]
    pub max_position_pct: Money,
    /// Largest gross exposure (open positions at their marks plus entries in flight at
    /// their reference prices), in percent of capital.
    #[serde(deserialize_with = "decimal")]
    pub max_exposure_pct: Money,
    /// No entries at or after this time of day.
    #[serde(deserialize_with = "time_of_day")]
    pub last_entry: TimeOfDay,
    /// At this time of day every open position is closed at market and no entry is
    /// accepted for the rest of the day.
    #[serde(deserialize_with = "time_of_day")]
    pub square_off: TimeOfDay,
    /// Fills kept for the end-of-run summary; preallocated, later fills are counted only.
    pub fill_log_capacity: usize,
    /// Intents that may await their final exec report at once (preallocated).
    pub max_in_flight: usize,
    /// A strategy signal older than this (seconds of market time behind the latest event
    /// the risk stage has seen) is dropped and counted as `signal_expired`; 0 turns the
    /// check off.
    pub signal_expiry_secs: u32,
    /// No entry on an instrument within this many seconds of market time after the last
    /// fill on it, from whichever strategy (duplicate prevention); exits are never held
    /// back; 0 turns the check off.
    pub cooldown_secs: u32,
    /// What the stage does with open positions when it meets a fatal error (its own
    /// arithmetic overflowed, or its picture of the book can no longer be trusted):
    /// `flatten` sends a market exit for every open position before the run stops;
    /// `hold` leaves them for the operator. Entries halt either way.
    pub on_fatal: FatalPolicy,
    /// Book profit targets from the entry signals: when the mark reaches one, a real
    /// exit order for `partial_exit_pct` of the position, the rest trailed. Strategies
    /// that have a target then pass it in the signal instead of exiting there.
    pub partial_exit: bool,
    /// Share of the position sold (bought back) at the target, in percent, rounded
    /// down to whole lots; when that is no lot at all the whole position exits.
    #[serde(deserialize_with = "decimal")]
    pub partial_exit_pct: Money,
    /// Profit, in percent of the average price, at which the trailing stop starts; 0:
    /// only a booked target starts it (from at least break-even).
    #[serde(deserialize_with = "decimal")]
    pub trail_activate_pct: Money,
    /// Trailing distance, in percent of the best mark since entry (when `trail_atr` is 0).
    #[serde(deserialize_with = "decimal")]
    pub trail_pct: Money,
    /// Trailing distance in ATRs, measured by the entry's own stop distance (the
    /// strategies set their stops in ATRs); 0 trails by `trail_pct` instead.
    #[serde(deserialize_with = "decimal")]
    pub trail_atr: Money,
    /// `[risk.time_stop]`: strategy name → minutes of market time a position of it may
    /// stay open before the risk stage closes it.
    pub time_stop: TimeStops,
    /// First delay before a rejected exit is sent again, in milliseconds of market
    /// time; each further failure doubles it, up to `exit_retry_max_ms`.
    pub exit_retry_ms: u32,
    /// Longest delay between attempts at an exit, in milliseconds of market time.
    pub exit_retry_max_ms: u32,
    /// Failed attempts at one exit after which the position is flagged (`positions`)
    /// and a critical alert goes out; retries go on at the longest delay.
    pub exit_max_attempts: u32,
    /// `[risk.emergency]`: flatten and halt on a fast fall of the index.
    pub emergency: EmergencyConfig,
    /// `SIGTERM`/Ctrl-C: `flatten` closes every position before the run stops;
    /// `leave` leaves them and names them on standard error.
    pub on_shutdown: ShutdownPolicy,
    /// What a difference between a broker position snapshot and the book leads to:
    /// `alert`, `adopt` (take the broker's) or `flatten`.
    pub reconcile: ReconcilePolicy,
}

/// What the sizing and exposure percentages of `[risk]` are taken of.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SizingBasis {
    /// Capital + realised net P&L + unrealised P&L at the marks, as of the signal.
    #[default]
    Equity,
    /// The configured capital, whatever the day did.
    Capital,
}

/// What happens to open positions on a fatal error.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum FatalPolicy {
    /// Close every open position at market, then stop.
    #[default]
    Flatten,
    /// Leave positions as they are and stop.
    Hold,
}

impl Default for RiskConfig {
    fn default() -> Self {
        RiskConfig {
            capital: Money::from_rupees(1_000_000),
            sizing_basis: SizingBasis::Equity,
            risk_per_trade_pct: Money::from_rupees(2),
            default_stop_pct: Money::from_rupees(1),
            max_position_pct: Money::from_rupees(20),
            max_exposure_pct: Money::from_rupees(70),
            last_entry: TimeOfDay::hm(15, 0),
            square_off: TimeOfDay::hm(15, 15),
            fill_log_capacity: 65_536,
            max_in_flight: 256,
            signal_expiry_secs: 120,
            cooldown_secs: 120,
            on_fatal: FatalPolicy::Flatten,
            partial_exit: true,
            partial_exit_pct: Money::from_rupees(50),
            trail_activate_pct: Money::from_rupees(2),
            trail_pct: Money::from_rupees(1),
            trail_atr: Money::ZERO,
            time_stop: TimeStops::new(),
            exit_retry_ms: 500,
            exit_retry_max_ms: 8_000,
            exit_max_attempts: 5,
            emergency: EmergencyConfig::default(),
            on_shutdown: ShutdownPolicy::Flatten,
            reconcile: ReconcilePolicy::Alert,
        }
    }
}

/// Largest accepted `fill_log_capacity` (about 60 MB of fill records).
const MAX_FILL_LOG: usize = 1 << 20;
/// Largest accepted `max_in_flight`.
const MAX_IN_FLIGHT: usize = 1 << 16;
/// Largest accepted capital, ₹1,000 crore: far above any account this engine trades, and
/// small enough that every limit fits one machine word ([`LimitValue`]).
const MAX_CAPITAL_RUPEES: i64 = 10_000_000_000;

impl RiskConfig {
    /// The current value of one limit.
    pub fn limit(&self, key: LimitKey) -> LimitValue {
        let decimal = |m: Money| LimitValue::from_money(m).unwrap_or(LimitValue(i64::MAX));
        match key {
            LimitKey::Capital => decimal(self.capital),
            LimitKey::RiskPerTradePct => decimal(self.risk_per_trade_pct),
            LimitKey::DefaultStopPct => decimal(self.default_stop_pct),
            LimitKey::MaxPositionPct => decimal(self.max_position_pct),
            LimitKey::MaxExposurePct => decimal(self.max_exposure_pct),
            LimitKey::LastEntry => LimitValue(i64::from(self.last_entry.secs())),
            LimitKey::SquareOff => LimitValue(i64::from(self.square_off.secs())),
        }
    }

    /// A copy with one limit changed. Validate the result before using it.
    pub fn with_limit(&self, key: LimitKey, value: LimitValue) -> RiskConfig {
        let mut next = self.clone();
        let time = TimeOfDay::from_secs(value.0.clamp(0, 86_399) as u32);
        match key {
            LimitKey::Capital => next.capital = value.to_money(),
            LimitKey::RiskPerTradePct => next.risk_per_trade_pct = value.to_money(),
            LimitKey::DefaultStopPct => next.default_stop_pct = value.to_money(),
            LimitKey::MaxPositionPct => next.max_position_pct = value.to_money(),
            LimitKey::MaxExposurePct => next.max_exposure_pct = value.to_money(),
            LimitKey::LastEntry => next.last_entry = time,
            LimitKey::SquareOff => next.square_off = time,
        }
        next
    }

    /// Reads a limit's value as an operator writes it: a decimal (`50`, `2.5`) for the
    /// rupee and percent limits, `HH:MM[:SS]` for the times.
    ///
    /// # Errors
    /// A sentence saying what was expected.
    ///
    /// # Examples
    /// ```
    /// use tickpipe::{model::LimitKey, risk::RiskConfig};
    /// let v = RiskConfig::parse_limit(LimitKey::MaxExposurePct, "55.5").unwrap();
    /// let cfg = RiskConfig::default().with_limit(LimitKey::MaxExposurePct, v);
    /// assert_eq!(cfg.max_exposure_pct, "55.5".parse().unwrap());
    /// assert!(RiskConfig::parse_limit(LimitKey::LastEntry, "3pm").is_err());
    /// ```
    pub fn parse_limit(key: LimitKey, text: &str) -> Result<LimitValue, String> {
        if key.is_time() {
            return TimeOfDay::parse(text)
                .map(|t| LimitValue(i64::from(t.secs())))
                .ok_or_else(|| {
                    format!("`{text}` is not a time of day; write HH:MM or HH:MM:SS (IST)")
                });
        }
        let money: Money = text
            .parse()
            .map_err(|e| format!("`{text}` is not a decimal number: {e}"))?;
        LimitValue::from_money(money).ok_or_else(|| format!("`{text}` is too large"))
    }

    /// A limit's value as an operator writes it (`70`, `2.5`, `15:00`).
    pub fn format_limit(key: LimitKey, value: LimitValue) -> String {
        if key.is_time() {
            TimeOfDay::from_secs(value.0.clamp(0, 86_399) as u32).to_string()
        } else {
            let text = value.to_money().to_string();
            // Money prints two decimals at least; a limit reads best without trailing zeros.
            match text.split_once('.') {
                Some((whole, frac)) if frac.trim_end_matches('0').is_empty() => whole.to_owned(),
                Some((whole, frac)) => format!("{whole}.{}", frac.trim_end_matches('0')),
                None => text,
            }
        }
    }

    /// Pushes one issue per invalid key, each named `{prefix}.key`.
    pub fn validate(&self, prefix: &str, issues: &mut Vec<ConfigIssue>) {
        let hundred = Money::from_rupees(100);
        if self.capital <= Money::ZERO || self.capital > Money::from_rupees(MAX_CAPITAL_RUPEES) {
            issues.push(ConfigIssue::new(
                format!("{prefix}.capital"),
                format!(
                    "is {}, must be above zero and at most {} rupees",
                    self.capital,
                    Money::from_rupees(MAX_CAPITAL_RUPEES)
                ),
            ));
        }
        let pct_checks = [
            ("risk_per_trade_pct", self.risk_per_trade_pct, hundred),
            (
                "default_stop_pct",
                self.default_stop_pct,
                Money::from_rupees(50),
            ),
            (
                "max_position_pct",
                self.max_position_pct,
                Money::from_rupees(500),
            ),
            // Intraday margin lets gross exposure exceed capital, up to 5×.
            (
                "max_exposure_pct",
                self.max_exposure_pct,
                Money::from_rupees(500),
            ),
        ];
        for (key, value, max) in pct_checks {
            if value <= Money::ZERO || value > max {
                issues.push(ConfigIssue::new(
                    format!("{prefix}.{key}"),
                    format!("is {value}, must be above 0 and at most {max} (percent)"),
                ));
            }
        }
        if self.last_entry >= self.square_off {
            issues.push(ConfigIssue::new(
                format!("{prefix}.last_entry"),
                format!(
                    "is {}, must be before {prefix}.square_off ({})",
                    self.last_entry, self.square_off
                ),
            ));
        }
        if self.fill_log_capacity > MAX_FILL_LOG {
            issues.push(ConfigIssue::new(
                format!("{prefix}.fill_log_capacity"),
                format!(
                    "is {}, must be at most {MAX_FILL_LOG}",
                    self.fill_log_capacity
                ),
            ));
        }
        if self.max_in_flight == 0 || self.max_in_flight > MAX_IN_FLIGHT {
            issues.push(ConfigIssue::new(
                format!("{prefix}.max_in_flight"),
                format!(
                    "is {}, must be from 1 to {MAX_IN_FLIGHT}",
                    self.max_in_flight
                ),
            ));
        }
        crate::risk::exit::validate(self, prefix, issues);
    }
}

/// Reads a decimal from a TOML string (exact) or number (its shortest decimal form).
pub(crate) fn decimal<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Money, D::Error> {
    struct DecimalVisitor;

    impl de::Visitor<'_> for DecimalVisitor {
        type Value = Money;

        fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            f.write_str("a decimal number, as a string (\"2.5\") or a plain number")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<Money, E> {
            v.parse()
                .map_err(|e| E::custom(format_args!("{v:?} is not a decimal: {e}")))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<Money, E> {
            Ok(Money::from_rupees(v))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<Money, E> {
            i64::try_from(v)
                .map(Money::from_rupees)
                .map_err(|_| E::custom(format_args!("{v} is too large")))
        }

        fn visit_f64<E: de::Error>(self, v: f64) -> Result<Money, E> {
            if !v.is_finite() {
                return Err(E::custom(format_args!("{v} is not a finite number")));
            }
            // `Display` for f64 prints the shortest decimal that reads back as `v`, with no
            // exponent, so `2.5` stays exactly 2.5.
            self.visit_str(&v.to_string())
        }
    }

    deserializer.deserialize_any(DecimalVisitor)
}

/// Reads `"HH:MM"` or `"HH:MM:SS"`.
fn time_of_day<'de, D: Deserializer<'de>>(deserializer: D) -> Result<TimeOfDay, D::Error> {
    let text = String::deserialize(deserializer)?;
    TimeOfDay::parse(&text).ok_or_else(|| {
        de::Error::custom(format_args!(
            "{text:?} is not a time of day; write \"HH:MM\" or \"HH:MM:SS\" (IST)"
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issues_of(cfg: &RiskConfig) -> Vec<ConfigIssue> {
        let mut issues = Vec::new();
        cfg.validate("risk", &mut issues);
        issues
    }

    #[test]
    fn shipped_default_is_valid() {
        let cfg = RiskConfig::default();
        assert!(issues_of(&cfg).is_empty());
        let parsed: RiskConfig = toml::from_str("").unwrap();
        assert_eq!(parsed.capital, cfg.capital);
        assert_eq!(parsed.square_off, cfg.square_off);
    }

    #[test]
    fn strings_and_numbers_are_exact() {
        let cfg: RiskConfig = toml::from_str(
            r#"
            capital = 250000
            risk_per_trade_pct = "1.25"
            default_stop_pct = 0.1
            square_off = "15:10:30"
            "#,
        )
        .unwrap();
        assert_eq!(cfg.capital, Money::from_rupees(250_000));
        assert_eq!(cfg.risk_per_trade_pct, "1.25".parse().unwrap());
        assert_eq!(cfg.default_stop_pct, "0.1".parse().unwrap());
        assert_eq!(cfg.square_off.secs(), 15 * 3600 + 10 * 60 + 30);
        assert_eq!(cfg.sizing_basis, SizingBasis::Equity);
        let cfg: RiskConfig = toml::from_str(r#"sizing_basis = "capital""#).unwrap();
        assert_eq!(cfg.sizing_basis, SizingBasis::Capital);
        let err = toml::from_str::<RiskConfig>(r#"sizing_basis = "nav""#).unwrap_err();
        assert!(err.to_string().contains("equity"), "{err}");
    }

    #[test]
    fn bad_text_and_unknown_keys_are_errors() {
        let err = toml::from_str::<RiskConfig>(r#"last_entry = "3pm""#).unwrap_err();
        assert!(err.to_string().contains("HH:MM"), "{err}");
        let err = toml::from_str::<RiskConfig>(r#"capital = "ten lakh""#).unwrap_err();
        assert!(err.to_string().contains("not a decimal"), "{err}");
        assert!(toml::from_str::<RiskConfig>("max_exposure = 70").is_err());
    }

    #[test]
    fn out_of_range_values_name_their_keys() {
        let cfg = RiskConfig {
            capital: Money::ZERO,
            sizing_basis: SizingBasis::Capital,
            risk_per_trade_pct: Money::from_rupees(101),
            default_stop_pct: Money::ZERO,
            max_position_pct: Money::from_rupees(501),
            max_exposure_pct: Money::from_rupees(-5),
            last_entry: TimeOfDay::hm(15, 20),
            square_off: TimeOfDay::hm(15, 15),
            fill_log_capacity: MAX_FILL_LOG + 1,
            max_in_flight: 0,
            signal_expiry_secs: 0,
            cooldown_secs: 0,
            on_fatal: FatalPolicy::Hold,
            ..RiskConfig::default()
        };
        let keys: Vec<String> = issues_of(&cfg).into_iter().map(|i| i.key).collect();
        assert_eq!(
            keys,
            [
                "risk.capital",
                "risk.risk_per_trade_pct",
                "risk.default_stop_pct",
                "risk.max_position_pct",
                "risk.max_exposure_pct",
                "risk.last_entry",
                "risk.fill_log_capacity",
                "risk.max_in_flight",
            ]
        );
    }
}
