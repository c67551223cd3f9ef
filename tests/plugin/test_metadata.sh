# The TU record reaches the linked binary, survives --gc-sections and
# strip --strip-debug, is not loaded, and records: identity, the compile
# command (re-runnable), functions with their symbol addresses, variables
# with init hashes, static locals.
. "$(dirname "$0")/lib.sh"
cp "$HP_INPUTS/entries.c" "$HP_INPUTS/hash.c" .

# --gc-sections and strip
hpcc -O2 -ffunction-sections -fdata-sections -Wl,--gc-sections entries.c -o gc
"$HP_CHECK" entries gc >log || { cat log; fail "--gc-sections"; }
readelf -SW gc | grep -q ' \.hotpatch .*PROGBITS' || fail "no .hotpatch after --gc-sections"
readelf -SW gc | awk '$2 == ".hotpatch"' | grep -q ' A ' && fail ".hotpatch is allocated"
strip --strip-debug -o stripped gc
"$HP_CHECK" entries stripped >log || { cat log; fail "strip --strip-debug"; }
strip --strip-all -o bare gc
readelf -SW bare | grep -q "\.hotpatch" || echo "note: strip --strip-all removed .hotpatch"

# two TUs compiled separately, then linked: two records, each with its own
# command; -o of the object recorded as the output
hpcc -O2 -g -c entries.c -o entries.o
hpcc -O2 -DK=9 -c hash.c -o hash.o
"$HP_CC" entries.o hash.o -o prog
"$HP_CHECK" entries prog >log || { cat log; fail "linked objects"; }
dump prog >d
[ "$(grep -c '^tu ' d)" = 2 ] || fail "expected 2 TU records"
if is clang; then compiler="clang 19"; else compiler="gcc 12"; fi
# flags 0xa: PIC | PIE (both compilers build PIE by default here)
grep -q "^tu source=entries.c cwd=$PWD output=entries.o flags=0xa compiler=$compiler" d ||
	fail "tu line: $(grep '^tu source=entries.c' d)"
grep -q "^tu source=hash.c cwd=$PWD output=hash.o .*plugin=hotpatch " d || fail "hash.c record"

# the compile command: the driver first, the options as given. Clang
# records the command line as typed (-DK=9, ... -o hash.o); GCC rebuilds
# it from COLLECT_GCC_OPTIONS (-D K=9 split, the source moved last).
awk '/^tu source=hash.c/ { on = 1; next } /^tu / { on = 0 } on && /^argv / { print substr($0, 6) }' d >argv
[ "$(head -1 argv)" = "$HP_CC" ] || fail "argv[0] is not the driver: $(head -1 argv)"
if is clang; then define=-DK=9 last=hash.o; else define=K=9 last=hash.c; fi
[ "$(tail -1 argv)" = $last ] || fail "last argv is $(tail -1 argv), not $last"
grep -qx -- $define argv && grep -qx -- -O2 argv && grep -qx -- "$HP_PLUGIN_FLAG" argv &&
	grep -qx -- hash.c argv || fail "options missing from argv: $(tr '\n' ' ' <argv)"

# mkpatch re-runs the recorded command with -fPIC and a new -o
set -- $(cat argv)
cmd=""
while [ $# -gt 0 ]; do
	case "$1" in -o) shift ;; *) cmd="$cmd $1" ;; esac
	shift
done
$cmd -fPIC -o rerun.o
[ -s rerun.o ] || fail "re-running the recorded command wrote nothing"
readelf -SW rerun.o | grep -q '\.hotpatch' || fail "re-run lacks .hotpatch"
[ "$(dump rerun.o | grep '^func ' | cut -d' ' -f2,3)" = "$(dump hash.o | grep '^func ' | cut -d' ' -f2,3)" ] ||
	fail "re-run with -fPIC changed the functions or their hashes"

# variables: a static local with owner and source name, an initialised
# global, a zero-filled static
if is clang; then calls='count\.calls'; else calls='calls\.[0-9]+'; fi
grep -Eq "^var $calls size=4 init=0+ flags=0x10 .* owner=count source=calls\$" d ||
	fail "static local calls: $(grep 'source=calls' d)"
grep -Eq '^var g_state size=4 init=[0-9a-f]+ flags=0x1 ' d || fail "g_state"
grep -q '^var g_state size=4 init=0000000000000000' d && fail "g_state init hash is 0"
grep -Eq '^var counter size=4 init=0+ flags=0x0 ' d || fail "counter (zero-filled static)"
# what count() references
has_item "$(field prog count vars)" counter || fail "count does not list counter"
# every function defined in the two TUs is recorded, except the static
# helper(), inlined everywhere: neither compiler keeps a body for it
fns="st ext just_ret var loop rec by_ptr split_fn naked_fn table main caller1 caller2 solo uses_solo msg scale count other"
for f in $fns; do
	grep -q "^func $f " d || fail "$f not recorded"
done
grep -q "^func helper " d && fail "helper() recorded, though inlined everywhere"
# GCC's own table of patch areas is not emitted (a relocation per
# function); LLVM emits __patchable_function_entries, documented
if is gcc; then
	readelf -S prog | grep -q __patchable_function_entries && fail "__patchable_function_entries present"
fi

# TU flags: PIC for -fPIC/-fPIE, PIE for -fPIE only, CF_PROTECTION for
# -fcf-protection=branch
printf 'int two(int x) { return x + 2; }\n' >two.c
hpcc -O2 -fno-pic -fcf-protection=branch -c two.c -o cet.o
dump cet.o | grep '^tu source=two.c' | grep -q 'flags=0x4 ' || fail "TU flags for -fno-pic -fcf-protection"
hpcc -O2 -fPIC -c two.c -o pic.o
dump pic.o | grep '^tu source=two.c' | grep -q 'flags=0x2 ' || fail "TU flags for -fPIC"
hpcc -O2 -fPIE -c two.c -o pie.o
dump pie.o | grep '^tu source=two.c' | grep -q 'flags=0xa ' || fail "TU flags for -fPIE"
echo "metadata: ok"
