#!/bin/bash
# What the audio thread does besides its work (a benchmark for #23: it prints, it does not
# judge): `earflow live` with a shipped model (EF_COUNTERS_MODEL, separate) and
# tests/jack_pass spinning 3 % of each period once per hop (EF_COUNTERS_BUSY, _HOP) side
# by side on a private `jackd -d dummy` server at EF_COUNTERS_PERIOD (128) frames; each
# thread's page faults (minor, major), context switches (voluntary, involuntary), policy
# and priority from /proc/PID/task/*/stat and status, 8 s after the start and 30 s later.
# A stall of earflow's own (first touch, paging) shows as faults in its SCHED_FIFO thread.
# usage: thread_counters.sh EARFLOW JACK_FEED ALIGN SOURCE_DIR
#   meson test -C build --benchmark thread_counters -v
source "$(dirname "$0")/live_lib.sh" "$@"
need_backend jack
MODEL=${EF_COUNTERS_MODEL:-separate} PERIOD=${EF_COUNTERS_PERIOD:-128}
BUSY=${EF_COUNTERS_BUSY:-0.03} HOP=${EF_COUNTERS_HOP:-384}

# counters PID LABEL: one row per thread of PID.
counters() {
    local t
    for t in /proc/"$1"/task/*; do
        awk -v who="$2" -v tid="${t##*/}" -v st="$(cat "$t/stat")" '
            /^voluntary_ctxt_switches/ {v = $2} /^nonvoluntary_ctxt_switches/ {nv = $2}
            END { sub(/^.*\) /, "", st); split(st, f, " ")   # fields from 3 on
                  printf "| %s | %s | %s | %s | %s | %s | %s |\n", who, tid, f[8], f[10], v, nv,
                         (f[39] == 1 ? "SCHED_FIFO " : "other ") f[38] }' "$t/status"
    done
}

start_jackd "$PERIOD"
efl_live 45 "$T/live.err" "$SRC/models/$MODEL.safetensors" &
efl=$!
wait_port efl:in || { bad "earflow live: no port efl:in"; wait $efl; exit 1; }
timeout -s KILL 70 "$EF_JACK_PASS" --name pass --duration 40 --busy "$BUSY" --hop "$HOP" >"$T/pass.out" 2>&1 &
pass=$!
sleep 8
e=$(pgrep -n -x earflow) p=$(pgrep -n -x jack_pass)
echo "| client, time | thread | minor faults | major faults | voluntary switches | involuntary switches | policy, priority |"
echo "|---|---|---|---|---|---|---|"
counters "$e" "earflow, 8 s"; counters "$p" "jack_pass, 8 s"
sleep 30
counters "$e" "earflow, 38 s"; counters "$p" "jack_pass, 38 s"
wait $pass || bad "jack_pass: $(cat "$T/pass.out")"
wait $efl || bad "earflow live: $(cat "$T/live.err")"
echo "# $(grep 'frames (' "$T/live.err")"
echo "# $(cat "$T/pass.out")"
[ $fails -eq 0 ]
