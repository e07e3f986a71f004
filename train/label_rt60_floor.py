"""How close to each sequence's decay time a renderer that knows only the room label can
be: per label of a binaural set's split, the mean error |RT60_used / RT60_true - 1| and
the share within 15 % when every sequence of the label gets one RT60, for the
simulator's design RT60 and for the best such constant. The floor under issue #20's
"decay within 15 % of the truth" for any label-only renderer (the DSP room renderer and
the room tail's design tables included).

    /usr/bin/python3 train/label_rt60_floor.py --data train/data/binaural2 --split trainset
"""

import argparse
import os

import numpy as np

from earflow_train import binsim, layout


def floor_table(rt60_by_room):
    """rows (room, n, design RT60, its mean error and share within 15 %, the best
    constant, its mean error and share within 15 %) for the reverberant rooms."""
    rows = []
    for room in [r for r in binsim.ROOMS if r in rt60_by_room]:
        x = np.asarray(rt60_by_room[room], np.float64)
        design = binsim.ROOM_DESIGN[room]["rt60"]
        if design <= 0 or len(x) == 0:
            continue
        cs = np.linspace(x.min(), x.max(), 2001)
        errs = np.array([np.mean(np.abs(c / x - 1)) for c in cs])
        best = cs[int(np.argmin(errs))]
        within = (lambda c: float(np.mean(np.abs(c / x - 1) <= 0.15)))
        rows.append((room, len(x), design, float(np.mean(np.abs(design / x - 1))), within(design),
                     best, float(errs.min()), within(best)))
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--data", required=True, help="a binaural set (train/simset.py --out)")
    ap.add_argument("--split", default="trainset")
    a = ap.parse_args()
    rt60 = {}
    for seq in layout.find_sequences(os.path.join(a.data, a.split)):
        m = layout.read_meta(seq)
        rt60.setdefault(m["room"], []).append(m["rt60"])
    if not rt60:
        raise SystemExit(f"no sequences in {os.path.join(a.data, a.split)}")
    print("| room | n | design RT60 (s) | mean error | within 15 % | best constant (s) | mean error | within 15 % |")
    print("|---|---|---|---|---|---|---|---|")
    for room, n, d, de, dw, b, be, bw in floor_table(rt60):
        print(f"| {room} | {n} | {d:.2f} | {100 * de:.1f} % | {100 * dw:.0f} % | {b:.2f} | {100 * be:.1f} % | {100 * bw:.0f} % |")


if __name__ == "__main__":
    main()
