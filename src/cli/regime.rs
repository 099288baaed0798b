//! `tickpipe regime`: the market regimes of a return series under a Gaussian hidden
//! Markov model, optionally fitted to the series first (Baum–Welch).

use std::{
    fmt::Write as _,
    io::Write as _,
    path::{Path, PathBuf},
};

use clap::Args;
use serde_json::json;

use crate::signal::regime::{
    baum_welch, viterbi, DecodeError, Fit, GaussianHmm, HmmParams, Posteriors, Priors, ViterbiPath,
};

/// Options of `tickpipe regime`.
#[derive(Debug, Clone, Args)]
pub struct RegimeArgs {
    /// The returns: a CSV file with the header `return` and one return per line.
    #[arg(long, value_name = "FILE.csv")]
    pub returns: PathBuf,
    /// The model, in JSON with hmmlearn's names:
    /// {"startprob":[…],"transmat":[[…],…],"means":[…],"variances":[…]}.
    #[arg(long, value_name = "MODEL.json")]
    pub model: PathBuf,
    /// First run exactly N Baum-Welch iterations from the model, then decode under the
    /// fitted one.
    #[arg(long, value_name = "N")]
    pub fit: Option<usize>,
    /// The fit's variance prior (hmmlearn's covars_prior; hmmlearn defaults to 0.01):
    /// 0, the default, is plain maximum likelihood.
    #[arg(
        long,
        value_name = "X",
        requires = "fit",
        allow_negative_numbers = true
    )]
    pub covars_prior: Option<f64>,
    /// Print one JSON object (every posterior, the path, the fit) instead of the table.
    #[arg(long)]
    pub json: bool,
}

/// Everything the command prints, under the final model.
struct Decoded {
    model: GaussianHmm,
    fit: Option<Fit>,
    posteriors: Posteriors,
    best: ViterbiPath,
}

/// Reads the returns and the model, fits if asked, decodes, and prints.
pub(super) fn regime(args: &RegimeArgs) -> Result<(), String> {
    let covars_prior = args.covars_prior.unwrap_or(0.0);
    if !(covars_prior.is_finite() && covars_prior >= 0.0) {
        return Err(format!(
            "--covars-prior {covars_prior}: must be a finite number >= 0"
        ));
    }
    let (xs, line_of) = read_returns(&args.returns)?;
    let initial = read_model(&args.model)?;
    let at_line = |e: DecodeError| match e {
        DecodeError::Bar { bar, cause } => {
            format!("{}:{}: {cause}", args.returns.display(), line_of[bar])
        }
        DecodeError::Empty => format!("{}: {e}", args.returns.display()),
    };
    let (model, fit) = match args.fit {
        Some(iterations) => {
            let priors = Priors {
                covars: covars_prior,
                ..Priors::default()
            };
            let fit = baum_welch(&initial, &xs, iterations, &priors).map_err(|e| {
                format!(
                    "fitting {} to {}: {e}",
                    args.model.display(),
                    args.returns.display()
                )
            })?;
            (fit.model.clone(), Some(fit))
        }
        None => (initial, None),
    };
    let decoded = Decoded {
        posteriors: Posteriors::compute(&model, &xs).map_err(at_line)?,
        best: viterbi(&model, &xs).map_err(at_line)?,
        model,
        fit,
    };
    let text = if args.json {
        let mut text = serde_json::to_string(&to_json(&decoded)).map_err(|e| e.to_string())?;
        text.push('\n');
        text
    } else {
        table(args, covars_prior, &decoded)
    };
    std::io::stdout()
        .lock()
        .write_all(text.as_bytes())
        .map_err(|e| format!("writing the output: {e}"))
}

/// The returns, and the 1-based line each came from (for error messages).
///
/// Blank lines are skipped; every other line after the header must be one finite number.
fn read_returns(path: &Path) -> Result<(Vec<f64>, Vec<usize>), String> {
    let name = path.display();
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("{name}: cannot read returns: {e}"))?;
    let mut lines = text.lines().enumerate();
    match lines.next() {
        Some((_, header)) if header.trim().trim_start_matches('\u{feff}') == "return" => {}
        Some((_, header)) => {
            return Err(format!(
                "{name}:1: expected the header `return`, found `{}`",
                header.trim()
            ))
        }
        None => return Err(format!("{name}: empty; expected the header `return`")),
    }
    let mut xs = Vec::new();
    let mut line_of = Vec::new();
    for (index, line) in lines {
        let field = line.trim();
        if field.is_empty() {
            continue;
        }
        let number = index + 1;
        let x: f64 = field
            .parse()
            .map_err(|_| format!("{name}:{number}: `{field}` is not a number"))?;
        if !x.is_finite() {
            return Err(format!("{name}:{number}: `{field}` is not a finite number"));
        }
        xs.push(x);
        line_of.push(number);
    }
    if xs.is_empty() {
        return Err(format!("{name}: no returns after the header"));
    }
    Ok((xs, line_of))
}

/// The model file, parsed (unknown keys refused) and validated.
fn read_model(path: &Path) -> Result<GaussianHmm, String> {
    let name = path.display();
    let text =
        std::fs::read_to_string(path).map_err(|e| format!("{name}: cannot read model: {e}"))?;
    let params: HmmParams = serde_json::from_str(&text).map_err(|e| {
        format!(
            "{name}: not a model file ({e}); expected \
             {{\"startprob\":[…],\"transmat\":[[…]],\"means\":[…],\"variances\":[…]}}"
        )
    })?;
    GaussianHmm::new(params).map_err(|e| format!("{name}: invalid model: {e}"))
}

/// The `--json` object; `loglik_history` and `fitted_params` only after a fit.
fn to_json(decoded: &Decoded) -> serde_json::Value {
    let mut out = json!({
        "loglik": decoded.posteriors.loglik(),
        "viterbi_logprob": decoded.best.log_prob,
        "viterbi_path": decoded.best.path,
        "filtered_posteriors": decoded.posteriors.filtered().to_rows(),
        "smoothed_posteriors": decoded.posteriors.smoothed().to_rows(),
    });
    if let Some(fit) = &decoded.fit {
        out["loglik_history"] = json!(fit.loglik_history);
        out["fitted_params"] = json!(decoded.model.to_params());
    }
    out
}

/// The readable report: the fit, each regime's parameters read as a trader would, and
/// where the last bar stands.
fn table(args: &RegimeArgs, covars_prior: f64, decoded: &Decoded) -> String {
    let Decoded {
        model,
        fit,
        posteriors,
        best,
    } = decoded;
    let k = model.n_states();
    let bars = best.path.len();
    let mut out = String::new();
    let origin = match fit {
        Some(fit) => format!(
            "{} fitted by {} Baum-Welch iterations (covars_prior {covars_prior})",
            args.model.display(),
            fit.loglik_history.len()
        ),
        None => args.model.display().to_string(),
    };
    let _ = writeln!(
        out,
        "regime model: {k} states over {bars} returns from {}; {origin}",
        args.returns.display()
    );
    if let Some(fit) = fit {
        if let (Some(first), Some(last)) = (fit.loglik_history.first(), fit.loglik_history.last()) {
            let _ = writeln!(
                out,
                "fit         log-likelihood {first:.6} at the start, {last:.6} before the last step"
            );
        }
    }
    let _ = writeln!(
        out,
        "likelihood  log-likelihood {:.6}; most likely path (Viterbi) log-probability {:.6}",
        posteriors.loglik(),
        best.log_prob
    );
    let last = posteriors.filtered().row(bars - 1);
    let _ = writeln!(
        out,
        "{:>5}  {:>10}  {:>10}  {:>11}  {:>15}  {:>12}  {:>10}",
        "state",
        "mean",
        "volatility",
        "persistence",
        "duration (bars)",
        "Viterbi bars",
        "last bar p"
    );
    for (s, &p_last) in last.iter().enumerate() {
        let persistence = model.transition(s, s);
        let duration = if persistence < 1.0 {
            format!("{:.1}", 1.0 / (1.0 - persistence))
        } else {
            "inf".to_owned()
        };
        let share = best.path.iter().filter(|&&z| z == s).count() as f64 / bars as f64;
        let _ = writeln!(
            out,
            "{s:>5}  {:>+10.6}  {:>10.6}  {persistence:>11.4}  {duration:>15}  {:>11.1}%  {:>10.4}",
            model.means()[s],
            model.variances()[s].sqrt(),
            100.0 * share,
            p_last,
        );
    }
    let likeliest =
        last.iter().enumerate().fold(
            (0, f64::NEG_INFINITY),
            |acc, (s, &p)| {
                if p > acc.1 {
                    (s, p)
                } else {
                    acc
                }
            },
        );
    let _ = writeln!(
        out,
        "last bar    regime {} (p = {:.4}); the Viterbi path ends in regime {}",
        likeliest.0,
        likeliest.1,
        best.path[bars - 1]
    );
    out
}
