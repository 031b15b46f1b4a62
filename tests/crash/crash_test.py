#!/usr/bin/env python3
"""Kills pop3d at every file-system step of QUIT, and fails each step.

Usage: crash_test.py POP3D POP3D-PASSWD

A dry run under strace finds the system calls the commit makes (from the
creation of the temporary journal on): one statx for each marked file,
and an fsync of the journal, of its folder and of each folder files left,
no more.  Then, for each of them in turn:

- crash: strace delivers SIGKILL on entering that call.  Every unmarked
  message must be intact byte for byte; a removal cut half-way must have
  left its journal in place; and after the next clean login the mailbox
  must hold exactly the
  unmarked ones if the kill came after the journal's rename (the commit
  point), and all of them if it came before.
- signal: strace sends SIGTERM, then SIGHUP, on entering that call.  They
  are blocked during the commit, so it completes: exactly the unmarked
  messages remain and no journal is left.
- fault: strace fails that call with EIO, then ENOSPC.  QUIT must answer
  -ERR (saying "nothing deleted" before the commit point), nothing
  unmarked may be lost, and the next login must leave the mailbox in one
  of the two states, exactly as above.

The same is done to the commits that do not end the session: DELI
(one message at once, while another waits for QUIT: that one must never
be in DELI's journal), SLEE (what QUIT would do, then sleep) and QAUT
(what QUIT would do, then AUTHORIZATION again).  There a failed call
makes DELI, SLEE or QAUT answer -ERR and the session go on, and its QUIT
must then leave exactly what it would have.

Before all that: a second session is refused while the first holds the
lock, and when an admin removes the lock file under the first, the
second may log in but the first's QUIT deletes nothing.

Plain folders and Maildirs are both tried.  Prints "N passed, N failed".
"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pop3dtest import check, finish  # noqa: E402

POP3D, PASSWD = sys.argv[1], sys.argv[2]
MARKED = {2, 4, 5}          # message numbers the client deletes
COUNT = 6
PASSWORD = "crash pw"
SESSION = ("USER me\r\nPASS %s\r\n" % PASSWORD
           + "".join("DELE %d\r\n" % n for n in sorted(MARKED))
           + "QUIT\r\n").encode()
LOGIN_ONLY = ("USER me\r\nPASS %s\r\nSTAT\r\nQUIT\r\n" % PASSWORD).encode()
# DELI 2 is done at once; DELE 4 waits for QUIT.
DELI_SESSION = ("USER me\r\nPASS %s\r\nDELE 4\r\nDELI 2\r\nQUIT\r\n"
                % PASSWORD).encode()
SLEE_SESSION = ("USER me\r\nPASS %s\r\n" % PASSWORD
                + "".join("DELE %d\r\n" % n for n in sorted(MARKED))
                + "SLEE\r\nQUIT\r\n").encode()
QAUT_SESSION = ("USER me\r\nPASS %s\r\n" % PASSWORD
                + "".join("DELE %d\r\n" % n for n in sorted(MARKED))
                + "QAUT\r\nQUIT\r\n").encode()
TRACED = ("openat,write,fsync,close,rename,renameat,renameat2,unlinkat,"
          "newfstatat,statx")
OLD = 1700000000 * 10**9     # the messages' and folders' times, in ns

def message(i):
    # Odd names and contents: a space, 8-bit bytes, a dot line, no final LF.
    return ("m%02d file %s" % (i, "\u00e9" if i % 2 else "x"),
            b"Subject: %d\n\n.\n..dots\nbody \xe9 %d" % (i, i))


def make_box(top, maildir):
    box = os.path.join(top, "mail", "me")
    os.makedirs(box)
    where = box
    if maildir:
        for sub in ("new", "cur", "tmp"):
            os.mkdir(os.path.join(box, sub))
    files = {}
    for i in range(1, COUNT + 1):
        name, data = message(i)
        if maildir:
            where = os.path.join(box, "cur" if i % 2 else "new")
            name = "%d.M%dP1.host%s" % (1700000000 + i, i, ":2,S" if i % 2 else "")
        with open(os.path.join(where, name), "wb") as f:
            f.write(data)
        files[i] = (os.path.join(where, name), data)
    # Times set once and for all, long past: whether pop3d trusts and
    # writes its size cache depends on how old files and folders are, and
    # the calls it makes for that come before the commit's, whose number
    # the kills count.
    for root, dirs, names in os.walk(box, topdown=False):
        for n in names + dirs + ["."]:
            os.utime(os.path.join(root, n), ns=(OLD, OLD))
    return box, files


def state(files):
    """Which messages are on disk; asserts the survivors are intact."""
    left = set()
    for i, (path, data) in files.items():
        if os.path.exists(path):
            with open(path, "rb") as f:
                check(f.read() == data, "message %d changed" % i)
            left.add(i)
    return left


def run(top, data, strace_args=None):
    cmd = [POP3D, "--users", os.path.join(top, "users"),
           "--mail-root", os.path.join(top, "mail"), "--idle-timeout", "10"]
    if data == QAUT_SESSION:
        cmd.append("--qaut")    # QAUT is offered only when asked for
    if strace_args is not None:
        cmd = ["strace", "-o", os.devnull] + strace_args + ["--"] + cmd
    # A SIGHUP ignored by whoever started the test (nohup) would be
    # ignored by pop3d too, so that the SIGHUP checks could not fail.
    return subprocess.run(cmd, input=data, capture_output=True, timeout=60,
                          preexec_fn=lambda: signal.signal(signal.SIGHUP,
                                                           signal.SIG_DFL))


def commit_calls(top, session=SESSION):
    """The (syscall, occurrence) pairs of the first commit, from a dry run."""
    log = os.path.join(top, "trace")
    r = run(top, session, ["-e", "trace=" + TRACED, "-o", log])
    check(r.returncode == 0, "dry run exit %d" % r.returncode)
    seen, calls, started = {}, [], False
    rename_at = None
    prev = None
    with open(log) as f:
        for line in f:
            m = re.match(r"(\w+)\(", line)
            if not m:
                continue
            name = m.group(1)
            seen[name] = seen.get(name, 0) + 1
            if ".pop3d.journal.tmp" in line and name == "openat" and "O_CREAT" in line:
                # A commit begins by removing what may stand at the
                # temporary journal's name, then creating it.
                tmp_removal = (prev is not None and prev[0] == "unlinkat"
                               and ".pop3d.journal.tmp" in prev[2])
                if started:
                    if tmp_removal:
                        calls.pop()
                    break   # the next commit (QUIT after DELI)
                started = True
                if tmp_removal:
                    calls.append(prev[:2])
            prev = (name, seen[name], line)
            if started and name == "write" and line.startswith("write(1,"):
                break       # the reply to QUIT: the commit is over
            if started:
                calls.append((name, seen[name]))
                if name.startswith("rename"):
                    rename_at = len(calls) - 1
    check(rename_at is not None, "dry run found no rename")
    return calls, rename_at


def fresh(base, maildir):
    top = tempfile.mkdtemp(dir=base)
    shutil.copy(os.path.join(base, "users"), os.path.join(top, "users"))
    box, files = make_box(top, maildir)
    return top, box, files


def read_until(proc, marker):
    out = b""
    while marker not in out:
        chunk = proc.stdout.read1(4096)
        if not chunk:
            break
        out += chunk
    return out


def exclusive_sessions(base):
    """A second session gets [IN-USE]; a killed one leaves no stale lock."""
    top, box, files = fresh(base, False)
    cmd = [POP3D, "--users", os.path.join(top, "users"),
           "--mail-root", os.path.join(top, "mail"), "--idle-timeout", "30"]
    first = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    try:
        first.stdin.write(("USER me\r\nPASS %s\r\nDELE 1\r\nSTAT\r\n" % PASSWORD).encode())
        first.stdin.flush()
        out = read_until(first, b"+OK 5 ")
        check(b"+OK 5 " in out, "first session: %r" % out)
        r = run(top, LOGIN_ONLY)
        check(b"-ERR [IN-USE]" in r.stdout, "second session: %r" % r.stdout)
        check(r.stdout.endswith(b"-ERR command not valid in this state\r\n+OK bye\r\n"),
              "second session stays in AUTHORIZATION: %r" % r.stdout)
        first.kill()
        first.wait()
        r = run(top, LOGIN_ONLY)
        check(b"+OK maildrop has 6 messages" in r.stdout,
              "after SIGKILL, next session: %r" % r.stdout)
        check(state(files) == set(range(1, COUNT + 1)), "a killed session deleted mail")
    finally:
        if first.poll() is None:
            first.kill()
            first.wait()
    shutil.rmtree(top)


def removed_lock(base):
    """A lock file removed under a session never lets two sessions commit.

    An admin who removes .pop3d.lock as stale while a session holds it
    lets the next session make a new one and log in.  The first one's
    QUIT must then delete nothing, while the second holds the new lock,
    and the second's QUIT must delete what it marked.
    """
    top, box, files = fresh(base, False)
    cmd = [POP3D, "--users", os.path.join(top, "users"),
           "--mail-root", os.path.join(top, "mail"), "--idle-timeout", "30"]
    procs = []
    try:
        for n in (1, 2):
            if n == 2:
                os.unlink(os.path.join(box, ".pop3d.lock"))
            p = subprocess.Popen(cmd, stdin=subprocess.PIPE,
                                 stdout=subprocess.PIPE)
            procs.append(p)
            p.stdin.write(("USER me\r\nPASS %s\r\nDELE %d\r\nSTAT\r\n"
                           % (PASSWORD, n)).encode())
            p.stdin.flush()
            out = read_until(p, b"+OK 5 ")
            check(b"+OK 5 " in out, "session %d: %r" % (n, out))
        first, second = procs
        out, _ = first.communicate(b"QUIT\r\n", timeout=30)
        check(out.endswith(b"-ERR [SYS/TEMP] nothing deleted, try again "
                           b"later\r\n") and first.returncode == 111,
              "first QUIT beside a session holding the new lock: %r, "
              "exit %d" % (out, first.returncode))
        check(state(files) == set(range(1, COUNT + 1)),
              "first QUIT deleted: left %r" % sorted(state(files)))
        out, _ = second.communicate(b"QUIT\r\n", timeout=30)
        check(out.endswith(b"+OK bye, 1 messages deleted\r\n"),
              "second QUIT: %r" % out)
        check(state(files) == set(range(1, COUNT + 1)) - {2},
              "second QUIT: left %r" % sorted(state(files)))
    finally:
        for p in procs:
            if p.poll() is None:
                p.kill()
                p.wait()
    shutil.rmtree(top)


def immediate_commit(base, maildir, verb):
    """Kills and fails each step of DELI's, SLEE's or QAUT's commit."""
    kind = "%s %s" % ("maildir" if maildir else "folder", verb)
    everything = set(range(1, COUNT + 1))
    if verb == "DELI":
        session, now, later = DELI_SESSION, {2}, {4}
    elif verb == "SLEE":
        session, now, later = SLEE_SESSION, set(MARKED), set()
    else:
        session, now, later = QAUT_SESSION, set(MARKED), set()
    top, box, files = fresh(base, maildir)
    calls, rename_at = commit_calls(top, session)
    check(state(files) == everything - now - later,
          "%s: dry run left %r" % (kind, sorted(state(files))))
    check(len(calls) >= 8, "%s: only %d commit calls" % (kind, len(calls)))
    shutil.rmtree(top)
    for step, (name, n) in enumerate(calls):
        what = "%s: kill at %s #%d (step %d)" % (kind, name, n, step)
        top, box, files = fresh(base, maildir)
        r = run(top, session, ["-e", "inject=%s:signal=KILL:when=%d" % (name, n)])
        check(r.returncode == -9, what + ": not killed (%d)" % r.returncode)
        left = state(files)
        # What DELE marked beside DELI is never touched: it waited for QUIT.
        check(everything - now <= left, what + ": lost %r" % sorted(everything - now - left))
        check(left in (everything, everything - now)
              or os.path.exists(os.path.join(box, ".pop3d.journal")),
              what + ": left %r without a journal" % sorted(left))
        r = run(top, LOGIN_ONLY)
        check(r.returncode == 0 and b"+OK maildrop" in r.stdout,
              what + ": next login failed: %r" % r.stdout)
        left = state(files)
        if step > rename_at:
            check(left == everything - now, what + ": after recovery %r" % sorted(left))
        elif step < rename_at:
            check(left == everything, what + ": after recovery %r" % sorted(left))
        else:
            check(left in (everything, everything - now), what + ": after recovery")
        check(not os.path.exists(os.path.join(box, ".pop3d.journal")),
              what + ": journal left behind")
        shutil.rmtree(top)
    for step, (name, n) in enumerate(calls):
        if name not in ("write", "fsync", "renameat", "renameat2", "rename", "unlinkat"):
            continue
        for err in ("EIO", "ENOSPC"):
            what = "%s: %s at %s #%d (step %d)" % (kind, err, name, n, step)
            top, box, files = fresh(base, maildir)
            r = run(top, session, ["-e", "inject=%s:error=%s:when=%d" % (name, err, n)])
            lines = r.stdout.rstrip(b"\r\n").split(b"\r\n")
            said = [l for l in lines if l.startswith(b"-ERR")]
            check(len(said) == 1 and said[0].startswith(b"-ERR [SYS/TEMP]"),
                  what + ": %s said %r" % (verb, said))
            if step <= rename_at and said:
                check(b"not deleted" in said[0] or b"nothing deleted" in said[0],
                      what + ": claimed %r" % said[0])
            # The session goes on, and its QUIT finishes what is due.
            check(lines[-1].startswith(b"+OK bye") and r.returncode == 0,
                  what + ": QUIT said %r, exit %d" % (lines[-1], r.returncode))
            left = state(files)
            if verb == "DELI" and step <= rename_at:
                check(left == everything - later, what + ": left %r" % sorted(left))
            else:
                check(left == everything - now - later, what + ": left %r" % sorted(left))
            check(not os.path.exists(os.path.join(box, ".pop3d.journal")),
                  what + ": journal left behind")
            shutil.rmtree(top)


def main():
    base = tempfile.mkdtemp(prefix="pop3d-crash.")
    try:
        r = subprocess.run([PASSWD, "add", "--users", os.path.join(base, "users"), "me"],
                           input=(PASSWORD + "\n").encode(), capture_output=True)
        check(r.returncode == 0, "pop3d-passwd add: %r" % r.stderr)
        exclusive_sessions(base)
        removed_lock(base)
        everything = set(range(1, COUNT + 1))
        kept = everything - MARKED
        for maildir in (False, True):
            kind = "maildir" if maildir else "folder"
            top, box, files = fresh(base, maildir)
            calls, rename_at = commit_calls(top)
            check(state(files) == kept, "%s: dry run left %r" % (kind, state(files)))
            check(len(calls) >= 10, "%s: only %d commit calls" % (kind, len(calls)))
            # What the commit costs: one look at each marked file (its
            # identity for the journal), and an fsync of the journal, of
            # its folder (the commit point) and of each folder files left
            # (a Maildir's new/ and cur/ here, a plain folder's own).
            made = [name for name, _ in calls]
            left_from = {os.path.dirname(files[i][0]) for i in MARKED}
            check(made.count("statx") == len(MARKED),
                  "%s: %d statx for %d files" % (kind, made.count("statx"), len(MARKED)))
            check(made.count("fsync") == 2 + len(left_from),
                  "%s: %d fsyncs, want %d" % (kind, made.count("fsync"), 2 + len(left_from)))
            for step, (name, n) in enumerate(calls):
                what = "%s: kill at %s #%d (step %d)" % (kind, name, n, step)
                top, box, files = fresh(base, maildir)
                r = run(top, SESSION, ["-e", "inject=%s:signal=KILL:when=%d" % (name, n)])
                check(r.returncode == -9, what + ": not killed (%d)" % r.returncode)
                left = state(files)
                # Unmarked mail is never touched; a half-done removal
                # must have its journal in place for the next login.
                check(kept <= left, what + ": lost %r" % sorted(kept - left))
                check(left in (everything, kept)
                      or os.path.exists(os.path.join(box, ".pop3d.journal")),
                      what + ": left %r without a journal" % sorted(left))
                r = run(top, LOGIN_ONLY)
                check(r.returncode == 0 and b"+OK maildrop" in r.stdout,
                      what + ": next login failed: %r" % r.stdout)
                left = state(files)
                if step > rename_at:
                    check(left == kept, what + ": after recovery %r" % sorted(left))
                elif step < rename_at:
                    check(left == everything, what + ": after recovery %r" % sorted(left))
                else:
                    check(left in (everything, kept), what + ": after recovery")
                check(not os.path.exists(os.path.join(box, ".pop3d.journal")),
                      what + ": journal left behind")
                shutil.rmtree(top)
            # SIGTERM (or SIGHUP) mid-commit waits until the commit is over.
            for step, (name, n) in enumerate(calls):
                for sig in ("TERM", "HUP"):
                    what = "%s: SIG%s at %s #%d (step %d)" % (kind, sig, name, n, step)
                    top, box, files = fresh(base, maildir)
                    r = run(top, SESSION, ["-e", "inject=%s:signal=%s:when=%d" % (name, sig, n)])
                    check(r.returncode in (-15, -1), what + ": exit %d" % r.returncode)
                    check(state(files) == kept, what + ": left %r" % sorted(state(files)))
                    check(not os.path.exists(os.path.join(box, ".pop3d.journal")),
                          what + ": journal left behind")
                    shutil.rmtree(top)
            # Failing calls: only those that can fail with EIO/ENOSPC.
            for step, (name, n) in enumerate(calls):
                if name not in ("write", "fsync", "renameat", "renameat2", "rename", "unlinkat"):
                    continue
                for err in ("EIO", "ENOSPC"):
                    what = "%s: %s at %s #%d (step %d)" % (kind, err, name, n, step)
                    top, box, files = fresh(base, maildir)
                    r = run(top, SESSION, ["-e", "inject=%s:error=%s:when=%d" % (name, err, n)])
                    last = r.stdout.rstrip(b"\r\n").split(b"\r\n")[-1]
                    check(last.startswith(b"-ERR [SYS/TEMP]"), what + ": QUIT said %r" % last)
                    check(r.returncode == 111, what + ": exit %d" % r.returncode)
                    left = state(files)
                    check(kept <= left, what + ": lost %r" % sorted(kept - left))
                    check(left in (everything, kept)
                          or os.path.exists(os.path.join(box, ".pop3d.journal")),
                          what + ": left %r without a journal" % sorted(left))
                    if step < rename_at:
                        check(b"nothing deleted" in last and left == everything,
                              what + ": claimed %r, left %r" % (last, sorted(left)))
                    r = run(top, LOGIN_ONLY)
                    check(r.returncode == 0, what + ": next login failed")
                    left = state(files)
                    check(left == (kept if step > rename_at else everything),
                          what + ": after next login %r" % sorted(left))
                    shutil.rmtree(top)
            for verb in ("DELI", "SLEE", "QAUT"):
                immediate_commit(base, maildir, verb)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    if shutil.which("strace") is None:
        print("strace is missing")
        sys.exit(1)
    sys.exit(main())
