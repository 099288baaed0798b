//! The command line.
use std::process::ExitCode;

/// Entry point of the `tickpipe` binary.
pub fn main() -> ExitCode {
    ExitCode::SUCCESS
}
