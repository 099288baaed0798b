#!/usr/bin/env bash
# Instructions each pipeline stage executes per tick, counted by callgrind, for several
# builds of tickpipe: a cost figure that, unlike nanoseconds, does not move with the
# host's load (the same binary and input give the same count to within a few hundred
# instructions in a run of hundreds of millions).
#
# For each revision it builds `tickpipe` in a throwaway git worktree (its own target dir
# under $TMPDIR, kept for reruns), or the current checkout for `.`, then runs
#
#   tickpipe run --speed max --layout one_group --duration 30m -q [--no-control]
#
# under `valgrind --tool=callgrind` (all stages on one thread, so no instruction is spent
# spinning on an empty ring between events), and sums the instructions of the functions
# of each stage (`FeedStage`, `SignalStage`, `RiskStage`, `OrderStage`, and `Outbox`
# where a push is not inlined into a stage) divided by the ticks of the run. Every build
# runs its embedded default configuration; builds whose strategies or filters differ
# differ a little in the work per bar and signal, which is rare next to per-tick work.
#
# Instructions are not time: a change can save instructions and lose cycles (cache,
# branch prediction, code placement). Read this with the bench's p50/p99, never instead.
set -euo pipefail
cd "$(dirname "$0")/.."

usage() {
    cat <<'EOF'
usage: scripts/instructions-per-tick.sh REV [REV ...]

  REV   a git revision, or `.` for the current checkout (with uncommitted changes)

Prints a Markdown table: instructions per tick by stage and in all, one column per REV.
Needs valgrind. Builds take a few minutes each the first time.
EOF
}
[[ $# -ge 1 ]] || { usage >&2; exit 2; }
[[ "$1" == -h || "$1" == --help ]] && { usage; exit 0; }
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }

tmp="${TMPDIR:-/tmp}"
work=$(mktemp -d "$tmp/tickpipe-instructions.XXXXXX")
say() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

# Builds REV; prints the binary's path.
build() {
    local rev="$1"
    if [[ "$rev" == . ]]; then
        cargo build --release --locked -q -p tickpipe >&2
        echo "${CARGO_TARGET_DIR:-target}/release/tickpipe"
        return
    fi
    local commit src target
    commit=$(git rev-parse --verify --short=12 "${rev}^{commit}")
    src="$tmp/tickpipe-instructions-src-$commit"
    target="$tmp/tickpipe-instructions-target-$commit"
    rm -rf "$src"
    git worktree add --force --detach "$src" "$commit" >/dev/null 2>&1
    (cd "$src" && CARGO_TARGET_DIR="$target" cargo build --release --locked -q -p tickpipe) >&2
    git worktree remove --force "$src" >/dev/null 2>&1 || rm -rf "$src"
    echo "$target/release/tickpipe"
}

# Counts one binary; writes "stage instructions" lines and "ticks N" to stdout.
count() {
    local bin="$1" name="$2" args=(run --speed max --layout one_group --duration 30m -q)
    if "$bin" run --help | grep -q -- --no-control; then
        args+=(--no-control)
    fi
    valgrind --tool=callgrind --callgrind-out-file="$work/$name.out" "$bin" "${args[@]}" \
        >"$work/$name.stdout" 2>"$work/$name.valgrind"
    awk '/^market/ { gsub(",", "", $2); print "ticks", $2 }' "$work/$name.stdout"
    callgrind_annotate --auto=no --threshold=100 "$work/$name.out" 2>/dev/null |
        awk '
        /^ *[0-9,]+ \( *[0-9.]+%\) / {
            n = $1; gsub(",", "", n)
            for (s in stages) if (index($0, s)) { sum[s] += n; next }
        }
        BEGIN { stages["FeedStage"]; stages["SignalStage"]; stages["RiskStage"]; stages["OrderStage"]; stages["Outbox"] }
        END { for (s in stages) print s, sum[s] + 0 }'
}

names=()
declare -A figures
for rev in "$@"; do
    say "building $rev"
    bin=$(build "$rev")
    name=$(if [[ "$rev" == . ]]; then git describe --always --dirty --abbrev=12; else git rev-parse --short=12 "$rev"; fi)
    say "counting $name"
    names+=("$name")
    while read -r key value; do
        figures["$name/$key"]=$value
    done < <(count "$bin" "$name")
done

printf '| stage |'; for n in "${names[@]}"; do printf ' `%s` |' "$n"; done; echo
printf '| :-- |'; for _ in "${names[@]}"; do printf ' --: |'; done; echo
for stage in FeedStage SignalStage RiskStage OrderStage Outbox all; do
    printf '| %s |' "$stage"
    for n in "${names[@]}"; do
        ticks=${figures["$n/ticks"]}
        if [[ "$stage" == all ]]; then
            total=0
            for s in FeedStage SignalStage RiskStage OrderStage Outbox; do
                total=$((total + ${figures["$n/$s"]:-0}))
            done
        else
            total=${figures["$n/$stage"]:-0}
        fi
        awk -v t="$total" -v k="$ticks" 'BEGIN { printf " %.1f |", t / k }'
    done
    echo
done
printf '\nticks per run:'; for n in "${names[@]}"; do printf ' %s' "${figures["$n/ticks"]}"; done; echo
say "callgrind outputs are in $work"
