#!/usr/bin/env python3
"""Resource limits, measured: hostile sizes and hostile pacing.

usage: limits_test.py POP3D RSS_LAUNCH PARAMS_H USERS POP3D_PASSWD

Runs the real pop3d on:

  - a 100 MB line without a newline, then a newline, NOOP and QUIT (one
    "-ERR line too long", then the session goes on); and the same line
    ended by EOF instead (no reply, exit 1);
  - a million pipelined NOOPs with a LIST n every thousandth command,
    answered all and in order;
  - a mailbox of 200,000 messages: STAT, LIST, UIDL, RETR and DELE of
    the last, QUIT; then one of POP3D_MSGS_MAX messages under xinetd's
    rlimit_as, which still works, and one more message: the first
    POP3D_MSGS_MAX are served, and a DELE lets the next one in;
  - a Maildir of POP3D_MSGS_MAX messages with names of NAME_MAX octets,
    and 1,000 more, under xinetd's rlimit_as: the first POP3D_MSGS_MAX;
  - a message of 4 GiB + 1 octet (a sparse file): LIST and STAT with
    its 64-bit size, TOP 1 0, and a RETR that streams every octet;
  - a users file of 100,000 lines, and one with a 10 MB line;
  - a login at pop3d-passwd's cost (argon2id over POP3D_PWHASH_MEM);
  - a message file whose name is 255 octets holding every byte a name
    may hold;
  - over implicit TLS (when pop3d has it): a login, a 10 MB line and a
    RETR of 64 MiB, to a client on a socketpair;
  - and, with --idle-timeout 2, a client that says nothing, one that
    sends a byte a second and never ends its line (before login, after
    it, past the line limit, inside AUTH), and one that stops reading
    in the middle of a large RETR: each is cut off within the timeout.

Each answer is checked octet for octet, and pop3d's peak memory (the
ru_maxrss of a child of RSS_LAUNCH, a small C launcher: Linux keeps a
process's peak across execve, so a child of Python would start from
Python's size) is held to what params.h states: POP3D_MEM_BASE_KIB, plus
POP3D_MEM_MSG octets and its name's per listed message (the names are
counted where they are long), plus POP3D_PWHASH_MEM at a
login at pop3d-passwd's cost.  Elsewhere the users are the transcript
tests' (cheapest argon2id cost), so the hash adds nothing to measure.
Prints what it measured, and last "N passed, N failed".
"""
import fcntl
import hashlib
import os
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pop3dtest import check, crlf, finish, make_certs  # noqa: E402

POP3D, LAUNCH, PARAMS_H, USERS, PASSWD = sys.argv[1:6]
MIB = 1024 * 1024
GREETING = b"+OK pop3d ready\r\n"
LOGIN = b"USER me\r\nPASS passw0rd\r\n"
LOGGED = GREETING + b"+OK send PASS\r\n"
IDLE = 2            # --idle-timeout of the pacing tests
SLACK = 1.5         # seconds a cut-off may take past the timeout


def params(path):
    """The integer #defines of params.h, expressions evaluated."""
    vals = {}
    with open(path) as f:
        text = re.sub(r"/\*.*?\*/", " ", f.read(), flags=re.S)
    for name, expr in re.findall(r"^#define[ \t]+(\w+)[ \t]+(.+)$", text,
                                 re.M):
        expr = re.sub(r"(?<=\d)(ULL|LL|UL|U|L)\b", "", expr.strip())
        expr = re.sub(r"\b[A-Z_][A-Z0-9_]*\b",
                      lambda m: str(vals.get(m.group(0), "None")), expr)
        if re.fullmatch(r"[0-9+\-*/()<> ]+", expr):
            vals[name] = eval(expr.replace("/", "//"))  # noqa: S307
    return vals


P = params(PARAMS_H)
BASE_KIB = P["POP3D_MEM_BASE_KIB"]
MSG_OCTETS = P["POP3D_MEM_MSG"]
MSGS_MAX = P["POP3D_MSGS_MAX"]
PWHASH_KIB = P["POP3D_PWHASH_MEM"] // 1024
LINE_MAX = P["POP3D_LINE_MAX"]
# A message being read has a window of its file mapped, resident.
MAPWIN_KIB = P["POP3D_MAPWIN"] // 1024


class Run:
    """One pop3d under the launcher: feed it, read it, time it."""

    def __init__(self, root, args=(), users=USERS, rlimit_as=None):
        self.report = tempfile.mktemp(prefix="pop3d-rss.")

        def limit():
            if rlimit_as is not None:
                resource.setrlimit(resource.RLIMIT_AS, (rlimit_as, rlimit_as))
        self.started = time.monotonic()
        self.proc = subprocess.Popen(
            [LAUNCH, self.report, POP3D, "--users", users, "--mail-root",
             root] + list(args), stdin=subprocess.PIPE,
            stdout=subprocess.PIPE, stderr=subprocess.PIPE,
            preexec_fn=limit)
        self.err = []
        self.t_err = threading.Thread(
            target=lambda: self.err.append(self.proc.stderr.read()))
        self.t_err.daemon = True
        self.t_err.start()

    def feed(self, chunks, close=True):
        """Writes chunks (bytes or an iterable of them) in a thread."""
        def run():
            try:
                for c in ([chunks] if isinstance(chunks, bytes) else chunks):
                    self.proc.stdin.write(c)
                    self.proc.stdin.flush()
                if close:
                    self.proc.stdin.close()
            except (BrokenPipeError, ValueError):
                pass
        t = threading.Thread(target=run)
        t.daemon = True
        t.start()
        return t

    def read_all(self):
        return self.proc.stdout.read()

    def wait(self, timeout=600):
        """Returns (exit code, peak KiB, seconds)."""
        try:
            rc = self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
        took = time.monotonic() - self.started
        self.t_err.join(10)
        try:
            with open(self.report) as f:
                peak = int(f.read().split()[0])
            os.unlink(self.report)
        except (OSError, ValueError, IndexError):
            peak = -1
        check(not self.err or self.err[0] == b"",
              "pop3d wrote to stderr: %r" % (self.err[0][:200],))
        return rc, peak, took


def session(root, data, **kw):
    """Sends data whole; returns (output, exit code, peak KiB, seconds)."""
    r = Run(root, **kw)
    r.feed(data)
    out = r.read_all()
    rc, peak, took = r.wait()
    return out, rc, peak, took


def mem_ok(what, peak, msgs=0, extra_kib=0, name_octets=0):
    bound = BASE_KIB + (msgs * (MSG_OCTETS + name_octets) + 1023) // 1024 \
        + extra_kib
    print("  %s: peak %d KiB (bound %d KiB)" % (what, peak, bound))
    check(0 < peak <= bound, "%s: peak %d KiB, bound %d KiB" %
          (what, peak, bound))


def mailbox(top, name, files=()):
    path = os.path.join(top, name, "me")
    os.makedirs(path)
    for fname, data in files:
        with open(os.path.join(path, fname), "wb") as f:
            f.write(data)
    return os.path.join(top, name)


SMALL = b"Subject: small\n\nbody\n"


def fill(path, first, last):
    """Messages named first..last: hard links to a few small files (ext4
    allows 65,000 links to one), which pop3d lists, measures and numbers
    one by one as any other files; a system call each, no disk space."""
    top = os.path.dirname(os.path.dirname(path))
    for i in range(first, last + 1):
        template = os.path.join(top, "small.%d" % (i // 60000))
        if not os.path.exists(template):
            with open(template, "wb") as f:
                f.write(SMALL)
        os.link(template, os.path.join(path, str(i)))


def test_long_line(top):
    print("a 100 MB line without a newline")
    root = mailbox(top, "long")
    big = b"x" * MIB
    r = Run(root)
    r.feed([LOGIN] + [big] * 100 + [b"\r\nNOOP\r\nQUIT\r\n"])
    out = r.read_all()
    rc, peak, took = r.wait()
    want = (LOGGED + b"+OK maildrop has 0 messages (0 octets)\r\n"
            b"-ERR line too long\r\n+OK\r\n+OK bye, 0 messages deleted\r\n")
    check(out == want, "100 MB line, then NOOP: %r" % out[-200:])
    check(rc == 0, "exit code %d" % rc)
    print("  %.1f s" % took)
    mem_ok("100 MB line", peak)

    r = Run(root)
    r.feed([LOGIN] + [big] * 100)
    out = r.read_all()
    rc, peak, took = r.wait()
    check(out == LOGGED + b"+OK maildrop has 0 messages (0 octets)\r\n",
          "100 MB line, then EOF: %r" % out[-200:])
    check(rc == 1, "exit code %d after EOF" % rc)
    mem_ok("100 MB line, then EOF", peak)


def test_pipelining(top):
    print("a million pipelined NOOPs")
    msgs = [b"Subject: %d\n\n%s\n" % (i, b"y" * i) for i in range(1, 4)]
    root = mailbox(top, "pipe", [(str(i + 1), m) for i, m in
                                 enumerate(msgs)])
    sizes = [len(crlf(m)) for m in msgs]
    n = 1000000
    cmds, want = [LOGIN], [LOGGED, b"+OK maildrop has 3 messages (%d "
                           b"octets)\r\n" % sum(sizes)]
    for i in range(n):
        if i % 1000 == 999:
            k = (i // 1000) % 3 + 1
            cmds.append(b"LIST %d\r\n" % k)
            want.append(b"+OK %d %d\r\n" % (k, sizes[k - 1]))
        else:
            cmds.append(b"NOOP\r\n")
            want.append(b"+OK\r\n")
    cmds.append(b"QUIT\r\n")
    want.append(b"+OK bye, 0 messages deleted\r\n")
    data, want = b"".join(cmds), b"".join(want)
    r = Run(root)
    r.feed([data[i:i + MIB] for i in range(0, len(data), MIB)])
    out = r.read_all()
    rc, peak, took = r.wait()
    check(out == want, "1,000,000 commands: %d octets of answer, want %d"
          % (len(out), len(want)))
    check(rc == 0, "exit code %d" % rc)
    print("  %d commands answered in %.1f s" % (n + 3, took))
    mem_ok("a million NOOPs", peak)


def count_lines(out, start):
    """Lines of a multi-line answer beginning at start; (count, end)."""
    end = out.index(b"\r\n.\r\n", start)
    return out.count(b"\r\n", start, end) + 1, end + 5


def test_many_messages(top):
    n = 200000
    print("a mailbox of %d messages" % n)
    root = mailbox(top, "many")
    box = os.path.join(root, "me")
    t = time.monotonic()
    fill(box, 1, n)
    print("  made in %.1f s" % (time.monotonic() - t))
    last = SMALL
    total = n * len(crlf(SMALL))
    out, rc, peak, took = session(root, LOGIN + b"STAT\r\nLIST\r\nUIDL\r\n"
                                  b"LIST %d\r\nRETR %d\r\nDELE 1\r\nQUIT\r\n"
                                  % (n, n))
    head = LOGGED + (b"+OK maildrop has %d messages (%d octets)\r\n+OK %d %d"
                     b"\r\n" % (n, total, n, total))
    check(out.startswith(head), "login and STAT: %r" % out[:200])
    try:
        at = len(head)
        check(out.startswith(b"+OK %d messages" % n, at), "LIST: %r" %
              out[at:at + 80])
        lines, at = count_lines(out, out.index(b"\r\n", at) + 2)
        check(lines == n, "LIST gave %d lines" % lines)
        check(out.startswith(b"+OK unique-id listing follows\r\n", at),
              "UIDL: %r" % out[at:at + 80])
        lines, at = count_lines(out, out.index(b"\r\n", at) + 2)
        check(lines == n, "UIDL gave %d lines" % lines)
        body = last.replace(b"\n", b"\r\n")
        tail = (b"+OK %d %d\r\n+OK %d octets\r\n" % (n, len(body), len(body))
                + body + b".\r\n+OK message deleted\r\n"
                b"+OK bye, 1 messages deleted\r\n")
        check(out[at:] == tail, "LIST, RETR, DELE, QUIT: %r" % out[at:])
    except ValueError:
        check(False, "a listing without its end: %r" % out[-200:])
    check(rc == 0, "exit code %d" % rc)
    check(not os.path.exists(os.path.join(box, "1")), "DELE 1 left it")
    print("  session: %.1f s" % took)
    mem_ok("%d messages" % n, peak, n)
    print("  about %d octets a message" % ((peak - BASELINE[0]) * 1024 // n))

    # As many as a listing may hold, under xinetd's rlimit_as (128M):
    # it fits; one more is refused as a whole, cleanly.
    print("a mailbox of POP3D_MSGS_MAX = %d messages" % MSGS_MAX)
    t = time.monotonic()
    fill(box, n + 1, MSGS_MAX)
    fill(box, 1, 1)
    print("  made in %.1f s" % (time.monotonic() - t))
    out, rc, peak, took = session(root, LOGIN + b"STAT\r\nQUIT\r\n",
                                  rlimit_as=128 * MIB)
    want = b"+OK maildrop has %d messages (" % MSGS_MAX
    check(out.startswith(LOGGED + want), "at the limit: %r" % out[:200])
    check(rc == 0, "exit code %d" % rc)
    print("  session: %.1f s" % took)
    mem_ok("%d messages" % MSGS_MAX, peak, MSGS_MAX)

    # Two more: a flood must not lock the user out.  The first MSGS_MAX
    # in listing order are served, the same at each login; a DELE lets
    # the next one in.
    fill(box, MSGS_MAX + 1, MSGS_MAX + 2)
    octets = MSGS_MAX * len(crlf(SMALL))
    for last in (MSGS_MAX, MSGS_MAX + 1):
        out, rc, peak, took = session(
            root, LOGIN + b"STAT\r\nUIDL 1\r\nUIDL %d\r\nDELE 1\r\nQUIT\r\n"
            % MSGS_MAX, rlimit_as=128 * MIB)
        first = last - MSGS_MAX + 1
        want = (LOGGED + b"+OK maildrop has %d messages (%d octets)\r\n"
                b"+OK %d %d\r\n+OK 1 %d\r\n+OK %d %d\r\n+OK message "
                b"deleted\r\n+OK bye, 1 messages deleted\r\n"
                % (MSGS_MAX, octets, MSGS_MAX, octets, first, MSGS_MAX, last))
        check(out == want, "past the limit, messages %d to %d: %r"
              % (first, last, out))
        check(rc == 0, "exit code %d" % rc)
        print("  %d found, %d listed: %.1f s" % (MSGS_MAX + 3 - first,
                                                 MSGS_MAX, took))
        mem_ok("%d messages, %d listed" % (MSGS_MAX + 3 - first, MSGS_MAX),
               peak, MSGS_MAX)


def test_long_names(top):
    """The names are most of a listing's memory: POP3D_MSGS_MAX of
    NAME_MAX octets must fit params.h's bound and xinetd's rlimit_as."""
    extra = 1000
    print("a Maildir of %d messages with names of 255 octets, and %d more"
          % (MSGS_MAX, extra))
    root = os.path.join(top, "longnames")
    for d in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(root, "me", d))
    cur = os.path.join(root, "me", "cur")

    def base(i):
        b = "%d." % (1700000000 + i)
        return b + "h" * (251 - len(b))

    t = time.monotonic()
    # The last first, so that the listing's heap has some to push out.
    for i in range(MSGS_MAX + extra, 0, -1):
        os.close(os.open(os.path.join(cur, base(i) + ":2,S"),
                         os.O_WRONLY | os.O_CREAT, 0o600))
    print("  made in %.1f s" % (time.monotonic() - t))
    uid = b"=" + hashlib.blake2b(base(MSGS_MAX).encode(),
                                 digest_size=16).hexdigest().encode()
    for what in ("first login", "next login"):
        out, rc, peak, took = session(root, LOGIN + b"STAT\r\nUIDL %d\r\n"
                                      b"QUIT\r\n" % MSGS_MAX,
                                      rlimit_as=128 * MIB)
        want = (LOGGED + b"+OK maildrop has %d messages (0 octets)\r\n"
                b"+OK %d 0\r\n+OK %d %s\r\n+OK bye, 0 messages deleted\r\n"
                % (MSGS_MAX, MSGS_MAX, MSGS_MAX, uid))
        check(out == want, "255-octet names, %s: %r" % (what, out[-300:]))
        check(rc == 0, "exit code %d" % rc)
        print("  %s: %.1f s" % (what, took))
        mem_ok("%d names of 255 octets, %s" % (MSGS_MAX, what), peak,
               MSGS_MAX, name_octets=255)
    shutil.rmtree(root, ignore_errors=True)


class Counter:
    """Reads a RETR's answer without keeping it: octets, head and tail."""

    def __init__(self, stream):
        self.n, self.head, self.tail = 0, b"", b""
        while True:
            chunk = os.read(stream.fileno(), MIB)
            if not chunk:
                break
            if len(self.head) < 4096:
                self.head += chunk[:4096 - len(self.head)]
            self.n += len(chunk)
            self.tail = chunk[-4096:] if len(chunk) >= 4096 else \
                (self.tail + chunk)[-4096:]


def test_huge_message(top):
    size = 4 * 1024 * MIB + 1
    print("a message of %d octets (sparse)" % size)
    header = b"Subject: big\n\n"
    root = mailbox(top, "huge")
    path = os.path.join(root, "me", "1")
    with open(path, "wb") as f:
        f.write(header)
        f.truncate(size)            # NULs, in one line without a newline
    want = size + 2 + 2             # two LFs get CRs, the last line CRLF
    r = Run(root)
    try:
        # Fewer, larger reads: 4 GiB through 64 KiB would take long.
        fcntl.fcntl(r.proc.stdout.fileno(), 1031, MIB)  # F_SETPIPE_SZ
    except OSError:
        pass
    r.feed(LOGIN + b"LIST 1\r\nSTAT\r\nTOP 1 0\r\nRETR 1\r\nQUIT\r\n")
    c = Counter(r.proc.stdout)
    rc, peak, took = r.wait()
    head = (LOGGED + b"+OK maildrop has 1 messages (%d octets)\r\n"
            b"+OK 1 %d\r\n+OK 1 %d\r\n+OK top of message follows\r\n"
            b"Subject: big\r\n\r\n.\r\n+OK %d octets\r\n" % (want, want, want,
                                                               want))
    check(c.head.startswith(head), "LIST, STAT, TOP: %r" % c.head[:300])
    bye = b"\r\n.\r\n+OK bye, 0 messages deleted\r\n"
    check(c.tail.endswith(b"\0" * 64 + bye), "the end of RETR: %r" %
          c.tail[-100:])
    sent = c.n - len(head) - len(bye) + 2
    check(sent == want, "RETR sent %d octets, LIST said %d" % (sent, want))
    check(rc == 0, "exit code %d" % rc)
    print("  listed and sent in %.1f s" % took)
    mem_ok("4 GiB message", peak, extra_kib=MAPWIN_KIB)


def test_users_file(top):
    print("a users file of 100,000 lines")
    root = mailbox(top, "users", [("1", b"Subject: x\n\nx\n")])
    with open(USERS, "rb") as f:
        me = [l for l in f.read().split(b"\n") if l.startswith(b"me:$")][0]
    h = me.split(b":", 1)[1]
    users = os.path.join(top, "users-100k")
    with open(users, "wb") as f:
        f.write(b"".join(b"user%06d:%s\n" % (i, h) for i in range(99999)))
        f.write(me + b"\n")
    want_ok = LOGGED + b"+OK maildrop has 1 messages (17 octets)\r\n"
    out, rc, peak, took = session(root, LOGIN + b"QUIT\r\n", users=users)
    check(out == want_ok + b"+OK bye, 0 messages deleted\r\n",
          "the last of 100,000 users: %r" % out)
    print("  the last user logs in in %.2f s" % took)
    mem_ok("100,000 users", peak)
    out, rc, peak, took = session(root, b"USER nobody\r\nPASS x\r\nQUIT\r\n",
                                  users=users)
    check(out == GREETING + b"+OK send PASS\r\n-ERR [AUTH] authentication "
          b"failed\r\n+OK bye\r\n", "an unknown user: %r" % out)
    mem_ok("100,000 users, unknown", peak)

    long_line = os.path.join(top, "users-long")
    with open(long_line, "wb") as f:
        f.write(b"a:" + b"b" * (10 * MIB) + b"\n" + me + b"\n")
    out, rc, peak, took = session(root, LOGIN + b"QUIT\r\n", users=long_line)
    check(out == want_ok + b"+OK bye, 0 messages deleted\r\n",
          "a user after a 10 MB line: %r" % out)
    mem_ok("a 10 MB users line", peak)


def test_real_cost(top):
    print("a login at pop3d-passwd's cost")
    root = mailbox(top, "cost", [("1", b"Subject: x\n\nx\n")])
    users = os.path.join(top, "users-cost")
    r = subprocess.run([PASSWD, "add", "--users", users, "me"],
                       input=b"passw0rd\n", capture_output=True)
    check(r.returncode == 0, "pop3d-passwd add: %r" % r.stderr)
    out, rc, peak, took = session(root, LOGIN + b"QUIT\r\n", users=users)
    check(out == LOGGED + b"+OK maildrop has 1 messages (17 octets)\r\n"
          b"+OK bye, 0 messages deleted\r\n", "login: %r" % out)
    print("  logged in in %.2f s" % took)
    mem_ok("argon2id over %d MiB" % (PWHASH_KIB // 1024), peak,
           extra_kib=PWHASH_KIB)
    check(peak >= PWHASH_KIB, "peak %d KiB: was the hash made at %d KiB?" %
          (peak, PWHASH_KIB))


def test_long_name(top):
    print("a file name of 255 octets with every byte a name may hold")
    name = bytes(b for b in range(1, 256) if b != 0x2F) + b"x"  # not "/"
    assert len(name) == 255 and name[:1] != b"."
    body = b"Subject: name\n\n.x\n"
    root = mailbox(top, "name")
    box = os.path.join(root, "me")
    with open(os.path.join(box.encode(), name), "wb") as f:
        f.write(body)
    with open(os.path.join(box, "2"), "wb") as f:
        f.write(body)
    uid = b"=" + hashlib.blake2b(name, digest_size=16).hexdigest().encode()
    size = len(crlf(body))
    out, rc, peak, took = session(root, LOGIN + b"UIDL\r\nLIST 2\r\nRETR 2\r\n"
                                  b"DELE 2\r\nQUIT\r\n")
    # "2" sorts before a name that starts with 0x01?  No: version order
    # compares bytes, and 0x01 < "2".
    want = (LOGGED + b"+OK maildrop has 2 messages (%d octets)\r\n"
            b"+OK unique-id listing follows\r\n1 %s\r\n2 2\r\n.\r\n"
            b"+OK 2 %d\r\n+OK %d octets\r\nSubject: name\r\n\r\n..x\r\n.\r\n"
            b"+OK message deleted\r\n+OK bye, 1 messages deleted\r\n"
            % (2 * size, uid, size, size))
    check(out == want, "255-octet name: %r" % out)
    out, rc, peak, took = session(root, LOGIN + b"UIDL 1\r\nRETR 1\r\n"
                                  b"DELE 1\r\nQUIT\r\n")
    want = (LOGGED + b"+OK maildrop has 1 messages (%d octets)\r\n"
            b"+OK 1 %s\r\n+OK %d octets\r\nSubject: name\r\n\r\n..x\r\n.\r\n"
            b"+OK message deleted\r\n+OK bye, 1 messages deleted\r\n"
            % (size, uid, size))
    check(out == want, "RETR and DELE of the 255-octet name: %r" % out)
    check(os.listdir(box) == [".pop3d.lock"] or
          sorted(os.listdir(box)) == sorted([".pop3d.lock", ".pop3d.sizes"]),
          "left behind: %r" % os.listdir(box))
    mem_ok("255-octet name", peak)


def cut_off(what, r, sent_at, rc_want=1):
    """pop3d must end by itself within the timeout of sent_at."""
    try:
        rc = r.proc.wait(timeout=IDLE + SLACK + 10)
    except subprocess.TimeoutExpired:
        rc = None
    took = time.monotonic() - sent_at
    print("  %s: closed after %.1f s (timeout %d s)" % (what, took, IDLE))
    check(rc is not None and took <= IDLE + SLACK,
          "%s: still open after %.1f s" % (what, took))
    check(rc == rc_want, "%s: exit code %s" % (what, rc))
    if rc is None:
        r.proc.kill()
    r.wait()


def test_slow_clients(top):
    print("slow and silent clients, --idle-timeout %d" % IDLE)
    msg = b"Subject: big\n\n" + (b"z" * 1023 + b"\n") * (64 * 1024)
    root = mailbox(top, "slow", [("1", msg)])
    args = ["--idle-timeout", str(IDLE)]

    def dribble(r, data, every=1.0):
        def run():
            try:
                for b in data:
                    r.proc.stdin.write(bytes([b]))
                    r.proc.stdin.flush()
                    time.sleep(every)
            except (BrokenPipeError, ValueError):
                pass
        t = threading.Thread(target=run)
        t.daemon = True
        t.start()

    r = Run(root, args)
    out = r.proc.stdout.read(len(GREETING))
    cut_off("silent after the greeting", r, r.started)
    check(out == GREETING, "greeting: %r" % out)

    logged = LOGGED + b"+OK maildrop has 1 messages (%d octets)\r\n" % (
        len(crlf(msg)))
    for what, first, rest, want in (
            ("a byte a second, before login", b"", b"NOOP" * 20, GREETING),
            ("a byte a second, after login", LOGIN, b"STAT" * 20, logged),
            ("a byte a second, past the line limit",
             b"x" * (LINE_MAX + 10), b"x" * 40, GREETING),
            ("a byte a second, inside AUTH", b"AUTH PLAIN\r\n",
             b"AG1lAHBhc3N3MHJk" * 4, GREETING + b"+ \r\n")):
        r = Run(root, args)
        if first:
            r.proc.stdin.write(first)
            r.proc.stdin.flush()
        time.sleep(0.3)             # the answers to first, if any
        start = time.monotonic()
        dribble(r, rest)
        cut_off(what, r, start)
        out = r.read_all()
        check(out == want, "%s: %r" % (what, out[-100:]))

    # A client that asks for 64 MiB and reads none of it: pop3d's writes
    # stall once the pipe is full, and it must give up.
    r = Run(root, args)
    r.proc.stdin.write(LOGIN + b"RETR 1\r\n")
    r.proc.stdin.flush()
    start = time.monotonic()
    cut_off("a client that stops reading", r, start)


def test_tls(top):
    """A session over TLS costs no more than the bound either."""
    import socket
    import ssl
    if b"TLS: OpenSSL" not in subprocess.run(
            [POP3D, "--version"], capture_output=True).stdout or \
            shutil.which("openssl") is None:
        print("TLS: not built in, or no openssl; not measured")
        return
    print("over TLS")
    certs = os.path.join(top, "certs")
    os.makedirs(certs)
    paths = make_certs(certs)
    msg = b"Subject: big\n\n" + b"x" * 1000 + b"\n"
    msg = msg * (64 * 1024)
    root = mailbox(top, "tls", [("1", msg)])
    report = tempfile.mktemp(prefix="pop3d-rss.")
    a, b = socket.socketpair()
    p = subprocess.Popen([LAUNCH, report, POP3D, "--users", USERS,
                          "--mail-root", root, "--tls=implicit",
                          "--tls-cert", paths["chain"], "--tls-key",
                          paths["key"]], stdin=b.fileno(),
                         stdout=b.fileno())
    b.close()
    got = 0
    tail = b""
    ctx = ssl.create_default_context(cafile=paths["root"])
    a.settimeout(60)
    with ctx.wrap_socket(a, server_hostname="localhost") as t:
        t.sendall(LOGIN)
        for _ in range(10):
            t.sendall(b"y" * MIB)
        t.sendall(b"\r\nRETR 1\r\nQUIT\r\n")
        while True:
            data = t.recv(1 << 20)
            if not data:
                break
            got += len(data)
            tail = (tail + data)[-200:]
    p.wait(timeout=120)
    with open(report) as f:
        peak = int(f.read().split()[0])
    os.unlink(report)
    size = len(crlf(msg))
    want = len(LOGGED) + len(b"+OK maildrop has 1 messages (%d octets)\r\n"
                             % size) + len(b"-ERR line too long\r\n") + \
        len(b"+OK %d octets\r\n" % size) + size + 3 + \
        len(b"+OK bye, 0 messages deleted\r\n")
    check(p.returncode == 0 and got == want and
          tail.endswith(b"\r\n.\r\n+OK bye, 0 messages deleted\r\n"),
          "TLS: 10 MB line and 64 MiB RETR answered (%d of %d octets)"
          % (got, want))
    mem_ok("TLS, 10 MB line and 64 MiB RETR", peak, extra_kib=MAPWIN_KIB)


BASELINE = [0]


def main():
    top = tempfile.mkdtemp(prefix="pop3d-limits.")
    out, rc, BASELINE[0], took = session(mailbox(top, "base"),
                                         LOGIN + b"QUIT\r\n")
    print("a session of nothing: peak %d KiB" % BASELINE[0])
    print("bounds from params.h: %d KiB + %d octets a message, at most %d "
          "messages" % (BASE_KIB, MSG_OCTETS, MSGS_MAX))
    try:
        for t in (test_long_line, test_pipelining, test_users_file,
                  test_real_cost, test_long_name, test_slow_clients, test_huge_message,
                  test_many_messages, test_long_names, test_tls):
            t(top)
            sys.stdout.flush()
    finally:
        shutil.rmtree(top, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
