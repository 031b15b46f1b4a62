#!/usr/bin/env python3
"""A TLS terminator in front of pop3d: stunnel, in its exec mode.

usage: stunnel_test.py POP3D POP3D_PASSWD

stunnel accepts TLS on a loopback port and starts one pop3d per
connection, which speaks plain POP3 to stunnel over a local socket.
curl fetches and deletes over pop3s:// and poplib over POP3_SSL, byte
for byte.  stunnel hands pop3d a loopback TCP connection (Debian's build)
and the client's address in REMOTE_HOST; pop3d's log must name the
client, not 127.0.0.1.  So the test runs in private mount and network
namespaces, with a documentation address on lo for the client.  Needs
root, stunnel4 and openssl; skipped (77) otherwise.
"""
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
from deploylib import (Syslog, add_user, bound, free_port, on_disk,  # noqa
                       private_dev, reexec_private, tempdir)
from pop3dtest import check, crlf, finish, skip  # noqa: E402

POP3D, PASSWD = (os.path.abspath(p) for p in sys.argv[1:3])
PASSWORD = "tls secret"
ADDR = "198.51.100.7"        # the client's and stunnel's, on lo
MESSAGES = {"1.eml": b"Subject: one\n\nover TLS\n.dot\n",
            "2.eml": b"Subject: two\r\n\r\nsecond\r\n"}


def start_stunnel(top, port):
    key = os.path.join(top, "key.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "rsa:2048",
                    "-nodes", "-keyout", key, "-out", key + ".crt",
                    "-days", "1", "-subj", "/CN=localhost"],
                   check=True, capture_output=True, timeout=60)
    with open(key, "ab") as k, open(key + ".crt", "rb") as c:
        k.write(c.read())
    os.chmod(key, 0o600)
    conf = os.path.join(top, "stunnel.conf")
    with open(conf, "w") as f:
        f.write("foreground = yes\npid =\n"
                "[pop3s]\naccept = %s:%d\ncert = %s\n"
                "exec = %s\nexecArgs = pop3d --users %s --mail-root %s\n"
                % (ADDR, port, key, POP3D, os.path.join(top, "users"),
                   os.path.join(top, "mail")))
    log = open(os.path.join(top, "stunnel.log"), "wb")
    proc = subprocess.Popen(["stunnel4", conf], stdout=log, stderr=log,
                            stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline and proc.poll() is None:
        try:
            socket.create_connection((ADDR, port), timeout=2).close()
            return proc
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("stunnel did not start: " + open(
        os.path.join(top, "stunnel.log"), errors="replace").read())


def main():
    for tool in ("stunnel4", "openssl", "curl", "ip"):
        if shutil.which(tool) is None:
            skip(tool + " not found (scripts/install-deps installs it)")
    reexec_private("POP3D_DEPLOY_NS", net=True)
    bound(60)
    private_dev()
    for cmd in (["link", "set", "lo", "up"],
                ["addr", "add", ADDR + "/32", "dev", "lo"]):
        subprocess.run(["ip"] + cmd, check=True)
    log = Syslog()
    top = tempdir("pop3d-tls.")
    proc = None
    try:
        add_user(PASSWD, os.path.join(top, "users"), "me", PASSWORD)
        box = os.path.join(top, "mail", "me")
        os.makedirs(box)
        for name, data in MESSAGES.items():
            with open(os.path.join(box, name), "wb") as f:
                f.write(data)
        port = free_port(ADDR)
        proc = start_stunnel(top, port)

        ctx = ssl.create_default_context()
        ctx.check_hostname = False
        ctx.verify_mode = ssl.CERT_NONE
        c = poplib.POP3_SSL(ADDR, port, context=ctx, timeout=30)
        try:
            c.user("me")
            c.pass_(PASSWORD)
            _, lines, _ = c.retr(1)
            check(b"".join(l + b"\r\n" for l in lines) ==
                  crlf(MESSAGES["1.eml"]), "poplib over TLS: RETR 1 "
                  "byte-exact")
            c.quit()
        finally:
            c.close()
        url = "pop3s://%s:%d/" % (ADDR, port)
        base = ["curl", "-sS", "-k", "--max-time", "30", "--user",
                "me:" + PASSWORD]
        r = subprocess.run(base + [url + "2"], capture_output=True,
                           timeout=60)
        check(r.returncode == 0 and r.stdout == crlf(MESSAGES["2.eml"]),
              "curl pop3s:// retrieves message 2 byte-exact",
              (r.returncode, r.stderr))
        r = subprocess.run(base + ["-X", "DELE", "-I", url + "1"],
                           capture_output=True, timeout=60)
        check(r.returncode == 0 and on_disk(box) == ["2.eml"],
              "curl pop3s:// deletes message 1", (r.returncode, r.stderr,
                                                  on_disk(box)))
        lines = [l for l in log.snapshot() if b" pop3d[" in l]
        logins = [l for l in lines if b" login user=me result=ok" in l]
        check(len(logins) == 3, "three logins logged", lines)
        check(lines and all(re.search(rb" pop3d\[(\d+)\]: session=\1@"
                                      + re.escape(ADDR.encode()) + b" ", l)
                            for l in lines),
              "each line names the client (stunnel's REMOTE_HOST), not the "
              "relay's loopback address", lines[:2])
    finally:
        if proc is not None:
            proc.terminate()
            proc.wait(timeout=10)
        log.close()
        shutil.rmtree(top, ignore_errors=True)
    sys.exit(finish())


if __name__ == "__main__":
    main()
