#!/usr/bin/python3
"""Train the label-conditioned separation model (kind "separate"), resumably, and
export it.

    /usr/bin/python3 train/train_separate.py --corpus train/data/corpus --run train/runs/NAME \
        [--minutes 45 | --steps N] [recipe options] [--export models/separate.safetensors]

The flow (earflow_train/flow.py, loop.py) starts at the mixture's compressed spectrum
plus sigma * noise and ends at the wanted source's: the labelled source (keep) or
the mixture minus it (remove: a trained output, conditioning flag 1, when
--p-remove > 0; otherwise the engine subtracts). Losses on the end-point estimate:
  l1      L1 on the compressed spectrum, per item divided by the mixture's mean
          compressed magnitude, so quiet and loud mixtures weigh alike (and silent
          inputs must give silent outputs)
  sisdr   negative SI-SDR of the waveform (the engine's synthesis) against the target
          as the engine's STFT can make it, with a soft ceiling (--sisdr-cap 30 dB):
          without one a clean mixture, nearly perfect, soon pulls many times harder
          than the rest of the batch, back to pass-through (losses.si_sdr; README)
  mrstft  multi-resolution STFT loss on the waveform
Mixtures are made on the fly from the corpus (earflow_train/mixtures.py),
deterministic by (seed, step).
"""

import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from earflow_train import losses, loop  # noqa: E402
from earflow_train import mixtures as mx  # noqa: E402
from earflow_train.loop import repo_relative  # noqa: E402

VALID_SNRS = (-5, 0, 5, 10)


def cond_of(labels, removes, T, n_labels, device):
    """Raw (= smoothed, constant) conditioning [B, T, L + 1]: label one-hot, remove."""
    c = torch.zeros(len(labels), n_labels + 1, device=device)
    c[torch.arange(len(labels)), torch.as_tensor(labels)] = 1.0
    c[:, n_labels] = torch.as_tensor(removes, dtype=torch.float32)
    return c[:, None, :].expand(-1, T, -1).contiguous()


class Separate:
    __doc__ = __doc__
    kind = "separate"
    script = "train/train_separate.py"
    cond_keys = ("labels",)
    new_layers = ()
    defaults = dict(batch=8, segment=0.75, n_fft=768, hop=384, seed=6)

    def add_args(self, ap):
        g = ap.add_argument_group("separation")
        g.add_argument("--corpus", default=os.path.join(HERE, "data", "corpus"))
        g.add_argument("--valid-split", default="valid")
        g.add_argument("--sisdr-weight", type=float, default=1.0)
        g.add_argument("--sisdr-cap", type=float, default=30.0,
                       help="dB: the SI-SDR loss's soft ceiling (losses.si_sdr cap_db; 0: none, the "
                            "stages before 2026-12-06's fifteenth session)")
        g.add_argument("--sisdr-ref", choices=["engine", "raw"], default="engine",
                       help="the SI-SDR loss's reference: the target as the engine's STFT can make it "
                            "(its round trip; no Nyquist bin), or the raw target (the earlier stages)")
        g.add_argument("--p-remove", type=float, default=0.25)
        g.add_argument("--p-clean", type=float, default=0.05)
        g.add_argument("--p-silent", type=float, default=0.02)
        g.add_argument("--p-reverb", type=float, default=0.1)
        g.add_argument("--remove-mode", choices=["auto", "trained", "subtract"], default="auto",
                       help="auto: trained when --p-remove > 0, else the engine subtracts")
        g.add_argument("--level-min", type=float, default=-55.0, help="mixture RMS dBFS range")
        g.add_argument("--level-max", type=float, default=-12.0)
        g.add_argument("--scale-floor", type=float, default=0.01,
                       help="floor of the per-item L1 normalizer (the weight of silent items)")
        g.add_argument("--label-probs", default="0.6,0.2,0.2")
        g.add_argument("--augment", action="store_true",
                       help="speed, rooms, band limits, EQ tilt, levels -50..-6 dBFS (mixtures.py)")
        g.add_argument("--p-real-noise", type=float, default=0.5,
                       help="share of noise backgrounds taken from the corpus's recordings")
        g.add_argument("--backgrounds", default=",".join(mx.BACKGROUNDS),
                       help="background kinds offered, train and valid alike (a diagnostic: "
                            "which kind makes the task hard); of " + ",".join(mx.BACKGROUNDS))
        g.add_argument("--noise-packages", default="",
                       help="recorded backgrounds of the training pool from these packages only "
                            "(comma list; empty: all)")
        g.add_argument("--label-heads", action="store_true",
                       help="arch.label_heads: an output layer per label (an --init file without "
                            "them gives each label a copy of its output layer)")
        g.add_argument("--in-gain", type=float, default=50.0, help="in_conv init scale")
        g.add_argument("--out-init", type=float, default=0.0, help="out_conv init scale")
        g.add_argument("--freq-emb-init", type=float, default=1.0, help="freq_emb init std")
        g.add_argument("--max-speech-files", type=int, default=0, help="0: all")
        g.add_argument("--max-music-files", type=int, default=0)
        g.add_argument("--val-count", type=int, default=4, help="valid speech mixtures per SNR")
        g.add_argument("--val-seconds", type=float, default=2.0, help="length of each valid mixture")

    def remove_mode(self, a):
        if a.remove_mode != "auto":
            return a.remove_mode
        return "trained" if a.p_remove > 0 else "subtract"

    def conditioning(self, a):
        # trained_labels: the labels this stage drew mixtures for; the engine refuses the
        # others (docs/model-spec.md), so an untrained label never reaches a user.
        probs = [float(x) for x in a.label_probs.split(",")]
        trained = [name for name, p in zip(mx.LABELS, probs) if p > 0]
        return {"smoothing_ms": 20, "labels": list(mx.LABELS), "trained_labels": trained,
                "remove": self.remove_mode(a)}

    def arch(self, a):
        return {"label_heads": True} if a.label_heads else {}

    @staticmethod
    def adapt_init(state, model):
        """--init from a file without arch.label_heads: its output layer once per label
        (the same output at the start; each label's head then learns on its own)."""
        w = state.get("out_conv.weight")
        if model.n_heads > 1 and w is not None and w.shape[0] * model.n_heads == model.out_conv.weight.shape[0]:
            state["out_conv.weight"] = w.repeat(model.n_heads, 1, 1, 1)
            state["out_conv.bias"] = state["out_conv.bias"].repeat(model.n_heads)
        return state

    @torch.no_grad()
    def init_weights(self, model, a):
        """Spectra are small in the compressed domain (|z| ~ 0.02 at -23 dBFS): the
        default in_conv init leaves the signal ~2 % of the bias in every feature and
        the network long stays linear. Scale in_conv up, zero its bias, and start the
        output at the mixture (velocity 0, or the mask 1 + 0j)."""
        model.in_conv.weight.mul_(a.in_gain)
        model.in_conv.bias.zero_()
        model.out_conv.weight.mul_(a.out_init)
        model.out_conv.bias.zero_()
        if model.head == "mask":
            model.out_conv.bias[0::2] = 1.0
        if model.freq_emb is not None and a.freq_emb_init > 0:
            g = torch.Generator().manual_seed(a.seed)
            model.freq_emb.copy_(a.freq_emb_init * torch.randn(model.freq_emb.shape, generator=g))

    # ------------------------------------------------------------ data

    def setup(self, a, cfg, fe, device, model):
        self.a, self.fe, self.device = a, fe, device
        kinds = a.backgrounds.split(",")
        self.pool = mx.Pool(a.corpus, "train", max_speech_files=a.max_speech_files or None,
                            max_music_files=a.max_music_files or None, seed=a.seed, backgrounds=kinds,
                            noise_packages=a.noise_packages.split(",") if a.noise_packages else None)
        self.vpool = mx.Pool(a.corpus, a.valid_split, max_speech_files=200, seed=a.seed,
                             backgrounds=kinds)
        self.n = int(a.segment * mx.SR) // a.hop * a.hop
        self.mix_kw = dict(p_clean=a.p_clean, p_silent=a.p_silent, p_reverb=a.p_reverb,
                           level_range=(a.level_min, a.level_max),
                           label_probs=[float(x) for x in a.label_probs.split(",")],
                           augment=a.augment, p_real_noise=a.p_real_noise)

    def to_batch(self, mix, want, labels, removes):
        dev = self.device
        mix = torch.from_numpy(np.asarray(mix, np.float32)).to(dev)
        want = torch.from_numpy(np.asarray(want, np.float32)).to(dev)
        cond = self.fe.encode(mix[:, None])
        y = self.fe.encode(want[:, None])
        # the waveform losses' reference, made once per batch (losses runs twice a step
        # with the anchor): the target through the engine's STFT round trip, or raw
        ref = self.fe.decode(y)[:, 0] if self.a.sisdr_ref == "engine" else want
        return {"cond": cond, "z": cond, "prior": None, "y": y,
                "c": cond_of(labels, removes, cond.shape[2], len(mx.LABELS), dev),
                "mix": mix, "want": want, "ref": ref, "labels": list(labels)}

    def batch(self, step):
        rng = np.random.RandomState((self.a.seed * 1000003 + step) % (2 ** 31))
        return self.to_batch(*mx.batch(self.pool, self.a.batch, self.n, rng, p_remove=self.a.p_remove,
                                       **self.mix_kw))

    def valid_batch(self, pool=None):
        """Keep mode: val_count speech mixtures per SNR, half as many music and noise, from
        the valid pool (or another: a diagnostic's fresh mixtures of the training sources)."""
        pool = self.vpool if pool is None else pool
        rng = np.random.RandomState(self.a.seed + 1)
        n = int(self.a.val_seconds * mx.SR) // self.a.hop * self.a.hop
        items = []
        for li in range(len(mx.LABELS)):
            for snr in VALID_SNRS:
                for _ in range(self.a.val_count if li == 0 else max(1, self.a.val_count // 2)):
                    items.append(mx.make_mixture(pool, n, rng, label=li, snr_db=snr,
                                                 level_db=rng.uniform(-45, -15)))
        return self.to_batch([m["mix"] for m in items], [m["target"] for m in items],
                             [m["label"] for m in items], [0] * len(items))

    # ------------------------------------------------------------ losses

    def losses(self, yhat, b):
        a, fe = self.a, self.fe
        scale = b["z"].abs().mean(dim=(1, 2, 3)).clamp_min(a.scale_floor)
        out = {"l1": ((yhat - b["y"]).abs().mean(dim=(1, 2, 3)) / scale).mean()}
        total = a.l1_weight * out["l1"]
        if a.sisdr_weight > 0 or a.mrstft_weight > 0:
            est, ref = fe.decode(yhat)[:, 0], b["ref"]
            ok = (ref.pow(2).mean(1) > 1e-10) & (b["mix"].pow(2).mean(1) > 1e-12)
            if ok.any() and a.sisdr_weight > 0:
                cap = a.sisdr_cap if a.sisdr_cap > 0 else None
                out["sisdr"] = -losses.si_sdr(est[ok], ref[ok], cap_db=cap).clamp(max=50).mean()
                total = total + a.sisdr_weight * out["sisdr"] / 10.0
            if ok.any() and a.mrstft_weight > 0:
                g = 1.0 / (ref[ok].pow(2).mean(1, keepdim=True).sqrt() + 1e-6)
                out["mrstft"] = losses.mrstft(est[ok] * g, ref[ok] * g).mean()
                total = total + a.mrstft_weight * out["mrstft"]
        out["total"] = total
        return out

    def score(self, x, b):
        """Mean SI-SDRi (dB) per label, and over all labels."""
        est = self.fe.decode(x)[:, 0]
        imp = losses.si_sdr(est, b["want"]) - losses.si_sdr(b["mix"], b["want"])
        res = {}
        for li, name in enumerate(mx.LABELS):
            sel = [k for k, l in enumerate(b["labels"]) if l == li]
            if sel:
                res[name] = float(imp[sel].mean())
        res["mean"] = float(np.mean([res[k] for k in res]))
        return res

    def data_provenance(self, a):
        return "earflow_train/mixtures.py on the corpus at %s (train split)" % repo_relative(a.corpus)

    def describe(self):
        return "train %.1f min speech (%d groups), %.1f min music" % (
            self.pool.speech_seconds / 60, len(self.pool.groups), self.pool.music_seconds / 60)


if __name__ == "__main__":
    loop.train(Separate())
