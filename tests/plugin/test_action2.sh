# ACTION2: with pinning the callee is not specialised for its callers, so
# v1 -> v2 (a caller now passes ACTION2) changes the caller only.
. "$(dirname "$0")/lib.sh"
src="$HP_INPUTS/action2_v1.c"

# plain clang deletes the ACTION2 case: the trap is real
"$HP_CC" -O2 -S -emit-llvm "$src" -o plain.ll
grep -q 'call.*@do2' plain.ll && echo "note: plain clang kept case ACTION2"

hpcc -O2 -S -emit-llvm "$src" -o v1.ll
grep -q 'call.*@do2' v1.ll || fail "act lost case ACTION2 in the plugin build"

hpcc -O2 -fPIC -shared "$src" -o v1.so
hpcc -O2 -fPIC -shared -DV2 "$src" -o v2.so
hashes v1.so >v1.h
hashes v2.so >v2.h
changed=$(join v1.h v2.h | awk '$2 != $3 { print $1 }' | tr '\n' ' ')
[ "$changed" = "handle " ] || fail "changed '$changed', expected only handle"
has_item "$(func_field v1.so act calls)" do2 || fail "act does not call do2"
has_item "$(func_field v2.so handle calls)" act || fail "handle does not call act"
echo "action2: ok"
