"""--jobs for the data builders: one forked process pool, or this process alone."""
import argparse
import concurrent.futures
import contextlib
import multiprocessing
import os


def add_argument(ap, what):
    """--jobs N (>= 1; default: one per core)."""
    def count(text):
        n = int(text)
        if n < 1:
            raise argparse.ArgumentTypeError("must be at least 1")
        return n
    ap.add_argument("--jobs", type=count, default=os.cpu_count() or 1,
                    help="%s at once (default: one per core)" % what)


@contextlib.contextmanager
def mapper(jobs):
    """A map(f, *iterables) in order: over `jobs` forked processes (they inherit the
    module state as it is, a test's patches included), or the builtin map for 1."""
    if jobs <= 1:
        yield map
        return
    with concurrent.futures.ProcessPoolExecutor(jobs, mp_context=multiprocessing.get_context("fork")) as pool:
        yield pool.map
