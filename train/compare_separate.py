#!/usr/bin/python3
"""Two separation models on the same mixtures: paired differences of keep SI-SDR.

Reads the results.json of two `evaluate_separate.py` runs made with the same split,
seed, --count and --seconds (so the same mixtures: refused otherwise) and prints, per
label and input SNR, B minus A for every schedule both scored (mean ± 95 % CI over
the mixtures; clean-speech items, whose input SI-SDR is infinite, left out), then per
held-out voice on the speech target (where the runs name them) and per kind of
background on each target: what a model trades. Choosing
a stage on valid is this question: the spread between mixtures hides differences
that the same mixtures under both models show.

    /usr/bin/python3 train/compare_separate.py /tmp/eval_stage3 /tmp/eval_stage4
"""
import argparse
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from earflow_train import mixtures as mx  # noqa: E402
from earflow_train.evaluation import background_kind, load_results, paired_cell, voice_of  # noqa: E402


def _paired(a, b):
    """The two runs' items by name, the names both scored with a finite input SI-SDR
    (clean items left out), and the keep schedules both scored."""
    ia = {i["name"]: i for i in a["items"]}
    ib = {i["name"]: i for i in b["items"]}
    names = [n for n in ia if n in ib and np.isfinite(ia[n]["in"])]
    keys = [k for k in ia[names[0]] if k.startswith("keep@") and k in ib[names[0]]] if names else []
    return ia, ib, names, keys


def paired_table(a, b):
    """Markdown: B minus A per (label, SNR) and per label over all SNRs, for each
    keep schedule both runs scored. Raises ValueError when the mixtures differ."""
    for k in ("split", "seed", "count_per_cell", "seconds"):
        if k in a and k in b and a[k] != b[k]:       # (runs before 2026-12-05 lack the seed)
            raise ValueError("not the same mixtures: %s is %r against %r" % (k, a.get(k), b.get(k)))
    ia, ib, names, keys = _paired(a, b)
    if any(ia[n]["in"] != ib[n]["in"] for n in names):
        raise ValueError("not the same mixtures: the input SI-SDR differs")
    if not keys:
        raise ValueError("no keep schedule scored by both runs")
    labels = [lab for lab in mx.LABELS if any(ia[n]["label"] == lab for n in names)]
    snrs = sorted({ia[n]["snr_db"] for n in names})
    lines = ["| schedule | label | " + " | ".join("%+d dB" % s for s in snrs) + " | all |",
             "|---|---|" + "---|" * (len(snrs) + 1)]
    for k in keys:
        for lab in labels:
            def diff(sel):
                return [ib[n][k] - ia[n][k] for n in names if ia[n]["label"] == lab and sel(ia[n])]
            row = [paired_cell(diff(lambda i, s=s: i["snr_db"] == s)) for s in snrs]
            row.append(paired_cell(diff(lambda i: True)))
            lines.append("| %s | %s | %s |" % (k[5:], lab, " | ".join(row)))
    return "\n".join(lines) + "\n"


def paired_group_table(a, b, column, group_of, label="speech"):
    """Markdown: B minus A on one target per group of its mixtures (group_of(item):
    its voice, its kind of background), all SNRs, for each keep schedule both runs
    scored; "" when no item is grouped (voices: evaluations made before
    evaluate_separate recorded them)."""
    ia, ib, names, keys = _paired(a, b)
    names = [n for n in names if ia[n]["label"] == label and group_of(ia[n]) != "unknown"]
    if not names:
        return ""
    groups = sorted({group_of(ia[n]) for n in names})
    lines = ["| schedule | %s | n | B minus A |" % column, "|---|---|---|---|"]
    for k in keys:
        for g in groups:
            d = [ib[n][k] - ia[n][k] for n in names if group_of(ia[n]) == g]
            lines.append("| %s | %s | %d | %s |" % (k[5:], g, len(d), paired_cell(d)))
    return "\n".join(lines) + "\n"


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", help="the baseline's evaluate_separate --out folder")
    ap.add_argument("b", help="the candidate's")
    args = ap.parse_args()
    a, b = load_results(args.a), load_results(args.b)
    try:
        table = paired_table(a, b)
    except ValueError as e:
        raise SystemExit("compare_separate: %s" % e)
    print("B = %s minus A = %s, keep SI-SDR in dB, paired (same mixtures), mean ± 95 %% CI\n" % (
        b.get("model"), a.get("model")))
    print(table, end="")
    for column, group_of, labels in (("voice", voice_of, ("speech",)), ("background", background_kind, mx.LABELS)):
        for label in labels:
            t = paired_group_table(a, b, column, group_of, label)
            if t:
                print("\n%s target by %s (all SNRs):\n" % (label, column))
                print(t, end="")


if __name__ == "__main__":
    main()
