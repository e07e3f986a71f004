"""The binaural dataset layout (the public binaural speech dataset's, binauralflow.md)
and a reader that serves training with cheap random crops.

One folder per sequence:

    mono.wav          1 channel, 48 kHz (the dry source)
    binaural.wav      2 channels, 48 kHz (left, right)
    tx_positions.txt  120 Hz: one row per 400 samples, "x y z qx qy qz qw": the source
                      (transmitter) relative to the listener, who sits at the origin
                      facing +x. AXES AS IN THE PUBLIC DATASET: x forward, y RIGHT,
                      z up (metres). Row r is the pose at sample 400*r;
                      len(mono) == 400 * rows.
    room.txt          (earflow addition) the room name, one of binsim.ROOMS
    meta.json         (earflow addition, optional) how the sequence was made

Our convention (design.md) is azimuth 0 front, +90 LEFT, elevation +90 up, so the
reader converts each row: az = atan2(-y, x), el = atan2(z, hypot(x, y)),
dist = |(x, y, z)|. The generator writes the same axes, so the public recordings and
ours read the same way. The quaternion is the source's orientation; our simulated
sources are omnidirectional and are written with the identity (0 0 0 1).

Audio is memory-mapped (scipy.io.wavfile mmap), so a crop costs a copy of the crop.
"""

import json
import os

import numpy as np

from . import audio

SR = 48000
ROW_HZ = 120
SAMPLES_PER_ROW = SR // ROW_HZ   # 400


def head_to_file(rel):
    """Head frame (x fwd, y LEFT, z up) -> file axes (x fwd, y RIGHT, z up)."""
    rel = np.asarray(rel, dtype=np.float64)
    return np.stack([rel[..., 0], -rel[..., 1], rel[..., 2]], axis=-1)


def file_to_sph(xyz):
    """File-axes positions [..., 3] -> (azimuth deg (+ left), elevation deg, distance m)."""
    xyz = np.asarray(xyz, dtype=np.float64)
    x, y, z = xyz[..., 0], xyz[..., 1], xyz[..., 2]
    az = np.degrees(np.arctan2(-y, x))
    el = np.degrees(np.arctan2(z, np.hypot(x, y)))
    return az, el, np.sqrt(x * x + y * y + z * z)


def write_sequence(folder, mono, binaural, rel_rows, room, meta=None):
    """Write one sequence. mono [T], binaural [2, T] (floats in [-1, 1]), rel_rows
    [T/400, 3] head-frame source positions (x fwd, y LEFT, z up) at samples 400*r.
    Written into folder + '.tmp' and renamed, so a folder that exists is complete."""
    T = len(mono)
    if T % SAMPLES_PER_ROW or len(rel_rows) != T // SAMPLES_PER_ROW or binaural.shape != (2, T):
        raise ValueError("sequence shapes: mono %d, binaural %s, rows %d" % (T, binaural.shape, len(rel_rows)))
    tmp = folder.rstrip("/") + ".tmp"
    os.makedirs(tmp, exist_ok=True)
    audio.write_wav(os.path.join(tmp, "mono.wav"), mono, pcm=True)
    audio.write_wav(os.path.join(tmp, "binaural.wav"), binaural, pcm=True)
    xyz = head_to_file(rel_rows)
    rows = np.concatenate([xyz, np.tile([0.0, 0.0, 0.0, 1.0], (len(xyz), 1))], axis=1)
    np.savetxt(os.path.join(tmp, "tx_positions.txt"), rows, fmt="%.6f")
    with open(os.path.join(tmp, "room.txt"), "w") as f:
        f.write(room + "\n")
    if meta is not None:
        with open(os.path.join(tmp, "meta.json"), "w") as f:
            json.dump(meta, f, indent=1, sort_keys=True)
    if os.path.exists(folder):
        import shutil
        shutil.rmtree(folder)
    os.replace(tmp, folder)


def read_meta(folder):
    """A sequence folder's meta.json as a dict ({} when it has none)."""
    path = os.path.join(folder, "meta.json")
    if not os.path.exists(path):
        return {}
    with open(path) as f:
        return json.load(f)


class Sequence:
    """One sequence folder, memory-mapped."""

    def __init__(self, folder, rooms=None, default_room=None, strict=True):
        from .binsim import ROOMS
        rooms = tuple(rooms or ROOMS)
        self.folder = folder
        self.mono = audio.read_raw(os.path.join(folder, "mono.wav"), mmap=True)
        self.binaural = audio.read_raw(os.path.join(folder, "binaural.wav"), mmap=True)
        if self.mono.ndim != 1:
            raise ValueError("%s/mono.wav: %d channels, expected 1" % (folder, self.mono.shape[1]))
        if self.binaural.ndim != 2 or self.binaural.shape[1] != 2:
            raise ValueError("%s/binaural.wav: expected 2 channels" % folder)
        rows = np.loadtxt(os.path.join(folder, "tx_positions.txt"), ndmin=2)
        if rows.shape[1] != 7:
            raise ValueError("%s/tx_positions.txt: %d columns, expected 7" % (folder, rows.shape[1]))
        self.rows = rows
        n = len(self.mono)
        if strict and (n != SAMPLES_PER_ROW * len(rows) or len(self.binaural) != n):
            raise ValueError("%s: len(mono) %d, len(binaural) %d, rows %d: expected len == 400 * rows"
                             % (folder, n, len(self.binaural), len(rows)))
        self.length = min(n, len(self.binaural), SAMPLES_PER_ROW * len(rows))
        room_file = os.path.join(folder, "room.txt")
        name = open(room_file).read().strip() if os.path.exists(room_file) else default_room
        if name is None:
            raise ValueError("%s: no room.txt and no default room given" % folder)
        if name not in rooms:
            raise ValueError("%s: room %r is not one of %s" % (folder, name, ", ".join(rooms)))
        self.room = name
        self.room_index = rooms.index(name)
        self.az, self.el, self.dist = file_to_sph(rows[:, :3])   # per row

    def meta(self):
        """meta.json (how a simulated sequence was made), {} where there is none."""
        return read_meta(self.folder)

    def rt60(self):
        """The mid-band RT60 the sequence's room was simulated with (meta.json); 0 for
        an anechoic sequence or one without it (a recording)."""
        return 0.0 if self.room == "anechoic" else float(self.meta().get("rt60", 0.0))

    def pose_at(self, samples):
        """(az, el, dist) at sample indices: xyz interpolated linearly between rows
        (row r at sample 400 r), then converted."""
        s = np.asarray(samples, dtype=np.float64) / SAMPLES_PER_ROW
        r = np.arange(len(self.rows))
        xyz = np.stack([np.interp(s, r, self.rows[:, i]) for i in range(3)], axis=-1)
        return file_to_sph(xyz)

    def crop(self, start, length, frame_hop=None):
        """mono [length] float32, binaural [2, length] float32 and the pose: per sample
        (frame_hop None) or per frame m at sample start + (m+1)*frame_hop - 1 (the
        last sample of each hop, when the runtime applies controls)."""
        if start < 0 or start + length > self.length:
            raise IndexError("crop [%d, %d) outside %d samples" % (start, start + length, self.length))
        mono = np.asarray(self.mono[start:start + length], dtype=np.float32) * audio.scale(self.mono)
        bi = np.asarray(self.binaural[start:start + length], dtype=np.float32).T * audio.scale(self.binaural)
        if frame_hop is None:
            at = np.arange(start, start + length)
        else:
            at = start + (np.arange(length // frame_hop) + 1) * frame_hop - 1
        az, el, dist = self.pose_at(at)
        return dict(mono=mono, binaural=np.ascontiguousarray(bi), az=az.astype(np.float32),
                    el=el.astype(np.float32), dist=dist.astype(np.float32), room=self.room_index)


def find_sequences(root):
    """Every folder under root holding mono.wav, binaural.wav and tx_positions.txt (sorted)."""
    out = []
    for d, dirs, files in os.walk(root):
        dirs[:] = sorted(x for x in dirs if not x.endswith(".tmp"))
        if {"mono.wav", "binaural.wav", "tx_positions.txt"} <= set(files):
            out.append(d)
    return sorted(out)


class BinauralDataset:
    """Random crops over every sequence under `root` (a split folder such as
    trainset/, or a list of sequence folders). Crops are drawn uniformly over all
    samples (longer sequences more often). Item i is a deterministic crop for
    (seed, epoch, i); `set_epoch` changes them."""

    def __init__(self, root, segment, frame_hop=None, rooms=None, default_room=None, seed=0,
                 items_per_epoch=None, strict=True):
        dirs = find_sequences(root) if isinstance(root, str) else list(root)
        if not dirs:
            raise ValueError("no sequences (mono.wav, binaural.wav, tx_positions.txt) under %s" % root)
        self.seqs = [Sequence(d, rooms, default_room, strict) for d in dirs]
        self.seqs = [s for s in self.seqs if s.length >= segment]
        if not self.seqs:
            raise ValueError("no sequence is %d samples long" % segment)
        self.segment = segment
        self.frame_hop = frame_hop
        self.seed = seed
        self.epoch = 0
        lens = np.array([s.length - segment + 1 for s in self.seqs], dtype=np.float64)
        self.cum = np.cumsum(lens)
        self.items = items_per_epoch or int(sum(s.length for s in self.seqs) // segment)

    def set_epoch(self, epoch):
        self.epoch = epoch

    def __len__(self):
        return self.items

    def locate(self, i):
        """(sequence, start sample) of item i of this epoch."""
        rng = np.random.default_rng((self.seed, self.epoch, i))
        u = rng.uniform(0, self.cum[-1])
        k = int(np.searchsorted(self.cum, u, side="right"))
        k = min(k, len(self.seqs) - 1)
        return self.seqs[k], int(u - (self.cum[k - 1] if k else 0.0))

    def __getitem__(self, i):
        seq, start = self.locate(i)
        return seq.crop(start, self.segment, self.frame_hop)

    def keep_rooms(self, names):
        """Keep only the sequences recorded in these rooms (e.g. a curriculum)."""
        self.seqs = [q for q in self.seqs if q.room in names]
        if not self.seqs:
            raise ValueError("no sequence in rooms %s" % ", ".join(names))
        self.cum = np.cumsum([q.length - self.segment + 1 for q in self.seqs]).astype(np.float64)

    def torch(self):
        """A torch.utils.data.Dataset view (torch imported only here)."""
        import torch

        ds = self

        class _T(torch.utils.data.Dataset):
            def __len__(self):
                return len(ds)

            def __getitem__(self, i):
                c = ds[i]
                return {k: (torch.from_numpy(v) if isinstance(v, np.ndarray) else torch.tensor(v))
                        for k, v in c.items()}
        return _T()
