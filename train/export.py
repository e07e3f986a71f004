#!/usr/bin/python3
"""Entry point: see train/earflow_train/export.py."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from earflow_train.export import main  # noqa: E402

if __name__ == "__main__":
    main()
