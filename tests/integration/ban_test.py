#!/usr/bin/env python3
"""The brute-force limits through pop3d's real interface.

Usage: ban_test.py POP3D POP3D-PASSWD

Sessions on pipes, the client's address in REMOTE_ADDR as an activator
sets it, the state file on disk, and the log read from a /dev/log of the
test's own (the test re-runs itself in a private mount namespace, as
log_test.py does; root only, exit 77 otherwise).  It checks that

- parallel connections from one address, released together, have no
  more passwords checked than --ban-after (log lines: result=deny for a
  checked password, result=banned for a refused one);
- an attacker's own good logins between guesses at a victim do not keep
  the address from being banned;
- a name guessed at from many addresses is locked (--ban-user-after),
  but not where it logged in before;
- a --ban-file that is not pop3d's is never written (bytes and inode
  kept), and pop3d serves without limits; a version 1 file is read;
- links planted at the temporary file's name or the lock's are never
  written through, nor a lock owned by another user used.
"""
import os
import shutil
import socket
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pop3dtest import check, finish, pop3d_argv, skip  # noqa: E402

POP3D, PASSWD = sys.argv[1], sys.argv[2]
AUTH_FAILED = b"-ERR [AUTH] authentication failed\r\n"


def private_dev():
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs", "/dev"],
                   check=True)
    for name, minor in (("null", 3), ("zero", 5), ("random", 8), ("urandom", 9)):
        os.mknod("/dev/" + name, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
        os.chmod("/dev/" + name, 0o666)


class Log:
    """The lines pop3d sends to /dev/log, read as they come: syslog(3)
    blocks while the socket's queue is full, and twelve sessions at once
    fill it."""

    def __init__(self, path):
        import threading
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind(path)
        self.lines = []
        self.lock = threading.Lock()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self):
        while True:
            line = self.sock.recv(65536)
            with self.lock:
                self.lines.append(line)

    def take(self):
        """The lines so far, once none has come for 0.3 s; forgets them."""
        n = -1
        while True:
            with self.lock:
                if len(self.lines) == n:
                    got, self.lines = self.lines, []
                    return got
                n = len(self.lines)
            time.sleep(0.3)


def drain(log, wait=None):
    return log.take()


class Top:
    def __init__(self, top):
        self.top = top
        self.users = os.path.join(top, "users")
        self.mail = os.path.join(top, "mail")
        self.state = os.path.join(top, "failures")

    def argv(self, *extra, ban_file=None):
        return pop3d_argv(POP3D, "--users", self.users, "--mail-root",
                          self.mail, "--ban-file", ban_file or self.state,
                          *extra)


def env_for(addr):
    env = dict(os.environ)
    env.pop("REMOTE_HOST", None)
    env["REMOTE_ADDR"] = addr
    return env


def session(t, addr, data, *extra, ban_file=None):
    r = subprocess.run(t.argv(*extra, ban_file=ban_file), input=data,
                       capture_output=True, timeout=120, env=env_for(addr))
    check(r.stderr == b"", "pop3d wrote to stderr", r.stderr)
    return r.stdout


def login(t, addr, user, password, *extra, ban_file=None):
    """The reply to PASS."""
    out = session(t, addr, b"USER %s\r\nPASS %s\r\nQUIT\r\n" % (user, password),
                  *extra, ban_file=ban_file)
    lines = out.split(b"\r\n")
    return lines[2] + b"\r\n" if len(lines) > 2 else out


def count(lines, what):
    return sum(1 for l in lines if what in l)


def parallel(t, log):
    """12 connections from one address, released together."""
    n = 12
    procs = [subprocess.Popen(t.argv("--ban-after", "3"),
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE,
                              env=env_for("192.0.2.50")) for _ in range(n)]
    for p in procs:
        p.stdout.readline()                          # greeting
        p.stdin.write(b"USER victim\r\n")
        p.stdin.flush()
        p.stdout.readline()                          # +OK send PASS
    drain(log)
    for p in procs:                                  # the release
        p.stdin.write(b"PASS guess\r\nQUIT\r\n")
    for p in procs:
        p.stdin.flush()
    for p in procs:
        p.stdin.close()
        p.wait(timeout=120)
        p.stdout.read()
        p.stderr.read()
    lines = drain(log)
    checked = count(lines, b"login user=victim result=deny")
    refused = count(lines, b"login user=victim result=banned")
    print("parallel: %d passwords checked, %d refused" % (checked, refused))
    check(checked == 3 and refused == n - 3,
          "12 parallel guesses, --ban-after 3: 3 checked", (checked, refused))
    check(count(lines, b"ban addr=192.0.2.50 failures=3") == 1,
          "the ban is logged once", lines)


def interleave(t, log):
    """Two guesses at a victim, then the attacker's own good login, again
    and again, from one address."""
    addr = "192.0.2.60"
    for _ in range(3):
        for _ in range(2):
            login(t, addr, b"victim", b"guess", "--ban-after", "3")
        login(t, addr, b"mallory", b"mallory's own", "--ban-after", "3")
    reply = login(t, addr, b"victim", b"victim's secret", "--ban-after", "3")
    lines = drain(log)
    print("interleaved: %d guesses at the victim checked" %
          count(lines, b"login user=victim result=deny"))
    check(reply == AUTH_FAILED,
          "interleaved with the attacker's logins, the victim's guesses "
          "still ban the address", reply)
    check(count(lines, b"login user=victim result=deny") <= 3,
          "at most 3 guesses at the victim checked", lines)
    reply = login(t, "198.51.100.60", b"victim", b"victim's secret",
                  "--ban-after", "3")
    check(reply.startswith(b"+OK maildrop"), "the victim from elsewhere",
          reply)


def per_name(t, log):
    """A name guessed at from many addresses; --ban-user-after 4."""
    opts = ("--ban-after", "100", "--ban-user-after", "4")
    reply = login(t, "203.0.113.1", b"target", b"target's secret", *opts)
    check(reply.startswith(b"+OK maildrop"), "the target's own login", reply)
    for i in range(4):
        login(t, "198.51.100.%d" % (100 + i), b"target", b"guess", *opts)
    drain(log)
    reply = login(t, "198.51.100.200", b"target", b"target's secret", *opts)
    lines = drain(log)
    check(reply == AUTH_FAILED, "a locked name, from a new address", reply)
    check(count(lines, b"login user=target result=locked") == 1,
          "logged as locked", lines)
    reply = login(t, "203.0.113.1", b"target", b"target's secret", *opts)
    check(reply.startswith(b"+OK maildrop"),
          "the locked name, where it logged in before", reply)
    drain(log)


def foreign(t, log):
    """--ban-file naming a file that is not pop3d's."""
    conf = os.path.join(t.top, "pop3d.conf")
    text = b"# pop3d settings\nusers = /etc/pop3d/users\n"
    with open(conf, "wb") as f:
        f.write(text)
    ino = os.stat(conf).st_ino
    for i in range(4):
        reply = login(t, "192.0.2.70", b"victim", b"guess", "--ban-after",
                      "3", ban_file=conf)
    lines = drain(log)
    with open(conf, "rb") as f:
        kept = f.read()
    check(kept == text and os.stat(conf).st_ino == ino,
          "a foreign --ban-file is left as it was", kept)
    check(not os.path.exists(conf + ".tmp"), "no temporary file beside it")
    check(count(lines, b"result=foreign") >= 4, "logged as foreign", lines)
    check(count(lines, b"login user=victim result=deny") == 4,
          "served without limits", lines)
    reply = login(t, "192.0.2.70", b"victim", b"victim's secret",
                  "--ban-after", "3", ban_file=conf)
    check(reply.startswith(b"+OK maildrop"), "and logins still work", reply)
    drain(log)

    # An empty file is no file pop3d wrote either.
    empty = os.path.join(t.top, "empty")
    open(empty, "wb").close()
    login(t, "192.0.2.71", b"victim", b"guess", ban_file=empty)
    check(os.path.getsize(empty) == 0, "an empty --ban-file stays empty")

    # Version 1 is pop3d's own: read (its ban holds), then rewritten.
    v1 = os.path.join(t.top, "v1")
    until = int(time.time()) + 3600
    with open(v1, "w") as f:
        f.write("pop3d failures 1\n192.0.2.72 3 %d %d %d\n" % (
            until - 3700, until - 3600, until))
    reply = login(t, "192.0.2.72", b"victim", b"victim's secret",
                  ban_file=v1)
    check(reply == AUTH_FAILED, "a ban in a version 1 file holds", reply)
    login(t, "192.0.2.73", b"victim", b"guess", ban_file=v1)
    with open(v1) as f:
        body = f.read()
    check(body.startswith("pop3d failures 2\n") and
          "\na 192.0.2.72 3 " in body, "a version 1 file rewritten", body)
    drain(log)


def links(t, log):
    """Links planted at the names pop3d writes or locks."""
    d = os.path.join(t.top, "links")
    os.makedirs(d)
    state = os.path.join(d, "failures")
    victim = os.path.join(d, "precious")
    text = b"not pop3d's\n"
    with open(victim, "wb") as f:
        f.write(text)
    os.link(victim, state + ".tmp")
    login(t, "192.0.2.80", b"victim", b"guess", ban_file=state)
    os.symlink(victim, state + ".tmp")
    login(t, "192.0.2.80", b"victim", b"guess", ban_file=state)
    with open(victim, "rb") as f:
        kept = f.read()
    check(kept == text, "a hard link or symlink at FILE.tmp is not "
          "written through", kept)
    with open(state) as f:
        check("\na 192.0.2.80 2 " in f.read(), "both failures counted")
    drain(log)
    for what, plant in (("hard link", lambda p: os.link(victim, p)),
                        ("symlink", lambda p: os.symlink(victim, p)),
                        ("another owner's lock", None)):
        lock = state + ".lock"
        os.unlink(lock)
        if plant is None:
            open(lock, "wb").close()
            os.chown(lock, 65534, 65534)
        else:
            plant(lock)
        reply = login(t, "192.0.2.81", b"victim", b"guess", ban_file=state)
        lines = drain(log)
        check(reply == AUTH_FAILED, "%s at FILE.lock: the reply" % what, reply)
        check(count(lines, b"ban file=%s result=unwritable"
                    % state.encode()) == 1,
              "%s at FILE.lock: refused and logged" % what, lines)
    with open(victim, "rb") as f:
        check(f.read() == text, "the planted lock's target is unchanged")


def main():
    private_dev()
    log = Log("/dev/log")
    top = tempfile.mkdtemp(prefix="pop3d-ban.")
    try:
        t = Top(top)
        for name, password, cost in (
                (b"victim", b"victim's secret", []),          # 64 MiB
                (b"mallory", b"mallory's own", ["--ops", "1", "--mem", "8K"]),
                (b"target", b"target's secret", ["--ops", "1", "--mem", "8K"])):
            r = subprocess.run([PASSWD, "add"] + cost +
                               ["--users", t.users, name.decode()],
                               input=password + b"\n", capture_output=True)
            check(r.returncode == 0, "pop3d-passwd add %s" % name, r.stderr)
            os.makedirs(os.path.join(t.mail, name.decode()))
        drain(log)
        parallel(t, log)
        interleave(t, log)
        per_name(t, log)
        foreign(t, log)
        links(t, log)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    if os.environ.get("POP3D_BAN_TEST_NS") != "1":
        if os.geteuid() != 0 or shutil.which("unshare") is None:
            skip("needs root and unshare")
        os.environ["POP3D_BAN_TEST_NS"] = "1"
        os.execvp("unshare", ["unshare", "--mount", "--propagation", "private",
                              sys.executable] + sys.argv)
    sys.exit(main())
