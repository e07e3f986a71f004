"""Train the label-conditioned separation model (kind "separate").

The flow starts from the mixture plus sigma noise, x0 = z + sigma * eps (z = compressed
mixture spectrum), and its end x1 is the wanted source (compressed): the labelled source
(keep) or the mixture minus it (remove, a trained output: conditioning flag 1).
With sigma 0 and t sampled at 0 this is a predictive model: one Euler step from t0 = 0
(one network evaluation per frame) gives x1 = z + U(z, 0, c).

Losses (--loss, comma-separated, summed with weights):
  l1     L1 on the compressed spectrum of x1 (= L1 on the velocity), per item normalized
         by the mixture's mean compressed magnitude, so quiet and loud mixtures weigh
         alike (and silent inputs must give silent outputs)
  sisdr  negative SI-SDR of the waveform: x1 -> decompress -> ISTFT (the engine's
         synthesis), against the wanted waveform
  mrstft multi-resolution STFT loss (spectral convergence + log magnitude) on the waveform

Mixtures are generated on the fly from the corpus (train/mixtures.py), deterministic
by (seed, step): a resumed run sees the same batches as an uninterrupted one.

Resumable: --out DIR holds ckpt.pt (every --save-every steps and at the end), log.jsonl,
and the exported model DIR/model.safetensors. Rerun the same command to continue.

usage:
  nice -n 5 /usr/bin/python3 train/train_separate.py --corpus train/data/corpus \
      --out runs/sep --minutes 45
"""

import argparse
import json
import math
import os
import subprocess
import sys
import time

import numpy as np
import torch
import torch.nn.functional as Fn

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import export  # noqa: E402
import mixtures as mx  # noqa: E402
from model import EarflowUNet  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def remove_mode(a):
    """"trained" (the network's remove input) or "subtract" (remove = mixture - keep, in
    the engine); auto: subtract unless remove examples are trained (--p-remove > 0)."""
    if a.remove_mode != "auto":
        return a.remove_mode
    return "trained" if a.p_remove > 0 else "subtract"


def make_config(a):
    widths = [int(w) for w in a.widths.split(",")]
    L = len(widths) - 1
    return {
        "format": "earflow-model", "version": 1, "kind": "separate",
        "sample_rate": 48000, "n_fft": a.n_fft, "hop": a.hop, "window": "sqrt_hann",
        "compress": {"alpha": 0.5, "beta": 0.1},
        "arch": {"widths": widths, "kt": 3, "groups": a.groups, "emb_dim": 32,
                 "fourier_dim": 16, "dil_enc": [2 ** l for l in range(L)],
                 "dil_mid": [int(d) for d in a.dil_mid.split(",")],
                 "dil_dec": [2 ** l for l in range(L)], "freq_emb": not a.no_freq_emb,
                 "head": a.head},
        "conditioning": {"smoothing_ms": 20, "labels": list(mx.LABELS),
                         "remove": remove_mode(a)},
        "flow": {"sigma": a.sigma, "solver": a.solver, "steps": a.steps, "t0": a.t0},
        "provenance": {},
    }


# ------------------------------------------------------- torch STFT / ISTFT


class Spec:
    """The engine's STFT (sqrt-Hann, hop | N, Nyquist dropped) and synthesis, in torch."""

    def __init__(self, n_fft, hop, alpha, beta, device):
        self.n, self.hop, self.alpha, self.beta = n_fft, hop, alpha, beta
        k = torch.arange(n_fft, dtype=torch.float64)
        w = torch.sqrt(0.5 - 0.5 * torch.cos(2 * math.pi * k / n_fft))
        s = torch.zeros(hop, dtype=torch.float64)
        for i in range(n_fft // hop):
            s += w[i * hop:(i + 1) * hop] ** 2
        self.w = w.float().to(device)
        self.ws = (w / s.repeat(n_fft // hop)).float().to(device)
        self.F = n_fft // 2

    def stft(self, x):
        """[B, n] -> real layout [B, 2, T, F] (front pad N - hop as the engine)."""
        x = Fn.pad(x, (self.n - self.hop, 0))
        fr = x.unfold(1, self.n, self.hop) * self.w          # [B, T, N]
        X = torch.fft.rfft(fr, dim=-1)[..., :self.F]
        return torch.stack([X.real, X.imag], dim=1)

    def istft(self, R):
        """real layout [B, 2, T, F] -> [B, (T - 1) * hop + ...] aligned like stft's input."""
        Xc = torch.complex(R[:, 0], R[:, 1])
        Xc = Fn.pad(Xc, (0, 1))                              # Nyquist 0
        fr = torch.fft.irfft(Xc, n=self.n, dim=-1) * self.ws  # [B, T, N]
        B, T, N = fr.shape
        y = Fn.fold(fr.transpose(1, 2), output_size=(1, (T - 1) * self.hop + N),
                    kernel_size=(1, N), stride=(1, self.hop))
        return y.reshape(B, -1)[:, self.n - self.hop:]

    def compress(self, R):
        p = (self.alpha - 1.0) / 2.0
        mag2 = R[:, 0:1] ** 2 + R[:, 1:2] ** 2 + 1e-12
        return self.beta * R * mag2 ** p

    def decompress(self, R):
        p = (1.0 / self.alpha - 1.0) / 2.0
        a = R / self.beta
        mag2 = a[:, 0:1] ** 2 + a[:, 1:2] ** 2 + 1e-12
        return a * mag2 ** p


def si_sdr_t(est, ref, eps=1e-9):
    est = est - est.mean(dim=-1, keepdim=True)
    ref = ref - ref.mean(dim=-1, keepdim=True)
    a = (est * ref).sum(-1, keepdim=True) / ((ref * ref).sum(-1, keepdim=True) + eps)
    s = a * ref
    return 10 * torch.log10(((s * s).sum(-1) + eps) / (((s - est) ** 2).sum(-1) + eps))


def mrstft_loss(est, ref):
    tot = 0.0
    for n, h in ((256, 64), (1024, 256), (2048, 512)):
        w = torch.hann_window(n, device=est.device)
        E = torch.stft(est, n, h, window=w, return_complex=True).abs()
        R = torch.stft(ref, n, h, window=w, return_complex=True).abs()
        sc = torch.linalg.norm((R - E).flatten(1), dim=1) / (torch.linalg.norm(R.flatten(1), dim=1) + 1e-7)
        lm = (torch.log(E + 1e-5) - torch.log(R + 1e-5)).abs().mean(dim=(1, 2))
        tot = tot + sc + lm
    return tot / 3.0


# ------------------------------------------------------------------ forward


def run_flow(model, sp, z, c, sigma, solver, steps, t0, eps=None):
    """The engine's solver in torch (differentiable). z [B, 2, T, F] compressed mixture;
    c [B, T, D]. Returns x1 [B, 2, T, F]."""
    x = z if sigma == 0 or eps is None else z + sigma * eps
    h = (1.0 - t0) / steps
    B = z.shape[0]
    for i in range(steps):
        ti = t0 + (1.0 - t0) * i / steps
        tt = torch.full((B,), ti, device=z.device)
        if solver == "euler":
            x = x + h * model.velocity(x, z, tt, c)
        else:
            xm = x + (h / 2) * model.velocity(x, z, tt, c)
            x = x + h * model.velocity(xm, z, tt + h / 2, c)
    return x


def cond_of(labels, removes, T, n_labels, device):
    c = torch.zeros(len(labels), n_labels + 1, device=device)
    c[torch.arange(len(labels)), torch.as_tensor(labels)] = 1.0
    c[:, n_labels] = torch.as_tensor(removes, dtype=torch.float32)
    return c[:, None, :].expand(-1, T, -1).contiguous()


def losses(model, sp, cfg, mix, want, labels, removes, a, step_gen):
    """One batch: returns (total loss, dict of parts)."""
    dev = mix.device
    Z = sp.stft(mix)
    W = sp.stft(want)
    z = sp.compress(Z)
    wc = sp.compress(W)
    B, _, T, _ = z.shape
    c = cond_of(labels, removes, T, len(mx.LABELS), dev)
    sigma = a.sigma
    if a.t_mode == "zero":
        eps = torch.randn(z.shape, generator=step_gen).to(dev) if sigma > 0 else None
        x0 = z if eps is None else z + sigma * eps
        t = torch.zeros(B, device=dev)
        v = model.velocity(x0, z, t, c)
        x1 = x0 + v                                       # Euler, 1 step from t0 = 0
    else:                                                 # flow matching, t ~ U(0, 1)
        eps = torch.randn(z.shape, generator=step_gen).to(dev)
        x0 = z + sigma * eps
        t = torch.rand(B, generator=step_gen).to(dev)
        xt = (1 - t)[:, None, None, None] * x0 + t[:, None, None, None] * wc
        v = model.velocity(xt, z, t, c)
        x1 = xt + (1 - t)[:, None, None, None] * v       # the one-step estimate of x1
    parts = {}
    scale = z.abs().mean(dim=(1, 2, 3)).clamp_min(a.scale_floor)
    l1 = ((x1 - wc).abs().mean(dim=(1, 2, 3)) / scale).mean()
    parts["l1"] = l1
    total = a.w_l1 * l1
    if a.w_sisdr > 0 or a.w_mrstft > 0:
        est = sp.istft(sp.decompress(x1))
        ref = sp.istft(W)
        n = min(est.shape[1], ref.shape[1])
        est, ref = est[:, :n], ref[:, :n]
        ok = (ref.pow(2).mean(1) > 1e-10) & (mix.pow(2).mean(1) > 1e-12)
        if a.w_sisdr > 0 and ok.any():
            s = -si_sdr_t(est[ok], ref[ok]).clamp(max=50).mean()
            parts["sisdr"] = s
            total = total + a.w_sisdr * s / 10.0
        if a.w_mrstft > 0 and ok.any():
            g = 1.0 / (ref[ok].pow(2).mean(1, keepdim=True).sqrt() + 1e-6)
            s = mrstft_loss(est[ok] * g, ref[ok] * g).mean()
            parts["mrstft"] = s
            total = total + a.w_mrstft * s
    return total, parts


# ------------------------------------------------------------------ validation


def make_valid(pool, seed, count=4, seconds=2.0):
    rng = np.random.RandomState(seed)
    items = []
    n = int(seconds * mx.SR)
    for li in range(3):
        for snr in (-5, 0, 5, 10):
            for _ in range(count if li == 0 else max(1, count // 2)):
                m = mx.make_mixture(pool, n, rng, label=li, snr_db=snr,
                                    level_db=rng.uniform(-45, -15))
                items.append((m["mix"], m["target"], m["label"], snr))
    return items


@torch.no_grad()
def evaluate(model, sp, cfg, items, dev):
    """Mean SI-SDRi per label through the engine's schedule (config flow)."""
    model.eval()
    fl = cfg["flow"]
    res = {}
    mix = torch.from_numpy(np.stack([i[0] for i in items])).to(dev)
    ref = np.stack([i[1] for i in items])
    labels = [i[2] for i in items]
    z = sp.compress(sp.stft(mix))
    c = cond_of(labels, [0] * len(items), z.shape[2], len(mx.LABELS), dev)
    g = torch.Generator().manual_seed(1)
    eps = torch.randn(z.shape, generator=g).to(dev)
    x1 = run_flow(model, sp, z, c, fl["sigma"], fl["solver"], fl["steps"], fl["t0"], eps)
    est = sp.istft(sp.decompress(x1)).cpu().numpy()
    n = min(est.shape[1], ref.shape[1])
    for k, (m, r, li, snr) in enumerate(items):
        imp = si_sdr_np(est[k, :n], r[:n]) - si_sdr_np(m[:n], r[:n])
        res.setdefault(mx.LABELS[li], []).append(imp)
    model.train()
    return {k: float(np.mean(v)) for k, v in res.items()}


def si_sdr_np(est, ref, eps=1e-12):
    est = np.asarray(est, np.float64) - np.mean(est)
    ref = np.asarray(ref, np.float64) - np.mean(ref)
    a = np.dot(est, ref) / (np.dot(ref, ref) + eps)
    s = a * ref
    return 10 * math.log10((np.dot(s, s) + eps) / (np.dot(s - est, s - est) + eps))


# ------------------------------------------------------------------ main


def git_commit():
    try:
        return subprocess.check_output(["git", "rev-parse", "--short", "HEAD"], cwd=HERE,
                                       stderr=subprocess.DEVNULL).decode().strip()
    except Exception:
        return ""


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", default=os.path.join(HERE, "data", "corpus"))
    ap.add_argument("--out", required=True)
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--minutes", type=float, default=45.0, help="wall budget (training loop)")
    ap.add_argument("--max-steps", type=int, default=100000)
    ap.add_argument("--lr-steps", type=int, default=0,
                    help="steps of the cosine LR schedule (0: estimated from --minutes "
                         "after the first 20 steps)")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--seconds", type=float, default=0.75, help="crop length")
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--widths", default="16,24,32")
    ap.add_argument("--groups", type=int, default=4)
    ap.add_argument("--dil-mid", default="4,8")
    ap.add_argument("--no-freq-emb", action="store_true")
    ap.add_argument("--head", choices=["velocity", "mask"], default="velocity",
                    help="network output: a velocity, or a complex mask on the mixture")
    ap.add_argument("--n-fft", type=int, default=512)
    ap.add_argument("--hop", type=int, default=256)
    ap.add_argument("--sigma", type=float, default=0.0)
    ap.add_argument("--t-mode", choices=["zero", "uniform"], default="zero")
    ap.add_argument("--solver", choices=["euler", "midpoint"], default="euler")
    ap.add_argument("--steps", type=int, default=1)
    ap.add_argument("--t0", type=float, default=0.0)
    ap.add_argument("--w-l1", type=float, default=1.0)
    ap.add_argument("--w-sisdr", type=float, default=1.0)
    ap.add_argument("--w-mrstft", type=float, default=0.0)
    ap.add_argument("--p-remove", type=float, default=0.25)
    ap.add_argument("--p-clean", type=float, default=0.05)
    ap.add_argument("--p-silent", type=float, default=0.02)
    ap.add_argument("--p-reverb", type=float, default=0.1)
    ap.add_argument("--remove-mode", choices=["auto", "trained", "subtract"], default="auto")
    ap.add_argument("--level-min", type=float, default=-55.0, help="mixture RMS dBFS range")
    ap.add_argument("--level-max", type=float, default=-12.0)
    ap.add_argument("--scale-floor", type=float, default=0.01,
                    help="floor of the per-item L1 normalizer (weight of silent items)")
    ap.add_argument("--label-probs", default="0.6,0.2,0.2")
    ap.add_argument("--in-gain", type=float, default=50.0, help="in_conv init scale")
    ap.add_argument("--out-gain", type=float, default=0.0, help="out_conv init scale")
    ap.add_argument("--freq-emb-init", type=float, default=1.0, help="freq_emb init std")
    ap.add_argument("--max-speech-files", type=int, default=0, help="0: all")
    ap.add_argument("--max-music-files", type=int, default=0)
    ap.add_argument("--init", default="",
                    help="start from these weights (a .pt checkpoint or a .safetensors model "
                         "file of the same shape) instead of the fresh init")
    ap.add_argument("--valid-split", default="valid")
    ap.add_argument("--eval-every", type=int, default=250)
    ap.add_argument("--save-every", type=int, default=100)
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--device", default="auto", help="auto (cuda when available), cpu, cuda")
    a = ap.parse_args()

    torch.set_num_threads(a.threads)
    dev = torch.device("cuda" if a.device == "auto" and torch.cuda.is_available() else
                       ("cpu" if a.device == "auto" else a.device))
    os.makedirs(a.out, exist_ok=True)
    ck_path = os.path.join(a.out, "ckpt.pt")
    log_path = os.path.join(a.out, "log.jsonl")

    cfg = make_config(a)
    torch.manual_seed(a.seed)
    model = EarflowUNet(cfg).to(dev)
    # Init for the compressed domain: spectra there are small (|z| ~ 0.02 at -23 dBFS),
    # so the default in_conv init leaves the signal ~2 % of the bias in every feature:
    # the network starts (and long stays) nearly linear and learns the identity. Scale
    # in_conv up (--in-gain) so that the signal dominates the features, zero its bias,
    # and start the residual velocity at 0 (x1 = the mixture: a predictive start).
    with torch.no_grad():
        model.in_conv.weight.mul_(a.in_gain)
        model.in_conv.bias.zero_()
        model.out_conv.weight.mul_(a.out_gain)
        model.out_conv.bias.zero_()
        if a.head == "mask":      # start at the mask 1 + 0j: the output is the mixture
            model.out_conv.bias[0::2] = 1.0
        if model.freq_emb is not None and a.freq_emb_init > 0:
            # a fixed-size random pattern per bin from the start: it names each bin's
            # frequency, and its size against the signal's tells the normalized network
            # the input level (GroupNorm alone would hide it)
            g = torch.Generator().manual_seed(a.seed)
            model.freq_emb.copy_(a.freq_emb_init * torch.randn(model.freq_emb.shape, generator=g))
    if a.init:
        state = export.init_state(a.init, cfg, dev, ("labels",))
        missing = set(model.state_dict()) ^ set(state)
        if missing:
            raise SystemExit("--init %s: tensors differ: %s" % (a.init, ", ".join(sorted(missing))))
        model.load_state_dict(state)
    opt = torch.optim.AdamW(model.parameters(), lr=a.lr, weight_decay=1e-4)
    step, spent, lr_steps = 0, 0.0, a.lr_steps
    if os.path.exists(ck_path):
        ck = torch.load(ck_path, map_location=dev)
        if ck["config"]["arch"] != cfg["arch"]:
            raise SystemExit("%s: checkpoint of another architecture" % ck_path)
        model.load_state_dict(ck["state_dict"])
        opt.load_state_dict(ck["opt"])
        step, spent, lr_steps = ck["step"], ck["spent"], ck["lr_steps"]
        print("resumed at step %d (%.1f min spent)" % (step, spent / 60), flush=True)

    t_load = time.time()
    pool = mx.Pool(a.corpus, "train", max_speech_files=a.max_speech_files or None,
                   max_music_files=a.max_music_files or None, seed=a.seed)
    vpool = mx.Pool(a.corpus, a.valid_split, max_speech_files=200, seed=a.seed)
    vitems = make_valid(vpool, a.seed + 1)
    print("pools: train %.1f min speech (%d groups), %.1f min music; valid %d items; %.1f s"
          % (pool.speech_seconds / 60, len(pool.groups), pool.music_seconds / 60, len(vitems),
             time.time() - t_load), flush=True)
    sp = Spec(a.n_fft, a.hop, 0.5, 0.1, dev)
    n = int(a.seconds * mx.SR) // a.hop * a.hop
    budget = a.minutes * 60.0
    model.train()
    log = open(log_path, "a")
    t_last = time.time()
    best = None

    def save():
        torch.save({"config": cfg, "state_dict": model.state_dict(), "opt": opt.state_dict(),
                    "step": step, "spent": spent, "lr_steps": lr_steps, "args": vars(a)},
                   ck_path + ".tmp")
        os.replace(ck_path + ".tmp", ck_path)

    while step < a.max_steps and spent < budget:
        if lr_steps == 0 and step == 20:
            per = spent / 20.0
            lr_steps = max(100, int(budget / per))
            print("estimated %d steps in %.0f min (%.2f s/step)" % (lr_steps, a.minutes, per),
                  flush=True)
        total_steps = lr_steps or 10 ** 9
        warm = min(1.0, (step + 1) / max(10.0, min(100.0, total_steps / 10.0)))
        frac = min(1.0, step / total_steps)
        lr = a.lr * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        for g in opt.param_groups:
            g["lr"] = lr
        rng = np.random.RandomState((a.seed * 1000003 + step) % (2 ** 31))
        mix, want, labels, removes = mx.batch(pool, a.batch, n, rng, p_remove=a.p_remove,
                                              p_clean=a.p_clean, p_silent=a.p_silent,
                                              p_reverb=a.p_reverb,
                                              level_range=(a.level_min, a.level_max),
                                              label_probs=[float(x) for x in a.label_probs.split(",")])
        gen = torch.Generator().manual_seed(a.seed * 7919 + step)
        loss, parts = losses(model, sp, cfg, torch.from_numpy(mix).to(dev),
                             torch.from_numpy(want).to(dev), labels, removes, a, gen)
        opt.zero_grad()
        loss.backward()
        gn = torch.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        opt.step()
        step += 1
        now = time.time()
        spent += now - t_last
        t_last = now
        rec = {"step": step, "lr": lr, "loss": float(loss), "gn": float(gn), "spent": round(spent, 1)}
        rec.update({k: float(v) for k, v in parts.items()})
        if step % a.eval_every == 0 or step == 1:
            rec["valid"] = evaluate(model, sp, cfg, vitems, dev)
            t_last = time.time()           # validation time is not training time
        log.write(json.dumps(rec) + "\n")
        log.flush()
        if step % 25 == 0 or "valid" in rec:
            print(json.dumps(rec), flush=True)
        if step % a.save_every == 0:
            save()
    save()
    v = evaluate(model, sp, cfg, vitems, dev)
    print("final valid SI-SDRi:", json.dumps(v), flush=True)
    log.write(json.dumps({"step": step, "final_valid": v}) + "\n")
    model.cpu()
    prov = {"data": "train/mixtures.py on the corpus at %s (train split)" % a.corpus,
            "train_steps": step, "commit": git_commit(),
            "notes": "train/train_separate.py %s" % " ".join(sys.argv[1:])}
    cfg["provenance"] = prov
    export.export(model, cfg, os.path.join(a.out, "model.safetensors"), prov)
    print("exported", os.path.join(a.out, "model.safetensors"), flush=True)


if __name__ == "__main__":
    main()
