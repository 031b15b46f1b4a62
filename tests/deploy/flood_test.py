#!/usr/bin/env python3
"""A flood from a dozen addresses, through the real activators.

usage: flood_test.py xinetd|socket-activate POP3D POP3D_PASSWD XINETD_ENTRY
       [SECONDS | TWIN_ENTRY...]

pop3d runs behind the real xinetd (the shipped entry as the build makes
it: instances, per_source and cps as shipped, only its port, address,
user, server and arguments replaced) or systemd-socket-activate, on a
loopback port, with a runtime folder of its own and --auth-memory 256
(4 login slots at the users' 64 MiB).  First the shipped 4 idle
connections from each of twelve addresses 127.0.0.2 ... 127.0.0.13 are
held while a client from 127.0.0.50 logs in (what locked everyone out
under the old 30 connections).  Then for SECONDS (10), from each of
twelve addresses 127.0.0.2 ... 127.0.0.13, within the shipped 4 a
source:

- two connections are held idle in AUTHORIZATION (again when closed),
- one sends wrong passwords for known and unknown names as fast as
  pop3d answers them (three a connection),
- one bursts: 60 connects in a row, closed at once, every 10 s (what
  made xinetd's default cps switch the service off for 10 s);

while a client from 127.0.0.50 logs in again and again and retrieves
its mail.  Checked: every one of its logins is served within
LEGIT_BOUND seconds, its mail byte for byte, none lost; the flood was
real (connections held, wrong passwords answered, bursts refused or
served); a login dropped early (a burst through systemd-socket-activate,
which has no per-source limit, may start more than 64 at once) is tried
again, as clients do, within the same bound; never more pop3d
processes big enough to be checking a hash at once than there are login
slots; and once the clients are gone no pop3d process is left.  Prints
what bench/RESULTS.md reports: connections held, logins a second, the
client's login latency (median, worst), and the peak memory of all
pop3d processes together against the budget (connections x 2.3 MiB +
--auth-memory).

The entry (and its twins given after it, pop3d-tls.xinetd) must have no
switch that turns the service off under load (cps = 0 0, no max_load),
and the twins the same limits.

Runs in a private mount namespace with a /dev/log of its own (root;
else skipped).
"""
import os
import re
import socket
import statistics
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from deploylib import (Activator, Syslog, add_user, bound,  # noqa: E402
                       private_dev, reexec_private, tempdir)
from pop3dtest import check, finish, skip, stuffed  # noqa: E402

PASSWORD = "legit pass"
SOURCES = ["127.0.0.%d" % i for i in range(2, 14)]
LEGIT = "127.0.0.50"
AUTH_MEMORY_MIB = 256
SLOTS = AUTH_MEMORY_MIB // 64
# What the client waits at most for its login, flood or not: the login
# slots' wait (10 s) and a failed login's delay, with room for a loaded
# machine.
LEGIT_BOUND = 30.0
LEGIT_SESSIONS = 3
# Once the clients are gone, each pop3d ends within a check, a failed
# login's delay and a slot's wait; a burst's connects still queued are
# served and end at once.  Generous for a loaded machine.
GONE_BOUND = 90
# A pop3d this big is checking a hash: one before login is 2 MiB.
HASHING_KIB = 32 * 1024
MESSAGES = {
    "1.eml": b"From: a@example.com\nSubject: one\n\nbody\n.\n..two\n",
    "2.eml": b"From: b@example.com\r\nSubject: two\r\n\r\nlast",
}


def connect(src, port, timeout=30):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    try:
        s.bind((src, 0))
        s.connect(("127.0.0.1", port))
    except OSError:
        s.close()
        raise
    return s


class Reader:
    def __init__(self, sock):
        self.sock, self.buf = sock, b""

    def line(self):
        while b"\r\n" not in self.buf:
            got = self.sock.recv(4096)
            if not got:
                raise EOFError
            self.buf += got
        line, self.buf = self.buf.split(b"\r\n", 1)
        return line + b"\r\n"

    def multi(self):
        out = b""
        while True:
            line = self.line()
            out += line
            if line == b".\r\n":
                return out


class Flood:
    def __init__(self, port, seconds):
        self.port, self.seconds = port, seconds
        self.stop = threading.Event()
        self.lock = threading.Lock()
        self.held = 0
        self.peak_held = 0
        self.denied = 0         # wrong passwords answered -ERR [AUTH]
        self.tempfail = 0       # ... or -ERR [SYS/TEMP]
        self.bursts = 0         # connects attempted in bursts
        self.threads = []

    def count(self, name, n=1):
        with self.lock:
            setattr(self, name, getattr(self, name) + n)
            self.peak_held = max(self.peak_held, self.held)

    def hold(self, src):
        while not self.stop.is_set():
            try:
                s = connect(src, self.port)
            except OSError:
                self.stop.wait(0.2)
                continue
            with s:
                try:
                    if not s.recv(100).startswith(b"+OK"):
                        continue
                    s.settimeout(0.5)
                    self.count("held")
                    try:
                        while not self.stop.is_set():
                            try:
                                if s.recv(100) == b"":
                                    break
                            except socket.timeout:
                                pass
                    finally:
                        self.count("held", -1)
                except OSError:
                    pass

    def guess(self, src, n):
        i = 0
        while not self.stop.is_set():
            try:
                with connect(src, self.port) as s:
                    r = Reader(s)
                    if not r.line().startswith(b"+OK"):
                        continue
                    for _ in range(3):
                        i += 1
                        name = b"legit" if i % 2 else b"nobody%d" % n
                        s.sendall(b"USER %s\r\nPASS wrong %d\r\n"
                                  % (name, i))
                        r.line()
                        got = r.line()
                        if got.startswith(b"-ERR [AUTH]"):
                            self.count("denied")
                        elif got.startswith(b"-ERR [SYS/TEMP]"):
                            self.count("tempfail")
                        if self.stop.is_set():
                            break
            except (OSError, EOFError):
                self.stop.wait(0.1)

    def burst(self, src):
        while not self.stop.is_set():
            began = time.monotonic()
            for _ in range(60):
                try:
                    connect(src, self.port, timeout=2).close()
                except OSError:
                    pass
                self.count("bursts")
            self.stop.wait(max(0.0, 10.0 - (time.monotonic() - began)))

    def start(self):
        for n, src in enumerate(SOURCES):
            for fn, args in ((self.hold, (src,)), (self.hold, (src,)),
                             (self.guess, (src, n)), (self.burst, (src,))):
                t = threading.Thread(target=fn, args=args, daemon=True)
                t.start()
                self.threads.append(t)

    def end(self):
        self.stop.set()
        for t in self.threads:
            t.join(30)
        return not any(t.is_alive() for t in self.threads)


def hold_all(port, per_source):
    """per_source idle connections from each address, all greeted:
    what filled the old limits (30 connections) and locked everyone
    out.  Returns the sockets, and how many were greeted."""
    socks, greeted = [], 0
    for src in SOURCES:
        for _ in range(per_source):
            try:
                s = connect(src, port)
                socks.append(s)
                greeted += s.recv(100).startswith(b"+OK")
            except OSError:
                pass
    return socks, greeted


DROPPED = b"-ERR [SYS/TEMP] too many connections, try again later\r\n"


def legit_session(port, want, drops=None):
    """One login and RETR of every message; (seconds to log in, ok).
    Dropped early (slots.h), the client tries again, as clients do,
    within LEGIT_BOUND, and each drop is counted in drops[0]."""
    began = time.monotonic()
    while True:
        s = connect(LEGIT, port, timeout=LEGIT_BOUND)
        r = Reader(s)
        greeting = r.line()
        if greeting != DROPPED or drops is None or \
                time.monotonic() - began > LEGIT_BOUND:
            break
        s.close()
        drops[0] += 1
        time.sleep(0.2)
    with s:
        if not greeting.startswith(b"+OK"):
            return time.monotonic() - began, False
        s.sendall(b"USER legit\r\nPASS %s\r\n" % PASSWORD.encode())
        r.line()
        got = r.line()
        took = time.monotonic() - began
        if not got.startswith(b"+OK"):
            return took, False
        ok = True
        for i, name in enumerate(sorted(want), 1):
            s.sendall(b"RETR %d\r\n" % i)
            if not r.line().startswith(b"+OK"):
                return took, False
            ok = ok and r.multi() == stuffed(want[name])
        s.sendall(b"QUIT\r\n")
        ok = ok and r.line().startswith(b"+OK")
        return took, ok


def pop3d_processes(top):
    """{pid: RSS in KiB} of the pop3d processes of this test."""
    out = {}
    for pid in os.listdir("/proc"):
        if not pid.isdigit():
            continue
        try:
            with open("/proc/%s/cmdline" % pid, "rb") as f:
                cmd = f.read()
            with open("/proc/%s/comm" % pid, "rb") as f:
                comm = f.read().strip()
            # pop3d itself (or its wrapper), not the activator.
            if top.encode() not in cmd or b"--runtime-dir" not in cmd or \
                    comm in (b"xinetd", b"systemd-socket-"):
                continue
            with open("/proc/%s/status" % pid) as f:
                m = re.search(r"^VmRSS:\s+(\d+) kB", f.read(), re.M)
            out[int(pid)] = int(m.group(1)) if m else 0
        except OSError:
            pass
    return out


class Memory:
    """Samples the pop3d processes' memory until stopped."""

    def __init__(self, top):
        self.top, self.stop = top, threading.Event()
        self.peak_kib = self.peak_procs = self.peak_hashing = 0
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop.is_set():
            now = pop3d_processes(self.top)
            self.peak_kib = max(self.peak_kib, sum(now.values()))
            self.peak_procs = max(self.peak_procs, len(now))
            self.peak_hashing = max(self.peak_hashing, sum(
                1 for v in now.values() if v >= HASHING_KIB))
            self.stop.wait(0.05)

    def end(self):
        self.stop.set()
        self.thread.join(10)


def leftover(pid):
    """What a pop3d left over is doing, for the failure's detail."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            state = f.read().rsplit(")", 1)[1].split()[0]
        with open("/proc/%d/wchan" % pid) as f:
            return (pid, state, f.read())
    except OSError:
        return (pid, "gone")


def gone(top, timeout):
    """Whether no pop3d of this test is left within timeout: none for a
    whole second, since a burst's connects still queued in the listening
    socket may start one more, briefly, after the clients are gone."""
    deadline = time.monotonic() + timeout
    quiet_since = time.monotonic()
    while time.monotonic() - quiet_since < 1.0:
        if pop3d_processes(top):
            quiet_since = time.monotonic()
            if quiet_since > deadline:
                return False
        time.sleep(0.1)
    return True


def run_flood(kind, pop3d, passwd, entry, seconds, top, quiet=3):
    """The flood through one activator, after quiet logins of the client
    alone (the reference); returns what was measured."""
    users = os.path.join(top, "users")
    mail = os.path.join(top, "mail")
    run = os.path.join(top, "run")
    os.makedirs(run, mode=0o700)
    box = os.path.join(mail, "legit")
    os.makedirs(box)
    for name, data in MESSAGES.items():
        with open(os.path.join(box, name), "wb") as f:
            f.write(data)
    add_user(passwd, users, "legit", PASSWORD)
    act = Activator(kind, pop3d, ["--users", users, "--mail-root", mail,
                                  "--runtime-dir", run, "--auth-memory",
                                  str(AUTH_MEMORY_MIB)], top,
                    xinetd_entry=entry)
    act.start()
    flood = Flood(act.port, seconds)
    mem = Memory(top)
    took, served, calm, drops = [], [], [], [0]
    try:
        for _ in range(quiet):
            t, ok = legit_session(act.port, MESSAGES)
            calm.append(t)
            served.append(ok)
        socks, idle = hold_all(act.port, 4)
        try:
            _, idle_ok = legit_session(act.port, MESSAGES)
        except (OSError, EOFError) as e:
            idle_ok = False
            print("# the client among idle connections: %r" % e)
        finally:
            for sock in socks:
                sock.close()
        flood.start()
        began = time.monotonic()
        # For SECONDS, and at least LEGIT_SESSIONS times however slow.
        while time.monotonic() - began < seconds or \
                len(took) < LEGIT_SESSIONS:
            try:
                t, ok = legit_session(act.port, MESSAGES, drops)
            except (OSError, EOFError) as e:
                t, ok = LEGIT_BOUND, False
                print("# legit session: %r" % e)
            took.append(t)
            served.append(ok)
            if not ok:
                time.sleep(0.5)     # a refused client tries again later
        elapsed = time.monotonic() - began
        all_ended = flood.end()
        ended = gone(top, GONE_BOUND)
        left_procs = [] if ended else \
            [leftover(pid) for pid in pop3d_processes(top)]
    finally:
        flood.stop.set()
        mem.end()
        act.stop()
    return {
        "kind": kind, "elapsed": elapsed, "took": took, "served": served,
        "quiet": calm, "idle": idle, "idle_ok": idle_ok,
        "drops": drops[0],
        "held": flood.peak_held, "denied": flood.denied,
        "tempfail": flood.tempfail, "bursts": flood.bursts,
        "peak_kib": mem.peak_kib, "peak_procs": mem.peak_procs,
        "peak_hashing": mem.peak_hashing, "threads_ended": all_ended,
        "gone": ended, "left_procs": left_procs,
        "left": sorted(n for n in os.listdir(box) if not n.startswith(".")),
        "bytes": {n: open(os.path.join(box, n), "rb").read()
                  for n in os.listdir(box) if not n.startswith(".")},
    }


def report(m):
    print("# " + summary(m))


def summary(m):
    """What was measured, in one line."""
    logins = len(m["took"]) + m["denied"] + m["tempfail"]
    budget = m["peak_procs"] * 2.3 + AUTH_MEMORY_MIB
    quiet = " (alone: %.2f s)" % statistics.median(m["quiet"]) \
        if m["quiet"] else ""
    return ("%s: %d connections held; %.1f logins/s (%d wrong passwords "
            "answered, %d [SYS/TEMP]); %d burst connects; the client's "
            "login median %.2f s%s, worst %.2f s over %d (dropped early "
            "%d times); peak memory "
            "%.0f MiB of %d pop3d (budget %.0f MiB), %d checking a hash "
            "at once"
            % (m["kind"], m["held"], logins / m["elapsed"], m["denied"],
               m["tempfail"], m["bursts"], statistics.median(m["took"]),
               quiet, max(m["took"]), len(m["took"]), m["drops"],
               m["peak_kib"] / 1024,
               m["peak_procs"], budget, m["peak_hashing"]))


def entry_limits(path):
    """{attribute: value} of the limits in a shipped xinetd entry."""
    with open(path) as f:
        return dict(re.findall(r"(?m)^\s*(instances|per_source|cps|max_load|"
                               r"rlimit_as)\s*=\s*(.*?)\s*$", f.read()))


def check_entries(entry, twins):
    """No switch that turns the service off under load, in the entry or
    its twins, whose limits are the same."""
    want = entry_limits(entry)
    check(want.get("cps") == "0 0", "%s: cps = 0 0 (xinetd's default rate "
          "switch off)" % os.path.basename(entry), want.get("cps"))
    check("max_load" not in want, "%s: no max_load switch"
          % os.path.basename(entry))
    for twin in twins:
        check(entry_limits(twin) == want, "%s has %s's limits"
              % (os.path.basename(twin), os.path.basename(entry)),
              entry_limits(twin))


def main():
    kind, pop3d, passwd, entry = sys.argv[1:5]
    seconds = float(sys.argv[5]) if len(sys.argv) > 5 and \
        not sys.argv[5].endswith(".xinetd") else 10.0
    tool = {"xinetd": "xinetd",
            "socket-activate": "systemd-socket-activate"}[kind]
    if subprocess.run(["which", tool], capture_output=True).returncode:
        skip(tool + " not found")
    reexec_private("POP3D_FLOOD_NS")
    check_entries(entry, [a for a in sys.argv[5:] if a.endswith(".xinetd")])
    bound(int(seconds + LEGIT_SESSIONS * LEGIT_BOUND) + GONE_BOUND + 120)
    private_dev()
    log = Syslog()
    top = tempdir("pop3d-flood.")
    try:
        m = run_flood(kind, os.path.abspath(pop3d), os.path.abspath(passwd),
                      os.path.abspath(entry), seconds, top)
    finally:
        log.close()
        subprocess.run(["rm", "-rf", top])
    report(m)
    check(all(m["served"]) and len(m["took"]) >= LEGIT_SESSIONS,
          "every login of the client from %s was served with its mail, "
          "flood or not" % LEGIT, "%d of %d" % (sum(m["served"]),
                                                len(m["served"])))
    check(m["idle"] == 4 * len(SOURCES) and m["idle_ok"],
          "with 4 idle connections from each of %d addresses held, the "
          "client is served" % len(SOURCES), (m["idle"], m["idle_ok"]))
    check(max(m["took"]) < LEGIT_BOUND, "each of its logins took less than "
          "%.0f s" % LEGIT_BOUND, max(m["took"]))
    check(m["left"] == sorted(MESSAGES) and
          all(m["bytes"][n] == MESSAGES[n] for n in MESSAGES),
          "no mail lost or changed", m["left"])
    check(m["held"] >= 2 * len(SOURCES) - 2, "the flood held its idle "
          "connections (two an address)", m["held"])
    check(m["denied"] >= len(SOURCES), "the flood's wrong passwords were "
          "answered", m["denied"])
    check(m["bursts"] >= 60 * len(SOURCES), "the flood burst its "
          "connects", m["bursts"])
    check(m["left_procs"] == [], "no pop3d left", m["left_procs"])
    # params.h's POP3D_MEM_BASE_KIB bounds a session beside its hash.
    budget = m["peak_procs"] * 8 * 1024 + AUTH_MEMORY_MIB * 1024
    check(m["peak_kib"] <= budget, "all pop3d together stayed within "
          "8 MiB each and --auth-memory", (m["peak_kib"], budget))
    check(0 < m["peak_hashing"] <= SLOTS, "never more pop3d checking a "
          "hash at once than the %d login slots" % SLOTS,
          m["peak_hashing"])
    check(m["threads_ended"] and m["gone"], "once the clients are gone, "
          "no pop3d is left", (m["threads_ended"], m["gone"]))
    sys.exit(finish())


if __name__ == "__main__":
    main()
