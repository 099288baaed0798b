//! One client of the control socket: its byte buffers, subscriptions, rate budget.

use std::{
    io::{self, Read, Write},
    time::{Duration, Instant},
};

use mio::{net::UnixStream, Interest};

use crate::control::{command::MAX_LINE, tls::TlsStream};

/// The socket under a connection.
#[derive(Debug)]
pub enum Transport {
    /// The Unix socket (authenticated by its file mode).
    Unix(UnixStream),
    /// TCP with TLS (authenticated by `auth <token>`).
    Tls(Box<TlsStream>),
}

/// What reading found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadState {
    /// The client may send more, and the socket had nothing more now.
    Open,
    /// The read stopped at the buffer bound with more possibly waiting: take the lines
    /// out and read again at once (readiness is edge-triggered; no new event will come).
    Full,
    /// The client closed its end (or the connection failed).
    Closed,
}

/// A token bucket: `rate` commands per second, bursts of `rate`.
#[derive(Debug, Clone)]
pub struct RateLimit {
    rate: f64,
    tokens: f64,
    last: Instant,
}

impl RateLimit {
    /// A full bucket of `per_sec` tokens.
    pub fn new(per_sec: u32, now: Instant) -> RateLimit {
        RateLimit {
            rate: f64::from(per_sec),
            tokens: f64::from(per_sec),
            last: now,
        }
    }

    /// Takes one token; false when the bucket is empty.
    pub fn take(&mut self, now: Instant) -> bool {
        let elapsed = now.saturating_duration_since(self.last).as_secs_f64();
        self.last = now;
        self.tokens = (self.tokens + elapsed * self.rate).min(self.rate);
        if self.tokens >= 1.0 {
            self.tokens -= 1.0;
            true
        } else {
            false
        }
    }
}

/// A subscription to P&L snapshots.
#[derive(Debug, Clone, Copy)]
pub struct PnlSubscription {
    /// Between snapshots.
    pub interval: Duration,
    /// When the next one is due.
    pub next: Instant,
}

/// One client.
#[derive(Debug)]
pub struct Connection {
    /// The socket.
    pub transport: Transport,
    /// Bytes read and not yet a whole line.
    input: Vec<u8>,
    /// Bytes waiting to be written (reply and event lines).
    output: Vec<u8>,
    /// True while the rest of an over-long line is being skipped.
    skipping: bool,
    /// May send commands (a Unix client always; a TLS client after `auth`).
    pub authed: bool,
    /// Failed `auth` attempts.
    pub auth_failures: u32,
    /// Commands per second.
    pub rate: RateLimit,
    /// `subscribe pnl`.
    pub pnl: Option<PnlSubscription>,
    /// `subscribe fills`.
    pub fills: bool,
    /// `subscribe alerts`.
    pub alerts: bool,
    /// Jobs queued for this connection and not yet answered.
    pub queued: usize,
    /// Close once the output is written (after `quit`, or when cut off).
    pub closing: bool,
    /// When the client connected (a TCP client must authenticate soon after).
    pub since: Instant,
}

/// A line read from a client, or what was wrong with it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// A line of text, without its line ending.
    Text(String),
    /// A line longer than [`MAX_LINE`] (its bytes are skipped up to the next newline).
    TooLong,
    /// A line that is not UTF-8.
    NotUtf8,
}

impl Connection {
    /// A new client on `transport`.
    pub fn new(transport: Transport, authed: bool, commands_per_sec: u32, now: Instant) -> Self {
        Connection {
            transport,
            input: Vec::with_capacity(256),
            output: Vec::new(),
            skipping: false,
            authed,
            auth_failures: 0,
            rate: RateLimit::new(commands_per_sec, now),
            pnl: None,
            fills: false,
            alerts: false,
            queued: 0,
            closing: false,
            since: now,
        }
    }

    /// Reads what the socket has, up to a bound (the rest waits for the next call).
    pub fn read(&mut self) -> io::Result<ReadState> {
        let limit = MAX_LINE * 8;
        let state = self.read_some(limit)?;
        if state == ReadState::Open && self.input.len() >= limit {
            return Ok(ReadState::Full);
        }
        Ok(state)
    }

    fn read_some(&mut self, limit: usize) -> io::Result<ReadState> {
        match &mut self.transport {
            Transport::Unix(stream) => {
                let mut buf = [0u8; 4096];
                while self.input.len() < limit {
                    match stream.read(&mut buf) {
                        Ok(0) => return Ok(ReadState::Closed),
                        Ok(n) => self.input.extend_from_slice(&buf[..n]),
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(ReadState::Open)
            }
            Transport::Tls(tls) => match tls.read_plain(&mut self.input, limit)? {
                crate::control::tls::ReadOutcome::Open => Ok(ReadState::Open),
                crate::control::tls::ReadOutcome::Closed => Ok(ReadState::Closed),
            },
        }
    }

    /// The next whole line read, if any.
    pub fn next_line(&mut self) -> Option<Line> {
        loop {
            let Some(end) = self.input.iter().position(|&b| b == b'\n') else {
                if self.input.len() > MAX_LINE + 1 {
                    // No newline within the bound: the line is too long. Skip to its end.
                    self.input.clear();
                    if !self.skipping {
                        self.skipping = true;
                        return Some(Line::TooLong);
                    }
                }
                return None;
            };
            let mut line: Vec<u8> = self.input.drain(..=end).collect();
            line.pop();
            if line.last() == Some(&b'\r') {
                line.pop();
            }
            if std::mem::take(&mut self.skipping) {
                continue;
            }
            if line.len() > MAX_LINE {
                return Some(Line::TooLong);
            }
            return Some(match String::from_utf8(line) {
                Ok(text) => Line::Text(text),
                Err(_) => Line::NotUtf8,
            });
        }
    }

    /// Queues one line of output.
    pub fn send_line(&mut self, line: &str) {
        self.output.extend_from_slice(line.as_bytes());
        self.output.push(b'\n');
    }

    /// Bytes waiting to go out.
    pub fn pending(&self) -> usize {
        match &self.transport {
            Transport::Unix(_) => self.output.len(),
            Transport::Tls(tls) => self.output.len() + tls.pending_bytes(),
        }
    }

    /// Writes what the socket takes now. Ok(true) when nothing is left.
    pub fn flush(&mut self) -> io::Result<bool> {
        match &mut self.transport {
            Transport::Unix(stream) => {
                while !self.output.is_empty() {
                    match stream.write(&self.output) {
                        Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                        Ok(n) => {
                            self.output.drain(..n);
                        }
                        Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Ok(false),
                        Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                        Err(e) => return Err(e),
                    }
                }
                Ok(true)
            }
            Transport::Tls(tls) => {
                if !self.output.is_empty() {
                    tls.write_plain(&self.output)?;
                    self.output.clear();
                }
                tls.flush()
            }
        }
    }

    /// The readiness to wait for.
    pub fn interest(&self) -> Interest {
        match &self.transport {
            Transport::Unix(_) if self.output.is_empty() => Interest::READABLE,
            Transport::Unix(_) => Interest::READABLE | Interest::WRITABLE,
            Transport::Tls(tls) if self.output.is_empty() => tls.interest(),
            Transport::Tls(_) => Interest::READABLE | Interest::WRITABLE,
        }
    }

    /// True for a TCP+TLS client.
    pub fn is_tcp(&self) -> bool {
        matches!(self.transport, Transport::Tls(_))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn conn_with(input: &[u8]) -> Connection {
        let (a, _b) = std::os::unix::net::UnixStream::pair().unwrap();
        let mut c = Connection::new(
            Transport::Unix(UnixStream::from_std(a)),
            true,
            5,
            Instant::now(),
        );
        c.input.extend_from_slice(input);
        c
    }

    #[test]
    fn lines_are_split_and_bad_ones_named() {
        let mut c = conn_with(b"status\r\npositions\n\xff\xfe\npartial");
        assert_eq!(c.next_line(), Some(Line::Text("status".into())));
        assert_eq!(c.next_line(), Some(Line::Text("positions".into())));
        assert_eq!(c.next_line(), Some(Line::NotUtf8));
        assert_eq!(c.next_line(), None);
    }

    #[test]
    fn an_over_long_line_is_reported_once_and_skipped() {
        let mut long = vec![b'a'; MAX_LINE * 3];
        let mut c = conn_with(&long);
        assert_eq!(c.next_line(), Some(Line::TooLong));
        long.truncate(10);
        c.input.extend_from_slice(&long);
        c.input.extend_from_slice(b"\nstatus\n");
        assert_eq!(c.next_line(), Some(Line::Text("status".into())));
    }

    #[test]
    fn the_rate_limit_allows_a_burst_then_refills() {
        let t0 = Instant::now();
        let mut r = RateLimit::new(5, t0);
        assert!((0..5).all(|_| r.take(t0)));
        assert!(!r.take(t0));
        assert!(r.take(t0 + Duration::from_millis(250)));
    }
}
