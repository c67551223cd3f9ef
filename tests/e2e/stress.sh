#!/usr/bin/env bash
# Stress: the sample engine serves the load client while a loop applies and
# reverts a patch of hot functions (sample 02: the key check inlined into
# every store operation) CYCLES times (`hotpatch rehearse`: the engine runs
# the cycles itself, within 1 % of one CPU unless HP_STRESS_CPU=PCT, at the
# program's priority unless HP_STRESS_PRIORITY=lowest).
# Passes only with zero load-client errors and mismatches, every
# apply and revert succeeding, and the engine alive and unpatched at the
# end.
#
# With --compare the cycles run in HP_STRESS_ROUNDS rounds (default 6),
# each followed by a round of the load client alone for as long: rounds of
# the machine's own drift fall on both sides alike. It prints throughput
# (all requests over all seconds) and the median round's p99 during the
# loop as a ratio of the rounds without it. HP_STRESS_BASELINE_PERCENT
# (default 100) shortens each round without the loop to that share of
# the round before it: a rate needs less time than a million cycles.
#
# Usage: stress.sh [--compare] CYCLES ROOT WORK CC PLUGIN RUNTIME CLI MKPATCH HPLOAD
set -euo pipefail
compare=0
if [[ $1 == --compare ]]; then
	compare=1
	shift
fi
cycles=$1 root=$2 work=$3 cc=$4 plugin=$5 runtime=$6 cli=$7 mkpatch=$8 hpload=$9
. "$root/scripts/lib/hpkv.sh"
patch_dir=$root/samples/patches/02-key-length-inlined

hpkv_test_begin

hpkv_build_versions "$root" "$patch_dir" || fail "building v1/v2 failed"
"$mkpatch" "$work/v1/hpkv" "$work/v2/hpkv" -o "$work/fix.hpk" 2>/dev/null || fail "mkpatch exited $?"
hpkv_start "$work/v1/hpkv"

# json_field FILE NAME: a number from hpload --json output.
json_field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" "$1"; }

rehearse_args=()
[[ -n ${HP_STRESS_PRIORITY:-} ]] && rehearse_args+=(--priority "$HP_STRESS_PRIORITY")
[[ -n ${HP_STRESS_CPU:-} ]] && rehearse_args+=(--cpu "$HP_STRESS_CPU")

# loop_under_load N OUT: N cycles while the load client runs; its report
# (for exactly as long as the loop took) goes to OUT.
loop_under_load() {
	local n=$1 out=$2
	"$hpload" --port "$port" --connections 4 --seconds 3600 --json >"$out" &
	load_pid=$!
	sleep 0.5
	"$cli" rehearse "${rehearse_args[@]}" "$engine_pid" "$work/fix.hpk" "$n" ||
		fail "the apply/revert loop failed"
	kill -TERM "$load_pid"
	wait "$load_pid" || { cat "$out"; fail "load client saw errors or mismatches"; }
	load_pid=
	kill -0 "$engine_pid" || fail "engine died"
	"$cli" list "$engine_pid" | grep -q '^[0-9]' && fail "a patch is still applied after the loop"
	return 0
}

if ((!compare)); then
	loop_under_load "$cycles" "$work/during.json"
	echo "load during the loop: $(cat "$work/during.json")"
	hpkv_stop || fail "engine did not shut down cleanly"
	echo "PASS"
	exit 0
fi

rounds=${HP_STRESS_ROUNDS:-6}
((rounds >= 1 && cycles >= rounds)) || fail "HP_STRESS_ROUNDS must be 1..CYCLES"
for ((r = 1; r <= rounds; r++)); do
	n=$((cycles / rounds + (r <= cycles % rounds ? 1 : 0)))
	loop_under_load "$n" "$work/during-$r.json"
	seconds=$(json_field "$work/during-$r.json" seconds)
	base_seconds=$(awk -v s="$seconds" -v p="${HP_STRESS_BASELINE_PERCENT:-100}" \
		'BEGIN { t = s * p / 100; printf "%.3f", t < 1 ? 1 : t }')
	"$hpload" --port "$port" --connections 4 --seconds "$base_seconds" --json >"$work/baseline-$r.json" ||
		fail "baseline load run failed"
	echo "round $r: $n cycles in ${seconds}s; during $(json_field "$work/during-$r.json" throughput)" \
		"req/s p99 $(json_field "$work/during-$r.json" p99_us) us; without" \
		"$(json_field "$work/baseline-$r.json" throughput) req/s" \
		"p99 $(json_field "$work/baseline-$r.json" p99_us) us"
done
python3 - "$work" "$rounds" "$cycles" <<'PY'
import json, statistics, sys
work, rounds, cycles = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
def load(kind):
    return [json.load(open(f"{work}/{kind}-{r}.json")) for r in range(1, rounds + 1)]
during, base = load("during"), load("baseline")
def tput(runs):
    return sum(x["requests"] for x in runs) / sum(x["seconds"] for x in runs)
bad = sum(x["errors"] + x["mismatches"] for x in during + base)
secs = sum(x["seconds"] for x in during)
print(f"{cycles} cycles in {secs:.1f} s ({cycles / secs:.0f}/s), {rounds} rounds each way, "
      f"errors+mismatches {bad}")
print(f"throughput during/baseline: {tput(during) / tput(base):.3f}   "
      f"p99 during/baseline: {statistics.median(x['p99_us'] for x in during) / statistics.median(x['p99_us'] for x in base):.3f}")
sys.exit(1 if bad else 0)
PY
hpkv_stop || fail "engine did not shut down cleanly"
echo "PASS"
