//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::{
    path::{Path, PathBuf},
    sync::{atomic::AtomicBool, Arc},
};

use tickpipe::{
    engine::{EngineConfig, Pipeline, RunReport},
    risk::FillRecord,
};

/// The embedded default configuration with a seed, unpinned (tests must not depend on
/// which cores the machine has) and without a status line.
pub fn config(seed: u64, duration: &str) -> EngineConfig {
    let mut config = EngineConfig::embedded_default();
    config.feed.synthetic.seed = seed;
    config.feed.duration = duration.to_owned();
    config.runtime.cores = Vec::new();
    config.runtime.status_interval_ms = 0;
    // Tests run engines side by side in one process: none serves the control socket
    // unless a test asks for it (with its own run directory).
    config.control.enabled = false;
    // Likewise no journal unless a test asks for one (in a directory of its own).
    config.journal.enabled = false;
    config
}

/// Builds the pipeline for `config`.
pub fn pipeline(config: &EngineConfig) -> (Pipeline, tickpipe::model::InstrumentTable) {
    let opened = config.feed.open().expect("source opens");
    let until = config.feed.until(opened.start).unwrap();
    let stop = Arc::new(AtomicBool::new(false));
    let pipeline = Pipeline::build(
        config,
        &opened.instruments,
        opened.source,
        opened.start,
        until,
        stop,
    )
    .expect("pipeline builds");
    (pipeline, opened.instruments)
}

/// Runs `config` in its configured thread layout.
pub fn run_threaded(config: &EngineConfig) -> RunReport {
    let layout = config.layout().expect("layout");
    let (pipeline, _) = pipeline(config);
    pipeline
        .run(&layout, std::time::Duration::ZERO, |_| {})
        .expect("run completes")
}

/// Runs `config` with every stage on the calling thread.
pub fn run_inline(config: &EngineConfig) -> RunReport {
    let (pipeline, _) = pipeline(config);
    pipeline.run_inline()
}

/// The fills a run booked.
pub fn fills(report: &RunReport) -> Vec<FillRecord> {
    report
        .trading()
        .expect("risk reports its book")
        .fills
        .clone()
}
pub mod control;
pub mod kite;
pub mod kite_broker;
pub mod ticker_server;

/// The `tickpipe` binary of this build.
pub fn tickpipe() -> std::process::Command {
    std::process::Command::new(env!("CARGO_BIN_EXE_tickpipe"))
}

/// A scratch directory of this test process, `tickpipe-PREFIX-PID-NAME` under the
/// system's temporary directory: made empty when taken, removed when dropped, unless
/// the test is failing (what a failed run left is then there to look at). A journaled
/// run preallocates its segments, so directories left by passing tests filled disks.
pub struct Scratch(PathBuf);

impl Scratch {
    pub fn new(prefix: &str, name: &str) -> Scratch {
        let dir =
            std::env::temp_dir().join(format!("tickpipe-{prefix}-{}-{name}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).unwrap();
        Scratch(dir)
    }

    /// Writes `contents` to the file `name` in the directory and returns its path.
    pub fn file(&self, name: &str, contents: &str) -> PathBuf {
        let path = self.0.join(name);
        std::fs::write(&path, contents).unwrap();
        path
    }

    /// As [`Scratch::file`], readable by its owner alone (mode 0600), as credentials
    /// must be.
    pub fn secret(&self, name: &str, contents: &str) -> PathBuf {
        use std::os::unix::fs::PermissionsExt;
        let path = self.file(name, contents);
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o600)).unwrap();
        path
    }
}

impl std::ops::Deref for Scratch {
    type Target = Path;

    fn deref(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        if !std::thread::panicking() {
            let _ = std::fs::remove_dir_all(&self.0);
        }
    }
}
