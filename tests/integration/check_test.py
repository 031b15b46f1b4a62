#!/usr/bin/env python3
"""pop3d --check against a table of broken setups, and a good one.

usage: check_test.py POP3D POP3D-PASSWD

Each case builds a setup in a temporary folder (a users file written by
the real pop3d-passwd, a mail root with a Maildir and a plain folder, a
folder for the failure-state file), breaks one thing the way an admin
would, runs the real `pop3d --check` with the options a session would
get, and expects exit 100 and a "problem:" line that names the file and
says what is wrong.  The good setup must give exit 0.  Every run must
leave the folder exactly as it was: --check makes, changes and removes
nothing.  Cases about owners and permissions run pop3d as uid 65534
(setpriv), since root may read and write everything; they are skipped
when the test does not run as root.  Prints "N passed, N failed".
"""

import hashlib
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from pop3dtest import check, finish, pop3d_argv, wrapped  # noqa: E402

if len(sys.argv) != 3:
    sys.exit("usage: check_test.py POP3D POP3D-PASSWD")
POP3D = os.path.abspath(sys.argv[1])
PASSWD = os.path.abspath(sys.argv[2])

TIMEOUT = 60
EX_USAGE = 100
NOBODY = 65534
ROOT = os.geteuid() == 0
SANITIZED = os.environ.get("POP3D_SANITIZED") == "1"
LINE_MAX = 16384        # POP3D_USERS_LINE_MAX
# A hash of the right form at a cost of 1 GiB: --check reads the cost,
# it never verifies the hash.
BIG_HASH = "$argon2id$v=19$m=1048576,t=2,p=1$c2FsdHNhbHRzYWx0$" + "A" * 43


def show(data, n=300):
    r = repr(data)
    return r if len(r) <= n else r[:n] + "..."


def add_user(users, name, opts=()):
    p = subprocess.run([PASSWD, "add", "--ops", "1", "--mem", "8K",
                        *opts, "--users", users, name], input=b"pw\n",
                       capture_output=True, timeout=TIMEOUT)
    if p.returncode != 0:
        raise RuntimeError(f"pop3d-passwd add {name}: {p.stderr!r}")


class Setup:
    """A good setup: users alice (a Maildir with two messages), bob (a
    plain folder with one) and carol (flagged ro, a plain folder) in
    root/users; the mail root root/mail; the failure-state file's folder
    root/state.  owner: the uid that owns it all (the uid --check runs
    as)."""

    def __init__(self, root, owner=0):
        self.root = root
        self.users = os.path.join(root, "users")
        self.mail = os.path.join(root, "mail")
        self.state = os.path.join(root, "state")
        self.owner = owner
        os.chmod(root, 0o755)
        add_user(self.users, "alice")
        add_user(self.users, "bob")
        add_user(self.users, "carol", ["--read-only"])
        os.chmod(self.users, 0o600)
        for sub in ("cur", "new", "tmp"):
            os.makedirs(os.path.join(self.mail, "alice", sub))
        self.write("mail/alice/new/1.eml", b"Subject: one\n\nhi\n")
        self.write("mail/alice/cur/2.eml:2,S", b"Subject: two\n\nho\n")
        os.makedirs(os.path.join(self.mail, "bob"))
        self.write("mail/bob/1.eml", b"Subject: b\n\nbody\n")
        os.makedirs(os.path.join(self.mail, "carol"))
        os.makedirs(self.state)
        if ROOT:
            self.give(owner)
        self.index()

    def index(self):
        """Remakes the users file's index, as an admin does after a
        chmod or chown (which change the file's ctime, and so make the
        index stale)."""
        p = subprocess.run([PASSWD, "index", "--users", self.users],
                           capture_output=True, timeout=TIMEOUT)
        if p.returncode != 0:
            raise RuntimeError(f"pop3d-passwd index: {p.stderr!r}")

    def path(self, rel):
        return os.path.join(self.root, rel)

    def write(self, rel, data, mode=0o644):
        with open(self.path(rel), "wb") as f:
            f.write(data)
        os.chmod(self.path(rel), mode)

    def append(self, rel, data):
        with open(self.path(rel), "ab") as f:
            f.write(data)

    def give(self, uid, rel=""):
        """Gives rel (a file, or a folder and all in it) to uid."""
        top = self.path(rel)
        os.lchown(top, uid, uid)
        if os.path.isdir(top) and not os.path.islink(top):
            for d, dirs, files in os.walk(top):
                for n in dirs + files:
                    os.lchown(os.path.join(d, n), uid, uid)

    def args(self):
        return ["--users", self.users, "--mail-root", self.mail,
                "--ban-file", os.path.join(self.state, "failures")]


def snapshot(root):
    """Everything --check could change: each name, its type, mode, owner,
    size, mtime and content (or link target)."""
    seen = {}
    for d, dirs, files in os.walk(root):
        for n in dirs + files:
            p = os.path.join(d, n)
            st = os.lstat(p)
            what = (st.st_mode, st.st_uid, st.st_gid, st.st_size,
                    st.st_mtime_ns)
            if os.path.islink(p):
                what += (os.readlink(p),)
            elif os.path.isfile(p):
                with open(p, "rb") as f:
                    what += (hashlib.sha256(f.read()).hexdigest(),)
            seen[os.path.relpath(p, root)] = what
    return seen


def run_check(args, uid=0, limit_as=None):
    """Runs pop3d --check ARGS as uid (setpriv for any other than 0),
    under an address-space limit when limit_as is set.  Returns (exit
    code, stdout as text, stderr)."""
    argv = pop3d_argv(POP3D, "--check", *args)
    if limit_as is not None:
        argv = ["prlimit", f"--as={limit_as}", "--"] + argv
    if uid != 0:
        argv = ["setpriv", f"--reuid={uid}", f"--regid={uid}",
                "--clear-groups", "--"] + argv
    p = subprocess.run(argv, capture_output=True, timeout=TIMEOUT,
                       stdin=subprocess.DEVNULL)
    return p.returncode, p.stdout.decode("utf-8", "replace"), p.stderr


def problems(out):
    return [l for l in out.splitlines() if l.startswith("problem: ")]


# Breaking one thing at a time: (name, as nobody?, how, expected line).
def users_line(line):
    return lambda s: s.append("users", line)


def users_folder(s):
    os.remove(s.users)
    os.mkdir(s.users)


def crlf_file(s):
    with open(s.users, "rb") as f:
        data = f.read()
    s.write("users", data.replace(b"\n", b"\r\n"), 0o600)


def bom_file(s):
    with open(s.users, "rb") as f:
        data = f.read()
    s.write("users", b"\xef\xbb\xbf" + data, 0o600)


def mailbox_file(s):
    shutil.rmtree(s.path("mail/bob"))
    s.write("mail/bob", b"not a folder\n")


def mailbox_link(s):
    shutil.rmtree(s.path("mail/bob"))
    os.makedirs(s.path("elsewhere"))
    os.symlink(s.path("elsewhere"), s.path("mail/bob"))


def maildir_without_cur(s):
    shutil.rmtree(s.path("mail/alice/cur"))


def new_link(s):
    os.rename(s.path("mail/alice/new"), s.path("new-elsewhere"))
    os.symlink(s.path("new-elsewhere"), s.path("mail/alice/new"))


def lock_of_root(s):
    s.write("mail/bob/.pop3d.lock", b"", 0o600)
    s.give(0, "mail/bob/.pop3d.lock")


def lock_of_root_as_root(s):
    """What a session run by hand as root leaves in a mailbox of
    another user's: the check, run as root too, still tells."""
    s.give(NOBODY, "mail/bob")
    lock_of_root(s)


def sizes_of_root(s):
    s.write("mail/alice/.pop3d.sizes", b"", 0o644)
    s.give(0, "mail/alice/.pop3d.sizes")


def sizes_link(s):
    os.symlink("/etc/passwd", s.path("mail/bob/.pop3d.sizes"))


def mailbox_of_root(s):
    s.give(0, "mail/bob")
    os.chmod(s.path("mail/bob"), 0o755)


def users_of_root(s):
    s.give(0, "users")


def mail_root_closed(s):
    s.give(0, "mail")
    os.chmod(s.mail, 0o700)


def mail_root_of_nobody(s):
    s.give(NOBODY, "mail")


def mail_root_missing(s):
    shutil.rmtree(s.mail)


def mail_root_file(s):
    shutil.rmtree(s.mail)
    s.write("mail", b"")


def ban_dir_missing(s):
    os.rmdir(s.state)


def ban_dir_of_root(s):
    s.give(0, "state")
    os.chmod(s.state, 0o755)


def ban_file_of_root(s):
    s.write("state/failures", b"", 0o644)
    s.give(0, "state/failures")


def index_damaged(s):
    s.write("users.cdb", b"\0" * 4096, 0o600)


def many_users_unindexed(s):
    """1,000 users more (by add --from, one rewrite), then no index."""
    with open(s.users) as f:
        hash_ = f.readline().rstrip("\n").split(":")[1]
    lst = s.path("more")
    with open(lst, "w") as f:
        for i in range(1000):
            f.write("u%04d:%s:%s\n" % (i, hash_, s.path("mail/bob")))
    p = subprocess.run([PASSWD, "add", "--from", lst, "--users", s.users],
                       capture_output=True, timeout=TIMEOUT)
    if p.returncode != 0:
        raise RuntimeError(f"pop3d-passwd add --from: {p.stderr!r}")
    os.remove(lst)
    os.remove(s.users + ".cdb")


CASES = [
    ("a stale index", 0, users_line(b"# edited by hand\n"),
     r"users file \S+/users: its index \S+/users\.cdb is stale .*: "
     r"pop3d-passwd index --users"),
    ("a damaged index", 0, index_damaged,
     r"users file \S+/users: its index \S+/users\.cdb is damaged"),
    ("1,003 users without an index", 0, many_users_unindexed,
     r"users file \S+/users: 1003 users and no index, so every login "
     r"reads the whole file: make one with pop3d-passwd index"),
    ("users file missing", 0, lambda s: os.remove(s.users),
     r"users file \S+/users: does not exist: add a user"),
    ("users file a folder", 0, users_folder,
     r"users file \S+/users: it is not a regular file"),
    ("users file writable by others", 0, lambda s: os.chmod(s.users, 0o602),
     r"users file \S+/users: others may write it, so pop3d refuses it"),
    ("users file readable by others", 0, lambda s: os.chmod(s.users, 0o604),
     r"users file \S+/users: others may read it"),
    ("users file not readable by the user", NOBODY, users_of_root,
     r"users file \S+/users: may not be read by uid 65534"),
    ("a line without a colon", 0, users_line(b"dave\n"),
     r"users file \S+/users: line 4: it has no ':' between a name and a "
     r"hash"),
    ("an unknown flag", 0,
     users_line(b"dave:" + BIG_HASH.encode() + b"::rw\n"),
     r"line 4: it has an unknown flag 'rw' \(known: ro, login-delay=N\)"),
    ("a repeated flag", 0,
     users_line(b"dave:" + BIG_HASH.encode() + b"::ro,ro\n"),
     r"line 4: it repeats the flag 'ro'"),
    ("an empty flag", 0,
     users_line(b"dave:" + BIG_HASH.encode() + b"::ro,\n"),
     r"line 4: it has an empty flag"),
    ("a bad login-delay", 0,
     users_line(b"dave:" + BIG_HASH.encode() + b"::login-delay=007\n"),
     r"line 4: its login-delay is not 0 to 86400 seconds"),
    ("five fields", 0,
     users_line(b"dave:" + BIG_HASH.encode() + b"::ro:x\n"),
     r"line 4: it has more than four ':'-separated fields"),
    ("a bad escape in a name", 0,
     users_line(b"da%2:" + BIG_HASH.encode() + b"\n"),
     r"line 4: its name has a '%' that is not followed by two hex digits"),
    ("a name with a space", 0,
     users_line(b"da ve:" + BIG_HASH.encode() + b"\n"),
     r"line 4: its name holds a space or a control byte"),
    ("not an argon2id hash", 0, users_line(b"dave:{SHA}abc=\n"),
     r"line 4: its hash is not an argon2id string"),
    ("an md5-crypt hash (too weak to keep)", 0,
     users_line(b"dave:$1$abcdefgh$ABCDEFGHIJKLMNOPQRSTUV\n"),
     r"line 4: its hash is not an argon2id string"),
    ("a cut bcrypt hash", 0, users_line(b"dave:$2y$10$abcdefghijklmnop\n"),
     r"line 4: its legacy hash \(yescrypt, sha512-crypt or bcrypt\) is "
     r"cut or damaged"),
    ("a damaged argon2id hash", 0,
     users_line(b"dave:$argon2id$v=19$m=8,t=1,p=1$c2FsdA$aGFzaA\n"),
     r"line 4: its argon2id hash cannot be read"),
    ("CRLF line ends", 0, crlf_file,
     r"users file \S+/users: line 1: it ends in CR LF"),
    ("a byte order mark", 0, bom_file,
     r"users file \S+/users: line 1: it begins with a byte order mark"),
    ("a duplicate name", 0, users_line(b"bob:" + BIG_HASH.encode() + b"\n"),
     r"line 4: its name is that of line 2, and only the first line"),
    ("a line too long", 0, users_line(b"x" * (LINE_MAX + 10) + b"\n"),
     r"line 4: it is longer than 16384 bytes"),
    ("no user at all", 0, lambda s: s.write("users", b"# none\n", 0o600),
     r"users file \S+/users: holds no user"),
    ("mail root missing", 0, mail_root_missing,
     r"mail root \S+/mail: does not exist, so every mailbox in it is "
     r"empty"),
    ("mail root a file", 0, mail_root_file,
     r"mail root \S+/mail: is not a folder"),
    ("mail root closed to the user", NOBODY, mail_root_closed,
     r"mail root \S+/mail: may not be entered by uid 65534"),
    ("mail root of another user, checked as root", 0, mail_root_of_nobody,
     r"mail root \S+/mail: belongs to uid 65534.* but this check runs as "
     r"root"),
    ("mailbox missing", 0, lambda s: shutil.rmtree(s.path("mail/bob")),
     r"mailbox \S+/mail/bob of bob: does not exist, so sessions show an "
     r"empty mailbox"),
    ("mailbox a file", 0, mailbox_file,
     r"mailbox \S+/mail/bob of bob: is not a folder"),
    ("mailbox a symbolic link", 0, mailbox_link,
     r"mailbox \S+/mail/bob of bob: is a symbolic link, which pop3d never "
     r"follows"),
    ("a Maildir without cur/", 0, maildir_without_cur,
     r"mailbox \S+/mail/alice of alice: has new/ but no cur/, so it is "
     r"served as a plain folder"),
    ("new/ a symbolic link", 0, new_link,
     r"mailbox \S+/mail/alice of alice: new/ is a symbolic link"),
    ("a lock file of another user", NOBODY, lock_of_root,
     r"mailbox \S+/mail/bob of bob: \.pop3d\.lock belongs to uid 0 "
     r"\(root\), not to uid 65534"),
    ("a lock file the user may not write", NOBODY, lock_of_root,
     r"mailbox \S+/mail/bob of bob: its \.pop3d\.lock may not be written "
     r"by uid 65534.*read-only"),
    ("a lock file of root's, checked as root", 0, lock_of_root_as_root,
     r"mailbox \S+/mail/bob of bob: \.pop3d\.lock belongs to uid 0 "
     r"\(root\), not to uid 65534[^:]* that owns the mailbox"),
    ("a size cache of another user", NOBODY, sizes_of_root,
     r"mailbox \S+/mail/alice of alice: \.pop3d\.sizes belongs to uid 0"),
    ("a size cache that is a symbolic link", 0, sizes_link,
     r"mailbox \S+/mail/bob of bob: \.pop3d\.sizes is not a regular file"),
    ("a mailbox the user may not write", NOBODY, mailbox_of_root,
     r"mailbox \S+/mail/bob of bob: may not be written by uid 65534[^,]*, "
     r"so sessions serve it read-only"),
    ("the ban file's folder missing", 0, ban_dir_missing,
     r"--ban-file \S+/state/failures: its folder \S+/state is not there"),
    ("the ban file's folder not writable", NOBODY, ban_dir_of_root,
     r"--ban-file \S+/state/failures: its folder \S+/state may not be "
     r"written by uid 65534"),
    ("the ban file of another user", NOBODY, ban_file_of_root,
     r"--ban-file \S+/state/failures: belongs to uid 0"),
]


def run_case(name, uid, how, expect):
    if uid != 0 and not ROOT:
        print(f"skip: {name}: needs root to drop to uid {uid}")
        return
    if "checked as root" in name and not ROOT:
        print(f"skip: {name}: needs root")
        return
    with tempfile.TemporaryDirectory() as tmp:
        s = Setup(tmp, uid)
        how(s)
        before = snapshot(tmp)
        rc, out, err = run_check(s.args(), uid)
        check(rc == EX_USAGE, f"{name}: exit 100", f"exit {rc}, {show(err)}")
        found = [l for l in problems(out) if re.search(expect, l)]
        check(len(found) == 1, f"{name}: one problem line says so",
              show(problems(out), 2000))
        check(snapshot(tmp) == before, f"{name}: nothing changed on disk")


def test_memory_limit():
    """A hash whose cost exceeds the address space pop3d may have."""
    if SANITIZED or wrapped():
        print("skip: memory limit: no address-space limit under a "
              "sanitizer or valgrind")
        return
    with tempfile.TemporaryDirectory() as tmp:
        s = Setup(tmp)
        s.append("users", b"dave:" + BIG_HASH.encode() + b"\n")
        s.index()
        os.makedirs(s.path("mail/dave"))
        rc, out, _ = run_check(s.args(), limit_as=256 << 20)
        found = [l for l in problems(out) if re.search(
            r"users file \S+/users: line 4: its hash needs 1024 MiB to "
            r"verify, more than the \d+ MiB this process may use", l)]
        check(rc == EX_USAGE and len(found) == 1,
              "a 1 GiB hash under a 256 MiB limit: exit 100, one line",
              show(problems(out), 2000))
        rc, out, _ = run_check(s.args())
        check(rc == 0, "the same hash without a limit: exit 0",
              show(problems(out), 2000))


def test_good(uid):
    """A good setup: exit 0, no problem, the configuration, nothing
    written (no lock file made, no size cache)."""
    who = "as the test's user" if uid == 0 else f"as uid {uid}"
    me = uid if uid != 0 else os.geteuid()
    with tempfile.TemporaryDirectory() as tmp:
        s = Setup(tmp, uid)
        before = snapshot(tmp)
        rc, out, err = run_check(s.args() + ["--idle-timeout", "300"], uid)
        check(rc == 0, f"good setup {who}: exit 0",
              f"exit {rc}: {show(problems(out), 2000)} {show(err)}")
        check(problems(out) == [] and
              out.rstrip("\n").endswith("result: no problem found"),
              f"good setup {who}: no problem line, says so at the end",
              show(out, 3000))
        check(re.search(rf"^checking as uid {me} ", out, re.M) is not None,
              f"good setup {who}: says whom it checks as", show(out, 400))
        check(snapshot(tmp) == before,
              f"good setup {who}: nothing made or changed on disk")
        check(not os.path.exists(s.path("mail/bob/.pop3d.lock")),
              f"good setup {who}: no lock file made")
        conf = [l for l in out.splitlines() if l.startswith("config: ")]
        for opt in ("users", "mail-root", "idle-timeout", "login-grace",
                    "ban-file", "ban-after", "ban-window", "ban-time",
                    "ban-loopback", "ban-user-after", "ban-user-time",
                    "proxy-from", "login-delay", "expire", "qaut", "tls",
                    "tls-cert", "tls-key", "allow-plaintext-auth"):
            check(sum(l.startswith(f"config: --{opt} ") for l in conf) == 1,
                  f"good setup {who}: the configuration shows --{opt}",
                  show(conf, 2000))
        check(f"config: --users {s.users} (given)" in conf and
              "config: --idle-timeout 300 (given)" in conf and
              "config: --login-grace 60 (default)" in conf and
              "config: --ban-loopback off (default)" in conf,
              f"good setup {who}: given and default values told apart",
              show(conf, 2000))
        check(re.search(r"^(confinement: Landlock ABI \d+|note: "
                        r"confinement: none)", out, re.M) is not None,
              f"good setup {who}: tells the kernel's confinement")


def test_user():
    """--user NAME: one account end to end, without a password."""
    with tempfile.TemporaryDirectory() as tmp:
        s = Setup(tmp)
        before = snapshot(tmp)
        rc, out, _ = run_check(s.args() + ["--user", "alice"])
        check(rc == 0 and re.search(
            r"^user alice: mailbox \S+/mail/alice, a Maildir, 2 messages "
            r"\(\d+ octets\); served read-write$", out, re.M) is not None,
            "--user alice: exit 0, its Maildir, 2 messages, read-write",
            show(out, 2000))
        rc, out, _ = run_check(s.args() + ["--user", "carol"])
        check(rc == 0 and re.search(
            r"^user carol: mailbox \S+/mail/carol, a plain folder, 0 "
            r"messages \(0 octets\); served read-only: the users file "
            r"flags it ro$", out, re.M) is not None,
            "--user carol: read-only, flagged ro", show(out, 2000))
        shutil.rmtree(s.path("mail/bob"))
        before = snapshot(tmp)
        rc, out, _ = run_check(s.args() + ["--user", "bob"])
        check(rc == EX_USAGE and re.search(
            r"^user bob: mailbox \S+/mail/bob, no folder \(an empty "
            r"mailbox\), 0 messages", out, re.M) is not None and
            len(problems(out)) == 1,
            "--user bob without a folder: exit 100, an empty mailbox, one "
            "problem", show(out, 2000))
        rc, out, _ = run_check(s.args() + ["--user", "zoe"])
        check(rc == EX_USAGE and any(
            "--user zoe: no line of the users file" in l
            for l in problems(out)), "--user zoe, unknown: exit 100",
            show(out, 2000))
        check(snapshot(tmp) == before, "--user: nothing changed on disk")
    if not ROOT:
        print("skip: --user read-only for want of rights: needs root")
        return
    with tempfile.TemporaryDirectory() as tmp:
        s = Setup(tmp, NOBODY)
        mailbox_of_root(s)
        rc, out, _ = run_check(s.args() + ["--user", "bob"], NOBODY)
        check(re.search(r"^user bob: mailbox \S+/mail/bob, a plain folder, "
                        r"1 message \(\d+ octets\); served read-only: its "
                        r"folder \(or new/, cur/\) may not be written$", out,
                        re.M) is not None,
              "--user bob, a folder of root's: read-only, says why",
              show(out, 2000))


def test_tls():
    """The certificate and key as the session would load them."""
    from pop3dtest import make_certs
    with tempfile.TemporaryDirectory() as tmp:
        s = Setup(tmp)
        certs = make_certs(tmp)
        base = s.args()
        rc, out, _ = run_check(base + ["--tls-cert", certs["chain"],
                                       "--tls-key", certs["key"]])
        check(rc == 0 and "config: --tls starttls (--tls-cert is given) "
              "(default)" in out, "a good certificate: exit 0",
              show(problems(out), 2000))
        rc, out, _ = run_check(base + ["--tls-cert", certs["chain"],
                                       "--tls-key", s.path("mid.key")])
        check(rc == EX_USAGE and any(re.search(
            r"--tls-cert \S+/chain\.pem: .*: sessions do not start", l)
            for l in problems(out)),
            "a key that is not the certificate's: exit 100, named",
            show(problems(out), 2000))
        rc, out, _ = run_check(base + ["--tls-cert", s.path("none.pem")])
        check(rc == EX_USAGE and any(
            "--tls-cert " + s.path("none.pem") in l for l in problems(out)),
            "a certificate that is not there: exit 100, named",
            show(problems(out), 2000))
        rc, out, _ = run_check(base + ["--tls=implicit", "--tls-cert",
                                       "%d/tls.crt", "--tls-key",
                                       "%d/tls.key"])
        found = [l for l in problems(out) if re.search(
            r"--tls-(cert|key) %25d/tls\.(crt|key): %d is systemd's "
            r"credentials folder.*LoadCredential=", l)]
        check(rc == EX_USAGE and len(found) == 2,
              "the TLS unit's %d pasted: exit 100, both files named",
              show(problems(out), 2000))
        expired = expired_cert(tmp)
        rc, out, _ = run_check(base + ["--tls-cert", expired["cert"],
                                       "--tls-key", expired["key"]])
        check(rc == EX_USAGE and any(re.search(
            r"--tls-cert \S+: the certificate has expired", l)
            for l in problems(out)),
            "an expired certificate: exit 100, named",
            show(problems(out), 2000))


def expired_cert(folder):
    """A self-signed certificate valid on 1 January 2000 only."""
    d = os.path.join(folder, "expired")
    os.makedirs(d)
    with open(os.path.join(d, "ca.cnf"), "w") as f:
        f.write("[ca]\ndefault_ca = d\n[d]\ndatabase = index.txt\n"
                "new_certs_dir = .\nserial = serial\ndefault_md = sha256\n"
                "policy = p\n[p]\ncommonName = supplied\n")
    open(os.path.join(d, "index.txt"), "w").close()
    with open(os.path.join(d, "serial"), "w") as f:
        f.write("01\n")
    for argv in (["req", "-new", "-newkey", "ec", "-pkeyopt",
                  "ec_paramgen_curve:P-256", "-nodes", "-keyout", "key.pem",
                  "-out", "req.csr", "-subj", "/CN=localhost"],
                 ["ca", "-batch", "-config", "ca.cnf", "-selfsign",
                  "-keyfile", "key.pem", "-in", "req.csr", "-startdate",
                  "20000101000000Z", "-enddate", "20000102000000Z", "-out",
                  "cert.pem"]):
        subprocess.run(["openssl"] + argv, check=True, capture_output=True,
                       timeout=TIMEOUT, cwd=d)
    return {"cert": os.path.join(d, "cert.pem"),
            "key": os.path.join(d, "key.pem")}


UNITS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..",
                     "units")


def shipped_args():
    """The options of each shipped unit's ExecStart= and xinetd entry's
    server_args, as an admin would paste them: {file: [args]}."""
    found = {}
    for name in sorted(os.listdir(UNITS)):
        with open(os.path.join(UNITS, name)) as f:
            for line in f:
                m = re.match(r"\s*(ExecStart=\S+|server_args\s*=)(.*)",
                             line)
                # pop3d's own command lines, not pop3d-passwd's timer.
                if m and not line.lstrip().startswith("#") and \
                        "pop3d-passwd" not in m.group(1):
                    found[name] = m.group(2).split()
    return found


def test_shipped():
    """What the shipped units and xinetd entries give pop3d can be pasted
    after --check: it runs the check (no usage error) and shows each
    option given as given."""
    found = shipped_args()
    check(len(found) == 4, "four shipped command lines found", found)
    for name, args in found.items():
        rc, out, err = run_check(args)
        check(rc in (0, EX_USAGE) and out.startswith("checking as ") and
              "\nresult: " in out, f"{name}: --check takes its options",
              f"exit {rc}: {show(out)} {show(err)}")
        for a in args:
            if a.startswith("--"):
                opt = a.split("=")[0]
                check(re.search(rf"^config: {re.escape(opt)} .*\(given\)$",
                                out, re.M) is not None,
                      f"{name}: {opt} shown as given", show(out, 2000))
        if "%d/tls.crt" in args:
            check("%d is systemd's credentials folder" in out,
                  f"{name}: the %d in it is explained", show(out, 2000))


def test_usage():
    """--user belongs to --check."""
    p = subprocess.run(pop3d_argv(POP3D, "--user", "alice"),
                       capture_output=True, timeout=TIMEOUT,
                       stdin=subprocess.DEVNULL)
    check(p.returncode == EX_USAGE and p.stdout == b"",
          "--user without --check: exit 100, nothing on stdout",
          f"exit {p.returncode}")


for case in CASES:
    run_case(*case)
test_memory_limit()
test_good(0)         # as whoever runs the test
if ROOT:
    test_good(NOBODY)
else:
    print("skip: good setup as uid 65534: needs root")
test_user()
test_tls()
test_shipped()
test_usage()
sys.exit(finish())
