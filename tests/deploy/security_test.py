#!/usr/bin/env python3
"""The shipped systemd units: rated, verified, and set as STYLE.md says.

usage: security_test.py SERVICE_UNIT SOCKET_UNIT POP3D

- `systemd-analyze security --offline=yes` rates the service's exposure
  at 2.0 or less ("OK" or better);
- `systemd-analyze verify` accepts both units (with ExecStart= pointed at
  the built pop3d, since nothing is installed);
- the settings pop3d relies on are there: the socket on stdin and stdout
  and never on stderr, the user, the hardening STYLE.md lists.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from deploylib import bound, check, finish, skip  # noqa: E402

SERVICE, SOCKET, POP3D = (os.path.abspath(p) for p in sys.argv[1:4])
THRESHOLD = 2.0

REQUIRED = {
    "StandardInput": "socket", "StandardOutput": "socket",
    "User": "pop3d", "NoNewPrivileges": "yes", "CapabilityBoundingSet": "",
    "RestrictSUIDSGID": "yes", "UMask": "0077", "LimitCORE": "0",
    "ProtectSystem": "strict", "ReadWritePaths": "/var/mail/pop3d",
    "ProtectHome": "yes", "PrivateTmp": "yes", "PrivateDevices": "yes",
    "ProtectProc": "invisible", "PrivateNetwork": "yes",
    "RestrictAddressFamilies": "AF_UNIX", "SystemCallArchitectures": "native",
    "MemoryDenyWriteExecute": "yes", "LockPersonality": "yes",
    "RestrictNamespaces": "yes", "RestrictRealtime": "yes",
    "ProtectKernelTunables": "yes", "ProtectKernelModules": "yes",
    "ProtectKernelLogs": "yes", "ProtectControlGroups": "yes",
    "ProtectClock": "yes", "ProtectHostname": "yes",
}


def settings(path):
    out = {}
    with open(path) as f:
        for line in f:
            m = re.match(r"^([A-Za-z]+)=(.*)$", line.strip())
            if m:
                out.setdefault(m.group(1), []).append(m.group(2).strip())
    return out


def main():
    if shutil.which("systemd-analyze") is None:
        skip("systemd-analyze not found")
    bound(60)
    work = tempfile.mkdtemp(prefix="pop3d-units.")
    try:
        r = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                            "--no-pager", SERVICE], capture_output=True,
                           text=True, timeout=60)
        m = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\w+)",
                      r.stdout)
        print(r.stdout[-200:].strip())
        check(m is not None, "systemd-analyze security rates the unit",
              r.stdout[-300:] + r.stderr[-300:])
        if m:
            print("# exposure: %s %s" % (m.group(1), m.group(2)))
            check(float(m.group(1)) <= THRESHOLD,
                  "exposure %s is at most %.1f" % (m.group(1), THRESHOLD))
        check("Unknown" not in r.stderr and "nknown key" not in r.stderr,
              "no unknown settings", r.stderr)

        svc = settings(SERVICE)
        for k, v in REQUIRED.items():
            check(v in svc.get(k, []), "%s=%s" % (k, v), svc.get(k))
        check(svc.get("StandardError", ["inherit"])[-1] in ("journal",
                                                            "null"),
              "StandardError= is the journal or null, never the socket",
              svc.get("StandardError"))
        filt = svc.get("SystemCallFilter", [])
        check(filt[:1] and filt[0].split()[0] == "@system-service" and
              any(v.startswith("~") and "@privileged" in v and
                  "@resources" in v for v in filt),
              "SystemCallFilter=@system-service, then ~@privileged "
              "@resources", filt)
        for k in ("MemoryMax", "RuntimeMaxSec"):
            check(k in svc, k + "= is set")
        sock = settings(SOCKET)
        for k, v in (("ListenStream", "110"), ("Accept", "yes")):
            check(sock.get(k) == [v], "socket: %s=%s" % (k, v), sock.get(k))
        for k in ("MaxConnections", "MaxConnectionsPerSource"):
            check(re.match(r"^\d+$", sock.get(k, [""])[0]) is not None,
                  "socket: %s= is set" % k)

        # verify: the units as installed, but ExecStart= the built pop3d.
        with open(SERVICE) as f:
            text = re.sub(r"(?m)^ExecStart=\S+", "ExecStart=" + POP3D,
                          f.read())
        with open(os.path.join(work, "pop3d@.service"), "w") as f:
            f.write(text)
        shutil.copy(SOCKET, os.path.join(work, "pop3d.socket"))
        r = subprocess.run(["systemd-analyze", "verify", "--man=no",
                            "pop3d.socket", "pop3d@.service"], cwd=work,
                           capture_output=True, text=True, timeout=60)
        check(r.returncode == 0 and r.stderr.strip() == "",
              "systemd-analyze verify accepts both units",
              (r.returncode, r.stdout, r.stderr))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    finish()


if __name__ == "__main__":
    main()
