//! The transport of `tickpipe ctl`: one connection to the engine's control socket (a
//! Unix stream socket, or TCP with TLS), sending command lines and reading reply lines.
//!
//! The protocol (`src/control/PROTOCOL.md`) is line based: one command per line out,
//! one JSON object per line in. Replies carry `"ok"`, stream events carry `"event"`;
//! [`Connection::request`] reads until the reply and hands events it meets on the way to
//! a callback, so a client that subscribed never mistakes an event for its answer.

use std::{
    fmt, io,
    io::{Read, Write},
    net::{TcpStream, ToSocketAddrs},
    os::unix::net::UnixStream,
    path::PathBuf,
    time::{Duration, Instant},
};

use serde_json::Value;

use super::tls;

/// The longest reply line accepted (a `metrics` reply is tens of KiB); a longer line
/// means the peer is not a tickpipe engine, and reading on would only use memory.
const MAX_LINE: usize = 16 << 20;

/// Where the engine listens.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Endpoint {
    /// The Unix socket in the engine's run directory; the file mode is the auth.
    Unix(PathBuf),
    /// TCP with TLS; the first line sent is `auth <token>`.
    Tls(TlsTarget),
}

/// What a TLS connection needs: where, whom to trust, which name to check, which token.
#[derive(Clone, PartialEq, Eq)]
pub struct TlsTarget {
    /// `HOST:PORT` as given on the command line.
    pub addr: String,
    /// PEM file with the CA (or the server's self-signed certificate) to trust, alone.
    pub ca: PathBuf,
    /// The name the server's certificate must carry.
    pub server_name: String,
    /// The token sent with `auth`.
    pub token: String,
}

impl fmt::Debug for TlsTarget {
    /// Never prints the token, so a debug log cannot leak it.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsTarget")
            .field("addr", &self.addr)
            .field("ca", &self.ca)
            .field("server_name", &self.server_name)
            .field("token", &"<hidden>")
            .finish()
    }
}

impl fmt::Display for Endpoint {
    /// How messages name the engine: `socket var/tickpipe.sock` or `host:port (TLS)`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Endpoint::Unix(path) => write!(f, "socket {}", path.display()),
            Endpoint::Tls(t) => write!(f, "{} (TLS)", t.addr),
        }
    }
}

/// Why talking to the engine failed. Every case means "no usable engine here", which
/// `tickpipe ctl` reports with exit status 2; error *replies* are not errors of this type.
#[derive(Debug)]
pub enum SessionError {
    /// Nothing answers at the endpoint (missing socket, refused, unreachable).
    NoEngine(String),
    /// The TLS handshake or the certificate check failed, or the CA file is unusable.
    Tls(String),
    /// The engine answered `auth` with an error.
    TokenRefused(String),
    /// The engine did not answer within the timeout.
    Timeout(String),
    /// The engine closed the connection before replying.
    Closed(String),
    /// The engine sent a line that is not a protocol JSON object.
    Garbled(String),
    /// Reading or writing failed after the connection was up.
    Io(String),
}

impl fmt::Display for SessionError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            SessionError::NoEngine(m)
            | SessionError::Tls(m)
            | SessionError::TokenRefused(m)
            | SessionError::Timeout(m)
            | SessionError::Closed(m)
            | SessionError::Garbled(m)
            | SessionError::Io(m) => f.write_str(m),
        }
    }
}

impl std::error::Error for SessionError {}

/// A byte stream to the engine whose reads can be bounded in time.
pub(crate) trait Stream: Read + Write + Send {
    /// Bounds each following read (`None`: block until data or close).
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()>;
}

impl Stream for UnixStream {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        UnixStream::set_read_timeout(self, timeout)
    }
}

impl Stream for rustls::StreamOwned<rustls::ClientConnection, TcpStream> {
    fn set_read_timeout(&self, timeout: Option<Duration>) -> io::Result<()> {
        self.sock.set_read_timeout(timeout)
    }
}

/// One open connection to the engine, authenticated when over TLS.
pub struct Connection {
    stream: Box<dyn Stream>,
    /// Bytes read past the last complete line, kept across timed-out reads.
    pending: Vec<u8>,
    endpoint: Endpoint,
}

impl fmt::Debug for Connection {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connection")
            .field("endpoint", &self.endpoint)
            .field("pending", &self.pending.len())
            .finish_non_exhaustive()
    }
}

/// What one read of a line gave.
#[derive(Debug, PartialEq, Eq)]
pub enum LineRead {
    /// A whole line, without its `\n` (or `\r\n`).
    Line(String),
    /// The time ran out first; a partial line stays buffered for the next read.
    TimedOut,
    /// The engine closed the connection.
    Closed,
}

impl Connection {
    /// Connects to `endpoint`, and over TLS completes the handshake and `auth`, each
    /// step bounded by `timeout`.
    ///
    /// # Errors
    /// [`SessionError::NoEngine`] when nothing answers, [`SessionError::Tls`] when the
    /// handshake or certificate check fails, [`SessionError::TokenRefused`] when the
    /// engine rejects the token, [`SessionError::Timeout`] when a step takes too long.
    pub fn open(endpoint: &Endpoint, timeout: Duration) -> Result<Connection, SessionError> {
        match endpoint {
            Endpoint::Unix(path) => {
                let stream = UnixStream::connect(path).map_err(|e| unix_error(path, &e))?;
                stream
                    .set_write_timeout(Some(timeout))
                    .map_err(|e| io_error(endpoint, &e))?;
                Ok(Connection::over(Box::new(stream), endpoint.clone()))
            }
            Endpoint::Tls(target) => {
                let tcp = tcp_connect(target, timeout)?;
                let stream = tls::handshake(target, tcp, timeout)?;
                let mut conn = Connection::over(Box::new(stream), endpoint.clone());
                conn.authenticate(&target.token, timeout)?;
                Ok(conn)
            }
        }
    }

    /// A connection over an already open stream (tests, and [`Connection::open`]).
    pub(crate) fn over(stream: Box<dyn Stream>, endpoint: Endpoint) -> Connection {
        Connection {
            stream,
            pending: Vec::new(),
            endpoint,
        }
    }

    /// The endpoint this connection talks to, for messages.
    pub fn endpoint(&self) -> &Endpoint {
        &self.endpoint
    }

    /// Sends `auth <token>` and accepts only `{"ok":true,"reply":"auth"}`.
    fn authenticate(&mut self, token: &str, timeout: Duration) -> Result<(), SessionError> {
        let reply = self
            .request(&format!("auth {token}"), Some(timeout), |_| {})?
            .value;
        if reply.get("ok") == Some(&Value::Bool(true))
            && reply.get("reply").and_then(Value::as_str) == Some("auth")
        {
            return Ok(());
        }
        let code = reply.get("error").and_then(Value::as_str).unwrap_or("?");
        let message = reply
            .get("message")
            .and_then(Value::as_str)
            .unwrap_or("no reason given");
        Err(SessionError::TokenRefused(format!(
            "the engine at {} refused the token ({code}: {message})",
            self.endpoint
        )))
    }

    /// Sends one command line. The line must not contain a newline.
    ///
    /// # Errors
    /// [`SessionError::Io`] when the write fails (the engine went away).
    pub fn send(&mut self, line: &str) -> Result<(), SessionError> {
        debug_assert!(!line.contains('\n'), "a command is one line");
        let mut bytes = Vec::with_capacity(line.len() + 1);
        bytes.extend_from_slice(line.as_bytes());
        bytes.push(b'\n');
        self.stream
            .write_all(&bytes)
            .and_then(|()| self.stream.flush())
            .map_err(|e| io_error(&self.endpoint, &e))
    }

    /// Reads the next line, waiting at most `timeout` (`None`: as long as it takes).
    ///
    /// # Errors
    /// [`SessionError::Io`] on a read error, [`SessionError::Garbled`] on a line that
    /// is not UTF-8 or is longer than any reply.
    pub fn read_line(&mut self, timeout: Option<Duration>) -> Result<LineRead, SessionError> {
        let deadline = timeout.map(|t| Instant::now() + t);
        let mut chunk = [0u8; 8192];
        loop {
            if let Some(end) = self.pending.iter().position(|&b| b == b'\n') {
                let mut line: Vec<u8> = self.pending.drain(..=end).collect();
                line.pop();
                if line.last() == Some(&b'\r') {
                    line.pop();
                }
                return String::from_utf8(line).map(LineRead::Line).map_err(|_| {
                    SessionError::Garbled(format!(
                        "the engine at {} sent a line that is not UTF-8",
                        self.endpoint
                    ))
                });
            }
            if self.pending.len() > MAX_LINE {
                return Err(SessionError::Garbled(format!(
                    "the engine at {} sent a line longer than {} MiB",
                    self.endpoint,
                    MAX_LINE >> 20
                )));
            }
            let wait = match deadline {
                None => None,
                Some(deadline) => match deadline.checked_duration_since(Instant::now()) {
                    Some(left) if !left.is_zero() => Some(left),
                    _ => return Ok(LineRead::TimedOut),
                },
            };
            self.stream
                .set_read_timeout(wait)
                .map_err(|e| io_error(&self.endpoint, &e))?;
            match self.stream.read(&mut chunk) {
                Ok(0) => return Ok(LineRead::Closed),
                Ok(n) => self.pending.extend_from_slice(&chunk[..n]),
                Err(e) if is_timeout(&e) => {
                    if deadline.is_some_and(|d| Instant::now() >= d) {
                        return Ok(LineRead::TimedOut);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // A TLS peer that closes without close_notify: the connection is over.
                Err(e) if e.kind() == io::ErrorKind::UnexpectedEof => return Ok(LineRead::Closed),
                Err(e) if e.kind() == io::ErrorKind::ConnectionReset => {
                    return Ok(LineRead::Closed)
                }
                Err(e) => return Err(io_error(&self.endpoint, &e)),
            }
        }
    }

    /// Reads the next protocol message (a reply or an event).
    ///
    /// # Errors
    /// As [`Connection::read_line`], plus [`SessionError::Garbled`] when the line is
    /// not a JSON reply or event.
    pub fn read_message(&mut self, timeout: Option<Duration>) -> Result<Message, SessionError> {
        match self.read_line(timeout)? {
            LineRead::Line(line) => Received::parse(line, &self.endpoint).map(Message::Received),
            LineRead::TimedOut => Ok(Message::TimedOut),
            LineRead::Closed => Ok(Message::Closed),
        }
    }

    /// Sends `line` and returns its reply, handing every stream event read before the
    /// reply to `on_event`. `timeout` bounds the wait for the reply (events do not
    /// extend it).
    ///
    /// # Errors
    /// [`SessionError::Timeout`] when no reply comes in time, [`SessionError::Closed`]
    /// when the engine closes first, and the errors of [`Connection::read_line`].
    pub fn request(
        &mut self,
        line: &str,
        timeout: Option<Duration>,
        mut on_event: impl FnMut(&Received),
    ) -> Result<Received, SessionError> {
        self.send(line)?;
        let deadline = timeout.map(|t| Instant::now() + t);
        loop {
            let left = deadline.map(|d| d.saturating_duration_since(Instant::now()));
            match self.read_message(left)? {
                Message::Received(reply) if reply.is_reply() => return Ok(reply),
                Message::Received(event) => on_event(&event),
                Message::TimedOut => {
                    return Err(SessionError::Timeout(format!(
                        "the engine at {} did not answer `{}` within {}",
                        self.endpoint,
                        first_word(line),
                        humantime::format_duration(timeout.unwrap_or_default())
                    )))
                }
                Message::Closed => {
                    return Err(SessionError::Closed(format!(
                        "the engine at {} closed the connection before answering `{}`",
                        self.endpoint,
                        first_word(line)
                    )))
                }
            }
        }
    }
}

/// One protocol message read from the engine.
#[derive(Debug, PartialEq)]
pub enum Message {
    /// A reply or a stream event.
    Received(Received),
    /// Nothing arrived in time.
    TimedOut,
    /// The engine closed the connection.
    Closed,
}

/// A reply or stream event as received: the parsed JSON, and the exact line for
/// `--json`, which prints what the engine sent rather than a re-serialisation.
#[derive(Debug, Clone, PartialEq)]
pub struct Received {
    /// The parsed object.
    pub value: Value,
    /// The line as it came, without its newline.
    pub line: String,
}

impl Received {
    /// Parses one line into a JSON object that is a reply or an event.
    ///
    /// # Errors
    /// [`SessionError::Garbled`] naming the endpoint when it is neither.
    pub fn parse(line: String, endpoint: &Endpoint) -> Result<Received, SessionError> {
        let garbled = |line: &str| {
            let shown: String = line.chars().take(80).collect();
            SessionError::Garbled(format!(
                "the engine at {endpoint} sent a line that is not a protocol message: {shown}"
            ))
        };
        let value: Value = match serde_json::from_str(&line) {
            Ok(value) => value,
            Err(_) => return Err(garbled(&line)),
        };
        if value.get("ok").is_some() || value.get("event").is_some() {
            Ok(Received { value, line })
        } else {
            Err(garbled(&line))
        }
    }

    /// True for a reply (it has `"ok"`); false for a stream event (it has `"event"`).
    pub fn is_reply(&self) -> bool {
        self.value.get("ok").is_some()
    }
}

fn first_word(line: &str) -> &str {
    line.split_whitespace().next().unwrap_or(line)
}

fn is_timeout(e: &io::Error) -> bool {
    matches!(
        e.kind(),
        io::ErrorKind::WouldBlock | io::ErrorKind::TimedOut
    )
}

fn io_error(endpoint: &Endpoint, e: &io::Error) -> SessionError {
    SessionError::Io(format!("talking to the engine at {endpoint} failed: {e}"))
}

/// Turns a failed connect into a sentence that says what to check.
fn unix_error(path: &std::path::Path, e: &io::Error) -> SessionError {
    let path = path.display();
    let why = match e.kind() {
        io::ErrorKind::NotFound => "the socket does not exist".to_owned(),
        io::ErrorKind::ConnectionRefused => {
            "nothing listens on the socket (left over from an engine that stopped)".to_owned()
        }
        io::ErrorKind::PermissionDenied => {
            return SessionError::NoEngine(format!(
                "cannot open the engine socket {path}: permission denied \
                 (the socket is mode 0600: run as the user who started the engine)"
            ))
        }
        _ => e.to_string(),
    };
    SessionError::NoEngine(format!(
        "no engine answers at {path}: {why}; is `tickpipe run` running \
         (use --socket or TICKPIPE_SOCKET for another run directory)?"
    ))
}

/// Resolves `HOST:PORT` and connects to the first address that answers within `timeout`.
fn tcp_connect(target: &TlsTarget, timeout: Duration) -> Result<TcpStream, SessionError> {
    let no_engine = |why: String| {
        SessionError::NoEngine(format!(
            "no engine answers at {}: {why}; is `tickpipe run` running with its TLS \
             listener on?",
            target.addr
        ))
    };
    let addrs: Vec<_> = target
        .addr
        .to_socket_addrs()
        .map_err(|e| no_engine(format!("cannot resolve the address ({e})")))?
        .collect();
    let mut last = None;
    for addr in addrs {
        match TcpStream::connect_timeout(&addr, timeout) {
            Ok(tcp) => {
                let _ = tcp.set_nodelay(true);
                tcp.set_write_timeout(Some(timeout))
                    .map_err(|e| no_engine(e.to_string()))?;
                return Ok(tcp);
            }
            Err(e) => last = Some(e),
        }
    }
    Err(no_engine(match last {
        Some(e) if is_timeout(&e) => {
            format!("no answer within {}", humantime::format_duration(timeout))
        }
        Some(e) => e.to_string(),
        None => "the address resolves to nothing".to_owned(),
    }))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn pair() -> (Connection, UnixStream) {
        let (a, b) = UnixStream::pair().unwrap();
        let conn = Connection::over(Box::new(a), Endpoint::Unix(PathBuf::from("test.sock")));
        (conn, b)
    }

    #[test]
    fn lines_split_on_newline_and_crlf_and_keep_partial_lines() {
        let (mut conn, mut peer) = pair();
        peer.write_all(b"{\"ok\":true}\r\n{\"event\":\"end\"}\n{\"ok\"")
            .unwrap();
        let wait = Some(Duration::from_secs(5));
        assert_eq!(
            conn.read_line(wait).unwrap(),
            LineRead::Line("{\"ok\":true}".into())
        );
        assert_eq!(
            conn.read_line(wait).unwrap(),
            LineRead::Line("{\"event\":\"end\"}".into())
        );
        peer.write_all(b":false}\n").unwrap();
        assert_eq!(
            conn.read_line(wait).unwrap(),
            LineRead::Line("{\"ok\":false}".into())
        );
        drop(peer);
        assert_eq!(conn.read_line(wait).unwrap(), LineRead::Closed);
    }

    #[test]
    fn a_partial_line_survives_a_timeout() {
        let (mut conn, mut peer) = pair();
        peer.write_all(b"{\"ok\":").unwrap();
        assert_eq!(
            conn.read_line(Some(Duration::from_millis(1))).unwrap(),
            LineRead::TimedOut
        );
        peer.write_all(b"true}\n").unwrap();
        assert_eq!(
            conn.read_line(None).unwrap(),
            LineRead::Line("{\"ok\":true}".into())
        );
    }

    #[test]
    fn request_hands_events_over_and_returns_the_reply() {
        let (mut conn, mut peer) = pair();
        peer.write_all(
            b"{\"event\":\"fill\",\"symbol\":\"SBIN\"}\n{\"ok\":true,\"reply\":\"status\"}\n",
        )
        .unwrap();
        let mut events = Vec::new();
        let reply = conn
            .request("status", Some(Duration::from_secs(5)), |e| {
                events.push(e.clone())
            })
            .unwrap();
        assert_eq!(reply.value["reply"], "status");
        assert_eq!(reply.line, "{\"ok\":true,\"reply\":\"status\"}");
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].value["symbol"], "SBIN");
        let mut sent = [0u8; 7];
        peer.read_exact(&mut sent).unwrap();
        assert_eq!(&sent, b"status\n");
    }

    #[test]
    fn a_line_that_is_not_a_message_is_garbled() {
        let endpoint = Endpoint::Unix(PathBuf::from("x.sock"));
        let parse = |s: &str| Received::parse(s.to_owned(), &endpoint);
        assert!(parse("{\"ok\":true}").unwrap().is_reply());
        assert!(!parse("{\"event\":\"pnl\"}").unwrap().is_reply());
        let err = parse("hello").unwrap_err().to_string();
        assert!(err.contains("x.sock") && err.contains("hello"), "{err}");
        assert!(parse("{\"x\":1}").is_err());
    }

    #[test]
    fn a_missing_socket_says_to_start_the_engine() {
        let path = std::env::temp_dir().join(format!("tickpipe-no-{}.sock", std::process::id()));
        let err =
            Connection::open(&Endpoint::Unix(path.clone()), Duration::from_secs(1)).unwrap_err();
        assert!(matches!(err, SessionError::NoEngine(_)));
        let text = err.to_string();
        assert!(text.contains(&path.display().to_string()), "{text}");
        assert!(text.contains("tickpipe run"), "{text}");
    }

    #[test]
    fn the_token_never_shows_in_debug_output() {
        let target = TlsTarget {
            addr: "h:1".into(),
            ca: PathBuf::from("ca.pem"),
            server_name: "localhost".into(),
            token: "s3cret".into(),
        };
        assert!(!format!("{target:?}").contains("s3cret"));
    }
}
