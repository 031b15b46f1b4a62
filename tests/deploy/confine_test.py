#!/usr/bin/env python3
"""pop3d works inside the confinement the shipped unit gives it.

usage: confine_test.py POP3D POP3D_PASSWD SERVICE_UNIT [SECCOMP_EXEC]

No systemd runs here, so the unit's confinement is rebuilt by hand, as
close as the test can get, and a full session is run inside it (a failed
login, then a login with LIST, UIDL, TOP, RETR of a message large
enough to be read through a map of its file, DELE and a QUIT that
writes a journal):

- System calls: the unit's SystemCallFilter= lines are expanded with
  `systemd-analyze syscall-filter` into the calls it allows.  strace -f
  lists every call pop3d makes, each of which must be allowed; and the
  session is run again under a seccomp filter of exactly that list (the
  seccomp_exec helper, with socket(2) for AF_UNIX only, as
  RestrictAddressFamilies=AF_UNIX), where any other call kills pop3d.
- Files: ProtectSystem=strict with ReadWritePaths= the mail root and
  StateDirectory=: in a private mount namespace the file system is
  read-only but for the mail root and /var/lib.
- Memory: the session's peak RSS stays below the unit's MemoryMax=.
- TLS: when pop3d has it, the same session over implicit TLS (what
  pop3d-tls@.service runs, with the same filter), a Python client on the
  other end of a socketpair, under strace and under the filter too.

Needs root, strace and systemd-analyze; skipped (77) without them.
"""
import os
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
from deploylib import (Syslog, add_user, bound, private_dev,  # noqa
                       reexec_private, tempdir)
from pop3dtest import check, finish, make_certs, skip  # noqa: E402

POP3D, PASSWD, UNIT = (os.path.abspath(p) for p in sys.argv[1:4])
SECCOMP_EXEC = os.path.abspath(sys.argv[4]) if len(sys.argv) > 4 else None
PASSWORD = "confined"

# systemd.exec(5): allowed whatever the filter says.
IMPLICIT = {"execve", "exit", "exit_group", "getrlimit", "rt_sigreturn",
            "sigreturn"}


def unit_settings(path):
    """{key: [values]} of a unit file (continuation lines joined)."""
    out = {}
    with open(path) as f:
        text = re.sub(r"\\\n", " ", f.read())
    for line in text.splitlines():
        m = re.match(r"^([A-Za-z]+)=(.*)$", line.strip())
        if m:
            out.setdefault(m.group(1), []).append(m.group(2).strip())
    return out


def syscall_groups():
    r = subprocess.run(["systemd-analyze", "syscall-filter", "--no-pager"],
                       capture_output=True, text=True, check=True)
    groups, cur = {}, None
    for line in r.stdout.splitlines():
        if line.startswith("@"):
            cur = groups.setdefault(line.strip(), set())
        elif cur is not None and line.strip() and \
                not line.strip().startswith("#"):
            cur.add(line.strip())
        elif not line.strip():
            cur = None
    return groups


def expand(names, groups, seen=None):
    seen = set() if seen is None else seen
    out = set()
    for n in names:
        if n.startswith("@"):
            if n in seen:
                continue
            seen.add(n)
            out |= expand(groups[n], groups, seen)
        else:
            out.add(n.split(":")[0])
    return out


def allowed_calls(settings):
    """What SystemCallFilter= allows: the first (allow) list plus later
    allow lists, less every ~ list."""
    groups = syscall_groups()
    allow, deny = set(), set()
    for v in settings.get("SystemCallFilter", []):
        if v.startswith("~"):
            deny |= expand(v[1:].split(), groups)
        else:
            allow |= expand(v.split(), groups)
    return (allow - deny) | IMPLICIT


def session_input():
    return (b"USER me\r\nPASS wrong\r\n"
            b"USER me\r\nPASS " + PASSWORD.encode() + b"\r\n"
            b"STAT\r\nLIST\r\nUIDL\r\nTOP 1 0\r\nRETR 1\r\nDELE 1\r\n"
            b"DELE 2\r\nNOOP\r\nQUIT\r\n")


def fresh_mailbox(top):
    box = os.path.join(top, "mail", "me")
    shutil.rmtree(box, ignore_errors=True)
    os.makedirs(box)
    for n in (1, 2, 3):
        with open(os.path.join(box, "%d.eml" % n), "wb") as f:
            f.write(b"Subject: %d\n\nbody %d\n" % (n, n))
            if n == 1:      # over POP3D_MAP_MIN: read through a map
                f.write(b"".join(b"line %06d\n" % i
                                 for i in range(40000)))
    return box


def run_session(top, prefix, what, extra=()):
    """Runs the session with prefix before pop3d's command line and extra
    after it; returns (exit status, peak RSS in KiB)."""
    box = fresh_mailbox(top)
    files = {n: os.path.join(top, "session." + n) for n in ("out", "err")}
    with open(files["out"], "wb") as o, open(files["err"], "wb") as e:
        p = subprocess.Popen(prefix + [POP3D, "--users",
                                       os.path.join(top, "users"),
                                       "--mail-root",
                                       os.path.join(top, "mail")] +
                             list(extra),
                             stdin=subprocess.PIPE, stdout=o, stderr=e)
    # A line at a time, as a client types: pop3d waits in poll(2) too.
    for line in session_input().split(b"\n")[:-1]:
        try:
            p.stdin.write(line + b"\n")
            p.stdin.flush()
        except BrokenPipeError:
            break
        time.sleep(0.02)
    p.stdin.close()
    _, status, usage = os.wait4(p.pid, 0)
    p.returncode = os.waitstatus_to_exitcode(status)
    out = open(files["out"], "rb").read()
    err = open(files["err"], "rb").read()
    check(p.returncode == 0, what + ": the session ends with QUIT (exit 0)",
          (p.returncode, out[-200:], err[-300:]))
    check(out.endswith(b"+OK bye, 2 messages deleted\r\n"),
          what + ": QUIT deletes the two marked messages", out[-200:])
    left = sorted(n for n in os.listdir(box) if not n.startswith("."))
    check(left == ["3.eml"], what + ": the two deleted messages are gone",
          left)
    return p.returncode, usage.ru_maxrss


def run_tls_session(top, prefix, what):
    """The session of run_session over implicit TLS: pop3d on one end of
    a socketpair, Python's ssl on the other; returns pop3d's exit
    status."""
    box = fresh_mailbox(top)
    certs = os.path.join(top, "certs")
    a, b = socket.socketpair()
    with open(os.path.join(top, "tls.err"), "wb") as e:
        p = subprocess.Popen(prefix + [
            POP3D, "--users", os.path.join(top, "users"), "--mail-root",
            os.path.join(top, "mail"), "--tls=implicit", "--tls-cert",
            os.path.join(certs, "chain.pem"), "--tls-key",
            os.path.join(certs, "server.key")],
            stdin=b.fileno(), stdout=b.fileno(), stderr=e)
    b.close()
    out = b""
    try:
        a.settimeout(30)
        ctx = ssl.create_default_context(
            cafile=os.path.join(certs, "root.pem"))
        with ctx.wrap_socket(a, server_hostname="localhost") as t:
            for line in session_input().split(b"\n")[:-1]:
                t.sendall(line + b"\n")
                time.sleep(0.02)
            while True:
                got = t.recv(65536)
                if not got:
                    break
                out += got
    except (OSError, ssl.SSLError) as e:
        check(False, what + ": the TLS client", repr(e))
    finally:
        a.close()
    rc = p.wait(timeout=30)
    err = open(os.path.join(top, "tls.err"), "rb").read()
    check(rc == 0 and out.endswith(b"+OK bye, 2 messages deleted\r\n"),
          what + ": the session over TLS ends with QUIT's deletes",
          (rc, out[-200:], err[-300:]))
    left = sorted(n for n in os.listdir(box) if not n.startswith("."))
    check(left == ["3.eml"], what + ": the two deleted messages are gone",
          left)
    return rc


def strace_calls(top, tls=False):
    out = os.path.join(top, "strace.txt")
    if tls:
        run_tls_session(top, ["strace", "-f", "-qq", "-o", out],
                        "strace, TLS")
    else:
        # The login slots' calls too, in a folder of the test's own.
        run = os.path.join(top, "run")
        os.makedirs(run, exist_ok=True)
        run_session(top, ["strace", "-f", "-qq", "-o", out], "strace",
                    ["--runtime-dir", run])
    names = set()
    with open(out) as f:
        for line in f:
            m = re.match(r"^\d+\s+([a-z_0-9]+)\(", line)
            if m:
                names.add(m.group(1))
            m = re.match(r"^\d+\s+<\.\.\. ([a-z_0-9]+) resumed>", line)
            if m:
                names.add(m.group(1))
    return names


def confined(rw):
    """A command prefix that runs the rest in a mount namespace of its own
    where the file system is read-only but for the folders rw and a
    fresh /var/lib/pop3d and /run/pop3d (ProtectSystem=strict,
    ReadWritePaths=, StateDirectory=, RuntimeDirectory=), as far as a
    test can rebuild it."""
    targets = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            t = line.split()[4]
            if t == "/" or re.match(r"^/(tmp|var|run|etc|usr|home|root|srv|"
                                    r"opt|work)(/|$)", t):
                targets.append(t)
    script = "".join('mount --bind "%s" "%s"\n' % (d, d) for d in rw)
    script += ("mount -t tmpfs -o mode=755 tmpfs /var/lib\n"
               "mkdir -m 700 /var/lib/pop3d\n")
    script += "".join('mount -o remount,bind,ro "%s"\n' % t
                      for t in targets)
    # After the remounts, which may name mounts below /run it hides.
    script += ("mount -t tmpfs -o mode=755 tmpfs /run\n"
               "mkdir -m 700 /run/pop3d\n")
    script += 'exec "$@"\n'
    return ["unshare", "--mount", "--propagation", "private",
            "sh", "-ec", script, "sh"]


def main():
    for tool in ("strace", "systemd-analyze"):
        if shutil.which(tool) is None:
            skip(tool + " not found")
    reexec_private("POP3D_DEPLOY_NS")
    bound(90)
    private_dev()
    log = Syslog()
    top = tempdir("pop3d-confine.")
    try:
        settings = unit_settings(UNIT)
        allowed = allowed_calls(settings)
        check("read" in allowed and "flock" in allowed and
              "setuid" not in allowed and "setrlimit" not in allowed,
              "the unit's filter expands as expected", len(allowed))
        add_user(PASSWD, os.path.join(top, "users"), "me", PASSWORD)

        used = strace_calls(top)
        print("# pop3d's system calls:", " ".join(sorted(used)))
        check(len(used) > 20, "strace saw the session's calls", len(used))
        denied = sorted(used - allowed)
        check(denied == [], "every call pop3d makes is in the unit's "
              "SystemCallFilter=", denied)
        check(any(l for l in log.snapshot() if b" pop3d[" in l),
              "pop3d reached syslog (sendto on /dev/log)")
        tls = b"TLS: OpenSSL" in subprocess.run(
            [POP3D, "--version"], capture_output=True).stdout and \
            shutil.which("openssl") is not None
        if tls:
            os.makedirs(os.path.join(top, "certs"))
            make_certs(os.path.join(top, "certs"))
            used_tls = strace_calls(top, tls=True)
            print("# and over TLS:", " ".join(sorted(used_tls - used)))
            denied = sorted(used_tls - allowed)
            check(denied == [], "every call pop3d makes over TLS is in the "
                  "unit's SystemCallFilter=", denied)
        else:
            print("# pop3d without TLS, or no openssl: no TLS session")

        names = os.path.join(top, "allowed.txt")
        with open(names, "w") as f:
            f.write("\n".join(sorted(allowed)) + "\n")
        if SECCOMP_EXEC:
            jail = confined([os.path.join(top, "mail")])
            r = subprocess.run(jail + ["sh", "-c", 'touch "$1/x" || '
                                       'exit 3; touch "$2/x"', "sh", top,
                                       os.path.join(top, "mail")],
                               capture_output=True)
            check(r.returncode == 3, "in the test's confinement only the "
                  "mail root is writable", (r.returncode, r.stderr))
            since = len(log.snapshot())
            rc, rss = run_session(top, jail + [SECCOMP_EXEC, names],
                                  "confined")
            check(rc != -31, "no call was denied (SIGSYS)")
            bad = [l for l in log.snapshot()[since:] if b" slots " in l]
            check(bad == [], "the login slots in /run/pop3d "
                  "(RuntimeDirectory=) work in the confinement", bad)
            mem = settings.get("MemoryMax", ["0"])[-1]
            m = re.match(r"^(\d+)([KMG]?)$", mem)
            limit = int(m.group(1)) * {"": 1, "K": 1 << 10, "M": 1 << 20,
                                       "G": 1 << 30}[m.group(2)] if m else 0
            print("# peak RSS of a session with logins: %d KiB; "
                  "MemoryMax=%s" % (rss, mem))
            check(0 < rss * 1024 < limit,
                  "the peak RSS of a login is below MemoryMax=", (rss, mem))
            if tls:
                rc = run_tls_session(top, jail + [SECCOMP_EXEC, names],
                                     "confined, TLS")
                check(rc != -31, "no call was denied over TLS (SIGSYS)")
        else:
            print("# seccomp_exec not built (libseccomp-dev missing): "
                  "the confined run is left out")
    finally:
        log.close()
        shutil.rmtree(top, ignore_errors=True)
    sys.exit(finish())


if __name__ == "__main__":
    main()
