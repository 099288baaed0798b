//! `tickpipe ctl`: the client of the engine's control socket. One command (`tickpipe ctl
//! status`), an interactive prompt (no command), or a live dashboard (`tickpipe ctl
//! top`), over the run directory's Unix socket or over TLS with a token.
//!
//! The wire format is `src/control/PROTOCOL.md`; [`Connection`] speaks it, [`render`]
//! turns its JSON into text for people, and the prompt (`prompt.rs`) and the dashboard
//! (`top/`) are the interactive front ends.
//!
//! Exit status: 0 on an ok reply, 1 on an error reply, 2 when no engine answers (or the
//! TLS handshake or token fails, or the arguments cannot work).

mod connect;
mod oneshot;
mod output;
mod prompt;
pub mod render;
mod tls;
mod top;

use std::{ffi::OsString, path::PathBuf, process::ExitCode, time::Duration};

use clap::{Args, Subcommand};
pub use connect::{Connection, Endpoint, SessionError, TlsTarget};

/// Where the engine's control socket is when neither `--socket` nor `TICKPIPE_SOCKET`
/// says: the default run directory of `tickpipe run` is `var/`.
pub const DEFAULT_SOCKET: &str = "var/tickpipe.sock";

/// The environment variable that names the socket when `--socket` is absent.
pub const SOCKET_ENV: &str = "TICKPIPE_SOCKET";

/// Options of `tickpipe ctl`.
#[derive(Debug, Args)]
#[command(
    disable_help_subcommand = true,
    override_usage = "tickpipe ctl [OPTIONS] [COMMAND]...\n       tickpipe ctl [OPTIONS] top [--interval-ms N]",
    after_help = "Examples:\n  \
        tickpipe ctl status\n  \
        tickpipe ctl close SBIN 50\n  \
        tickpipe ctl --json subscribe fills\n  \
        tickpipe ctl --tls engine:7443 --ca ca.pem --token-file token status\n  \
        tickpipe ctl top\n\n\
        Exit status: 0 ok reply, 1 error reply, 2 no engine answers (or TLS/token failed)."
)]
pub struct CtlArgs {
    /// How to reach the engine.
    #[command(flatten)]
    pub connect: ConnectArgs,
    /// Print each reply and event as the raw JSON line the engine sent.
    #[arg(long)]
    pub json: bool,
    /// `top`: the live dashboard.
    #[command(subcommand)]
    pub command: Option<CtlCommand>,
    /// The command to send, e.g. `status`, `close SBIN 50`, `help`; with none, an
    /// interactive prompt.
    #[arg(value_name = "COMMAND", allow_negative_numbers = true)]
    pub words: Vec<String>,
}

/// Front ends of `tickpipe ctl` other than one command or the prompt.
#[derive(Debug, Subcommand)]
pub enum CtlCommand {
    /// A live dashboard: P&L, positions, orders, strategies, latency, fills and alerts.
    Top(TopArgs),
}

/// Options of `tickpipe ctl top`.
#[derive(Debug, Clone, Args)]
pub struct TopArgs {
    /// Refresh period in milliseconds; also the interval of the P&L stream.
    #[arg(
        long,
        value_name = "N",
        default_value_t = 500,
        value_parser = clap::value_parser!(u64).range(100..=60_000)
    )]
    pub interval_ms: u64,
}

/// How to reach the engine; accepted before or after `top`.
#[derive(Debug, Clone, Args)]
pub struct ConnectArgs {
    /// The engine's Unix control socket [default: $TICKPIPE_SOCKET, else
    /// var/tickpipe.sock].
    #[arg(long, value_name = "PATH", global = true)]
    pub socket: Option<PathBuf>,
    /// Seconds to wait for the engine to connect and to answer each command.
    #[arg(
        long,
        value_name = "SECS",
        default_value_t = 5,
        global = true,
        value_parser = clap::value_parser!(u64).range(1..=3600)
    )]
    pub timeout: u64,
    /// Connect over TCP with TLS to the engine's control listener at HOST:PORT.
    #[arg(long, value_name = "HOST:PORT", global = true)]
    pub tls: Option<String>,
    /// With --tls: the PEM file of the CA (or the server's self-signed certificate) to
    /// trust; nothing else is trusted.
    #[arg(long, value_name = "FILE", global = true)]
    pub ca: Option<PathBuf>,
    /// With --tls: the access token (visible to other users in the process list;
    /// prefer --token-file).
    #[arg(long, value_name = "TOKEN", global = true)]
    pub token: Option<String>,
    /// With --tls: a file holding the access token (surrounding whitespace ignored).
    #[arg(long, value_name = "FILE", global = true)]
    pub token_file: Option<PathBuf>,
    /// With --tls: the name the server certificate must carry [default: localhost].
    #[arg(long, value_name = "NAME", global = true)]
    pub server_name: Option<String>,
}

impl ConnectArgs {
    /// The endpoint these options name; `env_socket` is the value of
    /// [`SOCKET_ENV`], passed in so the choice is testable.
    ///
    /// # Errors
    /// A sentence naming the options that do not fit together, or the token file that
    /// cannot be read.
    pub fn endpoint(&self, env_socket: Option<OsString>) -> Result<Endpoint, String> {
        let Some(addr) = &self.tls else {
            for (given, name) in [
                (self.ca.is_some(), "--ca"),
                (self.token.is_some(), "--token"),
                (self.token_file.is_some(), "--token-file"),
                (self.server_name.is_some(), "--server-name"),
            ] {
                if given {
                    return Err(format!("{name} only applies with --tls HOST:PORT"));
                }
            }
            let path = self
                .socket
                .clone()
                .or_else(|| env_socket.filter(|s| !s.is_empty()).map(PathBuf::from))
                .unwrap_or_else(|| PathBuf::from(DEFAULT_SOCKET));
            return Ok(Endpoint::Unix(path));
        };
        if self.socket.is_some() {
            return Err("--socket and --tls name two different engines; give one".to_owned());
        }
        if !addr.contains(':') {
            return Err(format!("--tls needs HOST:PORT, got `{addr}`"));
        }
        let ca = self.ca.clone().ok_or_else(|| {
            "--tls needs --ca FILE: the PEM certificate to trust for this engine".to_owned()
        })?;
        let token = match (&self.token, &self.token_file) {
            (Some(_), Some(_)) => {
                return Err("give the token once: --token or --token-file, not both".to_owned())
            }
            (Some(token), None) => token.trim().to_owned(),
            (None, Some(file)) => std::fs::read_to_string(file)
                .map_err(|e| format!("cannot read the token file {}: {e}", file.display()))?
                .trim()
                .to_owned(),
            (None, None) => return Err("--tls needs --token TOKEN or --token-file FILE".to_owned()),
        };
        if token.is_empty() || token.contains(char::is_whitespace) {
            return Err("the token must be one word, not empty".to_owned());
        }
        Ok(Endpoint::Tls(TlsTarget {
            addr: addr.clone(),
            ca,
            server_name: self
                .server_name
                .clone()
                .unwrap_or_else(|| "localhost".to_owned()),
            token,
        }))
    }
}

/// How `tickpipe ctl` ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The engine answered ok (exit status 0).
    Ok,
    /// The engine answered with an error reply (exit status 1).
    ErrorReply,
    /// No usable engine: nothing answers, TLS or the token failed, the connection broke,
    /// or the arguments cannot work (exit status 2).
    NoEngine,
}

impl From<Outcome> for ExitCode {
    fn from(outcome: Outcome) -> ExitCode {
        match outcome {
            Outcome::Ok => ExitCode::SUCCESS,
            Outcome::ErrorReply => ExitCode::from(1),
            Outcome::NoEngine => ExitCode::from(2),
        }
    }
}

/// Runs `tickpipe ctl` with parsed arguments and returns its exit status.
pub fn main(args: &CtlArgs) -> ExitCode {
    let endpoint = match args.connect.endpoint(std::env::var_os(SOCKET_ENV)) {
        Ok(endpoint) => endpoint,
        Err(message) => {
            eprintln!("tickpipe ctl: {message}");
            return Outcome::NoEngine.into();
        }
    };
    if args.json && args.command.is_some() {
        eprintln!("tickpipe ctl: --json prints replies of one command or the prompt; `top` draws a screen");
        return Outcome::NoEngine.into();
    }
    let timeout = Duration::from_secs(args.connect.timeout);
    let outcome = match &args.command {
        Some(CtlCommand::Top(top_args)) => top::run(&endpoint, timeout, top_args),
        None if args.words.is_empty() => prompt::run(&endpoint, timeout, args.json),
        None => oneshot::run(&endpoint, timeout, &args.words, args.json),
    };
    outcome.into()
}

#[cfg(test)]
mod tests {
    use clap::Parser;

    use super::*;

    /// `tickpipe ctl ...` parsed through the real top-level parser.
    fn ctl(args: &[&str]) -> Result<CtlArgs, clap::Error> {
        #[derive(Debug, Parser)]
        struct Wrapper {
            #[command(subcommand)]
            command: Sub,
        }
        #[derive(Debug, Subcommand)]
        enum Sub {
            Ctl(CtlArgs),
        }
        let argv = ["tickpipe", "ctl"].iter().chain(args);
        Wrapper::try_parse_from(argv).map(|w| match w.command {
            Sub::Ctl(a) => a,
        })
    }

    #[test]
    fn command_words_are_kept_in_order_with_negative_numbers() {
        let a = ctl(&["--json", "set", "max_loss", "-5000"]).unwrap();
        assert!(a.json);
        assert_eq!(a.words, ["set", "max_loss", "-5000"]);
        assert!(a.command.is_none());
        let a = ctl(&["close", "SBIN", "10", "--timeout", "9"]).unwrap();
        assert_eq!(a.words, ["close", "SBIN", "10"]);
        assert_eq!(a.connect.timeout, 9);
    }

    #[test]
    fn help_is_a_protocol_command_not_clap_help() {
        let a = ctl(&["help"]).unwrap();
        assert_eq!(a.words, ["help"]);
    }

    #[test]
    fn top_takes_its_interval_and_the_connection_options_on_either_side() {
        let a = ctl(&["--socket", "a.sock", "top", "--interval-ms", "250"]).unwrap();
        let Some(CtlCommand::Top(top)) = &a.command else {
            panic!("not top: {a:?}")
        };
        assert_eq!(top.interval_ms, 250);
        assert_eq!(a.connect.socket, Some(PathBuf::from("a.sock")));
        let a = ctl(&["top", "--socket", "b.sock"]).unwrap();
        assert!(matches!(&a.command, Some(CtlCommand::Top(t)) if t.interval_ms == 500));
        assert_eq!(a.connect.socket, Some(PathBuf::from("b.sock")));
        assert!(ctl(&["top", "--interval-ms", "10"]).is_err());
    }

    #[test]
    fn the_socket_comes_from_the_flag_then_the_environment_then_the_default() {
        let a = ctl(&["status"]).unwrap();
        assert_eq!(
            a.connect.endpoint(None).unwrap(),
            Endpoint::Unix(PathBuf::from(DEFAULT_SOCKET))
        );
        assert_eq!(
            a.connect.endpoint(Some("env.sock".into())).unwrap(),
            Endpoint::Unix(PathBuf::from("env.sock"))
        );
        let a = ctl(&["--socket", "flag.sock", "status"]).unwrap();
        assert_eq!(
            a.connect.endpoint(Some("env.sock".into())).unwrap(),
            Endpoint::Unix(PathBuf::from("flag.sock"))
        );
    }

    #[test]
    fn tls_needs_a_ca_and_one_token() {
        let err = |args: &[&str]| ctl(args).unwrap().connect.endpoint(None).unwrap_err();
        assert!(err(&["--tls", "h:1", "status"]).contains("--ca"));
        assert!(err(&["--tls", "h:1", "--ca", "c.pem", "status"]).contains("--token"));
        assert!(err(&[
            "--tls",
            "h:1",
            "--ca",
            "c",
            "--token",
            "a",
            "--token-file",
            "f"
        ])
        .contains("not both"));
        assert!(err(&["--token", "a", "status"]).contains("only applies with --tls"));
        assert!(
            err(&["--tls", "h:1", "--socket", "s", "--ca", "c", "--token", "t"])
                .contains("--socket and --tls")
        );
        assert!(err(&["--tls", "nohost", "--ca", "c", "--token", "t"]).contains("HOST:PORT"));
    }

    #[test]
    fn tls_defaults_the_server_name_to_localhost() {
        let a = ctl(&[
            "--tls",
            "10.0.0.5:7443",
            "--ca",
            "ca.pem",
            "--token",
            "abc",
            "status",
        ])
        .unwrap();
        let Endpoint::Tls(t) = a.connect.endpoint(None).unwrap() else {
            panic!("not TLS")
        };
        assert_eq!(t.server_name, "localhost");
        assert_eq!(t.token, "abc");
        assert_eq!(t.addr, "10.0.0.5:7443");
    }
}
