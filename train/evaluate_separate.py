"""Evaluate a separation model on the outputs of the C `earflow render`.

Writes a held-out mixture set (train/mixtures.py, split --split: speakers and tracks
never heard in training), renders every mixture with `earflow render --target LABEL`
(and --remove, and attenuation limits), runs ffmpeg's afftdn DSP denoiser on the speech
mixtures (settings picked on the valid split unless --afftdn is given), and reports
SI-SDR / SI-SDRi (docs: /work/shared/reference/metrics.md) per input SNR and label
beside no processing, as one markdown table (+ JSON), plus spectrogram plots.

usage:
  /usr/bin/python3 train/evaluate_separate.py --corpus train/data/corpus \
      --model models/separate.safetensors --earflow build/host/earflow --out /tmp/sep_eval
"""

import argparse
import csv
import json
import math
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import mixtures as mx  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SNRS = (-5, 0, 5, 10)


def si_sdr(est, ref, eps=1e-12):
    est = np.asarray(est, np.float64)
    ref = np.asarray(ref, np.float64)
    n = min(len(est), len(ref))
    est, ref = est[:n] - np.mean(est[:n]), ref[:n] - np.mean(ref[:n])
    a = np.dot(est, ref) / (np.dot(ref, ref) + eps)
    s = a * ref
    return 10 * math.log10((np.dot(s, s) + eps) / (np.dot(s - est, s - est) + eps))


def render(earflow, model, src, dst, target=None, remove=False, limit=None, mix=None,
           extra=()):
    cmd = [earflow, "render", "-q", "-f", "--format", "float", "-m", model, "-i", src, "-o", dst]
    if target:
        cmd += ["--target", target]
    if remove:
        cmd += ["--remove"]
    if limit is not None:
        cmd += ["--attenuation-limit", str(limit)]
    if mix is not None:
        cmd += ["--mix", str(mix)]
    cmd += list(extra)
    subprocess.run(cmd, check=True)
    return mx.read_wav(dst)


AFFTDN_LAGS = []


def afftdn(src, dst, settings):
    """ffmpeg afftdn, delay-compensated: afftdn delays its output (1200 samples at
    48 kHz here) and keeps the input's length, so the input gets 4800 zeros appended and
    the output is shifted back by the lag that maximizes its correlation with the input."""
    x = mx.read_wav(src)
    padded = dst + ".in.wav"
    mx.write_wav(padded, np.concatenate([x, np.zeros(4800, np.float32)]))
    subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", padded, "-af",
                    "afftdn=" + settings, "-c:a", "pcm_f32le", dst], check=True)
    y = mx.read_wav(dst)
    c = [np.dot(y[l:l + len(x)].astype(np.float64), x) for l in range(0, 4801, 16)]
    l0 = int(np.argmax(c)) * 16
    c = [np.dot(y[l:l + len(x)].astype(np.float64), x) for l in range(max(0, l0 - 16), l0 + 17)]
    lag = max(0, l0 - 16) + int(np.argmax(c))
    AFFTDN_LAGS.append(lag)
    return y[lag:lag + len(x)]


AFFTDN_GRID = ["nr=12:nf=-50", "nr=20:nf=-50", "nr=30:nf=-50", "nr=40:nf=-50",
               "nr=20:nf=-40:tn=1", "nr=30:nf=-50:tn=1", "nr=40:nf=-60:tn=1", "nr=97:nf=-50:tn=1"]


def pick_afftdn(pool, tmp, count, seconds, seed):
    """The afftdn setting with the best mean speech SI-SDRi on a valid-split set."""
    d = os.path.join(tmp, "afftdn_valid")
    rows = mx.write_set(pool, d, count, seconds, seed, labels=["speech"])
    rows = [r for r in rows if r["background"] != "clean"]
    scores = {}
    for s in AFFTDN_GRID:
        imp = []
        for r in rows:
            mix = mx.read_wav(os.path.join(d, r["name"] + "_mix.wav"))
            ref = mx.read_wav(os.path.join(d, r["name"] + "_ref.wav"))
            out = afftdn(os.path.join(d, r["name"] + "_mix.wav"), os.path.join(d, "o.wav"), s)
            imp.append(si_sdr(out, ref) - si_sdr(mix, ref))
        scores[s] = float(np.mean(imp))
    best = max(scores, key=scores.get)
    return best, scores


def spectrogram_plot(path, panels, title):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import scipy.signal as sps
    fig, axes = plt.subplots(len(panels), 1, figsize=(6.4, 1.45 * len(panels)), sharex=True)
    for ax, (name, x) in zip(axes, panels):
        f, t, S = sps.spectrogram(x, fs=mx.SR, nperseg=1024, noverlap=768)
        S = 10 * np.log10(S + 1e-14)
        vmax = np.max(S) if np.isfinite(np.max(S)) else 0
        ax.pcolormesh(t, f / 1000, S, vmin=vmax - 80, vmax=vmax, shading="auto", cmap="magma",
                      rasterized=True)
        ax.set_ylim(0, 12)
        ax.set_ylabel("kHz", fontsize=7)
        ax.set_title(name, fontsize=8, loc="left")
        ax.tick_params(labelsize=6)
    axes[-1].set_xlabel("s", fontsize=7)
    fig.suptitle(title, fontsize=9)
    fig.tight_layout()
    fig.savefig(path, dpi=72)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", default=os.path.join(HERE, "data", "corpus"))
    ap.add_argument("--model", default="separate")
    ap.add_argument("--earflow", default=os.path.join(HERE, "..", "build", "host", "earflow"))
    ap.add_argument("--out", required=True, help="folder for the table, JSON, plots")
    ap.add_argument("--split", default="test")
    ap.add_argument("--count", type=int, default=8, help="mixtures per (label, SNR)")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--afftdn", default="", help="fixed settings; empty: pick on valid")
    ap.add_argument("--no-afftdn", action="store_true")
    ap.add_argument("--limits", default="0,6,12,100")
    ap.add_argument("--labels", default=",".join(mx.LABELS))
    ap.add_argument("--plots", default="", help="folder for spectrogram PNGs")
    ap.add_argument("--max-speech-files", type=int, default=400)
    a = ap.parse_args()

    os.makedirs(a.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="sep_eval_")
    pool = mx.Pool(a.corpus, a.split, max_speech_files=a.max_speech_files, seed=a.seed)
    d = os.path.join(tmp, "set")
    rows = mx.write_set(pool, d, a.count, a.seconds, a.seed, labels=a.labels.split(","))
    res = {"split": a.split, "groups": pool.groups, "count_per_cell": a.count,
           "seconds": a.seconds, "model": a.model, "items": []}

    aff = None
    if not a.no_afftdn:
        if a.afftdn:
            aff = a.afftdn
        else:
            vsplit = "valid" if a.split != "valid" else "train"
            if not mx.has_speech(a.corpus, vsplit):
                vsplit = a.split
            vpool = mx.Pool(a.corpus, vsplit, max_speech_files=200, seed=a.seed)
            aff, scores = pick_afftdn(vpool, tmp, max(2, a.count // 2), a.seconds, a.seed + 1)
            res["afftdn_valid_scores"] = scores
        res["afftdn"] = aff
    limits = [float(x) for x in a.limits.split(",") if x]
    o = os.path.join(tmp, "o.wav")
    plot_items = {}
    for r in rows:
        name, label = r["name"], r["label"]
        src = os.path.join(d, name + "_mix.wav")
        mix = mx.read_wav(src)
        ref = mx.read_wav(os.path.join(d, name + "_ref.wav"))
        it = {"name": name, "label": label, "snr_db": r["snr_db"], "level_db": r["level_db"],
              "background": r["background"]}
        clean = r["background"] == "clean"
        it["in"] = si_sdr(mix, ref) if not clean else float("inf")
        keep = render(a.earflow, a.model, src, o, target=label)
        it["keep"] = si_sdr(keep, ref)
        if not clean:
            rem = render(a.earflow, a.model, src, o, target=label, remove=True)
            other = mix - ref
            it["remove_in"] = si_sdr(mix, other)
            it["remove"] = si_sdr(rem, other)
            it["remove_sub"] = si_sdr(mix - keep, other)
            if label == "speech":
                for lim in limits:
                    if lim >= 100:
                        it["limit_%g" % lim] = it["keep"]
                    else:
                        y = render(a.earflow, a.model, src, o, target=label, limit=lim)
                        it["limit_%g" % lim] = si_sdr(y, ref)
                y = render(a.earflow, a.model, src, o, target=label, mix=0.5)
                it["mix_0.5"] = si_sdr(y, ref)
        if aff and label == "speech":
            y = afftdn(src, o, aff)
            it["afftdn"] = si_sdr(y, ref)
            if not clean and r["snr_db"] == 0 and name.endswith("_00"):
                plot_items["speech"] = (mix, ref, keep, y, r["background"])
        if not clean and r["snr_db"] == 0 and name.endswith("_00") and label != "speech":
            plot_items[label] = (mix, ref, keep, None, r["background"])
        res["items"].append(it)

    # silence in -> silence out
    z = os.path.join(tmp, "silence.wav")
    mx.write_wav(z, np.zeros(2 * mx.SR, np.float32))
    sil = {}
    for label in mx.LABELS:
        for rem in (False, True):
            y = render(a.earflow, a.model, z, o, target=label, remove=rem)
            sil["%s%s" % (label, " remove" if rem else "")] = float(np.max(np.abs(y)))
    res["silence_max_abs"] = sil
    if AFFTDN_LAGS:
        res["afftdn_lags"] = sorted(set(AFFTDN_LAGS))

    # aggregate
    items = res["items"]

    def mean(vals):
        vals = [v for v in vals if v is not None and np.isfinite(v)]
        return float(np.mean(vals)) if vals else float("nan")

    agg = {}
    for label in mx.LABELS:
        for snr in SNRS:
            sel = [i for i in items if i["label"] == label and str(i["snr_db"]) == str(snr)]
            if not sel:
                continue
            cell = {"n": len(sel), "in": mean([i["in"] for i in sel]),
                    "keep_i": mean([i["keep"] - i["in"] for i in sel]),
                    "remove_i": mean([i["remove"] - i["remove_in"] for i in sel]),
                    "remove_sub_i": mean([i["remove_sub"] - i["remove_in"] for i in sel])}
            if "afftdn" in sel[0]:
                cell["afftdn_i"] = mean([i["afftdn"] - i["in"] for i in sel])
            for lim in limits:
                k = "limit_%g" % lim
                if k in sel[0]:
                    cell[k + "_i"] = mean([i[k] - i["in"] for i in sel])
            if "mix_0.5" in sel[0]:
                cell["mix_0.5_i"] = mean([i["mix_0.5"] - i["in"] for i in sel])
            agg["%s %+d" % (label, snr)] = cell
    cl = [i for i in items if i["background"] == "clean"]
    res["clean_speech_si_sdr"] = mean([i["keep"] for i in cl])
    res["clean_speech_si_sdr_min"] = float(min(i["keep"] for i in cl)) if cl else None
    if cl and "afftdn" in cl[0]:
        res["clean_speech_afftdn_si_sdr"] = mean([i["afftdn"] for i in cl])
    res["aggregate"] = agg
    for label in mx.LABELS:
        cells = [agg["%s %+d" % (label, s)] for s in SNRS if "%s %+d" % (label, s) in agg]
        if cells:
            res["mean_keep_i_" + label] = mean([c["keep_i"] for c in cells])
            res["mean_remove_i_" + label] = mean([c["remove_i"] for c in cells])
            res["mean_remove_sub_i_" + label] = mean([c["remove_sub_i"] for c in cells])
            if "afftdn_i" in cells[0]:
                res["mean_afftdn_i_" + label] = mean([c["afftdn_i"] for c in cells])

    # markdown
    L = []
    L.append("| target | input SNR | n | SI-SDR in | no processing | afftdn (%s) | earflow keep | "
             "earflow remove (trained) | remove = mix - keep |" % (aff or "-"))
    L.append("|---|---|---|---|---|---|---|---|---|")

    def f(v):
        return "-" if v is None or not np.isfinite(v) else "%+.1f" % v

    for label in mx.LABELS:
        for snr in SNRS:
            k = "%s %+d" % (label, snr)
            if k not in agg:
                continue
            c = agg[k]
            L.append("| %s | %+d dB | %d | %.1f | +0.0 | %s | **%s** | %s | %s |" % (
                label, snr, c["n"], c["in"], f(c.get("afftdn_i")), f(c["keep_i"]),
                f(c["remove_i"]), f(c["remove_sub_i"])))
        if "mean_keep_i_" + label in res:
            L.append("| %s | mean | | | +0.0 | %s | **%s** | %s | %s |" % (
                label, f(res.get("mean_afftdn_i_" + label)), f(res["mean_keep_i_" + label]),
                f(res["mean_remove_i_" + label]), f(res["mean_remove_sub_i_" + label])))
    L.append("")
    L.append("SI-SDRi in dB (SI-SDR of the output minus that of the input mixture, against "
             "the wanted source: the target for keep, the mixture minus the target for remove).")
    L.append("")
    L.append("Clean speech in (no background), SI-SDR of the output: earflow %.1f dB (min %.1f)"
             % (res["clean_speech_si_sdr"], res["clean_speech_si_sdr_min"] or float("nan"))
             + (", afftdn %.1f dB" % res["clean_speech_afftdn_si_sdr"]
                if "clean_speech_afftdn_si_sdr" in res else "") + ".")
    L.append("")
    L.append("Silent input (2 s of zeros), largest |output sample|: " +
             ", ".join("%s %.2g" % (k, v) for k, v in sil.items()) + ".")
    L.append("")
    if any(("limit_%g_i" % lim) in agg.get("speech %+d" % s, {}) for lim in limits for s in SNRS):
        L.append("| attenuation limit (speech keep) | " + " | ".join("%+d dB" % s for s in SNRS)
                 + " | mean |")
        L.append("|---|" + "---|" * (len(SNRS) + 1))
        for lim in limits:
            vals = [agg["speech %+d" % s].get("limit_%g_i" % lim) for s in SNRS]
            L.append("| %g dB%s | " % (lim, " (no limit)" if lim >= 100 else "")
                     + " | ".join(f(v) for v in vals) + " | %s |" % f(mean(vals)))
        vals = [agg["speech %+d" % s].get("mix_0.5_i") for s in SNRS]
        L.append("| mix 0.5 (no limit) | " + " | ".join(f(v) for v in vals) + " | %s |" % f(mean(vals)))
    md = "\n".join(L) + "\n"
    with open(os.path.join(a.out, "table.md"), "w") as fh:
        fh.write(md)
    with open(os.path.join(a.out, "results.json"), "w") as fh:
        json.dump(res, fh, indent=1)
    print(md)
    print(json.dumps({k: v for k, v in res.items() if k.startswith(("mean_", "clean_", "silence", "afftdn"))},
                     indent=1))
    if a.plots:
        os.makedirs(a.plots, exist_ok=True)
        for label, (mix, ref, keep, aff_out, bg) in plot_items.items():
            panels = [("mixture (0 dB SNR, background: %s)" % bg, mix),
                      ("reference %s" % label, ref), ("earflow --target %s" % label, keep)]
            if aff_out is not None:
                panels.append(("ffmpeg afftdn=%s" % aff, aff_out))
            spectrogram_plot(os.path.join(a.plots, "spectrogram_%s.png" % label), panels,
                             "test split, %s target" % label)


if __name__ == "__main__":
    main()
