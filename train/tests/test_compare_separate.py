"""compare_separate: paired differences between two evaluator runs, and the refusal
of runs on different mixtures."""
import os
import sys

import numpy as np
import pytest

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))

import compare_separate  # noqa: E402


def run(offset, noise, seed=2026):
    """An evaluator result: 8 speech mixtures at -5 and +5 dB, one clean item."""
    rng = np.random.RandomState(3)
    items = []
    for snr in (-5, 5):
        for k in range(8):
            base = rng.normal(snr + 3, 2)
            items.append({"name": "speech_snr%d_%02d" % (snr, k), "label": "speech", "snr_db": snr,
                          "in": float(snr), "keep@euler:1:0": base + offset + noise[k]})
    items.append({"name": "speech_clean_00", "label": "speech", "snr_db": 99, "in": float("inf"),
                  "keep@euler:1:0": 30.0 + offset})
    return {"split": "valid", "seed": seed, "count_per_cell": 8, "seconds": 4.0, "items": items}


def test_paired_difference_is_the_offset():
    small = [0.01 * (k - 3.5) for k in range(8)]
    table = compare_separate.paired_table(run(0.0, [0] * 8), run(0.5, small))
    row = [line for line in table.splitlines() if line.startswith("| euler:1:0 | speech")][0]
    cells = [c.strip() for c in row.strip("|").split("|")]
    assert cells[2].startswith("+0.50 ± ") and cells[3].startswith("+0.50 ± ") and cells[4].startswith("+0.50 ± ")
    assert "+99" not in table                 # the clean item (input SI-SDR infinite) is left out


def test_different_mixtures_refused():
    with pytest.raises(ValueError, match="seed"):
        compare_separate.paired_table(run(0, [0] * 8), run(0, [0] * 8, seed=7))
    b = run(0, [0] * 8)
    b["items"][0]["in"] += 1
    with pytest.raises(ValueError, match="input SI-SDR"):
        compare_separate.paired_table(run(0, [0] * 8), b)


def test_by_voice_shows_which_voice_gained():
    a, b = run(0.0, [0] * 8), run(0.0, [0] * 8)
    assert compare_separate.paired_group_table(a, b, "voice", compare_separate.voice_of) == ""        # older runs name no voice
    for r in (a, b):
        for it in r["items"]:
            it["voice"] = "v1" if it["name"][-1] in "0123" else "v2"
    for it in b["items"]:
        it["keep@euler:1:0"] += 1.0 if it["voice"] == "v1" else 0.0
    rows = {line.split("|")[2].strip(): line for line in compare_separate.paired_group_table(a, b, "voice", compare_separate.voice_of).splitlines()[2:]}
    assert set(rows) == {"v1", "v2"}
    assert "| 8 | +1.00 ± 0.00 |" in rows["v1"] and "| 8 | +0.00 ± 0.00 |" in rows["v2"]
