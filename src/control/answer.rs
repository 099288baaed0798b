//! Turns the stages' answer rows into the JSON reply lines of the protocol
//! (`src/control/PROTOCOL.md`). Runs on the control thread only.

use serde_json::{json, Map, Value};

use crate::{
    control::{catalog::Catalog, command::HELP, link::StageId, Request},
    model::{
        Alert, ControlReply, FillRecord, IntentReason, Money, Price, Side, StateReason, StrategyId,
        TradingState, UnixNanos,
    },
    risk::RiskConfig,
};

/// What the stages answered to one request.
#[derive(Debug, Default)]
pub struct Rows {
    /// Rows by stage, in the order they came.
    pub by_stage: [Vec<ControlReply>; 4],
    /// A stage that was gone when asked.
    pub gone: [bool; 4],
}

impl Rows {
    /// The rows of one stage.
    pub fn of(&self, stage: StageId) -> &[ControlReply] {
        &self.by_stage[stage as usize]
    }
}

/// What the control thread knows about the engine beyond the rows.
#[derive(Debug, Clone)]
pub struct EngineInfo {
    /// `paper` or `live`.
    pub mode: &'static str,
    /// Where market data comes from (`synthetic`, `replay`, ...).
    pub source: String,
    /// A live feed's link state (staleness, reconnections, conflation, skipped
    /// messages), shown by `status` as `feed_link`; `None` for files and the synthetic
    /// day.
    pub feed_link: Option<std::sync::Arc<crate::feed::kite::TickerHealth>>,
    /// A broker gateway's health (requests, refusals, reconciliation), shown by
    /// `status` as `broker`; `None` for the paper exchange.
    pub broker: Option<std::sync::Arc<crate::order::kite::GatewayHealth>>,
    /// Up while the whole feed is stale past `feed.stale_alert_secs`: the risk stage
    /// refuses entries, and `status` says so as `entries_blocked_by: "stale_feed"`.
    pub feed_stale: Option<std::sync::Arc<crate::feed::StaleFeedFlag>>,
}

/// A broker gateway's health as `status` shows it.
fn broker(health: &crate::order::kite::GatewayHealth) -> Value {
    json!({
        "requests": health.requests.get(),
        "retries": health.retries.get(),
        "rate_limited": health.rate_limited.get(),
        "token_expired": health.token_expired.get(),
        "placed": health.placed.get(),
        "rejected": health.rejected.get(),
        "fills": health.fills.get(),
        "working": health.working.get(),
        "poll_errors": health.poll_errors.get(),
        "outcome_unknown": health.outcome_unknown.get(),
        "adopted": health.adopted.get(),
        "replaced": health.replaced.get(),
        "reconciliations": health.reconciliations.get(),
        "reconcile_errors": health.reconcile_errors.get(),
        "reconcile_mismatches": health.reconcile_mismatches.get(),
        "postbacks": health.postbacks.get(),
        "postback_fills": health.postback_fills.get(),
        "postbacks_foreign": health.postbacks_foreign.get(),
        "postbacks_late": health.postbacks_late.get(),
        "differences": health.differences(),
        "last_error": health.last_error(),
    })
}

/// A live feed's link state as `status` shows it.
fn feed_link(health: &crate::feed::kite::TickerHealth) -> Value {
    let c = health.counters();
    json!({
        "connected": health.is_connected(),
        "stale": health.is_stale(),
        "connects": c.connects,
        "reconnects": c.reconnects,
        "stale_timeouts": c.stale_timeouts,
        "failed_attempts": c.failed_attempts,
        "events": c.events,
        "conflated": c.conflated,
        "pending": c.pending,
        "clamped": c.clamped,
        "duplicates": c.duplicates,
        "out_of_order": c.out_of_order,
        "crossed": c.crossed,
        "skipped": c.skipped,
        "skipped_by_kind": health.skipped_kinds(),
        "unknown_instruments": c.unknown_tokens,
        "server_errors": c.server_errors,
        "order_updates": c.order_updates,
        "postbacks_forwarded": c.postbacks_forwarded,
        "postbacks_dropped": c.postbacks_dropped,
        "last_error": health.last_link_error(),
    })
}

/// An error reply.
pub fn error(code: &str, message: &str) -> Value {
    json!({"ok": false, "error": code, "message": message})
}

/// An ok reply for `word` with `fields`.
pub fn ok(word: &str, fields: Value) -> Value {
    let mut map = Map::new();
    map.insert("ok".into(), Value::Bool(true));
    map.insert("reply".into(), Value::String(word.into()));
    if let Value::Object(fields) = fields {
        map.extend(fields);
    }
    Value::Object(map)
}

/// Money as an exact decimal string.
pub fn money(m: Money) -> Value {
    Value::String(m.to_string())
}

/// A price as an exact decimal string, `null` for zero (none).
pub fn price(p: Price) -> Value {
    if p.is_positive() {
        Value::String(p.to_string())
    } else {
        Value::Null
    }
}

/// Market time as ISO 8601 in IST, `null` before the first event.
pub fn market_time(ts: UnixNanos) -> Value {
    if ts.0 == 0 {
        return Value::Null;
    }
    let millis = (ts.0 % 1_000_000_000) / 1_000_000;
    Value::String(format!(
        "{}T{}.{millis:03}+05:30",
        ts.ist_date(),
        ts.ist_time_of_day()
    ))
}

fn side(s: Side) -> &'static str {
    match s {
        Side::Buy => "buy",
        Side::Sell => "sell",
    }
}

fn reason(r: IntentReason) -> &'static str {
    r.as_str()
}

/// `net × (mark − avg)`, exactly.
fn unrealized(net: i64, avg: Price, mark: Price) -> Money {
    Money::from_raw(i128::from(net) * (i128::from(mark.raw()) - i128::from(avg.raw())))
}

/// The risk headline: state, realised, unrealised, charges, equity, open positions.
struct Headline {
    market_time: UnixNanos,
    state: TradingState,
    reason: StateReason,
    realized: Money,
    unrealized: Money,
    /// Charges and equity, from the second row (absent from an older engine).
    equity: Option<(Money, Money)>,
    open: u32,
}

fn headline(rows: &Rows) -> Option<Headline> {
    let equity = rows.of(StageId::Risk).iter().find_map(|r| match *r {
        ControlReply::Equity { charges, equity } => Some((charges, equity)),
        _ => None,
    });
    rows.of(StageId::Risk).iter().find_map(|r| match *r {
        ControlReply::Risk {
            market_time,
            state,
            reason,
            open_positions,
            realized,
            unrealized,
        } => Some(Headline {
            market_time,
            state,
            reason,
            realized,
            unrealized,
            equity,
            open: open_positions,
        }),
        _ => None,
    })
}

/// Gross, charges and net of a realised and unrealised pair: `realized` and `total`
/// stay gross (before charges), `net_realized` and `net` are after them.
fn gross_and_net(realized: Money, unrealized: Money, charges: Money) -> Value {
    let net_realized = realized.saturating_add(charges.neg());
    json!({
        "realized": money(realized),
        "unrealized": money(unrealized),
        "total": money(realized.saturating_add(unrealized)),
        "charges": money(charges),
        "net_realized": money(net_realized),
        "net": money(net_realized.saturating_add(unrealized)),
    })
}

fn pnl_fields(h: &Headline) -> Value {
    let (charges, equity) = h.equity.unzip();
    let mut v = gross_and_net(h.realized, h.unrealized, charges.unwrap_or(Money::ZERO));
    merge(
        &mut v,
        json!({
            "equity": equity.map(money),
            "open_positions": h.open,
            "trading_state": h.state.as_str(),
            "trading_state_reason": h.reason.as_str(),
        }),
    );
    v
}

fn latency_rows(rows: &Rows, stage: StageId) -> Vec<Value> {
    rows.of(stage)
        .iter()
        .filter_map(|r| match *r {
            ControlReply::Latency {
                name,
                count,
                p50,
                p99,
                p999,
                max,
            } => Some(json!({
                "name": name, "stage": stage.name(), "count": count,
                "p50_ns": p50, "p99_ns": p99, "p999_ns": p999, "max_ns": max,
            })),
            _ => None,
        })
        .collect()
}

fn latency_brief(rows: &Rows, stage: StageId, name: &str) -> Value {
    rows.of(stage)
        .iter()
        .find_map(|r| match *r {
            ControlReply::Latency {
                name: n,
                count,
                p50,
                p99,
                ..
            } if n == name => Some(json!({"p50_ns": p50, "p99_ns": p99, "count": count})),
            _ => None,
        })
        .unwrap_or(Value::Null)
}

/// The feed's row: market time, ticks, whether the session is over.
pub fn feed_row(rows: &Rows) -> Option<(UnixNanos, u64, bool)> {
    rows.of(StageId::Feed).iter().find_map(|r| match *r {
        ControlReply::Feed {
            market_time,
            ticks,
            finished,
        } => Some((market_time, ticks, finished)),
        _ => None,
    })
}

fn strategy_pnl(rows: &Rows, catalog: &Catalog) -> Vec<(StrategyId, Value)> {
    let risk = rows.of(StageId::Risk);
    risk.iter()
        .filter_map(|r| match *r {
            ControlReply::StrategyPnl {
                strategy,
                realized,
                unrealized,
                fills,
                round_trips,
            } => {
                let charges = risk
                    .iter()
                    .find_map(|c| match *c {
                        ControlReply::StrategyCharges {
                            strategy: s,
                            charges,
                        } if s == strategy => Some(charges),
                        _ => None,
                    })
                    .unwrap_or(Money::ZERO);
                let mut v = json!({"strategy": catalog.strategy_name(strategy)});
                merge(&mut v, gross_and_net(realized, unrealized, charges));
                merge(&mut v, json!({"fills": fills, "round_trips": round_trips}));
                Some((strategy, v))
            }
            _ => None,
        })
        .collect()
}

/// The reply to a query or command, from its rows. `last_feed` is the feed's last
/// known row, for when the feed has finished.
pub fn build(
    request: &Request,
    rows: &Rows,
    catalog: &Catalog,
    info: &EngineInfo,
    last_feed: (UnixNanos, u64, bool),
) -> Value {
    let word = request.word();
    if let Some((stage, refusal)) = refused(rows) {
        return error(
            refusal_code(refusal),
            &refusal_message(request, stage, refusal),
        );
    }
    let risk_needed = !matches!(
        request,
        Request::Help | Request::Orders | Request::Latency | Request::Metrics
    );
    if risk_needed && rows.gone[StageId::Risk as usize] {
        return error(
            "engine_stopped",
            "the risk stage has finished: the session is over",
        );
    }
    match request {
        Request::Help => {
            let commands: Vec<Value> = HELP
                .iter()
                .map(|(usage, about)| json!({"usage": usage, "about": about}))
                .collect();
            ok(word, json!({"commands": commands}))
        }
        Request::Status => {
            let (market, ticks, finished) = feed_row(rows).unwrap_or(last_feed);
            let Some(h) = headline(rows) else {
                return error("engine_stopped", "the risk stage did not answer");
            };
            let signals: u64 = rows
                .of(StageId::Signal)
                .iter()
                .map(|r| match *r {
                    ControlReply::Strategy { signals, .. } => signals,
                    _ => 0,
                })
                .sum();
            let mut v = json!({
                "mode": info.mode,
                "source": info.source,
                "market_time": market_time(market),
                "session": if finished || rows.gone[StageId::Feed as usize] { "ended" } else { "running" },
                "ticks": ticks,
                "signals": signals,
                "tick_to_intent": latency_brief(rows, StageId::Order, "tick_to_intent"),
                "tick_to_risk": latency_brief(rows, StageId::Risk, "tick_to_risk"),
            });
            if let Some(health) = &info.feed_link {
                v["feed_link"] = feed_link(health);
            }
            if let Some(health) = &info.broker {
                v["broker"] = broker(health);
            }
            // Null while entries flow (the trading state says whether they are halted).
            v["entries_blocked_by"] = match &info.feed_stale {
                Some(flag) if flag.is_stale() => json!("stale_feed"),
                _ => Value::Null,
            };
            merge(&mut v, pnl_fields(&h));
            if let Some(ControlReply::Orders {
                sent,
                fills,
                rejects,
                working,
            }) = rows
                .of(StageId::Order)
                .iter()
                .find(|r| matches!(r, ControlReply::Orders { .. }))
            {
                merge(
                    &mut v,
                    json!({"orders": sent, "fills": fills, "rejects": rejects, "working_orders": working}),
                );
            }
            ok(word, v)
        }
        Request::Positions => {
            let risk = rows.of(StageId::Risk);
            let charges_of = |id| {
                risk.iter()
                    .find_map(|c| match *c {
                        ControlReply::PositionCharges {
                            instrument,
                            charges,
                        } if instrument == id => Some(charges),
                        _ => None,
                    })
                    .unwrap_or(Money::ZERO)
            };
            let positions: Vec<Value> = risk
                .iter()
                .enumerate()
                .filter_map(|(i, r)| match *r {
                    ControlReply::Position {
                        instrument,
                        owner,
                        net,
                        avg_price,
                        mark,
                        stop,
                        realized,
                    } => {
                        let mut row = json!({
                            "symbol": catalog.symbol(instrument),
                            "strategy": owner.map(|s| catalog.strategy_name(s)),
                            "net": net,
                            "avg_price": price(avg_price),
                            "mark": price(mark),
                            "stop": price(stop),
                            "unrealized": money(unrealized(net, avg_price, mark)),
                            "realized": money(realized),
                            "charges": money(charges_of(instrument)),
                            "net_realized": money(realized.saturating_add(charges_of(instrument).neg())),
                        });
                        // The risk stage follows each position with its exits' row.
                        if let Some(&ControlReply::PositionExits {
                            instrument: of,
                            target,
                            exit_attempts,
                            partial,
                            trailing,
                            exit_failed,
                        }) = risk.get(i + 1)
                        {
                            if of == instrument {
                                row["target"] = price(target);
                                row["partial"] = json!(match partial {
                                    1 => "working",
                                    2 => "booked",
                                    _ => "open",
                                });
                                row["trailing"] = json!(trailing);
                                row["exit_attempts"] = json!(exit_attempts);
                                row["exit_failed"] = json!(exit_failed);
                            }
                        }
                        Some(row)
                    }
                    _ => None,
                })
                .collect();
            ok(word, json!({"positions": positions}))
        }
        Request::Orders => {
            if rows.gone[StageId::Order as usize] {
                return error(
                    "engine_stopped",
                    "the order stage has finished: the session is over",
                );
            }
            let mut working = Vec::new();
            let mut recent = Vec::new();
            let mut counts = json!({});
            for r in rows.of(StageId::Order) {
                match *r {
                    ControlReply::Order {
                        intent,
                        exchange_ts,
                        avg_price,
                        instrument,
                        qty,
                        filled,
                        strategy,
                        side: s,
                        reason: why,
                        state,
                        finished,
                    } => {
                        let row = json!({
                            "id": intent.sequence(),
                            "symbol": catalog.symbol(instrument),
                            "strategy": catalog.strategy_name(strategy),
                            "side": side(s),
                            "qty": qty.get(),
                            "filled": filled.get(),
                            "avg_price": price(avg_price),
                            "state": state.as_str(),
                            "reason": reason(why),
                            "time": exchange_ts.ist_time_of_day().to_string(),
                        });
                        if finished {
                            recent.push(row);
                        } else {
                            working.push(row);
                        }
                    }
                    ControlReply::Orders {
                        sent,
                        fills,
                        rejects,
                        ..
                    } => counts = json!({"sent": sent, "fills": fills, "rejects": rejects}),
                    _ => {}
                }
            }
            let mut v = json!({"working": working, "recent": recent});
            merge(&mut v, counts);
            ok(word, v)
        }
        Request::Pnl => {
            let Some(h) = headline(rows) else {
                return error("engine_stopped", "the risk stage did not answer");
            };
            let mut v = pnl_fields(&h);
            let strategies: Vec<Value> = strategy_pnl(rows, catalog)
                .into_iter()
                .map(|(_, v)| v)
                .collect();
            merge(&mut v, json!({"strategies": strategies}));
            ok(word, v)
        }
        Request::Strategies => {
            let pnl = strategy_pnl(rows, catalog);
            let list: Vec<Value> = rows
                .of(StageId::Signal)
                .iter()
                .filter_map(|r| match *r {
                    ControlReply::Strategy {
                        strategy,
                        paused,
                        signals,
                        entries,
                        suppressed,
                        ..
                    } => {
                        let allocation = allocation_of(rows.of(StageId::Signal), strategy);
                        let shadow = allocation.as_ref().is_some_and(|a| a["state"] == "shadow");
                        let state = match (paused, shadow) {
                            (true, _) => "paused",
                            (false, true) => "shadow",
                            (false, false) => "running",
                        };
                        let mut v = json!({
                            "name": catalog.strategy_name(strategy),
                            "state": state,
                            "signals": signals,
                            "entries": entries,
                            "suppressed": suppressed,
                        });
                        if let Some(a) = allocation {
                            merge(&mut v, json!({ "allocation": a }));
                        }
                        if let Some((_, p)) = pnl.iter().find(|(s, _)| *s == strategy) {
                            let mut p = p.clone();
                            if let Value::Object(m) = &mut p {
                                m.remove("strategy");
                            }
                            merge(&mut v, p);
                        }
                        Some(v)
                    }
                    _ => None,
                })
                .collect();
            ok(word, json!({"strategies": list}))
        }
        Request::Pause(_) | Request::Resume(_) => {
            match rows
                .of(StageId::Signal)
                .iter()
                .find(|r| matches!(r, ControlReply::Strategy { .. }))
            {
                Some(&ControlReply::Strategy {
                    strategy,
                    paused,
                    changed,
                    ..
                }) => ok(
                    word,
                    json!({
                        "strategy": catalog.strategy_name(strategy),
                        "state": if paused { "paused" } else { "running" },
                        "changed": changed,
                    }),
                ),
                _ => error(
                    "engine_stopped",
                    "the signal stage has finished: the session is over",
                ),
            }
        }
        Request::News {
            symbol,
            sentiment_milli,
        } => {
            if rows.gone[StageId::Signal as usize] {
                error(
                    "engine_stopped",
                    "the signal stage has finished: the session is over",
                )
            } else {
                ok(
                    word,
                    json!({"symbol": symbol, "sentiment": f64::from(*sentiment_milli) / 1000.0}),
                )
            }
        }
        Request::Close { .. } => match rows.of(StageId::Risk).first() {
            Some(&ControlReply::ExitSent {
                instrument,
                side: s,
                qty,
                intent,
            }) => ok(
                word,
                json!({"symbol": catalog.symbol(instrument), "side": side(s), "qty": qty.get(), "order": intent.sequence()}),
            ),
            _ => error("engine_stopped", "the risk stage did not answer"),
        },
        Request::Flatten => {
            let mut orders = Vec::new();
            let mut deferred = Vec::new();
            for r in rows.of(StageId::Risk) {
                match *r {
                    ControlReply::ExitSent {
                        instrument,
                        side: s,
                        qty,
                        intent,
                    } => orders.push(json!({
                        "symbol": catalog.symbol(instrument), "side": side(s),
                        "qty": qty.get(), "order": intent.sequence(),
                    })),
                    ControlReply::Deferred { instrument } => {
                        deferred.push(Value::String(catalog.symbol(instrument)));
                    }
                    _ => {}
                }
            }
            ok(word, json!({"orders": orders, "deferred": deferred}))
        }
        Request::Halt | Request::Reduce | Request::Activate => {
            match rows.of(StageId::Risk).first() {
                Some(&ControlReply::State { state, previous }) => ok(
                    word,
                    json!({"trading_state": state.as_str(), "previous": previous.as_str()}),
                ),
                _ => error("engine_stopped", "the risk stage did not answer"),
            }
        }
        Request::Limits => {
            let limits: Vec<Value> = rows
                .of(StageId::Risk)
                .iter()
                .filter_map(|r| match *r {
                    ControlReply::Limit { key, value, .. } => Some(json!({
                        "name": key.as_str(),
                        "value": RiskConfig::format_limit(key, value),
                        "unit": key.unit(),
                    })),
                    _ => None,
                })
                .collect();
            ok(word, json!({"limits": limits}))
        }
        Request::Set { .. } => {
            // The rows hold the `limits` listing first, then the change: the last row.
            match rows.of(StageId::Risk).iter().rev().find_map(|r| match *r {
                ControlReply::Limit {
                    key,
                    value,
                    previous,
                } => Some((key, value, previous)),
                _ => None,
            }) {
                Some((key, value, previous)) => ok(
                    word,
                    json!({
                        "name": key.as_str(),
                        "value": RiskConfig::format_limit(key, value),
                        "previous": RiskConfig::format_limit(key, previous),
                    }),
                ),
                None => error("engine_stopped", "the risk stage did not answer"),
            }
        }
        Request::Latency => {
            let list: Vec<Value> = StageId::ALL
                .iter()
                .flat_map(|&s| latency_rows(rows, s))
                .collect();
            ok(word, json!({"latencies": list}))
        }
        Request::Metrics => ok(
            word,
            json!({"text": crate::control::metrics::render(rows, catalog, last_feed)}),
        ),
        // Answered by the server itself, without stages.
        Request::Auth(_) | Request::Subscribe { .. } | Request::Unsubscribe(_) | Request::Quit => {
            ok(word, json!({}))
        }
    }
}

/// The allocation object of `strategy` in the `strategies` reply, from the signal
/// stage's [`ControlReply::Allocation`] row (none when allocation is off).
fn allocation_of(rows: &[ControlReply], strategy: StrategyId) -> Option<Value> {
    rows.iter().find_map(|r| match *r {
        ControlReply::Allocation {
            strategy: s,
            shadow,
            weight_pct,
            reviews,
            shadowed,
            live_trips,
            live_wins,
            live_profit_factor_centi,
            live_net,
            shadow_trips,
            shadow_net,
        } if s == strategy => Some(json!({
            "state": if shadow { "shadow" } else { "active" },
            "weight_pct": weight_pct,
            "reviews": reviews,
            "shadowed": shadowed,
            "rolling": {
                "round_trips": live_trips,
                "wins": live_wins,
                "net": money(live_net),
                "profit_factor": if live_profit_factor_centi == u32::MAX {
                    Value::Null
                } else {
                    json!(f64::from(live_profit_factor_centi) / 100.0)
                },
            },
            "shadow_record": {
                "round_trips": shadow_trips,
                "net": money(shadow_net),
            },
        })),
        _ => None,
    })
}

/// The `pnl` stream event, from the risk stage's `Status` alone (one command per
/// snapshot: each one wakes the control thread, which shares the cores with the stages).
pub fn pnl_event(rows: &Rows) -> Option<Value> {
    let h = headline(rows)?;
    let mut v = json!({"event": "pnl", "market_time": market_time(h.market_time)});
    merge(&mut v, pnl_fields(&h));
    Some(v)
}

/// The `fill` stream event.
pub fn fill_event(fill: &FillRecord, catalog: &Catalog) -> Value {
    json!({
        "event": "fill",
        "market_time": market_time(fill.exchange_ts),
        "symbol": catalog.symbol(fill.instrument),
        "strategy": catalog.strategy_name(fill.strategy),
        "side": side(fill.side),
        "qty": fill.qty.get(),
        "price": price(fill.price),
        "reason": reason(fill.reason),
        "order": fill.intent.sequence(),
    })
}

/// The `alert` stream event from what `stage` said.
pub fn alert_event(stage: StageId, alert: &Alert, catalog: &Catalog) -> Value {
    let symbol = alert.instrument.map(|i| catalog.symbol(i));
    let message = alert_message(alert, symbol.as_deref());
    json!({
        "event": "alert",
        "market_time": market_time(alert.exchange_ts),
        "level": alert.level.as_str(),
        "source": stage.name(),
        "kind": alert.kind,
        "symbol": symbol,
        "message": message,
    })
}

fn alert_message(a: &Alert, symbol: Option<&str>) -> String {
    let symbol = symbol.unwrap_or("?");
    match a.kind {
        "trading_halted" => format!(
            "trading halted: strategies trade nothing until `activate` (reason: {})",
            a.detail
        ),
        "trading_reduce_only" => format!(
            "reduce-only: no new entries until `activate` (reason: {})",
            a.detail
        ),
        "trading_active" => format!("trading active (reason: {})", a.detail),
        "daily_loss_limit" => "daily loss limit hit: no new entries for the rest of the day".into(),
        "drawdown_warning" => {
            "drawdown from the day's peak equity reached the warning level".into()
        }
        "drawdown_halt" => "drawdown from the day's peak equity reached the halt level".into(),
        "fatal_error" => format!("fatal error, trading halted: {}", a.detail),
        "order_rejected" => format!("order on {symbol} rejected: {}", a.detail),
        "reject_storm" => format!("reject storm: {} of market time", a.detail),
        "journal" => format!("journal trouble, new entries halted: {}", a.detail),
        "stale_feed" => format!("market data stale: {}", a.detail),
        "feed_recovered" => format!("market data flowing again: {}", a.detail),
        "stop_loss" => format!("stop-loss exit on {symbol}"),
        "square_off" => "square-off time: closing every open position".into(),
        "strategy_paused" => format!("strategy {} paused", a.detail),
        "strategy_resumed" => format!("strategy {} resumed", a.detail),
        "strategy_shadowed" => format!(
            "strategy {} sent to shadow by the allocation review: its entries trade on paper only",
            a.detail
        ),
        "strategy_restored" => format!(
            "strategy {} back from shadow: its paper record recovered",
            a.detail
        ),
        "limit_changed" => format!("limit {} changed", a.detail),
        other => other.replace('_', " "),
    }
}

fn refused(rows: &Rows) -> Option<(StageId, crate::model::ControlRefusal)> {
    StageId::ALL.iter().find_map(|&s| {
        rows.of(s).iter().find_map(|r| match *r {
            ControlReply::Refused(why) => Some((s, why)),
            _ => None,
        })
    })
}

fn refusal_code(r: crate::model::ControlRefusal) -> &'static str {
    r.code()
}

fn refusal_message(request: &Request, stage: StageId, r: crate::model::ControlRefusal) -> String {
    use crate::model::ControlRefusal as R;
    match (r, request) {
        (R::NoPosition, Request::Close { symbol, .. }) => {
            format!("there is no open position in {symbol}")
        }
        (R::OrderInFlight, Request::Close { symbol, .. }) => {
            format!("an order on {symbol} is waiting for its answer; try again when it is answered")
        }
        (R::BadQty, Request::Close { symbol, qty }) => format!(
            "cannot close {} of {symbol}: more than is open, or not whole lots",
            qty.unwrap_or(0)
        ),
        (R::UnknownInstrument, Request::Close { symbol, .. }) => {
            format!("{symbol} cannot be traded (an index)")
        }
        (R::InFlightFull, _) => "too many orders await answers; try again shortly".into(),
        (R::BadValue, _) => {
            "the risk stage refused the value: last_entry must stay before square_off".into()
        }
        (R::UnknownStrategy, _) => "no such strategy".into(),
        (R::NotHere, _) => format!("the {} stage does not take this command", stage.name()),
        _ => format!("refused: {}", r.code()),
    }
}

fn merge(into: &mut Value, from: Value) {
    if let (Value::Object(a), Value::Object(b)) = (into, from) {
        a.extend(b);
    }
}

/// The risk configuration the `limits` rows describe: `base` with every listed limit.
pub fn limits_from_rows(base: &RiskConfig, rows: &[ControlReply]) -> RiskConfig {
    rows.iter().fold(base.clone(), |cfg, r| match *r {
        ControlReply::Limit { key, value, .. } => cfg.with_limit(key, value),
        _ => cfg,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_broker_section_shows_counters_and_differences() {
        let health = crate::order::kite::GatewayHealth::default();
        let v = broker(&health);
        assert_eq!(v["reconcile_mismatches"], json!(0));
        assert_eq!(
            (&v["postbacks"], &v["postbacks_late"]),
            (&json!(0), &json!(0))
        );
        assert_eq!(v["differences"], json!([]));
        assert_eq!(v["last_error"], Value::Null);
        assert_eq!(v.as_object().unwrap().len(), 21);
    }

    #[test]
    fn money_prices_and_times_are_exact_strings() {
        assert_eq!(money("-12.05".parse().unwrap()), json!("-12.05"));
        assert_eq!(price("24.05".parse().unwrap()), json!("24.05"));
        assert_eq!(price(Price::ZERO), Value::Null);
        let ts = UnixNanos::from_ist(
            crate::model::Date::new(2026, 11, 25),
            crate::model::TimeOfDay::hm(10, 31),
        )
        .add_nanos(2_250_000_000);
        assert_eq!(market_time(ts), json!("2026-11-25T10:31:02.250+05:30"));
        assert_eq!(
            unrealized(-10, "100".parse().unwrap(), "99.95".parse().unwrap()),
            "0.50".parse().unwrap()
        );
    }

    #[test]
    fn a_strategy_row_carries_its_allocation_when_the_stage_sent_one() {
        let row = |strategy: u16, shadow: bool, factor: u32| ControlReply::Allocation {
            strategy: StrategyId(strategy),
            shadow,
            weight_pct: 25,
            reviews: 12,
            shadowed: 9,
            live_trips: 7,
            live_wins: 1,
            live_profit_factor_centi: factor,
            live_net: "-1834.20".parse().unwrap(),
            shadow_trips: 3,
            shadow_net: "412".parse().unwrap(),
        };
        let rows = [
            ControlReply::Strategy {
                strategy: StrategyId(0),
                paused: false,
                changed: false,
                signals: 1,
                entries: 1,
                suppressed: 0,
            },
            row(0, true, 21),
            row(2, false, u32::MAX),
        ];
        assert_eq!(
            allocation_of(&rows, StrategyId(0)),
            Some(json!({
                "state": "shadow", "weight_pct": 25, "reviews": 12, "shadowed": 9,
                "rolling": {"round_trips": 7, "wins": 1, "net": "-1834.20", "profit_factor": 0.21},
                "shadow_record": {"round_trips": 3, "net": "412.00"},
            }))
        );
        assert_eq!(allocation_of(&rows, StrategyId(1)), None);
        let unbeaten = allocation_of(&rows, StrategyId(2)).unwrap();
        assert_eq!(unbeaten["state"], "active");
        assert_eq!(unbeaten["rolling"]["profit_factor"], Value::Null);
    }
}
