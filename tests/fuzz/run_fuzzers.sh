#!/bin/bash
# Runs the libFuzzer fuzzers of a -Dfuzz=true build, each for a bounded time, on a
# copy of its seed corpus and regressions (the committed files are never written).
# Quiet: each fuzzer's log goes to a file; a line per fuzzer, and on a failure the
# log's tail and the reproducer's path. Exit 1 on any crash, sanitizer report, leak,
# timeout (-timeout, seconds per input) or memory blow-up (-rss_limit_mb).
# usage: run_fuzzers.sh BUILD_DIR SECONDS_EACH [TARGET...]   (default: all three)
#   work folder: $EF_FUZZ_WORK, default BUILD_DIR/fuzz-run (corpus, logs, crashes)
set -u
if [ $# -lt 2 ]; then
    echo "usage: $0 BUILD_DIR SECONDS_EACH [model|trajectory|audio ...]" >&2
    exit 2
fi
BUILD=$1 SECS=$2
shift 2
HERE=$(cd "$(dirname "$0")" && pwd)
WORK=${EF_FUZZ_WORK:-$BUILD/fuzz-run}
targets=("$@")
[ ${#targets[@]} -eq 0 ] && targets=(model trajectory audio)
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-halt_on_error=1:print_stacktrace=1}
export LSAN_OPTIONS=${LSAN_OPTIONS:-suppressions=$HERE/lsan.supp:print_suppressions=0}
failed=0
for t in "${targets[@]}"; do
    exe=$BUILD/tests/fuzz/fuzz_$t
    if [ ! -x "$exe" ]; then
        echo "fuzz_$t: not built (configure with CC=clang and -Dfuzz=true)" >&2
        failed=1
        continue
    fi
    dir=$WORK/$t
    rm -rf "$dir"
    mkdir -p "$dir/corpus" "$dir/crashes"
    cp "$HERE/corpus/$t"/* "$dir/corpus/"
    find "$HERE/regressions/$t" -maxdepth 1 -type f ! -name '.*' -exec cp {} "$dir/corpus/" \;
    start=$(date +%s)
    "$exe" -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
        -dict="$HERE/$t.dict" -artifact_prefix="$dir/crashes/" "$dir/corpus" >"$dir/log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$dir/log")
    cov=$(grep -o 'cov: [0-9]* ft: [0-9]*' "$dir/log" | tail -1)
    if [ $rc -eq 0 ]; then
        echo "fuzz_$t: ok, ${runs:-?} inputs in $(( $(date +%s) - start )) s ($cov), corpus $(ls "$dir/corpus" | wc -l) files"
    else
        failed=1
        echo "fuzz_$t: FAILED (exit $rc) after ${runs:-?} inputs; log $dir/log, last lines:"
        tail -n 40 "$dir/log" | sed 's/^/    /'
        for f in "$dir/crashes"/*; do
            [ -e "$f" ] && echo "    reproducer: $f (replay: $BUILD/tests/fuzz/fuzz_replay_$t $f)"
        done
    fi
done
exit $failed
