#!/usr/bin/env python3
"""Listening material for separation: a few mixtures from held-out packages (the
--split's speakers, music and backgrounds, never heard in training), each as the
mixture, the clean target and what each model's C `earflow render --target LABEL`
keeps, as small Ogg Vorbis files, plus one spectrogram plot per label
(docs/separate/renders).

Every model renders the labels its file says were trained (conditioning.trained_labels);
the renders run at the mixture's own level (-40 to -18 dBFS RMS, as in evaluation) and
each mixture's files then share one gain (the loudest of them peaks at -3 dBFS), so
that a reader hears levels as the model left them.

usage:
  /usr/bin/python3 train/separate_renders.py --corpus train/data/corpus \\
      --model shipped=models/separate.safetensors \\
      --model stage6=train/stages/separate2-heads-stage6.safetensors
"""

import argparse
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import evaluate_separate as es  # noqa: E402
from earflow_train import audio, losses  # noqa: E402
from earflow_train import mixtures as mx  # noqa: E402
from earflow_train.evaluation import trained_labels  # noqa: E402


def shown(path):
    """A model's path as the docs name it: relative to the repository when inside it."""
    rel = os.path.relpath(os.path.abspath(path), ROOT)
    return os.path.basename(path) if rel.startswith("..") else rel


def parse_models(specs):
    """NAME=PATH pairs, in order."""
    models = []
    for s in specs:
        name, sep, path = s.partition("=")
        if not sep or not name or not path:
            raise SystemExit("separate_renders: --model wants NAME=PATH, got %r" % s)
        models.append((name, path))
    return models


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=os.path.join(HERE, "data", "corpus"))
    ap.add_argument("--model", action="append", required=True, help="NAME=PATH (repeatable)")
    ap.add_argument("--earflow", default=os.path.join(ROOT, "build", "cli", "earflow"))
    ap.add_argument("--split", default="valid")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "separate", "renders"))
    ap.add_argument("--snrs", default="0,5", help="one mixture per label and SNR (dB)")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=2027)
    ap.add_argument("--labels", default="", help="comma list; default: every label a model was trained for")
    a = ap.parse_args(argv)
    models = parse_models(a.model)
    trained = {path: trained_labels(path, mx.LABELS) for _, path in models}   # read each file once
    labels = a.labels.split(",") if a.labels else [l for l in mx.LABELS if any(l in t for t in trained.values())]
    snrs = tuple(int(s) for s in a.snrs.split(","))
    pool = mx.Pool(a.corpus, a.split, max_speech_files=200, seed=a.seed)
    os.makedirs(a.out, exist_ok=True)
    lines = ["| file | label | SNR | background | " + " | ".join("%s SI-SDRi" % n for n, _ in models) + " |",
             "|---|---|---|---|" + "---|" * len(models)]
    with tempfile.TemporaryDirectory() as tmp:
        d = os.path.join(tmp, "set")
        rows = mx.write_set(pool, d, 1, a.seconds, a.seed, snrs=snrs, labels=labels)
        for r in rows:
            if r["background"].startswith("clean"):
                continue
            name, label, snr = r["name"], r["label"], int(r["snr_db"])
            src = os.path.join(d, name + "_mix.wav")
            mix, ref = mx.read_wav(src), mx.read_wav(os.path.join(d, name + "_ref.wav"))
            panels = [("mixture (%+d dB SNR, background: %s)" % (snr, r["background"]), mix),
                      ("clean %s" % label, ref)]
            files, cells = [("mixture", mix), ("clean", ref)], []
            for mname, path in models:
                if label not in trained[path]:
                    cells.append("not trained")
                    continue
                y = es.render(a.earflow, path, src, os.path.join(tmp, "o.wav"), target=label)
                files.append((mname, y))
                panels.append(("earflow --target %s (%s)" % (label, mname), y))
                cells.append("%+.1f dB" % (losses.si_sdr(y, ref) - losses.si_sdr(mix, ref)))
            stem = "%s_snr%+d" % (label, snr)
            gain = 10 ** (-3 / 20.0) / max(max(float(np.max(np.abs(x))) for _, x in files), 1e-9)
            for part, x in files:
                audio.write_ogg(os.path.join(a.out, "%s_%s.ogg" % (stem, part)), x * gain)
            lines.append("| %s_*.ogg | %s | %+d dB | %s | %s |" % (stem, label, snr, r["background"],
                                                                 " | ".join(cells)))
            if snr == snrs[0]:
                es.spectrogram_plot(os.path.join(a.out, "spectrogram_%s.png" % label), panels,
                                    "%s split (held-out packages), %s target" % (a.split, label))
            print("separate_renders: %s" % stem, flush=True)
    with open(os.path.join(a.out, "renders.md"), "w") as f:
        f.write("Renders of `train/separate_renders.py` (%s split, seed %d); models: %s. One mixture "
                "a row: examples to hear, not a measurement (the README's tables are).\n\n"
                % (a.split, a.seed, ", ".join("%s = `%s`" % (n, shown(p)) for n, p in models)))
        f.write("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
