#!/usr/bin/env bash
# Runs every `cargo fuzz` target in fuzz/ for a bounded time, and fails on a crash.
#
#   scripts/fuzz.sh [SECONDS_PER_TARGET]     (default 30)
#
# Needs the nightly toolchain (libFuzzer's coverage instrumentation). Without it, it
# says so and exits 0: the same bodies run on stable in the test suite
# (tests/fuzz_bounded.rs). Installs cargo-fuzz into cargo's bin directory when missing.
#
# Builds once, then runs each target with the committed seeds (fuzz/corpus/TARGET) as a
# read-only input and fuzz/target/corpus/TARGET as the corpus it grows, so the seeds in
# git never change. Each target's log goes to fuzz/target/TARGET.log; its last lines
# (libFuzzer's coverage and exec/s) are printed. A crash leaves the input in
# fuzz/artifacts/TARGET/ and the whole log's tail on the terminal.
#
# No sanitizer: the parsers are safe Rust (the library denies `unsafe_code` outside the
# journal's writer, which no target reaches), so AddressSanitizer would find nothing
# that bounds checks do not, at half the speed and a longer build. Debug assertions and
# overflow checks are on (`-a`), as in the tests.
set -euo pipefail
cd "$(dirname "$0")/.."

seconds="${1:-30}"
case "$seconds" in
  -h|--help) sed -n '2,19p' "$0"; exit 0 ;;
  ''|*[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS_PER_TARGET]" >&2; exit 2 ;;
esac

if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "no nightly toolchain: the fuzz bodies ran only in the stable bounded runner" \
       "(tests/fuzz_bounded.rs, part of the tests)"
  exit 0
fi
if ! command -v cargo-fuzz >/dev/null 2>&1; then
  cargo install cargo-fuzz --locked
fi

flags=(--sanitizer none --debug-assertions)
cargo +nightly fuzz build "${flags[@]}"
for target in $(cargo +nightly fuzz list); do
  corpus="fuzz/target/corpus/$target"
  log="fuzz/target/$target.log"
  mkdir -p "$corpus"
  echo "fuzzing $target for ${seconds}s"
  if ! cargo +nightly fuzz run "${flags[@]}" "$target" "$corpus" "fuzz/corpus/$target" -- \
      -max_total_time="$seconds" -rss_limit_mb=2048 -print_final_stats=1 >"$log" 2>&1; then
    tail -n 60 "$log"
    echo "fuzz target $target failed; the input is in fuzz/artifacts/$target/ (see fuzz/README.md)" >&2
    exit 1
  fi
  grep -E '^#[0-9]+[[:space:]]+(INITED|DONE)|^stat::(number_of_executed_units|average_exec_per_sec)' "$log" | tail -n 6 || true
done
