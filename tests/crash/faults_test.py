#!/usr/bin/env python3
"""Faults no ordinary session meets, made to happen where pop3d must
meet them: a file that goes or changes between the folder's read and its
stat, and a commit without memory to keep its journal's lines.

Usage: faults_test.py POP3D POP3D-PASSWD

- the listing's late stat (listing.c: check_later, stat_later,
  check_now): in a plain folder whose size cache is warm, a file the
  cache names is stat'ed only after the whole folder was read.  strace
  fails that stat with ENOENT (the file gone), or stops pop3d (SIGSTOP)
  right after the folder's last read while the test removes a file,
  puts a FIFO and a folder in the place of two, and rewrites a fifth;
  then it lets pop3d go on.  The session must list exactly the regular
  files that are there, numbers and ids in step (DELE removes the file
  the listing numbered), delete nothing else, and leave a size cache
  whose every entry is true of the file on disk; the next session sees
  the folder as it is.  A stat that fails otherwise (EIO) refuses the
  login with -ERR [SYS/TEMP] and changes nothing.
- the commit's read-back: a commit keeps the journal lines it writes
  (store.c: keep_line) to carry them out from memory.  With the
  address space limited (RLIMIT_AS, set on the running pop3d before
  QUIT) to what it already maps, that memory cannot be had for a mailbox
  of 20,000 marked messages, and the commit reads its journal back as a
  roll forward does: strace shows the journal opened for reading and
  each file looked at again after the rename, and the outcome is the
  one without the limit: the marked files removed, the others kept, the
  right count in "+OK bye", no journal left; in a plain folder and in a
  Maildir (new/ and cur/ named apart in the journal).

strace, or ptrace, missing: exit 77.  Prints "N passed, N failed".
"""
import os
import re
import resource
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import threading

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pop3dtest import (check, crlf_size_of, end_tracer,  # noqa: E402
                       run_steps, skip, wait_stopped)

POP3D, PASSWD = sys.argv[1], sys.argv[2]
PASSWORD = "faults pw"
OLD = 1700000000 * 10**9     # file and folder times, long past (crash_test.py)
NAMES = ["m%d" % i for i in range(1, 8)]
SHOW = b"STAT\r\nLIST\r\nUIDL\r\n"


def login(*lines):
    return ("USER me\r\nPASS %s\r\n" % PASSWORD).encode() + b"".join(lines) + b"QUIT\r\n"


def command(top):
    return [POP3D, "--users", os.path.join(top, "..", "users"),
            "--mail-root", os.path.join(top, "mail"), "--idle-timeout", "10"]


def run(top, data, strace=None):
    cmd = command(top)
    if strace is not None:
        cmd = ["strace", "-o", os.devnull] + strace + ["--"] + cmd
    return subprocess.run(cmd, input=data, capture_output=True, timeout=60)


def write_message(path, data):
    with open(path, "wb") as f:
        f.write(data)
    os.utime(path, ns=(OLD, OLD))


def plain_box(base):
    """A plain folder of NAMES, its size cache made by a first login."""
    top = tempfile.mkdtemp(dir=base)
    box = os.path.join(top, "mail", "me")
    os.makedirs(box)
    for i, name in enumerate(NAMES, 1):
        write_message(os.path.join(box, name), b"Subject: %d\n\nbody %d\n" % (i, i))
    os.utime(box, ns=(OLD, OLD))
    r = run(top, login())
    check(b"+OK maildrop has %d messages" % len(NAMES) in r.stdout,
          "first login: %r" % r.stdout)
    check(cached(box) == set(NAMES), "the first login cached %r" % cached(box))
    return top, box


def cache_entries(box):
    """The size cache's entry lines, split: folder, inode, size, mtime
    (seconds, nanoseconds), CRLF size, dots, name."""
    with open(os.path.join(box, ".pop3d.sizes"), "rb") as f:
        lines = f.read().decode("ascii").splitlines()
    check(lines[:1] == ["pop3d sizes 2"] and lines[-1:] == ["end"],
          "size cache is not whole: %r" % lines)
    return [l.split(" ") for l in lines[1:-1] if not l.startswith("folder ")]


def cached(box):
    return {e[7] for e in cache_entries(box)}


def cache_is_true(box, what, believed=()):
    """No entry of the size cache that pop3d would believe (the file on
    disk has its inode, size and mtime) gives a wrong CRLF size, and
    each name in believed has such an entry.  An entry for a file gone
    or changed is harmless: pop3d measures that file again."""
    trusted = set()
    for folder, ino, size, sec, nsec, crlf, dots, name in cache_entries(box):
        path = os.path.join(box, name)
        try:
            st = os.lstat(path)
        except FileNotFoundError:
            continue
        if (st.st_ino, st.st_size, st.st_mtime_ns) != (
                int(ino), int(size), int(sec) * 10**9 + int(nsec)):
            continue
        trusted.add(name)
        check(crlf_size_of(path) == int(crlf),
              "%s: the cache gives %s a wrong size" % (what, name))
    check(set(believed) <= trusted, "%s: the cache does not hold %r" %
          (what, sorted(set(believed) - trusted)))


def listing(box, names):
    """What STAT, LIST and UIDL must answer for names, in pop3d's order
    (version order of the names, which these names keep)."""
    sizes = [crlf_size_of(os.path.join(box, n)) for n in names]
    out = b"+OK %d %d\r\n" % (len(names), sum(sizes))
    out += b"+OK %d messages (%d octets)\r\n" % (len(names), sum(sizes))
    out += b"".join(b"%d %d\r\n" % (i, s) for i, s in enumerate(sizes, 1)) + b".\r\n"
    out += b"+OK unique-id listing follows\r\n"
    out += b"".join(b"%d %s\r\n" % (i, n.encode()) for i, n in enumerate(names, 1))
    return out + b".\r\n"


def present(box):
    return sorted((n for n in os.listdir(box) if not n.startswith(".")),
                  key=lambda n: int(n[1:]))


def traced(top, data, calls):
    """A dry run: the lines of the given system calls pop3d makes."""
    log = os.path.join(top, "trace")
    r = run(top, data, ["-o", log, "-e", "trace=" + calls])
    check(r.returncode == 0, "dry run exit %d: %r" % (r.returncode, r.stderr))
    with open(log) as f:
        lines = [l for l in f if re.match(r"\w+\(", l)]
    os.unlink(log)
    return lines


def occurrence(lines, name, pred):
    """The number of the first call to name whose line pred accepts,
    counted as strace's when= counts: every call to name, from 1."""
    n = 0
    for line in lines:
        if line.startswith(name + "("):
            n += 1
            if pred(line):
                return n
    return None


def late_stats(lines):
    """The message names stat'ed after the folder's last read, in order."""
    last = max(i for i, l in enumerate(lines) if l.startswith("getdents64("))
    return re.findall(r'^newfstatat\(\d+, "(m\d+)"', "".join(lines[last:]), re.M)


def vanished_at_the_stat(base):
    """ENOENT from the late stat: the file left out, not lost."""
    top, box = plain_box(base)
    lines = traced(top, login(SHOW), "getdents64,newfstatat")
    check(sorted(late_stats(lines)) == sorted(NAMES),
          "a warm cache's files are not stat'ed after the folder's read: %r"
          % late_stats(lines))
    n = occurrence(lines, "newfstatat", lambda l: '"m3"' in l)
    if not check(n is not None, "no stat of m3"):
        return
    expect = listing(box, [x for x in NAMES if x != "m3"])
    r = run(top, login(SHOW, b"DELE 3\r\n"),
            ["-e", "inject=newfstatat:error=ENOENT:when=%d" % n])
    check(r.returncode == 0, "ENOENT session exit %d" % r.returncode)
    check(expect in r.stdout,
          "ENOENT: the listing is not the other files': %r" % r.stdout)
    check(r.stdout.endswith(b"+OK bye, 1 messages deleted\r\n"),
          "ENOENT: QUIT %r" % r.stdout[-60:])
    # DELE 3 is m4, the third file listed: m3 was not listed, so stays.
    check(present(box) == [x for x in NAMES if x != "m4"],
          "ENOENT: left %r" % present(box))
    cache_is_true(box, "after ENOENT", ["m1", "m2", "m5", "m6", "m7"])
    shown = [x for x in NAMES if x != "m4"]
    r = run(top, login(SHOW))
    check(listing(box, shown) in r.stdout,
          "after ENOENT, the next session: %r" % r.stdout)
    cache_is_true(box, "the session after ENOENT", shown)
    shutil.rmtree(top)


def changed_at_the_stat(base):
    """Between the folder's read and the late stats, m3 is removed, m4
    becomes a FIFO, m5 a folder and m6 another message: the session
    lists m1, m2, m6 (measured again) and m7, and DELE 4 removes m7."""
    top, box = plain_box(base)
    lines = traced(top, login(SHOW), "getdents64,newfstatat")
    last = sum(1 for l in lines if l.startswith("getdents64("))
    cmd = ["strace", "-e", "trace=getdents64",
           "-e", "inject=getdents64:signal=SIGSTOP:when=%d" % last, "--"] + command(top)
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    pid = None
    try:
        p.stdin.write(login(SHOW, b"DELE 4\r\n"))
        p.stdin.close()
        pid = wait_stopped(p)
        if not check(pid is not None, "pop3d never stopped after the folder's read"):
            return
        os.unlink(os.path.join(box, "m3"))
        os.unlink(os.path.join(box, "m4"))
        os.mkfifo(os.path.join(box, "m4"))
        os.unlink(os.path.join(box, "m5"))
        os.mkdir(os.path.join(box, "m5"))
        write_message(os.path.join(box, "m6"), b"Subject: 6\n\na longer body 6\n")
        expect = listing(box, ["m1", "m2", "m6", "m7"])
        os.kill(pid, signal.SIGCONT)
        out, err = p.stdout.read(), p.stderr.read()
        p.wait(timeout=60)
    finally:
        end_tracer(p, pid)
    check(p.returncode == 0, "changed: exit %d: %r" % (p.returncode, err))
    check(expect in out, "changed: the listing: %r" % out)
    check(out.endswith(b"+OK bye, 1 messages deleted\r\n"),
          "changed: QUIT %r" % out[-60:])
    check(present(box) == ["m1", "m2", "m4", "m5", "m6"],
          "changed: DELE 4 did not remove m7 alone: %r" % present(box))
    check(stat.S_ISFIFO(os.lstat(os.path.join(box, "m4")).st_mode) and
          os.path.isdir(os.path.join(box, "m5")),
          "changed: the FIFO or the folder was touched")
    # m6 was measured again: the cache now holds its new size.
    cache_is_true(box, "changed", ["m1", "m2", "m6"])
    os.rmdir(os.path.join(box, "m5"))
    write_message(os.path.join(box, "m3"), b"Subject: back\n\n")
    expect = listing(box, ["m1", "m2", "m3", "m6"])
    r = run(top, login(SHOW))
    check(expect in r.stdout, "changed: the next session: %r" % r.stdout)
    cache_is_true(box, "the session after the changes", ["m1", "m2", "m3", "m6"])
    shutil.rmtree(top)


def failed_stat(base):
    """EIO from the late stat: the login fails and changes nothing."""
    top, box = plain_box(base)
    with open(os.path.join(box, ".pop3d.sizes"), "rb") as f:
        cache = f.read()
    lines = traced(top, login(), "newfstatat")
    n = occurrence(lines, "newfstatat", lambda l: '"m5"' in l)
    r = run(top, login(b"DELE 1\r\n"), ["-e", "inject=newfstatat:error=EIO:when=%d" % n])
    check(b"-ERR [SYS/TEMP]" in r.stdout and b"+OK maildrop" not in r.stdout,
          "EIO at the late stat: %r" % r.stdout)
    check(present(box) == NAMES, "EIO: left %r" % present(box))
    with open(os.path.join(box, ".pop3d.sizes"), "rb") as f:
        check(f.read() == cache, "EIO: the size cache changed")
    shutil.rmtree(top)


# Marked: the commit's kept lines (16 octets each, 320,000 here) must be
# more than the listing left free in the heap, so that malloc asks the
# kernel (brk, then mmap), which RLIMIT_AS refuses; 10,000 fit in that
# room with Debian 12's glibc and never meet the limit.
MANY = 20000
KEPT = 3         # not marked


def big_box(base, maildir):
    """MANY messages to mark, then KEPT more; in a Maildir the marked
    ones in cur/ and the kept ones in new/.  Returns the folder and the
    paths of the kept ones."""
    top = tempfile.mkdtemp(dir=base)
    box = os.path.join(top, "mail", "me")
    os.makedirs(box)
    for sub in ("new", "cur", "tmp") if maildir else ():
        os.mkdir(os.path.join(box, sub))
    kept = []
    for i in range(1, MANY + KEPT + 1):
        path = os.path.join(box, str(i))
        if maildir and i <= MANY:
            path = os.path.join(box, "cur", "%d.M1P1.host:2,S" % i)
        elif maildir:
            path = os.path.join(box, "new", "%d.M1P1.host" % i)
        write_message(path, b"S: %d\n\nb\n" % i)
        if i > MANY:
            kept.append(path)
    for sub in ("new", "cur", "tmp") if maildir else ():
        os.utime(os.path.join(box, sub), ns=(OLD, OLD))
    os.utime(box, ns=(OLD, OLD))
    r = run(top, login())
    check(b"+OK maildrop has %d messages" % (MANY + KEPT) in r.stdout,
          "big mailbox, first login: %r" % r.stdout[-80:])
    return top, box, kept


def messages(box):
    return sorted(os.path.join(root, n) for root, dirs, names in os.walk(box)
                  for n in names if not n.startswith("."))


def vm_size(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmSize:"):
                return int(line.split()[1]) * 1024
    return None


def commit_with_limit(top, limit):
    """DELE 1..MANY, then QUIT under strace; with limit, the address space
    is held to what pop3d maps before QUIT.  QUIT's reply, and the trace
    from the journal's rename on."""
    log = os.path.join(top, "trace")
    cmd = ["strace", "-o", log, "-e", "trace=openat,statx,renameat,unlinkat",
           "--"] + command(top)
    p = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    data = login(b"".join(b"DELE %d\r\n" % i for i in range(1, MANY + 1)), b"STAT\r\n")
    data = data[:-len(b"QUIT\r\n")]
    # Written from a thread: the replies fill the pipe before the commands end.
    writer = threading.Thread(target=lambda: (p.stdin.write(data), p.stdin.flush()))
    writer.start()
    out, want = b"", b"+OK %d " % KEPT
    try:
        while want not in out:
            chunk = p.stdout.read1(65536)
            if not chunk:
                break
            out += chunk
        writer.join()
        check(want in out, "no STAT reply: %r" % out[-80:])
        if limit:
            with open("/proc/%d/task/%d/children" % (p.pid, p.pid)) as f:
                pid = int(f.read().split()[0])
            size = vm_size(pid) + 64 * 1024    # room for the stack to grow
            resource.prlimit(pid, resource.RLIMIT_AS, (size, size))
        p.stdin.write(b"QUIT\r\n")
        p.stdin.close()
        out = p.stdout.read()
    finally:
        p.wait(timeout=60)
    with open(log) as f:
        lines = f.read().splitlines()
    renamed = [i for i, l in enumerate(lines)
               if l.startswith('renameat(3, ".pop3d.journal.tmp"')]
    check(len(renamed) == 1, "the journal renamed %d times" % len(renamed))
    return out, lines[renamed[0]:] if renamed else []


def commit_reads_back(base):
    """Without memory for its lines, the commit reads its journal back."""
    # Without the limit once: the trace tells the two ways apart.
    for maildir, limit in ((False, False), (False, True), (True, True)):
        what = "%s, %s" % ("Maildir" if maildir else "plain",
                           "limited" if limit else "unlimited")
        top, box, kept = big_box(base, maildir)
        out, after = commit_with_limit(top, limit)
        check(out == b"+OK bye, %d messages deleted\r\n" % MANY,
              "%s: QUIT %r" % (what, out))
        check(messages(box) == sorted(kept),
              "%s: left %r" % (what, messages(box)[:10]))
        check(not os.path.exists(os.path.join(box, ".pop3d.journal")),
              "%s: journal left" % what)
        read_back = sum(l.startswith('openat(3, ".pop3d.journal", O_RDONLY')
                        for l in after)
        looked = sum(re.match(r'statx\(\d+, "', l) is not None for l in after)
        if limit:
            check(read_back == 1 and looked == MANY,
                  "%s: the journal was not read back (%d opens, %d "
                  "statx after the rename)" % (what, read_back, looked))
        else:
            check(read_back == 0 and looked == 0,
                  "%s: the kept lines were not used (%d opens, %d "
                  "statx after the rename)" % (what, read_back, looked))
        shutil.rmtree(top)


def main():
    return run_steps("pop3d-faults.", PASSWD, PASSWORD, (
        vanished_at_the_stat, changed_at_the_stat, failed_stat,
        commit_reads_back))


if __name__ == "__main__":
    if shutil.which("strace") is None:
        skip("strace is missing")
    if subprocess.run(["strace", "-o", os.devnull, "true"]).returncode != 0:
        skip("strace cannot trace here (ptrace not allowed)")
    sys.exit(main())
