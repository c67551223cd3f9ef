#!/usr/bin/env bash
# hpkv --workers 3: the load client sees no error across the workers,
# connections reach more than one worker (STATS names its pid), a worker
# that is killed is forked again and serves, and SIGTERM stops them all
# (exit 0, one summary per worker and the parent's).
# Usage: prefork.sh HPKV HPLOAD
set -euo pipefail
HPKV=$1 HPLOAD=$2
source "$(dirname "$0")/lib.sh"

workers() { ps -o pid= --ppid "$server_pid" | tr -d ' ' | sort -n; }
# stats_pid: the pid in STATS of a fresh connection
stats_pid() { send --send STATS | sed -n 's/.* pid=\([0-9]*\)$/\1/p'; }

start_server --workers 3 --threads 2
for _ in $(seq 100); do
	[[ $(workers | wc -l) == 3 ]] && break
	sleep 0.05
done
[[ $(workers | wc -l) == 3 ]] || fail "not 3 workers: $(workers | tr '\n' ' ')"
send --connections 4 --seconds 2 >"$work/load.out" || { cat "$work/load.out" >&2; fail "load across the workers"; }
grep -q '^mismatches: 0' "$work/load.out" || fail "mismatches: $(cat "$work/load.out")"

declare -A seen=()
for _ in $(seq 200); do
	p=$(stats_pid)
	[[ -n $p ]] || fail "STATS without a pid"
	seen[$p]=1
	((${#seen[@]} >= 2)) && break
done
((${#seen[@]} >= 2)) || fail "200 connections all reached one worker"
for p in "${!seen[@]}"; do
	workers | grep -qx "$p" || fail "STATS named $p, not a worker"
done

victim=$(workers | head -n 1)
kill -9 "$victim"
for _ in $(seq 100); do
	[[ $(workers | wc -l) == 3 ]] && ! workers | grep -qx "$victim" && break
	sleep 0.05
done
workers | grep -qx "$victim" && fail "the killed worker $victim is still listed"
[[ $(workers | wc -l) == 3 ]] || fail "the killed worker was not forked again: $(workers | tr '\n' ' ')"
[[ $(send --send "SET k v" --send "GET k") == $'OK\nVALUE v' ]] || fail "no answer after a worker was replaced"

stop_server TERM
grep -q '^hpkv: stopped: 3 workers, 1 restarted$' "$work/server.err" || fail "no parent summary: $(cat "$work/server.err")"
[[ $(grep -c '^hpkv: stopped: [0-9]* requests' "$work/server.err") == 3 ]] || fail "not 3 worker summaries: $(cat "$work/server.err")"
echo PASS
