#!/usr/bin/env python3
"""Host-wide login slots and early drop (slots.h), seen from outside.

usage: slots_test.py POP3D POP3D_PASSWD

Real pop3d processes share one --runtime-dir; the test reads which slot
each took from its strace of flock(2), watches the locks on the slot
files in /proc/locks (pid and inode of each holder), reads pop3d's
syslog lines from a /dev/log of its own, and counts replies:

- 4 x N parallel logins, known and unknown names alike, never have more
  than N login slots held at once, fill them, and every one of them
  took exactly one; N
  comes from --auth-memory over the users file's hash cost.
- A login stopped while it holds the only slot makes the next one wait;
  killed, it frees the slot and the next login is served.
- With every slot held (by the test), a known and an unknown name both
  get -ERR [SYS/TEMP] once the wait is over, and a log line each.
- After QAUT a session holds an auth slot again (it is back in
  AUTHORIZATION), and frees it at its next login.
- After QAUT, in the process confined for further logins, a login
  still takes its slot.
- Early drop: with S sessions in AUTHORIZATION, new ones are dropped
  never below start, at the stated chance in between (counted over many
  tries, with bounds far outside chance), always at full; sessions that
  logged in or were killed no longer count; a client expecting a TLS
  handshake is dropped without a word.

Needs root (a private mount namespace for /dev/log) and strace; skipped
(77) otherwise.
"""
import fcntl
import os
import re
import shutil
import signal
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from deploylib import (Syslog, add_user, bound, private_dev,  # noqa: E402
                       reexec_private, tempdir)
from pop3dtest import check, finish, make_certs, pop3d_argv  # noqa: E402

POP3D, PASSWD = (os.path.abspath(p) for p in sys.argv[1:3])
PASSWORD = "slot-pass"
# pop3d-passwd's default cost: 64 MiB, so --auth-memory 128 makes N = 2.
N = 2
BUSY = b"-ERR [SYS/TEMP] too many connections, try again later\r\n"


class Env:
    def __init__(self, top):
        self.top = top
        self.users = os.path.join(top, "users")
        self.mail = os.path.join(top, "mail")
        self.run = os.path.join(top, "run")
        os.makedirs(os.path.join(self.mail, "me"))
        os.makedirs(self.run, mode=0o700)
        for name in ("me", "h0", "h1", "h2", "h3"):
            add_user(PASSWD, self.users, name, PASSWORD)

    def argv(self, *extra):
        return pop3d_argv(POP3D, "--users", self.users, "--mail-root",
                          self.mail, "--runtime-dir", self.run, *extra)

    def start(self, *extra):
        return subprocess.Popen(self.argv(*extra), stdin=subprocess.PIPE,
                                stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE)

    def inodes(self, pool):
        """{inode: name} of the pool's slot files."""
        out = {}
        for name in os.listdir(self.run):
            if name.startswith(pool + "."):
                out[os.stat(os.path.join(self.run, name)).st_ino] = name
        return out


def holders(inodes):
    """{pid: slot name} of the flock locks now held on inodes."""
    out = {}
    with open("/proc/locks") as f:
        for line in f:
            m = re.match(r"^\d+: FLOCK\s+ADVISORY\s+WRITE\s+(\d+)\s+"
                         r"[0-9a-f]+:[0-9a-f]+:(\d+)\s", line)
            if m and int(m.group(2)) in inodes:
                out[int(m.group(1))] = inodes[int(m.group(2))]
    return out


def login_bytes(name, password):
    return b"USER %s\r\nPASS %s\r\nQUIT\r\n" % (name, password)


def slot_takes(trace):
    """The login slots a traced pop3d took: [K] of each flock(2) on
    login.K that returned 0 (strace -y names the file of each fd)."""
    with open(trace, errors="replace") as f:
        return [int(m.group(1)) for m in
                re.finditer(r"flock\(\d+<[^>]*/login\.(\d+)>, "
                            r"LOCK_EX\|LOCK_NB\) = 0\n", f.read())]


def parallel_logins(env):
    """4N logins at once (half of them unknown names), traced."""
    # A first login makes the slot files, so their inodes are known.
    r = subprocess.run(env.argv("--auth-memory", "128"),
                       input=login_bytes(b"me", PASSWORD.encode()),
                       capture_output=True, timeout=60)
    check(r.returncode == 0 and b"+OK maildrop" in r.stdout,
          "a first login is served", (r.returncode, r.stdout))
    inodes = env.inodes("login")
    check(len(inodes) == N, "--auth-memory 128 over the users file's "
          "64 MiB hash makes %d login slots" % N, sorted(inodes.values()))
    # What each login took is read from its own trace, not sampled: a
    # watcher starved on a loaded machine would miss a short hold.  The
    # watcher only bounds how many are held at once, which a missed
    # sample cannot make too many.
    peak, stop = [0], threading.Event()

    def watch():
        while not stop.is_set():
            peak[0] = max(peak[0], len(holders(inodes)))

    t = threading.Thread(target=watch, daemon=True)
    t.start()
    procs = []
    try:
        for i in range(4 * N):
            trace = os.path.join(env.top, "login-%d.trace" % i)
            p = subprocess.Popen(
                ["strace", "-qq", "-y", "-e", "trace=flock", "-o", trace] +
                env.argv("--auth-memory", "128"), stdin=subprocess.PIPE,
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            procs.append((p, i % 2 == 0, trace))
        # Released together: every PASS is written before any is read.
        # Known users each their own mailbox: one user's sessions would
        # meet at its lock ([IN-USE]) once past their checks.
        for i, (p, known, _) in enumerate(procs):
            p.stdin.write(login_bytes(b"h%d" % (i // 2) if known else
                                      b"nobody%d" % i, PASSWORD.encode()))
            p.stdin.flush()
        outs = [(p.communicate(timeout=120)[0], known, slot_takes(trace))
                for p, known, trace in procs]
    finally:
        stop.set()
        t.join(10)
        for p, _, _ in procs:
            p.kill()
    check(peak[0] <= N, "never more than N=%d login slots held at once"
          % N, peak[0])
    check(all(b"+OK maildrop" in o for o, known, _ in outs if known),
          "every known user's login is served", [o for o, _, _ in outs])
    check(all(b"-ERR [AUTH]" in o for o, known, _ in outs if not known),
          "every unknown name is refused as a wrong password is",
          [o for o, _, _ in outs])
    takes = [t for _, _, t in outs]
    check(all(len(t) == 1 and 0 <= t[0] < N for t in takes),
          "every login, known or unknown, took exactly one slot", takes)
    # Slots are tried lowest first, so a login that took the last one
    # found all the others held: the pool was full.
    check(any(t == [N - 1] for t in takes), "logins at once fill the "
          "pool (one took the last slot)", takes)


def wait_holding(env, pid, inodes, timeout=20):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pid in holders(inodes):
            return True
    return False


def killed_login(env):
    """A stopped login holds the one slot; killed, it frees it."""
    inodes = env.inodes("login")
    a = None
    for _ in range(5):
        a = env.start("--login-slots", "1")
        a.stdin.write(login_bytes(b"me", PASSWORD.encode()))
        a.stdin.flush()
        if wait_holding(env, a.pid, inodes, 10):
            os.kill(a.pid, signal.SIGSTOP)
            if a.pid in holders(inodes):
                break
        a.kill()
        a.wait()
        a = None
    check(a is not None, "a login was stopped while holding the slot")
    if a is None:
        return
    b = env.start("--login-slots", "1")
    try:
        b.stdin.write(login_bytes(b"me", PASSWORD.encode()))
        b.stdin.close()
        time.sleep(1)
        check(b.poll() is None and b.pid not in holders(inodes),
              "the next login waits while the stopped one holds the slot")
        os.kill(a.pid, signal.SIGKILL)
        a.wait()
        out = b.stdout.read()
        b.wait(timeout=60)
        check(b"+OK maildrop" in out, "once the holder is killed, the "
              "waiting login is served", out)
        check(a.pid not in holders(inodes) and holders(inodes) == {},
              "no slot is left held", holders(inodes))
    finally:
        for p in (a, b):
            p.kill()
            p.wait()


def settled(log, since, word, want, timeout=10):
    """The log lines since index since that hold word, once want of
    them have been read (the reader runs behind the writers)."""
    deadline = time.monotonic() + timeout
    while True:
        lines = [l for l in log.snapshot()[since:] if word in l]
        if len(lines) >= want or time.monotonic() > deadline:
            return lines
        time.sleep(0.05)


def all_held(env, log):
    """Every slot held by the test: a login gets -ERR [SYS/TEMP]."""
    path = os.path.join(env.run, "login.0")
    fd = os.open(path, os.O_RDONLY)
    fcntl.flock(fd, fcntl.LOCK_EX)
    since = len(log.snapshot())
    try:
        procs = [env.start("--login-slots", "1") for _ in range(2)]
        for p, name in zip(procs, (b"me", b"nobody")):
            p.stdin.write(login_bytes(name, PASSWORD.encode()))
            p.stdin.flush()
        outs = [p.communicate(timeout=60)[0] for p in procs]
    finally:
        os.close(fd)
    want = b"-ERR [SYS/TEMP] try again later\r\n"
    check(all(want in o for o in outs), "with no slot free, a known and "
          "an unknown name both get -ERR [SYS/TEMP]", outs)
    lines = settled(log, since, b"reason=slots", 2)
    waited = [int(m.group(1)) for m in
              (re.search(rb"waited_ms=(\d+)", l) for l in lines) if m]
    check(len(lines) == 2 and all(b"result=tempfail" in l and
                                  b"slots=1 " in l for l in lines),
          "each is logged as a tempfail for want of a slot", lines)
    check(len(waited) == 2 and min(waited) >= 10000,
          "each waited the whole POP3D_LOGIN_WAIT_MS first", waited)


def qaut_relogin(env, log):
    """After QAUT the process is confined to what logins need (Landlock,
    pop3d --qaut): the slots' folder must be among it."""
    since = len(log.snapshot())
    r = subprocess.run(env.argv("--qaut"), input=b"USER me\r\nPASS %s\r\n"
                       b"QAUT\r\nUSER me\r\nPASS %s\r\nQUIT\r\n"
                       % (PASSWORD.encode(), PASSWORD.encode()),
                       capture_output=True, timeout=60)
    check(r.returncode == 0 and r.stdout.count(b"+OK maildrop") == 2,
          "a login after QAUT is served", r.stdout)
    lines = settled(log, since, b" login user=me result=ok", 2)
    check(len(lines) == 2, "both logins are logged", lines)
    bad = [l for l in log.snapshot()[since:] if b" slots " in l]
    check(bad == [], "the second login takes its slot in the confined "
          "process too", bad)


def qaut_counted(env):
    """A session back in AUTHORIZATION after QAUT holds an auth slot
    again, so that arrivals count it; logged in again, it frees it."""
    p = env.start("--qaut")
    auth = None
    try:
        def say(line):
            p.stdin.write(line + b"\r\n")
            p.stdin.flush()
            return p.stdout.readline()

        p.stdout.readline()                      # the greeting
        say(b"USER me")
        reply = say(b"PASS " + PASSWORD.encode())
        auth = env.inodes("auth")
        check(reply.startswith(b"+OK") and p.pid not in holders(auth),
              "logged in: no auth slot held", reply)
        reply = say(b"QAUT")
        check(reply.startswith(b"+OK") and wait_holding(env, p.pid, auth),
              "after QAUT: an auth slot held again", reply)
        say(b"USER me")
        reply = say(b"PASS " + PASSWORD.encode())
        check(reply.startswith(b"+OK") and p.pid not in holders(auth),
              "logged in again: the auth slot freed", reply)
        say(b"QUIT")
    finally:
        p.kill()
        p.wait()


class Holders:
    """Sessions left in AUTHORIZATION, each holding an auth slot."""

    def __init__(self, env):
        self.env, self.procs = env, []

    def add(self, n):
        for _ in range(n):
            # Thresholds no holder meets: holders are never dropped.
            p = self.env.start("--startups", "1000:0:1001")
            got = p.stdout.readline()
            check(got == b"+OK pop3d ready\r\n", "a holder is greeted", got)
            self.procs.append(p)

    def login_all(self):
        for i, p in enumerate(self.procs):
            p.stdin.write(b"USER h%d\r\nPASS %s\r\n"
                          % (i, PASSWORD.encode()))
            p.stdin.flush()
        for p in self.procs:
            p.stdout.readline()
            got = p.stdout.readline()
            check(got.startswith(b"+OK maildrop"), "a holder logs in", got)

    def close(self):
        for p in self.procs:
            p.kill()
            p.wait()
        self.procs = []


def drops(env, tries):
    """How many of tries new sessions were dropped (and all answered
    one way or the other, with the exit status that goes with it)."""
    dropped = 0
    for _ in range(tries):
        r = subprocess.run(env.argv("--startups", "2:50:4"),
                           input=b"QUIT\r\n", capture_output=True,
                           timeout=30)
        if r.stdout == BUSY and r.returncode == 111:
            dropped += 1
        elif not (r.stdout.startswith(b"+OK pop3d ready\r\n") and
                  r.returncode == 0):
            check(False, "a session is either served or dropped",
                  (r.returncode, r.stdout))
    return dropped


def tls_drop(env, log):
    """A client that expects a TLS handshake first is dropped without a
    word: "-ERR" in the clear would be no TLS record."""
    if b"TLS: OpenSSL" not in subprocess.run(
            [POP3D, "--version"], capture_output=True).stdout or \
            shutil.which("openssl") is None:
        print("# pop3d without TLS, or no openssl: no implicit TLS drop")
        return
    certs = os.path.join(env.top, "certs")
    os.makedirs(certs)
    paths = make_certs(certs)
    since = len(log.snapshot())
    r = subprocess.run(env.argv("--startups", "0:100:1", "--tls=implicit",
                                "--tls-cert", paths["chain"], "--tls-key",
                                paths["key"]),
                       input=b"", capture_output=True, timeout=60)
    check(r.returncode == 111 and r.stdout == b"", "a dropped implicit-TLS "
          "session ends with 111 and writes nothing",
          (r.returncode, r.stdout))
    lines = settled(log, since, b"result=dropped", 1)
    check(len(lines) == 1 and b"authorization=0 chance=100" in lines[0],
          "and is logged", lines)


def early_drop(env, log):
    h = Holders(env)
    try:
        check(drops(env, 30) == 0, "no session in AUTHORIZATION: none "
              "dropped")
        h.add(1)
        check(drops(env, 30) == 0, "1 ahead, below start=2: none dropped")
        h.add(1)
        # 50 %: 200 tries drop 100 +- 7; 60..140 is over 5 deviations.
        d = drops(env, 200)
        check(60 <= d <= 140, "2 ahead, at start: about rate=50 %% "
              "dropped", d)
        h.add(1)
        # 75 %: 150 +- 6.1.
        d = drops(env, 200)
        check(115 <= d <= 185, "3 ahead: about 75 %% dropped", d)
        h.add(1)
        since = len(log.snapshot())
        check(drops(env, 30) == 30, "4 ahead, at full: all dropped")
        lines = settled(log, since, b"result=dropped", 30)
        check(len(lines) == 30 and all(b"authorization=4 chance=100" in l
                                       for l in lines),
              "each drop is logged with the count and chance", lines[:2])
        h.login_all()
        check(drops(env, 30) == 0, "sessions that logged in no longer "
              "count: none dropped")
        h.close()
        h.add(4)
        check(drops(env, 10) == 10, "4 new ones in AUTHORIZATION: all "
              "dropped again")
        h.close()
        check(drops(env, 30) == 0, "killed, they no longer count: none "
              "dropped")
    finally:
        h.close()


def main():
    if shutil.which("strace") is None:
        print("strace missing: skipped")
        sys.exit(77)
    reexec_private("POP3D_SLOTS_NS")
    bound(400)
    private_dev()
    log = Syslog()
    top = tempdir("pop3d-slots.")
    try:
        env = Env(top)
        parallel_logins(env)
        killed_login(env)
        all_held(env, log)
        qaut_relogin(env, log)
        qaut_counted(env)
        early_drop(env, log)
        tls_drop(env, log)
    finally:
        log.close()
        subprocess.run(["rm", "-rf", top])
    sys.exit(finish())


if __name__ == "__main__":
    main()
