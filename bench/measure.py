"""bench/run's measuring: bench/launch.c built and run around each server
(wall, CPU, peak RSS), the sessions of pop3d, Dovecot and `cat` with
their replies checked, runs interleaved, TCP sessions through
systemd-socket-activate, and argon2id timed alone; Row holds a case's
samples."""

import os
import shutil
import signal
import socket
import statistics
import subprocess
import time

from common import BenchError
from mailboxes import mkdirs

HERE = os.path.dirname(os.path.abspath(__file__))

PASSWORD = "bench-passw0rd"
DOVECOT_POP3 = "/usr/lib/dovecot/pop3"
# Courier's pop3 after its login: serves the Maildir named on its command
# line to whoever runs it, on stdin/stdout, as courierpop3login would.
COURIER_POP3 = "usr/lib/courier/courier/courierpop3d"


class Sample(dict):
    """wall, cpu, user, sys (seconds), rss (KiB), status, bytes, lines."""


class Ctx:
    pass


def build_launch(ctx):
    src = os.path.join(HERE, "launch.c")
    out = os.path.join(ctx.work, "bin", "launch")
    os.makedirs(os.path.dirname(out), exist_ok=True)
    cc = os.environ.get("CC", "cc")
    for static in (["-static"], []):
        r = subprocess.run([cc, "-O2", "-std=gnu11", "-Wall"] + static +
                           ["-o", out + ".tmp", src],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        if r.returncode == 0:
            os.replace(out + ".tmp", out)
            return out
    raise BenchError("cannot build bench/launch.c with %s:\n%s" %
                     (cc, r.stdout.decode(errors="replace")))


def launch(ctx, argv, inp=None, env=None, lines=False, nopipe=False,
           cwd=None, save=True):
    """Runs argv under the launcher; a Sample (and head, tail bytes)."""
    cmd = [ctx.launch, "-e", ctx.errlog]
    if ctx.owner:
        cmd += ["-u", str(ctx.owner[0]), "-g", str(ctx.owner[1])]
    if inp is not None:
        path = os.path.join(ctx.run, "input")
        with open(path, "wb") as f:
            f.write(inp)
        cmd += ["-i", path]
    savep = os.path.join(ctx.run, "out")
    if save and not nopipe:
        cmd += ["-o", savep]
    if lines:
        cmd.append("-l")
    if nopipe:
        cmd.append("-n")
    cmd += ["--"] + argv
    r = subprocess.run(cmd, stdout=subprocess.PIPE, env=env or ctx.env,
                       cwd=cwd, timeout=3600)
    if r.returncode != 0:
        raise BenchError("launcher failed (%d) for %s" % (r.returncode, argv))
    f = r.stdout.split()
    s = Sample(wall=int(f[0]) / 1e6, user=int(f[1]) / 1e6,
               sys=int(f[2]) / 1e6, rss=int(f[3]), status=int(f[4]),
               bytes=int(f[5]), lines=int(f[6]))
    s["cpu"] = s["user"] + s["sys"]
    head = tail = b""
    if save and not nopipe:
        with open(savep + ".head", "rb") as fh:
            head = fh.read()
        with open(savep + ".tail", "rb") as fh:
            tail = fh.read()
    return s, head, tail


def exit_ok(ctx, s, what):
    st = s["status"]
    if not (os.WIFEXITED(st) and os.WEXITSTATUS(st) == 0):
        raise BenchError("%s: exit status %#x (log: %s)" % (what, st, ctx.errlog))


def pop3d_cmd(ctx, users):
    return [ctx.pop3d, "--users", users, "--mail-root", ctx.boxes,
            "--ban-file", os.path.join(ctx.run, "ban"), "--idle-timeout", "60"]


def login(user):
    return ("USER %s\r\nPASS %s\r\n" % (user, PASSWORD)).encode()


def dovecot_state(ctx, box):
    return os.path.join(ctx.work, "dovecot", box.name)


def dovecot_cmd(ctx, box):
    st = dovecot_state(ctx, box)
    return [DOVECOT_POP3, "-c", ctx.dovecot_conf, "-o",
            "mail_location=maildir:%s:INDEX=%s/index:CONTROL=%s/control" %
            (box.path, st, st)]


def dovecot_env(ctx, box):
    if not os.path.isdir(dovecot_state(ctx, box)):
        mkdirs(dovecot_state(ctx, box), ctx.owner, 0o700)
    env = dict(ctx.env)
    env.update(USER="bench", HOME=dovecot_state(ctx, box))
    return env


def reset_courier(ctx, box):
    """Forgets Courier's size cache of box: a first login."""
    p = os.path.join(box.path, "courierpop3dsizelist")
    if os.path.exists(p):
        os.unlink(p)


def reset_pop3d(ctx, box):
    """Forgets what pop3d keeps about box (its size cache): a first login."""
    for n in os.listdir(box.path):
        if n.startswith(".pop3d"):
            os.unlink(os.path.join(box.path, n))


def reset_dovecot(ctx, box):
    st = dovecot_state(ctx, box)
    if os.path.exists(st):
        shutil.rmtree(st)
    mkdirs(st, ctx.owner, 0o700)


def check_replies(what, head, tail, n_ok, stat=None, box=None):
    """The first n_ok replies (as far as head holds them) are +OK, and so
    is the last line of tail; the STAT reply, if any, is right."""
    lines = head.split(b"\r\n")[:-1]        # whole lines only
    if (len(lines) < n_ok and len(head) < 65536) or \
            any(not x.startswith(b"+OK") for x in lines[:n_ok]):
        raise BenchError("%s: unexpected replies: %r" % (what, head[:300]))
    if stat is not None:
        parts = lines[stat].split() if stat < len(lines) else []
        want = [b"+OK", str(box.count).encode(), str(box.crlf_total).encode()]
        if parts[:3] != want:
            raise BenchError("%s: STAT said %r, want %r" %
                             (what, b" ".join(parts), b" ".join(want)))
    last = tail.rstrip(b"\r\n").rsplit(b"\r\n", 1)[-1]
    if not last.startswith(b"+OK") or not tail.endswith(b"\r\n"):
        raise BenchError("%s: last reply %r" % (what, last[:200]))


def median(xs):
    return statistics.median(xs)


class Row:
    def __init__(self, scen, case, server, samples, work=None, unit=None,
                 per=None):
        self.scen, self.case, self.server = scen, case, server
        self.samples = samples
        self.work = work        # bytes (throughput) or sessions (rate)
        self.unit = unit        # "MB/s" or "sess/s"
        self.per = per          # messages, for per-message figures

    def med(self, key):
        return median([s[key] for s in self.samples])

    def rng(self, key):
        xs = [s[key] for s in self.samples]
        return min(xs), max(xs)

    def rate(self):
        if self.work is None:
            return None
        w = self.med("wall")
        return self.work / 1e6 / w if self.unit == "MB/s" else self.work / w


def interleaved(ctx, runners, box=None):
    """runners: [(server, fn)]; runs each ctx.runs times, round-robin.
    With box, every timed run starts right after box's files (and
    Dovecot's index of it) were read, untimed: warm page cache for all."""
    res = {name: [] for name, _ in runners}
    for _ in range(ctx.runs):
        for name, fn in runners:
            if box is not None:
                warm_page_cache(ctx, box)
            res[name].append(fn())
    return res


def warm_page_cache(ctx, box):
    """Reads box's files and Dovecot's files about it, untimed.  Page cache
    does not stay put on every machine (a VM's DAMON pageout, say)."""
    launch(ctx, ["xargs", "-0", "-a", ctx.lists[box.name], "cat"],
           save=False)
    for top, _, names in os.walk(dovecot_state(ctx, box)):
        for n in names:
            try:
                with open(os.path.join(top, n), "rb") as f:
                    while f.read(1 << 20):
                        pass
            except OSError:
                pass


def pop3d_session(ctx, box, cmds, what, n_ok, stat=None, lines=False,
                  reset=False, users=None):
    def fn():
        if reset:
            reset_pop3d(ctx, box)
        s, head, tail = launch(ctx, pop3d_cmd(ctx, users or ctx.users_min),
                               inp=login(box.name) + cmds, lines=lines)
        exit_ok(ctx, s, what)
        check_replies(what, head, tail, 3 + n_ok, None if stat is None
                      else 3 + stat, box)
        return s
    return fn


def dovecot_session(ctx, box, cmds, what, n_ok, stat=None, lines=False,
                    reset=False):
    def fn():
        if reset:
            reset_dovecot(ctx, box)
        s, head, tail = launch(ctx, dovecot_cmd(ctx, box), inp=cmds,
                               env=dovecot_env(ctx, box), lines=lines)
        exit_ok(ctx, s, what)
        check_replies(what, head, tail, n_ok, stat, box)
        return s
    return fn


def courier_session(ctx, box, cmds, what, n_ok, lines=False, reset=False):
    """Courier's pop3 on box, logged in already: its greeting is the
    first reply.  Its STAT counts the files' octets, not the CRLF form's,
    so STAT is not checked.  It runs in the Maildir: it refuses a working
    folder with the sticky bit (its sign of an account put on hold)."""
    def fn():
        if reset:
            reset_courier(ctx, box)
        s, head, tail = launch(ctx, [ctx.courier, box.path], inp=cmds,
                               lines=lines, cwd=box.path)
        exit_ok(ctx, s, what)
        check_replies(what, head, tail, 1 + n_ok)
        return s
    return fn


def cat_all(ctx, box, what):
    def fn():
        s, _, _ = launch(ctx, ["xargs", "-0", "-a", ctx.lists[box.name],
                               "cat"], save=False)
        exit_ok(ctx, s, what)
        if s["bytes"] != box.file_total:
            raise BenchError("%s: cat sent %d bytes, want %d" %
                             (what, s["bytes"], box.file_total))
        return s
    return fn


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def tcp_sessions(ctx, argv, env, n, cmds, n_ok, box, what):
    """Starts argv under systemd-socket-activate; n sequential sessions."""
    port = free_port()
    errlog = os.path.join(ctx.run, "activate.log")
    if os.path.exists(errlog):
        os.unlink(errlog)
    sa = ["systemd-socket-activate", "-l", "127.0.0.1:%d" % port, "--inetd",
          "-a"]
    for k in ("USER", "HOME"):
        if k in env:
            sa += ["-E", "%s=%s" % (k, env[k])]
    cmd = [ctx.launch, "-n", "-e", errlog]
    if ctx.owner:
        cmd += ["-u", str(ctx.owner[0]), "-g", str(ctx.owner[1])]
    proc = subprocess.Popen(cmd + ["--"] + sa + argv, stdout=subprocess.PIPE,
                            env=env)
    deadline = time.monotonic() + 10
    while True:
        try:
            with open(errlog) as f:
                if "Listening on" in f.read():
                    break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            proc.kill()
            raise BenchError("%s: systemd-socket-activate did not start "
                             "(log: %s)" % (what, errlog))
        time.sleep(0.01)
    lat = []
    try:
        t0 = time.monotonic()
        for _ in range(n):
            t = time.monotonic()
            with socket.create_connection(("127.0.0.1", port)) as s:
                s.sendall(cmds)
                data = b""
                while True:
                    chunk = s.recv(65536)
                    if not chunk:
                        break
                    data += chunk
            lat.append(time.monotonic() - t)
            check_replies(what, data, data, n_ok, n_ok - 2, box)
        wall = time.monotonic() - t0
        time.sleep(0.2)         # let the last session's process be reaped
    finally:
        proc.send_signal(signal.SIGTERM)
        out, _ = proc.communicate(timeout=30)
    f = out.split()
    if len(f) < 7:
        raise BenchError("%s: no figures from the launcher" % what)
    user, sys_ = int(f[1]) / 1e6, int(f[2]) / 1e6
    return Sample(wall=wall, cpu=user + sys_, user=user, sys=sys_,
                  rss=int(f[3]), status=0, bytes=0, lines=0,
                  lat=median(lat), sessions=n)


def argon2_verify_time(ctx, users, name):
    """Median time of one crypto_pwhash_str_verify of name's hash, in this
    process through ctypes (no exec, no file): argon2id alone."""
    import ctypes
    import ctypes.util
    lib = ctypes.util.find_library("sodium")
    if lib is None:
        return None
    sodium = ctypes.CDLL(lib)
    if sodium.sodium_init() < 0:
        return None
    with open(users) as f:
        for line in f:
            parts = line.rstrip("\n").split(":")
            if parts[0] == name:
                h = parts[1].encode()
                break
        else:
            return None
    pw = PASSWORD.encode()
    ts = []
    for _ in range(ctx.sizes["argon2_runs"]):
        t = time.perf_counter()
        r = sodium.crypto_pwhash_str_verify(h, pw, ctypes.c_ulonglong(len(pw)))
        ts.append(time.perf_counter() - t)
        if r != 0:
            raise BenchError("argon2id: the hash of %s does not verify" % name)
    return median(ts)
