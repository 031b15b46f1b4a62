#!/usr/bin/env python3
"""What `meson install` puts where.

usage: install_test.py MESON BUILD_ROOT SOURCE_ROOT UNITDIR XINETDDIR
                       SYSUSERSDIR TMPFILESDIR

1. `meson install --destdir` of this build: the programs, man pages,
   units, xinetd entry, sysusers.d and tmpfiles.d files are where the
   build's options say (a directory of "no" is not installed); the units
   and the xinetd entry start the installed pop3d; the man pages render
   without warnings; systemd-sysusers and systemd-tmpfiles, run on a
   scratch root, make the user and the folders with the modes and
   owners the README promises.
2. A fresh configuration with --prefix=/usr --sysconfdir=/etc (not
   built: `meson introspect --installed`) installs where a distribution
   expects: /usr/sbin, /usr/lib/systemd/system, /etc/xinetd.d, ...
"""
import json
import os
import re
import shutil
import stat
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from deploylib import bound  # noqa: E402
from pop3dtest import check, finish  # noqa: E402

MESON, BUILD, SOURCE = sys.argv[1:4]
DIRS = dict(zip(("unit", "xinetd", "sysusers", "tmpfiles"), sys.argv[4:8]))


def options(build):
    r = subprocess.run([MESON, "introspect", "--buildoptions", build],
                       capture_output=True, text=True, check=True)
    return {o["name"]: o["value"] for o in json.loads(r.stdout)}


def expected(opts):
    """{installed path: kind} for a build with these options and dirs."""
    p = opts["prefix"]

    def under(d):
        return d if os.path.isabs(d) else os.path.join(p, d)
    sbin, man = under(opts["sbindir"]), under(opts["mandir"])
    out = {os.path.join(sbin, "pop3d"): "exe",
           os.path.join(sbin, "pop3d-passwd"): "exe",
           os.path.join(sbin, "pop3d-routes"): "exe",
           os.path.join(sbin, "pop3d-import"): "exe",
           os.path.join(man, "man8", "pop3d.8"): "man",
           os.path.join(man, "man8", "pop3d-passwd.8"): "man",
           os.path.join(man, "man8", "pop3d-routes.8"): "man",
           os.path.join(man, "man8", "pop3d-import.8"): "man",
           os.path.join(man, "man5", "pop3d.users.5"): "man"}
    if DIRS["unit"] != "no":
        for unit in ("pop3d.socket", "pop3d@.service", "pop3d-tls.socket",
                     "pop3d-tls@.service", "pop3d-upgrade.service",
                     "pop3d-upgrade.timer"):
            out[os.path.join(DIRS["unit"], unit)] = "unit"
    if DIRS["xinetd"] != "no":
        out[os.path.join(DIRS["xinetd"], "pop3d")] = "xinetd"
        out[os.path.join(DIRS["xinetd"], "pop3s")] = "xinetd"
    if DIRS["sysusers"] != "no":
        out[os.path.join(DIRS["sysusers"], "pop3d.conf")] = "sysusers"
    if DIRS["tmpfiles"] != "no":
        out[os.path.join(DIRS["tmpfiles"], "pop3d.conf")] = "tmpfiles"
    return out, os.path.join(sbin, "pop3d")


def test_destdir(dest):
    r = subprocess.run([MESON, "install", "-C", BUILD, "--destdir", dest,
                        "--no-rebuild"], capture_output=True, text=True,
                       timeout=120)
    check(r.returncode == 0, "meson install --destdir",
          r.stdout[-500:] + r.stderr[-500:])
    want, sbin_pop3d = expected(options(BUILD))
    got = set()
    for dirpath, _, files in os.walk(dest):
        for f in files:
            got.add("/" + os.path.relpath(os.path.join(dirpath, f), dest))
    check(got == set(want), "exactly the expected files are installed",
          {"missing": sorted(set(want) - got),
           "unexpected": sorted(got - set(want))})
    for path, kind in sorted(want.items()):
        full = dest + path
        if not os.path.exists(full):
            continue
        mode = stat.S_IMODE(os.stat(full).st_mode)
        if kind == "exe":
            check(mode == 0o755, "%s is mode 0755" % path, oct(mode))
            r = subprocess.run([full, "--version"] if path == sbin_pop3d
                               else [full], capture_output=True, timeout=10)
            check(r.returncode in (0, 100), "%s runs" % path, r.returncode)
        else:
            check(mode == 0o644, "%s is mode 0644" % path, oct(mode))
        text = open(full, errors="replace").read()
        if path.endswith("@.service"):
            check(re.search(r"(?m)^ExecStart=%s " % re.escape(sbin_pop3d),
                            text) is not None,
                  "%s starts the installed pop3d" % path)
        if kind == "xinetd":
            check(re.search(r"(?m)^\s*server\s*=\s*%s$"
                            % re.escape(sbin_pop3d), text) is not None,
                  "the xinetd entry %s starts the installed pop3d" % path)
            check(re.search(r"(?m)^\s*disable\s*=\s*yes$", text) is not None,
                  "the xinetd entry %s is shipped disabled" % path)
        if kind == "man" and shutil.which("groff"):
            r = subprocess.run(["groff", "-ww", "-man", "-z", full],
                               capture_output=True, text=True, timeout=30)
            check(r.returncode == 0 and r.stderr == "",
                  "%s renders without warnings" % path, r.stderr)
    return want


def test_sysusers_tmpfiles(dest, want):
    files = {k: dest + p for p, k in want.items()
             if k in ("sysusers", "tmpfiles")}
    if len(files) < 2 or shutil.which("systemd-sysusers") is None or \
            shutil.which("systemd-tmpfiles") is None:
        print("# sysusers.d/tmpfiles.d not installed or tools missing")
        return
    root = tempfile.mkdtemp(prefix="pop3d-root.")
    try:
        os.makedirs(os.path.join(root, "etc"))
        r = subprocess.run(["systemd-sysusers", "--root", root,
                            files["sysusers"]], capture_output=True,
                           text=True, timeout=30)
        check(r.returncode == 0, "systemd-sysusers takes the sysusers.d "
              "file", r.stderr)
        users = {l.split(":")[0]: l.split(":") for l in
                 open(os.path.join(root, "etc", "passwd")).read().splitlines()}
        check("pop3d" in users, "it makes the user pop3d", users.keys())
        if "pop3d" not in users:
            return
        uid, gid = int(users["pop3d"][2]), int(users["pop3d"][3])
        check(users["pop3d"][6].endswith("nologin"),
              "pop3d has no login shell", users["pop3d"])
        r = subprocess.run(["systemd-tmpfiles", "--create", "--root", root,
                            files["tmpfiles"]], capture_output=True,
                           text=True, timeout=30)
        check(r.returncode == 0, "systemd-tmpfiles takes the tmpfiles.d "
              "file", r.stderr)
        for path, mode, owner, group in (
                ("etc/pop3d", 0o2750, 0, gid),
                ("var/mail/pop3d", 0o2770, uid, gid),
                ("var/lib/pop3d", 0o700, uid, gid)):
            try:
                st = os.stat(os.path.join(root, path))
            except OSError as e:
                check(False, "/%s is made" % path, e)
                continue
            check(stat.S_ISDIR(st.st_mode) and
                  stat.S_IMODE(st.st_mode) == mode and
                  st.st_uid == owner and st.st_gid == group,
                  "/%s is a folder, mode %o, owner %d:%d" % (
                      path, mode, owner, group),
                  (oct(st.st_mode), st.st_uid, st.st_gid))
    finally:
        shutil.rmtree(root, ignore_errors=True)


def test_distro_layout(scratch):
    build = os.path.join(scratch, "build-usr")
    r = subprocess.run([MESON, "setup", build, SOURCE, "--prefix=/usr",
                        "--sysconfdir=/etc", "-Dtests=disabled"],
                       capture_output=True, text=True, timeout=120)
    if not check(r.returncode == 0, "meson setup --prefix=/usr",
                 r.stdout[-500:] + r.stderr[-500:]):
        return
    r = subprocess.run([MESON, "introspect", "--installed", build],
                       capture_output=True, text=True, check=True)
    dests = set(json.loads(r.stdout).values())
    for p in ("/usr/sbin/pop3d", "/usr/sbin/pop3d-passwd",
              "/usr/sbin/pop3d-routes", "/usr/share/man/man8/pop3d-routes.8",
              "/usr/share/man/man8/pop3d.8", "/usr/share/man/man5/pop3d.users.5",
              "/etc/xinetd.d/pop3d", "/etc/xinetd.d/pop3s"):
        check(p in dests, "--prefix=/usr installs " + p, sorted(dests))
    units = [d for d in dests if d.endswith("@.service")]
    check(len(units) == 2 and all(re.match(r"^(/usr)?/lib/systemd/system/",
                                           u) for u in units),
          "--prefix=/usr puts the units in /usr/lib/systemd/system", units)
    for kind in ("sysusers.d", "tmpfiles.d"):
        check("/usr/lib/%s/pop3d.conf" % kind in dests,
              "--prefix=/usr installs /usr/lib/%s/pop3d.conf" % kind)
    text = open(os.path.join(build, "units", "pop3d@.service")).read()
    check("ExecStart=/usr/sbin/pop3d " in text,
          "--prefix=/usr: ExecStart=/usr/sbin/pop3d")


def main():
    bound(100)
    scratch = tempfile.mkdtemp(prefix="pop3d-install.")
    try:
        dest = os.path.join(scratch, "dest")
        want = test_destdir(dest)
        test_sysusers_tmpfiles(dest, want)
        test_distro_layout(scratch)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    sys.exit(finish())


if __name__ == "__main__":
    main()
