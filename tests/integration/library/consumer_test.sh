#!/bin/bash
# libearflow as another program uses it: `meson install` into a scratch folder, then a
# small C program (earflow_consumer.c) built there through pkg-config alone, run on the
# installed shared library, must render each shipped model exactly as `earflow render`
# does. Also: the soname is versioned, only include/earflow.h is installed, and the
# library exports exactly the functions that header declares.
#   consumer_test.sh BUILD_DIR SOURCE_DIR EARFLOW ALIGN
set -u
build=$1 src=$2 earflow=$3 align=$4
source "$(dirname "$0")/../scratch_install.sh" "$build"
pc=$(find "$tmp/root" -name earflow.pc | head -n 1)
[ -n "$pc" ] || { echo "FAIL - earflow.pc not installed"; exit 1; }
prefix=$(sed -n 's/^prefix=//p' "$pc")
export PKG_CONFIG_PATH=$(dirname "$pc")
pc_args=(--define-variable=prefix="$tmp/root$prefix")
libdir=$(pkg-config "${pc_args[@]}" --variable=libdir earflow)
includedir=$(pkg-config "${pc_args[@]}" --variable=includedir earflow)

headers=$(cd "$includedir" && ls | tr '\n' ' ')
[ "$headers" = "earflow.h " ] && ok "installed headers: earflow.h only" \
    || fail "installed headers: '$headers' (want earflow.h only)"

soname=$(readelf -d "$libdir/libearflow.so" | sed -n 's/.*SONAME.*\[\(.*\)\]/\1/p')
[ "$soname" = "libearflow.so.0" ] && ok "soname $soname" || fail "soname '$soname' (want libearflow.so.0)"

# The exported functions against the header's EF_API declarations.
grep -o 'EF_API[^(]*\bef_[a-z0-9_]*(' "$includedir/earflow.h" | grep -o 'ef_[a-z0-9_]*($' \
    | tr -d '(' | sort >"$tmp/declared"
nm -D --defined-only "$libdir/libearflow.so" | awk '$2 == "T" {print $3}' | sort >"$tmp/exported"
if cmp -s "$tmp/declared" "$tmp/exported"; then
    ok "the library exports exactly the $(wc -l <"$tmp/declared") functions include/earflow.h declares"
else
    fail "exported symbols differ from include/earflow.h's API (< declared, > exported):"
    diff "$tmp/declared" "$tmp/exported" | grep '^[<>]'
fi

# Built as an outside program would: only pkg-config's flags, warnings as errors (and,
# for a sanitized library, the same sanitizers: their runtime must come first).
san=()
[ "${EF_SANITIZED:-0}" = 1 ] && san=(-fsanitize=address,undefined)
if ! cc -std=c11 -Wall -Wextra -Wpedantic -Werror "${san[@]}" "$src/tests/integration/library/earflow_consumer.c" \
        $(pkg-config "${pc_args[@]}" --cflags --libs earflow sndfile) -o "$tmp/consumer" 2>"$tmp/cc.log"; then
    cat "$tmp/cc.log"; echo "FAIL - the consumer does not build against the installed library"; exit 1
fi
ok "a C program builds against the installed library through pkg-config"
resolved=$(LD_LIBRARY_PATH="$libdir" ldd "$tmp/consumer" | awk '/libearflow/ {print $3}')
[ "$resolved" = "$libdir/libearflow.so.0" ] && ok "it loads the installed libearflow.so.0" \
    || fail "it loads '$resolved', not $libdir/libearflow.so.0"

in=$src/examples/voice.wav
for model in separate binaural; do
    file=$src/models/$model.safetensors
    [ -f "$file" ] || { fail "$file missing"; continue; }
    if ! LD_LIBRARY_PATH="$libdir" "$tmp/consumer" "$file" "$in" "$tmp/$model-lib.wav"; then
        fail "$model: the consumer failed"; continue
    fi
    "$earflow" render -q --model "$file" -i "$in" -o "$tmp/$model-cli.wav" --format float --block 512 \
        || { fail "$model: earflow render failed"; continue; }
    if r=$("$align" compare "$tmp/$model-cli.wav" "$tmp/$model-lib.wav" 0 0 -150); then
        ok "$model: the consumer's render == earflow render ($r)"
    else
        fail "$model: the consumer's render differs from earflow render ($r)"
    fi
done
# The comparison can fail: the processed output is not the input.
if r=$("$align" compare "$in" "$tmp/separate-lib.wav" 0 0 -150); then
    fail "the comparison cannot fail: the separated voice equals the input ($r)"
else
    ok "the comparison can fail (input against output: $r)"
fi
[ "$fails" -eq 0 ]
