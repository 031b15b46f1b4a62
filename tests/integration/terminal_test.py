#!/usr/bin/env python3
"""What an admin trying pop3d by hand sees on the terminal.

Usage: terminal_test.py POP3D POP3D-PASSWD

pop3d copies its log lines to standard error when that is a terminal,
and only then (under inetd it is the client's socket).  Each session
here runs with stdin and stdout on pipes and stderr on a pseudo-terminal
of the test's own, so the lines are read there; no root and no syslog
daemon are needed.  It checks that

- every kind of bad command line names the option (or argument), the
  value and why, exits 100, writes nothing to stdout, and nothing at all
  to a stderr that is no terminal;
- a failed login's line says why (unknown user, wrong password, the
  users-file line that names the user but is malformed, a banned
  address, LOGIN-DELAY), while the client's bytes stay the same for
  each of them; a users file that is missing or that others may write
  is named in its line;
- the session's end line carries the user and the duration;
- names in valid printable UTF-8 are logged as they are, so grep finds
  them, while control bytes, '%', invalid and overlong UTF-8, and the
  characters that hide or reorder text (bidi overrides and isolates,
  zero-width, Unicode spaces, line separators) are %XX-escaped.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
import pop3dtest  # noqa: E402
from pop3dtest import check, finish, pop3d_argv  # noqa: E402

POP3D, PASSWD = sys.argv[1], sys.argv[2]
PASSWORD = "c0rrect horse"
AUTH_FAILED = b"-ERR [AUTH] authentication failed\r\n"


def on_terminal(args, data=b"", env=None):
    """pop3d with stderr on a pseudo-terminal: (exit code, stdout, the
    terminal's text)."""
    return pop3dtest.on_terminal(pop3d_argv(POP3D, *args), data, env)


def usage_errors(top):
    users = os.path.join(top, "users")
    cases = [
        (["--idle-timeout", "soon"], rb"option=--idle-timeout value=soon "
         rb'error="not a whole number from \d+ to \d+"'),
        (["--ban-after", "-1"], rb"option=--ban-after value=-1 "
         rb'error="not a whole number from 0 to \d+"'),
        (["--expire", "0"], rb"option=--expire value=0 error=\"not a whole"),
        (["--login-delay", "9" * 30], rb"option=--login-delay value=9{30} "),
        (["--bogus"], rb'option=--bogus error="unknown or ambiguous option"'),
        (["-x"], rb'option=-x error="unknown option"'),
        (["--users"], rb'option=--users error="needs a value"'),
        (["--qaut=yes"], rb'option=--qaut error="takes no value"'),
        (["--users", users, "extra"],
         rb'argument=extra error="pop3d takes options only"'),
        (["--tls", "on"], rb"option=--tls value=on "
         rb'error="takes implicit, starttls or off"'),
        (["--tls=implicit"], rb'option=--tls=implicit error="needs --tls-cert"'),
        (["--tls-key", users], rb'option=--tls-key error="needs --tls-cert"'),
        (["--proxy-from", "10.1.2.3/8"], rb"option=--proxy-from "
         rb"value=10.1.2.3/8 error="),
        # A hostile value is escaped, never copied raw to the terminal.
        (["--ban-time", "1\x1b[2J"], rb"option=--ban-time value=1%1B\[2J "),
    ]
    for args, want in cases:
        rc, out, seen = on_terminal(args, b"USER me\r\n")
        check(rc == 100, "%r: exit 100" % args, rc)
        check(out == b"", "%r: nothing to the client" % args, out)
        check(re.search(rb"pop3d\[\d+\]: session=\d+@local startup "
                        rb"result=usage " + want, seen) is not None,
              "%r: the terminal names what is wrong" % args, seen)
        check(b"usage: pop3d" in seen, "%r: and shows the usage" % args, seen)
        check(b"\x1b" not in seen, "%r: no raw escape byte" % args, seen)
        r = subprocess.run(pop3d_argv(POP3D, *args), input=b"USER me\r\n",
                           capture_output=True, timeout=60)
        check(r.returncode == 100 and r.stdout == b"" and r.stderr == b"",
              "%r: stderr not a terminal: nothing written" % args,
              (r.returncode, r.stdout, r.stderr))


def add_user(users, name, password=PASSWORD):
    r = subprocess.run([PASSWD, "add", "--users", users, name],
                       input=(password + "\n").encode(), capture_output=True)
    check(r.returncode == 0, "pop3d-passwd add %r" % name, r.stderr)


def login_reasons(top):
    users = os.path.join(top, "users")
    mail = os.path.join(top, "mail")
    add_user(users, "me")
    with open(users, "ab") as f:
        f.write(b"broken:$1$too$weak\n")         # line 2: md5-crypt
        f.write(b"nocolon\n")                    # line 3
    os.makedirs(os.path.join(mail, "me"))
    base = ["--users", users, "--mail-root", mail]
    env = dict(os.environ, REMOTE_ADDR="192.0.2.7")

    # First by a scan of the file (the hand edit made its index stale),
    # then by its index, which must say the same.
    for how in ("scan", "index"):
        if how == "index":
            r = subprocess.run([PASSWD, "index", "--users", users],
                               capture_output=True)
            check(r.returncode == 0, "pop3d-passwd index", r.stderr)
        replies = {}
        for name, password, want in (
                ("me", "wrong", rb"result=deny reason=wrong-password"),
                ("ghost", PASSWORD, rb"result=deny reason=unknown-user"),
                ("broken", PASSWORD,
                 rb"result=deny reason=malformed-line line=2"),
                ("nocolon", PASSWORD,
                 rb"result=deny reason=malformed-line line=3")):
            ban = os.path.join(top, "ban-%s-%s" % (how, name))
            rc, out, seen = on_terminal(
                base + ["--ban-file", ban],
                ("USER %s\r\nPASS %s\r\nQUIT\r\n" % (name, password))
                .encode(), env)
            replies[name] = out
            check(re.search(rb"session=\d+@192\.0\.2\.7 login user=" +
                            name.encode() + rb" " + want + rb"\n", seen)
                  is not None, "%s, by %s: the log says why" % (name, how),
                  seen)
            check((b"index=stale" in seen) == (how == "scan"),
                  "%s, by %s: the index is %s" % (name, how,
                  "stale" if how == "scan" else "used"), seen)
        check(len(set(replies.values())) == 1 and
              AUTH_FAILED in replies["me"],
              "the client is answered alike whatever the reason", replies)

    # The users file itself: missing, or writable by others.  The line
    # names it; the client hears only that it is not its fault.
    missing = os.path.join(top, "no-such-users")
    rc, out, seen = on_terminal(["--users", missing, "--mail-root", mail],
                                b"USER me\r\nPASS x\r\nQUIT\r\n")
    check(b"-ERR [SYS/TEMP]" in out, "no users file: [SYS/TEMP]", out)
    check(("login user=me result=tempfail users=%s error=\"No such file or "
           "directory\"\n" % missing).encode() in seen,
          "no users file: the line names it", seen)
    open_users = os.path.join(top, "users-o+w")
    shutil.copy(users, open_users)
    os.chmod(open_users, 0o666)
    rc, out, seen = on_terminal(["--users", open_users, "--mail-root", mail],
                                b"USER me\r\nPASS x\r\nQUIT\r\n")
    check(b"-ERR [SYS/PERM]" in out, "users file others may write: "
          "[SYS/PERM]", out)
    check(("login user=me result=permfail users=%s error=\"others may write "
           "the users file: refused\"\n" % open_users).encode() in seen,
          "users file others may write: the line names it", seen)

    # pop3d's own ban: three failures, then the address is banned.
    ban = os.path.join(top, "ban-shared")
    rc, out, seen = on_terminal(
        base + ["--ban-file", ban],
        b"USER me\r\nPASS a\r\nUSER me\r\nPASS b\r\nUSER me\r\nPASS c\r\n",
        env)
    check(out.count(AUTH_FAILED) == 3, "three failed logins", out)
    check(re.search(rb"ban addr=192\.0\.2\.7 failures=3 ", seen) is not None,
          "the third failure bans the address", seen)
    rc, out, seen = on_terminal(
        base + ["--ban-file", ban],
        ("USER me\r\nPASS %s\r\nQUIT\r\n" % PASSWORD).encode(), env)
    check(out == replies["me"], "banned: answered as a wrong password", out)
    check(b"login user=me result=banned\n" in seen,
          "banned: the log says so", seen)

    # LOGIN-DELAY: the right password, too soon.
    delay = base + ["--login-delay", "3600"]
    login = ("USER me\r\nPASS %s\r\nQUIT\r\n" % PASSWORD).encode()
    rc, out, seen = on_terminal(delay, login)
    check(b"+OK maildrop" in out, "login-delay: the first login", out)
    rc, out, seen = on_terminal(delay, login)
    check(b"-ERR [LOGIN-DELAY]" in out, "login-delay: the second", out)
    check(re.search(rb"login user=me result=login-delay wait=\d+\n", seen)
          is not None, "login-delay: the log says so", seen)

    # The end line: who, and for how long.
    rc, out, seen = on_terminal(base, login)
    m = re.search(rb" end reason=quit retr=0 top=0 dele=0 octets=0 "
                  rb"user=me duration=(\d+)\.(\d{3})\n", seen)
    check(m is not None, "the end line names the user and the duration",
          seen)
    rc, out, seen = on_terminal(base, b"QUIT\r\n")
    check(re.search(rb" end reason=quit retr=0 top=0 dele=0 octets=0 "
                    rb"duration=\d+\.\d{3}\n", seen) is not None,
          "no login: no user in the end line", seen)

    # A line about a file in the mailbox names the mailbox.
    box = os.path.join(mail, "me")
    with open(os.path.join(box, ".pop3d.journal"), "wb") as f:
        f.write(b"not a journal\n")
    rc, out, seen = on_terminal(base, login)
    check(("journal user=me mailbox=%s result=malformed removed=0\n"
           % box).encode() in seen, "a damaged journal: the line names the "
          "mailbox", seen)


def names(top):
    users = os.path.join(top, "users-utf8")
    mail = os.path.join(top, "mail")
    add_user(users, "josé")
    os.makedirs(os.path.join(mail, "josé"))
    base = ["--users", users, "--mail-root", mail]
    rc, out, seen = on_terminal(
        base, ("USER josé\r\nPASS %s\r\nQUIT\r\n" % PASSWORD).encode())
    check(b"+OK maildrop" in out, "josé logs in", out)
    check("login user=josé result=ok".encode() in seen,
          "josé is logged as josé", seen)
    check("end reason=quit".encode() in seen and
          " user=josé duration=".encode() in seen,
          "josé in the end line", seen)

    hostile = [
        ("Ωmega-東京-🙂", "Ωmega-東京-🙂".encode()),
        (b"a\xe2\x80\xaeb", b"a%E2%80%AEb"),            # RIGHT-TO-LEFT OVERRIDE
        (b"a\xe2\x81\xa6b", b"a%E2%81%A6b"),            # LEFT-TO-RIGHT ISOLATE
        (b"a\xe2\x80\x8bb", b"a%E2%80%8Bb"),            # ZERO WIDTH SPACE
        (b"a\xc2\xa0result=ok", b"a%C2%A0result=ok"),   # NO-BREAK SPACE
        (b"a\xe2\x80\xa8b", b"a%E2%80%A8b"),            # LINE SEPARATOR
        (b"a\xc2\x85b", b"a%C2%85b"),                   # NEXT LINE (C1)
        (b"a\xef\xbb\xbfb", b"a%EF%BB%BFb"),            # BOM
        (b"a\xffb", b"a%FFb"),                          # not UTF-8
        (b"a\xc0\xafb", b"a%C0%AFb"),                   # overlong '/'
        (b"a\xed\xa0\x80b", b"a%ED%A0%80b"),            # a surrogate
        (b"a\xc3", b"a%C3"),                            # cut short
        (b"a\x1b[31mb", b"a%1B[31mb"),                  # terminal escape
        (b"50%", b"50%25"),
    ]
    for name, want in hostile:
        raw = name if isinstance(name, bytes) else name.encode()
        rc, out, seen = on_terminal(base, b"USER " + raw + b"\r\nPASS x\r\n"
                                    b"QUIT\r\n")
        check(b"login user=" + want + b" result=deny reason=unknown-user\n"
              in seen, "name %r is logged as %r" % (raw, want), seen)
        if want != raw:
            check(b"user=" + raw + b" " not in seen,
                  "name %r never reaches the terminal raw" % raw, seen)


def main():
    top = tempfile.mkdtemp(prefix="pop3d-terminal.")
    try:
        usage_errors(top)
        login_reasons(top)
        names(top)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
