//! `tickpipe record`: writes market events to a tick file for replay.

use std::path::PathBuf;

use clap::Args;

use super::{load_config, RunArgs};
use crate::feed::{SourcePoll, TickFileWriter};

/// Options of `tickpipe record`.
#[derive(Debug, Clone, Args)]
pub struct RecordArgs {
    /// The tick file to write (replaced if it exists).
    #[arg(long, short = 'o', value_name = "FILE")]
    pub out: PathBuf,
    /// Configuration, seed and duration, as for `run`.
    #[command(flatten)]
    pub run: RunArgs,
}

/// Plays the configured source (the synthetic session by default) into a tick file,
/// without trading.
pub(super) fn record(args: &RecordArgs) -> Result<(), String> {
    let (config, _) = load_config(&args.run)?;
    // A live source's link logs its connection; the log is this command's messages too.
    let logs = crate::logging::install(&config.log)?;
    let result = play(args, &config);
    if let Err(message) = &result {
        tracing::error!("{message}");
        if logs.errors_reach_stderr() {
            drop(logs);
            return Err(String::new());
        }
    }
    result
}

/// Plays the source into the tick file.
fn play(args: &RecordArgs, config: &crate::engine::EngineConfig) -> Result<(), String> {
    let mut opened = config.feed.open()?;
    // No gateway here: dropping the postbacks' end tells the ticker to pass none on,
    // rather than fill the ring and count the rest as dropped.
    drop(opened.postbacks.take());
    let until = config.feed.until(opened.start)?;
    let mut writer =
        TickFileWriter::create(&args.out, &opened.instruments).map_err(|e| e.to_string())?;
    loop {
        match opened.source.poll_event().map_err(|e| e.to_string())? {
            SourcePoll::Event(event) => {
                if until.is_some_and(|u| event.exchange_ts() > u) {
                    break;
                }
                writer.write(&event).map_err(|e| e.to_string())?;
            }
            SourcePoll::Pending => std::thread::yield_now(),
            SourcePoll::End => break,
        }
    }
    let records = writer.finish().map_err(|e| e.to_string())?;
    tracing::info!(
        events = records,
        instruments = opened.instruments.len(),
        file = %args.out.display(),
        feed = opened.description.as_str(),
        "record: tick file written"
    );
    Ok(())
}
