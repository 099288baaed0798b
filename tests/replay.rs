//! A recorded day replays to the same trades, and a damaged file is refused with its
//! byte offset.

mod common;

use std::{path::PathBuf, process::Command};

use tickpipe::feed::SourceKind;

fn temp_path(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("tickpipe-replay-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir.join(name)
}

fn record(path: &PathBuf, seed: u64, duration: &str) {
    let out = Command::new(env!("CARGO_BIN_EXE_tickpipe"))
        .args([
            "record",
            "--seed",
            &seed.to_string(),
            "--duration",
            duration,
            "--out",
        ])
        .arg(path)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn a_recorded_session_replays_to_identical_fills() {
    let path = temp_path("day.ticks");
    record(&path, 21, "3h");

    let live = common::run_inline(&common::config(21, "3h"));
    let mut replay_cfg = common::config(21, "");
    replay_cfg.feed.source = SourceKind::Replay;
    replay_cfg.feed.replay_file = Some(path.clone());
    let replayed = common::run_inline(&replay_cfg);

    assert!(replayed.error().is_none(), "{:?}", replayed.error());
    assert_eq!(
        live.stage("feed").unwrap().counter("events"),
        replayed.stage("feed").unwrap().counter("events")
    );
    let fills = common::fills(&live);
    assert!(!fills.is_empty());
    assert_eq!(fills, common::fills(&replayed));
}

#[test]
fn a_damaged_file_stops_the_run_with_the_byte_offset() {
    let path = temp_path("damaged.ticks");
    record(&path, 22, "30m");
    let mut bytes = std::fs::read(&path).unwrap();
    let middle = bytes.len() / 2;
    bytes[middle] ^= 0x5a;
    std::fs::write(&path, &bytes).unwrap();

    let config = temp_path("replay.toml");
    std::fs::write(
        &config,
        format!(
            "[feed]\nsource = \"replay\"\nreplay_file = {:?}\n[runtime]\ncores = []\n",
            path.display().to_string()
        ),
    )
    .unwrap();
    let out = Command::new(env!("CARGO_BIN_EXE_tickpipe"))
        .args(["run", "--quiet", "--no-journal", "--config"])
        .arg(&config)
        .output()
        .unwrap();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!out.status.success(), "a damaged file must fail the run");
    assert!(stderr.contains("byte offset"), "{stderr}");
    // Everything before the damage was traded and reported.
    assert!(String::from_utf8_lossy(&out.stdout).contains("run summary"));
}
