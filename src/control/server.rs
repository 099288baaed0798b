//! The control thread: one `mio` loop serving the Unix socket (and, with TLS material,
//! a TCP listener), turning command lines into stage commands and answers into reply
//! lines. It never runs on a stage thread; stages see only their control rings. It also
//! logs every alert the stages raise and runs the alert command (`[control.alerts]`)
//! for them, which is why it runs even with the socket off (`control.enabled = false`):
//! then it listens on nothing and only reads the stages' rings.

use std::{
    collections::{HashMap, VecDeque},
    fs, io,
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread::JoinHandle,
    time::{Duration, Instant},
};

use mio::{
    net::{TcpListener, UnixListener},
    Events, Interest, Poll, Token, Waker,
};
use serde_json::{json, Value};

use crate::{
    control::{
        alert_command::{AlertCommand, AlertCommandReport},
        alert_log::log_alert,
        answer::{self, EngineInfo, Rows},
        catalog::Catalog,
        command::{parse, Request, Stream},
        config::ControlConfig,
        connection::{Connection, Line, PnlSubscription, ReadState, Transport},
        link::{Incoming, StageId, StageLink},
        tls,
    },
    logging::LogLimiter,
    model::{ControlCommand, ControlReply, UnixNanos},
    risk::RiskConfig,
};

const UNIX: Token = Token(0);
const TCP: Token = Token(1);
const WAKE: Token = Token(2);
const FIRST_CONN: usize = 16;

/// Jobs one connection may have waiting before it is told `busy`.
const MAX_QUEUED_PER_CONN: usize = 64;
/// Failed `auth` attempts before a TCP client is disconnected.
const MAX_AUTH_FAILURES: u32 = 3;
/// How long a TCP client may take to authenticate.
const AUTH_DEADLINE: Duration = Duration::from_secs(10);
/// How soon the loop reads the stages' rings again after a pass that found rows in
/// them: a stage drops what it says unasked when its ring is full.
const WHILE_ROWS_FLOW: Duration = Duration::from_millis(1);

/// What the engine hands the control thread: the links to the four stages and the
/// names they speak in.
#[derive(Debug)]
pub struct ControlPlane {
    /// One per stage, in [`StageId`] order.
    pub links: Vec<StageLink>,
    /// Symbols and strategy names.
    pub catalog: Catalog,
    /// Mode and source, for `status`.
    pub info: EngineInfo,
    /// The risk limits the engine started with (`set` validates against the live ones).
    pub limits: RiskConfig,
}

/// What the control thread did, for the end-of-run summary.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ServerReport {
    /// Connections accepted.
    pub connections: u64,
    /// Connections refused (over `max_connections`).
    pub refused: u64,
    /// Commands answered.
    pub commands: u64,
    /// Error replies sent.
    pub errors: u64,
    /// Connections cut off for not reading their replies.
    pub cut_off: u64,
    /// What the alert command did, when one is configured.
    pub alert_command: Option<AlertCommandReport>,
}

/// The running control thread.
#[derive(Debug)]
pub struct ControlServer {
    handle: JoinHandle<ServerReport>,
    waker: Arc<Waker>,
    stop: Arc<AtomicBool>,
    /// `None` when the socket is off.
    socket: Option<PathBuf>,
}

/// Why the control socket could not start.
#[derive(Debug, thiserror::Error)]
pub enum StartError {
    /// The run directory or the socket could not be created.
    #[error("control socket {path}: {source}")]
    Socket {
        /// The path.
        path: PathBuf,
        /// Why.
        source: io::Error,
    },
    /// A live engine already serves that socket.
    #[error(
        "control socket {0}: another tickpipe engine is serving it; stop that engine or set \
         another control.run_dir (or --run-dir)"
    )]
    InUse(PathBuf),
    /// The TCP listener could not start.
    #[error("control.tcp {addr}: {why}")]
    Tcp {
        /// The address.
        addr: String,
        /// Why.
        why: String,
    },
}

impl ControlServer {
    /// Binds the socket(s), when `config.enabled`, and starts the control thread; with
    /// the socket off the thread still logs the stages' alerts and runs the alert
    /// command. Errors come back before any trading starts. `wakers` wake the stage
    /// groups after a command is pushed.
    ///
    /// # Errors
    /// A [`StartError`] naming the path or address and the reason.
    pub fn start(
        config: &ControlConfig,
        plane: ControlPlane,
        wakers: Vec<tickpipe_ringbuf::wait::Waker>,
    ) -> Result<ControlServer, StartError> {
        let socket = config.socket_path();
        let (unix, tcp) = if config.enabled {
            (
                Some(bind_unix(&config.run_dir, &socket)?),
                bind_tcp(config)?,
            )
        } else {
            (None, None)
        };
        let poll = Poll::new().map_err(|source| StartError::Socket {
            path: socket.clone(),
            source,
        })?;
        let waker =
            Arc::new(
                Waker::new(poll.registry(), WAKE).map_err(|source| StartError::Socket {
                    path: socket.clone(),
                    source,
                })?,
            );
        let stop = Arc::new(AtomicBool::new(false));
        let mut server = Server::new(config, plane, wakers, poll, unix, tcp, stop.clone())
            .map_err(|source| StartError::Socket {
                path: socket.clone(),
                source,
            })?;
        let core = config.core;
        let handle = std::thread::Builder::new()
            .name("control".into())
            .spawn(move || {
                if let Some(core) = core {
                    // Best effort: validation checked the core exists; the socket is
                    // served either way.
                    core_affinity::set_for_current(core_affinity::CoreId { id: core });
                }
                server.run()
            })
            .map_err(|source| StartError::Socket {
                path: socket.clone(),
                source,
            })?;
        Ok(ControlServer {
            handle,
            waker,
            stop,
            socket: config.enabled.then_some(socket),
        })
    }

    /// Where the Unix socket is; `None` when the socket is off.
    pub fn socket(&self) -> Option<&Path> {
        self.socket.as_deref()
    }

    /// Tells every client the session is over, closes the sockets and waits for the
    /// thread (which first reads the stages' last alerts and sees the alert command's
    /// runs through).
    pub fn stop(self) -> ServerReport {
        self.stop.store(true, Ordering::Release);
        let _ = self.waker.wake();
        let report = self.handle.join().unwrap_or_default();
        if let Some(socket) = &self.socket {
            let _ = fs::remove_file(socket);
        }
        report
    }
}

/// Creates the run directory and binds the socket with mode 0600. A socket file left by
/// a dead process is replaced; one a live process answers on is refused.
fn bind_unix(run_dir: &Path, socket: &Path) -> Result<UnixListener, StartError> {
    let err = |source| StartError::Socket {
        path: socket.to_path_buf(),
        source,
    };
    fs::create_dir_all(run_dir).map_err(err)?;
    if socket.exists() {
        if std::os::unix::net::UnixStream::connect(socket).is_ok() {
            return Err(StartError::InUse(socket.to_path_buf()));
        }
        fs::remove_file(socket).map_err(err)?;
    }
    // Bound under a private name, given mode 0600, then renamed into place: the socket
    // is never reachable at its public path with a looser mode.
    let tmp = socket.with_extension(format!("sock.{}.tmp", std::process::id()));
    let _ = fs::remove_file(&tmp);
    let listener = UnixListener::bind(&tmp).map_err(err)?;
    use std::os::unix::fs::PermissionsExt;
    fs::set_permissions(&tmp, fs::Permissions::from_mode(0o600)).map_err(err)?;
    fs::rename(&tmp, socket).map_err(err)?;
    Ok(listener)
}

/// The TCP listener with its TLS configuration and token, when `control.tcp` is set.
type TcpSide = (TcpListener, Arc<rustls::ServerConfig>, String);

fn bind_tcp(config: &ControlConfig) -> Result<Option<TcpSide>, StartError> {
    if config.tcp.is_empty() {
        return Ok(None);
    }
    let fail = |why: String| StartError::Tcp {
        addr: config.tcp.clone(),
        why,
    };
    let (Some(cert), Some(key)) = (&config.tls_cert, &config.tls_key) else {
        return Err(fail(
            "refusing to listen without TLS: set control.tls_cert and control.tls_key".into(),
        ));
    };
    let tls = tls::server_config(cert, key).map_err(|e| fail(e.to_string()))?;
    let token_file = config
        .token_file
        .as_ref()
        .ok_or_else(|| fail("refusing to listen without a token: set control.token_file".into()))?;
    let token = fs::read_to_string(token_file).map_err(|e| {
        fail(format!(
            "cannot read token_file {}: {e}",
            token_file.display()
        ))
    })?;
    let token = token.lines().next().unwrap_or("").trim().to_owned();
    if token.len() < 16 {
        return Err(fail(format!(
            "the token in {} is shorter than 16 characters",
            token_file.display()
        )));
    }
    let addr = config
        .tcp
        .parse()
        .map_err(|e| fail(format!("not an address: {e}")))?;
    let listener = TcpListener::bind(addr).map_err(|e| fail(e.to_string()))?;
    Ok(Some((listener, tls, token)))
}

/// One command line on its way through the stages.
#[derive(Debug)]
struct Job {
    id: u64,
    /// The client; `None` once it has gone, and for the control thread's own jobs.
    conn: Option<Token>,
    /// The control thread's own P&L snapshot for the `pnl` subscribers.
    snapshot: bool,
    request: Request,
    /// Commands still to send, in order.
    steps: VecDeque<(StageId, ControlCommand)>,
    /// The command waiting for its answer, and until when.
    current: Option<(StageId, Instant)>,
    rows: Rows,
    /// A reply decided without the stages (an error, or a server-side command).
    settled: Option<Value>,
    /// `set`: the limits have been read and the change is to be sent.
    set_resolved: bool,
}

struct Server {
    poll: Poll,
    /// `None` when the socket is off.
    unix: Option<UnixListener>,
    tcp: Option<TcpSide>,
    conns: HashMap<Token, Connection>,
    next_token: usize,
    links: Vec<StageLink>,
    catalog: Catalog,
    info: EngineInfo,
    limits: RiskConfig,
    stage_wakers: Vec<tickpipe_ringbuf::wait::Waker>,
    jobs: VecDeque<Job>,
    next_job: u64,
    pnl_job_queued: bool,
    last_feed: (UnixNanos, u64, bool),
    stop: Arc<AtomicBool>,
    config: ControlConfig,
    report: ServerReport,
    alert_command: Option<AlertCommand>,
    /// Bounds the alert lines of the log, per alert kind.
    alert_log_limit: LogLimiter,
    /// The last pass read rows the stages said unasked: more are likely.
    rows_flowing: bool,
}

impl Server {
    fn new(
        config: &ControlConfig,
        plane: ControlPlane,
        stage_wakers: Vec<tickpipe_ringbuf::wait::Waker>,
        poll: Poll,
        mut unix: Option<UnixListener>,
        mut tcp: Option<TcpSide>,
        stop: Arc<AtomicBool>,
    ) -> io::Result<Server> {
        if let Some(listener) = &mut unix {
            poll.registry()
                .register(listener, UNIX, Interest::READABLE)?;
        }
        if let Some((listener, _, _)) = &mut tcp {
            poll.registry()
                .register(listener, TCP, Interest::READABLE)?;
        }
        Ok(Server {
            poll,
            unix,
            tcp,
            conns: HashMap::new(),
            next_token: FIRST_CONN,
            links: plane.links,
            catalog: plane.catalog,
            info: plane.info,
            limits: plane.limits,
            stage_wakers,
            jobs: VecDeque::new(),
            next_job: 1,
            pnl_job_queued: false,
            last_feed: (UnixNanos(0), 0, false),
            stop,
            config: config.clone(),
            report: ServerReport::default(),
            alert_command: AlertCommand::new(&config.alerts),
            alert_log_limit: LogLimiter::new("alerts"),
            rows_flowing: false,
        })
    }

    fn run(&mut self) -> ServerReport {
        let mut events = Events::with_capacity(128);
        loop {
            let timeout = self.timeout();
            if let Err(e) = self.poll.poll(&mut events, Some(timeout)) {
                if e.kind() != io::ErrorKind::Interrupted {
                    break;
                }
            }
            for event in events.iter() {
                match event.token() {
                    UNIX => self.accept_unix(),
                    TCP => self.accept_tcp(),
                    WAKE => {}
                    token => self.on_conn_event(token),
                }
            }
            self.pump_links();
            // After a storm of one kind, its count goes out within a pass.
            self.alert_log_limit.flush_expired();
            if let Some(command) = &mut self.alert_command {
                command.tick(Instant::now());
            }
            self.run_jobs();
            self.schedule_pnl();
            self.flush_all();
            if self.stop.load(Ordering::Acquire) {
                self.shutdown();
                break;
            }
        }
        if let Some(command) = &mut self.alert_command {
            // The last alerts of the day (held by the rate limit, or still running)
            // are seen through before the report is final.
            self.report.alert_command = Some(command.finish());
        }
        self.report
    }

    /// How long the loop may sleep: briefly while a stage owes an answer, until the next
    /// P&L snapshot, and never so long that unasked rows pile up in the answer rings.
    fn timeout(&self) -> Duration {
        if self.jobs.front().is_some_and(|j| j.current.is_some()) {
            return Duration::from_micros(500);
        }
        let now = Instant::now();
        let mut t = Duration::from_millis(100);
        for c in self.conns.values() {
            if let Some(p) = c.pnl {
                t = t.min(p.next.saturating_duration_since(now));
            }
            if c.fills || c.alerts {
                t = t.min(Duration::from_millis(20));
            }
        }
        if let Some(wake) = self.alert_command.as_ref().and_then(|c| c.next_wake(now)) {
            t = t.min(wake);
        }
        if self.rows_flowing {
            t = t.min(WHILE_ROWS_FLOW);
        }
        t
    }

    // ----- connections ------------------------------------------------------------------

    fn add_conn(&mut self, transport: Transport, authed: bool) {
        if self.conns.len() >= self.config.max_connections {
            self.report.refused += 1;
            if let Transport::Unix(mut s) = transport {
                use std::io::Write;
                let line = answer::error(
                    "busy",
                    &format!(
                        "the engine serves at most {} control connections",
                        self.config.max_connections
                    ),
                );
                let _ = writeln!(s, "{line}");
            }
            return;
        }
        let token = Token(self.next_token);
        self.next_token += 1;
        let mut conn = Connection::new(
            transport,
            authed,
            self.config.commands_per_sec,
            Instant::now(),
        );
        let registered = match &mut conn.transport {
            Transport::Unix(s) => self.poll.registry().register(s, token, Interest::READABLE),
            Transport::Tls(t) => {
                let interest = t.interest();
                self.poll
                    .registry()
                    .register(t.socket_mut(), token, interest)
            }
        };
        if registered.is_ok() {
            self.report.connections += 1;
            self.conns.insert(token, conn);
        }
    }

    fn accept_unix(&mut self) {
        loop {
            let Some(listener) = &self.unix else {
                return;
            };
            match listener.accept() {
                Ok((stream, _)) => self.add_conn(Transport::Unix(stream), true),
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => break,
            }
        }
    }

    fn accept_tcp(&mut self) {
        loop {
            let Some((listener, config, _)) = &self.tcp else {
                return;
            };
            match listener.accept() {
                Ok((stream, _)) => {
                    let config = config.clone();
                    if let Ok(tls) = tls::TlsStream::new(stream, config) {
                        self.add_conn(Transport::Tls(Box::new(tls)), false);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(_) => break,
            }
        }
    }

    fn close(&mut self, token: Token) {
        if let Some(mut conn) = self.conns.remove(&token) {
            let _ = match &mut conn.transport {
                Transport::Unix(s) => self.poll.registry().deregister(s),
                Transport::Tls(t) => {
                    t.close();
                    let _ = t.flush();
                    self.poll.registry().deregister(t.socket_mut())
                }
            };
        }
        for job in &mut self.jobs {
            if job.conn == Some(token) {
                job.conn = None;
            }
        }
    }

    fn on_conn_event(&mut self, token: Token) {
        loop {
            let Some(conn) = self.conns.get_mut(&token) else {
                return;
            };
            let state = conn.read();
            let mut lines = Vec::new();
            while let Some(line) = conn.next_line() {
                lines.push(line);
            }
            for line in lines {
                self.on_line(token, line);
            }
            match state {
                Ok(ReadState::Full) => continue,
                Ok(ReadState::Open) => return,
                Ok(ReadState::Closed) | Err(_) => {
                    // A client that sent its commands and closed its end still gets the
                    // answers: close once they are written.
                    match self.conns.get_mut(&token) {
                        Some(conn) if conn.queued > 0 && state.is_ok() => conn.closing = true,
                        _ => self.close(token),
                    }
                    return;
                }
            }
        }
    }

    /// Turns one line into a job, answered in turn with the connection's other jobs.
    fn on_line(&mut self, token: Token, line: Line) {
        let now = Instant::now();
        let Some(conn) = self.conns.get_mut(&token) else {
            return;
        };
        if conn.closing {
            return;
        }
        let (request, settled) = match line {
            Line::TooLong => (
                Request::Help,
                Some(answer::error(
                    "parse",
                    &format!(
                        "the line is longer than {} bytes",
                        crate::control::command::MAX_LINE
                    ),
                )),
            ),
            Line::NotUtf8 => (
                Request::Help,
                Some(answer::error("parse", "the line is not UTF-8 text")),
            ),
            Line::Text(text) => match parse(&text) {
                Err(e) => (Request::Help, Some(answer::error(e.code, &e.message))),
                Ok(request) => {
                    let settled = if !conn.rate.take(now) {
                        Some(answer::error(
                            "rate_limited",
                            &format!(
                                "more than {} commands a second on this connection; nothing was done",
                                self.config.commands_per_sec
                            ),
                        ))
                    } else if !conn.authed && !matches!(request, Request::Auth(_) | Request::Quit) {
                        Some(answer::error(
                            "unauthorized",
                            "send `auth <token>` first on a TCP connection",
                        ))
                    } else if conn.queued >= MAX_QUEUED_PER_CONN {
                        Some(answer::error(
                            "busy",
                            "too many commands waiting on this connection",
                        ))
                    } else {
                        None
                    };
                    (request, settled)
                }
            },
        };
        conn.queued += 1;
        let id = self.next_job;
        self.next_job += 1;
        let mut job = Job {
            id,
            conn: Some(token),
            snapshot: false,
            request,
            steps: VecDeque::new(),
            current: None,
            rows: Rows::default(),
            settled,
            set_resolved: false,
        };
        if job.settled.is_none() {
            self.plan(&mut job);
        }
        self.jobs.push_back(job);
    }

    /// The stage commands a request needs.
    fn plan(&self, job: &mut Job) {
        use ControlCommand as C;
        use StageId::*;
        let steps: &[(StageId, ControlCommand)] = match &job.request {
            Request::Status => &[
                (Feed, C::Status),
                (Signal, C::Status),
                (Risk, C::Status),
                (Order, C::Status),
                (Risk, C::Latency),
                (Order, C::Latency),
            ],
            Request::Positions => &[(Risk, C::Positions)],
            Request::Orders => &[(Order, C::Orders)],
            Request::Pnl => &[(Risk, C::Status), (Risk, C::Pnl)],
            Request::Strategies => &[(Signal, C::Status), (Risk, C::Pnl)],
            Request::Limits | Request::Set { .. } => &[(Risk, C::Limits)],
            Request::Latency => &[
                (Feed, C::Latency),
                (Signal, C::Latency),
                (Risk, C::Latency),
                (Order, C::Latency),
            ],
            Request::Metrics => &[
                (Feed, C::Status),
                (Feed, C::Counters),
                (Signal, C::Counters),
                (Risk, C::Status),
                (Risk, C::Pnl),
                (Risk, C::Counters),
                (Order, C::Counters),
                (Feed, C::Latency),
                (Signal, C::Latency),
                (Risk, C::Latency),
                (Order, C::Latency),
            ],
            request if request.changes_state() => {
                match self.catalog.resolve(request, &self.limits) {
                    Ok(command) => {
                        let stage = if command.is_for_signal() {
                            Signal
                        } else {
                            Risk
                        };
                        job.steps.push_back((stage, command));
                    }
                    Err(e) => job.settled = Some(answer::error(e.code, &e.message)),
                }
                &[]
            }
            _ => &[],
        };
        job.steps.extend(steps.iter().copied());
    }

    // ----- stages -------------------------------------------------------------------------

    /// Reads every row the stages sent: unasked ones go to subscribers, answers to the
    /// job that asked.
    fn pump_links(&mut self) {
        self.rows_flowing = false;
        for i in 0..self.links.len() {
            while let Some(incoming) = self.links[i].poll() {
                let stage = self.links[i].stage;
                self.rows_flowing |= matches!(incoming, Incoming::Unasked(_));
                match incoming {
                    // The events are made only for someone who takes them: at full rate
                    // the stages say tens of thousands of rows a second, and a row left
                    // in a full ring is a row dropped.
                    Incoming::Unasked(ControlReply::Fill(fill)) => {
                        if self.conns.values().any(|c| c.fills) {
                            let line = answer::fill_event(&fill, &self.catalog).to_string();
                            self.broadcast(|c| c.fills, &line);
                        }
                    }
                    Incoming::Unasked(ControlReply::Alert(alert)) => {
                        let logged = self.alert_log_limit.admit(alert.kind);
                        let streamed = self.conns.values().any(|c| c.alerts);
                        let commanded = self
                            .alert_command
                            .as_ref()
                            .is_some_and(|c| c.wants(alert.level));
                        if !(logged || streamed || commanded) {
                            continue;
                        }
                        let event = answer::alert_event(stage, &alert, &self.catalog);
                        if logged {
                            log_alert(stage, &alert, &event);
                        }
                        if streamed {
                            self.broadcast(|c| c.alerts, &event.to_string());
                        }
                        if let Some(command) = &mut self.alert_command {
                            command.offer(alert.level, alert.kind, event, Instant::now());
                        }
                    }
                    Incoming::Unasked(_) => {}
                    Incoming::Row { job, row, last } => {
                        if let ControlReply::Feed {
                            market_time,
                            ticks,
                            finished,
                        } = row
                        {
                            self.last_feed = (market_time, ticks, finished);
                        }
                        let Some(active) = self.jobs.front_mut().filter(|j| j.id == job) else {
                            continue;
                        };
                        let refused = matches!(row, ControlReply::Refused(_));
                        if !last || refused {
                            active.rows.by_stage[stage as usize].push(row);
                        }
                        if last {
                            active.current = None;
                            if refused {
                                active.steps.clear();
                            }
                        }
                    }
                }
            }
        }
    }

    /// Moves the job at the front along: sends its next command, notices a timeout,
    /// and answers it when it is complete. Jobs are answered strictly in order.
    fn run_jobs(&mut self) {
        let timeout = Duration::from_millis(self.config.answer_timeout_ms);
        loop {
            let Some(job) = self.jobs.front_mut() else {
                return;
            };
            if let Some((stage, deadline)) = job.current {
                if self.links[stage as usize].is_gone() {
                    // The stage finished with the command unanswered (end of session).
                    job.rows.gone[stage as usize] = true;
                    job.current = None;
                    continue;
                }
                if Instant::now() < deadline {
                    return;
                }
                self.links[stage as usize].abandon(job.id);
                job.settled = Some(answer::error(
                    "timeout",
                    &format!(
                        "the {} stage did not answer within {} ms",
                        stage.name(),
                        timeout.as_millis()
                    ),
                ));
                job.current = None;
                job.steps.clear();
            }
            if job.settled.is_none() && job.steps.is_empty() && !job.set_resolved {
                if let Request::Set { .. } = job.request {
                    // The live limits are read; now validate the change against them.
                    job.set_resolved = true;
                    if job.rows.gone[StageId::Risk as usize] {
                        job.settled = Some(answer::error(
                            "engine_stopped",
                            "the risk stage has finished: the session is over",
                        ));
                    } else {
                        let live =
                            answer::limits_from_rows(&self.limits, job.rows.of(StageId::Risk));
                        match self.catalog.resolve(&job.request, &live) {
                            Ok(command) => job.steps.push_back((StageId::Risk, command)),
                            Err(e) => job.settled = Some(answer::error(e.code, &e.message)),
                        }
                    }
                }
            }
            if job.settled.is_none() {
                if let Some((stage, command)) = job.steps.pop_front() {
                    let link = &mut self.links[stage as usize];
                    if link.send(job.id, command) {
                        job.current = Some((stage, Instant::now() + timeout));
                        for w in &self.stage_wakers {
                            w.wake();
                        }
                        return;
                    }
                    if link.is_gone() {
                        job.rows.gone[stage as usize] = true;
                    } else {
                        job.settled = Some(answer::error(
                            "busy",
                            &format!("the {} stage is not taking commands", stage.name()),
                        ));
                    }
                    continue;
                }
            }
            let Some(job) = self.jobs.pop_front() else {
                return;
            };
            self.finish(job);
        }
    }

    /// Answers a complete job.
    fn finish(&mut self, job: Job) {
        let Some(token) = job.conn else {
            if job.snapshot {
                self.pnl_job_queued = false;
                if let Some(event) = answer::pnl_event(&job.rows) {
                    self.send_pnl(&event.to_string());
                }
            }
            return;
        };
        let mut reply = match job.settled {
            Some(reply) => reply,
            None => self.server_side(token, &job.request).unwrap_or_else(|| {
                answer::build(
                    &job.request,
                    &job.rows,
                    &self.catalog,
                    &self.info,
                    self.last_feed,
                )
            }),
        };
        self.report.commands += 1;
        if reply.get("ok") == Some(&Value::Bool(false)) {
            self.report.errors += 1;
        } else if let Some(command) = &self.alert_command {
            match job.request {
                Request::Status => reply["alert_command"] = command.status(),
                Request::Metrics => {
                    if let Some(Value::String(text)) = reply.get_mut("text") {
                        text.push_str(&command.metrics());
                    }
                }
                _ => {}
            }
        }
        let Some(conn) = self.conns.get_mut(&token) else {
            return;
        };
        conn.queued = conn.queued.saturating_sub(1);
        conn.send_line(&reply.to_string());
        if matches!(job.request, Request::Quit) {
            conn.closing = true;
        }
        if let Request::Auth(_) = job.request {
            if !conn.authed && conn.auth_failures >= MAX_AUTH_FAILURES {
                conn.closing = true;
            }
        }
    }

    /// Commands the control thread answers itself.
    fn server_side(&mut self, token: Token, request: &Request) -> Option<Value> {
        let conn = self.conns.get_mut(&token)?;
        Some(match request {
            Request::Auth(given) => {
                let expected = self.tcp.as_ref().map(|(_, _, t)| t.as_str());
                match expected {
                    _ if !conn.is_tcp() => json!({"ok": true, "reply": "auth"}),
                    Some(expected) if tls::token_matches(expected, given) => {
                        conn.authed = true;
                        json!({"ok": true, "reply": "auth"})
                    }
                    _ => {
                        conn.auth_failures += 1;
                        answer::error("unauthorized", "the token is not the engine's")
                    }
                }
            }
            Request::Subscribe {
                stream,
                interval_ms,
            } => {
                match stream {
                    Stream::Pnl => {
                        conn.pnl = Some(PnlSubscription {
                            interval: Duration::from_millis(*interval_ms),
                            next: Instant::now(),
                        });
                    }
                    Stream::Fills => conn.fills = true,
                    Stream::Alerts => conn.alerts = true,
                }
                let mut v = json!({"ok": true, "reply": "subscribe", "stream": stream.as_str()});
                if *stream == Stream::Pnl {
                    v["interval_ms"] = json!(interval_ms);
                }
                v
            }
            Request::Unsubscribe(stream) => {
                match stream {
                    Stream::Pnl => conn.pnl = None,
                    Stream::Fills => conn.fills = false,
                    Stream::Alerts => conn.alerts = false,
                }
                json!({"ok": true, "reply": "unsubscribe", "stream": stream.as_str()})
            }
            _ => return None,
        })
    }

    // ----- streams ----------------------------------------------------------------------

    /// Queues a P&L snapshot when a subscriber is due and none is on its way.
    fn schedule_pnl(&mut self) {
        if self.pnl_job_queued {
            return;
        }
        let now = Instant::now();
        if !self
            .conns
            .values()
            .any(|c| c.pnl.is_some_and(|p| p.next <= now))
        {
            return;
        }
        self.pnl_job_queued = true;
        let id = self.next_job;
        self.next_job += 1;
        self.jobs.push_back(Job {
            id,
            conn: None,
            snapshot: true,
            request: Request::Pnl,
            steps: [(StageId::Risk, ControlCommand::Status)].into(),
            current: None,
            rows: Rows::default(),
            settled: None,
            set_resolved: false,
        });
        self.run_jobs();
    }

    fn send_pnl(&mut self, line: &str) {
        let now = Instant::now();
        for conn in self.conns.values_mut() {
            let Some(p) = conn.pnl.as_mut().filter(|p| p.next <= now) else {
                continue;
            };
            p.next = (p.next + p.interval).max(now);
            conn.send_line(line);
        }
    }

    fn broadcast(&mut self, wants: impl Fn(&Connection) -> bool, line: &str) {
        for conn in self.conns.values_mut() {
            if wants(conn) && !conn.closing {
                conn.send_line(line);
            }
        }
    }

    /// Writes pending output; cuts off clients that let too much pile up, and TCP
    /// clients that have not authenticated in time.
    fn flush_all(&mut self) {
        let mut dead = Vec::new();
        let limit = self.config.max_pending_bytes;
        let now = Instant::now();
        for (&token, conn) in &mut self.conns {
            if !conn.authed && now.saturating_duration_since(conn.since) > AUTH_DEADLINE {
                dead.push(token);
                continue;
            }
            let flushed = conn.flush();
            match flushed {
                Ok(true) if conn.closing && conn.queued == 0 => dead.push(token),
                Ok(_) if conn.pending() > limit => {
                    self.report.cut_off += 1;
                    dead.push(token);
                }
                Ok(_) => {
                    let interest = conn.interest();
                    let _ = match &mut conn.transport {
                        Transport::Unix(s) => self.poll.registry().reregister(s, token, interest),
                        Transport::Tls(t) => {
                            self.poll
                                .registry()
                                .reregister(t.socket_mut(), token, interest)
                        }
                    };
                }
                Err(_) => dead.push(token),
            }
        }
        for token in dead {
            self.close(token);
        }
    }

    /// The engine has stopped: answer what can be answered, say `end`, close.
    fn shutdown(&mut self) {
        // Rows still in the rings (the last fills) go out first.
        self.pump_links();
        let end = json!({"event": "end", "reason": "session over"}).to_string();
        for conn in self.conns.values_mut() {
            conn.send_line(&end);
            conn.closing = true;
        }
        // Bounded: a client that does not read gets what fits in a few rounds.
        for _ in 0..50 {
            self.flush_all();
            if self.conns.is_empty() {
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
        let tokens: Vec<Token> = self.conns.keys().copied().collect();
        for token in tokens {
            self.close(token);
        }
    }
}
