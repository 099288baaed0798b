//! `tickpipe kite login` (the day's Kite Connect session) and `tickpipe instruments
//! fetch` (the day's instrument master), both over Kite Connect's REST API.
//!
//! Both read `[order.kite]` of the configuration (`base_url`, `api_key`,
//! `access_token_file`, `ca_file`, timeouts), falling back to `[feed.kite]`'s key and
//! token file when `[order.kite]` leaves them out, so a staging setup (live feed, paper
//! orders) logs in the same way.

use std::{
    io::Write,
    path::{Path, PathBuf},
    time::Duration,
};

use clap::{Args, Subcommand};

use crate::{
    engine::EngineConfig,
    feed::instruments,
    order::{
        kite::{read_token_file, ClientSettings, RestClient},
        kite_session::{self, api_secret, login_url, sibling, write_token_file, SECRET_ENV},
    },
};

/// Options of `tickpipe kite`.
#[derive(Debug, Clone, Args)]
pub struct KiteArgs {
    #[command(subcommand)]
    command: KiteCommand,
}

#[derive(Debug, Clone, Subcommand)]
enum KiteCommand {
    /// Without --request-token: print the login URL to open in a browser. With it:
    /// exchange the request token Kite redirected to for the day's access token and
    /// write it to `access_token_file` (mode 0600).
    Login(LoginArgs),
}

#[derive(Debug, Clone, Args)]
struct LoginArgs {
    /// Configuration file (TOML) with `[order.kite]` (or `[feed.kite]`).
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// The `request_token` of Kite's redirect after a login.
    #[arg(long, value_name = "T")]
    request_token: Option<String>,
    /// A file (mode 0600) holding the app's API secret, when `KITE_API_SECRET` is not set.
    #[arg(long, value_name = "FILE")]
    api_secret_file: Option<PathBuf>,
}

/// Options of `tickpipe instruments`.
#[derive(Debug, Clone, Args)]
pub struct InstrumentsArgs {
    #[command(subcommand)]
    command: InstrumentsCommand,
}

#[derive(Debug, Clone, Subcommand)]
enum InstrumentsCommand {
    /// Download the day's instrument master (`GET /instruments`), check it with the
    /// engine's loader, and write it to --out atomically.
    Fetch(FetchArgs),
}

#[derive(Debug, Clone, Args)]
struct FetchArgs {
    /// Configuration file (TOML) with `[order.kite]` (or `[feed.kite]`).
    #[arg(long, short = 'c', value_name = "FILE")]
    config: Option<PathBuf>,
    /// Where to write the CSV (replaced only when the new one is valid).
    #[arg(long, value_name = "FILE")]
    out: PathBuf,
    /// One exchange only (`NSE`, `BSE`, `NFO`, …); all when absent.
    #[arg(long, value_name = "EXCHANGE")]
    exchange: Option<String>,
}

/// The Kite settings a command needs, resolved from the configuration.
struct Account {
    api_key: String,
    token_file: Option<PathBuf>,
    config: EngineConfig,
}

impl Account {
    fn load(path: Option<&Path>) -> Result<Account, String> {
        let config = match path {
            Some(p) => EngineConfig::from_file(p).map_err(|e| e.to_string())?,
            None => EngineConfig::embedded_default(),
        };
        let order = &config.order.kite;
        let api_key = if order.api_key.trim().is_empty() {
            config.feed.kite.api_key.trim().to_owned()
        } else {
            order.api_key.trim().to_owned()
        };
        if api_key.is_empty() {
            return Err(
                "order.kite.api_key (or feed.kite.api_key) is required: the Kite Connect app's \
                 API key"
                    .to_owned(),
            );
        }
        let token_file = order
            .access_token_file
            .clone()
            .or_else(|| config.feed.kite.access_token_file.clone());
        Ok(Account {
            api_key,
            token_file,
            config,
        })
    }

    fn token_file(&self) -> Result<&Path, String> {
        self.token_file.as_deref().ok_or_else(|| {
            "order.kite.access_token_file (or feed.kite.access_token_file) is required".to_owned()
        })
    }

    fn client(&self, session: Option<&str>) -> Result<RestClient, String> {
        let kite = &self.config.order.kite;
        RestClient::new(
            &ClientSettings {
                root: kite.root(),
                ca_file: kite.ca_file.as_deref(),
                connect_timeout: Duration::from_millis(kite.connect_timeout_ms),
                request_timeout: Duration::from_millis(kite.request_timeout_ms),
                retry: kite.retry(),
            },
            session.map(|token| (self.api_key.as_str(), token)),
            "order.kite.ca_file",
        )
    }
}

/// Runs `tickpipe kite`.
pub(super) fn kite(args: &KiteArgs) -> Result<(), String> {
    match &args.command {
        KiteCommand::Login(login) => self::login(login),
    }
}

fn login(args: &LoginArgs) -> Result<(), String> {
    let account = Account::load(args.config.as_deref())?;
    let Some(request_token) = &args.request_token else {
        println!("{}", login_url(&account.api_key));
        println!(
            "Open it, log in, then run `tickpipe kite login --request-token T` with the \
             request_token of the page Kite redirects to."
        );
        return Ok(());
    };
    let token_file = account.token_file()?;
    let secret = api_secret(
        std::env::var(SECRET_ENV).ok(),
        args.api_secret_file.as_deref(),
    )?;
    let mut client = account.client(None)?;
    let session = kite_session::exchange(&mut client, &account.api_key, request_token, &secret)
        .map_err(|e| format!("POST /session/token: {e}"))?;
    write_token_file(token_file, &session.access_token)?;
    println!(
        "logged in as {} at {}; the access token is in {} (valid until 06:00 IST tomorrow)",
        session.user_id,
        session.login_time.as_deref().unwrap_or("?"),
        token_file.display()
    );
    Ok(())
}

/// Runs `tickpipe instruments`.
pub(super) fn instruments(args: &InstrumentsArgs) -> Result<(), String> {
    match &args.command {
        InstrumentsCommand::Fetch(fetch) => self::fetch(fetch),
    }
}

fn fetch(args: &FetchArgs) -> Result<(), String> {
    let account = Account::load(args.config.as_deref())?;
    let token_file = account.token_file()?;
    let token =
        read_token_file(token_file).map_err(|e| format!("order.kite.access_token_file: {e}"))?;
    let mut client = account.client(Some(&token))?;
    let path = match &args.exchange {
        Some(exchange) if exchange.bytes().all(|b| b.is_ascii_uppercase()) => {
            format!("/instruments/{exchange}")
        }
        Some(exchange) => {
            return Err(format!(
                "--exchange `{exchange}`: an exchange code in capitals (NSE, BSE, NFO, ...)"
            ))
        }
        None => "/instruments".to_owned(),
    };
    let body = client.raw(&path).map_err(|e| format!("GET {path}: {e}"))?;
    let rows = instruments::parse(&body, &format!("GET {path}"))
        .map_err(|e| format!("the downloaded master is not valid: {e}"))?;
    write_atomically(&args.out, &body)?;
    println!(
        "{} instruments written to {}",
        rows.len(),
        args.out.display()
    );
    Ok(())
}

/// Writes `bytes` beside `path` and renames over it: a reader sees the old file or the
/// new one, never half.
fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), String> {
    let tmp = sibling(path, ".tmp");
    let write = || -> std::io::Result<()> {
        let mut file = std::fs::File::create(&tmp)?;
        file.write_all(bytes)?;
        file.sync_all()?;
        std::fs::rename(&tmp, path)
    };
    write().map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        format!("cannot write {}: {e}", path.display())
    })
}
