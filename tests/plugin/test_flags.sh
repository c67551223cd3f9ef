# GCC only (registered for gcc alone): the effect of the -fno-ipa-* flags
# the GCC plugin sets, read from GCC's assembler output.
# What breaks function-level replacement is off: -fipa-ra, ICF,
# pure/const discovery, IPA-SRA; unused statics are kept.
. "$(dirname "$0")/lib.sh"
src="$HP_INPUTS/flags.c"

fn() { awk -v f="$2" '$0 ~ "^"f":" { on = 1 } on { print } on && /cfi_endproc/ { exit }' "$1"; }

"$HP_CC" -O2 -S "$src" -o plain.s
hpcc -O2 -S "$src" -o hp.s

# ipa-ra: t lives across the call in a callee-saved register (or the
# stack), not in a register only the old leaf() happened to leave alone
fn hp.s caller | grep -Eq 'push|\(%rsp\)' || fail "caller relies on leaf's clobbers (ipa-ra on?)"
fn plain.s caller | grep -Eq 'push|\(%rsp\)' && echo "note: plain $HP_COMPILER also saves across leaf()"

# ICF: twin2 keeps its own body
fn hp.s twin2 | grep -q 'jmp[[:space:]]*twin1' && fail "twin2 folded into twin1"
grep -Eq '^[[:space:]]*\.set[[:space:]]+twin2' hp.s && fail "twin2 aliased to twin1"

# pure-const: reader() is called twice
[ "$(fn hp.s twice | grep -c 'call.*reader')" = 2 ] || fail "twice does not call reader twice"

# IPA-SRA: no .isra clone, unused_arg keeps its name
grep -q 'isra' hp.s && fail "IPA-SRA clone present"
grep -q '^unused_arg:' hp.s || fail "unused_arg renamed or removed"

# the unused static is kept
grep -q '^unused_state:' hp.s || fail "unused_state removed"
echo "flags: ok"
