//! The `[risk]` section: capital, position sizing, the entry limits, the day's loss and
//! drawdown, and session times.

use serde::{de, Deserialize, Deserializer};

use crate::{
    config::{decimal, ConfigIssue},
    model::{LimitKey, LimitValue, Money, TimeOfDay},
    risk::{
        exit::{EmergencyConfig, HaltExits, ReconcilePolicy, ShutdownPolicy, TimeStops},
        limits::{MAX_CORRELATION_WINDOW, MIN_CORRELATION_SAMPLES},
    },
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
    /// Trading capital in rupees, the start of equity: equity, of which the limits are
    /// shares, is capital plus realised P&L net of charges plus unrealised P&L.
    #[serde(deserialize_with = "decimal")]
    pub capital: Money,
    /// What the per-position risk, position cap and exposure caps are percentages of:
    /// `equity` (capital + realised P&L net of charges + unrealised P&L at the marks, so
    /// they shrink after losses) or the fixed `capital`. The day's loss limit and
    /// drawdown always watch equity.
    pub sizing_basis: SizingBasis,
    /// Largest loss one position in an equity instrument (a share, an ETF, a future)
    /// may cost if its stop is hit, in percent of equity (or capital, by `sizing_basis`).
    #[serde(deserialize_with = "decimal")]
    pub risk_per_trade_pct: Money,
    /// Largest premium at risk in one option position ((entry − stop) × quantity), in
    /// percent of equity.
    #[serde(deserialize_with = "decimal")]
    pub option_risk_pct: Money,
    /// Distance of the protective stop from the entry price, in percent, when the
    /// signal brings no stop of its own.
    #[serde(deserialize_with = "decimal")]
    pub default_stop_pct: Money,
    /// Largest value of one position at entry (quantity × the price it pays), in
    /// percent of equity. Risk-based sizing alone gives a large position when the stop is
    /// close; this keeps the book from resting on a single name.
    #[serde(deserialize_with = "decimal")]
    pub max_position_pct: Money,
    /// Largest gross exposure (open positions at their marks plus entries in flight at
    /// the prices they were approved at), in percent of equity.
    #[serde(deserialize_with = "decimal")]
    pub max_exposure_pct: Money,
    /// Largest gross exposure in options (premium value, all underlyings), in percent
    /// of equity; counted in `max_exposure_pct` as well.
    #[serde(deserialize_with = "decimal")]
    pub max_option_exposure_pct: Money,
    /// Largest gross exposure in one sector of the universe, in percent of equity.
    /// Instruments on a whole index (index options, the index ETF) are exempt.
    #[serde(deserialize_with = "decimal")]
    pub max_sector_pct: Money,
    /// One-minute returns in the rolling correlation window; 0 turns the correlation
    /// limit off.
    pub correlation_window: u32,
    /// Held instruments whose returns correlate with the candidate's at least this
    /// much (−1 to 1) form its cluster.
    #[serde(deserialize_with = "decimal")]
    pub correlation_threshold: Money,
    /// Most positions (held or in flight, the candidate included) one correlated
    /// cluster may hold: a cluster counts as one concentrated position.
    pub max_cluster_positions: u32,
    /// Largest combined exposure of one correlated cluster, in percent of equity.
    #[serde(deserialize_with = "decimal")]
    pub max_cluster_pct: Money,
    /// Daily loss limit: when equity falls this percent of start-of-day equity below
    /// it (realised plus unrealised net P&L), no new entries for the rest of the day,
    /// and trading turns reduce-only.
    #[serde(deserialize_with = "decimal")]
    pub daily_loss_pct: Money,
    /// Also close every open position when the daily loss limit is hit.
    pub daily_loss_flatten: bool,
    /// Drawdown from the day's peak equity, in percent of it, that raises a warning.
    #[serde(deserialize_with = "decimal")]
    pub drawdown_warn_pct: Money,
    /// Drawdown from the day's peak equity, in percent of it, that halts trading.
    #[serde(deserialize_with = "decimal")]
    pub drawdown_halt_pct: Money,
    /// Fat-finger band: an entry whose price to pay is further than this percent from
    /// the last trade is refused.
    #[serde(deserialize_with = "decimal")]
    pub price_band_pct: Money,
    /// Fat-finger cap: largest value of one entry order, in rupees; larger entries are
    /// cut to whole lots below it.
    #[serde(deserialize_with = "decimal")]
    pub max_order_value: Money,
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
    /// No entry (nor scale-in add) on an instrument whose last tick is more than this
    /// many seconds of market time old, or that has not ticked at all: its quote no
    /// longer says what the entry would pay (counted as `stale_quote`). Exits are never
    /// held back; 0 turns the check off.
    ///
    /// The default, 60 s, is long for what it guards: NSE cash shares and the near
    /// strikes of index options trade many times a minute, and Kite Ticker pushes a
    /// changed instrument about once a second, so a minute of silence means the quote
    /// stopped (a dropped subscription, a circuit-halted share, a strike nobody trades),
    /// not a quiet market. Far strikes that trade a few times an hour are refused, which
    /// is the point: their last price is not a price to enter at.
    pub stale_quote_secs: u32,
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
    /// Add to a winner: once the mark is `scale_in_at_pct` percent beyond the first
    /// entry's price (twice that for the second add, and so on), the risk stage sends
    /// an entry for `scale_in_pct` of the open position on the owner's behalf, through
    /// every entry check, sized so that the *whole* position's loss at its stop stays
    /// within the per-position risk budget and its value within the position cap.
    pub scale_in: bool,
    /// Profit step, in percent of the first entry's price, of each add.
    #[serde(deserialize_with = "decimal")]
    pub scale_in_at_pct: Money,
    /// Size of an add, in percent of the open position, whole lots (at least one).
    #[serde(deserialize_with = "decimal")]
    pub scale_in_pct: Money,
    /// Adds per position.
    pub scale_in_max: u32,
    /// Reduce a loser: once the mark is `scale_out_at_pct` percent against the average
    /// price, a real exit order for `scale_out_pct` of the position, once per position,
    /// before the stop takes the rest.
    pub scale_out: bool,
    /// Adverse move, in percent of the average price, that cuts a loser.
    #[serde(deserialize_with = "decimal")]
    pub scale_out_at_pct: Money,
    /// Share of a loser cut, in percent, whole lots (a position of one lot is left to
    /// its stop).
    #[serde(deserialize_with = "decimal")]
    pub scale_out_pct: Money,
    /// What still exits while trading is halted: `manual` (nothing but the operator's
    /// closes and flattens, and the emergency flatten that halted it) or `protective`
    /// (the stage's stops, targets, time stops and square-off too).
    pub halt_exits: HaltExits,
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
            option_risk_pct: Money::from_rupees(5),
            default_stop_pct: Money::from_rupees(1),
            max_position_pct: Money::from_rupees(20),
            max_exposure_pct: Money::from_rupees(70),
            max_option_exposure_pct: Money::from_rupees(50),
            max_sector_pct: Money::from_rupees(25),
            correlation_window: 30,
            correlation_threshold: Money::from_raw(80_000_000), // 0.8
            max_cluster_positions: 3,
            max_cluster_pct: Money::from_rupees(40),
            daily_loss_pct: Money::from_rupees(5),
            daily_loss_flatten: false,
            drawdown_warn_pct: Money::from_rupees(3),
            drawdown_halt_pct: Money::from_rupees(6),
            price_band_pct: Money::from_rupees(10),
            max_order_value: Money::from_rupees(500_000),
            last_entry: TimeOfDay::hm(15, 0),
            square_off: TimeOfDay::hm(15, 15),
            fill_log_capacity: 65_536,
            max_in_flight: 256,
            signal_expiry_secs: 120,
            cooldown_secs: 120,
            stale_quote_secs: 60,
            on_fatal: FatalPolicy::Flatten,
            partial_exit: true,
            partial_exit_pct: Money::from_rupees(50),
            trail_activate_pct: Money::from_rupees(2),
            trail_pct: Money::from_rupees(1),
            trail_atr: Money::ZERO,
            scale_in: false,
            scale_in_at_pct: Money::from_rupees(1),
            scale_in_pct: Money::from_rupees(50),
            scale_in_max: 1,
            scale_out: false,
            scale_out_at_pct: Money::from_raw(50_000_000), // 0.5
            scale_out_pct: Money::from_rupees(50),
            halt_exits: HaltExits::Manual,
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
            LimitKey::SignalExpirySecs => LimitValue(i64::from(self.signal_expiry_secs)),
            LimitKey::CooldownSecs => LimitValue(i64::from(self.cooldown_secs)),
            LimitKey::StaleQuoteSecs => LimitValue(i64::from(self.stale_quote_secs)),
            LimitKey::OptionRiskPct => decimal(self.option_risk_pct),
            LimitKey::MaxOptionExposurePct => decimal(self.max_option_exposure_pct),
            LimitKey::MaxSectorPct => decimal(self.max_sector_pct),
            LimitKey::CorrelationWindow => LimitValue(i64::from(self.correlation_window)),
            LimitKey::CorrelationThreshold => decimal(self.correlation_threshold),
            LimitKey::MaxClusterPositions => LimitValue(i64::from(self.max_cluster_positions)),
            LimitKey::MaxClusterPct => decimal(self.max_cluster_pct),
            LimitKey::DailyLossPct => decimal(self.daily_loss_pct),
            LimitKey::DailyLossFlatten => LimitValue(i64::from(self.daily_loss_flatten)),
            LimitKey::DrawdownWarnPct => decimal(self.drawdown_warn_pct),
            LimitKey::DrawdownHaltPct => decimal(self.drawdown_halt_pct),
            LimitKey::PriceBandPct => decimal(self.price_band_pct),
            LimitKey::MaxOrderValue => decimal(self.max_order_value),
        }
    }

    /// A copy with one limit changed. Validate the result before using it.
    pub fn with_limit(&self, key: LimitKey, value: LimitValue) -> RiskConfig {
        let mut next = self.clone();
        let time = TimeOfDay::from_secs(value.0.clamp(0, 86_399) as u32);
        let whole = value.0.clamp(0, i64::from(u32::MAX)) as u32;
        match key {
            LimitKey::Capital => next.capital = value.to_money(),
            LimitKey::RiskPerTradePct => next.risk_per_trade_pct = value.to_money(),
            LimitKey::DefaultStopPct => next.default_stop_pct = value.to_money(),
            LimitKey::MaxPositionPct => next.max_position_pct = value.to_money(),
            LimitKey::MaxExposurePct => next.max_exposure_pct = value.to_money(),
            LimitKey::LastEntry => next.last_entry = time,
            LimitKey::SquareOff => next.square_off = time,
            LimitKey::SignalExpirySecs => next.signal_expiry_secs = whole,
            LimitKey::CooldownSecs => next.cooldown_secs = whole,
            LimitKey::StaleQuoteSecs => next.stale_quote_secs = whole,
            LimitKey::OptionRiskPct => next.option_risk_pct = value.to_money(),
            LimitKey::MaxOptionExposurePct => next.max_option_exposure_pct = value.to_money(),
            LimitKey::MaxSectorPct => next.max_sector_pct = value.to_money(),
            LimitKey::CorrelationWindow => next.correlation_window = whole,
            LimitKey::CorrelationThreshold => next.correlation_threshold = value.to_money(),
            LimitKey::MaxClusterPositions => next.max_cluster_positions = whole,
            LimitKey::MaxClusterPct => next.max_cluster_pct = value.to_money(),
            LimitKey::DailyLossPct => next.daily_loss_pct = value.to_money(),
            LimitKey::DailyLossFlatten => next.daily_loss_flatten = value.0 != 0,
            LimitKey::DrawdownWarnPct => next.drawdown_warn_pct = value.to_money(),
            LimitKey::DrawdownHaltPct => next.drawdown_halt_pct = value.to_money(),
            LimitKey::PriceBandPct => next.price_band_pct = value.to_money(),
            LimitKey::MaxOrderValue => next.max_order_value = value.to_money(),
        }
        next
    }

    /// Reads a limit's value as an operator writes it: a decimal (`50`, `2.5`) for the
    /// rupee, percent and correlation limits, `HH:MM[:SS]` for the times, a whole
    /// number for seconds and counts, `true`/`false` (or `on`/`off`) for flags.
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
        if key.is_whole() {
            return text
                .parse::<u32>()
                .map(|n| LimitValue(i64::from(n)))
                .map_err(|_| format!("`{text}` is not a whole number from 0 to {}", u32::MAX));
        }
        if key.is_flag() {
            return match text {
                "true" | "on" | "yes" | "1" => Ok(LimitValue(1)),
                "false" | "off" | "no" | "0" => Ok(LimitValue(0)),
                _ => Err(format!("`{text}` is neither true nor false")),
            };
        }
        let money: Money = text
            .parse()
            .map_err(|e| format!("`{text}` is not a decimal number: {e}"))?;
        LimitValue::from_money(money).ok_or_else(|| format!("`{text}` is too large"))
    }

    /// A limit's value as an operator writes it (`70`, `2.5`, `15:00`).
    pub fn format_limit(key: LimitKey, value: LimitValue) -> String {
        if key.is_whole() {
            value.0.to_string()
        } else if key.is_flag() {
            (value.0 != 0).to_string()
        } else if key.is_time() {
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
            ("option_risk_pct", self.option_risk_pct, hundred),
            (
                "max_option_exposure_pct",
                self.max_option_exposure_pct,
                Money::from_rupees(500),
            ),
            (
                "max_sector_pct",
                self.max_sector_pct,
                Money::from_rupees(500),
            ),
            (
                "max_cluster_pct",
                self.max_cluster_pct,
                Money::from_rupees(500),
            ),
            ("daily_loss_pct", self.daily_loss_pct, hundred),
            ("drawdown_warn_pct", self.drawdown_warn_pct, hundred),
            ("drawdown_halt_pct", self.drawdown_halt_pct, hundred),
            ("price_band_pct", self.price_band_pct, hundred),
        ];
        for (key, value, max) in pct_checks {
            if value <= Money::ZERO || value > max {
                issues.push(ConfigIssue::new(
                    format!("{prefix}.{key}"),
                    format!("is {value}, must be above 0 and at most {max} (percent)"),
                ));
            }
        }
        self.validate_limits(prefix, issues);
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

impl RiskConfig {
    /// The entry limits' checks beyond the percentages: orders between related keys,
    /// the correlation settings, the fat-finger cap and the time windows.
    fn validate_limits(&self, prefix: &str, issues: &mut Vec<ConfigIssue>) {
        if self.drawdown_warn_pct > self.drawdown_halt_pct {
            issues.push(ConfigIssue::new(
                format!("{prefix}.drawdown_warn_pct"),
                format!(
                    "is {}, must be at most {prefix}.drawdown_halt_pct ({})",
                    self.drawdown_warn_pct, self.drawdown_halt_pct
                ),
            ));
        }
        if self.correlation_window != 0
            && !(MIN_CORRELATION_SAMPLES..=MAX_CORRELATION_WINDOW)
                .contains(&(self.correlation_window as usize))
        {
            issues.push(ConfigIssue::new(
                format!("{prefix}.correlation_window"),
                format!(
                    "is {}, must be 0 (off) or from {MIN_CORRELATION_SAMPLES} to \
                     {MAX_CORRELATION_WINDOW} one-minute returns",
                    self.correlation_window
                ),
            ));
        }
        let one = Money::from_rupees(1);
        if self.correlation_threshold <= one.neg() || self.correlation_threshold > one {
            issues.push(ConfigIssue::new(
                format!("{prefix}.correlation_threshold"),
                format!(
                    "is {}, must be above -1 and at most 1",
                    self.correlation_threshold
                ),
            ));
        }
        if self.max_cluster_positions == 0 {
            issues.push(ConfigIssue::new(
                format!("{prefix}.max_cluster_positions"),
                "is 0, must be at least 1 (the candidate itself)".to_owned(),
            ));
        }
        if self.max_order_value <= Money::ZERO
            || self.max_order_value > Money::from_rupees(MAX_CAPITAL_RUPEES)
        {
            issues.push(ConfigIssue::new(
                format!("{prefix}.max_order_value"),
                format!(
                    "is {}, must be above zero and at most {} rupees",
                    self.max_order_value,
                    Money::from_rupees(MAX_CAPITAL_RUPEES)
                ),
            ));
        }
        for (key, secs) in [
            ("signal_expiry_secs", self.signal_expiry_secs),
            ("cooldown_secs", self.cooldown_secs),
            ("stale_quote_secs", self.stale_quote_secs),
        ] {
            if secs > MAX_WINDOW_SECS {
                issues.push(ConfigIssue::new(
                    format!("{prefix}.{key}"),
                    format!("is {secs}, must be at most {MAX_WINDOW_SECS} seconds (a day)"),
                ));
            }
        }
    }
}

/// Largest accepted `signal_expiry_secs`, `cooldown_secs` and `stale_quote_secs`: a day.
const MAX_WINDOW_SECS: u32 = 86_400;

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
    fn every_limit_reads_formats_and_sets_back() {
        let cfg = RiskConfig::default();
        for key in LimitKey::ALL {
            let text = RiskConfig::format_limit(key, cfg.limit(key));
            let value = RiskConfig::parse_limit(key, &text).unwrap();
            assert_eq!(value, cfg.limit(key), "{}: {text}", key.as_str());
            assert_eq!(cfg.with_limit(key, value).limit(key), value);
        }
        let flag = RiskConfig::parse_limit(LimitKey::DailyLossFlatten, "on").unwrap();
        assert!(
            cfg.with_limit(LimitKey::DailyLossFlatten, flag)
                .daily_loss_flatten
        );
        assert!(RiskConfig::parse_limit(LimitKey::DailyLossFlatten, "maybe").is_err());
        let window = RiskConfig::parse_limit(LimitKey::CorrelationWindow, "60").unwrap();
        assert_eq!(
            cfg.with_limit(LimitKey::CorrelationWindow, window)
                .correlation_window,
            60
        );
        assert!(RiskConfig::parse_limit(LimitKey::CorrelationWindow, "1.5").is_err());
        let rho = RiskConfig::parse_limit(LimitKey::CorrelationThreshold, "0.65").unwrap();
        assert_eq!(
            RiskConfig::format_limit(LimitKey::CorrelationThreshold, rho),
            "0.65"
        );
        // A set is validated as the file is: a window too short is named.
        let mut issues = Vec::new();
        cfg.with_limit(LimitKey::CorrelationWindow, LimitValue(3))
            .validate("risk", &mut issues);
        assert_eq!(issues[0].key, "risk.correlation_window");
    }

    #[test]
    fn out_of_range_values_name_their_keys() {
        let cfg = RiskConfig {
            capital: Money::ZERO,
            sizing_basis: SizingBasis::Capital,
            risk_per_trade_pct: Money::from_rupees(101),
            option_risk_pct: Money::ZERO,
            max_option_exposure_pct: Money::from_rupees(501),
            max_sector_pct: Money::ZERO,
            correlation_window: 5,
            correlation_threshold: Money::from_rupees(2),
            max_cluster_positions: 0,
            max_cluster_pct: Money::ZERO,
            daily_loss_pct: Money::from_rupees(101),
            daily_loss_flatten: true,
            drawdown_warn_pct: Money::from_rupees(10),
            drawdown_halt_pct: Money::from_rupees(5),
            price_band_pct: Money::ZERO,
            max_order_value: Money::ZERO,
            default_stop_pct: Money::ZERO,
            max_position_pct: Money::from_rupees(501),
            max_exposure_pct: Money::from_rupees(-5),
            last_entry: TimeOfDay::hm(15, 20),
            square_off: TimeOfDay::hm(15, 15),
            fill_log_capacity: MAX_FILL_LOG + 1,
            max_in_flight: 0,
            signal_expiry_secs: 0,
            cooldown_secs: 86_401,
            stale_quote_secs: 86_401,
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
                "risk.option_risk_pct",
                "risk.max_option_exposure_pct",
                "risk.max_sector_pct",
                "risk.max_cluster_pct",
                "risk.daily_loss_pct",
                "risk.price_band_pct",
                "risk.drawdown_warn_pct",
                "risk.correlation_window",
                "risk.correlation_threshold",
                "risk.max_cluster_positions",
                "risk.max_order_value",
                "risk.cooldown_secs",
                "risk.stale_quote_secs",
                "risk.last_entry",
                "risk.fill_log_capacity",
                "risk.max_in_flight",
            ]
        );
    }
}
