"""MIT KEMAR HRIRs from the SOFA file (h5py), at 48 kHz, interpolated between directions.

Method. Each measured HRIR (44.1 kHz, 512 taps) is resampled to 48 kHz (polyphase,
160/147) and split into
  * an onset delay per ear (fractional samples): their mean is the lag that best
    aligns the HRIRs with their minimum-phase versions (cross-correlation, 1/16
    sample), their difference is set so that the rendered pair's ITD equals KEMAR's
    measured ITD (GCC-PHAT of the measured pair below 1.5 kHz), and
  * the minimum-phase response (homomorphic / real cepstrum), cut to 256 taps.
Minimum-phase responses have no onset, so they can be interpolated linearly without
comb filtering; the delays are interpolated separately, so ITD moves smoothly.
Interpolation between measured directions is bilinear on the KEMAR grid (elevation
rings every 10 degrees from -40 to 90, each ring uniform in azimuth): two rings, two
azimuths per ring, four weights. Elevations below -40 use the -40 ring.

Coordinates (design.md): azimuth degrees, 0 front, +90 LEFT (counter-clockwise, as
SOFA); elevation +90 above. Ear 0 = left, ear 1 = right (SOFA receiver 0 is at +y).
Gain: the whole set is scaled so the mean HRIR energy over directions and ears is 1
(a diffuse-field unit level; the spectral shape is kept).
"""

import os

import numpy as np
from scipy import signal

SR = 48000
MP_TAPS = 256
SPEED_OF_SOUND = 343.0
ITD_FMAX = 1500.0   # Hz: the band in which ITD is defined (GCC-PHAT), as in the tests


def _minimum_phase(h, nfft=4096, floor_db=-100.0):
    """Minimum-phase version of each row of h (real cepstrum folding)."""
    H = np.fft.rfft(h, nfft, axis=-1)
    mag = np.abs(H)
    mag = np.maximum(mag, mag.max(axis=-1, keepdims=True) * 10 ** (floor_db / 20))
    cep = np.fft.irfft(np.log(mag), nfft, axis=-1)
    w = np.zeros(nfft)
    w[0] = 1.0
    w[1:nfft // 2] = 2.0
    w[nfft // 2] = 1.0
    mp = np.fft.irfft(np.exp(np.fft.rfft(cep * w, axis=-1)), nfft, axis=-1)
    return mp[..., :h.shape[-1]]


def _xcorr_lag(a, b, up=16, nfft=2048):
    """Fractional lag (samples) at which b best matches a: a(t) ~ b(t - lag)."""
    A = np.fft.rfft(a, nfft, axis=-1)
    B = np.fft.rfft(b, nfft, axis=-1)
    c = np.fft.irfft(A * np.conj(B), nfft * up, axis=-1)
    c = np.fft.fftshift(c, axes=-1)
    i = np.argmax(c, axis=-1)
    n = c.shape[-1]
    i = np.clip(i, 1, n - 2)
    r = np.arange(c.shape[0])
    y0, y1, y2 = c[r, i - 1], c[r, i], c[r, i + 1]
    den = y0 - 2 * y1 + y2
    frac = np.where(np.abs(den) > 1e-30, 0.5 * (y0 - y2) / np.where(den == 0, 1, den), 0.0)
    return (i + frac - n // 2) / up


_LOADED = {}


def load(sofa_path):
    """The Hrtf of sofa_path, prepared once per process (about 5 s of resampling,
    minimum phase and onsets): callers share it and must not change it (variant()
    makes a new one)."""
    key = os.path.realpath(sofa_path)
    if key not in _LOADED:
        _LOADED[key] = Hrtf(sofa_path)
    return _LOADED[key]


class Hrtf:
    def __init__(self, sofa_path):
        import h5py
        with h5py.File(sofa_path, "r") as f:
            ir = np.asarray(f["Data.IR"], dtype=np.float64)          # [M, 2, N]
            pos = np.asarray(f["SourcePosition"], dtype=np.float64)   # [M, 3] az el r
            fs = float(np.asarray(f["Data.SamplingRate"]).ravel()[0])
        if int(round(fs)) == 44100:
            ir48 = signal.resample_poly(ir, 160, 147, axis=-1)
        elif int(round(fs)) == SR:
            ir48 = ir
        else:
            g = np.gcd(int(fs), SR)
            ir48 = signal.resample_poly(ir, SR // g, int(fs) // g, axis=-1)
        M = ir48.shape[0]
        flat = ir48.reshape(M * 2, -1)
        mp = _minimum_phase(flat)
        onset = _xcorr_lag(flat, mp).reshape(M, 2)
        # Interaural part of the onsets: make the rendered pair's ITD equal KEMAR's
        # measured ITD (GCC-PHAT below ITD_FMAX of the measured pair). The min-phase
        # pair has an ITD of its own (tau_mp, from excess-phase parts it lost), so
        # onset_R - onset_L = tau_meas - tau_mp; the mean of the two onsets is kept.
        from .acoustics import itd_gcc_phat
        pair = ir48[:, :, :MP_TAPS * 2]
        tau_meas = itd_gcc_phat(pair[:, 0], pair[:, 1], fmax=ITD_FMAX) * SR
        mp2 = mp.reshape(M, 2, -1)
        tau_mp = itd_gcc_phat(mp2[:, 0, :MP_TAPS], mp2[:, 1, :MP_TAPS], fmax=ITD_FMAX) * SR
        mean = onset.mean(axis=1)
        delta = tau_meas - tau_mp
        onset = np.stack([mean - delta / 2, mean + delta / 2], axis=1)
        self.itd_measured = tau_meas / SR            # [M] seconds, + = left leads
        mp = mp[:, :MP_TAPS].copy()
        fade = 32
        mp[:, MP_TAPS - fade:] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(fade) / fade)
        mp = mp.reshape(M, 2, MP_TAPS)
        scale = 1.0 / np.sqrt(np.mean(np.sum(mp ** 2, axis=-1)))
        self.raw48 = ir48 * scale                    # resampled measured HRIRs (reference)
        self.mp = (mp * scale).astype(np.float32)    # [M, 2, 256] minimum-phase
        self.onset = onset - onset.mean()            # [M, 2] samples, relative to the set mean
        self.az = np.mod(pos[:, 0], 360.0)
        self.el = pos[:, 1]
        self.fs_measured = fs
        self._grid()
        self._spec_cache = {}

    # ------------------------------------------------------------- grid lookup
    def _grid(self):
        els = np.unique(np.round(self.el, 6))
        self.ring_el = els
        self.ring_idx = []
        for e in els:
            idx = np.nonzero(np.abs(self.el - e) < 1e-6)[0]
            idx = idx[np.argsort(self.az[idx])]
            n = len(idx)
            if n > 1:
                step = 360.0 / n
                if not np.allclose(self.az[idx], np.arange(n) * step, atol=1e-3):
                    raise ValueError("SOFA ring at elevation %g is not uniform in azimuth" % e)
            self.ring_idx.append(idx)
        self.ring_n = np.array([len(i) for i in self.ring_idx])
        width = self.ring_n.max()
        self.ring_table = np.zeros((len(els), width), dtype=np.int64)
        for r, idx in enumerate(self.ring_idx):
            self.ring_table[r, :len(idx)] = idx

    def weights(self, az, el):
        """Bilinear interpolation: (indices [..., 4], weights [..., 4]) for directions in degrees."""
        az = np.mod(np.asarray(az, dtype=np.float64), 360.0)
        el = np.clip(np.asarray(el, dtype=np.float64), self.ring_el[0], self.ring_el[-1])
        rpos = np.interp(el, self.ring_el, np.arange(len(self.ring_el)))
        r0 = np.minimum(np.floor(rpos).astype(np.int64), len(self.ring_el) - 1)
        r1 = np.minimum(r0 + 1, len(self.ring_el) - 1)
        te = rpos - r0
        idx, wts = [], []
        for r, wr in ((r0, 1 - te), (r1, te)):
            n = self.ring_n[r]
            p = az / 360.0 * n
            a0 = np.floor(p).astype(np.int64) % n
            a1 = (a0 + 1) % n
            ta = p - np.floor(p)
            idx += [self.ring_table[r, a0], self.ring_table[r, a1]]
            wts += [wr * (1 - ta), wr * ta]
        return np.stack(idx, -1), np.stack(wts, -1)

    def nearest(self, az, el):
        idx, w = self.weights(az, el)
        return np.take_along_axis(idx, np.argmax(w, axis=-1)[..., None], -1)[..., 0]

    def onset_at(self, az, el):
        """Interpolated onset delays [..., 2] (samples at 48 kHz, relative to the set mean)."""
        idx, w = self.weights(az, el)
        return np.einsum("...k,...ke->...e", w, self.onset[idx])

    def mp_at(self, az, el):
        """Interpolated minimum-phase HRIRs [..., 2, 256]."""
        idx, w = self.weights(az, el)
        return np.einsum("...k,...ket->...et", w, self.mp[idx])

    def mp_spectra(self, nfft):
        """rfft of the minimum-phase HRIRs at nfft: [M, 2, nfft/2+1] complex64 (cached)."""
        if nfft not in self._spec_cache:
            self._spec_cache[nfft] = np.fft.rfft(self.mp, nfft, axis=-1).astype(np.complex64)
        return self._spec_cache[nfft]

    def spectra_at(self, az, el, nfft):
        idx, w = self.weights(az, el)
        S = self.mp_spectra(nfft)
        return np.einsum("...k,...kef->...ef", w.astype(np.float32), S[idx])

    def diffuse_field_magnitude(self, nfft):
        """sqrt(mean over directions of |H|^2) per ear on the rfft grid of nfft: [2, nfft/2+1]
        (computed at 512 points, interpolated; the responses are 256 taps long)."""
        if "df" not in self._spec_cache:
            S = np.fft.rfft(self.mp.astype(np.float64), 512, axis=-1)
            self._spec_cache["df"] = np.sqrt(np.mean(np.abs(S) ** 2, axis=0))
        df = self._spec_cache["df"]
        f0 = np.arange(df.shape[1]) / 512.0
        f1 = np.arange(nfft // 2 + 1) / float(nfft)
        return np.stack([np.interp(f1, f0, df[e]) for e in range(2)])

    def variant(self, rng, radius_cm=(7.5, 9.5), perturb_db=1.0, above_hz=4000.0):
        """Another head built from this one, for data augmentation: every direction's
        ITD scaled for a head radius drawn from radius_cm (KEMAR is taken as 8.75 cm,
        the spherical-head prior's radius), and each ear's responses shaped by
        a smooth random gain above `above_hz` (three half-cosines over log frequency,
        each N(0, perturb_db) dB, faded in over 3.5..5 kHz). Returns (Hrtf, info)."""
        import copy
        radius = float(rng.uniform(*radius_cm))
        v = copy.copy(self)
        # ITD = measured ITD x radius / 8.75: the onsets' difference carries the measured
        # ITD less the minimum-phase pair's own, so the change is added to it
        shift = (radius / 8.75 - 1.0) * self.itd_measured * SR          # [M] samples
        v.onset = self.onset + np.stack([-shift / 2, shift / 2], axis=1)
        nfft = 4096
        f = np.fft.rfftfreq(nfft, 1.0 / SR)
        u = np.clip(np.log2(np.maximum(f, 1.0) / above_hz) / np.log2(SR / 2 / above_hz), 0, 1)
        fade = np.clip((f - 0.875 * above_hz) / (0.375 * above_hz), 0, 1)
        fade = fade * fade * (3 - 2 * fade)
        a = rng.normal(0.0, perturb_db, (2, 3))
        phase = rng.uniform(0, 2 * np.pi, (2, 3))
        k = np.arange(1, 4)[:, None]
        gain_db = np.stack([fade * np.sum(a[e][:, None] * np.cos(np.pi * k * u[None] + phase[e][:, None]), 0)
                            for e in range(2)])                                   # [2, F]
        # the new magnitude, made minimum-phase again (so 256 taps still hold it)
        H = np.fft.rfft(self.mp.astype(np.float64), nfft, axis=-1) * 10 ** (gain_db / 20)[None]
        mp = _minimum_phase(np.fft.irfft(H, nfft, axis=-1).reshape(-1, nfft), nfft)[:, :MP_TAPS]
        fade = 32
        mp[:, MP_TAPS - fade:] *= 0.5 + 0.5 * np.cos(np.pi * np.arange(fade) / fade)
        v.mp = mp.reshape(self.mp.shape).astype(np.float32)
        v._spec_cache = {}
        return v, {"head_radius_cm": radius, "hrtf_gain_db_max": float(np.max(np.abs(gain_db)))}

    def measured_index(self, az, el):
        """Index of an exactly measured direction, or -1."""
        d = np.abs(((self.az - az + 180) % 360) - 180) + np.abs(self.el - el)
        i = int(np.argmin(d))
        return i if d[i] < 1e-6 else -1
