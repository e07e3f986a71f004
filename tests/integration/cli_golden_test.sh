#!/bin/bash
# `earflow render --model FILE` on the golden models gives PyTorch's output: the CLI,
# libsndfile and the real model file, end to end. Also `earflow info` and `bench`.
# usage: cli_golden_test.sh EARFLOW WAVDIFF GOLDEN_WAV GOLDEN_DIR
set -u
EARFLOW=$1 WAVDIFF=$2 GOLDEN_WAV=$3 G=$4
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0 passes=0
ok()  { passes=$((passes + 1)); echo "ok - $1"; }
bad() { fails=$((fails + 1)); echo "FAIL - $1"; }

# EF_TEST_SHORT=1 (the valgrind setup, some 100 times slower): Euler 1 step only (the
# midpoint runs are 4 and 6 network evaluations a frame; golden runs the midpoint solver
# under memcheck too), the trajectory render too, and bench on 0.1 s once at one step
# (its nine rows, midpoint 1 to 8 steps and the default, are 76 network evaluations a
# frame in all).
cases="euler_1_t0:euler:1:0 midpoint_2_t0.5:midpoint:2:0.5 midpoint_3_t0:midpoint:3:0"
bench=(--seconds 0.5)
traj_sched=()
if [ "${EF_TEST_SHORT:-0}" = 1 ]; then
    cases="euler_1_t0:euler:1:0"
    bench=(--seconds 0.1 --runs 1 --steps 1)
    traj_sched=(--solver euler --steps 1)
fi
for kind in binaural separate; do
    "$GOLDEN_WAV" "$G/${kind}_static.safetensors" input "$T/$kind-in.wav" || bad "extract $kind input"
    for case in $cases; do
        IFS=: read -r name solver steps t0 <<<"$case"
        "$GOLDEN_WAV" "$G/${kind}_static.safetensors" "out.$name" "$T/$kind-$name-ref.wav" || bad "extract"
        if [ $kind = binaural ]; then
            ctl=(--azimuth 60 --elevation 10 --distance 1.5 --room small)
        else
            ctl=(--target speech)
        fi
        if "$EARFLOW" render -q --model "$G/${kind}_tiny.safetensors" "${ctl[@]}" --seed 1234 \
               --solver "$solver" --steps "$steps" --t0 "$t0" --block 333 \
               -i "$T/$kind-in.wav" -o "$T/$kind-$name.wav" &&
           "$WAVDIFF" "$T/$kind-$name-ref.wav" "$T/$kind-$name.wav" --max-db -80; then
            ok "$kind $name: earflow render == PyTorch"
        else bad "$kind $name"; fi
    done
done

# The test can fail: a different seed must not match.
"$EARFLOW" render -q --model "$G/binaural_tiny.safetensors" --azimuth 60 --elevation 10 \
    --distance 1.5 --room small --seed 1 --solver euler --steps 1 --t0 0 \
    -i "$T/binaural-in.wav" -o "$T/wrong.wav"
"$WAVDIFF" "$T/binaural-euler_1_t0-ref.wav" "$T/wrong.wav" --max-db -80 >/dev/null &&
    bad "a wrong seed matched" || ok "a wrong seed does not match"

"$EARFLOW" info "$G/binaural_tiny.safetensors" | grep -q "rooms: *anechoic, small, large" &&
    ok "info lists rooms" || bad "info rooms"
"$EARFLOW" info "$G/separate_tiny.safetensors" | grep -q "labels: *speech, music, noise" &&
    ok "info lists labels" || bad "info labels"
# What a binaural model adds to its input (ef_model_prior): said by info, per model.
"$EARFLOW" info "$G/binaural_tiny.safetensors" | grep -q "^prior: *mono" &&
    "$EARFLOW" info "$G/binaural_prior_tiny.safetensors" | grep -q "^prior: *spherical head (direct" &&
    "$EARFLOW" info "$G/binaural_tail_tiny.safetensors" | grep -q "^prior: *spherical head + room tail" &&
    ! "$EARFLOW" info "$G/separate_tiny.safetensors" | grep -q "^prior:" &&
    ok "info names the prior" || bad "info prior"
"$EARFLOW" bench --json "${bench[@]}" "$G/binaural_tiny.safetensors" >"$T/bench.json" &&
    grep -q '"rtf_default": [0-9]' "$T/bench.json" && grep -q '"hop_p99_ms"' "$T/bench.json" &&
    ok "bench --json" || bad "bench --json: $(cat "$T/bench.json")"
"$EARFLOW" render -q --model "$G/binaural_tiny.safetensors" --room attic \
    -i "$T/binaural-in.wav" -o "$T/x.wav" 2>"$T/err"; [ $? -eq 2 ] && grep -q "anechoic" "$T/err" &&
    ok "unknown room refused with the model's rooms" || bad "unknown room: $(cat "$T/err")"
"$EARFLOW" render -q --model "$G/separate_tiny.safetensors" --azimuth 30 \
    -i "$T/binaural-in.wav" -o "$T/x.wav" 2>/dev/null; [ $? -eq 2 ] && ok "binaural control on a separation model refused" || bad "control check"
printf '0 -90 0 1\n1 90 0 2\n# end\n' >"$T/traj.txt"
"$EARFLOW" render -q --model "$G/binaural_tiny.safetensors" --trajectory "$T/traj.txt" \
    "${traj_sched[@]}" -i "$T/binaural-in.wav" -o "$T/traj.wav" && [ "$(soxi -c "$T/traj.wav")" = 2 ] &&
    ok "render with a trajectory" || bad "trajectory"
printf '0 0 0 1\n0 10 0 1\n' >"$T/bad.txt"
"$EARFLOW" render -q --model "$G/binaural_tiny.safetensors" --trajectory "$T/bad.txt" \
    -i "$T/binaural-in.wav" -o "$T/x.wav" 2>"$T/err"; [ $? -eq 2 ] && grep -q "increase" "$T/err" &&
    ok "bad trajectory refused: $(cat "$T/err")" || bad "bad trajectory: $(cat "$T/err")"
head -c 5000 "$G/binaural_tiny.safetensors" >"$T/trunc.safetensors"
"$EARFLOW" render -q --model "$T/trunc.safetensors" -i "$T/binaural-in.wav" -o "$T/x.wav" 2>"$T/err"
[ $? -eq 5 ] && [ "$(wc -l <"$T/err")" = 1 ] && ok "truncated model refused: $(cat "$T/err")" || bad "truncated model"
"$EARFLOW" render -q --model binaural_nonexistent -i "$T/binaural-in.wav" -o "$T/x.wav" 2>"$T/err"
[ $? -eq 5 ] && ok "unknown model name: $(cat "$T/err")" || bad "unknown model name"
[ ! -e "$T/x.wav" ] && ok "no output written on errors" || bad "output written on error"
echo "$passes passed, $fails failed"
[ $fails -eq 0 ]
