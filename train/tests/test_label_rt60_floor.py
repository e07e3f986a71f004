import numpy as np

from label_rt60_floor import floor_table


def test_floor_of_one_rt60_and_of_a_spread():
    # every sequence at the design RT60: no error; anechoic rows are left out
    rows = floor_table({"anechoic": [0.0, 0.0], "small": [0.30] * 5})
    assert [r[0] for r in rows] == ["small"]
    _, n, design, err, within, best, best_err, best_within = rows[0]
    assert n == 5 and design == 0.30 and err == 0 and within == 1
    assert abs(best - 0.30) < 1e-9 and best_err == 0 and best_within == 1
    # RT60 spread 1:2 around a design that is off: the best constant beats it, and
    # no constant brings every sequence within 15 %
    x = list(np.linspace(0.8, 1.6, 41))
    _, _, design, err, within, best, best_err, best_within = floor_table({"large": x})[0]
    assert design == 1.30 and best_err < err and best_within < 1
    assert 0.8 < best < 1.3
