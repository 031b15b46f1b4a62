#!/usr/bin/env python3
"""Moving mailboxes from Dovecot to pop3d: every UIDL kept.

usage: import_test.py POP3D POP3D-PASSWD POP3D-IMPORT

Delivers messages into Maildirs, lets Debian's real Dovecot list them
(its pop3 program pre-authenticated on stdin/stdout, as user nobody),
runs pop3d-import on them and checks that pop3d's UIDL listing is
Dovecot's, byte for byte and in order: with Dovecot's default
pop3_uidl_format, with other formats, with UIDLs Dovecot saved
(pop3_save_uidl) and with X-UIDL headers (pop3_reuse_xuidl); and that
it is Courier's for a Maildir Courier's courierpop3d left
(courier/fixture.json).  Then what
must not be believed or must not collide: new mail, a file replaced under
an imported name, an old UIDL POP3 cannot carry, and hostile
.pop3d.uidls files (garbage, a symlink, a FIFO, over-long, duplicate and
malformed ids) that must never stop a login.  An mbox copied into a
Maildir, sent as popa3d sent it.  Passwords: Dovecot passwd-file users
imported, legacy hashes (yescrypt, sha512-crypt, bcrypt) logging in,
unknown names costing what they cost, the ban, and the upgrade spool
merged by pop3d-passwd upgrade.  Last, fetchmail with "keep" against a
private Dovecot daemon on loopback, then against pop3d on the migrated
mailbox: the second run fetches nothing.  Needs root (Dovecot
will not serve mail as root, and its daemon starts as root); skipped
without Dovecot or root.
"""

import base64
import json
import os
import pwd
import shutil
import socket
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from pop3dtest import (Inetd, check, finish, pop3d_argv, skip,  # noqa: E402
                       wrapped)

if len(sys.argv) != 4:
    sys.exit("usage: import_test.py POP3D POP3D-PASSWD POP3D-IMPORT")
POP3D, PASSWD, IMPORT = (os.path.abspath(a) for a in sys.argv[1:4])

DOVECOT_POP3 = "/usr/lib/dovecot/pop3"
TIMEOUT = 60
UIDLS = ".pop3d.uidls"

if os.geteuid() != 0:
    skip("needs root: Dovecot's daemon starts as root and serves as nobody")
if not os.access(DOVECOT_POP3, os.X_OK) or shutil.which("dovecot") is None:
    skip("Dovecot (dovecot-pop3d) is not installed")

NOBODY = pwd.getpwnam("nobody")
TOP = tempfile.mkdtemp(prefix="pop3d-import-")
os.chmod(TOP, 0o755)
COUNT = [0]


def as_nobody():
    return ["setpriv", "--reuid=%d" % NOBODY.pw_uid,
            "--regid=%d" % NOBODY.pw_gid, "--clear-groups"]


def chown_tree(path):
    for d, dirs, files in os.walk(path):
        os.chown(d, NOBODY.pw_uid, NOBODY.pw_gid)
        for f in files:
            os.lchown(os.path.join(d, f), NOBODY.pw_uid, NOBODY.pw_gid)


def new_home(tag):
    """A home folder with an empty Maildir, both nobody's."""
    COUNT[0] += 1
    home = os.path.join(TOP, "%s-%d" % (tag, COUNT[0]))
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(home, "Maildir", sub))
    os.chmod(home, 0o755)
    chown_tree(home)
    return home


def deliver(home, name, body=None, sub="new"):
    """A message file named name in Maildir/sub, nobody's."""
    path = os.path.join(home, "Maildir", sub, name)
    if body is None:
        stem = name.split(",S=")[0].encode()
        body = b"From: a@example.org\nSubject: %s\n\nbody of %s\n" % (
            stem, stem)
    with open(path, "wb") as f:
        f.write(body)
    os.chown(path, NOBODY.pw_uid, NOBODY.pw_gid)
    return path


def dovecot_conf(home, extra="", log="/dev/stderr"):
    conf = os.path.join(home, "dovecot.conf")
    run = os.path.join(home, "run")
    os.makedirs(run, exist_ok=True)
    chown_tree(run)
    with open(conf, "w") as f:
        f.write("base_dir = %s\nstate_dir = %s\nlog_path = %s\n"
                "protocols = pop3\nssl = no\n"
                "mail_location = maildir:~/Maildir\n%s" % (run, run, log,
                                                           extra))
    return conf


def dovecot_uidls(home, **settings):
    """UIDL as Dovecot's pop3 gives it, pre-authenticated, as nobody."""
    conf = dovecot_conf(home)
    argv = as_nobody() + ["env", "-i", "USER=nobody", "HOME=" + home,
                          DOVECOT_POP3, "-c", conf]
    for k, v in settings.items():
        argv += ["-o", "%s=%s" % (k, v)]
    p = subprocess.run(argv, input=b"UIDL\r\nQUIT\r\n", capture_output=True,
                       timeout=TIMEOUT)
    # Pre-authenticated, it sends no greeting: the first reply is UIDL's.
    lines = p.stdout.split(b"\r\n")
    if p.returncode != 0 or lines[0] != b"+OK":
        check(False, "dovecot lists " + home, p.stdout + p.stderr)
        return []
    pairs = []
    for line in lines[1:]:
        if line == b".":
            break
        pairs.append(tuple(line.split(b" ", 1)))
    return pairs


def users_file(home):
    users = os.path.join(home, "users")
    if not os.path.exists(users):
        p = subprocess.run([PASSWD, "add", "--ops", "1", "--mem", "8K",
                            "--folder", os.path.join(home, "Maildir"),
                            "--users", users, "al"], input=b"secret\n",
                           capture_output=True, timeout=TIMEOUT)
        check(p.returncode == 0, "pop3d-passwd add", p.stderr)
        os.chown(users, NOBODY.pw_uid, NOBODY.pw_gid)   # pop3d runs as nobody
    return users


def pop3d_session(home, commands=b"UIDL\r\n"):
    # As the mailbox's owner: root is refused another user's mailbox.
    argv = as_nobody() + pop3d_argv(POP3D, "--users", users_file(home))
    return subprocess.run(argv, input=b"USER al\r\nPASS secret\r\n" +
                          commands + b"QUIT\r\n", capture_output=True,
                          timeout=TIMEOUT)


def pop3d_uidls(home):
    p = pop3d_session(home)
    lines = p.stdout.split(b"\r\n")
    if len(lines) < 4 or not lines[2].startswith(b"+OK maildrop"):
        check(False, "pop3d logs in to " + home, p.stdout + p.stderr)
        return []
    pairs = []
    for line in lines[4:]:
        if line == b".":
            break
        pairs.append(tuple(line.split(b" ", 1)))
    return pairs


def pop3d_import(*args):
    # Under $POP3D_WRAPPER (valgrind) too, as pop3d.
    return subprocess.run(pop3d_argv(IMPORT, "uidls", *args),
                          capture_output=True, timeout=TIMEOUT)


def ids_valid(pairs, what):
    ids = [u for _, u in pairs]
    check(len(set(ids)) == len(ids), what + ": ids unique", ids)
    check(all(1 <= len(u) <= 70 and all(0x21 <= c <= 0x7e for c in u)
              for u in ids), what + ": ids are RFC 1939 ids", ids)


def same_listing(home, dovecot, what):
    mine = pop3d_uidls(home)
    check(len(dovecot) > 0, what + ": Dovecot listed messages", dovecot)
    check(mine == dovecot, what + ": pop3d's UIDL is Dovecot's",
          "pop3d %r dovecot %r" % (mine, dovecot))
    ids_valid(mine, what)
    return mine


def maildir_names():
    """Five names as Dovecot's LDA gives them, in delivery order, with
    the size of the message deliver() writes (Dovecot checks S=)."""
    names = []
    for i in range(1, 6):
        stem = "1700000%03d.M%dP%d.mx.example.org" % (i, 100 + i, 4000 + i)
        size = len(b"From: a@example.org\nSubject: %s\n\nbody of %s\n" %
                   (stem.encode(), stem.encode()))
        names.append("%s,S=%d" % (stem, size))
    return names


def test_default_format():
    home = new_home("default")
    for n in maildir_names():
        deliver(home, n)
    dovecot = dovecot_uidls(home)
    # Dovecot moved them to cur/ with flags; a sixth stays in new/.
    deliver(home, "1700000999.M1P1.mx.example.org")
    dovecot = dovecot_uidls(home)
    check(len(dovecot) == 6, "dovecot lists six", dovecot)
    p = pop3d_import("--from", "dovecot", os.path.join(home, "Maildir"))
    check(p.returncode == 0, "import default format", p.stderr)
    check(p.stdout.startswith(b"# "), "import prints the listing", p.stdout)
    rows = [l.split(b" ") for l in p.stdout.splitlines()[1:]]
    check([r[0] for r in rows] == [u for _, u in dovecot] and
          all(r[0] == r[1] for r in rows), "import shows old = new", rows)
    st = os.lstat(os.path.join(home, "Maildir", UIDLS))
    check(st.st_uid == NOBODY.pw_uid and stat.S_IMODE(st.st_mode) == 0o600,
          "the file is the mailbox owner's, 0600", st)
    same_listing(home, dovecot, "default format")
    return home, dovecot


def test_busy_mailbox(home):
    """A session holds the mailbox: pop3d-import waits for no one and
    writes nothing (pop3d may rewrite the file at the same time), then
    imports once it is free.  The lock file it finds is left as it is."""
    import fcntl
    md = os.path.join(home, "Maildir")
    uidls = os.path.join(md, UIDLS)
    with open(uidls, "rb") as f:
        before = f.read()
    lock = os.path.join(md, ".pop3d.lock")
    fd = os.open(lock, os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        p = pop3d_import("--from", "dovecot", md)
        check(p.returncode != 0 and b"a POP3 session has the mailbox "
              b"open" in p.stderr, "import into a mailbox in use: refused",
              (p.returncode, p.stderr))
        with open(uidls, "rb") as f:
            check(f.read() == before, "import into a mailbox in use: "
                  "its file unchanged")
    finally:
        os.close(fd)
    p = pop3d_import("--from", "dovecot", md)
    check(p.returncode == 0, "import once the session ended", p.stderr)


def test_formats():
    for fmt in ("%v.%u", "%f", "%g", "%03u-%Lf", "%1.8f%Xu", "%Uf",
                "a%%b%u"):
        home = new_home("format")
        for n in maildir_names():
            deliver(home, n)
        dovecot = dovecot_uidls(home, pop3_uidl_format=fmt)
        p = pop3d_import("--from", "dovecot", "--format", fmt,
                         os.path.join(home, "Maildir"))
        check(p.returncode == 0, "import --format " + fmt, p.stderr)
        same_listing(home, dovecot, "format " + fmt)
    p = pop3d_import("--from", "dovecot", "--format", "%m", home)
    check(p.returncode == 100 and b"%m" in p.stderr,
          "--format %m is refused (no header MD5 in a Maildir)", p.stderr)
    p = pop3d_import("--from", "dovecot", "--format", "%{uid}", home)
    check(p.returncode == 100, "--format %{uid} is refused", p.stderr)


def test_saved_uidls():
    """pop3_save_uidl keeps what clients saw when the format changes."""
    home = new_home("saved")
    names = maildir_names()
    for n in names[:3]:
        deliver(home, n)
    saved = dovecot_uidls(home, pop3_uidl_format="%v-%u",
                          pop3_save_uidl="yes")
    for n in names[3:]:
        deliver(home, n)
    dovecot = dovecot_uidls(home)         # the default format now
    check(dovecot[:3] == saved and dovecot[3][1] != b"%s" % saved[0][1],
          "dovecot: saved UIDLs stay, new ones follow the format",
          (saved, dovecot))
    with open(os.path.join(home, "Maildir", "dovecot-uidlist"), "rb") as f:
        check(f.read().count(b" P") == 3, "dovecot saved three UIDLs")
    p = pop3d_import("--from", "dovecot", os.path.join(home, "Maildir"))
    check(p.returncode == 0, "import saved UIDLs", p.stderr)
    same_listing(home, dovecot, "saved UIDLs")


def test_x_uidl():
    home = new_home("xuidl")
    heads = [b"X-UIDL: 9f2c11aa08e4", b"x-uidl:\tGmail-style_00017",
             b"", b"X-UIDL:   padded  "]
    for i, h in enumerate(heads):
        body = b"From: a@b\n" + (h + b"\n" if h else b"") + \
            b"Subject: %d\n\nX-UIDL: not-the-header-%d\n" % (i, i)
        deliver(home, "1700000%03d.M1P1.host" % i, body)
    dovecot = dovecot_uidls(home, pop3_reuse_xuidl="yes")
    p = pop3d_import("--from", "x-uidl", os.path.join(home, "Maildir"))
    check(p.returncode == 0 and b"no X-UIDL" in p.stderr,
          "import x-uidl warns of the message without one", p.stderr)
    mine = pop3d_uidls(home)
    check(mine[:2] == dovecot[:2],
          "x-uidl: pop3d gives Dovecot's pop3_reuse_xuidl ids", (mine,
                                                                 dovecot))
    check(mine[2][1] == b"1700000002.M1P1.host",
          "x-uidl: without the field, pop3d's own id", mine)
    # Dovecot keeps the blanks after it: "padded  " is no POP3 id.
    check(dovecot[3][1] == b"padded  " and
          mine[3][1] == b"1700000003.M1P1.host" and
          b"not 1 to 70 printable" in p.stderr,
          "x-uidl: an id with blanks is refused, not trimmed", (mine,
                                                               p.stderr))
    ids_valid(mine, "x-uidl")


def test_new_mail_and_collisions(home, dovecot):
    """After the import: new mail, a name that is an imported id, a file
    replaced under an imported name."""
    maildir = os.path.join(home, "Maildir")
    taken = dovecot[0][1].decode()
    deliver(home, "1800000000.M1P1.mx.example.org")
    deliver(home, taken)                  # a new file named as an old id
    mine = pop3d_uidls(home)
    ids = [u for _, u in mine]
    old = [u for _, u in dovecot]
    check(len(mine) == len(dovecot) + 2, "two new messages listed", mine)
    check(set(old) <= set(ids), "imported ids stay", (mine, dovecot))
    check(mine[0][1].startswith(b"=") and
          mine[-1][1] == b"1800000000.M1P1.mx.example.org",
          "new mail gets pop3d's usual id, or a digest where an imported "
          "id has its name", mine)
    ids_valid(mine, "new mail")
    # The second message's file replaced: same name, another file.
    cur = os.path.join(maildir, "cur")
    name = sorted(os.listdir(cur))[1]
    tmp = os.path.join(maildir, "tmp", "x")
    with open(tmp, "wb") as f:
        f.write(b"Subject: replaced\n\nnot the message it was\n")
    os.rename(tmp, os.path.join(cur, name))
    mine = pop3d_uidls(home)
    ids = [u for _, u in mine]
    check(old[1] not in ids and name.split(":")[0].encode() in ids,
          "a file replaced under an imported name keeps no imported id",
          mine)
    check(set(old) - {old[1]} <= set(ids), "the others keep theirs",
          (mine, dovecot))
    ids_valid(mine, "replaced file")


def test_courier():
    """A Maildir as Courier's courierpop3d left it (courier/fixture.json,
    made by courier/make-fixture with Debian's courier-pop unpacked)."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "courier", "fixture.json")) as f:
        fx = json.load(f)
    home = new_home("courier")
    maildir = os.path.join(home, "Maildir")
    for name, body in fx["files"].items():
        with open(os.path.join(maildir, name), "w") as f:
            f.write(body)
    with open(os.path.join(maildir, "courierpop3dsizelist"), "w") as f:
        f.write(fx["courierpop3dsizelist"])
    p = pop3d_import("--from", "courier", maildir)
    check(p.returncode == 0, "import courier", p.stderr)
    mine = pop3d_uidls(home)
    check([u.decode() for _, u in mine] == fx["uidl"],
          "courier: pop3d's UIDL is Courier's", (mine, fx["uidl"]))
    # A message Courier never listed, and a record of UID 0 (its rule on
    # names): the name up to ':', "+XX" for ' " + and what is not 0x21..7E.
    deliver(home, "1800000000.M1P1.mx.example.org")
    deliver(home, "1800000001.M1 it's+\"x\".host", sub="cur")
    with open(os.path.join(maildir, "courierpop3dsizelist"), "a") as f:
        f.write("1800000001.M1 it's+\"x\".host 43 0:0:0\n")
    p = pop3d_import("--from", "courier", maildir)
    check(p.returncode == 0 and b"not in courierpop3dsizelist" in p.stderr,
          "courier: a message not in the file is named", p.stderr)
    mine = pop3d_uidls(home)
    check(mine[-1][1] == b"1800000001.M1+20it+27s+2B+22x+22.host" and
          mine[-2][1] == b"1800000000.M1P1.mx.example.org" and
          [u.decode() for _, u in mine[:5]] == fx["uidl"],
          "courier: UID 0 by its rule on names, the unlisted its own", mine)
    # Without the file at all: Courier's rule on names for every one.
    os.unlink(os.path.join(maildir, "courierpop3dsizelist"))
    p = pop3d_import("--from", "courier", maildir)
    check(p.returncode == 0 and b"rule on file names" in p.stderr,
          "courier without courierpop3dsizelist: said", p.stderr)
    mine = pop3d_uidls(home)
    check(mine[0][1] == b"1700000001.M1P101.mx.example.org",
          "courier without courierpop3dsizelist: the name's rule", mine)
    ids_valid(mine, "courier")
    with open(os.path.join(maildir, "courierpop3dsizelist"), "w") as f:
        f.write("/9 1 2\n")
    p = pop3d_import("--from", "courier", maildir)
    check(p.returncode == 1 and b"not a header of a known version" in
          p.stderr, "courier: an unknown version is refused", p.stderr)


def test_refused_ids():
    """An old UIDL POP3 cannot carry (over 70 octets) is not kept."""
    home = new_home("long")
    long_name = "1700000001.M1P1." + "x" * 60 + ".example.org"
    deliver(home, long_name)
    deliver(home, "1700000002.M2P2.host")
    dovecot = dovecot_uidls(home, pop3_uidl_format="%f")
    check(len(dovecot[0][1]) > 70, "dovecot gives an over-long UIDL",
          dovecot)
    p = pop3d_import("--from", "dovecot", "--format", "%f",
                     os.path.join(home, "Maildir"))
    check(p.returncode == 0 and b"not 1 to 70 printable" in p.stderr and
          long_name.encode()[:40] in p.stderr,
          "import names the message whose UIDL it cannot keep", p.stderr)
    mine = pop3d_uidls(home)
    check(mine[1] == dovecot[1], "the other keeps its UIDL", mine)
    check(mine[0][1].startswith(b"="), "the long one: pop3d's digest id",
          mine)
    ids_valid(mine, "refused")


def test_dry_run_and_errors():
    home = new_home("dry")
    for n in maildir_names()[:2]:
        deliver(home, n)
    dovecot = dovecot_uidls(home)
    maildir = os.path.join(home, "Maildir")
    p = pop3d_import("--from", "dovecot", "--dry-run", maildir)
    check(p.returncode == 0 and not os.path.exists(
        os.path.join(maildir, UIDLS)), "--dry-run writes nothing", p.stderr)
    rows = [l.split(b" ") for l in p.stdout.splitlines()[1:]]
    check([(r[0], r[1]) for r in rows] == [(u, u) for _, u in dovecot],
          "--dry-run shows the old and the new UIDL", p.stdout)
    plain = new_home("plain")
    os.unlink(os.path.join(plain, "Maildir", "dovecot-uidlist")) \
        if os.path.exists(os.path.join(plain, "Maildir",
                                       "dovecot-uidlist")) else None
    p = pop3d_import("--from", "dovecot", os.path.join(plain, "Maildir"))
    check(p.returncode == 1 and b"no dovecot-uidlist" in p.stderr,
          "a Maildir without dovecot-uidlist: exit 1, said", p.stderr)
    p = pop3d_import("--from", "dovecot", os.path.join(TOP, "nowhere"))
    check(p.returncode == 1, "a missing mailbox: exit 1", p.stderr)
    # A Maildir whose new/ is a symlink is refused, as pop3d refuses it,
    # not taken for a plain folder whose files at the top get ids.
    linked = new_home("linked")
    deliver(linked, maildir_names()[0], sub="cur")
    box = os.path.join(linked, "Maildir")
    with open(os.path.join(box, "top"), "wb") as f:
        f.write(b"X-UIDL: top\n\nnot a message\n")
    os.rmdir(os.path.join(box, "new"))
    os.symlink(os.path.join(box, "tmp"), os.path.join(box, "new"))
    p = pop3d_import("--from", "x-uidl", box)
    check(p.returncode == 1 and b"symbolic links" in p.stderr and
          not os.path.exists(os.path.join(box, UIDLS)),
          "a Maildir whose new/ is a symlink: exit 1, said, nothing written",
          (p.returncode, p.stderr))
    p = pop3d_import("--from", "courier-imap", maildir)
    check(p.returncode == 100, "an unknown source: usage", p.stderr)


def hostile(home, content, what, make=None):
    maildir = os.path.join(home, "Maildir")
    path = os.path.join(maildir, UIDLS)
    if os.path.lexists(path):
        os.unlink(path)
    if make is not None:
        make(path)
    else:
        with open(path, "wb") as f:
            f.write(content)
    try:
        mine = pop3d_uidls(home)
    except subprocess.TimeoutExpired:
        check(False, what + ": login does not hang")
        return []
    check(len(mine) == 6, what + ": the login lists every message", mine)
    ids_valid(mine, what)
    return mine


def test_hostile_files():
    home = new_home("hostile")
    names = ["1700000%03d.M1P1.host" % i for i in range(6)]
    inos = [os.stat(deliver(home, n)).st_ino for n in names]
    size = os.stat(os.path.join(home, "Maildir", "new", names[0])).st_size

    def entry(i, uid, name=None):
        return b"%d %d %s %s\n" % (inos[i], size, uid, (name or names[i])
                                   .encode())

    head = b"pop3d uidls 1\n"
    good = head + entry(0, b"old-0") + entry(1, b"old-1") + b"end\n"
    mine = hostile(home, good, "a good file")
    check([u for _, u in mine[:2]] == [b"old-0", b"old-1"] and
          mine[2][1] == names[2].encode(), "a good file is used", mine)
    hostile(home, b"\x00\xff garbage\n" * 100, "garbage")
    hostile(home, good.replace(b"pop3d uidls 1", b"pop3d uidls 9"),
            "another version")
    mine = hostile(home, head + entry(0, b"x" * 71) + entry(1, b"a b") +
                   entry(2, b"\x01ctl") + entry(3, b"ok-3") + b"end\n",
                   "malformed ids")
    check(mine[3][1] == b"ok-3" and mine[0][1] == names[0].encode(),
          "only the well-formed entry is used", mine)
    mine = hostile(home, head + entry(0, b"same") + entry(1, b"same") +
                   b"end\n", "one id twice")
    check(mine[0][1] == b"same" and mine[1][1] != b"same",
          "an id given twice is kept once", mine)
    mine = hostile(home, head + entry(0, names[1].encode()) + b"end\n",
                   "an id that is another file's name")
    check(mine[0][1] == names[1].encode() and mine[1][1] != names[1].encode(),
          "the imported id wins; the other file gets its own", mine)
    mine = hostile(home, head + b"%d %d stolen %s\n" % (inos[0] + 999999,
                                                       size, names[0]
                                                       .encode()),
                   "another inode")
    check(mine[0][1] == names[0].encode(),
          "an entry for another inode is not believed", mine)
    mine = hostile(home, head + entry(0, b"dot", ".pop3d.lock") +
                   entry(0, b"slash", "new/" + names[0]) + b"end\n",
                   "hidden and path names")
    check(mine[0][1] == names[0].encode(), "path names are not names", mine)
    hostile(home, head + b"1 " * 5000 + b"\n" + good[len(head):],
            "an over-long line")
    other = os.path.join(TOP, "elsewhere")
    with open(other, "wb") as f:
        f.write(good)
    mine = hostile(home, None, "a symlink",
                   make=lambda p: os.symlink(other, p))
    check(mine[0][1] == names[0].encode(), "a symlink is not followed",
          mine)
    hostile(home, None, "a FIFO", make=os.mkfifo)

    def sparse(p):
        with open(p, "wb") as f:
            f.write(good)
            f.truncate(262144 * 1024 + 1)
    mine = hostile(home, None, "an over-large file", make=sparse)
    check(mine[0][1] == names[0].encode(), "an over-large file is ignored",
          mine)


def retr_bodies(out, n):
    """The last n+1 answers' bodies: n RETRs, then QUIT's line."""
    parts = out.split(b"\r\n.\r\n")
    # Each part ends with a RETR: its "+OK" line, then the message.
    return [p[p.index(b"\r\n", p.rindex(b"+OK")) + 2:] + b"\r\n"
            for p in parts[-n - 1:-1]]


def test_mbox():
    """An mbox popa3d served (popa3d/fixture.json, made by its
    make-fixture with Debian's popa3d), copied into a Maildir that pop3d
    serves: each message's bytes, sent as popa3d sent them, and X-UIDL
    ids kept."""
    with open(os.path.join(os.path.dirname(os.path.abspath(__file__)),
                           "popa3d", "fixture.json")) as f:
        fx = json.load(f)
    mbox_data = base64.b64decode(fx["mbox"])
    old = base64.b64decode(fx["popa3d"])
    spool = tempfile.mkdtemp(dir=TOP)
    mbox = os.path.join(spool, "al")
    with open(mbox, "wb") as f:
        f.write(mbox_data)
    home = new_home("mbox")
    maildir = os.path.join(home, "Maildir")
    shutil.rmtree(maildir)
    p = subprocess.run(pop3d_argv(IMPORT, "mbox", mbox, maildir),
                       capture_output=True, timeout=TIMEOUT)
    check(p.returncode == 0 and b"4 messages copied" in p.stderr,
          "pop3d-import mbox", p.stderr)
    names = sorted(os.listdir(os.path.join(maildir, "new")))
    got = [open(os.path.join(maildir, "new", x), "rb").read()
           for x in names]
    want = [m.split(b"\n", 1)[1] for m in
            (b"\n\n" + mbox_data).split(b"\n\nFrom ")[1:]]
    want = [w + b"\n" if i + 1 < len(want) else w
            for i, w in enumerate(want)]
    check(got == want and len(got) == 4,
          "each message's bytes, in the mbox's order", (got, want))
    check(os.stat(os.path.join(maildir, "new", names[0])).st_uid ==
          NOBODY.pw_uid, "the files are the mail root's owner's")
    with open(mbox, "rb") as f:
        check(f.read() == mbox_data, "the mbox is left as it was")
    cmds = b"".join(b"RETR %d\r\n" % (i + 1) for i in range(4))
    new = pop3d_session(home, cmds).stdout
    theirs, mine = retr_bodies(old, 4), retr_bodies(new, 4)
    # popa3d sends a CRLF line's CR as a byte of the line ("\r\r\n");
    # pop3d takes CRLF as the line's end (DESIGN.md).  Otherwise alike.
    check(mine[1] == theirs[1].replace(b"\r\r\n", b"\r\n") and
          mine[:1] + mine[2:] == theirs[:1] + theirs[2:],
          "pop3d sends every message as popa3d did", (theirs, mine))
    p = pop3d_import("--from", "x-uidl", maildir)
    mine = pop3d_uidls(home)
    check(p.returncode == 0 and [u for _, u in mine] ==
          [b"8a7f3c2e11", names[1].encode(), names[2].encode(),
           b"UID77-1234567890"],
          "X-UIDL ids kept, pop3d's own for the rest", (mine, p.stderr))
    p = subprocess.run(pop3d_argv(IMPORT, "mbox", mbox, maildir),
                       capture_output=True, timeout=TIMEOUT)
    check(p.returncode == 1 and b"holds mail already" in p.stderr,
          "a second copy into the same Maildir is refused", p.stderr)


def test_users():
    """Dovecot passwd-file lines into users-file lines: argon2id hashes
    doveadm made kept as they are (the user logs in to pop3d with the
    same password), weak and unverified schemes refused, each named."""
    home = new_home("users")
    maildir = os.path.join(home, "Maildir")

    def doveadm(scheme, pw):
        return subprocess.run(["doveadm", "pw", "-s", scheme, "-p", pw],
                              capture_output=True, check=True,
                              timeout=TIMEOUT).stdout.decode().strip()

    def mkpasswd(method, pw):
        if shutil.which("mkpasswd") is None:
            check(False, "mkpasswd (package whois) is installed")
            return "{CRYPT}*"
        return "{CRYPT}" + subprocess.run(
            ["mkpasswd", "-m", method, pw], capture_output=True, check=True,
            timeout=TIMEOUT).stdout.decode().strip()

    lines = [
        "# Dovecot's users",
        "al:%s:1000:1000::%s::" % (doveadm("ARGON2ID", "old secret"), home),
        "bo:%s:1001:1001::/nowhere::userdb_mail=maildir:%s:LAYOUT=fs" % (
            doveadm("ARGON2ID", "bo's"), maildir),
        "cy:{PLAIN}secret::",
        "dd:%s::" % doveadm("SHA512-CRYPT", "dd's"),
        "ee:%s::" % doveadm("MD5-CRYPT", "x"),
        "ff:{SHA}qUqP5cyxm6YcTAhz05Hph5gvu9M=::",
        "gg:%s::" % mkpasswd("yescrypt", "gg's"),
        "hh:%s::" % mkpasswd("bcrypt", "hh's"),
        "ii:%s::" % mkpasswd("sha512crypt", "ii's"),
        "jj:%s::" % mkpasswd("descrypt", "x"),
        "kk:%s::" % doveadm("ARGON2I", "x"),
        "ll:%s::" % doveadm("CRAM-MD5", "x"),
    ]
    src = os.path.join(home, "dovecot-passwd")
    with open(src, "w") as f:
        f.write("\n".join(lines) + "\n")
    p = subprocess.run(pop3d_argv(IMPORT, "users", "--from", "dovecot", src),
                       capture_output=True, timeout=TIMEOUT)
    out = p.stdout.decode().splitlines()
    check(p.returncode == 1 and len(out) == 6 and
          out[0].startswith("al:$argon2id$") and
          out[0].endswith(":" + maildir) and
          out[1].startswith("bo:$argon2id$") and
          out[1].endswith(":" + maildir) and
          [l[:6] for l in out[2:]] == ["dd:$6$", "gg:$y$", "hh:$2b",
                                       "ii:$6$"],
          "argon2id and legacy users kept", (p.stdout, p.stderr))
    err = p.stderr.decode()
    for user, what in (("cy", "weak password scheme"), ("ee", "weak"),
                       ("ff", "weak"), ("jj", "des-crypt"),
                       ("kk", "argon2i"), ("ll", "CRAM-MD5")):
        check(any(("user %s: " % user) in l and what in l
                  for l in err.splitlines()),
              "user %s refused, named, with %s" % (user, what), err)
    users = os.path.join(home, "imported-users")
    with open(users, "w") as f:
        f.write(p.stdout.decode())
    deliver(home, "1700000001.M1P1.host")
    for name, pw, ok in (("al", "old secret", True), ("bo", "bo's", True),
                         ("al", "wrong", False), ("cy", "secret", False),
                         ("dd", "dd's", True), ("gg", "gg's", True),
                         ("hh", "hh's", True), ("ii", "ii's", True),
                         ("gg", "hh's", False), ("hh", "gg's", False)):
        r = subprocess.run(as_nobody() + pop3d_argv(POP3D, "--users", users,
                                                    "--mail-root", TOP),
                           input=b"USER %s\r\nPASS %s\r\nSTAT\r\nQUIT\r\n"
                           % (name.encode(), pw.encode()),
                           capture_output=True, timeout=TIMEOUT)
        lines_out = r.stdout.split(b"\r\n")
        # al and bo have the Maildir; the others pop3d's default.
        check(lines_out[2].startswith(b"+OK maildrop has %d message" %
                                      (name in ("al", "bo")))
              if ok else lines_out[2].startswith(b"-ERR [AUTH]"),
              "pop3d login %s with the old password: %s" % (name, ok),
              r.stdout)


def peak_kib(users, name):
    """A failed login's peak memory (KiB), from wait4: the cost of the
    hash verified, which memory-hard schemes set."""
    p = subprocess.Popen([POP3D, "--users", users, "--ban-after", "0",
                          "--mail-root", TOP], stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE)
    p.stdin.write(b"USER %s\r\nPASS wrong\r\nQUIT\r\n" % name)
    p.stdin.close()
    out = p.stdout.read()
    _, _, ru = os.wait4(p.pid, 0)
    return out.split(b"\r\n")[2], ru.ru_maxrss


def test_legacy_unknown_cost():
    """An unknown name costs what the file's legacy users cost: with one
    yescrypt user of 32 MiB, every unknown name takes that much memory
    (not the 64 MiB of pop3d's own dummy), as a wrong password of that
    user does; with a cheap bcrypt user only, none does."""
    if wrapped():
        return
    home = new_home("legacy-cost")
    big = os.path.join(home, "big")
    with open(big, "w") as f:
        f.write("yb:%s\n" % subprocess.run(
            ["mkpasswd", "-m", "yescrypt", "-R", "6", "pw"],
            capture_output=True, check=True).stdout.decode().strip())
    small = os.path.join(home, "small")
    with open(small, "w") as f:
        f.write("bc:%s\n" % subprocess.run(
            ["mkpasswd", "-m", "bcrypt", "-R", "4", "pw"],
            capture_output=True, check=True).stdout.decode().strip())
    reply, known = peak_kib(big, b"yb")
    check(reply.startswith(b"-ERR [AUTH]") and 30000 < known < 50000,
          "a wrong yescrypt password takes its 32 MiB", (reply, known))
    for i in range(4):
        reply, kib = peak_kib(big, b"nobody%d" % i)
        check(reply.startswith(b"-ERR [AUTH]") and 30000 < kib < 50000,
              "an unknown name costs the yescrypt user's memory",
              (reply, kib, known))
        reply, kib = peak_kib(small, b"nobody%d" % i)
        check(reply.startswith(b"-ERR [AUTH]") and kib < 30000,
              "an unknown name costs the bcrypt user's", (reply, kib))


def test_upgrade():
    """A legacy user's login leaves an argon2id hash of the password in
    the spool; pop3d-passwd upgrade puts it in the user's line (folder
    and flags kept) and empties the spool; the next login verifies
    argon2id.  A password set meanwhile is never undone, and a hostile
    spool changes nothing."""
    home = new_home("upgrade")
    users = os.path.join(home, "users")
    spool = os.path.join(home, "spool")

    def mk(method, pw):
        return subprocess.run(["mkpasswd", "-m", method, pw],
                              capture_output=True, check=True,
                              timeout=TIMEOUT).stdout.decode().strip()
    lines = ["ya:%s:%s:ro" % (mk("yescrypt", "ya pw"),
                              os.path.join(home, "Maildir")),
             "bb:%s" % mk("bcrypt", "bb pw"),
             "sc:%s" % mk("sha512crypt", "sc pw")]
    with open(users, "w") as f:
        f.write("\n".join(lines) + "\n")
    os.chmod(users, 0o640)

    def login(name, pw):
        r = subprocess.run(pop3d_argv(POP3D, "--users", users, "--mail-root",
                                      TOP, "--rehash-dir", spool),
                           input=b"USER %s\r\nPASS %s\r\nQUIT\r\n" %
                           (name.encode(), pw.encode()),
                           capture_output=True, timeout=TIMEOUT)
        return r.stdout.split(b"\r\n")[2].startswith(b"+OK maildrop")

    def passwd(*args, stdin=b""):
        return subprocess.run(pop3d_argv(PASSWD, *args), input=stdin,
                              capture_output=True, timeout=TIMEOUT)

    def line_of(name):
        with open(users) as f:
            return next(l for l in f.read().splitlines()
                        if l.startswith(name + ":"))

    r = passwd("list", "--users", users)
    check(r.stdout == b"ya legacy\nbb legacy\nsc legacy\n",
          "list marks legacy users", r.stdout)
    check(not login("ya", "bb pw") and not os.path.exists(spool),
          "a wrong password leaves nothing in the spool")
    for name in ("ya", "bb", "sc"):
        check(login(name, name + " pw"), "legacy login " + name)
    entries = sorted(os.listdir(spool))
    check(len(entries) == 3 and all(
        stat.S_IMODE(os.stat(os.path.join(spool, e)).st_mode) == 0o600
        for e in entries), "three spool entries, 0600", entries)
    # bb's password is set anew before the upgrade: it must stay.
    r = passwd("passwd", "--ops", "1", "--mem", "8K", "--users", users, "bb",
               stdin=b"new bb\n")
    check(r.returncode == 0, "pop3d-passwd passwd bb", r.stderr)
    bb_line = line_of("bb")
    with open(os.path.join(spool, "garbage"), "wb") as f:
        f.write(b"pop3d rehash 1\nya $y$x $argon2id$evil\n")
    os.symlink(users, os.path.join(spool, "link"))
    r = passwd("upgrade", "--spool", spool, "--users", users)
    check(r.returncode == 0 and r.stdout == b"upgraded=2 stale=3\n",
          "upgrade merges two, drops bb's stale entry and the junk",
          (r.returncode, r.stdout, r.stderr))
    check(os.listdir(spool) == [], "the spool is empty", os.listdir(spool))
    check(os.path.isfile(users) and not os.path.islink(users),
          "the users file is still a file")
    ya = line_of("ya")
    check(ya.split(":")[1].startswith("$argon2id$") and
          ya.endswith(":" + os.path.join(home, "Maildir") + ":ro"),
          "ya's line: argon2id, folder and flags kept", ya)
    check(line_of("bb") == bb_line, "bb keeps the password set meanwhile")
    check(line_of("sc").split(":")[1].startswith("$argon2id$"),
          "sc's line: argon2id")
    r = passwd("list", "--users", users)
    check(r.stdout == b"ya\nbb\nsc\n", "list: nobody is legacy now",
          r.stdout)
    check(login("ya", "ya pw") and login("sc", "sc pw") and
          login("bb", "new bb") and not login("bb", "bb pw") and
          not os.path.exists(os.path.join(spool, entries[0])) and
          os.listdir(spool) == [],
          "upgraded users log in with argon2id; no new spool entry")
    # The ban counts guesses at a legacy user as at any: two wrong
    # passwords lock the name, and the right one is refused then too.
    with open(users, "a") as f:
        f.write("lk:%s\n" % mk("yescrypt", "lk pw"))
    ban = os.path.join(home, "failures")
    env = dict(os.environ, REMOTE_ADDR="192.0.2.7")
    env.pop("REMOTE_HOST", None)
    replies = []
    for pw in ("guess 1", "guess 2", "lk pw"):
        r = subprocess.run(pop3d_argv(POP3D, "--users", users, "--mail-root",
                                      TOP, "--ban-file", ban,
                                      "--ban-user-after", "2",
                                      "--rehash-dir", spool),
                           input=b"USER lk\r\nPASS %s\r\nQUIT\r\n" %
                           pw.encode(), capture_output=True,
                           timeout=TIMEOUT, env=env)
        replies.append(r.stdout.split(b"\r\n")[2])
    check(all(x.startswith(b"-ERR [AUTH]") for x in replies) and
          os.listdir(spool) == [],
          "two wrong guesses lock a legacy user, right password or not",
          replies)
    # A spool that cannot be written costs a legacy user nothing.
    with open(users, "a") as f:
        f.write("zz:%s\n" % mk("yescrypt", "zz pw"))
    shutil.rmtree(spool)
    with open(spool, "w") as f:
        f.write("not a folder\n")
    check(login("zz", "zz pw"), "a legacy login with no spool to write")


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def start_dovecot(home, port):
    conf = dovecot_conf(home, (
        "listen = 127.0.0.1\ndisable_plaintext_auth = no\n"
        "passdb {\n  driver = passwd-file\n  args = %s/dovecot-passwd\n}\n"
        "userdb {\n  driver = static\n  args = uid=nobody gid=%d home=%s\n"
        "}\nservice pop3-login {\n  inet_listener pop3 {\n    port = %d\n"
        "  }\n}\nservice imap-login {\n  inet_listener imap {\n"
        "    port = 0\n  }\n}\n") % (home, NOBODY.pw_gid, home, port),
        log=os.path.join(home, "dovecot.log"))
    with open(os.path.join(home, "dovecot-passwd"), "w") as f:
        f.write("al:{PLAIN}secret::::\n")
    # The daemon keeps what it inherits: no pipes to wait on.
    p = subprocess.run(["dovecot", "-c", conf], stdin=subprocess.DEVNULL,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                       timeout=TIMEOUT)
    check(p.returncode == 0, "dovecot starts")
    return conf


def fetchmail(home, port, what):
    rc = os.path.join(home, "fetchmailrc")
    got = os.path.join(home, "got")
    with open(rc, "w") as f:
        f.write("poll 127.0.0.1 protocol pop3 port %d uidl user al "
                "password secret keep sslproto '' "
                "mda \"/bin/sh -c 'cat >> %s'\"\n" % (port, got))
    os.chmod(rc, 0o600)
    before = open(got, "rb").read().count(b"\nSubject: ") \
        if os.path.exists(got) else 0
    env = dict(os.environ, HOME=home, FETCHMAILHOME=home)
    p = subprocess.run(["fetchmail", "-f", rc, "-i",
                        os.path.join(home, "fetchids"), "--nosyslog"],
                       capture_output=True, timeout=TIMEOUT, env=env)
    after = open(got, "rb").read().count(b"\nSubject: ") \
        if os.path.exists(got) else 0
    return p, after - before


def test_fetchmail():
    home = new_home("fetchmail")
    for n in maildir_names():
        deliver(home, n)
    port = free_port()
    conf = start_dovecot(home, port)
    try:
        p, n = fetchmail(home, port, "dovecot")
        check(p.returncode == 0 and n == 5,
              "fetchmail keep: five from Dovecot", (n, p.stdout, p.stderr))
        p, n = fetchmail(home, port, "dovecot")
        check(n == 0, "fetchmail keep: nothing more from Dovecot",
              (n, p.stdout))
    finally:
        subprocess.run(["doveadm", "-c", conf, "stop"], capture_output=True,
                       timeout=TIMEOUT)
    p = pop3d_import("--from", "dovecot", os.path.join(home, "Maildir"))
    check(p.returncode == 0, "import for fetchmail", p.stderr)
    srv = Inetd(as_nobody() + pop3d_argv(POP3D, "--users", users_file(home)))
    try:
        p, n = fetchmail(home, srv.port, "pop3d")
        check(n == 0 and p.returncode == 1,
              "fetchmail keep: nothing again from pop3d",
              (n, p.returncode, p.stdout, p.stderr))
        deliver(home, "1900000000.M1P1.mx.example.org")
        p, n = fetchmail(home, srv.port, "pop3d")
        check(n == 1 and p.returncode == 0,
              "fetchmail keep: only the new message from pop3d",
              (n, p.stdout, p.stderr))
    finally:
        srv.close()


try:
    home, dovecot = test_default_format()
    test_new_mail_and_collisions(home, dovecot)
    test_busy_mailbox(home)
    test_formats()
    test_saved_uidls()
    test_x_uidl()
    test_courier()
    test_mbox()
    test_users()
    test_legacy_unknown_cost()
    test_upgrade()
    test_refused_ids()
    test_dry_run_and_errors()
    test_hostile_files()
    test_fetchmail()
finally:
    shutil.rmtree(TOP, ignore_errors=True)
sys.exit(finish())
