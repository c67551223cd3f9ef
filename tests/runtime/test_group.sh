#!/usr/bin/env bash
# Several processes as one target: apply to a list of PIDs and to every
# process of an executable (--exe), all or nothing; a process without the
# runtime is skipped; revert, list and status --exe reach every process,
# children forked after the apply included.
set -euo pipefail
work=$1
source "$(dirname "$0")/lib.sh"
rm -rf "$work" && mkdir -p "$work/run" && cd "$work"
export HOTPATCH_RUNDIR=$work/run
H=$HP_CLI

build_target target
build_target other -DOTHER_BUILD # another program: another build-id
build_patch patch_a.c a.so
"$HP_MKPKG" target a.so a.hpk --name fix-a --func compute --func helper \
	--proxy __hp_proxy.factor=factor

declare -a group=()
for i in 1 2 3; do
	start_target target "$work/state$i"
	group+=("$pid")
done
# the same executable without the runtime's listener: skipped, not an error
HOTPATCH_NO_LISTEN=1 ./target "$work/state-quiet" 1 &
quiet=$!
pids+=("$quiet")
for i in 1 2 3; do expect_state "$work/state$i" "3 2"; done

# all or nothing over a list: the other program cannot take the package,
# so no process is patched
start_target other "$work/state-other"
other_pid=$pid
expect_fail "a group with a process of another program" "process $other_pid: .*not loaded" \
	"$H" apply "${group[0]}" "${group[1]}" "$other_pid" a.hpk
for i in 1 2 3; do expect_state "$work/state$i" "3 2"; done
"$H" list "${group[0]}" | grep -q "no patches applied" || fail "a patch stayed after a refused group apply"
kill "$other_pid"

# a list of PIDs
out=$("$H" apply "${group[0]}" "${group[1]}" a.hpk)
[[ $(grep -c ': applied patch' <<<"$out") == 2 ]] || fail "apply to 2 PIDs said: $out"
expect_state "$work/state1" "1003 6"
expect_state "$work/state2" "1003 6"
expect_state "$work/state3" "3 2"
"$H" revert "${group[0]}" >/dev/null
"$H" revert "${group[1]}" >/dev/null

# every process of the executable
out=$("$H" apply --exe "$work/target" a.hpk)
echo "$out"
[[ $(grep -c ': applied patch' <<<"$out") == 3 ]] || fail "apply --exe did not patch 3 processes: $out"
grep -q "^$quiet: skipped (no hotpatch runtime)" <<<"$out" || fail "the process without the runtime was not listed as skipped"
for i in 1 2 3; do expect_state "$work/state$i" "1003 6"; done
[[ $(cut -d' ' -f1,2 "$work/state-quiet") == "3 2" ]] || fail "the process without the runtime changed"
"$H" list --exe "$work/target" >list.out
[[ $(grep -c '^== process' list.out) == 3 && $(grep -c 'fix-a' list.out) == 3 ]] ||
	fail "list --exe: $(cat list.out)"
"$H" status --exe "$work/target" | grep -q '^== process' || fail "status --exe"
out=$("$H" revert --exe "$work/target")
[[ $(grep -c ': reverted patch' <<<"$out") == 3 ]] || fail "revert --exe: $out"
for i in 1 2 3; do expect_state "$work/state$i" "3 2"; done

# A process that dies in the middle of a group apply (after it verified,
# before its apply answered): the rule is all or nothing, so the processes
# already patched are reverted again and the command fails. (The survivors
# keep serving; a patch on only part of a group is the state a pre-forking
# server must never be left in.)
# Each request to the slow one takes 3 s (its verify, then its apply): the
# first process is patched during the slow one's apply, which is when it
# dies.
start_target target "$work/state-slow" HOTPATCH_TEST_APPLY_DELAY_MS=3000
slow=$pid
"$H" apply "${group[0]}" "$slow" a.hpk >group.out 2>group.err &
cli=$!
for _ in $(seq 1500); do # the first one is patched ...
	[[ $(cut -d' ' -f1,2 "$work/state1" 2>/dev/null) == "1003 6" ]] && break
	kill -0 "$cli" 2>/dev/null || break
	sleep 0.02
done
[[ $(cut -d' ' -f1,2 "$work/state1") == "1003 6" ]] || fail "the first process was not patched: $(cat group.err)"
kill -9 "$slow" # ... and the second dies meanwhile
rc=0; wait "$cli" || rc=$?
((rc != 0)) || fail "the group apply succeeded although a process died"
grep -q "^${group[0]}: patch [0-9]* reverted again" group.out || fail "no roll-back reported: $(cat group.out group.err)"
[[ $(wc -l <group.err) == 1 ]] || fail "not one line of error: $(cat group.err)"
expect_state "$work/state1" "3 2"
"$H" list "${group[0]}" | grep -q "no patches applied" || fail "a patch stayed after the roll-back"

# --exe with no running process
expect_fail "--exe of a program not running" "no running process of" \
	"$H" apply --exe "$work/other" a.hpk
for p in "${group[@]}"; do alive "$p"; done
echo PASS
