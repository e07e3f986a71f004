#!/usr/bin/env python3
"""How far a mask on the separation model's STFT can go at all: the SI-SDRi of oracle
masks (made from the true target and background) on the evaluator's mixtures.

    /usr/bin/python3 train/separation_ceiling.py --split valid --count 16

The same mixtures as `evaluate_separate.py --split S --count N --seconds T --seed D`
(mixtures.write_set with the same arguments), through the engine's STFT (the model
file's n_fft and hop; dsp.stft / dsp.istft). Per (label, SNR), mean and 95 % interval:

  IRM       sqrt(|S|^2 / (|S|^2 + |B|^2)), a real mask in [0, 1]
  PSM       Re(S / X) clipped to [0, 1]: the phase-sensitive mask
  cIRM <=2  S / X with its magnitude clipped to 2: a complex mask, as the mask head's

A model's figure against these says how much of the gap to a goal is the network's
and how much the representation's (a 16-ms frame cannot split what overlaps in it).
"""

import argparse
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from earflow_train import dsp, losses  # noqa: E402
from earflow_train import mixtures as mx  # noqa: E402
from earflow_train.evaluation import cell  # noqa: E402
from evaluate_separate import SNRS  # noqa: E402    (the evaluator's cells)
MASKS = ("IRM", "PSM", "cIRM <=2")


def oracle_masks(S, B):
    """S, B complex [M, K] target and background spectra -> {name: mask [M, K]}."""
    X = S + B
    ps, pb = np.abs(S) ** 2, np.abs(B) ** 2
    ratio = S / np.where(np.abs(X) > 1e-12, X, 1e-12)
    mag = np.abs(ratio)
    return {"IRM": np.sqrt(ps / np.maximum(ps + pb, 1e-24)),
            "PSM": np.clip(ratio.real, 0.0, 1.0),
            "cIRM <=2": ratio * np.minimum(1.0, 2.0 / np.maximum(mag, 1e-12))}


def ceiling(mix, ref, n_fft, hop):
    """{mask: SI-SDRi (dB)} of each oracle mask for one mixture."""
    S, X = dsp.stft(ref, n_fft, hop, tail=0), dsp.stft(mix, n_fft, hop, tail=0)
    base = losses.si_sdr(mix, ref)
    return {k: losses.si_sdr(dsp.istft(m * X, n_fft, hop, len(mix)), ref) - base
            for k, m in oracle_masks(S, X - S).items()}


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", default=os.path.join(HERE, "data", "corpus"))
    ap.add_argument("--split", default="valid")
    ap.add_argument("--count", type=int, default=16, help="mixtures per (label, SNR)")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--labels", default="speech,music,noise")
    ap.add_argument("--n-fft", type=int, default=768)
    ap.add_argument("--hop", type=int, default=384)
    ap.add_argument("--max-speech-files", type=int, default=400)
    a = ap.parse_args(argv)
    labels = a.labels.split(",")
    pool = mx.Pool(a.corpus, a.split, max_speech_files=a.max_speech_files, seed=a.seed)
    with tempfile.TemporaryDirectory(prefix="sep_ceiling_") as d:
        rows = mx.write_set(pool, d, a.count, a.seconds, a.seed, snrs=SNRS, labels=labels, reverberant=a.count)
        res = {}
        for r in rows:
            if r["background"].startswith("clean"):
                continue
            mix = mx.read_wav(os.path.join(d, r["name"] + "_mix.wav")).astype(np.float64)
            ref = mx.read_wav(os.path.join(d, r["name"] + "_ref.wav")).astype(np.float64)
            for k, v in ceiling(mix, ref, a.n_fft, a.hop).items():
                res.setdefault((r["label"], k), {}).setdefault(r["snr_db"], []).append(v)
    print("Oracle masks on `%s` (n_fft %d, hop %d), SI-SDRi in dB, mean ± 95 %% CI, %d mixtures per cell:\n"
          % (a.split, a.n_fft, a.hop, a.count))
    print("| target | mask | " + " | ".join("%+d dB" % s for s in SNRS) + " | mean |")
    print("|---|---|" + "---|" * (len(SNRS) + 1))
    for label in labels:
        for k in MASKS:
            per = res.get((label, k), {})
            print("| %s | %s | %s | %s |" % (label, k, " | ".join(cell(per.get(s, [])) for s in SNRS),
                                             cell([v for s in SNRS for v in per.get(s, [])])))


if __name__ == "__main__":
    main()
