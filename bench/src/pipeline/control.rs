//! The control plane as one more dimension of the run matrix: whether the engine serves
//! its control socket during a run, and whether a client streams P&L from it meanwhile.
//!
//! Every stage polls its control ring between market events whether or not a socket is
//! served, so `off` already pays the stages' share; `idle` adds the control thread and
//! its socket, and `pnl10hz` adds what an operator's dashboard costs: every 100 ms the
//! control thread asks the risk and feed stages for a snapshot, and they answer between
//! events.

use std::{
    fs,
    io::{self, BufRead, BufReader, Write},
    os::unix::net::UnixStream,
    path::{Path, PathBuf},
    sync::atomic::{AtomicU64, Ordering},
    thread::JoinHandle,
    time::Duration,
};

use serde_json::Value;
use tickpipe::control::{ControlConfig, ServerReport};

/// What the control plane does during a run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum ControlMode {
    /// No control socket (as before the option existed); the stages still poll their
    /// control rings, which nobody writes.
    Off,
    /// The control socket is served, nobody connects.
    Idle,
    /// The socket is served and a client streams `subscribe pnl 100` (10 snapshots a
    /// second) for the whole run.
    Pnl10Hz,
}

/// The P&L interval the `pnl10hz` client asks for.
pub const PNL_INTERVAL_MS: u64 = 100;

/// Runs shorter than this may end before the first snapshot reaches the client, so a
/// `pnl10hz` run without one fails only when it lasted longer.
pub const PNL_REQUIRED_AFTER: Duration = Duration::from_millis(200);

/// How often, and how long apart, the client looks for the socket before giving up:
/// [`tickpipe::engine::Pipeline::run`] binds it before any stage starts, which takes
/// milliseconds, so 10 s means the run never started.
const SOCKET_ATTEMPTS: u32 = 2_000;
const SOCKET_PAUSE: Duration = Duration::from_millis(5);

/// The longest the client waits for a line: snapshots come every 100 ms while the run
/// lasts and `end` comes when it stops, so a silence this long means the server hangs.
const READ_TIMEOUT: Duration = Duration::from_secs(10);

impl ControlMode {
    /// Parses `off`, `idle` or `pnl10hz`.
    ///
    /// # Errors
    /// A sentence naming the accepted modes.
    pub fn parse(text: &str) -> Result<ControlMode, String> {
        match text.trim() {
            "off" => Ok(ControlMode::Off),
            "idle" => Ok(ControlMode::Idle),
            "pnl10hz" => Ok(ControlMode::Pnl10Hz),
            other => Err(format!(
                "unknown control mode `{other}`, expected off, idle or pnl10hz"
            )),
        }
    }

    /// The name in labels and file names.
    pub fn name(self) -> &'static str {
        match self {
            ControlMode::Off => "off",
            ControlMode::Idle => "idle",
            ControlMode::Pnl10Hz => "pnl10hz",
        }
    }

    /// Whether the run serves the control socket.
    pub fn serves_socket(self) -> bool {
        self != ControlMode::Off
    }
}

/// A fresh directory for one run's socket under [`std::env::temp_dir`], removed with
/// everything in it when dropped, so runs never meet each other's (or a live engine's)
/// socket.
#[derive(Debug)]
pub struct RunDir {
    path: PathBuf,
}

impl RunDir {
    /// Creates `tickpipe-bench-<pid>-<n>` under the temporary directory; `n` counts the
    /// directories this process made, and creation fails rather than reuse one.
    ///
    /// # Errors
    /// When the directory cannot be created.
    pub fn create() -> io::Result<RunDir> {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let path = std::env::temp_dir().join(format!("tickpipe-bench-{}-{n}", std::process::id()));
        fs::create_dir(&path)?;
        Ok(RunDir { path })
    }

    /// The directory.
    pub fn path(&self) -> &Path {
        &self.path
    }
}

impl Drop for RunDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.path);
    }
}

/// Sets `config` up for `mode`: control off, or served from a fresh [`RunDir`] that
/// must outlive the run.
///
/// # Errors
/// When the directory cannot be created.
pub fn configure(mode: ControlMode, config: &mut ControlConfig) -> Result<Option<RunDir>, String> {
    config.enabled = mode.serves_socket();
    if !config.enabled {
        return Ok(None);
    }
    let dir = RunDir::create().map_err(|e| format!("cannot create a control run dir: {e}"))?;
    config.run_dir = dir.path().to_owned();
    Ok(Some(dir))
}

/// What the `pnl10hz` client saw.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientReport {
    /// `{"event":"pnl",...}` lines received.
    pub pnl_events: u64,
    /// Other lines: the reply to `subscribe`, and `end`.
    pub other_lines: u64,
    /// Whether the stream closed with `{"event":"end",...}` (otherwise with EOF).
    pub ended: bool,
    /// Looks at the socket path before it answered (1: there at the first look).
    pub connect_attempts: u32,
}

/// What the control side of one run did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ControlOutcome {
    /// The control thread's own counts (connections, commands answered).
    pub server: ServerReport,
    /// The `pnl10hz` client's counts.
    pub client: Option<ClientReport>,
}

/// Starts the `pnl10hz` client on its own thread: it waits for `socket` to appear,
/// subscribes to P&L every [`PNL_INTERVAL_MS`] and reads until `end` or EOF.
///
/// # Errors
/// When the thread cannot start.
pub fn spawn_pnl_client(
    socket: PathBuf,
) -> Result<JoinHandle<Result<ClientReport, String>>, String> {
    std::thread::Builder::new()
        .name("pnl-client".to_owned())
        .spawn(move || {
            let (stream, attempts) = connect(&socket, SOCKET_ATTEMPTS, SOCKET_PAUSE)?;
            stream
                .set_read_timeout(Some(READ_TIMEOUT))
                .map_err(|e| format!("control socket {}: {e}", socket.display()))?;
            let mut report = stream_pnl(stream)?;
            report.connect_attempts = attempts;
            Ok(report)
        })
        .map_err(|e| format!("cannot start the pnl client thread: {e}"))
}

/// Connects once the socket file exists, looking at most `attempts` times `pause`
/// apart; returns the stream and the number of looks it took.
fn connect(socket: &Path, attempts: u32, pause: Duration) -> Result<(UnixStream, u32), String> {
    let mut last = None;
    for attempt in 1..=attempts {
        if socket.exists() {
            match UnixStream::connect(socket) {
                Ok(stream) => return Ok((stream, attempt)),
                Err(e) => last = Some(e),
            }
        }
        std::thread::sleep(pause);
    }
    Err(format!(
        "control socket {} did not answer after {attempts} looks {} ms apart{}",
        socket.display(),
        pause.as_millis(),
        last.map_or(String::new(), |e| format!(": {e}"))
    ))
}

/// Sends `subscribe pnl` and counts what comes back until `end` or EOF.
fn stream_pnl<S: io::Read + Write>(mut stream: S) -> Result<ClientReport, String> {
    writeln!(stream, "subscribe pnl {PNL_INTERVAL_MS}")
        .and_then(|()| stream.flush())
        .map_err(|e| format!("cannot send `subscribe pnl`: {e}"))?;
    let mut report = ClientReport::default();
    let mut subscribed = false;
    for line in BufReader::new(stream).lines() {
        let line = line.map_err(|e| format!("reading the control socket: {e}"))?;
        match classify(&line)? {
            Line::Reply { ok: true } if !subscribed => subscribed = true,
            Line::Reply { .. } => {
                return Err(format!(
                    "the control socket refused `subscribe pnl`: {line}"
                ))
            }
            Line::Event(name) if name == "pnl" => {
                report.pnl_events += 1;
                continue;
            }
            Line::Event(name) if name == "end" => {
                report.other_lines += 1;
                report.ended = true;
                break;
            }
            Line::Event(_) => {}
        }
        report.other_lines += 1;
    }
    if !subscribed {
        return Err("the control socket closed before answering `subscribe pnl`".to_owned());
    }
    Ok(report)
}

/// One line from the control socket, told apart as `PROTOCOL.md` says: a reply has
/// `"ok"`, a stream event has `"event"`.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Line {
    Reply { ok: bool },
    Event(String),
}

fn classify(line: &str) -> Result<Line, String> {
    let value: Value = serde_json::from_str(line)
        .map_err(|e| format!("the control socket sent a line that is not JSON ({e}): {line}"))?;
    if let Some(ok) = value.get("ok").and_then(Value::as_bool) {
        return Ok(Line::Reply { ok });
    }
    match value.get("event").and_then(Value::as_str) {
        Some(name) => Ok(Line::Event(name.to_owned())),
        None => Err(format!(
            "the control socket sent a line with neither `ok` nor `event`: {line}"
        )),
    }
}

/// Checks a finished run's control side against its mode: a served socket must have
/// reported, and a `pnl10hz` run that lasted past [`PNL_REQUIRED_AFTER`] must have
/// streamed at least one snapshot (otherwise the run measured no client at all).
///
/// # Errors
/// A sentence saying what is missing.
pub fn check(
    mode: ControlMode,
    outcome: Option<&ControlOutcome>,
    wall: Duration,
) -> Result<(), String> {
    match (mode, outcome) {
        (ControlMode::Off, None) => Ok(()),
        (ControlMode::Off, Some(_)) => Err("control is off but a socket was served".to_owned()),
        (_, None) => Err(format!(
            "control {}: the engine did not serve its control socket",
            mode.name()
        )),
        (ControlMode::Idle, Some(_)) => Ok(()),
        (ControlMode::Pnl10Hz, Some(outcome)) => {
            let Some(client) = outcome.client else {
                return Err("control pnl10hz: no client ran".to_owned());
            };
            if client.pnl_events == 0 && wall > PNL_REQUIRED_AFTER {
                return Err(format!(
                    "control pnl10hz: the client received no pnl event in a run of {:.3} s \
                     ({} connection(s) served, {} command(s) answered)",
                    wall.as_secs_f64(),
                    outcome.server.connections,
                    outcome.server.commands
                ));
            }
            Ok(())
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn modes_parse_and_name_themselves() {
        for mode in [ControlMode::Off, ControlMode::Idle, ControlMode::Pnl10Hz] {
            assert_eq!(ControlMode::parse(mode.name()), Ok(mode));
        }
        assert_eq!(ControlMode::parse(" idle "), Ok(ControlMode::Idle));
        let err = ControlMode::parse("pnl").unwrap_err();
        assert!(err.contains("off, idle or pnl10hz"), "{err}");
        assert!(!ControlMode::Off.serves_socket());
        assert!(ControlMode::Pnl10Hz.serves_socket());
    }

    #[test]
    fn lines_are_told_apart_by_their_keys() {
        assert_eq!(
            classify(r#"{"interval_ms":100,"ok":true,"reply":"subscribe","stream":"pnl"}"#),
            Ok(Line::Reply { ok: true })
        );
        assert_eq!(
            classify(r#"{"ok":false,"error":"usage","message":"no"}"#),
            Ok(Line::Reply { ok: false })
        );
        assert_eq!(
            classify(r#"{"market_time":"x","event":"pnl","total":"1.00"}"#),
            Ok(Line::Event("pnl".to_owned()))
        );
        assert!(classify("not json").is_err());
        assert!(classify(r#"{"reply":"x"}"#).is_err());
    }

    /// A server on the other end of a socket pair: checks the subscription, then writes
    /// `lines` and hangs up.
    fn fake_server(lines: &'static [&'static str]) -> (UnixStream, JoinHandle<String>) {
        let (client, server) = UnixStream::pair().unwrap();
        let handle = std::thread::spawn(move || {
            let mut request = String::new();
            let mut reader = BufReader::new(server.try_clone().unwrap());
            reader.read_line(&mut request).unwrap();
            let mut server = server;
            for line in lines {
                // The client may hang up once it has read `end`: lines after it can
                // meet a closed socket, which is what the test wants to allow.
                if writeln!(server, "{line}").is_err() {
                    break;
                }
            }
            request
        });
        (client, handle)
    }

    #[test]
    fn the_client_counts_pnl_events_until_end() {
        let (client, server) = fake_server(&[
            r#"{"ok":true,"reply":"subscribe","stream":"pnl","interval_ms":100}"#,
            r#"{"event":"pnl","total":"0.00"}"#,
            r#"{"event":"fill","qty":1}"#,
            r#"{"event":"pnl","total":"1.00"}"#,
            r#"{"event":"end","reason":"session over"}"#,
            r#"{"event":"pnl","total":"after the end, not read"}"#,
        ]);
        let report = stream_pnl(client).unwrap();
        assert_eq!(server.join().unwrap(), "subscribe pnl 100\n");
        assert_eq!(report.pnl_events, 2);
        assert_eq!(report.other_lines, 3);
        assert!(report.ended);
    }

    #[test]
    fn the_client_accepts_eof_but_not_a_refusal() {
        let (client, _server) =
            fake_server(&[r#"{"ok":true,"reply":"subscribe","stream":"pnl","interval_ms":100}"#]);
        let report = stream_pnl(client).unwrap();
        assert_eq!((report.pnl_events, report.ended), (0, false));

        let (client, _server) = fake_server(&[r#"{"ok":false,"error":"usage","message":"no"}"#]);
        assert!(stream_pnl(client).unwrap_err().contains("refused"));
        let (client, _server) = fake_server(&[]);
        assert!(stream_pnl(client).unwrap_err().contains("closed before"));
    }

    #[test]
    fn a_missing_socket_is_given_up_after_the_attempts() {
        let dir = RunDir::create().unwrap();
        let err = connect(&dir.path().join("tickpipe.sock"), 3, Duration::ZERO).unwrap_err();
        assert!(err.contains("after 3 looks"), "{err}");
        let path = dir.path().to_owned();
        drop(dir);
        assert!(!path.exists());
    }

    #[test]
    fn configure_serves_a_fresh_dir_only_when_asked() {
        let mut config = ControlConfig::default();
        assert!(configure(ControlMode::Off, &mut config).unwrap().is_none());
        assert!(!config.enabled);
        let a = configure(ControlMode::Idle, &mut config).unwrap().unwrap();
        assert!(config.enabled);
        assert_eq!(config.run_dir, a.path());
        let b = configure(ControlMode::Pnl10Hz, &mut config)
            .unwrap()
            .unwrap();
        assert_ne!(a.path(), b.path());
    }

    #[test]
    fn a_pnl_run_without_events_fails_unless_it_was_short() {
        let served = |pnl_events| ControlOutcome {
            server: ServerReport::default(),
            client: Some(ClientReport {
                pnl_events,
                ..ClientReport::default()
            }),
        };
        let long = Duration::from_secs(1);
        let short = Duration::from_millis(50);
        assert!(check(ControlMode::Pnl10Hz, Some(&served(3)), long).is_ok());
        assert!(check(ControlMode::Pnl10Hz, Some(&served(0)), short).is_ok());
        let err = check(ControlMode::Pnl10Hz, Some(&served(0)), long).unwrap_err();
        assert!(err.contains("no pnl event"), "{err}");
        assert!(check(ControlMode::Idle, None, long).is_err());
        assert!(check(ControlMode::Off, None, long).is_ok());
        assert!(check(ControlMode::Off, Some(&served(0)), long).is_err());
    }
}
