//! The command language: one line, words separated by spaces, parsed into a [`Request`].
//!
//! The same parser reads the control socket and the configuration's
//! `[[control.schedule]]` entries, so a drill in the config and a command at the desk
//! mean the same thing.

use std::fmt;

/// The longest command line accepted, in bytes (the newline not counted).
pub const MAX_LINE: usize = 1024;

/// A stream a client may subscribe to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Stream {
    /// P&L snapshots at an interval.
    Pnl,
    /// Every fill as it is booked.
    Fills,
    /// Alerts: trading state changes, rejected orders, stop-losses, fatal errors.
    Alerts,
}

impl Stream {
    /// The stream's name on the wire.
    pub const fn as_str(self) -> &'static str {
        match self {
            Stream::Pnl => "pnl",
            Stream::Fills => "fills",
            Stream::Alerts => "alerts",
        }
    }

    fn parse(word: &str) -> Option<Stream> {
        match word {
            "pnl" => Some(Stream::Pnl),
            "fills" => Some(Stream::Fills),
            "alerts" => Some(Stream::Alerts),
            _ => None,
        }
    }
}

/// Default interval of `subscribe pnl`, milliseconds.
pub const DEFAULT_PNL_INTERVAL_MS: u64 = 1000;
/// Shortest `subscribe pnl` interval, milliseconds.
pub const MIN_PNL_INTERVAL_MS: u64 = 100;
/// Longest `subscribe pnl` interval, milliseconds.
pub const MAX_PNL_INTERVAL_MS: u64 = 60_000;

/// One parsed command line. Names (strategies, symbols, limits) are resolved later,
/// against the running engine.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Request {
    /// `auth <token>` (TCP connections, before anything else).
    Auth(String),
    /// `help`.
    Help,
    /// `status`.
    Status,
    /// `positions`.
    Positions,
    /// `orders`.
    Orders,
    /// `pnl`.
    Pnl,
    /// `strategies`.
    Strategies,
    /// `pause <strategy>`.
    Pause(String),
    /// `resume <strategy>`.
    Resume(String),
    /// `close <symbol> [qty]`.
    Close {
        /// The instrument's symbol as the instrument table spells it.
        symbol: String,
        /// Units to close; `None` closes the whole position.
        qty: Option<u32>,
    },
    /// `flatten`.
    Flatten,
    /// `halt`.
    Halt,
    /// `reduce`.
    Reduce,
    /// `activate`.
    Activate,
    /// `limits`.
    Limits,
    /// `set <limit> <value>`.
    Set {
        /// The limit's configuration key.
        name: String,
        /// The value as written.
        value: String,
    },
    /// `news <symbol> <sentiment>`.
    News {
        /// The instrument's symbol as the instrument table spells it (may hold spaces,
        /// as `NIFTY 50` does).
        symbol: String,
        /// Sentiment in per-mille, −1000 to 1000.
        sentiment_milli: i16,
    },
    /// `latency`.
    Latency,
    /// `metrics`.
    Metrics,
    /// `subscribe <stream> [interval_ms]`.
    Subscribe {
        /// Which stream.
        stream: Stream,
        /// For `pnl`: how often.
        interval_ms: u64,
    },
    /// `unsubscribe <stream>`.
    Unsubscribe(Stream),
    /// `quit`.
    Quit,
}

impl Request {
    /// The command word, as the reply's `"reply"` field names it.
    pub const fn word(&self) -> &'static str {
        match self {
            Request::Auth(_) => "auth",
            Request::Help => "help",
            Request::Status => "status",
            Request::Positions => "positions",
            Request::Orders => "orders",
            Request::Pnl => "pnl",
            Request::Strategies => "strategies",
            Request::Pause(_) => "pause",
            Request::Resume(_) => "resume",
            Request::Close { .. } => "close",
            Request::Flatten => "flatten",
            Request::Halt => "halt",
            Request::Reduce => "reduce",
            Request::Activate => "activate",
            Request::Limits => "limits",
            Request::Set { .. } => "set",
            Request::News { .. } => "news",
            Request::Latency => "latency",
            Request::Metrics => "metrics",
            Request::Subscribe { .. } => "subscribe",
            Request::Unsubscribe(_) => "unsubscribe",
            Request::Quit => "quit",
        }
    }

    /// True for commands that change trading state (the ones a schedule may hold).
    pub const fn changes_state(&self) -> bool {
        matches!(
            self,
            Request::Pause(_)
                | Request::Resume(_)
                | Request::Close { .. }
                | Request::Flatten
                | Request::Halt
                | Request::Reduce
                | Request::Activate
                | Request::Set { .. }
                | Request::News { .. }
        )
    }
}

/// Every command with its usage and what it does, for `help` and the README.
pub const HELP: &[(&str, &str)] = &[
    ("help", "this list"),
    (
        "status",
        "mode, market time, trading state, P&L, open positions, latency p50/p99",
    ),
    ("positions", "open positions with marks and P&L"),
    ("orders", "working orders and the most recent finished ones"),
    ("pnl", "realised, unrealised and total P&L, per strategy"),
    (
        "strategies",
        "each strategy: running or paused, signals, P&L",
    ),
    (
        "pause <strategy>",
        "stop a strategy's entries (its exits still flow)",
    ),
    ("resume <strategy>", "let a paused strategy enter again"),
    (
        "close <symbol> [qty]",
        "close a position (or qty units of it) at market",
    ),
    ("flatten", "close every open position at market"),
    (
        "halt",
        "kill switch: strategies trade nothing; stops, square-off and manual closes still do",
    ),
    (
        "reduce",
        "reduce-only: no new entries; strategies' exits still flow",
    ),
    ("activate", "trade normally again"),
    ("limits", "the risk limits in force"),
    (
        "set <limit> <value>",
        "change a risk limit (validated as the configuration is)",
    ),
    (
        "news <symbol> <sentiment>",
        "inject a news item (sentiment -1 to 1) for the strategies, at the current market time",
    ),
    ("latency", "per-stage latency percentiles"),
    (
        "metrics",
        "counters, gauges and latencies in Prometheus text format",
    ),
    (
        "subscribe pnl|fills|alerts [interval_ms]",
        "stream P&L snapshots, fills or alerts as lines",
    ),
    ("unsubscribe pnl|fills|alerts", "stop a stream"),
    ("quit", "close this connection"),
];

/// Why a line is not a command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError {
    /// `parse`, `unknown_command` or `usage`.
    pub code: &'static str,
    /// A sentence for the operator.
    pub message: String,
}

impl fmt::Display for ParseError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ParseError {}

fn usage(text: &str) -> ParseError {
    ParseError {
        code: "usage",
        message: format!("usage: {text}"),
    }
}

/// Parses one command line (without its newline).
///
/// # Errors
/// A [`ParseError`]: an empty or over-long line, a word that is no command, or
/// arguments that do not fit the command.
///
/// # Examples
/// ```
/// use tickpipe::control::{parse, Request};
/// assert_eq!(parse("close SBIN 150").unwrap(),
///            Request::Close { symbol: "SBIN".into(), qty: Some(150) });
/// assert_eq!(parse("pasue x").unwrap_err().code, "unknown_command");
/// ```
pub fn parse(line: &str) -> Result<Request, ParseError> {
    if line.len() > MAX_LINE {
        return Err(ParseError {
            code: "parse",
            message: format!("the line is longer than {MAX_LINE} bytes"),
        });
    }
    let mut words = line.split_ascii_whitespace();
    let Some(word) = words.next() else {
        return Err(ParseError {
            code: "parse",
            message: "empty line; try `help`".to_owned(),
        });
    };
    let args: Vec<&str> = words.collect();
    let none = |request: Request, text: &str| {
        if args.is_empty() {
            Ok(request)
        } else {
            Err(usage(text))
        }
    };
    let one = |text: &str| match args.as_slice() {
        [arg] => Ok((*arg).to_owned()),
        _ => Err(usage(text)),
    };
    match word.to_ascii_lowercase().as_str() {
        "auth" => one("auth <token>").map(Request::Auth),
        "help" => none(Request::Help, "help"),
        "status" => none(Request::Status, "status"),
        "positions" => none(Request::Positions, "positions"),
        "orders" => none(Request::Orders, "orders"),
        "pnl" => none(Request::Pnl, "pnl"),
        "strategies" => none(Request::Strategies, "strategies"),
        "pause" => one("pause <strategy>").map(Request::Pause),
        "resume" => one("resume <strategy>").map(Request::Resume),
        "close" => match args.as_slice() {
            [symbol] => Ok(Request::Close {
                symbol: (*symbol).to_owned(),
                qty: None,
            }),
            [symbol, qty] => match qty.parse::<u32>() {
                Ok(q) if q > 0 => Ok(Request::Close {
                    symbol: (*symbol).to_owned(),
                    qty: Some(q),
                }),
                _ => Err(ParseError {
                    code: "usage",
                    message: format!("`{qty}` is not a quantity; write a whole number above 0"),
                }),
            },
            _ => Err(usage("close <symbol> [qty]")),
        },
        "flatten" => none(Request::Flatten, "flatten"),
        "halt" => none(Request::Halt, "halt"),
        "reduce" => none(Request::Reduce, "reduce"),
        "activate" => none(Request::Activate, "activate"),
        "limits" => none(Request::Limits, "limits"),
        "set" => match args.as_slice() {
            [name, value] => Ok(Request::Set {
                name: (*name).to_owned(),
                value: (*value).to_owned(),
            }),
            _ => Err(usage("set <limit> <value>")),
        },
        "news" => match args.split_last() {
            Some((sentiment, symbol)) if !symbol.is_empty() => match sentiment.parse::<f64>() {
                Ok(s) if s.is_finite() && (-1.0..=1.0).contains(&s) => Ok(Request::News {
                    symbol: symbol.join(" "),
                    sentiment_milli: (s * 1000.0).round() as i16,
                }),
                _ => Err(ParseError {
                    code: "usage",
                    message: format!(
                        "`{sentiment}` is not a sentiment; write a number from -1 to 1"
                    ),
                }),
            },
            _ => Err(usage("news <symbol> <sentiment>")),
        },
        "latency" => none(Request::Latency, "latency"),
        "metrics" => none(Request::Metrics, "metrics"),
        "subscribe" => {
            let text = "subscribe pnl|fills|alerts [interval_ms]";
            let (stream, interval) = match args.as_slice() {
                [stream] => (Stream::parse(stream).ok_or_else(|| usage(text))?, None),
                [stream, ms] => (Stream::parse(stream).ok_or_else(|| usage(text))?, Some(ms)),
                _ => return Err(usage(text)),
            };
            let interval_ms = match (stream, interval) {
                (_, None) => DEFAULT_PNL_INTERVAL_MS,
                (Stream::Pnl, Some(ms)) => match ms.parse::<u64>() {
                    Ok(ms) if (MIN_PNL_INTERVAL_MS..=MAX_PNL_INTERVAL_MS).contains(&ms) => ms,
                    _ => {
                        return Err(ParseError {
                            code: "usage",
                            message: format!(
                                "`{ms}` is not an interval; write milliseconds from \
                                 {MIN_PNL_INTERVAL_MS} to {MAX_PNL_INTERVAL_MS}"
                            ),
                        })
                    }
                },
                (_, Some(_)) => {
                    return Err(ParseError {
                        code: "usage",
                        message: "only `subscribe pnl` takes an interval".to_owned(),
                    })
                }
            };
            Ok(Request::Subscribe {
                stream,
                interval_ms,
            })
        }
        "unsubscribe" => {
            let text = "unsubscribe pnl|fills|alerts";
            match args.as_slice() {
                [stream] => Stream::parse(stream)
                    .map(Request::Unsubscribe)
                    .ok_or_else(|| usage(text)),
                _ => Err(usage(text)),
            }
        }
        "quit" | "exit" => none(Request::Quit, "quit"),
        _ => Err(ParseError {
            code: "unknown_command",
            message: format!("`{}` is not a command; try `help`", truncate(word, 40)),
        }),
    }
}

/// At most `max` bytes of `text`, cut at a character boundary, for echoing input back.
pub(crate) fn truncate(text: &str, max: usize) -> &str {
    if text.len() <= max {
        return text;
    }
    let mut end = max;
    while !text.is_char_boundary(end) {
        end -= 1;
    }
    &text[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_help_entry_parses() {
        for (usage, _) in HELP {
            let line = usage
                .replace("<strategy>", "sma_cross")
                .replace("<symbol>", "SBIN")
                .replace(" [qty]", " 10")
                .replace("<limit> <value>", "capital 500000")
                .replace("<sentiment>", "-0.75")
                .replace("pnl|fills|alerts [interval_ms]", "pnl 250")
                .replace("pnl|fills|alerts", "fills");
            parse(&line).unwrap_or_else(|e| panic!("{line}: {e}"));
        }
    }

    #[test]
    fn words_and_arguments() {
        assert_eq!(parse("  STATUS \r").unwrap(), Request::Status);
        assert_eq!(
            parse("subscribe pnl").unwrap(),
            Request::Subscribe {
                stream: Stream::Pnl,
                interval_ms: DEFAULT_PNL_INTERVAL_MS
            }
        );
        assert_eq!(
            parse("set max_exposure_pct 55.5").unwrap(),
            Request::Set {
                name: "max_exposure_pct".into(),
                value: "55.5".into()
            }
        );
        assert_eq!(parse("close SBIN").unwrap().word(), "close");
        assert_eq!(
            parse("news NIFTY 50 0.8").unwrap(),
            Request::News {
                symbol: "NIFTY 50".into(),
                sentiment_milli: 800
            }
        );
        assert_eq!(
            parse("news SBIN -1").unwrap(),
            Request::News {
                symbol: "SBIN".into(),
                sentiment_milli: -1000
            }
        );
    }

    #[test]
    fn errors_say_what_is_wrong() {
        assert_eq!(parse("").unwrap_err().code, "parse");
        assert_eq!(parse("status now").unwrap_err().code, "usage");
        assert_eq!(parse("close SBIN 0").unwrap_err().code, "usage");
        assert_eq!(parse("close SBIN -5").unwrap_err().code, "usage");
        assert_eq!(parse("subscribe pnl 5").unwrap_err().code, "usage");
        assert_eq!(parse("subscribe fills 500").unwrap_err().code, "usage");
        assert_eq!(parse("subscribe news").unwrap_err().code, "usage");
        assert_eq!(parse("news 0.5").unwrap_err().code, "usage");
        assert_eq!(parse("news SBIN").unwrap_err().code, "usage");
        assert_eq!(parse("news SBIN 1.01").unwrap_err().code, "usage");
        assert_eq!(parse("news SBIN NaN").unwrap_err().code, "usage");
        assert_eq!(parse("frobnicate").unwrap_err().code, "unknown_command");
        assert_eq!(parse(&"x".repeat(MAX_LINE + 1)).unwrap_err().code, "parse");
    }

    #[test]
    fn truncation_keeps_characters_whole() {
        assert_eq!(truncate("₹₹", 4), "₹");
        assert_eq!(truncate("abc", 10), "abc");
    }
}

#[cfg(test)]
mod proptests {
    //! Invariants: `parse` never panics, on any text; it accepts only lines whose first
    //! word is a command; and everything it rejects carries one of its three codes.

    use proptest::prelude::*;

    use super::*;

    const WORDS: &[&str] = &[
        "status",
        "close",
        "set",
        "pause",
        "news",
        "subscribe",
        "halt",
        "auth",
        "SBIN",
        "pnl",
        "-1",
        "0",
        "99999999999",
        "max_exposure_pct",
        "15:00",
        "₹",
        "",
        "\t",
    ];

    proptest! {
        #[test]
        fn any_text_parses_or_is_refused_with_a_code(text in ".{0,1200}") {
            match parse(&text) {
                Ok(request) => {
                    let first = text.split_ascii_whitespace().next().unwrap().to_ascii_lowercase();
                    prop_assert!(first == request.word() || (first == "exit" && request == Request::Quit));
                }
                Err(e) => prop_assert!(["parse", "unknown_command", "usage"].contains(&e.code)),
            }
        }

        #[test]
        fn near_commands_never_panic(words in proptest::collection::vec(proptest::sample::select(WORDS), 0..6)) {
            let line = words.join(" ");
            if let Err(e) = parse(&line) {
                prop_assert!(!e.message.is_empty());
            }
        }
    }
}
