#!/usr/bin/env bash
# Benchmark: what looking for functions still running old code costs the
# engine. Sample fix 02 (its P holds the connection handlers, which inline
# the changed key check) is applied to the engine under hpload; then
# `hotpatch status --json` (one scan of every thread each) runs ROUNDS
# times. Prints the threads seen, how many were sampled by signal, the
# pause of a signalled thread (mean and max over all rounds), the time of
# one whole scan (median and max), how often some function was found
# active, and the load client's result (errors, mismatches).
#
# Usage: bench-active.sh ROOT WORK CC PLUGIN RUNTIME CLI MKPATCH HPLOAD [ROUNDS]
set -euo pipefail
root=$1 work=$2 cc=$3 plugin=$4 runtime=$5 cli=$6 mkpatch=$7 hpload=$8 rounds=${9:-300}
. "$root/scripts/lib/hpkv.sh"
patch_dir=$root/samples/patches/02-key-length-inlined

hpkv_test_begin
hpkv_build_versions "$root" "$patch_dir" || fail "building v1/v2 failed"
"$mkpatch" --explain "$work/v1/hpkv" "$work/v2/hpkv" -o "$work/fix.hpk" 2>/dev/null ||
	fail "mkpatch exited $?"
hpkv_start "$work/v1/hpkv"
"$hpload" --port "$port" --connections 8 --seconds 600 --json >"$work/load.json" 2>&1 &
load_pid=$!
"$cli" apply "$engine_pid" "$work/fix.hpk" >"$work/apply.out" || fail "apply failed"
cat "$work/apply.out"
: >"$work/scans.jsonl"
for ((i = 0; i < rounds; i++)); do
	"$cli" --json status "$engine_pid" >>"$work/scans.jsonl" || fail "status failed"
done
"$cli" revert "$engine_pid" >/dev/null || fail "revert failed"
kill -INT "$load_pid"
wait "$load_pid" || { cat "$work/load.json"; fail "load client reported errors or mismatches"; }
load_pid=
hpkv_stop || fail "engine did not shut down cleanly"
python3 - "$work/scans.jsonl" "$work/load.json" <<'EOF'
import json, statistics, sys
scans = [json.loads(l)['scan'] | {'active': json.loads(l)['active']} for l in open(sys.argv[1])]
load = json.loads(open(sys.argv[2]).read().strip().splitlines()[-1])
sig = sum(s['signalled'] for s in scans)
pause_total = sum(s['pause_ns_total'] for s in scans)
pause_max = max(s['pause_ns_max'] for s in scans)
scan_ns = sorted(s['scan_ns'] for s in scans)
print(f"scans: {len(scans)}, threads per scan: {scans[0]['threads']}, "
      f"checked per scan (mean): {statistics.mean(s['checked'] for s in scans):.2f}")
print(f"threads sampled by signal: {sig} ({sig / len(scans):.2f} per scan)")
if sig:
    print(f"pause of a signalled thread: mean {pause_total / sig / 1000:.2f} us, "
          f"max {pause_max / 1000:.2f} us")
print(f"one scan: median {statistics.median(scan_ns) / 1e6:.3f} ms, max {scan_ns[-1] / 1e6:.3f} ms")
print(f"scans that found a function of the patch active: "
      f"{sum(1 for s in scans if s['active'])} of {len(scans)}")
import collections
why = collections.Counter(u['why'] for s in scans for u in s['unchecked'])
print(f"threads not checked: {dict(why) if why else 'none'}")
print(f"load: {load}")
EOF
