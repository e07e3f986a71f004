"""Evaluate a separation model on the outputs of the C `earflow render`.

Writes a held-out mixture set (earflow_train/mixtures.py, split --split: whole packages
of speakers, music and backgrounds never heard in training), renders every mixture with
`earflow render --target LABEL` (and --mode remove, and --limit), runs the DSP
baselines on the speech mixtures (ffmpeg's afftdn and the Speex DSP noise suppressor,
tests/integration/baselines/speex_denoise; each with the best of a small grid of settings chosen on
the valid split unless given), and reports per label and input SNR (-5 .. 15 dB) the
mean and 95 % confidence interval of SI-SDRi (docs: /work/shared/reference/metrics.md)
beside no processing, plus what each system trades: the target's level change and the
background reduction in dB (see `parts`). Also clean speech in, a reverberant voice in
and silence in. One markdown table (+ JSON) and spectrogram plots.

usage:
  /usr/bin/python3 train/evaluate_separate.py --corpus train/data/corpus \
      --model models/separate.safetensors --earflow build/cli/earflow --out /tmp/sep_eval
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from earflow_train import flow, losses  # noqa: E402
from earflow_train import mixtures as mx  # noqa: E402
from earflow_train.evaluation import background_kind, cell, mean_ci, model_config, paired_cell  # noqa: E402
from earflow_train.evaluation import trained_labels, voice_of  # noqa: E402
from earflow_train.evaluation import render as render_c  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SNRS = (-5, 0, 5, 10, 15)


def render(earflow, model, src, dst, target=None, remove=False, limit=None, mix=None, schedule=None):
    """`earflow render` with the separation options; mono samples back."""
    extra = (["--target", target] if target else []) + (["--mode", "remove"] if remove else [])
    if limit is not None:
        extra += ["--limit", str(limit)]
    if mix is not None:
        extra += ["--mix", str(mix)]
    return render_c(earflow, model, src, dst, schedule, extra)


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


def speex(tool, src, dst, suppress_db):
    """The Speex DSP noise suppressor (tests/integration/baselines/speex_denoise.c, aligned)."""
    subprocess.run([tool, "--suppress", suppress_db, src, dst], check=True)
    return mx.read_wav(dst)


AFFTDN_GRID = ["nr=12:nf=-50", "nr=20:nf=-50", "nr=30:nf=-50", "nr=40:nf=-50",
               "nr=20:nf=-40:tn=1", "nr=30:nf=-50:tn=1", "nr=40:nf=-60:tn=1", "nr=97:nf=-50:tn=1"]
SPEEX_GRID = ["6", "10", "15", "20", "30", "45", "60"]   # the most dB taken off the noise


def pick_setting(run, grid, pool, tmp, count, seconds, seed):
    """The setting of a baseline (run(src, dst, setting) -> output) with the best mean
    speech SI-SDRi on a set drawn from pool (the valid split)."""
    d = os.path.join(tmp, "baseline_valid")
    rows = mx.write_set(pool, d, count, seconds, seed, snrs=SNRS, labels=["speech"])
    rows = [r for r in rows if r["background"] != "clean"]
    scores = {}
    for setting in grid:
        imp = []
        for r in rows:
            mix = mx.read_wav(os.path.join(d, r["name"] + "_mix.wav"))
            ref = mx.read_wav(os.path.join(d, r["name"] + "_ref.wav"))
            out = run(os.path.join(d, r["name"] + "_mix.wav"), os.path.join(d, "o.wav"), setting)
            imp.append(losses.si_sdr(out, ref) - losses.si_sdr(mix, ref))
        scores[setting] = float(np.mean(imp))
    return max(scores, key=scores.get), scores


def parts(y, mix, ref):
    """What an output y of a mixture (= ref + background) trades, in dB: the target's
    level change 20 log10(alpha), alpha = <ref, y> / |ref|^2 (0: the target kept at its
    level; below 0: target lost), and the background reduction 10 log10(|mix - ref|^2 /
    |y - alpha ref|^2) (how far below the input's background everything in the output
    that is not the target lies; the target's distortion counts there too)."""
    y, mix, ref = (np.asarray(v, np.float64) for v in (y, mix, ref))
    n = min(len(y), len(ref))
    y, mix, ref = y[:n], mix[:n], ref[:n]
    alpha = float(np.dot(ref, y) / max(np.dot(ref, ref), 1e-20))
    resid = y - alpha * ref
    bg = mix - ref
    return (20 * np.log10(max(abs(alpha), 1e-10)),
            10 * np.log10(max(np.dot(bg, bg), 1e-20) / max(np.dot(resid, resid), 1e-20)))


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


def write_schedule_table(out, items, schedules):
    """Keep SI-SDRi per label and schedule, mean ± 95 % CI over every mixture of the
    label (all SNRs): what more network evaluations buy. OUT/schedules.md."""
    lines = ["| schedule | NFE | " + " | ".join(mx.LABELS) + " |", "|---|---|" + "---|" * len(mx.LABELS)]
    for sch in schedules:
        k = "keep@%s:%d:%g" % sch
        row = [cell([i[k] - i["in"] for i in items if i["label"] == lab and np.isfinite(i["in"])])
               for lab in mx.LABELS]
        lines.append("| %s:%d:%g | %d | %s |" % (sch + (flow.evaluations(sch[0], sch[1]), " | ".join(row))))
    # "At least as good" is a paired question: the same mixtures under both schedules
    # (the unpaired intervals above are mostly the spread between mixtures).
    first = "keep@%s:%d:%g" % schedules[0]
    for sch in schedules[1:]:
        k = "keep@%s:%d:%g" % sch
        row = [paired_cell([i[k] - i[first] for i in items if i["label"] == lab and np.isfinite(i["in"])])
               for lab in mx.LABELS]
        lines.append("| %s:%d:%g minus %s (paired) | %d | %s |" % (
            sch + (first[5:], flow.evaluations(sch[0], sch[1]), " | ".join(row))))
    md = "\n".join(lines) + "\n"
    with open(os.path.join(out, "schedules.md"), "w") as fh:
        fh.write(md)
    print(md, flush=True)


def write_breakdown_table(out, fname, items, systems, column, group_of, labels=mx.LABELS):
    """Keep SI-SDRi per label and group (group_of(item)), the model beside each DSP
    baseline scored on those mixtures, mean ± 95 % CI. OUT/fname; returns the markdown."""
    lines = ["| target | %s | n | earflow keep | " % column + "".join("%s | " % b for b in systems),
             "|---|---|---|---|" + "---|" * len(systems)]
    for lab in labels:
        its = [i for i in items if i["label"] == lab and np.isfinite(i["in"])]
        for k in sorted({group_of(i) for i in its}):
            sel = [i for i in its if group_of(i) == k]
            lines.append("| %s | %s | %d | %s | " % (lab, k, len(sel), cell([i["keep"] - i["in"] for i in sel]))
                         + "".join("%s | " % cell([i[b] - i["in"] for i in sel if b in i]) for b in systems))
    md = "\n".join(lines) + "\n"
    with open(os.path.join(out, fname), "w") as fh:
        fh.write(md)
    print(md, flush=True)
    return md


def write_background_table(out, items, systems):
    """OUT/backgrounds.md: keep SI-SDRi per label and kind of background."""
    return write_breakdown_table(out, "backgrounds.md", items, systems, "background", background_kind)


def write_voice_table(out, items, systems):
    """OUT/voices.md: speech keep SI-SDRi per held-out speaker (a model is judged on
    voices it never heard: one voice's mean hides another's). Items of evaluations made
    before the voice was recorded count as "unknown"."""
    return write_breakdown_table(out, "voices.md", items, systems, "voice",
                                 voice_of, labels=("speech",))


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", default=os.path.join(HERE, "data", "corpus"))
    ap.add_argument("--model", default="separate")
    ap.add_argument("--earflow", default=os.path.join(HERE, "..", "build", "cli", "earflow"))
    ap.add_argument("--speex-tool", default=os.path.join(HERE, "..", "build", "tests", "speex_denoise"),
                    help="tests/integration/baselines/speex_denoise as built (absent: no Speex column)")
    ap.add_argument("--out", required=True, help="folder for the table, JSON, plots")
    ap.add_argument("--split", default="test")
    ap.add_argument("--count", type=int, default=32, help="mixtures per (label, SNR)")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=2026)
    ap.add_argument("--afftdn", default="", help="fixed settings; empty: pick on valid")
    ap.add_argument("--speex", default="", help="fixed suppression dB; empty: pick on valid")
    ap.add_argument("--no-baselines", "--no-afftdn", action="store_true", dest="no_baselines",
                    help="no DSP baselines (--no-afftdn: its old name, in older commands)")
    ap.add_argument("--pick-count", type=int, default=8,
                    help="valid mixtures per SNR that choose each baseline's setting")
    ap.add_argument("--limits", default="0,6,12,100")
    ap.add_argument("--labels", default="",
                    help="comma list; default: the labels the model was trained for")
    ap.add_argument("--plots", default="", help="folder for spectrogram PNGs")
    ap.add_argument("--max-speech-files", type=int, default=400)
    ap.add_argument("--settings", default="default",
                    help="schedules to score keep with: default or SOLVER:STEPS:T0, comma list")
    ap.add_argument("--keep-only", action="store_true",
                    help="keep mode only (no remove, limits, mix, silence): schedule trials")
    a = ap.parse_args()
    schedules = flow.parse_schedules(a.settings, model_config(a.model)["flow"]) \
        if a.model.endswith(".safetensors") else []
    if not a.labels:  # the engine refuses the others
        a.labels = ",".join(trained_labels(a.model, mx.LABELS) if a.model.endswith(".safetensors") else mx.LABELS)
    labels = a.labels.split(",")

    os.makedirs(a.out, exist_ok=True)
    tmp = tempfile.mkdtemp(prefix="sep_eval_")
    pool = mx.Pool(a.corpus, a.split, max_speech_files=a.max_speech_files, seed=a.seed)
    d = os.path.join(tmp, "set")
    rows = mx.write_set(pool, d, a.count, a.seconds, a.seed, snrs=SNRS, labels=labels,
                        reverberant=a.count)
    res = {"split": a.split, "seed": a.seed, "groups": pool.groups, "count_per_cell": a.count,
           "seconds": a.seconds, "model": a.model, "labels": labels, "items": []}

    # The DSP baselines (speech denoisers), each at its best setting on valid.
    runs = {}
    if not a.no_baselines:
        runs["afftdn"] = (afftdn, AFFTDN_GRID, a.afftdn)
        if os.path.exists(a.speex_tool):
            runs["speex"] = (lambda src, dst, x: speex(a.speex_tool, src, dst, x), SPEEX_GRID, a.speex)
    base = {}
    vsplit = "valid" if a.split != "valid" else "train"
    if not mx.has_speech(a.corpus, vsplit):
        vsplit = a.split
    vpool = None
    for name, (run, grid, fixed) in runs.items():
        if fixed:
            base[name] = fixed
            continue
        vpool = vpool or mx.Pool(a.corpus, vsplit, max_speech_files=200, seed=a.seed)
        base[name], scores = pick_setting(run, grid, vpool, tmp, a.pick_count, a.seconds, a.seed + 1)
        res["%s_%s_scores" % (name, vsplit)] = scores
    res["baselines"] = base

    limits = [float(x) for x in a.limits.split(",") if x]
    o = os.path.join(tmp, "o.wav")
    plot_items = {}
    for r in rows:
        name, label = r["name"], r["label"]
        src = os.path.join(d, name + "_mix.wav")
        mix = mx.read_wav(src)
        ref = mx.read_wav(os.path.join(d, name + "_ref.wav"))
        it = {"name": name, "label": label, "snr_db": r["snr_db"], "level_db": r["level_db"],
              "background": r["background"], "voice": r["voice"]}
        clean = r["background"].startswith("clean")
        it["in"] = losses.si_sdr(mix, ref) if not clean else float("inf")
        keep = render(a.earflow, a.model, src, o, target=label)
        it["keep"] = losses.si_sdr(keep, ref)
        if not clean:
            it["keep_target_db"], it["keep_bg_db"] = parts(keep, mix, ref)
        for sch in schedules:
            y = render(a.earflow, a.model, src, o, target=label, schedule=sch)
            it["keep@%s:%d:%g" % sch] = losses.si_sdr(y, ref)
        if not clean and not a.keep_only:
            rem = render(a.earflow, a.model, src, o, target=label, remove=True)
            other = mix - ref
            it["remove_in"] = losses.si_sdr(mix, other)
            it["remove"] = losses.si_sdr(rem, other)
            it["remove_sub"] = losses.si_sdr(mix - keep, other)
            if label == "speech":
                for lim in limits:
                    if lim >= 100:
                        it["limit_%g" % lim] = it["keep"]
                    else:
                        y = render(a.earflow, a.model, src, o, target=label, limit=lim)
                        it["limit_%g" % lim] = losses.si_sdr(y, ref)
                y = render(a.earflow, a.model, src, o, target=label, mix=0.5)
                it["mix_0.5"] = losses.si_sdr(y, ref)
        outs = {}
        if label == "speech" and not a.keep_only:
            for bname, setting in base.items():
                y = outs[bname] = runs[bname][0](src, o, setting)
                it[bname] = losses.si_sdr(y, ref)
                if not clean:
                    it[bname + "_target_db"], it[bname + "_bg_db"] = parts(y, mix, ref)
        if not clean and r["snr_db"] == 0 and name.endswith("_00"):
            plot_items[label] = (mix, ref, keep, outs, r["background"])
        res["items"].append(it)

    if schedules:
        write_schedule_table(a.out, res["items"], schedules)
    write_background_table(a.out, res["items"], [] if a.keep_only else list(base))
    if "speech" in labels:
        write_voice_table(a.out, res["items"], [] if a.keep_only else list(base))
    if a.keep_only:
        with open(os.path.join(a.out, "results.json"), "w") as fh:
            json.dump(res, fh, indent=1)
        return
    # silence in -> silence out
    z = os.path.join(tmp, "silence.wav")
    mx.write_wav(z, np.zeros(2 * mx.SR, np.float32))
    sil = {}
    for label in labels:
        for rem in (False, True):
            y = render(a.earflow, a.model, z, o, target=label, remove=rem)
            sil["%s%s" % (label, " remove" if rem else "")] = float(np.max(np.abs(y)))
    res["silence_max_abs"] = sil
    if AFFTDN_LAGS:
        res["afftdn_lags"] = sorted(set(AFFTDN_LAGS))
    md = write_tables(a, res, labels, limits, base)
    print(md)
    print(json.dumps({k: v for k, v in res.items() if k.startswith(("mean_", "clean_", "reverb", "silence", "baselines"))},
                     indent=1))
    if a.plots:
        os.makedirs(a.plots, exist_ok=True)
        for label, (mix, ref, keep, outs, bg) in plot_items.items():
            panels = [("mixture (0 dB SNR, background: %s)" % bg, mix),
                      ("reference %s" % label, ref), ("earflow --target %s" % label, keep)]
            panels += [("%s (%s)" % (bname, base[bname]), y) for bname, y in outs.items()]
            spectrogram_plot(os.path.join(a.plots, "spectrogram_%s.png" % label), panels,
                             "%s split, %s target" % (a.split, label))


def write_tables(a, res, labels, limits, base):
    """OUT/table.md and OUT/results.json from res["items"]; every cell mean ± 95 % CI
    over its mixtures. Returns the markdown."""
    items = res["items"]
    systems = list(base)

    def sel(label, snr=None):
        return [i for i in items if i["label"] == label and not i["background"].startswith("clean")
                and (snr is None or str(i["snr_db"]) == str(snr))]

    def imp(its, key, ref="in"):
        return [i[key] - i[ref] for i in its if key in i]

    rows_of = [(snr, "%+d dB" % snr) for snr in SNRS] + [(None, "mean")]
    L = ["| target | input SNR | n | SI-SDR in | " + "".join("%s (%s) | " % (b, base[b]) for b in systems)
         + "earflow keep | earflow remove | remove = mix - keep |",
         "|---|---|---|---|" + "---|" * (len(systems) + 3)]
    for label in labels:
        for snr, txt in rows_of:
            its = sel(label, snr)
            if not its:
                continue
            bold = "**%s**" % cell(imp(its, "keep"))
            L.append("| %s | %s | %d | %s | " % (label, txt, len(its), cell([i["in"] for i in its]))
                     + "".join("%s | " % cell(imp(its, b)) for b in systems)
                     + "%s | %s | %s |" % (bold, cell(imp(its, "remove", "remove_in")),
                                           cell(imp(its, "remove_sub", "remove_in"))))
            res["mean_keep_i_%s%s" % (label, "" if snr is None else "_%+d" % snr)] = \
                mean_ci(imp(its, "keep"))[0]
        its = sel(label)
        res["mean_remove_i_" + label] = mean_ci(imp(its, "remove", "remove_in"))[0]
        res["mean_remove_sub_i_" + label] = mean_ci(imp(its, "remove_sub", "remove_in"))[0]
        for b in systems:
            if any(b in i for i in its):
                res["mean_%s_i_%s" % (b, label)] = mean_ci(imp(its, b))[0]
    L += ["", "SI-SDRi in dB, mean ± 95 %% CI over the mixtures of each row (SI-SDR of the "
          "output minus that of the input mixture, against the wanted source: the target for "
          "keep, the mixture minus the target for remove). Split %s; the baselines' settings "
          "were chosen on valid." % a.split, ""]
    # what each system trades (speech keep)
    if "speech" in labels:
        names = ["earflow"] + systems
        L.append("| speech, input SNR | " + " | ".join("%s: target dB / background reduction dB" % n
                                                       for n in names) + " |")
        L.append("|---|" + "---|" * len(names))
        for snr, txt in rows_of:
            its = sel("speech", snr)
            L.append("| %s | " % txt + " | ".join(
                "%s / %s" % (cell([i[k + "_target_db"] for i in its if k + "_target_db" in i]),
                             cell([i[k + "_bg_db"] for i in its if k + "_bg_db" in i], signed=False))
                for k in ["keep"] + systems) + " |")
        L += ["", "Target dB: the speech's level change in the output (0: kept whole); "
              "background reduction: how far below the input's background the rest of the "
              "output lies (evaluate_separate.parts).", ""]
    for kind, title in (("clean", "Clean speech in"), ("clean+reverb", "A reverberant voice in (the reference is the reverberant voice)")):
        its = [i for i in items if i["background"] == kind]
        if not its:
            continue
        key = "clean_speech" if kind == "clean" else "reverb_speech"
        res[key + "_si_sdr"] = mean_ci([i["keep"] for i in its])[0]
        res[key + "_si_sdr_min"] = float(min(i["keep"] for i in its))
        L.append("%s (n %d), SI-SDR of the output: earflow %s dB (min %.1f)" % (
            title, len(its), cell([i["keep"] for i in its], signed=False), res[key + "_si_sdr_min"])
            + "".join(", %s %s dB" % (b, cell([i[b] for i in its if b in i], signed=False))
                      for b in systems) + ".")
        L.append("")
    L.append("Silent input (2 s of zeros), largest |output sample|: " +
             ", ".join("%s %.2g" % (k, v) for k, v in res["silence_max_abs"].items()) + ".")
    L.append("")
    its = sel("speech")
    if its and any("limit_%g" % lim in i for i in its for lim in limits):
        L.append("| attenuation limit (speech keep) | " + " | ".join("%+d dB" % s for s in SNRS)
                 + " | mean |")
        L.append("|---|" + "---|" * (len(SNRS) + 1))
        for key, txt in [("limit_%g" % lim, "%g dB%s" % (lim, " (no limit)" if lim >= 100 else ""))
                         for lim in limits] + [("mix_0.5", "mix 0.5 (no limit)")]:
            L.append("| %s | " % txt + " | ".join(cell(imp(sel("speech", s), key)) for s in SNRS)
                     + " | %s |" % cell(imp(its, key)))
    md = "\n".join(L) + "\n"
    with open(os.path.join(a.out, "table.md"), "w") as fh:
        fh.write(md)
    with open(os.path.join(a.out, "results.json"), "w") as fh:
        json.dump(res, fh, indent=1)
    return md


if __name__ == "__main__":
    main()
