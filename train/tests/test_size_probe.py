"""train/size_probe.py --check-render: a long-reach binaural shape (dilations to 96
frames, a velocity head on the spherical-head prior) rendered by the C engine equals
the PyTorch twin; and the check fails when the file is not the twin's model."""
import os
import subprocess
import sys

import pytest
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "train"))
EARFLOW = os.environ.get("EARFLOW", os.path.join(ROOT, "build", "cli", "earflow"))

import size_probe  # noqa: E402
from earflow_train import export  # noqa: E402

LONG_REACH = ["--kind", "binaural", "--hop", "256", "--widths", "16,24,32", "--dil-mid", "8,32,96",
              "--steps", "1", "--solver", "midpoint", "--t0", "0", "--prior", "spherical_head",
              "--sigma", "0.3"]


def test_long_reach_binaural_matches(tmp_path):
    if not os.path.exists(EARFLOW):
        pytest.skip("earflow not built at %s" % EARFLOW)
    out = str(tmp_path / "probe.safetensors")
    r = subprocess.run([sys.executable, "train/size_probe.py"] + LONG_REACH +
                       ["--out", out, "--check-render", "--earflow", EARFLOW],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    err = float(r.stdout.split("error ")[1].split(" dB")[0])
    assert err < size_probe.MATCH_DB, r.stdout


def test_check_fails_for_another_model(tmp_path):
    if not os.path.exists(EARFLOW):
        pytest.skip("earflow not built at %s" % EARFLOW)
    out = str(tmp_path / "probe.safetensors")
    subprocess.run([sys.executable, "train/size_probe.py"] + LONG_REACH + ["--out", out],
                   cwd=ROOT, check=True, capture_output=True)
    model, cfg = export.load_model(out)
    with torch.no_grad():                      # the twin now differs from the file
        model.mid[2].conv1.weight.mul_(1.5)
    assert size_probe.check_render(model, cfg, out, EARFLOW) > size_probe.MATCH_DB
