//! What an alert command writes: its standard output and standard error, captured so
//! it never lands raw among the engine's log lines (with `log.format = "json"` every
//! line there must be JSON), and logged as a field of one line instead.
//!
//! Both streams go into one pipe (so their lines keep their order) whose read end is
//! non-blocking: the control thread empties it on each pass of its loop, as it reaps the
//! runs, and never waits on it, even when a program the command started in the
//! background keeps the pipe open after the command itself has exited. The first
//! [`KEEP`] bytes are kept and the rest are read and counted, so a chatty command
//! neither grows the engine's memory nor stalls on a full pipe.

use std::{
    io::{self, Read},
    os::fd::OwnedFd,
    process::Stdio,
};

use mio::unix::pipe::{self, Receiver};

/// Bytes of a run's output kept for the log: a few lines of a notifier's complaint
/// (curl's error, a webhook's reply), not a transcript.
pub(super) const KEEP: usize = 4096;

/// The engine's end of one run's output pipe, and what has come through it.
#[derive(Debug)]
pub(super) struct Output {
    pipe: Receiver,
    kept: Vec<u8>,
    /// Bytes read past [`KEEP`] and dropped.
    dropped: u64,
    /// The write ends are all closed: nothing more will come.
    ended: bool,
}

impl Output {
    /// A pipe for one run: the returned [`Stdio`]s are its standard output and standard
    /// error (the write end, twice); the [`Output`] reads the other end.
    ///
    /// # Errors
    /// The pipe could not be made (out of file descriptors).
    pub(super) fn pipe() -> io::Result<(Output, Stdio, Stdio)> {
        // Both ends are made non-blocking (and close-on-exec); the run's end must block,
        // or a command writing faster than the engine reads would get errors.
        let (writer, pipe) = pipe::new()?;
        writer.set_nonblocking(false)?;
        let stdout = OwnedFd::from(writer);
        let stderr = stdout.try_clone()?;
        Ok((
            Output {
                pipe,
                kept: Vec::new(),
                dropped: 0,
                ended: false,
            },
            Stdio::from(stdout),
            Stdio::from(stderr),
        ))
    }

    /// Reads what the pipe holds now, without waiting for more.
    pub(super) fn drain(&mut self) {
        let mut buf = [0_u8; 4096];
        while !self.ended {
            match self.pipe.read(&mut buf) {
                Ok(0) => self.ended = true,
                Ok(n) => {
                    let room = KEEP.saturating_sub(self.kept.len()).min(n);
                    self.kept.extend_from_slice(&buf[..room]);
                    self.dropped += (n - room) as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                // `WouldBlock`: empty for now. Any other error: nothing more can be read.
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => return,
                Err(_) => self.ended = true,
            }
        }
    }

    /// The output kept, as text (bytes that are not UTF-8 are replaced), without its
    /// trailing line break; empty when the run wrote nothing.
    pub(super) fn text(&self) -> String {
        String::from_utf8_lossy(&self.kept)
            .trim_end_matches(['\n', '\r'])
            .to_owned()
    }

    /// Bytes read past [`KEEP`] and dropped.
    pub(super) fn dropped(&self) -> u64 {
        self.dropped
    }

    /// True while nothing has been read.
    pub(super) fn is_empty(&self) -> bool {
        self.kept.is_empty() && self.dropped == 0
    }
}

#[cfg(test)]
mod tests {
    use std::process::Command;

    use super::*;

    /// Runs `script` with its output into a new [`Output`], waits for it to exit, and
    /// reads what it wrote.
    fn run(script: &str) -> Output {
        let (mut output, stdout, stderr) = Output::pipe().unwrap();
        let status = Command::new("/bin/sh")
            .args(["-c", script])
            .stdout(stdout)
            .stderr(stderr)
            .status()
            .unwrap();
        assert!(status.success());
        output.drain();
        output
    }

    #[test]
    fn both_streams_come_in_order_without_the_last_line_break() {
        let output = run("echo out; echo err >&2; printf 'last\\n'");
        assert_eq!(output.text(), "out\nerr\nlast");
        assert_eq!(output.dropped(), 0);
        assert!(output.ended, "the command exited: its pipe is closed");
    }

    #[test]
    fn a_long_output_is_cut_and_the_rest_counted() {
        // 100 000 bytes: more than a pipe holds, so the command finishes only because
        // the test reads while it writes.
        let (mut output, stdout, stderr) = Output::pipe().unwrap();
        let mut child = Command::new("/bin/sh")
            .args(["-c", "head -c 100000 /dev/zero | tr '\\0' x"])
            .stdout(stdout)
            .stderr(stderr)
            .spawn()
            .unwrap();
        while !output.ended {
            output.drain();
            std::thread::sleep(std::time::Duration::from_millis(1));
        }
        assert!(child.wait().unwrap().success());
        assert_eq!(output.text(), "x".repeat(KEEP));
        assert_eq!(output.dropped(), (100_000 - KEEP) as u64);
    }

    #[test]
    fn a_pipe_kept_open_by_a_background_program_never_blocks_the_reader() {
        // The command exits at once; the `sleep` it left behind holds the pipe open.
        let (mut output, stdout, stderr) = Output::pipe().unwrap();
        let status = Command::new("/bin/sh")
            .args(["-c", "echo before; sleep 3 & exit 0"])
            .stdout(stdout)
            .stderr(stderr)
            .status()
            .unwrap();
        assert!(status.success());
        output.drain();
        assert_eq!(output.text(), "before");
        assert!(!output.ended, "the background program still holds the pipe");
    }
}
