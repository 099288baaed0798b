//! The `[order]` section: the gateway, the broker's rate limits, retries, what happens to
//! the unfilled rest of an order, and what every order carries (product, protection, tag).

use serde::Deserialize;

use crate::{
    config::ConfigIssue,
    model::{InstrumentKind, IntentReason},
    order::{gateway::KiteGatewayConfig, venue::Product},
};

/// Which gateway the order stage talks to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum GatewayKind {
    /// The paper exchange: market orders fill at the latest bid/ask.
    #[default]
    Paper,
    /// Zerodha's Kite Connect: real orders (`[order.kite]`).
    Kite,
}

/// What the order stage does with the unfilled rest of a partly filled order once
/// `remainder_timeout_ms` of market time passed without a fill.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RemainderPolicy {
    /// Leave it working at the venue.
    Wait,
    /// Move a limit order's price to the touch (a modification); market orders wait.
    Reprice,
    /// Cancel the rest; the intent ends with what filled (entries only: an exit is never
    /// abandoned).
    #[default]
    Cancel,
    /// Cancel the rest and send it again as a market order within market protection.
    Market,
}

/// The `[order]` section.
///
/// The default rate limits are Kite Connect's order limits (10 orders a second, 400 a
/// minute, 5,000 a day) and its 25 modifications per order; windows are measured in
/// market time, so a backtest meets them exactly as a live run would.
///
/// # Examples
/// ```
/// use tickpipe::order::{OrderConfig, RemainderPolicy};
/// let cfg: OrderConfig = toml::from_str("per_second = 5\nexit_remainder = \"reprice\"").unwrap();
/// assert_eq!(cfg.per_second, 5);
/// assert_eq!(cfg.per_minute, 400);
/// assert_eq!(cfg.exit_remainder, RemainderPolicy::Reprice);
/// let mut issues = Vec::new();
/// cfg.validate("order", &mut issues);
/// assert!(issues.is_empty());
/// ```
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct OrderConfig {
    /// The gateway.
    pub gateway: GatewayKind,
    /// Most order requests (placements, modifications, cancels) in any second of market
    /// time.
    pub per_second: u32,
    /// Most order requests in any minute.
    pub per_minute: u32,
    /// Most order requests in the day.
    pub per_day: u32,
    /// Entry requests that may wait for the rate limit at once; more entries are
    /// refused as `throttled`. Exits always wait, never refused.
    pub queue_capacity: usize,
    /// Modifications the venue allows per order; after them an order is cancelled and
    /// placed again instead.
    pub max_modifications: u32,
    /// Placements of one slice refused for a retriable reason (rate limit, network,
    /// price band, no quote) that are tried again, each after a backoff.
    pub retry_max_attempts: u32,
    /// First wait before a retriable refusal is tried again (market time); doubles per
    /// attempt.
    pub retry_backoff_ms: u64,
    /// Longest wait between attempts.
    pub retry_backoff_max_ms: u64,
    /// The unfilled rest of a partly filled entry.
    pub entry_remainder: RemainderPolicy,
    /// The unfilled rest of a partly filled exit (stop, target, square-off, manual,
    /// emergency): `wait`, `reprice` or `market`, never `cancel`.
    pub exit_remainder: RemainderPolicy,
    /// Market time after an order's last fill (or placement) before its remainder
    /// policy acts.
    pub remainder_timeout_ms: u64,
    /// Market protection on every market and stop-market order, in basis points of the
    /// touch: the venue fills no further away (Kite's `market_protection`, a percent, is
    /// this / 100; exchanges refuse market orders without protection).
    pub protection_bps: u16,
    /// The exchange-approved algo id tagged on every order (empty: none). The order
    /// stage holds it; a broker gateway reads it from here.
    pub algo_id: String,
    /// Product of equity orders: `MIS` (intraday) or `CNC` (delivery).
    pub product_equity: Product,
    /// Product of futures orders: `MIS` or `NRML` (carried).
    pub product_future: Product,
    /// Product of options orders: `MIS` or `NRML`.
    pub product_option: Product,
    /// Keep a broker-side stop-market (SL-M) order on every open position at the
    /// engine's stop, so a position stays protected if the engine dies. Off by default:
    /// each protective order, modification and cancel uses the broker's rate limits.
    pub protective_stop: bool,
    /// Ticks the engine's stop must move before the broker-side stop is modified to
    /// follow it: the venue allows `max_modifications` per order, so a trailing stop
    /// that moves on every tick is followed only in steps of this size.
    pub protective_stop_step_ticks: u32,
    /// `[order.kite]`: the Kite Connect gateway (read when `gateway = "kite"`).
    pub kite: KiteGatewayConfig,
    /// A reject storm: this many refusals (by the venue or broker, retried or not)
    /// within `reject_storm_secs` of market time raise a critical `reject_storm` alert;
    /// 0 turns the watch off.
    pub reject_storm_count: u32,
    /// The window of a reject storm, seconds of market time; 0 turns the watch off.
    pub reject_storm_secs: u32,
    /// At the end of the session a broker's working entries are cancelled (a broker
    /// keeps a day order working until the close, which would hold the engine open); the
    /// stage waits this many seconds of wall time for the broker to confirm them (market
    /// time no longer moves then). Entries still working after it are named in a
    /// critical `end_cancel_timeout` alert and left behind, and the run ends with an
    /// error. Exits are never cancelled: they are worked until done.
    pub end_cancel_secs: u32,
}

impl Default for OrderConfig {
    fn default() -> Self {
        OrderConfig {
            gateway: GatewayKind::Paper,
            per_second: 10,
            per_minute: 400,
            per_day: 5_000,
            queue_capacity: 256,
            max_modifications: 25,
            retry_max_attempts: 3,
            retry_backoff_ms: 250,
            retry_backoff_max_ms: 2_000,
            entry_remainder: RemainderPolicy::Cancel,
            exit_remainder: RemainderPolicy::Market,
            remainder_timeout_ms: 5_000,
            protection_bps: 300,
            algo_id: String::new(),
            product_equity: Product::Mis,
            product_future: Product::Mis,
            product_option: Product::Mis,
            protective_stop: false,
            protective_stop_step_ticks: 20,
            kite: KiteGatewayConfig::default(),
            reject_storm_count: 10,
            reject_storm_secs: 60,
            end_cancel_secs: 5,
        }
    }
}

/// Largest accepted `per_day` (the rate window keeps one timestamp per request).
const MAX_PER_DAY: u32 = 1 << 20;
/// Largest accepted `queue_capacity`.
const MAX_QUEUE: usize = 1 << 16;
/// Longest accepted backoff or timeout: an hour of market time.
const MAX_WAIT_MS: u64 = 3_600_000;
/// Largest accepted `max_modifications` (the counter is a byte).
const MAX_MODIFICATIONS: u32 = 255;
/// Largest accepted `retry_max_attempts`: each retry is a new child order id, and an
/// intent has at most 256 of them.
const MAX_ATTEMPTS: u32 = 20;
/// Largest accepted `reject_storm_count` (the watch keeps that many times).
const MAX_REJECT_STORM: u32 = 10_000;
/// Longest accepted `reject_storm_secs`: a day.
const MAX_REJECT_STORM_SECS: u32 = 86_400;
/// Longest accepted algo id (Kite's `tag` takes 20 characters).
const MAX_ALGO_ID: usize = 20;
/// Largest accepted `protective_stop_step_ticks`.
const MAX_STEP_TICKS: u32 = 100_000;
/// Longest accepted `end_cancel_secs`: ten minutes.
const MAX_END_CANCEL_SECS: u32 = 600;

impl OrderConfig {
    /// The remainder policy of an intent of `reason`.
    pub fn remainder(&self, reason: IntentReason) -> RemainderPolicy {
        if reason == IntentReason::Entry {
            self.entry_remainder
        } else {
            self.exit_remainder
        }
    }

    /// The product orders in instruments of `kind` are placed under.
    pub fn product(&self, kind: InstrumentKind) -> Product {
        match kind {
            InstrumentKind::Equity | InstrumentKind::Index => self.product_equity,
            InstrumentKind::Future => self.product_future,
            InstrumentKind::Option => self.product_option,
        }
    }

    /// Checks every key, adding one issue per problem.
    pub fn validate(&self, prefix: &str, issues: &mut Vec<ConfigIssue>) {
        let mut issue = |key: &str, reason: String| {
            issues.push(ConfigIssue::new(format!("{prefix}.{key}"), reason));
        };
        for (key, value) in [
            ("per_second", self.per_second),
            ("per_minute", self.per_minute),
            ("per_day", self.per_day),
        ] {
            if value == 0 || value > MAX_PER_DAY {
                issue(key, format!("is {value}, must be from 1 to {MAX_PER_DAY}"));
            }
        }
        if self.reject_storm_count > MAX_REJECT_STORM {
            issue(
                "reject_storm_count",
                format!(
                    "is {}, must be at most {MAX_REJECT_STORM} (0 turns the watch off)",
                    self.reject_storm_count
                ),
            );
        }
        if self.reject_storm_secs > MAX_REJECT_STORM_SECS {
            issue(
                "reject_storm_secs",
                format!(
                    "is {}, must be at most {MAX_REJECT_STORM_SECS} (a day)",
                    self.reject_storm_secs
                ),
            );
        }
        if self.end_cancel_secs == 0 || self.end_cancel_secs > MAX_END_CANCEL_SECS {
            issue(
                "end_cancel_secs",
                format!(
                    "is {}, must be from 1 to {MAX_END_CANCEL_SECS} (seconds the broker has to confirm the cancels at the end)",
                    self.end_cancel_secs
                ),
            );
        }
        if self.per_minute < self.per_second || self.per_day < self.per_minute {
            issue(
                "per_minute",
                format!(
                    "windows must not shrink as they lengthen: per_second {} <= per_minute {} <= per_day {}",
                    self.per_second, self.per_minute, self.per_day
                ),
            );
        }
        if self.queue_capacity == 0 || self.queue_capacity > MAX_QUEUE {
            issue(
                "queue_capacity",
                format!("is {}, must be from 1 to {MAX_QUEUE}", self.queue_capacity),
            );
        }
        if self.max_modifications > MAX_MODIFICATIONS {
            issue(
                "max_modifications",
                format!(
                    "is {}, must be from 0 to {MAX_MODIFICATIONS}",
                    self.max_modifications
                ),
            );
        }
        if self.retry_max_attempts > MAX_ATTEMPTS {
            issue(
                "retry_max_attempts",
                format!(
                    "is {}, must be from 0 to {MAX_ATTEMPTS}",
                    self.retry_max_attempts
                ),
            );
        }
        for (key, value) in [
            ("retry_backoff_ms", self.retry_backoff_ms),
            ("retry_backoff_max_ms", self.retry_backoff_max_ms),
            ("remainder_timeout_ms", self.remainder_timeout_ms),
        ] {
            if value == 0 || value > MAX_WAIT_MS {
                issue(key, format!("is {value}, must be from 1 to {MAX_WAIT_MS}"));
            }
        }
        if self.retry_backoff_max_ms < self.retry_backoff_ms {
            issue(
                "retry_backoff_max_ms",
                format!(
                    "is {}, must be at least retry_backoff_ms ({})",
                    self.retry_backoff_max_ms, self.retry_backoff_ms
                ),
            );
        }
        if self.exit_remainder == RemainderPolicy::Cancel {
            issue(
                "exit_remainder",
                "is `cancel`; an exit is worked until done: use wait, reprice or market".to_owned(),
            );
        }
        if self.protection_bps == 0 || self.protection_bps > 10_000 {
            issue(
                "protection_bps",
                format!(
                    "is {}, must be from 1 to 10000 (exchanges refuse market orders without protection)",
                    self.protection_bps
                ),
            );
        }
        if self.algo_id.len() > MAX_ALGO_ID
            || !self.algo_id.chars().all(|c| c.is_ascii_alphanumeric())
        {
            issue(
                "algo_id",
                format!(
                    "`{}` must be at most {MAX_ALGO_ID} letters and digits",
                    self.algo_id
                ),
            );
        }
        if self.protective_stop_step_ticks == 0 || self.protective_stop_step_ticks > MAX_STEP_TICKS
        {
            issue(
                "protective_stop_step_ticks",
                format!(
                    "is {}, must be from 1 to {MAX_STEP_TICKS} (ticks the stop moves before the broker's stop follows)",
                    self.protective_stop_step_ticks
                ),
            );
        }
        if self.product_equity == Product::Nrml {
            issue(
                "product_equity",
                "is NRML, which is for derivatives: use MIS or CNC".to_owned(),
            );
        }
        for (key, product) in [
            ("product_future", self.product_future),
            ("product_option", self.product_option),
        ] {
            if product == Product::Cnc {
                issue(
                    key,
                    "is CNC, which is for equity delivery: use MIS or NRML".to_owned(),
                );
            }
        }
        self.kite.validate(
            &format!("{prefix}.kite"),
            self.gateway == GatewayKind::Kite,
            issues,
        );
    }
}

/// Products are written as brokers spell them: `MIS`, `CNC`, `NRML`.
impl<'de> Deserialize<'de> for Product {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Product, D::Error> {
        let name = String::deserialize(d)?;
        match name.as_str() {
            "MIS" => Ok(Product::Mis),
            "CNC" => Ok(Product::Cnc),
            "NRML" => Ok(Product::Nrml),
            other => Err(serde::de::Error::custom(format!(
                "unknown product `{other}`, expected MIS, CNC or NRML"
            ))),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_key_is_named() {
        let cfg: OrderConfig = toml::from_str(
            r#"
            per_second = 0
            queue_capacity = 0
            retry_backoff_ms = 0
            exit_remainder = "cancel"
            protection_bps = 0
            algo_id = "has space"
            protective_stop_step_ticks = 0
            end_cancel_secs = 0
            product_equity = "NRML"
            product_option = "CNC"
            "#,
        )
        .unwrap();
        let mut issues = Vec::new();
        cfg.validate("order", &mut issues);
        let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "order.per_second",
                "order.end_cancel_secs",
                "order.queue_capacity",
                "order.retry_backoff_ms",
                "order.exit_remainder",
                "order.protection_bps",
                "order.algo_id",
                "order.protective_stop_step_ticks",
                "order.product_equity",
                "order.product_option",
            ]
        );
        assert!(toml::from_str::<OrderConfig>("per_sec = 1").is_err());
        assert!(toml::from_str::<OrderConfig>("product_equity = \"XYZ\"").is_err());
    }

    #[test]
    fn products_and_policies_by_kind() {
        let cfg: OrderConfig = toml::from_str("product_option = \"NRML\"").unwrap();
        assert_eq!(cfg.product(InstrumentKind::Option), Product::Nrml);
        assert_eq!(cfg.product(InstrumentKind::Equity), Product::Mis);
        assert_eq!(cfg.remainder(IntentReason::Entry), RemainderPolicy::Cancel);
        assert_eq!(
            cfg.remainder(IntentReason::StopLoss),
            RemainderPolicy::Market
        );
    }
}
