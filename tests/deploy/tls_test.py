#!/usr/bin/env python3
"""pop3d's TLS as a new user would try it: real clients, the shipped
xinetd entries, a sniffer, and a client that is not on loopback.

usage: tls_test.py POP3D POP3D_PASSWD XINETD_ENTRY XINETD_TLS_ENTRY

In private mount and network namespaces (root), xinetd runs the shipped
pop3s entry ("SSL/TLS on 995") and the shipped pop3d entry with a
certificate added ("STARTTLS on 110"), each on a loopback port, and the
latter again on 192.0.2.1, an address of a veth interface (a documentation
address: no loopback, as a client on the network has).  The certificate
chain is made with openssl at the start; clients trust only its root.

- Through a relay that records every byte both ways (what a sniffer on
  loopback sees), openssl s_client, curl, fetchmail (--ssl, --ssl with
  --sslproto TLS1.3+, --sslproto TLS1.2+ for STLS) and mpop (tls on with
  tls_starttls off and on) fetch the mailbox byte-exact; the recording
  holds no password, in any encoding, and no message.  The same relay
  does see the password of a plain USER/PASS login (so it could fail).
- From 192.0.2.1, CAPA lists neither USER nor SASL before STLS, USER and
  AUTH are refused with [AUTH], and curl, mpop and fetchmail without
  TLS fail without sending the password; after STLS they log in.
- The log: each handshake with its mode, version and cipher; a refused
  TLS 1.1 client, with its address; the refused logins; dropped bytes
  after STLS; a missing key at startup (exit 100).
- Where the kernel has Landlock and strace is there: a whole TLS session
  opens no file once it is confined (OpenSSL loads nothing lazily).
Needs root, xinetd, openssl, curl, fetchmail, mpop and ip; skipped (77)
otherwise.
"""
import base64
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from deploylib import (Syslog, add_user, bound, delivered, free_port,  # noqa
                       lf, on_disk, private_dev, reexec_private, tempdir,
                       xinetd_service)
from pop3dtest import check, crlf, finish, make_certs, skip  # noqa: E402

POP3D, PASSWD, ENTRY, TLS_ENTRY = (os.path.abspath(p)
                                   for p in sys.argv[1:5])
USER = "me"
PASSWORD = "tls pa55 w\u00f6rd"     # PASS takes the rest of the line
REMOTE = "192.0.2.1"                # on veth0: not loopback
MESSAGES = {"1.eml": b"Subject: one\n\nsecret body one\n.dot\n",
            "2.eml": b"Subject: two\r\n\r\nsecret body two\r\n",
            "3.eml": b"Subject: three\n\n" + b"secret line\n" * 3000}


def secrets():
    """Every form the password takes on the wire in the clear."""
    pw = PASSWORD.encode()
    forms = [pw, base64.b64encode(pw)]
    for plain in (b"\0" + USER.encode() + b"\0" + pw,
                  USER.encode() + b"\0" + USER.encode() + b"\0" + pw):
        forms.append(base64.b64encode(plain))
    return forms


class Relay:
    """A TCP relay from a free port on host to (host, port) that records
    every byte both ways: what a sniffer on the path sees."""

    def __init__(self, host, port):
        self.target = (host, port)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.conns = []         # [bytearray to server, bytearray back]
        threading.Thread(target=self.accept, daemon=True).start()

    def accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            s = socket.create_connection(self.target, timeout=60)
            rec = [bytearray(), bytearray()]
            with self.lock:
                self.conns.append(rec)
            for a, b, buf in ((c, s, rec[0]), (s, c, rec[1])):
                threading.Thread(target=self.pump, args=(a, b, buf),
                                 daemon=True).start()

    def pump(self, a, b, buf):
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                with self.lock:
                    buf.extend(data)
                b.sendall(data)
        except OSError:
            pass
        try:
            b.shutdown(socket.SHUT_WR)
        except OSError:
            pass

    def taken(self):
        """The recordings so far, and forget them."""
        time.sleep(0.3)     # let the pumps finish
        with self.lock:
            out, self.conns = self.conns, []
        return out


def clean(recs, what):
    """No password in any form, and no message body, in the recordings."""
    leaks = [f for r in recs for d in r for f in secrets() if f in d]
    bodies = [r for r in recs for d in r if b"secret body" in d or
              b"secret line" in d]
    check(recs and not leaks and not bodies,
          "%s: the sniffer sees no password and no message (%d "
          "connections)" % (what, len(recs)), (leaks[:1], len(bodies)))


def s_client(port, script, *extra, host="127.0.0.1"):
    return subprocess.run(
        ["openssl", "s_client", "-quiet", "-connect", "%s:%d" % (host, port),
         "-verify_return_error", "-CAfile", CERTS["root"],
         "-verify_hostname", "localhost"] + list(extra),
        input=script, capture_output=True, timeout=60)


def retr_ok(out, name):
    msg = crlf(MESSAGES[name])
    body = b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n"
                    for l in msg.split(b"\r\n")[:-1])
    return b"+OK %d octets\r\n" % len(msg) + body + b".\r\n" in out


def test_s_client(implicit, stls):
    script = (b"USER %s\r\nPASS %s\r\nRETR 1\r\nRETR 3\r\nQUIT\r\n"
              % (USER.encode(), PASSWORD.encode()))
    for port, extra, what in ((implicit.port, [], "implicit"),
                              (stls.port, ["-starttls", "pop3"], "STLS")):
        r = s_client(port, script, *extra)
        check(r.returncode == 0 and retr_ok(r.stdout, "1.eml") and
              retr_ok(r.stdout, "3.eml"),
              "s_client %s: RETR 1 and 3 byte-exact" % what,
              (r.stdout[:300], r.stderr[-300:]))
    clean(implicit.taken() + stls.taken(), "s_client")


def test_curl(implicit, stls):
    base = ["curl", "-sS", "--max-time", "30", "--cacert", CERTS["root"],
            "--user", "%s:%s" % (USER, PASSWORD)]
    for url, extra, what in (
            ("pop3s://127.0.0.1:%d/" % implicit.port, [], "pop3s://"),
            ("pop3://127.0.0.1:%d/" % stls.port, ["--ssl-reqd"],
             "--ssl-reqd pop3://")):
        r = subprocess.run(base + extra + [url + "2"], capture_output=True,
                           timeout=60)
        check(r.returncode == 0 and r.stdout == crlf(MESSAGES["2.eml"]),
              "curl %s: RETR 2 byte-exact" % what, (r.returncode, r.stderr))
    clean(implicit.taken() + stls.taken(), "curl")


def fetchmail(top, port, name, options, host="127.0.0.1"):
    home = os.path.join(top, "fm-" + name)
    out = os.path.join(home, "out")
    os.makedirs(out)
    rc = os.path.join(home, ".fetchmailrc")
    pw = PASSWORD.replace("\\", "\\\\").replace('"', '\\"')
    with open(rc, "w") as f:
        f.write('set no syslog\n'
                'poll %s protocol pop3 port %d timeout 30\n'
                '  user "%s" there with password "%s" is "root" here\n'
                '  options fetchall keep sslcertck sslcertfile %s '
                'sslcommonname localhost %s\n'
                '  mda "sh -c \'cat > %s/m.$$\'"\n'
                % (host, port, USER, pw, CERTS["root"], options, out))
    os.chmod(rc, 0o600)
    r = subprocess.run(["fetchmail", "-f", rc, "-v", "--invisible",
                        "--norewrite",
                        "-i", os.path.join(home, "ids"),
                        "--pidfile", os.path.join(home, "pid")],
                       env=dict(os.environ, HOME=home), capture_output=True,
                       timeout=90)
    return r, out


def test_fetchmail(top, implicit, stls):
    want = sorted(lf(m) for m in MESSAGES.values())
    for name, relay, options, sign in (
            ("ssl", implicit, "ssl", b"TLSv1.3"),
            ("ssl-tls13", implicit, "ssl sslproto TLS1.3+", b"TLSv1.3"),
            ("ssl-tls12", implicit, "ssl sslproto TLS1.2", b"TLSv1.2"),
            ("stls", stls, "sslproto TLS1.2+", b"POP3> STLS")):
        r, out = fetchmail(top, relay.port, name, options)
        text = r.stdout + r.stderr
        check(r.returncode == 0 and delivered(out) == want and sign in text,
              "fetchmail %s: every message, byte-exact" % options,
              (r.returncode, sign in text, delivered(out)[:1], want[:1]))
    clean(implicit.taken() + stls.taken(), "fetchmail")


def mpop(top, port, name, starttls, auth="", host="127.0.0.1", tls="on"):
    home = os.path.join(top, "mp-" + name)
    md = os.path.join(home, "md")
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(md, sub))
    rc = os.path.join(home, ".mpoprc")
    with open(rc, "w") as f:
        f.write("defaults\ntls %s\ntls_starttls %s\ntls_trust_file %s\n"
                "received_header off\ntimeout 30\n%s"
                "account test\nhost %s\nport %d\nuser %s\n"
                "password \"%s\"\nkeep on\nuidls_file %s/uidls\n"
                "delivery maildir %s\n"
                % (tls, "on" if starttls else "off", CERTS["root"],
                   "auth %s\n" % auth if auth else "", host, port, USER,
                   PASSWORD, home, md))
    os.chmod(rc, 0o600)
    r = subprocess.run(["mpop", "-C", rc, "-a"], capture_output=True,
                       env=dict(os.environ, HOME=home), timeout=60)
    return r, md


def test_mpop(top, implicit, stls):
    want = sorted(lf(m) for m in MESSAGES.values())
    for name, relay, starttls, auth in (
            ("implicit", implicit, False, ""),
            ("stls", stls, True, ""),
            ("stls-user", stls, True, "user")):
        r, md = mpop(top, relay.port, name, starttls, auth)
        check(r.returncode == 0 and delivered(md) == want,
              "mpop tls on, tls_starttls %s%s: every message, byte-exact"
              % ("on" if starttls else "off", ", auth user" if auth else ""),
              (r.returncode, len(delivered(md)), r.stderr[-300:]))
    clean(implicit.taken() + stls.taken(), "mpop")


def test_sniffer_sees_clear_text(stls):
    """The control: a plain login from loopback (allowed there) is in
    the recording, so a clean recording means something."""
    with socket.create_connection(("127.0.0.1", stls.port), timeout=30) as s:
        s.sendall(b"USER %s\r\nPASS %s\r\nQUIT\r\n"
                  % (USER.encode(), PASSWORD.encode()))
        while s.recv(4096):
            pass
    recs = stls.taken()
    check(any(PASSWORD.encode() in d for r in recs for d in r),
          "the sniffer does see a password sent in the clear")


def talk(sock, lines):
    """Sends each line and reads its one-line answer (CAPA: to '.')."""
    out = []
    f = sock.makefile("rb")
    out.append(f.readline())
    for line in lines:
        sock.sendall(line + b"\r\n")
        ans = f.readline()
        if line == b"CAPA" and ans.startswith(b"+OK"):
            while not ans.endswith(b"\r\n.\r\n"):
                ans += f.readline()
        out.append(ans)
    return out


def test_not_local(top, port, relay):
    """A client on 192.0.2.1 (veth0), to pop3d listening there."""
    auth = b"AUTH PLAIN " + base64.b64encode(
        b"\0" + USER.encode() + b"\0" + PASSWORD.encode())
    with socket.create_connection((REMOTE, port), timeout=30) as s:
        check(s.getsockname()[0] == REMOTE, "the client's address is "
              + REMOTE, s.getsockname())
        out = talk(s, [b"CAPA", b"USER " + USER.encode(), auth])
        capa = out[1]
        check(b"\r\nSTLS\r\n" in capa and b"\r\nUSER\r\n" not in capa and
              b"SASL" not in capa,
              "from %s: CAPA lists STLS, neither USER nor SASL" % REMOTE,
              capa)
        check(out[2:] == [b"-ERR [AUTH] no login without TLS: send STLS "
                          b"first\r\n"] * 2,
              "from %s: USER and AUTH refused with [AUTH]" % REMOTE, out[2:])
    # Clients that go by CAPA give up without sending the password.
    r = subprocess.run(["curl", "-sS", "--max-time", "30", "--user",
                        "%s:%s" % (USER, PASSWORD),
                        "pop3://%s:%d/1" % (REMOTE, relay.port)],
                       capture_output=True, timeout=60)
    check(r.returncode != 0, "curl without TLS from %s fails" % REMOTE,
          (r.returncode, r.stderr))
    r, md = mpop(top, relay.port, "remote-plain", False, host=REMOTE,
                 tls="off")
    check(r.returncode != 0 and delivered(md) == [],
          "mpop tls off from %s fails" % REMOTE, (r.returncode, r.stderr))
    r, out = fetchmail(top, relay.port, "remote-plain", "sslproto ''",
                       host=REMOTE)
    check(r.returncode != 0 and delivered(out) == [] and
          b"no login without TLS" in r.stdout + r.stderr,
          "fetchmail sslproto '' from %s is refused" % REMOTE,
          (r.returncode, r.stdout[-300:]))
    clean(relay.taken(), "clients without TLS from " + REMOTE)
    r, out = fetchmail(top, relay.port, "remote-stls", "sslproto TLS1.2+",
                       host=REMOTE)
    check(r.returncode == 0 and delivered(out) == sorted(
        lf(m) for m in MESSAGES.values()),
        "fetchmail sslproto TLS1.2+ from %s: every message" % REMOTE,
        (r.returncode, r.stdout[-300:]))
    # After STLS the same clients log in.
    r = subprocess.run(["curl", "-sS", "--max-time", "30", "--ssl-reqd",
                        "--cacert", CERTS["root"], "--user",
                        "%s:%s" % (USER, PASSWORD),
                        "pop3://%s:%d/1" % (REMOTE, relay.port)],
                       capture_output=True, timeout=60)
    check(r.returncode == 0 and r.stdout == crlf(MESSAGES["1.eml"]),
          "curl --ssl-reqd from %s: RETR 1 byte-exact" % REMOTE,
          (r.returncode, r.stderr))
    r, md = mpop(top, relay.port, "remote-stls", True, host=REMOTE)
    check(r.returncode == 0 and
          delivered(md) == sorted(lf(m) for m in MESSAGES.values()),
          "mpop tls_starttls on from %s: every message" % REMOTE,
          (r.returncode, r.stderr[-300:]))
    clean(relay.taken(), "clients with STLS from " + REMOTE)
    # A TLS 1.1 client, from there: refused, and logged with its address.
    r = s_client(port, b"", "-starttls", "pop3", "-tls1_1", "-cipher",
                 "DEFAULT:@SECLEVEL=0", host=REMOTE)
    check(r.returncode != 0 and b"+OK maildrop" not in r.stdout,
          "a TLS 1.1 client is refused", r.stderr[-300:])


def test_injection(port):
    with socket.create_connection(("127.0.0.1", port), timeout=30) as s:
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"STLS\r\nUSER x\r\n")
        check(f.readline() == b"+OK begin TLS negotiation\r\n",
              "injection: STLS answered")
        ctx = ssl.create_default_context(cafile=CERTS["root"])
        with ctx.wrap_socket(s, server_hostname="localhost") as t:
            t.sendall(b"PASS x\r\nQUIT\r\n")
            got = t.makefile("rb").readline()
            check(got == b"-ERR USER first\r\n",
                  "injection: USER x was never run", got)


def test_logs(log, since):
    lines = [l for l in log.snapshot()[since:] if b" pop3d[" in l]
    tag = rb" pop3d\[(\d+)\]: session=\1@"
    for what, rx in (
            ("a handshake with its mode, version, cipher and who "
             "encrypts what is sent",
             tag + rb"127\.0\.0\.1 tls result=ok mode=implicit "
             rb"version=TLSv1\.3 cipher=TLS_\S+ send=(openssl|ktls)$"),
            ("an STLS handshake",
             tag + rb"127\.0\.0\.1 tls result=ok mode=starttls "
             rb"version=TLSv1\.[23] cipher=\S+ send=(openssl|ktls)$"),
            ("TLS 1.2 (fetchmail --sslproto TLS1.2)",
             tag + rb"127\.0\.0\.1 tls result=ok mode=implicit "
             rb"version=TLSv1\.2 "),
            ("a login after STLS from " + REMOTE,
             tag + re.escape(REMOTE.encode()) +
             rb" login user=me result=ok "),
            ("a refused login, with the client",
             tag + re.escape(REMOTE.encode()) +
             rb" login result=refused reason=no-tls$"),
            ("a refused TLS 1.1 handshake, with the client",
             tag + re.escape(REMOTE.encode()) +
             rb" tls result=fail mode=starttls error=\"unsupported "
             rb"protocol\"$"),
            ("bytes dropped after STLS",
             tag + rb"127\.0\.0\.1 stls result=dropped octets=8 "
             rb"reason=sent-before-tls$")):
        check(any(re.search(rx, l) for l in lines), "logged: " + what,
              [l for l in lines if b" tls " in l][-4:])
    check(not any(re.search(rb"login user=\S+ result=deny", l)
                  for l in lines),
          "no refused login looks like a wrong password (fail2ban)")


def test_startup_error(log, top):
    since = len(log.snapshot())
    missing = os.path.join(top, "nowhere", "tls.key")
    r = subprocess.run([POP3D, "--tls=implicit", "--tls-cert",
                        CERTS["chain"], "--tls-key", missing],
                       input=b"\x16\x03\x01", capture_output=True,
                       timeout=30)
    check(r.returncode == 100 and r.stdout == b"" and r.stderr == b"",
          "a missing key: exit 100, nothing to the client",
          (r.returncode, r.stdout, r.stderr))
    line = log.wait_for(rb"startup result=fail tls=implicit error=\"cannot "
                        rb"open " + re.escape(missing.encode()) +
                        rb": No such file or directory\"", since=since)
    check(line is not None, "a missing key is logged as such",
          log.snapshot()[since:])


def test_no_open_once_confined(top):
    """strace: after landlock_restrict_self, no open of any file."""
    lsm = ""
    try:
        lsm = open("/sys/kernel/security/lsm").read()
    except OSError:
        pass
    if "landlock" not in lsm or shutil.which("strace") is None:
        print("# no Landlock or strace: confinement under TLS not traced")
        return
    trace = os.path.join(top, "strace.txt")
    a, b = socket.socketpair()
    p = subprocess.Popen(
        ["strace", "-f", "-qq", "-o", trace, "-e",
         "trace=open,openat,openat2,landlock_restrict_self", POP3D,
         "--users", os.path.join(top, "users"), "--mail-root",
         os.path.join(top, "mail"), "--ban-file",
         os.path.join(top, "failures"), "--tls=implicit", "--tls-cert",
         CERTS["chain"], "--tls-key", CERTS["key"]],
        stdin=b.fileno(), stdout=b.fileno())
    b.close()
    ctx = ssl.create_default_context(cafile=CERTS["root"])
    a.settimeout(30)
    data = b""
    with ctx.wrap_socket(a, server_hostname="localhost") as t:
        t.sendall(b"USER %s\r\nPASS %s\r\nRETR 2\r\nQUIT\r\n"
                  % (USER.encode(), PASSWORD.encode()))
        while True:
            got = t.recv(65536)
            if not got:
                break
            data += got
    p.wait(timeout=30)
    text = open(trace).read()
    after = text.split("landlock_restrict_self", 1)
    check(len(after) == 2, "the TLS session confined itself", text[-300:])
    # The mailbox's files are opened relative to its folder's fd; what a
    # library loads, it loads by path.
    opens = [l for l in after[-1].splitlines()
             if re.search(r"\bopen\(|\bopenat2?\(AT_FDCWD", l)]
    check(retr_ok(data, "2.eml") and p.returncode == 0,
          "the confined TLS session serves RETR", data[:200])
    check(opens == [], "no file is opened by path once confined",
          opens[:5])


def main():
    for tool in ("xinetd", "openssl", "curl", "fetchmail", "mpop", "ip"):
        if shutil.which(tool) is None:
            skip(tool + " not found (scripts/install-deps installs it)")
    reexec_private("POP3D_DEPLOY_NS", net=True)
    bound(170)
    private_dev()
    subprocess.run(["ip", "link", "set", "lo", "up"], check=True)
    # A non-loopback interface for the client on the network: a veth pair
    # (a dummy interface where veth is missing; lo as the last resort).
    for cmd in (["link", "add", "veth0", "type", "veth", "peer", "name",
                 "veth1"], ["link", "add", "veth0", "type", "dummy"]):
        if subprocess.run(["ip"] + cmd, capture_output=True).returncode == 0:
            break
    dev = "veth0" if subprocess.run(["ip", "link", "show", "veth0"],
                                    capture_output=True).returncode == 0 \
        else "lo"
    print("# %s is on %s" % (REMOTE, dev))
    for cmd in (["link", "set", dev, "up"],
                ["addr", "add", REMOTE + "/24", "dev", dev]):
        subprocess.run(["ip"] + cmd, check=True)
    if dev == "veth0":
        subprocess.run(["ip", "link", "set", "veth1", "up"], check=True)
    log = Syslog()
    top = tempdir("pop3d-tls.")
    xinetd = None
    relays = []
    global CERTS
    try:
        os.makedirs(os.path.join(top, "certs"))
        CERTS = make_certs(os.path.join(top, "certs"),
                           ips=("127.0.0.1", REMOTE))
        add_user(PASSWD, os.path.join(top, "users"), USER, PASSWORD)
        box = os.path.join(top, "mail", USER)
        os.makedirs(box)
        for name, data in MESSAGES.items():
            with open(os.path.join(box, name), "wb") as f:
                f.write(data)
        args = "--users %s --mail-root %s --ban-file %s" % (
            os.path.join(top, "users"), os.path.join(top, "mail"),
            os.path.join(top, "failures"))
        cert = "--tls-cert %s --tls-key %s" % (CERTS["chain"], CERTS["key"])
        ports = {k: free_port(h) for k, h in (
            ("pop3s", "127.0.0.1"), ("pop3", "127.0.0.1"),
            ("remote", REMOTE))}
        # The shipped entries, with their paths, ports and user replaced.
        shipped = open(TLS_ENTRY).read()
        m = re.search(r"server_args\s*=\s*(.*)", shipped)
        check(m and "--tls=implicit" in m.group(1) and
              "--tls-cert" in m.group(1),
              "the shipped pop3s entry starts pop3d --tls=implicit")
        conf = os.path.join(top, "xinetd.conf")
        with open(conf, "w") as f:
            f.write("defaults\n{\n\tinstances = 60\n}\n\n")
            common = dict(disable="no", user="root", group="root",
                          server=POP3D)
            if os.environ.get("POP3D_SANITIZED") == "1":
                common["rlimit_as"] = "UNLIMITED"
            f.write(xinetd_service(
                TLS_ENTRY, port=str(ports["pop3s"]), bind="127.0.0.1",
                server_args=args + " --tls=implicit " + cert, **common))
            for name, host in (("pop3", "127.0.0.1"), ("remote", REMOTE)):
                svc = xinetd_service(
                    ENTRY, port=str(ports[name]), bind=host,
                    server_args=args + " " + cert, **common)
                f.write(svc.replace("service pop3d", "service pop3d-" + name,
                                    1))
        xinetd = subprocess.Popen(
            ["xinetd", "-dontfork", "-f", conf, "-pidfile",
             os.path.join(top, "xinetd.pid")], stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL, start_new_session=True)
        for name, host in (("pop3s", "127.0.0.1"), ("pop3", "127.0.0.1"),
                           ("remote", REMOTE)):
            deadline = time.monotonic() + 10
            while time.monotonic() < deadline:
                try:
                    socket.create_connection((host, ports[name]),
                                             timeout=2).close()
                    break
                except OSError:
                    time.sleep(0.05)
        implicit = Relay("127.0.0.1", ports["pop3s"])
        stls = Relay("127.0.0.1", ports["pop3"])
        remote = Relay(REMOTE, ports["remote"])
        relays = [implicit, stls, remote]
        since = len(log.snapshot())
        for t, targs in ((test_s_client, (implicit, stls)),
                         (test_curl, (implicit, stls)),
                         (test_fetchmail, (top, implicit, stls)),
                         (test_mpop, (top, implicit, stls)),
                         (test_sniffer_sees_clear_text, (stls,)),
                         (test_not_local, (top, ports["remote"], remote)),
                         (test_injection, (ports["pop3"],))):
            try:
                t(*targs)
            except Exception as e:      # one client's trouble, not all
                check(False, t.__name__, repr(e))
        check(on_disk(box) == sorted(MESSAGES),
              "every client kept the mail (keep)", on_disk(box))
        time.sleep(0.5)
        test_logs(log, since)
        test_startup_error(log, top)
        test_no_open_once_confined(top)
    finally:
        if xinetd is not None:
            os.killpg(xinetd.pid, 15)
            xinetd.wait(timeout=10)
        for r in relays:
            r.sock.close()
        log.close()
        shutil.rmtree(top, ignore_errors=True)
    sys.exit(finish())


if __name__ == "__main__":
    main()
