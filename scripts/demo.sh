#!/usr/bin/env bash
# The live-patch demo: build hotpatch and the sample engine (hpkv) with the
# compiler plugin, run the engine under load, show a bug, make a patch with
# mkpatch, apply it to the running engine, show the fix, revert it, and show
# that the load client saw no error throughout.
#
# Usage: scripts/demo.sh [PATCH-DIR]   (default: samples/patches/01-*)
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
build=${HP_BUILD_DIR:-$root/build/demo}
work=$build/demo-work
load_seconds=${HP_DEMO_LOAD_SECONDS:-12}

if [[ ${1:-} == -h || ${1:-} == --help ]]; then
	sed -n '2,7s/^# \{0,1\}//p' "$0"
	exit 0
fi
patch_dir=${1:-$(ls -d "$root"/samples/patches/01-* | head -n 1)}
[[ -f $patch_dir/fix.diff && -f $patch_dir/probe ]] ||
	{ echo "demo: '$patch_dir' is not a sample fix (needs fix.diff and probe)" >&2; exit 2; }

if [[ -t 1 ]]; then
	say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	say() { printf '\n== %s\n' "$*"; }
fi

# shellcheck source=scripts/lib/hpkv.sh
. "$root/scripts/lib/hpkv.sh"
"$root/scripts/deps.sh"

say "building hotpatch (cmake, $build)"
cmake -S "$root" -B "$build" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DHP_BUILD_TESTS=OFF >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
cc=$(sed -n 's/^HP_CLANG:FILEPATH=//p' "$build/CMakeCache.txt")
plugin=$build/lib/hotpatch/hotpatch-llvm.so
runtime=$build/lib/libhotpatch.so
cli=$build/bin/hotpatch
mkpatch=$build/bin/mkpatch
hpload=$build/samples/hpload

trap hpkv_test_cleanup EXIT
rm -rf "$work" && mkdir -p "$work"

send=$(hpkv_probe_field "$patch_dir" send)
before=$(hpkv_probe_field "$patch_dir" before)
after=$(hpkv_probe_field "$patch_dir" after)

say "building engine v1 and v2 ($(basename "$patch_dir")) with the plugin"
hpkv_build_versions "$root" "$patch_dir"
# The sample's own description: its title, bug and fix paragraphs.
awk '/^# / { sub(/^# /, ""); print; next }
     /^\*\*(Bug|Fix):\*\*/ { show = 1 }
     /^$/ { show = 0 }
     show' "$patch_dir/README.md" | sed 's/\*\*//g; s/^/   /'

if [[ $(hpkv_probe_field "$patch_dir" expect) == refused ]]; then
	say "mkpatch v1/hpkv v2/hpkv -o fix.hpk --explain (a change that must be refused)"
	status=0
	"$mkpatch" --explain "$work/v1/hpkv" "$work/v2/hpkv" -o "$work/fix.hpk" >"$work/mkpatch.out" 2>&1 || status=$?
	sed 's/^/   /' "$work/mkpatch.out"
	echo "   mkpatch exit status: $status (3 = refused; nothing was written)"
	exit 0
fi

say "starting engine v1 with the runtime, and the load client for ${load_seconds}s"
hpkv_start "$work/v1/hpkv"
echo "   hpkv pid $engine_pid on 127.0.0.1:$port"
"$hpload" --port "$port" --connections 4 --seconds "$load_seconds" >"$work/load.txt" 2>&1 &
load_pid=$!
sleep 1

say "the bug"
echo "   > $send"
echo "   < $(hpkv_probe_sample "$patch_dir")        (expected after the fix: $after)"

say "mkpatch v1/hpkv v2/hpkv -o fix.hpk --explain"
"$mkpatch" --explain "$work/v1/hpkv" "$work/v2/hpkv" -o "$work/fix.hpk" 2>&1 | sed 's/^/   /'

say "hotpatch apply $engine_pid fix.hpk"
"$cli" apply "$engine_pid" "$work/fix.hpk" | sed 's/^/   /'
echo "   > $send"
echo "   < $(hpkv_probe_sample "$patch_dir")"
"$cli" list "$engine_pid" | sed 's/^/   /'
sleep 2

say "hotpatch revert $engine_pid"
"$cli" revert "$engine_pid" | sed 's/^/   /'
echo "   > $send"
echo "   < $(hpkv_probe_sample "$patch_dir")        (the bug is back: $before)"

say "the load client, which ran through apply and revert"
wait "$load_pid"
load_pid=
sed 's/^/   /' "$work/load.txt"
hpkv_stop
echo
echo "Patched and reverted live; the engine kept serving throughout."
