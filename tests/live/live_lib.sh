# Shared by the live_*_test.sh scripts: arguments, a private JACK server, the input
# signal, ok/bad counters. Source it; usage of the scripts:
#   SCRIPT EARFLOW JACK_FEED ALIGN SOURCE_DIR   (env EF_LIVE_BACKENDS, EF_SANITIZED)
set -u
EARFLOW=$1 JACK_FEED=$2 ALIGN=$3 SRC=$4
G=$SRC/tests/golden
T=$(mktemp -d)
fails=0 passes=0
ok()  { passes=$((passes + 1)); echo "ok - $1"; }
bad() { fails=$((fails + 1)); echo "FAIL - $1"; }
finish() { echo "$passes passed, $fails failed"; [ $fails -eq 0 ]; exit $?; }

# need_backend NAME: exit 77 (meson: skipped) when earflow was built without it.
need_backend() {
    case " ${EF_LIVE_BACKENDS:-} " in
        *" $1 "*) ;;
        *) echo "SKIP: earflow was built without $1 (its -dev package was missing)"; exit 77 ;;
    esac
    command -v jackd >/dev/null || { echo "SKIP: jackd is not installed"; exit 77; }
}

# A private JACK server (dummy driver: real-time paced, no sound card), killed on exit.
# Real-time scheduling where allowed (root in CI): without it, other processes on a
# 2-core machine delay the clients into xruns.
JACK_PID=
cleanup() {
    stop_stress
    [ -n "$JACK_PID" ] && kill "$JACK_PID" 2>/dev/null && wait "$JACK_PID" 2>/dev/null
    rm -rf "$T"
}

# The other core loaded (the benchmarks' "loaded" rows): `stress-ng --cpu 1` until
# stop_stress (cleanup stops it too). start_stress fails when stress-ng is missing.
STRESS=
start_stress() {
    command -v stress-ng >/dev/null || return 1
    stress-ng --cpu 1 --timeout 0 >/dev/null 2>&1 &
    STRESS=$!
}
stop_stress() {
    [ -n "$STRESS" ] && kill "$STRESS" 2>/dev/null && wait "$STRESS" 2>/dev/null
    STRESS=
}

# each_cell "LOADS" "PERIODS" FN: the benchmarks' cells: FN PERIOD LOAD for each period
# on a server of its own (start_jackd), with the other core idle or loaded
# (start_stress) as each word of LOADS says.
each_cell() {
    local load period
    for load in $1; do
        if [ "$load" = loaded ]; then
            start_stress || { echo "# stress-ng missing: no loaded rows"; return; }
        fi
        for period in $2; do
            start_jackd "$period"
            "$3" "$period" "$load"
            kill "$JACK_PID" 2>/dev/null; wait "$JACK_PID" 2>/dev/null; JACK_PID=
        done
        stop_stress
    done
}
trap cleanup EXIT
start_jackd() {
    local period=${1:-256} rate=${2:-48000}
    export JACK_DEFAULT_SERVER=earflow-live-$$ JACK_NO_START_SERVER=1
    jackd -n "$JACK_DEFAULT_SERVER" -d dummy -r "$rate" -p "$period" >"$T/jackd.log" 2>&1 &
    JACK_PID=$!
    # jack_wait -w gives up at once if it catches the server half-started, and -c
    # says yes before clients are served: poll until a client sees the dummy ports.
    local i
    for i in $(seq 100); do
        jack_ports | grep -qx system:playback_1 && return 0
        kill -0 "$JACK_PID" 2>/dev/null || break
        sleep 0.1
    done
    echo "FAIL - jackd did not start:"; cat "$T/jackd.log"; exit 1
}

# The known signal: 2 s of the example voice, 48 kHz mono float.
make_input() {
    sox "$SRC/examples/voice.wav" -r 48000 -c 1 -b 32 -e float "$T/in.wav" trim 0 2 2>/dev/null ||
        { echo "FAIL - cannot make the input with sox"; exit 1; }
}

# summary_field NAME FILE: the number after NAME in earflow live's summary line.
summary_field() { grep -o "$1 [0-9.]*" "$2" | tail -1 | awk '{print $NF}'; }

# pass_segment SECONDS [BUSY]: run tests/jack_pass (the trivial client earflow's xruns
# are measured against; env EF_JACK_PASS) on the server, spinning for the share BUSY of
# each period (default 0); its xrun count in $xruns.
pass_segment() {
    xruns=0
    timeout -s KILL $(($1 + 30)) "$EF_JACK_PASS" --name pass --duration "$1" --busy "${2:-0}" >"$T/pass.out" 2>&1 ||
        { bad "jack_pass (137: still running 30 s after its duration, killed): $(cat "$T/pass.out")"; return; }
    xruns=$(summary_field xruns "$T/pass.out")
}

# busy_of FILE: earflow live's mean callback load in FILE's summary as a share (0.031).
busy_of() { awk -v p="$(summary_field "mean callback load" "$1")" 'BEGIN {printf "%.4f", p / 100}'; }

source "$(dirname "${BASH_SOURCE[0]}")/xrun_judge.sh"

# efl_live SECONDS ERRFILE MODEL [ARGS...]: `earflow live` as the client efl between the
# dummy capture and playback ports for SECONDS, its stderr (the summary) in ERRFILE,
# killed 30 s after its duration.
efl_live() {
    local sec=$1 err=$2 model=$3
    shift 3
    timeout -s KILL $((sec + 30)) "$EARFLOW" live -q --name efl --model "$model" "$@" \
        --connect-in physical --connect-out physical --duration "$sec" </dev/null 2>"$err"
}

# The server's log and jackd's own account of each xrun: its timer woke late (the
# machine), or a client was still unfinished when the next cycle came ("Triggered":
# woken but not yet run). jackd_log_lines is a mark; jackd_log FROM [TO] prints the
# lines after FROM (up to TO; nothing for an empty range), without jackd's NUL padding.
jackd_log_lines() { wc -l <"$T/jackd.log"; }
jackd_log() {
    if [ -z "${2:-}" ]; then sed -n "$(($1 + 1)),\$p" "$T/jackd.log"
    elif [ "$2" -gt "$1" ]; then sed -n "$(($1 + 1)),$2p" "$T/jackd.log"; fi | tr -d '\000'
}
# count_timer_late, count_unfinished [CLIENT]: those lines in stdin (any client by default).
count_timer_late() { grep -c 'JackTimedDriver::Process XRun'; }
count_unfinished() { grep -c "JackEngine::XRun: client = ${1:-.*} was not finished"; }

# jack_ports [ARGS]: jack_lsp, killed after 3 s. jack_lsp itself hangs now and then
# on these servers (CI: a test hung until meson's timeout; with a 10-s kill, a 5-s
# client came and went while one jack_lsp hung), so a hung call is killed and retried.
jack_ports() { timeout -s KILL 3 jack_lsp "$@" 2>/dev/null; }

# within_30s CMD...: until CMD succeeds, polled every 0.1 s (30 s at most, however
# long the calls take).
within_30s() {
    local until=$((SECONDS + 30))
    while [ $SECONDS -lt $until ]; do "$@" && return 0; sleep 0.1; done
    return 1
}

# wait_port PORT: until a JACK port exists.
port_exists() { jack_ports | grep -qx "$1"; }
wait_port() { within_30s port_exists "$1"; }

# wait_connected PORT: until a JACK port has a connection. PortAudio's
# JACK host API registers its ports when the stream is opened and connects them to the
# devices (system) when it starts; audio fed between the two is lost. Under ASan on a
# slow VM that gap was 0.37 s, and live_portaudio missed the start of the signal.
port_connected() { [ "$(jack_ports -c "$1" | wc -l)" -gt 1 ]; }
wait_connected() { within_30s port_connected "$1"; }

# run_case NAME EXTRA_LIVE_ARGS... -- CONTROLS...   (CONTROLS start with --model FILE)
# Runs earflow live with CLIENT_ARGS and the controls, plays the input into IN_PORT,
# records OUT_PORTS, and checks: the recorded input holds the played signal; the
# reference is `earflow render` of the recorded input (with REF_DRY=1: the recorded
# input itself on every output channel, for bypass and mix 0); --record-output equals
# the reference delayed by the latency; the captured output equals the reference at a
# lag within WINDOW of input offset - latency.
#
# Xruns are the graph's, not earflow's output: a JACK client that misses a cycle loses
# or repeats that cycle's buffers, in the feed's playback as in its capture. With
# xruns (earflow's count, which JACK reports to every client) the whole-file checks
# become cycle-wise ones, each as exact: every PERIOD-frame cycle of the recorded input
# that is not silent occurs sample-exact in the played signal, and every cycle of the
# capture sample-exact in the reference (`align pieces`), at most two
# per xrun excepted (a cycle cut by a lost one), and at least all but those covered.
# --record-output == reference stays exact either way. No run is retried.
WINDOW=512
PERIOD=256
# Under ASan + UBSan (debugoptimized, about 10 x slower) the tiny models' own schedules
# can be slower than real time: separate_tiny at its 3 steps read RTF 1.01 on a 2-core
# Zen 1 EPYC VM (2026-12-06; 0.10 in the release build), and live_jack and
# live_portaudio failed there with 94 and 36 xruns. The sanitized cases take one step
# (the same code paths, a third of the work); run_case adds it to the case's model
# arguments, so live and render both get it.
SAN_STEPS=()
[ "${EF_SANITIZED:-0}" = 1 ] && SAN_STEPS=(--steps 1)
run_case() {
    local name=$1; shift
    local live_args=() ctl=()
    while [ "$1" != -- ]; do live_args+=("$1"); shift; done; shift
    ctl=("$@" "${SAN_STEPS[@]}")
    local d=$T/$name; rm -rf "$d"; mkdir -p "$d"
    # timeout: a JACK client that hangs (once in CI here, the test then killed at 180 s
    # with nothing printed) is killed and named instead.
    timeout -s KILL 60 "$EARFLOW" live -q "${CLIENT_ARGS[@]}" --duration 5 "${ctl[@]}" "${live_args[@]}" \
        --record-input "$d/rin.wav" --record-output "$d/rout.wav" \
        <"${STDIN_FILE:-/dev/null}" 2>"$d/live.err" &
    local pid=$!
    if ! wait_port "$IN_PORT"; then
        bad "$name: earflow live did not register its ports within 30 s: $(cat "$d/live.err")"
        kill "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
        return
    fi
    [ -n "${AFTER_START:-}" ] && eval "$AFTER_START"
    local outs=(--from "${OUT_PORTS[0]}" --from "${OUT_PORTS[1]}")
    [ "${ctl[1]}" != "${ctl[1]%separate_tiny.safetensors}" ] && outs=(--from "$MONO_OUT_PORT")
    timeout -s KILL 60 "$JACK_FEED" --name feed --play "$T/in.wav" --to "$IN_PORT" --record "$d/cap.wav" "${outs[@]}" \
        --tail 0.3 >"$d/feed.out" 2>&1 || { bad "$name: jack_feed (137: hung 60 s, killed): $(cat "$d/feed.out")"; }
    wait $pid; local rc=$?
    [ $rc = 137 ] && echo "# $name: earflow live hung 60 s and was killed: $(tail -3 "$d/live.err")"
    local xruns latency
    xruns=$(summary_field xruns "$d/live.err")
    latency=$(summary_field latency "$d/live.err")
    if [ $rc -ne 0 ] || [ -z "$latency" ] || [ -z "$xruns" ]; then
        bad "$name: earflow live exit $rc: $(cat "$d/live.err")"; return
    fi
    echo "# $name: $(grep 'frames (' "$d/live.err")"
    load_order "$name" "$d/live.err"
    local f=0 result found_in=0
    if [ "$xruns" = 0 ]; then
        if ! f=$("$ALIGN" find "$T/in.wav" "$d/rin.wav"); then
            bad "$name: the played signal is not in the recorded input (no xruns)"; return
        fi
        ok "$name: the recorded input holds the played signal exactly, at frame $f"
    elif result=$("$ALIGN" pieces "$T/in.wav" "$d/rin.wav" $PERIOD $((2 * xruns))) &&
        [ $(( $(pieces_field "of" "$result") - $(pieces_field covered "$result") )) -le $((2 * xruns * PERIOD)) ]; then
        found_in=$(pieces_field found "$result")
        ok "$name: after $xruns xruns, every cycle of the recorded input is the played signal's, sample-exact ($result)"
    else
        bad "$name: after $xruns xruns, the recorded input is not the played signal cycle by cycle: $result"; return
    fi
    # The reference: what the engine should have made of what it heard.
    if [ "${REF_DRY:-0}" = 1 ]; then
        if [ ${#outs[@]} = 4 ]; then sox "$d/rin.wav" -c 2 "$d/ref.wav" remix 1 1 2>/dev/null
        else cp "$d/rin.wav" "$d/ref.wav"; fi
    else
        "$EARFLOW" render -q "${ctl[@]}" -i "$d/rin.wav" -o "$d/ref.wav" || { bad "$name: render"; return; }
    fi
    local what=${REF_NAME:-earflow render}
    # (the dry cases switch after the start, so their recording begins processed)
    if [ "${REF_DRY:-0}" = 1 ]; then :
    elif result=$("$ALIGN" compare "$d/ref.wav" "$d/rout.wav" $((-latency)) $((-latency)) -100); then
        ok "$name: --record-output == $what delayed by the latency ($latency) ($result)"
    else bad "$name: --record-output differs from $what: $result"; fi
    if [ "$xruns" != 0 ]; then
        if result=$("$ALIGN" pieces "$d/ref.wav" "$d/cap.wav" $PERIOD $((2 * xruns))) &&
            [ "$(pieces_field found "$result")" -ge $((found_in - 2 * xruns)) ]; then
            ok "$name: after $xruns xruns, every cycle of the JACK output occurs in $what, sample-exact ($result)"
        else bad "$name: after $xruns xruns, the JACK output is not $what cycle by cycle: $result"; fi
        return
    fi
    # Render's output n is the engine's output n + L; the capture starts where the
    # feed started, which the engine heard at frame f (minus the graph's delay).
    local base=$((f - latency))
    if result=$("$ALIGN" compare "$d/ref.wav" "$d/cap.wav" $((base - WINDOW)) $((base + WINDOW)) -80); then
        local lag=${result#lag }; lag=${lag%% *}
        ok "$name: JACK output == $what ($result; the JACK graph adds $((base - lag)) frames: one period for the feed->earflow->feed loop, one more through PortAudio)"
    else
        bad "$name: JACK output differs from $what (no xruns): $result"
    fi
}

# load_order NAME FILE: the summary's callback loads are in order, p50 <= p99 <= max (a
# percentile counted in bins was once reported above the maximum: 0.5 % against 0.4 %).
load_order() {
    local p50 p99 max
    p50=$(summary_field "p50 callback load" "$2") p99=$(summary_field "p99 callback load" "$2")
    max=$(summary_field "max callback load" "$2")
    if awk -v a="$p50" -v b="$p99" -v c="$max" 'BEGIN {exit !(a != "" && a + 0 <= b + 0 && b + 0 <= c + 0)}'; then
        ok "$1: callback load p50 $p50 % <= p99 $p99 % <= max $max %"
    else bad "$1: callback load out of order: p50 $p50 %, p99 $p99 %, max $max %"; fi
}

# pieces_field NAME RESULT: the number after NAME in `align pieces`' line.
pieces_field() { echo "$2" | awk -v n="$1" '{for (i = 1; i < NF; i++) if ($i == n) print $(i + 1)}'; }
