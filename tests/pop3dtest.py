"""What the Python tests share: a tally of checks and the closing line.

    from pop3dtest import check, finish
    check(reply.startswith(b"+OK"), "login: %r" % reply)
    sys.exit(finish())
"""
import os
import shlex
import sys

_tally = {"passed": 0, "failed": 0}


def check(ok, what):
    """Counts one check; prints what failed."""
    if ok:
        _tally["passed"] += 1
    else:
        _tally["failed"] += 1
        print("FAIL:", what, flush=True)
    return ok


def pop3d_argv(pop3d, *args):
    """pop3d's command line, under $POP3D_WRAPPER when it is set (the
    'valgrind' test setup sets it to a valgrind command line)."""
    return shlex.split(os.environ.get("POP3D_WRAPPER", "")) + [pop3d] + list(args)


def wrapped():
    """Whether pop3d runs under a wrapper: no timing or memory figures."""
    return bool(os.environ.get("POP3D_WRAPPER", "").strip())


def finish():
    """Prints "N passed, N failed"; returns the exit status."""
    print("%d passed, %d failed" % (_tally["passed"], _tally["failed"]))
    sys.stdout.flush()
    return 1 if _tally["failed"] else 0
