//! The control socket's TCP listener: TLS with a test certificate made at test time,
//! and a token checked before any command.

mod common;

use std::{
    io::{BufRead, BufReader, Write},
    net::TcpStream,
    sync::Arc,
    time::Duration,
};

use rustls::{pki_types::ServerName, ClientConfig, ClientConnection, RootCertStore, StreamOwned};
use serde_json::Value;

use common::control::{busy_config, run_dir, Engine};

const TOKEN: &str = "s3cret-token-for-the-desk";

type Tls = StreamOwned<ClientConnection, TcpStream>;

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

fn connect(port: u16, cert_der: &[u8]) -> BufReader<Tls> {
    let mut roots = RootCertStore::empty();
    roots
        .add(rustls::pki_types::CertificateDer::from(cert_der.to_vec()))
        .unwrap();
    let config =
        ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_root_certificates(roots)
            .with_no_client_auth();
    let conn = ClientConnection::new(Arc::new(config), ServerName::try_from("localhost").unwrap())
        .unwrap();
    let sock = TcpStream::connect(("127.0.0.1", port)).unwrap();
    sock.set_read_timeout(Some(Duration::from_secs(20)))
        .unwrap();
    BufReader::new(StreamOwned::new(conn, sock))
}

fn cmd(tls: &mut BufReader<Tls>, line: &str) -> Value {
    tls.get_mut()
        .write_all(format!("{line}\n").as_bytes())
        .unwrap();
    tls.get_mut().flush().unwrap();
    let mut reply = String::new();
    tls.read_line(&mut reply).unwrap();
    serde_json::from_str(&reply).unwrap_or_else(|e| panic!("{e}: {reply:?}"))
}

#[test]
fn tcp_is_served_over_tls_and_only_with_the_token() {
    let dir = run_dir("tls-material");
    std::fs::create_dir_all(&dir).unwrap();
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_string()]).unwrap();
    let (cert_path, key_path, token_path) =
        (dir.join("cert.pem"), dir.join("key.pem"), dir.join("token"));
    std::fs::write(&cert_path, cert.cert.pem()).unwrap();
    std::fs::write(&key_path, cert.key_pair.serialize_pem()).unwrap();
    std::fs::write(&token_path, format!("{TOKEN}\n")).unwrap();

    let port = free_port();
    let mut config = busy_config("tls", 50);
    config.control.tcp = format!("127.0.0.1:{port}");
    config.control.tls_cert = Some(cert_path);
    config.control.tls_key = Some(key_path);
    config.control.token_file = Some(token_path);
    let engine = Engine::start(config);

    let mut c = connect(port, cert.cert.der());
    let refused = cmd(&mut c, "status");
    assert_eq!(refused["error"], "unauthorized", "{refused}");
    let refused = cmd(&mut c, "halt");
    assert_eq!(refused["error"], "unauthorized");
    assert_eq!(cmd(&mut c, "auth wrong-token")["error"], "unauthorized");
    assert_eq!(cmd(&mut c, &format!("auth {TOKEN}"))["ok"], true);
    let status = cmd(&mut c, "status");
    assert_eq!(status["ok"], true, "{status}");
    assert_eq!(
        status["trading_state"], "active",
        "the refused halt did nothing"
    );
    assert_eq!(cmd(&mut c, "halt")["trading_state"], "halted");

    // Three wrong tokens and the connection is closed.
    let mut d = connect(port, cert.cert.der());
    for _ in 0..3 {
        assert_eq!(cmd(&mut d, "auth nope")["error"], "unauthorized");
    }
    let mut rest = String::new();
    assert_eq!(d.read_line(&mut rest).unwrap_or(0), 0, "closed: {rest:?}");

    // The Unix socket is unaffected and needs no token.
    let mut local = engine.client();
    assert_eq!(local.ok("status")["trading_state"], "halted");
    engine.finish();
}

#[test]
fn without_tls_material_the_tcp_listener_refuses_to_start() {
    let mut config = busy_config("no-tls", 50);
    config.control.tcp = "127.0.0.1:7700".into();
    let mut issues = Vec::new();
    config.control.validate("control", &mut issues);
    let text: Vec<String> = issues.iter().map(ToString::to_string).collect();
    assert!(text.iter().any(|t| t.contains("only over TLS")), "{text:?}");
}
