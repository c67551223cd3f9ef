#!/usr/bin/env python3
"""Test-only stand-in for the compiler plugin: emits a .hotpatch record.

Reads "//@" directives from a C source and prints assembly (to append to
the clang -S output of that source, so static symbols resolve) holding one
record in the format of format/metadata/hp_metadata_format.h:

  //@ func NAME hash=N [flags=external,patchable,...] [inlined=a,b]
  //@      [calls=a,b] [vars=a,b] [origin=NAME] [entry=N] [addr=0]
  //@ var NAME size=N [init=N] [flags=external,tls,const,static_local]
  //@      [owner=FN] [source_name=NAME]
  //@ tu [source=PATH] [cc=COMPILER] [opts="-mno-red-zone ..."] [flags=patch_mode,pic]

Function flags default to "patchable"; "nopatch" removes it.
usage: md_emit.py SOURCE [RECORDED-SOURCE-PATH]
"""
import os
import shlex
import struct
import sys

FUNC_FLAGS = {"external": 1, "weak": 2, "patchable": 4, "endbr": 8, "clone": 16,
              "variadic": 32, "address_taken": 64}
VAR_FLAGS = {"external": 1, "weak": 2, "tls": 4, "const": 8, "static_local": 16,
             "proxy": 32, "declaration": 64}
TU_FLAGS = {"patch_mode": 1, "pic": 2, "cf_protection": 4}


def parse(path):
    tu, funcs, vars_ = {}, [], []
    cur = None
    with open(path) as f:
        for line in f:
            line = line.strip()
            if not line.startswith("//@"):
                continue
            words = shlex.split(line[3:])
            if not words:
                continue
            kind = words[0]
            if kind in ("func", "var"):
                cur = {"name": words[1]}
                (funcs if kind == "func" else vars_).append(cur)
                words = words[2:]
            elif kind == "tu":
                cur = tu
                words = words[1:]
            for w in words:
                k, _, v = w.partition("=")
                cur[k] = v
    return tu, funcs, vars_


def flags(spec, table, default=""):
    out = 0
    names = [n for n in (spec if spec is not None else default).split(",") if n]
    for n in names:
        if n == "nopatch":
            continue
        out |= table[n]
    if "nopatch" in names:
        out &= ~table.get("patchable", 0)
    return out


def func_flags(spec):
    out = flags(spec, FUNC_FLAGS)
    if "nopatch" not in spec:
        out |= FUNC_FLAGS["patchable"]
    return out


def main():
    src = sys.argv[1]
    recorded = sys.argv[2] if len(sys.argv) > 2 else src
    tu, funcs, vars_ = parse(src)
    strtab = bytearray(b"\0")
    index = {"": 0}

    def s(x):
        if x not in index:
            index[x] = len(strtab)
            strtab.extend(x.encode() + b"\0")
        return index[x]

    source = tu.get("source", recorded)
    obj = os.path.splitext(os.path.basename(source))[0] + ".o"
    # Recorded as compiled where the case's sources live, so mkpatch can
    # really re-run the command (the compiler is cc=, default clang-19).
    cwd = os.path.dirname(os.path.abspath(src))
    argv = [tu.get("cc", "clang-19"), "-O2"] + tu.get("opts", "").split() + \
        ["-c", source, "-o", obj]
    s(source); s(cwd)
    argv_off = len(strtab)
    for a in argv:  # consecutive, even if repeated
        strtab.extend(a.encode() + b"\0")
    refs = []

    def slice_(lst):
        first = len(refs)
        for n in [x for x in lst.split(",") if x]:
            refs.append(s(n))
        return first, len(refs) - first

    frecs = []
    for f in funcs:
        inl = slice_(f.get("inlined", ""))
        calls = slice_(f.get("calls", ""))
        fv = slice_(f.get("vars", ""))
        frecs.append((f, inl, calls, fv))
    vrecs = [(v,) for v in vars_]
    for f, *_ in frecs:
        s(f["name"]); s(f.get("origin", ""))
    for (v,) in vrecs:
        s(v["name"]); s(v.get("owner", "")); s(v.get("source_name", ""))
    for f in funcs:
        s(f.get("reason", ""))
    for x in (obj, "clang 19.1.7", "hotpatch-test 0"):
        s(x)
    while len(strtab) % 8:
        strtab.append(0)

    HDR, FSZ, VSZ = 88, 64, 40
    func_off = HDR
    var_off = func_off + FSZ * len(frecs)
    ref_off = var_off + VSZ * len(vrecs)
    str_off = ref_off + 4 * len(refs)
    str_off = (str_off + 7) & ~7
    size = str_off + len(strtab)
    out = ['\t.section .hotpatch,"",@progbits', "\t.balign 8"]
    out.append('\t.ascii "HPMD"')
    out.append("\t.short 1, %d" % HDR)
    hdr = [size, flags(tu.get("flags"), TU_FLAGS), 1, len(frecs), func_off, len(vrecs),
           var_off, len(refs), ref_off, str_off, len(strtab), s(source), s(cwd),
           len(argv), argv_off, s(obj), s("clang 19.1.7"), s("hotpatch-test 0"),
           int(tu.get("hash_rules", "0"), 0), 0]
    out.append("\t.long " + ", ".join(str(x) for x in hdr))
    for f, inl, calls, fv in frecs:
        addr = f.get("addr", f["name"])
        out.append("\t.quad %s, %d" % (addr, int(f.get("hash", "0"), 0)))
        out.append("\t.long %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, %d, 0" % (
            s(f["name"]), func_flags(f.get("flags", "")),
            int(f.get("entry", "0")), s(f.get("origin", "")), s(f.get("reason", "")),
            inl[0], inl[1], calls[0], calls[1], fv[0], fv[1]))
    for (v,) in vrecs:
        addr = v.get("addr", v["name"])
        out.append("\t.quad %s, %d, %d" % (addr, int(v.get("size", "0"), 0),
                                           int(v.get("init", "0"), 0)))
        out.append("\t.long %d, %d, %d, %d" % (s(v["name"]), flags(v.get("flags"), VAR_FLAGS),
                                               s(v.get("owner", "")),
                                               s(v.get("source_name", ""))))
    if refs:
        out.append("\t.long " + ", ".join(str(r) for r in refs))
    out.append("\t.balign 8")
    out.append("\t.byte " + ", ".join(str(b) for b in strtab))
    print("\n".join(out))


if __name__ == "__main__":
    main()
