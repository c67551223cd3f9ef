# GCC only (registered for gcc alone): what the plugin keeps from one
# callback to a later one survives GCC's garbage collector. With
# --param ggc-min-expand=0 --param ggc-min-heapsize=0 GCC collects after
# nearly every pass, so whatever the plugin still points to that GCC no
# longer refers to is freed and soon reused (hp_gcc.h, "Garbage
# collection"). Each input is compiled with and without the params, in base
# and in patch mode: no ICE, the checker accepts the result, and the
# records are the same. Before the plugin kept copies, gc.c made GCC stop
# with an ICE (which -O level depends on where the freed memory went).
# (Clang has no collector of this kind.)
. "$(dirname "$0")/lib.sh"
samples="$(cd "$(dirname "$0")/../../samples/engine" && pwd)"
gc="--param ggc-min-expand=0 --param ggc-min-heapsize=0"

# the records without the compile command, which differs by the params
records() { dump "$1" | grep -v -e '^tu ' -e '^argv '; }

# cc SPEC ARGS: compile, in patch mode if SPEC is not empty
cc() {
	spec=$1
	shift
	if [ -n "$spec" ]; then HOTPATCH_PATCH_SPEC=$spec "$HP_CC" "$HP_PLUGIN_FLAG" "$@"; else hpcc "$@"; fi
}

# build NAME OPT SRC [SPEC]: compile SRC (in patch mode with SPEC) both ways
# to NAME.o and NAME.gc.o, check both, compare their records
build() {
	spec=${4:-}
	check=entries
	[ -n "$spec" ] && check=patch
	rm -f $1.o $1.gc.o
	cc "$spec" -std=gnu2x $2 -fPIC -c "$3" -o $1.o 2>err || { cat err; fail "$1 $2: compile"; }
	cc "$spec" -std=gnu2x $2 -fPIC $gc -c "$3" -o $1.gc.o 2>err ||
		{ cat err; fail "$1 $2 with $gc: compile"; }
	for o in $1.o $1.gc.o; do
		"$HP_CHECK" $check $o >log || { cat log; fail "$o $2: $HP_CHECK $check"; }
	done
	records $1.o >$1.r
	records $1.gc.o >$1.gc.r
	diff $1.r $1.gc.r >log || { cat log; fail "$1 $2: records differ with $gc"; }
}

# spec_all_old OBJ: every function kept and old, every variable old
spec_all_old() {
	dump "$1" | awk '$1 == "func" { print "keep " $2; print "old-func " $2 }
			 $1 == "var" { print "old-var " $2 }'
}

# The input really has what was freed before the fix: the nested function
# inlined into outer() with small() inlined into it first.
hpcc -O1 -c "$HP_INPUTS/gc.c" -o probe.o
has_item "$(field probe.o outer inlined)" inner.0 && has_item "$(field probe.o outer inlined)" small ||
	fail "outer() does not inline inner.0 and small (test input too weak): $(field probe.o outer inlined)"

for opt in -O1 -O2 -O3 -Os; do
	build gc$opt $opt "$HP_INPUTS/gc.c"
	spec_all_old gc$opt.o >gc$opt.spec
	build gc$opt.patch $opt "$HP_INPUTS/gc.c" $PWD/gc$opt.spec
done

for n in action2 entries hash inline inline_partial lines patch prog; do
	build $n -O2 "$HP_INPUTS/$n.c"
done
spec_all_old patch.o >patch.spec
build patch.patch -O2 "$HP_INPUTS/patch.c" $PWD/patch.spec

# the sample engine: real code, base mode (patch mode there would double
# the slowest part of the test)
for f in "$samples"/*.c; do
	build engine.$(basename "$f" .c) -O2 "$f"
done
echo "gc: ok"
