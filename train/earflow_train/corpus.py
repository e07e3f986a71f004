#!/usr/bin/python3
"""Build the earflow training corpus ("corpus 2") from Debian packages.

    /usr/bin/python3 train/corpus.py --write-docs            # everything, default folders
    /usr/bin/python3 train/corpus.py --offline --packages alsa-utils --max-files 5 --out /tmp/c

Steps, each idempotent (a second run reuses what is there):
  0. refuse the packages reserved for independent evaluation (RESERVED) before anything
     runs, also when named with --packages;
  1. fetch: `apt-get download PKG` into CACHE/debs (skipped for .debs already there;
     --offline never fetches and fails clearly on a missing one);
  2. unpack: `dpkg -x` into CACHE/x/PKG (LARGE packages: only the folders used, through
     `dpkg-deb --fsys-tarfile | tar`); members used of game archives (.zip, .wz, .pk3) are
     copied to CACHE/x/PKG/zip/; synth-midi writes generated MIDI songs and renders them
     with `fluidsynth` and the GM soundfont of fluid-soundfont-gm;
  3. decode every sound file with ffmpeg (G.722 and GSM prompts as raw streams) to 48 kHz
     mono (soxr), trim leading/trailing silence, normalize loudness (ITU-R BS.1770 gated)
     to -23 LUFS with peaks below -1 dBFS, write OUT/audio/KIND/PKG/NAME.wav (16-bit PCM);
     backgrounds shorter than 0.5 s after trimming are dropped (clicks); --jobs files at
     once (default one per core: the same rows and WAVs for any number);
  4. split by source package with the fixed SPLIT TABLE below;
  5. write OUT/manifest.csv (every file: kind, split, group, speaker, language, package,
     version, licence, source file, seconds), OUT/summary.json, OUT/README.md (the
     tables, attributions) and OUT/licenses/PKG.copyright; --write-docs also writes
     docs/corpus.md. LARGE packages lose their .deb and unpacked tree afterwards (--keep
     keeps them); a later run reuses their manifest rows and WAVs without fetching.
     A second build into the same OUT while one runs is refused (OUT/.build.lock): each
     would write a manifest without the other's rows.

SPEAKERS (speech rows; counted as lower bounds: one voice per package and folder unless
  the credits name more)
  asterisk-core-sounds-*: the voice talent of the folder name (en_US_f_Allison and
    es_MX_f_Allison are one speaker, Allison Smith); asterisk-prompt-*: the one credited
    voice; klettres-data, ktuberling-data: one speaker per language folder (regional
    script variants such as sr@latin merged); the same KDE contributor may have recorded
    both packages, so both are train; fillets-ng-data-cs and -nl: per language the two
    lead fish (file codes m and v, measured median F0 267/141 Hz in cs, 218/146 Hz in nl;
    the minor characters are left out; fillets-ng-data has no English dialogue);
    0ad-data: per civilisation language the male and the female citizen; warzone2100-data:
    the console voice (with the tutorial: same pitch, maybe the same person), the
    transport pilot and the three taunt voices (median F0 105, 216, 86 Hz); its extra/
    and sfx/misc/ voices are left out; alsa-utils: one speaker; tuxpaint-stamps-default:
    one speaker per language of its spoken stamp descriptions (NAME_desc_LANG; no suffix:
    English), although the changelog credits two French voices and Brazilian school
    children for pt_BR; its spoken numbers and letters (symbols/) are used for nothing;
    kajongg: its four predefined voices (female1, female2, male1, male2: tile names and
    claims), each recorded in English (voices/NAME) and German (voices/de/NAME); the two
    folders of one name are counted as one speaker, since they may be one person (median
    F0 en/de: female1 178/172, female2 219/229, male1 167/157, male2 102/143 Hz);
    gcin-voice: Mandarin syllables (zhuyin folders) in two voices, file 3.ogg (credited
    to Edward Der-Hua Liu) and 5.ogg (Chu Lo, the voice of the ChionMeilin voicebank).
  Text-to-speech voices are not used.

SPLIT TABLE (by source package; valid and test hold whole packages that training never hears)
  package                          split  kinds
  alsa-utils                       test   speech
  asterisk-core-sounds-fr-g722     test   speech
  fillets-ng-data-nl               test   speech
  supertuxkart-data                test   music, noise
  extremetuxracer-data             test   music, noise
  gcin-voice                       test   speech
  asterisk-prompt-es-co            valid  speech
  kajongg                          valid  speech
  asterisk-prompt-fr-armelle       valid  speech
  asterisk-moh-opsound-wav         valid  music
  frozen-bubble-data               valid  music, noise
  lbreakout2-data                  valid  noise
  wesnoth-1.16-data                valid  noise
  redeclipse-data                  valid  music, noise
  asterisk-core-sounds-en-g722     train  speech
  asterisk-core-sounds-es-g722     train  speech
  klettres-data                    train  speech
  ktuberling-data                  train  speech
  fillets-ng-data-cs               train  speech
  tuxpaint-stamps-default          train  speech, noise
  fillets-ng-data                  train  music, noise
  0ad-data                         train  speech, music, noise
  warzone2100-data                 train  speech, noise
  wesnoth-1.16-music               train  music
  megaglest-data                   train  music, noise
  openclonk-data                   train  music
  lincity-ng-data                  train  music, noise
  synth-midi:fluid-soundfont-gm    train  music
  flightgear-data-base             train  noise
  minetest-data                    train  noise
  lmms-common                      train  noise
  freeciv-data                     train  noise
  libmysofa1                       -      hrtf
"""

import argparse
import csv
import fcntl
import fnmatch
import glob
import json
import os
import re
import shutil
import subprocess
import time
import zipfile

import numpy as np
from scipy import signal

from . import audio, jobs as jobs_

SR = 48000
TARGET_LUFS = -23.0
PEAK_MAX = 10 ** (-1.0 / 20)  # -1 dBFS
MIN_ACTIVE_S = {"speech": 0.25, "music": 0.5, "noise": 0.5}
HERE = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))   # train/
DEFAULT_CACHE = os.path.join(HERE, "cache")
DEFAULT_OUT = os.path.join(HERE, "data", "corpus")
DOCS = os.path.join(os.path.dirname(HERE), "docs", "corpus.md")
SPLITS = ("train", "valid", "test")
KEMAR_SOFA = "usr/share/libmysofa/MIT_KEMAR_normal_pinna.sofa"

# Reserved for independent evaluation: never fetched, unpacked or used.
RESERVED = ("asterisk-core-sounds-it*", "asterisk-core-sounds-ru*", "asterisk-prompt-it*",
            "hedgewars-data", "sonic-pi-samples", "*librosa*")


def refuse_reserved(packages):
    bad = [p for p in packages if any(fnmatch.fnmatch(p.lower(), r) for r in RESERVED)]
    if bad:
        raise SystemExit("corpus: refused %s: reserved for independent evaluation (%s); never "
                         "fetched, unpacked or used" % (", ".join(bad), ", ".join(RESERVED)))


def split_table(doc=__doc__):
    """The SPLIT TABLE of the module docstring -> {package: split}."""
    body = doc.split("\nSPLIT TABLE", 1)[1].splitlines()[2:]
    return {l.split()[0]: l.split()[1] for l in body if l.strip()}


SPLIT = split_table()

# ------------------------------------------------------------------ who speaks


def _folder_voice(prefix, regex, merge=lambda f: f):
    """Speaker = PREFIX:FOLDER (the folder matched by regex), language = its first part."""
    def who(rel):
        m = re.search(regex, rel)
        f = merge(m.group(1)) if m else "unknown"
        return "%s:%s" % (prefix, f), re.split(r"[_@]", f)[0]
    return who


def _asterisk_voice(rel):
    m = re.search(r"sounds/([a-z]+)_[A-Z]+_[mf]_([^/]+)/", rel)
    return ("asterisk:" + m.group(2), m.group(1)) if m else ("asterisk:unknown", "")


def _one_voice(speaker, lang):
    return lambda rel: (speaker, lang)


ZEROAD_LANG = {"greek": "grc", "latin": "la", "persian": "peo", "napatan": "xmr"}   # ISO 639-3
WZ_VOICES = {"memressp": "console", "tutorial": "console", "trnsppil": "pilot",
             "taunt1": "taunt1", "taunt2": "taunt2", "taunt3": "taunt3"}


def _zeroad_voice(rel):
    m = re.search(r"voice/([a-z]+)/civ/civ_(male|female)_", rel)
    return "0ad:%s_%s" % m.groups(), ZEROAD_LANG[m.group(1)]


def _wz_voice(rel):
    folder = next(f for f in WZ_VOICES if "/%s/" % f in rel)
    return "wz2100:" + WZ_VOICES[folder], "en"


def _fillets_voice(lang):
    def who(rel):
        m = re.search(r"-([mv])-", os.path.basename(rel))
        return "fillets-%s:%s" % (lang, "small-fish" if m.group(1) == "m" else "big-fish"), lang
    return who


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


# Speaker = the language of a spoken stamp description NAME_desc[_LANG].ogg|wav (no suffix:
# English); a name that does not match reads "unknown", which _labels refuses.
def _kajongg_voice(rel):
    m = re.search(r"voices/(?:(de)/)?((?:fe)?male\d)/", rel)
    return ("kajongg:" + m.group(2), m.group(1) or "en") if m else ("kajongg:unknown", "")


def _gcin_voice(rel):
    m = re.search(r"/([35])\.ogg$", rel)
    return ("gcin:" + m.group(1), "zh") if m else ("gcin:unknown", "")


_tuxpaint_voice = _folder_voice("tuxpaint", r"_desc(?:_([a-z]+(?:_[A-Z]+)?))?\.[^/]*$", lambda f: f or "en")
TUXPAINT_LANGS = "be bg ca da el en es fr lt ml nl pt_BR ro ru".split()
KLETTRES = ("ar cs da de en en_GB es fr he hu it lt ml nb nds nl pt_BR ru tn uk").split()
KTUBERLING = ("ca da de el en es fi fr ga gl it lt nds nl nn pt ro ru sl sr sv uk wa").split()

# ------------------------------------------------------------------ the packages
# Each package: licence, credit and what it gives: takes = [(kind, [glob patterns
# relative to the unpacked tree], speaker function for speech)]. Backgrounds skip
# NOT_NOISE (voices). zips: {archive inside the package: member patterns to copy out}.
# unpack (LARGE packages): the folders that tar extracts.

NOT_NOISE = ("*voice*", "*speech*", "*announc*", "*taunt*", "*talk*", "*_pa.*", "*/human/*",
             "*-die*", "*-hit*", "*scream*") + tuple(     # MegaGlest unit voices lie among its sounds
    "*commondata/sounds/*_%s*" % w for w in ("ack", "select", "attack", "die", "hit", "summon"))
SND = "*.[ow][ga][gv]"        # .ogg and .wav


def _sp(*patterns, who=None):
    return ("speech", list(patterns), who)


def _mu(*patterns):
    return ("music", list(patterns), None)


def _no(*patterns):
    return ("noise", list(patterns), None)


ASTERISK = dict(licence="CC-BY-SA-3.0")
G722 = "usr/share/asterisk/sounds/**/*.g722"
FILLETS = "usr/share/games/fillets-ng/sound/*/%s/*-[mv]-*.ogg"
STK = "usr/share/games/supertuxkart/data/"
ZEROAD = "usr/share/games/0ad/mods/public/public.zip"
MEGA = "usr/share/games/megaglest/"
WZ = "usr/share/games/warzone2100/base.wz"
FG = "usr/share/games/flightgear/"
MINETEST = "usr/share/games/minetest/games/minetest_game/mods/*/sounds/*.ogg"
TUX = "usr/share/tuxpaint/stamps/"
# Tux Paint's stamp sounds that are recorded effects (animals, tools, vehicles...); left
# out: symbols/ (spoken numbers, letters, faces), space/ (Apollo 11's words), military/,
# town/roadsigns/, the dreidel letters, Santa's and the ghost's voices.
TUX_EFFECTS = ["animals/**/*.ogg", "food/**/*.ogg", "hobbies/**/*.ogg", "household/**/*.ogg",
               "naturalforces/**/*.ogg", "vehicles/**/*.ogg", "town/flags/*.ogg", "seasonal/newyears/*.ogg",
               "seasonal/christmas/gift.ogg", "seasonal/christmas/hard_candy.ogg",
               "seasonal/halloween/bat_left.ogg", "seasonal/halloween/blackcat.ogg",
               "seasonal/halloween/spider.ogg"]
RE = "usr/share/games/redeclipse/data/sounds/"

PACKAGES = {
    "libmysofa1": dict(
        kind="hrtf", licence="MIT KEMAR data: free to use if the authors are cited",
        credit="MIT KEMAR HRTF measurements, Bill Gardner and Keith Martin, MIT Media Lab "
               "Machine Listening Group, 1994 (SOFA file from libmysofa, Christian Hoene / Symonics)"),
    "asterisk-core-sounds-en-g722": dict(
        ASTERISK, takes=[_sp(G722, who=_asterisk_voice)], speakers=["asterisk:Allison"],
        credit="Asterisk core sound prompts (English), voice of Allison Smith, Digium"),
    "asterisk-core-sounds-es-g722": dict(
        ASTERISK, takes=[_sp(G722, who=_asterisk_voice)], speakers=["asterisk:Allison"],
        credit="Asterisk core sound prompts (Spanish), voice of Allison Smith, Digium"),
    "asterisk-core-sounds-fr-g722": dict(
        ASTERISK, takes=[_sp(G722, who=_asterisk_voice)], speakers=["asterisk:June"],
        credit="Asterisk core sound prompts (French, Canada), voice of June Wallack, Digium"),
    "asterisk-prompt-es-co": dict(
        licence="GPL-2", takes=[_sp("usr/share/asterisk/sounds/es/**/*.gsm",
                                    who=_one_voice("asterisk-es-co:voice", "es"))],
        speakers=["asterisk-es-co:voice"], credit="Colombian Spanish Asterisk prompts, Avatar Ltda"),
    "asterisk-prompt-fr-armelle": dict(
        licence="GPL-2", takes=[_sp("usr/share/asterisk/sounds/fr/**/*.gsm",
                                    who=_one_voice("asterisk:Armelle", "fr"))],
        speakers=["asterisk:Armelle"], credit="French Asterisk prompts, voice of Armelle Desjardins"),
    "kajongg": dict(
        licence="GPL-2+", takes=[_sp("usr/share/kajongg/voices/**/*.ogg", who=_kajongg_voice)],
        speakers=["kajongg:" + v for v in ("female1", "female2", "male1", "male2")],
        credit="Kajongg voices (English and German tile names and claims), Wolfgang Rohdewald "
               "and the KDE contributors"),
    "gcin-voice": dict(
        licence="GPL-3 or LGPL-3 (3.ogg) / CC-BY-3.0 (5.ogg)",
        takes=[_sp("usr/share/gcin-voice/ogg/*/[35].ogg", who=_gcin_voice)],
        speakers=["gcin:3", "gcin:5"],
        credit="gcin Mandarin syllable voices: Edward Der-Hua Liu (3.ogg); ChionMeilin development "
               "committee's recording group, the voice of Chu Lo (5.ogg)"),
    "klettres-data": dict(
        licence="GPL-2+", takes=[_sp("usr/share/klettres/*/*/*.ogg",
                                     who=_folder_voice("klettres", r"share/klettres/([^/]+)/"))],
        speakers=["klettres:" + l for l in KLETTRES],
        credit="KLettres sounds, Anne-Marie Mahfouf and the KDE contributors"),
    "ktuberling-data": dict(
        licence="GPL-2+",
        takes=[_sp(*["usr/share/ktuberling/sounds/*/*." + e for e in ("ogg", "wav", "opus")],
                   who=_folder_voice("ktuberling", r"sounds/([^/]+)/", lambda f: f.split("@")[0]))],
        speakers=["ktuberling:" + l for l in KTUBERLING],
        credit="KTuberling sounds, the KDE contributors and translators"),
    "fillets-ng-data-cs": dict(
        licence="GPL-2+", takes=[_sp(FILLETS % "cs", who=_fillets_voice("cs"))],
        speakers=["fillets-cs:small-fish", "fillets-cs:big-fish"],
        credit="Fish Fillets NG Czech dialogue, ALTAR interactive"),
    "fillets-ng-data-nl": dict(
        licence="GPL-2+", takes=[_sp(FILLETS % "nl", who=_fillets_voice("nl"))],
        speakers=["fillets-nl:small-fish", "fillets-nl:big-fish"],
        credit="Fish Fillets NG Dutch dialogue, ALTAR interactive and the Dutch voice actors"),
    "fillets-ng-data": dict(
        licence="GPL-2+", takes=[_mu("usr/share/games/fillets-ng/music/*.ogg"),   # no English dialogue:
                                 _no("usr/share/games/fillets-ng/sound/share/*.ogg")],  # */en/ are creatures
        credit="Fish Fillets NG music and sounds, ALTAR interactive"),
    "alsa-utils": dict(
        licence="GPL-2",
        takes=[_sp("usr/share/sounds/alsa/[FRS]*.wav", who=_one_voice("alsa:speaker", "en"))],
        speakers=["alsa:speaker"], credit="ALSA speaker-test voice samples (alsa-utils)"),
    "0ad-data": dict(
        licence="CC-BY-SA-3.0", large=True, unpack=[ZEROAD, "usr/share/doc/0ad-data/*"],
        zips={ZEROAD: ["audio/voice/*/civ/civ_*.ogg", "audio/music/*.ogg", "audio/ambient/*",
                       "audio/attack/*", "audio/resource/*", "audio/actor/fauna/*",
                       "audio/actor/mounted/*", "audio/actor/ship/*", "audio/interface/alarm/*"]},
        takes=[_sp("zip/audio/voice/*/civ/civ_*.ogg", who=_zeroad_voice),
               _mu("zip/audio/music/*.ogg"),
               _no("zip/audio/ambient/**/*.ogg", "zip/audio/attack/**/*.ogg", "zip/audio/resource/**/*.ogg",
                   "zip/audio/actor/**/*.ogg", "zip/audio/interface/alarm/*.ogg")],
        speakers=["0ad:%s_%s" % (c, g) for c in ZEROAD_LANG for g in ("male", "female")],
        credit="0 A.D. voices, music and sounds, Wildfire Games (voice and sound credits in "
               "gui/credits/texts/audio.json of public.zip)"),
    "warzone2100-data": dict(
        licence="GPL-2+ / CC-BY-SA-3.0", large=True, unpack=[WZ, "usr/share/doc/warzone2100-data/*"],
        zips={WZ: ["audio/%s/*" % d for d in ("memressp", "tutorial", "trnsppil", "taunts", "sfx")]},
        takes=[_sp("zip/audio/memressp/*/*.ogg", "zip/audio/tutorial/*.ogg", "zip/audio/trnsppil/*.ogg",
                   "zip/audio/taunts/*/*.ogg", who=_wz_voice),
               _no(*["zip/audio/sfx/%s/*.ogg" % d for d in ("building", "explons", "interfce", "vehicle",
                                                             "weapons")])],   # extra/, sfx/misc: voices
        speakers=["wz2100:" + v for v in sorted(set(WZ_VOICES.values()))],
        credit="Warzone 2100 voices and sounds, Pumpkin Studios and the Warzone 2100 Project"),
    "tuxpaint-stamps-default": dict(
        licence="GPL-2",
        takes=[_sp(TUX + "**/*_desc*.ogg", TUX + "**/*_desc*.wav", who=_tuxpaint_voice),
               _no(*[TUX + p for p in TUX_EFFECTS])],          # descriptions first: never noise
        speakers=["tuxpaint:" + l for l in TUXPAINT_LANGS],
        credit="Tux Paint stamps' spoken descriptions and sounds, Bill Kendrick and the Tux Paint "
               "contributors (voices credited in its changelog: Jacques Chion and PaulK (fr), Krasimir "
               "Petkov (bg), Kseniya Buraya (be), Estefania Ortiz (es), Kiriaki Serafeim (el), Joe "
               "Dalton (da), Tabbytha (ro), Edwin Veber (ru), Brazilian school children (pt_BR))"),
    "redeclipse-data": dict(
        licence="CC-BY-SA-3.0 / CC-BY-3.0 (per file: its copyright)", large=True,
        unpack=[RE + "ambience/*", RE + "music/*", RE + "sfx/*", RE + "weapons/*",
                "usr/share/doc/redeclipse-data/*"],
        takes=[_mu(RE + "music/*.ogg"),
               _no(RE + "ambience/*.ogg", RE + "ambience/morph/*.ogg", RE + "sfx/*.ogg", RE + "weapons/*.ogg")],
        credit="Red Eclipse ambiences (Quinton Reeves, Alex Anguix, Slawek Blauciak and Freesound "
               "recordists), music and sounds, the Red Eclipse team"),
    "wesnoth-1.16-music": dict(
        licence="GPL-2+", takes=[_mu("usr/share/games/wesnoth/1.16/data/core/music/*.ogg")],
        credit="Battle for Wesnoth music, the Wesnoth composers"),
    "wesnoth-1.16-data": dict(
        licence="GPL-2+", takes=[_no("usr/share/games/wesnoth/1.16/data/core/sounds/**/*.[ow][ga][gv]")],
        credit="Battle for Wesnoth sounds, the Wesnoth contributors"),
    "asterisk-moh-opsound-wav": dict(
        ASTERISK, takes=[_mu("usr/share/asterisk/moh/*.wav")],
        credit="opsound music on hold: Paul Shuler (Macroform), Manolo Camp, Reno Project"),
    "megaglest-data": dict(
        licence="CC-BY-SA-3.0", large=True,
        takes=[_mu(MEGA + "data/core/menu/music/*.ogg", MEGA + "techs/megapack/factions/*/music/*.ogg"),
               _no(MEGA + "tilesets/*/sounds/*.[ow][ga][gv]", MEGA + "data/core/water_sounds/*.wav",
                   MEGA + "techs/megapack/commondata/sounds/*.[ow][ga][gv]")],
        credit="MegaGlest music and sounds, the MegaGlest team"),
    "openclonk-data": dict(
        licence="CC-BY / ISC (OpenClonk)", takes=[_mu("usr/share/games/openclonk/Music.ocg/*.ogg")],
        credit="OpenClonk music, the OpenClonk developers"),
    "lincity-ng-data": dict(
        licence="GPL-2+", takes=[_mu("usr/share/games/lincity-ng/music/default/*.ogg"),
                                 _no("usr/share/games/lincity-ng/sounds/*.wav")],
        credit="LinCity-NG music and sounds, the LinCity-NG team"),
    "supertuxkart-data": dict(
        licence="CC-BY-SA-3.0 / GPL-3+", large=True, unpack=[STK + "music/*", STK + "sfx/*",
                                                             "usr/share/doc/supertuxkart-data/*"],
        takes=[_mu(STK + "music/*.ogg"), _no(STK + "sfx/*.ogg")],
        credit="SuperTuxKart music and sounds, the SuperTuxKart team"),
    "extremetuxracer-data": dict(
        licence="GPL-2+",
        takes=[_mu("usr/share/games/etr/music/*.ogg"), _no("usr/share/games/etr/sounds/*.wav")],
        credit="Extreme Tux Racer music and sounds, the ETR team"),
    "frozen-bubble-data": dict(
        licence="GPL-2", takes=[_mu("usr/share/games/frozen-bubble/snd/*zik*.ogg"),
                                _no("usr/share/games/frozen-bubble/snd/*.ogg")],
        credit="Frozen Bubble music (Matthias Le Bidan) and sounds, the Frozen Bubble team"),
    "lbreakout2-data": dict(
        licence="GPL-2+", takes=[_no("usr/share/games/lbreakout2/sounds/*.wav")],
        credit="LBreakout2 sounds, Michael Speck"),
    "flightgear-data-base": dict(
        licence="GPL-2+", large=True, unpack=[FG + "Sounds/*.wav", FG + "Aircraft/c172p/Sounds/*",
                                              "usr/share/doc/flightgear-data-base/*"],
        takes=[_no(FG + "Sounds/*.wav", FG + "Aircraft/c172p/Sounds/*.wav")],
        credit="FlightGear sounds (engines, wind, rain, thunder), the FlightGear contributors"),
    "minetest-data": dict(
        licence="CC-BY-SA-3.0", takes=[_no(MINETEST)],
        credit="Minetest Game sounds, the Minetest contributors"),
    "lmms-common": dict(
        licence="GPL-2+",
        takes=[_no("usr/share/lmms/samples/effects/*.ogg", "usr/share/lmms/samples/misc/*.ogg")],
        credit="LMMS sample effects, the LMMS developers"),
    "freeciv-data": dict(
        licence="GPL-2+", takes=[_no("usr/share/games/freeciv/stdsounds/*.ogg")],
        credit="Freeciv standard sounds, the Freeciv project"),
    "synth-midi:fluid-soundfont-gm": dict(
        licence="MIT (FluidR3 GM soundfont); generated MIDI: no rights", deb="fluid-soundfont-gm",
        takes=[_mu("synth/*.wav")],
        credit="music synthesized from generated MIDI (corpus.py midi_song) with fluidsynth and "
               "the FluidR3 GM soundfont by Frank Wen"),
}
ALL_PACKAGES = [p for p in PACKAGES]
def log(msg):
    print(msg, flush=True)


# ----------------------------------------------------------------- fetch / unpack


def deb_name(pkg):
    """The Debian package behind a corpus source (synth-midi: its soundfont)."""
    return PACKAGES.get(pkg, {}).get("deb", pkg)


def deb_path(cache, pkg):
    found = sorted(glob.glob(os.path.join(cache, "debs", deb_name(pkg) + "_*.deb")))
    return found[-1] if found else None


def fetch(cache, pkg, offline):
    refuse_reserved([pkg, deb_name(pkg)])
    deb = deb_path(cache, pkg)
    if deb:
        return deb
    if offline:
        raise SystemExit("corpus: %s is not in %s/debs and --offline forbids fetching it" % (pkg, cache))
    os.makedirs(os.path.join(cache, "debs"), exist_ok=True)
    log("  apt-get download %s" % deb_name(pkg))
    r = subprocess.run(["apt-get", "download", "-q", deb_name(pkg)], cwd=os.path.join(cache, "debs"),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    deb = deb_path(cache, pkg)
    if r.returncode != 0 or not deb:
        raise SystemExit("corpus: apt-get download %s failed:\n%s" % (deb_name(pkg), r.stdout))
    return deb


def unpack(cache, pkg, deb, members=None):
    """dpkg -x the .deb into CACHE/x/PKG; with members (glob patterns), only those and
    usr/share/doc (large packages: less to write)."""
    dest = os.path.join(cache, "x", deb_name(pkg))
    stamp = os.path.join(dest, ".unpacked-" + os.path.basename(deb))
    if os.path.exists(stamp):
        return dest
    shutil.rmtree(dest, ignore_errors=True)
    os.makedirs(dest)
    if members:
        tar = subprocess.Popen(["dpkg-deb", "--fsys-tarfile", deb], stdout=subprocess.PIPE)
        subprocess.run(["tar", "-x", "-C", dest, "--wildcards"] +
                       ["./" + m for m in members + ["usr/share/doc/*"]], stdin=tar.stdout, check=True)
        if tar.wait() != 0:
            raise SystemExit("corpus: dpkg-deb --fsys-tarfile %s failed" % deb)
    else:
        subprocess.run(["dpkg", "-x", deb, dest], check=True)
    open(stamp, "w").close()
    return dest


AUDIO_EXT = (".ogg", ".wav", ".flac", ".mp3", ".opus")


def expand_zips(root, zips):
    """Copy the audio members matching the patterns out of game archives to root/zip/."""
    for arc, pats in zips.items():
        with zipfile.ZipFile(os.path.join(root, arc)) as z:
            for m in z.namelist():
                dst = os.path.join(root, "zip", m)
                if (m.lower().endswith(AUDIO_EXT) and any(fnmatch.fnmatch(m, p) for p in pats)
                        and not os.path.exists(dst)):
                    os.makedirs(os.path.dirname(dst), exist_ok=True)
                    with open(dst + ".tmp", "wb") as f:
                        f.write(z.read(m))
                    os.replace(dst + ".tmp", dst)


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
    """Any file ffmpeg reads (raw G.722 and GSM included) -> float64 mono at 48 kHz."""
    cmd = ["ffmpeg", "-nostdin", "-v", "error"]
    if path.endswith((".g722", ".gsm")):        # raw telephone streams: name the codec
        cmd += ["-f", os.path.splitext(path)[1][1:]]
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


# ----------------------------------------------------------------- synthesized music
# A small deterministic General MIDI song writer: chords, arpeggios, melody, bass and
# drums (channel 10) in many GM programs, tempi, keys and styles, rendered by fluidsynth.

SYNTH_SONGS = 40
SYNTH_VERSION = "g1"            # bump when the generator changes: songs are re-rendered
PROGRESSIONS = ([0, 5, 3, 4], [0, 3, 4, 0], [0, 4, 5, 3], [5, 3, 0, 4], [0, 0, 3, 4], [1, 4, 0, 0],
                [0, 6, 3, 4])                  # scale degrees of the chords, one per bar
STYLES = ("block", "arpeggio", "waltz", "pulse", "ballad", "march")
DRUMS = {"kick": 36, "snare": 38, "hat": 42, "open": 46, "ride": 51, "tom": 45}


def _vlq(n):
    out = [n & 0x7F]
    while n > 127:
        n >>= 7
        out.insert(0, (n & 0x7F) | 0x80)
    return bytes(out)


def midi_file(events, tempo_bpm, tpq=480):
    """[(tick, bytes of one channel message)] -> a format-0 standard MIDI file."""
    trk, last = bytearray(), 0
    us = int(60e6 / tempo_bpm)
    trk += b"\x00\xff\x51\x03" + us.to_bytes(3, "big")
    for tick, msg in sorted(events, key=lambda e: (e[0], e[1][0] & 0xF0 != 0x80)):
        trk += _vlq(tick - last) + msg
        last = tick
    trk += b"\x00\xff\x2f\x00"
    return b"MThd" + (6).to_bytes(4, "big") + b"\x00\x00\x00\x01" + tpq.to_bytes(2, "big") + \
        b"MTrk" + len(trk).to_bytes(4, "big") + bytes(trk)


def _note(ev, ch, t, dur, key, vel):
    ev.append((t, bytes([0x90 | ch, key, vel])))
    ev.append((t + max(dur, 1), bytes([0x80 | ch, key, 0])))


def midi_song(seed, tpq=480):
    """Song number seed -> (MIDI bytes, description)."""
    rng = np.random.RandomState(1000 + seed)
    bpm = int(rng.randint(60, 170))
    root = 48 + int(rng.randint(12))
    scale = [0, 2, 4, 5, 7, 9, 11] if rng.rand() < 0.6 else [0, 2, 3, 5, 7, 8, 10]
    style = STYLES[rng.randint(len(STYLES))]
    beats = 3 if style == "waltz" else 4
    prog = PROGRESSIONS[rng.randint(len(PROGRESSIONS))]
    chord_p, lead_p, bass_p = int(rng.randint(0, 96)), int(rng.randint(0, 80)), int(rng.randint(32, 40))
    drums = style not in ("ballad",) and rng.rand() < 0.75
    ev = [(0, bytes([0xC0 | c, p])) for c, p in ((0, chord_p), (1, lead_p), (2, bass_p))]
    bars = int(round(rng.uniform(35, 60) * bpm / 60 / beats))
    bar = beats * tpq
    for b in range(bars):
        deg = prog[b % len(prog)]
        chord = [root + scale[(deg + i) % 7] + 12 * ((deg + i) // 7) for i in (0, 2, 4)]
        t0 = b * bar
        if style in ("block", "ballad", "march"):
            for k in chord:
                _note(ev, 0, t0, bar - 10, k, 60 + rng.randint(20))
        else:
            step = tpq // (2 if style == "arpeggio" else 1)
            for i in range(bar // step):
                _note(ev, 0, t0 + i * step, step, chord[i % 3] + 12 * (i // 3 % 2), 55 + rng.randint(25))
        for i in range(beats * 2):                                    # melody, eighth notes
            if rng.rand() < 0.55:
                k = root + 12 + scale[(deg + rng.randint(5)) % 7]
                _note(ev, 1, t0 + i * tpq // 2, tpq // 2 * rng.randint(1, 3), k, 70 + rng.randint(30))
        for i in range(beats if style in ("pulse", "march") else 1):
            _note(ev, 2, t0 + i * bar // (beats if style in ("pulse", "march") else 1), tpq - 20,
                  chord[0] - 12, 80 + rng.randint(20))
        if drums:
            for i in range(beats * 2):
                t = t0 + i * tpq // 2
                if i % (beats * 2) == 0 or (beats == 4 and i == 4 and rng.rand() < 0.7):
                    _note(ev, 9, t, 60, DRUMS["kick"], 100)
                if beats == 4 and i in (2, 6):
                    _note(ev, 9, t, 60, DRUMS["snare"], 90)
                _note(ev, 9, t, 30, DRUMS["hat" if rng.rand() < 0.85 else "open"], 50 + rng.randint(30))
    descr = "bpm %d, root %d, %s, programs %d/%d/%d, drums %s" % (bpm, root, style, chord_p, lead_p,
                                                                  bass_p, drums)
    return midi_file(ev, bpm, tpq), descr


def render_synth(root, sf2, songs=SYNTH_SONGS):
    """Write root/synth/songNN.mid and render each to songNN.wav (skipped when present)."""
    d = os.path.join(root, "synth")
    os.makedirs(d, exist_ok=True)
    for i in range(songs):
        wav = os.path.join(d, "song%02d_%s.wav" % (i, SYNTH_VERSION))
        if os.path.exists(wav):
            continue
        if shutil.which("fluidsynth") is None:
            raise SystemExit("corpus: the generated music needs the fluidsynth program "
                             "(apt-get install fluidsynth; the soundfont comes from the archive)")
        mid = wav[:-4] + ".mid"
        with open(mid, "wb") as f:
            f.write(midi_song(i)[0])
        subprocess.run(["fluidsynth", "-ni", "-q", "-g", "0.5", "-r", str(SR), "-F", wav + ".part",
                        "-T", "wav", sf2, mid], check=True, stdout=subprocess.DEVNULL)
        os.replace(wav + ".part", wav)


# ----------------------------------------------------------------- build

FIELDS = ["path", "kind", "split", "group", "speaker", "language", "package", "version", "licence",
          "source", "seconds", "lufs_in", "gain_db"]


def source_files(root, patterns):
    out = []
    for pat in patterns:
        out += glob.glob(os.path.join(root, pat), recursive=True)
    return sorted(set(out))


def _is_voice(rel):
    return any(fnmatch.fnmatch(rel.lower(), p) for p in NOT_NOISE)


def planned(root, spec, max_files=0):
    """[(source path, kind, who)] of a package: each file once (first take wins),
    backgrounds without voices."""
    out, seen = [], set()
    for kind, pats, who in spec["takes"]:
        files = [f for f in source_files(root, pats) if f not in seen
                 and not (kind == "noise" and _is_voice(os.path.relpath(f, root)))]
        files = files[:max_files] if max_files else files
        seen.update(files)
        out += [(f, kind, who) for f in files]
    return out


def _labels(pkg, spec, kind, who, rel, stems):
    """(group, speaker, language) of one file."""
    if kind == "speech":
        speaker, lang = who(rel)
        if speaker not in spec["speakers"]:
            raise SystemExit("corpus: %s: speaker %s of %s is not declared" % (pkg, speaker, rel))
        return speaker, speaker, lang
    if kind == "music":
        return _track(pkg)(rel, stems), "", ""
    return pkg + ":" + os.path.splitext(os.path.basename(rel))[0].lower(), "", ""


def _relabel(pkg, spec, rows):
    """Rows with split and labels of the current tables (they need the source name only)."""
    who = {kind: w for kind, _p, w in reversed(spec["takes"])}
    stems = {os.path.splitext(os.path.basename(r["source"]))[0].lower() for r in rows if r["kind"] == "music"}
    out = []
    for r in rows:
        group, speaker, lang = _labels(pkg, spec, r["kind"], who[r["kind"]], r["source"], stems)
        out.append(dict(r, split=SPLIT[pkg], group=group, speaker=speaker, language=lang))
    return out


def _out_name(pkg, kind, rel):
    stem = re.sub(r"^usr/share/(games/)?", "", os.path.splitext(rel)[0]).replace("/", "__")
    return os.path.join("audio", kind, pkg.replace(":", "_"), stem + ".wav")


def _decode_row(out, src, relout, kind):
    """Decode, trim, normalize and write one file; None when it is (nearly) silent or
    ffmpeg cannot read it (a few game files use codecs ffmpeg lacks)."""
    try:
        y, active = trim_silence(decode(src))
    except RuntimeError as e:
        log("  skipped: %s" % str(e).splitlines()[0][:200])
        return None
    if active < MIN_ACTIVE_S[kind] or len(y) < MIN_ACTIVE_S[kind] * SR:
        return None
    y, l_in, g_db = normalize(y)
    dst = os.path.join(out, relout)
    os.makedirs(os.path.dirname(dst), exist_ok=True)
    audio.write_wav(dst, y, pcm=True)
    return dict(seconds="%.3f" % (len(y) / SR), lufs_in="%.2f" % l_in, gain_db="%.2f" % g_db)


def _reusable(out, rows):
    return bool(rows) and all(os.path.exists(os.path.join(out, r["path"])) for r in rows)


def prepare(cache, pkg, spec, offline, max_files=0):
    """Fetch and unpack one package (members of archives, synthesized songs); -> (root, version)."""
    deb = fetch(cache, pkg, offline)
    root = unpack(cache, pkg, deb, spec.get("unpack"))
    expand_zips(root, spec.get("zips", {}))
    version = deb_version(deb)
    if pkg.startswith("synth-midi:"):
        sf2 = os.path.join(root, "usr/share/sounds/sf2/FluidR3_GM.sf2")
        render_synth(root, sf2, max_files or SYNTH_SONGS)
        version += "+" + SYNTH_VERSION
    return root, version


def build_package(cache, out, pkg, old, offline, max_files, keep, pmap=map):
    """Manifest rows of one package: reused where their WAVs exist, decoded otherwise
    (through `pmap`, an in-order map: jobs.mapper's)."""
    spec, tp = PACKAGES[pkg], time.time()
    prev = [r for r in old.values() if r["package"] == pkg]
    if deb_path(cache, pkg) is None and _reusable(out, prev):      # done earlier, .deb deleted
        log("%-30s %d files (0 decoded, %d reused), .deb not needed" % (pkg, len(prev), len(prev)))
        return _relabel(pkg, spec, prev)
    root, version = prepare(cache, pkg, spec, offline, max_files)
    _copy_licence(root, out, pkg)
    plan = planned(root, spec, max_files)
    stems = {os.path.splitext(os.path.basename(f))[0].lower() for f, kind, _w in plan if kind == "music"}
    rows, todo, args = [], [], []         # rows in plan order; todo: those decoded below
    for src, kind, who in plan:
        rel = os.path.relpath(src, root)
        group, speaker, lang = _labels(pkg, spec, kind, who, rel, stems)
        relout = _out_name(pkg, kind, rel)
        row = dict(path=relout, kind=kind, split=SPLIT[pkg], group=group, speaker=speaker, language=lang,
                   package=pkg, version=version, licence=spec["licence"], source=rel)
        p = old.get((pkg, rel, version))
        if p and os.path.exists(os.path.join(out, p["path"])):
            if p["path"] != relout:
                os.makedirs(os.path.dirname(os.path.join(out, relout)), exist_ok=True)
                os.replace(os.path.join(out, p["path"]), os.path.join(out, relout))
            rows.append(dict(row, seconds=p["seconds"], lufs_in=p["lufs_in"], gain_db=p["gain_db"]))
            continue
        todo.append(len(rows))
        rows.append(row)
        args.append((out, src, relout, kind))
    # each file's decode is independent of the others: the same rows and WAVs for any --jobs
    got = list(pmap(_decode_row, *zip(*args))) if args else []
    for i, g in zip(todo, got):
        rows[i] = dict(rows[i], **g) if g else None
    made, dropped = sum(g is not None for g in got), sum(g is None for g in got)
    rows = [r for r in rows if r is not None]
    log("%-30s %s: %d files (%d decoded, %d reused, %d silent or short dropped), %.1f min, %.0f s"
        % (pkg, "+".join(sorted({r["kind"] for r in rows})), len(rows), made, len(rows) - made, dropped,
           sum(float(r["seconds"]) for r in rows) / 60, time.time() - tp))
    if spec.get("large") and not keep:                              # keep only the decoded WAVs
        os.remove(deb_path(cache, pkg))
        shutil.rmtree(os.path.join(cache, "x", deb_name(pkg)), ignore_errors=True)
    return rows


def _copy_licence(root, out, pkg):
    os.makedirs(os.path.join(out, "licenses"), exist_ok=True)
    cp = os.path.join(root, "usr/share/doc", deb_name(pkg), "copyright")
    if os.path.exists(cp):
        shutil.copyfile(cp, os.path.join(out, "licenses", pkg.replace(":", "_") + ".copyright"))


def _read_manifest(path):
    if not os.path.exists(path):
        return {}
    with open(path, newline="") as f:
        return {(r["package"], r["source"], r["version"]): r for r in csv.DictReader(f)}


def _write_manifest(path, rows):
    tmp = path + ".tmp"
    with open(tmp, "w", newline="") as f:
        w = csv.DictWriter(f, fieldnames=FIELDS, restval="")
        w.writeheader()
        w.writerows(rows)
    os.replace(tmp, path)


def _prune(out, packages, rows):
    """Remove WAVs of the packages built this time that the manifest no longer names."""
    keep = {r["path"] for r in rows}
    for pkg in packages:
        for p in glob.glob(os.path.join(out, "audio", "*", pkg.replace(":", "_"), "*.wav")):
            if os.path.relpath(p, out) not in keep:
                os.remove(p)
    for d, _dirs, _files in os.walk(os.path.join(out, "audio"), topdown=False):
        if not os.listdir(d):
            os.rmdir(d)


def _lock(out):
    """Hold OUT/.build.lock for this process (released when it exits): two builds into
    one folder would each write a manifest without the other's rows."""
    f = open(os.path.join(out, ".build.lock"), "a+")
    try:
        fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        f.seek(0)
        pid = f.read().strip() or "?"
        f.close()
        raise SystemExit("corpus: another build is writing %s (pid %s); wait for it, or give it "
                         "more --jobs instead of a second build" % (out, pid))
    f.truncate(0)
    f.write(str(os.getpid()))
    f.flush()
    return f


def build(cache, out, packages, offline=False, max_files=0, fetch_only=False, keep=False,
          write_docs=False, jobs=1):
    refuse_reserved(packages)                       # before anything is fetched
    unknown = [p for p in packages if p not in PACKAGES]
    if unknown:
        raise SystemExit("corpus: unknown package %s (known: %s)" % (", ".join(unknown), ", ".join(PACKAGES)))
    t0 = time.time()
    if fetch_only:
        for pkg in packages:
            unpack(cache, pkg, fetch(cache, pkg, offline), PACKAGES[pkg].get("unpack"))
            log("%-30s fetched and unpacked" % pkg)
        return None
    os.makedirs(out, exist_ok=True)
    lock = _lock(out)
    try:
        return _build_locked(cache, out, packages, offline, max_files, keep, write_docs, jobs, t0)
    finally:
        lock.close()


def _build_locked(cache, out, packages, offline, max_files, keep, write_docs, jobs, t0):
    man_path = os.path.join(out, "manifest.csv")
    old = _read_manifest(man_path)
    rows = []
    with jobs_.mapper(jobs) as pmap:
        for i, pkg in enumerate(packages):
            if PACKAGES[pkg].get("kind") == "hrtf":
                unpack(cache, pkg, fetch(cache, pkg, offline))
                log("%-30s hrtf: fetched and unpacked" % pkg)
                continue
            rows += build_package(cache, out, pkg, old, offline, max_files, keep, pmap)
            # after each package, so that an interrupted build reuses what it decoded
            _write_manifest(man_path, rows + [r for r in old.values() if r["package"] not in packages[:i + 1]])
    # Rows of packages not asked for this time stay as they were (if their files do).
    rows += [r for r in old.values()
             if r["package"] not in packages and os.path.exists(os.path.join(out, r["path"]))]
    _prune(out, packages, rows)
    rows.sort(key=lambda r: r["path"])
    _write_manifest(man_path, rows)
    summary = summarize(rows)
    summary["build_seconds"] = round(time.time() - t0, 1)
    with open(os.path.join(out, "summary.json"), "w") as f:
        json.dump(summary, f, indent=1, sort_keys=True)
    text = readme(summary)
    for path in [os.path.join(out, "README.md")] + ([DOCS] if write_docs else []):
        with open(path, "w") as f:
            f.write(text)
    log(table(summary))
    log(totals_table(summary))
    log("corpus: %d files in %s, %.0f s" % (len(rows), out, time.time() - t0))
    return summary


# ----------------------------------------------------------------- summary and tables


def summarize(rows):
    s = {"minutes": {}, "files": {}, "packages": {}}
    for r in rows:
        k = "%s/%s" % (r["kind"], r["split"])
        s["minutes"][k] = s["minutes"].get(k, 0.0) + float(r["seconds"]) / 60
        s["files"][k] = s["files"].get(k, 0) + 1
        p = s["packages"].setdefault(r["package"], dict(
            version=r["version"], licence=r["licence"], split=r["split"],
            credit=PACKAGES.get(r["package"], {}).get("credit", ""), speakers=[], languages=[],
            minutes={}, files={}))
        p["minutes"][r["kind"]] = p["minutes"].get(r["kind"], 0.0) + float(r["seconds"]) / 60
        p["files"][r["kind"]] = p["files"].get(r["kind"], 0) + 1
        if r["kind"] == "speech":
            p["speakers"] = sorted(set(p["speakers"]) | {r["speaker"]})
            p["languages"] = sorted(set(p["languages"]) | {r["language"]})
    s["minutes"] = {k: round(v, 2) for k, v in s["minutes"].items()}
    for p in s["packages"].values():
        p["minutes"] = {k: round(v, 2) for k, v in p["minutes"].items()}
    s["totals"] = totals(s["packages"])
    return s


def totals(pk):
    def having(kind, split=None):
        return sorted(p for p, v in pk.items() if kind in v["files"] and split in (None, v["split"]))
    speakers = {sp for v in pk.values() for sp in v["speakers"]}
    t = dict(speakers=len(speakers), languages=sorted({l for v in pk.values() for l in v["languages"]}),
             speech_packages=having("speech"), music_packages=having("music"),
             noise_packages=having("noise"),
             noise_files=sum(v["files"].get("noise", 0) for v in pk.values()),
             speakers_by_split={s: len({sp for v in pk.values() if v["split"] == s for sp in v["speakers"]})
                                for s in SPLITS})
    for s in ("valid", "test"):
        t[s + "_packages"] = sorted(p for p, v in pk.items() if v["split"] == s)
    return t


def table(summary):
    kinds = sorted({k.split("/")[0] for k in summary["minutes"]})
    lines = ["| kind | " + " | ".join(SPLITS) + " | total |", "|---|" + "---|" * (len(SPLITS) + 1)]
    for kind in kinds:
        vals = [summary["minutes"].get("%s/%s" % (kind, s), 0.0) for s in SPLITS]
        lines.append("| %s (min) | " % kind + " | ".join("%.1f" % v for v in vals) + " | %.1f |" % sum(vals))
    return "\n".join(lines)


def totals_table(summary):
    t = summary["totals"]
    rows = [("distinct speakers", "%d (train %d, valid %d, test %d)" % (
                t["speakers"], *[t["speakers_by_split"][s] for s in SPLITS])),
            ("languages", "%d: %s" % (len(t["languages"]), ", ".join(t["languages"]))),
            ("speech packages", "%d" % len(t["speech_packages"])),
            ("background (noise) files / packages", "%d / %d" % (t["noise_files"], len(t["noise_packages"]))),
            ("music packages", "%d: %s" % (len(t["music_packages"]), ", ".join(t["music_packages"]))),
            ("valid packages", ", ".join(t["valid_packages"])),
            ("test packages", ", ".join(t["test_packages"]))]
    return "\n".join(["| total | |", "|---|---|"] + ["| %s | %s |" % r for r in rows])


def package_table(summary):
    lines = ["| package | split | speech min | music min | noise files (min) | speakers | languages "
             "| licence |",
             "|---|---|---|---|---|---|---|---|"]
    for p, v in sorted(summary["packages"].items(), key=lambda kv: (SPLITS.index(kv[1]["split"]), kv[0])):
        m, f = v["minutes"], v["files"]
        lines.append("| %s | %s | %.1f | %.1f | %d (%.1f) | %d | %s | %s |" % (
            p, v["split"], m.get("speech", 0), m.get("music", 0), f.get("noise", 0), m.get("noise", 0),
            len(v["speakers"]), " ".join(v["languages"]), v["licence"]))
    return "\n".join(lines)


def readme(summary):
    doc = __doc__
    lines = ["# earflow training corpus", "",
             "Built by `/usr/bin/python3 train/corpus.py --write-docs` from Debian packages "
             "(train/earflow_train/corpus.py). 48 kHz mono 16-bit WAV, silence trimmed, loudness "
             "-23 LUFS (BS.1770-4, peaks <= -1 dBFS). `manifest.csv` names every file's kind, split, "
             "speaker, language, source package, version, licence and source file.", "",
             "## Totals", "", totals_table(summary), "",
             "## Minutes by kind and split", "", table(summary), "",
             "## Packages", "", package_table(summary), "",
             "## Speakers and split rule", "", "```",
             "SPEAKERS" + doc.split("\nSPEAKERS", 1)[1].rstrip(), "```", "",
             "Reserved for independent evaluation, refused by the builder: " + ", ".join(RESERVED) + ".", "",
             "## Attributions", "", "Full copyright files: `licenses/PKG.copyright`.", ""]
    for p, v in sorted(summary["packages"].items()):
        lines.append("- %s %s (%s): %s" % (p, v["version"], v["licence"], v["credit"]))
    return "\n".join(lines) + "\n"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--cache", default=DEFAULT_CACHE, help="where .debs and unpacked trees live")
    ap.add_argument("--out", default=DEFAULT_OUT, help="corpus folder")
    ap.add_argument("--packages", default=",".join(ALL_PACKAGES), help="comma-separated subset")
    ap.add_argument("--offline", action="store_true", help="never fetch; use the cache only")
    ap.add_argument("--fetch-only", action="store_true", help="fetch and unpack, decode nothing")
    ap.add_argument("--max-files", type=int, default=0, help="at most N files per package part (tests)")
    ap.add_argument("--keep", action="store_true", help="keep the .debs and trees of large packages")
    ap.add_argument("--write-docs", action="store_true", help="also write docs/corpus.md")
    jobs_.add_argument(ap, "files decoded")
    a = ap.parse_args(argv)
    build(a.cache, a.out, [p for p in a.packages.split(",") if p], a.offline, a.max_files, a.fetch_only,
          a.keep, a.write_docs, a.jobs)


if __name__ == "__main__":
    main()
