"""What the Python tests share: a tally of checks and the closing line.

    from pop3dtest import check, finish
    check(reply.startswith(b"+OK"), "login: %r" % reply)
    sys.exit(finish())
"""
import os
import shlex
import sys

_tally = {"passed": 0, "failed": 0}


def check(ok, what, detail=None):
    """Counts one check; prints what failed (and detail, if given)."""
    if ok:
        _tally["passed"] += 1
    else:
        _tally["failed"] += 1
        print("FAIL:", what, "" if detail is None else repr(detail),
              flush=True)
    return ok


def pop3d_argv(pop3d, *args):
    """pop3d's command line, under $POP3D_WRAPPER when it is set (the
    'valgrind' test setup sets it to a valgrind command line)."""
    return shlex.split(os.environ.get("POP3D_WRAPPER", "")) + [pop3d] + list(args)


def wrapped():
    """Whether pop3d runs under a wrapper: no timing or memory figures."""
    return bool(os.environ.get("POP3D_WRAPPER", "").strip())


def finish():
    """Prints "N passed, N failed"; returns the exit status."""
    print("%d passed, %d failed" % (_tally["passed"], _tally["failed"]))
    sys.stdout.flush()
    return 1 if _tally["failed"] else 0


def make_certs(folder, names=("localhost",), ips=("127.0.0.1", "::1")):
    """A root CA, an intermediate CA under it and a server certificate
    under that (EC P-256, valid a day), made with openssl req and x509 in
    folder.  Returns the paths: "root" (what clients trust), "chain" (the
    server's certificate, then the intermediate: what --tls-cert takes)
    and "key" (the server's key)."""
    import subprocess

    def run(*argv):
        subprocess.run(["openssl"] + list(argv), check=True,
                       capture_output=True, timeout=60, cwd=folder)

    def ext(name, text):
        with open(os.path.join(folder, name), "w") as f:
            f.write(text)
        return name

    new = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes"]
    run("req", "-x509", *new, "-keyout", "root.key", "-out", "root.pem",
        "-days", "1", "-subj", "/CN=pop3d test root")
    run("req", "-new", *new, "-keyout", "mid.key", "-out", "mid.csr",
        "-subj", "/CN=pop3d test intermediate")
    run("x509", "-req", "-in", "mid.csr", "-CA", "root.pem", "-CAkey",
        "root.key", "-set_serial", "2", "-days", "1", "-out", "mid.pem",
        "-extfile", ext("mid.ext", "basicConstraints=critical,CA:TRUE\n"
                        "keyUsage=critical,keyCertSign,cRLSign\n"))
    run("req", "-new", *new, "-keyout", "server.key", "-out", "server.csr",
        "-subj", "/CN=" + names[0])
    san = ",".join(["DNS:" + n for n in names] + ["IP:" + i for i in ips])
    run("x509", "-req", "-in", "server.csr", "-CA", "mid.pem", "-CAkey",
        "mid.key", "-set_serial", "3", "-days", "1", "-out", "server.pem",
        "-extfile", ext("server.ext", "basicConstraints=CA:FALSE\n"
                        "subjectAltName=" + san + "\n"
                        "extendedKeyUsage=serverAuth\n"))
    paths = {k: os.path.join(folder, v) for k, v in (
        ("root", "root.pem"), ("chain", "chain.pem"), ("key", "server.key"))}
    with open(paths["chain"], "wb") as out:
        for name in ("server.pem", "mid.pem"):
            with open(os.path.join(folder, name), "rb") as f:
                out.write(f.read())
    os.chmod(paths["key"], 0o600)
    return paths


class Inetd:
    """pop3d once per connection on a loopback port, as inetd runs it:
    the connection on its stdin and stdout.  Unlike an activator it keeps
    what each pop3d did: sessions() lists (exit status, stderr) in the
    order they ended."""

    def __init__(self, argv, host="127.0.0.1"):
        import socket
        import threading
        self.argv = argv
        self.host = host
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        self.sock = socket.socket(fam, socket.SOCK_STREAM)
        self.sock.bind((host, 0))
        self.sock.listen(16)
        self.port = self.sock.getsockname()[1]
        self.lock = threading.Lock()
        self.done = []
        self.running = []
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        import subprocess
        import threading
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            p = subprocess.Popen(self.argv, stdin=conn.fileno(),
                                 stdout=conn.fileno(),
                                 stderr=subprocess.PIPE)
            conn.close()
            with self.lock:
                self.running.append(p)
            threading.Thread(target=self._reap, args=(p,),
                             daemon=True).start()

    def _reap(self, p):
        err = p.stderr.read()
        p.wait()
        with self.lock:
            self.running.remove(p)
            self.done.append((p.returncode, err))

    def sessions(self, n, timeout=30):
        """The first n sessions to end, waiting up to timeout seconds."""
        import time
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                if len(self.done) >= n:
                    return list(self.done[:n])
            time.sleep(0.02)
        with self.lock:
            return list(self.done)

    def forget(self):
        """Waits for the running sessions, then forgets every one."""
        import time
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with self.lock:
                if not self.running:
                    self.done = []
                    return
            time.sleep(0.02)

    def close(self):
        self.sock.close()
        with self.lock:
            for p in self.running:
                p.kill()
