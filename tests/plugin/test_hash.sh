# The hash is of the optimised body: moved lines, comments, formatting,
# -g and unrelated code change none; one changed constant, string literal
# or callee changes exactly the function using it and its inliners.
. "$(dirname "$0")/lib.sh"

build() { hpcc -O2 -fPIC -shared "$@"; }

# --- hash_a.c ---------------------------------------------------------------
a="$HP_INPUTS/hash_a.c"
build "$a" -o a.so
build -g "$a" -o a_g.so

# b: a comment above every function, formatting changed, and an unrelated
# function with its own string literal first (shifts the .str numbering).
{
	echo '#include <stdio.h>'
	echo 'const char *newfn(void) { return "new literal"; }'
	sed -e 's/^#include.*//' -e 's/^\(static\|int\|const\)/\n\/* moved *\/\n\n\1/' "$a" |
		grep -v __LINE__
	echo; echo
	grep __LINE__ "$a"
} >b.c
build b.c -o b.so

hashes a.so >a.h
hashes a_g.so >a_g.h
hashes b.so | grep -v '^newfn ' >b.h
cmp -s a.h a_g.h || { diff a.h a_g.h; fail "-g changes hashes"; }
# line() returns __LINE__, which moved: only it may differ
grep -v '^line ' a.h >a1.h; grep -v '^line ' b.h >b1.h
cmp -s a1.h b1.h || { diff a1.h b1.h; fail "moved code changed hashes"; }
cmp -s a.h b.h && fail "__LINE__ moved but line()'s hash did not change"

# c: one constant changes in scale(): exactly scale and its inliners change
sed 's/x \* 42/x * 43/' "$a" >c.c
build c.c -o c.so
changed=$(changed a.so c.so)
# scale() is static and inlined everywhere: neither compiler keeps a body
# (Clang's pin is dropped at the end), so only its inliners change
expect=""
dump c.so | grep -q '^func scale ' && fail "kept the inlined static scale()"
for f in $(awk '{ print $1 }' c.so.h); do
	has_item "$(field c.so "$f" inlined)" scale && expect="$expect $f"
done
expect=$(echo $expect | tr ' ' '\n' | sort | tr '\n' ' ')
[ -n "$expect" ] && [ "$changed" = "$expect" ] || fail "changed: '$changed', expected: '$expect'"

# a changed string literal and a changed callee are behaviour too
sed 's/"hello"/"hullo"/' "$a" >d.c
build d.c -o d.so
[ "$(changed a.so d.so)" = "greet " ] || fail "string literal change not seen in greet() alone"
sed 's/puts("big")/putchar(1)/' "$a" >e.c
build e.c -o e.so
[ "$(changed a.so e.so)" = "unrelated " ] || fail "callee change not seen in unrelated() alone"

# --- hash.c -----------------------------------------------------------------
cp "$HP_INPUTS/hash.c" h.c
# lines inserted at the top, between and inside functions
{ printf '/* moved */\n\n\n'; sed -e 's|^int other|\n\n/* x */\nint other|' -e 's|int s = 0;|int s = 0;\n\n|' h.c; } >hb.c
build h.c -o h.so
build hb.c -o hb.so
[ -z "$(changed h.so hb.so)" ] || fail "inserted lines changed: $(changed h.so hb.so)"
# -g does not change a hash either
build -g h.c -o hg.so
[ -z "$(changed h.so hg.so)" ] || fail "-g changed: $(changed h.so hg.so)"

# K is used by the static helper(), inlined into both callers: neither
# compiler keeps helper's own body
expect_k="caller1 caller2 "
build -DK=8 h.c -o k.so
[ "$(changed h.so k.so)" = "$expect_k" ] || fail "K changed: '$(changed h.so k.so)'"
build -DKS=6 h.c -o ks.so
[ "$(changed h.so ks.so)" = "solo " ] || fail "KS changed: '$(changed h.so ks.so)'"
build -DMSG='"v2"' h.c -o m.so
[ "$(changed h.so m.so)" = "msg " ] || fail "MSG changed: '$(changed h.so m.so)'"
sed 's/d \* 1.5/d * 1.25/' h.c >f.c
build f.c -o f.so
[ "$(changed h.so f.so)" = "scale " ] || fail "float changed: '$(changed h.so f.so)'"
# the same at -O0 (no inlining: only helper changes)
hpcc -O0 -fPIC -shared h.c -o h0.so
hpcc -O0 -fPIC -shared -DK=8 h.c -o k0.so
[ "$(changed h0.so k0.so)" = "helper " ] || fail "-O0 K changed: '$(changed h0.so k0.so)'"
# a changed initial value shows in the variable's init hash
sed 's/g_state = 3/g_state = 4/' h.c >i.c
build i.c -o i.so
[ -z "$(changed h.so i.so)" ] || fail "init change changed code hashes"
[ "$(dump h.so | grep '^var g_state')" != "$(dump i.so | grep '^var g_state')" ] ||
	fail "g_state init hash unchanged"
echo "hash: ok"
