#!/usr/bin/env python3
"""The index beside the users file, FILE.cdb, through the real programs.

Usage: index_test.py POP3D POP3D-PASSWD

Every pop3d-passwd verb that changes the file leaves the index current
(it names the file's identity and every user's line); pop3d then finds
users by it.  An index that cannot be made is an error (111), and the
change still holds; so it does when pop3d-passwd is killed before the
new index is in place.  A hand edit makes it stale: pop3d reads the whole file,
logs that and how to rebuild, and 'index' brings it back.  Hostile
indexes, written here with an independent cdb writer and the file's
real identity so that pop3d takes them for current (truncated, offsets
past the end, a probe loop, a record naming another user's line, a
record for a name the file no longer has, a forged header, writable by
others, a FIFO), never crash pop3d, never let a password in for
another user's name, and are logged.  At 100,000 users an unknown name
and a wrong password get the same replies, with and without the index.
add --from loads many users in one rewrite, or none.  Log lines are read as log_test.py reads them,
so root is needed (skipped otherwise).
"""
import grp
import os
import shutil
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from pop3dtest import (check, drain_log, finish, pop3d_argv,  # noqa: E402
                       private_syslog)

POP3D, PASSWD = os.path.abspath(sys.argv[1]), os.path.abspath(sys.argv[2])
TIMEOUT = 60
COST = ["--ops", "1", "--mem", "8K"]
HEADER_KEY = b"\0pop3d-users-index-1"
IDENTITY = struct.Struct("<QQQqqqq")


def cdb_hash(key):
    h = 5381
    for c in key:
        h = (((h << 5) + h) & 0xffffffff) ^ c
    return h


def cdb_records(data):
    """(key, value) of every record of a cdb, in order."""
    end = min(struct.unpack_from("<I", data, 8 * i)[0] for i in range(256))
    pos, out = 2048, []
    while pos < end:
        klen, vlen = struct.unpack_from("<II", data, pos)
        out.append((data[pos + 8:pos + 8 + klen],
                    data[pos + 8 + klen:pos + 8 + klen + vlen]))
        pos += 8 + klen + vlen
    return out


def cdb_make(records, full_tables=False):
    """A cdb of records; full_tables leaves no empty slot (a probe of an
    absent key then runs through the whole table)."""
    out = bytearray(2048)
    tables = [[] for _ in range(256)]
    for k, v in records:
        tables[cdb_hash(k) & 255].append((cdb_hash(k), len(out)))
        out += struct.pack("<II", len(k), len(v)) + k + v
    top = bytearray()
    for t in tables:
        n = len(t) if full_tables else 2 * len(t)
        slots = [(0, 0)] * n
        for h, p in t:
            i = (h >> 8) % n
            while slots[i][1]:
                i = (i + 1) % n
            slots[i] = (h, p)
        top += struct.pack("<II", len(out), n)
        for h, p in slots:
            out += struct.pack("<II", h, p)
    out[:2048] = top
    return bytes(out)


def identity(path):
    st = os.stat(path)
    return IDENTITY.pack(st.st_dev, st.st_ino, st.st_size,
                         st.st_mtime_ns // 10**9, st.st_mtime_ns % 10**9,
                         st.st_ctime_ns // 10**9, st.st_ctime_ns % 10**9)


def passwd(*args, stdin=b""):
    return subprocess.run([PASSWD] + list(args), input=stdin,
                          capture_output=True, timeout=TIMEOUT)


class Site:
    """A users file of users u0..u{n-1} (password pw-<name>), mailboxes
    for the few that log in, and pop3d's log."""

    def __init__(self, top, log, n, shared=False):
        """shared: every user has u0's hash (pw-u0), loaded as hash
        lines, which is quicker than hashing n passwords."""
        self.top, self.log = top, log
        self.users = os.path.join(top, "users")
        self.index = self.users + ".cdb"
        os.makedirs(os.path.join(top, "mail"))
        first = 0
        if shared:
            r = passwd("add", *COST, "--users", self.users, "u0",
                       stdin=b"pw-u0\n")
            check(r.returncode == 0, "add u0: exit 0", r.stderr)
            hashed = open(self.users).read().split(":", 1)[1].strip()
            first = 1
        with open(os.path.join(top, "list"), "w") as f:
            for i in range(first, n):
                f.write("u%d:%s\n" % (i, hashed if shared else "pw-u%d" % i))
        r = passwd("add", "--from", os.path.join(top, "list"), *COST,
                   "--users", self.users)
        check(r.returncode == 0, "add --from %d users: exit 0" % n, r.stderr)

    def line_of(self, name):
        """(offset, length) of name's line in the users file."""
        data, off = open(self.users, "rb").read(), 0
        for line in data.split(b"\n"):
            if line.startswith(name + b":"):
                return off, len(line)
            off += len(line) + 1
        raise KeyError(name)

    def session(self, name, pw):
        """(pop3d's bytes, log lines) of one session; pop3d must end it
        normally and write nothing to stderr."""
        box = os.path.join(self.top, "mail", name)
        os.makedirs(box, exist_ok=True)
        drain_log(self.log, 0.05)
        r = subprocess.run(pop3d_argv(POP3D, "--users", self.users,
                                      "--mail-root",
                                      os.path.join(self.top, "mail")),
                           input=b"USER %s\r\nPASS %s\r\nQUIT\r\n" %
                           (name.encode(), pw.encode()),
                           capture_output=True, timeout=TIMEOUT)
        check(r.returncode in (0, 1) and r.stderr == b"",
              "pop3d ends a session normally (exit %d)" % r.returncode,
              r.stderr)
        return r.stdout, drain_log(self.log)

    def login(self, name, pw):
        """(reply to PASS, log lines) of one session."""
        out, log = self.session(name, pw)
        lines = out.split(b"\r\n")
        return (lines[2] if len(lines) > 2 else b""), log

    def index_lines(self, log):
        return [l for l in log if b" index=" in l]

    def header(self):
        """The real index's header, with its identity cut off."""
        for k, v in cdb_records(open(self.index, "rb").read()):
            if k == HEADER_KEY:
                return v[IDENTITY.size:]
        raise KeyError("header")

    def put_index(self, data, mode=0o640):
        with open(self.index, "wb") as f:
            f.write(data)
        os.chmod(self.index, mode)


def is_current(site):
    """The index holds the users file's identity."""
    return index_names(site.users) == identity(site.users)


def test_verbs(site):
    """Each verb that changes the file makes the index anew, with the
    file's owner and mode; pop3d answers by it, logging nothing."""
    steps = [
        ("add", lambda: passwd("add", *COST, "--users", site.users, "new",
                               stdin=b"pw-new\n")),
        ("passwd", lambda: passwd("passwd", *COST, "--users", site.users,
                                  "u1", stdin=b"pw-u1b\n")),
        ("del", lambda: passwd("del", "--users", site.users, "u2")),
        ("add --from", lambda: passwd("add", "--from", "-", *COST,
                                      "--users", site.users,
                                      stdin=b"bulk1:pw-bulk1\n")),
    ]
    for what, run in steps:
        r = run()
        check(r.returncode == 0, "%s: exit 0" % what, r.stderr)
        check(is_current(site), "%s: the index is current" % what)
        a, b = os.stat(site.users), os.stat(site.index)
        check((a.st_mode, a.st_uid, a.st_gid) == (b.st_mode, b.st_uid,
                                                    b.st_gid),
              "%s: the index has the file's owner and mode" % what)
    for name, pw, ok in [("new", "pw-new", True), ("u1", "pw-u1b", True),
                         ("u1", "pw-u1", False), ("u2", "pw-u2", False),
                         ("bulk1", "pw-bulk1", True), ("u3", "pw-u3", True),
                         ("nobody", "pw-u3", False)]:
        reply, log = site.login(name, pw)
        check(reply.startswith(b"+OK") == ok, "with the index: %s %s"
              % (name, "gets in" if ok else "is refused"), reply)
        check(not site.index_lines(log), "a current index logs nothing",
              log)
    for verb in ("list", "check"):
        before = open(site.index, "rb").read()
        passwd(verb, "--users", site.users, *(["u3"] if verb == "check"
                                              else []), stdin=b"pw-u3\n")
        check(open(site.index, "rb").read() == before,
              "%s leaves the index alone" % verb)


def test_index_fails(site):
    """When the file is changed but its index cannot be made, pop3d-passwd
    says so and exits 111; pop3d, seeing the old index stale, reads the
    file, so the change holds; 'index' mends it."""
    tmp = site.index + ".tmp"
    os.mkdir(tmp)           # file_create cannot put the index there
    try:
        r = passwd("add", *COST, "--users", site.users, "late",
                   stdin=b"pw-late\n")
        check(r.returncode == 111 and b"index" in r.stderr,
              "an index that cannot be made: exit 111, says so", r.stderr)
        reply, log = site.login("late", "pw-late")
        check(reply.startswith(b"+OK") and any(b"index=stale" in l
                                               for l in log),
              "the change holds, the old index is stale", log)
    finally:
        os.rmdir(tmp)
    r = passwd("index", "--users", site.users)
    check(r.returncode == 0 and is_current(site), "index mends it",
          r.stderr)


def test_killed_before_the_index(site):
    """pop3d-passwd killed just before it renames the new index into
    place: the users file is changed, the old index is whole and stale,
    logins read the file, and the next change leaves nothing behind."""
    if shutil.which("strace") is None:
        check(False, "strace is installed")
        return
    # rename(2) puts the users file in place, renameat(2) the index.
    r = subprocess.run(["strace", "-f", "-o", os.devnull, "-e",
                        "inject=renameat:signal=KILL:when=1",
                        PASSWD, "add", *COST, "--users", site.users,
                        "killed"], input=b"pw-killed\n",
                       capture_output=True, timeout=TIMEOUT)
    check(r.returncode == -9, "killed before the index's rename",
          "exit %d" % r.returncode)
    reply, log = site.login("killed", "pw-killed")
    check(reply.startswith(b"+OK") and any(b"index=stale" in l
                                           for l in log),
          "killed before the index: the user is there, the index stale",
          log)
    r = passwd("del", "--users", site.users, "killed")
    check(r.returncode == 0 and is_current(site) and
          not os.path.exists(site.index + ".tmp"),
          "the next change: a current index, no temporary file", r.stderr)


def test_used(site):
    """pop3d takes a current index at its word: a user it leaves out is
    refused, though the file has the line (so the index is not a
    decoration); 'index' makes it whole again."""
    keep = [(k, v) for k, v in cdb_records(open(site.index, "rb").read())
            if k != b"u3"]
    site.put_index(cdb_make(keep))
    reply, log = site.login("u3", "pw-u3")
    check(reply.startswith(b"-ERR"), "a user the index leaves out is "
          "refused", reply)
    r = passwd("index", "--users", site.users)
    check(r.returncode == 0 and b"users indexed" in r.stdout,
          "index: exit 0, says how many", r.stdout + r.stderr)
    reply, _ = site.login("u3", "pw-u3")
    check(reply.startswith(b"+OK"), "after index, the user gets in", reply)


def test_stale(site):
    """A hand edit (an appended line) makes the index stale: pop3d reads
    the file, so the new user gets in, and logs it with the way out."""
    hashed = open(site.users, "rb").read().split(b"\n")[0].split(b":", 1)[1]
    with open(site.users, "ab") as f:
        f.write(b"byhand:" + hashed + b"\n")     # u0's password
    first = open(site.users, "rb").read().split(b":", 1)[0].decode()
    for _ in range(2):      # once per login, every login
        reply, log = site.login("byhand", "pw-" + first)
        check(reply.startswith(b"+OK"), "stale index: a hand-added user "
              "gets in", reply)
        lines = site.index_lines(log)
        check(len(lines) == 1 and b"index=stale" in lines[0] and
              b"pop3d-passwd index --users " in lines[0],
              "stale index: one log line saying so, and how to rebuild",
              log)
    r = passwd("index", "--users", site.users)
    check(r.returncode == 0 and is_current(site), "index: current again",
          r.stderr)
    reply, log = site.login("byhand", "pw-" + first)
    check(reply.startswith(b"+OK") and not site.index_lines(log),
          "after index: the user gets in, nothing logged", log)


def hostile_cases(site):
    """(what, index bytes, mode) of hostile indexes that all claim to be
    current."""
    head = HEADER_KEY, identity(site.users) + site.header()
    off3, len3 = site.line_of(b"u3")
    off4, len4 = site.line_of(b"u4")
    size = os.path.getsize(site.users)
    rec = lambda o, n: struct.pack("<QQ", o, n)   # noqa: E731
    good = cdb_make([head, (b"u3", rec(off3, len3)),
                     (b"u4", rec(off4, len4))])
    cases = [("truncated to %d" % n, good[:n], 0o640)
             for n in (0, 7, 2047, 2048, len(good) // 2, len(good) - 1)]
    cases += [
        ("an offset past the end", cdb_make([head, (b"u3", rec(size + 10,
                                                               len3))]),
         0o640),
        ("a length past the end", cdb_make([head, (b"u3", rec(off3,
                                                             size))]),
         0o640),
        ("an offset wrapping around", cdb_make([head, (b"u3", rec(
            2**64 - 5, 10))]), 0o640),
        ("mid-line", cdb_make([head, (b"u3", rec(off3 + 1, len3 - 1))]),
         0o640),
        ("a record naming another user's line", cdb_make(
            [head, (b"u3", rec(off4, len4))]), 0o640),
        ("a record of another length", cdb_make(
            [head, (b"u3", rec(off3, len3) + b"x")]), 0o640),
        ("a header with a cost pop3d would not spend", cdb_make(
            [(HEADER_KEY, head[1].replace(b"t=1,p=1", b"t=1,p=2"))]), 0o640),
        ("a header cut short", cdb_make([(HEADER_KEY, head[1][:-1])]),
         0o640),
        ("no header", cdb_make([(b"u3", rec(off3, len3))]), 0o640),
        ("a table past the end", good[:8] + struct.pack("<II", 2**31, 2**28)
         + good[16:], 0o640),
        ("probe loops: tables without an empty slot", cdb_make(
            [head] + [(b"x%d" % i, rec(off4, len4)) for i in range(2000)],
            full_tables=True), 0o640),
        ("writable by others", good, 0o666),
    ]
    gone = [("a record for a name the file does not have", cdb_make(
        [head, (b"u3", rec(off3, len3)), (b"gone", rec(off4, len4))]),
        0o640)]
    return cases, gone


def test_hostile(site):
    """No hostile index lets u4's password in as u3, or crashes pop3d;
    those that disagree with the file are logged as broken, and pop3d
    then reads the file, so u3's own password still works."""
    cases, gone = hostile_cases(site)
    for what, data, mode in cases + gone:
        site.put_index(data, mode)
        reply, log = site.login("u3", "pw-u4")
        check(reply.startswith(b"-ERR"), "%s: another user's password is "
              "refused" % what, reply)
        reply, log = site.login("gone", "pw-u4")
        check(reply.startswith(b"-ERR"), "%s: a name the file lacks is "
              "refused" % what, reply)
        if (what, data, mode) in gone:
            check(len(site.index_lines(log)) == 1 and
                  b"index=broken" in site.index_lines(log)[0],
                  "%s: logged as broken" % what, log)
            continue
        reply, log = site.login("u3", "pw-u3")
        lines = site.index_lines(log)
        if what.startswith("probe loops"):
            # A full table answers "no such name": a refusal, no hang.
            check(reply.startswith(b"-ERR"), "%s: refused" % what, reply)
            continue
        check(reply.startswith(b"+OK"), "%s: the file is read, the user "
              "gets in" % what, reply)
        check(len(lines) == 1 and b"index=broken" in lines[0],
              "%s: one log line, broken" % what, log)
    os.unlink(site.index)
    os.mkfifo(site.index)
    reply, log = site.login("u3", "pw-u3")
    check(reply.startswith(b"+OK") and any(b"index=broken" in l and
                                           b"regular" in l for l in log),
          "a FIFO as the index: no hang, broken, the file is read", log)
    os.unlink(site.index)
    reply, log = site.login("u3", "pw-u3")
    check(reply.startswith(b"+OK") and not site.index_lines(log),
          "no index: the file is read, nothing logged", log)
    r = passwd("index", "--users", site.users)
    check(r.returncode == 0, "index after it all", r.stderr)


def test_duplicates(top, log):
    """A name written twice by hand is found at its first line, with the
    index as without it."""
    site = Site(os.path.join(top, "dup"), log, 3)
    lines = open(site.users, "rb").read().split(b"\n")
    with open(site.users, "ab") as f:
        f.write(b"u0:" + lines[1].split(b":", 1)[1] + b"\n")  # u1's pw
    for indexed in (False, True):
        if indexed:
            passwd("index", "--users", site.users)
        else:
            os.unlink(site.index)
        how = "with" if indexed else "without"
        check(site.login("u0", "pw-u0")[0].startswith(b"+OK"),
              "a name written twice, %s the index: the first line holds"
              % how)
        check(site.login("u0", "pw-u1")[0].startswith(b"-ERR"),
              "a name written twice, %s the index: not the second" % how)


def test_at_scale(top, log):
    """At 100,000 users, with the index and without: the last user gets
    in, and a wrong password for that user and an unknown name get the
    same bytes back (their times are bench/run's: scenario users)."""
    site = Site(os.path.join(top, "scale"), log, 100000, shared=True)
    last = "u99999"
    for indexed in (True, False):
        how = "with" if indexed else "without"
        if not indexed:
            os.unlink(site.index)
        reply, _ = site.login(last, "pw-u0")
        check(reply.startswith(b"+OK"), "100k users, %s the index: the "
              "last user gets in" % how, reply)
        wrong, _ = site.session(last, "pw-wrong")
        unknown, _ = site.session("nobody", "pw-u0")
        check(b"-ERR" in wrong and wrong == unknown, "100k users, %s the "
              "index: a wrong password and an unknown name get the same "
              "bytes" % how, (wrong, unknown))


def test_from(top):
    """add --from: every user or none; a name given twice, an existing
    one, a hash pop3d cannot use or an unusable name changes nothing."""
    users = os.path.join(top, "from-users")
    r = passwd("add", *COST, "--users", users, "old", stdin=b"pw\n")
    hashed = open(users, "rb").read().split(b":", 1)[1]
    before = open(users, "rb").read()
    for what, data, code in [
            ("an existing name", b"a:pw\nold:pw\n", 1),
            ("a name given twice", b"a:pw\na:pw2\n", 100),
            ("an argon2i hash", b"a:$argon2i$v=19$m=8,t=1,p=1$x$y\n", 100),
            ("an empty password", b"a:\n", 100),
            ("no colon", b"a\n", 100),
            ("a name with a space", b"a b:pw\n", 100)]:
        r = passwd("add", "--from", "-", *COST, "--users", users,
                   stdin=data)
        check(r.returncode == code, "add --from, %s: exit %d" % (what, code),
              r.stderr)
        check(open(users, "rb").read() == before, "add --from, %s: the "
              "file is untouched" % what)
    r = passwd("add", "--from", "-", *COST, "--read-only", "--users", users,
               stdin=b"# a comment\n\nx%3Ay:p:w\nh:" + hashed)
    check(r.returncode == 0, "add --from: a password with ':', an escaped "
          "name, a users-file line", r.stderr)
    data = open(users, "rb").read()
    check(data.startswith(before) and b"\nh:" + hashed in data and
          b"\nx%3Ay:$argon2id$" in data and data.count(b"\n") == 3,
          "add --from: appended, the hash line as it was", data)
    check(b"x%3Ay:$argon2id$" in data and b":ro\n" in data,
          "add --from: --read-only applies to password lines", data)
    r = passwd("check", "--users", users, "x:y", stdin=b"p:w\n")
    check(r.returncode == 0, "add --from: the password after the first "
          "':' is the password", r.stderr)


def test_setgid_folder(top):
    """As the README sets it up: in a set-group-ID folder (tmpfiles makes
    /etc/pop3d so) pop3d-passwd's new file has the folder's group at
    once, with no chgrp to make its index stale.  A chgrp or chmod after
    it does (it changes the file's ctime, which the index records):
    pop3d --check says so and names them, and 'index' mends it."""
    etc = os.path.join(top, "etc")
    gid = grp.getgrnam("nogroup").gr_gid
    os.mkdir(etc)
    os.chown(etc, 0, gid)
    os.chmod(etc, 0o2750)
    users = os.path.join(etc, "users")
    r = passwd("add", *COST, "--users", users, "me", stdin=b"pw-me\n")
    check(r.returncode == 0, "add in a set-group-ID folder: exit 0",
          r.stderr)
    st = os.stat(users)
    check(st.st_gid == gid and st.st_mode & 0o777 == 0o640,
          "a new users file: the folder's group, mode 0640",
          "gid %d mode %o" % (st.st_gid, st.st_mode))
    check(index_names(users) == identity(users),
          "a new users file's index is current, with no chgrp")
    mail = os.path.join(top, "setgid-mail")
    os.mkdir(mail)
    argv = [POP3D, "--check", "--users", users, "--mail-root", mail]
    before = subprocess.run(argv, capture_output=True, timeout=TIMEOUT)
    check(b".cdb" not in before.stdout + before.stderr,
          "pop3d --check: nothing about the index", before.stdout)
    os.chmod(users, 0o600)
    after = subprocess.run(argv, capture_output=True, timeout=TIMEOUT)
    check(after.returncode != 0 and b"stale" in after.stdout and
          b"chmod" in after.stdout and b"pop3d-passwd index" in after.stdout,
          "after a chmod, pop3d --check: the index is stale, chmod "
          "counts, and the way out", after.stdout)
    r = passwd("index", "--users", users)
    check(r.returncode == 0 and index_names(users) == identity(users),
          "index: current again", r.stderr)


def index_names(users):
    """The identity the index beside users records."""
    for k, v in cdb_records(open(users + ".cdb", "rb").read()):
        if k == HEADER_KEY:
            return v[:IDENTITY.size]
    return None


def main():
    log = private_syslog("POP3D_INDEX_TEST_NS")
    top = tempfile.mkdtemp(prefix="pop3d-index.")
    try:
        os.chmod(top, 0o755)
        site = Site(os.path.join(top, "site"), log, 300)
        test_verbs(site)
        test_index_fails(site)
        test_killed_before_the_index(site)
        test_used(site)
        test_stale(site)
        test_hostile(site)
        test_duplicates(top, log)
        test_at_scale(top, log)
        test_from(top)
        test_setgid_folder(top)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
