#!/usr/bin/python3
"""Is a separation model learning at all? Its SI-SDR improvement on mixtures drawn as
the trainer draws them (corpus train split, --augment, a quarter in remove mode), next
to the mixture's own SI-SDR, per batch and per item, in PyTorch at one Euler step from
the mixture (sigma 0).
The trainer logs the output's SI-SDR only, which passing the mixture through already
scores (SNRs up to 15 dB); this tells the two apart.

    /usr/bin/python3 train/sep_train_check.py --model train/stages/separate2-mask-stage2.safetensors

--t T scores the end-point estimate from the training state x_t = t y + (1 - t) x_0
(y the target) instead of the one-step render from x_0: a model that scores well at
t > 0 and not at 0 reads the answer from its state input rather than from the mixture.
"""
import argparse
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import train_separate  # noqa: E402
from earflow_train import export, flow, loop, losses  # noqa: E402
from earflow_train.frontend import Frontend  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--corpus", default=os.path.join(HERE, "data", "corpus"))
    ap.add_argument("--batches", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--t", type=float, default=0.0, help="score the estimate from x_t (0: the render)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    model, cfg = export.load_model(a.model)
    task = train_separate.Separate()
    tp = argparse.ArgumentParser()
    loop.add_common_args(tp, task.defaults)
    task.add_args(tp)
    ta = tp.parse_args(["--run", "unused", "--corpus", a.corpus, "--n-fft", str(cfg["n_fft"]),
                        "--hop", str(cfg["hop"]), "--batch", str(a.batch), "--segment", "2.0",
                        "--augment", "--p-remove", "0.25", "--seed", str(a.seed)])
    fe = Frontend(cfg, torch.device("cpu"))
    task.setup(ta, cfg, fe, torch.device("cpu"))
    for i in range(a.batches):
        b = task.batch(10 ** 6 + i)        # steps no schedule reaches: not the trainer's batches
        with torch.no_grad():
            t = torch.full((b["z"].shape[0],), a.t)
            xt = flow.interpolate(b["z"], b["y"], t)           # sigma 0: x_0 is the mixture
            v = model.velocity(xt, b["cond"], t, b["c"], b["prior"])
            est = fe.decode(flow.estimate(xt, v, t))[:, 0]
        ok = b["want"].pow(2).mean(1) > 1e-10
        mix = losses.si_sdr(b["mix"][ok], b["want"][ok])
        out = losses.si_sdr(est[ok], b["want"][ok])
        print("batch %d: %d items with a target, mixture SI-SDR %.2f dB, output %.2f dB, SI-SDRi %+.2f dB"
              % (i, int(ok.sum()), float(mix.mean()), float(out.mean()), float((out - mix).mean())))
        print("  per item SI-SDRi (dB):", " ".join("%+.1f" % v for v in (out - mix).tolist()))


if __name__ == "__main__":
    main()
