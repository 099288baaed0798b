//! `tickpipe regime` and the regime library against hmmlearn 0.3.3
//! (`tests/fixtures/hmm/hmm2.json`; its README gives the semantics and tolerances).
//!
//! The binary is run on the fixture's 600 returns written to a CSV, under the fixed
//! parameters (every posterior, the Viterbi path, the log-likelihood) and after 25
//! Baum–Welch iterations from the fits' starting parameters, with and without hmmlearn's
//! default `covars_prior`. The library is checked directly for what the command does not
//! print: the emission log-densities, the prefix log-likelihoods, the online filter.

use std::{
    path::{Path, PathBuf},
    process::{Command, Output},
};

use serde_json::Value;
use tickpipe::signal::regime::{log_emission, GaussianHmm, HmmParams, RegimeFilter};

/// Log-likelihoods: hmmlearn's and ours differ only by rounding over 600 terms.
const LOGLIK_TOL: f64 = 1e-8;
/// Posteriors, absolute.
const POSTERIOR_TOL: f64 = 1e-9;
/// Baum–Welch parameters, relative to each array's largest absolute value.
const PARAM_REL_TOL: f64 = 1e-6;
/// Fitted start probabilities, absolute: one entry ends near 3e-11.
const STARTPROB_ABS_TOL: f64 = 1e-9;

fn fixture() -> Value {
    let path = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/hmm/hmm2.json");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    serde_json::from_str(&text).unwrap()
}

fn temp_file(name: &str, contents: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tickpipe-regime-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join(name);
    std::fs::write(&path, contents).unwrap();
    path
}

fn floats(value: &Value) -> Vec<f64> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .flat_map(|v| match v {
            Value::Array(_) => floats(v),
            _ => vec![v.as_f64().unwrap()],
        })
        .collect()
}

fn observations(fixture: &Value) -> Vec<f64> {
    floats(&fixture["observations"])
}

/// The fixture's returns as the command reads them; the JSON text of each number is
/// copied, so the CSV holds exactly the fixture's doubles. Each test names its own file,
/// so tests running side by side never read one another's half-written file.
fn returns_csv(name: &str, fixture: &Value) -> PathBuf {
    let mut csv = String::from("return\n");
    for x in fixture["observations"].as_array().unwrap() {
        csv.push_str(&x.to_string());
        csv.push('\n');
    }
    temp_file(&format!("{name}.csv"), &csv)
}

fn model_file(name: &str, params: &Value) -> PathBuf {
    temp_file(name, &params.to_string())
}

/// Runs `tickpipe regime --returns RETURNS --model MODEL EXTRA…`.
fn tickpipe_regime(returns: &Path, model: &Path, extra: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_tickpipe"))
        .arg("regime")
        .arg("--returns")
        .arg(returns)
        .arg("--model")
        .arg(model)
        .args(extra)
        .output()
        .unwrap()
}

/// Runs `tickpipe regime --json` and parses its one object.
fn run_json(returns: &Path, model: &Path, extra: &[&str]) -> Value {
    let out = tickpipe_regime(returns, model, &[extra, &["--json"]].concat());
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Largest |got − want| over two equally long series; asserts it is within `tol`.
fn assert_abs(what: &str, got: &[f64], want: &[f64], tol: f64) -> f64 {
    assert_eq!(got.len(), want.len(), "{what}: length");
    let err = got
        .iter()
        .zip(want)
        .map(|(g, w)| (g - w).abs())
        .fold(0.0, f64::max);
    eprintln!("{what}: max abs error {err:.3e}");
    assert!(err <= tol, "{what}: max abs error {err:e} > {tol:e}");
    err
}

/// Largest |got − want| relative to `want`'s largest magnitude; asserts it is within `tol`.
fn assert_rel(what: &str, got: &[f64], want: &[f64], tol: f64) {
    let scale = want.iter().map(|w| w.abs()).fold(0.0, f64::max);
    let err = assert_abs(what, got, want, tol * scale) / scale;
    eprintln!("{what}: max error relative to the largest entry {err:.3e}");
}

/// Every fitted parameter, and the history, against one `baum_welch` entry.
fn check_fit(name: &str, covars_prior: &str) {
    let fixture = fixture();
    let entry = fixture["baum_welch"]
        .as_array()
        .unwrap()
        .iter()
        .find(|e| e["name"] == name)
        .unwrap();
    assert_eq!(
        entry["settings"]["covars_prior"].as_f64(),
        covars_prior.parse().ok()
    );
    let returns = returns_csv(name, &fixture);
    let initial = model_file(&format!("{name}-initial.json"), &entry["initial_params"]);
    let out = run_json(
        &returns,
        &initial,
        &["--fit", "25", "--covars-prior", covars_prior],
    );
    let history = floats(&out["loglik_history"]);
    assert_eq!(history.len(), 25);
    assert_abs(
        &format!("{name} loglik_history"),
        &history,
        &floats(&entry["loglik_history"]),
        LOGLIK_TOL,
    );
    assert_abs(
        &format!("{name} initial_loglik"),
        &history[..1],
        &[entry["initial_loglik"].as_f64().unwrap()],
        LOGLIK_TOL,
    );
    assert_abs(
        &format!("{name} final_loglik"),
        &[out["loglik"].as_f64().unwrap()],
        &[entry["final_loglik"].as_f64().unwrap()],
        LOGLIK_TOL,
    );
    let (got, want) = (&out["fitted_params"], &entry["fitted_params"]);
    assert_abs(
        &format!("{name} startprob"),
        &floats(&got["startprob"]),
        &floats(&want["startprob"]),
        STARTPROB_ABS_TOL,
    );
    for key in ["transmat", "means", "variances"] {
        assert_rel(
            &format!("{name} {key}"),
            &floats(&got[key]),
            &floats(&want[key]),
            PARAM_REL_TOL,
        );
    }
}

#[test]
fn decoding_under_fixed_parameters_matches_hmmlearn() {
    let fixture = fixture();
    let want = &fixture["fixed_results"];
    let out = run_json(
        &returns_csv("fixed", &fixture),
        &model_file("fixed.json", &fixture["fixed_params"]),
        &[],
    );
    assert_eq!(out["viterbi_path"], want["viterbi_path"]);
    assert!(out.get("loglik_history").is_none() && out.get("fitted_params").is_none());
    for (key, tol) in [
        ("loglik", LOGLIK_TOL),
        ("viterbi_logprob", LOGLIK_TOL),
        ("filtered_posteriors", POSTERIOR_TOL),
        ("smoothed_posteriors", POSTERIOR_TOL),
    ] {
        let (got, want) = match key {
            "loglik" | "viterbi_logprob" => (
                vec![out[key].as_f64().unwrap()],
                vec![want[key].as_f64().unwrap()],
            ),
            _ => (floats(&out[key]), floats(&want[key])),
        };
        assert_abs(key, &got, &want, tol);
    }
}

#[test]
fn emissions_prefix_logliks_and_the_online_filter_match_hmmlearn() {
    let fixture = fixture();
    let want = &fixture["fixed_results"];
    let params: HmmParams = serde_json::from_value(fixture["fixed_params"].clone()).unwrap();
    let model = GaussianHmm::new(params).unwrap();
    let xs = observations(&fixture);
    let table = log_emission(&model, &xs);
    let got: Vec<f64> = table.rows().flatten().copied().collect();
    assert_abs("log_emission", &got, &floats(&want["log_emission"]), 1e-12);

    let mut filter = RegimeFilter::new(&model);
    let mut filtered = Vec::new();
    let mut prefix = Vec::new();
    for &x in &xs {
        filtered.extend_from_slice(filter.update(x).unwrap());
        prefix.push(filter.loglik());
    }
    assert_abs(
        "prefix_loglik (online filter)",
        &prefix,
        &floats(&want["prefix_loglik"]),
        LOGLIK_TOL,
    );
    assert_abs(
        "filtered_posteriors (online filter)",
        &filtered,
        &floats(&want["filtered_posteriors"]),
        POSTERIOR_TOL,
    );
}

#[test]
fn maximum_likelihood_fit_matches_hmmlearn() {
    check_fit("mle", "0");
}

#[test]
fn fit_with_hmmlearns_default_covars_prior_matches_hmmlearn() {
    check_fit("hmmlearn_default_priors", "0.01");
}

#[test]
fn the_table_reads_each_regime() {
    let fixture = fixture();
    let returns = returns_csv("table", &fixture);
    let model = model_file("table.json", &fixture["fixed_params"]);
    let out = tickpipe_regime(&returns, &model, &[]);
    assert!(out.status.success());
    let text = String::from_utf8(out.stdout).unwrap();
    assert!(text.contains("2 states over 600 returns"), "{text}");
    assert!(text.contains("log-likelihood 1946.592697"), "{text}");
    // State 0: μ = +0.0008, σ = 0.007, A[0][0] = 0.97, so 1/(1 − 0.97) = 33.3 bars.
    let row = text
        .lines()
        .find(|l| l.trim_start().starts_with("0 "))
        .unwrap();
    for field in ["+0.000800", "0.007000", "0.9700", "33.3"] {
        assert!(row.contains(field), "{field} not in {row}");
    }
}

/// Runs the command expecting failure; returns stderr.
fn fails(returns: &Path, model: &Path, extra: &[&str]) -> String {
    let out = tickpipe_regime(returns, model, extra);
    assert!(!out.status.success());
    assert!(out.stdout.is_empty());
    String::from_utf8(out.stderr).unwrap()
}

#[test]
fn bad_input_names_the_file_and_the_reason() {
    let fixture = fixture();
    let good_returns = temp_file("good.csv", "return\n0.01\n-0.02\n");
    let good_model = model_file("good.json", &fixture["fixed_params"]);

    let missing = std::env::temp_dir().join("tickpipe-regime-no-such-file.csv");
    let err = fails(&missing, &good_model, &[]);
    assert!(
        err.contains("tickpipe-regime-no-such-file.csv") && err.contains("cannot read"),
        "{err}"
    );

    let header = temp_file("header.csv", "close\n0.01\n");
    let err = fails(&header, &good_model, &[]);
    assert!(
        err.contains("header.csv:1") && err.contains("`return`"),
        "{err}"
    );

    let word = temp_file("word.csv", "return\n0.01\n\n0.02\nabc\n");
    let err = fails(&word, &good_model, &[]);
    assert!(
        err.contains("word.csv:5") && err.contains("`abc` is not a number"),
        "{err}"
    );

    let nan = temp_file("nan.csv", "return\nNaN\n");
    assert!(fails(&nan, &good_model, &[]).contains("nan.csv:2"));

    let empty = temp_file("empty.csv", "return\n");
    assert!(fails(&empty, &good_model, &[]).contains("no returns"));

    let json = temp_file("broken.json", "{\"startprob\": [0.5, 0.5],");
    let err = fails(&good_returns, &json, &[]);
    assert!(
        err.contains("broken.json") && err.contains("not a model file"),
        "{err}"
    );

    let unknown = temp_file(
        "unknown.json",
        r#"{"startprob":[1],"transmat":[[1]],"means":[0],"variances":[1],"covars":[1]}"#,
    );
    assert!(fails(&good_returns, &unknown, &[]).contains("unknown field `covars`"));

    let invalid = temp_file(
        "invalid.json",
        r#"{"startprob":[0.7,0.7],"transmat":[[0.9,0.1],[-0.2,1.2]],"means":[0,0],"variances":[1e-4,0]}"#,
    );
    let err = fails(&good_returns, &invalid, &[]);
    for part in [
        "invalid.json: invalid model",
        "startprob sums to 1.4",
        "transmat[1][0] = -0.2",
        "variances[1] = 0",
    ] {
        assert!(err.contains(part), "{part} not in {err}");
    }

    assert!(fails(&good_returns, &good_model, &["--covars-prior", "0.01"]).contains("--fit"));
    assert!(fails(
        &good_returns,
        &good_model,
        &["--fit", "3", "--covars-prior", "-1"]
    )
    .contains("--covars-prior"));
}
