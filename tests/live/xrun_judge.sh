# The xrun verdict of the real-time tests and the statistics of the xrun benchmarks
# (sourced by live_lib.sh; lv2/lv2_jack_test.sh is next). judge_rounds needs ok, bad and
# $T/jackd.log (the server's log) from the sourcing script. It weighs earflow's E xruns
# against the P of tests/jack_pass spinning for earflow's mean callback time, each
# counted for as long on the same server in the same run. The VMs these run on park a
# vCPU now and then and JACK counts that as an xrun of whichever client is inside its
# callback at the time (the trivial client idle had 5 to 25 a minute between runs here
# and in CI): zero cannot be asked for, a fixed allowance would be wrong on the next
# machine, and a reference that does no work is hit less often than any client that
# computes. In excess when E > 2 P + 10 and the chance of E or more of E + P under equal
# rates (binomial, p = 1/2) is below 0.001. A client slower than its period xruns about
# every period (thousands a minute); one that stalls on its own now and then (page
# faults, first touch after idle, a lock) shows a steady excess over a reference that
# spends the same time; the VM's bursts, which double its rate for a minute, do not.

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

# ratio_ci E P: "R [LO, HI]": E/P and its exact 95 % interval (Clopper-Pearson on the
# share E/(E+P), turned into a ratio).
ratio_ci() {
    awk -v e="$1" -v p="$2" '
    function tail_ge(k, n, q,   i, s) {   # P(X >= k), X ~ Bin(n, q)
        if (k <= 0) return 1
        s = 0
        for (i = k; i <= n; i++) s += exp(lf[n] - lf[i] - lf[n - i] + i * log(q) + (n - i) * log(1 - q))
        return s
    }
    function ratio(q) { return q >= 1 ? "inf" : sprintf("%.2f", q / (1 - q)) }
    BEGIN {
        n = e + p; lf[0] = 0
        for (i = 1; i <= n; i++) lf[i] = lf[i - 1] + log(i)
        if (n == 0) { print "- [-]"; exit }
        lo = 0; if (e > 0) { a = 1e-12; b = 1 - 1e-12
            for (it = 0; it < 60; it++) { m = (a + b) / 2; if (tail_ge(e, n, m) < 0.025) a = m; else b = m }
            lo = a }
        hi = 1; if (e < n) { a = 1e-12; b = 1 - 1e-12
            for (it = 0; it < 60; it++) { m = (a + b) / 2; if (1 - tail_ge(e + 1, n, m) > 0.025) a = m; else b = m }
            hi = b }
        printf "%s [%s, %s]", (p == 0 ? "inf" : sprintf("%.2f", e / p)), ratio(lo), ratio(hi)
    }'
}

# paired_ratio "E1 E2 ..." "P1 P2 ...": "G [LO, HI]": the geometric mean over rounds of
# (E_r + 0.5) / (P_r + 0.5), each round's earflow segment against the jack_pass segment
# of the same round, with a 95 % t interval over rounds. Why beside ratio_ci: xruns come
# in bursts (jack_pass alone had 4 to 45 in the six 30-s segments of one cell, where a
# steady rate of 22 would give about 13 to 31), so the binomial interval, which takes
# every xrun as independent, is too narrow; the rounds are the independent samples.
paired_ratio() {
    awk -v e="$1" -v p="$2" 'BEGIN {
        split("12.706 4.303 3.182 2.776 2.571 2.447 2.365 2.306 2.262 2.228 2.201 2.179 2.160 2.145 2.131 2.120 2.110 2.101 2.093 2.086", t, " ")
        n = split(e, a, " "); split(p, b, " ")
        if (n < 2) { print "- [-]"; exit }
        for (i = 1; i <= n; i++) { d[i] = log((a[i] + 0.5) / (b[i] + 0.5)); m += d[i] }
        m /= n
        for (i = 1; i <= n; i++) v += (d[i] - m) ^ 2
        h = (n - 1 <= 20 ? t[n - 1] : 2.0) * sqrt(v / (n - 1) / n)
        printf "%.2f [%.2f, %.2f]", exp(m), exp(m - h), exp(m + h)
    }'
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
