//! The `tickpipe` command.
use std::process::ExitCode;

fn main() -> ExitCode {
    tickpipe::cli::main()
}
