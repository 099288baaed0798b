//! The report replies (`status`, `positions`, `orders`, `pnl`, `strategies`, `limits`,
//! `latency`, `help`): a compact block or aligned tables.

use serde_json::Value;

use super::{count, items, market_time, money, nanos, text, Align, Table};

/// Width of the label column of block-style reports, as in the run summary.
const LABEL: usize = 10;

fn labelled(label: &str, value: &str) -> String {
    format!("{label:<LABEL$}{value}")
}

/// `+₹889.50 total = +₹1,200.00 realised + -₹310.50 unrealised`, and from an engine
/// that charges fills `; charges ₹112.40; net +₹777.10; equity ₹10,00,777.10`.
fn pnl_sentence(v: &Value) -> String {
    let gross = format!(
        "{} total = {} realised + {} unrealised",
        money(v, "total"),
        money(v, "realized"),
        money(v, "unrealized")
    );
    if v.get("charges").is_none() {
        return gross;
    }
    let mut out = format!(
        "{gross}; charges {}; net {}",
        rupees(v, "charges"),
        money(v, "net")
    );
    if v.get("equity").is_some_and(Value::is_string) {
        out.push_str(&format!("; equity {}", rupees(v, "equity")));
    }
    out
}

/// A money string as unsigned rupees (`₹112.40`); unparsable text as is.
fn rupees(v: &Value, key: &str) -> String {
    let raw = text(v, key);
    raw.parse().map_or(raw, crate::cli::format::rupees)
}

fn open_positions(v: &Value) -> String {
    match v.get("open_positions").and_then(Value::as_u64) {
        Some(1) => "1 open position".to_owned(),
        _ => format!("{} open positions", count(v, "open_positions")),
    }
}

/// `tick_to_intent` → `tick→intent`.
fn latency_name(name: &str) -> String {
    name.replace("_to_", "→")
}

/// The `status` reply as a block: mode, market time, trading state, P&L, flow, latency.
pub(super) fn status(v: &Value) -> String {
    let mut lines = vec![
        labelled(
            "engine",
            &format!(
                "{} (source {}), session {}",
                text(v, "mode"),
                text(v, "source"),
                text(v, "session")
            ),
        ),
        labelled("market", &market_time(v, "market_time")),
        labelled("trading", &text(v, "trading_state")),
        labelled(
            "P&L",
            &format!("{} · {}", pnl_sentence(v), open_positions(v)),
        ),
        labelled(
            "flow",
            &format!(
                "{} ticks → {} signals → {} orders → {} fills ({} rejected, {} working)",
                count(v, "ticks"),
                count(v, "signals"),
                count(v, "orders"),
                count(v, "fills"),
                count(v, "rejects"),
                count(v, "working_orders"),
            ),
        ),
    ];
    // Every object with percentiles is a latency; the engine may add more of them.
    let latencies: Vec<(String, &Value)> = v
        .as_object()
        .into_iter()
        .flatten()
        .filter(|(_, l)| l.get("p50_ns").is_some())
        .map(|(name, l)| (latency_name(name), l))
        .collect();
    let name_width = latencies
        .iter()
        .map(|(n, _)| n.chars().count())
        .max()
        .unwrap_or(0);
    for (i, (name, l)) in latencies.iter().enumerate() {
        let pad = name_width - name.chars().count();
        let value = format!(
            "{name}{} p50 {}, p99 {} (n={})",
            " ".repeat(pad),
            nanos(l, "p50_ns"),
            nanos(l, "p99_ns"),
            count(l, "count")
        );
        lines.push(labelled(if i == 0 { "latency" } else { "" }, &value));
    }
    lines.join("\n")
}

/// The `positions` reply as a table, one row per instrument with open units.
pub(super) fn positions(v: &Value) -> String {
    let rows = items(v, "positions");
    if rows.is_empty() {
        return "no open positions".to_owned();
    }
    let charged = rows.iter().any(|p| p.get("charges").is_some());
    let mut columns = vec![
        ("SYMBOL", Align::Left),
        ("STRATEGY", Align::Left),
        ("NET", Align::Right),
        ("AVG PRICE", Align::Right),
        ("MARK", Align::Right),
        ("STOP", Align::Right),
        ("UNREALISED", Align::Right),
        ("REALISED", Align::Right),
    ];
    if charged {
        columns.extend([("CHARGES", Align::Right), ("NET REALISED", Align::Right)]);
    }
    columns.push(("EXITS", Align::Left));
    let mut t = Table::new(&columns);
    for p in rows {
        let mut row = vec![
            text(p, "symbol"),
            text(p, "strategy"),
            signed(p, "net"),
            text(p, "avg_price"),
            text(p, "mark"),
            text(p, "stop"),
            money(p, "unrealized"),
            money(p, "realized"),
        ];
        if charged {
            row.extend([rupees(p, "charges"), money(p, "net_realized")]);
        }
        row.push(exits(p));
        t.push(row);
    }
    let n = rows.len();
    format!(
        "{}\n{n} open position{}",
        t.render(0),
        if n == 1 { "" } else { "s" }
    )
}

/// A position's exits in a few words: its target and whether it is booked, a trailing
/// stop, and an exit that keeps failing (`target 815.00 booked, trailing, EXIT FAILED ×5`).
fn exits(p: &Value) -> String {
    let mut parts = Vec::new();
    if let Some(target) = p.get("target").and_then(Value::as_str) {
        match p.get("partial").and_then(Value::as_str) {
            Some(state @ ("working" | "booked")) => parts.push(format!("target {target} {state}")),
            _ => parts.push(format!("target {target}")),
        }
    }
    if p.get("trailing").and_then(Value::as_bool) == Some(true) {
        parts.push("trailing".to_owned());
    }
    if p.get("exit_failed").and_then(Value::as_bool) == Some(true) {
        parts.push(format!("EXIT FAILED ×{}", count(p, "exit_attempts")));
    } else if p.get("exit_attempts").and_then(Value::as_u64).unwrap_or(0) > 0 {
        parts.push(format!(
            "exit retrying ({} failed)",
            count(p, "exit_attempts")
        ));
    }
    if parts.is_empty() {
        "-".to_owned()
    } else {
        parts.join(", ")
    }
}

/// A signed quantity: `+150` long, `-150` short.
fn signed(v: &Value, key: &str) -> String {
    match v.get(key).and_then(Value::as_i64) {
        Some(n) if n > 0 => format!("+{}", count(v, key)),
        _ => count(v, key),
    }
}

fn order_table(orders: &[Value]) -> String {
    let mut t = Table::new(&[
        ("ID", Align::Right),
        ("TIME", Align::Left),
        ("SYMBOL", Align::Left),
        ("STRATEGY", Align::Left),
        ("SIDE", Align::Left),
        ("QTY", Align::Right),
        ("FILLED", Align::Right),
        ("AVG PRICE", Align::Right),
        ("STATE", Align::Left),
        ("REASON", Align::Left),
    ]);
    for o in orders {
        t.push(vec![
            text(o, "id"),
            text(o, "time"),
            text(o, "symbol"),
            text(o, "strategy"),
            text(o, "side"),
            count(o, "qty"),
            count(o, "filled"),
            text(o, "avg_price"),
            text(o, "state"),
            text(o, "reason"),
        ]);
    }
    t.render(2)
}

/// The `orders` reply: working orders, the recent finished ones, and the counters.
pub(super) fn orders(v: &Value) -> String {
    let mut out = Vec::new();
    for (key, title) in [
        ("working", "working orders"),
        ("recent", "recent orders (newest first)"),
    ] {
        let list = items(v, key);
        if list.is_empty() {
            out.push(format!("{title}: none"));
        } else {
            out.push(format!("{title}:"));
            out.push(order_table(list));
        }
    }
    out.push(format!(
        "sent {} · fills {} · rejects {}",
        count(v, "sent"),
        count(v, "fills"),
        count(v, "rejects")
    ));
    out.join("\n")
}

fn strategy_money_table(rows: &[Value], name_key: &str, with_state: bool) -> String {
    let mut columns = vec![("STRATEGY", Align::Left)];
    if with_state {
        columns.extend([
            ("STATE", Align::Left),
            ("SIGNALS", Align::Right),
            ("ENTRIES", Align::Right),
            ("SUPPRESSED", Align::Right),
        ]);
    }
    columns.extend([
        ("REALISED", Align::Right),
        ("UNREALISED", Align::Right),
        ("TOTAL", Align::Right),
    ]);
    let charged = rows.iter().any(|s| s.get("charges").is_some());
    if charged {
        columns.extend([("CHARGES", Align::Right), ("NET", Align::Right)]);
    }
    columns.extend([("FILLS", Align::Right), ("ROUND TRIPS", Align::Right)]);
    let mut t = Table::new(&columns);
    for s in rows {
        let mut row = vec![text(s, name_key)];
        if with_state {
            row.extend([
                text(s, "state"),
                count(s, "signals"),
                count(s, "entries"),
                count(s, "suppressed"),
            ]);
        }
        row.extend([
            money(s, "realized"),
            money(s, "unrealized"),
            money(s, "total"),
        ]);
        if charged {
            row.extend([rupees(s, "charges"), money(s, "net")]);
        }
        row.extend([count(s, "fills"), count(s, "round_trips")]);
        t.push(row);
    }
    t.render(0)
}

/// The `pnl` reply: the totals as a sentence, then one row per strategy.
pub(super) fn pnl(v: &Value) -> String {
    let head = format!("P&L  {} · {}", pnl_sentence(v), open_positions(v));
    let rows = items(v, "strategies");
    if rows.is_empty() {
        return head;
    }
    format!("{head}\n{}", strategy_money_table(rows, "strategy", false))
}

/// The `strategies` reply: one row per strategy with its state and P&L.
pub(super) fn strategies(v: &Value) -> String {
    let rows = items(v, "strategies");
    if rows.is_empty() {
        return "no strategies configured".to_owned();
    }
    let table = strategy_money_table(rows, "name", true);
    let with_allocation: Vec<&Value> = rows
        .iter()
        .filter(|s| s.get("allocation").is_some_and(Value::is_object))
        .collect();
    if with_allocation.is_empty() {
        return table;
    }
    let mut t = Table::new(&[
        ("STRATEGY", Align::Left),
        ("ALLOCATION", Align::Left),
        ("WEIGHT", Align::Right),
        ("REVIEWS", Align::Right),
        ("ROLLING TRIPS", Align::Right),
        ("WON", Align::Right),
        ("ROLLING NET", Align::Right),
        ("SHADOWED", Align::Right),
        ("SHADOW TRIPS", Align::Right),
        ("SHADOW NET", Align::Right),
    ]);
    for s in with_allocation {
        let a = &s["allocation"];
        t.push(vec![
            text(s, "name"),
            text(a, "state"),
            format!("{}%", count(a, "weight_pct")),
            count(a, "reviews"),
            count(&a["rolling"], "round_trips"),
            count(&a["rolling"], "wins"),
            money(&a["rolling"], "net"),
            count(a, "shadowed"),
            count(&a["shadow_record"], "round_trips"),
            money(&a["shadow_record"], "net"),
        ]);
    }
    format!("{table}\n\n{}", t.render(0))
}

/// The `limits` reply: name, value and unit of every risk limit (rupees grouped).
pub(super) fn limits(v: &Value) -> String {
    let mut t = Table::new(&[
        ("LIMIT", Align::Left),
        ("VALUE", Align::Right),
        ("UNIT", Align::Left),
    ]);
    for l in items(v, "limits") {
        let raw = text(l, "value");
        let unit = text(l, "unit");
        let value = match (unit.as_str(), raw.parse::<crate::model::Money>()) {
            ("rupees", Ok(m)) => crate::cli::format::rupees(m),
            _ => raw,
        };
        t.push(vec![text(l, "name"), value, unit]);
    }
    t.render(0)
}

/// The `latency` reply: percentiles of every measured path, with units.
pub(super) fn latency(v: &Value) -> String {
    let mut t = Table::new(&[
        ("LATENCY", Align::Left),
        ("STAGE", Align::Left),
        ("COUNT", Align::Right),
        ("P50", Align::Right),
        ("P99", Align::Right),
        ("P99.9", Align::Right),
        ("MAX", Align::Right),
    ]);
    for l in items(v, "latencies") {
        t.push(vec![
            latency_name(&text(l, "name")),
            text(l, "stage"),
            count(l, "count"),
            nanos(l, "p50_ns"),
            nanos(l, "p99_ns"),
            nanos(l, "p999_ns"),
            nanos(l, "max_ns"),
        ]);
    }
    t.render(0)
}

/// The `help` reply: usage on the left, what it does on the right.
pub(super) fn help(v: &Value) -> String {
    let mut t = Table::new(&[("COMMAND", Align::Left), ("WHAT IT DOES", Align::Left)]);
    for c in items(v, "commands") {
        t.push(vec![text(c, "usage"), text(c, "about")]);
    }
    t.render(0)
}

#[cfg(test)]
mod tests {
    use serde_json::{json, Value};

    use super::super::reply;

    fn parse(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    #[test]
    fn status_is_a_compact_block() {
        let v = parse(
            r#"{"ok":true,"reply":"status","mode":"paper","source":"synthetic","market_time":"2026-11-25T10:31:02.250+05:30","session":"running","trading_state":"active","realized":"1200.00","unrealized":"-310.50","total":"889.50","open_positions":3,"ticks":412345,"signals":88,"orders":24,"fills":24,"rejects":0,"working_orders":0,"tick_to_intent":{"p50_ns":14000,"p99_ns":81200,"count":24},"tick_to_risk":{"p50_ns":175,"p99_ns":703,"count":412345}}"#,
        );
        let out = reply(&v);
        let expected = "\
engine    paper (source synthetic), session running
market    2026-11-25 10:31:02.250 IST
trading   active
P&L       +₹889.50 total = +₹1,200.00 realised + -₹310.50 unrealised · 3 open positions
flow      412,345 ticks → 88 signals → 24 orders → 24 fills (0 rejected, 0 working)
latency   tick→intent p50 14.0 µs, p99 81.2 µs (n=24)
          tick→risk   p50 175 ns, p99 703 ns (n=412,345)";
        assert_eq!(out, expected);
    }

    #[test]
    fn strategies_with_allocation_add_a_table_of_weights_and_records() {
        let v = parse(
            r#"{"ok":true,"reply":"strategies","strategies":[{"name":"momentum_surfer","state":"shadow","signals":88,"entries":45,"suppressed":0,"realized":"-1834.20","unrealized":"0.00","total":"-1834.20","fills":14,"round_trips":7,"allocation":{"state":"shadow","weight_pct":25,"reviews":12,"shadowed":9,"rolling":{"round_trips":7,"wins":1,"net":"-1834.20","profit_factor":0.21},"shadow_record":{"round_trips":3,"net":"412.00"}}}]}"#,
        );
        let out = reply(&v);
        let allocation = out.split("\n\n").nth(1).expect("a second table");
        assert!(
            allocation.starts_with("STRATEGY         ALLOCATION  WEIGHT"),
            "{out}"
        );
        assert!(
            allocation.contains("momentum_surfer  shadow         25%"),
            "{out}"
        );
        assert!(allocation.contains("-₹1,834.20"), "{out}");
        assert!(allocation.contains("+₹412.00"), "{out}");
        let plain =
            json!({"ok":true,"reply":"strategies","strategies":[{"name":"a","state":"running"}]});
        assert!(!reply(&plain).contains("ALLOCATION"));
    }

    #[test]
    fn positions_are_an_aligned_table() {
        let v = parse(
            r#"{"ok":true,"reply":"positions","positions":[{"symbol":"SBIN","strategy":"sma_cross","net":150,"avg_price":"812.35","mark":"815.00","stop":"812.35","unrealized":"397.50","realized":"0.00","target":"814.00","partial":"booked","trailing":true,"exit_attempts":0,"exit_failed":false},{"symbol":"INFY","strategy":null,"net":-20,"avg_price":"1500.10","mark":"1510.00","stop":null,"unrealized":"-198.00","realized":"12.05","target":null,"partial":"open","trailing":false,"exit_attempts":5,"exit_failed":true}]}"#,
        );
        let expected = "\
SYMBOL  STRATEGY    NET  AVG PRICE     MARK    STOP  UNREALISED  REALISED  EXITS
SBIN    sma_cross  +150     812.35   815.00  812.35    +₹397.50    +₹0.00  target 814.00 booked, trailing
INFY    -           -20    1500.10  1510.00       -    -₹198.00   +₹12.05  EXIT FAILED ×5
2 open positions";
        assert_eq!(reply(&v), expected);
        let none = json!({"ok":true,"reply":"positions","positions":[]});
        assert_eq!(reply(&none), "no open positions");
    }

    #[test]
    fn orders_show_working_recent_and_counters() {
        let v = parse(
            r#"{"ok":true,"reply":"orders","working":[],"recent":[{"id":17,"symbol":"SBIN","strategy":"sma_cross","side":"buy","qty":150,"filled":150,"avg_price":"812.35","state":"filled","reason":"entry","time":"10:31:02"}],"sent":24,"fills":24,"rejects":0}"#,
        );
        let out = reply(&v);
        assert!(out.starts_with("working orders: none\nrecent orders (newest first):\n"));
        assert!(
            out.contains(
                "  17  10:31:02  SBIN    sma_cross  buy   150     150     812.35  filled  entry"
            ),
            "{out}"
        );
        assert!(out.ends_with("sent 24 · fills 24 · rejects 0"), "{out}");
    }

    #[test]
    fn pnl_and_strategies_show_money_with_signs() {
        let pnl = parse(
            r#"{"ok":true,"reply":"pnl","realized":"1200.00","unrealized":"-310.50","total":"889.50","open_positions":1,"strategies":[{"strategy":"sma_cross","realized":"1200.00","unrealized":"-310.50","total":"889.50","fills":24,"round_trips":11}]}"#,
        );
        let out = reply(&pnl);
        assert!(out.starts_with("P&L  +₹889.50 total = +₹1,200.00 realised + -₹310.50 unrealised · 1 open position\n"), "{out}");
        assert!(
            out.contains("sma_cross  +₹1,200.00    -₹310.50  +₹889.50     24           11"),
            "{out}"
        );

        let strategies = parse(
            r#"{"ok":true,"reply":"strategies","strategies":[{"name":"sma_cross","state":"running","signals":88,"entries":45,"suppressed":0,"realized":"1200.00","unrealized":"-310.50","total":"889.50","fills":24,"round_trips":11}]}"#,
        );
        let out = reply(&strategies);
        assert!(
            out.starts_with("STRATEGY   STATE    SIGNALS  ENTRIES  SUPPRESSED"),
            "{out}"
        );
        assert!(
            out.contains("sma_cross  running       88       45           0  +₹1,200.00"),
            "{out}"
        );
    }

    #[test]
    fn charges_and_net_show_when_the_engine_sends_them() {
        let pnl = parse(
            r#"{"ok":true,"reply":"pnl","realized":"1200.00","unrealized":"-310.50","total":"889.50","charges":"112.40","net_realized":"1087.60","net":"777.10","equity":"1000777.10","open_positions":1,"strategies":[{"strategy":"sma_cross","realized":"1200.00","unrealized":"-310.50","total":"889.50","charges":"112.40","net_realized":"1087.60","net":"777.10","fills":24,"round_trips":11}]}"#,
        );
        let out = reply(&pnl);
        assert!(
            out.starts_with("P&L  +₹889.50 total = +₹1,200.00 realised + -₹310.50 unrealised; charges ₹112.40; net +₹777.10; equity ₹10,00,777.10 · 1 open position\n"),
            "{out}"
        );
        assert!(out.contains("CHARGES       NET  FILLS"), "{out}");
        assert!(
            out.contains("+₹889.50  ₹112.40  +₹777.10     24           11"),
            "{out}"
        );
        let positions = parse(
            r#"{"ok":true,"reply":"positions","positions":[{"symbol":"SBIN","strategy":"sma_cross","net":150,"avg_price":"812.35","mark":"815.00","stop":"804.25","unrealized":"397.50","realized":"0.00","charges":"20.66","net_realized":"-20.66"}]}"#,
        );
        let out = reply(&positions);
        assert!(out.contains("REALISED  CHARGES  NET REALISED"), "{out}");
        assert!(out.contains("+₹0.00   ₹20.66       -₹20.66"), "{out}");
    }

    #[test]
    fn limits_group_rupees_and_keep_other_units() {
        let v = parse(
            r#"{"ok":true,"reply":"limits","limits":[{"name":"capital","value":"1000000","unit":"rupees"},{"name":"max_exposure_pct","value":"70","unit":"percent"},{"name":"last_entry","value":"15:00","unit":"IST"}]}"#,
        );
        let expected = "\
LIMIT                     VALUE  UNIT
capital           ₹10,00,000.00  rupees
max_exposure_pct             70  percent
last_entry                15:00  IST";
        assert_eq!(reply(&v), expected);
    }

    #[test]
    fn latency_prints_units() {
        let v = parse(
            r#"{"ok":true,"reply":"latency","latencies":[{"name":"tick_to_intent","stage":"order","count":24,"p50_ns":14000,"p99_ns":81200,"p999_ns":99000,"max_ns":99000},{"name":"service","stage":"feed","count":127428,"p50_ns":259,"p99_ns":515,"p999_ns":738,"max_ns":107700}]}"#,
        );
        let expected = "\
LATENCY      STAGE    COUNT      P50      P99    P99.9       MAX
tick→intent  order       24  14.0 µs  81.2 µs  99.0 µs   99.0 µs
service      feed   127,428   259 ns   515 ns   738 ns  107.7 µs";
        assert_eq!(reply(&v), expected);
    }

    #[test]
    fn help_is_two_columns() {
        let v = json!({"ok":true,"reply":"help","commands":[
            {"usage":"status","about":"engine mode and P&L"},
            {"usage":"close <symbol> [qty]","about":"close a position"}]});
        let expected = "\
COMMAND               WHAT IT DOES
status                engine mode and P&L
close <symbol> [qty]  close a position";
        assert_eq!(reply(&v), expected);
    }
}
