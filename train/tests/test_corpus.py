"""The corpus builder, offline, on a tiny subset from the cache that .ci/run prepares:
    /usr/bin/python3 train/corpus.py --fetch-only --packages alsa-utils,asterisk-core-sounds-en-g722,libmysofa1
"""
import csv
import os

import numpy as np
import pytest
from scipy.io import wavfile

import corpus

TINY = ["alsa-utils", "asterisk-core-sounds-en-g722"]


@pytest.fixture(scope="module")
def cache():
    missing = [p for p in TINY if corpus.deb_path(corpus.DEFAULT_CACHE, p) is None]
    if missing:
        pytest.fail("the test cache lacks %s: run `/usr/bin/python3 train/corpus.py --fetch-only "
                    "--packages %s` first (.ci/run does)" % (", ".join(missing), ",".join(TINY)))
    return corpus.DEFAULT_CACHE


def test_builds_offline_and_idempotent(cache, tmp_path, capsys, monkeypatch):
    out = str(tmp_path / "corpus")
    real_run = corpus.subprocess.run

    def no_apt(cmd, *a, **k):          # offline: apt-get must never run
        assert cmd[0] != "apt-get", cmd
        return real_run(cmd, *a, **k)
    monkeypatch.setattr(corpus.subprocess, "run", no_apt)
    s = corpus.build(cache, out, TINY, offline=True, max_files=6)
    rows = list(csv.DictReader(open(os.path.join(out, "manifest.csv"))))
    assert len(rows) >= 10
    for r in rows:
        sr, a = wavfile.read(os.path.join(out, r["path"]))
        assert sr == 48000 and a.ndim == 1 and a.dtype == np.int16
        x = a / 32768.0
        assert abs(len(x) / sr - float(r["seconds"])) < 1e-3
        assert r["licence"] and r["version"] and r["package"] in TINY
        # loudness normalized (unless the -1 dBFS peak limit lowered it)
        l = corpus.loudness_lufs(x)
        assert -24.0 < l < -22.0 or np.max(np.abs(x)) > 0.85, (r["path"], l)
        # trimmed: the first and last 50 ms hold a 10 ms frame within 40 dB of the
        # loudest frame (the trim threshold), i.e. no leading or trailing silence
        n = len(x) // 480
        fr = 10 * np.log10(np.mean(x[:n * 480].reshape(n, 480) ** 2, axis=1) + 1e-20)
        assert fr[:5].max() > fr.max() - 40.5 and fr[-5:].max() > fr.max() - 40.5, r["path"]
    groups = {}
    for r in rows:
        groups.setdefault(r["group"], set()).add(r["split"])
    assert all(len(v) == 1 for v in groups.values()), groups
    assert groups["alsa:speaker"] == {"test"} and groups["asterisk:Allison"] == {"train"}
    readme = open(os.path.join(out, "README.md")).read()
    assert "Allison Smith" in readme and "CC-BY-SA-3.0" in readme and "Split rule" in readme
    assert os.path.exists(os.path.join(out, "licenses", "alsa-utils.copyright"))
    assert s["minutes"]["speech/test"] > 0 and s["minutes"]["speech/train"] > 0
    out1 = capsys.readouterr().out
    assert "speech:" in out1 and "| speech (min) |" in out1
    # second run: nothing decoded again, same manifest
    before = open(os.path.join(out, "manifest.csv")).read()
    corpus.build(cache, out, TINY, offline=True, max_files=6)
    assert "(0 decoded, 6 reused" in capsys.readouterr().out
    assert open(os.path.join(out, "manifest.csv")).read() == before


def test_offline_refuses_missing_package(tmp_path):
    with pytest.raises(SystemExit, match="offline"):
        corpus.build(str(tmp_path / "emptycache"), str(tmp_path / "o"), ["alsa-utils"], offline=True)


def test_g722_decodes_at_its_rate(cache):
    root = corpus.unpack(cache, "asterisk-core-sounds-en-g722",
                         corpus.deb_path(cache, "asterisk-core-sounds-en-g722"))
    f = corpus.source_files(root, corpus.PACKAGES["asterisk-core-sounds-en-g722"])[0]
    x = corpus.decode(f)
    # G.722: 64 kbit/s = 8000 bytes per second -> 6 samples per byte at 48 kHz
    assert abs(len(x) - 6 * os.path.getsize(f)) < 64
    assert np.max(np.abs(x)) > 0.01


def test_loudness_reference():
    """BS.1770: a full-scale 997 Hz sine reads -3.01 LUFS."""
    t = np.arange(5 * 48000) / 48000
    assert corpus.loudness_lufs(np.sin(2 * np.pi * 997 * t)) == pytest.approx(-3.01, abs=0.05)


def test_split_rule_keeps_held_out_speakers_out_of_training():
    assert corpus.split_of("speech", "asterisk:June") == "test"
    assert corpus.split_of("speech", "asterisk:Allison") == "train"
    assert corpus.split_of("speech", "alsa:speaker") == "test"
    for lang in corpus.KLETTRES_TEST:
        assert corpus.split_of("speech", "klettres:" + lang) == "test"
    for lang in corpus.KLETTRES_VALID:
        assert corpus.split_of("speech", "klettres:" + lang) == "valid"
    assert corpus._klettres_lang("usr/share/klettres/en_GB/alpha/a.ogg") == "klettres:en"
    stems = {"frantic", "frantic-old", "victory", "victory2", "rybky07", "rybky08"}
    tr = corpus._track("w")
    assert tr("x/frantic-old.ogg", stems) == tr("x/frantic.ogg", stems) == "w:frantic"
    assert tr("x/victory2.ogg", stems) == "w:victory"
    assert tr("x/rybky07.ogg", stems) != tr("x/rybky08.ogg", stems)
    sp = corpus.split_music({"w:%d" % i: 1.0 for i in range(40)})
    assert sum(v == "test" for v in sp.values()) == 4 and sum(v == "valid" for v in sp.values()) == 4
