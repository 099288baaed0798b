//! The control protocol: command lines as a client sends them, parsed and resolved.

use std::sync::OnceLock;

use crate::{
    control::{
        parse, Catalog, ParseError, Request, Stream, MAX_LINE, MAX_PNL_INTERVAL_MS,
        MIN_PNL_INTERVAL_MS,
    },
    model::{ControlCommand, Instrument, InstrumentTable, SectorId},
    risk::RiskConfig,
    signal::catalogue_names,
};

/// The error codes `parse` may give (PROTOCOL.md).
const PARSE_CODES: [&str; 3] = ["parse", "unknown_command", "usage"];
/// The error codes `Catalog::resolve` may give (PROTOCOL.md).
const RESOLVE_CODES: [&str; 4] = ["usage", "unknown_strategy", "unknown_symbol", "bad_value"];

/// Bytes read from a control connection, split into lines as the server splits them
/// (at `\n`, one `\r` dropped; a line that is not UTF-8 is refused before parsing), each
/// parsed and, when it parses, resolved against a small engine's names and the default
/// risk limits.
///
/// Checks, besides not panicking:
/// - a refused line carries one of `parse`'s three codes and a message;
/// - an accepted line is at most [`MAX_LINE`] bytes, its first word is the request's
///   command word, and its arguments are in their documented ranges;
/// - resolving gives a command or one of the documented codes with a message;
/// - a `set` that resolves shows its value as text that reads back as the same value
///   (what `limits` prints, an operator can type back).
pub fn control_command(data: &[u8]) {
    for raw in data.split(|&b| b == b'\n') {
        let raw = raw.strip_suffix(b"\r").unwrap_or(raw);
        if let Ok(line) = std::str::from_utf8(raw) {
            line_body(line);
        }
    }
}

fn line_body(line: &str) {
    let request = match parse(line) {
        Ok(request) => request,
        Err(ParseError { code, message }) => {
            assert!(PARSE_CODES.contains(&code), "undocumented code {code}");
            assert!(!message.is_empty(), "an empty message for {code}");
            return;
        }
    };
    assert!(
        line.len() <= MAX_LINE,
        "accepted a {}-byte line",
        line.len()
    );
    let first = line
        .split_ascii_whitespace()
        .next()
        .map(str::to_ascii_lowercase)
        .unwrap_or_else(|| panic!("accepted a line with no word: {line:?}"));
    assert!(
        first == request.word() || (first == "exit" && request == Request::Quit),
        "`{first}` parsed as {request:?}"
    );
    match &request {
        Request::Close { qty: Some(0), .. } => panic!("accepted a close of 0"),
        Request::News {
            sentiment_milli, ..
        } => assert!(
            (-1000..=1000).contains(sentiment_milli),
            "sentiment {sentiment_milli}"
        ),
        Request::Subscribe {
            stream: Stream::Pnl,
            interval_ms,
        } => assert!(
            (MIN_PNL_INTERVAL_MS..=MAX_PNL_INTERVAL_MS).contains(interval_ms),
            "interval {interval_ms}"
        ),
        _ => {}
    }
    let (catalog, limits) = engine();
    match catalog.resolve(&request, limits) {
        Ok(ControlCommand::SetLimit { key, value }) => {
            let shown = RiskConfig::format_limit(key, value);
            assert_eq!(
                RiskConfig::parse_limit(key, &shown),
                Ok(value),
                "{key:?} shown as `{shown}`"
            );
        }
        Ok(command) => assert!(request.changes_state(), "{request:?} became {command:?}"),
        Err(e) => {
            assert!(
                RESOLVE_CODES.contains(&e.code),
                "undocumented code {}",
                e.code
            );
            assert!(!e.message.is_empty(), "an empty message for {}", e.code);
        }
    }
}

/// A small engine's names (symbols with and without a space, every strategy) and the
/// default limits, made once: resolving reads them only.
fn engine() -> &'static (Catalog, RiskConfig) {
    static ENGINE: OnceLock<(Catalog, RiskConfig)> = OnceLock::new();
    ENGINE.get_or_init(|| {
        let mut table = InstrumentTable::new();
        for symbol in ["SBIN", "RELIANCE", "NIFTY 50"] {
            table
                .push(Instrument::nse_equity(symbol, SectorId(0)))
                .unwrap_or_else(|s| panic!("{s} pushed twice"));
        }
        (
            Catalog::new(&table, &catalogue_names()),
            RiskConfig::default(),
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lines_as_the_server_splits_them() {
        control_command(
            b"status\r\nclose sbin 10\nnews NIFTY 50 -0.5\n\xff\xfe\nset capital 500000",
        );
        control_command(b"set square_off 15:10\nset last_entry 25:00\nset max_exposure_pct 0.001");
        control_command(b"");
    }
}
