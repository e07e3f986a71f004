#!/usr/bin/env python3
"""What a binaural render's interaural coherence error is made of: the direct sound or
the reverberation.

For each reverberant sequence (the first --per-room of each room of --split), every
pairing of a direct sound and a reverberation, summed in the time domain and aligned
as evaluate_binaural.py aligns the model's output, is scored by realism.coherence
against the recording:

  direct    "sph":   the model file's spherical-head prior at 1 / distance (what the
                     network's mask starts from), travel time added as the evaluator
            "KEMAR": the simulator's own direct path (the HRTF the truth is made with)
  reverb    "tail":  the model file's room tail (spec section 4, the engine's
                     recursion), told the T20 measured on the truth's impulse response
            "DSP tail": the simulator's decorrelated tail for the room label, told the
                     same T20 (no early reflections)
            "early": the simulator's early reflections of the room label's shoebox

plus the prior as the engine sums it (the tail added in the compressed domain), which
is what evaluate_binaural.py's "prior alone" row renders. Prints one row per room and
pairing: the coherence error averaged over the octave bands, the mean coherence
against the truth's, and the error per band (250 Hz .. 16 kHz)."""

import argparse
import json
import os
import sys

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import evaluate_binaural as eb  # noqa: E402
from earflow_train import binsim, dsp, export, layout, realism  # noqa: E402


def prior_parts(W, cfg, seq, mono, t20):
    """(direct [2, M, F] compressed real layout, tail [2, M, F] complex) of the model
    file's prior for the sequence, told decay t20."""
    N, hop, F = cfg["n_fft"], cfg["hop"], cfg["n_fft"] // 2
    al, be = cfg["compress"]["alpha"], cfg["compress"]["beta"]
    X = dsp.stft(mono, N, hop)
    M = X.shape[0]
    at = np.clip(np.arange(M) * hop - (N - hop) + hop - 1, 0, len(mono) - 1)   # each frame's last sample
    az, el, dist = seq.pose_at(at)
    params = np.stack([az, el, np.maximum(dist, 1e-3), np.full(M, seq.room_index)], 1).astype(np.float32)
    c_s = dsp.conditioning(params, cfg)
    cond = dsp.compress_real_layout(dsp.complex_to_real_layout(X[None, :, :F]), al, be)
    direct = dsp.apply_prior(cond, dsp.head_prior_gains(c_s, cfg)) * dsp.direct_gain(c_s, cfg)[None, :, None]
    R = len(cfg["conditioning"]["rooms"])
    tail = dsp.room_tail(X[:, :F], c_s[:, 5:5 + R], dsp.room_tail_decay(W["room_tail.decay"], t20, cfg),
                         W["room_tail.send"], W["room_tail.mix"], dsp.room_tail_draws(M, F))
    return direct, tail


def to_time(cfg, Yc, n):
    Yc = np.concatenate([Yc, np.zeros(Yc.shape[:-1] + (1,))], axis=-1)        # Nyquist 0
    return dsp.istft(Yc, cfg["n_fft"], cfg["hop"], n).astype(np.float64)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", default=os.path.join(HERE, "data", "binaural2"))
    ap.add_argument("--split", default="validset")
    ap.add_argument("--model", required=True, help="a binaural model file with conditioning.room_tail")
    ap.add_argument("--rooms", default="small,medium,large")
    ap.add_argument("--per-room", type=int, default=6)
    a = ap.parse_args(argv)
    W, meta = export.read_safetensors(a.model)
    cfg = json.loads(meta["earflow"])
    if not cfg["conditioning"].get("room_tail"):
        raise SystemExit("%s has no room tail" % a.model)
    al, be = cfg["compress"]["alpha"], cfg["compress"]["beta"]
    seqs = [layout.Sequence(d) for d in layout.find_sequences(os.path.join(a.data, a.split))]
    acc = {}
    for room in a.rooms.split(","):
        for seq in [q for q in seqs if q.room == room][:a.per_room]:
            mono = eb.read64(os.path.join(seq.folder, "mono.wav")).astype(np.float32)
            gt = eb.read64(os.path.join(seq.folder, "binaural.wav"))
            n = len(mono)
            t20 = float(realism.decay_time(eb.truth_ir(seq)[0]))
            direct, tail = prior_parts(W, cfg, seq, mono, t20)
            tail_c = dsp.compress_real_layout(dsp.complex_to_real_layout(tail), al, be)

            def aligned(real_layout):
                Yc = dsp.real_layout_to_complex(dsp.decompress_real_layout(real_layout, al, be))
                return eb.add_travel_time(seq, to_time(cfg, Yc, n))
            sph, engine = aligned(direct), aligned(direct + tail_c)
            ours = eb.add_travel_time(seq, to_time(cfg, tail, n))
            dims, lis, _ = binsim.nominal_room(seq.room)
            scene = binsim.Scene(seq.room, tuple(dims), t20, lis, binsim.inside(lis, eb.head_path(seq, n), dims))
            _, _, comp = eb.simulator().render(mono, scene, np.random.default_rng(7), parts=True)
            kd, kt, ke = (comp[k].astype(np.float64) for k in ("direct", "tail", "early"))
            rows = (("KEMAR + early + DSP tail (DSP room, told)", kd + ke + kt),
                    ("KEMAR + DSP tail", kd + kt), ("KEMAR + tail", kd + ours), ("KEMAR + early + tail", kd + ke + ours),
                    ("sph + DSP tail", sph + kt), ("sph + tail", sph + ours),
                    ("sph + tail, compressed sum (prior alone)", engine), ("sph alone", sph))
            for name, sig in rows:
                c = realism.coherence(sig, gt)
                acc.setdefault((room, name), np.zeros_like(c))
                acc[(room, name)] += c
            print("coherence_parts: %s %s" % (room, os.path.basename(seq.folder)), flush=True)
    print("| room | direct + reverberation | coherence err | coherence (truth) | err per band 250 Hz .. 16 kHz |")
    print("|---|---|---|---|---|")
    for (room, name), c in acc.items():
        cells = np.maximum(c[:, 3], 1)
        print("| %s | %s | %.3f | %.3f (%.3f) | %s |" % (
            room, name, np.mean(c[:, 0] / cells), np.mean(c[:, 1] / cells), np.mean(c[:, 2] / cells),
            " ".join("%.3f" % v for v in c[:, 0] / cells)))


if __name__ == "__main__":
    main()
