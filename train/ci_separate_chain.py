"""CI chain of the separation model on a tiny configuration, offline, in < 5 minutes:
tiny corpus (train/corpus.py from the package cache .ci/run fetches: alsa-utils,
asterisk-core-sounds-en-g722) -> train_separate.py a few steps -> export ->
`earflow render` -> evaluate_separate.py. Checks that every stage ran and produced
finite figures (a chain test, not a quality test: the shipped model's quality is tested
by tests/separate_model_test.py).

usage: /usr/bin/python3 train/ci_separate_chain.py --earflow build/host/earflow [--work DIR]
"""

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

TINY = ["alsa-utils", "asterisk-core-sounds-en-g722"]


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--earflow", required=True)
    ap.add_argument("--work", default="")
    ap.add_argument("--cache", default=os.path.join(HERE, "cache"))
    a = ap.parse_args()
    t0 = time.time()
    import corpus
    missing = [p for p in TINY if corpus.deb_path(a.cache, p) is None]
    if missing:
        print("the package cache lacks %s: run `/usr/bin/python3 train/corpus.py --fetch-only "
              "--packages %s` first (.ci/run does)" % (", ".join(missing), ",".join(TINY)))
        return 1
    work = a.work or tempfile.mkdtemp(prefix="sep_chain_")
    os.makedirs(work, exist_ok=True)
    cdir = os.path.join(work, "corpus")
    if not os.path.exists(os.path.join(cdir, "manifest.csv")):
        corpus.build(a.cache, cdir, TINY, offline=True, max_files=40)
    t1 = time.time()
    run = os.path.join(work, "run")
    shutil.rmtree(run, ignore_errors=True)
    py = sys.executable
    common = [py, os.path.join(HERE, "train_separate.py"), "--corpus", cdir, "--out", run,
              "--widths", "8,16", "--groups", "4", "--dil-mid", "2", "--batch", "4",
              "--seconds", "0.5", "--valid-split", "test", "--eval-every", "1000",
              "--minutes", "5"]
    # train 6 steps, then resume to 12: the resume path is part of the chain
    subprocess.run(common + ["--max-steps", "6", "--lr-steps", "12"], check=True)
    subprocess.run(common + ["--max-steps", "12", "--lr-steps", "12"], check=True)
    log = [json.loads(l) for l in open(os.path.join(run, "log.jsonl"))]
    steps = [r["step"] for r in log if "loss" in r]
    assert steps == list(range(1, 13)), steps
    assert all(math.isfinite(r["loss"]) for r in log if "loss" in r)
    model = os.path.join(run, "model.safetensors")
    assert os.path.getsize(model) > 1000
    # --init from the exported file: at lr 0 the fine-tuned export must equal its start
    # (the weights were loaded, not re-initialized); another network shape is refused
    from export import read_safetensors
    tune = os.path.join(work, "tune")
    shutil.rmtree(tune, ignore_errors=True)
    tcmd = [c if c != run else tune for c in common]
    subprocess.run(tcmd + ["--init", model, "--lr", "0", "--max-steps", "1"], check=True)
    a_t, _ = read_safetensors(model)
    b_t, _ = read_safetensors(os.path.join(tune, "model.safetensors"))
    assert sorted(a_t) == sorted(b_t)
    assert all((a_t[k] == b_t[k]).all() for k in a_t), "--init did not load the weights"
    bad = subprocess.run([c if c != "8,16" else "8,24" for c in tcmd] + ["--init", model],
                         capture_output=True, text=True)
    assert bad.returncode != 0 and "arch.widths" in bad.stderr, bad.stderr
    t2 = time.time()
    ev = os.path.join(work, "eval")
    subprocess.run([py, os.path.join(HERE, "evaluate_separate.py"), "--corpus", cdir,
                    "--model", model, "--earflow", a.earflow, "--out", ev, "--count", "1",
                    "--seconds", "1.5", "--labels", "speech,noise", "--afftdn", "nr=12:nf=-50",
                    "--limits", "0,100"], check=True)
    res = json.load(open(os.path.join(ev, "results.json")))
    assert math.isfinite(res["mean_keep_i_speech"]) and math.isfinite(res["mean_afftdn_i_speech"])
    assert all(math.isfinite(v) for v in res["silence_max_abs"].values())
    assert "| speech | mean |" in open(os.path.join(ev, "table.md")).read()
    t3 = time.time()
    print("chain ok: corpus %.0f s, train+export %.0f s, render+evaluate %.0f s, total %.0f s"
          % (t1 - t0, t2 - t1, t3 - t2, t3 - t0))
    if not a.work:
        shutil.rmtree(work, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
