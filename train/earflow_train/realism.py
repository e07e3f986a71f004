"""How much a binaural render sounds like the room it claims: interaural coherence per
octave band of a running signal (how diffuse the ears are), and the decay time (T20)
and direct-to-reverberant ratio of a rendered impulse response. numpy only; the
evaluator (train/evaluate_binaural.py) scores every system with these."""

import numpy as np

from . import acoustics
from .losses import OCTAVES

SR = 48000
FRAME = 1920            # 40 ms frames, hop 20 ms, as the evaluator's ITD / ILD
FHOP = 960
WINDOW_FRAMES = 24      # coherence is averaged over 24 frames (0.5 s), hop 12
ENERGY_DB = 30.0        # a cell counts within 30 dB of its band's loudest window
QUANT_DB = 20.0         # ... and with each target ear 20 dB above 16-bit rounding noise
DECAY_BANDS = (500, 1000)    # the rooms' design RT60 is the mean of these two octaves
DIRECT_MS = (1.0, 2.5)       # the direct sound: 1 ms before to 2.5 ms after the peak


def _spectra(x):
    """[2, n] -> complex [2, frames, bins] (Hann frames of FRAME, hop FHOP)."""
    m = 1 + (x.shape[-1] - FRAME) // FHOP
    idx = np.arange(m)[:, None] * FHOP + np.arange(FRAME)[None, :]
    return np.fft.rfft(x[:, idx] * np.hanning(FRAME), axis=-1)


def _window_sums(a):
    """Sum over windows of WINDOW_FRAMES frames, hop WINDOW_FRAMES / 2: [m, K] -> [W, K]."""
    h = WINDOW_FRAMES // 2
    w = max(1, 1 + (a.shape[0] - WINDOW_FRAMES) // h)
    return np.stack([a[i * h:i * h + WINDOW_FRAMES].sum(0) for i in range(w)])


def _band_coherence(X):
    """Per window and octave band: the interaural coherence (per bin |sum L R*| /
    sqrt(sum |L|^2 sum |R|^2) over the window's frames, averaged over the band's bins
    weighted by their power), and each ear's band power. X [2, m, K] ->
    (ic [W, bands], pl [W, bands], pr [W, bands])."""
    f = np.fft.rfftfreq(FRAME, 1.0 / SR)
    cross = _window_sums(X[0] * np.conj(X[1]))
    pl = _window_sums(np.abs(X[0]) ** 2)
    pr = _window_sums(np.abs(X[1]) ** 2)
    ic, bl, br = [], [], []
    for fc in OCTAVES:
        sel = (f >= fc / np.sqrt(2)) & (f < min(fc * np.sqrt(2), SR / 2))
        norm = np.sqrt(pl[:, sel] * pr[:, sel])
        ic.append(np.abs(cross[:, sel]).sum(1) / (norm.sum(1) + 1e-30))
        bl.append(pl[:, sel].sum(1))
        br.append(pr[:, sel].sum(1))
    return np.stack(ic, 1), np.stack(bl, 1), np.stack(br, 1)


def coherence(p, g):
    """Interaural coherence of the render p against the target g, both [2, n], per
    octave band (250 Hz..16 kHz), over 0.5 s windows whose target band is within 30 dB
    of its loudest window and 20 dB above 16-bit rounding noise in each ear (as the
    ILD error counts cells). Returns [bands, 4]: sum |IC(p) - IC(g)|, sum IC(p), sum
    IC(g), cells, for pooling over files."""
    n = min(p.shape[-1], g.shape[-1])
    out = np.zeros((len(OCTAVES), 4))
    if n < FRAME * WINDOW_FRAMES // 2:
        return out
    icp, _, _ = _band_coherence(_spectra(p[:, :n]))
    icg, gl, gr = _band_coherence(_spectra(g[:, :n]))
    f = np.fft.rfftfreq(FRAME, 1.0 / SR)
    noise_bin = acoustics.rounding_noise_per_bin(np.hanning(FRAME))
    for b, fc in enumerate(OCTAVES):
        bins = int(((f >= fc / np.sqrt(2)) & (f < min(fc * np.sqrt(2), SR / 2))).sum())
        floor = noise_bin * bins * WINDOW_FRAMES * 10 ** (QUANT_DB / 10)
        e = gl[:, b] + gr[:, b]
        ok = (e > np.max(e) * 10 ** (-ENERGY_DB / 10)) & (gl[:, b] > floor) & (gr[:, b] > floor)
        out[b] = [np.abs(icp[ok, b] - icg[ok, b]).sum(), icp[ok, b].sum(), icg[ok, b].sum(), ok.sum()]
    return out


def decay_time(ir, bands=DECAY_BANDS, lo=-5.0, hi=-25.0):
    """T20 (s): 60 dB over the slope of the Schroeder energy decay between lo and hi dB,
    from the IR's peak onwards, per ear and octave band, averaged. ir [2, n]. A response
    that falls from lo to hi within two samples (no tail) gives its span, about 0."""
    ir = np.atleast_2d(np.asarray(ir, np.float64))
    start = int(np.argmax(np.sum(ir ** 2, axis=0)))
    out = []
    for ch in ir:
        for fc in bands:
            y = acoustics.signal.sosfiltfilt(acoustics.octave_sos(fc), ch)[start:]
            d = acoustics.edc_db(y)
            i0 = int(np.argmax(d <= lo))
            i1 = int(np.argmax(d <= hi))
            if i1 <= i0 + 2:
                out.append((i1 - i0) / SR * 60.0 / (lo - hi))
                continue
            t = np.arange(i0, i1) / SR
            out.append(-60.0 / np.polyfit(t, d[i0:i1], 1)[0])
    return float(np.mean(out))


def drr_db(ir, cap_db=60.0):
    """Direct-to-reverberant ratio (dB) of ir [2, n], both ears' energy: the direct
    sound is 1 ms before to 2.5 ms after the peak, the reverberant part all after it.
    Capped at cap_db (an anechoic response has no reverberant part)."""
    e = np.sum(np.atleast_2d(np.asarray(ir, np.float64)) ** 2, axis=0)
    k = int(np.argmax(e))
    a = max(0, k - int(DIRECT_MS[0] * SR / 1000))
    b = k + int(DIRECT_MS[1] * SR / 1000)
    direct, late = float(e[a:b].sum()), float(e[b:].sum())
    if late <= direct * 10 ** (-cap_db / 10):
        return cap_db
    return float(10 * np.log10(direct / late))
