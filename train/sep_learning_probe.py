#!/usr/bin/python3
"""How fast does a network learn the separation task? A diagnostic, not a trainer:
it trains one network on the separation trainer's own batches (the same mixtures,
losses and valid batch as train_separate.py with the options given), one step at a
time at a constant learning rate after a 50-step warm-up, and prints the valid
batch's SI-SDRi per label every --every steps (and its weights' moving average's,
with --ema), after the valid batch's ideal-ratio-mask score (oracle_irm: the ceiling of
a real mask). train_sources: the same (the average's, with --ema) on mixtures made the
valid batch's way from the training split's sources (new draws, not trained on): where
it climbs and valid does not, the gap is between the splits' sources. (train_sisdr, the
loss's SI-SDR term over training batches, is no learning curve: clean and silent items
weigh in it.) Nothing is exported: the engine runs only the U-Net.

Networks (--kind):
  unet  the separation U-Net of the options given (default: stage 5's shape), the
        trainer's initialisation or --init's weights, one evaluation from x_0 (t = 0)
  gru   a recurrent real mask (RNNoise's form, on every bin): log power of each
        frame and the label -> linear -> GRU (--hidden, --layers) -> linear -> sigmoid
        gain; with --heads one mask per label, the label's picked (the conditioning
        weighs them), so that labels that want opposite masks do not share one output
        layer. About 0.3 s a step against the U-Net's 2.4 (batch 8 x 1 s, one thread)

    /usr/bin/python3 train/sep_learning_probe.py --kind gru --heads --steps 1200 --every 100 \\
        --ema 0.99 --max-speech-files 1500 --max-music-files 120 --p-real-noise 0.8

Options it does not know go to the separation trainer's parser (--label-probs,
--p-real-noise, --widths, ...). --fixed trains on the first batch alone (a fit).
The trainer's --backgrounds narrows the background kinds of train and valid batches
alike: `--backgrounds white,pink` is the easy case (steady noise, no music), which tells
a ceiling of the recipe from the difficulty of the task (with --label-probs 1,0,0);
`--backgrounds recorded --noise-packages 0ad-data` one package's recordings.
"""

import argparse
import copy
import json
import math
import os
import sys
import time

import numpy as np
import torch
import torch.nn as nn

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import separation_ceiling  # noqa: E402
import train_separate as ts  # noqa: E402
from earflow_train import loop  # noqa: E402
from earflow_train.frontend import Frontend  # noqa: E402
from earflow_train.model import EarflowUNet  # noqa: E402

STAGE5 = ("--n-fft 768 --hop 384 --widths 24,32,48 --groups 4 --dil-mid 4,8 --dil-dec 1,2 --head mask "
          "--batch 8 --segment 1.0 --augment --p-remove 0 --sigma 0 --val-count 8").split()


class UNetOneStep(nn.Module):
    def __init__(self, unet):
        super().__init__()
        self.unet = unet

    def forward(self, b):
        return self.unet.endpoint(b["cond"], b["cond"], torch.zeros(b["cond"].shape[0]), b["c"])


class GRUMask(nn.Module):
    """A real gain per bin and frame from the frame's log power and the label."""

    def __init__(self, fe, n_labels, hidden, layers, heads, long_window=0, complex_input=False):
        super().__init__()
        self.fe, self.L, self.heads, self.long = fe, n_labels, heads, long_window
        self.complex_input = complex_input
        F = fe.F
        if long_window:      # a Hann window of long_window samples ending where each frame ends
            self.register_buffer("lwin", torch.hann_window(long_window, periodic=True))
        self.inp = nn.Linear(F * (3 if complex_input else 1) + long_window // 2 + n_labels, hidden)
        self.gru = nn.GRU(hidden, hidden, num_layers=layers, batch_first=True)
        self.out = nn.Linear(hidden + n_labels, F * (n_labels if heads else 1))
        nn.init.zeros_(self.out.weight)
        nn.init.constant_(self.out.bias, 4.0)        # a gain of 0.98: nearly pass-through

    def forward(self, b):
        lab = b["c"][..., :self.L]                                        # [B, T, L]
        feats = [(torch.log10(self.fe.power(b["cond"])[:, 0] + 1e-12) + 5.0) / 3.0]
        if self.complex_input:   # the compressed spectrum the U-Net sees (its phase), scaled up
            feats += [30.0 * b["cond"][:, 0], 30.0 * b["cond"][:, 1]]
        if self.long:        # causal: the look-back grows, the latency does not
            fr = nn.functional.pad(b["mix"], (self.long - self.fe.hop, 0)).unfold(-1, self.long, self.fe.hop)
            P = torch.fft.rfft(fr * self.lwin, dim=-1).abs()[..., :self.long // 2] ** 2
            feats.append((torch.log10(P + 1e-12) + 5.0) / 3.0)        # an offset the layer absorbs
        h, _ = self.gru(torch.relu(self.inp(torch.cat(feats + [lab], -1))))
        m = torch.sigmoid(self.out(torch.cat([h, lab], -1)))
        if self.heads:
            B, T, _ = m.shape
            m = (m.reshape(B, T, self.L, -1) * lab[..., None]).sum(2)
        # a gain g on |X| is g^alpha on the compressed spectrum
        return b["cond"] * (m[:, None] ** self.fe.alpha).repeat_interleave(2, dim=1)


def oracle_irm(task, fe, b):
    """The valid batch's score with the ideal ratio mask (separation_ceiling's, from
    the true target and rest, on the engine's STFT): a real mask's ceiling here."""
    X, S = fe.stft(b["mix"][:, None]), fe.stft(b["want"][:, None])
    irm = separation_ceiling.oracle_masks(S.numpy(), (X - S).numpy())["IRM"]
    return task.score(fe.compress(X * torch.from_numpy(irm.astype(np.float32))), b)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--kind", choices=["unet", "gru"], required=True)
    p.add_argument("--steps", type=int, default=300)
    p.add_argument("--every", type=int, default=100, help="validate every this many steps")
    p.add_argument("--lr", type=float, default=2e-3)
    p.add_argument("--ema", type=float, default=0.0, help="weights' moving average decay (0: none)")
    p.add_argument("--init", default="", help="unet: start from these weights (export.init_state)")
    p.add_argument("--hidden", type=int, default=256)
    p.add_argument("--layers", type=int, default=1)
    p.add_argument("--heads", action="store_true")
    p.add_argument("--complex-input", action="store_true",
                   help="gru: also the compressed complex spectrum (the U-Net's input, with phase)")
    p.add_argument("--long-window", type=int, default=0,
                   help="gru: also the log power of a causal window of this many samples (a multiple "
                        "of the hop; 0: none): what a longer look-back, at no latency, would buy")
    p.add_argument("--fixed", action="store_true", help="train on the first batch alone")
    p.add_argument("--seed", type=int, default=171)
    o, rest = p.parse_known_args(argv)
    torch.set_num_threads(1)
    task = ts.Separate()
    ap = argparse.ArgumentParser()
    loop.add_common_args(ap, task.defaults)
    task.add_args(ap)
    a = ap.parse_args(STAGE5 + ["--run", "unused", "--seed", str(o.seed), "--init", o.init] + rest)
    torch.manual_seed(a.seed)
    cfg = loop.make_config(a, "separate", task.conditioning(a))
    cfg["arch"].update(task.arch(a))                 # --label-heads, as the trainer does
    fe = Frontend(cfg)
    if o.kind == "unet":
        unet = EarflowUNet(cfg)
        task.init_weights(unet, a)
        loop.set_time_frequencies(unet)
        if o.init:
            loop.load_init(task, unet, a, loop.export.init_state(o.init, cfg, "cpu", task.cond_keys))
        net = UNetOneStep(unet).to(memory_format=torch.channels_last)
    else:
        net = GRUMask(fe, len(cfg["conditioning"]["labels"]), o.hidden, o.layers, o.heads, o.long_window,
                      o.complex_input)
    print("%s: %d parameters" % (o.kind, sum(q.numel() for q in net.parameters())), flush=True)
    opt = loop.make_optimizer(net, o.lr)
    task.setup(a, cfg, fe, "cpu", None)
    vb = task.valid_batch()
    # the same mixtures' recipe from the training sources (new draws): learning that shows
    # here but not on valid is a gap between the splits' sources, not a stalled network
    tb = task.valid_batch(task.pool)
    print(json.dumps({"oracle_irm": oracle_irm(task, fe, vb), "oracle_irm_train_sources": oracle_irm(task, fe, tb)}),
          flush=True)
    ema = copy.deepcopy(net) if o.ema > 0 else None
    t_start, train_db = time.time(), []

    def report(step):
        with torch.no_grad():
            rec = {"step": step, "minutes": round((time.time() - t_start) / 60, 2)}
            if train_db:
                rec["train_sisdr"] = sum(train_db) / len(train_db)
            rec["valid"] = task.score(net(vb), vb)
            if ema is not None:
                rec["valid_ema"] = task.score(ema(vb), vb)
            rec["train_sources"] = task.score((ema or net)(tb), tb)
            if o.fixed:
                b0 = task.batch(0)
                rec["fit"] = task.score(net(b0), b0)
        train_db.clear()
        print(json.dumps(rec), flush=True)

    for step in range(o.steps):
        if step % o.every == 0:
            report(step)
        lr = o.lr * min(1.0, (step + 1) / 50)
        for g in opt.param_groups:
            g["lr"] = lr
        b = task.batch(0 if o.fixed else step)
        out = task.losses(net(b), b)
        loop.optimise(opt, net, out["total"])
        if ema is not None:
            loop.ema_update(ema, net, o.ema)
        if "sisdr" in out and math.isfinite(float(out["sisdr"])):
            train_db.append(-float(out["sisdr"]))
    report(o.steps)


if __name__ == "__main__":
    main()
