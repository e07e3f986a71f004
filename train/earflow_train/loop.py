"""The one training loop of both model kinds.

A kind is a Task (train/train_binaural.py, train/train_separate.py) that knows its
data, conditioning, initialisation, losses on the end-point estimate, and validation
score. Everything else is here, the same for both:

- the model config (one network description; dil_dec mirrors dil_enc unless given);
- the flow recipe (flow.py): x_0 = prior + sigma * eps, t sampled by --t-sampling,
  x_t on the straight path, the network's end-point estimate x_t + (1 - t) v scored by
  the task's losses; optionally a predictive anchor (--anchor-weight): the one-step
  estimate from x_0 at t = 0, what one network evaluation gives, scored as well;
- the time embedding's Fourier frequencies (log-spaced 0.5..32, fixed), so that the
  network sees t wherever t varies;
- determinism: batch k and its noise come from (seed, k): a resumed run sees exactly
  the batches and noise it would have seen;
- resume from RUN/last.pt; --init from a checkpoint or an exported model file of the
  same shape (export.init_state); cosine learning rate in --cycles warm restarts;
  log.jsonl; validation of every --val-schedules schedule; export with provenance
  naming repository-relative paths only (earlier stages' commands kept from --init).
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

import torch

from . import export, flow
from .export import REPO, repo_relative
from .frontend import Frontend
from .model import EarflowUNet

T_FREQ_RANGE = (0.5, 32.0)


# ------------------------------------------------------------------ paths, commit


def portable_argv(argv):
    """Command-line words with every path made repository-relative."""
    out = []
    for w in argv:
        key, eq, val = w.partition("=") if w.startswith("--") else ("", "", w)
        if os.path.isabs(val) or (os.sep in val and os.path.exists(val)):
            val = repo_relative(val)
        out.append(key + eq + val)
    return out


def shown_command(script, argv):
    """How a file's provenance names the command that made it: `python3`, the script
    and its words, paths repository-relative (no machine's interpreter path either)."""
    return " ".join(["python3", script] + portable_argv(argv))


def git_commit():
    try:
        return subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"],
                              capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return ""


# ------------------------------------------------------------------ options


def add_common_args(ap, defaults):
    """The options every trainer has; `defaults` overrides per kind."""
    d = dict(batch=8, segment=0.5, n_fft=512, hop=256, widths="16,24,32", lr=2e-3, seed=0,
             sigma=0.0, t_sampling="zero", head="velocity")
    d.update(defaults)
    g = ap.add_argument_group("run")
    g.add_argument("--run", required=True, help="run folder (last.pt, log.jsonl); resumes from RUN/last.pt")
    g.add_argument("--seed", type=int, default=d["seed"])
    g.add_argument("--device", default="auto", help="auto (CUDA when available), cpu, cuda")
    g.add_argument("--threads", type=int, default=1)
    g.add_argument("--steps", type=int, default=0,
                   help="length of the schedule in optimisation steps (0: from --minutes)")
    g.add_argument("--minutes", type=float, default=0.0,
                   help="with --steps 0: the schedule's length is estimated from the first 10 steps")
    g.add_argument("--max-minutes", type=float, default=0.0,
                   help="stop (saving) after this many minutes of this invocation; rerun to resume")
    g.add_argument("--stop-at", type=int, default=0,
                   help="stop (saving) at this step, the schedule unchanged; rerun without it to resume "
                        "(for comparing runs at the same step)")
    g.add_argument("--batch", type=int, default=d["batch"])
    g.add_argument("--segment", type=float, default=d["segment"], help="crop seconds")
    g.add_argument("--lr", type=float, default=d["lr"])
    g.add_argument("--lr-final", type=float, default=0.05, help="lr at the end of a cycle, share of --lr")
    g.add_argument("--cycles", type=int, default=1, help="cosine cycles (warm restarts) in the schedule")
    g.add_argument("--warmup", type=int, default=50)
    g.add_argument("--init", default="",
                   help="start from these weights: a .pt checkpoint or a .safetensors model of the same shape")
    g.add_argument("--log-every", type=int, default=20)
    g.add_argument("--val-every", type=int, default=200, help="0: no validation (e.g. the evaluators score)")
    g.add_argument("--val-schedules", default="euler:1:0,midpoint:1:0,midpoint:2:0",
                   help="schedules scored at each validation, SOLVER:STEPS:T0 (comma list)")
    g.add_argument("--save-every", type=int, default=100)
    g.add_argument("--export", default="", help="export the final model to this path")
    g.add_argument("--ema", type=float, default=0.0,
                   help="decay of an exponential moving average of the weights (0: none), e.g. 0.998: "
                        "validated beside the raw weights (valid_ema) and what export writes")
    g = ap.add_argument_group("network")
    g.add_argument("--n-fft", type=int, default=d["n_fft"])
    g.add_argument("--hop", type=int, default=d["hop"])
    g.add_argument("--widths", default=d["widths"])
    g.add_argument("--groups", type=int, default=4)
    g.add_argument("--emb-dim", type=int, default=32)
    g.add_argument("--dil-mid", default="4,8")
    g.add_argument("--dil-dec", default="", help="decoder dilations (default: the encoder's, mirrored)")
    g.add_argument("--no-freq-emb", action="store_true", help="no learned frequency embedding")
    g.add_argument("--head", choices=["velocity", "mask"], default=d["head"],
                   help="network output: a velocity, or a complex mask on the prior")
    g.add_argument("--alpha", type=float, default=0.5, help="magnitude compression exponent")
    g.add_argument("--beta", type=float, default=0.1, help="compression scale")
    g = ap.add_argument_group("flow")
    g.add_argument("--sigma", type=float, default=d["sigma"], help="noise on the prior at the start")
    g.add_argument("--t-sampling", choices=flow.T_MODES, default=d["t_sampling"])
    g.add_argument("--t-zero-frac", type=float, default=0.5, help="--t-sampling mix: the share at t = 0")
    g.add_argument("--states", choices=flow.STATE_MODES, default="target",
                   help="training states x_t on the path from x_0 to the target (target) or to the "
                        "network's own one-step estimate, held fixed (self: the states an Euler solver meets), "
                        "or the Euler schedule's own states (solver; needs --t-sampling grid)")
    g.add_argument("--l1-weight", type=float, default=1.0, help="L1 on the compressed end-point estimate")
    g.add_argument("--mrstft-weight", type=float, default=0.0, help="multi-resolution STFT loss on its waveform")
    g.add_argument("--anchor-weight", type=float, default=0.0,
                   help="weight of the one-step (t = 0) estimate's loss added to every step")
    g.add_argument("--solver", choices=["euler", "midpoint"], default="euler",
                   help="the default schedule written to the model")
    g.add_argument("--default-steps", type=int, default=1)
    g.add_argument("--t0", type=float, default=0.0, help="the default schedule's early-skip start")


def make_config(a, kind, conditioning):
    widths = [int(w) for w in a.widths.split(",")]
    L = len(widths) - 1
    dil_enc = [2 ** i for i in range(L)]
    dil_dec = [int(x) for x in a.dil_dec.split(",")] if a.dil_dec else list(reversed(dil_enc))
    arch = {"widths": widths, "kt": 3, "groups": a.groups, "emb_dim": a.emb_dim,
            "fourier_dim": 16, "dil_enc": dil_enc,
            "dil_mid": [int(x) for x in a.dil_mid.split(",")], "dil_dec": dil_dec,
            "freq_emb": not a.no_freq_emb, "head": a.head}
    return {"format": "earflow-model", "version": 1, "kind": kind, "sample_rate": 48000,
            "n_fft": a.n_fft, "hop": a.hop, "window": "sqrt_hann",
            "compress": {"alpha": a.alpha, "beta": a.beta}, "arch": arch,
            "conditioning": conditioning,
            "flow": {"sigma": a.sigma, "solver": a.solver, "steps": a.default_steps, "t0": a.t0},
            "provenance": {}}


def lr_at(step, total, a):
    """Linear warm-up, then --cycles cosine cycles from --lr to --lr * --lr-final."""
    warm = min(a.warmup, max(total // 10, 1))
    if step < warm:
        return a.lr * (step + 1) / warm
    span = max(total - warm, 1) / max(a.cycles, 1)
    p = ((step - warm) % span) / span
    return a.lr * (a.lr_final + (1 - a.lr_final) * 0.5 * (1 + math.cos(math.pi * p)))


# ------------------------------------------------------------------ one step


def step_losses(task, model, b, a, gen):
    """The flow-matching step on batch b (dict: cond, c, z the flow's start, prior the
    mask head's prior or None, tail arch.tail_gain's room tail (optional), y the target): the task's losses on the end-point estimate
    from x_t, plus the anchor's from x_0 at t = 0. With --states self, x_t lies on the
    path to the anchor's estimate (no gradient through it), not to the target; with
    --states solver it is the Euler schedule's own state at t (flow.euler_states)."""
    B = b["y"].shape[0]
    dev = b["y"].device
    eps = torch.randn(b["z"].shape, generator=gen).to(dev) if a.sigma > 0 else None
    x0 = flow.start(b["z"], a.sigma, eps)

    def U(x, t):
        return model.velocity(x, b["cond"], t, b["c"], b["prior"], b.get("tail"))

    if a.t_sampling == "grid":
        t, n = flow.sample_grid(B, gen, dev)
    else:
        t, n = flow.sample_t(a.t_sampling, B, gen, dev, a.t_zero_frac), 0
    first = v0 = None
    if a.anchor_weight > 0 or a.states != "target":
        t0 = torch.zeros(B, device=dev)
        with torch.set_grad_enabled(a.anchor_weight > 0):     # only the anchor's loss needs it
            v0 = U(x0, t0)
            first = flow.estimate(x0, v0, t0)
    if a.states == "solver":
        if not n:
            raise ValueError("--states solver needs --t-sampling grid")
        with torch.no_grad():
            xt = flow.euler_states(U, x0, v0.detach(), n, t)
    else:
        xt = flow.interpolate(x0, b["y"] if a.states == "target" else first.detach(), t)
    out = task.losses(flow.estimate(xt, U(xt, t), t), b)
    if a.anchor_weight > 0:
        anchor = task.losses(first, b)
        out["anchor"] = anchor["total"]
        out["total"] = out["total"] + a.anchor_weight * anchor["total"]
    return out


@torch.no_grad()
def validate(task, model, vb, schedules, sigma):
    """Each schedule run on the validation batch from a fixed noise; the task scores
    the end states. Returns {schedule name: {metric: value}}."""
    model.eval()
    gen = torch.Generator().manual_seed(1)
    eps = torch.randn(vb["z"].shape, generator=gen).to(vb["z"].device)
    res = {}
    for s in schedules:
        res["%s:%d:%g" % s] = task.score(solve_batch(model, vb, flow.start(vb["z"], sigma, eps), s), vb)
    model.train()
    return res


def solve_batch(model, b, x0, schedule):
    """Schedule (solver, steps, t0) run from x0 on batch b (cond, c, prior): the end state."""
    def U(x, t, k):
        return model.velocity(x, b["cond"], torch.full((x.shape[0],), t, device=x.device), b["c"], b["prior"],
                              b.get("tail"))
    return flow.solve(U, x0, *schedule)


@torch.no_grad()
def ema_update(ema, model, decay):
    """ema <- decay ema + (1 - decay) model, parameters only (the buffers are fixed
    tables: time frequencies, room tail)."""
    for pe, p in zip(ema.parameters(), model.parameters()):
        pe.lerp_(p.detach(), 1.0 - decay)


def make_optimizer(model, lr):
    return torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)


def optimise(opt, model, loss):
    """One optimiser step on loss (gradients clipped to norm 1). Returns the norm."""
    opt.zero_grad(set_to_none=True)
    loss.backward()
    gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
    opt.step()
    return gn


# ------------------------------------------------------------------ the loop


def device_of(a):
    if a.device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    return torch.device(a.device)


def set_time_frequencies(model):
    lo, hi = T_FREQ_RANGE
    with torch.no_grad():
        model.emb.t_freqs.copy_(torch.logspace(math.log10(lo), math.log10(hi), len(model.emb.t_freqs)))


def load_init(task, model, a, state):
    """--init: the weights of a checkpoint or model file (state, export.init_state's);
    layers the source lacks keep their neutral init only where the task names them
    (task.new_layers)."""
    if hasattr(task, "adapt_init"):      # a kind's own widening of an earlier stage
        state = task.adapt_init(state, model)
    missing, unexpected = model.load_state_dict(state, strict=False)
    bad = [k for k in missing if not k.startswith(task.new_layers)]
    if unexpected or bad:
        raise SystemExit("--init %s: tensors differ: missing %s, unexpected %s" % (a.init, bad, unexpected))
    print("warm start from %s%s" % (a.init, " (new: %s)" % ", ".join(missing) if missing else ""), flush=True)


def earlier_stages(path):
    """The provenance stages of a model file given to --init (none for a checkpoint)."""
    if not path.endswith(".safetensors"):
        return []
    _, meta = export.read_safetensors(path)
    prov = json.loads(meta["earflow"]).get("provenance", {})
    return prov.get("stages") or ([prov] if prov else [])


def train(task, argv=None):
    ap = argparse.ArgumentParser(description=task.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    add_common_args(ap, task.defaults)
    task.add_args(ap)
    a = ap.parse_args(argv)
    argv = list(sys.argv[1:] if argv is None else argv)
    torch.set_num_threads(a.threads)
    device = device_of(a)
    os.makedirs(a.run, exist_ok=True)
    ck_path, log_path = os.path.join(a.run, "last.pt"), os.path.join(a.run, "log.jsonl")

    torch.manual_seed(a.seed)
    cfg = make_config(a, task.kind, task.conditioning(a))
    cfg["arch"].update(task.arch(a))
    model = EarflowUNet(cfg).to(device)
    step, total, elapsed = 0, a.steps, 0.0
    ck = torch.load(ck_path, map_location=device) if os.path.exists(ck_path) else None
    if ck is not None:
        keep = ("run", "device", "threads", "export", "minutes", "steps", "max_minutes", "stop_at", "val_every",
                "log_every", "save_every")
        a.__dict__.update({k: v for k, v in ck["args"].items() if k not in keep})
        cfg, argv = ck["config"], ck["argv"]
        model = EarflowUNet(cfg).to(device)
        model.load_state_dict(ck["state_dict"])
        step, total, elapsed = ck["step"], ck["total"], ck["elapsed"]
        if a.steps:                # an explicit --steps extends (or shortens) the schedule
            total = a.steps
        print("resumed %s at step %d of %d" % (ck_path, step, total), flush=True)
    else:
        # an --init file of another shape is refused before init_weights, whose room
        # tail tables take seconds to design
        init = export.init_state(a.init, cfg, device, task.cond_keys) if a.init else None
        task.init_weights(model, a)
        if init is not None:
            load_init(task, model, a, init)
        set_time_frequencies(model)
    # Conv weights in channels-last: oneDNN's convolutions then skip the per-call layout
    # reorders (a forward and backward pass of the 24/32/48 separation network, batch 8
    # x 1 s, one thread: 6.6 s against 11.5 s); values equal to ~1e-6, files unchanged.
    model = model.to(memory_format=torch.channels_last)
    opt = make_optimizer(model, a.lr)
    if ck is not None:
        opt.load_state_dict(ck["opt"])
    # --ema: the weights' moving average, from the start's weights (or the checkpoint's);
    # a stage's steps move the raw weights back and forth across what the batches
    # disagree on, and the average sits between (README, sixteenth session)
    ema = None
    if a.ema > 0:
        ema = EarflowUNet(cfg).to(device)
        ema.load_state_dict(ck["ema_state_dict"] if ck is not None and "ema_state_dict" in ck
                            else model.state_dict())
        ema = ema.to(memory_format=torch.channels_last).eval()

    fe = Frontend(cfg, device)
    task.setup(a, cfg, fe, device, model)
    schedules = flow.parse_schedules(a.val_schedules)
    vb = task.valid_batch() if a.val_every else None      # --val-every 0: never
    print("%s model %s: %d parameters; device %s; %s" % (
        task.kind, cfg["arch"]["widths"], sum(p.numel() for p in model.parameters()), device,
        task.describe()), flush=True)

    stages = earlier_stages(a.init) if a.init else []

    def save():
        prov = {"data": task.data_provenance(a), "train_steps": step, "commit": git_commit(),
                "command": shown_command(task.script, argv)}
        cfg["provenance"] = dict(prov, stages=stages + [prov]) if stages else prov
        ck_new = {"config": cfg, "state_dict": model.state_dict(), "opt": opt.state_dict(),
                  "step": step, "total": total, "elapsed": elapsed, "args": vars(a), "argv": argv}
        if ema is not None:
            ck_new["ema_state_dict"] = ema.state_dict()
        torch.save(ck_new, ck_path + ".tmp")
        os.replace(ck_path + ".tmp", ck_path)

    model.train()
    t_call = time.time()
    t_last = t_call
    acc, n_acc = {}, 0
    with open(log_path, "a") as log:
        def emit(rec):
            print(json.dumps(rec), flush=True)
            log.write(json.dumps(rec) + "\n")
            log.flush()

        if vb is not None and step == 0:
            # The start's own score on this run's valid batch (which depends on --seed):
            # the baseline every later validation of the run is read against.
            emit({"step": 0, "valid": validate(task, model, vb, schedules, a.sigma)})
            t_last = time.time()
        while not (total and step >= total):
            if a.max_minutes and time.time() - t_call > a.max_minutes * 60:
                print("stopping after --max-minutes %g at step %d (rerun to resume)" % (a.max_minutes, step), flush=True)
                break
            if a.stop_at and step >= a.stop_at:
                print("stopping at step %d (--stop-at; rerun without it to resume)" % step, flush=True)
                break
            gen = torch.Generator().manual_seed(a.seed * 7919 + 1 + step)   # per step: resumable
            b = task.batch(step)
            lr = lr_at(step, total, a) if total else a.lr * min(1.0, (step + 1) / a.warmup)
            for g in opt.param_groups:
                g["lr"] = lr
            lo = step_losses(task, model, b, a, gen)
            gn = optimise(opt, model, lo["total"])
            if ema is not None:
                ema_update(ema, model, a.ema)
            step += 1
            now = time.time()
            elapsed += now - t_last
            t_last = now
            for k, v in lo.items():
                acc[k] = acc.get(k, 0.0) + float(v)
            n_acc += 1
            if total == 0 and step == 10:
                per = elapsed / 10
                total = max(20, int(a.minutes * 60 / per)) if a.minutes > 0 else 1000
                print("%.2f s/step -> a schedule of %d steps" % (per, total), flush=True)
            if step % a.log_every == 0 or step == total:
                rec = {"step": step, "lr": lr, "elapsed_s": round(elapsed, 1), "grad_norm": float(gn)}
                rec.update({"train_" + k: v / n_acc for k, v in acc.items()})
                acc, n_acc = {}, 0
                if vb is not None and (step % a.val_every == 0 or step == total):
                    rec["valid"] = validate(task, model, vb, schedules, a.sigma)
                    if ema is not None:
                        rec["valid_ema"] = validate(task, ema, vb, schedules, a.sigma)
                    t_last = time.time()          # validation is not training time
                emit(rec)
            if step % a.save_every == 0 or step == total:
                save()
    save()
    if a.export and total and step >= total:
        out = (ema if ema is not None else model).eval()
        export.export(out.cpu(), cfg, a.export, cfg["provenance"])
        print("exported", a.export, flush=True)
    return model, cfg
