#!/usr/bin/env python3
"""A logged-in session can reach its own mailbox and nothing else.

usage: sandbox_test.py SANDBOX_PROBE POP3D POP3D_PASSWD

SANDBOX_PROBE runs the real session, users and store code with the real
sandbox (sandbox.c, Landlock) and, from inside the confined process,
tries to read /etc/passwd, the users file, another user's mailbox and
the mail root, to write, rename and remove outside its folder, to make
a folder or a symbolic link, to follow a symbolic link out, and to
connect over TCP.  Each must fail with EACCES, while its own messages
stay readable and a full session (LIST, RETR, DELE, a QUIT that writes
a journal) gives the same bytes and leaves the same mailbox as an
unconfined one.  The same probes without the sandbox succeed, so the
test can fail.  A read-only user may not write even its own folder; a
user without a folder reaches nothing at all; a Maildir is served.  With
strace making the version query answer 1 to 6, each older Landlock ABI
gets a sandbox as tight as that ABI allows, and the same session.

Then the real pop3d: it confines itself after the login (strace);
where a Landlock call fails it answers -ERR [SYS/TEMP] and serves
nothing; where the kernel has no Landlock or a system call filter
hides it (ENOSYS, EOPNOTSUPP, EPERM injected into the version query) it
logs that once and serves.  As root, in a private mount namespace
with a /dev/log of the test's own, the log lines are checked, and
syslog must still deliver after confinement even when /dev/log is
replaced mid-session (glibc connects again).

Skipped (77) only when the kernel has no Landlock.  Without strace the
real-binary checks are left out; without root, the log checks.
"""
import os
import shutil
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from deploylib import (Syslog, add_user, bound, private_dev,  # noqa
                       tempdir)
from pop3dtest import check, finish, skip  # noqa: E402

PROBE, POP3D, PASSWD = (os.path.abspath(p) for p in sys.argv[1:4])
PASSWORD = "sand boxed"
NS_FLAG = "POP3D_SANDBOX_NS"
MESSAGES = {"1.eml": b"Subject: one\n\nbody one\n",
            "2.eml": b"Subject: two\r\n\r\nbody two\r\n",
            "3.eml": b"Subject: three\n\nbody three\n"}


def untraced_lsan():
    """The environment, less LeakSanitizer, which can't run under strace
    (ASan builds only)."""
    return dict(os.environ, ASAN_OPTIONS=os.environ.get("ASAN_OPTIONS", "")
                + ":detect_leaks=0")


def level():
    r = subprocess.run([PROBE, "--level"], capture_output=True, text=True,
                       timeout=30)
    return int(r.stdout.strip() or "0")


def fixture(top):
    """Fresh mailboxes: me (plain), other, ro (read-only), md (Maildir);
    the user "none" has no folder."""
    mail = os.path.join(top, "mail")
    shutil.rmtree(mail, ignore_errors=True)
    for user in ("me", "other", "ro"):
        os.makedirs(os.path.join(mail, user))
        for name, data in MESSAGES.items():
            with open(os.path.join(mail, user, name), "wb") as f:
                f.write(data)
    os.symlink("/etc/passwd", os.path.join(mail, "me", "escape"))
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(mail, "md", sub))
    with open(os.path.join(mail, "md", "new", "100.x"), "wb") as f:
        f.write(MESSAGES["1.eml"])
    with open(os.path.join(mail, "md", "cur", "200.y:2,S"), "wb") as f:
        f.write(MESSAGES["2.eml"])
    for junk in ("planted", "planted.moved"):
        if os.path.exists(os.path.join(top, junk)):
            os.unlink(os.path.join(top, junk))
    return mail


def login(user):
    return ("USER %s\r\nPASS %s\r\n" % (user, PASSWORD)).encode()


def drive(top, args, user, commands, probes, prefix=(), users=None):
    """Runs SANDBOX_PROBE; returns (exit code, stdout, {probe: result},
    the report's first line)."""
    report = os.path.join(top, "report")
    r = subprocess.run(list(prefix) + [PROBE] + args + [
        users or os.path.join(top, "users"), os.path.join(top, "mail"),
        report]
        + probes, input=login(user) + commands, capture_output=True,
        timeout=60, env=untraced_lsan() if prefix else None)
    check(r.stderr == b"", "%s: the driver writes nothing to stderr" % user,
          r.stderr[-300:])
    lines = open(report).read().splitlines() if os.path.exists(report) \
        else []
    got = {}
    for line in lines[1:]:
        p, _, res = line.rpartition(" ")
        got[p] = res
    return r.returncode, r.stdout, got, lines[0] if lines else ""


def test_qaut(top, lvl, port):
    """--qaut: one confinement for every login of the connection, so the
    mail root and the users file (its folder, read only) stay reachable;
    nothing else does."""
    mail = os.path.join(top, "mail")
    me, other = os.path.join(mail, "me"), os.path.join(mail, "other")
    etc = os.path.join(top, "etc")
    users = os.path.join(etc, "users")
    os.makedirs(etc, exist_ok=True)
    shutil.copyfile(os.path.join(top, "users"), users)
    outside_dir = os.path.join(top, "outside")
    os.makedirs(outside_dir, exist_ok=True)
    with open(os.path.join(outside_dir, "1.eml"), "wb") as f:
        f.write(MESSAGES["1.eml"])
    reach = {
        "r:" + users: "ok",
        "d:" + other: "ok",
        "r:" + os.path.join(other, "1.eml"): "ok",
        "w:" + os.path.join(other, ".probe"): "ok",
        "u:" + os.path.join(other, ".probe"): "ok",
    }
    outside = {
        "r:/etc/passwd": "EACCES",
        "d:" + etc: "EACCES",
        "w:" + os.path.join(etc, "planted"): "EACCES",
        "u:" + users: "EACCES",
        "d:" + outside_dir: "EACCES",
        "r:" + os.path.join(outside_dir, "1.eml"): "EACCES",
        "w:" + os.path.join(top, "planted"): "EACCES",
        "m:" + os.path.join(mail, "sub"): "EACCES",
        "s:" + os.path.join(me, "link"): "EACCES",
        "r:" + os.path.join(me, "escape"): "EACCES",
    }
    if lvl >= 4:
        outside["c:%d" % port] = "EACCES"
    probes = list(reach) + list(outside)
    fixture(top)
    _, _, got0, _ = drive(top, ["--unconfined"], "me", b"QUIT\r\n", probes,
                          users=users)
    expect_probes("qaut control: without the sandbox every probe succeeds",
                  got0, {p: "ok" for p in probes})
    fixture(top)
    shutil.copyfile(os.path.join(top, "users"), users)  # the control's u:
    cmds = ("DELE 1\r\nQAUT\r\n" + login("other").decode()
            + "DELE 2\r\nRETR 1\r\nQUIT\r\n").encode()
    rc, out, got, hook = drive(top, ["--qaut"], "me", cmds, probes,
                               users=users)
    expect_probes("--qaut: every mailbox under the mail root and the users "
                  "file stay reachable", got, reach)
    expect_probes("--qaut: nothing else can be read, listed, written, "
                  "removed or connected to; no folder or link made", got,
                  outside)
    check(rc == 0 and out.count(b"+OK maildrop has 3 messages") == 2
          and b"+OK 1 messages deleted, log in again\r\n" in out
          and b"\r\nbody one\r\n.\r\n" in out
          and out.endswith(b"+OK bye, 1 messages deleted\r\n"),
          "--qaut: QAUT commits and the second user logs in, confined",
          (rc, out[-400:]))
    check(on_disk(me) == ["2.eml", "3.eml", "escape"] and
          on_disk(other) == ["1.eml", "3.eml"],
          "--qaut: each login deleted in its own mailbox",
          (on_disk(me), on_disk(other)))


def on_disk(folder):
    """The folder's entries, less pop3d's own state files (the lock,
    caches) but for its journal, which must never be left behind."""
    if not os.path.isdir(folder):
        return None
    return sorted(n for n in os.listdir(folder)
                  if not n.startswith(".pop3d.") or
                  n.startswith(".pop3d.journal"))


def expect_probes(what, got, want):
    bad = {p: (got.get(p), w) for p, w in want.items() if got.get(p) != w}
    check(not bad, what, bad)


def test_driver(top, lvl, port):
    mail = os.path.join(top, "mail")
    me, other = os.path.join(mail, "me"), os.path.join(mail, "other")
    users = os.path.join(top, "users")
    outside = {
        "r:/etc/passwd": "EACCES",
        "r:" + users: "EACCES",
        "d:" + mail: "EACCES",
        "d:" + other: "EACCES",
        "r:" + os.path.join(other, "1.eml"): "EACCES",
        "w:" + os.path.join(other, "planted"): "EACCES",
        "u:" + os.path.join(other, "2.eml"): "EACCES",
        "n:" + os.path.join(other, "3.eml"): "EACCES",
        "w:" + os.path.join(top, "planted"): "EACCES",
        "w:" + os.path.join(mail, "new-user"): "EACCES",
        "r:" + os.path.join(me, "escape"): "EACCES",
        "m:" + os.path.join(me, "sub"): "EACCES",
        "s:" + os.path.join(me, "link"): "EACCES",
    }
    if lvl >= 4:
        outside["c:%d" % port] = "EACCES"
    inside = {
        "r:" + os.path.join(me, "1.eml"): "ok",
        "d:" + me: "ok",
        "w:" + os.path.join(me, ".probe"): "ok",
        "n:" + os.path.join(me, ".probe"): "ok",
        "u:" + os.path.join(me, ".probe.moved"): "ok",
        # Left for QUIT to open with O_TRUNC: the truncate right.
        "w:" + os.path.join(me, ".pop3d.journal.tmp"): "ok",
    }
    probes = list(inside) + list(outside)
    cmds = b"LIST\r\nUIDL\r\nRETR 1\r\nTOP 2 0\r\nDELE 1\r\nDELE 2\r\nQUIT\r\n"

    fixture(top)
    _, _, got0, _ = drive(top, ["--unconfined"], "me", cmds, probes)
    expect_probes("control: without the sandbox every probe succeeds",
                  got0, {p: "ok" for p in probes})
    fixture(top)
    rc0, out0, _, _ = drive(top, ["--unconfined"], "me", cmds, [])
    after0 = on_disk(me)

    fixture(top)
    rc, out, got, hook = drive(top, [], "me", cmds, probes)
    check(hook == "hook dirfd=open read-only=0", "the hook gets the "
          "mailbox folder, writable", hook)
    expect_probes("confined: its own folder is readable and writable",
                  got, inside)
    expect_probes("confined: nothing outside its folder can be read, "
                  "listed, written, renamed, removed or connected to; no "
                  "folder or link can be made; no link leads out", got,
                  outside)
    check(rc == 0 and rc0 == 0, "both sessions end with QUIT", (rc, rc0))
    check(out == out0, "the confined session sends the same bytes as the "
          "unconfined one", (out[-200:], out0[-200:]))
    check(out.endswith(b"+OK bye, 2 messages deleted\r\n") and
          b"\r\nbody one\r\n.\r\n" in out, "LIST, RETR, TOP, DELE and "
          "QUIT work confined", out[-300:])
    check(on_disk(me) == after0 == ["3.eml", "escape"],
          "QUIT's journal did its work: the same mailbox as unconfined",
          (on_disk(me), after0))
    check(on_disk(other) == sorted(MESSAGES) and
          not os.path.exists(os.path.join(top, "planted")),
          "nothing outside the folder changed")

    # Each older ABI the kernel can stand in for (strace makes the
    # version query say so): what that ABI can deny is denied, and the
    # session works the same.
    if shutil.which("strace"):
        for abi in range(1, min(lvl, 6) + 1):
            fixture(top)
            trace = os.path.join(top, "strace.txt")
            rc, out, got, _ = drive(
                top, [], "me", cmds, probes, prefix=[
                    "strace", "-qq", "-o", trace,
                    "-e", "trace=landlock_create_ruleset",
                    "-e", "inject=landlock_create_ruleset:retval=%d:when=1"
                    % abi])
            with open(trace) as f:
                check(" = %d (INJECTED)" % abi in f.read(),
                      "Landlock ABI %d: the version query says so" % abi)
            want = dict(inside, **outside)
            if abi < 4 and lvl >= 4:
                want["c:%d" % port] = "ok"     # no network rights yet
            expect_probes("Landlock ABI %d: its own folder only" % abi, got,
                          want)
            check(rc == 0 and out == out0, "Landlock ABI %d: the same "
                  "session" % abi, (rc, out[-200:]))

    # Read-only: reading only, even in its own folder.
    ro = os.path.join(mail, "ro")
    fixture(top)
    rc, out, got, hook = drive(top, [], "ro", b"RETR 1\r\nDELE 1\r\nQUIT\r\n",
                               ["r:" + os.path.join(ro, "1.eml"),
                                "d:" + ro,
                                "w:" + os.path.join(ro, ".probe"),
                                "u:" + os.path.join(ro, "1.eml"),
                                "r:/etc/passwd"])
    check(hook == "hook dirfd=open read-only=1", "a read-only user's hook "
          "says so", hook)
    expect_probes("read-only: its messages can be read, nothing written or "
                  "removed", got,
                  {"r:" + os.path.join(ro, "1.eml"): "ok", "d:" + ro: "ok",
                   "w:" + os.path.join(ro, ".probe"): "EACCES",
                   "u:" + os.path.join(ro, "1.eml"): "EACCES",
                   "r:/etc/passwd": "EACCES"})
    check(rc == 0 and b"\r\nbody one\r\n.\r\n" in out and
          on_disk(ro) == sorted(MESSAGES), "read-only: RETR works, nothing "
          "is removed", (rc, out[-200:], on_disk(ro)))

    # No folder: nothing at all, not even making its own folder.
    fixture(top)
    rc, out, got, hook = drive(top, [], "none", b"STAT\r\nQUIT\r\n",
                               ["d:" + mail, "m:" + os.path.join(mail, "none"),
                                "w:" + os.path.join(mail, "none"),
                                "r:/etc/passwd"])
    check(hook == "hook dirfd=none read-only=0", "a user without a folder: "
          "no folder to allow", hook)
    expect_probes("without a folder nothing can be reached", got,
                  {"d:" + mail: "EACCES",
                   "m:" + os.path.join(mail, "none"): "EACCES",
                   "w:" + os.path.join(mail, "none"): "EACCES",
                   "r:/etc/passwd": "EACCES"})
    check(rc == 0 and b"+OK 0 0\r\n" in out, "the empty mailbox is served",
          out)

    # A Maildir: new/ and cur/ are inside the folder.
    md = os.path.join(mail, "md")
    fixture(top)
    rc, out, got, hook = drive(
        top, [], "md", b"RETR 1\r\nRETR 2\r\nDELE 1\r\nDELE 2\r\nQUIT\r\n",
        ["r:" + os.path.join(md, "new", "100.x"),
         "r:" + os.path.join(md, "cur", "200.y:2,S"),
         "r:" + os.path.join(me, "3.eml")])
    expect_probes("Maildir: new/ and cur/ are readable, a neighbour is not",
                  got, {"r:" + os.path.join(md, "new", "100.x"): "ok",
                        "r:" + os.path.join(md, "cur", "200.y:2,S"): "ok",
                        "r:" + os.path.join(me, "3.eml"): "EACCES"})
    check(rc == 0 and out.endswith(b"+OK bye, 2 messages deleted\r\n") and
          on_disk(os.path.join(md, "new")) == [] and
          on_disk(os.path.join(md, "cur")) == [],
          "Maildir: RETR and a QUIT that deletes work confined",
          (rc, out[-200:]))

    # A hook that fails: fail closed, serve nothing.
    fixture(top)
    rc, out, got, hook = drive(top, ["--hook-fails"], "me",
                               b"LIST\r\nRETR 1\r\nDELE 1\r\nQUIT\r\n", [])
    check(rc == 111 and out == b"+OK pop3d ready\r\n+OK send PASS\r\n"
          b"-ERR [SYS/TEMP] cannot open mailbox, try again later\r\n",
          "a failed confinement: -ERR [SYS/TEMP], exit 111, and not one "
          "more command served", (rc, out))
    check(on_disk(me) == ["1.eml", "2.eml", "3.eml", "escape"],
          "... and nothing removed", on_disk(me))


def pop3d(top, prefix=(), data=None):
    argv = list(prefix) + [POP3D, "--users", os.path.join(top, "users"),
                           "--mail-root", os.path.join(top, "mail")]
    return subprocess.run(argv, input=data, capture_output=True,
                          timeout=60, env=untraced_lsan())


def test_wake_new_folder(top):
    """A user without a folder is confined to nothing: when one appears
    while it sleeps, WAKE says plainly that only a new connection can
    open it, and a new connection does."""
    fixture(top)
    box = os.path.join(top, "mail", "none")
    p = subprocess.Popen([POP3D, "--users", os.path.join(top, "users"),
                          "--mail-root", os.path.join(top, "mail")],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         env=untraced_lsan())
    try:
        p.stdin.write(login("none") + b"SLEE\r\n")
        p.stdin.flush()
        got = [p.stdout.readline() for _ in range(4)]
        os.makedirs(box)
        with open(os.path.join(box, "1.eml"), "wb") as f:
            f.write(MESSAGES["1.eml"])
        p.stdin.write(b"WAKE\r\nQUIT\r\n")
        p.stdin.flush()
        got += [p.stdout.readline() for _ in range(2)]
        p.stdin.close()
        rc = p.wait(timeout=30)
    finally:
        if p.poll() is None:
            p.kill()
        p.stdout.close()
    check(got[2:] == [b"+OK maildrop has 0 messages (0 octets)\r\n",
                      b"+OK sleeping, 0 messages deleted\r\n",
                      b"-ERR [SYS/TEMP] mailbox out of this connection's "
                      b"reach, connect again\r\n", b"+OK bye\r\n"]
          and rc == 0, "WAKE into a folder made since the login: "
          "-ERR [SYS/TEMP], connect again", got)
    r = pop3d(top, data=login("none") + b"STAT\r\nQUIT\r\n")
    check(b"+OK 1 " in r.stdout, "a new connection sees the new folder",
          r.stdout)


def strace(top, inject, data):
    """pop3d under strace -f (one injection or none); returns (run,
    strace's lines)."""
    out = os.path.join(top, "strace.txt")
    prefix = ["strace", "-f", "-qq", "-o", out,
              "-e", "trace=prctl,landlock_create_ruleset,landlock_add_rule,"
              "landlock_restrict_self,openat"]
    if inject:
        prefix += ["-e", "inject=" + inject]
    r = pop3d(top, prefix, data)
    with open(out) as f:
        return r, f.read().splitlines()


def test_real(top, log):
    me = os.path.join(top, "mail", "me")
    session = login("me") + b"LIST\r\nRETR 1\r\nDELE 1\r\nQUIT\r\n"

    fixture(top)
    since = len(log.snapshot()) if log else 0
    r, lines = strace(top, None, session)
    restrict = [i for i, l in enumerate(lines)
                if "landlock_restrict_self(" in l]
    # The folder (its path is shown only to root: pop3d is not dumpable).
    mailbox = [i for i, l in enumerate(lines)
               if "openat(AT_FDCWD," in l and "O_DIRECTORY" in l and
               "O_NOFOLLOW" in l]
    check(len(restrict) == 1 and lines[restrict[0]].endswith("= 0"),
          "pop3d confines itself once", [lines[i] for i in restrict])
    check(mailbox and restrict and mailbox[0] < restrict[0],
          "... after it opened the mailbox", (mailbox, restrict))
    check(any("PR_SET_NO_NEW_PRIVS, 1" in l and l.endswith("= 0")
              for l in lines), "... with no-new-privileges")
    prctls = [l for l in lines if " prctl(" in l]
    nnp = 1 + next((i for i, l in enumerate(prctls)
                    if "PR_SET_NO_NEW_PRIVS" in l), 0)
    after = [l for l in lines[restrict[0] + 1:] if "openat(" in l] \
        if restrict else []
    check(after and not any("AT_FDCWD" in l for l in after),
          "... and after that opens files only relative to the folder",
          after)
    check(r.returncode == 0 and
          r.stdout.endswith(b"+OK bye, 1 messages deleted\r\n") and
          on_disk(me) == ["2.eml", "3.eml", "escape"],
          "the confined pop3d serves and deletes", (r.returncode,
                                                    r.stdout[-200:]))
    if log:
        check(log.wait_for(rb"end reason=quit", since=since) is not None,
              "... and its log lines reach syslog")

    for inject, what in (("landlock_restrict_self:error=EPERM",
                          "landlock_restrict_self fails"),
                         ("landlock_add_rule:error=EBADF",
                          "landlock_add_rule fails"),
                         ("landlock_create_ruleset:error=ENOMEM:when=2",
                          "creating the ruleset fails"),
                         ("prctl:error=EINVAL:when=%d" % nnp,
                          "no-new-privileges fails")):
        fixture(top)
        since = len(log.snapshot()) if log else 0
        r, lines = strace(top, inject, session)
        injected = [l for l in lines if "(INJECTED)" in l]
        check(len(injected) == 1 and (not inject.startswith("prctl") or
                                      "PR_SET_NO_NEW_PRIVS" in injected[0]),
              "%s: the failure is injected where meant" % what, injected)
        check(r.returncode == 111 and r.stdout ==
              b"+OK pop3d ready\r\n+OK send PASS\r\n-ERR [SYS/TEMP] cannot "
              b"open mailbox, try again later\r\n",
              "%s: -ERR [SYS/TEMP], exit 111, nothing served" % what,
              (r.returncode, r.stdout))
        check(on_disk(me) == ["1.eml", "2.eml", "3.eml", "escape"],
              "%s: nothing removed" % what)
        if log:
            check(log.wait_for(rb"login user=me result=tempfail mailbox=\S+ "
                               rb"error=\"confine: ", since=since),
                  "%s: logged" % what)

    for errno, reason in (("ENOSYS", b"no-landlock"),
                          ("EOPNOTSUPP", b"landlock-disabled"),
                          ("EPERM", b"landlock-filtered")):
        fixture(top)
        since = len(log.snapshot()) if log else 0
        r, lines = strace(top, "landlock_create_ruleset:error=" + errno,
                          session)
        check(r.returncode == 0 and
              r.stdout.endswith(b"+OK bye, 1 messages deleted\r\n"),
              "no Landlock (%s): pop3d serves unconfined" % errno,
              (r.returncode, r.stdout[-200:]))
        check(not any("landlock_restrict_self(" in l for l in lines),
              "no Landlock (%s): nothing more is tried" % errno)
        if log:
            log.wait_for(rb"end reason=quit", since=since)
            notes = [l for l in log.snapshot()[since:]
                     if b"sandbox result=unavailable reason=" + reason in l]
            check(len(notes) == 1, "no Landlock (%s): logged once" % errno,
                  notes)


def test_syslog_again(top):
    """Replaces /dev/log in the middle of a confined session: glibc's
    syslog must connect again (a path socket, which Landlock leaves
    alone) and the session's last line must arrive."""
    fixture(top)
    if os.path.exists("/dev/log"):
        os.unlink("/dev/log")
    log = Syslog()
    p = subprocess.Popen([POP3D, "--users", os.path.join(top, "users"),
                          "--mail-root", os.path.join(top, "mail")],
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    try:
        p.stdin.write(login("me"))
        p.stdin.flush()
        got = b""
        while b"+OK maildrop" not in got:
            chunk = p.stdout.read1(4096)
            if not chunk:
                break
            got += chunk
        check(log.wait_for(rb"login user=me result=ok") is not None,
              "the login is logged")
        log.close()
        os.unlink("/dev/log")
        log = Syslog()
        p.stdin.write(b"QUIT\r\n")
        p.stdin.close()
        p.wait(timeout=30)
        check(log.wait_for(rb"pop3d\[%d\]: session=%d@local end "
                           rb"reason=quit" % (p.pid, p.pid)) is not None,
              "syslog connects again after confinement (a new /dev/log)",
              log.snapshot())
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
        log.close()


def main():
    lvl = level()
    if lvl == 0:
        skip("the kernel has no Landlock (or it is disabled)")
    root = os.geteuid() == 0 and shutil.which("unshare") is not None
    if root and os.environ.get(NS_FLAG) != "1":
        os.environ[NS_FLAG] = "1"
        os.execvp("unshare", ["unshare", "--mount", "--propagation",
                              "private", sys.executable] + sys.argv)
    bound(100)
    print("# Landlock ABI %d" % lvl)
    log = None
    if root:
        private_dev()
        log = Syslog()
    else:
        print("# not root: the log checks are left out")
    top = tempdir("pop3d-sandbox.")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    try:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        users = os.path.join(top, "users")
        for user in ("me", "other", "none", "md"):
            add_user(PASSWD, users, user, PASSWORD)
        r = subprocess.run([PASSWD, "add", "--read-only", "--users", users,
                            "ro"], input=PASSWORD.encode() + b"\n",
                           capture_output=True, timeout=60)
        check(r.returncode == 0, "pop3d-passwd add --read-only", r.stderr)
        test_driver(top, lvl, listener.getsockname()[1])
        test_qaut(top, lvl, listener.getsockname()[1])
        test_wake_new_folder(top)
        if shutil.which("strace"):
            test_real(top, log)
        else:
            print("# strace not found: the real pop3d's checks are left out")
        if log:
            log.close()
            log = None
            test_syslog_again(top)
    finally:
        if log:
            log.close()
        listener.close()
        shutil.rmtree(top, ignore_errors=True)
    sys.exit(finish())


if __name__ == "__main__":
    main()
