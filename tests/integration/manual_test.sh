#!/bin/bash
# The manual page and the bash completion as a user gets them: `meson install` into a
# scratch folder, then `man earflow` (through MANPATH) renders without a warning and
# documents every option each subcommand's --help lists (so every control of the
# table), and the installed completion, sourced in bash, completes the subcommands,
# every option of each, and the shipped model names.
#   manual_test.sh BUILD_DIR EARFLOW
set -u
build=$1 earflow=$2
source "$(dirname "$0")/scratch_install.sh" "$build"
page=$(find "$tmp/root" -path '*/man1/earflow.1' | head -n 1)
completion=$(find "$tmp/root" -path '*/bash-completion/completions/earflow' | head -n 1)
[ -n "$page" ] && [ -n "$completion" ] || { echo "FAIL - installed: man page '$page', completion '$completion'"; exit 1; }

if ! command -v man >/dev/null; then
    echo "# man is not installed here: the page is checked with groff alone"
    render() { groff -man -Tutf8 -ww "$page" 2>"$tmp/warn" | col -b; }
else
    render() { MANPATH=$(dirname "$(dirname "$page")") MANWIDTH=100 MAN_KEEP_FORMATTING=0 \
               man --warnings=w earflow 2>"$tmp/warn" | col -b; }
fi
render >"$tmp/page.txt"
if [ -s "$tmp/page.txt" ] && [ ! -s "$tmp/warn" ] && grep -q "earflow render" "$tmp/page.txt"; then
    ok "man earflow renders ($(wc -l <"$tmp/page.txt") lines, no warning)"
else fail "man earflow: $(head -c 600 "$tmp/warn")"; fi

commands="render info bench"
"$earflow" live --help >/dev/null 2>&1 && commands="$commands live devices"
for c in $commands; do
    opts=$("$earflow" "$c" --help | grep -oE '^ {2,}(-[a-zA-Z], )?--[a-z0-9-]+' | grep -oE -- '--[a-z0-9-]+' | sort -u)
    missing_man="" missing_comp=""
    for o in $opts; do
        grep -qF -- "$o" "$tmp/page.txt" || missing_man="$missing_man $o"
        got=$(bash -c 'source "$1"; COMP_WORDS=(earflow "$2" "$3"); COMP_CWORD=2; _earflow; printf "%s\n" "${COMPREPLY[@]}"' \
              _ "$completion" "$c" "$o")
        printf '%s\n' "$got" | grep -qx -- "$o" || missing_comp="$missing_comp $o"
    done
    n=$(echo "$opts" | wc -w)
    [ -z "$missing_man" ] && ok "man page: all $n options of earflow $c --help" \
        || fail "man page lacks for $c:$missing_man"
    [ -z "$missing_comp" ] && ok "completion: all $n options of earflow $c" \
        || fail "completion lacks for $c:$missing_comp"
done
got=$(bash -c 'source "$1"; COMP_WORDS=(earflow r); COMP_CWORD=1; _earflow; echo "${COMPREPLY[*]}"' _ "$completion")
[ "$got" = render ] && ok "completion: 'earflow r' -> render" || fail "completion of 'earflow r': '$got'"
got=$(bash -c 'source "$1"; COMP_WORDS=(earflow render --model se); COMP_CWORD=3; _earflow; echo "${COMPREPLY[*]}"' _ "$completion")
[ "$got" = separate ] && ok "completion: '--model se' -> separate" || fail "completion of '--model se': '$got'"
# The check can fail: an option that no subcommand has is not completed.
got=$(bash -c 'source "$1"; COMP_WORDS=(earflow render --nosuch); COMP_CWORD=2; _earflow; echo "${COMPREPLY[*]}"' _ "$completion")
[ -z "$got" ] && ok "completion: '--nosuch' -> nothing" || fail "completion of '--nosuch': '$got'"
[ $fails -eq 0 ]
