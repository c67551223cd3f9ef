# Patch mode (HOTPATCH_PATCH_SPEC): dropped bodies and definitions gone,
# slots present in hotpatch_proxy, no relocation names an old symbol, the
# record is a patch-mode record with PROXY variables, and kept bodies are
# NEW's bodies (same hash as in base mode).
. "$(dirname "$0")/lib.sh"
src="$HP_INPUTS/patch.c"

# A static local is named as recorded (GCC: calls.N, Clang: fixed.calls)
hpcc -O2 -fPIC -c "$src" -o base.o
calls=$(dump base.o | awk '$1 == "var" && / owner=fixed / && / source=calls$/ { print $2 }')
[ -n "$calls" ] || fail "static local calls not recorded in base mode"
if is clang; then
	[ "$calls" = fixed.calls ] || fail "static local named '$calls', not fixed.calls"
fi
cat >patch.spec <<SPEC
# fixed, get, pick, fail_fast and user changed; the rest is in the old image
keep fixed
old-func fixed
keep get
keep pick
keep fail_fast
keep user
old-func helper
old-func unchanged
old-func die
old-var counter
old-var hist
old-var tbl
old-var elsewhere
old-var $calls
SPEC
export HOTPATCH_PATCH_SPEC="$PWD/patch.spec"

for opt in -O0 -O2; do
	for out in patch.o patch.so; do
		case $out in *.so) link=-shared ;; *) link=-c ;; esac
		hpcc $opt -g -fPIC $link "$src" -o $out 2>err || { cat err; fail "compile $out $opt"; }
		"$HP_CHECK" patch $out >log || { cat log; fail "$out $opt"; }
		for f in fixed get pick fail_fast user newfn msg; do
			grep -q "^kept $f\$" log || fail "$f not kept ($out $opt)"
		done
		for f in helper unchanged die; do
			grep -q "^kept $f\$" log && fail "$f kept ($out $opt)"
		done
		proxies="counter hist tbl elsewhere $calls unchanged die"
		[ $opt = -O0 ] && proxies="$proxies helper fixed" # inlined at -O2
		for p in $proxies; do
			grep -q "^proxy $p\$" log || { cat log; fail "no proxy for $p ($out $opt)"; }
		done
		flags=$(tu_flags $out)
		[ $(( flags & 3 )) = 3 ] || fail "PATCH_MODE|PIC not set ($flags, $out $opt)"
		# no definition of an old variable, no body of a dropped function
		for s in counter hist tbl $calls helper unchanged die; do
			if nm $out | grep -q " [A-Za-z] $s\$"; then fail "$s defined in $out ($opt)"; fi
		done
	done
	# the kept bodies are NEW's: same hashes as in a base build
	unset HOTPATCH_PATCH_SPEC
	hpcc $opt -g -fPIC -c "$src" -o newbase.o
	export HOTPATCH_PATCH_SPEC="$PWD/patch.spec"
	hpcc $opt -g -fPIC -c "$src" -o patch.o
	# (GCC hashes a kept body before the rewrite, so all match; Clang
	# rewrites at OptimizerLastEP before it hashes, so only the bodies that
	# use no old symbol keep their base-mode hash there)
	if is clang; then same="newfn msg"; else same="fixed get pick fail_fast user newfn msg"; fi
	for f in $same; do
		[ "$(field newbase.o $f hash)" = "$(field patch.o $f hash)" ] ||
			fail "hash of kept $f differs from its base-mode hash ($opt)"
	done
done

# every input with everything old (each function kept and old, each
# variable old): the rewrite meets every kind of use, at every -O
for n in action2 entries flags hash inline patch prog; do
	in="$HP_INPUTS/$n.c"
	unset HOTPATCH_PATCH_SPEC
	hpcc -O2 -fPIC -c "$in" -o $n.base.o
	dump $n.base.o | awk '$1 == "func" { print "keep " $2; print "old-func " $2 }
			      $1 == "var" { print "old-var " $2 }' >$n.spec
	for opt in -O0 -O1 -O3 -Os; do
		HOTPATCH_PATCH_SPEC=$PWD/$n.spec hpcc $opt -g -fPIC -c "$in" -o $n.o 2>err ||
			{ cat err; fail "all-old $n $opt: compile"; }
		grep -q 'internal compiler error' err && fail "all-old $n $opt: ICE"
		"$HP_CHECK" patch $n.o >log || { cat log; fail "all-old $n $opt"; }
	done
done
export HOTPATCH_PATCH_SPEC="$PWD/patch.spec"

# a reference from a global initialiser cannot be a load: error
printf 'int old(int x) { return x; }\nint (*table[])(int) = { old };\n' >init.c
printf 'old-func old\n' >init.spec
if HOTPATCH_PATCH_SPEC=$PWD/init.spec hpcc -fPIC -c init.c -o init.o 2>err; then
	fail "proxy in a global initialiser accepted"
fi
grep -q 'internal compiler error' err && fail "initialiser: ICE"
grep -q "$HP_PLUGIN_NAME: .table. refers to .old. in a global initialiser" err || { cat err; fail "initialiser message"; }

# an old thread-local variable cannot go through a slot
printf '__thread int tv;\nint f(void) { return tv; }\n' >tls.c
printf 'keep f\nold-var tv\n' >tls.spec
if HOTPATCH_PATCH_SPEC=$PWD/tls.spec hpcc -fPIC -c tls.c -o tls.o 2>err; then
	fail "thread-local old variable accepted"
fi
grep -q "$HP_PLUGIN_NAME: .*thread-local.*tv" err || { cat err; fail "tls message"; }

# a spec that cannot be read or parsed: error naming the plugin and the file
if HOTPATCH_PATCH_SPEC=$PWD/missing.spec hpcc -fPIC -c init.c -o x.o 2>err; then fail "missing spec"; fi
grep -q "$HP_PLUGIN_NAME: .*missing.spec" err || { cat err; fail "missing spec message"; }
printf 'keep\n' >bad.spec
if HOTPATCH_PATCH_SPEC=$PWD/bad.spec hpcc -fPIC -c init.c -o x.o 2>err; then fail "bad spec"; fi
grep -q "$HP_PLUGIN_NAME: .*bad.spec:1:" err || { cat err; fail "bad spec message"; }
# a misspelt variable is an error, not a silent base build
if HOTPATCH_PATCH_SPECS=x hpcc -fPIC -c init.c -o x.o 2>err; then fail "misspelt variable"; fi
grep -q "$HP_PLUGIN_NAME: unknown option .HOTPATCH_PATCH_SPECS." err || { cat err; fail "misspelt message"; }

# without the variable: base mode
unset HOTPATCH_PATCH_SPEC
hpcc -O2 -fPIC -shared "$src" -o base.so
[ "$(tu_flags base.so)" = 0x2 ] || fail "base build: TU flags $(tu_flags base.so), expected PIC only"
echo "patch: ok"
