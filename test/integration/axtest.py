"""Small helpers shared by annexa's Python test scripts (stdlib only)."""
import json
import os
import subprocess
import sys

FAILURES = []


def check(cond, what):
    """Records a failed expectation; the script exits 1 at the end if any failed."""
    if not cond:
        FAILURES.append(what)
        print("FAIL: " + what, file=sys.stderr)
    return cond


def finish(name):
    if FAILURES:
        print("%s: %d failure(s)" % (name, len(FAILURES)), file=sys.stderr)
        sys.exit(1)
    print("%s: ok" % name)
    sys.exit(0)


def run_map(annexa, data, args=(), timeout=120):
    """Runs `annexa map` over bytes; returns (exit code, stdout bytes, stderr text)."""
    p = subprocess.run([annexa, "map", *args], input=data, stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stdout, p.stderr.decode("utf-8", "replace")


def read_jsonl(path):
    """Every complete line of path as JSON; a last line still being written
    (no newline yet) is left for the next read."""
    if not os.path.exists(path):
        return []
    with open(path, "rb") as f:
        return [json.loads(line) for line in f if line.strip() and line.endswith(b"\n")]


def closing_brace(raw):
    """Index of the last '}' of a record's bytes."""
    return raw.rstrip().rfind(b"}")


def spliced_from(raw, out):
    """True when out is raw with members inserted just before its closing brace."""
    b = closing_brace(raw)
    return b >= 0 and out.startswith(raw[:b]) and out.endswith(raw[b:])


def wait_for(cond, timeout=20.0, interval=0.05):
    """Polls cond() until it is true or timeout seconds passed; returns its last value."""
    import time
    end = time.monotonic() + timeout
    while True:
        value = cond()
        if value or time.monotonic() >= end:
            return value
        time.sleep(interval)


def stop_process(proc, timeout=10):
    """SIGTERM, then SIGKILL if it is still there after timeout seconds; reaps it."""
    if proc is None or proc.poll() is not None:
        return
    proc.terminate()
    try:
        proc.wait(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def write_config(path, text):
    with open(path, "w", encoding="utf-8") as f:
        f.write(text)
    return path


def run_agent(annexa, config, timeout=120):
    """Runs `annexa run -c config` to its end; returns (exit code, stderr text)."""
    p = subprocess.run([annexa, "run", "-c", config], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, timeout=timeout)
    return p.returncode, p.stderr.decode("utf-8", "replace")
