#!/bin/bash
# The real-time figures behind #23 (a benchmark: it prints, it does not judge): xruns
# and the callback's time on a private `jackd -d dummy` server at 64, 128 and 256-frame
# periods, for the trivial client tests/jack_pass (the machine's own share), `earflow
# live` with the identity model and with each shipped model at its default schedule,
# with the other core idle and with it loaded (`stress-ng --cpu 1`). Each cell runs
# EF_XRUN_TABLE_SECONDS (60) seconds; the issue's table wants 600. One markdown row a
# cell: period, client, load, p50 / p99 / max callback load (earflow's own timing, a
# share of the period; jack_pass does not time itself), xruns, xruns per 10 minutes.
# usage: xrun_table.sh EARFLOW JACK_FEED ALIGN SOURCE_DIR   (env EF_JACK_PASS ...)
#   meson test -C build --benchmark xrun_table -v
source "$(dirname "$0")/live_lib.sh" "$@"
need_backend jack
if [ "${EF_SANITIZED:-0}" = 1 ]; then echo "SKIP: a timing benchmark"; exit 77; fi
SEC=${EF_XRUN_TABLE_SECONDS:-60}
STRESS=
stop_stress() { [ -n "$STRESS" ] && kill "$STRESS" 2>/dev/null && wait "$STRESS" 2>/dev/null; STRESS=; }
trap 'stop_stress; cleanup' EXIT

# cell PERIOD CLIENT LOAD: one row.
cell() {
    local period=$1 client=$2 load=$3 out=$T/cell.out xruns p50=- p99=- max=- late timer
    local lines0; lines0=$(wc -l <"$T/jackd.log")
    if [ "$client" = jack_pass ]; then
        "$EF_JACK_PASS" --name pass --duration "$SEC" >"$out" 2>&1 || { bad "jack_pass: $(cat "$out")"; return; }
    else
        "$EARFLOW" live -q --name efl --model "$client" --connect-in physical --connect-out physical \
            --duration "$SEC" </dev/null >"$out" 2>&1 || { bad "earflow live $client: $(cat "$out")"; return; }
        p50=$(summary_field "p50 callback load" "$out")% p99=$(summary_field "p99 callback load" "$out")%
        max=$(summary_field "max callback load" "$out")%
    fi
    xruns=$(summary_field xruns "$out")
    # jackd names each xrun's cause: its own timer woke late (the machine), or a client
    # was still unfinished when the next cycle came ("Triggered": woken but not yet run).
    local logged; logged=$(tail -n +"$((lines0 + 1))" "$T/jackd.log")
    timer=$(grep -c 'JackTimedDriver::Process XRun' <<<"$logged")
    late=$(grep -c 'JackEngine::XRun: client = .* was not finished' <<<"$logged")
    printf '| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n' "$period" "$(basename "$client" .safetensors)" \
        "$load" "$p50" "$p99" "$max" "$xruns" "$(awk -v x="$xruns" -v s="$SEC" 'BEGIN {printf "%.1f", x * 600 / s}')" \
        "$timer" "$late"
}

echo "| period | client | other core | p50 load | p99 load | max load | xruns in ${SEC} s | per 10 min | jackd: timer late | jackd: client unfinished |"
echo "|---|---|---|---|---|---|---|---|---|---|"
for load in idle loaded; do
    if [ "$load" = loaded ]; then
        command -v stress-ng >/dev/null || { echo "# stress-ng missing: no loaded rows"; break; }
        stress-ng --cpu 1 --timeout 0 >/dev/null 2>&1 &
        STRESS=$!
    fi
    for period in 64 128 256; do
        start_jackd "$period"
        for client in jack_pass identity "$SRC/models/binaural.safetensors" "$SRC/models/separate.safetensors"; do
            cell "$period" "$client" "$load"
        done
        kill "$JACK_PID" 2>/dev/null; wait "$JACK_PID" 2>/dev/null; JACK_PID=
    done
    stop_stress
done
[ $fails -eq 0 ]
