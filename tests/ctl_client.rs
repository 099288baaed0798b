//! `tickpipe ctl` against fake engines: a Unix socket server and a rustls server that
//! answer canned lines from `src/control/PROTOCOL.md`. The real binary runs each time,
//! so arguments, output and exit status are checked as a user meets them.

use std::{
    io::{BufRead, BufReader, Read, Write},
    net::TcpListener,
    os::unix::net::UnixListener,
    path::{Path, PathBuf},
    process::{Command, Output, Stdio},
    sync::{Arc, Mutex},
    thread,
};

use rustls::{
    pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer},
    ServerConfig, ServerConnection, StreamOwned,
};

const STATUS: &str = r#"{"ok":true,"reply":"status","mode":"paper","source":"synthetic","market_time":"2026-11-25T10:31:02.250+05:30","session":"running","trading_state":"active","realized":"1200.00","unrealized":"-310.50","total":"889.50","open_positions":3,"ticks":412345,"signals":88,"orders":24,"fills":24,"rejects":0,"working_orders":0,"tick_to_intent":{"p50_ns":14000,"p99_ns":81200,"count":24},"tick_to_risk":{"p50_ns":175,"p99_ns":703,"count":412345}}"#;
const POSITIONS: &str = r#"{"ok":true,"reply":"positions","positions":[{"symbol":"SBIN","strategy":"sma_cross","net":150,"avg_price":"812.35","mark":"815.00","stop":"804.25","unrealized":"397.50","realized":"0.00"}]}"#;
const UNKNOWN_STRATEGY: &str =
    r#"{"ok":false,"error":"unknown_strategy","message":"no strategy named `nope`"}"#;
const SUBSCRIBED: &str = r#"{"ok":true,"reply":"subscribe","stream":"fills"}"#;
const FILL: &str = r#"{"event":"fill","market_time":"2026-11-25T10:31:05.000+05:30","symbol":"SBIN","strategy":"sma_cross","side":"sell","qty":150,"price":"815.00","reason":"manual","order":57}"#;
const END: &str = r#"{"event":"end","reason":"session over"}"#;
const AUTH_OK: &str = r#"{"ok":true,"reply":"auth"}"#;
const UNAUTHORIZED: &str = r#"{"ok":false,"error":"unauthorized","message":"bad token"}"#;

/// The canned engine: the lines it answers to each command line.
fn answer(command: &str) -> Vec<&'static str> {
    match command {
        "status" => vec![STATUS],
        "positions" => vec![POSITIONS],
        "pause nope" => vec![UNKNOWN_STRATEGY],
        "subscribe fills" => vec![SUBSCRIBED, FILL, END],
        // What the server does with a line it cannot parse.
        _ => vec![r#"{"ok":false,"error":"unknown_command","message":"unknown command"}"#],
    }
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tp-ctl-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Serves one connection: records each line, answers it, and closes after `end` or
/// a refused token.
fn serve<S: Read + Write>(mut conn: BufReader<S>, seen: &Mutex<Vec<String>>) {
    let mut line = String::new();
    while conn.read_line(&mut line).unwrap_or(0) > 0 {
        let command = line.trim_end().to_owned();
        seen.lock().unwrap().push(command.clone());
        let replies = if let Some(token) = command.strip_prefix("auth ") {
            vec![if token == "secret" {
                AUTH_OK
            } else {
                UNAUTHORIZED
            }]
        } else {
            answer(&command)
        };
        for reply in &replies {
            let stream = conn.get_mut();
            let _ = stream.write_all(format!("{reply}\n").as_bytes());
            let _ = stream.flush();
        }
        if replies.last() == Some(&END) || replies.last() == Some(&UNAUTHORIZED) {
            return;
        }
        line.clear();
    }
}

/// A fake engine on a Unix socket in a fresh directory; returns the socket path and
/// the lines it received.
fn unix_engine(name: &str) -> (PathBuf, Arc<Mutex<Vec<String>>>) {
    let path = temp_dir(name).join("tickpipe.sock");
    let listener = UnixListener::bind(&path).unwrap();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen_by_server = Arc::clone(&seen);
    thread::spawn(move || {
        for stream in listener.incoming() {
            let stream = stream.unwrap();
            let seen = Arc::clone(&seen_by_server);
            thread::spawn(move || serve(BufReader::new(stream), &seen));
        }
    });
    (path, seen)
}

fn ctl(args: &[&str]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_tickpipe"));
    command.arg("ctl").args(args).env_remove("TICKPIPE_SOCKET");
    command
}

fn run(command: &mut Command) -> (i32, String, String) {
    let Output {
        status,
        stdout,
        stderr,
    } = command.output().unwrap();
    (
        status.code().unwrap_or(-1),
        String::from_utf8(stdout).unwrap(),
        String::from_utf8(stderr).unwrap(),
    )
}

fn socket_arg(path: &Path) -> String {
    path.to_str().unwrap().to_owned()
}

#[test]
fn one_command_prints_a_human_summary() {
    let (path, seen) = unix_engine("status");
    let (code, out, err) = run(&mut ctl(&["--socket", &socket_arg(&path), "status"]));
    assert_eq!(code, 0, "{err}");
    assert!(
        out.contains("engine    paper (source synthetic), session running"),
        "{out}"
    );
    assert!(out.contains("+₹889.50 total"), "{out}");
    assert!(out.contains("tick→intent p50 14.0 µs"), "{out}");
    assert_eq!(*seen.lock().unwrap(), ["status"]);
}

#[test]
fn positions_print_as_a_table_and_the_socket_can_come_from_the_environment() {
    let (path, _) = unix_engine("positions");
    let (code, out, err) = run(ctl(&["positions"]).env("TICKPIPE_SOCKET", &path));
    assert_eq!(code, 0, "{err}");
    assert!(out.starts_with("SYMBOL  STRATEGY"), "{out}");
    assert!(out.contains("SBIN    sma_cross  +150     812.35"), "{out}");
}

#[test]
fn json_prints_the_line_as_sent() {
    let (path, _) = unix_engine("json");
    let (code, out, _) = run(&mut ctl(&[
        "--json",
        "--socket",
        &socket_arg(&path),
        "status",
    ]));
    assert_eq!(code, 0);
    assert_eq!(out, format!("{STATUS}\n"));
}

#[test]
fn an_error_reply_exits_1_with_code_and_message() {
    let (path, _) = unix_engine("error");
    let (code, out, err) = run(&mut ctl(&["--socket", &socket_arg(&path), "pause", "nope"]));
    assert_eq!(code, 1);
    assert_eq!(out, "");
    assert_eq!(
        err,
        "tickpipe ctl: unknown_strategy: no strategy named `nope`\n"
    );
}

#[test]
fn no_engine_exits_2_and_names_the_socket() {
    let path = temp_dir("none").join("tickpipe.sock");
    let (code, _, err) = run(&mut ctl(&["--socket", &socket_arg(&path), "status"]));
    assert_eq!(code, 2);
    assert!(err.contains(&socket_arg(&path)), "{err}");
    assert!(err.contains("tickpipe run"), "{err}");
}

#[test]
fn subscribe_prints_events_until_the_end_event() {
    let (path, _) = unix_engine("subscribe");
    let (code, out, err) = run(&mut ctl(&[
        "--socket",
        &socket_arg(&path),
        "subscribe",
        "fills",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(
        out,
        "subscribed to fills\n\
         10:31:05.000  fill   sell 150 SBIN @ 815.00 (sma_cross, manual, order 57)\n\
         stream ended: session over\n"
    );
}

#[test]
fn the_prompt_answers_each_line_and_goes_on_after_an_error() {
    let (path, seen) = unix_engine("prompt");
    let mut child = ctl(&["--socket", &socket_arg(&path)])
        .env_remove("HOME")
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(b"status\npause nope\n\npositions\nexit\nstatus\n")
        .unwrap();
    let output = child.wait_with_output().unwrap();
    let (out, err) = (
        String::from_utf8(output.stdout).unwrap(),
        String::from_utf8(output.stderr).unwrap(),
    );
    assert_eq!(output.status.code(), Some(0), "{err}");
    assert!(out.contains("session running"), "{out}");
    assert!(out.contains("SBIN    sma_cross"), "{out}");
    assert!(
        err.contains("tickpipe ctl: unknown_strategy: no strategy named `nope`"),
        "{err}"
    );
    // `exit` left before the last line was sent.
    assert_eq!(*seen.lock().unwrap(), ["status", "pause nope", "positions"]);
}

/// A fake engine behind TLS on 127.0.0.1 with a fresh self-signed certificate for
/// `localhost`; returns the address, the certificate file and the lines received.
fn tls_engine(name: &str) -> (String, PathBuf, Arc<Mutex<Vec<String>>>) {
    let certified = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let ca = temp_dir(name).join("ca.pem");
    std::fs::write(&ca, certified.cert.pem()).unwrap();
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(certified.key_pair.serialize_der()));
    let config =
        ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
            .with_safe_default_protocol_versions()
            .unwrap()
            .with_no_client_auth()
            .with_single_cert(vec![certified.cert.der().clone()], key)
            .unwrap();
    let config = Arc::new(config);
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let addr = listener.local_addr().unwrap().to_string();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let seen_by_server = Arc::clone(&seen);
    thread::spawn(move || {
        for tcp in listener.incoming() {
            let tcp = tcp.unwrap();
            let (config, seen) = (Arc::clone(&config), Arc::clone(&seen_by_server));
            thread::spawn(move || {
                let conn = ServerConnection::new(config).unwrap();
                serve(BufReader::new(StreamOwned::new(conn, tcp)), &seen);
            });
        }
    });
    (addr, ca, seen)
}

fn tls_args<'a>(addr: &'a str, ca: &'a Path, token: &'a str) -> Vec<&'a str> {
    vec![
        "--tls",
        addr,
        "--ca",
        ca.to_str().unwrap(),
        "--token",
        token,
    ]
}

#[test]
fn tls_sends_auth_first_then_the_command() {
    let (addr, ca, seen) = tls_engine("tls-ok");
    let mut args = tls_args(&addr, &ca, "secret");
    args.push("status");
    let (code, out, err) = run(&mut ctl(&args));
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("session running"), "{out}");
    assert_eq!(*seen.lock().unwrap(), ["auth secret", "status"]);
}

#[test]
fn a_token_file_works_like_a_token() {
    let (addr, ca, seen) = tls_engine("tls-file");
    let token = ca.with_file_name("token");
    std::fs::write(&token, "secret\n").unwrap();
    let (code, _, err) = run(&mut ctl(&[
        "--tls",
        &addr,
        "--ca",
        ca.to_str().unwrap(),
        "--token-file",
        token.to_str().unwrap(),
        "--json",
        "positions",
    ]));
    assert_eq!(code, 0, "{err}");
    assert_eq!(*seen.lock().unwrap(), ["auth secret", "positions"]);
}

#[test]
fn a_refused_token_exits_2() {
    let (addr, ca, seen) = tls_engine("tls-refused");
    let mut args = tls_args(&addr, &ca, "wrong");
    args.push("status");
    let (code, out, err) = run(&mut ctl(&args));
    assert_eq!(code, 2);
    assert_eq!(out, "");
    assert!(err.contains("refused the token"), "{err}");
    assert!(err.contains("unauthorized: bad token"), "{err}");
    assert_eq!(*seen.lock().unwrap(), ["auth wrong"]);
}

#[test]
fn a_certificate_the_ca_file_does_not_vouch_for_exits_2() {
    let (addr, _, seen) = tls_engine("tls-wrong-ca");
    let other = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
    let wrong_ca = temp_dir("tls-other-ca").join("other.pem");
    std::fs::write(&wrong_ca, other.cert.pem()).unwrap();
    let mut args = tls_args(&addr, &wrong_ca, "secret");
    args.push("status");
    let (code, _, err) = run(&mut ctl(&args));
    assert_eq!(code, 2);
    assert!(err.contains("TLS handshake"), "{err}");
    assert!(seen.lock().unwrap().is_empty());
}

#[test]
fn the_server_name_is_checked() {
    let (addr, ca, _) = tls_engine("tls-name");
    let mut args = tls_args(&addr, &ca, "secret");
    args.extend(["--server-name", "engine.example", "status"]);
    let (code, _, err) = run(&mut ctl(&args));
    assert_eq!(code, 2);
    assert!(err.contains("server name `engine.example`"), "{err}");
}
