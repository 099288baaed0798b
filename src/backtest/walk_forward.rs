//! Walk-forward testing over synthetic days: fit on a training window, trade the next
//! (unseen) window with what was fitted, roll on, and judge only the unseen days.
//!
//! A backtest that chooses its strategies and model on the days it then reports is
//! optimistic by construction. Here each fold *fits* on `train` days traded with the
//! configured settings (every training day is traded once, on one account, and each
//! window reads its days from that run) and *judges* the following `test` days, traded
//! with the fit; the windows then move on by `test` days, so every judged day is out of
//! sample exactly once:
//!
//! ```text
//! days   1 2 3 4 5 6 7 8 9 10 11 12
//! fold 1 [train  ] [test]
//! fold 2     [train  ] [test]
//! fold 3         [train  ] [test]
//! ```
//!
//! What a fold fits, from its training days only:
//!
//! - **The regime model**: [`baum_welch`] over the log returns of the index's
//!   `bar_secs` bars (measured as the regime tracker measures them: close to close, the
//!   first bar of a day from its open), starting from the configured model. A fit that
//!   fails (a state left with no data) keeps the configured model and says so.
//! - **The strategy weights**: each strategy's net P&L (after charges) over the
//!   training days. A strategy that did not make money there is switched off for the
//!   test window (through the regime gate: an empty `allow` row, so its signals are
//!   refused as `regime_disabled` and its ids stay the same); the others trade at
//!   `100 × net / best net` percent of their configured weight in every regime, never
//!   below [`MIN_WEIGHT_PCT`].
//!
//! The test windows trade one after the other on one account (each starts from the
//! equity the last ended with), and the report is of them alone.

use std::{fmt::Write as _, str::FromStr};

use super::{run_days, session::day_config, DayOutcome, SessionDay, SessionOutcome, SessionStats};
use crate::{
    engine::EngineConfig,
    feed::SourcePoll,
    model::{MarketEvent, Money},
    signal::{
        first_index,
        regime::{baum_welch, GaussianHmm, HmmParams, Posteriors, Priors},
        strategy_names, BarBuilder,
    },
};

/// The smallest weight (percent) a strategy that made money in training trades with.
pub const MIN_WEIGHT_PCT: u8 = 10;

/// `--walk-forward train=N,test=M[,fit=K]`: the window lengths in trading days and the
/// Baum–Welch iterations of each fold's regime fit.
///
/// # Examples
/// ```
/// use tickpipe::backtest::WalkForward;
/// let w: WalkForward = "train=5,test=2".parse().unwrap();
/// assert_eq!((w.train, w.test, w.fit_iterations), (5, 2, 20));
/// assert!("train=5".parse::<WalkForward>().unwrap_err().contains("test"));
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct WalkForward {
    /// Training days per fold.
    pub train: u32,
    /// Test days per fold (and the step between folds).
    pub test: u32,
    /// Baum–Welch iterations of each fold's regime fit.
    pub fit_iterations: usize,
}

impl FromStr for WalkForward {
    type Err = String;

    fn from_str(s: &str) -> Result<WalkForward, String> {
        let mut train = None;
        let mut test = None;
        let mut fit = 20usize;
        for part in s.split(',') {
            let (key, value) = part.split_once('=').ok_or_else(|| {
                format!("--walk-forward {s}: `{part}` is not K=V (train=N,test=M[,fit=K])")
            })?;
            let n: u32 = value.trim().parse().map_err(|_| {
                format!("--walk-forward {s}: {key} = `{value}` is not a whole number")
            })?;
            match key.trim() {
                "train" => train = Some(n),
                "test" => test = Some(n),
                "fit" => fit = n as usize,
                other => {
                    return Err(format!(
                        "--walk-forward {s}: unknown key `{other}` (train, test, fit)"
                    ))
                }
            }
        }
        let (Some(train), Some(test)) = (train, test) else {
            return Err(format!(
                "--walk-forward {s}: give both train=N and test=M (trading days)"
            ));
        };
        if train == 0 || test == 0 {
            return Err(format!(
                "--walk-forward {s}: train and test must each be at least one day"
            ));
        }
        Ok(WalkForward {
            train,
            test,
            fit_iterations: fit,
        })
    }
}

impl WalkForward {
    /// The folds over `days` planned days: index ranges of the training and test days.
    /// Only whole folds: days past the last whole test window are not traded.
    ///
    /// # Examples
    /// ```
    /// use tickpipe::backtest::WalkForward;
    /// let w: WalkForward = "train=3,test=2".parse().unwrap();
    /// assert_eq!(w.folds(8), [(0..3, 3..5), (2..5, 5..7)]);
    /// assert!(w.folds(4).is_empty());
    /// ```
    pub fn folds(&self, days: usize) -> Vec<(std::ops::Range<usize>, std::ops::Range<usize>)> {
        let (train, test) = (self.train as usize, self.test as usize);
        let mut out = Vec::new();
        let mut start = 0;
        while start + train + test <= days {
            out.push((start..start + train, start + train..start + train + test));
            start += test;
        }
        out
    }
}

/// What one fold fitted on its training days.
#[derive(Debug, Clone)]
pub struct FoldFit {
    /// Each strategy's net P&L over the training days, by id.
    pub training_net: Vec<Money>,
    /// Each strategy's weight for the test window in percent (0: switched off), by id.
    pub weights: Vec<u8>,
    /// The regime model the test window trades with.
    pub model: HmmParams,
    /// Index returns the fit read.
    pub returns: usize,
    /// Log-likelihood of the training returns under the configured model and under the
    /// fitted one (equal when the fit was kept out).
    pub loglik: (f64, f64),
    /// Why the configured model was kept, when it was.
    pub kept_configured: Option<String>,
}

/// One fold: its days, its fit and what its test window did.
#[derive(Debug, Clone)]
pub struct Fold {
    /// The training days.
    pub train: Vec<SessionDay>,
    /// The test days.
    pub test: Vec<SessionDay>,
    /// What was fitted.
    pub fit: FoldFit,
    /// The test window's figures.
    pub stats: SessionStats,
}

/// A whole walk-forward: the folds and the test windows chained into one session.
#[derive(Debug, Clone)]
pub struct WalkForwardOutcome {
    /// Every fold, in order.
    pub folds: Vec<Fold>,
    /// The test windows, one after the other on one account: the out-of-sample record.
    pub out_of_sample: SessionOutcome,
}

/// Runs the walk-forward over `plan`'s days.
///
/// # Errors
/// When the regime-adaptive strategy is off (its model and gate are what a fold fits),
/// when `plan` is too short for one fold, or when a day fails.
pub fn walk_forward(
    config: &EngineConfig,
    plan: &[SessionDay],
    windows: WalkForward,
    mut progress: impl FnMut(&str, usize, usize, &DayOutcome),
) -> Result<WalkForwardOutcome, String> {
    if !config.strategy.regime_adaptive.enabled {
        return Err(
            "--walk-forward fits the regime model and weights the strategies through the \
             regime gate: enable [strategy.regime_adaptive]"
                .to_owned(),
        );
    }
    let folds = windows.folds(plan.len());
    if folds.is_empty() {
        return Err(format!(
            "--walk-forward train={},test={} needs at least {} days; --days gives {}",
            windows.train,
            windows.test,
            windows.train + windows.test,
            plan.len()
        ));
    }
    let names = strategy_names(&config.strategy);
    // The training windows overlap, and what a day does under the configured settings
    // does not depend on the window: trade every training day once, on one account, and
    // read each window's figures (and index returns) from its days.
    let trained_to = folds.last().map_or(0, |(train, _)| train.end);
    let configured_run = run_days(
        config,
        &plan[..trained_to],
        config.risk.capital,
        |i, n, d| progress("configured", i, n, d),
    )?;
    let returns = plan[..trained_to]
        .iter()
        .map(|&day| index_returns(config, day))
        .collect::<Result<Vec<_>, _>>()?;
    let mut done = Vec::with_capacity(folds.len());
    let mut chained: Option<SessionOutcome> = None;
    for (k, (train, test)) in folds.into_iter().enumerate() {
        let fit = fit_fold(
            config,
            &configured_run.days[train.clone()],
            &returns[train.clone()].concat(),
            &names,
            windows,
        )?;
        let fitted = apply_fit(config, &names, &fit);
        let capital = chained
            .as_ref()
            .and_then(|c| c.days.last())
            .map_or(config.risk.capital, |d| d.end_equity);
        let label = format!("fold {} test", k + 1);
        let tested = run_days(&fitted, &plan[test.clone()], capital, |i, n, d| {
            progress(&label, i, n, d)
        })?;
        let stats = SessionStats::of(&tested);
        done.push(Fold {
            train: plan[train].to_vec(),
            test: plan[test].to_vec(),
            fit,
            stats,
        });
        match chained.as_mut() {
            Some(all) => all.append(tested),
            None => chained = Some(tested),
        }
    }
    Ok(WalkForwardOutcome {
        folds: done,
        out_of_sample: chained.ok_or("no fold ran")?,
    })
}

/// Fits the regime model to the training days' index returns and weighs the
/// strategies by their training net.
fn fit_fold(
    config: &EngineConfig,
    training: &[DayOutcome],
    returns: &[f64],
    names: &[&'static str],
    windows: WalkForward,
) -> Result<FoldFit, String> {
    let mut training_net = vec![Money::ZERO; names.len()];
    for t in training.iter().flat_map(|d| &d.book.trades) {
        if let Some(net) = training_net.get_mut(t.strategy.index()) {
            *net = net.saturating_add(t.net());
        }
    }
    let best = training_net.iter().copied().max().unwrap_or(Money::ZERO);
    let weights = training_net
        .iter()
        .map(|&net| {
            if net <= Money::ZERO {
                0
            } else {
                let share = (100.0 * net.to_f64() / best.to_f64()).round();
                (share as u8).clamp(MIN_WEIGHT_PCT, 100)
            }
        })
        .collect();

    let section = &config.strategy.regime_adaptive;
    let configured = crate::signal::market_regime::load_model(section, "strategy.regime_adaptive")
        .map_err(|issues| crate::config::ConfigIssue::joined(&issues))?;
    let loglik = |m: &GaussianHmm| {
        Posteriors::compute(m, returns)
            .map(|p| p.loglik())
            .unwrap_or(f64::NAN)
    };
    let before = loglik(&configured);
    let (model, after, kept_configured) = if returns.len() < 2 {
        (
            configured.to_params(),
            before,
            Some(format!(
                "{} index returns are too few to fit",
                returns.len()
            )),
        )
    } else {
        match baum_welch(
            &configured,
            returns,
            windows.fit_iterations,
            &Priors::default(),
        ) {
            Ok(fit) => (fit.model.to_params(), loglik(&fit.model), None),
            Err(e) => (configured.to_params(), before, Some(e.to_string())),
        }
    };
    Ok(FoldFit {
        training_net,
        weights,
        model,
        returns: returns.len(),
        loglik: (before, after),
        kept_configured,
    })
}

/// The log returns of the index's `bar_secs` bars on `day`, as the regime tracker reads
/// them: close to close, the day's first bar from its open.
fn index_returns(config: &EngineConfig, day: SessionDay) -> Result<Vec<f64>, String> {
    let secs = config.strategy.regime_adaptive.bar_secs;
    let mut out = Vec::new();
    let c = day_config(config, day, config.risk.capital);
    let mut opened = c.feed.open()?;
    // The engine's feed stage ends the day after `feed.duration`; so do the returns.
    let until = c.feed.until(opened.start)?;
    let index = first_index(&opened.instruments)
        .ok_or_else(|| format!("{}: the instrument table has no index", day.date))?;
    let mut bars = BarBuilder::new(opened.instruments.len(), secs);
    let mut previous = None;
    loop {
        match opened.source.poll_event() {
            Ok(SourcePoll::Event(event)) if until.is_some_and(|u| event.exchange_ts() > u) => break,
            Ok(SourcePoll::Event(MarketEvent::Tick(tick))) if tick.instrument == index => {
                let Some(bar) = bars.update(&tick) else {
                    continue;
                };
                let base = previous.unwrap_or(bar.open);
                previous = Some(bar.close);
                if base.is_positive() && bar.close.is_positive() {
                    out.push((bar.close.to_f64() / base.to_f64()).ln());
                }
            }
            Ok(SourcePoll::Event(_)) => {}
            Ok(SourcePoll::End) => break,
            Ok(SourcePoll::Pending) => {
                return Err(format!("{}: the synthetic source stalled", day.date))
            }
            Err(e) => return Err(format!("{}: {e}", day.date)),
        }
    }
    Ok(out)
}

/// `config` with the fold's model inline and its weights in the regime gate.
fn apply_fit(config: &EngineConfig, names: &[&'static str], fit: &FoldFit) -> EngineConfig {
    let mut c = config.clone();
    let section = &mut c.strategy.regime_adaptive;
    section.model_file = None;
    section.model = fit.model.clone();
    let labels = section.states.clone();
    for (name, &pct) in names.iter().zip(&fit.weights) {
        if pct == 0 {
            section.allow.insert((*name).to_owned(), Vec::new());
            continue;
        }
        let row = section.weight.entry((*name).to_owned()).or_default();
        for label in &labels {
            let configured = row.get(label).copied().unwrap_or(100);
            let scaled = (u32::from(configured) * u32::from(pct)).div_ceil(100);
            row.insert(label.clone(), scaled.clamp(1, 100) as u8);
        }
    }
    c
}

/// `walk_forward.md`'s table: the folds, what each fitted, and each test window's
/// figures (the caller adds the out-of-sample session's summary under it).
pub fn walk_forward_markdown(outcome: &WalkForwardOutcome, names: &[&'static str]) -> String {
    let pct = crate::report::figure::percent;
    let ratio = |x: f64| crate::report::figure::decimal(x, 2);
    let rupees = crate::report::paise;
    let mut out = String::from("# Walk-forward (out-of-sample days only)\n\n");
    let _ = writeln!(
        out,
        "Each fold fits the regime model and the strategy weights on its training days, \
         then trades its test days with them; only the test days are judged.\n"
    );
    let _ = writeln!(
        out,
        "| fold | train | test | weights (% of configured; 0 = off) | regime fit (returns, log-lik before → after) | trades | net ₹ | return | Sharpe | max DD |"
    );
    let _ = writeln!(out, "|---|---|---|---|---|---:|---:|---:|---:|---:|");
    for (k, fold) in outcome.folds.iter().enumerate() {
        let span = |d: &[SessionDay]| match (d.first(), d.last()) {
            (Some(a), Some(b)) if a == b => a.date.to_string(),
            (Some(a), Some(b)) => format!("{} – {}", a.date, b.date),
            _ => String::new(),
        };
        let weights: Vec<String> = names
            .iter()
            .zip(&fold.fit.weights)
            .map(|(n, w)| format!("{n} {w}"))
            .collect();
        let regime = match &fold.fit.kept_configured {
            Some(why) => format!("kept the configured model: {why}"),
            None => format!(
                "{}, {:.1} → {:.1}",
                fold.fit.returns, fold.fit.loglik.0, fold.fit.loglik.1
            ),
        };
        let s = &fold.stats;
        let _ = writeln!(
            out,
            "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
            k + 1,
            span(&fold.train),
            span(&fold.test),
            weights.join(", "),
            regime,
            s.trades,
            rupees(s.net()),
            pct(s.metrics.cum_returns_final),
            ratio(s.metrics.sharpe_ratio),
            pct(s.metrics.max_drawdown),
        );
    }
    out
}

/// `walk_forward.csv`: one row per fold and strategy (training net, weight), with the
/// fold's test figures; rupees to the paisa.
pub fn walk_forward_csv(outcome: &WalkForwardOutcome, names: &[&'static str]) -> String {
    let rupees = crate::report::paise;
    let mut out = String::from(
        "fold,train_first,train_last,test_first,test_last,strategy,training_net,weight_pct,test_trades,test_net,test_return,regime_loglik_before,regime_loglik_after,regime_fit_kept_out\n",
    );
    for (k, fold) in outcome.folds.iter().enumerate() {
        let day = |d: Option<&SessionDay>| d.map(|d| d.date.to_string()).unwrap_or_default();
        for (i, name) in names.iter().enumerate() {
            let _ = writeln!(
                out,
                "{},{},{},{},{},{},{},{},{},{},{:.6},{:.3},{:.3},{}",
                k + 1,
                day(fold.train.first()),
                day(fold.train.last()),
                day(fold.test.first()),
                day(fold.test.last()),
                name,
                rupees(fold.fit.training_net.get(i).copied().unwrap_or(Money::ZERO)),
                fold.fit.weights.get(i).copied().unwrap_or(0),
                fold.stats.trades,
                rupees(fold.stats.net()),
                fold.stats.metrics.cum_returns_final,
                fold.fit.loglik.0,
                fold.fit.loglik.1,
                fold.fit.kept_configured.is_some(),
            );
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_parse_and_refuse_clearly() {
        let w: WalkForward = "train=10,test=5,fit=3".parse().unwrap();
        assert_eq!((w.train, w.test, w.fit_iterations), (10, 5, 3));
        for (bad, says) in [
            ("train=0,test=1", "at least one day"),
            ("train=2,test=x", "not a whole number"),
            ("train=2,tset=1", "unknown key"),
            ("train=2", "give both"),
            ("2,1", "not K=V"),
        ] {
            let e = bad.parse::<WalkForward>().unwrap_err();
            assert!(e.contains(says), "{bad}: {e}");
        }
    }

    #[test]
    fn folds_roll_by_the_test_window_and_never_overlap_their_tests() {
        let w: WalkForward = "train=4,test=2".parse().unwrap();
        let folds = w.folds(11);
        assert_eq!(folds, [(0..4, 4..6), (2..6, 6..8), (4..8, 8..10)]);
        for pair in folds.windows(2) {
            assert_eq!(pair[0].1.end, pair[1].1.start, "tests follow each other");
        }
    }
}
