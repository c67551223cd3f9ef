#!/usr/bin/env bash
# Tables of addresses the compiler made itself (switch tables, initialised
# local arrays kept as constants) whose entries point into the old image:
# build tests/e2e/inputs/compiler_tables.c and its fix (-DFIXED), check
# that mkpatch writes the package and replaces only the changed functions
# (the unchanged ones in the same file keep their tables in the old image),
# start the old build with the runtime, and see the fixed functions read
# the new tables (entries filled at apply time) while the unchanged ones
# still answer as before; revert and see the old answers back. A table the
# source names (-DUSER_TABLE) must be refused: exit 3, naming it.
#
# Usage: compiler-tables.sh ROOT WORK CC PLUGIN RUNTIME CLI MKPATCH OPT
set -euo pipefail
root=$1 work=$2 cc=$3 plugin=$4 runtime=$5 cli=$6 mkpatch=$7 opt=$8
. "$root/scripts/lib/hpkv.sh"

hpkv_test_begin
flag=$(hpkv_plugin_flag)
# Same source path in every build: the versions differ only by -D.
cp "$root/tests/e2e/inputs/compiler_tables.c" "$work/compiler_tables.c"
cd "$work"
build() { # NAME DEFINES...
	local name=$1
	shift
	"$cc" "$opt" -g "$flag" "$@" -c compiler_tables.c -o "$name.o" ||
		fail "compiling $name at $opt failed"
	"$cc" "$name.o" -o "$name" || fail "linking $name failed"
}
build v1
build v2 -DFIXED
build v3 -DFIXED -DUSER_TABLE

# a table the source names is refused, naming it, from the plugin's
# recompilation: exit 3, one line, no package
status=0
"$mkpatch" v1 v3 -o user.hpk >user.out 2>user.err || status=$?
cat user.err
((status == 3)) || fail "$opt: mkpatch on a user table exited $status, expected 3 (refused)"
grep -q "^mkpatch: refused: 'user_ops' (compiler_tables.c) refers to 'op_[a-z]*' in a global initialiser" user.err ||
	fail "$opt: the refusal does not name user_ops and its file on one line"
! grep -q "Unknown error\|recompiling .* failed" user.err || fail "$opt: a refusal reported as an error"
[[ ! -e user.hpk ]] || fail "$opt: a refused change still wrote a package"

"$mkpatch" --explain v1 v2 -o fix.hpk >explain.txt 2>mkpatch.err ||
	{ cat explain.txt mkpatch.err; fail "mkpatch exited $?"; }
cat explain.txt
replaced=$(awk '{ print $1 }' explain.txt | sort | tr '\n' ' ')
[[ $replaced == "calc describe field_of pick_of " ]] ||
	fail "$opt: mkpatch replaces '$replaced'; expected calc describe field_of pick_of"

coproc PROG { LD_PRELOAD=$runtime exec ./v1 2>engine.log; }
engine_pid=$PROG_PID
# ask LINE: one command, one answer (10 s at most)
ask() {
	local reply
	printf '%s\n' "$1" >&"${PROG[1]}"
	IFS= read -r -t 10 reply <&"${PROG[0]}" || { cat engine.log; fail "$opt: no answer to '$1'"; }
	printf '%s\n' "$reply"
}
# expect WHAT "CMD=ANSWER"...
expect() {
	local what=$1 pair got
	shift
	for pair in "$@"; do
		got=$(ask "${pair%=*}")
		[[ $got == "${pair##*=}" ]] ||
			fail "$opt $what: '${pair%=*}' answered '$got', expected '${pair##*=}'"
	done
}
# unchanged functions whose tables stay in the old image
same=("r 0=20" "r 4=-1" "o 1 6 2=4" "o 3 6 2=2" "f 9=-1")
old=("f 2=30" "f 4=50" "p 0=50" "p 5=-1" "c 3 6 2=2" "c 2 6 2=12" "d=old")
new=("f 2=40" "f 4=50" "p 0=10" "p 5=-1" "c 3 6 2=12" "c 2 6 2=12" "d=fixed")

expect "before apply" "${old[@]}" "${same[@]}"
"$cli" apply "$engine_pid" fix.hpk || fail "apply failed"
expect "after apply" "${new[@]}" "${same[@]}"
"$cli" revert "$engine_pid" || fail "revert failed"
expect "after revert" "${old[@]}" "${same[@]}"
"$cli" apply "$engine_pid" fix.hpk || fail "second apply failed"
expect "after the second apply" "${new[@]}" "${same[@]}"

exec {PROG[1]}>&-
wait "$engine_pid" || fail "$opt: the program did not exit cleanly"
engine_pid=
echo "PASS: $opt: compiler-made tables into the old image patched live (in P and not), then reverted; a named table refused"
