#!/usr/bin/env python3
"""The annexa program of a hardened build (meson.build: every optimised
build without sanitizers) is a PIE with full RELRO (BIND_NOW), a
non-executable stack, stack protector and fortified libc calls, as
readelf sees it. Registered only for such builds.

usage: test_hardening.py ANNEXA"""
import re
import subprocess
import sys

from axtest import check, finish


def readelf(*args):
    return subprocess.run(["readelf", "-W", *args], stdout=subprocess.PIPE, check=True).stdout.decode()


def main():
    exe = sys.argv[1]
    header, segments, dynamic, syms = readelf("-h", exe), readelf("-l", exe), readelf("-d", exe), readelf("--dyn-syms", exe)
    check(re.search(r"Type:\s+DYN", header), "a position-independent executable (PIE)")
    check("GNU_RELRO" in segments, "a RELRO segment")
    check(re.search(r"\(FLAGS\)\s+.*BIND_NOW", dynamic) or re.search(r"\(FLAGS_1\)\s+.*\bNOW\b", dynamic),
          "BIND_NOW: the whole GOT is read-only after start (full RELRO)")
    stack = [line for line in segments.splitlines() if "GNU_STACK" in line]
    check(stack and not re.search(r"\bRWE\b", stack[0]), "a non-executable stack: %s" % stack)
    check("__stack_chk_fail" in syms, "stack protector: __stack_chk_fail is called")
    fortified = set(re.findall(r"\b(__\w+_chk)@", syms)) - {"__stack_chk_fail"}
    check(len(fortified) >= 3, "_FORTIFY_SOURCE: fortified libc calls: %s" % sorted(fortified))
    finish("hardening")


if __name__ == "__main__":
    main()
