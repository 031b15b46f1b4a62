#!/usr/bin/env python3
"""Where mail comes from: a real Postfix delivers, pop3d serves, clients
fetch.

usage: mta_test.py POP3D POP3D_PASSWD CONTRIB_POSTFIX

A private Postfix (its own configuration folder, queue, data folder and
log file under the test's temporary folder; an SMTP listener on a free
127.0.0.1 port; the system's Postfix configuration is only read, as
Postfix reads its defaults) runs the tested configuration shipped in
contrib/postfix/ (the README's Delivery section), with only its paths, the pop3d
user's uid and the pipe's user replaced: virtual delivery into alice's
Maildir, and a pipe to procmail into bob's plain folder.  Messages go
in over SMTP (smtplib, and Postfix's own sendmail), and come out through
pop3d under systemd-socket-activate, run as the mailboxes' owner
(setpriv to uid 65534), with mpop (alice) and fetchmail (bob), which
delete them.  The files are the owner's, the messages arrive with their
bodies and dot lines intact, the mailboxes are empty afterwards, and
pop3d's log lines (a /dev/log of the test's own) name each login.
The README must show each of those files as it is.
Postfix is stopped in a finally.  Needs root, postfix, procmail, mpop,
fetchmail, setpriv and systemd-socket-activate; skipped (77) otherwise.
"""
import os
import re
import shutil
import smtplib
import socket
import subprocess
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
import deploylib  # noqa: E402
from deploylib import (Activator, Syslog, add_user, bound, delivered,  # noqa
                       free_port, private_dev, reexec_private, tempdir)
from pop3dtest import check, finish, skip  # noqa: E402

POP3D, PASSWD, CONTRIB = (os.path.abspath(p) for p in sys.argv[1:4])
OWNER = 65534                   # the mailboxes' owner, as pop3d would be
PASSWORD = "fetch me"
DOMAIN = "example.org"
TOOLS = ("postfix", "procmail", "mpop", "fetchmail", "setpriv",
         "systemd-socket-activate")

# The services of a master.cf that a private instance needs, none in a
# chroot (which would need copies of /etc files in the queue folder).
MASTER = """\
{listen} inet n - n - - smtpd
pickup    unix  n       -       n       60      1       pickup
cleanup   unix  n       -       n       -       0       cleanup
qmgr      unix  n       -       n       300     1       qmgr
rewrite   unix  -       -       n       -       -       trivial-rewrite
bounce    unix  -       -       n       -       0       bounce
defer     unix  -       -       n       -       0       bounce
trace     unix  -       -       n       -       0       bounce
verify    unix  -       -       n       -       1       verify
flush     unix  n       -       n       1000?   0       flush
proxymap  unix  -       -       n       -       -       proxymap
smtp      unix  -       -       n       -       -       smtp
showq     unix  n       -       n       -       -       showq
error     unix  -       -       n       -       -       error
retry     unix  -       -       n       -       -       error
discard   unix  -       -       n       -       -       discard
virtual   unix  -       n       n       -       -       virtual
anvil     unix  -       -       n       -       1       anvil
scache    unix  -       -       n       -       1       scache
postlog   unix-dgram n  -       n       -       1       postlogd
"""

# What a private instance sets besides contrib/postfix/main.cf.
MAIN = """\
compatibility_level = 3.6
queue_directory = {top}/spool
data_directory = {top}/data
mail_owner = postfix
setgid_group = postdrop
myhostname = mx.{domain}
mydomain = {domain}
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
smtpd_relay_restrictions = permit_mynetworks, reject_unauth_destination
alias_maps =
alias_database =
smtputf8_enable = no
biff = no
maillog_file_prefixes = {top}
maillog_file = {top}/postfix.log
"""

MESSAGES = {
    "alice": [
        b"From: carol@example.net\r\nTo: alice@example.org\r\n"
        b"Subject: over SMTP\r\n\r\nHello Alice,\r\n.a line that starts "
        b"with a dot\r\n..and two\r\ncaf\xc3\xa9\r\n",
        b"From: carol@example.net\r\nTo: alice@example.org\r\n"
        b"Subject: second\r\n\r\nline one\r\nline two\r\n",
    ],
    "bob": [
        b"From: carol@example.net\r\nTo: bob@example.org\r\n"
        b"Subject: for the plain folder\r\n\r\nHello Bob.\r\n.\r\n"
        b"(a line that is one dot, above)\r\n",
    ],
}
BY_SENDMAIL = (b"From: root@example.org\nTo: bob@example.org\n"
               b"Subject: by sendmail\n\nsent with Postfix's sendmail\n")


def contrib(name, top):
    """A file of contrib/postfix with the test's paths, uid and user."""
    with open(os.path.join(CONTRIB, name)) as f:
        text = f.read()
    text = text.replace("/var/mail/pop3d", os.path.join(top, "mail"))
    text = text.replace("/etc/postfix/", os.path.join(top, "etc") + "/")
    text = text.replace("/etc/pop3d/", os.path.join(top, "etc") + "/")
    text = re.sub(r"static:\d+", "static:%d" % OWNER, text)
    return text.replace("user=pop3d", "user=nobody")


def configure(top, port):
    etc = os.path.join(top, "etc")
    os.makedirs(etc)
    os.makedirs(os.path.join(top, "spool"))
    os.makedirs(os.path.join(top, "data"))
    shutil.chown(os.path.join(top, "data"), "postfix")
    with open(os.path.join(etc, "main.cf"), "w") as f:
        f.write(MAIN.format(top=top, domain=DOMAIN) + contrib("main.cf", top))
    with open(os.path.join(etc, "master.cf"), "w") as f:
        f.write(MASTER.format(listen="127.0.0.1:%d" % port) +
                contrib("master.cf", top))
    for name in ("pop3d-mailboxes", "pop3d-transport", "procmailrc"):
        with open(os.path.join(etc, name), "w") as f:
            f.write(contrib(name, top))
    mail = os.path.join(top, "mail")
    folders = [mail, os.path.join(mail, "bob")] + [
        os.path.join(mail, "alice", sub) for sub in ("", "cur", "new", "tmp")]
    for d in folders:
        os.makedirs(d, exist_ok=True)
        os.chown(d, OWNER, OWNER)
    return etc


def postfix(etc, *args):
    return subprocess.run(["postfix", "-c", etc] + list(args),
                          capture_output=True, text=True, timeout=60)


def wait_listening(port, proc_ok, timeout=30):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline and proc_ok():
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5):
                return True
        except OSError:
            time.sleep(0.1)
    return False


def messages_in(folder):
    """The message files pop3d would list in folder (no hidden file)."""
    out = []
    for sub in ("", "new", "cur"):
        d = os.path.join(folder, sub)
        if not os.path.isdir(d):
            continue
        out += [os.path.join(d, n) for n in os.listdir(d)
                if not n.startswith(".") and
                os.path.isfile(os.path.join(d, n))]
    return sorted(out)


def wait_delivered(mail, want, timeout=60):
    deadline = time.monotonic() + timeout
    while True:
        got = {u: len(messages_in(os.path.join(mail, u))) for u in want}
        if got == want or time.monotonic() > deadline:
            return got
        time.sleep(0.2)


def body(msg):
    """A message's body with LF line ends, without the blank line
    procmail adds at the end of each message it files."""
    return msg.replace(b"\r\n", b"\n").split(b"\n\n", 1)[1].rstrip(b"\n")


def contents(files):
    out = []
    for f in files:
        with open(f, "rb") as fh:
            out.append(fh.read())
    return sorted(out)


def mpop(port, top):
    md = os.path.join(top, "mpop-maildir")
    for sub in ("new", "cur", "tmp"):
        os.makedirs(os.path.join(md, sub))
    return deploylib.mpop(os.path.join(top, "mpop-home"), port, "alice",
                          PASSWORD, md, keep=False), md


def fetchmail(port, top):
    out = os.path.join(top, "fetchmail-out")
    return deploylib.fetchmail(os.path.join(top, "fetchmail-home"), port,
                               "bob", PASSWORD, out), out


def deliver(top, etc, port):
    """Mail in: SMTP and sendmail; then wait for Postfix to deliver."""
    with smtplib.SMTP("127.0.0.1", port, timeout=30) as s:
        for user, msgs in MESSAGES.items():
            for m in msgs:
                refused = s.sendmail("carol@example.net",
                                     ["%s@%s" % (user, DOMAIN)], m)
                check(refused == {}, "SMTP: Postfix accepts mail for "
                      + user, refused)
    r = subprocess.run(["sendmail", "-C", etc, "-f", "root@example.org",
                        "bob@example.org"], input=BY_SENDMAIL,
                       capture_output=True, timeout=60)
    check(r.returncode == 0, "sendmail: Postfix accepts mail for bob",
          r.stderr)
    mail = os.path.join(top, "mail")
    want = {"alice": 2, "bob": 2}
    got = wait_delivered(mail, want)
    check(got == want, "Postfix delivered every message", (got, open(
        os.path.join(top, "postfix.log"), errors="replace").read()[-3000:]))
    files = messages_in(os.path.join(mail, "alice"))
    check(all("/new/" in f for f in files), "alice: a Maildir's new/",
          files)
    files += messages_in(os.path.join(mail, "bob"))
    check(all(os.stat(f).st_uid == OWNER for f in files),
          "every message file is the mailboxes' owner's",
          [(f, os.stat(f).st_uid) for f in files])
    bob = sorted(os.listdir(os.path.join(mail, "bob")))
    check(bob == ["1", "2"], "bob: procmail's numbered files", bob)
    return {u: contents(messages_in(os.path.join(mail, u))) for u in want}


def fetch(top, log, on_disk):
    """Mail out: pop3d as the owner, mpop and fetchmail."""
    mail = os.path.join(top, "mail")
    users = os.path.join(top, "users")
    for user in ("alice", "bob"):
        add_user(PASSWD, users, user, PASSWORD)
    os.chmod(users, 0o644)
    act = Activator("socket-activate", "setpriv",
                    ["--reuid=%d" % OWNER, "--regid=%d" % OWNER,
                     "--clear-groups", POP3D, "--users", users,
                     "--mail-root", mail], top)
    try:
        port = act.start()
        r, md = mpop(port, top)
        check(r.returncode == 0, "mpop exits 0",
              (r.returncode, r.stdout[-500:], r.stderr[-500:]))
        got = delivered(md)
        want = sorted(body(m) for m in MESSAGES["alice"])
        check(sorted(body(m) for m in got) == want,
              "mpop: alice's messages, bodies intact", got)
        check(got == on_disk["alice"], "mpop: alice's files byte for byte",
              (got, on_disk["alice"]))
        check(messages_in(os.path.join(mail, "alice")) == [],
              "alice's Maildir is empty after mpop",
              messages_in(os.path.join(mail, "alice")))

        r, out = fetchmail(port, top)
        check(r.returncode == 0, "fetchmail exits 0",
              (r.returncode, r.stdout[-500:], r.stderr[-500:]))
        got = delivered(out)
        want = sorted(body(m) for m in MESSAGES["bob"] + [BY_SENDMAIL])
        check(sorted(body(m) for m in got) == want,
              "fetchmail: bob's messages, bodies intact", got)
        check(got == on_disk["bob"], "fetchmail: bob's files byte for byte",
              (got, on_disk["bob"]))
        check(messages_in(os.path.join(mail, "bob")) == [],
              "bob's folder is empty after fetchmail",
              messages_in(os.path.join(mail, "bob")))
    finally:
        act.stop()
    ours = [l for l in log.snapshot() if b" pop3d[" in l]
    for user, n in (("alice", 2), ("bob", 2)):
        check(any(re.search(rb"session=\d+@127\.0\.0\.1 login user=%s "
                            rb"result=ok msgs=%d " % (user.encode(), n), l)
                  for l in ours), "pop3d logged %s's login" % user, ours)
    check(not any(b"read-only" in l for l in ours),
          "no mailbox served read-only", ours)


def documented():
    """The README's Delivery section shows each tested file as it is
    (an indented block)."""
    with open(os.path.join(CONTRIB, "..", "..", "README.md")) as f:
        text = f.read()
    for name in ("main.cf", "master.cf", "pop3d-mailboxes",
                 "pop3d-transport", "procmailrc"):
        with open(os.path.join(CONTRIB, name)) as f:
            block = "".join("    " + l if l.strip() else "\n"
                            for l in f.read().splitlines(True))
        check("\n\n" + block + "\n" in text,
              "the README shows contrib/postfix/%s as tested" % name)


def main():
    documented()
    for tool in TOOLS:
        if shutil.which(tool) is None:
            skip("%s not found (scripts/install-deps installs it)" % tool)
    reexec_private("POP3D_DEPLOY_NS")
    bound(400)
    private_dev()
    log = Syslog()
    top = tempdir("pop3d-mta.")
    etc = None
    try:
        port = free_port()
        etc = configure(top, port)
        r = postfix(etc, "start")
        check(r.returncode == 0, "postfix start", r.stdout + r.stderr)
        ok = wait_listening(port, lambda: r.returncode == 0)
        check(ok, "Postfix listens on 127.0.0.1:%d" % port,
              open(os.path.join(top, "postfix.log")).read()[-2000:]
              if os.path.exists(os.path.join(top, "postfix.log")) else "")
        if ok:
            fetch(top, log, deliver(top, etc, port))
    finally:
        if etc is not None:
            stop(etc, top)
        log.close()
        shutil.rmtree(top, ignore_errors=True)
    sys.exit(finish())


def stop(etc, top):
    """Stops the private Postfix and waits for its master to be gone."""
    pidfile = os.path.join(top, "spool", "pid", "master.pid")
    try:
        with open(pidfile) as f:
            pid = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return
    postfix(etc, "stop")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    postfix(etc, "abort")


if __name__ == "__main__":
    main()
