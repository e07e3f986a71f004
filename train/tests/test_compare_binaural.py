"""train/compare_binaural.py: B minus A paired by sequence, per room, the reverberant
rooms together and all; refused when the two runs scored other sequences."""
import pytest

import compare_binaural as cb


def run(ild, files=("s1", "s2", "s3", "s4"), direct=True):
    def s(v):
        d = {"ild_db": v, "itd_us": 10.0, "ic_err": 0.1, "amp": 0.01}
        if direct:
            d.update(ild_direct_db=v / 2, itd_direct_us=5.0)
        return d
    rows = {"model, euler 1 step t0 0 (1 NFE) (default)": {f: s(v) for f, v in zip(files, ild)},
            "prior alone": {f: s(9.0) for f in files}}
    return {"split": "validset", "files": list(files), "per_sequence": rows}


ROOM_OF = {"s1": "anechoic", "s2": "anechoic", "s3": "small", "s4": "large"}


def cells(md, rooms, first=0):
    """{rooms: the row's cells} of the first table (first=0) or the second."""
    table = md.split("\n\n")[1 + first]
    return {r.split(" | ")[1]: r.split(" | ") for r in table.splitlines() if r.startswith("| B")}


def test_b_minus_a_per_room():
    md = cb.compare(run([1.0, 2.0, 3.0, 3.0]), run([1.5, 2.7, 3.1, 3.3]), ROOM_OF)
    t = cells(md, ROOM_OF)
    assert list(t) == ["anechoic", "small", "large", "reverberant", "all"]
    assert t["anechoic"][2] == "2" and t["anechoic"][3] == "+0.600 ± 1.271"   # 12.706 x 0.1414 / sqrt 2
    assert t["reverberant"][2] == "2" and t["reverberant"][3].startswith("+0.200 ± ")
    assert t["small"][3] == "-"                      # one sequence: no interval
    d = cells(md, ROOM_OF, first=1)                  # the direct-sound frames: half the ILD here
    assert d["anechoic"][3] == "+0.300 ± 0.635"


def test_against_another_row_and_refusals():
    md = cb.compare(run([1.0] * 4), run([1.0] * 4), ROOM_OF, name_b="prior alone")
    assert cells(md, ROOM_OF)["all"][3] == "+8.000 ± 0.000"
    with pytest.raises(ValueError, match="same sequences"):
        cb.compare(run([1.0] * 4), run([1.0] * 3, files=("s1", "s2", "s3")), ROOM_OF)
    with pytest.raises(ValueError, match="no system"):
        cb.compare(run([1.0] * 4), run([1.0] * 4), ROOM_OF, name_a="DSP")
    assert "direct-sound" not in cb.compare(run([1.0] * 4, direct=False), run([1.0] * 4, direct=False), ROOM_OF)
