//! What the offline journal commands read out of a journal directory: the booked fills
//! and the risk stage's adoptions of broker positions (the input of [`TradeBook`]), the
//! orders and execution
//! reports counted per strategy, and the configuration that names what the journal only
//! numbers (instrument symbols, strategy names, capital, the cost model).
//!
//! The journal stores ids, not names, and no charges or realised P&L: those come from
//! the configuration the run used, which `--config` names (the embedded default when
//! absent, with the strategy names and capital of the manifest the run wrote beside its
//! segments). An id the configuration does not know is an error naming the record,
//! never a guess.

use std::{
    collections::HashMap,
    path::{Path, PathBuf},
};

use crate::{
    charges::{ChargeModel, Charger},
    engine::EngineConfig,
    journal::{Adoption, Manifest, Record, Seq, TornTail, MANIFEST_FILE},
    model::{
        BrokerPosition, ExecKind, FillRecord, InstrumentTable, IntentId, Money, Price, StrategyId,
        UnixNanos,
    },
    order::Slippage,
    report::{Booking, ReportContext, TradeBook},
};

/// A fill with where it was read from.
#[derive(Debug, Clone, Copy)]
pub(in crate::cli) struct FillRow<'a> {
    /// The writer that journaled it.
    pub writer: &'a str,
    /// Its sequence there.
    pub seq: Seq,
    /// Market time.
    pub ts: UnixNanos,
    /// The fill.
    pub fill: FillRecord,
}

/// Orders and execution reports of one strategy.
#[derive(Debug, Clone, Copy, Default)]
pub(in crate::cli) struct ExecCounts {
    /// Order intents journaled.
    pub intents: u64,
    /// Units those intents asked for.
    pub intent_qty: u64,
    /// Fills booked.
    pub fills: u64,
    /// Units filled.
    pub filled_qty: u64,
    /// Execution reports by kind, indexed by `ExecKind as usize - 1`.
    pub execs: [u64; 6],
    /// Fills whose intent was journaled with a reference price.
    pub priced_fills: u64,
    /// What those fills cost against their intents' reference prices: positive when
    /// bought above or sold below the price the decision was made at.
    pub slippage: Money,
}

/// The execution kinds in code order (the index into [`ExecCounts::execs`]).
pub(in crate::cli) const EXEC_KINDS: [(ExecKind, &str); 6] = [
    (ExecKind::Accepted, "accepted"),
    (ExecKind::PartialFill, "partial_fills"),
    (ExecKind::Filled, "filled"),
    (ExecKind::Rejected, "rejected"),
    (ExecKind::Cancelled, "cancelled"),
    (ExecKind::Expired, "expired"),
];

/// Everything the offline commands take from one journal directory.
#[derive(Debug)]
pub(in crate::cli) struct History {
    /// Fills in booking order (market time, then writer sequence).
    pub fills: Vec<(String, Seq, UnixNanos, FillRecord)>,
    /// Per strategy id.
    pub counts: Vec<ExecCounts>,
    /// Whether any intent record was read (else the intent columns are unknown).
    pub has_intents: bool,
    /// Whether any execution report was read.
    pub has_execs: bool,
    /// Whether any fill could be matched to its intent's reference price.
    pub has_slippage: bool,
    /// Torn tails met (the records before them were read).
    pub torn: Vec<TornTail>,
    /// Each journaled intent's reference price (the price the risk stage decided at),
    /// for the trades' slippage.
    pub references: HashMap<IntentId, Price>,
    /// The risk stage's adoptions of a broker's position (`adopt` records), with where
    /// they were read from.
    pub adoptions: Vec<(String, Seq, UnixNanos, Adoption)>,
    /// Fills and adoptions together in booking order (market time, then the order they
    /// were read in, which is each writer's sequence): what moved the positions.
    pub bookings: Vec<(UnixNanos, Booking)>,
}

impl History {
    /// Reads every record of `dir`, checking each.
    ///
    /// # Errors
    /// A missing or unreadable directory, a bad segment header, or a corrupt record,
    /// each naming the file (and offset and sequence) and why.
    pub fn read(dir: &Path) -> Result<History, String> {
        let reader = super::open_journal(dir)?;
        let mut history = History {
            fills: Vec::new(),
            counts: Vec::new(),
            has_intents: false,
            has_execs: false,
            has_slippage: false,
            torn: Vec::new(),
            references: HashMap::new(),
            adoptions: Vec::new(),
            bookings: Vec::new(),
        };
        let mut references: HashMap<IntentId, Price> = HashMap::new();
        let mut records = reader.records();
        for entry in &mut records {
            let e = entry.map_err(|e| e.to_string())?;
            let strategy = match e.record {
                Record::Adopt(a) => {
                    history.bookings.push((
                        e.ts,
                        Booking::Adoption {
                            exchange_ts: e.ts,
                            position: BrokerPosition {
                                instrument: a.instrument,
                                net: a.broker_net,
                                avg_price: a.broker_avg,
                            },
                        },
                    ));
                    history
                        .adoptions
                        .push((e.writer.to_owned(), e.seq, e.ts, a));
                    continue;
                }
                Record::Intent(m) => m.strategy,
                Record::Exec(m) => m.strategy,
                Record::Fill(m) => m.strategy,
                _ => continue,
            };
            let i = strategy.index();
            if history.counts.len() <= i {
                history.counts.resize(i + 1, ExecCounts::default());
            }
            let c = &mut history.counts[i];
            match e.record {
                Record::Intent(m) => {
                    history.has_intents = true;
                    c.intents += 1;
                    c.intent_qty += u64::from(m.qty.get());
                    if m.reference != Price::ZERO {
                        references.insert(m.id, m.reference);
                    }
                }
                Record::Exec(m) => {
                    history.has_execs = true;
                    c.execs[m.kind as usize - 1] += 1;
                }
                Record::Fill(f) => {
                    c.fills += 1;
                    c.filled_qty += u64::from(f.qty.get());
                    let mut f = f;
                    f.exchange_ts = e.ts;
                    history.fills.push((e.writer.to_owned(), e.seq, e.ts, f));
                    history.bookings.push((e.ts, Booking::Fill(f)));
                }
                _ => {}
            }
        }
        history.torn = records.torn_tails().to_vec();
        // Intents may be journaled by another writer than the fills: match them after
        // reading everything.
        for (_, _, _, f) in &history.fills {
            let Some(reference) = references.get(&f.intent) else {
                continue;
            };
            let Some(slippage) = Slippage::of(f.side, *reference, f.price, f.qty) else {
                continue;
            };
            let c = &mut history.counts[f.strategy.index()];
            c.priced_fills += 1;
            c.slippage = c.slippage.saturating_add(slippage.money);
            history.has_slippage = true;
        }
        history.references = references;
        // One writer books fills in sequence; should several have, market time orders
        // them (stable, so each writer's own order is kept).
        history.fills.sort_by_key(|f| f.2);
        history.bookings.sort_by_key(|b| b.0);
        Ok(history)
    }

    /// Rows for printing, borrowing the writer names.
    pub fn fill_rows(&self) -> impl Iterator<Item = FillRow<'_>> {
        self.fills.iter().map(|(writer, seq, ts, fill)| FillRow {
            writer,
            seq: *seq,
            ts: *ts,
            fill: *fill,
        })
    }
}

/// What the configuration says about the journal's ids.
#[derive(Debug)]
pub(in crate::cli) struct Naming {
    /// Instrument table of the configured feed.
    pub instruments: InstrumentTable,
    /// Strategy names by id, padded with `strategy_N` for ids the configuration does
    /// not enable.
    pub strategy_names: Vec<String>,
    /// Capital returns are measured on.
    pub capital: Money,
    /// The configured cost model over the instruments.
    pub charger: Charger,
    /// Where the configuration came from, for notes.
    pub origin: String,
}

impl Naming {
    /// Loads `config` (or the embedded default) and opens its feed's instrument table;
    /// without `config`, the strategy names and the capital come from the manifest the
    /// run wrote into `journal` (see [`Manifest`]), when it has one.
    ///
    /// # Errors
    /// An unreadable or invalid configuration or manifest, a feed that cannot be opened,
    /// or a manifest whose instruments are not the embedded default's (the run's
    /// configuration is then needed).
    pub fn load(config: Option<&PathBuf>, journal: &Path) -> Result<Naming, String> {
        let manifest = Manifest::read(journal)?;
        let (engine, origin) = match config {
            Some(path) => (
                EngineConfig::from_file(path).map_err(|e| e.to_string())?,
                path.display().to_string(),
            ),
            None => (
                EngineConfig::embedded_default(),
                "the embedded default configuration".to_owned(),
            ),
        };
        let opened = engine.feed.open()?;
        let mut naming = Naming {
            charger: Charger::new(ChargeModel::new(&engine.charges), &opened.instruments),
            strategy_names: crate::signal::strategy_names(&engine.strategy)
                .into_iter()
                .map(str::to_owned)
                .collect(),
            instruments: opened.instruments,
            capital: engine.risk.capital,
            origin,
        };
        let Some(manifest) = manifest else {
            return Ok(naming);
        };
        if config.is_some() {
            return Ok(naming);
        }
        let symbols: Vec<&str> = naming
            .instruments
            .iter()
            .map(|i| i.symbol.as_str())
            .collect();
        if symbols != manifest.instruments {
            let first = symbols
                .iter()
                .zip(&manifest.instruments)
                .position(|(a, b)| a != b)
                .unwrap_or(symbols.len().min(manifest.instruments.len()));
            return Err(format!(
                "{}: the run traded {} instruments, the embedded default configuration has {} (they differ from id {first}); pass the run's configuration with --config",
                journal.join(MANIFEST_FILE).display(),
                manifest.instruments.len(),
                symbols.len(),
            ));
        }
        naming.strategy_names = manifest.strategies.clone();
        naming.capital = manifest.capital()?;
        naming.origin = format!(
            "{} (strategy names, capital) and the embedded default configuration (instruments, charges)",
            journal.join(MANIFEST_FILE).display()
        );
        Ok(naming)
    }

    /// Checks every fill's and adoption's instrument against the table and pads the
    /// strategy names to cover every strategy id in `history`.
    ///
    /// # Errors
    /// The first fill or adoption whose instrument the configuration does not know,
    /// naming its writer and sequence.
    pub fn cover(&mut self, history: &History) -> Result<(), String> {
        for (writer, seq, ts, a) in &history.adoptions {
            if a.instrument.index() >= self.instruments.len() {
                return Err(format!(
                    "adopt {seq} of writer {writer} ({ts}): instrument {} is not in the universe of {} ({} instruments); pass the run's configuration with --config",
                    a.instrument,
                    self.origin,
                    self.instruments.len()
                ));
            }
        }
        for row in history.fill_rows() {
            if row.fill.instrument.index() >= self.instruments.len() {
                return Err(format!(
                    "fill {} of writer {} ({}): instrument {} is not in the universe of {} ({} instruments); pass the run's configuration with --config",
                    row.seq,
                    row.writer,
                    row.ts,
                    row.fill.instrument,
                    self.origin,
                    self.instruments.len()
                ));
            }
        }
        while self.strategy_names.len() < history.counts.len() {
            let n = self.strategy_names.len();
            self.strategy_names.push(format!("strategy_{n}"));
        }
        Ok(())
    }

    /// The round trips of `history`'s fills and adoptions, priced with the configured
    /// cost model.
    ///
    /// # Errors
    /// Arithmetic overflow, as [`TradeBook::of`].
    pub fn book(&self, history: &History) -> Result<TradeBook, String> {
        let bookings: Vec<Booking> = history.bookings.iter().map(|b| b.1).collect();
        TradeBook::of_bookings(&bookings, &self.charger, &history.references)
            .map_err(|e| e.to_string())
    }

    /// The strategy's name.
    pub fn strategy(&self, id: StrategyId) -> &str {
        self.strategy_names
            .get(id.index())
            .map_or("?", String::as_str)
    }

    /// A report context borrowing `names` (from [`Naming::names`]).
    pub fn context<'a>(&'a self, names: &'a [&'a str], title: &'a str) -> ReportContext<'a> {
        ReportContext {
            strategy_names: names,
            instruments: &self.instruments,
            capital: self.capital,
            title,
        }
    }

    /// The strategy names as `&str`, for [`Naming::context`].
    pub fn names(&self) -> Vec<&str> {
        self.strategy_names.iter().map(String::as_str).collect()
    }

    /// What the figures rest on, for the report's notes.
    pub fn notes(&self, history: &History) -> Vec<String> {
        let mut notes = vec![
            format!(
                "Names, capital and charges come from {}: the journal records ids, and no charges or realised P&L, so realised P&L is rebuilt from the fills with the risk stage's position arithmetic and charges with the configured cost model.",
                self.origin
            ),
        ];
        if !history.adoptions.is_empty() {
            notes.push(format!(
                "The journal holds {} adoption(s) of a broker's position (risk.reconcile): a trade marked adopted was not entered by a strategy; its entry is the broker's average price at the adoption's time, with no charges for those units, and it counts for the strategy whose fill closed it, as the risk stage booked it. A trade whose units an adoption took out of the book ends there (exit reason adopted) with what its fills realised.",
                history.adoptions.len()
            ));
        }
        if !history.torn.is_empty() {
            notes.push(format!(
                "The journal has {} torn tail(s); the records before them are included.",
                history.torn.len()
            ));
        }
        notes
    }
}
