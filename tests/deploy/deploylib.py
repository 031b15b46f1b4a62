"""Helpers shared by the deployment tests (Python standard library only).
The tally of checks, skip() and the CRLF oracle are tests/pop3dtest.py's.

- private_dev/Syslog: run in a private mount namespace with a /dev of our
  own, whose /dev/log is a datagram socket we read: syslog(3) lines of
  pop3d (and xinetd) without a syslog daemon, as
  tests/integration/log_test.py does.
- Activator: pop3d behind the real xinetd or systemd-socket-activate on
  a free loopback port.
"""
import os
import re
import shutil
import signal
import socket
import stat
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from pop3dtest import add_user, crlf, skip  # noqa: E402,F401


def bound(seconds):
    """Ends the test (as a failure) once it has run this long."""
    def expire(signum, frame):
        raise TimeoutError("test took longer than %d s" % seconds)
    signal.signal(signal.SIGALRM, expire)
    signal.alarm(seconds)


def reexec_private(env_flag, net=False):
    """Re-runs this script in a private mount namespace (needs root), and
    a private network namespace (only lo) when net is true."""
    if os.environ.get(env_flag) == "1":
        return
    if os.geteuid() != 0 or shutil.which("unshare") is None:
        skip("needs root and unshare (a private /dev/log)")
    os.environ[env_flag] = "1"
    os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
    os.execvp("unshare", ["unshare", "--mount", "--propagation", "private"]
              + (["--net"] if net else []) + [sys.executable] + sys.argv)


def private_dev():
    """A fresh /dev in this (private) mount namespace."""
    subprocess.run(["mount", "-t", "tmpfs", "-o", "mode=755", "tmpfs",
                    "/dev"], check=True)
    for name, minor in (("null", 3), ("zero", 5), ("full", 7), ("random", 8),
                        ("urandom", 9)):
        os.mknod("/dev/" + name, 0o666 | stat.S_IFCHR,
                 os.makedev(1, minor))
        os.chmod("/dev/" + name, 0o666)


class Syslog:
    """Every datagram written to /dev/log, collected by a thread."""

    def __init__(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        self.sock.bind("/dev/log")
        os.chmod("/dev/log", 0o666)
        self.sock.settimeout(0.2)
        self.lines = []
        self.lock = threading.Lock()
        self.stop = False
        self.thread = threading.Thread(target=self.run, daemon=True)
        self.thread.start()

    def run(self):
        while not self.stop:
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                continue
            except OSError:
                return
            with self.lock:
                self.lines.append(data)

    def snapshot(self):
        with self.lock:
            return list(self.lines)

    def wait_for(self, pattern, timeout=10.0, since=0):
        """The first line (bytes) after index since that matches the
        regular expression pattern (bytes), or None after timeout."""
        deadline = time.monotonic() + timeout
        rx = re.compile(pattern)
        while True:
            for line in self.snapshot()[since:]:
                if rx.search(line):
                    return line
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)

    def close(self):
        self.stop = True
        self.thread.join(2)
        self.sock.close()


def free_port(host="127.0.0.1"):
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def _while_in_use(argv, home):
    """Runs a client, again while the mailbox is [IN-USE] (the session
    before has answered QUIT but not quite ended); the last run."""
    for _ in range(50):
        r = subprocess.run(argv, env=dict(os.environ, HOME=home),
                           capture_output=True, timeout=120)
        if b"IN-USE" not in r.stdout + r.stderr:
            break
        time.sleep(0.1)
    return r


def fetchmail(home, port, user, password, out, keep=False):
    """fetchmail against 127.0.0.1:port in the clear, as user, every
    message into a file of its own in out, with its rc, ids and pid files
    in home (root's default pid file is shared with other tests)."""
    os.makedirs(home, exist_ok=True)
    os.makedirs(out, exist_ok=True)
    rc = os.path.join(home, ".fetchmailrc")
    pw = password.replace("\\", "\\\\").replace('"', '\\"')
    with open(rc, "w") as f:
        f.write('set no syslog\n'
                'poll 127.0.0.1 protocol pop3 port %d timeout 30\n'
                '  user "%s" there with password "%s" is "root" here\n'
                "  options fetchall %s sslproto ''\n"
                '  mda "sh -c \'cat > %s/m.$$\'"\n'
                % (port, user, pw, "keep" if keep else "nokeep", out))
    os.chmod(rc, 0o600)
    return _while_in_use(["fetchmail", "-f", rc, "--invisible",
                          "--norewrite", "-i", os.path.join(home, "ids"),
                          "--pidfile", os.path.join(home, "pid")], home)


def mpop(home, port, user, password, maildir, keep=True):
    """mpop against 127.0.0.1:port in the clear, as user, into maildir,
    with its rc and UIDL files in home."""
    os.makedirs(home, exist_ok=True)
    rc = os.path.join(home, ".mpoprc")
    with open(rc, "w") as f:
        f.write("defaults\ntls off\nauth user\nreceived_header off\n"
                "timeout 30\n"
                "account test\nhost 127.0.0.1\nport %d\nuser %s\n"
                "password \"%s\"\nkeep %s\nuidls_file %s/uidls\n"
                "delivery maildir %s\n" % (port, user, password,
                                           "on" if keep else "off", home,
                                           maildir))
    os.chmod(rc, 0o600)
    return _while_in_use(["mpop", "-C", rc, "-a"], home)


def lf(data):
    """What fetchmail and mpop deliver: the message with LF endings."""
    return crlf(data).replace(b"\r\n", b"\n")


def delivered(folder):
    """The contents of every file under folder (what a client delivered),
    sorted."""
    out = []
    for dirpath, _, files in os.walk(folder):
        for f in files:
            with open(os.path.join(dirpath, f), "rb") as fh:
                out.append(fh.read())
    return sorted(out)


def on_disk(folder):
    return sorted(n for n in os.listdir(folder) if not n.startswith("."))


def xinetd_service(entry, **overrides):
    """The service block of a shipped xinetd entry with some attributes
    replaced (or added); the rest is kept as shipped."""
    out, seen = [], set()
    with open(entry) as f:
        text = f.read()
    body = re.search(r"^service\s+(\S+)\s*\n\{\n(.*?)^\}", text,
                     re.M | re.S)
    if body is None:
        raise RuntimeError("no service block in " + entry)
    for line in body.group(2).splitlines():
        m = re.match(r"\s*(\w+)\s*=\s*(.*)$", line)
        if m and m.group(1) in overrides:
            out.append("\t%s = %s" % (m.group(1), overrides[m.group(1)]))
            seen.add(m.group(1))
        elif m:
            out.append(line)
    for k, v in overrides.items():
        if k not in seen:
            out.append("\t%s = %s" % (k, v))
    return "service %s\n{\n%s\n}\n" % (body.group(1), "\n".join(out))


class Activator:
    """pop3d behind "xinetd" or "socket-activate" on a loopback port."""

    def __init__(self, kind, pop3d, args, workdir, xinetd_entry=None,
                 host="127.0.0.1", setenv=None, hello=b"", xinetd_over=None):
        self.kind, self.pop3d, self.args = kind, pop3d, list(args)
        # What a prober says first: a PROXY header where pop3d trusts
        # the prober's address as a proxy's.
        self.hello = hello
        # More of the xinetd entry's attributes to set (only_from).
        self.xinetd_over = xinetd_over or {}
        self.workdir, self.entry, self.host = workdir, xinetd_entry, host
        self.setenv = setenv or {}
        self.proc = None
        self.port = None
        self.log = os.path.join(workdir, kind + ".out")

    def start(self, want=None):
        """Starts it on port want, or on a free port; returns the port."""
        for _ in range(1 if want else 10):
            port = want or free_port(self.host)
            argv = self.argv(port)
            with open(self.log, "ab") as log:
                self.proc = subprocess.Popen(
                    argv, stdin=subprocess.DEVNULL, stdout=log, stderr=log,
                    start_new_session=True, preexec_fn=die_with_parent)
            if self.wait_ready(port):
                self.port = port
                return port
            self.stop()
        raise RuntimeError("%s did not start; see %s" % (self.kind, self.log))

    def argv(self, port):
        if self.kind == "socket-activate":
            addr = "[%s]:%d" % (self.host, port) if ":" in self.host \
                else "%s:%d" % (self.host, port)
            # It passes pop3d no environment but what -E names.
            env = ["-E%s=%s" % kv for kv in self.setenv.items()]
            return ["systemd-socket-activate", "-l", addr, "--inetd", "-a"] \
                + env + [self.pop3d] + self.args
        if self.kind == "xinetd":
            conf = os.path.join(self.workdir, "xinetd.conf")
            over = dict(disable="no", port=str(port), bind=self.host,
                        user="root", group="root", server=self.pop3d,
                        server_args=" ".join(self.args))
            if os.environ.get("POP3D_SANITIZED") == "1":
                over["rlimit_as"] = "UNLIMITED"     # ASan's shadow memory
            over.update(self.xinetd_over)
            svc = xinetd_service(self.entry, **over)
            with open(conf, "w") as f:
                f.write("defaults\n{\n\tinstances = 60\n}\n\n" + svc)
            return ["xinetd", "-dontfork", "-f", conf,
                    "-pidfile", os.path.join(self.workdir, "xinetd.pid")]
        raise ValueError(self.kind)

    def wait_ready(self, port):
        """True once a connection on port gets pop3d's greeting."""
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline and self.proc.poll() is None:
            try:
                with socket.create_connection((self.host, port),
                                              timeout=5) as s:
                    s.settimeout(5)
                    if self.hello:
                        s.sendall(self.hello)
                    greeting = s.recv(100)
                    s.sendall(b"QUIT\r\n")
                    s.recv(100)
            except OSError:
                time.sleep(0.05)
                continue
            return greeting.startswith(b"+OK")
        return False

    def stop(self):
        if self.proc is None or self.proc.poll() is not None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGTERM)
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
        except ProcessLookupError:
            pass


def tempdir(prefix):
    top = tempfile.mkdtemp(prefix=prefix)
    os.chmod(top, 0o755)
    return top


def die_with_parent():
    """For preexec_fn: the child gets SIGTERM when the test dies
    (PR_SET_PDEATHSIG), so a server never outlives it."""
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(1, signal.SIGTERM, 0, 0, 0)


def nginx_auth_user(name):
    """name (bytes) as nginx's mail module sends it to auth_http in
    Auth-User: ngx_escape_uri with NGX_ESCAPE_MAIL_AUTH writes bytes
    below 0x21 and % as %XX (upper-case hex), every other byte as is."""
    return b"".join(b"%%%02X" % c if c <= 0x20 or c == 0x25 else bytes([c])
                    for c in name)


def nginx_route(port, name):
    """The Auth-* headers (a dict of bytes) that the auth_http server on
    loopback port answers for name (bytes), asked as the mail module
    asks."""
    with socket.create_connection(("127.0.0.1", port), timeout=10) as s:
        s.sendall(b"GET /pop3d-auth HTTP/1.0\r\nHost: localhost\r\n"
                  b"Auth-Method: plain\r\nAuth-User: " +
                  nginx_auth_user(name) + b"\r\nAuth-Pass: x\r\n"
                  b"Auth-Protocol: pop3\r\n\r\n")
        s.settimeout(10)
        data = read_to_end(s)
    return dict(re.findall(rb"\r\n(Auth-[A-Za-z]+): ([^\r\n]*)", data))


def read_to_end(s):
    """What socket s gives until it closes, fails or times out."""
    import ssl
    out = b""
    while True:
        try:
            chunk = s.recv(65536)
        except (ConnectionError, ssl.SSLError, socket.timeout):
            return out
        if not chunk:
            return out
        out += chunk
