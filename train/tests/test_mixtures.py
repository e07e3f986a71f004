"""Mixtures (earflow_train/mixtures.py) on a small synthetic corpus: determinism,
augmentation, speaker balance and that babble stays within the pool's speakers."""
import csv
import os

import numpy as np
import pytest

from earflow_train import mixtures as mx

SR = mx.SR
# speaker -> (split, seconds of speech); A has 16x the minutes of B
SPEAKERS = {"A": ("train", 32.0), "B": ("train", 2.0), "C": ("train", 4.0), "D": ("valid", 3.0)}
N = SR // 2


def _voice(rng, seconds, f0):
    """A buzzy 'voice' (harmonics of f0 plus noise) in 1 s utterances."""
    t = np.arange(int(SR * seconds)) / SR
    x = sum(np.sin(2 * np.pi * f0 * h * t) / h for h in range(1, 30)) + 0.3 * rng.randn(len(t))
    return 0.1 * x / np.max(np.abs(x))


@pytest.fixture(scope="module")
def corpus_dir(tmp_path_factory):
    d = tmp_path_factory.mktemp("corpus")
    rng = np.random.RandomState(0)
    rows = []

    def add(kind, split, name, x, speaker="", package="voices"):
        path = "audio/%s/%s.wav" % (kind, name)
        os.makedirs(os.path.dirname(d / path), exist_ok=True)
        mx.write_wav(str(d / path), x.astype(np.float32))
        rows.append(dict(path=path, kind=kind, split=split, group=speaker or name, speaker=speaker,
                         package=package))
    for i, (sp, (split, secs)) in enumerate(SPEAKERS.items()):
        for j in range(int(secs)):
            add("speech", split, "%s%02d" % (sp, j), _voice(rng, 1.0, 100 + 40 * i), sp)
    for split in ("train", "valid"):
        add("music", split, "m_" + split, _voice(rng, 2.0, 220))
        add("noise", split, "n_" + split, 0.05 * rng.randn(SR), package="fx-" + split)
    with open(d / "manifest.csv", "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]))
        w.writeheader()
        w.writerows(rows)
    return str(d)


@pytest.fixture(scope="module")
def pool(corpus_dir):
    return mx.Pool(corpus_dir, "train")


def test_deterministic_by_seed_with_augmentation(pool):
    a = mx.batch(pool, 6, N, np.random.RandomState(5), augment=True)
    b = mx.batch(pool, 6, N, np.random.RandomState(5), augment=True)
    c = mx.batch(pool, 6, N, np.random.RandomState(6), augment=True)
    for x, y in zip(a, b):
        np.testing.assert_array_equal(x, y)
    assert not np.array_equal(a[0], c[0])


def _mixtures(pool, count, seed=1, **kw):
    rng = np.random.RandomState(seed)
    return [mx.make_mixture(pool, N, rng, augment=True, **kw) for _ in range(count)]


def test_band_limits_remove_energy_and_levels_in_range(pool):
    ms = _mixtures(pool, 40)
    lows = [m for m in ms if m["channel"]["lowpass"]]
    highs = [m for m in ms if m["channel"]["highpass"]]
    assert len(lows) >= 8 and len(highs) >= 4 and any(m["channel"]["tilt"] for m in ms)
    f = np.fft.rfftfreq(N, 1.0 / SR)
    for m in lows + highs:
        p = np.abs(np.fft.rfft(m["mix"])) ** 2
        lp, hp = m["channel"]["lowpass"], m["channel"]["highpass"]
        if lp:
            assert 4000 <= lp <= 20000 and p[f > lp].sum() < 1e-9 * p.sum()
        if hp:
            assert 50 <= hp <= 300 and p[f < 0.5 * hp].sum() < 1e-9 * p.sum()
    for m in ms:
        assert mx.AUG_LEVELS[0] - 0.01 <= m["level_db"] <= mx.AUG_LEVELS[1] + 0.01
        assert np.max(np.abs(m["mix"])) <= 0.981
        assert np.all(np.isfinite(m["mix"])) and m["mix"].dtype == np.float32


def test_augmentation_off_is_the_old_channel(pool):
    rng = np.random.RandomState(2)
    for _ in range(10):
        m = mx.make_mixture(pool, N, rng)
        assert m["channel"] is None and -55.01 <= m["level_db"] <= -11.99


def test_speed_perturbation_resamples():
    x = np.sin(2 * np.pi * 1000 * np.arange(mx._need(SR, 1.1)) / SR)
    y = mx._resample(x, SR, 1.1)
    assert len(y) == SR and np.argmax(np.abs(np.fft.rfft(y))) == 1100


def test_speakers_balanced_by_minutes_not_files(pool):
    assert pool.groups == ["A", "B", "C"]          # the train split only: D is valid
    p = dict(zip(pool.groups, pool.speaker_p(pool.groups)))
    assert p["A"] / p["B"] == pytest.approx(4.0, rel=0.01)   # sqrt(16), not 16
    rng = np.random.RandomState(3)
    got = [mx.speech_piece(pool, SR // 10, rng)[1] for _ in range(600)]
    assert 0.45 < got.count("A") / 600 < 0.70 and got.count("B") > 50


def test_babble_and_backgrounds_come_from_the_pool(corpus_dir, pool):
    vpool = mx.Pool(corpus_dir, "valid")
    assert vpool.groups == ["D"] and len(vpool.noise) == 1 and len(pool.noise) == 1
    rng = np.random.RandomState(4)
    kinds = set()
    for _ in range(60):
        y, kind = mx.background_noise(pool, N, rng, "A", p_real_noise=0.3)
        kinds.add(kind)
        assert y.shape == (N,) and np.all(np.isfinite(y))
    assert {"recorded", "babble"} <= kinds
    # a recorded background is a piece of the split's own noise file
    y, kind = mx.background_noise(vpool, N, rng, "D", p_real_noise=1.0)
    src = vpool.noise[0].astype(np.float32) / 32768.0
    assert kind == "recorded" and np.abs(y[:100, None] - src[None, :]).min(axis=1).max() < 1e-6


def test_backgrounds_narrow_what_a_pool_offers(corpus_dir):
    """Pool(backgrounds=...): a diagnostic's narrower task. white,pink: every background
    steady noise and no music, whatever label is asked for; recorded: the recordings
    alone; an unknown kind or a package without recordings is refused by name."""
    before = mx.make_mixture(mx.Pool(corpus_dir, "train"), 4800, np.random.RandomState(3), label=1)
    assert "music" in before["background"] or before["label"] == 1
    pool = mx.Pool(corpus_dir, "train", backgrounds=["white", "pink"])
    assert pool.music == [] and pool.noise == []
    rng = np.random.RandomState(3)
    kinds = [mx.make_mixture(pool, 4800, rng, label=lab, p_real_noise=1.0)
             for lab in (0, 1, 2) for _ in range(8)]
    assert {m["background"] for m in kinds if m["label"] == 0} <= {"white", "pink"}
    assert all(m["label"] != 1 for m in kinds)          # no music: asked-for music becomes noise
    rec = mx.Pool(corpus_dir, "train", backgrounds=["recorded"])
    rng = np.random.RandomState(4)
    assert {mx.background_noise(rec, N, rng, "A", p_real_noise=0.1)[1] for _ in range(20)} == {"recorded"}
    assert len(mx.Pool(corpus_dir, "train", backgrounds=["recorded"], noise_packages=["fx-train"]).noise) == 1
    beds = mx.Pool(corpus_dir, "train", backgrounds=["music"])
    rng = np.random.RandomState(5)
    made = [mx.make_mixture(beds, 4800, rng, label=lab) for lab in (0, 2) for _ in range(6)]
    assert all(m["background"] == "music" for m in made[:6])      # speech over music alone
    assert all(m["label"] == 1 for m in made[6:])                  # noise asked for: music
    with pytest.raises(ValueError, match="hiss"):
        mx.Pool(corpus_dir, "train", backgrounds=["white", "hiss"])
    with pytest.raises(ValueError, match="no background"):
        mx.Pool(corpus_dir, "train", backgrounds=["recorded"], noise_packages=["no-such-package"])


def test_eval_sets_name_the_voice_of_each_mixture(pool, tmp_path):
    """write_set's voice column is the speaker whose utterances are the speech target
    (each synthetic speaker has its own pitch: 100, 140, 180 Hz for A, B, C)."""
    f0 = {sp: 100 + 40 * i for i, sp in enumerate(SPEAKERS)}
    rows = mx.write_set(pool, str(tmp_path), 4, 0.5, 9, snrs=(20,), labels=("speech", "noise"))
    with open(tmp_path / "index.csv") as f:
        assert [r["voice"] for r in csv.DictReader(f)] == [r["voice"] for r in rows]
    speech = [r for r in rows if r["label"] == "speech"]
    assert len(speech) == 8 and len({r["voice"] for r in speech}) >= 2
    for r in speech:
        ref = mx.read_wav(str(tmp_path / (r["name"] + "_ref.wav")))
        spec = np.abs(np.fft.rfft(ref * np.hanning(len(ref))))
        freqs = np.fft.rfftfreq(len(ref), 1.0 / SR)
        band = (freqs > 80) & (freqs < 200)
        assert abs(freqs[band][np.argmax(spec[band])] - f0[r["voice"]]) <= 4, r
    assert all(r["voice"] in pool.groups for r in rows)


def test_pools_share_one_mapped_copy_of_the_audio(corpus_dir, tmp_path):
    """Two Pools of a split map one file under pool-cache/ (what lets two trainers share
    the page cache) holding exactly what the pool held in memory before (_int16 of
    read_wav); a changed source file gets a new cache file, and a corpus folder that
    cannot be written (here: a file stands where its cache folder would go) gives
    the same arrays held in memory."""
    import shutil
    a, b = mx.Pool(corpus_dir, "train"), mx.Pool(corpus_dir, "train")
    assert isinstance(a.speech[0].base, np.memmap) and a.speech[0].base.filename == b.speech[0].base.filename
    rows = [r for r in csv.DictReader(open(os.path.join(corpus_dir, "manifest.csv")))
            if r["kind"] == "speech" and r["split"] == "train"]
    for r, x in zip(rows, a.speech):
        assert np.array_equal(x, mx._int16(mx.read_wav(os.path.join(corpus_dir, r["path"]))))
    copy = tmp_path / "copy"
    shutil.copytree(corpus_dir, copy, ignore=shutil.ignore_patterns("pool-cache"))
    first = mx.Pool(str(copy), "train").speech[0].base.filename
    mx.write_wav(str(copy / rows[0]["path"]), 0.5 * mx.read_wav(str(copy / rows[0]["path"])))
    changed = mx.Pool(str(copy), "train")
    assert changed.speech[0].base.filename != first and not os.path.exists(first)
    assert np.abs(changed.speech[0].astype(np.int32)).max() < np.abs(a.speech[0].astype(np.int32)).max()
    shutil.rmtree(copy / "pool-cache")
    (copy / "pool-cache").write_text("a file where the folder would go")   # root writes any folder
    held = mx.Pool(str(copy), "train")
    assert not isinstance(held.speech[1].base, np.memmap)
    assert all(np.array_equal(x, y) for x, y in zip(held.speech[1:], a.speech[1:]))


def test_a_subset_pool_maps_the_whole_splits_cache(corpus_dir):
    """A pool of some of the files (max_speech_files) takes its views of the cache of the
    whole split, so it never replaces the file a full pool maps."""
    full = mx.Pool(corpus_dir, "train")
    part = mx.Pool(corpus_dir, "train", max_speech_files=5, seed=1)
    assert len(part.speech) == 5 and part.speech[0].base.filename == full.speech[0].base.filename
    assert os.path.exists(full.speech[0].base.filename)
    assert all(any(np.array_equal(x, y) for y in full.speech) for x in part.speech)
