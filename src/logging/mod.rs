//! The engine's structured log: `tracing` events from the cold threads, written by a
//! thread of their own.
//!
//! Who logs: the run command, the live feeds' connection threads, the news file's
//! tail, the journal while a day resumes, and the control thread (every alert the stages
//! raise, and the alert command's runs). Stage threads never log: they count, and raise
//! alerts that the control thread logs. Nothing here is on the hot path.
//!
//! How: [`install`] sets a global subscriber from `[log]` ([`LogSettings`]) for `run`
//! and `record` only; one-shot commands print their output as before. An event is
//! formatted on the thread that logs it, as one line (`text`: [`TextFormat`]; `json`:
//! one object with `timestamp`, `level`, `target`, `threadName` and `fields`), and
//! handed to `tracing-appender`'s non-blocking writer, whose thread writes it to
//! standard error or appends it to `log.file`. Its queue holds `log.buffer_lines`
//! lines; when a slow terminal or disk lets it fill, further lines are dropped and
//! counted instead of blocking the thread that logs (a feed link must go on reading its
//! socket), and the count is logged ([`Logs::note_dropped`]) once there is room.
//!
//! Volume: lines that can repeat (reconnection attempts, bad frames or lines, server
//! messages, alerts of one kind) pass a per-thread [`LogLimiter`] first: at most
//! `log.per_kind_per_minute` per kind per minute, the rest counted in one
//! `suppressed` line.
//!
//! Secrets: events carry the configured URLs (which hold no credentials: the feeds'
//! settings refuse a URL with a login in it), never a token, key or password.

mod limit;
mod settings;
mod text;

use std::{
    fs::OpenOptions,
    io::{self, Write},
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicU64, Ordering},
        Arc,
    },
};

pub use limit::{Admit, LogLimiter};
pub use settings::{parse_level, LogFormat, LogSettings};
pub use text::TextFormat;
use tracing::Subscriber;
use tracing_appender::non_blocking::{ErrorCounter, NonBlockingBuilder, WorkerGuard};
use tracing_subscriber::fmt::MakeWriter;

/// A subscriber writing events of `settings.level` and above in `settings.format` to
/// `writer`; `timestamps` starts text lines with their time (JSON lines always have
/// one). [`install`] makes the engine's; tests install one on their own writer.
pub fn subscriber<W>(
    settings: &LogSettings,
    timestamps: bool,
    writer: W,
) -> Box<dyn Subscriber + Send + Sync>
where
    W: for<'a> MakeWriter<'a> + Send + Sync + 'static,
{
    let builder = tracing_subscriber::fmt()
        .with_max_level(settings.level_filter())
        .with_writer(writer);
    match settings.log_format() {
        LogFormat::Json => Box::new(
            builder
                .json()
                .with_current_span(false)
                .with_span_list(false)
                .with_thread_names(true)
                .finish(),
        ),
        LogFormat::Text => Box::new(builder.event_format(TextFormat { timestamps }).finish()),
    }
}

/// The installed log: keep it for the whole run. Dropping it logs what was dropped,
/// then lets the writer thread write what it holds (for at most about a second).
#[derive(Debug)]
pub struct Logs {
    format: LogFormat,
    /// `log.level` is not `off`.
    writes_errors: bool,
    /// `None`: standard error.
    file: Option<PathBuf>,
    dropped: ErrorCounter,
    dropped_reported: usize,
    write_failures: Arc<AtomicU64>,
    guard: Option<WorkerGuard>,
}

/// Installs the process's log from `settings` (validated). Run once, by `run` and
/// `record`, before any thread that logs is started.
///
/// # Errors
/// `log.file` cannot be opened for appending (the message names the key and the
/// file), or a log is installed already.
pub fn install(settings: &LogSettings) -> Result<Logs, String> {
    limit::set_per_minute(settings.per_kind_per_minute);
    let file = (!settings.file.as_os_str().is_empty()).then(|| settings.file.clone());
    let sink: Box<dyn Write + Send> = match &file {
        None => Box::new(io::stderr()),
        Some(path) => Box::new(open_append(path)?),
    };
    let write_failures = Arc::new(AtomicU64::new(0));
    let (writer, guard) = NonBlockingBuilder::default()
        .lossy(true)
        .buffered_lines_limit(settings.buffer_lines)
        .thread_name("tickpipe-log")
        .finish(Counted {
            inner: sink,
            failures: write_failures.clone(),
        });
    let dropped = writer.error_counter();
    tracing::subscriber::set_global_default(subscriber(settings, file.is_some(), writer))
        .map_err(|_| "a log is installed already".to_owned())?;
    Ok(Logs {
        format: settings.log_format(),
        writes_errors: settings.level_filter() != tracing_subscriber::filter::LevelFilter::OFF,
        file,
        dropped,
        dropped_reported: 0,
        write_failures,
        guard: Some(guard),
    })
}

/// Opens `path` for appending, making its directory if need be.
fn open_append(path: &Path) -> Result<std::fs::File, String> {
    let fail = |e: io::Error| format!("log.file: cannot append to {}: {e}", path.display());
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::create_dir_all(dir).map_err(fail)?;
    }
    OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)
        .map_err(fail)
}

impl Logs {
    /// Whether lines go to standard error (else to `log.file`).
    pub fn to_stderr(&self) -> bool {
        self.file.is_none()
    }

    /// Whether an error logged now reaches standard error: then a command that fails
    /// need not print its message again.
    pub fn errors_reach_stderr(&self) -> bool {
        self.file.is_none() && self.writes_errors
    }

    /// The format lines are written in.
    pub fn format(&self) -> LogFormat {
        self.format
    }

    /// Logs how many lines the writer dropped since the last call, if any: call it now
    /// and then (the status interval does) so a reader learns of a gap near where it is.
    pub fn note_dropped(&mut self) {
        let total = self.dropped.dropped_lines();
        if total > self.dropped_reported {
            let n = total - self.dropped_reported;
            self.dropped_reported = total;
            tracing::warn!(
                dropped = n,
                dropped_total = total,
                "{n} log lines dropped: the log writer fell behind (log.buffer_lines)"
            );
        }
    }

    /// Lines dropped so far because the writer's queue was full.
    pub fn dropped(&self) -> usize {
        self.dropped.dropped_lines()
    }
}

impl Drop for Logs {
    fn drop(&mut self) {
        self.note_dropped();
        // Lets the writer thread finish what it holds.
        drop(self.guard.take());
        let failed = self.write_failures.load(Ordering::Relaxed);
        if let (Some(path), true) = (&self.file, failed > 0) {
            // The log itself failed: standard error is all that is left.
            eprintln!(
                "tickpipe: {failed} log lines could not be written to {} (log.file)",
                path.display()
            );
        }
    }
}

/// The writer thread's sink: a line that cannot be written (disk full) is counted and
/// dropped, so one bad write does not stall the lines behind it.
struct Counted {
    inner: Box<dyn Write + Send>,
    failures: Arc<AtomicU64>,
}

impl Write for Counted {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        if self.inner.write_all(buf).is_err() {
            // Relaxed: a statistic, read after the writer thread is joined.
            self.failures.fetch_add(1, Ordering::Relaxed);
        }
        Ok(buf.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let _ = self.inner.flush();
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Mutex;

    use serde_json::Value;

    use super::*;

    /// A `MakeWriter` into a shared buffer.
    #[derive(Clone, Default)]
    struct Buffer(Arc<Mutex<Vec<u8>>>);

    impl Write for Buffer {
        fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
            self.0.lock().unwrap().extend_from_slice(buf);
            Ok(buf.len())
        }
        fn flush(&mut self) -> io::Result<()> {
            Ok(())
        }
    }

    impl<'a> MakeWriter<'a> for Buffer {
        type Writer = Buffer;
        fn make_writer(&'a self) -> Buffer {
            self.clone()
        }
    }

    impl Buffer {
        fn text(&self) -> String {
            String::from_utf8(self.0.lock().unwrap().clone()).unwrap()
        }
    }

    fn settings(format: &str, level: &str) -> LogSettings {
        LogSettings {
            format: format.to_owned(),
            level: level.to_owned(),
            ..LogSettings::default()
        }
    }

    /// Runs `f` with a subscriber of `settings` writing into a buffer; the buffer's text.
    fn captured(settings: &LogSettings, timestamps: bool, f: impl FnOnce()) -> String {
        let buffer = Buffer::default();
        tracing::subscriber::with_default(subscriber(settings, timestamps, buffer.clone()), f);
        buffer.text()
    }

    #[test]
    fn json_lines_are_objects_with_timestamp_level_target_and_fields() {
        let out = captured(&settings("json", "info"), false, || {
            tracing::warn!(
                instrument = "SBIN",
                attempt = 3_u64,
                error = %"connection refused",
                "kite ticker: cannot connect"
            );
            tracing::info!(url = "wss://ws.kite.trade", "kite ticker: connected");
        });
        let lines: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{e}: {l}")))
            .collect();
        assert_eq!(lines.len(), 2, "{out}");
        let first = &lines[0];
        assert_eq!(first["level"], "WARN");
        assert_eq!(first["target"], "tickpipe::logging::tests");
        let ts = first["timestamp"].as_str().unwrap();
        assert!(
            ts.len() >= 20 && ts.ends_with('Z') && ts.contains('T'),
            "{ts}"
        );
        let fields = &first["fields"];
        assert_eq!(fields["message"], "kite ticker: cannot connect");
        assert_eq!(fields["instrument"], "SBIN");
        assert_eq!(fields["attempt"], 3);
        assert_eq!(fields["error"], "connection refused");
        assert_eq!(lines[1]["level"], "INFO");
    }

    #[test]
    fn text_lines_speak_as_tickpipe_and_name_the_level_only_when_not_info() {
        let out = captured(&settings("text", "info"), false, || {
            tracing::info!(
                dir = "var/journal/2026-11-25",
                "journal opened: the day begins"
            );
            tracing::warn!(line = 2_u64, "news file: line skipped");
        });
        assert_eq!(
            out,
            "tickpipe: journal opened: the day begins dir=\"var/journal/2026-11-25\"\n\
             tickpipe: warning: news file: line skipped line=2\n"
        );
        let stamped = captured(&settings("text", "info"), true, || tracing::error!("boom"));
        let (ts, rest) = stamped.split_once(' ').unwrap();
        assert!(ts.ends_with('Z'), "{stamped}");
        assert_eq!(rest, "tickpipe: error: boom\n");
    }

    #[test]
    fn the_level_filters() {
        let out = captured(&settings("text", "warn"), false, || {
            tracing::info!("quiet");
            tracing::debug!("quieter");
            tracing::warn!("loud");
        });
        assert_eq!(out, "tickpipe: warning: loud\n");
        let none = captured(&settings("json", "off"), false, || tracing::error!("x"));
        assert_eq!(none, "");
    }

    #[test]
    fn the_limiter_writes_one_suppressed_line_for_what_it_held_back() {
        let out = captured(&settings("json", "info"), false, || {
            let mut limit = LogLimiter::with_per_minute("kite ticker", 2);
            for _ in 0..10 {
                if limit.admit("connect_failed") {
                    tracing::warn!("kite ticker: cannot connect");
                }
            }
            // Dropped at the thread's end: the count goes out.
        });
        let lines: Vec<Value> = out
            .lines()
            .map(|l| serde_json::from_str(l).unwrap())
            .collect();
        assert_eq!(lines.len(), 3, "{out}");
        let last = &lines[2]["fields"];
        assert_eq!(last["suppressed"], 8);
        assert_eq!(last["kind"], "connect_failed");
        assert_eq!(last["source"], "kite ticker");
    }

    #[test]
    fn a_log_file_that_cannot_be_opened_names_the_key() {
        let dir = std::env::temp_dir();
        let err = open_append(&dir).unwrap_err();
        assert!(err.starts_with("log.file: cannot append to"), "{err}");
    }
}
