"""The band-level loss (earflow_train.losses.band_level) on a room tail whose fine
structure no input determines: a second draw of the same decaying noise (the right
energy, other phases) scores near zero, the same tail at half its amplitude scores
6 dB; the L1 on the compressed spectrum ranks a quieter tail above the right one,
which is why a network trained on it turns its tail down."""
import math

import torch

from earflow_train import losses
from earflow_train.frontend import Frontend

SR = 48000
CFG = {"n_fft": 512, "hop": 256, "compress": {"alpha": 0.3, "beta": 1.0}}


def tail(seed, seconds=1.0, rt60=0.5):
    """[1, 2, n] two ears of independent noise decaying 60 dB in rt60 s."""
    n = int(seconds * SR) // 256 * 256
    g = torch.Generator().manual_seed(seed)
    env = torch.exp(-3.0 * math.log(10.0) * torch.arange(n) / (rt60 * SR))
    return 0.1 * torch.randn(1, 2, n, generator=g) * env


def test_level_holds_a_tail_that_the_per_bin_losses_turn_down():
    fe = Frontend(CFG)
    y = fe.encode(tail(1))
    other = fe.encode(tail(2))                       # the same room, other phases
    half = fe.encode(0.5 * tail(1))                  # the right phases, 6 dB down
    lev_other = float(losses.band_level(fe, other, y))
    lev_half = float(losses.band_level(fe, half, y))
    assert abs(lev_half - 20 * math.log10(2)) < 0.01, lev_half
    assert lev_other < 1.5, lev_other                # estimates over 43 ms windows
    # what the complex L1 prefers instead: a quieter tail with other phases beats
    # the right level (the magnitude L1 does not: it scores no phase)
    quieter = fe.encode(0.5 * tail(2))
    assert float((quieter - y).abs().mean()) < float((other - y).abs().mean())
    assert float(losses.magnitude_l1(fe, quieter, y)) > float(losses.magnitude_l1(fe, other, y))
    assert float(losses.band_level(fe, quieter, y)) > 5.0


def test_level_counts_only_cells_the_target_fills():
    fe = Frontend(CFG)
    y = fe.encode(tail(1))
    y[:, :, y.shape[2] // 2:] = 0.0                  # the target ends half way
    rings_on = fe.encode(tail(1))                    # the estimate does not
    # cells the target leaves silent are not scored (as the evaluator's ILD and
    # coherence): only the windows across the end count, where one would read
    # about 200 dB against the silence
    assert float(losses.band_level(fe, rings_on, y)) < 3.0


def test_sisdr_cap_keeps_a_nearly_perfect_item_from_outweighing_the_batch():
    """The separation trainer's SI-SDR loss: without a ceiling the gradient of the dB
    grows as 1 / |error|, so an item 60 dB from perfect (a clean mixture) pulls 1000
    times harder than one at 0 dB, and after gradient clipping the rest of the batch
    teaches nothing; with the soft ceiling (cap_db 30) both pull alike."""
    g = torch.Generator().manual_seed(3)
    ref = torch.randn(2, 4800, generator=g)
    err = torch.randn(2, 4800, generator=g)
    err[0] *= 1e-3                                  # item 0: 60 dB, item 1: 0 dB

    def grads(cap):
        est = (ref + err).clone().requires_grad_(True)
        (-losses.si_sdr(est, ref, cap_db=cap).mean()).backward()
        n = est.grad.norm(dim=1)
        return float(n[0] / n[1])

    assert grads(None) > 300, grads(None)
    assert 0.5 < grads(30.0) < 2.0, grads(30.0)
    # the ceiling is where a perfect estimate lands; without one, the plain SI-SDR
    assert abs(float(losses.si_sdr(ref, ref, cap_db=30.0)[0]) - 30.0) < 0.01
    plain = 10 * torch.log10((ref[1] ** 2).sum() / (err[1] ** 2).sum())
    assert abs(float(losses.si_sdr(ref + err, ref)[1]) - float(plain)) < 0.1
