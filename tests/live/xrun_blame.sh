#!/bin/bash
# Which client jackd blames, with earflow and the trivial client running side by side
# (a benchmark for #23: it prints, it does not judge). On a private `jackd -d dummy`
# server, `earflow live` with a shipped model and tests/jack_pass spinning for earflow's
# mean callback time (measured just before, beside jack_pass; by default in earflow's
# pattern, once per STFT hop: `jack_pass --hop`; EF_XRUN_BLAME_REFERENCE=even spreads it
# over every callback, as the first measurement did) run at the same time, both
# between the dummy capture and playback ports, so every stall of the machine falls on
# both in the same cycles. At each xrun jackd logs which clients were unfinished when
# the next cycle came (`JackEngine::XRun: client = NAME was not finished`); a client
# that stalls on its own (page faults, a lock, work that is not hoisted) is named more
# often than the one beside it that spends as long. Clients taking turns (xrun_table.sh)
# see different minutes of the VM's bursts; these see the same ones.
# Per period (EF_XRUN_BLAME_PERIODS, "128 256"), load of the other core
# (EF_XRUN_BLAME_LOADS, "idle loaded"; loaded = `stress-ng --cpu 1`) and model
# (EF_XRUN_BLAME_MODELS, "binaural separate"; `identity`, the built-in model without a
# network, separates the host from the network): EF_XRUN_BLAME_SECONDS (150) side by side, cut into blocks of
# EF_XRUN_BLAME_BLOCK (30) s. One markdown row each: the server's xruns, jackd's timer-late
# lines, the times it named earflow and jack_pass, earflow's count over jack_pass's with
# an exact 95 % interval (binomial on their sum) and, since blames come in bursts, the
# geometric mean over blocks with a t interval (xrun_judge.sh: ratio_ci, paired_ratio).
# usage: xrun_blame.sh EARFLOW JACK_FEED ALIGN SOURCE_DIR   (env EF_JACK_PASS ...)
#   meson test -C build --benchmark xrun_blame -v
source "$(dirname "$0")/live_lib.sh" "$@"
need_backend jack
if [ "${EF_SANITIZED:-0}" = 1 ]; then echo "SKIP: a timing benchmark"; exit 77; fi
SEC=${EF_XRUN_BLAME_SECONDS:-150} BLOCK=${EF_XRUN_BLAME_BLOCK:-30}
PERIODS=${EF_XRUN_BLAME_PERIODS:-128 256} LOADS=${EF_XRUN_BLAME_LOADS:-idle loaded}
MODELS=${EF_XRUN_BLAME_MODELS:-binaural separate} REFERENCE=${EF_XRUN_BLAME_REFERENCE:-hop}
case $REFERENCE in hop | even) ;; *) echo "FAIL - EF_XRUN_BLAME_REFERENCE is hop or even, not '$REFERENCE'"; exit 1 ;; esac

# named FROM TO CLIENT: jackd's "not finished" lines naming CLIENT in log lines FROM+1..TO.
named() { jackd_log "$1" "$2" | count_unfinished "$3"; }

# side_by_side PERIOD LOAD MODEL: one row.
side_by_side() {
    local period=$1 load=$2 model=$3 m=$SRC/models/$3.safetensors busy
    if [ "$model" = identity ]; then m=identity; fi
    local hop=0
    if [ "$REFERENCE" = hop ]; then
        hop=$("$EARFLOW" info "$m" | sed -n 's/^stft: .* hop \([0-9]*\) .*/\1/p')
        [ -n "$hop" ] || { bad "no hop in earflow info $m"; return; }
    fi
    # Two probes of 5 s: alone, then beside jack_pass at the first one's time (two clients
    # in the same cycles share the caches and the other core: earflow takes longer).
    busy=0
    local probe
    for probe in alone beside; do
        efl_live 6 "$T/probe.err" "$m" &
        local prober=$!
        if [ $probe = beside ]; then
            wait_port efl:in && timeout -s KILL 35 "$EF_JACK_PASS" --name pass --duration 5 \
                --busy "$busy" --hop "$hop" >"$T/pass.out" 2>&1
        fi
        wait $prober || { bad "earflow live $model (probe $probe): $(cat "$T/probe.err")"; return; }
        busy=$(busy_of "$T/probe.err")
    done
    efl_live $((SEC + 10)) "$T/live.err" "$m" &
    local efl=$!
    wait_port efl:in || { bad "earflow live $model: no port efl:in after 30 s"; wait $efl; return; }
    local from; from=$(jackd_log_lines)
    timeout -s KILL $((SEC + 30)) "$EF_JACK_PASS" --name pass --duration "$SEC" --busy "$busy" --hop "$hop" \
        >"$T/pass.out" 2>&1 &
    local pass=$! marks=("$from") b
    for b in $(seq $((SEC / BLOCK))); do
        sleep "$BLOCK"
        marks+=("$(jackd_log_lines)")
    done
    wait $pass || { bad "jack_pass: $(cat "$T/pass.out")"; wait $efl; return; }
    local to; to=$(jackd_log_lines)
    wait $efl || { bad "earflow live $model: $(cat "$T/live.err")"; return; }
    marks[-1]=$to
    local e p timer xruns be="" bp="" i
    e=$(named "$from" "$to" efl) p=$(named "$from" "$to" pass)
    timer=$(jackd_log "$from" "$to" | count_timer_late)
    xruns=$(summary_field xruns "$T/pass.out")
    for i in $(seq 1 $((${#marks[@]} - 1))); do
        be+=" $(named "${marks[i - 1]}" "${marks[i]}" efl)" bp+=" $(named "${marks[i - 1]}" "${marks[i]}" pass)"
    done
    printf '| %s | %s | %s | %s %% %s | %s %% | %s | %s | %s | %s | %s | %s | %s |\n' "$period" "$model" "$load" \
        "$(awk -v b="$busy" 'BEGIN {printf "%.1f", 100 * b}')" \
        "$([ "$hop" -gt 0 ] && echo "per hop of $hop" || echo evenly)" \
        "$(summary_field "mean callback load" "$T/live.err")" "$xruns in $SEC s" "$timer" "$e" "$p" \
        "$(ratio_ci "$e" "$p")" "$(xrun_tail "$e" "$p")" "$(paired_ratio "$be" "$bp")"
    echo "#   $period $load $model: named by block: earflow$be; jack_pass$bp; earflow: $(grep 'frames (' "$T/live.err")" >&2
}

echo "| period | model | other core | jack_pass busy (mean share of the period, from the probes) | earflow's mean load in the run | server xruns | jackd: timer late | jackd names earflow | jackd names jack_pass | earflow / jack_pass [95 % CI] | P(>= under equal rates) | by block, geometric mean [95 % CI] |"
echo "|---|---|---|---|---|---|---|---|---|---|---|---|"
# models PERIOD LOAD: one row per model.
models() { local model; for model in $MODELS; do side_by_side "$1" "$2" "$model"; done; }
each_cell "$LOADS" "$PERIODS" models
[ $fails -eq 0 ]
