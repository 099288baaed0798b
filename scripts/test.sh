#!/usr/bin/env bash
# The one command that runs every test of the workspace: unit, integration and doc tests.
# It builds the `test-opt` profile (optimised, debug assertions and overflow checks on):
# the integration tests trade whole synthetic days, which take seconds optimised and
# minutes unoptimised.
set -euo pipefail
cd "$(dirname "$0")/.."
cargo test --workspace --profile test-opt --locked "$@"
