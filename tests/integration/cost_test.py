#!/usr/bin/env python3
"""Unknown names cost what the users file's users cost, whatever its mix.

Usage: cost_test.py POP3D POP3D-PASSWD

A users file holds two users hashed at very different costs (128 MiB
and 8 KiB of argon2id memory), the cheap one last.  Each failed login's
cost is measured on the process that ran it: its CPU time and its peak
memory (getrusage through wait4), since the reply itself comes no
sooner than the one-second delay either way; a hash dearer than that
delay would show the same figures as reply times.  Every unknown name
must cost what one of the users costs: its peak memory, which argon2id's
memory cost sets, in that user's class (the CPU time's ratio to that
user's is printed, not checked: on a loaded machine it wanders, and
the memory already tells the cost), unknown names must fall on both
costs, as the file's users do, and a name must cost the same each
time.  Under an address-space limit the costly user
answers [SYS/TEMP]: unknown names must answer both ways too, never only
[AUTH].  The figures are printed.
"""
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pop3dtest import check, finish, skip, wrapped  # noqa: E402

if wrapped():
    skip("pop3d runs under $POP3D_WRAPPER")

POP3D, PASSWD = sys.argv[1], sys.argv[2]
UNKNOWN = [b"nobody%d" % i for i in range(32)]
BIG_KIB = 64 * 1024          # between the two users' peaks


def measured(top, user, limit_as=None):
    """One failed login as user: (reply to PASS, CPU seconds, peak KiB),
    the resource use taken from wait4."""
    def limit():
        if limit_as is not None:
            resource.setrlimit(resource.RLIMIT_AS, (limit_as, limit_as))
    p = subprocess.Popen([POP3D, "--users", os.path.join(top, "users"),
                          "--mail-root", os.path.join(top, "mail"),
                          "--ban-after", "0"],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         preexec_fn=limit)
    p.stdin.write(b"USER %s\r\nPASS wrong password\r\nQUIT\r\n" % user)
    p.stdin.close()
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    lines = out.split(b"\r\n")
    reply = lines[2] if len(lines) > 2 else out
    return reply, ru.ru_utime + ru.ru_stime, ru.ru_maxrss


def run_all(top, users, limit_as=None):
    with ThreadPoolExecutor(max_workers=4) as ex:
        return list(ex.map(lambda u: measured(top, u, limit_as), users))


def main():
    top = tempfile.mkdtemp(prefix="pop3d-cost.")
    try:
        users = os.path.join(top, "users")
        for name, cost in ((b"costly", ["--ops", "1", "--mem", "128M"]),
                           (b"cheap", ["--ops", "1", "--mem", "8K"])):
            r = subprocess.run([PASSWD, "add"] + cost +
                               ["--users", users, name.decode()],
                               input=b"right password\n",
                               capture_output=True)
            check(r.returncode == 0, "pop3d-passwd add %s" % name, r.stderr)
        os.makedirs(os.path.join(top, "mail"))

        # The medians of three runs each, as the reference.
        ref = {}
        for name in (b"costly", b"cheap"):
            runs = run_all(top, [name] * 3)
            ref[name] = (statistics.median(r[1] for r in runs),
                         statistics.median(r[2] for r in runs))
        print("real users: " + ", ".join(
            "%s %.3f s CPU, %d KiB" % (n.decode(), c, m)
            for n, (c, m) in ref.items()))
        check(ref[b"costly"][1] >= BIG_KIB > ref[b"cheap"][1],
              "the two users' peaks lie either side of %d KiB" % BIG_KIB,
              ref)

        got = run_all(top, UNKNOWN)
        classes = {b"costly": [], b"cheap": []}
        for name, (reply, cpu, kib) in zip(UNKNOWN, got):
            cls = b"costly" if kib >= BIG_KIB else b"cheap"
            classes[cls].append((name, cpu, kib))
            check(reply == b"-ERR [AUTH] authentication failed",
                  "unknown name %s: reply" % name, reply)
        for cls, members in classes.items():
            if not members:
                continue
            ratios = [cpu / ref[cls][0] for _, cpu, _ in members]
            print("unknown names at the %s cost: %d of %d, CPU ratio to "
                  "the user: median %.2f, range %.2f..%.2f" % (
                      cls.decode(), len(members), len(UNKNOWN),
                      statistics.median(ratios), min(ratios), max(ratios)))
        check(all(classes.values()),
              "unknown names fall on every cost the users have",
              {k: len(v) for k, v in classes.items()})

        # The same name costs the same each time.
        again = run_all(top, UNKNOWN[:8])
        for name, (_, _, kib), (_, _, kib0) in zip(UNKNOWN, again, got):
            check((kib >= BIG_KIB) == (kib0 >= BIG_KIB),
                  "unknown name %s costs the same again" % name,
                  (kib0, kib))

        if b"libasan" in subprocess.run(["ldd", POP3D],
                                        capture_output=True).stdout:
            print("ASan build: RLIMIT_AS not tried")
            return finish()
        # 96 MiB of address space: the costly user cannot be checked.
        limit = 96 << 20
        replies = {n: r for n, (r, _, _) in zip(
            (b"costly", b"cheap"), run_all(top, [b"costly", b"cheap"], limit))}
        print("under RLIMIT_AS 96 MiB: %r" % replies)
        check(replies[b"costly"] == b"-ERR [SYS/TEMP] try again later",
              "costly user under the limit", replies[b"costly"])
        check(replies[b"cheap"] == b"-ERR [AUTH] authentication failed",
              "cheap user under the limit", replies[b"cheap"])
        unknown = [r for r, _, _ in run_all(top, UNKNOWN, limit)]
        seen = {r: unknown.count(r) for r in set(unknown)}
        print("unknown names under the limit: %r" % seen)
        check(set(unknown) == set(replies.values()),
              "unknown names answer as the users do, both ways", seen)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    t0 = time.monotonic()
    rc = main()
    print("%.1f s" % (time.monotonic() - t0))
    sys.exit(rc)
