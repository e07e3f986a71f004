#!/bin/bash
# `earflow live --backend portaudio` through PortAudio's JACK host API on a private
# `jackd -d dummy` server: `earflow devices` lists the JACK device; a known signal
# played into the PortAudio client's input port (tests/live/jack_feed.c) comes out equal
# to `earflow render` of the same input (see live_jack_test.sh for the method).
# PortAudio connects its ports to the device it opens ("system": the dummy driver's
# silent capture ports and its playback ports); the feed connects in addition.
source "$(dirname "$0")/live_lib.sh" "$@"
need_backend portaudio
start_jackd 256
make_input

"$EARFLOW" devices >"$T/devices.txt" 2>&1
if grep -q "JACK Audio Connection Kit.*system" "$T/devices.txt"; then
    ok "earflow devices lists the JACK host API's system device"
else bad "earflow devices: $(cat "$T/devices.txt")"; fi

CLIENT_ARGS=(--backend portaudio --name efl-pa --input system --output system --buffer 256)
IN_PORT=efl-pa:in_0 OUT_PORTS=(efl-pa:out_0 efl-pa:out_1) MONO_OUT_PORT=efl-pa:out_0
# the stream runs once its ports are connected to system (wait_connected)
AFTER_START='wait_connected "$IN_PORT" || echo "# $name: $IN_PORT not connected after 30 s"'
# PortAudio may buffer between JACK and its callback: a wider search for the lag.
WINDOW=2048
B=(--model "$G/binaural_tiny.safetensors" --azimuth -40 --elevation 0 --distance 2 --room large --seed 5)
if [ "${EF_SANITIZED:-0}" = 1 ]; then
    echo "# sanitizer build: the binaural case is skipped (slower than real time under ASan+UBSan)"
else
    run_case pa_binaural -- "${B[@]}"
fi
run_case pa_separate -- --model "$G/separate_tiny.safetensors" --target music --mode remove --seed 2

# Device selection errors are refused clearly.
"$EARFLOW" live --backend portaudio --input nosuchdevice --model identity --duration 1 \
    </dev/null >/dev/null 2>"$T/dev.err"; rc=$?
[ $rc -eq 1 ] && grep -q "no input device" "$T/dev.err" && ok "unknown device refused ($(cat "$T/dev.err"))" ||
    bad "unknown device: exit $rc: $(cat "$T/dev.err")"
finish
