//! Kite Connect's login: the browser URL, the request-token exchange, and the file the
//! day's access token is kept in.
//!
//! The flow (PROTOCOLS.md §2.1): the user opens [`login_url`] and logs in; Kite
//! redirects to the app's URL with a `request_token`, valid for minutes; `POST
//! /session/token` with `api_key`, `request_token` and
//! `checksum = hex(SHA-256(api_key + request_token + api_secret))` answers the
//! `access_token`, valid until 06:00 IST the next morning. It is written to a file of mode 0600, which the gateway and the
//! Ticker read.

use std::{
    io::Write,
    path::{Path, PathBuf},
};

use serde::Deserialize;

use super::{
    client::{Method, RestClient},
    error::ApiError,
};

/// Kite's login page.
pub const LOGIN_URL: &str = "https://kite.zerodha.com/connect/login";

/// The environment variable the app's secret may come from.
pub const SECRET_ENV: &str = "KITE_API_SECRET";

/// The URL a user opens to log in.
///
/// # Examples
/// ```
/// use tickpipe::order::kite_session::login_url;
/// assert_eq!(login_url("abc"), "https://kite.zerodha.com/connect/login?v=3&api_key=abc");
/// ```
pub fn login_url(api_key: &str) -> String {
    format!("{LOGIN_URL}?v=3&api_key={api_key}")
}

/// `hex(SHA-256(api_key + request_token + api_secret))`.
///
/// # Examples
/// ```
/// use tickpipe::order::kite_session::checksum;
/// // SHA-256 of "abc".
/// assert_eq!(
///     checksum("a", "b", "c"),
///     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
/// );
/// ```
pub fn checksum(api_key: &str, request_token: &str, api_secret: &str) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(api_key.as_bytes());
    ctx.update(request_token.as_bytes());
    ctx.update(api_secret.as_bytes());
    ctx.finish()
        .as_ref()
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// What `POST /session/token` answers, as far as the engine keeps it.
#[derive(Debug, Clone, PartialEq, Eq, Deserialize)]
pub struct Session {
    /// The Kite user id.
    pub user_id: String,
    /// The day's access token (never printed).
    pub access_token: String,
    /// When the session began (IST, `yyyy-mm-dd hh:mm:ss`).
    #[serde(default)]
    pub login_time: Option<String>,
}

/// Exchanges a request token for the day's session.
///
/// # Errors
/// [`ApiError`] as Kite answers it (a stale or reused request token is a
/// `TokenException`).
pub fn exchange(
    client: &mut RestClient,
    api_key: &str,
    request_token: &str,
    api_secret: &str,
) -> Result<Session, ApiError> {
    client.data(
        Method::Post,
        "/session/token",
        &[
            ("api_key", api_key.to_owned()),
            ("request_token", request_token.to_owned()),
            ("checksum", checksum(api_key, request_token, api_secret)),
        ],
    )
}

/// The app's secret: `KITE_API_SECRET`, else the first line of `file` (mode 0600).
///
/// # Errors
/// A message when neither is given, the file cannot be read or others may read it.
pub fn api_secret(from_env: Option<String>, file: Option<&Path>) -> Result<String, String> {
    if let Some(secret) = from_env.filter(|s| !s.trim().is_empty()) {
        return Ok(secret.trim().to_owned());
    }
    let Some(file) = file else {
        return Err(format!(
            "the app's API secret is needed: set {SECRET_ENV} or pass --api-secret-file FILE"
        ));
    };
    super::read_token_file(file).map_err(|e| format!("--api-secret-file: {e}"))
}

/// Writes `token` to `path` with mode 0600, atomically: a temporary file beside it,
/// created 0600, then renamed over it. A reader sees the old token or the new one.
///
/// # Errors
/// The I/O error, with the path.
pub fn write_token_file(path: &Path, token: &str) -> Result<(), String> {
    let shown = path.display();
    let tmp = sibling(path, ".tmp");
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    let write = || -> std::io::Result<()> {
        let mut file = options.open(&tmp)?;
        #[cfg(unix)]
        {
            // A leftover temporary file keeps its old mode: set it again.
            use std::os::unix::fs::PermissionsExt;
            file.set_permissions(std::fs::Permissions::from_mode(0o600))?;
        }
        file.write_all(token.as_bytes())?;
        file.write_all(b"\n")?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write the access token file {shown}: {e}")
    })
}

/// `path` with `suffix` added to its file name.
pub(crate) fn sibling(path: &Path, suffix: &str) -> PathBuf {
    let mut name = path.file_name().unwrap_or_default().to_os_string();
    name.push(suffix);
    path.with_file_name(name)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fixture_session_reads() {
        let session: Session = super::super::client::parse_envelope(include_bytes!(
            "../../../../tests/fixtures/kite/generate_session.json"
        ))
        .unwrap();
        assert_eq!(session.user_id, "XX0000");
        assert_eq!(session.access_token, "XXXXXX");
        assert_eq!(session.login_time.as_deref(), Some("2021-01-01 16:15:14"));
    }

    #[test]
    fn secret_sources() {
        assert_eq!(api_secret(Some(" s ".into()), None).unwrap(), "s");
        assert!(api_secret(None, None).unwrap_err().contains(SECRET_ENV));
    }
}
