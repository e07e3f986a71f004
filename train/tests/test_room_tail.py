"""conditioning.room_tail (docs/model-spec.md section 4) through the real engine:
the C render equals the PyTorch twin (and the check fails when the twin's tail table
differs from the file's); the prior alone rings for the design room's RT60 where the
same model without the tail stops within a frame; the loader refuses bad tables."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "train"))
EARFLOW = os.environ.get("EARFLOW", os.path.join(ROOT, "build", "cli", "earflow"))

import evaluate_binaural  # noqa: E402
import size_probe  # noqa: E402
from earflow_train import audio, binsim, evaluation, export, realism, room_tail  # noqa: E402

PROBE = ["--kind", "binaural", "--hop", "256", "--widths", "8,16", "--dil-mid", "4", "--steps", "1",
         "--solver", "midpoint", "--t0", "0", "--prior", "spherical_head", "--head", "mask",
         "--sigma", "0.3", "--room-tail"]

pytestmark = pytest.mark.skipif(not os.path.exists(EARFLOW), reason="earflow not built at %s" % EARFLOW)


@pytest.fixture(scope="module")
def probe(tmp_path_factory):
    """(file, size_probe's run): a random-weight room-tail model, checked against the twin."""
    out = str(tmp_path_factory.mktemp("probe") / "probe.safetensors")
    r = subprocess.run([sys.executable, "train/size_probe.py"] + PROBE +
                       ["--out", out, "--check-render", "--earflow", EARFLOW],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
    return out, r


def test_engine_matches_twin(probe):
    out, r = probe
    assert float(r.stdout.split("error ")[1].split(" dB")[0]) < size_probe.MATCH_DB, r.stdout


def test_check_fails_when_the_tail_differs(probe):
    out, r = probe
    model, cfg = export.load_model(out)
    assert size_probe.check_render(model, cfg, out, EARFLOW) < size_probe.MATCH_DB
    with torch.no_grad():
        model.room_tail.send.mul_(1.5)            # the twin's tail now differs from the file's
    assert size_probe.check_render(model, cfg, out, EARFLOW) > size_probe.MATCH_DB


def impulse_response(model, room, tmp_path, seconds=2.5):
    x = np.zeros(int(seconds * binsim.SR), np.float32)
    x[int(0.1 * binsim.SR)] = 0.5
    src, dst = str(tmp_path / "imp.wav"), str(tmp_path / ("ir_%s.wav" % room))
    audio.write_wav(src, x)
    return evaluation.render(EARFLOW, model, src, dst, extra=["--azimuth", "30", "--elevation", "0",
                                                               "--distance", "2", "--room", room])


def test_prior_rings_for_the_design_rt60(probe, tmp_path):
    out, r = probe
    alone = evaluate_binaural.prior_model(out, str(tmp_path / "alone.safetensors"))
    tensors, meta = export.read_safetensors(alone)
    cfg = json.loads(meta["earflow"])
    cfg["conditioning"]["room_tail"] = False       # the baseline: the same prior, no tail
    dry = str(tmp_path / "dry.safetensors")
    export.write_safetensors(dry, {k: v for k, v in tensors.items() if not k.startswith("room_tail.")},
                             {"earflow": json.dumps(cfg)})
    for room in ("small", "large"):
        rt = binsim.ROOM_DESIGN[room]["rt60"]
        t_tail = realism.decay_time(impulse_response(alone, room, tmp_path))
        t_dry = realism.decay_time(impulse_response(dry, room, tmp_path))
        print(room, "design RT60 %.2f s: with the tail T20 %.3f s, without %.3f s" % (rt, t_tail, t_dry))
        assert abs(t_tail - rt) < 0.15 * rt
        assert t_dry < 0.1 * rt
    # the anechoic room has no tail: the same response as without one, 1 / distance aside
    drr_tail = realism.drr_db(impulse_response(alone, "anechoic", tmp_path))
    drr_dry = realism.drr_db(impulse_response(dry, "anechoic", tmp_path))
    assert abs(drr_tail - drr_dry) < 0.1, (drr_tail, drr_dry)


@pytest.mark.parametrize("name,value,word", [
    ("room_tail.decay", 1.0, "outside"), ("room_tail.send", -1.0, "outside"),
    ("room_tail.mix", 2.0, "outside"), ("room_tail.decay", np.nan, "room_tail.decay"),
    ("room_tail.mix", None, "'room_tail.mix' is missing")])
def test_loader_refuses_bad_tables(probe, tmp_path, name, value, word):
    out, r = probe
    tensors, meta = export.read_safetensors(out)
    if value is None:
        del tensors[name]
    else:
        tensors[name] = tensors[name].copy()
        tensors[name][-1, 3] = value
    bad = str(tmp_path / "bad.safetensors")
    export.write_safetensors(bad, tensors, meta)
    r = subprocess.run([EARFLOW, "info", bad], capture_output=True, text=True)
    assert r.returncode != 0
    assert word in r.stderr and name in r.stderr, r.stderr


def test_add_room_tail(tmp_path):
    """train/add_room_tail.py: a spherical-head model gains the design tables and loads;
    a separation model is refused with a message."""
    golden = os.path.join(ROOT, "tests", "golden")
    out = str(tmp_path / "with_tail.safetensors")
    r = subprocess.run([sys.executable, "train/add_room_tail.py", os.path.join(golden, "binaural_prior_tiny.safetensors"),
                        out], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    tensors, meta = export.read_safetensors(out)
    assert json.loads(meta["earflow"])["conditioning"]["room_tail"] is True
    assert {"room_tail.decay", "room_tail.send", "room_tail.mix"} <= set(tensors)
    assert subprocess.run([EARFLOW, "info", out], capture_output=True).returncode == 0
    r = subprocess.run([sys.executable, "train/add_room_tail.py", os.path.join(golden, "separate_tiny.safetensors"),
                        str(tmp_path / "no.safetensors")], cwd=ROOT, capture_output=True, text=True)
    assert r.returncode != 0 and "spherical-head prior" in r.stderr


def test_tail_rt60_parsed_and_refused():
    assert room_tail.parse_rt60("") == {}
    assert room_tail.parse_rt60("large=1.04,small=0.28") == {"large": 1.04, "small": 0.28}
    for bad, why in (("anechoic=0.3", "not a reverberant room"), ("hall=1", "not a reverberant room"),
                     ("large", "not room=seconds"), ("large=x", "not room=seconds"),
                     ("large=20", "outside")):
        with pytest.raises(ValueError, match=why):
            room_tail.parse_rt60(bad)
