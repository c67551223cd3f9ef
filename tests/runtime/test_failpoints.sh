#!/usr/bin/env bash
# Every failpoint the runtime lists, made to fail once: the operation
# fails with one line naming it, and the process is exactly as it was —
# the bytes of every patched function and its padding (read from
# /proc/PID/mem), the patch list, and the results the engine computes.
# Apply failpoints are run on a first apply and on an apply stacked on an
# applied patch; revert failpoints on reverting the stacked one.
set -euo pipefail
work=$1
source "$(dirname "$0")/lib.sh"
begin_work

build_fix_a
build_patch patch_b.c b.so
"$HP_MKPKG" target b.so b.hpk --name patch-b --func compute --proxy __hp_proxy.factor=factor
st=$work/state
start_target target "$st"
expect_state "$st" "3 2"

# code: the padding and first 24 bytes of compute() and helper() as the
# process has them now.
code() {
	python3 - "$pid" "$work/target" compute helper <<'EOF'
import subprocess, sys
pid, exe, names = sys.argv[1], sys.argv[2], sys.argv[3:]
base = None
for line in open(f'/proc/{pid}/maps'):
    f = line.split()
    if len(f) >= 6 and f[5] == exe and int(f[2], 16) == 0:
        base = int(f[0].split('-')[0], 16)
        break
syms = {}
for line in subprocess.run(['nm', exe], capture_output=True, text=True).stdout.splitlines():
    f = line.split()
    if len(f) == 3:
        syms[f[2]] = int(f[0], 16)
with open(f'/proc/{pid}/mem', 'rb') as mem:
    for n in names:
        mem.seek(base + syms[n] - 8)
        print(n, mem.read(32).hex())
EOF
}
# registry: the list and the runtime's counts of sites and trampolines
registry() {
	"$H" list "$pid" | cut -f1,2,5-
	"$H" --json status "$pid" | python3 -c 'import json, sys
s = json.load(sys.stdin)
print(s["functions_patched"], s["sites"], s["trampolines"])'
}
pristine=$(code)
mapfile -t points < <("$H" failpoints "$pid")
((${#points[@]} >= 10)) || fail "hotpatch failpoints listed ${#points[@]}: ${points[*]}"
note "failpoints: ${points[*]}"

# each OP PKG/PATCH STATE: every failpoint of OP, then the process must
# still show STATE, the same code and the same list. A failpoint this
# path does not reach (a new site, when stacking) lets the operation
# succeed and says so; that apply is reverted again. Every failpoint must
# be reached somewhere in the test ($reached).
declare -A reached=()
each() {
	local op=$1 arg=$2 want=$3 before list name out rc
	before=$(code)
	list=$(registry)
	for line in "${points[@]}"; do
		[[ $line == "$op "* ]] || continue
		name=${line#"$op "}
		rc=0
		if [[ $op == apply ]]; then
			out=$("$H" apply --failpoint "$name" "$pid" "$arg" 2>&1) || rc=$?
		else
			out=$("$H" revert --failpoint "$name" "$pid" $arg 2>&1) || rc=$?
		fi
		if ((rc == 0)); then
			[[ $out == *"warning: failpoint $name was not reached"* ]] ||
				fail "$name: succeeded: $out"
			[[ $op == apply ]] || fail "$name: a revert went through: $out"
			"$H" revert "$pid" >/dev/null || fail "$name: reverting the unreached apply"
		else
			[[ $(wc -l <<<"$out") == 1 && $out == "hotpatch: failpoint $name: "* ]] ||
				fail "$name: exit $rc, said: $out"
			note "$name: $out"
			reached[$name]=1
		fi
		alive "$pid"
		[[ $(code) == "$before" ]] || fail "$name: the code changed: $(code) vs $before"
		[[ $(registry) == "$list" ]] || fail "$name: the registry changed: $(registry) vs $list"
		expect_state "$st" "$want"
	done
}

each apply a.hpk "3 2"
# The second hit of a step that runs per function: one function planned,
# the next fails; the first must be unplanned.
expect_fail "second make-writable" "^hotpatch: failpoint apply.make-writable: " \
	"$H" apply --failpoint apply.make-writable:2 "$pid" a.hpk
[[ $("$H" list "$pid") == *"no patches applied"* ]] || fail "a patch is listed"
"$H" apply "$pid" a.hpk >/dev/null || fail "apply a after the failpoints"
expect_state "$st" "1003 6"
each apply b.hpk "1003 6"
"$H" apply "$pid" b.hpk >/dev/null || fail "apply b after the failpoints"
expect_state "$st" "2003 6"
each revert patch-b "2003 6"

# A failpoint the operation does not reach: it does its work and says so.
"$H" revert "$pid" patch-b >/dev/null
"$H" apply --failpoint apply.new-site "$pid" b.hpk >reached.out 2>&1 ||
	fail "apply with an unreached failpoint failed: $(cat reached.out)"
grep -qx "warning: failpoint apply.new-site was not reached" reached.out ||
	fail "no 'not reached' warning: $(cat reached.out)"
expect_fail "unknown failpoint" "no failpoint 'apply.nothing'" \
	"$H" revert --failpoint apply.nothing "$pid"
"$H" revert "$pid" >/dev/null && "$H" revert "$pid" >/dev/null || fail "final reverts"
expect_state "$st" "3 2"
[[ $(code) == "$pristine" ]] || fail "after the reverts: $(code) vs $pristine"
# A rehearsal's cycles leave the paddings jumping until each slice ends;
# after it every byte is as built again.
"$H" rehearse --cpu 100 "$pid" a.hpk 500 >/dev/null || fail "rehearse"
[[ $(code) == "$pristine" ]] || fail "after a rehearsal: $(code) vs $pristine"
expect_state "$st" "3 2"
for line in "${points[@]}"; do
	[[ -n ${reached[${line#* }]:-} ]] || fail "failpoint ${line#* } was never reached"
done
echo "PASS: failpoints"
