"""The training loop's pure parts: the learning-rate schedule and the provenance's
path rule."""
import argparse
import os

import pytest

pytest.importorskip("torch")

from earflow_train import loop  # noqa: E402


def args(**kw):
    a = argparse.Namespace(lr=1e-3, lr_final=0.05, warmup=10, cycles=1)
    a.__dict__.update(kw)
    return a


def test_lr_warmup_then_cosine_to_the_floor():
    a = args()
    lrs = [loop.lr_at(s, 110, a) for s in range(110)]
    assert lrs[0] == pytest.approx(1e-4) and lrs[9] == pytest.approx(1e-3)
    assert all(x >= y for x, y in zip(lrs[10:], lrs[11:]))          # decreasing after warm-up
    assert lrs[-1] == pytest.approx(1e-3 * 0.05, rel=0.01)


def test_lr_cycles_restart():
    a = args(cycles=2)
    lrs = [loop.lr_at(s, 210, a) for s in range(210)]
    # a restart at the middle: back to the peak after the first cycle's floor
    assert lrs[109] < 1e-4 and lrs[110] == pytest.approx(1e-3)


def test_provenance_paths_are_repository_relative():
    inside = os.path.join(loop.REPO, "train", "data", "corpus")
    assert loop.repo_relative(inside) == os.path.join("train", "data", "corpus")
    assert loop.repo_relative("/home/someone/set") == "<outside the repository>/set"
    argv = loop.portable_argv(["--data", "/home/someone/set", "--run=/tmp/x/run", "--lr", "1e-3", inside])
    assert argv == ["--data", "<outside the repository>/set", "--run=<outside the repository>/run",
                    "--lr", "1e-3", os.path.join("train", "data", "corpus")]
