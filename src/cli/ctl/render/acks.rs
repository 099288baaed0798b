//! Acknowledgements of commands that change something (`pause`, `close`, `halt`, `set`,
//! `subscribe`, ...): one sentence that says what the engine did.

use serde_json::Value;

use super::{count, items, text};

/// The sentence for an acknowledgement, or `None` when `kind` is not one.
pub(super) fn ack(kind: &str, v: &Value) -> Option<String> {
    let changed = v.get("changed").and_then(Value::as_bool).unwrap_or(true);
    let sentence =
        match kind {
            "pause" | "resume" => {
                let state = text(v, "state");
                if changed {
                    format!("strategy {} is now {state}", text(v, "strategy"))
                } else {
                    format!("strategy {} was already {state}", text(v, "strategy"))
                }
            }
            "close" => format!(
                "sent order {} to {} {} {} (closing); the fill shows in `positions` and on \
             `subscribe fills`",
                text(v, "order"),
                text(v, "side"),
                count(v, "qty"),
                text(v, "symbol"),
            ),
            "flatten" => flatten(v),
            "halt" | "reduce" | "activate" => {
                let (now, before) = (text(v, "trading_state"), text(v, "previous"));
                if now == before {
                    format!("trading state stays {now}")
                } else {
                    format!("trading state is now {now} (was {before})")
                }
            }
            "set" => format!(
                "limit {} set to {} (was {})",
                text(v, "name"),
                text(v, "value"),
                text(v, "previous")
            ),
            "subscribe" => match v.get("interval_ms") {
                Some(_) => format!(
                    "subscribed to {} every {} ms",
                    text(v, "stream"),
                    count(v, "interval_ms")
                ),
                None => format!("subscribed to {}", text(v, "stream")),
            },
            "unsubscribe" => format!("unsubscribed from {}", text(v, "stream")),
            "news" => format!(
            "news on {} with sentiment {:+.3} handed to the strategies at the current market time",
            text(v, "symbol"),
            v.get("sentiment").and_then(Value::as_f64).unwrap_or_default(),
        ),
            "quit" => "the engine closes this connection".to_owned(),
            "auth" => "authenticated".to_owned(),
            _ => return None,
        };
    Some(sentence)
}

/// `flatten`: which closing orders went out, and which positions wait for an order in
/// flight.
fn flatten(v: &Value) -> String {
    let orders: Vec<String> = items(v, "orders")
        .iter()
        .map(|o| {
            format!(
                "{} {} {} (order {})",
                text(o, "side"),
                count(o, "qty"),
                text(o, "symbol"),
                text(o, "order")
            )
        })
        .collect();
    let deferred: Vec<String> = items(v, "deferred")
        .iter()
        .map(|s| s.as_str().map_or_else(|| s.to_string(), str::to_owned))
        .collect();
    let mut sentence = match orders.len() {
        0 if deferred.is_empty() => "flatten: no open positions, nothing sent".to_owned(),
        0 => "flatten sent no order".to_owned(),
        1 => format!("flatten sent 1 closing order: {}", orders[0]),
        n => format!("flatten sent {n} closing orders: {}", orders.join(", ")),
    };
    if !deferred.is_empty() {
        sentence.push_str(&format!(
            "; deferred until their order in flight is answered: {}",
            deferred.join(", ")
        ));
    }
    sentence
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::super::reply;

    #[test]
    fn strategy_acks_say_the_new_state() {
        let v = json!({"ok":true,"reply":"pause","strategy":"sma_cross","state":"paused","changed":true});
        assert_eq!(reply(&v), "strategy sma_cross is now paused");
        let v = json!({"ok":true,"reply":"resume","strategy":"sma_cross","state":"running","changed":false});
        assert_eq!(reply(&v), "strategy sma_cross was already running");
    }

    #[test]
    fn close_and_flatten_name_the_orders() {
        let v =
            json!({"ok":true,"reply":"close","symbol":"SBIN","side":"sell","qty":150,"order":57});
        assert!(reply(&v).starts_with("sent order 57 to sell 150 SBIN (closing)"));
        let v = json!({"ok":true,"reply":"flatten","orders":[{"symbol":"SBIN","side":"sell","qty":150,"order":57}],"deferred":["INFY"]});
        assert_eq!(
            reply(&v),
            "flatten sent 1 closing order: sell 150 SBIN (order 57); deferred until their \
             order in flight is answered: INFY"
        );
        let v = json!({"ok":true,"reply":"flatten","orders":[],"deferred":[]});
        assert_eq!(reply(&v), "flatten: no open positions, nothing sent");
    }

    #[test]
    fn trading_state_and_limit_acks() {
        let v = json!({"ok":true,"reply":"halt","trading_state":"halted","previous":"active"});
        assert_eq!(reply(&v), "trading state is now halted (was active)");
        let v = json!({"ok":true,"reply":"activate","trading_state":"active","previous":"active"});
        assert_eq!(reply(&v), "trading state stays active");
        let v =
            json!({"ok":true,"reply":"set","name":"max_exposure_pct","value":"50","previous":"70"});
        assert_eq!(reply(&v), "limit max_exposure_pct set to 50 (was 70)");
    }

    #[test]
    fn stream_acks() {
        let v = json!({"ok":true,"reply":"subscribe","stream":"pnl","interval_ms":1000});
        assert_eq!(reply(&v), "subscribed to pnl every 1,000 ms");
        let v = json!({"ok":true,"reply":"subscribe","stream":"fills"});
        assert_eq!(reply(&v), "subscribed to fills");
        let v = json!({"ok":true,"reply":"unsubscribe","stream":"pnl"});
        assert_eq!(reply(&v), "unsubscribed from pnl");
        let v = json!({"ok":true,"reply":"quit"});
        assert_eq!(reply(&v), "the engine closes this connection");
    }
}
