#!/usr/bin/env bash
# Applies, stacks and reverts patches through the hotpatch CLI in engines
# compiled at test time (plain, -fcf-protection, LD_PRELOAD), while three
# threads call the patched functions in a tight loop.
set -euo pipefail
work=$1
source "$(dirname "$0")/lib.sh"
rm -rf "$work" && mkdir -p "$work/run" && cd "$work"
export HOTPATCH_RUNDIR=$work/run

run_variant() {
	local v=$1; shift
	local st=$work/state-$v
	note "variant $v"
	if [[ $v == preload ]]; then
		"$HP_CLANG" "${HP_CFLAGS[@]}" "$@" -pthread "$HP_DATA/target.c" -o target-$v
	else
		build_target target-$v "$@"
	fi
	build_patch patch_a.c a-$v.so "$@"
	build_patch patch_b.c b-$v.so "$@"
	"$HP_MKPKG" target-$v a-$v.so a-$v.hpk --name fix-a --func compute --func helper \
		--proxy __hp_proxy.factor=factor
	"$HP_MKPKG" target-$v b-$v.so b-$v.hpk --name fix-b --func compute \
		--proxy __hp_proxy.factor=factor
	if [[ $v == preload ]]; then
		start_target target-$v "$st" LD_PRELOAD="$HP_RUNTIME_LIB"
	else
		start_target target-$v "$st"
	fi
	expect_state "$st" "3 2"
	"$HP_CLI" apply "$pid" a-$v.hpk
	expect_state "$st" "1003 6"
	"$HP_CLI" list "$pid" | grep -q fix-a || fail "list does not show fix-a"
	"$HP_CLI" apply "$pid" b-$v.hpk           # stacks on compute
	expect_state "$st" "2003 6"
	"$HP_CLI" revert "$pid" fix-b             # the older layer again
	expect_state "$st" "1003 6"
	"$HP_CLI" apply "$pid" b-$v.hpk
	expect_state "$st" "2003 6"
	"$HP_CLI" revert "$pid" fix-a             # not the newest: only helper reverts
	expect_state "$st" "2003 2"
	"$HP_CLI" --json status "$pid" | grep -q '"name":"fix-b"' || fail "status --json"
	"$HP_CLI" revert "$pid"                   # most recent = fix-b
	expect_state "$st" "3 2"
	"$HP_CLI" list "$pid" | grep -q "no patches applied" || fail "list after revert"
	# rehearse says what it leaves: nothing, or the patches from before
	"$HP_CLI" rehearse "$pid" a-$v.hpk 3 | grep -q "process $pid is unpatched" ||
		fail "rehearse on an unpatched process"
	"$HP_CLI" apply "$pid" b-$v.hpk >/dev/null
	out=$("$HP_CLI" rehearse "$pid" a-$v.hpk 3)
	[[ $out == *"still has 1 patch applied from before"* ]] ||
		fail "rehearse on top of a patch said: $out"
	expect_state "$st" "2003 2"
	"$HP_CLI" revert "$pid" >/dev/null
	expect_state "$st" "3 2"
	for i in 1 2 3 4 5; do                    # flip repeatedly under load
		"$HP_CLI" apply "$pid" a-$v.hpk >/dev/null
		expect_state "$st" "1003 6"
		"$HP_CLI" revert "$pid" >/dev/null
		expect_state "$st" "3 2"
	done
	alive "$pid"
	kill -9 "$pid"
}

# What the compiler actually emits at the entry: the runtime accepts both.
"$HP_CLANG" -O2 -fpatchable-function-entry=10,8 -falign-functions=16 -c "$HP_DATA/target.c" -o probe.o
note "entry bytes: $(objdump -d probe.o | grep -A1 '<compute>:' | tail -1 | cut -f2)"

run_variant plain
run_variant cet -fcf-protection=full
run_variant preload
echo PASS
