//! The dashboard's connection on a background thread: it writes the command lines the
//! main loop hands it and reads reply and event lines into a channel, so the main loop
//! only polls the keyboard and the channel and never blocks on the socket.
//!
//! One thread does both directions because a TLS stream cannot be split into a reader
//! and a writer; it waits on the socket at most [`POLL`] before looking for commands.

use std::{
    sync::mpsc::{self, Receiver, Sender, TryRecvError},
    thread,
    time::Duration,
};

use serde_json::Value;

use crate::cli::ctl::connect::{Connection, Message};

/// How long the thread waits for a line before it checks for commands to send.
const POLL: Duration = Duration::from_millis(20);

/// What the thread hands the main loop.
#[derive(Debug, Clone, PartialEq)]
pub enum FromEngine {
    /// A reply or an event.
    Message(Value),
    /// The connection is over, and why; nothing follows.
    Gone(String),
}

/// The main loop's end of the connection thread.
#[derive(Debug)]
pub struct Link {
    commands: Sender<String>,
    messages: Receiver<FromEngine>,
}

impl Link {
    /// Moves `conn` to a new thread and returns the channels to it. Dropping the
    /// [`Link`] ends the thread within [`POLL`].
    ///
    /// # Errors
    /// When the operating system cannot start a thread.
    pub fn start(conn: Connection) -> std::io::Result<Link> {
        let (commands, command_rx) = mpsc::channel();
        let (message_tx, messages) = mpsc::channel();
        thread::Builder::new()
            .name("ctl-top-link".into())
            .spawn(move || serve(conn, &command_rx, &message_tx))?;
        Ok(Link { commands, messages })
    }

    /// Queues a command line; false when the thread has ended.
    pub fn send(&self, line: String) -> bool {
        self.commands.send(line).is_ok()
    }

    /// The next message, if one has arrived.
    pub fn try_recv(&self) -> Option<FromEngine> {
        self.messages.try_recv().ok()
    }
}

fn serve(mut conn: Connection, commands: &Receiver<String>, messages: &Sender<FromEngine>) {
    let gone = |why: String| {
        let _ = messages.send(FromEngine::Gone(why));
    };
    loop {
        loop {
            match commands.try_recv() {
                Ok(line) => {
                    if let Err(e) = conn.send(&line) {
                        return gone(e.to_string());
                    }
                }
                Err(TryRecvError::Empty) => break,
                Err(TryRecvError::Disconnected) => return,
            }
        }
        match conn.read_message(Some(POLL)) {
            Ok(Message::Received(message)) => {
                if messages.send(FromEngine::Message(message.value)).is_err() {
                    return;
                }
            }
            Ok(Message::TimedOut) => {}
            Ok(Message::Closed) => {
                return gone(format!(
                    "the engine at {} closed the connection",
                    conn.endpoint()
                ))
            }
            Err(e) => return gone(e.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use std::{
        io::{BufRead, BufReader, Write},
        os::unix::net::UnixStream,
        path::PathBuf,
    };

    use super::*;
    use crate::cli::ctl::connect::Endpoint;

    #[test]
    fn commands_go_out_and_lines_come_back_until_the_engine_closes() {
        let (ours, theirs) = UnixStream::pair().unwrap();
        let conn = Connection::over(Box::new(ours), Endpoint::Unix(PathBuf::from("link.sock")));
        let link = Link::start(conn).unwrap();
        assert!(link.send("status".into()));
        let mut reader = BufReader::new(theirs.try_clone().unwrap());
        let mut line = String::new();
        reader.read_line(&mut line).unwrap();
        assert_eq!(line, "status\n");
        let mut writer = theirs;
        writer
            .write_all(
                b"{\"ok\":true,\"reply\":\"status\"}\n{\"event\":\"end\",\"reason\":\"x\"}\n",
            )
            .unwrap();
        drop(writer);
        drop(reader);
        let mut got = Vec::new();
        while !matches!(got.last(), Some(FromEngine::Gone(_))) {
            // Blocking receive: the thread always ends with `Gone` once the peer closes.
            got.push(link.messages.recv().unwrap());
        }
        assert_eq!(got.len(), 3, "{got:?}");
        assert!(matches!(&got[0], FromEngine::Message(v) if v["reply"] == "status"));
        assert!(matches!(&got[1], FromEngine::Message(v) if v["event"] == "end"));
        assert!(matches!(&got[2], FromEngine::Gone(why) if why.contains("link.sock")));
    }
}
