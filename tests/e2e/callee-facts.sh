#!/usr/bin/env bash
# Callers depend on their callees by name and signature only: build
# tests/e2e/inputs/callee_facts.c and its fix (-DFIXED: every callee
# changes, no caller does) at one optimisation level, check that mkpatch
# replaces only the callees, start the old build with the runtime, and
# watch its two never-returning loops take up every fixed callee live:
# a folded constant and literal, calls the optimiser could have merged or
# hoisted as pure, and a callee it could have taken for noreturn. Then
# revert and see the old behaviour back.
#
# Usage: callee-facts.sh ROOT WORK CC PLUGIN RUNTIME CLI MKPATCH OPT
set -euo pipefail
root=$1 work=$2 cc=$3 plugin=$4 runtime=$5 cli=$6 mkpatch=$7 opt=$8
. "$root/scripts/lib/hpkv.sh"

hpkv_test_begin
src=$root/tests/e2e/inputs/callee_facts.c
flag=$(hpkv_plugin_flag)
# Same source path in both builds: v2 differs only by -DFIXED.
cp "$src" "$work/callee_facts.c"
cd "$work"
for v in v1 v2; do
	defs=()
	[[ $v == v2 ]] && defs=(-DFIXED)
	"$cc" "$opt" -g -pthread "$flag" "${defs[@]}" -c callee_facts.c -o "$v.o" ||
		fail "compiling $v at $opt failed"
	"$cc" -pthread "$v.o" -o "$v" || fail "linking $v failed"
done

"$mkpatch" --explain v1 v2 -o fix.hpk >explain.txt 2>mkpatch.err ||
	{ cat explain.txt mkpatch.err; fail "mkpatch exited $?"; }
cat explain.txt
replaced=$(awk '{ print $1 }' explain.txt | sort | tr '\n' ' ')
[[ $replaced == "answer refresh stop word " ]] ||
	fail "$opt: mkpatch replaces '$replaced'; expected only the four callees (a caller in the list depends on a callee's body)"

: >out.txt # before the program starts: its redirection happens in the child
LD_PRELOAD=$runtime ./v1 >>out.txt 2>engine.log &
engine_pid=$!

# last_line TAG: the newest complete line of that loop.
last_line() { grep "^$1 " out.txt | tail -n 1; }
# wait_rounds N: until each loop printed N lines after the current end of
# out.txt; the first line after a change may have been computed before it.
wait_rounds() {
	local want=$1 start m t _
	start=$(wc -l <out.txt)
	for _ in $(seq 400); do
		m=$(tail -n +$((start + 1)) out.txt | grep -c '^M ') || true
		t=$(tail -n +$((start + 1)) out.txt | grep -c '^T ') || true
		((m >= want && t >= want)) && return 0
		kill -0 "$engine_pid" 2>/dev/null || { cat engine.log; fail "the program died"; }
		sleep 0.05
	done
	fail "no fresh lines from both loops within 20 s"
}
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }
# effects_per_round: what one main-loop round adds to effects, from two
# consecutive lines of that loop printed after the current end of out.txt
effects_per_round() {
	wait_rounds 3
	grep '^M ' out.txt | tail -n 2 | awk '
		NR == 1 { r = $2; split($5, e, "="); a = e[2] }
		NR == 2 { split($5, e, "="); if ($2 != r + 1) exit 1; print e[2] - a }'
}
expect_loops() {
	local what=$1 answer=$2 word=$3 tag line
	for tag in M T; do
		line=$(last_line $tag)
		[[ $(field answer "$line") == "$answer" && $(field word "$line") == "$word" ]] ||
			fail "$opt $what: loop $tag printed '$line', expected answer=$answer word=$word"
	done
}

wait_rounds 2
expect_loops "before apply" 41 old
[[ $(effects_per_round) == 0 ]] || fail "$opt: effects before the fix"

"$cli" apply "$engine_pid" fix.hpk || fail "apply failed"
wait_rounds 2
expect_loops "after apply" 42 new
per=$(effects_per_round)
[[ $per == 4 ]] || fail "$opt after apply: one round of 4 refresh() calls added $per effects, expected 4 (calls merged or hoisted as pure)"
kill -USR1 "$engine_pid"
for _ in $(seq 400); do
	[[ $(field stops "$(last_line M)") == 1 ]] && break
	kill -0 "$engine_pid" 2>/dev/null || { cat engine.log; fail "$opt: stop() did not return to its caller: the process died"; }
	sleep 0.05
done
[[ $(field stops "$(last_line M)") == 1 ]] ||
	fail "$opt: the main loop did not go on after the fixed stop() returned"
wait_rounds 2

"$cli" revert "$engine_pid" || fail "revert failed"
wait_rounds 2
expect_loops "after revert" 41 old
[[ $(effects_per_round) == 0 ]] || fail "$opt: effects after revert"
kill -0 "$engine_pid" || fail "the program died"
kill -TERM "$engine_pid"
wait "$engine_pid" 2>/dev/null || true
engine_pid=
echo "PASS: $opt: constant, literal, pure and noreturn callees patched live in two running loops, then reverted"
