#!/usr/bin/env python3
"""Robustness: mkpatch on damaged copies of a plugin-built binary.

Builds a small program with metadata (md_emit.py), then runs mkpatch
--dry-run OLD MUTANT on truncated copies, copies with random bit flips
(concentrated on the ELF headers and the .hotpatch section) and garbage.
Every run must end with a documented exit status (0, 1, 3, 4), never a
signal. Truncated copies and garbage must give 1.
usage: fuzz_inputs.py MKPATCH [COUNT]
"""
import os
import random
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
SRC = os.path.join(HERE, "cases", "inlined_helper_pulls_callers", "old", "server.c")


def build(work):
    cc = os.environ.get("HP_CLANG", "clang-19")
    asm = os.path.join(work, "server.s")
    subprocess.run([cc, "-O2", "-g", "-S", SRC, "-o", asm], check=True)
    md = subprocess.run([sys.executable, os.path.join(HERE, "md_emit.py"), SRC, "server.c"],
                        check=True, capture_output=True, text=True).stdout
    with open(asm, "a") as f:
        f.write(md)
    prog = os.path.join(work, "prog")
    subprocess.run([cc, asm, "-o", prog], check=True)
    return prog


def section_range(data, name):
    # Find the .hotpatch section from the section headers (ELF64 LE).
    import struct
    shoff, = struct.unpack_from("<Q", data, 0x28)
    shentsize, shnum, shstrndx = struct.unpack_from("<HHH", data, 0x3a)
    def sh(i):
        return struct.unpack_from("<IIQQQQIIQQ", data, shoff + i * shentsize)
    stroff = sh(shstrndx)[4]
    for i in range(shnum):
        h = sh(i)
        n = data[stroff + h[0]:data.index(b"\0", stroff + h[0])]
        if n == name:
            return h[4], h[5]
    return 0, len(data)


def run(mkpatch, old, data, work, i):
    path = os.path.join(work, "mutant%d" % i)
    with open(path, "wb") as f:
        f.write(data)
    p = subprocess.run([mkpatch, "--dry-run", old, path], capture_output=True, timeout=20)
    os.unlink(path)
    return p.returncode, p.stderr.decode(errors="replace")


def main():
    mkpatch = sys.argv[1]
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 300
    rng = random.Random(1234)
    failures = 0
    with tempfile.TemporaryDirectory() as work:
        old = build(work)
        data = open(old, "rb").read()
        md_off, md_size = section_range(data, b".hotpatch")
        cases = []
        for _ in range(count // 4):
            cases.append(("truncate", data[:rng.randrange(0, len(data))], {1}))
        cases.append(("garbage", bytes(rng.randrange(256) for _ in range(4096)), {1}))
        cases.append(("empty", b"", {1}))
        while len(cases) < count:
            m = bytearray(data)
            for _ in range(rng.randrange(1, 8)):
                where = rng.random()
                if where < 0.6 and md_size:
                    pos = md_off + rng.randrange(md_size)
                elif where < 0.8:
                    pos = rng.randrange(0, 0x40)
                else:
                    pos = rng.randrange(len(m))
                m[pos] ^= 1 << rng.randrange(8)
            cases.append(("bitflip", bytes(m), {0, 1, 3, 4}))
        for i, (kind, blob, allowed) in enumerate(cases):
            rc, err = run(mkpatch, old, blob, work, i)
            if rc not in allowed:
                failures += 1
                print("FAIL %s #%d: exit %d: %s" % (kind, i, rc, err.strip()[:200]))
    print("%d cases, %d failures" % (len(cases), failures))
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
