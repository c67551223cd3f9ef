# ACTION2: the callee is not specialised for its callers, so v1 -> v2 (a
# caller now passes ACTION2) changes the caller only, and act() still has
# the ACTION2 case that patched callers will reach.
. "$(dirname "$0")/lib.sh"
src="$HP_INPUTS/action2.c"

# the call of do2 (or a tail jump to it) in the code: do2 is only declared
calls_do2() { grep -Eq '(call|j[a-z]+)[[:space:]]+do2(@PLT)?([[:space:]]|$)' "$1"; }

# plain compiler -O2 deletes the ACTION2 case: the trap is real
"$HP_CC" -O2 -S "$src" -o plain.s
calls_do2 plain.s && echo "note: plain $HP_COMPILER kept case ACTION2"
hpcc -O2 -S "$src" -o v1.s
calls_do2 v1.s || fail "act lost case ACTION2 in the plugin build"
if is clang; then # the same in the IR
	hpcc -O2 -S -emit-llvm "$src" -o v1.ll
	grep -q 'call.*@do2' v1.ll || fail "act lost case ACTION2 in the plugin's IR"
fi

hpcc -O2 -fPIC -shared "$src" -o v1.so
hpcc -O2 -fPIC -shared -DV2 "$src" -o v2.so
[ "$(changed v1.so v2.so)" = "handle " ] || fail "changed '$(changed v1.so v2.so)', expected only handle"
has_item "$(field v1.so act calls)" do2 || fail "act does not call do2"
has_item "$(field v2.so handle calls)" act || fail "handle does not call act"
echo "action2: ok"
