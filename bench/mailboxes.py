"""bench/run's mailboxes: deterministic messages (a pool of body lines,
some starting with '.'; LF, CRLF or mixed), Maildir or plain folder,
made once and kept while their spec stays the same."""

import email.utils
import json
import os
import random
import shutil
import time

from common import log


GEN_VERSION = 1         # bump when the generator changes: boxes are remade


def make_pool(seed=8):
    """A deterministic pool of body lines, some starting with '.'."""
    rng = random.Random(seed)
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = ["".join(rng.choice(letters) for _ in range(rng.randint(1, 10)))
             for _ in range(2000)]
    specials = [".", "..", ".hidden line", ". a dot and a space",
                "...three", ".\t", "From here on", ">From quoted"]
    pool = []
    for k in range(4096):
        r = rng.random()
        if r < 0.06:
            pool.append("")
            continue
        target = rng.randint(20, 76)
        line = []
        n = 0
        while n < target:
            w = rng.choice(words)
            line.append(w)
            n += len(w) + 1
        text = " ".join(line)
        if r < 0.09:
            text = "." + text           # dot-stuffing on the way out
        elif r < 0.10:
            text = rng.choice(specials)
        pool.append(text)
    return pool


POOL = make_pool()
POOL_LEN = len(POOL)


def header(i, box):
    ts = 1700000000 + i * 37
    date = email.utils.formatdate(ts, usegmt=True)
    s = i % 97
    return [
        "Return-Path: <sender%d@example.org>" % s,
        "Received: from mx%d.example.org by bench.example.net; %s" % (s % 5, date),
        "From: Sender %d <sender%d@example.org>" % (s, s),
        "To: bench@example.net",
        "Subject: benchmark message %d of %s" % (i, box),
        "Date: " + date,
        "Message-ID: <%d.%s@bench.example.org>" % (i, box),
        "MIME-Version: 1.0",
        "Content-Type: text/plain; charset=us-ascii",
        "",
    ]


def message(i, box, size, crlf):
    """Message i of box, about size bytes, LF or CRLF; bytes."""
    eol = "\r\n" if crlf else "\n"
    lines = header(i, box)
    n = sum(len(x) + len(eol) for x in lines)
    k = (i * 7919) % POOL_LEN
    while n < size:
        x = POOL[k]
        lines.append(x)
        n += len(x) + len(eol)
        k = (k + 1) % POOL_LEN
    return (eol.join(lines) + eol).encode()


def crlf_size(data):
    """Octets of the CRLF form (what LIST says), computed apart from pop3d."""
    return len(data) + data.count(b"\n") - data.count(b"\r\n") + \
        (2 if data and not data.endswith(b"\n") else 0)


def small_size(i):
    """1 to 7 KiB, about 4 KiB on average, spread deterministically."""
    return 1024 + (i * 2654435761 % 2 ** 32) % 6144


def maildir_name(i):
    # Postfix virtual(8) style: no S= or W= size in the name, so every
    # server must read the file to learn its CRLF size.
    return "%d.V801I%xM%06d.bench.example.org:2," % (
        1700000000 + i, i + 1, i * 7919 % 1000000)


class Box:
    """A generated mailbox: spec, where it is, and what it should hold."""

    def __init__(self, name, layout, count, size, eol):
        self.name, self.layout, self.count = name, layout, count
        self.size, self.eol = size, eol         # size: "small" or bytes
        self.path = None
        self.crlf_total = 0
        self.file_total = 0

    def spec(self):
        return {"gen": GEN_VERSION, "name": self.name, "layout": self.layout,
                "count": self.count, "size": self.size, "eol": self.eol}

    def msg_dir(self):
        return os.path.join(self.path, "cur") if self.layout == "maildir" \
            else self.path

    def files(self):
        d = self.msg_dir()
        names = [maildir_name(i) if self.layout == "maildir" else str(i + 1)
                 for i in range(self.count)]
        return [os.path.join(d, n) for n in names]

    def is_crlf(self, i):
        if self.eol == "mixed":
            return i % 4 == 3
        return self.eol == "crlf"


def write_file(path, data, owner):
    with open(path, "wb") as f:
        f.write(data)
        if owner:
            os.fchown(f.fileno(), *owner)


def mkdirs(path, owner, mode=0o755):
    os.makedirs(path, mode=mode, exist_ok=True)
    if owner:
        os.chown(path, *owner)


def generate(box, root, owner):
    """Makes box under root unless an identical one is there already."""
    box.path = os.path.join(root, box.name)
    stamp = os.path.join(root, "." + box.name + ".json")
    try:
        with open(stamp) as f:
            old = json.load(f)
        if old["spec"] == box.spec() and os.path.isdir(box.path):
            box.crlf_total, box.file_total = old["crlf_total"], old["file_total"]
            return False
    except (OSError, ValueError, KeyError):
        pass
    if os.path.exists(box.path):
        shutil.rmtree(box.path)
    t0 = time.monotonic()
    mkdirs(box.path, owner)
    if box.layout == "maildir":
        for sub in ("cur", "new", "tmp"):
            mkdirs(os.path.join(box.path, sub), owner)
    crlf_total = file_total = 0
    for i, path in enumerate(box.files()):
        crlf = box.is_crlf(i)
        if box.size == "small":
            data = message(i, box.name, small_size(i), crlf)
        elif box.size <= 20000000:
            data = message(i, box.name, box.size, crlf)
        else:
            data = None
        if data is not None:
            write_file(path, data, owner)
            crlf_total += crlf_size(data)
            file_total += len(data)
            continue
        # A big message: headers, then one ~1 MB block again and again.
        head = message(i, box.name, 0, crlf)
        block = message(i + 1, box.name, 1000000, crlf).split(
            b"\r\n\r\n" if crlf else b"\n\n", 1)[1]
        with open(path, "wb") as f:
            f.write(head)
            n = len(head)
            crlf_total += crlf_size(head)
            while n < box.size:
                f.write(block)
                n += len(block)
                crlf_total += crlf_size(block)
            file_total += n
            if owner:
                os.fchown(f.fileno(), *owner)
    box.crlf_total, box.file_total = crlf_total, file_total
    with open(stamp, "w") as f:
        json.dump({"spec": box.spec(), "crlf_total": crlf_total,
                   "file_total": file_total}, f)
    log("  made %s: %d messages, %.0f MB, in %.1f s" % (
        box.name, box.count, file_total / 1e6, time.monotonic() - t0))
    return True


def short(n):
    return "%dk" % (n // 1000) if n >= 1000 and n % 1000 == 0 else str(n)
