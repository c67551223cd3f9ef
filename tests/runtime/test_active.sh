#!/usr/bin/env bash
# Functions still running their old code after an apply: apply and status
# name them with the threads inside them, for a thread busy in user code
# (sampled by a signal), one blocked in the kernel (read from /proc), and
# say which threads could not be checked; a thread that returns drops out;
# a thread inside more of them than one look lists is said to be so.
set -euo pipefail
work=$1
source "$(dirname "$0")/lib.sh"
begin_work

"$HP_CLANG" "${HP_CFLAGS[@]}" -pthread "$HP_DATA/active_target.c" -o active \
	-Wl,--no-as-needed -L"$(dirname "$HP_RUNTIME_LIB")" -lhotpatch \
	-Wl,-rpath,"$(dirname "$HP_RUNTIME_LIB")"
build_patch patch_active.c active.so
"$HP_MKPKG" active active.so active.hpk --func version --func spin --func wait_in --func idle

# start_active STATE FIFO [env...]: sets $pid once the listener is up.
start_active() {
	local state=$1 fifo=$2; shift 2
	rm -f "$state" "$fifo"
	env "$@" ./active "$state" "$fifo" &
	pid=$!
	pids+=("$pid")
	disown "$pid"
	for _ in $(seq 250); do
		[[ -S "$HOTPATCH_RUNDIR/hotpatch-$(id -u)/$pid.sock" && -f "$state" && -p "$fifo" ]] &&
			return 0
		sleep 0.02
	done
	fail "active target did not start"
}
tid_of() { # NAME: the thread of $pid called NAME
	local t
	for t in /proc/"$pid"/task/*; do
		[[ $(cat "$t/comm") == "$1" ]] && { basename "$t"; return 0; }
	done
	fail "no thread '$1' in $pid"
}

st=$work/state
start_active "$st" fifo
expect_state "$st" "1 0"
spinner=$(tid_of spinner) waiter=$(tid_of waiter) masked=$(tid_of masked)
# The waiter must be blocked in its read before the apply looks at it.
for _ in $(seq 250); do
	[[ $(awk '{ print $1 }' "/proc/$pid/task/$waiter/syscall") == 0 ]] && break
	sleep 0.02
done

"$H" apply "$pid" active.hpk >apply.out || fail "apply failed"
cat apply.out
expect_state "$st" "2 0" # the patch took effect where it could
grep -qx "applied patch 1" apply.out || fail "no 'applied patch 1'"
grep -qx "spin() is running on threads \(.*, \)\?$spinner (spinner)\(, .*\)\?: they keep its old code until it returns" apply.out ||
	grep -qx "spin() is running on thread $spinner (spinner): it keeps its old code until it returns" apply.out ||
	fail "apply does not say the spinner runs spin()"
grep -qx "wait_in() is running on thread $waiter (waiter): it keeps its old code until it returns" apply.out ||
	fail "apply does not say the waiter is inside wait_in()"
grep -qx "thread $masked not checked for old code: running with signals blocked" apply.out ||
	fail "apply does not say the masked thread was not checked"
! grep -q "idle()\|version()" apply.out || fail "a function no thread is inside was reported"

"$H" status "$pid" >status.out
cat status.out
grep -q "^patch 1: wait_in() is running on thread $waiter (waiter)" status.out ||
	fail "status does not list wait_in()"
grep -q "^patch 1: spin() is running on thread.* $spinner (spinner)\|^patch 1: spin() is running on thread $spinner (spinner)" status.out ||
	fail "status does not list spin()"
grep -q "^old code: [0-9]* of [0-9]* threads checked ([1-9][0-9]* by signal, longest pause [0-9.]* us)$" status.out ||
	fail "status has no scan summary"
"$H" --json status "$pid" >status.json
python3 - "$spinner" "$waiter" <<'EOF' || fail "status --json: $(cat status.json)"
import json, sys
s = json.load(open('status.json'))
spinner, waiter = int(sys.argv[1]), int(sys.argv[2])
act = {a['function']: {t['tid']: t['executing'] for t in a['threads']} for a in s['active']}
assert act['spin'][spinner] is True, act        # its pc is in spin()
assert act['wait_in'][waiter] is False, act     # a frame: it called read()
assert 'idle' not in act and 'version' not in act, act
assert s['scan']['signalled'] >= 1 and s['scan']['pause_ns_max'] > 0, s['scan']
assert any(u['why'] == 'running with signals blocked' for u in s['scan']['unchecked']), s['scan']
EOF

# The waiter returns from wait_in(): status stops listing it.
echo x >fifo
expect_state "$st" "2 1"
"$H" status "$pid" >status2.out
! grep -q "wait_in()" status2.out || fail "wait_in() still listed after it returned: $(cat status2.out)"
grep -q "spin() is running" status2.out || fail "spin() no longer listed"
"$H" revert "$pid" >/dev/null
expect_state "$st" "1 1"
alive "$pid"
kill "$pid"

# Without a sampling signal, a running thread is reported as not checked.
start_active "$st" fifo2 HOTPATCH_ACTIVE_SIGNAL=0
expect_state "$st" "1 0"
spinner=$(tid_of spinner)
"$H" apply "$pid" active.hpk >apply2.out || fail "apply failed"
grep -qx "thread $spinner not checked for old code: running, and no signal to sample it" apply2.out ||
	fail "HOTPATCH_ACTIVE_SIGNAL=0: $(cat apply2.out)"
kill "$pid"

# A thread sampled by signal inside more replaced functions than one look
# lists (32): those it lists are named, and the thread is said not to be
# fully checked rather than passed as checked.
deep_funcs=()
for i in $(seq 0 40); do deep_funcs+=(--func "deep_$i"); done
"$HP_MKPKG" active active.so deep.hpk --name deep "${deep_funcs[@]}"
start_active "$st" fifo3 ACTIVE_DEEP=1
expect_state "$st" "1 0"
deep=$(tid_of deep)
for _ in $(seq 250); do # until the thread has reached the bottom of the chain
	[[ $(cut -d' ' -f4 "$st") == 1 ]] && break
	sleep 0.02
done
[[ $(cut -d' ' -f4 "$st") == 1 ]] || fail "the deep thread did not reach deep_40()"
"$H" apply "$pid" deep.hpk >apply3.out || fail "apply of the deep chain failed"
named=$(grep -c "^deep_[0-9]*() is running on thread $deep (deep): it keeps its old code until it returns$" apply3.out || true)
((named == 32)) || fail "the deep thread is named in $named functions, expected 32: $(cat apply3.out)"
grep -qx "thread $deep not checked for old code: more old-code frames than one look lists" apply3.out ||
	fail "apply does not say the deep thread was not fully checked: $(cat apply3.out)"
"$H" revert "$pid" >/dev/null
alive "$pid"
kill "$pid"
echo "PASS: active"
