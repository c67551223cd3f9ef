#!/usr/bin/env bash
# Regenerates the fuzzers' seed corpus (tests/fuzz/seeds/) from real builds:
# what the plugins, the linker and mkpatch produce for two of the project's
# own test programs. The seeds are committed (a few small files) so that the
# short run starts from the same inputs on every machine without building
# the sample engine first; rerun this when a format changes.
#
#   pkg/       packages mkpatch wrote (sample fix 01 of the engine, and
#              tests/e2e/inputs/compiler_tables.c, which has proxies, also
#              signed with a throwaway key: the signature record is input
#              the reader parses too; tests/e2e/inputs/hooks.c, with hooks)
#   metadata/  .hotpatch sections: the engine's six records (clang), one
#              record by the GCC plugin, one patch-mode record
#   elf/       what mkpatch opens: a linked program with --emit-relocs, a
#              plugin-built object, a linked patch (debug info stripped:
#              mkpatch only notes its presence, and small seeds fuzz faster)
#
# Usage: make-seeds.sh BUILD_DIR [OUT_DIR]
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
build=$(cd "$1" && pwd)
out=${2:-$root/tests/fuzz/seeds}
mkpatch=$build/bin/mkpatch
cli=$build/bin/hotpatch
llvm=$build/lib/hotpatch/hotpatch-llvm.so
gccplugin=$build/lib/hotpatch/hotpatch-gcc.so
for f in "$mkpatch" "$cli" "$llvm" "$gccplugin"; do
	[[ -e $f ]] || { echo "make-seeds: '$f' missing: build first" >&2; exit 1; }
done
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out/pkg" "$out/metadata" "$out/elf"

# The section's bytes; objcopy writes its output beside (never over) FILE.
dump_md() { # FILE OUT
	objcopy --dump-section ".hotpatch=$2" "$1" "$work/objcopy.out"
}
nodebug() { # FILE OUT
	objcopy --strip-debug "$1" "$2"
}

# Sample fix 01 of the engine, built as tests/e2e does.
(
	cc=clang-19 plugin=$llvm
	. "$root/scripts/lib/hpkv.sh"
	hpkv_build_versions "$root" "$root/samples/patches/01-parse-int-plus"
	"$mkpatch" "$work/v1/hpkv" "$work/v2/hpkv" -o "$work/parse-int.hpk" >/dev/null 2>&1
)
cp "$work/parse-int.hpk" "$out/pkg/parse-int.hpk"
dump_md "$work/v1/hpkv" "$out/metadata/engine-clang.md"

cp "$root/tests/e2e/inputs/compiler_tables.c" "$work/"
cd "$work"
clang-19 -O2 -g -fpass-plugin="$llvm" -c compiler_tables.c -o ct1.o
clang-19 -O2 -g -fpass-plugin="$llvm" -DFIXED -c compiler_tables.c -o ct2.o
clang-19 -Wl,--emit-relocs ct1.o -o ct1
clang-19 -Wl,--emit-relocs ct2.o -o ct2
"$mkpatch" -v --keep-temps ct1 ct2 -o compiler-tables.hpk >keep.out 2>&1
temps=$(sed -n "s/^mkpatch: temporary files kept in '\(.*\)'$/\1/p" keep.out)
cp compiler-tables.hpk "$out/pkg/"
"$cli" keygen throwaway >/dev/null
"$mkpatch" --sign throwaway.key ct1 ct2 -o compiler-tables-signed.hpk >/dev/null 2>&1
cp compiler-tables-signed.hpk "$out/pkg/"
dump_md "$temps/patch0.so" "$out/metadata/compiler-tables-patch.md"
nodebug ct1 "$out/elf/compiler-tables"
nodebug ct1.o "$out/elf/compiler-tables.o"
nodebug "$temps/patch0.so" "$out/elf/compiler-tables-patch.so"
rm -rf "$temps"

cp "$root/tests/e2e/inputs/hooks.c" "$work/"
clang-19 -O2 -fpass-plugin="$llvm" -c hooks.c -o hooks1.o
clang-19 -O2 -fpass-plugin="$llvm" -DFIXED -I"$root/runtime/include" -c hooks.c -o hooks2.o
clang-19 hooks1.o -o hooks1
clang-19 hooks2.o -o hooks2
"$mkpatch" hooks1 hooks2 -o hooks.hpk >/dev/null 2>&1
cp hooks.hpk "$out/pkg/"

gcc -Os -g -fplugin="$gccplugin" -c compiler_tables.c -o ct-gcc.o
dump_md ct-gcc.o "$out/metadata/compiler-tables-gcc.md"
nodebug ct-gcc.o "$out/elf/compiler-tables-gcc.o"
du -ab "$out"
