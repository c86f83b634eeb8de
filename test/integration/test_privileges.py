#!/usr/bin/env python3
"""Least privilege: `annexa run` refuses root unless told (--allow-root),
runs as an ordinary user without being told, creates what it writes
(state_dir, dead-letter file) for its own user only whatever the umask,
and judges the files that hold its secrets (mode wider than 0640, owned by
another user: a warning, or an error with strict_permissions = true).

The root parts run only as root (CI does), the ordinary-user part only as
root too (it drops to nobody with setpriv); as another user they are
reported as skipped, not passed.

usage: test_privileges.py ANNEXA"""
import os
import shutil
import stat
import subprocess
import sys
import tempfile

from axtest import check, finish, wait_for, write_config

SECRET = "privileges-test-token-0b7d"
NOBODY = 65534


def env_without_allow():
    env = dict(os.environ)
    env.pop("ANNEXA_ALLOW_ROOT", None)
    return env


def replay_conf(tmp, dead_letter=True):
    records = os.path.join(tmp, "in.jsonl")
    with open(records, "w") as f:
        f.write('{"Id":"p-1","Workload":"Exchange","Operation":"Set-Mailbox"}\n{"Id": broken\n')
    return write_config(os.path.join(tmp, "run.conf"), (
        "[agent]\nstate_dir = %s/state\n%s\n"
        '[source "replay"]\ntype = file\npath = %s\n\n'
        '[output "out"]\ntype = file\npath = %s/out.jsonl\n'
        % (tmp, "dead_letter = %s/dead.jsonl" % tmp if dead_letter else "", records, tmp)))


def run(annexa, args, env=None, preexec=None, timeout=60):
    p = subprocess.run([annexa, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       env=env if env is not None else env_without_allow(), preexec_fn=preexec, timeout=timeout)
    return p.returncode, p.stderr.decode("utf-8", "replace")


def umask_022():
    os.umask(0o022)


def test_root(annexa, tmp):
    if os.geteuid() != 0:
        print("root refusal: skipped (not root)")
        return
    conf = replay_conf(tmp)
    rc, err = run(annexa, ["run", "-c", conf])
    check(rc == 2 and "refusing to run as root" in err and "--allow-root" in err,
          "root without --allow-root: refused, exit 2, saying how: %d %s" % (rc, err))
    check(not os.path.exists(os.path.join(tmp, "state")), "root refused: nothing was created")
    rc, err = run(annexa, ["run", "-c", conf, "--allow-root"], preexec=umask_022)
    check(rc == 0 and "running as root" in err, "root with --allow-root: runs, with a warning: %d %s" % (rc, err))
    rc, err = run(annexa, ["run", "--allow-root", "-c", conf])
    check(rc == 0, "--allow-root before -c works too: %d %s" % (rc, err))
    rc, err = run(annexa, ["check-config", "-c", conf])
    check(rc == 0, "check-config needs no --allow-root: %d %s" % (rc, err))


def check_private(tmp, what):
    """Everything under state_dir and the dead-letter file: no group or other access."""
    paths = [os.path.join(tmp, "dead.jsonl")]
    for top, dirs, files in os.walk(os.path.join(tmp, "state")):
        paths += [top] + [os.path.join(top, f) for f in files]
    check(len(paths) >= 3, "%s: the agent wrote its state: %s" % (what, paths))
    wide = ["%s %o" % (p, stat.S_IMODE(os.stat(p).st_mode)) for p in paths
            if os.path.exists(p) and stat.S_IMODE(os.stat(p).st_mode) & 0o077]
    check(not wide, "%s: state files 0600, directories 0700 under umask 022: %s" % (what, wide))
    check(os.path.exists(paths[0]), "%s: the broken record reached the dead-letter file" % what)


def test_modes(annexa, tmp):
    conf = replay_conf(tmp)
    rc, err = run(annexa, ["run", "-c", conf], env=dict(os.environ, ANNEXA_ALLOW_ROOT="1"), preexec=umask_022)
    check(rc == 0, "replay: exit 0: %d %s" % (rc, err))
    check_private(tmp, "replay")


def test_no_core_dumps(annexa, tmp):
    """A running agent may write no core dump: it would hold the secrets."""
    records = os.path.join(tmp, "in.jsonl")
    open(records, "w").close()
    conf = write_config(os.path.join(tmp, "follow.conf"), (
        "[agent]\nstate_dir = %s/state\ndead_letter = %s/dead.jsonl\n\n"
        '[source "tail"]\ntype = file\npath = %s\nfollow = true\n\n'
        '[output "out"]\ntype = file\npath = %s/out.jsonl\n' % (tmp, tmp, records, tmp)))
    p = subprocess.Popen([annexa, "run", "-c", conf], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                         env=dict(os.environ, ANNEXA_ALLOW_ROOT="1"))
    def core():
        try:
            with open("/proc/%d/limits" % p.pid) as f:
                return [line.split()[4:6] for line in f if line.startswith("Max core file size")]
        except OSError:
            return None
    try:
        wait_for(lambda: core() == [["0", "0"]] or p.poll() is not None, 10)
        check(p.poll() is None and core() == [["0", "0"]],
              "annexa run: core dumps off, hard limit too: %s (exit %s)" % (core(), p.poll()))
    finally:
        p.terminate()
        p.wait(30)


def test_ordinary_user(annexa, tmp):
    setpriv = shutil.which("setpriv")
    if os.geteuid() != 0 or not setpriv:
        print("ordinary user: skipped (needs root and setpriv to become nobody)")
        return
    os.chown(tmp, NOBODY, NOBODY)
    conf = replay_conf(tmp)
    os.chown(conf, NOBODY, NOBODY)
    p = subprocess.run([setpriv, "--reuid=%d" % NOBODY, "--regid=%d" % NOBODY, "--clear-groups", annexa, "run",
                        "-c", conf], stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env_without_allow(),
                       preexec_fn=umask_022, timeout=60)
    err = p.stderr.decode("utf-8", "replace")
    check(p.returncode == 0 and "root" not in err, "as nobody: runs without --allow-root: %d %s" % (p.returncode, err))
    check_private(tmp, "as nobody")


def hec_conf(tmp, token_file, strict):
    return write_config(os.path.join(tmp, "hec.conf"), (
        "[agent]\nstate_dir = %s/state\nstrict_permissions = %s\n\n"
        '[output "siem"]\ntype = splunk_hec\nurl = https://127.0.0.1:1\ntoken_file = %s\n'
        % (tmp, "true" if strict else "false", token_file)))


def test_secret_files(annexa, tmp):
    token = os.path.join(tmp, "hec.token")
    with open(token, "w") as f:
        f.write(SECRET + "\n")
    for mode, fit in ((0o600, True), (0o640, True), (0o644, False), (0o660, False), (0o604, False)):
        os.chmod(token, mode)
        for strict in (False, True):
            conf = hec_conf(tmp, token, strict)
            rc, err = run(annexa, ["check-config", "-c", conf])
            what = "token_file mode %o, strict_permissions %s" % (mode, strict)
            check(SECRET not in err, "%s: the secret is never printed" % what)
            if fit:
                check(rc == 0 and "secret file" not in err, "%s: fine: %d %s" % (what, rc, err))
            elif strict:
                check(rc == 2 and "%s:8:" % conf in err and "mode %04o" % mode in err,
                      "%s: refused, naming file, line and mode: %d %s" % (what, rc, err))
            else:
                check(rc == 0 and "warning" in err and "mode %04o" % mode in err,
                      "%s: a warning naming the mode: %d %s" % (what, rc, err))
    os.chmod(token, 0o600)
    if os.geteuid() == 0:
        os.chown(token, NOBODY, NOBODY)
        rc, err = run(annexa, ["check-config", "-c", hec_conf(tmp, token, True)])
        check(rc == 2 and "owned by uid %d" % NOBODY in err, "a secret file of another user: refused: %d %s" % (rc, err))
        os.chown(token, 0, 0)
    else:
        print("secret file of another user: skipped (not root)")


def main():
    annexa = sys.argv[1]
    for test in (test_root, test_modes, test_no_core_dumps, test_ordinary_user, test_secret_files):
        with tempfile.TemporaryDirectory(prefix="annexa-priv-") as tmp:
            test(annexa, tmp)
    finish("privileges")


if __name__ == "__main__":
    main()
