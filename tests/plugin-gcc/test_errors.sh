# Bad input is a compiler error naming the plugin, never an ICE.
. "$(dirname "$0")/lib.sh"
echo 'int f(int x) { return x; }' >t.c

expect_error() {
	what=$1
	shift
	if hpcc "$@" -c t.c -o t.o 2>err; then
		fail "$what: compiled"
	fi
	grep -q 'internal compiler error' err && fail "$what: ICE"
	grep -q "$HP_ERR" err || { cat err; fail "$what: message does not name the plugin"; }
	:
}

HP_ERR=hotpatch
expect_error "unknown key" -fplugin-arg-hotpatch-gcc-nosuchkey
expect_error "unknown key (short name)" -fplugin-arg-hotpatch-nosuchkey=1
HP_ERR=hotpatch-gcc
expect_error "-m32" -m32
expect_error "-mx32" -mx32
expect_error "-flto" -flto
expect_error "-fpatchable-function-entry" -fpatchable-function-entry=4,2
# patch mode with a spec that cannot be read: refused, never a silent base build
HOTPATCH_PATCH_SPEC=/nonexistent.spec expect_error "patch mode"
# a file that is not a plugin for this GCC
echo 'int x;' >fake.c
"$HP_GCC" -shared -fPIC fake.c -o fake.so
if "$HP_GCC" -fplugin=./fake.so -c t.c -o t.o 2>err; then fail "fake plugin loaded"; fi
grep -q 'internal compiler error' err && fail "fake plugin: ICE"
# and good input still compiles
hpcc -O2 -c t.c -o t.o || fail "plain compile"
echo "errors: ok"
