"""train/separation_ceiling.py: oracle masks on a mixture whose parts are known. A
tone in white noise at 0 dB: every mask lifts it far (the tone holds a few bins), the
complex mask furthest (it also sets the phase); and the masks' values where the
answer is known."""
import numpy as np

import separation_ceiling as sc

SR = 48000


def test_oracle_masks_on_a_tone_in_noise():
    t = np.arange(2 * SR) / SR
    s = 0.1 * np.sin(2 * np.pi * 440.0 * t)
    b = np.random.default_rng(1).standard_normal(len(t))
    b *= np.sqrt(np.mean(s ** 2) / np.mean(b ** 2))            # 0 dB
    got = sc.ceiling(s + b, s, 768, 384)
    assert set(got) == set(sc.MASKS)
    assert got["IRM"] > 10.0 and got["PSM"] > 10.0, got
    assert got["cIRM <=2"] > got["IRM"], got


def test_mask_values():
    """A background half the target and in phase: IRM 1 / sqrt(1.25), PSM and the
    complex mask 1 / 1.5; in antiphase the complex mask would be 2 (its clip), the
    PSM 1 (its clip)."""
    one = np.ones((2, 3), complex)
    m = sc.oracle_masks(one, 0.5 * one)
    assert np.allclose(m["IRM"], 1 / np.sqrt(1.25)) and np.allclose(m["PSM"], 1 / 1.5)
    assert np.allclose(m["cIRM <=2"], 1 / 1.5)
    m = sc.oracle_masks(one, -0.5 * one)
    assert np.allclose(m["cIRM <=2"], 2.0) and np.allclose(m["PSM"], 1.0)
