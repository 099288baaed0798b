//! Stream events (`pnl`, `fill`, `alert`, `end`) as one line each, led by market time.

use serde_json::Value;

use super::{count, money, text, time_of_day};

/// One line for a stream event; unknown event kinds print as compact JSON.
pub fn event(v: &Value) -> String {
    let at = time_of_day(v, "market_time");
    match v.get("event").and_then(Value::as_str).unwrap_or("") {
        "pnl" => format!(
            "{at}  pnl    {} (realised {}, unrealised {}) · {} open · {}",
            money(v, "total"),
            money(v, "realized"),
            money(v, "unrealized"),
            count(v, "open_positions"),
            text(v, "trading_state")
        ),
        "fill" => format!(
            "{at}  fill   {} {} {} @ {} ({}, {}, order {})",
            text(v, "side"),
            count(v, "qty"),
            text(v, "symbol"),
            text(v, "price"),
            text(v, "strategy"),
            text(v, "reason"),
            text(v, "order")
        ),
        "alert" => format!(
            "{at}  alert  {} {}/{}: {}",
            text(v, "level").to_uppercase(),
            text(v, "source"),
            text(v, "kind"),
            text(v, "message")
        ),
        "end" => format!("stream ended: {}", text(v, "reason")),
        _ => v.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn each_event_is_one_line() {
        let pnl = json!({"event":"pnl","market_time":"2026-11-25T10:31:02.250+05:30","realized":"1200.00","unrealized":"-310.50","total":"889.50","open_positions":3,"trading_state":"active"});
        assert_eq!(
            event(&pnl),
            "10:31:02.250  pnl    +₹889.50 (realised +₹1,200.00, unrealised -₹310.50) · 3 open · active"
        );
        let fill = json!({"event":"fill","market_time":"2026-11-25T10:31:05.000+05:30","symbol":"SBIN","strategy":"sma_cross","side":"sell","qty":150,"price":"815.00","reason":"manual","order":57});
        assert_eq!(
            event(&fill),
            "10:31:05.000  fill   sell 150 SBIN @ 815.00 (sma_cross, manual, order 57)"
        );
        let alert = json!({"event":"alert","market_time":"2026-11-25T10:32:00.000+05:30","level":"warning","source":"risk","kind":"trading_state","message":"trading halted by operator"});
        assert_eq!(
            event(&alert),
            "10:32:00.000  alert  WARNING risk/trading_state: trading halted by operator"
        );
        let end = json!({"event":"end","reason":"session over"});
        assert_eq!(event(&end), "stream ended: session over");
    }
}
