"""safetensors writer/reader (by hand) and the earflow model exporter (spec section 6).

File layout: 8-byte little-endian header length n, n bytes of JSON (padded with
spaces so that 8 + n is a multiple of 8), then the tensor data: F32, little-endian,
C order, contiguous, in the header's insertion order, no gaps.
"""

import argparse
import json
import os
import struct

import numpy as np

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))


def repo_relative(path):
    """A path as the repository sees it; outside it, only the file name (a machine's
    folders never go into a shipped file)."""
    if not path:
        return path
    full = os.path.abspath(path)
    if full == REPO or full.startswith(REPO + os.sep):
        return os.path.relpath(full, REPO)
    return "<outside the repository>/" + os.path.basename(full.rstrip(os.sep))


def write_safetensors(path, tensors, metadata=None):
    """tensors: ordered dict name -> array (stored as float32 in the given order);
    metadata: dict of str -> str, stored as "__metadata__"."""
    header = {}
    if metadata:
        for k, v in metadata.items():
            if not isinstance(k, str) or not isinstance(v, str):
                raise TypeError("metadata must be str -> str")
        header["__metadata__"] = dict(metadata)
    blobs = []
    offset = 0
    for name, arr in tensors.items():
        if name == "__metadata__":
            raise ValueError("reserved tensor name")
        a = np.ascontiguousarray(np.asarray(arr, dtype="<f4"))
        data = a.tobytes(order="C")
        header[name] = {"dtype": "F32", "shape": list(a.shape),
                        "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    hjson = json.dumps(header, separators=(",", ":")).encode("utf-8")
    pad = (-(8 + len(hjson))) % 8
    hjson += b" " * pad
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(hjson)))
        f.write(hjson)
        for b in blobs:
            f.write(b)
    os.replace(tmp, path)


def read_safetensors(path):
    """Returns (dict name -> float32 numpy array in file order, metadata dict).
    Checks the invariants of spec section 6 (F32, in-bounds, no overlap, exact cover)."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < 8:
        raise ValueError("file too short")
    (n,) = struct.unpack("<Q", raw[:8])
    if 8 + n > len(raw):
        raise ValueError("header length out of range")
    header = json.loads(raw[8:8 + n].decode("utf-8"))
    data = raw[8 + n:]
    meta = header.pop("__metadata__", {}) or {}
    spans = []
    out = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            raise ValueError("%s: dtype %s" % (name, info["dtype"]))
        b, e = info["data_offsets"]
        count = int(np.prod(info["shape"])) if info["shape"] else 1
        if not (0 <= b <= e <= len(data)) or e - b != 4 * count:
            raise ValueError("%s: bad offsets" % name)
        spans.append((b, e))
        out[name] = np.frombuffer(data[b:e], dtype="<f4").reshape(info["shape"]).copy()
    spans.sort()
    pos = 0
    for b, e in spans:
        if b != pos:
            raise ValueError("tensor data has gaps or overlaps")
        pos = e
    if pos != len(data):
        raise ValueError("tensor data does not cover the data section exactly")
    return out, meta


def export(model, config, path, provenance=None):
    """Write the model file: state_dict tensors (state_dict order) + metadata
    {"earflow": json.dumps(config with provenance)}."""
    cfg = dict(config)
    if provenance is not None:
        cfg["provenance"] = dict(provenance)
    tensors = {}
    for name, t in model.state_dict().items():
        tensors[name] = t.detach().cpu().float().numpy()
    write_safetensors(path, tensors, {"earflow": json.dumps(cfg)})
    return path


ARCH_DEFAULTS = {"freq_emb": False, "head": "velocity"}   # keys older model files leave out


def init_state(path, cfg, device, cond_keys):
    """Weights for training's --init: a training checkpoint (.pt) or an exported model
    file (.safetensors: fine-tune a shipped model). A model file must match the run of
    config `cfg` in kind, STFT, network shape and the conditioning keys `cond_keys`;
    otherwise SystemExit naming the field. Returns a state_dict on `device`."""
    import torch
    if not path.endswith(".safetensors"):
        return torch.load(path, map_location=device)["state_dict"]
    tensors, meta = read_safetensors(path)
    src = json.loads(meta["earflow"])
    for key in ("kind", "n_fft", "hop", "sample_rate"):
        if src.get(key) != cfg.get(key):
            raise SystemExit("--init %s: %s is %r, this run's is %r" % (path, key, src.get(key), cfg.get(key)))
    for key in ("widths", "kt", "groups", "emb_dim", "fourier_dim", "dil_enc", "dil_mid", "dil_dec",
                "freq_emb", "head"):
        have = src["arch"].get(key, ARCH_DEFAULTS.get(key))
        want = cfg["arch"].get(key, ARCH_DEFAULTS.get(key))
        if have != want:
            raise SystemExit("--init %s: arch.%s is %r, this run's is %r (give the same options)"
                             % (path, key, have, want))
    if src["arch"].get("label_heads", False) and not cfg["arch"].get("label_heads", False):
        raise SystemExit("--init %s: arch.label_heads is true, this run has none (give --label-heads)" % path)
    for key in cond_keys:
        if src["conditioning"].get(key) != cfg["conditioning"].get(key):
            raise SystemExit("--init %s: conditioning.%s is %r, this run's is %r"
                             % (path, key, src["conditioning"].get(key), cfg["conditioning"].get(key)))
    return {k: torch.from_numpy(v.copy()).to(device) for k, v in tensors.items()}


def load_model(path):
    """Read a model file back into an EarflowUNet (eval mode). Returns (model, config)."""
    import torch
    from .model import EarflowUNet

    tensors, meta = read_safetensors(path)
    config = json.loads(meta["earflow"])
    model = EarflowUNet(config)
    sd = model.state_dict()
    if set(sd.keys()) != set(tensors.keys()):
        raise ValueError("tensor names differ from the model's state_dict: %s" %
                         sorted(set(sd.keys()) ^ set(tensors.keys())))
    model.load_state_dict({k: torch.from_numpy(v) for k, v in tensors.items()})
    model.eval()
    return model, config


def add_note(cfg, text):
    """Append text to the provenance notes of model config cfg (a copy's reason)."""
    prov = cfg.setdefault("provenance", {})
    prov["notes"] = (prov["notes"] + " " if prov.get("notes") else "") + text


def narrow_trained_labels(src, dst, labels, why):
    """Copy the separation model src to dst with conditioning.trained_labels narrowed to
    `labels` (the engine then refuses the others, docs/model-spec.md): for a label that
    was trained but measured to help nobody. Tensors unchanged; never widens (a label
    the file does not call trained stays refused); the reason joins the provenance."""
    tensors, meta = read_safetensors(src)
    cfg = json.loads(meta["earflow"])
    cond = cfg.get("conditioning", {})
    had = cond.get("trained_labels", cond.get("labels", []))
    extra = [l for l in labels if l not in had]
    if cfg.get("kind") != "separate" or extra or not labels:
        raise SystemExit("export: %s: can only narrow a separation model's trained labels (%s) to a "
                         "non-empty subset; asked for %s" % (src, ",".join(had), ",".join(labels) or "none"))
    cond["trained_labels"] = [l for l in had if l in labels]
    add_note(cfg, "trained_labels narrowed from %s to %s: %s"
             % (",".join(had), ",".join(cond["trained_labels"]), why))
    meta["earflow"] = json.dumps(cfg)
    write_safetensors(dst, tensors, meta)
    return dst


def average_models(srcs, dst, why):
    """Write dst: the element-wise mean of the weights of model files srcs (a "soup" of
    stages continued from one ancestor). They must agree in every config field but the
    provenance, and in every tensor's name and shape (a tensor equal in all of them, a
    buffer or a room table, comes out equal: the float64 mean of equal float32 values is
    exact). dst keeps the first file's provenance and names the others, and why, in its
    notes."""
    if len(srcs) < 2:
        raise SystemExit("export: --average needs two or more model files")
    loaded = [read_safetensors(p) for p in srcs]
    cfgs = [json.loads(m["earflow"]) for _, m in loaded]
    strip = [{k: v for k, v in c.items() if k != "provenance"} for c in cfgs]
    for p, c, (t, _) in zip(srcs[1:], strip[1:], loaded[1:]):
        if c != strip[0]:
            diff = sorted(k for k in set(c) | set(strip[0]) if c.get(k) != strip[0].get(k))
            raise SystemExit("export: --average: %s differs from %s in %s" % (p, srcs[0], ", ".join(diff)))
        if {k: v.shape for k, v in t.items()} != {k: v.shape for k, v in loaded[0][0].items()}:
            raise SystemExit("export: --average: %s has other tensors than %s" % (p, srcs[0]))
    out = {name: (sum(t[name].astype(np.float64) for t, _ in loaded) / len(loaded)).astype(np.float32)
           for name in loaded[0][0]}
    cfg = cfgs[0]
    add_note(cfg, "weights: the mean of %s%s" % (", ".join(repo_relative(p) for p in srcs),
                                                   ": " + why if why else ""))
    meta = dict(loaded[0][1])
    meta["earflow"] = json.dumps(cfg)
    write_safetensors(dst, out, meta)
    return dst


def main():
    ap = argparse.ArgumentParser(description="export an earflow checkpoint to safetensors; or, with "
                                 "--model and --trained-labels, narrow an exported separation model's "
                                 "trained labels")
    ap.add_argument("--checkpoint", help="torch.save'd dict with 'config' and 'state_dict'")
    ap.add_argument("--out", required=True)
    ap.add_argument("--raw", action="store_true",
                    help="a checkpoint trained with --ema: write its raw weights, not their average")
    ap.add_argument("--model", help="an exported separation model to copy with --trained-labels")
    ap.add_argument("--trained-labels", help="comma list: the labels the copy offers (a subset)")
    ap.add_argument("--why", default="", help="the reason, kept in the copy's provenance")
    ap.add_argument("--average", nargs="+", metavar="MODEL",
                    help="model files of one shape: write the mean of their weights (with --why)")
    args = ap.parse_args()
    if args.average:
        if args.model or args.checkpoint or args.trained_labels:
            ap.error("--average takes model files alone")
        average_models(args.average, args.out, args.why)
        return
    if bool(args.model) == bool(args.checkpoint) or bool(args.model) != bool(args.trained_labels):
        ap.error("either --checkpoint, or --model with --trained-labels")
    if args.model:
        narrow_trained_labels(args.model, args.out, [x for x in args.trained_labels.split(",") if x], args.why)
        return
    import torch
    from .model import EarflowUNet

    ck = torch.load(args.checkpoint, map_location="cpu")
    config = ck["config"]
    model = EarflowUNet(config)
    has_ema = "ema_state_dict" in ck
    model.load_state_dict(ck["ema_state_dict"] if has_ema and not args.raw else ck["state_dict"])
    if has_ema:
        print("exported the %s weights" % ("raw" if args.raw else "moving average's (--ema)"))
    export(model, config, args.out, ck.get("provenance", config.get("provenance")))


if __name__ == "__main__":
    main()
