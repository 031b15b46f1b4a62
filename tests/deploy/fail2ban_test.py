#!/usr/bin/env python3
"""The shipped fail2ban filter and jail against what a real pop3d logs.

usage: fail2ban_test.py POP3D POP3D_PASSWD FILTER JAIL

Real sessions log to a /dev/log of our own (private mount namespace, as
tests/integration/log_test.py does): failed logins through
systemd-socket-activate on 127.0.0.1 (one with a user name that tries to
forge another address), a good login, a failed login on a pipe
("local"), and, with stunnel's REMOTE_HOST naming the client, every kind
of failure pop3d logs: an unknown user, a wrong password, a malformed
users-file line, an address pop3d itself banned after its default
--ban-after, a name it locked (--ban-user-after), an empty name (SASL
PLAIN), names in UTF-8 and with a no-break space; and a LOGIN-DELAY
refusal, which is no failure.  The lines are written as a syslog daemon
writes them to a file, and

- fail2ban-regex with the filter must find exactly the failures with
  an address, each with its address, never the forged one;
- fail2ban-server, run privately (its own configuration folder, socket,
  in-memory database, Debian's jail.conf, the shipped jail with only its
  backend, log path and action replaced by one that records the ban),
  must not ban an address after pop3d's default number of failures
  less one, and must ban it at that number;
- the jail's findtime and bantime are pop3d's --ban-window and
  --ban-time defaults (params.h).

Needs root, fail2ban-regex and fail2ban-server (Debian: fail2ban);
skipped (77) otherwise.
"""
import os
import re
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from deploylib import (Activator, Syslog, add_user, bound, private_dev,  # noqa
                       reexec_private, tempdir)
from pop3dtest import check, finish, skip  # noqa: E402

POP3D, PASSWD, FILTER, JAIL = (os.path.abspath(p) for p in sys.argv[1:5])
PARAMS_H = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "..", "params.h")
PASSWORD = "good one"
FORGED = "x session=1@10.9.9.9 login user=y result=deny"
FAILURE = re.compile(rb" login user=\S* result=(deny|banned|locked)(?: |$)")


def param(name):
    with open(PARAMS_H) as f:
        return int(re.search(r"#define\s+%s\s+(\d+)\s" % name,
                             f.read()).group(1))


def talk(port, lines):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        f = s.makefile("rb")
        f.readline()
        for line in lines:
            s.sendall(line + b"\r\n")
            if not f.readline():
                break


def piped(top, env, data, *args):
    env = dict({k: v for k, v in os.environ.items()
                if k not in ("REMOTE_HOST", "REMOTE_ADDR")}, **env)
    return subprocess.run([POP3D, "--users", os.path.join(top, "users"),
                           "--mail-root", os.path.join(top, "mail")]
                          + list(args), input=data, capture_output=True,
                          env=env, timeout=60).stdout


def as_file(datagrams):
    """Syslog datagrams ("<PRI>Mmm dd hh:mm:ss tag[pid]: msg") as a syslog
    daemon writes them to /var/log/mail.log (host name added)."""
    out = []
    for d in datagrams:
        m = re.match(rb"^<\d+>(\w{3} [ \d]\d \d\d:\d\d:\d\d) (.*)$", d,
                     re.S)
        if m:
            out.append(m.group(1) + b" mailhost " + m.group(2).rstrip(b"\n"))
    return b"".join(l + b"\n" for l in out)


def from_addr(addr):
    return {"REMOTE_HOST": addr}


def sessions(top, log):
    """Runs the sessions; returns the pop3d lines logged."""
    users = os.path.join(top, "users")
    add_user(PASSWD, users, "me", PASSWORD)
    add_user(PASSWD, users, "josé", PASSWORD)
    with open(users, "ab") as f:
        f.write(b"broken:not-a-hash\n")
    for name in ("me", "josé"):
        os.makedirs(os.path.join(top, "mail", name))
    act = Activator("socket-activate", POP3D,
                    ["--users", users, "--mail-root",
                     os.path.join(top, "mail")], top)
    try:
        port = act.start()
        talk(port, [b"USER me", b"PASS wrong",
                    b"USER " + FORGED.encode(), b"PASS wrong",
                    b"USER nobody", b"PASS wrong"])
        talk(port, [b"USER me", b"PASS " + PASSWORD.encode(), b"QUIT"])
    finally:
        act.stop()
    good = ("USER me\r\nPASS %s\r\nQUIT\r\n" % PASSWORD).encode()
    piped(top, {}, b"USER me\r\nPASS wrong\r\nQUIT\r\n")

    # pop3d's own limit, at its defaults: three failures of three kinds
    # (one connection), then the address is banned, right password or not.
    ban = os.path.join(top, "failures")
    out = piped(top, from_addr("192.0.2.50"),
                b"USER me\r\nPASS wrong\r\nUSER ghost\r\nPASS x\r\n"
                b"USER broken\r\nPASS x\r\n", "--ban-file", ban)
    check(out.count(b"-ERR [AUTH]") == 3, "192.0.2.50: three failures", out)
    out = piped(top, from_addr("192.0.2.50"), good, "--ban-file", ban)
    check(b"+OK maildrop" not in out, "192.0.2.50: banned by pop3d", out)

    # A name guessed at from several addresses is locked.
    ban = os.path.join(top, "failures-user")
    for addr in ("192.0.2.61", "192.0.2.62", "192.0.2.63"):
        piped(top, from_addr(addr), b"USER me\r\nPASS wrong\r\nQUIT\r\n",
              "--ban-file", ban, "--ban-user-after", "2")

    # Names an attacker might use to slip past a filter.
    piped(top, from_addr("192.0.2.70"), b"AUTH PLAIN AABndWVzcw==\r\nQUIT\r\n")
    piped(top, from_addr("192.0.2.71"),
          "USER josé\r\nPASS wrong\r\nQUIT\r\n".encode())
    piped(top, from_addr("192.0.2.72"),
          b"USER me\xc2\xa0result=ok\r\nPASS wrong\r\nQUIT\r\n")

    # LOGIN-DELAY: the right password, too soon: not an attack.
    for _ in range(2):
        piped(top, from_addr("192.0.2.80"), good, "--login-delay", "3600")
    lines = [l for l in log.snapshot() if b" pop3d[" in l]
    for what, rx in (
            ("unknown user", rb"@192\.0\.2\.50 login user=ghost result=deny "
             rb"reason=unknown-user"),
            ("wrong password", rb"@192\.0\.2\.50 login user=me result=deny "
             rb"reason=wrong-password"),
            ("malformed line", rb"@192\.0\.2\.50 login user=broken "
             rb"result=deny reason=malformed-line line=3"),
            ("banned", rb"@192\.0\.2\.50 login user=me result=banned"),
            ("locked", rb"@192\.0\.2\.63 login user=me result=locked"),
            ("empty name", rb"@192\.0\.2\.70 login user= result=deny"),
            ("UTF-8 name", rb"@192\.0\.2\.71 login user=jos\xc3\xa9 "
             rb"result=deny"),
            ("no-break space", rb"@192\.0\.2\.72 login "
             rb"user=me%C2%A0result=ok result=deny"),
            ("login delay", rb"@192\.0\.2\.80 login user=me "
             rb"result=login-delay")):
        check(any(re.search(rx, l) for l in lines),
              "pop3d logged the %s" % what, [l for l in lines
                                             if b" login " in l])
    return lines


def regex(top, logfile):
    """fail2ban-regex with the filter and Debian's common.conf."""
    conf = os.path.join(top, "regex", "filter.d")
    os.makedirs(conf)
    shutil.copy("/etc/fail2ban/filter.d/common.conf", conf)
    shutil.copy(FILTER, os.path.join(conf, "pop3d.conf"))
    r = subprocess.run(["fail2ban-regex", "-v", logfile,
                        os.path.join(conf, "pop3d.conf")],
                       capture_output=True, text=True, timeout=120)
    check(r.returncode == 0, "fail2ban-regex runs", r.stderr[-500:])
    return r.stdout


class Fail2ban:
    """A fail2ban-server of the test's own: configuration, socket, pid
    file and log under folder, the database in memory; Debian's
    jail.conf, the shipped filter and jail, and a local override of the
    jail's backend, log path and action (one that records the ban in a
    file instead of touching a firewall)."""

    def __init__(self, folder, logfile):
        self.folder = folder
        conf = self.conf = os.path.join(folder, "conf")
        for sub in ("filter.d", "action.d", "jail.d"):
            os.makedirs(os.path.join(conf, sub))
        for name in os.listdir("/etc/fail2ban"):
            if name == "jail.conf" or name.startswith("paths-"):
                shutil.copy(os.path.join("/etc/fail2ban", name), conf)
        shutil.copy("/etc/fail2ban/filter.d/common.conf",
                    os.path.join(conf, "filter.d"))
        shutil.copy(FILTER, os.path.join(conf, "filter.d", "pop3d.conf"))
        shutil.copy(JAIL, os.path.join(conf, "jail.d", "pop3d.conf"))
        self.sock = os.path.join(folder, "f2b.sock")
        self.banned = os.path.join(folder, "banned")
        with open(os.path.join(conf, "fail2ban.conf"), "w") as f:
            f.write("[Definition]\nloglevel = INFO\nlogtarget = %s\n"
                    "syslogsocket = auto\nsocket = %s\npidfile = %s\n"
                    "dbfile = :memory:\ndbpurgeage = 1d\nallowipv6 = auto\n"
                    % (os.path.join(folder, "f2b.log"), self.sock,
                       os.path.join(folder, "f2b.pid")))
        with open(os.path.join(conf, "action.d", "record.conf"), "w") as f:
            f.write("[Definition]\nactionstart =\nactionstop =\n"
                    "actioncheck =\nactionban = echo <ip> >> %s\n"
                    "actionunban =\n" % self.banned)
        with open(os.path.join(conf, "jail.d", "pop3d.local"), "w") as f:
            f.write("[pop3d]\nbackend = polling\nlogpath = %s\n"
                    "action = record\n" % logfile)
        self.proc = subprocess.Popen(
            ["fail2ban-server", "-f", "-x", "-c", conf],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)

    def client(self, *args):
        return subprocess.run(["fail2ban-client", "-s", self.sock] +
                              list(args), capture_output=True, text=True,
                              timeout=30)

    def status(self):
        """(total failed, banned addresses) of the jail, or None."""
        r = self.client("status", "pop3d")
        failed = re.search(r"Total failed:\s+(\d+)", r.stdout)
        banned = re.search(r"Banned IP list:[ \t]*(.*)$", r.stdout, re.M)
        if r.returncode != 0 or failed is None or banned is None:
            return None
        return int(failed.group(1)), sorted(banned.group(1).split())

    def wait(self, done, timeout=60):
        """The first status for which done(status) holds, else the last
        (polling: fail2ban reads the file when it sees it grow)."""
        deadline = time.monotonic() + timeout
        while True:
            st = self.status()
            if st is not None and done(st) or time.monotonic() > deadline:
                return st
            time.sleep(0.2)

    def stop(self):
        if self.proc.poll() is None:
            self.client("stop")
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def jail(top, lines):
    """The shipped jail bans at pop3d's default number of failures."""
    after = param("POP3D_BAN_AFTER")
    victim = b"@192.0.2.50 "
    theirs = [l for l in lines if victim in l and FAILURE.search(l)]
    check(len(theirs) > after, "%d failures from 192.0.2.50" % (after + 1),
          theirs)
    held = set(id(l) for l in theirs[after - 1:])
    first = [l for l in lines if id(l) not in held]
    logfile = os.path.join(top, "jail.log")
    open(logfile, "wb").close()
    f2b = Fail2ban(os.path.join(top, "f2b"), logfile)
    try:
        st = f2b.wait(lambda st: True)
        check(st is not None and st[0] == 0, "fail2ban-server runs the "
              "pop3d jail", st if st else f2b.client("status").stderr)
        if st is None:
            return
        # Debian's jail.conf ignores the host's own addresses (ignoreself).
        want = sum(1 for l in first if FAILURE.search(l) and
                   re.search(rb"session=\d+@\d", l) and
                   b"@127.0.0.1 " not in l)
        with open(logfile, "ab") as f:
            f.write(as_file(first))
        st = f2b.wait(lambda st: st[0] >= want)
        check(st[0] == want, "the jail counted every failure", st)
        check("192.0.2.50" not in st[1], "%d failures: not banned yet"
              % (after - 1), st)
        with open(logfile, "ab") as f:
            f.write(as_file(theirs[after - 1:after]))
        st = f2b.wait(lambda st: "192.0.2.50" in st[1])
        check("192.0.2.50" in st[1], "%d failures, pop3d's --ban-after: "
              "banned" % after, st)
        recorded = []
        if os.path.exists(f2b.banned):
            with open(f2b.banned) as f:
                recorded = f.read().split()
        check("192.0.2.50" in recorded, "the jail's action ran", recorded)
        check(not any(a.startswith("192.0.2.6") or a.startswith("192.0.2.7")
                      or a == "192.0.2.80" for a in st[1]),
              "addresses with fewer failures are not banned", st[1])
    finally:
        f2b.stop()

    with open(JAIL) as f:
        text = f.read()
    seconds = {"m": 60, "h": 3600, "d": 86400, "": 1}
    for key, name in (("findtime", "POP3D_BAN_WINDOW"),
                      ("bantime", "POP3D_BAN_TIME"),
                      ("maxretry", "POP3D_BAN_AFTER")):
        m = re.search(r"^%s\s*=\s*(\d+)([mhd]?)\s*$" % key, text, re.M)
        got = int(m.group(1)) * seconds[m.group(2)] if m else None
        check(got == param(name), "the jail's %s is pop3d's %s"
              % (key, name), got)


def main():
    for tool in ("fail2ban-regex", "fail2ban-server", "fail2ban-client"):
        if shutil.which(tool) is None:
            skip("%s not found (Debian: apt-get install fail2ban)" % tool)
    if shutil.which("systemd-socket-activate") is None:
        skip("systemd-socket-activate not found")
    reexec_private("POP3D_DEPLOY_NS")
    bound(240)
    private_dev()
    log = Syslog()
    top = tempdir("pop3d-fail2ban.")
    try:
        lines = sessions(top, log)
        failures = [l for l in lines if FAILURE.search(l)]
        with_addr = [l for l in failures if b"@local " not in l]
        logfile = os.path.join(top, "mail.log")
        with open(logfile, "wb") as f:
            f.write(as_file(lines))
        print(open(logfile, errors="replace").read())

        out = regex(top, logfile)
        m = re.search(r"^Lines: (\d+) lines, (\d+) ignored, (\d+) matched",
                      out, re.M)
        check(m is not None and int(m.group(3)) == len(with_addr) == 13,
              "13 lines match: the failures with an address",
              (m.group(0) if m else out[-800:], len(with_addr)))
        found = sorted(re.findall(r"^\|\s+(\S+)\s+\w{3} \w{3} ", out, re.M))
        want = sorted(["127.0.0.1"] * 3 + ["192.0.2.50"] * 4 +
                      ["192.0.2.61", "192.0.2.62", "192.0.2.63",
                       "192.0.2.70", "192.0.2.71", "192.0.2.72"])
        check(found == want, "each with the client's address", found)
        check("10.9.9.9" not in found,
              "an address forged in a user name is never taken")
        check("192.0.2.80" not in found, "a LOGIN-DELAY refusal is no "
              "failure")
        jail(top, lines)
    finally:
        log.close()
        shutil.rmtree(top, ignore_errors=True)
    sys.exit(finish())


if __name__ == "__main__":
    main()
