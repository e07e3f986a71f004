"""WAV files in and out (scipy.io.wavfile), 48 kHz: the one reader and writer of
train/. Integer PCM is scaled to [-1, 1); writes go to a temporary name first. Also
the listening material's small Ogg Vorbis files (through ffmpeg)."""

import os
import subprocess
import tempfile
import warnings

import numpy as np
from scipy.io import wavfile

SR = 48000
# libsndfile's float WAVs (earflow render's) carry a PEAK chunk scipy does not read
warnings.filterwarnings("ignore", message="Chunk \\(non-data\\) not understood")


def scale(a):
    """The factor that maps a WAV array's integer samples to [-1, 1)."""
    if a.dtype == np.int16:
        return 1.0 / 32768
    if a.dtype == np.int32:
        return 1.0 / 2147483648
    return 1.0


def read_raw(path, mmap=False):
    """The file's own array ([n] or [n, C], its dtype), checked to be 48 kHz."""
    sr, a = wavfile.read(path, mmap=mmap)
    if sr != SR:
        raise ValueError("%s: %d Hz, need %d" % (path, sr, SR))
    return a


def read_wav(path, mono=False, dtype=np.float32):
    """Float samples: [n] for a mono file (or with mono=True: the channels' mean),
    else channels first, [C, n]."""
    a = read_raw(path)
    x = a.astype(dtype) * dtype(scale(a))
    if x.ndim == 1:
        return x
    return x.mean(axis=1) if mono else np.ascontiguousarray(x.T)


def pcm16(x):
    return np.clip(np.round(np.asarray(x, dtype=np.float64) * 32767), -32768, 32767).astype(np.int16)


def write_wav(path, x, pcm=False):
    """x [n] or [C, n] floats -> a float (or, pcm=True, 16-bit) WAV, atomically."""
    x = np.asarray(x)
    data = pcm16(x) if pcm else x.astype(np.float32)
    tmp = path + ".tmp"
    wavfile.write(tmp, SR, data.T if data.ndim == 2 else data)
    os.replace(tmp, path)


def write_ogg(path, x):
    """x ([n] mono or [C, n]) as Ogg Vorbis at quality 3 (about 80 kbit/s): docs/'s
    listening material, small enough to commit."""
    with tempfile.TemporaryDirectory() as tmp:
        wav = os.path.join(tmp, "in.wav")
        write_wav(wav, np.asarray(x, np.float32))
        subprocess.run(["ffmpeg", "-nostdin", "-loglevel", "error", "-y", "-i", wav, "-c:a", "libvorbis",
                        "-q:a", "3", path], check=True)
