"""Measurements used by the simulator's tests and plots: ITD (GCC-PHAT), ILD, energy
decay curves (Schroeder backward integration) and RT60 (T30 fit), octave bands."""

import numpy as np
from scipy import signal

SR = 48000


def itd_gcc_phat(left, right, max_lag_s=1e-3, up=32, fmax=None):
    """Interaural time difference in seconds, positive when the LEFT ear leads (sound
    from the left). GCC-PHAT, lag bound +-max_lag_s, 1/up sample resolution plus a
    parabolic fit. fmax limits the PHAT band (None: full band). left/right may be
    [..., n] batches; the result then has shape [...]."""
    left = np.asarray(left, dtype=np.float64)
    right = np.asarray(right, dtype=np.float64)
    n = left.shape[-1] + right.shape[-1]
    nfft = 1 << int(np.ceil(np.log2(n)))
    L = np.fft.rfft(left, nfft, axis=-1)
    R = np.fft.rfft(right, nfft, axis=-1)
    X = R * np.conj(L)                      # peak at +tau when right lags left by tau
    X = X / (np.abs(X) + 1e-12 * np.max(np.abs(X), axis=-1, keepdims=True))
    if fmax is not None:
        f = np.fft.rfftfreq(nfft, 1.0 / SR)
        X = X * (f <= fmax)
    c = np.fft.irfft(X, nfft * up, axis=-1)
    m = int(max_lag_s * SR * up)
    c = np.concatenate([c[..., -m:], c[..., :m + 1]], axis=-1)
    i = np.argmax(c, axis=-1)
    ic = np.clip(i, 1, c.shape[-1] - 2)
    y0 = np.take_along_axis(c, (ic - 1)[..., None], -1)[..., 0]
    y1 = np.take_along_axis(c, ic[..., None], -1)[..., 0]
    y2 = np.take_along_axis(c, (ic + 1)[..., None], -1)[..., 0]
    den = y0 - 2 * y1 + y2
    frac = np.where((den != 0) & (i == ic), 0.5 * (y0 - y2) / np.where(den == 0, 1, den), 0.0)
    out = (i + frac - m) / (up * SR)
    return float(out) if out.ndim == 0 else out


def rounding_noise_per_bin(window):
    """Power per rfft bin of 16-bit rounding noise (uniform, step 2^-15) through this
    analysis window: what a 16-bit file holds where it holds nothing else."""
    return (2.0 ** -15) ** 2 / 12.0 * float(np.sum(np.asarray(window, np.float64) ** 2))


def octave_sos(fc, order=3):
    lo, hi = fc / np.sqrt(2), min(fc * np.sqrt(2), 0.95 * SR / 2)
    return signal.butter(order, [lo, hi], btype="bandpass", fs=SR, output="sos")


def ild_db(left, right, fc=None):
    if fc is not None:
        sos = octave_sos(fc)
        left, right = signal.sosfilt(sos, left), signal.sosfilt(sos, right)
    return 10 * np.log10((np.sum(left ** 2) + 1e-30) / (np.sum(right ** 2) + 1e-30))


def edc_db(ir):
    """Energy decay curve (Schroeder backward integration), dB re total energy."""
    e = np.cumsum(ir[::-1] ** 2)[::-1]
    return 10 * np.log10(e / e[0] + 1e-30)


def rt60(ir, fc=None, lo=-5.0, hi=-35.0):
    """RT60 (s) from the least-squares slope of the EDC between lo and hi dB (T30 by
    default), in the octave band at fc (None: broadband). Uses both ears if ir is [2, n]."""
    ir = np.atleast_2d(ir)
    out = []
    for ch in ir:
        if fc is not None:
            ch = signal.sosfiltfilt(octave_sos(fc), ch)
        d = edc_db(ch)
        i0 = int(np.argmax(d <= lo))
        i1 = int(np.argmax(d <= hi))
        if i1 <= i0 + 2:
            out.append(float("nan"))
            continue
        t = np.arange(i0, i1) / SR
        slope = np.polyfit(t, d[i0:i1], 1)[0]
        out.append(-60.0 / slope)
    return float(np.mean(out))
