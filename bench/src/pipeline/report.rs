//! The `pipeline` scenario's Markdown summary and per-run files.

use std::fmt::Write as _;

use hdrhistogram::Histogram;
use tickpipe::metrics::format_nanos;

use super::{
    control::{ControlMode, PNL_INTERVAL_MS},
    run::{Engine, RunResult, Strategies},
    schedule::Rate,
    source::Stamping,
    stall::StallReport,
};
use crate::{
    plot::Series,
    report::{Align, Provenance, Table},
    stamp::{hgrm_file, svg_file},
    stats::{merge_all, percentile_cells, percentile_headers},
};

/// What the summary says about the whole invocation.
#[derive(Debug)]
pub struct Context<'a> {
    /// Machine, commit, date, command.
    pub provenance: &'a Provenance,
    /// Events per run asked for.
    pub events: usize,
    /// The strategy settings the runs used.
    pub strategies: &'a [Strategies],
}

/// The run's end-to-end histogram: `tick_to_risk` for the engine, `tick_to_sink` for the
/// empty pipeline.
fn end_to_end(result: &RunResult) -> Option<(&'static str, &Histogram<u64>)> {
    match result.spec.engine {
        Engine::Real => result.latency("tick_to_risk").map(|h| ("tick_to_risk", h)),
        Engine::Empty => result.latency("tick_to_sink").map(|h| ("tick_to_sink", h)),
    }
}

fn stamping(result: &RunResult) -> &'static str {
    match (result.spec.rate, result.spec.stamping) {
        (Rate::Max, _) => "actual (saturation)",
        (_, Stamping::Intended) => "intended (corrected)",
        (_, Stamping::Actual) => "actual (uncorrected)",
    }
}

/// The run's label: `engine`, `engine, active` or `empty stages`, then `, control idle`
/// or `, control pnl10hz` when the socket was served (nothing for control off, so the
/// labels of older reports still match).
fn engine(result: &RunResult) -> String {
    let engine = match (result.spec.engine, result.spec.strategies) {
        (Engine::Real, Strategies::Default) => "engine",
        (Engine::Real, Strategies::Active) => "engine, active",
        (Engine::Empty, _) => "empty stages",
    };
    match (result.spec.engine, result.spec.control) {
        (Engine::Empty, _) | (_, ControlMode::Off) => engine.to_owned(),
        (Engine::Real, mode) => format!("{engine}, control {}", mode.name()),
    }
}

/// Whether any run served the control socket (the summary then has control columns
/// and a section; without, it keeps the shape it had before `--control`).
fn any_control(results: &[RunResult]) -> bool {
    results.iter().any(|r| r.control.is_some())
}

/// P&L events the run's client received, `–` when no client ran.
fn pnl_events(result: &RunResult) -> String {
    result
        .control
        .and_then(|c| c.client)
        .map_or("–".to_owned(), |c| c.pnl_events.to_string())
}

/// The whole summary: provenance, method, the side-by-side table, host stalls, and one
/// section per run.
pub fn summary(ctx: &Context<'_>, results: &[RunResult], baselines: &[StallReport]) -> String {
    let mut out = String::new();
    let _ = writeln!(out, "# Pipeline latency and throughput\n");
    out.push_str(&ctx.provenance.to_markdown());
    let _ = writeln!(
        out,
        "- Input: the first {} events of the default synthetic NSE day (pre-generated into memory)",
        ctx.events
    );
    for set in ctx.strategies {
        let config = set.config();
        let sma = &config.strategy.sma_cross;
        let running = tickpipe::signal::strategy_names(&config.strategy)
            .iter()
            .map(|name| {
                if *name == "sma_cross" {
                    format!(
                        "sma_cross (fast {}, slow {}, {} s bars)",
                        sma.fast, sma.slow, sma.bar_secs
                    )
                } else {
                    (*name).to_owned()
                }
            })
            .collect::<Vec<_>>()
            .join(", ");
        let gates = match set {
            Strategies::Default => "risk and paper gateway as shipped".to_owned(),
            Strategies::Active => format!(
                "filters, regime gate for sma_cross, allocation, cooldown, correlation cap and \
                 loss limits opened and order caps raised (bench/src/pipeline/run.rs, \
                 `ACTIVE_OVERLAY`: {} orders/s)",
                config.order.per_second
            ),
        };
        let _ = writeln!(
            out,
            "- Strategies `{}`: {running}; {gates}; rings of {} slots",
            set.name(),
            config.runtime.ring_capacity
        );
    }
    out.push('\n');
    out.push_str(
        "How to read: `tick→risk` is from a tick's ingress stamp to the risk stage having \
         handled it (every tick gets a sample); `tick→intent` is to the order stage sending an \
         order (only ticks that cause orders get one, so its deep percentiles are not \
         meaningful with few samples). In paced runs the ingress stamp is the *intended* send \
         time (corrected for coordinated omission); the `uncorrected` rows stamp at the actual \
         send time. At saturation there is no schedule, latency is queueing time, and \
         throughput is the figure. `empty stages` runs the same rings and groups with stages \
         that only move events (harness overhead; its column is tick→sink).\n\n",
    );
    if any_control(results) {
        let _ = writeln!(
            out,
            "Control: `control idle` runs serve the control socket with no client; \
             `control pnl10hz` runs also attach a client that sends `subscribe pnl {PNL_INTERVAL_MS}` \
             and reads until `end` (its `pnl events` column counts the snapshots it got). \
             Runs without a `control` label serve no socket.\n"
        );
    }

    let mut headers = vec![
        "run",
        "layout",
        "rate",
        "stamp",
        "events/s",
        "tick→risk p50",
        "p99",
        "p99.9",
        "p99.99",
        "max",
        "tick→intent p50",
        "p99",
        "n",
        "ring full",
    ];
    if any_control(results) {
        headers.push("pnl events");
    }
    let mut table = Table::new(&headers)
        .align(1, Align::Left)
        .align(2, Align::Left)
        .align(3, Align::Left);
    for r in results {
        let e2e = end_to_end(r).map(|(_, h)| h);
        let label = engine(r);
        let q = |q: f64| e2e.map_or("–".to_owned(), |h| format_nanos(h.value_at_quantile(q)));
        let intent = r.latency("tick_to_intent");
        let iq = |q: f64| {
            intent
                .filter(|h| !h.is_empty())
                .map_or("–".to_owned(), |h| format_nanos(h.value_at_quantile(q)))
        };
        let mut cells = vec![
            label,
            r.spec.layout.name().to_owned(),
            r.spec.rate.label(),
            stamping(r).to_owned(),
            format!("{:.2} M", r.throughput() / 1e6),
            q(0.5),
            q(0.99),
            q(0.999),
            q(0.9999),
            e2e.map_or("–".to_owned(), |h| format_nanos(h.max())),
            iq(0.5),
            iq(0.99),
            intent.map_or(0, Histogram::len).to_string(),
            r.counter("ring_full").to_string(),
        ];
        if any_control(results) {
            cells.push(pnl_events(r));
        }
        table.row(cells);
    }
    let _ = writeln!(out, "## Side by side\n");
    out.push_str(&table.render());
    if any_control(results) {
        out.push_str(&control_section(results));
    }

    out.push_str(&targets(results));

    let _ = writeln!(out, "\n## Host stall baseline\n");
    out.push_str(
        "A thread that only reads the clock, recording every gap over 1 µs: what the machine \
         takes from any thread, whatever it runs. Before/after rows watch each core with \
         nothing else of the harness running; `during the run` rows watch the core a \
         one-group layout leaves free (a two-group layout leaves none on two cores).\n\n",
    );
    let mut stall_headers = vec!["monitor", "watched", "stalled"];
    stall_headers.extend(percentile_headers());
    let mut stalls = Table::new(&stall_headers);
    for s in baselines {
        stalls.row(stall_cells(
            s.label.clone(),
            s.watched,
            s.stalled,
            s.gaps.histogram(),
        ));
    }
    if baselines.len() > 1 {
        stalls.row(stall_cells(
            "every core, before and after".to_owned(),
            baselines.iter().map(|s| s.watched).sum(),
            baselines.iter().map(|s| s.stalled).sum(),
            &merge_all(baselines.iter().map(|s| s.gaps.histogram())),
        ));
    }
    for r in results {
        if let Some(s) = &r.stalls {
            stalls.row(stall_cells(
                format!("{} ({})", s.label, r.spec.slug()),
                s.watched,
                s.stalled,
                s.gaps.histogram(),
            ));
        }
    }
    out.push_str(&stalls.render());

    for r in results {
        out.push_str(&run_section(r));
    }
    out
}

/// The targets for the one-group layout, met or missed, with where the time goes.
fn targets(results: &[RunResult]) -> String {
    use super::run::RunSpec;
    use tickpipe::runtime::Preset;
    let find = |pred: &dyn Fn(&RunSpec) -> bool| results.iter().find(|r| pred(&r.spec));
    let mut out = String::from("\n## Targets (one-group layout, 2-core VM)\n\n");
    let verdict = |ok: bool| if ok { "met" } else { "**missed**" };
    let paced = |strategies: Strategies| {
        find(&|s: &RunSpec| {
            s.engine == Engine::Real
                && s.layout == Preset::OneGroup
                && s.rate == Rate::PerSecond(100_000)
                && s.stamping == Stamping::Intended
                && s.strategies == strategies
        })
    };
    let mut any = false;
    for strategies in [Strategies::Default, Strategies::Active] {
        let Some(r) = paced(strategies) else { continue };
        any = true;
        for name in ["tick_to_intent", "tick_to_risk"] {
            let Some(h) = r.latency(name).filter(|h| !h.is_empty()) else {
                continue;
            };
            let (p50, p99) = (h.value_at_quantile(0.5), h.value_at_quantile(0.99));
            let _ = writeln!(
                out,
                "- 100k/s, `{}` strategies, {} (corrected, {} samples): p50 {} < 500 ns {}; p99 {} < 5 µs {}.",
                strategies.name(),
                name.replace("_to_", "→"),
                h.len(),
                format_nanos(p50),
                verdict(p50 < 500),
                format_nanos(p99),
                verdict(p99 < 5_000),
            );
        }
        let service: Vec<String> = r
            .stages()
            .iter()
            .map(|s| {
                format!(
                    "{} {}",
                    s.name,
                    format_nanos(s.service.value_at_quantile(0.5))
                )
            })
            .collect();
        let _ = writeln!(
            out,
            "  Per-stage service p50: {}; generator send lag p99 {}.",
            service.join(", "),
            r.send_lag.as_ref().map_or("–".to_owned(), |h| format_nanos(
                h.value_at_quantile(0.99)
            ))
        );
    }
    let saturated = find(&|s: &RunSpec| {
        s.engine == Engine::Real
            && s.layout == Preset::OneGroup
            && s.rate == Rate::Max
            && s.strategies == Strategies::Default
    });
    if let Some(r) = saturated {
        any = true;
        let per_event = 1e9 / r.throughput().max(1.0);
        let service: u64 = r
            .stages()
            .iter()
            .map(|s| s.service.value_at_quantile(0.5))
            .sum();
        let empty = find(&|s: &RunSpec| {
            s.engine == Engine::Empty && s.layout == Preset::OneGroup && s.rate == Rate::Max
        });
        let _ = writeln!(
            out,
            "- Saturation, all strategies on: {:.2} M events/s > 5 M {} ({per_event:.0} ns per event; \
             the four stages' service p50s sum to {service} ns, the rest is ring hand-off, \
             the round-robin and the harness's own clock reads{}).",
            r.throughput() / 1e6,
            verdict(r.throughput() > 5e6),
            empty.map_or(String::new(), |e| format!(
                "; the empty-stage pipeline moves {:.2} M events/s, {:.0} ns per event",
                e.throughput() / 1e6,
                1e9 / e.throughput().max(1.0)
            )),
        );
    }
    if !any {
        out.push_str("- Not measured in this invocation (run with `--compare`).\n");
    }
    out
}

/// What the control thread and the P&L client did in each run that served the socket.
fn control_section(results: &[RunResult]) -> String {
    let mut out = String::from("\n## Control plane\n\n");
    let mut table = Table::new(&[
        "run",
        "connections",
        "commands answered",
        "pnl events",
        "other lines",
        "closed by",
        "socket looks",
    ]);
    for r in results {
        let Some(c) = r.control else { continue };
        let client = c.client;
        table.row(vec![
            r.spec.slug(),
            c.server.connections.to_string(),
            c.server.commands.to_string(),
            pnl_events(r),
            client.map_or("–".to_owned(), |c| c.other_lines.to_string()),
            client.map_or("–".to_owned(), |c| {
                if c.ended { "end" } else { "EOF" }.to_owned()
            }),
            client.map_or("–".to_owned(), |c| c.connect_attempts.to_string()),
        ]);
    }
    out.push_str(&table.render());
    out.push_str(
        "\n`commands answered` counts replies to clients (the `subscribe`); the P&L \
         snapshots are the control thread's own jobs. `socket looks`: how many times the \
         client looked for the socket file before it could connect.\n",
    );
    out
}

/// A host-stall row: label, time watched, share of it stalled, gap percentiles.
fn stall_cells(
    label: String,
    watched: std::time::Duration,
    stalled: std::time::Duration,
    gaps: &Histogram<u64>,
) -> Vec<String> {
    let mut cells = vec![
        label,
        format!("{:.2} s", watched.as_secs_f64()),
        format!(
            "{:.3} %",
            100.0 * stalled.as_secs_f64() / watched.as_secs_f64().max(1e-9)
        ),
    ];
    cells.extend(percentile_cells(gaps));
    cells
}

/// One run's section: latencies, per-stage service times and counters, CPU per group.
fn run_section(r: &RunResult) -> String {
    let mut out = String::new();
    let slug = r.spec.slug();
    let _ = writeln!(out, "\n## {slug}\n");
    let _ = writeln!(
        out,
        "{} · {} · rate {} · stamp {} · {} events in {:.3} s = {:.3} M events/s\n",
        engine(r),
        r.layout,
        r.spec.rate.label(),
        stamping(r),
        r.events,
        r.wall.as_secs_f64(),
        r.throughput() / 1e6
    );
    let _ = writeln!(out, "Plot: [`{slug}.svg`]({slug}.svg)\n");
    let mut headers = vec!["latency"];
    headers.extend(percentile_headers());
    let mut lat = Table::new(&headers);
    for (name, h) in latencies(r) {
        let mut cells = vec![name];
        cells.extend(percentile_cells(h));
        lat.row(cells);
    }
    out.push_str(&lat.render());

    let mut headers = vec!["stage service"];
    headers.extend(percentile_headers());
    headers.push("ring full");
    let mut svc = Table::new(&headers);
    for s in r.stages() {
        let mut cells = vec![s.name.to_owned()];
        cells.extend(percentile_cells(s.service.histogram()));
        cells.push(s.counter("ring_full").to_string());
        svc.row(cells);
    }
    out.push('\n');
    out.push_str(&svc.render());

    let mut groups = Table::new(&["group", "stages", "core", "wall", "CPU", "busy rounds"])
        .align(1, Align::Left);
    for g in &r.groups {
        let names: Vec<&str> = g.stages.iter().map(|s| s.name).collect();
        groups.row(vec![
            g.name.clone(),
            names.join("+"),
            g.core.map_or("–".to_owned(), |c| c.to_string()),
            format!("{:.3} s", g.wall.as_secs_f64()),
            g.cpu
                .map_or("–".to_owned(), |c| format!("{:.2} s", c.as_secs_f64())),
            g.busy_rounds.to_string(),
        ]);
    }
    out.push('\n');
    out.push_str(&groups.render());

    let counters: Vec<String> = r
        .stages()
        .iter()
        .flat_map(|s| {
            s.counters
                .iter()
                .map(move |(k, v)| format!("{}.{k} {v}", s.name))
        })
        .collect();
    let _ = writeln!(
        out,
        "\nCounters: {}. No edge conflates or drops: every ring is written through an \
         outbox that holds a message back instead (`ring_full` counts those pushes).",
        counters.join(", ")
    );
    out
}

/// The run's latency histograms with their display names.
fn latencies(r: &RunResult) -> Vec<(String, &Histogram<u64>)> {
    let mut all = Vec::new();
    for name in [
        "tick_to_risk",
        "tick_to_signal",
        "tick_to_approval",
        "tick_to_order_stage",
        "tick_to_intent",
        "tick_to_sink",
    ] {
        if let Some(h) = r.latency(name) {
            all.push((name.replace("_to_", "→"), h));
        }
    }
    if let Some(h) = &r.send_lag {
        all.push(("generator send lag".to_owned(), h));
    }
    if let Some(s) = &r.stalls {
        all.push((format!("host stalls ({})", s.label), s.gaps.histogram()));
    }
    all
}

/// The run's files: one `.hgrm` per latency histogram and one `.svg` plot, each stamped
/// with the run's provenance (the `.hgrm` in `#` comment lines after the footer, which
/// HdrHistogram's plotter ignores).
pub fn files(r: &RunResult, provenance: &Provenance) -> Vec<(String, String)> {
    let slug = r.spec.slug();
    let mut files = Vec::new();
    let mut series = Vec::new();
    for (name, h) in latencies(r) {
        let file = name
            .replace('→', "_to_")
            .replace(' ', "_")
            .replace(['(', ')', ','], "");
        files.push((format!("{slug}.{file}.hgrm"), hgrm_file(h, provenance)));
        series.push(Series {
            label: name,
            histogram: h,
        });
    }
    let svg = svg_file(&slug, &series, provenance);
    files.push((format!("{slug}.svg"), svg));
    files
}

/// The host stall baselines as `.hgrm` files.
pub fn stall_files(baselines: &[StallReport], provenance: &Provenance) -> Vec<(String, String)> {
    baselines
        .iter()
        .map(|s| {
            let name = s.label.replace([',', ' '], "_").replace("__", "_");
            (
                format!("host-stalls-{name}.hgrm"),
                hgrm_file(s.gaps.histogram(), provenance),
            )
        })
        .collect()
}
