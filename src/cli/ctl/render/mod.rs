//! Human rendering of the engine's replies and stream events: pure functions from the
//! JSON of `src/control/PROTOCOL.md` to text, so every shape is unit-tested without a
//! server.
//!
//! [`reply`] renders any ok reply (reports as aligned tables, acknowledgements as one
//! sentence, unknown kinds as pretty JSON), [`error`] an error reply, [`event`] a stream
//! event as one line. Fields a reply lacks print as `-` rather than failing: a newer
//! server may drop or add fields, and the operator still needs to see the rest.

mod acks;
mod events;
mod reports;
mod table;

use serde_json::Value;

pub use events::event;
pub use table::{Align, Table};

use crate::{cli::format, model::Money};

/// Renders an ok reply for a person, dispatching on its `"reply"` kind.
pub fn reply(reply: &Value) -> String {
    let kind = reply.get("reply").and_then(Value::as_str).unwrap_or("");
    match kind {
        "status" => reports::status(reply),
        "positions" => reports::positions(reply),
        "orders" => reports::orders(reply),
        "pnl" => reports::pnl(reply),
        "strategies" => reports::strategies(reply),
        "limits" => reports::limits(reply),
        "latency" => reports::latency(reply),
        "help" => reports::help(reply),
        "metrics" => text(reply, "text").trim_end_matches('\n').to_owned(),
        _ => acks::ack(kind, reply).unwrap_or_else(|| pretty(reply)),
    }
}

/// Renders an error reply as `<code>: <message>`.
pub fn error(reply: &Value) -> String {
    format!("{}: {}", text(reply, "error"), text(reply, "message"))
}

/// True when `reply` is an ok reply (`"ok": true`).
pub fn is_ok(reply: &Value) -> bool {
    reply.get("ok") == Some(&Value::Bool(true))
}

/// The JSON, indented: the fallback for reply kinds this client does not know.
fn pretty(value: &Value) -> String {
    serde_json::to_string_pretty(value).unwrap_or_else(|_| value.to_string())
}

/// A field as text: strings as they are, numbers and booleans printed, absent or
/// `null` as `-`.
pub(crate) fn text(v: &Value, key: &str) -> String {
    match v.get(key) {
        None | Some(Value::Null) => "-".to_owned(),
        Some(Value::String(s)) => s.clone(),
        Some(other) => other.to_string(),
    }
}

/// An integer count with separators (`412,345`); signed values keep their sign.
pub(crate) fn count(v: &Value, key: &str) -> String {
    match v.get(key) {
        Some(Value::Number(n)) => match (n.as_u64(), n.as_i64()) {
            (Some(u), _) => format::count(u),
            (None, Some(i)) => format!("-{}", format::count(i.unsigned_abs())),
            _ => n.to_string(),
        },
        _ => text(v, key),
    }
}

/// A money string as signed rupees (`+₹1,200.00`, `-₹310.50`); unparsable text as is.
pub(crate) fn money(v: &Value, key: &str) -> String {
    let raw = text(v, key);
    match raw.parse::<Money>() {
        Ok(m) => format::pnl(m),
        Err(_) => raw,
    }
}

/// A latency field in integer nanoseconds, with a unit (`14.0 µs`, `175 ns`).
pub(crate) fn nanos(v: &Value, key: &str) -> String {
    match v.get(key).and_then(Value::as_u64) {
        Some(n) => crate::metrics::format_nanos(n),
        None => text(v, key),
    }
}

/// `2026-11-25T10:31:02.250+05:30` as `2026-11-25 10:31:02.250 IST`; other text as is.
pub(crate) fn market_time(v: &Value, key: &str) -> String {
    let raw = text(v, key);
    match raw.strip_suffix("+05:30").and_then(|t| t.split_once('T')) {
        Some((date, time)) => format!("{date} {time} IST"),
        None => raw,
    }
}

/// The time of day of a `market_time` (`10:31:02.250`), for one-line events.
pub(crate) fn time_of_day(v: &Value, key: &str) -> String {
    let raw = text(v, key);
    match raw.strip_suffix("+05:30").and_then(|t| t.split_once('T')) {
        Some((_, time)) => time.to_owned(),
        None => raw,
    }
}

/// The items of an array field (empty when absent).
pub(crate) fn items<'a>(v: &'a Value, key: &str) -> &'a [Value] {
    v.get(key)
        .and_then(Value::as_array)
        .map_or(&[], Vec::as_slice)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn fields_print_with_units_and_signs() {
        let v = json!({"m":"-310.50","p":"1200.00","n":412345,"neg":-150,"t":14000,"null":null});
        assert_eq!(money(&v, "m"), "-₹310.50");
        assert_eq!(money(&v, "p"), "+₹1,200.00");
        assert_eq!(count(&v, "n"), "412,345");
        assert_eq!(count(&v, "neg"), "-150");
        assert_eq!(nanos(&v, "t"), "14.0 µs");
        assert_eq!(text(&v, "null"), "-");
        assert_eq!(text(&v, "absent"), "-");
        assert_eq!(money(&v, "absent"), "-");
    }

    #[test]
    fn market_time_reads_as_ist() {
        let v = json!({"market_time":"2026-11-25T10:31:02.250+05:30"});
        assert_eq!(
            market_time(&v, "market_time"),
            "2026-11-25 10:31:02.250 IST"
        );
        assert_eq!(time_of_day(&v, "market_time"), "10:31:02.250");
        let odd = json!({"market_time":"soon"});
        assert_eq!(market_time(&odd, "market_time"), "soon");
    }

    #[test]
    fn errors_read_code_then_message() {
        let v = json!({"ok":false,"error":"unknown_strategy","message":"no strategy `x`"});
        assert_eq!(error(&v), "unknown_strategy: no strategy `x`");
        assert!(!is_ok(&v));
    }

    #[test]
    fn metrics_print_the_text_raw() {
        let v = json!({"ok":true,"reply":"metrics","text":"# HELP a b\na 1\n"});
        assert_eq!(reply(&v), "# HELP a b\na 1");
    }

    #[test]
    fn unknown_kinds_fall_back_to_pretty_json() {
        let v = json!({"ok":true,"reply":"future","x":1});
        let out = reply(&v);
        assert!(out.contains("\"reply\": \"future\""), "{out}");
        assert!(out.contains('\n'), "{out}");
    }
}
