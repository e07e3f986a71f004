"""The room tail's tables (conditioning.room_tail, docs/model-spec.md section 4) from
the simulator's design rooms: per room and bin, the decay per frame that gives the
room's RT60 in that band (binsim.BAND_RT); the send that gives the tail the energy
spectrum of everything after the direct sound in the simulator's impulse response of
the design room (early reflections and late tail, the KEMAR's diffuse-field colour
included), so that the prior's direct-to-reverberant ratio is the room's; the mix
that gives the ears the diffuse field's coherence.

The send is matched numerically, in the engine's own STFT: the simulator's response
and the recursion's response to an impulse (send 1) are both analysed frame by frame,
and their per-bin energies, smoothed over a sixth of an octave, give the ratio."""

import math

import numpy as np
import torch

from . import binsim, dsp

MAX_DECAY = 0.9999          # the engine's bound (EF_ROOM_TAIL_MAX_DECAY)


def bin_freqs(config):
    F = config["n_fft"] // 2
    return np.arange(F, dtype=np.float64) * config["sample_rate"] / config["n_fft"]


def band_rt(f):
    """RT60(f) / RT60(mid) at frequencies f, interpolated over log frequency."""
    return np.interp(np.log2(np.maximum(f, 1.0)), np.log2(binsim.BAND_HZ), binsim.BAND_RT)


def smooth_octave(e, f, frac=6.0):
    """Mean of e over +-1/(2 frac) octave around each bin (DC: its own value)."""
    out = np.empty_like(e)
    lf = np.log2(np.maximum(f, 1.0))
    for k in range(len(e)):
        sel = np.abs(lf - lf[k]) <= 0.5 / frac
        out[k] = e[sel].mean()
    return out


def reverberant_energy(sim, room, config, distance=2.0, rt60=None):
    """Per-bin STFT energy (summed over frames, mean of the ears) of what follows the
    direct sound in the simulator's impulse response of the design room (its RT60, or
    rt60 s): its early reflections and late tail, the listener at the room's centre
    (binsim.nominal_room), the mean over four sources `distance` m away (front, left,
    back, right)."""
    dims, lis, rt = binsim.nominal_room(room)
    rt = rt if rt60 is None else rt60
    n = int(binsim.SR * (rt * binsim.BAND_RT.max() * 70 / 60 + 0.1))
    x = np.zeros(n, np.float32)
    x[0] = 1.0
    F = config["n_fft"] // 2
    acc = np.zeros(F)
    for i, az in enumerate((0.0, 90.0, 180.0, 270.0)):
        a = math.radians(az)
        src = binsim.inside(lis, distance * np.array([math.cos(a), math.sin(a), 0.0]), dims)
        _, _, parts = sim.render(x, binsim.Scene(room, tuple(dims), rt, lis, src),
                                 np.random.default_rng(i), parts=True)
        r = parts["early"] + parts["tail"]
        acc += 0.5 * sum(np.sum(np.abs(dsp.stft(r[e], config["n_fft"], config["hop"])[:, :F]) ** 2, axis=0)
                         for e in range(2))
    return acc / 4, n


def recursion_energy(decay, mix, n, config, trials=4, seed=0):
    """Per-bin STFT energy (as sim_tail_energy) of the recursion's output for an
    impulse in, send 1, one room: the mean over `trials` impulse positions and draws."""
    N, hop, F = config["n_fft"], config["hop"], config["n_fft"] // 2
    rng = np.random.default_rng(seed)
    acc = np.zeros(F)
    for i in range(trials):
        x = np.zeros(n + N)
        x[hop // 2 + i * hop // trials] = 1.0
        X = dsp.stft(x, N, hop)[:, :F]
        M = X.shape[0]
        tail = dsp.room_tail(X, np.ones((M, 1), np.float32), decay[None], np.ones((1, F), np.float32),
                             mix, rng.integers(0, dsp.ROOM_TAIL_PHASES, (M, 2, F)))
        y = dsp.istft(np.concatenate([tail, np.zeros((2, M, 1))], axis=-1), N, hop, len(x))
        acc += 0.5 * sum(np.sum(np.abs(dsp.stft(y[e], N, hop)[:, :F]) ** 2, axis=0) for e in range(2))
    return acc / trials


_TABLES = {}


def parse_rt60(text):
    """--tail-rt60's "room=seconds,..." -> {room: mid-band RT60 s} (empty text: {})."""
    out = {}
    for item in filter(None, text.split(",")):
        room, _, sec = item.partition("=")
        d = binsim.ROOM_DESIGN.get(room)
        if d is None or d["rt60"] <= 0:
            raise ValueError("--tail-rt60: %r is not a reverberant room (%s)" % (
                room, ", ".join(r for r in binsim.ROOMS if binsim.ROOM_DESIGN[r]["rt60"] > 0)))
        try:
            out[room] = float(sec)
        except ValueError:
            raise ValueError("--tail-rt60: %r is not room=seconds" % item) from None
        if not 0.05 <= out[room] <= 10.0:
            raise ValueError("--tail-rt60: %s s for %s is outside 0.05 to 10 s" % (sec, room))
    return out


def design_tables(config, rt60=None):
    """(decay [R, F], send [R, F], mix [2, F]) float32 for config's rooms, each with the
    simulator's design RT60 or rt60[room] s (computed once per process, shape and RT60s:
    the simulator's renders take some seconds)."""
    rooms = config["conditioning"]["rooms"]
    rt60 = dict(rt60 or {})
    key = (tuple(rooms), config["n_fft"], config["hop"], config["sample_rate"], tuple(sorted(rt60.items())))
    if key not in _TABLES:
        _TABLES[key] = _design_tables(config, rt60)
    return tuple(t.copy() for t in _TABLES[key])


def _design_tables(config, rt60):
    from . import corpus
    from . import hrtf
    sim = binsim.Simulator(hrtf.load(corpus.sofa_path()))
    rooms = config["conditioning"]["rooms"]
    f = bin_freqs(config)
    F = len(f)
    coh = binsim.diffuse_coherence(f)
    mix = np.stack([np.sqrt((1 + coh) / 2), np.sqrt((1 - coh) / 2)]).astype(np.float32)
    decay = np.zeros((len(rooms), F), np.float32)
    send = np.zeros((len(rooms), F), np.float32)
    for r, name in enumerate(rooms):
        d = binsim.ROOM_DESIGN.get(name)
        if d is None or d["dims"] is None or d["rt60"] <= 0:
            continue
        rt = rt60.get(name, d["rt60"]) * band_rt(f)
        decay[r] = np.minimum(10.0 ** (-3.0 * config["hop"] / (config["sample_rate"] * rt)), MAX_DECAY)
        e_sim, n = reverberant_energy(sim, name, config, rt60=rt60.get(name))
        e_rec = recursion_energy(decay[r], mix, n, config)
        send[r] = np.sqrt(smooth_octave(e_sim, f) / np.maximum(smooth_octave(e_rec, f), 1e-30))
    return decay, send, mix


@torch.no_grad()
def fill(model, rt60=None):
    """Gives a model with conditioning.room_tail its design tables, with rt60's RT60s
    where given (a no-op without a tail)."""
    if model.room_tail is None:
        return
    for buf, table in zip((model.room_tail.decay, model.room_tail.send, model.room_tail.mix),
                          design_tables(model.config, rt60)):
        buf.copy_(torch.from_numpy(table))


def add_to_prior(fe, config, prior, mono, c_s, tables, draws, rt60=None, split=False):
    """The training path of conditioning.room_tail, as the engine's (spec section 4):
    the spherical-head prior [B, 4, T, F] (torch) -> the direct sound at 1 / distance
    plus the compressed tail. mono [B, (P + T) hop] (torch): P frames of pre-roll (the
    tail's history; the crop's first room features hold for them) then the crop;
    c_s [B, T, D_c] smoothed features (numpy); tables (decay, send, mix); draws
    [B, P + T, 2, F] phase indices (the engine's: dsp.room_tail_draws); rt60 [B] the
    decay control per crop (s; 0 or None: each room's own). split (arch.tail_gain):
    return (the direct sound, the compressed tail) instead of their sum."""
    T, R = c_s.shape[1], len(config["conditioning"]["rooms"])
    X = fe.stft(mono).cpu().numpy()                               # [B, P + T, F]
    w = c_s[..., 5:5 + R]
    w = np.concatenate([np.repeat(w[:, :1], X.shape[1] - T, axis=1), w], axis=1)
    decay, send, mix = tables
    if rt60 is not None:
        decay = np.stack([dsp.room_tail_decay(decay, s, config) for s in rt60])   # [B, R, F]
    tail = torch.from_numpy(dsp.room_tail(X, w, decay, send, mix, draws)[:, :, -T:]).to(prior.device)
    direct = torch.from_numpy(dsp.direct_gain(c_s, config)).to(prior.device)[:, None, :, None]
    if split:
        return prior * direct, fe.compress(tail)
    return prior * direct + fe.compress(tail)
