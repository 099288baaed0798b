//! `tickpipe report --equity` against the performance-metrics fixture: every empyrical
//! statistic to 1e-9 relative, every drawdown episode's bars and dates exactly (see
//! `tests/fixtures/metrics/README.md` for how the fixture was made and what it defines).

use std::process::Command;

use serde_json::Value;

const CURVE: &str = "tests/fixtures/metrics/curve1-equity.csv";
const EXPECTED: &str = "tests/fixtures/metrics/curve1-expected.json";

fn expected() -> Value {
    serde_json::from_str(&std::fs::read_to_string(EXPECTED).unwrap()).unwrap()
}

fn report_json(curve: &str) -> Value {
    let out = Command::new(env!("CARGO_BIN_EXE_tickpipe"))
        .args(["report", "--equity", curve, "--json"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Floats within 1e-9 relative, everything else exactly, recursively; `path` names the
/// place of a mismatch.
fn assert_matches(got: &Value, want: &Value, path: &str) {
    match (got, want) {
        (Value::Number(g), Value::Number(w)) if w.is_f64() => {
            let (g, w) = (g.as_f64().unwrap(), w.as_f64().unwrap());
            let rel = (g - w).abs() / w.abs().max(f64::MIN_POSITIVE);
            assert!(rel <= 1e-9, "{path}: {g} against {w} (relative {rel:e})");
        }
        (Value::Object(g), Value::Object(w)) => {
            for (key, w) in w {
                let g = g
                    .get(key)
                    .unwrap_or_else(|| panic!("{path}.{key} is missing"));
                assert_matches(g, w, &format!("{path}.{key}"));
            }
        }
        (Value::Array(g), Value::Array(w)) => {
            assert_eq!(g.len(), w.len(), "{path}: length");
            for (i, (g, w)) in g.iter().zip(w).enumerate() {
                assert_matches(g, w, &format!("{path}[{i}]"));
            }
        }
        _ => assert_eq!(got, want, "{path}"),
    }
}

#[test]
fn every_empyrical_statistic_matches_the_fixture() {
    let got = report_json(CURVE);
    let want = expected();
    let empyrical = want["empyrical"].as_object().unwrap();
    let mut checked = 0;
    for (key, value) in empyrical {
        if key == "call_args" {
            continue;
        }
        assert_matches(&got[key], value, key);
        checked += 1;
    }
    assert_eq!(checked, 11, "all eleven statistics");
}

#[test]
fn every_drawdown_episode_matches_the_fixture() {
    let got = report_json(CURVE);
    let own = expected()["own"].clone();
    assert_eq!(own["n_episodes"], 41);
    for (key, value) in own.as_object().unwrap() {
        assert_matches(&got[key], value, key);
    }
}

#[test]
fn a_bad_curve_is_refused_with_the_line() {
    let dir = std::env::temp_dir().join(format!("tickpipe-report-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let bad = dir.join("bad.csv");
    std::fs::write(&bad, "date,equity\n2026-01-01,100\n2026-01-02,oops\n").unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tickpipe"))
        .args(["report", "--equity"])
        .arg(&bad)
        .output()
        .unwrap();
    assert!(!out.status.success());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(
        err.contains("bad.csv: line 3: equity \"oops\" is not a number"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}
