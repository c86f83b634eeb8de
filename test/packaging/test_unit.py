#!/usr/bin/env python3
"""packaging/annexa.service, the systemd unit of the .deb:

- its keys, parsed: a dedicated user, the sandbox the package promises
  (ProtectSystem=strict, NoNewPrivileges, no capabilities, IP and local
  sockets only, @system-service system calls, private /tmp, no /home), state
  in StateDirectory, restart on failure, Type=notify with NotifyAccess=main
  (annexa says READY once its sources and outputs run: durability-notify);
- `systemd-analyze verify` accepts it (with ExecStart pointed at the built
  program, since nothing is installed here), and `systemd-analyze security`
  rates its exposure at most 2.0 ("OK");
- ExecReload matches what the agent does with SIGHUP: a unit must not
  offer a reload that kills the agent, and must offer one once it reloads.

usage: test_unit.py ANNEXA SOURCE_ROOT"""
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from axtest import check, finish, wait_for  # noqa: E402

MAX_EXPOSURE = 2.0


def parse_unit(text):
    """{section: {key: [values]}}; systemd's syntax: repeated keys add up,
    an empty assignment is kept as ''."""
    units, section = {}, None
    for n, line in enumerate(text.splitlines(), 1):
        s = line.strip()
        if not s or s[0] in "#;":
            continue
        m = re.match(r"^\[([A-Za-z]+)\]$", s)
        if m:
            section = units.setdefault(m.group(1), {})
            continue
        m = re.match(r"^([A-Za-z]+)=(.*)$", s)
        check(m is not None and section is not None, "line %d is 'Key=value' inside a section: %r" % (n, line))
        if m and section is not None:
            section.setdefault(m.group(1), []).append(m.group(2).strip())
    return units


def test_keys(unit):
    svc = unit.get("Service", {})

    def one(key):
        v = svc.get(key, [])
        return v[-1] if v else None

    expect = {
        "Type": "notify", "NotifyAccess": "main", "User": "annexa", "Group": "annexa",
        "ExecStart": "/usr/bin/annexa run -c /etc/annexa/annexa.conf",
        "ProtectSystem": "strict", "NoNewPrivileges": "yes", "StateDirectory": "annexa",
        "PrivateTmp": "yes", "ProtectHome": "yes", "CapabilityBoundingSet": "",
        "Restart": "on-failure", "RestartPreventExitStatus": "2",
    }
    for key, value in expect.items():
        check(one(key) == value, "[Service] %s=%s (it is %r)" % (key, value, one(key)))
    families = " ".join(svc.get("RestrictAddressFamilies", [])).split()
    check(sorted(families) == ["AF_INET", "AF_INET6", "AF_UNIX"], "RestrictAddressFamilies: IP and local only: %r" % families)
    filters = svc.get("SystemCallFilter", [])
    check("@system-service" in filters, "SystemCallFilter=@system-service: %r" % filters)
    rw = " ".join(svc.get("ReadWritePaths", [])).split()
    check("/var/lib/annexa" in rw, "the state directory is writable: %r" % rw)
    check(unit.get("Install", {}).get("WantedBy") == ["multi-user.target"], "WantedBy=multi-user.target")


def test_systemd_analyze(annexa, text):
    tool = shutil.which("systemd-analyze")
    if not check(tool is not None, "systemd-analyze is installed (package systemd, in packaging/build-deps.txt)"):
        return
    with tempfile.TemporaryDirectory() as tmp:
        path = os.path.join(tmp, "annexa.service")
        with open(path, "w") as f:
            f.write(text.replace("/usr/bin/annexa", os.path.abspath(annexa)))
        p = subprocess.run([tool, "verify", "--man=no", path], capture_output=True, text=True, timeout=60)
        check(p.returncode == 0 and "annexa.service" not in p.stderr,
              "systemd-analyze verify accepts the unit: %s" % p.stderr.strip())
        p = subprocess.run([tool, "security", "--offline=yes", "--no-pager", path],
                           capture_output=True, text=True, timeout=60)
        m = re.search(r"Overall exposure level for annexa.service: ([0-9.]+)", p.stdout + p.stderr)
        check(m is not None and float(m.group(1)) <= MAX_EXPOSURE,
              "systemd-analyze security rates the unit's exposure at most %.1f: %s"
              % (MAX_EXPOSURE, m.group(0) if m else p.stderr.strip()))


def survives_sighup(annexa):
    """Runs the agent on a followed file and sends it SIGHUP: does it live on?"""
    with tempfile.TemporaryDirectory() as tmp:
        inbox = os.path.join(tmp, "inbox.jsonl")
        open(inbox, "w").close()
        conf = os.path.join(tmp, "a.conf")
        with open(conf, "w") as f:
            f.write("[agent]\nstate_dir = %s\ndead_letter = %s/dl.jsonl\nmetrics_listen =\n"
                    '[source "inbox"]\ntype = file\npath = %s\nfollow = true\n'
                    '[output "out"]\ntype = file\npath = %s/out.jsonl\n' % (tmp, tmp, inbox, tmp))
        p = subprocess.Popen([annexa, "run", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        try:
            time.sleep(1.0)
            check(p.poll() is None, "annexa run follows the inbox (exit %r)" % p.poll())
            p.send_signal(signal.SIGHUP)
            died = wait_for(lambda: p.poll() is not None, timeout=3.0)
            return not died
        finally:
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
                p.wait(timeout=60)


def test_reload(annexa, unit):
    reload = unit.get("Service", {}).get("ExecReload", [])
    if survives_sighup(annexa):
        check(reload == ["/bin/kill -HUP $MAINPID"],
              "annexa run survives SIGHUP now: give the unit ExecReload=/bin/kill -HUP $MAINPID (%r)" % reload)
    else:
        check(reload == [], "SIGHUP ends annexa run, so the unit must offer no ExecReload (%r)" % reload)


def main():
    annexa, root = sys.argv[1], sys.argv[2]
    with open(os.path.join(root, "packaging", "annexa.service")) as f:
        text = f.read()
    unit = parse_unit(text)
    test_keys(unit)
    test_systemd_analyze(annexa, text)
    test_reload(annexa, unit)
    finish("systemd-unit")


if __name__ == "__main__":
    main()
