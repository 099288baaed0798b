//! `tickpipe ctl COMMAND...`: sends one command, prints its reply, and after an ok
//! `subscribe` keeps printing the stream until it ends.

use std::time::Duration;

use super::{
    connect::{Connection, Endpoint, Message},
    output, Outcome,
};

/// Sends `words` joined by spaces as one command line and prints the reply.
pub fn run(endpoint: &Endpoint, timeout: Duration, words: &[String], json: bool) -> Outcome {
    let line = words.join(" ");
    if line.contains(['\n', '\r']) {
        eprintln!("tickpipe ctl: a command is one line; the words given contain a line break");
        return Outcome::NoEngine;
    }
    let mut conn = match Connection::open(endpoint, timeout) {
        Ok(conn) => conn,
        Err(e) => {
            eprintln!("tickpipe ctl: {e}");
            return Outcome::NoEngine;
        }
    };
    let reply = match conn.request(&line, Some(timeout), |event| {
        output::event(event, json);
    }) {
        Ok(reply) => reply,
        Err(e) => {
            eprintln!("tickpipe ctl: {e}");
            return Outcome::NoEngine;
        }
    };
    let outcome = output::reply(&reply, json);
    let kind = reply.value.get("reply").and_then(serde_json::Value::as_str);
    if outcome == Outcome::Ok && kind == Some("subscribe") {
        return stream(&mut conn, json);
    }
    outcome
}

/// Prints events until `end`, the engine closing the connection, or standard output
/// closing. Ctrl-C ends the process the ordinary way.
fn stream(conn: &mut Connection, json: bool) -> Outcome {
    loop {
        match conn.read_message(None) {
            Ok(Message::Received(message)) => {
                if message.is_reply() {
                    // Nothing else was sent, so no other reply is owed; print it anyway
                    // rather than hide what the engine said.
                    output::reply(&message, json);
                    continue;
                }
                if !output::event(&message, json) || output::is_end(&message) {
                    return Outcome::Ok;
                }
            }
            Ok(Message::Closed) => {
                eprintln!(
                    "tickpipe ctl: the engine at {} closed the connection",
                    conn.endpoint()
                );
                return Outcome::Ok;
            }
            Ok(Message::TimedOut) => {}
            Err(e) => {
                eprintln!("tickpipe ctl: {e}");
                return Outcome::NoEngine;
            }
        }
    }
}
