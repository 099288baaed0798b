//! `tickpipe feed decode`: prints captured feed messages as JSON, one line per message,
//! so a capture can be read and compared with the official client's decode.

use std::{
    fs::File,
    io::{self, BufRead, BufReader, BufWriter, Write},
    path::PathBuf,
};

use clap::{Args, Subcommand, ValueEnum};

use crate::feed::kite::{official, DecodeError, KiteDecoder};

/// Options of `tickpipe feed`.
#[derive(Debug, Clone, Args)]
pub struct FeedArgs {
    #[command(subcommand)]
    command: FeedCommand,
}

#[derive(Debug, Clone, Subcommand)]
enum FeedCommand {
    /// Decode captured binary messages, one hex-encoded message per line, into one JSON
    /// line each: `{"ticks":[...]}` with the official client's keys, or `{"error":"..."}`.
    Decode(DecodeArgs),
}

#[derive(Debug, Clone, Args)]
struct DecodeArgs {
    /// The wire format of the messages.
    #[arg(long, value_enum)]
    format: Format,
    /// The capture: one message per line as hex (an empty line is an empty message);
    /// `-` reads standard input.
    #[arg(value_name = "FILE")]
    file: PathBuf,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Kite Ticker binary messages (WebSocket payloads).
    Kite,
}

/// Runs `tickpipe feed`.
pub(super) fn feed(args: &FeedArgs) -> Result<(), String> {
    match &args.command {
        FeedCommand::Decode(decode) => decode_file(decode),
    }
}

fn decode_file(args: &DecodeArgs) -> Result<(), String> {
    let Format::Kite = args.format;
    let name = args.file.display().to_string();
    let input: Box<dyn BufRead> = if name == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(BufReader::new(
            File::open(&args.file).map_err(|e| format!("{name}: {e}"))?,
        ))
    };
    let mut out = BufWriter::new(io::stdout().lock());
    let mut strict = KiteDecoder::default();
    let (mut lines, mut errors) = (0u64, 0u64);
    let (mut text, mut bytes) = (String::new(), Vec::new());
    for (number, line) in input.lines().enumerate() {
        let line = line.map_err(|e| format!("{name}: line {}: {e}", number + 1))?;
        lines += 1;
        text.clear();
        let error = match parse_hex(line.trim(), &mut bytes) {
            Err(column) => Some(format!("line {}: not hex at column {column}", number + 1)),
            Ok(()) => {
                strict.decode(&bytes, |_| {});
                official::write_ticks(&bytes, &mut text)
                    .err()
                    .map(|e| format!("line {}: {e}", number + 1))
            }
        };
        if let Some(message) = error {
            errors += 1;
            text = serde_json::json!({ "error": message }).to_string();
        }
        writeln!(out, "{text}").map_err(|e| format!("standard output: {e}"))?;
    }
    out.flush().map_err(|e| format!("standard output: {e}"))?;
    eprintln!("{}", summary(lines, errors, &strict));
    Ok(())
}

/// One line for standard error: what was read, and what the engine's stricter decoder
/// would have skipped (it reads no cut packets and keeps packets before an overrun).
fn summary(lines: u64, errors: u64, strict: &KiteDecoder) -> String {
    let mut text = format!(
        "tickpipe: {lines} messages, {errors} errors; the engine's decoder: {} packets, {} heartbeats",
        strict.packets(),
        strict.heartbeats()
    );
    for (name, count) in DecodeError::KIND_NAMES.iter().zip(strict.skipped()) {
        if count > 0 {
            text.push_str(&format!(", {count} skipped ({name})"));
        }
    }
    text
}

/// Decodes `text` as hex into `out`; on failure, the 1-based column of the first bad
/// character (or of the unpaired last digit).
fn parse_hex(text: &str, out: &mut Vec<u8>) -> Result<(), usize> {
    out.clear();
    let digits = text.as_bytes();
    for (i, pair) in digits.chunks(2).enumerate() {
        let digit = |at: usize| {
            pair.get(at)
                .and_then(|&c| (c as char).to_digit(16))
                .ok_or(2 * i + at + 1)
        };
        out.push((digit(0)? * 16 + digit(1)?) as u8);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hex_in_either_case_and_bad_columns() {
        let mut out = Vec::new();
        assert_eq!(parse_hex("00aB", &mut out), Ok(()));
        assert_eq!(out, [0x00, 0xab]);
        assert_eq!(parse_hex("", &mut out), Ok(()));
        assert!(out.is_empty());
        assert_eq!(parse_hex("0x12", &mut out), Err(2));
        assert_eq!(parse_hex("123", &mut out), Err(4));
    }
}
