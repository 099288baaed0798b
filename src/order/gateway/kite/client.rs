//! A blocking Kite Connect REST client: headers, the response envelope, retries.
//!
//! Built on `ureq` (blocking, no async runtime) with rustls and the ring provider, the
//! same TLS stack as the Ticker; the roots are Mozilla's compiled-in set or the PEM
//! `ca_file`. It runs only on cold threads: the gateway's I/O thread and the CLI.
//!
//! Every request carries `X-Kite-Version: 3`; with a session it also carries
//! `Authorization: token api_key:access_token` (PROTOCOLS.md §2.1). POST and PUT bodies
//! are form-encoded, GET and DELETE parameters go in the query (§2.2).

use std::{path::Path, thread, time::Duration};

use serde::de::DeserializeOwned;
use ureq::{
    http::Response,
    tls::{Certificate, RootCerts, TlsConfig},
    Agent, Body,
};

use super::{
    config::RetryPolicy,
    error::{ApiError, ErrorType},
};

/// Largest body read: the full instrument master is tens of megabytes.
const MAX_BODY: u64 = 512 << 20;

/// An HTTP method Kite's API uses.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    /// Read.
    Get,
    /// Create (place an order, a session).
    Post,
    /// Change (modify an order).
    Put,
    /// Remove (cancel an order, log out).
    Delete,
}

/// What a client counted: retries made and failures by kind.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientCounters {
    /// Requests sent (each try).
    pub requests: u64,
    /// Tries after a 429 or a failure.
    pub retries: u64,
    /// Answers with HTTP 429.
    pub rate_limited: u64,
    /// `TokenException` answers: the access token expired or was invalidated.
    pub token_expired: u64,
}

/// A Kite Connect REST client (see the module doc).
pub struct RestClient {
    agent: Agent,
    root: String,
    auth: Option<String>,
    retry: RetryPolicy,
    counters: ClientCounters,
}

impl std::fmt::Debug for RestClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never the token.
        f.debug_struct("RestClient")
            .field("root", &self.root)
            .field("session", &self.auth.is_some())
            .field("counters", &self.counters)
            .finish_non_exhaustive()
    }
}

/// Where the client connects and how patiently.
#[derive(Debug, Clone)]
pub struct ClientSettings<'a> {
    /// REST root without a trailing slash.
    pub root: &'a str,
    /// PEM roots instead of the compiled-in set.
    pub ca_file: Option<&'a Path>,
    /// Connection (TCP + TLS) bound.
    pub connect_timeout: Duration,
    /// Whole-request bound.
    pub request_timeout: Duration,
    /// Retries of 429 and unsent requests.
    pub retry: RetryPolicy,
}

impl RestClient {
    /// A client of `settings.root`; with `session = Some((api_key, access_token))` every
    /// request is signed.
    ///
    /// # Errors
    /// A message naming `ca_file` when it cannot be read or holds no certificate.
    pub fn new(
        settings: &ClientSettings<'_>,
        session: Option<(&str, &str)>,
        ca_key: &str,
    ) -> Result<RestClient, String> {
        let roots = match settings.ca_file {
            None => RootCerts::WebPki,
            Some(path) => RootCerts::from(read_roots(path, ca_key)?),
        };
        let config = Agent::config_builder()
            .http_status_as_error(false)
            .timeout_connect(Some(settings.connect_timeout))
            .timeout_global(Some(settings.request_timeout))
            .max_redirects(0)
            .user_agent(concat!("tickpipe/", env!("CARGO_PKG_VERSION")))
            .tls_config(TlsConfig::builder().root_certs(roots).build())
            .build();
        Ok(RestClient {
            agent: Agent::new_with_config(config),
            root: settings.root.trim_end_matches('/').to_owned(),
            auth: session.map(|(key, token)| format!("token {key}:{token}")),
            retry: settings.retry,
            counters: ClientCounters::default(),
        })
    }

    /// What the client counted so far.
    pub fn counters(&self) -> ClientCounters {
        self.counters
    }

    /// A request whose answer is Kite's JSON envelope; returns its `data`.
    ///
    /// # Errors
    /// [`ApiError`] for an error envelope, an HTTP failure, a transport failure after
    /// the retries, or a body that is not the envelope `T` expects.
    pub fn data<T: DeserializeOwned>(
        &mut self,
        method: Method,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<T, ApiError> {
        let (_, body) = self.send(method, path, params)?;
        parse_envelope(&body)
    }

    /// A request whose successful answer is not JSON (the instrument master CSV);
    /// returns the (decompressed) body.
    ///
    /// # Errors
    /// As [`RestClient::data`].
    pub fn raw(&mut self, path: &str) -> Result<Vec<u8>, ApiError> {
        self.send(Method::Get, path, &[]).map(|(_, body)| body)
    }

    /// Sends with retries: a 429 and a request that never left are tried again; reads
    /// are also tried again after a timeout, a 5xx or a `NetworkException`.
    fn send(
        &mut self,
        method: Method,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<(u16, Vec<u8>), ApiError> {
        let mut tries = 0;
        loop {
            self.counters.requests += 1;
            let result = self.send_once(method, path, params);
            let error = match result {
                Ok(ok) => return Ok(ok),
                Err(e) => e,
            };
            match error.kind {
                ErrorType::RateLimit => self.counters.rate_limited += 1,
                ErrorType::Token => self.counters.token_expired += 1,
                _ => {}
            }
            let read_retry = method == Method::Get
                && (matches!(error.kind, ErrorType::Transport | ErrorType::Network)
                    || error.status >= 502);
            if tries >= self.retry.attempts || !(error.is_retriable() || read_retry) {
                return Err(error);
            }
            thread::sleep(self.retry.wait(tries));
            tries += 1;
            self.counters.retries += 1;
        }
    }

    fn send_once(
        &mut self,
        method: Method,
        path: &str,
        params: &[(&str, String)],
    ) -> Result<(u16, Vec<u8>), ApiError> {
        let url = format!("{}{path}", self.root);
        let pairs = params.iter().map(|(k, v)| (*k, v.as_str()));
        let answer = match method {
            Method::Get | Method::Delete => {
                let request = if method == Method::Get {
                    self.agent.get(&url)
                } else {
                    self.agent.delete(&url)
                };
                let mut request = request.header("X-Kite-Version", "3").query_pairs(pairs);
                if let Some(auth) = &self.auth {
                    request = request.header("Authorization", auth);
                }
                request.call()
            }
            Method::Post | Method::Put => {
                let request = if method == Method::Post {
                    self.agent.post(&url)
                } else {
                    self.agent.put(&url)
                };
                let mut request = request.header("X-Kite-Version", "3");
                if let Some(auth) = &self.auth {
                    request = request.header("Authorization", auth);
                }
                request.send_form(pairs)
            }
        };
        let mut response: Response<Body> = answer.map_err(transport)?;
        let status = response.status().as_u16();
        let body = response
            .body_mut()
            .with_config()
            .limit(MAX_BODY)
            .read_to_vec()
            .map_err(transport)?;
        if status == 429 {
            return Err(ApiError {
                kind: ErrorType::RateLimit,
                status,
                message: "too many requests".to_owned(),
                unsent: false,
            });
        }
        if !(200..300).contains(&status) {
            return Err(error_of(status, &body));
        }
        Ok((status, body))
    }
}

/// The `data` of a success envelope as `T`.
///
/// # Errors
/// [`ApiError`] of kind `General` (a body that is not the envelope) or of the
/// envelope's `error_type`.
pub fn parse_envelope<T: DeserializeOwned>(body: &[u8]) -> Result<T, ApiError> {
    let value: serde_json::Value = serde_json::from_slice(body).map_err(|e| ApiError {
        kind: ErrorType::Data,
        status: 200,
        message: format!("the answer is not JSON: {e}"),
        unsent: false,
    })?;
    if value.get("status").and_then(|s| s.as_str()) != Some("success") {
        return Err(error_of(200, body));
    }
    let data = value.get("data").cloned().unwrap_or_default();
    serde_json::from_value(data).map_err(|e| ApiError {
        kind: ErrorType::Data,
        status: 200,
        message: format!("unexpected `data`: {e}"),
        unsent: false,
    })
}

/// An error answer: the envelope's class and message, or the status and the start of
/// the body when it is not the envelope.
fn error_of(status: u16, body: &[u8]) -> ApiError {
    let envelope: Option<serde_json::Value> = serde_json::from_slice(body).ok();
    let field = |name: &str| {
        envelope
            .as_ref()
            .and_then(|v| v.get(name))
            .and_then(|v| v.as_str())
            .map(str::to_owned)
    };
    match (field("error_type"), field("message")) {
        (kind, Some(message)) => ApiError {
            kind: ErrorType::from_name(kind.as_deref().unwrap_or("GeneralException")),
            status,
            message,
            unsent: false,
        },
        _ => {
            let text = String::from_utf8_lossy(&body[..body.len().min(200)]).into_owned();
            ApiError {
                kind: if status >= 500 {
                    ErrorType::Network
                } else {
                    ErrorType::General
                },
                status,
                message: format!("unexpected answer: {text}"),
                unsent: false,
            }
        }
    }
}

/// A transport failure; `unsent` when the request cannot have reached the server.
fn transport(e: ureq::Error) -> ApiError {
    let unsent = matches!(
        e,
        ureq::Error::ConnectionFailed
            | ureq::Error::HostNotFound
            | ureq::Error::Timeout(ureq::Timeout::Connect | ureq::Timeout::Resolve)
    ) || matches!(&e, ureq::Error::Io(io) if io.kind() == std::io::ErrorKind::ConnectionRefused);
    ApiError::transport(e.to_string(), unsent)
}

/// The PEM certificates of `path`; errors name `key`.
fn read_roots(path: &Path, key: &str) -> Result<Vec<Certificate<'static>>, String> {
    let shown = path.display();
    let pem = std::fs::read(path).map_err(|e| format!("{key}: cannot read {shown}: {e}"))?;
    let mut roots = Vec::new();
    for item in ureq::tls::parse_pem(&pem) {
        match item.map_err(|e| format!("{key}: {shown} is not valid PEM: {e}"))? {
            ureq::tls::PemItem::Certificate(cert) => roots.push(cert),
            _ => continue,
        }
    }
    if roots.is_empty() {
        return Err(format!("{key}: {shown} holds no PEM certificate"));
    }
    Ok(roots)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn envelopes() {
        let ok: super::super::wire::OrderIdData = parse_envelope(include_bytes!(
            "../../../../tests/fixtures/kite/order_modify.json"
        ))
        .unwrap();
        assert_eq!(ok.order_id, "151220000000000");
        let e = parse_envelope::<serde_json::Value>(
            br#"{"status":"error","message":"Insufficient funds","error_type":"MarginException"}"#,
        )
        .unwrap_err();
        assert_eq!(e.kind, ErrorType::Margin);
        let e = error_of(502, b"<html>bad gateway</html>");
        assert_eq!(e.kind, ErrorType::Network);
        assert!(e.message.contains("bad gateway"));
        let e = error_of(
            403,
            br#"{"status":"error","message":"Token expired","error_type":"TokenException"}"#,
        );
        assert_eq!((e.kind, e.status), (ErrorType::Token, 403));
    }
}
