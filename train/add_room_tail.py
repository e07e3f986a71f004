#!/usr/bin/python3
"""Writes a copy of a binaural model file (spherical-head prior) with
conditioning.room_tail on and the design rooms' tables (earflow_train/room_tail.py).
The network is unchanged and was not trained for the tail: the copy is for measuring
the prior with the tail (train/evaluate_binaural.py's "prior alone" rows) and what the
tail costs (`earflow bench`), not for listening.

usage: /usr/bin/python3 train/add_room_tail.py models/binaural.safetensors /tmp/with_tail.safetensors
"""
import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

from earflow_train import export, room_tail  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("model")
    ap.add_argument("out")
    a = ap.parse_args()
    tensors, meta = export.read_safetensors(a.model)
    cfg = json.loads(meta["earflow"])
    if cfg.get("kind") != "binaural" or cfg["conditioning"].get("prior") != "spherical_head":
        sys.exit("add_room_tail: %s is not a binaural model with the spherical-head prior" % a.model)
    cfg["conditioning"]["room_tail"] = True
    for name, table in zip(("decay", "send", "mix"), room_tail.design_tables(cfg)):
        tensors["room_tail." + name] = table
    prov = cfg.setdefault("provenance", {})
    prov["notes"] = (prov.get("notes", "") + " + the design room tail (train/add_room_tail.py)").strip()
    export.write_safetensors(a.out, tensors, {"earflow": json.dumps(cfg)})
    print("wrote", a.out)


if __name__ == "__main__":
    main()
