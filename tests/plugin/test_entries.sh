# Padding, alignment and the 2-byte entry on every recorded function, at
# every optimisation level, with and without -g, PIE / non-PIE / shared,
# and with -fcf-protection=branch (endbr64 first, 66 90 after it).
. "$(dirname "$0")/lib.sh"
src="$HP_INPUTS/entries.c"

check() { # check FILE WHAT [--endbr=...]
	f=$1 what=$2
	shift 2
	"$HP_CHECK" entries "$f" "$@" >"$f.log" || { cat "$f.log"; fail "$what"; }
}

# With -fcf-protection=branch Clang gives every function endbr64 (all are
# in llvm.compiler.used, hence address-taken); GCC only those that may be
# reached indirectly. Either way the checker matches flag and bytes per
# function; this is the count expected over the whole file.
if is clang; then cet_endbr=--endbr=all; else cet_endbr=--endbr=some; fi

for opt in -O0 -O1 -O2 -O3 -Os; do
	for g in "" -g; do
		hpcc $opt $g -fPIE -pie "$src" -o pie
		check pie "pie $opt $g" --endbr=none
		hpcc $opt $g -fno-pie -no-pie "$src" -o nopie
		check nopie "no-pie $opt $g" --endbr=none
		hpcc $opt $g -fPIC -shared -DNO_MAIN "$src" -o lib.so
		check lib.so "shared $opt $g" --endbr=none
	done
	hpcc $opt -fcf-protection=branch "$src" -o cet
	check cet "cf-protection $opt" $cet_endbr
	grep -q ' 0 with endbr64' cet.log && fail "no endbr64 function with -fcf-protection ($opt)"
	[ "$(./pie)" = ok ] && [ "$(./nopie)" = ok ] && [ "$(./cet)" = ok ] ||
		fail "binaries do not work ($opt)"
	# with endbr64 the entry is at +4
	[ "$(field cet ext entry)" = 4 ] || fail "ext: entry_offset not 4 after endbr64 ($opt)"

	# The entry instruction (after endbr64) is at least 2 bytes long in
	# every function: a 2-byte NOP, or the compiler's own first instruction
	# (Clang's prologue-short-redirect; HP_MD_FUNC_ENTRY_INSN).
	for f in pie cet; do
		# patchable functions only (flag 4): names the metadata records
		names=
		for n in $(dump "$f" | awk '$1 == "func" { print $2 }'); do
			[ $(($(flags "$f" "$n") & 4)) -eq 0 ] || names="$names<$n>: "
		done
		objdump -d "$f" | awk -v names="$names" '
			/^[0-9a-f]+ <[a-z_]+>:$/ { name = $2; first = index(names, name " ") > 0; next }
			first && /^ +[0-9a-f]+:\t/ {
				split($0, part, "\t"); n = split(part[2], bytes, " ")
				if (part[3] ~ /^endbr64/) next
				if (n < 2) { print "short entry instruction in " name ": " $0; bad = 1 }
				first = 0 }
			END { exit bad }' || fail "an entry instruction shorter than 2 bytes ($f $opt)"
	done
	# No jump inside a function reaches back to its entry: loops at the
	# top branch to the instruction after the 2-byte NOP.
	for fn in loop rec; do
		objdump -d --no-show-raw-insn pie |
			awk -v f="$fn" '/^[0-9a-f]+ <.*>:$/ { cur = $2 } cur == "<" f ">:" && /\tj[a-z]* / && $NF == "<" f ">" { print; bad = 1 } END { exit bad }' ||
			fail "$fn jumps back to its entry ($opt)"
	done
done

# the naked function is recorded as not patchable, with its reason
dump pie | grep -q '^func naked_fn .*reason="naked"' || fail "naked_fn not recorded with a reason"
for f in st ext var just_ret loop rec by_ptr split_fn table main; do
	[ $(( $(flags pie $f) & 4 )) -ne 0 ] || fail "$f not patchable"
done
# an address-taken function has endbr64 and ADDRESS_TAKEN; a static one
# only called directly is not ADDRESS_TAKEN, and has endbr64 with Clang
# (see above) but none with GCC
[ $(( $(flags cet by_ptr) & 8 )) -ne 0 ] || fail "by_ptr lacks ENDBR"
[ $(( $(flags cet by_ptr) & 64 )) -ne 0 ] || fail "by_ptr not ADDRESS_TAKEN"
[ $(( $(flags cet st) & 64 )) -eq 0 ] || fail "st is ADDRESS_TAKEN"
if is clang; then
	[ $(( $(flags cet st) & 8 )) -ne 0 ] || fail "st lacks ENDBR"
else
	[ $(( $(flags cet st) & 8 )) -eq 0 ] || fail "st has ENDBR"
fi
echo "entries: ok"
