"""What the Python tests share: one tally of checks, skipping, pop3d's
command line, and one oracle for the bytes pop3d sends.

    from pop3dtest import check, finish, skip, crlf
    check(reply.startswith(b"+OK"), "login", reply)
    sys.exit(finish())

Output: each failed check prints "FAIL: what: detail"; a passed one
prints nothing (the crash test makes thousands) unless $POP3DTEST_VERBOSE
is set, when it prints "ok: what".  finish() prints "N passed, N failed".

python3 tests/pop3dtest.py checks the CRLF oracle on its edge cases.
"""
import errno
import os
import pty
import shlex
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile

SKIP = 77               # meson's "skipped"

_tally = {"passed": 0, "failed": 0}


def check(ok, what, detail=None):
    """Counts one check and returns ok.  A failure prints what, and detail
    when given (str as it is, anything else as its repr)."""
    if ok:
        _tally["passed"] += 1
        if os.environ.get("POP3DTEST_VERBOSE"):
            print("ok:", what, flush=True)
    else:
        _tally["failed"] += 1
        if detail is None or detail == "":
            print("FAIL:", what, flush=True)
        else:
            print("FAIL: %s: %s" % (what, detail if isinstance(detail, str)
                                    else repr(detail)), flush=True)
    return ok


def failures():
    """How many checks have failed so far."""
    return _tally["failed"]


def finish():
    """Prints "N passed, N failed"; returns the exit status: 1 when a check
    failed or none was made, else 0."""
    print("%d passed, %d failed" % (_tally["passed"], _tally["failed"]),
          flush=True)
    return 1 if _tally["failed"] or not _tally["passed"] else 0


def skip(why):
    """Ends the test as skipped (exit 77), saying why."""
    print("skipped:", why, flush=True)
    sys.exit(SKIP)


def add_user(passwd, users, name, password, options=()):
    """pop3d-passwd add name with password to the users file; raises
    when it fails, since no test can go on without its user."""
    r = subprocess.run([passwd, "add", "--users", users] + list(options) +
                       [name],
                       input=password.encode() + b"\n", capture_output=True,
                       timeout=60)
    if r.returncode != 0:
        raise RuntimeError("pop3d-passwd add %r: %d %r"
                           % (name, r.returncode, r.stderr))


def run_steps(prefix, passwd, password, steps):
    """Runs each step(base) in one fresh folder under /var/tmp (a disk,
    not a tmpfs: inodes and birth times as in the field) whose users
    file holds "me" with password, removes it, and returns finish()'s
    exit code."""
    base = tempfile.mkdtemp(prefix=prefix, dir="/var/tmp")
    try:
        add_user(passwd, os.path.join(base, "users"), "me", password)
        for step in steps:
            step(base)
    finally:
        shutil.rmtree(base, ignore_errors=True)
    return finish()


def pop3d_argv(pop3d, *args):
    """pop3d's command line, under $POP3D_WRAPPER when it is set (the
    'valgrind' test setup sets it to a valgrind command line)."""
    return shlex.split(os.environ.get("POP3D_WRAPPER", "")) + [pop3d] + list(args)


def wrapped():
    """Whether pop3d runs under a wrapper: no timing or memory figures."""
    return bool(os.environ.get("POP3D_WRAPPER", "").strip())


def on_terminal(argv, data=b"", env=None, timeout=120):
    """Runs argv with stdin and stdout on pipes and stderr on a
    pseudo-terminal, as a person trying pop3d by hand has it; returns
    (exit code, stdout, what the terminal showed, CR LF made LF)."""
    master, slave = pty.openpty()
    try:
        p = subprocess.Popen(argv, stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=slave, env=env)
    finally:
        os.close(slave)
    seen = bytearray()
    try:
        out, _ = p.communicate(data, timeout=timeout)
        while True:
            try:
                chunk = os.read(master, 65536)
            except OSError:         # EIO: every writer is gone
                break
            if not chunk:
                break
            seen += chunk
    finally:
        p.kill()
        os.close(master)
    return p.returncode, out, bytes(seen).replace(b"\r\n", b"\n")


def wait_stopped(tracer):
    """The pid of tracer's child once strace (run with
    "-e inject=CALL:signal=SIGSTOP") says it stopped (group-stop:
    "stopped by SIGSTOP" on strace's stderr), or None if it never does.
    A state of t in /proc would not do: every syscall-stop shows it."""
    for line in tracer.stderr:
        if line.startswith(b"--- stopped by SIGSTOP ---"):
            with open("/proc/%d/task/%d/children" % (tracer.pid, tracer.pid)) as f:
                return int(f.read().split()[0])
    return None


def end_tracer(tracer, pid):
    """Kills a tracer that has not ended, and its child pid (if known):
    for a finally after wait_stopped."""
    if tracer.poll() is None:
        if pid is not None:
            os.kill(pid, signal.SIGKILL)
        tracer.kill()
        tracer.wait()


def private_syslog(flag):
    """Re-runs the calling test in a private mount namespace (unshare -m)
    the first time, with $flag set; there, mounts a fresh /dev and binds
    a datagram socket at /dev/log, where syslog(3) writes, and returns
    it.  Skips (77) without root or unshare."""
    if os.environ.get(flag) != "1":
        if os.geteuid() != 0 or shutil.which("unshare") is None:
            skip("needs root and unshare")
        os.environ[flag] = "1"
        os.execvp("unshare", ["unshare", "--mount", "--propagation",
                              "private", sys.executable] + sys.argv)
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs",
                    "/dev"], check=True)
    for name, minor in (("null", 3), ("zero", 5), ("random", 8),
                        ("urandom", 9)):
        os.mknod("/dev/" + name, 0o666 | stat.S_IFCHR, os.makedev(1, minor))
        os.chmod("/dev/" + name, 0o666)
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    sock.bind("/dev/log")
    return sock


def drain_log(sock, wait=0.5):
    """The log lines waiting on sock, until none comes for wait seconds."""
    lines = []
    sock.settimeout(wait)
    try:
        while True:
            lines.append(sock.recv(65536))
    except socket.timeout:
        pass
    return lines


def kernel_tls():
    """Whether pop3d's TLS would be the kernel's here: the list of TCP's
    upper-layer protocols names "tls", and a TCP socket on loopback takes
    it."""
    import socket
    try:
        with open("/proc/sys/net/ipv4/tcp_available_ulp") as f:
            if "tls" not in f.read().split():
                return False
    except OSError:
        return False
    tcp_ulp = getattr(socket, "TCP_ULP", 31)
    with socket.socket() as lst:
        lst.bind(("127.0.0.1", 0))
        lst.listen(1)
        with socket.create_connection(lst.getsockname()) as c:
            try:
                c.setsockopt(socket.IPPROTO_TCP, tcp_ulp, b"tls")
                return True
            except OSError:
                return False


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

    def __init__(self, argv, host="127.0.0.1", env=None):
        import socket
        import threading
        self.argv = argv
        self.env = env
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
                                 stderr=subprocess.PIPE, env=self.env)
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


# The CRLF oracle: what pop3d sends of a message, written from DESIGN.md's
# rule and not from pop3d's code.  Each line ended by LF or CRLF is sent
# with CRLF; a last line without an ending gets one, a CR that ends the
# file being taken as that ending; every other octet (a lone CR, NUL,
# 8-bit) passes through.  Sizes (LIST, STAT, "+OK N octets") are those of
# this form before dot-stuffing.

def crlf_chunks(chunks):
    """The CRLF form of a message given as an iterable of bytes, yielded
    piece by piece: a file of any size in constant memory."""
    held_cr = False     # the last chunk ended with a CR: CRLF or lone?
    last = b""
    for chunk in chunks:
        if not chunk:
            continue
        last = chunk[-1:]
        if held_cr:
            chunk = b"\r" + chunk
        held_cr = chunk.endswith(b"\r")
        if held_cr:
            chunk = chunk[:-1]
        yield chunk.replace(b"\r\n", b"\n").replace(b"\n", b"\r\n")
    if last not in (b"", b"\n"):        # no ending, or a held CR
        yield b"\r\n"


def send_then_half_close(sock, data):
    """Sends data on sock, then half-closes it.  A server that refuses
    what it read may close first, and its close with data unread resets
    the connection: that is no error here, since what it sent before is
    still there to be read."""
    try:
        if data:
            sock.sendall(data)
        sock.shutdown(socket.SHUT_WR)
    except OSError as e:
        if e.errno not in (errno.ENOTCONN, errno.ECONNRESET, errno.EPIPE):
            raise


def crlf(data):
    """The CRLF form of a message in memory (bytes)."""
    return b"".join(crlf_chunks([data]))


def crlf_size_of(path, chunk=1 << 20):
    """The octets of a file's CRLF form, read chunk by chunk."""
    with open(path, "rb") as f:
        return sum(len(piece) for piece in
                   crlf_chunks(iter(lambda: f.read(chunk), b"")))


def stuffed(data):
    """RETR's answer after its first line: the CRLF form's lines, those
    starting with "." given another, then ".\r\n"."""
    return b"".join((b"." + l if l.startswith(b".") else l) + b"\r\n"
                    for l in crlf(data).split(b"\r\n")[:-1]) + b".\r\n"


def top(data, n):
    """The CRLF form cut after the header, its blank line and n lines
    (TOP's answer before dot-stuffing)."""
    out, in_body, left = [], False, n
    for l in crlf(data).split(b"\r\n")[:-1]:
        if in_body:
            if left == 0:
                break
            left -= 1
        out.append(l + b"\r\n")
        if not in_body and l == b"":
            in_body = True
            if n == 0:
                break
    return b"".join(out)


def check_oracle():
    """Checks the oracle itself (through check()) on its edge cases, each
    whole, in chunks of one octet and cut at every one or two places."""
    cases = [
        (b"", b""),
        (b"a", b"a\r\n"),
        (b"a\n", b"a\r\n"),
        (b"a\r\n", b"a\r\n"),
        (b"a\r", b"a\r\n"),                  # a CR ending the file
        (b"\r", b"\r\n"),
        (b"\n", b"\r\n"),
        (b"\n\n", b"\r\n\r\n"),
        (b"a\rb\n", b"a\rb\r\n"),            # a lone CR passes
        (b"a\r\r\n", b"a\r\r\n"),             # CR, then a CRLF ending
        (b"a\r\rb", b"a\r\rb\r\n"),
        (b"a\r\r", b"a\r\r\n"),                # lone CR, then the last
        (b"\x00\n\x00", b"\x00\r\n\x00\r\n"),    # NUL passes
        (b"\xe9\xff\r\n\x80", b"\xe9\xff\r\n\x80\r\n"),
        (b"x\n\r\n\ny", b"x\r\n\r\n\r\ny\r\n"),
        (b"S: a\n\nbody\r\nlast", b"S: a\r\n\r\nbody\r\nlast\r\n"),
    ]
    for data, want in cases:
        ways = [[data], [data[:1], b"", data[1:]],
                [data[i:i + 1] for i in range(len(data))]]
        cuts = range(len(data) + 1)
        ways += [[data[:i], data[i:j], data[j:]]
                 for i in cuts for j in cuts if i <= j]
        wrong = [w for w in ways if b"".join(crlf_chunks(w)) != want]
        check(crlf(data) == want and not wrong,
              "oracle: crlf(%r) is %r" % (data, want),
              "crlf %r; chunks %r" % (crlf(data), wrong[:3]))
    for data, want in ((b"", b".\r\n"),
                       (b".\n..\nx.", b"..\r\n...\r\nx.\r\n.\r\n"),
                       (b"a\r", b"a\r\n.\r\n")):
        check(stuffed(data) == want,
              "oracle: stuffed(%r) is %r" % (data, want), stuffed(data))
    msg = b"H: 1\n\nb1\nb2\r\nb3"
    for n, want in ((0, b"H: 1\r\n\r\n"), (1, b"H: 1\r\n\r\nb1\r\n"),
                    (5, b"H: 1\r\n\r\nb1\r\nb2\r\nb3\r\n")):
        check(top(msg, n) == want, "oracle: top(%r, %d)" % (msg, n),
              top(msg, n))
    import tempfile
    with tempfile.NamedTemporaryFile() as f:
        data = b"".join(case for case, _ in cases) * 50 + b"end\r"
        f.write(data)
        f.flush()
        for size in (1, 2, 3, 7, 1 << 20):
            got = crlf_size_of(f.name, size)
            check(got == len(crlf(data)),
                  "oracle: crlf_size_of in chunks of %d" % size, got)


if __name__ == "__main__":
    check_oracle()
    sys.exit(finish())
