//! `tickpipe journal verify|inspect|export|archive DIR`: check a journal directory,
//! print its records one per line, write its booked fills as CSV or its whole history
//! as an SQLite database, or copy its sealed segments for backup.
//!
//! | file | what |
//! | --- | --- |
//! | `mod.rs` | the arguments, `verify`, `inspect` and the CSV `export` |
//! | `history.rs` | fills and order counts read from a journal, and the names `--config` gives them |
//! | `sqlite.rs` | `export --sqlite`: the trade journal's tables in SQLite |
//! | `archive.rs` | `archive --to`: sealed segments copied and read back |

mod archive;
pub(super) mod history;
mod sqlite;

use std::{
    fmt::Write as _,
    io::{self, Write as _},
    path::{Path, PathBuf},
};

use clap::{Args, Subcommand};

use crate::{
    journal::{self, truncate_torn_tail, Entry, JournalReader, Record, RecordType, TornTail},
    model::{ControlCommand, InstrumentId, TimeOfDay},
};

/// Options of `tickpipe journal`.
#[derive(Debug, Clone, Args)]
pub struct JournalArgs {
    #[command(subcommand)]
    command: JournalCommand,
}

#[derive(Debug, Clone, Subcommand)]
enum JournalCommand {
    /// Check every segment header, record length, CRC, type and sequence; sum up each
    /// writer and report torn tails.
    Verify {
        /// The journal directory (one trading day).
        dir: PathBuf,
        /// Cut each torn tail found (the records before it are kept).
        #[arg(long)]
        truncate_torn_tail: bool,
    },
    /// Print records one per line, writer after writer, each in sequence.
    Inspect {
        /// The journal directory (one trading day).
        dir: PathBuf,
        /// Only records of this type: intent, exec, fill, control, risk_state, limit,
        /// signal, daily_mark, tick, session, adopt, placed.
        #[arg(long = "type", value_name = "T")]
        record_type: Option<String>,
        /// Only records about this instrument id (`7` or `i7`).
        #[arg(long, value_name = "N")]
        instrument: Option<String>,
        /// Only records of this writer.
        #[arg(long, value_name = "NAME")]
        writer: Option<String>,
        /// Only records at or after this IST time of day (HH:MM or HH:MM:SS).
        #[arg(long, value_name = "HH:MM")]
        from: Option<String>,
        /// Only records before this IST time of day.
        #[arg(long, value_name = "HH:MM")]
        to: Option<String>,
    },
    /// Write the booked fills (trades) as CSV, or with --sqlite the trade journal's
    /// tables (trades, trade_performance, daily_performance, strategy_performance,
    /// execution_quality, adoptions) as an SQLite database.
    Export {
        /// The journal directory (one trading day).
        dir: PathBuf,
        /// The CSV file to write; standard output when absent.
        #[arg(long, short = 'o', value_name = "FILE", conflicts_with = "sqlite")]
        out: Option<PathBuf>,
        /// Write an SQLite database to FILE instead (replaced if it exists).
        #[arg(long, value_name = "FILE")]
        sqlite: Option<PathBuf>,
        /// The configuration the run used, for instrument symbols, strategy names,
        /// capital and charges (with --sqlite); when absent, the embedded default with
        /// the names and capital of the journal's manifest.
        #[arg(long, short = 'c', value_name = "FILE", requires = "sqlite")]
        config: Option<PathBuf>,
    },
    /// Copy the sealed segments (every writer's but its last, still active one) to
    /// DEST/<DIR's name>/ and read the copies back, checking every record's CRC.
    Archive {
        /// The journal directory (one trading day).
        dir: PathBuf,
        /// The backup folder; must not be inside DIR.
        #[arg(long, value_name = "DEST")]
        to: PathBuf,
    },
}

/// Runs `tickpipe journal …`.
pub(super) fn journal(args: &JournalArgs) -> Result<(), String> {
    match &args.command {
        JournalCommand::Verify {
            dir,
            truncate_torn_tail,
        } => verify(dir, *truncate_torn_tail),
        JournalCommand::Inspect {
            dir,
            record_type,
            instrument,
            writer,
            from,
            to,
        } => {
            let filter = Filter {
                ty: record_type
                    .as_deref()
                    .map(|t| {
                        RecordType::from_name(t).ok_or_else(|| {
                            let names: Vec<&str> =
                                RecordType::ALL.iter().map(|t| t.as_str()).collect();
                            format!("--type {t:?}: expected one of {}", names.join(", "))
                        })
                    })
                    .transpose()?,
                instrument: instrument
                    .as_deref()
                    .map(|n| {
                        n.trim_start_matches('i')
                            .parse()
                            .map(InstrumentId)
                            .map_err(|_| format!("--instrument {n:?}: expected a number"))
                    })
                    .transpose()?,
                writer: writer.clone(),
                from: time_arg("--from", from.as_deref())?,
                to: time_arg("--to", to.as_deref())?,
            };
            if let (Some(f), Some(t)) = (filter.from, filter.to) {
                if f >= t {
                    return Err(format!(
                        "--from {f} is not before --to {t}: no record could match (--to is exclusive)"
                    ));
                }
            }
            inspect(dir, &filter)
        }
        JournalCommand::Export {
            dir,
            sqlite: Some(file),
            config,
            ..
        } => {
            let lines = sqlite::export_sqlite(dir, file, config.as_ref())?;
            eprintln!("tickpipe: wrote {}: {}", file.display(), lines.join(", "));
            Ok(())
        }
        JournalCommand::Export {
            dir,
            out,
            sqlite: None,
            ..
        } => export(dir, out.as_ref()),
        JournalCommand::Archive { dir, to } => {
            let done = archive::archive(dir, to)?;
            println!(
                "archived {} sealed segment(s) to {}: {} copied now ({} bytes), {} already there; {} record(s) read back, every CRC and sequence checked",
                done.copied.len() + done.present.len(),
                done.dest.display(),
                done.copied.len(),
                done.bytes,
                done.present.len(),
                done.records
            );
            for file in &done.copied {
                println!("  copied  {file}");
            }
            for file in &done.active {
                println!("  active  {file} (left for a later run)");
            }
            Ok(())
        }
    }
}

/// Opens `dir` for an offline command, refusing what is not one day's journal with an
/// error that says what `dir` is instead: missing, a file, or a directory without
/// segments (the journal root, say, whose day directories it then names).
///
/// # Errors
/// As above, or the reader's own (an unreadable directory, a bad segment header).
pub(super) fn open_journal(dir: &Path) -> Result<JournalReader, String> {
    if !dir.exists() {
        return Err(format!(
            "{}: not a journal directory (no such directory)",
            dir.display()
        ));
    }
    if !dir.is_dir() {
        return Err(format!(
            "{}: not a journal directory (a file; give the trading day's directory that holds the *.tpj segments)",
            dir.display()
        ));
    }
    let reader = JournalReader::open(dir).map_err(|e| e.to_string())?;
    if reader.writers().next().is_some() {
        return Ok(reader);
    }
    let mut days: Vec<String> = std::fs::read_dir(dir)
        .map_err(|e| format!("{}: {e}", dir.display()))?
        .filter_map(|entry| {
            let path = entry.ok()?.path();
            let holds_segments = std::fs::read_dir(&path).ok()?.any(|e| {
                e.is_ok_and(|e| {
                    e.path()
                        .extension()
                        .is_some_and(|x| x == journal::format::SEGMENT_EXTENSION)
                })
            });
            if !holds_segments {
                return None;
            }
            Some(path.file_name()?.to_string_lossy().into_owned())
        })
        .collect();
    days.sort();
    let hint = match days.as_slice() {
        [] => String::new(),
        [one] => format!(
            "; it holds the journal of {one}: give {}",
            dir.join(one).display()
        ),
        many => format!(
            "; it holds the journals of {} days ({}{}): give one of them, e.g. {}",
            many.len(),
            many.iter().take(3).cloned().collect::<Vec<_>>().join(", "),
            if many.len() > 3 { ", …" } else { "" },
            dir.join(&many[many.len() - 1]).display()
        ),
    };
    Err(format!(
        "{}: no journal segments (*.tpj) in this directory{hint}",
        dir.display()
    ))
}

fn time_arg(flag: &str, value: Option<&str>) -> Result<Option<TimeOfDay>, String> {
    value
        .map(|v| {
            TimeOfDay::parse(v).ok_or_else(|| format!("{flag} {v:?}: expected HH:MM or HH:MM:SS"))
        })
        .transpose()
}

fn verify(dir: &Path, truncate: bool) -> Result<(), String> {
    // An empty or wrong directory would otherwise verify as "ok: 0 writer(s)".
    drop(open_journal(dir)?);
    let report = journal::verify(dir).map_err(|e| e.to_string())?;
    let mut out = String::new();
    let mut total = 0;
    for w in &report.writers {
        total += w.records;
        let _ = write!(
            out,
            "{}: {} segment(s), {} record(s)",
            w.name, w.segments, w.records
        );
        if let Some((first, last)) = w.seqs {
            let _ = write!(out, ", sequence {first}..{last}");
        }
        if let Some((first, last)) = w.times {
            let _ = write!(out, ", {first} .. {last}");
        }
        let counts: Vec<String> = RecordType::ALL
            .iter()
            .zip(w.per_type)
            .filter(|(_, n)| *n > 0)
            .map(|(t, n)| format!("{t} {n}"))
            .collect();
        if !counts.is_empty() {
            let _ = write!(out, " ({})", counts.join(", "));
        }
        out.push('\n');
    }
    for torn in &report.torn_tails {
        let _ = writeln!(out, "{torn}");
        if truncate {
            truncate_torn_tail(torn).map_err(|e| e.to_string())?;
            let _ = writeln!(out, "  cut at byte {}", torn.offset);
        } else {
            let _ = writeln!(
                out,
                "  cut it with: tickpipe journal verify --truncate-torn-tail {}",
                dir.display()
            );
        }
    }
    let _ = writeln!(
        out,
        "ok: {} writer(s), {total} intact record(s), every CRC and sequence checked{}",
        report.writers.len(),
        match report.torn_tails.len() {
            0 => String::new(),
            n => format!(", {n} torn tail(s)"),
        }
    );
    print!("{out}");
    Ok(())
}

/// What `inspect` prints.
#[derive(Debug)]
struct Filter {
    ty: Option<RecordType>,
    instrument: Option<InstrumentId>,
    writer: Option<String>,
    from: Option<TimeOfDay>,
    to: Option<TimeOfDay>,
}

impl Filter {
    fn keeps(&self, e: &Entry<'_>) -> bool {
        let time = e.ts.ist_time_of_day();
        self.ty.map_or(true, |t| e.record.record_type() == t)
            && self
                .instrument
                .map_or(true, |i| e.record.instrument() == Some(i))
            && self.writer.as_deref().map_or(true, |w| e.writer == w)
            && self.from.map_or(true, |f| time >= f)
            && self.to.map_or(true, |t| time < t)
    }
}

fn inspect(dir: &Path, filter: &Filter) -> Result<(), String> {
    let reader = open_journal(dir)?;
    if let Some(writer) = &filter.writer {
        if !reader.writers().any(|w| w == writer) {
            let names: Vec<&str> = reader.writers().collect();
            return Err(format!(
                "--writer {writer:?}: {} has no writer of that name (its writers: {})",
                dir.display(),
                names.join(", ")
            ));
        }
    }
    let stdout = io::stdout();
    let mut out = io::BufWriter::new(stdout.lock());
    let mut records = reader.records();
    let mut line = String::new();
    for entry in &mut records {
        let entry = entry.map_err(|e| e.to_string())?;
        if !filter.keeps(&entry) {
            continue;
        }
        line.clear();
        describe(&entry, &mut line);
        if writeln!(out, "{line}").is_err() {
            // The reader of our output went away (`| head`): stop quietly.
            return Ok(());
        }
    }
    let _ = out.flush();
    drop(out);
    report_torn(records.torn_tails(), dir);
    Ok(())
}

fn report_torn(torn: &[TornTail], dir: &Path) {
    for t in torn {
        eprintln!(
            "tickpipe: {t}; see tickpipe journal verify {}",
            dir.display()
        );
    }
}

/// One readable line: time, writer, sequence, type, then the fields.
fn describe(e: &Entry<'_>, out: &mut String) {
    let _ = write!(
        out,
        "{}  {:<8} {:>8}  {:<10} ",
        e.ts,
        e.writer,
        e.seq.0,
        e.record.record_type().as_str()
    );
    let _ = match &e.record {
        Record::Intent(m) => write!(
            out,
            "{} {} {} @ {} reason={} strategy={} intent={}",
            m.instrument,
            m.side,
            m.qty,
            if m.is_market() {
                "market".to_owned()
            } else {
                m.limit.to_string()
            },
            m.reason.as_str(),
            m.strategy.0,
            m.id
        ),
        Record::Exec(m) => write!(
            out,
            "{} {} {:?} last={}@{} cum={} leaves={} reject={} strategy={} intent={} trade={}",
            m.instrument,
            m.side,
            m.kind,
            m.last_qty,
            m.last_price,
            m.cum_qty,
            m.leaves_qty,
            m.reject.as_str(),
            m.strategy.0,
            m.intent,
            m.trade.0
        ),
        Record::Fill(m) => write!(
            out,
            "{} {} {} @ {} reason={} strategy={} intent={}",
            m.instrument,
            m.side,
            m.qty,
            m.price,
            m.reason.as_str(),
            m.strategy.0,
            m.intent
        ),
        Record::Control(c) => write_control(c, out),
        Record::RiskState(m) => write!(out, "{} (was {}) reason={}", m.state, m.previous, m.reason),
        Record::Limit(m) => write!(
            out,
            "{} = {} (was {})",
            m.key.as_str(),
            m.value.0,
            m.previous.0
        ),
        Record::Signal(m) => write!(
            out,
            "{} {:?} @ {} stop={} target={} weight={}% strategy={}",
            m.instrument, m.direction, m.price, m.stop, m.target, m.weight_pct, m.strategy.0
        ),
        Record::DailyMark(m) => write!(out, "{} mark={}", m.instrument, m.mark),
        Record::Session(m) => write!(
            out,
            "{} config={:016x} strategies={} instruments={}",
            m.kind.as_str(),
            m.config,
            m.strategies,
            m.instruments
        ),
        Record::Tick(m) => write!(
            out,
            "{} {:?} last={}x{} bid={}x{} ask={}x{} volume={}",
            m.instrument, m.kind, m.last, m.last_qty, m.bid, m.bid_qty, m.ask, m.ask_qty, m.volume
        ),
        Record::Adopt(m) if m.book_net == 0 => write!(
            out,
            "{} broker net={} avg={} (book was flat)",
            m.instrument, m.broker_net, m.broker_avg
        ),
        Record::Adopt(m) => write!(
            out,
            "{} broker net={} avg={} (book had net={} avg={})",
            m.instrument, m.broker_net, m.broker_avg, m.book_net, m.book_avg
        ),
        Record::Placed(m) => write!(
            out,
            "{} {} {} venue_id={} qty={} limit={} trigger={} slice={} prior={}",
            m.instrument, m.side, m.order, m.venue_id, m.qty, m.limit, m.trigger, m.slice, m.prior
        ),
    };
}

fn write_control(c: &ControlCommand, out: &mut String) -> std::fmt::Result {
    use ControlCommand as C;
    match c {
        C::Pause(s) => write!(out, "pause strategy={}", s.0),
        C::Resume(s) => write!(out, "resume strategy={}", s.0),
        C::Close { instrument, qty } => write!(out, "close {instrument} qty={qty}"),
        C::Flatten => write!(out, "flatten"),
        C::SetState(s) => write!(out, "set_state {s}"),
        C::SetLimit { key, value } => write!(out, "set {} {}", key.as_str(), value.0),
        C::News {
            instrument,
            sentiment_milli,
        } => write!(out, "news {instrument} sentiment={sentiment_milli}‰"),
        // The names of the feed stage's alerts for the same change.
        C::FeedStale(true) => write!(out, "feed_stale"),
        C::FeedStale(false) => write!(out, "feed_recovered"),
        other => write!(out, "{other:?}"),
    }
}

/// Writes every booked fill as CSV: the trades of the day.
fn export(dir: &Path, out: Option<&PathBuf>) -> Result<(), String> {
    let reader = open_journal(dir)?;
    let mut csv = String::from(
        "time_ist,exchange_ts_ns,writer,seq,intent,instrument,strategy,side,qty,price,reason\n",
    );
    let mut records = reader.records();
    let mut fills = 0u64;
    for entry in &mut records {
        let e = entry.map_err(|e| e.to_string())?;
        if let Record::Fill(f) = e.record {
            fills += 1;
            let _ = writeln!(
                csv,
                "{},{},{},{},{},{},{},{},{},{},{}",
                e.ts,
                e.ts.0,
                e.writer,
                e.seq,
                f.intent.sequence(),
                f.instrument.0,
                f.strategy.0,
                f.side,
                f.qty,
                f.price,
                f.reason.as_str()
            );
        }
    }
    report_torn(records.torn_tails(), dir);
    match out {
        Some(path) => {
            // Through a temporary name, so a failed write leaves no partial CSV behind.
            let temp = path.with_extension("csv.partial");
            std::fs::write(&temp, csv)
                .and_then(|()| std::fs::rename(&temp, path))
                .map_err(|e| {
                    let _ = std::fs::remove_file(&temp);
                    format!("{}: {e}", path.display())
                })?;
            eprintln!("tickpipe: wrote {fills} fill(s) to {}", path.display());
        }
        None => print!("{csv}"),
    }
    Ok(())
}
