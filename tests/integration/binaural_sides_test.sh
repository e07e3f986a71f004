#!/bin/bash
# The shipped binaural model (models/binaural.safetensors, found by name) rendered by
# `earflow render`: a source at +90 degrees is louder and earlier in the LEFT ear, one
# at -90 in the RIGHT ear (design.md's coordinate test), in every room. The level
# difference over the whole file is held to 3 dB in the anechoic room and to 1 dB in the
# reverberant ones, whose diffuse tail (the same level in both ears) lowers it as a real
# room does (the shipped model: 8.3 dB anechoic, 2.4 / 3.1 / 5.4 dB small / medium / large);
# a swapped or lost side fails either way.
# usage: binaural_sides_test.sh EARFLOW LATERAL SOURCE_DIR
set -u
EARFLOW=$1 LATERAL=$2 SRC=$3
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
fails=0
if [ ! -f "$SRC/models/binaural.safetensors" ]; then
    echo "FAIL - models/binaural.safetensors missing"; exit 1
fi
rooms="anechoic small medium large"
# EF_TEST_SHORT=1 (the valgrind setup, some 100 times slower): one room, both sides
[ "${EF_TEST_SHORT:-0}" = 1 ] && rooms=small
for room in $rooms; do
    for az in 90 -90; do
        out="$T/out_${room}_${az}.wav"
        if ! "$EARFLOW" render --model binaural -i "$SRC/examples/voice.wav" -o "$out" \
                --azimuth "$az" --distance 1.5 --room "$room" -q; then
            echo "FAIL - render at $az in $room"; fails=$((fails + 1)); continue
        fi
        read -r _ ild _ lag < <("$LATERAL" "$out")
        min_ild=1
        [ "$room" = anechoic ] && min_ild=3
        if [ "$az" = 90 ]; then
            cond=$(awk -v i="$ild" -v l="$lag" -v m="$min_ild" 'BEGIN{print (i > m && l > 100) ? 1 : 0}')
        else
            cond=$(awk -v i="$ild" -v l="$lag" -v m="$min_ild" 'BEGIN{print (i < -m && l < -100) ? 1 : 0}')
        fi
        if [ "$cond" = 1 ]; then
            echo "ok - $room azimuth $az: ILD $ild dB, left-leads lag $lag us"
        else
            echo "FAIL - $room azimuth $az: ILD $ild dB, left-leads lag $lag us"; fails=$((fails + 1))
        fi
    done
done
[ "$fails" -eq 0 ]
