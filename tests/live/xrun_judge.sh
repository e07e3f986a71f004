# The xrun verdict of the real-time tests (sourced by live_lib.sh; lv2/lv2_jack_test.sh
# is next). judge_rounds needs ok, bad and $T/jackd.log (the server's log) from the
# sourcing script. It weighs earflow's E xruns against the P of tests/jack_pass spinning
# for earflow's mean callback time, each counted for as long on the same server in the
# same run. The VMs these run on park a vCPU now and then and JACK counts that as
# an xrun of whichever client is inside its callback at the time (the trivial client
# idle had 5 to 25 a minute between runs here and in CI): zero cannot be asked for, a
# fixed allowance would be wrong on the next machine, and a reference that does no work
# is hit less often than any client that computes. In excess when E > 2 P + 10 and the
# chance of E or more of E + P under equal rates (binomial, p = 1/2) is below 0.001. A
# client slower than its period xruns about every period (thousands a minute); one that
# stalls on its own now and then (page faults, first touch after idle, a lock) shows a
# steady excess over a reference that spends the same time; the VM's bursts, which
# double its rate for a minute, do not.

# xrun_tail E P: the chance of E or more of E + P xruns under equal rates (binomial).
xrun_tail() {
    awk -v e="$1" -v p="$2" 'BEGIN {
        n = e + p; s = 0; lf[0] = 0
        for (i = 1; i <= n; i++) lf[i] = lf[i - 1] + log(i)
        for (k = e; k <= n; k++) s += exp(lf[n] - lf[k] - lf[n - k] - n * log(2))
        # below 1e-300 say 0: awk reads a denormal such as 2.9e-320 back as a string,
        # and "2.9e-320" < 0.001 is then false (an excess of 1992 to 276 went unseen)
        printf "%.2g", (n == 0 ? 1 : s < 1e-300 ? 0 : s) }'
}

# xrun_excess E P: true when E > 2 P + 10 and xrun_tail E P < 0.001.
xrun_excess() {
    [ "$1" -gt $(($2 * 2 + 10)) ] && awk -v q="$(xrun_tail "$1" "$2")" 'BEGIN {exit !(q < 0.001)}'
}

# judge_rounds WHAT PERIOD "E1 P1" "E2 P2" ...: the same rule per round (earflow's and
# the reference's segments of one round lie within a minute of each other); fails only
# when earflow is in excess in every round. Earflow's own fault (too slow, a stall of its
# own) shows in every round; the VM's bursts come and go within a round or two (CI here
# once had 79 against 27 in two back-to-back minutes of a soak, with nothing of
# earflow's changed).
judge_rounds() {
    local what=$1 period=$2 excess=0 n=0 detail="" r
    shift 2
    for r in "$@"; do
        set -- $r
        n=$((n + 1))
        xrun_excess "$1" "$2" && excess=$((excess + 1))
        detail+="${detail:+, }round $n: earflow $1 / jack_pass $2 (P = $(xrun_tail "$1" "$2"))"
    done
    if [ "$n" -gt 0 ] && [ "$excess" -eq "$n" ]; then
        bad "more xruns than the trivial client in every round ($what, $period-frame periods): $detail"
        tr -d '\000' <"$T/jackd.log" | grep -i xrun | head -5 | sed 's/^ */#   jackd: /'
    else
        ok "earflow in excess of the trivial client in $excess of $n rounds, not all ($what, $period-frame periods): $detail"
    fi
}
