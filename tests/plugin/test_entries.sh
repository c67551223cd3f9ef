# Padding and atomic entry on every recorded function, at every
# optimisation level, with and without -g, PIE / non-PIE / shared,
# with and without -fcf-protection=branch.
. "$(dirname "$0")/lib.sh"

for opt in -O0 -O1 -O2 -O3 -Os; do
	for g in "" -g; do
		hpcc $opt $g -fPIE -pie "$HP_INPUTS/entries.c" -o pie
		"$HP_CHECK" entries pie >log || { cat log; fail "pie $opt $g"; }
		hpcc $opt $g -fno-pie -no-pie "$HP_INPUTS/entries.c" -o nopie
		"$HP_CHECK" entries nopie >log || { cat log; fail "no-pie $opt $g"; }
		hpcc $opt $g -fPIC -shared -DNO_MAIN "$HP_INPUTS/entries.c" -o lib.so
		"$HP_CHECK" entries lib.so >log || { cat log; fail "shared $opt $g"; }
	done
	hpcc $opt -fcf-protection=branch "$HP_INPUTS/entries.c" -o cet
	"$HP_CHECK" entries cet --endbr >log || { cat log; fail "cf-protection $opt"; }
	./pie >/dev/null && ./nopie >/dev/null && ./cet >/dev/null || fail "binaries do not run ($opt)"
done

# the naked function is recorded, not patchable, with its reason
"$HP_CHECK" dump pie | grep -q '^func naked_fn .*reason=naked' || fail "naked_fn not recorded with a reason"
# the others are all patchable (flag 0x4)
for f in st ext var just_ret loop rec main; do
	flags=$("$HP_CHECK" dump pie | awk -v n=$f '$1 == "func" && $2 == n { print $4 }')
	[ $(( ${flags#flags=} & 4 )) -ne 0 ] || fail "$f not patchable ($flags)"
done
echo "entries: ok"
