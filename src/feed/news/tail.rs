//! Reading a news file that another program appends to: what is there at the start, then
//! every line added while the engine runs.

use std::{
    collections::VecDeque,
    fs::File,
    io::{Read, Seek, SeekFrom},
    path::{Path, PathBuf},
    sync::{
        atomic::{AtomicBool, Ordering},
        Arc,
    },
    thread::JoinHandle,
    time::Duration,
};

use tickpipe_ringbuf::{Producer, PushError};

use super::line::{parse_line, NewsItem};
use crate::{logging::LogLimiter, model::InstrumentTable};

/// How often the tail thread looks for appended lines.
const POLL: Duration = Duration::from_millis(100);

/// Longest line accepted; a longer one is reported and skipped (the sentiment service
/// is broken, and the engine must not buffer without bound).
pub const MAX_LINE: usize = 4096;

/// What the news file gave over a run.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct NewsFileReport {
    /// The file.
    pub path: PathBuf,
    /// Items read before trading started (merged by their time).
    pub preloaded: u64,
    /// Items appended while the engine ran.
    pub appended: u64,
    /// Lines skipped, each also logged with its line number (up to
    /// `log.per_kind_per_minute` a minute; the rest as a count).
    pub rejected: u64,
    /// Times the file shrank (rotated or truncated) and was read again from the top.
    pub restarts: u64,
}

/// Reads complete lines from a file from a byte offset on, remembering where it stopped.
#[derive(Debug)]
struct Reader {
    path: PathBuf,
    offset: u64,
    line: u64,
    partial: Vec<u8>,
    skipping: bool,
}

impl Reader {
    fn new(path: &Path) -> Reader {
        Reader {
            path: path.to_owned(),
            offset: 0,
            line: 0,
            partial: Vec::new(),
            skipping: false,
        }
    }

    /// Calls `on_line(number, Ok(text))` for each complete, non-blank line added since
    /// the last call, and `on_line(number, Err(why))` for lines that cannot be read as
    /// text. A file that does not exist yet reads as empty; a file that shrank is read
    /// again from the top (returns true then).
    fn read_new(
        &mut self,
        mut on_line: impl FnMut(u64, Result<&str, String>),
    ) -> std::io::Result<bool> {
        let mut file = match File::open(&self.path) {
            Ok(f) => f,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(false),
            Err(e) => return Err(e),
        };
        let len = file.metadata()?.len();
        let restarted = len < self.offset;
        if restarted {
            self.offset = 0;
            self.line = 0;
            self.partial.clear();
            self.skipping = false;
        }
        if len == self.offset {
            return Ok(restarted);
        }
        file.seek(SeekFrom::Start(self.offset))?;
        let mut fresh = Vec::new();
        file.take(len - self.offset).read_to_end(&mut fresh)?;
        self.offset += fresh.len() as u64;
        for &byte in &fresh {
            if byte != b'\n' {
                if self.partial.len() < MAX_LINE {
                    self.partial.push(byte);
                } else {
                    self.skipping = true;
                }
                continue;
            }
            self.line += 1;
            if self.skipping {
                on_line(self.line, Err(format!("longer than {MAX_LINE} bytes")));
            } else {
                match std::str::from_utf8(&self.partial) {
                    Ok(text) if text.trim().is_empty() => {}
                    Ok(text) => on_line(self.line, Ok(text.trim_end_matches('\r'))),
                    Err(_) => on_line(self.line, Err("not UTF-8 text".to_owned())),
                }
            }
            self.partial.clear();
            self.skipping = false;
        }
        Ok(restarted)
    }
}

/// A news file opened for a run: the items already in it, and a reader positioned after
/// them for [`NewsFile::spawn_tail`].
#[derive(Debug)]
pub struct NewsFile {
    reader: Reader,
    instruments: InstrumentTable,
    report: NewsFileReport,
    /// Items already in the file, in file order.
    pub preloaded: Vec<NewsItem>,
}

impl NewsFile {
    /// Reads what `path` holds now (a missing file holds nothing yet). Bad lines are
    /// logged and counted; they never stop the run.
    ///
    /// # Errors
    /// When the file exists but cannot be read.
    pub fn open(path: &Path, instruments: &InstrumentTable) -> Result<NewsFile, String> {
        let mut file = NewsFile {
            reader: Reader::new(path),
            instruments: instruments.clone(),
            report: NewsFileReport {
                path: path.to_owned(),
                ..NewsFileReport::default()
            },
            preloaded: Vec::new(),
        };
        let mut items = Vec::new();
        let mut rejected = 0;
        let table = &file.instruments;
        let shown = path.display().to_string();
        let mut log_limit = LogLimiter::new("news file");
        file.reader
            .read_new(
                |n, line| match line.and_then(|text| parse_line(text, table)) {
                    Ok(item) => items.push(item),
                    Err(why) => {
                        rejected += 1;
                        reject(&mut log_limit, &shown, n, &why);
                    }
                },
            )
            .map_err(|e| format!("cannot read the news file {shown}: {e}"))?;
        file.report.preloaded = items.len() as u64;
        file.report.rejected = rejected;
        file.preloaded = items;
        Ok(file)
    }

    /// Starts the thread that reads lines appended from now on into `out`, until `stop`
    /// is set; joining it returns the whole file's report.
    ///
    /// The thread is a side thread, never a stage: it sleeps between looks at the file,
    /// and when the ring is full it keeps the items and retries, so nothing is lost.
    ///
    /// # Errors
    /// When the thread cannot be started.
    pub fn spawn_tail(
        mut self,
        mut out: Producer<NewsItem>,
        stop: Arc<AtomicBool>,
    ) -> std::io::Result<JoinHandle<NewsFileReport>> {
        std::thread::Builder::new()
            .name("tickpipe-news".to_owned())
            .spawn(move || {
                let shown = self.report.path.display().to_string();
                let mut waiting: VecDeque<NewsItem> = VecDeque::new();
                let mut log_limit = LogLimiter::new("news file");
                while !stop.load(Ordering::Acquire) {
                    let table = &self.instruments;
                    let report = &mut self.report;
                    let read = self.reader.read_new(|n, line| {
                        match line.and_then(|text| parse_line(text, table)) {
                            Ok(item) => {
                                report.appended += 1;
                                waiting.push_back(item);
                            }
                            Err(why) => {
                                report.rejected += 1;
                                reject(&mut log_limit, &shown, n, &why);
                            }
                        }
                    });
                    match read {
                        Ok(true) => {
                            report.restarts += 1;
                            if log_limit.admit("restarted") {
                                tracing::warn!(
                                    file = shown.as_str(),
                                    "news file: it shrank; reading it again from the top"
                                );
                            }
                        }
                        Ok(false) => {}
                        Err(e) => {
                            if log_limit.admit("read_failed") {
                                tracing::warn!(
                                    file = shown.as_str(),
                                    error = %e,
                                    "news file: cannot read it; retrying"
                                );
                            }
                        }
                    }
                    // A burst of bad lines, then quiet: its count goes out now.
                    log_limit.flush_expired();
                    while let Some(item) = waiting.pop_front() {
                        if let Err(PushError::Full(item)) = out.try_push(item) {
                            waiting.push_front(item);
                            break;
                        }
                    }
                    std::thread::sleep(POLL);
                }
                self.report
            })
    }
}

/// Logs a bad line (within the limit; the limiter counts the rest).
fn reject(log_limit: &mut LogLimiter, path: &str, line: u64, why: &str) {
    if log_limit.admit("bad_line") {
        tracing::warn!(
            file = path,
            line,
            error = why,
            "news file: bad line skipped"
        );
    }
}

#[cfg(test)]
mod tests {
    use std::io::Write;

    use super::*;
    use crate::signal::test_support::table;

    fn temp(name: &str) -> PathBuf {
        let dir = std::env::temp_dir().join(format!("tickpipe-news-{}-{name}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        dir.join("news.jsonl")
    }

    /// `(line number, text or why)` pairs.
    type Numbered = Vec<(u64, String)>;

    fn lines(reader: &mut Reader) -> (Numbered, Numbered, bool) {
        let (mut ok, mut bad) = (Vec::new(), Vec::new());
        let restarted = reader
            .read_new(|n, line| match line {
                Ok(t) => ok.push((n, t.to_owned())),
                Err(w) => bad.push((n, w)),
            })
            .unwrap();
        (ok, bad, restarted)
    }

    #[test]
    fn reads_only_complete_lines_and_resumes_where_it_stopped() {
        let path = temp("resume");
        std::fs::write(&path, "a\n\nb\npart").unwrap();
        let mut r = Reader::new(&path);
        let (ok, bad, _) = lines(&mut r);
        assert_eq!(ok, [(1, "a".to_owned()), (3, "b".to_owned())]);
        assert!(bad.is_empty());
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"ial\r\n").unwrap();
        let (ok, _, restarted) = lines(&mut r);
        assert_eq!(ok, [(4, "partial".to_owned())]);
        assert!(!restarted);
        // Truncated and rewritten: read again from the top.
        std::fs::write(&path, "c\n").unwrap();
        let (ok, _, restarted) = lines(&mut r);
        assert_eq!((ok, restarted), (vec![(1, "c".to_owned())], true));
    }

    #[test]
    fn a_missing_file_is_empty_and_overlong_or_binary_lines_are_reported() {
        let path = temp("bad");
        let _ = std::fs::remove_file(&path);
        let mut r = Reader::new(&path);
        assert_eq!(lines(&mut r).0, []);
        let mut text = vec![b'x'; MAX_LINE + 10];
        text.extend_from_slice(b"\n\xff\xfe\nok\n");
        std::fs::write(&path, &text).unwrap();
        let (ok, bad, _) = lines(&mut r);
        assert_eq!(ok, [(3, "ok".to_owned())]);
        assert_eq!(bad.len(), 2);
        assert!(bad[0].1.contains("longer than"), "{bad:?}");
        assert!(bad[1].1.contains("UTF-8"), "{bad:?}");
    }

    #[test]
    fn open_parses_what_is_there_and_the_tail_sends_what_is_appended() {
        let path = temp("tail");
        std::fs::write(
            &path,
            "{\"symbol\":\"SBIN\",\"sentiment\":0.5}\n{\"symbol\":\"NOPE\",\"sentiment\":0.5}\n",
        )
        .unwrap();
        let file = NewsFile::open(&path, &table()).unwrap();
        assert_eq!(file.preloaded.len(), 1);
        let (tx, mut rx) = tickpipe_ringbuf::channel(4);
        let stop = Arc::new(AtomicBool::new(false));
        let handle = file.spawn_tail(tx, stop.clone()).unwrap();
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"{\"symbol\":\"INFY\",\"sentiment\":-0.9}\n")
            .unwrap();
        let mut got = None;
        for _ in 0..1000 {
            if let Ok(item) = rx.try_pop() {
                got = Some(item);
                break;
            }
            std::thread::sleep(Duration::from_millis(10));
        }
        let got = got.expect("the appended line reaches the ring");
        assert_eq!(got.sentiment_milli, -900);
        stop.store(true, Ordering::Release);
        let report = handle.join().unwrap();
        assert_eq!(
            (report.preloaded, report.appended, report.rejected),
            (1, 1, 1)
        );
    }
}
