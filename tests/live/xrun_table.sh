#!/bin/bash
# The real-time figures behind #23 (a benchmark: it prints figures and a comparison, it
# does not fail on them): xruns and the callback's time on a private `jackd -d dummy`
# server, per period (EF_XRUN_TABLE_PERIODS, "64 128 256") and load of the other core
# (EF_XRUN_TABLE_LOADS, "idle loaded"; loaded = `stress-ng --cpu 1`), for the trivial
# client tests/jack_pass (the machine's own share), `earflow live` with the identity
# model and with each shipped model at its default schedule. The clients take turns on
# one server, round by round (jack_pass, identity, binaural, separate; again), so the
# VM's xrun bursts, which come and go within a minute, fall on all of them alike:
# EF_XRUN_TABLE_ROUNDS rounds (6; 3 at 64 frames) of EF_XRUN_TABLE_SEGMENT seconds (30)
# each. One markdown row per period, load and client: p50 / p99 / max callback load
# (earflow's own timing, a share of the period: the median over segments of p50 and p99,
# the largest max; jack_pass does not time itself), its xruns in all and per 10
# minutes, jackd's own count of their causes (its timer woke late: the machine; the
# client was not finished by the next cycle), and earflow's xruns against jack_pass's:
# their ratio with a 95 % interval (exact, conditional on the sum: each had the same
# time) and the one-sided chance of earflow's count or more under equal rates; and,
# because xruns come in bursts (one round of six can hold most of a cell's), which the
# binomial interval ignores, the geometric mean of the per-round ratios with a t
# interval over rounds (added after the first full table; the binomial columns stay).
# usage: xrun_table.sh EARFLOW JACK_FEED ALIGN SOURCE_DIR   (env EF_JACK_PASS ...)
#   meson test -C build --benchmark xrun_table -v
source "$(dirname "$0")/live_lib.sh" "$@"
need_backend jack
if [ "${EF_SANITIZED:-0}" = 1 ]; then echo "SKIP: a timing benchmark"; exit 77; fi
SEG=${EF_XRUN_TABLE_SEGMENT:-30}
PERIODS=${EF_XRUN_TABLE_PERIODS:-64 128 256} LOADS=${EF_XRUN_TABLE_LOADS:-idle loaded}
CLIENTS=(jack_pass identity "$SRC/models/binaural.safetensors" "$SRC/models/separate.safetensors")

# rounds_for PERIOD: rounds per cell (64-frame cells are shorter: xruns come often there).
rounds_for() {
    if [ -n "${EF_XRUN_TABLE_ROUNDS:-}" ]; then echo "$EF_XRUN_TABLE_ROUNDS"
    elif [ "$1" = 64 ]; then echo 3; else echo 6; fi
}

# median of the numbers given.
median() { [ $# -eq 0 ] && { echo -; return; }; printf '%s\n' "$@" | sort -g | awk '{a[NR] = $1} END {if (NR == 0) print "-"; else print (NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2)}'; }

# segment CLIENT: one turn of SEG s; adds to the client's sums (index c).
segment() {
    local client=$1 out=$T/seg.err mark xruns
    mark=$(jackd_log_lines)
    if [ "$client" = jack_pass ]; then
        pass_segment "$SEG"
    else
        efl_live "$SEG" "$out" "$client" ||
            { bad "earflow live $client (137: hung, killed): $(cat "$out")"; return; }
        xruns=$(summary_field xruns "$out")
        p50s[c]+=" $(summary_field "p50 callback load" "$out")"
        p99s[c]+=" $(summary_field "p99 callback load" "$out")"
        local m; m=$(summary_field "max callback load" "$out")
        awk -v a="$m" -v b="${maxes[c]:-0}" 'BEGIN {exit !(a > b)}' && maxes[c]=$m
    fi
    xr[c]=$((${xr[c]:-0} + xruns)) rx[c]+=" $xruns"
    local logged; logged=$(jackd_log "$mark")
    timer[c]=$((${timer[c]:-0} + $(count_timer_late <<<"$logged")))
    late[c]=$((${late[c]:-0} + $(count_unfinished <<<"$logged")))
}

# cell PERIOD LOAD: the clients' rounds on the server, then their rows.
cell() {
    local period=$1 load=$2 rounds round c total name cmp tail paired
    rounds=$(rounds_for "$period")
    xr=() rx=() timer=() late=() p50s=() p99s=() maxes=()
    for round in $(seq "$rounds"); do
        for c in "${!CLIENTS[@]}"; do segment "${CLIENTS[$c]}"; done
    done
    total=$((rounds * SEG))
    for c in "${!CLIENTS[@]}"; do
        name=$(basename "${CLIENTS[$c]}" .safetensors) cmp="-" tail="-" paired="-"
        if [ "$c" != 0 ]; then
            cmp=$(ratio_ci "${xr[c]:-0}" "${xr[0]:-0}") tail=$(xrun_tail "${xr[c]:-0}" "${xr[0]:-0}")
            paired=$(paired_ratio "${rx[c]:-}" "${rx[0]:-}")
        fi
        printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$period" "$name" "$load" \
            "$(pct "$(median ${p50s[c]:-})")" "$(pct "$(median ${p99s[c]:-})")" "$(pct "${maxes[c]:--}")" \
            "${xr[c]:-0} in ${total} s" "$(awk -v x="${xr[c]:-0}" -v s="$total" 'BEGIN {printf "%.0f", x * 600 / s}')" \
            "${timer[c]:-0}" "${late[c]:-0}" "$cmp" "$tail" "$paired"
        echo "#   $period $load $name: xruns by round:${rx[c]:-}" >&2
    done
}
pct() { [ "$1" = - ] && echo - || echo "$1%"; }

echo "| period | client | other core | p50 load | p99 load | max load | xruns | per 10 min | jackd: timer late | jackd: client unfinished | xruns / jack_pass's [95 % CI] | P(>= under equal rates) | by round, geometric mean [95 % CI] |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|"
each_cell "$LOADS" "$PERIODS" cell
[ $fails -eq 0 ]
