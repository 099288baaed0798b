//! What `tickpipe ctl top` shows, kept apart from drawing: [`TopState`] is updated from
//! the engine's reply and event JSON and from keys, and the view only reads it. Values
//! are kept as display text made by the same helpers as `tickpipe ctl` (signed rupees,
//! grouped counts, latencies with units).

use std::collections::VecDeque;

use serde_json::Value;

use crate::cli::ctl::render::{self, count, items, market_time, money, nanos, text, time_of_day};

/// How many fills and alerts the dashboard keeps.
pub const RECENT_EVENTS: usize = 10;

/// The header: engine mode, market time, trading state, P&L.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Header {
    /// `paper`, `live`, ...
    pub mode: String,
    /// `synthetic`, `replay`, ...
    pub source: String,
    /// `running` or `ended`.
    pub session: String,
    /// Market time, `2026-11-25 10:31:02.250 IST`.
    pub market_time: String,
    /// `active`, `reducing` or `halted`.
    pub trading_state: String,
    /// Signed rupees.
    pub total: String,
    /// Signed rupees.
    pub realized: String,
    /// Signed rupees.
    pub unrealized: String,
    /// Charges paid on every fill, signed rupees (`-` from an engine without them).
    pub charges: String,
    /// Total less charges, signed rupees (`-` from an engine without them).
    pub net: String,
    /// Count of instruments with open units.
    pub open_positions: String,
    /// Ticks read by the feed.
    pub ticks: String,
    /// Fills so far.
    pub fills: String,
}

impl Default for Header {
    fn default() -> Header {
        let dash = || "-".to_owned();
        Header {
            mode: dash(),
            source: dash(),
            session: dash(),
            market_time: dash(),
            trading_state: dash(),
            total: dash(),
            realized: dash(),
            unrealized: dash(),
            charges: dash(),
            net: dash(),
            open_positions: dash(),
            ticks: dash(),
            fills: dash(),
        }
    }
}

/// One open position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PositionRow {
    /// Instrument symbol; `close` takes it.
    pub symbol: String,
    /// Owning strategy or `-`.
    pub strategy: String,
    /// Signed units (negative = short).
    pub net: i64,
    /// Average entry price.
    pub avg_price: String,
    /// Last mark price.
    pub mark: String,
    /// Protective stop or `-`.
    pub stop: String,
    /// Signed rupees.
    pub unrealized: String,
}

/// One order, working or finished.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OrderRow {
    /// Engine order id.
    pub id: String,
    /// `HH:MM:SS` IST.
    pub time: String,
    /// Instrument symbol.
    pub symbol: String,
    /// `buy` or `sell`.
    pub side: String,
    /// Ordered quantity.
    pub qty: String,
    /// Filled quantity.
    pub filled: String,
    /// Average fill price or `-`.
    pub avg_price: String,
    /// Order state (`filled`, `rejected`, ...).
    pub state: String,
    /// Why it was sent (`entry`, `stop_loss`, ...).
    pub reason: String,
}

/// One strategy.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StrategyRow {
    /// Name, as `pause` and `resume` take it.
    pub name: String,
    /// `running` or `paused`.
    pub state: String,
    /// Signals emitted.
    pub signals: String,
    /// Signed rupees.
    pub total: String,
    /// Fills.
    pub fills: String,
}

/// Percentiles of one measured path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LatencyRow {
    /// `tick→intent`, `service`, ...
    pub name: String,
    /// The stage it belongs to.
    pub stage: String,
    /// Median, with unit.
    pub p50: String,
    /// 99th percentile, with unit.
    pub p99: String,
    /// Largest sample, with unit.
    pub max: String,
}

/// A fill or an alert, as one line for the event panels.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventRow {
    /// Market time of day.
    pub time: String,
    /// `info`, `warning`, `critical` for alerts; the side for fills.
    pub level: String,
    /// The rest of the line.
    pub text: String,
}

/// How the status bar colours its message.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Tone {
    /// Neutral information.
    Info,
    /// An ok reply to an operator command.
    Ok,
    /// An error reply, or the engine gone.
    Error,
}

/// A state-changing command waiting for the operator's y/n.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Confirm {
    /// What the modal line asks.
    pub question: String,
    /// The command line sent on `y`.
    pub command: String,
}

/// Everything the dashboard shows, and the operator's selections.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopState {
    /// How the engine is named in messages.
    pub endpoint: String,
    /// Header values.
    pub header: Header,
    /// Open positions.
    pub positions: Vec<PositionRow>,
    /// Working orders.
    pub working: Vec<OrderRow>,
    /// Recently finished orders, newest first.
    pub recent: Vec<OrderRow>,
    /// Strategies.
    pub strategies: Vec<StrategyRow>,
    /// Latency percentiles.
    pub latencies: Vec<LatencyRow>,
    /// Last fills, newest first.
    pub fills: VecDeque<EventRow>,
    /// Last alerts, newest first.
    pub alerts: VecDeque<EventRow>,
    /// Index into `positions` of the one `c` closes.
    pub selected_position: usize,
    /// Index into `strategies` of the one `p`/`r` act on.
    pub selected_strategy: usize,
    /// The y/n question on screen, if any.
    pub confirm: Option<Confirm>,
    /// The status bar message.
    pub status: Option<(Tone, String)>,
    /// Set when the engine ended the session or the connection dropped.
    pub gone: Option<String>,
    /// Commands sent whose replies have not come back, oldest first: replies come in
    /// order, and an error reply names no command, so this says what it answers.
    awaiting: VecDeque<String>,
}

impl TopState {
    /// An empty dashboard for the engine named `endpoint`.
    pub fn new(endpoint: String) -> TopState {
        TopState {
            endpoint,
            header: Header::default(),
            positions: Vec::new(),
            working: Vec::new(),
            recent: Vec::new(),
            strategies: Vec::new(),
            latencies: Vec::new(),
            fills: VecDeque::new(),
            alerts: VecDeque::new(),
            selected_position: 0,
            selected_strategy: 0,
            confirm: None,
            status: None,
            gone: None,
            awaiting: VecDeque::new(),
        }
    }

    /// Notes that `command` was sent, so its reply can be matched to it.
    pub fn sent(&mut self, command: &str) {
        self.awaiting.push_back(command.to_owned());
    }

    /// Commands sent and not yet answered.
    pub fn outstanding(&self) -> usize {
        self.awaiting.len()
    }

    /// True while the engine is connected.
    pub fn is_live(&self) -> bool {
        self.gone.is_none()
    }

    /// Records that the connection ended, and why.
    pub fn lost(&mut self, why: String) {
        if self.gone.is_none() {
            self.status = Some((Tone::Error, format!("{why} · press q to leave")));
            self.gone = Some(why);
        }
        self.confirm = None;
    }

    /// Applies one message from the engine: a reply (has `"ok"`) or an event.
    pub fn apply(&mut self, message: &Value) {
        if message.get("ok").is_some() {
            let command = self.awaiting.pop_front().unwrap_or_default();
            self.apply_reply(&command, message);
        } else {
            self.apply_event(message);
        }
    }

    fn apply_reply(&mut self, command: &str, v: &Value) {
        if !render::is_ok(v) {
            let what = command.split_whitespace().next().unwrap_or("command");
            self.status = Some((Tone::Error, format!("{what}: {}", render::error(v))));
            return;
        }
        match v.get("reply").and_then(Value::as_str).unwrap_or("") {
            "status" => self.apply_status(v),
            "positions" => {
                self.positions = items(v, "positions").iter().map(position).collect();
                self.selected_position = clamp(self.selected_position, self.positions.len());
            }
            "orders" => {
                self.working = items(v, "working").iter().map(order).collect();
                self.recent = items(v, "recent").iter().map(order).collect();
            }
            "strategies" => {
                self.strategies = items(v, "strategies").iter().map(strategy).collect();
                self.selected_strategy = clamp(self.selected_strategy, self.strategies.len());
            }
            "latency" => self.latencies = items(v, "latencies").iter().map(latency).collect(),
            "pnl" => self.apply_pnl(v),
            "subscribe" | "unsubscribe" => {}
            // pause, resume, close, flatten, halt, reduce, activate: the operator's own
            // commands; the sentence `tickpipe ctl` prints goes to the status bar.
            _ => self.status = Some((Tone::Ok, render::reply(v))),
        }
    }

    fn apply_status(&mut self, v: &Value) {
        let h = &mut self.header;
        h.mode = text(v, "mode");
        h.source = text(v, "source");
        h.session = text(v, "session");
        h.market_time = market_time(v, "market_time");
        h.ticks = count(v, "ticks");
        h.fills = count(v, "fills");
        self.apply_pnl(v);
    }

    /// The fields a `status` reply, a `pnl` reply and a `pnl` event share.
    fn apply_pnl(&mut self, v: &Value) {
        let h = &mut self.header;
        if v.get("market_time").is_some() {
            h.market_time = market_time(v, "market_time");
        }
        if v.get("trading_state").is_some() {
            h.trading_state = text(v, "trading_state");
        }
        h.total = money(v, "total");
        h.realized = money(v, "realized");
        h.unrealized = money(v, "unrealized");
        h.charges = money(v, "charges");
        h.net = money(v, "net");
        h.open_positions = count(v, "open_positions");
    }

    fn apply_event(&mut self, v: &Value) {
        match v.get("event").and_then(Value::as_str).unwrap_or("") {
            "pnl" => self.apply_pnl(v),
            "fill" => push_recent(
                &mut self.fills,
                EventRow {
                    time: time_of_day(v, "market_time"),
                    level: text(v, "side"),
                    text: format!(
                        "{} {} {} @ {} ({}, {})",
                        text(v, "side"),
                        count(v, "qty"),
                        text(v, "symbol"),
                        text(v, "price"),
                        text(v, "strategy"),
                        text(v, "reason")
                    ),
                },
            ),
            "alert" => push_recent(
                &mut self.alerts,
                EventRow {
                    time: time_of_day(v, "market_time"),
                    level: text(v, "level"),
                    text: format!(
                        "{}/{}: {}",
                        text(v, "source"),
                        text(v, "kind"),
                        text(v, "message")
                    ),
                },
            ),
            "end" => self.lost(format!(
                "the engine ended the session: {}",
                text(v, "reason")
            )),
            _ => {}
        }
    }

    /// Moves the position selection by `delta`, staying in the list.
    pub fn move_position(&mut self, delta: isize) {
        self.selected_position = step(self.selected_position, delta, self.positions.len());
    }

    /// Moves the strategy selection by `delta`, wrapping around (Tab cycles).
    pub fn cycle_strategy(&mut self, delta: isize) {
        let n = self.strategies.len();
        if n > 0 {
            let next = (self.selected_strategy as isize + delta).rem_euclid(n as isize);
            self.selected_strategy = next as usize;
        }
    }

    /// The position `c` would close.
    pub fn selected_position(&self) -> Option<&PositionRow> {
        self.positions.get(self.selected_position)
    }

    /// The strategy `p` and `r` would act on.
    pub fn selected_strategy(&self) -> Option<&StrategyRow> {
        self.strategies.get(self.selected_strategy)
    }
}

fn clamp(index: usize, len: usize) -> usize {
    index.min(len.saturating_sub(1))
}

fn step(index: usize, delta: isize, len: usize) -> usize {
    clamp(index.saturating_add_signed(delta), len)
}

fn push_recent(list: &mut VecDeque<EventRow>, row: EventRow) {
    list.push_front(row);
    list.truncate(RECENT_EVENTS);
}

fn position(p: &Value) -> PositionRow {
    PositionRow {
        symbol: text(p, "symbol"),
        strategy: text(p, "strategy"),
        net: p.get("net").and_then(Value::as_i64).unwrap_or(0),
        avg_price: text(p, "avg_price"),
        mark: text(p, "mark"),
        stop: text(p, "stop"),
        unrealized: money(p, "unrealized"),
    }
}

fn order(o: &Value) -> OrderRow {
    OrderRow {
        id: text(o, "id"),
        time: text(o, "time"),
        symbol: text(o, "symbol"),
        side: text(o, "side"),
        qty: count(o, "qty"),
        filled: count(o, "filled"),
        avg_price: text(o, "avg_price"),
        state: text(o, "state"),
        reason: text(o, "reason"),
    }
}

fn strategy(s: &Value) -> StrategyRow {
    StrategyRow {
        name: text(s, "name"),
        state: text(s, "state"),
        signals: count(s, "signals"),
        total: money(s, "total"),
        fills: count(s, "fills"),
    }
}

fn latency(l: &Value) -> LatencyRow {
    LatencyRow {
        name: text(l, "name").replace("_to_", "→"),
        stage: text(l, "stage"),
        p50: nanos(l, "p50_ns"),
        p99: nanos(l, "p99_ns"),
        max: nanos(l, "max_ns"),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use serde_json::{json, Value};

    use super::*;

    fn v(s: &str) -> Value {
        serde_json::from_str(s).unwrap()
    }

    /// A state filled from the protocol's example replies, shared with the view tests.
    pub(crate) fn example_state() -> TopState {
        let mut s = TopState::new("socket var/tickpipe.sock".into());
        for (command, reply) in [
            (
                "status",
                r#"{"ok":true,"reply":"status","mode":"paper","source":"synthetic","market_time":"2026-11-25T10:31:02.250+05:30","session":"running","trading_state":"active","realized":"1200.00","unrealized":"-310.50","total":"889.50","open_positions":2,"ticks":412345,"signals":88,"orders":24,"fills":24,"rejects":0,"working_orders":0,"tick_to_intent":{"p50_ns":14000,"p99_ns":81200,"count":24}}"#,
            ),
            (
                "positions",
                r#"{"ok":true,"reply":"positions","positions":[{"symbol":"SBIN","strategy":"sma_cross","net":150,"avg_price":"812.35","mark":"815.00","stop":"804.25","unrealized":"397.50","realized":"0.00"},{"symbol":"INFY","strategy":null,"net":-20,"avg_price":"1500.10","mark":"1510.00","stop":null,"unrealized":"-198.00","realized":"0.00"}]}"#,
            ),
            (
                "orders",
                r#"{"ok":true,"reply":"orders","working":[{"id":18,"symbol":"INFY","strategy":"sma_cross","side":"sell","qty":20,"filled":0,"avg_price":null,"state":"sent","reason":"entry","time":"10:31:01"}],"recent":[{"id":17,"symbol":"SBIN","strategy":"sma_cross","side":"buy","qty":150,"filled":150,"avg_price":"812.35","state":"filled","reason":"entry","time":"10:31:02"}],"sent":24,"fills":24,"rejects":0}"#,
            ),
            (
                "strategies",
                r#"{"ok":true,"reply":"strategies","strategies":[{"name":"sma_cross","state":"running","signals":88,"suppressed":0,"realized":"1200.00","unrealized":"-310.50","total":"889.50","fills":24,"round_trips":11},{"name":"breakout","state":"paused","signals":3,"suppressed":1,"realized":"0.00","unrealized":"0.00","total":"0.00","fills":0,"round_trips":0}]}"#,
            ),
            (
                "latency",
                r#"{"ok":true,"reply":"latency","latencies":[{"name":"tick_to_intent","stage":"order","count":24,"p50_ns":14000,"p99_ns":81200,"p999_ns":99000,"max_ns":99000}]}"#,
            ),
        ] {
            s.sent(command);
            s.apply(&v(reply));
        }
        s.apply(&v(r#"{"event":"fill","market_time":"2026-11-25T10:31:02.250+05:30","symbol":"SBIN","strategy":"sma_cross","side":"buy","qty":150,"price":"812.35","reason":"entry","order":17}"#));
        s.apply(&v(r#"{"event":"alert","market_time":"2026-11-25T10:31:03.000+05:30","level":"warning","source":"risk","kind":"exposure","message":"exposure at 65% of the cap"}"#));
        s
    }

    #[test]
    fn replies_fill_the_panels() {
        let s = example_state();
        assert_eq!(s.outstanding(), 0);
        assert_eq!(s.header.mode, "paper");
        assert_eq!(s.header.trading_state, "active");
        assert_eq!(s.header.total, "+₹889.50");
        assert_eq!(s.header.unrealized, "-₹310.50");
        assert_eq!(s.header.market_time, "2026-11-25 10:31:02.250 IST");
        assert_eq!(s.positions.len(), 2);
        assert_eq!(s.positions[1].strategy, "-");
        assert_eq!(s.positions[1].net, -20);
        assert_eq!(s.working[0].avg_price, "-");
        assert_eq!(s.recent[0].state, "filled");
        assert_eq!(s.strategies[1].state, "paused");
        assert_eq!(s.latencies[0].name, "tick→intent");
        assert_eq!(s.latencies[0].p99, "81.2 µs");
        assert_eq!(s.fills[0].text, "buy 150 SBIN @ 812.35 (sma_cross, entry)");
        assert_eq!(s.alerts[0].level, "warning");
    }

    #[test]
    fn pnl_events_update_the_header() {
        let mut s = example_state();
        s.apply(&json!({"event":"pnl","market_time":"2026-11-25T10:40:00.000+05:30","realized":"1300.00","unrealized":"0.00","total":"1300.00","open_positions":0,"trading_state":"halted"}));
        assert_eq!(s.header.total, "+₹1,300.00");
        assert_eq!(s.header.trading_state, "halted");
        assert_eq!(s.header.open_positions, "0");
        assert_eq!(s.header.market_time, "2026-11-25 10:40:00.000 IST");
        assert_eq!(s.header.mode, "paper");
    }

    #[test]
    fn an_error_reply_is_matched_to_its_command() {
        let mut s = example_state();
        s.sent("status");
        s.sent("close SBIN");
        s.apply(&json!({"ok":true,"reply":"status","mode":"paper"}));
        s.apply(
            &json!({"ok":false,"error":"order_in_flight","message":"SBIN has an order in flight"}),
        );
        assert_eq!(
            s.status,
            Some((
                Tone::Error,
                "close: order_in_flight: SBIN has an order in flight".to_owned()
            ))
        );
        s.sent("halt");
        s.apply(&json!({"ok":true,"reply":"halt","trading_state":"halted","previous":"active"}));
        assert_eq!(
            s.status,
            Some((
                Tone::Ok,
                "trading state is now halted (was active)".to_owned()
            ))
        );
    }

    #[test]
    fn only_the_last_events_are_kept() {
        let mut s = TopState::new("x".into());
        for i in 0..25 {
            s.apply(&json!({"event":"alert","level":"info","source":"feed","kind":"gap","message":format!("gap {i}")}));
        }
        assert_eq!(s.alerts.len(), RECENT_EVENTS);
        assert_eq!(s.alerts[0].text, "feed/gap: gap 24");
    }

    #[test]
    fn selections_stay_inside_the_lists() {
        let mut s = example_state();
        s.move_position(5);
        assert_eq!(s.selected_position().unwrap().symbol, "INFY");
        s.move_position(-9);
        assert_eq!(s.selected_position().unwrap().symbol, "SBIN");
        s.cycle_strategy(-1);
        assert_eq!(s.selected_strategy().unwrap().name, "breakout");
        s.sent("positions");
        s.apply(&json!({"ok":true,"reply":"positions","positions":[]}));
        assert!(s.selected_position().is_none());
    }

    #[test]
    fn the_end_event_marks_the_engine_gone() {
        let mut s = example_state();
        s.apply(&json!({"event":"end","reason":"session over"}));
        assert!(!s.is_live());
        assert!(s.gone.as_deref().unwrap().contains("session over"));
    }
}
