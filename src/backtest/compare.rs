//! Strategy comparison over synthetic sessions: each configured strategy alone, then
//! all of them together, over the same days, side by side.
//!
//! Why alone *and* together: together they share one account, so the risk stage's
//! exposure, sector and cluster limits, the cooldowns and the regime gate make them
//! interact; alone shows what each does with the whole account to itself. "Alone" turns
//! every other strategy off, the regime model included, so a strategy alone is not
//! gated by regime.

use std::fmt::Write as _;

use crate::{
    engine::EngineConfig,
    report::paise,
    signal::{enable_only, strategy_names},
};

use super::session_stats::SessionStats;

/// One run of a comparison: which strategies, and how they did.
#[derive(Debug, Clone)]
pub struct CompareRow {
    /// What ran: a strategy's name, or `all: a+b+…`.
    pub label: String,
    /// The session's figures.
    pub stats: SessionStats,
}

/// The configs a comparison runs, labelled: each enabled strategy alone, in catalogue
/// order, then the config as given.
///
/// # Errors
/// When the config enables fewer than two strategies (there is nothing to compare).
pub fn variants(config: &EngineConfig) -> Result<Vec<(String, EngineConfig)>, String> {
    let names = strategy_names(&config.strategy);
    if names.len() < 2 {
        return Err(format!(
            "--compare runs each configured strategy alone and all together, but the config enables {}; enable two or more under [strategy.*]",
            if names.is_empty() {
                "none".to_owned()
            } else {
                format!("only {}", names.join(", "))
            }
        ));
    }
    let mut out = Vec::with_capacity(names.len() + 1);
    for name in &names {
        let mut alone = config.clone();
        enable_only(&mut alone.strategy, name);
        out.push(((*name).to_owned(), alone));
    }
    out.push((format!("all: {}", names.join("+")), config.clone()));
    Ok(out)
}

fn fixed(x: f64, decimals: usize) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}")
    } else {
        String::new()
    }
}

/// `x` to `decimals` places with its unit, or a dash when undefined.
fn unit(x: f64, decimals: usize, unit: &str) -> String {
    if x.is_finite() {
        format!("{x:.decimals$}{unit}")
    } else {
        "–".to_owned()
    }
}

/// `compare.csv`: one row per run; rupees to the paisa, ratios to six places, empty
/// where a figure is undefined (no trades, no losing day).
pub fn compare_csv(rows: &[CompareRow]) -> String {
    let mut out = String::from(
        "strategies,days,trades,winners,win_rate,gross,charges,net,final_equity,sharpe,max_drawdown,profit_factor,slippage_fills,slippage,slippage_mean_bps\n",
    );
    for r in rows {
        let s = &r.stats;
        let _ = writeln!(
            out,
            "{},{},{},{},{},{},{},{},{},{},{},{},{},{},{}",
            r.label,
            s.days,
            s.trades,
            s.winners,
            fixed(s.win_rate(), 6),
            paise(s.gross),
            paise(s.charges),
            paise(s.net()),
            paise(s.final_equity),
            fixed(s.metrics.sharpe_ratio, 6),
            fixed(s.metrics.max_drawdown, 6),
            fixed(s.profit_factor(), 6),
            s.slippage.fills,
            paise(s.slippage.money),
            fixed(s.slippage.mean_bps(), 4),
        );
    }
    out
}

/// The side-by-side table in Markdown, as printed and written to `compare.md`.
pub fn compare_table(rows: &[CompareRow]) -> String {
    let mut out = String::from(
        "| strategies | trades | win rate | gross | charges | net P&L | Sharpe | max drawdown | profit factor | avg slippage |\n| :-- | --: | --: | --: | --: | --: | --: | --: | --: | --: |\n",
    );
    for r in rows {
        let s = &r.stats;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            r.label,
            s.trades,
            unit(s.win_rate() * 100.0, 1, " %"),
            paise(s.gross),
            paise(s.charges),
            paise(s.net()),
            unit(s.metrics.sharpe_ratio, 2, ""),
            unit(s.metrics.max_drawdown * 100.0, 2, " %"),
            unit(s.profit_factor(), 2, ""),
            unit(s.slippage.mean_bps(), 2, " bps"),
        );
    }
    out
}

/// `compare.md`: what ran, the table, and how to read it.
pub fn compare_markdown(rows: &[CompareRow], title: &str) -> String {
    let mut out = format!("# Strategy comparison\n\n{title}\n\n");
    out.push_str(&compare_table(rows));
    out.push_str(
        "\nEach strategy alone runs with every other strategy off, the regime model included (so it is not gated by regime); `all` is the configuration as given, one shared account. \
Rupees: gross and net of the round trips, charges by the Indian cost model. Sharpe and max drawdown are of the daily equity curve (empyrical's definitions; undefined with fewer than two days' returns or no variation). \
Win rate and profit factor count round trips by net P&L. Slippage is the order stage's, per fill against the decision price, averaged over fills.\n",
    );
    out
}
