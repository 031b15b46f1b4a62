"""bench/run's TLS scenario: pop3d in the clear, with implicit TLS and
with STLS, against Dovecot's daemon in the clear and with TLS, all over
TCP on 127.0.0.1 in the same run, on the same mailboxes.

pop3d runs once per connection under systemd-socket-activate --inetd, as
in the sessions scenario; Dovecot runs as its own daemon (dovecot -F with
a configuration of the bench's own: its master, login and pop3
processes, TLS in pop3-login), since its pop3 program alone speaks no
TLS.  Sessions' client is Python's ssl (OpenSSL), one context for every
connection; RETR's is bench/popclient.c (OpenSSL in C), so that the
client is not what limits the MB/s.  Neither checks the certificate:
what is measured is the servers' cost, and checking it costs every
server the same.
"""

import os
import resource
import signal
import socket
import ssl
import subprocess
import time

from common import BenchError, log
from mailboxes import mkdirs, short
from measure import (PASSWORD, Row, Sample, check_replies, free_port,
                     login, median, pop3d_cmd, warm_page_cache)

# Targets (issue 18): a TLS connection at most TLS_SESSION_EXTRA seconds
# more than a clear one (median, connect to exit); RETR over TLS at least
# TLS_RETR_VS_CLEAR of the clear path's MB/s, and TLS_RETR_VS_DOVECOT
# times Dovecot's with TLS.
TLS_SESSION_EXTRA = 0.003
TLS_RETR_VS_CLEAR = 0.8
TLS_RETR_VS_DOVECOT = 5

MODES = ("clear", "implicit", "stls")


def make_cert(ctx):
    """An ECDSA P-256 certificate for localhost, made once per run."""
    d = os.path.join(ctx.etc, "tls")
    mkdirs(d, None, 0o755)
    cert, key = os.path.join(d, "cert.pem"), os.path.join(d, "key.pem")
    r = subprocess.run(["openssl", "req", "-x509", "-newkey", "ec",
                        "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
                        "-keyout", key, "-out", cert, "-days", "2",
                        "-subj", "/CN=localhost"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise BenchError("openssl req: %s" % r.stdout.decode(
            errors="replace"))
    if ctx.owner:
        for p in (cert, key):
            os.chown(p, *ctx.owner)
    os.chmod(key, 0o600)
    return cert, key


CLIENT = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
CLIENT.check_hostname = False
CLIENT.verify_mode = ssl.CERT_NONE


def read_line(s):
    data = b""
    while not data.endswith(b"\r\n"):
        c = s.recv(1)
        if not c:
            break
        data += c
    return data


def session(port, mode, cmds, what):
    """One POP3 connection: its greeting (after the handshake with
    implicit TLS, before STLS's), cmds, then every byte to the server's
    close.  Returns (bytes read, the first 64 KiB, the last 64 KiB)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=120)
    # As mail clients do: no wait for an ACK before a short write (the
    # handshake's last flight, then the commands).
    s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    try:
        if mode == "implicit":
            s = CLIENT.wrap_socket(s)
        greeting = read_line(s)
        if mode == "stls":
            s.sendall(b"STLS\r\n")
            reply = read_line(s)
            if not reply.startswith(b"+OK"):
                raise BenchError("%s: STLS: %r" % (what, reply))
            s = CLIENT.wrap_socket(s)
        if not greeting.startswith(b"+OK"):
            raise BenchError("%s: greeting %r" % (what, greeting))
        s.sendall(cmds)
        buf = bytearray(1 << 20)
        head, tail, n = b"", b"", 0
        while True:
            k = s.recv_into(buf)
            if k == 0:
                break
            n += k
            if len(head) < 65536:
                head += bytes(buf[:min(k, 65536 - len(head))])
            tail = (tail + bytes(buf[max(0, k - 65536):k]))[-65536:]
        return n, head, tail
    finally:
        s.close()


class Served:
    """A server listening on 127.0.0.1 under bench/launch.c, which gives
    its CPU (the server's and its children's) once stopped."""

    def __init__(self, ctx, argv, env, what, ports, ready):
        self.what = what
        self.errlog = os.path.join(ctx.run, "tls-server.log")
        if os.path.exists(self.errlog):
            os.unlink(self.errlog)
        cmd = [ctx.launch, "-n", "-e", self.errlog]
        if ctx.owner and ready is None:
            cmd += ["-u", str(ctx.owner[0]), "-g", str(ctx.owner[1])]
        self.proc = subprocess.Popen(cmd + ["--"] + argv,
                                     stdout=subprocess.PIPE, env=env)
        self.ports = ports
        deadline = time.monotonic() + 10
        while not self.listening(ready):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                self.proc.kill()
                raise BenchError("%s: the server did not start (log: %s)" %
                                 (what, self.errlog))
            time.sleep(0.01)

    def listening(self, ready):
        if ready is None:
            try:
                with open(self.errlog) as f:
                    return "Listening on" in f.read()
            except OSError:
                return False
        return ready()

    def stop(self):
        """Stops the server: its CPU seconds, all told."""
        time.sleep(0.2)         # let the last session's process be reaped
        self.proc.send_signal(signal.SIGTERM)
        out, _ = self.proc.communicate(timeout=60)
        f = out.split()
        if len(f) < 7:
            raise BenchError("%s: no figures from the launcher" % self.what)
        return (int(f[1]) + int(f[2])) / 1e6, int(f[3])


def pop3d_served(ctx, mode, cert, key):
    port = free_port()
    argv = pop3d_cmd(ctx, ctx.users_min)
    if mode == "implicit":
        argv += ["--tls=implicit", "--tls-cert", cert, "--tls-key", key]
    elif mode == "stls":
        argv += ["--tls=starttls", "--tls-cert", cert, "--tls-key", key]
    sa = ["systemd-socket-activate", "-l", "127.0.0.1:%d" % port, "--inetd",
          "-a"]
    return Served(ctx, sa + argv, ctx.env, "tls pop3d " + mode,
                  {"clear": port, "implicit": port, "stls": port}, None)


DOVECOT_DAEMON = """\
# Written by bench/run: a Dovecot of its own on 127.0.0.1, for TLS.
base_dir = {top}/run
state_dir = {top}/state
log_path = {top}/dovecot.log
protocols = pop3
listen = 127.0.0.1
ssl = yes
ssl_cert = <{cert}
ssl_key = <{key}
ssl_min_protocol = TLSv1.2
disable_plaintext_auth = no
auth_mechanisms = plain
passdb {{
  driver = static
  args = password={password}
}}
userdb {{
  driver = static
  args = uid={uid} gid={gid} home={top}/home/%u
}}
mail_location = maildir:{boxes}/%u:INDEX={top}/index/%u:CONTROL={top}/index/%u
pop3_no_flag_updates = yes
first_valid_uid = 1
default_internal_user = dovecot
default_login_user = dovenull
service pop3-login {{
  inet_listener pop3 {{
    port = {port}
  }}
  inet_listener pop3s {{
    port = {sport}
    ssl = yes
  }}
}}
service imap-login {{
  inet_listener imap {{
    port = 0
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
"""


def dovecot_served(ctx, cert, key):
    """Dovecot's daemon with a clear and a TLS listener; None when it
    cannot run here (it needs root, to be a mail server)."""
    if ctx.owner is None:
        return None
    top = os.path.join(ctx.work, "dovecot-tls")
    for d in ("run", "state", "home", "index"):
        mkdirs(os.path.join(top, d), None, 0o755)
    for d in ("home", "index"):
        os.chown(os.path.join(top, d), *ctx.owner)
    port, sport = free_port(), free_port()
    conf = os.path.join(top, "dovecot.conf")
    with open(conf, "w") as f:
        f.write(DOVECOT_DAEMON.format(
            top=top, cert=cert, key=key, password=PASSWORD,
            uid=ctx.owner[0], gid=ctx.owner[1], boxes=ctx.boxes,
            port=port, sport=sport))

    def ready():
        try:
            with socket.create_connection(("127.0.0.1", sport), timeout=1):
                return True
        except OSError:
            return False
    return Served(ctx, ["/usr/sbin/dovecot", "-F", "-c", conf], ctx.env,
                  "tls Dovecot", {"clear": port, "implicit": sport}, ready)


def sessions_once(served, mode, n, box, what):
    """n connections one after another: greeting, login, STAT, QUIT."""
    cmds = login(box.name) + b"STAT\r\nQUIT\r\n"
    lat = []
    for _ in range(n):
        t = time.perf_counter()
        _, head, tail = session(served.ports[mode], mode, cmds, what)
        lat.append(time.perf_counter() - t)
        check_replies(what, head, tail, 4, 2, box)
    return lat


def build_client(ctx):
    """bench/popclient.c, built into the work folder with OpenSSL."""
    src = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                       "popclient.c")
    out = os.path.join(ctx.work, "bin", "popclient")
    cc = os.environ.get("CC", "cc")
    r = subprocess.run([cc, "-O2", "-std=gnu11", "-Wall", "-o",
                        out + ".tmp", src, "-lssl", "-lcrypto"],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    if r.returncode != 0:
        raise BenchError("cannot build bench/popclient.c with %s:\n%s" %
                         (cc, r.stdout.decode(errors="replace")))
    os.replace(out + ".tmp", out)
    return out


def retr_once(ctx, served, mode, box, what):
    """RETR of every message of box by bench/popclient.c: its wall and
    its CPU (user + sys) in seconds.  The client decrypts what the
    server encrypts, on the same cores: its CPU says how much of the
    wall is its own."""
    cmds = login(box.name) + b"".join(
        b"RETR %d\r\n" % (i + 1) for i in range(box.count)) + b"QUIT\r\n"
    inp, save = (os.path.join(ctx.run, "tls-" + x) for x in ("in", "out"))
    with open(inp, "wb") as f:
        f.write(cmds)
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    r = subprocess.run([ctx.popclient, str(served.ports[mode]), mode, inp,
                        save], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       timeout=3600)
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    client = (after.ru_utime - before.ru_utime +
              after.ru_stime - before.ru_stime)
    if r.returncode != 0:
        raise BenchError("%s: %s" % (what, r.stderr.decode(
            errors="replace")))
    n, wall = (int(x) for x in r.stdout.split())
    with open(save + ".head", "rb") as f:
        head = f.read()
    with open(save + ".tail", "rb") as f:
        tail = f.read()
    wall /= 1e6
    check_replies(what, head, tail, 3, None, box)
    if n < box.crlf_total:
        raise BenchError("%s: %d bytes, want at least %d" % (
            what, n, box.crlf_total))
    return wall, client


def measured(start, body, what):
    """Starts a server, runs body(served) -> sample, stops it, and puts
    the server's CPU into the sample."""
    served = start()
    if served is None:
        return None
    try:
        s = body(served)
    finally:
        cpu, rss = served.stop()
    s["cpu"], s["rss"] = cpu, rss
    return s


def scen_tls(ctx):
    cert, key = make_cert(ctx)
    ctx.popclient = build_client(ctx)
    servers = [("pop3d", m, lambda m=m: pop3d_served(ctx, m, cert, key))
               for m in MODES]
    if ctx.dovecot:
        servers += [("Dovecot", m, lambda: dovecot_served(ctx, cert, key))
                    for m in ("clear", "implicit")]
    rows = []
    n = ctx.sizes["tls_sessions"]
    box = ctx.sessions_box
    log("tls: %d sessions each, pop3d clear, implicit TLS, STLS%s" % (
        n, ", Dovecot clear and TLS" if ctx.dovecot else ""))
    res = {}
    for _ in range(ctx.runs):
        for name, mode, start in servers:
            what = "tls sessions %s %s" % (name, mode)

            def body(served, mode=mode, what=what):
                t = time.perf_counter()
                lat = sessions_once(served, mode, n, box, what)
                return Sample(wall=time.perf_counter() - t, lat=median(lat),
                              sessions=n, bytes=0, lines=0, status=0)
            s = measured(start, body, what)
            if s is not None:
                res.setdefault((name, mode), []).append(s)
    for (name, mode), ss in res.items():
        rows.append(Row("tls", "sessions, %s" % mode_name(mode), name, ss,
                        work=n, unit="sess/s"))
    for big in ctx.tls_boxes:
        label = "%s × %s" % (short(big.count), mb(big.crlf_total //
                                                   big.count))
        log("tls: RETR of %s" % label)
        res = {}
        for _ in range(ctx.runs):
            for name, mode, start in servers:
                if name == "Dovecot" and big.layout != "maildir":
                    continue
                what = "tls RETR %s %s %s" % (label, name, mode)
                warm_page_cache(ctx, big)

                def body(served, mode=mode, what=what):
                    wall, client = retr_once(ctx, served, mode, big, what)
                    return Sample(wall=wall, client=client,
                                  bytes=big.crlf_total, lines=0, status=0)
                s = measured(start, body, what)
                if s is not None:
                    res.setdefault((name, mode), []).append(s)
        for (name, mode), ss in res.items():
            rows.append(Row("tls", "RETR %s, %s" % (label, mode_name(mode)),
                            name, ss, work=big.file_total, unit="MB/s"))
    return rows


def mode_name(mode):
    return {"clear": "clear", "implicit": "implicit TLS",
            "stls": "STLS"}[mode]


def mb(n):
    return "%d MB" % (n // 1000000) if n >= 1000000 else \
        "%d KB" % (n // 1000)


def find(rows, case, server):
    for r in rows:
        if r.scen == "tls" and r.case == case and r.server == server:
            return r
    return None


def table_tls(rows):
    """The TLS table: per case, each server's figures, with ratios to
    pop3d in the clear and to Dovecot with TLS, by the wall and by the
    server's CPU alone (for RETR, the clear path's CPU per MB over
    this one's: the share of the clear path's MB/s it would reach were
    the server's CPU all that limited it), and RETR's client's CPU
    (bench/popclient.c)."""
    out = ["| case | server | wall ms | per session ms | rate | "
           "server CPU | client CPU | ÷ pop3d clear | CPU ÷ pop3d clear "
           "| ÷ Dovecot TLS |",
           "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if r.scen != "tls":
            continue
        what, mode = r.case.rsplit(", ", 1)
        clear = find(rows, "%s, clear" % what, "pop3d")
        dtls = find(rows, "%s, implicit TLS" % what, "Dovecot")
        rate = r.rate()
        if r.unit == "sess/s":
            per = "%.2f" % (r.med("lat") * 1000)
            cpu = "%.2f ms/session" % (r.med("cpu") * 1000 / r.work)
            vs_clear = "+%.2f ms" % ((r.med("lat") - clear.med("lat")) *
                                     1000) if clear else "—"
            vs_dov = "%.2f" % (r.med("lat") / dtls.med("lat")) \
                if dtls else "—"
            client = ""
            cpu_clear = "+%.2f ms" % ((r.med("cpu") - clear.med("cpu")) *
                                      1000 / r.work) if clear else "—"
        else:
            per = ""
            cpu = "%.2f ms/MB" % (r.med("cpu") * 1000 / (r.work / 1e6))
            client = "%.2f ms/MB" % (r.med("client") * 1000 /
                                     (r.work / 1e6))
            vs_clear = "%.2f×" % (rate / clear.rate()) if clear else "—"
            cpu_clear = "%.2f×" % (clear.med("cpu") / r.med("cpu")) \
                if clear else "—"
            vs_dov = "%.1f×" % (rate / dtls.rate()) if dtls else "—"
        out.append("| %s | %s | %.0f | %s | %.0f %s | %s | %s | %s | %s | "
                   "%s |" % (r.case, r.server, r.med("wall") * 1000, per,
                             rate, r.unit, cpu, client, vs_clear, cpu_clear,
                             vs_dov))
    return "\n".join(out)


def targets_tls(rows, verdict):
    """The TLS targets held against the figures, as a table."""
    out = ["| target | measured | verdict |", "|---|---|---|"]
    for r in rows:
        if r.scen != "tls" or r.server != "pop3d" or r.case.endswith(
                ", clear"):
            continue
        what = r.case.rsplit(", ", 1)[0]
        clear = find(rows, "%s, clear" % what, "pop3d")
        dtls = find(rows, "%s, implicit TLS" % what, "Dovecot")
        if clear is None:
            continue
        if r.unit == "sess/s":
            extra = r.med("lat") - clear.med("lat")
            out.append("| tls %s: at most %.0f ms more than clear | "
                       "+%.2f ms | %s |" % (r.case, TLS_SESSION_EXTRA * 1000,
                                           extra * 1000,
                                           verdict(extra <= TLS_SESSION_EXTRA)))
            continue
        x = r.rate() / clear.rate()
        out.append("| tls %s: at least %.1f× the clear path's MB/s | "
                   "%.2f× | %s |" % (r.case, TLS_RETR_VS_CLEAR, x,
                                     verdict(x >= TLS_RETR_VS_CLEAR)))
        if dtls is not None and r.case.endswith("implicit TLS"):
            y = r.rate() / dtls.rate()
            out.append("| tls %s: at least %d× Dovecot's with TLS | %.1f× "
                       "| %s |" % (r.case, TLS_RETR_VS_DOVECOT, y,
                                   verdict(y >= TLS_RETR_VS_DOVECOT)))
    return "\n".join(out)
