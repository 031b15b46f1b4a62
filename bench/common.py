"""What every part of bench/run shares: its error and its log."""

import sys


class BenchError(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)
