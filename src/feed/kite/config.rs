//! `[feed.kite]`: the live Kite Ticker source, its credentials and its reconnect policy.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use serde::Deserialize;

use super::Mode;
use crate::{config::ConfigIssue, feed::parse_duration};

/// The production Ticker endpoint (PROTOCOLS.md §1.1); `api_key` and `access_token` are
/// added as query parameters when connecting.
pub const PRODUCTION_URL: &str = "wss://ws.kite.trade";

/// Kite streams at most this many instruments on one connection (PROTOCOLS.md §1.1).
pub const MAX_INSTRUMENTS: usize = 3000;

/// Configuration of the live Kite Ticker source (TOML section `[feed.kite]`).
///
/// ```toml
/// [feed]
/// source = "kite"
///
/// [feed.kite]
/// api_key = "abc123"
/// access_token_file = "/etc/tickpipe/kite-access-token"  # rewritten every morning
/// mode = "full"                   # "full", "quote" or "ltp"
/// instruments = "var/instruments.csv"   # or `tickpipe run --instruments FILE`
/// stale_after = "5s"              # no frame (not even a heartbeat) for this long: reconnect
/// reconnect_initial = "1s"
/// reconnect_max = "60s"
/// reconnect_attempts_per_day = 300    # or "unlimited"
/// ```
///
/// The access token is never written in the configuration: Kite's token expires every
/// morning, so it lives in a file that the login step rewrites, and it is read again at
/// every (re)connection.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct KiteConfig {
    /// The Ticker's WebSocket URL, `wss://` (or `ws://` for a local test server).
    pub url: String,
    /// The Kite Connect app's API key.
    pub api_key: String,
    /// A file holding today's access token (one line; surrounding whitespace ignored).
    pub access_token_file: Option<PathBuf>,
    /// Subscription mode for every instrument: `full` (depth and exchange timestamps),
    /// `quote` or `ltp`.
    pub mode: Mode,
    /// Universe CSV whose symbols are subscribed; absent means the embedded NIFTY 50.
    pub universe: Option<PathBuf>,
    /// Kite's instrument master (`--instruments FILE` sets it): maps each universe symbol
    /// to its instrument token and tick size.
    pub instruments: Option<PathBuf>,
    /// PEM certificates to trust instead of the compiled-in web roots (a TLS-inspecting
    /// proxy, a test server). Absent: Mozilla's root set.
    pub ca_file: Option<PathBuf>,
    /// Silence (no frame at all, heartbeats included) after which the connection is
    /// taken as dead, closed and opened again. Kite sends a heartbeat about every second.
    pub stale_after: String,
    /// Longest wait for the TCP connection, the TLS and the WebSocket handshakes.
    pub connect_timeout: String,
    /// Wait before the first reconnection; doubled after each failed attempt.
    pub reconnect_initial: String,
    /// Cap of the doubling wait.
    pub reconnect_max: String,
    /// Reconnection attempts allowed in one IST day before the source gives up and the
    /// feed stage stops with the last error: a number, or `"unlimited"`.
    pub reconnect_attempts_per_day: AttemptSetting,
    /// Slots of the ring from the connection thread to the feed stage (a power of two).
    /// When it is full, ticks are conflated per instrument (the newest kept) and counted.
    pub ring_capacity: usize,
}

/// `reconnect_attempts_per_day` as written: a count or a word (checked by
/// [`KiteConfig::validate`], so a bad value is reported with every other problem).
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
#[serde(untagged)]
pub enum AttemptSetting {
    /// A number of attempts.
    Count(i64),
    /// `"unlimited"` (anything else is reported).
    Word(String),
}

impl Default for KiteConfig {
    fn default() -> Self {
        KiteConfig {
            url: PRODUCTION_URL.to_owned(),
            api_key: String::new(),
            access_token_file: None,
            mode: Mode::Full,
            universe: None,
            instruments: None,
            ca_file: None,
            stale_after: "5s".to_owned(),
            connect_timeout: "10s".to_owned(),
            reconnect_initial: "1s".to_owned(),
            reconnect_max: "60s".to_owned(),
            // The official Go client's limit (PROTOCOLS.md §1.1).
            reconnect_attempts_per_day: AttemptSetting::Count(300),
            ring_capacity: 16_384,
        }
    }
}

/// The timing keys of `[feed.kite]`, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LinkTiming {
    /// See [`KiteConfig::stale_after`].
    pub stale_after: Duration,
    /// See [`KiteConfig::connect_timeout`].
    pub connect_timeout: Duration,
    /// See [`KiteConfig::reconnect_initial`].
    pub reconnect_initial: Duration,
    /// See [`KiteConfig::reconnect_max`].
    pub reconnect_max: Duration,
    /// Attempts per IST day; `None` for unlimited.
    pub attempts_per_day: Option<u32>,
}

impl KiteConfig {
    /// Pushes one issue per invalid field, keys prefixed with `prefix` (e.g. `feed.kite`).
    ///
    /// Files are not opened here (`tickpipe config check` and the source's start do
    /// that), and a missing `instruments` is not an issue: `--instruments` may supply it.
    pub fn validate(&self, prefix: &str, issues: &mut Vec<ConfigIssue>) {
        let mut issue = |key: &str, reason: String| {
            issues.push(ConfigIssue::new(format!("{prefix}.{key}"), reason));
        };
        if let Err(e) = check_url(&self.url) {
            issue("url", e);
        }
        if self.api_key.trim().is_empty() {
            issue(
                "api_key",
                "required: the Kite Connect app's API key".to_owned(),
            );
        } else if !is_token_text(&self.api_key) {
            issue(
                "api_key",
                "must be printable ASCII without spaces or quotes".to_owned(),
            );
        }
        match &self.access_token_file {
            None => issue(
                "access_token_file",
                "required: the file holding today's access token (the token expires daily, so \
                 it is never written in the configuration)"
                    .to_owned(),
            ),
            Some(p) if p.as_os_str().is_empty() => issue("access_token_file", "empty path".into()),
            Some(_) => {}
        }
        for (key, path) in [
            ("universe", &self.universe),
            ("instruments", &self.instruments),
            ("ca_file", &self.ca_file),
        ] {
            if path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
                issue(key, "empty path".to_owned());
            }
        }
        let mut duration = |key: &str, text: &str| match parse_duration(text) {
            Ok(Some(d)) => Some(d),
            Ok(None) => {
                issue(key, "required: a duration such as 5s or 500ms".to_owned());
                None
            }
            Err(e) => {
                issue(key, e);
                None
            }
        };
        duration("stale_after", &self.stale_after);
        duration("connect_timeout", &self.connect_timeout);
        let initial = duration("reconnect_initial", &self.reconnect_initial);
        let max = duration("reconnect_max", &self.reconnect_max);
        if let (Some(initial), Some(max)) = (initial, max) {
            if max < initial {
                issue(
                    "reconnect_max",
                    format!(
                        "{} is shorter than reconnect_initial ({})",
                        self.reconnect_max, self.reconnect_initial
                    ),
                );
            }
        }
        if let Err(e) = self.attempts_per_day() {
            issue("reconnect_attempts_per_day", e);
        }
        if !self.ring_capacity.is_power_of_two() || !(64..=1 << 20).contains(&self.ring_capacity) {
            issue(
                "ring_capacity",
                format!(
                    "must be a power of two from 64 to 1048576, got {}",
                    self.ring_capacity
                ),
            );
        }
    }

    /// The attempt limit: `None` for unlimited.
    ///
    /// # Errors
    /// A reason when the value is neither a positive number nor `"unlimited"`.
    pub fn attempts_per_day(&self) -> Result<Option<u32>, String> {
        match &self.reconnect_attempts_per_day {
            AttemptSetting::Count(n) => match u32::try_from(*n) {
                Ok(n) if n > 0 => Ok(Some(n)),
                _ => Err(format!(
                    "must be a number from 1 to {} or \"unlimited\", got {n}",
                    u32::MAX
                )),
            },
            AttemptSetting::Word(w) if w == "unlimited" => Ok(None),
            AttemptSetting::Word(w) => Err(format!(
                "must be a number of attempts or \"unlimited\", got \"{w}\""
            )),
        }
    }

    /// The timing keys, parsed.
    ///
    /// # Errors
    /// The first invalid key and why ([`KiteConfig::validate`] reports them all).
    pub fn timing(&self) -> Result<LinkTiming, String> {
        let get = |key: &str, text: &str| {
            parse_duration(text)
                .and_then(|d| d.ok_or_else(|| "empty".to_owned()))
                .map_err(|e| format!("feed.kite.{key}: {e}"))
        };
        Ok(LinkTiming {
            stale_after: get("stale_after", &self.stale_after)?,
            connect_timeout: get("connect_timeout", &self.connect_timeout)?,
            reconnect_initial: get("reconnect_initial", &self.reconnect_initial)?,
            reconnect_max: get("reconnect_max", &self.reconnect_max)?,
            attempts_per_day: self
                .attempts_per_day()
                .map_err(|e| format!("feed.kite.reconnect_attempts_per_day: {e}"))?,
        })
    }
}

/// Reads the access token from `path`: the file's text without surrounding whitespace.
///
/// Read at start and again before every reconnection, so a token refreshed in the
/// morning is picked up without a restart.
///
/// # Errors
/// A message naming the file when it cannot be read, is empty, or holds more than one
/// word or characters a token cannot have. The token itself is never quoted.
///
/// # Examples
/// ```
/// let dir = std::env::temp_dir().join(format!("tickpipe-doc-token-{}", std::process::id()));
/// std::fs::create_dir_all(&dir).unwrap();
/// let file = dir.join("token");
/// std::fs::write(&file, "abcd1234\n").unwrap();
/// assert_eq!(tickpipe::feed::kite::read_access_token(&file).unwrap(), "abcd1234");
/// std::fs::write(&file, "\n").unwrap();
/// assert!(tickpipe::feed::kite::read_access_token(&file).unwrap_err().contains("is empty"));
/// std::fs::remove_dir_all(&dir).unwrap();
/// ```
pub fn read_access_token(path: &Path) -> Result<String, String> {
    let shown = path.display();
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("cannot read the access token file {shown}: {e}"))?;
    let token = text.trim();
    if token.is_empty() {
        return Err(format!(
            "the access token file {shown} is empty; write today's access token into it \
             (Kite's tokens expire every morning)"
        ));
    }
    if !is_token_text(token) {
        return Err(format!(
            "the access token file {shown} must hold the token alone on one line \
             (printable ASCII, no spaces or quotes)"
        ));
    }
    Ok(token.to_owned())
}

/// Printable ASCII without spaces or quotes: what API keys and access tokens are made of.
fn is_token_text(text: &str) -> bool {
    !text.is_empty()
        && text
            .bytes()
            .all(|b| b.is_ascii_graphic() && b != b'"' && b != b'\'')
}

/// `ws://` or `wss://`, a host, and no `api_key`/`access_token` of its own.
fn check_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("wss://")
        .or_else(|| url.strip_prefix("ws://"))
        .ok_or_else(|| format!("`{url}` must start with wss:// (or ws:// for a local server)"))?;
    let host = rest.split(['/', '?', ':']).next().unwrap_or_default();
    if host.is_empty() && !rest.starts_with('[') {
        return Err(format!("`{url}` has no host"));
    }
    if url.contains("access_token=") || url.contains("api_key=") {
        return Err(
            "must not carry api_key or access_token: they come from feed.kite.api_key and \
             access_token_file"
                .to_owned(),
        );
    }
    Ok(())
}

/// The URL to connect to: `url` with `api_key` and `access_token` appended as query
/// parameters, percent-encoded, and the path `/` when `url` has none (the request line
/// needs a path: `GET /?api_key=…`).
pub(crate) fn connect_url(url: &str, api_key: &str, access_token: &str) -> String {
    let authority_at = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[authority_at..];
    let path_or_query = rest.find(['/', '?']).map(|i| (i, rest.as_bytes()[i]));
    let url = match path_or_query {
        Some((_, b'/')) => url.to_owned(),
        Some((i, _)) => format!("{}/{}", &url[..authority_at + i], &rest[i..]),
        None => format!("{url}/"),
    };
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{joiner}api_key={}&access_token={}",
        percent_encode(api_key),
        percent_encode(access_token)
    )
}

/// Percent-encodes everything but RFC 3986's unreserved characters.
fn percent_encode(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for b in text.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~') {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn issues(toml_text: &str) -> Vec<String> {
        let cfg: KiteConfig = toml::from_str(toml_text).unwrap();
        let mut issues = Vec::new();
        cfg.validate("feed.kite", &mut issues);
        issues.into_iter().map(|i| i.key).collect()
    }

    #[test]
    fn a_complete_table_passes_and_the_defaults_are_kites() {
        assert!(issues("api_key = \"k\"\naccess_token_file = \"t\"\n").is_empty());
        let cfg = KiteConfig::default();
        assert_eq!(cfg.url, PRODUCTION_URL);
        assert_eq!(cfg.mode, Mode::Full);
        let t = KiteConfig {
            api_key: "k".into(),
            access_token_file: Some("t".into()),
            ..cfg
        }
        .timing()
        .unwrap();
        assert_eq!(t.stale_after, Duration::from_secs(5));
        assert_eq!(t.attempts_per_day, Some(300));
    }

    #[test]
    fn every_bad_value_is_reported() {
        let keys = issues(
            "url = \"https://ws.kite.trade\"\nmode = \"quote\"\nstale_after = \"soon\"\n\
             connect_timeout = \"0s\"\nreconnect_initial = \"10s\"\nreconnect_max = \"1s\"\n\
             reconnect_attempts_per_day = 0\nring_capacity = 1000\nca_file = \"\"\n",
        );
        assert_eq!(
            keys,
            [
                "feed.kite.url",
                "feed.kite.api_key",
                "feed.kite.access_token_file",
                "feed.kite.ca_file",
                "feed.kite.stale_after",
                "feed.kite.connect_timeout",
                "feed.kite.reconnect_max",
                "feed.kite.reconnect_attempts_per_day",
                "feed.kite.ring_capacity",
            ]
        );
        assert_eq!(
            issues(
                "api_key = \"k\"\naccess_token_file = \"t\"\nreconnect_attempts_per_day = \"lots\"\n"
            ),
            ["feed.kite.reconnect_attempts_per_day"]
        );
        assert!(toml::from_str::<KiteConfig>("mode = \"fast\"\n").is_err());
        assert!(toml::from_str::<KiteConfig>("access_token = \"x\"\n").is_err());
    }

    #[test]
    fn unlimited_attempts() {
        let cfg: KiteConfig =
            toml::from_str("reconnect_attempts_per_day = \"unlimited\"\n").unwrap();
        assert_eq!(cfg.attempts_per_day(), Ok(None));
    }

    #[test]
    fn urls_carry_the_credentials_encoded() {
        assert_eq!(
            connect_url("wss://ws.kite.trade", "key", "a+b/c"),
            "wss://ws.kite.trade/?api_key=key&access_token=a%2Bb%2Fc"
        );
        assert_eq!(
            connect_url("ws://h:1?v=2", "k", "t"),
            "ws://h:1/?v=2&api_key=k&access_token=t"
        );
        assert_eq!(
            connect_url("ws://127.0.0.1:9/x?v=1", "k", "t"),
            "ws://127.0.0.1:9/x?v=1&api_key=k&access_token=t"
        );
        assert!(check_url("ws://127.0.0.1:9").is_ok());
        assert!(check_url("wss://").is_err());
        assert!(check_url("wss://h?access_token=x").is_err());
    }

    #[test]
    fn token_files_are_checked() {
        let dir = std::env::temp_dir().join(format!("tickpipe-kite-token-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("token");
        let missing = read_access_token(&dir.join("absent")).unwrap_err();
        assert!(
            missing.contains("cannot read the access token file"),
            "{missing}"
        );
        std::fs::write(&file, "  \n").unwrap();
        assert!(read_access_token(&file).unwrap_err().contains("is empty"));
        std::fs::write(&file, "two words\n").unwrap();
        let err = read_access_token(&file).unwrap_err();
        assert!(
            err.contains("alone on one line") && !err.contains("words"),
            "{err}"
        );
        std::fs::write(&file, "tok3n\n").unwrap();
        assert_eq!(read_access_token(&file).unwrap(), "tok3n");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
