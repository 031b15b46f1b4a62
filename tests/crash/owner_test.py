#!/usr/bin/env python3
"""pop3d-import run as root gives away only the folders it made.

Usage: owner_test.py POP3D-IMPORT

Run as root, "pop3d-import mbox MBOX MAILDIR" makes MAILDIR and its
tmp/, new/ and cur/ and gives them to the owner of the folder MAILDIR is
made in.  That owner may change the folder meanwhile.  strace stops the
import right after each of those mkdirs while the test puts a symbolic
link to a file of root's in the place of the folder just made, then lets
it go on: the file must stay root's (a chown by name would follow the
link and give it away: /etc/shadow, say), the import must fail saying
so, and the mbox must be as it was.  A run left alone must give every
folder to the owner and copy the mail, so that the checks can fail.

Needs root (chown) and strace: exit 77 without them.
Prints "N passed, N failed".
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pop3dtest import check, end_tracer, finish, skip, wait_stopped  # noqa: E402

IMPORT = sys.argv[1]
OWNER = 65534
MBOX = (b"From a@example.org Mon Jan  1 00:00:00 2024\nSubject: one\n\nhi\n\n"
        b"From b@example.org Mon Jan  1 00:00:01 2024\nSubject: two\n\nho\n")
MADE = "trace=mkdir,mkdirat"


def setup(base):
    top = tempfile.mkdtemp(dir=base)
    home = os.path.join(top, "home")
    os.mkdir(home)
    os.chown(home, OWNER, OWNER)
    with open(os.path.join(top, "mbox"), "wb") as f:
        f.write(MBOX)
    victim = os.path.join(top, "victim")
    with open(victim, "w") as f:
        f.write("root's secret\n")
    os.chmod(victim, 0o600)
    return top, home, victim


def argv(top):
    return [IMPORT, "mbox", os.path.join(top, "mbox"),
            os.path.join(top, "home", "Maildir")]


def folders_made(base):
    """The mkdir calls of a run left alone, as (call, its count, path
    made), after checking that run gave everything to the owner."""
    top, home, _ = setup(base)
    log = os.path.join(top, "trace")
    r = subprocess.run(["strace", "-s", "4096", "-o", log, "-e", MADE, "--"]
                       + argv(top), capture_output=True, timeout=60)
    check(r.returncode == 0, "a run left alone: exit %d: %r"
          % (r.returncode, r.stderr))
    maildir = os.path.join(home, "Maildir")
    for sub in ("", "tmp", "new", "cur"):
        path = os.path.join(maildir, sub)
        check(os.path.isdir(path) and os.lstat(path).st_uid == OWNER,
              "a run left alone: %s/ given to the owner" % (sub or "Maildir"))
    check(len(os.listdir(os.path.join(maildir, "new"))) == 2,
          "a run left alone: two messages copied")
    made, seen = [], {}
    with open(log) as f:
        for line in f:
            m = re.match(r'(mkdir(?:at)?)\((?:[^,]+, )?"([^"]*)"', line)
            if m:
                seen[m.group(1)] = seen.get(m.group(1), 0) + 1
                made.append((m.group(1), seen[m.group(1)], m.group(2)))
    check(len(made) == 4, "a run left alone makes 4 folders: %r" % made)
    return made


def swapped_after(base, call, n, name):
    """Stops the import after call #n, which made name, puts a symlink to
    root's file there, and lets the import go on."""
    top, home, victim = setup(base)
    what = "a symlink put where %s was made" % name
    maildir = os.path.join(home, "Maildir")
    made = os.path.join(maildir, name) if name in ("tmp", "new", "cur") else maildir
    p = subprocess.Popen(["strace", "-e", MADE, "-e",
                          "inject=%s:signal=SIGSTOP:when=%d" % (call, n), "--"]
                         + argv(top), stderr=subprocess.PIPE)
    pid = None
    try:
        pid = wait_stopped(p)
        if not check(pid is not None, what + ": the import never stopped"):
            return
        check(os.path.isdir(made), what + ": made before the stop")
        os.rmdir(made)
        os.symlink(victim, made)
        os.kill(pid, signal.SIGCONT)
        err = p.stderr.read()
        p.wait(timeout=60)
    finally:
        end_tracer(p, pid)
    check(os.stat(victim).st_uid == 0, what + ": root's file given away")
    check(os.lstat(made).st_uid == 0 and os.path.islink(made),
          what + ": the symlink changed")
    check(p.returncode != 0, what + ": the import did not fail")
    check(b"pop3d-import:" in err, what + ": the import said nothing", err)
    with open(os.path.join(top, "mbox"), "rb") as f:
        check(f.read() == MBOX, what + ": the mbox changed")


def main():
    if os.geteuid() != 0:
        skip("needs root: pop3d-import gives folders away only as root")
    if shutil.which("strace") is None:
        skip("strace is not installed")
    base = tempfile.mkdtemp(prefix="pop3d-owner.")
    os.chmod(base, 0o755)
    try:
        for call, n, path in folders_made(base):
            swapped_after(base, call, n, os.path.basename(path))
    finally:
        shutil.rmtree(base)
    finish()


if __name__ == "__main__":
    main()
