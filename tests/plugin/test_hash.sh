# The post-optimisation hash ignores line numbers, comments, formatting
# and unrelated code, and changes with behaviour.
. "$(dirname "$0")/lib.sh"
a="$HP_INPUTS/hash_a.c"

hpcc -O2 -fPIC -shared "$a" -o a.so
hpcc -O2 -g -fPIC -shared "$a" -o a_g.so

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
hpcc -O2 -fPIC -shared b.c -o b.so

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
hpcc -O2 -fPIC -shared c.c -o c.so
hashes c.so >c.h
changed=$(join a.h c.h | awk '$2 != $3 { print $1 }' | sort | tr '\n' ' ')
expect="scale"
for f in $(awk '{ print $1 }' c.h); do
	inl=$(func_field c.so "$f" inlined)
	has_item "$inl" scale && expect="$expect $f"
done
expect=$(echo $expect | tr ' ' '\n' | sort | tr '\n' ' ')
[ "$changed" = "$expect" ] || fail "changed: '$changed', expected: '$expect'"

# a changed string literal and a changed callee are behaviour too
sed 's/"hello"/"hullo"/' "$a" >d.c
hpcc -O2 -fPIC -shared d.c -o d.so
[ "$(join a.h "$(hashes d.so >d.h; echo d.h)" | awk '$2 != $3 { print $1 }')" = greet ] ||
	fail "string literal change not seen in greet() alone"
sed 's/puts("big")/putchar(1)/' "$a" >e.c
hpcc -O2 -fPIC -shared e.c -o e.so
[ "$(join a.h "$(hashes e.so >e.h; echo e.h)" | awk '$2 != $3 { print $1 }')" = unrelated ] ||
	fail "callee change not seen in unrelated() alone"
echo "hash: ok"
