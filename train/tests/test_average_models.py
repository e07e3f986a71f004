"""export --average: the mean of model files of one shape, through the real script."""
import json
import os
import subprocess
import sys

import numpy as np

from earflow_train.export import read_safetensors, write_safetensors

TRAIN = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _model(path, weight, table, hop=384):
    cfg = {"kind": "separate", "n_fft": 768, "hop": hop, "arch": {"widths": [8]},
           "provenance": {"command": "train %s" % os.path.basename(path)}}
    write_safetensors(path, {"w": np.asarray(weight, np.float32), "table": np.asarray(table, np.float32)},
                      {"earflow": json.dumps(cfg)})
    return path


def _export(*args):
    return subprocess.run([sys.executable, os.path.join(TRAIN, "export.py")] + list(args),
                          capture_output=True, text=True)


def test_average_is_the_mean_and_names_its_sources(tmp_path):
    table = [0.1, 0.7, 1.0 / 3.0]
    a = _model(str(tmp_path / "a.safetensors"), [1.0, 2.0, -4.0], table)
    b = _model(str(tmp_path / "b.safetensors"), [2.0, 2.0, 0.0], table)
    c = _model(str(tmp_path / "c.safetensors"), [0.0, 5.0, 1.0], table)
    out = str(tmp_path / "soup.safetensors")
    r = _export("--average", a, b, c, "--out", out, "--why", "a test")
    assert r.returncode == 0, r.stderr
    t, meta = read_safetensors(out)
    assert np.allclose(t["w"], [1.0, 3.0, -1.0], atol=1e-7)
    assert np.array_equal(t["table"], np.asarray(table, np.float32))     # equal everywhere: copied
    cfg = json.loads(meta["earflow"])
    assert cfg["provenance"]["command"] == "train a.safetensors"
    notes = cfg["provenance"]["notes"]
    assert "a.safetensors, <outside the repository>/b.safetensors" in notes and "a test" in notes
    assert str(tmp_path) not in notes                                   # no machine path


def test_average_refuses_files_of_another_shape(tmp_path):
    a = _model(str(tmp_path / "a.safetensors"), [1.0, 2.0], [0.5])
    other_hop = _model(str(tmp_path / "b.safetensors"), [1.0, 2.0], [0.5], hop=256)
    other_shape = _model(str(tmp_path / "c.safetensors"), [1.0, 2.0, 3.0], [0.5])
    for other, word in ((other_hop, "hop"), (other_shape, "other tensors")):
        out = str(tmp_path / "soup.safetensors")
        r = _export("--average", a, other, "--out", out)
        assert r.returncode != 0 and word in r.stdout + r.stderr
        assert not os.path.exists(out)
    r = _export("--average", a, "--out", str(tmp_path / "one.safetensors"))
    assert r.returncode != 0 and "two or more" in r.stderr
