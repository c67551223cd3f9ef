#!/usr/bin/env bash
# Several processes as one target: apply to a list of PIDs and to every
# process of an executable (--exe), all or nothing; a process without the
# runtime is skipped; revert, list and status --exe reach every process,
# children forked after the apply included. Bad input: EXE not a file, a
# process that exits between the listing and its verify, 200 processes,
# another user's process.
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

# EXE that is not a file
expect_fail "--exe of a directory" "'$work' is not a regular file" "$H" apply --exe "$work" a.hpk
expect_fail "--exe of nothing" "cannot use '$work/missing' as the executable: No such file" \
	"$H" list --exe "$work/missing"
mkfifo exe.fifo
expect_fail "--exe of a fifo" "is not a regular file" "$H" revert --exe exe.fifo
for args in "--parallel 0 list --exe target" "--parallel 257 list --exe target" \
	"--parallel x list --exe target" "apply ${group[0]} ${group[0]} a.hpk"; do
	rc=0; "$H" $args >/dev/null 2>&1 || rc=$?
	[[ $rc -eq 2 ]] || fail "'hotpatch $args' exited $rc, want 2"
done

# A process of EXE that exits between the listing and its verify is not
# part of the group: skipped and said, the others are patched. With one
# request at a time, slow (whose verify takes 2 s) is asked before gone
# (the group goes in PID order); gone is killed while slow verifies,
# which the runtime reports as busy.
start_target target "$work/state-slow2" HOTPATCH_TEST_APPLY_DELAY_MS=2000
slow=$pid
for _ in 1 2 3; do # gone must come after slow (PIDs wrap)
	start_target target "$work/state-gone"
	gone=$pid
	((gone > slow)) && break
	kill -9 "$gone"
done
((gone > slow)) || fail "no PID above $slow for the process that exits"
"$H" --parallel 1 apply --exe "$work/target" a.hpk >gone.out 2>gone.err &
cli=$!
busy=no
for _ in $(seq 500); do
	msg=$("$H" revert "$slow" 99999 2>&1) || true
	if [[ $msg == *busy* ]]; then busy=yes; break; fi
	kill -0 "$cli" 2>/dev/null || break
	sleep 0.02
done
[[ $busy == yes ]] || fail "the slow process never verified: $(cat gone.out gone.err)"
kill -9 "$gone"
rc=0; wait "$cli" || rc=$?
cat gone.out
((rc == 0)) || fail "the group apply failed when a process exited before its verify: $(cat gone.err)"
grep -q "^$gone: skipped (exited before the apply)" gone.out || fail "the process that exited is not said to be skipped"
grep -q "^applied in 4 processes (1 skipped) in [0-9.]* s" gone.out || fail "no summary line with the time"
for i in 1 2 3 -slow2; do expect_state "$work/state$i" "1003 6"; done
out=$("$H" revert --exe "$work/target")
grep -q "^reverted in 4 processes in [0-9.]* s" <<<"$out" || fail "revert --exe: $out"
for i in 1 2 3 -slow2; do expect_state "$work/state$i" "3 2"; done
kill "$slow"

# Many processes: 200 copies of the target (idle, a state file each
# second). The CLI keeps at most 16 requests in flight: with 40
# descriptors it patches all 200, in bounded time, and says how long.
cp target many
mkdir many.d
declare -a many=()
for i in $(seq 200); do
	./many "many.d/state$i" 0 1000 &
	many+=("$!")
	pids+=("$!")
done
for _ in $(seq 1500); do
	n=$(find "$HOTPATCH_RUNDIR/hotpatch-$(id -u)" -name '*.sock' | wc -l)
	((n >= 203)) && break # 200, and the group's three
	sleep 0.02
done
((n >= 203)) || fail "only $n of the 200 processes listen"
t0=$(date +%s.%N)
(ulimit -n 40 && exec "$H" apply --exe "$work/many" a.hpk) >many.out 2>many.err ||
	fail "apply --exe to 200 processes: $(cat many.err)"
t1=$(date +%s.%N)
[[ $(grep -c ': applied patch' many.out) == 200 ]] || fail "not 200 applied: $(tail -n 3 many.out)"
summary=$(grep '^applied in 200 processes in [0-9.]* s$' many.out) || fail "no summary: $(tail -n 1 many.out)"
note "200 processes: $summary ($(grep '^verified' many.out)); the command took $(printf "%.2f" "$(bc <<<"$t1 - $t0")") s"
(($(bc <<<"$t1 - $t0 < 30"))) || fail "applying to 200 processes took over 30 s"
[[ $("$H" list --exe "$work/many" | grep -c 'fix-a') == 200 ]] || fail "list --exe does not show 200 patched"
(ulimit -n 40 && exec "$H" revert --exe "$work/many") >many.out 2>many.err ||
	fail "revert --exe in 200 processes: $(cat many.err)"
note "$(tail -n 1 many.out)"
grep -q "^reverted in 200 processes in" many.out || fail "not 200 reverted: $(tail -n 2 many.out)"
for p in "${many[@]}"; do kill "$p" 2>/dev/null || true; done

# Another user's process. The rule: a member the CLI may not patch fails
# the apply before anything is applied. Named in a list of PIDs, its
# socket refuses user nobody; with --exe, the kernel hides its executable
# from nobody, so a process named like EXE is said and fails the apply;
# root may patch both.
if [[ $(id -u) -eq 0 ]] && command -v setpriv >/dev/null && id nobody >/dev/null 2>&1; then
	other_user_dir
	shared=$other_dir
	install -m 755 target "$shared/target-shared"
	install -m 755 "$H" "$shared/hotpatch"
	install -m 644 a.hpk "$shared/a.hpk"
	mkdir -m 1777 "$shared/run" "$shared/st"
	as_nobody=(setpriv --reuid=nobody --regid="$(id -g nobody)" --clear-groups
		env -C "$shared" HOTPATCH_RUNDIR="$shared/run")
	HOTPATCH_RUNDIR=$shared/run "$shared/target-shared" "$shared/st/root" 1 &
	root_pid=$!
	pids+=("$root_pid")
	"${as_nobody[@]}" ./target-shared st/nobody 1 &
	nobody_pid=$!
	pids+=("$nobody_pid")
	for _ in $(seq 250); do
		[[ -S $shared/run/hotpatch-0/$root_pid.sock && -S $shared/run/hotpatch-$(id -u nobody)/$nobody_pid.sock ]] && break
		sleep 0.02
	done
	expect_state "$shared/st/root" "3 2"
	expect_state "$shared/st/nobody" "3 2"
	expect_fail "a list of PIDs with another user's process" \
		"process $root_pid: permission denied connecting to process $root_pid " \
		"${as_nobody[@]}" ./hotpatch apply "$nobody_pid" "$root_pid" a.hpk
	expect_fail "--exe with another user's process" \
		"process $root_pid \(uid 0\) is named like '\./target-shared' but its executable cannot be checked by uid $(id -u nobody)" \
		"${as_nobody[@]}" ./hotpatch apply --exe ./target-shared a.hpk
	expect_state "$shared/st/nobody" "3 2"
	"${as_nobody[@]}" ./hotpatch list "$nobody_pid" | grep -q "no patches applied" ||
		fail "a patch stayed in nobody's process"
	rc=0
	"${as_nobody[@]}" ./hotpatch list --exe ./target-shared >other.out 2>other.err || rc=$?
	((rc == 1)) && grep -q "^== process $nobody_pid" other.out && grep -q "process $root_pid (uid 0)" other.err ||
		fail "list --exe as nobody: rc $rc, $(cat other.out other.err)"
	HOTPATCH_RUNDIR=$shared/run "$H" apply --exe "$shared/target-shared" a.hpk >/dev/null ||
		fail "root could not patch both users' processes"
	expect_state "$shared/st/root" "1003 6"
	expect_state "$shared/st/nobody" "1003 6"
	HOTPATCH_RUNDIR=$shared/run "$H" revert --exe "$shared/target-shared" >/dev/null
	expect_state "$shared/st/nobody" "3 2"
	kill "$root_pid" "$nobody_pid"
else
	echo "SKIP: another user's process (needs root, setpriv and user nobody)"
fi
for p in "${group[@]}"; do alive "$p"; done
echo PASS
