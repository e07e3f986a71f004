"""Writes a random-weight model of a proposed size, to measure its cost with
`earflow bench` before spending compute on training it.

usage: /usr/bin/python3 train/size_probe.py --kind binaural --hop 256 \
           --widths 16,24,32 --steps 2 --solver midpoint --out /tmp/probe.safetensors

--check-render also renders 4 s of a test signal through the PyTorch twin and through
`earflow render` (--earflow) with the same seed, and prints their difference: a shape
the golden vectors do not cover (dilations of 96 frames, a velocity head on the
spherical-head prior) proved in C before anything is trained for it.
"""
import argparse
import os
import sys
import tempfile

import numpy as np
import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from earflow_train import audio, dsp, evaluation, export, room_tail  # noqa: E402
import make_golden  # noqa: E402
from earflow_train import model as net  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--kind", choices=["binaural", "separate"], default="binaural")
    ap.add_argument("--n-fft", type=int, default=512)
    ap.add_argument("--hop", type=int, default=256)
    ap.add_argument("--widths", default="16,24,32")
    ap.add_argument("--groups", type=int, default=4)
    ap.add_argument("--dil-mid", default="4,8")
    ap.add_argument("--steps", type=int, default=2)
    ap.add_argument("--solver", choices=["euler", "midpoint"], default="midpoint")
    ap.add_argument("--t0", type=float, default=0.5)
    ap.add_argument("--head", choices=["velocity", "mask"], default="velocity")
    ap.add_argument("--prior", choices=["mono", "spherical_head"], default="mono",
                    help="binaural only")
    ap.add_argument("--room-tail", action="store_true",
                    help="binaural, spherical_head: conditioning.room_tail with the design rooms' tables")
    ap.add_argument("--sigma", type=float, default=None, help="default: the golden config's")
    ap.add_argument("--out", required=True)
    ap.add_argument("--check-render", action="store_true",
                    help="compare `earflow render` of the probe with the PyTorch twin's render")
    ap.add_argument("--earflow", default="build/cli/earflow")
    a = ap.parse_args()
    cfg = make_golden.config_for(a.kind, head=a.head,
                                 prior=a.prior if a.kind == "binaural" else "mono")
    widths = [int(w) for w in a.widths.split(",")]
    levels = len(widths) - 1
    cfg["n_fft"], cfg["hop"] = a.n_fft, a.hop
    cfg["arch"].update({"widths": widths, "groups": a.groups,
                        "dil_enc": [2 ** l for l in range(levels)],
                        "dil_mid": [int(d) for d in a.dil_mid.split(",")],
                        "dil_dec": [2 ** l for l in range(levels)],
                        "emb_dim": 32, "fourier_dim": 16})
    cfg["flow"].update({"steps": a.steps, "solver": a.solver, "t0": a.t0})
    if a.sigma is not None:
        cfg["flow"]["sigma"] = a.sigma
    if a.room_tail:
        cfg["conditioning"]["room_tail"] = True
    cfg["provenance"] = {"data": "none (random weights)", "train_steps": 0, "commit": "",
                         "notes": "size probe from train/size_probe.py"}
    m = net.EarflowUNet(cfg)
    net.init_random_(m, seed=1)
    room_tail.fill(m)
    m.eval()
    export.export(m, cfg, a.out, cfg["provenance"])
    print("wrote", a.out)
    if a.check_render and check_render(m, cfg, a.out, a.earflow) > MATCH_DB:
        sys.exit("size_probe: earflow render does not match the PyTorch twin (above %g dB)" % MATCH_DB)


MATCH_DB = -80.0   # float32 differences between the two land near -120 dB


def check_render(model, cfg, path, earflow, seconds=4.0, seed=1234):
    """Renders the golden test signal through the twin and through `earflow render` of
    the file at path (its first label, or the binaural golden's fixed pose); prints and
    returns the error in dB."""
    n = int(seconds * cfg["sample_rate"])
    x = make_golden.make_input(5, n)
    p = make_golden.make_params(cfg["kind"], False, dsp.num_frames(n, cfg["n_fft"], cfg["hop"]))
    with torch.no_grad():
        ref, _ = net.render(model, cfg, x, p, seed=seed)
    if cfg["kind"] == "binaural":
        pose = ["--azimuth", "%g" % p[0, 0], "--elevation", "%g" % p[0, 1], "--distance", "%g" % p[0, 2],
                "--room", cfg["conditioning"]["rooms"][int(p[0, 3])]]
    else:
        pose = ["--target", cfg["conditioning"]["labels"][0]]
    with tempfile.TemporaryDirectory() as d:
        wav_in, wav_out = os.path.join(d, "in.wav"), os.path.join(d, "out.wav")
        audio.write_wav(wav_in, x)
        y = evaluation.render(earflow, path, wav_in, wav_out, extra=["--seed", str(seed)] + pose)
    y = np.atleast_2d(y)                     # [C, n], as the twin's
    ref = np.asarray(ref, np.float64).reshape(y.shape)
    err = 10 * np.log10(np.sum((ref - y) ** 2) / max(np.sum(ref ** 2), 1e-30))
    print("earflow render vs the PyTorch twin, %.0f s: error %.1f dB (max abs %.3g, reference rms %.3g)"
          % (seconds, err, np.max(np.abs(ref - y)), np.sqrt(np.mean(ref ** 2))))
    return err


if __name__ == "__main__":
    main()
