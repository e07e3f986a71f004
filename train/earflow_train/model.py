"""earflow velocity network U(x, t, c) and the offline reference pipeline.

Follows docs/model-spec.md sections 1-4 exactly; the state_dict keys are the tensor
names of spec section 6.

Layouts: x [B, 2(C_out + C_cond), T, F] (real layout, state first, then the
conditioning spectrum), t [B] or scalar, c [B, T, D_c] (smoothed conditioning).
"""

import math

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as Fn

from . import dsp, flow

C_COND = 1


def c_out_of(kind):
    if kind == "binaural":
        return 2
    if kind == "separate":
        return 1
    raise ValueError("unknown kind %r" % (kind,))


class FrameGroupNorm(nn.GroupNorm):
    """GroupNorm over one frame: statistics over (channels of the group x F) of a
    single time frame, never across frames. Input [B, C, T, F]."""

    def forward(self, x):
        b, c, t, f = x.shape
        y = x.permute(0, 2, 1, 3).reshape(b * t, c, f)
        y = Fn.group_norm(y, self.num_groups, self.weight, self.bias, self.eps)
        return y.reshape(b, t, c, f).permute(0, 2, 1, 3)


def conv_kt1(cin, cout, stride=1):
    """kt = 1, kf = 3 conv; frequency padding 1 each side, optional frequency stride."""
    return nn.Conv2d(cin, cout, kernel_size=(1, 3), stride=(1, stride), padding=(0, 1))


OUT_GAIN_MAX_LOG = 10.0     # arch.out_gain's clamp (natural log), as the C engine


class TimeEmbedding(nn.Module):
    """u = [sin(2 pi f t), cos(2 pi f t), c_s]; e = silu(fc2(silu(fc1(u))))."""

    def __init__(self, fourier_dim, cond_dim, emb_dim):
        super().__init__()
        self.register_buffer("t_freqs", torch.zeros(fourier_dim))
        self.fc1 = nn.Linear(2 * fourier_dim + cond_dim, emb_dim)
        self.fc2 = nn.Linear(emb_dim, emb_dim)

    def forward(self, t, c):
        # t: [B], c: [B, T, D_c] -> e: [B, T, E]
        arg = 2.0 * math.pi * self.t_freqs[None, :] * t[:, None]          # [B, E_f]
        tf = torch.cat([torch.sin(arg), torch.cos(arg)], dim=1)            # [B, 2E_f]
        tf = tf[:, None, :].expand(-1, c.shape[1], -1)
        u = torch.cat([tf, c], dim=2)
        return Fn.silu(self.fc2(Fn.silu(self.fc1(u))))


class ResBlock(nn.Module):
    def __init__(self, ch, emb_dim, kt, dil, groups):
        super().__init__()
        self.kt = kt
        self.dil = dil
        self.norm1 = FrameGroupNorm(groups, ch, eps=1e-5)
        self.conv1 = nn.Conv2d(ch, ch, kernel_size=(kt, 3), dilation=(dil, 1))
        self.proj = nn.Linear(emb_dim, ch)
        self.norm2 = FrameGroupNorm(groups, ch, eps=1e-5)
        self.conv2 = conv_kt1(ch, ch)

    def forward(self, x, e):
        # x [B, C, T, F], e [B, T, E]
        h = Fn.silu(self.norm1(x))
        # causal in time: (kt-1)*dil zero frames on the past side only; 1 bin each side in F
        h = Fn.pad(h, (1, 1, (self.kt - 1) * self.dil, 0))
        h = self.conv1(h)
        h = h + self.proj(e).permute(0, 2, 1)[:, :, :, None]
        h = self.conv2(Fn.silu(self.norm2(h)))
        return x + h


class RoomTail(nn.Module):
    """conditioning.room_tail's tables (spec section 4), fixed, not trained: buffers
    room_tail.decay [R, F], room_tail.send [R, F], room_tail.mix [2, F]."""

    def __init__(self, n_rooms, F):
        super().__init__()
        self.register_buffer("decay", torch.zeros(n_rooms, F))
        self.register_buffer("send", torch.zeros(n_rooms, F))
        self.register_buffer("mix", torch.zeros(2, F))

    def tables(self):
        return tuple(t.detach().cpu().numpy() for t in (self.decay, self.send, self.mix))


class EarflowUNet(nn.Module):
    def __init__(self, config):
        super().__init__()
        self.config = config
        arch = config["arch"]
        widths = list(arch["widths"])
        kt, g, E, Ef = arch["kt"], arch["groups"], arch["emb_dim"], arch["fourier_dim"]
        L = len(widths) - 1
        if len(arch["dil_enc"]) != L or len(arch["dil_dec"]) != L:
            raise ValueError("dil_enc / dil_dec must have len(widths) - 1 entries")
        if any(w % g for w in widths):
            raise ValueError("every width must be divisible by groups")
        F = config["n_fft"] // 2
        if F % (2 ** L):
            raise ValueError("F must be divisible by 2^L")
        self.kind = config["kind"]
        self.c_out = c_out_of(self.kind)
        self.c_cond = C_COND
        self.cond_dim = dsp.cond_dim(config)
        self.n_levels = L

        self.emb = TimeEmbedding(Ef, self.cond_dim, E)
        self.in_conv = conv_kt1(2 * (self.c_out + self.c_cond), widths[0])
        # optional learned frequency embedding [w0, F], added after in_conv: tells
        # every bin where in frequency it is (convs alone only see the band edges)
        if arch.get("freq_emb", False):
            self.freq_emb = nn.Parameter(torch.zeros(widths[0], F))
        else:
            self.freq_emb = None
        self.enc = nn.ModuleList(
            [ResBlock(widths[l], E, kt, arch["dil_enc"][l], g) for l in range(L)])
        self.down = nn.ModuleList(
            [conv_kt1(widths[l], widths[l + 1], stride=2) for l in range(L)])
        self.mid = nn.ModuleList([ResBlock(widths[L], E, kt, d, g) for d in arch["dil_mid"]])
        self.up = nn.ModuleList([conv_kt1(widths[l + 1], widths[l]) for l in range(L)])
        self.dec = nn.ModuleList(
            [ResBlock(widths[l], E, kt, arch["dil_dec"][l], g) for l in range(L)])
        # what the output means (spec section 4): a velocity, or a complex mask on the
        # conditioning spectrum whose product is the predicted end point
        self.head = arch.get("head", "velocity")
        if self.head not in ("velocity", "mask"):
            raise ValueError("arch.head must be 'velocity' or 'mask'")
        # optional (mask head with a room tail): per ear and bin a log gain on the tail,
        # c_out more output channels; the mask is then on the direct sound only
        self.tail_gain = bool(arch.get("tail_gain", False))
        if self.tail_gain and (self.head != "mask" or not config["conditioning"].get("room_tail", False)):
            raise ValueError("arch.tail_gain needs arch.head 'mask' and conditioning.room_tail")
        # optional (separation): one output layer per label, weighed by the smoothed
        # label, so that labels wanting opposite masks of one mixture do not share one
        self.n_heads = 1
        if arch.get("label_heads", False):
            if self.kind != "separate":
                raise ValueError("arch.label_heads needs kind 'separate'")
            self.n_heads = len(config["conditioning"]["labels"])
        self.out_norm = FrameGroupNorm(g, widths[0], eps=1e-5)
        self.out_conv = conv_kt1(widths[0], (3 if self.tail_gain else 2) * self.c_out * self.n_heads)
        # optional: a real gain per output channel and bin, exp(clamp(W e + b, +-10)),
        # on the mask, straight from the embedding (what an HRTF's magnitude is);
        # zero at init, so that a warm start from a model without it is unchanged
        if arch.get("out_gain", False):
            if self.head != "mask":
                raise ValueError("arch.out_gain needs arch.head 'mask'")
            self.out_gain = nn.Linear(E, self.c_out * F)
            nn.init.zeros_(self.out_gain.weight)
            nn.init.zeros_(self.out_gain.bias)
        else:
            self.out_gain = None
        # optional (binaural, spherical-head prior): a late tail per ear added to the prior
        self.room_tail = None
        if config["conditioning"].get("room_tail", False):
            if config["conditioning"].get("prior") != "spherical_head":
                raise ValueError("conditioning.room_tail needs prior 'spherical_head'")
            self.room_tail = RoomTail(len(config["conditioning"]["rooms"]), F)

    @classmethod
    def from_config(cls, config):
        return cls(config)

    def forward(self, x, t, c):
        b = x.shape[0]
        t = torch.as_tensor(t, dtype=x.dtype, device=x.device)
        if t.dim() == 0:
            t = t.expand(b)
        e = self.emb(t, c)
        h = self.in_conv(x)
        if self.freq_emb is not None:
            h = h + self.freq_emb[None, :, None, :]
        skips = []
        for l in range(self.n_levels):
            h = self.enc[l](h, e)
            skips.append(h)
            h = self.down[l](h)
        for blk in self.mid:
            h = blk(h, e)
        for l in reversed(range(self.n_levels)):
            h = torch.repeat_interleave(h, 2, dim=3)       # nearest, F -> 2F
            h = self.up[l](h) + skips[l]
            h = self.dec[l](h, e)
        o = self.out_conv(Fn.silu(self.out_norm(h)))
        if self.n_heads > 1:              # sum over heads of label weight x head
            H = self.n_heads
            o = o.reshape(b, H, -1, o.shape[2], o.shape[3])
            o = (o * c[:, :, :H].permute(0, 2, 1)[:, :, None, :, None]).sum(dim=1)
        if self.out_gain is not None:     # on the mask's channels (not tail_gain's)
            g = self.out_gain(e).clamp(-OUT_GAIN_MAX_LOG, OUT_GAIN_MAX_LOG)   # [B, T, C_out F]
            g = g.reshape(b, g.shape[1], self.c_out, -1).permute(0, 2, 1, 3)  # [B, C_out, T, F]
            m = o[:, :2 * self.c_out] * torch.exp(g).repeat_interleave(2, dim=1)
            o = torch.cat([m, o[:, 2 * self.c_out:]], dim=1) if self.tail_gain else m
        return o


    def endpoint(self, state, cond, t, c, prior=None, tail=None):
        """Mask head only: the predicted end point x1 = mask * prior (complex, per
        output channel). state, prior [B, 2C_out, T, F], cond [B, 2C_cond, T, F];
        prior None: the conditioning spectrum on every output channel. With
        arch.tail_gain, prior is the direct sound and tail [B, 2C_out, T, F] the
        compressed room tail: x1 = mask * prior + exp(gain) * tail."""
        o = self(torch.cat([state, cond], 1), t, c)
        C = self.c_out
        mr, mi = o[:, 0:2 * C:2], o[:, 1:2 * C:2]      # [B, C_out, T, F]
        if prior is None:
            pr, pi = cond[:, 0:1], cond[:, 1:2]
        else:
            pr, pi = prior[:, 0::2], prior[:, 1::2]
        re, im = mr * pr - mi * pi, mr * pi + mi * pr
        if self.tail_gain:
            if tail is None:
                raise ValueError("arch.tail_gain: the endpoint needs the room tail")
            s = torch.exp(o[:, 2 * C:].clamp(-OUT_GAIN_MAX_LOG, OUT_GAIN_MAX_LOG))
            re, im = re + s * tail[:, 0::2], im + s * tail[:, 1::2]
        x1 = torch.stack([re, im], dim=2)
        return x1.reshape(state.shape)                   # re/im interleaved per channel

    def velocity(self, state, cond, t, c, prior=None, tail=None):
        """U(x, t, c) as a velocity whatever the head: a mask head's end point x1 is
        reached from x at t by (x1 - x) / (1 - t)."""
        if self.head == "velocity":
            return self(torch.cat([state, cond], 1), t, c)
        b = state.shape[0]
        t = torch.as_tensor(t, dtype=state.dtype, device=state.device)
        if t.dim() == 0:
            t = t.expand(b)
        inv = (1.0 / (1.0 - t.double())).to(state.dtype)[:, None, None, None]
        return (self.endpoint(state, cond, t, c, prior, tail) - state) * inv


# ----------------------------------------------------------------- random init


@torch.no_grad()
def init_random_(model, seed, weight_gain=1.0, bias_std=0.1, out_gain=1.0, freq_scale=2.0):
    """Deterministic random weights for golden tests. Norm affines are randomised too.

    Conv/linear weights ~ N(0, gain^2 / fan_in); biases ~ N(0, bias_std^2);
    norm weight ~ 1 + 0.2 N, bias ~ 0.1 N; t_freqs ~ freq_scale * |N|."""
    g = torch.Generator().manual_seed(seed)

    def randn(shape):
        return torch.randn(shape, generator=g, dtype=torch.float32)

    for name, p in model.named_parameters():
        if p.dim() >= 2:
            fan_in = p[0].numel()
            gain = out_gain if name.startswith("out_conv") else weight_gain
            p.copy_(randn(p.shape) * (gain / math.sqrt(fan_in)))
        elif ".norm" in name or name.startswith("out_norm"):
            if name.endswith("weight"):
                p.copy_(1.0 + 0.2 * randn(p.shape))
            else:
                p.copy_(0.1 * randn(p.shape))
        else:
            p.copy_(bias_std * randn(p.shape))
    model.emb.t_freqs.copy_(freq_scale * randn(model.emb.t_freqs.shape).abs())


# ------------------------------------------------------------------- the solver


def _as_t(a):
    return a if torch.is_tensor(a) else torch.as_tensor(np.asarray(a), dtype=torch.float32)


@torch.no_grad()
def solve(model, cond_spec, c_smoothed, noise, sigma, solver, steps, t0, prior=None, tail=None):
    """Run the flow offline over a whole sequence.

    cond_spec:  [2*C_cond, T, F] compressed conditioning spectrum, real layout
    c_smoothed: [T, D_c] smoothed conditioning
    noise:      [T, 2*C_out, F] eps (spec section 5 order)
    prior:      [2*C_out, T, F] conditioning.prior's (None: the mono copy)
    tail:       [2*C_out, T, F] arch.tail_gain's compressed room tail: prior is then
                the direct sound alone and the flow starts from prior + tail
    Returns the final state, compressed domain, real layout, float32 tensor
    [2*C_out, T, F].
    """
    cond = _as_t(cond_spec).float()
    c = _as_t(c_smoothed).float()[None]                         # [1, T, D_c]
    eps = _as_t(noise).float().permute(1, 0, 2)                 # [2C_out, T, F]
    if prior is None:                                           # the mono copy
        z = torch.cat([cond] * model.c_out, dim=0)
    else:                                                       # conditioning.prior
        z = _as_t(prior).float()
    pb = None if prior is None else z[None]
    tb = None
    if tail is not None:                                        # arch.tail_gain
        tb = _as_t(tail).float()[None]
        z = z + tb[0]
    x = flow.start(z, torch.tensor(sigma, dtype=torch.float32), eps)

    def U(state, t, k):
        return model.velocity(state, cond[None], torch.tensor([t], dtype=torch.float32), c, pb, tb)

    x = flow.solve(U, x[None], solver, steps, t0)[0]
    return x


@torch.no_grad()
def render(model, config, wave, params, seed=1234, noise=None, solver=None, steps=None,
           t0=None, sigma=None, decay=0.0):
    """Mono waveform + per-frame raw params -> output waveform(s), the reference the C
    runtime must match.

    wave: [n]; params: [M, 4] raw per-frame targets (M = dsp.num_frames(n, ...));
    solver/steps/t0/sigma default to config["flow"]; decay: the decay control (s, 0 =
    each room's own; models with a room tail). Returns (out [C_out, n] float32,
    noise [M, 2*C_out, F] float32).

    Path: pad (N - hop front, N tail) -> STFT -> drop Nyquist -> compress -> solve ->
    decompress -> Nyquist 0 -> ISTFT OLA -> aligned crop to n.
    """
    n_fft, hop = config["n_fft"], config["hop"]
    alpha, beta = config["compress"]["alpha"], config["compress"]["beta"]
    flow = config["flow"]
    solver = flow["solver"] if solver is None else solver
    steps = flow["steps"] if steps is None else steps
    t0 = flow["t0"] if t0 is None else t0
    sigma = flow["sigma"] if sigma is None else sigma
    F = n_fft // 2
    n = len(wave)

    X = dsp.stft(np.asarray(wave, dtype=np.float32), n_fft, hop)   # [M, F+1] complex128
    M = X.shape[0]
    start = dsp.first_sound_frame(X)
    params = np.asarray(params, dtype=np.float32)
    if params.shape[0] != M:
        raise ValueError("params has %d rows, need %d frames" % (params.shape[0], M))
    spec = dsp.complex_to_real_layout(X[None, :, :F])              # [2, M, F] float32
    cond = dsp.compress_real_layout(spec, alpha, beta)
    c_s = dsp.conditioning(params, config)
    r_sub = None
    if config["kind"] == "separate" and config["conditioning"].get("remove") == "subtract":
        L = len(config["conditioning"]["labels"])
        r_sub = c_s[:, L].astype(np.float32).copy()    # smoothed remove share
        c_s = c_s.copy()
        c_s[:, L] = 0.0                                 # the network always keeps
    prior = None
    if config["conditioning"].get("prior", "mono") == "spherical_head":
        prior = dsp.apply_prior(cond, dsp.head_prior_gains(c_s, config))
    if model.room_tail is not None:
        prior = prior * dsp.direct_gain(c_s, config)[None, :, None]
        R = len(config["conditioning"]["rooms"])
        table, send, mix = model.room_tail.tables()
        tail = dsp.room_tail(X[:, :F], c_s[:, 5:5 + R], dsp.room_tail_decay(table, decay, config),
                             send, mix, dsp.room_tail_draws(M, F, start))    # [2, M, F]
        tail = dsp.compress_real_layout(dsp.complex_to_real_layout(tail), alpha, beta)
        if not model.tail_gain:
            prior, tail = prior + tail, None
    else:
        tail = None
    if noise is None:
        noise = dsp.frame_noise(seed, M, model.c_out, F, start)
    x = solve(model, cond, c_s, noise, sigma, solver, steps, t0, prior, tail).numpy()
    Y = dsp.decompress_real_layout(x, alpha, beta)                   # [2C_out, M, F]
    Yc = dsp.real_layout_to_complex(Y)                               # [C_out, M, F]
    if r_sub is not None:                    # remove = mixture - keep, blended by r
        Xm = X[None, :, :F].astype(np.complex64).astype(np.complex128)
        Yc = (1.0 - r_sub[None, :, None]) * Yc + r_sub[None, :, None] * (Xm - Yc)
    if config["kind"] == "separate":                                 # silence gate
        Yc[:, np.all(X == 0, axis=1), :] = 0.0
    Yc = np.concatenate([Yc, np.zeros(Yc.shape[:-1] + (1,))], axis=-1)  # Nyquist = 0
    out = dsp.istft(Yc, n_fft, hop, n)
    return out.astype(np.float32), noise
