#!/usr/bin/env python3
"""Listening material: a held-out voice orbiting the head once in each room, rendered
by the C `earflow render` with a binaural model, beside the simulator's render of the
same orbit in the room label's design shoebox (what the simulated truth of a room of
that label sounds like). Small Ogg Vorbis files for docs/.

The voice: the loudest --seconds of the first sequence of --split (held-out talkers);
the orbit: azimuth 0 -> 360 degrees (front, left, back, right, front) at elevation 0,
--distance m away, head still; the simulator's listener at the room's centre."""

import argparse
import os
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)

import evaluate_binaural as eb  # noqa: E402
from earflow_train import audio, binsim, layout  # noqa: E402
from earflow_train.evaluation import render  # noqa: E402

SR = 48000


def loudest(mono, n):
    """The n-sample window of mono with the most energy (0.1-s hops)."""
    hop = SR // 10
    e = np.convolve(mono.astype(np.float64) ** 2, np.ones(hop), "valid")[::hop]
    k = int(np.argmax(np.convolve(e, np.ones(max(1, n // hop)), "valid"))) if len(mono) > n else 0
    return mono[k * hop:k * hop + n]


def orbit_head(n, distance):
    """[n, 3] head-frame positions (x forward, y left, z up): one turn from the front
    through the left."""
    az = 2 * np.pi * np.arange(n) / n
    return np.stack([distance * np.cos(az), distance * np.sin(az), np.zeros(n)], axis=-1)


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--model", required=True)
    ap.add_argument("--data", default=os.path.join(HERE, "data", "binaural2"))
    ap.add_argument("--split", default="validset")
    ap.add_argument("--out", default=os.path.join(ROOT, "docs", "binaural", "orbit"))
    ap.add_argument("--earflow", default=os.path.join(ROOT, "build", "cli", "earflow"))
    ap.add_argument("--seconds", type=float, default=6.0)
    ap.add_argument("--distance", type=float, default=1.5)
    ap.add_argument("--rooms", default=",".join(binsim.ROOMS))
    a = ap.parse_args(argv)
    seq = layout.Sequence(layout.find_sequences(os.path.join(a.data, a.split))[0])
    n = int(a.seconds * SR)
    mono = loudest(eb.read64(os.path.join(seq.folder, "mono.wav")), n).astype(np.float32)
    mono *= 0.25 / max(float(np.max(np.abs(mono))), 1e-9)
    os.makedirs(a.out, exist_ok=True)
    rel = orbit_head(len(mono), a.distance)
    with tempfile.TemporaryDirectory() as tmp:
        src = os.path.join(tmp, "voice.wav")
        audio.write_wav(src, mono[None])
        traj = os.path.join(tmp, "orbit.traj")
        az, el, dist = binsim.sph(rel[::layout.SAMPLES_PER_ROW])
        with open(traj, "w") as f:
            f.write("# seconds azimuth elevation distance: one turn through the left\n")
            for i, (p, e, d) in enumerate(zip(np.degrees(np.unwrap(np.radians(az))), el, dist)):
                f.write("%.6f %.4f %.4f %.4f\n" % (i * layout.SAMPLES_PER_ROW / SR, p, e, d))
        for room in a.rooms.split(","):
            y = render(a.earflow, a.model, src, os.path.join(tmp, room + ".wav"), None,
                       ["--trajectory", traj, "--room", room])
            audio.write_ogg(os.path.join(a.out, "%s_earflow.ogg" % room), y)
            nom = binsim.nominal_room(room)
            if nom is None:
                scene = binsim.Scene("anechoic", src=rel, listener=(0.0, 0.0, 0.0))
                y, _ = eb.simulator().direct(mono, scene)
            else:
                dims, lis, rt = nom
                scene = binsim.Scene(room, tuple(dims), rt, lis, binsim.inside(lis, rel, dims))
                y, _ = eb.simulator().render(mono, scene, np.random.default_rng(7))
            audio.write_ogg(os.path.join(a.out, "%s_simulator.ogg" % room), y)
            print("orbit_renders: %s" % room, flush=True)
    print("orbit_renders: %s (voice from %s)" % (a.out, os.path.relpath(seq.folder, ROOT)))


if __name__ == "__main__":
    main()
