"""The corpus builder, offline, on a tiny subset from the cache that .ci/run prepares:
    /usr/bin/python3 train/corpus.py --fetch-only --packages alsa-utils,asterisk-core-sounds-en-g722,libmysofa1
"""
import csv
import os

import numpy as np
import pytest
from scipy.io import wavfile

from earflow_train import corpus

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
    assert "Allison Smith" in readme and "CC-BY-SA-3.0" in readme and "SPLIT TABLE" in readme
    assert {r["speaker"] for r in rows} == {"alsa:speaker", "asterisk:Allison"}
    assert {r["language"] for r in rows} == {"en"}
    assert os.path.exists(os.path.join(out, "licenses", "alsa-utils.copyright"))
    assert s["minutes"]["speech/test"] > 0 and s["minutes"]["speech/train"] > 0
    out1 = capsys.readouterr().out
    assert "speech:" in out1 and "| speech (min) |" in out1
    # second run: nothing decoded again, same manifest
    before = open(os.path.join(out, "manifest.csv")).read()
    corpus.build(cache, out, TINY, offline=True, max_files=6)
    assert "(0 decoded, 6 reused" in capsys.readouterr().out
    assert open(os.path.join(out, "manifest.csv")).read() == before


def test_jobs_give_the_same_corpus(cache, tmp_path):
    """Files decoded by a pool of 2 processes: the same manifest and the same WAV bytes
    as one at a time (rows in plan order, silent files dropped the same way)."""
    outs = {}
    for jobs in (1, 2):
        out = str(tmp_path / ("j%d" % jobs))
        corpus.build(cache, out, TINY, offline=True, max_files=6, jobs=jobs)
        outs[jobs] = out
    man = [open(os.path.join(outs[j], "manifest.csv")).read() for j in (1, 2)]
    assert man[0] == man[1]
    rows = list(csv.DictReader(open(os.path.join(outs[1], "manifest.csv"))))
    assert len(rows) >= 10
    for r in rows:
        same = [open(os.path.join(outs[j], r["path"]), "rb").read() for j in (1, 2)]
        assert same[0] == same[1], r["path"]


def test_second_build_into_one_folder_refused(cache, tmp_path):
    """While one build holds OUT, another into OUT stops before touching it (both would
    write a manifest without the other's rows); once the first is done it runs."""
    out = str(tmp_path / "corpus")
    os.makedirs(out)
    holder = corpus._lock(out)
    try:
        with pytest.raises(SystemExit, match="another build is writing .*pid %d" % os.getpid()):
            corpus.build(cache, out, TINY, offline=True, max_files=2)
        assert not os.path.exists(os.path.join(out, "manifest.csv"))
    finally:
        holder.close()
    corpus.build(cache, out, TINY, offline=True, max_files=2)
    assert os.path.exists(os.path.join(out, "manifest.csv"))


def test_offline_refuses_missing_package(tmp_path):
    with pytest.raises(SystemExit, match="offline"):
        corpus.build(str(tmp_path / "emptycache"), str(tmp_path / "o"), ["alsa-utils"], offline=True)


def test_g722_decodes_at_its_rate(cache):
    root = corpus.unpack(cache, "asterisk-core-sounds-en-g722",
                         corpus.deb_path(cache, "asterisk-core-sounds-en-g722"))
    f = corpus.planned(root, corpus.PACKAGES["asterisk-core-sounds-en-g722"])[0][0]
    x = corpus.decode(f)
    # G.722: 64 kbit/s = 8000 bytes per second -> 6 samples per byte at 48 kHz
    assert abs(len(x) - 6 * os.path.getsize(f)) < 64
    assert np.max(np.abs(x)) > 0.01


def test_loudness_reference():
    """BS.1770: a full-scale 997 Hz sine reads -3.01 LUFS."""
    t = np.arange(5 * 48000) / 48000
    assert corpus.loudness_lufs(np.sin(2 * np.pi * 997 * t)) == pytest.approx(-3.01, abs=0.05)


RESERVED_NAMES = ["asterisk-core-sounds-it-g722", "asterisk-core-sounds-ru-wav", "asterisk-prompt-it-menardi",
                  "asterisk-prompt-it", "hedgewars-data", "sonic-pi-samples", "python3-librosa-data", "librosa"]


@pytest.mark.parametrize("name", RESERVED_NAMES)
def test_reserved_packages_refused_before_any_fetch(name, tmp_path, monkeypatch):
    def no_process(*a, **k):
        raise AssertionError("a process ran for a reserved package: %s" % (a,))
    monkeypatch.setattr(corpus.subprocess, "run", no_process)
    monkeypatch.setattr(corpus.subprocess, "Popen", no_process)
    for call in (lambda: corpus.build(str(tmp_path / "c"), str(tmp_path / "o"), ["alsa-utils", name]),
                 lambda: corpus.main(["--cache", str(tmp_path / "c"), "--out", str(tmp_path / "o"),
                                      "--packages", "alsa-utils," + name]),
                 lambda: corpus.fetch(str(tmp_path / "c"), name, offline=False)):
        with pytest.raises(SystemExit, match="reserved for independent evaluation"):
            call()
    assert not (tmp_path / "c").exists() and not (tmp_path / "o").exists()


def _kinds(pkg):
    return {t[0] for t in corpus.PACKAGES[pkg].get("takes", [])}


def test_split_table_is_by_package_and_speaker():
    assert set(corpus.SPLIT) == set(corpus.PACKAGES)
    assert corpus.SPLIT["libmysofa1"] == "-" and set(corpus.SPLIT.values()) == {"train", "valid", "test", "-"}
    splits_of = {}
    for pkg, spec in corpus.PACKAGES.items():
        for sp in spec.get("speakers", []):
            splits_of.setdefault(sp, set()).add(corpus.SPLIT[pkg])
        assert bool(spec.get("speakers")) == ("speech" in _kinds(pkg)), pkg
    assert all(len(v) == 1 for v in splits_of.values()), splits_of      # a speaker in one split
    assert splits_of["asterisk:Allison"] == {"train"}
    assert len(splits_of) >= 60
    by_split = {s: {sp for sp, v in splits_of.items() if s in v} for s in corpus.SPLITS}
    assert len(by_split["train"]) >= 0.8 * len(splits_of)               # variety stays in train
    for split in ("valid", "test"):
        kinds = set().union(*[_kinds(p) for p, s in corpus.SPLIT.items() if s == split])
        assert {"speech", "music", "noise"} <= kinds, split
    assert not any(corpus.refuse_reserved([p]) for p in corpus.PACKAGES)   # none reserved


def test_speaker_and_language_labels():
    ast = corpus._asterisk_voice
    assert ast("usr/share/asterisk/sounds/en_US_f_Allison/a.g722") == ("asterisk:Allison", "en")
    assert ast("usr/share/asterisk/sounds/es_MX_f_Allison/a.g722") == ("asterisk:Allison", "es")
    kt = corpus.PACKAGES["ktuberling-data"]["takes"][0][2]
    assert kt("usr/share/ktuberling/sounds/sr@ijekavianlatin/eye.ogg") == ("ktuberling:sr", "sr")
    kl = corpus.PACKAGES["klettres-data"]["takes"][0][2]
    assert kl("usr/share/klettres/en_GB/alpha/a.ogg") == ("klettres:en_GB", "en")
    assert corpus._zeroad_voice("zip/audio/voice/latin/civ/civ_female_build_1.ogg") == ("0ad:latin_female", "la")
    assert corpus._wz_voice("zip/audio/memressp/research/x.ogg") == ("wz2100:console", "en")
    assert corpus._fillets_voice("cs")("x/sound/bar/cs/bar-m-hi.ogg") == ("fillets-cs:small-fish", "cs")
    kj = corpus._kajongg_voice
    assert kj("usr/share/kajongg/voices/male2/b1.ogg") == ("kajongg:male2", "en")
    assert kj("usr/share/kajongg/voices/de/male2/b1.ogg") == ("kajongg:male2", "de")
    assert kj("usr/share/kajongg/voices/de/female1/pung.ogg") == ("kajongg:female1", "de")
    assert kj("usr/share/kajongg/sounds/bell.ogg")[0] == "kajongg:unknown"       # refused by _labels
    assert corpus._gcin_voice("usr/share/gcin-voice/ogg/x3/5.ogg") == ("gcin:5", "zh")
    assert corpus._is_voice("zip/audio/voice/greek/x.ogg") and not corpus._is_voice("x/rain.wav")
    stems = {"frantic", "frantic-old", "victory", "victory2", "rybky07", "rybky08"}
    tr = corpus._track("w")
    assert tr("x/frantic-old.ogg", stems) == tr("x/frantic.ogg", stems) == "w:frantic"
    assert tr("x/rybky07.ogg", stems) != tr("x/rybky08.ogg", stems)


def test_tuxpaint_descriptions_are_speech_by_language_and_never_noise(tmp_path):
    tp = corpus._tuxpaint_voice
    assert tp("usr/share/tuxpaint/stamps/animals/birds/owl_desc_ca.ogg") == ("tuxpaint:ca", "ca")
    assert tp("usr/share/tuxpaint/stamps/food/corn_desc_pt_BR.wav") == ("tuxpaint:pt_BR", "pt")
    assert tp("usr/share/tuxpaint/stamps/food/banana_desc_da.ogg.ogg") == ("tuxpaint:da", "da")
    assert tp("usr/share/tuxpaint/stamps/animals/birds/owl_desc.ogg") == ("tuxpaint:en", "en")
    tree = ["animals/birds/owl.ogg", "animals/birds/owl_desc.ogg", "animals/birds/owl_desc_fr.ogg",
            "food/corn_desc_pt_BR.wav", "symbols/math/7_el.ogg", "symbols/math/5_desc_ru.ogg",
            "symbols/faces/happy.ogg", "space/apollo_lander.ogg", "seasonal/christmas/santahat.ogg",
            "household/kettle.ogg"]
    for rel in tree:
        f = tmp_path / "usr/share/tuxpaint/stamps" / rel
        f.parent.mkdir(parents=True, exist_ok=True)
        f.write_bytes(b"")
    got = {os.path.relpath(f, tmp_path / "usr/share/tuxpaint/stamps"): kind
           for f, kind, _who in corpus.planned(str(tmp_path), corpus.PACKAGES["tuxpaint-stamps-default"])}
    assert got == {"animals/birds/owl.ogg": "noise", "household/kettle.ogg": "noise",
                   "animals/birds/owl_desc.ogg": "speech", "animals/birds/owl_desc_fr.ogg": "speech",
                   "food/corn_desc_pt_BR.wav": "speech", "symbols/math/5_desc_ru.ogg": "speech"}


def test_midi_songs_are_deterministic_and_varied():
    a, da = corpus.midi_song(3)
    assert a == corpus.midi_song(3)[0] and a[:4] == b"MThd" and b"MTrk" in a
    descr = {corpus.midi_song(i)[1] for i in range(12)}
    assert len(descr) == 12 and any("drums True" in d for d in descr)
    assert len({d.split(",")[2] for d in descr}) >= 3                   # several styles
