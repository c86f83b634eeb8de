#!/usr/bin/env python3
"""The .deb, built by packaging/build-deb.sh in a build directory of its own:

- dpkg-deb -I: name, version, Depends found by dpkg-shlibdeps (plus
  adduser), the conffile, executable maintainer scripts that sh can parse;
- dpkg-deb -c: every file where the system looks for it (program, man page,
  unit in /lib/systemd/system, config, schemas, dashboards, docs), owned by
  root, the config readable by its group only;
- dpkg-deb -x into a temporary root: the extracted program prints its
  version, passes `check-config` on the installed config, maps the corpus
  with `map`; the installed files are the ones in the source tree;
- with CI=true, as root: `dpkg -i` for real, the system user and
  directories exist, /usr/bin/annexa runs as that user on the installed
  config (a record appended to the inbox comes out enriched), `dpkg -r`
  takes the program away and keeps the config, `dpkg -P` takes the rest.

usage: test_deb.py SOURCE_ROOT"""
import gzip
import json
import os
import pwd
import grp
import re
import shutil
import signal
import stat
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
from axtest import check, finish, wait_for  # noqa: E402

EXPECTED_FILES = [
    "./usr/bin/annexa",
    "./usr/share/man/man1/annexa.1.gz",
    "./lib/systemd/system/annexa.service",
    "./etc/annexa/annexa.conf",
    "./usr/share/doc/annexa/examples/annexa.conf.example",
    "./usr/share/doc/annexa/copyright",
    "./usr/share/doc/annexa/changelog.Debian.gz",
    "./usr/share/annexa/schemas/enriched-record.schema.json",
    "./usr/share/annexa/schemas/iso27001-2022.json",
    "./usr/share/annexa/schemas/mappings/baseline.json",
    "./usr/share/annexa/dashboards/annexa_evidence.json",
    "./usr/share/annexa/dashboards/savedsearches.conf",
]
EXPECTED_DIRS = ["./usr/lib/annexa/plugins/"]
SHLIB_PACKAGES = ["libc6", "libcurl4", "libinih1", "libisal2", "librdkafka1", "libssl3", "libyajl2", "zlib1g", "adduser"]


def run(argv, **kw):
    kw.setdefault("timeout", 600)
    return subprocess.run(argv, capture_output=True, text=True, **kw)


def build(root, tmp):
    p = run(["sh", os.path.join(root, "packaging", "build-deb.sh"), os.path.join(tmp, "build"),
             os.path.join(tmp, "out")])
    if not check(p.returncode == 0, "build-deb.sh builds the package: %s" % p.stderr[-3000:]):
        return None
    deb = p.stdout.strip().splitlines()[-1]
    check(re.search(r"/annexa_[0-9][^_]*-1_[a-z0-9]+\.deb$", deb) is not None, "the package is named as Debian's: %s" % deb)
    check(os.path.exists(deb), "the last line printed is the package: %s" % deb)
    return deb


def version(root):
    with open(os.path.join(root, "meson.build")) as f:
        return re.search(r"version: '([^']+)'", f.read()).group(1)


def test_info(deb, root, tmp):
    p = run(["dpkg-deb", "-f", deb])
    fields = dict(re.findall(r"^([A-Za-z-]+): (.*)$", p.stdout, re.M))
    check(fields.get("Package") == "annexa", "Package: annexa")
    check(fields.get("Version") == version(root) + "-1", "Version: the project's, -1: %r" % fields.get("Version"))
    depends = [d.strip().split()[0] for d in fields.get("Depends", "").split(",") if d.strip()]
    for pkg in SHLIB_PACKAGES:
        check(pkg in depends, "Depends names %s: %r" % (pkg, fields.get("Depends")))
    ctl = os.path.join(tmp, "control")
    p = run(["dpkg-deb", "-e", deb, ctl])
    check(p.returncode == 0, "dpkg-deb -e extracts the control files")
    with open(os.path.join(ctl, "conffiles")) as f:
        check(f.read().split() == ["/etc/annexa/annexa.conf"], "the config is the one conffile")
    for script in ("postinst", "prerm", "postrm"):
        path = os.path.join(ctl, script)
        ok = os.path.exists(path) and os.stat(path).st_mode & stat.S_IXUSR
        check(ok, "%s is there and executable" % script)
        if ok:
            check(run(["sh", "-n", path]).returncode == 0, "%s is valid sh" % script)
    with open(os.path.join(ctl, "postinst")) as f:
        text = f.read()
    check("adduser --system" in text and "annexa" in text, "postinst creates the system user")
    p = run(["dpkg-deb", "-I", deb])
    check(p.returncode == 0 and "Package: annexa" in p.stdout, "dpkg-deb -I reads the package")


def test_contents(deb):
    """Returns the package's paths."""
    p = run(["dpkg-deb", "-c", deb])
    entries = {}
    for line in p.stdout.splitlines():
        parts = line.split(None, 5)
        if len(parts) == 6:
            entries[parts[5].split(" -> ")[0]] = (parts[0], parts[1])
    for path in EXPECTED_FILES + EXPECTED_DIRS:
        check(path in entries, "the package holds %s" % path)
    check(all(owner == "root/root" for _, owner in entries.values()), "every file is owned by root")
    check(entries.get("./etc/annexa/annexa.conf", ("",))[0] == "-rw-r-----", "the config is not world-readable")
    check(entries.get("./usr/bin/annexa", ("",))[0] == "-rwxr-xr-x", "the program is executable")
    check(not any(p.startswith("./usr/local") for p in entries), "nothing under /usr/local")
    return set(entries)


def same_file(a, b):
    with open(a, "rb") as f, open(b, "rb") as g:
        return f.read() == g.read()


def test_extracted(deb, root, tmp):
    sysroot = os.path.join(tmp, "root")
    p = run(["dpkg-deb", "-x", deb, sysroot])
    if not check(p.returncode == 0, "dpkg-deb -x extracts the package: " + p.stderr):
        return
    annexa = os.path.join(sysroot, "usr", "bin", "annexa")
    p = run([annexa, "--version"])
    check(p.returncode == 0 and p.stdout.strip() == "annexa " + version(root), "the extracted program runs: %r" % p.stdout)
    conf = os.path.join(sysroot, "etc", "annexa", "annexa.conf")
    p = run([annexa, "check-config", "-c", conf])
    check(p.returncode == 0 and "OK" in p.stdout, "the installed config passes check-config: %s%s" % (p.stdout, p.stderr))
    check(same_file(conf, os.path.join(root, "packaging", "annexa.conf.example")), "the installed config is the example")
    with open(os.path.join(root, "test", "corpus", "panther_o365.jsonl"), "rb") as f:
        corpus = f.read()
    p = subprocess.run([annexa, "map"], input=corpus, capture_output=True, timeout=60)
    records = [json.loads(l) for l in p.stdout.splitlines() if l.strip()]
    check(p.returncode == 0 and len(records) == corpus.count(b"\n") and
          all(r["iso27001"]["controls"] for r in records),
          "the extracted program maps the corpus: %d records" % len(records))
    unit = os.path.join(sysroot, "lib", "systemd", "system", "annexa.service")
    check(same_file(unit, os.path.join(root, "packaging", "annexa.service")), "the unit is packaging/annexa.service")
    with gzip.open(os.path.join(sysroot, "usr", "share", "man", "man1", "annexa.1.gz"), "rt") as f:
        page = f.read()
    check(page.startswith('.\\" Generated by packaging/gen_man.py') and "state_dir" in page, "the man page is the generated one")
    for name in ("annexa_evidence.json", "savedsearches.conf"):
        check(same_file(os.path.join(sysroot, "usr", "share", "annexa", "dashboards", name),
                        os.path.join(root, "packaging", "dashboards", name)), "dashboard %s is installed" % name)


def test_install(deb, root, tmp):
    """dpkg -i for real (CI only: it changes the machine)."""
    check(run(["dpkg", "-s", "annexa"]).returncode != 0, "annexa is not installed before the test")
    check(not os.path.exists("/var/lib/annexa"), "no /var/lib/annexa is left from an earlier install or run as root")
    p = run(["dpkg", "-i", deb])
    if not check(p.returncode == 0, "dpkg -i installs the package: %s%s" % (p.stdout, p.stderr)):
        return
    try:
        check(pwd.getpwnam("annexa").pw_uid < 1000, "annexa is a system user")
        st = os.stat("/var/lib/annexa")
        check(pwd.getpwuid(st.st_uid).pw_name == "annexa", "/var/lib/annexa belongs to annexa")
        st = os.stat("/etc/annexa/annexa.conf")
        check(st.st_uid == 0 and grp.getgrgid(st.st_gid).gr_name == "annexa" and stat.S_IMODE(st.st_mode) == 0o640,
              "/etc/annexa/annexa.conf is root:annexa 0640")
        p = run(["/usr/bin/annexa", "--version"])
        check(p.returncode == 0 and p.stdout.strip() == "annexa " + version(root), "/usr/bin/annexa --version")
        # setpriv execs the program (runuser would stand between, and kill it 2 s after a SIGTERM)
        as_annexa = ["setpriv", "--reuid=annexa", "--regid=annexa", "--init-groups", "--reset-env"]
        p = run(as_annexa + ["/usr/bin/annexa", "check-config", "-c", "/etc/annexa/annexa.conf"])
        check(p.returncode == 0, "annexa check-config passes on the installed config, as the annexa user: %s" % p.stderr)
        p = run(["man", "-w", "annexa"])
        check(p.returncode == 0 and "annexa.1" in p.stdout, "man finds annexa(1): %s" % (p.stdout + p.stderr))
        run_service(as_annexa, root)
    finally:
        p = run(["dpkg", "-r", "annexa"])
        check(p.returncode == 0, "dpkg -r removes the package: %s" % p.stderr)
        check(not os.path.exists("/usr/bin/annexa"), "the program is gone")
        check(os.path.exists("/etc/annexa/annexa.conf"), "the config stays until purge")
        p = run(["dpkg", "-P", "annexa"])
        check(p.returncode == 0 and not os.path.exists("/etc/annexa/annexa.conf"), "dpkg -P purges the config")


def run_service(as_annexa, root):
    """The unit's command line, as the unit's user, on the installed config:
    a record appended to the inbox comes out enriched."""
    agent = subprocess.Popen(as_annexa + ["/usr/bin/annexa", "run", "-c", "/etc/annexa/annexa.conf"],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        time.sleep(1.0)
        with open(os.path.join(root, "test", "corpus", "panther_o365.jsonl"), "rb") as f:
            corpus = f.read()
        with open("/var/lib/annexa/inbox.jsonl", "ab") as f:
            f.write(corpus)
        want = corpus.count(b"\n")

        def delivered():
            try:
                with open("/var/lib/annexa/enriched.jsonl", "rb") as f:
                    return f.read().count(b"\n") >= want
            except OSError:
                return False
        check(wait_for(delivered, timeout=30), "the installed agent enriches the inbox into enriched.jsonl")
    finally:
        if agent.poll() is None:
            agent.send_signal(signal.SIGTERM)
        try:
            _, err = agent.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            agent.kill()
            _, err = agent.communicate()
        check(agent.returncode == 0, "the agent stops on SIGTERM with exit 0 (%r): %s" % (agent.returncode, err[-2000:]))


def test_containerfile(root, deb, sysroot_files):
    """packaging/Containerfile can't be built here (no registry for its base
    image): its instructions are checked against the package instead."""
    with open(os.path.join(root, "packaging", "Containerfile")) as f:
        lines = [l.strip() for l in f.read().replace("\\\n", " ").splitlines() if l.strip() and not l.startswith("#")]
    instr = {}
    for l in lines:
        word, _, rest = l.partition(" ")
        instr.setdefault(word, []).append(rest.strip())
    check(instr.get("FROM", [""])[0].startswith("debian:12"), "the image is Debian 12: %r" % instr.get("FROM"))
    copy = instr.get("COPY", [""])[0].split()
    check(copy and re.fullmatch(copy[0].replace(".", r"\.").replace("*", ".*"), os.path.basename(deb)) is not None,
          "COPY %s takes the package build-deb.sh makes (%s)" % (copy[:1], os.path.basename(deb)))
    run_ = " ".join(instr.get("RUN", []))
    check("apt-get install" in run_ and "/tmp/annexa_*.deb" in run_, "the image installs the package with apt-get (Depends)")
    check(instr.get("USER") == ["annexa"], "the container runs as the annexa user: %r" % instr.get("USER"))
    entry = json.loads(instr.get("ENTRYPOINT", ["[]"])[0]) + json.loads(instr.get("CMD", ["[]"])[0])
    check(entry == ["/usr/bin/annexa", "run", "-c", "/etc/annexa/annexa.conf"], "it runs the agent on the config: %r" % entry)
    for path in ("./usr/bin/annexa", "./etc/annexa/annexa.conf"):
        check(path in sysroot_files, "the package holds %s, which the image runs" % path)
    check('"/var/lib/annexa"' in " ".join(instr.get("VOLUME", [])), "the state directory is a volume")


def main():
    root = sys.argv[1]
    for tool in ("dpkg-deb", "dpkg-shlibdeps", "meson", "ninja"):
        check(shutil.which(tool) is not None, "%s is installed (packaging/build-deps.txt)" % tool)
    with tempfile.TemporaryDirectory() as tmp:
        deb = build(root, tmp)
        if deb:
            test_info(deb, root, tmp)
            files = test_contents(deb)
            test_containerfile(root, deb, files)
            test_extracted(deb, root, tmp)
            if os.environ.get("CI") == "true":
                if check(os.geteuid() == 0, "CI runs the packaging test as root"):
                    test_install(deb, root, tmp)
            else:
                print("deb: not CI, so no dpkg -i (set CI=true as root to install it for real)")
    finish("deb")


if __name__ == "__main__":
    main()
