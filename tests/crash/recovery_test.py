#!/usr/bin/env python3
"""What a careless delivery agent, a hurried admin or a local attacker
can do around a commit, and what pop3d must never do in return.

Usage: recovery_test.py POP3D POP3D-PASSWD

- new mail in a freed inode: a commit killed after its first removal
  leaves a journal; a message delivered under the freed name that the
  file system gives the freed inode (same size, and the old mtime forged
  too) must survive the next login's roll forward, which still finishes
  the rest.  So must a file the journal names that is replaced under its
  name before that login: by a new inode with the old size and mtime, or
  by a symlink to a kept message (whose target stays too).  The same for a version 1 journal (the inode alone), as an
  older pop3d left it, which is still finished for the files it meant.
- a file that cannot be removed (immutable, chattr +i): QUIT counts what
  it removed, and a journal naming it neither fails the next login nor
  keeps the rest of the mailbox; the file stays and is listed again.
- planted links: hard links at .pop3d.journal.tmp, .pop3d.sizes.tmp and
  .pop3d.login to files outside the mailbox; pop3d must write none of
  them.
- hostile names (a newline, a CR, control bytes, bad UTF-8, 255 octets,
  a journal line's look-alike, each beside a name that differs from it
  by its escape alone or one byte): a commit of the first kind killed
  half-way leaves a journal whose roll forward removes exactly those.

The freed inode is made to come back as ext4 hands it out: after a
sync, files are made in the folder until one gets it, each other one
parked in a folder made beforehand (made after, that folder could take
the inode itself); a file system that never gives it back skips those
checks, and says so.  chattr needs root and a
file system with the immutable flag; without them those checks are
skipped, and say so.  Prints "N passed, N failed".
"""
import hashlib
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pop3dtest import check, run_steps  # noqa: E402

POP3D, PASSWD = sys.argv[1], sys.argv[2]
PASSWORD = "recovery pw"
OLD = 1700000000 * 10**9     # message times, long past (see crash_test.py)


def login(mark=(), extra=(), verb="QUIT"):
    return ("USER me\r\nPASS %s\r\n" % PASSWORD
            + "".join("DELE %d\r\n" % n for n in mark)
            + "".join(extra) + "%s\r\n" % verb).encode()


def make_box(top, count=6):
    box = os.path.join(top, "mail", "me")
    os.makedirs(box)
    for i in range(1, count + 1):
        path = os.path.join(box, str(i))
        with open(path, "wb") as f:
            f.write(b"Subject: %d\n\nmessage %d\n" % (i, i))
        os.utime(path, ns=(OLD, OLD))
    os.utime(box, ns=(OLD, OLD))
    return box


def run(top, data, *args, strace=None):
    cmd = [POP3D, "--users", os.path.join(top, "..", "users"),
           "--mail-root", os.path.join(top, "mail"), "--idle-timeout", "10"]
    cmd += list(args)
    if strace is not None:
        cmd = ["strace", "-o", os.devnull] + strace + ["--"] + cmd
    return subprocess.run(cmd, input=data, capture_output=True, timeout=60)


def present(box):
    return sorted(n for n in os.listdir(box) if not n.startswith("."))


def reuse_inode(folder, park, ino, name, data, mtime_ns, tries=50000):
    """Makes folder/name a new file with inode ino (a delivery agent that
    writes a temporary file, then renames it), holding data, with the
    given mtime; park is an empty folder made before ino was freed (made
    after, it could take ino itself), where files given other inodes
    wait.  False when the file system would not give ino back."""
    try:
        subprocess.run(["sync"], check=True)
        for i in range(tries):
            tmp = os.path.join(folder, ".deliver")
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            if os.fstat(fd).st_ino == ino:
                os.write(fd, data)
                os.close(fd)
                os.utime(tmp, ns=(mtime_ns, mtime_ns))
                os.rename(tmp, os.path.join(folder, name))
                return True
            os.close(fd)
            os.rename(tmp, os.path.join(park, str(i)))
        return False
    finally:
        for n in os.listdir(park):
            os.unlink(os.path.join(park, n))


def killed_after_first_removal(top, mark):
    """Runs a session that marks mark and QUITs, killed by strace at the
    first unlinkat after it removed the first marked file: searches the
    unlinkat to kill at, since the calls before depend on the mailbox.
    Returns the box, with the journal left in place, or None."""
    for n in range(1, 40):
        shutil.rmtree(os.path.join(top, "mail"), ignore_errors=True)
        box = make_box(top)
        r = run(top, login(mark), strace=["-e", "inject=unlinkat:signal=KILL:when=%d" % n])
        if r.returncode != -9:
            return None         # the commit ended before that call
        gone = set(range(1, 7)) - {int(x) for x in present(box)}
        if gone == {mark[0]} and os.path.exists(os.path.join(box, ".pop3d.journal")):
            return box
    return None


def new_mail_in_a_freed_inode(base):
    """Item: roll forward spares new mail delivered into a freed inode."""
    top = tempfile.mkdtemp(dir=base)
    park = os.path.join(top, "park")
    os.mkdir(park)
    mark = (2, 4, 5)
    box = killed_after_first_removal(top, mark)
    if not check(box is not None, "no kill left the journal after one removal"):
        return
    with open(os.path.join(box, ".pop3d.journal"), "rb") as f:
        journal = f.read()
    check(journal.startswith(b"pop3d journal 2\n"), "journal %r" % journal[:40])
    # The inode of message 2, which the commit removed, from the journal.
    ino = int(journal.split(b"\n")[1].split(b" ")[1])
    old = b"Subject: 2\n\nmessage 2\n"
    new = b"Subject: N\n\nmessage N\n"   # the same size: only content differs
    if not reuse_inode(box, park, ino, "2", new, OLD):
        print("skip: new mail in a freed inode: this file system never "
              "gave inode %d back" % ino)
        shutil.rmtree(top)
        return
    st = os.stat(os.path.join(box, "2"))
    check(st.st_ino == ino and st.st_size == len(old) and st.st_mtime_ns == OLD,
          "the new message does not look like the old one to a stat")
    r = run(top, login(extra=["UIDL\r\n"]))
    check(b"+OK maildrop has 4 messages" in r.stdout, "next login: %r" % r.stdout)
    check(present(box) == ["1", "2", "3", "6"], "left %r" % present(box))
    check(os.path.exists(os.path.join(box, "2")) and
          open(os.path.join(box, "2"), "rb").read() == new,
          "the new message is lost or changed")
    check(not os.path.exists(os.path.join(box, ".pop3d.journal")), "journal left")
    shutil.rmtree(top)


def replaced_before_roll_forward(base):
    """Item: a journaled file replaced under its name before the roll
    forward (a new inode renamed over it, looking the same to a stat but
    for its inode; a symlink to a kept message) is kept, and the link's
    target with it."""
    top = tempfile.mkdtemp(dir=base)
    mark = (2, 4, 5)
    box = killed_after_first_removal(top, mark)
    if not check(box is not None, "replaced: no kill left the journal after one removal"):
        return
    with open(os.path.join(box, ".pop3d.journal"), "rb") as f:
        lines = f.read().split(b"\n")
    named = {l.rsplit(b" ", 1)[1]: int(l.split(b" ")[1]) for l in lines[1:-2]}
    check(sorted(named) == [b"2", b"4", b"5"], "replaced: journal names %r" % named)
    four = os.path.join(box, "4")
    new = b"Subject: 4\n\nmessage X\n"     # the same size as message 4
    tmp = os.path.join(box, ".deliver")
    with open(tmp, "wb") as f:
        f.write(new)
    os.utime(tmp, ns=(OLD, OLD))
    os.rename(tmp, four)
    st = os.stat(four)
    check(st.st_ino != named.get(b"4") and st.st_size == len(new) and
          st.st_mtime_ns == OLD, "replaced: 4 is not a look-alike in a new inode")
    os.unlink(os.path.join(box, "5"))
    os.symlink("1", os.path.join(box, "5"))
    r = run(top, login(extra=["UIDL\r\n"]))
    check(b"+OK maildrop has 4 messages" in r.stdout, "replaced: next login %r" % r.stdout)
    check(b"\r\n1 1\r\n2 3\r\n3 4\r\n4 6\r\n.\r\n" in r.stdout,
          "replaced: UIDL %r" % r.stdout)
    check(present(box) == ["1", "3", "4", "5", "6"], "replaced: left %r" % present(box))
    check(os.path.exists(four) and open(four, "rb").read() == new,
          "replaced: the new 4 is lost or changed")
    check(os.path.islink(os.path.join(box, "5")) and
          os.readlink(os.path.join(box, "5")) == "1", "replaced: the link was touched")
    one = os.path.join(box, "1")
    check(os.path.exists(one) and open(one, "rb").read() == b"Subject: 1\n\nmessage 1\n",
          "replaced: the link's target is lost or changed")
    check(not os.path.exists(os.path.join(box, ".pop3d.journal")), "replaced: journal left")
    shutil.rmtree(top)


def old_journal_and_a_freed_inode(base):
    """A version 1 journal (inode and name) is finished for the files it
    meant, and spares a file made in a freed inode after it."""
    top = tempfile.mkdtemp(dir=base)
    park = os.path.join(top, "park")
    os.mkdir(park)
    box = make_box(top)
    ino = {n: os.stat(os.path.join(box, str(n))).st_ino for n in (2, 3)}
    path = os.path.join(box, ".pop3d.journal")
    with open(path, "wb") as f:
        f.write(b"pop3d journal 1\nr %d 2\nr %d 3\nend\n" % (ino[2], ino[3]))
    # As an older pop3d left it: written after the messages were made,
    # killed after it removed message 2.
    os.unlink(os.path.join(box, "2"))
    if not reuse_inode(box, park, ino[2], "2", b"Subject: N\n\nnew\n", OLD):
        print("skip: version 1 journal: this file system never gave "
              "inode %d back" % ino[2])
        shutil.rmtree(top)
        return
    r = run(top, login())
    check(b"+OK maildrop has 5 messages" in r.stdout, "v1 login: %r" % r.stdout)
    check(present(box) == ["1", "2", "4", "5", "6"], "v1 left %r" % present(box))
    check(os.path.exists(os.path.join(box, "2")) and
          open(os.path.join(box, "2"), "rb").read() == b"Subject: N\n\nnew\n",
          "v1: the new message is lost or changed")
    check(not os.path.exists(path), "v1: journal left")
    shutil.rmtree(top)


def chattr(flag, path):
    return subprocess.run(["chattr", flag, path], capture_output=True).returncode == 0


def immutable_files(base):
    """A file that cannot be removed neither fails a login nor a QUIT."""
    top = tempfile.mkdtemp(dir=base)
    box = make_box(top)
    two = os.path.join(box, "2")
    if os.geteuid() != 0 or not chattr("+i", two):
        print("skip: immutable files: chattr +i needs root and a file "
              "system with the flag")
        shutil.rmtree(top)
        return
    try:
        # In the session's own commit: the rest goes, the reply counts it.
        r = run(top, login((2, 3)))
        check(r.stdout.endswith(b"+OK bye, 1 messages deleted\r\n"),
              "QUIT with an immutable file: %r" % r.stdout[-60:])
        check(present(box) == ["1", "2", "4", "5", "6"], "left %r" % present(box))
        check(not os.path.exists(os.path.join(box, ".pop3d.journal")),
              "journal left after QUIT")
        # A journal that names it, left by a crash: the next login gets in.
        ino = {n: os.stat(os.path.join(box, str(n))).st_ino for n in (2, 4)}
        journal = os.path.join(box, ".pop3d.journal")
        with open(journal, "wb") as f:
            f.write(b"pop3d journal 1\n" + b"".join(
                b"r %d %d\n" % (ino[n], n) for n in (2, 4)) + b"end\n")
        os.utime(journal, ns=(OLD * 2, OLD * 2))   # written after them
        r = run(top, login())
        check(b"+OK maildrop has 4 messages" in r.stdout,
              "login with a stuck journal: %r" % r.stdout)
        check(present(box) == ["1", "2", "5", "6"], "left %r" % present(box))
        check(not os.path.exists(journal), "stuck journal left")
    finally:
        chattr("-i", two)
    shutil.rmtree(top)


def planted_links(base):
    """Hard links at pop3d's own names never let it write outside."""
    top = tempfile.mkdtemp(dir=base)
    box = make_box(top)
    victims = {}

    def plant(names):
        for name in names:
            victim = os.path.join(top, "victim" + name)
            with open(victim, "wb") as f:
                f.write(b"not pop3d's\n")
            os.link(victim, os.path.join(box, name))
            victims[name] = victim

    # The size cache is written at login, the login time too; the
    # journal at QUIT, and a link planted before the login would be
    # cleared with the rest of a commit that never happened: plant that
    # one while the session runs.
    plant((".pop3d.sizes.tmp", ".pop3d.login"))
    cmd = [POP3D, "--users", os.path.join(base, "users"), "--mail-root",
           os.path.join(top, "mail"), "--idle-timeout", "10",
           "--login-delay", "1"]
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    out = b""
    try:
        p.stdin.write(login((1,), verb="NOOP"))
        p.stdin.flush()
        while not out.endswith(b"+OK\r\n"):
            chunk = p.stdout.read1(4096)
            if not chunk:
                break
            out += chunk
        plant((".pop3d.journal.tmp",))
        p.stdin.write(b"QUIT\r\n")
        p.stdin.close()
        out += p.stdout.read()
    finally:
        p.wait(timeout=30)
    check(out.endswith(b"+OK bye, 1 messages deleted\r\n"),
          "session with planted links: %r" % out[-80:])
    for name, victim in victims.items():
        with open(victim, "rb") as f:
            check(f.read() == b"not pop3d's\n", "%s written through" % name)
        check(os.stat(victim).st_nlink == 1, "%s still linked" % name)
    check(present(box) == ["2", "3", "4", "5", "6"], "left %r" % present(box))
    shutil.rmtree(top)


# Names a delivery agent may choose, each marked one beside a kept one
# that differs by its escape alone ("%0A" and a newline) or by one byte.
HOSTILE_MARKED = [b"nl\nname", b"cr\rname", b"tab\tname", b"ctl\x01\x7f",
                  b"bad\xff\xfeutf8", b"\xff" * 255, b"r 1 2 3 b4 x",
                  b"end", b"trailing ", b"a:2,S", b"100%"]
HOSTILE_KEPT = [b"nl%0Aname", b"cr%0Dname", b"tab%09name", b"ctl%01%7F",
                b"bad%FF%FEutf8", b"\xff" * 254, b"r 1 2 3 b4 y",
                b"end ", b"trailing", b"a:2,T", b"100%25"]


def hostile_box(top):
    box = os.path.join(top, "mail", "me").encode()
    os.makedirs(box)
    for name in HOSTILE_MARKED + HOSTILE_KEPT:
        path = os.path.join(box, name)
        with open(path, "wb") as f:
            f.write(b"Subject: " + name.hex().encode() + b"\n\nbody\n")
        os.utime(path, ns=(OLD, OLD))
    os.utime(box, ns=(OLD, OLD))
    return box


def pop3d_id(name):
    """The id pop3d gives a file of this name (DESIGN.md, unique ids)."""
    if (1 <= len(name) <= 70 and not name.startswith(b"=")
            and all(0x21 <= c <= 0x7E for c in name)):
        return name
    return b"=" + hashlib.blake2b(name, digest_size=16).hexdigest().encode()


def hostile_names(base):
    """Names with newlines, control bytes, bad UTF-8, 255 octets and
    look-alikes of their own escapes: a commit killed half-way leaves a
    journal whose roll forward removes exactly the marked ones."""
    top = tempfile.mkdtemp(dir=base)
    box = hostile_box(top)
    r = run(top, login(extra=["UIDL\r\n"]))
    ids = [l.split(b" ")[1] for l in r.stdout.split(b"\r\n")
           if l[:1].isdigit()]
    named = {pop3d_id(n): n for n in HOSTILE_MARKED + HOSTILE_KEPT}
    if not check(sorted(ids) == sorted(named),
                 "hostile names: each listed under its id", r.stdout):
        return
    marked = [i + 1 for i, u in enumerate(ids) if named[u] in HOSTILE_MARKED]
    found = None
    for n in range(1, 60):
        shutil.rmtree(os.path.join(top, "mail"))
        box = hostile_box(top)
        r = run(top, login(marked),
                strace=["-e", "inject=unlinkat:signal=KILL:when=%d" % n])
        if r.returncode != -9:
            break
        left = set(os.listdir(box))
        if (b".pop3d.journal" in left
                and any(m not in left for m in HOSTILE_MARKED)
                and any(m in left for m in HOSTILE_MARKED)):
            found = n
            break
    if not check(found is not None,
                 "hostile names: no kill left a commit half done"):
        return
    r = run(top, login(extra=["STAT\r\n"]))
    check(r.returncode == 0 and b"+OK maildrop" in r.stdout,
          "hostile names: the next login", r.stdout)
    left = set(n for n in os.listdir(box) if not n.startswith(b"."))
    check(left == set(HOSTILE_KEPT),
          "hostile names: the roll forward left the kept ones alone",
          sorted(left))
    shutil.rmtree(top)


def main():
    return run_steps("pop3d-recovery.", PASSWD, PASSWORD, (
        new_mail_in_a_freed_inode, replaced_before_roll_forward,
        old_journal_and_a_freed_inode, immutable_files, planted_links,
        hostile_names))


if __name__ == "__main__":
    if shutil.which("strace") is None:
        print("strace is missing")
        sys.exit(1)
    sys.exit(main())
