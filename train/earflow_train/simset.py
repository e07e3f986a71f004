#!/usr/bin/python3
"""Generate a simulated binaural training set in the public dataset's layout.

    nice /usr/bin/python3 train/simset.py --hours 5            # train/data/binaural/{trainset,validset,testset}

Reads the corpus built by train/corpus.py (its manifest: trainset draws only from the
corpus's train split, validset from valid, testset from test, so no held-out speaker
or track reaches training), renders each sequence with binsim.Simulator in a random
room of binsim.ROOMS, and writes layout.write_sequence folders seqNNNNNN. Sequence i
of a split is a pure function of (seed, split, i): rerunning skips the sequences that
exist and makes the same ones again after a deletion.

Each sequence: SECONDS long (default 10); content speech (70 %: utterances of the
split joined with short pauses, a quarter of them with noise bursts underneath),
music (15 %: a track excerpt) or synthesized noise bursts (15 %: white, pink, brown,
band-pass, sweeps, clicks, harmonic tones, so every frequency is covered);
trajectory static, orbit, straight walk bouncing off the walls or smooth waypoints,
sources 0.5 to 9.5 m away (as the room allows) at elevations -40 to +90 degrees;
head still, turning or nodding; room anechoic / small / medium / large, each label a
family of shoeboxes (ROOM_RANGES: mid-band RT60 0.2-0.45, 0.4-0.85, 0.8-1.5 s, sizes
0.6 to 1.5 x the design), listener and source placed at random. Speech is one talker
per sequence, talkers equally likely; valid and test hold full-band talkers only,
their own split's and HOLDOUT_TALKERS' (train-split talkers the trainset never uses).
Training sequences are rendered with another head each (Hrtf.variant: ITD for a head
radius of 7.5 to 9.5 cm, a smooth random gain above 4 kHz per ear); valid and test
with KEMAR itself.
"""

import argparse
import csv
import fnmatch
import json
import math
import os
import time

import numpy as np
from scipy import interpolate

from . import audio, binsim, corpus, jobs as jobs_, layout
from . import hrtf

SR = binsim.SR
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # train/
SPLIT_DIRS = {"train": "trainset", "valid": "validset", "test": "testset"}
KIND_P = {"speech": 0.70, "music": 0.15, "noise": 0.15}


# ---------------------------------------------------------------- sources


FULL_BAND_HZ = 8000.0     # a voice is full-band when it has energy above this
FULL_BAND_DB = -60.0      # ... no more than 60 dB below its total (G.722 prompts: none)
# The simulated set's own held-out talkers. Corpus 2's valid and test voices are
# telephone-band (GSM at 8 kHz, G.722, Fish Fillets' 8 kHz-limited Dutch) but for
# one ALSA voice of 12 s, so binaural valid and test take full-band talkers of the
# corpus's train split that the simulated trainset then never hears: the 0 A.D.
# citizens (4 languages, female and male) for test, KTuberling's languages that
# KLettres does not share (so no contributor is on both sides) for valid.
HOLDOUT_TALKERS = {
    "test": ("0ad:*",),
    "valid": tuple("ktuberling:" + lang for lang in
                   ("ca", "el", "fi", "ga", "gl", "nn", "pt", "ro", "sl", "sr", "sv", "wa")),
}


class Sources:
    """The corpus's files by (split, kind), and its speech by (split, talker): a
    sequence is one talker, every talker of a split equally likely; valid and test
    draw only full-band talkers, their split's and HOLDOUT_TALKERS', so that the
    held-out ILD and coherence are measured up to 16 kHz and not on one voice."""

    def __init__(self, corpus_dir):
        self.dir = corpus_dir
        self.files = {}
        self.speakers = {}
        with open(os.path.join(corpus_dir, "manifest.csv"), newline="") as f:
            for r in csv.DictReader(f):
                self.files.setdefault((r["split"], r["kind"]), []).append(r["path"])
                if r["kind"] == "speech":
                    self.speakers.setdefault(r["split"], {}).setdefault(r["speaker"], []).append(r["path"])
        for v in self.files.values():
            v.sort()
        self._cache = {}
        train = self.speakers.get("train", {})
        for split, pats in HOLDOUT_TALKERS.items():
            moved = [k for k in list(train) if any(fnmatch.fnmatchcase(k, p) for p in pats)]
            for k in moved:
                self.speakers.setdefault(split, {})[k] = train.pop(k)
        for split, spk in self.speakers.items():
            for v in spk.values():
                v.sort()
            if split != "train":
                full = {k: v for k, v in spk.items() if self.full_band(v)}
                self.speakers[split] = full or spk
        self.speaker_names = {k: sorted(v) for k, v in self.speakers.items()}

    def full_band(self, files):
        """Whether a talker's first three files carry energy above FULL_BAND_HZ."""
        e_hi = e_all = 0.0
        for rel in files[:3]:
            X = np.abs(np.fft.rfft(self.load(rel).astype(np.float64))) ** 2
            f = np.fft.rfftfreq(2 * (len(X) - 1), 1.0 / SR)
            e_hi += float(X[f > FULL_BAND_HZ].sum())
            e_all += float(X.sum())
        return e_hi > e_all * 10 ** (FULL_BAND_DB / 10)

    def has(self, split, kind):
        if kind == "speech":
            return bool(self.speakers.get(split))
        return bool(self.files.get((split, kind)))

    def load(self, rel):
        a = self._cache.get(rel)
        if a is None:
            a = audio.read_raw(os.path.join(self.dir, rel), mmap=True)
            if len(self._cache) > 4000:
                self._cache.clear()
            self._cache[rel] = a
        return np.asarray(a, dtype=np.float32) * np.float32(audio.scale(a))

    def speech(self, rng, split, T):
        out = np.zeros(T, np.float32)
        used = []
        names = self.speaker_names[split]
        files = self.speakers[split][names[rng.integers(len(names))]]
        pos = 0
        first = True
        while pos < T:
            rel = files[rng.integers(len(files))]
            x = self.load(rel)
            if first:
                x = x[rng.integers(0, max(1, len(x) // 2)):]
                first = False
            x = x * np.float32(10 ** (rng.uniform(-3, 3) / 20))
            n = min(len(x), T - pos)
            out[pos:pos + n] = x[:n]
            used.append(rel)
            pos += n + int(rng.uniform(0.05, 0.6) * SR)
        return out, used

    def music(self, rng, split, T):
        out = np.zeros(T, np.float32)
        used = []
        files = self.files[(split, "music")]
        pos = 0
        while pos < T:
            rel = files[rng.integers(len(files))]
            x = self.load(rel)
            x = x[rng.integers(0, max(1, len(x) - T)):]
            n = min(len(x), T - pos)
            seg = x[:n].copy()
            f = min(int(0.05 * SR), n // 2)
            if f > 0:
                ramp = np.linspace(0, 1, f, dtype=np.float32)
                seg[:f] *= ramp
                seg[-f:] *= ramp[::-1]
            out[pos:pos + n] += seg
            used.append(rel)
            pos += n
        return out, used


def _shape_noise(rng, n, slope_db_oct=0.0, band=None):
    nfft = 1 << int(np.ceil(np.log2(max(n, 2))))
    f = np.fft.rfftfreq(nfft, 1.0 / SR)
    X = np.fft.rfft(rng.standard_normal(nfft))
    g = (np.maximum(f, 20.0) / 1000.0) ** (slope_db_oct / 6.0206)
    if band is not None:
        fc, q = band
        g = g * np.exp(-0.5 * (np.log2(np.maximum(f, 1.0) / fc) * q) ** 2)
    y = np.fft.irfft(X * g, nfft)[:n]
    return y / (np.sqrt(np.mean(y ** 2)) + 1e-12)


def noise_bursts(rng, T):
    """Synthesized bursts covering the whole band, at -30..-18 dBFS RMS each."""
    out = np.zeros(T, np.float64)
    pos = int(rng.uniform(0, 0.3) * SR)
    while pos < T:
        n = int(rng.uniform(0.03, 1.5) * SR)
        n = min(n, T - pos)
        if n < 64:
            break
        t = np.arange(n) / SR
        kind = rng.integers(7)
        if kind == 0:
            y = _shape_noise(rng, n, 0.0)                              # white
        elif kind == 1:
            y = _shape_noise(rng, n, -3.0)                             # pink
        elif kind == 2:
            y = _shape_noise(rng, n, -6.0)                             # brown
        elif kind == 3:
            y = _shape_noise(rng, n, 0.0, (math.exp(rng.uniform(math.log(80), math.log(18000))),
                                           rng.uniform(1, 4)))         # band-pass
        elif kind == 4:                                                # log sweep
            f0, f1 = 40.0, rng.uniform(12000, 23000)
            if rng.random() < 0.5:
                f0, f1 = f1, f0
            dur = n / SR
            k = math.log(f1 / f0) / dur
            y = np.sin(2 * np.pi * f0 * (np.exp(k * t) - 1) / k)
        elif kind == 5:                                                # clicks
            y = np.zeros(n)
            rate = rng.uniform(3, 40)
            for c in np.arange(0, n / SR, 1 / rate):
                i = int(c * SR)
                w = min(int(rng.integers(1, 24)), n - i)
                y[i:i + w] += rng.standard_normal(w)
        else:                                                          # harmonic tone
            f0 = math.exp(rng.uniform(math.log(60), math.log(2000)))
            ks = np.arange(1, int(20000 / f0) + 1)
            y = np.sum(np.sin(2 * np.pi * np.outer(ks, t) * f0 * (1 + 0.002 * rng.standard_normal())
                              + rng.uniform(0, 2 * np.pi, len(ks))[:, None]) / ks[:, None] ** rng.uniform(0.5, 1.5),
                       axis=0)
        # level by RMS, but with the crest factor capped at 6 (15.6 dB): sparse clicks
        # normalized by RMS alone would peak far above everything else
        y = y / max(np.sqrt(np.mean(y ** 2)), np.max(np.abs(y)) / 6.0, 1e-12)
        a = min(int(rng.uniform(0.001, 0.05) * SR), n // 2)
        r = min(int(rng.uniform(0.005, 0.3) * SR), n - a)
        env = np.ones(n)
        if a:
            env[:a] = np.linspace(0, 1, a)
        if r:
            env[-r:] *= np.linspace(1, 0, r) ** 2
        out[pos:pos + n] += y * env * 10 ** (rng.uniform(-30, -18) / 20)
        pos += n + int(rng.uniform(0.0, 0.5) * SR)
    return out.astype(np.float32)


# ---------------------------------------------------------------- scenes


EL_MIN, EL_MAX = -40.0, 90.0     # degrees: KEMAR's measured range, every elevation in it


def _direction(rng):
    az = rng.uniform(-math.pi, math.pi)
    if rng.random() < 0.6:           # mostly near the horizon, where most sources are
        el = math.radians(np.clip(rng.normal(0, 15), EL_MIN, EL_MAX))
    else:                            # else uniform over the sphere above -40 degrees
        el = math.asin(rng.uniform(math.sin(math.radians(EL_MIN)), 1.0))
    return np.array([math.cos(el) * math.cos(az), math.cos(el) * math.sin(az), math.sin(el)])


def _fold(p, lo, hi):
    """Reflect positions into [lo, hi] (a walk bouncing off the walls)."""
    w = hi - lo
    q = np.mod(p - lo, 2 * w)
    return lo + np.where(q > w, 2 * w - q, q)


# What a room label covers: the design shoebox scaled as a whole within `scale` (and
# each axis +-15 % on top), a mid-band RT60 drawn log-uniformly within `rt60` (s): the
# labels together span 0.2 to 1.5 s, so a model learns a family of rooms per label.
ROOM_RANGES = {
    "small": dict(scale=(0.75, 1.35), rt60=(0.2, 0.45)),
    "medium": dict(scale=(0.7, 1.4), rt60=(0.4, 0.85)),
    "large": dict(scale=(0.6, 1.5), rt60=(0.8, 1.5)),
}
DIST_RANGE = (0.5, 9.5)   # m: source distances drawn log-uniformly, within the room


def random_scene(rng, T, room):
    d = binsim.ROOM_DESIGN[room]
    t = np.arange(T) / SR
    if room == "anechoic":
        dims, rt60 = None, 0.0
        listener = np.array([12.0, 12.0, 4.0])
        lo, hi = np.array([2.0, 2.0, 0.5]), np.array([22.0, 22.0, 10.0])
    else:
        rr = ROOM_RANGES[room]
        dims = np.array(d["dims"]) * rng.uniform(*rr["scale"]) * rng.uniform(0.85, 1.15, 3)
        dims[2] = max(dims[2], 2.2)          # room for a standing listener
        dims = tuple(float(v) for v in dims)
        rt60 = math.exp(rng.uniform(math.log(rr["rt60"][0]), math.log(rr["rt60"][1])))
        listener = np.array([rng.uniform(0.8, dims[0] - 0.8), rng.uniform(0.8, dims[1] - 0.8),
                             rng.uniform(1.1, min(1.8, dims[2] - 0.4))])
        lo, hi = np.full(3, 0.25), np.array(dims) - 0.25
    span = float(np.min(np.maximum(hi - listener, listener - lo)))
    rmax = min(binsim.DIST_MAX * 0.95, max(1.0, span * 1.2))
    ttype = rng.choice(["static", "orbit", "walk", "waypoints"], p=[0.3, 0.25, 0.25, 0.2])
    r0 = math.exp(rng.uniform(math.log(DIST_RANGE[0]), math.log(min(DIST_RANGE[1], rmax))))
    if ttype == "static":
        src = listener + r0 * _direction(rng)
        src = np.clip(src, lo, hi)
    elif ttype == "orbit":
        az0 = rng.uniform(-math.pi, math.pi)
        w = math.radians(rng.uniform(15, 120)) * rng.choice([-1, 1])
        el0 = math.radians(np.clip(rng.normal(0, 20), EL_MIN, 80))
        el = el0 + math.radians(rng.uniform(-10, 10)) * np.sin(2 * np.pi * rng.uniform(0.05, 0.2) * t)
        r = r0 * (1 + 0.15 * np.sin(2 * np.pi * rng.uniform(0.03, 0.15) * t + rng.uniform(0, 6.28)))
        az = az0 + w * t
        src = listener + np.stack([r * np.cos(el) * np.cos(az), r * np.cos(el) * np.sin(az),
                                   r * np.sin(el)], axis=-1)
        src = np.clip(src, lo, hi)
    elif ttype == "walk":
        p0 = np.clip(listener + r0 * _direction(rng), lo, hi)
        v = _direction(rng) * np.array([1, 1, 0.3])
        v *= rng.uniform(0.3, 1.5) / (np.linalg.norm(v) + 1e-9)
        src = _fold(p0 + v * t[:, None], lo, hi)
    else:
        n = int(rng.integers(3, 6))
        pts = np.array([np.clip(listener + math.exp(rng.uniform(math.log(DIST_RANGE[0]), math.log(rmax)))
                                * _direction(rng),
                                lo, hi) for _ in range(n)])
        tk = np.linspace(0, t[-1], n)
        src = interpolate.PchipInterpolator(tk, pts, axis=0)(t)
    src = np.atleast_2d(src)
    # keep the source between DIST_MIN (+ margin) and DIST_MAX of the head
    v = src - listener
    r = np.linalg.norm(v, axis=-1, keepdims=True)
    rc = np.clip(r, 0.9 * DIST_RANGE[0], binsim.DIST_MAX * 0.98)
    src = listener + v * rc / np.maximum(r, 1e-9)
    htype = rng.choice(["still", "turn", "oscillate"], p=[0.5, 0.2, 0.3])
    yaw0 = rng.uniform(-math.pi, math.pi)
    if htype == "still":
        yaw = yaw0
    elif htype == "turn":
        yaw = yaw0 + math.radians(rng.uniform(-40, 40)) * t
    else:
        yaw = yaw0 + math.radians(rng.uniform(10, 70)) * np.sin(2 * np.pi * rng.uniform(0.05, 0.3) * t
                                                                  + rng.uniform(0, 6.28))
    pitch = 0.0
    if rng.random() < 0.3:
        pitch = math.radians(rng.uniform(3, 12)) * np.sin(2 * np.pi * rng.uniform(0.1, 0.5) * t)
    if src.shape[0] == 1:
        src = src[0]
    amb = None if room == "anechoic" else float(rng.uniform(30, 50))
    scene = binsim.Scene(room, dims, rt60 if dims else None, listener, src, yaw, pitch, ambience_db=amb)
    info = dict(room=room, dims=dims, rt60=rt60, early_ms=d["early_ms"], listener=listener.tolist(),
                trajectory=str(ttype), head=str(htype), head_pitch=bool(np.ndim(pitch)),
                ambience_db_below_source=amb)
    return scene, info


# ---------------------------------------------------------------- generation


def make_sequence(sim, sources, split, seed, index, seconds):
    rng = np.random.default_rng([seed, list(SPLIT_DIRS).index(split), index])
    T = int(round(seconds * SR / layout.SAMPLES_PER_ROW)) * layout.SAMPLES_PER_ROW
    kinds = [k for k in KIND_P if k == "noise" or sources.has(split, k)]
    p = np.array([KIND_P[k] for k in kinds])
    kind = str(rng.choice(kinds, p=p / p.sum()))
    used = []
    if kind == "speech":
        x, used = sources.speech(rng, split, T)
        if rng.random() < 0.25:
            x = x + noise_bursts(rng, T) * np.float32(10 ** (rng.uniform(-12, -3) / 20))
    elif kind == "music":
        x, used = sources.music(rng, split, T)
    else:
        x = noise_bursts(rng, T)
    x = x * np.float32(10 ** (rng.uniform(-12, 0) / 20))
    room = binsim.ROOMS[int(rng.integers(len(binsim.ROOMS)))]
    scene, info = random_scene(rng, T, room)
    if split == "train":       # other heads in training; valid and test keep KEMAR itself
        head, head_info = sim.h.variant(rng)
        sim = binsim.Simulator(head)
        info.update(head_info)
    y, _ = sim.render(x, scene, rng)
    rel = sim.relative(scene, T)[::layout.SAMPLES_PER_ROW]
    peak = max(float(np.max(np.abs(y))), float(np.max(np.abs(x))), 1e-9)
    g = min(1.0, 0.98 / peak)
    info.update(kind=kind, sources=used, seed=[seed, split, index], gain_to_fit=g, seconds=T / SR)
    return x * g, y * g, rel, room, info


# What a forked --jobs worker renders with: the parent's simulator and sources, set
# before the pool forks (the HRTF tables and the corpus maps are not copied per task).
_FORKED = {}


def _render_and_write(split, seed, index, seconds, folder):
    """One sequence made and written (in a worker, or in this process); -> its info."""
    x, y, rel, room, info = make_sequence(_FORKED["sim"], _FORKED["sources"], split, seed, index, seconds)
    layout.write_sequence(folder, x, y, rel, room, info)
    return info


def generate(corpus_dir, out, hours, valid_hours, test_hours, seconds, seed, sofa=None, quiet=False,
             jobs=1):
    t0 = time.time()
    sources = Sources(corpus_dir)
    sim = binsim.Simulator(hrtf.load(sofa or corpus.sofa_path()))
    _FORKED.update(sim=sim, sources=sources)
    try:
        with jobs_.mapper(jobs) as pmap:
            return _generate(out, hours, valid_hours, test_hours, seconds, seed, quiet, sources, pmap, t0)
    finally:
        _FORKED.clear()


def _generate(out, hours, valid_hours, test_hours, seconds, seed, quiet, sources, pmap, t0):
    plan = [("train", hours), ("valid", valid_hours), ("test", test_hours)]
    if not quiet:
        for split, _ in plan:
            names = sources.speaker_names.get(split, [])
            print("simset: %s talkers (%d): %s" % (SPLIT_DIRS[split], len(names),
                                                   ", ".join(names[:12]) + (" ..." if len(names) > 12 else "")))
    stats = {}
    for split, h in plan:
        n = int(math.ceil(h * 3600 / seconds))
        if n == 0:
            continue
        if not sources.has(split, "speech"):
            print("simset: corpus has no %s speech; %s made of noise and music only" % (split, split), flush=True)
        d = os.path.join(out, SPLIT_DIRS[split])
        os.makedirs(d, exist_ok=True)
        made = skipped = 0
        ts = time.time()
        st = stats.setdefault(split, {"sequences": 0, "rooms": {}, "kinds": {}})
        folders = [os.path.join(d, "seq%06d" % i) for i in range(n)]
        done = [os.path.exists(os.path.join(f, "room.txt")) and os.path.exists(os.path.join(f, "meta.json"))
                for f in folders]
        todo = [i for i in range(n) if not done[i]]
        # each sequence is a pure function of (seed, split, index): the same set for any --jobs
        args = [[split] * len(todo), [seed] * len(todo), todo, [seconds] * len(todo), [folders[i] for i in todo]]
        made_infos = iter(pmap(_render_and_write, *args))
        for i in range(n):
            if done[i]:
                with open(os.path.join(folders[i], "meta.json")) as f:
                    info = json.load(f)
                skipped += 1
            else:
                info = next(made_infos)
                made += 1
            st["sequences"] += 1
            st["rooms"][info["room"]] = st["rooms"].get(info["room"], 0) + 1
            st["kinds"][info["kind"]] = st["kinds"].get(info["kind"], 0) + 1
            if not quiet and ((i + 1) % 50 == 0 or i + 1 == n):
                el = time.time() - ts
                rate = el / max(made, 1)
                print("simset: %s %d/%d (%d made, %d existed), %.0f s, %.2f s per made sequence, ETA %.0f s"
                      % (SPLIT_DIRS[split], i + 1, n, made, skipped, el, rate, rate * (n - i - 1)), flush=True)
        st["hours"] = round(st["sequences"] * seconds / 3600, 3)
    stats["build_seconds"] = round(time.time() - t0, 1)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(stats, f, indent=1, sort_keys=True)
    if not quiet:
        for split, s in stats.items():
            if isinstance(s, dict):
                print("simset: %-9s %.2f h, %d sequences, rooms %s, kinds %s"
                      % (SPLIT_DIRS[split], s["hours"], s["sequences"], s["rooms"], s["kinds"]))
        print("simset: done in %.0f s -> %s" % (time.time() - t0, out))
    return stats


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--corpus", default=corpus.DEFAULT_OUT)
    ap.add_argument("--out", default=os.path.join(HERE, "data", "binaural"))
    ap.add_argument("--hours", type=float, default=5.0, help="training set hours")
    ap.add_argument("--valid-hours", type=float, default=0.25)
    ap.add_argument("--test-hours", type=float, default=0.25)
    ap.add_argument("--seconds", type=float, default=10.0, help="sequence length")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--sofa", default=None, help="HRTF SOFA file (default: MIT KEMAR from the cache)")
    jobs_.add_argument(ap, "sequences rendered")
    a = ap.parse_args(argv)
    generate(a.corpus, a.out, a.hours, a.valid_hours, a.test_hours, a.seconds, a.seed, a.sofa, jobs=a.jobs)


if __name__ == "__main__":
    main()
