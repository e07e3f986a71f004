"""tests/integration/baselines/speex_denoise (the Speex DSP baseline of train/evaluate_separate.py):
  - its output is aligned with its input (the cross-correlation peaks at lag 0: the
    preprocessor's one-frame lag is taken out) and as long;
  - it denoises: a voice + pink noise at 0 dB SNR (seeded) gains SI-SDR at 30 dB of
    suppression, and more than at 6 dB (the setting acts);
  - bad arguments give exit 2, a missing file exit 1.
usage: speex_denoise_test.py SPEEX_DENOISE SOURCE_ROOT
"""
import os
import subprocess
import sys
import tempfile

import numpy as np
import scipy.io.wavfile as wf

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from separate_model_test import read, si_sdr  # noqa: E402


def main():
    tool, root = sys.argv[1], sys.argv[2]
    tmp = tempfile.mkdtemp(prefix="speex_test_")
    fails = []
    voice = read(os.path.join(root, "examples", "voice.wav"))
    voice = voice.mean(axis=1) if voice.ndim > 1 else voice
    rng = np.random.RandomState(6)
    W = np.fft.rfft(rng.randn(len(voice)))
    f = np.arange(len(W), dtype=np.float64)
    f[0] = 1
    noise = np.fft.irfft(W / np.sqrt(f), len(voice))
    noise *= np.sqrt(np.mean(voice ** 2) / np.mean(noise ** 2))
    mix = (voice + noise) * 0.3
    src = os.path.join(tmp, "mix.wav")
    wf.write(src, 48000, mix.astype(np.float32))
    gains = {}
    for db in ("6", "30"):
        out = os.path.join(tmp, "out%s.wav" % db)
        subprocess.run([tool, "--suppress", db, src, out], check=True)
        y = read(out)
        n = len(y)
        r = np.fft.irfft(np.fft.rfft(y, 2 * n) * np.conj(np.fft.rfft(mix, 2 * n)))
        lag = int(np.argmax(r))
        lag = lag if lag < n else lag - 2 * n
        gains[db] = si_sdr(y, voice) - si_sdr(mix, voice)
        print("--suppress %s: %d samples (input %d), lag %d, SI-SDRi %+.2f dB"
              % (db, n, len(mix), lag, gains[db]))
        if n != len(mix) or lag != 0:
            fails.append("--suppress %s: length %d, lag %d" % (db, n, lag))
    if not gains["30"] > max(gains["6"], 0.0):
        fails.append("no denoising: SI-SDRi %+.2f at 30 dB, %+.2f at 6 dB" % (gains["30"], gains["6"]))
    for args, code in ((["--suppress", "0", src, "o.wav"], 2), (["--suppress", "x", src, "o.wav"], 2),
                       ([src], 2), (["--suppress", "15", os.path.join(tmp, "none.wav"), "o.wav"], 1)):
        rc = subprocess.run([tool] + args, capture_output=True).returncode
        print("%s: exit %d" % (" ".join(args[:2]), rc))
        if rc != code:
            fails.append("%s: exit %d, expected %d" % (args, rc, code))
    for f_ in fails:
        print("FAIL - " + f_)
    print("ok" if not fails else "%d failures" % len(fails))
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
