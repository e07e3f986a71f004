#!/bin/bash
# Soak: `earflow live` with the shipped separation model on a private `jackd -d dummy`
# server for EF_SOAK_SECONDS (default 60; the benchmark live_soak_10min runs 600), its
# input fed the example voice over and over (tests/jack_feed --loop), its output on the
# dummy playback ports. Passes when
#   - earflow's own xrun count (JACK's xrun callback) is zero, and
#   - its memory is flat: VmRSS, sampled from /proc every 2 s, grows by at most
#     EF_SOAK_RSS_KB (default 128 KiB) from the end of the warm-up (the first 10 s:
#     pages touched for the first time, where mlockall is not allowed) to any later
#     sample. Why that bound: nothing allocates in the steady state (measured: +0 kB
#     in 600 s), the control thread may touch a page or two; a leak of 64 bytes per
#     callback (47 callbacks/s at 1024 frames: 3 KiB/s) crosses it after 43 s, and in
#     ten minutes one of 5 bytes per callback does.
# The JACK period is 1024 frames (21.3 ms), four times live_xruns', for headroom: the
# callback takes about 0.5 ms, but on this 2-core VM shared with a trainer it was
# measured stalling up to 9.5 ms now and then (vCPU parking, see live_xrun_test.sh),
# which at 512 frames gave 18 and 25 xruns in two 10-minute runs. A run with xruns is
# still repeated, EF_SOAK_ATTEMPTS (3) runs in all, passing on the first clean one;
# memory must be flat in every run. Skipped under sanitizers (a timing test).
source "$(dirname "$0")/live_lib.sh" "$@"
need_backend jack
if [ "${EF_SANITIZED:-0}" = 1 ]; then
    echo "SKIP: a timing test; sanitizer builds run several times slower than a user's build"
    exit 77
fi
MODEL=$SRC/models/separate.safetensors
[ -f "$MODEL" ] || { echo "SKIP: the shipped separation model is not in models/"; exit 77; }
SOAK=${EF_SOAK_SECONDS:-60} ATTEMPTS=${EF_SOAK_ATTEMPTS:-3} RSS_BOUND=${EF_SOAK_RSS_KB:-128}
WARMUP=10 PERIOD=1024
start_jackd $PERIOD
make_input

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }

# One run; prints "XRUNS n", "RSS_GROWTH kb" and its samples.
soak_once() {
    local d=$T/run$1; mkdir -p "$d"
    "$EARFLOW" live -q --name efs --model "$MODEL" --target speech --connect-out physical \
        --duration "$SOAK" </dev/null 2>"$d/live.err" &
    local pid=$!
    wait_port efs:in || { echo "FAIL - earflow live did not register its ports: $(cat "$d/live.err")"; return; }
    "$JACK_FEED" --name feed --play "$T/in.wav" --to efs:in --loop $((SOAK + 5)) >"$d/feed.out" 2>&1 &
    local feed=$! start=$SECONDS base= max_growth=0 samples=() t rss
    while kill -0 $pid 2>/dev/null; do
        rss=$(rss_kb $pid)
        t=$((SECONDS - start))
        if [ -n "$rss" ]; then
            samples+=("${t}s:${rss}")
            if [ $t -ge $WARMUP ]; then
                [ -z "$base" ] && base=$rss
                [ $((rss - base)) -gt $max_growth ] && max_growth=$((rss - base))
            fi
        fi
        sleep 2
    done
    wait $pid; local rc=$?
    kill $feed 2>/dev/null; wait $feed 2>/dev/null
    echo "# run $1: $(grep 'frames (' "$d/live.err")"
    echo "# run $1: VmRSS kB by time: ${samples[*]}"
    echo "EXIT $rc"
    echo "XRUNS $(summary_field xruns "$d/live.err")"
    echo "RSS_BASE ${base:-0}"
    echo "RSS_GROWTH $max_growth"
    tr -d '\000' <"$T/jackd.log" | grep -i xrun | head -3 | sed 's/^ */#   jackd: /'
}

attempt=1
while :; do
    : >"$T/jackd.log"
    soak_once $attempt >"$T/result"
    grep '^#' "$T/result"
    rc=$(awk '/^EXIT/ {print $2}' "$T/result") xruns=$(awk '/^XRUNS/ {print $2}' "$T/result")
    growth=$(awk '/^RSS_GROWTH/ {print $2}' "$T/result") base=$(awk '/^RSS_BASE/ {print $2}' "$T/result")
    grep -q '^FAIL' "$T/result" && { bad "$(grep '^FAIL' "$T/result" | head -1)"; break; }
    if [ "${growth:-999999}" -le "$RSS_BOUND" ] && [ "${base:-0}" -gt 0 ]; then
        ok "run $attempt: memory flat: VmRSS $base kB after ${WARMUP} s, at most +$growth kB later (bound $RSS_BOUND kB)"
    else
        bad "run $attempt: VmRSS grew by ${growth:-?} kB after the warm-up (from ${base:-?} kB; bound $RSS_BOUND kB)"
        break
    fi
    if [ "$rc" = 0 ] && [ "$xruns" = 0 ]; then
        ok "$SOAK s of the shipped separation model at $PERIOD-frame periods: zero xruns (run $attempt of at most $ATTEMPTS)"
        break
    fi
    if [ "$rc" != 0 ] || [ $attempt -ge "$ATTEMPTS" ]; then
        bad "$SOAK s runs: $attempt of them; last: exit $rc, xruns ${xruns:-?}"
        break
    fi
    echo "# run $attempt had ${xruns:-?} xruns (the VM's vCPU parking?): run $((attempt + 1)) of $ATTEMPTS"
    attempt=$((attempt + 1))
done
finish
