#!/usr/bin/env bash
# The plugin's cost on a real server: memcached at one commit built twice
# in one work tree, plain clang-19 -O2 and clang-19 -O2 with the plugin,
# then memcslap against each in interleaved rounds (ABBA order, same
# parameters, every round bounded), medians of throughput and mean latency
# per request, the ratio plugin/plain, and .text bytes per function.
# Neither server has the runtime preloaded: this measures the prepared
# code, not the idle listener thread.
#
# Usage: bench-memcached.sh ROOT TREES WORK CC PLUGIN
#   RW_COST_ROUNDS (5), RW_COST_OPS (ops per memcslap thread, 20000),
#   RW_COST_COMMIT (1776b021e) override the defaults.
set -euo pipefail
root=$1 trees=$2 work=$3 cc=$4 plugin=$5
. "$root/scripts/lib/realworld.sh"
shared=$(rw_shared_dir "$root")
rounds=${RW_COST_ROUNDS:-5} ops=${RW_COST_OPS:-20000} threads=4
commit=${RW_COST_COMMIT:-1776b021e4d0ddc9975ef7fb1a9db0ebdab93f45}
runtime=

server_pid=
trap 'rw_stop' EXIT
rm -rf "$work" && mkdir -p "$work"
tree=$trees/memcached
for variant in plain plugin; do
	flag=
	[[ $variant == plugin ]] && flag=-fpass-plugin=$plugin
	echo "== building memcached ${commit:0:9} ($variant: $cc -O2 -g $flag)"
	rw_tree "$trees/cache" "$tree" memcached "$commit"
	bin=$(rw_build_first memcached "$tree" "$work/build-$variant.log") ||
		{ tail -n 20 "$work/build-$variant.log"; fail "building the $variant memcached failed"; }
	cp "$bin" "$work/memcached-$variant"
done

# one_round VARIANT TEST: a fresh server, one memcslap run; appends
# "variant test ops seconds" to samples.
one_round() {
	local variant=$1 test=$2 port got secs n
	port=$(rw_free_port)
	local user=()
	((EUID == 0)) && user=(-u root)
	"$work/memcached-$variant" "${user[@]}" -p "$port" -U 0 -l 127.0.0.1 -t 2 >>"$work/server.log" 2>&1 &
	server_pid=$!
	rw_wait_port "$port" "$server_pid" || fail "memcached-$variant did not listen"
	got=$(timeout 120 memcslap -v --servers="127.0.0.1:$port" --concurrency=$threads \
		--execute-number="$ops" --test="$test" 2>&1) || fail "memcslap timed out"
	rw_stop
	! grep -q 'Fatal error' <<<"$got" || fail "memcslap against $variant reported errors"
	read -r n secs < <(sed -n "s/^Time to $test *\([0-9]*\) keys by .*: *\([0-9.]*\) seconds.*/\1 \2/p" <<<"$got")
	# memcslap counts get hits only; a few misses are not errors, many are
	((${n:-0} * 100 >= ops * threads * 95)) || fail "memcslap $test against $variant did $n of $((ops * threads))"
	echo "$variant $test $n $secs" >>"$work/samples"
	printf '   %-6s %-3s %7d ops %7.3f s\n' "$variant" "$test" "$n" "$secs"
}

: >"$work/samples"
for ((r = 1; r <= rounds; r++)); do
	echo "== round $r of $rounds"
	if ((r % 2)); then order="plain plugin"; else order="plugin plain"; fi
	for test in set get; do
		for variant in $order; do one_round "$variant" "$test"; done
	done
done

# medians: throughput (ops/s) and mean latency per request (us: seconds
# x threads / ops, as each memcslap thread sends one request at a time)
echo
printf '%-4s %-7s %14s %16s\n' test variant 'ops/s(median)' 'latency_us(med)'
for test in set get; do
	for variant in plain plugin; do
		awk -v v="$variant" -v t="$test" -v th=$threads '$1 == v && $2 == t {
			print $3 / $4, $4 * th * 1e6 / $3 }' "$work/samples" >"$work/$test-$variant"
		tput=$(cut -d' ' -f1 "$work/$test-$variant" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
		lat=$(cut -d' ' -f2 "$work/$test-$variant" | sort -g | awk '{ a[NR] = $1 } END { print (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2 }')
		printf '%-4s %-7s %14.0f %16.2f\n' "$test" "$variant" "$tput" "$lat"
		eval "tput_${test}_$variant=$tput lat_${test}_$variant=$lat"
	done
	printf '%-4s ratio plugin/plain: throughput %.4f, latency %.4f\n' "$test" \
		"$(bc -l <<<"$(eval echo "\$tput_${test}_plugin / \$tput_${test}_plain")")" \
		"$(bc -l <<<"$(eval echo "\$lat_${test}_plugin / \$lat_${test}_plain")")"
done

# .text bytes per function: the section's size over the functions in it
echo
printf '%-7s %11s %10s %14s\n' variant text_bytes functions bytes/function
for variant in plain plugin; do
	b=$work/memcached-$variant
	text=$(size -A "$b" | awk '$1 == ".text" { print $2 }')
	funcs=$(readelf -sW "$b" | awk '$4 == "FUNC" && $7 != "UND" && $3 > 0' | wc -l)
	printf '%-7s %11d %10d %14.1f\n' "$variant" "$text" "$funcs" "$(bc -l <<<"$text / $funcs")"
	eval "text_$variant=$text funcs_$variant=$funcs"
done
printf 'plugin - plain: %d .text bytes\n' $((text_plugin - text_plain))
# The plugin keeps out of line some functions the plain build inlined
# away, so the fair per-function cost is over the functions both have.
for variant in plain plugin; do
	nm -S --defined-only "$work/memcached-$variant" |
		python3 -c 'import sys
for l in sys.stdin:
    f = l.split()
    if len(f) == 4 and f[2] in "tT": print(f[3], int(f[1], 16))' | sort >"$work/funcs-$variant"
done
join "$work/funcs-plain" "$work/funcs-plugin" | awk '{ n++; a += $2; b += $3 }
	END { printf "functions in both: %d, plain %d bytes, plugin %d bytes: +%.1f bytes per function\n", n, a, b, (b - a) / n }'
