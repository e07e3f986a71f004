"""Mixtures for the separation model: speech + backgrounds, labelled by source class.

Sources come from the corpus built by train/corpus.py (48 kHz mono, loudness-normalized,
split by source package: see its manifest.csv), or are synthesized:

  speech   one speaker's utterances (the foreground voice)
  music    a music bed (corpus music of the same split)
  noise    a real recorded background of the same split (corpus kind "noise": effects and
           ambiences, with probability p_real_noise when the split has any), else synthesized
           noise: white/pink/brown, band-limited, hum at 50/60 Hz with harmonics, bursts and
           clicks, plus babble (sums of 3-6 other speakers of the pool, i.e. of the same split:
           training mixtures babble with training speakers only); all count as label "noise"

Speech sampling (balanced by speaker and minutes): a speaker is drawn with weight
sqrt(minutes of that speaker in the pool), so a voice with 100x the minutes is heard 10x
as often, not 100x, and every speaker is heard; then one of that speaker's files with
weight = its duration (each of its minutes equally likely).

A mixture is target + background at an SNR (target vs everything else) drawn from
-5..20 dB (or fixed), then scaled to a random level from very quiet to near full scale.
The target is one of the labels (speech, music, noise); everything else is background.
Optional room reverberation (a synthetic exponentially decaying noise tail) is applied
to the whole mixture and its parts alike (the target is then the reverberant source).

augment=True (off by default, so that existing runs stay reproducible) adds: speed
perturbation of every corpus source (resampling by 0.9..1.1), speech in simulated rooms
(reverb_ir on the voice alone, p 0.5), and on the whole mixture (target and rest alike):
a random low-pass at 4..20 kHz (p 0.5), a high-pass at 50..300 Hz (p 0.3), an EQ tilt of
-2..+2 dB per octave around 1 kHz (p 0.5), and a level of -50..-6 dBFS.

Everything is cheap numpy so that training mixes on the fly from an in-memory pool, and
the same code with a fixed seed writes the evaluation sets.

usage (writes a test set of WAVs + a CSV):
  /usr/bin/python3 train/mixtures.py --corpus train/data/corpus --split test \
      --out /tmp/sep_test --count 8 --seconds 4
"""

import argparse
import csv
import glob
import hashlib
import json
import math
import os

import numpy as np
import scipy.signal as sps

from . import audio

SR = 48000
LABELS = ["speech", "music", "noise"]   # order fixed: the LV2 TTL enumerates it
SYNTH_KINDS = ["white", "pink", "brown", "band", "hum", "bursts", "clicks", "babble"]
BACKGROUNDS = ["recorded", "music"] + SYNTH_KINDS   # what a Pool may offer (its backgrounds=)


# --------------------------------------------------------------------- wav I/O


def read_wav(path):
    """A corpus or mixture file as float32 mono."""
    return audio.read_wav(path, mono=True)


write_wav = audio.write_wav


# ------------------------------------------------------------------ the pool


def has_speech(corpus, split):
    rows = csv.DictReader(open(os.path.join(corpus, "manifest.csv")))
    return any(r["kind"] == "speech" and r["split"] == split for r in rows)


def _int16(x):
    return (np.clip(x, -1, 1) * 32767).astype(np.int16)


def _int16_sources(corpus, paths, name):
    """The files' samples as int16 arrays (_int16 of read_wav), views of one memory-mapped
    file under corpus/pool-cache/ (one per split and kind: name) written on first use: every process that trains or
    evaluates on the same files then shares one copy in the page cache instead of each
    holding its own (two separation trainers side by side need 5 GB instead of 10). The
    file is named by a hash of the paths, sizes and times, so a changed corpus gets a
    new one (the older one of the same name is removed; processes that map it keep
    it); written under a temporary name and renamed, so concurrent builders are safe.
    A corpus folder that cannot be written: the arrays are held in memory instead."""
    if not paths:
        return []
    full = [os.path.join(corpus, r) for r in paths]
    h = hashlib.sha1(b"int16-v1")
    for r, f in zip(paths, full):
        st = os.stat(f)
        h.update(("%s\0%d\0%d\n" % (r, st.st_size, st.st_mtime_ns)).encode())
    folder = os.path.join(corpus, "pool-cache")
    stem = os.path.join(folder, "%s-%s" % (name, h.hexdigest()[:16]))
    if not os.path.exists(stem + ".i16"):
        tmp = "%s.%d.tmp" % (stem, os.getpid())
        try:
            os.makedirs(folder, exist_ok=True)
            lengths = []
            with open(tmp, "wb") as fh:            # one file at a time: no second copy in memory
                for f in full:
                    a = _int16(read_wav(f))
                    fh.write(a.tobytes())
                    lengths.append(len(a))
            with open(tmp + ".json", "w") as fh:
                json.dump(lengths, fh)
            for old in glob.glob(os.path.join(folder, name + "-*.i16*")):
                if not old.startswith(stem + "."):
                    os.remove(old)
            os.replace(tmp + ".json", stem + ".i16.json")
            os.replace(tmp, stem + ".i16")     # last: the data file is what says "done"
        except OSError:
            for t in (tmp, tmp + ".json"):
                if os.path.exists(t):
                    os.remove(t)
            return [_int16(read_wav(f)) for f in full]
    lengths = json.load(open(stem + ".i16.json"))
    data = np.memmap(stem + ".i16", dtype=np.int16, mode="r") if sum(lengths) else np.zeros(0, np.int16)
    ends = np.cumsum(lengths)
    return [data[e - n:e] for e, n in zip(ends, lengths)]


class Pool:
    """The audio of one split: speech by speaker, music tracks, real backgrounds, int16
    (3 h of 48 kHz is ~1 GB) and shared between processes (_int16_sources)."""

    def __init__(self, corpus, split, max_speech_files=None, max_music_files=None, seed=0,
                 max_noise_files=None, backgrounds=None, noise_packages=None):
        """backgrounds: the kinds of BACKGROUNDS this pool offers (None: all); a diagnostic
        narrows them to tell which kind makes the task hard. noise_packages: take the
        recorded backgrounds from these packages only (None: every package of the split)."""
        rows = list(csv.DictReader(open(os.path.join(corpus, "manifest.csv"))))
        rng = np.random.RandomState(seed)
        kinds = list(BACKGROUNDS) if backgrounds is None else list(backgrounds)
        unknown = sorted(set(kinds) - set(BACKGROUNDS))
        if unknown or not kinds:
            raise ValueError("backgrounds %s: each one of %s" % (",".join(unknown) or "(none)",
                                                                 ",".join(BACKGROUNDS)))
        self.synth_kinds = [k for k in SYNTH_KINDS if k in kinds]

        def pick(kind, most):
            r = [r for r in rows if r["kind"] == kind and r["split"] == split]
            if kind == "noise" and noise_packages is not None:
                r = [x for x in r if x.get("package") in noise_packages]
            if most and len(r) > most:
                r = [r[i] for i in sorted(rng.choice(len(r), most, replace=False))]
            return r
        sp, mu = pick("speech", max_speech_files), pick("music", max_music_files)
        if not sp:
            raise ValueError("no speech in split %r of %s" % (split, corpus))

        def audio_of(chosen, kind):
            """The chosen rows' samples, from the cache of every file of the split's kind (one
            cache whatever subset a process takes, so processes never replace each other's)."""
            if not chosen:
                return []
            every = [r["path"] for r in rows if r["kind"] == kind and r["split"] == split]
            cached = dict(zip(every, _int16_sources(corpus, every, "%s-%s" % (split, kind))))
            return [cached[r["path"]] for r in chosen]
        self.speech, self.speech_group = [], []
        for r, x in zip(sp, audio_of(sp, "speech")):
            if len(x) < SR // 4:
                continue
            self.speech.append(x)
            self.speech_group.append(r.get("speaker") or r["group"])    # older manifests: group
        self.music = audio_of(mu if "music" in kinds else [], "music")
        self.noise = audio_of(pick("noise", max_noise_files) if "recorded" in kinds else [], "noise")
        if not self.has_noise and not self.music:
            raise ValueError("no background in split %r: no recorded backgrounds (packages %s), no "
                             "synthetic kind and no music offered"
                             % (split, ",".join(noise_packages or ["all"])))
        self.groups = sorted(set(self.speech_group))
        self.by_group = {g: [i for i, gg in enumerate(self.speech_group) if gg == g]
                         for g in self.groups}
        # speaker weight sqrt(minutes), file weight duration (module docstring)
        self.file_p = {g: _norm([len(self.speech[i]) for i in ix]) for g, ix in self.by_group.items()}
        self.group_s = {g: sum(len(self.speech[i]) for i in ix) / SR for g, ix in self.by_group.items()}
        self.speech_seconds = sum(len(x) for x in self.speech) / SR
        self.music_seconds = sum(len(x) for x in self.music) / SR
        self.noise_seconds = sum(len(x) for x in self.noise) / SR

    @property
    def has_noise(self):
        """Whether a noise background can be drawn (recordings or a synthetic kind)."""
        return bool(self.noise or self.synth_kinds)

    def speaker_p(self, groups):
        return _norm([math.sqrt(self.group_s[g]) for g in groups])


def _norm(w):
    w = np.asarray(w, dtype=np.float64)
    return w / w.sum()


def _crop(x, n, rng, loop=True):
    """A random n-sample piece of x (int16 -> float32); shorter sources are placed at a
    random offset (zeros around) or looped."""
    if len(x) >= n:
        s = rng.randint(0, len(x) - n + 1)
        return x[s:s + n].astype(np.float32) / 32768.0
    x = x.astype(np.float32) / 32768.0
    out = np.zeros(n, dtype=np.float32)
    if loop:
        reps = int(math.ceil(n / len(x))) + 1
        y = np.tile(x, reps)
        s = rng.randint(0, len(x))
        return y[s:s + n].copy()
    s = rng.randint(0, n - len(x) + 1)
    out[s:s + len(x)] = x
    return out


def speech_piece(pool, n, rng, group=None, exclude_group=None):
    """A voice of n samples: utterances of one speaker laid one after another with short
    gaps (the corpus trims silence), starting at a random point."""
    if group is None:
        choices = [g for g in pool.groups if g != exclude_group] or pool.groups
        group = choices[rng.choice(len(choices), p=pool.speaker_p(choices))]
    idx = pool.by_group[group]
    out = np.zeros(n, dtype=np.float32)
    pos = -rng.randint(0, n // 2 + 1)
    while pos < n:
        x = pool.speech[idx[rng.choice(len(idx), p=pool.file_p[group])]].astype(np.float32) / 32768.0
        a, b = max(pos, 0), min(pos + len(x), n)
        if b > a:
            out[a:b] += x[a - pos:b - pos]
        pos += len(x) + int(rng.uniform(0.05, 0.5) * SR)
    return out, group


# ---------------------------------------------------------------- synth noise


def coloured_noise(n, rng, exponent):
    """Gaussian noise with power spectrum ~ 1/f^exponent (0 white, 1 pink, 2 brown)."""
    w = rng.randn(n)
    W = np.fft.rfft(w)
    f = np.arange(len(W), dtype=np.float64)
    f[0] = 1.0
    W *= f ** (-exponent / 2.0)
    W[0] = 0.0
    y = np.fft.irfft(W, n)
    return (y / (np.std(y) + 1e-12)).astype(np.float32)


def synth_noise(n, rng, pool=None, group=None):
    """One noise of a random kind (of the pool's synth_kinds) -> (array, kind name)."""
    offered = SYNTH_KINDS if pool is None else pool.synth_kinds
    kinds = [k for k in SYNTH_KINDS[:-1] if k in offered]
    if pool is not None and len(pool.groups) > 1 and "babble" in offered:
        kinds.append("babble")
        kinds.append("babble")
    if not kinds:                   # babble offered alone, but one speaker in the pool
        kinds = ["pink"]
    k = kinds[rng.randint(len(kinds))]
    if k in ("white", "pink", "brown"):
        y = coloured_noise(n, rng, {"white": 0.0, "pink": 1.0, "brown": 2.0}[k])
    elif k == "band":
        y = coloured_noise(n, rng, rng.uniform(0, 1.5))
        lo = math.exp(rng.uniform(math.log(80), math.log(4000)))
        hi = min(lo * math.exp(rng.uniform(0.5, 2.5)), 22000)
        sos = sps.butter(4, [lo, hi], btype="band", fs=SR, output="sos")
        y = sps.sosfilt(sos, y).astype(np.float32)
    elif k == "hum":
        f0 = 50.0 if rng.rand() < 0.5 else 60.0
        f0 *= rng.uniform(0.995, 1.005)
        t = np.arange(n) / SR
        y = np.zeros(n)
        for h in range(1, rng.randint(3, 12)):
            y += rng.uniform(0.1, 1.0) / h ** rng.uniform(0.3, 1.2) * np.sin(
                2 * np.pi * f0 * h * t + rng.uniform(0, 2 * np.pi))
        y += 0.02 * rng.randn(n)
        y = y.astype(np.float32)
    elif k == "bursts":
        base = coloured_noise(n, rng, rng.uniform(0, 2))
        env = np.zeros(n, dtype=np.float32)
        pos = 0
        while pos < n:
            pos += int(rng.uniform(0.05, 0.6) * SR)
            ln = int(rng.uniform(0.02, 0.3) * SR)
            a, b = pos, min(pos + ln, n)
            if b > a:
                env[a:b] = rng.uniform(0.3, 1.0) * np.hanning(ln)[:b - a]
            pos += ln
        y = base * env
    elif k == "clicks":
        y = 0.01 * coloured_noise(n, rng, 1.0)
        for _ in range(rng.randint(3, 30)):
            p = rng.randint(0, n)
            ln = rng.randint(20, 400)
            b = min(p + ln, n)
            y[p:b] += (rng.uniform(0.3, 1.0) * rng.choice([-1, 1])
                       * np.exp(-np.arange(b - p) / (ln / 5.0)) * rng.randn(b - p))
    else:  # babble: 3-6 other speakers of the same split
        y = np.zeros(n, dtype=np.float32)
        for _ in range(rng.randint(3, 7)):
            s, _g = speech_piece(pool, n, rng, exclude_group=group)
            y += s * rng.uniform(0.5, 1.0)
    y = y.astype(np.float32)
    if np.std(y) < 1e-9:
        y = coloured_noise(n, rng, 1.0)
        k = "pink"
    return y, k


def reverb_ir(rng, rt60=None):
    """A synthetic room impulse response: direct path + exponentially decaying noise."""
    rt60 = rng.uniform(0.15, 0.8) if rt60 is None else rt60
    n = int(rt60 * SR)
    t = np.arange(n) / SR
    ir = rng.randn(n) * np.exp(-6.9 * t / rt60) * 0.3
    ir[: int(0.002 * SR)] = 0.0
    ir[0] = 1.0
    return (ir / np.sqrt(np.sum(ir ** 2))).astype(np.float32)


def rms(x):
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)) + 1e-20))


# ------------------------------------------------------------ augmentation

AUG_LEVELS = (-50.0, -6.0)       # mixture level range (dBFS RMS) with augment=True


def _speed_factor(rng, augment):
    """Speed perturbation factor: 0.9..1.1 with augment, else 1 (no random draw)."""
    return rng.uniform(0.9, 1.1) if augment else 1.0


def _need(n, f):
    return n if f == 1.0 else int(math.ceil(n * f)) + 1


def _resample(y, n, f):
    """y (at least _need(n, f) samples) played f times faster -> n samples."""
    if f == 1.0:
        return y[:n]
    return np.interp(np.arange(n) * f, np.arange(len(y)), y).astype(np.float32)


def channel_gain(n, rng):
    """A random recording channel as an rfft gain for n samples: low-pass 4..20 kHz
    (p 0.5), high-pass 50..300 Hz (p 0.3), tilt -2..+2 dB/octave around 1 kHz (p 0.5).
    Returns (gain, {"lowpass": Hz or None, "highpass": Hz or None, "tilt": dB/oct})."""
    f = np.fft.rfftfreq(n, 1.0 / SR)
    g = np.ones(len(f))
    ch = dict(lowpass=None, highpass=None, tilt=0.0)
    if rng.rand() < 0.5:                 # steep (codec-like) cut with a short cosine edge
        fc = ch["lowpass"] = math.exp(rng.uniform(math.log(4000), math.log(20000)))
        g *= np.clip((fc - f) / (0.1 * fc), 0, 1) ** 2
    if rng.rand() < 0.3:
        fc = ch["highpass"] = math.exp(rng.uniform(math.log(50), math.log(300)))
        g *= np.clip((f - 0.5 * fc) / (0.5 * fc), 0, 1) ** 2
    if rng.rand() < 0.5:
        ch["tilt"] = rng.uniform(-2, 2)
        g *= 10 ** (np.clip(ch["tilt"] * np.log2(np.maximum(f, 20.0) / 1000.0), -15, 15) / 20.0)
    return g, ch


def _filter(x, gain):
    return np.fft.irfft(np.fft.rfft(x) * gain, len(x)).astype(np.float32)


def _corpus_piece(src, n, rng, augment):
    """A random n-sample piece of a corpus recording, speed-perturbed with augment."""
    f = _speed_factor(rng, augment)
    return _resample(_crop(src, _need(n, f), rng), n, f)


def background_noise(pool, n, rng, group, p_real_noise=0.5, augment=False):
    """A recorded background of the pool (p_real_noise, when it has any; always when it
    offers no synthetic kind), else synth_noise."""
    if pool.noise and (rng.rand() < p_real_noise or not pool.synth_kinds):
        return _corpus_piece(pool.noise[rng.randint(len(pool.noise))], n, rng, augment), "recorded"
    return synth_noise(n, rng, pool, group)


def _voice(pool, n, rng, augment):
    """The foreground voice; with augment speed-perturbed and (p 0.5) in a simulated room."""
    f = _speed_factor(rng, augment)
    speech, group = speech_piece(pool, _need(n, f), rng)
    speech = _resample(speech, n, f)
    if augment and rng.rand() < 0.5:
        speech = sps.fftconvolve(speech, reverb_ir(rng))[:n].astype(np.float32)
    return speech, group


# ------------------------------------------------------------------ a mixture


def _sources(pool, n, rng, label, augment, p_real_noise):
    """The parts of one mixture -> (label, parts {name: signal}, descr, speech, its speaker)."""
    speech, group = _voice(pool, n, rng, augment)
    parts, descr = {}, []
    if label == 2 and not pool.has_noise:     # a pool of music beds alone: music instead
        label = 1
    if label == 0 or rng.rand() < 0.7:        # a voice is usually there when the target is not
        parts["speech"] = speech
    if label == 1 or (pool.music and (rng.rand() < 0.35 or not pool.has_noise)):
        if pool.music:
            parts["music"] = _corpus_piece(pool.music[rng.randint(len(pool.music))], n, rng, augment)
    if pool.has_noise and (label == 2 or rng.rand() < 0.6 or len(parts) < 2):
        parts["noise"], kind = background_noise(pool, n, rng, group, p_real_noise, augment)
        descr.append(kind)
    if label == 1 and "music" not in parts:      # no music in this pool: noise instead
        label = 2
        if "noise" not in parts:
            parts["noise"], kind = background_noise(pool, n, rng, group, p_real_noise, augment)
            descr.append(kind)
    return label, parts, descr, speech, group


def make_mixture(pool, n, rng, label=None, snr_db=None, level_db=None, p_reverb=0.0,
                 p_clean=0.0, p_silent=0.0, label_probs=(0.6, 0.2, 0.2), level_range=None,
                 augment=False, p_real_noise=0.5):
    """One labelled mixture of n samples (augment: see the module docstring; level_range
    defaults to -55..-12 dBFS, with augment to AUG_LEVELS).

    Returns dict: mix, target (the labelled source as it sits in the mixture), label
    (index into LABELS), snr_db (target vs rest; inf for a clean target), level_db
    (mixture RMS dBFS), background (description), channel (channel_gain's, with augment),
    voice (the speaker of the mixture's voice: the target's for speech, else the voice
    drawn, which may be left out of the mixture)."""
    if level_range is None:
        level_range = AUG_LEVELS if augment else (-55, -12)
    if label is None:
        label = int(rng.choice(3, p=np.asarray(label_probs) / np.sum(label_probs)))
    if rng.rand() < p_silent:
        z = np.zeros(n, dtype=np.float32)
        return dict(mix=z, target=z.copy(), label=label, snr_db=float("inf"),
                    level_db=-float("inf"), background="silence", voice="")
    label, parts, descr, speech, voice = _sources(pool, n, rng, label, augment, p_real_noise)
    target = parts.pop(LABELS[label])
    if LABELS[label] == "noise":
        descr.pop(0)
    if not parts:                                  # never a mixture of the target alone
        parts["speech"] = speech
    # the rest: each part at a random relative level, summed
    rest = np.zeros(n, dtype=np.float32)
    for k, y in parts.items():
        rest += y / rms(y) * 10 ** (rng.uniform(-6, 0) / 20.0)
        if k != "noise":
            descr.append(k)
    clean = rng.rand() < p_clean or rms(rest) < 1e-9
    if snr_db is None:
        snr_db = rng.uniform(-5, 20)
    t_rms = rms(target)
    if t_rms < 1e-7:                               # an empty target (a pause): keep the rest
        target_s = np.zeros(n, dtype=np.float32)
        rest_s = rest / rms(rest)
    else:
        target_s = target / t_rms
        rest_s = np.zeros(n, np.float32) if clean else rest / rms(rest) * 10 ** (-snr_db / 20.0)
    if clean:
        snr_db = float("inf")
        descr = ["clean"]
    if p_reverb > 0 and rng.rand() < p_reverb:
        ir = reverb_ir(rng)
        target_s = sps.fftconvolve(target_s, ir)[:n].astype(np.float32)
        rest_s = sps.fftconvolve(rest_s, ir)[:n].astype(np.float32)
        descr.append("reverb")
    channel = None
    if augment:                                    # one channel for target and rest alike
        gain, channel = channel_gain(n, rng)
        target_s, rest_s = _filter(target_s, gain), _filter(rest_s, gain)
    mix = target_s + rest_s
    if level_db is None:
        level_db = rng.uniform(*level_range)
    g = 10 ** (level_db / 20.0) / max(rms(mix), 1e-9)
    peak = float(np.max(np.abs(mix))) * g
    if peak > 0.98:
        g *= 0.98 / peak
    return dict(mix=(mix * g).astype(np.float32), target=(target_s * g).astype(np.float32),
                label=label, snr_db=float(snr_db), level_db=20 * math.log10(rms(mix * g)),
                background="+".join(descr), channel=channel, voice=voice)


def batch(pool, b, n, rng, p_remove=0.25, **kw):
    """b mixtures of n samples -> (mix [b, n], wanted [b, n], label [b], remove [b]).
    wanted = target for keep, mixture - target for remove."""
    mixes, wants, labels, removes = [], [], [], []
    for _ in range(b):
        m = make_mixture(pool, n, rng, **kw)
        rem = 1 if rng.rand() < p_remove else 0
        mixes.append(m["mix"])
        wants.append(m["mix"] - m["target"] if rem else m["target"])
        labels.append(m["label"])
        removes.append(rem)
    return (np.stack(mixes), np.stack(wants), np.asarray(labels, np.int64),
            np.asarray(removes, np.int64))


# ------------------------------------------------------------------ eval sets


def write_set(pool, out, count, seconds, seed, snrs=(-5, 0, 5, 10), labels=LABELS,
              level_range=(-40, -18), p_reverb=0.0, augment=False, reverberant=0):
    """count mixtures per (label, SNR) + count clean speech clips + `reverberant` clean
    clips in a simulated room (the reference: the reverberant voice, which keep should
    pass); WAVs + index.csv."""
    os.makedirs(out, exist_ok=True)
    rng = np.random.RandomState(seed)
    n = int(seconds * SR)
    rows = []
    for label in labels:
        li = LABELS.index(label)
        for snr in snrs:
            for i in range(count):
                m = make_mixture(pool, n, rng, label=li, snr_db=snr,
                                 level_db=rng.uniform(*level_range), p_reverb=p_reverb,
                                 augment=augment)
                name = "%s_snr%+d_%02d" % (label, snr, i)
                write_wav(os.path.join(out, name + "_mix.wav"), m["mix"])
                write_wav(os.path.join(out, name + "_ref.wav"), m["target"])
                rows.append(dict(name=name, label=LABELS[m["label"]],
                                 snr_db=snr, level_db="%.1f" % m["level_db"],
                                 background=m["background"], voice=m["voice"]))
    # clean speech, then a reverberant voice (its reference: itself, which keep should pass)
    for kind, k in (("clean", count), ("reverb", reverberant)):
        for i in range(k):
            s, voice = speech_piece(pool, n, rng)
            if kind == "reverb":
                s = sps.fftconvolve(s, reverb_ir(rng))[:n].astype(np.float32)
            s = s / rms(s) * 10 ** (rng.uniform(*level_range) / 20.0)
            name = "%s_%02d" % (kind, i)
            write_wav(os.path.join(out, name + "_mix.wav"), s)
            write_wav(os.path.join(out, name + "_ref.wav"), s)
            rows.append(dict(name=name, label="speech", snr_db="inf",
                             level_db="%.1f" % (20 * math.log10(rms(s))),
                             background="clean" if kind == "clean" else "clean+reverb", voice=voice))
    with open(os.path.join(out, "index.csv"), "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=["name", "label", "snr_db", "level_db", "background", "voice"])
        w.writeheader()
        w.writerows(rows)
    return rows


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    ap.add_argument("--corpus", default=os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                                      "data", "corpus"))
    ap.add_argument("--split", default="test", choices=["train", "valid", "test"])
    ap.add_argument("--out", required=True)
    ap.add_argument("--count", type=int, default=8, help="mixtures per (label, SNR)")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--seed", type=int, default=6)
    ap.add_argument("--labels", default=",".join(LABELS))
    ap.add_argument("--max-speech-files", type=int, default=400)
    a = ap.parse_args()
    pool = Pool(a.corpus, a.split, max_speech_files=a.max_speech_files, seed=a.seed)
    rows = write_set(pool, a.out, a.count, a.seconds, a.seed, labels=a.labels.split(","))
    print("wrote %d items to %s (pool: %.1f min speech, %.1f min music, groups %s)"
          % (len(rows), a.out, pool.speech_seconds / 60, pool.music_seconds / 60, pool.groups))


if __name__ == "__main__":
    main()
