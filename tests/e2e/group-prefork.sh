#!/usr/bin/env bash
# A pre-forking engine (hpkv --workers 3) patched as one group with
# `hotpatch apply --exe`:
#  - under load: the fix (samples/patches/07-version-string) is seen from
#    every worker, revert --exe brings the bug back in every one, the load
#    client sees no error;
#  - a worker that dies after the apply is forked again from the patched
#    parent and runs the fix; revert --exe reaches it;
#  - a worker killed in the middle of a group apply (every apply waits
#    600 ms after reading the package, HOTPATCH_TEST_APPLY_DELAY_MS): the
#    apply fails with one line and is rolled back, so no process lists
#    the patch, including a worker the parent forked after its own apply
#    (which inherited the patch); the engine keeps serving the old code.
# Usage: group-prefork.sh ROOT WORK CC PLUGIN RUNTIME CLI MKPATCH HPLOAD
set -euo pipefail
root=$1 work=$2 cc=$3 plugin=$4 runtime=$5 cli=$6 mkpatch=$7 hpload=$8
. "$root/scripts/lib/hpkv.sh"

hpkv_test_begin
patch_dir=$root/samples/patches/07-version-string
old_reply=$(hpkv_probe_field "$patch_dir" before)
new_reply=$(hpkv_probe_field "$patch_dir" after)
hpkv_build_versions "$root" "$patch_dir" || fail "building v1/v2 failed"
"$mkpatch" "$work/v1/hpkv" "$work/v2/hpkv" -o "$work/fix.hpk" || fail "mkpatch exited $?"
exe=$work/v1/hpkv
export HOTPATCH_RUNDIR=$work/run
mkdir -p "$HOTPATCH_RUNDIR"
sockdir=$HOTPATCH_RUNDIR/hotpatch-$(id -u)

HOTPATCH_TEST_APPLY_DELAY_MS=600 LD_PRELOAD=$runtime "$exe" --port 0 --workers 3 --threads 2 \
	>"$work/port" 2>"$work/engine.log" &
engine_pid=$!

workers() { ps -o pid= --ppid "$engine_pid" | tr -d ' ' | sort -n; }
# wait_workers: until the parent has 3 workers, every one listening
wait_workers() {
	local _ p n
	for _ in $(seq 250); do
		n=0
		for p in $(workers); do [[ -S $sockdir/$p.sock ]] && n=$((n + 1)); done
		((n == 3)) && [[ -S $sockdir/$engine_pid.sock ]] && return 0
		sleep 0.02
	done
	fail "the parent and 3 workers did not listen: $(workers | tr '\n' ' ')"
}
for _ in $(seq 250); do
	port=$(sed -n 's/^port \([0-9]*\)$/\1/p' "$work/port")
	[[ -n $port ]] && break
	kill -0 "$engine_pid" 2>/dev/null || break
	sleep 0.02
done
[[ -n $port ]] || fail "hpkv did not report its port: $(cat "$work/engine.log")"
wait_workers

# expect_everywhere WANT WHEN: VERSION and STATS on fresh connections
# until every worker has answered (at most 400); each must say WANT.
probes=0
expect_everywhere() {
	local want=$1 when=$2 got pid _ w missing
	declare -A seen=()
	for _ in $(seq 400); do
		got=$("$hpload" --port "$port" --send VERSION --send STATS) || fail "$when: no reply"
		probes=$((probes + 1))
		pid=$(sed -n 's/^STATS .* pid=\([0-9]*\)$/\1/p' <<<"$got")
		[[ $(head -n 1 <<<"$got") == "$want" ]] ||
			fail "$when: worker $pid answered '$(head -n 1 <<<"$got")', expected '$want'"
		seen[$pid]=1
		missing=0
		for w in $(workers); do [[ -n ${seen[$w]:-} ]] || missing=1; done
		((missing == 0)) && { echo "$when: '$want' from workers ${!seen[*]}"; return 0; }
	done
	fail "$when: 400 connections did not reach every worker (seen ${!seen[*]}, workers $(workers | tr '\n' ' '))"
}
# nothing_listed: no process of the engine lists a patch
nothing_listed() {
	"$cli" list --exe "$exe" >"$work/list.out" || fail "list --exe: $(cat "$work/list.out")"
	[[ $(grep -c '^== process' "$work/list.out") == 4 && $(grep -c 'no patches applied' "$work/list.out") == 4 ]] ||
		fail "$1: a process lists a patch: $(cat "$work/list.out")"
}

# ---- under load: apply, the fix from every worker, revert
expect_everywhere "$old_reply" "before"
rm -f "$work/stop-load"
(
	rounds=0 requests=0
	while ((rounds < 60)) && [[ ! -e $work/stop-load ]]; do
		out=$("$hpload" --port "$port" --connections 4 --seconds 1) || { echo "$out"; exit 1; }
		requests=$((requests + $(sed -n 's/^hpload: .*, \([0-9]*\) requests,.*/\1/p' <<<"$out")))
		rounds=$((rounds + 1))
	done
	echo "load: $rounds rounds, $requests requests, 0 errors, 0 mismatches"
) >"$work/load.txt" 2>&1 &
load_pid=$!
"$cli" apply --exe "$exe" "$work/fix.hpk" >"$work/apply.out" || fail "apply --exe failed"
cat "$work/apply.out"
[[ $(grep -c ': applied patch' "$work/apply.out") == 4 ]] || fail "not 4 processes patched"
expect_everywhere "$new_reply" "after apply --exe"
"$cli" revert --exe "$exe" | tail -n 1
expect_everywhere "$old_reply" "after revert --exe"
touch "$work/stop-load"
wait "$load_pid" || { cat "$work/load.txt"; fail "the load client saw errors"; }
load_pid=
cat "$work/load.txt"

# ---- a worker forked after the apply runs the fix
"$cli" apply --exe "$exe" "$work/fix.hpk" >/dev/null || fail "second apply --exe failed"
victim=$(workers | tail -n 1)
kill -9 "$victim"
wait_workers
heir=$(workers | tail -n 1)
[[ $heir != "$victim" ]] || fail "the killed worker was not replaced"
"$cli" --json list "$heir" | grep -q '"id":' || fail "worker $heir forked after the apply has no patch"
expect_everywhere "$new_reply" "with worker $heir forked after the apply"
out=$("$cli" revert --exe "$exe")
grep -q "^$heir: reverted patch" <<<"$out" || fail "revert --exe did not reach $heir: $out"
expect_everywhere "$old_reply" "after the revert"
nothing_listed "after the revert"

# ---- a worker killed while every process holds its apply: rolled back
"$cli" apply --exe "$exe" "$work/fix.hpk" >"$work/kill.out" 2>"$work/kill.err" &
apply_pid=$!
for _ in $(seq 500); do
	grep -q '^verified in 4 processes' "$work/kill.out" && break
	kill -0 "$apply_pid" 2>/dev/null || break
	sleep 0.01
done
grep -q '^verified in 4 processes' "$work/kill.out" || fail "the group apply did not verify: $(cat "$work/kill.err")"
victim=$(workers | sed -n 1p)
kill -9 "$victim"
rc=0
wait "$apply_pid" || rc=$?
cat "$work/kill.out" "$work/kill.err"
((rc == 1)) || fail "the group apply exited $rc with a worker killed in it"
[[ $(wc -l <"$work/kill.err") == 1 ]] || fail "not one line of error"
grep -q "^hotpatch: process $victim exited during the group apply: the group is rolled back (3 processes reverted)$" \
	"$work/kill.err" || fail "the error does not say the group was rolled back"
[[ $(grep -c 'reverted again' "$work/kill.out") == 3 ]] || fail "not 3 processes reverted again"
wait_workers
nothing_listed "after the roll-back"
expect_everywhere "$old_reply" "after the roll-back"

# ---- one request at a time: the parent is patched first, then a worker
# is killed; the parent forks its replacement with the patch, and the
# roll-back reverts it there too
"$cli" --parallel 1 apply --exe "$exe" "$work/fix.hpk" >"$work/kill.out" 2>"$work/kill.err" &
apply_pid=$!
for _ in $(seq 1000); do
	"$cli" --json list "$engine_pid" 2>/dev/null | grep -q '"id":' && break
	kill -0 "$apply_pid" 2>/dev/null || break
	sleep 0.01
done
"$cli" --json list "$engine_pid" | grep -q '"id":' || fail "the parent was not patched first: $(cat "$work/kill.err")"
victim=$(workers | tail -n 1)
kill -9 "$victim"
rc=0
wait "$apply_pid" || rc=$?
cat "$work/kill.out" "$work/kill.err"
((rc == 1)) || fail "the one-at-a-time group apply exited $rc with a worker killed in it"
[[ $(wc -l <"$work/kill.err") == 1 ]] || fail "not one line of error"
grep -q "^hotpatch: process $victim exited during the group apply: the group is rolled back" "$work/kill.err" ||
	fail "the error does not say the group was rolled back"
grep -q "reverted again (the group apply failed; inherited from $engine_pid)" "$work/kill.out" ||
	fail "the worker forked with the patch was not reverted"
wait_workers
nothing_listed "after the second roll-back"
expect_everywhere "$old_reply" "after the second roll-back"

echo "$probes probe connections"
hpkv_stop || fail "engine did not shut down cleanly"
grep -q '^hpkv: stopped: 3 workers, 3 restarted$' "$work/engine.log" || fail "no parent summary: $(cat "$work/engine.log")"
echo PASS
