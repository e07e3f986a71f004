"""The room-realism measures (train/earflow_train/realism.py) on signals whose answer is
known: the same signal at both ears (a dry source, only delayed) is coherent, two
independent noises are not, and a coherence error reads the difference; an
exponentially decaying noise has the decay time it was made with; an impulse alone
has no reverberant part, and a tail of known energy gives its DRR."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
from earflow_train import realism  # noqa: E402

SR = 48000


def noise(seconds, seed):
    return 0.1 * np.random.default_rng(seed).standard_normal(int(seconds * SR))


def per_band(c):
    """[bands, 4] sums -> (error, coherence of render, coherence of target) per band."""
    n = np.maximum(c[:, 3], 1)
    return c[:, 0] / n, c[:, 1] / n, c[:, 2] / n


def test_coherence_of_a_dry_source_and_of_a_diffuse_field():
    x = noise(6, 1)
    dry = np.stack([x, np.roll(x, 30)])              # the same signal, 0.6 ms later at one ear
    diffuse = np.stack([x, noise(6, 2)])             # two independent noises
    c = realism.coherence(dry, diffuse)
    assert np.all(c[:, 3] > 0)                        # every band has cells
    err, ic_dry, ic_diffuse = per_band(c)
    assert np.all(ic_dry > 0.95), ic_dry
    assert np.all(ic_diffuse < 0.35), ic_diffuse     # 24 frames: an estimate's bias about 0.2
    assert np.all(np.abs(err - (ic_dry - ic_diffuse)) < 1e-9)
    same, _, _ = per_band(realism.coherence(dry, dry))
    assert np.all(same < 1e-9)


def test_coherence_leaves_out_bands_of_rounding_noise():
    x = noise(6, 3)
    X = np.fft.rfft(x)
    X[np.fft.rfftfreq(len(x), 1.0 / SR) > 5000] = 0.0   # nothing in the 8 and 16 kHz octaves (from 5.66 kHz)
    x = np.fft.irfft(X, len(x))
    target = np.round(np.stack([x, x]) * 32768.0) / 32768.0
    c = realism.coherence(np.stack([x, noise(6, 4)]), target)
    bands = dict(zip(realism.OCTAVES, c[:, 3]))
    assert bands[1000] > 0 and bands[16000] == 0 and bands[8000] == 0


def decaying(rt60, seconds=2.0, seed=5):
    t = np.arange(int(seconds * SR)) / SR
    env = 10 ** (-3 * t / rt60)                       # -60 dB at rt60 (amplitude)
    rng = np.random.default_rng(seed)
    return np.stack([rng.standard_normal(len(t)) * env, rng.standard_normal(len(t)) * env])


def test_decay_time_reads_the_decay_it_was_made_with():
    for rt in (0.3, 0.8, 1.5):
        t20 = realism.decay_time(decaying(rt, seconds=rt * 1.5 + 0.3))
        assert abs(t20 / rt - 1) < 0.08, (rt, t20)


def test_an_impulse_has_no_tail():
    ir = np.zeros((2, SR))
    ir[:, 100] = 1.0
    assert realism.decay_time(ir) < 0.02
    assert realism.drr_db(ir) == 60.0


def test_drr_of_a_tail_of_known_energy():
    ir = decaying(0.5) * 0.01
    ir[:, :int(0.005 * SR)] = 0.0                     # the tail starts 5 ms after the direct sound
    ir[:, 0] = 1.0
    tail = float(np.sum(ir[:, 1:] ** 2))
    assert abs(realism.drr_db(ir) - 10 * np.log10(2.0 / tail)) < 0.01
