#!/usr/bin/env bash
# bench-plugin-engine: the sample engine built with and without the plugin
# (CC -O2 both; CC is clang-19 with hotpatch-llvm.so or gcc with
# hotpatch-gcc.so), each serving the load client in turns, ROUNDS rounds
# of SECONDS each, interleaved so machine noise hits both alike. Prints the
# median throughput and p99 of each and the plugin/plain ratios.
# Usage: bench_engine.sh ROOT WORK CC PLUGIN HPLOAD [ROUNDS] [SECONDS]
set -euo pipefail
root=$1 work=$2 cc=$3 plugin=$4 hpload=$5 rounds=${6:-5} seconds=${7:-4}
. "$root/scripts/lib/hpkv.sh"
runtime=
rm -rf "$work" && mkdir -p "$work/plain" "$work/plugin"
cp "$root"/samples/engine/*.[ch] "$work/plain/"
cp "$root"/samples/engine/*.[ch] "$work/plugin/"
(cd "$work/plain" && "$cc" -O2 -pthread -o hpkv ./*.c)
(cd "$work/plugin" && "$cc" -O2 -pthread "$(hpkv_plugin_flag)" -o hpkv ./*.c)

json_field() { sed -n "s/.*\"$2\":\([0-9.]*\).*/\1/p" <<<"$1"; }
median() { sort -n | awk '{ v[NR] = $1 } END { print v[int((NR + 1) / 2)] }'; }

for ((r = 1; r <= rounds; r++)); do
	for build in plain plugin; do
		hpkv_start "$work/$build/hpkv"
		out=$("$hpload" --port "$port" --connections 4 --seconds "$seconds" --json)
		hpkv_stop
		echo "$(json_field "$out" throughput) $(json_field "$out" p99_us)" >>"$work/$build.txt"
		echo "round $r $build: $out"
	done
done
for build in plain plugin; do
	eval "${build}_tp=$(cut -d' ' -f1 "$work/$build.txt" | median)"
	eval "${build}_p99=$(cut -d' ' -f2 "$work/$build.txt" | median)"
done
echo "median throughput: plain $plain_tp req/s, plugin $plugin_tp req/s, ratio $(awk -v a="$plugin_tp" -v b="$plain_tp" 'BEGIN { printf "%.4f", a / b }')"
echo "median p99: plain $plain_p99 us, plugin $plugin_p99 us"
