"""The binaural evaluator's ILD error (train/evaluate_binaural.py ild_err): it must measure a
wrong level difference where the target's ILD is measurable, and leave out the cells
where the 16-bit target holds only its rounding noise (a G.722-like source with
nothing above 7 kHz), whose ILD is about 0 dB whatever the source's direction."""
import os
import sys

import numpy as np

sys.path.insert(0, os.path.join(os.path.dirname(__file__), ".."))
import evaluate_binaural as evaluate  # noqa: E402

SR = 48000


def band_limited_noise(seconds=2.0, cut=7000.0, level=0.1, seed=1):
    rng = np.random.default_rng(seed)
    x = rng.standard_normal(int(seconds * SR))
    X = np.fft.rfft(x)
    X[np.fft.rfftfreq(len(x), 1.0 / SR) > cut] = 0.0     # nothing above `cut`, as G.722's 7 kHz
    x = np.fft.irfft(X, len(x))
    return level * x / np.sqrt(np.mean(x ** 2))


def quantize16(y):
    return np.round(y * 32768.0) / 32768.0


def mean_err(pair):
    s, c = pair
    return s / c, c


def test_exact_ild_scores_zero_and_noise_cells_are_left_out():
    x = band_limited_noise()
    truth = quantize16(np.stack([x, 0.5 * x]))          # 6 dB louder on the left
    pred = np.stack([x, 0.5 * x])                       # the same, not rounded
    (gated, all_cells, _) = evaluate.ild_err(pred, truth)
    err, cells = mean_err(gated)
    err_all, cells_all = mean_err(all_cells)
    assert cells > 0 and cells < cells_all               # the empty octaves are left out
    assert err < 0.05, err                               # where the truth is measurable: exact
    assert err_all > 0.5, err_all   # the 16 kHz octave (1 of 7): rounding noise, ILD ~0 vs 6 dB


def test_wrong_level_difference_is_measured():
    x = band_limited_noise()
    truth = quantize16(np.stack([x, 0.5 * x]))          # ILD 6.02 dB
    pred = np.stack([x, 0.25 * x])                      # ILD 12.04 dB: 6 dB too much
    err, cells = mean_err(evaluate.ild_err(pred, truth)[0])
    assert cells > 0
    assert abs(err - 6.02) < 0.1, err


def test_full_band_source_keeps_every_octave():
    x = band_limited_noise(cut=24000.0)
    truth = quantize16(np.stack([x, 0.5 * x]))
    (gated, all_cells, direct) = evaluate.ild_err(np.stack([x, 0.5 * x]), truth)
    assert gated[1] == all_cells[1]                      # nothing is near the noise floor
    assert direct == gated                               # no direct sound given: all of it is


def test_direct_sound_frames_are_those_the_direct_sound_dominates():
    """A source 6 dB and 0.42 ms (20 samples) to the left in a room: loud for 2 s, then
    20 dB quieter under a steady reverberation (independent at the two ears). A room
    renderer (the direct sound + its own reverberation) is scored on its direct sound's
    ILD and ITD in the frames the target's direct sound dominates; in the others the
    two reverberations' differences decide."""
    x = band_limited_noise(seconds=4.0, cut=24000.0)
    env = np.where(np.arange(len(x)) < 2 * SR, 1.0, 0.1)
    direct = np.stack([x * env, 0.5 * np.roll(x, 20) * env])
    room = lambda seed: 0.2 * np.stack([band_limited_noise(4.0, 24000.0, 0.1, seed + k) for k in (0, 1)])  # noqa: E731
    truth = quantize16(direct + room(10))
    render = direct + room(20)
    masks = evaluate.direct_masks(truth, direct)      # the target's, once for every render
    ild, ild_all, ild_direct = evaluate.ild_err(render, truth, masks)
    itd, itd_all, itd_direct = evaluate.itd_err(render, truth, masks)
    assert 0 < ild_direct[1] < 0.7 * ild[1] and 0 < itd_direct[1] < 0.7 * itd[1]   # the quiet half is out
    assert mean_err(ild_direct)[0] < 0.75 * mean_err(ild)[0]     # 0.68 against 1.13 dB here
    assert mean_err(itd_direct)[0] < 0.5 * mean_err(itd)[0]      # 15 against 325 us here
    assert mean_err(itd_direct)[0] < 30.0, itd_direct


def test_itd_frames_of_rounding_noise_are_left_out():
    """A source 6 samples (125 us) earlier at the left ear: full-band for its first
    second, nothing below 2 kHz in its second. In the 16-bit target the second second
    holds only rounding noise below 1.5 kHz, where GCC-PHAT reads the ITD, so its
    frames read a random lag: they leave the gated count (an exact render scores about
    0 there) and stay in the count of every frame."""
    rng = np.random.default_rng(4)
    x = 0.1 * rng.standard_normal(2 * SR)
    X = np.fft.rfft(x[SR:])
    X[np.fft.rfftfreq(SR, 1.0 / SR) < 2000] = 0.0
    x[SR:] = np.fft.irfft(X, SR)
    pred = np.stack([x, np.roll(x, 6)])
    (gated, all_frames, _) = evaluate.itd_err(pred, quantize16(pred))
    assert 0 < gated[1] < all_frames[1] * 0.6, (gated, all_frames)
    assert gated[0] / gated[1] < 2.0, gated                  # us
    assert all_frames[0] / all_frames[1] > 20.0, all_frames


def test_paired_table_is_label_minus_base_per_sequence():
    """The evaluator's paired table: per-sequence differences (label minus base) with a
    95 % t interval, anechoic and all rooms apart."""
    def s(ild):
        return {"ild_db": ild, "itd_us": 10.0, "ic_err": 0.1, "amp": 0.01}
    base = {"a1": s(1.0), "a2": s(2.0), "r1": s(3.0), "r2": s(3.0)}
    worse = {"a1": s(1.5), "a2": s(2.7), "r1": s(3.1), "r2": s(3.3)}
    room_of = {"a1": "anechoic", "a2": "anechoic", "r1": "small", "r2": "large"}
    md = evaluate.paired_table({"base": base, "worse": worse}, "base", ["worse"], room_of)
    rows = [r for r in md.splitlines() if r.startswith("| worse")]
    assert len(rows) == 2
    an, al = (r.split(" | ") for r in rows)
    assert an[1] == "anechoic" and an[2] == "2" and an[3].startswith("+0.600 ± ")
    # 12.706 (t, 1 degree of freedom) x 0.1414 / sqrt(2) = 1.271
    assert an[3] == "+0.600 ± 1.271"
    assert al[1] == "all" and al[2] == "4" and al[3].startswith("+0.400 ± ")
    assert an[4] == "+0.0 ± 0.0"


def test_prior_model_is_the_prior_with_a_tail_gain_too(tmp_path):
    """The evaluator's "prior alone" model: the mask 1 + 0j on each ear and, with
    arch.tail_gain, the tail's log gains 0 (gain 1), not 1 (a tail e times too loud)."""
    from earflow_train.export import read_safetensors
    golden = os.path.join(os.path.dirname(__file__), "..", "..", "tests", "golden")
    for name, want in (("binaural_tail_tiny.safetensors", [1, 0, 1, 0]),
                       ("binaural_tailgain_tiny.safetensors", [1, 0, 1, 0, 0, 0])):
        out = evaluate.prior_model(os.path.join(golden, name), str(tmp_path / name))
        t, _ = read_safetensors(out)
        assert t["out_conv.bias"].tolist() == want
        assert not t["out_conv.weight"].any()


def test_a_silent_render_is_scored_not_a_crash():
    """No frame to read an ITD from (a silent render): every count is 0, and
    all_metrics and pool go on (the ITD error is then nan, not an exception)."""
    x = band_limited_noise(seconds=1.0, cut=24000.0)
    truth = quantize16(np.stack([x, 0.5 * x]))
    silent = np.zeros_like(truth)
    assert evaluate.itd_err(silent, truth) == ((0.0, 0), (0.0, 0), (0.0, 0))
    pooled = evaluate.pool([evaluate.all_metrics(silent, truth)])
    assert pooled["itd_frames"] == 0 and np.isnan(pooled["itd_us"]) and np.isnan(pooled["itd_direct_us"])
