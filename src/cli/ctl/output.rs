//! Printing replies and events, shared by one-shot mode and the prompt: ok replies and
//! events to standard output (rendered, or the raw line with `--json`), error replies
//! also to standard error as `tickpipe ctl: <code>: <message>`.
//!
//! Standard output may be a pipe that closes early (`tickpipe ctl subscribe fills |
//! head`); writes report that instead of panicking as `println!` would.

use std::io::Write;

use super::{connect::Received, render, Outcome};

/// Writes `text` and a newline to standard output; false when it is closed.
pub fn out(text: &str) -> bool {
    let mut stdout = std::io::stdout().lock();
    writeln!(stdout, "{text}")
        .and_then(|()| stdout.flush())
        .is_ok()
}

/// Prints a reply and says what it means for the exit status.
pub fn reply(reply: &Received, json: bool) -> Outcome {
    if render::is_ok(&reply.value) {
        out(&if json {
            reply.line.clone()
        } else {
            render::reply(&reply.value)
        });
        Outcome::Ok
    } else {
        if json {
            out(&reply.line);
        }
        eprintln!("tickpipe ctl: {}", render::error(&reply.value));
        Outcome::ErrorReply
    }
}

/// Prints a stream event; false when standard output is closed.
pub fn event(event: &Received, json: bool) -> bool {
    out(&if json {
        event.line.clone()
    } else {
        render::event(&event.value)
    })
}

/// True for the event that says the engine is stopping and the stream is over.
pub fn is_end(event: &Received) -> bool {
    event.value.get("event").and_then(serde_json::Value::as_str) == Some("end")
}
