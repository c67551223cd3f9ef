#!/usr/bin/env bash
# Faults around an apply: the target stopped (SIGSTOP) while the CLI waits
# for its answer, and the CLI killed (-9) while the target applies. The
# operation is not lost with its answer: the CLI says so in one line, and
# afterwards `list` is the truth and the engine computes what it says.
set -euo pipefail
work=$1
source "$(dirname "$0")/lib.sh"
begin_work

build_fix_a
st=$work/state

# wait_listed N: until list shows N patches (at most 10 s).
wait_listed() {
	local n
	for _ in $(seq 500); do
		n=$("$H" list "$pid" | grep -c '^[0-9]' || true)
		[[ $n == "$1" ]] && return 0
		sleep 0.02
	done
	fail "list shows $n patches, expected $1"
}

# ---- the target stopped: the CLI gives up, the apply happens later ----
start_target target "$st"
expect_state "$st" "3 2"
kill -STOP "$pid"
expect_fail "stopped target" \
	"no answer from process $pid within 1 s \(stopped or stuck\?\): the operation may still complete; 'hotpatch list $pid' shows whether it did" \
	"$H" --timeout 1 apply "$pid" a.hpk
kill -CONT "$pid"
wait_listed 1
expect_state "$st" "1003 6"
expect_fail "list of a stopped target" "no answer from process $pid within 1 s \(stopped or stuck\?\)$" \
	bash -c "kill -STOP $pid; trap 'kill -CONT $pid' EXIT; '$H' --timeout 1 list $pid"
"$H" revert "$pid" >/dev/null || fail "revert after SIGCONT"
expect_state "$st" "3 2"
kill "$pid"

# ---- the CLI killed while the target applies ----
start_target target "$st" HOTPATCH_TEST_APPLY_DELAY_MS=800
expect_state "$st" "3 2"
"$H" apply "$pid" a.hpk >cli.out 2>&1 &
cli=$!
# The target holds the package (the descriptor the CLI sent) once it has
# received the request; the apply then waits HOTPATCH_TEST_APPLY_DELAY_MS.
for _ in $(seq 500); do
	grep -q "$work/a.hpk" <<<"$(ls -l "/proc/$pid/fd" 2>/dev/null)" && break
	sleep 0.01
done
grep -q "$work/a.hpk" <<<"$(ls -l "/proc/$pid/fd")" || fail "the target never received the package"
kill -9 "$cli"
wait "$cli" 2>/dev/null || true
wait_listed 1 # the apply went on without anyone to tell
expect_state "$st" "1003 6"
alive "$pid"
"$H" revert "$pid" >/dev/null || fail "revert"
expect_state "$st" "3 2"
"$H" list "$pid" | grep -q "no patches applied" || fail "a patch is still listed"

# bad --timeout
rc=0; "$H" --timeout -3 list "$pid" 2>usage.err || rc=$?
((rc == 2)) && grep -q "invalid --timeout" usage.err || fail "--timeout -3: exit $rc"
echo "PASS: faults"
