"""The engine's front end in torch, batched and differentiable: the streaming STFT
(periodic sqrt-Hann, front pad N - hop, Nyquist dropped), the magnitude compression
of docs/model-spec.md section 1, and the overlap-add synthesis. It equals dsp.py's
numpy reference (and so the C engine: the golden vectors) for a crop of n samples,
n a multiple of hop, frames m = 0 .. n / hop - 1 (no tail). The one front end of
training: both trainers and the validation solvers use it."""

import torch
import torch.nn.functional as Fn

from . import dsp


class Frontend:
    """cfg: a model config (n_fft, hop, compress.alpha, compress.beta)."""

    def __init__(self, cfg, device="cpu"):
        self.N, self.hop = int(cfg["n_fft"]), int(cfg["hop"])
        self.alpha = float(cfg["compress"]["alpha"])
        self.beta = float(cfg["compress"]["beta"])
        self.F = self.N // 2
        self.sr = int(cfg.get("sample_rate", 48000))
        self.win = torch.from_numpy(dsp.sqrt_hann(self.N)).float().to(device)
        self.swin = torch.from_numpy(dsp.synthesis_window(self.N, self.hop)).float().to(device)

    # ------------------------------------------------------------ STFT / ISTFT

    def stft(self, x):
        """x [..., n] -> complex [..., T, F]."""
        lead = x.shape[:-1]
        xp = Fn.pad(x.reshape(-1, x.shape[-1]), (self.N - self.hop, 0))
        fr = xp.unfold(-1, self.N, self.hop) * self.win           # [B, T, N]
        X = torch.fft.rfft(fr, dim=-1)[..., :self.F]
        return X.reshape(lead + X.shape[-2:])

    def istft(self, Y):
        """complex [..., T, F] -> waveform [..., T * hop], aligned with stft's input."""
        lead, (T, F) = Y.shape[:-2], Y.shape[-2:]
        Y = Fn.pad(Y.reshape((-1, T, F)), (0, 1))                  # Nyquist = 0
        fr = torch.fft.irfft(Y, n=self.N, dim=-1) * self.swin      # [B, T, N]
        total = (T - 1) * self.hop + self.N
        y = Fn.fold(fr.transpose(1, 2), output_size=(1, total), kernel_size=(1, self.N),
                    stride=(1, self.hop)).reshape(fr.shape[0], total)
        s = self.N - self.hop
        return y[:, s:s + T * self.hop].reshape(lead + (T * self.hop,))

    # ------------------------------------------------------------ compression

    def compress(self, X):
        """complex [B, C, T, F] -> compressed real layout [B, 2C, T, F]."""
        g = self.beta * (X.real ** 2 + X.imag ** 2 + 1e-12) ** ((self.alpha - 1) / 2)
        return torch.stack([X.real * g, X.imag * g], dim=2).flatten(1, 2)

    def decompress(self, R):
        """compressed real layout [B, 2C, T, F] -> complex [B, C, T, F]."""
        re, im = R[:, 0::2] / self.beta, R[:, 1::2] / self.beta
        g = (re * re + im * im + 1e-12) ** ((1 / self.alpha - 1) / 2)
        return torch.complex(re * g, im * g)

    def power(self, R):
        """|X|^2 [B, C, T, F] of a compressed real-layout spectrum."""
        return ((R[:, 0::2] ** 2 + R[:, 1::2] ** 2) / self.beta ** 2 + 1e-12) ** (1.0 / self.alpha)

    # ------------------------------------------------------------ both ways

    def encode(self, x):
        """waveforms [B, C, n] -> compressed real layout [B, 2C, T, F]."""
        return self.compress(self.stft(x))

    def decode(self, R):
        """compressed real layout [B, 2C, T, F] -> waveforms [B, C, T * hop]."""
        return self.istft(self.decompress(R))

    def bin_hz(self, device=None, dtype=torch.float32):
        return torch.arange(self.F, device=device, dtype=dtype) * (self.sr / self.N)
