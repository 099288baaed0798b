//! `[feed.truedata]`: the live TrueData source, where its credentials come from, and
//! its reconnect policy.

use std::{
    path::{Path, PathBuf},
    time::Duration,
};

use serde::Deserialize;

use crate::{
    config::ConfigIssue,
    feed::{kite::AttemptSetting, parse_duration},
};

/// TrueData's production host on its default real-time port (PROTOCOLS.md §4.1: the
/// port is account-specific, so set `url` to the one TrueData gave the account).
pub const PRODUCTION_URL: &str = "wss://push.truedata.in:8082";

/// Symbols per `addsymbol` request: TrueData's Node client sends at most 1500 to stay
/// under the server's message limit (PROTOCOLS.md §4.2).
pub const SYMBOLS_PER_REQUEST: usize = 1500;

/// Configuration of the live TrueData source (TOML section `[feed.truedata]`).
///
/// ```toml
/// [feed]
/// source = "truedata"
///
/// [feed.truedata]
/// url = "wss://push.truedata.in:8082"     # the account's real-time port
/// credentials_file = "var/truedata-credentials"   # mode 0600: `user = …`, `password = …`
/// stale_after = "15s"      # heartbeats come every 5 s
/// ```
///
/// The user and password travel in the connection URL's query (TrueData has no login
/// message), so they are never written in the configuration and never logged: they come
/// from `credentials_file` (which must not be readable by group or others) or, without
/// it, from the environment variables named by `user_env` and `password_env`, read again
/// at every (re)connection.
#[derive(Debug, Clone, PartialEq, Deserialize)]
#[serde(deny_unknown_fields, default)]
pub struct TrueDataConfig {
    /// The WebSocket URL with its port, `wss://` (or `ws://` for a local test server).
    pub url: String,
    /// A file of two lines, `user = …` and `password = …`, mode 0600.
    pub credentials_file: Option<PathBuf>,
    /// The environment variable holding the user id when there is no credentials file.
    pub user_env: String,
    /// The environment variable holding the password when there is no credentials file.
    pub password_env: String,
    /// Universe CSV whose symbols are subscribed; absent means the embedded NIFTY 50.
    /// Its symbols are TrueData's names for NSE shares and indices (`SBIN`, `NIFTY 50`).
    pub universe: Option<PathBuf>,
    /// PEM certificates to trust instead of the compiled-in web roots.
    pub ca_file: Option<PathBuf>,
    /// Silence (no message at all, heartbeats included) after which the connection is
    /// taken as dead and opened again. TrueData sends a heartbeat every 5 s.
    pub stale_after: String,
    /// Longest wait for the TCP connection, the TLS and the WebSocket handshakes, and
    /// then for the login answer.
    pub connect_timeout: String,
    /// Wait before the first reconnection; doubled after each failed attempt.
    pub reconnect_initial: String,
    /// Cap of the doubling wait.
    pub reconnect_max: String,
    /// Reconnection attempts allowed in one IST day: a number, or `"unlimited"`.
    pub reconnect_attempts_per_day: AttemptSetting,
    /// Slots of the ring from the connection thread to the feed stage (a power of two).
    /// When it is full, ticks are conflated per instrument (the newest kept) and counted.
    pub ring_capacity: usize,
}

impl Default for TrueDataConfig {
    fn default() -> Self {
        TrueDataConfig {
            url: PRODUCTION_URL.to_owned(),
            credentials_file: None,
            user_env: "TICKPIPE_TRUEDATA_USER".to_owned(),
            password_env: "TICKPIPE_TRUEDATA_PASSWORD".to_owned(),
            universe: None,
            ca_file: None,
            // Three heartbeats missed; TrueData's Node client allows 15 s too.
            stale_after: "15s".to_owned(),
            connect_timeout: "10s".to_owned(),
            reconnect_initial: "1s".to_owned(),
            reconnect_max: "60s".to_owned(),
            reconnect_attempts_per_day: AttemptSetting::Count(300),
            ring_capacity: 16_384,
        }
    }
}

/// The timing keys of `[feed.truedata]`, parsed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TrueDataTiming {
    /// See [`TrueDataConfig::stale_after`].
    pub stale_after: Duration,
    /// See [`TrueDataConfig::connect_timeout`].
    pub connect_timeout: Duration,
    /// See [`TrueDataConfig::reconnect_initial`].
    pub reconnect_initial: Duration,
    /// See [`TrueDataConfig::reconnect_max`].
    pub reconnect_max: Duration,
    /// Attempts per IST day; `None` for unlimited.
    pub attempts_per_day: Option<u32>,
}

impl TrueDataConfig {
    /// Pushes one issue per invalid field, keys prefixed with `prefix` (e.g.
    /// `feed.truedata`). Files and the environment are read when the source starts.
    pub fn validate(&self, prefix: &str, issues: &mut Vec<ConfigIssue>) {
        let mut issue = |key: &str, reason: String| {
            issues.push(ConfigIssue::new(format!("{prefix}.{key}"), reason));
        };
        if let Err(e) = check_url(&self.url) {
            issue("url", e);
        }
        for (key, path) in [
            ("credentials_file", &self.credentials_file),
            ("universe", &self.universe),
            ("ca_file", &self.ca_file),
        ] {
            if path.as_ref().is_some_and(|p| p.as_os_str().is_empty()) {
                issue(key, "empty path".to_owned());
            }
        }
        for (key, name) in [
            ("user_env", &self.user_env),
            ("password_env", &self.password_env),
        ] {
            if name.is_empty() || !name.bytes().all(|b| b.is_ascii_alphanumeric() || b == b'_') {
                issue(
                    key,
                    format!("`{name}` is not an environment variable name (A-Z, 0-9, _)"),
                );
            }
        }
        let mut duration = |key: &str, text: &str| match parse_duration(text) {
            Ok(Some(d)) => Some(d),
            Ok(None) => {
                issue(key, "required: a duration such as 15s or 500ms".to_owned());
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
    /// The first invalid key and why ([`TrueDataConfig::validate`] reports them all).
    pub fn timing(&self) -> Result<TrueDataTiming, String> {
        let get = |key: &str, text: &str| {
            parse_duration(text)
                .and_then(|d| d.ok_or_else(|| "empty".to_owned()))
                .map_err(|e| format!("feed.truedata.{key}: {e}"))
        };
        Ok(TrueDataTiming {
            stale_after: get("stale_after", &self.stale_after)?,
            connect_timeout: get("connect_timeout", &self.connect_timeout)?,
            reconnect_initial: get("reconnect_initial", &self.reconnect_initial)?,
            reconnect_max: get("reconnect_max", &self.reconnect_max)?,
            attempts_per_day: self
                .attempts_per_day()
                .map_err(|e| format!("feed.truedata.reconnect_attempts_per_day: {e}"))?,
        })
    }

    /// Where the credentials come from.
    pub fn credentials(&self) -> CredentialSource {
        match &self.credentials_file {
            Some(path) => CredentialSource::File(path.clone()),
            None => CredentialSource::Env {
                user: self.user_env.clone(),
                password: self.password_env.clone(),
            },
        }
    }
}

/// Where a TrueData login comes from; read at every connection.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CredentialSource {
    /// A file of `user = …` and `password = …` lines, mode 0600.
    File(PathBuf),
    /// Two environment variables, by name.
    Env {
        /// The user id's variable.
        user: String,
        /// The password's variable.
        password: String,
    },
}

/// A TrueData login. `Debug` shows the user, never the password.
#[derive(Clone, PartialEq, Eq)]
pub struct Credentials {
    /// The login id.
    pub user: String,
    password: String,
}

impl std::fmt::Debug for Credentials {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Credentials")
            .field("user", &self.user)
            .finish_non_exhaustive()
    }
}

impl Credentials {
    /// The password, for the connection URL only.
    pub(crate) fn password(&self) -> &str {
        &self.password
    }
}

impl CredentialSource {
    /// Reads the login.
    ///
    /// # Errors
    /// A message naming the file or variable at fault: unreadable, readable by group or
    /// others, a line that is neither `user` nor `password`, a value missing or empty.
    /// No value is ever quoted.
    pub fn read(&self) -> Result<Credentials, String> {
        match self {
            CredentialSource::File(path) => read_credentials_file(path),
            CredentialSource::Env { user, password } => {
                let var = |name: &str| match std::env::var(name) {
                    Ok(v) if !v.trim().is_empty() => Ok(v.trim().to_owned()),
                    Ok(_) => Err(format!("the environment variable {name} is empty")),
                    Err(_) => Err(format!(
                        "the environment variable {name} is not set (or not UTF-8); set it, or \
                         name a 0600 file in feed.truedata.credentials_file"
                    )),
                };
                Ok(Credentials {
                    user: var(user)?,
                    password: var(password)?,
                })
            }
        }
    }
}

fn read_credentials_file(path: &Path) -> Result<Credentials, String> {
    let shown = path.display();
    let file = std::fs::File::open(path)
        .map_err(|e| format!("cannot read the TrueData credentials file {shown}: {e}"))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = file
            .metadata()
            .map_err(|e| format!("cannot read the TrueData credentials file {shown}: {e}"))?
            .permissions()
            .mode();
        if mode & 0o077 != 0 {
            return Err(format!(
                "the TrueData credentials file {shown} is readable by others (mode {:03o}); \
                 run `chmod 600 {shown}`",
                mode & 0o777
            ));
        }
    }
    let text = std::io::read_to_string(file)
        .map_err(|e| format!("cannot read the TrueData credentials file {shown}: {e}"))?;
    let (mut user, mut password) = (None, None);
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let at = format!("{shown} line {}", n + 1);
        let (key, value) = line
            .split_once('=')
            .ok_or_else(|| format!("{at}: expected `user = …` or `password = …`"))?;
        let value = value.trim().trim_matches('"');
        if value.is_empty() {
            return Err(format!("{at}: `{}` has no value", key.trim()));
        }
        match key.trim() {
            "user" => user = Some(value.to_owned()),
            "password" => password = Some(value.to_owned()),
            other => {
                return Err(format!(
                    "{at}: unknown key `{other}` (expected `user` or `password`)"
                ))
            }
        }
    }
    match (user, password) {
        (Some(user), Some(password)) => Ok(Credentials { user, password }),
        (None, _) => Err(format!(
            "the TrueData credentials file {shown} has no `user` line"
        )),
        (_, None) => Err(format!(
            "the TrueData credentials file {shown} has no `password` line"
        )),
    }
}

/// `ws://` or `wss://`, a host, and no credentials of its own.
fn check_url(url: &str) -> Result<(), String> {
    let rest = url
        .strip_prefix("wss://")
        .or_else(|| url.strip_prefix("ws://"))
        .ok_or_else(|| format!("`{url}` must start with wss:// (or ws:// for a local server)"))?;
    let host = rest.split(['/', '?', ':']).next().unwrap_or_default();
    if host.is_empty() && !rest.starts_with('[') {
        return Err(format!("`{url}` has no host"));
    }
    if url.contains("user=") || url.contains("password=") || rest.contains('@') {
        return Err(
            "must not carry a user or password: they come from feed.truedata.credentials_file \
             or the environment"
                .to_owned(),
        );
    }
    Ok(())
}

/// The URL to connect to: `url` with the login as query parameters, percent-encoded,
/// and the path `/` when `url` has none.
pub(crate) fn login_url(url: &str, login: &Credentials) -> String {
    let authority_at = url.find("://").map_or(0, |i| i + 3);
    let rest = &url[authority_at..];
    let url = match rest.find(['/', '?']).map(|i| (i, rest.as_bytes()[i])) {
        Some((_, b'/')) => url.to_owned(),
        Some((i, _)) => format!("{}/{}", &url[..authority_at + i], &rest[i..]),
        None => format!("{url}/"),
    };
    let joiner = if url.contains('?') { '&' } else { '?' };
    format!(
        "{url}{joiner}user={}&password={}",
        percent_encode(&login.user),
        percent_encode(login.password())
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
        let cfg: TrueDataConfig = toml::from_str(toml_text).unwrap();
        let mut issues = Vec::new();
        cfg.validate("feed.truedata", &mut issues);
        issues.into_iter().map(|i| i.key).collect()
    }

    #[test]
    fn the_defaults_pass_and_every_bad_value_is_named() {
        assert!(issues("").is_empty());
        assert_eq!(
            issues(
                "url = \"https://x\"\ncredentials_file = \"\"\nuser_env = \"A B\"\n\
                 stale_after = \"soon\"\nreconnect_initial = \"10s\"\nreconnect_max = \"1s\"\n\
                 reconnect_attempts_per_day = -1\nring_capacity = 100\n"
            ),
            [
                "feed.truedata.url",
                "feed.truedata.credentials_file",
                "feed.truedata.user_env",
                "feed.truedata.stale_after",
                "feed.truedata.reconnect_max",
                "feed.truedata.reconnect_attempts_per_day",
                "feed.truedata.ring_capacity",
            ]
        );
        assert_eq!(
            issues("url = \"wss://push.truedata.in:8082?user=me\"\n"),
            ["feed.truedata.url"]
        );
        assert!(toml::from_str::<TrueDataConfig>("password = \"x\"\n").is_err());
    }

    #[test]
    fn the_login_goes_into_the_query_encoded() {
        let login = Credentials {
            user: "td123".into(),
            password: "p&ss w=rd".into(),
        };
        assert_eq!(
            login_url("wss://push.truedata.in:8082", &login),
            "wss://push.truedata.in:8082/?user=td123&password=p%26ss%20w%3Drd"
        );
        assert_eq!(
            login_url("ws://127.0.0.1:9/feed", &login),
            "ws://127.0.0.1:9/feed?user=td123&password=p%26ss%20w%3Drd"
        );
        assert!(!format!("{login:?}").contains("p&ss"));
    }

    #[cfg(unix)]
    #[test]
    fn the_credentials_file_must_be_private_and_complete() {
        use std::os::unix::fs::PermissionsExt;
        let dir = std::env::temp_dir().join(format!("tickpipe-td-cred-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let file = dir.join("cred");
        let write = |text: &str, mode: u32| {
            std::fs::write(&file, text).unwrap();
            std::fs::set_permissions(&file, std::fs::Permissions::from_mode(mode)).unwrap();
        };
        let source = CredentialSource::File(file.clone());
        write("user = td1\npassword = s3cret\n", 0o644);
        let err = source.read().unwrap_err();
        assert!(
            err.contains("chmod 600") && !err.contains("s3cret"),
            "{err}"
        );
        write("# TrueData\nuser = td1\npassword = \"s3cret\"\n", 0o600);
        let login = source.read().unwrap();
        assert_eq!((login.user.as_str(), login.password()), ("td1", "s3cret"));
        write("user = td1\n", 0o600);
        assert!(source.read().unwrap_err().contains("no `password` line"));
        write("user = td1\npasswd = s3cret\n", 0o600);
        let err = source.read().unwrap_err();
        assert!(err.contains("line 2") && !err.contains("s3cret"), "{err}");
        std::fs::remove_dir_all(&dir).unwrap();
    }

    #[test]
    fn missing_environment_variables_are_named() {
        let source = CredentialSource::Env {
            user: "TICKPIPE_TEST_TD_USER_UNSET".into(),
            password: "TICKPIPE_TEST_TD_PASSWORD_UNSET".into(),
        };
        let err = source.read().unwrap_err();
        assert!(err.contains("TICKPIPE_TEST_TD_USER_UNSET"), "{err}");
    }
}
