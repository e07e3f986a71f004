"""Self-checks of the PyTorch twin before the C runtime exists.

    /usr/bin/python3 train/check_twin.py [--golden tests/golden] [--quick]

(a) STFT -> ISTFT identity with the streaming alignment (and compress/decompress).
(b) A frame-by-frame numpy re-implementation of the engine (analysis buffer, PCG noise,
    smoothing, per-evaluation history buffers for every kt > 1 conv, OLA) against
    - the offline forward of model.py on a short random sequence (network level), and
    - the golden files end to end (what the C runtime will be compared against).
Plus: PCG32 reference vector, causality probe, safetensors invariants and names.
Exits non-zero on any failure.
"""

import argparse
import json
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from earflow_train import dsp, flow  # noqa: E402
from earflow_train.export import load_model, read_safetensors  # noqa: E402
from earflow_train.model import EarflowUNet, init_random_, render  # noqa: E402

FAILURES = []


def check(name, value, limit):
    ok = bool(value < limit)
    print("  %-58s %.3e  (limit %.0e)  %s" % (name, value, limit, "ok" if ok else "FAIL"))
    if not ok:
        FAILURES.append(name)


def rel_err(a, ref):
    a = np.asarray(a, np.float64)
    ref = np.asarray(ref, np.float64)
    return float(np.max(np.abs(a - ref)) / max(np.sqrt(np.mean(ref ** 2)), 1e-30))


# ----------------------------------------------------------------- (a) STFT


def check_stft():
    print("(a) STFT -> ISTFT identity (aligned, cropped)")
    rng = np.random.RandomState(7)
    n = 24000 + 37
    x = (0.3 * rng.randn(n)).astype(np.float32)
    for n_fft, hop in [(512, 128), (512, 256), (256, 64)]:
        X = dsp.stft(x, n_fft, hop)
        y = dsp.istft(X, n_fft, hop, n)
        check("identity float64 n_fft %d hop %d max|y-x|" % (n_fft, hop),
              float(np.max(np.abs(y - x))), 1e-5)
        # float32 spectrum, Nyquist zeroed is NOT an identity; instead check float32 path
        X32 = X.astype(np.complex64)
        y32 = dsp.istft(X32, n_fft, hop, n)
        check("identity float32 spectrum n_fft %d hop %d max|y-x|" % (n_fft, hop),
              float(np.max(np.abs(y32 - x))), 1e-5)
    # compress / decompress round trip (float32)
    X = dsp.stft(x, 512, 128)
    R = dsp.complex_to_real_layout(X[None])
    back = dsp.decompress_real_layout(dsp.compress_real_layout(R, 0.5, 0.1), 0.5, 0.1)
    check("compress->decompress relative max err", rel_err(back, R), 1e-5)


# --------------------------------------------------------------- PCG / misc


def check_pcg():
    print("PCG32")
    rng = dsp.Pcg32(42, 54)
    got = [rng.next_u32() for _ in range(6)]
    want = [0xa15c02b7, 0x7b47f409, 0xba1d3330, 0x83d2f293, 0xbfa4784b, 0xcbed606e]
    check("pcg32_srandom(42, 54) reference vector mismatches", float(got != want), 0.5)
    z = dsp.frame_noise(1234, 64, 2, 256).astype(np.float64).ravel()
    print("  noise(seed 1234) mean %.4f std %.4f first %s" % (z.mean(), z.std(), z[:4]))
    check("noise std deviation from 1", abs(z.std() - 1.0), 0.02)


# ------------------------------------------------------ numpy streaming twin


class StreamNet:
    """Frame-at-a-time U(x, t, c) with explicit history buffers, one bank per evaluation."""

    def __init__(self, weights, config):
        self.W = {k: np.asarray(v, np.float32) for k, v in weights.items()}
        self.cfg = config
        arch = config["arch"]
        self.kt = arch["kt"]
        self.G = arch["groups"]
        self.L = len(arch["widths"]) - 1
        self.blocks = ([("enc.%d" % l, arch["dil_enc"][l]) for l in range(self.L)] +
                       [("mid.%d" % i, d) for i, d in enumerate(arch["dil_mid"])] +
                       [("dec.%d" % l, arch["dil_dec"][l]) for l in range(self.L)])
        self.dil = dict(self.blocks)
        self.banks = {}

    def reset(self):
        self.banks = {}

    def _bank(self, e):
        if e not in self.banks:
            self.banks[e] = {}
        return self.banks[e]

    def conv(self, name, taps, stride=1):
        """taps[i] is the input frame m - (kt-1-i)*dil, each [Cin, F]."""
        w = self.W[name + ".weight"]
        b = self.W[name + ".bias"]
        cin, f_in = taps[0].shape
        f_out = f_in // stride
        out = np.zeros((w.shape[0], f_out), np.float32) + b[:, None]
        for i, x in enumerate(taps):
            xp = np.zeros((cin, f_in + 2), np.float32)
            xp[:, 1:-1] = x
            for j in range(3):
                sl = xp[:, j:j + stride * (f_out - 1) + 1:stride]
                out += w[:, :, i, j] @ sl
        return out

    def gn(self, name, x):
        c, f = x.shape
        g = x.reshape(self.G, -1).astype(np.float64)
        mu = g.mean(axis=1, keepdims=True)
        var = ((g - mu) ** 2).mean(axis=1, keepdims=True)
        y = ((g - mu) / np.sqrt(var + 1e-5)).reshape(c, f)
        return (y * self.W[name + ".weight"][:, None] + self.W[name + ".bias"][:, None]).astype(np.float32)

    @staticmethod
    def silu(x):
        return (x / (1.0 + np.exp(-x.astype(np.float64)))).astype(np.float32)

    def lin(self, name, x):
        return self.W[name + ".weight"] @ x + self.W[name + ".bias"]

    def resblock(self, name, x, e, bank):
        dil = self.dil[name]
        h = self.silu(self.gn(name + ".norm1", x))
        hist_len = (self.kt - 1) * dil
        if hist_len:
            hist = bank.get(name)
            if hist is None:
                hist = [np.zeros_like(h) for _ in range(hist_len)]  # oldest first
            # taps: frame m - (kt-1-i)*dil, i.e. hist index len - (kt-1-i)*dil
            taps = [hist[hist_len - (self.kt - 1 - i) * dil] if i < self.kt - 1 else h
                    for i in range(self.kt)]
            bank[name] = hist[1:] + [h]
        else:
            taps = [h]
        h = self.conv(name + ".conv1", taps)
        h = h + self.lin(name + ".proj", e)[:, None]
        h = self.conv(name + ".conv2", [self.silu(self.gn(name + ".norm2", h))])
        return x + h

    def step(self, x, t, c, e_idx):
        """x [Cin, F] one frame, t float, c [D_c] -> v [2 C_out, F]."""
        bank = self._bank(e_idx)
        f = self.W["emb.t_freqs"]
        arg = (np.float32(2.0 * np.pi) * f * np.float32(t)).astype(np.float64)
        u = np.concatenate([np.sin(arg), np.cos(arg)]).astype(np.float32)
        u = np.concatenate([u, np.asarray(c, np.float32)])
        e = self.silu(self.lin("emb.fc2", self.silu(self.lin("emb.fc1", u))))
        h = self.conv("in_conv", [x])
        if "freq_emb" in self.W:
            h = h + self.W["freq_emb"]
        skips = []
        for l in range(self.L):
            h = self.resblock("enc.%d" % l, h, e, bank)
            skips.append(h)
            h = self.conv("down.%d" % l, [h], stride=2)
        for i in range(len(self.cfg["arch"]["dil_mid"])):
            h = self.resblock("mid.%d" % i, h, e, bank)
        for l in reversed(range(self.L)):
            h = np.repeat(h, 2, axis=1)
            h = self.conv("up.%d" % l, [h]) + skips[l]
            h = self.resblock("dec.%d" % l, h, e, bank)
        o = self.conv("out_conv", [self.silu(self.gn("out_norm", h))])
        if "out_gain.weight" in self.W:
            g = np.clip(self.lin("out_gain", e), -10.0, 10.0).reshape(-1, 1, o.shape[1])
            o = (o.reshape(-1, 2, o.shape[1]) * np.exp(g)).reshape(o.shape).astype(np.float32)
        return o


class StreamEngine:
    """The C runtime's per-hop processing, in numpy."""

    def __init__(self, weights, config, seed):
        self.net = StreamNet(weights, config)
        self.cfg = config
        self.seed = seed
        self.N, self.hop = config["n_fft"], config["hop"]
        self.F = self.N // 2
        self.c_out = 2 if config["kind"] == "binaural" else 1
        self.w = dsp.sqrt_hann(self.N)
        self.ws = dsp.synthesis_window(self.N, self.hop)
        self.a = dsp.smoothing_coef(config)
        self.reset()

    def reset(self):
        self.net.reset()
        self.rng = dsp.Pcg32(self.seed, 54)
        self.inbuf = np.zeros(self.N)
        self.ola = np.zeros((self.c_out, self.N))
        self.c_s = None

    def process(self, block, params_row, solver, steps, t0):
        cfg = self.cfg
        alpha, beta = cfg["compress"]["alpha"], cfg["compress"]["beta"]
        self.inbuf = np.concatenate([self.inbuf[self.hop:], np.asarray(block, np.float64)])
        X = np.fft.rfft(self.inbuf * self.w)[:self.F]
        cre, cim = dsp.compress(X.real.astype(np.float32), X.imag.astype(np.float32), alpha, beta)
        cond = np.stack([cre, cim])                                   # [2, F]
        raw = dsp.params_to_features(np.asarray(params_row, np.float32)[None], cfg)[0]
        if self.c_s is None:
            self.c_s = raw.copy()
        else:
            self.c_s = self.c_s + self.a * (raw - self.c_s)
        eps = self.rng.normals(2 * self.c_out * self.F).reshape(2 * self.c_out, self.F)
        x = np.concatenate([cond] * self.c_out) + np.float32(cfg["flow"]["sigma"]) * eps

        def U(state, t, k):
            return self.net.step(np.concatenate([state, cond]), t, self.c_s, k)

        x = flow.solve(U, x, solver, steps, t0)
        yr, yi = dsp.decompress(x[0::2], x[1::2], alpha, beta)
        Y = np.zeros((self.c_out, self.F + 1), np.complex128)
        Y[:, :self.F] = yr.astype(np.float64) + 1j * yi.astype(np.float64)
        self.ola += np.fft.irfft(Y, n=self.N, axis=-1) * self.ws
        out = self.ola[:, :self.hop].copy()
        self.ola = np.concatenate([self.ola[:, self.hop:], np.zeros((self.c_out, self.hop))], axis=1)
        return out


def stream_render(weights, config, seed, wave, params, solver, steps, t0):
    eng = StreamEngine(weights, config, seed)
    N, hop = config["n_fft"], config["hop"]
    n = len(wave)
    M = params.shape[0]
    x = np.concatenate([np.asarray(wave, np.float64), np.zeros(M * hop)])
    blocks = [eng.process(x[m * hop:(m + 1) * hop], params[m], solver, steps, t0)
              for m in range(M)]
    y = np.concatenate(blocks, axis=1)
    lat = N - hop
    return y[:, lat:lat + n]


# ---------------------------------------------------------- (b) network level


def check_network_stream(model, config, label, frames=40, seed=3):
    torch.manual_seed(seed)
    cin = 2 * (model.c_out + 1)
    F = config["n_fft"] // 2
    x = torch.randn(1, cin, frames, F)
    c = torch.randn(1, frames, model.cond_dim)
    t = 0.37
    with torch.no_grad():
        ref = model(x, torch.tensor([t]), c)[0].numpy()              # [2C_out, T, F]
        # causality probe: change frames >= k, outputs < k must not move
        k = frames // 2
        x2 = x.clone()
        x2[:, :, k:] += torch.randn_like(x2[:, :, k:])
        c2 = c.clone()
        c2[:, k:] += 1.0
        ref2 = model(x2, torch.tensor([t]), c2)[0].numpy()
    check("%s causality probe: max|dv| before perturbed frame" % label,
          float(np.max(np.abs(ref2[:, :k] - ref[:, :k]))), 1e-12)
    check("%s causality probe: 1 / max|dv| after it (must be visible)" % label,
          1.0 / (float(np.max(np.abs(ref2[:, k:] - ref[:, k:]))) + 1e-30), 1e3)
    net = StreamNet({k_: v.numpy() for k_, v in model.state_dict().items()}, config)
    xs = x[0].numpy()
    cs = c[0].numpy()
    out = np.stack([net.step(xs[:, m], t, cs[m], 0) for m in range(frames)], axis=1)
    check("%s frame-by-frame vs offline forward (max err / rms)" % label, rel_err(out, ref), 1e-5)


# ------------------------------------------------------------------- golden


def check_golden(golden_dir, quick):
    models = {}
    for kind in ["binaural", "separate"]:
        for case_kind in ["static", "moving"]:
            path = os.path.join(golden_dir, "%s_%s.safetensors" % (kind, case_kind))
            if not os.path.exists(path):
                print("  missing %s" % path)
                FAILURES.append("missing " + path)
                continue
            g, meta = read_safetensors(path)
            gm = json.loads(meta["golden"])
            mpath = os.path.join(golden_dir, gm["model"])
            if mpath not in models:
                models[mpath] = load_model(mpath)
                weights, _ = read_safetensors(mpath)
                models[mpath] = models[mpath] + (weights,)
            model, config, weights = models[mpath]
            wave, params, noise = g["input"], g["params"], g["noise"]
            label = "%s_%s" % (kind, case_kind)
            check("%s stored noise == PCG(seed %d) (max abs)" % (label, gm["seed"]),
                  float(np.max(np.abs(noise - dsp.frame_noise(
                      gm["seed"], gm["frames"], model.c_out, config["n_fft"] // 2)))), 1e-12)
            for case in gm["cases"]:
                ref = g["out." + case["name"]]
                off, _ = render(model, config, wave, params, noise=noise, solver=case["solver"],
                                steps=case["steps"], t0=case["t0"])
                check("%s %s offline re-render vs file" % (label, case["name"]),
                      rel_err(off, ref), 5e-6)   # another machine's BLAS: ~2.6e-6 seen here
                if quick and case["name"] != "midpoint_3_t0":
                    continue
                st = stream_render(weights, config, gm["seed"], wave, params,
                                   case["solver"], case["steps"], case["t0"])
                check("%s %s streaming twin vs golden (max err / rms)" % (label, case["name"]),
                      rel_err(st, ref), 1e-5)


def check_names(golden_dir):
    print("model files: names, order, invariants")
    for kind in ["binaural", "separate"]:
        path = os.path.join(golden_dir, "%s_tiny.safetensors" % kind)
        tensors, meta = read_safetensors(path)      # raises on invariant violations
        config = json.loads(meta["earflow"])
        m = EarflowUNet(config)
        sd = m.state_dict()
        bad = [k for k in sd if k not in tensors or tuple(sd[k].shape) != tensors[k].shape]
        extra = [k for k in tensors if k not in sd]
        with open(path, "rb") as f:
            hlen = int.from_bytes(f.read(8), "little")
        print("  %s: %d tensors, header %d bytes (8+n %% 8 = %d), size %d" % (
            os.path.basename(path), len(tensors), hlen, (8 + hlen) % 8, os.path.getsize(path)))
        check("%s missing/misshaped/extra tensor names" % kind, float(len(bad) + len(extra)), 0.5)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--golden", default=os.path.join(HERE, "..", "tests", "golden"))
    ap.add_argument("--quick", action="store_true",
                    help="streaming twin only for one schedule per golden file")
    args = ap.parse_args()
    torch.set_num_threads(1)
    golden = os.path.normpath(args.golden)

    check_stft()
    check_pcg()
    print("(b) streaming re-implementation vs offline network")
    for kind, cfg_seed in [("binaural", 11), ("separate", 12)]:
        sys.path.insert(0, HERE)
        from make_golden import config_for
        config = config_for(kind)
        model = EarflowUNet(config)
        init_random_(model, cfg_seed, out_gain=1.0)
        model.eval()
        check_network_stream(model, config, kind)
    if os.path.isdir(golden):
        check_names(golden)
        print("(b') golden files: offline re-render and streaming twin end to end")
        check_golden(golden, args.quick)
    else:
        print("no golden dir %s: skipped" % golden)
        FAILURES.append("golden dir missing")

    if FAILURES:
        print("FAILED: %d check(s): %s" % (len(FAILURES), FAILURES))
        sys.exit(1)
    print("all checks passed")


if __name__ == "__main__":
    main()
