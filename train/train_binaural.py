#!/usr/bin/python3
"""Train an earflow binaural model on a data set in the public binaural layout
(train/earflow_train/layout.py; the simulator's: train/simset.py), resumably, and
export it.

    /usr/bin/python3 train/train_binaural.py --data train/data/binaural --run train/runs/NAME \
        [--minutes 45 | --steps N] [recipe options] [--export models/binaural.safetensors]

The flow (earflow_train/flow.py, loop.py): the start is the prior (--prior: the mono
copy on both ears, or a rigid sphere's ears) plus sigma * noise, the end the binaural
spectrum (compressed), both with the propagation delay r/c removed (--align: the host
adds travel time). Losses on the end-point estimate: L1 (compressed), optionally
compressed and linear magnitude L1, MRSTFT, octave-band ILD, interaural phase and
interaural coherence. Conditioning as the C engine computes it: per frame the pose at
the last sample of the hop, features and smoothing from earflow_train/dsp.py,
smoothing restarted at the crop start (as after an engine reset).
"""

import math
import os
import sys

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from earflow_train import audio, binsim, dsp, layout, losses, loop, room_tail  # noqa: E402
from earflow_train.loop import repo_relative  # noqa: E402

SR = 48000
TAIL_PREROLL = 1.5     # s of input before each crop that the room tail is run over


def prior_from(cond, gains):
    """cond [B, 2, T, F] compressed mono, gains [B, T, 2, 2, F] (dsp.head_prior_gains)
    -> the prior [B, 4, T, F], per ear the complex product."""
    cr, ci = cond[:, 0:1], cond[:, 1:2]
    pr = gains[:, :, :, 0].permute(0, 2, 1, 3)
    pi = gains[:, :, :, 1].permute(0, 2, 1, 3)
    return torch.stack([cr * pr - ci * pi, cr * pi + ci * pr], dim=2).flatten(1, 2)


class Binaural:
    __doc__ = __doc__
    kind = "binaural"
    script = "train/train_binaural.py"
    cond_keys = ("prior", "rooms")
    new_layers = ("out_gain.", "room_tail.")   # an --init source may lack them: out_gain
    # neutral at zero, room_tail the design tables (init_weights)
    defaults = dict(batch=8, segment=0.5, head="mask")

    def add_args(self, ap):
        g = ap.add_argument_group("binaural")
        g.add_argument("--data", default=os.path.join(HERE, "data", "binaural"),
                       help="data set root holding the train and valid split folders")
        g.add_argument("--train-split", default="trainset")
        g.add_argument("--valid-split", default="validset")
        g.add_argument("--rooms", default="", help="train and validate on these rooms only (comma list)")
        g.add_argument("--default-room", default=None,
                       help="room of sequences without room.txt (real recordings), one of %s" % (binsim.ROOMS,))
        g.add_argument("--prior", choices=["mono", "spherical_head"], default="spherical_head",
                       help="the flow's start: the mono copy, or a rigid sphere's ears (delay + shadow)")
        g.add_argument("--room-tail", action="store_true",
                       help="conditioning.room_tail: a late tail per ear (the design rooms' RT60 and "
                            "level) added to the spherical-head prior, the direct sound at 1 / distance")
        g.add_argument("--tail-rt60", default="",
                       help="room=seconds,...: the room tail's tables made for these mid-band RT60s "
                            "instead of the design rooms' (e.g. a label's typical RT60 in the data); "
                            "they replace an --init file's tables")
        g.add_argument("--decay-truth", type=float, default=0.0,
                       help="share of reverberant crops whose tail is set, as the decay control "
                            "sets it, to the sequence's own RT60 (meta.json); the rest keep the "
                            "room's (0: all keep it)")
        g.add_argument("--out-gain", action="store_true",
                       help="arch.out_gain: a per-bin gain on the mask from the embedding (mask head)")
        g.add_argument("--tail-gain", action="store_true",
                       help="arch.tail_gain (with --room-tail): the mask on the direct sound only and a "
                            "gain per ear and bin on the room tail, so that the network sets the "
                            "direct-to-reverberant ratio; an --init file without it starts at gain 1")
        g.add_argument("--align", type=int, default=1,
                       help="1: remove the propagation delay r/c (+ the nearer ear's onset) from the targets")
        g.add_argument("--mag-weight", type=float, default=0.0, help="L1 on compressed magnitudes")
        g.add_argument("--linmag-weight", type=float, default=0.0, help="L1 on linear magnitudes")
        g.add_argument("--ild-weight", type=float, default=0.0, help="octave-band ILD error (dB)")
        g.add_argument("--ipd-weight", type=float, default=0.0, help="interaural phase error below 1.5 kHz")
        g.add_argument("--level-weight", type=float, default=0.0,
                       help="each ear's octave-band level error (dB) over 43-ms windows: holds a room tail's "
                            "energy, which the per-bin losses pull down")
        g.add_argument("--ild-rooms", default="anechoic",
                       help="rooms whose crops the ILD and IPD losses see (comma list; empty: all)")
        g.add_argument("--coherence-weight", type=float, default=0.0,
                       help="octave-band interaural coherence error (every room)")
        g.add_argument("--cond-gain", type=float, default=2.0,
                       help="init scale of the conditioning offsets (0: PyTorch's default init)")
        g.add_argument("--freq-emb-init", type=float, default=1.0, help="std of the initial freq_emb")
        g.add_argument("--val-items", type=int, default=16)

    def conditioning(self, a):
        c = {"smoothing_ms": 20, "rooms": list(binsim.ROOMS), "dist_min": binsim.DIST_MIN,
             "dist_max": binsim.DIST_MAX, "prior": a.prior}
        if a.room_tail:
            if a.prior != "spherical_head":
                raise SystemExit("--room-tail needs --prior spherical_head")
            c["room_tail"] = True
        elif a.tail_rt60 or a.decay_truth:
            raise SystemExit("--tail-rt60 and --decay-truth need --room-tail")
        if not 0 <= a.decay_truth <= 1:
            raise SystemExit("--decay-truth is a share, 0 to 1")
        try:
            room_tail.parse_rt60(a.tail_rt60)
        except ValueError as e:
            raise SystemExit(str(e))
        return c

    def arch(self, a):
        if a.tail_gain and not a.room_tail:
            raise SystemExit("--tail-gain needs --room-tail")
        return dict({"out_gain": True} if a.out_gain else {}, **({"tail_gain": True} if a.tail_gain else {}))

    @staticmethod
    def adapt_init(state, model):
        """--init from a file without arch.tail_gain: its output layer's mask channels,
        and zero weights for the tail gain's (gain 1: the tail as the prior has it)."""
        w = state.get("out_conv.weight")
        C = model.c_out
        if model.tail_gain and w is not None and w.shape[0] == 2 * C:
            state["out_conv.weight"] = torch.cat([w, w.new_zeros((C,) + tuple(w.shape[1:]))])
            b = state["out_conv.bias"]
            state["out_conv.bias"] = torch.cat([b, b.new_zeros(C)])
        return state

    @torch.no_grad()
    def init_weights(self, model, a):
        """The conditioning must move the blocks from the first step (with PyTorch's
        default init the per-block offsets are ~1e-2 of the normalized features and the
        network learned to ignore the position); the output starts at the prior."""
        # fixed tables (an --init file's replace them; setup puts --tail-rt60's back)
        room_tail.fill(model, room_tail.parse_rt60(a.tail_rt60))
        model.out_conv.weight.zero_()
        model.out_conv.bias.zero_()
        if model.head == "mask":       # the mask 1 + 0j (and tail gain 1): the prior itself
            model.out_conv.bias[0:2 * model.c_out:2] = 1.0
        if model.freq_emb is not None and a.freq_emb_init > 0:
            model.freq_emb.normal_(0.0, a.freq_emb_init)
        if a.cond_gain <= 0:
            return
        for lin in (model.emb.fc1, model.emb.fc2):
            lin.weight.normal_(0.0, math.sqrt(2.0 / lin.weight.shape[1]))
            lin.bias.zero_()
        for name, mod in model.named_modules():
            if name.endswith(".proj"):
                mod.weight.normal_(0.0, a.cond_gain / math.sqrt(mod.weight.shape[1]))
                mod.bias.zero_()

    # ------------------------------------------------------------ data

    def setup(self, a, cfg, fe, device, model):
        self.a, self.cfg, self.fe, self.device = a, cfg, fe, device
        # the room tail's tables: the model's own (the design ones, an --init file's, or
        # --tail-rt60's, which replace both), so that training uses what is exported
        self.tail_tables = None
        if model.room_tail is not None:
            if a.tail_rt60:
                room_tail.fill(model, room_tail.parse_rt60(a.tail_rt60))
            self.tail_tables = model.room_tail.tables()
        self.tail_gain = model.tail_gain
        self.hrtf = None
        if a.align:
            try:
                from earflow_train import corpus
                from earflow_train import hrtf
                self.hrtf = hrtf.load(corpus.sofa_path())
            except (OSError, ValueError) as e:          # real recordings: r/c only
                print("align: no KEMAR onsets (%s); removing r/c only" % e, flush=True)
        hop = cfg["hop"]
        seg = int(round(a.segment * SR / hop)) * hop
        self.ild_rooms = [binsim.ROOMS.index(r) for r in a.ild_rooms.split(",") if r]
        self.train = layout.BinauralDataset(os.path.join(a.data, a.train_split), seg, frame_hop=hop,
                                            default_room=a.default_room, seed=a.seed,
                                            items_per_epoch=a.batch)
        self.valid = None
        vdir = os.path.join(a.data, a.valid_split)
        if os.path.isdir(vdir):
            self.valid = layout.BinauralDataset(vdir, int(round(2.0 * SR / hop)) * hop, frame_hop=hop,
                                                default_room=a.default_room, seed=12345,
                                                items_per_epoch=a.val_items)
        for ds in (self.train, self.valid):
            if ds is not None and a.rooms:
                ds.keep_rooms(a.rooms.split(","))

    def crop(self, ds, i):
        """Item i of the data set's epoch (with --room-tail also the TAIL_PREROLL s of
        mono before it, zeros before the sequence's start); with --align the binaural target is read
        round(r / c * SR) (+ the nearer ear's KEMAR onset) samples later: a
        frame-synchronous network cannot learn a delay of up to 29 ms (10 m) as a
        per-bin phase rotation."""
        c = ds[i]
        seq, start = ds.locate(i)
        c["rt60"] = 0.0               # the decay control: each room's own
        if self.tail_tables is not None and self.a.decay_truth > 0 and \
                np.random.default_rng([self.a.seed, i, start]).random() < self.a.decay_truth:
            c["rt60"] = seq.rt60()
        if self.tail_tables is not None:
            n = int(round(TAIL_PREROLL * SR / self.cfg["hop"])) * self.cfg["hop"]
            pre = np.asarray(seq.mono[max(0, start - n):start], dtype=np.float32) * audio.scale(seq.mono)
            c["pre"] = np.concatenate([np.zeros(n - len(pre), np.float32), pre])
        if not self.a.align:
            return c
        az, el, dist = seq.pose_at([start + ds.segment // 2])
        shift = float(dist[0]) / binsim.C * SR
        if self.hrtf is not None:
            shift += float(np.min(self.hrtf.onset_at(az[0], el[0])))
        b0 = min(start + max(0, int(round(shift))), seq.length - ds.segment)
        bi = np.asarray(seq.binaural[b0:b0 + ds.segment], dtype=np.float32).T * audio.scale(seq.binaural)
        c["binaural"] = np.ascontiguousarray(bi)
        return c

    def make_batch(self, ds, epoch, B):
        ds.set_epoch(epoch)
        cfg, coef = self.cfg, dsp.smoothing_coef(self.cfg)
        crops = [self.crop(ds, i) for i in range(B)]
        cs = []
        for c in crops:
            T = len(c["az"])
            params = np.stack([c["az"], c["el"], c["dist"], np.full(T, c["room"], np.float32)], axis=1)
            cs.append(dsp.smooth(dsp.params_to_features(params, cfg), coef))
        dev = self.device
        mono = torch.from_numpy(np.stack([c["mono"] for c in crops])).to(dev)
        bi = torch.from_numpy(np.stack([c["binaural"] for c in crops])).to(dev)
        cond = self.fe.encode(mono[:, None])                        # [B, 2, T, F]
        b = {"cond": cond, "y": self.fe.encode(bi), "c": torch.from_numpy(np.stack(cs)).to(dev),
             "room": torch.tensor([c["room"] for c in crops], device=dev), "prior": None}
        if cfg["conditioning"]["prior"] == "spherical_head":
            gains = torch.from_numpy(np.stack([dsp.head_prior_gains(x, cfg) for x in cs])).to(dev)
            b["prior"] = prior_from(cond, gains)
        if self.tail_tables is not None:
            pre = torch.from_numpy(np.stack([c["pre"] for c in crops])).to(dev)
            b["prior"] = self.with_tail(b["prior"], torch.cat([pre, mono], dim=1), np.stack(cs), epoch,
                                        [c["rt60"] for c in crops])
            if self.tail_gain:       # the mask's part and the gain's, the flow starts at their sum
                b["prior"], b["tail"] = b["prior"]
        # where the flow's end point is reached from: the prior (its two parts summed)
        b["z"] = torch.cat([cond, cond], dim=1) if b["prior"] is None else b["prior"] + b.get("tail", 0.0)
        return b

    def with_tail(self, prior, mono, cs, epoch, rt60):
        """conditioning.room_tail's prior (room_tail.add_to_prior over the pre-roll and
        the crop; phases drawn per batch, where the engine's are one fixed sequence);
        rt60 [B] the decay control per crop (0: the room's own)."""
        draws = np.random.default_rng([self.a.seed, epoch]).integers(
            0, dsp.ROOM_TAIL_PHASES, (mono.shape[0], mono.shape[1] // self.cfg["hop"], 2, self.fe.F))
        return room_tail.add_to_prior(self.fe, self.cfg, prior, mono, cs, self.tail_tables, draws,
                                      rt60 if any(rt60) else None, split=self.tail_gain)

    def batch(self, step):
        return self.make_batch(self.train, step, self.a.batch)

    def valid_batch(self):
        return None if self.valid is None else self.make_batch(self.valid, 0, self.a.val_items)

    def ild_items(self, b):
        """[B] bool: crops in the --ild-rooms (None: all)."""
        if not self.ild_rooms:
            return None
        return (b["room"][:, None] == torch.tensor(self.ild_rooms, device=b["room"].device)).any(1)

    # ------------------------------------------------------------ losses

    def losses(self, yhat, b):
        a, fe, y = self.a, self.fe, b["y"]
        terms = {"l1": (a.l1_weight, lambda: (yhat - y).abs().mean()),
                 "mag": (a.mag_weight, lambda: losses.magnitude_l1(fe, yhat, y)),
                 "linmag": (a.linmag_weight, lambda: losses.magnitude_l1(fe, yhat, y, compressed=False)),
                 "ild": (a.ild_weight, lambda: losses.ild(fe, yhat, y, self.ild_items(b))),
                 "ipd": (a.ipd_weight, lambda: losses.ipd(fe, yhat, y, self.ild_items(b))),
                 "coherence": (a.coherence_weight, lambda: losses.coherence(fe, yhat, y)),
                 "level": (a.level_weight, lambda: losses.band_level(fe, yhat, y)),
                 "mrstft": (a.mrstft_weight, lambda: losses.mrstft(fe.decode(yhat), fe.decode(y)).mean())}
        out = {k: f() for k, (w, f) in terms.items() if w > 0}
        out["total"] = sum(terms[k][0] * v for k, v in out.items())
        return out

    def score(self, x, b):
        fe, y = self.fe, b["y"]
        wp, wg = fe.decode(x), fe.decode(y)
        return {"cmag": float(losses.magnitude_l1(fe, x, y)),
                "mrstft": float(losses.mrstft(wp, wg).mean()),
                "ild_db": float(losses.ild(fe, x, y, self.ild_items(b))),
                "coherence": float(losses.coherence(fe, x, y)),
                "wave_l2e3": float(((wp.clamp(-1, 1) - wg.clamp(-1, 1)) ** 2).mean() * 1e3)}

    def data_provenance(self, a):
        return "the binaural set at %s (%s)" % (repo_relative(a.data), a.train_split)

    def describe(self):
        return "train %d sequences, crops %d samples x %d" % (len(self.train.seqs), self.train.segment, self.a.batch)


if __name__ == "__main__":
    loop.train(Binaural())
