#!/usr/bin/env python3
"""End-to-end test of pop3d with real clients: Python's poplib and curl.

usage: poplib_test.py POP3D POP3D_PASSWD

Makes a users file with the real pop3d-passwd, a plain-folder mailbox and
a Maildir, serves them with systemd-socket-activate on a free loopback
port, and checks what the clients see against the files byte for byte.
Exits 0 when every check passed, 1 when one failed, and 77 (meson's
"skipped") only when systemd-socket-activate is missing.
"""

import os
import poplib
import re
import shlex
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from pop3dtest import (check, check_oracle, crlf, failures, finish,  # noqa
                       skip, top)

OVERALL_TIMEOUT = 150   # seconds for the whole test
CLIENT_TIMEOUT = 30     # seconds for one socket operation

USER = "me"
PASSWORD = "pa ss:w0rd é"   # PASS takes the rest of the line, spaces too
USER2 = "josé+pop@example.org"
PASSWORD2 = "another secret"

def joined(lines):
    """poplib's un-dot-stuffed lines back into the message's octets."""
    return b"".join(l + b"\r\n" for l in lines)


def first_diff(a, b):
    for i, (x, y) in enumerate(zip(a, b)):
        if x != y:
            return f"first difference at octet {i}: {a[i:i+20]!r} vs {b[i:i+20]!r}"
    return f"lengths {len(a)} vs {len(b)}"


def big_message():
    out = [b"From: Big Sender <big@example.com>\n",
           b"To: me@example.com\n",
           b"Subject: a large message\n",
           b"\n"]
    i = 0
    size = sum(len(l) for l in out)
    while size < 200 * 1024:
        if i % 97 == 0:
            l = b".\n"
        elif i % 89 == 0:
            l = b"..starts with two dots %d\n" % i
        elif i % 83 == 0:
            l = b".one dot %d\r\n" % i
        elif i % 13 == 0:
            l = b"caf\xc3\xa9 \xff\xfe\x80 line %d\n" % i
        else:
            l = (b"line %06d " % i) + b"abcdefghijklmnopqrstuvwxyz" * (i % 60) + b"\n"
        out.append(l)
        size += len(l)
        i += 1
    return b"".join(out)


# file name -> content.  Names are valid UIDL ids (RFC 1939 s.7), so the
# server must use them as ids, except one that holds a space.
MESSAGES = {
    "1-lf.eml":
        b"From: a@example.com\nTo: me@example.com\nSubject: LF endings\n"
        b"\n"
        b"first line\n.\n..two dots\n.one dot\n...\n\nafter a blank line\n",
    "2-crlf.eml":
        b"From: b@example.com\r\nTo: me@example.com\r\n"
        b"Subject: CRLF endings\r\n\r\n"
        b"body\r\n.\r\n..\r\n.x\r\nlast\r\n",
    "3-8bit.eml":
        b"From: =?UTF-8?Q?Jos=C3=A9?= <jose@example.com>\n"
        b"Subject: 8-bit\n"
        b"Content-Type: text/plain; charset=utf-8\n"
        b"Content-Transfer-Encoding: 8bit\n"
        b"\n"
        b"caf\xc3\xa9 na\xc3\xafve \xe2\x82\xac\n"
        b"latin-1 caf\xe9 and \xff\xfe\x80\x81 raw\n"
        b"a NUL \x00 inside, a lone CR \r inside\n"
        b"tab\there\n",
    "4-nofinal.eml":
        b"From: c@example.com\nSubject: no final newline\n\nlast line, no LF",
    "5-big.eml": big_message(),
    "6 mixed.eml":
        b"From: d@example.com\r\nSubject: mixed endings\n\r\n"
        b"crlf\r\nlf\n.\r\nends with CR\r",
    "7-empty.eml": b"",
}

# A Maildir for USER2: new/ and cur/ (with a :2,S info part).
MAILDIR = {
    "new/1700000000.M1P1.host":
        b"Subject: in new\n\nhello from new/\n",
    "cur/1700000001.M2P2.host:2,S":
        b"Subject: in cur\n\nhello from cur/\n.\n",
}


def run(argv, **kw):
    return subprocess.run(argv, timeout=60, **kw)


def add_user(passwd, users, name, password):
    r = run([passwd, "add", "--users", users, name],
            input=password.encode() + b"\n",
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    if r.returncode != 0:
        raise RuntimeError(f"pop3d-passwd add {name!r} exited "
                           f"{r.returncode}: {r.stderr.decode(errors='replace')}")


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(pop3d, users, root, logpath):
    """Starts the activator on a free port; returns (process, port)."""
    for _ in range(10):
        port = free_port()
        log = open(logpath, "ab")
        proc = subprocess.Popen(
            ["systemd-socket-activate", "-l", f"127.0.0.1:{port}",
             "--inetd", "-a"] +
            shlex.split(os.environ.get("POP3D_WRAPPER", "")) +
            [pop3d, "--users", users, "--mail-root", root,
             "--idle-timeout", "60"],
            stdin=subprocess.DEVNULL, stdout=log, stderr=log,
            start_new_session=True)
        log.close()
        # Wait until it says it listens (or exits: someone took the port
        # since free_port looked), so the probe can't reach another
        # program; if it never says so, probe anyway.
        deadline = time.monotonic() + 10
        listening = f"Listening on 127.0.0.1:{port} ".encode()
        while (time.monotonic() < deadline and proc.poll() is None and
               listening not in open(logpath, "rb").read()):
            time.sleep(0.05)
        if proc.poll() is not None:
            continue
        try:
            with socket.create_connection(("127.0.0.1", port),
                                          timeout=10) as s:
                greeting = s.recv(100)
        except OSError as e:
            greeting = repr(e).encode()
        if greeting.startswith(b"+OK"):
            return proc, port
        stop_server(proc)
        raise RuntimeError(f"pop3d greeted with {greeting!r}; see "
                           + logpath)
    raise RuntimeError("systemd-socket-activate did not start; see "
                       + logpath)


def stop_server(proc):
    if proc is None or proc.poll() is not None:
        return
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=5)


def login(port, user=USER, password=PASSWORD):
    c = poplib.POP3("127.0.0.1", port, timeout=CLIENT_TIMEOUT)
    try:
        c.user(user)
        c.pass_(password)
    except BaseException:
        c.close()
        raise
    return c


def login_retry(port, user=USER, password=PASSWORD):
    """Logs in, waiting out [IN-USE] while an earlier session ends."""
    deadline = time.monotonic() + 10
    while True:
        try:
            return login(port, user, password)
        except poplib.error_proto as e:
            if (not e.args[0].startswith(b"-ERR [IN-USE]") or
                    time.monotonic() > deadline):
                raise
        time.sleep(0.1)


def listing(c):
    """{msn: size} from LIST and {msn: uid} from UIDL."""
    sizes, uids = {}, {}
    for l in c.list()[1]:
        n, s = l.split()
        sizes[int(n)] = int(s)
    for l in c.uidl()[1]:
        n, u = l.split()
        uids[int(n)] = u.decode("ascii")
    return sizes, uids


def map_uids(uids, names):
    """msn -> file name: by id where the name is one, else the one left."""
    by_uid = {u: n for n, u in uids.items()}
    out = {by_uid[name]: name for name in names if name in by_uid}
    rest_msn = [n for n in uids if n not in out]
    rest_names = [name for name in names if name not in out.values()]
    if len(rest_msn) == 1 and len(rest_names) == 1:
        out[rest_msn[0]] = rest_names[0]
    return out


def on_disk(folder):
    return sorted(n for n in os.listdir(folder) if not n.startswith("."))


def test_session(port, box):
    c = login_retry(port)
    try:
        # STAT, LIST, UIDL.
        count, total = c.stat()
        check(count == len(MESSAGES), "STAT count",
              f"{count} != {len(MESSAGES)}")
        expect_total = sum(len(crlf(d)) for d in MESSAGES.values())
        check(total == expect_total, "STAT octets",
              f"{total} != {expect_total}")
        sizes, uids = listing(c)
        check(sorted(sizes) == sorted(uids) == list(range(1, count + 1)),
              "LIST and UIDL number the same messages",
              f"{sorted(sizes)} {sorted(uids)}")
        msn_name = map_uids(uids, MESSAGES)
        check(sorted(msn_name.values()) == sorted(MESSAGES),
              "UIDL ids are the file names where valid",
              f"{uids}")
        spaced = [u for n, u in uids.items() if msn_name.get(n) == "6 mixed.eml"]
        check(len(spaced) == 1 and re.fullmatch(r"=[0-9a-f]{32}", spaced[0])
              is not None,
              "UIDL id of a name with a space is a digest", f"{spaced}")
        check(all(re.fullmatch(r"[\x21-\x7e]{1,70}", u)
                  for u in uids.values()),
              "UIDL ids are 1-70 octets in 0x21-0x7E",
              f"{uids}")
        check([msn_name.get(n) for n in sorted(msn_name)] == sorted(MESSAGES),
              "listing in version order of names",
              f"{msn_name}")
        for n, name in sorted(msn_name.items()):
            exp = len(crlf(MESSAGES[name]))
            check(sizes[n] == exp, f"LIST size of {name!r}",
                  f"{sizes[n]} != {exp}")
            resp = c.list(n)
            check(resp == b"+OK %d %d" % (n, exp),
                  f"LIST {n} size of {name!r}", f"{resp!r}")
            resp = c.uidl(n)
            check(resp == b"+OK %d %s" % (n, uids[n].encode()), f"UIDL {n}",
                  f"{resp!r}")

        # RETR every message, byte for byte.
        for n, name in sorted(msn_name.items()):
            exp = crlf(MESSAGES[name])
            resp, lines, octets = c.retr(n)
            got = joined(lines)
            check(got == exp, f"RETR {name!r} byte-exact",
                  first_diff(got, exp))
            check(octets == len(exp), f"RETR {name!r} octets",
                  f"{octets} != {len(exp)}")
            check(resp.split()[:2] == [b"+OK", str(len(exp)).encode()],
                  f"RETR {name!r} +OK names the size",
                  f"{resp!r}")

        # TOP: header, blank line and n body lines.
        inv = {v: k for k, v in msn_name.items()}
        for name, nl in (("1-lf.eml", 0), ("1-lf.eml", 3), ("5-big.eml", 200),
                         ("2-crlf.eml", 100)):
            exp = top(MESSAGES[name], nl)
            resp, lines, octets = c.top(inv[name], nl)
            got = joined(lines)
            check(got == exp, f"TOP {name!r} {nl} byte-exact",
                  first_diff(got, exp))

        # A second session meanwhile finds the mailbox locked.
        try:
            c2 = login(port)
            c2.quit()
            check(False, "second login gets -ERR [IN-USE]", "it got +OK")
        except poplib.error_proto as e:
            check(e.args[0].startswith(b"-ERR [IN-USE]"),
                  "second login gets -ERR [IN-USE]", str(e))

        # DELE one, QUIT: exactly that file goes.
        victim = "3-8bit.eml"
        before = on_disk(box)
        resp = c.dele(inv[victim])
        check(resp.startswith(b"+OK"), "DELE answers +OK", f"{resp!r}")
        count2, total2 = c.stat()
        check(count2 == count - 1 and
              total2 == total - len(crlf(MESSAGES[victim])),
              "STAT leaves out the deleted message",
              f"{count2} {total2}")
        try:
            c.retr(inv[victim])
            check(False, "RETR of a deleted message fails", "it got +OK")
        except poplib.error_proto:
            check(True, "RETR of a deleted message fails")
        resp = c.quit()
        c = None
        check(resp.startswith(b"+OK"), "QUIT answers +OK", f"{resp!r}")
        after = on_disk(box)
        check(after == sorted(set(before) - {victim}),
              "QUIT removed exactly the deleted file",
              f"before {before}, after {after}")
        return uids, msn_name
    finally:
        if c is not None:
            c.close()


def test_after_delete(port, box, old_uids, old_names):
    # A dropped connection deletes nothing.
    c = login(port)
    c.dele(1)
    c.close()   # no QUIT
    # Once the next login gets the lock, that session has ended.
    c = login_retry(port)
    try:
        left = sorted(set(MESSAGES) - {"3-8bit.eml"})
        check(on_disk(box) == left,
              "a connection dropped without QUIT deletes nothing",
              f"{on_disk(box)}")
        # Ids stay the same across sessions.
        count, _ = c.stat()
        check(count == len(left), "STAT after the delete", f"{count}")
        _, uids = listing(c)
        old = {old_names[n]: u for n, u in old_uids.items()}
        new = {n: u for n, u in ((map_uids(uids, left)[k], v)
                                 for k, v in uids.items())}
        check(all(old[name] == new.get(name) for name in left),
              "UIDL ids are stable across sessions",
              f"{old} vs {new}")
        c.quit()
    finally:
        c.close()


def test_wrong_password(port):
    c = poplib.POP3("127.0.0.1", port, timeout=CLIENT_TIMEOUT)
    try:
        c.user(USER)
        try:
            c.pass_(PASSWORD + "x")
            check(False, "wrong password is refused", "it got +OK")
        except poplib.error_proto as e:
            check(e.args[0].startswith(b"-ERR [AUTH]"),
                  "wrong password gives -ERR [AUTH]", repr(e.args))
        c.user("nobody")
        try:
            c.pass_(PASSWORD)
            check(False, "unknown user is refused", "it got +OK")
        except poplib.error_proto as e:
            check(e.args[0].startswith(b"-ERR [AUTH]"),
                  "unknown user gives -ERR [AUTH]", repr(e.args))
        c.quit()
    finally:
        c.close()


def test_maildir(port):
    c = login_retry(port, USER2, PASSWORD2)
    try:
        count, _ = c.stat()
        check(count == len(MAILDIR), "Maildir: STAT counts new/ and cur/",
              f"{count}")
        _, uids = listing(c)
        exp_uids = {n.split("/")[1].split(":")[0] for n in MAILDIR}
        check(set(uids.values()) == exp_uids,
              "Maildir: UIDL ids are the names before ':'", f"{uids}")
        for n, u in uids.items():
            name = next(k for k in MAILDIR if k.split("/")[1].startswith(u))
            exp = crlf(MAILDIR[name])
            _, lines, octets = c.retr(n)
            check(joined(lines) == exp and octets == len(exp),
                  f"Maildir: RETR {name!r} byte-exact",
                  first_diff(joined(lines), exp))
        c.quit()
    finally:
        c.close()


def test_curl(port, box):
    curl = shutil.which("curl")
    if curl is None:
        print("# curl not found: curl checks not run")
        return
    cred = urllib.parse.quote(USER, safe="") + ":" + \
        urllib.parse.quote(PASSWORD, safe="")
    base = f"pop3://{cred}@127.0.0.1:{port}/"
    names = sorted(set(MESSAGES) - {"3-8bit.eml"})
    # Ask poplib which file message 1 and the others are.
    c = login_retry(port)
    try:
        sizes, uids = listing(c)
        c.quit()
    finally:
        c.close()
    msn_name = map_uids(uids, names)

    def fetch(url):
        # curl says 67 for any -ERR to PASS, [IN-USE] too: a session
        # that just answered QUIT may hold the lock a moment longer.
        for _ in range(20):
            r = run([curl, "-s", "-S", "--max-time", "30", url],
                    stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            if r.returncode != 67:
                break
            time.sleep(0.2)
        return r

    r = fetch(base)
    exp = b"".join(b"%d %d\r\n" % (n, s) for n, s in sorted(sizes.items()))
    check(r.returncode == 0, "curl listing exits 0",
          f"{r.returncode} {r.stderr!r}")
    check(r.stdout == exp, "curl listing matches LIST",
          f"{r.stdout!r} vs {exp!r}")

    inv = {v: k for k, v in msn_name.items()}
    for n in sorted({1, inv["5-big.eml"], inv["6 mixed.eml"]}):
        r = fetch(base + str(n))
        exp = crlf(MESSAGES[msn_name[n]])
        check(r.returncode == 0, f"curl RETR {n} exits 0",
              f"{r.returncode} {r.stderr!r}")
        check(r.stdout == exp,
              f"curl RETR {n} ({msn_name[n]!r}) byte-exact",
              first_diff(r.stdout, exp))

    bad = f"pop3://{USER}:wrong@127.0.0.1:{port}/1"
    r = run([curl, "-s", "--max-time", "30", bad],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    check(r.returncode == 67 and r.stdout == b"",
          "curl with a wrong password fails (login denied, 67)",
          f"{r.returncode} {r.stdout!r}")
    check(on_disk(box) == names, "curl deleted nothing", f"{on_disk(box)}")


class Timeout(Exception):
    pass


def on_alarm(signum, frame):
    raise Timeout(f"overall timeout of {OVERALL_TIMEOUT} s")


def on_term(signum, frame):
    raise Timeout("terminated by SIGTERM")


def main():
    if len(sys.argv) != 3:
        print(__doc__.strip().splitlines()[2], file=sys.stderr)
        return 2
    pop3d, passwd = (os.path.abspath(p) for p in sys.argv[1:])
    if shutil.which("systemd-socket-activate") is None:
        skip("systemd-socket-activate not found "
             "(Debian: apt-get install systemd)")
    check_oracle()      # what every RETR and TOP below is compared with
    for p in (pop3d, passwd):
        if not check(os.access(p, os.X_OK), f"{p} is an executable"):
            return finish()

    signal.signal(signal.SIGALRM, on_alarm)
    # meson's own timeout sends SIGTERM: still stop the activator.
    signal.signal(signal.SIGTERM, on_term)
    signal.alarm(OVERALL_TIMEOUT)
    tmp = tempfile.mkdtemp(prefix="pop3d-poplib.")
    proc = None
    ok_to_clean = False
    try:
        users = os.path.join(tmp, "users")
        root = os.path.join(tmp, "mail")
        box = os.path.join(root, USER)
        os.makedirs(box)
        for name, data in MESSAGES.items():
            with open(os.path.join(box, name), "wb") as f:
                f.write(data)
        for sub in ("new", "cur", "tmp"):
            os.makedirs(os.path.join(root, USER2, sub))
        for name, data in MAILDIR.items():
            with open(os.path.join(root, USER2, name), "wb") as f:
                f.write(data)
        add_user(passwd, users, USER, PASSWORD)
        add_user(passwd, users, USER2, PASSWORD2)

        proc, port = start_server(pop3d, users, root,
                                  os.path.join(tmp, "activator.log"))
        print(f"# serving {root} on 127.0.0.1:{port}")

        steps = [
            ("session", lambda: test_session(port, box)),
            ("wrong password", lambda: test_wrong_password(port)),
            ("maildir", lambda: test_maildir(port)),
        ]
        results = {}
        for name, fn in steps:
            try:
                results[name] = fn()
            except Timeout:
                raise
            except Exception as e:  # one broken step must not hide others
                check(False, f"{name} ran without an exception",
                      f"{type(e).__name__}: {e}")
        if results.get("session"):
            for name, fn in (
                    ("after delete",
                     lambda: test_after_delete(port, box,
                                               *results["session"])),
                    ("curl", lambda: test_curl(port, box))):
                try:
                    fn()
                except Timeout:
                    raise
                except Exception as e:
                    check(False, f"{name} ran without an exception",
                          f"{type(e).__name__}: {e}")
        ok_to_clean = failures() == 0
    except Timeout as e:
        check(False, "finished in time", str(e))
    except Exception as e:
        check(False, "setup", f"{type(e).__name__}: {e}")
    finally:
        signal.alarm(0)
        stop_server(proc)
        if ok_to_clean:
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            print(f"# left {tmp} for inspection")
            log = os.path.join(tmp, "activator.log")
            if os.path.exists(log):
                with open(log, errors="replace") as f:
                    print("# activator log:\n" + f.read())

    return finish()


if __name__ == "__main__":
    sys.exit(main())
