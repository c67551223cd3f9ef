#!/usr/bin/env bash
# Every corpus row with every given compiler through run-row.sh, then one
# table. A row that fails (build, mkpatch, live) is a line of the table
# and the run goes on; each row's log is kept under WORK.
#
# Usage: bench.sh ROOT TREES WORK RUNTIME CLI MKPATCH COMPILER=CC=PLUGIN...
#   e.g. clang=clang-19=/b/lib/hotpatch/hotpatch-llvm.so
#   RW_ROWS="1776b021e 8c02ee82c" limits the rows; RW_STATIC_LIBS=1 links
#   nginx with Debian's static PCRE2 and zlib (code without the plugin).
set -euo pipefail
root=$1 trees=$2 work=$3 runtime=$4 cli=$5 mkpatch=$6
shift 6
. "$root/scripts/lib/realworld.sh"
shared=$(rw_shared_dir "$root")

mkdir -p "$work"
results=$work/results.tsv
: >"$results"
rows=${RW_ROWS:-$(rw_corpus_commits)}
for spec in "$@"; do
	IFS== read -r compiler cc plugin <<<"$spec"
	for row in $rows; do
		log=$work/$compiler-$row.log
		echo "bench-realworld: $row $compiler ..." >&2
		before=$(wc -l <"$results")
		timeout 1800 "$root/tests/realworld/run-row.sh" "$root" "$trees" "$work/$compiler-$row" \
			"$compiler" "$cc" "$plugin" "$runtime" "$cli" "$mkpatch" "$row" "$results" \
			>"$log" 2>&1 || true
		if (($(wc -l <"$results") == before)); then
			printf '%s\t%s\t%s\t-\t-\t-\t-\t-\t%s\n' "$row" "$compiler" wrong-result \
				"no result line (harness died or timed out; see $log)" >>"$results"
		fi
		tail -n 1 "$results" | cut -f1-8 >&2
	done
done

echo
printf '%-10s %-6s %-17s %4s %8s %7s %10s %11s  %s\n' row compiler outcome '|P|' spurious inlined \
	analysis_s recompile_s note
awk -F'\t' '{
	rec = ($8 == "-" || $7 == "-") ? "-" : sprintf("%.2f", $8 - $7)
	printf "%-10s %-6s %-17s %4s %8s %7s %10s %11s  %s\n", $1, $2, $3, $4, $5, $6, $7, rec, substr($9, 1, 110)
}' "$results"
echo
awk -F'\t' '{ n[$3]++ } END { for (o in n) printf "%s %d  ", o, n[o]; print "" }' "$results"
# The measure of false positives: functions in P that neither the diff's
# text touches nor mkpatch explains as inlining a touched one.
awk -F'\t' '$5 ~ /^[0-9]+$/ { u[$2] += $5 - $6 } END {
	for (c in u) printf "%s: %d spurious functions not explained by inlining\n", c, u[c] }' "$results"
cat <<'EOF'
|P|: functions in the package. spurious: functions in P whose definition's
text is the same at the parent and the fix and names no macro the fix
redefines (tests/realworld/touched.py); inlined: how many of those mkpatch
lists as inlining a touched function (in NEW or in OLD, or one of the
inlinees without a body of their own that --json lists).
analysis_s: mkpatch --dry-run; recompile_s: the whole mkpatch minus that.
EOF
