#!/usr/bin/python3
"""Is a separation model learning at all? Its SI-SDR improvement on mixtures drawn as
the trainer draws them (corpus train split, --augment, a quarter in remove mode), next
to the mixture's own SI-SDR, per batch, per label and per item, in PyTorch from the
mixture (sigma 0) with each of --schedules (default: one Euler step).
The trainer logs the output's SI-SDR only, which passing the mixture through already
scores (SNRs up to 15 dB); this tells the two apart.

    /usr/bin/python3 train/sep_train_check.py --model train/stages/separate2-mask-stage2.safetensors

--t T scores the end-point estimate from the training state x_t = t y + (1 - t) x_0
(y the target) instead of the one-step render from x_0: a model that scores well at
t > 0 and not at 0 reads the answer from its state input rather than from the mixture.

--fit-steps N then trains a copy of the model on the first batch alone for N steps
(t = 0, the trainer's losses, AdamW at --fit-lr) and prints its one-step SI-SDRi on
that batch every 25 steps: a network that cannot fit 8 mixtures has a bug or no
capacity; one that can and still does not gain on unheard mixtures lacks data or steps.

    /usr/bin/python3 train/sep_train_check.py --model FILE --batches 1 --batch 8 --segment 1 --fit-steps 175

--reinit fits from the trainer's own random start (train_separate.py's init, --seed)
with the file's network shape instead of its weights: whether a recipe can learn at
all from scratch. --sisdr-cap and --sisdr-ref are the trainer's options for the fit's
SI-SDR loss (--sisdr-cap 0 --sisdr-ref raw: the loss of the stages before
2026-12-06's fifteenth session).
"""
import argparse
import copy
import os
import sys

import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import train_separate  # noqa: E402
from earflow_train import export, flow, loop, losses  # noqa: E402
from earflow_train import mixtures as mx  # noqa: E402
from earflow_train.frontend import Frontend  # noqa: E402
from earflow_train.model import EarflowUNet  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model", required=True)
    ap.add_argument("--corpus", default=os.path.join(HERE, "data", "corpus"))
    ap.add_argument("--batches", type=int, default=2)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--t", type=float, default=0.0,
                    help="score the estimate from x_t on the path to the target (0: the renders)")
    ap.add_argument("--schedules", default="euler:1:0", help="SOLVER:STEPS:T0 list (with --t 0)")
    ap.add_argument("--segment", type=float, default=2.0, help="seconds per mixture")
    ap.add_argument("--fit-steps", type=int, default=0, help="then fit the first batch for this many steps")
    ap.add_argument("--fit-lr", type=float, default=1e-3)
    ap.add_argument("--fit-every", type=int, default=25, help="report the fit every this many steps")
    ap.add_argument("--item-grads", action="store_true",
                    help="with each fit report, each item's gradient norm under the fit's loss: "
                         "whether one item outweighs the batch")
    ap.add_argument("--reinit", action="store_true", help="fit from the trainer's random start, not the file's weights")
    ap.add_argument("--sisdr-cap", help="the fit's SI-SDR soft ceiling, dB (0: none; default: the trainer's)")
    ap.add_argument("--sisdr-ref", choices=["engine", "raw"], help="the fit's SI-SDR reference (default: the trainer's)")
    a = ap.parse_args()
    torch.set_num_threads(1)
    model, cfg = export.load_model(a.model)
    # remove items only for a model that was trained for them (not "subtract")
    p_remove = "0" if cfg["conditioning"].get("remove") == "subtract" else "0.25"
    task = train_separate.Separate()
    tp = argparse.ArgumentParser()
    loop.add_common_args(tp, task.defaults)
    task.add_args(tp)
    loss = []              # the fit's SI-SDR options; unset: the trainer's defaults
    if a.sisdr_cap is not None:
        loss += ["--sisdr-cap", a.sisdr_cap]
    if a.sisdr_ref is not None:
        loss += ["--sisdr-ref", a.sisdr_ref]
    ta = tp.parse_args(["--run", "unused", "--corpus", a.corpus, "--n-fft", str(cfg["n_fft"]),
                        "--hop", str(cfg["hop"]), "--batch", str(a.batch), "--segment", str(a.segment),
                        "--augment", "--p-remove", p_remove, "--seed", str(a.seed),
                        "--sigma", "0", "--t-sampling", "zero", "--anchor-weight", "0",
                        "--valid-split", "train"] + loss)      # (setup's valid pool: unused here)
    if a.reinit:       # the trainer's random start, this file's shape
        torch.manual_seed(a.seed)
        model = EarflowUNet(cfg)
        task.init_weights(model, ta)
        loop.set_time_frequencies(model)
    fe = Frontend(cfg, torch.device("cpu"))
    task.setup(ta, cfg, fe, torch.device("cpu"), model)
    for i in range(a.batches):
        b = task.batch(10 ** 6 + i)        # steps no schedule reaches: not the trainer's batches
        ok = b["want"].pow(2).mean(1) > 1e-10
        mix = losses.si_sdr(b["mix"][ok], b["want"][ok])
        labels = [l for l, k in zip(b["labels"], ok.tolist()) if k]
        print("batch %d: %d items with a target, mixture SI-SDR %.2f dB" % (i, int(ok.sum()), float(mix.mean())))
        for name, est in estimates(model, fe, b, a):
            out = losses.si_sdr(est[ok], b["want"][ok])
            imp = out - mix
            per = " ".join("%s %+.2f" % (lab, float(imp[[k for k, l in enumerate(labels) if l == li]].mean()))
                           for li, lab in enumerate(mx.LABELS) if li in labels)
            print("  %s: output %.2f dB, SI-SDRi %+.2f dB (%s)" % (name, float(out.mean()), float(imp.mean()), per))
            print("    per item SI-SDRi (dB):", " ".join("%+.1f" % v for v in imp.tolist()))
        if i == 0 and a.fit_steps:
            fit(model, task, ta, b, a)


def fit(model, task, ta, b, a):
    """Train a copy of the model on batch b alone (the later batches are scored with the
    file's weights); its one-step SI-SDRi on b every 25 steps."""
    model = copy.deepcopy(model).train()
    opt = loop.make_optimizer(model, a.fit_lr)
    for step in range(a.fit_steps + 1):
        if step % a.fit_every == 0 or step == a.fit_steps:
            with torch.no_grad():
                score = task.score(loop.solve_batch(model, b, b["z"], ("euler", 1, 0.0)), b)
            print("  fit step %d: SI-SDRi on this batch %s" % (
                step, " ".join("%s %+.2f" % kv for kv in score.items())), flush=True)
            if a.item_grads:
                print("    per item gradient norm:", " ".join("%.3g" % g for g in item_grads(model, task, ta, b)))
        if step == a.fit_steps:
            break
        lo = loop.step_losses(task, model, b, ta, torch.Generator().manual_seed(step))
        loop.optimise(opt, model, lo["total"])


def item_grads(model, task, ta, b):
    """Each item's gradient norm (all parameters) under the fit's loss, alone."""
    out = []
    for k in range(len(b["labels"])):
        bk = {key: None if v is None else v[k:k + 1] for key, v in b.items()}
        model.zero_grad(set_to_none=True)
        loop.step_losses(task, model, bk, ta, torch.Generator().manual_seed(0))["total"].backward()
        out.append(float(torch.sqrt(sum((p.grad ** 2).sum() for p in model.parameters() if p.grad is not None))))
    model.zero_grad(set_to_none=True)
    return out


@torch.no_grad()
def estimates(model, fe, b, a):
    """(name, waveform estimates [B, n]) for the --t estimate or each schedule's render."""
    if a.t > 0:
        t = torch.full((b["z"].shape[0],), a.t)
        xt = flow.interpolate(b["z"], b["y"], t)               # sigma 0: x_0 is the mixture
        v = model.velocity(xt, b["cond"], t, b["c"], b["prior"])
        return [("from x_t, t %g" % a.t, fe.decode(flow.estimate(xt, v, t))[:, 0])]
    out = []
    for s in flow.parse_schedules(a.schedules):
        out.append((flow.schedule_name(s), fe.decode(loop.solve_batch(model, b, b["z"], s))[:, 0]))
    return out


if __name__ == "__main__":
    main()
