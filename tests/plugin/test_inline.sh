# The inline graph, independent of -g, with transitive contents.
. "$(dirname "$0")/lib.sh"

for g in "" -g; do
	hpcc -std=gnu2x -O2 $g -fPIC -shared "$HP_INPUTS/inline.c" -o inl.so
	has_item "$(func_field inl.so caller1 inlined)" helper || fail "helper not in caller1 ($g)"
	has_item "$(func_field inl.so caller2 inlined)" helper || fail "helper not in caller2 ($g)"
	has_item "$(func_field inl.so b inlined)" c || fail "c not in b ($g)"
	ia=$(func_field inl.so a inlined)
	has_item "$ia" b && has_item "$ia" c || fail "a lists '$ia', not b and c ($g)"
	has_item "$(func_field inl.so partial inlined)" twice || fail "twice not in partial ($g)"
	has_item "$(func_field inl.so partial calls)" twice || fail "partial does not call twice ($g)"
	[ -z "$(func_field inl.so helper inlined)" ] || fail "helper lists inlined functions"
	"$HP_CHECK" dump inl.so | grep '^func' >graph$g
done
cmp -s graph graph-g || { diff graph graph-g; fail "-g changes the inline graph"; }

# -O0: nothing is inlined
hpcc -std=gnu2x -O0 -fPIC -shared "$HP_INPUTS/inline.c" -o inl0.so
[ -z "$(func_field inl0.so caller1 inlined)" ] || fail "-O0 reports inlining into caller1"
# always_inline at -O0 (AlwaysInliner, no advisor): seen by call comparison
printf '%s\n' '__attribute__((always_inline)) static inline int ai(int x) { return x + 5; }' \
	'int use_ai(int x) { return ai(x); }' >ai.c
hpcc -O0 -fPIC -shared ai.c -o ai.so
has_item "$(func_field ai.so use_ai inlined)" ai || fail "always_inline at -O0 not seen"
echo "inline: ok"
