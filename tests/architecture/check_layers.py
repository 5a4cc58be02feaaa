#!/usr/bin/env python3
"""Checks every module's #include lines against docs/modules.md (see there).

Usage: check_layers.py ROOT. Prints each violation as FILE:LINE: what, and exits 1 when there
is one; 2 when the table cannot be read.
"""
import os
import re
import sys

SOURCES = (".h", ".hpp", ".cpp", ".cc", ".in")
INCLUDE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


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


def check(root):
    table = read_table(root)
    if not table:
        print(f"{root}/docs/modules.md: no module table", file=sys.stderr)
        return 2
    headers = public_headers(root, table)
    all_prefixes = sorted({p for _, prefixes in table.values() for p in prefixes},
                          key=len, reverse=True)
    problems = 0
    for m, (allowed, prefixes) in table.items():
        for dirpath, _, files in os.walk(os.path.join(root, m)):
            for name in sorted(files):
                if not name.endswith(SOURCES):
                    continue
                full = os.path.join(dirpath, name)
                where = os.path.relpath(full, root)
                with open(full, encoding="utf-8", errors="replace") as f:
                    for number, line in enumerate(f, 1):
                        found = INCLUDE.match(line)
                        if not found:
                            continue
                        kind, header = found.groups()
                        if kind == '"':
                            local = os.path.relpath(os.path.join(dirpath, header), root)
                            owner = (module_of(local, table) if os.path.exists(
                                os.path.join(root, local)) else headers.get(header))
                            if owner and owner != m and owner not in allowed:
                                print(f"{where}:{number}: includes {header} of {owner}, which "
                                      f"{m} may not (docs/modules.md)")
                                problems += 1
                        else:
                            family = third_party(header, all_prefixes)
                            if family and family not in prefixes:
                                print(f"{where}:{number}: includes <{header}> ({family}), which "
                                      f"is confined to other modules than {m} (docs/modules.md)")
                                problems += 1
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(check(sys.argv[1] if len(sys.argv) > 1 else "."))
