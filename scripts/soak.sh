#!/usr/bin/env bash
# The fault suite (tests/faults.rs) in a loop for HOURS (default 1; decimals allowed),
# each round with a random seed for the synthetic day and the paper exchange's faults,
# printing each round's table. Stops at the first failing round and prints the command
# that repeats it.
#
#   scripts/soak.sh          # one hour
#   scripts/soak.sh 8        # a night
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ "${1:-}" == "-h" || "${1:-}" == "--help" ]]; then
    sed -n '2,8p' "$0" | sed 's/^# \{0,1\}//'
    exit 0
fi
hours="${1:-1}"
if ! [[ "$hours" =~ ^[0-9]+([.][0-9]+)?$ ]]; then
    echo "usage: scripts/soak.sh [HOURS]  (got '$hours')" >&2
    exit 2
fi
end=$(($(date +%s) + $(awk -v h="$hours" 'BEGIN { printf "%d", h * 3600 }')))

run() { cargo test --profile test-opt --locked --test faults "$@"; }

run --no-run
round=0
while [ "$(date +%s)" -lt "$end" ]; do
    round=$((round + 1))
    seed=$(od -An -N4 -tu4 /dev/urandom | tr -d ' ')
    printf '\n==> soak round %d, seed %s\n' "$round" "$seed"
    if ! TICKPIPE_FAULTS_SEED="$seed" run -- --nocapture --test-threads 1; then
        echo "soak: round $round failed; repeat it with:" >&2
        echo "  TICKPIPE_FAULTS_SEED=$seed cargo test --profile test-opt --test faults -- --nocapture" >&2
        exit 1
    fi
done
echo "soak: $round round(s) passed"
