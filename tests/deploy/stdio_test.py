#!/usr/bin/env python3
"""Nothing but protocol lines reaches the client's side.

usage: stdio_test.py POP3D POP3D_PASSWD

Under inetd, xinetd and systemd both stdout and stderr can be the
client's socket.  Each case here runs pop3d twice: once with stderr the
same pipe as stdout (as a client would see it), once with them apart.
The two must be the same bytes, stderr apart must be empty, and every
line must be a reply or part of a multi-line one.  The cases are
sessions full of errors (bad and overlong commands, a NUL, failed
logins, a locked mailbox, a missing users file, bad message numbers)
and bad command lines, which must write nothing at all, exit 100 and
log the reason.  As root the log is checked too, on a /dev/log of our
own in a private mount namespace.
"""
import fcntl
import os
import re
import shutil
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from deploylib import (Syslog, add_user, bound, private_dev,  # noqa
                       tempdir)
from pop3dtest import check, finish  # noqa: E402

POP3D, PASSWD = (os.path.abspath(p) for p in sys.argv[1:3])
PASSWORD = "right one"


def run(args, data, merged):
    """Returns (stdout, stderr, exit code) of pop3d on data."""
    r = subprocess.run([POP3D] + args, input=data, timeout=60,
                       stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT if merged else subprocess.PIPE)
    return r.stdout, r.stderr, r.returncode


MULTI = re.compile(rb"^(CAPA|LIST|UIDL|RETR|TOP)\b", re.I)


def protocol_only(client, output):
    """True when output reads as replies to client's commands: each
    reply line starts +OK or -ERR, and only a +OK to a multi-line
    command is followed by lines up to a lone "."."""
    cmds = [b"greeting"] + client.split(b"\n")
    lines = output.split(b"\r\n")
    if lines[-1] != b"":
        return False            # ends in a partial line
    lines.pop()
    i = 0
    while lines:
        line = lines.pop(0)
        if not (line.startswith(b"+OK") or line.startswith(b"-ERR")):
            return False
        cmd = cmds[i] if i < len(cmds) else b""
        i += 1
        if line.startswith(b"+OK") and MULTI.match(cmd.strip()) and \
                not re.match(rb"^(LIST|UIDL) \d", cmd.strip(), re.I):
            while lines and lines[0] != b".":
                lines.pop(0)
            if not lines:
                return False
            lines.pop(0)
    return True


def same_both_ways(what, args, data, want_rc=None, want_empty=False):
    merged, _, rc1 = run(args, data, merged=True)
    out, err, rc2 = run(args, data, merged=False)
    check(err == b"", what + ": nothing on stderr", err[:200])
    check(merged == out, what + ": stderr on the same pipe adds nothing",
          (merged[:200], out[:200]))
    if want_empty:
        check(merged == b"", what + ": nothing written at all", merged[:200])
    else:
        check(protocol_only(data, merged), what + ": only protocol lines",
              merged[:400])
    if want_rc is not None:
        check(rc1 == rc2 == want_rc, what + ": exit %d" % want_rc,
              (rc1, rc2))


def main():
    log = None
    if os.geteuid() == 0 and shutil.which("unshare"):
        if os.environ.get("POP3D_DEPLOY_NS") != "1":
            os.environ["POP3D_DEPLOY_NS"] = "1"
            os.execvp("unshare", ["unshare", "--mount", "--propagation",
                                  "private", sys.executable] + sys.argv)
        private_dev()
        log = Syslog()
    else:
        print("# not root: the log is not checked")
    bound(90)
    top = tempdir("pop3d-stdio.")
    try:
        users = os.path.join(top, "users")
        add_user(PASSWD, users, "me", PASSWORD)
        box = os.path.join(top, "mail", "me")
        os.makedirs(box)
        for n in (1, 2):
            with open(os.path.join(box, "%d.eml" % n), "wb") as f:
                f.write(b"Subject: %d\n\n.dot\nbody\n" % n)
        base = ["--users", users, "--mail-root", os.path.join(top, "mail")]
        login = b"USER me\r\nPASS " + PASSWORD.encode() + b"\r\n"

        same_both_ways("errors before login", base,
                       b"NOOP\r\nUSER\r\nPASS x\r\nUSER me\r\nPASS wrong\r\n"
                       b"USER nobody\r\nPASS wrong\r\nSTAT\r\n"
                       + b"A" * 600 + b"\r\nQU\x00IT\r\nQUIT\r\n")
        same_both_ways("errors after login", base, login +
                       b"RETR\r\nRETR 0\r\nRETR 99\r\nRETR 1x\r\n"
                       b"RETR 99999999999999\r\nTOP 1\r\nTOP 1 -1\r\n"
                       b"LIST 3\r\nUIDL x\r\nDELE 1\r\nDELE 1\r\nRETR 1\r\n"
                       b"CAPA\r\nLIST\r\nUIDL\r\nRETR 2\r\nTOP 2 0\r\n"
                       b"RSET\r\nPASS x\r\nUSER me\r\n"
                       + b"B" * 1000 + b"\r\nQUIT\r\n")
        same_both_ways("too many bad commands", base, login +
                       b"BAD\r\n" * 25, want_rc=1)
        same_both_ways("three failed logins", base,
                       b"USER me\r\nPASS a\r\n" * 3, want_rc=1)
        same_both_ways("a missing users file",
                       ["--users", os.path.join(top, "none"),
                        "--mail-root", top], login + b"QUIT\r\n")
        lock = os.open(os.path.join(box, ".pop3d.lock"),
                       os.O_RDWR | os.O_CREAT, 0o600)
        fcntl.flock(lock, fcntl.LOCK_EX)
        same_both_ways("a locked mailbox", base, login + b"QUIT\r\n")
        os.close(lock)
        same_both_ways("end of input mid-line", base, login + b"STAT",
                       want_rc=1)

        since = len(log.snapshot()) if log else 0
        for args in (["--bogus"], ["-x"], ["--users"],
                     ["--idle-timeout", "0"], ["--idle-timeout", "x"],
                     base + ["extra"], ["--users=%s" % users, "-"]):
            same_both_ways("bad command line %r" % args, args,
                           b"USER me\r\n", want_rc=100, want_empty=True)
        if log:
            got = log.wait_for(rb"pop3d\[(\d+)\]: session=\1@local "
                               rb"startup result=usage", since=since)
            check(got is not None, "a bad command line is logged, with "
                  "the session tag", log.snapshot()[since:][:3])
    finally:
        if log:
            log.close()
        shutil.rmtree(top, ignore_errors=True)
    sys.exit(finish())


if __name__ == "__main__":
    main()
