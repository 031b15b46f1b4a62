#!/usr/bin/env python3
"""The client's address in pop3d's log lines.

usage: peer_test.py POP3D

Every line of a session starts "session=<pid>@<address>".  The address
comes from the socket on stdin (IPv4, IPv6, an IPv4-mapped IPv6 address
shown as IPv4), else from REMOTE_HOST or REMOTE_ADDR (xinetd, stunnel),
which are untrusted text: anything that is not a numeric address is
"unknown" and never reaches the log; else it is "local".  A loopback
socket is a relay on the host (stunnel's exec mode): then a client named
in the environment wins.  Runs in private mount and network namespaces
(a /dev/log of its own; documentation addresses on lo, so a socket can
have a peer that is not loopback); needs root, else skipped.
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
from deploylib import (Activator, Syslog, bound, private_dev,  # noqa
                       reexec_private, tempdir)
from pop3dtest import check, finish, skip  # noqa: E402

POP3D = os.path.abspath(sys.argv[1])
ENV_VARS = ("REMOTE_HOST", "REMOTE_ADDR")


def clean_env(**extra):
    env = {k: v for k, v in os.environ.items() if k not in ENV_VARS}
    env.update(extra)
    return env


def tags(log, since, pid):
    """The session= values of pid's lines."""
    pat = re.compile(rb" pop3d\[%d\]: session=(\S+) " % pid)
    deadline = time.monotonic() + 5
    while True:
        found = [m.group(1) for m in map(pat.search, log.snapshot()[since:])
                 if m]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.05)


def piped(log, top, env, stdin=None):
    """Runs a session that logs (a bad command budget spent before
    login) with stdin a pipe, or the given socket; returns its tags."""
    since = len(log.snapshot())
    args = [POP3D, "--users", os.path.join(top, "users"),
            "--mail-root", top]
    if stdin is None:
        p = subprocess.Popen(args, stdin=subprocess.PIPE,
                             stdout=subprocess.DEVNULL, env=env)
        p.communicate(b"X\r\nX\r\nX\r\n", timeout=30)
    else:
        p = subprocess.Popen(args, stdin=stdin, stdout=stdin, env=env)
        p.wait(timeout=30)
    return tags(log, since, p.pid), p.pid


def expect(log, top, what, env, want, stdin=None):
    got, pid = piped(log, top, env, stdin)
    exp = ("%d@%s" % (pid, want)).encode()
    check(got and all(t == exp for t in got), what, (got, exp))
    return got


def through(log, top, host, connect, want, env=None):
    """A session through systemd-socket-activate listening on host."""
    act = Activator("socket-activate", POP3D,
                    ["--users", os.path.join(top, "users"),
                     "--mail-root", top], top, host=host, setenv=env)
    try:
        act.start()
        since = len(log.snapshot())
        with socket.create_connection((connect, act.port), timeout=10) as s:
            s.recv(100)
            s.sendall(b"X\r\nX\r\nX\r\n")
            while s.recv(100):
                pass
        pat = rb" pop3d\[(\d+)\]: session=\1@(\S+) end reason=bad-commands"
        line = log.wait_for(pat, since=since)
        got = re.search(pat, line).group(2) if line else None
        check(got == want.encode(), "through a socket on %s from %s%s: %s"
              % (host, connect, " with %s" % env if env else "", want), got)
    finally:
        act.stop()


def main():
    for tool in ("systemd-socket-activate", "ip"):
        if shutil.which(tool) is None:
            skip(tool + " not found")
    reexec_private("POP3D_DEPLOY_NS", net=True)
    bound(60)
    private_dev()
    for cmd in (["link", "set", "lo", "up"],
                ["addr", "add", "198.51.100.1/32", "dev", "lo"],
                ["addr", "add", "2001:db8::10/128", "dev", "lo", "nodad"]):
        subprocess.run(["ip"] + cmd, check=True)
    log = Syslog()
    top = tempdir("pop3d-peer.")
    try:
        open(os.path.join(top, "users"), "w").close()
        expect(log, top, "a pipe is local", clean_env(), "local")
        expect(log, top, "REMOTE_HOST (xinetd) names the client",
               clean_env(REMOTE_HOST="192.0.2.7"), "192.0.2.7")
        expect(log, top, "REMOTE_ADDR names the client",
               clean_env(REMOTE_ADDR="2001:db8::1"), "2001:db8::1")
        expect(log, top, "an IPv4-mapped REMOTE_HOST is shown as IPv4",
               clean_env(REMOTE_HOST="::ffff:192.0.2.8"), "192.0.2.8")
        expect(log, top, "an IPv6 REMOTE_HOST is shown in its short form",
               clean_env(REMOTE_HOST="2001:DB8:0:0:0:0:0:2"), "2001:db8::2")
        forged = "198.51.100.1 login user=root result=ok x"
        since = len(log.snapshot())
        expect(log, top, "a REMOTE_HOST that is no address is unknown",
               clean_env(REMOTE_HOST=forged), "unknown")
        expect(log, top, "a host name is unknown (no DNS lookups)",
               clean_env(REMOTE_HOST="client.example.org"), "unknown")
        expect(log, top, "an address with a scope is unknown",
               clean_env(REMOTE_HOST="fe80::1%eth0"), "unknown")
        expect(log, top, "an empty REMOTE_HOST is unknown",
               clean_env(REMOTE_HOST=""), "unknown")
        text = b"\n".join(log.snapshot()[since:])
        check(b"198.51.100.1" not in text and b"example.org" not in text,
              "untrusted environment text never reaches the log")

        # stunnel's exec mode: a Unix socket pair and REMOTE_HOST.
        for env, want, what in ((clean_env(REMOTE_HOST="203.0.113.5"),
                                 "203.0.113.5", "a Unix socket with "
                                 "REMOTE_HOST (stunnel) names the client"),
                                (clean_env(), "local",
                                 "a Unix socket without it is local")):
            a, b = socket.socketpair()
            b.sendall(b"X\r\nX\r\nX\r\n")
            b.shutdown(socket.SHUT_WR)
            expect(log, top, what, env, want, stdin=a)
            a.close()
            b.close()

        through(log, top, "127.0.0.1", "127.0.0.1", "127.0.0.1")
        through(log, top, "::1", "::1", "::1")
        through(log, top, "::ffff:127.0.0.1", "127.0.0.1", "127.0.0.1")
        through(log, top, "198.51.100.1", "198.51.100.1", "198.51.100.1")
        through(log, top, "2001:db8::10", "2001:db8::10", "2001:db8::10")
        # A relay on this host names its client; nobody else can.
        through(log, top, "127.0.0.1", "127.0.0.1", "192.0.2.99",
                env={"REMOTE_HOST": "192.0.2.99"})
        through(log, top, "::1", "::1", "2001:db8::99",
                env={"REMOTE_ADDR": "2001:db8::99"})
        through(log, top, "127.0.0.1", "127.0.0.1", "127.0.0.1",
                env={"REMOTE_HOST": "relay.example.org"})
        through(log, top, "198.51.100.1", "198.51.100.1", "198.51.100.1",
                env={"REMOTE_HOST": "192.0.2.99"})
    finally:
        log.close()
        shutil.rmtree(top, ignore_errors=True)
    sys.exit(finish())


if __name__ == "__main__":
    main()
