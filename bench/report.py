"""bench/run's report: the Markdown tables, the targets held against the
figures, and what the machine and the build were."""

import datetime
import json
import os
import platform
import subprocess

from mailboxes import short
from scenarios import (LOGIN_NEXT_MAX, LOGIN_VS_DOVECOT, FOLDER_VS_MAILDIR,
                       LISTING_VS_DOVECOT,
                       RETR_MANY_VS_CAT, RETR_LARGE_VS_CAT, RETR_LARGE_RSS,
                       DELE_ALL_MAX, SESSIONS_PEER_RATE, SESSIONS_VS_DOVECOT,
                       SESSIONS_OVERHEAD, USERS_FLAT_MS, USERS_UNKNOWN_RATIO,
                       USERS_LOAD_MAX)


def fmt_ms(x):
    ms = x * 1000
    if ms >= 100:
        return "%.0f" % ms
    if ms >= 10:
        return "%.1f" % ms
    return "%.2f" % ms


def fmt_triplet(row, key, f):
    lo, hi = row.rng(key)
    if len(row.samples) == 1:
        return f(row.med(key))
    return "%s [%s–%s]" % (f(row.med(key)), f(lo), f(hi))


def fmt_mib(kib):
    return "%.1f" % (kib / 1024)


def find(rows, scen, case, server):
    for r in rows:
        if r.scen == scen and r.case == case and r.server == server:
            return r
    return None


def ratio(a, b, key="wall"):
    if a is None or b is None:
        return "—"
    return "%.2f" % (a.med(key) / max(b.med(key), 1e-9))


def table(rows):
    out = ["| scenario | case | server | wall ms | CPU ms | peak RSS MiB | "
           "rate | ÷ cat | ÷ Dovecot | CPU ÷ Dovecot |",
           "|---|---|---|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        cat = find(rows, r.scen, r.case, "cat") if r.server != "cat" else None
        dc = find(rows, r.scen, r.case, "Dovecot") \
            if r.server not in ("Dovecot", "cat") else None
        rate = r.rate()
        rate = "" if rate is None else (
            "%.0f %s" % (rate, r.unit) if rate >= 10 else
            "%.1f %s" % (rate, r.unit))
        out.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r.scen, r.case, r.server, fmt_triplet(r, "wall", fmt_ms),
            fmt_triplet(r, "cpu", fmt_ms), fmt_triplet(r, "rss", fmt_mib),
            rate, ratio(r, cat) if cat else "",
            ratio(r, dc) if dc else "", ratio(r, dc, "cpu") if dc else ""))
    return "\n".join(out)


def table6(rows, ctx):
    out = ["| case | server | sessions/s | per session ms (client) | "
           "CPU per session ms | peak RSS MiB |",
           "|---|---|---:|---:|---:|---:|"]
    for r in rows:
        if r.scen != "sessions":
            continue
        n = r.work
        out.append("| %s | %s | %s | %s | %s | %s |" % (
            r.case, r.server,
            ("%.0f" % (n / r.med("wall"))) + (
                "" if len(r.samples) == 1 else " [%.0f–%.0f]" % (
                    n / r.rng("wall")[1], n / r.rng("wall")[0])),
            fmt_ms(r.med("lat")), fmt_ms(r.med("cpu") / n),
            fmt_triplet(r, "rss", fmt_mib)))
    return "\n".join(out)


def linear(rows, ctx):
    out = ["| case | server | " + " | ".join("N=%s" % short(c) for c in
                                              ctx.sizes["counts"]) +
           " | µs per message, smallest → largest N |",
           "|---|---|" + "---:|" * len(ctx.sizes["counts"]) + "---|"]
    for scen, case in (("login", "first login"), ("login", "next login"),
                       ("listing", "next login")):
        for server in ("pop3d", "Dovecot", "Courier", "cat"):
            cells, per = [], []
            for c in ctx.sizes["counts"]:
                r = find(rows, scen, "Maildir %s, %s" % (short(c), case),
                         server)
                if r is None:
                    break
                cells.append(fmt_ms(r.med("wall")) + " ms")
                per.append("%.1f" % (r.med("wall") / c * 1e6))
            if len(cells) == len(ctx.sizes["counts"]):
                out.append("| %s (%s) | %s | %s | %s |" % (
                    scen, case, server, " | ".join(cells), " → ".join(per)))
    large = [r for r in rows if r.scen == "retr-large"]
    for server in ("pop3d", "Dovecot", "cat"):
        rs = [r for r in large if r.server == server]
        if len(rs) > 1:
            out.append("")
            out.append("retr-large, %s: " % server + ", ".join(
                "%s: %.0f MB/s" % (r.case, r.rate()) for r in rs))
    return "\n".join(out)


def verdict(ok):
    return "**met**" if ok else "**not met**"


def targets(rows, ctx):
    """Each scenario's targets, from the constants beside its function,
    against what was measured; a verdict where one applies."""
    out = ["| target | measured | verdict |", "|---|---|---|"]
    big = short(max(ctx.sizes["counts"]))

    def add(t, m, ok):
        out.append("| %s | %s | %s |" % (t, m, verdict(ok) if ok is not None
                                          else "—"))

    def add_times(t, a, b, most):
        """Target t: a's median wall time at most most × b's."""
        add(t, "%s ÷ %s ms = %s× (CPU: %s×)" % (
            fmt_ms(a.med("wall")), fmt_ms(b.med("wall")), ratio(a, b),
            ratio(a, b, "cpu")), a.med("wall") <= most * b.med("wall"))
    p = find(rows, "login", "Maildir %s, next login" % big, "pop3d")
    d = find(rows, "login", "Maildir %s, next login" % big, "Dovecot")
    if p:
        add("login: next login at %s Maildir ≤ %.0f ms" % (
            big, LOGIN_NEXT_MAX * 1000),
            "%s ms" % fmt_ms(p.med("wall")), p.med("wall") <= LOGIN_NEXT_MAX)
    if p and d:
        add_times("login: next login ≤ %g × Dovecot's" % LOGIN_VS_DOVECOT,
                  p, d, LOGIN_VS_DOVECOT)
        add("login: next login peak RSS ≤ %g × Dovecot's" % LOGIN_VS_DOVECOT,
            "%s ÷ %s MiB = %.2f×" % (fmt_mib(p.med("rss")), fmt_mib(d.med("rss")),
                                     p.med("rss") / d.med("rss")),
            p.med("rss") <= LOGIN_VS_DOVECOT * d.med("rss"))
    fc = short(ctx.sizes["folder_count"])
    f = find(rows, "login", "folder %s, next login" % fc, "pop3d")
    m = find(rows, "login", "Maildir %s, next login" % fc, "pop3d")
    if f and m:
        add_times("login: next login, folder ÷ Maildir of %s ≤ %g×" % (
            fc, FOLDER_VS_MAILDIR), f, m, FOLDER_VS_MAILDIR)
    p = find(rows, "login", "Maildir %s, first login" % big, "pop3d")
    d = find(rows, "login", "Maildir %s, first login" % big, "Dovecot")
    if p and d:
        add_times("login: first login at %s ≤ %g × Dovecot's" % (
            big, LOGIN_VS_DOVECOT), p, d, LOGIN_VS_DOVECOT)
    p = find(rows, "listing", "Maildir %s, next login" % big, "pop3d")
    d = find(rows, "listing", "Maildir %s, next login" % big, "Dovecot")
    if p and d:
        add_times("listing: UIDL + LIST at %s ≤ %g × Dovecot's" % (
            big, LISTING_VS_DOVECOT), p, d, LISTING_VS_DOVECOT)
    for r in rows:
        if r.scen == "retr-many" and r.server == "pop3d":
            c = find(rows, "retr-many", r.case, "cat")
            add("retr-many: RETR all, %s: ≥ %g × cat's throughput" % (
                r.case, RETR_MANY_VS_CAT),
                "%.0f ÷ %.0f MB/s = %.2f×" % (r.rate(), c.rate(),
                                              r.rate() / c.rate()),
                r.rate() >= RETR_MANY_VS_CAT * c.rate())
    large = [r for r in rows if r.scen == "retr-large" and r.server == "pop3d"]
    if large:
        r = large[-1]
        c = find(rows, "retr-large", r.case, "cat")
        add("retr-large: RETR %s ≥ %g × cat's throughput" % (
            r.case, RETR_LARGE_VS_CAT),
            "%.0f ÷ %.0f MB/s = %.2f×" % (r.rate(), c.rate(),
                                          r.rate() / c.rate()),
            r.rate() >= RETR_LARGE_VS_CAT * c.rate())
        add("retr-large: RETR %s peak RSS < %d MiB" % (
            r.case, RETR_LARGE_RSS // 1024),
            "%s MiB" % fmt_mib(r.med("rss")), r.med("rss") < RETR_LARGE_RSS)
    case = "Maildir %s DELE all + QUIT" % short(ctx.sizes["dele_count"])
    p = find(rows, "dele-all", case, "pop3d")
    peers = [r for r in rows if r.scen == "dele-all" and r.case == case
             and r.server not in ("pop3d", "cat")]
    if p:
        add("dele-all: DELE all + QUIT ≤ %g s (fastest other server)" %
            DELE_ALL_MAX,
            "%s ms" % fmt_ms(p.med("wall")), p.med("wall") <= DELE_ALL_MAX)
    if p and peers:
        add("dele-all: DELE all + QUIT ahead of every peer measured (%s)" %
            ", ".join(r.server for r in peers),
            "; ".join("%s ÷ %s %s ms = %s× (CPU: %s×)" % (
                fmt_ms(p.med("wall")), r.server, fmt_ms(r.med("wall")),
                ratio(p, r), ratio(p, r, "cpu")) for r in peers),
            all(p.med("wall") < r.med("wall") for r in peers))
    sess = [r for r in rows if r.scen == "sessions"]
    pm = next((r for r in sess if r.server == "pop3d" and "min" in r.case),
              None)
    pi = next((r for r in sess if r.server == "pop3d" and "inter" in r.case),
              None)
    d = next((r for r in sess if r.server == "Dovecot"), None)
    if pm:
        rate = pm.work / pm.med("wall")
        add("sessions: min cost, ≥ 2 × %d/s (Courier, the fastest other "
            "server)" % SESSIONS_PEER_RATE,
            "%.0f/s" % rate, rate >= 2 * SESSIONS_PEER_RATE)
        add("sessions: min cost, server's own overhead per session < %g ms" %
            (SESSIONS_OVERHEAD * 1000),
            "%s ms wall (client-side), %s ms CPU" % (
                fmt_ms(pm.med("lat")), fmt_ms(pm.med("cpu") / pm.work)),
            pm.med("lat") < SESSIONS_OVERHEAD)
    if pm and d:
        rp, rd = pm.work / pm.med("wall"), d.work / d.med("wall")
        add("sessions: min cost, ≥ %g × Dovecot's rate (no authentication)" %
            SESSIONS_VS_DOVECOT,
            "%.0f ÷ %.0f/s = %.2f×" % (rp, rd, rp / rd),
            rp >= SESSIONS_VS_DOVECOT * rd)
    if pi and getattr(ctx, "argon2", None):
        v = ctx.argon2["verify_interactive"]
        rate = pi.work / pi.med("wall")
        add("sessions: interactive cost, rate vs argon2id's bound "
            "(1 ÷ %s ms)" % fmt_ms(v),
            "%.1f/s = %.0f%% of %.1f/s" % (rate, 100 * rate * v, 1 / v), None)
    users_targets(rows, ctx, add)
    return "\n".join(out)


def users_targets(rows, ctx, add):
    sizes = ctx.sizes.get("users", [])
    if not any(r.scen == "users" for r in rows) or len(sizes) < 2:
        return
    lo, hi = short(sizes[0]), short(sizes[-1])
    a = find(rows, "users", "%s users, index, known user" % lo, "pop3d")
    b = find(rows, "users", "%s users, index, known user" % hi, "pop3d")
    if a and b:
        d = (b.med("wall") - a.med("wall")) * 1000
        add("users: with the index, a login at %s users within %g ms of "
            "one at %s" % (hi, USERS_FLAT_MS, lo),
            "%s − %s ms = %+.2f ms (CPU: %+.2f ms)" % (
                fmt_ms(b.med("wall")), fmt_ms(a.med("wall")), d,
                (b.med("cpu") - a.med("cpu")) * 1000),
            d <= USERS_FLAT_MS)
    mid = short(sizes[-2] if len(sizes) > 2 else sizes[-1])
    for how in ("index", "no index"):
        w = find(rows, "users", "%s users, %s, known user, wrong password"
                 % (mid, how), "pop3d")
        for other in ("unknown name", "first line's user, wrong password"):
            u = find(rows, "users", "%s users, %s, %s" % (mid, how, other),
                     "pop3d")
            if not (u and w):
                continue
            q = u.med("cpu") / w.med("cpu")
            add("users: %s users, %s: %s ÷ last line's, CPU, within %g× "
                "either way" % (mid, how, other, USERS_UNKNOWN_RATIO),
                "%s ÷ %s ms = %.2f×" % (fmt_ms(u.med("cpu")),
                                        fmt_ms(w.med("cpu")), q),
                1 / USERS_UNKNOWN_RATIO <= q <= USERS_UNKNOWN_RATIO)
    big = [n for n in sizes if n >= 100000] or sizes[-1:]
    r = find(rows, "users", "%s users, add --from (hash lines)" %
             short(big[0]), "pop3d-passwd")
    if r:
        add("users: %s users loaded by add --from within %g s" % (
            short(big[0]), USERS_LOAD_MAX),
            "%.2f s" % r.med("wall"), r.med("wall") <= USERS_LOAD_MAX)


def sh(cmd):
    try:
        return subprocess.run(cmd, stdout=subprocess.PIPE,
                              stderr=subprocess.DEVNULL, timeout=30
                              ).stdout.decode(errors="replace").strip()
    except (OSError, subprocess.SubprocessError):
        return ""


def pressure():
    """The kernel's CPU and I/O pressure (PSI "some", avg60): how much of
    the last minute something waited for a CPU or for I/O."""
    out = []
    for what in ("cpu", "io"):
        try:
            with open("/proc/pressure/" + what) as f:
                line = f.readline().split()
            out.append("%s %s%%" % (what, line[2].split("=")[1]))
        except (OSError, IndexError):
            pass
    return ", ".join(out) or "?"


def machine(ctx):
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    distro = "?"
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("PRETTY_NAME="):
                    distro = line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    fs = sh(["findmnt", "-n", "-o", "FSTYPE,SOURCE", "-T", ctx.work])
    info = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime(
            "%Y-%m-%d %H:%M UTC"),
        "host": platform.node(),
        "nproc": len(os.sched_getaffinity(0)),
        "cpu": model,
        "kernel": platform.release(),
        "os": distro,
        "memory": "%.0f GiB" % (mem / 2 ** 30),
        "workdir": "%s (%s)" % (ctx.work, fs or "?"),
        "build": ctx.build_info,
        "dovecot": (sh(["dovecot", "--version"]) if ctx.dovecot else
                    "not measured: " + ctx.dovecot_why),
        "courier": (courier_version(ctx) if ctx.courier else
                    "not measured: " + ctx.courier_why),
        "runs": "%d per case (sessions: %d)" % (ctx.runs, min(ctx.runs, 3)),
        "as user": ctx.user_name,
        "load average at start": "%.2f %.2f %.2f" % os.getloadavg(),
        "pressure at start (PSI some avg60)": pressure(),
    }
    return info


def courier_version(ctx):
    """Courier's pop3 and the package it came from."""
    v = sh(["dpkg-query", "-W", "-f", "${Version}", "courier-base"])
    return "%s (courier-pop %s)" % (ctx.courier, v or "?")


def build_info(pop3d):
    """Build type and source commit of the meson build that holds pop3d."""
    bdir = os.path.dirname(os.path.abspath(pop3d))
    out = []
    try:
        with open(os.path.join(bdir, "meson-info", "intro-buildoptions.json")) as f:
            for o in json.load(f):
                if o["name"] == "buildtype":
                    out.append("buildtype=%s" % o["value"])
        with open(os.path.join(bdir, "meson-info", "meson-info.json")) as f:
            src = json.load(f)["directories"]["source"]
    except (OSError, ValueError, KeyError):
        src = None
    if src:
        commit = sh(["git", "-C", src, "rev-parse", "--short", "HEAD"])
        if commit:
            dirty = sh(["git", "-C", src, "status", "--porcelain",
                        "--untracked-files=no"])
            out.append("commit %s%s" % (commit, " + uncommitted changes"
                                         if dirty else ""))
        out.append("source %s" % src)
    return ", ".join(out) or "unknown (not a meson build folder)"
