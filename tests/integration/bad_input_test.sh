#!/bin/bash
# Every bad input the README's "Bad input and what earflow does" lists, run through the
# program: the exit code, the message, and that whatever is written is finite.
# usage: bad_input_test.sh EARFLOW SOURCE_DIR   (env EF_LIVE_BACKENDS, EF_SANITIZED)
set -u
EARFLOW=$1 SRC=$2
G=$SRC/tests/golden V=$SRC/examples/voice.wav
T=$(mktemp -d)
JACK_PID=
# The servers killed on purpose below leave their clients' semaphores in /dev/shm.
cleanup() {
    [ -n "$JACK_PID" ] && kill "$JACK_PID" 2>/dev/null && wait "$JACK_PID" 2>/dev/null
    rm -f /dev/shm/jack_sem.*_earflow-bad-$$_*
    rm -rf "$T"
}
trap cleanup EXIT
# EF_TEST_SHORT=1 (the valgrind setup, some 100 times slower): the voice's first 0.25 s
# (every format, rate and channel count is still made from it)
# and 12000-sample hand-written files instead of 48000 (NS)
NS=48000
if [ "${EF_TEST_SHORT:-0}" = 1 ]; then
    sox "$V" "$T/voice.wav" trim 0 0.25 && V=$T/voice.wav
    NS=12000
fi
fails=0 passes=0
ok()  { passes=$((passes + 1)); echo "ok - $1"; }
bad() { fails=$((fails + 1)); echo "FAIL - $1"; }
PY=/usr/bin/python3; [ -x "$PY" ] || PY=python3
SEP=$G/separate_tiny.safetensors BIN=$G/binaural_tiny.safetensors

# render_case NAME WANT_EXIT PATTERN ARGS...: exit code and a stderr line matching
# PATTERN ('' = no message at all).
render_case() {
    local name=$1 want=$2 pattern=$3; shift 3
    rm -f "$T/out.wav"
    "$EARFLOW" render -q "$@" >"$T/stdout" 2>"$T/stderr"
    local rc=$?
    if [ $rc -ne "$want" ]; then bad "$name: exit $rc (want $want): $(cat "$T/stderr")"; return 1; fi
    if [ -z "$pattern" ] && [ -s "$T/stderr" ]; then bad "$name: unexpected message $(cat "$T/stderr")"; return 1; fi
    if [ -n "$pattern" ] && ! grep -q -- "$pattern" "$T/stderr"; then
        bad "$name: message '$(cat "$T/stderr")' lacks '$pattern'"; return 1
    fi
    ok "$name: exit $rc${pattern:+ ($(head -1 "$T/stderr"))}"
}

# finite_peak FILE: "N PEAK" of a float WAV, or "nonfinite".
finite_peak() {
    "$PY" - "$1" <<'EOF'
import math, struct, sys
d = open(sys.argv[1], 'rb').read()
i = 12
while i < len(d):
    cid, size = d[i:i + 4], struct.unpack('<I', d[i + 4:i + 8])[0]
    if cid == b'data':
        x = struct.unpack('<%df' % (size // 4), d[i + 8:i + 8 + size // 4 * 4])
        print('nonfinite' if any(not math.isfinite(v) for v in x) else '%d %g' % (len(x), max(map(abs, x), default=0)))
        break
    i += 8 + size + (size & 1)
EOF
}

# Float WAVs with bad samples (written by hand: sox would clip them).
"$PY" - "$T" <<'EOF'
import math, struct, sys
def wav(name, x, rate=48000):
    data = struct.pack('<%df' % len(x), *x)
    fmt = struct.pack('<HHIIHH', 3, 1, rate, rate * 4, 4, 32)
    open(sys.argv[1] + '/' + name, 'wb').write(b'RIFF' + struct.pack('<I', 4 + 26 + 8 + len(data)) + b'WAVE'
        + b'fmt ' + struct.pack('<I', 18) + fmt + b'\0\0' + b'data' + struct.pack('<I', len(data)) + data)
import os
n = 12000 if os.environ.get('EF_TEST_SHORT') == '1' else 48000  # NS above
s = [0.5 * math.sin(2 * math.pi * 440 * i / 48000) for i in range(n)]
bad = list(s)
for i in (1000, 3000): bad[i] = float('nan')
for i in range(2000, 2100): bad[i] = float('inf')
bad[4000] = -float('inf'); bad[5000] = 1e30; bad[6000] = 3.4e38; bad[7000] = 2e6
wav('nan.wav', bad)                                 # 106 bad samples
wav('allnan.wav', [float('nan')] * n)
wav('denormal.wav', [(-1) ** i * 1e-40 for i in range(n)])
wav('hot.wav', [4 * v for v in s])                 # +12 dBFS, legal in float
EOF

# --- audio files in odd formats: all read, same length and rate out
for spec in "u8:-b 8 -e unsigned-integer" "s24:-b 24" "s32:-b 32 -e signed-integer" "f32:-b 32 -e float" \
            "f64:-b 64 -e float" "ulaw:-e u-law" "alaw:-e a-law" "adpcm:-e ima-adpcm" "c8:-c 8" \
            "r8000:-r 8000" "r11025:-r 11025" "r37800:-r 37800" "r192000:-r 192000"; do
    name=${spec%%:*}
    # shellcheck disable=SC2086
    sox "$V" ${spec#*:} "$T/$name.wav" 2>/dev/null || { bad "sox cannot make $name"; continue; }
    if render_case "$name input" 0 "" -m "$SEP" -i "$T/$name.wav" -o "$T/out.wav"; then
        a=$(soxi -s "$T/$name.wav") b=$(soxi -s "$T/out.wav") ra=$(soxi -r "$T/$name.wav") rb=$(soxi -r "$T/out.wav")
        [ "$a" = "$b" ] && [ "$ra" = "$rb" ] || bad "$name: $b frames at $rb Hz out of $a at $ra"
    fi
done
sox "$V" "$T/flac.flac" && render_case "FLAC input" 0 "" -m "$SEP" -i "$T/flac.flac" -o "$T/out.wav"
sox "$V" "$T/ogg.ogg" && render_case "Ogg Vorbis input" 0 "" -m "$SEP" -i "$T/ogg.ogg" -o "$T/out.wav"
if command -v ffmpeg >/dev/null && ffmpeg -loglevel error -i "$V" "$T/mp3.mp3" 2>/dev/null; then
    if render_case "MP3 input to WAV" 0 "" -m "$SEP" -i "$T/mp3.mp3" -o "$T/out.wav"; then
        enc="$(soxi -b "$T/out.wav" 2>/dev/null)-bit $(soxi -e "$T/out.wav" 2>/dev/null)"
        [ "$enc" = "32-bit Floating Point PCM" ] && ok "  written as $enc" || bad "  MP3 to WAV: $enc"
    fi
fi
sox "$V" -c 9 "$T/c9.wav"
render_case "9 channels" 3 "at most 8" -i "$T/c9.wav" -o "$T/out.wav"
for r in 4000 7999 384000; do
    sox "$V" -r $r "$T/r$r.wav" 2>/dev/null
    render_case "$r Hz" 3 "unsupported sample rate" -i "$T/r$r.wav" -o "$T/out.wav"
done
sox -n -r 48000 -c 1 "$T/empty.wav" trim 0 0 2>/dev/null
render_case "a WAV without samples" 3 "no audio" -i "$T/empty.wav" -o "$T/out.wav"
: >"$T/zero.wav"
render_case "an empty file" 3 "cannot read audio" -i "$T/zero.wav" -o "$T/out.wav"
echo "not audio" >"$T/text.wav"
render_case "a text file" 3 "cannot read audio" -i "$T/text.wav" -o "$T/out.wav"
head -c 44 "$T/s24.wav" >"$T/header.wav"
render_case "a header without samples" 3 "cannot read audio" -i "$T/header.wav" -o "$T/out.wav"
head -c 1000 "$T/s24.wav" >"$T/trunc.wav"
render_case "a truncated WAV (what it holds is rendered, with a warning)" 0 "is truncated" -i "$T/trunc.wav" -o "$T/out.wav"
mkdir "$T/adir"
render_case "a directory as input" 3 "is a directory" -i "$T/adir" -o "$T/out.wav"
render_case "a missing input" 3 "No such file" -i "$T/nothere.wav" -o "$T/out.wav"

# --- bad samples: replaced by silence, counted exactly, output finite
for m in identity "$SEP" "$BIN"; do
    if render_case "NaN, Inf and huge samples ($(basename "$m"))" 0 "106 bad input samples" -m "$m" -i "$T/nan.wav" -o "$T/out.wav" --format float; then
        r=$(finite_peak "$T/out.wav"); [ "${r%% *}" != nonfinite ] && ok "  output finite (samples, peak: $r)" || bad "  output not finite"
    fi
done
render_case "all samples NaN" 0 "$NS bad input samples" -m "$SEP" -i "$T/allnan.wav" -o "$T/out.wav" --format float &&
    { [ "$(finite_peak "$T/out.wav")" = "$NS 0" ] && ok "  output silent" || bad "  all-NaN output: $(finite_peak "$T/out.wav")"; }
# (EF_NO_FTZ=1, the valgrind setup: valgrind does not emulate denormals-are-zero, so
# there the samples stay numbers; only a finite output is asked for)
render_case "subnormal samples (computed as 0)" 0 "" -m "$SEP" -i "$T/denormal.wav" -o "$T/out.wav" --format float &&
    if [ "${EF_NO_FTZ:-0}" = 1 ]; then
        r=$(finite_peak "$T/out.wav"); [ "${r%% *}" = "$NS" ] && ok "  output finite (no FTZ/DAZ here: $r)" || bad "  subnormal output: $r"
    else
        { [ "$(finite_peak "$T/out.wav")" = "$NS 0" ] && ok "  output silent" || bad "  subnormal output: $(finite_peak "$T/out.wav")"; }
    fi
render_case "+12 dBFS float input" 0 "" -i "$T/hot.wav" -o "$T/out.wav" --format float &&
    { p=$(finite_peak "$T/out.wav"); awk -v p="${p#* }" 'BEGIN{exit !(p > 1.99 && p < 2.01)}' &&
        ok "  float output keeps the headroom (peak ${p#* })" || bad "  hot float output: $p"; }

# --- output files
cp "$V" "$T/in.wav"; echo keep >"$T/exists.wav"
render_case "existing output without --force" 4 "use --force" -i "$T/in.wav" -o "$T/exists.wav"
[ "$(cat "$T/exists.wav")" = keep ] && ok "  left untouched" || bad "  existing output changed"
render_case "existing output with --force" 0 "" -i "$T/in.wav" -o "$T/exists.wav" --force
render_case "output = input, even with --force" 4 "output is the input" -i "$T/in.wav" -o "$T/in.wav" --force
ln -s in.wav "$T/link.wav"
render_case "output = a link to the input" 4 "output is the input" -i "$T/in.wav" -o "$T/link.wav" --force
ln -s /dev/null "$T/devnull.wav"
render_case "output = a device (through a link), even with --force" 4 "not a regular file" -i "$T/in.wav" -o "$T/devnull.wav" --force
[ -c /dev/null ] && ok "  /dev/null is still a device" || bad "  /dev/null was replaced"
render_case "output = a directory" 4 "is a directory" -i "$T/in.wav" -o "$T/adir" --force
render_case "output in a missing folder" 4 "cannot write here" -i "$T/in.wav" -o "$T/no/such/out.wav"
render_case "unknown output extension" 4 "unknown output extension" -i "$T/in.wav" -o "$T/out.mp3"
ls "$T"/.*part* >/dev/null 2>&1 && bad "temporary files left behind: $(ls -a "$T")" || ok "no temporary file left behind"

# --- models
head -c 5000 "$SRC/models/separate.safetensors" >"$T/trunc.safetensors" 2>/dev/null || head -c 5000 "$SEP" >"$T/trunc.safetensors"
head -c 100 /dev/urandom >"$T/random.safetensors"; : >"$T/empty.safetensors"; cp "$V" "$T/wav.safetensors"
"$PY" - "$SEP" "$T" <<'EOF'
import json, struct, sys
d = open(sys.argv[1], 'rb').read(); n = struct.unpack('<Q', d[:8])[0]; h = json.loads(d[8:8 + n])
def write(name, field, value):
    c = json.loads(h['__metadata__']['earflow']); c[field] = value
    h2 = dict(h); h2['__metadata__'] = dict(h['__metadata__'], earflow=json.dumps(c))
    b = json.dumps(h2).encode(); b += b' ' * (-len(b) % 8)
    open(sys.argv[2] + '/' + name, 'wb').write(struct.pack('<Q', len(b)) + b + d[8 + n:])
write('version.safetensors', 'version', 99)
write('kind.safetensors', 'kind', 'reverb')
EOF
render_case "unknown model name" 5 "no nosuchmodel.safetensors found" -m nosuchmodel -i "$T/in.wav" -o "$T/out.wav"
render_case "missing model file" 5 "No such file" -m "$T/nothere.safetensors" -i "$T/in.wav" -o "$T/out.wav"
render_case "truncated model" 5 "trunc.safetensors: " -m "$T/trunc.safetensors" -i "$T/in.wav" -o "$T/out.wav"
render_case "random bytes as model" 5 "random.safetensors: " -m "$T/random.safetensors" -i "$T/in.wav" -o "$T/out.wav"
render_case "empty model file" 5 "too short" -m "$T/empty.safetensors" -i "$T/in.wav" -o "$T/out.wav"
render_case "a WAV as model" 5 "wav.safetensors: " -m "$T/wav.safetensors" -i "$T/in.wav" -o "$T/out.wav"
render_case "a directory as model" 5 "adir" -m "$T/adir" -i "$T/in.wav" -o "$T/out.wav"
render_case "wrong model version" 5 "version 99 unsupported" -m "$T/version.safetensors" -i "$T/in.wav" -o "$T/out.wav"
render_case "unknown model kind" 5 "kind 'reverb' unknown" -m "$T/kind.safetensors" -i "$T/in.wav" -o "$T/out.wav"
"$EARFLOW" info "$T/trunc.safetensors" >/dev/null 2>&1; [ $? -eq 5 ] && ok "earflow info on a bad model: exit 5" || bad "info on a bad model"

# --- controls out of range: refused by the program (the engine API clamps instead)
for c in "--azimuth inf" "--azimuth nan" "--elevation 91" "--distance 0" "--room nowhere"; do
    # shellcheck disable=SC2086
    render_case "binaural $c" 2 "${c%% *}" -m "$BIN" -i "$T/in.wav" -o "$T/out.wav" $c
done
for c in "--target nowhere" "--limit -1" "--limit inf" "--mix 2" "--mix nan" \
         "--gain 25" "--gain -inf" "--steps -1" "--steps 9" "--steps 2.5" "--t0 1" "--solver rk4" \
         "--seed -1" "--block 0" "--block 65537" "--format pcm8" "--azimuth 30"; do
    # shellcheck disable=SC2086
    render_case "separate $c" 2 "${c%% *}" -m "$SEP" -i "$T/in.wav" -o "$T/out.wav" $c
done

# --- live: no server, no device, a server or device that goes away
case " ${EF_LIVE_BACKENDS:-} " in
*" jack "*)
    JACK_NO_START_SERVER=1 JACK_DEFAULT_SERVER=earflow-none-$$ "$EARFLOW" live --backend jack --model identity \
        --duration 1 </dev/null >/dev/null 2>"$T/nojack.err"
    rc=$?
    [ $rc -eq 1 ] && [ "$(wc -l <"$T/nojack.err")" -eq 1 ] && ok "live, no JACK server: exit 1, one line ($(cat "$T/nojack.err"))" ||
        bad "live, no JACK server: exit $rc: $(cat "$T/nojack.err")" ;;
esac
case " ${EF_LIVE_BACKENDS:-} " in
*" portaudio "*)
    JACK_NO_START_SERVER=1 JACK_DEFAULT_SERVER=earflow-none-$$ "$EARFLOW" live --backend portaudio --input nosuchdevice \
        --model identity --duration 1 </dev/null >/dev/null 2>"$T/nodev.err"
    rc=$?
    [ $rc -eq 1 ] && grep -q "no input device" "$T/nodev.err" && ok "live, unknown PortAudio device: exit 1" ||
        bad "live, unknown device: exit $rc: $(cat "$T/nodev.err")" ;;
esac
"$EARFLOW" live --backend portaudio --rate 7999 --model identity </dev/null >/dev/null 2>&1
[ $? -eq 2 ] && ok "live --rate 7999: exit 2" || bad "live --rate 7999"
if [ -n "${EF_LIVE_BACKENDS:-}" ] && command -v jackd >/dev/null && [ "${EF_SANITIZED:-0}" != 1 ]; then
    export JACK_DEFAULT_SERVER=earflow-bad-$$ JACK_NO_START_SERVER=1
    # server_dies NAME LIVE_ARGS...: the server is killed 2 s in: exit 1 within 10 s,
    # the recording finalized.
    server_dies() {
        local name=$1; shift
        jackd -n "$JACK_DEFAULT_SERVER" -d dummy -r 48000 -p 256 >"$T/jackd.log" 2>&1 &
        JACK_PID=$!
        for _ in $(seq 100); do timeout -s KILL 10 jack_lsp 2>/dev/null | grep -qx system:playback_1 && break; sleep 0.1; done
        "$EARFLOW" live -q "$@" --model identity --record-output "$T/$name.wav" </dev/null 2>"$T/$name.err" &
        local pid=$! start=$SECONDS
        sleep 2; kill "$JACK_PID"; wait "$JACK_PID" 2>/dev/null; JACK_PID=
        for _ in $(seq 150); do kill -0 $pid 2>/dev/null || break; sleep 0.1; done
        kill -0 $pid 2>/dev/null && { kill -9 $pid; bad "$name: still running 15 s after the server died"; return; }
        wait $pid; local rc=$? frames
        frames=$(soxi -s "$T/$name.wav" 2>/dev/null || echo 0)
        if [ $rc -eq 1 ] && [ "$frames" -gt 0 ]; then
            ok "$name: exit 1 after $((SECONDS - start)) s ($(grep 'earflow live: [tn][ho]' "$T/$name.err" | head -1)); recording finalized ($frames frames)"
        else bad "$name: exit $rc, $frames frames: $(cat "$T/$name.err")"; fi
    }
    case " $EF_LIVE_BACKENDS " in *" jack "*) server_dies "JACK server dies" --name efb ;; esac
    case " $EF_LIVE_BACKENDS " in *" portaudio "*) server_dies "PortAudio's JACK server dies" --backend portaudio --name efb-pa --input system --output system ;; esac
fi
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
