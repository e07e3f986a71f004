"""The CI chain on a tiny configuration: a tiny binaural set made on the fly by the
simulator -> train/train.py a few steps -> resume -> export -> C `earflow render`
-> train/evaluate.py (table and plots). Needs python3-torch and the built program."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import layout
import simset

torch = pytest.importorskip("torch")

TRAIN = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(TRAIN)
EARFLOW = os.environ.get("EARFLOW", os.path.join(ROOT, "build", "host", "earflow"))


class NoCorpus:
    def has(self, split, kind):
        return False


def make_tiny(sim, root):
    for split, n in (("train", 4), ("valid", 2), ("test", 4)):
        for i in range(n):
            x, y, rel, room, info = simset.make_sequence(sim, NoCorpus(), split, 3, i, 2.0)
            layout.write_sequence(os.path.join(root, simset.SPLIT_DIRS[split], "seq%06d" % i),
                                  x, y, rel, room, info)


def run(args):
    r = subprocess.run([sys.executable] + args, cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r.stdout


def test_chain(sim, tmp_path):
    if not os.path.exists(EARFLOW):
        pytest.skip("earflow not built at %s" % EARFLOW)
    data = str(tmp_path / "data")
    make_tiny(sim, data)
    runs = str(tmp_path / "run")
    tiny = ["train/train.py", "--data", data, "--run", runs, "--widths", "8,16", "--emb-dim", "16",
            "--dil-mid", "2", "--batch", "2", "--segment", "0.25", "--val-items", "2",
            "--log-every", "2", "--val-every", "4", "--save-every", "2", "--seed", "5",
            "--head", "mask", "--prior", "spherical_head"]   # the shipped model's recipe
    run(tiny + ["--steps", "4"])                    # stops at 4
    log = [json.loads(l) for l in open(os.path.join(runs, "log.jsonl"))]
    assert [r["step"] for r in log] == [2, 4] and "val_l1" in log[-1]
    ck = torch.load(os.path.join(runs, "last.pt"))
    assert ck["step"] == 4
    model_path = str(tmp_path / "tiny.safetensors")
    out = run(tiny + ["--steps", "6", "--export", model_path])   # resumes at 4
    assert "resumed" in out
    assert json.loads(open(os.path.join(runs, "log.jsonl")).read().splitlines()[-1])["step"] == 6
    # the shipped model's second stage: warm start into the per-bin gain, ILD loss
    runs2 = str(tmp_path / "run2")
    out = run(tiny[:4] + [runs2] + tiny[5:] + ["--out-gain", "--ild-weight", "0.002", "--ild-rooms", "",
                                               "--init", os.path.join(runs, "last.pt"),
                                               "--steps", "2", "--export", model_path])
    assert "warm start" in out and "out_gain.weight" in out
    log2 = [json.loads(l) for l in open(os.path.join(runs2, "log.jsonl"))]
    assert np.isfinite(log2[-1]["train_ild"]) and np.isfinite(log2[-1]["val_band_ild_db"])
    info = subprocess.run([EARFLOW, "info", model_path], capture_output=True, text=True)
    assert info.returncode == 0, info.stderr
    from export import read_safetensors
    cfg = json.loads(read_safetensors(model_path)[1]["earflow"])
    assert cfg["arch"]["head"] == "mask" and cfg["conditioning"]["prior"] == "spherical_head"
    assert cfg["arch"]["out_gain"] is True
    # fine-tuning a model file (as README: --init models/binaural.safetensors): every
    # tensor comes from the file; a file of another network shape is refused
    runs3 = str(tmp_path / "run3")
    stage3 = tiny[:4] + [runs3] + tiny[5:] + ["--out-gain", "--init", model_path, "--steps", "1"]
    out = run(stage3)
    assert "warm start from " + model_path in out and "new:" not in out
    ck3 = torch.load(os.path.join(runs3, "last.pt"))
    assert ck3["step"] == 1
    bad = stage3[:]
    bad[bad.index("--widths") + 1] = "8,24"
    bad[bad.index(runs3)] = str(tmp_path / "run4")
    r = subprocess.run([sys.executable] + bad, cwd=ROOT, capture_output=True, text=True)
    assert r.returncode != 0 and "arch.widths" in r.stdout + r.stderr, r.stdout + r.stderr
    ev = str(tmp_path / "eval")
    out = run(["train/evaluate.py", "--data", data, "--split", "testset", "--model", model_path,
               "--earflow", EARFLOW, "--out", ev, "--settings", "default,midpoint:1:0", "--plots"])
    table = open(os.path.join(ev, "table.md")).read()
    assert "DSP HRTF" in table and "mono copy" in table and "| all |" in table
    res = json.load(open(os.path.join(ev, "results.json")))["results"]
    for sys_, rooms in res.items():
        for room, m in rooms.items():
            for k in ("wave_l2e3", "amp", "mrstft", "itd_us", "ild_db", "ild_all_db"):
                assert np.isfinite(m[k]), (sys_, room, k)
    for png in ("itd_ild_vs_azimuth.png", "spectrograms.png"):
        assert os.path.getsize(os.path.join(ev, png)) > 1000


def test_deterministic_batches(tmp_path, sim):
    """The same seed gives the same first loss (determinism by seed)."""
    data = str(tmp_path / "data")
    for i in range(2):
        x, y, rel, room, info = simset.make_sequence(sim, NoCorpus(), "train", 4, i, 1.0)
        layout.write_sequence(os.path.join(data, "trainset", "seq%06d" % i), x, y, rel, room, info)
    outs = []
    for k in range(2):
        runs = str(tmp_path / ("r%d" % k))
        run(["train/train.py", "--data", data, "--run", runs, "--widths", "8,16", "--emb-dim", "16",
             "--dil-mid", "2", "--batch", "2", "--segment", "0.25", "--steps", "2", "--log-every", "1",
             "--seed", "9"])
        outs.append([json.loads(l)["train_l1"] for l in open(os.path.join(runs, "log.jsonl"))])
    assert outs[0] == outs[1]
