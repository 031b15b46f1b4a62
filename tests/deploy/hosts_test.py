#!/usr/bin/env python3
"""Two pop3d hosts behind nginx's mail proxy (docs/many-hosts.md).

usage: hosts_test.py POP3D POP3D_PASSWD POP3D_XINETD CONTRIB_NGINX

Two "hosts": pop3d under xinetd on 127.0.0.2 and on 127.0.0.3, each with
its own users file, mail root and ban file, with --proxy-from 127.0.0.1
--tls=off and xinetd's only_from 127.0.0.1, as docs/many-hosts.md says.
In front, a private nginx (its own prefix, configuration, pid and log
files in the test's folder; it dies with the test) runs the shipped
pop3d-mail.conf and pop3d-auth.conf with the maps pop3d-routes renders
from a routes file.  Clients on 198.51.100.x (a network namespace of the
test's own), 2001:db8::2 and 127.0.0.1: poplib, curl, fetchmail and mpop,
in the clear, with STLS and with implicit TLS.

Checked: each user reaches the mailbox on their own host (a namesake on
the other host is never seen), deletes land there, pop3d logs the
client's address from nginx's PROXY header, a wrong password is refused
and counted against that address on the user's host only (an IPv6
client against its /64), pop3d's [LOGIN-DELAY] reaches the client (for a
user the routes leave to the default host), names with odd bytes route,
a port with "starttls only" takes no clear login, a direct connection to
a host from anywhere but nginx gets nothing, five sessions at once reach
one host, the move procedure for a Maildir (lock held: [IN-USE]; copy;
route; reload; release) keeps the UIDLs so mpop downloads nothing again, a reload keeps a session in
progress, a stopped host's users get -ERR at once while the other
host's carry on, a host that accepts and never answers gives -ERR after
nginx's timeout (3 s on a port of the test's), and a host marked down
gets [SYS/TEMP].

Needs root (namespaces, a /dev/log of its own), nginx with its mail
module, xinetd, openssl, curl, fetchmail, mpop, flock and ip; else
skipped (77).
"""
import base64
import os
import poplib
import re
import shutil
import socket
import ssl
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from deploylib import (Activator, Syslog, add_user, bound, delivered,  # noqa
                       die_with_parent, free_port, lf, nginx_route, on_disk,
                       private_dev, read_to_end, reexec_private, tempdir)
from pop3dtest import check, crlf, finish, make_certs, skip  # noqa: E402

POP3D, PASSWD, XINETD_ENTRY, CONTRIB = (os.path.abspath(p)
                                        for p in sys.argv[1:5])
ROUTES_CMD = os.path.join(CONTRIB, "pop3d-routes")
MAIL_MODULE = "/usr/lib/nginx/modules/ngx_mail_module.so"
NGINX = "127.0.0.1"
NGINX6 = "2001:db8::1"      # where IPv6 clients reach nginx
HOSTILE = 'q";}include%x;{$y\\\''    # nginx's USER takes no space
SPACED = "t\tab sp%ce\x7f"               # AUTH PLAIN only

# name: (host, password, messages); "al" also lives on b, unrouted.
USERS = {
    "al": ("a", "al's pass", {
        "1.eml": b"Subject: al on a\n\nfrom a\n",
        "2.eml": b"Subject: al's second\n\nto delete\n"}),
    "john smith": ("a", "js pass", {"1.eml": b"Subject: js\n\nspaced\n"}),
    "mover": ("a", "mover pass", {      # a Maildir
        "cur/1500000000.M1P2.old:2,S": b"Subject: m1\n\nfirst\n",
        "new/1600000000.M3P4.new": b"Subject: m2\n\nsecond\n",
        "tmp/.keep": b""}),
    "bo": ("b", "bo's pass", {"1.eml": b"Subject: bo on b\n\nfrom b\n"}),
    "o'brien": ("b", "ob pass", {"1.eml": b"Subject: ob\n\nirish\n"}),
    "jos\u00e9": ("b", "jose pass", {"1.eml": b"Subject: j\n\nutf8\n"}),
    HOSTILE: ("b", "hostile pass", {"1.eml": b"Subject: h\n\nodd\n"}),
    SPACED: ("b", "spaced pass", {"1.eml": b"Subject: s\n\ntab\n"}),
}
NAMESAKE = {"1.eml": b"Subject: al on b\n\nthe wrong host\n"}


class Host(Activator):
    """pop3d under xinetd on addr, reachable from nginx only."""

    def __init__(self, top, name, addr):
        self.dir = os.path.join(top, name)
        os.makedirs(os.path.join(self.dir, "mail"))
        self.users = os.path.join(self.dir, "users")
        self.mail = os.path.join(self.dir, "mail")
        self.ban = os.path.join(self.dir, "failures")
        super().__init__("xinetd", POP3D, [
            "--users", self.users, "--mail-root", self.mail,
            "--ban-file", self.ban, "--ban-after", "2",
            "--proxy-from", NGINX, "--tls=off"], self.dir, XINETD_ENTRY,
            host=addr, hello=b"PROXY UNKNOWN\r\n",
            xinetd_over={"only_from": NGINX, "per_source": "30"})

    def add(self, name, password, messages, options=()):
        add_user(PASSWD, self.users, name, password, options)
        folder = os.path.join(self.mail, name)
        os.makedirs(folder)
        for file, data in messages.items():
            path = os.path.join(folder, file)
            os.makedirs(os.path.dirname(path), exist_ok=True)
            with open(path, "wb") as f:
                f.write(data)


class Nginx:
    """A private nginx: the shipped pop3d-mail.conf and pop3d-auth.conf
    with the test's ports and certificate, the maps from pop3d-routes."""

    def __init__(self, top, certs):
        self.dir = os.path.join(top, "nginx")
        os.makedirs(os.path.join(self.dir, "conf.d"))
        self.conf = os.path.join(self.dir, "nginx.conf")
        self.error_log = os.path.join(self.dir, "error.log")
        self.routes = os.path.join(top, "routes")
        self.rendered = os.path.join(self.dir, "conf.d", "pop3d-routes.conf")
        self.ports = {k: free_port() for k in ("auth", "clear", "stls",
                                               "tls", "short")}
        auth = shipped("pop3d-auth.conf", [
            ("listen 127.0.0.1:9143;", "listen 127.0.0.1:%d;"
             % self.ports["auth"])])
        mail = shipped("pop3d-mail.conf", [
            ("auth_http 127.0.0.1:9143/", "auth_http 127.0.0.1:%d/"
             % self.ports["auth"]),
            ("/etc/nginx/pop3.crt;", certs["chain"] + ";"),
            ("/etc/nginx/pop3.key;", certs["key"] + ";"),
            # Beside the STLS port, one in the clear, STLS not required,
            # and one with a short timeout, for a host that never answers.
            ("\tserver {\n\t\tlisten 110;",
             "\tserver {\n\t\tlisten %s:%d;\n\t\tlisten [%s]:%d;\n"
             "\t\tprotocol pop3;\n\t\tstarttls on;\n\t}\n\n"
             "\tserver {\n\t\tlisten %s:%d;\n\t\tprotocol pop3;\n"
             "\t\tstarttls on;\n\t\ttimeout 3s;\n\t}\n\n"
             "\tserver {\n\t\tlisten %s:%d;"
             % (NGINX, self.ports["clear"], NGINX6, self.ports["clear"],
                NGINX, self.ports["short"], NGINX, self.ports["stls"])),
            ("listen 995 ssl;", "listen %s:%d ssl;"
             % (NGINX, self.ports["tls"]))])
        with open(os.path.join(self.dir, "conf.d", "pop3d-auth.conf"),
                  "w") as f:
            f.write(auth)
        with open(os.path.join(self.dir, "pop3d-mail.conf"), "w") as f:
            f.write(mail)
        with open(self.conf, "w") as f:
            f.write("load_module %s;\npid %s/nginx.pid;\n"
                    "error_log %s notice;\nworker_processes 1;\n"
                    "events {}\nhttp {\n\tinclude %s/conf.d/*.conf;\n}\n"
                    "include %s/pop3d-mail.conf;\n"
                    % (MAIL_MODULE, self.dir, self.error_log, self.dir,
                       self.dir))
        self.proc = None

    def nginx(self, *args):
        return ["nginx", "-p", self.dir + "/", "-c", self.conf,
                "-e", self.error_log] + list(args)

    def render(self, routes):
        """Writes the routes file and renders it where nginx reads it;
        returns pop3d-routes' exit status."""
        with open(self.routes, "wb") as f:
            f.write(routes)
        r = subprocess.run([ROUTES_CMD, "-o", self.rendered, self.routes],
                           capture_output=True, timeout=30)
        check(r.returncode == 0, "pop3d-routes renders the routes",
              r.stderr)
        return r.returncode

    def start(self):
        r = subprocess.run(self.nginx("-t"), capture_output=True, text=True,
                           timeout=30)
        check(r.returncode == 0, "nginx -t takes the configuration",
              r.stderr)
        with open(os.path.join(self.dir, "nginx.out"), "wb") as out:
            self.proc = subprocess.Popen(
                self.nginx("-g", "daemon off;"), stdin=subprocess.DEVNULL,
                stdout=out, stderr=out, preexec_fn=die_with_parent)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                with socket.create_connection((NGINX, self.ports["clear"]),
                                              timeout=5) as s:
                    if s.recv(100).startswith(b"+OK"):
                        return True
            except OSError:
                time.sleep(0.05)
        return False

    def reloads(self):
        """How many times an old worker was told to stop: one more after
        each reload."""
        return self.log().count(b"gracefully shutting down")

    def reload(self, user, want_addr):
        """nginx -s reload, then wait_reload."""
        before = self.reloads()
        r = subprocess.run(self.nginx("-s", "reload"), capture_output=True,
                           text=True, timeout=30)
        check(r.returncode == 0, "nginx -s reload", r.stderr)
        return self.wait_reload(before, user, want_addr)

    def wait_reload(self, before, user, want_addr):
        """Waits for the old worker to stop taking connections (it logs
        that first) and for user's route to name want_addr."""
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.reloads() > before and \
                    all(self.route(user) == want_addr for _ in range(3)):
                return True
            time.sleep(0.05)
        return check(False, "the reload takes effect", self.log()[-500:])

    def route(self, user):
        """Auth-Server as the auth server answers for user."""
        return nginx_route(self.ports["auth"], user.encode()).get(
            b"Auth-Server", b"").decode() or None

    def log(self):
        with open(self.error_log, "rb") as f:
            return f.read()

    def stop(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def shipped(name, edits):
    """A shipped nginx file with each (old, new) replaced, once."""
    with open(os.path.join(CONTRIB, name)) as f:
        text = f.read()
    for old, new in edits:
        if text.count(old) != 1:
            raise RuntimeError("%s: %r is there %d times, not once"
                               % (name, old, text.count(old)))
        text = text.replace(old, new)
    return text


class FromPOP3(poplib.POP3):
    """poplib from a source address of the test's choosing."""

    def __init__(self, port, source):
        self.source = source
        super().__init__(NGINX, port, timeout=30)

    def _create_socket(self, timeout):
        return socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self.source, 0))


class FromPOP3SSL(poplib.POP3_SSL):
    def __init__(self, port, source, context):
        self.source = source
        super().__init__(NGINX, port, timeout=30, context=context)

    def _create_socket(self, timeout):
        sock = socket.create_connection((self.host, self.port), timeout,
                                        source_address=(self.source, 0))
        return self.context.wrap_socket(sock, server_hostname=self.host)


def retr(pop, n):
    return b"\r\n".join(pop.retr(n)[1]) + b"\r\n"


def talk(port, source, data, timeout=30, host=NGINX):
    """Says data's commands to nginx from source one at a time, each
    after the reply to the one before (nginx reads no command ahead of
    a login), and returns all the server said until it closed or the
    commands ran out."""
    multi = (b"RETR", b"LIST", b"UIDL", b"CAPA", b"TOP")
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        s.bind((source, 0))
        s.connect((host, port))
        f = s.makefile("rb")
        out = f.readline()
        for cmd in data.split(b"\r\n")[:-1]:
            try:
                s.sendall(cmd + b"\r\n")
            except OSError:
                break
            line = f.readline()
            out += line
            if not line:
                break
            if line.startswith(b"+OK") and cmd.split(b" ")[0] in multi \
                    and not (cmd.startswith(b"LIST ") or
                             cmd.startswith(b"UIDL ")):
                while not out.endswith(b"\r\n.\r\n"):
                    more = f.readline()
                    if not more:
                        break
                    out += more
        return out


def auth_plain(port, source, name, password, after=b"STAT\r\nQUIT\r\n"):
    """AUTH PLAIN through nginx (any bytes in the name, spaces too);
    returns what was said after the greeting and CAPA."""
    cred = base64.b64encode(b"\0" + name.encode() + b"\0" +
                            password.encode())
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(30)
        s.bind((source, 0))
        s.connect((NGINX, port))
        f = s.makefile("rb")
        f.readline()
        s.sendall(b"AUTH PLAIN " + cred + b"\r\n")
        line = f.readline()
        if not line.startswith(b"+OK"):
            return line
        s.sendall(after)
        return line + read_to_end(s)


def session_tag(log, since, pattern):
    line = log.wait_for(rb"pop3d\[(\d+)\]: session=\1@(\S+) " + pattern,
                        since=since)
    if line is None:
        return None
    return re.search(rb"session=\d+@(\S+) ", line).group(1).decode()


def test_poplib(log, ngx, certs):
    ctx = ssl.create_default_context(cafile=certs["root"])
    for how, source in (("clear", "198.51.100.2"), ("STLS", "198.51.100.3"),
                        ("implicit TLS", "198.51.100.4")):
        since = len(log.snapshot())
        if how == "implicit TLS":
            pop = FromPOP3SSL(ngx.ports["tls"], source, ctx)
        else:
            pop = FromPOP3(ngx.ports["clear" if how == "clear" else "stls"],
                           source)
            if how == "STLS":
                pop.stls(ctx)
        pop.user("al")
        pop.pass_(USERS["al"][1])
        count = pop.stat()[0]
        first = retr(pop, 1)
        pop.quit()
        check(count == 2 and first == crlf(USERS["al"][2]["1.eml"]),
              "poplib %s from %s: al's mailbox on host a, not its namesake "
              "on b" % (how, source), (count, first))
        check(session_tag(log, since, rb"login user=al result=ok")
              == source, "poplib %s: pop3d logs the client's address from "
              "nginx's PROXY header" % how)
    # Host b's own users, and a delete landing there.
    pop = FromPOP3(ngx.ports["clear"], "198.51.100.2")
    pop.user("bo")
    pop.pass_(USERS["bo"][1])
    check(retr(pop, 1) == crlf(USERS["bo"][2]["1.eml"]),
          "poplib: bo's message from host b")
    pop.quit()


def test_ipv6(log, top, ngx):
    """A client on IPv6: pop3d names it, and counts a failure against
    its /64 on the user's host."""
    since = len(log.snapshot())
    out = talk(ngx.ports["clear"], "2001:db8::2", b"USER bo\r\nPASS %s\r\n"
               b"STAT\r\nQUIT\r\n" % USERS["bo"][1].encode(), host=NGINX6)
    check(b"+OK 1 " in out and out.endswith(b"deleted\r\n"),
          "an IPv6 client through nginx reaches host b", out)
    check(session_tag(log, since, rb"login user=bo result=ok") ==
          "2001:db8::2", "pop3d logs the IPv6 client from nginx's header")
    out = talk(ngx.ports["clear"], "2001:db8::2", b"USER bo\r\nPASS no\r\n",
               host=NGINX6)
    with open(os.path.join(top, "b", "failures"), "rb") as f:
        ban = f.read()
    check(b"-ERR [AUTH]" in out and
          re.search(rb"^a 2001:db8::/64 1 ", ban, re.M),
          "its failure counts against its /64 on host b", (out, ban))


def test_delete(top, ngx):
    out = talk(ngx.ports["clear"], "198.51.100.5",
               b"USER al\r\nPASS %s\r\nDELE 2\r\nQUIT\r\n"
               % USERS["al"][1].encode())
    check(out.endswith(b"+OK bye, 1 messages deleted\r\n"),
          "DELE through nginx", out)
    check(on_disk(os.path.join(top, "a", "mail", "al")) == ["1.eml"] and
          os.path.exists(os.path.join(top, "b", "mail", "al", "1.eml")),
          "the delete lands on host a; b's namesake keeps its mail",
          os.listdir(os.path.join(top, "a", "mail", "al")))


def test_curl(ngx, certs):
    for how, url, extra in (
            ("clear", "pop3://%s:%d/1" % (NGINX, ngx.ports["clear"]), []),
            ("STLS", "pop3://%s:%d/1" % (NGINX, ngx.ports["stls"]),
             ["--ssl-reqd"]),
            ("implicit TLS", "pop3s://%s:%d/1" % (NGINX, ngx.ports["tls"]),
             [])):
        for name in ("bo", "john smith"):
            r = subprocess.run(
                ["curl", "-sS", "--max-time", "30", "--interface",
                 "198.51.100.6", "--cacert", certs["root"], "-u",
                 "%s:%s" % (name, USERS[name][1])] + extra + [url],
                capture_output=True, timeout=60,
                env=dict(os.environ, no_proxy="*"))
            check(r.returncode == 0 and
                  r.stdout == crlf(USERS[name][2]["1.eml"]),
                  "curl %s: %s's message from host %s"
                  % (how, name, USERS[name][0]),
                  (r.returncode, r.stdout[-100:], r.stderr[-300:]))


def client_rc(home, name, text):
    """A client's configuration file in home, readable by its owner only
    (fetchmail and mpop insist), holding text; returns its path."""
    path = os.path.join(home, name)
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    os.chmod(path, 0o600)
    return path


def fetchmail(top, certs, port, name, options):
    home = os.path.join(top, "fm-%d" % len(os.listdir(top)))
    out = os.path.join(home, "out")
    os.makedirs(out)
    rc = client_rc(home, ".fetchmailrc",
                   'set no syslog\n'
                   'poll %s protocol pop3 port %d timeout 30\n'
                   '  user "%s" there with password "%s" is "root" here\n'
                   '  options fetchall keep sslcertck sslcertfile %s '
                   'sslcommonname localhost %s\n'
                   '  mda "sh -c \'cat > %s/m.$$\'"\n'
                   % (NGINX, port, name, USERS[name][1], certs["root"],
                      options, out))
    r = subprocess.run(["fetchmail", "-f", rc, "-v", "--invisible",
                        "--norewrite", "-i", os.path.join(home, "ids"),
                        "--pidfile", os.path.join(home, "pid")],
                       env=dict(os.environ, HOME=home), capture_output=True,
                       timeout=90)
    return r, out


def mpop(home, certs, port, name, how):
    """mpop for name through nginx, how "clear", "STLS" or "TLS"; home
    keeps its UIDLs between runs."""
    md = os.path.join(home, "md")
    if not os.path.isdir(md):
        for sub in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(md, sub))
    rc = client_rc(home, ".mpoprc",
                   "defaults\ntls %s\ntls_starttls %s\ntls_trust_file %s\n"
                   "received_header off\ntimeout 30\n%s"
                   "account test\nhost %s\nport %d\nuser %s\n"
                   "password \"%s\"\nkeep on\nuidls_file %s/uidls\n"
                   "delivery maildir %s\n"
                   % ("off" if how == "clear" else "on",
                      "on" if how == "STLS" else "off", certs["root"],
                      # In the clear mpop sends a password only if told.
                      "auth plain\n" if how == "clear" else "", NGINX,
                      port, name, USERS[name][1], home, md))
    r = subprocess.run(["mpop", "-C", rc, "-a"], capture_output=True,
                       env=dict(os.environ, HOME=home), timeout=60)
    return r, md


def test_fetchmail_mpop(top, ngx, certs):
    for name, port, options in (
            ("jos\u00e9", ngx.ports["tls"], "ssl"),
            ("o'brien", ngx.ports["stls"], "sslproto TLS1.2+"),
            ("al", ngx.ports["clear"], "sslproto ''"),
            ("al", ngx.ports["tls"], "ssl")):
        r, out = fetchmail(top, certs, port, name, options)
        want = sorted(lf(m) for m in USERS[name][2].values())
        check(r.returncode == 0 and delivered(out) == want,
              "fetchmail %s: %s's mail from host %s"
              % (options, name, USERS[name][0]),
              (r.returncode, delivered(out), r.stderr[-300:]))
    for name, how, port in (("bo", "STLS", ngx.ports["stls"]),
                            ("o'brien", "TLS", ngx.ports["tls"]),
                            ("al", "clear", ngx.ports["clear"])):
        home = os.path.join(top, "mp-%s-%s" % (name, how))
        os.makedirs(home)
        r, md = mpop(home, certs, port, name, how)
        check(r.returncode == 0 and delivered(md) ==
              sorted(lf(m) for m in USERS[name][2].values()),
              "mpop %s: %s's mail from host %s" % (how, name, USERS[name][0]),
              (r.returncode, r.stderr[-300:]))


def test_odd_names(ngx):
    for name in ("o'brien", "jos\u00e9", HOSTILE, SPACED, "john smith"):
        out = auth_plain(ngx.ports["clear"], "198.51.100.7", name,
                         USERS[name][1], b"RETR 1\r\nQUIT\r\n")
        check(crlf(USERS[name][2]["1.eml"]) in out and
              out.endswith(b"+OK bye, 0 messages deleted\r\n"),
              "AUTH PLAIN as %r: routed to host %s"
              % (name, USERS[name][0]), out[-200:])
    for name in ("o'brien", "jos\u00e9", HOSTILE):
        out = talk(ngx.ports["clear"], "198.51.100.7",
                   b"USER " + name.encode() + b"\r\nPASS " +
                   USERS[name][1].encode() + b"\r\nQUIT\r\n")
        check(out.endswith(b"+OK bye, 0 messages deleted\r\n") and
              b"maildrop has 1 message" in out,
              "USER %r: routed to host %s" % (name, USERS[name][0]), out)


def test_wrong_password(log, top, ngx):
    """Refused with pop3d's own [AUTH], counted on bo's host b against the
    client, which then is banned there, even with the right password."""
    since = len(log.snapshot())
    for _ in range(2):
        out = talk(ngx.ports["clear"], "198.51.100.8",
                   b"USER bo\r\nPASS wrong\r\n")
        check(b"-ERR [AUTH]" in out and b"maildrop" not in out,
              "a wrong password through nginx: -ERR [AUTH]", out)
    check(session_tag(log, since, rb"login user=bo result=deny") ==
          "198.51.100.8", "the failure is logged as from the client")
    with open(os.path.join(top, "b", "failures"), "rb") as f:
        ban_b = f.read()
    ban_a = b""
    if os.path.exists(os.path.join(top, "a", "failures")):
        with open(os.path.join(top, "a", "failures"), "rb") as f:
            ban_a = f.read()
    check(re.search(rb"^a 198\.51\.100\.8 2 ", ban_b, re.M) and
          b"198.51.100.8" not in ban_a,
          "counted against 198.51.100.8 on host b only", (ban_a, ban_b))
    out = talk(ngx.ports["clear"], "198.51.100.8", b"USER bo\r\nPASS %s\r\n"
               % USERS["bo"][1].encode())
    check(b"-ERR [AUTH]" in out and b"maildrop" not in out,
          "198.51.100.8, banned on host b, is refused the right password",
          out)
    out = talk(ngx.ports["clear"], "198.51.100.9", b"USER bo\r\nPASS %s\r\n"
               b"QUIT\r\n" % USERS["bo"][1].encode())
    check(b"maildrop has 1 message" in out, "another address logs in", out)


def test_login_delay(ngx):
    """pop3d's [LOGIN-DELAY] reaches the client through nginx."""
    login = b"USER slow\r\nPASS slow pass\r\n"
    first = talk(ngx.ports["clear"], "198.51.100.4", login + b"QUIT\r\n")
    again = talk(ngx.ports["clear"], "198.51.100.4", login)
    check(b"maildrop has 1 message" in first and again.endswith(
          b"-ERR [LOGIN-DELAY] too soon after the last login\r\n"),
          "a second login within the user's delay: [LOGIN-DELAY]",
          (first, again))


def test_edge(ngx, hosts):
    out = talk(ngx.ports["stls"], "198.51.100.2",
               b"CAPA\r\nUSER al\r\nPASS %s\r\nQUIT\r\n"
               % USERS["al"][1].encode())
    check(b"\r\nSTLS\r\n" in out and b"maildrop" not in out and
          out.count(b"-ERR") >= 1,
          "starttls only: no login in the clear", out)
    for host in hosts:
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.settimeout(10)
            s.bind(("198.51.100.2", 0))
            try:
                s.connect((host.host, host.port))
                s.sendall(b"USER al\r\n")
                got = read_to_end(s)
            except OSError:
                got = b""
        check(not got.startswith(b"+OK"), "%s straight from 198.51.100.2: "
              "nothing (only_from nginx)" % host.host, got)
        with socket.create_connection((host.host, host.port), timeout=10) \
                as s:
            s.sendall(b"PROXY TCP4 198.51.100.2 %s 1234 110\r\nQUIT\r\n"
                      % host.host.encode())
            got = read_to_end(s)
        check(got.startswith(b"+OK"), "%s from nginx's address with a "
              "header: served" % host.host, got)


def test_concurrent(ngx):
    """nginx is one source to a host: five sessions at once through it
    must all reach pop3d (xinetd's per_source raised, as documented)."""
    held = []
    try:
        for name in ("bo", "o'brien", "jos\u00e9", HOSTILE):
            pop = FromPOP3(ngx.ports["clear"], "198.51.100.3")
            pop.user(name)
            pop.pass_(USERS[name][1])
            held.append(pop)
        out = talk(ngx.ports["clear"], "198.51.100.3",
                   b"USER bo\r\nPASS %s\r\n" % USERS["bo"][1].encode())
        check(out.endswith(b"-ERR [IN-USE] mailbox in use by another "
                           b"session\r\n"),
              "a fifth session at once reaches host b's pop3d", out)
    finally:
        for pop in held:
            pop.quit()
    check(len(held) == 4, "four sessions at once on host b")


def test_move(top, ngx, certs):
    """docs/many-hosts.md's move of "mover" from host a to host b, with a
    session of bo's on b in progress across the reload."""
    old = os.path.join(top, "a", "mail", "mover")
    new_root = os.path.join(top, "b", "mail")
    home = os.path.join(top, "mp-mover")
    os.makedirs(home)
    r, md = mpop(home, certs, ngx.ports["tls"], "mover", "TLS")
    check(r.returncode == 0 and len(delivered(md)) == 2,
          "mpop fetches mover's 2 messages before the move", r.stderr)
    pop = FromPOP3(ngx.ports["clear"], "198.51.100.2")
    pop.user("mover")
    pop.pass_(USERS["mover"][1])
    uidls = pop.uidl()[1]
    pop.quit()

    busy = FromPOP3(ngx.ports["clear"], "198.51.100.3")
    busy.user("bo")
    busy.pass_(USERS["bo"][1])

    # docs/many-hosts.md's steps 2 to 6, in the shell that step 1 runs
    # under the lock: the other host's tar, users file and the proxy's
    # commands are local here.
    steps = """set -e
echo locked
read go
test ! -e mover/.pop3d.journal
tar --exclude=.pop3d.lock --exclude=.pop3d.sizes -cf - mover | tar -C %s -xpf -
awk -F: '$1 == "mover"' %s >> %s
sed -i 's/^user mover a$/user mover b/' %s
%s -o %s %s
%s -s reload
mv mover mover.moved
""" % (new_root, os.path.join(top, "a", "users"),
       os.path.join(top, "b", "users"), ngx.routes, ROUTES_CMD,
       ngx.rendered, ngx.routes, " ".join(ngx.nginx()))
    before = ngx.reloads()
    move = subprocess.Popen(["flock", "-x", "mover/.pop3d.lock", "sh", "-c",
                             steps], cwd=os.path.dirname(old),
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE)
    try:
        check(move.stdout.readline() == b"locked\n", "step 1: the lock")
        out = talk(ngx.ports["clear"], "198.51.100.2",
                   b"USER mover\r\nPASS %s\r\n" % USERS["mover"][1].encode())
        check(b"-ERR [IN-USE]" in out, "while it moves, mover gets [IN-USE]",
              out)
    finally:
        _, err = move.communicate(b"go\n", timeout=60)
    check(move.returncode == 0, "steps 2 to 6 of the move", err)
    ngx.wait_reload(before, "mover", "127.0.0.3")
    check(os.path.isdir(old + ".moved") and not os.path.exists(old),
          "host a's copy is put aside")

    check(busy.stat()[0] == 1 and retr(busy, 1) ==
          crlf(USERS["bo"][2]["1.eml"]) and busy.quit().startswith(b"+OK"),
          "bo's session in progress carries on across the reload")
    pop = FromPOP3(ngx.ports["clear"], "198.51.100.2")
    pop.user("mover")
    pop.pass_(USERS["mover"][1])
    moved = pop.uidl()[1]
    pop.quit()
    check(moved == uidls and len(uidls) == 2,
          "after the move, mover's UIDLs are the same, from host b",
          (uidls, moved))
    r, md = mpop(home, certs, ngx.ports["tls"], "mover", "TLS")
    check(r.returncode == 0 and len(delivered(md)) == 2,
          "mpop downloads nothing again after the move",
          (r.returncode, len(delivered(md)), r.stderr[-300:]))
    check(os.path.exists(os.path.join(new_root, "mover", ".pop3d.sizes")),
          "host b made mover's size cache afresh")


def test_host_down(ngx, hosts):
    hosts[0].stop()
    t0 = time.monotonic()
    out = talk(ngx.ports["clear"], "198.51.100.2",
               b"USER al\r\nPASS %s\r\n" % USERS["al"][1].encode())
    took = time.monotonic() - t0
    check(out.startswith(b"+OK") and
          out.endswith(b"\r\n+OK\r\n-ERR internal server error\r\n") and
          took < 10,
          "host a stopped: al gets -ERR at once (%.1f s)" % took, out)
    out = talk(ngx.ports["clear"], "198.51.100.2",
               b"USER bo\r\nPASS %s\r\nSTAT\r\nQUIT\r\n"
               % USERS["bo"][1].encode())
    check(b"+OK 1 " in out and out.endswith(b"deleted\r\n"),
          "host b's users carry on", out)
    ngx.render(routes(mover="b", down="a"))
    ngx.reload("al", "127.0.0.2")
    out = talk(ngx.ports["clear"], "198.51.100.2",
               b"USER al\r\nPASS %s\r\n" % USERS["al"][1].encode())
    check(out.endswith(b"-ERR [SYS/TEMP] try again later\r\n"),
          "host a marked down: -ERR [SYS/TEMP]", out)


def test_host_hung(ngx):
    """A host that accepts and never answers: -ERR after nginx's
    timeout (3 s on this port), never a hang."""
    t0 = time.monotonic()
    out = talk(ngx.ports["short"], "198.51.100.2", b"USER hung\r\nPASS x\r\n",
               timeout=60)
    took = time.monotonic() - t0
    check(out.endswith(b"\r\n+OK\r\n-ERR internal server error\r\n") and
          took < 30, "a host that never answers: -ERR after nginx's timeout "
          "(%.1f s)" % took, out)


def client_network():
    """In the test's own network namespace: loopback up, the clients'
    198.51.100.x and 2001:db8::2, and nginx's 2001:db8::1."""
    for cmd in (["link", "set", "lo", "up"],
                ["addr", "add", "198.51.100.2/24", "dev", "lo"],
                ["addr", "add", NGINX6 + "/64", "dev", "lo", "nodad"],
                ["addr", "add", "2001:db8::2/64", "dev", "lo", "nodad"]):
        subprocess.run(["ip"] + cmd, check=True)


PORTS = {}


LISTED = {}     # host: its users' names as pop3d-passwd list prints them


def list_users(host):
    """The names in host's users file, as docs/many-hosts.md has the
    admin paste them into the routes file: pop3d-passwd list --as-stored."""
    r = subprocess.run([PASSWD, "list", "--as-stored", "--users", host.users],
                       capture_output=True, check=True, timeout=30)
    return r.stdout.splitlines()


def routes(mover="a", down=None):
    """The routes file: who lives where (pop3d-routes' input), its user
    lines pasted from pop3d-passwd list.  "al" on b (the namesake) and
    "slow" on a are left to the default, host a."""
    out = [b"# who lives where"]
    for host, addr in (("a", "127.0.0.2"), ("b", "127.0.0.3"),
                       ("c", "127.0.0.4")):
        out.append(b"host %s %s %d%s" % (host.encode(), addr.encode(),
                                         PORTS[host],
                                         b" down" if down == host else b""))
    out += [b"default a", b"user hung c"]
    for host, names in sorted(LISTED.items()):
        for name in names:
            if name in (b"slow", b"al" if host == "b" else None):
                continue
            out.append(b"user %s %s" % (name, mover.encode()
                                        if name == b"mover" else
                                        host.encode()))
    return b"\n".join(out) + b"\n"


def run_parts(parts):
    """Runs each (test, args): one part failing must not hide others."""
    for test, args in parts:
        try:
            test(*args)
        except Exception as e:
            check(False, "%s ran" % test.__name__, repr(e))


def tear_down(top, log, hosts, ngx):
    """Stops nginx (if started) and the hosts, and removes top."""
    if ngx is not None:
        ngx.stop()
    for host in hosts:
        host.stop()
    log.close()
    shutil.rmtree(top, ignore_errors=True)


def set_up(tools, seconds, prefix):
    """Skips without tools or nginx's mail module; else, in namespaces of
    the test's own, bounded to seconds: the clients' network, a syslog
    listener, a folder named prefix... with certificates in it.  Returns
    (log, top, certs)."""
    for tool in ("nginx", "xinetd", "openssl", "ip") + tools:
        if shutil.which(tool) is None:
            skip(tool + " not found")
    if not os.path.exists(MAIL_MODULE):
        skip("no nginx mail module (libnginx-mod-mail)")
    reexec_private("POP3D_DEPLOY_NS", net=True)
    bound(seconds)
    private_dev()
    client_network()
    log = Syslog()
    top = tempdir(prefix)
    try:
        os.makedirs(os.path.join(top, "certs"))
        return log, top, make_certs(os.path.join(top, "certs"))
    except BaseException:
        tear_down(top, log, [], None)
        raise


def main():
    log, top, certs = set_up(("curl", "fetchmail", "mpop", "flock", "tar"),
                             280, "pop3d-hosts.")
    hosts, ngx = [], None
    try:
        hosts = [Host(top, "a", "127.0.0.2"), Host(top, "b", "127.0.0.3")]
        for name, (host, password, messages) in USERS.items():
            hosts[host == "b"].add(name, password, messages)
        hosts[1].add("al", "the namesake's pass", NAMESAKE)
        hosts[0].add("slow", "slow pass", {"1.eml": b"Subject: s\n\n.\n"},
                     ["--login-delay", "3600"])
        for host in hosts:
            PORTS[host.dir[-1]] = host.start()
            LISTED[host.dir[-1]] = list_users(host)
        # Host c accepts connections (the kernel does) and never answers.
        hung = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        hung.bind(("127.0.0.4", 0))
        hung.listen(8)
        PORTS["c"] = hung.getsockname()[1]
        ngx = Nginx(top, certs)
        if ngx.render(routes()) != 0 or not check(ngx.start(),
                                                  "nginx starts"):
            sys.exit(finish())
        run_parts(((test_poplib, (log, ngx, certs)),
                   (test_curl, (ngx, certs)),
                   (test_odd_names, (ngx,)),
                   (test_fetchmail_mpop, (top, ngx, certs)),
                   (test_ipv6, (log, top, ngx)),
                   (test_delete, (top, ngx)),
                   (test_wrong_password, (log, top, ngx)),
                   (test_login_delay, (ngx,)),
                   (test_edge, (ngx, hosts)),
                   (test_concurrent, (ngx,)),
                   (test_move, (top, ngx, certs)),
                   (test_host_hung, (ngx,)),
                   (test_host_down, (ngx, hosts))))
    finally:
        tear_down(top, log, hosts, ngx)
    sys.exit(finish())


if __name__ == "__main__":
    main()
