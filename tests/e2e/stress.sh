#!/usr/bin/env bash
# Stress: the sample engine serves the load client while a loop applies and
# reverts a patch of hot functions (sample 02: the key check inlined into
# every store operation) CYCLES times (`hotpatch rehearse`, one client
# process, so the loop measures patching, not process start-up). Passes only
# with zero load-client errors and mismatches, every apply and revert
# succeeding, and the engine alive and unpatched at the end.
#
# With --compare it then runs the load client as long again without the
# loop and prints throughput and p99 during the loop as a ratio of that.
#
# Usage: stress.sh [--compare] CYCLES ROOT WORK CC PLUGIN RUNTIME CLI MKPATCH HPLOAD
set -euo pipefail
compare=0
if [[ $1 == --compare ]]; then
	compare=1
	shift
fi
cycles=$1 root=$2 work=$3 cc=$4 plugin=$5 runtime=$6 cli=$7 mkpatch=$8 hpload=$9
. "$root/scripts/lib/hpkv.sh"
patch_dir=$root/samples/patches/02-key-length-inlined

hpkv_test_begin

hpkv_build_versions "$root" "$patch_dir" || fail "building v1/v2 failed"
"$mkpatch" "$work/v1/hpkv" "$work/v2/hpkv" -o "$work/fix.hpk" 2>/dev/null || fail "mkpatch exited $?"
hpkv_start "$work/v1/hpkv"

# json_field FILE NAME: a number from hpload --json output.
json_field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" "$1"; }

"$hpload" --port "$port" --connections 4 --seconds 3600 --json >"$work/during.json" &
load_pid=$!
sleep 0.5
"$cli" rehearse "$engine_pid" "$work/fix.hpk" "$cycles" || fail "the apply/revert loop failed"
kill -TERM "$load_pid"
wait "$load_pid" || { cat "$work/during.json"; fail "load client saw errors or mismatches"; }
load_pid=
kill -0 "$engine_pid" || fail "engine died"
"$cli" list "$engine_pid" | grep -q '^[0-9]' && fail "a patch is still applied after the loop"

echo "load during the loop: $(cat "$work/during.json")"
if ((compare)); then
	seconds=$(json_field "$work/during.json" seconds)
	"$hpload" --port "$port" --connections 4 --seconds "$seconds" --json >"$work/baseline.json" ||
		fail "baseline load run failed"
	echo "baseline (no patching) for ${seconds}s: $(cat "$work/baseline.json")"
	awk -v t1="$(json_field "$work/during.json" throughput)" \
	    -v t0="$(json_field "$work/baseline.json" throughput)" \
	    -v p1="$(json_field "$work/during.json" p99_us)" \
	    -v p0="$(json_field "$work/baseline.json" p99_us)" \
	    'BEGIN { printf "throughput during/baseline: %.3f   p99 during/baseline: %.3f\n", t1 / t0, p1 / p0 }'
fi
hpkv_stop || fail "engine did not shut down cleanly"
echo "PASS"
