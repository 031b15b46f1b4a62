#!/usr/bin/env python3
"""pop3d run by root on another user's mailbox.

Usage: root_test.py POP3D POP3D-PASSWD

An admin who tries pop3d by hand as root must not leave files behind
that the mailbox's owner cannot write (a root-owned .pop3d.lock would
make every later session of the service user read-only, and mail would
pile up).  pop3d refuses such a mailbox: the login is answered
[SYS/PERM], the log line (read from stderr on a pseudo-terminal) names
the mailbox and says to run pop3d as its owner, and not a byte in the
folder changes, for a plain folder and a Maildir.  Then the owner's own
session (setpriv to an unprivileged uid) logs in, deletes and QUITs, and
its state files are its own.  Root on root's own mailbox is served as
ever, and a mailbox not made yet is served empty with nothing made.  Needs root and setpriv (exit 77, skipped, otherwise).
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pop3dtest import check, finish, on_terminal, pop3d_argv, skip  # noqa: E402

POP3D, PASSWD = sys.argv[1], sys.argv[2]
PASSWORD = "owner's own"
OWNER = 65534           # nobody
LOGIN = ("USER %s\r\nPASS " + PASSWORD + "\r\nDELE 1\r\nQUIT\r\n")


def run(argv, data, as_owner=False):
    """Runs pop3d with stderr on a pty; (exit code, stdout, terminal)."""
    if as_owner:
        argv = ["setpriv", "--reuid=%d" % OWNER, "--regid=%d" % OWNER,
                "--clear-groups"] + argv
    return on_terminal(argv, data)


def tree(folder):
    """Every name under folder with its owner, size and mtime."""
    out = {}
    for dirpath, dirs, files in os.walk(folder):
        for name in dirs + files:
            path = os.path.join(dirpath, name)
            st = os.lstat(path)
            out[os.path.relpath(path, folder)] = (st.st_uid, st.st_size,
                                                  st.st_mtime_ns)
    return out


def give(folder, uid):
    for dirpath, dirs, files in os.walk(folder):
        os.chown(dirpath, uid, uid)
        for name in files:
            os.chown(os.path.join(dirpath, name), uid, uid)


def main():
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        skip("needs root and setpriv")
    top = tempfile.mkdtemp(prefix="pop3d-root.")
    try:
        os.chmod(top, 0o755)
        users = os.path.join(top, "users")
        mail = os.path.join(top, "mail")
        for name in ("plain", "maildir", "root", "ghostbox"):
            r = subprocess.run([PASSWD, "add", "--users", users, name],
                               input=(PASSWORD + "\n").encode(),
                               capture_output=True)
            check(r.returncode == 0, "pop3d-passwd add %s" % name, r.stderr)
        os.chmod(users, 0o644)
        os.makedirs(mail)
        os.makedirs(os.path.join(mail, "plain"))
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(mail, "maildir", sub))
        os.makedirs(os.path.join(mail, "root"))
        for box, path in (("plain", "plain/1"), ("plain", "plain/2"),
                          ("maildir", "maildir/new/1.a.host"),
                          ("maildir", "maildir/cur/2.b.host:2,S"),
                          ("root", "root/1"), ("root", "root/2")):
            with open(os.path.join(mail, path), "wb") as f:
                f.write(b"Subject: %s\n\nbody\n" % path.encode())
        give(os.path.join(mail, "plain"), OWNER)
        give(os.path.join(mail, "maildir"), OWNER)
        argv = pop3d_argv(POP3D, "--users", users, "--mail-root", mail)

        for box in ("plain", "maildir"):
            folder = os.path.join(mail, box)
            before = tree(folder)
            rc, out, seen = run(argv, (LOGIN % box).encode())
            check(b"-ERR [SYS/PERM]" in out, "%s, as root: refused" % box,
                  out)
            check(b"+OK maildrop" not in out and b"deleted" not in out,
                  "%s, as root: nothing served" % box, out)
            check(("login user=%s result=permfail mailbox=%s reason=root "
                   % (box, folder)).encode() in seen and
                  b"run pop3d as that user" in seen,
                  "%s, as root: the log names the mailbox and says what "
                  "to do" % box, seen)
            check(tree(folder) == before, "%s, as root: nothing in the "
                  "folder changed" % box, (before, tree(folder)))

            rc, out, seen = run(argv, (LOGIN % box).encode(), as_owner=True)
            check(rc == 0 and b"+OK maildrop has 2 messages" in out and
                  b"-ERR" not in out, "%s, as its owner: login, DELE, QUIT"
                  % box, out)
            after = tree(folder)
            msgs = [n for n in after if not os.path.basename(n)
                    .startswith(".") and n not in ("cur", "new", "tmp")]
            check(len(msgs) == 1, "%s, as its owner: one message left"
                  % box, after)
            check(all(uid == OWNER for uid, _, _ in after.values()),
                  "%s: every file is the owner's" % box, after)
            check(any(os.path.basename(n) == ".pop3d.lock" for n in after),
                  "%s: the owner's session took its lock" % box, after)

        # A mailbox not made yet: empty, and root makes nothing there.
        before = tree(mail)
        rc, out, seen = run(argv, ("USER ghostbox\r\nPASS %s\r\nQUIT\r\n"
                                   % PASSWORD).encode())
        check(b"+OK maildrop has 0 messages" in out, "a missing mailbox, "
              "as root: served empty", out)
        check(tree(mail) == before, "a missing mailbox, as root: nothing "
              "made", (before, tree(mail)))

        rc, out, seen = run(argv, (LOGIN % "root").encode())
        check(rc == 0 and b"+OK maildrop has 2 messages" in out,
              "root's own mailbox, as root: served", out)
        check(len([n for n in os.listdir(os.path.join(mail, "root"))
                   if not n.startswith(".")]) == 1,
              "root's own mailbox: DELE done", os.listdir(mail))
    finally:
        shutil.rmtree(top, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
