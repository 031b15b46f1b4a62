#!/usr/bin/env python3
"""Real clients through a real activator, on loopback.

usage: clients_test.py xinetd|socket-activate POP3D POP3D_PASSWD XINETD_ENTRY

Starts pop3d behind the real xinetd (with the shipped xinetd entry, only
its port, address, user, server and arguments replaced) or behind
systemd-socket-activate --inetd, and drives Python's poplib, curl
(list, retrieve, delete), fetchmail (with and without --keep) and mpop
(twice: the second run gets only the new message, by UIDL).  Each checks
the bytes the client got and the mailbox on disk afterwards.  The syslog
lines of every session must name the client, 127.0.0.1.  Runs in a
private mount namespace with a /dev/log of its own (root; else skipped).
"""
import os
import poplib
import re
import shutil
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import deploylib  # noqa: E402
from deploylib import (Activator, Syslog, add_user, bound, delivered,  # noqa
                       lf, on_disk, private_dev, reexec_private,
                       tempdir)
from pop3dtest import check, crlf, finish, skip  # noqa: E402

KIND, POP3D, PASSWD, ENTRY = sys.argv[1:5]
TOOLS = {"xinetd": "xinetd", "socket-activate": "systemd-socket-activate"}
PASSWORD = "pa ss:w0rd \u00e9"      # PASS takes the rest of the line


def big():
    return b"From: big@example.com\nSubject: big\n\n" + b"".join(
        b"%s line %d\n" % (b"." if i % 50 == 0 else b"x" * (i % 70), i)
        for i in range(3000))


MESSAGES = {
    "1.eml": b"From: a@example.com\nSubject: LF\n\nbody\n.\n..two\n.one\n",
    "2.eml": b"From: b@example.com\r\nSubject: CRLF\r\n\r\nbody\r\n.x\r\n",
    "3.eml": b"From: c@example.com\nSubject: 8-bit\n\ncaf\xc3\xa9 \xff\n",
    "4.eml": b"From: d@example.com\nSubject: no final newline\n\nlast",
    "5.eml": big(),
}
NEW = {"6.eml": b"From: e@example.com\nSubject: new\n\narrived later\n"}


def mailbox(top, user, messages):
    box = os.path.join(top, "mail", user)
    os.makedirs(box, exist_ok=True)
    for name, data in messages.items():
        with open(os.path.join(box, name), "wb") as f:
            f.write(data)
    return box


def retry(fn):
    """Runs fn, again while the mailbox is still locked by the session
    before ([IN-USE] after a QUIT that has not quite ended)."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return fn()
        except poplib.error_proto as e:
            if b"[IN-USE]" not in e.args[0] or time.monotonic() > deadline:
                raise
        time.sleep(0.1)


def test_poplib(port, top):
    box = mailbox(top, "pl", MESSAGES)

    def login():
        c = poplib.POP3("127.0.0.1", port, timeout=30)
        c.user("pl")
        c.pass_(PASSWORD)
        return c
    c = retry(login)
    try:
        count, octets = c.stat()
        check(count == len(MESSAGES) and
              octets == sum(len(crlf(m)) for m in MESSAGES.values()),
              "poplib: STAT", (count, octets))
        uids = {int(n): u.decode() for n, u in
                (l.split() for l in c.uidl()[1])}
        check(sorted(uids.values()) == sorted(MESSAGES),
              "poplib: UIDL ids are the file names", uids)
        for n, name in uids.items():
            _, lines, _ = c.retr(n)
            got = b"".join(l + b"\r\n" for l in lines)
            check(got == crlf(MESSAGES[name]),
                  "poplib: RETR %s byte-exact" % name)
        inv = {v: k for k, v in uids.items()}
        c.dele(inv["3.eml"])
        check(c.quit().startswith(b"+OK"), "poplib: QUIT")
    finally:
        c.close()
    check(on_disk(box) == sorted(set(MESSAGES) - {"3.eml"}),
          "poplib: exactly the deleted message is gone", on_disk(box))
    c = poplib.POP3("127.0.0.1", port, timeout=30)
    try:
        c.user("pl")
        try:
            c.pass_("wrong")
            check(False, "poplib: a wrong password is refused")
        except poplib.error_proto as e:
            check(e.args[0].startswith(b"-ERR [AUTH]"),
                  "poplib: a wrong password is refused", e)
        c.quit()
    finally:
        c.close()


def curl(port, path, *extra):
    for _ in range(5):       # 67: login refused, [IN-USE] too
        r = subprocess.run(["curl", "-sS", "--max-time", "30", "--user",
                            "cu:" + PASSWORD] + list(extra) +
                           ["pop3://127.0.0.1:%d/%s" % (port, path)],
                           capture_output=True, timeout=60)
        if r.returncode != 67:
            break
        time.sleep(0.1)
    return r


def test_curl(port, top):
    box = mailbox(top, "cu", MESSAGES)
    names = sorted(MESSAGES)
    r = curl(port, "")
    exp = b"".join(b"%d %d\r\n" % (i + 1, len(crlf(MESSAGES[n])))
                   for i, n in enumerate(names))
    check(r.returncode == 0 and r.stdout == exp, "curl: list",
          (r.returncode, r.stdout, r.stderr))
    for i in (1, 5):
        r = curl(port, str(i))
        check(r.returncode == 0 and r.stdout == crlf(MESSAGES[names[i - 1]]),
              "curl: retrieve %d byte-exact" % i, (r.returncode, r.stderr))
    r = curl(port, "2", "-X", "DELE", "-I")
    check(r.returncode == 0, "curl: delete 2", (r.returncode, r.stderr))
    check(on_disk(box) == [n for n in names if n != names[1]],
          "curl: exactly message 2 is gone", on_disk(box))


def fetchmail(port, top, keep):
    home = os.path.join(top, "fetchmail-home")
    out = os.path.join(top, "fetchmail-" + ("keep" if keep else "flush"))
    return deploylib.fetchmail(home, port, "fm", PASSWORD, out, keep), out


def test_fetchmail(port, top):
    box = mailbox(top, "fm", MESSAGES)
    want = sorted(lf(m) for m in MESSAGES.values())
    r, out = fetchmail(port, top, keep=True)
    check(r.returncode == 0, "fetchmail --keep exits 0",
          (r.returncode, r.stdout[-300:], r.stderr[-300:]))
    check(delivered(out) == want, "fetchmail --keep: every message, "
          "byte-exact", len(delivered(out)))
    check(on_disk(box) == sorted(MESSAGES),
          "fetchmail --keep: the mailbox is as it was", on_disk(box))
    r, out = fetchmail(port, top, keep=False)
    check(r.returncode == 0, "fetchmail without --keep exits 0",
          (r.returncode, r.stdout[-300:], r.stderr[-300:]))
    check(delivered(out) == want, "fetchmail: every message, byte-exact",
          len(delivered(out)))
    check(on_disk(box) == [], "fetchmail: the mailbox is empty after it",
          on_disk(box))


def mpop(port, top, md):
    return deploylib.mpop(os.path.join(top, "mpop-home"), port, "mp",
                          PASSWORD, md)


def test_mpop(port, top):
    box = mailbox(top, "mp", MESSAGES)
    md = [os.path.join(top, "mpop-%d" % i) for i in (1, 2)]
    for d in md:
        for sub in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(d, sub))
    r = mpop(port, top, md[0])
    check(r.returncode == 0, "mpop: first run exits 0",
          (r.returncode, r.stdout[-300:], r.stderr[-300:]))
    check(delivered(md[0]) == sorted(lf(m) for m in MESSAGES.values()),
          "mpop: first run gets every message, byte-exact",
          len(delivered(md[0])))
    mailbox(top, "mp", NEW)
    r = mpop(port, top, md[1])
    check(r.returncode == 0, "mpop: second run exits 0",
          (r.returncode, r.stdout[-300:], r.stderr[-300:]))
    check(delivered(md[1]) == [lf(m) for m in NEW.values()],
          "mpop: second run gets only the new message",
          len(delivered(md[1])))
    check(on_disk(box) == sorted(list(MESSAGES) + list(NEW)),
          "mpop: keep on leaves the mailbox as it was", on_disk(box))


def test_logs(log, kind):
    lines = log.snapshot()
    ours = [l for l in lines if b" pop3d[" in l]
    check(len(ours) > 10, "pop3d logged its sessions", len(ours))
    bad = [l for l in ours if not re.search(
        rb" pop3d\[(\d+)\]: session=\1@127\.0\.0\.1 ", l)]
    check(bad == [], "every pop3d line names the client 127.0.0.1", bad[:3])
    for what in (rb"login user=pl result=ok", rb"login user=pl result=deny",
                 rb"login user=cu result=ok", rb"login user=fm result=ok",
                 rb"login user=mp result=ok"):
        check(any(re.search(rb"session=\d+@127\.0\.0\.1 " + what, l)
                  for l in ours), "logged with the client: " + what.decode())
    if kind == "xinetd":
        # The shipped log_on_success and log_type at work.
        check(any(re.search(rb"^<22>.*START: pop3d pid=\d+ from=127\.0\.0\.1",
                            l) for l in lines),
              "xinetd logs START with the client (facility mail)")
        check(any(re.search(rb"EXIT: pop3d status=0 pid=\d+ duration=\d+", l)
                  for l in lines), "xinetd logs EXIT with status, duration")


def main():
    if KIND not in TOOLS:
        print(__doc__)
        sys.exit(2)
    for tool in (TOOLS[KIND], "curl", "fetchmail", "mpop"):
        if shutil.which(tool) is None:
            skip(tool + " not found (scripts/install-deps installs it)")
    reexec_private("POP3D_DEPLOY_NS")
    bound(100)
    private_dev()
    log = Syslog()
    top = tempdir("pop3d-clients.")
    act = None
    try:
        for user in ("pl", "cu", "fm", "mp"):
            add_user(PASSWD, os.path.join(top, "users"), user, PASSWORD)
        act = Activator(KIND, os.path.abspath(POP3D),
                        ["--users", os.path.join(top, "users"),
                         "--mail-root", os.path.join(top, "mail")],
                        top, os.path.abspath(ENTRY))
        port = act.start()
        for t in (test_poplib, test_curl, test_fetchmail, test_mpop):
            try:
                t(port, top)
            except Exception as e:      # one client's trouble, not all
                check(False, t.__name__, repr(e))
        act.stop()
        test_logs(log, KIND)
    finally:
        if act is not None:
            act.stop()
        log.close()
        shutil.rmtree(top, ignore_errors=True)
    sys.exit(finish())


if __name__ == "__main__":
    main()
