# GCC only (registered for gcc alone): GCC splits an unlikely branch into
# foo.cold; the cold part is recorded as a clone of foo, not patchable.
# (LLVM does no such splitting of entries.c's split_fn at -O2.)
. "$(dirname "$0")/lib.sh"
cp "$HP_INPUTS/entries.c" .
hpcc -O2 -g entries.c -o prog
"$HP_CHECK" entries prog >log || { cat log; fail "entries"; }
nm prog | grep -q ' split_fn\.cold$' || fail "gcc made no split_fn.cold (test input too weak)"
dump prog >d
# CLONE | FRAGMENT: replaced together with its origin
grep -Eq '^func split_fn\.cold .*flags=0x90 .*origin=split_fn ' d || fail "split_fn.cold"
grep -q '^func split_fn\.cold .*reason="cold part of its origin"' d || fail "split_fn.cold reason"
[ "$(field prog split_fn.cold hash)" = "$(field prog split_fn hash)" ] || fail "split_fn.cold hash differs from split_fn"
grep -q '^note split_fn.cold: not patchable' log || fail "checker did not see split_fn.cold"
echo "cold: ok"
