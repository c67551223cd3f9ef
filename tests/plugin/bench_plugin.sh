# bench-plugin: plugin build vs plain clang-19 -O2 on a call-heavy program
# (run-time ratio in the same run), text size per function, compile time.
set -eu
rm -rf "$HP_WORK"; mkdir -p "$HP_WORK"; cd "$HP_WORK"
src="$HP_INPUTS/bench.c"
now() { date +%s.%N; }
# interleaved rounds, plain and plugin alternately (ABBA), so that load from
# elsewhere falls on both alike; medians of 10 runs each
"$HP_CC" -O2 "$src" -o plain
"$HP_CC" -O2 -fpass-plugin="$HP_PLUGIN" "$src" -o hp
: >times.plain; : >times.hp
for r in 1 2 3 4 5; do
	for b in plain hp hp plain; do
		t0=$(now); ./$b >/dev/null; t1=$(now)
		echo "$t0 $t1" | awk '{ print $2 - $1 }' >>times.$b
	done
done
median() { sort -g "$1" | awk '{ v[NR] = $1 } END { print (NR % 2) ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }'; }
tp=$(median times.plain); th=$(median times.hp)
echo "run time (median of 10, interleaved): plain ${tp}s plugin ${th}s ratio $(echo "$th $tp" | awk '{ printf "%.4f", $1 / $2 }')"

# text growth per function on a larger TU: every entries/hash input
for f in "$HP_INPUTS"/entries.c "$HP_INPUTS"/hash_a.c "$HP_INPUTS"/inline.c "$HP_INPUTS"/bench.c; do
	"$HP_CC" -std=gnu2x -O2 -c "$f" -o p.o
	"$HP_CC" -std=gnu2x -O2 -fpass-plugin="$HP_PLUGIN" -c "$f" -o h.o
	sp=$(size -A p.o | awk '$1 == ".text" { print $2 }')
	sh=$(size -A h.o | awk '$1 == ".text" { print $2 }')
	nf=$(nm h.o | grep ' [Tt] ' | grep -vc ' \.L')
	md=$(size -A h.o | awk '$1 == ".hotpatch" { print $2 }')
	echo "$(basename "$f"): .text $sp -> $sh bytes, $nf functions, $(( (sh - sp) / nf )) bytes/function; .hotpatch $md bytes (not loaded)"
done

# compile time: 20 compiles of the largest input each way
ct() { t0=$(now); for i in $(seq 20); do "$@" -c "$HP_INPUTS/entries.c" -o t.o; done; t1=$(now); echo "$t0 $t1" | awk '{ print ($2 - $1) / 20 }'; }
cp_=$(ct "$HP_CC" -O2); ch=$(ct "$HP_CC" -O2 -fpass-plugin="$HP_PLUGIN")
echo "compile time per TU: plain ${cp_}s plugin ${ch}s ratio $(echo "$ch $cp_" | awk '{ printf "%.3f", $1 / $2 }')"
