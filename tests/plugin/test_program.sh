# A program built with the plugin behaves as before, at every level; the
# cost at -O2 (run time, text size) is printed for the record.
. "$(dirname "$0")/lib.sh"
src="$HP_INPUTS/prog.c"

for opt in -O0 -O1 -O2 -O3 -Os; do
	"$HP_CC" $opt "$src" -o plain
	hpcc $opt "$src" -o hp
	[ "$(./plain)" = "$(./hp)" ] || fail "output differs at $opt"
done
"$HP_CC" -O2 "$src" -o plain
hpcc -O2 "$src" -o hp
best() {
	b=
	for i in 1 2 3; do
		s=$(date +%s%N); ./$1 >/dev/null; e=$(date +%s%N)
		t=$(( (e - s) / 1000 ))
		[ -z "$b" ] || [ "$t" -lt "$b" ] && b=$t
	done
	echo "$b"
}
tp=$(best plain); th=$(best hp)
sp=$(size -A plain | awk '$1 == ".text" { print $2 }')
sh=$(size -A hp | awk '$1 == ".text" { print $2 }')
echo "program: -O2 run time plain ${tp} us, plugin ${th} us; .text ${sp} -> ${sh} bytes"
echo "program: ok"
