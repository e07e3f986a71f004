import os
import sys

import pytest

TRAIN = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, TRAIN)


@pytest.fixture(scope="session")
def hrtf():
    from earflow_train import corpus
    from earflow_train.hrtf import Hrtf
    try:
        path = corpus.sofa_path()
    except FileNotFoundError as e:
        pytest.fail(str(e))
    return Hrtf(path)


@pytest.fixture(scope="session")
def sim(hrtf):
    from earflow_train import binsim
    return binsim.Simulator(hrtf)
