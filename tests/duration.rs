//! `tickpipe run --duration`: a run whose duration is up stops as on Ctrl-C, so
//! `risk.on_shutdown` decides about the positions still open (closed under `"flatten"`,
//! the default; left and named under `"leave"`). A day that simply runs out of data is
//! no stop; the backtest and determinism tests hold that part.

use std::{
    path::PathBuf,
    process::{Command, Output},
};

use serde_json::Value;

/// A scratch directory of this test process.
fn dir(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tickpipe-duration-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// 90 minutes of the synthetic day (seed 5: positions are open at that time) under
/// `risk.on_shutdown = policy`, paper gateway; the output and the JSON summary.
fn run_90m(policy: &str) -> (Output, Value) {
    let dir = dir(policy);
    let config = dir.join("config.toml");
    std::fs::write(&config, format!("[risk]\non_shutdown = \"{policy}\"\n")).unwrap();
    let summary = dir.join("summary.json");
    let out = Command::new(env!("CARGO_BIN_EXE_tickpipe"))
        .args([
            "run",
            "--quiet",
            "--no-control",
            "--no-journal",
            "--duration",
            "90m",
            "--seed",
            "5",
            "--config",
        ])
        .arg(&config)
        .arg("--summary-json")
        .arg(&summary)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    let v = serde_json::from_str(&std::fs::read_to_string(&summary).unwrap()).unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    (out, v)
}

#[test]
fn a_run_whose_duration_is_up_flattens_its_positions() {
    let (out, v) = run_90m("flatten");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("shutdown_flatten"), "{stderr}");
    assert_eq!(
        v["pnl"]["open_positions"].as_u64(),
        Some(0),
        "flat at the end: {}\n{stderr}",
        v["pnl"]
    );
    assert!(!stderr.contains("position left open"), "{stderr}");
}

#[test]
fn under_leave_a_run_whose_duration_is_up_names_the_positions_it_leaves() {
    let (out, v) = run_90m("leave");
    let stderr = String::from_utf8_lossy(&out.stderr);
    let open = v["pnl"]["open_positions"].as_u64().unwrap();
    assert!(open > 0, "positions open at 90 minutes: {}", v["pnl"]);
    assert!(!stderr.contains("shutdown_flatten"), "{stderr}");
    // As after Ctrl-C: every position left open is named.
    assert_eq!(
        stderr.matches("position left open").count() as u64,
        open,
        "{stderr}"
    );
}
