"""Binaural room simulator (numpy/scipy): mono source + trajectory + room -> binaural.

Signal model, per ear e (0 = left, 1 = right):

  direct path   x delayed by r(t)/c + onset_e(direction(t)) (a per-sample fractional
                delay line, 16-tap Kaiser-windowed sinc, so Doppler and ITD changes are
                continuous), times 1/r(t) (r >= 0.2 m), then the interpolated
                minimum-phase HRIR and the air absorption of r(t) as a time-varying
                filter: blocks of HOP = 256 samples (5.3 ms), each block's filter
                applied to the whole signal and the outputs crossfaded with a periodic
                Hann window of 2*HOP (the weights sum to 1), so the filter moves
                smoothly from block to block.
  early part    shoebox image sources up to order 3 whose delay after the direct sound
                is below the room's early window. Each image is rendered through the
                HRIR of its arrival direction relative to the head (head rotation
                included; nearest measured direction), with its own delay,
                1/distance, wall reflection factor beta^order and a wall+air spectral
                colouring per order. Early responses are rebuilt every EARLY_HOP =
                2048 samples (43 ms) and crossfaded the same way.
  late tail     decaying decorrelated noise per ear starting where the early window
                ends (10 ms fade-in), in octave bands 125 Hz .. 16 kHz, each with its
                own decay (RT60 per band = the room's mid RT60 x BAND_RT), level from
                diffuse-field theory (reverberant energy = 16 pi / A relative to the
                direct sound at 1 m, A = 0.161 V / RT60), interaural coherence of a
                diffuse field at the ears (sinc(2 f d / c), d = 0.22 m), coloured by
                KEMAR's diffuse-field magnitude. Static per sequence.
  ambience      stationary pink-ish noise with the same coherence and colouring,
                30..50 dB below the source (rooms other than anechoic).

Geometry. Room frame: x, y, z metres (z up, right-handed). Head frame: x forward,
y LEFT, z up, so azimuth = atan2(y, x) (+90 = left) and elevation =
atan2(z, hypot(x, y)), as design.md. The public layout's tx_positions.txt uses
x forward, y RIGHT, z up: see layout.py for the conversion.
"""

import math

import numpy as np
from scipy import signal

SR = 48000
C = 343.0
HOP = 256
EARLY_HOP = 2048
DIST_MIN, DIST_MAX = 0.2, 10.0
AIR_PAD = 8          # the zero-phase air filter is centred this many samples late
SINC_TAPS = 16
SINC_PHASES = 512

# The room labels users type (`earflow render --room small`), in model-config order.
ROOMS = ("anechoic", "small", "medium", "large")
# Design values: shoebox size (m) and mid-frequency RT60 (s, mean of the 500 Hz and
# 1 kHz octave bands), the early window (ms after the direct sound).
ROOM_DESIGN = {
    "anechoic": dict(dims=None, rt60=0.0, early_ms=0.0),
    "small": dict(dims=(4.0, 3.2, 2.5), rt60=0.30, early_ms=40.0),
    "medium": dict(dims=(7.5, 5.5, 3.0), rt60=0.55, early_ms=60.0),
    "large": dict(dims=(20.0, 14.0, 8.0), rt60=1.30, early_ms=80.0),
}
BAND_HZ = np.array([125, 250, 500, 1000, 2000, 4000, 8000, 16000], dtype=np.float64)
BAND_RT = np.array([1.25, 1.12, 1.0, 1.0, 0.92, 0.80, 0.62, 0.45])   # RT60(band) / RT60(mid)
# Air absorption, dB per metre (ISO 9613-1, about 20 C and 50 % relative humidity).
AIR_HZ = np.array([63, 125, 250, 500, 1000, 2000, 4000, 8000, 16000, 24000], dtype=np.float64)
AIR_DB_M = np.array([0.0001, 0.0004, 0.0011, 0.0019, 0.0037, 0.0097, 0.0328, 0.117, 0.42, 0.85])


def air_db_per_m(f):
    f = np.maximum(np.asarray(f, dtype=np.float64), 20.0)
    return np.interp(np.log(f), np.log(AIR_HZ), AIR_DB_M)


def band_masks(nfft):
    """Octave-band magnitude masks over rfft bins: [bands, nfft/2+1], sum of squares = 1."""
    f = np.fft.rfftfreq(nfft, 1.0 / SR)
    lf = np.log2(np.maximum(f, 1.0))
    lc = np.log2(BAND_HZ)
    hats = np.zeros((len(BAND_HZ), len(f)))
    for b in range(len(BAND_HZ)):
        e = np.zeros(len(BAND_HZ))
        e[b] = 1.0
        hats[b] = np.interp(lf, lc, e, left=e[0], right=e[-1])
    return np.sqrt(hats)


def diffuse_coherence(f, d=0.22):
    return np.clip(np.sinc(2 * np.asarray(f) * d / C), 0.0, 1.0)


def nominal_room(room):
    """What a binaural reverb knows of a room label: the design shoebox, the listener at
    its centre (1.5 m up), the design RT60. None for anechoic."""
    d = ROOM_DESIGN[room]
    if d["dims"] is None:
        return None
    dims = np.array(d["dims"], dtype=np.float64)
    return dims, np.array([dims[0] / 2, dims[1] / 2, min(1.5, dims[2] / 2)]), d["rt60"]


def inside(listener, rel, dims):
    """Source positions listener + rel (head axes = room axes, yaw 0), kept 0.25 m
    inside the walls."""
    return np.clip(listener + rel, 0.25, np.asarray(dims) - 0.25)


def eyring_alpha(dims, rt60):
    lx, ly, lz = dims
    V = lx * ly * lz
    S = 2 * (lx * ly + lx * lz + ly * lz)
    return 1.0 - math.exp(-0.161 * V / (S * rt60))


# ------------------------------------------------------------------ geometry


def to_head(v, yaw, pitch):
    """Room-frame vectors [..., 3] -> head frame (head yawed by yaw, pitched by pitch, rad)."""
    cy, sy = np.cos(yaw), np.sin(yaw)
    x = cy * v[..., 0] + sy * v[..., 1]
    y = -sy * v[..., 0] + cy * v[..., 1]
    z = v[..., 2]
    cp, sp = np.cos(pitch), np.sin(pitch)
    return np.stack([cp * x + sp * z, y, -sp * x + cp * z], axis=-1)


def sph(vh):
    """Head-frame vectors -> (azimuth deg, elevation deg, distance m)."""
    x, y, z = vh[..., 0], vh[..., 1], vh[..., 2]
    d = np.sqrt(x * x + y * y + z * z)
    az = np.degrees(np.arctan2(y, x))
    el = np.degrees(np.arctan2(z, np.hypot(x, y)))
    return az, el, d


def image_sources(dims, max_order):
    """Shoebox images: (sign [K, 3], offset [K, 3], order [K]) so that
    image = offset + sign * source. Order 0 (the direct sound) excluded."""
    signs, offs, orders = [], [], []
    r = range(-max_order, max_order + 1)
    for nx in r:
        for px in (0, 1):
            ox = abs(2 * nx - px)
            for ny in r:
                for py in (0, 1):
                    oy = abs(2 * ny - py)
                    for nz in r:
                        for pz in (0, 1):
                            oz = abs(2 * nz - pz)
                            o = ox + oy + oz
                            if o == 0 or o > max_order:
                                continue
                            signs.append((1 - 2 * px, 1 - 2 * py, 1 - 2 * pz))
                            offs.append((2 * nx * dims[0], 2 * ny * dims[1], 2 * nz * dims[2]))
                            orders.append(o)
    return np.array(signs, float), np.array(offs, float), np.array(orders)


# ------------------------------------------------------------------ DSP blocks


_SINC = None


def _sinc_table():
    global _SINC
    if _SINC is None:
        K = SINC_TAPS
        fr = np.arange(SINC_PHASES + 1) / SINC_PHASES
        j = np.arange(-K // 2 + 1, K // 2 + 1)            # taps at i + j
        t = j[None, :] - fr[:, None]
        w = np.kaiser(2 * 4096 + 1, 7.0)
        widx = np.clip(np.round((t / (K / 2) + 1) * 4096).astype(int), 0, 2 * 4096)
        h = np.sinc(t * 0.94) * 0.94 * w[widx]                # slight band limit: no aliasing
        h /= h.sum(axis=1, keepdims=True)
        _SINC = (j, h.astype(np.float32))
    return _SINC


def variable_delay(x, delay, gain=None, chunk=1 << 16):
    """y[n] = gain[n] * x(n - delay[n]) with windowed-sinc interpolation (delay >= 0)."""
    j, table = _sinc_table()
    n = len(delay)
    pad = SINC_TAPS
    maxd = int(np.ceil(np.max(delay))) + pad
    xp = np.concatenate([np.zeros(maxd, np.float32), x.astype(np.float32), np.zeros(pad, np.float32)])
    y = np.empty(n, np.float32)
    for a in range(0, n, chunk):
        b = min(a + chunk, n)
        pos = np.arange(a, b) + maxd - delay[a:b]
        i = np.floor(pos).astype(np.int64)
        q = np.round((pos - i) * SINC_PHASES).astype(np.int64)
        taps = xp[i[:, None] + j[None, :]]
        y[a:b] = np.einsum("nk,nk->n", taps, table[q])
    if gain is not None:
        y *= gain
    return y


def hann_periodic(n):
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)


def timevarying_filter(u, spectra, hop, nfft, pad):
    """Crossfaded time-varying FIR: y = sum_k w(n - k hop) (h_k * u)(n).

    u [T] (or [E, T] per output channel), spectra [K, E, nfft/2+1] (rfft of h_k, whose
    support lies in [0, pad]), K = ceil(T / hop) + 1 blocks centred at k*hop.
    Returns [E, T]."""
    u = np.atleast_2d(u)
    E = spectra.shape[1]
    if u.shape[0] == 1 and E > 1:
        u = np.repeat(u, E, axis=0)
    T = u.shape[1]
    K = spectra.shape[0]
    L = 2 * hop
    # frame k reads u[k*hop - hop - pad, k*hop + hop)
    front = hop + pad
    up = np.concatenate([np.zeros((E, front), u.dtype), u, np.zeros((E, K * hop + L), u.dtype)], axis=1)
    idx = (np.arange(K) * hop)[:, None] + np.arange(L + pad)[None, :]
    frames = up[:, idx]                                           # [E, K, L+pad]
    Y = np.fft.rfft(frames, nfft, axis=-1) * np.transpose(spectra, (1, 0, 2))
    z = np.fft.irfft(Y, nfft, axis=-1)[:, :, pad:pad + L].astype(np.float32)
    z *= hann_periodic(L).astype(np.float32)
    out = np.zeros((E, (K + 1) * hop + L), np.float32)
    # overlap-add: frame k covers output [k*hop - hop, k*hop + hop)
    zz = z.reshape(E, K, 2, hop)
    out[:, :K * hop] += zz[:, :, 0, :].reshape(E, K * hop)
    out[:, hop:(K + 1) * hop] += zz[:, :, 1, :].reshape(E, K * hop)
    return out[:, hop:hop + T]


def tail_noise(rng, n, rt_bands, masks, coh, df_mag, gains):
    """Decaying decorrelated band noise per ear: [2, n]."""
    nfft = masks.shape[1] * 2 - 2
    t = np.arange(n) / SR
    A = np.fft.rfft(rng.standard_normal(nfft))
    B = np.fft.rfft(rng.standard_normal(nfft))
    out = np.zeros((2, n))
    for b in range(masks.shape[0]):
        c1 = np.sqrt((1 + coh[b]) / 2)
        c2 = np.sqrt((1 - coh[b]) / 2)
        na = np.fft.irfft(A * masks[b], nfft)[:n]
        nb = np.fft.irfft(B * masks[b], nfft)[:n]
        env = gains[b] * np.exp(-3 * math.log(10) * t / rt_bands[b])
        out[0] += env * (c1 * na + c2 * nb)
        out[1] += env * (c1 * na - c2 * nb)
    F = np.fft.rfft(out, nfft, axis=-1) * df_mag
    return np.fft.irfft(F, nfft, axis=-1)[:, :n]


# ------------------------------------------------------------------ the simulator


class Scene:
    """One rendering: room geometry, listener, per-sample source position and head pose.

    room: a ROOMS name. dims: shoebox size (m) or None (anechoic). rt60: mid RT60.
    listener: [3] room coordinates of the head centre. src: [T, 3] room coordinates of
    the source per sample (or [3] static). yaw, pitch: head orientation per sample
    (radians; yaw counter-clockwise from the room's +x axis) or scalars."""

    def __init__(self, room, dims=None, rt60=None, listener=(0.0, 0.0, 0.0), src=(1.0, 0, 0),
                 yaw=0.0, pitch=0.0, early_ms=None, ambience_db=None):
        d = ROOM_DESIGN[room]
        self.room = room
        self.dims = None if room == "anechoic" else tuple(dims if dims is not None else d["dims"])
        self.rt60 = d["rt60"] if rt60 is None else rt60
        self.early_ms = d["early_ms"] if early_ms is None else early_ms
        self.listener = np.asarray(listener, float)
        self.src = np.asarray(src, float)
        self.yaw = yaw
        self.pitch = pitch
        self.ambience_db = ambience_db   # ambience level below the source RMS (dB), None: off


class Simulator:
    def __init__(self, hrtf):
        self.h = hrtf
        self.nfft_direct = 1024
        self.pad_direct = 256 + 2 * AIR_PAD + 16
        self._banks = {}

    # -- per-sample helpers
    @staticmethod
    def _per_sample(a, T, dim=None):
        a = np.asarray(a, float)
        if dim is None:
            return np.full(T, float(a)) if a.ndim == 0 else a
        return np.broadcast_to(a, (T, dim)) if a.ndim == 1 else a

    def relative(self, scene, T):
        """Head-relative source vectors [T, 3] (x forward, y left, z up)."""
        src = self._per_sample(scene.src, T, 3)
        yaw = self._per_sample(scene.yaw, T)
        pitch = self._per_sample(scene.pitch, T)
        return to_head(src - scene.listener, yaw, pitch)

    # -- direct path
    def direct(self, x, scene):
        T = len(x)
        h = self.h
        rel = self.relative(scene, T)
        az, el, d = sph(rel)
        d = np.clip(d, DIST_MIN, None)
        # onset delays at a 1 kHz control rate, linearly interpolated per sample
        ctrl = np.arange(0, T + 48, 48)
        ctrl_c = np.minimum(ctrl, T - 1)
        ons = h.onset_at(az[ctrl_c], el[ctrl_c])                       # [Kc, 2]
        n = np.arange(T)
        y = np.zeros((2, T), np.float32)
        K = T // HOP + 2
        kc = np.minimum(np.arange(K) * HOP, T - 1)
        S = h.spectra_at(az[kc], el[kc], self.nfft_direct)             # [K, 2, F]
        f = np.fft.rfftfreq(self.nfft_direct, 1.0 / SR)
        air = 10 ** (-air_db_per_m(f)[None, :] * d[kc][:, None] / 20)  # [K, F]
        lin = np.exp(-2j * np.pi * f * AIR_PAD / SR)
        S = S * (air * lin)[:, None, :].astype(np.complex64)
        u = np.zeros((2, T), np.float32)
        for e in range(2):
            dl = d / C * SR + np.interp(n, ctrl, ons[:, e]) - AIR_PAD
            u[e] = variable_delay(x, np.maximum(dl, 0.0), gain=(1.0 / d).astype(np.float32))
        y += timevarying_filter(u, S, HOP, self.nfft_direct, self.pad_direct)
        return y, (az, el, d)

    # -- early reflections
    def _bank(self, scene, order):
        """Minimum-phase HRIRs coloured by `order` wall reflections and their air path."""
        key = (scene.room, order)
        if key not in self._banks:
            nfft = 512
            f = np.fft.rfftfreq(nfft, 1.0 / SR)
            dims = ROOM_DESIGN[scene.room]["dims"]
            rt_mid = ROOM_DESIGN[scene.room]["rt60"]
            alpha_b = np.array([eyring_alpha(dims, rt_mid * m) for m in BAND_RT])
            beta_b = np.sqrt(1 - alpha_b)
            beta_mid = math.sqrt(1 - eyring_alpha(dims, rt_mid))
            wall = np.interp(np.log2(np.maximum(f, 1)), np.log2(BAND_HZ), beta_b / beta_mid) ** order
            V = dims[0] * dims[1] * dims[2]
            S = 2 * (dims[0] * dims[1] + dims[0] * dims[2] + dims[1] * dims[2])
            mfp = 4 * V / S
            air = 10 ** (-air_db_per_m(f) * order * mfp / 20)
            H = np.fft.rfft(self.h.mp, nfft, axis=-1) * (wall * air * np.exp(-2j * np.pi * f * 16 / SR))
            bank = np.fft.irfft(H, nfft, axis=-1)[..., :256 + 32].astype(np.float32)
            self._banks[key] = bank
        return self._banks[key]

    def early(self, x, scene, max_order=3):
        T = len(x)
        h = self.h
        dims = np.asarray(scene.dims, float)
        beta = math.sqrt(1 - eyring_alpha(dims, scene.rt60))
        signs, offs, orders = image_sources(dims, max_order)
        K = T // EARLY_HOP + 2
        kc = np.minimum(np.arange(K) * EARLY_HOP, T - 1)
        src = self._per_sample(scene.src, T, 3)[kc]
        yaw = self._per_sample(scene.yaw, T)[kc]
        pitch = self._per_sample(scene.pitch, T)[kc]
        allp = self._per_sample(scene.src, T, 3)
        for p, what in ((allp, "source"), (scene.listener[None], "listener")):
            if np.any(p < -1e-3) or np.any(p > dims + 1e-3):
                raise ValueError("%s outside the %s room %s" % (what, scene.room, tuple(dims)))
        direct_d = np.linalg.norm(src - scene.listener, axis=-1)
        early_s = scene.early_ms / 1000.0
        taper = 0.010
        imgs = offs[None] + signs[None] * src[:, None, :]                   # [K, I, 3]
        rel = to_head(imgs - scene.listener, yaw[:, None], pitch[:, None])
        az, el, d = sph(rel)
        t_after = (d - direct_d[:, None]) / C
        keep = np.any(t_after < early_s, axis=0)
        az, el, d, t_after, ords = az[:, keep], el[:, keep], d[:, keep], t_after[:, keep], orders[keep]
        win = np.clip((early_s - t_after) / taper, 0, 1)
        win = 0.5 - 0.5 * np.cos(np.pi * win)
        g = win * beta ** ords[None] / d                                    # [K, I]
        idx = h.nearest(az, el)                                             # [K, I]
        ons = h.onset[idx]                                                  # [K, I, 2]
        base = np.floor(direct_d / C * SR).astype(np.int64) - 64           # per-segment offset
        dl = np.round(d[..., None] / C * SR + ons - 16).astype(np.int64) - base[:, None, None]
        taps = 256 + 32
        Lb = int(dl.max()) + taps + 1
        pad = Lb
        nfft = 1 << int(np.ceil(np.log2(2 * EARLY_HOP + pad)))
        brir = np.zeros((K, 2, Lb), np.float32)
        kk = np.arange(K)[:, None]
        tt = np.arange(taps)[None, :]
        for i in range(len(ords)):
            bank = self._bank(scene, int(ords[i]))
            for e in range(2):
                vals = bank[idx[:, i], e, :] * g[:, i, None].astype(np.float32)
                brir[kk, e, dl[:, i, e][:, None] + tt] += vals
        # shift each segment by its base offset: apply as per-segment input delay
        spectra = np.fft.rfft(brir, nfft, axis=-1)
        out = self._tv_offsets(x, spectra, base, nfft, pad)
        return out

    def _tv_offsets(self, x, spectra, base, nfft, pad):
        """timevarying_filter with a per-segment integer delay base[k] (samples)."""
        T = len(x)
        K = spectra.shape[0]
        hop = EARLY_HOP
        L = 2 * hop
        maxb = int(base.max())
        front = hop + pad + maxb
        xp = np.concatenate([np.zeros(front, np.float32), x.astype(np.float32),
                             np.zeros(K * hop + L, np.float32)])
        start = np.arange(K) * hop - hop - pad - base + front
        frames = xp[start[:, None] + np.arange(L + pad)[None, :]]
        Y = np.fft.rfft(frames, nfft, axis=-1)[:, None, :] * spectra
        z = np.fft.irfft(Y, nfft, axis=-1)[:, :, pad:pad + L].astype(np.float32)
        z *= hann_periodic(L).astype(np.float32)
        out = np.zeros((2, (K + 1) * hop + L), np.float32)
        zz = z.transpose(1, 0, 2).reshape(2, K, 2, hop)
        out[:, :K * hop] += zz[:, :, 0, :].reshape(2, K * hop)
        out[:, hop:(K + 1) * hop] += zz[:, :, 1, :].reshape(2, K * hop)
        return out[:, hop:hop + T]

    # -- late tail
    def tail_ir(self, scene, rng):
        """Late reverberation IR per ear, [2, n], starting at the direct sound (t = 0)."""
        dims = scene.dims
        V = dims[0] * dims[1] * dims[2]
        rt_b = scene.rt60 * BAND_RT
        n = int(SR * (rt_b.max() * 70 / 60 + 0.05))
        nfft = 1 << int(np.ceil(np.log2(n)))
        masks = band_masks(nfft)
        coh = diffuse_coherence(BAND_HZ)
        A_b = 0.161 * V / rt_b
        gains = np.sqrt(16 * math.pi / A_b * 6 * math.log(10) / (rt_b * SR))
        df = self.h.diffuse_field_magnitude(nfft)
        ir = tail_noise(rng, n, rt_b, masks, coh, df, gains)
        t = np.arange(n) / SR
        t1 = scene.early_ms / 1000.0
        t0 = t1 - 0.010
        fade = np.clip((t - t0) / (t1 - t0), 0, 1)
        ir *= 0.5 - 0.5 * np.cos(np.pi * fade)
        return ir.astype(np.float32)

    def ambience(self, T, rng, level_rms):
        nfft = 1 << int(np.ceil(np.log2(T + 1)))
        f = np.fft.rfftfreq(nfft, 1.0 / SR)
        shape = 1.0 / np.sqrt(np.maximum(f, 50.0))                       # pink
        shape *= 1.0 / np.sqrt(1 + (f / 8000.0) ** 2)
        coh = diffuse_coherence(f)
        A = np.fft.rfft(rng.standard_normal(nfft))
        B = np.fft.rfft(rng.standard_normal(nfft))
        c1, c2 = np.sqrt((1 + coh) / 2), np.sqrt((1 - coh) / 2)
        df = self.h.diffuse_field_magnitude(nfft)
        L = np.fft.irfft((c1 * A + c2 * B) * shape * df[0], nfft)[:T]
        R = np.fft.irfft((c1 * A - c2 * B) * shape * df[1], nfft)[:T]
        y = np.stack([L, R])
        y *= level_rms / (np.sqrt(np.mean(y ** 2)) + 1e-20)
        return y.astype(np.float32)

    # -- everything
    def render(self, x, scene, rng=None, parts=False):
        """Binaural [2, T] float32 (same length as x), and the head-relative (az, el, d)
        per sample. parts=True also returns the components in a dict."""
        rng = np.random.default_rng(0) if rng is None else rng
        x = np.asarray(x, np.float32)
        T = len(x)
        y, pos = self.direct(x, scene)
        comp = {"direct": y.copy()}
        if scene.dims is not None and scene.rt60 > 0:
            e = self.early(x, scene)
            comp["early"] = e
            ir = self.tail_ir(scene, rng)
            d = np.clip(np.linalg.norm(self._per_sample(scene.src, T, 3) - scene.listener, axis=-1), DIST_MIN, None)
            shift = int(round(float(np.mean(d)) / C * SR))
            tail = np.stack([signal.oaconvolve(x, ir[i])[:T] for i in range(2)])
            tail = np.concatenate([np.zeros((2, shift), np.float32), tail[:, :T - shift]], axis=1) \
                if shift < T else np.zeros_like(tail)
            comp["tail"] = tail.astype(np.float32)
            y = y + e + comp["tail"]
            if scene.ambience_db is not None:
                xr = np.sqrt(np.mean(x.astype(np.float64) ** 2)) + 1e-12
                amb = self.ambience(T, rng, xr * 10 ** (-scene.ambience_db / 20))
                comp["ambience"] = amb
                y = y + amb
        if parts:
            return y, pos, comp
        return y, pos

    def brir(self, scene, n, rng=None):
        """Binaural room impulse response [2, n] of a static scene (an impulse rendered)."""
        x = np.zeros(n, np.float32)
        x[0] = 1.0
        s = Scene(scene.room, scene.dims, scene.rt60, scene.listener, scene.src, scene.yaw,
                  scene.pitch, scene.early_ms, None)
        return self.render(x, s, rng)[0]
