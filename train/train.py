"""Train an earflow binaural model (the PyTorch twin, train/model.py) on a dataset in
the public binaural layout (train/layout.py), resumably, and export it.

    /usr/bin/python3 train/train.py --data train/data/binaural --run train/runs/NAME \
        [--minutes 45 | --steps N] [recipe options]     # resumes from RUN/last.pt
    /usr/bin/python3 train/export.py --checkpoint train/runs/NAME/last.pt --out models/binaural.safetensors

Recipe (what is predicted, see docs/model-spec.md): the state starts at the prior
z = [Xc_mono, Xc_mono] (+ sigma * eps), x_t = t * y + (1 - t) * z (+ noise), and the
network predicts the velocity y - z. With sigma 0 and t = 0 ("--t-sampling zero"),
one Euler step from t0 = 0 is exactly a direct prediction of the binaural spectrum
(predictive training), the cheapest schedule (1 evaluation per frame).

Loss: L1 on the velocity in the compressed domain (real layout), plus optional
--mag-weight * L1 on compressed magnitudes of the one-step estimate and
--mrstft-weight * a multi-resolution STFT loss on the waveforms after the ISTFT.

Conditioning equals what the C engine computes: per frame m the pose at the last
sample of hop m (layout.Sequence.crop with frame_hop = hop), features and smoothing
from earflow_dsp (spec section 2), smoothing restarted at the crop start (as after
an engine reset).

Deterministic by --seed: batch k is items 0..B-1 of BinauralDataset epoch k, so a
resumed run sees exactly the batches it would have seen. Runs on CPU torch 1.13 and
on CUDA torch 2.x (--device auto picks CUDA when available).
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as Fn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import binsim  # noqa: E402
import earflow_dsp as dsp  # noqa: E402
import layout  # noqa: E402
from export import export, init_state  # noqa: E402
from model import EarflowUNet  # noqa: E402

SR = 48000


def make_config(a):
    widths = [int(w) for w in a.widths.split(",")]
    L = len(widths) - 1
    cfg = {"format": "earflow-model", "version": 1, "kind": "binaural", "sample_rate": SR,
           "n_fft": a.n_fft, "hop": a.hop, "window": "sqrt_hann",
           "compress": {"alpha": a.alpha, "beta": a.beta},
           "arch": {"widths": widths, "kt": 3, "groups": a.groups, "emb_dim": a.emb_dim,
                    "fourier_dim": 16,
                    "dil_enc": [2 ** l for l in range(L)],
                    "dil_mid": [int(d) for d in a.dil_mid.split(",")],
                    "dil_dec": [2 ** l for l in reversed(range(L))],
                    "freq_emb": True, "head": a.head},
           "conditioning": {"smoothing_ms": 20, "rooms": list(binsim.ROOMS),
                            "dist_min": binsim.DIST_MIN, "dist_max": binsim.DIST_MAX,
                            "prior": a.prior},
           "flow": {"sigma": a.sigma, "solver": a.solver, "steps": a.steps_default, "t0": a.t0},
           "provenance": {}}
    if a.out_gain:
        cfg["arch"]["out_gain"] = True
    return cfg


# ------------------------------------------------------------------ signal path


class Frontend:
    """Batched STFT / compression / ISTFT in torch, identical to earflow_dsp (spec
    section 1) for a crop of n samples (n a multiple of hop): front pad N - hop, no
    tail, frames m = 0..n/hop - 1."""

    def __init__(self, cfg, device):
        self.N, self.hop = cfg["n_fft"], cfg["hop"]
        self.alpha = cfg["compress"]["alpha"]
        self.beta = cfg["compress"]["beta"]
        self.F = self.N // 2
        self.win = torch.from_numpy(dsp.sqrt_hann(self.N)).float().to(device)
        self.swin = torch.from_numpy(dsp.synthesis_window(self.N, self.hop)).float().to(device)

    def stft(self, x):
        """x [B, n] -> complex [B, T, F] (Nyquist dropped)."""
        xp = Fn.pad(x, (self.N - self.hop, 0))
        X = torch.stft(xp, self.N, self.hop, window=self.win, center=False,
                       normalized=False, onesided=True, return_complex=True)
        return X[:, :self.F, :].transpose(1, 2)

    def compress(self, X):
        """complex [B, C, T, F] -> real layout [B, 2C, T, F]."""
        g = self.beta * (X.real ** 2 + X.imag ** 2 + 1e-12) ** ((self.alpha - 1) / 2)
        R = torch.stack([X.real * g, X.imag * g], dim=2)          # [B, C, 2, T, F]
        return R.flatten(1, 2)

    def decompress(self, R):
        """real layout [B, 2C, T, F] -> complex [B, C, T, F]."""
        re, im = R[:, 0::2] / self.beta, R[:, 1::2] / self.beta
        g = (re * re + im * im + 1e-12) ** ((1 / self.alpha - 1) / 2)
        return torch.complex(re * g, im * g)

    def istft(self, Y):
        """complex [B, C, T, F] -> waveform [B, C, n] (aligned, as earflow_dsp.istft)."""
        B, C, T, F = Y.shape
        Y = torch.cat([Y, torch.zeros(B, C, T, 1, dtype=Y.dtype, device=Y.device)], dim=-1)
        fr = torch.fft.irfft(Y, n=self.N, dim=-1) * self.swin       # [B, C, T, N]
        fr = fr.reshape(B * C, T, self.N).transpose(1, 2)          # [BC, N, T]
        total = (T - 1) * self.hop + self.N
        y = Fn.fold(fr, output_size=(1, total), kernel_size=(1, self.N), stride=(1, self.hop))
        y = y.reshape(B, C, total)
        s = self.N - self.hop
        return y[..., s:s + T * self.hop]


def ild_items(c, a):
    """[B] bool: crops whose room (conditioning one-hot after 5 direction features)
    is one of --ild-rooms; None: all rooms."""
    if not a.ild_rooms:
        return None
    idx = [binsim.ROOMS.index(r) for r in a.ild_rooms.split(",")]
    return c[:, 0, 5:][:, idx].sum(-1) > 0.5


ILD_BANDS = (250, 500, 1000, 2000, 4000, 8000, 16000)   # octave centres, as evaluate.py


def band_ild(fe, R, pool=8):
    """Per-band ILD (dB) of a compressed stereo spectrum R [B, 4, T, F] and the band
    energies [B, 2, T', nb] of each ear, in octave bands (ILD_BANDS) and over windows of
    `pool` frames (hop pool / 2): what evaluate.py's ILD error measures (40 ms frames)."""
    P = ((R[:, 0::2] ** 2 + R[:, 1::2] ** 2) / fe.beta ** 2 + 1e-12) ** (1.0 / fe.alpha)  # |X|^2
    f = torch.arange(fe.F, device=R.device, dtype=R.dtype) * (SR / fe.N)
    M = torch.stack([((f >= fc / math.sqrt(2)) & (f < fc * math.sqrt(2))).to(R.dtype)
                     for fc in ILD_BANDS], dim=1)                      # [F, nb]
    E = P @ M                                                          # [B, 2, T, nb]
    E = Fn.avg_pool2d(E, (pool, 1), stride=(pool // 2, 1))             # [B, 2, T', nb]
    ild = 10.0 * torch.log10((E[:, 0] + 1e-10) / (E[:, 1] + 1e-10))
    return ild, E


def band_floor(fe, device, dtype):
    """[nb] one ear's 16-bit quantization noise power per band (per frame, as band_ild
    measures it: sqrt-Hann analysis, power sum over bins), times 100 (20 dB above)."""
    q = (2.0 ** -15) ** 2 / 12.0 * float((fe.win ** 2).sum())     # per bin, one ear
    f = torch.arange(fe.F, device=device, dtype=dtype) * (SR / fe.N)
    bins = torch.stack([((f >= fc / math.sqrt(2)) & (f < fc * math.sqrt(2))).sum()
                        for fc in ILD_BANDS]).to(dtype)
    return 100.0 * q * bins


def ild_loss(fe, yhat, y, items=None):
    """Mean |ILD(estimate) - ILD(target)| in dB over the (window, band) cells whose
    target energy (both ears) is within 30 dB of that band's loudest window in the crop
    and whose target ears are each 20 dB above 16-bit quantization noise, as evaluate.py
    counts them; `items` [B] bool: the crops that count (None: all)."""
    ip, _ = band_ild(fe, yhat)
    it, et = band_ild(fe, y)
    es = et.sum(1)
    mx = es.amax(dim=1, keepdim=True)
    # quantization noise is independent at each ear (no ILD): a crop without real
    # content in a band, or an ear at the noise floor, must not teach that ILD
    floor = band_floor(fe, y.device, y.dtype)
    ok = ((es > mx * 1e-3) & (et[:, 0] > floor) & (et[:, 1] > floor)).to(yhat.dtype)
    if items is not None:
        ok = ok * items.to(yhat.dtype)[:, None, None]
    return ((ip - it).abs() * ok).sum() / ok.sum().clamp(min=1.0)


def ipd_loss(fe, yhat, y, items=None, fmax=1500.0):
    """Weighted mean of 1 - cos(IPD(estimate) - IPD(target)) over bins below fmax, the
    weight being the target's |L||R| (compressed): the interaural phase that GCC-PHAT's
    ITD reads; `items` [B] bool as ild_loss."""
    k = int(fmax * fe.N / SR) + 1
    def cross(R):
        lr, li, rr, ri = R[:, 0, :, :k], R[:, 1, :, :k], R[:, 2, :, :k], R[:, 3, :, :k]
        return lr * rr + li * ri, li * rr - lr * ri          # L conj(R)
    pr, pi = cross(yhat)
    tr, ti = cross(y)
    wt = (tr ** 2 + ti ** 2 + 1e-16).sqrt()
    cosd = (pr * tr + pi * ti) / ((pr ** 2 + pi ** 2 + 1e-16).sqrt() * wt)
    if items is not None:
        wt = wt * items.to(wt.dtype)[:, None, None]
    return ((1.0 - cosd) * wt).sum() / wt.sum().clamp(min=1e-12)


def mrstft_loss(p, g, resolutions=((512, 128), (1024, 256), (2048, 512))):
    """p, g [B, C, n]: mean over resolutions of spectral convergence + log-mag L1."""
    p = p.reshape(-1, p.shape[-1])
    g = g.reshape(-1, g.shape[-1])
    tot = 0.0
    for nfft, hop in resolutions:
        w = torch.hann_window(nfft, device=p.device)
        P = torch.stft(p, nfft, hop, window=w, return_complex=True).abs()
        G = torch.stft(g, nfft, hop, window=w, return_complex=True).abs()
        sc = torch.linalg.norm(G - P) / (torch.linalg.norm(G) + 1e-7)
        lm = (torch.log(G + 1e-5) - torch.log(P + 1e-5)).abs().mean()
        tot = tot + sc + lm
    return tot / len(resolutions)


# ------------------------------------------------------------------------ data


HRTF = [None]


def aligned_crop(ds, i, align):
    """Item i of the dataset's epoch (the same crop as ds[i]); with align, the binaural
    target is read `round(r / c * SR)` samples later (r: the source distance at the crop
    centre), i.e. the common propagation delay is removed and only the interaural
    differences stay: a frame-synchronous network cannot learn a delay of up to 29 ms
    (10 m) as a per-bin phase rotation, and the complex L1 then only learns the mono copy."""
    c = ds[i]
    if not align:
        return c
    rng = np.random.default_rng((ds.seed, ds.epoch, i))
    u = rng.uniform(0, ds.cum[-1])
    k = min(int(np.searchsorted(ds.cum, u, side="right")), len(ds.seqs) - 1)
    start = int(u - (ds.cum[k - 1] if k else 0.0))
    seq = ds.seqs[k]
    az, el, dist = seq.pose_at([start + ds.segment // 2])
    shift = float(dist[0]) / binsim.C * SR
    if HRTF[0] is not None:      # the simulator's direct sound arrives at r/c + onset(ear)
        shift += float(np.min(HRTF[0].onset_at(az[0], el[0])))
    shift = max(0, int(round(shift)))
    b0 = min(start + shift, seq.length - ds.segment)
    bi = np.asarray(seq.binaural[b0:b0 + ds.segment], dtype=np.float32).T * layout._scale(seq.binaural)
    c["binaural"] = np.ascontiguousarray(bi)
    return c


def restrict_rooms(ds, names):
    """Keep only the dataset's sequences recorded in these rooms (a curriculum: the
    anechoic room first)."""
    ds.seqs = [q for q in ds.seqs if q.room in names]
    if not ds.seqs:
        raise SystemExit("no sequence in rooms %s" % ",".join(names))
    ds.cum = np.cumsum([q.length - ds.segment + 1 for q in ds.seqs]).astype(np.float64)


def uses_head_prior(cfg):
    return cfg["conditioning"].get("prior", "mono") == "spherical_head"


def prior_from(cond, gains):
    """cond [B, 2, T, F] compressed mono, gains [B, T, 2, 2, F] (earflow_dsp
    head_prior_gains) -> the prior [B, 4, T, F], per ear the complex product."""
    cr, ci = cond[:, 0:1], cond[:, 1:2]
    pr = gains[:, :, :, 0].permute(0, 2, 1, 3)
    pi = gains[:, :, :, 1].permute(0, 2, 1, 3)
    z = torch.stack([cr * pr - ci * pi, cr * pi + ci * pr], dim=2)     # [B, 2, 2, T, F]
    return z.flatten(1, 2)


def batch_from(ds, epoch, B, cfg, align=False):
    """Batch k (= epoch) of B crops: mono [B, n], binaural [B, 2, n], c_s [B, T, D],
    head-prior gains [B, T, 2, 2, F] (None without conditioning.prior)."""
    ds.set_epoch(epoch)
    monos, bis, cs = [], [], []
    a = dsp.smoothing_coef(cfg)
    for i in range(B):
        c = aligned_crop(ds, i, align)
        T = len(c["az"])
        params = np.stack([c["az"], c["el"], c["dist"], np.full(T, c["room"], np.float32)], axis=1)
        cs.append(dsp.smooth(dsp.params_to_features(params, cfg), a))
        monos.append(c["mono"])
        bis.append(c["binaural"])
    gains = None
    if uses_head_prior(cfg):
        gains = torch.from_numpy(np.stack([dsp.head_prior_gains(x, cfg) for x in cs]))
    return (torch.from_numpy(np.stack(monos)), torch.from_numpy(np.stack(bis)),
            torch.from_numpy(np.stack(cs)), gains)


def prepare(fe, mono, bi, device):
    """-> cond [B, 2, T, F] (compressed mono), y [B, 4, T, F] (compressed binaural)."""
    mono, bi = mono.to(device), bi.to(device)
    B = mono.shape[0]
    Xm = fe.stft(mono)[:, None]                                   # [B, 1, T, F]
    Xb = fe.stft(bi.reshape(B * 2, -1)).reshape(B, 2, Xm.shape[2], Xm.shape[3])
    return fe.compress(Xm), fe.compress(Xb)


def sample_t(mode, B, gen, device, zero_frac=0.5):
    if mode == "zero":
        return torch.zeros(B, device=device)
    u = torch.rand(B, generator=gen).to(device)
    if mode == "uniform":
        return u
    if mode == "logitnormal":
        return torch.sigmoid(torch.randn(B, generator=gen)).to(device)
    if mode == "mix":          # a share zero_frac of the batch at t = 0 (the predictive step), the rest uniform
        k = int(round(zero_frac * B))
        return torch.where(torch.arange(B, device=device) < k, torch.zeros_like(u), u)
    raise ValueError(mode)


def losses(model, fe, cond, y, c, t, sigma, gen, a, need_wave, prior=None):
    B = cond.shape[0]
    z = torch.cat([cond, cond], dim=1) if prior is None else prior   # [B, 4, T, F]
    if sigma > 0:
        eps = torch.randn(z.shape, generator=gen).to(z.device)
        z = z + sigma * eps
    tt = t[:, None, None, None]
    xt = tt * y + (1 - tt) * z
    v_true = y - z
    v = model.velocity(xt, cond, t, c, prior)
    out = {"l1": (v - v_true).abs().mean()}
    total = out["l1"]
    if a.mag_weight > 0 or need_wave or a.ild_weight > 0 or a.linmag_weight > 0 or a.ipd_weight > 0:
        yhat = xt + (1 - tt) * v                                 # one-step estimate of y
        if a.linmag_weight > 0:     # L1 on linear magnitudes: what "Amplitude" measures
            lh = ((yhat[:, 0::2] ** 2 + yhat[:, 1::2] ** 2) / fe.beta ** 2 + 1e-12) ** (0.5 / fe.alpha)
            lt = ((y[:, 0::2] ** 2 + y[:, 1::2] ** 2) / fe.beta ** 2 + 1e-12) ** (0.5 / fe.alpha)
            out["linmag"] = (lh - lt).abs().mean()
            total = total + a.linmag_weight * out["linmag"]
        if a.ipd_weight > 0:       # interaural phase below 1.5 kHz: what ITD measures
            out["ipd"] = ipd_loss(fe, yhat, y, ild_items(c, a))
            total = total + a.ipd_weight * out["ipd"]
        if a.ild_weight > 0:
            # anechoic crops only (--ild-rooms): a reverberant crop's per-frame ILD is
            # mostly its reflections', which no causal network can know in advance
            out["ild"] = ild_loss(fe, yhat, y, ild_items(c, a))
            total = total + a.ild_weight * out["ild"]
        if a.mag_weight > 0:
            mh = (yhat[:, 0::2] ** 2 + yhat[:, 1::2] ** 2 + 1e-8).sqrt()
            mt = (y[:, 0::2] ** 2 + y[:, 1::2] ** 2 + 1e-8).sqrt()
            out["mag"] = (mh - mt).abs().mean()
            total = total + a.mag_weight * out["mag"]
        if need_wave:
            wp = fe.istft(fe.decompress(yhat))
            wg = fe.istft(fe.decompress(y))
            out["mrstft"] = mrstft_loss(wp, wg)
            if a.mrstft_weight > 0:
                total = total + a.mrstft_weight * out["mrstft"]
    out["total"] = total
    return out


# -------------------------------------------------------------------- helpers


def git_commit():
    try:
        return subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except Exception:
        return ""


def lr_at(step, total, a):
    warm = min(a.warmup, max(total // 10, 1))
    if step < warm:
        return a.lr * (step + 1) / warm
    if a.schedule == "constant":
        return a.lr
    p = min(1.0, (step - warm) / max(total - warm, 1))
    return a.lr * (a.lr_final + (1 - a.lr_final) * 0.5 * (1 + math.cos(math.pi * p)))


@torch.no_grad()
def validate(model, fe, vbatch, cfg, a, device):
    """Validation on fixed crops: loss terms at t = t0 of the default schedule, and the
    full default schedule (sigma, solver, steps, t0) run offline on the crops:
    compressed-magnitude L1 and MRSTFT of its waveform against the target."""
    model.eval()
    mono, bi, c, gains = vbatch
    cond, y = prepare(fe, mono, bi, device)
    c = c.to(device)
    prior = None if gains is None else prior_from(cond, gains.to(device))
    gen = torch.Generator().manual_seed(1)
    t = torch.full((cond.shape[0],), float(cfg["flow"]["t0"]), device=device)
    lo = losses(model, fe, cond, y, c, t, cfg["flow"]["sigma"], gen, a, need_wave=False,
                prior=prior)
    fl = cfg["flow"]
    z = torch.cat([cond, cond], dim=1) if prior is None else prior
    x = z + fl["sigma"] * torch.randn(z.shape, generator=gen).to(device)
    h = (1 - fl["t0"]) / fl["steps"]
    for i in range(fl["steps"]):
        ti = fl["t0"] + h * i
        tv = torch.full((z.shape[0],), ti, device=device)
        if fl["solver"] == "euler":
            x = x + h * model.velocity(x, cond, tv, c, prior)
        else:
            xm = x + h / 2 * model.velocity(x, cond, tv, c, prior)
            x = x + h * model.velocity(xm, cond, tv + h / 2, c, prior)
    mh = (x[:, 0::2] ** 2 + x[:, 1::2] ** 2).sqrt()
    mt = (y[:, 0::2] ** 2 + y[:, 1::2] ** 2).sqrt()
    wp = fe.istft(fe.decompress(x))
    wg = fe.istft(fe.decompress(y))
    # lateralization: broadband ILD per crop (dB) of the estimate against the target's;
    # the mono copy's error is |ILD of the target|, the figure to beat
    def ild(w):
        e = w.pow(2).sum(-1) + 1e-12
        return 10.0 * torch.log10(e[:, 0] / e[:, 1])
    ild_t = ild(wg)
    model.train()
    return {"val_ild_err_db": float((ild(wp) - ild_t).abs().mean()),
            "val_band_ild_db": float(ild_loss(fe, x, y)),
            "val_band_ild_anechoic_db": float(ild_loss(fe, x, y, ild_items(c, a) if a.ild_rooms else None)),
            "val_ild_prior_db": float(ild_t.abs().mean()),
            "val_l1": float(lo["l1"]), "val_cmag": float((mh - mt).abs().mean()),
            "val_mrstft": float(mrstft_loss(wp, wg)),
            "val_wave_l2e3": float(((wp.clamp(-1, 1) - wg.clamp(-1, 1)) ** 2).mean() * 1e3)}


@torch.no_grad()
def cond_init_(model, gain, freq_emb_std=0.0):
    """Initialise the time/conditioning path so that the conditioning moves the blocks
    from the first step: with PyTorch's default init the per-block offsets proj(e) are
    ~1e-2 of the group-normalized features and the network learned to ignore the
    position (no ILD or ITD after 600 steps). He-normal fc1/fc2, proj ~ N(0, gain^2 / E)."""
    # v = 0 at the start (the mono copy): the loss starts at the trivial solution's and
    # every step has to improve on it (random output weights cost hundreds of steps)
    model.out_conv.weight.zero_()
    model.out_conv.bias.zero_()
    if model.head == "mask":   # the mask 1 + 0j: the mono copy, as above
        model.out_conv.bias[0::2] = 1.0
    if model.freq_emb is not None and freq_emb_std > 0:
        # a level-independent pattern that dominates the residual stream: the
        # per-frame group norms then scale by it, not by the signal, so the signal part
        # passes (nearly) linearly and its gain can depend on the conditioning and the bin
        model.freq_emb.normal_(0.0, freq_emb_std)
    if gain <= 0:
        return
    for lin in (model.emb.fc1, model.emb.fc2):
        lin.weight.normal_(0.0, math.sqrt(2.0 / lin.weight.shape[1]))
        lin.bias.zero_()
    for name, mod in model.named_modules():
        if name.endswith(".proj"):
            mod.weight.normal_(0.0, gain / math.sqrt(mod.weight.shape[1]))
            mod.bias.zero_()


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.path.join(HERE, "data", "binaural"),
                    help="dataset root holding trainset/ and validset/ (public binaural layout)")
    ap.add_argument("--train-split", default="trainset")
    ap.add_argument("--valid-split", default="validset")
    ap.add_argument("--rooms", default="",
                    help="train and validate on these rooms only (comma list; default all)")
    ap.add_argument("--default-room", default=None,
                    help="room for sequences without room.txt (real recordings), one of %s" % (binsim.ROOMS,))
    ap.add_argument("--run", required=True, help="run folder (checkpoints, log); resumes from RUN/last.pt")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--device", default="auto")
    ap.add_argument("--threads", type=int, default=1)
    # budget
    ap.add_argument("--steps", type=int, default=0, help="total optimisation steps (0: from --minutes)")
    ap.add_argument("--minutes", type=float, default=0.0,
                    help="wall budget; with --steps 0 the schedule length is estimated from the first steps")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--segment", type=float, default=0.5, help="crop seconds")
    # network
    ap.add_argument("--n-fft", type=int, default=512)
    ap.add_argument("--hop", type=int, default=256)
    ap.add_argument("--widths", default="16,24,32")
    ap.add_argument("--groups", type=int, default=4)
    ap.add_argument("--alpha", type=float, default=0.5, help="magnitude compression exponent (spec section 1)")
    ap.add_argument("--beta", type=float, default=0.1, help="compression scale")
    ap.add_argument("--emb-dim", type=int, default=32)
    ap.add_argument("--dil-mid", default="4,8")
    ap.add_argument("--prior", choices=["mono", "spherical_head"], default="mono",
                    help="the flow's start: the mono copy, or a rigid sphere's ears (delay + shadow)")
    ap.add_argument("--head", choices=["velocity", "mask"], default="velocity",
                    help="network output: a velocity, or a complex mask per ear on the mono spectrum")
    # flow / recipe
    ap.add_argument("--sigma", type=float, default=0.0)
    ap.add_argument("--t-sampling", choices=["zero", "uniform", "mix", "logitnormal"], default="zero")
    ap.add_argument("--t-zero-frac", type=float, default=0.5, help="with --t-sampling mix: share at t = 0")
    ap.add_argument("--solver", default="euler", help="default schedule written to the model")
    ap.add_argument("--steps-default", type=int, default=1)
    ap.add_argument("--t0", type=float, default=0.0)
    ap.add_argument("--align", type=int, default=1,
                    help="1: remove the propagation delay r/c from the targets (see aligned_crop)")
    ap.add_argument("--mag-weight", type=float, default=0.0)
    ap.add_argument("--mrstft-weight", type=float, default=0.0)
    ap.add_argument("--ild-weight", type=float, default=0.0,
                    help="weight of the octave-band ILD error (dB) of the one-step estimate")
    ap.add_argument("--linmag-weight", type=float, default=0.0,
                    help="weight of an L1 on linear STFT magnitudes of the one-step estimate")
    ap.add_argument("--ipd-weight", type=float, default=0.0,
                    help="weight of the interaural phase error below 1.5 kHz (rooms as --ild-rooms)")
    ap.add_argument("--ild-rooms", default="anechoic",
                    help="rooms whose crops the ILD loss sees (comma list; empty: all)")
    ap.add_argument("--out-gain", action="store_true",
                    help="arch.out_gain: a per-bin gain on the mask from the embedding (mask head)")
    ap.add_argument("--cond-gain", type=float, default=2.0,
                    help="init scale of the conditioning offsets (0: PyTorch default init)")
    ap.add_argument("--freq-emb-init", type=float, default=1.0, help="std of the initial freq_emb")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--lr-final", type=float, default=0.05, help="final lr as a fraction of --lr (cosine)")
    ap.add_argument("--schedule", choices=["cosine", "constant"], default="cosine")
    ap.add_argument("--warmup", type=int, default=50)
    ap.add_argument("--init", default=None, help="warm start: weights from this checkpoint (.pt) or model file (.safetensors), new optimiser")
    # logging
    ap.add_argument("--log-every", type=int, default=20)
    ap.add_argument("--val-every", type=int, default=200)
    ap.add_argument("--val-items", type=int, default=16)
    ap.add_argument("--save-every", type=int, default=100)
    ap.add_argument("--export", default=None, help="also export the final model to this path")
    a = ap.parse_args(argv)

    torch.set_num_threads(a.threads)
    device = torch.device("cuda" if (a.device == "auto" and torch.cuda.is_available()) else
                          ("cpu" if a.device == "auto" else a.device))
    os.makedirs(a.run, exist_ok=True)
    ck_path = os.path.join(a.run, "last.pt")
    log_path = os.path.join(a.run, "log.jsonl")

    torch.manual_seed(a.seed)
    np.random.seed(a.seed)
    cfg = make_config(a)
    model = EarflowUNet(cfg).to(device)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    step, total, elapsed = 0, a.steps, 0.0
    if os.path.exists(ck_path):
        ck = torch.load(ck_path, map_location=device)
        cfg = ck["config"]
        model = EarflowUNet(cfg).to(device)
        model.load_state_dict(ck["state_dict"])
        opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
        opt.load_state_dict(ck["opt"])
        step, total, elapsed = ck["step"], ck["total"], ck.get("elapsed", 0.0)
        a.__dict__.update({k: v for k, v in ck["args"].items()
                           if k not in ("run", "device", "threads", "export", "minutes", "steps")})
        if a.steps:          # an explicit --steps extends (or shortens) the schedule
            total = a.steps
        print("resumed %s at step %d of %d" % (ck_path, step, total), flush=True)
    else:
        cond_init_(model, a.cond_gain, a.freq_emb_init)
    if not os.path.exists(ck_path) and a.init:
        state = init_state(a.init, cfg, device, ("prior", "rooms"))
        # layers the source lacks (out_gain) keep their neutral init: same output
        missing, unexpected = model.load_state_dict(state, strict=False)
        if unexpected or any(not k.startswith("out_gain.") for k in missing):
            raise SystemExit("--init %s: tensors differ: missing %s, unexpected %s"
                             % (a.init, missing, unexpected))
        print("warm start from", a.init, "(new: %s)" % ", ".join(missing) if missing else "", flush=True)
    with torch.no_grad():      # Fourier frequencies of t: fixed, log-spaced 0.5..32
        model.emb.t_freqs.copy_(torch.logspace(math.log10(0.5), math.log10(32), len(model.emb.t_freqs)))

    if a.align:
        try:
            import corpus
            from hrtf import Hrtf
            HRTF[0] = Hrtf(corpus.sofa_path())
        except Exception as e:            # real recordings: r/c only
            print("align: no KEMAR onsets (%s); removing r/c only" % e, flush=True)
    fe = Frontend(cfg, device)
    hop = cfg["hop"]
    seg = int(round(a.segment * SR / hop)) * hop
    tr = layout.BinauralDataset(os.path.join(a.data, a.train_split), seg, frame_hop=hop,
                                default_room=a.default_room, seed=a.seed, items_per_epoch=a.batch)
    if a.rooms:
        restrict_rooms(tr, a.rooms.split(","))
    vdir = os.path.join(a.data, a.valid_split)
    vbatch = None
    if os.path.isdir(vdir):
        vseg = int(round(2.0 * SR / hop)) * hop
        vds = layout.BinauralDataset(vdir, vseg, frame_hop=hop, default_room=a.default_room,
                                     seed=12345, items_per_epoch=a.val_items)
        if a.rooms:
            restrict_rooms(vds, a.rooms.split(","))
        vbatch = batch_from(vds, 0, a.val_items, cfg, a.align)
    nparam = sum(p.numel() for p in model.parameters())
    print("model %s: %d parameters; train %d sequences, crops %d samples x %d; device %s"
          % (cfg["arch"]["widths"], nparam, len(tr.seqs), seg, a.batch, device), flush=True)

    gen = torch.Generator().manual_seed(a.seed * 7919 + 1)
    model.train()
    t_start = time.time()
    t_run0 = elapsed
    need_wave = a.mrstft_weight > 0
    acc = {}
    while True:
        if total and step >= total:
            break
        gen.manual_seed(a.seed * 7919 + 1 + step)      # per-step RNG: resumable bit for bit
        mono, bi, c, gains = batch_from(tr, step, a.batch, cfg, a.align)
        cond, y = prepare(fe, mono, bi, device)
        prior = None if gains is None else prior_from(cond, gains.to(device))
        t = sample_t(a.t_sampling, a.batch, gen, device, a.t_zero_frac)
        if total == 0:       # budget in minutes: estimate the total after 10 steps
            lr = a.lr * min(1.0, (step + 1) / a.warmup)
        else:
            lr = lr_at(step, total, a)
        for g in opt.param_groups:
            g["lr"] = lr
        lo = losses(model, fe, cond, y, c.to(device), t, a.sigma, gen, a, need_wave, prior)
        opt.zero_grad(set_to_none=True)
        lo["total"].backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        for k, v in lo.items():
            acc[k] = acc.get(k, 0.0) + float(v)
        acc["n"] = acc.get("n", 0) + 1
        el = t_run0 + time.time() - t_start
        if total == 0 and step == 10:
            per = (time.time() - t_start) / 10
            total = max(20, int(a.minutes * 60 / per * 0.97)) if a.minutes > 0 else 1000
            print("%.2f s/step -> schedule of %d steps" % (per, total), flush=True)
        if step % a.log_every == 0 or step == total:
            rec = {"step": step, "lr": lr, "elapsed_s": round(el, 1), "grad_norm": float(gn)}
            rec.update({"train_" + k: acc[k] / acc["n"] for k in acc if k != "n"})
            acc = {}
            if vbatch is not None and (step % a.val_every == 0 or step == total):
                rec.update(validate(model, fe, vbatch, cfg, a, device))
            print(json.dumps(rec), flush=True)
            with open(log_path, "a") as f:
                f.write(json.dumps(rec) + "\n")
        if step % a.save_every == 0 or step == total:
            prov = {"data": os.path.abspath(a.data), "train_steps": step, "commit": git_commit(),
                    "notes": "train/train.py %s" % " ".join(
                        "--%s %s" % (k.replace("_", "-"), v) for k, v in sorted(vars(a).items())
                        if k in ("widths", "dil_mid", "head", "prior", "align", "alpha", "beta", "cond_gain", "freq_emb_init", "batch", "segment", "sigma", "t_sampling", "t_zero_frac", "mag_weight",
                                 "mrstft_weight", "ild_weight", "ild_rooms", "linmag_weight", "ipd_weight", "out_gain", "init", "lr", "schedule", "seed"))}
            cfg["provenance"] = prov
            tmp = ck_path + ".tmp"
            torch.save({"config": cfg, "state_dict": model.state_dict(), "opt": opt.state_dict(),
                        "step": step, "total": total, "elapsed": el, "args": vars(a),
                        "provenance": prov}, tmp)
            os.replace(tmp, ck_path)
    if a.export:
        model.eval()
        export(model.cpu(), cfg, a.export, cfg["provenance"])
        print("exported", a.export, flush=True)


if __name__ == "__main__":
    main()
