# The TU record: identity, compile command, functions with their symbol
# addresses, variables with init hashes, static locals, clones.
. "$(dirname "$0")/lib.sh"
cp "$HP_INPUTS/entries.c" "$HP_INPUTS/hash.c" .

hpcc -O2 -g -c entries.c -o entries.o
hpcc -O2 -DK=9 -c hash.c -o hash.o
"$HP_GCC" entries.o hash.o -o prog
"$HP_GCC_CHECK" entries prog >log || { cat log; fail "entries"; }
dump prog >d

[ "$(grep -c '^tu ' d)" = 2 ] || fail "expected 2 TU records"
grep -q "^tu source=entries.c cwd=$PWD output=entries.o flags=0x2 compiler=gcc 12" d ||
	fail "tu line: $(grep '^tu source=entries.c' d)"
grep -q '^tu source=hash.c .*plugin=hotpatch ' d || fail "hash.c record"
# the compile command: driver, options as given, the source last
awk '/^tu source=hash.c/ { on = 1; next } /^tu / { on = 0 } on && /^argv / { print $2 }' d >argv
[ "$(head -1 argv)" = "$HP_GCC" ] || fail "argv[0] is not the driver: $(head -1 argv)"
[ "$(tail -1 argv)" = hash.c ] || fail "last argv is not the source"
# (the driver hands -DK=9 on as "-D" "K=9")
grep -qx -- K=9 argv && grep -qx -- -O2 argv && grep -qx -- "-fplugin=$HP_GCC_PLUGIN" argv ||
	fail "options missing from argv"
# ... and it rebuilds the same object
set -- $(cat argv)
"$@" -o again.o 2>/dev/null || "$@"
# static local: name, owner, source name
grep -Eq '^var calls\.[0-9]+ size=4 init=0+ flags=0x10 .* owner=count source=calls$' d ||
	fail "static local calls"
grep -Eq '^var g_state size=4 init=[0-9a-f]+ flags=0x1 ' d || fail "g_state"
grep -q '^var g_state size=4 init=0000000000000000' d && fail "g_state init hash is 0"
grep -Eq '^var counter size=4 init=0+ flags=0x0 ' d || fail "counter (zero-filled static)"
# the cold part of split_fn, recorded as its clone
nm prog | grep -q ' split_fn\.cold$' || fail "gcc made no split_fn.cold (test input too weak)"
grep -Eq '^func split_fn\.cold .*flags=0x10 .*origin=split_fn ' d || fail "split_fn.cold"
# what count() references
has_item "$(field prog count vars)" counter || fail "count does not list counter"
# every function defined in the two TUs is recorded
for f in st ext just_ret var loop rec by_ptr split_fn naked_fn table main caller1 caller2 solo uses_solo msg scale count other; do
	grep -q "^func $f " d || fail "$f not recorded"
done
# metadata is not loaded at run time
readelf -S prog | grep -A1 ' \.hotpatch ' | grep -q ' A ' && fail ".hotpatch is allocated"
# GCC's own table of patch areas is not emitted (it would cost a
# relocation per function)
readelf -S prog | grep -q __patchable_function_entries && fail "__patchable_function_entries present"
echo "metadata: ok"
