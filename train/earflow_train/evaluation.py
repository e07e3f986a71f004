"""What both evaluators share: renders through the C program (every scored output
comes from `earflow render`, never from the Python twin), the model file's config,
and the statistics of a table cell (mean and 95 % confidence interval)."""

import json
import math
import os
import subprocess

import numpy as np

from . import audio, export

# two-sided 95 % Student t quantiles by degrees of freedom (1..30); above: the normal's
_T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179,
        2.160, 2.145, 2.131, 2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064,
        2.060, 2.056, 2.052, 2.048, 2.045, 2.042]


def render(earflow, model, src, dst, schedule=None, extra=()):
    """`earflow render` of src into dst (float WAV, latency compensated) with an
    optional schedule (solver, steps, t0) and kind-specific options; returns the
    output's samples ([n] mono, [C, n] otherwise)."""
    cmd = [earflow, "render", "-q", "-f", "--format", "float", "-m", model, "-i", src, "-o", dst]
    if schedule:
        solver, steps, t0 = schedule
        cmd += ["--solver", solver, "--steps", str(steps), "--t0", "%g" % t0]
    subprocess.run(cmd + list(extra), check=True)
    return audio.read_wav(dst)


def model_config(path):
    """The config (with provenance) of a model file."""
    _, meta = export.read_safetensors(path)
    return json.loads(meta["earflow"])


def trained_labels(path, labels):
    """The labels a separation model file says were trained (conditioning.trained_labels;
    the engine refuses the others); a file without the list: all of `labels`."""
    return list(model_config(path)["conditioning"].get("trained_labels", labels))


def mean_ci(values):
    """(mean, half-width of the 95 % confidence interval of the mean, n) of the
    finite values; the half-width is nan below two values."""
    v = np.asarray([x for x in values if x is not None and np.isfinite(x)], dtype=np.float64)
    n = len(v)
    if n == 0:
        return float("nan"), float("nan"), 0
    if n == 1:
        return float(v[0]), float("nan"), 1
    t = _T95[n - 2] if n - 1 <= len(_T95) else 1.960
    return float(v.mean()), float(t * v.std(ddof=1) / math.sqrt(n)), n


def paired_cell(differences):
    """A table cell for paired differences 'mean ± ci' in dB, two decimals: the
    differences between two systems on the same items are far smaller than the items'
    spread, and one decimal would round them to zero."""
    m, h, n = mean_ci(differences)
    if n == 0:
        return "-"
    return "%+.2f" % m if not np.isfinite(h) else "%+.2f ± %.2f" % (m, h)


def cell(values, signed=True):
    """A table cell 'mean ± ci' (dB-style, one decimal)."""
    m, h, n = mean_ci(values)
    if n == 0:
        return "-"
    s = ("%+.1f" if signed else "%.1f") % m
    return s if not np.isfinite(h) else "%s ± %.1f" % (s, h)


def load_results(folder):
    """The results.json an evaluator wrote into its --out folder."""
    with open(os.path.join(folder, "results.json")) as fh:
        return json.load(fh)


def background_kind(item):
    """The kind of an evaluation item's background (its first part: "recorded+music"
    counts as recorded): where a model gains (stationary noise) and where it does not
    (recorded effects, music, other voices)."""
    first = item["background"].split("+")[0]
    if first in ("white", "pink", "brown", "hum", "band"):
        return "synthetic steady noise"
    return "synthetic clicks, bursts" if first in ("clicks", "bursts") else first


def voice_of(item):
    """The held-out speaker of an evaluation item ("unknown" in evaluations made before
    the voice was recorded)."""
    return item.get("voice") or "unknown"
