#!/usr/bin/env bash
# Applies, stacks and reverts patches through the hotpatch CLI in engines
# compiled at test time (plain, -fcf-protection, LD_PRELOAD, and with
# HOTPATCH_NEAR=0 the package far away behind trampolines), while three
# threads call the patched functions in a tight loop; in the plain engine
# also through hotpatch batch.
set -euo pipefail
work=$1
source "$(dirname "$0")/lib.sh"
rm -rf "$work" && mkdir -p "$work/run" && cd "$work"
export HOTPATCH_RUNDIR=$work/run

run_variant() {
	local v=$1; shift
	local st=$work/state-$v
	note "variant $v"
	if [[ $v == preload ]]; then
		"$HP_CLANG" "${HP_CFLAGS[@]}" "$@" -pthread "$HP_DATA/target.c" -o target-$v
	else
		build_target target-$v "$@"
	fi
	build_patch patch_a.c a-$v.so "$@"
	build_patch patch_b.c b-$v.so "$@"
	"$HP_MKPKG" target-$v a-$v.so a-$v.hpk --name fix-a --func compute --func helper \
		--proxy __hp_proxy.factor=factor
	"$HP_MKPKG" target-$v b-$v.so b-$v.hpk --name fix-b --func compute \
		--proxy __hp_proxy.factor=factor
	if [[ $v == preload ]]; then
		start_target target-$v "$st" LD_PRELOAD="$HP_RUNTIME_LIB"
	elif [[ $v == far ]]; then
		start_target target-$v "$st" HOTPATCH_NEAR=0 HOTPATCH_CONTROL_NICE=0 \
			HOTPATCH_TEST_OLD_CONTROL=1
	else
		start_target target-$v "$st"
	fi
	expect_state "$st" "3 2"
	check_control_nice "$v"
	"$HP_CLI" apply "$pid" a-$v.hpk
	expect_state "$st" "1003 6"
	check_placement "$v"
	"$HP_CLI" list "$pid" | grep -q fix-a || fail "list does not show fix-a"
	"$HP_CLI" apply "$pid" b-$v.hpk           # stacks on compute
	expect_state "$st" "2003 6"
	"$HP_CLI" revert "$pid" fix-b             # the older layer again
	expect_state "$st" "1003 6"
	"$HP_CLI" apply "$pid" b-$v.hpk
	expect_state "$st" "2003 6"
	"$HP_CLI" revert "$pid" fix-a             # not the newest: only helper reverts
	expect_state "$st" "2003 2"
	"$HP_CLI" --json status "$pid" | grep -q '"name":"fix-b"' || fail "status --json"
	"$HP_CLI" revert "$pid"                   # most recent = fix-b
	expect_state "$st" "3 2"
	"$HP_CLI" list "$pid" | grep -q "no patches applied" || fail "list after revert"
	[[ $v == plain ]] && check_batch "$v" "$st"
	# rehearse says what it leaves: nothing, or the patches from before
	"$HP_CLI" rehearse "$pid" a-$v.hpk 3 | grep -q "process $pid is unpatched" ||
		fail "rehearse on an unpatched process"
	"$HP_CLI" apply "$pid" b-$v.hpk >/dev/null
	out=$("$HP_CLI" rehearse "$pid" a-$v.hpk 3)
	[[ $out == *"still has 1 patch applied from before"* ]] ||
		fail "rehearse on top of a patch said: $out"
	expect_state "$st" "2003 2"
	"$HP_CLI" revert "$pid" >/dev/null
	expect_state "$st" "3 2"
	# rehearse keeps one connection for all its cycles (HP_WIRE_SESSION),
	# plus the list that says what the process still carries (and, with an
	# engine from before HP_OP_REHEARSE, the one that engine closed)
	strace -f -e trace=connect -o connects.txt "$HP_CLI" rehearse "$pid" a-$v.hpk 20 >/dev/null
	n=$(grep -c 'connect(.*sun_path=' connects.txt || true)
	local want=2
	[[ $v == far ]] && want=3
	((n == want)) || fail "variant $v: rehearse of 20 cycles made $n connections, expected $want"
	check_rehearse_requests "$v"
	if [[ $v == plain ]]; then
		check_rehearse_priority "$st"
		check_rehearse_budget
	fi
	for i in 1 2 3 4 5; do                    # flip repeatedly under load
		"$HP_CLI" apply "$pid" a-$v.hpk >/dev/null
		expect_state "$st" "1003 6"
		"$HP_CLI" revert "$pid" >/dev/null
		expect_state "$st" "3 2"
	done
	alive "$pid"
	kill -9 "$pid"
}

# check_rehearse_requests VARIANT: the engine runs a rehearsal's cycles
# itself, a slice per request (the CLI sends a handful of requests for 2000
# cycles); variant far runs an engine that answers like a runtime from
# before that (HOTPATCH_TEST_OLD_CONTROL), and the CLI falls back to an
# apply and a revert request per cycle.
check_rehearse_requests() {
	local v=$1 n want
	strace -e trace=sendmsg -o sends.txt "$HP_CLI" rehearse --cpu 100 "$pid" \
		a-$v.hpk 2000 >rehearse.out ||
		fail "variant $v: rehearse of 2000 cycles failed"
	grep -q "rehearsed 2000 apply+revert cycles" rehearse.out || fail "variant $v: $(cat rehearse.out)"
	n=$(grep -c '^sendmsg' sends.txt || true)
	if [[ $v == far ]]; then
		((n >= 4000)) || fail "variant $v: the fallback sent $n requests for 2000 cycles"
	else
		((n <= 200)) || fail "variant $v: rehearse sent $n requests for 2000 cycles"
	fi
	expect_state "$st" "3 2"
}

# at_idle: whether a thread of $pid runs at the lowest priority: SCHED_IDLE
# (ps: IDL), or nice 19 on a kernel without it.
at_idle() {
	local threads
	threads=$(ps -L -o cls=,nice= -p "$pid")
	grep -Eqx ' *(IDL +.*|TS +19)' <<<"$threads"
}

# check_rehearse_priority STATE: with --priority lowest a rehearsal's
# cycles run on a thread at the lowest priority (SCHED_IDLE), by default
# on none; killing the CLI ends them within a slice and leaves the engine
# unpatched.
check_rehearse_priority() {
	local st=$1 main cli_pid seen=0
	main=$(ps -o nice= -p "$pid" | tr -d ' ')
	if ((main == 19)); then
		note "the engine already runs at nice 19: the rehearsal's priority cannot be told apart"
		return
	fi
	at_idle && fail "a thread at the lowest priority before any rehearsal"
	# a default rehearsal: no thread at the lowest priority while it runs
	"$HP_CLI" rehearse "$pid" a-plain.hpk 40 >/dev/null &
	cli_pid=$!
	while kill -0 "$cli_pid" 2>/dev/null; do
		at_idle && fail "a default rehearsal runs at the lowest priority"
		sleep 0.02
	done
	wait "$cli_pid" || fail "a default rehearsal of 40 cycles failed"
	"$HP_CLI" rehearse --priority lowest "$pid" a-plain.hpk 100000000 >/dev/null 2>&1 &
	cli_pid=$!
	for _ in $(seq 500); do
		if at_idle; then
			seen=1
			break
		fi
		sleep 0.02
	done
	kill -TERM "$cli_pid" # (a background job of a script ignores SIGINT)
	wait "$cli_pid" || true
	((seen)) || fail "no thread at the lowest priority during a rehearsal: $(ps -L -o cls=,nice= -p "$pid" | tr -s ' \n' ' ')"
	# (a thread at the lowest priority on a busy machine may wait long for its turn)
	for _ in $(seq 1500); do
		at_idle || break
		sleep 0.02
	done
	! at_idle || fail "the rehearsal went on after its CLI was killed: $(ps -L -o tid,cls,nice,stat,wchan:24 -p "$pid" | tr -s " \n" " ")"
	"$HP_CLI" list "$pid" | grep -q "no patches applied" || fail "a killed rehearsal left a patch"
	expect_state "$st" "3 2"
}

# check_rehearse_budget: the engine's rehearsal thread keeps to its CPU
# budget (it says what it took): 1 % by default, and --cpu 2. Without one
# it takes 35-55 % of a CPU beside the 3 busy workers on a quiet machine
# (less on a loaded one: it waits for its turn), so an ignored budget
# fails these bounds.
check_rehearse_budget() {
	local out pct
	out=$("$HP_CLI" rehearse "$pid" a-plain.hpk 150)
	pct=$(sed -n 's/.*, \([0-9.]*\) % of one CPU.*/\1/p' <<<"$out")
	[[ -n $pct ]] && awk -v p="$pct" 'BEGIN { exit !(p <= 2) }' ||
		fail "a default rehearsal took more than 1 % of a CPU: $out"
	out=$("$HP_CLI" rehearse --priority program --cpu 2 "$pid" a-plain.hpk 300)
	pct=$(sed -n 's/.*, \([0-9.]*\) % of one CPU.*/\1/p' <<<"$out")
	[[ -n $pct ]] && awk -v p="$pct" 'BEGIN { exit !(p <= 4) }' ||
		fail "rehearse --cpu 2 took more: $out"
	expect_state "$st" "3 2"
}

# check_control_nice VARIANT: the runtime's listener runs 10 nice levels
# above the program's main thread (the tests run as root, who may raise a
# priority; ctest itself may run under nice); variant far runs with
# HOTPATCH_CONTROL_NICE=0, every thread at the main thread's.
check_control_nice() {
	local v=$1 main nices want
	main=$(ps -o nice= -p "$pid" | tr -d ' ')
	nices=$(ps -L -o nice= -p "$pid" | tr -s ' \n' ' ')
	want=$((main - 10 < -20 ? -20 : main - 10))
	if [[ $v == far ]]; then
		[[ " $nices " != *" $want "* ]] ||
			fail "variant $v: HOTPATCH_CONTROL_NICE=0, yet priorities '$nices'"
		return
	fi
	if (($(id -u) != 0)); then
		note "not root: the listener may not raise its priority ($nices)"
		return
	fi
	[[ " $nices " == *" $want "* ]] ||
		fail "variant $v: thread priorities '$nices', expected the listener at $want (main $main)"
}

# check_placement VARIANT: the package of $pid lies within 2 GiB of the
# engine's code, reached by direct jumps (no trampoline); with
# HOTPATCH_NEAR=0 it lies where the kernel put it, through trampolines.
check_placement() {
	local v=$1 tramps
	tramps=$("$HP_CLI" --json status "$pid" |
		python3 -c 'import json,sys; print(json.load(sys.stdin)["trampolines"])')
	python3 - "$pid" "$v" <<'PY' || fail "variant $1: package placement"
import sys
pid, v = sys.argv[1], sys.argv[2]
exe = pkg = None
for line in open(f"/proc/{pid}/maps"):
    f = line.split()
    lo, hi = (int(x, 16) for x in f[0].split("-"))
    name = f[5] if len(f) > 5 else ""
    if "x" in f[1] and name.endswith("target-" + v) and exe is None:
        exe = (lo, hi)
    if "hotpatch-package" in name and "x" in f[1]:
        pkg = (lo, hi)
assert exe and pkg, f"no code mapping found: exe {exe} package {pkg}"
far = max(abs(pkg[1] - exe[0]), abs(exe[1] - pkg[0]))
print(f"-- {v}: package code {pkg[0]:#x}, engine code {exe[0]:#x}, {far / 2**20:.0f} MiB apart")
sys.exit(0 if (far < 2**31) == (v != "far") else 1)
PY
	if [[ $v == far ]]; then
		((tramps > 0)) || fail "variant far: no trampoline in use"
	else
		((tramps == 0)) || fail "variant $v: $tramps trampolines in use, expected direct jumps"
	fi
}

# check_batch VARIANT STATE: hotpatch batch answers each line as it comes
# (the engine is patched before stdin ends), goes on after a bad line, and
# exits with the worst status of its commands.
check_batch() {
	local v=$1 st=$2 line out=() rc=0
	coproc BATCH { "$HP_CLI" batch; }
	echo "apply $pid a-$v.hpk" >&"${BATCH[1]}"
	read -r -t 30 line <&"${BATCH[0]}" || fail "variant $v: batch did not answer the apply"
	[[ $line == "applied patch "* ]] || fail "variant $v: batch apply said '$line'"
	read -r -t 30 line <&"${BATCH[0]}"
	[[ $line == ok ]] || fail "variant $v: batch apply ended with '$line'"
	expect_state "$st" "1003 6"
	printf '%s\n' "# a comment" "" "list --exe target-$v" "revert $pid 'fix-a'" \
		"apply $pid \"a-$v.hpk" "revert $pid" >&"${BATCH[1]}"
	printf 'status %s\0 x\nstatus %s\n' "$pid" "$pid" >&"${BATCH[1]}"
	exec {BATCH[1]}>&-
	mapfile -t out <&"${BATCH[0]}"
	wait "$BATCH_PID" || rc=$?
	((rc == 2)) || fail "variant $v: batch exited $rc after a usage error, expected 2"
	[[ ${out[0]} == "error: batch runs commands of one PID, not --exe"* &&
		${out[1]} == "reverted patch "* && ${out[2]} == ok &&
		${out[3]} == "error: unterminated quote"* &&
		${out[4]} == "error: no applied patch"* &&
		${out[5]} == "error: a NUL byte in the line"* &&
		${out[6]} == "pid $pid, "* && ${out[-1]} == ok ]] ||
		fail "variant $v: batch answered: $(printf '%s | ' "${out[@]}")"
	expect_state "$st" "3 2"
}

# What the compiler actually emits at the entry: the runtime accepts both.
"$HP_CLANG" -O2 -fpatchable-function-entry=10,8 -falign-functions=16 -c "$HP_DATA/target.c" -o probe.o
note "entry bytes: $(objdump -d probe.o | grep -A1 '<compute>:' | tail -1 | cut -f2)"

run_variant plain
run_variant cet -fcf-protection=full
run_variant preload
run_variant far
echo PASS
