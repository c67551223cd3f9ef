# The inline graph: a helper inlined into two callers, nested inlining,
# the early inliner, with and without debug info.
. "$(dirname "$0")/lib.sh"

for g in "" -g; do
	for opt in -O1 -O2 -O3; do
		hpcc $opt $g -fPIC -shared "$HP_INPUTS/inline.c" -o lib.so
		has_item "$(field lib.so use_a inlined)" helper || fail "use_a: helper ($opt $g)"
		has_item "$(field lib.so use_b inlined)" helper || fail "use_b: helper ($opt $g)"
		inl=$(field lib.so top inlined)
		has_item "$inl" mid && has_item "$inl" leaf || fail "top: '$inl' ($opt $g)"
		has_item "$(field lib.so early inlined)" tiny || fail "early: tiny ($opt $g)"
		has_item "$(field lib.so calls_kept calls)" kept || fail "calls_kept: kept ($opt $g)"
		[ -z "$(field lib.so calls_kept inlined)" ] || fail "calls_kept inlines something"
		has_item "$(field lib.so use_a vars)" g || fail "use_a does not list g"
	done
done
echo "inline: ok"
