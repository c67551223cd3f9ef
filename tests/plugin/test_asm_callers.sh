# A function that inline assembly calls or jumps to by name is recorded as
# not patchable, naming the assembly; one called from C only is patchable.
. "$(dirname "$0")/lib.sh"
src="$HP_INPUTS/asm_callers.c"

# reason FILE NAME: the quoted reason of a recorded function ("" if none)
reason() { dump "$1" | sed -n "s/^func $2 .*reason=\"\(.*\)\"\$/\1/p"; }

for opt in -O0 -O2; do
	hpcc $opt -c "$src" -o asm$opt.o
	r=$(reason asm$opt.o refill)
	case "$r" in "called by name from inline assembly in go()"*) ;; *) fail "$opt: refill reason '$r'" ;; esac
	r=$(reason asm$opt.o reached_from_toplevel)
	case "$r" in *"inline assembly in a top-level asm statement"*) ;; *) fail "$opt: reached_from_toplevel reason '$r'" ;; esac
	[ $(($(flags asm$opt.o refill) & 4)) = 0 ] || fail "$opt: refill still marked patchable"
	[ $(($(flags asm$opt.o plain) & 4)) = 4 ] || fail "$opt: plain not patchable"
	[ -z "$(reason asm$opt.o plain)" ] || fail "$opt: plain has a reason"
done
echo "asm_callers: ok"
