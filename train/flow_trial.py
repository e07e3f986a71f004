#!/usr/bin/python3
"""The flow-recipe trial: the same model, data, seed and number of steps trained with
each recipe (sigma x time-step sampling x anchor), then every run's exported model
scored on the valid split at 1, 2 and 4 network evaluations from outputs of the C
`earflow render`. Prints (and writes to OUT/trial.md) one table row per recipe and
schedule, with the commands behind them.

    /usr/bin/python3 train/flow_trial.py --kind separate --out train/runs/trial_sep \
        --train-args "--corpus train/data/corpus --init models/separate.safetensors ..." \
        --eval-args "--corpus train/data/corpus --split valid --count 8"

Resumable: a finished run (its export exists) is not trained again, a finished
evaluation not run again. --jobs 2 trains two recipes at a time (one core each).
"""

import argparse
import json
import os
import shlex
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from earflow_train import flow  # noqa: E402
from earflow_train.evaluation import cell  # noqa: E402
from earflow_train.loop import repo_relative, shown_command  # noqa: E402

RECIPES = {          # name: trainer options
    "predictive": "--sigma 0 --t-sampling zero",
    "s0-uniform": "--sigma 0 --t-sampling uniform",
    "s0.01-uniform": "--sigma 0.01 --t-sampling uniform",
    "s0.03-uniform": "--sigma 0.03 --t-sampling uniform",
    "s0.1-uniform": "--sigma 0.1 --t-sampling uniform",
    "s0.3-uniform": "--sigma 0.3 --t-sampling uniform",
    "s0.5-uniform": "--sigma 0.5 --t-sampling uniform",
    "s0.3-logitnormal": "--sigma 0.3 --t-sampling logitnormal",
    "s0.3-mix": "--sigma 0.3 --t-sampling mix --t-zero-frac 0.5",
    "s0.3-uniform-anchor": "--sigma 0.3 --t-sampling uniform --anchor-weight 1",
    "s0-self-anchor": "--sigma 0 --t-sampling uniform --anchor-weight 1 --states self",
}
SCHEDULES = "euler:1:0,euler:2:0,midpoint:1:0,midpoint:2:0,euler:4:0,midpoint:1:0.5"
SCRIPTS = {"separate": ("train_separate.py", "evaluate_separate.py"),
           "binaural": ("train_binaural.py", "evaluate_binaural.py")}


def commands(a, name):
    trainer, evaluator = SCRIPTS[a.kind]
    run = os.path.join(a.out, name)
    model = os.path.join(run, "model.safetensors")
    train = ([sys.executable, os.path.join(HERE, trainer), "--run", run, "--export", model,
              "--steps", str(a.steps)] + shlex.split(a.train_args) + shlex.split(RECIPES[name]))
    ev = os.path.join(run, "eval")
    evaluate = ([sys.executable, os.path.join(HERE, evaluator), "--model", model, "--out", ev,
                 "--earflow", a.earflow] + shlex.split(a.eval_args))
    if a.kind == "separate":
        evaluate += ["--settings", SCHEDULES, "--keep-only", "--no-afftdn"]
    else:
        evaluate += ["--settings", SCHEDULES, "--no-baselines"]
    return train, evaluate, model, ev


def train_all(a, names):
    """Train the recipes, a.jobs at a time; each run's output in RUN/train.out."""
    pending = [n for n in names if not os.path.exists(commands(a, n)[2])]
    procs = []
    while pending or procs:
        while pending and len(procs) < a.jobs:
            n = pending.pop(0)
            os.makedirs(os.path.join(a.out, n), exist_ok=True)
            log = open(os.path.join(a.out, n, "train.out"), "a")
            procs.append((n, subprocess.Popen(commands(a, n)[0], stdout=log, stderr=subprocess.STDOUT), time.time()))
            print("trial: training %s" % n, flush=True)
        for item in procs[:]:
            n, p, t0 = item
            if p.poll() is not None:
                procs.remove(item)
                print("trial: %s finished (rc %d) in %.0f s" % (n, p.returncode, time.time() - t0), flush=True)
        time.sleep(2)


def scores(a, ev):
    """{schedule: {column: value}} from an evaluator's output folder."""
    if a.kind == "separate":
        # speech keep SI-SDRi per schedule, and paired against one Euler step (the same
        # mixtures: what the extra evaluations change, with its own interval)
        items = [i for i in json.load(open(os.path.join(ev, "results.json")))["items"]
                 if i["label"] == "speech" and i["background"] != "clean"]
        base = "keep@euler:1:0"
        out = {}
        for s in flow.parse_schedules(SCHEDULES):
            k = "keep@%s:%d:%g" % s
            out[k[5:]] = {"speech SI-SDRi": cell([i[k] - i["in"] for i in items]),
                          "minus 1 NFE (paired)": cell([i[k] - i[base] for i in items])}
        return out
    res = json.load(open(os.path.join(ev, "results.json")))
    out = {}
    for label, rooms in res["results"].items():
        m = rooms["all"]
        key = [s for s in res["settings"] if flow.schedule_name(tuple(s)) in label][0]
        out["%s:%d:%g" % tuple(key)] = {"amp": "%.4f" % m["amp"], "ild_db": "%.2f" % m["ild_db"],
                                        "itd_us": "%.0f" % m["itd_us"]}
    return out


def shown(cmd):
    return shown_command(repo_relative(cmd[1]), cmd[2:])


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kind", choices=sorted(SCRIPTS), required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--steps", type=int, default=400)
    ap.add_argument("--train-args", default="", help="options every run shares (data, --init, network)")
    ap.add_argument("--eval-args", default="", help="the evaluator's data options (valid split)")
    ap.add_argument("--recipes", default=",".join(RECIPES))
    ap.add_argument("--jobs", type=int, default=2)
    ap.add_argument("--earflow", default=os.path.join(HERE, "..", "build", "cli", "earflow"))
    a = ap.parse_args()
    names = a.recipes.split(",")
    train_all(a, names)
    rows = []
    for n in names:
        train, evaluate, model, ev = commands(a, n)
        if not os.path.exists(model):
            print("trial: %s has no model (see %s/train.out)" % (n, os.path.join(a.out, n)), flush=True)
            continue
        if not os.path.exists(os.path.join(ev, "results.json")):
            subprocess.run(evaluate, check=True, stdout=subprocess.DEVNULL)
        rows.append((n, scores(a, ev), train, evaluate))
    # one row per recipe, one column per schedule; separation: the first column is
    # speech keep SI-SDRi, the others the paired change against it; binaural: every
    # cell Amplitude / ILD error (dB) / ITD error (us) over all rooms
    sched = flow.parse_schedules(SCHEDULES)
    head = ["%s:%d:%g (%d NFE)" % (s + (flow.evaluations(s[0], s[1]),)) for s in sched]
    lines = ["| recipe | " + " | ".join(head) + " |", "|---|" + "---|" * len(head)]
    for n, sc, _, _ in rows:
        cells = []
        for i, s in enumerate(sched):
            c = sc.get("%s:%d:%g" % s)
            if c is None:
                cells.append("-")
            elif a.kind == "separate":
                cells.append(c["speech SI-SDRi"] if i == 0 else c["minus 1 NFE (paired)"])
            else:
                cells.append("%s / %s / %s" % (c["amp"], c["ild_db"], c["itd_us"]))
        lines.append("| %s | %s |" % (n, " | ".join(cells)))
    lines += ["", "Commands (train, then evaluate):", ""]
    for n, _, train, evaluate in rows:
        lines.append("- %s: `%s` ; `%s`" % (n, shown(train), shown(evaluate)))
    md = "\n".join(lines) + "\n"
    with open(os.path.join(a.out, "trial.md"), "w") as f:
        f.write(md)
    print(md)


if __name__ == "__main__":
    main()
