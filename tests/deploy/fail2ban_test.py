#!/usr/bin/env python3
"""The shipped fail2ban filter against what a real pop3d logs.

usage: fail2ban_test.py POP3D POP3D_PASSWD FILTER

Real sessions log to a /dev/log of our own (private mount namespace, as
tests/integration/log_test.py does): failed logins through
systemd-socket-activate on 127.0.0.1 (one with a user name that tries to
forge another address), a good login, a failed login on a pipe
("local"), and one with stunnel's REMOTE_HOST.  The lines are written as
a syslog daemon writes them to a file, and fail2ban-regex with the
filter must find exactly the failures with an address, each with its
address, and never the forged one.  Needs root and fail2ban-regex
(Debian: fail2ban); skipped (77) otherwise.
"""
import os
import re
import shutil
import socket
import subprocess
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from deploylib import (Activator, Syslog, add_user, bound, private_dev,  # noqa
                       reexec_private, tempdir)
from pop3dtest import check, finish, skip  # noqa: E402

POP3D, PASSWD, FILTER = (os.path.abspath(p) for p in sys.argv[1:4])
PASSWORD = "good one"
FORGED = "x session=1@10.9.9.9 login user=y result=deny"


def talk(port, lines):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        f = s.makefile("rb")
        f.readline()
        for line in lines:
            s.sendall(line + b"\r\n")
            if not f.readline():
                break


def piped(top, env, data):
    env = dict({k: v for k, v in os.environ.items()
                if k not in ("REMOTE_HOST", "REMOTE_ADDR")}, **env)
    subprocess.run([POP3D, "--users", os.path.join(top, "users"),
                    "--mail-root", os.path.join(top, "mail")],
                   input=data, capture_output=True, env=env, timeout=30)


def as_file(datagrams):
    """Syslog datagrams ("<PRI>Mmm dd hh:mm:ss tag[pid]: msg") as a syslog
    daemon writes them to /var/log/mail.log (host name added)."""
    out = []
    for d in datagrams:
        m = re.match(rb"^<\d+>(\w{3} [ \d]\d \d\d:\d\d:\d\d) (.*)$", d,
                     re.S)
        if m:
            out.append(m.group(1) + b" mailhost " + m.group(2).rstrip(b"\n"))
    return b"\n".join(out) + b"\n"


def main():
    if shutil.which("fail2ban-regex") is None:
        skip("fail2ban-regex not found (Debian: apt-get install fail2ban)")
    if shutil.which("systemd-socket-activate") is None:
        skip("systemd-socket-activate not found")
    reexec_private("POP3D_DEPLOY_NS")
    bound(90)
    private_dev()
    log = Syslog()
    top = tempdir("pop3d-fail2ban.")
    act = None
    try:
        add_user(PASSWD, os.path.join(top, "users"), "me", PASSWORD)
        os.makedirs(os.path.join(top, "mail", "me"))
        act = Activator("socket-activate", POP3D,
                        ["--users", os.path.join(top, "users"),
                         "--mail-root", os.path.join(top, "mail")], top)
        port = act.start()
        talk(port, [b"USER me", b"PASS wrong",
                    b"USER " + FORGED.encode(), b"PASS wrong",
                    b"USER nobody", b"PASS wrong"])
        talk(port, [b"USER me", b"PASS " + PASSWORD.encode(), b"QUIT"])
        piped(top, {}, b"USER me\r\nPASS wrong\r\nQUIT\r\n")
        piped(top, {"REMOTE_HOST": "192.0.2.50"},
              b"USER me\r\nPASS wrong\r\nQUIT\r\n")
        act.stop()
        lines = [l for l in log.snapshot() if b" pop3d[" in l]
        denies = [l for l in lines if b" result=deny" in l]
        check(len(denies) == 5, "pop3d logged 5 failed logins", denies)
        logfile = os.path.join(top, "mail.log")
        with open(logfile, "wb") as f:
            f.write(as_file(lines))
        print(open(logfile, errors="replace").read())

        # The filter with fail2ban's own common.conf beside it.
        conf = os.path.join(top, "fail2ban", "filter.d")
        os.makedirs(conf)
        shutil.copy("/etc/fail2ban/filter.d/common.conf", conf)
        shutil.copy(FILTER, os.path.join(conf, "pop3d.conf"))
        r = subprocess.run(["fail2ban-regex", "-v", logfile,
                            os.path.join(conf, "pop3d.conf")],
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0, "fail2ban-regex runs", r.stderr[-500:])
        m = re.search(r"^Lines: (\d+) lines, (\d+) ignored, (\d+) matched",
                      r.stdout, re.M)
        check(m is not None and int(m.group(3)) == 4,
              "4 lines match: the failures with an address",
              m.group(0) if m else r.stdout[-800:])
        found = sorted(re.findall(r"^\|\s+(\S+)\s+\w{3} \w{3} ", r.stdout,
                                  re.M))
        check(found == ["127.0.0.1"] * 3 + ["192.0.2.50"],
              "each with the client's address", found)
        check("10.9.9.9" not in found,
              "an address forged in a user name is never taken")
    finally:
        if act is not None:
            act.stop()
        log.close()
        shutil.rmtree(top, ignore_errors=True)
    sys.exit(finish())


if __name__ == "__main__":
    main()
