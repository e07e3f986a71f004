#!/usr/bin/python3
"""Build the earflow training corpus from Debian packages (issue #4).

    /usr/bin/python3 train/corpus.py                      # everything, default folders
    /usr/bin/python3 train/corpus.py --offline --packages alsa-utils --max-files 5 --out /tmp/c

Steps, each idempotent (a second run reuses what is there):
  1. fetch: `apt-get download PKG` into CACHE/debs (skipped for .debs already there;
     --offline never fetches and fails clearly on a missing one);
  2. unpack: `dpkg -x` into CACHE/x/PKG (no system install);
  3. decode every sound file with ffmpeg (G.722 prompts with `-f g722`) to 48 kHz mono
     (soxr resampler), trim leading/trailing silence, normalize loudness
     (ITU-R BS.1770 integrated loudness with gating) to -23 LUFS, peaks kept below
     -1 dBFS, and write OUT/audio/KIND/PKG/NAME.wav (16-bit PCM);
  4. split by speaker (speech) and by track (music) into train / valid / test with a
     fixed rule (SPLIT RULE below), so that no valid or test speaker or track is ever
     heard in training;
  5. write OUT/manifest.csv (every file: source package, version, licence, group =
     speaker or track, split, seconds), OUT/summary.json, OUT/README.md (attributions,
     split rule, minutes by kind and split) and OUT/licenses/PKG.copyright.

SPLIT RULE
  speech, grouped by speaker:
    Asterisk prompts: one group per voice talent (the folder name's last part):
      en_US_f_Allison and es_MX_f_Allison are the same speaker (Allison Smith) -> train;
      fr_CA_f_June (June Wallack) -> test.
    klettres: one group per language, with regional variants merged (en + en_GB):
      we cannot tell speakers apart inside a language, and assume different languages
      have different speakers. valid: de, hu, it, nl, ru, uk; test: en, he, lt; the
      rest train.
    fillets-ng-data-cs: one group (the actors behind the characters are not credited
      per line, so characters cannot be proven to be different people) -> train.
    alsa-utils: one speaker (also examples/voice.wav, the README's demo) -> test.
  music, grouped by track (a variant joins the track it varies: frantic-old ->
    frantic, victory2 -> victory when both exist): groups in the order of
    sha1("PKG:STEM") go to test until test holds 10 % of the music minutes, then to
    valid until it holds 10 %, the rest to train.
"""

import argparse
import csv
import glob
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import time

import numpy as np
from scipy import signal
from scipy.io import wavfile

SR = 48000
TARGET_LUFS = -23.0
PEAK_MAX = 10 ** (-1.0 / 20)  # -1 dBFS
MIN_ACTIVE_S = 0.25
HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_CACHE = os.path.join(HERE, "cache")
DEFAULT_OUT = os.path.join(HERE, "data", "corpus")
SPLITS = ("train", "valid", "test")
KEMAR_SOFA = "usr/share/libmysofa/MIT_KEMAR_normal_pinna.sofa"

KLETTRES_VALID = ("de", "hu", "it", "nl", "ru", "uk")
KLETTRES_TEST = ("en", "he", "lt")


def _asterisk_speaker(rel):
    m = re.search(r"sounds/([^/]+)/", rel)
    talent = m.group(1).split("_")[-1] if m else "unknown"
    return "asterisk:" + talent


def _klettres_lang(rel):
    m = re.search(r"share/klettres/([^/]+)/", rel)
    return "klettres:" + (m.group(1).split("_")[0] if m else "unknown")


def _track(pkg):
    """Group of a music file: its stem, or the stem it is a variant of (-old or a
    trailing digit) when that file exists too (stems: every stem of the package)."""
    def f(rel, stems=None):
        stem = os.path.splitext(os.path.basename(rel))[0].lower()
        base = re.sub(r"(-old|\d)$", "", stem)
        if base != stem and (stems is None or base in stems):
            stem = base
        return pkg + ":" + stem
    return f


# Package table: what each Debian package gives, its licence (summary; the full
# copyright file is copied beside the corpus) and how its files are grouped.
PACKAGES = {
    "libmysofa1": dict(
        kind="hrtf", files=[KEMAR_SOFA], licence="MIT KEMAR data: free to use if the authors are cited",
        credit="MIT KEMAR HRTF measurements, Bill Gardner and Keith Martin, MIT Media Lab "
               "Machine Listening Group, 1994 (SOFA file from libmysofa, Christian Hoene / Symonics)"),
    "asterisk-core-sounds-en-g722": dict(
        kind="speech", files=["usr/share/asterisk/sounds/**/*.g722"], group=_asterisk_speaker,
        licence="CC-BY-SA-3.0", credit="Asterisk core sound prompts (English), voice of Allison Smith, Digium"),
    "asterisk-core-sounds-es-g722": dict(
        kind="speech", files=["usr/share/asterisk/sounds/**/*.g722"], group=_asterisk_speaker,
        licence="CC-BY-SA-3.0", credit="Asterisk core sound prompts (Spanish), voice of Allison Smith, Digium"),
    "asterisk-core-sounds-fr-g722": dict(
        kind="speech", files=["usr/share/asterisk/sounds/**/*.g722"], group=_asterisk_speaker,
        licence="CC-BY-SA-3.0", credit="Asterisk core sound prompts (French, Canada), voice of June Wallack"),
    "klettres-data": dict(
        kind="speech", files=["usr/share/klettres/*/*/*.ogg"], group=_klettres_lang,
        licence="GPL-2+", credit="KLettres sounds, Anne-Marie Mahfouf and the KDE contributors"),
    "fillets-ng-data-cs": dict(
        kind="speech", files=["usr/share/games/fillets-ng/sound/*/cs/*.ogg"], group=lambda rel: "fillets-cs:actors",
        licence="GPL-2+", credit="Fish Fillets NG Czech dialogue, ALTAR interactive"),
    "alsa-utils": dict(
        kind="speech", files=["usr/share/sounds/alsa/[FRS]*.wav"], group=lambda rel: "alsa:speaker",
        licence="GPL-2", credit="ALSA speaker-test voice samples (alsa-utils)"),
    "wesnoth-1.16-music": dict(
        kind="music", files=["usr/share/games/wesnoth/1.16/data/core/music/*.ogg"],
        group=_track("wesnoth"), licence="GPL-2+", credit="Battle for Wesnoth music, the Wesnoth composers"),
    "fillets-ng-data": dict(
        kind="music", files=["usr/share/games/fillets-ng/music/*.ogg"], group=_track("fillets"),
        licence="GPL-2+", credit="Fish Fillets NG music, ALTAR interactive"),
    "asterisk-moh-opsound-wav": dict(
        kind="music", files=["usr/share/asterisk/moh/*.wav"], group=_track("moh"),
        licence="CC-BY-SA-3.0", credit="opsound music on hold: Paul Shuler (Macroform), Manolo Camp, Reno Project"),
}
ALL_PACKAGES = list(PACKAGES)


def split_music(minutes):
    """Music groups -> split: {group: minutes} -> {group: split} (module docstring)."""
    total = sum(minutes.values())
    order = sorted(minutes, key=lambda g: hashlib.sha1(g.encode()).hexdigest())
    out, acc = {}, {"test": 0.0, "valid": 0.0}
    for g in order:
        if acc["test"] < 0.10 * total:
            out[g] = "test"
        elif acc["valid"] < 0.10 * total:
            out[g] = "valid"
        else:
            out[g] = "train"
        if out[g] in acc:
            acc[out[g]] += minutes[g]
    return out


def split_of(kind, group):
    """The fixed split rule for speech (module docstring); music: split_music."""
    if kind == "speech":
        if group in ("asterisk:June", "alsa:speaker"):
            return "test"
        if group.startswith("klettres:"):
            lang = group.split(":", 1)[1]
            if lang in KLETTRES_VALID:
                return "valid"
            if lang in KLETTRES_TEST:
                return "test"
        return "train"
    raise ValueError("music splits by split_music")


def log(msg):
    print(msg, flush=True)


# ----------------------------------------------------------------- fetch / unpack


def deb_path(cache, pkg):
    found = sorted(glob.glob(os.path.join(cache, "debs", pkg + "_*.deb")))
    return found[-1] if found else None


def fetch(cache, pkg, offline):
    deb = deb_path(cache, pkg)
    if deb:
        return deb
    if offline:
        raise SystemExit("corpus: %s is not in %s/debs and --offline forbids fetching it" % (pkg, cache))
    os.makedirs(os.path.join(cache, "debs"), exist_ok=True)
    log("  apt-get download %s" % pkg)
    r = subprocess.run(["apt-get", "download", "-q", pkg], cwd=os.path.join(cache, "debs"),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deb = deb_path(cache, pkg)
    if r.returncode != 0 or not deb:
        raise SystemExit("corpus: apt-get download %s failed:\n%s" % (pkg, r.stdout))
    return deb


def unpack(cache, pkg, deb):
    dest = os.path.join(cache, "x", pkg)
    stamp = os.path.join(dest, ".unpacked-" + os.path.basename(deb))
    if not os.path.exists(stamp):
        shutil.rmtree(dest, ignore_errors=True)
        os.makedirs(dest)
        subprocess.run(["dpkg", "-x", deb, dest], check=True)
        open(stamp, "w").close()
    return dest


def deb_version(deb):
    return os.path.basename(deb).split("_")[1].replace("%3a", ":")


def sofa_path(cache=DEFAULT_CACHE):
    """The MIT KEMAR SOFA file: from the unpacked libmysofa1 in the cache, else the system."""
    for p in (os.path.join(cache, "x", "libmysofa1", KEMAR_SOFA), "/" + KEMAR_SOFA):
        if os.path.exists(p):
            return p
    raise FileNotFoundError("MIT_KEMAR_normal_pinna.sofa: run `train/corpus.py --packages libmysofa1` "
                            "(or apt-get install libmysofa1)")


# ----------------------------------------------------------------- signal steps


def decode(path):
    """Any file ffmpeg reads (raw G.722 included) -> float64 mono at 48 kHz."""
    cmd = ["ffmpeg", "-nostdin", "-v", "error"]
    if path.endswith(".g722"):
        cmd += ["-f", "g722"]
    cmd += ["-i", path, "-ac", "1", "-af", "aresample=resampler=soxr:precision=28",
            "-ar", str(SR), "-f", "f32le", "-"]
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise RuntimeError("ffmpeg failed on %s: %s" % (path, r.stderr.decode(errors="replace")[-400:]))
    return np.frombuffer(r.stdout, dtype="<f4").astype(np.float64)


def trim_silence(x, rel_db=40.0, floor_db=-65.0, frame=480, margin_s=0.03):
    """Cut leading/trailing frames quieter than max(peak frame - rel_db, floor_db) dBFS.

    Returns (trimmed signal, active seconds)."""
    n = len(x) // frame
    if n == 0:
        return x[:0], 0.0
    rms = np.sqrt(np.mean(x[: n * frame].reshape(n, frame) ** 2, axis=1) + 1e-20)
    db = 20 * np.log10(rms)
    thr = max(db.max() - rel_db, floor_db)
    act = np.nonzero(db > thr)[0]
    if len(act) == 0:
        return x[:0], 0.0
    m = int(margin_s * SR)
    a = max(act[0] * frame - m, 0)
    b = min((act[-1] + 1) * frame + m, len(x))
    y = x[a:b].copy()
    fade = min(int(0.005 * SR), len(y) // 4)
    if fade > 0:
        ramp = 0.5 - 0.5 * np.cos(np.pi * np.arange(fade) / fade)
        y[:fade] *= ramp
        y[-fade:] *= ramp[::-1]
    return y, len(act) * frame / SR


# ITU-R BS.1770-4 K-weighting at 48 kHz.
_K1 = ([1.53512485958697, -2.69169618940638, 1.19839281085285], [1.0, -1.69065929318241, 0.73248077421585])
_K2 = ([1.0, -2.0, 1.0], [1.0, -1.99004745483398, 0.99007225036621])


def loudness_lufs(x):
    """Integrated loudness (BS.1770-4: K-weighting, 400 ms blocks, 75 % overlap,
    -70 LUFS absolute and -10 LU relative gates). Shorter than one block: ungated."""
    y = signal.lfilter(*_K2, signal.lfilter(*_K1, x))
    blk, hop = int(0.4 * SR), int(0.1 * SR)
    if len(y) < blk:
        ms = np.mean(y ** 2) if len(y) else 0.0
        return -0.691 + 10 * np.log10(ms + 1e-20)
    c = np.concatenate([[0.0], np.cumsum(y ** 2)])
    starts = np.arange(0, len(y) - blk + 1, hop)
    z = (c[starts + blk] - c[starts]) / blk
    l = -0.691 + 10 * np.log10(z + 1e-20)
    z = z[l > -70]
    if len(z) == 0:
        return -120.0
    rel = -0.691 + 10 * np.log10(np.mean(z)) - 10
    z2 = z[-0.691 + 10 * np.log10(z) > rel]
    return -0.691 + 10 * np.log10(np.mean(z2))


def normalize(x):
    """Gain to TARGET_LUFS, reduced if the peak would pass -1 dBFS. Returns (y, lufs_in, gain_db)."""
    l_in = loudness_lufs(x)
    g = 10 ** ((TARGET_LUFS - l_in) / 20)
    peak = np.max(np.abs(x)) if len(x) else 0.0
    if peak * g > PEAK_MAX:
        g = PEAK_MAX / peak
    return x * g, l_in, 20 * np.log10(g)


def write_wav16(path, x):
    tmp = path + ".tmp"
    wavfile.write(tmp, SR, np.clip(np.round(x * 32767), -32768, 32767).astype(np.int16))
    os.replace(tmp, path)


# ----------------------------------------------------------------- build

FIELDS = ["path", "kind", "split", "group", "package", "version", "licence", "source",
          "seconds", "lufs_in", "gain_db"]


def source_files(root, spec):
    out = []
    for pat in spec["files"]:
        out += glob.glob(os.path.join(root, pat), recursive=True)
    return sorted(set(out))


def build(cache, out, packages, offline=False, max_files=0, fetch_only=False):
    t0 = time.time()
    if not fetch_only:
        os.makedirs(out, exist_ok=True)
    man_path = os.path.join(out, "manifest.csv")
    old = {}
    if os.path.exists(man_path):
        with open(man_path, newline="") as f:
            old = {(r["package"], r["source"], r["version"]): r for r in csv.DictReader(f)}
    rows, versions = [], {}
    for pkg in packages:
        if pkg not in PACKAGES:
            raise SystemExit("corpus: unknown package %s (known: %s)" % (pkg, ", ".join(PACKAGES)))
        spec = PACKAGES[pkg]
        tp = time.time()
        deb = fetch(cache, pkg, offline)
        versions[pkg] = deb_version(deb)
        root = unpack(cache, pkg, deb)
        if fetch_only:
            log("%-30s %s: fetched and unpacked" % (pkg, versions[pkg]))
            continue
        lic_dir = os.path.join(out, "licenses")
        os.makedirs(lic_dir, exist_ok=True)
        cp = os.path.join(root, "usr/share/doc", pkg, "copyright")
        if os.path.exists(cp):
            shutil.copyfile(cp, os.path.join(lic_dir, pkg + ".copyright"))
        if spec["kind"] == "hrtf":
            log("%-30s %s: fetched and unpacked" % (pkg, versions[pkg]))
            continue
        files = source_files(root, spec)
        if max_files:
            files = files[:max_files]
        made = reused = dropped = 0
        secs = 0.0
        stems = {os.path.splitext(os.path.basename(f))[0].lower() for f in files}
        for src in files:
            rel = os.path.relpath(src, root)
            group = spec["group"](rel, stems) if spec["kind"] == "music" else spec["group"](rel)
            split = split_of(spec["kind"], group) if spec["kind"] == "speech" else ""
            stem = os.path.splitext(rel)[0]
            stem = re.sub(r"^usr/share/(games/)?", "", stem).replace("/", "__")
            relout = os.path.join("audio", spec["kind"], pkg, stem + ".wav")
            dst = os.path.join(out, relout)
            prev = old.get((pkg, rel, versions[pkg]))
            if prev and os.path.exists(os.path.join(out, prev["path"])):
                if prev["path"] != relout:
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    os.replace(os.path.join(out, prev["path"]), dst)
                rows.append(dict(prev, path=relout, group=group, split=split))
                reused += 1
                secs += float(prev["seconds"])
                continue
            x = decode(src)
            y, active = trim_silence(x)
            if active < MIN_ACTIVE_S:
                dropped += 1
                continue
            y, l_in, g_db = normalize(y)
            os.makedirs(os.path.dirname(dst), exist_ok=True)
            write_wav16(dst, y)
            made += 1
            secs += len(y) / SR
            rows.append(dict(path=relout, kind=spec["kind"], split=split, group=group, package=pkg,
                             version=versions[pkg], licence=spec["licence"], source=rel,
                             seconds="%.3f" % (len(y) / SR), lufs_in="%.2f" % l_in, gain_db="%.2f" % g_db))
        log("%-30s %s: %d files (%d decoded, %d reused, %d silent dropped), %.1f min, %.0f s"
            % (pkg, spec["kind"], made + reused, made, reused, dropped, secs / 60, time.time() - tp))
    if fetch_only:
        log("corpus: fetched and unpacked %s in %.0f s" % (", ".join(packages), time.time() - t0))
        return None
    # Rows of packages not asked for this time stay as they were (if their files do).
    for r in old.values():
        if r["package"] not in packages and os.path.exists(os.path.join(out, r["path"])):
            rows.append(r)
    music = {}
    for r in rows:
        if r["kind"] == "music":
            music[r["group"]] = music.get(r["group"], 0.0) + float(r["seconds"]) / 60
    msplit = split_music(music)
    for r in rows:
        if r["kind"] == "music":
            r["split"] = msplit[r["group"]]
    # Files of the packages built this time that the manifest no longer names: remove.
    keep = {r["path"] for r in rows}
    for pkg in packages:
        for p in glob.glob(os.path.join(out, "audio", "*", pkg, "*.wav")):
            if os.path.relpath(p, out) not in keep:
                os.remove(p)
    for d, dirs, files in os.walk(os.path.join(out, "audio"), topdown=False):
        if not os.listdir(d):
            os.rmdir(d)
    rows.sort(key=lambda r: r["path"])
    tmp = man_path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS)
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, man_path)
    summary = summarize(rows)
    summary["packages"] = dict({r["package"]: r["version"] for r in rows}, **versions)
    summary["build_seconds"] = round(time.time() - t0, 1)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
    write_readme(out, summary, [p for p in PACKAGES if p in summary["packages"] or p in packages])
    log(table(summary))
    log("corpus: %d files in %s, %.0f s" % (len(rows), out, time.time() - t0))
    return summary


def summarize(rows):
    s = {"minutes": {}, "files": {}, "groups": {}}
    for r in rows:
        k = "%s/%s" % (r["kind"], r["split"])
        s["minutes"][k] = s["minutes"].get(k, 0.0) + float(r["seconds"]) / 60
        s["files"][k] = s["files"].get(k, 0) + 1
        s["groups"].setdefault(k, set()).add(r["group"])
    s["minutes"] = {k: round(v, 2) for k, v in s["minutes"].items()}
    s["groups"] = {k: sorted(v) for k, v in s["groups"].items()}
    return s


def table(summary):
    kinds = sorted({k.split("/")[0] for k in summary["minutes"]})
    lines = ["| kind | " + " | ".join(SPLITS) + " | total |", "|---|" + "---|" * (len(SPLITS) + 1)]
    for kind in kinds:
        vals = [summary["minutes"].get("%s/%s" % (kind, s), 0.0) for s in SPLITS]
        lines.append("| %s (min) | " % kind + " | ".join("%.1f" % v for v in vals) + " | %.1f |" % sum(vals))
    return "\n".join(lines)


def write_readme(out, summary, packages):
    lines = ["# earflow training corpus", "",
             "Built by `train/corpus.py` from Debian packages. 48 kHz mono 16-bit WAV, silence",
             "trimmed, loudness -23 LUFS (BS.1770-4, peaks <= -1 dBFS). `manifest.csv` names every",
             "file's source package, version, licence, speaker/track group and split.", "",
             "## Minutes by kind and split", "", table(summary), "",
             "## Groups per split", ""]
    for k, g in sorted(summary["groups"].items()):
        lines.append("- %s: %s" % (k, ", ".join(g)))
    lines += ["", "## Split rule", "", "```", __doc__.split("SPLIT RULE\n", 1)[1].rstrip(), "```", "",
              "## Attributions and licences", "",
              "Full copyright files: `licenses/PKG.copyright`.", "",
              "| package | version | licence | credit |", "|---|---|---|---|"]
    for p in packages:
        lines.append("| %s | %s | %s | %s |" % (p, summary["packages"].get(p, ""), PACKAGES[p]["licence"],
                                                PACKAGES[p]["credit"]))
    with open(os.path.join(out, "README.md"), "w") as f:
        f.write("\n".join(lines) + "\n")


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", default=DEFAULT_CACHE, help="where .debs and unpacked trees live")
    ap.add_argument("--out", default=DEFAULT_OUT, help="corpus folder")
    ap.add_argument("--packages", default=",".join(ALL_PACKAGES), help="comma-separated subset")
    ap.add_argument("--offline", action="store_true", help="never fetch; use the cache only")
    ap.add_argument("--fetch-only", action="store_true", help="fetch and unpack, decode nothing")
    ap.add_argument("--max-files", type=int, default=0, help="at most N files per package (tests)")
    a = ap.parse_args(argv)
    build(a.cache, a.out, [p for p in a.packages.split(",") if p], a.offline, a.max_files, a.fetch_only)


if __name__ == "__main__":
    main()
