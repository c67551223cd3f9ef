# The .hotpatch record reaches the linked binary, survives --gc-sections
# and strip --strip-debug, and records the compile command.
. "$(dirname "$0")/lib.sh"
src="$HP_INPUTS/entries.c"

hpcc -O2 -ffunction-sections -fdata-sections -Wl,--gc-sections "$src" -o gc
"$HP_CHECK" entries gc >log || { cat log; fail "--gc-sections"; }
readelf -SW gc | grep -q ' \.hotpatch .*PROGBITS' || fail "no .hotpatch after --gc-sections"
readelf -SW gc | awk '$2 == ".hotpatch"' | grep -q ' A ' && fail ".hotpatch is allocated"

strip --strip-debug -o stripped gc
"$HP_CHECK" entries stripped >log || { cat log; fail "strip --strip-debug"; }
strip --strip-all -o bare gc
readelf -SW bare | grep -q "\.hotpatch" || echo "note: strip --strip-all removed .hotpatch"

# two TUs compiled separately, then linked: two records, each with its
# own command; -o of the object recorded as the output
cp "$src" one.c
printf 'int two(int x) { return x + 2; }\n' >two.c
hpcc -O1 -g -c one.c -o one.o
hpcc -O2 -DTWO -c two.c -o two.o
"$HP_CC" one.o two.o -o linked
"$HP_CHECK" dump linked >dump
[ "$(grep -c '^tu ' dump)" = 2 ] || fail "expected 2 records"
grep -q "^tu source=one.c cwd=$HP_WORK output=one.o " dump || fail "one.c record"
grep -q "^tu source=two.c cwd=$HP_WORK output=two.o " dump || fail "two.c record"
grep -q '^argv -DTWO$' dump || fail "argv of two.c"
"$HP_CHECK" entries linked >log || { cat log; fail "linked objects"; }

# mkpatch re-runs the recorded command with -fPIC and a new -o
argv=$(awk '/^tu source=two.c/ { on = 1; next } /^tu / { on = 0 } on && /^argv / { print substr($0, 6) }' dump)
set -- $argv
cmd=""
while [ $# -gt 0 ]; do
	case "$1" in -o) shift ;; *) cmd="$cmd $1" ;; esac
	shift
done
$cmd -fPIC -o rerun.o
[ -s rerun.o ] || fail "re-running the recorded command wrote nothing"
readelf -SW rerun.o | grep -q '\.hotpatch' || fail "re-run lacks .hotpatch"

# with cc1 as a child process the driver's command is still recorded
hpcc -fno-integrated-cc1 -O2 -c two.c -o spawned.o
"$HP_CC" -shared spawned.o -o spawned.so
"$HP_CHECK" dump spawned.so | grep -q '^argv -cc1$' && fail "cc1 argv recorded"
"$HP_CHECK" dump spawned.so | grep -q '^argv -fno-integrated-cc1$' || fail "driver argv not recorded"

# flags: PIC for -fPIC/-fPIE, CF_PROTECTION for -fcf-protection=branch
hpcc -O2 -fno-pic -fcf-protection=branch -c two.c -o cet.o
"$HP_CC" -no-pie cet.o one.o -o cet 2>/dev/null || "$HP_CC" -no-pie cet.o -shared -o cet
"$HP_CHECK" dump cet | grep '^tu source=two.c' | grep -q 'flags=0x4 ' || fail "TU flags for -fno-pic -fcf-protection"
echo "metadata: ok"
