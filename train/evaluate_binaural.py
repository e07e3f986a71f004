"""Evaluate a binaural model on a held-out split, on outputs of the C `earflow render`
(not the Python twin), beside a DSP HRTF baseline and the mono copy.

    /usr/bin/python3 train/evaluate_binaural.py --data train/data/binaural --split testset \
        --model models/binaural.safetensors --out out/eval [--settings default,euler:2:0,...]

Per sequence folder (public binaural layout, train/earflow_train/layout.py):
  * trajectory: tx_positions.txt rows -> `seconds azimuth elevation distance` at the
    row times (layout.Sequence.pose_at; azimuth unwrapped so that the linear
    interpolation of `earflow render --trajectory` never sweeps the wrong way round);
  * model: `earflow render --model M -i mono.wav -o OUT --trajectory T --room ROOM
    --solver S --steps N --t0 T0 --format float` (latency compensated by render);
  * DSP baseline: the simulator's direct path only (binsim.Simulator.direct: the same
    KEMAR minimum-phase HRIRs with onset ITD, 1/r, air absorption, the ground-truth
    trajectory), i.e. an anechoic HRTF panner with no room, for every room;
  * prior alone: the model's own prior (the spherical head), rendered by the C engine
    from a copy of the model file whose output layer gives mask 1 (prior_model);
  * DSP room: the simulator's direct path, early reflections and decorrelated tail for
    the room *label* (design shoebox and RT60, listener at its centre): what a binaural
    reverb with a room preset gives; it knows the label, not the sequence's room;
  * mono copy: mono.wav on both ears.
Metrics (docs: /work/shared/reference/metrics.md), per file, averaged weighted by length,
per room, overall and by the sequence's mean elevation: Wave L2 (x1e3), Amplitude,
Phase, MRSTFT, ITD error (us), ILD error (dB: cells where the target's ILD is above its
16-bit rounding noise; another column counts every cell within 30 dB of its band's
loudest frame, noise too; ITD and ILD errors once more over the frames and cells that
the target's direct sound dominates, where a reverberant target's lag and level
difference are its direct sound's: the DSP HRTF render is exactly the target's direct
path, so the target minus it is its reverberation), interaural coherence error (realism.coherence: per octave
band and 0.5 s window, averaged over the bands; the render's own coherence beside the
truth's). And per reverberant sequence, the impulse response of its room at its first
pose from the truth and from each system: decay time T20 (500 Hz-1 kHz) and
direct-to-reverberant ratio (realism.decay_time, realism.drr_db).
Writes OUT/results.json, OUT/table.md and the plots (--plots).
"""

import argparse
import json
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

from earflow_train import acoustics  # noqa: E402
from earflow_train import binsim  # noqa: E402
from earflow_train import audio, export, flow, layout, losses, realism  # noqa: E402
from earflow_train.evaluation import mean_ci, model_config, render  # noqa: E402
from earflow_train.model import c_out_of  # noqa: E402

SR = 48000
METRICS = ["wave_l2e3", "amp", "phase", "mrstft", "itd_us", "itd_all_us", "itd_direct_us", "ild_db", "ild_all_db",
           "ild_direct_db", "ic_err", "ic_out"]
HEAD = {"wave_l2e3": "Wave L2 x1e3", "amp": "Amplitude", "phase": "Phase", "mrstft": "MRSTFT",
        "itd_us": "ITD err (us)", "itd_all_us": "ITD err, noise frames in (us)", "ild_db": "ILD err (dB)",
        "ild_all_db": "ILD err, noise cells in (dB)", "itd_direct_us": "ITD err, direct-sound frames (us)",
        "ild_direct_db": "ILD err, direct-sound cells (dB)",
        "ic_err": "coherence err", "ic_out": "coherence (truth)"}


# ---------------------------------------------------------------------- metrics


def _stft(x, n_fft, hop, win):
    """Centred (reflect-padded) STFT with a periodic Hann window of `win` samples
    centred in n_fft: torch.stft(n_fft, hop, win_length=win, center=True). x [C, n] ->
    complex128 numpy [C, frames, n_fft/2+1]."""
    import torch
    t = torch.from_numpy(np.ascontiguousarray(x, dtype=np.float64))
    X = torch.stft(t, n_fft, hop, win_length=win, window=torch.hann_window(win, dtype=torch.float64),
                   center=True, pad_mode="reflect", return_complex=True)
    return X.transpose(1, 2).numpy()


def wave_l2(p, g):
    return float(np.mean((np.clip(p, -1, 1) - np.clip(g, -1, 1)) ** 2))


def amp_phase(p, g):
    P = _stft(p, 2048, 480, 1920)
    G = _stft(g, 2048, 480, 1920)
    amp = float(np.mean(np.abs(np.abs(P) - np.abs(G))))
    d = np.abs(np.angle(P) - np.angle(G))
    d = np.pi - np.abs(d - np.pi)
    mg = np.abs(G.real) + np.abs(G.imag)
    mp = np.abs(P.real) + np.abs(P.imag)
    thr = 0.2 * np.mean(mg)
    mask = (mg > thr) & (mp > thr)
    phase = float(np.mean(d[mask])) if mask.any() else float("nan")
    return amp, phase


def mrstft(p, g):
    """Three resolutions (n_fft 1024/2048/512, hop 120/240/50, window 600/1200/240, Hann);
    per resolution and channel spectral convergence + mean |log|G| - log|P||
    (log of magnitude + 1e-7), channels as separate items; averaged (torch, float32)."""
    import torch
    P0 = torch.from_numpy(np.ascontiguousarray(p, dtype=np.float32))
    G0 = torch.from_numpy(np.ascontiguousarray(g, dtype=np.float32))
    tot = 0.0
    for n_fft, hop, win in ((1024, 120, 600), (2048, 240, 1200), (512, 50, 240)):
        w = torch.hann_window(win)
        P = torch.stft(P0, n_fft, hop, win_length=win, window=w, center=True, pad_mode="reflect",
                       return_complex=True).abs()
        G = torch.stft(G0, n_fft, hop, win_length=win, window=w, center=True, pad_mode="reflect",
                       return_complex=True).abs()
        sc = torch.linalg.norm((G - P).flatten(1), dim=1) / (torch.linalg.norm(G.flatten(1), dim=1) + 1e-12)
        lm = (torch.log(G + 1e-7) - torch.log(P + 1e-7)).abs().flatten(1).mean(1)
        tot += float(sc.mean()) + float(lm.mean())
    return tot / 3


FRAME = 1920        # 40 ms frames for ITD / ILD, hop 20 ms
FHOP = 960
ENERGY_DB = 30.0    # a frame (or frame x band) counts when within 30 dB of the file's loudest
ILD_BANDS = losses.OCTAVES   # octave bands (centre Hz), the ILD and coherence losses' too


def _frames(x):
    m = 1 + (x.shape[-1] - FRAME) // FHOP
    idx = np.arange(m)[:, None] * FHOP + np.arange(FRAME)[None, :]
    return x[..., idx]          # [C, m, FRAME]


QUANT_DB = 20.0     # an ITD frame or ILD cell also needs each target ear 20 dB above 16-bit rounding noise


ITD_FMAX = 1500.0    # Hz: the band GCC-PHAT's ITD is read in


def _band_bins(f, fc):
    """The FFT bins (frequencies f) of the octave band centred at fc."""
    return (f >= fc / np.sqrt(2)) & (f < min(fc * np.sqrt(2), SR / 2))


def _itd_bins(f):
    """The FFT bins (frequencies f) of the band the ITD is read in, DC left out."""
    return (f > 0) & (f <= ITD_FMAX)


def direct_masks(g, direct):
    """Where the target g [2, n] is its direct sound: direct [2, n] is the simulator's
    direct path along the trajectory (the DSP HRTF render: the target's own direct
    sound, see the module doc), g - direct its reverberation. Returns {"itd": [m] per
    40-ms frame, energy below 1.5 kHz; "ild": [bands, m] per octave-band cell}: True
    where the direct energy (both ears) is at least the reverberant energy. It depends
    on the target alone, so it is made once per sequence and every system is scored
    with it (itd_err, ild_err, all_metrics)."""
    n = min(g.shape[1], direct.shape[1])
    w = np.hanning(FRAME)
    f = np.fft.rfftfreq(FRAME, 1.0 / SR)
    D = np.sum(np.abs(np.fft.rfft(_frames(direct[:, :n]) * w, axis=-1)) ** 2, axis=0)          # [m, K]
    R = np.sum(np.abs(np.fft.rfft(_frames(g[:, :n] - direct[:, :n]) * w, axis=-1)) ** 2, axis=0)
    low = _itd_bins(f)
    return {"itd": D[:, low].sum(-1) >= R[:, low].sum(-1),
            "ild": np.stack([D[:, _band_bins(f, fc)].sum(-1) >= R[:, _band_bins(f, fc)].sum(-1)
                             for fc in ILD_BANDS])}


def itd_err(p, g, direct=None):
    """Mean |ITD(pred) - ITD(target)| in us over 40 ms frames (hop 20 ms) whose target
    energy (both ears) is within 30 dB of the loudest frame; GCC-PHAT, +-1 ms lag
    bound, 1/8-sample grid + parabolic fit, PHAT band limited to 1.5 kHz (acoustics.itd_gcc_phat, as the simulator's
    tests measure ITD). Returns ((sum of errors, frames) over the frames where each
    target ear's energy below 1.5 kHz is 20 dB above its 16-bit rounding noise, (sum,
    frames) over every frame of the 30 dB rule): a distant, quiet source's 16-bit
    target holds rounding noise below 1.5 kHz in its quieter frames, whose GCC-PHAT
    lag is noise (the DSP panner, the anechoic truth itself up to that rounding, read
    58 us on binaural set 2's valid split with those frames in). A third (sum, frames):
    the first's frames where the target's direct sound holds at least as much energy
    below 1.5 kHz as its reverberation (direct: direct_masks of the target; None: every
    frame): a reverberant target's other
    frames read the lag of its reflections, which a renderer with a room of its own
    draws differently (a dry panner, reading the direct sound's lag, scores better
    there than a room renderer does: the direct sound is what localizes)."""
    Pf, Gf = _frames(p), _frames(g)
    e = np.sum(Gf ** 2, axis=(0, 2))
    ep = np.sum(Pf ** 2, axis=(0, 2))
    ok = (e > np.max(e) * 10 ** (-ENERGY_DB / 10)) & (ep > 1e-10) & (e > 1e-10)
    if not ok.any():
        return (0.0, 0), (0.0, 0), (0.0, 0)
    w = np.hanning(FRAME)
    ip = np.atleast_1d(acoustics.itd_gcc_phat(Pf[0, ok] * w, Pf[1, ok] * w, up=8, fmax=ITD_FMAX))
    ig = np.atleast_1d(acoustics.itd_gcc_phat(Gf[0, ok] * w, Gf[1, ok] * w, up=8, fmax=ITD_FMAX))
    err = np.abs(ip - ig) * 1e6
    f = np.fft.rfftfreq(FRAME, 1.0 / SR)
    low = _itd_bins(f)
    band = np.sum(np.abs(np.fft.rfft(Gf[:, ok] * w, axis=-1)[..., low]) ** 2, axis=-1)   # [2, frames]
    floor = acoustics.rounding_noise_per_bin(w) * int(low.sum()) * 10 ** (QUANT_DB / 10)
    keep = np.all(band > floor, axis=0)
    dk = keep if direct is None else keep & direct["itd"][:len(ok)][ok]
    return ((float(np.sum(err[keep])), int(keep.sum())), (float(np.sum(err)), int(ok.sum())),
            (float(np.sum(err[dk])), int(np.sum(dk))))




def ild_err(p, g, direct=None):
    """Mean |ILD(pred) - ILD(target)| in dB over 40 ms frames (hop 20 ms) and octave bands
    250 Hz..16 kHz (FFT band energies, Hann window), over the (frame, band) cells where
    the target's ILD is measurable: its energy (both ears) within 30 dB of that band's
    loudest frame, and each ear's band energy at least 20 dB above the band's 16-bit
    rounding noise (the targets are 16-bit files; below that, the target's own ILD is
    the ILD of its rounding noise, about 0 dB, whatever the source's direction: a
    band-limited G.722 prompt has nothing but that noise in the 16 kHz octave).
    Returns ((sum, cells), (sum, cells) over every cell of the 30 dB rule alone, (sum,
    cells) over the first's cells where the target's direct sound holds at least as
    much of the band's energy as its reverberation (direct: direct_masks of the
    target; None: every cell))."""
    w = np.hanning(FRAME)
    f = np.fft.rfftfreq(FRAME, 1.0 / SR)
    Pp = np.abs(np.fft.rfft(_frames(p) * w, axis=-1)) ** 2      # [2, m, K]
    Pg = np.abs(np.fft.rfft(_frames(g) * w, axis=-1)) ** 2
    noise_bin = acoustics.rounding_noise_per_bin(w)  # rounding noise per bin
    tot, cnt, tot_all, cnt_all, tot_d, cnt_d = 0.0, 0, 0.0, 0, 0.0, 0
    for b, fc in enumerate(ILD_BANDS):
        sel = _band_bins(f, fc)
        bp = Pp[..., sel].sum(-1) + 1e-20
        bg = Pg[..., sel].sum(-1) + 1e-20
        eg = bg.sum(0)
        ok = (eg > np.max(eg) * 10 ** (-ENERGY_DB / 10)) & (eg > 1e-12)
        if not ok.any():
            continue
        err = np.abs(10 * np.log10(bp[0] / bp[1]) - 10 * np.log10(bg[0] / bg[1]))
        tot_all += float(np.sum(err[ok]))
        cnt_all += int(ok.sum())
        floor = noise_bin * int(sel.sum()) * 10 ** (QUANT_DB / 10)
        ok &= (bg[0] > floor) & (bg[1] > floor)
        tot += float(np.sum(err[ok]))
        cnt += int(ok.sum())
        if direct is not None:
            ok &= direct["ild"][b, :len(ok)]
        tot_d += float(np.sum(err[ok]))
        cnt_d += int(ok.sum())
    return (tot, cnt), (tot_all, cnt_all), (tot_d, cnt_d)


def all_metrics(p, g, direct=None):
    """p, g [2, n] float64 -> dict (ITD/ILD as (sum, count) pairs for pooling); direct:
    direct_masks of the target (None: the target is all direct sound)."""
    n = min(p.shape[1], g.shape[1])
    p, g = p[:, :n], g[:, :n]
    amp, ph = amp_phase(p, g)
    ild = ild_err(p, g, direct)
    itd = itd_err(p, g, direct)
    return {"wave_l2e3": wave_l2(p, g) * 1e3, "amp": amp, "phase": ph, "mrstft": mrstft(p, g),
            "itd": itd[0], "itd_all": itd[1], "itd_direct": itd[2], "ild": ild[0], "ild_all": ild[1],
            "ild_direct": ild[2],
            "ic": realism.coherence(p, g).tolist(), "n": n}


def pool(items):
    """Length-weighted means of per-file metrics; ITD/ILD pooled over their frames
    (each file's frames weighted equally, i.e. by length)."""
    if not items:
        return {}
    w = np.array([it["n"] for it in items], dtype=np.float64)
    out = {}
    for k in ("wave_l2e3", "amp", "phase", "mrstft"):
        v = np.array([it[k] for it in items], dtype=np.float64)
        ok = np.isfinite(v)
        out[k] = float(np.sum(v[ok] * w[ok]) / np.sum(w[ok])) if ok.any() else float("nan")
    # ITD and ILD: (sum, count) pooled; "_all": rounding-noise frames / cells in,
    # "_direct": those the target's direct sound dominates
    for k, unit, count in (("itd", "_us", "itd_frames"), ("itd_all", "_us", None),
                           ("itd_direct", "_us", "itd_direct_count"), ("ild", "_db", "ild_cells"),
                           ("ild_all", "_db", "ild_all_cells"), ("ild_direct", "_db", "ild_direct_count")):
        s = sum(it[k][0] for it in items)
        c = sum(it[k][1] for it in items)
        out[k + unit] = s / c if c else float("nan")
        if count:
            out[count] = c
    ic = np.sum([np.asarray(it["ic"]) for it in items], axis=0)      # [bands, 4]
    ok = ic[:, 3] > 0
    cnt = np.maximum(ic[:, 3], 1)
    out["ic_bands"] = {str(fc): [float(ic[b, 0] / cnt[b]), float(ic[b, 1] / cnt[b]), float(ic[b, 2] / cnt[b])]
                       for b, fc in enumerate(ILD_BANDS) if ok[b]}
    # coherence: the error averaged over the bands that have cells; the render's own
    # mean coherence beside the truth's (too dry renders read high)
    out["ic_err"] = float(np.mean(ic[ok, 0] / cnt[ok])) if ok.any() else float("nan")
    out["ic_mean"] = float(np.mean(ic[ok, 1] / cnt[ok])) if ok.any() else float("nan")
    out["ic_truth"] = float(np.mean(ic[ok, 2] / cnt[ok])) if ok.any() else float("nan")
    out["seconds"] = float(np.sum(w) / SR)
    out["files"] = len(items)
    return out


# ---------------------------------------------------------------------- systems


def read64(path):
    return audio.read_wav(path, dtype=np.float64)


def write_trajectory(seq, path):
    """tx_positions rows -> 'seconds azimuth elevation distance' (azimuth unwrapped)."""
    at = np.arange(len(seq.rows)) * layout.SAMPLES_PER_ROW
    az, el, dist = seq.pose_at(at)
    az = np.degrees(np.unwrap(np.radians(az)))
    with open(path, "w") as f:
        f.write("# seconds azimuth elevation distance (from %s)\n" % seq.folder)
        for t, a, e, d in zip(at / SR, az, el, dist):
            f.write("%.6f %.4f %.4f %.4f\n" % (t, a, e, max(d, 1e-3)))


_SIM = None


def simulator():
    global _SIM
    if _SIM is None:
        from earflow_train import corpus
        from earflow_train import hrtf
        _SIM = binsim.Simulator(hrtf.load(corpus.sofa_path()))
    return _SIM


def head_path(seq, n):
    """The ground-truth source position per sample [n, 3], head axes (x forward, y
    left, z up): tx_positions rows interpolated linearly."""
    r = np.arange(len(seq.rows))
    s = np.arange(n) / layout.SAMPLES_PER_ROW
    xyz = np.stack([np.interp(s, r, seq.rows[:, i]) for i in range(3)], axis=-1)
    return np.stack([xyz[:, 0], -xyz[:, 1], xyz[:, 2]], axis=-1)     # file axes -> head (y left)


def dsp_render(seq, mono):
    """The DSP baseline: anechoic direct path through the KEMAR HRIRs along the
    ground-truth trajectory (head-relative positions, listener at the origin)."""
    scene = binsim.Scene("anechoic", src=head_path(seq, len(mono)), listener=(0.0, 0.0, 0.0))
    y, _ = simulator().direct(mono.astype(np.float32), scene)
    return y.astype(np.float64)


def direct_sound(seq, mono, path):
    """The target's own direct sound: the DSP HRTF render (dsp_render), kept at path (the
    "dsp" system's render) and read from there when it is."""
    if os.path.exists(path):
        return read64(path)
    y = dsp_render(seq, mono)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    audio.write_wav(path, y)
    return y


def prior_model(model_path, out_path):
    """The model's prior alone, as a model file the C engine runs: the output layer
    zeroed, so a mask head multiplies the prior by exactly 1 (a velocity head moves a
    noiseless start by 0). The same STFT, prior and conditioning as the model."""
    tensors, meta = export.read_safetensors(model_path)
    cfg = json.loads(meta["earflow"])
    tensors["out_conv.weight"] = np.zeros_like(tensors["out_conv.weight"])
    bias = np.zeros_like(tensors["out_conv.bias"])
    if cfg["arch"].get("head") == "mask":       # re 1, im 0 on every output channel; with
        bias[0:2 * c_out_of(cfg["kind"]):2] = 1.0    # arch.tail_gain the tail's log gains stay 0
    tensors["out_conv.bias"] = bias
    for k in ("out_gain.weight", "out_gain.bias"):
        if k in tensors:
            tensors[k] = np.zeros_like(tensors[k])
    cfg["flow"].update(sigma=0.0, solver="euler", steps=1, t0=0.0)
    cfg["provenance"] = {"notes": "the prior alone (train/evaluate_binaural.py prior_model)",
                         "train_steps": 0, "data": "none"}
    export.write_safetensors(out_path, tensors, {"earflow": json.dumps(cfg)})
    return out_path




def dsp_room_render(seq, mono, rt60=None):
    """The DSP room renderer: the simulator's direct path, early reflections and
    decorrelated tail for the room *label* (design shoebox and RT60, or rt60 s: told
    the room's decay time; listener at its centre, head still), along the ground-truth
    head-relative trajectory; what a binaural reverb with a room preset (and its decay
    set) gives. Anechoic: the DSP HRTF panner."""
    nom = binsim.nominal_room(seq.room)
    if nom is None:
        return dsp_render(seq, mono)
    dims, lis, rt = nom
    rt = rt if rt60 is None else rt60
    scene = binsim.Scene(seq.room, tuple(dims), rt, lis, binsim.inside(lis, head_path(seq, len(mono)), dims))
    y, _ = simulator().render(mono.astype(np.float32), scene, np.random.default_rng(7))
    return y.astype(np.float64)


IR_SECONDS = 0.1        # silence before the impulse in the rendered impulse response


_TRUTH_IRS = {}


def truth_ir(seq):
    """The truth's impulse response of a reverberant sequence's room at its first pose
    (head still; the simulator with the sequence's own room, meta.json), with the
    source position in the room and its (azimuth, elevation, distance) from the head;
    computed once per sequence."""
    if seq.folder not in _TRUTH_IRS:
        meta = seq.meta()
        dims, lis = np.array(meta["dims"]), np.array(meta["listener"])
        az, el, d = seq.pose_at(np.array([0]))
        az, el, d = np.radians(az[0]), np.radians(el[0]), d[0]
        v = d * np.array([np.cos(el) * np.cos(az), np.cos(el) * np.sin(az), np.sin(el)])
        src = binsim.inside(lis, v, dims)
        az, el, d = binsim.sph((src - lis)[None])
        n = int(SR * (1.4 * float(meta["rt60"]) * max(binsim.BAND_RT) + 0.2))
        truth = simulator().brir(binsim.Scene(seq.room, tuple(dims), float(meta["rt60"]), lis, src),
                                 n, np.random.default_rng(11)).astype(np.float64)
        _TRUTH_IRS[seq.folder] = (truth, src, (float(az[0]), float(el[0]), float(d[0])))
    return _TRUTH_IRS[seq.folder]


def decay_args(a, seq):
    """earflow render's --decay for a sequence: --decay's seconds; with --decay truth the
    RT60 its room was simulated with (meta.json); with --decay measured the T20 of the
    truth's impulse response at its first pose (what a user measures in the room; the
    simulator's early reflections make it differ from the nominal RT60); none for an
    anechoic one."""
    v = decay_value(a, seq)
    return [] if v is None else ["--decay", "%.4f" % v]


def decay_value(a, seq):
    """The decay time (s) --decay tells the model, the prior and the DSP room renderer
    told the RT60 for this sequence; None: not told."""
    if not a.decay or seq.room == "anechoic":
        return None
    if a.decay == "truth":
        return seq.rt60()
    if a.decay == "measured":
        return float(realism.decay_time(truth_ir(seq)[0]))
    return float(a.decay)


def impulse_responses(a, seqs, systems, work):
    """Per reverberant sequence: the room's impulse response at the sequence's first
    pose (head still), from the truth (the simulator with the sequence's own room,
    meta.json) and from every system (the model and the prior by `earflow render` of
    an impulse with --azimuth/--elevation/--distance/--room), and its decay time
    (T20, 500 Hz-1 kHz) and direct-to-reverberant ratio. Returns {system: {room:
    [(t20, t20_truth, drr, drr_truth), ...]}}, and the responses of each room's first
    sequence ({room: {system or "truth": [2, n]}}) for the decay plot."""
    out, curves = {}, {}
    for seq in seqs:
        if seq.room == "anechoic":
            continue
        meta = seq.meta()
        truth, src, (az, el, d) = truth_ir(seq)
        lis, n = np.array(meta["listener"]), truth.shape[-1]
        t_truth, d_truth = realism.decay_time(truth), realism.drr_db(truth)
        keep = seq.room not in curves            # the first sequence of each room is drawn
        if keep:
            curves[seq.room] = {"truth": truth}
        x = np.zeros(int(IR_SECONDS * SR) + n)
        x[int(IR_SECONDS * SR)] = 0.5
        imp = os.path.join(work, "impulse_%d.wav" % n)
        if not os.path.exists(imp):
            audio.write_wav(imp, x)
        for label, (kind, sched, key) in systems.items():
            if kind in ("model", "prior"):
                o = os.path.join(work, "ir_%s_%s.wav" % (key, os.path.basename(seq.folder)))
                y = render(a.earflow, a.model if kind == "model" else a.prior_file, imp, o, sched,
                           ["--room", seq.room, "--azimuth", "%.3f" % az, "--elevation", "%.3f" % el,
                            "--distance", "%.3f" % max(d, 0.3)] + decay_args(a, seq))
                y = np.asarray(y, np.float64)[:, int(IR_SECONDS * SR) - 480:]
            elif kind == "dsp":
                y, _ = simulator().direct(x[int(IR_SECONDS * SR) - 480:].astype(np.float32),
                                          binsim.Scene("anechoic", src=src - lis))
            elif kind in ("dsp_room", "dsp_room_rt"):
                dn, ln, rt = binsim.nominal_room(seq.room)
                rt = decay_value(a, seq) if kind == "dsp_room_rt" else rt
                y = simulator().brir(binsim.Scene(seq.room, tuple(dn), rt, ln, binsim.inside(ln, src - lis, dn)),
                                     n, np.random.default_rng(13))
            else:
                continue
            y = np.asarray(y, np.float64)
            if keep:
                curves[seq.room][label] = y
            out.setdefault(label, {}).setdefault(seq.room, []).append(
                (realism.decay_time(y), t_truth, realism.drr_db(y), d_truth))
    return out, curves


def realism_plots(results, curves, outdir):
    """Coherence per octave band and room (each system against the truth), and the
    energy decay (500 Hz-1 kHz, both ears) of each room's first impulse response."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    rooms = [r for r in binsim.ROOMS if any(r in v for v in results.values())]
    fig, ax = plt.subplots(1, len(rooms), figsize=(3.2 * len(rooms), 3.2), sharey=True)
    ax = np.atleast_1d(ax)
    for i, room in enumerate(rooms):
        truth_drawn = False
        for label, per in results.items():
            bands = per.get(room, {}).get("ic_bands", {})
            if not bands or label == "mono copy":
                continue
            fc = sorted(int(b) for b in bands)
            if not truth_drawn:
                ax[i].plot(fc, [bands[str(b)][2] for b in fc], "k-", lw=2, label="truth")
                truth_drawn = True
            ax[i].plot(fc, [bands[str(b)][1] for b in fc], "o--", ms=3, label=label.split(",")[0][:22])
        ax[i].set_xscale("log")
        ax[i].set(title=room, xlabel="octave band (Hz)", ylim=(0, 1.02))
        ax[i].grid(alpha=0.3)
    _save_row(fig, ax, "interaural coherence", os.path.join(outdir, "coherence_per_band.png"))
    if not curves:
        return
    fig, ax = plt.subplots(1, len(curves), figsize=(3.4 * len(curves), 3.2), sharey=True)
    ax = np.atleast_1d(ax)
    for i, (room, irs) in enumerate(curves.items()):
        for label, ir in irs.items():
            start = int(np.argmax(np.sum(ir ** 2, axis=0)))
            y = [acoustics.signal.sosfiltfilt(acoustics.octave_sos(fc), ch)[start:]
                 for ch in ir for fc in realism.DECAY_BANDS]
            d = acoustics.edc_db(np.sqrt(np.sum([v ** 2 for v in y], axis=0)))   # both ears, both bands
            ax[i].plot(np.arange(len(d)) / SR, d, "k-" if label == "truth" else "--", lw=2 if label == "truth" else 1,
                       label=label.split(",")[0][:22])
        ax[i].set(title=room, xlabel="s after the direct sound", ylim=(-60, 1))
        ax[i].grid(alpha=0.3)
    _save_row(fig, ax, "energy decay, 500 Hz-1 kHz (dB)", os.path.join(outdir, "decay_curves.png"))


def _save_row(fig, ax, ylabel, path):
    """A row of per-room panels: the y label on the first, the legend on the last."""
    import matplotlib.pyplot as plt
    ax[0].set_ylabel(ylabel)
    ax[-1].legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=80)
    plt.close(fig)


def ir_table(irs, rooms):
    """Decay time and DRR per room and system: mean (95 % CI) of the render, the truth's
    mean, and the mean relative decay-time error |T/T_truth - 1|."""
    lines = ["| room | system | n | T20 (s) | T20 truth (s) | T20 error (%) | DRR (dB) | DRR truth (dB) |",
             "|---|---|---|---|---|---|---|---|"]
    for room in rooms:
        for label, per in irs.items():
            v = np.array(per.get(room, []), dtype=np.float64)
            if not len(v):
                continue
            t, th = mean_ci(v[:, 0]), mean_ci(np.abs(v[:, 0] / v[:, 1] - 1) * 100)
            dr = mean_ci(v[:, 2])
            lines.append("| %s | %s | %d | %.3f ± %.3f | %.3f | %.0f ± %.0f | %.1f ± %.1f | %.1f |" % (
                room, label, len(v), t[0], t[1], float(np.mean(v[:, 1])), th[0], th[1], dr[0], dr[1],
                float(np.mean(v[:, 3]))))
    return "\n".join(lines) + "\n"


def add_travel_time(seq, y):
    """The model renders interaural differences only (train_binaural.py --align): the travel
    time from the source, r/c plus the nearer ear's HRIR onset, is the host's to add,
    as in game-audio binaural renderers. Add it here, per sample along the ground-truth
    trajectory (linear interpolation), so that the model's output lines up with the
    recording; the DSP baseline has it from the simulator already."""
    n = y.shape[-1]
    at = np.arange(len(seq.rows)) * layout.SAMPLES_PER_ROW
    az, el, dist = seq.pose_at(at)
    onset = np.min(simulator().h.onset_at(az, el), axis=-1)
    d_rows = np.maximum(0.0, dist / binsim.C * SR + onset)
    d = np.interp(np.arange(n), at, d_rows)
    src = np.arange(n) - d
    out = np.zeros_like(y)
    ok = src >= 0
    for c in range(y.shape[0]):
        out[c, ok] = np.interp(src[ok], np.arange(n), y[c])
    return out


# ---------------------------------------------------------------------- tables


def per_file_scores(met):
    """One sequence's headline errors from all_metrics: ILD (dB) and ITD (us) over the
    counted cells (and over the direct-sound ones), coherence error averaged over the
    bands with cells, Amplitude."""
    ic = np.asarray(met["ic"])
    ok = ic[:, 3] > 0
    mean = lambda k: met[k][0] / met[k][1] if met[k][1] else float("nan")   # noqa: E731
    return {"ild_db": mean("ild"), "itd_us": mean("itd"),
            "ild_direct_db": mean("ild_direct"), "itd_direct_us": mean("itd_direct"),
            "ic_err": float(np.mean(ic[ok, 0] / ic[ok, 3])) if ok.any() else float("nan"),
            "amp": met["amp"]}


PAIRED_KEYS = (("ild_db", "ILD err (dB)", "%+.3f"), ("itd_us", "ITD err (us)", "%+.1f"),
               ("ic_err", "coherence err", "%+.4f"), ("amp", "Amplitude", "%+.4f"))
DIRECT_KEYS = (("ild_direct_db", "ILD err, direct-sound cells (dB)", "%+.3f"),
               ("itd_direct_us", "ITD err, direct-sound frames (us)", "%+.1f"))


def in_rooms(room, rooms_name):
    """Whether `room` belongs to a group of rooms: a room's name, "reverberant" or "all"."""
    return rooms_name == "all" or (room != "anechoic" if rooms_name == "reverberant" else room == rooms_name)


def paired_table(per_seq, base, labels, room_of, rooms=("anechoic", "all"), keys=PAIRED_KEYS):
    """Markdown: each label's per-sequence difference from `base` (the same sequences,
    label minus base), mean and 95 % t interval, per group of rooms (a room's name,
    "reverberant" or "all"). per_seq {label: {sequence: per_file_scores}}."""
    from scipy import stats
    out = "| %s | rooms | n | %s |\n|---|---|---|%s\n" % (
        "minus " + base, " | ".join(k[1] for k in keys), "---|" * len(keys))
    for label in labels:
        for rooms_name in rooms:
            names = [n for n in per_seq[base]
                     if n in per_seq[label] and in_rooms(room_of[n], rooms_name)]
            cells = []
            for k, _, fmt in keys:
                d = np.array([per_seq[label][n].get(k, np.nan) - per_seq[base][n].get(k, np.nan)
                              for n in names], np.float64)      # (older results lack some keys)
                d = d[np.isfinite(d)]
                if len(d) < 2:
                    cells.append("-")
                    continue
                half = stats.t.ppf(0.975, len(d) - 1) * d.std(ddof=1) / np.sqrt(len(d))
                cells.append((fmt + " ± " + fmt.replace("+", "")) % (d.mean(), half))
            out += "| %s | %s | %d | %s |\n" % (label, rooms_name, len(names), " | ".join(cells))
    return out


EL_BINS = ((-40, -10), (-10, 10), (10, 40), (40, 91))    # degrees, a sequence's mean elevation


def elevation_bin(seq):
    """The elevation bin of a sequence's mean source elevation, as a row label."""
    _, el, _ = seq.pose_at(np.arange(len(seq.rows)) * layout.SAMPLES_PER_ROW)
    m = float(np.mean(el))
    for lo, hi in EL_BINS:
        if lo <= m < hi:
            return "el %+d..%+d" % (lo, min(hi, 90))
    return "el %+d..%+d" % EL_BINS[0] if m < EL_BINS[0][0] else "el %+d..%+d" % (EL_BINS[-1][0], 90)


def table(results, systems, rooms, first="room", with_all=True):
    lines = []
    hdr = "| %s | system | " % first + " | ".join(HEAD[m] for m in METRICS) + " |"
    lines.append(hdr)
    lines.append("|" + "---|" * (2 + len(METRICS)))
    for room in list(rooms) + (["all"] if with_all else []):
        for sys_ in systems:
            r = results[sys_].get(room)
            if not r:
                continue
            vals = []
            for m in METRICS:
                if m == "ic_out":       # the render's mean coherence, the truth's beside it
                    vals.append("%.3f (%.3f)" % (r["ic_mean"], r["ic_truth"]))
                    continue
                v = r[m]
                vals.append("%.4f" % v if m in ("amp",) else
                            "%.1f" % v if m in ("itd_us", "itd_all_us", "itd_direct_us") else "%.3f" % v)
            lines.append("| %s | %s | %s |" % (room, sys_, " | ".join(vals)))
    return "\n".join(lines) + "\n"


# ---------------------------------------------------------------------- plots


def plots(a, cfg, seqs, outdir, earflow):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    tmp = os.path.join(outdir, "work")
    os.makedirs(tmp, exist_ok=True)
    # a dry test source: the first speech sequence's mono (else the first), 2 s
    pick = None
    for s in seqs:
        if s.meta().get("kind") == "speech":
            pick = s
            break
    pick = pick or seqs[0]
    mono = read64(os.path.join(pick.folder, "mono.wav"))
    e = np.convolve(mono ** 2, np.ones(4800), "valid")
    st = int(np.argmax(e)) // 2
    st = max(0, min(st, len(mono) - 2 * SR))
    x = mono[st:st + 2 * SR]
    x = x / (np.max(np.abs(x)) + 1e-9) * 0.5
    src = os.path.join(tmp, "sweep_src.wav")
    audio.write_wav(src, x)
    def sweep(points):
        """ITD and broadband ILD of the model (C render) and the truth at 1.5 m,
        anechoic, for each (azimuth, elevation)."""
        res = {"model": ([], []), "truth": ([], [])}
        for az, el in points:
            o = os.path.join(tmp, "sweep_%d_%d.wav" % (az, el))
            render(earflow, a.model, src, o, extra=["--room", "anechoic", "--azimuth", str(az),
                                                    "--elevation", str(el), "--distance", "1.5"])
            pm = read64(o)
            ra, re_ = np.radians(az), np.radians(el)
            scene = binsim.Scene("anechoic", src=(1.5 * np.cos(re_) * np.cos(ra), 1.5 * np.cos(re_) * np.sin(ra),
                                                  1.5 * np.sin(re_)))
            gt, _ = simulator().direct(x.astype(np.float32), scene)
            for key, y in (("model", pm), ("truth", gt)):
                y = y[:, 2400:]
                res[key][0].append(acoustics.itd_gcc_phat(y[0], y[1], up=8, fmax=1500.0) * 1e6)
                res[key][1].append(acoustics.ild_db(y[0], y[1]))
        return res

    for axis, values, fixed in (("azimuth", np.arange(-180, 181, 15), "el 0"),
                                ("elevation", np.arange(-40, 91, 10), "az 60")):
        res = sweep([(v, 0) for v in values] if axis == "azimuth" else [(60, v) for v in values])
        fig, ax = plt.subplots(1, 2, figsize=(10, 3.6))
        for key, st_ in (("truth", "k-"), ("model", "C1o--")):
            ax[0].plot(values, res[key][0], st_, label=key, ms=4)
            ax[1].plot(values, res[key][1], st_, label=key, ms=4)
        unit = "azimuth (deg, +90 = left)" if axis == "azimuth" else "elevation (deg)"
        ax[0].set(xlabel=unit, ylabel="ITD (us, + = left leads)", title="ITD, anechoic, 1.5 m, " + fixed)
        ax[1].set(xlabel=unit, ylabel="ILD (dB, + = left louder)",
                  title="ILD (broadband), anechoic, 1.5 m, " + fixed)
        for x_ in ax:
            x_.grid(alpha=0.3)
            x_.legend()
            if axis == "azimuth":
                x_.set_xticks(range(-180, 181, 45))
        fig.tight_layout()
        fig.savefig(os.path.join(outdir, "itd_ild_vs_%s.png" % axis), dpi=80)
        plt.close(fig)
        with open(os.path.join(outdir, "itd_ild_vs_%s.json" % axis), "w") as f:
            json.dump({axis: values.tolist(), "itd_us": {k: list(map(float, v[0])) for k, v in res.items()},
                       "ild_db": {k: list(map(float, v[1])) for k, v in res.items()}}, f, indent=1)

    # spectrograms of one example (a room sequence)
    ex = a.example
    if ex is None:
        for s in seqs:
            if s.room != "anechoic":
                ex = s.folder
                break
        ex = ex or seqs[0].folder
    seq = layout.Sequence(ex)
    name = os.path.basename(ex)
    files = {"mono copy": None, "target": os.path.join(ex, "binaural.wav"),
             "model": os.path.join(a.out, "renders", "model_default", name + ".wav"),
             "DSP": os.path.join(a.out, "renders", "dsp", name + ".wav")}
    sig = {}
    m = read64(os.path.join(ex, "mono.wav"))
    sig["mono copy"] = np.stack([m, m])
    for k, p in files.items():
        if p and os.path.exists(p):
            sig[k] = read64(p)
    keys = [k for k in ("mono copy", "target", "model", "DSP") if k in sig]
    fig, ax = plt.subplots(len(keys), 2, figsize=(10, 2.0 * len(keys)), sharex=True, sharey=True)
    ax = np.atleast_2d(ax)
    for i, k in enumerate(keys):
        for c in range(2):
            S = np.abs(_stft(sig[k][c:c + 1], 1024, 256, 1024)[0]).T
            ax[i, c].imshow(20 * np.log10(S + 1e-6), origin="lower", aspect="auto", vmin=-60, vmax=30,
                            extent=[0, S.shape[1] * 256 / SR, 0, SR / 2000], cmap="magma")
            ax[i, c].set_title("%s, %s ear" % (k, "left" if c == 0 else "right"), fontsize=9)
            ax[i, c].set_ylabel("kHz")
    ax[-1, 0].set_xlabel("s")
    ax[-1, 1].set_xlabel("s")
    fig.suptitle("%s (room %s)" % (name, seq.room), fontsize=10)
    fig.tight_layout()
    fig.savefig(os.path.join(outdir, "spectrograms.png"), dpi=60)
    plt.close(fig)


# ---------------------------------------------------------------------- main


def main(argv=None):
    import torch
    torch.set_num_threads(1)
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.path.join(HERE, "data", "binaural"))
    ap.add_argument("--split", default="testset")
    ap.add_argument("--model", default=os.path.join(ROOT, "models", "binaural.safetensors"))
    ap.add_argument("--earflow", default=os.path.join(ROOT, "build", "cli", "earflow"))
    ap.add_argument("--out", default=os.path.join(ROOT, "out", "eval"))
    ap.add_argument("--settings", default="default",
                    help="comma list: default or solver:steps:t0 (e.g. default,euler:2:0,midpoint:1:0)")
    ap.add_argument("--limit", type=int, default=0, help="first N sequences only (0: all)")
    ap.add_argument("--per-room", type=int, default=0, help="first N sequences of each room only (0: all)")
    ap.add_argument("--default-room", default=None)
    ap.add_argument("--no-baselines", action="store_true")
    ap.add_argument("--cache", default=None, help="folder of cached baseline metrics (default OUT/cache)")
    ap.add_argument("--baselines-only", action="store_true", help="only the DSP and mono-copy rows (cached)")
    ap.add_argument("--plots", action="store_true")
    ap.add_argument("--no-impulse", action="store_true", help="no impulse-response table (decay, DRR)")
    ap.add_argument("--decay", default="",
                    help="the model's and the prior's decay control in reverberant rooms: seconds, "
                         "'truth' (each sequence's simulated RT60) or 'measured' (the T20 of its "
                         "true impulse response); default: none (each room's own)")
    ap.add_argument("--no-travel-time", action="store_true",
                    help="score the model's output as rendered (no travel time added)")
    ap.add_argument("--example", default=None, help="sequence folder for the spectrogram plot")
    a = ap.parse_args(argv)
    t_start = time.time()
    cfg = model_config(a.model)
    settings = flow.parse_schedules(a.settings, cfg["flow"])
    default = flow.parse_schedules("default", cfg["flow"])[0]
    dirs = layout.find_sequences(os.path.join(a.data, a.split))
    if a.limit:
        dirs = dirs[:a.limit]
    seqs = [layout.Sequence(d, default_room=a.default_room) for d in dirs]
    if a.per_room:
        seqs = [s for r in binsim.ROOMS for s in [q for q in seqs if q.room == r][:a.per_room]]
    rooms = [r for r in binsim.ROOMS if any(s.room == r for s in seqs)]
    os.makedirs(a.out, exist_ok=True)
    rdir = os.path.join(a.out, "renders")
    systems = {}
    for s in ([] if a.baselines_only else settings):
        label = "model, %s%s" % (flow.schedule_name(s), " (default)" if s == default else "")
        key = "model_default" if s == default else "model_%s_%d_%g" % s
        systems[label] = ("model", s, key)
    if not a.no_baselines:
        if not a.baselines_only:
            a.prior_file = prior_model(a.model, os.path.join(a.out, "prior.safetensors"))
            systems["prior alone"] = ("prior", default, "prior")
        systems["DSP HRTF (anechoic, no room)"] = ("dsp", None, "dsp")
        systems["DSP room (room label)"] = ("dsp_room", None, "dsp_room")
        if a.decay in ("truth", "measured"):   # the renderer told the room's RT60 too
            told = "the sequence's RT60" if a.decay == "truth" else "the measured T20"
            systems["DSP room (room label, %s)" % told] = ("dsp_room_rt", None, "dsp_room_" + a.decay)
        systems["mono copy"] = ("mono", None, None)
    per = {k: {} for k in systems}
    per_seq = {k: {} for k in systems}   # the same items by sequence, for paired differences
    by_el = {k: {} for k in systems}     # the same items, by elevation bin
    el_of = {s.folder: elevation_bin(s) for s in seqs}
    for i, seq in enumerate(seqs):
        name = os.path.basename(seq.folder)
        gt = read64(os.path.join(seq.folder, "binaural.wav"))
        mono_path = os.path.join(seq.folder, "mono.wav")
        mono = read64(mono_path)
        traj = os.path.join(a.out, "work", name + ".traj")
        os.makedirs(os.path.dirname(traj), exist_ok=True)
        write_trajectory(seq, traj)
        direct = direct_masks(gt, direct_sound(seq, mono, os.path.join(rdir, "dsp", name + ".wav")))
        for label, (kind, s, key) in systems.items():
            cache = None
            if kind not in ("model", "prior"):   # the DSP baselines do not depend on the model: cached
                cache = os.path.join(a.cache or os.path.join(a.out, "cache"), a.split, key or kind, name + ".json")
                met = json.load(open(cache)) if os.path.exists(cache) else {}
                if "itd_direct" in met:       # older caches lack it: measured again
                    per[label].setdefault(seq.room, []).append(met)
                    per_seq[label][name] = per_file_scores(met)
                    by_el[label].setdefault(el_of[seq.folder], []).append(met)
                    continue
            if kind in ("model", "prior"):
                o = os.path.join(rdir, key, name + ".wav")
                os.makedirs(os.path.dirname(o), exist_ok=True)
                render(a.earflow, a.model if kind == "model" else a.prior_file, mono_path, o, s,
                       ["--trajectory", traj, "--room", seq.room] + decay_args(a, seq))
                y = read64(o)
                if not a.no_travel_time:
                    y = add_travel_time(seq, y)
            elif kind in ("dsp", "dsp_room", "dsp_room_rt"):
                o = os.path.join(rdir, key, name + ".wav")
                if os.path.exists(o):
                    y = read64(o)
                else:
                    y = dsp_render(seq, mono) if kind == "dsp" else \
                        dsp_room_render(seq, mono, decay_value(a, seq) if kind == "dsp_room_rt" else None)
                    os.makedirs(os.path.dirname(o), exist_ok=True)
                    audio.write_wav(o, y)
            else:
                y = np.stack([mono, mono])
            met = all_metrics(y, gt, direct)
            if cache:
                os.makedirs(os.path.dirname(cache), exist_ok=True)
                with open(cache, "w") as f:
                    json.dump(met, f)
            per[label].setdefault(seq.room, []).append(met)
            per_seq[label][name] = per_file_scores(met)
            by_el[label].setdefault(el_of[seq.folder], []).append(met)
        print("evaluate: %d/%d %s (%s), %.0f s" % (i + 1, len(seqs), name, seq.room, time.time() - t_start),
              flush=True)
    results = {}
    for label in systems:
        results[label] = {room: pool(per[label].get(room, [])) for room in rooms}
        results[label]["all"] = pool([m for room in rooms for m in per[label].get(room, [])])
    md = table(results, list(systems), rooms)
    bins = [b for b in ("el %+d..%+d" % (lo, min(hi, 90)) for lo, hi in EL_BINS) if b in set(el_of.values())]
    results_el = {label: {b: pool(by_el[label].get(b, [])) for b in bins} for label in systems}
    md += ("\nBy the sequence's mean source elevation (degrees), all rooms:\n\n"
           + table(results_el, list(systems), bins, first="elevation", with_all=False))
    models = [label for label, v in systems.items() if v[0] == "model"]
    if len(models) > 1:      # what more evaluations buy, paired on the same sequences
        room_of = {os.path.basename(s.folder): s.room for s in seqs}
        md += ("\nEach schedule against the first, paired by sequence (its error minus the "
               "first's; mean and 95 % t interval over the sequences; negative is better):\n\n"
               + paired_table(per_seq, models[0], models[1:], room_of))
    irs, curves = {}, {}
    if not a.no_impulse:
        irs, curves = impulse_responses(a, seqs, {k: v for k, v in systems.items() if v[0] != "mono"},
                                        os.path.join(a.out, "work"))
        md += ("\nImpulse responses (each reverberant sequence's room at its first pose, head "
               "still): T20 from the Schroeder decay, 500 Hz-1 kHz octaves, both ears; DRR with "
               "the direct sound 1 ms before to 2.5 ms after the peak (capped at 60 dB).\n\n")
        md += ir_table(irs, [r for r in rooms if r != "anechoic"])
    # the training split is scored only to ask how well a model fits what it trained on
    head = ("%s `%s` of `%s`: %d sequences, %.1f min; outputs of C `earflow render`; "
            "model `%s`%s.\n\n" % ("Training split" if a.split.startswith("train") else "Held-out",
                                   a.split, a.data, len(seqs), sum(s.length for s in seqs) / SR / 60,
                                   os.path.relpath(a.model, ROOT) if a.model.startswith(ROOT) else a.model,
                                   "" if not a.decay else
                                   "; the model's and the prior's decay control at each sequence's RT60"
                                   if a.decay == "truth" else
                                   "; the model's and the prior's decay control at the T20 measured on "
                                   "each sequence's true impulse response" if a.decay == "measured"
                                   else "; the decay control at %s s" % a.decay))
    with open(os.path.join(a.out, "table.md"), "w") as f:
        f.write(head + md)
    with open(os.path.join(a.out, "results.json"), "w") as f:
        json.dump({"results": results, "settings": [list(s) for s in settings], "config_flow": cfg["flow"],
                   "provenance": cfg.get("provenance"), "split": a.split, "data": a.data,
                   "model": os.path.relpath(a.model, ROOT) if a.model.startswith(ROOT) else a.model,
                   "impulse_responses": irs, "by_elevation": results_el,
                   "files": [s.folder for s in seqs], "per_sequence": per_seq}, f, indent=1)
    print(head + md, flush=True)
    if a.plots:
        plots(a, cfg, seqs, a.out, a.earflow)
        realism_plots(results, curves, a.out)
        print("plots in", a.out)
    print("evaluate: done in %.0f s" % (time.time() - t_start))
    return results


if __name__ == "__main__":
    main()
