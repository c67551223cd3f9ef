# ACTION2: the callee is not specialised for its callers, so v1 -> v2 (a
# caller now passes ACTION2) changes the caller only, and act() still has
# the ACTION2 case that patched callers will reach.
. "$(dirname "$0")/lib.sh"
src="$HP_INPUTS/action2.c"

"$HP_GCC" -O2 -S "$src" -o plain.s
grep -q 'do2' plain.s || echo "note: plain gcc kept case ACTION2"
hpcc -O2 -S "$src" -o v1.s
grep -q 'do2' v1.s || fail "act lost case ACTION2 in the plugin build"

hpcc -O2 -fPIC -shared "$src" -o v1.so
hpcc -O2 -fPIC -shared -DV2 "$src" -o v2.so
[ "$(changed v1.so v2.so)" = "handle " ] || fail "changed '$(changed v1.so v2.so)', expected handle"
has_item "$(field v1.so act calls)" do2 || fail "act does not call do2"
has_item "$(field v2.so handle calls)" act || fail "handle does not call act"
echo "action2: ok"
