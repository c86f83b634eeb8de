#!/usr/bin/env python3
"""Writes a C file holding the given schema files as NUL-terminated arrays.

Usage: embed_schemas.py OUT.c SOURCE_ROOT FILE...
Names are kept relative to SOURCE_ROOT so messages point at the real file.
"""
import os
import sys


def c_array(data):
    body = ",".join(str(b) for b in data + b"\0")
    return "{" + body + "}"


def main():
    out, root, files = sys.argv[1], sys.argv[2], sys.argv[3:]
    lines = ['#include "schema_data.h"', "", "#include <string.h>", ""]
    entries = []
    for i, path in enumerate(sorted(files)):
        with open(path, "rb") as f:
            data = f.read()
        name = os.path.relpath(path, root)
        lines.append("static const char file_%d[] = %s;" % (i, c_array(data)))
        entries.append('\t{ "%s", file_%d, %d },' % (name, i, len(data)))
    lines += ["", "const struct ax_schema_file ax_schema_files[] = {"]
    lines += entries
    lines += ["\t{ NULL, NULL, 0 },", "};", ""]
    lines += [
        "const struct ax_schema_file *ax_schema_file(const char *name)",
        "{",
        "\tfor (const struct ax_schema_file *f = ax_schema_files; f->name; f++)",
        "\t\tif (strcmp(f->name, name) == 0)",
        "\t\t\treturn f;",
        "\treturn NULL;",
        "}",
        "",
    ]
    with open(out, "w") as f:
        f.write("\n".join(lines))


if __name__ == "__main__":
    main()
