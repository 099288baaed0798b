//! TLS for the control server's TCP listener: certificate loading, a non-blocking
//! server-side TLS stream over a `mio` socket, and the token check.
//!
//! The Unix socket needs no TLS (its file mode is the authentication), but the TCP
//! listener can be reached from other hosts, so every TCP connection runs TLS (rustls
//! with the ring provider, TLS 1.2 and 1.3) and must then send `auth <token>` first.
//!
//! - [`server_config`] loads the PEM certificate chain and key once, at start, and says
//!   which file is wrong and why ([`TlsSetupError`]).
//! - [`TlsStream`] is one accepted connection. It never blocks: the control thread's
//!   poll loop calls [`TlsStream::read_plain`] and [`TlsStream::flush`] on readiness
//!   events and re-registers with [`TlsStream::interest`]. Outgoing TLS records are kept
//!   in one buffer whose size [`TlsStream::pending_bytes`] reports, so the server can
//!   drop a client that stops reading.
//! - [`token_matches`] compares tokens in constant time.
//!
//! # Examples
//!
//! How a poll loop serves one connection when `mio` reports an event for it. `mio` is
//! edge-triggered, so a read that stopped at `limit` must be repeated without waiting
//! for a new event once the caller has taken the complete lines out of `inbox`.
//!
//! ```no_run
//! use std::io;
//!
//! use mio::{Registry, Token};
//! use tickpipe::control::tls::{ReadOutcome, TlsStream};
//!
//! /// Handles one readiness event; `Ok(false)` means the connection is finished.
//! fn on_event(
//!     registry: &Registry,
//!     token: Token,
//!     stream: &mut TlsStream,
//!     inbox: &mut Vec<u8>,
//! ) -> io::Result<bool> {
//!     const LIMIT: usize = 4096;
//!     loop {
//!         let outcome = stream.read_plain(inbox, LIMIT)?;
//!         let full = inbox.len() >= LIMIT;
//!         while let Some(end) = inbox.iter().position(|&b| b == b'\n') {
//!             let line: Vec<u8> = inbox.drain(..=end).collect();
//!             stream.write_plain(&line)?; // a real server parses and replies here
//!         }
//!         if outcome == ReadOutcome::Closed {
//!             return Ok(false);
//!         }
//!         if !full {
//!             break;
//!         }
//!         if inbox.len() >= LIMIT {
//!             return Ok(false); // a line longer than LIMIT: a protocol error
//!         }
//!     }
//!     stream.flush()?;
//!     let interest = stream.interest();
//!     registry.reregister(stream.socket_mut(), token, interest)?;
//!     Ok(true)
//! }
//! ```

use std::{
    fmt,
    io::{self, BufRead, Write},
    path::{Path, PathBuf},
    sync::Arc,
};

use mio::{net::TcpStream, Interest};
use rustls::{
    crypto::ring,
    pki_types::{
        pem::{self, PemObject},
        CertificateDer, PrivateKeyDer,
    },
    server::ServerConnection,
    sign::{CertifiedKey, SingleCertAndKey},
    InconsistentKeys, ServerConfig,
};
use subtle::ConstantTimeEq;
use thiserror::Error;

/// The configuration key that names the certificate file, quoted in errors.
const CERT_SETTING: &str = "control.tls_cert";
/// The configuration key that names the private key file, quoted in errors.
const KEY_SETTING: &str = "control.tls_key";

/// Capacity the outgoing buffer keeps once it is empty again: enough for a burst of
/// replies without reallocating, while one large reply (a `metrics` dump, a backlog to
/// a slow subscriber) does not pin its memory for the life of the connection.
const RETAINED_OUT_CAPACITY: usize = 64 * 1024;

/// Why the TLS certificate or key could not be loaded.
///
/// Each message is one sentence that starts with the configuration key and the file
/// (``control.tls_cert `certs/x.pem`: no PEM certificate found``), so the operator knows
/// which file to fix. All of them are fatal for the TCP listener: the server should
/// refuse to start it rather than serve without TLS.
#[derive(Debug, Error)]
pub enum TlsSetupError {
    /// The file could not be read (missing, no permission, a directory, ...).
    #[error("{setting} `{}`: cannot read the file: {source}", path.display())]
    Read {
        /// The configuration key that named the file.
        setting: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        source: io::Error,
    },
    /// The file has a PEM section that does not decode (no end line, bad base64, ...).
    #[error("{setting} `{}`: not valid PEM: {source}", path.display())]
    BadPem {
        /// The configuration key that named the file.
        setting: &'static str,
        /// The file.
        path: PathBuf,
        /// What the PEM decoder found.
        source: pem::Error,
    },
    /// The certificate file holds no `CERTIFICATE` section (perhaps the key and
    /// certificate paths are swapped).
    #[error("{CERT_SETTING} `{}`: no PEM certificate found", path.display())]
    NoCertificate {
        /// The file.
        path: PathBuf,
    },
    /// The key file holds no private key section (PKCS#8, PKCS#1 or SEC1).
    #[error("{KEY_SETTING} `{}`: no PEM private key found", path.display())]
    NoPrivateKey {
        /// The file.
        path: PathBuf,
    },
    /// The key decodes but the crypto provider cannot sign with it (an unsupported
    /// algorithm or a corrupt key).
    #[error("{KEY_SETTING} `{}`: private key not usable: {source}", path.display())]
    KeyUnusable {
        /// The file.
        path: PathBuf,
        /// Why rustls rejected it.
        source: rustls::Error,
    },
    /// The first certificate of the chain cannot be parsed.
    #[error("{CERT_SETTING} `{}`: certificate not usable: {source}", path.display())]
    CertUnusable {
        /// The file.
        path: PathBuf,
        /// Why rustls rejected it.
        source: rustls::Error,
    },
    /// The private key is not the one the certificate was issued for: clients would
    /// fail every handshake, so this is caught at load time.
    #[error(
        "{KEY_SETTING} `{}`: private key does not match the certificate in `{}`",
        key.display(),
        cert.display()
    )]
    KeyMismatch {
        /// The certificate file.
        cert: PathBuf,
        /// The key file.
        key: PathBuf,
    },
    /// The crypto provider offers no cipher suite for the default protocol versions; it
    /// cannot happen with the ring provider this module uses, and is kept for honesty.
    #[error("TLS provider has no cipher suite for TLS 1.2 or 1.3: {source}")]
    Provider {
        /// Why rustls refused.
        source: rustls::Error,
    },
}

/// Loads a PEM certificate chain and private key into a server configuration.
///
/// The chain is every `CERTIFICATE` section of `cert`, end-entity first; the key is the
/// first private key section of `key`. The key is checked against the certificate here,
/// once, so a wrong pair fails at start and not in every client's handshake. The ring
/// provider is passed explicitly, so no process-wide default provider is needed. No
/// client certificates are requested: clients authenticate with the `auth` token.
///
/// # Errors
///
/// A [`TlsSetupError`] naming the file and the reason: a file that cannot be read, bad
/// PEM, no certificate, no private key, an unusable key or certificate, or a key that
/// does not match the certificate.
pub fn server_config(cert: &Path, key: &Path) -> Result<Arc<ServerConfig>, TlsSetupError> {
    let cert_pem = read_file(CERT_SETTING, cert)?;
    let chain = CertificateDer::pem_slice_iter(&cert_pem)
        .collect::<Result<Vec<_>, _>>()
        .map_err(|source| TlsSetupError::BadPem {
            setting: CERT_SETTING,
            path: cert.to_path_buf(),
            source,
        })?;
    if chain.is_empty() {
        return Err(TlsSetupError::NoCertificate {
            path: cert.to_path_buf(),
        });
    }

    let key_pem = read_file(KEY_SETTING, key)?;
    let key_der = PrivateKeyDer::from_pem_slice(&key_pem).map_err(|e| match e {
        pem::Error::NoItemsFound => TlsSetupError::NoPrivateKey {
            path: key.to_path_buf(),
        },
        source => TlsSetupError::BadPem {
            setting: KEY_SETTING,
            path: key.to_path_buf(),
            source,
        },
    })?;

    let provider = Arc::new(ring::default_provider());
    let signing_key = provider
        .key_provider
        .load_private_key(key_der)
        .map_err(|source| TlsSetupError::KeyUnusable {
            path: key.to_path_buf(),
            source,
        })?;
    let certified = CertifiedKey::new(chain, signing_key);
    match certified.keys_match() {
        // `Unknown`: the provider cannot derive the public key, so nothing to compare.
        Ok(()) | Err(rustls::Error::InconsistentKeys(InconsistentKeys::Unknown)) => {}
        Err(rustls::Error::InconsistentKeys(InconsistentKeys::KeyMismatch)) => {
            return Err(TlsSetupError::KeyMismatch {
                cert: cert.to_path_buf(),
                key: key.to_path_buf(),
            })
        }
        Err(source) => {
            return Err(TlsSetupError::CertUnusable {
                path: cert.to_path_buf(),
                source,
            })
        }
    }

    let config = ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|source| TlsSetupError::Provider { source })?
        .with_no_client_auth()
        .with_cert_resolver(Arc::new(SingleCertAndKey::from(certified)));
    Ok(Arc::new(config))
}

/// The bytes of `path`, or the error naming `setting` and the file.
fn read_file(setting: &'static str, path: &Path) -> Result<Vec<u8>, TlsSetupError> {
    std::fs::read(path).map_err(|source| TlsSetupError::Read {
        setting,
        path: path.to_path_buf(),
        source,
    })
}

/// What [`TlsStream::read_plain`] found about the peer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadOutcome {
    /// The connection is still open: wait for the next readiness event (or, if the
    /// output reached its limit, drain it and call again at once).
    Open,
    /// The peer closed: it sent `close_notify`, or the TCP stream ended (also in the
    /// middle of the handshake). Bytes appended by this call are the last ones; the
    /// caller handles them and then drops the connection.
    Closed,
}

/// A server-side TLS connection over a non-blocking `mio` TCP socket.
///
/// It owns the socket and the rustls state. Plaintext goes in with
/// [`write_plain`](TlsStream::write_plain), is encrypted at once into one outgoing
/// buffer, and leaves with [`flush`](TlsStream::flush); received records are decrypted
/// by [`read_plain`](TlsStream::read_plain). No call blocks: every socket operation
/// stops at `WouldBlock`, and [`interest`](TlsStream::interest) says which readiness
/// to wait for next.
///
/// Plaintext written while the handshake is still running is held back and encrypted
/// when it completes (a server normally answers only after reading a line, by which
/// time the handshake is done).
pub struct TlsStream {
    sock: TcpStream,
    conn: ServerConnection,
    /// Encrypted TLS records not yet written to the socket; `out[sent..]` is pending.
    out: Vec<u8>,
    /// How much of `out` the socket has taken.
    sent: usize,
    /// Plaintext written before the handshake completed. Invariant: empty once the
    /// handshake is done (it is released when `process_new_packets` finishes it).
    held: Vec<u8>,
    /// `close` was called: no more plaintext is accepted.
    closing: bool,
}

impl fmt::Debug for TlsStream {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TlsStream")
            .field("peer", &self.sock.peer_addr().ok())
            .field("handshaking", &self.conn.is_handshaking())
            .field("pending_bytes", &self.pending_bytes())
            .field("closing", &self.closing)
            .finish_non_exhaustive()
    }
}

impl TlsStream {
    /// Starts a server-side TLS session on an accepted socket.
    ///
    /// Nothing is read or written yet: the handshake runs inside later
    /// [`read_plain`](TlsStream::read_plain) calls. rustls' own buffer limit is lifted
    /// because every record is moved at once into this stream's buffer, which the server
    /// bounds through [`pending_bytes`](TlsStream::pending_bytes). `TCP_NODELAY` is set:
    /// replies are small and an operator waits for them, and a [`flush`](TlsStream::flush)
    /// already hands all pending records to the kernel in as few writes as it can, so
    /// Nagle's algorithm would only add delay.
    ///
    /// # Errors
    ///
    /// rustls refuses to start a session with `config`, or `TCP_NODELAY` cannot be set
    /// (the socket is already broken).
    pub fn new(sock: TcpStream, config: Arc<ServerConfig>) -> io::Result<TlsStream> {
        let mut conn = ServerConnection::new(config)
            .map_err(|e| io::Error::other(format!("cannot start a TLS session: {e}")))?;
        conn.set_buffer_limit(None);
        sock.set_nodelay(true)?;
        Ok(TlsStream {
            sock,
            conn,
            out: Vec::new(),
            sent: 0,
            held: Vec::new(),
            closing: false,
        })
    }

    /// The socket, to register or re-register with a `mio` [`Registry`](mio::Registry).
    ///
    /// Read or write it only through this stream: bytes taken from it directly would be
    /// lost to the TLS state machine.
    pub fn socket_mut(&mut self) -> &mut TcpStream {
        &mut self.sock
    }

    /// The readiness the connection needs now: always `READABLE`, plus `WRITABLE` while
    /// TLS records wait to go out.
    ///
    /// Re-register with this after each round of reads and writes, so a connection with
    /// nothing to send does not wake the loop on every writable edge.
    pub fn interest(&self) -> Interest {
        if self.sent < self.out.len() {
            Interest::READABLE | Interest::WRITABLE
        } else {
            Interest::READABLE
        }
    }

    /// Reads whatever the socket has, runs the TLS state machine on it, and appends the
    /// decrypted bytes to `out`, never letting `out` grow past `limit` bytes in total.
    ///
    /// It reads until the socket says `WouldBlock` or `out` reaches `limit`. In the second
    /// case more may already be decrypted or waiting in the socket, and since `mio` is
    /// edge-triggered no new event will say so: drain `out` and call again straight away.
    /// If `out` already holds `limit` bytes, nothing is read. Handshake messages this
    /// produces are written to the socket before returning (as far as it takes them), so
    /// the handshake advances without waiting for a writable event.
    ///
    /// A TCP end without `close_notify` is reported as [`ReadOutcome::Closed`] like a
    /// clean close: for a line protocol the caller discards an unfinished line either way.
    ///
    /// # Errors
    ///
    /// A TLS protocol error (the peer does not speak TLS, a bad record, a failed
    /// handshake) is an [`io::ErrorKind::InvalidData`] error whose message starts with
    /// "TLS protocol error"; rustls' alert for it is sent if the socket takes it at once.
    /// Socket errors (such as a reset) are passed through. Either way the connection is
    /// finished: drop it.
    pub fn read_plain(&mut self, out: &mut Vec<u8>, limit: usize) -> io::Result<ReadOutcome> {
        let outcome = loop {
            match self.take_plaintext(out, limit) {
                Taken::Full => break ReadOutcome::Open,
                Taken::Ended => break ReadOutcome::Closed,
                Taken::Room => {}
            }
            match self.conn.read_tls(&mut self.sock) {
                // `Ok(0)` is the end of the TCP stream: rustls records it, and the next
                // `take_plaintext` reports `Ended` once the decrypted bytes are taken.
                Ok(_) => {}
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break ReadOutcome::Open,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
                Err(e) => return Err(e),
            }
            self.process_records()?;
        };
        match self.write_out() {
            Ok(()) => Ok(outcome),
            // The peer is gone; a reply it can no longer receive is no error.
            Err(_) if outcome == ReadOutcome::Closed => Ok(outcome),
            Err(e) => Err(e),
        }
    }

    /// Queues plaintext for the peer: encrypted now, written by the next
    /// [`flush`](TlsStream::flush).
    ///
    /// Before the handshake completes the plaintext is held back and counted in
    /// [`pending_bytes`](TlsStream::pending_bytes); it is encrypted when the handshake
    /// finishes. Nothing here touches the socket.
    ///
    /// # Errors
    ///
    /// [`io::ErrorKind::BrokenPipe`] after [`close`](TlsStream::close), or the TLS error
    /// the connection already failed with.
    pub fn write_plain(&mut self, data: &[u8]) -> io::Result<()> {
        if self.closing {
            return Err(io::Error::new(
                io::ErrorKind::BrokenPipe,
                "TLS connection is closing: no more data can be sent",
            ));
        }
        if self.conn.is_handshaking() {
            self.held.extend_from_slice(data);
            return Ok(());
        }
        self.conn.writer().write_all(data)?;
        self.collect_records();
        Ok(())
    }

    /// Writes pending TLS records to the socket until none are left or the socket says
    /// `WouldBlock`.
    ///
    /// Returns `Ok(true)` when nothing is pending any more (after [`close`] this means
    /// the `close_notify` went out, and the socket can be dropped); `Ok(false)` means
    /// wait for a writable event (see [`interest`]) and call again. Plaintext held back
    /// for an unfinished handshake also counts as pending.
    ///
    /// # Errors
    ///
    /// The socket's error (for example the peer reset the connection); the connection
    /// is finished.
    ///
    /// [`close`]: TlsStream::close
    /// [`interest`]: TlsStream::interest
    pub fn flush(&mut self) -> io::Result<bool> {
        self.collect_records();
        self.write_out()?;
        Ok(self.pending_bytes() == 0)
    }

    /// Bytes waiting to go out: TLS records not yet taken by the socket, plus plaintext
    /// held back while the handshake runs.
    ///
    /// This is an exact byte count (records are moved out of rustls as soon as they are
    /// made), so the server can drop a client whose backlog passes a bound, instead of
    /// buffering without limit for a subscriber that stopped reading.
    pub fn pending_bytes(&self) -> usize {
        debug_assert!(
            !self.conn.wants_write(),
            "TLS records left inside rustls: collect_records was not called"
        );
        debug_assert!(self.sent <= self.out.len());
        self.out.len() - self.sent + self.held.len()
    }

    /// Starts an orderly close: queues a `close_notify` alert after everything already
    /// written.
    ///
    /// Call [`flush`](TlsStream::flush) until it returns `Ok(true)`, then drop the
    /// stream. Plaintext held back for a handshake that never finished is discarded (it
    /// could not be sent before the alert anyway), and later
    /// [`write_plain`](TlsStream::write_plain) calls fail.
    pub fn close(&mut self) {
        self.closing = true;
        self.held.clear();
        self.conn.send_close_notify();
        self.collect_records();
    }

    /// Moves plaintext rustls has decrypted into `out`, up to `limit` bytes in `out`.
    fn take_plaintext(&mut self, out: &mut Vec<u8>, limit: usize) -> Taken {
        let mut reader = self.conn.reader();
        loop {
            let room = limit.saturating_sub(out.len());
            if room == 0 {
                return Taken::Full;
            }
            match reader.fill_buf() {
                // Empty without error: `close_notify` received and everything taken.
                Ok([]) => return Taken::Ended,
                Ok(chunk) => {
                    let n = chunk.len().min(room);
                    out.extend_from_slice(&chunk[..n]);
                    reader.consume(n);
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return Taken::Room,
                // `UnexpectedEof`: the TCP stream ended without `close_notify`.
                Err(_) => return Taken::Ended,
            }
        }
    }

    /// Runs rustls on the records read so far, then collects what it wants to send.
    fn process_records(&mut self) -> io::Result<()> {
        if let Err(e) = self.conn.process_new_packets() {
            // rustls queued an alert telling the peer why; send it if the socket takes
            // it now, but report the protocol error, not a write error.
            self.collect_records();
            let _ = self.write_out();
            return Err(io::Error::new(
                io::ErrorKind::InvalidData,
                format!("TLS protocol error: {e}"),
            ));
        }
        if !self.held.is_empty() && !self.conn.is_handshaking() {
            self.conn.writer().write_all(&self.held)?;
            self.held.clear();
        }
        self.collect_records();
        Ok(())
    }

    /// Moves every TLS record rustls has made into `out`, keeping rustls' own buffer
    /// empty so that [`pending_bytes`](TlsStream::pending_bytes) is exact.
    fn collect_records(&mut self) {
        while self.conn.wants_write() {
            // Writing into a `Vec` cannot fail; stop rather than spin if it ever did.
            if self.conn.write_tls(&mut self.out).is_err() {
                break;
            }
        }
    }

    /// Writes `out[sent..]` to the socket until it is empty or the socket would block.
    fn write_out(&mut self) -> io::Result<()> {
        while self.sent < self.out.len() {
            match self.sock.write(&self.out[self.sent..]) {
                Ok(0) => return Err(io::ErrorKind::WriteZero.into()),
                Ok(n) => self.sent += n,
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        if self.sent == self.out.len() {
            self.out.clear();
            self.out.shrink_to(RETAINED_OUT_CAPACITY);
            self.sent = 0;
        } else if self.sent >= self.out.len() / 2 {
            // Moving the unsent tail only once at least as much has been sent keeps the
            // copying linear in the bytes written, however small the socket's writes.
            self.out.drain(..self.sent);
            self.sent = 0;
        }
        Ok(())
    }
}

/// What [`TlsStream::take_plaintext`] left behind.
enum Taken {
    /// `out` reached its limit; more may be waiting.
    Full,
    /// Everything decrypted was taken and the connection is open: read the socket.
    Room,
    /// The peer closed and everything it sent was taken.
    Ended,
}

/// Whether the token a client sent equals the configured one, compared in constant time.
///
/// The comparison time does not depend on where the tokens first differ, so a network
/// client cannot find the token byte by byte by timing `auth` replies; it does reveal
/// whether the lengths differ, which a long random token makes worthless. An empty
/// configured token never matches, so a missing setting cannot open the port.
///
/// # Examples
///
/// ```
/// use tickpipe::control::tls::token_matches;
///
/// assert!(token_matches("s3cret", "s3cret"));
/// assert!(!token_matches("s3cret", "s3creT"));
/// assert!(!token_matches("s3cret", "s3cret "));
/// assert!(!token_matches("", ""));
/// ```
pub fn token_matches(expected: &str, given: &str) -> bool {
    !expected.is_empty() && bool::from(expected.as_bytes().ct_eq(given.as_bytes()))
}

#[cfg(test)]
mod tests;
