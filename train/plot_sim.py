#!/usr/bin/python3
"""Plots of the binaural simulator, for a person to check at a glance:

    /usr/bin/python3 train/plot_sim.py --out docs/simulator

itd_ild.png      ITD and ILD against azimuth (horizontal plane): simulator vs KEMAR
edc.png          energy decay curves of the rooms (1 kHz octave), design RT60 slopes
trajectory.png   spectrogram of both ears for a source orbiting the head, + azimuth
"""

import argparse
import math
import os
import sys

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import matplotlib  # noqa: E402

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
from scipy import signal  # noqa: E402

from earflow_train import binsim  # noqa: E402
from earflow_train import corpus  # noqa: E402
from earflow_train.acoustics import edc_db, ild_db, itd_gcc_phat, octave_sos, rt60  # noqa: E402
from earflow_train.binsim import SR, Scene  # noqa: E402
from earflow_train.hrtf import ITD_FMAX, Hrtf  # noqa: E402


def at(az, el=0.0, r=2.0, c=(0.0, 0.0, 0.0)):
    a, e = math.radians(az), math.radians(el)
    return np.array(c) + r * np.array([math.cos(e) * math.cos(a), math.cos(e) * math.sin(a), math.sin(e)])


def ir_at(sim, az):
    x = np.zeros(4096, np.float32)
    x[64] = 1
    return sim.render(x, Scene("anechoic", src=at(az)))[0].astype(np.float64)


def plot_itd_ild(sim, h, path):
    az_s = np.arange(-180, 181, 1.0)
    az_m = np.arange(-180, 181, 5.0)
    bands = (500, 2000, 8000)
    sim_itd, sim_ild = [], {b: [] for b in bands}
    for a in az_s:
        y = ir_at(sim, a)
        sim_itd.append(itd_gcc_phat(y[0], y[1], fmax=ITD_FMAX) * 1e6)
        for b in bands:
            sim_ild[b].append(ild_db(y[0], y[1], b))
    m_itd, m_ild = [], {b: [] for b in bands}
    for a in az_m:
        i = h.measured_index(a % 360, 0)
        m_itd.append(itd_gcc_phat(h.raw48[i, 0], h.raw48[i, 1], fmax=ITD_FMAX) * 1e6)
        for b in bands:
            m_ild[b].append(ild_db(h.raw48[i, 0], h.raw48[i, 1], b))
    fig, ax = plt.subplots(1, 2, figsize=(12, 4.5))
    ax[0].plot(az_s, sim_itd, "-", label="simulator (every 1 deg)")
    ax[0].plot(az_m, m_itd, "o", ms=3, label="KEMAR measured (every 5 deg)")
    ax[0].set(xlabel="azimuth (deg, +90 = left)", ylabel="ITD (us, + = left ear leads)",
              title="ITD, GCC-PHAT below %.0f Hz, elevation 0" % ITD_FMAX)
    for b, c in zip(bands, ("C0", "C1", "C2")):
        ax[1].plot(az_s, sim_ild[b], "-", color=c, label="simulator %g kHz" % (b / 1000))
        ax[1].plot(az_m, m_ild[b], "o", color=c, ms=3, label="KEMAR %g kHz" % (b / 1000))
    ax[1].set(xlabel="azimuth (deg, +90 = left)", ylabel="ILD (dB, + = left louder)",
              title="ILD per octave band, elevation 0")
    for a in ax:
        a.grid(alpha=0.3)
        a.legend(fontsize=8)
        a.set_xticks(range(-180, 181, 45))
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_edc(sim, path):
    fig, ax = plt.subplots(figsize=(8, 4.5))
    for room, c in zip(binsim.ROOMS[1:], ("C0", "C1", "C2")):
        d = binsim.ROOM_DESIGN[room]
        dims = np.array(d["dims"])
        n = int(SR * d["rt60"] * 1.6) + SR // 10
        ir = sim.brir(Scene(room, listener=dims * [0.37, 0.45, 0.5], src=dims * [0.7, 0.6, 0.45]), n,
                      np.random.default_rng(1))
        b = signal.sosfiltfilt(octave_sos(1000), ir[0])
        e = edc_db(b)
        t = np.arange(len(e)) / SR
        m = 0.5 * (rt60(ir, 500) + rt60(ir, 1000))
        ax.plot(t, e, color=c, label="%s: design %.2f s, measured %.2f s" % (room, d["rt60"], m))
        ax.plot(t, -60 * t / d["rt60"], "--", color=c, lw=0.8)
    ax.set(xlabel="time (s)", ylabel="energy decay (dB)", ylim=(-70, 2), xlim=(0, 2.2),
           title="Energy decay curves, left ear, 1 kHz octave (dashed: design RT60 slope)")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=90)
    plt.close(fig)


def plot_trajectory(sim, path):
    T = 6 * SR
    t = np.arange(T) / SR
    rng = np.random.default_rng(2)
    x = (0.05 * rng.standard_normal(T)).astype(np.float32)
    lst = np.array([2.0, 1.6, 1.4])
    az = 60 * t      # one full turn in 6 s, counter-clockwise (front -> left -> back -> right)
    src = lst + np.stack([1.5 * np.cos(np.radians(az)), 1.5 * np.sin(np.radians(az)), 0 * t], -1)
    y, _ = sim.render(x, Scene("anechoic", listener=lst, src=src), rng)
    fig, ax = plt.subplots(4, 1, figsize=(10, 9), sharex=True, gridspec_kw=dict(height_ratios=[1, 1, 2, 2]))
    ax[0].plot(t, ((az + 180) % 360) - 180, ".", ms=1)
    ax[0].set(ylabel="azimuth (deg)", title="White noise orbiting the head at 1.5 m (anechoic), one turn in 6 s",
              yticks=[-180, -90, 0, 90, 180])
    ax[0].grid(alpha=0.3)
    fr = y.reshape(2, -1, 2400).astype(np.float64)
    ild = 10 * np.log10(np.sum(fr[0] ** 2, -1) / np.sum(fr[1] ** 2, -1))
    ax[1].plot((np.arange(len(ild)) + 0.5) * 0.05, ild)
    ax[1].set(ylabel="ILD (dB)\n+ = left")
    ax[1].grid(alpha=0.3)
    for e, name in ((0, "left ear"), (1, "right ear")):
        f, tt, S = signal.spectrogram(y[e], SR, nperseg=1024, noverlap=768)
        im = ax[2 + e].pcolormesh(tt, f / 1000, 10 * np.log10(S + 1e-14), shading="auto", cmap="magma",
                                  vmin=-110, vmax=-60)
        ax[2 + e].set(ylabel="%s\nkHz" % name)
    ax[3].set_xlabel("time (s)")
    fig.colorbar(im, ax=ax[2:], label="dB")
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default="docs/simulator")
    a = ap.parse_args()
    os.makedirs(a.out, exist_ok=True)
    h = Hrtf(corpus.sofa_path())
    sim = binsim.Simulator(h)
    plot_itd_ild(sim, h, os.path.join(a.out, "itd_ild.png"))
    plot_edc(sim, os.path.join(a.out, "edc.png"))
    plot_trajectory(sim, os.path.join(a.out, "trajectory.png"))
    print("plots in", a.out)


if __name__ == "__main__":
    main()
