#!/usr/bin/env python3
"""pop3d behind the real HAProxy, with the PROXY protocol.

usage: proxy_test.py POP3D POP3D_PASSWD

pop3d runs under systemd-socket-activate --inetd with --proxy-from
127.0.0.1, behind HAProxy (Debian's haproxy) on loopback, configured as
the README says: send-proxy-v2 (and a send-proxy variant for version 1)
with the README's tcp-check health check.  Clients connect to HAProxy
from other addresses (127.0.0.2, 198.51.100.2, 2001:db8::2, on lo in a
network namespace of the test's own), so the address HAProxy passes on
differs from HAProxy's own, and must be the one in pop3d's log lines and
the one its brute-force limits count.  Health checks arrive as LOCAL
headers and are served.

Direct connections: from an address pop3d does not trust, a forged
PROXY header is a bad command and never an address; from a trusted one,
a missing, malformed or late header ends the connection before the
greeting, and a good header sent in one write with the first command
leaves that command to the session.

HAProxy terminating TLS (README: "Several hosts behind HAProxy"): pop3d
with a certificate (so --tls=starttls) behind a TLS frontend with
send-proxy-v2-ssl.  Python's ssl and curl (pop3s://) from 198.51.100.x,
no loopback address, log in without STLS, CAPA offers no STLS, and the
log says "tls result=ok mode=proxy" with the version and cipher.  The
same backend behind a frontend in the clear (the SSL TLV without
PP2_CLIENT_SSL) still refuses logins until STLS, and STLS then runs
pop3d's own TLS through HAProxy; a forged header with the TLV sent
straight to pop3d from an untrusted address logs nobody in.

Runs in private mount and network namespaces (a /dev/log of its own);
needs root, else skipped (77), and haproxy and systemd-socket-activate
(and openssl and curl for the TLS part).
"""
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from deploylib import (Activator, Syslog, add_user, bound, free_port,  # noqa
                       private_dev, read_to_end, reexec_private, tempdir)
from pop3dtest import (check, crlf, finish, make_certs,  # noqa: E402
                       send_then_half_close, skip)

POP3D, PASSWD = (os.path.abspath(p) for p in sys.argv[1:3])
PASSWORD = "pr0xied pass"
V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"
MESSAGE = b"From: a@example.com\nSubject: proxied\n\nthrough HAProxy\n"


def v2_local():
    return V2_SIG + b"\x20\x00\x00\x00"


def v2_tcp4(src, dst, sport, dport):
    body = socket.inet_aton(src) + socket.inet_aton(dst) + \
        struct.pack("!HH", sport, dport)
    return V2_SIG + b"\x21\x11" + struct.pack("!H", len(body)) + body


class Backend(Activator):
    """pop3d under systemd-socket-activate; a trusted prober announces
    itself with a v2 LOCAL header, as HAProxy's health check does."""

    def __init__(self, args, workdir, trusted_prober):
        super().__init__("socket-activate", POP3D, args, workdir,
                         hello=v2_local() if trusted_prober else b"")


def talk(host, port, source, data, timeout=30):
    """Connects from source, sends data at once, half-closes, and
    returns everything the server sent until it closed.  A server that
    refuses what it read may close before the rest is sent or the
    half-close made (send_then_half_close)."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.bind((source, 0))
        s.connect((host, port))
        send_then_half_close(s, data)
        out = b""
        while True:
            try:
                chunk = s.recv(65536)
            except ConnectionResetError:
                break
            if not chunk:
                break
            out += chunk
        return out


def login(password=PASSWORD):
    return ("USER me\r\nPASS %s\r\n" % password).encode()


def haproxy_conf(top, backend_port, fronts):
    lines = ["global", "\tmaxconn 100", "",
             "defaults", "\tmode tcp", "\ttimeout connect 5s",
             "\ttimeout client 11m", "\ttimeout server 11m", ""]
    for name, bind, send in fronts:
        lines += ["frontend fe_%s" % name, "\tbind %s" % bind,
                  "\tdefault_backend be_%s" % name, "",
                  "backend be_%s" % name, "\toption tcp-check",
                  "\ttcp-check expect string +OK",
                  "\ttcp-check send QUIT\\r\\n",
                  "\ttcp-check expect string +OK",
                  "\tserver pop3d 127.0.0.1:%d %s check inter 1s"
                  % (backend_port, send), ""]
    path = os.path.join(top, "haproxy.cfg")
    with open(path, "w") as f:
        f.write("\n".join(lines))
    return path


def wait_through(port, host="127.0.0.1", source="127.0.0.1"):
    """True once a connection through HAProxy gets pop3d's greeting."""
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        try:
            out = talk(host, port, source, b"QUIT\r\n", timeout=5)
            if out.startswith(b"+OK pop3d ready"):
                return True
        except OSError:
            pass
        time.sleep(0.1)
    return False


def session_tag(log, since, pattern, addr=None):
    """The address of the session= tag on the first line after since
    that matches pattern (bytes), and that line's pid; only of addr's
    sessions when given (others' may end meanwhile: health checks)."""
    who = rb"\S+" if addr is None else re.escape(addr.encode())
    line = log.wait_for(rb"pop3d\[(\d+)\]: session=\1@(" + who + rb") " +
                        pattern, since=since)
    if line is None:
        return None, None
    m = re.search(rb"pop3d\[(\d+)\]: session=\1@(\S+) ", line)
    return m.group(2).decode(), int(m.group(1))


def through(log, port, host, source, version, want):
    since = len(log.snapshot())
    out = talk(host, port, source, login() + b"STAT\r\nRETR 1\r\nQUIT\r\n")
    check(out.startswith(b"+OK pop3d ready\r\n") and
          b"\r\nthrough HAProxy\r\n.\r\n" in out and
          out.endswith(b"+OK bye, 0 messages deleted\r\n"),
          "v%d from %s: a whole session "
          "through HAProxy" % (version, source), out[-200:])
    addr, pid = session_tag(log, since, rb"login user=me result=ok")
    check(addr == want, "v%d from %s: the login is logged as from %s"
          % (version, source, want), addr)
    if pid:
        line = log.wait_for(rb"pop3d\[%d\]: session=%d@\S+ proxy via="
                            rb"127\.0\.0\.1 version=%d$"
                            % (pid, pid, version), since=since)
        check(line is not None, "v%d from %s: the proxy is logged too"
              % (version, source))
        tags = {m.group(1) for m in (re.search(
            rb"pop3d\[%d\]: session=(\S+) " % pid, l)
            for l in log.snapshot()[since:]) if m}
        check(tags == {b"%d@%s" % (pid, want.encode())}, "v%d from %s: "
              "every line of the session names the client"
              % (version, source), tags)


def test_haproxy(log, top, backend, fronts):
    ports = {name: port for name, port in fronts.items()}
    for name, host, source in (("v2", "127.0.0.1", "127.0.0.1"),
                               ("v1", "127.0.0.1", "127.0.0.1"),
                               ("v6", "2001:db8::1", "2001:db8::1")):
        check(wait_through(ports[name], host, source), "HAProxy's %s "
              "frontend reaches pop3d" % name)

    through(log, ports["v2"], "127.0.0.1", "127.0.0.2", 2, "127.0.0.2")
    through(log, ports["v1"], "127.0.0.1", "127.0.0.3", 1, "127.0.0.3")
    through(log, ports["v2"], "127.0.0.1", "198.51.100.2", 2,
            "198.51.100.2")
    through(log, ports["v1"], "127.0.0.1", "198.51.100.3", 1,
            "198.51.100.3")
    through(log, ports["v6"], "2001:db8::1", "2001:db8::2", 2,
            "2001:db8::2")

    # HAProxy's health checks: v2 LOCAL, served as from HAProxy itself.
    line = log.wait_for(rb"pop3d\[(\d+)\]: session=\1@127\.0\.0\.1 proxy "
                        rb"via=127\.0\.0\.1 version=2 client=none$")
    check(line is not None, "health checks arrive as LOCAL and are served")
    pid = int(re.search(rb"pop3d\[(\d+)\]", line).group(1)) if line else 0
    check(pid and log.wait_for(rb"pop3d\[%d\]: session=%d@127\.0\.0\.1 end "
                               rb"reason=quit" % (pid, pid)) is not None,
          "... and end with QUIT (the README's tcp-check)")

    # Brute-force limits count the client HAProxy names: two failures
    # ban 198.51.100.7, not HAProxy and not another client.
    since = len(log.snapshot())
    for _ in range(2):
        out = talk("127.0.0.1", ports["v2"], "198.51.100.7",
                   login("wrong") + b"QUIT\r\n")
        check(b"-ERR [AUTH]" in out, "a wrong password through HAProxy is "
              "refused", out)
    check(log.wait_for(rb"session=\d+@198\.51\.100\.7 ban "
                       rb"addr=198\.51\.100\.7 ", since=since) is not None,
          "the proxied client is banned by its own address")
    out = talk("127.0.0.1", ports["v2"], "198.51.100.7",
               login() + b"QUIT\r\n")
    check(b"-ERR [AUTH]" in out and b"maildrop" not in out,
          "the banned client is refused even with the right password", out)
    out = talk("127.0.0.1", ports["v2"], "198.51.100.8",
               login() + b"QUIT\r\n")
    check(b"+OK maildrop" in out, "another client through the same "
          "HAProxy still logs in", out)
    with open(os.path.join(top, "failures")) as f:
        state = f.read()
    check("198.51.100.7 " in state and "127.0.0.1" not in state,
          "the state file holds the client, not HAProxy", state)


def test_direct(log, backend_port):
    """Connections to pop3d that bypass HAProxy."""
    # An untrusted address (127.0.0.2 is not --proxy-from) forging one.
    forged = b"PROXY TCP4 203.0.113.66 127.0.0.1 1234 110\r\n"
    since = len(log.snapshot())
    out = talk("127.0.0.1", backend_port, "127.0.0.2",
               forged + b"CAPA\r\nQUIT\r\n")
    check(out.startswith(b"+OK pop3d ready\r\n-ERR unknown command\r\n+OK")
          and out.endswith(b"+OK bye\r\n"), "untrusted: a forged v1 "
          "header is a bad command, and the session goes on", out)
    addr, _ = session_tag(log, since, rb"end reason=quit")
    check(addr == "127.0.0.2", "untrusted: the log names the real peer",
          addr)
    check(b"203.0.113.66" not in b"\n".join(log.snapshot()[since:]),
          "untrusted: the forged address never reaches the log")

    since = len(log.snapshot())
    out = talk("127.0.0.1", backend_port, "127.0.0.2",
               v2_tcp4("203.0.113.67", "127.0.0.1", 1234, 110) +
               b"QUIT\r\n")
    check(out.startswith(b"+OK pop3d ready\r\n-ERR"), "untrusted: a forged "
          "v2 header is bad commands", out)
    addr, _ = session_tag(log, since, rb"end reason=")
    check(addr == "127.0.0.2" and b"203.0.113.67" not in
          b"\n".join(log.snapshot()[since:]),
          "untrusted: the forged v2 address is not taken", addr)

    # A trusted peer (127.0.0.1) must send a header, and a good one.
    for data, why in ((b"USER me\r\n", b"no-header"),
                      (b"PROXY TCP4 1.2.3.4\r\nUSER me\r\n", b"v1-address"),
                      (b"PROXY TCP4 192.0.2.1 127.0.0.1 1 110\n",
                       b"v1-line-end"),
                      (V2_SIG + b"\x21\x11\xff\xff", b"v2-too-long"),
                      (V2_SIG + b"\x21\x11\x00\x0bABCDEFGHIJK", b"v2-short"),
                      (b"PROXY TCP4 192.0.2.1 127.0.0.1 1 ", b"eof")):
        since = len(log.snapshot())
        out = talk("127.0.0.1", backend_port, "127.0.0.1", data)
        check(out == b"", "trusted, %s: closed before the greeting"
              % why.decode(), out)
        check(log.wait_for(rb"session=\d+@127\.0\.0\.1 proxy via=127\.0\.0"
                           rb"\.1 result=bad reason=" + why + b"$",
                           since=since) is not None,
              "trusted, %s: logged" % why.decode())

    # Silence: the header's deadline.
    since = len(log.snapshot())
    t0 = time.monotonic()
    with socket.create_connection(("127.0.0.1", backend_port),
                                  timeout=30) as s:
        out = s.recv(100)
    took = time.monotonic() - t0
    check(out == b"" and 9 <= took < 20, "trusted, silent: closed after "
          "the 10 s deadline, before the greeting", (out, took))
    check(log.wait_for(rb"proxy via=127\.0\.0\.1 result=bad "
                       rb"reason=timeout$", since=since) is not None,
          "trusted, silent: logged")

    # A header and the first command in one write: the command is kept.
    for hdr, client in ((b"PROXY TCP4 203.0.113.5 127.0.0.1 5555 110\r\n",
                         "203.0.113.5"),
                        (v2_tcp4("203.0.113.6", "127.0.0.1", 5555, 110),
                         "203.0.113.6")):
        since = len(log.snapshot())
        out = talk("127.0.0.1", backend_port, "127.0.0.1",
                   hdr + b"CAPA\r\nQUIT\r\n")
        check(out.startswith(b"+OK pop3d ready\r\n+OK capability list "
                             b"follows\r\n") and out.endswith(b"+OK bye\r\n"),
              "trusted: the command sent with the header is answered",
              out[:80])
        addr, _ = session_tag(log, since, rb"end reason=quit")
        check(addr == client, "trusted: the header names the client",
              addr)


def test_untrusted_instance(log, top):
    """The issue's case: pop3d trusting only 127.0.0.9, a client on
    127.0.0.1 sending a PROXY header."""
    act = Backend(["--users", os.path.join(top, "users"),
                   "--mail-root", os.path.join(top, "mail"),
                   "--proxy-from", "127.0.0.9"], top, False)
    try:
        port = act.start()
        since = len(log.snapshot())
        out = talk("127.0.0.1", port, "127.0.0.1",
                   b"PROXY TCP4 192.0.2.99 127.0.0.1 4242 110\r\n" +
                   login() + b"QUIT\r\n")
        check(out.startswith(b"+OK pop3d ready\r\n-ERR unknown command\r\n"
                             b"+OK send PASS\r\n+OK maildrop"),
              "--proxy-from 127.0.0.9: a header from 127.0.0.1 is a bad "
              "command", out[:120])
        addr, _ = session_tag(log, since, rb"login user=me result=ok")
        check(addr == "127.0.0.1", "--proxy-from 127.0.0.9: the client is "
              "127.0.0.1 in the log", addr)
    finally:
        act.stop()


def ssl_tlv(client):
    """PP2_TYPE_SSL with the client octet, verify 0 and a version."""
    value = struct.pack("!BI", client, 0) + b"\x21\x00\x07TLSv1.3"
    return b"\x20" + struct.pack("!H", len(value)) + value


def start_haproxy(conf, log_path, what=""):
    """HAProxy on conf, checked first, in the foreground of a session of
    its own, its output in log_path."""
    r = subprocess.run(["haproxy", "-c", "-f", conf],
                       capture_output=True, text=True)
    check(r.returncode == 0, what + "the HAProxy configuration is valid",
          r.stdout + r.stderr)
    with open(log_path, "wb") as out:
        return subprocess.Popen(["haproxy", "-db", "-f", conf],
                                stdin=subprocess.DEVNULL, stdout=out,
                                stderr=out, start_new_session=True)


def tls_talk(port, source, root, script):
    """Through HAProxy's TLS frontend from source: the bytes of the
    session after the handshake, script sent at once, until pop3d
    closes or 15 s pass."""
    ctx = ssl.create_default_context(cafile=root)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as raw:
        raw.settimeout(15)
        raw.bind((source, 0))
        raw.connect(("127.0.0.1", port))
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(script)
            return read_to_end(s), s.version()


def stls_talk(port, source, root, before, under):
    """From source to port in the clear: before, then STLS and the
    handshake, then under.  Returns (in the clear, under TLS)."""
    ctx = ssl.create_default_context(cafile=root)
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as raw:
        raw.settimeout(30)
        raw.bind((source, 0))
        raw.connect(("127.0.0.1", port))
        f = raw.makefile("rb")
        clear = f.readline()
        raw.sendall(before + b"STLS\r\n")
        for _ in range(before.count(b"\r\n") + 1):
            line = f.readline()
            clear += line
            if line.startswith(b"+OK capability"):
                while not clear.endswith(b"\r\n.\r\n"):
                    clear += f.readline()
        if not clear.endswith(b"+OK begin TLS negotiation\r\n"):
            return clear, b""
        with ctx.wrap_socket(raw, server_hostname="localhost") as s:
            s.sendall(under)
            return clear, read_to_end(s)


def test_haproxy_tls(log, top):
    """HAProxy terminating TLS in front of pop3d --tls=starttls."""
    for tool in ("openssl", "curl"):
        if shutil.which(tool) is None:
            check(False, "HAProxy TLS: %s is there" % tool)
            return
    os.makedirs(os.path.join(top, "certs"))
    certs = make_certs(os.path.join(top, "certs"))
    pem = os.path.join(top, "certs", "haproxy.pem")
    with open(pem, "wb") as out:
        for name in ("chain", "key"):
            with open(certs[name], "rb") as f:
                out.write(f.read())
    os.makedirs(os.path.join(top, "tls"))
    backend = Backend([
        "--users", os.path.join(top, "users"),
        "--mail-root", os.path.join(top, "mail"),
        "--ban-file", os.path.join(top, "failures-tls"),
        "--tls-cert", certs["chain"], "--tls-key", certs["key"],
        "--proxy-from", "127.0.0.1"], os.path.join(top, "tls"), True)
    haproxy = None
    try:
        backend_port = backend.start()
        tls_port, clear_port = free_port(), free_port()
        server = ("\tserver pop3d 127.0.0.1:%d send-proxy-v2-ssl "
                  "proxy-v2-options ssl-cipher,crc32c,authority "
                  "check inter 1s" % backend_port)
        conf = os.path.join(top, "haproxy-tls.cfg")
        with open(conf, "w") as f:
            f.write("\n".join([
                "global", "\tmaxconn 100", "",
                "defaults", "\tmode tcp", "\ttimeout connect 5s",
                "\ttimeout client 11m", "\ttimeout server 11m", "",
                "frontend fe_tls",
                "\tbind 127.0.0.1:%d ssl crt %s" % (tls_port, pem),
                "\tdefault_backend be_pop3d", "",
                "frontend fe_clear", "\tbind 127.0.0.1:%d" % clear_port,
                "\tdefault_backend be_pop3d", "",
                "backend be_pop3d", "\toption tcp-check",
                "\ttcp-check expect string +OK",
                "\ttcp-check send QUIT\\r\\n",
                "\ttcp-check expect string +OK", server, ""]))
        haproxy = start_haproxy(conf, os.path.join(top, "haproxy-tls.out"),
                                "HAProxy TLS: ")
        check(wait_through(clear_port), "HAProxy TLS: the clear frontend "
              "reaches pop3d")
        msg = b"\r\nthrough HAProxy\r\n.\r\n"

        # TLS to HAProxy from a client on no loopback address.
        since = len(log.snapshot())
        out, version = tls_talk(tls_port, "198.51.100.2", certs["root"],
                                b"CAPA\r\nSTLS\r\n" + login() +
                                b"STAT\r\nRETR 1\r\nQUIT\r\n")
        check(out.startswith(b"+OK pop3d ready\r\n+OK capability list "
                             b"follows\r\nTOP\r\nUIDL\r\nUSER\r\n"
                             b"SASL PLAIN LOGIN\r\n") and
              b"STLS\r\n" not in out.split(b"\r\n.\r\n")[0],
              "HAProxy TLS, 198.51.100.2: CAPA lists USER and SASL, no "
              "STLS", out[:300])
        check(b"\r\n.\r\n-ERR not supported\r\n+OK send PASS\r\n"
              b"+OK maildrop has 1 message" in out and msg in out and
              out.endswith(b"+OK bye, 0 messages deleted\r\n"),
              "HAProxy TLS, 198.51.100.2: STLS is not offered, and USER "
              "and PASS log in at once", out[-300:])
        addr, pid = session_tag(log, since, rb"login user=me result=ok")
        check(addr == "198.51.100.2", "HAProxy TLS: the login is logged as "
              "from the client", addr)
        line = pid and log.wait_for(
            rb"pop3d\[%d\]: session=%d@198\.51\.100\.2 tls result=ok "
            rb"mode=proxy version=%s cipher=[A-Z0-9_-]+$"
            % (pid, pid, version.encode().replace(b".", rb"\.")),
            since=since)
        check(line, "HAProxy TLS: the log says the proxy's TLS, its version "
              "(%s) and cipher" % version)
        check(pid and not [l for l in log.snapshot()[since:] if re.search(
            rb"pop3d\[%d\]: .* (login result=refused|tls result=ok "
            rb"mode=starttls)" % pid, l)], "HAProxy TLS: no refused login, "
              "no STLS")

        # curl, as a user would fetch a message.
        r = subprocess.run(["curl", "-sS", "--max-time", "30", "--interface",
                            "198.51.100.3", "--cacert", certs["root"],
                            "-u", "me:" + PASSWORD,
                            "pop3s://localhost:%d/1" % tls_port],
                           capture_output=True, timeout=60,
                           env=dict(os.environ, no_proxy="*"))
        check(r.returncode == 0 and r.stdout == crlf(MESSAGE),
              "HAProxy TLS: curl pop3s:// from 198.51.100.3 fetches the "
              "message", (r.returncode, r.stdout[-100:], r.stderr[-300:]))

        # The same backend through the clear frontend: the SSL TLV
        # without PP2_CLIENT_SSL.  Refused until STLS, which is then
        # pop3d's own TLS, through HAProxy.
        since = len(log.snapshot())
        out = talk("127.0.0.1", clear_port, "198.51.100.4",
                   b"CAPA\r\n" + login() + b"QUIT\r\n")
        check(b"\r\nSTLS\r\n" in out and b"\r\nUSER\r\n" not in out and
              b"SASL" not in out and
              out.count(b"-ERR [AUTH] no login without TLS") == 2 and
              b"maildrop" not in out,
              "HAProxy in the clear, 198.51.100.4: no login before STLS",
              out)
        addr, pid = session_tag(log, since, rb"end reason=", "198.51.100.4")
        check(addr == "198.51.100.4" and pid and not [
            l for l in log.snapshot()[since:]
            if b"pop3d[%d]: " % pid in l and b"mode=proxy" in l],
              "HAProxy in the clear: the log names the client, and no "
              "proxy TLS", addr)
        clear, under = stls_talk(clear_port, "198.51.100.4", certs["root"],
                                 b"CAPA\r\n", login() + b"STAT\r\n"
                                 b"QUIT\r\n")
        check(b"+OK maildrop has 1 message" in under and
              under.endswith(b"+OK bye, 0 messages deleted\r\n"),
              "HAProxy in the clear: after STLS, pop3d's own TLS, the "
              "login works", (clear[-100:], under[-200:]))

        # HAProxy's health checks: LOCAL, never taken for TLS.
        check(not [l for l in log.snapshot() if re.search(
            rb"session=\d+@127\.0\.0\.1 tls result=ok mode=proxy", l)],
            "HAProxy TLS: no health check is taken for TLS")

        # Straight to pop3d from an address it does not trust: a forged
        # header with the TLV is no header, and nobody logs in.
        since = len(log.snapshot())
        forged = v2_tcp4("203.0.113.70", "127.0.0.1", 1234, 110)
        forged = forged[:14] + struct.pack(
            "!H", len(forged) - 16 + len(ssl_tlv(1))) + forged[16:] + \
            ssl_tlv(1)
        out = talk("127.0.0.1", backend_port, "198.51.100.5",
                   forged + b"CAPA\r\n" + login() + b"QUIT\r\n")
        check(out.startswith(b"+OK pop3d ready\r\n-ERR") and
              b"maildrop" not in out and b"USER" not in out,
              "untrusted 198.51.100.5, a forged header with the TLV: no "
              "login", out)
        check(not [l for l in log.snapshot()[since:]
                   if b"mode=proxy" in l or b"203.0.113.70" in l],
              "untrusted: neither the TLS nor the address is taken")
        out = talk("127.0.0.1", backend_port, "198.51.100.5",
                   b"CAPA\r\n" + login() + b"QUIT\r\n")
        check(b"\r\nSTLS\r\n" in out and
              out.count(b"-ERR [AUTH] no login without TLS") == 2,
              "untrusted 198.51.100.5 in the clear: no login before STLS",
              out)
    finally:
        stop(haproxy)
        backend.stop()


def stop(proc):
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def main():
    for tool in ("haproxy", "systemd-socket-activate", "ip"):
        if shutil.which(tool) is None:
            skip(tool + " not found")
    reexec_private("POP3D_DEPLOY_NS", net=True)
    bound(110)
    private_dev()
    for cmd in (["link", "set", "lo", "up"],
                ["addr", "add", "198.51.100.2/24", "dev", "lo"],
                ["addr", "add", "2001:db8::1/64", "dev", "lo", "nodad"],
                ["addr", "add", "2001:db8::2/64", "dev", "lo", "nodad"]):
        subprocess.run(["ip"] + cmd, check=True)
    log = Syslog()
    top = tempdir("pop3d-proxy.")
    backend = haproxy = None
    try:
        add_user(PASSWD, os.path.join(top, "users"), "me", PASSWORD)
        os.makedirs(os.path.join(top, "mail", "me"))
        with open(os.path.join(top, "mail", "me", "1.eml"), "wb") as f:
            f.write(MESSAGE)
        backend = Backend(["--users", os.path.join(top, "users"),
                           "--mail-root", os.path.join(top, "mail"),
                           "--ban-file", os.path.join(top, "failures"),
                           "--ban-after", "2",
                           "--proxy-from", "127.0.0.1",
                           "--proxy-from", "::1"], top, True)
        backend_port = backend.start()
        fronts = {"v2": free_port(), "v1": free_port(),
                  "v6": free_port("2001:db8::1")}
        conf = haproxy_conf(top, backend_port, [
            ("v2", "127.0.0.1:%d" % fronts["v2"], "send-proxy-v2"),
            ("v1", "127.0.0.1:%d" % fronts["v1"], "send-proxy"),
            ("v6", "[2001:db8::1]:%d" % fronts["v6"], "send-proxy-v2")])
        haproxy = start_haproxy(conf, os.path.join(top, "haproxy.out"))
        test_haproxy(log, top, backend, fronts)
        # Its health checks would come between the direct sessions.
        stop(haproxy)
        time.sleep(0.5)
        test_direct(log, backend_port)
        test_untrusted_instance(log, top)
        test_haproxy_tls(log, top)
    finally:
        stop(haproxy)
        if backend is not None:
            backend.stop()
        log.close()
        shutil.rmtree(top, ignore_errors=True)
    sys.exit(finish())


if __name__ == "__main__":
    main()
