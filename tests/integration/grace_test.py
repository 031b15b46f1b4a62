#!/usr/bin/env python3
"""The time a client may spend before it logs in (--login-grace).

Usage: grace_test.py POP3D POP3D-PASSWD

A client that never logs in but keeps the connection busy (CAPA every
half second, well within the idle timeout) is cut off once the grace
time has passed, and pop3d exits 1 without a reply.  One that logs in
within it is not cut off afterwards: the grace time is AUTHORIZATION's.
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pop3dtest import check, finish, pop3d_argv, wrapped  # noqa: E402

POP3D, PASSWD = sys.argv[1], sys.argv[2]
GRACE = 3


def start(top):
    return subprocess.Popen(
        pop3d_argv(POP3D, "--users", os.path.join(top, "users"),
                   "--mail-root", os.path.join(top, "mail"),
                   "--ban-after", "0", "--idle-timeout", "600",
                   "--login-grace", str(GRACE)),
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def readline(p):
    line = b""
    while not line.endswith(b"\n"):
        c = p.stdout.read(1)
        if not c:
            break
        line += c
    return line


def busy_until_closed(p, limit):
    """Sends CAPA every 0.5 s and reads each reply, until pop3d closes
    (or limit seconds pass); returns the seconds until EOF, or None."""
    begun = time.monotonic()
    while time.monotonic() - begun < limit:
        try:
            p.stdin.write(b"CAPA\r\n")
            p.stdin.flush()
        except BrokenPipeError:
            return time.monotonic() - begun
        while True:
            line = readline(p)
            if not line:
                return time.monotonic() - begun
            if line == b".\r\n":
                break
        time.sleep(0.5)
    return None


def main():
    # Under valgrind a session takes longer, but the bound still holds:
    # only the upper figure is loosened.
    slack = 20 if wrapped() else 3
    top = tempfile.mkdtemp(prefix="pop3d-grace.")
    try:
        r = subprocess.run([PASSWD, "add", "--ops", "1", "--mem", "8K",
                            "--users", os.path.join(top, "users"), "me"],
                           input=b"secret\n", capture_output=True)
        check(r.returncode == 0, "pop3d-passwd add", r.stderr)
        os.makedirs(os.path.join(top, "mail", "me"))

        p = start(top)
        check(readline(p).startswith(b"+OK"), "greeting")
        took = busy_until_closed(p, GRACE + slack + 5)
        rc = p.wait(timeout=30)
        err = p.stderr.read()
        print("busy client cut off after %s s (grace %d s)" % (
            "never" if took is None else "%.2f" % took, GRACE))
        # The grace time runs from pop3d's start, before the greeting
        # this clock starts at: on a loaded machine that start can be
        # late, so the lower bound only says it was not cut off early.
        check(took is not None and GRACE / 2 <= took <= GRACE + slack,
              "a client that never logs in is cut off at the grace time",
              took)
        check(rc == 1, "exit status 1", rc)
        check(err == b"", "nothing on stderr", err)

        # Logged in within the grace time: served past it.
        p = start(top)
        readline(p)
        p.stdin.write(b"USER me\r\nPASS secret\r\n")
        p.stdin.flush()
        readline(p)
        check(readline(p).startswith(b"+OK maildrop"), "login")
        time.sleep(GRACE + 1)
        p.stdin.write(b"NOOP\r\nQUIT\r\n")
        p.stdin.flush()
        check(readline(p) == b"+OK\r\n", "NOOP after the grace time")
        check(readline(p).startswith(b"+OK bye"), "QUIT after it")
        check(p.wait(timeout=30) == 0, "exit status 0")
        p.stderr.read()
    finally:
        shutil.rmtree(top, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
