#!/usr/bin/env bash
# The public interface: `cmake --install` lays out bin/, lib/, include/ and
# the CMake package; a user's project built with find_package(hotpatch) and
# hotpatch_enable() carries the plugin's metadata and runs with the runtime.
# Usage: install.sh BUILD_DIR SOURCE_DIR WORK CLANG
set -euo pipefail
build=$1 source=$2 work=$3 clang=$4
fail() { echo "FAIL: $*" >&2; exit 1; }
rm -rf "$work" && mkdir -p "$work"
prefix=$work/prefix

cmake --install "$build" --prefix "$prefix" >/dev/null
for f in bin/mkpatch bin/hotpatch lib/hotpatch/hotpatch-llvm.so lib/libhotpatch.so \
	 lib/libhotpatch.a include/hotpatch/hotpatch.h lib/pkgconfig/hotpatch.pc \
	 lib/cmake/hotpatch/hotpatch-config.cmake; do
	[[ -e $prefix/$f ]] || fail "'$f' is not installed"
done
"$prefix/bin/mkpatch" --help >/dev/null || fail "installed mkpatch does not run"
"$prefix/bin/hotpatch" --help >/dev/null || fail "installed hotpatch does not run"

cmake -S "$source/tests/install/consumer" -B "$work/consumer" -DCMAKE_C_COMPILER="$clang" \
	-DCMAKE_PREFIX_PATH="$prefix" >/dev/null || fail "configuring a consumer project failed"
cmake --build "$work/consumer" >/dev/null || fail "building a consumer project failed"
# Whole output first: grep -q stops reading at its match, and under
# pipefail readelf's SIGPIPE would fail the check that just passed.
sections=$(readelf -S "$work/consumer/consumer")
grep -q ' \.hotpatch ' <<<"$sections" ||
	fail "hotpatch_enable() did not build with the plugin (no .hotpatch section)"
grep -q ' \.rela\.text ' <<<"$sections" ||
	fail "hotpatch_enable() did not link with --emit-relocs (no .rela.text)"
out=$("$work/consumer/consumer") || fail "the consumer program failed"
[[ $out == "answer 42, libhotpatch "* ]] || fail "unexpected output '$out'"

# pkg-config names the same library.
PKG_CONFIG_PATH=$prefix/lib/pkgconfig pkg-config --libs hotpatch | grep -q -- '-lhotpatch' ||
	fail "pkg-config does not give -lhotpatch"
echo "PASS"
