"""Training losses shared by both kinds (torch). Spectra are in the front end's
compressed real layout [B, 2C, T, F]; waveforms [B, ..., n].

The interaural terms (ILD, IPD, coherence) read what train/evaluate_binaural.py
measures: octave bands, 40 ms-ish windows, cells counted only where the target is
loud enough and each ear is 20 dB above 16-bit rounding noise."""

import math

import torch

OCTAVES = (250, 500, 1000, 2000, 4000, 8000, 16000)   # band centres (Hz), as the evaluator
MRSTFT_RESOLUTIONS = ((256, 64), (512, 128), (1024, 256), (2048, 512))


def mrstft(p, g, resolutions=MRSTFT_RESOLUTIONS):
    """Multi-resolution STFT loss per item: mean over resolutions of spectral
    convergence + log-magnitude L1. p, g [B, ..., n] -> [B]."""
    B = p.shape[0]
    p, g = p.reshape(-1, p.shape[-1]), g.reshape(-1, g.shape[-1])
    tot = 0.0
    for nfft, hop in resolutions:
        w = torch.hann_window(nfft, device=p.device)
        P = torch.stft(p, nfft, hop, window=w, return_complex=True).abs().reshape(B, -1)
        G = torch.stft(g, nfft, hop, window=w, return_complex=True).abs().reshape(B, -1)
        sc = torch.linalg.norm(G - P, dim=1) / (torch.linalg.norm(G, dim=1) + 1e-7)
        lm = (torch.log(G + 1e-5) - torch.log(P + 1e-5)).abs().mean(dim=1)
        tot = tot + sc + lm
    return tot / len(resolutions)


def si_sdr(est, ref, eps=1e-9, cap_db=None):
    """Scale-invariant SDR in dB per item (last axis is time); torch or numpy in
    (numpy: evaluated in float64 and returned as a float). cap_db: a soft ceiling,
    10 log10(|s|^2 / (|e|^2 + 10^(-cap/10) |s|^2)) (the soft-thresholded SNR): as a
    loss, an item near or at its ceiling stops pulling. Without it the gradient of the
    dB grows as 1 / |e|, so a nearly perfect item (a clean mixture, once a mask moves
    off 1) can outweigh the rest of the batch many times over, and after gradient
    clipping the others teach little."""
    as_np = not torch.is_tensor(est)
    if as_np:
        est = torch.as_tensor(est, dtype=torch.float64)
        ref = torch.as_tensor(ref, dtype=torch.float64)
        n = min(est.shape[-1], ref.shape[-1])
        est, ref = est[..., :n], ref[..., :n]
    est = est - est.mean(dim=-1, keepdim=True)
    ref = ref - ref.mean(dim=-1, keepdim=True)
    a = (est * ref).sum(-1, keepdim=True) / ((ref * ref).sum(-1, keepdim=True) + eps)
    s = a * ref
    ss = (s * s).sum(-1)
    tau = 0.0 if cap_db is None else 10.0 ** (-cap_db / 10.0)
    out = 10 * torch.log10((ss + eps) / (((s - est) ** 2).sum(-1) + tau * ss + eps))
    return float(out) if as_np and out.dim() == 0 else out


# --------------------------------------------------------------- interaural


def band_matrix(fe, device, dtype):
    """[F, bands] 0/1: which bins make each octave band."""
    f = fe.bin_hz(device, dtype)
    return torch.stack([((f >= fc / math.sqrt(2)) & (f < fc * math.sqrt(2))).to(dtype)
                        for fc in OCTAVES], dim=1)


def _windows(E, pool):
    """Mean of [B, T, bands] cells over windows of `pool` frames, hop pool / 2."""
    return torch.nn.functional.avg_pool2d(E[:, None], (pool, 1), stride=(pool // 2, 1))[:, 0]


def band_floor(fe, device, dtype):
    """[bands] one ear's 16-bit rounding-noise power per band and frame, times 100
    (a cell counts when each ear is 20 dB above it)."""
    q = (2.0 ** -15) ** 2 / 12.0 * float((fe.win ** 2).sum())      # per bin, one ear
    return 100.0 * q * band_matrix(fe, device, dtype).sum(0)


def _ear_stats(fe, R, pool, cross=True):
    """Band powers of each ear and the cross spectrum L conj(R), per window:
    (PL, PR, Xre, Xim), each [B, T', bands]; (PL, PR) without cross."""
    M = band_matrix(fe, R.device, R.dtype)
    X = fe.decompress(R)                                           # [B, 2, T, F]
    L, Rr = X[:, 0], X[:, 1]
    PL = _windows((L.abs() ** 2) @ M, pool)
    PR = _windows((Rr.abs() ** 2) @ M, pool)
    if not cross:
        return PL, PR
    C = L * Rr.conj()
    return PL, PR, _windows(C.real @ M, pool), _windows(C.imag @ M, pool)


def _cells(fe, y_stats, items):
    """[B, T', bands] weights of the cells that count: target within 30 dB of the
    band's loudest window in the crop, each ear above the rounding-noise floor."""
    PL, PR = y_stats[0], y_stats[1]
    es = PL + PR
    mx = es.amax(dim=1, keepdim=True)
    pool_floor = band_floor(fe, PL.device, PL.dtype)
    ok = ((es > mx * 1e-3) & (PL > pool_floor) & (PR > pool_floor)).to(PL.dtype)
    if items is not None:
        ok = ok * items.to(PL.dtype)[:, None, None]
    return ok


def _masked_mean(err, ok):
    return (err * ok).sum() / ok.sum().clamp(min=1.0)


def ild(fe, yhat, y, items=None, pool=8):
    """Mean |ILD(estimate) - ILD(target)| (dB) over the cells that count; `items` [B]
    bool: the crops that count (None: all)."""
    sp, st = _ear_stats(fe, yhat, pool, cross=False), _ear_stats(fe, y, pool, cross=False)
    lev = lambda s: 10.0 * torch.log10((s[0] + 1e-10) / (s[1] + 1e-10))  # noqa: E731
    return _masked_mean((lev(sp) - lev(st)).abs(), _cells(fe, st, items))


def band_level(fe, yhat, y, items=None, pool=8):
    """Mean |level(estimate) - level(target)| (dB) of each ear per octave band and
    window of `pool` frames (43 ms at hop 256), over the cells that count. What a
    room tail can be held to: its energy over tens of ms. The per-bin losses score
    a tail whose fine structure no input determines, and cost least when it is
    quieter; this one costs the same whatever the tail's phases."""
    sp, st = _ear_stats(fe, yhat, pool, cross=False), _ear_stats(fe, y, pool, cross=False)
    db = lambda p, t: (10.0 * torch.log10((p + 1e-10) / (t + 1e-10))).abs()  # noqa: E731
    return _masked_mean(0.5 * (db(sp[0], st[0]) + db(sp[1], st[1])), _cells(fe, st, items))


def coherence(fe, yhat, y, items=None, pool=16):
    """Mean |IC(estimate) - IC(target)| over the cells that count, IC being the
    interaural coherence |sum L R*| / sqrt(sum |L|^2 sum |R|^2) per band and window:
    how diffuse (reverberant) the ears sound."""
    sp, st = _ear_stats(fe, yhat, pool), _ear_stats(fe, y, pool)
    ic = lambda s: (s[2] ** 2 + s[3] ** 2 + 1e-20).sqrt() / (s[0] * s[1] + 1e-20).sqrt()  # noqa: E731
    return _masked_mean((ic(sp) - ic(st)).abs(), _cells(fe, st, items))


def ipd(fe, yhat, y, items=None, fmax=1500.0):
    """Weighted mean of 1 - cos(IPD(estimate) - IPD(target)) below fmax, weighted by
    the target's |L||R| (compressed): the interaural phase that GCC-PHAT's ITD reads."""
    k = int(fmax * fe.N / fe.sr) + 1

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


def magnitude_l1(fe, yhat, y, compressed=True):
    """L1 between magnitudes: compressed (what the network sees) or linear (what the
    evaluator's Amplitude measures)."""
    if compressed:
        mh = (yhat[:, 0::2] ** 2 + yhat[:, 1::2] ** 2 + 1e-8).sqrt()
        mt = (y[:, 0::2] ** 2 + y[:, 1::2] ** 2 + 1e-8).sqrt()
    else:
        mh, mt = fe.power(yhat).sqrt(), fe.power(y).sqrt()
    return (mh - mt).abs().mean()
