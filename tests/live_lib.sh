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
    [ -n "$JACK_PID" ] && kill "$JACK_PID" 2>/dev/null && wait "$JACK_PID" 2>/dev/null
    rm -rf "$T"
}
trap cleanup EXIT
start_jackd() {
    local period=${1:-256}
    export JACK_DEFAULT_SERVER=earflow-live-$$ JACK_NO_START_SERVER=1
    jackd -n "$JACK_DEFAULT_SERVER" -d dummy -r 48000 -p "$period" >"$T/jackd.log" 2>&1 &
    JACK_PID=$!
    if ! jack_wait -s "$JACK_DEFAULT_SERVER" -w -t 10 >/dev/null 2>&1; then
        echo "FAIL - jackd did not start:"; cat "$T/jackd.log"; exit 1
    fi
}

# The known signal: 2 s of the example voice, 48 kHz mono float.
make_input() {
    sox "$SRC/examples/voice.wav" -r 48000 -c 1 -b 32 -e float "$T/in.wav" trim 0 2 2>/dev/null ||
        { echo "FAIL - cannot make the input with sox"; exit 1; }
}

# summary_field NAME FILE: the number after NAME in earflow live's summary line.
summary_field() { grep -o "$1 [0-9.]*" "$2" | tail -1 | awk '{print $NF}'; }

# wait_port PORT: until a JACK port exists (10 s at most).
wait_port() {
    for _ in $(seq 100); do jack_lsp 2>/dev/null | grep -qx "$1" && return 0; sleep 0.1; done
    return 1
}
