"""The CI chain of each model kind on a tiny configuration, through the real scripts:
tiny data -> train a few steps (a real flow: sigma > 0, t sampled, the anchor) ->
resume -> export -> the C `earflow render` -> the evaluator. Also: --init from the
exported file loads its weights (at lr 0 the export is bit-identical), another
network shape is refused naming the field, and provenance names repository-relative
paths only. Needs python3-torch, the built program (EARFLOW) and, for separation,
the package cache that .ci/run fetches."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

from earflow_train import audio, corpus, layout, room_tail, simset
from earflow_train.export import read_safetensors

torch = pytest.importorskip("torch")

TRAIN = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
ROOT = os.path.dirname(TRAIN)
EARFLOW = os.environ.get("EARFLOW", os.path.join(ROOT, "build", "cli", "earflow"))
TINY_PACKAGES = ["alsa-utils", "asterisk-core-sounds-en-g722"]
FLOW = ["--sigma", "0.3", "--t-sampling", "mix", "--anchor-weight", "0.5"]


class NoCorpus:
    def has(self, split, kind):
        return False


def run(args, ok=True):
    r = subprocess.run([sys.executable] + args, cwd=ROOT, capture_output=True, text=True)
    if ok:
        assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return r


def log_of(run_dir):
    return [json.loads(line) for line in open(os.path.join(run_dir, "log.jsonl"))]


def config_of(path):
    return json.loads(read_safetensors(path)[1]["earflow"])


def check_init_and_refusal(cmd, run_dir, model, tmp_path):
    """--init from the exported file at lr 0: the new export equals it bit for bit;
    --widths 8,24 is refused, naming arch.widths."""
    tune, tuned = str(tmp_path / "tune"), str(tmp_path / "tuned.safetensors")
    tcmd = [w if w != run_dir else tune for w in cmd]
    run(tcmd + ["--init", model, "--lr", "0", "--steps", "1", "--export", tuned])
    a, _ = read_safetensors(model)
    b, _ = read_safetensors(tuned)
    assert sorted(a) == sorted(b) and all((a[k] == b[k]).all() for k in a), "--init did not load the weights"
    stages = config_of(tuned)["provenance"]["stages"]
    assert len(stages) == 2 and "--init" in stages[1]["command"]
    bad = [w if w != "8,16" else "8,24" for w in tcmd]
    bad[bad.index(tune)] = str(tmp_path / "bad")
    r = run(bad + ["--init", model], ok=False)
    assert r.returncode != 0 and "arch.widths" in r.stdout + r.stderr, r.stdout + r.stderr


def check_provenance(model, tmp_path):
    prov = json.dumps(config_of(model)["provenance"])
    assert str(tmp_path) not in prov and ROOT not in prov, prov


def test_binaural_chain(sim, tmp_path):
    """The chain with the room tail and its gain (the other priors are the golden
    vectors' and test_twin's; one chain keeps CI short)."""
    if not os.path.exists(EARFLOW):
        pytest.skip("earflow not built at %s" % EARFLOW)
    data = str(tmp_path / "data")
    for split, n in (("train", 4), ("valid", 2), ("test", 4)):
        for i in range(n):
            x, y, rel, room, info = simset.make_sequence(sim, NoCorpus(), split, 3, i, 2.0)
            layout.write_sequence(os.path.join(data, simset.SPLIT_DIRS[split], "seq%06d" % i),
                                  x, y, rel, room, info)
    runs = str(tmp_path / "run")
    cmd = ["train/train_binaural.py", "--data", data, "--run", runs, "--widths", "8,16", "--emb-dim", "16",
           "--dil-mid", "2", "--batch", "2", "--segment", "0.25", "--val-items", "2", "--log-every", "2",
           "--val-every", "4", "--save-every", "2", "--seed", "5", "--out-gain", "--ild-weight", "0.002",
           "--ild-rooms", "", "--coherence-weight", "0.1", "--solver", "midpoint", "--default-steps", "1"] + FLOW
    cmd += ["--room-tail", "--tail-rt60", "large=1.0", "--decay-truth", "0.5", "--tail-gain", "--level-weight", "0.01"]
    run(cmd + ["--steps", "4"])
    log = log_of(runs)
    assert [r["step"] for r in log] == [0, 2, 4]      # 0: the start's score, the run's baseline
    assert set(log[0]["valid"]) == set(log[-1]["valid"]) and "train_total" not in log[0]
    val = log[-1]["valid"]
    assert set(val) == {"euler:1:0", "midpoint:1:0", "midpoint:2:0"}
    assert all(np.isfinite(v) for s in val.values() for v in s.values())
    assert all(np.isfinite(log[-1]["train_" + k]) for k in ("anchor", "coherence", "level"))
    model = str(tmp_path / "tiny.safetensors")
    out = run(cmd + ["--steps", "6", "--export", model]).stdout
    assert "resumed" in out and log_of(runs)[-1]["step"] == 6
    cfg = config_of(model)
    assert cfg["flow"] == {"sigma": 0.3, "solver": "midpoint", "steps": 1, "t0": 0.0}
    assert cfg["arch"]["tail_gain"] is True
    assert cfg["arch"]["dil_dec"] == list(reversed(cfg["arch"]["dil_enc"]))
    assert cfg["arch"]["head"] == "mask" and cfg["conditioning"]["prior"] == "spherical_head"
    assert cfg["conditioning"].get("room_tail") is True
    # the design tables with the large room's made for --tail-rt60's 1.0 s (not the
    # design 1.3 s), untouched by training and resuming
    have = read_safetensors(model)[0]
    for name, table in zip(("decay", "send", "mix"), room_tail.design_tables(cfg, {"large": 1.0})):
        assert np.array_equal(have["room_tail." + name], table), name
    large = cfg["conditioning"]["rooms"].index("large")
    design = room_tail.design_tables(cfg)[0]
    assert (have["room_tail.decay"][large] < design[large]).all()
    assert np.array_equal(np.delete(have["room_tail.decay"], large, 0), np.delete(design, large, 0))
    assert max(abs(float(f)) for f in read_safetensors(model)[0]["emb.t_freqs"]) > 0
    check_provenance(model, tmp_path)
    info = subprocess.run([EARFLOW, "info", model], capture_output=True, text=True)
    assert info.returncode == 0, info.stderr
    check_init_and_refusal(cmd, runs, model, tmp_path)
    ev = str(tmp_path / "eval")
    run(["train/evaluate_binaural.py", "--data", data, "--split", "testset", "--model", model,
         "--earflow", EARFLOW, "--out", ev, "--settings", "default,euler:1:0", "--plots", "--decay", "truth"])
    table = open(os.path.join(ev, "table.md")).read()
    for row in ("DSP HRTF", "DSP room", "prior alone", "mono copy", "| all |", "T20 truth",
                "the sequence's RT60", "decay control at each sequence's RT60", "direct-sound frames"):
        assert row in table, row
    full = json.load(open(os.path.join(ev, "results.json")))
    res = full["results"]
    for name, rooms in res.items():
        for room, m in rooms.items():
            for k in ("wave_l2e3", "amp", "mrstft", "itd_us", "itd_all_us", "ild_db", "ild_all_db", "ic_err"):
                assert np.isfinite(m[k]), (name, room, k)
    # the impulse responses: every reverberant test sequence, each system beside the truth
    reverberant = sum(1 for d in layout.find_sequences(os.path.join(data, "testset"))
                      if layout.Sequence(d).room != "anechoic")
    irs = full["impulse_responses"]
    assert reverberant == 0 or set(irs) >= {"prior alone", "DSP room (room label)",
                                            "DSP room (room label, the sequence's RT60)"}
    for name, rooms in irs.items():
        assert sum(len(v) for v in rooms.values()) == reverberant, name
        assert all(np.isfinite(x) for v in rooms.values() for r in v for x in r), name
    if reverberant:           # the prior rings with the tail
        t20 = np.mean([r[0] for v in irs["prior alone"].values() for r in v])
        assert t20 > 0.1, t20
    for png in ("itd_ild_vs_azimuth.png", "itd_ild_vs_elevation.png", "spectrograms.png", "coherence_per_band.png") + \
            (("decay_curves.png",) if reverberant else ()):
        assert os.path.getsize(os.path.join(ev, png)) > 1000


def check_label_heads(cmd, run_dir, model, tmp_path):
    """--label-heads --init from a file without heads, at lr 0: each label's head is a
    copy of its output layer, so the C engine renders every label as the file did; the
    heads file as --init of a run without heads is refused, naming the option."""
    from earflow_train import audio
    heads, hfile = str(tmp_path / "heads"), str(tmp_path / "heads.safetensors")
    hcmd = [w if w != run_dir else heads for w in cmd] + ["--label-heads"]
    run(hcmd + ["--init", model, "--lr", "0", "--steps", "1", "--export", hfile])
    assert config_of(hfile)["arch"]["label_heads"] is True
    assert read_safetensors(hfile)[0]["out_conv.weight"].shape[0] == 3 * read_safetensors(model)[0][
        "out_conv.weight"].shape[0]
    rng = np.random.RandomState(7)
    wav = str(tmp_path / "heads_in.wav")
    audio.write_wav(wav, (0.1 * rng.randn(48000) * np.sin(np.linspace(0, 40, 48000))).astype(np.float32))
    for label in ("speech", "noise"):
        outs = []
        for m in (model, hfile):
            out = str(tmp_path / ("heads_%s_%d.wav" % (label, len(outs))))
            r = subprocess.run([EARFLOW, "render", "-q", "-i", wav, "-o", out, "-m", m, "--target", label,
                                "--format", "float"], capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
            outs.append(audio.read_wav(out))
        assert np.sqrt(np.mean(outs[0] ** 2)) > 1e-3
        assert np.max(np.abs(outs[1] - outs[0])) < 1e-5 * np.max(np.abs(outs[0])), label
    r = run([w if w != run_dir else str(tmp_path / "noheads") for w in cmd] +
            ["--init", hfile, "--steps", "1"], ok=False)
    assert r.returncode != 0 and "--label-heads" in r.stdout + r.stderr


def check_narrowed_labels(model, tmp_path):
    """export --model --trained-labels: the copy has the same tensors, offers the named
    labels only (the C engine refuses the others, naming the trained ones) and says why
    in its provenance; a label the file was not trained for cannot be added."""
    narrow = str(tmp_path / "narrow.safetensors")
    assert config_of(model)["conditioning"]["trained_labels"] == ["speech", "music", "noise"]
    run(["train/export.py", "--model", model, "--out", narrow, "--trained-labels", "speech,noise",
         "--why", "music measured to help nobody"])
    a, b = read_safetensors(model)[0], read_safetensors(narrow)[0]
    assert sorted(a) == sorted(b) and all((a[k] == b[k]).all() for k in a)
    cfg = config_of(narrow)
    assert cfg["conditioning"]["trained_labels"] == ["speech", "noise"]
    assert "music measured to help nobody" in cfg["provenance"]["notes"]
    wav = str(tmp_path / "narrow_in.wav")
    from earflow_train import audio
    audio.write_wav(wav, (0.1 * np.random.RandomState(3).randn(24000)).astype(np.float32))
    for m, code in ((model, 0), (narrow, 2)):
        r = subprocess.run([EARFLOW, "render", "-q", "-f", "-i", wav, "-o", str(tmp_path / "narrow_out.wav"),
                            "-m", m, "--target", "music"], capture_output=True, text=True)
        assert r.returncode == code, r.stderr
    assert "not trained for music; it was trained for speech, noise" in r.stderr, r.stderr
    r = run(["train/export.py", "--model", narrow, "--out", str(tmp_path / "wide.safetensors"),
             "--trained-labels", "speech,music"], ok=False)
    assert r.returncode != 0 and "can only narrow" in r.stdout + r.stderr
    assert not os.path.exists(str(tmp_path / "wide.safetensors"))


def test_separation_chain(tmp_path):
    if not os.path.exists(EARFLOW):
        pytest.skip("earflow not built at %s" % EARFLOW)
    cache = os.path.join(TRAIN, "cache")
    missing = [p for p in TINY_PACKAGES if corpus.deb_path(cache, p) is None]
    assert not missing, ("the package cache lacks %s: run `/usr/bin/python3 train/corpus.py --fetch-only "
                         "--packages alsa-utils,asterisk-core-sounds-en-g722,libmysofa1` (.ci/run does)" % missing)
    cdir = str(tmp_path / "corpus")
    corpus.build(cache, cdir, TINY_PACKAGES, offline=True, max_files=40)
    runs = str(tmp_path / "run")
    cmd = ["train/train_separate.py", "--corpus", cdir, "--run", runs, "--widths", "8,16", "--dil-mid", "2",
           "--batch", "4", "--segment", "0.5", "--valid-split", "test", "--val-count", "1", "--val-seconds", "0.5",
           "--log-every", "3",
           "--val-every", "6", "--save-every", "3", "--n-fft", "512", "--hop", "256",
           "--mrstft-weight", "0.1", "--ema", "0.9"] + FLOW
    run(cmd + ["--steps", "6", "--max-minutes", "5"])
    out = run(cmd + ["--steps", "12", "--stop-at", "9"]).stdout   # the 12-step schedule, stopped at 9
    assert "stopping at step 9" in out and torch.load(os.path.join(runs, "last.pt"))["step"] == 9, out
    run(cmd + ["--steps", "12"])
    model = str(tmp_path / "sep.safetensors")
    out = run(cmd + ["--steps", "12", "--export", model]).stdout
    assert "resumed" in out and "exported" in out
    log = log_of(runs)
    assert [r["step"] for r in log] == [0, 3, 6, 9, 12]   # one step-0 baseline, not one per resume
    assert all(np.isfinite(r["train_total"]) for r in log[1:])
    assert set(log[0]["valid"]) == set(log[-1]["valid"])
    assert "speech" in log[-1]["valid"]["midpoint:2:0"]
    # --ema: validated beside the raw weights, kept across the resume, and what export writes
    assert set(log[-1]["valid_ema"]) == set(log[-1]["valid"])
    ck = torch.load(os.path.join(runs, "last.pt"), map_location="cpu")
    tensors, _ = read_safetensors(model)
    w = "out_conv.weight"
    assert not torch.equal(ck["ema_state_dict"][w], ck["state_dict"][w])
    assert np.array_equal(tensors[w], ck["ema_state_dict"][w].numpy())
    raw = str(tmp_path / "raw.safetensors")
    run(["train/export.py", "--checkpoint", os.path.join(runs, "last.pt"), "--out", raw, "--raw"])
    assert np.array_equal(read_safetensors(raw)[0][w], ck["state_dict"][w].numpy())
    check_provenance(model, tmp_path)
    check_init_and_refusal(cmd, runs, model, tmp_path)
    check_label_heads(cmd, runs, model, tmp_path)
    check_narrowed_labels(model, tmp_path)
    # sep_train_check --fit-steps: the exported network, trained on one batch alone, fits it
    out = run(["train/sep_train_check.py", "--model", model, "--corpus", cdir, "--batches", "1", "--batch", "4",
               "--segment", "0.5", "--fit-steps", "30", "--fit-lr", "3e-3"]).stdout
    fits = [float(line.split()[-1]) for line in out.splitlines() if line.strip().startswith("fit step")]
    assert len(fits) == 3 and fits[-1] > fits[0] + 1.0, out
    # sep_learning_probe --fixed: the recurrent mask with a head per label (and the diagnosis's extra
    # inputs: a causal longer look-back, the complex spectrum) fits one batch of the trainer's
    out = run(["train/sep_learning_probe.py", "--kind", "gru", "--heads", "--hidden", "32", "--fixed", "--steps", "60",
               "--long-window", "768", "--complex-input",
               "--every", "60", "--lr", "1e-2", "--corpus", cdir, "--valid-split", "test", "--val-count", "1",
               "--val-seconds", "0.5", "--batch", "4", "--segment", "0.5", "--label-probs", "1,0,1"]).stdout
    recs = [json.loads(line) for line in out.splitlines() if line.startswith("{")]
    fit = [r["fit"] for r in recs[1:]]
    assert len(fit) == 2 and fit[1]["mean"] > fit[0]["mean"] + 1.0, out
    # ... after its valid batch's ideal-ratio-mask score, far above pass-through
    assert recs[0]["oracle_irm"]["mean"] > recs[1]["valid"]["mean"] + 3.0, out
    # and the same for fresh mixtures of the training sources
    assert recs[0]["oracle_irm_train_sources"]["mean"] > recs[1]["train_sources"]["mean"] + 3.0, out
    ev = str(tmp_path / "eval")
    run(["train/evaluate_separate.py", "--corpus", cdir, "--model", model, "--earflow", EARFLOW,
         "--out", ev, "--count", "1", "--seconds", "1.5", "--labels", "speech,noise",
         "--afftdn", "nr=12:nf=-50", "--speex", "15", "--limits", "0,100",
         "--settings", "default,midpoint:1:0"])
    res = json.load(open(os.path.join(ev, "results.json")))
    assert np.isfinite(res["mean_keep_i_speech"]) and np.isfinite(res["mean_afftdn_i_speech"])
    by_background = open(os.path.join(ev, "backgrounds.md")).read().splitlines()
    assert by_background[0].startswith("| target | background | n | earflow keep | afftdn")
    assert sum(int(r.split("|")[3]) for r in by_background[2:] if r.startswith("| speech |")) == \
        sum(1 for i in res["items"] if i["label"] == "speech" and np.isfinite(i["in"]))
    by_voice = open(os.path.join(ev, "voices.md")).read().splitlines()     # the same items by speaker
    assert by_voice[0].startswith("| target | voice | n | earflow keep | afftdn")
    voices = {r.split("|")[2].strip(): int(r.split("|")[3]) for r in by_voice[2:]}
    assert voices and sum(voices.values()) == sum(1 for i in res["items"] if i["label"] == "speech"
                                                  and np.isfinite(i["in"]))
    assert set(voices) <= set(res["groups"])
    if "speex" in res["baselines"]:  # tests/integration/baselines/speex_denoise is built with libspeexdsp
        assert np.isfinite(res["mean_speex_i_speech"])
    assert np.isfinite(res["reverb_speech_si_sdr"]) and np.isfinite(res["clean_speech_si_sdr"])
    assert all(np.isfinite(v) for v in res["silence_max_abs"].values())
    assert "| speech | mean |" in open(os.path.join(ev, "table.md")).read()
    assert "| midpoint:1:0 | 2 |" in open(os.path.join(ev, "schedules.md")).read()
    check_listening_material(model, cdir, tmp_path)


def check_listening_material(model, cdir, tmp_path):
    """separate_renders.py: per trained label and SNR the mixture, the clean target and the
    model's keep as Ogg files sharing one gain (the loudest at -3 dBFS), a spectrogram
    per label, and a table whose SI-SDRi is the render's."""
    out = str(tmp_path / "renders")
    run(["train/separate_renders.py", "--corpus", cdir, "--model", "tiny=" + model, "--earflow", EARFLOW,
         "--split", "test", "--out", out, "--seconds", "1.0", "--snrs", "0,5", "--labels", "speech,noise"])
    labels = ["speech", "noise"]   # the tiny corpus has no music
    assert set(labels) <= set(config_of(model)["conditioning"]["trained_labels"])
    table = open(os.path.join(out, "renders.md")).read()
    for label in labels:
        assert os.path.getsize(os.path.join(out, "spectrogram_%s.png" % label)) > 1000
        for snr in ("+0", "+5"):
            stem = os.path.join(out, "%s_snr%s_" % (label, snr))
            decoded = {}
            for part in ("mixture", "clean", "tiny"):
                wav = str(tmp_path / "decoded.wav")
                subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", stem + part + ".ogg", wav],
                               check=True)
                decoded[part] = audio.read_wav(wav, mono=True)
            # one gain for the three: the loudest at -3 dBFS (Vorbis moves a peak by a dB or two)
            peak = 20 * np.log10(max(np.max(np.abs(x)) for x in decoded.values()))
            assert -6 < peak < 0, (label, snr, peak)
            assert all(np.max(np.abs(x)) > 1e-3 and np.isfinite(x).all() for x in decoded.values())
            row = [r for r in table.splitlines() if r.startswith("| %s_snr%s_*.ogg |" % (label, snr))]
            assert len(row) == 1 and row[0].rstrip(" |").endswith(" dB"), table
    missing = run(["train/separate_renders.py", "--corpus", cdir, "--model", model, "--out", out], ok=False)
    assert missing.returncode != 0 and "NAME=PATH" in missing.stderr


def test_deterministic_batches(tmp_path, sim):
    """The same seed gives the same losses (noise and t included); another seed not."""
    data = str(tmp_path / "data")
    for i in range(2):
        x, y, rel, room, info = simset.make_sequence(sim, NoCorpus(), "train", 4, i, 1.0)
        layout.write_sequence(os.path.join(data, "trainset", "seq%06d" % i), x, y, rel, room, info)
    outs = []
    for k, seed in enumerate((9, 9, 10)):
        runs = str(tmp_path / ("r%d" % k))
        run(["train/train_binaural.py", "--data", data, "--run", runs, "--widths", "8,16", "--emb-dim", "16",
             "--dil-mid", "2", "--batch", "2", "--segment", "0.25", "--steps", "2", "--log-every", "1",
             "--seed", str(seed)] + FLOW)
        outs.append([r["train_total"] for r in log_of(runs)])
    assert outs[0] == outs[1] and outs[0] != outs[2]
