#!/usr/bin/env bash
# Runs one libFuzzer harness from its seeds and fails on any finding.
#
# The committed seeds (seeds/<group>/, group = the name up to its first
# '_': pkg_raw and pkg_sealed share seeds/pkg) and the inputs of bugs
# found and fixed (regressions/<name>/) are read-only corpora: libFuzzer
# runs every one of them before it mutates anything, so a regression is
# replayed on every run. New inputs go to WORK/corpus, emptied each time,
# and a crash, leak, UB report, timeout or out-of-memory input is saved
# under WORK/artifacts/ with libFuzzer's non-zero exit status.
#
# Usage: run-fuzzer.sh NAME FUZZER WORK (--time SECONDS | --runs N)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
name=$1 fuzzer=$2 work=$3 mode=$4 limit=$5
case $mode in
--time) budget=-max_total_time=$limit ;;
--runs) budget=-runs=$limit ;;
*)
	echo "usage: run-fuzzer.sh NAME FUZZER WORK (--time SECONDS | --runs N)" >&2
	exit 2
	;;
esac

corpora=("$here/seeds/${name%%_*}")
[[ -d $here/regressions/$name ]] && corpora+=("$here/regressions/$name")
rm -rf "$work/corpus" "$work/artifacts"
mkdir -p "$work/corpus" "$work/artifacts"

# UBSan's reports must end the run (the harnesses are built with
# -fno-sanitize-recover; this also covers a runtime without it). A single
# input slower than 20 s is a hang worth reporting even on a loaded machine.
export UBSAN_OPTIONS=halt_on_error=1:print_stacktrace=1${UBSAN_OPTIONS:+:$UBSAN_OPTIONS}
status=0
"$fuzzer" "$budget" -timeout=20 -rss_limit_mb=2048 -print_final_stats=1 \
	-artifact_prefix="$work/artifacts/" "$work/corpus" "${corpora[@]}" \
	>"$work/log" 2>&1 || status=$?

runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log")
speed=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$work/log")
if ((status != 0)); then
	# The report, without the thousands of progress lines before it.
	grep -v -E '^#[0-9]+' "$work/log" | tail -n 80
	echo "FAIL: $name: libFuzzer exited $status; inputs kept in $work/artifacts:"
	ls -l "$work/artifacts"
	exit 1
fi
echo "PASS: $name: ${runs:-?} executions, ${speed:-?} exec/s, $(ls "$work/corpus" | wc -l) new inputs"
