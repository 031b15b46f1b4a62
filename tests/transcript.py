"""The transcript format: one NAME.t file per test (tests/transcripts/README).

parse() turns a NAME.t into what the runner sends, expects and checks;
escape() writes bytes as a C: or S: line's text.  The runner
(run-transcripts), the fuzz corpus maker (fuzz/mkcorpus) and
convert-transcripts share this module, so there is one definition of the
format.  Python 3 standard library only.
"""
import re

# @login NAME stands for these bytes (every fixture user's password but
# spacey's is passw0rd; tests/transcripts/README).
LOGIN_PASSWORD = b"passw0rd"
LOGIN_REPLY = b"+OK send PASS\r\n"

INDENT = "    "                       # a block's lines start with this
HEADERS = ("args", "rc", "hold", "mintime", "confined", "lock", "setup")
BLOCKS = ("setup", "during", "after")
ESCAPES = {"r": b"\r", "n": b"\n", "t": b"\t", "\\": b"\\"}
REPEAT = re.compile(r"\\\{((?:[^*}\\]|\\x[0-9a-fA-F]{2}|\\[rnt\\])+)"
                    r"\*([0-9]+)\}")
REPEAT_MIN = 64                        # escape() folds runs this long


class FormatError(Exception):
    """A NAME.t that does not follow the format; says which line."""


class Transcript:
    """One test: client and server bytes and what else the runner checks.

    client, server  the bytes of all C: lines and of all S: lines
    rc              the expected exit code
    args            more pop3d options, a list
    hold, mintime   seconds (hold None when absent; mintime 0)
    confined, lock  the header's text, or None
    setup           the set-up script's text, or None
    during          (script, client bytes before it, server LFs before
                    it), or None
    after           the expected listing's lines, or None
    """

    def __init__(self):
        self.client = b""
        self.server = b""
        self.rc = 0
        self.args = []
        self.hold = None
        self.mintime = 0.0
        self.confined = None
        self.lock = None
        self.setup = None
        self.during = None
        self.after = None


def unescape(text):
    """A C:/S: line's text as bytes; the bool is False when it ends in a
    lone backslash (no CRLF appended)."""
    out = bytearray()
    i = 0
    while i < len(text):
        c = text[i]
        if c != "\\":
            out += c.encode()
            i += 1
            continue
        if i + 1 == len(text):
            return bytes(out), False
        n = text[i + 1]
        if n in ESCAPES:
            out += ESCAPES[n]
            i += 2
        elif n == "x" and re.fullmatch(r"[0-9a-fA-F]{2}", text[i + 2:i + 4]):
            out.append(int(text[i + 2:i + 4], 16))
            i += 4
        elif n == "{":
            m = REPEAT.match(text, i)
            if not m:
                raise ValueError("a repeat is written \\{TEXT*COUNT}")
            unit, closed = unescape(m.group(1))
            out += unit * int(m.group(2))
            i = m.end()
        else:
            raise ValueError("unknown escape \\%s" % n)
    return bytes(out), True


def _byte(b, edge, in_unit):
    if b == 0x5c:
        return "\\\\"
    if b == 0x20:
        return "\\x20" if edge else " "
    if in_unit and b in b"*}":
        return "\\x%02x" % b
    if 0x20 < b < 0x7f:
        return chr(b)
    return {0x0d: "\\r", 0x0a: "\\n", 0x09: "\\t"}.get(b, "\\x%02x" % b)


def _repeat(data, i):
    """The (unit, count) of a run of at least REPEAT_MIN bytes at i."""
    best = None
    for u in range(1, 17):
        unit = data[i:i + u]
        if len(unit) < u:
            break
        k = 1
        while data[i + k * u:i + (k + 1) * u] == unit:
            k += 1
        if k >= 2 and u * k >= REPEAT_MIN and (
                best is None or u * k > len(best[0]) * best[1]):
            best = (unit, k)
    return best


def escape(data, line_end=True):
    """Bytes as a C:/S: line's text: CRLF is not part of data; without
    line_end, a trailing backslash says that none is appended."""
    out = []
    i = 0
    while i < len(data):
        rep = _repeat(data, i)
        if rep:
            unit, k = rep
            out.append("\\{%s*%d}" % (
                "".join(_byte(b, False, True) for b in unit), k))
            i += len(unit) * k
            continue
        out.append(_byte(data[i], i == 0 or i == len(data) - 1, False))
        i += 1
    return "".join(out) + ("" if line_end else "\\")


def parse(text):
    """A NAME.t's text as a Transcript; FormatError names the line."""
    t = Transcript()
    lines = text.split("\n")
    if lines and lines[-1] == "":
        lines.pop()
    client, server = bytearray(), bytearray()
    phase = "headers"                  # then "conversation", then "after"
    seen = set()
    i = 0
    while i < len(lines):
        line = lines[i]
        where = i + 1
        i += 1
        try:
            if line == "" or line.startswith("#"):
                continue
            m = re.fullmatch(r"([CS]):(?: (.*))?", line)
            if m:
                if phase == "after":
                    raise ValueError("conversation after the after: block")
                phase = "conversation"
                data, closed = unescape(m.group(2) or "")
                data += b"\r\n" if closed else b""
                (client if m.group(1) == "C" else server).extend(data)
                continue
            m = re.fullmatch(r"@login (\S+)", line)
            if m:
                if phase == "after":
                    raise ValueError("conversation after the after: block")
                phase = "conversation"
                client += (b"USER " + m.group(1).encode() + b"\r\nPASS " +
                           LOGIN_PASSWORD + b"\r\n")
                server += LOGIN_REPLY
                continue
            m = re.fullmatch(r"([a-z]+):(.*)", line)
            if not m:
                raise ValueError("neither C:, S:, @login, a header nor a "
                                 "comment")
            key, value = m.group(1), m.group(2).strip()
            if key not in HEADERS + BLOCKS:
                raise ValueError("unknown header %s:" % key)
            if key in seen:
                raise ValueError("%s: given twice" % key)
            seen.add(key)
            if key in HEADERS and phase != "headers":
                raise ValueError("%s: belongs before the conversation" % key)
            if key == "during" and phase != "conversation":
                raise ValueError("during: belongs inside the conversation")
            if key in BLOCKS:
                if value:
                    raise ValueError("%s: takes an indented block" % key)
                block = []
                while i < len(lines) and (lines[i].startswith(INDENT) or
                                          lines[i] == ""):
                    block.append(lines[i][len(INDENT):])
                    i += 1
                while block and block[-1] == "":
                    i -= 1                 # blank lines end the block
                    block.pop()
                if not block:
                    raise ValueError("%s: has an empty block" % key)
                if key == "setup":
                    t.setup = "\n".join(block) + "\n"
                elif key == "during":
                    t.during = ("\n".join(block) + "\n", len(client),
                                server.count(b"\n"))
                else:
                    phase = "after"
                    t.after = block
                continue
            if not value:
                raise ValueError("%s: needs a value" % key)
            if key == "args":
                t.args = value.split()
            elif key == "rc":
                t.rc = int(value)
            elif key == "hold":
                t.hold = float(value)
            elif key == "mintime":
                t.mintime = float(value)
            elif key == "confined":
                t.confined = value
            elif key == "lock":
                t.lock = value
        except ValueError as e:
            raise FormatError("line %d: %s" % (where, e)) from None
    t.client, t.server = bytes(client), bytes(server)
    return t


def load(path):
    """parse() of the file at path."""
    with open(path, "rb") as f:
        return parse(f.read().decode("utf-8"))
