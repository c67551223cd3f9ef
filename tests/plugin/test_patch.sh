# Patch mode: dropped bodies gone, slots present, every reference to an
# old symbol goes through its slot.
. "$(dirname "$0")/lib.sh"
src="$HP_INPUTS/patch.c"
export HOTPATCH_PATCH_SPEC="$HP_INPUTS/patch.spec"

for opt in -O0 -O2; do
	hpcc $opt -fPIC -c "$src" -o patch.o
	"$HP_CHECK" patch patch.o >log || { cat log; fail "object $opt"; }
	hpcc $opt -fPIC -shared "$src" -o patch.so
	"$HP_CHECK" patch patch.so >log || { cat log; fail "shared object $opt"; }
	for f in fixed get user newfn msg; do
		grep -q "^kept $f\$" log || fail "$f not kept ($opt)"
	done
	for f in helper unchanged; do
		grep -q "^kept $f\$" log && fail "$f kept ($opt)"
	done
	proxies="counter hist fixed.calls unchanged"
	[ $opt = -O0 ] && proxies="$proxies helper fixed" # inlined at -O2
	for p in $proxies; do
		grep -q "^proxy $p\$" log || fail "no proxy for $p ($opt)"
	done
	"$HP_CHECK" dump patch.so | grep -q '^tu .*flags=0x3 ' || fail "PATCH_MODE|PIC not set"
done

# an old function in a global initialiser cannot be a load: error
printf 'int old(int x) { return x; }\nint (*table[])(int) = { old };\n' >init.c
printf 'old-func old\n' >init.spec
if HOTPATCH_PATCH_SPEC=$PWD/init.spec hpcc -fPIC -c init.c -o init.o 2>err; then
	fail "proxy in a global initialiser accepted"
fi
grep -q "hotpatch-llvm.so: 'table' refers to 'old' in a global initialiser" err || { cat err; fail "message"; }

# without the variable: base mode
unset HOTPATCH_PATCH_SPEC
hpcc -O2 -fPIC -shared "$src" -o base.so
"$HP_CHECK" dump base.so | grep -q '^tu .*flags=0x2 ' || fail "base mode record"
echo "patch: ok"
