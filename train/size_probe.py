"""Writes a random-weight model of a proposed size, to measure its cost with
`earflow bench` before spending compute on training it.

usage: /usr/bin/python3 train/size_probe.py --kind binaural --hop 256 \
           --widths 16,24,32 --steps 2 --solver midpoint --out /tmp/probe.safetensors
"""
import argparse
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from earflow_train import export  # noqa: E402
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
    ap.add_argument("--out", required=True)
    a = ap.parse_args()
    cfg = make_golden.config_for(a.kind)
    widths = [int(w) for w in a.widths.split(",")]
    levels = len(widths) - 1
    cfg["n_fft"], cfg["hop"] = a.n_fft, a.hop
    cfg["arch"].update({"widths": widths, "groups": a.groups,
                        "dil_enc": [2 ** l for l in range(levels)],
                        "dil_mid": [int(d) for d in a.dil_mid.split(",")],
                        "dil_dec": [2 ** l for l in range(levels)],
                        "emb_dim": 32, "fourier_dim": 16})
    cfg["flow"].update({"steps": a.steps, "solver": a.solver, "t0": a.t0})
    cfg["provenance"] = {"data": "none (random weights)", "train_steps": 0, "commit": "",
                         "notes": "size probe from train/size_probe.py"}
    m = net.EarflowUNet(cfg)
    net.init_random_(m, seed=1)
    export.export(m, cfg, a.out, cfg["provenance"])
    print("wrote", a.out)


if __name__ == "__main__":
    main()
