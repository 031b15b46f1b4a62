#!/usr/bin/env python3
"""A pop3d host that dies unannounced behind nginx's mail proxy
(docs/many-hosts.md, "A host that is down"): pop3d-routes' health check.

usage: health_test.py POP3D POP3D_PASSWD POP3D_XINETD CONTRIB_NGINX

The two hosts and the private nginx of hosts_test.py (which takes the
same arguments): pop3d under xinetd on 127.0.0.2 (al) and 127.0.0.3
(bo), the shipped nginx files, the maps pop3d-routes renders.  nginx is
reloaded through a script that counts the reloads.

Checked: probes of live hosts are served by pop3d as from nginx itself,
log no login, count no failure and ban nobody, and reload nothing; the
admin's own "down" stays down while the host answers; a failed reload
is said (exit 111) and done at the next round; a host that comes
and goes between every probe (flapping) reloads nginx never; under
pop3d-routes watch, host a's activator killed without a word gets its
user -ERR [SYS/TEMP] through nginx (poplib in the clear and over TLS,
curl over TLS) within a bounded wait, while bo on host b logs in and
fetches mail all the time without one failure, and host a started again
serves al again by itself, with one reload each way and a line in the
watcher's log for each; hosts that answer garbage, flood or say nothing
are marked down with their words escaped, in a bounded time; hostile
routes files (bad names, bad hosts) make probe and watch write nothing,
reload nothing and say why; a damaged state file is a fresh start;
under watch an edit of the routes file takes effect by itself, a bad
edit is said once and leaves the last rendering.

The shipped pop3d-routes-watch.service passes systemd-analyze verify.

Needs root (namespaces, a /dev/log of its own), nginx with its mail
module, xinetd, openssl, curl, ip and systemd-analyze; else skipped
(77).
"""
import os
import poplib
import re
import signal
import socket
import ssl
import subprocess
import sys
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from hosts_test import (NGINX, ROUTES_CMD, FromPOP3, FromPOP3SSL,  # noqa
                        Host, Nginx, retr, run_parts, set_up, tear_down)
from pop3dtest import check, crlf, finish  # noqa: E402

USERS = {"al": ("a", "al's pass", b"Subject: al\n\non host a\n"),
         "bo": ("b", "bo's pass", b"Subject: bo\n\non host b\n")}
SYS_TEMP = b"-ERR [SYS/TEMP] try again later"
CLIENT = "198.51.100.2"
WAIT = 20       # seconds: a bound, never a sleep


def routes(hosts, down=None):
    """The routes file: al on host a, bo on host b."""
    lines = [b"host %s %s %d%s" % (h.dir[-1].encode(), h.host.encode(),
                                   h.port,
                                   b" down" if down == h.dir[-1] else b"")
             for h in hosts]
    return b"\n".join(lines + [b"default a", b"user al a", b"user bo b",
                               b""])


class Reloader:
    """The command pop3d-routes reloads nginx with: nginx -s reload, each
    run counted in a file."""

    def __init__(self, top, ngx):
        self.count = os.path.join(top, "reloads")
        self.command = os.path.join(top, "reload")
        with open(self.command, "w") as f:
            f.write("#!/bin/sh\necho reload >> %s\nexec %s -s reload\n"
                    % (self.count, " ".join(ngx.nginx())))
        os.chmod(self.command, 0o755)

    def runs(self):
        try:
            with open(self.count) as f:
                return len(f.readlines())
        except FileNotFoundError:
            return 0


def probe(routes_file, output, reloader, *more):
    """One round of pop3d-routes probe."""
    return subprocess.run([ROUTES_CMD, "probe", "-o", output, "-r",
                           reloader.command, "-t", "5"] + list(more) +
                          [routes_file], capture_output=True, timeout=60)


def watch(routes_file, output, reloader, err, *more):
    """pop3d-routes watch started (a round every 0.2 s unless more says
    otherwise), its standard error to the file err."""
    with open(err, "wb") as f:
        return subprocess.Popen([ROUTES_CMD, "watch", "-i", "0.2", "-t", "3",
                                 "-o", output, "-r", reloader.command] +
                                list(more) + [routes_file], stderr=f,
                                stdin=subprocess.DEVNULL)


def read(path):
    with open(path, "rb") as f:
        return f.read()


def login(ngx, name, how, ctx):
    """(first line of the refusal, or b"+OK"), and the first message, for
    name logging in through nginx with poplib, how "clear" or "TLS"."""
    try:
        if how == "TLS":
            pop = FromPOP3SSL(ngx.ports["tls"], CLIENT, ctx)
        else:
            pop = FromPOP3(ngx.ports["clear"], CLIENT)
    except OSError as e:
        return repr(e).encode(), None
    try:
        pop.user(name)
        pop.pass_(USERS[name][1])
        first = retr(pop, 1)
        pop.quit()
        return b"+OK", first
    except poplib.error_proto as e:
        return e.args[0], None
    except OSError as e:
        return repr(e).encode(), None
    finally:
        pop.close()


def curl_tls(ngx, certs, name):
    """curl over implicit TLS through nginx: its exit status and what the
    server said (-v)."""
    r = subprocess.run(
        ["curl", "-sv", "--max-time", "30", "--interface", CLIENT,
         "--cacert", certs["root"], "-u", "%s:%s" % (name, USERS[name][1]),
         "pop3s://%s:%d/1" % (NGINX, ngx.ports["tls"])],
        capture_output=True, timeout=60, env=dict(os.environ, no_proxy="*"))
    return r.returncode, r.stdout, r.stderr


def wait_until(what, timeout=WAIT):
    """what() polled until true or timeout; returns its last value."""
    deadline = time.monotonic() + timeout
    got = what()
    while not got and time.monotonic() < deadline:
        time.sleep(0.05)
        got = what()
    return got


class Fetcher(threading.Thread):
    """bo logging in through nginx and fetching his message, over and
    over, in the clear and over TLS, until stopped; every result kept."""

    def __init__(self, ngx, ctx):
        super().__init__(daemon=True)
        self.ngx, self.ctx = ngx, ctx
        self.stop = threading.Event()
        self.good, self.bad = 0, []

    def run(self):
        n = 0
        while not self.stop.is_set():
            how = ("clear", "TLS")[n % 2]
            said, body = login(self.ngx, "bo", how, self.ctx)
            if said == b"+OK" and body == crlf(USERS["bo"][2]):
                self.good += 1
            else:
                self.bad.append((how, said))
            n += 1
            self.stop.wait(0.05)


class FakeHost(threading.Thread):
    """A "host" on addr that says says to every connection (after
    reading what the prober sends first), or keeps sending it."""

    def __init__(self, says, flood=False, addr="127.0.0.5"):
        super().__init__(daemon=True)
        self.says, self.flood, self.addr = says, flood, addr
        self.sock = socket.socket(socket.AF_INET6 if ":" in addr
                                  else socket.AF_INET, socket.SOCK_STREAM)
        self.sock.bind((addr, 0))
        self.sock.listen(8)
        self.port = self.sock.getsockname()[1]
        self.start()

    def run(self):
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            threading.Thread(target=self.serve, args=(conn,),
                             daemon=True).start()

    def serve(self, conn):
        with conn:
            conn.settimeout(10)
            try:
                conn.recv(100)
                conn.sendall(self.says)
                while self.flood:
                    conn.sendall(self.says)
                conn.recv(100)
            except OSError:
                pass


def test_hostile_routes(top, reloader):
    """Bad names and bad hosts: probe and watch write nothing, reload
    nothing, and say which line."""
    bad = [
        (b"host a 127.0.0.2 1\ndefault a\nuser al%zz a\n", b"line 3"),
        (b"host a 127.0.0.2 1\ndefault a\nuser bad\x01name a\n", b"line 3"),
        (b"host a;include 127.0.0.2 1\ndefault a\n", b"line 1"),
        (b"host a localhost 110\ndefault a\n", b"line 1"),
        (b"host a 127.0.0.2 1; x\ndefault a\n", b"line 1"),
        (b"host a 127.0.0.2 70000\ndefault a\n", b"line 1"),
        (b"host a 0.0.0.0 110\ndefault a\n", b"line 1"),
        (b"host a 224.0.0.1 110\ndefault a\n", b"line 1"),
        (b"host a 127.0.0.2 110\nhost A 127.0.0.3 110\ndefault a\n",
         b"line 2"),
        (b"host a 127.0.0.2 110\ndefault a\nuser al b\n", b"line 3"),
        (b"host a 127.0.0.2 110 sometimes\ndefault a\n", b"line 1"),
    ]
    before = reloader.runs()
    for n, (text, where) in enumerate(bad):
        folder = os.path.join(top, "hostile-%d" % n)
        os.makedirs(folder)
        path = os.path.join(folder, "routes")
        with open(path, "wb") as f:
            f.write(text)
        r = probe(path, os.path.join(folder, "out"), reloader)
        check(r.returncode == 100 and where in r.stderr and
              os.listdir(folder) == ["routes"],
              "probe, hostile routes %d: exit 100, says %s, writes "
              "nothing" % (n, where.decode()), (r.returncode, r.stderr,
                                                os.listdir(folder)))
    folder = os.path.join(top, "hostile-0")
    out = os.path.join(folder, "out")
    for args in (["probe", "-r", "", "-o", out], ["probe", "-r", "'a", "-o",
                                                  out],
                 ["probe", "-t", "0", "-o", out], ["watch", "-i", "x", "-o",
                                                   out],
                 ["probe"], ["watch", "-o", out, "-q"]):
        r = subprocess.run([ROUTES_CMD] + args + [os.path.join(folder,
                                                               "routes")],
                           capture_output=True, timeout=30)
        check(r.returncode == 100 and b"usage: " in r.stderr and
              os.listdir(folder) == ["routes"],
              "bad usage %r: exit 100, the usage, nothing written" % args,
              (r.returncode, r.stderr))
    # watch keeps going (the routes file may be fixed), says why once.
    err = os.path.join(top, "hostile-watch.err")
    w = watch(os.path.join(folder, "routes"), os.path.join(folder, "out"),
              reloader, err, "-i", "0.05")
    try:
        said = wait_until(lambda: b"line 3" in read(err))
        rounds = time.monotonic() + 0.5
        alive = wait_until(lambda: w.poll() is not None or
                           time.monotonic() > rounds)
    finally:
        w.send_signal(signal.SIGTERM)
        w.wait(timeout=10)
    check(said and alive and w.returncode == 0 and
          read(err).count(b"\n") == 1 and os.listdir(folder) == ["routes"],
          "watch, hostile routes: says why once, writes nothing, keeps "
          "watching, ends on SIGTERM", (read(err), w.returncode,
                                        os.listdir(folder)))
    check(reloader.runs() == before, "hostile routes reload nothing")


def test_hostile_hosts(top, reloader):
    """Hosts that say garbage, flood without a line end or say nothing:
    down after two rounds, each round bounded by the probe's timeout,
    their bytes escaped in the log."""
    fakes = {"garbage": FakeHost(b"\x1b[31mHTTP/1.0 400 \xff\r\n"),
             "flood": FakeHost(b"+OK\x1b" * 1000, flood=True),
             "silent": FakeHost(b""),
             "refusal": FakeHost(b"-ERR [SYS/TEMP] busy\r\n"),
             "refusal6": FakeHost(b"-ERR [SYS/TEMP] six\r\n",
                                  addr="2001:db8::2")}
    folder = os.path.join(top, "fakes")
    os.makedirs(folder)
    path = os.path.join(folder, "routes")
    with open(path, "wb") as f:
        f.write(b"".join(b"host %s %s %d\n" % (name.encode(), h.addr.encode(),
                                               h.port)
                         for name, h in fakes.items()) +
                b"default silent\n")
    before = reloader.runs()
    out = os.path.join(folder, "out")
    took = []
    for _ in range(2):
        t0 = time.monotonic()
        r = probe(path, out, reloader, "-t", "1")
        took.append(time.monotonic() - t0)
    text = read(out)
    check(r.returncode == 0 and
          text.count(b'"[SYS/TEMP] try again later";') == len(fakes),
          "hostile hosts: all down after two rounds", (r.stderr, text))
    check(max(took) < 10, "each round bounded by the probe's timeout "
          "(%.1f s, %.1f s)" % tuple(took))
    check(r.stderr.count(b" is down ") == len(fakes) and
          re.fullmatch(rb"[\x20-\x7e\n]*", r.stderr) and
          b"\\x1b[31mHTTP/1.0 400 \\xff" in r.stderr and
          b"no greeting within 1 s" in r.stderr and
          b"-ERR [SYS/TEMP] busy" in r.stderr and
          b"host refusal6 at 2001:db8::2 " in r.stderr and
          b"-ERR [SYS/TEMP] six" in r.stderr,
          "each host down in one log line, its bytes escaped", r.stderr)
    check(reloader.runs() == before + 2,
          "a reload for the first rendering and one for the hosts down",
          reloader.runs() - before)
    for h in fakes.values():
        h.sock.close()


def test_quiet(log, hosts, ngx, reloader, ctx):
    """Probes of live hosts: served as nginx itself, no login, no
    failure, no ban, no reload."""
    since = len(log.snapshot())
    rendered = read(ngx.rendered)
    for _ in range(3):
        r = probe(ngx.routes, ngx.rendered, reloader)
        check(r.returncode == 0 and r.stderr == b"",
              "probe, both hosts up: nothing to say", r.stderr)
    check(read(ngx.rendered) == rendered and reloader.runs() == 0,
          "both hosts up: the rendering as pop3d-routes -o made it, no "
          "reload")
    for host in hosts:
        ends = log.wait_for(rb"pop3d\[(\d+)\]: session=\1@%s end "
                            rb"reason=quit" % NGINX.encode(), since=since)
        check(ends is not None, "host %s served the probe as from nginx "
              "and ended it with QUIT" % host.host)
    lines = b"\n".join(log.snapshot()[since:])
    check(lines.count(b"client=none") >= 6 and
          not re.search(rb"login |proxy via=\S+ result=bad|result=deny",
                        lines),
          "no probe is a login, a bad header or a failure in pop3d's log",
          lines[-600:])
    for host in hosts:
        ban = read(host.ban) if os.path.exists(host.ban) else b""
        check(NGINX.encode() not in ban,
              "host %s counts nothing against nginx's address" % host.host,
              ban)
    check(login(ngx, "al", "clear", ctx)[0] == b"+OK",
          "al logs in after the probes (--ban-after 2: nobody banned)")


def test_admin_down(hosts, ngx, reloader):
    """The admin's down stays down, though the host answers."""
    with open(ngx.routes, "wb") as f:
        f.write(routes(hosts, down="a"))
    r = probe(ngx.routes, ngx.rendered, reloader)
    text = read(ngx.rendered)
    check(r.returncode == 0 and b'"\\\\a" "[SYS/TEMP] try again later";'
          in text and b'"\\\\b" "OK";' in text and reloader.runs() == 1,
          "host a marked down by the admin, probed up: rendered down",
          (r.stderr, text))
    with open(ngx.routes, "wb") as f:
        f.write(routes(hosts))
    r = probe(ngx.routes, ngx.rendered, reloader, "-r", "false")
    check(r.returncode == 111 and b"false: exit status 1" in r.stderr and
          b'"\\\\a" "OK";' in read(ngx.rendered) and reloader.runs() == 1,
          "the mark taken away, the reload fails: exit 111, says so",
          (r.returncode, r.stderr))
    r = probe(ngx.routes, ngx.rendered, reloader)
    check(r.returncode == 0 and reloader.runs() == 2,
          "... and the next round reloads, though the maps are the same",
          (r.returncode, r.stderr))
    r = probe(ngx.routes, ngx.rendered, reloader)
    check(r.returncode == 0 and reloader.runs() == 2,
          "... and the one after reloads nothing")


def test_state_file(hosts, ngx, reloader):
    """A state file that is not one is a fresh start; one that says a
    live host is down is corrected by one probe."""
    state = ngx.rendered + ".health"
    before = reloader.runs()
    with open(state, "wb") as f:
        f.write(b"\0{not json\n")
    r = probe(ngx.routes, ngx.rendered, reloader)
    check(r.returncode == 0 and b"not a state file; starting afresh"
          in r.stderr and reloader.runs() == before,
          "a damaged state file: said, started afresh, nothing reloaded",
          r.stderr)
    with open(state, "w") as f:
        f.write('{"hosts": {"a": {"at": "127.0.0.2 %d", "down": true, '
                '"failed": 7}}, "reload": false}' % hosts[0].port)
    r = probe(ngx.routes, ngx.rendered, reloader)
    check(r.returncode == 0 and b"host a at 127.0.0.2 %d is up again"
          % hosts[0].port in r.stderr and reloader.runs() == before,
          "a live host the state calls down: up at once; the maps said "
          "so already, so nothing is reloaded", r.stderr)


def edit(path, data):
    """path holding data at once, as an editor saves it: the watcher
    reads the old file or the new, never half of one."""
    with open(path + ".new", "wb") as f:
        f.write(data)
    os.rename(path + ".new", path)


def test_watch_renders(top, ngx, reloader, ctx):
    """Under watch, an edit of the routes file takes effect by itself; a
    bad one is said once and the last rendering stays."""
    err = os.path.join(top, "watch-edit.err")
    good = read(ngx.routes)
    watcher = watch(ngx.routes, ngx.rendered, reloader, err)
    try:
        edit(ngx.routes, good.replace(b"\nhost b ", b" down\nhost b ", 1))
        reloads = ngx.reloads()
        check(wait_until(lambda: ngx.reloads() > reloads and
                         login(ngx, "al", "clear", ctx)[0] == SYS_TEMP),
              "under watch, host a marked down in the routes file: al gets "
              "[SYS/TEMP] with no render by hand")
        edit(ngx.routes, good + b"user broken%zz a\n")
        said = wait_until(lambda: b"line 6" in read(err))
        rendered = read(ngx.rendered)
        edit(ngx.routes, good)
        reloads = ngx.reloads()
        check(said and b'"\\\\a" "[SYS/TEMP]' in rendered and
              wait_until(lambda: ngx.reloads() > reloads and
                         login(ngx, "al", "clear", ctx)[0] == b"+OK"),
              "a bad edit is said and the last rendering stays; fixed, al "
              "is served again", read(err))
    finally:
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(timeout=10)
    check(read(err).count(b"line 6") == 1 and b" is down " not in read(err),
          "the bad edit said once; no host taken for dead", read(err))


def kill(host):
    """The host's activator and its pop3d processes killed at once, as a
    crash or a power cut would leave them: nothing is told."""
    os.killpg(host.proc.pid, signal.SIGKILL)
    host.proc.wait(timeout=10)


def test_flapping(hosts, ngx, reloader):
    """Host a gone at one probe and back at the next, three times: never
    down, nginx never reloaded."""
    before, rendered = reloader.runs(), read(ngx.rendered)
    said = b""
    for _ in range(3):
        kill(hosts[0])
        said += probe(ngx.routes, ngx.rendered, reloader).stderr
        hosts[0].start(hosts[0].port)
        said += probe(ngx.routes, ngx.rendered, reloader).stderr
    check(said == b"" and reloader.runs() == before and
          read(ngx.rendered) == rendered,
          "a flapping host: one failed probe at a time marks nothing, "
          "reloads nothing", (said, reloader.runs() - before))


def test_dies(top, hosts, ngx, reloader, certs, ctx):
    """Under watch: host a killed, al gets [SYS/TEMP] by itself; host a
    back, al is served by itself; bo is served all the time."""
    err = os.path.join(top, "watch.err")
    before = reloader.runs()
    watcher = watch(ngx.routes, ngx.rendered, reloader, err)
    bo = Fetcher(ngx, ctx)
    bo.start()
    try:
        check(wait_until(lambda: bo.good >= 2), "bo fetches his mail")
        kill(hosts[0])
        t0, reloads = time.monotonic(), ngx.reloads()
        # Once nginx's old worker has let go (it says so first): a
        # client may reach either while both listen.
        got = wait_until(lambda: ngx.reloads() > reloads and
                         login(ngx, "al", "clear", ctx)[0] == SYS_TEMP)
        took = time.monotonic() - t0
        check(got, "host a killed: al gets -ERR [SYS/TEMP] in the clear, "
              "no admin's hand (%.1f s)" % took,
              login(ngx, "al", "clear", ctx))
        said = login(ngx, "al", "TLS", ctx)
        check(said[0] == SYS_TEMP, "... and over TLS (poplib)", said)
        rc, out, verbose = curl_tls(ngx, certs, "al")
        check(rc != 0 and b"< " + SYS_TEMP in verbose,
              "... and over TLS (curl)", (rc, verbose[-400:]))
        check(re.search(rb"host a at 127\.0\.0\.2 %d is down \(2 probes "
                        rb"failed; the last: Connection refused\)"
                        % hosts[0].port, read(err)),
              "the watcher says host a is down, and why", read(err))

        hosts[0].start(hosts[0].port)
        t0, reloads = time.monotonic(), ngx.reloads()
        got = wait_until(lambda: ngx.reloads() > reloads and
                         login(ngx, "al", "clear", ctx) ==
                         (b"+OK", crlf(USERS["al"][2])))
        took = time.monotonic() - t0
        check(got, "host a back: al is served again, no admin's hand "
              "(%.1f s)" % took, login(ngx, "al", "clear", ctx))
        check(login(ngx, "al", "TLS", ctx)[0] == b"+OK",
              "... and over TLS")
        check(re.search(rb"host a at 127\.0\.0\.2 %d is up again"
                        % hosts[0].port, read(err)),
              "the watcher says host a is up again", read(err))
        good = bo.good
        check(wait_until(lambda: bo.good >= good + 2),
              "bo still fetches his mail")
    finally:
        bo.stop.set()
        bo.join(60)
        watcher.send_signal(signal.SIGTERM)
        watcher.wait(timeout=10)
    check(bo.bad == [] and bo.good >= 4,
          "bo on host b: %d sessions through it all, none failed" % bo.good,
          bo.bad[:5])
    check(reloader.runs() == before + 2 and
          read(err).count(b"\n") == 2,
          "one reload and one log line each way",
          (reloader.runs() - before, read(err)))
    check(watcher.returncode == 0, "watch ends on SIGTERM")


def test_unit(top):
    """The shipped unit passes systemd-analyze verify (no systemd runs
    here to start it), its command being the pop3d-routes under test."""
    with open(os.path.join(os.path.dirname(ROUTES_CMD),
                           "pop3d-routes-watch.service")) as f:
        unit = f.read()
    check(unit.count("ExecStart=/usr/sbin/pop3d-routes watch -o ") == 1,
          "the unit runs pop3d-routes watch")
    folder = os.path.join(top, "unit")
    os.makedirs(folder)
    path = os.path.join(folder, "pop3d-routes-watch.service")
    with open(path, "w") as f:
        f.write(unit.replace("/usr/sbin/pop3d-routes", ROUTES_CMD))
    r = subprocess.run(["systemd-analyze", "verify", "--man=no", path],
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0 and r.stderr == "",
          "systemd-analyze verify takes pop3d-routes-watch.service",
          r.stderr)


def main():
    log, top, certs = set_up(("curl", "systemd-analyze"), 150,
                             "pop3d-health.")
    hosts, ngx = [], None
    try:
        ctx = ssl.create_default_context(cafile=certs["root"])
        hosts = [Host(top, "a", "127.0.0.2"), Host(top, "b", "127.0.0.3")]
        for name, (host, password, message) in USERS.items():
            hosts[host == "b"].add(name, password, {"1.eml": message})
        for host in hosts:
            host.start()
        ngx = Nginx(top, certs)
        if ngx.render(routes(hosts)) != 0 or not check(ngx.start(),
                                                       "nginx starts"):
            sys.exit(finish())
        reloader = Reloader(top, ngx)
        run_parts(((test_quiet, (log, hosts, ngx, reloader, ctx)),
                   (test_admin_down, (hosts, ngx, reloader)),
                   (test_flapping, (hosts, ngx, reloader)),
                   (test_state_file, (hosts, ngx, reloader)),
                   (test_dies, (top, hosts, ngx, reloader, certs, ctx)),
                   (test_watch_renders, (top, ngx, reloader, ctx)),
                   (test_hostile_routes, (top, reloader)),
                   (test_hostile_hosts, (top, reloader)),
                   (test_unit, (top,))))
    finally:
        tear_down(top, log, hosts, ngx)
    sys.exit(finish())


if __name__ == "__main__":
    main()
