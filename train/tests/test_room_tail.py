"""conditioning.room_tail (docs/model-spec.md section 4) through the real engine:
the C render equals the PyTorch twin (and the check fails when the twin's tail table
differs from the file's); the prior alone rings for the design room's RT60 where the
same model without the tail stops within a frame, and for the decay control's RT60
when it is set; the loader refuses bad tables."""
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
from earflow_train import audio, binsim, dsp, evaluation, export, realism, room_tail  # noqa: E402

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


def impulse_response(model, room, tmp_path, seconds=2.5, extra=()):
    x = np.zeros(int(seconds * binsim.SR), np.float32)
    x[int(0.1 * binsim.SR)] = 0.5
    src, dst = str(tmp_path / "imp.wav"), str(tmp_path / ("ir_%s.wav" % room))
    audio.write_wav(src, x)
    return evaluation.render(EARFLOW, model, src, dst, extra=["--azimuth", "30", "--elevation", "0",
                                                               "--distance", "2", "--room", room] + list(extra))


def without_tail(model, path):
    """The same model file without conditioning.room_tail (its tables dropped)."""
    tensors, meta = export.read_safetensors(model)
    cfg = json.loads(meta["earflow"])
    cfg["conditioning"]["room_tail"] = False
    export.write_safetensors(path, {k: v for k, v in tensors.items() if not k.startswith("room_tail.")},
                             {"earflow": json.dumps(cfg)})
    return path


def test_prior_rings_for_the_design_rt60(probe, tmp_path):
    out, r = probe
    alone = evaluate_binaural.prior_model(out, str(tmp_path / "alone.safetensors"))
    dry = without_tail(alone, str(tmp_path / "dry.safetensors"))  # the baseline: no tail
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


def test_decay_control_sets_the_decay_time(probe, tmp_path):
    """--decay S (EF_CONTROL_DECAY): the prior's tail rings for S s in any room, longer
    or shorter than the room's own; 0 keeps the room's; `earflow info` prints each
    room's own; a model without a tail refuses it by name."""
    out, r = probe
    alone = evaluate_binaural.prior_model(out, str(tmp_path / "alone.safetensors"))
    info = subprocess.run([EARFLOW, "info", alone], capture_output=True, text=True, check=True).stdout
    for room in ("small", "large"):                 # the probe's reverberant rooms
        assert "%s (RT60 %.2f s)" % (room, binsim.ROOM_DESIGN[room]["rt60"]) in info, info
    for room, decay in (("small", 0.9), ("large", 0.5), ("large", 2.0)):
        t = realism.decay_time(impulse_response(alone, room, tmp_path, seconds=3.5,
                                                extra=["--decay", str(decay)]))
        own = realism.decay_time(impulse_response(alone, room, tmp_path, seconds=3.5, extra=["--decay", "0"]))
        print(room, "own RT60 %.2f s: T20 %.3f s; with --decay %g: %.3f s" % (
            binsim.ROOM_DESIGN[room]["rt60"], own, decay, t))
        assert abs(t - decay) < 0.15 * decay
        assert abs(own - binsim.ROOM_DESIGN[room]["rt60"]) < 0.15 * binsim.ROOM_DESIGN[room]["rt60"]
    dry = without_tail(alone, str(tmp_path / "dry.safetensors"))
    x = str(tmp_path / "x.wav")
    audio.write_wav(x, np.zeros(4800, np.float32))
    r = subprocess.run([EARFLOW, "render", "-q", "-f", "-m", dry, "-i", x, "-o", str(tmp_path / "y.wav"),
                        "--decay", "0.8"], capture_output=True, text=True)
    assert r.returncode != 0 and "no room tail" in r.stderr, r.stderr
    r = subprocess.run([EARFLOW, "render", "-q", "-f", "-m", dry, "-i", x, "-o", str(tmp_path / "y.wav"),
                        "--decay", "0"], capture_output=True, text=True)
    assert r.returncode == 0, r.stderr


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


def test_decay_per_crop_is_each_crops_own():
    """The training path's decay control per crop (room_tail.add_to_prior's rt60): one
    batch with a table per item gives each item the tail it gets alone with that table."""
    cfg = {"sample_rate": 48000, "hop": 256, "n_fft": 512}
    rng = np.random.default_rng(3)
    R, F, M = 3, 256, 40
    decay = np.stack([np.zeros(F), np.full(F, 0.9), np.full(F, 0.97)]).astype(np.float32)
    send, mix = np.full((R, F), 0.5, np.float32), np.full((2, F), 0.7, np.float32)
    X = (rng.standard_normal((2, M, F)) + 1j * rng.standard_normal((2, M, F))).astype(np.complex64)
    w = np.zeros((2, M, R), np.float32)
    w[..., 1], w[..., 2] = 0.4, 0.6
    draws = rng.integers(0, dsp.ROOM_TAIL_PHASES, (2, M, 2, F))
    per = [dsp.room_tail_decay(decay, s, cfg) for s in (0.8, 0.0)]
    both = dsp.room_tail(X, w, np.stack(per), send, mix, draws)
    for i in range(2):
        alone = dsp.room_tail(X[i], w[i], per[i], send, mix, draws[i])
        assert np.array_equal(both[i], alone)
    assert np.array_equal(per[1], decay)              # 0: the tables as they are
    own = dsp.room_tail_table_rt60(decay, cfg)
    assert own[0] == 0 and np.allclose(dsp.room_tail_table_rt60(per[0], cfg)[1:], 0.8)
    assert not np.allclose(both[0], dsp.room_tail(X[0], w[0], decay, send, mix, draws[0]))
