#!/bin/bash
# `earflow live` as a JACK client on a private `jackd -d dummy` server: a known signal
# played into its input port by tests/live/jack_feed.c, its output ports recorded, and the
# recording compared with `earflow render` of the same input after latency
# alignment (error below -80 dB). Also: the recorder (--record-input/-output), the
# separation model, commands from stdin and OSC over UDP, buffer-size changes, SIGTERM.
#
# Why the reference is rendered from --record-input: the engine's noise sequence
# depends on how many frames it processed before the signal arrived, so the exact
# reference is render of the exact stream the engine heard. The test first proves
# that this stream is the played signal (sample-exact, at offset F), then that the
# JACK output equals render of it, delayed by the reported latency L, plus at most
# one period for the feed -> earflow -> feed loop in the JACK graph.
source "$(dirname "$0")/live_lib.sh" "$@"
need_backend jack
start_jackd 256
make_input
CLIENT_ARGS=(--name efl) IN_PORT=efl:in OUT_PORTS=(efl:out_left efl:out_right) MONO_OUT_PORT=efl:out

B=(--model "$G/binaural_tiny.safetensors" --azimuth 60 --elevation 10 --distance 1.5 --room small --seed 7)
if [ "${EF_SANITIZED:-0}" = 1 ]; then
    # Under ASan+UBSan the binaural golden model runs slower than real time (hundreds
    # of xruns); the cheaper separation model keeps every code path but stereo out.
    echo "# sanitizer build: the binaural cases use the separation model (binaural is slower than real time here)"
    B=(--model "$G/separate_tiny.safetensors" --target music --seed 7)
fi
run_case binaural -- "${B[@]}"
run_case separate -- --model "$G/separate_tiny.safetensors" --target speech --seed 3

# The comparisons can fail: a different seed gives a different output, which neither
# earflow's recording nor any cycle of the JACK capture equals.
d=$T/binaural
"$EARFLOW" render -q "${B[@]}" "${SAN_STEPS[@]}" --seed 8 -i "$d/rin.wav" -o "$T/wrong.wav"
lat=$(summary_field latency "$d/live.err")
if "$ALIGN" compare "$T/wrong.wav" "$d/rout.wav" $((-lat)) $((-lat)) -100 >/dev/null; then
    bad "a wrong seed matched --record-output"
elif r=$("$ALIGN" pieces "$T/wrong.wav" "$d/cap.wav" $PERIOD 0); then
    bad "a wrong seed matched the JACK capture cycle by cycle: $r"
else ok "a wrong seed matches neither the recorded output nor a cycle of the capture ($r)"; fi

# Commands reach the audio thread: enabled off from stdin, mix 0 as OSC over UDP; both make
# the output the dry input on both ears (delayed by the latency; bypass and mix glide
# over 5 ms, long before the signal arrives).
printf 'mix 0.5\nenabled off\nstatus\n' >"$T/commands.txt"
STDIN_FILE=$T/commands.txt REF_DRY=1 REF_NAME="the dry input (enabled off from stdin)" \
    run_case bypass_stdin -- "${B[@]}"
port=$((20000 + $$ % 20000))
AFTER_START="printf '/earflow/mix\0\0\0\0,f\0\0\0\0\0\0' >/dev/udp/127.0.0.1/$port" \
    REF_DRY=1 REF_NAME="the dry input (mix 0 by OSC)" \
    run_case mix_osc --udp "$port" -- "${B[@]}"

# Head trackers over UDP: SPARTA's /ypr and /yaw, IEM SceneRotator's /SceneRotator/ypr
# and /SceneRotator/quaternions, with --osc-flip roll; after each, a "status" datagram
# prints the head pose earflow sent to the engine (tests/unit/test_live_commands.c
# reads it back from the engine itself).
tport=$((port + 1))
"$EARFLOW" live -q --name efl --model "$G/binaural_tiny.safetensors" --udp "$tport" \
    --osc-flip roll --duration 5 </dev/null >"$T/trk.out" 2>"$T/trk.err" &
pid=$!
wait_port efl:in && /usr/bin/python3 - "$tport" <<'EOF'
import math, socket, struct, sys, time
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
def pad(b):
    b += b"\0"
    return b + b"\0" * (-len(b) % 4)
def osc(address, *v):
    return pad(address.encode()) + pad(b"," + b"f" * len(v)) + b"".join(struct.pack(">f", x) for x in v)
def quaternion(y, p, r):  # yaw about z, then pitch about y, then roll about x (degrees)
    cy, sy = math.cos(math.radians(y) / 2), math.sin(math.radians(y) / 2)
    cp, sp = math.cos(math.radians(p) / 2), math.sin(math.radians(p) / 2)
    cr, sr = math.cos(math.radians(r) / 2), math.sin(math.radians(r) / 2)
    return (cr * cp * cy + sr * sp * sy, sr * cp * cy - cr * sp * sy,
            cr * sp * cy + sr * cp * sy, cr * cp * sy - sr * sp * cy)
for m in [osc("/ypr", 30, 10, 5), osc("/yaw", -20), osc("/SceneRotator/ypr", 45, -15, 20),
          osc("/SceneRotator/quaternions", *quaternion(-60, 25, -10))]:
    s.sendto(m, ("127.0.0.1", int(sys.argv[1])))
    time.sleep(0.1)
    s.sendto(b"status", ("127.0.0.1", int(sys.argv[1])))
    time.sleep(0.1)
EOF
wait $pid; rc=$?
got=$(grep -o "yaw [-0-9.]* pitch [-0-9.]* roll [-0-9.]*" "$T/trk.out" | tr '\n' '|')
want="yaw 30 pitch 10 roll -5|yaw -20 pitch 10 roll -5|yaw 45 pitch -15 roll -20|yaw -60 pitch 25 roll 10|"
if [ $rc -eq 0 ] && [ "$got" = "$want" ]; then
    ok "head trackers over UDP (SPARTA /ypr, /yaw; IEM /SceneRotator/ypr, /quaternions; --osc-flip roll): $got"
else bad "head trackers: exit $rc, poses '$got', want '$want': $(cat "$T/trk.err")"; fi

# Buffer-size changes while running: periods above the engine's block are processed
# in pieces; the client survives and reports the new size; identity stays exact.
"$EARFLOW" live --name efl --model identity --duration 4 </dev/null >"$T/bs.out" 2>"$T/bs.err" &
pid=$!
wait_port efl:in && sleep 0.5 && jack_bufsize 1024 >/dev/null && sleep 0.5 &&
    jack_bufsize 64 >/dev/null && sleep 0.5 && jack_bufsize 256 >/dev/null
wait $pid; rc=$?
if [ $rc -eq 0 ] && grep -q "period now 1024 frames" "$T/bs.err" && grep -q "period now 64 frames" "$T/bs.err"; then
    ok "buffer size 256 -> 1024 -> 64 -> 256 while running ($(grep -c 'period now' "$T/bs.err") changes reported)"
else bad "buffer-size change: exit $rc: $(cat "$T/bs.err")"; fi

# SIGTERM ends the session normally and finalizes the recordings.
"$EARFLOW" live -q --name efl --model identity --record-output "$T/term.wav" </dev/null 2>"$T/term.err" &
pid=$!
wait_port efl:in; sleep 1; kill -TERM $pid; wait $pid; rc=$?
frames=$(soxi -s "$T/term.wav" 2>/dev/null || echo 0)
if [ $rc -eq 0 ] && [ "$frames" -gt 24000 ] && grep -q "dropped recording frames 0" "$T/term.err"; then
    ok "SIGTERM: exit 0, recording finalized ($frames frames, header valid)"
else bad "SIGTERM: exit $rc, $frames frames: $(cat "$T/term.err")"; fi
# A full command queue: with the server stopped (SIGSTOP) no callback drains it, so of
# 600 mix commands the queue refuses the later ones ("not applied"); status must then
# show the last one accepted, not the last one sent (it showed the last one sent, so a
# refused command still counted, until 2026-12-06).
{
    wait_port efl:in; kill -STOP "$JACK_PID"; sleep 0.2
    for i in $(seq 600); do echo "mix 0.$(printf %03d $i)"; done
    echo status; sleep 1; kill -CONT "$JACK_PID"; sleep 0.5; echo quit
} | "$EARFLOW" live -q --name efl --model identity --duration 20 >"$T/full.out" 2>"$T/full.err"
kill -CONT "$JACK_PID" 2>/dev/null
refused=$(grep -c "command queue full; 'mix [0-9.]*' not applied" "$T/full.err")
last_ok=$(for i in $(seq 600); do echo "0.$(printf %03d $i)"; done | grep -vxF -f <(grep -o "'mix [0-9.]*' not applied" "$T/full.err" | awk '{print $2}' | tr -d "'") | tail -1)
shown=$(grep -o "mix [0-9.]*" "$T/full.out" | tail -1 | awk '{print $2}')
if [ "$refused" -gt 0 ] && [ -n "$shown" ] && awk -v a="$shown" -v b="$last_ok" 'BEGIN {exit !(a + 0 == b + 0)}'; then
    ok "full command queue: $refused of 600 refused; status shows the last accepted (mix $shown)"
else bad "full command queue: $refused refused, status shows mix '${shown}', last accepted $last_ok: $(tail -3 "$T/full.err")"; fi
# The summary's callback load figures are ordered: p50 <= p99 <= max (+ the 0.5 % bin
# the percentiles are counted in), and the mean <= max.
p50=$(summary_field "p50 callback load" "$T/term.err") p99=$(summary_field "p99 callback load" "$T/term.err")
mx=$(summary_field "max callback load" "$T/term.err") mean=$(summary_field "mean callback load" "$T/term.err")
if [ -n "$p50" ] && [ -n "$p99" ] && awk -v a="$p50" -v b="$p99" -v m="$mx" -v u="$mean" \
    'BEGIN {exit !(a <= b && b <= m + 0.5 && u <= m && a > 0)}'; then
    ok "summary: callback load mean $mean %, p50 $p50 %, p99 $p99 %, max $mx %"
else bad "summary load figures out of order or missing: $(grep 'callback load' "$T/term.err")"; fi

# Refusals: a missing named model (exit 5), an existing recording without --force (4).
# (a shipped name whose file is not in models/; once both ship, a missing file)
missing="$T/no-such-model.safetensors"
for name in separate binaural; do
    [ -f "$SRC/models/$name.safetensors" ] || { missing=$name; break; }
done
"$EARFLOW" live --model "$missing" --duration 1 </dev/null >/dev/null 2>"$T/m.err"; rc=$?
[ $rc -eq 5 ] && ok "missing model $missing: exit 5 ($(cat "$T/m.err"))" ||
    bad "missing model $missing: exit $rc: $(cat "$T/m.err")"
"$EARFLOW" live --model identity --duration 1 --record-output "$T/term.wav" </dev/null >/dev/null 2>"$T/e.err"; rc=$?
[ $rc -eq 4 ] && ok "existing recording without --force: exit 4" || bad "existing recording: exit $rc: $(cat "$T/e.err")"
finish
