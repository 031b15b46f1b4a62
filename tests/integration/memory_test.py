#!/usr/bin/env python3
"""RETR streams: pop3d's memory does not grow with the message.

Usage: memory_test.py POP3D USERS-FILE   (a users file with me/passw0rd)

Retrieves a 1 KiB message and a 192 MiB one (a 64 MiB line without a
newline, then lines of every length, then no final newline), reads every
byte the server sends, checks the octet count LIST gave and the framing,
and compares the two runs' peak resident memory (getrusage of the child).
The child's figure starts from this script's size at fork (Linux keeps
the peak across execve), so the script itself stays small.
"""
import os
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), ".."))
from pop3dtest import check, crlf_size_of, finish, skip, wrapped  # noqa: E402

if wrapped():
    # Under valgrind (POP3D_WRAPPER) peak memory says nothing about pop3d.
    skip("pop3d runs under $POP3D_WRAPPER")

POP3D, USERS = sys.argv[1], sys.argv[2]
MIB = 1024 * 1024
def write_big(path):
    with open(path, "wb") as f:
        f.write(b"Subject: big\n\n")
        for _ in range(64):                 # one 64 MiB line
            f.write(b"x" * MIB)
        f.write(b"\n")
        line = b"".join(b"%d:" % i + b"y" * (i % 997) + b"\n" for i in range(4000))
        while f.tell() < 192 * MIB:
            f.write(line)
        f.write(b"no final newline")


def retr(root):
    """Runs one session; returns (bytes of message 1, LIST size, peak KiB)."""
    proc = subprocess.Popen([POP3D, "--users", USERS, "--mail-root", root],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    proc.stdin.write(b"USER me\r\nPASS passw0rd\r\nLIST 1\r\nRETR 1\r\nQUIT\r\n")
    proc.stdin.close()
    head = b""
    while head.count(b"\r\n") < 5:
        head += proc.stdout.read1(65536)
    lines = head.split(b"\r\n")
    listed = int(lines[3].split()[2])          # "+OK 1 <size>"
    check(lines[4].startswith(b"+OK"), "RETR: %r" % lines[4][:80])
    body = head.split(b"\r\n", 5)[5]
    count, tail = len(body), body[-16:]
    while True:
        chunk = proc.stdout.read1(MIB)
        if not chunk:
            break
        count += len(chunk)
        tail = (tail + chunk)[-16:]
    _, status, usage = os.wait4(proc.pid, 0)
    check(os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0, "exit status %d" % status)
    ending = b"\r\n.\r\n+OK bye, 0 messages deleted\r\n"
    check(tail.endswith(ending[-16:]), "framing: %r" % tail)
    # Message bytes: everything before ".\r\n+OK bye..."; no line starts
    # with "." here, so nothing was stuffed.
    return count - (len(ending) - 2), listed, usage.ru_maxrss


def main():
    top = tempfile.mkdtemp(prefix="pop3d-mem.")
    try:
        small, big = os.path.join(top, "small"), os.path.join(top, "big")
        for root in (small, big):
            os.makedirs(os.path.join(root, "me"))
        with open(os.path.join(small, "me", "1"), "wb") as f:
            f.write(b"Subject: small\n\n" + b"z" * 1000 + b"\n")
        write_big(os.path.join(big, "me", "1"))
        want = crlf_size_of(os.path.join(big, "me", "1"))
        _, _, small_kib = retr(small)
        sent, listed, big_kib = retr(big)
        print("peak RSS: %d KiB for 1 KiB, %d KiB for %d MiB" %
              (small_kib, big_kib, want // MIB))
        check(listed == want, "LIST said %d, the CRLF form is %d" % (listed, want))
        check(sent == want, "RETR sent %d octets, want %d" % (sent, want))
        check(big_kib - small_kib < 8 * 1024,
              "memory grew by %d KiB with the message" % (big_kib - small_kib))
        check(big_kib < 48 * 1024, "peak %d KiB for one session" % big_kib)
    finally:
        shutil.rmtree(top, ignore_errors=True)
    return finish()


if __name__ == "__main__":
    sys.exit(main())
