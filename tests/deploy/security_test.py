#!/usr/bin/env python3
"""The shipped systemd units: rated, verified, and set as DESIGN.md says.

usage: security_test.py SERVICE_UNIT SOCKET_UNIT POP3D
                        [TLS_SERVICE_UNIT TLS_SOCKET_UNIT]

For the plain pair (port 110) and the TLS pair (port 995):
- `systemd-analyze security --offline=yes` rates the service's exposure
  at 2.0 or less ("OK" or better);
- `systemd-analyze verify` accepts both units (with ExecStart= pointed at
  the built pop3d, since nothing is installed);
- the settings pop3d relies on are there: the socket on stdin and stdout
  and never on stderr, the user, the hardening DESIGN.md lists
  ("Running under an activator").
The TLS service must be the plain one but for its description, its
ExecStart= (--tls=implicit and the credentials) and LoadCredential=,
so that the two cannot drift apart.
"""
import os
import re
import shutil
import subprocess
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                ".."))
from deploylib import bound  # noqa: E402
from pop3dtest import check, finish, skip  # noqa: E402

SERVICE, SOCKET, POP3D = (os.path.abspath(p) for p in sys.argv[1:4])
TLS_UNITS = [os.path.abspath(p) for p in sys.argv[4:6]]
THRESHOLD = 2.0
# What the TLS service may set differently from the plain one.
TLS_ONLY = {"Description", "ExecStart", "LoadCredential"}

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


def check_pair(service, socket_unit, port, work):
    name = os.path.basename(service)
    r = subprocess.run(["systemd-analyze", "security", "--offline=yes",
                        "--no-pager", service], capture_output=True,
                       text=True, timeout=60)
    m = re.search(r"Overall exposure level for \S+: (\d+\.\d+) (\w+)",
                  r.stdout)
    print(r.stdout[-200:].strip())
    check(m is not None, name + ": systemd-analyze security rates the unit",
          r.stdout[-300:] + r.stderr[-300:])
    if m:
        print("# exposure: %s %s" % (m.group(1), m.group(2)))
        check(float(m.group(1)) <= THRESHOLD,
              "%s: exposure %s is at most %.1f" % (name, m.group(1),
                                                  THRESHOLD))
    check("Unknown" not in r.stderr and "nknown key" not in r.stderr,
          name + ": no unknown settings", r.stderr)

    svc = settings(service)
    for k, v in REQUIRED.items():
        check(v in svc.get(k, []), "%s: %s=%s" % (name, k, v), svc.get(k))
    check(svc.get("StandardError", ["inherit"])[-1] in ("journal",
                                                        "null"),
          name + ": StandardError= is the journal or null, never the socket",
          svc.get("StandardError"))
    filt = svc.get("SystemCallFilter", [])
    check(filt[:1] and filt[0].split()[0] == "@system-service" and
          any(v.startswith("~") and "@privileged" in v and
              "@resources" in v for v in filt),
          name + ": SystemCallFilter=@system-service, then ~@privileged "
          "@resources", filt)
    for k in ("MemoryMax", "RuntimeMaxSec"):
        check(k in svc, "%s: %s= is set" % (name, k))
    sock = settings(socket_unit)
    for k, v in (("ListenStream", port), ("Accept", "yes")):
        check(sock.get(k) == [v], "%s: %s=%s" % (
            os.path.basename(socket_unit), k, v), sock.get(k))
    for k in ("MaxConnections", "MaxConnectionsPerSource"):
        check(re.match(r"^\d+$", sock.get(k, [""])[0]) is not None,
              "%s: %s= is set" % (os.path.basename(socket_unit), k))

    # verify: the units as installed, but ExecStart= the built pop3d.
    with open(service) as f:
        text = re.sub(r"(?m)^ExecStart=\S+", "ExecStart=" + POP3D,
                      f.read())
    with open(os.path.join(work, name), "w") as f:
        f.write(text)
    shutil.copy(socket_unit, os.path.join(work,
                                          os.path.basename(socket_unit)))
    r = subprocess.run(["systemd-analyze", "verify", "--man=no",
                        os.path.basename(socket_unit), name], cwd=work,
                       capture_output=True, text=True, timeout=60)
    check(r.returncode == 0 and r.stderr.strip() == "",
          name + ": systemd-analyze verify accepts both units",
          (r.returncode, r.stdout, r.stderr))
    return svc


def main():
    if shutil.which("systemd-analyze") is None:
        skip("systemd-analyze not found")
    bound(60)
    work = tempfile.mkdtemp(prefix="pop3d-units.")
    try:
        plain = check_pair(SERVICE, SOCKET, "110", work)
        if TLS_UNITS:
            tls = check_pair(TLS_UNITS[0], TLS_UNITS[1], "995", work)
            diff = sorted(k for k in set(plain) | set(tls)
                          if plain.get(k) != tls.get(k))
            check(set(diff) <= TLS_ONLY, "the TLS service differs from "
                  "the plain one only in " + ", ".join(sorted(TLS_ONLY)),
                  diff)
            start = tls.get("ExecStart", [""])[0]
            check("--tls=implicit" in start and
                  "--tls-cert %d/" in start and "--tls-key %d/" in start,
                  "the TLS service starts pop3d with --tls=implicit and "
                  "its credentials", start)
            creds = [v.split(":")[0] for v in tls.get("LoadCredential", [])]
            check(sorted(creds) == ["tls.crt", "tls.key"],
                  "the TLS service loads tls.crt and tls.key", creds)
    finally:
        shutil.rmtree(work, ignore_errors=True)
    sys.exit(finish())


if __name__ == "__main__":
    main()
