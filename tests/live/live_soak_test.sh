#!/bin/bash
# Soak: `earflow live` with the shipped separation model on a private `jackd -d dummy`
# server for EF_SOAK_SECONDS (default 60; the benchmark live_soak_10min runs 600), its
# input fed the example voice over and over (tests/jack_feed --loop), its output on the
# dummy playback ports. Passes when it runs to the end (exit 0, no dropped recording
# frames) and its memory is flat: VmRSS, sampled from /proc every 2 s, grows by at most
#     EF_SOAK_RSS_KB (default 128 KiB) from the end of the warm-up (the first 10 s:
#     pages touched for the first time, where mlockall is not allowed) to any later
#     sample. Why that bound: nothing allocates in the steady state (measured: +0 kB
#     in 600 s), the control thread may touch a page or two; a leak of 64 bytes per
#     callback (187.5 callbacks/s at 256 frames: 12 KiB/s) crosses it after 11 s, and
#     in ten minutes one of 2 bytes per callback does.
# Xruns: at 256-frame periods (5.3 ms, what a live user sets), earflow's count is
# printed; with EF_SOAK_REFERENCE=1 (the benchmark live_soak_10min sets it) beside that
# of the trivial client tests/jack_pass run on the same server for as long just after
# it, fed by the same looping jack_feed and spinning for earflow's mean callback time
# (left out of the test to keep CI's time: a minute for a figure nothing judges). Not
# judged here: two back-to-back minutes are one sample each of
# this VM's xrun bursts (CI here once had 79 against 27 with nothing of earflow's
# changed); live_xruns judges earflow's xruns round by round. One run, no retry.
# Skipped under sanitizers (a timing test).
source "$(dirname "$0")/live_lib.sh" "$@"
need_backend jack
if [ "${EF_SANITIZED:-0}" = 1 ]; then
    echo "SKIP: a timing test; sanitizer builds run several times slower than a user's build"
    exit 77
fi
MODEL=$SRC/models/separate.safetensors
[ -f "$MODEL" ] || { echo "SKIP: the shipped separation model is not in models/"; exit 77; }
SOAK=${EF_SOAK_SECONDS:-60} RSS_BOUND=${EF_SOAK_RSS_KB:-128}
WARMUP=10 PERIOD=256
start_jackd $PERIOD
make_input

rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }

# One run; prints "XRUNS n", "RSS_GROWTH kb" and its samples.
soak_once() {
    local d=$T/run$1; mkdir -p "$d"
    timeout -s KILL $((SOAK + 60)) "$EARFLOW" live -q --name efs --model "$MODEL" --target speech --connect-out physical \
        --duration "$SOAK" </dev/null 2>"$d/live.err" &
    local pid=$!
    wait_port efs:in || { echo "FAIL - earflow live did not register its ports: $(cat "$d/live.err")"; return; }
    "$JACK_FEED" --name feed --play "$T/in.wav" --to efs:in --loop $((SOAK + 5)) >"$d/feed.out" 2>&1 &
    local feed=$! start=$SECONDS base= max_growth=0 samples=() t rss
    # $pid is timeout's; the memory measured is its child's, earflow live's own
    local efl
    efl=$(pgrep -P $pid | head -1)
    [ -n "$efl" ] || { echo "FAIL - no earflow live process under timeout ($pid)"; return; }
    while kill -0 $pid 2>/dev/null; do
        rss=$(rss_kb $efl)
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

: >"$T/jackd.log"
soak_once 1 >"$T/result"
grep '^#' "$T/result"
rc=$(awk '/^EXIT/ {print $2}' "$T/result") E=$(awk '/^XRUNS/ {print $2}' "$T/result")
growth=$(awk '/^RSS_GROWTH/ {print $2}' "$T/result") base=$(awk '/^RSS_BASE/ {print $2}' "$T/result")
# The reference, with the same feed playing into it: the feed is a client too, and a
# stall inside its callback is counted by every client's xrun callback.
P=
if [ "${EF_SOAK_REFERENCE:-0}" = 1 ]; then
    busy=$(busy_of "$T/run1/live.err")
    timeout -s KILL $((SOAK + 60)) "$EF_JACK_PASS" --name pass --duration "$SOAK" --busy "$busy" >"$T/pass.out" 2>&1 &
    pass_pid=$! feed_pid=
    if wait_port pass:in; then
        "$JACK_FEED" --name feed --play "$T/in.wav" --to pass:in --loop $((SOAK + 5)) >"$T/feed_pass.out" 2>&1 &
        feed_pid=$!
fi
wait $pass_pid || bad "jack_pass: $(cat "$T/pass.out")"
[ -n "$feed_pid" ] && kill $feed_pid 2>/dev/null && wait $feed_pid 2>/dev/null
P=$(summary_field xruns "$T/pass.out")
echo "# jack_pass: ${P:=0} xruns in $SOAK s after the soak, fed the same way, spinning for $busy of each period"
fi
if grep -q '^FAIL' "$T/result"; then
    bad "$(grep '^FAIL' "$T/result" | head -1)"
elif [ "$rc" != 0 ]; then
    bad "earflow live exited $rc"
else
    if [ "${growth:-999999}" -le "$RSS_BOUND" ] && [ "${base:-0}" -gt 0 ]; then
        ok "memory flat: VmRSS $base kB after ${WARMUP} s, at most +$growth kB later (bound $RSS_BOUND kB)"
    else
        bad "VmRSS grew by ${growth:-?} kB after the warm-up (from ${base:-?} kB; bound $RSS_BOUND kB)"
    fi
    if [ -n "$P" ]; then
        echo "# xruns (not judged here, see above): earflow ${E:-0}, jack_pass $P, each in $SOAK s" \
            "at $PERIOD-frame periods (P(>= ${E:-0} of $((${E:-0} + P)) | equal rates) =" \
            "$(xrun_tail "${E:-0}" "$P"))"
    else
        echo "# xruns (not judged here, see above): earflow ${E:-0} in $SOAK s at $PERIOD-frame periods" \
            "(the jack_pass reference: EF_SOAK_REFERENCE=1)"
    fi
fi
finish
