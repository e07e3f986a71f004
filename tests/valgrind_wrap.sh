#!/bin/bash
# The exe_wrapper of `meson test --setup valgrind` (tests/meson.build): runs a test
# under valgrind memcheck, and fails it on any report, even one the test itself
# would not notice (a script that ignores an exit status).
#   - A compiled test: valgrind runs it.
#   - A script (bash, sh, python3): the script runs as usual, and each of our programs
#     among its arguments (an ELF file under the build folder: earflow, wavdiff,
#     test_lv2 ...) is replaced by a shim of the same name that runs it under
#     valgrind, so every launch of the program is checked. Nothing else the scripts
#     start (sox, jackd, lv2apply ...) runs under valgrind.
# Reports go to one log per process; a log whose error summary is not zero is printed
# and fails the test (leaks of the kinds that count are errors).
# usage: valgrind_wrap.sh PROGRAM ARGS...   (env: EF_BUILD_ROOT, EF_VALGRIND_SUPP)
set -u
: "${EF_BUILD_ROOT:?set by the valgrind test setup}"
logs=$(mktemp -d "${TMPDIR:-/tmp}/ef-valgrind.XXXXXX")
vg=(valgrind --error-exitcode=1 --leak-check=full --errors-for-leak-kinds=definite
    --show-leak-kinds=definite --num-callers=40
    --log-file="$logs/vg.%p.log"
    # Why: tests/tools/rt_guard's LD_PRELOAD interposer defines malloc & co to count them;
    # memcheck then tracks the glibc entry points it calls (__libc_malloc ...).
    --soname-synonyms=somalloc=nouserintercepts)
[ -n "${EF_VALGRIND_SUPP:-}" ] && vg+=(--suppressions="$EF_VALGRIND_SUPP")

is_ours() { # an ELF executable under the build folder
    [ -f "$1" ] && [ -x "$1" ] || return 1
    case $(readlink -f "$1") in "$(readlink -f "$EF_BUILD_ROOT")"/*) ;; *) return 1 ;; esac
    [ "$(head -c 4 "$1" | od -An -c | tr -d ' ')" = '177ELF' ]
}

case $(basename "$1") in
bash | sh | python3 | python3.*)
    args=() n=0
    for a in "$@"; do
        if is_ours "$a"; then
            n=$((n + 1))
            mkdir -p "$logs/shim$n"
            shim=$logs/shim$n/$(basename "$a")
            printf '#!/bin/bash\nexec %s %q "$@"\n' "$(printf '%q ' "${vg[@]}")" \
                "$(readlink -f "$a")" >"$shim"
            chmod +x "$shim"
            args+=("$shim")
        else
            args+=("$a")
        fi
    done
    "${args[@]}"
    rc=$?
    ;;
*)
    "${vg[@]}" "$@"
    rc=$?
    ;;
esac

reports=0
for f in "$logs"/vg.*.log; do
    [ -e "$f" ] || continue
    if grep -q 'ERROR SUMMARY: [1-9]' "$f"; then
        reports=$((reports + 1))
        echo "---- valgrind report ($f):" >&2
        cat "$f" >&2
    fi
done
# The CPU time of everything the test ran, valgrind included (`times` without a subshell,
# which would count only its own children): for the README's figures.
times >"$logs/times"
echo "valgrind_wrap: CPU user/system of the test's processes: $(tail -n 1 "$logs/times")" >&2
rm -rf "$logs"
if [ $reports -gt 0 ]; then
    echo "valgrind: $reports process(es) with reports" >&2
    exit 1
fi
exit $rc
