#!/usr/bin/env bash
# tune-host.sh: check (and with --apply, set) the host settings that decide tickpipe's
# tail latency on bare metal or a dedicated VM: CPU governor, core isolation boot
# parameters, IRQ affinity, transparent huge pages, swap, timer migration, C-states,
# clocksource, NUMA and SMT placement of the pipeline cores.
#
# Report mode (the default) only reads. --apply changes runtime settings only; it never
# edits boot loader, sysctl.d or systemd files, it prints what to put in them.
set -euo pipefail

PROG=${0##*/}
readonly PROG

usage() {
    cat <<EOF
Usage: $PROG [--cores LIST] [--apply] [--help]

Checks the host settings that matter for tickpipe's latency and prints, for each one,
the current value, the recommended value and whether they match, then what to do.
By default nothing is changed and no root is needed.

Options:
  --cores LIST  the cores the pipeline stages are pinned to ([runtime] cores in the
                tickpipe config), as a kernel CPU list: 2,3 or 2-3 or 2-5,8; 'none' for
                no pipeline cores. Default: every online core but the first (core 0) when
                there is more than one core, else none.
  --apply       as root, apply what can change at runtime: CPU governor, IRQ affinity
                (moved to the non-pipeline cores where the kernel allows), transparent
                huge pages, vm.swappiness, kernel.timer_migration, clocksource.
                Then report the state after. Runtime changes are lost on reboot; the
                report says how to persist them. Boot parameters, swap removal,
                irqbalance, NUMA and SMT placement are left to you, with the commands.
  -h, --help    show this help.

Exit status: 0 after a report; 0 after --apply when every setting was written (IRQs the
kernel refuses to move are listed but do not fail the run); 1 when --apply is run
without root or a setting could not be written; 2 on bad usage.

Testing aid: TUNE_HOST_ROOT=DIR makes the script read and write DIR/sys, DIR/proc and
DIR/etc instead of /sys, /proc and /etc, so the --apply paths can be exercised against
a fake tree; with it set, --apply does not require root.
EOF
}

# Usage error: message on stderr, exit 2.
die_usage() {
    printf '%s: %s (see --help)\n' "$PROG" "$1" >&2
    exit 2
}

APPLY=0
CORES_ARG=""
CORES_GIVEN=0
while (($# > 0)); do
    case $1 in
        --apply) APPLY=1 ;;
        --cores)
            if (($# < 2)); then
                die_usage "--cores needs a list, e.g. --cores 2,3 or --cores 2-3"
            fi
            CORES_ARG=$2
            CORES_GIVEN=1
            shift
            ;;
        --cores=*)
            CORES_ARG=${1#*=}
            CORES_GIVEN=1
            ;;
        -h | --help)
            usage
            exit 0
            ;;
        *) die_usage "unknown option '$1'" ;;
    esac
    shift
done

ROOT=${TUNE_HOST_ROOT:-}
ROOT=${ROOT%/}
SYS=$ROOT/sys
PROC=$ROOT/proc
ETC=$ROOT/etc
CPU_DIR=$SYS/devices/system/cpu
THP_DIR=$SYS/kernel/mm/transparent_hugepage
CLOCK_DIR=$SYS/devices/system/clocksource/clocksource0

if ((APPLY)) && [[ -z $ROOT ]] && ((EUID != 0)); then
    printf '%s: --apply changes kernel settings and needs root; nothing was changed.\n' "$PROG" >&2
    cores_hint=""
    if ((CORES_GIVEN)); then cores_hint=" --cores $CORES_ARG"; fi
    printf 'Run it as root, e.g.: sudo %s --apply%s\n' "$0" "$cores_hint" >&2
    exit 1
fi

# ---------------------------------------------------------------------------------------
# Small helpers. Every read tolerates a missing file: VMs and containers hide many.

# Prints the first line of FILE; fails when it is missing, unreadable or empty.
read_file() {
    local line=""
    [[ -r $1 && -f $1 ]] || return 1
    IFS= read -r line 2>/dev/null <"$1" || [[ -n $line ]] || return 1
    printf '%s' "$line"
}

# Prints the first line of FILE, or DEFAULT when it cannot be read. Never fails.
read_or() {
    local v
    if v=$(read_file "$1"); then printf '%s' "$v"; else printf '%s' "$2"; fi
}

# Expands a kernel CPU list ("0-2,5") into sorted, unique numbers ("0 1 2 5").
# An empty list expands to nothing; a malformed one fails.
expand_list() {
    local spec=$1 part lo hi i
    local -a parts=() out=()
    [[ -n $spec ]] || return 0
    [[ $spec =~ ^[0-9]+(-[0-9]+)?(,[0-9]+(-[0-9]+)?)*$ ]] || return 1
    IFS=, read -ra parts <<<"$spec"
    for part in "${parts[@]}"; do
        lo=${part%-*}
        hi=${part#*-}
        lo=$((10#$lo))
        hi=$((10#$hi))
        if ((lo > hi || hi >= 8192)); then return 1; fi
        for ((i = lo; i <= hi; i++)); do out+=("$i"); done
    done
    printf '%s\n' "${out[@]}" | sort -n -u | paste -sd' ' -
}

# Compresses sorted numbers ("0 1 2 5") into a kernel CPU list ("0-2,5").
compress_list() {
    local text="" start="" prev="" c
    for c in $1; do
        if [[ -z $start ]]; then
            start=$c
        elif ((c != prev + 1)); then
            if ((start == prev)); then text+="${text:+,}$start"; else text+="${text:+,}$start-$prev"; fi
            start=$c
        fi
        prev=$c
    done
    if [[ -n $start ]]; then
        if ((start == prev)); then text+="${text:+,}$start"; else text+="${text:+,}$start-$prev"; fi
    fi
    printf '%s' "$text"
}

# Like compress_list, but says "none" for an empty set.
show_list() {
    local s
    s=$(compress_list "$1")
    printf '%s' "${s:-none}"
}

# True when number $1 is in the space-separated set $2.
in_set() { [[ " $2 " == *" $1 "* ]]; }

# Members of set $1 that are not in set $2.
set_minus() {
    local c
    local -a out=()
    for c in $1; do
        if ! in_set "$c" "$2"; then out+=("$c"); fi
    done
    printf '%s' "${out[*]}"
}

# Members of set $1 that are also in set $2.
set_and() {
    local c
    local -a out=()
    for c in $1; do
        if in_set "$c" "$2"; then out+=("$c"); fi
    done
    printf '%s' "${out[*]}"
}

# True when every member of set $1 is in set $2.
is_subset() {
    local c
    for c in $1; do
        in_set "$c" "$2" || return 1
    done
    return 0
}

# Converts CPU numbers into the hex mask format of /proc/irq/*/smp_affinity
# ("00000001,00000005": 32-bit words, most significant first).
list_to_mask() {
    local c max=0 w text=""
    local -a words=()
    for c in $1; do
        if ((c > max)); then max=$c; fi
    done
    for ((w = 0; w <= max / 32; w++)); do words[w]=0; done
    for c in $1; do words[c / 32]=$((words[c / 32] | (1 << (c % 32)))); done
    for ((w = max / 32; w >= 0; w--)); do
        text+="${text:+,}$(printf '%08x' "${words[w]}")"
    done
    printf '%s' "$text"
}

# Converts a hex CPU mask ("3" or "00000000,00000003") into CPU numbers ("0 1").
mask_to_list() {
    local hex=${1//,/} i n d b
    local -a out=()
    [[ $hex =~ ^[0-9a-fA-F]+$ ]] || return 1
    n=${#hex}
    for ((i = 0; i < n; i++)); do
        d=$((16#${hex:n - 1 - i:1}))
        for ((b = 0; b < 4; b++)); do
            if ((d & (1 << b))); then out+=("$((i * 4 + b))"); fi
        done
    done
    printf '%s' "${out[*]}"
}

# Writes VALUE to FILE. On failure returns 1 and leaves the kernel's reason in WRITE_ERR.
WRITE_ERR=""
try_write() {
    local err
    if err=$({ printf '%s\n' "$2" >"$1"; } 2>&1); then
        return 0
    fi
    WRITE_ERR=${err##*: }
    WRITE_ERR=${WRITE_ERR:-write failed}
    return 1
}

# The bracketed choice of a sysfs selector file: "always [madvise] never" -> "madvise".
selected() {
    local re='\[([^]]+)\]'
    if [[ $1 =~ $re ]]; then printf '%s' "${BASH_REMATCH[1]}"; else printf '%s' "$1"; fi
}

# The value of a /proc/cpuinfo field of the first CPU, or nothing.
cpuinfo_field() {
    local line
    [[ -r $PROC/cpuinfo ]] || return 0
    while IFS= read -r line; do
        if [[ $line =~ ^$1[[:space:]]*: ]]; then
            line=${line#*:}
            printf '%s' "${line# }"
            return 0
        fi
    done <"$PROC/cpuinfo"
}

# ---------------------------------------------------------------------------------------
# Results: table rows, things to do, and the log of --apply.

ROW_SETTING=()
ROW_CURRENT=()
ROW_RECOMMENDED=()
ROW_MATCH=()
# A section title row has an empty MATCH.
section() { row "$1" "" "" ""; }
row() {
    ROW_SETTING+=("$1")
    ROW_CURRENT+=("$2")
    ROW_RECOMMENDED+=("$3")
    ROW_MATCH+=("$4")
}

# KIND is runtime (--apply does it), boot (kernel parameter), manual or info.
TODO_KIND=()
TODO_TITLE=()
TODO_BODY=()
todo() {
    TODO_KIND+=("$1")
    TODO_TITLE+=("$2")
    TODO_BODY+=("$3")
}

APPLY_LOG=()
APPLY_FAILED=0
log_change() { APPLY_LOG+=("  changed   $1"); }
log_refused() { APPLY_LOG+=("  refused   $1"); }
log_failed() {
    APPLY_LOG+=("  FAILED    $1")
    APPLY_FAILED=1
}

# Boot parameters to add (key=value), in order, for the GRUB advice.
BOOT_ADD=()

# ---------------------------------------------------------------------------------------
# The cores: online, pipeline (isolated, one pinned stage group each), housekeeping.

online_spec=$(read_or "$CPU_DIR/online" "")
if ! ONLINE=$(expand_list "$online_spec") || [[ -z $ONLINE ]]; then
    # No sysfs: count the processors in /proc/cpuinfo, or ask the C library.
    n=0
    if [[ -r $PROC/cpuinfo ]]; then
        n=$(grep -c '^processor' "$PROC/cpuinfo" || true)
    fi
    if ((n == 0)) && [[ -z $ROOT ]]; then n=$(nproc 2>/dev/null || echo 1); fi
    if ((n == 0)); then n=1; fi
    ONLINE=$(expand_list "0-$((n - 1))")
fi
read -ra online_arr <<<"$ONLINE"
FIRST_CORE=${online_arr[0]}

if ((CORES_GIVEN)); then
    if [[ $CORES_ARG == none ]]; then
        PIPE=""
    elif ! PIPE=$(expand_list "$CORES_ARG") || [[ -z $PIPE ]]; then
        die_usage "--cores '$CORES_ARG' is not a CPU list like 2,3 or 2-3 or 'none'"
    fi
    not_online=$(set_minus "$PIPE" "$ONLINE")
    if [[ -n $not_online ]]; then
        die_usage "--cores: core(s) $(show_list "$not_online") are not online (online: $(show_list "$ONLINE"))"
    fi
elif ((${#online_arr[@]} > 1)); then
    PIPE=$(set_minus "$ONLINE" "$FIRST_CORE")
else
    PIPE=""
fi
HOUSE=$(set_minus "$ONLINE" "$PIPE")
PIPE_LIST=$(compress_list "$PIPE")
HOUSE_LIST=$(compress_list "$HOUSE")

# Kernel command line, up to "--" (what follows goes to init). Keys normalised to "_".
declare -A CMDLINE=()
read_cmdline() {
    local line tok key
    local -a toks=()
    line=$(read_or "$PROC/cmdline" "")
    read -ra toks <<<"$line"
    for tok in "${toks[@]}"; do
        [[ $tok != -- ]] || break
        key=${tok%%=*}
        key=${key//-/_}
        if [[ $tok == *=* ]]; then CMDLINE[$key]=${tok#*=}; else CMDLINE[$key]=""; fi
    done
}
read_cmdline
CMDLINE_READABLE=0
if [[ -r $PROC/cmdline ]]; then CMDLINE_READABLE=1; fi

# ---------------------------------------------------------------------------------------
# --apply: runtime changes. Each one reads the current value itself and logs what it did.

apply_governor() {
    local c f cur avail
    for c in $ONLINE; do
        f=$CPU_DIR/cpu$c/cpufreq/scaling_governor
        cur=$(read_or "$f" "")
        [[ -n $cur && $cur != performance ]] || continue
        avail=$(read_or "$CPU_DIR/cpu$c/cpufreq/scaling_available_governors" "")
        if [[ -n $avail && " $avail " != *" performance "* ]]; then
            log_failed "cpu$c governor $cur -> performance: the driver does not offer it (offers: $avail)"
        elif try_write "$f" performance; then
            log_change "cpu$c governor: $cur -> performance"
        else
            log_failed "cpu$c governor $cur -> performance: $WRITE_ERR"
        fi
    done
}

apply_thp() {
    local raw cur want
    raw=$(read_or "$THP_DIR/enabled" "")
    cur=$(selected "$raw")
    if [[ -n $raw && $cur != madvise && $cur != never ]]; then
        if try_write "$THP_DIR/enabled" madvise; then
            log_change "transparent_hugepage/enabled: $cur -> madvise"
        else
            log_failed "transparent_hugepage/enabled $cur -> madvise: $WRITE_ERR"
        fi
    fi
    raw=$(read_or "$THP_DIR/defrag" "")
    cur=$(selected "$raw")
    if [[ -n $raw && $cur != madvise && $cur != defer+madvise && $cur != never ]]; then
        want=madvise
        if [[ " $raw " == *"defer+madvise"* ]]; then want=defer+madvise; fi
        if try_write "$THP_DIR/defrag" "$want"; then
            log_change "transparent_hugepage/defrag: $cur -> $want"
        else
            log_failed "transparent_hugepage/defrag $cur -> $want: $WRITE_ERR"
        fi
    fi
}

# apply_sysctl NAME FILE WANT TEST: writes WANT when the current value fails TEST
# ("le" = at most WANT, "eq" = equal to WANT).
apply_sysctl() {
    local name=$1 f=$2 want=$3 test=$4 cur
    cur=$(read_or "$f" "")
    [[ $cur =~ ^-?[0-9]+$ ]] || return 0
    if [[ $test == le ]] && ((cur <= want)); then return 0; fi
    if [[ $test == eq ]] && ((cur == want)); then return 0; fi
    if try_write "$f" "$want"; then
        log_change "$name: $cur -> $want"
    else
        log_failed "$name $cur -> $want: $WRITE_ERR"
    fi
}

apply_clocksource() {
    local cur avail flags
    cur=$(read_or "$CLOCK_DIR/current_clocksource" "")
    [[ -n $cur && $cur != tsc ]] || return 0
    flags=$(cpuinfo_field flags)
    if [[ " $flags " != *" constant_tsc "* || " $flags " != *" nonstop_tsc "* ]]; then
        return 0 # no invariant TSC: the current clocksource stays, see the report
    fi
    avail=$(read_or "$CLOCK_DIR/available_clocksource" "")
    if [[ " $avail " != *" tsc "* ]]; then
        log_refused "clocksource $cur -> tsc: the kernel does not offer tsc (available: ${avail:-unknown})"
    elif try_write "$CLOCK_DIR/current_clocksource" tsc; then
        log_change "clocksource: $cur -> tsc"
    else
        log_failed "clocksource $cur -> tsc: $WRITE_ERR"
    fi
}

# The IRQ numbers that have a /proc/irq/N directory, in order.
irq_numbers() {
    local d
    for d in "$PROC"/irq/[0-9]*; do
        if [[ -d $d ]]; then printf '%s\n' "${d##*/}"; fi
    done | sort -n
}

# The first action name under /proc/irq/N (the driver's name for the IRQ), or nothing.
irq_name() {
    local sub
    for sub in "$1"/*/; do
        [[ -d $sub ]] || continue
        sub=${sub%/}
        printf '%s' "${sub##*/}"
        return 0
    done
}

apply_irqs() {
    local d n f aff cpus keep target after after_cpus name refused=0 cur_mask
    [[ -n $PIPE ]] || return 0
    if [[ -z $HOUSE ]]; then
        log_refused "IRQ affinity: every online core is a pipeline core, so there is no core left to take the IRQs"
        return 0
    fi
    for n in $(irq_numbers); do
        d=$PROC/irq/$n
        f=$d/smp_affinity_list
        aff=$(read_or "$f" "")
        [[ -n $aff ]] || continue
        cpus=$(expand_list "$aff") || continue
        [[ -n $(set_and "$cpus" "$PIPE") ]] || continue
        # Keep a narrower pinning the admin chose when it has housekeeping cores in it.
        keep=$(set_and "$cpus" "$HOUSE")
        target=$(compress_list "${keep:-$HOUSE}")
        name=$(irq_name "$d")
        name=${name:+ ($name)}
        if ! try_write "$f" "$target"; then
            log_refused "IRQ $n$name $aff -> $target: $WRITE_ERR"
            refused=$((refused + 1))
            continue
        fi
        after=$(read_or "$f" "")
        after_cpus=$(expand_list "$after") || after_cpus=""
        if [[ -n $(set_and "$after_cpus" "$PIPE") ]]; then
            log_refused "IRQ $n$name $aff -> $target: the kernel kept $after"
            refused=$((refused + 1))
        else
            log_change "IRQ $n$name affinity: $aff -> $after"
        fi
    done
    if ((refused > 0)); then
        APPLY_LOG+=("            ($refused IRQ(s) refused: per-CPU, timer and kernel-managed multi-queue IRQs cannot"
            "             be moved at runtime; isolcpus=managed_irq,... keeps managed ones off the"
            "             pipeline cores after a reboot)")
    fi
    f=$PROC/irq/default_smp_affinity
    cur_mask=$(read_or "$f" "")
    if [[ -n $cur_mask ]] && cpus=$(mask_to_list "$cur_mask") && [[ -n $(set_and "$cpus" "$PIPE") ]]; then
        target=$(list_to_mask "$HOUSE")
        if try_write "$f" "$target"; then
            log_change "default IRQ affinity (new IRQs): cores $(show_list "$cpus") -> $HOUSE_LIST"
        else
            log_failed "default IRQ affinity -> $HOUSE_LIST: $WRITE_ERR"
        fi
    fi
    if [[ -n $(grep -lx irqbalance "$PROC"/[0-9]*/comm 2>/dev/null || true) ]]; then
        APPLY_LOG+=("  warning   irqbalance is running and may move IRQs back onto the pipeline cores (see what to do)")
    fi
}

if ((APPLY)); then
    apply_governor
    apply_thp
    apply_sysctl vm.swappiness "$PROC/sys/vm/swappiness" 10 le
    apply_sysctl kernel.timer_migration "$PROC/sys/kernel/timer_migration" 0 eq
    apply_clocksource
    apply_irqs
fi

# ---------------------------------------------------------------------------------------
# Checks: each reads the current state, adds table rows and things to do.

check_cpu() {
    local model flags virt missing="" cs avail
    local -a n_online=()
    section "CPU"
    model=$(cpuinfo_field "model name")
    [[ -n $model ]] || model=$(cpuinfo_field "Hardware")
    [[ -n $model ]] || model=$(cpuinfo_field "cpu model")
    row "model" "${model:-unknown}" "" "info"
    read -ra n_online <<<"$ONLINE"
    row "online cores" "${#n_online[@]} ($(show_list "$ONLINE"))" "" "info"
    row "pipeline cores" "$(show_list "$PIPE")" "" "info"
    row "housekeeping cores" "$(show_list "$HOUSE")" "at least one" "$([[ -n $HOUSE ]] && echo yes || echo NO)"
    if [[ -z $HOUSE ]]; then
        todo manual "Leave at least one core out of --cores for the kernel, IRQs and other processes" \
            "With every core pinned and isolated, interrupts, kernel threads and the control port
have nowhere to run but on the pipeline cores. Keep core $FIRST_CORE for housekeeping."
    fi
    if [[ -n $PIPE ]] && in_set 0 "$PIPE"; then
        todo manual "Keep core 0 out of the pipeline cores" \
            "Core 0 takes boot-time IRQs and timekeeping; many kernels refuse nohz_full on it."
    fi

    flags=$(cpuinfo_field flags)
    virt="no"
    if [[ " $flags " == *" hypervisor "* ]]; then virt="yes (hypervisor flag)"; fi
    row "virtual machine" "$virt" "" "info"
    if [[ -z $flags ]]; then
        row "invariant TSC" "unknown (no flags in /proc/cpuinfo)" "constant_tsc nonstop_tsc" "n/a"
    else
        if [[ " $flags " != *" constant_tsc "* ]]; then missing+=" constant_tsc"; fi
        if [[ " $flags " != *" nonstop_tsc "* ]]; then missing+=" nonstop_tsc"; fi
        if [[ -z $missing ]]; then
            row "invariant TSC" "constant_tsc nonstop_tsc" "constant_tsc nonstop_tsc" "yes"
        else
            row "invariant TSC" "missing:$missing" "constant_tsc nonstop_tsc" "NO"
            todo info "No invariant TSC: latency stamps use the slower OS monotonic clock" \
                "tickpipe's latency clock reads the TSC only when it is invariant; otherwise it falls
back to clock_gettime, which costs more per stamp. Nothing to change on the host; on a VM
ask for invariant TSC pass-through (KVM/QEMU: -cpu host,+invtsc)."
        fi
    fi

    cs=$(read_or "$CLOCK_DIR/current_clocksource" "")
    avail=$(read_or "$CLOCK_DIR/available_clocksource" "")
    if [[ -z $cs ]]; then
        row "clocksource" "not exposed" "tsc" "n/a"
    elif [[ $cs == tsc ]]; then
        row "clocksource" "tsc" "tsc" "yes"
    elif [[ -n $missing || -z $flags ]]; then
        row "clocksource" "$cs" "tsc (needs invariant TSC)" "info"
    elif [[ " $avail " == *" tsc "* ]]; then
        row "clocksource" "$cs" "tsc" "NO"
        todo runtime "Switch the clocksource to tsc (now $cs)" \
            "Every clock_gettime() reads the clocksource; tsc is read in user space in ~20 ns,
$cs costs far more. --apply does this; by hand:
  echo tsc > /sys/devices/system/clocksource/clocksource0/current_clocksource
Persist with the boot parameter clocksource=tsc."
    else
        row "clocksource" "$cs" "tsc" "NO"
        todo manual "The kernel does not offer the tsc clocksource (available: ${avail:-unknown})" \
            "It probably judged the TSC unstable at boot: see  dmesg | grep -i -e tsc -e clocksource.
On a VM, kvm-clock is the usual fallback; there is nothing safe to change at runtime."
    fi
}

check_governor() {
    local c cur any=0 bad="" g
    declare -A by_gov=()
    section "CPU frequency"
    for c in $ONLINE; do
        cur=$(read_or "$CPU_DIR/cpu$c/cpufreq/scaling_governor" "")
        [[ -n $cur ]] || continue
        any=1
        by_gov[$cur]+="$c "
        if [[ $cur != performance ]]; then bad+="$c "; fi
    done
    if ((!any)); then
        row "governor" "not exposed (no cpufreq, e.g. a VM)" "performance" "n/a"
        return 0
    fi
    for g in $(printf '%s\n' "${!by_gov[@]}" | sort); do
        row "governor, cpu $(compress_list "${by_gov[$g]}")" "$g" "performance" \
            "$([[ $g == performance ]] && echo yes || echo NO)"
    done
    if [[ -n $bad ]]; then
        todo runtime "Set the CPU frequency governor to performance on cpu $(compress_list "$bad")" \
            "Other governors lower the clock when a core idles and take milliseconds to ramp up,
so the first ticks of a burst run slow. --apply does this; by hand:
  cpupower frequency-set -g performance"
    fi
}

check_boot() {
    local key want cur cur_cpus flag flags cpu_part match
    local -a parts=()
    section "Boot parameters"
    if [[ -z $PIPE ]]; then
        row "isolcpus/nohz_full/rcu_nocbs" "-" "none (no pipeline cores)" "n/a"
        return 0
    fi
    if [[ -z $HOUSE ]]; then
        row "isolcpus/nohz_full/rcu_nocbs" "-" "isolate only with a core left over" "n/a"
        return 0
    fi
    if ((!CMDLINE_READABLE)); then
        row "kernel command line" "not readable" "" "n/a"
        return 0
    fi
    for key in isolcpus nohz_full rcu_nocbs; do
        if [[ $key == isolcpus ]]; then want="managed_irq,domain,$PIPE_LIST"; else want=$PIPE_LIST; fi
        match=NO
        if [[ ! -v CMDLINE[$key] ]]; then
            cur="not set"
        else
            cur=${CMDLINE[$key]}
            # isolcpus may start with flags (nohz, domain, managed_irq) before the CPU list.
            flags=""
            cpu_part=""
            IFS=, read -ra parts <<<"$cur"
            for flag in "${parts[@]}"; do
                if [[ $flag =~ ^[a-z_]+$ ]]; then flags+=" $flag"; else cpu_part+="${cpu_part:+,}$flag"; fi
            done
            if cur_cpus=$(expand_list "$cpu_part") && [[ -n $cur_cpus ]] && is_subset "$PIPE" "$cur_cpus"; then
                # Without "domain" among explicit flags, isolcpus does not isolate the scheduler.
                if [[ $key != isolcpus || -z $flags || " $flags " == *" domain "* ]]; then match=yes; fi
                # Isolating every core leaves none for the kernel and other processes.
                if [[ $key == isolcpus ]] && is_subset "$ONLINE" "$cur_cpus"; then match=NO; fi
            fi
            cur="${cur:-(empty)}"
        fi
        row "$key" "$cur" "$want" "$match"
        if [[ $match == NO ]]; then BOOT_ADD+=("$key=$want"); fi
    done
    if [[ ${#BOOT_ADD[@]} -gt 0 ]]; then
        todo boot "Isolate the pipeline cores ($PIPE_LIST) with kernel boot parameters" \
            "isolcpus keeps other tasks off them, nohz_full stops the scheduler tick while one
thread runs there, rcu_nocbs moves RCU callbacks to the housekeeping cores. Boot
parameters cannot change at runtime: see 'Boot parameters' below."
    fi
    if [[ ! -e $CPU_DIR/nohz_full && -v CMDLINE[nohz_full] ]]; then
        todo info "nohz_full is on the command line but the kernel does not expose it" \
            "The kernel may be built without CONFIG_NO_HZ_FULL:  grep NO_HZ_FULL /boot/config-\$(uname -r)"
    fi
}

check_cstates() {
    local driver max cur_p
    driver=$(read_or "$CPU_DIR/cpuidle/current_driver" "")
    max=$(read_or "$SYS/module/intel_idle/parameters/max_cstate" "")
    cur_p=${CMDLINE[processor.max_cstate]:-}
    if [[ $driver == intel_idle && $max =~ ^[0-9]+$ ]]; then
        if ((max <= 1)); then
            row "C-states (intel_idle)" "max_cstate=$max" "max_cstate=1" "yes"
        else
            row "C-states (intel_idle)" "max_cstate=$max" "max_cstate=1" "NO"
            BOOT_ADD+=("intel_idle.max_cstate=1" "processor.max_cstate=1")
            todo boot "Limit deep C-states (intel_idle.max_cstate=1 processor.max_cstate=1)" \
                "Waking a core from a deep C-state takes tens to hundreds of microseconds; a
pipeline core that parks between ticks pays it on the next tick. Busy-spinning stages
avoid it, parking ones do not. Boot parameters: see below."
        fi
    elif [[ $driver == acpi_idle ]]; then
        if [[ $cur_p =~ ^[0-9]+$ ]] && ((cur_p <= 1)); then
            row "C-states (acpi_idle)" "processor.max_cstate=$cur_p" "processor.max_cstate=1" "yes"
        else
            row "C-states (acpi_idle)" "processor.max_cstate=${cur_p:-not set}" "processor.max_cstate=1" "NO"
            BOOT_ADD+=("intel_idle.max_cstate=1" "processor.max_cstate=1")
            todo boot "Limit deep C-states (intel_idle.max_cstate=1 processor.max_cstate=1)" \
                "Waking a core from a deep C-state takes tens to hundreds of microseconds; a
pipeline core that parks between ticks pays it on the next tick. Boot parameters: see below."
        fi
    else
        # Any intel_idle.max_cstate value has no effect when another driver is in use.
        row "C-states" "cpuidle driver ${driver:-none}" \
            "max_cstate=1 on bare metal" "n/a"
    fi
}

check_irqs() {
    local d n aff cpus total=0 unreadable=0 running=0 banned="" env_f covered=0 mask mcpus pid
    local -a on_pipe=()
    section "Interrupts"
    if [[ ! -d $PROC/irq ]]; then
        row "IRQ affinity" "not exposed (/proc/irq missing)" "off the pipeline cores" "n/a"
        return 0
    fi
    for n in $(irq_numbers); do
        d=$PROC/irq/$n
        aff=$(read_or "$d/smp_affinity_list" "")
        if [[ -z $aff ]] || ! cpus=$(expand_list "$aff"); then
            unreadable=$((unreadable + 1))
            continue
        fi
        total=$((total + 1))
        if [[ -n $PIPE && -n $(set_and "$cpus" "$PIPE") ]]; then on_pipe+=("$n"); fi
    done
    if [[ -z $PIPE ]]; then
        row "IRQ affinity" "$total IRQs" "off the pipeline cores (none)" "n/a"
    elif [[ -z $HOUSE ]]; then
        row "IRQ affinity" "$total IRQs" "off the pipeline cores" "n/a"
    elif ((${#on_pipe[@]} == 0)); then
        row "IRQ affinity" "$total IRQs, none on $PIPE_LIST" "all on cores $(show_list "$HOUSE")" "yes"
    else
        row "IRQ affinity" "${#on_pipe[@]} of $total IRQs can run on $PIPE_LIST" "all on cores $(show_list "$HOUSE")" "NO"
        local irqs
        irqs=$(compress_list "${on_pipe[*]}")
        if ((${#on_pipe[@]} == 1)); then irqs="IRQ $irqs"; else irqs="IRQs $irqs"; fi
        if [[ -n $HOUSE ]]; then
            todo runtime "Move $irqs off the pipeline cores, onto cores $HOUSE_LIST" \
                "An interrupt on a pipeline core stops the stage for its handler and pollutes its
caches. --apply does this where the kernel allows (it refuses per-CPU and managed
IRQs); by hand, for each IRQ N:  echo $HOUSE_LIST > /proc/irq/N/smp_affinity_list"
        fi
    fi
    if ((unreadable > 0)); then
        row "IRQs not readable" "$unreadable" "" "info"
    fi

    mask=$(read_or "$PROC/irq/default_smp_affinity" "")
    if [[ -n $mask && -n $PIPE && -n $HOUSE ]] && mcpus=$(mask_to_list "$mask"); then
        if [[ -n $(set_and "$mcpus" "$PIPE") ]]; then
            row "default IRQ affinity" "cores $(show_list "$mcpus")" "cores $(show_list "$HOUSE")" "NO"
            if [[ -n $HOUSE ]]; then
                todo runtime "Point new IRQs at cores $HOUSE_LIST (default IRQ affinity)" \
                    "IRQs registered later (a NIC reset, a hot-plugged device) start from this mask.
--apply does this; by hand:  echo $(list_to_mask "$HOUSE") > /proc/irq/default_smp_affinity"
            fi
        else
            row "default IRQ affinity" "cores $(show_list "$mcpus")" "cores $(show_list "$HOUSE")" "yes"
        fi
    fi

    env_f=$(grep -lx irqbalance "$PROC"/[0-9]*/comm 2>/dev/null | head -n 1 || true)
    if [[ -n $env_f ]]; then
        running=1
        pid=${env_f%/comm}
        # irqbalance's ban list, when its environment is readable (root).
        if [[ -r $pid/environ ]]; then
            banned=$(tr '\0' '\n' <"$pid/environ" 2>/dev/null | sed -n 's/^IRQBALANCE_BANNED_CPULIST=//p' | head -n 1 || true)
        fi
    fi
    if ((!running)); then
        row "irqbalance" "not running" "off, or pipeline cores banned" "yes"
        return 0
    fi
    # irqbalance leaves alone the cores in isolcpus/nohz_full and those it is told to ban.
    local isolated nohz banned_cpus
    isolated=$(expand_list "$(read_or "$CPU_DIR/isolated" "")") || isolated=""
    nohz=$(expand_list "$(read_or "$CPU_DIR/nohz_full" "")") || nohz=""
    banned_cpus=$(expand_list "$banned") || banned_cpus=""
    if [[ -z $PIPE ]] || is_subset "$PIPE" "$isolated $nohz $banned_cpus"; then covered=1; fi
    if ((covered)); then
        row "irqbalance" "running, pipeline cores excluded" "off, or pipeline cores banned" "yes"
    else
        row "irqbalance" "running${banned:+, bans $banned}" "off, or pipeline cores banned" "NO"
        todo manual "Keep irqbalance off the pipeline cores, or stop it" \
            "irqbalance re-spreads IRQs every few seconds and would undo the IRQ affinity above.
It skips cores in isolcpus/nohz_full once those boot parameters are in place. Until then
either ban the cores, in /etc/default/irqbalance (Debian/Ubuntu) or
/etc/sysconfig/irqbalance (RHEL/Fedora):
  IRQBALANCE_BANNED_CPULIST=$PIPE_LIST
  systemctl restart irqbalance
or stop it:  systemctl disable --now irqbalance
--apply leaves services alone."
    fi
}

check_thp() {
    local raw cur
    section "Memory"
    raw=$(read_or "$THP_DIR/enabled" "")
    if [[ -z $raw ]]; then
        row "THP enabled" "not exposed" "madvise" "n/a"
    else
        cur=$(selected "$raw")
        if [[ $cur == madvise || $cur == never ]]; then
            row "THP enabled" "$cur" "madvise (or never)" "yes"
        else
            row "THP enabled" "$cur" "madvise (or never)" "NO"
            todo runtime "Set transparent huge pages to madvise (now $cur)" \
                "With 'always', any page fault may stall in direct compaction to build a huge page,
and khugepaged rewrites page tables in the background: millisecond latency spikes at
random moments. 'madvise' keeps huge pages for memory that asks for them. --apply does
this; by hand:  echo madvise > /sys/kernel/mm/transparent_hugepage/enabled"
        fi
    fi
    raw=$(read_or "$THP_DIR/defrag" "")
    if [[ -z $raw ]]; then
        row "THP defrag" "not exposed" "defer+madvise or madvise" "n/a"
    else
        cur=$(selected "$raw")
        if [[ $cur == madvise || $cur == defer+madvise || $cur == never ]]; then
            row "THP defrag" "$cur" "defer+madvise or madvise" "yes"
        else
            row "THP defrag" "$cur" "defer+madvise or madvise" "NO"
            todo runtime "Set transparent huge page defrag to defer+madvise (now $cur)" \
                "'always' makes every fault that wants a huge page compact memory synchronously,
stalling the faulting thread. defer+madvise compacts in the background except for
madvise'd regions. --apply does this; by hand:
  echo defer+madvise > /sys/kernel/mm/transparent_hugepage/defrag"
        fi
    fi
}

check_swap() {
    local line n=0 kib=0 swappiness size desc
    local -a f=()
    if [[ -r $PROC/swaps ]]; then
        while IFS= read -r line; do
            read -ra f <<<"$line"
            [[ ${#f[@]} -ge 3 && ${f[0]} != Filename && ${f[2]} =~ ^[0-9]+$ ]] || continue
            n=$((n + 1))
            kib=$((kib + f[2]))
        done <"$PROC/swaps"
    fi
    swappiness=$(read_or "$PROC/sys/vm/swappiness" "")
    if [[ ! -r $PROC/swaps ]]; then
        row "swap" "not exposed" "off, or swappiness <= 10" "n/a"
    elif ((n == 0)); then
        row "swap" "off" "off, or swappiness <= 10" "yes"
    else
        size=$(awk -v k="$kib" 'BEGIN { printf "%.1f GiB", k / 1048576 }')
        desc="$n device(s), $size"
        if [[ $swappiness =~ ^[0-9]+$ ]] && ((swappiness <= 10)); then
            row "swap" "$desc" "off, or swappiness <= 10" "yes"
        else
            row "swap" "$desc" "off, or swappiness <= 10" "NO"
        fi
        todo manual "Consider turning swap off ($desc)" \
            "A page of the engine that was swapped out costs milliseconds to fault back in, in
the middle of trading. --apply does not turn swap off: swapoff can take minutes and
wake the OOM killer when memory is short. By hand, when memory allows:
  swapoff -a
then comment out the swap lines in /etc/fstab (and disable zram swap units if any,
e.g. systemctl mask dev-zram0.swap) so it stays off after a reboot."
    fi
    if [[ ! $swappiness =~ ^[0-9]+$ ]]; then
        row "vm.swappiness" "not exposed" "<= 10" "n/a"
    elif ((swappiness <= 10)); then
        row "vm.swappiness" "$swappiness" "<= 10" "yes"
    else
        row "vm.swappiness" "$swappiness" "<= 10" "NO"
        todo runtime "Lower vm.swappiness to 10 (now $swappiness)" \
            "Makes the kernel drop page cache before it swaps out process memory (it matters
once swap is on). --apply does this; by hand:  sysctl -w vm.swappiness=10"
    fi
}

check_sched() {
    local rt tm
    section "Scheduler"
    rt=$(read_or "$PROC/sys/kernel/sched_rt_runtime_us" "")
    if [[ -z $rt ]]; then
        row "kernel.sched_rt_runtime_us" "not exposed" "950000 (default)" "n/a"
    elif [[ $rt == -1 ]]; then
        row "kernel.sched_rt_runtime_us" "-1 (RT throttling off)" "950000 unless SCHED_FIFO stages" "info"
    else
        row "kernel.sched_rt_runtime_us" "$rt" "950000 unless SCHED_FIFO stages" "info"
    fi
    tm=$(read_or "$PROC/sys/kernel/timer_migration" "")
    if [[ -z $tm ]]; then
        row "kernel.timer_migration" "not exposed" "0" "n/a"
    elif [[ $tm == 0 ]]; then
        row "kernel.timer_migration" "0" "0" "yes"
    else
        row "kernel.timer_migration" "$tm" "0" "NO"
        todo runtime "Set kernel.timer_migration to 0 (now $tm)" \
            "With migration on, the kernel moves timers armed on idle cores to busy ones, which
are the spinning pipeline cores. --apply does this; by hand:
  sysctl -w kernel.timer_migration=0"
    fi
}

check_topology() {
    local d node cpus c s nodes_of="" n_nodes=0 used="" sib sibs outside=""
    local -a used_arr=()
    declare -A node_of=()
    section "Topology"
    for d in "$SYS"/devices/system/node/node[0-9]*; do
        [[ -d $d ]] || continue
        n_nodes=$((n_nodes + 1))
        node=${d##*/node}
        cpus=$(expand_list "$(read_or "$d/cpulist" "")") || cpus=""
        for c in $cpus; do node_of[$c]=$node; done
    done
    if ((n_nodes == 0)); then
        row "NUMA nodes" "not exposed" "" "n/a"
    elif ((n_nodes == 1)); then
        row "NUMA nodes" "1" "" "info"
    elif [[ -z $PIPE ]]; then
        row "NUMA nodes" "$n_nodes" "" "info"
    else
        for c in $PIPE; do
            nodes_of+="${nodes_of:+, }$c:node${node_of[$c]:-?}"
            if ! in_set "${node_of[$c]:-?}" "$used"; then used+=" ${node_of[$c]:-?}"; fi
        done
        read -ra used_arr <<<"$used"
        if ((${#used_arr[@]} == 1)); then
            row "NUMA node of pipeline cores" "$nodes_of" "one node" "yes"
        else
            row "NUMA node of pipeline cores" "$nodes_of" "one node" "NO"
            todo manual "Pin the pipeline to cores of one NUMA node" \
                "Rings crossing NUMA nodes pay remote-memory latency on every message. Choose cores
on one node, preferably the NIC's (cat /sys/class/net/IFACE/device/numa_node), and
set [runtime] cores and --cores to them."
        fi
    fi

    if [[ -z $PIPE ]]; then return 0; fi
    local any=0
    for c in $PIPE; do
        sib=$(read_or "$CPU_DIR/cpu$c/topology/thread_siblings_list" "")
        [[ -n $sib ]] || continue
        any=1
        sibs=$(expand_list "$sib") || continue
        sibs=$(set_and "$sibs" "$ONLINE")
        for s in $(set_minus "$sibs" "$PIPE"); do outside+="${outside:+, }$c~$s"; done
    done
    if ((!any)); then
        row "SMT siblings of pipeline cores" "not exposed" "none outside the pipeline" "n/a"
    elif [[ -z $outside ]]; then
        row "SMT siblings of pipeline cores" "none outside the pipeline" "none outside the pipeline" "yes"
    else
        row "SMT siblings of pipeline cores" "$outside" "none outside the pipeline" "NO"
        todo manual "Keep the hyperthread siblings of the pipeline cores idle ($outside)" \
            "A sibling thread shares its core's execution units and L1/L2 caches, so whatever
runs there slows the stage. Add the siblings to isolcpus and leave them idle, or turn
SMT off:  echo off > /sys/devices/system/cpu/smt/control  (boot parameter: nosmt)."
    fi
}

check_cpu
check_governor
check_boot
check_cstates
check_irqs
check_thp
check_swap
check_sched
check_topology

# ---------------------------------------------------------------------------------------
# Output.

hostname=$(read_or "$PROC/sys/kernel/hostname" "$(uname -n)")
kernel=$(read_or "$PROC/sys/kernel/osrelease" "$(uname -r)")
printf 'tickpipe host tuning: %s, kernel %s\n' "$hostname" "$kernel"
if [[ -n $ROOT ]]; then
    access="reading"
    if ((APPLY)); then access="reading and writing"; fi
    printf 'TUNE_HOST_ROOT=%s: %s %s/{sys,proc,etc}, not the live system\n' "$ROOT" "$access" "$ROOT"
fi
if ((APPLY)); then
    printf '\nApplied at runtime (lost on reboot; see "Keeping the changes" below):\n'
    if ((${#APPLY_LOG[@]} == 0)); then
        printf '  nothing to change at runtime\n'
    else
        printf '%s\n' "${APPLY_LOG[@]}"
    fi
    for i in "${!TODO_KIND[@]}"; do
        case ${TODO_KIND[i]} in
            boot) printf '  not done  %s (boot parameter, needs a reboot)\n' "${TODO_TITLE[i]}" ;;
            manual) printf '  not done  %s (manual step)\n' "${TODO_TITLE[i]}" ;;
        esac
    done
    printf '\nState after --apply:\n'
else
    printf 'Report only: nothing is changed (--apply, as root, sets the runtime settings).\n'
fi

print_table() {
    local i w1=7 w2=7 w3=11 checked=0 matched=0
    for i in "${!ROW_SETTING[@]}"; do
        [[ -n ${ROW_MATCH[i]} ]] || continue
        if ((${#ROW_SETTING[i]} + 2 > w1)); then w1=$((${#ROW_SETTING[i]} + 2)); fi
        if ((${#ROW_CURRENT[i]} > w2)); then w2=${#ROW_CURRENT[i]}; fi
        if ((${#ROW_RECOMMENDED[i]} > w3)); then w3=${#ROW_RECOMMENDED[i]}; fi
    done
    printf '\n%-*s  %-*s  %-*s  %s\n' "$w1" SETTING "$w2" CURRENT "$w3" RECOMMENDED MATCH
    for i in "${!ROW_SETTING[@]}"; do
        if [[ -z ${ROW_MATCH[i]} ]]; then
            printf '%s\n' "${ROW_SETTING[i]}"
            continue
        fi
        printf '  %-*s  %-*s  %-*s  %s\n' "$((w1 - 2))" "${ROW_SETTING[i]}" "$w2" "${ROW_CURRENT[i]}" \
            "$w3" "${ROW_RECOMMENDED[i]:--}" "${ROW_MATCH[i]}"
        case ${ROW_MATCH[i]} in
            yes) checked=$((checked + 1)) matched=$((matched + 1)) ;;
            NO) checked=$((checked + 1)) ;;
        esac
    done
    printf '\n%d of %d checked settings match (info and n/a rows are not counted).\n' "$matched" "$checked"
}
print_table

print_todo() {
    local i n=0 kind tag
    printf '\nWhat to do:\n'
    if ((${#TODO_KIND[@]} == 0)); then
        printf '  nothing: every setting that can be checked here matches.\n'
        return 0
    fi
    for kind in runtime boot manual info; do
        for i in "${!TODO_KIND[@]}"; do
            [[ ${TODO_KIND[i]} == "$kind" ]] || continue
            n=$((n + 1))
            case $kind in
                runtime)
                    tag="runtime, --apply does it"
                    if ((APPLY)); then tag="runtime, --apply could not: see above"; fi
                    ;;
                boot) tag="boot parameter, needs a reboot" ;;
                manual) tag="manual, --apply does not do it" ;;
                info) tag="for information" ;;
            esac
            printf '%2d. [%s] %s\n' "$n" "$tag" "${TODO_TITLE[i]}"
            printf '%s\n' "${TODO_BODY[i]}" | sed 's/^/    /'
        done
    done
}
print_todo

# The GRUB advice: exact line and commands; this script never edits boot files.
print_boot() {
    local grub_file=$ETC/default/grub existing="" line p key new="" tok
    local -a add_keys=() toks=()
    ((${#BOOT_ADD[@]} > 0)) || return 0
    # Drop duplicates (the C-state pair can be added once per check).
    local -A seen=()
    local -a params=()
    for p in "${BOOT_ADD[@]}"; do
        [[ -v seen[$p] ]] && continue
        seen[$p]=1
        params+=("$p")
        add_keys+=("${p%%=*}")
    done
    if [[ -r $grub_file ]]; then
        while IFS= read -r line; do
            if [[ $line =~ ^GRUB_CMDLINE_LINUX=\"(.*)\"[[:space:]]*$ ]]; then existing=${BASH_REMATCH[1]}; fi
        done <"$grub_file"
    fi
    # Keep the existing parameters except those being replaced.
    read -ra toks <<<"$existing"
    for tok in "${toks[@]}"; do
        key=${tok%%=*}
        local replaced=0
        for p in "${add_keys[@]}"; do
            if [[ ${key//-/_} == "${p//-/_}" ]]; then replaced=1; fi
        done
        if ((!replaced)); then new+="${new:+ }$tok"; fi
    done
    new+="${new:+ }${params[*]}"

    printf '\nBoot parameters (cannot change at runtime; this script never edits GRUB):\n'
    printf '  Add to the kernel command line:\n    %s\n' "${params[*]}"
    for p in "${add_keys[@]}"; do
        if [[ -v CMDLINE[${p//-/_}] ]]; then
            printf '  (replacing the current %s=%s)\n' "$p" "${CMDLINE[${p//-/_}]}"
        fi
    done
    if [[ -r $grub_file ]]; then
        printf '  In /etc/default/grub, make the GRUB_CMDLINE_LINUX line read:\n'
        printf '    GRUB_CMDLINE_LINUX="%s"\n' "$new"
    else
        printf '  No /etc/default/grub here: this host may not boot with GRUB (VMs often take the\n'
        printf '  kernel command line from the hypervisor). With GRUB, the line in /etc/default/grub is:\n'
        printf '    GRUB_CMDLINE_LINUX="<the parameters already there> %s"\n' "${params[*]}"
    fi
    printf '  then regenerate the boot configuration and reboot:\n'
    printf '    Debian/Ubuntu:  sudo update-grub\n'
    printf '    RHEL/Fedora:    sudo grub2-mkconfig -o /boot/grub2/grub.cfg\n'
    printf '                    (or: sudo grubby --update-kernel=ALL --args="%s")\n' "${params[*]}"
    printf '    sudo reboot\n'
    printf '  After the reboot, run this script again: the boot parameter rows should match.\n'
}
print_boot

# How to keep the runtime settings across reboots (printed, never written).
print_persist() {
    local self cores_opt
    if ((!APPLY)); then
        local i any=0
        for i in "${!TODO_KIND[@]}"; do
            if [[ ${TODO_KIND[i]} == runtime ]]; then any=1; fi
        done
        ((any)) || return 0
    fi
    cores_opt="--cores ${PIPE_LIST:-none}"
    self=$(readlink -f "$0" 2>/dev/null || printf '%s' "$0")
    printf '\nKeeping the changes: --apply changes runtime settings only, lost on reboot.\n'
    printf 'This script writes none of these files; to persist:\n'
    printf '  1. sysctl settings: create /etc/sysctl.d/90-tickpipe.conf containing\n'
    printf '       vm.swappiness = 10\n'
    printf '       kernel.timer_migration = 0\n'
    printf '     then load it now with:  sudo sysctl --system\n'
    printf '  2. THP, governor, clocksource and IRQ affinity: run this script with --apply at boot,\n'
    printf '     from a oneshot systemd unit (after irqbalance, before tickpipe):\n'
    printf '       sudo install -m 0755 %s /usr/local/sbin/tickpipe-tune-host\n' "$self"
    printf '     /etc/systemd/system/tickpipe-tune-host.service:\n'
    printf '       [Unit]\n'
    printf '       Description=Runtime host tuning for tickpipe\n'
    printf '       After=irqbalance.service\n'
    printf '       Before=tickpipe.service\n'
    printf '       [Service]\n'
    printf '       Type=oneshot\n'
    printf '       ExecStart=/usr/local/sbin/tickpipe-tune-host --apply %s\n' "$cores_opt"
    printf '       RemainAfterExit=yes\n'
    printf '       [Install]\n'
    printf '       WantedBy=multi-user.target\n'
    printf '     then:  sudo systemctl daemon-reload && sudo systemctl enable tickpipe-tune-host.service\n'
    printf '  Alternatively, boot parameters transparent_hugepage=madvise and clocksource=tsc persist\n'
    printf '  those two; cpupower.service (cpupower package) can persist the governor.\n'
}
print_persist

if ((APPLY && APPLY_FAILED)); then
    printf '\n%s: some settings could not be written (FAILED lines above).\n' "$PROG" >&2
    exit 1
fi
exit 0
