#!/bin/bash
# What steps cost in real time (a benchmark for #23's "what to set": it prints, it does
# not judge): `earflow live` with each shipped model at 1, 2, 4 and 8 Euler steps
# (EF_STEPS_LOAD_STEPS) on a private `jackd -d dummy` server per period
# (EF_STEPS_LOAD_PERIODS, "128 256"), the other core idle or loaded
# (EF_STEPS_LOAD_LOADS, "idle"; loaded = `stress-ng --cpu 1`), EF_STEPS_LOAD_SECONDS
# (10) each. One markdown row each: earflow's own callback load (mean, p50, p99, max as
# a share of the period) and its xruns. Keep the p99 at or below about half the period.
# usage: steps_load.sh EARFLOW JACK_FEED ALIGN SOURCE_DIR
#   meson test -C build --benchmark steps_load -v
source "$(dirname "$0")/live_lib.sh" "$@"
need_backend jack
if [ "${EF_SANITIZED:-0}" = 1 ]; then echo "SKIP: a timing benchmark"; exit 77; fi
SEC=${EF_STEPS_LOAD_SECONDS:-10} STEPS=${EF_STEPS_LOAD_STEPS:-1 2 4 8}
PERIODS=${EF_STEPS_LOAD_PERIODS:-128 256} LOADS=${EF_STEPS_LOAD_LOADS:-idle}

# rows PERIOD LOAD: one row per model and steps.
rows() {
    local model steps
    for model in binaural separate; do
        for steps in $STEPS; do
            efl_live "$SEC" "$T/live.err" "$SRC/models/$model.safetensors" --steps "$steps" ||
                { bad "earflow live $model --steps $steps: $(cat "$T/live.err")"; continue; }
            printf '| %s | %s | %s | %s | %s %% | %s %% | %s %% | %s %% | %s in %s s |\n' "$1" "$model" \
                "$steps" "$2" "$(summary_field "mean callback load" "$T/live.err")" \
                "$(summary_field "p50 callback load" "$T/live.err")" \
                "$(summary_field "p99 callback load" "$T/live.err")" \
                "$(summary_field "max callback load" "$T/live.err")" \
                "$(summary_field xruns "$T/live.err")" "$SEC"
        done
    done
}

echo "| period | model | Euler steps | other core | mean load | p50 load | p99 load | max load | xruns |"
echo "|---|---|---|---|---|---|---|---|---|"
each_cell "$LOADS" "$PERIODS" rows
[ $fails -eq 0 ]
