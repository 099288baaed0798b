//! The interactive prompt of `tickpipe ctl` (no command words): `tickpipe> `, line
//! editing and history from rustyline, the same rendering as one-shot mode.
//!
//! Replies come in the order of commands, so each command waits for its reply; stream
//! events that arrive meanwhile (after a `subscribe`) print before it. An empty line
//! prints any events waiting.

use std::{path::PathBuf, time::Duration};

use rustyline::{error::ReadlineError, DefaultEditor};

use super::{
    connect::{Connection, Endpoint, Message, SessionError},
    output, Outcome,
};

/// The history file under `$HOME`.
const HISTORY_FILE: &str = ".tickpipe_ctl_history";

/// How long an empty line waits for events that may already be on their way.
const DRAIN_WAIT: Duration = Duration::from_millis(20);

/// Where the history lives: `$HOME/.tickpipe_ctl_history`, or nowhere without `HOME`.
fn history_path() -> Option<PathBuf> {
    std::env::var_os("HOME")
        .filter(|home| !home.is_empty())
        .map(|home| PathBuf::from(home).join(HISTORY_FILE))
}

/// Runs the prompt until `exit`, `quit`, Ctrl-D, or the engine going away.
pub fn run(endpoint: &Endpoint, timeout: Duration, json: bool) -> Outcome {
    let mut conn = match Connection::open(endpoint, timeout) {
        Ok(conn) => conn,
        Err(e) => {
            eprintln!("tickpipe ctl: {e}");
            return Outcome::NoEngine;
        }
    };
    let mut editor = match DefaultEditor::new() {
        Ok(editor) => editor,
        Err(e) => {
            eprintln!("tickpipe ctl: cannot start the prompt: {e}");
            return Outcome::NoEngine;
        }
    };
    let history = history_path();
    if let Some(path) = &history {
        // A first run has no history file yet; that is not worth a message.
        let _ = editor.load_history(path);
    }
    eprintln!("connected to the engine at {endpoint}; `help` lists commands, `exit` leaves");
    let outcome = session(&mut conn, &mut editor, timeout, json);
    if let Some(path) = &history {
        if let Err(e) = editor.save_history(path) {
            eprintln!(
                "tickpipe ctl: cannot save the history to {}: {e}",
                path.display()
            );
        }
    }
    outcome
}

fn session(
    conn: &mut Connection,
    editor: &mut DefaultEditor,
    timeout: Duration,
    json: bool,
) -> Outcome {
    loop {
        let line = match editor.readline("tickpipe> ") {
            Ok(line) => line,
            // Ctrl-C abandons the line being typed, as in a shell.
            Err(ReadlineError::Interrupted) => continue,
            Err(ReadlineError::Eof) => return Outcome::Ok,
            Err(e) => {
                eprintln!("tickpipe ctl: cannot read the terminal: {e}");
                return Outcome::NoEngine;
            }
        };
        let line = line.trim();
        if line.is_empty() {
            if let Err(e) = drain_events(conn, json) {
                eprintln!("tickpipe ctl: {e}");
                return Outcome::NoEngine;
            }
            continue;
        }
        let _ = editor.add_history_entry(line);
        if line == "exit" || line == "quit" {
            return Outcome::Ok;
        }
        let answered = conn.request(line, Some(timeout), |event| {
            output::event(event, json);
        });
        match answered {
            // An error reply is printed and the prompt goes on.
            Ok(reply) => {
                output::reply(&reply, json);
            }
            // A late reply would be taken for the answer to the next command, so a
            // timeout or a broken connection ends the session.
            Err(e) => {
                eprintln!("tickpipe ctl: {e}");
                return Outcome::NoEngine;
            }
        }
    }
}

/// Prints the events that have arrived, waiting at most [`DRAIN_WAIT`] for more.
fn drain_events(conn: &mut Connection, json: bool) -> Result<(), SessionError> {
    loop {
        match conn.read_message(Some(DRAIN_WAIT))? {
            Message::Received(message) => {
                if message.is_reply() {
                    output::reply(&message, json);
                } else {
                    output::event(&message, json);
                }
            }
            Message::TimedOut => return Ok(()),
            Message::Closed => {
                return Err(SessionError::Closed(format!(
                    "the engine at {} closed the connection",
                    conn.endpoint()
                )))
            }
        }
    }
}
