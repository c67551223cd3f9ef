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

if [[ -t 1 ]]; then
	say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
else
	say() { printf '\n== %s\n' "$*"; }
fi
missing() { printf '   not built yet: %s\n' "$*"; }

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
mkpatch=$(find "$build" -name mkpatch -type f -perm -u+x | head -n 1)
hpkv_plain=$(find "$build/samples" -name hpkv -type f -perm -u+x | head -n 1)
hpload=$(find "$build/samples" -name hpload -type f -perm -u+x | head -n 1)

have_all=1
for part in "$plugin:compiler plugin (hotpatch-llvm.so)" "$runtime:runtime (libhotpatch.so)" \
	    "$cli:hotpatch CLI" "$mkpatch:mkpatch"; do
	[[ -n ${part%%:*} && -e ${part%%:*} ]] || { missing "${part#*:}"; have_all=0; }
done
[[ -n $hpload && -n $hpkv_plain ]] || { echo "demo: the sample engine did not build" >&2; exit 1; }

patch_dir=${1:-$(ls -d "$root"/samples/patches/01-* 2>/dev/null | head -n 1 || true)}
[[ -n $patch_dir && -f $patch_dir/fix.diff ]] || { missing "sample patches (samples/patches/NN-*/fix.diff)"; have_all=0; }

engine_pid=
load_pid=
cleanup() {
	[[ -n $load_pid ]] && kill "$load_pid" 2>/dev/null || true
	[[ -n $engine_pid ]] && kill "$engine_pid" 2>/dev/null || true
	wait 2>/dev/null || true
}
trap cleanup EXIT


rm -rf "$work" && mkdir -p "$work"

if ((!have_all)); then
	say "running the sample engine under load (the patching steps are not built yet)"
	runtime= hpkv_start "$hpkv_plain"
	echo "   hpkv pid $engine_pid on 127.0.0.1:$port"
	"$hpload" --port "$port" --connections 4 --seconds 5
	hpkv_stop
	echo
	echo "The live-patch steps above marked 'not built yet' are still missing; nothing was patched."
	exit 0
fi

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
