#!/usr/bin/env python3
"""A wrong password, an unknown user and a banned address look alike.

Usage: timing_test.py POP3D POP3D-PASSWD

The user is made with the real pop3d-passwd (argon2id at its real cost).
Each attempt times the reply to PASS alone.  The replies must be the same
bytes; the medians must lie within 20% of each other; and every failure
must wait at least the one-second minimum.  pop3d runs with login
slots (--runtime-dir), as the units run it.  The client address comes
from REMOTE_ADDR, as xinetd and systemd-socket-activate set it.
"""
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pop3dtest import check, finish, skip, wrapped  # noqa: E402

if wrapped():
    # Under valgrind (POP3D_WRAPPER) timing says nothing about pop3d.
    skip("pop3d runs under $POP3D_WRAPPER")

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


def attempt(top, user, password, addr=None, limit_as=None):
    """One login from addr (REMOTE_ADDR, as an activator sets it)."""
    def limit():
        if limit_as is not None:
            resource.setrlimit(resource.RLIMIT_AS, (limit_as, limit_as))
    env = dict(os.environ)
    env.pop("REMOTE_HOST", None)
    env.pop("REMOTE_ADDR", None)
    if addr is not None:
        env["REMOTE_ADDR"] = addr
    # With login slots, as the units run it: a wrong password and an
    # unknown user each hold one around their check.
    run = os.path.join(top, "run")
    os.makedirs(run, mode=0o700, exist_ok=True)
    proc = subprocess.Popen([POP3D, "--users", os.path.join(top, "users"),
                             "--mail-root", os.path.join(top, "mail"),
                             "--ban-file", os.path.join(top, "failures"),
                             "--runtime-dir", run],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            preexec_fn=limit, env=env)
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
    _, _, usage = os.wait4(proc.pid, 0)
    attempt.peak_kib = usage.ru_maxrss
    return first, reply, took


def main():
    top = tempfile.mkdtemp(prefix="pop3d-timing.")
    try:
        r = subprocess.run([PASSWD, "add", "--users", os.path.join(top, "users"), "me"],
                           input=b"right password\n", capture_output=True)
        check(r.returncode == 0, "pop3d-passwd add")
        os.makedirs(os.path.join(top, "mail", "me"))
        # Ten wrong passwords from one address: it is banned, and then
        # even the right password is refused; another address gets in.
        for i in range(10):
            attempt(top, b"me", b"guess %d" % i, addr="192.0.2.77")
        _, reply, _ = attempt(top, b"me", b"right password", addr="192.0.2.77")
        check(reply == b"-ERR [AUTH] authentication failed\r\n",
              "banned address with the right password: %r" % reply)
        _, reply, _ = attempt(top, b"me", b"right password", addr="198.51.100.5")
        check(reply.startswith(b"+OK maildrop"), "another address: %r" % reply)
        times = {"wrong password": [], "unknown user": [], "banned address": []}
        replies = set()
        for i in range(ROUNDS):
            # Each from an address of its own, so none of them is banned.
            for kind, user, addr in (
                    ("wrong password", b"me", "203.0.113.%d" % (2 * i + 1)),
                    ("unknown user", b"nobody", "203.0.113.%d" % (2 * i + 2)),
                    ("banned address", b"me", "192.0.2.77")):
                first, reply, took = attempt(top, user, b"not the password",
                                             addr=addr)
                replies.add((first, reply))
                times[kind].append(took)
        print({k: ["%.3f" % t for t in v] for k, v in times.items()})
        check(len(replies) == 1, "replies differ: %r" % replies)
        check(replies.pop()[1] == b"-ERR [AUTH] authentication failed\r\n",
              "failed login reply")
        for kind, ts in times.items():
            check(min(ts) >= 0.95, "%s answered after %.3f s" % (kind, min(ts)))
        medians = [statistics.median(v) for v in times.values()]
        check(max(medians) - min(medians) <= 0.2 * min(medians),
              "medians differ: %r" % medians)
        _, reply, _ = attempt(top, b"me", b"right password")
        check(reply.startswith(b"+OK maildrop has 0 messages"), "right password: %r" % reply)
        # Too little memory for the hash is a temporary failure, never a
        # wrong password (which would count against the user).
        if b"libasan" in subprocess.run(["ldd", POP3D], capture_output=True).stdout:
            print("ASan build: its shadow memory defeats RLIMIT_AS and "
                  "peak-memory checks; not tried")
        else:
            # An unknown user costs what the file's users cost: its dummy
            # verification uses their argon2id memory (64 MiB here) ...
            attempt(top, b"nobody", b"x")
            check(attempt.peak_kib >= 64 * 1024,
                  "unknown user, 64 MiB hashes: peak %d KiB" % attempt.peak_kib)
            # ... and no more than theirs when they are cheap (8 KiB).
            cheap = os.path.join(top, "cheap")
            os.makedirs(cheap)
            r = subprocess.run([PASSWD, "add", "--ops", "1", "--mem", "8K",
                                "--users", os.path.join(cheap, "users"), "me"],
                               input=b"right password\n", capture_output=True)
            check(r.returncode == 0, "pop3d-passwd add --ops 1 --mem 8K")
            os.makedirs(os.path.join(cheap, "mail"))
            attempt(cheap, b"nobody", b"x")
            check(attempt.peak_kib < 48 * 1024,
                  "unknown user, 8 KiB hashes: peak %d KiB" % attempt.peak_kib)
            _, reply, _ = attempt(top, b"me", b"right password", limit_as=48 << 20)
            check(reply == b"-ERR [SYS/TEMP] try again later\r\n",
                  "with 48 MiB of address space: %r" % reply)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
