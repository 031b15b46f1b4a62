#!/usr/bin/env python3
"""A wrong password and an unknown user look alike, in bytes and in time.

Usage: timing_test.py POP3D POP3D-PASSWD

The user is made with the real pop3d-passwd (argon2id at its real cost).
Each attempt times the reply to PASS alone.  The replies must be the same
bytes; the medians must lie within 20% of each other; and every failure
must wait at least the one-second minimum.
"""
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pop3dtest import check, finish  # noqa: E402

POP3D, PASSWD = sys.argv[1], sys.argv[2]
ROUNDS = 3
def readline(proc):
    line = b""
    while not line.endswith(b"\r\n"):
        c = proc.stdout.read(1)
        if not c:
            break
        line += c
    return line


def attempt(top, user, password):
    proc = subprocess.Popen([POP3D, "--users", os.path.join(top, "users"),
                             "--mail-root", os.path.join(top, "mail")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    readline(proc)                                   # greeting
    proc.stdin.write(b"USER %s\r\n" % user)
    proc.stdin.flush()
    first = readline(proc)
    proc.stdin.write(b"PASS %s\r\n" % password)
    proc.stdin.flush()
    start = time.monotonic()
    reply = readline(proc)
    took = time.monotonic() - start
    proc.stdin.write(b"QUIT\r\n")
    proc.stdin.close()
    proc.stdout.read()
    proc.wait(timeout=30)
    return first, reply, took


def main():
    top = tempfile.mkdtemp(prefix="pop3d-timing.")
    try:
        r = subprocess.run([PASSWD, "add", "--users", os.path.join(top, "users"), "me"],
                           input=b"right password\n", capture_output=True)
        check(r.returncode == 0, "pop3d-passwd add")
        os.makedirs(os.path.join(top, "mail", "me"))
        times = {"wrong password": [], "unknown user": []}
        replies = set()
        for _ in range(ROUNDS):
            for kind, user in (("wrong password", b"me"), ("unknown user", b"nobody")):
                first, reply, took = attempt(top, user, b"not the password")
                replies.add((first, reply))
                times[kind].append(took)
        print({k: ["%.3f" % t for t in v] for k, v in times.items()})
        check(len(replies) == 1, "replies differ: %r" % replies)
        check(replies.pop()[1] == b"-ERR [AUTH] authentication failed\r\n",
              "failed login reply")
        for kind, ts in times.items():
            check(min(ts) >= 0.95, "%s answered after %.3f s" % (kind, min(ts)))
        a, b = (statistics.median(v) for v in times.values())
        check(abs(a - b) <= 0.2 * min(a, b), "medians %.3f and %.3f differ" % (a, b))
        _, reply, _ = attempt(top, b"me", b"right password")
        check(reply.startswith(b"+OK maildrop has 0 messages"), "right password: %r" % reply)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
