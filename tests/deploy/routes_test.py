#!/usr/bin/env python3
"""pop3d-routes against hostile names and broken routes files.

usage: routes_test.py CONTRIB_NGINX

Names in the routes file that look like nginx syntax (quotes, braces,
semicolons, $variables, backslashes, include, default, ~regexes), hold
control bytes, %, spaces, UTF-8 or bytes that are no UTF-8, are 255
bytes long, or differ only in case: the rendered maps must pass nginx -t
and, in a private nginx serving the shipped pop3d-auth.conf on loopback,
each name must route to its own host (asked as nginx's mail module asks,
Auth-User escaped as it escapes), names not listed to the default, and
nothing else may appear in the configuration.  Broken routes files are
refused with exit status 100 and a line number, and leave the last
rendering in place.

Needs nginx; skipped (77) without it.
"""
import os
import shutil
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from deploylib import (bound, die_with_parent, free_port,  # noqa: E402
                       nginx_route, tempdir)
from pop3dtest import check, finish, skip  # noqa: E402

CONTRIB = os.path.abspath(sys.argv[1])
ROUTES_CMD = os.path.join(CONTRIB, "pop3d-routes")

# (name, host); hosts: h1 127.0.0.11, h2 127.0.0.12, h3 127.0.0.13 down.
HOSTILE = [
    (b'x"; } server { listen 1; } map $a $b { "', "h2"),
    (b"a;b", "h2"), (b"{", "h2"), (b"}", "h2"), (b";", "h2"),
    (b'"', "h2"), (b"'", "h2"), (b"\\", "h2"), (b"\\\\", "h2"),
    (b'\\"', "h2"), (b"$host", "h2"), (b"${x}", "h2"),
    (b"default", "h2"), (b"\\default", "h1"), (b"include", "h2"),
    (b"hostnames", "h2"), (b"volatile", "h2"), (b"~.*", "h2"),
    (b"~*A", "h2"), (b"*.example.com", "h2"), (b".example.com", "h2"),
    (b"#hash", "h2"), (b"%", "h2"), (b"%25", "h2"), (b"a%20b", "h2"),
    (b"john smith", "h2"), (b"tab\there", "h2"), (b"new\nline", "h2"),
    (b"cr\rhere", "h2"), (b"nul\0here", "h2"), (b"del\x7f", "h2"),
    (b"o'brien", "h2"), ("jos\u00e9".encode(), "h2"),
    ("JOS\u00c9".encode(), "h1"), (b"\xff\xfe", "h2"),
    (b"colon:name", "h2"), (b"x" * 255, "h2"), (b"%" * 255, "h2"),
    (b"Al", "h1"), (b"al", "h2"), (b"aL", "h3"),
    ("J\u00f6s\u00e9 x".encode(), "h1"), ("j\u00f6s\u00e9 x".encode(), "h2"),
    (b"Bo", "h2"), (b"bo", "h2"),
    (b"plain", "h1"),
]
HOSTS = {"h1": b"127.0.0.11", "h2": b"127.0.0.12", "h3": b"127.0.0.13"}


def users_escape(name):
    """A name as the users file writes it (pop3d.users(5))."""
    return b"".join(b"%%%02X" % c if c < 0x21 or c in b"%:\x7f"
                    else bytes([c]) for c in name)


def routes_file(pairs):
    lines = [b"# hostile names", b"host h1 127.0.0.11 1110",
             b"host h2 127.0.0.12 1110", b"host h3 127.0.0.13 2110 down",
             b"default h1"]
    lines += [b"user %s %s" % (users_escape(n), h.encode())
              for n, h in pairs]
    return b"\n".join(lines) + b"\n"


def render(top, data, out):
    path = os.path.join(top, "routes")
    with open(path, "wb") as f:
        f.write(data)
    return subprocess.run([ROUTES_CMD, "-o", out, path], capture_output=True,
                          timeout=30)


def start_nginx(top, port):
    conf = os.path.join(top, "nginx.conf")
    with open(os.path.join(CONTRIB, "pop3d-auth.conf")) as f:
        auth = f.read()
    check(auth.count("listen 127.0.0.1:9143;") == 1,
          "pop3d-auth.conf listens on loopback")
    with open(os.path.join(top, "conf.d", "pop3d-auth.conf"), "w") as f:
        f.write(auth.replace("listen 127.0.0.1:9143;",
                             "listen 127.0.0.1:%d;" % port))
    with open(conf, "w") as f:
        f.write("pid %s/nginx.pid;\nerror_log %s/error.log notice;\n"
                "worker_processes 1;\nevents {}\nhttp {\n"
                "\tinclude %s/conf.d/*.conf;\n}\n" % (top, top, top))
    argv = ["nginx", "-p", top + "/", "-c", conf, "-e",
            os.path.join(top, "error.log")]
    r = subprocess.run(argv + ["-t"], capture_output=True, timeout=30)
    check(r.returncode == 0, "nginx -t takes the rendered maps", r.stderr)
    proc = subprocess.Popen(argv + ["-g", "daemon off;"],
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL,
                            preexec_fn=die_with_parent)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=5).close()
            return proc
        except OSError:
            time.sleep(0.05)
    return proc


def test_routing(port):
    for name, host in HOSTILE:
        got = nginx_route(port, name)
        want = {b"Auth-Server": HOSTS[host], b"Auth-Port":
                b"2110" if host == "h3" else b"1110",
                b"Auth-Status": b"[SYS/TEMP] try again later"
                if host == "h3" else b"OK"}
        check(got == want, "%r routes to %s" % (name, host), got)
    for name in (b"nobody", b"AL", b"a", b"x", b"$host2", b"defaul",
                 b"\\\\\\", b"x" * 254, b"%" * 254, b".*"):
        check(nginx_route(port, name).get(b"Auth-Server") == HOSTS["h1"],
              "%r, not listed, routes to the default" % name[:20])
    # nginx's map ignores ASCII case: BO is bo's host; a name only
    # differing in case from names on several hosts gets the default.
    check(nginx_route(port, b"BO").get(b"Auth-Server") == HOSTS["h2"],
          "BO goes where Bo and bo live (and is unknown there)")
    # The first name, had it escaped its quotes, would have made nginx
    # listen on port 1 (and broken the map after it).
    try:
        socket.create_connection(("127.0.0.1", 1), timeout=5).close()
        listening = True
    except OSError:
        listening = False
    check(not listening, "no name made a server: nothing on port 1")


def test_refused(top):
    out = os.path.join(top, "conf.d", "pop3d-routes.conf")
    with open(out, "rb") as f:
        before = f.read()
    good = routes_file([(b"al", "h1")])
    # Each bad line comes after the six good ones: line 7.
    bad = [("a bad %", b"user a%4 h1"), ("a % at the end", b"user a% h1"),
           ("a raw control byte", b"user a\x01b h1"),
           ("a raw 0x7F", b"user a\x7fb h1"), ("a raw colon", b"user a:b h1"),
           ("a tab inside a name", b"user a\tb h1"),
           ("a user routed twice", b"user al h2"),
           ("an unknown host", b"user zed h9"),
           ("a host named twice", b"host h1 127.0.0.1 1"),
           ("a host named twice but for case", b"host H1 127.0.0.1 1"),
           ("a host name with ;", b"host h;4 127.0.0.1 1"),
           ("a host name with a quote", b'host h"4 127.0.0.1 1'),
           ("an address by name", b"host h4 mail.example 1"),
           ("an address with a brace", b"host h4 127.0.0.1} 1"),
           ("port 0", b"host h4 127.0.0.1 0"),
           ("port 70000", b"host h4 127.0.0.1 70000"),
           ("a word after the port", b"host h4 127.0.0.1 1 up"),
           ("a second default", b"default h2"),
           ("a name of 256 bytes", b"user " + b"x" * 256 + b" h1"),
           ("an unknown line", b"usr al h1"),
           ("a user line with 4 words", b"user a b h1")]
    cases = [(what, good + line + b"\n", 7) for what, line in bad]
    cases += [("no default", good.replace(b"default h1\n", b""), None),
              ("an empty file", b"", None)]
    for what, data, line in cases:
        r = render(top, data, out)
        with open(out, "rb") as f:
            after = f.read()
        check(r.returncode == 100 and after == before and
              (line is None or b"line %d:" % line in r.stderr),
              "%s is refused, naming line %s, rendering nothing"
              % (what, line), (r.returncode, r.stderr))
    r = render(top, good, os.path.join(top, "no", "such", "folder"))
    check(r.returncode == 111, "an output folder that is not there: 111",
          (r.returncode, r.stderr))
    r = subprocess.run([ROUTES_CMD, os.path.join(top, "nonexistent")],
                       capture_output=True, timeout=30)
    check(r.returncode == 111 and r.stdout == b"",
          "a routes file that is not there: 111", r.returncode)
    r = subprocess.run([ROUTES_CMD], capture_output=True, timeout=30)
    check(r.returncode == 100 and b"usage" in r.stderr, "no argument: 100")
    check(not [n for n in os.listdir(os.path.join(top, "conf.d"))
               if n.startswith(".")], "no temporary file left behind")


def test_many(top, port):
    """20,000 users and an IPv6 host: the rendered hash sizes hold them,
    and a reload routes by the new file."""
    lines = [b"host v4 127.0.0.11 1110", b"host v6 2001:DB8::0:1 995",
             b"default v4"]
    lines += [b"user user%05d v%d" % (i, 4 + 2 * (i % 2))
              for i in range(20000)]
    out = os.path.join(top, "conf.d", "pop3d-routes.conf")
    r = render(top, b"\n".join(lines) + b"\n", out)
    check(r.returncode == 0, "20,000 users render", r.stderr)
    argv = ["nginx", "-p", top + "/", "-c", os.path.join(top, "nginx.conf"),
            "-e", os.path.join(top, "error.log")]
    r = subprocess.run(argv + ["-s", "reload"], capture_output=True,
                       timeout=30)
    check(r.returncode == 0, "nginx takes them", r.stderr)
    want = {b"user00000": b"127.0.0.11", b"user19999": b"2001:db8::1",
            b"user12345": b"2001:db8::1", b"user20000": b"127.0.0.11"}
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        got = {n: nginx_route(port, n).get(b"Auth-Server") for n in want}
        if got == want:
            break
        time.sleep(0.1)
    check(got == want, "after the reload, 20,000 users route by the new "
          "file, the IPv6 address written as nginx takes it", got)


def main():
    if shutil.which("nginx") is None:
        skip("nginx not found")
    bound(100)
    top = tempdir("pop3d-routes.")
    os.makedirs(os.path.join(top, "conf.d"))
    proc = None
    try:
        out = os.path.join(top, "conf.d", "pop3d-routes.conf")
        r = render(top, routes_file(HOSTILE), out)
        check(r.returncode == 0, "hostile names render", r.stderr)
        port = free_port()
        proc = start_nginx(top, port)
        test_routing(port)
        test_refused(top)
        test_many(top, port)
    finally:
        if proc is not None and proc.poll() is None:
            proc.terminate()
            proc.wait(timeout=10)
        shutil.rmtree(top, ignore_errors=True)
    sys.exit(finish())


if __name__ == "__main__":
    main()
