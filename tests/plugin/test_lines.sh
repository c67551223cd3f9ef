# Line numbers passed with __FILE__ (assert, log macros) stay out of the
# body hash and go into the line hash: a line inserted above changes the
# line hash of such a function, not its body hash. A constant without
# __FILE__ beside it is code, even when it equals its line.
. "$(dirname "$0")/lib.sh"
src="$HP_INPUTS/lines.c"

# line_hash FILE NAME: the lines= field of a function ("" when none)
line_hash() { field "$1" "$2" lines; }
# body_hash FILE NAME
body_hash() { hashes "$1" | awk -v n="$2" '$1 == n { print $2 }'; }

cp "$src" a.c
{ echo; echo; cat "$src"; } >b.c
# the same file moved: coded()'s log_code(21) now sits on line 23, the
# number is not its line any more; then c.c makes it 23 on line 23
sed 's/log_code(21)/log_code(23)/' b.c >c.c
for f in a b c; do
	mkdir -p $f && cp $f.c $f/lines.c
	(cd $f && hpcc -O2 -g -c lines.c -o ../$f.o)
done

[ -n "$(line_hash a.o checked)" ] || fail "checked() passes __LINE__ with __FILE__ but has no line hash"
[ "$(body_hash a.o checked)" = "$(body_hash b.o checked)" ] ||
	fail "checked(): body hash changed when only its line numbers moved"
[ "$(line_hash a.o checked)" != "$(line_hash b.o checked)" ] ||
	fail "checked(): line hash did not change when its line numbers moved"
[ -z "$(line_hash a.o plain)" ] || fail "plain() has a line hash"
[ -n "$(line_hash a.o helped)" ] || fail "helped(): the inlined helper's __LINE__ was not recognised"
[ "$(body_hash a.o helped)" = "$(body_hash b.o helped)" ] ||
	fail "helped(): body hash changed when only its line numbers moved"
# coded(): 21 on line 21 is a constant like any other
[ -z "$(line_hash a.o coded)" ] || fail "coded(): a constant without __FILE__ taken for a line"
[ "$(body_hash a.o coded)" != "$(body_hash c.o coded)" ] ||
	fail "coded(): log_code(21) -> log_code(23) left the body hash alone"
[ "$(body_hash a.o plain)" = "$(body_hash b.o plain)" ] || fail "plain(): hash moved with the lines"
echo "lines: ok"
