#!/usr/bin/env bash
# A small program and its fix (-DFIXED) patched live: build both with the
# plugin at one optimisation level, mkpatch (exit 0, and --explain must
# match EXPLAIN), start the old build with the runtime, and watch its
# never-returning loop print BEFORE, then AFTER once the patch is applied,
# then BEFORE again after revert. The program prints one line per round,
# "R ROUND TEXT"; BEFORE and AFTER are the expected TEXT. SYMBOLS (optional)
# are symbols the old build must have, so that a test of compiler-made parts
# fails when the compiler stops making them.
#
# Usage: live-fix.sh ROOT WORK CC PLUGIN RUNTIME CLI MKPATCH OPT SRC EXPLAIN BEFORE AFTER [SYMBOLS]
set -euo pipefail
root=$1 work=$2 cc=$3 plugin=$4 runtime=$5 cli=$6 mkpatch=$7 opt=$8 src=$9
explain=${10} before=${11} after=${12} symbols=${13:-}
. "$root/scripts/lib/hpkv.sh"

hpkv_test_begin
flag=$(hpkv_plugin_flag)
name=$(basename "$src")
cp "$src" "$work/$name"
cd "$work"
for v in v1 v2; do
	defs=()
	[[ $v == v2 ]] && defs=(-DFIXED)
	"$cc" "$opt" -g "$flag" "${defs[@]}" -c "$name" -o "$v.o" || fail "compiling $v failed"
	"$cc" "$v.o" -o "$v" || fail "linking $v failed"
done
for sym in $symbols; do
	nm v1 | awk '{ print $NF }' | grep -qx -- "$sym" || fail "$cc $opt made no '$sym' (test input too weak)"
done
"$mkpatch" --explain v1 v2 -o fix.hpk >explain.txt 2>mkpatch.err ||
	{ cat explain.txt mkpatch.err; fail "mkpatch exited $?"; }
cat explain.txt
grep -Eq -- "$explain" explain.txt || fail "--explain does not match '$explain'"

: >out.txt # before the program starts: its redirection happens in the child
LD_PRELOAD=$runtime ./v1 >>out.txt 2>program.log &
engine_pid=$!
# expect WHAT TEXT: hpkv_expect_round
expect() { hpkv_expect_round "$opt $1" "$2"; }
expect "before apply" "$before"
"$cli" apply "$engine_pid" fix.hpk || fail "apply failed"
expect "after apply" "$after"
"$cli" revert "$engine_pid" || fail "revert failed"
expect "after revert" "$before"
kill -TERM "$engine_pid"
wait "$engine_pid" 2>/dev/null || true
engine_pid=
echo "PASS: $opt $name: '$before' -> '$after' -> '$before' live"
