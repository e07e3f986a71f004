#!/usr/bin/python3
"""Writes the fuzzers' seed corpus (tests/fuzz/corpus/<target>/), committed as made
here; rerun to regenerate it (needs sox). Small on purpose (< 1 MB in all): the fuzzers
mutate these, so tiny valid files cover most of the code fastest.

usage: /usr/bin/python3 tests/fuzz/make_corpus.py [--golden tests/golden]
"""
import argparse
import json
import math
import os
import struct
import subprocess
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))


def write(path, data):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, "wb") as f:
        f.write(data)


# ---------------------------------------------------------------- models

def safetensors(tensors, config):
    """tensors: list of (name, shape); values are a fixed ramp (finite, small)."""
    header, blobs, offset = {}, [], 0
    for i, (name, shape) in enumerate(tensors):
        count = math.prod(shape)
        data = struct.pack("<%df" % count, *[((i * 7 + j) % 13 - 6) / 20.0 for j in range(count)])
        header[name] = {"dtype": "F32", "shape": list(shape), "data_offsets": [offset, offset + len(data)]}
        blobs.append(data)
        offset += len(data)
    header["__metadata__"] = {"earflow": json.dumps(config)}
    text = json.dumps(header, separators=(",", ":")).encode()
    text += b" " * (-len(text) % 8)
    return struct.pack("<Q", len(text)) + text + b"".join(blobs)


def unet_tensors(widths, kt, emb, fourier, cond_dim, c_out, n_bins, n_mid, freq_emb):
    """The tensor list of docs/model-spec.md's U-Net (names and shapes as the loader binds them)."""
    t = [("emb.t_freqs", [fourier]), ("emb.fc1.weight", [emb, 2 * fourier + cond_dim]),
         ("emb.fc1.bias", [emb]), ("emb.fc2.weight", [emb, emb]), ("emb.fc2.bias", [emb]),
         ("in_conv.weight", [widths[0], 2 * (c_out + 1), 1, 3]), ("in_conv.bias", [widths[0]])]
    if freq_emb:
        t.append(("freq_emb", [widths[0], n_bins]))

    def block(prefix, ch):
        return [(prefix + ".norm1.weight", [ch]), (prefix + ".norm1.bias", [ch]),
                (prefix + ".conv1.weight", [ch, ch, kt, 3]), (prefix + ".conv1.bias", [ch]),
                (prefix + ".proj.weight", [ch, emb]), (prefix + ".proj.bias", [ch]),
                (prefix + ".norm2.weight", [ch]), (prefix + ".norm2.bias", [ch]),
                (prefix + ".conv2.weight", [ch, ch, 1, 3]), (prefix + ".conv2.bias", [ch])]
    levels = len(widths) - 1
    for l in range(levels):
        t += block("enc.%d" % l, widths[l]) + block("dec.%d" % l, widths[l])
        t += [("down.%d.weight" % l, [widths[l + 1], widths[l], 1, 3]), ("down.%d.bias" % l, [widths[l + 1]]),
              ("up.%d.weight" % l, [widths[l], widths[l + 1], 1, 3]), ("up.%d.bias" % l, [widths[l]])]
    for i in range(n_mid):
        t += block("mid.%d" % i, widths[levels])
    t += [("out_norm.weight", [widths[0]]), ("out_norm.bias", [widths[0]]),
          ("out_conv.weight", [2 * c_out, widths[0], 1, 3]), ("out_conv.bias", [2 * c_out])]
    return t


def micro_model(kind, n_fft, hop, widths, dil_mid, freq_emb=False, remove=None):
    levels = len(widths) - 1
    cfg = {"format": "earflow-model", "version": 1, "kind": kind, "sample_rate": 48000,
           "n_fft": n_fft, "hop": hop, "window": "sqrt_hann",
           "compress": {"alpha": 0.5, "beta": 0.1},
           "arch": {"widths": widths, "kt": 2, "groups": 1, "emb_dim": 2, "fourier_dim": 1,
                    "dil_enc": [1] * levels, "dil_mid": dil_mid, "dil_dec": [1] * levels,
                    "freq_emb": freq_emb},
           "conditioning": {"smoothing_ms": 5},
           "flow": {"sigma": 0.1, "solver": "midpoint", "steps": 1, "t0": 0.5},
           "provenance": {"data": "none", "notes": "fuzz seed"}}
    if kind == "binaural":
        cfg["conditioning"].update({"rooms": ["a"], "dist_min": 0.5, "dist_max": 4})
        cond_dim, c_out = 5 + 1, 2
    else:
        cfg["conditioning"]["labels"] = ["s", "n"]
        if remove:
            cfg["conditioning"]["remove"] = remove
        cfg["flow"].update({"solver": "euler", "steps": 2, "t0": 0.0})
        cond_dim, c_out = 2 + 1, 1
    return safetensors(unet_tensors(widths, 2, 2, 1, cond_dim, c_out, n_fft // 2, len(dil_mid), freq_emb), cfg)


def models(out, golden):
    d = os.path.join(out, "model")
    write(os.path.join(d, "binaural_micro.safetensors"), micro_model("binaural", 16, 8, [1], [2]))
    write(os.path.join(d, "separate_micro.safetensors"),
          micro_model("separate", 16, 4, [2, 2], [1], freq_emb=True, remove="subtract"))
    write(os.path.join(d, "separate_micro_trained.safetensors"),
          micro_model("separate", 32, 16, [1, 1, 1], [], remove="trained"))
    # Config-only inputs (fuzz_model writes the tensors around them).
    for name in os.listdir(d):
        if name.endswith("_micro.safetensors") or name.endswith("_micro_trained.safetensors"):
            with open(os.path.join(d, name), "rb") as f:
                b = f.read()
            meta = json.loads(b[8:8 + struct.unpack("<Q", b[:8])[0]])["__metadata__"]
            write(os.path.join(d, "config_" + name.replace(".safetensors", ".json")),
                  meta["earflow"].encode())
    for name in ("binaural_tiny", "separate_tiny", "binaural_gain_tiny"):
        with open(os.path.join(golden, name + ".safetensors"), "rb") as f:
            b = f.read()
        write(os.path.join(d, name + ".safetensors"), b)
        hlen = struct.unpack("<Q", b[:8])[0]
        if name == "separate_tiny":  # header only, and cut inside the header
            write(os.path.join(d, name + "_no_data.safetensors"), b[:8 + hlen])
            write(os.path.join(d, name + "_cut_header.safetensors"), b[:8 + hlen // 2])
        meta = json.loads(b[8:8 + hlen])["__metadata__"]
        write(os.path.join(d, "config_" + name + ".json"), meta["earflow"].encode())


# ---------------------------------------------------------------- trajectories

TRAJECTORIES = {
    "simple.txt": "0 0 0 1\n1 90 0 1\n2 180 0 2\n",
    "comments.txt": "# seconds azimuth elevation distance\n\n0 -30 10 1.5  # start\r\n"
                    "\t0.5 30 -10 2\r\n# a pause\n1.25 60 45 0.3\n",
    "one_row.txt": "0.0 45 0 1",
    "numbers.txt": "0 0x1p4 -9e1 1e-3\n1e-300 -720 90 1e3\n3.5 360.0 +0.0 .5\n",
    "orbit.txt": "".join("%g %g %g %g\n" % (i * 0.05, i * 9 - 180, 10 * math.sin(i / 5), 1 + i / 40)
                          for i in range(41)),
    "bad_order.txt": "0 0 0 1\n1 0 0 1\n1 0 0 1\n",
    "bad_fields.txt": "0 0 0\n",
    "bad_range.txt": "0 0 91 1\n",
    "long_lines.txt": "# " + "c" * 600 + "\n0 0 0 1 # " + "d" * 600 + "\n1 0 0 1" + " " * 600 + "7\n",
}


def trajectories(out):
    for name, text in TRAJECTORIES.items():
        write(os.path.join(out, "trajectory", name), text.encode())


# ---------------------------------------------------------------- audio

def float_wav(rate, channels, samples):
    """A WAVE_FORMAT_IEEE_FLOAT file (sox cannot write NaN or huge values)."""
    data = struct.pack("<%df" % len(samples), *samples)
    fmt = struct.pack("<HHIIHH", 3, channels, rate, rate * channels * 4, channels * 4, 32)
    body = b"WAVE" + b"fmt " + struct.pack("<I", len(fmt)) + fmt + b"data" + struct.pack("<I", len(data)) + data
    return b"RIFF" + struct.pack("<I", len(body)) + body


# name: (sox output options, rate, channels, seconds)
SOX = {
    "u8_mono_8k.wav": (["-e", "unsigned-integer", "-b", "8"], 8000, 1, 0.05),
    "s16_stereo_44k.wav": (["-b", "16"], 44100, 2, 0.03),
    "s24_stereo_48k.wav": (["-b", "24"], 48000, 2, 0.02),
    "s32_mono_22k.wav": (["-b", "32"], 22050, 1, 0.03),
    "f32_6ch_48k.wav": (["-e", "floating-point", "-b", "32"], 48000, 6, 0.015),
    "f64_mono_16k.wav": (["-e", "floating-point", "-b", "64"], 16000, 1, 0.02),
    "s16_stereo_192k.wav": (["-b", "16"], 192000, 2, 0.01),
    "s16_8ch_96k.wav": (["-b", "16"], 96000, 8, 0.004),
    "ulaw_mono_8k.wav": (["-e", "u-law"], 8000, 1, 0.05),
    "ima_adpcm_mono_16k.wav": (["-e", "ima-adpcm"], 16000, 1, 0.05),
    "s16_stereo_48k.aiff": (["-b", "16"], 48000, 2, 0.01),
    "s24_mono_88k.flac": (["-b", "24"], 88200, 1, 0.02),
    "s16_stereo_32k.au": (["-b", "16"], 32000, 2, 0.01),
    "s8_mono_11k.aiff": (["-b", "8"], 11025, 1, 0.03),
    "vorbis_mono_48k.ogg": (["-C", "0"], 48000, 1, 0.05),
    "s16_mono_4k_rate_refused.wav": (["-b", "16"], 4000, 1, 0.02),
}


def audio(out):
    d = os.path.join(out, "audio")
    os.makedirs(d, exist_ok=True)
    with tempfile.TemporaryDirectory() as tmp:
        for name, (opts, rate, ch, sec) in SOX.items():
            synth = []
            for c in range(ch):
                synth += ["sine", str(220 * (c + 1))]
            subprocess.run(["sox", "-n", "-r", str(rate), "-c", str(ch)] + opts +
                           [os.path.join(tmp, name), "synth", str(sec)] + synth + ["vol", "0.5"],
                           check=True, stderr=subprocess.DEVNULL)
            with open(os.path.join(tmp, name), "rb") as f:
                write(os.path.join(d, name), f.read())
    wild = [0.5, float("nan"), float("inf"), -float("inf"), 3e38, -3e38, 1e-40, 0.0] * 64
    write(os.path.join(d, "f32_nonfinite_48k.wav"), float_wav(48000, 2, wild))
    write(os.path.join(d, "f32_huge_44k.wav"), float_wav(44100, 1, [3.4e38, -3.4e38] * 300))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--golden", default=os.path.join(HERE, "..", "golden"))
    ap.add_argument("--out", default=os.path.join(HERE, "corpus"))
    a = ap.parse_args()
    models(a.out, a.golden)
    trajectories(a.out)
    audio(a.out)


if __name__ == "__main__":
    main()
