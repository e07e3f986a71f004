"""The public layout: a generated sequence written and read back."""
import os

import numpy as np
import pytest

from earflow_train import binsim
from earflow_train import layout
from earflow_train import simset


class NoCorpus:
    """Sources with no corpus files: sequences are synthesized noise bursts."""

    def has(self, split, kind):
        return False


def test_roundtrip(sim, tmp_path):
    x, y, rel, room, info = simset.make_sequence(sim, NoCorpus(), "train", 7, 3, 2.0)
    folder = str(tmp_path / "seq000003")
    layout.write_sequence(folder, x, y, rel, room, info)
    assert sorted(os.listdir(folder)) == ["binaural.wav", "meta.json", "mono.wav", "room.txt",
                                          "tx_positions.txt"]
    s = layout.Sequence(folder)
    assert s.length == len(x) == 400 * len(s.rows) == 2 * 48000
    assert s.room == room and binsim.ROOMS[s.room_index] == room
    c = s.crop(0, s.length)
    assert np.max(np.abs(c["mono"] - x)) <= 1.0 / 32767
    assert np.max(np.abs(c["binaural"] - y)) <= 1.0 / 32767
    # positions: the reader's (az, el, dist) per row equal the simulator's head-relative ones
    az, el, d = binsim.sph(rel)
    assert np.allclose(s.dist, d, atol=2e-5)
    assert np.allclose(s.el, el, atol=1e-3)
    daz = (s.az - az + 180) % 360 - 180
    assert np.max(np.abs(daz[d > 0.05])) < 1e-3
    # per-frame crop: pose at the last sample of each hop, interpolated between rows
    c2 = s.crop(1000, 4096, frame_hop=128)
    assert c2["az"].shape == (32,) and c2["binaural"].shape == (2, 4096)
    a2, e2, d2 = s.pose_at(1000 + 127)
    assert abs(c2["dist"][0] - d2) < 1e-5
    # the dataset serves deterministic random crops of the right shapes
    ds = layout.BinauralDataset(str(tmp_path), 9600, frame_hop=256, seed=1)
    a, b = ds[5], ds[5]
    assert np.array_equal(a["mono"], b["mono"]) and a["binaural"].shape == (2, 9600)
    assert a["az"].shape == (37,) and a["room"] == s.room_index


def test_axis_convention(tmp_path):
    """A source on the listener's LEFT (head frame +y) is written with y < 0 (the public
    dataset's y points right) and read back at azimuth +90."""
    T = 800
    rel = np.array([[0.0, 2.0, 0.0], [1.0, 0.0, 1.0]])
    folder = str(tmp_path / "s")
    layout.write_sequence(folder, np.zeros(T), np.zeros((2, T)), rel, "small")
    rows = np.loadtxt(os.path.join(folder, "tx_positions.txt"))
    assert rows[0, 1] == pytest.approx(-2.0) and rows[0, 6] == 1.0
    s = layout.Sequence(folder)
    assert s.az[0] == pytest.approx(90.0) and s.dist[0] == pytest.approx(2.0)
    assert s.el[1] == pytest.approx(45.0) and s.az[1] == pytest.approx(0.0)


def test_reader_refuses_bad_sequences(tmp_path):
    folder = str(tmp_path / "s")
    layout.write_sequence(folder, np.zeros(800), np.zeros((2, 800)), np.ones((2, 3)), "large")
    with open(os.path.join(folder, "tx_positions.txt"), "a") as f:
        f.write("1 0 0 0 0 0 1\n")
    with pytest.raises(ValueError, match="400"):
        layout.Sequence(folder)
    layout.write_sequence(folder, np.zeros(800), np.zeros((2, 800)), np.ones((2, 3)), "large")
    with open(os.path.join(folder, "room.txt"), "w") as f:
        f.write("cathedral\n")
    with pytest.raises(ValueError, match="cathedral"):
        layout.Sequence(folder)
    os.remove(os.path.join(folder, "room.txt"))       # public data: no room.txt
    assert layout.Sequence(folder, default_room="medium").room == "medium"
    with pytest.raises(ValueError, match="room"):
        layout.Sequence(folder)


def test_rooms_match_model_config():
    """The room names are the model config's conditioning.rooms (docs/model-spec.md):
    anechoic first, then by size."""
    assert binsim.ROOMS[0] == "anechoic"
    assert {"anechoic", "small", "large"} <= set(binsim.ROOMS)
    rts = [binsim.ROOM_DESIGN[r]["rt60"] for r in binsim.ROOMS]
    assert rts == sorted(rts)


def _tree(root):
    """{relative path: bytes} of every file under root."""
    out = {}
    for d, _dirs, files in os.walk(root):
        for f in files:
            p = os.path.join(d, f)
            out[os.path.relpath(p, root)] = open(p, "rb").read()
    return out


def test_generate_jobs_make_the_same_set(hrtf, tmp_path):
    """simset.generate with a pool of 2 processes writes byte for byte the set that one
    process writes (each sequence a pure function of seed, split and index), and after a
    deletion makes the same sequence again."""
    from earflow_train import corpus
    cdir = tmp_path / "corpus"          # no corpus files: noise-burst sequences only
    cdir.mkdir()
    (cdir / "manifest.csv").write_text(",".join(corpus.FIELDS) + "\n")
    trees = {}
    for jobs in (1, 2):
        out = str(tmp_path / ("set%d" % jobs))
        stats = simset.generate(str(cdir), out, 2 / 3600, 0, 0, 1.0, 5, quiet=True, jobs=jobs)
        assert stats["train"]["sequences"] == 2
        trees[jobs] = _tree(out)
    assert "trainset/seq000001/binaural.wav" in trees[1]
    summary = "summary.json"              # holds the build time: the one file allowed to differ
    assert {k: v for k, v in trees[1].items() if k != summary} == \
        {k: v for k, v in trees[2].items() if k != summary}
    gone = tmp_path / "set2" / "trainset" / "seq000001"
    for f in os.listdir(gone):
        os.remove(gone / f)
    simset.generate(str(cdir), str(tmp_path / "set2"), 2 / 3600, 0, 0, 1.0, 5, quiet=True, jobs=2)
    assert _tree(str(gone)) == {k[len("trainset/seq000001/"):]: v for k, v in trees[1].items()
                                if k.startswith("trainset/seq000001/")}
