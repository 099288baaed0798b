#!/usr/bin/env bash
# What the control plane costs the pipeline, written to latency-reports/control-plane.md.
#
# 1. Builds `tickpipe-bench` at the commit before the control plane (in a throwaway git
#    worktree under $TMPDIR, with its own target dir) and at the current checkout.
# 2. Runs both alternately (before, after, before, after, ...), --reps times each, with
#    the same `pipeline` arguments and no control socket: the stage poll cost with an
#    idle control ring.
# 3. Runs the current build --reps times with `--control off,idle,pnl10hz`: no socket, a
#    socket nobody uses, and a client streaming `subscribe pnl 100` (10 Hz).
# 4. Has `tickpipe-bench control-report` read every run's summary.md and write the
#    report: medians over the repetitions, their ranges, and after/before ratios.
#
# Run it on a quiet host: the figures are only as good as the machine is idle. With the
# defaults it takes about 10 minutes on a 2-vCPU VM plus the two builds (a few minutes
# the first time; the before build's target dir is kept under $TMPDIR and reused).
set -euo pipefail
cd "$(dirname "$0")/.."

BEFORE=53b4a3a
REPS=3
EVENTS=1000000
OUT=latency-reports/control-plane.md
NOTE=""

usage() {
    cat <<'EOF'
usage: scripts/bench-control-plane.sh [--reps N] [--events N] [--before COMMIT]
                                      [--out FILE] [--note TEXT]

  --reps N         repetitions of each phase (default 3)
  --events N       events per run (default 1000000; a 100k/s run lasts N / 100000 s)
  --before COMMIT  the build to compare against (default 53b4a3a, the commit before
                   the control plane)
  --out FILE       the report (default latency-reports/control-plane.md)
  --note TEXT      a sentence set in bold at the top of the report

Fewer repetitions or events than the defaults mark the report as a sanity run.
Raw runs (summary.md, .hgrm, .svg and logs per run) stay under $TMPDIR; the script
prints where.
EOF
}

# The command as typed, for the report: each argument single-quoted unless plain.
command_line="scripts/bench-control-plane.sh"
for arg in "$@"; do
    if [[ "$arg" =~ ^[A-Za-z0-9_./=:,-]+$ ]]; then
        command_line+=" $arg"
    else
        command_line+=" '${arg//\'/\'\\\'\'}'"
    fi
done

while [[ $# -gt 0 ]]; do
    case "$1" in
        --reps) REPS="$2"; shift 2 ;;
        --events) EVENTS="$2"; shift 2 ;;
        --before) BEFORE="$2"; shift 2 ;;
        --out) OUT="$2"; shift 2 ;;
        --note) NOTE="$2"; shift 2 ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown argument: $1" >&2; usage >&2; exit 2 ;;
    esac
done
[[ "$REPS" =~ ^[1-9][0-9]*$ ]] || { echo "--reps must be a positive number" >&2; exit 2; }
[[ "$EVENTS" =~ ^[1-9][0-9]*$ ]] || { echo "--events must be a positive number" >&2; exit 2; }

before_commit=$(git rev-parse --verify --short=12 "${BEFORE}^{commit}")
tmp="${TMPDIR:-/tmp}"
work=$(mktemp -d "$tmp/tickpipe-control-plane.XXXXXX")
runs="$work/runs"
mkdir -p "$runs" "$work/bin"
# Stable paths, so a rerun reuses the kept target dir (at least its dependencies).
before_src="$tmp/tickpipe-bench-before/src-$before_commit"
before_target="$tmp/tickpipe-bench-before/target-$before_commit"

cleanup() {
    if [[ -d "$before_src" ]]; then
        git worktree remove --force "$before_src" >/dev/null 2>&1 || rm -rf "$before_src"
    fi
}
trap cleanup EXIT

say() { printf '[%s] %s\n' "$(date -u +%H:%M:%S)" "$*" >&2; }

load_start=$(cat /proc/loadavg 2>/dev/null || echo unknown)
say "load average at the start: $load_start"
if awk '{ exit !($1 >= 1.0) }' <<<"$load_start" 2>/dev/null; then
    say "warning: the host is busy (1-minute load average >= 1): the figures will be noisy"
fi

say "building the before build ($before_commit) in $before_src"
rm -rf "$before_src"
git worktree add --force --detach "$before_src" "$before_commit" >/dev/null
(cd "$before_src" && CARGO_TARGET_DIR="$before_target" \
    cargo build --release --locked -p tickpipe-bench)
cp "$before_target/release/tickpipe-bench" "$work/bin/before"

say "building the current checkout ($(git describe --always --dirty --abbrev=12))"
cargo build --release --locked -p tickpipe-bench
cp "${CARGO_TARGET_DIR:-target}/release/tickpipe-bench" "$work/bin/after"

common=(--rate 100k,max --layout one_group,two_groups --events "$EVENTS"
    --no-uncorrected --no-empty)
compare=(pipeline "${common[@]}" --strategies default,active)
modes=(pipeline "${common[@]}" --strategies active --control off,idle,pnl10hz)

# Each run's stdout is its summary (also in --out); stderr is its progress log.
run() {
    local name="$1" dir="$2" bin="$3"
    shift 3
    say "run $name: $(basename "$bin") ${*}"
    (cd "$dir" && "$bin" "$@" --out "$runs/$name") >"$runs/$name.log" 2>&1 ||
        { echo "run $name failed; its log:" >&2; tail -20 "$runs/$name.log" >&2; exit 1; }
}

before_dirs=() after_dirs=() mode_dirs=()
for rep in $(seq 1 "$REPS"); do
    # The before binary runs in its own worktree, so its summary names its commit.
    run "before-$rep" "$before_src" "$work/bin/before" "${compare[@]}"
    run "after-$rep" . "$work/bin/after" "${compare[@]}"
    before_dirs+=(--before "$runs/before-$rep")
    after_dirs+=(--after "$runs/after-$rep")
done
for rep in $(seq 1 "$REPS"); do
    run "modes-$rep" . "$work/bin/after" "${modes[@]}"
    mode_dirs+=(--modes "$runs/modes-$rep")
done

note="$NOTE"
if [[ "$REPS" -lt 3 || "$EVENTS" -lt 1000000 ]]; then
    sanity="Sanity run with fewer repetitions or events than the defaults (--reps $REPS --events $EVENTS): it shows the script works, it is not the measurement."
    note="${sanity}${note:+ $note}"
fi
report=("$work/bin/after" control-report "${before_dirs[@]}" "${after_dirs[@]}" "${mode_dirs[@]}"
    --command "$command_line" --load-start "$load_start" --out "$OUT")
if [[ -n "$note" ]]; then
    report+=(--note "$note")
fi
"${report[@]}" >/dev/null

say "wrote $OUT in $((SECONDS / 60)) min $((SECONDS % 60)) s; raw runs in $runs"
say "the before build's target dir is kept for the next run: $before_target"
