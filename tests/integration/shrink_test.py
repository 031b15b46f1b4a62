#!/usr/bin/env python3
"""A message file that shrinks or changes while pop3d sends it.

Usage: shrink_test.py POP3D POP3D-PASSWD

pop3d reads a large message through read-only maps of the file; a file
truncated under a map raises SIGBUS where it is read past its new end.
Here a client asks for a message of 48 MiB over a socket with a small
receive buffer, reads its first MiB (pop3d is then still in the middle
of the file, held back by the socket), and the test truncates the file,
or rewrites it in place with other line ends, before reading the rest.
In the clear and over implicit TLS, for a message that is streamed (LF
lines, some starting with '.'), truncated or rewritten, the same for
TOP, and one sent as it is (CRLF, no dot line), truncated, the client
must see a cut: no terminating '.' line, and fewer octets than the
message's.  pop3d must end with exit 1 (not a signal), log
`retr msg=1 result=cut`, delete nothing, and serve the next session.
Then, with pop3d's address space limited after login (prlimit) below
what a map of the message needs, the same RETR must come whole and
byte-exact through read(2) (not under valgrind or ASan, which need
address space of their own).

Log lines are read from a datagram socket of the test's own at /dev/log
in a private mount namespace; needs root (exit 77, skipped, otherwise).
"""
import os
import resource
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from pop3dtest import (add_user, check, crlf, drain_log, finish,  # noqa
                       make_certs, pop3d_argv, private_syslog, stuffed)

POP3D, PASSWD = sys.argv[1], sys.argv[2]
PASSWORD = "passw0rd"
MIB = 1 << 20


def streamed():
    """48 MiB of LF lines, one in seven starting with '.'."""
    line = b"%s%07d " + b"y" * 70 + b"\n"
    return b"Subject: big\n\n" + b"".join(
        line % (b"." if i % 7 == 0 else b"", i) for i in range(48 * MIB // 80))


def as_it_is():
    """48 MiB that is its own CRLF form with no line to stuff."""
    line = b"%07d " + b"z" * 70 + b"\r\n"
    return b"Subject: as it is\r\n\r\n" + b"".join(
        line % i for i in range(48 * MIB // 80))


class Session:
    """pop3d on one end of a TCP connection on loopback, as inetd runs
    it; the client's end has a small receive buffer, so that pop3d is
    held back by what the client has not read."""

    def __init__(self, top, certs=None, rcvbuf=64 * 1024):
        args = ["--users", os.path.join(top, "users"), "--mail-root",
                os.path.join(top, "mail")]
        if certs:
            args += ["--tls=implicit", "--tls-cert", certs["chain"],
                     "--tls-key", certs["key"]]
        with socket.socket() as lst:
            lst.bind(("127.0.0.1", 0))
            lst.listen(1)
            c = socket.socket()
            c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
            c.settimeout(60)
            c.connect(lst.getsockname())
            conn, _ = lst.accept()
        self.proc = subprocess.Popen(pop3d_argv(POP3D, *args), stdin=conn,
                                     stdout=conn, stderr=subprocess.PIPE)
        conn.close()
        if certs:
            ctx = ssl.create_default_context(cafile=certs["root"])
            c = ctx.wrap_socket(c, server_hostname="localhost")
        self.sock = c
        self.buf = bytearray()

    def line(self):
        while b"\r\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("connection closed before a line")
            self.buf += data
        line, rest = self.buf.split(b"\r\n", 1)
        self.buf = rest
        return bytes(line)

    def cmd(self, text):
        self.sock.sendall(text.encode() + b"\r\n")
        return self.line()

    def read(self, n):
        """The next n octets, or all up to EOF if fewer come."""
        while len(self.buf) < n:
            data = self.sock.recv(65536)
            if not data:
                break
            self.buf += data
        got = bytes(self.buf[:n])
        del self.buf[:n]
        return got

    def rest(self):
        """Everything up to the end of the connection."""
        try:
            while True:
                data = self.sock.recv(1 << 20)
                if not data:
                    break
                self.buf += data
        except (ssl.SSLError, ConnectionError):
            pass        # a TLS session cut without close_notify
        return bytes(self.buf)

    def login(self):
        check(self.line().startswith(b"+OK"), "greeting")
        self.cmd("USER me")
        reply = self.cmd("PASS " + PASSWORD)
        check(reply.startswith(b"+OK"), "login", reply)

    def close(self):
        """pop3d's exit status and stderr."""
        self.sock.close()
        try:
            err = self.proc.communicate(timeout=60)[1]
        finally:
            self.proc.kill()
        return self.proc.returncode, err


def fresh_box(top, data):
    box = os.path.join(top, "mail", "me")
    shutil.rmtree(box, ignore_errors=True)
    os.makedirs(box)
    for name, body in (("1", data), ("2", b"Subject: two\n\nsmall\n")):
        with open(os.path.join(box, name), "wb") as f:
            f.write(body)
    return box


def truncate(path, data):
    os.truncate(path, MIB // 2)


def rewrite(path, data):
    """Same size, other line ends: each LF after the first 16 MiB becomes
    CR LF in place of the octet before it, so the CRLF form shrinks."""
    with open(path, "r+b") as f:
        f.seek(16 * MIB)
        f.write(data[16 * MIB:].replace(b"y\n", b"\r\n"))


FORMS = {}


def form(data):
    """(the size RETR announces, the octets that follow its +OK line)."""
    if id(data) not in FORMS:
        FORMS[id(data)] = (len(crlf(data)), stuffed(data))
    return FORMS[id(data)]


def changed_while_sent(top, log, certs, data, change, what, verb="RETR 1"):
    """verb (RETR 1, or TOP 1 with more lines than the message has) while
    change is made to the message's file."""
    box = fresh_box(top, data)
    drain_log(log, 0.2)
    s = Session(top, certs)
    s.login()
    head = s.cmd(verb)
    size, sent = form(data)
    want = b"+OK %d octets" % size if verb.startswith("RETR") else \
        b"+OK top of message follows"
    check(head == want, what + ": the +OK line", head)
    got = s.read(MIB)
    change(os.path.join(box, "1"), data)
    got += s.rest()
    rc, err = s.close()
    check(not got.endswith(b"\r\n.\r\n") and len(got) < len(sent),
          what + ": the client sees a cut, not a message",
          "%d octets, ends %r" % (len(got), got[-20:]))
    check(sent.startswith(got[:MIB]),
          what + ": what came before the cut is the message's start")
    check(rc == 1 and err == b"",
          what + ": pop3d ends with exit 1 and nothing on stderr",
          (rc, err))
    lines = drain_log(log)
    check(any(b" retr msg=1 result=cut " in l for l in lines),
          what + ": logged retr msg=1 result=cut", lines)
    names = sorted(n for n in os.listdir(box) if not n.startswith("."))
    check(names == ["1", "2"], what + ": nothing deleted", names)
    s = Session(top, certs)
    s.login()
    stat = s.cmd("STAT")
    top2 = s.cmd("RETR 2")
    body = s.read(len(b"Subject: two\r\n\r\nsmall\r\n.\r\n"))
    quit_ = s.cmd("QUIT") if body.endswith(b".\r\n") else b""
    rc, err = s.close()
    check(stat.startswith(b"+OK 2 ") and top2.startswith(b"+OK") and
          quit_.startswith(b"+OK") and rc == 0,
          what + ": the next session lists both and serves them",
          (stat, top2, body, quit_, rc))


def without_room_to_map(top, log, certs, data, what):
    """RETR after the session's address space is limited to what it uses
    now: no room for a map of the message, whatever its window."""
    fresh_box(top, data)
    s = Session(top, certs, rcvbuf=4 * MIB)
    s.login()
    with open("/proc/%d/status" % s.proc.pid) as f:
        vm = [int(l.split()[1]) for l in f if l.startswith("VmSize:")][0]
    limit = vm * 1024
    resource.prlimit(s.proc.pid, resource.RLIMIT_AS, (limit, limit))
    head = s.cmd("RETR 1")
    size, want = form(data)
    got = s.read(len(want))
    quit_ = s.cmd("QUIT") if got == want else b""
    rc, err = s.close()
    check(head == b"+OK %d octets" % size and got == want,
          what + ": the whole message, byte-exact",
          (head, len(got), len(want)))
    check(quit_.startswith(b"+OK") and rc == 0 and err == b"",
          what + ": QUIT, exit 0", (quit_, rc, err))


def main():
    log = private_syslog("POP3D_SHRINK_TEST_NS")
    top = tempfile.mkdtemp(prefix="pop3d-shrink.")
    try:
        add_user(PASSWD, os.path.join(top, "users"), "me", PASSWORD)
        os.makedirs(os.path.join(top, "certs"))
        tls = make_certs(os.path.join(top, "certs"))
        big = streamed()
        own = as_it_is()
        for certs, mode in ((None, "clear"), (tls, "TLS")):
            for data, change, how in (
                    (big, truncate, "streamed, truncated"),
                    (big, rewrite, "streamed, rewritten in place"),
                    (own, truncate, "as it is, truncated")):
                changed_while_sent(top, log, certs, data, change,
                                   "%s, %s" % (mode, how))
            changed_while_sent(top, log, certs, big, truncate,
                               "%s, TOP, truncated" % mode,
                               "TOP 1 %d" % (len(big) // 80 + 10))
            if os.environ.get("POP3D_WRAPPER", "").strip() or \
                    os.environ.get("POP3D_SANITIZED") == "1":
                continue        # valgrind and ASan need room of their own
            without_room_to_map(top, log, certs, big,
                                "%s, no room to map" % mode)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
