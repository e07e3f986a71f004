# judge_xruns for the real-time tests (sourced by live_lib.sh; lv2/lv2_jack_test.sh is
# next). It needs ok, bad and $T/jackd.log (the server's log) from the sourcing script.
# judge_xruns E P SECONDS PERIOD WHAT: earflow's E xruns against the P of tests/jack_pass
# spinning for earflow's mean callback time, each counted in SECONDS on the same server
# in the same run. The VMs these run on park a vCPU now and then and JACK counts that as
# an xrun of whichever client is inside its callback at the time (the trivial client
# idle had 5 to 25 a minute between runs here and in CI): zero cannot be asked for, a
# fixed allowance would be wrong on the next machine, and a reference that does no work
# is hit less often than any client that computes. Fails when E > 2 P + 10 and the
# chance of E or more of E + P under equal rates (binomial, p = 1/2) is below 0.001. A
# client slower than its period xruns about every period (thousands a minute); one that
# stalls on its own now and then (page faults, first touch after idle, a lock) shows a
# steady excess over a reference that spends the same time; the VM's bursts, which
# double its rate for a minute, do not.
judge_xruns() {
    local e=$1 p=$2 seconds=$3 period=$4 what=$5 tail_p verdict
    tail_p=$(awk -v e="$e" -v p="$p" 'BEGIN {
        n = e + p; s = 0; lf[0] = 0
        for (i = 1; i <= n; i++) lf[i] = lf[i - 1] + log(i)
        for (k = e; k <= n; k++) s += exp(lf[n] - lf[k] - lf[n - k] - n * log(2))
        printf "%.2g", (n == 0 ? 1 : s) }')
    verdict="$what: earflow $e xruns, jack_pass $p, each in $seconds s at $period-frame periods (P(>= $e of $((e + p)) | equal rates) = $tail_p)"
    if [ "$e" -gt $((2 * p + 10)) ] && awk -v q="$tail_p" 'BEGIN {exit !(q < 0.001)}'; then
        bad "more xruns than the trivial client beside it: $verdict"
        tr -d '\000' <"$T/jackd.log" | grep -i xrun | head -5 | sed 's/^ */#   jackd: /'
    else
        ok "no more xruns than the trivial client beyond chance: $verdict"
    fi
}
