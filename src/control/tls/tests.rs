//! Certificate loading and TLS streams over loopback.
//!
//! Invariants:
//! - each kind of bad certificate or key file gives its own one-sentence error naming
//!   the setting and the file;
//! - a blocking rustls client and a [`TlsStream`] in a `mio` loop exchange lines both
//!   ways, with `read_plain` never filling its output past the limit, and a client's
//!   close is seen as [`ReadOutcome::Closed`];
//! - a backlog a client does not read is counted by `pending_bytes`, asks for
//!   `WRITABLE`, and arrives intact and in order once the client reads;
//! - a client that does not speak TLS, or leaves before the handshake, ends in an error
//!   or `Closed`, never a panic.
//!
//! Every server loop is bounded by a count of polls; no test asserts how long anything
//! took. Client sockets have a read timeout only so that a bug fails the test instead of
//! hanging it.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::SocketAddr,
    path::PathBuf,
    sync::{
        atomic::{AtomicU64, Ordering},
        mpsc, Arc,
    },
    thread,
    time::Duration,
};

use mio::{net::TcpListener, Events, Poll, Token};
use rustls::{
    crypto::ring,
    pki_types::{CertificateDer, ServerName},
    ClientConfig, ClientConnection, RootCertStore, StreamOwned,
};

use super::{server_config, token_matches, ReadOutcome, TlsSetupError, TlsStream};

const LISTENER: Token = Token(0);
const CONN: Token = Token(1);
/// Upper bound on poll rounds in one test; each round waits at most `POLL_WAIT`.
const MAX_POLLS: usize = 2_000;
const POLL_WAIT: Duration = Duration::from_millis(50);
/// Guards a client against a server bug that would otherwise hang the test.
const CLIENT_TIMEOUT: Duration = Duration::from_secs(60);

/// A fresh folder under the system temp directory, removed on drop.
struct TempDir(PathBuf);

impl TempDir {
    fn new(tag: &str) -> TempDir {
        static NEXT: AtomicU64 = AtomicU64::new(0);
        let n = NEXT.fetch_add(1, Ordering::Relaxed);
        let dir =
            std::env::temp_dir().join(format!("tickpipe-tls-{}-{tag}-{n}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        TempDir(dir)
    }

    /// Writes `contents` to `name` in this folder.
    fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }
}

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// A self-signed certificate for `localhost`: (certificate PEM, key PEM, certificate DER).
fn self_signed() -> (String, String, CertificateDer<'static>) {
    let generated = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    (
        generated.cert.pem(),
        generated.key_pair.serialize_pem(),
        generated.cert.der().clone(),
    )
}

/// A server config from a fresh certificate, and the certificate for clients to trust.
fn fresh_server(dir: &TempDir) -> (Arc<rustls::ServerConfig>, CertificateDer<'static>) {
    let (cert_pem, key_pem, cert_der) = self_signed();
    let cert = dir.file("cert.pem", &cert_pem);
    let key = dir.file("key.pem", &key_pem);
    (server_config(&cert, &key).unwrap(), cert_der)
}

/// A blocking TLS client to `addr` that trusts only `cert`, for server name `localhost`.
fn connect_client(
    addr: SocketAddr,
    cert: CertificateDer<'static>,
) -> StreamOwned<ClientConnection, std::net::TcpStream> {
    let mut roots = RootCertStore::empty();
    roots.add(cert).unwrap();
    let config = ClientConfig::builder_with_provider(Arc::new(ring::default_provider()))
        .with_safe_default_protocol_versions()
        .unwrap()
        .with_root_certificates(roots)
        .with_no_client_auth();
    let name = ServerName::try_from("localhost").unwrap();
    let conn = ClientConnection::new(Arc::new(config), name).unwrap();
    let sock = std::net::TcpStream::connect(addr).unwrap();
    sock.set_read_timeout(Some(CLIENT_TIMEOUT)).unwrap();
    StreamOwned::new(conn, sock)
}

/// A `mio` loop with a loopback listener, serving at most one connection.
struct Server {
    poll: Poll,
    events: Events,
    listener: TcpListener,
}

impl Server {
    fn new() -> Server {
        let poll = Poll::new().unwrap();
        let mut listener = TcpListener::bind("127.0.0.1:0".parse().unwrap()).unwrap();
        poll.registry()
            .register(&mut listener, LISTENER, mio::Interest::READABLE)
            .unwrap();
        Server {
            poll,
            events: Events::with_capacity(16),
            listener,
        }
    }

    fn addr(&self) -> SocketAddr {
        self.listener.local_addr().unwrap()
    }

    /// Waits for one client and wraps it, registered under `CONN`.
    fn accept(&mut self, config: Arc<rustls::ServerConfig>) -> TlsStream {
        for _ in 0..MAX_POLLS {
            self.poll.poll(&mut self.events, Some(POLL_WAIT)).unwrap();
            if self.events.iter().any(|e| e.token() == LISTENER) {
                match self.listener.accept() {
                    Ok((sock, _)) => {
                        let mut stream = TlsStream::new(sock, config).unwrap();
                        let interest = stream.interest();
                        self.poll
                            .registry()
                            .register(stream.socket_mut(), CONN, interest)
                            .unwrap();
                        return stream;
                    }
                    Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => {}
                    Err(e) => panic!("accept failed: {e}"),
                }
            }
        }
        panic!("no client connected within {MAX_POLLS} polls");
    }

    /// One poll round; whether it brought an event for the connection.
    fn wait(&mut self) -> bool {
        self.poll.poll(&mut self.events, Some(POLL_WAIT)).unwrap();
        self.events.iter().any(|e| e.token() == CONN)
    }

    /// Re-registers the connection for what it needs now.
    fn rearm(&self, stream: &mut TlsStream) {
        let interest = stream.interest();
        self.poll
            .registry()
            .reregister(stream.socket_mut(), CONN, interest)
            .unwrap();
    }
}

/// Reads until `WouldBlock` (repeating at once while `inbox` comes back full, as a
/// server must), hands each complete line to `on_line`, and returns the last outcome
/// and how many reads stopped at the limit.
fn read_lines(
    stream: &mut TlsStream,
    inbox: &mut Vec<u8>,
    limit: usize,
    mut on_line: impl FnMut(&mut TlsStream, Vec<u8>),
) -> (ReadOutcome, usize) {
    let mut stops = 0;
    loop {
        let outcome = stream.read_plain(inbox, limit).unwrap();
        assert!(inbox.len() <= limit, "read_plain filled past its limit");
        let full = inbox.len() >= limit;
        stops += usize::from(full);
        while let Some(end) = inbox.iter().position(|&b| b == b'\n') {
            let line = inbox.drain(..=end).collect();
            on_line(stream, line);
        }
        if outcome == ReadOutcome::Closed || !full {
            return (outcome, stops);
        }
        assert!(inbox.len() < limit, "a test line is longer than the limit");
    }
}

// ---- configuration ----------------------------------------------------------------

#[test]
fn loads_a_generated_certificate_and_key() {
    let dir = TempDir::new("load");
    let (cert_pem, key_pem, _) = self_signed();
    // A chain file with two certificates also loads (end-entity first).
    let (other_pem, _, _) = self_signed();
    let cert = dir.file("chain.pem", &format!("{cert_pem}{other_pem}"));
    let key = dir.file("key.pem", &key_pem);
    server_config(&cert, &key).unwrap();
}

#[test]
fn a_missing_file_is_named_with_its_setting() {
    let dir = TempDir::new("missing");
    let (cert_pem, key_pem, _) = self_signed();
    let cert = dir.file("cert.pem", &cert_pem);
    let key = dir.file("key.pem", &key_pem);
    let absent = dir.0.join("absent.pem");

    let err = server_config(&absent, &key).unwrap_err();
    assert!(matches!(err, TlsSetupError::Read { .. }), "{err:?}");
    let prefix = format!(
        "control.tls_cert `{}`: cannot read the file: ",
        absent.display()
    );
    assert!(err.to_string().starts_with(&prefix), "{err}");

    let err = server_config(&cert, &absent).unwrap_err();
    let prefix = format!(
        "control.tls_key `{}`: cannot read the file: ",
        absent.display()
    );
    assert!(err.to_string().starts_with(&prefix), "{err}");
}

#[test]
fn a_file_without_a_certificate_is_rejected() {
    let dir = TempDir::new("nocert");
    let (_, key_pem, _) = self_signed();
    let key = dir.file("key.pem", &key_pem);
    let text = dir.file("notes.txt", "not a certificate\n");

    for cert in [&text, &key] {
        let err = server_config(cert, &key).unwrap_err();
        assert_eq!(
            err.to_string(),
            format!(
                "control.tls_cert `{}`: no PEM certificate found",
                cert.display()
            )
        );
    }
}

#[test]
fn a_file_without_a_key_is_rejected() {
    let dir = TempDir::new("nokey");
    let (cert_pem, _, _) = self_signed();
    let cert = dir.file("cert.pem", &cert_pem);

    // The classic slip: the certificate path given for both settings.
    let err = server_config(&cert, &cert).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "control.tls_key `{}`: no PEM private key found",
            cert.display()
        )
    );
}

#[test]
fn malformed_pem_is_rejected() {
    let dir = TempDir::new("badpem");
    let (_, key_pem, _) = self_signed();
    let key = dir.file("key.pem", &key_pem);
    let cert = dir.file("cut.pem", "-----BEGIN CERTIFICATE-----\nMIIB\n");

    let err = server_config(&cert, &key).unwrap_err();
    let prefix = format!("control.tls_cert `{}`: not valid PEM: ", cert.display());
    assert!(err.to_string().starts_with(&prefix), "{err}");
}

#[test]
fn a_key_from_another_pair_is_rejected() {
    let dir = TempDir::new("mismatch");
    let (cert_pem, _, _) = self_signed();
    let (_, other_key_pem, _) = self_signed();
    let cert = dir.file("cert.pem", &cert_pem);
    let key = dir.file("other-key.pem", &other_key_pem);

    let err = server_config(&cert, &key).unwrap_err();
    assert_eq!(
        err.to_string(),
        format!(
            "control.tls_key `{}`: private key does not match the certificate in `{}`",
            key.display(),
            cert.display()
        )
    );
}

// ---- streams ----------------------------------------------------------------------

#[test]
fn echoes_lines_both_ways_and_sees_the_close() {
    // Smaller than the two lines together (19 bytes), which travel in one record, so a
    // read must stop at the limit and the repeat-at-once path runs.
    const LIMIT: usize = 16;
    let dir = TempDir::new("echo");
    let (config, cert) = fresh_server(&dir);
    let mut server = Server::new();
    let addr = server.addr();

    let client = thread::spawn(move || {
        let mut tls = connect_client(addr, cert);
        // One write: both lines in one TLS record.
        tls.write_all(b"auth s3cret\nstatus\n").unwrap();
        tls.flush().unwrap();
        let mut reader = BufReader::new(tls);
        let mut replies = Vec::new();
        for _ in 0..2 {
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            replies.push(line);
        }
        let mut tls = reader.into_inner();
        tls.conn.send_close_notify();
        tls.flush().unwrap();
        replies
    });

    let mut stream = server.accept(config);
    let mut inbox = Vec::new();
    let mut received = Vec::new();
    let mut closed = false;
    let mut stops = 0;
    for _ in 0..MAX_POLLS {
        if !server.wait() {
            continue;
        }
        let (outcome, stopped) = read_lines(&mut stream, &mut inbox, LIMIT, |s, line| {
            s.write_plain(b"echo ").unwrap();
            s.write_plain(&line).unwrap();
            received.push(line);
        });
        stops += stopped;
        if outcome == ReadOutcome::Closed {
            closed = true;
            break;
        }
        stream.flush().unwrap();
        server.rearm(&mut stream);
    }

    let replies = client.join().unwrap();
    assert!(closed, "the client's close_notify was not seen");
    assert_eq!(received, [&b"auth s3cret\n"[..], &b"status\n"[..]]);
    assert_eq!(replies, ["echo auth s3cret\n", "echo status\n"]);
    assert!(inbox.is_empty());
    assert!(stops > 0, "no read stopped at the limit");
}

#[test]
fn a_backlog_is_counted_and_arrives_intact() {
    // Larger than loopback's largest send buffer (4 MiB by default) plus an unread
    // receive window, so the first flush cannot finish.
    const BULK: usize = 16 << 20;
    const CHUNK: usize = 16 * 1024;
    let pattern = |i: usize| (i % 251) as u8;
    let dir = TempDir::new("bulk");
    let (config, cert) = fresh_server(&dir);
    let mut server = Server::new();
    let addr = server.addr();
    let (backlog_built, start_reading) = mpsc::channel::<()>();

    let client = thread::spawn(move || {
        let mut tls = connect_client(addr, cert);
        tls.write_all(b"go\n").unwrap();
        tls.flush().unwrap();
        start_reading.recv().unwrap();
        let mut got = 0usize;
        let mut buf = vec![0u8; 64 * 1024];
        loop {
            // `Ok(0)` only after the server's close_notify.
            let n = tls.read(&mut buf).unwrap();
            if n == 0 {
                break;
            }
            for (k, &b) in buf[..n].iter().enumerate() {
                assert_eq!(b, pattern(got + k), "byte {} is wrong", got + k);
            }
            got += n;
        }
        got
    });

    let mut stream = server.accept(config);
    let mut inbox = Vec::new();
    let mut go = false;
    for _ in 0..MAX_POLLS {
        if server.wait() {
            read_lines(&mut stream, &mut inbox, 1024, |_, line| {
                assert_eq!(line, b"go\n");
                go = true;
            });
        }
        if go {
            break;
        }
        server.rearm(&mut stream);
    }
    assert!(go, "the client's request did not arrive");

    let data: Vec<u8> = (0..BULK).map(pattern).collect();
    for chunk in data.chunks(CHUNK) {
        stream.write_plain(chunk).unwrap();
    }
    stream.close();
    assert!(
        stream.pending_bytes() > BULK,
        "records carry framing and tags"
    );
    assert!(
        !stream.flush().unwrap(),
        "the unread backlog fit in the socket"
    );
    assert!(stream.pending_bytes() > 0);
    assert!(stream.interest().is_writable());
    assert!(
        stream.write_plain(b"late\n").is_err(),
        "writes after close fail"
    );
    server.rearm(&mut stream);
    backlog_built.send(()).unwrap();

    let mut done = false;
    for _ in 0..MAX_POLLS {
        if server.wait() && stream.flush().unwrap() {
            done = true;
            break;
        }
        server.rearm(&mut stream);
    }
    assert!(done, "the backlog did not drain within {MAX_POLLS} polls");
    assert_eq!(stream.pending_bytes(), 0);
    assert!(!stream.interest().is_writable());
    drop(stream);
    assert_eq!(client.join().unwrap(), BULK);
}

#[test]
fn a_plain_text_client_gets_an_error_not_a_panic() {
    let dir = TempDir::new("plain");
    let (config, _) = fresh_server(&dir);
    let mut server = Server::new();
    let addr = server.addr();

    let client = thread::spawn(move || {
        let mut sock = std::net::TcpStream::connect(addr).unwrap();
        sock.set_read_timeout(Some(CLIENT_TIMEOUT)).unwrap();
        sock.write_all(b"auth s3cret\nstatus\n").unwrap();
        // Whatever comes back (an alert, then the end or a reset) is fine.
        let _ = sock.read_to_end(&mut Vec::new());
    });

    let mut stream = server.accept(config);
    let mut inbox = Vec::new();
    let mut error = None;
    for _ in 0..MAX_POLLS {
        if !server.wait() {
            continue;
        }
        match stream.read_plain(&mut inbox, 1024) {
            Ok(ReadOutcome::Open) => server.rearm(&mut stream),
            Ok(ReadOutcome::Closed) => panic!("a non-TLS client was taken for a close"),
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    drop(stream);
    client.join().unwrap();

    let error = error.expect("no error within the poll budget");
    assert_eq!(error.kind(), std::io::ErrorKind::InvalidData);
    assert!(
        error.to_string().starts_with("TLS protocol error: "),
        "{error}"
    );
    assert!(inbox.is_empty(), "plaintext leaked through: {inbox:?}");
}

#[test]
fn a_client_that_leaves_during_the_handshake_is_closed() {
    let dir = TempDir::new("leave");
    let (config, _) = fresh_server(&dir);
    let mut server = Server::new();
    let addr = server.addr();

    let client = thread::spawn(move || drop(std::net::TcpStream::connect(addr).unwrap()));
    let mut stream = server.accept(config);
    client.join().unwrap();

    let mut outcome = ReadOutcome::Open;
    for _ in 0..MAX_POLLS {
        if server.wait() {
            outcome = stream.read_plain(&mut Vec::new(), 1024).unwrap();
            if outcome == ReadOutcome::Closed {
                break;
            }
        }
        server.rearm(&mut stream);
    }
    assert_eq!(outcome, ReadOutcome::Closed);
}

// ---- token ------------------------------------------------------------------------

#[test]
fn tokens_match_only_when_equal() {
    assert!(token_matches("s3cret", "s3cret"));
    assert!(!token_matches("s3cret", "s3creT"));
    assert!(!token_matches("s3cret", "x3cret"));
    // Different lengths, either way round.
    assert!(!token_matches("s3cret", "s3cre"));
    assert!(!token_matches("s3cret", "s3crets"));
    assert!(!token_matches("s3cret", ""));
    // An empty configured token opens nothing.
    assert!(!token_matches("", ""));
    assert!(!token_matches("", "s3cret"));
    // Multi-byte UTF-8 compares by bytes.
    assert!(token_matches("clé-ü", "clé-ü"));
    assert!(!token_matches("clé-ü", "cle-ü"));
}
