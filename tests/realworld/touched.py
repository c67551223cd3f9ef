#!/usr/bin/env python3
"""Which functions of a patch the fix's diff really touches.

usage: touched.py TREE PARENT COMMIT [ANALYSIS.json] < explain.txt

Reads mkpatch --explain lines ("name (file): reason") and, for each
function, compares its definition's text at PARENT and at COMMIT in the
git tree TREE. A function is touched when its text differs or it exists
only at COMMIT; the rest are spurious (in P, but the diff leaves their
text alone). GCC's clone suffixes (.cold, .part.N, .constprop.N, .isra.N)
map to the origin's definition.

A definition is found the way both memcached and nginx write C: a line
starting at column 0 that names the function before its "(", then the
first "{" before any ";" (not a prototype), then the body up to the next
"}" at column 0; a return type alone on the line before is included. A
name defined by a macro or otherwise not found is "unknown" and is not
counted as spurious. A function whose text is the same but names a macro
the diff defines anew (a changed "#define X") is touched too: the fix
changes what that text compiles to.

Prints one line per function ("touched|spurious|unknown name reason") and
last "summary P=N touched=T spurious=S inlined=I unknown=U", where
inlined counts the spurious functions that mkpatch lists as inlining a
touched one (needed for a correct patch, but not touched by the diff):
an "inlines X()" whose X is touched, or, for "source changed, or that of
an inlined function without a body of its own", one of those inlinees
touched (all of them from ANALYSIS.json, `mkpatch --json`'s
"bodiless_inlinees"; without it only the one the text names).
"""
import json
import re
import subprocess
import sys

CLONE = re.compile(r"\.(cold|part\.\d+|constprop\.\d+|isra\.\d+|lto_priv\.\d+)(\.\d+)?$")


def git(tree, *args):
    return subprocess.run(["git", "-C", tree, *args], capture_output=True, text=True).stdout


def origin(name):
    while True:
        stripped = CLONE.sub("", name)
        if stripped == name:
            return name
        name = stripped


def definitions(tree, rev, name):
    """Concatenated text of every definition of NAME at REV."""
    files = git(tree, "grep", "-l", "-E", r"^([A-Za-z_].*[^A-Za-z0-9_])?" + name + r"[[:space:]]*\(", rev, "--", "*.c", "*.h")
    head = re.compile(r"^([A-Za-z_].*[^A-Za-z0-9_])?" + re.escape(name) + r"\s*\(")
    out = []
    for spec in sorted(files.split()):
        lines = git(tree, "show", spec).split("\n")
        i = 0
        while i < len(lines):
            if not head.match(lines[i]):
                i += 1
                continue
            j = i
            while j < len(lines) and "{" not in lines[j] and not lines[j].rstrip().endswith(";"):
                j += 1
            if j >= len(lines) or "{" not in lines[j]:
                i = j + 1
                continue
            k = j
            if not (lines[j].rstrip().endswith("}") and lines[j].count("{") == lines[j].count("}")):
                k = j + 1
                while k < len(lines) and not lines[k].startswith("}"):
                    k += 1
            prev = lines[i - 1] if i > 0 else ""
            typed = prev and not prev[0].isspace() and prev[0] != "#"
            start = i - 1 if typed and not prev.rstrip().endswith((";", "}", "*/", ")")) else i
            out.append("\n".join(lines[start : k + 1]))
            i = k + 1
    return "\n".join(out) if out else None


def changed_macros(tree, parent, commit):
    """Names of the macros whose #define lines the diff adds or removes."""
    diff = git(tree, "diff", parent, commit, "--", "*.c", "*.h")
    return set(re.findall(r"^[-+]\s*#\s*define\s+([A-Za-z_]\w*)", diff, re.M))


def main():
    tree, parent, commit = sys.argv[1:4]
    bodiless_of = {}
    if len(sys.argv) > 4:
        with open(sys.argv[4]) as f:
            for fn in json.load(f).get("functions", []):
                bodiless_of[fn["name"]] = fn.get("bodiless_inlinees", [])
    rows = []
    for line in sys.stdin:
        m = re.match(r"^(\S+) \(([^)]*)\): (.*)$", line.rstrip("\n"))
        if m:
            rows.append((m.group(1), m.group(3)))
    status = {}
    for name, _ in rows:
        base = origin(name)
        if base in status:
            continue
        old = definitions(tree, parent, base)
        new = definitions(tree, commit, base)
        if new is None and old is None:
            status[base] = "unknown"
        else:
            status[base] = "touched" if old != new else "spurious"
    macros = changed_macros(tree, parent, commit)
    for base, s in list(status.items()):
        text = (definitions(tree, parent, base) or "") + (definitions(tree, commit, base) or "")
        if s == "spurious" and any(re.search(r"\b%s\b" % re.escape(m), text) for m in macros):
            status[base] = "touched"
    touched = {n for n, s in status.items() if s == "touched"}
    counts = {"touched": 0, "spurious": 0, "unknown": 0}
    inlined = 0
    for name, reason in rows:
        s = status[origin(name)]
        counts[s] += 1
        m = re.match(r"inlines (\S+)\(\)", reason)
        # one named inlinee without a body of its own (with several, mkpatch
        # names only the first, so the diff cannot be checked against all)
        bodiless = re.search(r"inlined function without a body of its own: (\S+)\(\)", reason)
        if s == "spurious" and m and origin(m.group(1)) in touched:
            inlined += 1
        elif s == "spurious" and (bodiless_of.get(name) or bodiless):
            # mkpatch cannot tell (the inlinees have no body to compare);
            # the diff can: needed if it touches one of those inlinees
            names = bodiless_of.get(name) or [bodiless.group(1)]
            if any(definitions(tree, parent, b) != definitions(tree, commit, b) for b in names):
                inlined += 1
        print(f"{s} {name} {reason}")
    print(
        f"summary P={len(rows)} touched={counts['touched']} spurious={counts['spurious']} "
        f"inlined={inlined} unknown={counts['unknown']}"
    )


if __name__ == "__main__":
    main()
