//! `[order.kite]`: where the Kite Connect REST API is, the credentials, timeouts, the
//! polling cadence and the retry policy of the Kite gateway.

use std::{path::PathBuf, time::Duration};

use serde::Deserialize;

use crate::config::ConfigIssue;

/// Kite Connect's REST root (PROTOCOLS.md §2.1).
pub const PRODUCTION_API: &str = "https://api.kite.trade";

/// The `[order.kite]` section, read when `[order] gateway = "kite"`.
///
/// ```toml
/// [order]
/// gateway = "kite"
///
/// [order.kite]
/// api_key = "abc123"
/// access_token_file = "var/kite-access-token"   # mode 0600, written by `tickpipe kite login`
/// poll_interval_ms = 500
/// ```
///
/// # Examples
/// ```
/// use tickpipe::order::KiteGatewayConfig;
/// let cfg: KiteGatewayConfig = toml::from_str("api_key = \"k\"\naccess_token_file = \"t\"").unwrap();
/// assert_eq!(cfg.base_url, "https://api.kite.trade");
/// let mut issues = Vec::new();
/// cfg.validate("order.kite", true, &mut issues);
/// assert!(issues.is_empty());
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KiteGatewayConfig {
    /// The REST root, `https://` (or `http://` for a local test server).
    pub base_url: String,
    /// The Kite Connect app's API key.
    pub api_key: String,
    /// A file holding today's access token alone on one line, mode 0600. Read once at
    /// start; never logged.
    pub access_token_file: Option<PathBuf>,
    /// PEM certificates to trust instead of the compiled-in web roots.
    pub ca_file: Option<PathBuf>,
    /// Longest wait for the TCP connection and the TLS handshake.
    pub connect_timeout_ms: u64,
    /// Longest wait for a whole request and its answer.
    pub request_timeout_ms: u64,
    /// How often the order book and the trades are read while an order is working:
    /// status changes and fills reach the engine at this cadence (two requests a poll;
    /// Kite allows 10 a second).
    pub poll_interval_ms: u64,
    /// Tries of a request answered 429 (rate limited) or failed before anything was
    /// sent (connection refused, DNS), each after a doubling wait. Reads (the polls) are
    /// also retried on timeouts and 5xx; placements are not, since Kite may have placed
    /// the order.
    pub retry_attempts: u32,
    /// First wait before a retry.
    pub retry_initial_ms: u64,
    /// Longest wait between retries.
    pub retry_max_ms: u64,
    /// Slots of the request ring (stage → I/O thread) and of the report ring back (a
    /// power of two). A full request ring refuses the order as `throttled`.
    pub ring_capacity: usize,
    /// Seconds between reconciliations of the broker's day positions and open orders
    /// with what the gateway reported; 0 checks only at start (before the first order
    /// goes out).
    pub reconcile_secs: u64,
    /// What a confirmed reconciliation difference does besides being acted on
    /// (`"alert"` or `"halt"`).
    pub reconcile: ReconcilePolicy,
}

/// What a confirmed reconciliation difference does (`[order.kite] reconcile`).
///
/// Either way each difference is acted on once: a position difference of an instrument
/// the engine trades goes to the risk stage as the broker's position, where
/// `risk.reconcile` (`alert`, `adopt` or `flatten`) applies and the risk stage raises the
/// `reconcile_mismatch` alert; any other difference (an order one side does not know,
/// a listing the engine does not trade) is alerted by the gateway. `halt` also halts
/// new entries, as the operator's `halt` would: the engine's picture of the account is
/// wrong, and entries wait until an operator has looked (`tickpipe ctl activate`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReconcilePolicy {
    /// Each difference is alerted (and handed to `risk.reconcile`); trading goes on.
    #[default]
    Alert,
    /// As `alert`, and new entries halt.
    Halt,
}

impl Default for KiteGatewayConfig {
    fn default() -> Self {
        KiteGatewayConfig {
            base_url: PRODUCTION_API.to_owned(),
            api_key: String::new(),
            access_token_file: None,
            ca_file: None,
            connect_timeout_ms: 5_000,
            request_timeout_ms: 10_000,
            poll_interval_ms: 500,
            retry_attempts: 3,
            retry_initial_ms: 200,
            retry_max_ms: 2_000,
            ring_capacity: 1_024,
            reconcile_secs: 60,
            reconcile: ReconcilePolicy::Alert,
        }
    }
}

/// Longest accepted timeout or interval: ten minutes.
const MAX_MS: u64 = 600_000;
/// Most accepted retries.
const MAX_RETRIES: u32 = 20;
/// Largest accepted ring.
const MAX_RING: usize = 1 << 16;

impl KiteGatewayConfig {
    /// Pushes one issue per invalid key, prefixed with `prefix` (`order.kite`).
    /// `in_use`: the gateway is selected, so the credentials are required.
    pub fn validate(&self, prefix: &str, in_use: bool, issues: &mut Vec<ConfigIssue>) {
        let mut issue = |key: &str, reason: String| {
            issues.push(ConfigIssue::new(format!("{prefix}.{key}"), reason));
        };
        if let Err(e) = check_base_url(&self.base_url) {
            issue("base_url", e);
        }
        if in_use && self.api_key.trim().is_empty() {
            issue(
                "api_key",
                "required when order.gateway = \"kite\": the Kite Connect app's API key".to_owned(),
            );
        }
        if !self
            .api_key
            .trim()
            .bytes()
            .all(|b| b.is_ascii_graphic() && !matches!(b, b'"' | b'\'' | b':'))
        {
            issue(
                "api_key",
                "must be printable ASCII without spaces, quotes or colons".to_owned(),
            );
        }
        if in_use && self.access_token_file.is_none() {
            issue(
                "access_token_file",
                "required when order.gateway = \"kite\": the file `tickpipe kite login` writes"
                    .to_owned(),
            );
        }
        for (key, path) in [
            ("access_token_file", &self.access_token_file),
            ("ca_file", &self.ca_file),
        ] {
            if path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
                issue(key, "is empty: name a file or leave the key out".to_owned());
            }
        }
        for (key, value) in [
            ("connect_timeout_ms", self.connect_timeout_ms),
            ("request_timeout_ms", self.request_timeout_ms),
            ("poll_interval_ms", self.poll_interval_ms),
            ("retry_initial_ms", self.retry_initial_ms),
            ("retry_max_ms", self.retry_max_ms),
        ] {
            if value == 0 || value > MAX_MS {
                issue(key, format!("is {value}, must be from 1 to {MAX_MS}"));
            }
        }
        if self.reconcile_secs > MAX_MS / 1000 {
            issue(
                "reconcile_secs",
                format!(
                    "is {}, must be from 0 (only at start) to {}",
                    self.reconcile_secs,
                    MAX_MS / 1000
                ),
            );
        }
        if self.retry_max_ms < self.retry_initial_ms {
            issue(
                "retry_max_ms",
                format!(
                    "is {}, must be at least retry_initial_ms ({})",
                    self.retry_max_ms, self.retry_initial_ms
                ),
            );
        }
        if self.retry_attempts > MAX_RETRIES {
            issue(
                "retry_attempts",
                format!(
                    "is {}, must be from 0 to {MAX_RETRIES}",
                    self.retry_attempts
                ),
            );
        }
        if !self.ring_capacity.is_power_of_two() || self.ring_capacity > MAX_RING {
            issue(
                "ring_capacity",
                format!(
                    "is {}, must be a power of two up to {MAX_RING}",
                    self.ring_capacity
                ),
            );
        }
    }

    /// The retry policy, as durations.
    pub fn retry(&self) -> RetryPolicy {
        RetryPolicy {
            attempts: self.retry_attempts,
            initial: Duration::from_millis(self.retry_initial_ms),
            max: Duration::from_millis(self.retry_max_ms),
        }
    }

    /// How often to reconcile after the start; `None`: only at start.
    pub fn reconcile_every(&self) -> Option<Duration> {
        (self.reconcile_secs > 0).then(|| Duration::from_secs(self.reconcile_secs))
    }

    /// The REST root without a trailing slash.
    pub fn root(&self) -> &str {
        self.base_url.trim_end_matches('/')
    }
}

/// How often and how patiently a failed request is tried again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RetryPolicy {
    /// Tries after the first.
    pub attempts: u32,
    /// The first wait; doubled per try.
    pub initial: Duration,
    /// The cap of the wait.
    pub max: Duration,
}

impl RetryPolicy {
    /// The wait before retry number `n` (0-based): `initial · 2ⁿ`, capped at `max`.
    ///
    /// # Examples
    /// ```
    /// use std::time::Duration;
    /// use tickpipe::order::RetryPolicy;
    /// let p = RetryPolicy { attempts: 5, initial: Duration::from_millis(100), max: Duration::from_millis(300) };
    /// assert_eq!(p.wait(0), Duration::from_millis(100));
    /// assert_eq!(p.wait(1), Duration::from_millis(200));
    /// assert_eq!(p.wait(9), Duration::from_millis(300));
    /// ```
    pub fn wait(&self, n: u32) -> Duration {
        self.initial
            .saturating_mul(1u32.checked_shl(n.min(31)).unwrap_or(u32::MAX))
            .min(self.max)
    }
}

/// `https://` (or `http://`), a host, no query.
fn check_base_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(|| {
            format!("`{url}` must start with https:// (or http:// for a local server)")
        })?;
    if rest.split(['/', ':']).next().unwrap_or_default().is_empty() && !rest.starts_with('[') {
        return Err(format!("`{url}` has no host"));
    }
    if rest.contains('?') || rest.contains('#') {
        return Err(format!("`{url}` must not carry a query or fragment"));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_bad_key_is_named() {
        let cfg: KiteGatewayConfig = toml::from_str(
            "base_url = \"ftp://x\"\npoll_interval_ms = 0\nretry_initial_ms = 500\nretry_max_ms = 100\nring_capacity = 1000\nca_file = \"\"",
        )
        .unwrap();
        let mut issues = Vec::new();
        cfg.validate("order.kite", true, &mut issues);
        let keys: Vec<&str> = issues.iter().map(|i| i.key.as_str()).collect();
        assert_eq!(
            keys,
            [
                "order.kite.base_url",
                "order.kite.api_key",
                "order.kite.access_token_file",
                "order.kite.ca_file",
                "order.kite.poll_interval_ms",
                "order.kite.retry_max_ms",
                "order.kite.ring_capacity",
            ]
        );
        let mut unused = Vec::new();
        KiteGatewayConfig::default().validate("order.kite", false, &mut unused);
        assert!(unused.is_empty(), "{unused:?}");
        assert!(toml::from_str::<KiteGatewayConfig>("token = \"x\"").is_err());
        let cfg: KiteGatewayConfig = toml::from_str("reconcile = \"halt\"").unwrap();
        assert_eq!(cfg.reconcile, ReconcilePolicy::Halt);
        assert!(toml::from_str::<KiteGatewayConfig>("reconcile = \"flatten\"").is_err());
        let cfg: KiteGatewayConfig =
            toml::from_str("reconcile = \"alert\"\nreconcile_secs = 0").unwrap();
        assert_eq!(cfg.reconcile_every(), None);
        let cfg: KiteGatewayConfig = toml::from_str("reconcile_secs = 100000").unwrap();
        let mut issues = Vec::new();
        cfg.validate("order.kite", false, &mut issues);
        assert_eq!(issues[0].key, "order.kite.reconcile_secs");
    }
}
