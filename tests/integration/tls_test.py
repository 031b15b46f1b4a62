#!/usr/bin/env python3
"""pop3d's own TLS on loopback: implicit TLS and STLS, and what it refuses.

usage: tls_test.py POP3D USERS PRELOAD_SHIM

Certificates are made at the start with openssl (a root, an
intermediate and the server's; pop3d gets the server's certificate with
the intermediate, clients trust only the root, so the chain is checked
too).  pop3d runs once per connection from a small inetd of the test's
own, which keeps each session's exit status and stderr (which must be
empty).  Clients: openssl s_client (implicit and -starttls pop3),
Python's poplib and ssl, and curl (pop3s:// and --ssl-reqd pop3://).

- startup: a missing or wrong certificate or key, or --tls without one,
  is exit 100 with nothing written to the client;
- libssl and libcrypto are mapped only when TLS is configured; one that
  cannot be loaded is exit 100 too;
- an allocator preloaded for pop3d (LD_PRELOAD; PRELOAD_SHIM stands in
  for it) serves libssl and libcrypto too: they are bound to themselves
  first only when nothing is preloaded;
- both modes log in and RETR byte-exact (dots, CRLF, a 3 MB message,
  and a file that is its own CRLF form, sent as it is);
- CAPA lists STLS only before TLS; STLS twice or after login is refused;
- STARTTLS injection: what follows STLS in the same write, or in the
  next with a line cut at the boundary, is never answered, in the clear
  or under TLS;
- a client that PROXY (--proxy-from) names as 192.0.2.9 cannot log in
  before STLS (CAPA lists neither USER nor SASL, and UTF8 without its
  USER argument) and can after it;
  --allow-plaintext-auth and --tls=off let it, as before;
- ... unless a v2 header's PP2_TYPE_SSL TLV says it spoke TLS to the
  proxy (HAProxy's send-proxy-v2-ssl): then it logs in at once and STLS
  is not offered; the TLV without PP2_CLIENT_SSL, or the header from an
  address not --proxy-from, changes nothing, a malformed TLV closes the
  connection before the greeting, and --tls=implicit keeps its own TLS;
- TLS 1.0 and 1.1 clients, ALPN other than pop3, garbage and a cut or
  stalled ClientHello end the session (exit 1) without a byte of POP3;
- OpenSSL's configuration is read only when OPENSSL_CONF names it
  (its MaxProtocol shows), and one that allows TLS 1.0 at security level
  0 still gets TLS 1.0 and 1.1 clients refused;
- timeouts and the bad-command budget apply under TLS.
Exits 0 when every check passed, 1 otherwise, 77 when openssl or curl is
missing.  Needs no root.
"""
import os
import poplib
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import time
import warnings

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from pop3dtest import (Inetd, check, crlf, finish, make_certs,  # noqa
                       pop3d_argv, send_then_half_close, skip, stuffed,
                       wrapped)

POP3D = os.path.abspath(sys.argv[1])
USERS = os.path.abspath(sys.argv[2])
PRELOAD_SHIM = os.path.abspath(sys.argv[3])
SANITIZED = os.environ.get("POP3D_SANITIZED") == "1"
PASSWORD = "passw0rd"
HOST = "127.0.0.1"


def big():
    return b"Subject: big\n\n" + b"".join(
        b"%s%07d %s\n" % (b"." if i % 7 == 0 else b"", i, b"y" * 60)
        for i in range(45000))


def own_crlf():
    """A message that is its own CRLF form with no line to stuff: sent as
    the file is (io_sendfile), not streamed; larger than io's buffer and
    not a multiple of it."""
    return b"Subject: as it is\r\n\r\n" + b"".join(
        b"%07d %s\r\n" % (i, b"z" * 50) for i in range(5001))


MESSAGES = {
    "1.eml": b"Subject: one\n\nbody\n.\n..two\n.one\n",
    "2.eml": b"Subject: two\r\n\r\nCRLF\r\nno final newline",
    "3.eml": big(),
    "4.eml": own_crlf(),
}


def retr_ok(data, n):
    """Whether the raw stream data holds RETR n's whole answer."""
    msg = MESSAGES["%d.eml" % n]
    head = b"+OK %d octets\r\n" % len(crlf(msg))
    return head + stuffed(msg) in data


def plain_run(args, stdin=b"QUIT\r\n"):
    """pop3d with pipes: (exit status, stdout, stderr)."""
    r = subprocess.run(pop3d_argv(POP3D, *args), input=stdin,
                       capture_output=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def sessions_ok(inetd, n, what, rcs=(0,)):
    got = inetd.sessions(n)
    check(len(got) == n and all(rc in rcs and err == b"" for rc, err in got),
          "%s: %d session(s) end with %s and an empty stderr: %r"
          % (what, n, rcs, got))
    inetd.forget()


def client_ctx(**kw):
    ctx = ssl.create_default_context(cafile=CERTS["root"])
    for k, v in kw.items():
        setattr(ctx, k, v)
    return ctx


def s_client(port, script, *extra):
    r = subprocess.run(["openssl", "s_client", "-quiet", "-connect",
                        "%s:%d" % (HOST, port), "-servername", "localhost",
                        "-verify_hostname", "localhost", "-CAfile",
                        CERTS["root"], "-verify_return_error"] + list(extra),
                       input=script, capture_output=True, timeout=60)
    return r.returncode, r.stdout, r.stderr


def recv_line(sock):
    data = b""
    while not data.endswith(b"\r\n"):
        c = sock.recv(1)
        if not c:
            break
        data += c
    return data


def recv_all(sock):
    data = b""
    while True:
        try:
            c = sock.recv(65536)
        except (ConnectionError, ssl.SSLError, socket.timeout):
            break
        if not c:
            break
        data += c
    return data


def client_hello():
    """The first flight of a real TLS client, from a memory BIO."""
    inc, out = ssl.MemoryBIO(), ssl.MemoryBIO()
    obj = client_ctx().wrap_bio(inc, out, server_hostname="localhost")
    try:
        obj.do_handshake()
    except ssl.SSLWantReadError:
        pass
    return out.read()


def test_startup(top):
    cert, key = CERTS["chain"], CERTS["key"]
    missing = os.path.join(top, "missing.pem")
    for what, args in (
            ("--tls=implicit without a certificate", ["--tls=implicit"]),
            ("--tls=starttls without a certificate", ["--tls=starttls"]),
            ("--tls-key without --tls-cert", ["--tls-key", key]),
            ("--tls=bogus", ["--tls=bogus", "--tls-cert", cert,
                             "--tls-key", key]),
            ("a missing certificate", ["--tls-cert", missing,
                                       "--tls-key", key]),
            ("a missing key", ["--tls-cert", cert, "--tls-key", missing]),
            ("a folder for a key", ["--tls-cert", cert, "--tls-key", top]),
            ("the key of another certificate",
             ["--tls-cert", cert, "--tls-key",
              os.path.join(CERTS["dir"], "root.key")]),
            ("the certificate for a key", ["--tls-cert", cert,
                                           "--tls-key", cert])):
        rc, out, err = plain_run(ARGS + args)
        check(rc == 100 and out == b"" and err == b"",
              "%s: exit 100, nothing to the client (%r)"
              % (what, (rc, out, err)))
    rc, out, err = plain_run(ARGS + ["--tls=off", "--tls-cert", missing])
    check(rc == 0 and out.startswith(b"+OK") and err == b"",
          "--tls=off reads no certificate: %r" % ((rc, out, err),))
    r = subprocess.run(pop3d_argv(POP3D, "--version"), capture_output=True,
                       timeout=60)
    check(r.returncode == 0 and b"TLS: OpenSSL" in r.stdout,
          "--version names the TLS library: %r" % r.stdout)
    # The default with a certificate is STLS; a pipe is this host, so
    # logins are offered beside it.
    rc, out, err = plain_run(ARGS + ["--tls-cert", cert, "--tls-key", key],
                             b"CAPA\r\nUSER me\r\nPASS passw0rd\r\nQUIT\r\n")
    check(rc == 0 and b"\r\nSTLS\r\n" in out and b"\r\nUSER\r\n" in out and
          b"+OK maildrop has" in out,
          "a certificate alone means STLS, with logins from this host: %r"
          % out)


def mapped_libraries(args):
    """The shared objects a pop3d maps once it has greeted."""
    p = subprocess.Popen(pop3d_argv(POP3D, *args), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        greeting = p.stdout.readline()
        with open("/proc/%d/maps" % p.pid) as f:
            maps = f.read()
        p.communicate(b"QUIT\r\n", timeout=60)
    finally:
        if p.poll() is None:
            p.kill()
            p.wait()
    return greeting, maps


def test_loading(top):
    """libssl is loaded when TLS is configured, and only then."""
    tls = ["--tls-cert", CERTS["chain"], "--tls-key", CERTS["key"]]
    if wrapped():
        print("skipped: what is mapped, under a wrapper (%s)"
              % os.environ["POP3D_WRAPPER"].split()[0])
        return
    greeting, maps = mapped_libraries(ARGS + ["--tls=off"] + tls)
    check(greeting.startswith(b"+OK") and "libsodium" in maps and
          "libssl" not in maps and "libcrypto" not in maps,
          "--tls=off maps neither libssl nor libcrypto")
    greeting, maps = mapped_libraries(ARGS + tls)
    check(greeting.startswith(b"+OK") and "libssl" in maps and
          "libcrypto" in maps, "STLS maps libssl and libcrypto")
    # A libssl that cannot be loaded is a startup failure, not a crash.
    libs = os.path.join(top, "libs")
    os.makedirs(libs)
    with open(os.path.join(libs, "libssl.so.3"), "wb") as f:
        f.write(b"not a shared object\n")
    env = dict(os.environ, LD_LIBRARY_PATH=libs)
    r = subprocess.run(pop3d_argv(POP3D, *(ARGS + tls)), input=b"QUIT\r\n",
                       capture_output=True, timeout=60, env=env)
    check(r.returncode == 100 and r.stdout == b"",
          "an unloadable libssl: exit 100, nothing to the client: %r"
          % ((r.returncode, r.stdout, r.stderr),))
    r = subprocess.run(pop3d_argv(POP3D, "--version"), capture_output=True,
                       timeout=60, env=env)
    check(r.returncode == 0 and b"libssl.so.3 (cannot be loaded)" in r.stdout,
          "--version says libssl cannot be loaded: %r" % r.stdout)


def test_preloaded():
    """What an admin preloads reaches OpenSSL as it reaches pop3d."""
    if wrapped() or SANITIZED:
        print("skipped: preloading, under a wrapper or a sanitizer (their "
              "runtime must come first)")
        return
    env = dict(os.environ, LD_PRELOAD=PRELOAD_SHIM)
    r = subprocess.run(pop3d_argv(POP3D, *ARGS, "--tls-cert", CERTS["chain"],
                                  "--tls-key", CERTS["key"]),
                       input=b"CAPA\r\nQUIT\r\n", capture_output=True,
                       timeout=60, env=env)
    check(r.returncode == 0 and r.stdout.startswith(b"+OK") and
          b"\r\nSTLS\r\n" in r.stdout,
          "STLS offered with an allocator preloaded: %r"
          % ((r.returncode, r.stdout[:200], r.stderr),))
    check(r.stderr == b"preload-shim: malloc from OpenSSL\n",
          "libcrypto allocates through the preloaded allocator: %r"
          % r.stderr)


def test_implicit(port):
    script = (b"CAPA\r\nUSER me\r\nPASS " + PASSWORD.encode() +
              b"\r\nLIST\r\nRETR 1\r\nRETR 2\r\nRETR 3\r\nRETR 4\r\n"
              b"QUIT\r\n")
    rc, out, err = s_client(port, script)
    check(rc == 0 and out.startswith(b"+OK pop3d ready\r\n"),
          "s_client: implicit TLS, greeting first", (out[:80], err[-300:]))
    check(b"\r\nSTLS\r\n" not in out and b"\r\nUSER\r\n" in out,
          "implicit: CAPA lists USER and no STLS")
    check(all(retr_ok(out, n) for n in (1, 2, 3, 4)),
          "s_client: implicit: RETR 1, 2, 3, 4 byte-exact")
    check(out.endswith(b"+OK bye, 0 messages deleted\r\n"),
          "s_client: implicit: QUIT", out[-60:])
    c = poplib.POP3_SSL("localhost", port, context=client_ctx(), timeout=30)
    try:
        caps = c.capa()
        check("STLS" not in caps and "USER" in caps,
              "poplib: CAPA under TLS: USER, no STLS", caps)
        c.user("me")
        c.pass_(PASSWORD)
        _, lines, _ = c.retr(3)
        check(b"".join(l + b"\r\n" for l in lines) == crlf(MESSAGES["3.eml"]),
              "poplib POP3_SSL: RETR of 3 MB byte-exact")
        c.quit()
    finally:
        c.close()
    url = "pop3s://%s:%d/" % (HOST, port)
    base = ["curl", "-sS", "--max-time", "30", "--cacert", CERTS["root"],
            "--user", "me:" + PASSWORD]
    r = subprocess.run(base + [url], capture_output=True, timeout=60)
    want = b"".join(b"%d %d\r\n" % (i + 1, len(crlf(MESSAGES[n])))
                    for i, n in enumerate(sorted(MESSAGES)))
    check(r.returncode == 0 and r.stdout == want, "curl pop3s://: LIST",
          (r.returncode, r.stdout[:200], r.stderr))
    for n in (1, 2):
        r = subprocess.run(base + [url + str(n)], capture_output=True,
                           timeout=60)
        check(r.returncode == 0 and r.stdout == crlf(MESSAGES["%d.eml" % n]),
              "curl pop3s://: RETR %d byte-exact" % n, (r.returncode,
                                                        r.stderr))


def test_lockstep(port):
    """A client that reads each reply whole before it sends the next
    command gets every one: what io keeps to fill the next TLS record (a
    message's tail, its terminator) goes before pop3d waits for input.
    Streamed, small and as-is messages in turn; a held reply would run
    into the client's timeout, far below pop3d's idle one."""
    c = poplib.POP3_SSL("localhost", port, context=client_ctx(), timeout=10)
    try:
        c.user("me")
        c.pass_(PASSWORD)
        for n in (3, 1, 4, 2, 3, 4, 4):
            _, lines, _ = c.retr(n)
            check(b"".join(l + b"\r\n" for l in lines) ==
                  crlf(MESSAGES["%d.eml" % n]),
                  "lock-step over TLS: RETR %d byte-exact" % n)
        check(c.noop().startswith(b"+OK"), "lock-step over TLS: NOOP")
        c.quit()
    finally:
        c.close()


def test_starttls(port):
    script = (b"CAPA\r\nUSER me\r\nPASS " + PASSWORD.encode() +
              b"\r\nRETR 1\r\nRETR 3\r\nRETR 4\r\nQUIT\r\n")
    rc, out, err = s_client(port, script, "-starttls", "pop3")
    check(rc == 0 and retr_ok(out, 1) and retr_ok(out, 3) and
          retr_ok(out, 4) and
          out.endswith(b"+OK bye, 0 messages deleted\r\n"),
          "s_client -starttls pop3: RETR 1, 3 and 4 byte-exact",
          (out[:200], err[-300:]))
    check(b"\r\nSTLS\r\n" not in out,
          "s_client -starttls pop3: CAPA under TLS lists no STLS")
    c = poplib.POP3("localhost", port, timeout=30)
    try:
        check("STLS" in c.capa(), "poplib: STLS listed before TLS")
        c.stls(context=client_ctx())
        caps = c.capa()
        check("STLS" not in caps and "USER" in caps and "SASL" in caps,
              "poplib: after STLS, CAPA lists USER and SASL, not STLS: %r"
              % caps)
        try:
            c._shortcmd("STLS")
            check(False, "STLS under TLS is refused")
        except poplib.error_proto as e:
            check(e.args[0] == b"-ERR TLS is active already",
                  "STLS under TLS is refused: %r" % e.args[0])
        c.user("me")
        c.pass_(PASSWORD)
        _, lines, _ = c.retr(2)
        check(b"".join(l + b"\r\n" for l in lines) == crlf(MESSAGES["2.eml"]),
              "poplib stls(): RETR 2 byte-exact")
        try:
            c._shortcmd("STLS")
            check(False, "STLS after login is refused")
        except poplib.error_proto as e:
            check(e.args[0].startswith(b"-ERR command not valid"),
                  "STLS after login is refused: %r" % e.args[0])
        c.quit()
    finally:
        c.close()
    r = subprocess.run(["curl", "-sS", "--max-time", "30", "--ssl-reqd",
                        "--cacert", CERTS["root"], "--user", "me:" + PASSWORD,
                        "pop3://%s:%d/1" % (HOST, port)],
                       capture_output=True, timeout=60)
    check(r.returncode == 0 and r.stdout == crlf(MESSAGES["1.eml"]),
          "curl --ssl-reqd pop3://: RETR 1 byte-exact", (r.returncode,
                                                         r.stderr))


def test_injection(port):
    """CVE-2011-0411: STLS and more commands in one write, or split."""
    for extra, under, want in (
            (b"USER x\r\n", b"PASS " + PASSWORD.encode() + b"\r\n",
             b"-ERR USER first\r\n"),
            (b"USER me\r\nPASS " + PASSWORD.encode() + b"\r\nSTAT\r\n",
             b"STAT\r\n", b"-ERR command not valid in this state\r\n")):
        s = socket.create_connection((HOST, port), timeout=30)
        try:
            check(recv_line(s) == b"+OK pop3d ready\r\n", "greeting")
            s.sendall(b"STLS\r\n" + extra)
            check(recv_line(s) == b"+OK begin TLS negotiation\r\n",
                  "injection: STLS answered")
            # Had pop3d answered the rest in the clear, the handshake
            # would read that answer and fail.
            t = client_ctx().wrap_socket(s, server_hostname="localhost")
            t.sendall(under)
            got = recv_line(t)
            check(got == want, "injection: %r never ran; under TLS %r gets "
                  "%r" % (extra, under, got))
            t.sendall(b"QUIT\r\n")
            check(recv_line(t) == b"+OK bye\r\n", "injection: QUIT")
        finally:
            s.close()
    # The same commands split across writes, a line cut in two at the
    # STLS boundary: what comes after "+OK begin TLS negotiation" is the
    # handshake's to read, and plain text there ends the session with
    # no word in the clear, so no command runs either way.
    s = socket.create_connection((HOST, port), timeout=30)
    try:
        check(recv_line(s) == b"+OK pop3d ready\r\n", "split: greeting")
        s.sendall(b"STLS\r\nUS")
        check(recv_line(s) == b"+OK begin TLS negotiation\r\n",
              "split: STLS answered")
        s.sendall(b"ER me\r\nPASS " + PASSWORD.encode() + b"\r\nSTAT\r\n")
        rest = recv_all(s)
        check(b"+OK" not in rest and b"-ERR" not in rest,
              "split: nothing answered in the clear after STLS: %r" % rest)
    finally:
        s.close()


def proxied(port, header, script):
    """A session through the PROXY protocol: the bytes pop3d sends."""
    s = socket.create_connection((HOST, port), timeout=30)
    with s:
        s.sendall(header + script)
        s.shutdown(socket.SHUT_WR)
        return recv_all(s)


def proxied_stls(port, header, before, under):
    """PROXY header, then before in the clear, STLS, under under TLS;
    returns (what came in the clear, what came under TLS)."""
    s = socket.create_connection((HOST, port), timeout=30)
    try:
        s.sendall(header)
        clear = recv_line(s)
        for line in before.split(b"\r\n")[:-1]:
            s.sendall(line + b"\r\n")
            if line.upper() == b"CAPA":
                while not clear.endswith(b"\r\n.\r\n"):
                    clear += recv_line(s)
            else:
                clear += recv_line(s)
        s.sendall(b"STLS\r\n")
        clear += recv_line(s)
        t = client_ctx().wrap_socket(s, server_hostname="localhost")
        t.sendall(under)
        return clear, recv_all(t)
    finally:
        s.close()


REMOTE = b"PROXY TCP4 192.0.2.9 192.0.2.1 50000 110\r\n"


def test_not_local(port, port_allow, port_off):
    login = b"USER me\r\nPASS " + PASSWORD.encode() + b"\r\n"
    clear, under = proxied_stls(port, REMOTE, b"CAPA\r\n" + login,
                                b"CAPA\r\n" + login + b"QUIT\r\n")
    check(b"\r\nSTLS\r\n" in clear and b"\r\nUSER\r\n" not in clear and
          b"SASL" not in clear,
          "192.0.2.9 in the clear: CAPA has STLS, no USER, no SASL: %r"
          % clear)
    # RFC 6856 s.2: UTF8's USER argument is about USER and PASS, which are
    # refused here; the UTF8 command itself is still offered.
    check(b"\r\nUTF8\r\n" in clear and b"UTF8 USER" not in clear,
          "192.0.2.9 in the clear: CAPA has UTF8 without USER: %r" % clear)
    check(clear.count(b"-ERR [AUTH] no login without TLS: send STLS "
                      b"first\r\n") == 2,
          "192.0.2.9 in the clear: USER and PASS refused with [AUTH]")
    check(b"\r\nUSER\r\nSASL PLAIN LOGIN\r\nUTF8 USER\r\n" in under and
          b"STLS" not in under and b"+OK maildrop has 4 messages" in under,
          "192.0.2.9 after STLS: CAPA lists logins, and login works: %r"
          % under[:400])
    sessions_ok(INETD_PROXY, 1, "PROXY 192.0.2.9 with STLS")
    cmd = b"AUTH PLAIN " + __import__("base64").b64encode(
        b"\0me\0" + PASSWORD.encode()) + b"\r\n"
    out = proxied(port, REMOTE, cmd + b"QUIT\r\n")
    check(out == b"+OK pop3d ready\r\n-ERR [AUTH] no login without TLS: "
          b"send STLS first\r\n+OK bye\r\n",
          "192.0.2.9 in the clear: AUTH PLAIN refused: %r" % out)
    sessions_ok(INETD_PROXY, 1, "PROXY 192.0.2.9, AUTH")
    for p, what, inetd in ((port_allow, "--allow-plaintext-auth",
                            INETD_ALLOW),
                           (port_off, "--tls=off", INETD_OFF)):
        out = proxied(p, REMOTE, b"CAPA\r\n" + login + b"QUIT\r\n")
        check(b"\r\nUSER\r\n" in out and b"+OK maildrop has 4" in out,
              "192.0.2.9 with %s: logs in without TLS: %r"
              % (what, out[-200:]))
        check((b"STLS" in out) == (what != "--tls=off"),
              "192.0.2.9 with %s: STLS offered as configured" % what)
        sessions_ok(inetd, 1, "PROXY 192.0.2.9, " + what)


V2_SIG = b"\r\n\r\n\x00\r\nQUIT\n"


def tlv(kind, value):
    """A PROXY v2 TLV: type, 16-bit length, value."""
    return struct.pack("!BH", kind, len(value)) + value


def ssl_tlv(client, subs=None):
    """PP2_TYPE_SSL: the client octet (PP2_CLIENT_SSL is 0x01), verify,
    and sub-TLVs, by default HAProxy's version and cipher."""
    if subs is None:
        subs = (tlv(0x21, b"TLSv1.3") +
                tlv(0x23, b"TLS_AES_256_GCM_SHA384"))
    return tlv(0x20, struct.pack("!BI", client, 0) + subs)


def v2_remote(tlvs):
    """A v2 PROXY header naming 192.0.2.9, with tlvs after the
    addresses, as HAProxy's send-proxy-v2-ssl sends it."""
    body = (socket.inet_aton("192.0.2.9") + socket.inet_aton("192.0.2.1") +
            struct.pack("!HH", 50000, 110) + tlvs)
    return V2_SIG + b"\x21\x11" + struct.pack("!H", len(body)) + body


def test_proxy_tls(port, port_untrusted, port_implicit):
    login = b"USER me\r\nPASS " + PASSWORD.encode() + b"\r\n"
    capa_login = b"CAPA\r\nSTLS\r\n" + login + b"STAT\r\nQUIT\r\n"
    # The client spoke TLS to the proxy: logins at once, no STLS.
    out = proxied(port, v2_remote(ssl_tlv(0x01)), capa_login)
    check(out.startswith(b"+OK pop3d ready\r\n+OK capability list follows"
                         b"\r\nTOP\r\nUIDL\r\nUSER\r\nSASL PLAIN LOGIN\r\n")
          and b"STLS" not in out,
          "192.0.2.9, TLS to the proxy: CAPA lists USER and SASL, no "
          "STLS: %r" % out[:300])
    check(b"\r\n.\r\n-ERR not supported\r\n+OK send PASS\r\n" in out,
          "192.0.2.9, TLS to the proxy: STLS is not supported, and the "
          "session goes on: %r" % out[-200:])
    check(b"\r\n+OK send PASS\r\n+OK maildrop has 4 messages" in out and
          b"\r\n+OK 4 " in out and b"-ERR [AUTH]" not in out and
          out.endswith(b"+OK bye, 0 messages deleted\r\n"),
          "192.0.2.9, TLS to the proxy: USER and PASS log in without "
          "STLS: %r" % out[-200:])
    sessions_ok(INETD_PROXY, 1, "PROXY 192.0.2.9 with the SSL TLV")
    # With a client certificate's bits, other TLVs around it, and
    # AUTH PLAIN instead of USER and PASS.
    cmd = b"AUTH PLAIN " + __import__("base64").b64encode(
        b"\0me\0" + PASSWORD.encode()) + b"\r\n"
    tlvs = (tlv(0x01, b"\x04pop3") + tlv(0x02, b"mail.example.org") +
            ssl_tlv(0x07, tlv(0x22, b"client cn") + tlv(0x21, b"TLSv1.2")) +
            tlv(0x05, b"\xff" * 128) + tlv(0x04, b""))
    out = proxied(port, v2_remote(tlvs), cmd + b"QUIT\r\n")
    check(out == b"+OK pop3d ready\r\n+OK maildrop has 4 messages (%d "
          b"octets)\r\n+OK bye, 0 messages deleted\r\n"
          % sum(len(crlf(m)) for m in MESSAGES.values()),
          "192.0.2.9, TLS to the proxy: AUTH PLAIN logs in: %r" % out)
    sessions_ok(INETD_PROXY, 1, "PROXY 192.0.2.9, SSL TLV, AUTH PLAIN")

    # The TLV without PP2_CLIENT_SSL (a client in the clear), or no TLV:
    # refused until STLS, as before.
    for what, tlvs in (("without PP2_CLIENT_SSL", ssl_tlv(0x00)),
                       ("with only certificate bits", ssl_tlv(0x06)),
                       ("without an SSL TLV", tlv(0x04, b"pad"))):
        out = proxied(port, v2_remote(tlvs), b"CAPA\r\n" + login +
                      b"QUIT\r\n")
        check(b"\r\nSTLS\r\n" in out and b"\r\nUSER\r\n" not in out and
              b"SASL" not in out and out.count(b"-ERR [AUTH] no login "
                                               b"without TLS") == 2 and
              b"maildrop" not in out,
              "192.0.2.9, a v2 header %s: no login before STLS: %r"
              % (what, out))
        sessions_ok(INETD_PROXY, 1, "PROXY 192.0.2.9 " + what)

    # A malformed TLV area: closed before the greeting (exit 1).
    for what, tlvs in (("a TLV past the header", ssl_tlv(0x01)[:-1]),
                       ("a cut TLV head", tlv(0x04, b"") + b"\x20\x00"),
                       ("a sub-TLV past its SSL TLV",
                        ssl_tlv(0x01, b"\x21\x00\x09TLSv1.3") +
                        tlv(0x04, b"")),
                       ("two SSL TLVs", ssl_tlv(0x00) + ssl_tlv(0x01)),
                       ("a version that is no text",
                        ssl_tlv(0x01, tlv(0x21, b"TLS\x00v1.3")))):
        out = proxied(port, v2_remote(tlvs), login + b"QUIT\r\n")
        check(out == b"", "a v2 header with %s: closed before the "
              "greeting: %r" % (what, out))
        sessions_ok(INETD_PROXY, 1, "PROXY, " + what, (1,))

    # From an address that is not --proxy-from, the header is no header:
    # its bytes are bad commands (three of them end the session), and
    # nobody logs in.
    out = proxied(port_untrusted, v2_remote(ssl_tlv(0x01)),
                  b"CAPA\r\n" + login + b"QUIT\r\n")
    check(out.startswith(b"+OK pop3d ready\r\n-ERR") and
          b"maildrop" not in out and b"USER" not in out,
          "the SSL TLV from an address not --proxy-from: no login: %r" % out)
    sessions_ok(INETD_UNTRUSTED, 1, "the SSL TLV, untrusted", (0, 1))

    # --tls=implicit and the TLV: pop3d's own TLS as ever (the proxy
    # re-encrypts to it); the header comes first, in the clear.
    s = socket.create_connection((HOST, port_implicit), timeout=30)
    try:
        s.sendall(v2_remote(ssl_tlv(0x01)))
        t = client_ctx().wrap_socket(s, server_hostname="localhost")
        t.sendall(b"CAPA\r\n" + login + b"QUIT\r\n")
        out = recv_all(t)
    finally:
        s.close()
    check(out.startswith(b"+OK pop3d ready\r\n") and
          b"\r\nUSER\r\n" in out and b"STLS" not in out and
          b"+OK maildrop has 4 messages" in out,
          "--tls=implicit with the SSL TLV: its own TLS, then logins: %r"
          % out[-200:])
    sessions_ok(INETD_IMPLICIT_PROXY, 1, "implicit TLS, SSL TLV")


def handshake_refused(port, ctx, what):
    s = socket.create_connection((HOST, port), timeout=30)
    try:
        t = ctx.wrap_socket(s, server_hostname="localhost")
        t.close()
        check(False, what + ": refused")
    except (ssl.SSLError, ConnectionError) as e:
        check(True, what)
        return str(e)
    finally:
        s.close()


def test_refused(port):
    # Old versions: a client that allows nothing newer.
    for ver in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
        ctx = client_ctx(minimum_version=ssl.TLSVersion.MINIMUM_SUPPORTED,
                         maximum_version=ver)
        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
        err = handshake_refused(port, ctx, "a %s client is refused" % ver)
        check(err is not None and ("PROTOCOL_VERSION" in err.upper() or
                                   "UNSUPPORTED" in err.upper()),
              "%s: the server's alert says protocol version: %s"
              % (ver, err))
        sessions_ok(INETD_IMPLICIT, 1, "%s client" % ver, (1,))
    rc, out, err = s_client(port, b"", "-tls1_1", "-cipher",
                            "DEFAULT:@SECLEVEL=0")
    check(rc != 0 and b"+OK" not in out,
          "s_client -tls1_1 is refused: %r" % err[-200:])
    sessions_ok(INETD_IMPLICIT, 1, "s_client -tls1_1", (1,))
    ctx = client_ctx()
    ctx.set_alpn_protocols(["http/1.1"])
    handshake_refused(port, ctx, "ALPN http/1.1 alone is refused")
    sessions_ok(INETD_IMPLICIT, 1, "ALPN http/1.1", (1,))
    ctx = client_ctx()
    ctx.set_alpn_protocols(["http/1.1", "pop3"])
    with socket.create_connection((HOST, port), timeout=30) as s:
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            check(t.selected_alpn_protocol() == "pop3", "ALPN pop3 chosen")
            check(recv_line(t) == b"+OK pop3d ready\r\n", "ALPN: greeting")
            t.sendall(b"QUIT\r\n")
            recv_line(t)
    sessions_ok(INETD_IMPLICIT, 1, "ALPN pop3")
    # Garbage, and a ClientHello cut short: no POP3, exit 1, at once.
    hello = client_hello()
    for what, data in (("plain POP3", b"USER me\r\nPASS passw0rd\r\n"),
                       ("HTTP", b"GET / HTTP/1.0\r\n\r\n"),
                       ("a cut ClientHello", hello[:len(hello) // 2]),
                       ("one byte", hello[:1])):
        start = time.monotonic()
        with socket.create_connection((HOST, port), timeout=30) as s:
            # pop3d refuses at the first bytes: it may close first.
            send_then_half_close(s, data)
            out = recv_all(s)
        check(b"+OK" not in out and b"-ERR" not in out,
              "%s instead of a handshake: no POP3 answer: %r" % (what, out))
        sessions_ok(INETD_IMPLICIT, 1, what, (1,))
        check(time.monotonic() - start < 10, what + ": ends at once")


# An OpenSSL configuration as lax as one can be written: pop3d's own
# policy must still hold under it.
LAX_CONF = """openssl_conf = init
[init]
ssl_conf = ssl
[ssl]
system_default = lax
[lax]
MinProtocol = TLSv1
CipherString = DEFAULT:@SECLEVEL=0
"""

# A configuration whose effect a client sees: TLS 1.2 at most.
TLS12_CONF = LAX_CONF.replace("MinProtocol = TLSv1", "MaxProtocol = TLSv1.2")


def test_config(top):
    """OpenSSL's configuration file is read only when OPENSSL_CONF names
    one, and cannot open what pop3d refuses: TLS 1.0 and 1.1 stay out."""
    tls = ["--tls-cert", CERTS["chain"], "--tls-key", CERTS["key"]]
    env = {}
    for name, text in (("lax", LAX_CONF), ("tls12", TLS12_CONF)):
        env[name] = dict(os.environ, OPENSSL_CONF=os.path.join(
            top, name + ".cnf"))
        with open(env[name]["OPENSSL_CONF"], "w") as f:
            f.write(text)
    servers = {name: Inetd(pop3d_argv(POP3D, *(ARGS + ["--tls=implicit"] +
                                               tls)), env=e)
               for name, e in env.items()}
    try:
        lax = servers["lax"]
        for ver in (ssl.TLSVersion.TLSv1, ssl.TLSVersion.TLSv1_1):
            ctx = client_ctx(minimum_version=ssl.TLSVersion.MINIMUM_SUPPORTED,
                             maximum_version=ver)
            ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
            err = handshake_refused(lax.port, ctx, "a lax OPENSSL_CONF: a "
                                    "%s client is refused" % ver)
            check(err is not None and ("PROTOCOL_VERSION" in err.upper() or
                                       "UNSUPPORTED" in err.upper()),
                  "a lax OPENSSL_CONF, %s: the alert says protocol "
                  "version: %s" % (ver, err))
            sessions_ok(lax, 1, "lax OPENSSL_CONF, %s client" % ver, (1,))
        with socket.create_connection((HOST, lax.port), timeout=30) as s:
            with client_ctx().wrap_socket(s, server_hostname="localhost") \
                    as t:
                check(t.version() == "TLSv1.3" and
                      recv_line(t) == b"+OK pop3d ready\r\n",
                      "a lax OPENSSL_CONF: a current client gets TLS 1.3")
                t.sendall(b"QUIT\r\n")
                recv_line(t)
        sessions_ok(lax, 1, "lax OPENSSL_CONF, current client")
        tls12 = servers["tls12"]
        with socket.create_connection((HOST, tls12.port), timeout=30) as s:
            with client_ctx().wrap_socket(s, server_hostname="localhost") \
                    as t:
                check(t.version() == "TLSv1.2" and
                      recv_line(t) == b"+OK pop3d ready\r\n",
                      "OPENSSL_CONF is read: its MaxProtocol TLSv1.2 holds "
                      "(%s)" % t.version())
                t.sendall(b"QUIT\r\n")
                recv_line(t)
        sessions_ok(tls12, 1, "OPENSSL_CONF with MaxProtocol TLSv1.2")
    finally:
        for s in servers.values():
            s.close()


def test_deadlines(port):
    """--idle-timeout 2: a silent, a stalled and an idle TLS client."""
    hello = client_hello()
    for what, data in (("a silent client", b""),
                       ("a stalled ClientHello", hello[:40])):
        start = time.monotonic()
        with socket.create_connection((HOST, port), timeout=30) as s:
            s.sendall(data)
            out = recv_all(s)
        took = time.monotonic() - start
        check(out == b"" and 1.5 < took < 10,
              "%s is cut off after the idle timeout: %.1f s" % (what, took))
        sessions_ok(INETD_SLOW, 1, what, (1,))
    start = time.monotonic()
    with socket.create_connection((HOST, port), timeout=30) as s:
        with client_ctx().wrap_socket(s, server_hostname="localhost") as t:
            check(recv_line(t) == b"+OK pop3d ready\r\n", "slow: greeting")
            out = recv_all(t)
    took = time.monotonic() - start
    check(out == b"" and 1.5 < took < 10,
          "an idle client under TLS is cut off without a reply: %.1f s"
          % took)
    sessions_ok(INETD_SLOW, 1, "idle under TLS", (1,))
    with socket.create_connection((HOST, port), timeout=30) as s:
        with client_ctx().wrap_socket(s, server_hostname="localhost") as t:
            recv_line(t)
            t.sendall(b"X\r\nY\r\nZ\r\n")
            out = recv_all(t)
    check(out.endswith(b"-ERR too many bad commands, closing\r\n") and
          out.count(b"-ERR") == 3,
          "the bad-command budget holds under TLS: %r" % out)
    sessions_ok(INETD_SLOW, 1, "bad commands under TLS", (1,))


def main():
    global ARGS, CERTS, INETD_IMPLICIT, INETD_PROXY, INETD_ALLOW, INETD_OFF
    global INETD_SLOW, INETD_UNTRUSTED, INETD_IMPLICIT_PROXY
    for tool in ("openssl", "curl"):
        if shutil.which(tool) is None:
            skip("%s not found" % tool)
    # Under valgrind every pop3d runs some ten times slower.
    signal.alarm(1500 if wrapped() else 300)
    # TLS 1.0 and 1.1 clients are what the test is for.
    warnings.simplefilter("ignore", DeprecationWarning)
    top = tempfile.mkdtemp(prefix="pop3d-tls.")
    servers = []
    try:
        os.makedirs(os.path.join(top, "certs"))
        CERTS = make_certs(os.path.join(top, "certs"))
        CERTS["dir"] = os.path.join(top, "certs")
        box = os.path.join(top, "mail", "me")
        os.makedirs(box)
        for name, data in MESSAGES.items():
            with open(os.path.join(box, name), "wb") as f:
                f.write(data)
        ARGS = ["--users", USERS, "--mail-root", os.path.join(top, "mail"),
                "--ban-file", os.path.join(top, "failures")]
        tls = ["--tls-cert", CERTS["chain"], "--tls-key", CERTS["key"]]
        test_startup(top)
        test_loading(top)
        test_preloaded()

        def serve(*extra):
            s = Inetd(pop3d_argv(POP3D, *(ARGS + list(extra))))
            servers.append(s)
            return s
        INETD_IMPLICIT = serve("--tls=implicit", *tls)
        starttls = serve(*tls)
        INETD_PROXY = serve(*tls, "--proxy-from", "127.0.0.1")
        INETD_ALLOW = serve(*tls, "--proxy-from", "127.0.0.1",
                            "--allow-plaintext-auth")
        INETD_OFF = serve("--tls=off", *tls, "--proxy-from", "127.0.0.1")
        INETD_SLOW = serve("--tls=implicit", *tls, "--idle-timeout", "2")
        INETD_UNTRUSTED = serve(*tls, "--proxy-from", "127.0.0.9")
        INETD_IMPLICIT_PROXY = serve("--tls=implicit", *tls, "--proxy-from",
                                     "127.0.0.1")

        test_implicit(INETD_IMPLICIT.port)
        sessions_ok(INETD_IMPLICIT, 5, "implicit TLS clients")
        test_lockstep(INETD_IMPLICIT.port)
        sessions_ok(INETD_IMPLICIT, 1, "lock-step client")
        test_starttls(starttls.port)
        sessions_ok(starttls, 3, "STLS clients")
        test_injection(starttls.port)
        sessions_ok(starttls, 2, "injection")
        test_not_local(INETD_PROXY.port, INETD_ALLOW.port, INETD_OFF.port)
        test_proxy_tls(INETD_PROXY.port, INETD_UNTRUSTED.port,
                       INETD_IMPLICIT_PROXY.port)
        test_refused(INETD_IMPLICIT.port)
        test_config(top)
        test_deadlines(INETD_SLOW.port)
    finally:
        for s in servers:
            s.close()
        shutil.rmtree(top, ignore_errors=True)
    sys.exit(finish())


if __name__ == "__main__":
    main()
