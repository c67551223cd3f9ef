#!/usr/bin/env bash
# Patch hooks (inputs/hooks.c): mkpatch lists them; a post-apply hook
# redoes what start-up code did wrong and a post-revert hook undoes it; a
# pre-apply hook that says no leaves the program unpatched with its
# reason; a failing post-apply hook is a warning and the patch stays.
#
# Usage: hooks.sh ROOT WORK CC PLUGIN RUNTIME CLI MKPATCH
set -euo pipefail
root=$1 work=$2 cc=$3 plugin=$4 runtime=$5 cli=$6 mkpatch=$7
. "$root/scripts/lib/hpkv.sh"

hpkv_test_begin
flag=$(hpkv_plugin_flag)
cp "$root/tests/e2e/inputs/hooks.c" "$work/"
cd "$work"
for v in v1 v2; do
	defs=()
	[[ $v == v2 ]] && defs=(-DFIXED -I"$root/include")
	"$cc" -O2 -g "$flag" "${defs[@]}" -c hooks.c -o "$v.o" || fail "compiling $v failed"
	"$cc" "$v.o" -o "$v" || fail "linking $v failed"
done
"$mkpatch" --explain v1 v2 -o fix.hpk >explain.txt 2>mkpatch.err ||
	{ cat explain.txt mkpatch.err; fail "mkpatch exited $?"; }
cat explain.txt
for want in "check_ready (hooks.c): pre-apply hook" "refill (hooks.c): post-apply hook" \
	"restore (hooks.c): post-revert hook" "may_revert (hooks.c): pre-revert hook" \
	"fill_table (hooks.c): source changed"; do
	grep -q "^$want" explain.txt || fail "--explain lacks '$want'"
done

# start [env...]: the old build with the runtime; sets engine_pid.
start() {
	: >out.txt
	env "$@" LD_PRELOAD="$runtime" ./v1 >>out.txt 2>program.log &
	engine_pid=$!
}
stop() {
	kill -TERM "$engine_pid"
	wait "$engine_pid" 2>/dev/null || true
	engine_pid=
}
# expect WHAT TEXT: hpkv_expect_round
expect() { hpkv_expect_round "$1" "$2"; }

start
expect "before apply" "table[3]=30"
"$cli" apply "$engine_pid" fix.hpk >apply.out || fail "apply failed"
expect "after apply (post-apply hook refilled)" "table[3]=300"
"$cli" revert "$engine_pid" >/dev/null || fail "revert failed"
expect "after revert (post-revert hook restored)" "table[3]=30"
stop

start HP_TEST_NOT_READY=1
expect "before a refused apply" "table[3]=30"
status=0
"$cli" apply "$engine_pid" fix.hpk 2>refused.err || status=$?
((status == 1)) || fail "a vetoed apply exited $status"
[[ $(wc -l <refused.err) == 1 ]] &&
	grep -qx "hotpatch: pre-apply hook check_ready() failed (1): the table is in use" refused.err ||
	fail "veto message: $(cat refused.err)"
"$cli" list "$engine_pid" | grep -q "no patches applied" || fail "a vetoed patch is listed"
expect "after the vetoed apply" "table[3]=30"
stop

start HP_TEST_POST_FAIL=1
expect "before apply" "table[3]=30"
"$cli" apply "$engine_pid" fix.hpk >apply.out || fail "apply with a failing post hook failed"
grep -qx "warning: post-apply hook refill() failed (2): refilled, but asked to fail; the patch stays applied" apply.out ||
	fail "post-apply failure: $(cat apply.out)"
"$cli" list "$engine_pid" | grep -q $'\tfill_table$' || fail "the patch is not listed"
expect "after apply" "table[3]=300"
stop

start HP_TEST_KEEP=1
expect "before apply" "table[3]=30"
"$cli" apply "$engine_pid" fix.hpk >/dev/null || fail "apply failed"
expect "after apply" "table[3]=300"
status=0
"$cli" revert "$engine_pid" 2>revert.err || status=$?
((status == 1)) && grep -qx "hotpatch: pre-revert hook may_revert() failed (3): keep it" revert.err ||
	fail "vetoed revert ($status): $(cat revert.err)"
"$cli" list "$engine_pid" | grep -q $'\tfill_table$' || fail "the patch is gone after a vetoed revert"
expect "after the vetoed revert" "table[3]=300"
stop

start HP_TEST_RESTORE_FAIL=1
expect "before apply" "table[3]=30"
"$cli" apply "$engine_pid" fix.hpk >/dev/null || fail "apply failed"
expect "after apply" "table[3]=300"
"$cli" revert "$engine_pid" >revert.out || fail "a revert with a failing post-revert hook failed"
grep -qx "warning: post-revert hook restore() failed (4): restored, but asked to fail; the patch stays reverted" revert.out ||
	fail "post-revert failure: $(cat revert.out)"
"$cli" list "$engine_pid" | grep -q "no patches applied" || fail "the patch is still listed"
expect "after the revert" "table[3]=30"
stop
echo "PASS: hooks"
