#!/usr/bin/env python3
"""What pop3d writes to syslog, read from a socket of our own.

Usage: log_test.py POP3D POP3D-PASSWD

No syslog daemon is needed: the test re-runs itself in a private mount
namespace (unshare -m), mounts a fresh /dev there, and binds its own
datagram socket at /dev/log, where syslog(3) writes.  Then it checks the
lines of real sessions: logins with user and result, the end of a
session with its counts and its reason (also when a SASL exchange is cut
short, and when the client goes away mid-message: a reset connection or
a closed pipe is a failed write, exit 1, deleting nothing), facility mail, client bytes escaped, never a password, and a
mailbox of more messages than a listing holds, served in part; and a
TLS session's line naming who encrypts what is sent (kTLS or OpenSSL).
Needs root (exit 77, skipped, otherwise).
"""
import os
import re
import shutil
import socket
import ssl
import struct
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pop3dtest import (check, drain_log as drain, finish,  # noqa: E402
                       kernel_tls, make_certs, pop3d_argv, private_syslog)

POP3D, PASSWD = sys.argv[1], sys.argv[2]
PARAMS_H = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                        "..", "params.h")
PASSWORD = "S3cret pass:word"
WRONG = "Wr0ng-guess-xyzzy"
def argv(top, *args):
    return pop3d_argv(POP3D, "--users", os.path.join(top, "users"),
                      "--mail-root", os.path.join(top, "mail"), *args)


def session(top, data):
    r = subprocess.run(argv(top), input=data, capture_output=True, timeout=60)
    check(r.stderr == b"", "pop3d wrote to stderr: %r" % r.stderr)
    return r


def idle_session(top, data):
    """Sends data and keeps the connection open until pop3d's idle
    timeout (1 s) ends the session."""
    p = subprocess.Popen(argv(top, "--idle-timeout", "1"),
                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    with p:
        try:
            p.stdin.write(data)
            p.stdin.flush()
            p.wait(timeout=60)
        finally:
            p.kill()
        out, err = p.stdout.read(), p.stderr.read()
    check(err == b"", "pop3d wrote to stderr: %r" % err)
    return out


def end_reason(lines):
    """The reason in the session's "end reason=" line, or None."""
    for line in lines:
        if b" end reason=" in line:
            return line.split(b" end reason=", 1)[1].split(b" ", 1)[0]
    return None


def tls_session(top, certs):
    """An implicit-TLS session over TCP on loopback: greeting, QUIT."""
    with socket.socket() as lst:
        lst.bind(("127.0.0.1", 0))
        lst.listen(1)
        c = socket.create_connection(lst.getsockname(), timeout=30)
        conn, _ = lst.accept()
    p = subprocess.Popen(argv(top, "--tls=implicit", "--tls-cert",
                              certs["chain"], "--tls-key", certs["key"]),
                         stdin=conn, stdout=conn, stderr=subprocess.PIPE)
    conn.close()
    ctx = ssl.create_default_context(cafile=certs["root"])
    out = b""
    try:
        with ctx.wrap_socket(c, server_hostname="localhost") as t:
            t.sendall(b"QUIT\r\n")
            while not out.endswith(b"+OK bye\r\n"):
                data = t.recv(4096)
                if not data:
                    break
                out += data
    finally:
        c.close()
        err = p.communicate(timeout=60)[1]
    check(err == b"", "pop3d wrote to stderr: %r" % err)
    return out


def gone_mid_message(top, box, how):
    """Logs in, marks the message in file "2" deleted, asks for a new
    one, "9" (far more than the kernel can buffer between the two), and
    goes away once its "+OK" line has come: how is "tcp" (a connection
    on loopback, reset) or "pipe" (stdout a pipe, its reader closed, as
    a relay that hangs up does; a write to it is EPIPE and SIGPIPE).
    Returns pop3d's exit code and the names in the mailbox afterwards."""
    with open("/proc/sys/net/ipv4/tcp_wmem") as f:
        most = int(f.read().split()[2])     # a socket's largest send buffer
    line = b"x" * 998 + b"\r\n"
    with open(os.path.join(box, "9"), "wb") as f:
        f.write(b"Subject: big\r\n\r\n" + line * (4 * most // len(line)))
    script = ("USER me\r\nPASS %s\r\nDELE UID:2\r\nRETR UID:9\r\n"
              % PASSWORD).encode()
    if how == "tcp":
        with socket.socket() as lst:
            lst.bind(("127.0.0.1", 0))
            lst.listen(1)
            c = socket.socket()
            c.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            c.settimeout(30)
            c.connect(lst.getsockname())
            conn, _ = lst.accept()
        p = subprocess.Popen(argv(top), stdin=conn, stdout=conn,
                             stderr=subprocess.PIPE)
        conn.close()
        c.sendall(script)
        read = c.recv
    else:
        p = subprocess.Popen(argv(top), stdin=subprocess.PIPE,
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        p.stdin.write(script)
        p.stdin.flush()
        read = p.stdout.read
    try:
        # Up to the message's first line: some of it went before the
        # client goes, which the log line must count.
        got = b""
        while got.count(b"\r\n") < 6:
            chunk = read(1)
            if not chunk:
                break
            got += chunk
        check(got.endswith(b"+OK message deleted\r\n+OK %d octets\r\n"
                           b"Subject: big\r\n"
                           % os.path.getsize(os.path.join(box, "9"))),
              "%s gone mid-RETR: the message is on its way" % how, got)
        if how == "tcp":
            # An RST, not a FIN: the client is gone, mid-message.
            c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                         struct.pack("ii", 1, 0))
            c.close()
        else:
            p.stdout.close()
        rc = p.wait(timeout=60)
    finally:
        p.kill()
        if p.stdin is not None:
            p.stdin.close()
    err = p.stderr.read()
    p.stderr.close()
    check(err == b"", "pop3d wrote to stderr: %r" % err)
    left = sorted(os.listdir(box))
    os.unlink(os.path.join(box, "9"))
    return rc, left


def reader_gone(top, script, answers, then):
    """Sends script through pipes, reads the lines of answers (how many
    lines pop3d says to it), then closes the pipe pop3d writes to and
    sends then: its reply is the first write that fails, when pop3d
    flushes it before reading on.  Returns pop3d's exit code."""
    p = subprocess.Popen(argv(top), stdin=subprocess.PIPE,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        p.stdin.write(script)
        p.stdin.flush()
        got = b""
        while got.count(b"\r\n") < answers:
            chunk = p.stdout.read(1)
            if not chunk:
                break
            got += chunk
        p.stdout.close()
        p.stdin.write(then)
        p.stdin.flush()
        rc = p.wait(timeout=60)
    finally:
        p.kill()
        p.stdin.close()
    err = p.stderr.read()
    p.stderr.close()
    check(err == b"", "pop3d wrote to stderr: %r" % err)
    return rc


def main():
    log = private_syslog("POP3D_LOG_TEST_NS")
    top = tempfile.mkdtemp(prefix="pop3d-log.")
    try:
        r = subprocess.run([PASSWD, "add", "--users", os.path.join(top, "users"), "me"],
                           input=(PASSWORD + "\n").encode(), capture_output=True)
        check(r.returncode == 0, "pop3d-passwd add")
        box = os.path.join(top, "mail", "me")
        os.makedirs(box)
        with open(os.path.join(box, "1"), "wb") as f:
            f.write(b"Subject: one\n\nbody\n")           # 22 octets as CRLF
        with open(os.path.join(box, "2"), "wb") as f:
            f.write(b"Subject: two\n\nbody\n")
        drain(log)

        session(top, ("USER me\r\nPASS %s\r\nRETR 1\r\nTOP 2 0\r\nDELE 1\r\nQUIT\r\n"
                      % PASSWORD).encode())
        ok = drain(log)
        session(top, ("USER me\r\nPASS %s\r\nUSER ev\x01l%%\"x\r\nPASS %s\r\nQUIT\r\n"
                      % (WRONG, PASSWORD)).encode())
        bad = drain(log)
        # A SASL exchange that the client ends mid-way: the reason is the
        # one its handler saw, not a write error that never happened.
        for what, data, challenge in (
                ("AUTH PLAIN, EOF at the challenge", b"AUTH PLAIN\r\n",
                 b"+ \r\n"),
                ("AUTH LOGIN, EOF at the password",
                 b"AUTH LOGIN\r\nbWU=\r\n", b"+ UGFzc3dvcmQ6\r\n")):
            r = session(top, data)
            check(r.stdout.endswith(challenge),
                  "%s: the challenge was sent" % what, r.stdout)
            got = end_reason(drain(log))
            check(got == b"eof", "%s: end reason=eof" % what, got)
        out = idle_session(top, b"AUTH PLAIN\r\n")
        check(out.endswith(b"+ \r\n"), "AUTH PLAIN, idle: the challenge",
              out)
        got = end_reason(drain(log))
        check(got == b"timeout", "AUTH PLAIN, idle: end reason=timeout", got)

        # A migrated user on a legacy hash (yescrypt of "pwyescrypt"):
        # the login says so, and that its argon2id successor is spooled.
        with open(os.path.join(top, "users"), "a") as f:
            f.write("old:$y$j9T$iZlXBc/LKzWPgQa9kKbxl/$NJrxuR8MJiTBx5My"
                    "ojDtIwMxcy3Ob.2wuxyHaUI1VG9\n")
        r = subprocess.run(argv(top, "--rehash-dir",
                                os.path.join(top, "spool")),
                           input=b"USER old\r\nPASS pwyescrypt\r\nQUIT\r\n",
                           capture_output=True, timeout=60)
        got = drain(log)
        check(any(b"login user=old result=ok msgs=0 octets=0 hash=legacy "
                  b"rehash=pending" in l for l in got),
              "a legacy login is logged hash=legacy rehash=pending", got)
        check(len(os.listdir(os.path.join(top, "spool"))) == 1,
              "a legacy login leaves one spool entry")

        # A client that goes away mid-message: a failed write, not a
        # process killed by SIGPIPE, and no UPDATE, so the message it
        # marked is still there.
        # The message's line says the client cut it, as a notice: an
        # error-level line would send the admin looking for a disk fault.
        for how in ("tcp", "pipe"):
            rc, left = gone_mid_message(top, box, how)
            lines = drain(log)
            got = end_reason(lines)
            check(rc == 1 and got == b"write-error",
                  "%s gone mid-RETR: exit 1, end reason=write-error" % how,
                  (rc, got))
            check("2" in left, "%s gone mid-RETR: the message marked is "
                  "kept" % how, left)
            cut = [l for l in lines if b" retr msg=2 result=cut " in l]
            check(len(cut) == 1 and b" result=cut reason=client sent=" in
                  cut[0] and int(cut[0][1:cut[0].index(b">")]) % 8 == 5,
                  "%s gone mid-RETR: one notice, result=cut reason=client"
                  % how, cut)
            # The client read the message's first line before it went:
            # what went counts, though the file went by sendfile(2).
            sent = [int(m.group(1)) for m in
                    (re.search(rb" sent=(\d+)", l) for l in cut) if m]
            check(len(sent) == 1 and sent[0] > 0,
                  "%s gone mid-RETR: the line counts what went" % how, cut)

        # A reply pop3d could not send is a write error, though it
        # failed as pop3d flushed it to read the next command.
        rc = reader_gone(top, ("USER me\r\nPASS %s\r\n" % PASSWORD).encode(),
                         3, b"NOOP\r\n")
        got = end_reason(drain(log))
        check(rc == 1 and got == b"write-error",
              "reader gone after login: end reason=write-error", (rc, got))
        rc = reader_gone(top, b"", 1, b"AUTH PLAIN\r\n")
        got = end_reason(drain(log))
        check(rc == 1 and got == b"write-error",
              "reader gone at a SASL challenge: end reason=write-error",
              (rc, got))

        # TLS: the handshake's line says who encrypts what is sent, the
        # kernel (kTLS) where it can, else OpenSSL.
        os.makedirs(os.path.join(top, "certs"))
        certs = make_certs(os.path.join(top, "certs"))
        out = tls_session(top, certs)
        check(out.startswith(b"+OK pop3d ready\r\n"), "TLS: greeting", out)
        tls = [l for l in drain(log) if b" tls result=ok " in l]
        want = b" send=ktls" if kernel_tls() else b" send=openssl"
        check(len(tls) == 1 and b" mode=implicit version=TLSv1.3 " in tls[0]
              and tls[0].endswith(want),
              "TLS: one line names the version and ends %r" % want, tls)

        everything = b"\n".join(ok + bad)
        print(everything.decode(errors="replace"))

        # RFC 3164 framing: <PRI> with facility mail (2) and the tag.
        for line in ok + bad:
            pri = int(line[1:line.index(b">")])
            check(line.startswith(b"<") and pri // 8 == 2,
                  "facility is not mail: %r" % line)
            check(b"pop3d[" in line, "no tag and pid: %r" % line)
        check(any(b"login user=me result=ok msgs=2 octets=44" in l for l in ok),
              "no successful login line")
        check(any(b"end reason=quit retr=1 top=1 dele=1 octets=38" in l for l in ok),
              "no session end line with counts")
        check(any(b"login user=me result=deny reason=wrong-password" in l
                  for l in bad), "no failed login line saying why")
        check(any(re.search(rb" end reason=quit retr=1 top=1 dele=1 "
                            rb"octets=38 user=me duration=\d+\.\d{3}$", l)
                  for l in ok), "no end line with the user and duration")
        # The unknown user's bytes are escaped, never raw.
        check(any(b"login user=ev%01l%25%22x result=deny "
                  b"reason=unknown-user" in l for l in bad),
              "control bytes in a user name not escaped")
        check(not any(b"\x01" in l for l in bad), "a raw control byte reached the log")
        for secret in (PASSWORD, WRONG):
            check(secret.encode() not in everything, "a password reached the log")
            check(secret.split()[0].encode() not in everything,
                  "part of a password reached the log")

        # Broken users-file lines: the log names the first, says what is
        # wrong with it (a '"' of the line's own escaped), and how many.
        users = os.path.join(top, "users")
        with open(users, "rb") as f:
            good = f.read()
        with open(users, "wb") as f:
            f.write(b"no colon \"here\"\n" + good + b"x:$argon2id$v=19$m=8,t=1,p=1$AA$AA:rw:rw\n")
        drain(log)
        session(top, ("USER me\r\nPASS %s\r\nQUIT\r\n" % PASSWORD).encode())
        lines = drain(log)
        mal = [l for l in lines if b" result=malformed " in l]
        check(len(mal) == 1, "one line about the malformed users lines", lines)
        check(mal and re.search(rb" users file=\S+ line=1 result=malformed "
                                rb"malformed-lines=2 error=\"it has no ':' [^\"]*\" "
                                rb"fix=\"pop3d-passwd lint names each\"$", mal[0]),
              "the malformed line's log line says which, why and how many", mal)
        check(any(b"login user=me result=ok" in l for l in lines),
              "the good line still logs in", lines)
        with open(users, "wb") as f:
            f.write(good)

        # A Maildir with twins (one base name in new/ and cur/, two
        # files) whose ids cannot be kept: the login is served, and its
        # log says so, since deleting the twin holding the base id would
        # then pass it to the other.  Once they can be, they are, and no
        # line says otherwise.
        r = subprocess.run([PASSWD, "add", "--users", users, "tw"],
                           input=(PASSWORD + "\n").encode(),
                           capture_output=True)
        check(r.returncode == 0, "pop3d-passwd add tw")
        twins = os.path.join(top, "mail", "tw")
        for sub, name in (("new", "1700000000.M1P1.host"),
                          ("cur", "1700000000.M1P1.host:2,S"),
                          ("tmp", None)):
            os.makedirs(os.path.join(twins, sub))
            if name is not None:
                with open(os.path.join(twins, sub, name), "wb") as f:
                    f.write(b"Subject: %s\r\n\r\nbody\r\n" % sub.encode())
        os.mkdir(os.path.join(twins, ".pop3d.uidls.tmp"))
        drain(log)
        login = ("USER tw\r\nPASS %s\r\nQUIT\r\n" % PASSWORD).encode()
        r = session(top, login)
        got = drain(log)
        check(b"+OK maildrop has 2 messages" in r.stdout,
              "twins whose ids cannot be kept: served", r.stdout)
        check(any(b"mailbox user=tw mailbox=" in l and
                  b" result=ids-unsaved file=.pop3d.uidls error=" in l
                  for l in got),
              "twins whose ids cannot be kept: a line says so", got)
        check(not os.path.exists(os.path.join(twins, ".pop3d.uidls")),
              "twins whose ids cannot be kept: no .pop3d.uidls")
        os.rmdir(os.path.join(twins, ".pop3d.uidls.tmp"))
        session(top, login)
        got = drain(log)
        check(os.path.exists(os.path.join(twins, ".pop3d.uidls")) and
              not any(b"ids-unsaved" in l for l in got),
              "twins whose ids can be kept: kept, and nothing said", got)

        # A flood: one more message than a listing holds.  The login
        # works, and its log says how many were listed of how many.
        with open(PARAMS_H) as f:
            most = int(re.search(r"#define\s+POP3D_MSGS_MAX\s+(\d+)",
                                 f.read()).group(1))
        # Hard links to a few copies of "2" (there already: most + 1 in
        # all), as fast to make as names can be (ext4 allows 65,000 links
        # to one file).
        for i in range(3, most + 3):
            copy = os.path.join(top, "two.%d" % (i // 60000))
            if not os.path.exists(copy):
                shutil.copyfile(os.path.join(box, "2"), copy)
            os.link(copy, os.path.join(box, str(i)))
        drain(log)
        r = session(top, ("USER me\r\nPASS %s\r\nQUIT\r\n" % PASSWORD).encode())
        cut = drain(log)
        check(b"+OK maildrop has %d messages" % most in r.stdout,
              "a flood, served in part", r.stdout)
        want = b"mailbox user=me mailbox="
        check(any(want in l and l.endswith(b" result=cut listed=%d found=%d"
                                           % (most, most + 1)) for l in cut),
              "a flood: no line with result=cut listed=%d found=%d"
              % (most, most + 1), cut)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
