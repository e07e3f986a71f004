#!/usr/bin/python3
"""Two binaural models on the same sequences: paired differences, B minus A.

Reads the results.json of two `evaluate_binaural.py` runs over the same split and
sequences (--per-room alike; refused otherwise) and prints, per room, the reverberant
rooms together and all rooms, B's per-sequence errors minus A's (mean and 95 % t
interval over the sequences; negative: B is better): ILD, ITD, coherence and
Amplitude, then the ILD and ITD over the frames the target's direct sound dominates
(where both runs have them). A and B are each run's default-schedule model row unless
--a / --b name another system of it (e.g. "prior alone").

    /usr/bin/python3 train/compare_binaural.py /tmp/eval_stage4 /tmp/eval_stage5
"""
import argparse
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import evaluate_binaural as eb  # noqa: E402
from earflow_train import binsim, layout  # noqa: E402
from earflow_train.evaluation import load_results  # noqa: E402


def model_row(res, name=None):
    """The system a comparison reads: `name`, or the run's default-schedule model row
    (its first model row when no schedule was the default)."""
    per = res["per_sequence"]
    if name:
        if name not in per:
            raise ValueError("no system %r in this run (it has: %s)" % (name, ", ".join(per)))
        return name
    models = [k for k in per if k.startswith("model,")]
    if not models:
        raise ValueError("no model rows in this run (--a/--b name a system)")
    return next((k for k in models if k.endswith("(default)")), models[0])


def compare(a, b, room_of, name_a=None, name_b=None):
    """Markdown: B minus A paired by sequence. Raises ValueError when the sequences
    differ."""
    if a["split"] != b["split"] or sorted(a["files"]) != sorted(b["files"]):
        raise ValueError("not the same sequences: %s (%d) against %s (%d)" % (
            a["split"], len(a["files"]), b["split"], len(b["files"])))
    ka, kb = model_row(a, name_a), model_row(b, name_b)
    per = {"A": a["per_sequence"][ka], "B": b["per_sequence"][kb]}
    present = set(room_of.values())
    rooms = [r for r in binsim.ROOMS if r in present] + ["reverberant", "all"]
    md = "A: %s (%s); B: %s (%s)\n\n" % (ka, a.get("model", "run A"), kb, b.get("model", "run B"))
    md += eb.paired_table(per, "A", ["B"], room_of, rooms=rooms)
    if all(k in next(iter(per["A"].values())) for k, _, _ in eb.DIRECT_KEYS):
        md += "\n" + eb.paired_table(per, "A", ["B"], room_of, rooms=rooms, keys=eb.DIRECT_KEYS)
    return md


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("a", help="evaluate_binaural.py --out folder of the first run")
    ap.add_argument("b", help="... of the second")
    ap.add_argument("--a", dest="name_a", default=None, help="system row of A (default: its default model)")
    ap.add_argument("--b", dest="name_b", default=None, help="system row of B")
    args = ap.parse_args(argv)
    a, b = load_results(args.a), load_results(args.b)
    root = os.path.dirname(HERE)
    room_of = {os.path.basename(f): layout.Sequence(f if os.path.isabs(f) else os.path.join(root, f)).room
               for f in a["files"]}
    print(compare(a, b, room_of, args.name_a, args.name_b))


if __name__ == "__main__":
    main()
