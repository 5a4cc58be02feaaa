#!/usr/bin/env python3
"""Checks every module's #include lines, and its files' lengths, against docs/modules.md.

Usage: check_layers.py ROOT. Prints each violation as FILE:LINE: what, and exits 1 when there
is one; 2 when the table cannot be read.
"""
import os
import re
import sys

SOURCES = (".h", ".hpp", ".cpp", ".cc", ".in")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


MAX_LINES = 1000
UNLIMITED = "engine/scxml"  # the interpreter follows the W3C algorithm's own long functions


def read_long_files(root):
    """The files docs/modules.md lists under "Files over 1,000 lines"."""
    listed, inside = set(), False
    with open(os.path.join(root, "docs", "modules.md"), encoding="utf-8") as f:
        for line in f:
            if line.startswith("## "):
                inside = line.startswith("## Files over")
            elif inside and line.startswith("- `"):
                listed.add(line.split("`")[1])
    return listed


def read_table(root):
    """module -> (allowed modules, allowed third-party prefixes), in table order."""
    table = {}
    with open(os.path.join(root, "docs", "modules.md"), encoding="utf-8") as f:
        for line in f:
            cells = [c.strip() for c in line.strip().strip("|").split("|")]
            if len(cells) != 3 or not cells[0].startswith("`"):
                continue
            module, allowed, prefixes = (re.findall(r"`([^`]+)`", c) for c in cells)
            table[module[0]] = (set(allowed), prefixes)
    return table


def module_of(path, modules):
    """The module a repository path belongs to (the longest folder that matches), or None."""
    best = None
    for m in modules:
        if (path == m or path.startswith(m + "/")) and (best is None or len(m) > len(best)):
            best = m
    return best


def public_headers(root, modules):
    """'tramite/x/y.h' -> the module whose include/ folder holds it."""
    headers = {}
    for m in modules:
        include = os.path.join(root, m, "include")
        for dirpath, _, files in os.walk(include):
            for name in files:
                full = os.path.join(dirpath, name)
                headers[os.path.relpath(full, include)] = m
    return headers


def third_party(header, prefixes):
    """The prefix among prefixes that covers header, or None."""
    for p in prefixes:
        if p.endswith("/"):
            rest = header[len(p):] if header.startswith(p) else None
            # "Poco/" covers Poco/X.h, not Poco/Net/X.h (a prefix of its own).
            if rest is not None and ("/" not in rest or p.count("/") > 1):
                return p
        elif header == p:
            return p
    return None


def check_file(root, path, module, table, headers, long_files, all_prefixes):
    """Prints what is wrong with one source file of module; returns how many problems."""
    allowed, prefixes = table[module]
    where = os.path.relpath(path, root)
    with open(path, encoding="utf-8", errors="replace") as f:
        lines = f.readlines()
    problems = []
    if not where.startswith(UNLIMITED + "/"):
        if len(lines) > MAX_LINES and where not in long_files:
            problems.append(f"{where}:{MAX_LINES + 1}: {len(lines)} lines, over {MAX_LINES}: "
                            f"split it")
        elif len(lines) <= MAX_LINES and where in long_files:
            problems.append(f"{where}:1: {len(lines)} lines now: take it off the list of files "
                            f"over {MAX_LINES}")
    for number, line in enumerate(lines, 1):
        found = INCLUDE.match(line)
        if not found:
            continue
        kind, header = found.groups()
        if kind == '"':
            local = os.path.relpath(os.path.join(os.path.dirname(path), header), root)
            owner = (module_of(local, table) if os.path.exists(os.path.join(root, local))
                     else headers.get(header))
            if owner and owner != module and owner not in allowed:
                problems.append(f"{where}:{number}: includes {header} of {owner}, which "
                                f"{module} may not")
        else:
            family = third_party(header, all_prefixes)
            if family and family not in prefixes:
                problems.append(f"{where}:{number}: includes <{header}> ({family}), which is "
                                f"confined to other modules than {module}")
    for p in problems:
        print(p + " (docs/modules.md)")
    return len(problems)


def check(root):
    table = read_table(root)
    if not table:
        print(f"{root}/docs/modules.md: no module table", file=sys.stderr)
        return 2
    headers = public_headers(root, table)
    long_files = read_long_files(root)
    all_prefixes = sorted({p for _, prefixes in table.values() for p in prefixes},
                          key=len, reverse=True)
    problems = 0
    # Every module folder is in the table: one left out would be checked by nobody.
    for parent in ("engine", "programs"):
        if not os.path.isdir(os.path.join(root, parent)):
            continue
        for name in sorted(os.listdir(os.path.join(root, parent))):
            folder = f"{parent}/{name}"
            if os.path.isdir(os.path.join(root, folder)) and folder not in table:
                print(f"{folder}/CMakeLists.txt:1: module {folder} is not in the table "
                      f"(docs/modules.md)")
                problems += 1
    for module in table:
        for dirpath, _, files in os.walk(os.path.join(root, module)):
            for name in sorted(files):
                if name.endswith(SOURCES):
                    problems += check_file(root, os.path.join(dirpath, name), module, table,
                                           headers, long_files, all_prefixes)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(check(sys.argv[1] if len(sys.argv) > 1 else "."))
