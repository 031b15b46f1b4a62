#!/usr/bin/env python3
"""End-to-end test of pop3d-passwd through its real interface.

usage: passwd_test.py POP3D POP3D-PASSWD

Runs the real pop3d-passwd (argv, stdin or a pseudo-terminal, exit codes)
against users files in a temporary folder and checks the file on disk
byte for byte: the escaping of names, the lines it must keep, the atomic
replacement (new inode, no FILE.tmp* left), mode and owner, the line
length limit and the lock.  Where it proves the file works, it logs in
with the real pop3d over stdin/stdout.  Prints "N passed, N failed" and
exits 1 when a check failed.
"""

import errno
import glob
import os
import re
import resource
import select
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import termios
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from pop3dtest import check, finish  # noqa: E402

if len(sys.argv) != 3:
    sys.exit("usage: passwd_test.py POP3D POP3D-PASSWD")
POP3D = os.path.abspath(sys.argv[1])
PASSWD = os.path.abspath(sys.argv[2])

TIMEOUT = 30            # seconds for one pop3d-passwd or pop3d run
LINE_MAX = 16384        # POP3D_USERS_LINE_MAX
PASS_MAX = 248          # POP3D_PASS_MAX: "PASS " + 248 + CRLF = 255
HASH = rb"\$argon2id\$v=19\$m=65536,t=2,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+"
EX_USAGE, EX_TEMP = 100, 111

def b(s):
    return s if isinstance(s, bytes) else os.fsencode(s)


def show(data, n=120):
    r = repr(data)
    return r if len(r) <= n else r[:n] + "..."


def passwd(op, users, name, stdin=b"", opts=()):
    """Runs pop3d-passwd OP [opts] --users USERS NAME with stdin given as
    bytes (a pipe, not a terminal).  Returns (exit code, stdout, stderr)."""
    argv = [b(PASSWD), b(op)] + [b(o) for o in opts] + \
        [b"--users", b(users), b(name)]
    p = subprocess.run(argv, input=stdin, capture_output=True,
                       timeout=TIMEOUT)
    return p.returncode, p.stdout, p.stderr


def raw(argv, stdin=b""):
    p = subprocess.run([b(PASSWD)] + [b(a) for a in argv], input=stdin,
                       capture_output=True, timeout=TIMEOUT)
    return p.returncode


def pop3d(users, root, script):
    """Feeds script (bytes, CRLF lines) to pop3d; returns (code, stdout)."""
    p = subprocess.run(shlex.split(os.environ.get("POP3D_WRAPPER", "")) +
                       [POP3D, "--users", users, "--mail-root", root],
                       input=script, capture_output=True, timeout=TIMEOUT)
    return p.returncode, p.stdout


def login(users, root, name, pw, more=b""):
    return pop3d(users, root, b"USER " + b(name) + b"\r\nPASS " + b(pw) +
                 b"\r\n" + more + b"QUIT\r\n")


def maildrop(out, n):
    return (b"\r\n+OK maildrop has %d messages " % n) in out


def read(path):
    try:
        with open(path, "rb") as f:
            return f.read()
    except FileNotFoundError:
        return None


def lines(data):
    """The lines of a file without their LF (a CR stays: it is data)."""
    ls = data.split(b"\n")
    if ls[-1] == b"":
        ls.pop()
    return ls


def leftovers(users):
    return glob.glob(glob.escape(users) + ".tmp*")


def state(users):
    st = os.stat(users)
    return {"data": read(users), "ino": st.st_ino,
            "mode": st.st_mode & 0o7777, "uid": st.st_uid, "gid": st.st_gid}


def user_line(name_esc, rest=b""):
    """A regex for one whole line: escaped name, a hash, then rest."""
    return re.escape(name_esc) + b":" + HASH + re.escape(rest)


def untouched(what, users, before):
    """The users file is exactly as before: bytes, inode, no temp file."""
    after = state(users)
    check(after["data"] == before["data"], f"{what}: file byte-identical",
          show(after["data"]))
    check(after["ino"] == before["ino"],
          f"{what}: file not replaced (same inode)")
    check(not leftovers(users), f"{what}: no temporary file left",
          str(leftovers(users)))


def rewritten(what, users, before, expect, mode=None):
    """The file was replaced atomically, as expect(old lines) says: a list
    of byte strings (kept lines, compared exactly) and compiled regexes
    (new lines).  Mode and owner are kept."""
    after = state(users)
    got, want = lines(after["data"]), expect(lines(before["data"]))
    ok = len(got) == len(want) and all(
        w.fullmatch(g) if isinstance(w, re.Pattern) else g == w
        for g, w in zip(got, want))
    detail = ""
    if not ok:
        for i, (g, w) in enumerate(zip(got, want)):
            wb = w.pattern if isinstance(w, re.Pattern) else w
            if not (w.fullmatch(g) if isinstance(w, re.Pattern) else g == w):
                detail = f"line {i + 1}: got {show(g)}, want {show(wb)}"
                break
        else:
            detail = f"{len(got)} lines, want {len(want)}"
    check(ok, f"{what}: every other line kept byte for byte", detail)
    check(after["data"].endswith(b"\n"),
          f"{what}: file ends with a newline")
    check(after["ino"] != before["ino"],
          f"{what}: replaced atomically (new inode)")
    check(not leftovers(users), f"{what}: no temporary file left",
          str(leftovers(users)))
    check(after["mode"] == (before["mode"] if mode is None else mode),
          f"{what}: mode kept ({before['mode']:04o})",
          f"{after['mode']:04o}")
    check((after["uid"], after["gid"]) == (before["uid"], before["gid"]),
          f"{what}: owner and group kept",
          f"{after['uid']}:{after['gid']}")


def add_ok(users, name, pw, opts=()):
    rc, _, err = passwd("add", users, name, b(pw) + b"\n", opts)
    return check(rc == 0, f"add {show(b(name), 40)}: exit 0",
                 f"exit {rc}: {show(err)}")


# ---------------------------------------------------------------------------

def test_basics(tmp):
    users = os.path.join(tmp, "users")

    # A new file; the test runs with umask 077, the file is still 0640.
    rc, _, err = passwd("add", users, "alice", b"s3cret  \n")
    check(rc == 0, "add alice (password on stdin, trailing spaces): exit 0",
          f"exit {rc}: {show(err)}")
    st = os.stat(users)
    check(st.st_mode & 0o7777 == 0o640, "a new users file is created 0640",
          f"{st.st_mode & 0o7777:04o}")
    check(re.fullmatch(user_line(b"alice", b"\n"), read(users)) is not None,
          "new file holds exactly alice:HASH\\n",
          show(read(users)))
    check(not leftovers(users),
          "no temporary file left after creating the file")

    for pw, want, what in [(b"s3cret  \n", 0, "right password, LF"),
                           (b"s3cret  \r\n", 0, "right password, CRLF"),
                           (b"s3cret  ", 0, "right password, no line end"),
                           (b"s3cret\n", 1, "without its trailing spaces"),
                           (b"s3cret \n", 1, "with one trailing space less"),
                           (b"s3cret   \n", 1, "with one trailing space more"),
                           (b"wrong\n", 1, "wrong password")]:
        rc, out, _ = passwd("check", users, "alice", pw)
        check(rc == want, f"check alice, {what}: exit {want}", f"exit {rc}")

    rc, _, _ = passwd("add", users, "bob", b"crlf pw\r\n")
    check(rc == 0, "add bob with a CRLF-ended password: exit 0")
    rc, _, _ = passwd("check", users, "bob", b"crlf pw\n")
    check(rc == 0, "CRLF was stripped: check bob with LF: exit 0")
    rc, _, _ = passwd("check", users, "bob", b"crlf pw\r\r\n")
    check(rc == 1, "only one CR is stripped: check bob 'pw\\r' exit 1")

    rc, _, _ = passwd("add", users, "carol", b"first\nsecond\n")
    check(rc == 0, "add carol with two lines on stdin: exit 0")
    rc, _, _ = passwd("check", users, "carol", b"first\n")
    check(rc == 0, "only the first line is the password (check first: 0)")
    rc, _, _ = passwd("check", users, "carol", b"second\n")
    check(rc == 1, "the second line is not (check second: 1)")

    before = state(users)
    rc, _, err = passwd("add", users, "alice", b"other\n")
    check(rc == 1, "add of an existing user: exit 1", f"exit {rc}")
    untouched("add of an existing user", users, before)
    rc, _, _ = passwd("check", users, "alice", b"s3cret  \n")
    check(rc == 0, "existing user keeps the old password")

    before = state(users)
    rc, _, err = passwd("passwd", users, "alice", b"n3w pass\n")
    check(rc == 0, "passwd alice: exit 0", f"exit {rc}: {show(err)}")
    rewritten("passwd alice", users, before, lambda ls: [
        re.compile(user_line(b"alice")) if l.startswith(b"alice:") else l
        for l in ls])
    check(lines(read(users))[0] != lines(before["data"])[0],
          "passwd gave alice a new hash")
    rc, _, _ = passwd("check", users, "alice", b"s3cret  \n")
    check(rc == 1, "after passwd the old password fails (exit 1)")
    rc, _, _ = passwd("check", users, "alice", b"n3w pass\n")
    check(rc == 0, "after passwd the new password passes (exit 0)")

    # passwd keeps the folder and the ro flag.
    add_ok(users, "dave", "d1", ["--folder", "some dir/box", "--read-only"])
    want = user_line(b"dave", b":some%20dir/box:ro")
    check(re.fullmatch(want, lines(read(users))[-1]) is not None,
          "add --folder --read-only writes name:hash:folder:ro",
          show(lines(read(users))[-1]))
    add_ok(users, "erin", "e1", ["--folder", "/srv/mail/erin"])
    check(re.fullmatch(user_line(b"erin", b":/srv/mail/erin"),
                       lines(read(users))[-1]) is not None,
          "add --folder writes name:hash:folder",
          show(lines(read(users))[-1]))
    for name, rest in [(b"dave", b":some%20dir/box:ro"),
                       (b"erin", b":/srv/mail/erin")]:
        before = state(users)
        rc, _, err = passwd("passwd", users, name, b"changed\n")
        check(rc == 0, f"passwd {name.decode()}: exit 0", show(err))
        rewritten(f"passwd {name.decode()}", users, before, lambda ls: [
            re.compile(user_line(name, rest)) if l.startswith(name + b":")
            else l for l in ls])
        rc, _, _ = passwd("check", users, name, b"changed\n")
        check(rc == 0,
              f"check {name.decode()} with the new password: exit 0")

    before = state(users)
    rc, _, err = passwd("del", users, "bob")
    check(rc == 0, "del bob: exit 0", f"exit {rc}: {show(err)}")
    rewritten("del bob", users, before,
              lambda ls: [l for l in ls if not l.startswith(b"bob:")])
    rc, _, _ = passwd("check", users, "bob", b"crlf pw\n")
    check(rc == 1, "a deleted user fails check (exit 1)")

    for op in ("passwd", "del", "check"):
        before = state(users)
        rc, _, _ = passwd(op, users, "nobody", b"whatever\n")
        check(rc == 1, f"{op} of an unknown user: exit 1", f"exit {rc}")
        untouched(f"{op} of an unknown user", users, before)
    # A prefix or a case change is another name.
    for name in ("alic", "alicee", "Alice", "alice "):
        rc, _, _ = passwd("check", users, name, b"n3w pass\n")
        check(rc == 1, f"check {name!r} (not alice): exit 1", f"exit {rc}")

    root = os.path.join(tmp, "mail")
    os.mkdir(root)
    rc, out = login(users, root, "alice", "n3w pass")
    check(maildrop(out, 0) and rc == 0,
          "pop3d login as alice with the new password", show(out, 300))

    # Usage errors.
    for argv, what in [(["frob", "--users", users, "alice"], "unknown verb"),
                       (["add", "--users", users], "no name"),
                       (["add", "--users", users, "a", "b"], "two names"),
                       (["passwd", "--folder", "x", "--users", users,
                         "alice"], "--folder with passwd"),
                       (["del", "--read-only", "--users", users, "alice"],
                        "--read-only with del"),
                       ([], "no arguments")]:
        before = state(users)
        rc = raw(argv, b"pw\n")
        check(rc == EX_USAGE, f"usage error ({what}): exit 100", f"exit {rc}")
        check(state(users)["data"] == before["data"],
              f"usage error ({what}): file unchanged")


def make_hash(tmp, pw):
    """A real hash line made by pop3d-passwd itself."""
    f = os.path.join(tmp, "hash-scratch")
    rc, _, _ = passwd("add", f, "x", b(pw) + b"\n")
    data = read(f) or b""
    os.unlink(f)
    m = re.fullmatch(b"x:(" + HASH + b")\n", data)
    if not check(rc == 0 and m is not None, "scratch hash made", show(data)):
        return b"$argon2id$v=19$m=65536,t=2,p=1$broken$broken"
    return m.group(1)


def test_preserve(tmp, h):
    """Every other line survives add, passwd and del byte for byte."""
    users = os.path.join(tmp, "users")
    content = (b"# pop3d users: name:hash[:folder[:flags]]\n"
               b"\n"
               b"alice:" + h + b"\n"
               b"mal:not-a-hash\n"
               b"caf%C3%A9%3Ax:" + h + b":cafe/box\n"
               b"   \n"
               b"#bob:" + h + b"\n"
               b"crlf:" + h + b"\r\n"
               b"flag:" + h + b"::rw\n"
               b"# a : comment : with colons \t\n"
               b"\n"
               b"zed:" + h)
    with open(users, "wb") as f:
        f.write(content)
    os.chmod(users, 0o600)
    if os.geteuid() == 0:
        os.chown(users, 65534, 65534)

    for name, want, what in [("café:x", 0, "%XX-escaped name"),
                             ("zed", 0, "last line without newline"),
                             ("alice", 0, "plain line"),
                             ("mal", 1, "malformed line"),
                             ("#bob", 1, "commented-out line"),
                             ("bob", 1, "commented-out line"),
                             ("crlf", 1, "line ending in CR (malformed)"),
                             ("flag", 1, "unknown flag (malformed)"),
                             ("caf%C3%A9%3Ax", 1, "the escaped form")]:
        rc, _, _ = passwd("check", users, name, b"keep\n")
        check(rc == want, f"check {name!r} ({what}): exit {want}",
              f"exit {rc}")

    steps = [
        ("add newbie", 0o600, lambda: passwd("add", users, "newbie",
                                             b"newpw\n"),
         lambda ls: ls + [re.compile(user_line(b"newbie"))]),
        # A line whose hash pop3d refuses is that user's line all the
        # same: passwd replaces it in place (add would make a duplicate).
        ("passwd mal (its hash is not argon2id)", 0o640,
         lambda: passwd("passwd", users, "mal", b"malpw\n"),
         lambda ls: [re.compile(user_line(b"mal")) if l.startswith(b"mal:")
                     else l for l in ls]),
        # The changed line is written in the canonical form: UTF-8 raw.
        ("passwd café:x", 0o660,
         lambda: passwd("passwd", users, "café:x", b"cafe pw\n"),
         lambda ls: [re.compile(user_line("café%3Ax".encode(), b":cafe/box"))
                     if l.startswith(b"caf%C3%A9%3Ax:") else l for l in ls]),
        ("del alice", 0o640, lambda: passwd("del", users, "alice"),
         lambda ls: [l for l in ls if not l.startswith(b"alice:")]),
        ("del zed (the line that had no newline)", 0o604,
         lambda: passwd("del", users, "zed"),
         lambda ls: [l for l in ls if not l.startswith(b"zed:")]),
    ]
    before = state(users)
    rc, _, err = passwd("add", users, "mal", b"malpw\n")
    check(rc == 1, "add mal (the name has a line, with a bad hash): exit 1",
          f"exit {rc}: {show(err)}")
    check(state(users) == before, "add mal: file unchanged")
    rc, _, err = passwd("check", users, "mal", b"not-a-hash\n")
    check(rc == 1 and b"argon2id" in err,
          "check mal: exit 1, saying the hash is not argon2id",
          f"exit {rc}: {show(err)}")
    for what, mode, run, expect in steps:
        os.chmod(users, mode)
        before = state(users)
        rc, _, err = run()
        check(rc == 0, f"{what}: exit 0", f"exit {rc}: {show(err)}")
        rewritten(what, users, before, expect)

    for name, pw, want in [("café:x", "cafe pw", 0), ("café:x", "keep", 1),
                           ("newbie", "newpw", 0), ("mal", "malpw", 0),
                           ("alice", "keep", 1), ("zed", "keep", 1)]:
        rc, _, _ = passwd("check", users, name, b(pw) + b"\n")
        check(rc == want, f"afterwards check {name!r} {pw!r}: exit {want}",
              f"exit {rc}")
    # The lock file is the documented FILE.lock, the index FILE.cdb;
    # nothing else is left.
    extra = sorted(set(os.listdir(tmp)) - {"users", "users.lock", "users.cdb"})
    check(not extra, "nothing but FILE, FILE.lock and FILE.cdb beside the "
          "users file", str(extra))


def test_long_line(tmp, h):
    users = os.path.join(tmp, "users")
    long_comment = b"#" + b"x" * 20000
    content = (b"alice:" + h + b"\n" + long_comment + b"\n" +
               b"bob:" + h + b"\n")
    with open(users, "wb") as f:
        f.write(content)
    os.chmod(users, 0o640)
    for what, run in [("add carol", lambda: passwd("add", users, "carol",
                                                   b"pw\n")),
                      ("passwd alice", lambda: passwd("passwd", users,
                                                      "alice", b"pw\n")),
                      ("del bob", lambda: passwd("del", users, "bob")),
                      ("del nobody", lambda: passwd("del", users,
                                                    "nobody"))]:
        before = state(users)
        rc, _, err = run()
        check(rc == EX_USAGE,
              f"line over {LINE_MAX} bytes: {what} refused (exit 100)",
              f"exit {rc}: {show(err)}")
        untouched(f"line over {LINE_MAX} bytes: {what}", users, before)

    # An overlong last line without a newline.
    with open(users, "wb") as f:
        f.write(b"alice:" + h + b"\n" + b"y" * (LINE_MAX + 1))
    before = state(users)
    rc, _, _ = passwd("del", users, "alice")
    check(rc == EX_USAGE,
          "overlong last line without newline: del refused (exit 100)",
          f"exit {rc}")
    untouched("overlong last line without newline: del", users, before)

    # A line of exactly the limit is an ordinary line.
    edge = b"#" + b"z" * (LINE_MAX - 1)
    with open(users, "wb") as f:
        f.write(b"alice:" + h + b"\n" + edge + b"\n")
    before = state(users)
    rc, _, err = passwd("add", users, "carol", b"pw\n")
    check(rc == 0, f"line of exactly {LINE_MAX} bytes: add works (exit 0)",
          f"exit {rc}: {show(err)}")
    rewritten(f"line of exactly {LINE_MAX} bytes: add", users, before,
              lambda ls: ls + [re.compile(user_line(b"carol"))])


def test_names(tmp):
    users = os.path.join(tmp, "users")
    root = os.path.join(tmp, "mail")
    os.mkdir(root)
    msg = b"Subject: hi\r\n\r\nhello\r\n"
    # name, its form in the users file, its default mailbox folder
    names = [
        ("o'brien", b"o'brien", "o'brien"),
        ("josé", "josé".encode(), "josé"),
        ("alice+pop@example.org", b"alice+pop@example.org",
         "alice+pop@example.org"),
        ("john smith", b"john%20smith", "john smith"),
        ("a:b", b"a%3Ab", "a:b"),
        ("#hash", b"%23hash", "#hash"),
        ("a#b", b"a#b", "a#b"),
        ("50%", b"50%25", "50%"),
        ("tab\there", b"tab%09here", "tab\there"),
        ("del\x7f", b"del%7F", "del\x7f"),
        ("a/b", b"a/b", ".a%2Fb"),
        (".x", b".x", ".%2Ex"),
        ("..", b"..", ".%2E."),
    ]
    for i, (name, esc, folder) in enumerate(names):
        pw = f"pw {i} é"
        if not add_ok(users, name, pw):
            continue
        got = [l for l in lines(read(users)) if l.startswith(esc + b":")]
        check(len(got) == 1 and re.fullmatch(user_line(esc), got[0]),
              f"{name!r} stored as {show(esc)}",
              show(got))
        rc, _, _ = passwd("check", users, name, b(pw) + b"\n")
        check(rc == 0, f"check {name!r}: exit 0", f"exit {rc}")
        box = os.path.join(root, folder)
        os.mkdir(box)
        with open(os.path.join(box, "1.eml"), "wb") as f:
            f.write(msg)
        rc, out = login(users, root, name, pw)
        check(rc == 0 and maildrop(out, 1),
              f"pop3d login as {name!r} finds the mailbox {folder!r}",
              show(out, 300))
    n = len(lines(read(users)))
    check(n == len(names), "one line per name", f"{n} lines")

    # A name that cannot be a folder name and is too long encoded.
    long = "." + "/" * 200
    before = state(users)
    rc, _, err = passwd("add", users, long, b"pw\n")
    check(rc == EX_USAGE, "'.'+200 '/' without --folder: exit 100",
          f"exit {rc}")
    untouched("'.'+200 '/' without --folder", users, before)
    before = state(users)
    rc, _, err = passwd("add", users, long, b"long pw\n", ["--folder", "lb"])
    check(rc == 0, "'.'+200 '/' with --folder: exit 0",
          f"exit {rc}: {show(err)}")
    rewritten("'.'+200 '/' with --folder", users, before,
              lambda ls: ls + [re.compile(user_line(b(long), b":lb"))])
    rc, out = login(users, root, long, "long pw")
    check(rc == 0 and maildrop(out, 0),
          "pop3d login as '.'+200 '/' (its --folder)", show(out, 300))
    # The folder is in the file: check, passwd and del must not ask again.
    rc, _, err = passwd("check", users, long, b"long pw\n")
    check(rc == 0, "check '.'+200 '/' (added with --folder): exit 0",
          f"exit {rc}: {show(err)}")
    before = state(users)
    rc, _, err = passwd("passwd", users, long, b"long pw 2\n")
    check(rc == 0, "passwd '.'+200 '/' (added with --folder): exit 0",
          f"exit {rc}: {show(err)}")
    if rc == 0:
        rewritten("passwd '.'+200 '/'", users, before, lambda ls: [
            re.compile(user_line(b(long), b":lb"))
            if l.startswith(b(long) + b":") else l for l in ls])
    before = state(users)
    rc, _, err = passwd("del", users, long)
    check(rc == 0, "del '.'+200 '/' (added with --folder): exit 0",
          f"exit {rc}: {show(err)}")
    if rc == 0:
        rewritten("del '.'+200 '/'", users, before, lambda ls: [
            l for l in ls if not l.startswith(b(long) + b":")])

    # Lengths: 1..255 bytes.
    for name, what in [(b"", "empty name"), (b"x" * 256, "256-byte name"),
                       ("é".encode() * 128, "256-byte UTF-8 name")]:
        for op in ("add", "passwd", "del", "check"):
            before = state(users)
            rc, _, _ = passwd(op, users, name, b"pw\n")
            check(rc == EX_USAGE, f"{op} {what}: exit 100", f"exit {rc}")
            check(state(users)["data"] == before["data"],
                  f"{op} {what}: file unchanged")
    for name, esc, what in [(b"x" * 255, b"x" * 255, "255-byte name"),
                            (b":" * 255, b"%3A" * 255,
                             "255 colons (765 bytes escaped)")]:
        rc, _, err = passwd("add", users, name, b"pw255\n")
        check(rc == 0, f"add {what}: exit 0", f"exit {rc}: {show(err)}")
        check(any(re.fullmatch(user_line(esc), l)
                  for l in lines(read(users))),
              f"{what} stored escaped")
        rc, _, _ = passwd("check", users, name, b"pw255\n")
        check(rc == 0, f"check {what}: exit 0", f"exit {rc}")


def test_passwords(tmp):
    users = os.path.join(tmp, "users")
    root = os.path.join(tmp, "mail")
    os.mkdir(root)
    add_ok(users, "keeper", "k")
    for i, (pw, what) in enumerate([(b"\n", "empty line"), (b"", "no input at all"),
                     (b"\r\n", "empty CRLF line"),
                     (b"a" * (PASS_MAX + 1) + b"\n",
                      f"{PASS_MAX + 1} bytes"),
                     (b"a" * (PASS_MAX + 1) + b"\r\n",
                      f"{PASS_MAX + 1} bytes, CRLF"),
                     (b"a" * 5000 + b"\n", "5000 bytes")]):
        before = state(users)
        rc, _, _ = passwd("add", users, f"new{i}", pw)
        check(rc == EX_USAGE, f"add with password of {what}: exit 100",
              f"exit {rc}")
        untouched(f"add with password of {what}", users, before)
        before = state(users)
        rc, _, _ = passwd("passwd", users, "keeper", pw)
        check(rc == EX_USAGE, f"passwd with password of {what}: exit 100",
              f"exit {rc}")
        untouched(f"passwd with password of {what}", users, before)
    rc, _, _ = passwd("check", users, "keeper", b"k\n")
    check(rc == 0, "keeper's password unchanged by refused passwd")

    for name, pw, what in [
            ("max", "b" * PASS_MAX, f"{PASS_MAX} bytes, the most PASS holds"),
            ("maxcrlf", "c" * (PASS_MAX - 2) + "é",
             f"{PASS_MAX} bytes, given CRLF"),
            ("spaces", "pa ss:wörd é : x", "spaces, ':' and UTF-8"),
            ("trail", " lead and trail  ", "leading and trailing spaces")]:
        end = b"\r\n" if name == "maxcrlf" else b"\n"
        rc, _, err = passwd("add", users, name, b(pw) + end)
        check(rc == 0, f"add with a password of {what}: exit 0",
              f"exit {rc}: {show(err)}")
        rc, out = login(users, root, name, pw)
        check(rc == 0 and maildrop(out, 0),
              f"pop3d login with a password of {what}", show(out, 300))
    rc, _, _ = passwd("check", users, "spaces", b"pa ss:w\xc3\xb6rd \xc3\xa9 "
                      b": x\n")
    check(rc == 0, "check with the spaces/':'/UTF-8 password: exit 0")
    rc, _, _ = passwd("check", users, "spaces", b"pa ss\n")
    check(rc == 1, "check with its first word only: exit 1")


# --- terminal ---------------------------------------------------------------

class Tty:
    """pop3d-passwd with a pseudo-terminal as stdin, stdout and stderr."""

    def __init__(self, argv, stderr=None):
        self.master, self.slave = os.openpty()
        self.out = b""
        self.proc = subprocess.Popen(
            argv, stdin=self.slave, stdout=self.slave,
            stderr=self.slave if stderr is None else stderr,
            start_new_session=True)

    def echo(self):
        return bool(termios.tcgetattr(self.slave)[3] & termios.ECHO)

    def pump(self, secs):
        r, _, _ = select.select([self.master], [], [], secs)
        if r:
            try:
                self.out += os.read(self.master, 4096)
            except OSError as e:
                if e.errno != errno.EIO:
                    raise

    def expect(self, text, secs=10):
        """Waits for text on the terminal; returns whether it came."""
        deadline = time.monotonic() + secs
        while text not in self.out and time.monotonic() < deadline:
            self.pump(0.05)
        return text in self.out

    def wait_noecho(self, secs=10):
        deadline = time.monotonic() + secs
        while self.echo() and time.monotonic() < deadline:
            time.sleep(0.005)
        return not self.echo()

    def type(self, data):
        os.write(self.master, data)

    def finish(self):
        try:
            rc = self.proc.wait(TIMEOUT)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        self.pump(0.05)
        while select.select([self.master], [], [], 0.05)[0]:
            before = len(self.out)
            self.pump(0)
            if len(self.out) == before:
                break
        echo = self.echo()
        os.close(self.master)
        os.close(self.slave)
        return rc, echo


def blocked_in_pipe_write(pid):
    """Whether the process sleeps in a write to a full pipe (Linux)."""
    try:
        with open(f"/proc/{pid}/wchan") as f:
            return f.read().endswith("pipe_write")
    except OSError:
        return False


def tty_add(users, name, first, second):
    """add at a terminal, typing first at "Password: " and second at
    "Again: ", each only once echo is off (as a person would see it).
    Returns (exit code, terminal output, echo on at the end, prompts ok)."""
    t = Tty([PASSWD, "add", "--users", users, name])
    ok = t.expect(b"Password: ") and t.wait_noecho()
    if ok:
        t.type(first + b"\r")     # the terminal's Enter; ICRNL makes it \n
        n = len(t.out)
        ok = t.expect(b"Again: ") and t.out.index(b"Again: ", n) >= n
        ok = ok and t.wait_noecho()
        if ok:
            t.type(second + b"\r")
    if not ok:
        t.proc.kill()
    rc, echo = t.finish()
    return rc, t.out, echo, ok


def test_terminal(tmp):
    users = os.path.join(tmp, "users")
    add_ok(users, "first", "f")

    pw = b"Tty s3cret \xc3\xa9"
    rc, out, echo, ok = tty_add(users, "ttyuser", pw, pw)
    check(ok and out.find(b"Password: ") < out.find(b"Again: "),
          "terminal: prompts 'Password: ' then 'Again: '", show(out))
    check(rc == 0, "terminal: matching entries: exit 0",
          f"exit {rc}: {show(out)}")
    check(pw not in out and b"s3cret" not in out,
          "terminal: the password is not echoed", show(out))
    check(echo, "terminal: echo is back on afterwards")
    rc, _, _ = passwd("check", users, "ttyuser", pw + b"\n")
    check(rc == 0,
          "terminal: the user was added with that password (check 0)",
          f"exit {rc}")

    before = state(users)
    rc, out, echo, ok = tty_add(users, "mismatch", b"one pass", b"two pass")
    check(ok and rc == EX_USAGE, "terminal: mismatching entries: exit 100",
          f"exit {rc}: {show(out)}")
    check(b"one pass" not in out and b"two pass" not in out,
          "terminal: mismatching entries not echoed", show(out))
    check(echo, "terminal: echo is back on after a mismatch")
    untouched("terminal: mismatching entries", users, before)
    rc, _, _ = passwd("check", users, "mismatch", b"one pass\n")
    check(rc == 1, "terminal: no user after a mismatch (check 1)")

    # An empty password at the terminal is refused too.
    before = state(users)
    rc, out, echo, ok = tty_add(users, "empty", b"", b"")
    check(ok and rc == EX_USAGE, "terminal: empty password: exit 100",
          f"exit {rc}")
    untouched("terminal: empty password", users, before)

    # check reads the password once, without echo.
    t = Tty([PASSWD, "check", "--users", users, "ttyuser"])
    ok = t.expect(b"Password: ") and t.wait_noecho()
    if ok:
        t.type(pw + b"\r")
    else:
        t.proc.kill()
    rc, echo = t.finish()
    check(ok and rc == 0 and b"Again" not in t.out,
          "terminal: check asks once and passes (exit 0)", f"exit {rc}")
    check(pw not in t.out, "terminal: check does not echo", show(t.out))

    # Echo must be off before the prompt is shown: a password typed as
    # soon as "Password: " appears must not be echoed.  Made
    # deterministic by a full stderr pipe: the prompt's write blocks, so
    # whatever the tool does before it is visible, and nothing after it.
    r, w = os.pipe()
    os.set_blocking(w, False)
    try:
        while True:
            os.write(w, b"x" * 4096)
    except BlockingIOError:
        pass
    try:
        while True:
            os.write(w, b"x")
    except BlockingIOError:
        pass
    os.set_blocking(w, True)
    t = Tty([PASSWD, "add", "--users", users, "race"], stderr=w)
    os.close(w)
    off = False
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        if not t.echo():
            off = True
            break
        if blocked_in_pipe_write(t.proc.pid):   # so no waiting the 10 s
            off = not t.echo()
            break
        time.sleep(0.005)
    t.proc.kill()
    t.finish()
    os.close(r)
    check(off, "terminal: echo is off before the prompt is written",
          "the prompt was written while echo was still on")


def test_concurrency(tmp):
    users = os.path.join(tmp, "users")
    names = [f"user{i}" for i in range(8)]
    procs = [subprocess.Popen([PASSWD, "add", "--users", users, n],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE) for n in names]
    for p, n in zip(procs, names):
        p.stdin.write(f"pw-{n}\n".encode())
        p.stdin.close()
    rcs = []
    for p in procs:
        p.wait(TIMEOUT * 4)
        rcs.append(p.returncode)
        p.stdout.close()
        p.stderr.close()
    check(rcs == [0] * 8, "8 concurrent adds all exit 0", str(rcs))
    ls = lines(read(users) or b"")
    got = sorted(l.split(b":")[0].decode() for l in ls
                 if re.fullmatch(user_line(l.split(b":")[0]), l))
    check(got == sorted(names) and len(ls) == 8,
          "all 8 lines are in the file, each once", show(ls, 300))
    check(not leftovers(users), "8 concurrent adds: no temporary file left")
    bad = [n for n in names
           if passwd("check", users, n, f"pw-{n}\n".encode())[0] != 0]
    check(not bad, "each of the 8 users has its password", str(bad))


def test_read_only(tmp):
    users = os.path.join(tmp, "users")
    root = os.path.join(tmp, "mail")
    msg = b"Subject: keep me\r\n\r\nbody\r\n"
    add_ok(users, "reader", "ro pw", ["--read-only"])
    add_ok(users, "writer", "rw pw")
    ls = lines(read(users))
    check(re.fullmatch(user_line(b"reader", b"::ro"), ls[0]) is not None,
          "add --read-only writes name:hash::ro",
          show(ls[0]))
    check(re.fullmatch(user_line(b"writer"), ls[1]) is not None,
          "add without it writes name:hash", show(ls[1]))
    for u in ("reader", "writer"):
        os.makedirs(os.path.join(root, u))
        with open(os.path.join(root, u, "1.eml"), "wb") as f:
            f.write(msg)
    rc, out = login(users, root, "reader", "ro pw", b"DELE 1\r\n")
    check(maildrop(out, 1) and b"\r\n-ERR [READ-ONLY]" in out,
          "read-only user: DELE answers -ERR [READ-ONLY]",
          show(out, 300))
    check(os.path.exists(os.path.join(root, "reader", "1.eml")),
          "read-only user: the message is still there")
    rc, out = login(users, root, "writer", "rw pw", b"DELE 1\r\n")
    check(maildrop(out, 1) and b"READ-ONLY" not in out and
          not os.path.exists(os.path.join(root, "writer", "1.eml")),
          "ordinary user: DELE answers +OK and deletes",
          show(out, 300))
    # passwd keeps the flag, and pop3d still honours it.
    rc, _, _ = passwd("passwd", users, "reader", b"ro pw 2\n")
    check(rc == 0 and
          re.fullmatch(user_line(b"reader", b"::ro"),
                       lines(read(users))[0]) is not None,
          "passwd of the read-only user keeps ::ro",
          show(lines(read(users))[0]))
    rc, out = login(users, root, "reader", "ro pw 2", b"DELE 1\r\n")
    check(maildrop(out, 1) and b"\r\n-ERR [READ-ONLY]" in out,
          "after passwd, DELE still answers -ERR [READ-ONLY]",
          show(out, 300))


def test_login_delay(tmp):
    """add --login-delay writes the user's own LOGIN-DELAY flag, passwd
    keeps it, and pop3d enforces it after a login."""
    users = os.path.join(tmp, "users")
    root = os.path.join(tmp, "mail")
    add_ok(users, "polly", "p pw", ["--login-delay", "600"])
    add_ok(users, "rory", "r pw", ["--read-only", "--login-delay", "0"])
    ls = lines(read(users))
    check(re.fullmatch(user_line(b"polly", b"::login-delay=600"), ls[0])
          is not None,
          "add --login-delay writes name:hash::login-delay=N", show(ls[0]))
    check(re.fullmatch(user_line(b"rory", b"::ro,login-delay=0"), ls[1])
          is not None,
          "with --read-only: name:hash::ro,login-delay=N", show(ls[1]))
    rc, _, _ = passwd("passwd", users, "polly", b"p pw 2\n")
    check(rc == 0 and re.fullmatch(
        user_line(b"polly", b"::login-delay=600"), lines(read(users))[0])
        is not None,
        "passwd keeps the login delay", show(lines(read(users))[0]))
    os.makedirs(os.path.join(root, "polly"))
    rc, out = login(users, root, "polly", "p pw 2", b"CAPA\r\n")
    check(maildrop(out, 0) and b"\r\nLOGIN-DELAY 600\r\n" in out,
          "first login: ok, and CAPA says the user's delay",
          show(out, 400))
    rc, out = login(users, root, "polly", "p pw 2")
    check(b"\r\n-ERR [LOGIN-DELAY]" in out and not maildrop(out, 0),
          "a second login at once: -ERR [LOGIN-DELAY]",
          show(out, 300))
    for bad in ("-1", "86401", "x", "", "1e3"):
        before = state(users)
        rc = raw(["add", "--login-delay", bad, "--users", users, "zed"],
                 b"pw\n")
        check(rc == 100, f"add --login-delay {bad!r}: usage error (100)",
              f"exit {rc}")
        untouched(f"add --login-delay {bad!r}", users, before)
    before = state(users)
    rc = raw(["passwd", "--login-delay", "5", "--users", users, "polly"],
             b"pw\n")
    check(rc == 100, "--login-delay with passwd: usage error (100)",
          f"exit {rc}")
    untouched("--login-delay with passwd", users, before)


def test_write_failure(tmp, h):
    """A rewrite that cannot be written (the file size limit) is a system
    error: exit 111, the file untouched, no temporary file left."""
    users = os.path.join(tmp, "users")
    content = b"".join(b"user%d:" % i + h + b"\n" for i in range(20))
    with open(users, "wb") as f:
        f.write(content)

    def limit():
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)   # EFBIG instead
        resource.setrlimit(resource.RLIMIT_FSIZE, (1024, 1024))

    for op, name in [("add", "new"), ("passwd", "user3"), ("del", "user3")]:
        before = state(users)
        p = subprocess.run([PASSWD, op, "--users", users, name],
                           input=b"pw\n", capture_output=True,
                           timeout=TIMEOUT, preexec_fn=limit)
        check(p.returncode == EX_TEMP,
              f"{op} that cannot write the new file: exit 111",
              f"exit {p.returncode}")
        untouched(f"{op} that cannot write the new file", users, before)


def test_list_and_cost(tmp):
    """list prints the stored names; --level and --ops/--mem set the
    cost; check tells when a hash is below the cost asked for; a hash
    pop3d refuses is named as such; --help documents the commands."""
    users = os.path.join(tmp, "users")
    with open(users, "wb") as f:
        f.write(b"# comment\nbad:plaintext\n")
    for name in ("alice", "jos\u00e9", "a:b", "#x"):
        rc, _, err = passwd("add", users, name, b"pw\n",
                            ["--ops", "1", "--mem", "8K"])
        check(rc == 0, f"add {name!r} at --ops 1 --mem 8K: exit 0", show(err))
    p = subprocess.run([PASSWD, "list", "--users", users],
                       capture_output=True, timeout=TIMEOUT)
    check(p.returncode == 0, "list: exit 0", show(p.stderr))
    check(p.stdout == b"bad\nalice\njos\xc3\xa9\na:b\n#x\n",
          "list prints every name as del and passwd take it", show(p.stdout))
    check(re.fullmatch(rb"pop3d-passwd: \S+/users: line 2: its hash is not "
                       rb"an argon2id string[^\n]*\n", p.stderr) is not None,
          "list flags the line pop3d refuses, on stderr", show(p.stderr))
    for name in ("a:b", "#x"):
        rc, _, err = passwd("del", users, name)
        check(rc == 0, f"del {name!r} as list printed it: exit 0", show(err))
    check(raw(["list", "--users", users, "alice"]) ==
          EX_USAGE, "list takes no name")
    line = [l for l in lines(read(users)) if l.startswith(b"alice:")][0]
    check(b"$argon2id$v=19$m=8,t=1,p=1$" in line,
          "--ops 1 --mem 8K hash: m=8,t=1", show(line))
    rc, out, _ = passwd("check", users, "alice", b"pw\n")
    check(rc == 0 and b"renew" in out,
          "check below the default cost: exit 0, says to renew", show(out))
    rc, out, _ = passwd("check", users, "alice", b"pw\n",
                        ["--ops", "1", "--mem", "8K"])
    check(rc == 0 and out == b"password ok\n",
          "check at its own cost: exit 0, nothing to renew", show(out))
    rc, _, err = passwd("check", users, "bad", b"plaintext\n")
    check(rc == 1 and re.fullmatch(
        rb"pop3d-passwd: line 2 of the users file: its hash is not an "
        rb"argon2id string[^\n]*\n", err) is not None,
        "check of a non-argon2id hash: exit 1, says so", show(err))
    n = len(lines(read(users))) + 1
    with open(users, "ab") as f:
        f.write(b"crlf:" + line.split(b":")[1] + b"\r\n")
    rc, _, err = passwd("check", users, "crlf", b"pw\n")
    check(rc == 1 and b"line %d of the users file: it ends in CR LF" % n
          in err,
          "check of a CRLF line: exit 1, names the CR, not the hash",
          show(err))
    rc, _, _ = passwd("passwd", users, "alice", b"pw2\n", ["--level", "moderate"])
    line = [l for l in lines(read(users)) if l.startswith(b"alice:")][0]
    check(rc == 0 and b"$m=262144,t=3,p=1$" in line,
          "--level moderate: m=262144,t=3", show(line))
    for opts in (["--level", "extreme"], ["--ops", "0"], ["--mem", "1K"],
                 ["--mem", "12345"], ["--ops", "x"], ["--read-only"]):
        rc, _, _ = passwd("passwd", users, "alice", b"pw\n", opts)
        check(rc == EX_USAGE, f"passwd {' '.join(opts)}: exit 100",
              f"exit {rc}")
    p = subprocess.run([PASSWD, "--help"], capture_output=True, timeout=TIMEOUT)
    check(p.returncode == 0 and all(c in p.stdout for c in
                                    (b"add", b"passwd", b"del", b"check",
                                     b"list", b"lint", b"hash")),
          "--help: exit 0, on stdout, names every command",
          show(p.stdout))


def test_hash(tmp):
    """hash prints a hash of the password read as add reads it, at the
    cost asked for, and touches no file; a users file written with it
    works."""
    p = subprocess.run([PASSWD, "hash", "--ops", "1", "--mem", "8K"],
                       input=b"s3cret word\n", capture_output=True,
                       timeout=TIMEOUT, cwd=tmp)
    check(p.returncode == 0 and re.fullmatch(
        rb"\$argon2id\$v=19\$m=8,t=1,p=1\$[A-Za-z0-9+/]+\$[A-Za-z0-9+/]+\n",
        p.stdout) is not None, "hash --ops 1 --mem 8K: exit 0, one argon2id "
        "line at that cost", show(p.stdout))
    check(os.listdir(tmp) == [], "hash writes no file", os.listdir(tmp))
    users = os.path.join(tmp, "users")
    with open(users, "wb") as f:
        f.write(b"zoe:" + p.stdout)
    rc, out, err = passwd("check", users, "zoe", b"s3cret word\n",
                          ["--ops", "1", "--mem", "8K"])
    check(rc == 0 and out == b"password ok\n",
          "the printed hash checks with its password", show(out + err))
    rc, _, _ = passwd("check", users, "zoe", b"s3cret\n")
    check(rc == 1, "... and not with another", f"exit {rc}")
    rc, out, _ = (lambda p: (p.returncode, p.stdout, p.stderr))(
        subprocess.run([PASSWD, "hash"], input=b"pw\n", capture_output=True,
                       timeout=TIMEOUT))
    check(rc == 0 and out.startswith(b"$argon2id$v=19$m=65536,t=2,p=1$"),
          "hash: the default cost is pop3d's", show(out))
    for stdin, what in ((b"", "no password"), (b"\n", "an empty password"),
                        (b"x" * 300 + b"\n", "a password too long")):
        p = subprocess.run([PASSWD, "hash"], input=stdin,
                           capture_output=True, timeout=TIMEOUT)
        check(p.returncode == EX_USAGE and p.stdout == b"",
              f"hash of {what}: exit 100, nothing printed",
              f"exit {p.returncode}")
    # At a terminal, as add: twice, without echo; the hash on stdout.
    pw = b"Tty h4sh \xc3\xa9"
    t = Tty([PASSWD, "hash", "--ops", "1", "--mem", "8K"])
    ok = t.expect(b"Password: ") and t.wait_noecho()
    if ok:
        t.type(pw + b"\r")
        ok = t.expect(b"Again: ") and t.wait_noecho()
        if ok:
            t.type(pw + b"\r")
    if not ok:
        t.proc.kill()
    rc, echo = t.finish()
    m = re.search(rb"\$argon2id\$v=19\$m=8,t=1,p=1\$[A-Za-z0-9+/]+\$"
                  rb"[A-Za-z0-9+/]+", t.out)
    check(ok and rc == 0 and m is not None and pw not in t.out and echo,
          "hash at a terminal: asks twice, no echo, prints the hash",
          show(t.out))
    if m is not None:
        with open(users, "wb") as f:
            f.write(b"tty:" + m.group(0) + b"\n")
        rc, _, _ = passwd("check", users, "tty", pw + b"\n")
        check(rc == 0, "the terminal's hash checks with its password",
              f"exit {rc}")
    check(raw(["hash", "name"], b"pw\n") == EX_USAGE, "hash takes no name")
    check(raw(["hash", "--read-only"], b"pw\n") == EX_USAGE,
          "hash takes no --read-only")


def test_lint(tmp):
    """lint, and check without a name, say what is wrong with each line
    as pop3d --check does; exit 1 when anything is, 0 when nothing is;
    list flags the same lines."""
    users = os.path.join(tmp, "users")
    for name in ("alice", "bob"):
        rc, _, err = passwd("add", users, name, b"pw\n",
                            ["--ops", "1", "--mem", "8K"])
        check(rc == 0, f"lint: add {name}", show(err))
    good = read(users)
    for argv in (["lint"], ["check"]):
        p = subprocess.run([PASSWD, *argv, "--users", users],
                           capture_output=True, timeout=TIMEOUT)
        check(p.returncode == 0 and p.stdout == b"" and p.stderr == b"",
              f"{argv[0]} of a good file: exit 0, silent",
              show(p.stdout + p.stderr))
    bob = lines(good)[1]
    with open(users, "wb") as f:
        f.write(good + b"carol\n" + bob + b"\n" +
                b"dave:" + bob.split(b":")[1] + b"::ro,rw\r\n" +
                b"erin:" + bob.split(b":")[1] + b"::ro,ro\n")
    expect = [
        rb"\S+/users: line 3: it has no ':' between a name and a hash",
        rb"\S+/users: line 4: its name is that of line 2, and only the first "
        rb"line of a name is used: remove one",
        rb"\S+/users: line 5: it ends in CR LF.*\(dos2unix\)",
        rb"\S+/users: line 6: it repeats the flag 'ro'",
    ]
    before = read(users)
    outs = []
    for argv in (["lint"], ["check"]):
        p = subprocess.run([PASSWD, *argv, "--users", users],
                           capture_output=True, timeout=TIMEOUT)
        got = lines(p.stdout)
        check(p.returncode == 1 and len(got) == len(expect) and all(
            re.fullmatch(e, g) for e, g in zip(expect, got)),
            f"{argv[0]} of a broken file: exit 1, each line, in order",
            show(p.stdout, 2000))
        outs.append(p.stdout)
    check(outs[0] == outs[1], "check without NAME says what lint says")
    check(read(users) == before, "lint changes nothing")
    with open(users, "ab") as f:
        f.write(b"dave:" + bob.split(b":")[1] + b"::rw\n")
    p = subprocess.run([PASSWD, "lint", "--users", users],
                       capture_output=True, timeout=TIMEOUT)
    check(re.search(rb"line 7: it has an unknown flag 'rw' \(known: ro, "
                    rb"login-delay=N\)", p.stdout) is not None,
          "lint: an unknown flag, named", show(p.stdout, 2000))
    p = subprocess.run([PASSWD, "list", "--users", users],
                       capture_output=True, timeout=TIMEOUT)
    check(p.returncode == 0 and p.stdout == b"alice\nbob\nbob\n",
          "list of a broken file: the names del acts on, bob twice",
          show(p.stdout))
    check(len(lines(p.stderr)) == len(expect) + 1 and
          all(l.startswith(b"pop3d-passwd: ") for l in lines(p.stderr)),
          "list flags each problem line on stderr", show(p.stderr, 2000))
    os.chmod(users, 0o606)
    p = subprocess.run([PASSWD, "lint", "--users", users],
                       capture_output=True, timeout=TIMEOUT)
    check(p.returncode == 1 and re.match(
        rb"\S+/users: others may write it, so pop3d refuses it",
        p.stdout) is not None, "lint: a file others may write, first",
        show(p.stdout, 300))
    p = subprocess.run([PASSWD, "lint", "--users",
                        os.path.join(tmp, "none")],
                       capture_output=True, timeout=TIMEOUT)
    check(p.returncode == EX_TEMP and b"none" in p.stderr,
          "lint of a missing file: exit 111, named", show(p.stderr))
    if not os.path.exists("/etc/pop3d/users"):
        p = subprocess.run([PASSWD, "lint"], capture_output=True,
                           timeout=TIMEOUT)
        check(p.returncode == EX_TEMP and b"/etc/pop3d/users" in p.stderr,
              "lint without --users reads /etc/pop3d/users", show(p.stderr))


def test_killed_mid_write(tmp, h):
    """pop3d-passwd killed at each write of a rewrite: the old file stays
    whole, and the next run is not blocked by what it left."""
    if shutil.which("strace") is None:
        check(False, "strace is installed")
        return
    users = os.path.join(tmp, "users")
    content = b"".join(b"user%d:" % i + h + b"\n" for i in range(5))
    for when in (1, 2, 3, 6):
        with open(users, "wb") as f:
            f.write(content)
        p = subprocess.run(["strace", "-o", os.devnull, "-e",
                            "inject=write:signal=KILL:when=%d" % when,
                            PASSWD, "passwd", "--users", users, "user2"],
                           input=b"new\n", capture_output=True, timeout=TIMEOUT)
        check(p.returncode == -9, f"killed at write #{when}: killed",
              f"exit {p.returncode}")
        check(read(users) == content,
              f"killed at write #{when}: the old file is whole")
        rc, _, err = passwd("passwd", users, "user2", b"new\n")
        check(rc == 0, f"killed at write #{when}: the next passwd works",
              show(err))
        check(leftovers(users) == [],
              f"killed at write #{when}: nothing left behind after it",
              repr(leftovers(users)))


def main():
    start = time.monotonic()
    os.umask(0o077)     # a new users file is 0640 whatever the umask
    top = tempfile.mkdtemp(prefix="pop3d-passwd-test.")
    try:
        def sub(name):
            d = os.path.join(top, name)
            os.mkdir(d)
            return d
        h = make_hash(top, "keep")
        for name, fn in [("basics", test_basics),
                         ("preserve", lambda d: test_preserve(d, h)),
                         ("long", lambda d: test_long_line(d, h)),
                         ("names", test_names),
                         ("passwords", test_passwords),
                         ("terminal", test_terminal),
                         ("concurrency", test_concurrency),
                         ("read-only", test_read_only),
                         ("login delay", test_login_delay),
                         ("write failure",
                          lambda d: test_write_failure(d, h)),
                         ("list and cost", test_list_and_cost),
                         ("hash", test_hash),
                         ("lint", test_lint),
                         ("killed mid-write",
                          lambda d: test_killed_mid_write(d, h))]:
            print(f"# {name}")
            try:
                fn(sub(name))
            except Exception as e:      # one broken part fails, not all
                check(False, f"{name}: ran without an exception",
                      f"{type(e).__name__}: {e}")
    finally:
        shutil.rmtree(top, ignore_errors=True)
    print(f"# {time.monotonic() - start:.1f} s")
    return finish()


if __name__ == "__main__":
    sys.exit(main())
