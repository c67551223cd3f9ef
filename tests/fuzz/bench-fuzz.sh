#!/usr/bin/env bash
# The long fuzzing run (not a test): every harness for RUNS executions
# (default 10,000,000), one after another under nice, then a table of
# executions and exec/s per harness. Fails if any harness finds something;
# its inputs stay in WORK/<name>/artifacts.
#
# Usage: bench-fuzz.sh FUZZER_DIR WORK RUNS NAME...
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$1 work=$2 runs=$3
shift 3
mkdir -p "$work"
rows=() failed=0
for name in "$@"; do
	start=$(date +%s)
	status=0
	nice -n 10 "$here/run-fuzzer.sh" "$name" "$bin/hp_fuzz_$name" "$work/$name" --runs "$runs" ||
		status=$?
	secs=$(($(date +%s) - start))
	log=$work/$name/log
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log")
	speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log")
	cov=$(grep -E '^#[0-9]+' "$log" | tail -n 1 | sed -n 's/.* cov: \([0-9]*\) ft: \([0-9]*\).*/\1 \2/p')
	((status == 0)) || failed=1
	rows+=("$(printf '%-12s %12s %10s %8s %6s %7s %s' "$name" "${execs:-?}" "${speed:-?}" \
		"$secs" "${cov% *}" "${cov#* }" "$( ((status == 0)) && echo ok || echo FINDING)")")
done
printf '\n%-12s %12s %10s %8s %6s %7s %s\n' harness executions exec/s seconds cov ft result
printf '%s\n' "${rows[@]}"
exit "$failed"
