"""earflow DSP helpers: the exact signal path of docs/model-spec.md (sections 1, 2, 5).

Everything here is numpy. Conventions used throughout train/:

* A complex spectrum of C channels is stored in the spec's "real layout":
  real channel 2c = Re(channel c), 2c+1 = Im(channel c).
* Time-frequency tensors are [channels, T, F] (T frames, F = n_fft/2 bins, Nyquist
  dropped), matching the network layout [B, C, T, F].
* Streaming alignment (what the C runtime does): the analysis buffer starts as N
  zeros and frame m covers input samples [(m+1)*hop - N, (m+1)*hop). Offline this
  is: pad the input with N - hop zeros in front (and, for the golden data, N zeros
  at the end), take frames at m*hop, overlap-add frame m's synthesis at padded
  position m*hop, and read the aligned output as y_padded[n + N - hop].
"""

import math

import numpy as np

MASK64 = (1 << 64) - 1
MASK32 = (1 << 32) - 1
PCG_MULT = 6364136223846793005


# --------------------------------------------------------------------------- STFT


def sqrt_hann(n_fft):
    """Periodic sqrt-Hann window, float64: w[n] = sqrt(0.5 - 0.5 cos(2 pi n / N))."""
    n = np.arange(n_fft, dtype=np.float64)
    return np.sqrt(np.maximum(0.5 - 0.5 * np.cos(2.0 * np.pi * n / n_fft), 0.0))


def synthesis_norm(n_fft, hop):
    """s[j] = sum_i w[j + i*hop]^2 for j = 0..hop-1 (float64)."""
    if n_fft % hop != 0 or n_fft // hop < 2:
        raise ValueError("hop must divide n_fft with n_fft/hop >= 2")
    w = sqrt_hann(n_fft)
    return (w.reshape(n_fft // hop, hop) ** 2).sum(axis=0)


def synthesis_window(n_fft, hop):
    """w[n] / s[n mod hop] (float64): multiply irfft output by this before OLA."""
    w = sqrt_hann(n_fft)
    s = synthesis_norm(n_fft, hop)
    return w / np.tile(s, n_fft // hop)


def pad_for_streaming(x, n_fft, hop, tail=None):
    """Front-pad with N - hop zeros (streaming alignment); tail zeros (default N)."""
    x = np.asarray(x, dtype=np.float64)
    if tail is None:
        tail = n_fft
    return np.concatenate([np.zeros(n_fft - hop), x, np.zeros(tail)])


def num_frames(n, n_fft, hop, tail=None):
    if tail is None:
        tail = n_fft
    padded = n + n_fft - hop + tail
    return (padded - n_fft) // hop + 1


def stft(x, n_fft, hop, tail=None):
    """Offline STFT with the streaming alignment.

    x: [n] mono waveform. Returns complex128 [M, n_fft/2 + 1] (Nyquist included),
    X[m] = rfft(w * x_padded[m*hop : m*hop + N]) (unnormalised).
    Computed in float64; the runtime uses float32 (difference ~1e-7 relative).
    """
    xp = pad_for_streaming(x, n_fft, hop, tail)
    m_frames = (len(xp) - n_fft) // hop + 1
    idx = np.arange(m_frames)[:, None] * hop + np.arange(n_fft)[None, :]
    frames = xp[idx] * sqrt_hann(n_fft)[None, :]
    return np.fft.rfft(frames, axis=-1)


def istft(Y, n_fft, hop, n):
    """Overlap-add synthesis with the spec's normalisation, aligned and cropped.

    Y: complex [..., M, n_fft/2 + 1]. Each frame: irfft(Y) (numpy's irfft, which has the
    1/N factor and, being the Hermitian inverse, ignores Im of the DC and Nyquist
    bins) times w / s[n mod hop], overlap-added at padded position m*hop.
    Returns float64 [..., n] = y_padded[N - hop : N - hop + n].
    """
    Y = np.asarray(Y)
    lead = Y.shape[:-2]
    m_frames = Y.shape[-2]
    frames = np.fft.irfft(Y, n=n_fft, axis=-1) * synthesis_window(n_fft, hop)
    total = (m_frames - 1) * hop + n_fft
    y = np.zeros(lead + (total,), dtype=np.float64)
    for m in range(m_frames):
        y[..., m * hop:m * hop + n_fft] += frames[..., m, :]
    start = n_fft - hop
    if start + n > total:
        raise ValueError("not enough frames for %d output samples" % n)
    return y[..., start:start + n]


# ------------------------------------------------------------------ real layout


def complex_to_real_layout(Z):
    """complex [C, ...] -> float32 [2C, ...] with 2c = Re, 2c+1 = Im."""
    Z = np.asarray(Z)
    out = np.empty((2 * Z.shape[0],) + Z.shape[1:], dtype=np.float32)
    out[0::2] = Z.real
    out[1::2] = Z.imag
    return out


def real_layout_to_complex(R):
    R = np.asarray(R)
    return R[0::2].astype(np.float64) + 1j * R[1::2].astype(np.float64)


# --------------------------------------------------------- compress / decompress


def compress(re, im, alpha, beta):
    """Xc = beta * X * (|X|^2 + 1e-12)^((alpha - 1)/2), float32 arithmetic."""
    re = np.asarray(re, dtype=np.float32)
    im = np.asarray(im, dtype=np.float32)
    mag2 = re * re + im * im
    g = np.float32(beta) * np.power(mag2 + np.float32(1e-12), np.float32((alpha - 1.0) / 2.0))
    return re * g, im * g


def decompress(re, im, alpha, beta):
    """Y = (x/beta) * (|x/beta|^2 + 1e-12)^((1/alpha - 1)/2), float32 arithmetic."""
    xr = np.asarray(re, dtype=np.float32) / np.float32(beta)
    xi = np.asarray(im, dtype=np.float32) / np.float32(beta)
    mag2 = xr * xr + xi * xi
    g = np.power(mag2 + np.float32(1e-12), np.float32((1.0 / alpha - 1.0) / 2.0))
    return xr * g, xi * g


def compress_real_layout(R, alpha, beta):
    """float32 real layout [2C, ...] -> compressed real layout."""
    R = np.asarray(R, dtype=np.float32)
    out = np.empty_like(R)
    out[0::2], out[1::2] = compress(R[0::2], R[1::2], alpha, beta)
    return out


def decompress_real_layout(R, alpha, beta):
    R = np.asarray(R, dtype=np.float32)
    out = np.empty_like(R)
    out[0::2], out[1::2] = decompress(R[0::2], R[1::2], alpha, beta)
    return out


# ------------------------------------------------------------------------ noise


class Pcg32:
    """PCG32 (XSH-RR, 64-bit state), seeded like pcg32_srandom_r(seed, initseq)."""

    def __init__(self, seed, initseq=54):
        self.state = 0
        self.inc = ((initseq << 1) | 1) & MASK64
        self.next_u32()
        self.state = (self.state + seed) & MASK64
        self.next_u32()

    def next_u32(self):
        old = self.state
        self.state = (old * PCG_MULT + self.inc) & MASK64
        xorshifted = (((old >> 18) ^ old) >> 27) & MASK32
        rot = old >> 59
        return ((xorshifted >> rot) | (xorshifted << ((-rot) & 31))) & MASK32

    def uniform(self):
        """u = ((r >> 8) + 0.5) / 2^24, in (0, 1), double."""
        return ((self.next_u32() >> 8) + 0.5) / 16777216.0

    def normals(self, count):
        """count normals (count even) by Box-Muller in double, rounded to float32."""
        if count % 2:
            raise ValueError("normals come in pairs")
        out = np.empty(count, dtype=np.float64)
        for i in range(0, count, 2):
            u1 = self.uniform()
            u2 = self.uniform()
            r = math.sqrt(-2.0 * math.log(u1))
            out[i] = r * math.cos(2.0 * math.pi * u2)
            out[i + 1] = r * math.sin(2.0 * math.pi * u2)
        return out.astype(np.float32)


def first_sound_frame(X):
    """The first frame of an STFT [M, F+1] with a non-zero bin (M: none): the engine's
    random draws start there, leading silent frames draw nothing (spec section 5)."""
    sound = np.flatnonzero(np.any(np.asarray(X) != 0, axis=1))
    return int(sound[0]) if len(sound) else len(X)


def frame_noise(seed, frames, c_out, n_bins, start=0):
    """The engine's eps for `frames` frames after a reset: float32 [M, 2*C_out, F];
    frames before `start` (silence since the reset) are zero and draw nothing.

    Each frame draws 2*C_out*F normals, real-channel major (r, then f)."""
    rng = Pcg32(seed, 54)
    per = 2 * c_out * n_bins
    return np.stack([rng.normals(per).reshape(2 * c_out, n_bins) if m >= start
                     else np.zeros((2 * c_out, n_bins), np.float32) for m in range(frames)])


# ----------------------------------------------------------------- conditioning


def cond_dim(config):
    cc = config["conditioning"]
    if config["kind"] == "binaural":
        return 5 + len(cc["rooms"])
    return len(cc["labels"]) + 1


def binaural_features(az_deg, el_deg, dist, room, config):
    """Raw binaural conditioning rows: [cos az, sin az, cos el, sin el, ln dist, onehot].

    Inputs are arrays over frames (degrees, metres, room index). Trigonometry and log
    in double, then rounded to float32."""
    cc = config["conditioning"]
    rooms = len(cc["rooms"])
    az = np.asarray(az_deg, dtype=np.float64) * (np.pi / 180.0)
    el = np.asarray(el_deg, dtype=np.float64) * (np.pi / 180.0)
    d = np.clip(np.asarray(dist, dtype=np.float64), cc["dist_min"], cc["dist_max"])
    room = np.asarray(np.rint(room), dtype=np.int64)
    out = np.zeros((len(az), 5 + rooms), dtype=np.float64)
    out[:, 0] = np.cos(az)
    out[:, 1] = np.sin(az)
    out[:, 2] = np.cos(el)
    out[:, 3] = np.sin(el)
    out[:, 4] = np.log(d)
    for m, r in enumerate(room):
        if not 0 <= r < rooms:
            raise ValueError("room index %d out of range" % r)
        out[m, 5 + r] = 1.0
    return out.astype(np.float32)


def separate_features(label, remove, config):
    """Raw separation conditioning rows: [onehot(label) (L), remove]."""
    labels = len(config["conditioning"]["labels"])
    label = np.asarray(np.rint(label), dtype=np.int64)
    out = np.zeros((len(label), labels + 1), dtype=np.float32)
    for m, l in enumerate(label):
        if not 0 <= l < labels:
            raise ValueError("label index %d out of range" % l)
        out[m, l] = 1.0
    out[:, labels] = np.asarray(remove, dtype=np.float32)
    return out


def params_to_features(params, config):
    """Per-frame raw params [M, 4] -> raw features [M, D_c] (spec section 2).

    binaural: (azimuth deg, elevation deg, distance m, room index)
    separate: (label index, remove flag, 0, 0)"""
    params = np.asarray(params, dtype=np.float32)
    if config["kind"] == "binaural":
        return binaural_features(params[:, 0], params[:, 1], params[:, 2], params[:, 3], config)
    return separate_features(params[:, 0], params[:, 1], config)


def smoothing_coef(config):
    """a = 1 - exp(-hop / (sample_rate * smoothing_ms / 1000)) (1 if smoothing_ms == 0),
    computed in double and rounded to float32."""
    ms = config["conditioning"]["smoothing_ms"]
    if ms == 0:
        return np.float32(1.0)
    return np.float32(1.0 - math.exp(-config["hop"] / (config["sample_rate"] * ms / 1000.0)))


def smooth(c_raw, a):
    """c_s[0] = c_raw[0]; c_s[m] = c_s[m-1] + a * (c_raw[m] - c_s[m-1]); float32."""
    c_raw = np.asarray(c_raw, dtype=np.float32)
    a = np.float32(a)
    out = np.empty_like(c_raw)
    prev = c_raw[0].copy()
    out[0] = prev
    for m in range(1, len(c_raw)):
        prev = prev + a * (c_raw[m] - prev)
        out[m] = prev
    return out


def conditioning(params, config):
    """Raw per-frame params [M, 4] -> smoothed features c_s [M, D_c] (float32)."""
    return smooth(params_to_features(params, config), smoothing_coef(config))


# ------------------------------------------------------- spherical-head prior

HEAD_RADIUS = 0.0875     # m
SPEED_OF_SOUND = 343.0   # m/s
SHADOW_ALPHA_MIN = 0.1   # Brown & Duda (1998) head-shadow filter
SHADOW_THETA_MIN = 150.0 * math.pi / 180.0


def head_prior_gains(c_s, config):
    """conditioning.prior "spherical_head" (spec section 4): per frame, ear and bin the
    complex gain P that turns the compressed mono spectrum into the prior of that ear,
    from the smoothed features c_s [M, D_c]: a rigid sphere's interaural delay
    (Woodworth, relative to the nearer ear) and head shadow (Brown & Duda's one-pole
    one-zero filter), raised to the compression exponent in magnitude.

    Returns float32 [M, 2 ears, 2 (re, im), F]; double inside."""
    c_s = np.asarray(c_s, dtype=np.float32)
    n_fft, sr = config["n_fft"], config["sample_rate"]
    alpha_c = float(np.float32(config["compress"]["alpha"]))
    F = n_fft // 2
    g = np.clip(c_s[:, 2].astype(np.float64) * c_s[:, 1].astype(np.float64), -1.0, 1.0)
    s = np.stack([g, -g], axis=1)                         # cos(angle to each ear's axis)
    theta = np.arccos(s)
    a_c = HEAD_RADIUS / SPEED_OF_SOUND
    tau = np.where(theta < math.pi / 2, -a_c * s, a_c * (theta - math.pi / 2))
    tau = tau - tau.min(axis=1, keepdims=True)           # the nearer ear leads at 0
    alpha = (1.0 + SHADOW_ALPHA_MIN / 2) + (1.0 - SHADOW_ALPHA_MIN / 2) * np.cos(
        theta / SHADOW_THETA_MIN * math.pi)
    w = 2.0 * math.pi * np.arange(F, dtype=np.float64) * sr / n_fft      # rad/s per bin
    u = (w * HEAD_RADIUS / (2.0 * SPEED_OF_SOUND))[None, None, :]        # w / (2 w0)
    al = alpha[:, :, None]
    den = 1.0 + u * u
    h_re = (1.0 + al * u * u) / den
    h_im = (al * u - u) / den
    ph = w[None, None, :] * tau[:, :, None]
    c, sn = np.cos(ph), np.sin(ph)
    p_re = h_re * c + h_im * sn                           # H * exp(-j w tau)
    p_im = h_im * c - h_re * sn
    mag2 = p_re * p_re + p_im * p_im
    k = np.power(mag2, (alpha_c - 1.0) / 2.0)            # |P| = |H|^alpha_c
    out = np.stack([p_re * k, p_im * k], axis=2)
    return out.astype(np.float32)


def apply_prior(cond, gains):
    """cond [2, M, F] (compressed mono, real layout), gains [M, E, 2, F] -> the prior
    [2E, M, F] float32: per ear the complex product, in float32."""
    cr, ci = cond[0][:, None, :], cond[1][:, None, :]     # [M, 1, F]
    pr, pi = gains[:, :, 0], gains[:, :, 1]               # [M, E, F]
    re = (cr * pr - ci * pi).astype(np.float32)
    im = (cr * pi + ci * pr).astype(np.float32)
    out = np.stack([re, im], axis=2)                      # [M, E, 2, F]
    return np.ascontiguousarray(out.reshape(out.shape[0], -1, out.shape[-1]).transpose(1, 0, 2))


# ----------------------------------------------------------------- room tail

ROOM_TAIL_SEED, ROOM_TAIL_SEQUENCE = 0, 55   # the flow's noise is sequence 54
ROOM_TAIL_PHASES = 1024                       # a draw's top 10 bits pick a rotation
ROOM_TAIL_MAX_DECAY = np.float32(0.9999)      # EF_ROOM_TAIL_MAX_DECAY
ROOM_TAIL_MID_HZ = 707.1067811865476          # EF_ROOM_TAIL_MID_HZ: the mid band's centre
ROOM_TAIL_MIN_RT60 = 0.05                     # EF_ROOM_TAIL_MIN_RT60


def room_tail_table_rt60(decay, config):
    """[R] mid-band RT60 (s) of each room's decay table, read at the bin nearest
    ROOM_TAIL_MID_HZ (0: no mid-band tail), as the engine's ef_room_tail_table_rt60."""
    decay = np.asarray(decay, np.float32)
    F = decay.shape[-1]
    k = int(min(max(math.floor(ROOM_TAIL_MID_HZ * 2.0 * F / config["sample_rate"] + 0.5), 1), F - 1))
    d = decay[..., k].astype(np.float64)
    ok = (d > 0) & (d < 1)
    return np.where(ok, -3.0 * config["hop"] / (config["sample_rate"] * np.log10(np.where(ok, d, 0.5))), 0.0)


def room_tail_decay(decay, rt60, config):
    """The decay control (EF_CONTROL_DECAY, spec section 4): the tables [R, F] rescaled
    so that each room's mid-band RT60 is rt60 s, d' = d ^ (own RT60 / rt60), in double as
    the engine; rt60 <= 0 (or a room without a mid-band tail): the table as it is."""
    decay = np.asarray(decay, np.float32)
    if rt60 <= 0:
        return decay.copy()
    rt60 = max(float(rt60), ROOM_TAIL_MIN_RT60)
    out = decay.copy()
    for r, own in enumerate(room_tail_table_rt60(decay, config)):
        if own <= 0:
            continue
        d = decay[r].astype(np.float64)
        with np.errstate(divide="ignore"):
            v = np.exp(np.log(d) * (own / rt60))
        out[r] = np.where(d > 0, np.minimum(v, np.float64(ROOM_TAIL_MAX_DECAY)), 0.0).astype(np.float32)
    return out


def direct_gain(c_s, config):
    """conditioning.room_tail: the direct sound's 1 / distance in the compressed domain,
    exp(-alpha ln dist) per frame from the smoothed features (double, then float32)."""
    alpha = float(np.float32(config["compress"]["alpha"]))
    return np.exp(-alpha * np.asarray(c_s, np.float32)[..., 4].astype(np.float64)).astype(np.float32)


def room_tail_draws(frames, F, start=0):
    """The engine's phase indices after a reset: int [M, 2, F] (state A's bins, then
    B's, per frame), PCG32(seed 0, sequence 55), each draw's top 10 bits; frames before
    `start` (silence since the reset: the states stay zero) draw nothing (index 0)."""
    rng = Pcg32(ROOM_TAIL_SEED, ROOM_TAIL_SEQUENCE)
    return np.array([[rng.next_u32() >> 22 if m >= start else 0 for _ in range(2 * F)]
                     for m in range(frames)], dtype=np.int64).reshape(frames, 2, F)


def room_tail_phasors():
    """The 1024 unit rotations, cos and sin of 2 pi j / 1024 in double, as float32."""
    j = np.arange(ROOM_TAIL_PHASES, dtype=np.float64) * (2.0 * math.pi / ROOM_TAIL_PHASES)
    return np.cos(j).astype(np.float32), np.sin(j).astype(np.float32)


def room_tail(X, weights, decay, send, mix, draws):
    """The late tail of spec section 4, in float32 as the engine computes it.

    X [..., M, F] complex (the input STFT, float32 parts), weights [..., M, R] (the
    smoothed room features), decay [R, F] or one table per item [..., R, F] (the decay
    control's, room_tail_decay), send [R, F], mix [2, F], draws [..., M, 2, F] phase
    indices. Returns the tail heard at each frame, complex64 [..., 2 ears, M, F]."""
    f32 = np.float32
    X = np.asarray(X).astype(np.complex64)
    xr, xi = X.real.astype(f32), X.imag.astype(f32)
    w = np.asarray(weights, f32)
    decay, send, mix = (np.asarray(a, f32) for a in (decay, send, mix))
    pre, im_ = room_tail_phasors()
    lead, (M, F) = X.shape[:-2], X.shape[-2:]
    a = np.zeros(lead + (2, F), f32)          # [..., re/im, F]
    b = np.zeros(lead + (2, F), f32)
    c1, c2 = mix[0], mix[1]
    out = np.zeros(lead + (2, M, F), np.complex64)
    for m in range(M):
        d = np.zeros(lead + (F,), f32)
        g = np.zeros(lead + (F,), f32)
        for r in range(send.shape[0]):
            wr = w[..., m, r][..., None]
            d = d + wr * decay[..., r, :]
            g = g + wr * send[r]
        out[..., 0, m, :] = (c1 * a[..., 0, :] + c2 * b[..., 0, :]) + 1j * (c1 * a[..., 1, :] + c2 * b[..., 1, :])
        out[..., 1, m, :] = (c1 * a[..., 0, :] - c2 * b[..., 0, :]) + 1j * (c1 * a[..., 1, :] - c2 * b[..., 1, :])
        for s, j in ((a, draws[..., m, 0, :]), (b, draws[..., m, 1, :])):
            pr, pi = pre[j], im_[j]
            ar = d * s[..., 0, :] + g * xr[..., m, :]
            ai = d * s[..., 1, :] + g * xi[..., m, :]
            s[..., 0, :] = pr * ar - pi * ai
            s[..., 1, :] = pr * ai + pi * ar
    return out
