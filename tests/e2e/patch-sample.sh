#!/usr/bin/env bash
# End-to-end test of one sample fix (samples/patches/NN-name): build engine
# v1 and v2 with the plugin, start v1 with the runtime under the load client,
# mkpatch, apply, observe the fix, revert, observe the bug again — with zero
# mismatches and errors in the load client and stored state intact.
# A sample whose probe says "expect: refused" must instead be refused by
# mkpatch (exit 3), with its "culprit:" text in the reason. With
# "probe-once: yes" the probe changes state (a counter), so it is sent once
# before apply and once after, on one engine.
#
# Usage: patch-sample.sh ROOT PATCH_DIR WORK CC PLUGIN RUNTIME CLI MKPATCH HPLOAD
set -euo pipefail
root=$1 patch_dir=$2 work=$3 cc=$4 plugin=$5 runtime=$6 cli=$7 mkpatch=$8 hpload=$9
. "$root/scripts/lib/hpkv.sh"

hpkv_test_begin

hpkv_build_versions "$root" "$patch_dir" || fail "building v1/v2 failed"

if [[ $(hpkv_probe_field "$patch_dir" expect) == refused ]]; then
	refused=$(hpkv_probe_field "$patch_dir" culprit)
	[[ -n $refused ]] || fail "$patch_dir/probe: a refused sample needs a culprit: line"
	status=0
	"$mkpatch" "$work/v1/hpkv" "$work/v2/hpkv" -o "$work/fix.hpk" 2>"$work/mkpatch.err" || status=$?
	cat "$work/mkpatch.err"
	((status == 3)) || fail "mkpatch exited $status, expected 3 (refused)"
	grep -qF -- "$refused" "$work/mkpatch.err" || fail "refusal does not name '$refused'"
	[[ ! -e $work/fix.hpk ]] || fail "a refused change still wrote a package"
	echo "PASS: refused, naming '$refused'"
	exit 0
fi

send=$(hpkv_probe_field "$patch_dir" send)
before=$(hpkv_probe_field "$patch_dir" before)
after=$(hpkv_probe_field "$patch_dir" after)
[[ -n $send && -n $before && -n $after ]] || fail "$patch_dir/probe lacks send/before/after"

"$mkpatch" --explain "$work/v1/hpkv" "$work/v2/hpkv" -o "$work/fix.hpk" ||
	fail "mkpatch exited $?"

hpkv_start "$work/v1/hpkv"
"$hpload" --port "$port" --connections 4 --seconds 6 >"$work/load.txt" 2>&1 &
load_pid=$!
[[ $(hpkv_probe "SET e2e:state 4242") == OK ]] || fail "could not store the state key"

expect() {
	local got
	got=$(hpkv_probe_sample "$patch_dir")
	[[ $got == "$1" ]] || fail "$2: '$send' answered '$got', expected '$1'"
}
expect "$before" "before apply"
"$cli" apply "$engine_pid" "$work/fix.hpk" || fail "apply failed"
expect "$after" "after apply"
"$cli" list "$engine_pid"
sleep 1
"$cli" revert "$engine_pid" || fail "revert failed"
if [[ $(hpkv_probe_field "$patch_dir" probe-once) != yes ]]; then
	expect "$before" "after revert"
	"$cli" apply "$engine_pid" "$work/fix.hpk" || fail "second apply failed"
	expect "$after" "after the second apply"
	"$cli" revert "$engine_pid" || fail "second revert failed"
fi

got=$(hpkv_probe "GET e2e:state")
[[ $got == *4242* ]] || fail "state lost: GET e2e:state answered '$got'"

wait "$load_pid" || { cat "$work/load.txt"; fail "load client reported errors or mismatches"; }
load_pid=
cat "$work/load.txt"
hpkv_stop || fail "engine did not shut down cleanly"
echo "PASS: $(basename "$patch_dir")"
